//! IPv6 fragmentation on output: `ip6_fragment` (`net/ipv6/ip6_output.c`) and the split
//! it makes with `ip6_find_1stfragopt` (`net/ipv6/output_core.c`).
//!
//! Every fragment repeats the unfragmentable part, with the byte that named the first
//! fragmentable header now naming a Fragment header, and carries
//! `(mtu − unfragmentable − 8) & ~7` bytes of the rest (the last one what is left): the
//! first fragment fills the MTU exactly (1448 data bytes at 1500, 1232 at 1280). This is
//! the slow path; the frag-list fast path gives the same bytes for the geometry
//! `ip6_append_data` builds.

use alloc::vec::Vec;

use crate::net::inet_frag::FragError;
use crate::net::wire::ip_proto;
use crate::net::wire::ipv6::{self, HEADER_LEN, MIN_MTU};
use crate::net::wire::ipv6_ext::{ext_len, FragmentHeader, FRAGMENT_HEADER_LEN};

/// What `IP6CB`, the socket and the skb tell `ip6_fragment` besides the MTU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ip6FragCb {
    /// `skb->ignore_df`: set on locally generated packets unless the socket forces path
    /// MTU discovery (`IPV6_PMTUDISC_DO`); without it a packet over the MTU is too big.
    pub ignore_df: bool,
    /// `IP6CB(skb)->frag_max_size`: the largest fragment a reassembled packet arrived
    /// in (0: none); fragments are made no larger, and never below 1280.
    pub frag_max_size: u32,
    /// The socket's `IPV6_MTU` (`np->frag_size`, 0: unset).
    pub frag_size: u32,
}

impl Default for Ip6FragCb {
    /// A locally generated packet from a socket with default settings.
    fn default() -> Ip6FragCb {
        Ip6FragCb { ignore_df: true, frag_max_size: 0, frag_size: 0 }
    }
}

/// `ip6_find_1stfragopt`: the length of the unfragmentable part and the offset of the
/// byte naming what follows it. Hop-by-Hop and Routing headers are unfragmentable, and so
/// is a Destination Options header *not* after a Routing header — 4.3 keeps one that
/// no Routing header follows in the unfragmentable part too (the Home Address case of
/// `CONFIG_IPV6_MIP6`, off by default, is not modelled). Unlike 4.3, a header running
/// past the packet is `Malformed` instead of a read past it.
pub fn ip6_find_1stfragopt(pkt: &[u8]) -> Result<(usize, usize), FragError> {
    let (mut offset, mut prevhdr, mut found_rhdr) = (HEADER_LEN, 6, false);
    while offset < pkt.len() {
        match pkt.get(prevhdr).copied().ok_or(FragError::Malformed)? {
            ip_proto::HOPOPTS => {}
            ip_proto::ROUTING => found_rhdr = true,
            ip_proto::DSTOPTS if !found_rhdr => {}
            _ => return Ok((offset, prevhdr)),
        }
        let len = ext_len(*pkt.get(offset + 1).ok_or(FragError::Malformed)?);
        prevhdr = offset;
        offset += len;
    }
    if offset > pkt.len() {
        return Err(FragError::Malformed);
    }
    Ok((offset, prevhdr))
}

/// `ip6_fragment` for a locally generated packet with default socket settings
/// ([`Ip6FragCb::default`]); `ident` is the Identification (`ipv6_select_ident`).
pub fn ip6_fragment(packet: &[u8], mtu: u32, ident: u32) -> Result<Vec<Vec<u8>>, FragError> {
    ip6_fragment_cb(packet, mtu, ident, &Ip6FragCb::default())
}

