//! ARP (`net/ipv4/arp.c`): receiving requests and replies (`arp_rcv`, `arp_process`),
//! answering requests for any of our addresses (the weak host model: `arp_ignore` 0,
//! `arp_filter` 0, `arp_accept` 0, `proxy_arp` 0), learning senders, sending requests for
//! resolution (`arp_solicit`) and the table's timers. The table and its state machine are
//! `net::core::neighbour`.
//!
//! Learning, as 4.3's `arp_process` does it: a request for one of our addresses creates
//! or refreshes the sender's entry (`neigh_event_ns`: STALE, override) before the reply
//! goes out; any other request or reply only updates an entry that exists — REACHABLE for
//! a reply unicast to us, STALE otherwise, replacing a different address only once
//! `locktime` (1 s) has passed since the entry's last update.

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::neigh_key::NeighInit;
use crate::net::core::neighbour::{NeighOutput, Solicit, SolicitKind, NEIGH_UPDATE_F_OVERRIDE, NUD_REACHABLE, NUD_STALE};
use crate::net::fib::{RouteType, RT_SCOPE_LINK};
use crate::net::skbuff::{PacketType, SkBuff};
use crate::net::wire::arp::{self, Operation};
use crate::net::wire::ethernet::EtherType;
use crate::net::wire::icmpv4::{msg_type, unreach};
use crate::net::wire::{EthernetAddress, Ipv4Addr};

use super::icmp::IcmpCtx;

impl<H: Hal> Kernel<H> {
    /// `arp_constructor` for a device with Ethernet header ops: multicast maps to its
    /// group MAC, a loopback device needs no resolution, broadcast addresses (the limited
    /// one, 0/8 and the subnet broadcasts the local table knows) use the broadcast MAC.
    pub(crate) fn arp_neigh_init(&self, ifindex: u32, addr: &Ipv4Addr) -> NeighInit {
        let Some(dev) = self.net.devices.get(&ifindex) else { return NeighInit::NoInetDev };
        match self.net.fib4.addr_type(*addr) {
            RouteType::Multicast => NeighInit::NoArp(EthernetAddress::from_ipv4_multicast(addr)),
            _ if dev.is_loopback() => NeighInit::NoArp(dev.mac),
            RouteType::Broadcast => NeighInit::NoArp(EthernetAddress::BROADCAST),
            _ => NeighInit::Resolve,
        }
    }

    /// `arp_rcv`: `skb` holds the ARP packet (link header pulled). Frames for other
    /// hosts, looped-back frames and packets that are not Ethernet/IPv4 ARP are dropped.
    pub(crate) fn arp_rcv(&mut self, skb: SkBuff) {
        if matches!(skb.pkt_type, PacketType::OtherHost | PacketType::Loopback) {
            return;
        }
        let Ok(p) = arp::Packet::new_checked(skb.data()) else { return };
        let Ok(repr) = arp::Repr::parse(&p) else { return };
        self.arp_process(skb.dev, skb.pkt_type, &repr);
    }

    /// `arp_process` for an Ethernet device.
    fn arp_process(&mut self, ifindex: u32, pkt_type: PacketType, a: &arp::Repr) {
        let request = match a.operation {
            Operation::Request => true,
            Operation::Reply => false,
            _ => return,
        };
        let (sha, sip, tip) = (a.sender_hw_addr, a.sender_ip_addr, a.target_ip_addr);
        // Requests for multicast or 127/8 targets are bogus (route_localnet 0).
        if tip.is_multicast() || tip.is_loopback() {
            return;
        }
        if sip.is_unspecified() {
            // RFC 2131 / RFC 5227 duplicate address detection: answer a probe for our
            // address to the prober's MAC, target IP 0.0.0.0; learn nothing.
            if request && self.net.fib4.addr_type(tip) == RouteType::Local {
                self.arp_send(Operation::Reply, sip, ifindex, tip, Some(sha), Some(sha));
            }
            return;
        }
        if request {
            // ip_route_input_noref(skb, tip, sip, 0, dev) on an ARP skb: broadcast
            // targets fail (brd_input wants ETH_P_IP).
            let rt = self.ip_route_input(tip, sip, 0, ifindex).ok().filter(|r| r.rtype != RouteType::Broadcast);
            if rt.is_some_and(|r| r.rtype == RouteType::Local) {
                // neigh_event_ns: the sender's entry, created if need be; no entry (table
                // full) means no reply.
                let now = self.hal.now_ns();
                let init = self.arp_neigh_init(ifindex, &sip);
                if self.net.arp.create(ifindex, &sip, init, now).is_err() {
                    return;
                }
                if let Ok(out) = self.net.arp.update(ifindex, &sip, Some(sha), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, now) {
                    self.arp_apply(out);
                }
                self.arp_send(Operation::Reply, sip, ifindex, tip, Some(sha), Some(sha));
                return;
            }
            // A host does not proxy (forwarding off): fall through to the update.
        }
        if self.net.arp.get(ifindex, &sip).is_none() {
            return;
        }
        let now = self.hal.now_ns();
        let flags = if self.net.arp.locktime_passed(ifindex, &sip, now) { NEIGH_UPDATE_F_OVERRIDE } else { 0 };
        // Broadcast replies and requests do not confirm reachability.
        let state = if !request && pkt_type == PacketType::Host { NUD_REACHABLE } else { NUD_STALE };
        if let Ok(out) = self.net.arp.update(ifindex, &sip, Some(sha), state, flags, now) {
            self.arp_apply(out);
        }
    }

