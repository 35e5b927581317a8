//! The slab allocator and its 4.3 bulk API (`kernel::mm::slab`), tested through the public
//! API: the spec's test ideas (mm-slab-bulk.md §5), accounting invariants, error
//! detection, and a seeded random-operation property test (a failing seed reproduces with
//! `SLAB_SEED=<seed> cargo test -p kernel --test slab random_ops`; `SLAB_SEEDS=<n>` runs
//! seeds `0..n` instead of the default 200).
#![cfg(not(loom))]

use kernel::hal::{MemRegion, PAGE_SIZE};
use kernel::mm::frame::FrameAllocator;
use kernel::mm::slab::{
    FreeBulkError, Gfp, KmemCache, PageSource, SlabError, SlabFlags, SlabObj, SLABINFO_HEADER,
};
use kernel::sync::SpinLock;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// A 256-byte object, the size class of `skbuff_head_cache` the bulk API was built for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Skb([u64; 32]);

/// Bigger than an order-3 slab (32 KiB): no cache can hold it.
struct Huge {
    _words: [u64; 5000],
}

impl Default for Huge {
    fn default() -> Self {
        Huge { _words: [0; 5000] }
    }
}

/// Frames `[1 MiB, 1 MiB + frames pages)`; also returns the allocator to watch `used`.
fn frames(frames: u64) -> Arc<SpinLock<FrameAllocator>> {
    Arc::new(SpinLock::new(FrameAllocator::new(&[MemRegion { start: 1 << 20, len: frames * PAGE_SIZE }])))
}

fn used(f: &Arc<SpinLock<FrameAllocator>>) -> u64 {
    f.lock().used
}

fn cache<T: Default + Send>(name: &str, nr_cpus: u32, f: &Arc<SpinLock<FrameAllocator>>) -> KmemCache<T> {
    let pages: Arc<dyn PageSource> = f.clone();
    KmemCache::create(name, 8, SlabFlags::empty(), None, nr_cpus, pages).expect("create")
}

fn bulk(c: &KmemCache<Skb>, cpu: u32, n: usize) -> Vec<SlabObj> {
    let mut p = vec![SlabObj::NULL; n];
    assert!(c.alloc_bulk(cpu, Gfp::KERNEL, &mut p), "bulk of {n}");
    p
}

#[test]
fn geometry_and_slabinfo_line() {
    let f = frames(64);
    let c: KmemCache<Skb> = cache("skbuff_head_cache", 2, &f);
    assert_eq!((c.object_size(), c.size(), c.objs_per_slab(), c.pages_per_slab()), (256, 256, 16, 1));
    let o = c.alloc(0, Gfp::KERNEL).unwrap();
    let info = c.slabinfo();
    // One slab grown; an untouched array refills BATCHREFILL_LIMIT (16) objects: all 16.
    assert_eq!((info.num_slabs, info.active_slabs, info.num_objs, info.active_objs), (1, 1, 16, 16));
    assert_eq!((info.in_use, info.cpu_avail, info.free_objects), (1, 15, 0));
    assert_eq!((info.limit, info.batchcount, info.sharedfactor), (120, 60, 8));
    assert_eq!(
        info.to_string(),
        "skbuff_head_cache     16     16    256   16    1 : tunables  120   60    8 : slabdata      1      1      0"
    );
    assert!(SLABINFO_HEADER.starts_with("slabinfo - version: 2.1\n# name"));
    c.free(0, o).unwrap();
    c.check().unwrap();

    let small: KmemCache<u64> = cache("kmalloc-8ish", 1, &f);
    assert_eq!((small.size(), small.objs_per_slab()), (8, 4096 / 10));
    let hw: KmemCache<[u8; 20]> =
        KmemCache::create("hw", 1, SlabFlags::HWCACHE_ALIGN, None, 1, f.clone()).unwrap();
    assert_eq!((hw.size(), hw.align()), (32, 32));
    assert_eq!(KmemCache::<u64>::create("", 8, SlabFlags::empty(), None, 1, f.clone()).unwrap_err(), SlabError::Invalid);
    assert_eq!(KmemCache::<u64>::create("x", 8, SlabFlags::empty(), None, 0, f.clone()).unwrap_err(), SlabError::Invalid);
    assert_eq!(KmemCache::<u64>::create("x", 24, SlabFlags::empty(), None, 1, f.clone()).unwrap_err(), SlabError::Invalid);
    assert_eq!(KmemCache::<Huge>::create("x", 8, SlabFlags::empty(), None, 1, f).unwrap_err(), SlabError::Invalid);
}

