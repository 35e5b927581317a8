//! A context's two fault wait queues (`fault_pending_wqh` and `fault_wqh` of
//! `struct userfaultfd_ctx`) and the lock protocol that keeps a wakeup from being lost
//! while `read()` moves a fault from one to the other.
//!
//! A faulting task is queued on `fault_pending_wqh` until a `read()` returns its message,
//! then sits on `fault_wqh` until a `UFFDIO_COPY`/`ZEROPAGE`/`WAKE` over its address (or
//! the release of the context) wakes it. The wakers and the refile in `read()` can run on
//! different CPUs, so 4.3 ("userfaultfd: avoid missing wakeups during refile in
//! userfaultfd_read") fixed the order:
//!
//! - the refile holds `fault_pending_wqh.lock` and, nested inside it, `fault_wqh.lock`
//!   while it moves the entry, so the entry is never in neither queue while the pending
//!   lock is free;
//! - a range wake (`__wake_userfault`) holds `fault_pending_wqh.lock` across its scan of
//!   both queues.
//!
//! Lock order: `pending`, then `read`. k43 runs one kernel step at a time, so in the
//! simulator and on the one-CPU image these locks are never contended; the protocol is
//! what `kernel/tests/loom.rs` model-checks, with the wake racing the refile on two
//! threads. The entries are fault ids: which task sleeps on which fault, and waking it,
//! stay with the scheduler.

use crate::sync::SpinLock;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// One queued userfault: its id in the kernel's fault table and the faulting address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuedFault {
    /// The fault's id.
    pub id: u64,
    /// The exact faulting address (the wake key).
    pub addr: u64,
}

/// `fault_pending_wqh` and `fault_wqh` of one context.
pub struct FaultQueues {
    /// Faults whose message `read()` has not returned yet, oldest first.
    pending: SpinLock<VecDeque<QueuedFault>>,
    /// Faults whose message was read, waiting for a wake.
    read: SpinLock<Vec<QueuedFault>>,
}

impl core::fmt::Debug for FaultQueues {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FaultQueues").field("queued", &self.ids()).finish()
    }
}

impl Default for FaultQueues {
    fn default() -> Self {
        FaultQueues::new()
    }
}

impl FaultQueues {
    /// Two empty queues.
    pub fn new() -> FaultQueues {
        FaultQueues { pending: SpinLock::new(VecDeque::new()), read: SpinLock::new(Vec::new()) }
    }

    /// `handle_userfault`: `__add_wait_queue(&ctx->fault_pending_wqh, …)` under its lock.
    pub fn enqueue(&self, f: QueuedFault) {
        self.pending.lock().push_back(f);
    }

    /// The oldest fault whose message has not been read (`find_userfault`).
    pub fn first_pending(&self) -> Option<QueuedFault> {
        self.pending.lock().front().copied()
    }

    /// Whether a message is waiting to be read (`POLLIN`).
    pub fn has_pending(&self) -> bool {
        !self.pending.lock().is_empty()
    }

    /// `userfaultfd_ctx_read`'s refile: fault `id` moves from `fault_pending_wqh` to
    /// `fault_wqh` with both locks held. Returns `false` if it was no longer pending (a
    /// wake took it first).
    pub fn refile(&self, id: u64) -> bool {
        let mut pending = self.pending.lock();
        let Some(i) = pending.iter().position(|f| f.id == id) else { return false };
        let mut read = self.read.lock();
        if let Some(f) = pending.remove(i) {
            read.push(f);
        }
        true
    }

    /// `__wake_userfault` over `[start, end)`: takes every fault of both queues whose
    /// address lies in the range, under the pending lock, and appends their ids to `out`
    /// (pending ones first, each queue in its order).
    pub fn wake_range(&self, start: u64, end: u64, out: &mut Vec<u64>) {
        let hit = |f: &QueuedFault| f.addr >= start && f.addr < end;
        let mut pending = self.pending.lock();
        pending.retain(|f| {
            if hit(f) {
                out.push(f.id);
            }
            !hit(f)
        });
        let mut read = self.read.lock();
        read.retain(|f| {
            if hit(f) {
                out.push(f.id);
            }
            !hit(f)
        });
    }

    /// `userfaultfd_release`'s wake of all sleepers in both queues.
    pub fn wake_all(&self, out: &mut Vec<u64>) {
        let mut pending = self.pending.lock();
        out.extend(pending.drain(..).map(|f| f.id));
        out.extend(self.read.lock().drain(..).map(|f| f.id));
    }

    /// Removes fault `id` from whichever queue holds it (its task died or was
    /// interrupted); returns whether it was queued.
    pub fn remove(&self, id: u64) -> bool {
        let mut pending = self.pending.lock();
        if let Some(i) = pending.iter().position(|f| f.id == id) {
            pending.remove(i);
            return true;
        }
        let mut read = self.read.lock();
        match read.iter().position(|f| f.id == id) {
            Some(i) => {
                read.remove(i);
                true
            }
            None => false,
        }
    }

    /// Every queued fault id, pending first (for the invariant checker).
    pub fn ids(&self) -> Vec<u64> {
        let pending = self.pending.lock();
        let read = self.read.lock();
        pending.iter().chain(read.iter()).map(|f| f.id).collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn q(id: u64, addr: u64) -> QueuedFault {
        QueuedFault { id, addr }
    }

    #[test]
    fn refile_then_wake_by_range() {
        let fq = FaultQueues::new();
        fq.enqueue(q(1, 0x1000));
        fq.enqueue(q(2, 0x2fff));
        fq.enqueue(q(3, 0x3000));
        assert_eq!(fq.first_pending(), Some(q(1, 0x1000)));
        assert!(fq.refile(1));
        assert!(!fq.refile(1), "already refiled");
        assert_eq!(fq.first_pending(), Some(q(2, 0x2fff)));
        let mut woken = Vec::new();
        fq.wake_range(0x1000, 0x3000, &mut woken);
        assert_eq!(woken, [2, 1], "pending queue first, the end is exclusive");
        assert_eq!(fq.ids(), [3]);
        assert!(fq.remove(3) && !fq.remove(3));
        assert!(!fq.has_pending());
    }

    #[test]
    fn wake_all_empties_both() {
        let fq = FaultQueues::new();
        fq.enqueue(q(1, u64::MAX));
        fq.enqueue(q(2, 0));
        fq.refile(2);
        let mut woken = Vec::new();
        fq.wake_all(&mut woken);
        woken.sort();
        assert_eq!(woken, [1, 2]);
        assert!(fq.ids().is_empty());
    }
}
