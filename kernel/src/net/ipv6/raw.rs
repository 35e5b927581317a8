//! Raw IPv6 sockets (`net/ipv6/raw.c`): delivery from the extension-header walk
//! (`ipv6_raw_deliver`: a copy per matching socket of every header the walk reaches, from
//! that header on, without the IPv6 header; the ICMPv6 type filter `ICMP6_FILTER`; the
//! checksum verified for sockets that compute one), `rawv6_sendmsg` (the checksum at
//! `IPV6_CHECKSUM`'s offset computed by the kernel — 2 for ICMPv6 from creation on —, or
//! the caller's whole packet for `IPPROTO_RAW`), `rawv6_bind`, the `SOL_RAW`,
//! `SOL_ICMPV6` and `IPV6_CHECKSUM` options, and ICMPv6 errors for connected sockets
//! (`raw6_icmp_error`). Receiving is `raw_recvmsg` of `net/raw.rs`.

use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::net::cmsg::Ipcm6;
use crate::net::msghdr::MsgOut;
use crate::net::snmp::IpStats;
use crate::net::socket::*;
use crate::net::wire::{ip_proto, ipv6, Ipv6Addr};
use crate::uapi::Errno;
use alloc::vec;
use alloc::vec::Vec;

/// `ICMPV6_HDRLEN`: the bytes `icmpv6_filter` needs.
const ICMPV6_HDRLEN: usize = 4;
/// `sizeof(struct icmp6_filter)`.
const ICMP6_FILTER_LEN: usize = 32;

/// `icmpv6_filter`: whether `filter` blocks the ICMPv6 message `msg` (one shorter than
/// the 4-byte header is blocked).
pub fn icmpv6_filter_blocks(filter: &[u32; 8], msg: &[u8]) -> bool {
    match msg.first() {
        Some(&t) if msg.len() >= ICMPV6_HDRLEN => filter[usize::from(t >> 5)] & (1 << (t & 31)) != 0,
        _ => true,
    }
}

/// The filter as user memory holds it (`__u32 data[8]` in host order).
fn filter_bytes(f: &[u32; 8]) -> [u8; ICMP6_FILTER_LEN] {
    let mut b = [0u8; ICMP6_FILTER_LEN];
    for (i, w) in f.iter().enumerate() {
        b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
    }
    b
}

impl<H: Hal> Kernel<H> {
    /// `__raw_v6_lookup` over the chain of `nexthdr`: the connected peer (if any) must be
    /// `rmt`, the bound device (if any) `dif`, and the bound address (if any) `loc` —
    /// or `loc` multicast (`inet6_mc_check` passes a socket with no memberships).
    fn raw_v6_lookup(&self, nexthdr: u8, loc: &Ipv6Addr, rmt: &Ipv6Addr, dif: u32) -> Vec<SockId> {
        self.raw_socks(Family::V6, nexthdr)
            .into_iter()
            .filter(|id| {
                let sk = &self.net.socks.socks[id];
                (sk.daddr6.is_unspecified() || sk.daddr6 == *rmt) && (sk.bound_dev_if == 0 || sk.bound_dev_if == dif) && (sk.rcv_saddr6.is_unspecified() || sk.rcv_saddr6 == *loc || loc.is_multicast())
            })
            .collect()
    }

