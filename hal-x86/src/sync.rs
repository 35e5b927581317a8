//! A cell for global state of this single-CPU image. Exclusive use is by construction: one
//! CPU, and the exception handlers only touch state the interrupted code cannot be holding
//! (fault records, read-only tables). The timer interrupt, which can land anywhere
//! interrupts are on, touches no `Global` at all: only atomics and the local APIC.

use core::cell::UnsafeCell;

/// Global mutable state, borrowed through [`Global::with`] for the length of a closure.
pub struct Global<T>(UnsafeCell<T>);

// SAFETY: the image runs on one CPU and never re-enters `with` for the same cell (each
// user keeps its closure free of calls back into its own module's `with`).
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A cell holding `v`.
    pub const fn new(v: T) -> Global<T> {
        Global(UnsafeCell::new(v))
    }

    /// Runs `f` with exclusive access to the value.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: single CPU and no re-entrance (see the Sync impl), so this is the only
        // reference to the value while `f` runs.
        f(unsafe { &mut *self.0.get() })
    }
}
