//! Log recovery (`fs/jbd2/recovery.c`): three passes over the log — SCAN finds the end,
//! REVOKE builds the revoke table, REPLAY collects the block images to write home.
//!
//! Pure over the blocks it reads: every read goes through [`BlockIo::read`], and a
//! [`FsError::Need`] aborts the whole recovery with [`JbdError::Need`] so the caller can
//! read the block and start again (it should read the whole journal in first: recovery
//! reads every log block up to three times).

use super::commit_block::{commit_block_csum, CommitHeader};
use super::csum::crc32_be;
use super::header::{tid_geq, JournalHeader, JBD2_COMMIT_BLOCK, JBD2_DESCRIPTOR_BLOCK, JBD2_MAGIC_NUMBER, JBD2_REVOKE_BLOCK};
use super::load::JournalSb;
use super::revoke::{parse_revoke_records, RevokeTable};
use super::superblock::{JBD2_CRC32_CHKSUM, JBD2_CRC32_CHKSUM_SIZE, JBD2_FEATURE_COMPAT_CHECKSUM, JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT};
use super::tag::{block_tail_csum_ok, descriptor_tags, tag_csum_ok, TagFormat, JBD2_FLAG_ESCAPE};
use super::JbdError;
use crate::fs::buffer::{BlockIo, FsError};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// `struct recovery_info`: what the passes tell each other, and the statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecoveryInfo {
    /// First tid of the log (`s_sequence`).
    pub start_transaction: u32,
    /// First tid without a (valid) commit block: the log ends before it. 0 = not yet known
    /// (Linux uses 0 as "unset", so a log ending exactly at tid 0 is scanned like that too).
    pub end_transaction: u32,
    /// Block images replayed (every copy counts, also those a later copy overwrites).
    pub nr_replays: u32,
    /// Revoke records read.
    pub nr_revokes: u32,
    /// Block copies skipped because they were revoked.
    pub nr_revoke_hits: u32,
}

/// The result of [`jbd2_journal_recover`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Statistics and the transaction range.
    pub info: RecoveryInfo,
    /// Filesystem block → image to write home (the newest committed, unrevoked copy; the
    /// escape already undone). Linux writes these through the buffer cache, then
    /// `sync_blockdev` + a cache flush: the caller writes them all, then flushes.
    pub replay: BTreeMap<u64, Vec<u8>>,
    /// `j_transaction_sequence` afterwards: the tid the next transaction gets
    /// (`end_transaction + 1`, or `s_sequence + 1` for a clean journal).
    pub next_tid: u32,
    /// `j_failed_commit`: a transaction whose commit checksum was wrong (0 = none);
    /// `jbd2_journal_load` then fails with EIO.
    pub failed_commit: u32,
    /// Lines Linux prints (`printk(KERN_ERR ...)`) during recovery.
    pub messages: Vec<String>,
    /// The error `jbd2_journal_recover` returns (recovery then "failed", though the
    /// blocks in `replay` are still written home by Linux's `sync_blockdev`).
    pub err: Option<Errno>,
}

/// Which pass `do_one_pass` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassType {
    /// Find the end of the log.
    Scan = 0,
    /// Collect revoke records.
    Revoke = 1,
    /// Copy unrevoked images.
    Replay = 2,
}

/// Why a read or a pass stopped.
enum Stop {
    /// The caller must read this filesystem block first.
    Need(u64),
    /// `goto failed`: the pass returns this errno.
    Err(Errno),
}

/// Shared read-only context of the passes.
struct Ctx<'a> {
    jsb: &'a JournalSb,
    fmt: TagFormat,
    map: &'a [u64],
    /// Log blocks advanced over in this pass (our loop guard; see `do_one_pass`).
    advanced: u64,
}

