//! The superblock: mount-time validation (`ext4_fill_super` up to the journal, in Linux
//! 4.3's order and with its messages), the mount/unmount side effects
//! (`ext4_setup_super`, `ext4_put_super`), `ext4_statfs`, and the small read-modify-write
//! helpers the allocators use for the free counts and feature words.

use super::*;
use crate::uapi::Errno;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;

/// Superblock field offsets (inside the 1024-byte superblock).
pub mod off {
    #![allow(missing_docs)]
    pub const INODES_COUNT: usize = 0x00;
    pub const BLOCKS_COUNT: usize = 0x04;
    pub const R_BLOCKS_COUNT: usize = 0x08;
    pub const FREE_BLOCKS: usize = 0x0C;
    pub const FREE_INODES: usize = 0x10;
    pub const FIRST_DATA_BLOCK: usize = 0x14;
    pub const LOG_BLOCK_SIZE: usize = 0x18;
    pub const LOG_CLUSTER_SIZE: usize = 0x1C;
    pub const BLOCKS_PER_GROUP: usize = 0x20;
    pub const CLUSTERS_PER_GROUP: usize = 0x24;
    pub const INODES_PER_GROUP: usize = 0x28;
    pub const MTIME: usize = 0x2C;
    pub const WTIME: usize = 0x30;
    pub const MNT_COUNT: usize = 0x34;
    pub const MAX_MNT_COUNT: usize = 0x36;
    pub const MAGIC: usize = 0x38;
    pub const STATE: usize = 0x3A;
    pub const LASTCHECK: usize = 0x40;
    pub const CHECKINTERVAL: usize = 0x44;
    pub const REV_LEVEL: usize = 0x4C;
    pub const DEF_RESUID: usize = 0x50;
    pub const DEF_RESGID: usize = 0x52;
    pub const FIRST_INO: usize = 0x54;
    pub const INODE_SIZE: usize = 0x58;
    pub const FEATURE_COMPAT: usize = 0x5C;
    pub const FEATURE_INCOMPAT: usize = 0x60;
    pub const FEATURE_RO_COMPAT: usize = 0x64;
    pub const UUID: usize = 0x68;
    pub const JOURNAL_INUM: usize = 0xE0;
    pub const LAST_ORPHAN: usize = 0xE8;
    pub const HASH_SEED: usize = 0xEC;
    pub const DEF_HASH_VERSION: usize = 0xFC;
    pub const FIRST_META_BG: usize = 0x104;
    pub const FLAGS: usize = 0x160;
    pub const OVERHEAD_CLUSTERS: usize = 0x248;
}

/// s_state: cleanly unmounted.
pub const EXT4_VALID_FS: u16 = 0x0001;
/// s_state: errors detected.
pub const EXT4_ERROR_FS: u16 = 0x0002;
/// s_state: orphans being processed.
pub const EXT4_ORPHAN_FS: u16 = 0x0004;

/// `EXT3_FEATURE_INCOMPAT_SUPP`: filetype | recover | meta_bg.
pub const EXT3_FEATURE_INCOMPAT_SUPP: u32 = 0x0016;
/// `EXT3_FEATURE_RO_COMPAT_SUPP`: sparse_super | large_file | btree_dir.
pub const EXT3_FEATURE_RO_COMPAT_SUPP: u32 = 0x0007;
/// `EXT4_FEATURE_INCOMPAT_SUPP` of Linux 4.3 (read from its ext4.h).
pub const EXT4_FEATURE_INCOMPAT_SUPP: u32 = 0x2 | 0x4 | 0x10 | 0x40 | 0x80 | 0x200 | 0x100 | 0x8000 | 0x10000;
/// `EXT4_FEATURE_RO_COMPAT_SUPP` of Linux 4.3 (read from its ext4.h).
pub const EXT4_FEATURE_RO_COMPAT_SUPP: u32 = 0x1 | 0x2 | 0x10 | 0x20 | 0x40 | 0x4 | 0x8 | 0x200 | 0x400 | 0x100;
/// ro_compat `readonly` (0x1000): known to 4.3, which then mounts read-only.
pub const RO_COMPAT_READONLY: u32 = 0x1000;

/// The filesystem type the mount asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountType {
    /// `mount -t ext3`: the ext3 feature masks apply first (`ext3_feature_set_ok`).
    Ext3,
    /// `mount -t ext4`.
    Ext4,
}

