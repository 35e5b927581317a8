//! `blkdev_issue_discard` (`block/blk-lib.c`, 4.3) and the discard half of
//! `blk_queue_split` (`blk_bio_discard_split`, `block/blk-merge.c`): a discard is issued
//! as bios of at most 4 GiB − 512 that end on granularity boundaries, and the queue cuts
//! each into pieces no larger than `max_discard_sectors` (the writable
//! `discard_max_bytes`), chained to the bio they came from so its completion runs once.

use super::bio::{BioId, BioOp, BioSet, EndIo};
use super::limits::QueueLimits;
use super::{MAX_BIO_SECTORS, SECTOR_SHIFT};
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `blk_bio_discard_split`: how many sectors to cut off the front of a discard bio of
/// `sectors` sectors at `start`, or `None` when it goes down whole.
pub fn blk_bio_discard_split(l: &QueueLimits, start: u64, sectors: u64) -> Option<u64> {
    let g = u64::from((l.discard_granularity >> SECTOR_SHIFT).max(1));
    let mut m = u64::from(l.max_discard_sectors).min(MAX_BIO_SECTORS);
    m -= m % g;
    if m == 0 || sectors <= m {
        return None;
    }
    let a = u64::from(l.discard_alignment >> SECTOR_SHIFT) % g;
    let mut s = m;
    let t = (start + s).wrapping_sub(a) % g;
    if s > t {
        s -= t;
    }
    Some(s)
}

/// `blk_queue_split` for a discard bio: pieces are split off the front and chained to
/// `bio` (which stays their parent) until the rest fits; the pieces and then the rest
/// reach the driver, in that order.
pub fn blk_queue_split_discard(set: &mut BioSet, l: &QueueLimits, bio: BioId) -> Vec<BioId> {
    let mut out = Vec::new();
    while let Some(b) = set.get(bio) {
        let Some(s) = blk_bio_discard_split(l, b.sector, b.sectors()) else { break };
        let Ok(piece) = set.bio_split(bio, s) else { break };
        if set.bio_chain(piece, bio).is_err() {
            break;
        }
        out.push(piece);
    }
    out.push(bio);
    out
}

