//! Consistency checks over the whole kernel state, for tests and debug builds: every
//! reference a task or a descriptor holds points at something that exists, and every
//! reference count equals the references that exist.

use super::task::TaskState;
use super::{Kernel, INIT_PID};
use crate::hal::Hal;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

impl<H: Hal> Kernel<H> {
    /// Checks the invariants; the first violation found, as text.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut mm_users: BTreeMap<u64, u32> = BTreeMap::new();
        let mut files_users: BTreeMap<u64, u32> = BTreeMap::new();
        let mut fs_users: BTreeMap<u64, u32> = BTreeMap::new();
        if !self.tasks.contains_key(&INIT_PID) {
            return Err("init (pid 1) is gone".into());
        }
        for t in self.tasks.values() {
            if !self.tasks.get(&t.tgid).is_some_and(|l| l.is_leader()) {
                return Err(format!("task {} has no thread-group leader {}", t.pid, t.tgid));
            }
            if t.pid != INIT_PID && !self.tasks.contains_key(&t.parent) {
                return Err(format!("task {} has a parent {} that does not exist", t.pid, t.parent));
            }
            if !t.cred.ambient_invariant_ok() {
                return Err(format!("task {}: ambient {:#x} is not within permitted {:#x} ∩ inheritable {:#x}", t.pid, t.cred.cap_ambient, t.cred.cap_permitted, t.cred.cap_inheritable));
            }
            if t.seccomp.mode > 2 || (t.seccomp.mode == 2) != t.seccomp.filter.is_some() {
                return Err(format!("task {}: seccomp mode {} with{} a filter", t.pid, t.seccomp.mode, if t.seccomp.filter.is_some() { "" } else { "out" }));
            }
            if t.state == TaskState::Zombie {
                if t.syscall.is_some() {
                    return Err(format!("zombie {} is inside a syscall", t.pid));
                }
                continue;
            }
            *mm_users.entry(t.mm).or_default() += 1;
            *files_users.entry(t.files).or_default() += 1;
            *fs_users.entry(t.fs).or_default() += 1;
            if t.state == TaskState::Sleeping && t.syscall.is_none() && t.pid != INIT_PID {
                return Err(format!("task {} sleeps outside a syscall", t.pid));
            }
            if t.ptrace.tracer != 0 && self.tasks.get(&t.ptrace.tracer).is_none_or(|tr| tr.state == TaskState::Zombie) {
                return Err(format!("task {} is traced by {}, which is gone", t.pid, t.ptrace.tracer));
            }
            if t.state == TaskState::Traced && (t.syscall.is_none() || t.ptrace.tracer == 0 || t.ptrace.stop.is_none()) {
                return Err(format!("task {} is in a ptrace stop without a syscall, a tracer or a stop status", t.pid));
            }
        }
        for (id, n) in &mm_users {
            match self.mms.get(id) {
                Some(m) if m.users == *n => {}
                Some(m) => return Err(format!("mm {id} has users={} but {n} tasks use it", m.users)),
                None => return Err(format!("mm {id} is used but does not exist")),
            }
        }
        if self.mms.len() != mm_users.len() {
            return Err(format!("{} mms exist but {} are used", self.mms.len(), mm_users.len()));
        }
        for (id, n) in &files_users {
            match self.fdtables.get(id) {
                Some(f) if f.users == *n => {}
                Some(f) => return Err(format!("fd table {id} has users={} but {n} tasks use it", f.users)),
                None => return Err(format!("fd table {id} is used but does not exist")),
            }
        }
        for (id, n) in &fs_users {
            match self.fs_structs.get(id) {
                Some(f) if f.users == *n => {}
                _ => return Err(format!("fs_struct {id} users mismatch ({n} tasks)")),
            }
        }
        let mut refs: BTreeMap<u64, u32> = BTreeMap::new();
        for t in self.fdtables.values() {
            for e in t.fds.iter().flatten() {
                *refs.entry(e.file).or_default() += 1;
            }
        }
        for (id, f) in &self.files {
            if refs.get(id).copied().unwrap_or(0) != f.refs {
                return Err(format!("file {id} has refs={} but {} descriptors", f.refs, refs.get(id).copied().unwrap_or(0)));
            }
        }
        for id in refs.keys() {
            if !self.files.contains_key(id) {
                return Err(format!("a descriptor refers to file {id}, which does not exist"));
            }
        }
        for (id, p) in &self.pipes {
            let (mut r, mut w) = (0, 0);
            for f in self.files.values().filter(|f| f.node == crate::fs::Node::Pipe(*id)) {
                if f.flags & 3 == 0 {
                    r += 1;
                } else {
                    w += 1;
                }
            }
            if p.readers != r || p.writers != w {
                return Err(format!("pipe {id}: readers={} writers={} but {r}/{w} open files", p.readers, p.writers));
            }
        }
        let pages: u64 = self.mms.values().map(|m| m.pages.len() as u64).sum();
        if pages != self.frames.used {
            return Err(format!("{} frames are allocated but {pages} pages are mapped", self.frames.used));
        }
        for &pid in &self.sched.runq {
            match self.tasks.get(&pid) {
                Some(t) if t.syscall.is_none() => return Err(format!("task {pid} is on the run queue without a syscall")),
                Some(t) if matches!(t.state, TaskState::Stopped | TaskState::Traced) => return Err(format!("stopped task {pid} is on the run queue")),
                None => return Err(format!("task {pid} is on the run queue but gone")),
                _ => {}
            }
        }
        for t in self.tasks.values() {
            let leader_stopped = self.tasks.get(&t.tgid).is_some_and(|l| l.signal.group_stop.is_some());
            if t.state == TaskState::Stopped && !leader_stopped {
                return Err(format!("task {} is stopped but its group is not", t.pid));
            }
            if t.signal.pending != 0 && t.ptrace.tracer == 0 && t.state != TaskState::Zombie {
                return Err(format!("untraced task {} has queued signals {:#x}", t.pid, t.signal.pending));
            }
        }
        Ok(())
    }
}
