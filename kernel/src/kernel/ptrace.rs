//! `ptrace(2)` (`kernel/ptrace.c`, 4.3) in the run-to-completion model.
//!
//! Every ptrace stop is taken inside a syscall: the tracee's pending syscall is parked
//! (state `t (tracing stop)`, a `Blocked` event, so a trace shows `<unfinished ...>`) and
//! re-run from the top when the tracer resumes it. Stops:
//! - a stop signalled while the tracee was in user mode (the `PTRACE_ATTACH` SIGSTOP, a
//!   `PTRACE_INTERRUPT` trap) is taken when it next enters the kernel; a tracee sleeping
//!   in a syscall is woken and stops at once (its syscall restarts after the stop, as
//!   `-ERESTARTSYS` does); so is exec's stop (`PTRACE_EVENT_EXEC` with TRACEEXEC, else the
//!   legacy SIGTRAP for a non-seized tracee), taken at the new program's first syscall;
//! - syscall-entry (after seccomp) and syscall-exit stops under `PTRACE_SYSCALL`,
//!   `SIGTRAP`, or `SIGTRAP|0x80` with `PTRACE_O_TRACESYSGOOD`.
//!
//! Registers: k43 has no user register file. `PTRACE_GETREGS` builds x86_64's
//! `struct user_regs_struct` (27 longs) from the syscall in progress: `orig_rax` = the
//! syscall number, `rax` = `-ENOSYS` at the entry stop / the return value at the exit
//! stop, `rdi rsi rdx r10 r8 r9` = the arguments, every other register 0. `PTRACE_SETREGS`
//! at an entry stop changes the syscall that runs (`orig_rax == -1` skips it, returning
//! `rax`), at an exit stop the value returned. A call seccomp skipped (ERRNO, TRACE with
//! no tracer) shows `orig_rax = -1` and `rax` = its return value at the entry stop, as
//! 4.3's `syscall_trace_enter` does. arm64 has no `PTRACE_GETREGS` (it uses
//! `PTRACE_GETREGSET`, not modelled): `EIO`, as Linux.
//!
//! - signal-delivery-stops for signals sent to the tracee (`kernel/signal.rs`), taken at
//!   its next kernel entry like the traps above.
//!
//! The `data` of CONT/SYSCALL/DETACH: after a signal-delivery-stop it is the signal
//! delivered instead (0: none); after a syscall stop it is sent to the tracee
//! (`send_sig` in 4.3's `tracehook_report_syscall_*`, so it comes back as a
//! signal-delivery-stop); after an event stop or a group stop it is ignored, as in Linux.
//! A stop signal the tracer lets through stops the tracee in a group stop reported as
//! `PTRACE_EVENT_STOP` (seized) or `stopped(sig)`.
//!
//! `PTRACE_LISTEN` (seized tracees at a `PTRACE_EVENT_STOP`: a group stop or an
//! INTERRUPT trap) leaves the tracee stopped but no longer ptrace-stopped: `wait4` does
//! not report it and requests other than KILL/INTERRUPT fail with ESRCH, until
//! `PTRACE_INTERRUPT` or a `SIGCONT` makes it trap again (`ptrace_trap_notify`).
//!
//! Not modelled: auto-attach options (TRACEFORK/VFORK/CLONE/VFORKDONE/EXIT are accepted
//! and have no effect), a tracer reaping a traced non-child's exit (a tracee that exits
//! is unlinked at once and its parent reaps it; so `PTRACE_KILL` on a dead tracee is
//! ESRCH here, where Linux answers 0 until the tracer has reaped it).

use super::task::TaskState;
use super::{KEvent, Kernel, Pid};
use crate::hal::Hal;
use crate::syscalls::dispatch::SysResult;
use crate::syscalls::Sysno;
use crate::uapi::ptrace::*;
use crate::uapi::signal::{SIGKILL, SIGSTOP, SIGTRAP};
use crate::uapi::wait::stopped;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// A task's ptrace state (`task->ptrace`, `ptrace_message`, `jobctl` traps).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PtraceLink {
    /// The tracer thread; 0 when not traced.
    pub tracer: Pid,
    /// Attached with `PTRACE_SEIZE`.
    pub seized: bool,
    /// `PTRACE_O_*` options.
    pub options: u64,
    /// Resumed with `PTRACE_SYSCALL` (`TIF_SYSCALL_TRACE`).
    pub syscall_trace: bool,
    /// The `wait4` status of the ptrace stop the task is in.
    pub stop: Option<i32>,
    /// That stop was already reported by `wait4`.
    pub reported: bool,
    /// A stop to take at the next kernel entry (attach SIGSTOP, INTERRUPT trap).
    pub pending_stop: Option<i32>,
    /// `ptrace_message` (`PTRACE_GETEVENTMSG`).
    pub message: u64,
    /// What the restart `data` of the current stop does.
    pub inject: Inject,
    /// `JOBCTL_LISTENING`: stopped after `PTRACE_LISTEN`.
    pub listening: bool,
}

