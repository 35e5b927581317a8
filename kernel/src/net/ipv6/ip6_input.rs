//! IPv6 input (`net/ipv6/ip6_input.c`, `exthdrs.c`, `route.c`'s input lookup, and UDP's
//! no-socket path of `udp.c`): header validation in 4.3's order (spec net-ipv6.md §3.1),
//! the input route decision (§3.7), and the extension-header walk of local delivery
//! (§3.2–3.4, 3.6) ending in ICMPv6 or UDP.

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::fib::{Flow, RouteType};
use crate::net::skbuff::{PacketType, SkBuff};
use crate::net::snmp::{IpStats, PoBase, Udp};
use crate::net::wire::icmpv6::{dst_unreach, msg_type, param_problem, time_exceeded};
use crate::net::wire::ipv6_ext::{Ipv6Option, TlvIter, UnknownAction};
use crate::net::wire::{ip_proto, ipv6, Ipv6Addr};
use crate::uapi::Errno;
use alloc::vec::Vec;

use super::reassembly::Ip6FragVerdict;

/// Extension headers one packet may take the walk through before k43 stops (Linux has
/// no such bound; a packet of 8-byte headers needs thousands of bytes to reach it).
const MAX_EXT_HEADERS: usize = 256;

impl<H: Hal> Kernel<H> {
    /// `ipv6_rcv` (§3.1): `skb` holds the packet from its IPv6 header.
    pub(crate) fn ipv6_rcv(&mut self, skb: SkBuff) {
        let (iif, pkt_type) = (skb.dev, skb.pkt_type);
        if pkt_type == PacketType::OtherHost {
            return;
        }
        let is_lo = self.net.devices.get(&iif).is_some_and(|d| d.is_loopback());
        let mut pkt = skb.into_bytes();
        let net = &mut self.net;
        net.mib.ip6_upd_po(net.dev_snmp6.get_mut(&iif), PoBase::In, pkt.len() as u64);
        if net.idev6.get(&iif).is_none_or(|i| i.cnf.disable_ipv6) {
            net.mib.ip6_inc(net.dev_snmp6.get_mut(&iif), IpStats::InDiscards);
            return;
        }
        let hdr_err = |k: &mut Self| k.ip6_count(iif, IpStats::InHdrErrors);
        if pkt.len() < ipv6::HEADER_LEN || pkt[0] >> 4 != 6 {
            return hdr_err(self);
        }
        let ip = ipv6::Packet::new_unchecked(&pkt[..]);
        let (saddr, daddr, nh, plen) = (ip.src_addr(), ip.dst_addr(), ip.next_header(), ip.payload_len() as usize);
        let ecn = ip.traffic_class() & 3;
        self.ip6_count(iif, [IpStats::NoEctPkts, IpStats::Ect1Pkts, IpStats::Ect0Pkts, IpStats::CePkts][ecn as usize]);
        let mc_scope = daddr.octets()[1] & 0x0f;
        if (!is_lo && daddr.is_loopback())
            || (daddr.is_multicast() && mc_scope == 1 && !(is_lo || pkt_type == PacketType::Loopback))
            || (daddr.is_multicast() && mc_scope == 0)
            || saddr.is_multicast()
        {
            return hdr_err(self);
        }
        if plen != 0 || nh != ip_proto::HOPOPTS {
            if ipv6::HEADER_LEN + plen > pkt.len() {
                return self.ip6_count(iif, IpStats::InTruncatedPkts);
            }
            pkt.truncate(ipv6::HEADER_LEN + plen);
        } else {
            // A jumbogram (payload length 0 with Hop-by-Hop): cannot arrive over links of
            // at most 64 KiB; k43 drops it as a header error.
            return hdr_err(self);
        }
        let mut thoff = ipv6::HEADER_LEN;
        let mut nhoff = 6;
        if nh == ip_proto::HOPOPTS {
            match self.ip6_parse_tlv(&pkt, thoff, true, iif, pkt_type) {
                Some(len) => {
                    nhoff = thoff;
                    thoff += len;
                }
                None => return hdr_err(self),
            }
        }
        self.ip6_rcv_finish(pkt, iif, pkt_type, thoff, nhoff);
    }

