//! `kill(2)` and the default actions of signals (`kernel/signal.c`, 4.3).
//!
//! k43 has no signal handlers, masks or alternate stacks: every signal takes its default
//! action (`SIG_DFL`), which is what 4.3 does for a task that installed none.
//! - **Untraced**: a fatal signal ends the whole thread group at once (`complete_signal`'s
//!   fast path; the core-dump signals die the same way, because the default
//!   `RLIMIT_CORE` of 0 writes no core, so the status has no `0x80` bit); the
//!   ignore-by-default signals (`SIGCHLD SIGCONT SIGURG SIGWINCH`) are dropped by
//!   `prepare_signal`; a stop signal stops the group (`wait4(WUNTRACED)` reports it) and
//!   `SIGCONT` resumes it (`wait4(WCONTINUED)` reports `0xffff`).
//! - **Traced**: everything but `SIGKILL` is queued (even the ignored ones, as
//!   `sig_ignored` says for traced tasks) and taken as a signal-delivery-stop when the
//!   tracee next enters the kernel; the signal the tracer restarts it with is then acted
//!   on (`0` suppresses it).
//! - init (pid 1) is `SIGNAL_UNKILLABLE`: with no handlers, every signal sent to it is
//!   ignored, `SIGKILL` included.
//! - A signal sent to the caller's own thread group acts on the way back to user mode,
//!   after `kill` returned 0, as in Linux.
//!
//! Not modelled: sessions (k43 has no `setsid`, every task shares one session, so
//! `SIGCONT`'s same-session permission exception always applies), the orphaned
//! process group rule that discards `SIGTSTP/SIGTTIN/SIGTTOU`, real-time signal queueing
//! (a pending signal is one bit).

use super::task::TaskState;
use super::{Kernel, Pid};
use crate::hal::Hal;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::CAP_KILL;
use crate::uapi::signal::*;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `_NSIG`: signals are numbered 1..=64.
pub const NSIG: i32 = 64;

/// Per-task signal state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalState {
    /// Signals queued for a traced task (bit `sig - 1`), each taken as a
    /// signal-delivery-stop, lowest number first.
    pub pending: u64,
    /// Group leader: the signal that stopped the group, until `SIGCONT`.
    pub group_stop: Option<i32>,
    /// Group leader: that stop was reported by `wait4(WUNTRACED)` (`group_exit_code`
    /// cleared).
    pub stop_reported: bool,
    /// Group leader: resumed by `SIGCONT`, not yet reported to `wait4(WCONTINUED)`
    /// (`SIGNAL_STOP_CONTINUED`).
    pub continued: bool,
}

/// What a signal does when nobody handles it (`sig_kernel_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Ends the thread group.
    Terminate,
    /// Dropped.
    Ignore,
    /// Stops the thread group.
    Stop,
    /// Resumes a stopped group (and is otherwise ignored).
    Continue,
}

/// The default action of `sig` (`1..=64`).
pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        _ => DefaultAction::Terminate,
    }
}

fn bit(sig: i32) -> u64 {
    1u64 << ((sig - 1) as u32 & 63)
}

const STOP_MASK: u64 = (1 << (SIGSTOP - 1)) | (1 << (SIGTSTP - 1)) | (1 << (SIGTTIN - 1)) | (1 << (SIGTTOU - 1));

impl<H: Hal> Kernel<H> {
    /// `kill(2)` (`kill_something_info`).
    pub(crate) fn sys_kill(&mut self, pid: Pid, upid: i32, sig: i32) -> SysResult {
        let me = self.task(pid).ok_or(Errno::ESRCH)?;
        let (my_tgid, my_pgid) = (me.tgid, me.pgid);
        if upid > 0 {
            // find_vpid: any thread id names its thread group.
            let tgid = self.task(upid).ok_or(Errno::ESRCH)?.tgid;
            return self.group_send_sig(pid, tgid, sig).map(|_| 0).map_err(Into::into);
        }
        if upid == -1 {
            // Every process but init and the caller's; EPERM alone is not reported.
            let targets: Vec<Pid> = self.tasks.values().filter(|t| t.is_leader() && t.pid > 1 && t.tgid != my_tgid).map(|t| t.pid).collect();
            let mut ret = Ok(0);
            for t in &targets {
                match self.group_send_sig(pid, *t, sig) {
                    Err(e) if e != Errno::EPERM => ret = Err(e.into()),
                    _ => {}
                }
            }
            return if targets.is_empty() { Err(Errno::ESRCH.into()) } else { ret };
        }
        // 0: our process group; < -1: group -upid (INT_MIN names no group).
        let pgrp = if upid == 0 { my_pgid } else { upid.wrapping_neg() };
        let members: Vec<Pid> = self.tasks.values().filter(|t| t.is_leader() && t.pgid == pgrp && pgrp > 0).map(|t| t.pid).collect();
        let mut ret: Result<(), Errno> = Err(Errno::ESRCH);
        let mut success = false;
        for m in members {
            match self.group_send_sig(pid, m, sig) {
                Ok(()) => success = true,
                Err(e) => ret = Err(e),
            }
        }
        if success {
            Ok(0)
        } else {
            ret.map(|_| 0).map_err(Into::into)
        }
    }

