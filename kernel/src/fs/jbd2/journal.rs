//! The journal as a writer (`journal_t` after `journal_reset`): laying out commits
//! (`jbd2_journal_commit_transaction`), log space (`jbd2_log_space_left`), the
//! checkpoint list and tail (`jbd2_cleanup_journal_tail`), clean unmount
//! (`jbd2_mark_journal_empty`) and abort (`jbd2_journal_abort`).
//!
//! Nothing here does I/O: every state change returns the blocks to write, and the
//! caller performs the writes in the documented order (see [`CommitPlan`]).

use super::commit_block::{commit_block_csum, CommitHeader};
use super::csum::crc32_be;
use super::header::{put32, tid_gt, JBD2_MAGIC_NUMBER};
use super::load::JournalSb;
use super::revoke::{emit_revoke_block, revoke_capacity};
use super::superblock::{JBD2_CRC32_CHKSUM, JBD2_CRC32_CHKSUM_SIZE, JBD2_FEATURE_COMPAT_CHECKSUM, JBD2_FEATURE_INCOMPAT_REVOKE};
use super::tag::{descriptor_capacity, emit_descriptor, tag_csum, BlockTag, TagFormat, JBD2_FLAG_ESCAPE};
use super::JbdError;
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// `JBD2_CONTROL_BLOCKS_SHIFT`: control blocks reserved per transaction credit (1/32).
pub const JBD2_CONTROL_BLOCKS_SHIFT: u32 = 5;

/// A committed transaction whose metadata is not all home yet (`t_checkpoint_list`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointTxn {
    /// Its tid.
    pub tid: u32,
    /// `t_log_start`: the journal block its first log block went to.
    pub log_start: u32,
    /// Filesystem blocks it logged that no later committed transaction logged again
    /// (those moved to the later transaction, as commit phase 6 does).
    pub blocks: BTreeSet<u64>,
}

/// Everything one commit writes, in order. The I/O order that keeps rules W1/W5/W6:
/// 1. `sb_before` (if any): the journal superblock, written and waited for (WRITE_SYNC)
///    — a journal that was empty gets its tail recorded before it is reused.
/// 2. ordered mode: the data blocks the transaction makes reachable (caller's list).
/// 3. `log_writes` (revoke blocks, then per descriptor: the descriptor and its images),
///    in any order; wait for all of them and for step 2.
/// 4. `commit_block`: written with a cache flush before it and FUA (the transaction is
///    committed when this write completes). With ASYNC_COMMIT Linux writes it with the
///    log blocks and flushes afterwards; k43 journals never set that feature.
/// 5. `sb_after` (if any): the tail moved by at least a quarter of the journal
///    (checkpointed transactions dropped), written with FUA.
///
/// If any write fails, call [`Journal::abort`] with `-EIO` and write what it returns.
/// Only after step 4 may the transaction's metadata be written home (rule W3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitPlan {
    /// The transaction id.
    pub tid: u32,
    /// `t_log_start`: journal block of the first log block.
    pub log_start: u32,
    /// Journal superblock block to write before anything else (`JBD2_FLUSHED`).
    pub sb_before: Option<(u64, Vec<u8>)>,
    /// (filesystem block, contents) of every log block except the commit block.
    pub log_writes: Vec<(u64, Vec<u8>)>,
    /// (filesystem block, contents) of the commit block.
    pub commit_block: (u64, Vec<u8>),
    /// Journal superblock block to write (FUA) after the commit block.
    pub sb_after: Option<(u64, Vec<u8>)>,
    /// Journal blocks used (revoke + descriptors + images + commit).
    pub nblocks: u32,
    /// How many images were escaped (they began with the journal magic).
    pub escaped: u32,
}