/// `ip6_fragment`: splits `packet` (an IPv6 packet from its fixed header; bytes past
/// Payload Length ignored) for a path MTU of `mtu`, which is taken as at least
/// `IPV6_MIN_MTU` as every IPv6 route MTU is. The caller decides to call it (packet over
/// the MTU, `allfrag`, or over `frag_max_size`); a packet that fits still comes out as
/// one fragment. The caller counts `FragCreates` per fragment and `FragOKs` once.
pub fn ip6_fragment_cb(packet: &[u8], mtu: u32, ident: u32, cb: &Ip6FragCb) -> Result<Vec<Vec<u8>>, FragError> {
    let ip = ipv6::Packet::new_checked(packet).map_err(|_| FragError::Malformed)?;
    if ip.is_jumbo_candidate() && packet.len() > HEADER_LEN {
        // A jumbogram has no 16-bit offsets to spare; k43 does not fragment one.
        return Err(FragError::Malformed);
    }
    let pkt = &packet[..ip.total_len()];
    let (hlen, prevhdr) = ip6_find_1stfragopt(pkt)?;
    let nexthdr = pkt[prevhdr];
    let len = pkt.len() as u32;
    let mut mtu = mtu.max(MIN_MTU as u32);
    if !cb.ignore_df && len > mtu {
        return Err(FragError::TooBig { mtu });
    }
    if cb.frag_max_size != 0 {
        if cb.frag_max_size > mtu {
            return Err(FragError::TooBig { mtu });
        }
        // Don't send fragments larger than what we received.
        mtu = cb.frag_max_size.max(MIN_MTU as u32);
    }
    if cb.frag_size != 0 && cb.frag_size < mtu {
        mtu = cb.frag_size;
    }
    let per = (mtu as usize).checked_sub(hlen + FRAGMENT_HEADER_LEN).filter(|&p| p >= 8);
    let Some(per) = per else {
        return Err(FragError::TooBig { mtu });
    };
    let mut out = Vec::new();
    let (mut ptr, mut left) = (hlen, pkt.len() - hlen);
    while left > 0 {
        let mut n = left.min(per);
        if n < left {
            n &= !7;
        }
        let mut f = Vec::with_capacity(hlen + FRAGMENT_HEADER_LEN + n);
        f.extend_from_slice(&pkt[..hlen]);
        f[prevhdr] = ip_proto::FRAGMENT;
        f.extend_from_slice(&[0; FRAGMENT_HEADER_LEN]);
        f.extend_from_slice(&pkt[ptr..ptr + n]);
        left -= n;
        let mut fh = FragmentHeader::new_unchecked(&mut f[hlen..hlen + FRAGMENT_HEADER_LEN]);
        fh.set_next_header(nexthdr);
        fh.set_frag_off(((ptr - hlen) / 8) as u16, left > 0);
        fh.set_ident(ident);
        let plen = (f.len() - HEADER_LEN) as u16;
        ipv6::Packet::new_unchecked(&mut f[..]).set_payload_len(plen);
        out.push(f);
        ptr += n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::reassembly::{Ip6FragVerdict, Ip6Frags};
    use super::*;
    use alloc::vec;

    /// An IPv6 packet with extension headers `ext` (each `(next-header value naming it,
    /// length in bytes)`) before `payload` bytes of UDP data.
    fn packet(ext: &[(u8, usize)], payload: usize) -> Vec<u8> {
        let ext_total: usize = ext.iter().map(|e| e.1).sum();
        let mut p = vec![0u8; 40 + ext_total + payload];
        let mut ip = ipv6::Packet::new_unchecked(&mut p[..]);
        ip.set_version(6);
        ip.set_payload_len((ext_total + payload) as u16);
        ip.set_next_header(ext.first().map_or(ip_proto::UDP, |e| e.0));
        ip.set_hop_limit(64);
        ip.set_src_addr(&"2001:db8::1".parse().unwrap());
        ip.set_dst_addr(&"2001:db8::2".parse().unwrap());
        let mut off = 40;
        for (i, &(_, len)) in ext.iter().enumerate() {
            p[off] = ext.get(i + 1).map_or(ip_proto::UDP, |e| e.0);
            p[off + 1] = (len / 8 - 1) as u8;
            off += len;
        }
        for (i, b) in p[off..].iter_mut().enumerate() {
            *b = (i * 13 + 5) as u8;
        }
        p
    }

    /// Extension headers as `(next-header value naming it, length in bytes)`.
    type Ext = &'static [(u8, usize)];

    const HBH: u8 = ip_proto::HOPOPTS;
    const RT: u8 = ip_proto::ROUTING;
    const DST: u8 = ip_proto::DSTOPTS;

    #[test]
    fn unfragmentable_part_follows_4_3() {
        let cases: [(Ext, (usize, usize)); 6] = [
            (&[], (40, 6)),
            (&[(HBH, 8)], (48, 40)),
            (&[(HBH, 8), (DST, 16), (RT, 24), (DST, 8)], (88, 64)),
            (&[(RT, 24), (DST, 8)], (64, 40)),
            (&[(DST, 8)], (48, 40)), // no Routing header follows: still unfragmentable in 4.3
            (&[(HBH, 8), (ip_proto::AH, 16)], (48, 40)),
        ];
        for (ext, want) in cases {
            assert_eq!(ip6_find_1stfragopt(&packet(ext, 100)), Ok(want), "{ext:?}");
        }
        // Headers to the very end, and one claiming more than there is.
        assert_eq!(ip6_find_1stfragopt(&packet(&[(HBH, 8)], 0)), Ok((48, 40)));
        let mut p = packet(&[(HBH, 8)], 0);
        p[41] = 1;
        assert_eq!(ip6_find_1stfragopt(&p), Err(FragError::Malformed));
        assert_eq!(ip6_fragment(&p, 1280, 1), Err(FragError::Malformed));
    }

    #[test]
    fn sizes_match_linux() {
        for (mtu, per) in [(1500u32, 1448usize), (1280, 1232)] {
            let p = packet(&[], 3000);
            let frags = ip6_fragment(&p, mtu, 0x2333_fdb3).unwrap();
            // The first fragment fills the MTU when (mtu - 48) is a multiple of 8 (1280).
            assert_eq!(frags[0].len(), 48 + per);
            for (i, f) in frags.iter().enumerate() {
                let fh = FragmentHeader::new_checked(&f[40..]).unwrap();
                assert_eq!((f[6], fh.next_header(), fh.ident()), (44, ip_proto::UDP, 0x2333_fdb3));
                assert_eq!((fh.byte_offset(), fh.more_frags()), (i * per, i + 1 < frags.len()));
            }
            assert_eq!(frags.len(), 3000usize.div_ceil(per));
        }
        // The Hop-by-Hop header is repeated and names the Fragment header.
        let p = packet(&[(HBH, 8)], 2000);
        let frags = ip6_fragment(&p, 1280, 9).unwrap();
        assert_eq!((frags.len(), frags[0].len(), frags[0][6], frags[0][40], frags[1][40]), (2, 1280, 0, 44, 44));
        assert_eq!(frags[1][48], ip_proto::UDP);
    }

    #[test]
    fn too_big_cases_and_mtu_floor() {
        let p = packet(&[], 1400);
        let df = Ip6FragCb { ignore_df: false, ..Ip6FragCb::default() };
        assert_eq!(ip6_fragment_cb(&p, 1300, 1, &df), Err(FragError::TooBig { mtu: 1300 }));
        let fwd = Ip6FragCb { frag_max_size: 1400, ..Ip6FragCb::default() };
        assert_eq!(ip6_fragment_cb(&p, 1300, 1, &fwd), Err(FragError::TooBig { mtu: 1300 }));
        // frag_max_size below 1280 is raised to it; IPV6_MTU lowers the MTU.
        let small = Ip6FragCb { frag_max_size: 600, ..Ip6FragCb::default() };
        assert_eq!(ip6_fragment_cb(&p, 1500, 1, &small).unwrap()[0].len(), 1280);
        let sock = Ip6FragCb { frag_size: 1300, ..Ip6FragCb::default() };
        assert_eq!(ip6_fragment_cb(&p, 1500, 1, &sock).unwrap()[0].len(), 1296);
        // A path MTU below 1280 is taken as 1280 (the PMTU clamp).
        assert_eq!(ip6_fragment(&p, 600, 1).unwrap()[0].len(), 1280);
        // An unfragmentable part leaving no room for 8 data bytes.
        let huge = packet(&[(HBH, 1264)], 100);
        assert_eq!(ip6_fragment(&huge, 1280, 1), Err(FragError::TooBig { mtu: 1280 }));
        // Fitting packets come out as one atomic fragment; an empty rest as none.
        let f = ip6_fragment(&packet(&[], 100), 1500, 1).unwrap();
        assert!(f.len() == 1 && FragmentHeader::new_checked(&f[0][40..]).unwrap().is_atomic());
        assert_eq!(ip6_fragment(&packet(&[(HBH, 8)], 0), 1500, 1), Ok(vec![]));
        assert_eq!(ip6_fragment(&[0x60, 0, 0], 1500, 1), Err(FragError::Malformed));
    }

    #[test]
    fn random_round_trips_through_reassembly() {
        let mut x: u64 = 0x853c_49e6_748f_ea9b;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let shapes: [Ext; 4] = [&[], &[(HBH, 8)], &[(HBH, 16), (DST, 8), (RT, 24)], &[(RT, 24), (DST, 16)]];
        let mut f = Ip6Frags::new(11);
        for round in 0..300u32 {
            let ext = shapes[next() as usize % shapes.len()];
            let p = packet(ext, next() as usize % 9000);
            let mtu = 1280 + (next() % 8000) as u32;
            let (hlen, prevhdr) = ip6_find_1stfragopt(&p).unwrap();
            let mut frags = ip6_fragment(&p, mtu, round).unwrap();
            assert!(frags.iter().all(|x| x.len() <= mtu as usize));
            for w in frags[..frags.len().saturating_sub(1)].iter() {
                assert!((w.len() - hlen - 8).is_multiple_of(8));
            }
            for i in (1..frags.len()).rev() {
                frags.swap(i, next() as usize % (i + 1));
            }
            let n = frags.len();
            for (i, fr) in frags.iter().enumerate() {
                let r = f.ipv6_frag_rcv(fr, hlen, prevhdr, false, 1, 0);
                match (n, i + 1 == n, r.verdict) {
                    (1, _, Ip6FragVerdict::Atomic { thoff, nhoff }) => assert_eq!((thoff, nhoff), (hlen + 8, hlen)),
                    (_, true, Ip6FragVerdict::Reassembled { packet, thoff, nhoff }) => {
                        assert_eq!((packet, thoff, nhoff), (p.clone(), hlen, prevhdr))
                    }
                    (_, false, Ip6FragVerdict::Queued) => {}
                    other => panic!("round {round}: fragment {i} of {n}: {other:?}"),
                }
            }
        }
        assert_eq!((f.queue_count(), f.mem_sum()), (0, 0));
    }
}
