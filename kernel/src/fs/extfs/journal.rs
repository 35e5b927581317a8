//! The journal's thread (`kjournald2`) as events: starting a commit, running the I/O
//! plans of commits and checkpoints, finishing them, and aborting the journal when a
//! write fails.
//!
//! Checkpointing is eager: a committed transaction's blocks go home as soon as it
//! commits (Linux waits until the log runs short). Both orders keep rule W3 — only
//! committed images go home — and eager checkpoints keep the log short, so a commit
//! never waits for space.

use super::{ExtMount, MntId, PlanKind, Txn, COMMIT_INTERVAL_NS};
use crate::block::genhd::ReqOwner;
use crate::fs::ioplan::{Plan, Step};
use crate::fs::jbd2::JbdError;
use crate::hal::{BlkOp, Hal};
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A running transaction commits once it holds this share of the journal's
/// `max_transaction_buffers` (Linux commits when a handle would not fit).
const COMMIT_FILL_DIVISOR: usize = 2;

impl<H: Hal> Kernel<H> {
    /// Starts the commit of the running transaction if it has changes and no commit is
    /// in progress; otherwise remembers that one is wanted.
    pub(crate) fn ext_start_commit(&mut self, mnt: MntId) {
        let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
        if m.running.is_empty() {
            m.commit_requested = false;
            return;
        }
        // One journal operation at a time: jbd2 (this library) takes a block off an older
        // transaction's checkpoint list when a newer commit logs it again; if that older
        // checkpoint finished while the newer commit was still in flight, the tail would
        // move past the only committed copy of the block. Found by the crash sweep.
        let checkpointing = m.plans.iter().any(|(k, _)| matches!(k, PlanKind::Checkpoint(_)));
        if m.committing.is_some() || checkpointing || m.journal.as_ref().is_some_and(|j| j.aborted) {
            m.commit_requested = m.committing.is_some() || checkpointing;
            return;
        }
        m.commit_requested = false;
        let txn = core::mem::take(&mut m.running);
        let image = |b: &u64| m.cache.get(*b).map(|d| (*b, d.clone()));
        let meta: BTreeMap<u64, Vec<u8>> = txn.meta.iter().filter_map(image).collect();
        let data: BTreeMap<u64, Vec<u8>> = txn.data.iter().filter_map(image).collect();
        let Some(journal) = m.journal.as_mut() else {
            // No journal: data and metadata go home together, then a flush.
            let mut all = data;
            all.extend(meta.clone());
            let tid = m.committed_tid.map_or(1, |t| t.wrapping_add(1));
            m.committing = Some((tid, txn, BTreeMap::new()));
            m.plans.push_back((PlanKind::Commit(tid), Plan::new(alloc::vec![Step::Write { blocks: all, fua: false }, Step::Flush])));
            self.ext_advance(mnt);
            return;
        };
        let revoked: Vec<u64> = txn.revoked.iter().copied().collect();
        match journal.commit(&meta, &revoked, (now / 1_000_000_000, (now % 1_000_000_000) as u32)) {
            Ok(cp) => {
                let mut steps = Vec::new();
                if let Some((b, d)) = cp.sb_before {
                    steps.push(Step::Write { blocks: [(b, d)].into_iter().collect(), fua: true });
                }
                // Ordered data and the log blocks together; the commit block only after
                // both are on the media (flush, then FUA).
                let mut first = data;
                first.extend(cp.log_writes);
                steps.push(Step::Write { blocks: first, fua: false });
                steps.push(Step::Flush);
                steps.push(Step::Write { blocks: [cp.commit_block].into_iter().collect(), fua: true });
                if let Some((b, d)) = cp.sb_after {
                    steps.push(Step::Write { blocks: [(b, d)].into_iter().collect(), fua: true });
                }
                m.committing = Some((cp.tid, txn, meta));
                m.plans.push_back((PlanKind::Commit(cp.tid), Plan::new(steps)));
            }
            Err(JbdError::NoSpace { .. }) => {
                // The log is full of transactions not yet home: wait for their
                // checkpoint and commit then.
                m.running = txn;
                m.commit_requested = true;
            }
            Err(e) => {
                m.running = txn;
                let errno = e.errno();
                crate::printk!(self, "JBD2: commit of transaction failed on {}-8: error {}", self.ext_devname(mnt), errno.0);
                self.ext_abort(mnt, -errno.0);
                return;
            }
        }
        self.ext_advance(mnt);
    }

