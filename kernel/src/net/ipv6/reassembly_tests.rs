//! Tests of IPv6 reassembly against the 4.3 rules (spec net-ipv6 §3.6, §6, §9 items 9–11).

use super::*;
use crate::net::inet_frag::{FRAG_HIGH_THRESH, FRAG_LOW_THRESH, FRAG_PERCPU_COUNTER_BATCH, NSEC_PER_SEC};
use alloc::vec;
use Ip6FragVerdict::*;

const SRC: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const DST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
const SEC: u64 = NSEC_PER_SEC;

/// An IPv6 packet: `ext` (extension headers, the last naming 44; empty: the fixed header
/// names it), a Fragment header (next header UDP) and `data`.
fn frag_ext(ext: &[u8], id: u32, offset: usize, more: bool, data: &[u8], tc: u8) -> Vec<u8> {
    let thoff = 40 + ext.len();
    let mut p = vec![0u8; thoff + 8 + data.len()];
    let mut ip = ipv6::Packet::new_unchecked(&mut p[..]);
    ip.set_version(6);
    ip.set_traffic_class(tc);
    ip.set_payload_len((ext.len() + 8 + data.len()) as u16);
    ip.set_next_header(if ext.is_empty() { 44 } else { 0 });
    ip.set_hop_limit(64);
    ip.set_src_addr(&SRC);
    ip.set_dst_addr(&DST);
    p[40..thoff].copy_from_slice(ext);
    let mut fh = FragmentHeader::new_unchecked(&mut p[thoff..thoff + 8]);
    fh.set_next_header(17);
    fh.set_frag_off((offset / 8) as u16, more);
    fh.set_ident(id);
    p[thoff + 8..].copy_from_slice(data);
    p
}

fn frag(id: u32, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
    frag_ext(&[], id, offset, more, data, 0)
}

/// The datagram `frag` pieces of `data` reassemble to.
fn whole(data: &[u8], tc: u8) -> Vec<u8> {
    let mut p = frag_ext(&[], 0, 0, false, &[], tc);
    p.truncate(40);
    p[6] = 17;
    p[4..6].copy_from_slice(&(data.len() as u16).to_be_bytes());
    p.extend_from_slice(data);
    p
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

fn rcv(f: &mut Ip6Frags, p: &[u8], now: u64) -> Ip6FragRcv {
    f.ipv6_frag_rcv(p, 40, 6, false, 2, now)
}

fn mib(reqds: u64, oks: u64, fails: u64) -> ReasmStats {
    ReasmStats { reasm_reqds: reqds, reasm_oks: oks, reasm_fails: fails, ..ReasmStats::default() }
}

#[test]
fn every_arrival_order_reassembles() {
    let d = data(48);
    let parts = [frag(1, 0, true, &d[..16]), frag(1, 16, true, &d[16..32]), frag(1, 32, false, &d[32..])];
    for perm in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
        let mut f = Ip6Frags::new(7);
        let mut total = ReasmStats::default();
        for (n, &i) in perm.iter().enumerate() {
            let r = rcv(&mut f, &parts[i], 0);
            total.add(&r.mib);
            let want = if n < 2 { Queued } else { Reassembled { packet: whole(&d, 0), thoff: 40, nhoff: 6 } };
            assert_eq!(r.verdict, want, "order {perm:?}");
        }
        assert_eq!(total, mib(3, 1, 0));
        assert_eq!((f.queue_count(), f.mem_sum(), f.next_expiry()), (0, 0, None));
    }
}

#[test]
fn duplicate_discards_the_whole_queue() {
    let d = data(32);
    let (a, b) = (frag(5, 0, true, &d[..16]), frag(5, 16, false, &d[16..]));
    let mut f = Ip6Frags::new(7);
    assert_eq!(rcv(&mut f, &a, 0).verdict, Queued);
    let r = rcv(&mut f, &a, 0);
    assert_eq!((r.verdict, r.mib), (Dropped(FragDrop::Overlap), mib(1, 0, 1)));
    assert_eq!((f.queue_count(), f.mem_sum()), (0, 0));
    // The next fragment of that id opens a fresh queue and waits for a first that is gone.
    assert_eq!(rcv(&mut f, &b, 0).verdict, Queued);
    assert_eq!(f.queue_count(), 1);
}

