//! IPv4 input (`net/ipv4/ip_input.c`): `ip_rcv`'s header checks in 4.3's order with
//! their counters (spec net-ipv6.md §10.1), `ip_rcv_finish` (input route, options,
//! broadcast/multicast counters), `ip_error` for routes that go nowhere, and local
//! delivery (`ip_local_deliver`: reassembly, then ICMP, UDP, or Protocol Unreachable),
//! plus the reassembly timer (`ip_expire`).

use super::icmp::IcmpCtx;
use super::ip_fragment::{IpDefragVerdict, IP_DEFRAG_LOCAL_DELIVER};
use super::ip_options::{ip_options_compile, CompileEnv, IpOptions};
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::fib::RouteType;
use crate::net::skbuff::{PacketType, SkBuff};
use crate::net::snmp::{IpStats, PoBase};
use crate::net::wire::icmpv4::{msg_type, time_exceeded, unreach};
use crate::net::wire::{checksum, ip_proto, ipv4, Ipv4Addr};
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `IPPROTO_IGMP`: delivered to `igmp_rcv`, which k43 does not run (no multicast
/// routers to answer), so it is consumed.
const IPPROTO_IGMP: u8 = 2;

impl<H: Hal> Kernel<H> {
    fn ip_inc(&mut self, f: IpStats) {
        self.net.mib.ip_statistics.inc(f);
    }

    /// `ip_rcv`: `skb` holds the datagram from its IPv4 header (link padding included).
    pub(crate) fn ip_rcv(&mut self, skb: SkBuff) {
        let (iif, pkt_type) = (skb.dev, skb.pkt_type);
        // Promiscuous receptions are not analysed.
        if pkt_type == PacketType::OtherHost {
            return;
        }
        let mut pkt = skb.into_bytes();
        self.net.mib.ip_statistics.upd_po(PoBase::In, pkt.len() as u64);
        if pkt.len() < ipv4::HEADER_LEN {
            return self.ip_inc(IpStats::InHdrErrors);
        }
        let ihl = usize::from(pkt[0] & 0x0f) * 4;
        if ihl < ipv4::HEADER_LEN || pkt[0] >> 4 != 4 {
            return self.ip_inc(IpStats::InHdrErrors);
        }
        let ecn = pkt[1] & 3;
        self.ip_inc([IpStats::NoEctPkts, IpStats::Ect1Pkts, IpStats::Ect0Pkts, IpStats::CePkts][usize::from(ecn)]);
        if pkt.len() < ihl {
            return self.ip_inc(IpStats::InHdrErrors);
        }
        if !checksum::verifies(&pkt[..ihl]) {
            self.ip_inc(IpStats::CsumErrors);
            return self.ip_inc(IpStats::InHdrErrors);
        }
        let tot = usize::from(u16::from_be_bytes([pkt[2], pkt[3]]));
        if pkt.len() < tot {
            return self.ip_inc(IpStats::InTruncatedPkts);
        }
        if tot < ihl {
            return self.ip_inc(IpStats::InHdrErrors);
        }
        // Ethernet padding is not part of the datagram.
        pkt.truncate(tot);
        self.ip_rcv_finish(pkt, iif, pkt_type);
    }

    /// `ip_rcv_finish`: the input route (a failure drops silently), the options
    /// (`ip_rcv_options`: a malformed one is answered with Parameter Problem and counted
    /// in `InHdrErrors`; a source route is dropped, `accept_source_route` being 0), the
    /// broadcast/multicast counters, then `dst_input`.
    fn ip_rcv_finish(&mut self, mut pkt: Vec<u8>, iif: u32, pkt_type: PacketType) {
        let ip = ipv4::Packet::new_unchecked(&pkt[..]);
        let (saddr, daddr, tos, ihl) = (ip.src_addr(), ip.dst_addr(), ip.tos(), ip.header_len());
        let Ok(rt) = self.ip_route_input(daddr, saddr, tos, iif) else { return };
        let mut opts = IpOptions::default();
        if ihl > ipv4::HEADER_LEN {
            let spec_dst = self.fib_compute_spec_dst(rt.local && !rt.broadcast && !rt.multicast, saddr, daddr, tos, iif);
            let midtime = self.ip_midtime();
            let fib = &self.net.fib4;
            let is_unicast = |a: Ipv4Addr| fib.addr_type(a) == RouteType::Unicast;
            let env = CompileEnv { spec_dst, midtime, is_unicast: &is_unicast };
            if let Err(ptr) = ip_options_compile(&mut pkt[..ihl], &env, &mut opts) {
                {
                    // icmp_send echoes what was compiled before the bad option.
                    let ctx = IcmpCtx::input(&rt, pkt_type, iif, opts);
                    self.icmp_send(&pkt, &ctx, msg_type::PARAMETER_PROB, 0, (ptr as u32) << 24);
                    return self.ip_inc(IpStats::InHdrErrors);
                }
            }
            if opts.srr != 0 {
                return;
            }
        }
        let len = pkt.len() as u64;
        match rt.rtype {
            RouteType::Multicast => self.net.mib.ip_statistics.upd_po(PoBase::InMcast, len),
            RouteType::Broadcast => self.net.mib.ip_statistics.upd_po(PoBase::InBcast, len),
            _ => {}
        }
        let ctx = IcmpCtx::input(&rt, pkt_type, iif, opts);
        match rt.error {
            Some(e) => self.ip_error(&pkt, &ctx, e),
            None if !rt.local => self.ip_forward(pkt, &ctx, &rt),
            None => self.ip_local_deliver(pkt, &ctx),
        }
    }

    /// `ip_error`: a host counts and drops (`InAddrErrors` for "not ours",
    /// `InNoRoutes` for no route); a router answers Destination Unreachable, limited per
    /// source by `ip_error`'s own bucket.
    fn ip_error(&mut self, pkt: &[u8], ctx: &IcmpCtx, e: Errno) {
        if !self.ipv4_forwarding() {
            match e {
                Errno::EHOSTUNREACH => self.ip_inc(IpStats::InAddrErrors),
                Errno::ENETUNREACH => self.ip_inc(IpStats::InNoRoutes),
                _ => {}
            }
            return;
        }
        let code = match e {
            Errno::EHOSTUNREACH => unreach::HOST,
            Errno::ENETUNREACH => {
                self.ip_inc(IpStats::InNoRoutes);
                unreach::NET
            }
            Errno::EACCES => unreach::PKT_FILTERED,
            _ => return,
        };
        let saddr = ipv4::Packet::new_unchecked(pkt).src_addr();
        let now = self.hal.now_ns();
        if self.net.peers4.ip_error_allow(&(saddr, 0), now) {
            self.icmp_send(pkt, ctx, msg_type::DEST_UNREACH, code, 0);
        }
    }

    /// `ip_local_deliver`: fragments are reassembled first; then
    /// `ip_local_deliver_finish` gives raw sockets their copies, hands the datagram to its
    /// protocol and counts `InDelivers`, or, with neither a handler nor a raw socket,
    /// answers Protocol Unreachable (`InUnknownProtos`).
    fn ip_local_deliver(&mut self, pkt: Vec<u8>, ctx: &IcmpCtx) {
        let mut pkt = pkt;
        let mut ctx = ctx.clone();
        let frag = ipv4::Packet::new_unchecked(&pkt[..]).flags_frag_off() & (ipv4::IP_MF | ipv4::IP_OFFSET) != 0;
        if frag {
            let now = self.hal.now_ns();
            let r = self.net.frags4.ip_defrag(&pkt, IP_DEFRAG_LOCAL_DELIVER, 0, ctx.iif as i32, now);
            self.net.mib.ip_statistics.add_reasm(&r.mib);
            match r.verdict {
                IpDefragVerdict::Reassembled(re) => {
                    pkt = re.packet;
                    // The reassembled datagram's options are not recompiled (4.3 keeps
                    // the head fragment's IPCB); k43 echoes none for it.
                    ctx.opts = IpOptions::default();
                }
                IpDefragVerdict::Queued | IpDefragVerdict::Dropped(_) => return,
            }
        }
        let ip = ipv4::Packet::new_unchecked(&pkt[..]);
        let (proto, thoff) = (ip.protocol(), ip.header_len());
        // Raw sockets of the protocol get their copies before its handler runs.
        let raw = self.raw_local_deliver(&pkt, thoff, ctx.iif);
        match proto {
            ip_proto::ICMP => self.icmp_rcv(&pkt, thoff, &ctx),
            ip_proto::UDP => self.udp_rcv(pkt, thoff, &ctx),
            IPPROTO_IGMP => {}
            // No handler (k43 has no TCP): a raw socket's copy was the delivery.
            _ if raw => {}
            _ => {
                self.ip_inc(IpStats::InUnknownProtos);
                return self.icmp_send(&pkt, &ctx, msg_type::DEST_UNREACH, unreach::PROTOCOL, 0);
            }
        }
        self.ip_inc(IpStats::InDelivers);
    }

    /// The reassembly timer (`ip_expire`): each expired queue counts `ReasmFails` and
    /// `ReasmTimeout`; one holding its first fragment answers Time Exceeded code 1
    /// quoting it, if that fragment still routes (locally, for the users that need it).
    pub(crate) fn ip_frag_timers(&mut self, now: u64) {
        if self.net.frags4.next_expiry().is_none_or(|t| t > now) {
            return;
        }
        let (timeouts, mib) = self.net.frags4.expire(now);
        self.net.mib.ip_statistics.add_reasm(&mib);
        for t in timeouts {
            let Some(head) = t.invoking else { continue };
            let Ok(ip) = ipv4::Packet::new_checked(&head[..]) else { continue };
            let iif = t.iif as u32;
            if !self.net.devices.contains_key(&iif) {
                continue;
            }
            let Ok(rt) = self.ip_route_input(ip.dst_addr(), ip.src_addr(), ip.tos(), iif) else { continue };
            if t.only_if_local && rt.rtype != RouteType::Local {
                continue;
            }
            let ctx = IcmpCtx::input(&rt, PacketType::Host, iif, IpOptions::default());
            self.icmp_send(&head, &ctx, msg_type::TIME_EXCEEDED, time_exceeded::FRAG_TIME, 0);
        }
    }
}
