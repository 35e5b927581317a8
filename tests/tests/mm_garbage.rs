//! Garbage arguments to the memory and userfaultfd syscalls (issue 5's "bad input"
//! acceptance line): mmap, munmap, mprotect, madvise, brk, userfaultfd, ioctl, read, and
//! poll/ppoll when the table has them, called with boundary and random values drawn per
//! the syscall table's argument kinds (0, -1, huge, unaligned, kernel-half pointers, the
//! named values of an enum or flag set and their union, random bits). Every call either
//! returns a result or `-errno` with an errno Linux defines, or blocks legitimately (a
//! copy touching a registered missing page, a blocking read); the kernel never panics
//! and its invariants hold after every call. A task that blocks is then killed, which
//! must leave the invariants intact too.

use hal_sim::{SimConfig, SimHal};
use kernel::kernel::TaskState;
use kernel::security::cred::Cred;
use kernel::syscalls::desc::ArgKind;
use kernel::syscalls::{Arch, Sysno};
use kernel::uapi::userfaultfd::*;
use kernel::{Errno, Kernel, KernelConfig, Pid};
use proptest::prelude::*;

const PAGE: u64 = 4096;

/// The syscalls under test: the table's, by name, so poll/ppoll join once they exist.
fn calls() -> Vec<Sysno> {
    ["mmap", "munmap", "mprotect", "madvise", "brk", "userfaultfd", "ioctl", "read", "poll", "ppoll"]
        .iter()
        .filter_map(|n| Sysno::from_name(n))
        .filter(|s| s.desc().nr(Arch::X86_64).is_some())
        .collect()
}

struct World {
    k: Kernel<SimHal>,
    reaper: Pid,
    t: Pid,
    /// A 4-page private mapping whose first two pages are registered with `uffd`.
    area: u64,
    uffd: u64,
    pipe: (u64, u64),
}

impl World {
    fn call(&mut self, pid: Pid, s: Sysno, args: [u64; 6]) -> Option<i64> {
        harness::fuzz::run_call(&mut self.k, pid, s, args, 1000)
    }

    fn new() -> World {
        let mut k = Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 8 << 20, cpus: 1 }), KernelConfig::default());
        let reaper = k.create_process(Cred::new(0, 0), "reaper", 0).expect("spawn");
        let t = k.create_process(Cred::new(1000, 1000), "t", 0).expect("spawn");
        let mut w = World { k, reaper, t, area: 0, uffd: 0, pipe: (0, 0) };
        w.area = w.call(t, Sysno::Mmap, [0, 4 * PAGE, 3, 0x22, u64::MAX, 0]).expect("mmap") as u64;
        let scratch = w.area + 3 * PAGE;
        assert_eq!(w.call(t, Sysno::Pipe2, [scratch, 0o4000, 0, 0, 0, 0]), Some(0));
        let mut b = [0u8; 8];
        w.k.user_mode_access(t, scratch, &mut b, false).expect("read");
        w.pipe = (u32::from_le_bytes(b[..4].try_into().unwrap()) as u64, u32::from_le_bytes(b[4..].try_into().unwrap()) as u64);
        w.uffd = w.call(t, Sysno::Userfaultfd, [0o4000, 0, 0, 0, 0, 0]).expect("userfaultfd") as u64;
        let mut api: Vec<u8> = [UFFD_API, 0, 0].iter().flat_map(|x| x.to_le_bytes()).collect();
        w.k.user_mode_access(t, scratch, &mut api, true).expect("write");
        assert_eq!(w.call(t, Sysno::Ioctl, [w.uffd, UFFDIO_API as u64, scratch, 0, 0, 0]), Some(0));
        let mut reg: Vec<u8> = [w.area, 2 * PAGE, UFFDIO_REGISTER_MODE_MISSING, 0].iter().flat_map(|x| x.to_le_bytes()).collect();
        w.k.user_mode_access(t, scratch, &mut reg, true).expect("write");
        assert_eq!(w.call(t, Sysno::Ioctl, [w.uffd, UFFDIO_REGISTER as u64, scratch, 0, 0, 0]), Some(0));
        w
    }

    /// A garbage value for an argument of `kind`: `class` picks the kind of garbage,
    /// `raw` supplies the random bits.
    fn garbage(&self, kind: ArgKind, class: u8, raw: u64) -> u64 {
        let common = [0, u64::MAX, 1 << 63, kernel::mm::TASK_SIZE, 0xffff_8000_0000_0000, 0xffff_ffff_8100_0000, 0x1001, u32::MAX as u64, -4096i64 as u64, raw];
        let named = |c: u8| -> u64 {
            match kind {
                ArgKind::Enum(set) => set.values[(raw % set.values.len() as u64) as usize].1,
                ArgKind::Flags(set) if c % 2 == 0 => set.flags.iter().fold(0, |a, f| a | f.1),
                ArgKind::Flags(set) => set.flags.iter().enumerate().filter(|(i, _)| raw >> i & 1 != 0).fold(0, |a, (_, f)| a | f.1),
                ArgKind::Fd => [self.uffd, self.pipe.0, self.pipe.1, 0, 1, 1023, 1024][(raw % 7) as usize],
                ArgKind::Ptr | ArgKind::Struct(..) | ArgKind::OutBuf { .. } | ArgKind::InBuf { .. } | ArgKind::SockAddr { .. } | ArgKind::SockAddrOut { .. } | ArgKind::SockLen => {
                    // The registered pages (a copy there blocks), the unregistered ones, a
                    // page end (the access crosses into whatever follows).
                    [self.area, self.area + PAGE + 8, self.area + 2 * PAGE, self.area + 3 * PAGE, self.area + 4 * PAGE - 4][(raw % 5) as usize]
                }
                _ => [1, PAGE, 2 * PAGE, PAGE - 1, 32, 64][(raw % 6) as usize],
            }
        };
        if class < 8 {
            named(class)
        } else {
            common[(class as usize - 8) % common.len()]
        }
    }
}

