//! UDP over both families (`net/ipv4/udp.c`, `net/ipv6/udp.c`): `udp_sendmsg` and
//! `udpv6_sendmsg` in 4.3's check order through the IPv4 and IPv6 output paths,
//! `udp_recvmsg`/`udpv6_recvmsg`, delivery from `__udp4_lib_rcv`/`__udp6_lib_rcv` into
//! the receive queue, and ICMP errors turned into `sk_err` (`__udp4_lib_err`,
//! `__udp6_lib_err`). The socket calls themselves are in `af_inet.rs`, `datagram.rs`,
//! `msghdr.rs` and `sockopt.rs`.

#![warn(missing_docs)]

use super::cmsg::Ipcm4;
use super::ipv4::icmp::IcmpCtx;
use super::ipv6::ip6_output::Ip6Out;
use super::msghdr::{MsgIn, MsgOut, UserIov};
use super::socket::*;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::net::ipv4::ip_options::IpOptions;
use crate::net::ipv4::ip_output::Ip4Out;
use crate::net::ipv4::route::Rtable;
use crate::net::snmp::{IpStats, Udp};
use crate::net::wire::{checksum, ip_proto, Ipv4Addr, Ipv6Addr};
use crate::syscalls::dispatch::SysErr;
use crate::uapi::Errno;
use alloc::vec;

/// `IPV6_MAXPLEN`.
pub(super) const IPV6_MAXPLEN: usize = 65535;
/// `ICMP_DEST_UNREACH`, `ICMP_TIME_EXCEEDED`, `ICMP_PARAMETERPROB`.
const ICMP_DEST_UNREACH: u8 = 3;
const ICMP_TIME_EXCEEDED: u8 = 11;
const ICMP_PARAMETERPROB: u8 = 12;

/// `icmp_err_convert`: (errno, fatal) of each Destination Unreachable code.
pub(super) const ICMP_ERR_CONVERT: [(Errno, bool); 16] = [
    (Errno::ENETUNREACH, false),
    (Errno::EHOSTUNREACH, false),
    (Errno::ENOPROTOOPT, true),
    (Errno::ECONNREFUSED, true),
    (Errno::EMSGSIZE, false),
    (Errno::EOPNOTSUPP, false),
    (Errno::ENETUNREACH, true),
    (Errno::EHOSTDOWN, true),
    (Errno::ENONET, true),
    (Errno::ENETUNREACH, true),
    (Errno::EHOSTUNREACH, true),
    (Errno::ENETUNREACH, false),
    (Errno::EHOSTUNREACH, false),
    (Errno::EHOSTUNREACH, true),
    (Errno::EHOSTUNREACH, true),
    (Errno::EHOSTUNREACH, true),
];

/// `__udp4_lib_err`'s reading of an ICMP error: `None` for the types and codes it
/// ignores.
fn udp_err_convert(t: u8, code: u8) -> Option<(Errno, bool)> {
    match t {
        ICMP_DEST_UNREACH => ICMP_ERR_CONVERT.get(usize::from(code)).copied(),
        ICMP_TIME_EXCEEDED => Some((Errno::EHOSTUNREACH, false)),
        ICMP_PARAMETERPROB => Some((Errno::EPROTO, true)),
        _ => None,
    }
}

/// `icmpv6_err_convert`: (errno, fatal) of an ICMPv6 error; other types are a soft
/// `EPROTO`.
pub(super) fn icmpv6_err_convert(t: u8, code: u8) -> (Errno, bool) {
    use crate::net::wire::icmpv6::msg_type;
    match t {
        msg_type::DST_UNREACH => match code {
            0 => (Errno::ENETUNREACH, false),
            1 => (Errno::EACCES, true),
            2 | 3 => (Errno::EHOSTUNREACH, false),
            4 => (Errno::ECONNREFUSED, true),
            5 | 6 => (Errno::EACCES, true),
            _ => (Errno::EPROTO, true),
        },
        msg_type::PKT_TOO_BIG => (Errno::EMSGSIZE, false),
        msg_type::PARAM_PROBLEM => (Errno::EPROTO, true),
        msg_type::TIME_EXCEEDED => (Errno::EHOSTUNREACH, false),
        _ => (Errno::EPROTO, false),
    }
}

