//! Fuzz-target bodies, shared by `fuzz/` (cargo-fuzz) and the tests (which run them on
//! generated inputs), so a target and its regression test cannot drift apart.

use crate::sim::SimFactory;
use crate::{runner, scn};
use hal_sim::{SimConfig, SimHal};
use kernel::security::cred::Cred;
use kernel::syscalls::table::ALL;
use kernel::{Kernel, KernelConfig};

mod ptrace;
pub use ptrace::ptrace_sequence;
mod packet;
pub use packet::packet;
mod uffd;
pub use uffd::uffd_ops;
mod ext4;
pub use ext4::ext4_image;

/// A generated value for an enum or flag argument from the syscall table: mostly one of
/// the set's named values (an OR of named flags), now and then a raw number. `None` for
/// other kinds.
pub fn named_arg(u: &mut arbitrary::Unstructured<'_>, kind: kernel::syscalls::desc::ArgKind) -> arbitrary::Result<Option<u64>> {
    use kernel::syscalls::desc::ArgKind;
    Ok(match kind {
        ArgKind::Enum(set) if !u.ratio(1, 16)? => Some(set.values[u.choose_index(set.values.len())?].1),
        ArgKind::Enum(_) => Some(u.arbitrary::<u32>()? as u64),
        ArgKind::Flags(set) => {
            let mut v = 0;
            for (_, bits) in set.flags {
                if u.ratio(1, 3)? {
                    v |= bits;
                }
            }
            if u.ratio(1, 16)? {
                v |= u.arbitrary::<u32>()? as u64;
            }
            Some(v)
        }
        _ => None,
    })
}

/// Submits one syscall of `pid`, runs the kernel for at most `max_steps` steps and returns
/// what the call returned (`None`: it did not return, e.g. it sleeps). Other events are
/// dropped.
pub fn run_call(k: &mut Kernel<SimHal>, pid: kernel::Pid, s: kernel::syscalls::Sysno, args: [u64; 6], max_steps: usize) -> Option<i64> {
    let nr = s.desc().nr(kernel::syscalls::Arch::X86_64)? as u64;
    k.submit(pid, nr, args).ok()?;
    for _ in 0..max_steps {
        if !k.step() {
            break;
        }
    }
    let mut ret = None;
    for e in k.take_events() {
        if let kernel::KEvent::SyscallReturn { pid: p, ret: r, .. } = e {
            if p == pid {
                ret = Some(r);
            }
        }
    }
    ret
}

/// Any text either parses or yields a diagnostic that renders; a parsed scenario runs to
/// an outcome without panicking (with a small tick budget per statement).
pub fn scenario_text(data: &[u8]) {
    let Ok(src) = core::str::from_utf8(data) else { return };
    match scn::parse(src) {
        Ok(s) => {
            let _ = runner::run(&s, SimFactory { seed: data.len() as u64, capture: false, dir: None }, true);
        }
        Err(d) => {
            let _ = d.render("fuzz.scn", src);
        }
    }
}

/// Bytes read as a sequence of syscalls (one byte picks the syscall, 48 bytes the six
/// arguments) made by an unprivileged and a root process; the kernel must never panic and
/// its invariants must hold after every step.
pub fn syscall_sequence(data: &[u8]) {
    let mut k = Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 8 << 20, cpus: 1 }), KernelConfig::default());
    let mut pids = [
        k.create_process(Cred::new(1000, 1000), "user", 0).expect("spawn at boot"),
        k.create_process(Cred::new(0, 0), "root", 0).expect("spawn at boot"),
    ];
    for (n, chunk) in data.chunks_exact(49).enumerate() {
        let sysno = ALL[chunk[0] as usize % ALL.len()];
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&chunk[1 + 8 * i..9 + 8 * i]);
            *a = u64::from_le_bytes(b);
        }
        let who = n % 2;
        let Some(nr) = sysno.desc().nr(kernel::syscalls::Arch::X86_64) else { continue };
        if k.submit(pids[who], nr as u64, args).is_err() {
            let cred = if who == 0 { Cred::new(1000, 1000) } else { Cred::new(0, 0) };
            match k.create_process(cred, "again", 0) {
                Ok(p) => pids[who] = p,
                Err(_) => return,
            }
            continue;
        }
        for _ in 0..16 {
            if !k.step() {
                break;
            }
        }
        k.take_events().for_each(drop);
        if let Some(t) = k.next_timer() {
            k.hal.advance_to(t);
            k.run_timers();
        }
        if let Err(e) = k.check_invariants() {
            panic!("invariant broken after {}: {e}", sysno.desc().name);
        }
    }
}

