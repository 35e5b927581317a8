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

/// `blkdev_issue_discard(bdev, sector, nr_sects, flags)`: `EOPNOTSUPP` without discard
/// support (or secure discard asked of a queue without it: `secure_ok`); else bios of
/// up to 4 GiB − 512 whose ends, except the last, fall on the granularity (with the
/// alignment), each cut by the queue. `driver` completes every piece it is handed
/// (sector, sectors) with a status (0 or −errno). The result is the last error other
/// than `EOPNOTSUPP` to complete (discard is advisory), else 0.
pub fn blkdev_issue_discard(
    set: &mut BioSet,
    l: &QueueLimits,
    mut sector: u64,
    mut nr_sects: u64,
    secure: bool,
    secure_ok: bool,
    driver: &mut dyn FnMut(u64, u64) -> i32,
) -> Result<(), Errno> {
    if !l.supports_discard() || (secure && !secure_ok) {
        return Err(Errno::EOPNOTSUPP);
    }
    // A soft limit of 0 (`discard_max_bytes` written 0) leaves discard advertised but
    // unusable: EOPNOTSUPP (spec §4).
    if l.max_discard_sectors == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let g = u64::from((l.discard_granularity >> SECTOR_SHIFT).max(1));
    let a = u64::from(l.discard_alignment >> SECTOR_SHIFT) % g;
    let mut err = 0i32;
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
        let bio = set.alloc(BioOp::Discard { secure }, sector, req, EndIo::Owner);
        for piece in blk_queue_split_discard(set, l, bio) {
            let (s, n) = set.get(piece).map_or((0, 0), |b| (b.sector, b.sectors()));
            let status = driver(s, n);
            // Request completion writes bi_error only for a failure.
            if status != 0 {
                set.set_error(piece, status);
            }
            let _ = set.bio_endio(piece);
        }
        // bio_batch_end_io: the bio's final status.
        let st = set.get(bio).map_or(0, |b| b.bi_error);
        if st != 0 && st != Errno::EOPNOTSUPP.ret() as i32 {
            err = st;
        }
        set.free(bio);
        sector += req;
        nr_sects -= req;
    }
    if err != 0 {
        return Err(Errno(-err));
    }
    Ok(())
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
    /// returned; no discard support or a zero soft limit is EOPNOTSUPP up front.
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
        assert_eq!(blkdev_issue_discard(&mut set, &l, 0, 32, false, false, &mut |_, _| 0), Err(Errno::EOPNOTSUPP));
        let none = QueueLimits::discarding(0, 0);
        assert_eq!(blkdev_issue_discard(&mut set, &none, 0, 32, false, false, &mut |_, _| 0), Err(Errno::EOPNOTSUPP));
        assert_eq!(set.in_flight(), 0);
    }
}
