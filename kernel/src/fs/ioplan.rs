//! Ordered I/O for the journal: a plan is a list of steps, each a batch of block writes
//! (optionally FUA) or a cache flush, and a step starts only when every request of the
//! one before has completed. This is how jbd2's commit keeps its rules — the log blocks
//! and ordered data are on the media before the commit block (flush, then the commit
//! block with FUA), and a checkpoint's home writes are flushed before the journal's tail
//! moves — without anything in the kernel waiting in place.
//!
//! Adjacent blocks of one step go out as one request (up to `max_blocks`), as the block
//! layer's merging would make them.

use crate::block::genhd::ReqId;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Write these filesystem blocks (block number → bytes); `fua` asks each to be
    /// durable on completion.
    Write {
        /// The blocks.
        blocks: BTreeMap<u64, Vec<u8>>,
        /// `REQ_FUA`.
        fua: bool,
    },
    /// A cache flush (`REQ_FLUSH` with no data).
    Flush,
}

/// One request a step issues: first block, count, bytes, FUA (none for a flush).
pub type Issue = Option<(u64, u64, Vec<u8>, bool)>;

/// A plan in progress.
#[derive(Debug, Default)]
pub struct Plan {
    steps: VecDeque<Step>,
    inflight: BTreeSet<ReqId>,
    /// The first error any request of the plan ended with.
    pub error: Option<i32>,
}

impl Plan {
    /// A plan of `steps`, not started.
    pub fn new(steps: Vec<Step>) -> Plan {
        Plan { steps: steps.into(), inflight: BTreeSet::new(), error: None }
    }

    /// Whether every step is done (or the plan failed and nothing is in flight).
    pub fn finished(&self) -> bool {
        self.inflight.is_empty() && (self.steps.is_empty() || self.error.is_some())
    }

    /// Whether the current step still waits for requests.
    pub fn waiting(&self) -> bool {
        !self.inflight.is_empty()
    }

    /// The requests of the next step, when nothing is in flight and no error stopped
    /// the plan. Runs of consecutive blocks become one request of at most `max_blocks`.
    pub fn next_step(&mut self, max_blocks: u64) -> Vec<Issue> {
        if !self.inflight.is_empty() || self.error.is_some() {
            return Vec::new();
        }
        // A write step with no blocks is done at once (it would otherwise issue nothing
        // and wait for a completion that never comes).
        while matches!(self.steps.front(), Some(Step::Write { blocks, .. }) if blocks.is_empty()) {
            self.steps.pop_front();
        }
        let Some(step) = self.steps.pop_front() else { return Vec::new() };
        match step {
            Step::Flush => alloc::vec![None],
            Step::Write { blocks, fua } => {
                let mut out: Vec<Issue> = Vec::new();
                let mut run: Option<(u64, u64, Vec<u8>)> = None;
                for (b, d) in blocks {
                    match &mut run {
                        Some((first, n, buf)) if *first + *n == b && *n < max_blocks.max(1) => {
                            buf.extend_from_slice(&d);
                            *n += 1;
                        }
                        _ => {
                            if let Some((f, n, buf)) = run.take() {
                                out.push(Some((f, n, buf, fua)));
                            }
                            run = Some((b, 1, d));
                        }
                    }
                }
                if let Some((f, n, buf)) = run {
                    out.push(Some((f, n, buf, fua)));
                }
                out
            }
        }
    }

    /// Request `req` of the current step was issued.
    pub fn issued(&mut self, req: ReqId) {
        self.inflight.insert(req);
    }

    /// Request `req` finished with `status`; returns whether it was this plan's.
    pub fn completed(&mut self, req: ReqId, status: i32) -> bool {
        if !self.inflight.remove(&req) {
            return false;
        }
        if status != 0 && self.error.is_none() {
            self.error = Some(status);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(list: &[u64]) -> BTreeMap<u64, Vec<u8>> {
        list.iter().map(|&b| (b, alloc::vec![b as u8; 2])).collect()
    }

    #[test]
    fn steps_wait_for_the_one_before_and_merge_runs() {
        let mut p = Plan::new(alloc::vec![Step::Write { blocks: blocks(&[5, 6, 7, 9]), fua: false }, Step::Flush, Step::Write { blocks: blocks(&[1]), fua: true }]);
        let s1 = p.next_step(2);
        assert_eq!(s1, alloc::vec![Some((5, 2, alloc::vec![5, 5, 6, 6], false)), Some((7, 1, alloc::vec![7, 7], false)), Some((9, 1, alloc::vec![9, 9], false))]);
        for r in 0..3 {
            p.issued(r);
        }
        assert!(p.next_step(2).is_empty(), "the flush waits for the writes");
        assert!(p.completed(0, 0) && p.completed(2, 0));
        assert!(p.next_step(2).is_empty());
        assert!(p.completed(1, 0));
        assert_eq!(p.next_step(2), alloc::vec![None]);
        p.issued(3);
        assert!(p.completed(3, 0));
        assert_eq!(p.next_step(2), alloc::vec![Some((1, 1, alloc::vec![1, 1], true))]);
        p.issued(4);
        assert!(!p.finished());
        assert!(p.completed(4, 0));
        assert!(p.finished() && p.error.is_none());
    }

    #[test]
    fn empty_write_steps_do_not_stall() {
        let mut p = Plan::new(alloc::vec![Step::Write { blocks: BTreeMap::new(), fua: false }, Step::Flush]);
        assert_eq!(p.next_step(8), alloc::vec![None]);
        p.issued(1);
        assert!(p.completed(1, 0));
        assert!(p.finished());
        let mut q = Plan::new(alloc::vec![Step::Write { blocks: BTreeMap::new(), fua: true }]);
        assert!(q.next_step(8).is_empty());
        assert!(q.finished());
    }

    #[test]
    fn an_error_stops_the_plan_after_its_step() {
        let mut p = Plan::new(alloc::vec![Step::Write { blocks: blocks(&[1, 3]), fua: false }, Step::Flush]);
        assert_eq!(p.next_step(8).len(), 2);
        p.issued(1);
        p.issued(2);
        assert!(p.completed(1, -5));
        assert!(!p.finished(), "the other write is still in flight");
        assert!(p.completed(2, 0));
        assert!(p.finished());
        assert_eq!(p.error, Some(-5));
        assert!(p.next_step(8).is_empty(), "no flush after a failed write");
    }
}