/// What a restart request's signal (`data`) does, by the kind of stop it ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Inject {
    /// Event stops and group stops: ignored.
    #[default]
    Ignore,
    /// Signal-delivery-stop: the signal delivered in place of the one that stopped.
    Deliver,
    /// Syscall stops: sent to the tracee as a new signal.
    Send,
}

/// The `wait4` status of a ptrace event stop.
pub const fn event_status(event: i32) -> i32 {
    stopped(SIGTRAP) | (event << 16)
}

fn valid_signal(data: u64) -> bool {
    data <= 64
}

impl<H: Hal> Kernel<H> {
    /// `__ptrace_may_access` + `cap_ptrace_access_check` (4.3: the caller's real ids).
    pub(crate) fn ptrace_may_access(&self, tracer: Pid, target: Pid) -> bool {
        let (Some(me), Some(t)) = (self.task(tracer), self.task(target)) else { return false };
        if me.tgid == t.tgid {
            return true;
        }
        let (c, tc) = (&me.cred, &t.cred);
        let has_cap = |ns| crate::security::commoncap::ns_capable(c, ns, crate::uapi::capability::CAP_SYS_PTRACE);
        let same_ids = c.uid == tc.euid && c.uid == tc.suid && c.uid == tc.uid && c.gid == tc.egid && c.gid == tc.sgid && c.gid == tc.gid;
        if !same_ids && !has_cap(&tc.user_ns) {
            return false;
        }
        let dumpable = self.mms.get(&t.mm).map(|m| m.dumpable).unwrap_or(1);
        if dumpable != 1 && !has_cap(&tc.user_ns) {
            return false;
        }
        // commoncap: the target's permitted set within ours, or CAP_SYS_PTRACE over it.
        (c.user_ns == tc.user_ns && tc.cap_permitted & !c.cap_permitted == 0) || has_cap(&tc.user_ns)
    }

    fn traced_by(&self, pid: Pid, tracer: Pid) -> bool {
        self.task(pid).is_some_and(|t| t.ptrace.tracer == tracer && t.state != TaskState::Zombie)
    }

    /// Puts `pid` (inside its syscall) into a ptrace stop with `status` and tells the
    /// tracer.
    pub(crate) fn ptrace_stop(&mut self, pid: Pid, status: i32, inject: Inject) {
        let Some(t) = self.tasks.get_mut(&pid) else { return };
        t.state = TaskState::Traced;
        t.nvcsw += 1;
        t.ptrace.stop = Some(status);
        t.ptrace.inject = inject;
        t.ptrace.reported = false;
        let tracer = t.ptrace.tracer;
        self.sched.runq.retain(|&p| p != pid);
        self.events.push_back(KEvent::Blocked { pid });
        if let Some(tg) = self.task(tracer).map(|t| t.tgid) {
            let wq = self.child_waitqueue(tg);
            self.wake_up(wq);
        }
    }

    /// Leaves a ptrace stop: the parked syscall runs again from the top.
    fn ptrace_resume_task(&mut self, pid: Pid) {
        let Some(t) = self.tasks.get_mut(&pid) else { return };
        if t.state != TaskState::Traced {
            return;
        }
        t.ptrace.stop = None;
        t.ptrace.reported = false;
        t.state = TaskState::Running;
        if t.syscall.is_some() && !self.sched.runq.contains(&pid) {
            self.sched.runq.push(pid);
        }
    }

