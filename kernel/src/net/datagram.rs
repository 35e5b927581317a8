//! Datagram socket plumbing shared by UDP and raw sockets (`net/ipv4/datagram.c`,
//! `net/ipv6/datagram.c`, `net/core/datagram.c`, `net/core/sock.c`): `connect` and
//! disconnect, the receive queue (`sock_queue_rcv_skb`, `__skb_recv_datagram`), and
//! `read`/`write`/`poll`/`FIONREAD` of a socket file.

#![warn(missing_docs)]

use super::msghdr::{MsgOut, UserIov};
use super::socket::*;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::uapi::fcntl::O_NONBLOCK;
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
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
        let sk = self.sk(id)?;
        match sk.family {
            Family::V4 => self.ip4_datagram_connect(id, &a)?,
            // ip6_datagram_connect_v6_only: a raw IPv6 socket takes no IPv4 address.
            Family::V6 if sk.raw.is_some() && sa_family(&a) != AF_INET6 => return Err(Errno::EAFNOSUPPORT.into()),
            Family::V6 => self.ip6_datagram_connect(id, &a)?,
        }
        Ok(0)
    }

    /// `udp_disconnect`, also raw sockets' `disconnect`: without a bound port (a raw
    /// socket never has one) the socket is unhashed (`inet_sport` 0) and stops
    /// receiving, as in 4.3.
    pub(super) fn udp_disconnect(&mut self, id: SockId) -> Result<(), Errno> {
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
    pub(super) fn ip4_datagram_connect(&mut self, id: SockId, a: &[u8]) -> Result<(), Errno> {
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
    pub(super) fn ip6_datagram_connect(&mut self, id: SockId, a: &[u8]) -> Result<(), Errno> {
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
        let (dev, _) = self.ip6_route_output_from(&daddr, &saddr, oif)?;
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
    pub(super) fn ip6_select_saddr(&self, saddr: Ipv6Addr, dev: u32, daddr: &Ipv6Addr) -> Result<Ipv6Addr, Errno> {
        if !saddr.is_unspecified() {
            return Ok(saddr);
        }
        if self.ipv6_addr_dev(daddr).is_some() {
            return Ok(*daddr);
        }
        self.ipv6_dev_get_saddr(dev, daddr).ok_or(Errno::EADDRNOTAVAIL)
    }

    /// `sock_error`: takes the pending error.
    pub(super) fn take_sk_err(&mut self, id: SockId) -> Result<(), Errno> {
        match self.sk_mut(id)?.err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `read(2)` of a socket: `recvmsg` with no flags and no address.
    pub(crate) fn sock_read(&mut self, pid: Pid, id: SockId, fflags: u32, buf: u64, count: usize) -> SysResult {
        let flags = if fflags & O_NONBLOCK != 0 { MSG_DONTWAIT } else { 0 };
        let iov = UserIov::single(buf, count)?;
        Ok(self.sock_recvmsg(pid, id, &iov, flags)?.ret as i64)
    }

    /// `ioctl(FIONREAD)` of a socket (`SIOCINQ` of `udp_ioctl`, `raw_ioctl`,
    /// `rawv6_ioctl`): the length of the first queued datagram as `recvmsg` would
    /// return it, 0 with none.
    pub(crate) fn sock_inq(&self, id: SockId) -> i32 {
        self.net.socks.socks.get(&id).and_then(|s| s.rcvq.front()).map_or(0, |d| d.data.len() as i32)
    }

    /// `write(2)` of a socket: `sendmsg` with no address.
    pub(crate) fn sock_write(&mut self, pid: Pid, id: SockId, buf: u64, count: usize) -> SysResult {
        let iov = UserIov::single(buf, count)?;
        self.sock_sendmsg(pid, id, &MsgOut { iov, ..MsgOut::default() })
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

    /// `sock_queue_rcv_skb`: queue unless the receive buffer is full (`sk_drops`, and
    /// `false` so the protocol can count it), then wake readers.
    pub(super) fn sock_queue_rcv(&mut self, id: SockId, d: Dgram) -> bool {
        let Some(sk) = self.net.socks.socks.get_mut(&id) else { return false };
        if sk.rmem_alloc >= sk.rcvbuf as usize {
            sk.drops += 1;
            return false;
        }
        sk.rmem_alloc += d.truesize;
        sk.rcvq.push_back(d);
        let wq = sk.wq;
        self.wake_up(wq);
        true
    }

    /// `__skb_recv_datagram`: a pending error first (`sock_error`), then a copy of the
    /// head datagram with [`Dgram::peeked`] as it was before this look; with none,
    /// `EAGAIN` under `MSG_DONTWAIT`, else sleep. The queue is not touched yet: the
    /// caller copies out and then calls [`skb_recv_done`](Self::skb_recv_done), so that a
    /// copy restarted by a userfault finds the datagram again.
    pub(super) fn skb_recv_datagram(&mut self, pid: Pid, id: SockId, flags: u32) -> Result<Dgram, SysErr> {
        self.take_sk_err(id)?;
        let sk = self.sk(id)?;
        match sk.rcvq.front() {
            Some(d) => Ok(d.clone()),
            None if flags & MSG_DONTWAIT != 0 => Err(Errno::EAGAIN.into()),
            None => {
                let wq = sk.wq;
                Err(self.wait_on(pid, wq))
            }
        }
    }

    /// What `__skb_recv_datagram` did to the queue: `MSG_PEEK` marks the head peeked,
    /// otherwise it is unlinked and its memory uncharged. Nothing happens when the copy
    /// is to be restarted (`r` is `ERESTARTSYS`): the call runs again from the top.
    pub(super) fn skb_recv_done(&mut self, id: SockId, flags: u32, r: Result<(), Errno>) -> Result<(), Errno> {
        if r == Err(Errno::ERESTARTSYS) {
            return r;
        }
        let sk = self.sk_mut(id)?;
        if flags & MSG_PEEK != 0 {
            if let Some(d) = sk.rcvq.front_mut() {
                d.peeked = true;
            }
        } else if let Some(d) = sk.rcvq.pop_front() {
            sk.rmem_alloc = sk.rmem_alloc.saturating_sub(d.truesize);
        }
        r
    }
}
