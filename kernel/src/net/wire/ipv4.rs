//! The IPv4 header (RFC 791 §3.1): version and IHL, TOS (DSCP and ECN, RFC 2474 and
//! RFC 3168), total length, identification, flags and fragment offset, TTL, protocol,
//! header checksum, addresses, options.
//!
//! [`Packet::check_len`] makes `ip_rcv`'s checks in `ip_rcv`'s order, and the errors map
//! onto the counters it bumps: `Malformed` is `InHdrErrors`, `Checksum` is `InCsumErrors`
//! plus `InHdrErrors`, `Truncated` is `InTruncatedPkts` (only a buffer shorter than Total
//! Length: a buffer shorter than the header itself is a header error in Linux).

use super::checksum;
use super::{Ipv4Addr, Result, WireError};

mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

/// Length of a header without options (`sizeof(struct iphdr)`).
pub const HEADER_LEN: usize = field::DST.end;

/// The Don't Fragment bit of the flags/offset word (`IP_DF`).
pub const IP_DF: u16 = 0x4000;
/// The More Fragments bit (`IP_MF`).
pub const IP_MF: u16 = 0x2000;
/// The fragment offset bits, in 8-byte units (`IP_OFFSET`).
pub const IP_OFFSET: u16 = 0x1fff;

/// A read/write view of an IPv4 datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it; accessors may panic if it is too short.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len), so no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Wraps the IPv4 header that an ICMP error quotes, which is cut short on purpose:
    /// only the header (options included) must be present and IHL ≥ 5, which is all
    /// `icmp_unreach` and `icmp_socket_deliver` ask of it (they do not read the version
    /// or compare Total Length). [`payload`](Self::payload) is what follows, at most
    /// Total Length.
    pub fn new_quoted(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if p.ihl() < 5 {
            return Err(WireError::Malformed);
        }
        if len < p.header_len() {
            return Err(WireError::Truncated);
        }
        Ok(p)
    }

    /// The checks of `ip_rcv`, in its order:
    /// 1. shorter than 20 bytes, version ≠ 4, IHL < 5, shorter than IHL·4 → `Malformed`;
    /// 2. (the header checksum, see below);
    /// 3. Total Length beyond the buffer → `Truncated`;
    /// 4. Total Length below IHL·4 → `Malformed`.
    ///
    /// `ip_rcv` verifies the header checksum between 1 and 3, so when 3 or 4 fail this
    /// returns `Checksum` if the checksum is also wrong. A datagram that passes is still
    /// checksum-verified by [`Repr::parse`]. `ip_rcv` counts the ECN class of the TOS byte
    /// after the version check but before the IHL·4 pull: read it from an unchecked view.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || self.version() != 4 || self.ihl() < 5 || len < self.header_len() {
            return Err(WireError::Malformed);
        }
        let total = usize::from(self.total_len());
        if total > len || total < self.header_len() {
            if !self.verify_checksum() {
                return Err(WireError::Checksum);
            }
            return Err(if total > len { WireError::Truncated } else { WireError::Malformed });
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version, the high nibble of byte 0.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Internet Header Length in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }

    /// Header length in bytes, IHL·4.
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    /// The TOS byte (DSCP and ECN together, as Linux's `iph->tos`).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Differentiated Services Code Point, the high six bits of TOS (RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    /// ECN codepoint, the low two bits of TOS (RFC 3168, `INET_ECN_MASK`).
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    /// Total Length: header and data, in bytes.
    pub fn total_len(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::IDENT])
    }

    /// The flags and fragment offset word as it is on the wire (Linux's `frag_off`).
    pub fn flags_frag_off(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::FLG_OFF])
    }

    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        self.flags_frag_off() & IP_DF != 0
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.flags_frag_off() & IP_MF != 0
    }

    /// Fragment offset in 8-byte units, the raw 13-bit field.
    pub fn frag_offset_units(&self) -> u16 {
        self.flags_frag_off() & IP_OFFSET
    }

    /// Fragment offset in bytes (`(frag_off & IP_OFFSET) << 3`, at most 65528).
    pub fn frag_offset(&self) -> u16 {
        self.frag_offset_units() << 3
    }

    /// Time to Live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol (see [`ip_proto`](super::ip_proto)).
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Whether the header checksum over IHL·4 bytes verifies (`ip_fast_csum`).
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(&self.buffer.as_ref()[..self.header_len()])
    }

    /// The option bytes between the fixed header and IHL·4, unparsed.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// The data from IHL·4 to Total Length: link padding after Total Length is not part
    /// of the datagram (`ip_rcv` trims it with `pskb_trim_rcsum`). On a
    /// [`new_quoted`](Self::new_quoted) view it stops early where the buffer does.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        let end = usize::from(self.total_len()).min(data.len()).max(self.header_len());
        &data[self.header_len()..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and IHL (in 32-bit words).
    pub fn set_version_ihl(&mut self, version: u8, ihl: u8) {
        self.buffer.as_mut()[field::VER_IHL] = (version << 4) | (ihl & 0x0f);
    }

    /// Sets the TOS byte.
    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[field::TOS] = tos;
    }

    /// Sets the DSCP, keeping ECN.
    pub fn set_dscp(&mut self, dscp: u8) {
        let ecn = self.ecn();
        self.set_tos((dscp << 2) | ecn);
    }

    /// Sets the ECN codepoint, keeping DSCP.
    pub fn set_ecn(&mut self, ecn: u8) {
        let tos = self.tos();
        self.set_tos((tos & !0x03) | (ecn & 0x03));
    }

    /// Sets Total Length.
    pub fn set_total_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets Identification.
    pub fn set_ident(&mut self, v: u16) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the whole flags and fragment offset word.
    pub fn set_flags_frag_off(&mut self, v: u16) {
        self.buffer.as_mut()[field::FLG_OFF].copy_from_slice(&v.to_be_bytes());
    }

    fn set_flag(&mut self, bit: u16, on: bool) {
        let v = self.flags_frag_off();
        self.set_flags_frag_off(if on { v | bit } else { v & !bit });
    }

    /// Sets or clears Don't Fragment.
    pub fn set_dont_frag(&mut self, on: bool) {
        self.set_flag(IP_DF, on);
    }

    /// Sets or clears More Fragments.
    pub fn set_more_frags(&mut self, on: bool) {
        self.set_flag(IP_MF, on);
    }

    /// Sets the fragment offset in 8-byte units (the low 13 bits of `units`).
    pub fn set_frag_offset_units(&mut self, units: u16) {
        let v = self.flags_frag_off();
        self.set_flags_frag_off((v & !IP_OFFSET) | (units & IP_OFFSET));
    }

    /// Sets the fragment offset in bytes; it must be a multiple of 8 (RFC 791).
    pub fn set_frag_offset(&mut self, bytes: u16) {
        debug_assert!(bytes.is_multiple_of(8), "fragment offset {bytes} not a multiple of 8");
        self.set_frag_offset_units(bytes >> 3);
    }

    /// Sets the TTL.
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = v;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.octets());
    }

    /// Computes and stores the header checksum over IHL·4 bytes (`ip_send_check`).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(&self.buffer.as_ref()[..self.header_len()]);
        self.set_checksum(c);
    }

    /// The option bytes, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }

    /// The data from IHL·4 to Total Length, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        let end = usize::from(self.total_len()).min(self.buffer.as_ref().len()).max(hl);
        &mut self.buffer.as_mut()[hl..end]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// An IPv4 header as plain values. Options are not carried: the stack reads them from
