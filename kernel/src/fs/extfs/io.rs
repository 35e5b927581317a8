//! Running filesystem operations against the buffer cache, and the cache's side of the
//! disk's completions.

use super::{MntId, Txn};
use crate::block::genhd::ReqOwner;
use crate::fs::bcache::{BufferCache, CacheIo};
use crate::fs::buffer::{BlockIo, FsError, FsResult, Overlay};
use crate::fs::ext4::{Ctx, Ext4, Time};
use crate::hal::{BlkOp, Hal};
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysErr;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// Starts the read a miss on `blk` needs (with readahead), unless one is in flight.
pub(crate) fn submit_read<H: Hal>(hal: &H, blk: &mut crate::block::blkdev::BlockDevs, disk: u32, cache: &mut BufferCache, b: u64) {
    if cache.is_reading(b) {
        return;
    }
    let spb = (cache.block_size / 512) as u64;
    let (first, n) = cache.readahead_window(b);
    let Some(gd) = blk.by_hal(disk) else { return };
    let id = gd.submit(hal, BlkOp::Read, first * spb, n * spb, Vec::new(), ReqOwner::Cache, first);
    cache.start_read(id, first, n);
}

/// The cache seen read-only: misses are `Need`, writes stay in the caller's overlay.
struct PeekIo<'a> {
    cache: &'a BufferCache,
}

impl BlockIo for PeekIo<'_> {
    fn block_size(&self) -> usize {
        self.cache.block_size
    }
    fn read(&mut self, blk: u64) -> FsResult<Vec<u8>> {
        if blk >= self.cache.blocks {
            return Err(FsError::Errno(Errno::EIO));
        }
        self.cache.get(blk).cloned().ok_or(FsError::Need(blk))
    }
    fn write_meta(&mut self, _blk: u64, _data: &[u8]) -> FsResult<()> {
        Err(FsError::Errno(Errno::EROFS))
    }
    fn write_data(&mut self, _blk: u64, _data: &[u8]) -> FsResult<()> {
        Err(FsError::Errno(Errno::EROFS))
    }
    fn forget(&mut self, _blk: u64, _was_meta: bool) {}
    fn busy(&self, _blk: u64) -> bool {
        false
    }
}

/// How an operation's run ended.
enum Ran<R> {
    /// It completed; its writes are in the running transaction.
    Done(R),
    /// It needs a block; the read is under way.
    Reading,
    /// It failed; its writes were dropped.
    Failed(Errno),
}

impl<H: Hal> Kernel<H> {
    /// The context an operation of `pid` runs with: the time, its fsuid/fsgid,
    /// `CAP_SYS_RESOURCE`.
    pub(crate) fn ext_ctx(&self, pid: Pid) -> Ctx {
        let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
        let time = Time { sec: (now / 1_000_000_000) as i64, nsec: (now % 1_000_000_000) as u32 };
        match self.task(pid) {
            Some(t) => Ctx { now: time, uid: t.cred.fsuid, gid: t.cred.fsgid, cap_resource: crate::security::commoncap::capable(&t.cred, crate::uapi::capability::CAP_SYS_RESOURCE) },
            None => Ctx { now: time, ..Ctx::default() },
        }
    }

    /// Runs `f` on mount `mnt` for `pid`: against the cache, keeping its writes only if
    /// it completes. A miss parks `pid` until the block is read (the syscall then runs
    /// again); `write` operations on a read-only or aborted mount fail with `EROFS`
    /// before they start.
    pub(crate) fn ext_op<R>(&mut self, pid: Pid, mnt: MntId, write: bool, f: impl FnOnce(&Ext4, &mut dyn BlockIo) -> FsResult<R>) -> Result<R, SysErr> {
        match self.ext_run(mnt, write, f) {
            Ran::Done(v) => Ok(v),
            Ran::Failed(e) => Err(e.into()),
            Ran::Reading => {
                let Some(m) = self.ext.mounts.get(&mnt) else { return Err(Errno::EIO.into()) };
                let (disk, wq) = (m.disk, m.wq);
                let e = self.wait_on(pid, wq);
                self.blk_dispatch(disk);
                Err(e)
            }
        }
    }

