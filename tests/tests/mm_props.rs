//! Address spaces against a model: random mmap (private/shared anonymous, MAP_FIXED in a
//! 6-page window), munmap, mprotect, MADV_DONTNEED, fork and exit among up to three
//! processes, with one-byte loads and stores (kernel copies) in between. Every load must
//! see what the model says (copy-on-write: a process sees its own stores and, for shared
//! memory, everyone's), every access must fault exactly when the protection says so, and
//! the kernel's invariants (frame reference counts = mappings) must hold after each step.

use hal_sim::{SimConfig, SimHal};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::uapi::mman::*;
use kernel::{KEvent, Kernel, KernelConfig, Pid};
use proptest::prelude::*;
use std::collections::BTreeMap;

const BASE: u64 = 0x6000_0000_0000;
const PAGES: u64 = 6;
const PAGE: u64 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backing {
    /// Private anonymous: the value lives in the process.
    Private(u8),
    /// Shared anonymous: object id and page offset.
    Shared(u64, u64),
}

#[derive(Clone, Debug, Default)]
struct Proc {
    /// page index -> (prot, backing)
    pages: BTreeMap<u64, (u64, Backing)>,
}

#[derive(Clone, Debug)]
enum Op {
    Mmap { p: usize, start: u64, n: u64, prot: u64, shared: bool },
    Munmap { p: usize, start: u64, n: u64 },
    Mprotect { p: usize, page: u64, prot: u64 },
    Dontneed { p: usize, start: u64, n: u64 },
    Store { p: usize, page: u64, v: u8 },
    Load { p: usize, page: u64 },
    Fork { p: usize },
    Exit { p: usize },
}

fn prot() -> impl Strategy<Value = u64> {
    prop_oneof![Just(PROT_NONE), Just(PROT_READ), Just(PROT_READ | PROT_WRITE), Just(PROT_EXEC), Just(PROT_WRITE)]
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0usize..3;
    let page = 0..PAGES;
    prop_oneof![
        2 => (p.clone(), page.clone(), 1..5u64, prot(), any::<bool>()).prop_map(|(p, start, n, prot, shared)| Op::Mmap { p, start, n, prot, shared }),
        1 => (p.clone(), page.clone(), 1..5u64).prop_map(|(p, start, n)| Op::Munmap { p, start, n }),
        1 => (p.clone(), page.clone(), prot()).prop_map(|(p, page, prot)| Op::Mprotect { p, page, prot }),
        1 => (p.clone(), page.clone(), 1..5u64).prop_map(|(p, start, n)| Op::Dontneed { p, start, n }),
        4 => (p.clone(), page.clone(), 1..=255u8).prop_map(|(p, page, v)| Op::Store { p, page, v }),
        4 => (p.clone(), page.clone()).prop_map(|(p, page)| Op::Load { p, page }),
        2 => (p.clone()).prop_map(|p| Op::Fork { p }),
        1 => (1usize..3).prop_map(|p| Op::Exit { p }),
    ]
}

