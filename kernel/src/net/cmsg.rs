//! Control messages on send: the walk over a `sendmsg` control buffer (`for_each_cmsghdr`
//! with `CMSG_OK`, `include/linux/socket.h`) and what IPv4 (`ip_cmsg_send`,
//! `net/ipv4/ip_sockglue.c`) and IPv6 (`ip6_datagram_send_ctl`, `net/ipv6/datagram.c`)
//! take from it, in 4.3's order and with its errnos. Receiving queues none: k43 has no
//! option that asks for ancillary data, so `recvmsg` leaves `msg_controllen` 0 as Linux
//! does without one.
//!
//! A `struct cmsghdr` on LP64 is `cmsg_len` (`size_t`), `cmsg_level`, `cmsg_type`
//! (`int`s): 16 bytes, data after it, each message aligned to 8.
//!
//! Not built: `IP_RETOPTS` (IP options from a control message: `ip_options_get` is not
//! modelled) is refused with `EINVAL`; an IPv6 flow label needs a flow-label lease k43
//! cannot grant (`fl6_sock_lookup` fails: `EINVAL`), as Linux answers without one.

#![warn(missing_docs)]

use super::socket::{InetSock, SockId, SOL_IP, SOL_IPV6};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::net::wire::Ipv6Addr;
use crate::uapi::capability::CAP_NET_RAW;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `sizeof(struct cmsghdr)` = `CMSG_ALIGN(sizeof(struct cmsghdr))` on LP64.
pub const CMSGHDR_LEN: usize = 16;
/// `IP_TOS`.
pub const IP_TOS: i32 = 1;
/// `IP_TTL`.
pub const IP_TTL: i32 = 2;
/// `IP_RETOPTS`.
pub const IP_RETOPTS: i32 = 7;
/// `IP_PKTINFO`.
pub const IP_PKTINFO: i32 = 8;
/// `IPV6_2292PKTINFO`.
pub const IPV6_2292PKTINFO: i32 = 2;
/// `IPV6_2292HOPOPTS`.
pub const IPV6_2292HOPOPTS: i32 = 3;
/// `IPV6_2292DSTOPTS`.
pub const IPV6_2292DSTOPTS: i32 = 4;
/// `IPV6_2292RTHDR`.
pub const IPV6_2292RTHDR: i32 = 5;
/// `IPV6_2292HOPLIMIT`.
pub const IPV6_2292HOPLIMIT: i32 = 8;
/// `IPV6_FLOWINFO`.
pub const IPV6_FLOWINFO: i32 = 11;
/// `IPV6_PKTINFO`.
pub const IPV6_PKTINFO: i32 = 50;
/// `IPV6_HOPLIMIT`.
pub const IPV6_HOPLIMIT: i32 = 52;
/// `IPV6_HOPOPTS`.
pub const IPV6_HOPOPTS: i32 = 54;
/// `IPV6_RTHDRDSTOPTS`.
pub const IPV6_RTHDRDSTOPTS: i32 = 55;
/// `IPV6_RTHDR`.
pub const IPV6_RTHDR: i32 = 57;
/// `IPV6_DSTOPTS`.
pub const IPV6_DSTOPTS: i32 = 59;
/// `IPV6_DONTFRAG`.
pub const IPV6_DONTFRAG: i32 = 62;
/// `IPV6_TCLASS`.
pub const IPV6_TCLASS: i32 = 67;
/// `IPV6_FLOWINFO_MASK`.
const IPV6_FLOWINFO_MASK: u32 = 0x0fff_ffff;
/// `IPV6_FLOWLABEL_MASK`.
const IPV6_FLOWLABEL_MASK: u32 = 0x000f_ffff;

/// One control message: level, type and data (`cmsg_len - 16` bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmsg<'a> {
    /// `cmsg_len` as given.
    pub len: usize,
    /// `cmsg_level`.
    pub level: i32,
    /// `cmsg_type`.
    pub ty: i32,
    /// `CMSG_DATA`.
    pub data: &'a [u8],
}

