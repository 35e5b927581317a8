//! Block devices behind the HAL (`virtio_blk` probing a disk, `add_disk`): each disk
//! the platform reports becomes a [`Gendisk`] with a request queue whose limits come
//! from the hardware, and a node `/dev/vdX`.
//!
//! Requests go through the queue (split at `max_sectors` or by the discard limits, the
//! pieces chained to the submitted bio); the HAL's completions end the pieces, and the
//! submitted request finishes once, with `bi_error` as its only status. Flushes do not
//! split and go straight to the device.

use super::bio::{BioId, BioOp, BioSet, ChainErrorRule, EndIo};
use super::limits::QueueLimits;
use super::queue::{BlockDriver, RequestQueue};
use super::SECTOR_SHIFT;
use crate::hal::{BlkInfo, BlkOp, BlkRequest, Hal};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The major number virtio-blk gets (`register_blkdev(0, "virtblk")`: the first
/// dynamic major, 253, on a machine with no other dynamic block driver).
pub const VIRTBLK_MAJOR: u32 = 253;
/// Minors per virtio disk (`1 << PART_BITS`, PART_BITS = 4).
pub const VIRTBLK_MINORS: u32 = 16;

/// A request's id on its disk.
pub type ReqId = u64;

/// Who waits for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReqOwner {
    /// The buffer cache of the filesystem mounted from the disk.
    Cache,
    /// A task inside a syscall (the `BLKDISCARD` ioctl, `fsync` of the block device).
    Task(crate::kernel::Pid),
}

/// A submitted request.
#[derive(Clone, Debug)]
pub struct Request {
    /// What it does (`fua` inside for writes).
    pub op: BlkOp,
    /// First sector.
    pub sector: u64,
    /// Sectors.
    pub sectors: u64,
    /// A write's bytes, or a read's once complete.
    pub buf: Vec<u8>,
    /// Who waits.
    pub owner: ReqOwner,
    /// What the owner wants to remember about it (buffer cache: first block).
    pub cookie: u64,
    /// The queue's bio (none for a flush).
    bio: Option<BioId>,
    /// Finished, with `bi_error`.
    pub done: Option<i32>,
}

/// One disk.
#[derive(Debug)]
pub struct Gendisk {
    /// `vda`, `vdb` …
    pub name: String,
    /// The HAL's disk number.
    pub disk: u32,
    /// `disk_devt`.
    pub devt: u64,
    /// What the hardware said.
    pub info: BlkInfo,
    /// The queue (its limits are what `/sys/block/<dev>/queue/` shows).
    pub queue: RequestQueue,
    /// `QUEUE_FLAG_NONROT`: 4.3's virtio-blk leaves it clear (`rotational` reads 1);
    /// writing `queue/rotational` flips it.
    pub nonrot: bool,
    reqs: BTreeMap<ReqId, Request>,
    /// HAL tags of flushes in flight.
    flushes: BTreeMap<u64, ReqId>,
    next_req: ReqId,
    /// Requests finished and not yet collected by their owner, in completion order.
    finished: Vec<ReqId>,
}

/// `virtblk_name_format`: vda … vdz, vdaa …
pub fn virtblk_name(index: u32) -> String {
    let mut n = index as u64;
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    let mut name = String::from("vd");
    name.push_str(core::str::from_utf8(&s).unwrap_or("?"));
    name
}

/// The queue limits `virtblk_probe` sets from what the device offers.
pub fn limits_from(info: &BlkInfo) -> QueueLimits {
    let mut l = QueueLimits::discarding(info.discard_granularity, info.max_discard_sectors);
    l.logical_block_size = info.logical_block_size.max(512);
    l.physical_block_size = info.physical_block_size.max(l.logical_block_size);
    // blk_queue_max_hw_sectors: the soft limit is the hardware's, capped at
    // BLK_DEF_MAX_SECTORS.
    l.max_sectors = info.max_hw_sectors.clamp(8, BLK_DEF_MAX_SECTORS);
    l
}

/// `BLK_DEF_MAX_SECTORS` in 4.3 (later kernels raised it to 2560).
pub const BLK_DEF_MAX_SECTORS: u32 = 1024;

struct HalDriver<'a, H: Hal> {
    hal: &'a H,
    disk: u32,
    /// The submitted request's first sector and bytes (writes), and its FUA flag.
    base: u64,
    data: &'a [u8],
    fua: bool,
    /// Tags of pieces the device refused (no such disk): they fail at once.
    refused: Vec<u64>,
}

/// Tags for pieces the HAL refused, out of the HAL's range.
const REFUSED_TAG: u64 = 1 << 63;

