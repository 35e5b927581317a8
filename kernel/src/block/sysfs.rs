//! `/sys/block/<dev>/` of a virtio disk (4.3's `block/genhd.c` disk attributes and
//! `block/blk-sysfs.c` queue attributes): the few files k43 serves, their modes, their
//! text and their stores.
//!
//! The directories are synthetic nodes next to procfs's (`ProcNode::SysBlock…`). In
//! Linux `/sys/block/vda` is a symlink into `/sys/devices/…/virtio1/block/vda`; here it
//! is the directory itself.
//!
//! sysfs quirks kept: a write goes to the attribute's store whatever the offset; one of
//! more than a page is `E2BIG` (kernfs's atomic write length); an attribute without a
//! store fails the write with `EIO` (`queue_attr_store`, `dev_attr_store`) — reachable
//! by root, whom `CAP_DAC_OVERRIDE` lets open a 0444 file for writing.

use super::genhd::Gendisk;
use super::limits::queue_var_store;
use super::SECTOR_SHIFT;
use crate::fs::proc::ProcNode;
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::format;
use alloc::string::String;

/// One file below `/sys/block/<dev>/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum BlkAttr {
    /// `dev`: `MAJOR:MINOR`.
    Dev,
    /// `size`: capacity in 512-byte sectors.
    Size,
    /// `ro`: 0 (k43's disks are writable).
    Ro,
    /// `removable`: 0.
    Removable,
    /// `queue/logical_block_size`.
    LogicalBlockSize,
    /// `queue/physical_block_size`.
    PhysicalBlockSize,
    /// `queue/hw_sector_size` (the logical block size again).
    HwSectorSize,
    /// `queue/max_sectors_kb` (writable).
    MaxSectorsKb,
    /// `queue/max_hw_sectors_kb`.
    MaxHwSectorsKb,
    /// `queue/discard_granularity`.
    DiscardGranularity,
    /// `queue/discard_max_hw_bytes` (new in 4.3).
    DiscardMaxHwBytes,
    /// `queue/discard_max_bytes` (writable since 4.3).
    DiscardMaxBytes,
    /// `queue/discard_zeroes_data`.
    DiscardZeroesData,
    /// `queue/rotational` (writable: it flips `QUEUE_FLAG_NONROT`).
    Rotational,
}

/// The files of `/sys/block/<dev>/` (besides `queue`), by name.
pub const DISK_ATTRS: &[(&str, BlkAttr)] = &[("dev", BlkAttr::Dev), ("size", BlkAttr::Size), ("ro", BlkAttr::Ro), ("removable", BlkAttr::Removable)];

/// The files of `/sys/block/<dev>/queue/`, by name.
pub const QUEUE_ATTRS: &[(&str, BlkAttr)] = &[
    ("logical_block_size", BlkAttr::LogicalBlockSize),
    ("physical_block_size", BlkAttr::PhysicalBlockSize),
    ("hw_sector_size", BlkAttr::HwSectorSize),
    ("max_sectors_kb", BlkAttr::MaxSectorsKb),
    ("max_hw_sectors_kb", BlkAttr::MaxHwSectorsKb),
    ("discard_granularity", BlkAttr::DiscardGranularity),
    ("discard_max_hw_bytes", BlkAttr::DiscardMaxHwBytes),
    ("discard_max_bytes", BlkAttr::DiscardMaxBytes),
    ("discard_zeroes_data", BlkAttr::DiscardZeroesData),
    ("rotational", BlkAttr::Rotational),
];

/// The major number in a [`crate::uapi::stat::makedev`] encoding.
fn dev_major(d: u64) -> u64 {
    ((d >> 8) & 0xfff) | ((d >> 32) & !0xfff)
}

/// The minor number in a [`crate::uapi::stat::makedev`] encoding.
fn dev_minor(d: u64) -> u64 {
    (d & 0xff) | ((d >> 12) & !0xff)
}