impl Cmsg<'_> {
    /// The data as one `int`, when `cmsg_len` is exactly `CMSG_LEN(sizeof(int))`.
    fn int(&self) -> Option<i32> {
        (self.len == CMSGHDR_LEN + 4).then(|| i32::from_ne_bytes([self.data[0], self.data[1], self.data[2], self.data[3]]))
    }
}

/// `for_each_cmsghdr` + `CMSG_OK`: the messages of a control buffer in order, an
/// `Err(EINVAL)` item where one's length does not fit (the walk ends there). A buffer
/// shorter than a header has none.
pub fn cmsgs(ctl: &[u8]) -> impl Iterator<Item = Result<Cmsg<'_>, Errno>> {
    let mut off = Some(0usize).filter(|_| ctl.len() >= CMSGHDR_LEN);
    core::iter::from_fn(move || {
        let o = off?;
        let h = &ctl[o..o + CMSGHDR_LEN];
        let len = u64::from_ne_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
        let level = i32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
        let ty = i32::from_ne_bytes([h[12], h[13], h[14], h[15]]);
        if len < CMSGHDR_LEN as u64 || len > (ctl.len() - o) as u64 {
            off = None;
            return Some(Err(Errno::EINVAL));
        }
        let len = len as usize;
        // __cmsg_nxthdr: the next header must fit whole.
        let next = o + len.next_multiple_of(8);
        off = Some(next).filter(|&n| n.checked_add(CMSGHDR_LEN).is_some_and(|e| e <= ctl.len()));
        Some(Ok(Cmsg { len, level, ty, data: &ctl[o + CMSGHDR_LEN..o + len] }))
    })
}

/// `struct ipcm_cookie`: what IPv4 control messages set for one datagram.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ipcm4 {
    /// `ipc.addr`: the source (`ipi_spec_dst`), when a packet-info message gave one.
    pub addr: Option<crate::net::wire::Ipv4Addr>,
    /// `ipc.oif` when a packet-info message set it (to 0 too); else the socket's.
    pub oif: Option<u32>,
    /// `ipc.ttl` (`IP_TTL`).
    pub ttl: Option<u8>,
    /// `ipc.tos` (`IP_TOS`; 0 unless given, the socket's default).
    pub tos: u8,
}

/// What IPv6 control messages set for one packet (`fl6`, `opt`, `hlimit`, `tclass`,
/// `dontfrag` of `ip6_datagram_send_ctl`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ipcm6 {
    /// `fl6.saddr` from a packet-info message.
    pub saddr: Option<Ipv6Addr>,
    /// `hlimit` (`IPV6_HOPLIMIT`; -1 and unset mean the route's).
    pub hlimit: Option<u8>,
    /// `tclass` (`IPV6_TCLASS`; the socket's 0 unless given).
    pub tclass: u8,
    /// `dontfrag` (`IPV6_DONTFRAG`).
    pub dontfrag: bool,
    /// The traffic-class bits of `IPV6_FLOWINFO` (a zero flow label, the only kind k43
    /// can send): they end up in the header besides `tclass`.
    pub flowinfo: u32,
    /// `opt->hopopt`, `opt->dst0opt`, `opt->dst1opt`: extension headers to build, in
    /// that order, each as given (its next-header byte is rewritten on output).
    pub hopopt: Option<Vec<u8>>,
    /// `opt->dst0opt` (`IPV6_RTHDRDSTOPTS`).
    pub dst0opt: Option<Vec<u8>>,
    /// `opt->dst1opt` (`IPV6_DSTOPTS`, `IPV6_2292DSTOPTS`).
    pub dst1opt: Option<Vec<u8>>,
}

impl Ipcm6 {
    /// The extension headers in output order (`ipv6_push_nfrag_opts`, then
    /// `ipv6_push_frag_opts`) with their next-header protocol.
    pub fn exthdrs(&self) -> Vec<(u8, &[u8])> {
        use crate::net::wire::ip_proto;
        let mut v = Vec::new();
        for (p, h) in [(ip_proto::HOPOPTS, &self.hopopt), (ip_proto::DSTOPTS, &self.dst0opt), (ip_proto::DSTOPTS, &self.dst1opt)] {
            if let Some(h) = h {
                v.push((p, h.as_slice()));
            }
        }
        v
    }

