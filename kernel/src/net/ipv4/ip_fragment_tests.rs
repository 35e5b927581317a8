//! Tests of IPv4 reassembly against 4.3's `ip_fragment.c` (spec net-ipv6 §10.3).

use super::*;
use crate::net::inet_frag::NSEC_PER_SEC;
use crate::net::wire::ip_proto;
use alloc::vec;
use IpDefragVerdict::*;

const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const DST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const SEC: u64 = NSEC_PER_SEC;

/// A UDP fragment from SRC to DST with a 20-byte header and a valid checksum.
fn frag_tos(id: u16, offset: usize, more: bool, data: &[u8], tos: u8, df: bool) -> Vec<u8> {
    let mut p = vec![0u8; 20 + data.len()];
    let mut ip = ipv4::Packet::new_unchecked(&mut p[..]);
    ip.set_version_ihl(4, 5);
    ip.set_tos(tos);
    ip.set_total_len((20 + data.len()) as u16);
    ip.set_ident(id);
    ip.set_flags_frag_off((offset / 8) as u16 | if more { IP_MF } else { 0 } | if df { IP_DF } else { 0 });
    ip.set_ttl(64);
    ip.set_protocol(ip_proto::UDP);
    ip.set_src_addr(SRC);
    ip.set_dst_addr(DST);
    ip.fill_checksum();
    p[20..].copy_from_slice(data);
    p
}

fn frag(id: u16, offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
    frag_tos(id, offset, more, data, 0, false)
}

/// The datagram the pieces of `data` reassemble to.
fn whole(id: u16, data: &[u8], tos: u8, df: bool) -> Vec<u8> {
    frag_tos(id, 0, false, data, tos, df)
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect()
}

fn defrag(f: &mut IpFrags, p: &[u8], now: u64) -> IpDefrag {
    f.ip_defrag(p, IP_DEFRAG_LOCAL_DELIVER, 0, 2, now)
}

fn done(packet: Vec<u8>, frag_max_size: usize, frag_pmtu: bool) -> IpDefragVerdict {
    Reassembled(IpReassembled { packet, frag_max_size, frag_pmtu })
}

fn mib(reqds: u64, oks: u64, fails: u64) -> ReasmStats {
    ReasmStats { reasm_reqds: reqds, reasm_oks: oks, reasm_fails: fails, ..ReasmStats::default() }
}

#[test]
fn every_arrival_order_reassembles() {
    let d = data(48, 1);
    let parts = [frag(1, 0, true, &d[..16]), frag(1, 16, true, &d[16..32]), frag(1, 32, false, &d[32..])];
    for perm in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
        let mut f = IpFrags::new(3);
        let mut total = ReasmStats::default();
        for (n, &i) in perm.iter().enumerate() {
            let r = defrag(&mut f, &parts[i], 0);
            total.add(&r.mib);
            let want = if n < 2 { Queued } else { done(whole(1, &d, 0, false), 36, false) };
            assert_eq!(r.verdict, want, "order {perm:?}");
        }
        assert_eq!(total, mib(3, 1, 0));
        assert_eq!((f.queue_count(), f.mem_sum(), f.peer_count()), (0, 0, 0));
    }
}

/// Feeds `frags` (offset, end, data seed) into one queue, then the rest of a 32-byte
/// datagram, returning the data bytes of the result.
fn overlay(frags: &[(usize, usize, u8)]) -> (Vec<u8>, Vec<IpDefragVerdict>) {
    let mut f = IpFrags::new(3);
    let mut verdicts = Vec::new();
    for &(off, end, seed) in frags {
        let d = data(end - off, seed);
        verdicts.push(defrag(&mut f, &frag(7, off, end != 32, &d), 0).verdict);
    }
    let last = verdicts.pop();
    assert_eq!((f.queue_count(), f.mem_sum(), f.peer_count()), (0, 0, 0));
    match last {
        Some(Reassembled(r)) => (r.packet[20..].to_vec(), verdicts),
        other => panic!("not reassembled: {other:?}"),
    }
}

