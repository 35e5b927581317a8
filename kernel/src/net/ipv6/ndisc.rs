//! Neighbour Discovery (`net/ipv6/ndisc.c`): receiving NS and NA, answering
//! solicitations, sending the solicitations address resolution and DAD need, and running
//! the ND table's timers. The table and its state machine are `net::core::neighbour`.

use super::ip6_output::Ip6Out;
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::addrconf::{solicited_node, DadEvent, TargetVerdict};
use crate::net::core::neigh_key::NeighInit;
use crate::net::core::neighbour::{NeighOutput, Solicit, SolicitKind, NEIGH_UPDATE_F_ISROUTER, NEIGH_UPDATE_F_OVERRIDE, NEIGH_UPDATE_F_OVERRIDE_ISROUTER, NEIGH_UPDATE_F_WEAK_OVERRIDE, NUD_REACHABLE, NUD_STALE};
use crate::net::skbuff::{PacketType, SkBuff};
use crate::net::wire::ethernet::EtherType;
use crate::net::wire::icmpv6::{self, msg_type};
use crate::net::wire::ndisc::{self, NA_OVERRIDE, NA_ROUTER, NA_SOLICITED};
use crate::net::wire::{EthernetAddress, Ipv6Addr};
use alloc::vec::Vec;

/// The hop limit of every ND message, and the only one accepted (RFC 4861 §7.1).
const ND_HOP_LIMIT: u8 = 255;