    /// Prepends the extension headers to `payload` of protocol `proto`: the packet's
    /// first next header and the bytes after the fixed header.
    pub fn push_exthdrs(&self, proto: u8, payload: &[u8]) -> (u8, Vec<u8>) {
        let hdrs = self.exthdrs();
        let mut out = Vec::with_capacity(hdrs.iter().map(|h| h.1.len()).sum::<usize>() + payload.len());
        let mut first = proto;
        for (i, (p, h)) in hdrs.iter().enumerate() {
            if i == 0 {
                first = *p;
            }
            let next = hdrs.get(i + 1).map_or(proto, |n| n.0);
            let at = out.len();
            out.extend_from_slice(h);
            out[at] = next;
        }
        out.extend_from_slice(payload);
        (first, out)
    }
}

/// The length of an IPv6 options header at the start of `data` (`(hdrlen + 1) * 8`).
fn opt_hdr_len(data: &[u8]) -> usize {
    (usize::from(data[1]) + 1) * 8
}

impl<H: Hal> Kernel<H> {
    /// `ip_cmsg_send`: `EINVAL` for a malformed message or an unknown `SOL_IP` type;
    /// other levels are skipped, except that an IPv6 socket (`allow_ipv6`, sending to a
    /// v4-mapped address) may pass `IPV6_PKTINFO` with a v4-mapped source.
    pub(crate) fn ip_cmsg_send(&self, ctl: &[u8], allow_ipv6: bool) -> Result<Ipcm4, Errno> {
        let mut ipc = Ipcm4::default();
        for c in cmsgs(ctl) {
            let c = c?;
            if allow_ipv6 && c.level == SOL_IPV6 && c.ty == IPV6_PKTINFO {
                if c.len < CMSGHDR_LEN + 20 {
                    return Err(Errno::EINVAL);
                }
                let a = ipv6_at(c.data, 0);
                let v4 = a.to_ipv4_mapped().ok_or(Errno::EINVAL)?;
                ipc.oif = Some(u32::from_ne_bytes([c.data[16], c.data[17], c.data[18], c.data[19]]));
                ipc.addr = Some(v4);
                continue;
            }
            if c.level != SOL_IP {
                continue;
            }
            match c.ty {
                IP_PKTINFO => {
                    // struct in_pktinfo: ifindex, spec_dst, addr.
                    if c.len != CMSGHDR_LEN + 12 {
                        return Err(Errno::EINVAL);
                    }
                    let d = c.data;
                    ipc.oif = Some(u32::from_ne_bytes([d[0], d[1], d[2], d[3]]));
                    ipc.addr = Some(crate::net::wire::Ipv4Addr::new(d[4], d[5], d[6], d[7]));
                }
                IP_TTL => match c.int() {
                    Some(v) if (1..=255).contains(&v) => ipc.ttl = Some(v as u8),
                    _ => return Err(Errno::EINVAL),
                },
                IP_TOS => match c.int() {
                    Some(v) if (0..=255).contains(&v) => ipc.tos = v as u8,
                    _ => return Err(Errno::EINVAL),
                },
                // IP_RETOPTS: see the module comment.
                _ => return Err(Errno::EINVAL),
            }
        }
        Ok(ipc)
    }

    /// `ip_cmsg_send` for a UDP datagram of socket `id` (`allow_ipv6` for an IPv6 one).
    pub(crate) fn udp_cmsg4(&self, id: SockId, msg: &super::msghdr::MsgOut) -> Result<Ipcm4, Errno> {
        if msg.control.is_empty() {
            return Ok(Ipcm4::default());
        }
        let v6 = self.net.socks.socks.get(&id).is_some_and(|s: &InetSock| s.family == super::socket::Family::V6);
        self.ip_cmsg_send(&msg.control, v6)
    }

