//! The cost of one simulated syscall round trip (`getpid`: submit, dispatch, return
//! event), with the tracer off and on, next to the host kernel's own `getpid` measured in
//! the same run.

use criterion::{criterion_group, criterion_main, Criterion};
use hal_sim::{SimConfig, SimHal};
use harness::world::World;
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::{Kernel, KernelConfig};
use std::hint::black_box;

fn boot() -> (Kernel<SimHal>, i32) {
    let mut k = Kernel::new(SimHal::new(SimConfig::default()), KernelConfig::default());
    let pid = k.create_process(Cred::new(1000, 1000), "bench", 0).expect("spawn");
    (k, pid)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("getpid");
    let nr = Sysno::Getpid.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;

    let (mut k, pid) = boot();
    g.bench_function("k43 simulated, tracing off", |b| {
        b.iter(|| {
            k.submit(pid, black_box(nr), [0; 6]).expect("enters");
            k.step();
            black_box(k.take_events().next());
        })
    });

    let (k2, pid2) = boot();
    let mut w: World<SimHal> = World::new(true);
    let h = w.add_host("bench", k2);
    g.bench_function("k43 simulated, tracing on", |b| {
        b.iter(|| {
            w.submit(h, pid2, Sysno::Getpid, [0; 6]).expect("enters");
            while w.tick() {}
            // Keep the trace from growing without bound across iterations.
            if w.trace.lines.len() > 4096 {
                w.trace.lines.clear();
            }
        })
    });

    g.bench_function("host kernel getpid (libc::syscall)", |b| {
        // SAFETY: SYS_getpid takes no arguments and cannot fail.
        b.iter(|| black_box(unsafe { libc::syscall(libc::SYS_getpid) }))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
