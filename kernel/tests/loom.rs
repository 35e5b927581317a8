//! Model checks of `kernel::sync` under loom.
//!
//! Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p kernel --release --test loom`.
//! Every test name contains `loom`, so `cargo test … loom` selects them all.
//! The `#[should_panic]` tests pass only if loom *finds* the forbidden outcome:
//! they prove the model sees the weaker orderings, so the passing twins mean
//! something.
#![cfg(loom)]

use kernel::sync::{Atomic, AtomicI32, Ordering::Relaxed, SpinLock};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// Data in a loom cell, published by the flag: loom reports a data race if
/// the reader's access is not ordered after the writer's.
struct Message {
    flag: Atomic,
    data: UnsafeCell<i32>,
}

// SAFETY: `data` is only read after observing the flag the writer sets after
// writing it; that this ordering holds is what the test checks (loom panics
// on a racy access).
unsafe impl Sync for Message {}

/// (a) `set_release` / `read_acquire` publish non-atomic data: never a race,
/// never a stale value.
#[test]
fn loom_message_passing_release_acquire() {
    loom::model(|| {
        let m = Arc::new(Message { flag: Atomic::new(0), data: UnsafeCell::new(0) });
        let w = m.clone();
        let writer = thread::spawn(move || {
            // SAFETY: the reader touches `data` only after seeing flag == 1.
            w.data.with_mut(|p| unsafe { *p = 1 });
            w.flag.set_release(1);
        });
        if m.flag.read_acquire() == 1 {
            // SAFETY: ACQUIRE pairs with the writer's RELEASE.
            assert_eq!(m.data.with(|p| unsafe { *p }), 1);
        }
        writer.join().unwrap();
    });
}

/// (b) The same with relaxed `set` / `read`: loom finds the reader seeing
/// flag == 1 but data == 0. The data is a separate relaxed atomic, so the
/// panic is this observable reordering (the assert), not a data-race report.
#[test]
#[should_panic(expected = "stale data")]
fn loom_message_passing_relaxed_reorders_should_panic() {
    loom::model(|| {
        let flag = Arc::new(Atomic::new(0));
        let data = Arc::new(AtomicI32::new(0));
        let (f, d) = (flag.clone(), data.clone());
        let writer = thread::spawn(move || {
            d.store(1, Relaxed);
            f.set(1);
        });
        if flag.read() == 1 {
            assert_eq!(data.load(Relaxed), 1, "stale data");
        }
        writer.join().unwrap();
    });
}

/// (c) RMWs pair too: the writer's `add_return_release` publishes data to a
/// reader whose `add_return_acquire` comes later in the counter's order.
#[test]
fn loom_add_return_release_acquire_pairing() {
    loom::model(|| {
        let m = Arc::new(Message { flag: Atomic::new(0), data: UnsafeCell::new(0) });
        let w = m.clone();
        let writer = thread::spawn(move || {
            // SAFETY: the reader touches `data` only after seeing our increment.
            w.data.with_mut(|p| unsafe { *p = 1 });
            assert!(matches!(w.flag.add_return_release(1), 1 | 2));
        });
        // 2 means the writer's increment came first (it returned 1).
        if m.flag.add_return_acquire(1) == 2 {
            // SAFETY: ACQUIRE read the writer's RELEASE store.
            assert_eq!(m.data.with(|p| unsafe { *p }), 1);
        }
        writer.join().unwrap();
    });
}

/// Message passing where the reader's flag access is `cmpxchg_acquire(old, 3)`;
/// panics "stale data" if the reader finds flag == 1 but data == 0.
fn cmpxchg_acquire_reader(old: i32) {
    let flag = Arc::new(Atomic::new(0));
    let data = Arc::new(AtomicI32::new(0));
    let (f, d) = (flag.clone(), data.clone());
    let writer = thread::spawn(move || {
        d.store(1, Relaxed);
        f.set_release(1);
    });
    if flag.cmpxchg_acquire(old, 3) == 1 {
        assert_eq!(data.load(Relaxed), 1, "stale data");
    }
    writer.join().unwrap();
}

/// (d) A *failed* `cmpxchg_acquire` (it expects 2, finds 1) gives no
/// ordering: loom finds the reader seeing flag == 1 but stale data (an
/// observable reordering on relaxed atomics, not a data-race report).
#[test]
#[should_panic(expected = "stale data")]
fn loom_cmpxchg_acquire_failure_no_ordering_should_panic() {
    loom::model(|| cmpxchg_acquire_reader(2));
}

/// (d') Control for (d): the same read as a *successful* `cmpxchg_acquire`
/// (expects 1) is ACQUIRE, so data is never stale.
#[test]
fn loom_cmpxchg_acquire_success_orders() {
    loom::model(|| cmpxchg_acquire_reader(1));
}

/// Store buffering with fully ordered `xchg` on each side: the full fences
/// forbid both threads reading the other's flag as 0 (`smp_mb()` semantics).
#[test]
fn loom_store_buffering_fully_ordered_xchg() {
    loom::model(|| {
        let (x, y) = (Arc::new(Atomic::new(0)), Arc::new(Atomic::new(0)));
        let (x2, y2) = (x.clone(), y.clone());
        let t = thread::spawn(move || {
            x2.xchg(1);
            y2.read()
        });
        y.xchg(1);
        let r1 = x.read();
        let r2 = t.join().unwrap();
        assert!(r1 == 1 || r2 == 1, "both threads missed the other's store");
    });
}

/// Control for the above: with `xchg_relaxed` loom finds both reads 0.
#[test]
#[should_panic(expected = "both threads missed")]
fn loom_store_buffering_relaxed_xchg_should_panic() {
    loom::model(|| {
        let (x, y) = (Arc::new(Atomic::new(0)), Arc::new(Atomic::new(0)));
        let (x2, y2) = (x.clone(), y.clone());
        let t = thread::spawn(move || {
            x2.xchg_relaxed(1);
            y2.read()
        });
        y.xchg_relaxed(1);
        let r1 = x.read();
        let r2 = t.join().unwrap();
        assert!(r1 == 1 || r2 == 1, "both threads missed the other's store");
    });
}

/// (e) `SpinLock` mutual exclusion: two threads increment a non-atomic
/// counter (the lock's data is a loom `UnsafeCell` under `cfg(loom)`, so any
/// overlap of the two critical sections is reported as a race).
#[test]
fn loom_spinlock_mutual_exclusion() {
    loom::model(|| {
        let lock = Arc::new(SpinLock::new(0u32));
        let l = lock.clone();
        let t = thread::spawn(move || *l.lock() += 1);
        *lock.lock() += 1;
        t.join().unwrap();
        assert_eq!(*lock.lock(), 2);
    });
}

/// `try_lock` never succeeds while the other thread holds the lock.
#[test]
fn loom_spinlock_try_lock_exclusion() {
    loom::model(|| {
        let lock = Arc::new(SpinLock::new(0u32));
        let l = lock.clone();
        let t = thread::spawn(move || {
            if let Some(mut g) = l.try_lock() {
                *g += 1;
            }
        });
        *lock.lock() += 1;
        t.join().unwrap();
        assert!(matches!(*lock.lock(), 1 | 2));
    });
}
