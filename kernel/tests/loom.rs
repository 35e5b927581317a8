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

// ---- slab allocator (kernel::mm::slab) -------------------------------------------------
//
// A 4-object-per-slab cache (u64 objects aligned to 1 KiB) with tiny per-CPU arrays, so a
// handful of operations crosses every path: per-CPU array, shared array, slab lists and
// growth. The search is exhaustive and still quick: the two CPUs conflict only on the
// node's list lock, the slab locks and the objects' state words, so loom's partial-order
// reduction leaves few interleavings. (Mutants checked by hand: dropping the slab lock
// from the single-free fast path fails the double-free model; letting a refill copy
// rather than move objects out of the shared array fails the other three.)

use kernel::hal::MemRegion;
use kernel::mm::frame::FrameAllocator;
use kernel::mm::slab::{Gfp, KmemCache, PageSource, SlabError, SlabFlags, SlabObj};

/// A cache for 2 CPUs with `frames` page frames (one slab each), tuned to
/// `limit`/`batch`/`shared`.
fn slab_cache(frames: u64, limit: usize, batch: usize, shared: usize) -> Arc<KmemCache<u64>> {
    let pages: std::sync::Arc<dyn PageSource> =
        std::sync::Arc::new(SpinLock::new(FrameAllocator::new(&[MemRegion { start: 1 << 20, len: frames * 4096 }])));
    let c = KmemCache::create("loom", 1024, SlabFlags::empty(), None, 2, pages).unwrap();
    assert_eq!(c.objs_per_slab(), 4);
    c.tune(limit, batch, shared).unwrap();
    Arc::new(c)
}

/// A one-slab cache (limit, batch and shared arrays of one) after three allocations and
/// frees on CPU 0: CPU 0's array holds one free object, the shared array one, the slab two.
fn seeded_slab_cache() -> Arc<KmemCache<u64>> {
    let c = slab_cache(4, 1, 1, 1);
    let seed: Vec<SlabObj> = (0..3).map(|_| c.alloc(0, Gfp::KERNEL).unwrap()).collect();
    for &o in &seed {
        c.free(0, o).unwrap();
    }
    c
}

/// Every handle names a distinct allocated object at a distinct address: nothing was
/// handed out twice.
fn assert_distinct(c: &KmemCache<u64>, objs: &[SlabObj]) {
    let mut addrs: Vec<u64> = objs.iter().map(|&o| c.obj_addr(o).expect("allocated")).collect();
    addrs.sort_unstable();
    addrs.dedup();
    assert_eq!(addrs.len(), objs.len(), "an object handed out twice");
}

/// Per-CPU / shared-list handoff: CPU 0 frees three objects into a 2-entry array, so its
/// third free flushes the oldest into the shared array, while CPU 1, starting empty,
/// refills — from the shared array if the flush came first, else from the slab. Either
/// way CPU 1 gets an object nobody holds, and the cache's invariants hold afterwards.
#[test]
fn loom_slab_shared_list_handoff() {
    loom::model(|| {
        let c = slab_cache(4, 2, 1, 1);
        let objs: Vec<SlabObj> = (0..3).map(|_| c.alloc(0, Gfp::KERNEL).unwrap()).collect();
        let c0 = c.clone();
        let freer = thread::spawn(move || {
            for o in objs {
                c0.free(0, o).unwrap();
            }
        });
        let mine = c.alloc(1, Gfp::KERNEL).unwrap();
        freer.join().unwrap();
        assert_distinct(&c, &[mine]);
        assert_eq!(c.objects_in_use(), 1);
        c.check().unwrap();
        let info = c.slabinfo();
        assert_eq!(info.sharedavail + info.cpu_avail + info.in_use, info.active_objs);
        c.free(1, mine).unwrap();
        c.check().unwrap();
    });
}

/// Bulk allocation and free on CPU 1 racing single allocations and frees on CPU 0 over
/// the same node (shared array and slab lists): all-or-nothing holds, nothing is handed
/// out twice, every count adds up.
#[test]
fn loom_slab_bulk_races_single() {
    loom::model(|| {
        let c = seeded_slab_cache();
        let c1 = c.clone();
        let bulk = thread::spawn(move || {
            let mut p = [SlabObj::NULL; 2];
            assert!(c1.alloc_bulk(1, Gfp::ATOMIC, &mut p));
            let keep = p[1];
            c1.free_bulk(1, &p[..1]).unwrap();
            keep
        });
        let a = c.alloc(0, Gfp::KERNEL).unwrap();
        let b = c.alloc(0, Gfp::KERNEL).unwrap();
        c.free(0, a).unwrap();
        let kept = bulk.join().unwrap();
        assert_distinct(&c, &[b, kept]);
        assert_eq!(c.objects_in_use(), 2);
        c.check().unwrap();
        c.free_bulk(0, &[b, kept]).unwrap();
        assert_eq!(c.objects_in_use(), 0);
        c.check().unwrap();
    });
}