    /// Issues the next step of every plan that is ready, and finishes plans that are
    /// done.
    pub(crate) fn ext_advance(&mut self, mnt: MntId) {
        loop {
            let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
            let spb = (m.cache.block_size / 512) as u64;
            let disk = m.disk;
            let max_blocks = self.blk.by_hal(disk).map_or(1, |g| u64::from(g.queue.limits.max_sectors) / spb.max(1)).max(1);
            let mut done = None;
            for (i, (kind, plan)) in m.plans.iter_mut().enumerate() {
                if plan.finished() {
                    done = Some((i, *kind, plan.error));
                    break;
                }
                if plan.waiting() {
                    continue;
                }
                for issue in plan.next_step(max_blocks) {
                    let Some(gd) = self.blk.by_hal(disk) else { continue };
                    let id = match issue {
                        None => gd.submit(&self.hal, BlkOp::Flush, 0, 0, Vec::new(), ReqOwner::Cache, 0),
                        Some((first, n, data, fua)) => gd.submit(&self.hal, BlkOp::Write { fua }, first * spb, n * spb, data, ReqOwner::Cache, first),
                    };
                    plan.issued(id);
                }
                if plan.finished() {
                    done = Some((i, *kind, plan.error));
                    break;
                }
            }
            let Some((i, kind, error)) = done else { break };
            m.plans.remove(i);
            self.ext_plan_done(mnt, kind, error);
        }
        // Requests that failed at submission are already finished.
        if let Some(disk) = self.ext.mounts.get(&mnt).map(|m| m.disk) {
            if self.blk.by_hal(disk).is_some_and(|g| !g.finished_owners().is_empty()) {
                self.blk_dispatch(disk);
            }
        }
    }

    fn ext_plan_done(&mut self, mnt: MntId, kind: PlanKind, error: Option<i32>) {
        if let Some(e) = error {
            match kind {
                PlanKind::Commit(_) | PlanKind::Checkpoint(_) => {
                    if let Some(m) = self.ext.mounts.get_mut(&mnt) {
                        // The transaction stays uncommitted: put its changes back so
                        // nothing pretends they are durable.
                        if let Some((_, txn, _)) = m.committing.take() {
                            merge(&mut m.running, txn);
                        }
                    }
                    self.ext_abort(mnt, e);
                }
                PlanKind::Direct => {
                    let dev = self.ext_devname(mnt);
                    crate::printk!(self, "EXT4-fs ({}): I/O error while writing superblock", dev);
                }
            }
            self.ext_wake(mnt);
            return;
        }
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
        match kind {
            PlanKind::Commit(tid) => {
                if let Some((_, txn, images)) = m.committing.take() {
                    for (b, d) in images {
                        m.committed.insert(b, (tid, d));
                    }
                    m.busy = m.running.freed.clone();
                    drop(txn);
                }
                m.committed_tid = Some(tid);
                if m.journal.is_some() && !m.plans.iter().any(|(k, _)| matches!(k, PlanKind::Checkpoint(_))) {
                    self.ext_start_checkpoint(mnt);
                }
                let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
                let again = m.commit_requested || m.fsync_waiters.iter().any(|&(_, t)| tid_after(t, tid));
                if again {
                    self.ext_start_commit(mnt);
                }
            }
            PlanKind::Checkpoint(tid) => {
                m.committed.retain(|_, (t, _)| *t != tid);
                let sb = m.journal.as_mut().and_then(|j| j.checkpoint_complete(tid));
                if let Some((b, d)) = sb {
                    m.plans.push_back((PlanKind::Direct, Plan::new(alloc::vec![Step::Write { blocks: [(b, d)].into_iter().collect(), fua: true }])));
                }
                self.ext_start_checkpoint(mnt);
                if self.ext.mounts.get(&mnt).is_some_and(|m| m.commit_requested) {
                    self.ext_start_commit(mnt);
                }
            }
            PlanKind::Direct => {}
        }
        self.ext_wake(mnt);
    }

    /// Writes the oldest committed transaction's blocks home, then flushes.
    fn ext_start_checkpoint(&mut self, mnt: MntId) {
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
        if m.committing.is_some() || m.plans.iter().any(|(k, _)| matches!(k, PlanKind::Checkpoint(_))) {
            return;
        }
        let Some(j) = m.journal.as_ref() else { return };
        let Some(t) = j.checkpoint.front() else { return };
        let tid = t.tid;
        let blocks: BTreeMap<u64, Vec<u8>> = t.blocks.iter().filter_map(|b| m.committed.get(b).map(|(_, d)| (*b, d.clone()))).collect();
        m.plans.push_back((PlanKind::Checkpoint(tid), Plan::new(alloc::vec![Step::Write { blocks, fua: false }, Step::Flush])));
    }