/// Spec §5.1: bulk of N returns true, distinct, aligned objects inside slabs of the
/// cache; freeing them returns the accounting to its start.
#[test]
fn bulk_sizes_distinct_aligned_and_accounted() {
    let f = frames(4096);
    let c: KmemCache<Skb> = KmemCache::create("b", 64, SlabFlags::empty(), None, 2, f.clone()).unwrap();
    for n in [0usize, 1, 16, 250, 1000] {
        let start = c.slabinfo();
        let mut p = vec![SlabObj::NULL; n];
        assert!(c.alloc_bulk(1, Gfp::KERNEL, &mut p));
        assert_eq!(c.objects_in_use(), start.in_use + n);
        let handles: HashSet<_> = p.iter().copied().collect();
        assert_eq!(handles.len(), n, "distinct handles");
        let mut addrs = BTreeSet::new();
        for &o in &p {
            let a = c.obj_addr(o).unwrap();
            assert_eq!(a % 64, 0, "aligned to the cache's 64");
            assert!((1 << 20..(1 << 20) + 4096 * PAGE_SIZE).contains(&a), "inside the frames");
            assert!(addrs.insert(a), "distinct addresses");
        }
        // Objects do not overlap: sorted addresses are at least one object apart.
        let v: Vec<_> = addrs.into_iter().collect();
        assert!(v.windows(2).all(|w| w[1] - w[0] >= c.size() as u64));
        c.check().unwrap();
        c.free_bulk(0, &p).unwrap();
        assert_eq!(c.objects_in_use(), start.in_use);
        c.check().unwrap();
    }
    assert_eq!(c.errors(), Default::default());
}

/// Spec §5.2 with frames running out: `false`, nothing leaked, nothing double-freed, and
/// the stale handles left in the array are refused as double frees.
#[test]
fn bulk_all_or_nothing_when_frames_run_out() {
    let f = frames(8); // 8 slabs of 16 objects
    let c: KmemCache<Skb> = cache("oom", 2, &f);
    let held = bulk(&c, 0, 40);
    let before = c.slabinfo();
    let mut p = vec![SlabObj::NULL; 200];
    assert!(!c.alloc_bulk(0, Gfp::KERNEL, &mut p));
    assert_eq!(c.objects_in_use(), before.in_use, "all-or-nothing");
    assert_eq!(used(&f), 8, "it did use every frame trying");
    assert_eq!(c.errors().nomem, 1);
    c.check().unwrap();
    // p[0..88) hold stale handles (freed again); the rest are still NULL.
    let stale = p.iter().filter(|o| !o.is_null()).count();
    assert_eq!(stale, 128 - 40);
    let err = c.free_bulk(0, &p[..stale]).unwrap_err();
    assert_eq!(err, FreeBulkError { index: 0, error: SlabError::DoubleFree, rejected: stale });
    assert_eq!(c.errors().double_free, stale as u64);
    assert_eq!(c.objects_in_use(), before.in_use);
    // The cache still works: exactly the remaining capacity fits (on CPU 0, whose array
    // holds the rolled-back objects).
    let mut rest = vec![SlabObj::NULL; 128 - 40];
    assert!(c.alloc_bulk(0, Gfp::KERNEL, &mut rest));
    assert!(c.alloc(0, Gfp::KERNEL).is_err());
    c.free_bulk(1, &rest).unwrap();
    c.free_bulk(0, &held).unwrap();
    c.check().unwrap();
    assert_eq!(c.shrink(), 8);
    assert_eq!(used(&f), 0, "every frame back");
}

