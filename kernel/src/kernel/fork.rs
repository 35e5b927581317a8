//! `clone` and `fork` (`kernel/fork.c`: `copy_process` and its flag checks).

use super::task::TaskState;
use super::{KEvent, Kernel, Pid, INIT_PID};
use crate::hal::Hal;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::sched::*;
use crate::uapi::signal::SIGCHLD;
use crate::uapi::Errno;

/// Namespace flags k43 does not model (mount, UTS, IPC, PID, network): asking for one is
/// refused with `EINVAL` rather than silently ignored. `CLONE_NEWUSER` is modelled.
const NS_FLAGS: u64 = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET;

impl<H: Hal> Kernel<H> {
    /// `_do_fork`. A `CLONE_VFORK` parent blocks until the child execs or exits; the
    /// child's pid is kept as restart state meanwhile.
    pub(crate) fn sys_clone(&mut self, pid: Pid, flags: u64, _stack: u64, ptid: u64, ctid: u64, _tls: u64) -> SysResult {
        if let Some(child) = self.restart_state(pid) {
            let child = child as Pid;
            return match self.task(child).and_then(|t| t.vfork_done) {
                Some(wq) => Err(self.wait_on(pid, wq)),
                None => Ok(child as i64),
            };
        }
        if flags & (CLONE_NEWNS | CLONE_FS) == (CLONE_NEWNS | CLONE_FS)
            || flags & (CLONE_NEWUSER | CLONE_FS) == (CLONE_NEWUSER | CLONE_FS)
            || (flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0)
            || (flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0)
            || (flags & CLONE_PARENT != 0 && self.cur_tgid(pid)? == INIT_PID)
            || (flags & CLONE_THREAD != 0 && flags & (CLONE_NEWUSER | CLONE_NEWPID) != 0)
            || flags & NS_FLAGS != 0
        {
            return Err(Errno::EINVAL.into());
        }
        let parent_task = self.task(pid).ok_or(Errno::ESRCH)?.clone();
        // copy_creds: a new user namespace comes before anything is allocated.
        let mut child_cred = parent_task.cred.clone();
        if flags & CLONE_NEWUSER != 0 {
            crate::security::user_ns::create_user_ns(&mut child_cred)?;
        }
        let child = self.alloc_pid()?;
        let mm = if flags & CLONE_VM != 0 {
            if let Some(m) = self.mms.get_mut(&parent_task.mm) {
                m.users += 1;
            }
            parent_task.mm
        } else {
            self.dup_mm(pid, parent_task.mm)?
        };
        let files = if flags & CLONE_FILES != 0 {
            if let Some(f) = self.fdtables.get_mut(&parent_task.files) {
                f.users += 1;
            }
            parent_task.files
        } else {
            self.dup_files(parent_task.files)
        };
        let fs = if flags & CLONE_FS != 0 {
            if let Some(f) = self.fs_structs.get_mut(&parent_task.fs) {
                f.users += 1;
            }
            parent_task.fs
        } else {
            let mut copy = self.fs_structs.get(&parent_task.fs).cloned().ok_or(Errno::ENOMEM)?;
            copy.users = 1;
            let id = self.next_id();
            self.fs_structs.insert(id, copy);
            id
        };
        let thread = flags & CLONE_THREAD != 0;
        let vfork_done = (flags & CLONE_VFORK != 0).then(|| self.sched.new_waitqueue());
        let mut t = parent_task.clone();
        t.pid = child;
        t.cred = child_cred;
        t.tgid = if thread { parent_task.tgid } else { child };
        t.parent = if flags & (CLONE_PARENT | CLONE_THREAD) != 0 { parent_task.parent } else { parent_task.tgid };
        t.state = TaskState::Running;
        t.files = files;
        t.fs = fs;
        t.mm = mm;
        t.exit_signal = if thread { -1 } else { (flags & CSIGNAL) as i32 };
        t.exit_code = 0;
        t.group_exiting = false;
        t.syscall = None;
        t.cpu_ns = 0;
        t.nvcsw = 0;
        t.nivcsw = 0;
        t.vfork_done = vfork_done;
        // The child is not traced (no PTRACE_O_TRACEFORK/CLONE auto-attach in k43).
        t.ptrace = Default::default();
        // Pending signals are not inherited (copy_process: init_sigpending).
        t.signal = Default::default();
        t.pending_signal = 0;
        t.clear_child_tid = if flags & CLONE_CHILD_CLEARTID != 0 { ctid } else { 0 };
        self.tasks.insert(child, t);
        let tid_bytes = child.to_le_bytes();
        if flags & CLONE_PARENT_SETTID != 0 {
            let _ = self.copy_to_user(pid, ptid, &tid_bytes);
        }
        if flags & CLONE_CHILD_SETTID != 0 {
            let _ = self.copy_to_user(child, ctid, &tid_bytes);
        }
        self.events.push_back(KEvent::Forked { parent: pid, child });
        if let Some(wq) = vfork_done {
            self.set_restart_state(pid, child as u64);
            return Err(self.wait_on(pid, wq));
        }
        Ok(child as i64)
    }

