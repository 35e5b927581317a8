//! Revoke blocks (`jbd2_journal_revoke_header_t` + records) and the recovery revoke table.

use super::header::{be32, be64, put32, put64, tid_gt, JournalHeader, JBD2_REVOKE_BLOCK};
use super::tag::{set_block_tail_csum, TagFormat};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Size of the revoke header: journal header + `r_count`.
pub const REVOKE_HEADER_SIZE: usize = 16;

/// Bytes per revoke record: 8 with 64BIT, else 4.
pub fn record_len(fmt: &TagFormat) -> usize {
    if fmt.is_64bit {
        8
    } else {
        4
    }
}

/// The records of a revoke block as `scan_revoke_records` reads them: `r_count` (bytes
/// used, header included) larger than the block minus the checksum tail is `EINVAL`;
/// records are taken while a whole one fits below `r_count`. The caller has already
/// checked the header and (v2/v3) the tail checksum.
pub fn parse_revoke_records(block: &[u8], fmt: &TagFormat) -> Result<Vec<u64>, Errno> {
    let rcount = be32(block, 12).ok_or(Errno::EINVAL)? as usize;
    if rcount > block.len().saturating_sub(fmt.tail_bytes()) {
        return Err(Errno::EINVAL);
    }
    let rl = record_len(fmt);
    let mut off = REVOKE_HEADER_SIZE;
    let mut out = Vec::new();
    while off + rl <= rcount {
        let b = if rl == 4 { be32(block, off).map(u64::from) } else { be64(block, off) };
        out.push(b.ok_or(Errno::EINVAL)?);
        off += rl;
    }
    Ok(out)
}

/// How many records fit in one revoke block (`write_one_revoke_record` opens a new block
/// when `offset + record > block size - tail`).
pub fn revoke_capacity(block_size: usize, fmt: &TagFormat) -> usize {
    block_size.saturating_sub(fmt.tail_bytes() + REVOKE_HEADER_SIZE) / record_len(fmt)
}

/// Writes one revoke block for transaction `tid` holding `records` (which must fit), with
/// `r_count` = bytes used and (v2/v3) the checksum tail (`flush_descriptor`).
pub fn emit_revoke_block(block: &mut [u8], tid: u32, records: &[u64], fmt: &TagFormat, csum_seed: u32) {
    block.fill(0);
    JournalHeader::new(JBD2_REVOKE_BLOCK, tid).emit(block);
    let rl = record_len(fmt);
    let mut off = REVOKE_HEADER_SIZE;
    for &r in records {
        if rl == 4 {
            put32(block, off, r as u32);
        } else {
            put64(block, off, r);
        }
        off += rl;
    }
    put32(block, 12, off as u32);
    set_block_tail_csum(block, fmt, csum_seed);
}

/// The recovery revoke table (`jbd2_journal_set_revoke` / `jbd2_journal_test_revoke`):
/// block → the latest tid that revoked it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevokeTable {
    /// Block number → revoking tid.
    pub map: BTreeMap<u64, u32>,
}

impl RevokeTable {
    /// Records a revoke of `blocknr` by transaction `tid`, keeping the newest tid.
    pub fn set_revoke(&mut self, blocknr: u64, tid: u32) {
        match self.map.get_mut(&blocknr) {
            Some(t) => {
                if tid_gt(tid, *t) {
                    *t = tid;
                }
            }
            None => {
                self.map.insert(blocknr, tid);
            }
        }
    }

    /// Whether a copy of `blocknr` logged by transaction `tid` is revoked: a revoke by a
    /// transaction at or after `tid` exists.
    pub fn test_revoke(&self, blocknr: u64, tid: u32) -> bool {
        match self.map.get(&blocknr) {
            Some(&r) => !tid_gt(tid, r),
            None => false,
        }
    }
}
