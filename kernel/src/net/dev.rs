//! The device layer (`net/core/dev.c`, `net/ethernet/eth.c`): bringing a device up,
//! receiving a frame (`eth_type_trans` and the protocol demux of
//! `__netif_receive_skb_core`) and transmitting one (`dev_queue_xmit`), with `lo`'s
//! backlog.

use super::netdevice::{DevKind, IFF_LOWER_UP, IFF_RUNNING, IFF_UP};
use super::skbuff::{PacketType, SkBuff};
use super::wire::ethernet::{self, EtherType};
use super::wire::EthernetAddress;
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::uapi::Errno;

/// `ETH_HLEN`.
const ETH_HLEN: usize = ethernet::HEADER_LEN;
/// EtherTypes below this are IEEE 802.3 lengths (`ETH_P_802_3_MIN`).
const ETH_P_802_3_MIN: u16 = 0x0600;
/// Frames one call processes from `lo`'s backlog before stopping (a bound on a loop
/// between two handlers that answer each other; Linux's `netdev_budget` is 300).
const BACKLOG_BUDGET: usize = 300;

/// `eth_type_trans`: classifies the frame by its destination MAC (`skb->pkt_type`), pulls
/// the Ethernet header and returns the EtherType; `None` for a frame too short to carry
/// one.
pub fn eth_type_trans(dev_mac: EthernetAddress, skb: &mut SkBuff) -> Option<u16> {
    let d = skb.data();
    if d.len() < ETH_HLEN {
        return None;
    }
    let dst = EthernetAddress::from_bytes(d)?;
    let proto = u16::from_be_bytes([d[12], d[13]]);
    skb.pkt_type = if dst.is_multicast() {
        if dst.is_broadcast() {
            PacketType::Broadcast
        } else {
            PacketType::Multicast
        }
    } else if dst == dev_mac {
        PacketType::Host
    } else {
        PacketType::OtherHost
    };
    skb.pull(ETH_HLEN);
    skb.protocol = proto;
    Some(proto)
}

impl<H: Hal> Kernel<H> {
    /// `ip link set dev DEV up` (`dev_open`): up and running; IPv4 adds its addresses'
    /// routes (`lo` gets 127.0.0.1/8, as `inetdev_event(NETDEV_UP)` does); IPv6
    /// configures the link (`addrconf_notify(NETDEV_UP)`: the link-local address and its
    /// DAD, the `fe80::/64` and `ff00::/8` routes; `lo` gets `::1`). `ENODEV` for no such
    /// device; opening an open device does nothing.
    pub fn dev_open(&mut self, ifindex: u32) -> Result<(), Errno> {
        self.net.seed_once(&self.hal);
        let dev = self.net.devices.get_mut(&ifindex).ok_or(Errno::ENODEV)?;
        if dev.flags & IFF_UP != 0 {
            return Ok(());
        }
        dev.flags |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
        // dev_activate → attach_default_qdiscs: a device without a queue gets noqueue.
        dev.qdisc = if dev.tx_queue_len == 0 { "noqueue" } else { "pfifo_fast" };
        self.inetdev_up(ifindex);
        self.addrconf_dev_up(ifindex);
        self.net_run_backlog();
        Ok(())
    }

    /// `ip link set dev DEV down` (`dev_close`): the device stops, then the `NETDEV_DOWN`
    /// notifiers run. IPv4 (`fib_netdev_event` → `fib_disable_ip`) removes every route
    /// whose next hop is on the device, in every table — the address routes, the local
    /// and broadcast ones and the administrator's — and the device's ARP entries; the
    /// addresses stay and their routes come back with the next `dev_open`. IPv6
    /// (`addrconf_ifdown(dev, 0)`) removes the routes through the device, its ND entries
    /// and, 4.3 being older than `keep_addr_on_down` (4.6), every address with its local
    /// route: a manually added address is gone for good, the link-local one comes back on
    /// `dev_open`. `ENODEV` for no such device; closing a closed device does nothing.
    pub fn dev_close(&mut self, ifindex: u32) -> Result<(), Errno> {
        let dev = self.net.devices.get_mut(&ifindex).ok_or(Errno::ENODEV)?;
        if dev.flags & IFF_UP == 0 {
            return Ok(());
        }
        // dev_get_flags reports RUNNING and LOWER_UP only for a running device.
        dev.flags &= !(IFF_UP | IFF_RUNNING | IFF_LOWER_UP);
        self.fib_disable_ip(ifindex);
        self.addrconf_ifdown(ifindex, false);
        Ok(())
    }

    /// `ip link set dev DEV mtu N` (`dev_set_mtu`): the same MTU is a no-op; a negative
    /// one (an `IFLA_MTU` above `INT_MAX` read as `int`) is `EINVAL`; an Ethernet device
    /// takes 68..=1500 (`eth_change_mtu`, else `EINVAL`), `lo` anything (`loopback_ops`
    /// has no `ndo_change_mtu`). Then `NETDEV_CHANGEMTU`: below 68 IPv4 leaves the device
    /// (`inetdev_event` → `inetdev_destroy`: its addresses and their routes go) and comes
    /// back, empty, once the MTU is large enough again; below 1280 so does IPv6
    /// (`addrconf_ifdown(dev, 1)`; `ipv6_add_dev` when it grows back).
    pub fn dev_set_mtu(&mut self, ifindex: u32, new_mtu: i32) -> Result<(), Errno> {
        let dev = self.net.devices.get_mut(&ifindex).ok_or(Errno::ENODEV)?;
        if i64::from(new_mtu) == i64::from(dev.mtu) {
            return Ok(());
        }
        if new_mtu < 0 {
            return Err(Errno::EINVAL);
        }
        let mtu = new_mtu as u32;
        if matches!(dev.kind, DevKind::Ether { .. }) && !(68..=super::netdevice::ETH_DATA_LEN).contains(&mtu) {
            return Err(Errno::EINVAL);
        }
        dev.mtu = mtu;
        self.inetdev_changemtu(ifindex);
        self.addrconf_changemtu(ifindex);
        Ok(())
    }