    /// `ip6_expire_frag_queue` for every reassembly queue due by `now`: `ReasmFails` and
    /// `ReasmTimeout` on the device of the last fragment (if it still exists), and — when
    /// the first fragment had arrived — Time Exceeded code 1 quoting it, sent as if it
    /// had arrived on that device.
    pub(crate) fn ip6_frag_timers(&mut self, now: u64) {
        if self.net.frags6.next_expiry().is_none_or(|t| t > now) {
            return;
        }
        let (timeouts, _) = self.net.frags6.expire(now);
        for t in timeouts {
            let iif = t.iif as u32;
            if t.iif == 0 || !self.net.devices.contains_key(&iif) {
                continue;
            }
            self.ip6_count(iif, IpStats::ReasmFails);
            self.ip6_count(iif, IpStats::ReasmTimeout);
            if let Some(first) = t.invoking {
                self.icmp6_send(&first, iif, PacketType::Host, msg_type::TIME_EXCEEDED, time_exceeded::REASSEMBLY, 0);
            }
        }
    }

    fn ip6_count(&mut self, iif: u32, f: IpStats) {
        let net = &mut self.net;
        net.mib.ip6_inc(net.dev_snmp6.get_mut(&iif), f);
    }

    /// `ip6_rcv_finish`: the input route. Multicast is delivered if the device listens;
    /// a local address (any device: the weak host model) is delivered; a route to
    /// elsewhere forwards (a host drops it: `InAddrErrors`); no route, an
    /// `unreachable` or a `prohibit` route answer Destination Unreachable code 0 / 0 / 1;
    /// a `blackhole` drops.
    fn ip6_rcv_finish(&mut self, pkt: Vec<u8>, iif: u32, pkt_type: PacketType, thoff: usize, nhoff: usize) {
        let ip = ipv6::Packet::new_unchecked(&pkt[..]);
        let (saddr, daddr) = (ip.src_addr(), ip.dst_addr());
        if daddr.is_multicast() {
            let net = &mut self.net;
            net.mib.ip6_upd_po(net.dev_snmp6.get_mut(&iif), PoBase::InMcast, pkt.len() as u64);
            if self.ipv6_chk_mcast_addr(iif, &daddr) {
                self.ip6_input_finish(pkt, iif, pkt_type, false, thoff, nhoff);
            }
            return;
        }
        let res = self.net.fib6.lookup(&Flow::input(daddr, saddr, iif)).map(|r| (r.route.rtype, r.route.oif, r.route.gateway.unwrap_or(daddr))).map_err(|e| e.errno);
        match res {
            Ok((RouteType::Local, ..)) => self.ip6_input_finish(pkt, iif, pkt_type, true, thoff, nhoff),
            Ok((_, oif, nexthop)) => self.ip6_forward(pkt, iif, pkt_type, oif, nexthop, false),
            Err(Errno::EINVAL) => {}
            Err(e) => {
                let code = if e == Errno::EACCES { dst_unreach::ADMIN_PROHIBITED } else { dst_unreach::NO_ROUTE };
                // ip6_pkt_drop: an unspecified destination counts as an address error.
                self.ip6_count(iif, if daddr.is_unspecified() { IpStats::InAddrErrors } else { IpStats::InNoRoutes });
                self.icmp6_send(&pkt, iif, pkt_type, msg_type::DST_UNREACH, code, 0);
            }
        }
    }

