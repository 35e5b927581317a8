//! `exit`, `exit_group`, fatal signals, reparenting, and `wait4` (`kernel/exit.c`).

use super::task::TaskState;
use super::{KEvent, Kernel, Pid, INIT_PID};
use crate::hal::Hal;
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::uapi::signal::SIGCHLD;
use crate::uapi::wait::*;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `struct rusage` on 64-bit ABIs: 18 longs.
pub const RUSAGE_SIZE: usize = 144;

impl<H: Hal> Kernel<H> {
    fn live_threads(&self, tgid: Pid) -> usize {
        self.tasks.values().filter(|t| t.tgid == tgid && t.state != TaskState::Zombie).count()
    }

    /// `do_exit` of one thread with `wait4` status `status`.
    pub(crate) fn do_exit(&mut self, pid: Pid, status: i32) {
        let Some(t) = self.tasks.get(&pid).cloned() else { return };
        if t.state == TaskState::Zombie {
            return;
        }
        self.sched_forget(pid);
        self.uffd_forget_task(pid);
        self.exit_ptrace(pid);
        if t.ptrace.tracer != 0 {
            // A traced task that dies is unlinked; the tracer's wait4 re-runs and finds it gone.
            let tracer_tg = self.task(t.ptrace.tracer).map(|x| x.tgid);
            if let Some(x) = self.tasks.get_mut(&pid) {
                x.ptrace = Default::default();
            }
            if let Some(tg) = tracer_tg {
                let wq = self.child_waitqueue(tg);
                self.wake_up(wq);
            }
        }
        if t.clear_child_tid != 0 {
            let _ = self.copy_to_user(pid, t.clear_child_tid, &0i32.to_le_bytes());
        }
        if let Some(wq) = t.vfork_done {
            self.wake_up(wq);
        }
        self.put_mm(t.mm);
        self.put_files(t.files);
        self.put_fs(t.fs);
        if let Some(x) = self.tasks.get_mut(&pid) {
            x.state = TaskState::Zombie;
            x.exit_code = status;
            x.syscall = None;
            x.vfork_done = None;
        }
        self.events.push_back(KEvent::Exited { pid, status });
        if !t.is_leader() {
            // Threads reap themselves; the group leader may have been waiting for us.
            self.tasks.remove(&pid);
        }
        if self.live_threads(t.tgid) == 0 {
            self.forget_original_parent(t.tgid);
            self.notify_parent(t.tgid);
        }
    }

    /// `exit_group` / a fatal signal: every thread of `pid`'s group exits with `status`.
    pub(crate) fn do_group_exit(&mut self, pid: Pid, status: i32) {
        let Some(tgid) = self.task(pid).map(|t| t.tgid) else { return };
        let others: Vec<Pid> = self.tasks.values().filter(|t| t.tgid == tgid && t.pid != pid && t.state != TaskState::Zombie).map(|t| t.pid).collect();
        for t in self.tasks.values_mut().filter(|t| t.tgid == tgid) {
            t.group_exiting = true;
        }
        for o in others {
            self.do_exit(o, status);
        }
        self.do_exit(pid, status);
    }

    /// Children of an exiting process go to init, which reaps the dead ones at once. Every
    /// thread of a child moves, not only its leader: a thread a child cloned has the
    /// child's parent as its own (`CLONE_THREAD` copies `real_parent`), as in Linux's
    /// `for_each_thread` in `forget_original_parent`.
    fn forget_original_parent(&mut self, tgid: Pid) {
        let orphans: Vec<Pid> = self.tasks.values().filter(|t| t.parent == tgid).map(|t| t.pid).collect();
        for c in orphans {
            let Some(t) = self.tasks.get_mut(&c) else { continue };
            t.parent = INIT_PID;
            if !t.is_leader() {
                continue;
            }
            if self.tasks.get(&c).is_some_and(|t| t.state == TaskState::Zombie) && self.live_threads(c) == 0 {
                self.release_task(c);
            }
        }
        self.sched.child_wait.remove(&tgid);
    }

    /// The whole group of `tgid` is dead: tell the parent (init reaps immediately).
    fn notify_parent(&mut self, tgid: Pid) {
        let Some(parent) = self.task(tgid).map(|t| t.parent) else { return };
        if parent == INIT_PID || parent == 0 {
            self.release_task(tgid);
            return;
        }
        if let Some(&wq) = self.sched.child_wait.get(&parent) {
            self.wake_up(wq);
        }
    }

    /// `release_task`: the zombie is gone for good.
    fn release_task(&mut self, pid: Pid) {
        self.tasks.remove(&pid);
        self.sched.child_wait.remove(&pid);
    }

    /// `mmput`: drops one user of address space `id` (a task, or a userfaultfd context).
    pub(crate) fn mmput(&mut self, id: u64) {
        self.put_mm(id);
    }

    fn put_mm(&mut self, id: u64) {
        let Some(mm) = self.mms.get_mut(&id) else { return };
        mm.users -= 1;
        if mm.users == 0 {
            if let Some(mm) = self.mms.remove(&id) {
                self.mm_release(mm);
            }
        }
    }