    /// `group_send_sig_info`: `check_kill_permission`, then the signal.
    fn group_send_sig(&mut self, sender: Pid, tgid: Pid, sig: i32) -> Result<(), Errno> {
        if !(0..=NSIG).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        let me = self.task(sender).ok_or(Errno::ESRCH)?;
        let t = self.task(tgid).ok_or(Errno::ESRCH)?;
        if me.tgid != t.tgid && !kill_ok_by_cred(&me.cred, &t.cred) && sig != SIGCONT {
            return Err(Errno::EPERM);
        }
        if sig != 0 {
            self.send_signal(sender, tgid, sig);
        }
        Ok(())
    }

    /// `__send_signal` to the thread group `tgid`: `prepare_signal`, then delivery.
    pub(crate) fn send_signal(&mut self, sender: Pid, tgid: Pid, sig: i32) {
        let threads: Vec<Pid> = self.tasks.values().filter(|t| t.tgid == tgid && t.state != TaskState::Zombie).map(|t| t.pid).collect();
        let Some(&target) = threads.iter().find(|&&p| p == tgid).or(threads.first()) else { return };
        // init is SIGNAL_UNKILLABLE: with no handlers every signal sent to it is ignored.
        if tgid == super::INIT_PID || self.task(target).is_some_and(|t| t.group_exiting) {
            return;
        }
        // prepare_signal: a stop discards a pending SIGCONT and SIGCONT the stops.
        for &p in &threads {
            if let Some(t) = self.tasks.get_mut(&p) {
                match default_action(sig) {
                    DefaultAction::Stop => t.signal.pending &= !bit(SIGCONT),
                    DefaultAction::Continue => t.signal.pending &= !STOP_MASK,
                    _ => {}
                }
            }
        }
        if sig == SIGCONT {
            self.group_continue(tgid);
            // A listening seized tracee traps again, no longer group-stopped.
            for &p in &threads {
                self.ptrace_trap_notify(p, Some(SIGTRAP));
            }
        }
        let traced = self.task(target).is_some_and(|t| t.ptrace.tracer != 0);
        if traced && sig != SIGKILL {
            self.queue_for_tracer(target, sig);
            return;
        }
        if self.task(sender).is_some_and(|s| s.tgid == tgid) && sig != SIGKILL {
            // Our own group: acted on when the sender returns to user mode.
            if let Some(s) = self.tasks.get_mut(&sender) {
                if s.pending_signal == 0 {
                    s.pending_signal = sig;
                }
            }
            return;
        }
        self.signal_default(target, sig);
    }

    /// Queues `sig` on traced `pid`; a sleeping tracee is woken to take the stop.
    fn queue_for_tracer(&mut self, pid: Pid, sig: i32) {
        let Some(t) = self.tasks.get_mut(&pid) else { return };
        t.signal.pending |= bit(sig);
        if t.state == TaskState::Sleeping && t.syscall.is_some() {
            self.interrupt_sleep(pid);
        }
    }

    /// The next queued signal of a traced task, taken off the queue.
    pub(crate) fn dequeue_signal(&mut self, pid: Pid) -> Option<i32> {
        let t = self.tasks.get_mut(&pid)?;
        if t.signal.pending == 0 {
            return None;
        }
        let sig = t.signal.pending.trailing_zeros() as i32 + 1;
        t.signal.pending &= !bit(sig);
        Some(sig)
    }

    /// `signal_wake_up`: a task sleeping in a syscall leaves its wait queues and timers;
    /// the syscall re-runs from the top (`-ERESTARTSYS`).
    pub(crate) fn interrupt_sleep(&mut self, pid: Pid) {
        // A userfault sleep is abandoned too: the re-run faults (and queues) again.
        self.uffd_forget_task(pid);
        self.wake_task(pid);
    }

