//! ICMPv6 (`net/ipv6/icmp.c`): receiving messages (checksum, counters, dispatch),
//! answering Echo Requests, and sending errors with RFC 4443 §2.4's suppression rules
//! and 4.3's rate limits (spec net-ipv6.md §4).

use super::ip6_output::Ip6Out;
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::ratelimit::{icmpv6_xrlim_allow, Icmpv6Route};
use crate::net::skbuff::PacketType;
use crate::net::snmp::Icmp6;
use crate::net::wire::icmpv6::{self, msg_type, MAX_ERROR_QUOTE};
use crate::net::wire::ipv6_ext::ExtHeaderChain;
use crate::net::wire::{ip_proto, ipv6, Ipv6Addr};

/// The default hop limit of packets the stack originates (`ipv6_devconf.hop_limit`).
pub const DEFAULT_HOP_LIMIT: u8 = 64;

impl<H: Hal> Kernel<H> {
    /// `icmpv6_rcv`: `pkt` is the whole IPv6 packet, the message at `thoff`.
    pub(crate) fn icmpv6_rcv(&mut self, pkt: &[u8], thoff: usize, iif: u32, pkt_type: PacketType, local_dst: bool) {
        let Ok(ip) = ipv6::Packet::new_checked(pkt) else { return };
        let (saddr, daddr, hop_limit) = (ip.src_addr(), ip.dst_addr(), ip.hop_limit());
        let msg = pkt.get(thoff..).unwrap_or(&[]);
        let net = &mut self.net;
        net.mib.icmp6_inc(net.dev_snmp6.get_mut(&iif), Icmp6::InMsgs);
        if !icmpv6::checksum_ok(&saddr, &daddr, msg) {
            net.mib.icmp6_inc(net.dev_snmp6.get_mut(&iif), Icmp6::CsumErrors);
            net.mib.icmp6_inc(net.dev_snmp6.get_mut(&iif), Icmp6::InErrors);
            return;
        }
        if msg.len() < icmpv6::HEADER_LEN {
            net.mib.icmp6_inc(net.dev_snmp6.get_mut(&iif), Icmp6::InErrors);
            return;
        }
        let t = msg[0];
        net.mib.icmp6msg_in_inc(net.dev_snmp6.get_mut(&iif), t);
        match t {
            msg_type::ECHO_REQUEST => self.icmpv6_echo_reply(ip.traffic_class(), saddr, daddr, iif, local_dst, msg),
            t if Self::is_ndisc(t) => self.ndisc_rcv(iif, pkt_type, saddr, daddr, hop_limit, msg),
            // Errors go to the quoted packet's protocol (`icmpv6_notify`); echo replies
            // would go to ping sockets, which k43 does not have. Unknown informational
            // messages are dropped.
            t if !icmpv6::is_informational(t) => self.icmpv6_notify(msg, t, iif),
            _ => {}
        }
    }