    /// `ip6_datagram_send_ctl` for a packet of `pid`'s leaving by `*oif` (which a
    /// packet-info message may set): the checks of each message in 4.3's order.
    pub(crate) fn ip6_datagram_send_ctl(&self, pid: Pid, ctl: &[u8], oif: &mut u32) -> Result<Ipcm6, Errno> {
        let mut ipc = Ipcm6::default();
        let mut flowlabel = 0u32;
        for c in cmsgs(ctl) {
            let c = c?;
            if c.level != SOL_IPV6 {
                continue;
            }
            match c.ty {
                IPV6_PKTINFO | IPV6_2292PKTINFO => {
                    if c.len < CMSGHDR_LEN + 20 {
                        return Err(Errno::EINVAL);
                    }
                    let a = ipv6_at(c.data, 0);
                    let ifindex = u32::from_ne_bytes([c.data[16], c.data[17], c.data[18], c.data[19]]);
                    if ifindex != 0 {
                        if *oif != 0 && ifindex != *oif {
                            return Err(Errno::EINVAL);
                        }
                        *oif = ifindex;
                    }
                    let linklocal = !a.is_multicast() && a.octets()[0] == 0xfe && a.octets()[1] & 0xc0 == 0x80;
                    if *oif != 0 {
                        if !self.net.devices.contains_key(oif) {
                            return Err(Errno::ENODEV);
                        }
                    } else if linklocal {
                        return Err(Errno::EINVAL);
                    }
                    if !a.is_unspecified() {
                        // Link-local and narrower sources must be on the device itself.
                        let strict = super::ipv6::addrconf::scope_of(&a) <= 2;
                        let ok = if strict && *oif != 0 {
                            use crate::net::core::addrconf::{IFA_F_DADFAILED, IFA_F_TENTATIVE};
                            self.net.idev6.get(oif).and_then(|i| i.get(&a)).is_some_and(|x| x.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0)
                        } else {
                            self.ipv6_addr_dev(&a).is_some()
                        };
                        if !ok {
                            return Err(Errno::EINVAL);
                        }
                        ipc.saddr = Some(a);
                    }
                }
                IPV6_FLOWINFO => {
                    if c.len < CMSGHDR_LEN + 4 {
                        return Err(Errno::EINVAL);
                    }
                    let v = u32::from_be_bytes([c.data[0], c.data[1], c.data[2], c.data[3]]);
                    if flowlabel & IPV6_FLOWINFO_MASK != 0 && (flowlabel ^ v) & !IPV6_FLOWINFO_MASK != 0 {
                        return Err(Errno::EINVAL);
                    }
                    flowlabel = v & IPV6_FLOWINFO_MASK;
                }
                IPV6_2292HOPOPTS | IPV6_HOPOPTS => {
                    if ipc.hopopt.is_some() || c.len < CMSGHDR_LEN + 2 {
                        return Err(Errno::EINVAL);
                    }
                    let h = self.opt_hdr(pid, &c)?;
                    ipc.hopopt = Some(h);
                }
                IPV6_2292DSTOPTS => {
                    if c.len < CMSGHDR_LEN + 2 {
                        return Err(Errno::EINVAL);
                    }
                    let h = self.opt_hdr(pid, &c)?;
                    if ipc.dst1opt.is_some() {
                        return Err(Errno::EINVAL);
                    }
                    ipc.dst1opt = Some(h);
                }
                IPV6_DSTOPTS | IPV6_RTHDRDSTOPTS => {
                    if c.len < CMSGHDR_LEN + 2 {
                        return Err(Errno::EINVAL);
                    }
                    let h = self.opt_hdr(pid, &c)?;
                    if c.ty == IPV6_DSTOPTS {
                        ipc.dst1opt = Some(h);
                    } else {
                        ipc.dst0opt = Some(h);
                    }
                }
                // Only a type-2 routing header (Mobile IPv6, not built) could pass.
                IPV6_2292RTHDR | IPV6_RTHDR => return Err(Errno::EINVAL),
                IPV6_2292HOPLIMIT | IPV6_HOPLIMIT => match c.int() {
                    Some(-1) => ipc.hlimit = None,
                    Some(v) if (0..=255).contains(&v) => ipc.hlimit = Some(v as u8),
                    _ => return Err(Errno::EINVAL),
                },
                IPV6_TCLASS => match c.int() {
                    Some(-1) => ipc.tclass = 0,
                    Some(v) if (0..=255).contains(&v) => ipc.tclass = v as u8,
                    _ => return Err(Errno::EINVAL),
                },
                IPV6_DONTFRAG => match c.int() {
                    Some(v @ (0 | 1)) => ipc.dontfrag = v == 1,
                    _ => return Err(Errno::EINVAL),
                },
                _ => return Err(Errno::EINVAL),
            }
        }
        // A flow label must be one the socket leased (fl6_sock_lookup): k43 has none.
        if flowlabel & IPV6_FLOWLABEL_MASK != 0 {
            return Err(Errno::EINVAL);
        }
        ipc.flowinfo = flowlabel;
        Ok(ipc)
    }

