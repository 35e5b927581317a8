//! Block allocation and freeing against the block bitmaps, with the group descriptor
//! and superblock free counts kept in step (`balloc.c`, the bitmap side of
//! `mballoc.c` reduced to a first-fit search from a goal).

use super::group::{change_bit, test_bit};
use super::super_block::off;
use super::*;
use crate::uapi::Errno;

/// The first clear bit of `bm` in `range` that `usable` accepts, in order (a bit past
/// the end of `bm` reads as clear). Whole bytes of set bits are stepped over at once:
/// the search from a group's start otherwise tests every bit of its metadata and
/// journal blocks for each allocation.
fn first_free(bm: &[u8], range: core::ops::Range<usize>, usable: &mut impl FnMut(usize) -> bool) -> Option<usize> {
    let mut i = range.start;
    while i < range.end {
        if i % 8 == 0 && i + 8 <= range.end && bm.get(i / 8) == Some(&0xff) {
            i += 8;
            continue;
        }
        if !test_bit(bm, i) && usable(i) {
            return Some(i);
        }
        i += 1;
    }
    None
}

impl Ext4 {
    /// The default goal for inode `ino`'s blocks: the start of its group
    /// (`ext4_inode_to_goal_block` without the per-pid colour, which would make the
    /// allocation depend on the caller).
    pub fn inode_goal(&self, ino: u32) -> u64 {
        let g = ino.saturating_sub(1) / self.inodes_per_group.max(1);
        self.group_first_block(g.min(self.groups_count.saturating_sub(1)))
    }

    /// Whether `blk` is one of group `g`'s bitmaps or inode table blocks.
    fn is_group_meta(&self, d: &group::GroupDesc, blk: u64) -> bool {
        blk == d.block_bitmap || blk == d.inode_bitmap || (blk >= d.inode_table && blk < d.inode_table + u64::from(self.itb_per_group))
    }

    /// `ext4_has_free_clusters`: root-reserved blocks are only for the reserved uid/gid
    /// and `CAP_SYS_RESOURCE`.
    fn may_allocate<B: BlockIo + ?Sized>(&self, io: &mut B, n: u64, ctx: &Ctx) -> FsResult<()> {
        let sb = self.read_super(io)?;
        let free = u64::from(le32(&sb, off::FREE_BLOCKS));
        let rsv = u64::from(le32(&sb, off::R_BLOCKS_COUNT));
        if free >= rsv + n {
            return Ok(());
        }
        let privileged = ctx.cap_resource || ctx.uid == self.resuid || (self.resgid != 0 && ctx.gid == self.resgid);
        if privileged && free >= n {
            return Ok(());
        }
        Err(FsError::Errno(Errno::ENOSPC))
    }

    /// Allocates one block, first fit from `goal` onwards (wrapping over the groups),
    /// skipping blocks `io.busy` reports as freed by an uncommitted transaction.
    pub fn new_block<B: BlockIo + ?Sized>(&self, io: &mut B, goal: u64, ctx: &Ctx) -> FsResult<u64> {
        self.may_allocate(io, 1, ctx)?;
        let goal = if self.valid_block(goal) { goal } else { u64::from(self.first_data_block) };
        let bpg = u64::from(self.blocks_per_group);
        let g0 = ((goal - u64::from(self.first_data_block)) / bpg) as u32;
        let off0 = ((goal - u64::from(self.first_data_block)) % bpg) as usize;
        for k in 0..self.groups_count {
            let g = (g0 + k) % self.groups_count;
            let d = self.group_desc(io, g)?;
            if d.free_blocks == 0 {
                continue;
            }
            if !self.valid_block(d.block_bitmap) {
                return Err(FsError::Corrupted("block bitmap out of range"));
            }
            let mut bm = self.bread(io, d.block_bitmap)?;
            let n = self.group_nblocks(g) as usize;
            let start = if k == 0 { off0.min(n) } else { 0 };
            let first = self.group_first_block(g);
            let mut free = |i: usize| !io.busy(first + i as u64);
            let found = first_free(&bm, start..n, &mut free).or_else(|| first_free(&bm, 0..start, &mut free));
            let Some(i) = found else { continue };
            let blk = first + i as u64;
            if self.is_group_meta(&d, blk) || !self.valid_block(blk) {
                // ext4_mb_mark_diskspace_used: "Allocating blocks ... which overlap fs metadata"
                return Err(FsError::Corrupted("allocating block in system zone"));
            }
            change_bit(&mut bm, i, true);
            io.write_meta(d.block_bitmap, &bm)?;
            self.group_add(io, g, -1, 0, 0)?;
            self.sb_add_free(io, -1, 0)?;
            return Ok(blk);
        }
        Err(FsError::Errno(Errno::ENOSPC))
    }

    /// Frees blocks (`ext4_free_blocks`): clears their bitmap bits group by group, bumps
    /// the free counts and tells `io` (`forget`, with whether it was metadata). A block
    /// already free or inside the system zone is corruption.
    pub fn free_blocks<B: BlockIo + ?Sized>(&self, io: &mut B, blocks: &[(u64, bool)]) -> FsResult<()> {
        let mut v: Vec<(u64, bool)> = blocks.to_vec();
        v.sort_unstable();
        let bpg = u64::from(self.blocks_per_group);
        let mut i = 0;
        while i < v.len() {
            let blk0 = v[i].0;
            if !self.valid_block(blk0) {
                return Err(FsError::Corrupted("freeing blocks not in datazone"));
            }
            let g = ((blk0 - u64::from(self.first_data_block)) / bpg) as u32;
            let first = self.group_first_block(g);
            let d = self.group_desc(io, g)?;
            let mut bm = self.bread(io, d.block_bitmap)?;
            let mut n = 0i32;
            while i < v.len() && v[i].0 >= first && v[i].0 < first + bpg {
                let (blk, meta) = v[i];
                if !self.valid_block(blk) || self.is_group_meta(&d, blk) {
                    return Err(FsError::Corrupted("freeing blocks not in datazone"));
                }
                if !change_bit(&mut bm, (blk - first) as usize, false) {
                    // mb_free_blocks: "double-free of inode ... block"
                    return Err(FsError::Corrupted("freeing already freed block"));
                }
                io.forget(blk, meta);
                n += 1;
                i += 1;
            }
            io.write_meta(d.block_bitmap, &bm)?;
            self.group_add(io, g, n, 0, 0)?;
            self.sb_add_free(io, i64::from(n), 0)?;
        }
        Ok(())
    }
}