    /// `raw6_local_deliver` for the header `nexthdr` at `thoff` of `pkt`: each matching
    /// socket whose ICMPv6 filter passes it gets the bytes from `thoff` on
    /// (`rawv6_rcv`), unless it computes checksums and this one does not verify (then it
    /// counts a drop). `true` when a socket matched.
    pub(crate) fn raw6_local_deliver(&mut self, pkt: &[u8], thoff: usize, nexthdr: u8, iif: u32) -> bool {
        let ip = ipv6::Packet::new_unchecked(pkt);
        let (saddr, daddr) = (ip.src_addr(), ip.dst_addr());
        let socks = self.raw_v6_lookup(nexthdr, &daddr, &saddr, iif);
        let data = pkt.get(thoff..).unwrap_or(&[]);
        for &id in &socks {
            let Some(r) = self.net.socks.socks.get(&id).and_then(|s| s.raw.clone()) else { continue };
            if nexthdr == ip_proto::ICMPV6 && icmpv6_filter_blocks(&r.icmp6_filter, data) {
                continue;
            }
            // rawv6_rcv_skb: skb_checksum_complete against the socket's protocol.
            if r.checksum.is_some() && super::ip6_output::upper_checksum(&saddr, &daddr, r.protocol, data) != 0 {
                if let Some(sk) = self.net.socks.socks.get_mut(&id) {
                    sk.drops += 1;
                }
                continue;
            }
            let scope_id = if needs_scope_id(&saddr) { iif } else { 0 };
            let d = Dgram { from: SockAddr::V6 { addr: saddr, port: 0, flowinfo: 0, scope_id }, data: data.to_vec(), truesize: crate::net::inet_frag::frag_truesize(pkt.len()), v4: false, peeked: false, hop_limit: ip.hop_limit() };
            self.sock_queue_rcv(id, d);
        }
        !socks.is_empty()
    }

    /// `raw6_icmp_error`: an ICMPv6 error about a packet of protocol `nexthdr` that
    /// `quoted` (from its IPv6 header) shows; `rawv6_err` keeps a hard error on a
    /// connected socket (Packet Too Big is soft under `IPV6_PMTUDISC_WANT`; a Redirect
    /// is not an error).
    pub(crate) fn raw6_icmp_error(&mut self, quoted: &[u8], nexthdr: u8, t: u8, code: u8, info: u32, iif: u32) {
        use crate::net::wire::icmpv6::msg_type;
        // The quoted header's addresses (a quote is cut short: no length checks).
        let Some(h) = quoted.get(..ipv6::HEADER_LEN) else { return };
        let q = ipv6::Packet::new_unchecked(h);
        let (qsrc, qdst) = (q.src_addr(), q.dst_addr());
        for id in self.raw_v6_lookup(nexthdr, &qsrc, &qdst, iif) {
            if t == msg_type::REDIRECT {
                continue;
            }
            if t == msg_type::PKT_TOO_BIG {
                // rawv6_err: ip6_sk_update_pmtu.
                self.ip6_update_pmtu(&qdst, info);
            }
            let (err, hard) = crate::net::udp::icmpv6_err_convert(t, code);
            let hard = hard && t != msg_type::PKT_TOO_BIG;
            self.udp_set_err(id, err, hard);
        }
    }