#[test]
fn overlaps_are_trimmed_not_fatal() {
    let a = |r: core::ops::Range<usize>| data(32, 10)[r].to_vec();
    let b = |r: core::ops::Range<usize>| data(32, 20)[r].to_vec();
    let cat = |parts: &[Vec<u8>]| parts.concat();
    // The earlier fragment keeps its bytes over a new one's head ...
    let (got, _) = overlay(&[(0, 16, 10), (8, 24, 20), (24, 32, 30)]);
    assert_eq!(got[..24], cat(&[a(0..16), data(16, 20)[8..16].to_vec()]));
    // ... and loses them to a new one that starts before it.
    let (got, _) = overlay(&[(8, 24, 20), (0, 16, 10), (24, 32, 30)]);
    assert_eq!(got[..24], cat(&[a(0..16), data(16, 20)[8..16].to_vec()]));
    // An exact duplicate replaces the queued copy: the newer data wins.
    let (got, v) = overlay(&[(0, 16, 10), (0, 16, 20), (16, 32, 30)]);
    assert_eq!((got[..16].to_vec(), v), (b(0..16), vec![Queued, Queued]));
    // Covering several fragments frees them; a fragment inside one is dropped.
    let (got, v) = overlay(&[(8, 16, 10), (16, 24, 10), (0, 24, 20), (8, 16, 30), (24, 32, 40)]);
    assert_eq!(got[..24], b(0..24));
    assert_eq!(v, [Queued, Queued, Queued, Dropped(FragDrop::Overlap)]);
}

#[test]
fn drops_in_ip_frag_queue_count_nothing() {
    let d = data(40, 1);
    let mut f = IpFrags::new(3);
    assert_eq!(defrag(&mut f, &frag(4, 24, false, &d[24..]), 0).verdict, Queued);
    for (p, why) in [
        (frag(4, 40, false, &d[..8]), FragDrop::Corrupt), // another end
        (frag(4, 40, true, &d[..8]), FragDrop::Corrupt),  // past the known end
        (frag(4, 8, true, &d[..5]), FragDrop::Empty),     // 5 bytes round down to none
        (frag(4, 32, true, &d[..8]), FragDrop::Overlap),  // inside the last fragment
    ] {
        let r = defrag(&mut f, &p, 0);
        assert_eq!((r.verdict, r.mib), (Dropped(why), mib(1, 0, 0)));
    }
    // A non-last fragment of 29 bytes is cut to 24, not refused.
    let r = defrag(&mut f, &frag(4, 0, true, &[&d[..24], &[0xee; 5][..]].concat()), 0);
    assert_eq!(r.verdict, done(whole(4, &d, 0, false), 44, false));
    // Not an IPv4 header at all: dropped before counting.
    assert_eq!(defrag(&mut f, &[0x45, 0, 0], 0).mib, ReasmStats::default());
}

#[test]
fn timeout_sends_time_exceeded_only_with_the_first_fragment() {
    let mut f = IpFrags::new(3);
    let first = frag(20, 0, true, &data(16, 1));
    defrag(&mut f, &first, 0);
    defrag(&mut f, &frag(21, 16, false, &data(8, 1)), 0);
    f.ip_defrag(&frag(22, 0, true, &data(8, 1)), IP_DEFRAG_CONNTRACK_IN + 5, 0, 3, 0);
    // A late fragment does not extend the timer.
    assert_eq!(defrag(&mut f, &frag(20, 32, false, &data(8, 1)), 29 * SEC).verdict, Queued);
    assert!(f.expire(30 * SEC - 1).0.is_empty());
    let (t, m) = f.expire(30 * SEC);
    let key = |id, user| Ip4FragKey { id, saddr: SRC, daddr: DST, protocol: ip_proto::UDP, user, vif: 0 };
    assert_eq!(
        t,
        [
            IpFragTimeout { key: key(20, 0), iif: 2, invoking: Some(first), only_if_local: false },
            IpFragTimeout { key: key(21, 0), iif: 2, invoking: None, only_if_local: false },
            IpFragTimeout {
                key: key(22, IP_DEFRAG_CONNTRACK_IN + 5),
                iif: 3,
                invoking: Some(frag(22, 0, true, &data(8, 1))),
                only_if_local: true
            },
        ]
    );
    assert_eq!(m, ReasmStats { reasm_fails: 3, reasm_timeout: 3, ..ReasmStats::default() });
    assert_eq!((f.queue_count(), f.mem_sum(), f.peer_count()), (0, 0, 0));
}