    /// `icmpv6_notify`: walks the quoted packet's extension headers to its upper layer;
    /// a UDP one (unfragmented, or the first fragment) goes to `__udp6_lib_err`, and the
    /// raw sockets of the upper-layer protocol hear of it (`raw6_icmp_error`).
    fn icmpv6_notify(&mut self, msg: &[u8], t: u8, iif: u32) {
        let Some(q) = msg.get(icmpv6::HEADER_LEN..) else { return };
        if q.len() < ipv6::HEADER_LEN {
            return;
        }
        let Ok(u) = ExtHeaderChain::upper_layer(q[6], &q[ipv6::HEADER_LEN..]) else { return };
        // icmpv6_err: a Packet Too Big about our own ICMPv6 updates the path MTU with no
        // socket involved (UDP and raw sockets do it in their handlers).
        if t == icmpv6::msg_type::PKT_TOO_BIG && u.next_header == ip_proto::ICMPV6 {
            let qdst = ipv6::Packet::new_unchecked(q).dst_addr();
            self.ip6_update_pmtu(&qdst, u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]));
        }
        if u.next_header == ip_proto::UDP && u.frag_offset == 0 {
            self.udp6_err(q, ipv6::HEADER_LEN + u.offset, t, msg[1], u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]), iif);
        }
        // raw6_icmp_error comes after the protocol's handler, given 8 bytes past the
        // headers (pskb_may_pull).
        if q.len() >= ipv6::HEADER_LEN + u.offset + 8 {
            self.raw6_icmp_error(q, u.next_header, t, msg[1], u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]), iif);
        }
    }

    /// `icmpv6_echo_reply`: same identifier, sequence, data and code; the request's
    /// traffic class; from the request's destination if that is one of our unicast
    /// addresses, out of the receiving interface.
    fn icmpv6_echo_reply(&mut self, tclass: u8, saddr: Ipv6Addr, daddr: Ipv6Addr, iif: u32, local_dst: bool, req: &[u8]) {
        if saddr.is_unspecified() {
            // No route back to `::` (spec §4.3).
            return;
        }
        let from = if local_dst && !daddr.is_multicast() { daddr } else { Ipv6Addr::UNSPECIFIED };
        let Ok((oif, nexthop)) = self.ip6_route_output_from(&saddr, &from, iif) else { return };
        let src = if local_dst && !daddr.is_multicast() { Some(daddr) } else { self.ipv6_dev_get_saddr(oif, &saddr) };
        let Some(src) = src else { return };
        let mut msg = req.to_vec();
        msg[0] = msg_type::ECHO_REPLY;
        msg[2] = 0;
        msg[3] = 0;
        let c = super::ip6_output::upper_checksum(&src, &saddr, ip_proto::ICMPV6, &msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        let net = &mut self.net;
        net.mib.icmp6_out_count(net.dev_snmp6.get_mut(&oif), msg_type::ECHO_REPLY);
        let flowlabel = self.ip6_flowlabel(&src, &saddr, ip_proto::ICMPV6);
        let o = Ip6Out { saddr: src, daddr: saddr, proto: ip_proto::ICMPV6, hop_limit: DEFAULT_HOP_LIMIT, tclass, flowlabel };
        self.ip6_send(o, &msg, oif, nexthop);
    }

    /// `icmp6_send`: an error of `(t, code, info)` about `invoking` (an IPv6 packet that
    /// arrived on `iif`), unless §4.1 forbids one or the rate limit refuses.
    pub(crate) fn icmp6_send(&mut self, invoking: &[u8], iif: u32, pkt_type: PacketType, t: u8, code: u8, info: u32) {
        let Ok(ip) = ipv6::Packet::new_checked(invoking) else { return };
        let (isrc, idst) = (ip.src_addr(), ip.dst_addr());
        // (e.3) no error about multicast, except Packet Too Big and a code-2 Parameter
        // Problem about an option whose type says "report even if multicast".
        if idst.is_multicast() || pkt_type != PacketType::Host {
            let option_asks = t == msg_type::PARAM_PROBLEM
                && code == icmpv6::param_problem::UNKNOWN_OPTION
                && invoking.get(info as usize).is_some_and(|b| b & 0xc0 == 0x80);
            if t != msg_type::PKT_TOO_BIG && !option_asks {
                return;
            }
        }
        // (e.6) no error to an unspecified or multicast source.
        if isrc.is_unspecified() || isrc.is_multicast() {
            return;
        }
        // (e.1) never about an ICMPv6 error (nor when its type cannot be read).
        if let Ok(u) = ExtHeaderChain::upper_layer(ip.next_header(), ip.payload()) {
            if u.next_header == ip_proto::ICMPV6 && u.frag_offset == 0 {
                match ip.payload().get(u.offset) {
                    Some(&it) if icmpv6::is_informational(it) => {}
                    _ => return,
                }
            }
        }
        // Route back to the source; a link-local source needs the receiving interface.
        let scoped = super::addrconf::scope_of(&isrc) <= 2;
        let route = self.ip6_route_output(&isrc, if scoped { iif } else { 0 });
        let now = self.hal.now_ns();
        let rl = match &route {
            Err(_) => Icmpv6Route::Error,
            Ok((oif, _)) if self.net.devices.get(oif).is_some_and(|d| d.is_loopback()) => Icmpv6Route::Loopback,
            Ok(_) => Icmpv6Route::Prefix(self.route6_plen(&isrc)),
        };
        let net = &mut self.net;
        if !icmpv6_xrlim_allow(&mut net.icmp_global, &mut net.peers6, &net.icmp_sysctl, t, rl, isrc, now) {
            return;
        }
        let Ok((oif, nexthop)) = route else { return };
        let src = match self.ipv6_addr_dev(&idst) {
            Some(_) => Some(idst),
            None => self.ipv6_dev_get_saddr(oif, &isrc),
        };
        let Some(src) = src else { return };
        let quote = &invoking[..invoking.len().min(MAX_ERROR_QUOTE)];
        let mut msg = alloc::vec![0u8; icmpv6::HEADER_LEN + quote.len()];
        msg[0] = t;
        msg[1] = code;
        msg[4..8].copy_from_slice(&info.to_be_bytes());
        msg[8..].copy_from_slice(quote);
        let c = super::ip6_output::upper_checksum(&src, &isrc, ip_proto::ICMPV6, &msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        let net = &mut self.net;
        net.mib.icmp6_out_count(net.dev_snmp6.get_mut(&oif), t);
        let flowlabel = self.ip6_flowlabel(&src, &isrc, ip_proto::ICMPV6);
        let o = Ip6Out { saddr: src, daddr: isrc, proto: ip_proto::ICMPV6, hop_limit: DEFAULT_HOP_LIMIT, tclass: 0, flowlabel };
        self.ip6_send(o, &msg, oif, nexthop);
    }

    /// The prefix length of the route to `a` (`rt6i_dst.plen`), 0 if none.
    fn route6_plen(&self, a: &Ipv6Addr) -> u8 {
        self.net.fib6.lookup(&crate::net::fib::Flow::output(*a)).map(|r| r.route.dst_len).unwrap_or(0)
    }
}
