//! Raw IPv4 sockets (`net/ipv4/raw.c`) and the receive side both families share: the
//! socket a `SOCK_RAW` socket of protocol P is, which datagrams of protocol P it gets
//! (`__raw_v4_lookup`, `raw_local_deliver` — a copy, before the protocol's own handler
//! runs, so the kernel still answers an Echo Request a raw socket also sees), the ICMP
//! type filter (`ICMP_FILTER`), `raw_sendmsg` building the IPv4 header (or taking the
//! caller's with `IP_HDRINCL`), `raw_recvmsg` (the whole datagram from its IP header),
//! `raw_bind`, and ICMP errors for connected raw sockets (`raw_icmp_error`).
//!
//! A raw socket is an [`InetSock`] with [`InetSock::raw`] set; it is "hashed" while its
//! `num` (`inet_sport`) is its protocol — `udp_disconnect` unhashes it for good, as in
//! 4.3. Sockets match newest first (`sk_add_node` puts a new socket at the chain's head).

#![warn(missing_docs)]

use super::msghdr::{MsgIn, MsgOut, UserIov};
use super::socket::*;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::net::fib::RouteType;
use crate::net::ipv4::ip_options::IpOptions;
use crate::net::ipv4::ip_output::Ip4Out;
use crate::net::snmp::IpStats;
use crate::net::wire::{ip_proto, ipv4, Ipv4Addr};
use crate::syscalls::dispatch::SysErr;
use crate::uapi::Errno;
use alloc::vec;
use alloc::vec::Vec;

/// `IPTOS_TOS_MASK`: the TOS bits a route lookup uses (`RT_TOS`).
const IPTOS_TOS_MASK: u8 = 0x1e;
/// `sizeof(struct icmp_filter)`.
const ICMP_FILTER_LEN: usize = 4;

/// `icmp_filter`: whether socket filter `data` blocks the ICMP message `msg` (fewer
/// than the 8 bytes of `struct icmphdr` block; types 32 and up always pass).
pub fn icmp_filter_blocks(data: u32, msg: &[u8]) -> bool {
    if msg.len() < 8 {
        return true;
    }
    let t = msg[0];
    t < 32 && data & (1 << t) != 0
}

impl<H: Hal> Kernel<H> {
    /// The hashed raw sockets of `family` for `protocol`, newest first.
    pub(super) fn raw_socks(&self, family: Family, protocol: u8) -> Vec<SockId> {
        self.net
            .socks
            .socks
            .iter()
            .rev()
            .filter(|(_, sk)| sk.family == family && sk.raw.as_ref().is_some_and(|r| r.protocol == protocol) && sk.num == u16::from(protocol))
            .map(|(&id, _)| id)
            .collect()
    }

    /// `__raw_v4_lookup` over the whole chain: sockets for `protocol` whose connected
    /// peer (if any) is `raddr`, bound address (if any) `laddr`, bound device (if any)
    /// `dif`.
    fn raw_v4_lookup(&self, protocol: u8, raddr: Ipv4Addr, laddr: Ipv4Addr, dif: u32) -> Vec<SockId> {
        self.raw_socks(Family::V4, protocol)
            .into_iter()
            .filter(|id| {
                let sk = &self.net.socks.socks[id];
                (sk.daddr4.is_unspecified() || sk.daddr4 == raddr) && (sk.rcv_saddr4.is_unspecified() || sk.rcv_saddr4 == laddr) && (sk.bound_dev_if == 0 || sk.bound_dev_if == dif)
            })
            .collect()
    }

