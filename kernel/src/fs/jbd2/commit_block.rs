//! The commit block (`struct commit_header`): a transaction is committed exactly when
//! this block is on disk.

use super::csum::crc32c;
use super::header::{be32, be64, put32, put64, JournalHeader, JBD2_COMMIT_BLOCK};

/// `struct commit_header`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitHeader {
    /// Header (blocktype [`JBD2_COMMIT_BLOCK`], sequence = tid).
    pub header: JournalHeader,
    /// `h_chksum_type`: 0, or `JBD2_CRC32_CHKSUM` with `COMPAT_CHECKSUM`.
    pub h_chksum_type: u8,
    /// `h_chksum_size`: 0, or 4 with `COMPAT_CHECKSUM`.
    pub h_chksum_size: u8,
    /// `h_padding[2]`.
    pub h_padding: [u8; 2],
    /// `h_chksum[8]`: word 0 holds the v1 crc32_be or the v2/v3 crc32c.
    pub h_chksum: [u32; 8],
    /// `h_commit_sec`: commit time, seconds.
    pub h_commit_sec: u64,
    /// `h_commit_nsec`: commit time, nanoseconds.
    pub h_commit_nsec: u32,
}

impl CommitHeader {
    /// Bytes used by the structure.
    pub const SIZE: usize = 0x3C;

    /// A plain commit block for `tid` at time `sec`.`nsec`.
    pub fn new(tid: u32, sec: u64, nsec: u32) -> CommitHeader {
        CommitHeader {
            header: JournalHeader::new(JBD2_COMMIT_BLOCK, tid),
            h_chksum_type: 0,
            h_chksum_size: 0,
            h_padding: [0; 2],
            h_chksum: [0; 8],
            h_commit_sec: sec,
            h_commit_nsec: nsec,
        }
    }

    /// Parses the start of `b`. Old jbd wrote only the header: the remaining fields read
    /// as whatever the block holds (zero in practice), never required.
    pub fn parse(b: &[u8]) -> Option<CommitHeader> {
        let mut h_chksum = [0u32; 8];
        for (i, c) in h_chksum.iter_mut().enumerate() {
            *c = be32(b, 0x10 + 4 * i)?;
        }
        Some(CommitHeader {
            header: JournalHeader::parse(b)?,
            h_chksum_type: *b.get(0x0C)?,
            h_chksum_size: *b.get(0x0D)?,
            h_padding: [*b.get(0x0E)?, *b.get(0x0F)?],
            h_chksum,
            h_commit_sec: be64(b, 0x30)?,
            h_commit_nsec: be32(b, 0x38)?,
        })
    }

    /// Writes the structure at the start of `b`.
    pub fn emit(&self, b: &mut [u8]) {
        if b.len() < Self::SIZE {
            return;
        }
        self.header.emit(b);
        b[0x0C] = self.h_chksum_type;
        b[0x0D] = self.h_chksum_size;
        b[0x0E..0x10].copy_from_slice(&self.h_padding);
        for (i, c) in self.h_chksum.iter().enumerate() {
            put32(b, 0x10 + 4 * i, *c);
        }
        put64(b, 0x30, self.h_commit_sec);
        put32(b, 0x38, self.h_commit_nsec);
    }
}

/// `jbd2_commit_block_csum_verify`'s computation: crc32c(seed, block with h_chksum[0] zero).
pub fn commit_block_csum(block: &[u8], csum_seed: u32) -> u32 {
    let mut copy = block.to_vec();
    put32(&mut copy, 0x10, 0);
    crc32c(csum_seed, &copy)
}