    /// Acts on `sig` for `pid` as if delivered now with no handler (after the tracer, if
    /// any, let it through).
    pub(crate) fn signal_default(&mut self, pid: Pid, sig: i32) {
        match default_action(sig) {
            DefaultAction::Terminate => self.force_sig_kill(pid, sig),
            DefaultAction::Ignore | DefaultAction::Continue => {}
            DefaultAction::Stop => {
                if self.task(pid).is_some_and(|t| t.ptrace.tracer != 0) {
                    self.ptrace_group_stop(pid, sig);
                } else if let Some(tgid) = self.task(pid).map(|t| t.tgid) {
                    self.group_stop(tgid, sig);
                }
            }
        }
    }

    /// A signal raised against the task's own group during its syscall, acted on as it
    /// returns to user mode (`SIGPIPE`, `kill(getpid(), …)`).
    pub(crate) fn deliver_on_return(&mut self, pid: Pid, sig: i32) {
        if self.task(pid).is_some_and(|t| t.ptrace.tracer != 0) && sig != SIGKILL {
            self.queue_for_tracer(pid, sig);
        } else {
            self.signal_default(pid, sig);
        }
    }

    /// `do_signal_stop` for an untraced group: every live thread stops; one sleeping in a
    /// syscall re-runs it after `SIGCONT`.
    fn group_stop(&mut self, tgid: Pid, sig: i32) {
        let threads: Vec<Pid> = self.tasks.values().filter(|t| t.tgid == tgid && t.state != TaskState::Zombie).map(|t| t.pid).collect();
        for p in threads {
            self.unpark(p);
            self.sched.runq.retain(|&x| x != p);
            if let Some(t) = self.tasks.get_mut(&p) {
                t.state = TaskState::Stopped;
            }
        }
        if let Some(l) = self.tasks.get_mut(&tgid) {
            l.signal.group_stop = Some(sig);
            l.signal.stop_reported = false;
            l.signal.continued = false;
        }
        self.wake_parent(tgid);
    }

    /// `SIGCONT`: a stopped group runs again.
    fn group_continue(&mut self, tgid: Pid) {
        if self.task(tgid).is_none_or(|l| l.signal.group_stop.is_none()) {
            return;
        }
        let threads: Vec<Pid> = self.tasks.values().filter(|t| t.tgid == tgid && t.state == TaskState::Stopped).map(|t| t.pid).collect();
        for p in threads {
            if let Some(t) = self.tasks.get_mut(&p) {
                t.state = TaskState::Running;
                if t.syscall.is_some() && !self.sched.runq.contains(&p) {
                    self.sched.runq.push(p);
                }
            }
        }
        if let Some(l) = self.tasks.get_mut(&tgid) {
            l.signal.group_stop = None;
            l.signal.stop_reported = false;
            l.signal.continued = true;
        }
        self.wake_parent(tgid);
    }

    fn wake_parent(&mut self, tgid: Pid) {
        if let Some(parent) = self.task(tgid).map(|t| t.parent) {
            if let Some(&wq) = self.sched.child_wait.get(&parent) {
                self.wake_up(wq);
            }
        }
    }

    /// For `wait4(WUNTRACED)`: the unreported stop of child group `tgid`.
    pub(crate) fn take_group_stop(&mut self, tgid: Pid) -> Option<i32> {
        let l = self.tasks.get_mut(&tgid)?;
        let sig = l.signal.group_stop.filter(|_| !l.signal.stop_reported)?;
        l.signal.stop_reported = true;
        Some(crate::uapi::wait::stopped(sig))
    }

    /// For `wait4(WCONTINUED)`: child group `tgid` was continued and not yet reported.
    pub(crate) fn take_continued(&mut self, tgid: Pid) -> Option<i32> {
        let l = self.tasks.get_mut(&tgid)?;
        core::mem::take(&mut l.signal.continued).then_some(0xffff)
    }
}

/// `kill_ok_by_cred`: the sender's real or effective uid is the target's real or saved
/// uid, or the sender has `CAP_KILL` in the target's user namespace.
fn kill_ok_by_cred(c: &crate::security::cred::Cred, t: &crate::security::cred::Cred) -> bool {
    c.euid == t.suid || c.euid == t.uid || c.uid == t.suid || c.uid == t.uid || crate::security::commoncap::ns_capable(c, &t.user_ns, CAP_KILL)
}