/// A refused mount: the error and the messages printed before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountError {
    /// `EINVAL` for a refusal, `Need` when a block must be read first.
    pub err: FsError,
    /// Kernel log lines (already formatted as `EXT4-fs (dev): …`).
    pub msgs: Vec<String>,
}

/// What `statfs` reports (`ext4_statfs` with the default `bsddf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statfs {
    /// f_type = 0xEF53.
    pub f_type: u32,
    /// f_bsize = block size.
    pub f_bsize: u32,
    /// Blocks minus the metadata overhead.
    pub f_blocks: u64,
    /// Free blocks.
    pub f_bfree: u64,
    /// Free blocks minus the root-reserved ones (0 when below).
    pub f_bavail: u64,
    /// s_inodes_count.
    pub f_files: u64,
    /// Free inodes.
    pub f_ffree: u64,
    /// 255.
    pub f_namelen: u32,
    /// The two halves of uuid[0..8] ^ uuid[8..16].
    pub f_fsid: [u32; 2],
}

fn msg(dev: &str, text: &str) -> String {
    format!("EXT4-fs ({}): {}", dev, text)
}

/// Reads the 1024-byte primary superblock, whatever the io block size.
fn read_sb_raw<B: BlockIo + ?Sized>(io: &mut B) -> FsResult<Vec<u8>> {
    let bs = io.block_size().max(1);
    let blk = (1024 / bs) as u64;
    let offs = 1024 % bs;
    let b = io.read(blk)?;
    Ok(b.get(offs..offs + 1024).map(|s| s.to_vec()).unwrap_or_else(|| vec![0; 1024]))
}

/// The block size an ext2/3/4 superblock announces, or `None` without the magic: the
/// kernel reads the superblock with 1 KiB blocks first and then switches to this size,
/// as `ext4_fill_super` does with `sb_set_blocksize`.
pub fn probe_block_size<B: BlockIo + ?Sized>(io: &mut B) -> FsResult<Option<u32>> {
    let sb = read_sb_raw(io)?;
    if le16(&sb, off::MAGIC) != EXT4_SUPER_MAGIC {
        return Ok(None);
    }
    let log = le32(&sb, off::LOG_BLOCK_SIZE);
    Ok(if log <= 6 { Some(1024u32 << log) } else { None })
}

fn bg_has_super(sparse: bool, g: u32) -> bool {
    if g <= 1 || !sparse {
        return true;
    }
    if g & 1 == 0 {
        return false;
    }
    for base in [3u32, 5, 7] {
        let mut n = base;
        loop {
            if n == g {
                return true;
            }
            match n.checked_mul(base) {
                Some(m) if m <= g => n = m,
                _ => break,
            }
        }
    }
    false
}