    /// `raw_local_deliver`: a copy of the datagram `pkt` (from its IP header, reassembled)
    /// for each matching socket whose ICMP filter lets it through; `true` when a socket
    /// matched, filtered or not (then an unknown protocol is no error).
    pub(crate) fn raw_local_deliver(&mut self, pkt: &[u8], thoff: usize, iif: u32) -> bool {
        let ip = ipv4::Packet::new_unchecked(pkt);
        let (protocol, saddr, daddr) = (ip.protocol(), ip.src_addr(), ip.dst_addr());
        let socks = self.raw_v4_lookup(protocol, saddr, daddr, iif);
        let msg = pkt.get(thoff..).unwrap_or(&[]);
        for &id in &socks {
            let Some(r) = self.net.socks.socks.get(&id).and_then(|s| s.raw.as_ref()) else { continue };
            if protocol == ip_proto::ICMP && icmp_filter_blocks(r.icmp_filter, msg) {
                continue;
            }
            // ip_mc_sf_allow passes: no socket joins groups, and mc_all is on.
            let d = Dgram { from: SockAddr::V4 { addr: saddr, port: 0 }, data: pkt.to_vec(), truesize: crate::net::inet_frag::frag_truesize(pkt.len()), v4: true, peeked: false, hop_limit: 0 };
            self.sock_queue_rcv(id, d);
        }
        !socks.is_empty()
    }

    /// `raw_icmp_error`: an ICMP error of `t`/`code` quoting `quoted` (an IPv4 header and
    /// 8 bytes) for the raw sockets of its protocol that sent it; `raw_err` keeps a hard
    /// error on a connected one (no `IP_RECVERR` in k43).
    pub(crate) fn raw_icmp_error(&mut self, quoted: &[u8], t: u8, code: u8, info: u32, iif: u32) {
        let Ok(q) = ipv4::Packet::new_quoted(quoted) else { return };
        if quoted.len() < q.header_len() + 8 {
            return;
        }
        let (protocol, qsrc, qdst) = (q.protocol(), q.src_addr(), q.dst_addr());
        const ICMP_DEST_UNREACH: u8 = 3;
        const ICMP_SOURCE_QUENCH: u8 = 4;
        const ICMP_REDIRECT: u8 = 5;
        const ICMP_PARAMETERPROB: u8 = 12;
        const ICMP_FRAG_NEEDED: u8 = 4;
        for id in self.raw_v4_lookup(protocol, qdst, qsrc, iif) {
            let (err, hard) = match t {
                ICMP_REDIRECT | ICMP_SOURCE_QUENCH => continue,
                ICMP_PARAMETERPROB => (Errno::EPROTO, true),
                // IP_PMTUDISC_WANT makes Fragmentation Needed hard.
                ICMP_DEST_UNREACH if code == ICMP_FRAG_NEEDED => {
                    // raw_err: ipv4_sk_update_pmtu.
                    self.ip_rt_update_pmtu(qdst, info);
                    (Errno::EMSGSIZE, true)
                }
                ICMP_DEST_UNREACH => super::udp::ICMP_ERR_CONVERT.get(usize::from(code)).copied().unwrap_or((Errno::EHOSTUNREACH, false)),
                _ => (Errno::EHOSTUNREACH, false),
            };
            self.udp_set_err(id, err, hard);
        }
    }

    /// `raw_bind`: no family check at all, `EINVAL` when connected or shorter than a
    /// `sockaddr_in`, `EADDRNOTAVAIL` for an address not local, multicast or broadcast;
    /// no port is taken.
    pub(super) fn raw_bind(&mut self, id: SockId, a: &[u8]) -> Result<(), Errno> {
        if self.sk(id)?.connected || a.len() < SOCKADDR_IN_LEN {
            return Err(Errno::EINVAL);
        }
        let (addr, _) = parse_in(a);
        let t = self.inet_addr_type(addr);
        if !addr.is_unspecified() && !matches!(t, RouteType::Local | RouteType::Multicast | RouteType::Broadcast) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let sk = self.sk_mut(id)?;
        sk.rcv_saddr4 = addr;
        sk.saddr4 = if matches!(t, RouteType::Multicast | RouteType::Broadcast) { Ipv4Addr::UNSPECIFIED } else { addr };
        Ok(())
    }

