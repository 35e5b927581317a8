//! The block layer's core (`block/`, 4.3): bios whose only error path is `bi_error`,
//! chained completion with a remaining count (`bio_chain`, `bio_endio`), `bio_split`
//! and `blk_queue_split`'s discard split, request-queue limits with the writable
//! `discard_max_bytes`, and `blkdev_issue_discard`. Spec: block-bio-discard.md.
//!
//! Disks come from the HAL (`genhd.rs`, `blkdev.rs`).

pub mod bdev;
pub mod bio;
pub mod blkdev;
pub mod discard;
pub mod genhd;
pub mod ioctl;
pub mod limits;
pub mod queue;
pub mod remaining;
pub mod sysfs;

/// The block core's sector: 512 bytes whatever the device's logical block size.
pub const SECTOR_SHIFT: u32 = 9;
/// `UINT_MAX >> 9`: the largest bio `blkdev_issue_discard` issues and the largest split.
pub const MAX_BIO_SECTORS: u64 = (u32::MAX >> SECTOR_SHIFT) as u64;