impl Ext4 {
    /// Mounts: validates the superblock and group descriptors the way `ext4_fill_super`
    /// does up to (not including) the journal, in the same order, with the same
    /// messages, and returns the geometry plus the informational messages.
    ///
    /// `io` must already use the filesystem's block size (see [`probe_block_size`]);
    /// `dev_bytes` is the device size (0 = unknown, skips the geometry check as Linux
    /// does for a zero size).
    ///
    /// Divergence: Linux 4.3 mounts extent-mapped filesystems; k43 serves ext3 only and
    /// refuses the `extents` incompat feature (and `flex_bg`, `64bit`, `inline_data`,
    /// `encrypt`, `mmp`, and the ro_compat `huge_file`, `gdt_csum`, `metadata_csum`,
    /// `bigalloc`, `quota`, `dir_nlink`, `extra_isize` for rw) with `EINVAL` after the
    /// Linux checks pass, logging "k43 serves ext3 only: unsupported features (%x)".
    pub fn mount<B: BlockIo + ?Sized>(
        io: &mut B,
        dev_name: &str,
        ty: MountType,
        read_only: bool,
        dev_bytes: u64,
    ) -> Result<(Ext4, Vec<String>), MountError> {
        let mut msgs = Vec::new();
        let fail = |msgs: &mut Vec<String>, t: String| -> MountError {
            msgs.push(msg(dev_name, &t));
            MountError { err: FsError::Errno(Errno::EINVAL), msgs: core::mem::take(msgs) }
        };
        let need = |e: FsError, msgs: &mut Vec<String>| MountError { err: e, msgs: core::mem::take(msgs) };
        let sb = read_sb_raw(io).map_err(|e| need(e, &mut msgs))?;
        if le16(&sb, off::MAGIC) != EXT4_SUPER_MAGIC {
            // cantfind_ext4 (printed only when not silent)
            return Err(fail(&mut msgs, "VFS: Can't find ext4 filesystem".to_string()));
        }
        let compat = le32(&sb, off::FEATURE_COMPAT);
        let incompat = le32(&sb, off::FEATURE_INCOMPAT);
        let ro_compat = le32(&sb, off::FEATURE_RO_COMPAT);
        let rev = le32(&sb, off::REV_LEVEL);
        if rev == 0 && (compat | incompat | ro_compat) != 0 {
            msgs.push(msg(dev_name, "feature flags set on rev 0 fs, running e2fsck is recommended"));
        }
        if ty == MountType::Ext3 {
            let ok = incompat & !EXT3_FEATURE_INCOMPAT_SUPP == 0
                && compat & COMPAT_HAS_JOURNAL != 0
                && (read_only || ro_compat & !EXT3_FEATURE_RO_COMPAT_SUPP == 0);
            if ok {
                msgs.push(msg(dev_name, "mounting ext3 file system using the ext4 subsystem"));
            } else {
                return Err(fail(&mut msgs, "couldn't mount as ext3 due to feature incompatibilities".to_string()));
            }
        }
        // ext4_feature_set_ok
        if incompat & !EXT4_FEATURE_INCOMPAT_SUPP != 0 {
            let t = format!("Couldn't mount because of unsupported optional features ({:x})", incompat & !EXT4_FEATURE_INCOMPAT_SUPP);
            return Err(fail(&mut msgs, t));
        }
        let mut read_only = read_only;
        if !read_only {
            if ro_compat & RO_COMPAT_READONLY != 0 {
                msgs.push(msg(dev_name, "filesystem is read-only"));
                read_only = true;
            } else if ro_compat & !EXT4_FEATURE_RO_COMPAT_SUPP != 0 {
                let t = format!(
                    "couldn't mount RDWR because of unsupported optional features ({:x})",
                    ro_compat & !EXT4_FEATURE_RO_COMPAT_SUPP
                );
                return Err(fail(&mut msgs, t));
            } else if ro_compat & 0x200 != 0 && incompat & INCOMPAT_EXTENTS == 0 {
                return Err(fail(&mut msgs, "Can't support bigalloc feature without extents feature\n".to_string()));
            }
        }
        // k43 serves block-mapped ext3 layouts only (see the doc comment).
        let k43_incompat = incompat & !(EXT3_FEATURE_INCOMPAT_SUPP);
        let k43_ro = if read_only { 0 } else { ro_compat & !EXT3_FEATURE_RO_COMPAT_SUPP };
        let k43_ro_layout = ro_compat & (RO_COMPAT_HUGE_FILE | RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM | 0x200);
        if k43_incompat != 0 || k43_ro != 0 || k43_ro_layout != 0 {
            let t = format!("k43 serves ext3 only: unsupported features ({:x}/{:x})", k43_incompat, k43_ro | k43_ro_layout);
            return Err(fail(&mut msgs, t));
        }
        let log = le32(&sb, off::LOG_BLOCK_SIZE);
        let blocksize: u64 = if log <= 20 { 1024u64 << log } else { 0 };
        if !(1024..=65536).contains(&blocksize) {
            return Err(fail(&mut msgs, format!("Unsupported filesystem blocksize {}", blocksize as i64)));
        }
        // sb_set_blocksize fails above PAGE_SIZE; k43's buffer layer must use this size.
        if blocksize > 4096 || io.block_size() as u64 != blocksize {
            return Err(fail(&mut msgs, format!("bad block size {}", blocksize)));
        }
        let bs = blocksize as u32;
        let block_bits = 10 + log;
        let (inode_size, first_ino) = if rev == 0 {
            (128u32, 11u32)
        } else {
            let isz = u32::from(le16(&sb, off::INODE_SIZE));
            if isz < 128 || !isz.is_power_of_two() || isz > bs {
                return Err(fail(&mut msgs, format!("unsupported inode size: {}", isz)));
            }
            (isz, le32(&sb, off::FIRST_INO))
        };
        let ipg = le32(&sb, off::INODES_PER_GROUP);
        if ipg == 0 {
            return Err(fail(&mut msgs, "VFS: Can't find ext4 filesystem".to_string()));
        }
        let inodes_per_block = bs / inode_size;
        let flags = le32(&sb, off::FLAGS);
        let hash_unsigned = flags & 0x2 != 0;
        let bpg = le32(&sb, off::BLOCKS_PER_GROUP);
        let clog = le32(&sb, off::LOG_CLUSTER_SIZE);
        if clog != log {
            msgs.push(msg(dev_name, &format!("fragment/cluster size ({}) != block size ({})", 1024u64 << clog.min(20), bs)));
        }
        if bpg > bs * 8 {
            return Err(fail(&mut msgs, format!("#blocks per group too big: {}", bpg)));
        }
        if ipg > bs * 8 {
            return Err(fail(&mut msgs, format!("#inodes per group too big: {}", ipg)));
        }
        let blocks_count = u64::from(le32(&sb, off::BLOCKS_COUNT));
        if bpg == 0 {
            return Err(fail(&mut msgs, "VFS: Can't find ext4 filesystem".to_string()));
        }
        let dev_blocks = dev_bytes >> block_bits;
        if dev_blocks != 0 && blocks_count > dev_blocks {
            let t = format!("bad geometry: block count {} exceeds size of device ({} blocks)", blocks_count, dev_blocks);
            return Err(fail(&mut msgs, t));
        }
        let fdb = le32(&sb, off::FIRST_DATA_BLOCK);
        if u64::from(fdb) >= blocks_count {
            let t = format!("bad geometry: first data block {} is beyond end of filesystem ({})", fdb, blocks_count);
            return Err(fail(&mut msgs, t));
        }
        let groups = (blocks_count - u64::from(fdb)).div_ceil(u64::from(bpg));
        let desc_per_block = bs / 32;
        if groups > (1u64 << 32) - u64::from(desc_per_block) {
            return Err(fail(&mut msgs, format!("groups count too large: {}", groups)));
        }
        let groups = groups as u32;
        // s_inodes_count must match (ext4_fill_super checks it after the descriptors in
        // 4.3; the order of these two failures differs only for doubly broken images).
        let inodes_count = le32(&sb, off::INODES_COUNT);
        let db_count = groups.div_ceil(desc_per_block);
        let sb_block: u64 = if bs == 1024 { 1 } else { 0 };
        let first_meta_bg = le32(&sb, off::FIRST_META_BG);
        let sparse = ro_compat & RO_COMPAT_SPARSE_SUPER != 0;
        let mut desc_blocks = Vec::new();
        for i in 0..db_count {
            // descriptor_loc
            let b = if incompat & INCOMPAT_META_BG == 0 || i < first_meta_bg {
                sb_block + 1 + u64::from(i)
            } else {
                let g = i * desc_per_block;
                let has = u64::from(bg_has_super(sparse, g));
                u64::from(fdb) + u64::from(g) * u64::from(bpg) + has
            };
            desc_blocks.push(b);
        }
        let itb_per_group = (ipg.div_ceil(inodes_per_block.max(1))).max(1);
        let mut fs = Ext4 {
            dev_name: dev_name.to_string(),
            block_size: bs,
            block_bits,
            blocks_count,
            first_data_block: fdb,
            blocks_per_group: bpg,
            inodes_per_group: ipg,
            inodes_count,
            inode_size,
            first_ino,
            groups_count: groups,
            desc_per_block,
            itb_per_group,
            desc_blocks,
            compat,
            incompat,
            ro_compat,
            rev_level: rev,
            hash_unsigned,
            hash_seed: [le32(&sb, 0xEC), le32(&sb, 0xF0), le32(&sb, 0xF4), le32(&sb, 0xF8)],
            def_hash_version: sb.get(off::DEF_HASH_VERSION).copied().unwrap_or(0),
            sb_block: 1024 / blocksize,
            sb_offset: (1024 % blocksize) as usize,
            bitmap_maxbytes: max_bitmap_size(block_bits),
            resuid: u32::from(le16(&sb, off::DEF_RESUID)),
            resgid: u32::from(le16(&sb, off::DEF_RESGID)),
            read_only,
        };
        for &b in &fs.desc_blocks {
            if b >= blocks_count {
                return Err(fail(&mut msgs, format!("can't read group descriptor {}", b)));
            }
        }
        // ext4_check_descriptors
        let mut first = u64::from(fdb);
        for g in 0..groups {
            let d = fs.group_desc(io, g).map_err(|e| need(e, &mut msgs))?;
            let last = if g == groups - 1 { blocks_count - 1 } else { first + u64::from(bpg) - 1 };
            if d.block_bitmap < first || d.block_bitmap > last {
                msgs.push(msg(dev_name, &format!("ext4_check_descriptors: Block bitmap for group {} not in group (block {})!", g, d.block_bitmap)));
                return Err(fail(&mut msgs, "group descriptors corrupted!".to_string()));
            }
            if d.inode_bitmap < first || d.inode_bitmap > last {
                msgs.push(msg(dev_name, &format!("ext4_check_descriptors: Inode bitmap for group {} not in group (block {})!", g, d.inode_bitmap)));
                return Err(fail(&mut msgs, "group descriptors corrupted!".to_string()));
            }
            if d.inode_table < first || d.inode_table + u64::from(itb_per_group) - 1 > last {
                msgs.push(msg(dev_name, &format!("ext4_check_descriptors: Inode table for group {} not in group (block {})!", g, d.inode_table)));
                return Err(fail(&mut msgs, "group descriptors corrupted!".to_string()));
            }
            first += u64::from(bpg);
        }
        if u64::from(inodes_count) != u64::from(groups) * u64::from(ipg) {
            let t = format!("inodes count not valid: {} vs {}", inodes_count, u64::from(groups) * u64::from(ipg));
            return Err(fail(&mut msgs, t));
        }
        if first_ino < 11 && rev != 0 || first_ino > inodes_count {
            return Err(fail(&mut msgs, "VFS: Can't find ext4 filesystem".to_string()));
        }
        if rev > 1 {
            msgs.push(msg(dev_name, "revision level too high, forcing read-only mode"));
            fs.read_only = true;
        }
        Ok((fs, msgs))
    }

