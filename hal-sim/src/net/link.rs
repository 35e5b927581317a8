//! A full-duplex point-to-point link: two independent directions, each with a
//! propagation delay, an optional bit rate with a bounded transmit queue, a fault plan,
//! its own seeded generator and its own counters.
//!
//! Timing of one frame entering a direction at `now`: with a rate, it waits for the
//! frames ahead of it to be serialised (`len * 8 / rate`, frame bytes only: no
//! preamble, inter-frame gap or FCS), and is tail-dropped if `queue_limit` frames are
//! still unserialised; it then arrives `delay_ns` plus any jitter and reorder hold-back
//! after its last bit left. Without a rate there is no queue and serialisation is free.

use super::faults::{FaultPlan, FaultRoll};
use super::pcap::PcapWriter;
use super::ETH_HEADER_LEN;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::collections::VecDeque;

/// Default one-way propagation delay: 10 µs.
pub const DEFAULT_DELAY_NS: u64 = 10_000;
/// Default transmit queue bound in frames (Linux's default txqueuelen).
pub const DEFAULT_QUEUE_LIMIT: usize = 1000;
/// Largest queue a link may be configured with.
pub const MAX_QUEUE_LIMIT: usize = 1 << 16;
/// Longest propagation delay a link may have (1 hour): a limit against unit mistakes.
pub const MAX_DELAY_NS: u64 = 3_600_000_000_000;

/// Which way a frame travels on a link: from the `a` endpoint given to
/// [`super::Network::connect`] to `b`, or back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// From endpoint `a` to endpoint `b`.
    AToB,
    /// From endpoint `b` to endpoint `a`.
    BToA,
}

impl Direction {
    /// Both directions, `AToB` first.
    pub const BOTH: [Direction; 2] = [Direction::AToB, Direction::BToA];

    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::AToB => Direction::BToA,
            Direction::BToA => Direction::AToB,
        }
    }

    /// 0 for `AToB`, 1 for `BToA`: the index of the sending end.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Settings of one link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub delay_ns: u64,
    /// Bit rate of each direction; `None` for an infinitely fast wire (no queue).
    pub rate_bps: Option<u64>,
    /// Most frames waiting to be serialised per direction (only with a rate).
    pub queue_limit: usize,
    /// Faults on frames from `a` to `b`.
    pub a_to_b: FaultPlan,
    /// Faults on frames from `b` to `a`.
    pub b_to_a: FaultPlan,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            delay_ns: DEFAULT_DELAY_NS,
            rate_bps: None,
            queue_limit: DEFAULT_QUEUE_LIMIT,
            a_to_b: FaultPlan::NONE,
            b_to_a: FaultPlan::NONE,
        }
    }
}

impl LinkConfig {
    /// This config with `plan` in both directions.
    pub fn with_faults(mut self, plan: FaultPlan) -> LinkConfig {
        self.a_to_b = plan;
        self.b_to_a = plan;
        self
    }

    /// This config with a propagation delay of `delay_ns`.
    pub fn with_delay(mut self, delay_ns: u64) -> LinkConfig {
        self.delay_ns = delay_ns;
        self
    }

    /// This config with a bit rate and a transmit queue of `queue_limit` frames.
    pub fn with_rate(mut self, rate_bps: u64, queue_limit: usize) -> LinkConfig {
        self.rate_bps = Some(rate_bps);
        self.queue_limit = queue_limit;
        self
    }

    /// The plan for one direction.
    pub fn plan(&self, dir: Direction) -> FaultPlan {
        match dir {
            Direction::AToB => self.a_to_b,
            Direction::BToA => self.b_to_a,
        }
    }

    /// Checks the limits.
    pub fn validate(&self) -> Result<(), String> {
        if self.delay_ns > MAX_DELAY_NS {
            return Err(format!("link: delay {} ns is above the {MAX_DELAY_NS} ns limit", self.delay_ns));
        }
        if self.rate_bps == Some(0) {
            return Err("link: a rate of 0 bit/s never sends anything; use None for an unlimited wire".into());
        }
        if self.queue_limit == 0 || self.queue_limit > MAX_QUEUE_LIMIT {
            return Err(format!("link: queue limit {} is outside 1..={MAX_QUEUE_LIMIT}", self.queue_limit));
        }
        self.a_to_b.validate()?;
        self.b_to_a.validate()
    }
}

/// What happened to frames on one direction of a link. In every state,
/// `sent + duplicated == delivered + dropped + in flight`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    /// Frames that entered the link (including ones then tail-dropped).
    pub sent: u64,
    /// Copies that reached the far end.
    pub delivered: u64,
    /// Frames or copies lost: fault drops, tail drops and pending-limit overflow.
    pub dropped: u64,
    /// Of `dropped`, frames refused because the transmit queue was full.
    pub queue_drops: u64,
    /// Frames that gained a second copy.
    pub duplicated: u64,
    /// Frames with a bit flipped.
    pub corrupted: u64,
    /// Copies held back by the reorder fault.
    pub reordered: u64,
}