    /// `raw_sendmsg`, in 4.3's order: size, `MSG_OOB`, the address (a name of length 0
    /// is none; `AF_UNSPEC` passes), control messages, the first two bytes of an ICMP
    /// message (read before routing: `EFAULT` for a shorter one), the route
    /// (`EACCES` for broadcast without `SO_BROADCAST`; no `OutNoRoutes`), then the
    /// datagram. `OutMsgs` and the type's counter come from `icmp_out_count`.
    pub(super) fn raw_sendmsg(&mut self, pid: Pid, id: SockId, msg: &MsgOut) -> Result<usize, Errno> {
        let len = msg.iov.len;
        if len > 0xffff {
            return Err(Errno::EMSGSIZE);
        }
        if msg.flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let sk = self.sk(id)?;
        let daddr = match msg.name.as_deref().filter(|a| !a.is_empty()) {
            Some(a) => {
                if a.len() < SOCKADDR_IN_LEN {
                    return Err(Errno::EINVAL);
                }
                let fam = sa_family(a);
                if fam != AF_INET && fam != AF_UNSPEC {
                    return Err(Errno::EAFNOSUPPORT);
                }
                parse_in(a).0
            }
            None => {
                if !sk.connected {
                    return Err(Errno::EDESTADDRREQ);
                }
                sk.daddr4
            }
        };
        let (raw, mut saddr, mut oif) = (sk.raw.clone().unwrap_or_default(), sk.saddr4, sk.bound_dev_if);
        let ipc = if msg.control.is_empty() { super::cmsg::Ipcm4::default() } else { self.ip_cmsg_send(&msg.control, false)? };
        if let Some(a) = ipc.addr {
            saddr = a;
        }
        if let Some(o) = ipc.oif {
            oif = o;
        }
        // rfv.hdr: an ICMP message's type and code, copied before the route.
        let mut head = Vec::new();
        if !raw.hdrincl && raw.protocol == ip_proto::ICMP {
            head = vec![0u8; 2];
            self.iov_copy_from(pid, &msg.iov, 0, &mut head)?;
        }
        let rt = self.ip_route_output(daddr, saddr, ipc.tos & IPTOS_TOS_MASK, oif)?;
        if rt.broadcast && !self.sk(id)?.broadcast {
            return Err(Errno::EACCES);
        }
        if raw.hdrincl {
            self.raw_send_hdrinc(pid, id, msg, &rt)?;
            return Ok(len);
        }
        // ip_append_data with IP_PMTUDISC_WANT (ignore_df): up to 0xFFFF with the header.
        if len > 0xffff - ipv4::HEADER_LEN {
            return Err(Errno::EMSGSIZE);
        }
        let mut data = vec![0u8; len];
        data[..head.len()].copy_from_slice(&head);
        let off = head.len();
        self.ip_append_data(pid, id, &msg.iov, off, &mut data[off..])?;
        let mtu = self.net.devices.get(&rt.dev).map(|d| d.mtu as usize).unwrap_or(0);
        let ttl = ipc.ttl.unwrap_or(if daddr.is_multicast() { 1 } else { self.net.ipv4.ip_default_ttl });
        let o = Ip4Out { saddr: rt.saddr, daddr, proto: raw.protocol, tos: ipc.tos, ttl, df: ipv4::HEADER_LEN + len <= mtu, opts: IpOptions::default() };
        self.ip_send(&o, &data, &rt);
        Ok(len)
    }

    /// `raw_send_hdrinc`: the caller's datagram, header included, at most the device MTU
    /// (`EMSGSIZE`). With a header of at least 20 bytes the kernel fills in a zero
    /// source (the route's), the total length, a zero Identification (unless DF) and the
    /// checksum; an IHL past the data is `EINVAL`. Failures after the route count
    /// `OutDiscards`. 4.3 counts an ICMP datagram with `icmp_out_count` of the byte at
    /// the transport header, which here is still the network header: the first byte of
    /// the IP header.
    fn raw_send_hdrinc(&mut self, pid: Pid, id: SockId, msg: &MsgOut, rt: &crate::net::ipv4::route::Rtable) -> Result<(), Errno> {
        let len = msg.iov.len;
        let mtu = self.net.devices.get(&rt.dev).map(|d| d.mtu as usize).unwrap_or(0);
        if len > mtu {
            return Err(Errno::EMSGSIZE);
        }
        let mut pkt = vec![0u8; len];
        self.ip_append_data(pid, id, &msg.iov, 0, &mut pkt)?;
        // An empty buffer has no IHL to read: k43 reads it as past the data.
        let ihl = pkt.first().map_or(usize::MAX, |b| usize::from(b & 0x0f) * 4);
        if ihl > len {
            self.net.mib.ip_statistics.inc(IpStats::OutDiscards);
            return Err(Errno::EINVAL);
        }
        if ihl >= ipv4::HEADER_LEN {
            let mut p = ipv4::Packet::new_unchecked(&mut pkt[..]);
            if p.src_addr().is_unspecified() {
                p.set_src_addr(rt.saddr);
            }
            p.set_total_len(len as u16);
            if p.ident() == 0 && !p.dont_frag() {
                let now = self.hal.now_ns();
                let (d, s, proto) = (p.dst_addr(), p.src_addr(), p.protocol());
                let ident = self.net.ip_idents.select(d, s, proto, now);
                ipv4::Packet::new_unchecked(&mut pkt[..]).set_ident(ident);
            }
            ipv4::Packet::new_unchecked(&mut pkt[..]).fill_checksum();
        }
        if pkt.get(9) == Some(&ip_proto::ICMP) {
            self.net.mib.icmp_out_count(pkt[0]);
        }
        self.ip_output_built(&pkt, rt);
        Ok(())
    }