    /// Reads the primary superblock (1024 bytes).
    pub fn read_super<B: BlockIo + ?Sized>(&self, io: &mut B) -> FsResult<Vec<u8>> {
        let b = self.bread(io, self.sb_block)?;
        Ok(b[self.sb_offset..self.sb_offset + 1024].to_vec())
    }

    /// Writes the primary superblock back (as metadata).
    pub fn write_super<B: BlockIo + ?Sized>(&self, io: &mut B, sb: &[u8]) -> FsResult<()> {
        let mut b = self.bread(io, self.sb_block)?;
        let n = sb.len().min(1024);
        b[self.sb_offset..self.sb_offset + n].copy_from_slice(&sb[..n]);
        io.write_meta(self.sb_block, &b)
    }

    /// Adds `dblocks`/`dinodes` to the superblock free counts (as the percpu counters
    /// would be folded back by `ext4_commit_super`).
    pub(crate) fn sb_add_free<B: BlockIo + ?Sized>(&self, io: &mut B, dblocks: i64, dinodes: i64) -> FsResult<()> {
        let mut sb = self.read_super(io)?;
        let fb = i64::from(le32(&sb, off::FREE_BLOCKS)) + dblocks;
        let fi = i64::from(le32(&sb, off::FREE_INODES)) + dinodes;
        set32(&mut sb, off::FREE_BLOCKS, fb.clamp(0, u32::MAX as i64) as u32);
        set32(&mut sb, off::FREE_INODES, fi.clamp(0, u32::MAX as i64) as u32);
        self.write_super(io, &sb)
    }

