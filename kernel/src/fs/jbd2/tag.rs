//! Descriptor blocks (`JBD2_DESCRIPTOR_BLOCK`) and their block tags
//! (`journal_block_tag_t` / `journal_block_tag3_t`).

use super::csum::crc32c;
use super::header::{be16, be32, put16, put32, JournalHeader, JBD2_DESCRIPTOR_BLOCK};
use super::superblock::{JournalSuperblock, JBD2_FEATURE_INCOMPAT_64BIT, JBD2_FEATURE_INCOMPAT_CSUM_V3};
use alloc::vec::Vec;

/// `JBD2_FLAG_ESCAPE`: the image began with the journal magic; the log copy has it zeroed.
pub const JBD2_FLAG_ESCAPE: u16 = 1;
/// `JBD2_FLAG_SAME_UUID`: no 16-byte UUID follows this tag.
pub const JBD2_FLAG_SAME_UUID: u16 = 2;
/// `JBD2_FLAG_DELETED`: defined, never written by jbd2.
pub const JBD2_FLAG_DELETED: u16 = 4;
/// `JBD2_FLAG_LAST_TAG`: the last tag of this descriptor.
pub const JBD2_FLAG_LAST_TAG: u16 = 8;
/// Size of `struct jbd2_journal_block_tail` (descriptor checksum, v2/v3 only).
pub const BLOCK_TAIL_SIZE: usize = 4;
/// The UUID that follows a tag without SAME_UUID.
pub const UUID_SIZE: usize = 16;

/// How tags are laid out for one journal (from its superblock features).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagFormat {
    /// `journal_tag_bytes`.
    pub tag_bytes: usize,
    /// 64BIT: `t_blocknr_high` at offset 8 counts.
    pub is_64bit: bool,
    /// CSUM_V3: 32-bit flags word and 32-bit checksum at offset 12.
    pub csum_v3: bool,
    /// CSUM_V2 or V3: descriptors end with a 4-byte checksum tail.
    pub csum_v2or3: bool,
}

impl TagFormat {
    /// The layout a superblock's features select.
    pub fn of(sb: &JournalSuperblock) -> TagFormat {
        TagFormat {
            tag_bytes: sb.tag_bytes(),
            is_64bit: sb.has_incompat(JBD2_FEATURE_INCOMPAT_64BIT),
            csum_v3: sb.has_incompat(JBD2_FEATURE_INCOMPAT_CSUM_V3),
            csum_v2or3: sb.has_csum_v2or3(),
        }
    }

    /// Bytes at the end of a descriptor reserved for the checksum tail.
    pub fn tail_bytes(&self) -> usize {
        if self.csum_v2or3 {
            BLOCK_TAIL_SIZE
        } else {
            0
        }
    }
}

/// One block tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockTag {
    /// `t_blocknr` (| `t_blocknr_high << 32` with 64BIT): where the image goes home.
    pub blocknr: u64,
    /// `t_flags` (`JBD2_FLAG_*`); recovery reads the 16-bit word at offset 6 for every
    /// layout, which is the low half of tag3's 32-bit flags.
    pub flags: u16,
    /// `t_checksum` (16-bit in v2, 32-bit in v3, 0 otherwise).
    pub checksum: u32,
}

impl BlockTag {
    /// Parses the tag at the start of `b` (`None` if `b` is too short for `fmt`).
    pub fn parse(b: &[u8], fmt: &TagFormat) -> Option<BlockTag> {
        if b.len() < fmt.tag_bytes {
            return None;
        }
        let mut blocknr = be32(b, 0)? as u64;
        if fmt.is_64bit {
            blocknr |= (be32(b, 8)? as u64) << 32;
        }
        let checksum = if fmt.csum_v3 {
            be32(b, 12)?
        } else if fmt.csum_v2or3 {
            be16(b, 4)? as u32
        } else {
            0
        };
        Some(BlockTag { blocknr, flags: be16(b, 6)?, checksum })
    }

    /// Writes the tag at the start of `b` (which holds at least `fmt.tag_bytes`).
    pub fn emit(&self, b: &mut [u8], fmt: &TagFormat) {
        put32(b, 0, self.blocknr as u32);
        if fmt.csum_v3 {
            put32(b, 4, self.flags as u32);
            put32(b, 12, self.checksum);
        } else {
            put16(b, 4, self.checksum as u16);
            put16(b, 6, self.flags);
        }
        if fmt.is_64bit {
            put32(b, 8, (self.blocknr >> 32) as u32);
        }
    }
}