impl<H: Hal> Kernel<H> {
    /// `udp_sendmsg`.
    pub(super) fn udp_sendmsg(&mut self, pid: Pid, id: SockId, msg: &MsgOut) -> Result<usize, Errno> {
        let (len, flags) = (msg.iov.len, msg.flags);
        if len > 0xffff {
            return Err(Errno::EMSGSIZE);
        }
        if flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let dest = match msg.name.as_deref() {
            Some(a) => {
                if a.len() < SOCKADDR_IN_LEN {
                    return Err(Errno::EINVAL);
                }
                let fam = sa_family(a);
                if fam != AF_INET && fam != AF_UNSPEC {
                    return Err(Errno::EAFNOSUPPORT);
                }
                let (d, p) = parse_in(a);
                if p == 0 {
                    return Err(Errno::EINVAL);
                }
                (d, p)
            }
            None => {
                let sk = self.sk(id)?;
                if !sk.connected {
                    return Err(Errno::EDESTADDRREQ);
                }
                (sk.daddr4, sk.dport)
            }
        };
        let ipc = self.udp_cmsg4(id, msg)?;
        self.udp_send4(pid, id, msg, dest, &ipc)
    }

    /// The output route of socket `id` to `daddr` (from its source address and bound
    /// device), as connect and sendmsg both take it: `OutNoRoutes` counted for
    /// ENETUNREACH, and EACCES for a broadcast route without SO_BROADCAST.
    pub(super) fn udp_route4(&mut self, id: SockId, daddr: Ipv4Addr) -> Result<Rtable, Errno> {
        let sk = self.sk(id)?;
        let (saddr, oif) = (sk.saddr4, sk.bound_dev_if);
        self.sk_route4(id, daddr, saddr, oif)
    }

    /// `ip_route_output_flow` for a socket's datagram from `saddr` (0: any) out of `oif`
    /// (0: any), with `OutNoRoutes` for ENETUNREACH and `EACCES` for a broadcast route
    /// without `SO_BROADCAST` (UDP's and raw's sendmsg and connect alike).
    pub(super) fn sk_route4(&mut self, id: SockId, daddr: Ipv4Addr, saddr: Ipv4Addr, oif: u32) -> Result<Rtable, Errno> {
        let bcast = self.sk(id)?.broadcast;
        let rt = self.ip_route_output(daddr, saddr, 0, oif).inspect_err(|&e| {
            if e == Errno::ENETUNREACH {
                self.net.mib.ip_statistics.inc(IpStats::OutNoRoutes);
            }
        });
        let rt = rt?;
        if rt.broadcast && !bcast {
            return Err(Errno::EACCES);
        }
        Ok(rt)
    }

