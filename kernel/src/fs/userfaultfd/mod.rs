//! userfaultfd (`fs/userfaultfd.c`, `mm/userfaultfd.c`, 4.3): user-space handling of
//! missing-page faults in registered ranges of private anonymous memory.
//!
//! A context belongs to the address space of the task that created it and holds a user
//! reference on it (`mm_users`), so ioctls keep working on it after that task exited,
//! until the descriptor is closed. A task whose access (a kernel copy from or to user
//! memory, or a user-mode touch) finds a missing page in a `VM_UFFD_MISSING` VMA queues a
//! message and sleeps on its own wait queue; the syscall it was in re-runs from the top
//! after the wakeup. 4.3's architecture fault handlers allow one retry: a task woken
//! while its page is still missing fails the access (`EFAULT` from a kernel copy,
//! `SIGBUS` for user mode) instead of faulting to user space again. The retry allowance
//! is per syscall: it is forgotten when the syscall returns.
//!
//! Not modelled: transparent huge pages (k43 maps 4 KiB pages only, so `EEXIST` for a
//! THP-backed PMD cannot happen), `/proc/<pid>/fdinfo`.

mod queues;

pub use queues::{FaultQueues, QueuedFault};

use super::Node;
use crate::hal::{Hal, VirtAddr, PAGE_SIZE};
use crate::kernel::sched::WqId;
use crate::kernel::task::ObjId;
use crate::kernel::{Kernel, Pid};
use crate::mm::{Mm, PageKind, Pte, VM_SHARED, VM_UFFD_MISSING, VM_UFFD_WP, VM_WRITE};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::fcntl::{O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::uapi::userfaultfd::*;
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

/// Id of a userfaultfd context.
pub type UffdId = u64;

/// One userfaultfd context (`struct userfaultfd_ctx`).
#[derive(Debug)]
pub struct UffdCtx {
    /// The registered address space (a user reference is held on it).
    pub mm: ObjId,
    /// `UFFDIO_API` done (`UFFD_STATE_RUNNING`).
    pub running: bool,
    /// The last file reference is gone.
    pub released: bool,
    /// The faults sleeping on this context: not yet read, and read but not woken.
    pub queues: FaultQueues,
    /// Readers (and pollers) waiting for a fault to be queued.
    pub read_wq: WqId,
}

/// A task sleeping on a userfault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UffdFault {
    pub ctx: UffdId,
    pub pid: Pid,
    /// The exact faulting address (4.3 does not round it to the page).
    pub addr: VirtAddr,
    pub write: bool,
    /// The faulting task sleeps here alone, so a wake can pick faults by address.
    pub wq: WqId,
}

/// All userfaultfd state of a kernel.
#[derive(Debug, Default)]
pub struct UffdState {
    pub ctxs: BTreeMap<UffdId, UffdCtx>,
    pub faults: BTreeMap<u64, UffdFault>,
    pub next_fault: u64,
    /// `(task, page)` woken from a userfault during the current syscall: the retry of
    /// that access runs without `FAULT_FLAG_ALLOW_RETRY`.
    pub retried: BTreeSet<(Pid, VirtAddr)>,
}

/// What the fault path does with a userfault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserfaultOutcome {
    /// Queued; the task sleeps (the syscall re-runs after the wakeup).
    Sleep,
    /// `VM_FAULT_SIGBUS`: the context is released, or this is the one retry.
    Sigbus,
}