/// Spec §5.2 with failslab at object k: same all-or-nothing, for every k.
#[test]
fn bulk_all_or_nothing_with_failslab() {
    let f = frames(256);
    let c: KmemCache<Skb> = cache("failslab", 2, &f);
    let held = bulk(&c, 1, 7);
    for k in [0u64, 1, 15, 16, 17, 63, 64, 100] {
        c.set_failslab(Some(k));
        let mut p = vec![SlabObj::NULL; 128];
        assert!(!c.alloc_bulk(0, Gfp::ATOMIC, &mut p), "fails at {k}");
        assert_eq!(c.objects_in_use(), 7);
        c.check().unwrap();
        // Disarmed after firing once.
        let ok = bulk(&c, 0, 128);
        c.free_bulk(1, &ok).unwrap();
    }
    assert_eq!(c.errors().injected, 8);
    // The same through the generic fallback.
    c.set_failslab(Some(5));
    let mut p = vec![SlabObj::NULL; 10];
    assert!(!c.alloc_bulk_fallback(0, Gfp::KERNEL, &mut p));
    assert_eq!(c.objects_in_use(), 7);
    c.set_failslab(Some(3));
    c.set_failslab(None);
    assert!(c.alloc_bulk_fallback(0, Gfp::KERNEL, &mut p));
    c.free_bulk_fallback(1, &p).unwrap();
    c.free_bulk(0, &held).unwrap();
    c.check().unwrap();
}

/// `free_bulk` of objects from many slabs, in shuffled order, across both CPUs' arrays
/// and the shared array.
#[test]
fn free_bulk_of_mixed_slabs() {
    let f = frames(1024);
    let c: KmemCache<Skb> = cache("mixed", 2, &f);
    c.tune(8, 4, 2).unwrap(); // small arrays: frees overflow to the shared array and slabs
    let a = bulk(&c, 0, 300);
    let b = bulk(&c, 1, 300);
    let slabs = c.num_slabs();
    assert!(slabs >= 600 / 16);
    // Interleave and shuffle deterministically: every run of the free touches many slabs.
    let mut mixed: Vec<_> = a.iter().zip(&b).flat_map(|(x, y)| [*x, *y]).collect();
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..mixed.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        mixed.swap(i, (s % (i as u64 + 1)) as usize);
    }
    let (first, second) = mixed.split_at(250);
    c.free_bulk(1, first).unwrap();
    c.check().unwrap();
    let info = c.slabinfo();
    assert_eq!(info.in_use, 350);
    assert!(info.cpu_avail <= 16 && info.sharedavail <= 8);
    c.free_bulk(0, second).unwrap();
    c.check().unwrap();
    let info = c.slabinfo();
    assert_eq!(info.in_use, 0);
    // SLAB accounting: cached objects still count as active.
    assert_eq!(info.active_objs, info.cpu_avail + info.sharedavail);
    assert_eq!(info.num_objs, info.active_objs + info.free_objects);
    // free_limit = (1 + 2) * 4 + 16 = 28: a slab emptied while more objects than that are
    // free is destroyed at once, so at most one empty slab is kept.
    assert!(info.num_slabs - info.active_slabs <= 1);
    assert!(info.destroyed > 0);
    assert_eq!(used(&f), info.num_slabs as u64);
}

