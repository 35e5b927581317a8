//! The on-disk inode (`struct ext4_inode`), kept as its raw record so that fields k43
//! does not interpret survive a rewrite, with typed accessors; `stat`.

use super::*;
use crate::uapi::Errno;

/// i_mode type bits.
pub const S_IFMT: u16 = 0xF000;
/// Socket.
pub const S_IFSOCK: u16 = 0xC000;
/// Symlink.
pub const S_IFLNK: u16 = 0xA000;
/// Regular file.
pub const S_IFREG: u16 = 0x8000;
/// Block device.
pub const S_IFBLK: u16 = 0x6000;
/// Directory.
pub const S_IFDIR: u16 = 0x4000;
/// Character device.
pub const S_IFCHR: u16 = 0x2000;
/// FIFO.
pub const S_IFIFO: u16 = 0x1000;

/// i_flags: htree-indexed directory.
pub const EXT4_INDEX_FL: u32 = 0x1000;
/// i_flags: i_blocks in fs blocks (huge_file only).
pub const EXT4_HUGE_FILE_FL: u32 = 0x40000;
/// i_flags: extent-mapped.
pub const EXT4_EXTENTS_FL: u32 = 0x80000;
/// i_flags: inline data.
pub const EXT4_INLINE_DATA_FL: u32 = 0x1000_0000;

/// `sizeof(struct ext4_inode) - 128` in Linux 4.3 (ends at i_version_hi): the
/// i_extra_isize given to new inodes when the record is larger than 128 bytes.
pub const EXT4_NEW_EXTRA_ISIZE: u16 = 28;

/// One inode record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskInode {
    /// Inode number.
    pub ino: u32,
    /// The raw record (`s_inode_size` bytes).
    pub raw: Vec<u8>,
}

/// What `stat` reports of an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Inode number.
    pub ino: u32,
    /// Type and permission bits.
    pub mode: u16,
    /// Hard links.
    pub nlink: u16,
    /// Owner (32 bits).
    pub uid: u32,
    /// Group (32 bits).
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// 512-byte sectors held.
    pub blocks: u64,
    /// Access time.
    pub atime: Time,
    /// Modification time.
    pub mtime: Time,
    /// Change time.
    pub ctime: Time,
    /// Device number of a device node (major, minor); (0, 0) otherwise.
    pub rdev: (u32, u32),
    /// Preferred I/O size (block size).
    pub blksize: u32,
    /// i_flags.
    pub flags: u32,
    /// i_generation.
    pub generation: u32,
}

macro_rules! field {
    ($get:ident, $set:ident, u16, $off:expr, $doc:expr) => {
        #[doc = $doc]
        pub fn $get(&self) -> u16 { le16(&self.raw, $off) }
        #[doc = $doc]
        pub fn $set(&mut self, v: u16) { set16(&mut self.raw, $off, v) }
    };
    ($get:ident, $set:ident, u32, $off:expr, $doc:expr) => {
        #[doc = $doc]
        pub fn $get(&self) -> u32 { le32(&self.raw, $off) }
        #[doc = $doc]
        pub fn $set(&mut self, v: u32) { set32(&mut self.raw, $off, v) }
    };
}

impl DiskInode {
    field!(mode, set_mode, u16, 0x00, "i_mode");
    field!(links, set_links, u16, 0x1A, "i_links_count");
    field!(dtime, set_dtime, u32, 0x14, "i_dtime (next orphan while on the orphan list)");
    field!(blocks_lo, set_blocks_lo, u32, 0x1C, "i_blocks_lo (512-byte units)");
    field!(flags, set_flags, u32, 0x20, "i_flags");
    field!(generation, set_generation, u32, 0x64, "i_generation");
    field!(file_acl, set_file_acl, u32, 0x68, "i_file_acl_lo (xattr block)");
    field!(extra_isize_raw, set_extra_isize, u16, 0x80, "i_extra_isize (valid only for records > 128 bytes)");

