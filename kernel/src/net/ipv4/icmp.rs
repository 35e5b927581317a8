//! ICMPv4 (`net/ipv4/icmp.c`): receiving messages (`icmp_rcv`: checksum, counters, the
//! broadcast rules), answering Echo and Timestamp requests (`icmp_echo`,
//! `icmp_timestamp`, `icmp_reply`), checking the errors it receives (`icmp_unreach`,
//! `icmp_redirect`; k43 has no sockets to deliver them to), and sending errors
//! (`icmp_send`) with RFC 1122's suppression rules, the 576-byte quote and
//! `icmpv4_xrlim_allow`'s rate limits (spec net-ipv6.md §10.2).
//!
//! Replies and errors leave as 4.3's per-CPU ICMP socket sends them: TTL
//! `ip_default_ttl` (64), DF clear (`IP_PMTUDISC_DONT`), an Identification from
//! `__ip_select_ident`, the request's options echoed.

use super::ip_options::{ip_options_echo, IpOptions};
use super::ip_output::Ip4Out;
use super::route::{Rtable, IPTOS_RT_MASK};
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::ratelimit::icmpv4_xrlim_allow;
use crate::net::fib::RouteType;
use crate::net::skbuff::PacketType;
use crate::net::snmp::Icmp;
use crate::net::wire::icmpv4::{self, msg_type, NR_ICMP_TYPES};
use crate::net::wire::{checksum, ip_proto, ipv4, Ipv4Addr};
use alloc::vec::Vec;

/// `IPTOS_TOS_MASK`.
const IPTOS_TOS_MASK: u8 = 0x1e;
/// `IPTOS_PREC_INTERNETCONTROL`: the precedence of ICMP errors.
const IPTOS_PREC_INTERNETCONTROL: u8 = 0xc0;
/// RFC 1812's limit on an ICMP error datagram.
const ICMP_ERROR_MAX: usize = 576;

/// What `icmp_send` and `icmp_reply` read from the invoking datagram's skb besides its
/// bytes: how it arrived, its route's flags, and its compiled options.
#[derive(Clone, Debug)]
pub struct IcmpCtx {
    /// `skb->pkt_type`.
    pub pkt_type: PacketType,
    /// The route's `RTCF_LOCAL`.
    pub local: bool,
    /// The route's `RTCF_BROADCAST | RTCF_MULTICAST`.
    pub bcast_mcast: bool,
    /// The arrival interface (`skb->dev`).
    pub iif: u32,
    /// `IPCB(skb)->opt`.
    pub opts: IpOptions,
}

impl IcmpCtx {
    /// A datagram that arrived on `iif` and was routed by `rt`.
    pub fn input(rt: &Rtable, pkt_type: PacketType, iif: u32, opts: IpOptions) -> IcmpCtx {
        IcmpCtx { pkt_type, local: rt.local, bcast_mcast: rt.broadcast || rt.multicast, iif, opts }
    }

    /// One of our own datagrams on its (unicast) output route.
    pub fn output() -> IcmpCtx {
        IcmpCtx { pkt_type: PacketType::Host, local: false, bcast_mcast: false, iif: 0, opts: IpOptions::default() }
    }
}

