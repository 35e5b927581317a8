//! IPv4 fragmentation on output: `ip_fragment` and `ip_do_fragment`
//! (`net/ipv4/ip_output.c`), with `ip_options_fragment` (`net/ipv4/ip_options.c`).
//!
//! Each fragment repeats the header, options included and IHL unchanged, and carries
//! `(mtu − IHL·4) & ~7` bytes of data (976 at 1000, 1256 at 1280), the last one the rest.
//! After the first fragment of a datagram, options without the copied bit (RFC 791 §3.1)
//! are overwritten with No-Operation rather than removed, so every fragment has the same
//! header length. The Identification is kept; DF is cleared unless the datagram was
//! reassembled from DF fragments (`IPSKB_FRAG_PMTU`); refragmenting a fragment keeps its
//! offset base and its More Fragments bit. This is the slow path; the frag-list fast path
//! gives the same bytes for the geometry `ip_append_data` builds.

use alloc::vec::Vec;

use crate::net::inet_frag::FragError;
use crate::net::wire::ipv4::{self, HEADER_LEN, IP_DF, IP_MF, IP_OFFSET};

/// `IPOPT_END`: end of the option list.
const IPOPT_END: u8 = 0;
/// `IPOPT_NOOP`: No-Operation, one byte.
const IPOPT_NOOP: u8 = 1;
/// `IPOPT_COPY`: the option is copied into every fragment.
const IPOPT_COPY: u8 = 0x80;

/// What `IPCB(skb)` and the skb tell `ip_fragment` besides the MTU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpFragCb {
    /// `skb->ignore_df`: a locally generated packet whose socket does not insist on path
    /// MTU discovery may be fragmented even with DF set.
    pub ignore_df: bool,
    /// `IPCB(skb)->frag_max_size`: the largest fragment a reassembled datagram arrived
    /// in (0: none); fragments are made no larger, and with DF it may not exceed the MTU.
    pub frag_max_size: u32,
    /// `IPSKB_FRAG_PMTU`: set DF on every fragment (the reassembled datagram's largest
    /// fragment had DF).
    pub frag_pmtu: bool,
}

/// `ip_options_fragment`: blanks every option without the copied bit to No-Operation,
/// walking `opts` (the option bytes after the 20-byte header) the way 4.3 does, which
/// stops at End of Option List or at the first malformed length.
pub fn ip_options_fragment(opts: &mut [u8]) {
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            IPOPT_END => return,
            IPOPT_NOOP => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(len) = opts.get(i + 1).map(|&l| usize::from(l)) else { return };
        if len < 2 || len > opts.len() - i {
            return;
        }
        if kind & IPOPT_COPY == 0 {
            opts[i..i + len].fill(IPOPT_NOOP);
        }
        i += len;
    }
}

/// `ip_fragment` for a datagram with no control-block hints ([`IpFragCb::default`]):
/// with DF set the answer is [`FragError::TooBig`] (send Fragmentation Needed with the MTU).
pub fn ip_fragment(packet: &[u8], mtu: u32) -> Result<Vec<Vec<u8>>, FragError> {
    ip_fragment_cb(packet, mtu, &IpFragCb::default())
}

/// `ip_fragment`: DF set and neither `ignore_df` nor a `frag_max_size` within the MTU →
/// too big (`FragFails`, ICMP Fragmentation Needed carrying `mtu`); else
/// [`ip_do_fragment`].
pub fn ip_fragment_cb(packet: &[u8], mtu: u32, cb: &IpFragCb) -> Result<Vec<Vec<u8>>, FragError> {
    let ip = ipv4::Packet::new_checked(packet).map_err(|_| FragError::Malformed)?;
    if ip.dont_frag() && (!cb.ignore_df || (cb.frag_max_size != 0 && cb.frag_max_size > mtu)) {
        return Err(FragError::TooBig { mtu });
    }
    ip_do_fragment(packet, mtu, cb)
}