    /// File type bits of i_mode.
    pub fn ftype(&self) -> u16 {
        self.mode() & S_IFMT
    }
    /// A directory?
    pub fn is_dir(&self) -> bool {
        self.ftype() == S_IFDIR
    }
    /// A regular file?
    pub fn is_reg(&self) -> bool {
        self.ftype() == S_IFREG
    }
    /// A symlink?
    pub fn is_symlink(&self) -> bool {
        self.ftype() == S_IFLNK
    }
    /// i_extra_isize, 0 for 128-byte records.
    pub fn extra_isize(&self) -> u16 {
        if self.raw.len() > 128 { self.extra_isize_raw() } else { 0 }
    }
    /// 32-bit owner.
    pub fn uid(&self) -> u32 {
        u32::from(le16(&self.raw, 0x02)) | (u32::from(le16(&self.raw, 0x78)) << 16)
    }
    /// Sets the owner (low and high halves).
    pub fn set_uid(&mut self, v: u32) {
        set16(&mut self.raw, 0x02, v as u16);
        set16(&mut self.raw, 0x78, (v >> 16) as u16);
    }
    /// 32-bit group.
    pub fn gid(&self) -> u32 {
        u32::from(le16(&self.raw, 0x18)) | (u32::from(le16(&self.raw, 0x7A)) << 16)
    }
    /// Sets the group.
    pub fn set_gid(&mut self, v: u32) {
        set16(&mut self.raw, 0x18, v as u16);
        set16(&mut self.raw, 0x7A, (v >> 16) as u16);
    }
    /// Size: i_size_high counts for regular files only (`ext4_isize` in 4.3 uses it for
    /// regular files; for directories the field is the old i_dir_acl).
    pub fn size(&self) -> u64 {
        let lo = u64::from(le32(&self.raw, 0x04));
        if self.is_reg() { lo | (u64::from(le32(&self.raw, 0x6C)) << 32) } else { lo }
    }
    /// Sets the size (both halves; the high half only for regular files).
    pub fn set_size(&mut self, v: u64) {
        set32(&mut self.raw, 0x04, v as u32);
        if self.is_reg() {
            set32(&mut self.raw, 0x6C, (v >> 32) as u32);
        }
    }
    /// i_blocks in 512-byte units.
    pub fn blocks(&self) -> u64 {
        u64::from(self.blocks_lo())
    }
    /// Adds `d` 512-byte sectors to i_blocks.
    pub fn add_blocks(&mut self, d: i64) -> FsResult<()> {
        let v = i64::from(self.blocks_lo()) + d;
        let v = u32::try_from(v).map_err(|_| FsError::Corrupted("i_blocks out of range"))?;
        self.set_blocks_lo(v);
        Ok(())
    }
    /// Pointer `i` of i_block (0..15).
    pub fn block_ptr(&self, i: usize) -> u32 {
        if i < 15 { le32(&self.raw, 0x28 + 4 * i) } else { 0 }
    }
    /// Sets pointer `i` of i_block.
    pub fn set_block_ptr(&mut self, i: usize, v: u32) {
        if i < 15 {
            set32(&mut self.raw, 0x28 + 4 * i, v)
        }
    }
    /// The 60 bytes of i_block.
    pub fn i_block_bytes(&self) -> &[u8] {
        self.raw.get(0x28..0x64).unwrap_or(&[])
    }
    fn has_extra(&self, field_end: usize) -> bool {
        self.raw.len() > 128 && 128 + usize::from(self.extra_isize()) >= field_end
    }
    fn get_time(&self, off: usize, extra: usize) -> Time {
        let sec = i64::from(le32(&self.raw, off) as i32);
        if self.has_extra(extra + 4) {
            let x = le32(&self.raw, extra);
            // ext4_decode_extra_time: the epoch bits extend the signed seconds.
            Time { sec: sec + (i64::from(x & 3) << 32), nsec: (x >> 2).min(999_999_999) }
        } else {
            Time { sec, nsec: 0 }
        }
    }
    fn set_time(&mut self, off: usize, extra: usize, t: Time) {
        set32(&mut self.raw, off, t.sec as u32);
        if self.has_extra(extra + 4) {
            // ext4_encode_extra_time
            let epoch = ((t.sec - i64::from(t.sec as i32)) >> 32) as u32 & 3;
            set32(&mut self.raw, extra, epoch | (t.nsec << 2));
        }
    }
    /// Access time.
    pub fn atime(&self) -> Time {
        self.get_time(0x08, 0x8C)
    }
    /// Change time.
    pub fn ctime(&self) -> Time {
        self.get_time(0x0C, 0x84)
    }
    /// Modification time.
    pub fn mtime(&self) -> Time {
        self.get_time(0x10, 0x88)
    }
    /// Creation time (only with a large enough i_extra_isize).
    pub fn crtime(&self) -> Option<Time> {
        if self.has_extra(0x94) { Some(self.get_time(0x90, 0x94)) } else { None }
    }
    /// Sets the access time.
    pub fn set_atime(&mut self, t: Time) {
        self.set_time(0x08, 0x8C, t)
    }
    /// Sets the change time.
    pub fn set_ctime(&mut self, t: Time) {
        self.set_time(0x0C, 0x84, t)
    }
    /// Sets the modification time.
    pub fn set_mtime(&mut self, t: Time) {
        self.set_time(0x10, 0x88, t)
    }
    /// Sets the creation time (when the record has room).
    pub fn set_crtime(&mut self, t: Time) {
        if self.has_extra(0x94) {
            self.set_time(0x90, 0x94, t)
        }
    }
    /// Device number of a device node (`old_decode_dev` / `new_decode_dev`).
    pub fn rdev(&self) -> (u32, u32) {
        let t = self.ftype();
        if t != S_IFCHR && t != S_IFBLK {
            return (0, 0);
        }
        let b0 = self.block_ptr(0);
        if b0 != 0 {
            ((b0 >> 8) & 0xff, b0 & 0xff)
        } else {
            let d = self.block_ptr(1);
            ((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00))
        }
    }
    /// Stores a device number the way `ext4_mknod` → `ext4_set_inode_flags`/
    /// `ext4_do_update_inode` does (old encoding when it fits).
    pub fn set_rdev(&mut self, major: u32, minor: u32) {
        if major < 256 && minor < 256 {
            self.set_block_ptr(0, (major << 8) | minor);
            self.set_block_ptr(1, 0);
        } else {
            self.set_block_ptr(0, 0);
            self.set_block_ptr(1, (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12));
            self.set_block_ptr(2, 0);
        }
    }
    /// A fast symlink keeps its target in i_block (`ext4_inode_is_fast_symlink`: no
    /// blocks besides an xattr block).
    pub fn is_fast_symlink(&self, block_size: u32) -> bool {
        let ea = if self.file_acl() != 0 { u64::from(block_size >> 9) } else { 0 };
        self.is_symlink() && self.blocks().saturating_sub(ea) == 0
    }
}