    /// An options header of a control message: the whole header present (`EINVAL`) and
    /// `CAP_NET_RAW` (`EPERM`), as Linux asks of every sender of extension headers.
    fn opt_hdr(&self, pid: Pid, c: &Cmsg<'_>) -> Result<Vec<u8>, Errno> {
        let len = opt_hdr_len(c.data);
        if c.len < CMSGHDR_LEN + len {
            return Err(Errno::EINVAL);
        }
        if !self.task(pid).is_some_and(|t| crate::security::commoncap::capable(&t.cred, CAP_NET_RAW)) {
            return Err(Errno::EPERM);
        }
        Ok(c.data[..len].to_vec())
    }
}

fn ipv6_at(d: &[u8], o: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&d[o..o + 16]);
    Ipv6Addr::from(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn cm(level: i32, ty: i32, data: &[u8]) -> Vec<u8> {
        let len = CMSGHDR_LEN + data.len();
        let mut b = vec![0u8; len.next_multiple_of(8)];
        b[0..8].copy_from_slice(&(len as u64).to_ne_bytes());
        b[8..12].copy_from_slice(&level.to_ne_bytes());
        b[12..16].copy_from_slice(&ty.to_ne_bytes());
        b[16..len].copy_from_slice(data);
        b
    }

    #[test]
    fn walk_reads_each_message_and_stops_at_a_bad_length() {
        let mut ctl = cm(SOL_IP, IP_TTL, &7i32.to_ne_bytes());
        ctl.extend(cm(SOL_IP, IP_TOS, &16i32.to_ne_bytes()));
        let v: Vec<_> = cmsgs(&ctl).collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].unwrap().ty, IP_TOS);
        // A length past the buffer is EINVAL, and the walk ends.
        let mut bad = ctl.clone();
        bad[0] = 200;
        assert_eq!(cmsgs(&bad).next(), Some(Err(Errno::EINVAL)));
        // Shorter than a header: no messages at all.
        assert_eq!(cmsgs(&ctl[..15]).count(), 0);
        // A trailing fragment shorter than a header is not looked at.
        let mut tail = cm(SOL_IP, IP_TTL, &7i32.to_ne_bytes());
        tail.extend_from_slice(&[0xff; 8]);
        assert_eq!(cmsgs(&tail).count(), 1);
    }

    #[test]
    fn exthdrs_are_chained() {
        let ipc = Ipcm6 { hopopt: Some(vec![0xaa, 0, 1, 4, 0, 0, 0, 0]), dst1opt: Some(vec![0xbb, 0, 1, 4, 0, 0, 0, 0]), ..Ipcm6::default() };
        let (first, b) = ipc.push_exthdrs(58, &[128, 0]);
        assert_eq!(first, 0);
        assert_eq!(b[0], 60);
        assert_eq!(b[8], 58);
        assert_eq!(&b[16..], &[128, 0]);
    }
}