/// `ip_do_fragment`: splits `packet` (an IPv4 datagram from its header; bytes past Total
/// Length ignored) for `mtu`, lowered to `frag_max_size` when that is smaller. The header
/// checksum of the input is not checked; every fragment's is computed. A datagram that
/// fits still comes out as one fragment (with DF cleared). The caller counts
/// `FragCreates` per fragment and `FragOKs` once.
pub fn ip_do_fragment(packet: &[u8], mtu: u32, cb: &IpFragCb) -> Result<Vec<Vec<u8>>, FragError> {
    let ip = ipv4::Packet::new_checked(packet).map_err(|_| FragError::Malformed)?;
    let pkt = &packet[..usize::from(ip.total_len())];
    let mut mtu = mtu as usize;
    if cb.frag_max_size != 0 && (cb.frag_max_size as usize) < mtu {
        mtu = cb.frag_max_size as usize;
    }
    let hlen = ip.header_len();
    // Linux never meets an MTU this small (device minimum 68); with it, the 8-byte
    // alignment below would make empty fragments forever.
    let per = mtu.checked_sub(hlen).filter(|&p| p >= 8).ok_or(FragError::MtuTooSmall)?;
    let word = ip.flags_frag_off();
    let mut offset = usize::from(word & IP_OFFSET) << 3;
    let not_last_frag = word & IP_MF != 0;
    let mut hdr = pkt[..hlen].to_vec();
    let (mut ptr, mut left) = (hlen, pkt.len() - hlen);
    let mut out = Vec::new();
    while left > 0 {
        let mut n = left.min(per);
        if n < left {
            n &= !7;
        }
        let mut f = Vec::with_capacity(hlen + n);
        f.extend_from_slice(&hdr);
        f.extend_from_slice(&pkt[ptr..ptr + n]);
        left -= n;
        // htons(offset >> 3) unmasked, as 4.3 writes it: refragmenting data that ends
        // past 64 KiB spills into the flag bits there too.
        let mut frag_off = (offset >> 3) as u16;
        if cb.frag_pmtu {
            frag_off |= IP_DF;
        }
        if offset == 0 {
            // Once, on the source header, after the first fragment took its copy.
            ip_options_fragment(&mut hdr[HEADER_LEN..]);
        }
        if left > 0 || not_last_frag {
            frag_off |= IP_MF;
        }
        let mut p = ipv4::Packet::new_unchecked(&mut f[..]);
        p.set_flags_frag_off(frag_off);
        p.set_total_len((hlen + n) as u16);
        p.fill_checksum();
        out.push(f);
        ptr += n;
        offset += n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::ip_fragment::{IpDefragVerdict, IpFrags, IP_DEFRAG_LOCAL_DELIVER};
    use super::*;
    use crate::net::wire::{ip_proto, Ipv4Addr};
    use alloc::vec;

    /// Record Route (not copied, one slot) then Router Alert (copied), End-padded to 12.
    const OPTS: [u8; 12] = [7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0, 0];

    fn datagram(opts: &[u8], payload: usize, word: u16, tos: u8) -> Vec<u8> {
        let hlen = HEADER_LEN + opts.len();
        let mut p = vec![0u8; hlen + payload];
        let mut ip = ipv4::Packet::new_unchecked(&mut p[..]);
        ip.set_version_ihl(4, (hlen / 4) as u8);
        ip.set_tos(tos);
        ip.set_total_len((hlen + payload) as u16);
        ip.set_ident(0x1234);
        ip.set_flags_frag_off(word);
        ip.set_ttl(64);
        ip.set_protocol(ip_proto::UDP);
        ip.set_src_addr(Ipv4Addr::new(198, 51, 100, 1));
        ip.set_dst_addr(Ipv4Addr::new(198, 51, 100, 2));
        p[HEADER_LEN..hlen].copy_from_slice(opts);
        for (i, b) in p[hlen..].iter_mut().enumerate() {
            *b = (i * 31 + 7) as u8;
        }
        ipv4::Packet::new_unchecked(&mut p[..]).fill_checksum();
        p
    }

    fn view(f: &[u8]) -> ipv4::Packet<&[u8]> {
        ipv4::Packet::new_checked(f).unwrap()
    }

    #[test]
    fn sizes_match_linux() {
        for (mtu, per) in [(1000u32, 976usize), (1280, 1256), (576, 552)] {
            let frags = ip_fragment(&datagram(&[], 3000, 0, 0), mtu).unwrap();
            assert_eq!(frags.len(), 3000usize.div_ceil(per));
            for (i, f) in frags.iter().enumerate() {
                let ip = view(f);
                assert!(ip.verify_checksum() && ip.ident() == 0x1234 && !ip.dont_frag());
                assert_eq!((usize::from(ip.frag_offset()), ip.more_frags()), (i * per, i + 1 < frags.len()));
            }
        }
        // frag_max_size lowers the MTU; a tiny MTU is refused, not looped on.
        let cb = IpFragCb { frag_max_size: 600, ..IpFragCb::default() };
        assert_eq!(ip_do_fragment(&datagram(&[], 3000, 0, 0), 1500, &cb).unwrap()[0].len(), 20 + 576);
        assert_eq!(ip_fragment(&datagram(&[], 100, 0, 0), 27), Err(FragError::MtuTooSmall));
        assert_eq!(ip_fragment(&[0x45, 0], 1500), Err(FragError::Malformed));
    }

    #[test]
    fn dont_fragment_rules() {
        let p = datagram(&[], 1400, IP_DF, 0);
        assert_eq!(ip_fragment(&p, 1000), Err(FragError::TooBig { mtu: 1000 }));
        let local = IpFragCb { ignore_df: true, ..IpFragCb::default() };
        let frags = ip_fragment_cb(&p, 1000, &local).unwrap();
        assert!(frags.iter().all(|f| !view(f).dont_frag()));
        let big = IpFragCb { ignore_df: true, frag_max_size: 1200, frag_pmtu: false };
        assert_eq!(ip_fragment_cb(&p, 1000, &big), Err(FragError::TooBig { mtu: 1000 }));
        let pmtu = IpFragCb { ignore_df: true, frag_max_size: 800, frag_pmtu: true };
        let frags = ip_fragment_cb(&p, 1000, &pmtu).unwrap();
        assert!(frags.iter().all(|f| view(f).dont_frag() && f.len() <= 800));
    }

    #[test]
    fn options_copied_per_the_copy_bit() {
        let frags = ip_fragment(&datagram(&OPTS, 2000, 0, 0), 1000).unwrap();
        assert_eq!(view(&frags[0]).options(), OPTS);
        for f in &frags[1..] {
            assert_eq!(view(f).options(), [1, 1, 1, 1, 1, 1, 1, 0x94, 4, 0, 0, 0]);
            assert_eq!(view(f).header_len(), 32);
        }
        // A malformed length stops the walk where 4.3 stops it.
        let mut o = [7u8, 1, 0x44, 4, 0, 0, 0, 0];
        ip_options_fragment(&mut o);
        assert_eq!(o, [7, 1, 0x44, 4, 0, 0, 0, 0]);
        let mut o = [1u8, 0x44, 4, 5, 0, 7, 9, 0];
        ip_options_fragment(&mut o);
        assert_eq!(o, [1, 1, 1, 1, 1, 7, 9, 0]);
    }

    #[test]
    fn refragmenting_a_fragment_keeps_offset_and_more_fragments() {
        let frags = ip_fragment(&datagram(&OPTS, 2000, IP_MF | (1024 / 8), 0), 1000).unwrap();
        for (i, f) in frags.iter().enumerate() {
            let ip = view(f);
            assert_eq!((usize::from(ip.frag_offset()), ip.more_frags()), (1024 + i * 968, true));
            // Not the first fragment of the datagram: options were fixed already.
            assert_eq!(ip.options(), OPTS);
        }
    }

    #[test]
    fn random_round_trips_through_reassembly() {
        let mut x: u64 = 0xd1b5_4a32_d192_ed03;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut f = IpFrags::new(17);
        for round in 0..300u32 {
            let opts: &[u8] = if next() & 1 == 0 { &[] } else { &OPTS };
            let p = datagram(opts, 1 + next() as usize % 9000, 0, (next() & 0xfc) as u8);
            let mtu = 68 + (next() % 9000) as u32;
            let mut frags = ip_fragment(&p, mtu).unwrap();
            assert!(frags.iter().all(|x| x.len() <= mtu as usize));
            let biggest = frags.iter().map(Vec::len).max().unwrap();
            for i in (1..frags.len()).rev() {
                frags.swap(i, next() as usize % (i + 1));
            }
            let n = frags.len();
            for (i, fr) in frags.iter().enumerate() {
                let r = f.ip_defrag(fr, IP_DEFRAG_LOCAL_DELIVER, 0, 1, 0);
                match (i + 1 == n, r.verdict) {
                    (true, IpDefragVerdict::Reassembled(r)) => {
                        assert_eq!((r.packet, r.frag_max_size, r.frag_pmtu), (p.clone(), biggest, false))
                    }
                    (false, IpDefragVerdict::Queued) => {}
                    other => panic!("round {round}: fragment {i} of {n}: {other:?}"),
                }
            }
        }
        assert_eq!((f.queue_count(), f.mem_sum(), f.peer_count()), (0, 0, 0));
    }
}