    /// `jbd2_journal_abort`: no more commits, the error recorded in the journal
    /// superblock, the filesystem read-only. Tasks waiting for a commit get `EIO`.
    pub(crate) fn ext_abort(&mut self, mnt: MntId, errno: i32) {
        let dev = self.ext_devname(mnt);
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return };
        let Some(j) = m.journal.as_mut() else {
            m.read_only = true;
            return;
        };
        if j.aborted {
            return;
        }
        let sb = j.abort(errno);
        m.read_only = true;
        m.had_error = true;
        if let Some((b, d)) = sb {
            m.plans.push_back((PlanKind::Direct, Plan::new(alloc::vec![Step::Write { blocks: [(b, d)].into_iter().collect(), fua: true }])));
        }
        crate::printk!(self, "Aborting journal on device {}-8.", dev);
        self.ext_advance(mnt);
        self.ext_wake(mnt);
    }

    /// Wakes every task waiting on the mount (each re-checks what it waits for).
    pub(crate) fn ext_wake(&mut self, mnt: MntId) {
        if let Some(wq) = self.ext.mounts.get(&mnt).map(|m| m.wq) {
            self.wake_up(wq);
        }
    }

    /// Commits transactions that have been running for the commit interval.
    pub(crate) fn ext_run_timers(&mut self) {
        let now = self.hal.now_ns();
        let due: Vec<MntId> = self.ext.mounts.values().filter(|m| m.running.started_ns.is_some_and(|s| now >= s.saturating_add(COMMIT_INTERVAL_NS))).map(|m| m.id).collect();
        for mnt in due {
            if let Some(m) = self.ext.mounts.get_mut(&mnt) {
                m.commit_requested = true;
            }
            self.ext_start_commit(mnt);
        }
    }

    /// When the next commit timer fires.
    pub(crate) fn ext_next_timer(&self) -> Option<u64> {
        // A mount whose commit waits for the journal's current I/O has no timer: that
        // I/O's completion starts the commit.
        self.ext
            .mounts
            .values()
            .filter(|m| m.committing.is_none() && !m.commit_requested && !m.read_only && !m.plans.iter().any(|(k, _)| matches!(k, PlanKind::Checkpoint(_))))
            .filter_map(|m| m.running.started_ns)
            .map(|s| s.saturating_add(COMMIT_INTERVAL_NS))
            .min()
    }

    /// The device name of a mount (`vda`).
    pub(crate) fn ext_devname(&self, mnt: MntId) -> alloc::string::String {
        self.ext.mounts.get(&mnt).map(|m| m.fs.dev_name.clone()).unwrap_or_default()
    }

    /// `fsync` and `sync` on a mount: commit what is running and wait for it. The
    /// syscall re-runs after each wakeup; `Ok(())` once the transaction that held the
    /// caller's changes has committed.
    pub(crate) fn ext_sync(&mut self, pid: crate::kernel::Pid, mnt: MntId) -> Result<(), crate::syscalls::dispatch::SysErr> {
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return Err(Errno::EIO.into()) };
        // ext4_sync_file on a superblock ext4_abort made read-only: EROFS (until then an
        // aborted journal fails the wait for the commit with EIO).
        if m.abort_reported {
            m.fsync_waiters.retain(|&(p, _)| p != pid);
            return Err(Errno::EROFS.into());
        }
        if m.journal.as_ref().is_some_and(|j| j.aborted) {
            m.fsync_waiters.retain(|&(p, _)| p != pid);
            return Err(Errno::EIO.into());
        }
        // The tid to wait for: the one that held the changes when the call began.
        let target = match m.fsync_waiters.iter().find(|&&(p, _)| p == pid) {
            Some(&(_, t)) => t,
            None => {
                let next = m.journal.as_ref().map_or(m.committed_tid.map_or(1, |t| t.wrapping_add(1)), |j| j.transaction_sequence);
                let t = if !m.running.is_empty() {
                    next
                } else if let Some((t, _, _)) = &m.committing {
                    *t
                } else {
                    return Ok(());
                };
                m.fsync_waiters.push((pid, t));
                t
            }
        };
        if m.committed_tid.is_some_and(|c| !tid_after(target, c)) {
            m.fsync_waiters.retain(|&(p, _)| p != pid);
            return Ok(());
        }
        m.commit_requested = true;
        let wq = m.wq;
        self.ext_start_commit(mnt);
        Err(self.wait_on(pid, wq))
    }
}

/// Folds `txn`'s changes into `into` (a failed commit's changes stay pending).
fn merge(into: &mut Txn, txn: Txn) {
    into.meta.extend(txn.meta);
    into.data.extend(txn.data);
    into.revoked.extend(txn.revoked);
    into.freed.extend(txn.freed);
    into.started_ns = match (into.started_ns, txn.started_ns) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// `tid_gt`: `a` is after `b` in wrapping tid order.
fn tid_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl ExtMount {
    /// Whether the running transaction is big enough to commit now.
    pub fn running_full(&self) -> bool {
        let cap = self.journal.as_ref().map_or(usize::MAX, |j| (j.max_transaction_buffers as usize / COMMIT_FILL_DIVISOR).max(1));
        self.running.meta.len() >= cap
    }
}
