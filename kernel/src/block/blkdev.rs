//! The kernel's disks: probing what the HAL has (`virtblk_probe` + `add_disk`, with a
//! `/dev/vdX` node as udev makes it), and the completion path from the HAL's interrupt
//! to whoever waits for the request.

use super::bio::ChainErrorRule;
use super::genhd::{Gendisk, ReqOwner};
use crate::hal::{BlkCompletion, Hal};
use crate::kernel::Kernel;
use alloc::vec::Vec;

/// Sysctl choosing how a chained bio's status reaches its parent: 0 (the default) keeps
/// the first error (upstream af3e3a5259e35, after 4.4); 1 is 4.3's bug-compatible rule,
/// where every child copies its status — 0 included — so a later success can hide an
/// earlier failure.
pub const BIO_CHAIN_SYSCTL: &str = "kernel/k43_bugcompat_bio_chain_status";

/// The disks, in probe order.
#[derive(Debug, Default)]
pub struct BlockDevs {
    /// Every disk probed.
    pub disks: Vec<Gendisk>,
}

impl BlockDevs {
    /// The disk the HAL numbers `disk`.
    pub fn by_hal(&mut self, disk: u32) -> Option<&mut Gendisk> {
        self.disks.iter_mut().find(|d| d.disk == disk)
    }

    /// The disk whose `dev_t` is `devt`.
    pub fn by_devt(&self, devt: u64) -> Option<&Gendisk> {
        self.disks.iter().find(|d| d.devt == devt)
    }

    /// The disk whose `dev_t` is `devt`, for change.
    pub fn by_devt_mut(&mut self, devt: u64) -> Option<&mut Gendisk> {
        self.disks.iter_mut().find(|d| d.devt == devt)
    }

    /// The disk called `name` (`vda`).
    pub fn by_name(&self, name: &str) -> Option<&Gendisk> {
        self.disks.iter().find(|d| d.name == name)
    }
}

impl<H: Hal> Kernel<H> {
    /// The rule chained bios follow now ([`BIO_CHAIN_SYSCTL`]).
    pub(crate) fn bio_chain_rule(&self) -> ChainErrorRule {
        match self.vfs.sysctl.int(BIO_CHAIN_SYSCTL) {
            Some(1) => ChainErrorRule::Linux43,
            _ => ChainErrorRule::FirstErrorWins,
        }
    }

    /// The disks' names (`vda` …), in probe order.
    pub fn disk_names(&self) -> Vec<alloc::string::String> {
        self.blk.disks.iter().map(|d| d.name.clone()).collect()
    }

    /// The HAL's number of the disk probed as `name` (`vda`).
    pub fn disk_hal_index(&self, name: &str) -> Option<u32> {
        self.blk.by_name(name).map(|d| d.disk)
    }

    /// Probes every HAL disk not probed yet (at boot, and after a hot-plug): a gendisk
    /// with the hardware's limits and `/dev/vdX` (brw-rw---- root:disk).
    pub fn blk_probe(&mut self) {
        for disk in 0..self.hal.blk_count() {
            if self.blk.disks.iter().any(|d| d.disk == disk) {
                continue;
            }
            let Some(info) = self.hal.blk_info(disk) else { continue };
            let index = self.blk.disks.len() as u32;
            let gd = Gendisk::probe(disk, index, info, self.bio_chain_rule());
            let (name, devt) = (gd.name.clone(), gd.devt);
            self.blk.disks.push(gd);
            // virtblk_probe prints nothing in 4.3 (the size line is only for a resize);
            // add_disk's partition scan finds no table on a bare filesystem image.
            crate::printk!(self, " {}: unknown partition table", name);
            self.sysfs_block_mount();
            let now = self.hal.now_ns() + self.hal.realtime_offset_ns();
            if let Some(dir) = self.vfs.ram.lookup(crate::fs::ramfs::ROOT_INO, b"dev") {
                if self.vfs.ram.lookup(dir, name.as_bytes()).is_none() {
                    self.vfs.ram.create_blkdev(dir, name.as_bytes(), 0o660, 0, crate::mm::memremap::GID_DISK, devt, now);
                }
            }
        }
    }

    /// The HAL's completion of request `c` on disk `disk` (the device's interrupt):
    /// ends the request's piece, and hands finished requests to whoever waits.
    pub fn blk_complete(&mut self, disk: u32, c: BlkCompletion) {
        let rule = self.bio_chain_rule();
        let Some(gd) = self.blk.by_hal(disk) else { return };
        gd.queue.set.rule = rule;
        gd.complete(c.tag, c.status, &c.data);
        self.blk_dispatch(disk);
    }

    /// Hands finished requests to their owners: tasks are woken (their syscall collects
    /// the result when it runs again), the buffer cache takes its blocks.
    pub(crate) fn blk_dispatch(&mut self, disk: u32) {
        let Some(gd) = self.blk.by_hal(disk) else { return };
        for owner in gd.finished_owners() {
            match owner {
                // A task that is gone collects nothing: drop what it left.
                ReqOwner::Task(pid) if self.task(pid).is_none() => {
                    if let Some(gd) = self.blk.by_hal(disk) {
                        gd.forget_owner(owner);
                    }
                }
                ReqOwner::Task(pid) => self.wake_task(pid),
                ReqOwner::Cache => self.bcache_end_io(disk),
            }
        }
    }
}
