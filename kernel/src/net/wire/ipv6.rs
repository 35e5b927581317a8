//! The IPv6 fixed header (RFC 8200 §3) and the address helpers the stack needs.
//!
//! [`Packet::new_checked`] performs the length and version checks of Linux `ipv6_rcv`;
//! the address checks that sit between them in Linux (steps 5-8 of spec §3.1) need the
//! receiving device and stay with the stack, which can therefore run the two halves
//! separately: [`Packet::check_header`] first, then [`Packet::check_payload_len`].
//!
//! `core::net::Ipv6Addr` already has `is_multicast`, `is_unspecified` and `is_loopback`,
//! and they are exactly Linux's `ipv6_addr_is_multicast`, `ipv6_addr_any` and
//! `ipv6_addr_loopback`; [`Ipv6AddrExt`] adds the ones it lacks.

use super::{ip_proto, EthernetAddress, Ipv6Addr, Result, WireError};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;
/// The minimum link MTU every IPv6 link must carry (`IPV6_MIN_MTU`, RFC 8200 §5).
pub const MIN_MTU: usize = 1280;
/// Default hop limit of packets the node originates (`IPV6_DEFAULT_HOPLIMIT`).
pub const DEFAULT_HOP_LIMIT: u8 = 64;
/// Largest payload length the 16-bit field holds (`IPV6_MAXPLEN`).
pub const MAX_PAYLOAD_LEN: usize = 65535;

/// All-nodes link-local multicast, ff02::1.
pub const LINK_LOCAL_ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// All-routers link-local multicast, ff02::2.
pub const LINK_LOCAL_ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// Multicast scope values (RFC 4291 §2.7, Linux `IPV6_ADDR_SCOPE_*`).
pub mod scope {
    /// 0: reserved; Linux drops packets to it (`ipv6_rcv`).
    pub const RESERVED: u8 = 0;
    /// 1: interface-local; Linux drops such a destination arriving from the wire.
    pub const INTERFACE_LOCAL: u8 = 1;
    /// 2: link-local.
    pub const LINK_LOCAL: u8 = 2;
    /// 5: site-local.
    pub const SITE_LOCAL: u8 = 5;
    /// 8: organization-local.
    pub const ORG_LOCAL: u8 = 8;
    /// 14: global.
    pub const GLOBAL: u8 = 14;
}

mod field {
    use core::ops::Range;
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

fn addr_at(b: &[u8], r: core::ops::Range<usize>) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[r]);
    Ipv6Addr::from(o)
}

/// A view of a buffer as an IPv6 packet: fixed header, then `payload_len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len); every accessor is then total.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The first half of `ipv6_rcv`: 40 bytes present (`Truncated`, which Linux counts as
    /// `InHdrErrors`), version 6 (`Malformed`, also `InHdrErrors`; no ICMP either way).
    pub fn check_header(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(WireError::Malformed);
        }
        Ok(())
    }

    /// The second half: the buffer holds `payload_len` bytes after the header, else
    /// `Truncated` (Linux `InTruncatedPkts`). Bytes past that are link padding that
    /// [`payload`](Packet::payload) leaves out, as `ipv6_rcv` trims them.
    ///
    /// Payload length 0 with next header Hop-by-Hop may be a jumbogram (RFC 2675) whose
    /// length only the HBH Jumbo option gives, so Linux skips the check then; with any
    /// other next header 0 means an empty payload.
    pub fn check_payload_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < self.total_len() {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// [`check_header`](Self::check_header) then [`check_payload_len`](Self::check_payload_len).
    pub fn check_len(&self) -> Result<()> {
        self.check_header()?;
        self.check_payload_len()
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word0(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::VER_TC_FLOW];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The version nibble (6 on a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// Traffic class: DSCP in the high six bits, ECN in the low two.
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    /// The 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }

    /// The Payload Length field: bytes after the fixed header, extension headers included.
    pub fn payload_len(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::PAYLOAD_LEN];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// The Next Header field.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// The Hop Limit field.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// The source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::SRC)
    }

    /// The destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::DST)
    }

    /// Payload length 0 behind a Hop-by-Hop header: possibly a jumbogram, whose payload
    /// then runs to the end of the buffer until the Jumbo option says otherwise.
    pub fn is_jumbo_candidate(&self) -> bool {
        self.payload_len() == 0 && self.next_header() == ip_proto::HOPOPTS
    }

    /// Header plus payload: what `ipv6_rcv` trims the frame to. For a jumbo candidate,
    /// the whole buffer.
    pub fn total_len(&self) -> usize {
        if self.is_jumbo_candidate() {
            self.buffer.as_ref().len().max(HEADER_LEN)
        } else {
            HEADER_LEN + usize::from(self.payload_len())
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload, link padding excluded.
    pub fn payload(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer.as_ref();
        &b[HEADER_LEN..self.total_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_word0(&mut self, w: u32) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&w.to_be_bytes());
    }

    /// Sets the version nibble.
    pub fn set_version(&mut self, v: u8) {
        let w = (self.word0() & 0x0fff_ffff) | (u32::from(v & 0xf) << 28);
        self.set_word0(w);
    }

    /// Sets the traffic class.
    pub fn set_traffic_class(&mut self, tc: u8) {
        let w = (self.word0() & 0xf00f_ffff) | (u32::from(tc) << 20);
        self.set_word0(w);
    }

    /// Sets the flow label (its low 20 bits).
    pub fn set_flow_label(&mut self, fl: u32) {
        let w = (self.word0() & 0xfff0_0000) | (fl & 0x000f_ffff);
        self.set_word0(w);
    }

    /// Sets the Payload Length field.
    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::PAYLOAD_LEN].copy_from_slice(&len.to_be_bytes());
    }

    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh;
    }

    /// Sets the Hop Limit field.
    pub fn set_hop_limit(&mut self, hl: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hl;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: &Ipv6Addr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: &Ipv6Addr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.octets());
    }

    /// The payload, mutable (bounded as [`Packet::payload`]).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.total_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fixed header as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next Header.
    pub next_header: u8,
    /// Payload length; [`emit`](Repr::emit) writes 0 when it exceeds 65535, the
    /// jumbogram convention of RFC 2675.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
}

