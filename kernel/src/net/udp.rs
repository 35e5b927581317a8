//! UDP sockets for both families (`net/socket.c`, `net/ipv4/af_inet.c`, `udp.c`,
//! `datagram.c`, `net/ipv6/af_inet6.c`, `udp.c`, `datagram.c`, `net/core/sock.c`): the
//! socket syscalls in 4.3's check order, sending through the IPv4 and IPv6 output paths,
//! delivery from `__udp4_lib_rcv`/`__udp6_lib_rcv` into the receive queue, and ICMP errors
//! turned into `sk_err` (`__udp4_lib_err`, `__udp6_lib_err`).

#![warn(missing_docs)]

use super::ipv4::icmp::IcmpCtx;
use super::ipv6::ip6_output::Ip6Out;
use super::socket::*;
use crate::net::ipv4::route::Rtable;
use crate::fs::file::FileId;
use crate::fs::Node;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::mm::uaccess::access_ok;
use crate::net::fib::{Flow, RouteType};
use crate::net::ipv4::ip_options::IpOptions;
use crate::net::ipv4::ip_output::Ip4Out;
use crate::net::snmp::{IpStats, Udp};
use crate::net::wire::{checksum, ip_proto, Ipv4Addr, Ipv6Addr};
use crate::security::commoncap::capable;
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::uapi::capability::{CAP_NET_BIND_SERVICE, CAP_NET_RAW};
use crate::uapi::fcntl::{O_CLOEXEC, O_NONBLOCK, O_RDWR};
use crate::uapi::Errno;
use alloc::vec;
use alloc::vec::Vec;

/// `SOCK_NONBLOCK` (= `O_NONBLOCK`).
pub const SOCK_NONBLOCK: i32 = O_NONBLOCK as i32;
/// `SOCK_CLOEXEC` (= `O_CLOEXEC`).
pub const SOCK_CLOEXEC: i32 = O_CLOEXEC as i32;
/// `MSG_OOB`.
pub const MSG_OOB: u32 = 1;
/// `MSG_PEEK`.
pub const MSG_PEEK: u32 = 2;
/// `MSG_TRUNC`.
pub const MSG_TRUNC: u32 = 0x20;
/// `MSG_DONTWAIT`.
pub const MSG_DONTWAIT: u32 = 0x40;
/// `MSG_ERRQUEUE`.
pub const MSG_ERRQUEUE: u32 = 0x2000;
/// `SOL_SOCKET`.
pub const SOL_SOCKET: i32 = 1;
/// `SOL_IP`.
pub const SOL_IP: i32 = 0;
/// `SOL_IPV6`.
pub const SOL_IPV6: i32 = 41;
/// `SO_REUSEADDR`.
pub const SO_REUSEADDR: i32 = 2;
/// `SO_TYPE`.
pub const SO_TYPE: i32 = 3;
/// `SO_ERROR`.
pub const SO_ERROR: i32 = 4;
/// `SO_BROADCAST`.
pub const SO_BROADCAST: i32 = 6;
/// `SO_RCVBUF`.
pub const SO_RCVBUF: i32 = 8;
/// `SO_BINDTODEVICE`.
pub const SO_BINDTODEVICE: i32 = 25;
/// `IPV6_V6ONLY`.
pub const IPV6_V6ONLY: i32 = 26;
/// `IFNAMSIZ`.
const IFNAMSIZ: usize = 16;
/// `IPV6_MAXPLEN`.
const IPV6_MAXPLEN: usize = 65535;
/// `ICMP_DEST_UNREACH`, `ICMP_TIME_EXCEEDED`, `ICMP_PARAMETERPROB`.
const ICMP_DEST_UNREACH: u8 = 3;
const ICMP_TIME_EXCEEDED: u8 = 11;
const ICMP_PARAMETERPROB: u8 = 12;

