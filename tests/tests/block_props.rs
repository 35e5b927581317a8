//! The block core over hal-sim's simulated disk: bios of any size go through a request
//! queue (split at `max_sectors`, pieces chained), the disk fails some sectors and some
//! requests at random and completes out of order; every submitted bio's callback runs
//! exactly once, and with the default rule every injected error surfaces through its
//! `bi_error` (property test). Under 4.3's rule a later success can hide one.
//! And `discard_max_bytes`: whatever is written through the sysfs store, no discard
//! reaching the disk exceeds it, and the pieces tile the range on the granularity.

use hal_sim::disk::{DiskOp, SimDisk};
use kernel::block::bio::{BioOp, BioSet, ChainErrorRule, EndIo};
use kernel::block::limits::QueueLimits;
use kernel::block::discard::{blkdev_discard_bios, blkdev_discard_check, discard_batch_result};
use kernel::block::genhd::Gendisk;
use kernel::block::queue::{BlockDriver, RequestQueue};
use kernel::block::sysfs::BlkAttr;
use kernel::hal::BlkInfo;
use kernel::Errno;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The disk as a driver: requests are served at virtual times; `failed` records which
/// tags the disk failed.
struct Drv {
    disk: SimDisk,
    now: u64,
    tags: BTreeMap<u64, u64>,
    failed: Vec<u64>,
}

impl BlockDriver for Drv {
    fn submit(&mut self, op: BioOp, sector: u64, sectors: u64) -> u64 {
        let op = match op {
            BioOp::Read => DiskOp::Read { sector, sectors },
            BioOp::Write => DiskOp::Write { sector, data: vec![0x5a; sectors as usize * 512], fua: false },
            BioOp::Discard { .. } => DiskOp::Discard { sector, sectors },
        };
        let t = self.disk.submit(op, self.now);
        self.tags.insert(t, t);
        t
    }
    fn completions(&mut self) -> Vec<(u64, i32)> {
        let Some(t) = self.disk.next_deadline() else { return Vec::new() };
        self.now = self.now.max(t);
        let done: Vec<(u64, i32)> = self.disk.complete_due(self.now).into_iter().map(|c| (c.ticket, c.status)).collect();
        self.failed.extend(done.iter().filter(|d| d.1 != 0).map(|d| d.0));
        done
    }
}

