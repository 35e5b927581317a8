//! What a neighbour table is keyed by and what it queues: the L3 address types of ARP and
//! ND (`tbl->key_len`, the constructors' multicast/broadcast mapping, iproute2's address
//! text), the packet interface `__neigh_event_send` and the solicit functions read, and the
//! constructor's verdict for a new entry.

#![warn(missing_docs)]

use ::core::fmt;
use alloc::string::{String, ToString};

use crate::net::wire::{EthernetAddress, Ipv4Addr, Ipv6Addr};

/// An L3 address a table is keyed by: [`Ipv4Addr`] for ARP, [`Ipv6Addr`] for ND.
pub trait NeighKey: Copy + Ord + fmt::Debug {
    /// `tbl->key_len`.
    const KEY_LEN: usize;
    /// The key from the first `KEY_LEN` bytes of an `NDA_DST` attribute.
    fn from_key_bytes(b: &[u8]) -> Option<Self>;
    /// The key's bytes, left-aligned in 16 (for prefix matching).
    fn key_bytes(&self) -> [u8; 16];
    /// `arp_constructor`/`ndisc_constructor` for a device with header ops: the hardware
    /// address the key maps to without resolution (multicast, and for IPv4 the limited
    /// broadcast and zero-net addresses `inet_addr_type` calls `RTN_BROADCAST`).
    fn noarp_lladdr(&self) -> Option<EthernetAddress>;
    /// The address as iproute2's `format_host` prints it (`inet_ntop`).
    fn format_host(&self) -> String;
}

impl NeighKey for Ipv4Addr {
    const KEY_LEN: usize = 4;
    fn from_key_bytes(b: &[u8]) -> Option<Self> {
        let o: [u8; 4] = b.get(..4)?.try_into().ok()?;
        Some(Ipv4Addr::from(o))
    }
    fn key_bytes(&self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..4].copy_from_slice(&self.octets());
        b
    }
    fn noarp_lladdr(&self) -> Option<EthernetAddress> {
        if self.is_multicast() {
            Some(EthernetAddress::from_ipv4_multicast(self))
        } else if self.is_broadcast() || self.octets()[0] == 0 {
            Some(EthernetAddress::BROADCAST)
        } else {
            None
        }
    }
    fn format_host(&self) -> String {
        self.to_string()
    }
}

impl NeighKey for Ipv6Addr {
    const KEY_LEN: usize = 16;
    fn from_key_bytes(b: &[u8]) -> Option<Self> {
        let o: [u8; 16] = b.get(..16)?.try_into().ok()?;
        Some(Ipv6Addr::from(o))
    }
    fn key_bytes(&self) -> [u8; 16] {
        self.octets()
    }
    fn noarp_lladdr(&self) -> Option<EthernetAddress> {
        self.is_multicast().then(|| EthernetAddress::from_ipv6_multicast(self))
    }
    fn format_host(&self) -> String {
        super::neigh_rtnl::inet6_ntop(self)
    }
}

/// A packet the table can queue: what `__neigh_event_send` and the solicit functions read.
pub trait NeighPacket<A> {
    /// `skb->truesize`, charged against `unres_qlen_bytes`.
    fn truesize(&self) -> usize;
    /// The packet's L3 source: `arp_solicit`/`ndisc_solicit` use it as the probe's source
    /// when it is an address of the device.
    fn source(&self) -> Option<A>;
}

/// The constructor's verdict for a new entry (`tbl->constructor`), made by the caller
/// from the device and address type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighInit {
    /// Resolve normally (starts `NUD_NONE`).
    Resolve,
    /// `NUD_NOARP` with this hardware address.
    NoArp(EthernetAddress),
    /// The constructor fails with `EINVAL` (no `in_device`/`inet6_dev`).
    NoInetDev,
}

impl NeighInit {
    /// The verdict for `addr` on an ordinary Ethernet device.
    pub fn for_key<A: NeighKey>(addr: &A) -> NeighInit {
        addr.noarp_lladdr().map_or(NeighInit::Resolve, NeighInit::NoArp)
    }
}