impl<H: Hal> BlockDriver for HalDriver<'_, H> {
    fn submit(&mut self, op: BioOp, sector: u64, sectors: u64) -> u64 {
        let (op, data) = match op {
            BioOp::Read => (BlkOp::Read, Vec::new()),
            BioOp::Write => {
                let off = (sector.saturating_sub(self.base) << SECTOR_SHIFT) as usize;
                let end = off.saturating_add((sectors << SECTOR_SHIFT) as usize).min(self.data.len());
                (BlkOp::Write { fua: self.fua }, self.data.get(off..end).unwrap_or(&[]).to_vec())
            }
            BioOp::Discard { secure } => (BlkOp::Discard { secure }, Vec::new()),
        };
        match self.hal.blk_submit(self.disk, BlkRequest { op, sector, sectors, data }) {
            Some(t) => t & !REFUSED_TAG,
            None => {
                let t = REFUSED_TAG | self.refused.len() as u64;
                self.refused.push(t);
                t
            }
        }
    }
    fn completions(&mut self) -> Vec<(u64, i32)> {
        Vec::new()
    }
}

struct Finished(Vec<(u64, i32)>);

impl BlockDriver for Finished {
    fn submit(&mut self, _op: BioOp, _sector: u64, _sectors: u64) -> u64 {
        u64::MAX
    }
    fn completions(&mut self) -> Vec<(u64, i32)> {
        core::mem::take(&mut self.0)
    }
}

impl Gendisk {
    /// The disk the HAL calls `disk`, probed as `virtblk` disk number `index`.
    pub fn probe(disk: u32, index: u32, info: BlkInfo, rule: ChainErrorRule) -> Gendisk {
        Gendisk {
            name: virtblk_name(index),
            disk,
            devt: crate::uapi::stat::makedev(VIRTBLK_MAJOR, index * VIRTBLK_MINORS),
            queue: RequestQueue::new(limits_from(&info), BioSet::new(rule)),
            info,
            nonrot: false,
            reqs: BTreeMap::new(),
            flushes: BTreeMap::new(),
            next_req: 1,
            finished: Vec::new(),
        }
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.info.sectors << SECTOR_SHIFT
    }

    /// `submit_bio`: starts `op` on `sectors` sectors from `sector` (`data` for a write)
    /// for `owner`. A range past the end of the disk fails at once with `EIO`
    /// (`bio_check_eod`).
    pub fn submit<H: Hal>(&mut self, hal: &H, op: BlkOp, sector: u64, sectors: u64, data: Vec<u8>, owner: ReqOwner, cookie: u64) -> ReqId {
        let id = self.next_req;
        self.next_req += 1;
        let mut req = Request { op, sector, sectors, buf: data, owner, cookie, bio: None, done: None };
        let in_range = sector.checked_add(sectors).is_some_and(|e| e <= self.info.sectors);
        if op == BlkOp::Flush {
            match hal.blk_submit(self.disk, BlkRequest { op, sector: 0, sectors: 0, data: Vec::new() }) {
                Some(t) => {
                    self.flushes.insert(t, id);
                }
                None => req.done = Some(Errno::EIO.ret() as i32),
            }
        } else if !in_range {
            req.done = Some(Errno::EIO.ret() as i32);
        } else {
            let bop = match op {
                BlkOp::Read => BioOp::Read,
                BlkOp::Write { .. } => BioOp::Write,
                BlkOp::Discard { secure } => BioOp::Discard { secure },
                BlkOp::Flush => BioOp::Read,
            };
            if op == BlkOp::Read {
                req.buf = vec![0; (sectors << SECTOR_SHIFT) as usize];
            }
            let bio = self.queue.set.alloc(bop, sector, sectors, EndIo::Owner);
            req.bio = Some(bio);
            let fua = matches!(op, BlkOp::Write { fua: true });
            let mut drv = HalDriver { hal, disk: self.disk, base: sector, data: &req.buf, fua, refused: Vec::new() };
            self.queue.submit_bio(&mut drv, bio);
            let refused = core::mem::take(&mut drv.refused);
            self.reqs.insert(id, req);
            if !refused.is_empty() {
                let eio = Errno::EIO.ret() as i32;
                self.end_pieces(refused.into_iter().map(|t| (t, eio)).collect(), &[]);
            }
            return id;
        }
        if req.done.is_some() {
            self.finished.push(id);
        }
        self.reqs.insert(id, req);
        id
    }

    /// The device finished the request it tagged `tag` (`blk_mq_end_request`): a flush
    /// ends its request; a piece of a bio copies its read data into the request and ends
    /// the piece, which ends the request after its last piece.
    pub fn complete(&mut self, tag: u64, status: i32, data: &[u8]) {
        if let Some(id) = self.flushes.remove(&tag) {
            if let Some(r) = self.reqs.get_mut(&id) {
                r.done = Some(status);
                self.finished.push(id);
            }
            return;
        }
        self.end_pieces(vec![(tag, status)], data);
    }