#[test]
fn double_free_and_bad_handles_are_refused_and_counted() {
    let f = frames(64);
    let c: KmemCache<Skb> = cache("df", 2, &f);
    let other: KmemCache<Skb> = cache("other", 2, &f);
    let o = c.alloc(0, Gfp::KERNEL).unwrap();
    let addr = c.obj_addr(o).unwrap();
    c.with_object(o, |s| s.0[0] = 42).unwrap();
    c.free(0, o).unwrap();
    assert_eq!(c.free(0, o), Err(SlabError::DoubleFree));
    assert_eq!(c.free(1, o), Err(SlabError::DoubleFree), "on another CPU too");
    assert_eq!(c.with_object(o, |_| ()), Err(SlabError::UseAfterFree));
    // ABA: the slot is handed out again (LIFO array); the stale handle stays stale and
    // the new owner's object is untouched.
    let o2 = c.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(c.obj_addr(o2), Ok(addr), "the same slot, a new generation");
    assert_ne!(o, o2);
    assert_eq!(c.free(0, o), Err(SlabError::DoubleFree));
    assert_eq!(c.with_object(o2, |s| s.0[0]), Ok(42), "constructed state survives free");
    // Duplicates inside one bulk free: the second copy is refused, the rest freed.
    let p = bulk(&c, 1, 4);
    let dup = [p[0], p[1], p[0], p[2], p[3], o2];
    assert_eq!(c.free_bulk(1, &dup), Err(FreeBulkError { index: 2, error: SlabError::DoubleFree, rejected: 1 }));
    // NULL, foreign, bad CPU.
    assert_eq!(c.free(0, SlabObj::NULL), Err(SlabError::Null));
    let x = other.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(c.free(0, x), Err(SlabError::ForeignCache));
    assert_eq!(c.with_object(x, |_| ()), Err(SlabError::ForeignCache));
    assert_eq!(c.alloc(2, Gfp::KERNEL), Err(SlabError::BadCpu));
    assert_eq!(c.free(7, x), Err(SlabError::BadCpu));
    assert!(!c.alloc_bulk(9, Gfp::KERNEL, &mut [SlabObj::NULL; 3]));
    assert_eq!(c.free_bulk(9, &[x]).unwrap_err().error, SlabError::BadCpu);
    let e = c.errors();
    assert_eq!((e.double_free, e.use_after_free, e.null, e.foreign, e.bad_cpu), (4, 1, 1, 2, 4));
    assert_eq!(c.objects_in_use(), 0);
    c.check().unwrap();
    other.free(1, x).unwrap();
    assert_eq!(SlabError::DoubleFree.errno(), kernel::Errno::EFAULT);
    assert_eq!(SlabError::NoMemory.errno(), kernel::Errno::ENOMEM);
}

/// A slab number reused after its slab was destroyed: handles into the old slab stay
/// stale, handles into the new one work, whichever CPU's directory is out of date.
#[test]
fn stale_handles_survive_slab_number_reuse() {
    let f = frames(64);
    let c: KmemCache<Skb> = cache("reuse", 2, &f);
    let old = bulk(&c, 0, 16);
    c.free_bulk(0, &old).unwrap();
    assert_eq!(c.shrink(), 1);
    assert_eq!((c.num_slabs(), used(&f)), (0, 0));
    // CPU 1 creates the new slab under the same number; CPU 0 last saw the old one.
    let new = bulk(&c, 1, 16);
    assert!(old.iter().all(|o| !new.contains(o)));
    for &o in &old {
        assert_eq!(c.free(0, o), Err(SlabError::DoubleFree));
        assert_eq!(c.with_object(o, |_| ()), Err(SlabError::UseAfterFree));
    }
    c.free_bulk(0, &new).unwrap();
    c.check().unwrap();
    assert_eq!(c.errors().double_free, 16);
}