/// Bytes read as a `struct seccomp_data` (64 bytes) and up to four classic-BPF filters
/// (each a little-endian `u16` instruction count, bounded by what is left, then the
/// instructions). Every filter goes through the 4.3 checker, which must not panic; an
/// accepted one must stop within its length in steps, end on a `RET`, and read only
/// aligned words of `seccomp_data`. The filters are then installed by a root task
/// through `seccomp(2)` and the syscall `seccomp_data` describes is made: the kernel's
/// verdict (skipped with an errno, killed, allowed) must be the one the filter chain
/// computes, and the kernel's invariants must hold.
pub fn seccomp_bpf(data: &[u8]) {
    use kernel::kernel::seccomp::bpf::{self, SeccompData};
    use kernel::kernel::seccomp::*;
    let Some(head) = data.get(..64) else { return };
    let mut sd_bytes = [0u8; 64];
    sd_bytes.copy_from_slice(head);
    let mut sd = SeccompData::from_bytes(&sd_bytes);
    // The kernel fills these in itself; keep the oracle's copy the same.
    sd.arch = AUDIT_ARCH_X86_64;
    sd.instruction_pointer = 0;
    let mut rest = &data[64..];
    let mut progs = alloc::vec::Vec::new();
    while rest.len() >= 2 && progs.len() < 4 {
        let want = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        let n = want.min((rest.len() - 2) / 8);
        progs.push((want, bpf::decode_prog(&rest[2..2 + 8 * n])));
        rest = &rest[2 + 8 * n..];
    }
    let mut accepted = alloc::vec::Vec::new();
    for (_, p) in &progs {
        let verdict = bpf::check(p);
        let clen = bpf::translated_len(p);
        assert!(clen as usize > p.len());
        if verdict.is_err() {
            continue;
        }
        let last = p.last().map(|f| f.code);
        assert!(matches!(last, Some(0x06 | 0x16)), "accepted a filter not ending in RET");
        for (pc, f) in p.iter().enumerate() {
            if f.code == 0x20 {
                assert!(f.k < 64 && f.k % 4 == 0, "accepted load at {}", f.k);
            }
            if f.code & 7 == 5 {
                let far = if f.code == 0x05 { f.k as usize } else { f.jt.max(f.jf) as usize };
                assert!(pc + 1 + far < p.len(), "accepted a jump out of the program");
            }
        }
        let (r, steps) = bpf::run(p, &sd);
        assert!(steps >= 1 && steps <= p.len(), "{steps} steps for {} instructions", p.len());
        assert_eq!(bpf::run(p, &sd).0, r);
        accepted.push(p.clone());
    }
    if accepted.is_empty() {
        return;
    }
    // The same filters through the kernel.
    let mut k = Kernel::new(SimHal::new(SimConfig { seed: 7, ram_bytes: 8 << 20, cpus: 1 }), KernelConfig::default());
    let Ok(pid) = k.create_process(Cred::new(0, 0), "fuzz", 0) else { return };
    let arena = crate::world::arena_for(pid);
    let mut chain: Option<alloc::sync::Arc<FilterNode>> = None;
    for (i, p) in accepted.iter().enumerate() {
        let mut insns: alloc::vec::Vec<u8> = p.iter().flat_map(|f| f.to_bytes()).collect();
        let mut fprog = [0u8; 16];
        fprog[0..2].copy_from_slice(&(p.len() as u16).to_le_bytes());
        fprog[8..16].copy_from_slice(&(arena + 16).to_le_bytes());
        if k.user_mode_access(pid, arena, &mut fprog, true).is_err() || k.user_mode_access(pid, arena + 16, &mut insns, true).is_err() {
            return;
        }
        // Filters after the first are installed only while the chain allows seccomp(2).
        if i > 0 {
            let sd317 = SeccompData { nr: 317, arch: AUDIT_ARCH_X86_64, instruction_pointer: 0, args: [1, 0, arena, 0, 0, 0] };
            let ret = chain.as_ref().map(|c| run_filters(c, &sd317)).unwrap_or(SECCOMP_RET_ALLOW);
            if ret & SECCOMP_RET_ACTION != SECCOMP_RET_ALLOW {
                break;
            }
        }
        if k.submit(pid, 317, [1, 0, arena, 0, 0, 0]).is_err() {
            return;
        }
        while k.step() {}
        let mut got = None;
        for e in k.take_events() {
            if let kernel::KEvent::SyscallReturn { ret, .. } = e {
                got = Some(ret);
            }
        }
        let clen = bpf::translated_len(p);
        let mut total = clen as u64;
        let mut w = chain.as_ref();
        while let Some(n) = w {
            total += n.clen as u64 + 4;
            w = n.prev.as_ref();
        }
        if total > MAX_INSNS_PER_PATH as u64 {
            assert_eq!(got, Some(-12), "expected ENOMEM");
            break;
        }
        assert_eq!(got, Some(0), "installing an accepted filter");
        chain = Some(alloc::sync::Arc::new(FilterNode { prog: p.clone(), clen, prev: chain.take() }));
    }
    let Some(top) = chain else { return };
    let want = run_filters(&top, &sd);
    let nr = sd.nr as u32 as u64;
    // Syscalls that would block or end the task on their own are not made.
    if matches!(nr, 0 | 7 | 23 | 34 | 35 | 56 | 57 | 58 | 59 | 60 | 61 | 62 | 230 | 231 | 247 | 317) && want & SECCOMP_RET_ACTION == SECCOMP_RET_ALLOW {
        return;
    }
    if k.submit(pid, nr, sd.args).is_err() {
        return;
    }
    for _ in 0..64 {
        if !k.step() {
            break;
        }
    }
    let mut ret = None;
    let mut exit = None;
    for e in k.take_events() {
        match e {
            kernel::KEvent::SyscallReturn { ret: r, .. } => ret = Some(r),
            kernel::KEvent::Exited { status, .. } => exit = Some(status),
            _ => {}
        }
    }
    let data = (want & SECCOMP_RET_DATA) as i64;
    match want & SECCOMP_RET_ACTION {
        SECCOMP_RET_ALLOW => {}
        SECCOMP_RET_ERRNO => assert_eq!(ret, Some(-data.min(4095)), "ERRNO verdict"),
        SECCOMP_RET_TRACE => assert_eq!(ret, Some(-38), "TRACE without a tracer"),
        _ => assert_eq!((ret, exit), (None, Some(kernel::uapi::wait::signaled(kernel::uapi::signal::SIGSYS, false))), "KILL/TRAP verdict"),
    }
    if let Err(e) = k.check_invariants() {
        panic!("invariant broken: {e}");
    }
}