/// What the link did with a frame that entered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entered {
    /// The transmit queue was full: the frame never reached the wire.
    TailDrop,
    /// On the wire (so captured) but lost in transit.
    Lost,
    /// On the wire; one or two copies arrive at these times.
    Sent([Option<u64>; 2]),
}

/// One direction's state.
#[derive(Clone, Debug)]
pub(crate) struct LinkDir {
    pub(crate) plan: FaultPlan,
    pub(crate) counters: LinkCounters,
    /// Copies scheduled to arrive and not yet arrived.
    pub(crate) in_flight: u64,
    rng: ChaCha8Rng,
    /// When the serialiser finishes the last admitted frame.
    busy_until_ns: u64,
    /// Finish times of admitted frames not yet fully serialised, oldest first.
    backlog: VecDeque<u64>,
}

/// The generator of one link direction, a function of (seed, link, direction) alone,
/// so adding a link leaves every other link's draws as they were.
fn direction_rng(seed: u64, link: u32, dir: Direction) -> ChaCha8Rng {
    let mut s = [0u8; 32];
    s[0..8].copy_from_slice(&seed.to_le_bytes());
    s[8..12].copy_from_slice(&link.to_le_bytes());
    s[12] = dir.index() as u8;
    // A domain tag keeps these streams apart from any other ChaCha the simulator seeds.
    s[16..32].copy_from_slice(b"k43 simnet link\0");
    ChaCha8Rng::from_seed(s)
}

/// Time to put `len` bytes on a wire of `rate_bps`, rounded up.
fn serialisation_ns(len: usize, rate_bps: u64) -> u64 {
    let ns = (len as u128 * 8 * 1_000_000_000).div_ceil(u128::from(rate_bps.max(1)));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

impl LinkDir {
    pub(crate) fn new(seed: u64, link: u32, dir: Direction, plan: FaultPlan) -> LinkDir {
        LinkDir {
            plan,
            counters: LinkCounters::default(),
            in_flight: 0,
            rng: direction_rng(seed, link, dir),
            busy_until_ns: 0,
            backlog: VecDeque::new(),
        }
    }

    /// Takes a frame onto this direction at `now_ns`: queueing, corruption (in place),
    /// loss, duplication and arrival times. Updates every counter except `delivered`.
    pub(crate) fn enter(&mut self, frame: &mut [u8], now_ns: u64, cfg: &LinkConfig) -> Entered {
        // Drawn before anything can refuse the frame: a fixed number of draws per frame.
        let roll: FaultRoll = self.plan.roll(&mut self.rng);
        self.counters.sent += 1;
        let finish_ns = match cfg.rate_bps {
            None => now_ns,
            Some(rate) => {
                while self.backlog.front().is_some_and(|&done| done <= now_ns) {
                    self.backlog.pop_front();
                }
                if self.backlog.len() >= cfg.queue_limit {
                    self.counters.dropped += 1;
                    self.counters.queue_drops += 1;
                    return Entered::TailDrop;
                }
                let start = self.busy_until_ns.max(now_ns);
                let finish = start.saturating_add(serialisation_ns(frame.len(), rate));
                self.busy_until_ns = finish;
                self.backlog.push_back(finish);
                debug_assert!(self.backlog.len() <= cfg.queue_limit);
                finish
            }
        };
        if roll.corrupt && frame.len() > ETH_HEADER_LEN {
            // Only past the header, so the frame still reaches its addressee and it is
            // the payload's checksum that catches the damage.
            let bits = (frame.len() - ETH_HEADER_LEN) as u64 * 8;
            let bit = roll.corrupt_bit % bits;
            frame[ETH_HEADER_LEN + (bit / 8) as usize] ^= 1 << (bit % 8);
            self.counters.corrupted += 1;
        }
        if roll.drop {
            self.counters.dropped += 1;
            return Entered::Lost;
        }
        let copies = if roll.duplicate {
            self.counters.duplicated += 1;
            2
        } else {
            1
        };
        let mut arrivals = [None; 2];
        for (slot, copy) in arrivals.iter_mut().zip(roll.copies.iter()).take(copies) {
            if copy.reorder_ns > 0 {
                self.counters.reordered += 1;
            }
            *slot = Some(finish_ns.saturating_add(cfg.delay_ns).saturating_add(copy.jitter_ns).saturating_add(copy.reorder_ns));
        }
        Entered::Sent(arrivals)
    }
}

/// Which kind of thing sits at one end of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// A NIC port, by index.
    Nic(u32),
    /// A switch, by index, and the link's port number on it.
    Switch(u32, usize),
}

/// One link: its ends (`a` then `b`), settings, two directions and an optional capture.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    pub(crate) ends: [End; 2],
    pub(crate) cfg: LinkConfig,
    pub(crate) dirs: [LinkDir; 2],
    pub(crate) capture: Option<PcapWriter>,
}