/// Spec §5.3: `__GFP_ZERO` objects are zeroed, including slow-path ones; a constructor
/// runs once per object per slab; `SLAB_POISON` resets on free and constructs on alloc.
#[test]
fn zeroing_ctor_and_poison() {
    let f = frames(256);
    fn ctor(s: &mut Skb) {
        s.0[1] = 7;
    }
    let c = KmemCache::<Skb>::create("z", 8, SlabFlags::empty(), Some(ctor), 1, f.clone()).unwrap();
    let p = bulk(&c, 0, 100);
    for &o in &p {
        assert_eq!(c.with_object(o, |s| s.0[1]), Ok(7));
        c.with_object(o, |s| s.0 = [0xdead; 32]).unwrap();
    }
    c.free_bulk(0, &p).unwrap();
    let mut z = vec![SlabObj::NULL; 150]; // 100 dirty ones plus 50 from new slabs
    assert!(c.alloc_bulk(0, Gfp::KERNEL | Gfp::ZERO, &mut z));
    assert!(z.iter().all(|&o| c.with_object(o, |s| *s == Skb::default()) == Ok(true)));
    let one = c.alloc(0, Gfp::ZERO).unwrap();
    c.with_object(one, |s| s.0[3] = 1).unwrap();
    c.free(0, one).unwrap();
    let again = c.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(c.with_object(again, |s| s.0[3]), Ok(1), "no zeroing without __GFP_ZERO");
    c.free(0, again).unwrap();
    c.free_bulk(0, &z).unwrap();

    let p = KmemCache::<Skb>::create("p", 8, SlabFlags::POISON, Some(ctor), 1, f).unwrap();
    let o = p.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(p.with_object(o, |s| s.0[1]), Ok(7));
    p.with_object(o, |s| s.0[2] = 9).unwrap();
    p.free(0, o).unwrap();
    let o = p.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(p.with_object(o, |s| (s.0[1], s.0[2])), Ok((7, 0)), "poisoned, then constructed");
    p.free(0, o).unwrap();
}

/// A caller freeing (and reallocating) an object from inside `with_object` on it is using
/// it after free; the cache must not deadlock on the object's lock, and says so.
#[test]
fn use_after_free_inside_with_object_does_not_deadlock() {
    let f = frames(16);
    let p = KmemCache::<Skb>::create("poison", 8, SlabFlags::POISON, None, 1, f.clone()).unwrap();
    let o = p.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(p.with_object(o, |_| p.free(0, o)), Ok(Ok(())));
    assert_eq!(p.errors().use_after_free, 1, "poisoning skipped");
    p.check().unwrap();

    let c: KmemCache<Skb> = cache("zero", 1, &f);
    let o = c.alloc(0, Gfp::KERNEL).unwrap();
    let addr = c.obj_addr(o).unwrap();
    let again = c
        .with_object(o, |_| {
            c.free(0, o).unwrap();
            c.alloc(0, Gfp::ZERO).unwrap() // the same slot, LIFO
        })
        .unwrap();
    assert_eq!(c.obj_addr(again), Ok(addr));
    assert_eq!(c.errors().use_after_free, 1, "zeroing skipped");
    c.free(0, again).unwrap();
    c.check().unwrap();
}

#[test]
fn shrink_destroy_and_drop_return_frames() {
    let f = frames(512);
    let c: KmemCache<Skb> = cache("d", 2, &f);
    let p = bulk(&c, 0, 300);
    let q = bulk(&c, 1, 10);
    c.free_bulk(1, &p).unwrap();
    assert!(c.shrink() > 0);
    c.check().unwrap();
    let info = c.slabinfo();
    assert_eq!((info.cpu_avail, info.sharedavail, info.free_objects), (0, 0, info.num_objs - 10));
    assert_eq!(info.num_slabs as u64, used(&f));
    let c = c.destroy().expect_err("objects still allocated");
    c.free_bulk(0, &q).unwrap();
    assert_eq!(c.num_slabs(), info.num_slabs, "a refused destroy changes nothing else");
    c.destroy().unwrap();
    assert_eq!(used(&f), 0);

    let d: KmemCache<Skb> = cache("dropped", 1, &f);
    let _leak = bulk(&d, 0, 50);
    assert!(used(&f) > 0);
    drop(d);
    assert_eq!(used(&f), 0, "Drop gives the frames back even with objects allocated");
}