    /// Sets ro_compat `large_file` (and upgrades a revision-0 fs) when a regular file
    /// first grows past 2 GiB − 1, as `ext4_do_update_inode` does.
    pub(crate) fn note_large_file<B: BlockIo + ?Sized>(&self, io: &mut B) -> FsResult<()> {
        let mut sb = self.read_super(io)?;
        let ro = le32(&sb, off::FEATURE_RO_COMPAT);
        let rev = le32(&sb, off::REV_LEVEL);
        if ro & RO_COMPAT_LARGE_FILE != 0 && rev != 0 {
            return Ok(());
        }
        update_dynamic_rev(&mut sb);
        set32(&mut sb, off::FEATURE_RO_COMPAT, ro | RO_COMPAT_LARGE_FILE);
        self.write_super(io, &sb)
    }

    /// Sets compat `ext_attr` if missing (`ext4_xattr_update_super_block`).
    pub(crate) fn note_ext_attr<B: BlockIo + ?Sized>(&self, io: &mut B) -> FsResult<()> {
        let mut sb = self.read_super(io)?;
        let c = le32(&sb, off::FEATURE_COMPAT);
        if c & COMPAT_EXT_ATTR != 0 {
            return Ok(());
        }
        set32(&mut sb, off::FEATURE_COMPAT, c | COMPAT_EXT_ATTR);
        self.write_super(io, &sb)
    }

