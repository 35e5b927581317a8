//! The ext4 driver as it serves ext3-format filesystems (Linux 4.3 `fs/ext4`), as a pure
//! library over [`BlockIo`]: no buffer cache, no journal, no VFS objects.
//!
//! [`Ext4`] holds only the geometry fixed at mount. Every operation takes `&self` and the
//! block layer, reads what it needs and writes metadata with `write_meta` and file data
//! with `write_data`, so that it can fail with [`FsError::Need`] at any read and be run
//! again from the start (see `fs/buffer.rs`). All mutable state — free counts, bitmaps,
//! inodes, directories, the orphan list — therefore lives in blocks.
//!
//! Only block-mapped (ext2/ext3) files are served: an image with the `extents` feature is
//! refused at mount (see [`super_block`]), and no operation ever sets an ext4-only feature
//! or inode flag.

pub mod balloc;
pub mod dir;
pub mod file;
pub mod group;
pub mod hash;
pub mod ialloc;
pub mod indirect;
pub mod inode;
pub mod namei;
pub mod orphan;
pub mod super_block;
pub mod symlink;
pub mod xattr;

#[cfg(test)]
mod tests;

use crate::fs::buffer::{BlockIo, FsError, FsResult};
use alloc::string::String;
use alloc::vec::Vec;

pub use super_block::{MountType, Statfs};

/// `EXT4_SUPER_MAGIC`.
pub const EXT4_SUPER_MAGIC: u16 = 0xEF53;
/// Root directory inode.
pub const EXT4_ROOT_INO: u32 = 2;
/// Resize inode (reserved GDT blocks); never modified.
pub const EXT4_RESIZE_INO: u32 = 7;
/// Internal journal inode.
pub const EXT4_JOURNAL_INO: u32 = 8;
/// Longest name in a directory entry (`EXT4_NAME_LEN`).
pub const EXT4_NAME_LEN: usize = 255;
/// Link count limit (`EXT4_LINK_MAX`).
pub const EXT4_LINK_MAX: u16 = 65000;

/// compat: journal present.
pub const COMPAT_HAS_JOURNAL: u32 = 0x0004;
/// compat: extended attribute blocks.
pub const COMPAT_EXT_ATTR: u32 = 0x0008;
/// compat: htree directories allowed.
pub const COMPAT_DIR_INDEX: u32 = 0x0020;
/// incompat: dirents carry a file type.
pub const INCOMPAT_FILETYPE: u32 = 0x0002;
/// incompat: journal needs recovery (set while mounted rw).
pub const INCOMPAT_RECOVER: u32 = 0x0004;
/// incompat: meta block groups.
pub const INCOMPAT_META_BG: u32 = 0x0010;
/// incompat: extent-mapped inodes.
pub const INCOMPAT_EXTENTS: u32 = 0x0040;
/// incompat: 64-bit block numbers.
pub const INCOMPAT_64BIT: u32 = 0x0080;
/// incompat: flexible block groups.
pub const INCOMPAT_FLEX_BG: u32 = 0x0200;
/// ro_compat: sparse superblock backups.
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
/// ro_compat: some file is ≥ 2 GiB.
pub const RO_COMPAT_LARGE_FILE: u32 = 0x0002;
/// ro_compat: i_blocks in fs blocks / 48 bits.
pub const RO_COMPAT_HUGE_FILE: u32 = 0x0008;
/// ro_compat: group descriptor checksums.
pub const RO_COMPAT_GDT_CSUM: u32 = 0x0010;
/// ro_compat: metadata checksums.
pub const RO_COMPAT_METADATA_CSUM: u32 = 0x0400;

/// A point in time as the inode stores it (seconds since the epoch + nanoseconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time {
    /// Seconds since 1970 (signed: ext4 keeps pre-1970 times).
    pub sec: i64,
    /// Nanoseconds, < 1e9.
    pub nsec: u32,
}

/// Who performs an operation and when: what Linux takes from `current` and
/// `current_fs_time`. The VFS has already done the permission checks.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx {
    /// The time stamps written by the operation.
    pub now: Time,
    /// fsuid of the caller (owner of new inodes).
    pub uid: u32,
    /// fsgid of the caller (group of new inodes unless the directory is setgid).
    pub gid: u32,
    /// The caller may dip into the root-reserved blocks (`CAP_SYS_RESOURCE`; the
    /// s_def_resuid/resgid match is checked here as well).
    pub cap_resource: bool,
}