    /// The common tail of `udp_sendmsg`: route, build, send. `ipc` holds what control
    /// messages asked for (`ipcm_cookie`).
    pub(super) fn udp_send4(&mut self, pid: Pid, id: SockId, msg: &MsgOut, (daddr, dport): (Ipv4Addr, u16), ipc: &Ipcm4) -> Result<usize, Errno> {
        let len = msg.iov.len;
        let sk = self.sk(id)?;
        let saddr = ipc.addr.unwrap_or(sk.saddr4);
        let oif = ipc.oif.unwrap_or(sk.bound_dev_if);
        let rt = self.sk_route4(id, daddr, saddr, oif)?;
        let sport = self.sk(id)?.num;
        // ip_append_data: at most 0xFFFF bytes of datagram with its 20-byte header.
        if len + 8 > 0xffff - 20 {
            return Err(Errno::EMSGSIZE);
        }
        let mut seg = vec![0u8; 8 + len];
        self.ip_append_data(pid, id, &msg.iov, 0, &mut seg[8..])?;
        seg[0..2].copy_from_slice(&sport.to_be_bytes());
        seg[2..4].copy_from_slice(&dport.to_be_bytes());
        seg[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
        let pseudo = checksum::pseudo_header_v4(&rt.saddr, &daddr, ip_proto::UDP, (8 + len) as u16);
        let c = checksum::fold(checksum::combine(&[pseudo, checksum::sum(&seg)]));
        // A computed 0 goes out as 0xFFFF (CSUM_MANGLED_0).
        let c = if c == 0 { 0xffff } else { c };
        seg[6..8].copy_from_slice(&c.to_be_bytes());
        let mtu = self.ip_path_mtu(rt.dev, daddr).unwrap_or(0) as usize;
        let ttl = ipc.ttl.unwrap_or(if daddr.is_multicast() { 1 } else { self.net.ipv4.ip_default_ttl });
        // IP_PMTUDISC_WANT: DF when the datagram fits the path's MTU.
        let o = Ip4Out { saddr: rt.saddr, daddr, proto: ip_proto::UDP, tos: ipc.tos, ttl, df: 20 + seg.len() <= mtu, opts: IpOptions::default() };
        self.ip_send(&o, &seg, &rt);
        self.net.mib.udp_statistics.inc(Udp::OutDatagrams);
        Ok(len)
    }

    /// `udpv6_sendmsg`.
    pub(super) fn udpv6_sendmsg(&mut self, pid: Pid, id: SockId, msg: &MsgOut) -> Result<usize, Errno> {
        let (len, flags, name) = (msg.iov.len, msg.flags, msg.name.as_deref());
        let mut dest = None;
        if let Some(a) = name {
            if a.len() < 2 {
                return Err(Errno::EINVAL);
            }
            match sa_family(a) {
                AF_INET6 => {
                    if a.len() < SIN6_LEN_RFC2133 {
                        return Err(Errno::EINVAL);
                    }
                    if let SockAddr::V6 { addr, port, scope_id, .. } = parse_in6(a) {
                        dest = Some((addr, port, scope_id));
                    }
                }
                AF_INET => {
                    if self.sk(id)?.v6only() {
                        return Err(Errno::ENETUNREACH);
                    }
                    return self.udp_sendmsg(pid, id, msg);
                }
                AF_UNSPEC => {}
                _ => return Err(Errno::EINVAL),
            }
        }
        let sk = self.sk(id)?;
        let (daddr, port, scope, connected) = match dest {
            Some((a, p, s)) => (a, p, s, false),
            None => {
                if !sk.connected {
                    return Err(Errno::EDESTADDRREQ);
                }
                (sk.daddr6, sk.dport, 0, true)
            }
        };
        if let Some(v4) = v4mapped(&daddr) {
            if sk.v6only() {
                return Err(Errno::ENETUNREACH);
            }
            if !connected && port == 0 {
                return Err(Errno::EINVAL);
            }
            if flags & MSG_OOB != 0 {
                return Err(Errno::EOPNOTSUPP);
            }
            let ipc = self.udp_cmsg4(id, msg)?;
            return self.udp_send4(pid, id, msg, (v4, port), &ipc);
        }
        if !connected && port == 0 {
            return Err(Errno::EINVAL);
        }
        let mut oif = if !connected && name.is_some_and(|a| a.len() >= SOCKADDR_IN6_LEN) && scope != 0 && needs_scope_id(&daddr) { scope } else { 0 };
        if oif == 0 {
            oif = sk.bound_dev_if;
        }
        let (mut saddr, sport) = (sk.saddr6, sk.num);
        let ipc = self.ip6_datagram_send_ctl(pid, &msg.control, &mut oif)?;
        if let Some(a) = ipc.saddr {
            saddr = a;
        }
        // :: means loopback (a BSD-ism).
        let daddr = if daddr.is_unspecified() { Ipv6Addr::LOCALHOST } else { daddr };
        let (dev, nexthop) = self.ip6_route_output_from(&daddr, &saddr, oif)?;
        let src = self.ip6_select_saddr(saddr, dev, &daddr)?;
        // __ip6_append_data: the payload with any extension headers fits IPv6's 16-bit
        // length; with IPV6_DONTFRAG it must also fit the route's MTU.
        let ext: usize = ipc.exthdrs().iter().map(|h| h.1.len()).sum();
        if 8 + len + ext > IPV6_MAXPLEN {
            return Err(Errno::EMSGSIZE);
        }
        let mtu = self.net.devices.get(&dev).map_or(0, |d| d.mtu as usize);
        if ipc.dontfrag && 8 + len > mtu.saturating_sub(super::wire::ipv6::HEADER_LEN + ext) {
            return Err(Errno::EMSGSIZE);
        }
        let mut seg = vec![0u8; 8 + len];
        self.ip6_append_data(pid, id, dev, &msg.iov, 0, &mut seg[8..])?;
        seg[0..2].copy_from_slice(&sport.to_be_bytes());
        seg[2..4].copy_from_slice(&port.to_be_bytes());
        seg[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
        let c = super::ipv6::ip6_output::upper_checksum(&src, &daddr, ip_proto::UDP, &seg);
        // The checksum is mandatory over IPv6: a computed 0 is sent as 0xFFFF.
        let c = if c == 0 { 0xffff } else { c };
        seg[6..8].copy_from_slice(&c.to_be_bytes());
        let hop_limit = ipc.hlimit.unwrap_or(if daddr.is_multicast() { 1 } else { super::ipv6::icmp::DEFAULT_HOP_LIMIT });
        // An IPV6_FLOWINFO of traffic-class bits stops the automatic label and lands in
        // the header beside IPV6_TCLASS (ip6_flow_hdr ORs them in).
        let flowlabel = if ipc.flowinfo != 0 { 0 } else { self.ip6_flowlabel(&src, &daddr, ip_proto::UDP) };
        let tclass = ipc.tclass | (ipc.flowinfo >> 20) as u8;
        let (first, payload) = ipc.push_exthdrs(ip_proto::UDP, &seg);
        let o = Ip6Out { saddr: src, daddr, proto: first, hop_limit, tclass, flowlabel };
        self.ip6_send(o, &payload, dev, nexthop);
        self.net.mib.udp_stats_in6.inc(Udp::OutDatagrams);
        Ok(len)
    }

    /// `udp_recvmsg`/`udpv6_recvmsg`: the head datagram's payload (`MSG_TRUNC` in
    /// `msg_flags` when the buffers are shorter; the full length returned with the
    /// `MSG_TRUNC` flag). `InDatagrams` counts the first look at a datagram, a `MSG_PEEK`
    /// included, in the MIB of the family it arrived over; a failed copy of a datagram
    /// not looked at before counts a drop and `InErrors`.
    pub(super) fn udp_recvmsg(&mut self, pid: Pid, id: SockId, iov: &UserIov, flags: u32) -> Result<MsgIn, SysErr> {
        if flags & MSG_ERRQUEUE != 0 {
            // No IP_RECVERR queue: ip_recv_error finds nothing.
            return Err(Errno::EAGAIN.into());
        }
        let d = self.skb_recv_datagram(pid, id, flags)?;
        let ulen = d.data.len();
        let copied = iov.len.min(ulen);
        let trunc = if copied < ulen { MSG_TRUNC } else { 0 };
        let r = self.iov_copy_to(pid, iov, &d.data[..copied]);
        let r = self.skb_recv_done(id, flags, r);
        // udpv6_recvmsg counts an IPv4 datagram in the IPv4 MIB.
        let mib = if d.v4 { &mut self.net.mib.udp_statistics } else { &mut self.net.mib.udp_stats_in6 };
        if let Err(e) = r {
            if !d.peeked && e != Errno::ERESTARTSYS {
                mib.inc(Udp::InErrors);
                if let Some(sk) = self.net.socks.socks.get_mut(&id) {
                    sk.drops += 1;
                }
            }
            return Err(e.into());
        }
        if !d.peeked {
            mib.inc(Udp::InDatagrams);
        }
        let ret = if flags & MSG_TRUNC != 0 { ulen } else { copied };
        Ok(MsgIn { ret, from: d.from, flags: trunc, hop_limit: (!d.v4).then_some(d.hop_limit) })
    }

    /// The source address a socket of `family` reports for a datagram from `saddr`.
    pub(super) fn from_v4(family: Family, saddr: Ipv4Addr, sport: u16) -> SockAddr {
        match family {
            Family::V4 => SockAddr::V4 { addr: saddr, port: sport },
            Family::V6 => SockAddr::V6 { addr: mapped(saddr), port: sport, flowinfo: 0, scope_id: 0 },
        }
    }

    /// Socket delivery of an IPv4 datagram (`__udp4_lib_rcv` from the lookup on):
    /// `pkt` is trimmed to the UDP length and its checksum field not yet verified.
    /// Returns `false` when no socket wants it (the caller answers Port Unreachable).
    pub(crate) fn udp4_deliver(&mut self, pkt: &[u8], thoff: usize, ctx: &IcmpCtx) -> bool {
        let ip = crate::net::wire::ipv4::Packet::new_unchecked(pkt);
        let (saddr, daddr) = (ip.src_addr(), ip.dst_addr());
        let seg = &pkt[thoff..];
        let (sport, dport) = (u16::from_be_bytes([seg[0], seg[1]]), u16::from_be_bytes([seg[2], seg[3]]));
        let l = Lookup { saddr, sport, daddr, dport, dif: ctx.iif };
        let targets = if ctx.bcast_mcast { self.net.socks.mcast4(&l) } else { self.net.socks.lookup4(&l).into_iter().collect() };
        if targets.is_empty() {
            return false;
        }
        // udp_lib_checksum_complete before queueing: a bad non-zero checksum drops.
        let check = u16::from_be_bytes([seg[6], seg[7]]);
        if check != 0 {
            let pseudo = checksum::pseudo_header_v4(&saddr, &daddr, ip_proto::UDP, seg.len() as u16);
            if checksum::fold(checksum::combine(&[pseudo, checksum::sum(seg)])) != 0 {
                self.net.mib.udp_statistics.inc(Udp::CsumErrors);
                self.net.mib.udp_statistics.inc(Udp::InErrors);
                return true;
            }
        }
        let truesize = crate::net::inet_frag::frag_truesize(pkt.len());
        for id in targets {
            let Some(family) = self.net.socks.socks.get(&id).map(|s| s.family) else { continue };
            let d = Dgram { from: Self::from_v4(family, saddr, sport), data: seg[8..].to_vec(), truesize, v4: true, peeked: false, hop_limit: 0 };
            self.udp_queue_rcv(id, d, false);
        }
        true
    }

    /// Socket delivery of an IPv6 datagram whose checksum has verified: `false` when no
    /// socket wants it.
    pub(crate) fn udp6_deliver(&mut self, pkt: &[u8], thoff: usize, iif: u32) -> bool {
        let ip = crate::net::wire::ipv6::Packet::new_unchecked(pkt);
        let (saddr, daddr) = (ip.src_addr(), ip.dst_addr());
        let seg = &pkt[thoff..];
        let (sport, dport) = (u16::from_be_bytes([seg[0], seg[1]]), u16::from_be_bytes([seg[2], seg[3]]));
        let l = Lookup { saddr, sport, daddr, dport, dif: iif };
        let targets = if daddr.is_multicast() { self.net.socks.mcast6(&l) } else { self.net.socks.lookup6(&l).into_iter().collect() };
        if targets.is_empty() {
            return false;
        }
        let scope_id = if needs_scope_id(&saddr) { iif } else { 0 };
        let truesize = crate::net::inet_frag::frag_truesize(pkt.len());
        for id in targets {
            let hop_limit = crate::net::wire::ipv6::Packet::new_unchecked(pkt).hop_limit();
            let d = Dgram { from: SockAddr::V6 { addr: saddr, port: sport, flowinfo: 0, scope_id }, data: seg[8..].to_vec(), truesize, v4: false, peeked: false, hop_limit };
            self.udp_queue_rcv(id, d, true);
        }
        true
    }

    /// `__udp4_lib_err`: an ICMP error of `t`/`code` quoting `quoted` (an IPv4 header
    /// and at least 8 bytes of UDP) arrived on `iif`. Without `IP_RECVERR` only a hard
    /// error on a connected socket is kept, as `sk_err`.
    /// Fragmentation Needed also updates the path MTU (`ipv4_sk_update_pmtu`).
    pub(crate) fn udp4_err(&mut self, quoted: &[u8], t: u8, code: u8, info: u32, iif: u32) {
        let Some(&vihl) = quoted.first() else { return };
        let ihl = usize::from(vihl & 0x0f) * 4;
        if quoted.len() < ihl + 8 || ihl < 20 || quoted[9] != ip_proto::UDP {
            return;
        }
        let g4 = |o: usize| Ipv4Addr::new(quoted[o], quoted[o + 1], quoted[o + 2], quoted[o + 3]);
        let (qsrc, qdst) = (g4(12), g4(16));
        let u = &quoted[ihl..];
        let (sport, dport) = (u16::from_be_bytes([u[0], u[1]]), u16::from_be_bytes([u[2], u[3]]));
        // The socket that sent it: its destination is the quoted destination.
        let l = Lookup { saddr: qdst, sport: dport, daddr: qsrc, dport: sport, dif: iif };
        let Some(id) = self.net.socks.lookup4(&l) else { return };
        if t == ICMP_DEST_UNREACH && code == 4 {
            self.ip_rt_update_pmtu(qdst, info);
        }
        let Some((err, fatal)) = udp_err_convert(t, code) else { return };
        self.udp_set_err(id, err, fatal);
    }

    /// `__udp6_lib_err` with `icmpv6_err_convert`.
    /// A Packet Too Big also updates the path MTU (`ip6_sk_update_pmtu`).
    pub(crate) fn udp6_err(&mut self, quoted: &[u8], thoff: usize, t: u8, code: u8, info: u32, iif: u32) {
        if quoted.len() < thoff + 8 || quoted.len() < 40 {
            return;
        }
        let g6 = |o: usize| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&quoted[o..o + 16]);
            Ipv6Addr::from(a)
        };
        let (qsrc, qdst) = (g6(8), g6(24));
        let u = &quoted[thoff..];
        let (sport, dport) = (u16::from_be_bytes([u[0], u[1]]), u16::from_be_bytes([u[2], u[3]]));
        let l = Lookup { saddr: qdst, sport: dport, daddr: qsrc, dport: sport, dif: iif };
        let Some(id) = self.net.socks.lookup6(&l) else { return };
        if t == crate::net::wire::icmpv6::msg_type::PKT_TOO_BIG {
            self.ip6_update_pmtu(&qdst, info);
        }
        let (err, fatal) = icmpv6_err_convert(t, code);
        self.udp_set_err(id, err, fatal);
    }