    /// The read-write mount side effects of `ext4_setup_super` + `ext4_commit_super`:
    /// mount count + 1, s_mtime, s_max_mnt_count 20 if it was 0, rev 0 → 1, RECOVER set
    /// (the fs has a journal), hash signedness recorded if neither flag is set (as on
    /// x86), s_wtime. Returns the warnings Linux prints.
    pub fn mark_mounted_rw<B: BlockIo + ?Sized>(&self, io: &mut B, now: Time) -> FsResult<Vec<String>> {
        let mut out = Vec::new();
        let mut sb = self.read_super(io)?;
        let state = le16(&sb, off::STATE);
        if state & EXT4_VALID_FS == 0 {
            out.push(msg(&self.dev_name, "warning: mounting unchecked fs, running e2fsck is recommended"));
        } else if state & EXT4_ERROR_FS != 0 {
            out.push(msg(&self.dev_name, "warning: mounting fs with errors, running e2fsck is recommended"));
        } else {
            let max = le16(&sb, off::MAX_MNT_COUNT) as i16;
            let cnt = le16(&sb, off::MNT_COUNT) as i16;
            let lastcheck = i64::from(le32(&sb, off::LASTCHECK));
            let interval = i64::from(le32(&sb, off::CHECKINTERVAL));
            if max > 0 && cnt >= max {
                out.push(msg(&self.dev_name, "warning: maximal mount count reached, running e2fsck is recommended"));
            } else if interval != 0 && lastcheck + interval <= now.sec {
                out.push(msg(&self.dev_name, "warning: checktime reached, running e2fsck is recommended"));
            }
        }
        if le16(&sb, off::MAX_MNT_COUNT) == 0 {
            set16(&mut sb, off::MAX_MNT_COUNT, 20);
        }
        let mc = le16(&sb, off::MNT_COUNT).wrapping_add(1);
        set16(&mut sb, off::MNT_COUNT, mc);
        set32(&mut sb, off::MTIME, now.sec as u32);
        update_dynamic_rev(&mut sb);
        let compat = le32(&sb, off::FEATURE_COMPAT);
        if compat & COMPAT_HAS_JOURNAL != 0 {
            let inc = le32(&sb, off::FEATURE_INCOMPAT);
            set32(&mut sb, off::FEATURE_INCOMPAT, inc | INCOMPAT_RECOVER);
        } else {
            set16(&mut sb, off::STATE, state & !EXT4_VALID_FS);
        }
        if compat & COMPAT_DIR_INDEX != 0 && le32(&sb, off::FLAGS) & 0x3 == 0 {
            let fl = le32(&sb, off::FLAGS) | 0x1;
            set32(&mut sb, off::FLAGS, fl);
        }
        set32(&mut sb, off::WTIME, now.sec as u32);
        self.write_super(io, &sb)?;
        Ok(out)
    }

    /// Clean unmount (`ext4_put_super`, after the journal was flushed): clears RECOVER,
    /// restores `s_state` to `mount_state` (with ERROR_FS if `had_error`), s_wtime.
    pub fn mark_clean_unmount<B: BlockIo + ?Sized>(&self, io: &mut B, now: Time, mount_state: u16, had_error: bool) -> FsResult<()> {
        let mut sb = self.read_super(io)?;
        let inc = le32(&sb, off::FEATURE_INCOMPAT);
        set32(&mut sb, off::FEATURE_INCOMPAT, inc & !INCOMPAT_RECOVER);
        let st = if had_error { mount_state | EXT4_ERROR_FS } else { mount_state };
        set16(&mut sb, off::STATE, st);
        set32(&mut sb, off::WTIME, now.sec as u32);
        self.write_super(io, &sb)
    }