    /// `unshare` (`kernel/fork.c`). Of the namespaces only `CLONE_NEWUSER` is modelled
    /// (the other `CLONE_NEW*` flags are `EINVAL`, as for `clone`). `CLONE_NEWUSER`
    /// implies `CLONE_THREAD|CLONE_FS`; thread, signal-handler and VM "unsharing" only
    /// succeed when there is nothing shared to leave (`check_unshare_flags`).
    pub(crate) fn sys_unshare(&mut self, pid: Pid, flags: u64) -> SysResult {
        let valid = CLONE_THREAD | CLONE_FS | CLONE_NEWNS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_SYSVSEM | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWPID;
        let mut f = flags;
        if f & CLONE_NEWUSER != 0 {
            f |= CLONE_THREAD | CLONE_FS;
        }
        if f & CLONE_VM != 0 {
            f |= CLONE_SIGHAND;
        }
        if f & CLONE_SIGHAND != 0 {
            f |= CLONE_THREAD;
        }
        if f & CLONE_NEWNS != 0 {
            f |= CLONE_FS;
        }
        let t = self.task(pid).ok_or(Errno::ESRCH)?.clone();
        if f & !valid != 0 {
            return Err(Errno::EINVAL.into());
        }
        let alone = !self.tasks.values().any(|o| o.tgid == t.tgid && o.pid != pid && o.state != TaskState::Zombie);
        if f & (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) != 0 && !alone {
            return Err(Errno::EINVAL.into());
        }
        if f & CLONE_VM != 0 && self.mms.get(&t.mm).is_some_and(|m| m.users > 1) {
            return Err(Errno::EINVAL.into());
        }
        if f & NS_FLAGS != 0 {
            return Err(Errno::EINVAL.into());
        }
        let mut new_cred = None;
        if f & CLONE_NEWUSER != 0 {
            let mut c = t.cred.clone();
            crate::security::user_ns::create_user_ns(&mut c)?;
            new_cred = Some(c);
        }
        // Nothing can fail from here on.
        if f & CLONE_FS != 0 && self.fs_structs.get(&t.fs).is_some_and(|x| x.users > 1) {
            let mut copy = self.fs_structs.get(&t.fs).cloned().ok_or(Errno::ENOMEM)?;
            copy.users = 1;
            if let Some(old) = self.fs_structs.get_mut(&t.fs) {
                old.users -= 1;
            }
            let id = self.next_id();
            self.fs_structs.insert(id, copy);
            if let Some(tt) = self.tasks.get_mut(&pid) {
                tt.fs = id;
            }
        }
        if f & CLONE_FILES != 0 && self.fdtables.get(&t.files).is_some_and(|x| x.users > 1) {
            let id = self.dup_files(t.files);
            if let Some(old) = self.fdtables.get_mut(&t.files) {
                old.users -= 1;
            }
            if let Some(tt) = self.tasks.get_mut(&pid) {
                tt.files = id;
            }
        }
        if let Some(c) = new_cred {
            self.commit_creds(pid, c);
        }
        Ok(0)
    }

    /// `fork()`: `clone(SIGCHLD, 0)`.
    pub(crate) fn sys_fork(&mut self, pid: Pid) -> SysResult {
        self.sys_clone(pid, SIGCHLD as u64, 0, 0, 0, 0)
    }

    pub(crate) fn cur_tgid(&self, pid: Pid) -> Result<Pid, Errno> {
        Ok(self.task(pid).ok_or(Errno::ESRCH)?.tgid)
    }
}
