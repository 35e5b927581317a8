//! [`SpinLock<T>`]: a test-and-test-and-set spin lock that owns its data.
//!
//! Why TTAS: a waiter spins on plain loads, which keep the cache line shared,
//! and retries the read-modify-write only once the lock looks free, so waiters
//! do not bounce the line between CPUs with failed RMWs. Acquire on the
//! winning RMW and Release on unlock are exactly Linux's `spin_lock` /
//! `spin_unlock` semantics (ACQUIRE / RELEASE); nothing stronger is needed.
//!
//! Why a private cell: the data sits in `core::cell::UnsafeCell` normally and
//! in `loom::cell::UnsafeCell` under `cfg(loom)`, behind one interface, so the
//! very same lock code is model-checked. The guard holds loom's tracked
//! pointer for its whole lifetime, so loom panics if two guards ever overlap.

// A lock handing out `&mut T` from `&self` cannot be written without `unsafe`;
// the crate denies it, this module opts in, and each block says why it holds.
#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};

use super::{cpu_relax, AtomicBool, Ordering::{Acquire, Relaxed, Release}};

#[cfg(loom)]
use loom::cell::{MutPtr, UnsafeCell};
#[cfg(not(loom))]
use self::cell::{MutPtr, UnsafeCell};

/// The subset of `loom::cell`'s interface used here, over `core`'s cell and
/// with no tracking.
#[cfg(not(loom))]
mod cell {
    /// `core::cell::UnsafeCell` with loom's `get_mut` interface.
    pub(super) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(super) const fn new(data: T) -> Self {
            Self(core::cell::UnsafeCell::new(data))
        }

        pub(super) fn into_inner(self) -> T {
            self.0.into_inner()
        }

        /// A pointer to the data (loom: also starts a tracked mutable access).
        pub(super) fn get_mut(&self) -> MutPtr<T> {
            MutPtr(self.0.get())
        }
    }

    /// A raw pointer standing in for loom's tracked `MutPtr`.
    pub(super) struct MutPtr<T>(*mut T);

    impl<T> MutPtr<T> {
        pub(super) fn with<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0)
        }
    }
}

/// A spin lock protecting a `T`; [`lock`](Self::lock) returns a guard that
/// dereferences to the data and unlocks when dropped.
pub struct SpinLock<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the lock gives at most one thread at a time access to the `T`, so
// sharing the lock only ever moves the `T`'s use between threads: `T: Send`
// suffices, as for `std::sync::Mutex`. (`Send` for the lock itself is auto.)
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// An unlocked lock holding `data`.
    #[cfg(not(loom))]
    pub const fn new(data: T) -> Self {
        Self { locked: AtomicBool::new(false), data: UnsafeCell::new(data) }
    }

    /// An unlocked lock holding `data` (not `const`: loom's atomics and cells
    /// have no const constructors).
    #[cfg(loom)]
    pub fn new(data: T) -> Self {
        Self { locked: AtomicBool::new(false), data: UnsafeCell::new(data) }
    }

    /// Spins until the lock is taken; the guard releases it when dropped.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        loop {
            if let Some(guard) = self.try_lock() {
                return guard;
            }
            // The "test" before the next test-and-set: wait with loads only.
            while self.locked.load(Relaxed) {
                cpu_relax();
            }
        }
    }

    /// Takes the lock if it is free, without spinning.
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        // Strong CAS: a free lock must never be reported as taken.
        self.locked
            .compare_exchange(false, true, Acquire, Relaxed)
            .ok()
            .map(|_| SpinLockGuard { lock: self, data: ManuallyDrop::new(self.data.get_mut()) })
    }

    /// Consumes the lock and returns the data (no locking: it is owned).
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// Proof that a [`SpinLock`] is held: dereferences to its data; dropping it
/// unlocks.
#[must_use = "dropping the guard unlocks the lock at once"]
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    // ManuallyDrop: the (loom-tracked) access must end before the unlock, and
    // fields are dropped only after `Drop::drop` has run.
    data: ManuallyDrop<MutPtr<T>>,
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock, so
        // nothing else accesses the data; the pointer is into the lock's cell,
        // which outlives the guard's borrow of the lock.
        self.data.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only live
        // reference derived from the guard.
        self.data.with(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: `data` is never used again. Ending the access here, before
        // the unlock, is what keeps loom from seeing it overlap the next
        // owner's.
        unsafe { ManuallyDrop::drop(&mut self.data) };
        self.lock.locked.store(false, Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    // Mutual exclusion under real interleavings is loom's job (tests/loom.rs): no OS
    // threads here.
    use super::SpinLock;

    #[test]
    fn try_lock_fails_while_held() {
        let l = SpinLock::new(1);
        let mut g = l.lock();
        *g += 1;
        assert!(l.try_lock().is_none());
        drop(g);
        assert_eq!(*l.try_lock().unwrap(), 2);
        assert_eq!(l.into_inner(), 2);
    }
}
