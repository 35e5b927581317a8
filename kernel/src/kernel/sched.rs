//! The event-driven scheduler: a run queue of tasks with a syscall to (re)run, wait queues
//! that park them, and timers that wake them. Which runnable task goes next is drawn from
//! the HAL's entropy, so in the simulator the seed chooses the interleaving.

use super::task::{PendingSyscall, TaskState};
use super::{KEvent, Kernel, Pid};
use crate::hal::Hal;
use crate::syscalls::dispatch::{dispatch, SysErr};
use crate::syscalls::Sysno;
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A wait queue's id.
pub type WqId = u64;

/// Virtual CPU time one syscall costs the task that makes it (the CPU-time clocks).
pub const SYSCALL_COST_NS: u64 = 1000;

/// Scheduler state.
#[derive(Debug, Default)]
pub struct Sched {
    /// Tasks whose syscall is ready to run, in submission order.
    pub runq: Vec<Pid>,
    /// Tasks parked on each wait queue.
    pub waitqueues: BTreeMap<WqId, Vec<Pid>>,
    next_wq: WqId,
    /// `(deadline, sequence) -> task` for sleeping tasks with a timeout.
    pub timers: BTreeMap<(u64, u64), Pid>,
    timer_seq: u64,
    /// `wait_chldexit` of each process, by tgid.
    pub child_wait: BTreeMap<Pid, WqId>,
}

impl Sched {
    /// A new, empty wait queue.
    pub fn new_waitqueue(&mut self) -> WqId {
        self.next_wq += 1;
        self.next_wq
    }
}

impl<H: Hal> Kernel<H> {
    /// A task enters the kernel with syscall number `nr` of the kernel's ABI. The syscall
    /// runs at a later [`Kernel::step`]. `EINVAL` if the task cannot make a syscall now
    /// (unknown, exited, or already inside one).
    pub fn submit(&mut self, pid: Pid, nr: u64, regs: [u64; 6]) -> Result<(), Errno> {
        let arch = self.arch;
        let t = self.tasks.get_mut(&pid).ok_or(Errno::ESRCH)?;
        if t.syscall.is_some() || !matches!(t.state, TaskState::Running | TaskState::Stopped) {
            return Err(Errno::EINVAL);
        }
        // An unknown number still enters the kernel: seccomp sees it, then -ENOSYS.
        let sysno = Sysno::from_nr(arch, nr);
        let args = sysno.map(|s| s.desc().args_from_regs(arch, regs)).unwrap_or(regs);
        t.syscall = Some(PendingSyscall { sysno, nr, regs, args, seccomp_passed: false, restart: None, entry_stopped: false, exit_ret: None, skip_ret: None, touch: None });
        // A group-stopped task enters its syscall when SIGCONT resumes it.
        if t.state == TaskState::Running {
            self.sched.runq.push(pid);
        } else {
            self.events.push_back(KEvent::Blocked { pid });
        }
        Ok(())
    }

    /// Whether a syscall is ready to run.
    pub fn has_runnable(&self) -> bool {
        !self.sched.runq.is_empty()
    }

    /// Runs one ready syscall to completion or until it blocks. Returns `false` when
    /// nothing was ready.
    pub fn step(&mut self) -> bool {
        if self.sched.runq.is_empty() {
            return false;
        }
        let i = if self.sched.runq.len() == 1 { 0 } else { (self.hal.next_u64() % self.sched.runq.len() as u64) as usize };
        let pid = self.sched.runq.remove(i);
        self.run_syscall(pid);
        true
    }