    /// Keeps a hard error on a connected socket as `sk_err` and wakes its sleepers
    /// (`sk_error_report`); without `IP_RECVERR`/`IPV6_RECVERR` nothing else is kept.
    pub(super) fn udp_set_err(&mut self, id: SockId, err: Errno, fatal: bool) {
        let Some(sk) = self.net.socks.socks.get_mut(&id) else { return };
        if !fatal || !sk.connected {
            return;
        }
        sk.err = Some(err);
        // sk_error_report wakes the sleepers.
        let wq = sk.wq;
        self.wake_up(wq);
    }
    /// `__udp_queue_rcv_skb`: `sock_queue_rcv_skb`, and a full receive buffer counts
    /// `RcvbufErrors` and `InErrors` in the family's MIB.
    fn udp_queue_rcv(&mut self, id: SockId, d: Dgram, v6: bool) {
        if !self.sock_queue_rcv(id, d) {
            let mib = if v6 { &mut self.net.mib.udp_stats_in6 } else { &mut self.net.mib.udp_statistics };
            mib.inc(Udp::RcvbufErrors);
            mib.inc(Udp::InErrors);
        }
    }

    /// What `__ip_append_data` does with the data of a datagram being built: the
    /// socket's pending error ends it (`sock_alloc_send_skb` asks `sock_error` first),
    /// then the bytes `off..` of the message are copied into `dst` (`EFAULT`); either
    /// failure counts `OutDiscards`.
    pub(super) fn ip_append_data(&mut self, pid: Pid, id: SockId, iov: &UserIov, off: usize, dst: &mut [u8]) -> Result<(), Errno> {
        let r = self.take_sk_err(id).and_then(|()| self.iov_copy_from(pid, iov, off, dst));
        if r.is_err() {
            self.net.mib.ip_statistics.inc(IpStats::OutDiscards);
        }
        r
    }

    /// `__ip6_append_data`'s twin of [`ip_append_data`](Self::ip_append_data): failures
    /// count `OutDiscards` globally and on the route's device `dev`.
    pub(super) fn ip6_append_data(&mut self, pid: Pid, id: SockId, dev: u32, iov: &UserIov, off: usize, dst: &mut [u8]) -> Result<(), Errno> {
        let r = self.take_sk_err(id).and_then(|()| self.iov_copy_from(pid, iov, off, dst));
        if r.is_err() {
            let net = &mut self.net;
            net.mib.ip6_inc(net.dev_snmp6.get_mut(&dev), IpStats::OutDiscards);
        }
        r
    }
}