/// kernfs's atomic write length for sysfs: one page.
const SYSFS_WRITE_MAX: usize = 4096;

impl BlkAttr {
    /// The file's permission bits (root-owned): `S_IRUGO`, plus `S_IWUSR` for the ones
    /// with a store.
    pub fn mode(self) -> u32 {
        match self {
            BlkAttr::MaxSectorsKb | BlkAttr::DiscardMaxBytes | BlkAttr::Rotational => 0o644,
            _ => 0o444,
        }
    }

    /// The attribute's text (`show`).
    pub fn show(self, gd: &Gendisk) -> String {
        let l = &gd.queue.limits;
        match self {
            BlkAttr::Dev => format!("{}:{}\n", dev_major(gd.devt), dev_minor(gd.devt)),
            BlkAttr::Size => format!("{}\n", gd.info.sectors),
            BlkAttr::Ro | BlkAttr::Removable => String::from("0\n"),
            BlkAttr::LogicalBlockSize | BlkAttr::HwSectorSize => format!("{}\n", l.logical_block_size),
            BlkAttr::PhysicalBlockSize => format!("{}\n", l.physical_block_size),
            BlkAttr::MaxSectorsKb => format!("{}\n", l.max_sectors >> 1),
            BlkAttr::MaxHwSectorsKb => format!("{}\n", gd.max_hw_sectors() >> 1),
            BlkAttr::DiscardGranularity => l.discard_granularity_show(),
            BlkAttr::DiscardMaxHwBytes => l.discard_max_hw_bytes_show(),
            BlkAttr::DiscardMaxBytes => l.discard_max_bytes_show(),
            BlkAttr::DiscardZeroesData => format!("{}\n", u8::from(l.discard_zeroes_data && l.max_discard_sectors != 0)),
            BlkAttr::Rotational => format!("{}\n", u8::from(!gd.nonrot)),
        }
    }

    /// A write of `buf` (`store`): the bytes consumed, or the store's errno.
    pub fn store(self, gd: &mut Gendisk, buf: &[u8]) -> Result<usize, Errno> {
        if buf.len() > SYSFS_WRITE_MAX {
            return Err(Errno::E2BIG);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        match self {
            BlkAttr::DiscardMaxBytes => gd.queue.limits.discard_max_bytes_store(buf),
            BlkAttr::MaxSectorsKb => {
                // queue_max_sectors_store: between a page and the hardware's limit.
                let kb = queue_var_store(buf)?;
                if kb > u64::from(gd.max_hw_sectors() >> 1) || kb < 4 {
                    return Err(Errno::EINVAL);
                }
                gd.queue.limits.max_sectors = (kb << 1) as u32;
                Ok(buf.len())
            }
            BlkAttr::Rotational => {
                gd.nonrot = queue_var_store(buf)? == 0;
                Ok(buf.len())
            }
            _ => Err(Errno::EIO),
        }
    }
}

/// The name of `attr` (for error messages and listings).
pub fn attr_name(attr: BlkAttr) -> &'static str {
    DISK_ATTRS.iter().chain(QUEUE_ATTRS).find(|(_, a)| *a == attr).map_or("?", |(n, _)| n)
}

/// Whether `attr` lives in `queue/`.
pub fn in_queue(attr: BlkAttr) -> bool {
    QUEUE_ATTRS.iter().any(|(_, a)| *a == attr)
}

impl<H: Hal> Kernel<H> {
    /// Looks `name` up in a `/sys/block` directory.
    pub(crate) fn sysfs_block_lookup(&self, dir: ProcNode, name: &str) -> Result<ProcNode, Errno> {
        let find = |table: &[(&str, BlkAttr)]| table.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
        Ok(match dir {
            ProcNode::SysBlock => match name {
                "." => dir,
                _ => ProcNode::SysBlockDisk(self.blk.by_name(name).ok_or(Errno::ENOENT)?.disk),
            },
            ProcNode::SysBlockDisk(d) => match name {
                "." => dir,
                ".." => ProcNode::SysBlock,
                "queue" => ProcNode::SysBlockQueue(d),
                _ => ProcNode::SysBlockAttr(d, find(DISK_ATTRS).ok_or(Errno::ENOENT)?),
            },
            ProcNode::SysBlockQueue(d) => match name {
                "." => dir,
                ".." => ProcNode::SysBlockDisk(d),
                _ => ProcNode::SysBlockAttr(d, find(QUEUE_ATTRS).ok_or(Errno::ENOENT)?),
            },
            _ => return Err(Errno::ENOTDIR),
        })
    }