impl<H: Hal> Kernel<H> {
    /// `icmp_rcv`: `pkt` is the IPv4 datagram (trimmed to Total Length), the message at
    /// `thoff`.
    pub(crate) fn icmp_rcv(&mut self, pkt: &[u8], thoff: usize, ctx: &IcmpCtx) {
        let mib = &mut self.net.mib;
        mib.icmp_statistics.inc(Icmp::InMsgs);
        let msg = pkt.get(thoff..).unwrap_or(&[]);
        if !checksum::verifies(msg) {
            mib.icmp_statistics.inc(Icmp::CsumErrors);
            mib.icmp_statistics.inc(Icmp::InErrors);
            return;
        }
        if msg.len() < icmpv4::HEADER_LEN {
            mib.icmp_statistics.inc(Icmp::InErrors);
            return;
        }
        let t = msg[0];
        mib.icmpmsg_statistics.inc_in(t);
        if t > NR_ICMP_TYPES {
            mib.icmp_statistics.inc(Icmp::InErrors);
            return;
        }
        if ctx.bcast_mcast {
            let echo_like = t == msg_type::ECHO || t == msg_type::TIMESTAMP;
            // RFC 1122 3.2.2.6 / 3.2.2.8: broadcast Echo and Timestamp may be ignored
            // (icmp_echo_ignore_broadcasts); other types make no sense to a broadcast.
            if (echo_like && self.net.ipv4.icmp_echo_ignore_broadcasts)
                || !(echo_like || t == msg_type::ADDRESS || t == msg_type::ADDRESS_REPLY)
            {
                self.net.mib.icmp_statistics.inc(Icmp::InErrors);
                return;
            }
        }
        let body = &msg[icmpv4::HEADER_LEN..];
        match t {
            msg_type::ECHO if !self.net.ipv4.icmp_echo_ignore_all => {
                let mut reply = msg.to_vec();
                reply[0] = msg_type::ECHO_REPLY;
                self.icmp_reply(pkt, ctx, reply);
            }
            msg_type::TIMESTAMP => {
                if body.len() < 4 {
                    self.net.mib.icmp_statistics.inc(Icmp::InErrors);
                    return;
                }
                let now = self.ip_midtime().to_be_bytes();
                let mut reply = Vec::with_capacity(icmpv4::HEADER_LEN + 12);
                reply.extend_from_slice(&[msg_type::TIMESTAMP_REPLY, 0, 0, 0]);
                reply.extend_from_slice(&msg[4..8]);
                reply.extend_from_slice(&body[..4]);
                reply.extend_from_slice(&now);
                reply.extend_from_slice(&now);
                self.icmp_reply(pkt, ctx, reply);
            }
            // icmp_unreach: the quoted header must be there (ihl ≥ 5); what passes goes
            // to the quoted protocol's sockets (k43 does not lower the path MTU a
            // Fragmentation Needed names). icmp_redirect checks the length.
            msg_type::DEST_UNREACH | msg_type::SOURCE_QUENCH | msg_type::TIME_EXCEEDED | msg_type::PARAMETER_PROB
                if body.len() < ipv4::HEADER_LEN || body[0] & 0x0f < 5 =>
            {
                self.net.mib.icmp_statistics.inc(Icmp::InErrors);
            }
            msg_type::REDIRECT if body.len() < ipv4::HEADER_LEN => self.net.mib.icmp_statistics.inc(Icmp::InErrors),
            // icmp_socket_deliver: the quoted header and 8 bytes of its payload must be
            // there (else InErrors); raw sockets of the quoted datagram's protocol, then
            // the protocol itself (UDP's __udp4_lib_err; k43 has no other) hear of it.
            msg_type::DEST_UNREACH | msg_type::TIME_EXCEEDED | msg_type::PARAMETER_PROB => {
                if body.len() < usize::from(body[0] & 0x0f) * 4 + 8 {
                    return self.net.mib.icmp_statistics.inc(Icmp::InErrors);
                }
                // icmp_unreach: a Fragmentation Needed carries the next-hop MTU in its
                // low 16 bits (ip_no_pmtu_disc 0); 0 there means nothing to learn.
                let info = u32::from(u16::from_be_bytes([msg[6], msg[7]]));
                if t == msg_type::DEST_UNREACH && msg[1] == 4 && info == 0 {
                    return;
                }
                // icmp_err: our own ICMP's Fragmentation Needed updates the path MTU.
                if t == msg_type::DEST_UNREACH && msg[1] == 4 && body[9] == ip_proto::ICMP {
                    let qdst = ipv4::Packet::new_unchecked(body).dst_addr();
                    self.ip_rt_update_pmtu(qdst, info);
                }
                self.raw_icmp_error(body, t, msg[1], info, ctx.iif);
                self.udp4_err(body, t, msg[1], info, ctx.iif)
            }
            // Echo replies go to ping sockets; the rest is discarded (icmp_discard).
            _ => {}
        }
    }