/// Two CPUs allocate at once — one in bulk, one singly — from a node whose objects are
/// spread over the shared array and the slab, and both keep what they got: the four
/// objects are distinct.
#[test]
fn loom_slab_no_object_handed_out_twice() {
    loom::model(|| {
        let c = seeded_slab_cache();
        let c1 = c.clone();
        let t = thread::spawn(move || {
            let mut p = [SlabObj::NULL; 2];
            assert!(c1.alloc_bulk(1, Gfp::KERNEL, &mut p));
            p
        });
        let a = c.alloc(0, Gfp::KERNEL).unwrap();
        let b = c.alloc(0, Gfp::KERNEL).unwrap();
        let p = t.join().unwrap();
        assert_distinct(&c, &[a, b, p[0], p[1]]);
        assert_eq!(c.objects_in_use(), 4);
        c.check().unwrap();
    });
}

/// The same handle freed on two CPUs at once (one single free, one bulk free): exactly one
/// wins, the other is a detected double free, and the object is cached exactly once.
#[test]
fn loom_slab_racing_double_free_detected() {
    loom::model(|| {
        let c = slab_cache(2, 2, 1, 1);
        // Both CPUs take objects from the one slab first, so both know it and both frees
        // below run their fast paths.
        let w = c.alloc(1, Gfp::KERNEL).unwrap();
        c.free(1, w).unwrap();
        let o = c.alloc(0, Gfp::KERNEL).unwrap();
        let c1 = c.clone();
        let t = thread::spawn(move || c1.free(1, o));
        let here = c.free_bulk(0, &[o]).map_err(|e| e.error);
        let there = t.join().unwrap();
        assert!(
            matches!((here, there), (Ok(()), Err(SlabError::DoubleFree)) | (Err(SlabError::DoubleFree), Ok(()))),
            "{here:?} {there:?}"
        );
        assert_eq!(c.errors().double_free, 1);
        assert_eq!(c.objects_in_use(), 0);
        c.check().unwrap();
    });
}

/// A stale handle freed on CPU 1 while CPU 0 shrinks the cache (destroying the handle's
/// slab) and allocates again (a new slab under the same number): always a detected double
/// free, whichever slab CPU 1's directory shows, never a free of the new object.
#[test]
fn loom_slab_stale_handle_vs_slab_reuse() {
    loom::model(|| {
        let c = slab_cache(2, 2, 1, 1);
        let w = c.alloc(1, Gfp::KERNEL).unwrap();
        c.free(1, w).unwrap();
        let c0 = c.clone();
        let t = thread::spawn(move || {
            c0.shrink();
            c0.alloc(0, Gfp::KERNEL).unwrap()
        });
        assert_eq!(c.free(1, w), Err(SlabError::DoubleFree));
        let fresh = t.join().unwrap();
        assert_distinct(&c, &[fresh]);
        assert_eq!(c.objects_in_use(), 1);
        c.check().unwrap();
    });
}

// ---- userfaultfd's fault queues -------------------------------------------------------
//
// `fault_pending_wqh` and `fault_wqh` (kernel/src/fs/userfaultfd/queues.rs): a `read()`
// refiling a fault from the first to the second must not hide it from a racing
// UFFDIO_COPY/WAKE (the missing-wakeup fix of 4.3's "avoid missing wakeups during refile
// in userfaultfd_read"). Checked non-vacuous by hand: with the refile's two locks taken
// one after the other instead of nested, loom_uffd_refile_races_wake fails.

use kernel::fs::userfaultfd::{FaultQueues, QueuedFault};

