//! Block-mapped files (`fs/ext4/indirect.c`): 12 direct pointers, then single, double
//! and triple indirect blocks of little-endian u32 pointers; 0 is a hole.

use super::inode::DiskInode;
use super::*;
use crate::uapi::Errno;
use alloc::vec;

/// i_block slots of the indirect trees.
pub const EXT4_IND_BLOCK: usize = 12;
/// See [`EXT4_IND_BLOCK`].
pub const EXT4_DIND_BLOCK: usize = 13;
/// See [`EXT4_IND_BLOCK`].
pub const EXT4_TIND_BLOCK: usize = 14;

/// `ext4_block_to_path`: the slot in i_block, then the index at each indirect level.
/// `None` past the triple-indirect range.
pub fn block_to_path(lblk: u64, addr_per_block: u64) -> Option<Vec<usize>> {
    let a = addr_per_block;
    let mut l = lblk;
    if l < 12 {
        return Some(vec![l as usize]);
    }
    l -= 12;
    if l < a {
        return Some(vec![EXT4_IND_BLOCK, l as usize]);
    }
    l -= a;
    if l < a * a {
        return Some(vec![EXT4_DIND_BLOCK, (l / a) as usize, (l % a) as usize]);
    }
    l -= a * a;
    if l < a * a * a {
        return Some(vec![EXT4_TIND_BLOCK, (l / (a * a)) as usize, ((l / a) % a) as usize, (l % a) as usize]);
    }
    None
}

/// The indirect blocks [`Ext4::bmap_cached`] last read, one per level (single, double,
/// triple), with their block numbers.
#[derive(Debug, Default)]
pub(crate) struct MapCache {
    levels: [Option<(u64, Vec<u8>)>; 3],
}

impl Ext4 {
    fn checked_ptr(&self, p: u32) -> FsResult<u64> {
        let p = u64::from(p);
        if p != 0 && !self.valid_block(p) {
            // __ext4_check_blockref / ext4_data_block_valid
            return Err(FsError::Corrupted("block pointer out of range"));
        }
        Ok(p)
    }

    /// Physical block of logical block `lblk` of a block-mapped inode, 0 for a hole
    /// (`ext4_ind_map_blocks` without create).
    pub fn bmap<B: BlockIo + ?Sized>(&self, io: &mut B, inode: &DiskInode, lblk: u64) -> FsResult<u64> {
        self.bmap_cached(io, inode, lblk, &mut MapCache::default())
    }

    /// [`Ext4::bmap`] for a run of lookups within one operation that does not change
    /// the map (a read): the indirect block last read at each level is kept in `cache`
    /// and not read again, so a sequential read reads each indirect block once instead
    /// of once per data block. The reads it does make, and their order, are the ones
    /// `bmap` would make first, so a `Need` comes at the same place.
    pub(crate) fn bmap_cached<B: BlockIo + ?Sized>(&self, io: &mut B, inode: &DiskInode, lblk: u64, cache: &mut MapCache) -> FsResult<u64> {
        let path = match block_to_path(lblk, self.addr_per_block()) {
            Some(p) => p,
            None => return Err(FsError::Errno(Errno::EIO)),
        };
        let mut p = self.checked_ptr(inode.block_ptr(path[0]))?;
        for (level, &idx) in path[1..].iter().enumerate() {
            if p == 0 {
                return Ok(0);
            }
            let hit = matches!(&cache.levels[level], Some((blk, _)) if *blk == p);
            if !hit {
                cache.levels[level] = Some((p, self.bread(io, p)?));
            }
            let word = cache.levels[level].as_ref().map_or(0, |(_, b)| le32(b, idx * 4));
            p = self.checked_ptr(word)?;
        }
        Ok(p)
    }