    /// Runs the read-only `f` on `mnt` from `&self` (path walks, permission checks,
    /// stat): a missing block is noted in [`super::ExtState::wanted`] and the result is
    /// `ERESTARTSYS` — the syscall path then reads the block and parks the task, and the
    /// call runs again. A block whose read failed gives `EIO` (noted too, so the next try
    /// reads it again).
    pub(crate) fn ext_peek<R>(&self, mnt: MntId, f: impl FnOnce(&Ext4, &mut dyn BlockIo) -> FsResult<R>) -> Result<R, Errno> {
        let Some(m) = self.ext.mounts.get(&mnt) else { return Err(Errno::EIO) };
        let mut io = PeekIo { cache: &m.cache };
        let mut ov = Overlay::new(&mut io);
        match f(&m.fs, &mut ov) {
            Ok(v) => Ok(v),
            Err(FsError::Need(b)) => {
                self.ext.wanted.borrow_mut().push((mnt, b));
                if m.cache.read_error(b).is_some() {
                    return Err(Errno::EIO);
                }
                Err(Errno::ERESTARTSYS)
            }
            Err(FsError::Corrupted(_)) => Err(Errno::EUCLEAN),
            Err(FsError::Errno(e)) => Err(e),
        }
    }

    /// After a syscall: reads the blocks its read-only lookups missed (a block whose
    /// read failed is forgotten first, so it is tried again), parking `pid` on the mount
    /// when the call `blocked` for them.
    pub(crate) fn ext_park_wanted(&mut self, pid: Pid, blocked: bool) {
        let wanted = core::mem::take(&mut *self.ext.wanted.borrow_mut());
        for (mnt, b) in wanted {
            let Some(m) = self.ext.mounts.get_mut(&mnt) else { continue };
            if m.cache.take_read_error(b).is_some() {
                continue;
            }
            let (disk, wq) = (m.disk, m.wq);
            submit_read(&self.hal, &mut self.blk, disk, &mut m.cache, b);
            if blocked {
                let _ = self.wait_on(pid, wq);
            }
            self.blk_dispatch(disk);
        }
    }

    /// Runs `f` on `mnt` for the kernel itself (eviction): `false` when it waits for a
    /// block and must be tried again after the read completes.
    pub(crate) fn ext_op_background(&mut self, mnt: MntId, f: impl FnOnce(&Ext4, &mut dyn BlockIo) -> FsResult<()>) -> bool {
        match self.ext_run(mnt, true, f) {
            Ran::Reading => {
                if let Some(disk) = self.ext.mounts.get(&mnt).map(|m| m.disk) {
                    self.blk_dispatch(disk);
                }
                false
            }
            Ran::Done(()) | Ran::Failed(_) => true,
        }
    }