    /// `icmp_reply`: `msg` (header and data, checksum not yet filled) back to the source
    /// of `req`, from `fib_compute_spec_dst`, with the request's TOS and echoed options.
    fn icmp_reply(&mut self, req: &[u8], ctx: &IcmpCtx, mut msg: Vec<u8>) {
        let Ok(ip) = ipv4::Packet::new_checked(req) else { return };
        let (saddr, daddr, tos) = (ip.src_addr(), ip.dst_addr(), ip.tos());
        let hdr = &req[..ip.header_len()];
        let is_unicast = |a: Ipv4Addr| self.net.fib4.addr_type(a) == RouteType::Unicast;
        let Some(opts) = ip_options_echo(&ctx.opts, hdr, &is_unicast) else { return };
        let src = self.fib_compute_spec_dst(ctx.local && !ctx.bcast_mcast, saddr, daddr, tos, ctx.iif);
        let Ok(rt) = self.ip_route_output(saddr, src, tos & IPTOS_TOS_MASK, 0) else { return };
        if !self.icmp_xrlim(&rt, msg[0], msg[1], saddr) {
            return;
        }
        msg[2..4].fill(0);
        let c = checksum::checksum(&msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        let ttl = self.net.ipv4.ip_default_ttl;
        let o = Ip4Out { saddr: rt.saddr, daddr: saddr, proto: ip_proto::ICMP, tos, ttl, df: false, opts };
        self.ip_send(&o, &msg, &rt);
    }

    /// `icmpv4_xrlim_allow` on the route a message leaves by.
    fn icmp_xrlim(&mut self, rt: &Rtable, t: u8, code: u8, daddr: Ipv4Addr) -> bool {
        let loopback = self.net.devices.get(&rt.dev).is_some_and(|d| d.is_loopback());
        let now = self.hal.now_ns();
        let net = &mut self.net;
        icmpv4_xrlim_allow(&mut net.icmp_global, &mut net.peers4, &net.icmp_sysctl, t, code, loopback, daddr, 0, now)
    }

    /// `icmp_send`: an error `(t, code, info)` about `invoking` (the datagram from its IP
    /// header), unless 4.3 suppresses it: not to a link-level broadcast/multicast or over
    /// a broadcast/multicast route, not about a non-first fragment, not about an ICMP
    /// error (or an unreadable ICMP type), nor past the rate limit. The quote is as much
    /// of the datagram as keeps the error within 576 bytes.
    pub(crate) fn icmp_send(&mut self, invoking: &[u8], ctx: &IcmpCtx, t: u8, code: u8, info: u32) {
        if invoking.len() < ipv4::HEADER_LEN || ctx.pkt_type != PacketType::Host || ctx.bcast_mcast {
            return;
        }
        let ip = ipv4::Packet::new_unchecked(invoking);
        if ip.flags_frag_off() & ipv4::IP_OFFSET != 0 {
            return;
        }
        let ihl = ip.header_len();
        if icmpv4::is_error(t) && ip.protocol() == ip_proto::ICMP {
            match invoking.get(ihl) {
                Some(&it) if it <= NR_ICMP_TYPES && !icmpv4::is_error(it) => {}
                _ => return,
            }
        }
        let (isrc, idst, itos) = (ip.src_addr(), ip.dst_addr(), ip.tos());
        // icmp_errors_use_inbound_ifaddr 0: our address if it was to us, else routing's.
        let saddr = if ctx.local { idst } else { Ipv4Addr::UNSPECIFIED };
        let tos = if icmpv4::is_error(t) { (itos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL } else { itos };
        let hdr = invoking.get(..ihl).unwrap_or(&[]);
        let is_unicast = |a: Ipv4Addr| self.net.fib4.addr_type(a) == RouteType::Unicast;
        let Some(opts) = ip_options_echo(&ctx.opts, hdr, &is_unicast) else { return };
        let Ok(rt) = self.ip_route_output(isrc, saddr, tos & IPTOS_RT_MASK, 0) else { return };
        if !self.icmp_xrlim(&rt, t, code, isrc) {
            return;
        }
        let mtu = self.net.devices.get(&rt.dev).map_or(0, |d| d.mtu as usize);
        let room = mtu.min(ICMP_ERROR_MAX).saturating_sub(ipv4::HEADER_LEN + opts.optlen + icmpv4::HEADER_LEN);
        let quote = &invoking[..invoking.len().min(room)];
        let mut msg = Vec::with_capacity(icmpv4::HEADER_LEN + quote.len());
        msg.extend_from_slice(&[t, code, 0, 0]);
        msg.extend_from_slice(&info.to_be_bytes());
        msg.extend_from_slice(quote);
        let c = checksum::checksum(&msg);
        msg[2..4].copy_from_slice(&c.to_be_bytes());
        let ttl = self.net.ipv4.ip_default_ttl;
        let o = Ip4Out { saddr: rt.saddr, daddr: isrc, proto: ip_proto::ICMP, tos, ttl, df: false, opts };
        self.ip_send(&o, &msg, &rt);
    }
}
