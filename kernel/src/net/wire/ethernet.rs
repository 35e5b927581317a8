//! Ethernet II frames (IEEE 802.3 with a type field): destination, source, EtherType,
//! then the payload. The FCS is stripped by the device and never reaches this layer,
//! as with Linux's `eth_type_trans`.
//!
//! 802.1Q tags are not parsed: a tagged frame reads as EtherType [`EtherType::VLAN`] and
//! the stack, which has no VLAN devices, drops it.

use super::{EthernetAddress, Result, WireError};

/// An EtherType (IEEE 802 numbers, `ETH_P_*` in `<linux/if_ether.h>`). A newtype rather
/// than an enum so that an unknown type survives parse and emit unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EtherType(pub u16);

impl EtherType {
    /// IPv4 (`ETH_P_IP`).
    pub const IPV4: EtherType = EtherType(0x0800);
    /// ARP (`ETH_P_ARP`).
    pub const ARP: EtherType = EtherType(0x0806);
    /// IPv6 (`ETH_P_IPV6`).
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// An 802.1Q VLAN tag (`ETH_P_8021Q`); recognised, not parsed.
    pub const VLAN: EtherType = EtherType(0x8100);
    /// MPLS unicast (`ETH_P_MPLS_UC`, RFC 3032 §5).
    pub const MPLS_UC: EtherType = EtherType(0x8847);
    /// MPLS multicast (`ETH_P_MPLS_MC`, RFC 5332).
    pub const MPLS_MC: EtherType = EtherType(0x8848);
}

impl From<u16> for EtherType {
    fn from(v: u16) -> EtherType {
        EtherType(v)
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        t.0
    }
}

mod field {
    use core::ops::{Range, RangeFrom};
    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const PAYLOAD: RangeFrom<usize> = 14..;
}

/// Length of the Ethernet II header (`ETH_HLEN`).
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// A read/write view of an Ethernet II frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
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

    /// `Truncated` unless the buffer holds the 14-byte header (`eth_type_trans` is only
    /// called on frames the driver has already sized to at least `ETH_HLEN`).
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(WireError::Truncated)
        } else {
            Ok(())
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination MAC.
    pub fn dst_addr(&self) -> EthernetAddress {
        let mut a = [0u8; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST]);
        EthernetAddress(a)
    }

    /// Source MAC.
    pub fn src_addr(&self) -> EthernetAddress {
        let mut a = [0u8; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC]);
        EthernetAddress(a)
    }

    /// The EtherType field.
    pub fn ethertype(&self) -> EtherType {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Everything after the header, link padding included: the network layer trims it
    /// (IPv4 to Total Length, IPv6 to Payload Length), as Linux's `ip_rcv` does.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the destination MAC.
    pub fn set_dst_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::DST].copy_from_slice(a.as_bytes());
    }

    /// Sets the source MAC.
    pub fn set_src_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(a.as_bytes());
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&t.0.to_be_bytes());
    }

    /// Everything after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// An Ethernet II header as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source MAC.
    pub src: EthernetAddress,
    /// Destination MAC.
    pub dst: EthernetAddress,
    /// EtherType.
    pub ethertype: EtherType,
}

impl Repr {
    /// The header of a checked frame. Never fails: every 14 bytes are an Ethernet header;
    /// whether the frame is for us is the stack's question (`eth_type_trans`).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr { src: packet.src_addr(), dst: packet.dst_addr(), ethertype: packet.ethertype() })
    }

    /// The header's length.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Length of a frame carrying `payload_len` bytes. No padding to the 60-byte minimum:
    /// virtual links do not pad (spec §10.5: ARP frames are 42 bytes there).
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Writes the header into the first 14 bytes of `packet`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_dst_addr(self.dst);
        packet.set_src_addr(self.src);
        packet.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// An ARP request as captured on a cable modem segment (Wireshark's `arp-storm`),
    /// padded to the 60-byte Ethernet minimum.
    const ARP_FRAME: [u8; 60] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x08, 0x06, // Ethernet
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x18, 0xa6, 0xac,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0xa6, 0xad, 0x9f, // ARP
        0x06, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x03, 0x02, 0x00, 0x00, 0x05, 0x01, 0x03,
        0x01, // padding
    ];

    #[test]
    fn parse_real_frame() {
        let p = Packet::new_checked(&ARP_FRAME[..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.dst, EthernetAddress::BROADCAST);
        assert_eq!(r.src, EthernetAddress([0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54]));
        assert_eq!(r.ethertype, EtherType::ARP);
        assert_eq!(p.payload().len(), 46);
        assert_eq!(&p.payload()[..4], &[0x00, 0x01, 0x08, 0x00]);
    }

    #[test]
    fn round_trip_and_unknown_type() {
        let r = Repr {
            src: EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            dst: EthernetAddress([0x33, 0x33, 0, 0, 0, 1]),
            ethertype: EtherType(0x88b5),
        };
        let mut buf = vec![0u8; r.buffer_len(4)];
        let mut p = Packet::new_unchecked(&mut buf[..]);
        r.emit(&mut p);
        p.payload_mut().copy_from_slice(b"abcd");
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), r);
        assert_eq!(p.payload(), b"abcd");
        assert_eq!(u16::from(EtherType::IPV6), 0x86dd);
        assert!(matches!(EtherType::from(0x8847), EtherType::MPLS_UC));
    }

    #[test]
    fn short_buffers_and_noise_never_panic() {
        for n in 0..ARP_FRAME.len() {
            let r = Packet::new_checked(&ARP_FRAME[..n]).and_then(|p| Repr::parse(&p));
            assert_eq!(r.is_ok(), n >= HEADER_LEN);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 32];
        for _ in 0..4000 {
            let n = (next() % 33) as usize;
            buf.iter_mut().for_each(|b| *b = next() as u8);
            if let Ok(p) = Packet::new_checked(&buf[..n]) {
                let r = Repr::parse(&p).unwrap();
                assert_eq!(p.payload().len(), n - HEADER_LEN);
                assert_eq!(r.ethertype, p.ethertype());
            }
        }
    }
}