/// `icmp_err_convert`: (errno, fatal) of each Destination Unreachable code.
const ICMP_ERR_CONVERT: [(Errno, bool); 16] = [
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

impl<H: Hal> Kernel<H> {
    /// `sockfd_lookup_light`: the socket behind `fd` (`EBADF`, `ENOTSOCK`), its file and
    /// file flags.
    fn sockfd_lookup(&self, pid: Pid, fd: i32) -> Result<(FileId, SockId, u32), Errno> {
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        match f.node {
            Node::Socket(s) => Ok((fid, s, f.flags)),
            _ => Err(Errno::ENOTSOCK),
        }
    }

    fn sk(&self, id: SockId) -> Result<&UdpSock, Errno> {
        self.net.socks.socks.get(&id).ok_or(Errno::EBADF)
    }

    fn sk_mut(&mut self, id: SockId) -> Result<&mut UdpSock, Errno> {
        self.net.socks.socks.get_mut(&id).ok_or(Errno::EBADF)
    }

    fn sock_cred_capable(&self, pid: Pid, cap: u32) -> bool {
        self.task(pid).is_some_and(|t| capable(&t.cred, cap))
    }

    /// `move_addr_to_kernel`: `EINVAL` for a length beyond `sockaddr_storage`, `EFAULT`.
    fn move_addr_to_kernel(&mut self, pid: Pid, uaddr: u64, len: u32) -> Result<Vec<u8>, Errno> {
        let len = len as i32;
        if len < 0 || len as usize > SOCKADDR_STORAGE_LEN {
            return Err(Errno::EINVAL);
        }
        let mut b = vec![0u8; len as usize];
        if len > 0 {
            self.copy_from_user(pid, uaddr, &mut b)?;
        }
        Ok(b)
    }

    /// `move_addr_to_user`: copies at most `*ulen` bytes of `kaddr`, then stores its
    /// full length in `*ulen`.
    fn move_addr_to_user(&mut self, pid: Pid, kaddr: &[u8], uaddr: u64, ulen: u64) -> Result<(), Errno> {
        let mut lb = [0u8; 4];
        self.copy_from_user(pid, ulen, &mut lb)?;
        let len = i32::from_ne_bytes(lb).min(kaddr.len() as i32);
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        if len > 0 {
            self.copy_to_user(pid, uaddr, &kaddr[..len as usize])?;
        }
        self.copy_to_user(pid, ulen, &(kaddr.len() as i32).to_ne_bytes())
    }

    /// `socket(domain, type, protocol)`: `__sock_create` → `inet_create`/`inet6_create`.
    /// k43 has UDP only: a type with no protocol is `ESOCKTNOSUPPORT`; ping sockets
    /// (`SOCK_DGRAM` with ICMP/ICMPv6) fail in `ping_init_sock` with `EACCES` under the
    /// default `ping_group_range` ("1 0").
    pub(crate) fn sys_socket(&mut self, pid: Pid, domain: i32, ty: i32, protocol: i32) -> SysResult {
        let flags = ty & !SOCK_TYPE_MASK;
        if flags & !(SOCK_CLOEXEC | SOCK_NONBLOCK) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let ty = ty & SOCK_TYPE_MASK;
        if !(0..NPROTO).contains(&domain) {
            return Err(Errno::EAFNOSUPPORT.into());
        }
        if !(0..SOCK_MAX).contains(&ty) {
            return Err(Errno::EINVAL.into());
        }
        let family = match domain as u16 {
            AF_INET => Family::V4,
            AF_INET6 => Family::V6,
            _ => return Err(Errno::EAFNOSUPPORT.into()),
        };
        if !(0..IPPROTO_MAX).contains(&protocol) {
            return Err(Errno::EINVAL.into());
        }
        if ty != SOCK_DGRAM {
            return Err(Errno::ESOCKTNOSUPPORT.into());
        }
        let ping = if family == Family::V4 { i32::from(ip_proto::ICMP) } else { i32::from(ip_proto::ICMPV6) };
        if protocol == ping {
            return Err(Errno::EACCES.into());
        }
        if protocol != 0 && protocol != i32::from(ip_proto::UDP) {
            return Err(Errno::EPROTONOSUPPORT.into());
        }
        let id = self.next_id();
        let wq = self.sched.new_waitqueue();
        self.net.socks.socks.insert(id, UdpSock::new(family, wq));
        let fflags = O_RDWR | (flags as u32 & O_NONBLOCK);
        let fid = match self.alloc_file(Node::Socket(id), fflags) {
            Ok(f) => f,
            Err(e) => {
                self.sock_release(id);
                return Err(e.into());
            }
        };
        Ok(self.fd_install_lowest(pid, fid, flags & SOCK_CLOEXEC != 0)? as i64)
    }

    /// The last file reference is gone (`sock_close` → `udp_lib_close`): unhash and free.
    pub(crate) fn sock_release(&mut self, id: SockId) {
        if let Some(sk) = self.net.socks.socks.remove(&id) {
            self.wake_up(sk.wq);
        }
    }

    /// `inet_addr_type` reduced to the answers bind needs.
    fn inet_addr_type(&self, a: Ipv4Addr) -> RouteType {
        if a.is_multicast() {
            return RouteType::Multicast;
        }
        if a.is_broadcast() {
            return RouteType::Broadcast;
        }
        match self.net.fib4.lookup(&Flow::output(a)) {
            Ok(r) => r.route.rtype,
            Err(_) => RouteType::Unicast,
        }
    }

    /// `bind(fd, addr, addrlen)`.
    pub(crate) fn sys_bind(&mut self, pid: Pid, fd: i32, uaddr: u64, len: u32) -> SysResult {
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        let a = self.move_addr_to_kernel(pid, uaddr, len)?;
        match self.sk(id)?.family {
            Family::V4 => self.inet_bind(pid, id, &a),
            Family::V6 => self.inet6_bind(pid, id, &a),
        }
    }

    /// `inet_bind`.
    fn inet_bind(&mut self, pid: Pid, id: SockId, a: &[u8]) -> SysResult {
        if a.len() < SOCKADDR_IN_LEN {
            return Err(Errno::EINVAL.into());
        }
        let (addr, snum) = parse_in(a);
        let fam = sa_family(a);
        // AF_UNSPEC is accepted (as AF_INET) only for INADDR_ANY.
        if fam != AF_INET && (fam != AF_UNSPEC || !addr.is_unspecified()) {
            return Err(Errno::EAFNOSUPPORT.into());
        }
        let t = self.inet_addr_type(addr);
        if !addr.is_unspecified() && !matches!(t, RouteType::Local | RouteType::Multicast | RouteType::Broadcast) {
            return Err(Errno::EADDRNOTAVAIL.into());
        }
        if snum != 0 && snum < PROT_SOCK && !self.sock_cred_capable(pid, CAP_NET_BIND_SERVICE) {
            return Err(Errno::EACCES.into());
        }
        let sk = self.sk_mut(id)?;
        if sk.connected || sk.num != 0 {
            return Err(Errno::EINVAL.into());
        }
        sk.rcv_saddr4 = addr;
        sk.saddr4 = if matches!(t, RouteType::Multicast | RouteType::Broadcast) { Ipv4Addr::UNSPECIFIED } else { addr };
        let rand = self.hal.next_u64() as u32;
        if !self.net.socks.get_port(id, snum, rand) {
            self.sk_mut(id)?.reset_saddr();
            return Err(Errno::EADDRINUSE.into());
        }
        let sk = self.sk_mut(id)?;
        sk.bindaddr_lock = !addr.is_unspecified();
        sk.bindport_lock = snum != 0;
        sk.daddr4 = Ipv4Addr::UNSPECIFIED;
        sk.dport = 0;
        Ok(0)
    }

    /// `inet6_bind`.
    fn inet6_bind(&mut self, pid: Pid, id: SockId, a: &[u8]) -> SysResult {
        if a.len() < SIN6_LEN_RFC2133 {
            return Err(Errno::EINVAL.into());
        }
        if sa_family(a) != AF_INET6 {
            return Err(Errno::EAFNOSUPPORT.into());
        }
        let SockAddr::V6 { addr, port: snum, scope_id, .. } = parse_in6(a) else { return Err(Errno::EINVAL.into()) };
        if snum != 0 && snum < PROT_SOCK && !self.sock_cred_capable(pid, CAP_NET_BIND_SERVICE) {
            return Err(Errno::EACCES.into());
        }
        let sk = self.sk(id)?;
        if sk.connected || sk.num != 0 {
            return Err(Errno::EINVAL.into());
        }
        let v4addr;
        if let Some(v4) = v4mapped(&addr) {
            // A v4-mapped address on a v6-only socket makes no sense.
            if sk.ipv6only {
                return Err(Errno::EINVAL.into());
            }
            let t = self.inet_addr_type(v4);
            if !v4.is_unspecified() && !matches!(t, RouteType::Local | RouteType::Multicast | RouteType::Broadcast) {
                return Err(Errno::EADDRNOTAVAIL.into());
            }
            v4addr = v4;
        } else if addr.is_unspecified() {
            v4addr = Ipv4Addr::UNSPECIFIED;
        } else {
            let mut dev = None;
            if needs_scope_id(&addr) {
                if a.len() >= SOCKADDR_IN6_LEN && scope_id != 0 {
                    self.sk_mut(id)?.bound_dev_if = scope_id;
                }
                let bound = self.sk(id)?.bound_dev_if;
                if bound == 0 {
                    return Err(Errno::EINVAL.into());
                }
                if !self.net.devices.contains_key(&bound) {
                    return Err(Errno::ENODEV.into());
                }
                dev = Some(bound);
            }
            v4addr = LOOPBACK4_IPV6;
            if !addr.is_multicast() {
                let on = self.ipv6_addr_dev(&addr);
                let ok = match (on, dev) {
                    (Some(d), Some(want)) => d == want,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if !ok {
                    return Err(Errno::EADDRNOTAVAIL.into());
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
        let rand = self.hal.next_u64() as u32;
        if !self.net.socks.get_port(id, snum, rand) {
            self.sk_mut(id)?.reset_saddr();
            return Err(Errno::EADDRINUSE.into());
        }
        let sk = self.sk_mut(id)?;
        if !addr.is_unspecified() {
            sk.bindaddr_lock = true;
            if v4mapped(&addr).is_none() {
                sk.ipv6only = true;
            }
        }
        sk.bindport_lock = snum != 0;
        sk.dport = 0;
        sk.daddr4 = Ipv4Addr::UNSPECIFIED;
        Ok(0)
    }

    /// `inet_autobind`: an ephemeral port for an unbound socket; `EAGAIN` if none.
    fn inet_autobind(&mut self, id: SockId) -> Result<(), Errno> {
        if self.sk(id)?.num != 0 {
            return Ok(());
        }
        let rand = self.hal.next_u64() as u32;
        if !self.net.socks.get_port(id, 0, rand) {
            return Err(Errno::EAGAIN);
        }
        Ok(())
    }

    /// `connect(fd, addr, addrlen)`: `inet_dgram_connect`.
    pub(crate) fn sys_connect(&mut self, pid: Pid, fd: i32, uaddr: u64, len: u32) -> SysResult {
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        let a = self.move_addr_to_kernel(pid, uaddr, len)?;
        if a.len() < 2 {
            return Err(Errno::EINVAL.into());
        }
        if sa_family(&a) == AF_UNSPEC {
            self.udp_disconnect(id)?;
            return Ok(0);
        }
        self.inet_autobind(id)?;
        match self.sk(id)?.family {
            Family::V4 => self.ip4_datagram_connect(id, &a)?,
            Family::V6 => self.ip6_datagram_connect(id, &a)?,
        }
        Ok(0)
    }

    /// `udp_disconnect`.
    fn udp_disconnect(&mut self, id: SockId) -> Result<(), Errno> {
        let sk = self.sk_mut(id)?;
        sk.connected = false;
        sk.daddr4 = Ipv4Addr::UNSPECIFIED;
        sk.daddr6 = Ipv6Addr::UNSPECIFIED;
        sk.dport = 0;
        sk.bound_dev_if = 0;
        if !sk.bindaddr_lock {
            sk.reset_saddr();
        }
        if !sk.bindport_lock {
            sk.num = 0;
        }
        Ok(())
    }

    /// `__ip4_datagram_connect`.
    fn ip4_datagram_connect(&mut self, id: SockId, a: &[u8]) -> Result<(), Errno> {
        if a.len() < SOCKADDR_IN_LEN {
            return Err(Errno::EINVAL);
        }
        if sa_family(a) != AF_INET {
            return Err(Errno::EAFNOSUPPORT);
        }
        let (daddr, dport) = parse_in(a);
        let rt = self.udp_route4(id, daddr)?;
        let sk = self.sk_mut(id)?;
        if sk.saddr4.is_unspecified() {
            sk.saddr4 = rt.saddr;
        }
        if sk.rcv_saddr4.is_unspecified() {
            sk.rcv_saddr4 = rt.saddr;
        }
        sk.daddr4 = daddr;
        sk.dport = dport;
        sk.connected = true;
        if sk.family == Family::V6 {
            sk.daddr6 = mapped(daddr);
            if sk.saddr6.is_unspecified() || sk.saddr6 == mapped(Ipv4Addr::UNSPECIFIED) {
                sk.saddr6 = mapped(sk.saddr4);
            }
            if sk.rcv_saddr6.is_unspecified() || sk.rcv_saddr6 == mapped(Ipv4Addr::UNSPECIFIED) {
                sk.rcv_saddr6 = mapped(sk.rcv_saddr4);
            }
        }
        Ok(())
    }

    /// `ip6_datagram_connect`.
    fn ip6_datagram_connect(&mut self, id: SockId, a: &[u8]) -> Result<(), Errno> {
        if sa_family(a) == AF_INET {
            if self.sk(id)?.v6only() {
                return Err(Errno::EAFNOSUPPORT);
            }
            return self.ip4_datagram_connect(id, a);
        }
        if a.len() < SIN6_LEN_RFC2133 {
            return Err(Errno::EINVAL);
        }
        if sa_family(a) != AF_INET6 {
            return Err(Errno::EAFNOSUPPORT);
        }
        let SockAddr::V6 { addr, port, scope_id, .. } = parse_in6(a) else { return Err(Errno::EINVAL) };
        let mut daddr = addr;
        if daddr.is_unspecified() {
            // Connect to self if the destination is ::.
            daddr = if v4mapped(&self.sk(id)?.rcv_saddr6).is_some() { mapped(Ipv4Addr::LOCALHOST) } else { Ipv6Addr::LOCALHOST };
        }
        if let Some(v4) = v4mapped(&daddr) {
            if self.sk(id)?.v6only() {
                return Err(Errno::ENETUNREACH);
            }
            return self.ip4_datagram_connect(id, &SockAddr::V4 { addr: v4, port }.to_bytes());
        }
        if needs_scope_id(&daddr) {
            let sk = self.sk_mut(id)?;
            if a.len() >= SOCKADDR_IN6_LEN && scope_id != 0 {
                if sk.bound_dev_if != 0 && sk.bound_dev_if != scope_id {
                    return Err(Errno::EINVAL);
                }
                sk.bound_dev_if = scope_id;
            }
            if sk.bound_dev_if == 0 {
                return Err(Errno::EINVAL);
            }
        }
        let sk = self.sk_mut(id)?;
        sk.daddr6 = daddr;
        sk.dport = port;
        let oif = sk.bound_dev_if;
        let saddr = sk.saddr6;
        let (dev, _) = self.ip6_route_output(&daddr, oif)?;
        let src = self.ip6_select_saddr(saddr, dev, &daddr)?;
        let sk = self.sk_mut(id)?;
        if sk.saddr6.is_unspecified() {
            sk.saddr6 = src;
        }
        if sk.rcv_saddr6.is_unspecified() {
            sk.rcv_saddr6 = src;
            sk.rcv_saddr4 = LOOPBACK4_IPV6;
        }
        sk.connected = true;
        Ok(())
    }

    /// The source of an IPv6 datagram: the socket's, else (`ipv6_dev_get_saddr`) the
    /// destination itself when it is ours (rule 1), else one of the output device's.
    fn ip6_select_saddr(&self, saddr: Ipv6Addr, dev: u32, daddr: &Ipv6Addr) -> Result<Ipv6Addr, Errno> {
        if !saddr.is_unspecified() {
            return Ok(saddr);
        }
        if self.ipv6_addr_dev(daddr).is_some() {
            return Ok(*daddr);
        }
        self.ipv6_dev_get_saddr(dev, daddr).ok_or(Errno::EADDRNOTAVAIL)
    }

    /// `getsockname` (`peer` false) and `getpeername` (`peer` true): `inet_getname`,
    /// `inet6_getname`.
    pub(crate) fn sys_getname(&mut self, pid: Pid, fd: i32, uaddr: u64, ulen: u64, peer: bool) -> SysResult {
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        let sk = self.sk(id)?;
        let sa = match sk.family {
            Family::V4 => {
                if peer {
                    if sk.dport == 0 || !sk.connected {
                        return Err(Errno::ENOTCONN.into());
                    }
                    SockAddr::V4 { addr: sk.daddr4, port: sk.dport }
                } else {
                    let a = if sk.rcv_saddr4.is_unspecified() { sk.saddr4 } else { sk.rcv_saddr4 };
                    SockAddr::V4 { addr: a, port: sk.num }
                }
            }
            Family::V6 => {
                if peer {
                    if sk.dport == 0 || !sk.connected {
                        return Err(Errno::ENOTCONN.into());
                    }
                    let scope = if needs_scope_id(&sk.daddr6) { sk.bound_dev_if } else { 0 };
                    SockAddr::V6 { addr: sk.daddr6, port: sk.dport, flowinfo: 0, scope_id: scope }
                } else {
                    let a = if sk.rcv_saddr6.is_unspecified() { sk.saddr6 } else { sk.rcv_saddr6 };
                    let scope = if needs_scope_id(&a) { sk.bound_dev_if } else { 0 };
                    SockAddr::V6 { addr: a, port: sk.num, flowinfo: 0, scope_id: scope }
                }
            }
        };
        self.move_addr_to_user(pid, &sa.to_bytes(), uaddr, ulen)?;
        Ok(0)
    }

    /// `sendto(fd, buf, len, flags, dest_addr, addrlen)`.
    // Six syscall arguments and the caller: the dispatcher's shape.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sys_sendto(&mut self, pid: Pid, fd: i32, buf: u64, len: usize, flags: u32, uaddr: u64, alen: u32) -> SysResult {
        let len = len.min(i32::MAX as usize);
        if !access_ok(buf, len) {
            return Err(Errno::EFAULT.into());
        }
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        let name = if uaddr != 0 { Some(self.move_addr_to_kernel(pid, uaddr, alen)?) } else { None };
        self.sock_sendmsg(pid, id, buf, len, flags, name)
    }

    /// `inet_sendmsg`: autobind, then the family's `sendmsg`; the loopback backlog runs
    /// before the call returns (the softirq on the way out).
    fn sock_sendmsg(&mut self, pid: Pid, id: SockId, buf: u64, len: usize, flags: u32, name: Option<Vec<u8>>) -> SysResult {
        self.inet_autobind(id)?;
        let r = match self.sk(id)?.family {
            Family::V4 => self.udp_sendmsg(pid, id, buf, len, flags, name.as_deref()),
            Family::V6 => self.udpv6_sendmsg(pid, id, buf, len, flags, name.as_deref()),
        };
        self.net_run_backlog();
        Ok(r? as i64)
    }

    /// `udp_sendmsg`.
    fn udp_sendmsg(&mut self, pid: Pid, id: SockId, buf: u64, len: usize, flags: u32, name: Option<&[u8]>) -> Result<usize, Errno> {
        if len > 0xffff {
            return Err(Errno::EMSGSIZE);
        }
        if flags & MSG_OOB != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let dest = match name {
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
        self.udp_send4(pid, id, buf, len, dest)
    }

    /// The output route of socket `id` to `daddr` (from its source address and bound
    /// device), as connect and sendmsg both take it: `OutNoRoutes` counted for
    /// ENETUNREACH, and EACCES for a broadcast route without SO_BROADCAST.
    fn udp_route4(&mut self, id: SockId, daddr: Ipv4Addr) -> Result<Rtable, Errno> {
        let sk = self.sk(id)?;
        let (saddr, oif, bcast) = (sk.saddr4, sk.bound_dev_if, sk.broadcast);
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

    /// The common tail of `udp_sendmsg`: route, build, send.
    fn udp_send4(&mut self, pid: Pid, id: SockId, buf: u64, len: usize, (daddr, dport): (Ipv4Addr, u16)) -> Result<usize, Errno> {
        let rt = self.udp_route4(id, daddr)?;
        let sport = self.sk(id)?.num;
        // ip_append_data: at most 0xFFFF bytes of datagram with its 20-byte header.
        if len + 8 > 0xffff - 20 {
            return Err(Errno::EMSGSIZE);
        }
        self.take_sk_err(id)?;
        let mut seg = vec![0u8; 8 + len];
        self.copy_from_user(pid, buf, &mut seg[8..])?;
        seg[0..2].copy_from_slice(&sport.to_be_bytes());
        seg[2..4].copy_from_slice(&dport.to_be_bytes());
        seg[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
        let pseudo = checksum::pseudo_header_v4(&rt.saddr, &daddr, ip_proto::UDP, (8 + len) as u16);
        let c = checksum::fold(checksum::combine(&[pseudo, checksum::sum(&seg)]));
        // A computed 0 goes out as 0xFFFF (CSUM_MANGLED_0).
        let c = if c == 0 { 0xffff } else { c };
        seg[6..8].copy_from_slice(&c.to_be_bytes());
        let mtu = self.net.devices.get(&rt.dev).map(|d| d.mtu as usize).unwrap_or(0);
        let ttl = if daddr.is_multicast() { 1 } else { self.net.ipv4.ip_default_ttl };
        // IP_PMTUDISC_WANT: DF when the datagram fits the route's MTU.
        let o = Ip4Out { saddr: rt.saddr, daddr, proto: ip_proto::UDP, tos: 0, ttl, df: 20 + seg.len() <= mtu, opts: IpOptions::default() };
        self.ip_send(&o, &seg, &rt);
        self.net.mib.udp_statistics.inc(Udp::OutDatagrams);
        Ok(len)
    }

    /// `sock_error`: takes the pending error.
    fn take_sk_err(&mut self, id: SockId) -> Result<(), Errno> {
        match self.sk_mut(id)?.err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `udpv6_sendmsg`.
    fn udpv6_sendmsg(&mut self, pid: Pid, id: SockId, buf: u64, len: usize, flags: u32, name: Option<&[u8]>) -> Result<usize, Errno> {
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
                    return self.udp_sendmsg(pid, id, buf, len, flags, Some(a));
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
            return self.udp_send4(pid, id, buf, len, (v4, port));
        }
        if !connected && port == 0 {
            return Err(Errno::EINVAL);
        }
        let mut oif = if !connected && name.is_some_and(|a| a.len() >= SOCKADDR_IN6_LEN) && scope != 0 && needs_scope_id(&daddr) { scope } else { 0 };
        if oif == 0 {
            oif = sk.bound_dev_if;
        }
        let (saddr, sport) = (sk.saddr6, sk.num);
        // :: means loopback (a BSD-ism).
        let daddr = if daddr.is_unspecified() { Ipv6Addr::LOCALHOST } else { daddr };
        let (dev, nexthop) = self.ip6_route_output(&daddr, oif)?;
        let src = self.ip6_select_saddr(saddr, dev, &daddr)?;
        if 8 + len > IPV6_MAXPLEN {
            return Err(Errno::EMSGSIZE);
        }
        self.take_sk_err(id)?;
        let mut seg = vec![0u8; 8 + len];
        self.copy_from_user(pid, buf, &mut seg[8..])?;
        seg[0..2].copy_from_slice(&sport.to_be_bytes());
        seg[2..4].copy_from_slice(&port.to_be_bytes());
        seg[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
        let c = super::ipv6::ip6_output::upper_checksum(&src, &daddr, ip_proto::UDP, &seg);
        // The checksum is mandatory over IPv6: a computed 0 is sent as 0xFFFF.
        let c = if c == 0 { 0xffff } else { c };
        seg[6..8].copy_from_slice(&c.to_be_bytes());
        let hop_limit = if daddr.is_multicast() { 1 } else { super::ipv6::icmp::DEFAULT_HOP_LIMIT };
        let flowlabel = self.ip6_flowlabel(&src, &daddr, ip_proto::UDP);
        let o = Ip6Out { saddr: src, daddr, proto: ip_proto::UDP, hop_limit, tclass: 0, flowlabel };
        self.ip6_send(o, &seg, dev, nexthop);
        self.net.mib.udp_stats_in6.inc(Udp::OutDatagrams);
        Ok(len)
    }

    /// `recvfrom(fd, buf, len, flags, src_addr, addrlen)`.
    // Six syscall arguments and the caller: the dispatcher's shape.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sys_recvfrom(&mut self, pid: Pid, fd: i32, buf: u64, len: usize, flags: u32, uaddr: u64, ulen: u64) -> SysResult {
        let len = len.min(i32::MAX as usize);
        if !access_ok(buf, len) {
            return Err(Errno::EFAULT.into());
        }
        let (_, id, fflags) = self.sockfd_lookup(pid, fd)?;
        let flags = if fflags & O_NONBLOCK != 0 { flags | MSG_DONTWAIT } else { flags };
        let (n, from) = self.udp_recvmsg(pid, id, buf, len, flags)?;
        if uaddr != 0 {
            self.move_addr_to_user(pid, &from.to_bytes(), uaddr, ulen)?;
        }
        Ok(n as i64)
    }

    /// `udp_recvmsg`/`udpv6_recvmsg` over `__skb_recv_datagram`: a pending error first,
    /// then the head datagram (left queued by `MSG_PEEK`), else `EAGAIN` or sleep.
    fn udp_recvmsg(&mut self, pid: Pid, id: SockId, buf: u64, len: usize, flags: u32) -> Result<(usize, SockAddr), SysErr> {
        if flags & MSG_ERRQUEUE != 0 {
            // No IP_RECVERR queue: ip_recv_error finds nothing.
            return Err(Errno::EAGAIN.into());
        }
        self.take_sk_err(id)?;
        let sk = self.sk(id)?;
        let Some(d) = sk.rcvq.front().cloned() else {
            if flags & MSG_DONTWAIT != 0 {
                return Err(Errno::EAGAIN.into());
            }
            let wq = sk.wq;
            return Err(self.wait_on(pid, wq));
        };
        let copied = len.min(d.data.len());
        self.copy_to_user(pid, buf, &d.data[..copied])?;
        if flags & MSG_PEEK == 0 {
            let sk = self.sk_mut(id)?;
            sk.rcvq.pop_front();
            sk.rmem_alloc = sk.rmem_alloc.saturating_sub(d.truesize);
            // udpv6_recvmsg counts an IPv4 datagram in the IPv4 MIB.
            if d.v4 {
                self.net.mib.udp_statistics.inc(Udp::InDatagrams);
            } else {
                self.net.mib.udp_stats_in6.inc(Udp::InDatagrams);
            }
        }
        let n = if flags & MSG_TRUNC != 0 { d.data.len() } else { copied };
        Ok((n, d.from))
    }

    /// `read(2)` of a socket: `recvmsg` with no flags and no address.
    pub(crate) fn sock_read(&mut self, pid: Pid, id: SockId, fflags: u32, buf: u64, count: usize) -> SysResult {
        let flags = if fflags & O_NONBLOCK != 0 { MSG_DONTWAIT } else { 0 };
        Ok(self.udp_recvmsg(pid, id, buf, count, flags)?.0 as i64)
    }

    /// `ioctl(FIONREAD)` of a socket (`udp_ioctl`'s `SIOCINQ`): the payload length of the
    /// first queued datagram, 0 with none.
    pub(crate) fn sock_inq(&self, id: SockId) -> i32 {
        self.net.socks.socks.get(&id).and_then(|s| s.rcvq.front()).map_or(0, |d| d.data.len() as i32)
    }

    /// `write(2)` of a socket: `sendmsg` with no address.
    pub(crate) fn sock_write(&mut self, pid: Pid, id: SockId, buf: u64, count: usize) -> SysResult {
        self.sock_sendmsg(pid, id, buf, count, 0, None)
    }

    /// `poll` of a socket (`datagram_poll`): readable with a datagram queued, `POLLERR`
    /// with a pending error, always writable.
    pub(crate) fn sock_poll(&self, id: SockId) -> (u16, Option<crate::kernel::sched::WqId>) {
        use crate::fs::poll::*;
        let Some(sk) = self.net.socks.socks.get(&id) else { return (POLLERR, None) };
        let mut mask = POLLOUT | POLLWRNORM | POLLWRBAND;
        if sk.err.is_some() {
            mask |= POLLERR;
        }
        if !sk.rcvq.is_empty() {
            mask |= POLLIN | POLLRDNORM;
        }
        (mask, Some(sk.wq))
    }

    /// `setsockopt(fd, level, optname, optval, optlen)`.
    pub(crate) fn sys_setsockopt(&mut self, pid: Pid, fd: i32, level: i32, optname: i32, optval: u64, optlen: u32) -> SysResult {
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        let optlen = optlen as i32;
        if optlen < 0 {
            return Err(Errno::EINVAL.into());
        }
        let family = self.sk(id)?.family;
        match level {
            SOL_SOCKET => {
                if optname == SO_BINDTODEVICE {
                    return self.sock_setbindtodevice(pid, id, optval, optlen as usize);
                }
                if (optlen as usize) < 4 {
                    return Err(Errno::EINVAL.into());
                }
                let mut b = [0u8; 4];
                self.copy_from_user(pid, optval, &mut b)?;
                let val = i32::from_ne_bytes(b);
                let sk = self.sk_mut(id)?;
                match optname {
                    SO_REUSEADDR => sk.reuse = val != 0,
                    SO_BROADCAST => sk.broadcast = val != 0,
                    SO_RCVBUF => {
                        // min_t(u32, val, sysctl_rmem_max), doubled for overhead.
                        let v = (val as u32).min(RMEM_DEFAULT);
                        sk.rcvbuf = (v * 2).max(SOCK_MIN_RCVBUF);
                    }
                    _ => return Err(Errno::ENOPROTOOPT.into()),
                }
                Ok(0)
            }
            SOL_IPV6 if family == Family::V6 => {
                let mut b = [0u8; 4];
                if optval != 0 {
                    self.copy_from_user(pid, optval, &mut b)?;
                }
                let val = i32::from_ne_bytes(b);
                match optname {
                    IPV6_V6ONLY => {
                        let sk = self.sk_mut(id)?;
                        if (optlen as usize) < 4 || sk.num != 0 {
                            return Err(Errno::EINVAL.into());
                        }
                        sk.ipv6only = val != 0;
                        Ok(0)
                    }
                    _ => Err(Errno::ENOPROTOOPT.into()),
                }
            }
            _ => Err(Errno::ENOPROTOOPT.into()),
        }
    }

    /// `sock_setbindtodevice`: `CAP_NET_RAW`, a name of at most 15 bytes, "" unbinds.
    fn sock_setbindtodevice(&mut self, pid: Pid, id: SockId, optval: u64, optlen: usize) -> SysResult {
        if !self.sock_cred_capable(pid, CAP_NET_RAW) {
            return Err(Errno::EPERM.into());
        }
        let n = optlen.min(IFNAMSIZ - 1);
        let mut name = vec![0u8; n];
        self.copy_from_user(pid, optval, &mut name)?;
        let end = name.iter().position(|&c| c == 0).unwrap_or(n);
        let mut index = 0;
        if end > 0 {
            let s = core::str::from_utf8(&name[..end]).map_err(|_| Errno::ENODEV)?;
            index = self.net.dev_by_name(s).ok_or(Errno::ENODEV)?;
        }
        self.sk_mut(id)?.bound_dev_if = index;
        Ok(0)
    }

    /// `getsockopt(fd, level, optname, optval, optlen)`.
    pub(crate) fn sys_getsockopt(&mut self, pid: Pid, fd: i32, level: i32, optname: i32, optval: u64, optlenp: u64) -> SysResult {
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        let mut lb = [0u8; 4];
        self.copy_from_user(pid, optlenp, &mut lb)?;
        let len = i32::from_ne_bytes(lb);
        let sk = self.sk(id)?;
        let val: i32 = match (level, optname) {
            (SOL_SOCKET, SO_BINDTODEVICE) => {
                if len < 0 {
                    return Err(Errno::EINVAL.into());
                }
                if sk.bound_dev_if == 0 {
                    self.copy_to_user(pid, optlenp, &0i32.to_ne_bytes())?;
                    return Ok(0);
                }
                if (len as usize) < IFNAMSIZ {
                    return Err(Errno::EINVAL.into());
                }
                let mut name = self.net.dev_name(sk.bound_dev_if).into_bytes();
                name.push(0);
                self.copy_to_user(pid, optval, &name)?;
                self.copy_to_user(pid, optlenp, &(name.len() as i32).to_ne_bytes())?;
                return Ok(0);
            }
            (SOL_SOCKET, _) if len < 0 => return Err(Errno::EINVAL.into()),
            (SOL_SOCKET, SO_REUSEADDR) => i32::from(sk.reuse),
            (SOL_SOCKET, SO_BROADCAST) => i32::from(sk.broadcast),
            (SOL_SOCKET, SO_RCVBUF) => sk.rcvbuf as i32,
            (SOL_SOCKET, SO_TYPE) => SOCK_DGRAM,
            (SOL_SOCKET, SO_ERROR) => self.sk_mut(id)?.err.take().map(|e| e.0).unwrap_or(0),
            (SOL_IPV6, IPV6_V6ONLY) if sk.family == Family::V6 => i32::from(sk.ipv6only),
            _ => return Err(Errno::ENOPROTOOPT.into()),
        };
        // min(len, sizeof(int)) bytes of the value (an unsigned min for IPv6's options).
        let n = if len < 0 { 4 } else { (len as usize).min(4) };
        self.copy_to_user(pid, optval, &val.to_ne_bytes()[..n])?;
        self.copy_to_user(pid, optlenp, &(n as i32).to_ne_bytes())?;
        Ok(0)
    }

    /// `__udp_queue_rcv_skb` → `sock_queue_rcv_skb`: queue unless the receive buffer is
    /// full (`RcvbufErrors`, `InErrors`), then wake readers.
    fn udp_queue_rcv(&mut self, id: SockId, d: Dgram, v6: bool) {
        let Some(sk) = self.net.socks.socks.get_mut(&id) else { return };
        if sk.rmem_alloc >= sk.rcvbuf as usize {
            sk.drops += 1;
            let mib = if v6 { &mut self.net.mib.udp_stats_in6 } else { &mut self.net.mib.udp_statistics };
            mib.inc(Udp::RcvbufErrors);
            mib.inc(Udp::InErrors);
            return;
        }
        sk.rmem_alloc += d.truesize;
        sk.rcvq.push_back(d);
        let wq = sk.wq;
        self.wake_up(wq);
    }

    /// The source address a socket of `family` reports for a datagram from `saddr`.
    fn from_v4(family: Family, saddr: Ipv4Addr, sport: u16) -> SockAddr {
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
            let d = Dgram { from: Self::from_v4(family, saddr, sport), data: seg[8..].to_vec(), truesize, v4: true };
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
            let d = Dgram { from: SockAddr::V6 { addr: saddr, port: sport, flowinfo: 0, scope_id }, data: seg[8..].to_vec(), truesize, v4: false };
            self.udp_queue_rcv(id, d, true);
        }
        true
    }

    /// `__udp4_lib_err`: an ICMP error of `t`/`code` quoting `quoted` (an IPv4 header
    /// and at least 8 bytes of UDP) arrived on `iif`. Without `IP_RECVERR` only a hard
    /// error on a connected socket is kept, as `sk_err`.
    pub(crate) fn udp4_err(&mut self, quoted: &[u8], t: u8, code: u8, iif: u32) {
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
        let (err, fatal) = match t {
            ICMP_DEST_UNREACH => match ICMP_ERR_CONVERT.get(usize::from(code)) {
                Some(&e) => e,
                None => return,
            },
            ICMP_TIME_EXCEEDED => (Errno::EHOSTUNREACH, false),
            ICMP_PARAMETERPROB => (Errno::EPROTO, true),
            _ => return,
        };
        self.udp_set_err(id, err, fatal);
    }

    /// `__udp6_lib_err` with `icmpv6_err_convert`.
    pub(crate) fn udp6_err(&mut self, quoted: &[u8], thoff: usize, t: u8, code: u8, iif: u32) {
        use crate::net::wire::icmpv6::msg_type;
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
        let (err, fatal) = match t {
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
            _ => return,
        };
        self.udp_set_err(id, err, fatal);
    }

    fn udp_set_err(&mut self, id: SockId, err: Errno, fatal: bool) {
        let Some(sk) = self.net.socks.socks.get_mut(&id) else { return };
        if !fatal || !sk.connected {
            return;
        }
        sk.err = Some(err);
        // sk_error_report wakes the sleepers.
        let wq = sk.wq;
        self.wake_up(wq);
    }
}