    /// `ip6_input_finish`: the protocol-handler loop of §3.2.
    fn ip6_input_finish(&mut self, mut pkt: Vec<u8>, iif: u32, pkt_type: PacketType, local_dst: bool, mut thoff: usize, mut nhoff: usize) {
        let mut fragmented = false;
        for _ in 0..MAX_EXT_HEADERS {
            let Some(&nh) = pkt.get(nhoff) else { return };
            // Raw sockets of this header's protocol get a copy from it on, first.
            let raw = self.raw6_local_deliver(&pkt, thoff, nh, iif);
            match nh {
                ip_proto::DSTOPTS => match self.ip6_parse_tlv(&pkt, thoff, false, iif, pkt_type) {
                    Some(len) => {
                        nhoff = thoff;
                        thoff += len;
                    }
                    None => return self.ip6_count(iif, IpStats::InHdrErrors),
                },
                ip_proto::ROUTING => {
                    let Some(len) = ext_len(&pkt, thoff) else { return self.ip6_count(iif, IpStats::InHdrErrors) };
                    let daddr = ipv6::Packet::new_unchecked(&pkt[..]).dst_addr();
                    if daddr.is_multicast() || pkt_type != PacketType::Host {
                        return self.ip6_count(iif, IpStats::InAddrErrors);
                    }
                    if pkt[thoff + 3] != 0 {
                        // Type 0 is deprecated (RFC 5095) and type 2 needs Mobile IPv6,
                        // which k43 does not build: with segments left, both are unknown.
                        self.ip6_count(iif, IpStats::InHdrErrors);
                        return self.icmp6_send(&pkt, iif, pkt_type, msg_type::PARAM_PROBLEM, param_problem::HEADER_FIELD, (thoff + 2) as u32);
                    }
                    nhoff = thoff;
                    thoff += len;
                }
                ip_proto::FRAGMENT => {
                    let now = self.hal.now_ns();
                    let r = self.net.frags6.ipv6_frag_rcv(&pkt, thoff, nhoff, fragmented, iif as i32, now);
                    let net = &mut self.net;
                    net.mib.ip6_add_reasm(net.dev_snmp6.get_mut(&iif), &r.mib);
                    match r.verdict {
                        Ip6FragVerdict::Atomic { thoff: t, nhoff: n } => {
                            thoff = t;
                            nhoff = n;
                        }
                        Ip6FragVerdict::Reassembled { packet, thoff: t, nhoff: n } => {
                            pkt = packet;
                            thoff = t;
                            nhoff = n;
                            fragmented = true;
                        }
                        Ip6FragVerdict::Queued | Ip6FragVerdict::Dropped(_) => return,
                        Ip6FragVerdict::ParamProblem { pointer } => {
                            return self.icmp6_send(&pkt, iif, pkt_type, msg_type::PARAM_PROBLEM, param_problem::HEADER_FIELD, pointer);
                        }
                    }
                }
                ip_proto::ICMPV6 | ip_proto::UDP | ip_proto::NONE => {
                    let daddr = ipv6::Packet::new_unchecked(&pkt[..]).dst_addr();
                    // INET6_PROTO_FINAL: a multicast group must have been joined.
                    if daddr.is_multicast() && !self.ipv6_chk_mcast_addr(iif, &daddr) {
                        return;
                    }
                    self.ip6_count(iif, IpStats::InDelivers);
                    match nh {
                        ip_proto::ICMPV6 => {
                            if fragmented && self.is_nd_type(&pkt, thoff) {
                                // suppress_frag_ndisc (RFC 6980).
                                return;
                            }
                            self.icmpv6_rcv(&pkt, thoff, iif, pkt_type, local_dst)
                        }
                        ip_proto::UDP => self.udpv6_rcv(pkt, thoff, iif, pkt_type),
                        _ => {}
                    }
                    return;
                }
                // No handler, but a raw socket took it.
                _ if raw => return self.ip6_count(iif, IpStats::InDelivers),
                _ => {
                    // No handler (Hop-by-Hop anywhere but first, or an unknown protocol
                    // with no raw socket): Parameter Problem code 1 at the naming byte.
                    self.ip6_count(iif, IpStats::InUnknownProtos);
                    return self.icmp6_send(&pkt, iif, pkt_type, msg_type::PARAM_PROBLEM, param_problem::UNKNOWN_NEXT_HEADER, nhoff as u32);
                }
            }
        }
    }

    fn is_nd_type(&self, pkt: &[u8], thoff: usize) -> bool {
        pkt.get(thoff).is_some_and(|&t| Self::is_ndisc(t))
    }