    /// `ext4_statfs` for a block-mapped fs with the default `bsddf`: f_blocks excludes
    /// the metadata overhead (s_overhead_clusters, or the per-group computation of
    /// `ext4_calculate_overhead` incl. the journal when it is 0); free counts come from
    /// the group descriptors as Linux's percpu counters do.
    pub fn statfs<B: BlockIo + ?Sized>(&self, io: &mut B) -> FsResult<Statfs> {
        let sb = self.read_super(io)?;
        let mut bfree = 0u64;
        let mut ffree = 0u64;
        for g in 0..self.groups_count {
            let d = self.group_desc(io, g)?;
            bfree += u64::from(d.free_blocks);
            ffree += u64::from(d.free_inodes);
        }
        let overhead = match le32(&sb, off::OVERHEAD_CLUSTERS) {
            0 => self.calculate_overhead(io, &sb)?,
            n => u64::from(n),
        };
        let r = u64::from(le32(&sb, off::R_BLOCKS_COUNT));
        let uuid = sb.get(off::UUID..off::UUID + 16).unwrap_or(&[0; 16]);
        let a = u64::from_le_bytes(uuid[0..8].try_into().unwrap_or([0; 8]));
        let b = u64::from_le_bytes(uuid[8..16].try_into().unwrap_or([0; 8]));
        let fsid = a ^ b;
        Ok(Statfs {
            f_type: u32::from(EXT4_SUPER_MAGIC),
            f_bsize: self.block_size,
            f_blocks: self.blocks_count.saturating_sub(overhead),
            f_bfree: bfree,
            f_bavail: bfree.saturating_sub(r),
            f_files: u64::from(self.inodes_count),
            f_ffree: ffree,
            f_namelen: EXT4_NAME_LEN as u32,
            f_fsid: [fsid as u32, (fsid >> 32) as u32],
        })
    }

    fn calculate_overhead<B: BlockIo + ?Sized>(&self, io: &mut B, sb: &[u8]) -> FsResult<u64> {
        let mut o = u64::from(self.first_data_block);
        for g in 0..self.groups_count {
            o += u64::from(self.bg_has_super(g)) + self.bg_num_gdb(g) + u64::from(self.itb_per_group) + 2;
        }
        let jino = le32(sb, off::JOURNAL_INUM);
        if le32(sb, off::FEATURE_COMPAT) & COMPAT_HAS_JOURNAL != 0 && jino != 0 {
            let ji = self.read_inode(io, jino)?;
            o += ji.size() >> self.block_bits;
        }
        Ok(o)
    }

    /// Whether group `g` holds a superblock backup (`ext4_bg_has_super`).
    pub fn bg_has_super(&self, g: u32) -> bool {
        bg_has_super(self.ro_compat & RO_COMPAT_SPARSE_SUPER != 0, g)
    }

    /// Descriptor-table blocks in group `g` (`ext4_bg_num_gdb`).
    pub fn bg_num_gdb(&self, g: u32) -> u64 {
        let first_meta_bg = u64::from(self.first_meta_bg_hint());
        let metagroup = u64::from(g / self.desc_per_block);
        if self.incompat & INCOMPAT_META_BG == 0 || metagroup < first_meta_bg {
            if !self.bg_has_super(g) {
                return 0;
            }
            if self.incompat & INCOMPAT_META_BG != 0 {
                return first_meta_bg;
            }
            return self.desc_blocks.len() as u64;
        }
        let idx = g % self.desc_per_block;
        u64::from(idx == 0 || idx == 1 || idx == self.desc_per_block - 1)
    }

    fn first_meta_bg_hint(&self) -> u32 {
        // The classic descriptor blocks are the ones right after the superblock.
        let base = self.sb_block_nr() + 1;
        self.desc_blocks.iter().enumerate().take_while(|(i, &b)| b == base + *i as u64).count() as u32
    }

    fn sb_block_nr(&self) -> u64 {
        if self.block_size == 1024 { 1 } else { 0 }
    }
}

/// `ext4_update_dynamic_rev`: a revision-0 superblock becomes revision 1.
fn update_dynamic_rev(sb: &mut [u8]) {
    if le32(sb, off::REV_LEVEL) != 0 {
        return;
    }
    set32(sb, off::FIRST_INO, 11);
    set16(sb, off::INODE_SIZE, 128);
    set32(sb, off::REV_LEVEL, 1);
}

/// `ext4_max_bitmap_size` without huge_file: the largest block-mapped file.
pub fn max_bitmap_size(bits: u32) -> u64 {
    let a = 1u64 << (bits - 2);
    let mut upper: u64 = ((1u64 << 32) - 1) >> (bits - 9);
    let meta = 1 + (1 + a) + (1 + a + a * a);
    upper -= meta;
    upper <<= bits;
    let res = (12 + a + a * a + a * a * a) << bits;
    // MAX_LFS_FILESIZE on 64-bit is 2^63-1: never the limit here.
    res.min(upper)
}