impl<H: Hal> Kernel<H> {
    /// `ndisc_send_ns`: an NS for `target` to `daddr` from `saddr` (`::` for DAD, which
    /// carries no Source Link-Layer Address option).
    pub(crate) fn ndisc_send_ns(&mut self, ifindex: u32, target: Ipv6Addr, daddr: Ipv6Addr, saddr: Ipv6Addr) {
        let Some(mac) = self.net.devices.get(&ifindex).map(|d| d.mac) else { return };
        let lladdr = (!saddr.is_unspecified()).then_some(mac);
        let repr = icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target, lladdr });
        self.ndisc_send(ifindex, saddr, daddr, &repr);
    }

    /// `ndisc_send_na`: an NA for our `target` to `daddr`, sourced from the target.
    fn ndisc_send_na(&mut self, ifindex: u32, daddr: Ipv6Addr, target: Ipv6Addr, flags: u8, tllao: bool) {
        let Some(mac) = self.net.devices.get(&ifindex).map(|d| d.mac) else { return };
        let repr = icmpv6::Repr::Ndisc(ndisc::Repr::NeighborAdvert { flags, target, lladdr: tllao.then_some(mac) });
        self.ndisc_send(ifindex, target, daddr, &repr);
    }

    /// `ndisc_send_skb`: hop limit 255, no flow label, counted per type.
    fn ndisc_send(&mut self, ifindex: u32, saddr: Ipv6Addr, daddr: Ipv6Addr, repr: &icmpv6::Repr<'_>) {
        let mut msg = alloc::vec![0u8; repr.buffer_len()];
        repr.emit(&saddr, &daddr, &mut icmpv6::Packet::new_unchecked(&mut msg[..]));
        let net = &mut self.net;
        net.mib.icmp6_out_count(net.dev_snmp6.get_mut(&ifindex), repr.msg_type());
        let o = Ip6Out { saddr, daddr, proto: crate::net::wire::ip_proto::ICMPV6, hop_limit: ND_HOP_LIMIT, tclass: 0, flowlabel: 0 };
        self.ip6_send(o, &msg, ifindex, daddr);
    }

    /// `ndisc_solicit`: the probe the table asked for. Its source is the queued packet's
    /// source when that is an address of the device, else one chosen for the target.
    pub(crate) fn ndisc_solicit(&mut self, s: Solicit<Ipv6Addr>) {
        let ours = s.saddr_hint.filter(|a| self.net.idev6.get(&s.ifindex).is_some_and(|i| i.get(a).is_some()));
        let Some(saddr) = ours.or_else(|| self.ipv6_dev_get_saddr(s.ifindex, &s.target)) else { return };
        match s.kind {
            SolicitKind::Multicast => self.ndisc_send_ns(s.ifindex, s.target, solicited_node(&s.target), saddr),
            SolicitKind::Unicast(_) => self.ndisc_send_ns(s.ifindex, s.target, s.target, saddr),
            SolicitKind::App => {}
        }
    }

    /// Acts on what the ND table asked for: transmit released packets, send probes,
    /// report failed resolutions (ICMPv6 Address Unreachable, `ip6_link_failure`).
    pub(crate) fn ndisc_apply(&mut self, out: NeighOutput<Ipv6Addr, SkBuff>) {
        for (skb, mac) in out.xmit {
            self.dev_queue_xmit(skb, mac, EtherType::IPV6.0);
        }
        for s in out.solicits {
            self.ndisc_solicit(s);
        }
        for (ifindex, _, skb) in out.unreachable {
            let pkt = skb.into_bytes();
            self.icmp6_send(&pkt, ifindex, PacketType::Host, icmpv6::msg_type::DST_UNREACH, icmpv6::dst_unreach::ADDR_UNREACH, 0);
        }
    }

    /// The ND table's due timers.
    pub(crate) fn ndisc_timers(&mut self, now: u64) {
        if self.net.nd.is_empty() {
            return;
        }
        let out = self.net.nd.timer(now);
        self.ndisc_apply(out);
    }

    /// `ndisc_rcv` for NS and NA (RS, RA and Redirect are not handled by a host without
    /// routers yet: dropped). `msg` is the ICMPv6 message; the checksum was verified.
    pub(crate) fn ndisc_rcv(&mut self, ifindex: u32, pkt_type: PacketType, saddr: Ipv6Addr, daddr: Ipv6Addr, hop_limit: u8, msg: &[u8]) {
        // Common validation (ndisc_rcv): hop limit 255, code 0 (in parse), options.
        if hop_limit != ND_HOP_LIMIT {
            return;
        }
        let Ok(p) = ndisc::Packet::new_checked(msg) else { return };
        let Ok(repr) = ndisc::Repr::parse(&p) else { return };
        match repr {
            ndisc::Repr::NeighborSolicit { target, lladdr } => self.ndisc_recv_ns(ifindex, saddr, daddr, target, lladdr),
            ndisc::Repr::NeighborAdvert { flags, target, lladdr } => self.ndisc_recv_na(ifindex, pkt_type, daddr, flags, target, lladdr),
            _ => {}
        }
    }

    /// `ndisc_recv_ns` (§5.4).
    fn ndisc_recv_ns(&mut self, ifindex: u32, saddr: Ipv6Addr, daddr: Ipv6Addr, target: Ipv6Addr, lladdr: Option<EthernetAddress>) {
        let dad = saddr.is_unspecified();
        // A DAD probe goes to the solicited-node group and carries no SLLA option.
        if dad && (lladdr.is_some() || !(daddr.is_multicast() && daddr.octets()[..13] == solicited_node(&target).octets()[..13])) {
            return;
        }
        let now = self.hal.now_ns();
        let mut ev = Vec::new();
        let verdict = match self.net.idev6.get_mut(&ifindex) {
            Some(i) if i.get(&target).is_some() => i.ns_target(&target, dad, now, &mut ev),
            _ => TargetVerdict::NotOurs,
        };
        self.addrconf_events(ifindex, ev);
        if verdict != TargetVerdict::Answer {
            // Anycast and proxy targets are not modelled: a host answers its own
            // addresses only.
            return;
        }
        let router = if self.ipv6_forwarding() { NA_ROUTER } else { 0 };
        if dad {
            self.ndisc_send_na(ifindex, crate::net::ipv6::addrconf::ALL_NODES, target, router | NA_OVERRIDE, true);
            return;
        }
        let mcast = daddr.is_multicast();
        // The solicitor's entry, STALE with its address (neigh_event_ns), created when the
        // NS was unicast or carried one.
        if lladdr.is_some() || !mcast {
            if let Some(ll) = lladdr {
                if let Ok(out) = self.net.nd.neigh_event_ns(ifindex, &saddr, ll, NeighInit::for_key(&saddr), now) {
                    self.ndisc_apply(out);
                }
            }
        }
        let flags = router | NA_SOLICITED | if mcast { NA_OVERRIDE } else { 0 };
        self.ndisc_send_na(ifindex, saddr, target, flags, mcast);
    }

    /// `ndisc_recv_na` (§5.5): DAD conflicts, then the existing entry's update; an NA
    /// never creates an entry.
    fn ndisc_recv_na(&mut self, ifindex: u32, pkt_type: PacketType, daddr: Ipv6Addr, flags: u8, target: Ipv6Addr, lladdr: Option<EthernetAddress>) {
        if daddr.is_multicast() && flags & NA_SOLICITED != 0 {
            return;
        }
        let now = self.hal.now_ns();
        let mut ev: Vec<DadEvent> = Vec::new();
        let ours = match self.net.idev6.get_mut(&ifindex) {
            Some(i) if i.get(&target).is_some() => Some(i.na_target(&target, pkt_type == PacketType::Loopback, now, &mut ev)),
            _ => None,
        };
        self.addrconf_events(ifindex, ev);
        if ours.is_some() || self.net.nd.get(ifindex, &target).is_none() {
            return;
        }
        let state = if flags & NA_SOLICITED != 0 { NUD_REACHABLE } else { NUD_STALE };
        let mut uflags = NEIGH_UPDATE_F_WEAK_OVERRIDE | NEIGH_UPDATE_F_OVERRIDE_ISROUTER;
        if flags & NA_OVERRIDE != 0 {
            uflags |= NEIGH_UPDATE_F_OVERRIDE;
        }
        if flags & NA_ROUTER != 0 {
            uflags |= NEIGH_UPDATE_F_ISROUTER;
        }
        if let Ok(out) = self.net.nd.update(ifindex, &target, lladdr, state, uflags, now) {
            self.ndisc_apply(out);
        }
    }

    /// Whether `msg` (an ICMPv6 message) is a Neighbour Discovery message.
    pub(crate) fn is_ndisc(t: u8) -> bool {
        matches!(t, msg_type::ROUTER_SOLICIT | msg_type::ROUTER_ADVERT | msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT | msg_type::REDIRECT)
    }
}