#[test]
fn tune_validates_and_applies() {
    let f = frames(256);
    let c: KmemCache<Skb> = cache("t", 2, &f);
    for (l, b, s) in [(0, 1, 0), (4, 0, 0), (4, 5, 0), (5000, 1, 0), (4, 2, 65)] {
        assert_eq!(c.tune(l, b, s), Err(SlabError::Invalid), "{l} {b} {s}");
    }
    let p = bulk(&c, 0, 64);
    c.free_bulk(0, &p).unwrap();
    c.tune(4, 2, 0).unwrap();
    let info = c.slabinfo();
    assert_eq!((info.limit, info.batchcount, info.sharedfactor, info.cpu_avail), (4, 2, 0, 0));
    let p = bulk(&c, 0, 64);
    c.free_bulk(1, &p).unwrap();
    let info = c.slabinfo();
    assert!(info.cpu_avail <= 4 && info.sharedavail == 0);
    assert!(info.flushes > 0 && info.refills > 0);
    c.check().unwrap();
}

/// splitmix64: small, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Spec §5.6: any interleaving of single and bulk alloc/free (and shrink, tune, failslab,
/// double frees) across simulated CPUs keeps every object in exactly one place, and the
/// cache's counts equal a trivial model's.
fn random_ops(seed: u64) {
    let mut r = Rng(seed);
    let nr_cpus = 1 + r.below(4) as u32;
    let f = frames(40 + r.below(40));
    let c: KmemCache<Skb> = cache("prop", nr_cpus, &f);
    if r.below(2) == 0 {
        let limit = 1 + r.below(20) as usize;
        c.tune(limit, 1 + r.below(limit as u64) as usize, r.below(4) as usize).unwrap();
    }
    let mut live: Vec<SlabObj> = Vec::new();
    let mut dead: Vec<SlabObj> = Vec::new();
    let mut expect_df = 0;
    for step in 0..400 {
        let cpu = r.below(nr_cpus as u64) as u32;
        match r.below(10) {
            0..=2 => match c.alloc(cpu, Gfp::KERNEL) {
                Ok(o) => live.push(o),
                Err(e) => assert_eq!(e, SlabError::NoMemory, "seed {seed} step {step}"),
            },
            3 | 4 => {
                let n = r.below(70) as usize;
                let mut p = vec![SlabObj::NULL; n];
                if r.below(8) == 0 {
                    c.set_failslab(Some(r.below(n as u64 + 1)));
                }
                let before = c.objects_in_use();
                if c.alloc_bulk(cpu, Gfp::KERNEL, &mut p) {
                    live.extend_from_slice(&p);
                } else {
                    assert_eq!(c.objects_in_use(), before, "seed {seed} step {step}: all-or-nothing");
                    dead.extend(p.iter().filter(|o| !o.is_null()));
                }
                c.set_failslab(None);
            }
            5 | 6 if !live.is_empty() => {
                let o = live.swap_remove(r.below(live.len() as u64) as usize);
                c.free(cpu, o).unwrap();
                dead.push(o);
            }
            7 | 8 => {
                let n = (r.below(70) as usize).min(live.len());
                let mut p = Vec::new();
                for _ in 0..n {
                    p.push(live.swap_remove(r.below(live.len() as u64) as usize));
                }
                // Sometimes slip in a stale handle: refused, the rest freed.
                let stale = !dead.is_empty() && r.below(3) == 0;
                if stale {
                    p.insert(r.below(p.len() as u64 + 1) as usize, dead[r.below(dead.len() as u64) as usize]);
                    expect_df += 1;
                }
                let res = c.free_bulk(cpu, &p);
                assert_eq!(res.is_err(), stale, "seed {seed} step {step}");
                dead.extend(p);
            }
            9 => {
                if r.below(4) == 0 {
                    c.shrink();
                } else if !dead.is_empty() {
                    let o = dead[r.below(dead.len() as u64) as usize];
                    assert_eq!(c.free(cpu, o), Err(SlabError::DoubleFree), "seed {seed} step {step}");
                    expect_df += 1;
                }
            }
            _ => {}
        }
        if step % 16 == 0 {
            c.check().unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
            assert_eq!(c.objects_in_use(), live.len(), "seed {seed} step {step}");
        }
    }
    c.check().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    let unique: HashSet<_> = live.iter().collect();
    assert_eq!(unique.len(), live.len(), "seed {seed}: an object handed out twice");
    assert_eq!(c.errors().double_free, expect_df, "seed {seed}");
    c.free_bulk(0, &live).unwrap();
    c.shrink();
    assert_eq!((c.objects_in_use(), c.num_slabs(), used(&f)), (0, 0, 0), "seed {seed}");
}

