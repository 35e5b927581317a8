//! Inode allocation and freeing (`ialloc.c`): a simplified Orlov spread for
//! directories, `find_group_other` for everything else.

use super::group::{change_bit, test_bit};
use super::inode::{DiskInode, EXT4_NEW_EXTRA_ISIZE, S_IFDIR, S_IFREG};
use super::*;
use crate::uapi::Errno;
use alloc::vec;

/// Flags a new inode inherits from its directory (`EXT4_FL_INHERITED`).
const EXT4_FL_INHERITED: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x200 | 0x400 | 0x4000 | 0x8000 | 0x10000;
/// S_ISGID.
const S_ISGID: u16 = 0o2000;

impl Ext4 {
    fn pick_group<B: BlockIo + ?Sized>(&self, io: &mut B, parent: u32, is_dir: bool) -> FsResult<Option<u32>> {
        let n = self.groups_count;
        let pg = (parent.saturating_sub(1) / self.inodes_per_group).min(n - 1);
        let mut descs = Vec::with_capacity(n as usize);
        for g in 0..n {
            descs.push(self.group_desc(io, g)?);
        }
        if is_dir {
            // Orlov-like: a group with at least the average free inodes and blocks and
            // the fewest directories, searched from the parent's group.
            let avg_i = descs.iter().map(|d| u64::from(d.free_inodes)).sum::<u64>() / u64::from(n);
            let avg_b = descs.iter().map(|d| u64::from(d.free_blocks)).sum::<u64>() / u64::from(n);
            let mut best: Option<(u32, u16)> = None;
            for k in 0..n {
                let g = (pg + k) % n;
                let d = &descs[g as usize];
                if d.free_inodes == 0 || u64::from(d.free_inodes) < avg_i || u64::from(d.free_blocks) < avg_b {
                    continue;
                }
                if best.is_none_or(|(_, u)| d.used_dirs < u) {
                    best = Some((g, d.used_dirs));
                }
            }
            if let Some((g, _)) = best {
                return Ok(Some(g));
            }
        } else {
            // find_group_other: the parent's group, then a quadratic hash, then linear.
            let d = &descs[pg as usize];
            if d.free_inodes != 0 && d.free_blocks != 0 {
                return Ok(Some(pg));
            }
            let mut g = pg;
            let mut i = 1u32;
            while i < n {
                g = (g + i) % n;
                let d = &descs[g as usize];
                if d.free_inodes != 0 && d.free_blocks != 0 {
                    return Ok(Some(g));
                }
                i <<= 1;
            }
        }
        for k in 0..n {
            let g = (pg + k) % n;
            if descs[g as usize].free_inodes != 0 {
                return Ok(Some(g));
            }
        }
        Ok(None)
    }

    /// Allocates an inode for a new object of `mode` in directory `dir`
    /// (`__ext4_new_inode`): bitmap, counts, and a fresh zeroed record with owner
    /// (`inode_init_owner`), times, inherited flags, i_extra_isize 28 and no
    /// EXTENTS_FL. Link count is left 0; the caller sets it. The record is written.
    pub fn new_inode<B: BlockIo + ?Sized>(&self, io: &mut B, dir: &DiskInode, mode: u16, ctx: &Ctx) -> FsResult<DiskInode> {
        self.check_rw()?;
        let is_dir = mode & inode::S_IFMT == S_IFDIR;
        let g = self.pick_group(io, dir.ino, is_dir)?.ok_or(FsError::Errno(Errno::ENOSPC))?;
        let d = self.group_desc(io, g)?;
        if !self.valid_block(d.inode_bitmap) {
            return Err(FsError::Corrupted("inode bitmap out of range"));
        }
        let mut bm = self.bread(io, d.inode_bitmap)?;
        let base = g * self.inodes_per_group;
        let found = (0..self.inodes_per_group).find(|&i| base + i + 1 >= self.first_ino && !test_bit(&bm, i as usize));
        let Some(i) = found else {
            // Descriptor says free inodes, bitmap says none.
            return Err(FsError::Corrupted("free inodes count wrong"));
        };
        change_bit(&mut bm, i as usize, true);
        io.write_meta(d.inode_bitmap, &bm)?;
        self.group_add(io, g, 0, -1, i32::from(is_dir))?;
        self.sb_add_free(io, 0, -1)?;
        let ino = base + i + 1;
        // The old record only seeds i_generation, so a corrupted one is no reason to
        // fail; but a block that is not in memory yet must still be asked for: taking
        // `Need` for "no old record" would give this run another generation than the
        // restarted one (found by the ext4_image fuzz target).
        let old = match self.read_inode(io, ino) {
            Ok(i) => Some(i),
            Err(FsError::Need(b)) => return Err(FsError::Need(b)),
            Err(_) => None,
        };
        let mut n = DiskInode { ino, raw: vec![0; self.inode_size as usize] };
        if self.inode_size > 128 {
            n.set_extra_isize(EXT4_NEW_EXTRA_ISIZE);
        }
        let mut mode = mode;
        let gid = if dir.mode() & S_ISGID != 0 {
            if is_dir {
                mode |= S_ISGID;
            }
            dir.gid()
        } else {
            ctx.gid
        };
        n.set_mode(mode);
        n.set_uid(ctx.uid);
        n.set_gid(gid);
        n.set_atime(ctx.now);
        n.set_mtime(ctx.now);
        n.set_ctime(ctx.now);
        n.set_crtime(ctx.now);
        // ext4_mask_flags
        let inherited = dir.flags() & EXT4_FL_INHERITED;
        let flags = if is_dir {
            inherited
        } else if mode & inode::S_IFMT == S_IFREG {
            inherited & !(0x10000 | 0x20000)
        } else {
            inherited & (0x40 | 0x80)
        };
        n.set_flags(flags);
        // Linux takes s_next_generation++ (random at mount); k43 bumps the previous
        // generation of the record so that the choice depends only on the disk.
        n.set_generation(old.map(|o| o.generation().wrapping_add(1)).unwrap_or(1));
        self.write_inode(io, &n)?;
        Ok(n)
    }

    /// Returns inode `ino` to the bitmap (`ext4_free_inode`); the record must already
    /// hold no blocks. `was_dir` adjusts bg_used_dirs_count.
    pub fn free_inode<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, was_dir: bool) -> FsResult<()> {
        if ino < self.first_ino || ino > self.inodes_count {
            return Err(FsError::Corrupted("reserved or nonexistent inode"));
        }
        let g = (ino - 1) / self.inodes_per_group;
        let d = self.group_desc(io, g)?;
        let mut bm = self.bread(io, d.inode_bitmap)?;
        if !change_bit(&mut bm, ((ino - 1) % self.inodes_per_group) as usize, false) {
            return Err(FsError::Corrupted("bit already cleared for inode"));
        }
        io.write_meta(d.inode_bitmap, &bm)?;
        self.group_add(io, g, 0, 1, -i32::from(was_dir))?;
        self.sb_add_free(io, 0, 1)
    }
}