#[test]
fn partial_and_contained_overlaps_discard() {
    let d = data(64);
    for (first, second) in [
        ((0, 24), (16, 40)), // tail of the new one over the next fragment's head
        ((16, 40), (0, 24)), // head of the new one under the previous fragment's tail
        ((0, 40), (8, 16)),  // wholly inside
        ((8, 16), (0, 40)),  // wholly covering
    ] {
        let mut f = Ip6Frags::new(7);
        assert_eq!(rcv(&mut f, &frag(6, first.0, true, &d[first.0..first.1]), 0).verdict, Queued);
        let r = rcv(&mut f, &frag(6, second.0, true, &d[second.0..second.1]), 0);
        assert_eq!(r.verdict, Dropped(FragDrop::Overlap), "{first:?} then {second:?}");
        assert_eq!((f.queue_count(), f.mem_sum()), (0, 0));
    }
}

#[test]
fn header_errors_answer_parameter_problem() {
    let mut f = Ip6Frags::new(7);
    // A non-last fragment whose end is not a multiple of 8: pointer at Payload Length.
    let r = rcv(&mut f, &frag(9, 0, true, &data(13)), 0);
    assert_eq!((r.verdict, r.mib), (ParamProblem { pointer: 4 }, ReasmStats { in_hdr_errors: 1, ..mib(1, 0, 0) }));
    // The queue was made before the check; it later expires counting nothing.
    assert_eq!(f.queue_count(), 1);
    let (t, m) = f.expire(60 * SEC);
    assert_eq!((t.len(), t[0].iif, &t[0].invoking, m), (1, 0, &None, ReasmStats::default()));
    // Data past 65535: pointer at the fragment offset field.
    let r = rcv(&mut f, &frag(10, 65528, false, &data(16)), 0);
    assert_eq!(r.verdict, ParamProblem { pointer: 42 });
    // A second Fragment header: pointer at it, not counted as a reassembly request.
    let r = f.ipv6_frag_rcv(&frag(11, 0, true, &data(8)), 40, 6, true, 2, 0);
    assert_eq!((r.verdict, r.mib), (ParamProblem { pointer: 40 }, ReasmStats { in_hdr_errors: 1, ..mib(0, 0, 0) }));
    // Jumbo (payload length 0) and a header cut short.
    let mut jumbo = frag(12, 8, true, &data(8));
    jumbo[4..6].fill(0);
    let mut short = frag(12, 8, true, &[]);
    short[4..6].copy_from_slice(&4u16.to_be_bytes());
    short.truncate(44);
    for p in [jumbo, short] {
        let r = rcv(&mut f, &p, 0);
        assert_eq!((r.verdict, r.mib), (ParamProblem { pointer: 40 }, ReasmStats { in_hdr_errors: 1, ..mib(1, 0, 0) }));
    }
    assert_eq!(f.queue_count(), 1, "only the offset-65528 fragment made a queue");
}

#[test]
fn atomic_fragment_is_processed_alone() {
    let d = data(24);
    let mut f = Ip6Frags::new(7);
    assert_eq!(rcv(&mut f, &frag(3, 0, true, &d[..16]), 0).verdict, Queued);
    let r = rcv(&mut f, &frag(3, 0, false, &data(5)), 0);
    assert_eq!((r.verdict, r.mib), (Atomic { thoff: 48, nhoff: 40 }, mib(1, 1, 0)));
    assert_eq!(f.queue_count(), 1);
    let r = rcv(&mut f, &frag(3, 16, false, &d[16..]), 0);
    assert_eq!(r.verdict, Reassembled { packet: whole(&d, 0), thoff: 40, nhoff: 6 });
}

#[test]
fn conflicting_ends_drop_only_the_fragment() {
    let d = data(40);
    let mut f = Ip6Frags::new(7);
    assert_eq!(rcv(&mut f, &frag(4, 24, false, &d[24..]), 0).verdict, Queued);
    // Another last fragment with a different end, and data past the known end.
    for p in [frag(4, 40, false, &data(8)), frag(4, 40, true, &data(8)), frag(4, 8, false, &data(8))] {
        let r = rcv(&mut f, &p, 0);
        assert_eq!((r.verdict, r.mib), (Dropped(FragDrop::Corrupt), mib(1, 0, 1)));
    }
    // A zero-length fragment.
    assert_eq!(rcv(&mut f, &frag(4, 16, true, &[]), 0).verdict, Dropped(FragDrop::Empty));
    let r = rcv(&mut f, &frag(4, 0, true, &d[..24]), 0);
    assert_eq!(r.verdict, Reassembled { packet: whole(&d, 0), thoff: 40, nhoff: 6 });
}

