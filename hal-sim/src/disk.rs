//! A simulated disk: an in-memory image of 512-byte sectors behind a volatile write
//! cache, with a seeded fault plan, for the block layer and the filesystems above it
//! (issue 7).
//!
//! What a real disk does with its cache is kept: a write lands in the cache and is
//! durable only after a flush, or at once with FUA; a power cut ([`SimDisk::crash`])
//! loses what was not durable — all of it ([`Crash::Drop`]), or a seeded subset of
//! sectors ([`Crash::Tear`]: sectors are atomic, writes spanning several are not).
//! Faults, drawn from the disk's own seeded generator: I/O errors on chosen sectors or
//! at a rate, a latency with jitter, and — with jitter — completions out of submission
//! order. Every discard is recorded with its size, so tests can check the queue's
//! limit.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::vec::Vec;

/// Bytes per sector.
pub const SECTOR: usize = 512;
/// The discard limit a new disk reports: 1 GiB, an SSD's typical `max_discard_sectors`.
pub const DEFAULT_MAX_DISCARD_SECTORS: u32 = 1 << 21;
/// `EIO` as a completion status.
pub const EIO: i32 = -5;

/// What the disk does wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskFaults {
    /// Sectors whose reads and writes fail with `EIO`.
    pub bad_sectors: BTreeSet<u64>,
    /// Chance (parts per million) that any request fails with `EIO`.
    pub error_ppm: u32,
    /// Fixed service time of a request.
    pub latency_ns: u64,
    /// Extra time, uniform in `0..=jitter_ns`, per request: later requests may
    /// complete first.
    pub jitter_ns: u64,
}

/// A request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskOp {
    /// Read `sectors` sectors from `sector`.
    Read {
        /// First sector.
        sector: u64,
        /// Count.
        sectors: u64,
    },
    /// Write `data` (a whole number of sectors) at `sector`; `fua` makes it durable on
    /// completion.
    Write {
        /// First sector.
        sector: u64,
        /// The bytes.
        data: Vec<u8>,
        /// `REQ_FUA`.
        fua: bool,
    },
    /// Make every completed write durable (`REQ_FLUSH`).
    Flush,
    /// Forget `sectors` sectors from `sector` (they read back as zeroes).
    Discard {
        /// First sector.
        sector: u64,
        /// Count.
        sectors: u64,
    },
}

/// A finished request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The ticket [`SimDisk::submit`] returned.
    pub ticket: u64,
    /// 0 or a negative errno (`bi_error`).
    pub status: i32,
    /// What a read returned.
    pub data: Vec<u8>,
}

/// How a power cut treats what was not durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crash {
    /// Every unflushed write is lost.
    Drop,
    /// Each unflushed sector survives or not, by the disk's generator.
    Tear,
}

/// The disk (cloning it copies its whole state: the crash sweep starts many runs from one).
#[derive(Clone)]
pub struct SimDisk {
    /// What survives a power cut.
    durable: Vec<u8>,
    /// Completed writes not yet durable, by sector.
    cache: BTreeMap<u64, [u8; SECTOR]>,
    /// Requests in service, by (due time, ticket).
    pending: BTreeMap<(u64, u64), (u64, DiskOp)>,
    next_ticket: u64,
    rng: ChaCha8Rng,
    /// The fault plan.
    pub faults: DiskFaults,
    /// Every discard as (first sector, sectors), in completion order.
    pub discards: Vec<(u64, u64)>,
    /// The largest discard the device takes, in sectors (0: it does not discard).
    pub max_discard_sectors: u32,
    /// The device's discard unit in bytes.
    pub discard_granularity: u32,
    /// The largest read or write it takes, in sectors.
    pub max_hw_sectors: u32,
    /// A crash point: after this many writes and flushes have completed, the disk stops
    /// (nothing more completes), as power failing at that moment would leave it. The
    /// test then calls [`SimDisk::crash`].
    pub stop_after_writes: Option<u64>,
    /// Writes and flushes completed so far (the crash points passed).
    pub writes_completed: u64,
    /// Flushes and FUA writes completed so far (the ordering points passed).
    pub barriers_completed: u64,
}

impl SimDisk {
    /// A zeroed disk of `sectors` sectors whose random choices come from `seed`.
    pub fn new(sectors: u64, seed: u64) -> SimDisk {
        SimDisk::from_image(std::vec![0; sectors as usize * SECTOR], seed)
    }

