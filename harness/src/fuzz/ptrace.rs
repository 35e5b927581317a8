//! The `ptrace` fuzz target: typed sequences of ptrace/seccomp/prctl/wait4/kill/getppid
//! calls among three tasks, generated from the syscall table with `arbitrary`.
//!
//! Each call's arguments come from the table's argument kinds: an enum argument is one of
//! its named values (or, rarely, any number), a flag argument an OR of its named flags, a
//! pid one of the three tasks' pids, 0, -1 or their negations, a signal `0..=64`, a
//! pointer one of the prepared blobs in the caller's scratch arena (seccomp filters) or
//! its output area, NULL or a wild address; plain integers come from a dictionary of the
//! constants that matter here (`PTRACE_O_*` sets, signals, small numbers) or are raw.

use crate::world::arena_for;
use arbitrary::{Result, Unstructured};
use hal_sim::{SimConfig, SimHal};
use kernel::security::cred::Cred;
use kernel::syscalls::desc::ArgKind;
use kernel::syscalls::{Arch, Sysno};
use kernel::uapi::capability::CAP_SYS_ADMIN;
use kernel::uapi::ptrace::*;
use kernel::{KEvent, Kernel, KernelConfig, Pid};

/// The syscalls the target makes.
const CALLS: [Sysno; 6] = [Sysno::Ptrace, Sysno::Seccomp, Sysno::Prctl, Sysno::Wait4, Sysno::Kill, Sysno::Getppid];

/// Calls per input at most (an input is a short story, not a soak test).
const MAX_CALLS: usize = 64;

/// Blob offsets in a task's arena: `struct sock_fprog`s for four filters (the filter
/// instructions follow each at +16), then an output area.
const FPROG_SLOTS: [(u64, u32); 4] = [(0x000, 0x7fff_0000), (0x100, 0x0005_0001), (0x200, 0x7ff0_0000), (0x300, 0)];
const OUT_AREA: u64 = 0x1000;

/// The jail's filter: `getppid` fails with `EPERM`, everything else is allowed.
fn jail_filter(getppid: u32, deny: u32) -> [(u16, u8, u8, u32); 4] {
    [
        (0x20, 0, 0, 0),            // ld [nr]
        (0x15, 0, 1, getppid),      // jeq getppid ? next : skip one
        (0x06, 0, 0, deny),         // ret <deny>
        (0x06, 0, 0, 0x7fff_0000),  // ret ALLOW
    ]
}

fn nr(s: Sysno) -> u64 {
    s.desc().nr(Arch::X86_64).map(u64::from).unwrap_or(u64::MAX)
}

struct Target {
    k: Kernel<SimHal>,
    /// user (uid 1000), root, jailed (uid 1000, no_new_privs, getppid denied).
    pids: [Pid; 3],
    /// The jailed task's current call was rewritten by a tracer's `PTRACE_SETREGS` at a
    /// stop: 4.3 runs seccomp before the syscall-entry stop and does not re-check, so a
    /// tracer may turn any call into any other (the design the spec describes; 4.8
    /// reordered it). Such a call is not a bypass of the invariant below.
    rewritten: bool,
    /// `K43_FUZZ_TRACE=1`: print each call and what came of it (for replaying a crash).
    verbose: bool,
}