fn valid_return(ret: i64) -> bool {
    ret >= 0 || (ret >= -4095 && Errno((-ret) as i32).name().is_some() && ret != Errno::ERESTARTSYS.ret())
}

fn run(seq: Vec<(usize, [(u8, u64); 6])>) -> Result<(), TestCaseError> {
    let calls = calls();
    let mut w = World::new();
    for (pick, choices) in seq {
        let s = calls[pick % calls.len()];
        let mut args = [0u64; 6];
        for (i, a) in s.desc().args.iter().enumerate() {
            args[i] = w.garbage(a.kind, choices[i].0, choices[i].1);
        }
        let t = w.t;
        let ret = w.call(t, s, args);
        if let Err(e) = w.k.check_invariants() {
            return Err(TestCaseError::fail(format!("{}({args:x?}): invariant broken: {e}", s.desc().name)));
        }
        match ret {
            Some(r) => prop_assert!(valid_return(r), "{}({args:x?}) returned {r}", s.desc().name),
            None => {
                // Blocked (or dead): it must be asleep inside this very call; then SIGKILL.
                let st = w.k.task(t).map(|x| (x.state, x.syscall.as_ref().and_then(|p| p.sysno)));
                prop_assert!(matches!(st, Some((TaskState::Sleeping, Some(x))) if x == s) || matches!(st, None | Some((TaskState::Zombie, _))), "{}({args:x?}) neither returned nor sleeps in it: {st:?}", s.desc().name);
                let r = w.call(w.reaper, Sysno::Kill, [t as u64, 9, 0, 0, 0, 0]);
                prop_assert_eq!(r, Some(0));
                if let Err(e) = w.k.check_invariants() {
                    return Err(TestCaseError::fail(format!("after killing the sleeper of {}: {e}", s.desc().name)));
                }
                prop_assert!(w.k.uffd_sleepers().is_empty(), "a killed task still sleeps on a userfault");
                return Ok(());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn garbage_arguments_return_an_errno(seq in prop::collection::vec((any::<usize>(), any::<[(u8, u64); 6]>().prop_map(|mut a| { for x in a.iter_mut() { x.0 %= 20; } a })), 1..8)) {
        run(seq)?;
    }
}