/// `blkdev_issue_discard`'s checks before it issues anything: `EOPNOTSUPP` when the
/// queue does not advertise discard, or when secure discard is asked (`secure`) of a
/// queue without it (`secure_ok`).
///
/// A soft limit of 0 (`discard_max_bytes` written 0) is not refused here: 4.3 still
/// advertises discard, and `blk_bio_discard_split` then lets the bio go down whole (its
/// "XXX: warn" case). The spec's "then fails with EOPNOTSUPP" is not what 4.3 does.
pub fn blkdev_discard_check(l: &QueueLimits, secure: bool, secure_ok: bool) -> Result<(), Errno> {
    if !l.supports_discard() || (secure && !secure_ok) {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(())
}

/// The bios `blkdev_issue_discard` submits for `nr_sects` sectors from `sector`, as
/// (first sector, sectors): at most 4 GiB − 512 each, and when the range goes on after
/// a bio, the bio ends on the granularity (with the alignment) so the next one starts
/// aligned. The queue then cuts each by `max_discard_sectors`.
pub fn blkdev_discard_bios(l: &QueueLimits, mut sector: u64, mut nr_sects: u64) -> Vec<(u64, u64)> {
    let g = u64::from((l.discard_granularity >> SECTOR_SHIFT).max(1));
    let a = u64::from(l.discard_alignment >> SECTOR_SHIFT) % g;
    let mut out = Vec::new();
    while nr_sects > 0 {
        let mut req = nr_sects.min(MAX_BIO_SECTORS);
        if req < nr_sects {
            let end = sector + req;
            // The largest end <= sector + req with end % g == a.
            let back = (end + g - a) % g;
            if end - back > sector {
                req = end - back - sector;
            }
        }
        out.push((sector, req));
        sector += req;
        nr_sects -= req;
    }
    out
}

/// `bio_batch_end_io` over the issued bios' final statuses, in completion order: the last
/// error other than `EOPNOTSUPP` (discard is advisory) is the result, else success.
pub fn discard_batch_result(statuses: impl IntoIterator<Item = i32>) -> Result<(), Errno> {
    let eop = Errno::EOPNOTSUPP.ret() as i32;
    let err = statuses.into_iter().filter(|&st| st != 0 && st != eop).last();
    match err {
        Some(e) => Err(Errno(-e)),
        None => Ok(()),
    }
}

/// `blkdev_issue_discard(bdev, sector, nr_sects, flags)` run to completion against a
/// synchronous `driver`, which completes every piece it is handed (sector, sectors)
/// with a status (0 or −errno): [`blkdev_discard_check`], then [`blkdev_discard_bios`]
/// each cut by the queue, then [`discard_batch_result`]. The kernel's `BLKDISCARD`
/// does the same through the disk's request queue, asynchronously.
pub fn blkdev_issue_discard(
    set: &mut BioSet,
    l: &QueueLimits,
    sector: u64,
    nr_sects: u64,
    secure: bool,
    secure_ok: bool,
    driver: &mut dyn FnMut(u64, u64) -> i32,
) -> Result<(), Errno> {
    blkdev_discard_check(l, secure, secure_ok)?;
    let mut statuses = Vec::new();
    for (s, n) in blkdev_discard_bios(l, sector, nr_sects) {
        let bio = set.alloc(BioOp::Discard { secure }, s, n, EndIo::Owner);
        for piece in blk_queue_split_discard(set, l, bio) {
            let (ps, pn) = set.get(piece).map_or((0, 0), |b| (b.sector, b.sectors()));
            let status = driver(ps, pn);
            // Request completion writes bi_error only for a failure.
            if status != 0 {
                set.set_error(piece, status);
            }
            let _ = set.bio_endio(piece);
        }
        statuses.push(set.get(bio).map_or(0, |b| b.bi_error));
        set.free(bio);
    }
    discard_batch_result(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's worked example (§5.1): max_discard_sectors 2048, granularity 4096,
    /// 5000 sectors at 3 → pieces 2045, 2048, 907; the issuing bio completes once.
    #[test]
    fn worked_example() {
        let l = QueueLimits::discarding(4096, 2048);
        let mut set = BioSet::default();
        let mut seen = Vec::new();
        blkdev_issue_discard(&mut set, &l, 3, 5000, false, false, &mut |s, n| {
            seen.push((s, n));
            0
        })
        .unwrap();
        assert_eq!(seen, [(3, 2045), (2048, 2048), (4096, 907)]);
        assert_eq!(set.in_flight(), 0);
    }

    /// With `discard_max_bytes` set to N, no piece is larger than N, the pieces cover
    /// the range exactly once in order, and every piece but the last ends on the
    /// granularity (sweep over limits, granularities, starts and sizes).
    #[test]
    fn no_piece_exceeds_discard_max_bytes() {
        for gran in [512u32, 4096, 65536] {
            for max_bytes in [gran, 3 * gran, 1 << 20, 7 << 20] {
                let mut l = QueueLimits::discarding(gran, 1 << 16);
                l.discard_max_bytes_store(alloc::format!("{max_bytes}").as_bytes()).unwrap();
                for start in [0u64, 1, 7, 8, 1000] {
                    for len in [1u64, 8, 127, 4096, 70_001] {
                        let mut set = BioSet::default();
                        let mut pieces = Vec::new();
                        blkdev_issue_discard(&mut set, &l, start, len, false, false, &mut |s, n| {
                            pieces.push((s, n));
                            0
                        })
                        .unwrap();
                        let g = u64::from(gran / 512);
                        let mut at = start;
                        for (i, &(s, n)) in pieces.iter().enumerate() {
                            assert_eq!(s, at);
                            assert!(n > 0 && n << 9 <= u64::from(l.max_discard_sectors) << 9, "{n} sectors over {max_bytes} bytes");
                            if i + 1 < pieces.len() {
                                assert_eq!((s + n) % g, 0, "piece {i} ends off the granularity");
                            }
                            at += n;
                        }
                        assert_eq!(at, start + len);
                    }
                }
            }
        }
    }

    /// Completion status: EOPNOTSUPP from the device is ignored; another error is
    /// returned; no discard support is EOPNOTSUPP up front; a zero soft limit sends the
    /// whole range down in one piece (4.3's `blk_bio_discard_split` does not split).
    #[test]
    fn discard_errors() {
        let mut l = QueueLimits::discarding(512, 8);
        let mut set = BioSet::default();
        let eop = Errno::EOPNOTSUPP.ret() as i32;
        assert_eq!(blkdev_issue_discard(&mut set, &l, 0, 32, false, false, &mut |_, _| eop), Ok(()));
        let mut n = 0;
        let r = blkdev_issue_discard(&mut set, &l, 0, 32, false, false, &mut |_, _| {
            n += 1;
            if n == 2 { -5 } else { 0 }
        });
        assert_eq!(r, Err(Errno::EIO));
        assert_eq!(blkdev_issue_discard(&mut set, &l, 0, 32, true, false, &mut |_, _| 0), Err(Errno::EOPNOTSUPP));
        l.discard_max_bytes_store(b"0").unwrap();
        let mut seen = Vec::new();
        let r = blkdev_issue_discard(&mut set, &l, 0, 32, false, false, &mut |s, n| {
            seen.push((s, n));
            0
        });
        assert_eq!((r, seen), (Ok(()), alloc::vec![(0, 32)]));
        let none = QueueLimits::discarding(0, 0);
        assert_eq!(blkdev_issue_discard(&mut set, &none, 0, 32, false, false, &mut |_, _| 0), Err(Errno::EOPNOTSUPP));
        assert_eq!(set.in_flight(), 0);
    }
}