#[test]
fn timeout_quotes_the_first_fragment_only_if_it_came() {
    let mut f = Ip6Frags::new(7);
    let first = frag(20, 0, true, &data(16));
    assert_eq!(rcv(&mut f, &first, 0).verdict, Queued);
    assert_eq!(rcv(&mut f, &frag(21, 16, false, &data(8)), 0).verdict, Queued);
    // A late fragment does not extend the timer.
    assert_eq!(rcv(&mut f, &frag(20, 32, false, &data(8)), 59 * SEC).verdict, Queued);
    assert_eq!(f.next_expiry(), Some(60 * SEC));
    assert!(f.expire(60 * SEC - 1).0.is_empty());
    let (t, m) = f.expire(60 * SEC);
    let key = |id| Ip6FragKey { id, user: IP6_DEFRAG_LOCAL_DELIVER, saddr: SRC, daddr: DST };
    assert_eq!(
        t,
        [
            Ip6FragTimeout { key: key(20), iif: 2, invoking: Some(first) },
            Ip6FragTimeout { key: key(21), iif: 2, invoking: None }
        ]
    );
    assert_eq!(m, ReasmStats { reasm_fails: 2, reasm_timeout: 2, ..ReasmStats::default() });
    assert_eq!((f.queue_count(), f.mem_sum()), (0, 0));
}

#[test]
fn ecn_codepoints_combine_per_rfc3168() {
    let d = data(32);
    // ECT(0) then CE: CE is OR-ed into the first fragment's traffic class (DSCP kept).
    let mut f = Ip6Frags::new(7);
    rcv(&mut f, &frag_ext(&[], 30, 0, true, &d[..16], 0xb8 | 2), 0);
    let r = rcv(&mut f, &frag_ext(&[], 30, 16, false, &d[16..], 3), 0);
    assert_eq!(r.verdict, Reassembled { packet: whole(&d, 0xb8 | 3), thoff: 40, nhoff: 6 });
    // Not-ECT with ECT(1): invalid, the datagram is dropped.
    rcv(&mut f, &frag_ext(&[], 31, 0, true, &d[..16], 0), 0);
    let r = rcv(&mut f, &frag_ext(&[], 31, 16, false, &d[16..], 1), 0);
    assert_eq!((r.verdict, r.mib), (Dropped(FragDrop::Ecn), mib(1, 0, 1)));
    assert_eq!((f.queue_count(), f.mem_sum()), (0, 0));
}

