//! Synchronisation primitives, and the kernel's only door to atomic types.
//!
//! Why a facade: every atomic in the kernel is named through this module, so
//! building with `--cfg loom` swaps all of them, the spin lock's data cell and
//! the spin-wait hint for loom's model-checked versions in one place. An
//! atomic imported straight from `core::sync::atomic` elsewhere would be
//! invisible to loom, and the model would silently miss its interleavings.
//!
//! On top of the raw atomics sit Linux 4.3's `atomic_t`/`atomic64_t` API
//! ([`Atomic`], [`Atomic64`]) and a test-and-test-and-set [`SpinLock`].

#![warn(missing_docs)]

mod atomic;
mod spinlock;

pub use atomic::{Atomic, Atomic64};
pub use spinlock::{SpinLock, SpinLockGuard};

#[cfg(not(loom))]
use core::sync::atomic as imp;
#[cfg(loom)]
use loom::sync::atomic as imp;

/// Atomic `bool` (loom's model under `cfg(loom)`).
pub use imp::AtomicBool;
/// Atomic `i32` (loom's model under `cfg(loom)`).
pub use imp::AtomicI32;
/// Atomic `i64` (loom's model under `cfg(loom)`).
pub use imp::AtomicI64;
/// Atomic `u32` (loom's model under `cfg(loom)`).
pub use imp::AtomicU32;
/// Atomic `u64` (loom's model under `cfg(loom)`).
pub use imp::AtomicU64;
/// Atomic `usize` (loom's model under `cfg(loom)`).
pub use imp::AtomicUsize;
/// Memory orderings for the atomics above (the same type under loom).
pub use imp::Ordering;
/// Memory fence; `fence(SeqCst)` is Linux's `smp_mb()`.
pub use imp::fence;

/// Linux's `cpu_relax()`: call once per iteration of a busy-wait loop.
///
/// Normally the CPU's spin-loop hint; under loom a yield, because loom must
/// be told that the thread cannot progress until another one runs, or it
/// explores the spinning thread forever.
#[inline]
pub fn cpu_relax() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}