    /// A disk holding `image` (padded with zeroes to whole sectors).
    pub fn from_image(mut image: Vec<u8>, seed: u64) -> SimDisk {
        image.resize(image.len().div_ceil(SECTOR) * SECTOR, 0);
        SimDisk {
            durable: image,
            cache: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_ticket: 0,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6469_736b),
            faults: DiskFaults::default(),
            discards: Vec::new(),
            max_discard_sectors: DEFAULT_MAX_DISCARD_SECTORS,
            discard_granularity: 4096,
            max_hw_sectors: 256,
            stop_after_writes: None,
            writes_completed: 0,
            barriers_completed: 0,
        }
    }

    /// Loads an image file (e.g. one `mke2fs` made).
    pub fn load(path: &std::path::Path, seed: u64) -> std::io::Result<SimDisk> {
        Ok(SimDisk::from_image(std::fs::read(path)?, seed))
    }

    /// Saves what is durable (what a checker would find after a power cut).
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, &self.durable)
    }

    /// Sectors on the disk.
    pub fn sectors(&self) -> u64 {
        (self.durable.len() / SECTOR) as u64
    }

    /// The durable image.
    pub fn durable_image(&self) -> &[u8] {
        &self.durable
    }

    /// Requests in service.
    pub fn in_service(&self) -> usize {
        self.pending.len()
    }

    /// Sectors written but not yet durable.
    pub fn dirty_sectors(&self) -> usize {
        self.cache.len()
    }

    /// Queues `op` at time `now_ns`; returns its ticket. Every request draws the same
    /// number of random values, so changing one fault leaves the others' draws alone.
    pub fn submit(&mut self, op: DiskOp, now_ns: u64) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let jitter = self.rng.next_u64() % (self.faults.jitter_ns + 1);
        let due = now_ns.saturating_add(self.faults.latency_ns).saturating_add(jitter);
        self.pending.insert((due, ticket), (ticket, op));
        ticket
    }

    /// When the next request finishes (never, once stopped at a crash point).
    pub fn next_deadline(&self) -> Option<u64> {
        if self.stopped() {
            return None;
        }
        self.pending.keys().next().map(|&(t, _)| t)
    }

    /// Carries out and returns every request due by `now_ns`, in completion order.
    pub fn complete_due(&mut self, now_ns: u64) -> Vec<Completion> {
        let mut out = Vec::new();
        while !self.stopped() {
            let Some(e) = self.pending.first_entry() else { break };
            if e.key().0 > now_ns {
                break;
            }
            let (ticket, op) = e.remove();
            let write = !matches!(op, DiskOp::Read { .. });
            let barrier = matches!(op, DiskOp::Flush | DiskOp::Write { fua: true, .. });
            out.push(self.execute(ticket, op));
            if write {
                self.writes_completed += 1;
            }
            if barrier {
                self.barriers_completed += 1;
            }
        }
        out
    }

    /// Whether the disk reached its crash point and completes nothing more.
    pub fn stopped(&self) -> bool {
        self.stop_after_writes.is_some_and(|n| self.writes_completed >= n)
    }

    fn in_range(&self, sector: u64, sectors: u64) -> bool {
        sector.checked_add(sectors).is_some_and(|end| end <= self.sectors())
    }

    fn failing(&mut self, sector: u64, sectors: u64) -> bool {
        let roll = self.rng.next_u64() % 1_000_000 < u64::from(self.faults.error_ppm);
        roll || self.faults.bad_sectors.range(sector..sector.saturating_add(sectors)).next().is_some()
    }

    fn execute(&mut self, ticket: u64, op: DiskOp) -> Completion {
        let done = |status: i32, data: Vec<u8>| Completion { ticket, status, data };
        match op {
            DiskOp::Read { sector, sectors } => {
                if !self.in_range(sector, sectors) || self.failing(sector, sectors) {
                    return done(EIO, Vec::new());
                }
                let mut data = Vec::with_capacity(sectors as usize * SECTOR);
                for s in sector..sector + sectors {
                    match self.cache.get(&s) {
                        Some(c) => data.extend_from_slice(c),
                        None => data.extend_from_slice(&self.durable[s as usize * SECTOR..(s as usize + 1) * SECTOR]),
                    }
                }
                done(0, data)
            }
            DiskOp::Write { sector, data, fua } => {
                let sectors = (data.len() / SECTOR) as u64;
                if data.len() % SECTOR != 0 || !self.in_range(sector, sectors) || self.failing(sector, sectors) {
                    return done(EIO, Vec::new());
                }
                for (i, chunk) in data.chunks(SECTOR).enumerate() {
                    let s = sector + i as u64;
                    if fua {
                        self.cache.remove(&s);
                        self.durable[s as usize * SECTOR..(s as usize + 1) * SECTOR].copy_from_slice(chunk);
                    } else {
                        let mut b = [0u8; SECTOR];
                        b.copy_from_slice(chunk);
                        self.cache.insert(s, b);
                    }
                }
                done(0, Vec::new())
            }
            DiskOp::Flush => {
                let _ = self.failing(0, 0);
                for (s, b) in std::mem::take(&mut self.cache) {
                    self.durable[s as usize * SECTOR..(s as usize + 1) * SECTOR].copy_from_slice(&b);
                }
                done(0, Vec::new())
            }
            DiskOp::Discard { sector, sectors } => {
                if !self.in_range(sector, sectors) || self.failing(sector, sectors) {
                    return done(EIO, Vec::new());
                }
                self.discards.push((sector, sectors));
                for s in sector..sector + sectors {
                    self.cache.insert(s, [0; SECTOR]);
                }
                done(0, Vec::new())
            }
        }
    }

    /// A power cut: requests in service are lost, and so is what was not durable (all,
    /// or a seeded subset of sectors for [`Crash::Tear`]).
    pub fn crash(&mut self, how: Crash) {
        self.pending.clear();
        for (s, b) in std::mem::take(&mut self.cache) {
            let keep = how == Crash::Tear && self.rng.next_u64() & 1 == 1;
            if keep {
                self.durable[s as usize * SECTOR..(s as usize + 1) * SECTOR].copy_from_slice(&b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(d: &mut SimDisk, op: DiskOp) -> Completion {
        d.submit(op, 0);
        let t = d.next_deadline().unwrap();
        d.complete_due(t).remove(0)
    }

    #[test]
    fn cache_flush_fua_and_crashes() {
        let mut d = SimDisk::new(16, 1);
        let w = |s: u64, b: u8, fua| DiskOp::Write { sector: s, data: std::vec![b; 2 * SECTOR], fua };
        assert_eq!(run(&mut d, w(0, 0xaa, false)).status, 0);
        assert_eq!(run(&mut d, DiskOp::Read { sector: 0, sectors: 1 }).data, std::vec![0xaa; SECTOR]);
        assert_eq!(d.durable_image()[0], 0, "not durable before a flush");
        run(&mut d, DiskOp::Flush);
        assert_eq!(d.durable_image()[0], 0xaa);
        run(&mut d, w(4, 0xbb, true));
        run(&mut d, w(8, 0xcc, false));
        d.crash(Crash::Drop);
        assert_eq!((d.durable_image()[4 * SECTOR], d.durable_image()[8 * SECTOR]), (0xbb, 0), "FUA survives, the rest is lost");
        // Tear: some sectors of an unflushed 8-sector write survive, some not (seeded).
        let mut t = SimDisk::new(16, 7);
        run(&mut t, DiskOp::Write { sector: 0, data: std::vec![1; 8 * SECTOR], fua: false });
        t.crash(Crash::Tear);
        let kept = (0..8).filter(|&s| t.durable_image()[s * SECTOR] == 1).count();
        assert!(kept > 0 && kept < 8, "{kept} of 8 sectors survived");
    }

    #[test]
    fn faults_reordering_and_discards() {
        let mut d = SimDisk::new(64, 3);
        d.faults.bad_sectors.insert(10);
        assert_eq!(run(&mut d, DiskOp::Read { sector: 8, sectors: 4 }).status, EIO);
        assert_eq!(run(&mut d, DiskOp::Read { sector: 60, sectors: 8 }).status, EIO, "past the end");
        assert_eq!(run(&mut d, DiskOp::Discard { sector: 16, sectors: 8 }).status, 0);
        assert_eq!(d.discards, [(16, 8)]);
        d.faults.latency_ns = 1000;
        d.faults.jitter_ns = 1_000_000;
        let tickets: Vec<u64> = (0..32).map(|i| d.submit(DiskOp::Read { sector: i, sectors: 1 }, 0)).collect();
        let order: Vec<u64> = d.complete_due(u64::MAX).iter().map(|c| c.ticket).collect();
        assert_eq!(order.len(), 32);
        assert_ne!(order, tickets, "jitter reorders completions");
        let mut e = SimDisk::new(8, 5);
        e.faults.error_ppm = 1_000_000;
        assert_eq!(run(&mut e, DiskOp::Read { sector: 0, sectors: 1 }).status, EIO);
    }
}
