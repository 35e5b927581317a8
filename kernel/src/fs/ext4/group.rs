//! Block group descriptors (32-byte `ext4_group_desc` without `64bit`).

use super::*;

/// The fields of a group descriptor ext3 uses. `bg_flags` and the checksum fields are
/// left untouched on write (they only mean something with gdt_csum/metadata_csum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupDesc {
    /// bg_block_bitmap.
    pub block_bitmap: u64,
    /// bg_inode_bitmap.
    pub inode_bitmap: u64,
    /// bg_inode_table.
    pub inode_table: u64,
    /// bg_free_blocks_count.
    pub free_blocks: u16,
    /// bg_free_inodes_count.
    pub free_inodes: u16,
    /// bg_used_dirs_count.
    pub used_dirs: u16,
}

impl Ext4 {
    fn desc_loc(&self, g: u32) -> FsResult<(u64, usize)> {
        if g >= self.groups_count {
            return Err(FsError::Corrupted("group number out of range"));
        }
        let blk = *self.desc_blocks.get((g / self.desc_per_block) as usize).ok_or(FsError::Corrupted("no descriptor block"))?;
        Ok((blk, (g % self.desc_per_block) as usize * 32))
    }

    /// Reads group `g`'s descriptor.
    pub fn group_desc<B: BlockIo + ?Sized>(&self, io: &mut B, g: u32) -> FsResult<GroupDesc> {
        let (blk, o) = self.desc_loc(g)?;
        let b = self.bread(io, blk)?;
        Ok(GroupDesc {
            block_bitmap: u64::from(le32(&b, o)),
            inode_bitmap: u64::from(le32(&b, o + 4)),
            inode_table: u64::from(le32(&b, o + 8)),
            free_blocks: le16(&b, o + 12),
            free_inodes: le16(&b, o + 14),
            used_dirs: le16(&b, o + 16),
        })
    }

    /// Adds to group `g`'s free block / free inode / used dirs counts.
    pub(crate) fn group_add<B: BlockIo + ?Sized>(&self, io: &mut B, g: u32, dblocks: i32, dinodes: i32, ddirs: i32) -> FsResult<()> {
        let (blk, o) = self.desc_loc(g)?;
        let mut b = self.bread(io, blk)?;
        let adj = |v: u16, d: i32| -> FsResult<u16> {
            u16::try_from(i32::from(v) + d).map_err(|_| FsError::Corrupted("group descriptor count out of range"))
        };
        let fb = adj(le16(&b, o + 12), dblocks)?;
        let fi = adj(le16(&b, o + 14), dinodes)?;
        let ud = adj(le16(&b, o + 16), ddirs)?;
        set16(&mut b, o + 12, fb);
        set16(&mut b, o + 14, fi);
        set16(&mut b, o + 16, ud);
        io.write_meta(blk, &b)
    }
}

/// Tests bit `i` of a bitmap (0 when out of range so callers treat it as "in use"? no:
/// out of range is checked by callers).
pub(crate) fn test_bit(bm: &[u8], i: usize) -> bool {
    bm.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// Sets or clears bit `i`; returns its old value.
pub(crate) fn change_bit(bm: &mut [u8], i: usize, v: bool) -> bool {
    match bm.get_mut(i / 8) {
        Some(b) => {
            let old = *b & (1 << (i % 8)) != 0;
            if v {
                *b |= 1 << (i % 8);
            } else {
                *b &= !(1 << (i % 8));
            }
            old
        }
        None => v,
    }
}
