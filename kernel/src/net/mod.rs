//! Networking (`net/`): wire formats, devices, the IPv4 and IPv6 stacks' receive and
//! transmit paths with ARP and neighbour discovery, ICMP and ICMPv6, routing tables,
//! fragment reassembly, MIB counters, and rtnetlink's handlers (`ip`'s side of the
//! kernel: routes, rules, links, addresses, neighbours).
//!
//! One network namespace per kernel ([`Net`]). Frames enter through
//! [`Kernel::netif_receive`] (a NIC's receive path) and run to completion, as Linux's
//! `NET_RX` softirq runs a frame through the protocols; what `lo` transmits is queued on
//! its backlog and received before the call returns. Timers (neighbour probes, DAD,
//! reassembly) run from [`Kernel::net_timers`].

pub mod af_inet;
pub mod cmsg;
pub mod core;
pub mod datagram;
pub mod dev;
pub mod fib;
pub mod inet_frag;
pub mod ipv4;
pub mod ipv6;
pub mod msghdr;
pub mod netdevice;
pub mod raw;
pub mod rtnetlink;
pub mod skbuff;
pub mod snmp;
pub mod socket;
pub mod sockopt;
pub mod udp;
pub mod wire;

use crate::hal::Hal;
use crate::net::core::addrconf::Inet6Dev;
use crate::net::core::inetpeer::InetPeerBase;
use crate::net::core::neighbour::NeighTable;
use crate::net::core::ratelimit::{IcmpGlobal, IcmpSysctl};
use crate::net::fib::{Fib4, Fib6};
use crate::net::skbuff::SkBuff;
use crate::net::snmp::{Ipv6DevStat, NetnsMib};
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use ::core::fmt::Write;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use netdevice::{DevKind, NetDevice};

/// Frames `lo` may hold before it drops (`netdev_max_backlog`, 1000).
pub const NETDEV_MAX_BACKLOG: usize = 1000;

/// The network namespace (`struct net`): k43 has one per kernel.
#[derive(Debug)]
pub struct Net {
    /// Devices by ifindex.
    pub devices: BTreeMap<u32, NetDevice>,
    /// Each device's IPv6 state (`struct inet6_dev`): addresses, DAD, devconf.
    pub idev6: BTreeMap<u32, Inet6Dev>,
    /// Each device's IPv6 counters (`/proc/net/dev_snmp6/<dev>`).
    pub dev_snmp6: BTreeMap<u32, Ipv6DevStat>,
    /// The namespace's SNMP counters.
    pub mib: NetnsMib,
    /// IPv4 routing tables and rules.
    pub fib4: Fib4,
    /// IPv6 routing tables and rules.
    pub fib6: Fib6,
    /// The neighbour discovery table.
    pub nd: NeighTable<Ipv6Addr, SkBuff>,
    /// The ARP table (`arp_tbl`).
    pub arp: NeighTable<Ipv4Addr, SkBuff>,
    /// IPv4 sysctls the stack reads (`icmp_echo_ignore_*`, …; `net.ipv4.ip_forward` is
    /// in the sysctl tree).
    pub ipv4: ipv4::Ipv4Sysctl,
    /// Per-destination ICMPv4 rate-limit state and `ip_error`'s per-source buckets
    /// (`net->ipv4.peers`), keyed by (address, VRF master).
    pub peers4: InetPeerBase<(Ipv4Addr, u32)>,
    /// IPv4 fragment reassembly queues.
    pub frags4: ipv4::ip_fragment::IpFrags,
    /// The IPv4 Identification generator (`ip_idents`).
    pub ip_idents: ipv4::ip_output::IpIdents,
    /// `icmp_global`, shared by ICMPv4 and ICMPv6.
    pub icmp_global: IcmpGlobal,
    /// `net.ipv4.icmp_*` rate-limit sysctls.
    pub icmp_sysctl: IcmpSysctl,
    /// Per-destination ICMPv6 rate-limit state (`inet_peer`).
    pub peers6: InetPeerBase<Ipv6Addr>,
    /// IPv6 fragment reassembly queues.
    pub frags6: ipv6::reassembly::Ip6Frags,
    /// The secret of the automatic flow-label hash (`hashrnd`, drawn once).
    pub flow_secret: u32,
    /// Frames `lo` transmitted, waiting to be received (`softnet_data.input_pkt_queue`).
    pub backlog: VecDeque<SkBuff>,
    /// Whether the random secrets above were drawn (see [`Net::seed_once`]).
    pub seeded: bool,
    /// UDP and raw sockets of both families (`udp_table` and the raw hashes).
    pub socks: socket::SockTable,
    /// Path MTUs learnt for IPv4 destinations.
    pub pmtu4: core::pmtu::PmtuCache<Ipv4Addr>,
    /// Path MTUs learnt for IPv6 destinations.
    pub pmtu6: core::pmtu::PmtuCache<Ipv6Addr>,
}