    /// Stops that happen when the syscall (re-)enters: a pending trap, then the
    /// syscall-entry stop. `true` when the task stopped.
    pub(crate) fn ptrace_entry_stops(&mut self, pid: Pid, after_seccomp: bool) -> bool {
        let Some(t) = self.tasks.get_mut(&pid) else { return false };
        if t.ptrace.tracer == 0 {
            return false;
        }
        if !after_seccomp {
            // Traps and the attach SIGSTOP first; event traps ignore the restart signal.
            if let Some(st) = t.ptrace.pending_stop.take() {
                let inject = if st >> 16 != 0 { Inject::Ignore } else { Inject::Deliver };
                self.ptrace_stop(pid, st, inject);
                return true;
            }
            if let Some(sig) = self.dequeue_signal(pid) {
                self.ptrace_stop(pid, stopped(sig), Inject::Deliver);
                return true;
            }
            return false;
        }
        let sysgood = t.ptrace.options & PTRACE_O_TRACESYSGOOD != 0;
        let Some(p) = t.syscall.as_mut() else { return false };
        if t.ptrace.syscall_trace && !p.entry_stopped {
            p.entry_stopped = true;
            let sig = if sysgood { SIGTRAP | 0x80 } else { SIGTRAP };
            self.ptrace_stop(pid, stopped(sig), Inject::Send);
            return true;
        }
        false
    }

    /// The syscall-exit stop: `true` when the task stopped with `ret` kept for the re-run.
    pub(crate) fn ptrace_exit_stop(&mut self, pid: Pid, ret: i64) -> bool {
        let Some(t) = self.tasks.get_mut(&pid) else { return false };
        if t.ptrace.tracer == 0 || !t.ptrace.syscall_trace {
            return false;
        }
        let sysgood = t.ptrace.options & PTRACE_O_TRACESYSGOOD != 0;
        let Some(p) = t.syscall.as_mut() else { return false };
        if p.exit_ret.is_some() {
            return false;
        }
        p.exit_ret = Some(ret);
        let sig = if sysgood { SIGTRAP | 0x80 } else { SIGTRAP };
        self.ptrace_stop(pid, stopped(sig), Inject::Send);
        true
    }

    /// Asks a traced task to stop with `status` as soon as it can.
    fn ptrace_signal_stop(&mut self, pid: Pid, status: i32) {
        let Some(t) = self.tasks.get_mut(&pid) else { return };
        if t.state == TaskState::Traced {
            return;
        }
        t.ptrace.pending_stop = Some(status);
        if t.state == TaskState::Sleeping && t.syscall.is_some() {
            self.interrupt_sleep(pid);
        }
    }

    /// A stop signal the tracer let through: the tracee stops in a group stop, which a
    /// tracer sees as `PTRACE_EVENT_STOP` (seized) or `stopped(sig)`.
    pub(crate) fn ptrace_group_stop(&mut self, pid: Pid, sig: i32) {
        let Some(t) = self.task(pid) else { return };
        if t.syscall.is_none() {
            return;
        }
        let status = if t.ptrace.seized { stopped(sig) | (PTRACE_EVENT_STOP << 16) } else { stopped(sig) };
        self.ptrace_stop(pid, status, Inject::Ignore);
    }

    /// `ptrace_trap_notify` for a listening tracee: it traps again with a fresh
    /// `PTRACE_EVENT_STOP` (`sig`, or the signal of the stop it was in), reported to the
    /// tracer.
    pub(crate) fn ptrace_trap_notify(&mut self, pid: Pid, sig: Option<i32>) {
        let Some(t) = self.tasks.get_mut(&pid) else { return };
        if !t.ptrace.listening {
            return;
        }
        let sig = sig.or(t.ptrace.stop.map(|st| (st >> 8) & 0xff)).unwrap_or(SIGTRAP);
        t.ptrace.listening = false;
        t.ptrace.stop = Some(stopped(sig) | (PTRACE_EVENT_STOP << 16));
        t.ptrace.reported = false;
        let tracer = t.ptrace.tracer;
        if let Some(tg) = self.task(tracer).map(|t| t.tgid) {
            let wq = self.child_waitqueue(tg);
            self.wake_up(wq);
        }
    }