fn range_checks(start: u64, len: u64, min_addr: u64, task_size: u64) -> Result<(), Errno> {
    // validate_range
    if start & (PAGE_SIZE - 1) != 0 || len & (PAGE_SIZE - 1) != 0 || len == 0 || start < min_addr || start >= task_size || len > task_size - start {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

impl<H: Hal> Kernel<H> {
    /// `userfaultfd(2)`.
    pub(crate) fn sys_userfaultfd(&mut self, pid: Pid, flags: u32) -> SysResult {
        // get_unused_fd_flags comes first: a full table is EMFILE whatever the flags.
        let tid = self.files_of(pid)?;
        if self.fdtables.get(&tid).and_then(|t| t.lowest_free()).is_none() {
            return Err(Errno::EMFILE.into());
        }
        if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let mm = self.task(pid).ok_or(Errno::ESRCH)?.mm;
        let m = self.mms.get_mut(&mm).ok_or(Errno::ENOMEM)?;
        m.users += 1;
        let read_wq = self.sched.new_waitqueue();
        let id = self.next_id();
        self.uffd.ctxs.insert(id, UffdCtx { mm, running: false, released: false, queues: FaultQueues::new(), read_wq });
        let file = match self.alloc_file(Node::Userfaultfd(id), O_RDWR | (flags & O_NONBLOCK)) {
            Ok(f) => f,
            Err(e) => {
                // Nothing refers to the context yet: release it as a close would.
                self.uffd_release(id);
                return Err(e.into());
            }
        };
        Ok(self.fd_install_lowest(pid, file, flags & O_CLOEXEC != 0)? as i64)
    }

    /// The fault path's hook (`handle_userfault`): `pid` touched missing page `addr` of a
    /// `VM_UFFD_MISSING` VMA of address space `mm`.
    pub(crate) fn handle_userfault(&mut self, pid: Pid, mm: ObjId, addr: VirtAddr, write: bool) -> UserfaultOutcome {
        let page = addr & !(PAGE_SIZE - 1);
        let ctx = self.mms.get(&mm).and_then(|m| m.vma_at(addr)).and_then(|v| v.uffd_ctx);
        let Some(ctx) = ctx.filter(|c| self.uffd.ctxs.get(c).is_some_and(|x| !x.released)) else {
            return UserfaultOutcome::Sigbus;
        };
        if self.uffd.retried.remove(&(pid, page)) {
            return UserfaultOutcome::Sigbus;
        }
        let wq = self.sched.new_waitqueue();
        let id = self.uffd.next_fault;
        self.uffd.next_fault += 1;
        self.uffd.faults.insert(id, UffdFault { ctx, pid, addr, write, wq });
        let read_wq = match self.uffd.ctxs.get_mut(&ctx) {
            Some(c) => {
                c.queues.enqueue(QueuedFault { id, addr });
                c.read_wq
            }
            None => return UserfaultOutcome::Sigbus,
        };
        self.wake_up(read_wq);
        let _ = self.wait_on(pid, wq);
        UserfaultOutcome::Sleep
    }

    /// Tasks asleep on a userfault, each with the context it waits on, oldest fault first
    /// (a read-only view for tests and fuzz targets: who is waiting on a handler).
    pub fn uffd_sleepers(&self) -> Vec<(Pid, UffdId)> {
        self.uffd.faults.values().map(|f| (f.pid, f.ctx)).collect()
    }

    /// Open userfaultfd contexts (for leak checks).
    pub fn uffd_contexts(&self) -> usize {
        self.uffd.ctxs.len()
    }

    /// Forgets `pid`'s retry allowances: its syscall returned.
    pub(crate) fn uffd_syscall_done(&mut self, pid: Pid) {
        if !self.uffd.retried.is_empty() {
            self.uffd.retried.retain(|&(p, _)| p != pid);
        }
    }

    /// Wakes the faults of `ctx` whose address lies in `[start, end)` (both queues).
    fn uffd_wake_range(&mut self, ctx: UffdId, start: u64, end: u64) {
        let mut ids = Vec::new();
        if let Some(c) = self.uffd.ctxs.get(&ctx) {
            c.queues.wake_range(start, end, &mut ids);
        }
        self.uffd_wake(&ids, true);
    }

    /// Wakes faults `ids`; `retry`: their re-run is the one retry 4.3 allows.
    fn uffd_wake(&mut self, ids: &[u64], retry: bool) {
        for &id in ids {
            let Some(f) = self.uffd_unqueue(id) else { continue };
            if retry {
                self.uffd.retried.insert((f.pid, f.addr & !(PAGE_SIZE - 1)));
            }
            self.wake_up(f.wq);
        }
    }

    /// Takes fault `id` off its context's queues and the fault table.
    fn uffd_unqueue(&mut self, id: u64) -> Option<UffdFault> {
        let f = self.uffd.faults.remove(&id)?;
        if let Some(c) = self.uffd.ctxs.get(&f.ctx) {
            c.queues.remove(id);
        }
        Some(f)
    }

    /// A task that dies (or is interrupted) while sleeping on a userfault leaves the
    /// queues.
    pub(crate) fn uffd_forget_task(&mut self, pid: Pid) {
        let ids: Vec<u64> = self.uffd.faults.iter().filter(|(_, f)| f.pid == pid).map(|(&i, _)| i).collect();
        for id in ids {
            if let Some(f) = self.uffd_unqueue(id) {
                self.sched.waitqueues.remove(&f.wq);
            }
        }
        self.uffd.retried.retain(|&(p, _)| p != pid);
    }

    /// `userfaultfd_release`: the last reference to the file is gone.
    pub(crate) fn uffd_release(&mut self, ctx: UffdId) {
        let Some(c) = self.uffd.ctxs.get_mut(&ctx) else { return };
        c.released = true;
        let (mm_id, read_wq) = (c.mm, c.read_wq);
        if let Some(mm) = self.mms.get_mut(&mm_id) {
            // Unregister every VMA this context owns, merging where possible.
            let mut i = 0;
            while i < mm.vmas.len() {
                if mm.vmas[i].uffd_ctx == Some(ctx) {
                    mm.vmas[i].uffd_ctx = None;
                    mm.vmas[i].flags &= !(VM_UFFD_MISSING | VM_UFFD_WP);
                    i = mm.merge_around(i);
                }
                i += 1;
            }
        }
        // The woken tasks retry on an unregistered range: an ordinary fault, so this wake
        // grants no "one retry".
        let mut ids = Vec::new();
        if let Some(c) = self.uffd.ctxs.get(&ctx) {
            c.queues.wake_all(&mut ids);
        }
        self.uffd_wake(&ids, false);
        self.wake_up(read_wq);
        self.uffd.ctxs.remove(&ctx);
        self.sched.waitqueues.remove(&read_wq);
        self.mmput(mm_id);
    }

    /// `userfaultfd_poll`: `POLLERR` before the handshake and for a descriptor without
    /// `O_NONBLOCK` (poll cannot promise a read will not block: a fault may be woken in
    /// between), `POLLIN` while a fault is pending, never `POLLOUT`. Pollers sleep on the
    /// queue `handle_userfault` wakes.
    pub(crate) fn uffd_poll(&self, ctx: UffdId, nonblock: bool) -> (u16, Option<WqId>) {
        use crate::fs::poll::{POLLERR, POLLIN};
        let Some(c) = self.uffd.ctxs.get(&ctx) else { return (POLLERR, None) };
        let mask = if !c.running || !nonblock {
            POLLERR
        } else if !c.queues.has_pending() {
            0
        } else {
            POLLIN
        };
        (mask, Some(c.read_wq))
    }

    /// `read(2)` on a userfaultfd: whole 32-byte messages, FIFO; only the first may block.
    pub(crate) fn uffd_read(&mut self, pid: Pid, ctx: UffdId, nonblock: bool, buf: u64, count: usize) -> SysResult {
        let c = self.uffd.ctxs.get(&ctx).ok_or(Errno::EINVAL)?;
        if !c.running {
            return Err(Errno::EINVAL.into());
        }
        let mut total = 0usize;
        let mut nonblock = nonblock;
        loop {
            if count - total < UFFD_MSG_SIZE {
                return if total > 0 { Ok(total as i64) } else { Err(Errno::EINVAL.into()) };
            }
            let c = self.uffd.ctxs.get(&ctx).ok_or(Errno::EINVAL)?;
            let Some(QueuedFault { id, .. }) = c.queues.first_pending() else {
                if total > 0 {
                    return Ok(total as i64);
                }
                if nonblock {
                    return Err(Errno::EAGAIN.into());
                }
                let wq = c.read_wq;
                return Err(self.wait_on(pid, wq));
            };
            let Some(f) = self.uffd.faults.get(&id).copied() else {
                // Not reachable while the invariants hold; never loop on it.
                if let Some(c) = self.uffd.ctxs.get(&ctx) {
                    c.queues.remove(id);
                }
                continue;
            };
            let msg = pagefault_msg(f.addr, f.write);
            match self.copy_to_user(pid, buf + total as u64, &msg) {
                Ok(()) => {}
                // The buffer itself waits on a userfault. Nothing was taken off the queue:
                // the re-run after the wakeup reads this message (Linux sleeps inside the
                // copy). With messages already copied, return those instead of sleeping.
                Err(Errno::ERESTARTSYS) if total > 0 => {
                    self.uffd_forget_task(pid);
                    return Ok(total as i64);
                }
                Err(Errno::ERESTARTSYS) => return Err(Errno::ERESTARTSYS.into()),
                Err(e) => {
                    // The message is lost: the fault moves to the read queue, asleep.
                    self.uffd_move_to_read(ctx, id);
                    return if total > 0 { Ok(total as i64) } else { Err(e.into()) };
                }
            }
            self.uffd_move_to_read(ctx, id);
            total += UFFD_MSG_SIZE;
            nonblock = true;
        }
    }

    /// `read()` returned fault `id`: from the pending queue to the read queue.
    fn uffd_move_to_read(&mut self, ctx: UffdId, id: u64) {
        if let Some(c) = self.uffd.ctxs.get(&ctx) {
            c.queues.refile(id);
        }
    }

    /// `ioctl(2)` on a userfaultfd.
    pub(crate) fn uffd_ioctl(&mut self, pid: Pid, ctx: UffdId, cmd: u32, arg: u64) -> SysResult {
        let running = self.uffd.ctxs.get(&ctx).ok_or(Errno::EINVAL)?.running;
        if cmd == UFFDIO_API {
            return self.uffdio_api(pid, ctx, arg);
        }
        if !running {
            return Err(Errno::EINVAL.into());
        }
        match cmd {
            UFFDIO_REGISTER => self.uffdio_register(pid, ctx, arg),
            UFFDIO_UNREGISTER => self.uffdio_unregister(pid, ctx, arg),
            UFFDIO_WAKE => {
                let mut b = [0u8; UFFDIO_RANGE_SIZE];
                self.copy_from_user(pid, arg, &mut b)?;
                let (start, len) = (le64(&b, 0), le64(&b, 8));
                self.uffd_validate_range(start, len)?;
                self.uffd_wake_range(ctx, start, start + len);
                Ok(0)
            }
            UFFDIO_COPY => self.uffdio_copy(pid, ctx, arg, false),
            UFFDIO_ZEROPAGE => self.uffdio_copy(pid, ctx, arg, true),
            _ => Err(Errno::EINVAL.into()),
        }
    }

    /// `validate_range` against the registered process's limits (k43 gives every
    /// address space x86_64's `TASK_SIZE`).
    fn uffd_validate_range(&self, start: u64, len: u64) -> Result<(), Errno> {
        range_checks(start, len, self.mmap_min_addr(), crate::mm::TASK_SIZE)
    }

    fn uffdio_api(&mut self, pid: Pid, ctx: UffdId, arg: u64) -> SysResult {
        if self.uffd.ctxs.get(&ctx).is_none_or(|c| c.running) {
            return Err(Errno::EINVAL.into());
        }
        let mut b = [0u8; UFFDIO_API_SIZE];
        self.copy_from_user(pid, arg, &mut b)?;
        if le64(&b, 0) != UFFD_API || le64(&b, 8) != UFFD_API_FEATURES {
            self.copy_to_user(pid, arg, &[0u8; UFFDIO_API_SIZE])?;
            return Err(Errno::EINVAL.into());
        }
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&UFFD_API_FEATURES.to_le_bytes());
        out[8..].copy_from_slice(&UFFD_API_IOCTLS.to_le_bytes());
        self.copy_to_user(pid, arg + 8, &out)?;
        if let Some(c) = self.uffd.ctxs.get_mut(&ctx) {
            c.running = true;
        }
        Ok(0)
    }

    /// The VMAs of `[start, end)` in `mm`: `ENOMEM` with none at or above `start`,
    /// `EINVAL` when the first one starts at or past `end`, `EINVAL` for one with `vm_ops`
    /// (a file or shared mapping).
    fn uffd_range_vmas(mm: &Mm, start: u64, end: u64) -> Result<(usize, usize), Errno> {
        let first = mm.find_vma(start).ok_or(Errno::ENOMEM)?;
        if mm.vmas[first].start >= end {
            return Err(Errno::EINVAL);
        }
        let last = mm.vmas.partition_point(|v| v.start < end);
        Ok((first, last))
    }

    /// `validate_range`, then the context's address space, the range end and
    /// `vm.max_map_count` for the VMA splits.
    fn uffd_target(&self, ctx: UffdId, start: u64, len: u64) -> Result<(ObjId, u64, usize), Errno> {
        self.uffd_validate_range(start, len)?;
        let mm_id = self.uffd.ctxs.get(&ctx).ok_or(Errno::EINVAL)?.mm;
        Ok((mm_id, start + len, self.max_map_count()))
    }

    fn uffdio_register(&mut self, pid: Pid, ctx: UffdId, arg: u64) -> SysResult {
        let mut b = [0u8; 24];
        self.copy_from_user(pid, arg, &mut b)?;
        let (start, len, mode) = (le64(&b, 0), le64(&b, 8), le64(&b, 16));
        if mode == 0 || mode & !(UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP) != 0 || mode & UFFDIO_REGISTER_MODE_WP != 0 {
            return Err(Errno::EINVAL.into());
        }
        let (mm_id, end, max) = self.uffd_target(ctx, start, len)?;
        let mm = self.mms.get_mut(&mm_id).ok_or(Errno::ENOMEM)?;
        let (first, last) = Self::uffd_range_vmas(mm, start, end)?;
        for v in &mm.vmas[first..last] {
            if v.file.is_some() || v.flags & VM_SHARED != 0 {
                return Err(Errno::EINVAL.into());
            }
            if v.uffd_ctx.is_some_and(|c| c != ctx) {
                return Err(Errno::EBUSY.into());
            }
        }
        set_uffd(mm, start, end, Some(ctx), max)?;
        self.copy_to_user(pid, arg + 24, &UFFD_API_RANGE_IOCTLS.to_le_bytes())?;
        Ok(0)
    }

    fn uffdio_unregister(&mut self, pid: Pid, ctx: UffdId, arg: u64) -> SysResult {
        let mut b = [0u8; UFFDIO_RANGE_SIZE];
        self.copy_from_user(pid, arg, &mut b)?;
        let (start, len) = (le64(&b, 0), le64(&b, 8));
        let (mm_id, end, max) = self.uffd_target(ctx, start, len)?;
        let mm = self.mms.get_mut(&mm_id).ok_or(Errno::ENOMEM)?;
        let (first, last) = Self::uffd_range_vmas(mm, start, end)?;
        if mm.vmas[first..last].iter().any(|v| v.file.is_some() || v.flags & VM_SHARED != 0) {
            return Err(Errno::EINVAL.into());
        }
        // 4.3 clears any owner (not only this context) and wakes nobody.
        set_uffd(mm, start, end, None, max)?;
        Ok(0)
    }

    /// `UFFDIO_COPY` (`zero == false`) and `UFFDIO_ZEROPAGE`.
    fn uffdio_copy(&mut self, pid: Pid, ctx: UffdId, arg: u64, zero: bool) -> SysResult {
        let in_len = if zero { 24 } else { 32 };
        let mut b = [0u8; 32];
        self.copy_from_user(pid, arg, &mut b[..in_len])?;
        let (dst, src, len, mode) = if zero { (le64(&b, 0), 0, le64(&b, 8), le64(&b, 16)) } else { (le64(&b, 0), le64(&b, 8), le64(&b, 16), le64(&b, 24)) };
        self.uffd_validate_range(dst, len)?;
        if !zero && src.checked_add(len).is_none() {
            return Err(Errno::EINVAL.into());
        }
        if mode & !UFFDIO_COPY_MODE_DONTWAKE != 0 {
            return Err(Errno::EINVAL.into());
        }
        let r = self.uffd_fill(pid, ctx, dst, src, len, zero);
        let out_off = if zero { 24 } else { 32 };
        self.copy_to_user(pid, arg + out_off, &r.to_le_bytes())?;
        if r < 0 {
            return Err(Errno((-r) as i32).into());
        }
        if mode & UFFDIO_COPY_MODE_DONTWAKE == 0 {
            self.uffd_wake_range(ctx, dst, dst + r as u64);
        }
        if r as u64 == len {
            Ok(0)
        } else {
            Err(Errno::EAGAIN.into())
        }
    }

    /// The fill loop: installs pages at `[dst, dst+len)` of the context's address space
    /// (copied from `src` in the caller's, or the zero page); bytes installed, or the
    /// negative errno of the first page when none was.
    fn uffd_fill(&mut self, pid: Pid, ctx: UffdId, dst: u64, src: u64, len: u64, zero: bool) -> i64 {
        let Some(mm_id) = self.uffd.ctxs.get(&ctx).map(|c| c.mm) else { return Errno::EINVAL.ret() };
        let vma_ok = self.mms.get(&mm_id).and_then(|m| m.vma_at(dst).cloned()).filter(|v| v.flags & VM_SHARED == 0 && dst + len <= v.end && v.uffd_ctx.is_some() && v.file.is_none());
        let Some(vma) = vma_ok else { return Errno::EINVAL.ret() };
        let mut copied = 0u64;
        let mut err = 0i64;
        while copied < len {
            let page = dst + copied;
            if self.mms.get(&mm_id).is_some_and(|m| m.pages.contains_key(&page)) {
                err = Errno::EEXIST.ret();
                break;
            }
            let pte = if zero {
                let env_pa = self.with_mem(mm_id, |env, _| env.cache.zero_page(env.hal, env.frames)).flatten();
                match env_pa {
                    Some(pa) => Pte { pa, write: false, kind: PageKind::Zero },
                    None => {
                        err = Errno::ENOMEM.ret();
                        break;
                    }
                }
            } else {
                let mut data = alloc::vec![0u8; PAGE_SIZE as usize];
                match self.copy_from_user(pid, src + copied, &mut data) {
                    Ok(()) => {}
                    // The source page waits on a userfault. Linux sleeps inside the copy
                    // and carries on after the wakeup; a re-run from the top would find
                    // the pages already installed (EEXIST), so with pages done the call
                    // returns them instead of sleeping (`uffd_read` does the same).
                    Err(Errno::ERESTARTSYS) if copied > 0 => {
                        self.uffd_forget_task(pid);
                        break;
                    }
                    Err(e) => {
                        err = e.ret();
                        break;
                    }
                }
                let Some(pa) = self.frames.lock().alloc() else {
                    err = Errno::ENOMEM.ret();
                    break;
                };
                self.hal.phys_write(pa, &data);
                Pte { pa, write: vma.flags & VM_WRITE != 0, kind: PageKind::Anon }
            };
            // The zero page is not reference counted; a fresh frame's one reference moves
            // to the PTE (install_pte drops it on failure).
            let ok = self.with_mem(mm_id, |env, mm| crate::mm::memory::install_pte(env, mm, page, pte));
            if !matches!(ok, Some(Ok(()))) {
                err = Errno::ENOMEM.ret();
                break;
            }
            copied += PAGE_SIZE;
        }
        if copied > 0 {
            copied as i64
        } else {
            err
        }
    }
}

/// Sets (`Some`) or clears (`None`) the userfaultfd owner of every VMA part in
/// `[start, end)`, splitting at the edges and merging afterwards; holes stay as they are.
/// A split past `vm.max_map_count` is `ENOMEM` with the earlier VMAs already changed.
fn set_uffd(mm: &mut Mm, start: u64, end: u64, ctx: Option<UffdId>, max: usize) -> Result<(), Errno> {
    let mut i = mm.find_vma(start).ok_or(Errno::ENOMEM)?;
    while i < mm.vmas.len() && mm.vmas[i].start < end {
        let want_flags = match ctx {
            Some(_) => (mm.vmas[i].flags & !VM_UFFD_WP) | VM_UFFD_MISSING,
            None => mm.vmas[i].flags & !(VM_UFFD_MISSING | VM_UFFD_WP),
        };
        if mm.vmas[i].uffd_ctx == ctx && mm.vmas[i].flags == want_flags {
            i += 1;
            continue;
        }
        if mm.vmas[i].start < start {
            if mm.vmas.len() >= max {
                return Err(Errno::ENOMEM);
            }
            mm.split_vma(i, start);
            i += 1;
        }
        if mm.vmas[i].end > end {
            if mm.vmas.len() >= max {
                return Err(Errno::ENOMEM);
            }
            mm.split_vma(i, end);
        }
        mm.vmas[i].flags = want_flags;
        mm.vmas[i].uffd_ctx = ctx;
        i = mm.merge_around(i) + 1;
    }
    Ok(())
}