#[test]
fn random_ops_property() {
    if let Ok(seed) = std::env::var("SLAB_SEED") {
        return random_ops(seed.parse().expect("SLAB_SEED is a u64"));
    }
    // SLAB_SEEDS=<n> for a longer soak.
    let seeds = std::env::var("SLAB_SEEDS").map_or(200, |n| n.parse().expect("SLAB_SEEDS is a count"));
    for seed in 0..seeds {
        random_ops(seed);
    }
}

/// Real threads on real CPUs (loom explores the small cases exhaustively; this one runs
/// long enough to shake out anything coarse): objects allocated on one CPU and freed on
/// the other, through the shared array, plus concurrent double frees of the same handle.
#[test]
fn threads_exchange_objects() {
    let f = frames(4096);
    let c: Arc<KmemCache<Skb>> = Arc::new(cache("threads", 2, &f));
    c.tune(16, 8, 2).unwrap();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<SlabObj>>(64);
    let producer = {
        let c = c.clone();
        std::thread::spawn(move || {
            for i in 0..2000 {
                let n = 1 + i % 33;
                let mut p = vec![SlabObj::NULL; n];
                assert!(c.alloc_bulk(0, Gfp::ATOMIC, &mut p));
                tx.send(p).unwrap();
            }
        })
    };
    let mut freed = 0u64;
    let mut dup_rejected = 0u64;
    for p in rx {
        if p.len() % 2 == 0 {
            c.free_bulk(1, &p).unwrap();
        } else {
            for &o in &p {
                c.free(1, o).unwrap();
            }
        }
        // A double free racing with the producer's allocations on CPU 0.
        dup_rejected += u64::from(c.free(0, p[0]).is_err());
        freed += p.len() as u64;
    }
    producer.join().unwrap();
    assert_eq!(dup_rejected, 2000);
    assert_eq!(freed, (0..2000).map(|i| 1 + i % 33).sum::<usize>() as u64);
    assert_eq!(c.objects_in_use(), 0);
    c.check().unwrap();
}

/// `cache_alloc_refill`: an untouched array refills at most `BATCHREFILL_LIMIT` (16)
/// objects; once used, a whole `batchcount` (when the node has that many free; right
/// after growing it has one slab's worth, in Linux too).
#[test]
fn refill_batch_grows_once_touched() {
    let f = frames(64);
    let c: KmemCache<Skb> = cache("refill", 1, &f);
    c.tune(40, 40, 0).unwrap();
    let warm = bulk(&c, 0, 64);
    c.free_bulk(0, &warm).unwrap();
    c.tune(40, 40, 0).unwrap(); // back into the slabs, and a fresh untouched array
    assert_eq!(c.slabinfo().free_objects, 64);
    let o = c.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(c.slabinfo().cpu_avail, 15, "first refill: 16, one handed out");
    let rest = bulk(&c, 0, 15);
    let o2 = c.alloc(0, Gfp::KERNEL).unwrap();
    assert_eq!(c.slabinfo().cpu_avail, 39, "touched: a batch of 40");
    c.free(0, o).unwrap();
    c.free(0, o2).unwrap();
    c.free_bulk(0, &rest).unwrap();
    c.check().unwrap();
}