    fn end_pieces(&mut self, done: Vec<(u64, i32)>, data: &[u8]) {
        for &(tag, _) in &done {
            // Which request the piece belongs to: the piece itself, or the bio it is
            // chained to.
            let Some(piece) = self.queue.inflight_bio(tag) else { continue };
            let Some(b) = self.queue.set.get(piece) else { continue };
            let root = match b.end_io {
                EndIo::Chain(p) => p,
                _ => piece,
            };
            let piece_sector = b.sector;
            if let Some(r) = self.reqs.values_mut().find(|r| r.bio == Some(root)) {
                if r.op == BlkOp::Read && !data.is_empty() {
                    let off = (piece_sector.saturating_sub(r.sector) << SECTOR_SHIFT) as usize;
                    let end = off.saturating_add(data.len()).min(r.buf.len());
                    if let (Some(dst), Some(src)) = (r.buf.get_mut(off..end), data.get(..end.saturating_sub(off))) {
                        dst.copy_from_slice(src);
                    }
                }
            }
        }
        self.queue.complete(&mut Finished(done));
        let ended: Vec<ReqId> = self
            .reqs
            .iter()
            .filter(|(_, r)| r.done.is_none() && r.bio.and_then(|b| self.queue.set.get(b)).is_some_and(|b| b.endio_calls > 0))
            .map(|(&id, _)| id)
            .collect();
        for id in ended {
            if let Some(r) = self.reqs.get_mut(&id) {
                let bio = r.bio.take();
                r.done = Some(bio.and_then(|b| self.queue.set.get(b)).map_or(0, |b| b.bi_error));
                if let Some(b) = bio {
                    self.queue.set.free(b);
                }
                self.finished.push(id);
            }
        }
    }

    /// Takes the finished requests of `owner`, oldest first.
    pub fn take_finished(&mut self, owner: ReqOwner) -> Vec<(ReqId, Request)> {
        let mut out = Vec::new();
        let reqs = &mut self.reqs;
        self.finished.retain(|id| match reqs.get(id) {
            Some(r) if r.owner == owner => {
                if let Some(r) = reqs.remove(id) {
                    out.push((*id, r));
                }
                false
            }
            Some(_) => true,
            None => false,
        });
        out
    }

    /// Whether every request in `ids` has finished (an id not known any more counts as
    /// finished: its owner collected it, or it never existed).
    pub fn all_finished(&self, ids: core::ops::Range<ReqId>) -> bool {
        ids.into_iter().all(|id| self.reqs.get(&id).is_none_or(|r| r.done.is_some()))
    }

    /// Takes the finished requests whose ids are in `ids`, in completion order (what a
    /// task collects once [`Gendisk::all_finished`] says its batch is done).
    pub fn take_range(&mut self, ids: core::ops::Range<ReqId>) -> Vec<Request> {
        let mut out = Vec::new();
        let reqs = &mut self.reqs;
        self.finished.retain(|id| {
            if !ids.contains(id) {
                return true;
            }
            if let Some(r) = reqs.remove(id) {
                out.push(r);
            }
            false
        });
        out
    }

    /// Forgets every request of `owner` (a task that exited while it waited): what is
    /// finished goes, what is in flight finishes unseen.
    pub fn forget_owner(&mut self, owner: ReqOwner) {
        let done: Vec<ReqId> = self.reqs.iter().filter(|(_, r)| r.owner == owner && r.done.is_some()).map(|(&id, _)| id).collect();
        for id in done {
            self.reqs.remove(&id);
        }
        let reqs = &self.reqs;
        self.finished.retain(|id| reqs.contains_key(id));
    }

    /// Owners with finished requests waiting to be collected.
    pub fn finished_owners(&self) -> Vec<ReqOwner> {
        let mut o: Vec<ReqOwner> = self.finished.iter().filter_map(|id| self.reqs.get(id)).map(|r| r.owner).collect();
        o.sort();
        o.dedup();
        o
    }

    /// Requests of `owner` not finished yet.
    pub fn pending(&self, owner: ReqOwner) -> usize {
        self.reqs.values().filter(|r| r.owner == owner && r.done.is_none()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_virtblk() {
        assert_eq!(virtblk_name(0), "vda");
        assert_eq!(virtblk_name(25), "vdz");
        assert_eq!(virtblk_name(26), "vdaa");
        assert_eq!(virtblk_name(701), "vdzz");
        assert_eq!(virtblk_name(702), "vdaaa");
    }
}