    /// Makes `/sys/block` and mounts the disks' sysfs directory on it (the first time a
    /// disk is probed; before that k43 has no `/sys/block`, and the ramfs inode numbers
    /// of disk-less machines stay as they were).
    pub(crate) fn sysfs_block_mount(&mut self) {
        let Some(sys) = self.vfs.ram.lookup(crate::fs::ramfs::ROOT_INO, b"sys") else { return };
        if self.vfs.ram.lookup(sys, b"block").is_some() {
            return;
        }
        let now = self.hal.now_ns() + self.hal.realtime_offset_ns();
        let dir = self.vfs.ram.create_dir(sys, b"block", 0o755, 0, 0, now);
        self.vfs.mounts.insert(dir, ProcNode::SysBlock);
    }
}

impl Gendisk {
    /// `queue_max_hw_sectors`: the hardware's limit, at least a page
    /// (`blk_queue_max_hw_sectors` raises smaller values).
    pub fn max_hw_sectors(&self) -> u32 {
        self.info.max_hw_sectors.max(1 << (12 - SECTOR_SHIFT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::bio::ChainErrorRule;
    use crate::hal::BlkInfo;

    fn disk() -> Gendisk {
        let info = BlkInfo { sectors: 32768, logical_block_size: 512, physical_block_size: 512, max_hw_sectors: 256, max_discard_sectors: 2048, discard_granularity: 4096, write_cache: true };
        Gendisk::probe(0, 0, info, ChainErrorRule::FirstErrorWins)
    }

    #[test]
    fn shows_and_stores() {
        let mut gd = disk();
        assert_eq!(BlkAttr::Dev.show(&gd), "253:0\n");
        assert_eq!(BlkAttr::Size.show(&gd), "32768\n");
        assert_eq!(BlkAttr::MaxSectorsKb.show(&gd), "128\n");
        assert_eq!(BlkAttr::MaxHwSectorsKb.show(&gd), "128\n");
        assert_eq!(BlkAttr::Rotational.show(&gd), "1\n", "4.3's virtio-blk does not set QUEUE_FLAG_NONROT");
        assert_eq!(BlkAttr::MaxSectorsKb.store(&mut gd, b"4\n"), Ok(2));
        assert_eq!(gd.queue.limits.max_sectors, 8);
        assert_eq!(BlkAttr::MaxSectorsKb.store(&mut gd, b"2"), Err(Errno::EINVAL), "less than a page");
        assert_eq!(BlkAttr::MaxSectorsKb.store(&mut gd, b"129"), Err(Errno::EINVAL), "more than the hardware");
        assert_eq!(BlkAttr::DiscardMaxBytes.store(&mut gd, b"1000"), Err(Errno::EINVAL));
        assert_eq!(BlkAttr::DiscardMaxHwBytes.store(&mut gd, b"4096"), Err(Errno::EIO), "no store");
        assert_eq!(BlkAttr::Rotational.store(&mut gd, b"0"), Ok(1));
        assert_eq!(BlkAttr::Rotational.show(&gd), "0\n");
        assert_eq!(BlkAttr::Rotational.store(&mut gd, &[b'1'; 4097]), Err(Errno::E2BIG));
        assert_eq!(attr_name(BlkAttr::DiscardMaxBytes), "discard_max_bytes");
        assert!(in_queue(BlkAttr::Rotational) && !in_queue(BlkAttr::Size));
    }
}