    /// Maps `lblk`, allocating the data block and missing indirect blocks
    /// (`ext4_ind_map_blocks` with create). Returns the block and whether it is new
    /// (new data blocks are not zeroed here: the caller writes them whole). `inode` is
    /// updated in memory (i_block, i_blocks); the caller writes it back.
    pub fn bmap_alloc<B: BlockIo + ?Sized>(&self, io: &mut B, inode: &mut DiskInode, lblk: u64, ctx: &Ctx) -> FsResult<(u64, bool)> {
        let path = block_to_path(lblk, self.addr_per_block()).ok_or(FsError::Errno(Errno::EFBIG))?;
        let sectors = i64::from(self.block_size >> 9);
        // Walk the existing part.
        let top = self.checked_ptr(inode.block_ptr(path[0]))?;
        let mut parent: Option<(u64, Vec<u8>)> = None; // indirect block holding the next pointer
        let mut cur = top;
        let mut level = 0;
        loop {
            if cur == 0 {
                break;
            }
            if level + 1 == path.len() {
                return Ok((cur, false));
            }
            let b = self.bread(io, cur)?;
            let next = self.checked_ptr(le32(&b, path[level + 1] * 4))?;
            parent = Some((cur, b));
            cur = next;
            level += 1;
        }
        // ext4_find_goal / ext4_find_near: the nearest earlier pointer in the same
        // array, else the indirect block itself, else the inode's group.
        let goal = {
            let near = match &parent {
                None => (0..path[0]).rev().map(|i| u64::from(inode.block_ptr(i))).find(|&p| p != 0),
                Some((pb, b)) => (0..path[level]).rev().map(|i| u64::from(le32(b, i * 4))).find(|&p| p != 0).or(Some(*pb)),
            };
            near.map(|p| p + 1).unwrap_or_else(|| self.inode_goal(inode.ino))
        };
        // Allocate the missing chain: indirect blocks first, then the data block.
        let mut g = goal;
        let mut newblocks = Vec::new();
        for _ in level..path.len() {
            let nb = self.new_block(io, g, ctx)?;
            newblocks.push(nb);
            g = nb + 1;
        }
        inode.add_blocks(sectors * newblocks.len() as i64)?;
        // Zero new indirect blocks and link each to the next.
        for (k, &nb) in newblocks.iter().enumerate() {
            if k + 1 < newblocks.len() {
                let mut b = vec![0u8; self.block_size as usize];
                let lvl = level + k + 1;
                set32(&mut b, path[lvl] * 4, newblocks[k + 1] as u32);
                io.write_meta(nb, &b)?;
            }
        }
        match parent {
            None => inode.set_block_ptr(path[0], newblocks[0] as u32),
            Some((pb, mut b)) => {
                set32(&mut b, path[level] * 4, newblocks[0] as u32);
                io.write_meta(pb, &b)?;
            }
        }
        Ok((*newblocks.last().ok_or(FsError::Corrupted("empty allocation"))?, true))
    }

    /// Frees every block of logical blocks ≥ `first` and every indirect block that no
    /// longer maps anything (`ext4_ind_truncate`); updates i_block and i_blocks in
    /// `inode` (the caller writes it back). Returns the blocks freed.
    pub fn truncate_blocks<B: BlockIo + ?Sized>(&self, io: &mut B, inode: &mut DiskInode, first: u64) -> FsResult<u64> {
        let a = self.addr_per_block();
        let mut freed: Vec<(u64, bool)> = Vec::new();
        for i in 0..12usize {
            if i as u64 >= first {
                let p = self.checked_ptr(inode.block_ptr(i))?;
                if p != 0 {
                    freed.push((p, false));
                    inode.set_block_ptr(i, 0);
                }
            }
        }
        let mut base = 12u64;
        let mut span = 1u64;
        for (slot, depth) in [(EXT4_IND_BLOCK, 1u32), (EXT4_DIND_BLOCK, 2), (EXT4_TIND_BLOCK, 3)] {
            let total = span * a; // blocks covered by this tree
            let p = self.checked_ptr(inode.block_ptr(slot))?;
            if p != 0 && first < base + total {
                let cut = first.saturating_sub(base);
                if self.free_tree(io, p, depth, cut, &mut freed)? {
                    inode.set_block_ptr(slot, 0);
                }
            }
            base += total;
            span *= a;
        }
        let n = freed.len() as u64;
        inode.add_blocks(-((n * u64::from(self.block_size >> 9)) as i64))?;
        self.free_blocks(io, &freed)?;
        Ok(n)
    }

    /// Frees the part of the subtree at `blk` (of `depth` levels) from relative logical
    /// block `cut` on; returns whether `blk` itself was freed (nothing kept below it).
    fn free_tree<B: BlockIo + ?Sized>(&self, io: &mut B, blk: u64, depth: u32, cut: u64, freed: &mut Vec<(u64, bool)>) -> FsResult<bool> {
        let a = self.addr_per_block();
        let span = a.pow(depth - 1);
        let mut b = self.bread(io, blk)?;
        let mut changed = false;
        let mut kept = false;
        for i in 0..a as usize {
            let p = self.checked_ptr(le32(&b, i * 4))?;
            if p == 0 {
                continue;
            }
            let start = i as u64 * span;
            if start + span <= cut {
                kept = true;
                continue;
            }
            let gone = if depth == 1 {
                freed.push((p, false));
                true
            } else {
                self.free_tree(io, p, depth - 1, cut.saturating_sub(start), freed)?
            };
            if gone {
                set32(&mut b, i * 4, 0);
                changed = true;
            } else {
                kept = true;
            }
        }
        if !kept {
            freed.push((blk, true));
            return Ok(true);
        }
        if changed {
            io.write_meta(blk, &b)?;
        }
        Ok(false)
    }

    /// Every block an inode's map holds (data and indirect), for fsck-like checks and
    /// tests; bounded by the tree size.
    pub fn mapped_blocks<B: BlockIo + ?Sized>(&self, io: &mut B, inode: &DiskInode) -> FsResult<Vec<(u64, u64)>> {
        let mut out = Vec::new();
        let nblocks = inode.size().div_ceil(u64::from(self.block_size));
        let mut cache = MapCache::default();
        for l in 0..nblocks.min(1 << 24) {
            let p = self.bmap_cached(io, inode, l, &mut cache)?;
            if p != 0 {
                out.push((l, p));
            }
        }
        Ok(out)
    }
}