/// The journal state of a mounted filesystem (the fields of `journal_t` jbd2 keeps
/// between transactions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Journal {
    /// The in-memory superblock (`j_superblock`) with geometry.
    pub jsb: JournalSb,
    /// Journal block → filesystem block.
    pub map: Vec<u64>,
    /// `j_head`: where the next log block goes.
    pub head: u32,
    /// `j_tail`: first block of the oldest live transaction.
    pub tail: u32,
    /// `j_free`: free log blocks.
    pub free: u32,
    /// `j_tail_sequence`: tid of the oldest live transaction.
    pub tail_sequence: u32,
    /// `j_transaction_sequence`: the tid the next transaction gets.
    pub transaction_sequence: u32,
    /// `j_commit_sequence`: the last committed tid.
    pub commit_sequence: u32,
    /// `j_max_transaction_buffers` = maxlen / 4.
    pub max_transaction_buffers: u32,
    /// `JBD2_FLUSHED`: the on-disk superblock says "empty" (s_start = 0).
    pub flushed: bool,
    /// `JBD2_ABORT`.
    pub aborted: bool,
    /// `j_errno`: the error recorded (from `s_errno` at load, or by an abort).
    pub errno: i32,
    /// `j_checkpoint_transactions`, oldest first.
    pub checkpoint: VecDeque<CheckpointTxn>,
}

impl Journal {
    /// `journal_reset` after recovery: an empty log from `s_first`, next tid `next_tid`.
    /// Returns the superblock block to write with FUA when the on-disk superblock still
    /// describes a log (`s_start != 0`): `s_sequence = next_tid`, `s_start = s_first`.
    pub fn reset(jsb: JournalSb, map: Vec<u64>, next_tid: u32) -> (Journal, Option<Vec<u8>>) {
        let (first, last) = (jsb.first, jsb.last);
        let mut j = Journal {
            errno: jsb.sb.s_errno,
            max_transaction_buffers: jsb.maxlen / 4,
            jsb,
            map,
            head: first,
            tail: first,
            free: last.saturating_sub(first),
            tail_sequence: next_tid,
            transaction_sequence: next_tid,
            commit_sequence: next_tid.wrapping_sub(1),
            flushed: false,
            aborted: false,
            checkpoint: VecDeque::new(),
        };
        if j.jsb.sb.s_start == 0 {
            j.flushed = true;
            (j, None)
        } else {
            let b = j.update_sb_log_tail(j.tail_sequence, j.tail);
            (j, Some(b))
        }
    }

    /// The filesystem block holding journal block 0 (where superblock writes go).
    pub fn sb_block(&self) -> u64 {
        self.map.first().copied().unwrap_or(0)
    }

    /// `jbd2_journal_update_sb_log_tail`: records (`tail_tid`, `tail_block`) in the
    /// in-memory superblock and returns the block to write.
    pub fn update_sb_log_tail(&mut self, tail_tid: u32, tail_block: u32) -> Vec<u8> {
        self.jsb.sb.s_sequence = tail_tid;
        self.jsb.sb.s_start = tail_block;
        self.flushed = false;
        self.sb_bytes()
    }

    /// The current superblock as journal block 0 (checksum refreshed).
    pub fn sb_bytes(&mut self) -> Vec<u8> {
        self.jsb.sb.set_checksum();
        let b = self.jsb.sb.to_block(&self.jsb.block0);
        self.jsb.block0 = b.clone();
        b
    }

    /// `jbd2_log_space_left`: free blocks minus 32 for rounding (no committing
    /// transaction is ever outstanding here: commits complete synchronously).
    pub fn log_space_left(&self) -> u32 {
        self.free.saturating_sub(32)
    }

    /// `jbd2_space_needed`: what must be free before a transaction may start.
    pub fn space_needed(&self) -> u32 {
        let n = self.max_transaction_buffers;
        n + (n >> JBD2_CONTROL_BLOCKS_SHIFT)
    }

    /// `start_this_handle`'s test: a new transaction may only start when a full-size
    /// transaction would fit; otherwise checkpoint first (`__jbd2_log_wait_for_space`).
    pub fn must_checkpoint_before_start(&self) -> bool {
        self.log_space_left() < self.space_needed()
    }