    fn ext_run<R>(&mut self, mnt: MntId, write: bool, f: impl FnOnce(&Ext4, &mut dyn BlockIo) -> FsResult<R>) -> Ran<R> {
        if write {
            if let Err(e) = self.ext_check_start(mnt) {
                return Ran::Failed(e);
            }
        }
        let now = self.hal.now_ns();
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return Ran::Failed(Errno::EIO) };
        let mut cio = CacheIo { cache: &mut m.cache, busy: &m.busy };
        let mut ov = Overlay::new(&mut cio);
        let r = f(&m.fs, &mut ov);
        let Overlay { meta, data, forgotten, .. } = ov;
        match r {
            Ok(v) => {
                let changed = !meta.is_empty() || !data.is_empty() || !forgotten.is_empty();
                let t: &mut Txn = &mut m.running;
                for (b, d) in meta {
                    t.data.remove(&b);
                    t.meta.insert(b);
                    m.cache.put(b, d);
                }
                for (b, d) in data {
                    t.meta.remove(&b);
                    t.data.insert(b);
                    m.cache.put(b, d);
                }
                for (b, was_meta) in forgotten {
                    // jbd2_journal_forget: a freed block's pending write is dropped; a
                    // metadata block is revoked so replay cannot bring it back over
                    // whatever reuses it.
                    t.data.remove(&b);
                    t.freed.insert(b);
                    m.busy.insert(b);
                    if was_meta {
                        t.meta.remove(&b);
                        t.revoked.insert(b);
                    }
                }
                if changed && t.started_ns.is_none() {
                    t.started_ns = Some(now);
                    self.hal.set_timer(self.next_timer());
                }
                if self.ext.mounts.get(&mnt).is_some_and(|m| m.running_full()) {
                    if let Some(m) = self.ext.mounts.get_mut(&mnt) {
                        m.commit_requested = true;
                    }
                    self.ext_start_commit(mnt);
                }
                Ran::Done(v)
            }
            Err(FsError::Need(b)) => {
                if let Some(e) = m.cache.take_read_error(b) {
                    // No buffer_head line: file pages are read by ext4_mpage_readpages,
                    // whose bios end without a message ("Buffer I/O error … async page
                    // read" is block_read_full_page's, for pages with holes or
                    // discontiguous blocks), and metadata by sb_bread, whose
                    // end_buffer_read_sync is silent too.
                    return Ran::Failed(Errno(-e));
                }
                let disk = m.disk;
                submit_read(&self.hal, &mut self.blk, disk, &mut m.cache, b);
                Ran::Reading
            }
            Err(FsError::Corrupted(what)) => {
                self.ext4_error(mnt, what);
                Ran::Failed(Errno::EUCLEAN)
            }
            Err(FsError::Errno(e)) => Ran::Failed(e),
        }
    }

    /// `ext4_journal_check_start`: a read-only mount refuses changes; an aborted journal
    /// is reported once (`ext4_abort`) and the mount goes read-only.
    fn ext_check_start(&mut self, mnt: MntId) -> Result<(), Errno> {
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return Err(Errno::EIO) };
        if m.journal.as_ref().is_some_and(|j| j.aborted) && !m.abort_reported {
            m.abort_reported = true;
            let dev = m.fs.dev_name.clone();
            crate::printk!(self, "EXT4-fs error (device {}): ext4_journal_check_start:56: Detected aborted journal", dev);
            crate::printk!(self, "EXT4-fs ({}): Remounting filesystem read-only", dev);
            // The superblock is MS_RDONLY from now on (/proc/mounts shows "ro").
            for mt in self.vfs.mount_table.mounts.iter_mut().filter(|x| matches!(x.root, crate::fs::namespace::MountRoot::Ext(i) if i == mnt)) {
                mt.sb_flags |= crate::fs::namespace::MS_RDONLY;
            }
            return Err(Errno::EROFS);
        }
        if m.read_only || m.fs.read_only {
            return Err(Errno::EROFS);
        }
        Ok(())
    }

    /// `ext4_error`: the inconsistency is logged and recorded (`ERROR_FS` at unmount);
    /// with the default `errors=continue` the filesystem stays writable, as mke2fs's
    /// default `s_errors` asks.
    pub(crate) fn ext4_error(&mut self, mnt: MntId, what: &str) {
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
        m.had_error = true;
        let dev = m.fs.dev_name.clone();
        crate::printk!(self, "EXT4-fs error (device {}): {}", dev, what);
    }

    /// The disk finished requests the buffer cache issued: reads fill the cache of the
    /// mount (or the mount in progress) of that disk, writes advance its plans, and the
    /// tasks waiting on it run again.
    pub(crate) fn bcache_end_io(&mut self, disk: u32) {
        let Some(gd) = self.blk.by_hal(disk) else { return };
        let done = gd.take_finished(ReqOwner::Cache);
        if let Some(mnt) = self.ext.of_disk(disk) {
            let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
            for (id, req) in done {
                if req.op == BlkOp::Read {
                    m.cache.end_read(id, req.done.unwrap_or(0), &req.buf);
                } else {
                    let st = req.done.unwrap_or(0);
                    for (_, p) in m.plans.iter_mut() {
                        if p.completed(id, st) {
                            break;
                        }
                    }
                }
            }
            self.ext_advance(mnt);
            self.ext_evict_pending(mnt);
            self.ext_wake(mnt);
        } else if let Some(p) = self.ext.pending.get_mut(&disk) {
            for (id, req) in done {
                if req.op == BlkOp::Read {
                    p.cache.end_read(id, req.done.unwrap_or(0), &req.buf);
                } else if let Some(plan) = p.plan.as_mut() {
                    plan.completed(id, req.done.unwrap_or(0));
                }
            }
            let wq = p.wq;
            self.mount_advance(disk);
            self.wake_up(wq);
        }
    }
}