impl<H: Hal> crate::kernel::Kernel<H> {
    /// The network namespace, read-only (for tests, fuzz targets and tools).
    pub fn net(&self) -> &Net {
        &self.net
    }
}

impl Net {
    /// `lo` and one Ethernet device per platform NIC, registered in that order and all
    /// down, as at the end of Linux's boot. No randomness is drawn yet: see
    /// [`Net::seed_once`].
    pub fn boot<H: Hal>(hal: &H) -> Net {
        let mut devices = BTreeMap::new();
        devices.insert(1, NetDevice::loopback());
        for nic in 0..hal.nic_count() {
            if let Some(mac) = hal.nic_mac(nic) {
                let ifindex = devices.len() as u32 + 1;
                devices.insert(ifindex, NetDevice::ethernet(ifindex, nic, mac));
            }
        }
        let mut idev6 = BTreeMap::new();
        let mut dev_snmp6 = BTreeMap::new();
        for d in devices.values() {
            idev6.insert(d.ifindex, Inet6Dev::new(d.mac, d.flags, false, 0));
            dev_snmp6.insert(d.ifindex, Ipv6DevStat::default());
        }
        Net {
            devices,
            idev6,
            dev_snmp6,
            mib: NetnsMib::new(),
            fib4: Fib4::new(),
            fib6: Fib6::new(),
            nd: NeighTable::nd(0, 0),
            arp: NeighTable::arp(0, 0),
            ipv4: ipv4::Ipv4Sysctl::new(),
            peers4: InetPeerBase::default(),
            frags4: ipv4::ip_fragment::IpFrags::new(0),
            ip_idents: ipv4::ip_output::IpIdents::new(0),
            icmp_global: IcmpGlobal::new(),
            icmp_sysctl: IcmpSysctl::new(),
            peers6: InetPeerBase::default(),
            frags6: ipv6::reassembly::Ip6Frags::new(0),
            flow_secret: 0,
            backlog: VecDeque::new(),
            seeded: false,
            socks: socket::SockTable::default(),
            pmtu4: Default::default(),
            pmtu6: Default::default(),
        }
    }

    /// Draws the stack's random secrets and seeds (neighbour tables' reachable-time
    /// randomisation, DAD delays, hash secrets) the first time a device comes up, as
    /// Linux's `net_get_random_once` draws on first use. Until then every table is empty,
    /// so rebuilding them loses nothing, and a run that never touches the network
    /// consumes no entropy for it (its seed replays the same execution as before).
    pub fn seed_once<H: Hal>(&mut self, hal: &H) {
        if self.seeded {
            return;
        }
        self.seeded = true;
        let now = hal.now_ns();
        self.nd = NeighTable::nd(now, hal.next_u64());
        self.frags6 = ipv6::reassembly::Ip6Frags::new(hal.next_u64() as u32);
        self.flow_secret = hal.next_u64() as u32;
        for d in self.devices.values() {
            self.idev6.insert(d.ifindex, Inet6Dev::new(d.mac, d.flags, false, hal.next_u64()));
        }
        // IPv4's secrets are drawn after IPv6's, so IPv6 sees the same draws as before
        // IPv4 was wired.
        self.arp = NeighTable::arp(now, hal.next_u64());
        self.frags4 = ipv4::ip_fragment::IpFrags::new(hal.next_u64() as u32);
        self.ip_idents = ipv4::ip_output::IpIdents::new(hal.next_u64());
    }