    fn run_syscall(&mut self, pid: Pid) {
        let Some(t) = self.tasks.get_mut(&pid) else { return };
        let Some(p) = t.syscall.clone() else { return };
        if matches!(t.state, TaskState::Traced | TaskState::Stopped) {
            return;
        }
        t.cpu_ns += SYSCALL_COST_NS;
        // Resumed from the syscall-exit stop: return what the call (or the tracer) left.
        if let Some(ret) = p.exit_ret {
            self.finish_syscall(pid, ret);
            return;
        }
        // A stop signalled while the task was in user mode (ptrace attach, INTERRUPT).
        if self.ptrace_entry_stops(pid, false) {
            return;
        }
        // A user-mode page fault: no seccomp, no syscall stops.
        if let Some((addr, len, write)) = p.touch {
            self.run_touch(pid, addr, len, write);
            return;
        }
        // seccomp runs first on the entry path (4.3's phase 1): it may skip the call.
        if !p.seccomp_passed {
            let mut skip = None;
            if let Some(outcome) = self.secure_computing(pid, &p) {
                match outcome {
                    // Skipped (ERRNO, TRACE without a tracer): 4.3 marks the call skipped
                    // (orig_rax -1) and still takes the syscall-entry/exit stops.
                    Ok(v) => skip = Some(v),
                    Err(SysErr::Errno(e)) => skip = Some(e.ret()),
                    Err(_) => return,
                }
            }
            if let Some(s) = self.tasks.get_mut(&pid).and_then(|t| t.syscall.as_mut()) {
                s.seccomp_passed = true;
                if skip.is_some() {
                    s.skip_ret = skip;
                }
            }
        }
        // The syscall-entry stop; a tracer's SETREGS may change or skip the call.
        if self.ptrace_entry_stops(pid, true) {
            return;
        }
        let Some(p) = self.tasks.get(&pid).and_then(|t| t.syscall.clone()) else { return };
        if let Some(ret) = p.skip_ret {
            self.syscall_return(pid, ret);
            return;
        }
        let Some(sysno) = p.sysno else {
            self.syscall_return(pid, Errno::ENOSYS.ret());
            return;
        };
        let r = dispatch(self, pid, sysno, p.args);
        // Blocks a read-only filesystem lookup found missing: read them, and park the
        // task on their mount if the call is waiting for them.
        self.ext_park_wanted(pid, r == Err(SysErr::Block));
        match r {
            Ok(v) => self.syscall_return(pid, v),
            Err(SysErr::Errno(e)) => self.syscall_return(pid, e.ret()),
            Err(SysErr::Block) => {
                if let Some(t) = self.tasks.get_mut(&pid) {
                    t.state = TaskState::Sleeping;
                    t.nvcsw += 1;
                    self.events.push_back(KEvent::Blocked { pid });
                }
            }
            Err(SysErr::Gone) => {}
        }
    }

    /// Enters the kernel through the page-fault path: `pid`'s user-mode access of `len`
    /// bytes at `addr` faulted (a user program's load or store that
    /// `user_mode_access` could not complete without sleeping). It completes with a
    /// [`KEvent::Touched`] once every page of the range is accessible, sleeps on a
    /// userfault, or ends in `SIGSEGV`/`SIGBUS` for the task.
    pub fn submit_touch(&mut self, pid: Pid, addr: u64, len: u64, write: bool) -> Result<(), Errno> {
        let t = self.tasks.get_mut(&pid).ok_or(Errno::ESRCH)?;
        if t.syscall.is_some() || !matches!(t.state, TaskState::Running | TaskState::Stopped) {
            return Err(Errno::EINVAL);
        }
        t.syscall = Some(PendingSyscall { sysno: None, nr: u64::MAX, regs: [addr, len, write as u64, 0, 0, 0], args: [addr, len, write as u64, 0, 0, 0], seccomp_passed: true, restart: None, entry_stopped: false, exit_ret: None, skip_ret: None, touch: Some((addr, len, write)) });
        if t.state == TaskState::Running {
            self.sched.runq.push(pid);
        }
        Ok(())
    }

    fn run_touch(&mut self, pid: Pid, addr: u64, len: u64, write: bool) {
        match self.handle_user_fault(pid, addr, len, write) {
            Ok(()) => self.finish_syscall(pid, 0),
            Err(SysErr::Block) => {
                if let Some(t) = self.tasks.get_mut(&pid) {
                    t.state = TaskState::Sleeping;
                    t.nvcsw += 1;
                    self.events.push_back(KEvent::Blocked { pid });
                }
            }
            Err(SysErr::Errno(e)) => {
                // The access fails: SIGBUS for a userfault that may not wait again or a
                // page past the end of a file, SIGSEGV otherwise.
                let sig = if e == Errno::EIO { crate::uapi::signal::SIGBUS } else { crate::uapi::signal::SIGSEGV };
                if let Some(t) = self.tasks.get_mut(&pid) {
                    t.pending_signal = sig;
                }
                self.finish_syscall(pid, 0);
            }
            Err(SysErr::Gone) => {}
        }
    }

    /// Completes the current syscall of `pid` with `ret`.
    pub(crate) fn syscall_return(&mut self, pid: Pid, ret: i64) {
        if self.ptrace_exit_stop(pid, ret) {
            return;
        }
        self.finish_syscall(pid, ret);
    }

    /// Returns to user mode from the current syscall with `ret` (after any exit stop).
    fn finish_syscall(&mut self, pid: Pid, ret: i64) {
        let Some(t) = self.tasks.get_mut(&pid) else { return };
        let Some(p) = t.syscall.take() else { return };
        t.state = TaskState::Running;
        let sig = core::mem::take(&mut t.pending_signal);
        self.uffd_syscall_done(pid);
        if p.touch.is_some() {
            self.events.push_back(KEvent::Touched { pid });
        } else {
            self.events.push_back(KEvent::SyscallReturn { pid, sysno: p.sysno, ret });
        }
        if sig != 0 {
            self.deliver_on_return(pid, sig);
        }
    }