/// A mounted ext3-format filesystem: the geometry fixed at mount, nothing that changes.
#[derive(Clone, Debug)]
pub struct Ext4 {
    /// Device name used in messages (`sb->s_id`).
    pub dev_name: String,
    /// Filesystem block size in bytes.
    pub block_size: u32,
    /// log2(block_size).
    pub block_bits: u32,
    /// s_blocks_count.
    pub blocks_count: u64,
    /// s_first_data_block.
    pub first_data_block: u32,
    /// s_blocks_per_group.
    pub blocks_per_group: u32,
    /// s_inodes_per_group.
    pub inodes_per_group: u32,
    /// s_inodes_count.
    pub inodes_count: u32,
    /// On-disk inode record size.
    pub inode_size: u32,
    /// First non-reserved inode.
    pub first_ino: u32,
    /// Number of block groups.
    pub groups_count: u32,
    /// Group descriptors per block (B/32).
    pub desc_per_block: u32,
    /// Inode table blocks per group.
    pub itb_per_group: u32,
    /// Block numbers of the group descriptor blocks, in order.
    pub desc_blocks: Vec<u64>,
    /// Feature words at mount (the ones an operation may change are re-read from the
    /// superblock block when changed).
    pub compat: u32,
    /// See `compat`.
    pub incompat: u32,
    /// See `compat`.
    pub ro_compat: u32,
    /// s_rev_level at mount.
    pub rev_level: u32,
    /// Directory hashes use the unsigned-char variants (s_flags 0x2).
    pub hash_unsigned: bool,
    /// s_hash_seed.
    pub hash_seed: [u32; 4],
    /// s_def_hash_version (for new indexes).
    pub def_hash_version: u8,
    /// Block that holds the primary superblock, and its byte offset in it.
    pub sb_block: u64,
    /// See `sb_block`.
    pub sb_offset: usize,
    /// Largest block-mapped file size (`s_bitmap_maxbytes`).
    pub bitmap_maxbytes: u64,
    /// s_def_resuid / s_def_resgid.
    pub resuid: u32,
    /// See `resuid`.
    pub resgid: u32,
    /// Mounted read-only: every modifying operation returns `EROFS`.
    pub read_only: bool,
}

impl Ext4 {
    /// Pointers per indirect block (`EXT4_ADDR_PER_BLOCK`).
    pub fn addr_per_block(&self) -> u64 {
        u64::from(self.block_size / 4)
    }
    /// Whether dirents carry a file type.
    pub fn has_filetype(&self) -> bool {
        self.incompat & INCOMPAT_FILETYPE != 0
    }
    /// Whether htree directories are honoured.
    pub fn has_dir_index(&self) -> bool {
        self.compat & COMPAT_DIR_INDEX != 0
    }
    /// First block of group `g`.
    pub fn group_first_block(&self, g: u32) -> u64 {
        u64::from(self.first_data_block) + u64::from(g) * u64::from(self.blocks_per_group)
    }
    /// Number of blocks in group `g` (the last may be short).
    pub fn group_nblocks(&self, g: u32) -> u32 {
        let first = self.group_first_block(g);
        let left = self.blocks_count.saturating_sub(first);
        left.min(u64::from(self.blocks_per_group)) as u32
    }
    /// Whether `blk` may hold file data or metadata (inside the filesystem, past the
    /// boot area).
    pub fn valid_block(&self, blk: u64) -> bool {
        blk >= u64::from(self.first_data_block) && blk < self.blocks_count && blk != 0
    }
    pub(crate) fn check_rw(&self) -> FsResult<()> {
        if self.read_only {
            return Err(FsError::Errno(crate::uapi::Errno::EROFS));
        }
        Ok(())
    }
    /// Reads a block and checks its length (a short block is corruption of the caller's
    /// cache, not of the disk, but must not panic either).
    pub(crate) fn bread<B: BlockIo + ?Sized>(&self, io: &mut B, blk: u64) -> FsResult<Vec<u8>> {
        let mut b = io.read(blk)?;
        b.resize(self.block_size as usize, 0);
        Ok(b)
    }
}

/// Little-endian u16 at `off` (0 when out of range: callers only read inside buffers
/// whose size they checked).
pub(crate) fn le16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off.wrapping_add(2)) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}
/// Little-endian u32 at `off` (0 when out of range).
pub(crate) fn le32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off.wrapping_add(4)) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}
/// Stores a little-endian u16 at `off` (ignored when out of range).
pub(crate) fn set16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off.wrapping_add(2)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}
/// Stores a little-endian u32 at `off` (ignored when out of range).
pub(crate) fn set32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off.wrapping_add(4)) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}