    /// A frame arrived on platform NIC `nic` (the driver's receive path): it runs through
    /// the protocols now, and so does whatever `lo` transmits meanwhile.
    pub fn netif_receive(&mut self, nic: u32, frame: &[u8]) {
        let Some(ifindex) = self.net.dev_by_nic(nic) else { return };
        self.netif_receive_skb(SkBuff::from_frame(frame, ifindex));
        self.net_run_backlog();
    }

    /// `__netif_receive_skb_core`: link header, then the handler for the EtherType. A
    /// frame on a device that is down, too short, or for a protocol without a handler is
    /// dropped and counted (`rx_dropped`, or `rx_length_errors`).
    pub(crate) fn netif_receive_skb(&mut self, mut skb: SkBuff) {
        let Some(dev) = self.net.devices.get_mut(&skb.dev) else { return };
        if dev.flags & IFF_UP == 0 {
            dev.stats.rx_dropped += 1;
            return;
        }
        let len = skb.len() as u64;
        let Some(proto) = eth_type_trans(dev.mac, &mut skb) else {
            dev.stats.rx_length_errors += 1;
            return;
        };
        dev.stats.rx_packets += 1;
        dev.stats.rx_bytes += len;
        match EtherType(proto) {
            EtherType::IPV6 => self.ipv6_rcv(skb),
            EtherType::IPV4 => self.ip_rcv(skb),
            EtherType::ARP => self.arp_rcv(skb),
            _ if proto < ETH_P_802_3_MIN => dev.stats.rx_dropped += 1,
            _ => dev.stats.rx_dropped += 1,
        }
    }

    /// `dev_hard_header` + `dev_queue_xmit`: prepends the Ethernet header and hands the
    /// frame to the device. `lo` loops it back through its backlog (bounded:
    /// [`super::NETDEV_MAX_BACKLOG`]); an Ethernet device gives it to its NIC. A device
    /// that is down or a full queue drops it (`tx_dropped`).
    pub(crate) fn dev_queue_xmit(&mut self, mut skb: SkBuff, dst: EthernetAddress, proto: u16) {
        let Some(dev) = self.net.devices.get_mut(&skb.dev) else { return };
        let h = skb.push(ETH_HLEN);
        h[0..6].copy_from_slice(&dst.0);
        h[6..12].copy_from_slice(&dev.mac.0);
        h[12..14].copy_from_slice(&proto.to_be_bytes());
        if dev.flags & IFF_UP == 0 {
            dev.stats.tx_dropped += 1;
            return;
        }
        let len = skb.len() as u64;
        let sent = match dev.kind {
            DevKind::Loopback => {
                if self.net.backlog.len() < super::NETDEV_MAX_BACKLOG {
                    self.net.backlog.push_back(SkBuff::from_frame(skb.data(), skb.dev));
                    true
                } else {
                    false
                }
            }
            DevKind::Ether { nic } => self.hal.nic_transmit(nic, skb.data()),
        };
        let Some(dev) = self.net.devices.get_mut(&skb.dev) else { return };
        if sent {
            dev.stats.tx_packets += 1;
            dev.stats.tx_bytes += len;
        } else {
            dev.stats.tx_dropped += 1;
        }
    }

    /// Receives what `lo` transmitted (`process_backlog`), at most a budget's worth.
    pub(crate) fn net_run_backlog(&mut self) {
        for _ in 0..BACKLOG_BUDGET {
            let Some(skb) = self.net.backlog.pop_front() else { return };
            self.netif_receive_skb(skb);
        }
    }

    /// Runs the network timers that are due: DAD, neighbour probes and state changes,
    /// IPv4 and IPv6 reassembly timeouts.
    pub fn net_timers(&mut self) {
        let now = self.hal.now_ns();
        self.addrconf_timers(now);
        self.ndisc_timers(now);
        self.arp_timers(now);
        self.ip_frag_timers(now);
        self.ip6_frag_timers(now);
        self.net_run_backlog();
    }

    /// The earliest deadline of a network timer; none before a device was first brought
    /// up (nothing can be pending then).
    pub fn net_next_timer(&self) -> Option<u64> {
        if !self.net.seeded {
            return None;
        }
        let dad = self.net.idev6.values().filter_map(|i| i.next_deadline()).min();
        // The table's periodic GC is not a reason to wake an idle machine: only entries
        // with timers (or queued packets) are.
        let nd = (!self.net.nd.is_empty()).then(|| self.net.nd.next_deadline());
        let arp = (!self.net.arp.is_empty()).then(|| self.net.arp.next_deadline());
        [dad, nd, arp, self.net.frags4.next_expiry(), self.net.frags6.next_expiry()].into_iter().flatten().min()
    }
}