    /// `raw_recvmsg` and `rawv6_recvmsg`: `EOPNOTSUPP` for `MSG_OOB`, nothing on the error
    /// queue (`EAGAIN`), then the head datagram as queued (`MSG_TRUNC` in `msg_flags`
    /// when the buffers are shorter, the full length returned with the flag) and its
    /// source with port 0.
    pub(super) fn raw_recvmsg(&mut self, pid: Pid, id: SockId, iov: &UserIov, flags: u32) -> Result<MsgIn, SysErr> {
        if flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP.into());
        }
        if flags & MSG_ERRQUEUE != 0 {
            return Err(Errno::EAGAIN.into());
        }
        let d = self.skb_recv_datagram(pid, id, flags)?;
        let copied = iov.len.min(d.data.len());
        let trunc = if copied < d.data.len() { MSG_TRUNC } else { 0 };
        let r = self.iov_copy_to(pid, iov, &d.data[..copied]);
        self.skb_recv_done(id, flags, r)?;
        let ret = if flags & MSG_TRUNC != 0 { d.data.len() } else { copied };
        Ok(MsgIn { ret, from: d.from, flags: trunc, hop_limit: (!d.v4).then_some(d.hop_limit) })
    }

    /// `raw_seticmpfilter`: up to 4 bytes of the filter replaced (fewer leave the rest).
    pub(super) fn raw_seticmpfilter(&mut self, pid: Pid, id: SockId, optval: u64, optlen: usize) -> Result<(), Errno> {
        let n = optlen.min(ICMP_FILTER_LEN);
        let mut b = self.sk(id)?.raw.as_ref().map(|r| r.icmp_filter.to_ne_bytes()).unwrap_or_default();
        self.copy_from_user(pid, optval, &mut b[..n])?;
        if let Some(r) = self.sk_mut(id)?.raw.as_mut() {
            r.icmp_filter = u32::from_ne_bytes(b);
        }
        Ok(())
    }

    /// `raw_geticmpfilter`: the length read (`EFAULT`), checked (`EINVAL` when
    /// negative), cut to 4, stored back, then that much of the filter.
    pub(super) fn raw_geticmpfilter(&mut self, pid: Pid, id: SockId, optval: u64, optlenp: u64) -> Result<(), Errno> {
        let len = self.get_user_u32(pid, optlenp)? as i32;
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        let n = (len as usize).min(ICMP_FILTER_LEN);
        let f = self.sk(id)?.raw.as_ref().map(|r| r.icmp_filter).unwrap_or(0);
        self.copy_to_user(pid, optlenp, &(n as i32).to_ne_bytes())?;
        self.copy_to_user(pid, optval, &f.to_ne_bytes()[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_filter_blocks_set_bits_below_32_only() {
        let echo_req = [8u8, 0, 0, 0, 0, 0, 0, 0];
        assert!(!icmp_filter_blocks(0, &echo_req));
        assert!(icmp_filter_blocks(1 << 8, &echo_req));
        assert!(!icmp_filter_blocks(!0, &[40, 0, 0, 0, 0, 0, 0, 0]));
        // A message shorter than struct icmphdr is blocked whatever the filter.
        assert!(icmp_filter_blocks(0, &echo_req[..7]));
    }
}