    /// Acts on the restart signal `data` of the stop `pid` just left (`inject`), and on
    /// the signals it still has queued when it is no longer traced.
    fn ptrace_restart_signal(&mut self, pid: Pid, inject: Inject, data: u64) {
        let sig = data as i32;
        let traced = self.task(pid).is_some_and(|t| t.ptrace.tracer != 0);
        match inject {
            Inject::Ignore => {}
            _ if sig == 0 => {}
            Inject::Send if traced => self.send_signal(pid, self.task(pid).map(|t| t.tgid).unwrap_or(pid), sig),
            Inject::Deliver | Inject::Send => self.signal_default(pid, sig),
        }
        if !traced {
            while let Some(s) = self.dequeue_signal(pid) {
                self.signal_default(pid, s);
            }
        }
    }

    /// `__ptrace_detach`/`__ptrace_unlink`: the task is no longer traced and leaves any
    /// ptrace stop.
    pub(crate) fn ptrace_unlink(&mut self, pid: Pid) {
        let was_stopped = self.task(pid).is_some_and(|t| t.state == TaskState::Traced);
        if let Some(t) = self.tasks.get_mut(&pid) {
            t.ptrace = PtraceLink::default();
        }
        if was_stopped {
            if let Some(t) = self.tasks.get_mut(&pid) {
                t.state = TaskState::Traced;
            }
            self.ptrace_resume_task(pid);
        }
    }

    /// `exit_ptrace`: the tracer thread `pid` exits; its tracees are killed
    /// (`PTRACE_O_EXITKILL`) or detached and resumed.
    pub(crate) fn exit_ptrace(&mut self, pid: Pid) {
        let tracees: Vec<(Pid, bool)> = self.tasks.values().filter(|t| t.ptrace.tracer == pid && t.state != TaskState::Zombie).map(|t| (t.pid, t.ptrace.options & PTRACE_O_EXITKILL != 0)).collect();
        for (t, kill) in tracees {
            self.ptrace_unlink(t);
            if kill {
                self.force_sig_kill(t, SIGKILL);
            } else {
                self.ptrace_restart_signal(t, Inject::Ignore, 0);
            }
        }
    }

    /// For `wait4`: a traced task of the tracer group `tgid` with an unreported stop.
    pub(crate) fn ptrace_wait_candidates(&self, tgid: Pid) -> Vec<Pid> {
        self.tasks.values().filter(|t| t.ptrace.tracer != 0 && self.task(t.ptrace.tracer).is_some_and(|tr| tr.tgid == tgid)).map(|t| t.pid).collect()
    }

    /// Reports `pid`'s ptrace stop if it has an unreported one.
    pub(crate) fn ptrace_take_stop(&mut self, pid: Pid) -> Option<i32> {
        let t = self.tasks.get_mut(&pid)?;
        match t.ptrace.stop {
            Some(st) if !t.ptrace.reported && !t.ptrace.listening && t.state == TaskState::Traced => {
                t.ptrace.reported = true;
                Some(st)
            }
            _ => None,
        }
    }

    fn ptrace_attach(&mut self, pid: Pid, target: Pid, request: u64, addr: u64, flags: u64) -> SysResult {
        let seize = request == PTRACE_SEIZE;
        if seize {
            if addr != 0 || flags & !PTRACE_O_MASK != 0 {
                return Err(Errno::EIO.into());
            }
            // check_ptrace_options (the CVE-2022-30594 fix); 4.3 had no such check here.
            let bugcompat = self.vfs.sysctl.int("kernel/k43_bugcompat_ptrace_seize_suspend_seccomp").unwrap_or(0) != 0;
            if flags & PTRACE_O_SUSPEND_SECCOMP != 0 && !bugcompat {
                self.suspend_seccomp_allowed(pid)?;
            }
        }
        let me_tgid = self.task(pid).ok_or(Errno::ESRCH)?.tgid;
        let t = self.task(target).ok_or(Errno::ESRCH)?;
        // k43's init runs no user code: like a kernel thread (PF_KTHREAD) it cannot be traced.
        if t.tgid == me_tgid || t.tgid == super::INIT_PID {
            return Err(Errno::EPERM.into());
        }
        if !self.ptrace_may_access(pid, target) {
            return Err(Errno::EPERM.into());
        }
        let t = self.task(target).ok_or(Errno::ESRCH)?;
        if t.state == TaskState::Zombie || t.ptrace.tracer != 0 {
            return Err(Errno::EPERM.into());
        }
        let tt = self.tasks.get_mut(&target).ok_or(Errno::ESRCH)?;
        tt.ptrace = PtraceLink { tracer: pid, seized: seize, options: if seize { flags } else { 0 }, ..Default::default() };
        if !seize {
            self.ptrace_signal_stop(target, stopped(SIGSTOP));
        }
        Ok(0)
    }