/// The tags of a descriptor block in the order recovery uses them: from offset 12 while a
/// whole tag fits before the checksum tail, skipping the UUID after a tag without
/// SAME_UUID, stopping after LAST_TAG (`count_tags` and the replay loop of
/// `do_one_pass`). Never more than one tag per 8 bytes, so bounded by the block size.
pub fn descriptor_tags(block: &[u8], fmt: &TagFormat) -> Vec<BlockTag> {
    let mut tags = Vec::new();
    let size = block.len().saturating_sub(fmt.tail_bytes());
    let mut off = JournalHeader::SIZE;
    while off + fmt.tag_bytes <= size {
        let Some(tag) = BlockTag::parse(&block[off..], fmt) else {
            break;
        };
        tags.push(tag);
        off += fmt.tag_bytes;
        if tag.flags & JBD2_FLAG_SAME_UUID == 0 {
            off += UUID_SIZE;
        }
        if tag.flags & JBD2_FLAG_LAST_TAG != 0 {
            break;
        }
    }
    tags
}

/// Writes a descriptor block: header, then each tag (the UUID after the first, SAME_UUID
/// on the others, LAST_TAG on the last — the caller passes flags without those two and
/// this function adds them as `jbd2_journal_commit_transaction` does), then the checksum
/// tail with v2/v3. `tags` must fit (see [`descriptor_capacity`]).
pub fn emit_descriptor(block: &mut [u8], tid: u32, tags: &[BlockTag], uuid: &[u8; 16], fmt: &TagFormat, csum_seed: u32) {
    block.fill(0);
    JournalHeader::new(JBD2_DESCRIPTOR_BLOCK, tid).emit(block);
    let mut off = JournalHeader::SIZE;
    for (i, t) in tags.iter().enumerate() {
        let mut t = *t;
        t.flags &= !(JBD2_FLAG_SAME_UUID | JBD2_FLAG_LAST_TAG);
        if i != 0 {
            t.flags |= JBD2_FLAG_SAME_UUID;
        }
        if i + 1 == tags.len() {
            t.flags |= JBD2_FLAG_LAST_TAG;
        }
        if off + fmt.tag_bytes > block.len() {
            break;
        }
        t.emit(&mut block[off..], fmt);
        off += fmt.tag_bytes;
        if i == 0 {
            if let Some(d) = block.get_mut(off..off + UUID_SIZE) {
                d.copy_from_slice(uuid);
            }
            off += UUID_SIZE;
        }
    }
    set_block_tail_csum(block, fmt, csum_seed);
}

/// How many tags `jbd2_journal_commit_transaction` puts in one descriptor: it closes the
/// descriptor when its buffer array (`j_wbufsize` = block size / 12, counting the
/// descriptor itself) is full or when fewer than `tag_bytes + 16 + tail` bytes remain.
pub fn descriptor_capacity(block_size: usize, fmt: &TagFormat) -> usize {
    let wbufsize = block_size / 12;
    let mut space_left = block_size.saturating_sub(JournalHeader::SIZE) as isize;
    let mut bufs = 1; // the descriptor
    let mut n = 0;
    loop {
        n += 1;
        bufs += 1;
        space_left -= fmt.tag_bytes as isize;
        if n == 1 {
            space_left -= UUID_SIZE as isize;
        }
        if bufs == wbufsize || space_left < (fmt.tag_bytes + UUID_SIZE + fmt.tail_bytes()) as isize {
            return n;
        }
    }
}

/// `jbd2_descr_block_csum_set`: crc32c(seed, block with tail zero) in the last 4 bytes.
pub fn set_block_tail_csum(block: &mut [u8], fmt: &TagFormat, csum_seed: u32) {
    if !fmt.csum_v2or3 || block.len() < BLOCK_TAIL_SIZE {
        return;
    }
    let at = block.len() - BLOCK_TAIL_SIZE;
    put32(block, at, 0);
    let c = crc32c(csum_seed, block);
    put32(block, at, c);
}

/// `jbd2_descr_block_csum_verify` / `jbd2_revoke_block_csum_verify`: true without v2/v3.
pub fn block_tail_csum_ok(block: &[u8], fmt: &TagFormat, csum_seed: u32) -> bool {
    if !fmt.csum_v2or3 {
        return true;
    }
    let Some(at) = block.len().checked_sub(BLOCK_TAIL_SIZE) else {
        return false;
    };
    let provided = be32(block, at).unwrap_or(0);
    let mut copy = block.to_vec();
    put32(&mut copy, at, 0);
    crc32c(csum_seed, &copy) == provided
}

/// `jbd2_block_tag_csum_set`'s value: crc32c(seed, be32 tid, image); v2 keeps the low 16 bits.
pub fn tag_csum(csum_seed: u32, tid: u32, image: &[u8], fmt: &TagFormat) -> u32 {
    let c = crc32c(crc32c(csum_seed, &tid.to_be_bytes()), image);
    if fmt.csum_v3 {
        c
    } else {
        c & 0xFFFF
    }
}

/// `jbd2_block_tag_csum_verify`: true without v2/v3.
pub fn tag_csum_ok(tag: &BlockTag, csum_seed: u32, tid: u32, image: &[u8], fmt: &TagFormat) -> bool {
    !fmt.csum_v2or3 || tag.checksum == tag_csum(csum_seed, tid, image, fmt)
}
