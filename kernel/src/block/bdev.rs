//! The raw block device of a virtio disk (`fs/block_dev.c`'s `def_blk_fops`, 4.3):
//! `read`, `write` and `fsync` of `/dev/vdX` as requests through the disk's queue.
//!
//! k43 has no block-device page cache: a read is one request for the sectors covering
//! the range, a write one request (after a read of the covering sectors when the range
//! is not sector-aligned: read-modify-write), and each call waits for its request. So a
//! raw `write` returns the device's status where 4.3 would only dirty page-cache pages
//! (its errors surfacing at writeback); the sizes and errnos at the edges
//! (`blkdev_read_iter`'s 0 at the end, `blkdev_write_iter`'s `ENOSPC`) are 4.3's. A
//! failed request gives `EIO`, decided by the request's `bi_error` alone — with
//! `kernel.k43_bugcompat_bio_chain_status=1` a failed piece of a split read can be
//! hidden by a later successful one, as in 4.3. Writes complete into the device's
//! volatile cache; `O_SYNC`/`O_DSYNC` writes and `fsync` then flush it
//! (`generic_write_sync` → `blkdev_fsync` → `blkdev_issue_flush`).
//!
//! Waiting: the handler submits, parks the task (returning [`SysErr::Block`]) with the
//! request's id and the step it is at in the restart state, and is woken by
//! `blk_dispatch` when the request finishes; it then runs again from the top and
//! collects it.

use super::genhd::{ReqId, ReqOwner, Request};
use super::SECTOR_SHIFT;
use crate::fs::file::FileId;
use crate::hal::{BlkOp, BlkRequest, Hal};
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::uapi::fcntl::{O_DSYNC, __O_SYNC};
use crate::uapi::Errno;
use alloc::vec::Vec;

/// Most bytes one `read` or `write` of a raw disk moves (a longer call is short): it
/// bounds the buffer one request allocates.
pub const BDEV_MAX_IO: u64 = 64 << 20;

/// Where a parked raw-device syscall is: the restart state holds the step in its top
/// byte, a batch size in the next 16 bits and the first request id below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BdevStep {
    /// A `read`'s request.
    Read = 1,
    /// The read half of an unaligned `write`.
    RmwRead = 2,
    /// A `write`'s request.
    Write = 3,
    /// The flush after an `O_SYNC` write, or of `fsync`.
    Flush = 4,
    /// The bios of `BLKDISCARD`/`BLKSECDISCARD`.
    Discard = 5,
}

impl BdevStep {
    fn from_u8(v: u8) -> Option<BdevStep> {
        Some(match v {
            1 => BdevStep::Read,
            2 => BdevStep::RmwRead,
            3 => BdevStep::Write,
            4 => BdevStep::Flush,
            5 => BdevStep::Discard,
            _ => return None,
        })
    }
}

/// Packs a parked step (see [`BdevStep`]).
pub fn pack_restart(step: BdevStep, first: ReqId, count: u64) -> u64 {
    ((step as u64) << 56) | ((count & 0xffff) << 40) | (first & ((1 << 40) - 1))
}

/// Unpacks a restart state of [`pack_restart`]: step, first request id, batch size.
pub fn unpack_restart(v: u64) -> Option<(BdevStep, ReqId, u64)> {
    Some((BdevStep::from_u8((v >> 56) as u8)?, v & ((1 << 40) - 1), (v >> 40) & 0xffff))
}

/// A request's status as the syscall reports it: 0, or `EIO` for any failure (the page
/// cache's `!PageUptodate` → `EIO`).
fn io_status(r: &Request) -> Result<(), Errno> {
    match r.done {
        Some(0) => Ok(()),
        _ => Err(Errno::EIO),
    }
}

impl<H: Hal> Kernel<H> {
    /// The HAL number of the virtio disk behind `rdev`, if it is one.
    pub(crate) fn virtblk_of(&self, rdev: u64) -> Option<u32> {
        self.blk.by_devt(rdev).map(|g| g.disk)
    }