#[test]
fn unfragmentable_headers_and_oversize() {
    // Hop-by-Hop (PadN 12) naming the Fragment header: thoff 56, nhoff 40.
    let hbh = [44u8, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let d = data(24);
    let mut f = Ip6Frags::new(7);
    let r1 = f.ipv6_frag_rcv(&frag_ext(&hbh, 40, 8, false, &d[8..], 0), 56, 40, false, 2, 0);
    assert_eq!(r1.verdict, Queued);
    let r2 = f.ipv6_frag_rcv(&frag_ext(&hbh, 40, 0, true, &d[..8], 0), 56, 40, false, 2, 0);
    let mut want = frag_ext(&hbh, 0, 0, false, &[], 0);
    want.truncate(56);
    want[40] = 17;
    want[4..6].copy_from_slice(&(16 + 24u16).to_be_bytes());
    want.extend_from_slice(&d);
    assert_eq!(r2.verdict, Reassembled { packet: want, thoff: 56, nhoff: 40 });
    // 16 bytes of HBH plus 65528 of data is 65544 > 65535.
    let big = data(65528);
    f.ipv6_frag_rcv(&frag_ext(&hbh, 41, 0, true, &big[..65504], 0), 56, 40, false, 2, 0);
    let r = f.ipv6_frag_rcv(&frag_ext(&hbh, 41, 65504, false, &big[65504..], 0), 56, 40, false, 2, 0);
    assert_eq!((r.verdict, r.mib), (Dropped(FragDrop::Oversize), mib(1, 0, 1)));
    assert_eq!((f.queue_count(), f.mem_sum()), (0, 0));
}

#[test]
fn memory_pressure_evicts_by_bucket_without_icmp() {
    let mut f = Ip6Frags::new(0x1234_5678);
    let d = data(1232);
    let (mut total, mut peak) = (ReasmStats::default(), 0);
    for id in 0..4000u32 {
        let r = rcv(&mut f, &frag(id, 0, true, &d), 0);
        assert!(matches!(r.verdict, Queued | Dropped(FragDrop::NoQueue(_))), "{:?}", r.verdict);
        total.add(&r.mib);
        peak = peak.max(f.mem_sum());
    }
    // Bounded by high_thresh plus the counter's lag and one queue.
    assert!(peak <= FRAG_HIGH_THRESH + FRAG_PERCPU_COUNTER_BATCH + 2184, "peak {peak}");
    // A find evicts once memory reads above low_thresh; the read value moves in batches.
    assert!(f.mem_read() <= FRAG_LOW_THRESH + FRAG_PERCPU_COUNTER_BATCH + 2184);
    // Every fragment is alive in a queue or was counted once as a failure; no timeouts.
    assert_eq!(total.reasm_reqds, 4000);
    assert_eq!(f.queue_count() as u64 + total.reasm_fails, 4000);
    assert!(total.reasm_fails > 1000 && total.reasm_timeout == 0);
    // Eviction goes by hash bucket, not by age: early queues survive next to late ones.
    let survivors = f.queue_count();
    let (t, m) = f.expire(60 * SEC);
    assert_eq!((t.len(), m.reasm_timeout as usize), (survivors, survivors));
    assert!(t.iter().all(|x| x.invoking.is_some()));
    assert!(t.iter().any(|x| x.key.id < 100) && t.iter().any(|x| x.key.id > 3900));
    assert_eq!(f.mem_sum(), 0);
}

#[test]
fn garbage_never_panics_and_accounting_balances() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut f = Ip6Frags::new(99);
    let (mut now, mut whole_count) = (0, 0);
    for i in 0..20_000u64 {
        let r = next();
        // Mostly small plausible fragments of three datagrams, so queues fill, overlap
        // and complete; some with one byte flipped; some pure noise at random offsets.
        let len = ((r >> 16) % 4 + 1) as usize * 8 + if r & 1 == 0 { (r >> 20) as usize % 8 } else { 0 };
        let mut p = frag((r % 3) as u32, (r >> 8) as usize % 8 * 8, r & 1 != 0, &data(len));
        let (mut thoff, mut nhoff, mut nested) = (40, 6, false);
        match i % 4 {
            2 => {
                let at = (r >> 24) as usize % p.len();
                p[at] ^= (r >> 32) as u8 | 1;
            }
            3 => {
                p = (0..(r % 120) as usize).map(|_| next() as u8).collect();
                if p.len() >= 48 && r & 2 != 0 {
                    p[0] = 0x60;
                    let plen = (p.len() - 40) as u16;
                    p[4..6].copy_from_slice(&plen.to_be_bytes());
                }
                (thoff, nhoff, nested) = ((r >> 40) as usize % 130, (r >> 48) as usize % 50, r & 4 != 0);
            }
            _ => {}
        }
        let res = f.ipv6_frag_rcv(&p, thoff, nhoff, nested, 1 + (r % 3) as i32, now);
        if let Reassembled { packet, thoff, nhoff } = &res.verdict {
            whole_count += 1;
            assert!(nhoff < thoff && *thoff <= packet.len());
            assert_eq!(usize::from(u16::from_be_bytes([packet[4], packet[5]])) + 40, packet.len());
        }
        if i % 500 == 0 {
            now += 7 * SEC;
            f.expire(now);
        }
        assert!(f.mem_sum() >= 0);
    }
    assert!(whole_count > 50, "the generator reaches reassembly ({whole_count})");
    f.expire(u64::MAX);
    assert_eq!((f.queue_count(), f.mem_sum()), (0, 0));
}