#[test]
fn too_far_behind_its_peer_reinitialises_the_queue() {
    for (others, reinit) in [(63u16, false), (64, true)] {
        let mut f = IpFrags::new(3);
        let d = data(16, 1);
        defrag(&mut f, &frag(1, 0, true, &d[..8]), 0);
        // Fragments from the same source to other queues advance the peer's counter.
        for id in 0..others {
            defrag(&mut f, &frag(1000 + id, 8, true, &d[..8]), SEC);
        }
        let r = defrag(&mut f, &frag(1, 8, false, &d[8..]), 2 * SEC);
        if reinit {
            // The first fragment was thrown away: the queue restarts with the last one.
            assert_eq!((r.verdict, r.mib), (Queued, mib(1, 0, 1)));
            let (t, _) = f.expire(31 * SEC);
            assert!(t.iter().all(|x| x.key.id != 1), "timer re-armed from the reinit");
            let (t, _) = f.expire(32 * SEC);
            assert_eq!((t.len(), &t[0].invoking), (1, &None));
        } else {
            assert_eq!(r.verdict, done(whole(1, &d, 0, false), 28, false));
        }
    }
    // ipfrag_max_dist 0 turns the check off.
    let mut f = IpFrags::new(3);
    f.max_dist = 0;
    defrag(&mut f, &frag(1, 0, true, &data(8, 1)), 0);
    for id in 0..100 {
        defrag(&mut f, &frag(1000 + id, 8, true, &data(8, 1)), 0);
    }
    assert_eq!(f.peer_count(), 0);
    assert!(matches!(defrag(&mut f, &frag(1, 8, false, &data(8, 1)), 0).verdict, Reassembled(_)));
}

#[test]
fn ecn_df_and_oversize() {
    let d = data(32, 1);
    let mut f = IpFrags::new(3);
    // ECT(1) then CE: CE OR-ed in; every fragment DF and the largest DF: DF kept.
    defrag(&mut f, &frag_tos(30, 0, true, &d[..16], 0x20 | 1, true), 0);
    let r = defrag(&mut f, &frag_tos(30, 16, false, &d[16..], 3, true), 0);
    assert_eq!(r.verdict, done(whole(30, &d, 0x23, true), 36, true));
    // A larger non-DF fragment: no DF on the result.
    defrag(&mut f, &frag_tos(31, 0, true, &d[..24], 0, false), 0);
    let r = defrag(&mut f, &frag_tos(31, 24, false, &d[24..], 0, true), 0);
    assert_eq!(r.verdict, done(whole(31, &d, 0, false), 44, false));
    // Not-ECT with CE: dropped.
    defrag(&mut f, &frag_tos(32, 0, true, &d[..16], 0, false), 0);
    let r = defrag(&mut f, &frag_tos(32, 16, false, &d[16..], 3, false), 0);
    assert_eq!((r.verdict, r.mib), (Dropped(FragDrop::Ecn), mib(1, 0, 1)));
    // 20 + 65520 > 65535.
    let big = data(65520, 1);
    defrag(&mut f, &frag(33, 0, true, &big[..65480]), 0);
    let r = defrag(&mut f, &frag(33, 65480, false, &big[65480..]), 0);
    assert_eq!((r.verdict, r.mib), (Dropped(FragDrop::Oversize), mib(1, 0, 1)));
    assert_eq!((f.queue_count(), f.mem_sum(), f.peer_count()), (0, 0, 0));
}