    /// `arp_send_dst` (`arp_create` + `arp_xmit`): an ARP packet of 28 bytes (no padding:
    /// the NIC or the virtual link pads, or does not) to `dest_hw`, broadcast if none; the
    /// target hardware address is zero if none.
    fn arp_send(&mut self, op: Operation, dest_ip: Ipv4Addr, ifindex: u32, src_ip: Ipv4Addr, dest_hw: Option<EthernetAddress>, target_hw: Option<EthernetAddress>) {
        let Some(mac) = self.net.devices.get(&ifindex).map(|d| d.mac) else { return };
        let repr = arp::Repr {
            operation: op,
            sender_hw_addr: mac,
            sender_ip_addr: src_ip,
            target_hw_addr: target_hw.unwrap_or_default(),
            target_ip_addr: dest_ip,
        };
        let mut skb = SkBuff::alloc(repr.buffer_len());
        repr.emit(&mut arp::Packet::new_unchecked(skb.data_mut()));
        skb.dev = ifindex;
        self.dev_queue_xmit(skb, dest_hw.unwrap_or(EthernetAddress::BROADCAST), EtherType::ARP.0);
    }

    /// `arp_solicit` with `arp_announce` 0: the request's source is the queued packet's
    /// source when that is a local address, else one selected for the target; a probe
    /// of a known entry is unicast to its address, resolution is broadcast.
    pub(crate) fn arp_solicit(&mut self, s: Solicit<Ipv4Addr>) {
        let hint = s.saddr_hint.filter(|a| self.net.fib4.addr_type(*a) == RouteType::Local);
        let saddr = hint.unwrap_or_else(|| self.inet_select_addr(s.ifindex, s.target, RT_SCOPE_LINK));
        let dest_hw = match s.kind {
            SolicitKind::Unicast(mac) => Some(mac),
            SolicitKind::Multicast => None,
            // neigh_app_ns: a netlink notification for a user-space resolver.
            SolicitKind::App => return,
        };
        self.arp_send(Operation::Request, s.target, s.ifindex, saddr, dest_hw, None);
    }

    /// Acts on what the ARP table asked for: transmit released packets, send probes, and
    /// report each packet whose resolution failed with Destination Unreachable code 1
    /// (`arp_error_report` → `dst_link_failure` → `ipv4_link_failure`).
    pub(crate) fn arp_apply(&mut self, out: NeighOutput<Ipv4Addr, SkBuff>) {
        for (skb, mac) in out.xmit {
            self.dev_queue_xmit(skb, mac, EtherType::IPV4.0);
        }
        for s in out.solicits {
            self.arp_solicit(s);
        }
        for (_, _, skb) in out.unreachable {
            // Our own datagram, on its output route: a host skb, not RTCF_LOCAL.
            let ctx = IcmpCtx::output();
            self.icmp_send(skb.data(), &ctx, msg_type::DEST_UNREACH, unreach::HOST, 0);
        }
    }

    /// The ARP table's due timers.
    pub(crate) fn arp_timers(&mut self, now: u64) {
        if self.net.arp.is_empty() {
            return;
        }
        let out = self.net.arp.timer(now);
        self.arp_apply(out);
    }
}

/// `ATF_COM`: the entry has a usable address.
const ATF_COM: u32 = 0x02;
/// `ATF_PERM`: a permanent entry.
const ATF_PERM: u32 = 0x04;
/// `ARPHRD_ETHER`: `dev->type` of an Ethernet device.
const ARPHRD_ETHER: u32 = 1;
/// `ARPHRD_LOOPBACK`.
const ARPHRD_LOOPBACK: u32 = 772;

impl crate::net::Net {
    /// `/proc/net/arp` (`arp_seq_show`): one line per entry that is neither NONE nor
    /// NOARP (`NEIGH_SEQ_SKIP_NOARP`), in table order (4.3's is its hash order).
    pub fn proc_net_arp(&self) -> alloc::string::String {
        use crate::net::core::neighbour::{NUD_NOARP, NUD_PERMANENT, NUD_VALID};
        use core::fmt::Write;
        let mut s = alloc::string::String::from("IP address       HW type     Flags       HW address            Mask     Device\n");
        for (ifindex, addr) in self.arp.keys() {
            let Some(n) = self.arp.get(ifindex, &addr) else { continue };
            if n.state & !NUD_NOARP == 0 {
                continue;
            }
            // arp_state_to_flags.
            let flags = if n.state & NUD_PERMANENT != 0 {
                ATF_PERM | ATF_COM
            } else if n.state & NUD_VALID != 0 {
                ATF_COM
            } else {
                0
            };
            let hatype = match self.devices.get(&ifindex) {
                Some(d) if d.is_loopback() => ARPHRD_LOOPBACK,
                _ => ARPHRD_ETHER,
            };
            let ha = n.lladdr.0;
            let hw = alloc::format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", ha[0], ha[1], ha[2], ha[3], ha[4], ha[5]);
            let ip = alloc::format!("{addr}");
            let _ = writeln!(s, "{:<16} 0x{:<10x}0x{:<10x}{}     *        {}", ip, hatype, flags, hw, self.dev_name(ifindex));
        }
        s
    }
}