    /// `cap_ptrace_traceme`: the parent must be able to trace us.
    fn ptrace_traceme(&mut self, pid: Pid) -> SysResult {
        let t = self.task(pid).ok_or(Errno::ESRCH)?;
        if t.ptrace.tracer != 0 {
            return Err(Errno::EPERM.into());
        }
        let parent = t.parent;
        let ok = match self.task(parent) {
            Some(p) => {
                (p.cred.user_ns == t.cred.user_ns && t.cred.cap_permitted & !p.cred.cap_permitted == 0)
                    || crate::security::commoncap::ns_capable(&p.cred, &t.cred.user_ns, crate::uapi::capability::CAP_SYS_PTRACE)
            }
            None => false,
        };
        if !ok || parent <= 0 {
            return Err(Errno::EPERM.into());
        }
        if let Some(t) = self.tasks.get_mut(&pid) {
            t.ptrace = PtraceLink { tracer: parent, ..Default::default() };
        }
        Ok(0)
    }

    /// `ptrace_setoptions` (4.3: SUSPEND_SECCOMP needs CAP_SYS_ADMIN in the initial
    /// namespace and an unfiltered, unsuspended tracer).
    fn ptrace_setoptions(&mut self, pid: Pid, child: Pid, data: u64) -> SysResult {
        if data & !PTRACE_O_MASK != 0 {
            return Err(Errno::EINVAL.into());
        }
        if data & PTRACE_O_SUSPEND_SECCOMP != 0 {
            self.suspend_seccomp_allowed(pid)?;
        }
        if let Some(t) = self.tasks.get_mut(&child) {
            t.ptrace.options = data;
        }
        Ok(0)
    }

