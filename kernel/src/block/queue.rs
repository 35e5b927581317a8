//! A request queue between bios and a device driver: `generic_make_request` with 4.3's
//! `blk_queue_split` (reads and writes cut at `max_sectors`, discards by the discard
//! limits), each piece chained to the submitted bio and handed to the driver; the
//! driver's completions end the pieces (`bi_error` set only for a failure, as request
//! completion does), and the submitted bio's callback runs once, after the last.
//!
//! Not modelled: merging, plugging, the elevator, tags and timeouts.

use super::bio::{BioId, BioOp, BioSet};
use super::discard::blk_queue_split_discard;
use super::limits::QueueLimits;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A block device driver as the queue sees it.
pub trait BlockDriver {
    /// Starts `op` on `sectors` sectors from `sector`; returns a tag naming it.
    fn submit(&mut self, op: BioOp, sector: u64, sectors: u64) -> u64;
    /// Requests that finished since the last call: (tag, 0 or −errno).
    fn completions(&mut self) -> Vec<(u64, i32)>;
}

/// The queue.
#[derive(Debug)]
pub struct RequestQueue {
    /// Its limits.
    pub limits: QueueLimits,
    /// The bios in flight.
    pub set: BioSet,
    inflight: BTreeMap<u64, BioId>,
}

impl RequestQueue {
    /// A queue with `limits` whose bios follow `set`'s error rule.
    pub fn new(limits: QueueLimits, set: BioSet) -> RequestQueue {
        RequestQueue { limits, set, inflight: BTreeMap::new() }
    }

    /// `generic_make_request(bio)`: split, chain, hand every piece to `drv`.
    pub fn submit_bio(&mut self, drv: &mut dyn BlockDriver, bio: BioId) {
        let pieces = match self.set.get(bio).map(|b| b.op) {
            Some(BioOp::Discard { .. }) => blk_queue_split_discard(&mut self.set, &self.limits, bio),
            Some(_) => self.split_rw(bio),
            None => return,
        };
        for p in pieces {
            if let Some(b) = self.set.get(p) {
                let tag = drv.submit(b.op, b.sector, b.sectors());
                self.inflight.insert(tag, p);
            }
        }
    }

    /// `blk_bio_segment_split` reduced to the sector limit: pieces of `max_sectors`.
    fn split_rw(&mut self, bio: BioId) -> Vec<BioId> {
        let max = u64::from(self.limits.max_sectors.max(1));
        let mut out = Vec::new();
        while self.set.get(bio).is_some_and(|b| b.sectors() > max) {
            let Ok(piece) = self.set.bio_split(bio, max) else { break };
            if self.set.bio_chain(piece, bio).is_err() {
                break;
            }
            out.push(piece);
        }
        out.push(bio);
        out
    }

    /// Ends every piece `drv` finished; returns how many.
    pub fn complete(&mut self, drv: &mut dyn BlockDriver) -> usize {
        let done = drv.completions();
        for &(tag, status) in &done {
            let Some(p) = self.inflight.remove(&tag) else { continue };
            if status != 0 {
                self.set.set_error(p, status);
            }
            let _ = self.set.bio_endio(p);
        }
        done.len()
    }

    /// The piece the driver tagged `tag`, while it is in flight.
    pub fn inflight_bio(&self, tag: u64) -> Option<BioId> {
        self.inflight.get(&tag).copied()
    }

    /// Pieces the driver still holds.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }
}
