//! The `AF_INET`/`AF_INET6` socket calls that do not move data (`net/ipv4/af_inet.c`,
//! `net/ipv6/af_inet6.c`): `socket` (`inet_create`, `inet6_create`), `bind` (`inet_bind`,
//! `inet6_bind`, or the protocol's own: `raw_bind`, `rawv6_bind`), `getsockname` and
//! `getpeername` (`inet_getname`, `inet6_getname`), autobind and release.

#![warn(missing_docs)]

use super::socket::*;
use crate::fs::Node;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::net::fib::{Flow, RouteType};
use crate::net::wire::{ip_proto, Ipv4Addr};
use crate::security::commoncap::capable;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::{CAP_NET_BIND_SERVICE, CAP_NET_RAW};
use crate::uapi::fcntl::{O_NONBLOCK, O_RDWR};
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
    pub(super) fn sk(&self, id: SockId) -> Result<&InetSock, Errno> {
        self.net.socks.socks.get(&id).ok_or(Errno::EBADF)
    }

    pub(super) fn sk_mut(&mut self, id: SockId) -> Result<&mut InetSock, Errno> {
        self.net.socks.socks.get_mut(&id).ok_or(Errno::EBADF)
    }

    pub(super) fn sock_cred_capable(&self, pid: Pid, cap: u32) -> bool {
        self.task(pid).is_some_and(|t| capable(&t.cred, cap))
    }

    /// `socket(domain, type, protocol)`: `__sock_create` → `inet_create`/`inet6_create`.
    /// k43 has UDP and raw sockets: another type is `ESOCKTNOSUPPORT`; ping sockets
    /// (`SOCK_DGRAM` with ICMP/ICMPv6) fail in `ping_init_sock` with `EACCES` under the
    /// default `ping_group_range` ("1 0"). `SOCK_RAW` matches any protocol but 0 (the
    /// wildcard entry of `inetsw`), and only then is `CAP_NET_RAW` asked for, so
    /// `EPROTONOSUPPORT` wins over `EPERM`.
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
        if ty == SOCK_RAW {
            if protocol == 0 {
                return Err(Errno::EPROTONOSUPPORT.into());
            }
            if !self.sock_cred_capable(pid, CAP_NET_RAW) {
                return Err(Errno::EPERM.into());
            }
            let wq = self.sched.new_waitqueue();
            return self.sock_install(pid, InetSock::new_raw(family, wq, protocol as u8), flags);
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
        let wq = self.sched.new_waitqueue();
        self.sock_install(pid, InetSock::new(family, wq), flags)
    }

    /// `sock_alloc_file` + `fd_install` for a new socket; `flags` are the type's
    /// `SOCK_NONBLOCK`/`SOCK_CLOEXEC`.
    fn sock_install(&mut self, pid: Pid, sk: InetSock, flags: i32) -> SysResult {
        let id = self.next_id();
        self.net.socks.socks.insert(id, sk);
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
    pub(super) fn inet_addr_type(&self, a: Ipv4Addr) -> RouteType {
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
        let sk = self.sk(id)?;
        // inet_bind and inet6_bind hand a protocol with its own bind to it first.
        match (sk.family, sk.raw.is_some()) {
            (Family::V4, false) => self.inet_bind(pid, id, &a),
            (Family::V6, false) => self.inet6_bind(pid, id, &a),
            (Family::V4, true) => Ok(self.raw_bind(id, &a).map(|()| 0)?),
            (Family::V6, true) => Ok(self.rawv6_bind(id, &a).map(|()| 0)?),
        }
    }

    /// `inet_bind`.
    pub(super) fn inet_bind(&mut self, pid: Pid, id: SockId, a: &[u8]) -> SysResult {
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
    pub(super) fn inet6_bind(&mut self, pid: Pid, id: SockId, a: &[u8]) -> SysResult {
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

    /// `inet_autobind`: an ephemeral port for an unbound socket; `EAGAIN` if none. A raw
    /// socket keeps its `inet_num` (the protocol) even once unhashed, so never needs one.
    pub(super) fn inet_autobind(&mut self, id: SockId) -> Result<(), Errno> {
        let sk = self.sk(id)?;
        if sk.num != 0 || sk.raw.is_some() {
            return Ok(());
        }
        let rand = self.hal.next_u64() as u32;
        if !self.net.socks.get_port(id, 0, rand) {
            return Err(Errno::EAGAIN);
        }
        Ok(())
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
}
