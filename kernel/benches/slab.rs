//! Per-object cost of the slab allocator's single calls versus the 4.3 bulk API
//! (`kmem_cache_alloc_bulk` + `kmem_cache_free_bulk`, and the generic one-by-one
//! fallback) for 1–128 objects, next to the host's global allocator for the same object
//! size, all in one run. Each iteration allocates then frees: the shape of Jesper
//! Dangaard Brouer's `slab_bulk_test01`, whose figures are in
//! /work/shared/spec/mm-slab-bulk.md §4. Results and ratios: benches/README.md.
//!
//! Criterion reports time per iteration; with `Throughput::Elements(n)` its elem/s is
//! objects per second, so per-object cost = time / n.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kernel::hal::MemRegion;
use kernel::mm::frame::FrameAllocator;
use kernel::mm::slab::{Gfp, KmemCache, PageSource, SlabFlags, SlabObj};
use kernel::sync::SpinLock;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// Bulk sizes measured (the list).
const SIZES: [usize; 6] = [1, 8, 16, 32, 64, 128];

/// A 256-byte object, `skbuff_head_cache`'s size class (the bulk API's first user).
#[derive(Default)]
struct Obj {
    _words: [u64; 32],
}

fn cache() -> KmemCache<Obj> {
    // 1 GiB of frames: no bench ever runs out.
    let pages: Arc<dyn PageSource> =
        Arc::new(SpinLock::new(FrameAllocator::new(&[MemRegion { start: 1 << 20, len: 1 << 30 }])));
    KmemCache::create("bench_256", 8, SlabFlags::empty(), None, 2, pages).expect("create")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("slab");
    g.throughput(Throughput::Elements(1));

    g.bench_function("host Box::new_uninit+drop", |b| {
        // malloc(256) + free() through Rust's global allocator (glibc on Debian), without
        // initialising the object, as kmem_cache_alloc does not.
        b.iter(|| drop(black_box(Box::<Obj>::new_uninit())))
    });

    let k = cache();
    g.bench_function("single alloc+free", |b| {
        b.iter(|| {
            let o = k.alloc(0, Gfp::ATOMIC).expect("alloc");
            k.free(0, black_box(o)).expect("free");
        })
    });

    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        let mut p = vec![SlabObj::NULL; n];
        g.bench_with_input(BenchmarkId::new("bulk alloc+free", n), &n, |b, _| {
            b.iter(|| {
                assert!(k.alloc_bulk(0, Gfp::ATOMIC, &mut p));
                k.free_bulk(0, black_box(&p)).expect("free_bulk");
            })
        });
        g.bench_with_input(BenchmarkId::new("fallback alloc+free", n), &n, |b, _| {
            b.iter(|| {
                assert!(k.alloc_bulk_fallback(0, Gfp::ATOMIC, &mut p));
                k.free_bulk_fallback(0, black_box(&p)).expect("free_bulk");
            })
        });
    }
    g.finish();
    assert_eq!(k.errors(), Default::default());
}

criterion_group! {
    name = benches;
    // Short runs, no plots, a lighter bootstrap: the whole bench (14 functions) takes
    // under a minute even on a shared 2-core machine.
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300))
        .nresamples(10_000)
        .without_plots();
    targets = bench
}
criterion_main!(benches);
