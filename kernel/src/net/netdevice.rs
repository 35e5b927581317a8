//! Network devices (`struct net_device`, `include/linux/netdevice.h`): the loopback
//! device and one Ethernet device per NIC the platform reports, with their flags,
//! addresses and counters.
//!
//! Linux creates `lo` at boot (ifindex 1) and each driver's device after it, all down:
//! user space (`ip link set … up`) brings them up. k43 does the same.

use crate::net::wire::{EthernetAddress, Ipv4Addr};
use alloc::string::String;
use alloc::vec::Vec;

/// `IFF_UP`: administratively up.
pub const IFF_UP: u32 = 0x1;
/// `IFF_BROADCAST`: the link has a broadcast address.
pub const IFF_BROADCAST: u32 = 0x2;
/// `IFF_LOOPBACK`.
pub const IFF_LOOPBACK: u32 = 0x8;
/// `IFF_RUNNING`: operationally up (`netif_running` and carrier).
pub const IFF_RUNNING: u32 = 0x40;
/// `IFF_NOARP`: no neighbour resolution on this link.
pub const IFF_NOARP: u32 = 0x80;
/// `IFF_MULTICAST`.
pub const IFF_MULTICAST: u32 = 0x1000;
/// `IFF_LOWER_UP`: the driver signals carrier.
pub const IFF_LOWER_UP: u32 = 0x1_0000;

/// `ETH_DATA_LEN`: the Ethernet MTU.
pub const ETH_DATA_LEN: u32 = 1500;
/// The loopback MTU of 4.3 (`loopback_setup`: 64 KiB; 4.3 predates the later change to
/// `LOOPBACK_MTU` 65536 + headroom — both are 65536 in 4.3).
pub const LOOPBACK_MTU: u32 = 65536;

/// What sits under a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevKind {
    /// `lo`: what it transmits it receives.
    Loopback,
    /// An Ethernet device on the platform's NIC number `nic`.
    Ether {
        /// The HAL's NIC number.
        nic: u32,
    },
}

/// `struct rtnl_link_stats64`'s basic counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DevStats {
    /// Frames received and handed to the protocols.
    pub rx_packets: u64,
    /// Their bytes (link header included).
    pub rx_bytes: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Their bytes.
    pub tx_bytes: u64,
    /// Frames dropped on receive (device down, unknown EtherType).
    pub rx_dropped: u64,
    /// Frames dropped on transmit (device down, queue full).
    pub tx_dropped: u64,
    /// Frames too short for a link header (`rx_length_errors`, the "frame" column).
    pub rx_length_errors: u64,
}

/// An IPv4 address on a device (`struct in_ifaddr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InIfAddr {
    /// `ifa_local`.
    pub local: Ipv4Addr,
    /// `ifa_prefixlen`.
    pub prefixlen: u8,
    /// `ifa_broadcast` (unspecified when not set).
    pub broadcast: Ipv4Addr,
    /// `ifa_scope` (`RT_SCOPE_UNIVERSE` 0, `RT_SCOPE_LINK` 253, `RT_SCOPE_HOST` 254).
    pub scope: u8,
    /// `ifa_flags` (`IFA_F_SECONDARY`, `IFA_F_PERMANENT`).
    pub flags: u32,
}

impl InIfAddr {
    /// `ifa_mask` as a host-order integer (`inet_make_mask`).
    pub fn mask(&self) -> u32 {
        match self.prefixlen {
            0 => 0,
            p => u32::MAX << (32 - u32::from(p.min(32))),
        }
    }

    /// `inet_ifa_match`: `a` is in this address's subnet.
    pub fn matches(&self, a: &Ipv4Addr) -> bool {
        (u32::from(*a) ^ u32::from(self.local)) & self.mask() == 0
    }

    /// Not a secondary address (`for_primary_ifa`).
    pub fn is_primary(&self) -> bool {
        self.flags & IFA_F_SECONDARY == 0
    }
}

/// `IFA_F_SECONDARY`: another address of the same subnet came first.
pub const IFA_F_SECONDARY: u32 = 0x01;
/// `IFA_F_PERMANENT`: no lifetime (`set_ifa_lifetime` with infinite times).
pub const IFA_F_PERMANENT: u32 = 0x80;

/// One network device.
#[derive(Clone, Debug)]
pub struct NetDevice {
    /// `dev->ifindex`.
    pub ifindex: u32,
    /// `dev->name` (`lo`, `eth0`, …).
    pub name: String,
    /// Loopback or Ethernet.
    pub kind: DevKind,
    /// `dev->dev_addr` (all zero for `lo`).
    pub mac: EthernetAddress,
    /// `dev->mtu`.
    pub mtu: u32,
    /// `IFF_*`.
    pub flags: u32,
    /// IPv4 addresses, in the order added (the first is the primary). IPv6 addresses
    /// live in the device's `Inet6Dev` (`net::core::addrconf`).
    pub addrs4: Vec<InIfAddr>,
    /// Counters.
    pub stats: DevStats,
    /// `dev->tx_queue_len`: 0 for `lo` (`loopback_setup`), 1000 for Ethernet
    /// (`ether_setup`); it decides the default qdisc and `ip link`'s `qlen`.
    pub tx_queue_len: u32,
    /// The root qdisc's name (`dev->qdisc->ops->id`): `noop` until the device is first
    /// opened, then what `attach_default_qdiscs` picked — `noqueue` for a device without
    /// a queue, `pfifo_fast` otherwise. A closed device keeps it (`dev_deactivate` only
    /// parks the queues), so `ip link` shows it on a device that is down again.
    pub qdisc: &'static str,
    /// `dev->ip_ptr` is set: the device has its IPv4 state (`in_device`). Created with the
    /// device (`NETDEV_REGISTER`); an MTU below 68 destroys it with every address and an
    /// MTU of 68 or more creates it again, empty (`inetdev_event`).
    pub in_dev: bool,
}

impl NetDevice {
    /// `lo`, down, as `loopback_net_init` registers it.
    pub fn loopback() -> NetDevice {
        NetDevice {
            ifindex: 1,
            name: "lo".into(),
            kind: DevKind::Loopback,
            mac: EthernetAddress::default(),
            mtu: LOOPBACK_MTU,
            flags: IFF_LOOPBACK,
            addrs4: Vec::new(),
            stats: DevStats::default(),
            tx_queue_len: 0,
            qdisc: "noop",
            in_dev: true,
        }
    }

    /// `eth<nic>`, down, as `alloc_etherdev` + `register_netdev` leave it.
    pub fn ethernet(ifindex: u32, nic: u32, mac: [u8; 6]) -> NetDevice {
        NetDevice {
            ifindex,
            name: alloc::format!("eth{nic}"),
            kind: DevKind::Ether { nic },
            mac: EthernetAddress(mac),
            mtu: ETH_DATA_LEN,
            flags: IFF_BROADCAST | IFF_MULTICAST,
            addrs4: Vec::new(),
            stats: DevStats::default(),
            tx_queue_len: 1000,
            qdisc: "noop",
            in_dev: true,
        }
    }

    /// `netif_running` and carrier: frames flow.
    pub fn is_up(&self) -> bool {
        self.flags & IFF_UP != 0
    }

    /// The loopback device.
    pub fn is_loopback(&self) -> bool {
        self.kind == DevKind::Loopback
    }

    /// Whether `a` is one of this device's IPv4 addresses.
    pub fn has_addr4(&self, a: &Ipv4Addr) -> bool {
        self.addrs4.iter().any(|x| x.local == *a)
    }
}