impl Repr {
    /// Parses a packet, checking it as [`Packet::check_len`] does.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Bytes of the fixed header.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Bytes of header plus payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the fixed header (the payload is the caller's); `packet` must hold 40 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_word0(0x6000_0000);
        packet.set_traffic_class(self.traffic_class);
        packet.set_flow_label(self.flow_label);
        packet.set_payload_len(u16::try_from(self.payload_len).unwrap_or(0));
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(&self.src_addr);
        packet.set_dst_addr(&self.dst_addr);
    }
}

/// The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A, Linux
/// `addrconf_ifid_eui48` with `dev_id` 0): ff:fe inserted in the middle, U/L bit flipped.
pub fn eui64_from_mac(mac: &EthernetAddress) -> [u8; 8] {
    let m = mac.0;
    [m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]
}

/// fe80::/64 with the EUI-64 interface identifier of `mac`: the link-local address
/// addrconf gives an Ethernet device.
pub fn link_local_from_mac(mac: &EthernetAddress) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o[0] = 0xfe;
    o[1] = 0x80;
    o[8..].copy_from_slice(&eui64_from_mac(mac));
    Ipv6Addr::from(o)
}

/// Address predicates and constructions `core::net::Ipv6Addr` lacks, named after and
/// matching Linux's `ipv6_addr_*` helpers.
pub trait Ipv6AddrExt {
    /// The solicited-node multicast group of this address, ff02::1:ffXX:XXXX with its low
    /// 24 bits (RFC 4291 §2.7.1, Linux `addrconf_addr_solict_mult`).
    fn solicited_node(&self) -> Ipv6Addr;
    /// Whether this is some solicited-node group, ff02::1:ff00:0/104
    /// (`ipv6_addr_is_solict_mult`; a DAD NS must be sent to one, `ndisc_recv_ns`).
    fn is_solicited_node_multicast(&self) -> bool;
    /// Link-local unicast, fe80::/10 (`IPV6_ADDR_LINKLOCAL` in `__ipv6_addr_type`).
    fn is_link_local(&self) -> bool;
    /// The scope of a multicast address: the low 4 bits of byte 1
    /// (`IPV6_ADDR_MC_SCOPE`). Meaningless for a unicast address.
    fn mc_scope(&self) -> u8;
}