    /// The checks 4.3 applies to `PTRACE_O_SUSPEND_SECCOMP` in `PTRACE_SETOPTIONS`.
    pub(crate) fn suspend_seccomp_allowed(&self, pid: Pid) -> Result<(), Errno> {
        let me = self.task(pid).ok_or(Errno::ESRCH)?;
        if !crate::security::commoncap::capable(&me.cred, crate::uapi::capability::CAP_SYS_ADMIN) {
            return Err(Errno::EPERM);
        }
        if me.seccomp.mode != 0 || me.ptrace.options & PTRACE_O_SUSPEND_SECCOMP != 0 && me.ptrace.tracer != 0 {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    fn user_regs(&self, child: Pid) -> [u64; 27] {
        let mut r = [0u64; 27];
        let Some(p) = self.task(child).and_then(|t| t.syscall.as_ref()) else { return r };
        let a = p.regs;
        r[REG_ORIG_RAX] = if p.skip_ret.is_some() { u64::MAX } else { p.nr };
        r[REG_RAX] = p.exit_ret.or(p.skip_ret).unwrap_or(Errno::ENOSYS.ret()) as u64;
        r[REG_RDI] = a[0];
        r[REG_RSI] = a[1];
        r[REG_RDX] = a[2];
        r[REG_R10] = a[3];
        r[REG_R8] = a[4];
        r[REG_R9] = a[5];
        r
    }

    fn set_user_regs(&mut self, child: Pid, r: [u64; 27]) {
        let arch = self.arch;
        let Some(p) = self.tasks.get_mut(&child).and_then(|t| t.syscall.as_mut()) else { return };
        if p.exit_ret.is_some() {
            p.exit_ret = Some(r[REG_RAX] as i64);
            return;
        }
        if r[REG_ORIG_RAX] as i64 == -1 {
            p.skip_ret = Some(r[REG_RAX] as i64);
            return;
        }
        p.skip_ret = None;
        p.nr = r[REG_ORIG_RAX];
        p.regs = [r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], r[REG_R9]];
        p.sysno = Sysno::from_nr(arch, p.nr);
        p.args = p.sysno.map(|s| s.desc().args_from_regs(arch, p.regs)).unwrap_or(p.regs);
    }

    /// `ptrace(2)`.
    pub(crate) fn sys_ptrace(&mut self, pid: Pid, request: u64, target: Pid, addr: u64, data: u64) -> SysResult {
        let request = request as u32 as u64;
        if request == PTRACE_TRACEME {
            return self.ptrace_traceme(pid);
        }
        if target <= 0 || self.task(target).is_none_or(|t| t.state == TaskState::Zombie && request != PTRACE_ATTACH && request != PTRACE_SEIZE) {
            return Err(Errno::ESRCH.into());
        }
        if request == PTRACE_ATTACH || request == PTRACE_SEIZE {
            return self.ptrace_attach(pid, target, request, addr, data);
        }
        // ptrace_check_attach: traced by this thread, and stopped unless KILL/INTERRUPT.
        if !self.traced_by(target, pid) {
            return Err(Errno::ESRCH.into());
        }
        let stopped_now = self.task(target).is_some_and(|t| t.state == TaskState::Traced && !t.ptrace.listening);
        if request != PTRACE_KILL && request != PTRACE_INTERRUPT && !stopped_now {
            return Err(Errno::ESRCH.into());
        }
        match request {
            PTRACE_PEEKTEXT | PTRACE_PEEKDATA => {
                let mut w = [0u8; 8];
                self.copy_from_user(target, addr, &mut w).map_err(|_| Errno::EIO)?;
                self.copy_to_user(pid, data, &w)?;
                Ok(0)
            }
            PTRACE_POKETEXT | PTRACE_POKEDATA => {
                self.copy_to_user(target, addr, &data.to_le_bytes()).map_err(|_| Errno::EIO)?;
                Ok(0)
            }
            PTRACE_SETOPTIONS => self.ptrace_setoptions(pid, target, data),
            PTRACE_GETEVENTMSG => {
                let m = self.task(target).map(|t| t.ptrace.message).unwrap_or(0);
                self.copy_to_user(pid, data, &m.to_le_bytes())?;
                Ok(0)
            }
            PTRACE_LISTEN => {
                let t = self.tasks.get_mut(&target).ok_or(Errno::ESRCH)?;
                if !t.ptrace.seized || t.ptrace.stop.is_none_or(|st| st >> 16 != PTRACE_EVENT_STOP) {
                    return Err(Errno::EIO.into());
                }
                t.ptrace.listening = true;
                Ok(0)
            }
            PTRACE_INTERRUPT => {
                if !self.task(target).is_some_and(|t| t.ptrace.seized) {
                    return Err(Errno::EIO.into());
                }
                if self.task(target).is_some_and(|t| t.ptrace.listening) {
                    self.ptrace_trap_notify(target, None);
                    return Ok(0);
                }
                self.ptrace_signal_stop(target, event_status(PTRACE_EVENT_STOP));
                Ok(0)
            }
            PTRACE_DETACH => {
                if !valid_signal(data) {
                    return Err(Errno::EIO.into());
                }
                let inject = self.task(target).map(|t| t.ptrace.inject).unwrap_or_default();
                self.ptrace_unlink(target);
                self.ptrace_restart_signal(target, inject, data);
                Ok(0)
            }
            PTRACE_CONT | PTRACE_SYSCALL => {
                if !valid_signal(data) {
                    return Err(Errno::EIO.into());
                }
                let inject = self.task(target).map(|t| t.ptrace.inject).unwrap_or_default();
                if let Some(t) = self.tasks.get_mut(&target) {
                    t.ptrace.syscall_trace = request == PTRACE_SYSCALL;
                }
                self.ptrace_resume_task(target);
                self.ptrace_restart_signal(target, inject, data);
                Ok(0)
            }
            PTRACE_KILL => {
                self.force_sig_kill(target, SIGKILL);
                Ok(0)
            }
            PTRACE_GETREGS | PTRACE_SETREGS if self.arch == crate::syscalls::Arch::X86_64 => {
                if request == PTRACE_GETREGS {
                    let r = self.user_regs(target);
                    let mut b = Vec::with_capacity(USER_REGS_SIZE);
                    for w in r {
                        b.extend_from_slice(&w.to_le_bytes());
                    }
                    self.copy_to_user(pid, data, &b)?;
                } else {
                    let mut b = [0u8; USER_REGS_SIZE];
                    self.copy_from_user(pid, data, &mut b)?;
                    let mut r = [0u64; 27];
                    for (i, w) in r.iter_mut().enumerate() {
                        *w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
                    }
                    self.set_user_regs(target, r);
                }
                Ok(0)
            }
            _ => Err(Errno::EIO.into()),
        }
    }
}

