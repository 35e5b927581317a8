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
    /// Address spaces and frames: VMAs sorted, page aligned, not overlapping, inside the
    /// user half, userfaultfd context set exactly with a `VM_UFFD_*` flag; every present
    /// page inside a VMA and consistent with the HAL's page table; and each frame's
    /// reference count equal to the PTEs mapping it plus one for the page cache (the zero
    /// page: the cache's one reference, PTEs take none), with no frame in use that nothing
    /// refers to.
    fn check_mm_invariants(&self) -> Result<(), String> {
        use crate::mm::{PageKind, VM_UFFD_MISSING, VM_UFFD_WP, VM_WRITE, TASK_SIZE};
        let frames = self.frames.lock();
        let mut refs: BTreeMap<u64, u32> = BTreeMap::new();
        let zero = self.page_cache.zero();
        for (id, mm) in &self.mms {
            let mut prev_end = 0;
            for v in &mm.vmas {
                if v.start % 4096 != 0 || v.end % 4096 != 0 || v.start >= v.end || v.start < prev_end || v.end > TASK_SIZE {
                    return Err(format!("mm {id}: bad VMA {:#x}-{:#x} after {prev_end:#x}", v.start, v.end));
                }
                if v.uffd_ctx.is_some() != (v.flags & (VM_UFFD_MISSING | VM_UFFD_WP) != 0) {
                    return Err(format!("mm {id}: VMA {:#x} has a userfaultfd context iff a VM_UFFD flag: broken", v.start));
                }
                prev_end = v.end;
            }
            for (&va, pte) in &mm.pages {
                let Some(v) = mm.vma_at(va) else { return Err(format!("mm {id}: page {va:#x} is mapped outside every VMA")) };
                if pte.write && (v.flags & VM_WRITE == 0 || pte.kind != PageKind::Anon && v.flags & crate::mm::VM_SHARED == 0) {
                    return Err(format!("mm {id}: page {va:#x} is writable but must not be"));
                }
                // A private page is writable only while nothing else maps it (else a store
                // would leak into another address space: COW broken).
                if pte.write && v.flags & crate::mm::VM_SHARED == 0 && frames.refcount(pte.pa) != 1 {
                    return Err(format!("mm {id}: page {va:#x} is writable but its frame has {} references", frames.refcount(pte.pa)));
                }
                if (pte.kind == PageKind::Zero) != (Some(pte.pa) == zero) {
                    return Err(format!("mm {id}: page {va:#x} zero-page kind disagrees with its frame"));
                }
                // A device pfn (DAX) is no frame: its PTE takes no reference.
                if pte.kind == PageKind::Pfn {
                    if !self.iomem.is_zone_device_pfn(pte.pa / 4096) {
                        return Err(format!("mm {id}: page {va:#x} maps pfn {:#x}, which is no device page", pte.pa / 4096));
                    }
                } else if pte.kind != PageKind::Zero {
                    *refs.entry(pte.pa).or_default() += 1;
                }
                if !v.inaccessible() {
                    match self.hal.translate(mm.asid, va) {
                        Some((pa, f)) if pa == pte.pa && f.user && f.write == (pte.write && v.flags & VM_WRITE != 0) => {}
                        other => return Err(format!("mm {id}: page {va:#x} is {:?} in the kernel but {other:?} in the HAL", pte)),
                    }
                }
            }
        }
        for (_, _, pa) in self.page_cache.all() {
            *refs.entry(pa).or_default() += 1;
        }
        if let Some(z) = zero {
            refs.insert(z, 1);
        }
        // ZONE_DEVICE memmaps live in RAM frames the pmem driver holds.
        for pa in self.iomem.memmap_frames() {
            *refs.entry(pa).or_default() += 1;
        }
        // Slab caches hold their slabs' frames.
        for pa in self.files.cache().frames() {
            *refs.entry(pa).or_default() += 1;
        }
        for (pa, n) in frames.in_use() {
            match refs.get(&pa) {
                Some(&r) if r == n => {}
                Some(&r) => return Err(format!("frame {pa:#x} has {n} references but {r} mappings")),
                None => return Err(format!("frame {pa:#x} is in use ({n} references) but nothing maps it")),
            }
        }
        if refs.len() as u64 != frames.used {
            return Err(format!("{} frames are allocated but {} are referenced", frames.used, refs.len()));
        }
        Ok(())
    }

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
        // A userfaultfd context holds a user reference on its address space.
        for c in self.uffd.ctxs.values() {
            *mm_users.entry(c.mm).or_default() += 1;
        }
        for (ctx_id, c) in &self.uffd.ctxs {
            if c.released {
                return Err(format!("userfaultfd {ctx_id} is released but still listed"));
            }
            for id in &c.queues.ids() {
                let Some(f) = self.uffd.faults.get(id) else { return Err(format!("userfaultfd {ctx_id} queues fault {id}, which is gone")) };
                if f.ctx != *ctx_id {
                    return Err(format!("fault {id} is queued on userfaultfd {ctx_id} but belongs to {}", f.ctx));
                }
            }
        }
        for (id, f) in &self.uffd.faults {
            let queued = self.uffd.ctxs.get(&f.ctx).map(|c| c.queues.ids().iter().filter(|x| *x == id).count()).unwrap_or(0);
            if queued != 1 {
                return Err(format!("fault {id} of task {} is on {queued} userfaultfd queues", f.pid));
            }
            if !self.tasks.get(&f.pid).is_some_and(|t| t.state == TaskState::Sleeping && t.syscall.is_some()) {
                return Err(format!("task {} has a userfault queued but is not asleep in a syscall", f.pid));
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
        self.files.cache().check().map_err(|e| format!("filp cache: {e}"))?;
        if self.files.slabinfo().in_use != self.files.len() {
            return Err(format!("filp cache has {} objects in use for {} files", self.files.slabinfo().in_use, self.files.len()));
        }
        let files = self.files.entries();
        for (id, f) in &files {
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
            for (_, f) in files.iter().filter(|(_, f)| f.node == crate::fs::Node::Pipe(*id)) {
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
        // A socket belongs to exactly one open file, and every socket file's socket exists.
        for id in self.net.socks.socks.keys() {
            let n = files.iter().filter(|(_, f)| f.node == crate::fs::Node::Socket(*id)).count();
            if n != 1 {
                return Err(format!("socket {id} is held by {n} files"));
            }
        }
        for (fid, f) in &files {
            if let crate::fs::Node::Socket(s) = f.node {
                if !self.net.socks.socks.contains_key(&s) {
                    return Err(format!("file {fid} refers to socket {s}, which does not exist"));
                }
            }
        }
        self.check_mm_invariants()?;
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