impl Target {
    fn new(bugcompat: bool) -> Option<Target> {
        let mut k = Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 8 << 20, cpus: 1 }), KernelConfig::default());
        if bugcompat {
            k.admin_sysctl_write("kernel.k43_bugcompat_ptrace_seize_suspend_seccomp", "1").ok()?;
        }
        let verbose = std::env::var_os("K43_FUZZ_TRACE").is_some_and(|v| v == "1");
        let mut t = Target { k, pids: [0; 3], rewritten: false, verbose };
        for who in 0..3 {
            t.respawn(who)?;
        }
        Some(t)
    }

    /// (Re)creates task `who` with its arena blobs; the jailed one is confined.
    fn respawn(&mut self, who: usize) -> Option<()> {
        let cred = if who == 1 { Cred::new(0, 0) } else { Cred::new(1000, 1000) };
        let pid = self.k.create_process(cred, ["user", "root", "jailed"][who], 0).ok()?;
        self.pids[who] = pid;
        let arena = arena_for(pid);
        let getppid = nr(Sysno::Getppid) as u32;
        for (off, deny) in FPROG_SLOTS {
            let mut insns = alloc::vec::Vec::new();
            for (code, jt, jf, kk) in jail_filter(getppid, deny) {
                insns.extend_from_slice(&code.to_le_bytes());
                insns.extend_from_slice(&[jt, jf]);
                insns.extend_from_slice(&kk.to_le_bytes());
            }
            let mut fprog = [0u8; 16];
            fprog[..2].copy_from_slice(&4u16.to_le_bytes());
            fprog[8..].copy_from_slice(&(arena + off + 16).to_le_bytes());
            self.k.user_mode_access(pid, arena + off, &mut fprog, true).ok()?;
            self.k.user_mode_access(pid, arena + off + 16, &mut insns, true).ok()?;
        }
        if who == 2 {
            // prctl(PR_SET_NO_NEW_PRIVS, 1), then seccomp(SET_MODE_FILTER, 0, <ERRNO(EPERM) getppid>).
            for (s, args) in [(Sysno::Prctl, [38, 1, 0, 0, 0, 0]), (Sysno::Seccomp, [1, 0, arena + FPROG_SLOTS[1].0, 0, 0, 0])] {
                self.k.submit(pid, nr(s), args).ok()?;
                while self.k.step() {}
                let ok = self.k.take_events().any(|e| matches!(e, KEvent::SyscallReturn { ret: 0, .. }));
                assert!(ok, "the jail could not be set up");
            }
        }
        Some(())
    }

    fn pid_arg(&self, u: &mut Unstructured<'_>) -> Result<u64> {
        let p = self.pids[u.choose_index(3)?] as i64;
        Ok(match u.int_in_range(0..=7u8)? {
            0 => 0,
            1 => -1i64 as u64,
            2 => p.wrapping_neg() as u64,
            3 => u.arbitrary::<i32>()? as i64 as u64,
            _ => p as u64,
        })
    }

    fn ptr_arg(&self, u: &mut Unstructured<'_>, caller: Pid) -> Result<u64> {
        let arena = arena_for(caller);
        Ok(match u.int_in_range(0..=7u8)? {
            0 => 0,
            1 => u.arbitrary()?,
            2..=4 => arena + FPROG_SLOTS[u.choose_index(FPROG_SLOTS.len())?].0,
            _ => arena + OUT_AREA,
        })
    }

    fn int_arg(&self, u: &mut Unstructured<'_>, caller: Pid) -> Result<u64> {
        Ok(match u.int_in_range(0..=9u8)? {
            0 => u.arbitrary()?,
            1 | 2 => u.int_in_range(0..=64)?,
            3 => self.ptr_arg(u, caller)?,
            // PTRACE_O_* sets, SUSPEND_SECCOMP and EXITKILL often.
            _ => {
                let mut v = u.arbitrary::<u8>()? as u64;
                if u.ratio(1, 2)? {
                    v |= PTRACE_O_SUSPEND_SECCOMP;
                }
                if u.ratio(1, 4)? {
                    v |= PTRACE_O_EXITKILL;
                }
                v
            }
        })
    }

    /// One argument of `kind`, for a call made by `caller`.
    fn arg(&self, u: &mut Unstructured<'_>, kind: ArgKind, caller: Pid) -> Result<u64> {
        if let Some(v) = super::named_arg(u, kind)? {
            return Ok(v);
        }
        Ok(match kind {
            ArgKind::Pid => self.pid_arg(u)?,
            ArgKind::Signal => u.int_in_range(0..=65)?,
            ArgKind::Ptr | ArgKind::WaitStatus | ArgKind::Struct(..) | ArgKind::OutBuf { .. } | ArgKind::InBuf { .. } => self.ptr_arg(u, caller)?,
            _ => self.int_arg(u, caller)?,
        })
    }

    /// Makes one generated call and checks the invariants afterwards.
    fn call(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let who = u.choose_index(3)?;
        let sysno = CALLS[u.choose_index(CALLS.len())?];
        let caller = self.pids[who];
        let mut args = [0u64; 6];
        for (i, a) in sysno.desc().args.iter().enumerate() {
            args[i] = self.arg(u, a.kind, caller)?;
        }
        let Some(t) = self.k.task(caller) else {
            self.respawn(who);
            return Ok(());
        };
        if t.state == kernel::kernel::task::TaskState::Zombie {
            self.respawn(who);
            return Ok(());
        }
        if self.k.submit(caller, nr(sysno), args).is_err() {
            return Ok(()); // inside a call already (stopped or sleeping)
        }
        if who == 2 {
            self.rewritten = false;
        }
        for _ in 0..16 {
            if !self.k.step() {
                break;
            }
        }
        let events: alloc::vec::Vec<_> = self.k.take_events().collect();
        if self.verbose {
            let name = ["user", "root", "jailed"][who];
            std::eprintln!("{name} (pid {caller}): {}({:x?}) -> {:?}", sysno.desc().name, &args[..sysno.desc().args.len()], events.iter().filter(|e| matches!(e, KEvent::SyscallReturn { .. } | KEvent::Exited { .. })).collect::<alloc::vec::Vec<_>>());
        }
        for ev in events {
            match ev {
                KEvent::SyscallReturn { pid, sysno: Some(Sysno::Getppid), ret } if pid == self.pids[2] && ret >= 0 && !self.rewritten => self.check_suspended_by_admin(),
                KEvent::SyscallReturn { pid, sysno: Some(Sysno::Ptrace), ret: 0 } if pid == caller && args[0] == PTRACE_SETREGS && args[1] as i32 == self.pids[2] => self.rewritten = true,
                _ => {}
            }
        }
        if let Err(e) = self.k.check_invariants() {
            panic!("invariant broken after {}: {e}", sysno.desc().name);
        }
        Ok(())
    }

    /// The confined task got past its filter: only a tracer with CAP_SYS_ADMIN in the
    /// initial user namespace that set PTRACE_O_SUSPEND_SECCOMP may allow that.
    fn check_suspended_by_admin(&self) {
        let link = self.k.task(self.pids[2]).map(|t| t.ptrace.clone()).unwrap_or_default();
        let admin = self.k.task(link.tracer).is_some_and(|t| t.cred.has_cap(CAP_SYS_ADMIN) && t.cred.user_ns.is_init());
        assert!(
            link.options & PTRACE_O_SUSPEND_SECCOMP != 0 && admin,
            "seccomp bypassed: the confined task ran getppid traced by {} (options {:#x}) without CAP_SYS_ADMIN",
            link.tracer,
            link.options
        );
    }
}

/// The `ptrace` target. After every call the kernel's invariants hold (a traced task's
/// tracer exists, ptrace and group stops are consistent, reference counts…), and the
/// confined task never gets past its filter unless traced with `PTRACE_O_SUSPEND_SECCOMP`
/// by a tracer with CAP_SYS_ADMIN in the initial user namespace. `bugcompat` turns on
/// 4.3's CVE-2022-30594 behaviour (PTRACE_SEIZE skipping that check), which this
/// invariant must catch.
pub fn ptrace_sequence(data: &[u8], bugcompat: bool) {
    let Some(mut t) = Target::new(bugcompat) else { return };
    let mut u = Unstructured::new(data);
    for _ in 0..MAX_CALLS {
        if u.is_empty() || t.call(&mut u).is_err() {
            break;
        }
    }
}