    /// The size in bytes of the disk behind `rdev` (virtio or pmem): `ENXIO` without one.
    pub(crate) fn blkdev_size(&self, rdev: u64) -> Result<u64, Errno> {
        if let Some(g) = self.blk.by_devt(rdev) {
            return Ok(g.capacity());
        }
        Ok(self.iomem.disk(rdev).ok_or(Errno::ENXIO)?.capacity())
    }

    /// The restart state of `pid`'s parked raw-device syscall, if it is one.
    pub(crate) fn bdev_restart(&self, pid: Pid) -> Option<(BdevStep, ReqId, u64)> {
        self.restart_state(pid).and_then(unpack_restart)
    }

    /// Collects the batch `first..first + count` of disk `disk` if it has finished (in
    /// completion order); else parks `pid` with `step` remembered and returns
    /// [`SysErr::Block`].
    pub(crate) fn bdev_wait(&mut self, pid: Pid, disk: u32, step: BdevStep, first: ReqId, count: u64) -> Result<Vec<Request>, SysErr> {
        let gd = self.blk.by_hal(disk).ok_or(SysErr::Errno(Errno::ENXIO))?;
        let ids = first..first + count;
        if gd.all_finished(ids.clone()) {
            return Ok(gd.take_range(ids));
        }
        self.set_restart_state(pid, pack_restart(step, first, count));
        Err(SysErr::Block)
    }

    /// Submits one request for `pid` on disk `disk` and waits for it (see
    /// [`Kernel::bdev_wait`]).
    fn bdev_submit_wait(&mut self, pid: Pid, disk: u32, step: BdevStep, req: BlkRequest) -> Result<Request, SysErr> {
        let gd = self.blk.by_hal(disk).ok_or(SysErr::Errno(Errno::ENXIO))?;
        let id = gd.submit(&self.hal, req.op, req.sector, req.sectors, req.data, ReqOwner::Task(pid), 0);
        let mut done = self.bdev_wait(pid, disk, step, id, 1)?;
        done.pop().ok_or(SysErr::Errno(Errno::EIO))
    }

    /// `blkdev_read_iter` for file `fid` open on virtio disk `disk`: 0 at or past the end,
    /// the count cut to the end, one request for the covering sectors.
    pub(crate) fn blkdev_read(&mut self, pid: Pid, fid: FileId, disk: u32, buf: u64, count: usize) -> SysResult {
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        let pos = f.pos;
        let size = self.blk.by_hal(disk).ok_or(Errno::ENXIO)?.capacity();
        if pos >= size {
            return Ok(0);
        }
        let n = (count as u64).min(size - pos).min(BDEV_MAX_IO);
        if n == 0 {
            return Ok(0);
        }
        let (s0, s1) = (pos >> SECTOR_SHIFT, (pos + n).div_ceil(1 << SECTOR_SHIFT));
        let req = match self.bdev_restart(pid) {
            Some((BdevStep::Read, first, _)) => self.bdev_wait(pid, disk, BdevStep::Read, first, 1)?.pop().ok_or(Errno::EIO)?,
            _ => self.bdev_submit_wait(pid, disk, BdevStep::Read, BlkRequest { op: BlkOp::Read, sector: s0, sectors: s1 - s0, data: Vec::new() })?,
        };
        io_status(&req)?;
        let off = (pos - (s0 << SECTOR_SHIFT)) as usize;
        let data = req.buf.get(off..off + n as usize).ok_or(Errno::EIO)?;
        self.copy_to_user(pid, buf, data)?;
        self.files.update(&fid, |fm| fm.pos += n);
        Ok(n as i64)
    }