    /// Progress saved by the current syscall before it blocked.
    pub(crate) fn restart_state(&self, pid: Pid) -> Option<u64> {
        self.tasks.get(&pid)?.syscall.as_ref()?.restart
    }

    /// Saves progress for the re-run after a wakeup.
    pub(crate) fn set_restart_state(&mut self, pid: Pid, v: u64) {
        if let Some(p) = self.tasks.get_mut(&pid).and_then(|t| t.syscall.as_mut()) {
            p.restart = Some(v);
        }
    }

    /// Parks `pid` on `wq`; the handler then returns [`SysErr::Block`].
    pub(crate) fn wait_on(&mut self, pid: Pid, wq: WqId) -> SysErr {
        let q = self.sched.waitqueues.entry(wq).or_default();
        if !q.contains(&pid) {
            q.push(pid);
        }
        SysErr::Block
    }

    /// Parks `pid` until monotonic time `deadline`.
    pub(crate) fn sleep_until(&mut self, pid: Pid, deadline: u64) -> SysErr {
        self.sched.timer_seq += 1;
        self.sched.timers.insert((deadline, self.sched.timer_seq), pid);
        self.rearm_timer();
        SysErr::Block
    }

    fn rearm_timer(&self) {
        self.hal.set_timer(self.next_timer());
    }

    /// Makes a parked task runnable again: its syscall will run from the top.
    pub(crate) fn wake_task(&mut self, pid: Pid) {
        self.unpark(pid);
        if let Some(t) = self.tasks.get_mut(&pid) {
            if t.state == TaskState::Sleeping && t.syscall.is_some() {
                t.state = TaskState::Running;
                if !self.sched.runq.contains(&pid) {
                    self.sched.runq.push(pid);
                }
            }
        }
    }

    /// Takes `pid` off every wait queue and timer (its state is the caller's business).
    pub(crate) fn unpark(&mut self, pid: Pid) {
        for q in self.sched.waitqueues.values_mut() {
            q.retain(|&p| p != pid);
        }
        self.sched.timers.retain(|_, p| *p != pid);
    }

    /// `wake_up`: every task parked on `wq` becomes runnable.
    pub fn wake_up(&mut self, wq: WqId) {
        let waiters = self.sched.waitqueues.remove(&wq).unwrap_or_default();
        for pid in waiters {
            self.wake_task(pid);
        }
    }

    /// The earliest timer deadline, if any task sleeps with a timeout.
    pub fn next_timer(&self) -> Option<u64> {
        [self.task_next_timer(), self.net_next_timer(), self.ext_next_timer()].into_iter().flatten().min()
    }

    /// The earliest deadline of a task's timer (a sleep, a timed wait), leaving out the
    /// network's background timers.
    pub fn task_next_timer(&self) -> Option<u64> {
        self.sched.timers.keys().next().map(|k| k.0)
    }

    /// Fires every timer whose deadline has passed.
    pub fn run_timers(&mut self) {
        let now = self.hal.now_ns();
        while let Some((&(deadline, seq), &pid)) = self.sched.timers.iter().next() {
            if deadline > now {
                break;
            }
            self.sched.timers.remove(&(deadline, seq));
            self.wake_task(pid);
        }
        if self.net_next_timer().is_some_and(|t| t <= now) {
            self.net_timers();
        }
        if self.ext_next_timer().is_some_and(|t| t <= now) {
            self.ext_run_timers();
        }
        self.rearm_timer();
    }

    /// Removes every trace of `pid` from the scheduler (it exited).
    pub(crate) fn sched_forget(&mut self, pid: Pid) {
        self.pipe_forget_writer(pid);
        self.sched.runq.retain(|&p| p != pid);
        for q in self.sched.waitqueues.values_mut() {
            q.retain(|&p| p != pid);
        }
        self.sched.waitqueues.retain(|_, q| !q.is_empty());
        self.sched.timers.retain(|_, p| *p != pid);
    }

    /// The `wait_chldexit` queue of process `tgid`.
    pub(crate) fn child_waitqueue(&mut self, tgid: Pid) -> WqId {
        if let Some(&wq) = self.sched.child_wait.get(&tgid) {
            return wq;
        }
        let wq = self.sched.new_waitqueue();
        self.sched.child_wait.insert(tgid, wq);
        wq
    }
}
