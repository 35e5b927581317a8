//! `__bi_remaining`: how many completions a chained bio still waits for (its own end
//! plus one per chained child). Children complete on any CPU, so the decrement that
//! reaches zero — and only that one — goes on to end the bio; it must also see every
//! status the other completers wrote before their decrement (`atomic_dec_and_test` is a
//! full barrier in Linux; release/acquire is what the handoff needs, and what loom
//! checks in `kernel/tests/loom.rs`).

use crate::sync::{AtomicI32, Ordering};

/// The counter; starts at 1 (`bio_init`).
#[derive(Debug)]
pub struct Remaining(AtomicI32);

impl Default for Remaining {
    fn default() -> Self {
        Remaining(AtomicI32::new(1))
    }
}

impl Remaining {
    /// `bio_inc_remaining` (after `bio_chain`'s barrier): one more completion to wait for.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    /// `atomic_dec_and_test(&bio->__bi_remaining)`: whether this was the last
    /// outstanding completion. A count already at 0 is a caller bug: `false`, nothing
    /// changes (Linux `BUG_ON`s).
    pub fn dec_and_test(&self) -> bool {
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            if cur <= 0 {
                return false;
            }
            match self.0.compare_exchange_weak(cur, cur - 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return cur == 1,
                Err(now) => cur = now,
            }
        }
    }

    /// The count now (for invariants and tests).
    pub fn get(&self) -> i32 {
        self.0.load(Ordering::Acquire)
    }
}