    /// `blkdev_write_iter` for file `fid` open on virtio disk `disk`: 0 for nothing,
    /// `ENOSPC` at or past the end, the count cut to the end; an unaligned range reads
    /// its covering sectors first; an `O_SYNC`/`O_DSYNC` file then flushes the device's
    /// cache (`generic_write_sync`).
    pub(crate) fn blkdev_write(&mut self, pid: Pid, fid: FileId, disk: u32, buf: u64, count: usize) -> SysResult {
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        let (pos, sync) = (f.pos, f.flags & (O_DSYNC | __O_SYNC) != 0);
        if count == 0 {
            return Ok(0);
        }
        let size = self.blk.by_hal(disk).ok_or(Errno::ENXIO)?.capacity();
        if pos >= size {
            return Err(Errno::ENOSPC.into());
        }
        let n = (count as u64).min(size - pos).min(BDEV_MAX_IO);
        let (s0, s1) = (pos >> SECTOR_SHIFT, (pos + n).div_ceil(1 << SECTOR_SHIFT));
        let aligned = pos % (1 << SECTOR_SHIFT) == 0 && n % (1 << SECTOR_SHIFT) == 0;
        let restart = self.bdev_restart(pid);
        // The write's request, submitted now or collected after a wakeup.
        let written = match restart {
            Some((BdevStep::Flush, ..)) => None,
            Some((BdevStep::Write, first, _)) => Some(self.bdev_wait(pid, disk, BdevStep::Write, first, 1)?.pop().ok_or(Errno::EIO)?),
            _ => {
                let data = self.read_user(pid, buf, n as usize)?;
                let image = if aligned {
                    data
                } else {
                    let old = match restart {
                        Some((BdevStep::RmwRead, first, _)) => self.bdev_wait(pid, disk, BdevStep::RmwRead, first, 1)?.pop().ok_or(Errno::EIO)?,
                        _ => self.bdev_submit_wait(pid, disk, BdevStep::RmwRead, BlkRequest { op: BlkOp::Read, sector: s0, sectors: s1 - s0, data: Vec::new() })?,
                    };
                    io_status(&old)?;
                    let mut image = old.buf;
                    let off = (pos - (s0 << SECTOR_SHIFT)) as usize;
                    let dst = image.get_mut(off..off + n as usize).ok_or(Errno::EIO)?;
                    dst.copy_from_slice(&data);
                    image
                };
                Some(self.bdev_submit_wait(pid, disk, BdevStep::Write, BlkRequest { op: BlkOp::Write { fua: false }, sector: s0, sectors: s1 - s0, data: image })?)
            }
        };
        if let Some(w) = written {
            io_status(&w)?;
        }
        if sync {
            let flushed = match restart {
                Some((BdevStep::Flush, first, _)) => self.bdev_wait(pid, disk, BdevStep::Flush, first, 1)?.pop(),
                _ => Some(self.bdev_submit_wait(pid, disk, BdevStep::Flush, BlkRequest { op: BlkOp::Flush, sector: 0, sectors: 0, data: Vec::new() })?),
            };
            let r = flushed.and_then(|r| r.done).unwrap_or(0);
            self.files.update(&fid, |fm| fm.pos += n);
            // blkdev_fsync: a device without flushes is not an error.
            if r != 0 && r != Errno::EOPNOTSUPP.ret() as i32 {
                return Err(Errno(-r).into());
            }
            return Ok(n as i64);
        }
        self.files.update(&fid, |fm| fm.pos += n);
        Ok(n as i64)
    }

    /// `blkdev_fsync` of virtio disk `disk`: nothing is dirty in a page cache (there is
    /// none), so it is `blkdev_issue_flush` — the device's volatile cache made durable —
    /// with `EOPNOTSUPP` from the device taken as success. For the `fsync`/`fdatasync`
    /// syscalls on a raw disk.
    pub fn blkdev_fsync(&mut self, pid: Pid, disk: u32) -> SysResult {
        let r = match self.bdev_restart(pid) {
            Some((BdevStep::Flush, first, _)) => self.bdev_wait(pid, disk, BdevStep::Flush, first, 1)?.pop(),
            _ => Some(self.bdev_submit_wait(pid, disk, BdevStep::Flush, BlkRequest { op: BlkOp::Flush, sector: 0, sectors: 0, data: Vec::new() })?),
        };
        match r.and_then(|r| r.done).unwrap_or(0) {
            0 => Ok(0),
            e if e == Errno::EOPNOTSUPP.ret() as i32 => Ok(0),
            e => Err(Errno(-e).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_state_round_trips() {
        for step in [BdevStep::Read, BdevStep::RmwRead, BdevStep::Write, BdevStep::Flush, BdevStep::Discard] {
            let v = pack_restart(step, 123_456, 77);
            assert_eq!(unpack_restart(v), Some((step, 123_456, 77)));
        }
        assert_eq!(unpack_restart(5), None, "a pipe's byte count is not a block step");
    }
}