    /// The device on platform NIC `nic`.
    pub fn dev_by_nic(&self, nic: u32) -> Option<u32> {
        self.devices.values().find(|d| d.kind == DevKind::Ether { nic }).map(|d| d.ifindex)
    }

    /// The device named `name`.
    pub fn dev_by_name(&self, name: &str) -> Option<u32> {
        self.devices.values().find(|d| d.name == name).map(|d| d.ifindex)
    }

    /// A device's name, `if<N>` for one that does not exist (iproute2's fallback).
    pub fn dev_name(&self, ifindex: u32) -> String {
        match self.devices.get(&ifindex) {
            Some(d) => d.name.clone(),
            None => alloc::format!("if{ifindex}"),
        }
    }

    /// `/proc/net/dev` (`dev_seq_show`), devices in ifindex order.
    pub fn proc_net_dev(&self) -> String {
        let mut s = String::from(
            "Inter-|   Receive                                                |  Transmit\n \
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
        );
        for d in self.devices.values() {
            let st = &d.stats;
            let _ = writeln!(
                s,
                "{:>6}: {:7} {:7} {:4} {:4} {:4} {:5} {:10} {:9} {:8} {:7} {:4} {:4} {:4} {:5} {:7} {:10}",
                d.name,
                st.rx_bytes,
                st.rx_packets,
                st.rx_length_errors,
                st.rx_dropped,
                0,
                st.rx_length_errors,
                0,
                0,
                st.tx_bytes,
                st.tx_packets,
                0,
                st.tx_dropped,
                0,
                0,
                0,
                0
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_dev_columns() {
        let mut devices = BTreeMap::new();
        devices.insert(1, NetDevice::loopback());
        devices.insert(2, NetDevice::ethernet(2, 0, [2, 0, 0, 0, 0, 1]));
        devices.get_mut(&2).unwrap().stats = netdevice::DevStats { rx_bytes: 1234, rx_packets: 5, tx_bytes: 98, tx_packets: 1, rx_dropped: 2, ..Default::default() };
        let text = {
            let mut n = alloc::vec::Vec::new();
            for d in devices.values() {
                n.push(d.clone());
            }
            let net = Net { devices, ..test_net() };
            net.proc_net_dev()
        };
        let lines: alloc::vec::Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Inter-|   Receive                                                |  Transmit");
        assert_eq!(lines[1], " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed");
        assert_eq!(lines[2], "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0");
        assert_eq!(lines[3], "  eth0:    1234       5    0    2    0     0          0         0       98       1    0    0    0     0       0          0");
    }

    fn test_net() -> Net {
        Net {
            devices: BTreeMap::new(),
            idev6: BTreeMap::new(),
            dev_snmp6: BTreeMap::new(),
            mib: NetnsMib::new(),
            fib4: Fib4::new(),
            fib6: Fib6::new(),
            nd: NeighTable::nd(0, 2),
            arp: NeighTable::arp(0, 2),
            ipv4: ipv4::Ipv4Sysctl::new(),
            peers4: InetPeerBase::default(),
            frags4: ipv4::ip_fragment::IpFrags::new(3),
            ip_idents: ipv4::ip_output::IpIdents::new(5),
            icmp_global: IcmpGlobal::new(),
            icmp_sysctl: IcmpSysctl::new(),
            peers6: InetPeerBase::default(),
            frags6: ipv6::reassembly::Ip6Frags::new(3),
            flow_secret: 4,
            backlog: VecDeque::new(),
            seeded: true,
            socks: socket::SockTable::default(),
            pmtu4: Default::default(),
            pmtu6: Default::default(),
        }
    }
}
