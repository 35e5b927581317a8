//! Random syscall sequences drawn from the syscall table, with random and boundary
//! arguments, never panic the kernel and keep its state consistent.

use hal_sim::{SimConfig, SimHal};
use kernel::security::cred::Cred;
use kernel::syscalls::table::ALL;
use kernel::syscalls::Arch;
use kernel::{Kernel, KernelConfig};
use proptest::prelude::*;

/// Arguments worth trying: small ints (fds, flags), boundary values, pointers into the
/// task's stack, into nowhere and into the kernel half.
fn arg() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..8,
        Just(u64::MAX),
        Just(-100i64 as u64),
        Just(0x7fff_ffff_f000 - 0x1000),
        Just(0x7fff_ff80_0000),
        Just(0xdead_0000),
        Just(0xffff_8000_0000_0000),
        any::<u32>().prop_map(u64::from),
        any::<u64>(),
    ]
}

fn call() -> impl Strategy<Value = (usize, [u64; 6])> {
    (0..ALL.len(), proptest::array::uniform6(arg()))
}

fn kernel(seed: u64) -> Kernel<SimHal> {
    let hal = SimHal::new(SimConfig { seed, ram_bytes: 16 << 20, cpus: 1 });
    let mut k = Kernel::new(hal, KernelConfig::default());
    k.admin_write_file(b"/bin/true", 0o755, 0, 0, b"#!k43 true").expect("boot file");
    k.register_program("true");
    k
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_syscalls_never_panic_and_stay_consistent(seed in any::<u64>(), root in any::<bool>(), calls in proptest::collection::vec(call(), 1..40)) {
        let mut k = kernel(seed);
        let uid = if root { 0 } else { 1000 };
        let mut pid = k.create_process(Cred::new(uid, uid), "fuzz", 0).expect("spawn");
        for (idx, args) in calls {
            let sysno = ALL[idx];
            let Some(nr) = sysno.desc().nr(Arch::X86_64) else { continue };
            if k.submit(pid, nr as u64, args).is_err() {
                // The task exited or sleeps forever: carry on with a fresh one.
                pid = k.create_process(Cred::new(uid, uid), "fuzz", 0).expect("spawn");
                continue;
            }
            for _ in 0..64 {
                if !k.step() {
                    break;
                }
            }
            let _ = k.take_events().count();
            if let Some(t) = k.next_timer() {
                k.hal.advance_to(t);
                k.run_timers();
            }
            if let Err(e) = k.check_invariants() {
                prop_assert!(false, "after {}: {}", sysno.desc().name, e);
            }
        }
    }

    #[test]
    fn unknown_numbers_are_enosys(nr in 512u64..100_000, args in proptest::array::uniform6(any::<u64>())) {
        let mut k = kernel(1);
        let pid = k.create_process(Cred::new(0, 0), "t", 0).expect("spawn");
        k.submit(pid, nr, args).expect("enters");
        let ev: Vec<_> = k.take_events().collect();
        prop_assert_eq!(ev, vec![kernel::KEvent::SyscallReturn { pid, sysno: None, ret: -38 }]);
    }
}