/// Runs `bios` (write?, start, sectors) through a queue over a disk with `bad` sectors
/// and an error rate; returns per bio (bi_error, callback count, whether a piece of it
/// failed).
fn run(rule: ChainErrorRule, bios: &[(bool, u64, u64)], bad: &[u64], seed: u64) -> Vec<(i32, u32, bool)> {
    let mut disk = SimDisk::new(4096, seed);
    disk.faults.bad_sectors.extend(bad.iter().copied());
    disk.faults.error_ppm = 20_000;
    disk.faults.latency_ns = 1000;
    disk.faults.jitter_ns = 50_000;
    let mut drv = Drv { disk, now: 0, tags: BTreeMap::new(), failed: Vec::new() };
    let mut limits = QueueLimits::discarding(4096, 2048);
    limits.max_sectors = 16;
    let mut q = RequestQueue::new(limits, BioSet::new(rule));
    let mut ids = Vec::new();
    let mut pieces_of = Vec::new();
    for &(write, start, n) in bios {
        let id = q.set.alloc(if write { BioOp::Write } else { BioOp::Read }, start, n, EndIo::Owner);
        let before: Vec<u64> = drv.tags.keys().copied().collect();
        q.submit_bio(&mut drv, id);
        let mine: Vec<u64> = drv.tags.keys().copied().filter(|t| !before.contains(t)).collect();
        ids.push(id);
        pieces_of.push(mine);
    }
    while q.in_flight() > 0 {
        assert!(q.complete(&mut drv) > 0, "the disk finishes what it was given");
    }
    ids.iter()
        .zip(&pieces_of)
        .map(|(&id, pieces)| {
            let b = q.set.get(id).expect("the submitted bio stays until its owner frees it");
            (b.bi_error, b.endio_calls, pieces.iter().any(|t| drv.failed.contains(t)))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn every_injected_error_surfaces_once(
        bios in prop::collection::vec((any::<bool>(), 0u64..3900, 1u64..150), 1..12),
        bad in prop::collection::vec(0u64..4096, 0..6),
        seed in any::<u64>(),
    ) {
        for (err, calls, failed) in run(ChainErrorRule::FirstErrorWins, &bios, &bad, seed) {
            prop_assert_eq!(calls, 1, "the owner's callback runs exactly once");
            prop_assert_eq!(err != 0, failed, "bi_error is set exactly when a piece failed");
            if failed {
                prop_assert_eq!(err, -5);
            }
        }
        for (_, calls, _) in run(ChainErrorRule::Linux43, &bios, &bad, seed) {
            prop_assert_eq!(calls, 1);
        }
    }
}

/// 4.3's last-writer-wins can hide a failure: a bio whose failing piece completes
/// before a successful one ends with bi_error 0 (searched over seeds; the fixed rule
/// reports the same runs' failures).
#[test]
fn linux43_rule_can_hide_a_failure() {
    let bios = [(true, 0u64, 128u64)];
    let hidden = (0..200u64).find(|&seed| {
        let r43 = run(ChainErrorRule::Linux43, &bios, &[3], seed);
        r43[0].2 && r43[0].0 == 0
    });
    let seed = hidden.expect("some completion order hides the error under 4.3's rule");
    let fixed = run(ChainErrorRule::FirstErrorWins, &bios, &[3], seed);
    assert_eq!((fixed[0].0, fixed[0].1), (-5, 1));
}

/// A disk whose queue limits come from `virtblk_probe` (`limits_from`): discard
/// granularity `gran` bytes, hardware discard limit `hw_sectors`.
fn discard_disk(gran: u32, hw_sectors: u32) -> Gendisk {
    let info = BlkInfo { sectors: DISCARD_DISK_SECTORS, logical_block_size: 512, physical_block_size: 512, max_hw_sectors: 256, max_discard_sectors: hw_sectors, discard_granularity: gran, write_cache: true };
    Gendisk::probe(0, 0, info, ChainErrorRule::FirstErrorWins)
}

/// 4 MiB: big enough for many pieces, small enough for 256 cases in debug.
const DISCARD_DISK_SECTORS: u64 = 8192;

/// `BLKDISCARD`'s path below the ioctl's checks: `blkdev_issue_discard`'s bios, each
/// through the disk's queue (`blk_bio_discard_split`) to a simulated disk; returns what
/// the disk recorded.
fn issue_discard(gd: &mut Gendisk, start: u64, len: u64) -> Vec<(u64, u64)> {
    let mut drv = Drv { disk: SimDisk::new(DISCARD_DISK_SECTORS, 1), now: 0, tags: BTreeMap::new(), failed: Vec::new() };
    blkdev_discard_check(&gd.queue.limits, false, false).expect("the disk discards");
    let mut statuses = Vec::new();
    for (s, n) in blkdev_discard_bios(&gd.queue.limits, start, len) {
        let bio = gd.queue.set.alloc(BioOp::Discard { secure: false }, s, n, EndIo::Owner);
        gd.queue.submit_bio(&mut drv, bio);
        while gd.queue.in_flight() > 0 {
            assert!(gd.queue.complete(&mut drv) > 0);
        }
        let b = gd.queue.set.get(bio).expect("the issuing bio stays until freed");
        assert_eq!(b.endio_calls, 1, "the issuing bio completes once");
        statuses.push(b.bi_error);
        gd.queue.set.free(bio);
    }
    assert_eq!(discard_batch_result(statuses), Ok(()));
    drv.disk.discards
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    /// `discard_max_bytes` written N through the sysfs store: a multiple of the
    /// granularity is taken (clamped to the hardware limit), anything else is EINVAL and
    /// changes nothing; then no discard reaching the disk exceeds the limit, the pieces
    /// tile the range in order, and every boundary inside it lies on the granularity.
    #[test]
    fn discards_respect_discard_max_bytes(
        gran_shift in 9u32..17,
        hw_units in 1u32..64,
        units in 0u32..80,
        misaligned in any::<bool>(),
        off in 1u32..512,
        start in 0u64..DISCARD_DISK_SECTORS,
        len in 1u64..DISCARD_DISK_SECTORS,
    ) {
        let gran = 1u32 << gran_shift;
        let g = u64::from(gran >> 9);
        let mut gd = discard_disk(gran, hw_units * (gran >> 9));
        let len = len.min(DISCARD_DISK_SECTORS - start).max(1);
        let start = start.min(DISCARD_DISK_SECTORS - len);
        // Half the values are off the granularity by a few bytes.
        let off = if misaligned { off } else { 0 };
        let n = u64::from(units) * u64::from(gran) + u64::from(off);
        let before = gd.queue.limits.max_discard_sectors;
        let text = format!("{n}\n");
        let r = BlkAttr::DiscardMaxBytes.store(&mut gd, text.as_bytes());
        if off != 0 {
            prop_assert_eq!(r, Err(Errno::EINVAL));
            prop_assert_eq!(gd.queue.limits.max_discard_sectors, before);
        } else {
            prop_assert_eq!(r, Ok(text.len()));
            prop_assert_eq!(u64::from(gd.queue.limits.max_discard_sectors), (n >> 9).min(u64::from(hw_units) * g));
        }
        let limit = u64::from(gd.queue.limits.max_discard_sectors);
        prop_assert_eq!(BlkAttr::DiscardMaxBytes.show(&gd), format!("{}\n", limit << 9));
        let pieces = issue_discard(&mut gd, start, len);
        let mut at = start;
        for (i, &(s, k)) in pieces.iter().enumerate() {
            prop_assert_eq!(s, at, "pieces are contiguous and in order");
            prop_assert!(k > 0);
            if limit > 0 {
                prop_assert!(k <= limit, "{} sectors over the limit {}", k, limit);
            }
            if i + 1 < pieces.len() {
                prop_assert_eq!((s + k) % g, 0, "a boundary off the granularity");
            }
            at += k;
        }
        prop_assert_eq!(at, start + len, "the pieces cover the range");
        if limit == 0 {
            // 4.3: a zero soft limit does not split.
            prop_assert_eq!(pieces.len(), 1);
        }
    }
}