/// [`Packet::options`] and builds them itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: u8,
    /// Bytes after the header: Total Length − IHL·4.
    pub payload_len: usize,
    /// Time to Live.
    pub ttl: u8,
    /// The TOS byte, DSCP and ECN together.
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes, a multiple of 8.
    pub frag_offset: u16,
}

impl Repr {
    /// The header as values: `Checksum` if the header checksum fails (`ip_rcv` counts
    /// `InCsumErrors` and `InHdrErrors` and drops).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(WireError::Checksum);
        }
        Ok(Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
        })
    }

    /// The header this emits: 20 bytes, no options.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes a 20-byte header (no options) with the checksum filled. The payload is not
    /// touched. `payload_len` must leave Total Length within 16 bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        debug_assert!(self.payload_len <= usize::from(u16::MAX) - HEADER_LEN);
        packet.set_version_ihl(4, 5);
        packet.set_tos(self.tos);
        packet.set_total_len((HEADER_LEN + self.payload_len) as u16);
        packet.set_ident(self.ident);
        packet.set_flags_frag_off(0);
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::wire::ip_proto;

    /// An IGMPv2 membership report for 224.0.0.251, IHL 6 for the Router Alert option
    /// (RFC 2236 §2 requires it), as Linux sends it for mDNS, then two padding bytes.
    const IGMP: [u8; 34] = [
        0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0x41, 0x6a, 0xc0, 0xa8, 0x01, 0x0a, 0xe0,
        0x00, 0x00, 0xfb, 0x94, 0x04, 0x00, 0x00, // header with Router Alert
        0x16, 0x00, 0x09, 0x04, 0xe0, 0x00, 0x00, 0xfb, // IGMP
        0x00, 0x00, // link padding
    ];

    #[test]
    fn options_are_skipped() {
        let p = Packet::new_checked(&IGMP[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.options(), &[0x94, 0x04, 0x00, 0x00]);
        assert_eq!(p.payload(), &IGMP[24..32]);
        assert_eq!((p.dscp(), p.ecn()), (48, 0));
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Repr {
                src: Ipv4Addr::new(192, 168, 1, 10),
                dst: Ipv4Addr::new(224, 0, 0, 251),
                protocol: 2, // IGMP
                payload_len: 8,
                ttl: 1,
                tos: 0xc0,
                ident: 0,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
            }
        );
    }

    #[test]
    fn ip_rcv_error_order() {
        let check = |b: &[u8]| Packet::new_checked(b).map(|_| ());
        assert_eq!(check(&IGMP[..19]), Err(WireError::Malformed)); // pskb_may_pull(20)
        assert_eq!(check(&IGMP[..22]), Err(WireError::Malformed)); // pskb_may_pull(ihl*4)
        let mut b = IGMP;
        b[0] = 0x66;
        assert_eq!(check(&b), Err(WireError::Malformed)); // version
        b[0] = 0x44;
        assert_eq!(check(&b), Err(WireError::Malformed)); // IHL < 5
                                                          // Truncated: shorter than Total Length with a good checksum.
        assert_eq!(check(&IGMP[..31]), Err(WireError::Truncated));
        // Total Length below IHL*4 with a good checksum.
        let mut b = IGMP;
        b[3] = 0x14;
        Packet::new_unchecked(&mut b[..]).fill_checksum();
        assert_eq!(check(&b), Err(WireError::Malformed));
        // The checksum is checked before either Total Length test.
        b[8] = 2;
        assert_eq!(check(&b), Err(WireError::Checksum));
        let mut b = IGMP;
        b[8] = 2;
        assert_eq!(check(&b[..31]), Err(WireError::Checksum));
        assert_eq!(check(&b), Ok(()));
        assert_eq!(Repr::parse(&Packet::new_checked(&b[..]).unwrap()), Err(WireError::Checksum));
    }

    #[test]
    fn fragment_fields_and_round_trip() {
        let r = Repr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: ip_proto::UDP,
            payload_len: 976,
            ttl: 64,
            tos: 0x02,
            ident: 0xbeef,
            dont_frag: false,
            more_frags: true,
            frag_offset: 1952,
        };
        let mut buf = [0u8; 996];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        r.emit(&mut p);
        p.payload_mut().fill(0x5a);
        assert_eq!(p.frag_offset_units(), 244);
        assert_eq!(p.flags_frag_off(), IP_MF | 244);
        p.set_dscp(46);
        assert_eq!(p.tos(), 0xba);
        p.set_ecn(3);
        assert_eq!((p.dscp(), p.ecn()), (46, 3));
        p.set_tos(0x02);
        p.fill_checksum();
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(Repr::parse(&p).unwrap(), r);
        assert_eq!(p.payload().len(), 976);
        assert_eq!(p.options(), &[] as &[u8]);
    }

    #[test]
    fn quoted_header() {
        // An ICMP error quotes IHL*4 + 8 bytes or more; Total Length says more.
        let q = Packet::new_quoted(&IGMP[..28]).unwrap();
        assert_eq!((q.protocol(), q.payload()), (2, &IGMP[24..28]));
        assert_eq!(Packet::new_quoted(&IGMP[..22]).map(|_| ()), Err(WireError::Truncated));
        assert_eq!(Packet::new_checked(&IGMP[..28]).map(|_| ()), Err(WireError::Truncated));
    }

    #[test]
    fn prefixes_and_noise_never_panic() {
        for n in 0..=IGMP.len() {
            let r = Packet::new_checked(&IGMP[..n]).and_then(|p| Repr::parse(&p));
            assert_eq!(r.is_ok(), n >= 32);
        }
        let mut x = 0xd1b5_4a32_d192_ed03u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 80];
        let mut parsed = 0;
        for i in 0..6000 {
            let n = (next() % 81) as usize;
            buf.iter_mut().for_each(|b| *b = next() as u8);
            if i % 2 == 1 {
                // A valid header of random IHL and length, then one random byte changed,
                // so that the later checks are reached.
                buf[0] = 0x45 + (next() % 11) as u8;
                buf[2] = 0;
                buf[3] = (next() % 81) as u8;
                Packet::new_unchecked(&mut buf[..]).fill_checksum();
                if i % 4 == 1 {
                    buf[(next() % 80) as usize] = next() as u8;
                }
            }
            for p in [Packet::new_checked(&buf[..n]), Packet::new_quoted(&buf[..n])].into_iter().flatten() {
                let _ = (p.version(), p.flags_frag_off(), p.frag_offset(), p.src_addr(), p.dst_addr());
                let _ = (p.options().len(), p.payload().len(), p.verify_checksum());
            }
            let Ok(p) = Packet::new_checked(&buf[..n]) else { continue };
            assert_eq!(p.payload().len() + p.header_len(), usize::from(p.total_len()));
            if let Ok(r) = Repr::parse(&p) {
                parsed += 1;
                let mut out = [0u8; 80];
                r.emit(&mut Packet::new_unchecked(&mut out[..]));
                let o = Packet::new_checked(&out[..r.buffer_len()]).unwrap();
                assert_eq!(Repr::parse(&o), Ok(r));
            }
        }
        assert!(parsed > 200, "only {parsed} parsed");
    }
}
