//! Wire formats, in smoltcp's shape: for each protocol a `Packet<T: AsRef<[u8]>>` view
//! whose `new_checked` validates every length once at the edge, so its accessors never
//! index out of bounds, and a `Repr` that parses a checked packet into plain values and
//! emits them back into a buffer. No allocation on these paths; nothing here panics on
//! bytes a packet controls.
//!
//! Addresses are `core::net`'s [`Ipv4Addr`] and [`Ipv6Addr`] plus [`EthernetAddress`].

#![warn(missing_docs)]

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6_ext;
pub mod mpls;
pub mod ndisc;
pub mod udp;

pub use core::net::{Ipv4Addr, Ipv6Addr};

use core::fmt;

/// Why a buffer is not a well-formed packet of the protocol asked for. Linux counts these
/// in its MIB counters (`InHdrErrors`, `InTruncatedPkts`, …); the stack maps each to the
/// counter Linux bumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Shorter than the protocol's header, or than a length field inside it says.
    Truncated,
    /// A field has a value the protocol forbids (version, header length, option layout).
    Malformed,
    /// The checksum does not verify.
    Checksum,
}

/// `Result` of the wire layer.
pub type Result<T> = core::result::Result<T, WireError>;

/// A 48-bit IEEE 802 MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// The address from the first six bytes of `b`, or `None` if `b` is shorter.
    pub fn from_bytes(b: &[u8]) -> Option<EthernetAddress> {
        Some(EthernetAddress(b.get(..6)?.try_into().ok()?))
    }

    /// The six bytes in wire order.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// Group bit (I/G, the low bit of the first byte): multicast or broadcast.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// ff:ff:ff:ff:ff:ff.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// A unicast address (I/G bit clear).
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// The multicast MAC an IPv6 multicast address maps to: 33:33 and its low 32 bits
    /// (RFC 2464 §7, Linux `ipv6_eth_mc_map`).
    pub fn from_ipv6_multicast(a: &Ipv6Addr) -> EthernetAddress {
        let o = a.octets();
        EthernetAddress([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// The multicast MAC an IPv4 multicast address maps to: 01:00:5e and its low 23 bits
    /// (RFC 1112 §6.4, Linux `ip_eth_mc_map`).
    pub fn from_ipv4_multicast(a: &Ipv4Addr) -> EthernetAddress {
        let o = a.octets();
        EthernetAddress([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }
}

impl fmt::Display for EthernetAddress {
    /// Lower-case, colon-separated, as iproute2 prints `link/ether`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

/// IP protocol numbers (IANA; `IPPROTO_*` in `<linux/in.h>`, `NEXTHDR_*` in `net/ipv6.h`)
/// that k43's stack names.
pub mod ip_proto {
    /// IPv6 Hop-by-Hop Options (`NEXTHDR_HOP`).
    pub const HOPOPTS: u8 = 0;
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// IPv4 in IP (`IPPROTO_IPIP`).
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 in IP (`IPPROTO_IPV6`, `NEXTHDR_IPV6`).
    pub const IPV6: u8 = 41;
    /// IPv6 Routing header (`NEXTHDR_ROUTING`).
    pub const ROUTING: u8 = 43;
    /// IPv6 Fragment header (`NEXTHDR_FRAGMENT`).
    pub const FRAGMENT: u8 = 44;
    /// GRE.
    pub const GRE: u8 = 47;
    /// Encapsulating Security Payload (`NEXTHDR_ESP`).
    pub const ESP: u8 = 50;
    /// Authentication Header (`NEXTHDR_AUTH`).
    pub const AH: u8 = 51;
    /// ICMP for IPv6 (`NEXTHDR_ICMP`).
    pub const ICMPV6: u8 = 58;
    /// No Next Header (`NEXTHDR_NONE`).
    pub const NONE: u8 = 59;
    /// IPv6 Destination Options (`NEXTHDR_DEST`).
    pub const DSTOPTS: u8 = 60;
    /// MPLS in IP (RFC 4023, `IPPROTO_MPLS`).
    pub const MPLS: u8 = 137;
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn multicast_macs() {
        let a: Ipv6Addr = "ff02::1:ff00:1234".parse().unwrap();
        assert_eq!(EthernetAddress::from_ipv6_multicast(&a).0, [0x33, 0x33, 0xff, 0x00, 0x12, 0x34]);
        let b: Ipv4Addr = "224.129.2.3".parse().unwrap();
        assert_eq!(EthernetAddress::from_ipv4_multicast(&b).0, [0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]);
        assert!(EthernetAddress::BROADCAST.is_broadcast() && EthernetAddress::BROADCAST.is_multicast());
        assert_eq!(EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]).to_string(), "52:54:00:12:34:56");
    }
}