fn syscall(k: &mut Kernel<SimHal>, pid: Pid, s: Sysno, args: [u64; 6]) -> i64 {
    let nr = s.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
    k.submit(pid, nr, args).expect("submit");
    while k.step() {}
    let mut ret = None;
    for e in k.take_events() {
        if let KEvent::SyscallReturn { pid: p, ret: r, .. } = e {
            if p == pid {
                ret = Some(r);
            }
        }
    }
    ret.expect("the call returned")
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut k = Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 }), KernelConfig::default());
    let first = k.create_process(Cred::new(1000, 1000), "mm", 0).expect("spawn");
    let mut procs: Vec<Option<(Pid, Proc)>> = vec![Some((first, Proc::default())), None, None];
    let mut shm: BTreeMap<(u64, u64), u8> = BTreeMap::new();
    let mut next_shm = 0;
    for (step, op) in ops.into_iter().enumerate() {
        let who = match &op {
            Op::Mmap { p, .. } | Op::Munmap { p, .. } | Op::Mprotect { p, .. } | Op::Dontneed { p, .. } | Op::Store { p, .. } | Op::Load { p, .. } | Op::Fork { p } | Op::Exit { p } => *p,
        };
        let Some((pid, _)) = procs[who].clone() else { continue };
        let free_slot = procs.iter().position(Option::is_none);
        let m = &mut procs[who].as_mut().expect("live").1;
        let ctx = format!("step {step}: {op:?}");
        match op {
            Op::Mmap { start, n, prot, shared, .. } => {
                let n = n.min(PAGES - start);
                let flags = MAP_FIXED | MAP_ANONYMOUS | if shared { MAP_SHARED } else { MAP_PRIVATE };
                let r = syscall(&mut k, pid, Sysno::Mmap, [BASE + start * PAGE, n * PAGE, prot, flags, u64::MAX, 0]);
                prop_assert_eq!(r as u64, BASE + start * PAGE, "{}", ctx);
                next_shm += 1;
                for i in 0..n {
                    let b = if shared { Backing::Shared(next_shm, i) } else { Backing::Private(0) };
                    m.pages.insert(start + i, (prot, b));
                }
            }
            Op::Munmap { start, n, .. } => {
                let r = syscall(&mut k, pid, Sysno::Munmap, [BASE + start * PAGE, n * PAGE, 0, 0, 0, 0]);
                prop_assert_eq!(r, 0, "{}", ctx);
                for i in start..start + n {
                    m.pages.remove(&i);
                }
            }
            Op::Mprotect { page, prot, .. } => {
                let r = syscall(&mut k, pid, Sysno::Mprotect, [BASE + page * PAGE, PAGE, prot, 0, 0, 0]);
                match m.pages.get_mut(&page) {
                    Some(e) => {
                        prop_assert_eq!(r, 0, "{}", ctx);
                        e.0 = prot;
                    }
                    None => prop_assert_eq!(r, -12, "{}", ctx),
                }
            }
            Op::Dontneed { start, n, .. } => {
                let r = syscall(&mut k, pid, Sysno::Madvise, [BASE + start * PAGE, n * PAGE, MADV_DONTNEED, 0, 0, 0]);
                // A hole anywhere in the range (there is always one past the window's
                // mappings) is ENOMEM; the mapped pages are dropped either way.
                let hole = (start..start + n).any(|i| !m.pages.contains_key(&i));
                prop_assert_eq!(r, if hole { -12 } else { 0 }, "{}", ctx);
                for i in start..start + n {
                    if let Some((_, Backing::Private(v))) = m.pages.get_mut(&i) {
                        *v = 0;
                    }
                }
            }
            Op::Store { page, v, .. } => {
                let mut b = [v];
                let r = k.user_mode_access(pid, BASE + page * PAGE + 7, &mut b, true);
                match m.pages.get_mut(&page) {
                    Some((prot, back)) if *prot & PROT_WRITE != 0 => {
                        prop_assert!(r.is_ok(), "{}: {:?}", ctx, r);
                        match back {
                            Backing::Private(x) => *x = v,
                            Backing::Shared(id, off) => {
                                shm.insert((*id, *off), v);
                            }
                        }
                    }
                    _ => prop_assert!(r.is_err(), "{}: the store succeeded", ctx),
                }
            }
            Op::Load { page, .. } => {
                let mut b = [0u8];
                let r = k.user_mode_access(pid, BASE + page * PAGE + 7, &mut b, false);
                match m.pages.get(&page) {
                    Some((prot, back)) if *prot != PROT_NONE => {
                        prop_assert!(r.is_ok(), "{}: {:?}", ctx, r);
                        let want = match back {
                            Backing::Private(x) => *x,
                            Backing::Shared(id, off) => shm.get(&(*id, *off)).copied().unwrap_or(0),
                        };
                        prop_assert_eq!(b[0], want, "{}", ctx);
                    }
                    _ => prop_assert!(r.is_err(), "{}: the load succeeded", ctx),
                }
            }
            Op::Fork { .. } => {
                let Some(slot) = free_slot else { continue };
                let child_model = m.clone();
                let child = syscall(&mut k, pid, Sysno::Fork, [0; 6]);
                prop_assert!(child > 0, "{}: fork returned {}", ctx, child);
                procs[slot] = Some((child as Pid, child_model));
            }
            Op::Exit { .. } => {
                let nr = Sysno::ExitGroup.desc().nr(Arch::X86_64).expect("nr") as u64;
                k.submit(pid, nr, [0; 6]).expect("submit");
                while k.step() {}
                let _ = k.take_events().count();
                procs[who] = None;
            }
        }
        if let Err(e) = k.check_invariants() {
            prop_assert!(false, "{}: {}", ctx, e);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn address_spaces_follow_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops)?;
    }
}