impl Ipv6AddrExt for Ipv6Addr {
    fn solicited_node(&self) -> Ipv6Addr {
        let o = self.octets();
        Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15]])
    }

    fn is_solicited_node_multicast(&self) -> bool {
        self.octets()[..13] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff]
    }

    fn is_link_local(&self) -> bool {
        let o = self.octets();
        o[0] == 0xfe && o[1] & 0xc0 == 0x80
    }

    fn mc_scope(&self) -> u8 {
        self.octets()[1] & 0x0f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Echo Request as Linux ping sent it (captured on a veth pair in a scratch
    /// network namespace): flow label 0xd6a52, hop limit 64, fe80::5054:ff:fe12:3456 to
    /// fe80::5054:ff:feab:cdef, 64 bytes of ICMPv6, plus 4 bytes of fake link padding.
    const PING6: [u8; 108] = [
        0x60, 0x0d, 0x6a, 0x52, 0x00, 0x40, 0x3a, 0x40, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe,
        0x12, 0x34, 0x56, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe, 0xab, 0xcd, 0xef, //
        0x80, 0x00, 0x06, 0x33, 0x6d, 0xe5, 0x00, 0x01, 0x79, 0x0c, 0x0c, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x26, 0x74,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
        0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d,
        0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0xaa, 0xaa, 0xaa, 0xaa,
    ];

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_ping6_header_and_trims_padding() {
        let p = Packet::new_checked(&PING6[..]).unwrap();
        assert_eq!((p.version(), p.traffic_class(), p.flow_label()), (6, 0, 0xd6a52));
        assert_eq!((p.payload_len(), p.next_header(), p.hop_limit()), (64, ip_proto::ICMPV6, 64));
        assert_eq!(p.src_addr(), a("fe80::5054:ff:fe12:3456"));
        assert_eq!(p.dst_addr(), a("fe80::5054:ff:feab:cdef"));
        assert_eq!(p.payload().len(), 64);
        assert_eq!(p.payload()[0], 0x80);
        let r = Repr::parse(&p).unwrap();
        let mut buf = [0u8; 40];
        r.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf[..], PING6[..40]);
        assert_eq!(r.buffer_len(), 104);
    }

    #[test]
    fn length_and_version_errors() {
        assert_eq!(Packet::new_checked(&PING6[..39]).unwrap_err(), WireError::Truncated);
        assert_eq!(Packet::new_checked(&PING6[..103]).unwrap_err(), WireError::Truncated);
        let mut v4 = PING6;
        v4[0] = 0x45;
        assert_eq!(Packet::new_checked(&v4[..]).unwrap_err(), WireError::Malformed);
        assert_eq!(Packet::new_unchecked(&v4[..]).version(), 4);
        // Payload length 0: empty payload, unless HBH follows (a jumbo candidate).
        let mut z = PING6;
        z[4] = 0;
        z[5] = 0;
        assert_eq!(Packet::new_checked(&z[..]).unwrap().payload().len(), 0);
        z[6] = ip_proto::HOPOPTS;
        assert_eq!(Packet::new_checked(&z[..]).unwrap().payload().len(), 68);
    }

    #[test]
    fn repr_round_trip_and_setters() {
        let r = Repr {
            src_addr: a("2001:db8::1"),
            dst_addr: a("ff02::1:ff00:2"),
            next_header: ip_proto::UDP,
            payload_len: 3,
            hop_limit: 255,
            traffic_class: 0xb8,
            flow_label: 0xabcde,
        };
        let mut buf = [0u8; 43];
        r.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..4], &[0x6b, 0x8a, 0xbc, 0xde]);
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), r);
        let mut p = Packet::new_unchecked(&mut buf[..]);
        p.set_version(6);
        p.payload_mut().copy_from_slice(b"abc");
        assert_eq!(Packet::new_checked(&buf[..]).unwrap().payload(), b"abc");
    }

    #[test]
    fn address_helpers() {
        let mac = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        let ll = link_local_from_mac(&mac);
        assert_eq!(ll, a("fe80::5054:ff:fe12:3456"));
        assert_eq!(eui64_from_mac(&mac), [0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56]);
        assert_eq!(ll.solicited_node(), a("ff02::1:ff12:3456"));
        assert!(ll.solicited_node().is_solicited_node_multicast());
        assert!(!a("ff02::1:fe12:3456").is_solicited_node_multicast());
        assert!(!LINK_LOCAL_ALL_NODES.is_solicited_node_multicast());
        assert!(ll.is_link_local() && a("febf::1").is_link_local());
        assert!(!a("fec0::1").is_link_local() && !a("ff02::1").is_link_local());
        assert_eq!(a("ff02::1").mc_scope(), scope::LINK_LOCAL);
        assert_eq!(a("ff01::1").mc_scope(), scope::INTERFACE_LOCAL);
        assert_eq!(a("ff1e::1").mc_scope(), scope::GLOBAL);
    }

    #[test]
    fn no_panic_on_prefixes_or_garbage() {
        for n in 0..=PING6.len() {
            if let Ok(p) = Packet::new_checked(&PING6[..n]) {
                let _ = (p.payload(), Repr::parse(&p).unwrap().buffer_len(), p.flow_label());
            }
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut buf = [0u8; 96];
        for i in 0..4000 {
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            buf[0] = 0x60 | (buf[0] & 0x0f);
            buf[4] = 0;
            let n = i % buf.len();
            if let Ok(p) = Packet::new_checked(&buf[..n]) {
                let _ = (p.payload(), p.src_addr(), p.total_len(), Repr::parse(&p));
            }
        }
    }
}