impl Ctx<'_> {
    /// `wrap()`: a block index that reaches `j_last` goes back by the log length, once.
    fn wrap(&self, b: u64) -> u64 {
        let (first, last) = (self.jsb.first as u64, self.jsb.last as u64);
        if b >= last {
            b - (last - first)
        } else {
            b
        }
    }

    /// `jread`: journal block `offset` through the block map.
    fn jread(&self, io: &mut dyn BlockIo, offset: u64, msgs: &mut Vec<String>) -> Result<Vec<u8>, Stop> {
        if offset >= self.jsb.maxlen as u64 {
            msgs.push(String::from("JBD2: corrupted journal superblock"));
            return Err(Stop::Err(Errno::EIO));
        }
        let blk = match self.map.get(offset as usize) {
            Some(&b) if b != 0 => b,
            _ => {
                msgs.push(format!("JBD2: bad block at offset {}", offset));
                return Err(Stop::Err(Errno::EIO));
            }
        };
        match io.read(blk) {
            Ok(mut d) => {
                // The journal block size is the filesystem's; be defensive anyway.
                d.resize(self.jsb.blocksize, 0);
                Ok(d)
            }
            Err(FsError::Need(b)) => Err(Stop::Need(b)),
            Err(_) => {
                msgs.push(format!("JBD2: Failed to read block at offset {}", offset));
                Err(Stop::Err(Errno::EIO))
            }
        }
    }
}

/// `jbd2_journal_recover`: replays the log described by `jsb` (already validated by
/// [`super::load::journal_get_superblock`]). `map[n]` is the filesystem block of journal
/// block `n` (0 = hole, read as "bad block"). Never panics and always terminates.
pub fn jbd2_journal_recover(jsb: &JournalSb, map: &[u64], io: &mut dyn BlockIo) -> Result<Recovery, JbdError> {
    let mut rec = Recovery::default();
    if jsb.sb.s_start == 0 {
        // Clean journal: nothing to replay, the next tid follows the recorded one.
        rec.next_tid = jsb.sb.s_sequence.wrapping_add(1);
        return Ok(rec);
    }
    let mut ctx = Ctx { jsb, fmt: TagFormat::of(&jsb.sb), map, advanced: 0 };
    let mut revoke = RevokeTable::default();
    let mut err = None;
    for pass in [PassType::Scan, PassType::Revoke, PassType::Replay] {
        ctx.advanced = 0;
        match do_one_pass(&mut ctx, io, &mut rec, &mut revoke, pass) {
            Ok(()) => {}
            Err(Stop::Need(b)) => return Err(JbdError::Need(b)),
            Err(Stop::Err(e)) => {
                err = Some(e);
                break;
            }
        }
    }
    // Restart the log at the tid after the end: blocks of the torn transaction may sit
    // in the log and must never match an expected sequence again.
    rec.info.end_transaction = rec.info.end_transaction.wrapping_add(1);
    rec.next_tid = rec.info.end_transaction;
    rec.err = err;
    Ok(rec)
}

/// `jbd2_journal_skip_recovery`'s scan: the next tid when the log is discarded instead of
/// replayed (`Err` = the scan's error; Linux then just increments the tid).
pub fn skip_recovery_scan(jsb: &JournalSb, map: &[u64], io: &mut dyn BlockIo) -> Result<Result<u32, (Errno, Vec<String>)>, JbdError> {
    let mut ctx = Ctx { jsb, fmt: TagFormat::of(&jsb.sb), map, advanced: 0 };
    let mut rec = Recovery::default();
    let mut revoke = RevokeTable::default();
    match do_one_pass(&mut ctx, io, &mut rec, &mut revoke, PassType::Scan) {
        Ok(()) => Ok(Ok(rec.info.end_transaction.wrapping_add(1))),
        Err(Stop::Need(b)) => Err(JbdError::Need(b)),
        Err(Stop::Err(e)) => {
            let mut m = rec.messages;
            m.push(format!("JBD2: error {} scanning journal", -e.0));
            Ok(Err((e, m)))
        }
    }
}