#[test]
fn key_includes_protocol_user_and_vif() {
    let d = data(16, 1);
    let mut f = IpFrags::new(3);
    defrag(&mut f, &frag(9, 0, true, &d[..8]), 0);
    let mut tcp = frag(9, 8, false, &d[8..]);
    tcp[9] = ip_proto::TCP;
    assert_eq!(defrag(&mut f, &tcp, 0).verdict, Queued);
    assert_eq!(f.ip_defrag(&frag(9, 8, false, &d[8..]), IP_DEFRAG_CALL_RA_CHAIN, 0, 2, 0).verdict, Queued);
    assert_eq!(f.ip_defrag(&frag(9, 8, false, &d[8..]), 0, 7, 2, 0).verdict, Queued);
    assert_eq!(f.queue_count(), 4);
    assert_eq!(f.peer_count(), 2, "one peer per (source, vif)");
}

#[test]
fn memory_pressure_evicts_without_icmp() {
    let mut f = IpFrags::new(0xabcd);
    let d = data(1480, 1);
    let mut total = ReasmStats::default();
    for id in 0..3000u16 {
        let r = defrag(&mut f, &frag(id, 0, true, &d), 0);
        total.add(&r.mib);
    }
    assert_eq!(f.queue_count() as u64 + total.reasm_fails, 3000);
    assert!(total.reasm_fails > 1000 && total.reasm_timeout == 0);
    assert!(f.mem_sum() < crate::net::inet_frag::FRAG_HIGH_THRESH);
    let (t, m) = f.expire(30 * SEC);
    assert_eq!(m.reasm_timeout as usize, t.len());
    assert_eq!((f.queue_count(), f.mem_sum(), f.peer_count()), (0, 0, 0));
}

#[test]
fn garbage_never_panics_and_accounting_balances() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut f = IpFrags::new(5);
    let (mut now, mut whole_count) = (0, 0);
    for i in 0..20_000u64 {
        let r = next();
        // Small fragments of three datagrams at overlapping offsets, so queues trim,
        // complete and conflict; some with one byte flipped; some pure noise.
        let len = ((r >> 16) % 4 + 1) as usize * 8 + (r >> 20) as usize % 8;
        let mut p = frag((r % 3) as u16, (r >> 8) as usize % 8 * 8, r & 1 != 0, &data(len, 1));
        match i % 4 {
            2 => {
                let at = (r >> 24) as usize % p.len();
                p[at] ^= (r >> 32) as u8 | 1;
            }
            3 => {
                p = (0..(r % 90) as usize).map(|_| next() as u8).collect();
                if p.len() > 20 && r & 2 != 0 {
                    p[0] = 0x45;
                    let len = p.len() as u16;
                    p[2..4].copy_from_slice(&len.to_be_bytes());
                }
            }
            _ => {}
        }
        let res = f.ip_defrag(&p, (r >> 40) as u32 % 2, 0, 1, now);
        if let Reassembled(IpReassembled { packet, .. }) = &res.verdict {
            whole_count += 1;
            let ip = ipv4::Packet::new_checked(&packet[..]).unwrap();
            assert!(ip.verify_checksum() && usize::from(ip.total_len()) == packet.len());
        }
        if i % 700 == 0 {
            now += 5 * SEC;
            f.expire(now);
        }
    }
    assert!(whole_count > 100, "the generator reaches reassembly ({whole_count})");
    f.expire(u64::MAX);
    assert_eq!((f.queue_count(), f.mem_sum(), f.peer_count()), (0, 0, 0));
}