    /// `rawv6_bind`: `EINVAL` for a short address or one not `AF_INET6`,
    /// `EADDRNOTAVAIL` for a v4-mapped one (raw IPv6 is IPv6 only), `EINVAL` when
    /// connected; a scoped address needs a device (the scope id overrides the bound one:
    /// `EINVAL` without, `ENODEV` for an unknown one); a unicast address must be ours.
    pub(crate) fn rawv6_bind(&mut self, id: SockId, a: &[u8]) -> Result<(), Errno> {
        if a.len() < SIN6_LEN_RFC2133 || sa_family(a) != AF_INET6 {
            return Err(Errno::EINVAL);
        }
        let SockAddr::V6 { addr, scope_id, .. } = parse_in6(a) else { return Err(Errno::EINVAL) };
        if v4mapped(&addr).is_some() {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if self.sk(id)?.connected {
            return Err(Errno::EINVAL);
        }
        let mut v4addr = crate::net::wire::Ipv4Addr::UNSPECIFIED;
        if !addr.is_unspecified() {
            let mut dev = None;
            if needs_scope_id(&addr) {
                let sk = self.sk_mut(id)?;
                if a.len() >= SOCKADDR_IN6_LEN && scope_id != 0 {
                    sk.bound_dev_if = scope_id;
                }
                let bound = sk.bound_dev_if;
                if bound == 0 {
                    return Err(Errno::EINVAL);
                }
                if !self.net.devices.contains_key(&bound) {
                    return Err(Errno::ENODEV);
                }
                dev = Some(bound);
            }
            v4addr = LOOPBACK4_IPV6;
            if !addr.is_multicast() {
                let ok = match dev {
                    Some(d) => {
                        use crate::net::core::addrconf::{IFA_F_DADFAILED, IFA_F_TENTATIVE};
                        self.net.idev6.get(&d).and_then(|i| i.get(&addr)).is_some_and(|x| x.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0)
                    }
                    None => self.ipv6_addr_dev(&addr).is_some(),
                };
                if !ok {
                    return Err(Errno::EADDRNOTAVAIL);
                }
            }
        }
        let sk = self.sk_mut(id)?;
        sk.rcv_saddr4 = v4addr;
        sk.saddr4 = v4addr;
        sk.rcv_saddr6 = addr;
        if !addr.is_multicast() {
            sk.saddr6 = addr;
        }
        Ok(())
    }

    /// `rawv6_sendmsg`, in 4.3's order: `MSG_OOB`; the address (at least
    /// `SIN6_LEN_RFC2133`, `AF_INET6` or 0, a port of 0 or the socket's protocol: else
    /// `EINVAL`), or the connected peer; control messages; the first bytes of an ICMPv6
    /// (2) or Mobility Header (4) message, read before the route (`EFAULT`); the route
    /// and source; then the packet. A socket with a checksum offset gets the checksum
    /// computed there (`EINVAL` when the offset is not inside the data), with
    /// `OutDiscards` counted as `ip6_flush_pending_frames` does.
    pub(crate) fn rawv6_sendmsg(&mut self, pid: Pid, id: SockId, msg: &MsgOut) -> Result<usize, Errno> {
        let len = msg.iov.len;
        if len > i32::MAX as usize {
            return Err(Errno::EMSGSIZE);
        }
        if msg.flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let sk = self.sk(id)?;
        let raw = sk.raw.clone().unwrap_or_default();
        let mut oif = 0;
        let daddr = match msg.name.as_deref() {
            Some(a) => {
                if a.len() < SIN6_LEN_RFC2133 {
                    return Err(Errno::EINVAL);
                }
                let fam = sa_family(a);
                if fam != AF_UNSPEC && fam != AF_INET6 {
                    return Err(Errno::EAFNOSUPPORT);
                }
                let SockAddr::V6 { addr, port, scope_id, .. } = parse_in6(a) else { return Err(Errno::EINVAL) };
                // The port is the protocol carried in the next-header field.
                if port != 0 && port != u16::from(raw.protocol) {
                    return Err(Errno::EINVAL);
                }
                if a.len() >= SOCKADDR_IN6_LEN && scope_id != 0 && needs_scope_id(&addr) {
                    oif = scope_id;
                }
                addr
            }
            None => {
                if !sk.connected {
                    return Err(Errno::EDESTADDRREQ);
                }
                sk.daddr6
            }
        };
        if oif == 0 {
            oif = sk.bound_dev_if;
        }
        let np_saddr = sk.saddr6;
        let ipc = if msg.control.is_empty() { Ipcm6::default() } else { self.ip6_datagram_send_ctl(pid, &msg.control, &mut oif)? };
        // rawv6_probe_proto_opt: the message type (and code) go into the flow.
        let hlen = match raw.protocol {
            ip_proto::ICMPV6 => 2,
            IPPROTO_MH => 4,
            _ => 0,
        };
        let mut head = vec![0u8; hlen];
        self.iov_copy_from(pid, &msg.iov, 0, &mut head)?;
        // :: means loopback (a BSD-ism).
        let daddr = if daddr.is_unspecified() { Ipv6Addr::LOCALHOST } else { daddr };
        let saddr = ipc.saddr.unwrap_or(np_saddr);
        let (dev, nexthop) = self.ip6_route_output_from(&daddr, &saddr, oif)?;
        let src = self.ip6_select_saddr(saddr, dev, &daddr)?;
        if raw.hdrincl {
            self.rawv6_send_hdrinc(pid, id, msg, dev, nexthop)?;
            return Ok(len);
        }
        let ext: usize = ipc.exthdrs().iter().map(|h| h.1.len()).sum();
        if len + ext > crate::net::udp::IPV6_MAXPLEN {
            return Err(Errno::EMSGSIZE);
        }
        let mut data = vec![0u8; len];
        data[..hlen].copy_from_slice(&head);
        self.ip6_append_data(pid, id, dev, &msg.iov, hlen, &mut data[hlen..])?;
        if let Some(off) = raw.checksum {
            // rawv6_push_pending_frames: the offset must leave room for 2 bytes.
            if i64::from(off) >= len as i64 - 1 {
                let net = &mut self.net;
                net.mib.ip6_inc(net.dev_snmp6.get_mut(&dev), IpStats::OutDiscards);
                return Err(Errno::EINVAL);
            }
            let off = off as usize;
            data[off..off + 2].copy_from_slice(&[0, 0]);
            let mut c = super::ip6_output::upper_checksum(&src, &daddr, raw.protocol, &data);
            if c == 0 && raw.protocol == ip_proto::UDP {
                c = 0xffff;
            }
            data[off..off + 2].copy_from_slice(&c.to_be_bytes());
        }
        if raw.protocol == ip_proto::ICMPV6 {
            if let Some(&t) = data.first() {
                let net = &mut self.net;
                net.mib.icmp6_out_count(net.dev_snmp6.get_mut(&dev), t);
            }
        }
        let hop_limit = ipc.hlimit.unwrap_or(if daddr.is_multicast() { 1 } else { super::icmp::DEFAULT_HOP_LIMIT });
        let tclass = ipc.tclass | (ipc.flowinfo >> 20) as u8;
        let flowlabel = if ipc.flowinfo != 0 { 0 } else { self.ip6_flowlabel(&src, &daddr, raw.protocol) };
        let (first, payload) = ipc.push_exthdrs(raw.protocol, &data);
        let o = super::ip6_output::Ip6Out { saddr: src, daddr, proto: first, hop_limit, tclass, flowlabel };
        self.ip6_send(o, &payload, dev, nexthop);
        Ok(len)
    }

    /// `rawv6_send_hdrinc` (`IPPROTO_RAW`): the caller's packet as is, at most the
    /// device MTU (`EMSGSIZE`); a pending error or a fault counts `OutDiscards`.
    fn rawv6_send_hdrinc(&mut self, pid: Pid, id: SockId, msg: &MsgOut, dev: u32, nexthop: Ipv6Addr) -> Result<(), Errno> {
        let len = msg.iov.len;
        let mtu = self.net.devices.get(&dev).map(|d| d.mtu as usize).unwrap_or(0);
        if len > mtu {
            return Err(Errno::EMSGSIZE);
        }
        let mut pkt = vec![0u8; len];
        self.ip6_append_data(pid, id, dev, &msg.iov, 0, &mut pkt)?;
        self.ip6_output_built(&pkt, dev, nexthop);
        Ok(())
    }

    /// `do_rawv6_setsockopt` (`SOL_RAW`, and `IPV6_CHECKSUM` at `SOL_IPV6`): the value is
    /// read first (`EFAULT`, whatever `optlen` says). RFC 3542 forbids `IPV6_CHECKSUM` at
    /// `SOL_IPV6` on an ICMPv6 socket (`EINVAL`; at `SOL_RAW` it is Linux's extension);
    /// an odd positive offset is `EINVAL`, a negative one turns checksumming off.
    pub(crate) fn do_rawv6_setsockopt(&mut self, pid: Pid, id: SockId, level: i32, optname: i32, optval: u64) -> Result<(), Errno> {
        let val = self.get_user_u32(pid, optval)? as i32;
        match optname {
            IPV6_CHECKSUM => {
                let sk = self.sk_mut(id)?;
                let Some(r) = sk.raw.as_mut() else { return Err(Errno::ENOPROTOOPT) };
                if r.protocol == ip_proto::ICMPV6 && level == SOL_IPV6 {
                    return Err(Errno::EINVAL);
                }
                if val > 0 && val & 1 != 0 {
                    return Err(Errno::EINVAL);
                }
                r.checksum = if val < 0 { None } else { Some(val as u32) };
                Ok(())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    /// `do_rawv6_getsockopt`: `IPV6_CHECKSUM` is the offset, or -1 when off (allowed at
    /// `SOL_IPV6` on ICMPv6 sockets too); `min_t(unsigned int, 4, len)` bytes.
    pub(crate) fn do_rawv6_getsockopt(&mut self, pid: Pid, id: SockId, optname: i32, optval: u64, optlenp: u64) -> Result<(), Errno> {
        let len = self.get_user_u32(pid, optlenp)?;
        let val = match optname {
            IPV6_CHECKSUM => self.sk(id)?.raw.as_ref().and_then(|r| r.checksum).map_or(-1, |o| o as i32),
            _ => return Err(Errno::ENOPROTOOPT),
        };
        let n = (len as usize).min(4);
        self.copy_to_user(pid, optlenp, &(n as i32).to_ne_bytes())?;
        self.copy_to_user(pid, optval, &val.to_ne_bytes()[..n])
    }

    /// `rawv6_seticmpfilter`: up to 32 bytes of the filter replaced.
    pub(crate) fn rawv6_seticmpfilter(&mut self, pid: Pid, id: SockId, optval: u64, optlen: usize) -> Result<(), Errno> {
        let n = optlen.min(ICMP6_FILTER_LEN);
        let mut b = filter_bytes(&self.sk(id)?.raw.as_ref().map(|r| r.icmp6_filter).unwrap_or_default());
        self.copy_from_user(pid, optval, &mut b[..n])?;
        if let Some(r) = self.sk_mut(id)?.raw.as_mut() {
            for (i, w) in r.icmp6_filter.iter_mut().enumerate() {
                *w = u32::from_ne_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
            }
        }
        Ok(())
    }

    /// `rawv6_geticmpfilter`: the length read (`EFAULT`), checked (`EINVAL` when
    /// negative), cut to 32 and stored back, then that much of the filter.
    pub(crate) fn rawv6_geticmpfilter(&mut self, pid: Pid, id: SockId, optval: u64, optlenp: u64) -> Result<(), Errno> {
        let len = self.get_user_u32(pid, optlenp)? as i32;
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        let n = (len as usize).min(ICMP6_FILTER_LEN);
        let b = filter_bytes(&self.sk(id)?.raw.as_ref().map(|r| r.icmp6_filter).unwrap_or_default());
        self.copy_to_user(pid, optlenp, &(n as i32).to_ne_bytes())?;
        self.copy_to_user(pid, optval, &b[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zeroed_filter_passes_everything() {
        let f = [0u32; 8];
        for t in 0..=255u8 {
            assert!(!icmpv6_filter_blocks(&f, &[t, 0, 0, 0]));
        }
        let mut f = [0u32; 8];
        f[128 >> 5] |= 1 << (128 & 31);
        assert!(icmpv6_filter_blocks(&f, &[128, 0, 0, 0]));
        assert!(!icmpv6_filter_blocks(&f, &[129, 0, 0, 0]));
        assert!(icmpv6_filter_blocks(&f, &[129, 0, 0]), "shorter than the header");
    }
}