impl Ext4 {
    /// Block and byte offset of inode `ino`'s record.
    pub fn inode_loc<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<(u64, usize)> {
        // Any existing inode can be read here (the reserved ones included); which numbers
        // a directory entry may name is checked by `lookup` (ext4_valid_inum).
        if ino == 0 || ino > self.inodes_count {
            return Err(FsError::Corrupted("inode number out of range"));
        }
        let g = (ino - 1) / self.inodes_per_group;
        let idx = (ino - 1) % self.inodes_per_group;
        let d = self.group_desc(io, g)?;
        let byte = u64::from(idx) * u64::from(self.inode_size);
        let blk = d.inode_table + (byte >> self.block_bits);
        if !self.valid_block(blk) {
            return Err(FsError::Corrupted("inode table out of range"));
        }
        Ok((blk, (byte & u64::from(self.block_size - 1)) as usize))
    }

    /// Reads inode `ino`'s record as it is (no checks of its contents beyond
    /// `i_extra_isize`).
    pub fn read_inode<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<DiskInode> {
        let (blk, o) = self.inode_loc(io, ino)?;
        let b = self.bread(io, blk)?;
        let raw = b.get(o..o + self.inode_size as usize).ok_or(FsError::Corrupted("inode record"))?.to_vec();
        let inode = DiskInode { ino, raw };
        if self.inode_size > 128 {
            let x = u32::from(inode.extra_isize_raw());
            if 128 + x > self.inode_size || x & 3 != 0 {
                // ext4_iget: "bad extra_isize"
                return Err(FsError::Corrupted("bad extra_isize"));
            }
        }
        Ok(inode)
    }

    /// `ext4_iget` for an inode reached by name: a deleted inode (no links, outside
    /// orphan processing) is `ESTALE`; extent-mapped and inline-data inodes are
    /// corruption on a filesystem without those features.
    pub fn iget<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<DiskInode> {
        let i = self.read_inode(io, ino)?;
        if i.links() == 0 && ino != 5 {
            return Err(FsError::Errno(Errno::ESTALE));
        }
        self.check_mapping(&i)?;
        Ok(i)
    }

    /// Refuses inodes whose mapping k43 cannot follow (`EXTENTS_FL`, inline data).
    pub(crate) fn check_mapping(&self, i: &DiskInode) -> FsResult<()> {
        if i.flags() & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL) != 0 {
            return Err(FsError::Corrupted("extent or inline-data inode on an ext3 filesystem"));
        }
        Ok(())
    }

    /// Writes an inode record back (read-modify-write of its table block).
    pub fn write_inode<B: BlockIo + ?Sized>(&self, io: &mut B, inode: &DiskInode) -> FsResult<()> {
        let (blk, o) = self.inode_loc(io, inode.ino)?;
        let mut b = self.bread(io, blk)?;
        let n = (self.inode_size as usize).min(inode.raw.len());
        let dst = b.get_mut(o..o + n).ok_or(FsError::Corrupted("inode record"))?;
        dst.copy_from_slice(&inode.raw[..n]);
        io.write_meta(blk, &b)?;
        if inode.is_reg() && inode.size() > 0x7FFF_FFFF {
            self.note_large_file(io)?;
        }
        Ok(())
    }

    /// `stat` of inode `ino`.
    pub fn stat<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<Stat> {
        let i = self.read_inode(io, ino)?;
        Ok(Stat {
            ino,
            mode: i.mode(),
            nlink: i.links(),
            uid: i.uid(),
            gid: i.gid(),
            size: i.size(),
            blocks: i.blocks(),
            atime: i.atime(),
            mtime: i.mtime(),
            ctime: i.ctime(),
            rdev: i.rdev(),
            blksize: self.block_size,
            flags: i.flags(),
            generation: i.generation(),
        })
    }
}