    /// Journal blocks a transaction with `nmeta` blocks and `nrevoke` revokes takes.
    pub fn blocks_for(&self, nmeta: usize, nrevoke: usize) -> u64 {
        let fmt = TagFormat::of(&self.jsb.sb);
        let bs = self.jsb.blocksize;
        let rcap = revoke_capacity(bs, &fmt).max(1);
        let dcap = descriptor_capacity(bs, &fmt).max(1);
        (nrevoke.div_ceil(rcap) + nmeta.div_ceil(dcap) + nmeta + 1) as u64
    }

    /// `jbd2_journal_bmap`.
    fn bmap(&self, jblk: u32) -> Result<u64, JbdError> {
        match self.map.get(jblk as usize) {
            Some(&b) if b != 0 => Ok(b),
            _ => Err(JbdError::Fail {
                errno: Errno::EIO,
                msg: alloc::format!("jbd2_journal_bmap: journal block not found at offset {}", jblk),
            }),
        }
    }

    /// `jbd2_journal_get_log_tail`: the oldest live transaction and its first block, or
    /// (next tid, head) when the log is empty; `true` if that moves the tail.
    pub fn get_log_tail(&self) -> (u32, u32, bool) {
        let (tid, block) = match self.checkpoint.front() {
            Some(t) => (t.tid, t.log_start),
            None => (self.transaction_sequence, self.head),
        };
        (tid, block, tid_gt(tid, self.tail_sequence))
    }

    /// `__jbd2_update_log_tail`: frees the log up to `block` and returns the superblock.
    fn update_log_tail(&mut self, tid: u32, block: u32) -> Vec<u8> {
        let b = self.update_sb_log_tail(tid, block);
        let mut freed = block.wrapping_sub(self.tail);
        if block < self.tail {
            freed = freed.wrapping_add(self.jsb.last - self.jsb.first);
        }
        self.free = self.free.wrapping_add(freed);
        self.tail_sequence = tid;
        self.tail = block;
        b
    }