    /// `ip6_parse_tlv` over the options header at `off`: its length if the packet goes
    /// on, `None` if it is dropped (after a Parameter Problem code 2 where the option's
    /// type asks for one). Linux 4.3 knows Router Alert and Jumbo in Hop-by-Hop; k43
    /// builds no Mobile IPv6, so Home Address is unknown in Destination Options.
    fn ip6_parse_tlv(&mut self, pkt: &[u8], off: usize, hbh: bool, iif: u32, pkt_type: PacketType) -> Option<usize> {
        let len = ext_len(pkt, off)?;
        let hdr = &pkt[off..off + len];
        let dst_mc = ipv6::Packet::new_unchecked(pkt).dst_addr().is_multicast();
        for item in TlvIter::new(hdr) {
            let (o, opt) = item.ok()?;
            let unknown = match opt {
                Ipv6Option::Pad1 | Ipv6Option::PadN(_) => None,
                Ipv6Option::RouterAlert(_) | Ipv6Option::Jumbo(_) if hbh => None,
                Ipv6Option::Invalid(..) if hbh => return None,
                Ipv6Option::RouterAlert(_) => Some(hdr[o]),
                Ipv6Option::Jumbo(_) => Some(hdr[o]),
                Ipv6Option::TunnelEncapLimit(_) | Ipv6Option::HomeAddress(_) | Ipv6Option::Invalid(..) | Ipv6Option::Unknown(..) => Some(hdr[o]),
            };
            if let Some(t) = unknown {
                match UnknownAction::of(t) {
                    UnknownAction::Skip => {}
                    UnknownAction::Discard => return None,
                    UnknownAction::DiscardAndReport => {
                        self.icmp6_send(pkt, iif, pkt_type, msg_type::PARAM_PROBLEM, param_problem::UNKNOWN_OPTION, (off + o) as u32);
                        return None;
                    }
                    UnknownAction::DiscardAndReportUnicast => {
                        if !dst_mc {
                            self.icmp6_send(pkt, iif, pkt_type, msg_type::PARAM_PROBLEM, param_problem::UNKNOWN_OPTION, (off + o) as u32);
                        }
                        return None;
                    }
                }
            }
        }
        Some(len)
    }

    /// `__udp6_lib_rcv`: length and checksum checks (a zero checksum is an error with or
    /// without a socket), delivery to sockets, then Port Unreachable for unicast nobody
    /// listens to (`NoPorts`); multicast with no listener is dropped.
    fn udpv6_rcv(&mut self, mut pkt: Vec<u8>, thoff: usize, iif: u32, pkt_type: PacketType) {
        let avail = pkt.len().saturating_sub(thoff);
        let udp_err = |k: &mut Self, f: Udp| k.net.mib.udp_stats_in6.inc(f);
        if avail < 8 {
            return udp_err(self, Udp::InErrors);
        }
        let mut ulen = u16::from_be_bytes([pkt[thoff + 4], pkt[thoff + 5]]) as usize;
        if ulen > avail {
            return udp_err(self, Udp::InErrors);
        }
        if ulen == 0 {
            ulen = avail;
        }
        if ulen < 8 {
            return udp_err(self, Udp::InErrors);
        }
        pkt.truncate(thoff + ulen);
        let ip = ipv6::Packet::new_unchecked(&pkt[..]);
        let (saddr, daddr) = (ip.src_addr(), ip.dst_addr());
        let seg = &pkt[thoff..];
        let ck = u16::from_be_bytes([seg[6], seg[7]]);
        if ck == 0 || !verifies(&saddr, &daddr, seg) {
            udp_err(self, Udp::CsumErrors);
            return udp_err(self, Udp::InErrors);
        }
        // A socket takes it (every matching one for multicast).
        if self.udp6_deliver(&pkt, thoff, iif) || daddr.is_multicast() {
            return;
        }
        udp_err(self, Udp::NoPorts);
        self.icmp6_send(&pkt, iif, pkt_type, msg_type::DST_UNREACH, dst_unreach::PORT_UNREACH, 0);
    }
}

/// Whether `seg` (an upper-layer segment, checksum field included) verifies.
fn verifies(saddr: &Ipv6Addr, daddr: &Ipv6Addr, seg: &[u8]) -> bool {
    super::ip6_output::upper_checksum(saddr, daddr, ip_proto::UDP, seg) == 0
}

/// The length of the extension header at `off` (`(hdrlen + 1) * 8`), if all of it is
/// present.
fn ext_len(pkt: &[u8], off: usize) -> Option<usize> {
    let len = (usize::from(*pkt.get(off + 1)?) + 1) * 8;
    (off + len <= pkt.len()).then_some(len)
}