/// A fault being refiled by `read()` while a wake covers its address: the wake always
/// finds it, in one queue or the other, and nothing stays queued.
#[test]
fn loom_uffd_refile_races_wake() {
    loom::model(|| {
        let q = Arc::new(FaultQueues::new());
        q.enqueue(QueuedFault { id: 7, addr: 0x1000 });
        let reader = q.clone();
        let t = thread::spawn(move || reader.refile(7));
        let mut woken = Vec::new();
        q.wake_range(0x1000, 0x2000, &mut woken);
        let refiled = t.join().unwrap();
        assert_eq!(woken, [7], "the wake missed a fault being refiled (refiled: {refiled})");
        assert!(q.ids().is_empty());
    });
}

/// Two overlapping range wakes at once, one fault pending and one read: every fault is
/// woken exactly once, and a fault outside both ranges stays queued.
#[test]
fn loom_uffd_overlapping_wakes_wake_once() {
    loom::model(|| {
        let q = Arc::new(FaultQueues::new());
        q.enqueue(QueuedFault { id: 1, addr: 0x1000 });
        q.enqueue(QueuedFault { id: 2, addr: 0x2000 });
        q.enqueue(QueuedFault { id: 3, addr: 0x9000 });
        assert!(q.refile(2));
        let qa = q.clone();
        let a = thread::spawn(move || {
            let mut w = Vec::new();
            qa.wake_range(0, 0x2000, &mut w);
            w
        });
        let mut all = Vec::new();
        q.wake_range(0x1000, 0x3000, &mut all);
        all.extend(a.join().unwrap());
        all.sort();
        assert_eq!(all, [1, 2]);
        assert_eq!(q.ids(), [3]);
    });
}

/// Release (wake all) racing a new fault's enqueue: afterwards the new fault was woken by
/// the release or is still queued (the late one, which the fault path then answers with
/// SIGBUS because the context is released) — never lost, never duplicated.
#[test]
fn loom_uffd_release_races_enqueue() {
    loom::model(|| {
        let q = Arc::new(FaultQueues::new());
        q.enqueue(QueuedFault { id: 1, addr: 0x1000 });
        assert!(q.refile(1));
        let qf = q.clone();
        let fault = thread::spawn(move || qf.enqueue(QueuedFault { id: 2, addr: 0x2000 }));
        let mut woken = Vec::new();
        q.wake_all(&mut woken);
        fault.join().unwrap();
        assert!(woken.contains(&1), "a fault queued before the release was not woken");
        let mut seen = woken.clone();
        seen.extend(q.ids());
        seen.sort();
        assert_eq!(seen, [1, 2], "a fault was lost or duplicated");
    });
}

/// A chained bio's remaining count (`kernel::block::remaining`): two children complete
/// on two threads while the parent's own part ends on a third. Exactly one completer
/// sees the count reach zero, and that one sees both children's `bi_error` writes (loom
/// reports a race otherwise).
#[test]
fn loom_bio_remaining_has_one_last_completer() {
    use kernel::block::remaining::Remaining;
    struct Parent {
        rem: Remaining,
        status: [UnsafeCell<i32>; 2],
        last: AtomicI32,
    }
    // SAFETY: each status cell is written by its child before that child's decrement and
    // read only by the completer whose decrement reached zero, which the count's
    // acquire/release orders after every write; loom checks exactly that.
    unsafe impl Sync for Parent {}
    loom::model(|| {
        let p = Arc::new(Parent { rem: Remaining::default(), status: [UnsafeCell::new(0), UnsafeCell::new(0)], last: AtomicI32::new(0) });
        p.rem.inc();
        p.rem.inc();
        let finish = |p: &Parent| {
            // SAFETY: see the Sync impl: this runs only in the last completer.
            let s: i32 = p.status.iter().map(|c| c.with(|v| unsafe { *v })).sum();
            assert_eq!(s, -5 - 6, "the last completer sees every child's status");
            p.last.fetch_add(1, Relaxed);
        };
        let children: Vec<_> = (0..2)
            .map(|i| {
                let p = p.clone();
                thread::spawn(move || {
                    // SAFETY: only this child writes its cell, before its decrement.
                    p.status[i].with_mut(|v| unsafe { *v = -5 - i as i32 });
                    if p.rem.dec_and_test() {
                        finish(&p);
                    }
                })
            })
            .collect();
        if p.rem.dec_and_test() {
            finish(&p);
        }
        for c in children {
            c.join().unwrap();
        }
        assert_eq!(p.last.load(Relaxed), 1, "exactly one completion of the parent");
        assert_eq!(p.rem.get(), 0);
    });
}