/// `do_one_pass`. Linux would loop forever on a log whose blocks keep matching the
/// expected tid around the circle without a commit block (a corrupted image); k43 stops
/// with EIO once a pass has advanced over more than two laps plus one descriptor's worth
/// of blocks, which no valid log needs (the log is at most one lap long).
fn do_one_pass(ctx: &mut Ctx, io: &mut dyn BlockIo, rec: &mut Recovery, revoke: &mut RevokeTable, pass: PassType) -> Result<(), Stop> {
    let sb = &ctx.jsb.sb;
    let mut next_commit_id = sb.s_sequence;
    let mut next_log_block = sb.s_start as u64;
    let mut crc32_sum: u32 = !0;
    let mut success: Option<Errno> = None;
    let mut block_error = false;
    let seed = ctx.jsb.csum_seed;
    let compat_checksum = sb.has_compat(JBD2_FEATURE_COMPAT_CHECKSUM);
    let async_commit = sb.has_incompat(JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT);
    let log_len = (ctx.jsb.last as u64).saturating_sub(ctx.jsb.first as u64);
    let limit = log_len.saturating_mul(2).saturating_add(ctx.jsb.blocksize as u64 + 2);
    if pass == PassType::Scan {
        rec.info.start_transaction = next_commit_id;
    }
    loop {
        if pass != PassType::Scan && tid_geq(next_commit_id, rec.info.end_transaction) {
            break;
        }
        if ctx.advanced > limit {
            rec.messages.push(String::from("JBD2: journal log does not end (corrupted journal)"));
            return Err(Stop::Err(Errno::EIO));
        }
        let bh = ctx.jread(io, next_log_block, &mut rec.messages)?;
        next_log_block = ctx.wrap(next_log_block + 1);
        ctx.advanced += 1;

        let Some(hdr) = JournalHeader::parse(&bh) else {
            break;
        };
        if hdr.h_magic != JBD2_MAGIC_NUMBER || hdr.h_sequence != next_commit_id {
            break;
        }
        match hdr.h_blocktype {
            JBD2_DESCRIPTOR_BLOCK => {
                if !block_tail_csum_ok(&bh, &ctx.fmt, seed) {
                    rec.messages.push(format!("JBD2: Invalid checksum recovering block {} in log", next_log_block));
                    return Err(Stop::Err(Errno::EIO));
                }
                let tags = descriptor_tags(&bh, &ctx.fmt);
                if pass != PassType::Replay {
                    if pass == PassType::Scan && compat_checksum && rec.info.end_transaction == 0 {
                        // calc_chksums: crc32_be over the descriptor and its images.
                        crc32_sum = crc32_be(crc32_sum, &bh);
                        let mut failed = false;
                        for _ in 0..tags.len() {
                            let io_block = next_log_block;
                            next_log_block = ctx.wrap(next_log_block + 1);
                            ctx.advanced += 1;
                            match ctx.jread(io, io_block, &mut rec.messages) {
                                Ok(obh) => crc32_sum = crc32_be(crc32_sum, &obh),
                                Err(Stop::Need(b)) => return Err(Stop::Need(b)),
                                Err(Stop::Err(e)) => {
                                    rec.messages.push(format!("JBD2: IO error {} recovering block {} in log", -e.0, io_block));
                                    failed = true;
                                    break;
                                }
                            }
                        }
                        if failed {
                            break;
                        }
                        continue;
                    }
                    next_log_block = ctx.wrap(next_log_block + tags.len() as u64);
                    ctx.advanced += tags.len() as u64;
                    continue;
                }
                for tag in tags {
                    let io_block = next_log_block;
                    next_log_block = ctx.wrap(next_log_block + 1);
                    ctx.advanced += 1;
                    let obh = match ctx.jread(io, io_block, &mut rec.messages) {
                        Ok(b) => b,
                        Err(Stop::Need(b)) => return Err(Stop::Need(b)),
                        Err(Stop::Err(e)) => {
                            // Recover what we can, report the failure at the end.
                            success = Some(e);
                            rec.messages.push(format!("JBD2: IO error {} recovering block {} in log", -e.0, io_block));
                            continue;
                        }
                    };
                    if revoke.test_revoke(tag.blocknr, next_commit_id) {
                        rec.info.nr_revoke_hits += 1;
                        continue;
                    }
                    if !tag_csum_ok(&tag, seed, hdr.h_sequence, &obh, &ctx.fmt) {
                        success = Some(Errno::EIO);
                        rec.messages.push(format!("JBD2: Invalid checksum recovering block {} in log", tag.blocknr));
                        block_error = true;
                        continue;
                    }
                    let mut img = obh;
                    if tag.flags & JBD2_FLAG_ESCAPE != 0 {
                        if let Some(h) = img.get_mut(..4) {
                            h.copy_from_slice(&JBD2_MAGIC_NUMBER.to_be_bytes());
                        }
                    }
                    rec.replay.insert(tag.blocknr, img);
                    rec.info.nr_replays += 1;
                }
                continue;
            }
            JBD2_COMMIT_BLOCK => {
                let cbh = CommitHeader::parse(&bh);
                if pass == PassType::Scan && compat_checksum {
                    let found = cbh.map(|c| c.h_chksum[0]).unwrap_or(0);
                    let (ty, sz) = cbh.map(|c| (c.h_chksum_type, c.h_chksum_size)).unwrap_or((0, 0));
                    if rec.info.end_transaction != 0 {
                        rec.failed_commit = rec.info.end_transaction;
                        break;
                    }
                    let seen = crc32_sum == found && ty == JBD2_CRC32_CHKSUM && sz == JBD2_CRC32_CHKSUM_SIZE;
                    // An old kernel's commit block carries no checksum at all: accepted.
                    let chksum_err = !(seen || (ty == 0 && sz == 0 && found == 0));
                    if chksum_err {
                        rec.info.end_transaction = next_commit_id;
                        if !async_commit {
                            rec.failed_commit = next_commit_id;
                            break;
                        }
                    }
                    crc32_sum = !0;
                }
                if pass == PassType::Scan && ctx.fmt.csum_v2or3 {
                    let provided = cbh.map(|c| c.h_chksum[0]).unwrap_or(0);
                    if commit_block_csum(&bh, seed) != provided {
                        rec.info.end_transaction = next_commit_id;
                        if !async_commit {
                            rec.failed_commit = next_commit_id;
                            break;
                        }
                    }
                }
                next_commit_id = next_commit_id.wrapping_add(1);
                continue;
            }
            JBD2_REVOKE_BLOCK => {
                if pass != PassType::Revoke {
                    continue;
                }
                // scan_revoke_records: a bad checksum or r_count is EINVAL.
                if !block_tail_csum_ok(&bh, &ctx.fmt, seed) {
                    return Err(Stop::Err(Errno::EINVAL));
                }
                let recs = parse_revoke_records(&bh, &ctx.fmt).map_err(Stop::Err)?;
                for b in recs {
                    revoke.set_revoke(b, next_commit_id);
                    rec.info.nr_revokes += 1;
                }
                continue;
            }
            _ => break,
        }
    }
    if pass == PassType::Scan {
        if rec.info.end_transaction == 0 {
            rec.info.end_transaction = next_commit_id;
        }
    } else if rec.info.end_transaction != next_commit_id {
        // Passes disagreeing is only possible after I/O errors.
        rec.messages.push(format!(
            "JBD2: recovery pass {} ended at transaction {}, expected {}",
            pass as u32, next_commit_id, rec.info.end_transaction
        ));
        if success.is_none() {
            success = Some(Errno::EIO);
        }
    }
    if block_error && success.is_none() {
        success = Some(Errno::EIO);
    }
    match success {
        Some(e) => Err(Stop::Err(e)),
        None => Ok(()),
    }
}
