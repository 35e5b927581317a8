//! `blkdev_ioctl` (`block/ioctl.c`, 4.3) for a virtio disk: `BLKDISCARD` and
//! `BLKSECDISCARD` (the discard waits for every bio it issued, see `bdev.rs`), and the
//! size and limit queries. Requests it does not know go to the driver, whose
//! `virtblk_ioctl` answers `ENOTTY` without SCSI passthrough.

use super::bdev::BdevStep;
use super::discard::{blkdev_discard_bios, blkdev_discard_check, discard_batch_result};
use super::genhd::ReqOwner;
use super::SECTOR_SHIFT;
use crate::fs::file::FileId;
use crate::hal::{BlkOp, Hal};
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `BLKROGET`: `int` read-only flag.
pub const BLKROGET: u32 = 0x125e;
/// `BLKGETSIZE`: size in sectors as an `unsigned long`.
pub const BLKGETSIZE: u32 = 0x1260;
/// `BLKSSZGET`: logical block size as an `int`.
pub const BLKSSZGET: u32 = 0x1268;
/// `BLKDISCARD`: `uint64_t range[2]` = {start, length} in bytes.
pub const BLKDISCARD: u32 = 0x1277;
/// `BLKPBSZGET`: physical block size as an `unsigned int`.
pub const BLKPBSZGET: u32 = 0x127b;
/// `BLKDISCARDZEROES`: `unsigned int`.
pub const BLKDISCARDZEROES: u32 = 0x127c;
/// `BLKSECDISCARD`: as `BLKDISCARD`, with `REQ_SECURE`.
pub const BLKSECDISCARD: u32 = 0x127d;
/// `BLKROTATIONAL`: `unsigned short`.
pub const BLKROTATIONAL: u32 = 0x127e;
/// `BLKGETSIZE64`: size in bytes as a `u64` (`_IOR(0x12, 114, size_t)`).
pub const BLKGETSIZE64: u32 = 0x8008_1272;

/// Most bios one discard may wait for (the restart state's batch field).
const MAX_DISCARD_BATCH: usize = 0xffff;

impl<H: Hal> Kernel<H> {
    /// `blkdev_ioctl(bdev, mode, cmd, arg)` on file `fid`, open on virtio disk `disk`.
    pub(crate) fn blkdev_ioctl(&mut self, pid: Pid, fid: FileId, disk: u32, cmd: u32, arg: u64) -> SysResult {
        let gd = self.blk.by_hal(disk).ok_or(Errno::ENXIO)?;
        let l = gd.queue.limits;
        let (size, nonrot) = (gd.capacity(), gd.nonrot);
        let put: Vec<u8> = match cmd {
            BLKDISCARD | BLKSECDISCARD => return self.blk_ioctl_discard(pid, fid, disk, cmd == BLKSECDISCARD, arg),
            BLKROGET => 0i32.to_le_bytes().to_vec(),
            BLKGETSIZE => (size >> SECTOR_SHIFT).to_le_bytes().to_vec(),
            BLKSSZGET => (l.logical_block_size as i32).to_le_bytes().to_vec(),
            BLKPBSZGET => l.physical_block_size.to_le_bytes().to_vec(),
            // bdev_discard_zeroes_data → queue_discard_zeroes_data.
            BLKDISCARDZEROES => u32::from(l.discard_zeroes_data && l.max_discard_sectors != 0).to_le_bytes().to_vec(),
            BLKROTATIONAL => u16::from(!nonrot).to_le_bytes().to_vec(),
            BLKGETSIZE64 => size.to_le_bytes().to_vec(),
            _ => return Err(Errno::ENOTTY.into()),
        };
        self.copy_to_user(pid, arg, &put)?;
        Ok(0)
    }

    /// `BLKDISCARD`/`BLKSECDISCARD`: the checks in 4.3's order (not open for writing →
    /// `EBADF`; the range unreadable → `EFAULT`; start or length not a multiple of 512 →
    /// `EINVAL`; past the end → `EINVAL`), then `blkdev_issue_discard`: its bios
    /// submitted at once, the task parked until all have finished, the result
    /// `bio_batch_end_io`'s (the last error other than `EOPNOTSUPP`).
    fn blk_ioctl_discard(&mut self, pid: Pid, fid: FileId, disk: u32, secure: bool, arg: u64) -> SysResult {
        // Woken: collect the batch issued before parking.
        if let Some((BdevStep::Discard, first, count)) = self.bdev_restart(pid) {
            let done = self.bdev_wait(pid, disk, BdevStep::Discard, first, count)?;
            discard_batch_result(done.iter().map(|r| r.done.unwrap_or(0)))?;
            return Ok(0);
        }
        if !self.files.get(&fid).ok_or(Errno::EBADF)?.writable() {
            return Err(Errno::EBADF.into());
        }
        let range: [u8; 16] = self.read_user_array(pid, arg)?;
        let start = u64::from_le_bytes(range[..8].try_into().unwrap_or([0; 8]));
        let len = u64::from_le_bytes(range[8..].try_into().unwrap_or([0; 8]));
        if start & 511 != 0 || len & 511 != 0 {
            return Err(Errno::EINVAL.into());
        }
        let (start, len) = (start >> SECTOR_SHIFT, len >> SECTOR_SHIFT);
        let gd = self.blk.by_hal(disk).ok_or(Errno::ENXIO)?;
        // Both are below 2^55 after the shift: the sum cannot wrap.
        if start + len > gd.info.sectors {
            return Err(Errno::EINVAL.into());
        }
        // No HAL disk offers secure discard (blk_queue_secdiscard).
        blkdev_discard_check(&gd.queue.limits, secure, false)?;
        let bios = blkdev_discard_bios(&gd.queue.limits, start, len);
        if bios.is_empty() {
            return Ok(0);
        }
        if bios.len() > MAX_DISCARD_BATCH {
            return Err(Errno::ENOMEM.into());
        }
        let mut first = None;
        for (s, n) in &bios {
            let id = gd.submit(&self.hal, BlkOp::Discard { secure }, *s, *n, Vec::new(), ReqOwner::Task(pid), 0);
            first.get_or_insert(id);
        }
        let first = first.unwrap_or(0);
        let done = self.bdev_wait(pid, disk, BdevStep::Discard, first, bios.len() as u64)?;
        discard_batch_result(done.iter().map(|r| r.done.unwrap_or(0)))?;
        Ok(0)
    }
}