    /// Commits one transaction (`jbd2_journal_commit_transaction`): `meta` is every
    /// metadata block it dirtied (filesystem block → full image), `revoked` the blocks it
    /// revoked, `now` the commit time (seconds, nanoseconds). The tid is
    /// `transaction_sequence`. On success the journal state already reflects the commit
    /// (head, free space, checkpoint list): the caller must perform the plan's writes
    /// in order, or abort the journal.
    ///
    /// Errors: [`JbdError::TooBig`] when the transaction exceeds a quarter of the journal
    /// (split it); [`JbdError::NoSpace`] when the log lacks room (checkpoint, then
    /// retry); EROFS on an aborted journal; EIO when a journal block is not mapped;
    /// EINVAL when revoking on a v1 journal (no feature words to set REVOKE in).
    pub fn commit(&mut self, meta: &BTreeMap<u64, Vec<u8>>, revoked: &[u64], now: (u64, u32)) -> Result<CommitPlan, JbdError> {
        if self.aborted {
            return Err(JbdError::Fail { errno: Errno::EROFS, msg: String::from("JBD2: journal aborted") });
        }
        let bs = self.jsb.blocksize;
        let tid = self.transaction_sequence;
        // Revoke records need the REVOKE feature (jbd2_journal_revoke sets it first).
        let mut sb = self.jsb.sb.clone();
        if !revoked.is_empty() && sb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_REVOKE == 0 {
            if sb.format_version() != 2 {
                return Err(JbdError::Fail { errno: Errno::EINVAL, msg: String::from("Cannot set revoke feature!") });
            }
            sb.s_feature_incompat |= JBD2_FEATURE_INCOMPAT_REVOKE;
        }
        let fmt = TagFormat::of(&sb);
        let nblocks = self.blocks_for(meta.len(), revoked.len());
        if nblocks > self.max_transaction_buffers as u64 {
            return Err(JbdError::TooBig { needed: nblocks.min(u32::MAX as u64) as u32, max: self.max_transaction_buffers });
        }
        // jbd2_journal_next_log_block asserts j_free > 1 before each allocation.
        if nblocks + 1 > self.free as u64 {
            return Err(JbdError::NoSpace { needed: nblocks as u32 + 1, left: self.free });
        }
        // Work on a copy so that a failure leaves the journal untouched.
        let mut j = self.clone();
        j.jsb.sb = sb;
        let mut plan = CommitPlan { tid, log_start: j.head, nblocks: nblocks as u32, ..CommitPlan::default() };
        if j.flushed {
            let b = j.update_sb_log_tail(j.tail_sequence, j.tail);
            plan.sb_before = Some((j.sb_block(), b));
        }
        let next = |j: &mut Journal| -> Result<u64, JbdError> {
            let blk = j.head;
            j.head += 1;
            j.free -= 1;
            if j.head == j.jsb.last {
                j.head = j.jsb.first;
            }
            j.bmap(blk)
        };
        let seed = j.jsb.csum_seed;
        let uuid = j.jsb.sb.s_uuid;
        // Revoke blocks first (jbd2_journal_write_revoke_records).
        for chunk in revoked.chunks(revoke_capacity(bs, &fmt).max(1)) {
            let at = next(&mut j)?;
            let mut b = vec![0u8; bs];
            emit_revoke_block(&mut b, tid, chunk, &fmt, seed);
            plan.log_writes.push((at, b));
        }
        // Descriptor groups.
        let mut crc32_sum: u32 = !0;
        let compat_checksum = j.jsb.sb.has_compat(JBD2_FEATURE_COMPAT_CHECKSUM);
        let entries: Vec<(&u64, &Vec<u8>)> = meta.iter().collect();
        for group in entries.chunks(descriptor_capacity(bs, &fmt).max(1)) {
            let dat = next(&mut j)?;
            let di = plan.log_writes.len();
            plan.log_writes.push((dat, Vec::new()));
            let mut tags = Vec::new();
            for (&home, img) in group {
                let at = next(&mut j)?;
                let mut logged = vec![0u8; bs];
                let n = img.len().min(bs);
                logged[..n].copy_from_slice(&img[..n]);
                let mut flags = 0;
                // Escaping: a block beginning with the magic would be taken for a
                // journal block by recovery.
                if logged[..4] == JBD2_MAGIC_NUMBER.to_be_bytes() {
                    put32(&mut logged, 0, 0);
                    flags |= JBD2_FLAG_ESCAPE;
                    plan.escaped += 1;
                }
                let checksum = if fmt.csum_v2or3 { tag_csum(seed, tid, &logged, &fmt) } else { 0 };
                tags.push(BlockTag { blocknr: home, flags, checksum });
                plan.log_writes.push((at, logged));
            }
            let mut d = vec![0u8; bs];
            emit_descriptor(&mut d, tid, &tags, &uuid, &fmt, seed);
            if compat_checksum {
                crc32_sum = crc32_be(crc32_sum, &d);
                for (_, l) in &plan.log_writes[di + 1..] {
                    crc32_sum = crc32_be(crc32_sum, l);
                }
            }
            plan.log_writes[di].1 = d;
        }
        // get_log_tail before the commit record; update only if it frees a quarter.
        let (first_tid, first_block, update_tail) = j.get_log_tail();
        let mut update_tail = update_tail;
        if update_tail {
            let mut freed = first_block as i64 - j.tail as i64;
            if first_block < j.tail {
                freed += (j.jsb.last - j.jsb.first) as i64;
            }
            if freed < (j.jsb.maxlen / 4) as i64 {
                update_tail = false;
            }
        }
        // The commit block.
        let cat = next(&mut j)?;
        let mut c = vec![0u8; bs];
        let mut ch = CommitHeader::new(tid, now.0, now.1);
        if compat_checksum {
            ch.h_chksum_type = JBD2_CRC32_CHKSUM;
            ch.h_chksum_size = JBD2_CRC32_CHKSUM_SIZE;
            ch.h_chksum[0] = crc32_sum;
        }
        ch.emit(&mut c);
        if fmt.csum_v2or3 {
            let v = commit_block_csum(&c, seed);
            put32(&mut c, 0x10, v);
        }
        plan.commit_block = (cat, c);
        if update_tail {
            let b = j.update_log_tail(first_tid, first_block);
            plan.sb_after = Some((j.sb_block(), b));
        }
        // Commit phase 6: re-logged blocks leave older checkpoint transactions, which
        // are dropped once empty; this transaction joins the list if it logged anything.
        for t in j.checkpoint.iter_mut() {
            for home in meta.keys() {
                t.blocks.remove(home);
            }
        }
        j.checkpoint.retain(|t| !t.blocks.is_empty());
        if !meta.is_empty() {
            j.checkpoint.push_back(CheckpointTxn { tid, log_start: plan.log_start, blocks: meta.keys().copied().collect() });
        }
        j.commit_sequence = tid;
        j.transaction_sequence = tid.wrapping_add(1);
        *self = j;
        Ok(plan)
    }