    /// Replaces `pid`'s address space (exec).
    pub(crate) fn replace_mm(&mut self, pid: Pid, new: crate::mm::Mm) {
        let id = self.next_id();
        self.mms.insert(id, new);
        let old = self.tasks.get_mut(&pid).map(|t| core::mem::replace(&mut t.mm, id));
        if let Some(old) = old {
            self.put_mm(old);
        }
    }

    fn put_fs(&mut self, id: u64) {
        let Some(f) = self.fs_structs.get_mut(&id) else { return };
        f.users -= 1;
        if f.users == 0 {
            self.fs_structs.remove(&id);
        }
    }

    pub(crate) fn sys_exit(&mut self, pid: Pid, code: i32) -> SysResult {
        self.do_exit(pid, exited(code));
        Err(SysErr::Gone)
    }

    pub(crate) fn sys_exit_group(&mut self, pid: Pid, code: i32) -> SysResult {
        self.do_group_exit(pid, exited(code));
        Err(SysErr::Gone)
    }

    /// Kills `pid`'s thread group with signal `sig` (default action: terminate).
    pub fn force_sig_kill(&mut self, pid: Pid, sig: i32) {
        self.do_group_exit(pid, signaled(sig, false));
    }

    /// Stores what `wait4` reports about `who` (zeroed rusage, then the status word) and
    /// returns its pid, or the fault.
    fn wait_report(&mut self, pid: Pid, who: Pid, status: i32, stat_addr: u64, ru: u64) -> SysResult {
        if ru != 0 {
            self.copy_to_user(pid, ru, &[0u8; RUSAGE_SIZE])?;
        }
        if stat_addr != 0 {
            self.copy_to_user(pid, stat_addr, &status.to_le_bytes())?;
        }
        Ok(who as i64)
    }

    /// `wait4`: reaps a zombie child matching `upid` (`>0` that pid, `-1` any, `0` our
    /// process group, `<-1` group `-upid`), filtered by `__WCLONE`/`__WALL`.
    pub(crate) fn sys_wait4(&mut self, pid: Pid, upid: i32, stat_addr: u64, options: u32, ru: u64) -> SysResult {
        if options & !(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let me = self.task(pid).ok_or(Errno::ESRCH)?.clone();
        let eligible: Vec<(Pid, i32, bool)> = self
            .tasks
            .values()
            .filter(|c| c.is_leader() && c.parent == me.tgid)
            .filter(|c| match upid {
                -1 => true,
                0 => c.pgid == me.pgid,
                p if p > 0 => c.pid == p,
                p => c.pgid == p.wrapping_neg(),
            })
            .filter(|c| options & __WALL != 0 || ((c.exit_signal != SIGCHLD) == (options & __WCLONE != 0)))
            .map(|c| (c.pid, c.exit_code, c.state == TaskState::Zombie))
            .collect();
        // Tracees of our thread group report their ptrace stops as if children
        // (4.3: the __WCLONE/__WALL filter applies to them as well).
        let tracees: Vec<Pid> = self
            .ptrace_wait_candidates(me.tgid)
            .into_iter()
            .filter(|&t| match upid {
                -1 => true,
                p if p > 0 => t == p,
                0 => self.task(t).is_some_and(|x| x.pgid == me.pgid),
                p => self.task(t).is_some_and(|x| x.pgid == p.wrapping_neg()),
            })
            .filter(|&t| self.task(t).is_some_and(|c| options & __WALL != 0 || ((c.exit_signal != SIGCHLD) == (options & __WCLONE != 0))))
            .collect();
        if eligible.is_empty() && tracees.is_empty() {
            return Err(Errno::ECHILD.into());
        }
        for t in tracees {
            if let Some(status) = self.ptrace_take_stop(t) {
                return self.wait_report(pid, t, status, stat_addr, ru);
            }
        }
        if let Some(&(child, status, _)) = eligible.iter().find(|&&(c, _, zombie)| zombie && self.live_threads(c) == 0) {
            let ret = self.wait_report(pid, child, status, stat_addr, ru);
            // Reaped even when storing the status faulted, as in wait_task_zombie.
            self.release_task(child);
            return ret;
        }
        // Job-control stops and continues of untraced children (wait_task_stopped /
        // wait_task_continued).
        for &(child, _, zombie) in &eligible {
            if zombie || self.task(child).is_some_and(|c| c.ptrace.tracer != 0) {
                continue;
            }
            let status = if options & WUNTRACED != 0 { self.take_group_stop(child) } else { None };
            let status = status.or_else(|| if options & WCONTINUED != 0 { self.take_continued(child) } else { None });
            if let Some(status) = status {
                return self.wait_report(pid, child, status, stat_addr, ru);
            }
        }
        if options & WNOHANG != 0 {
            return Ok(0);
        }
        let wq = self.child_waitqueue(me.tgid);
        Err(self.wait_on(pid, wq))
    }
}