    /// The caller wrote every block of checkpoint transaction `tid` home (the newest
    /// cached version of each, never a block also dirtied by an uncommitted transaction)
    /// and flushed the device. Drops it and, if the tail moves, returns the journal
    /// superblock (block, contents) to write with FUA (`jbd2_cleanup_journal_tail`).
    pub fn checkpoint_complete(&mut self, tid: u32) -> Option<(u64, Vec<u8>)> {
        self.checkpoint.retain(|t| t.tid != tid);
        self.cleanup_journal_tail()
    }

    /// `jbd2_cleanup_journal_tail`: moves the tail to the oldest live transaction (the
    /// caller flushes the device before writing the returned superblock).
    pub fn cleanup_journal_tail(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.aborted {
            return None;
        }
        let (tid, block, moves) = self.get_log_tail();
        if !moves {
            return None;
        }
        let b = self.update_log_tail(tid, block);
        Some((self.sb_block(), b))
    }

    /// Clean unmount (`jbd2_journal_destroy` → `jbd2_mark_journal_empty`), once every
    /// transaction is committed and checkpointed: the superblock with `s_start = 0` and
    /// `s_sequence` = next tid, to write with FUA (`None` if it already says empty).
    /// Errors: EIO on an aborted journal (Linux writes nothing then), EBUSY while
    /// checkpoint transactions remain.
    pub fn destroy(&mut self) -> Result<Option<(u64, Vec<u8>)>, JbdError> {
        if self.aborted {
            return Err(JbdError::Fail { errno: Errno::EIO, msg: String::new() });
        }
        if !self.checkpoint.is_empty() {
            return Err(JbdError::Fail { errno: Errno::EBUSY, msg: String::from("checkpoint transactions remain") });
        }
        let _ = self.cleanup_journal_tail();
        if self.jsb.sb.s_start == 0 {
            return Ok(None);
        }
        self.jsb.sb.s_sequence = self.tail_sequence;
        self.jsb.sb.s_start = 0;
        self.flushed = true;
        let b = self.sb_bytes();
        Ok(Some((self.sb_block(), b)))
    }

    /// `jbd2_journal_abort(journal, errno)`: no further commits; the first non-zero
    /// errno is recorded in `s_errno` and the superblock to write (FUA) is returned.
    pub fn abort(&mut self, errno: i32) -> Option<(u64, Vec<u8>)> {
        if self.aborted {
            return None;
        }
        if self.errno == 0 {
            self.errno = errno;
        }
        self.aborted = true;
        if errno == 0 {
            return None;
        }
        self.jsb.sb.s_errno = self.errno;
        let b = self.sb_bytes();
        Some((self.sb_block(), b))
    }

    /// `jbd2_journal_errno`: -EROFS once aborted, else the recorded error.
    pub fn journal_errno(&self) -> i32 {
        if self.aborted {
            -Errno::EROFS.0
        } else {
            self.errno
        }
    }

    /// `jbd2_journal_clear_err` + `jbd2_journal_update_sb_errno` (what
    /// `ext4_clear_journal_err` does after reporting): `s_errno = 0`, the superblock to
    /// write with FUA. EROFS on an aborted journal.
    pub fn clear_err(&mut self) -> Result<(u64, Vec<u8>), JbdError> {
        if self.aborted {
            return Err(JbdError::Fail { errno: Errno::EROFS, msg: String::new() });
        }
        self.errno = 0;
        self.jsb.sb.s_errno = 0;
        let b = self.sb_bytes();
        Ok((self.sb_block(), b))
    }
}
