//! UDP sockets through real syscalls: two sockets on one host talking over `lo` (`::1`
//! and `127.0.0.1`), a blocking `recvfrom` woken by the datagram, the errno cases of
//! socket/bind/connect/sendto/recvfrom/getpeername/setsockopt, datagrams arriving as
//! frames on eth0, and `ECONNREFUSED` after a Port Unreachable on a connected socket.

use hal_sim::{SimConfig, SimHal};
use kernel::net::wire::ethernet::{self, EtherType};
use kernel::net::wire::{ip_proto, ipv4, ipv6, udp, EthernetAddress, Ipv4Addr, Ipv6Addr};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::{KEvent, Kernel, KernelConfig};

const OUR_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
const PAGE: u64 = 4096;
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
const SOCK_DGRAM: u64 = 2;
const SOCK_NONBLOCK: u64 = 0o4000;
const MSG_DONTWAIT: u64 = 0x40;
const SOL_SOCKET: u64 = 1;
const SO_REUSEADDR: u64 = 2;
const SO_RCVBUF: u64 = 8;
const SO_BINDTODEVICE: u64 = 25;
const SOL_IPV6: u64 = 41;
const IPV6_V6ONLY: u64 = 26;

const EPERM: i64 = -1;
const EAGAIN: i64 = -11;
const EACCES: i64 = -13;
const EINVAL: i64 = -22;
const ENOTSOCK: i64 = -88;
const EDESTADDRREQ: i64 = -89;
const EMSGSIZE: i64 = -90;
const ESOCKTNOSUPPORT: i64 = -94;
const EAFNOSUPPORT: i64 = -97;
const EADDRINUSE: i64 = -98;
const EADDRNOTAVAIL: i64 = -99;
const ENOTCONN: i64 = -107;
const ECONNREFUSED: i64 = -111;

fn sin(a: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b[0..2].copy_from_slice(&2u16.to_ne_bytes());
    b[2..4].copy_from_slice(&port.to_be_bytes());
    b[4..8].copy_from_slice(&a.octets());
    b
}

fn sin6(a: Ipv6Addr, port: u16) -> Vec<u8> {
    let mut b = vec![0u8; 28];
    b[0..2].copy_from_slice(&10u16.to_ne_bytes());
    b[2..4].copy_from_slice(&port.to_be_bytes());
    b[8..24].copy_from_slice(&a.octets());
    b
}

struct H {
    k: Kernel<SimHal>,
    log: Vec<(i32, i64)>,
}

/// A process with a scratch page: `buf` at +0 (2 KiB), addresses at +2048, lengths at
/// +2304, option values at +2560.
struct P {
    pid: i32,
    page: u64,
}

impl P {
    fn buf(&self) -> u64 {
        self.page
    }
    fn addr(&self) -> u64 {
        self.page + 2048
    }
    fn len(&self) -> u64 {
        self.page + 2304
    }
    fn opt(&self) -> u64 {
        self.page + 2560
    }
}

impl H {
    /// `lo` and eth0 up, 2001:db8::1/64 and 10.0.0.1/24 on eth0, DAD done.
    fn up() -> H {
        let hal = SimHal::new(SimConfig { seed: 11, ram_bytes: 16 << 20, cpus: 1 });
        hal.nics.add(OUR_MAC);
        let mut h = H { k: Kernel::new(hal, KernelConfig::default()), log: Vec::new() };
        h.k.dev_open(1).unwrap();
        h.k.dev_open(2).unwrap();
        h.k.inet6_addr_add(2, "2001:db8::1".parse().unwrap(), 64, 0).unwrap();
        h.k.inet_addr_add(2, Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
        harness::sim::run_timers_for(&mut h.k, 3_000_000_000);
        h.k.hal.nics.take_transmitted(0);
        h
    }

    fn proc(&mut self, uid: u32) -> P {
        let pid = self.k.create_process(Cred::new(uid, uid), "t", 0).expect("spawn");
        let page = self.call(pid, Sysno::Mmap, [0, PAGE, 3, 0x22, u64::MAX, 0]) as u64;
        P { pid, page }
    }

    fn submit(&mut self, pid: i32, s: Sysno, args: [u64; 6]) {
        let nr = s.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
        self.k.submit(pid, nr, args).expect("submit");
        self.run();
    }

    fn run(&mut self) {
        for _ in 0..10_000 {
            if !self.k.step() {
                break;
            }
        }
        let evs: Vec<(i32, i64)> = self
            .k
            .take_events()
            .filter_map(|e| match e {
                KEvent::SyscallReturn { pid, ret, .. } => Some((pid, ret)),
                _ => None,
            })
            .collect();
        self.log.extend(evs);
        assert_eq!(self.k.check_invariants(), Ok(()));
    }

    fn ret(&mut self, pid: i32) -> Option<i64> {
        let i = self.log.iter().position(|&(p, _)| p == pid)?;
        Some(self.log.remove(i).1)
    }

    fn call(&mut self, pid: i32, s: Sysno, args: [u64; 6]) -> i64 {
        self.submit(pid, s, args);
        self.ret(pid).expect("the call returned")
    }

    fn put(&mut self, pid: i32, addr: u64, bytes: &[u8]) {
        let mut b = bytes.to_vec();
        self.k.user_mode_access(pid, addr, &mut b, true).expect("user memory");
    }

    fn get(&mut self, pid: i32, addr: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.k.user_mode_access(pid, addr, &mut b, false).expect("user memory");
        b
    }

    fn socket(&mut self, p: &P, family: u64, ty: u64) -> i64 {
        self.call(p.pid, Sysno::Socket, [family, ty, 0, 0, 0, 0])
    }

    fn bind(&mut self, p: &P, fd: i64, sa: &[u8]) -> i64 {
        self.put(p.pid, p.addr(), sa);
        self.call(p.pid, Sysno::Bind, [fd as u64, p.addr(), sa.len() as u64, 0, 0, 0])
    }

    fn connect(&mut self, p: &P, fd: i64, sa: &[u8]) -> i64 {
        self.put(p.pid, p.addr(), sa);
        self.call(p.pid, Sysno::Connect, [fd as u64, p.addr(), sa.len() as u64, 0, 0, 0])
    }

    fn sendto(&mut self, p: &P, fd: i64, data: &[u8], sa: Option<&[u8]>) -> i64 {
        self.put(p.pid, p.buf(), data);
        let (a, l) = match sa {
            Some(sa) => {
                self.put(p.pid, p.addr(), sa);
                (p.addr(), sa.len() as u64)
            }
            None => (0, 0),
        };
        self.call(p.pid, Sysno::Sendto, [fd as u64, p.buf(), data.len() as u64, 0, a, l])
    }

    fn submit_recv(&mut self, p: &P, fd: i64, flags: u64) {
        self.put(p.pid, p.len(), &128i32.to_ne_bytes());
        self.submit(p.pid, Sysno::Recvfrom, [fd as u64, p.buf(), 2048, flags, p.addr(), p.len()]);
    }

    /// recvfrom: (ret, data, source address bytes).
    fn recv_done(&mut self, p: &P, ret: i64) -> (i64, Vec<u8>, Vec<u8>) {
        if ret < 0 {
            return (ret, vec![], vec![]);
        }
        let data = self.get(p.pid, p.buf(), ret as usize);
        let alen = i32::from_ne_bytes(self.get(p.pid, p.len(), 4).try_into().unwrap()) as usize;
        let addr = self.get(p.pid, p.addr(), alen);
        (ret, data, addr)
    }

    fn recvfrom(&mut self, p: &P, fd: i64, flags: u64) -> (i64, Vec<u8>, Vec<u8>) {
        self.submit_recv(p, fd, flags);
        let r = self.ret(p.pid).expect("recvfrom returned");
        self.recv_done(p, r)
    }

    fn sockname(&mut self, p: &P, fd: i64, peer: bool) -> (i64, Vec<u8>) {
        self.put(p.pid, p.len(), &128i32.to_ne_bytes());
        let s = if peer { Sysno::Getpeername } else { Sysno::Getsockname };
        let r = self.call(p.pid, s, [fd as u64, p.addr(), p.len(), 0, 0, 0]);
        if r < 0 {
            return (r, vec![]);
        }
        let alen = i32::from_ne_bytes(self.get(p.pid, p.len(), 4).try_into().unwrap()) as usize;
        (r, self.get(p.pid, p.addr(), alen))
    }

    fn setsockopt(&mut self, p: &P, fd: i64, level: u64, name: u64, val: &[u8]) -> i64 {
        self.put(p.pid, p.opt(), val);
        self.call(p.pid, Sysno::Setsockopt, [fd as u64, level, name, p.opt(), val.len() as u64, 0])
    }

    fn getsockopt_int(&mut self, p: &P, fd: i64, level: u64, name: u64) -> (i64, i32) {
        self.put(p.pid, p.len(), &4i32.to_ne_bytes());
        let r = self.call(p.pid, Sysno::Getsockopt, [fd as u64, level, name, p.opt(), p.len(), 0]);
        (r, i32::from_ne_bytes(self.get(p.pid, p.opt(), 4).try_into().unwrap()))
    }

    fn udp_stat(&self, v6: bool, name: &str) -> u64 {
        if v6 {
            let t = String::from_utf8(self.k.proc_read(kernel::fs::proc::ProcNode::NetSnmp6).unwrap()).unwrap();
            t.lines().find_map(|l| l.split_once('\t').filter(|(n, _)| n.trim() == name).map(|(_, v)| v.trim().parse().unwrap())).unwrap()
        } else {
            let t = String::from_utf8(self.k.proc_read(kernel::fs::proc::ProcNode::NetSnmp).unwrap()).unwrap();
            let lines: Vec<&str> = t.lines().filter(|l| l.starts_with("Udp:")).collect();
            let names: Vec<&str> = lines[0].split_whitespace().collect();
            let vals: Vec<&str> = lines[1].split_whitespace().collect();
            let i = names.iter().position(|n| *n == name).unwrap();
            vals[i].parse().unwrap()
        }
    }
}

fn port_of(sa: &[u8]) -> u16 {
    u16::from_be_bytes([sa[2], sa[3]])
}

#[test]
fn echo_over_lo_ipv6_with_a_blocking_reader() {
    let mut h = H::up();
    let p = h.proc(0);
    let server = h.socket(&p, AF_INET6, SOCK_DGRAM);
    let client = h.socket(&p, AF_INET6, SOCK_DGRAM);
    assert!(server >= 0 && client >= 0);
    assert_eq!(h.bind(&p, server, &sin6(Ipv6Addr::LOCALHOST, 5000)), 0);
    let (r, name) = h.sockname(&p, server, false);
    assert_eq!((r, name.clone()), (0, sin6(Ipv6Addr::LOCALHOST, 5000)));
    // The client is autobound on its first send, to an ephemeral port.
    assert_eq!(h.sendto(&p, client, b"ping", Some(&sin6(Ipv6Addr::LOCALHOST, 5000))), 4);
    let (_, cname) = h.sockname(&p, client, false);
    let cport = port_of(&cname);
    assert!((32768..=60999).contains(&cport), "ephemeral port {cport}");
    assert_eq!(&cname[8..24], &[0u8; 16], "an unbound socket reports ::");
    let (n, data, from) = h.recvfrom(&p, server, 0);
    assert_eq!((n, data.as_slice()), (4, &b"ping"[..]));
    assert_eq!(from, sin6(Ipv6Addr::LOCALHOST, cport));
    // p sleeps in recvfrom on the client socket until another process's datagram
    // arrives for it.
    let q = h.proc(0);
    h.submit_recv(&p, client, 0);
    assert_eq!(h.ret(p.pid), None, "recvfrom blocks with nothing queued");
    let other = h.socket(&q, AF_INET6, SOCK_DGRAM);
    assert_eq!(h.sendto(&q, other, b"pong!", Some(&sin6(Ipv6Addr::LOCALHOST, cport))), 5);
    let r = h.ret(p.pid).expect("the reader woke");
    let (n, data, from) = h.recv_done(&p, r);
    assert_eq!((n, data.as_slice()), (5, &b"pong!"[..]));
    assert_eq!(from.len(), 28);
    assert_eq!(&from[8..24], &Ipv6Addr::LOCALHOST.octets());
    assert_eq!(h.udp_stat(true, "Udp6InDatagrams"), 2);
    assert_eq!(h.udp_stat(true, "Udp6OutDatagrams"), 2);
    assert_eq!(h.udp_stat(true, "Udp6NoPorts"), 0);
}

#[test]
fn echo_over_lo_ipv4_connected_with_read_and_write() {
    let mut h = H::up();
    let p = h.proc(0);
    let server = h.socket(&p, AF_INET, SOCK_DGRAM);
    let client = h.socket(&p, AF_INET, SOCK_DGRAM);
    assert_eq!(h.bind(&p, server, &sin(Ipv4Addr::LOCALHOST, 6000)), 0);
    assert_eq!(h.sockname(&p, client, true).0, ENOTCONN);
    assert_eq!(h.connect(&p, client, &sin(Ipv4Addr::LOCALHOST, 6000)), 0);
    let (r, peer) = h.sockname(&p, client, true);
    assert_eq!((r, peer), (0, sin(Ipv4Addr::LOCALHOST, 6000)));
    let (_, cname) = h.sockname(&p, client, false);
    assert_eq!(&cname[4..8], &[127, 0, 0, 1], "connect picked the source");
    // write(2) on a connected socket sends.
    h.put(p.pid, p.buf(), b"hello");
    assert_eq!(h.call(p.pid, Sysno::Write, [client as u64, p.buf(), 5, 0, 0, 0]), 5);
    // FIONREAD: the first datagram's payload length.
    assert_eq!(h.call(p.pid, Sysno::Ioctl, [server as u64, 0x541b, p.opt(), 0, 0, 0]), 0);
    assert_eq!(h.get(p.pid, p.opt(), 4), 5i32.to_ne_bytes());
    let (n, data, from) = h.recvfrom(&p, server, 0);
    assert_eq!((n, data.as_slice(), from), (5, &b"hello"[..], cname.clone()));
    // Echo back to the address recvfrom reported; read(2) receives it.
    assert_eq!(h.sendto(&p, server, b"HELLO", Some(&cname)), 5);
    assert_eq!(h.call(p.pid, Sysno::Read, [client as u64, p.buf() + 100, 100, 0, 0, 0]), 5);
    assert_eq!(h.get(p.pid, p.buf() + 100, 5), b"HELLO");
    // A connected socket drops datagrams from anyone but its peer.
    let stranger = h.socket(&p, AF_INET, SOCK_DGRAM);
    assert_eq!(h.sendto(&p, stranger, b"x", Some(&cname)), 1);
    assert_eq!(h.recvfrom(&p, client, MSG_DONTWAIT).0, EAGAIN);
    // AF_UNSPEC disconnects.
    let mut unspec = sin(Ipv4Addr::UNSPECIFIED, 0);
    unspec[0] = 0;
    assert_eq!(h.connect(&p, client, &unspec), 0);
    assert_eq!(h.sockname(&p, client, true).0, ENOTCONN);
    // An IPv6 socket reaches the IPv4 server through a v4-mapped address.
    let v6 = h.socket(&p, AF_INET6, SOCK_DGRAM);
    assert_eq!(h.sendto(&p, v6, b"m", Some(&sin6(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), 6000))), 1);
    let (n, _, from) = h.recvfrom(&p, server, 0);
    assert_eq!((n, from.len(), &from[4..8]), (1, 16, &[127u8, 0, 0, 1][..]));
    // Closing frees the sockets.
    for fd in [server, client, stranger, v6] {
        assert_eq!(h.call(p.pid, Sysno::Close, [fd as u64, 0, 0, 0, 0, 0]), 0);
    }
    assert!(h.k.net().socks.socks.is_empty());
}

#[test]
fn errno_cases() {
    let mut h = H::up();
    let root = h.proc(0);
    let user = h.proc(1000);
    // socket(): family beyond AF_MAX, a type k43 has no protocol for, bad flags.
    assert_eq!(h.call(root.pid, Sysno::Socket, [41, SOCK_DGRAM, 0, 0, 0, 0]), EAFNOSUPPORT);
    assert_eq!(h.call(root.pid, Sysno::Socket, [AF_INET, 0, 0, 0, 0, 0]), ESOCKTNOSUPPORT);
    assert_eq!(h.call(root.pid, Sysno::Socket, [AF_INET, 12, 0, 0, 0, 0]), EINVAL);
    assert_eq!(h.call(root.pid, Sysno::Socket, [AF_INET, SOCK_DGRAM, 1, 0, 0, 0]), EACCES, "ping sockets: ping_group_range 1 0");
    let s4 = h.socket(&root, AF_INET, SOCK_DGRAM);
    // bind(): wrong family, short address, not ours.
    let mut wrong = sin(Ipv4Addr::LOCALHOST, 7000);
    wrong[0] = 10;
    assert_eq!(h.bind(&root, s4, &wrong), EAFNOSUPPORT);
    assert_eq!(h.bind(&root, s4, &sin(Ipv4Addr::LOCALHOST, 7000)[..15]), EINVAL);
    assert_eq!(h.bind(&root, s4, &sin(Ipv4Addr::new(192, 0, 2, 1), 7000)), EADDRNOTAVAIL);
    assert_eq!(h.bind(&root, s4, &sin(Ipv4Addr::UNSPECIFIED, 7000)), 0);
    assert_eq!(h.bind(&root, s4, &sin(Ipv4Addr::UNSPECIFIED, 7001)), EINVAL, "already bound");
    // EADDRINUSE, and SO_REUSEADDR on both sockets lifts it.
    let s4b = h.socket(&root, AF_INET, SOCK_DGRAM);
    assert_eq!(h.bind(&root, s4b, &sin(Ipv4Addr::LOCALHOST, 7000)), EADDRINUSE);
    let s6 = h.socket(&root, AF_INET6, SOCK_DGRAM);
    assert_eq!(h.bind(&root, s6, &sin6(Ipv6Addr::UNSPECIFIED, 7000)), EADDRINUSE, "[::] conflicts with 0.0.0.0");
    assert_eq!(h.setsockopt(&root, s6, SOL_IPV6, IPV6_V6ONLY, &1i32.to_ne_bytes()), 0);
    assert_eq!(h.bind(&root, s6, &sin6(Ipv6Addr::UNSPECIFIED, 7000)), 0, "a v6-only socket does not");
    assert_eq!(h.setsockopt(&root, s6, SOL_IPV6, IPV6_V6ONLY, &0i32.to_ne_bytes()), EINVAL, "bound");
    let r1 = h.socket(&root, AF_INET, SOCK_DGRAM);
    let r2 = h.socket(&root, AF_INET, SOCK_DGRAM);
    for r in [r1, r2] {
        assert_eq!(h.setsockopt(&root, r, SOL_SOCKET, SO_REUSEADDR, &1i32.to_ne_bytes()), 0);
        assert_eq!(h.bind(&root, r, &sin(Ipv4Addr::LOCALHOST, 7100)), 0);
    }
    assert_eq!(h.getsockopt_int(&root, r1, SOL_SOCKET, SO_REUSEADDR), (0, 1));
    // SO_RCVBUF is doubled and capped by rmem_max.
    assert_eq!(h.getsockopt_int(&root, r1, SOL_SOCKET, SO_RCVBUF), (0, 212992));
    assert_eq!(h.setsockopt(&root, r1, SOL_SOCKET, SO_RCVBUF, &1000i32.to_ne_bytes()), 0);
    assert_eq!(h.getsockopt_int(&root, r1, SOL_SOCKET, SO_RCVBUF), (0, 4608));
    assert_eq!(h.setsockopt(&root, r1, SOL_SOCKET, SO_RCVBUF, &[1, 0]), EINVAL);
    // Ports below 1024 need CAP_NET_BIND_SERVICE; SO_BINDTODEVICE needs CAP_NET_RAW.
    let u = h.socket(&user, AF_INET6, SOCK_DGRAM);
    assert_eq!(h.bind(&user, u, &sin6(Ipv6Addr::UNSPECIFIED, 53)), EACCES);
    assert_eq!(h.setsockopt(&user, u, SOL_SOCKET, SO_BINDTODEVICE, b"lo\0"), EPERM);
    let low = h.socket(&root, AF_INET6, SOCK_DGRAM);
    assert_eq!(h.bind(&root, low, &sin6(Ipv6Addr::UNSPECIFIED, 53)), 0);
    assert_eq!(h.setsockopt(&root, low, SOL_SOCKET, SO_BINDTODEVICE, b"lo\0"), 0);
    assert_eq!(h.bind(&user, u, &sin6("2001:db8::99".parse().unwrap(), 4000)), EADDRNOTAVAIL);
    // sendto without a destination on an unconnected socket; too big; recv nonblocking.
    assert_eq!(h.sendto(&user, u, b"x", None), EDESTADDRREQ);
    let (_, name) = h.sockname(&user, u, false);
    assert_ne!(port_of(&name), 0, "autobound even though the send failed");
    let big = vec![0u8; 2048];
    h.put(user.pid, user.buf(), &big);
    h.put(user.pid, user.addr(), &sin(Ipv4Addr::LOCALHOST, 9));
    let v4 = h.socket(&user, AF_INET, SOCK_DGRAM);
    assert_eq!(h.call(user.pid, Sysno::Sendto, [v4 as u64, user.buf(), 65508, 0, user.addr(), 16]), EMSGSIZE);
    h.put(user.pid, user.addr(), &sin6(Ipv6Addr::LOCALHOST, 9));
    assert_eq!(h.call(user.pid, Sysno::Sendto, [u as u64, user.buf(), 65528, 0, user.addr(), 28]), EMSGSIZE);
    assert_eq!(h.recvfrom(&user, u, MSG_DONTWAIT).0, EAGAIN);
    let nb = h.socket(&user, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
    assert_eq!(h.recvfrom(&user, nb, 0).0, EAGAIN);
    // Socket calls on a non-socket.
    let mut fds = [0u8; 8];
    assert_eq!(h.call(user.pid, Sysno::Pipe2, [user.opt(), 0, 0, 0, 0, 0]), 0);
    h.k.user_mode_access(user.pid, user.opt(), &mut fds, false).unwrap();
    let pfd = i32::from_ne_bytes(fds[..4].try_into().unwrap()) as u64;
    assert_eq!(h.call(user.pid, Sysno::Bind, [pfd, user.addr(), 28, 0, 0, 0]), ENOTSOCK);
}

/// An Ethernet frame from the peer carrying `payload` over IPv4 UDP.
fn v4_udp_frame(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = vec![0u8; 8 + data.len()];
    u[8..].copy_from_slice(data);
    udp::Repr { src_port: sport, dst_port: dport, payload_len: data.len() }.emit(&mut udp::Packet::new_unchecked(&mut u[..]), &udp::IpAddrs::V4 { src, dst });
    let mut f = vec![0u8; 14 + 20 + u.len()];
    ethernet::Repr { src: PEER_MAC, dst: EthernetAddress(OUR_MAC), ethertype: EtherType::IPV4 }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    let mut p = ipv4::Packet::new_unchecked(&mut f[14..]);
    ipv4::Repr { src, dst, protocol: ip_proto::UDP, payload_len: u.len(), ttl: 64, tos: 0, ident: 1, dont_frag: false, more_frags: false, frag_offset: 0 }.emit(&mut p);
    f[34..].copy_from_slice(&u);
    ipv4::Packet::new_unchecked(&mut f[14..]).fill_checksum();
    f
}

#[test]
fn datagrams_from_eth0_reach_bound_sockets() {
    let mut h = H::up();
    let p = h.proc(0);
    let s6 = h.socket(&p, AF_INET6, SOCK_DGRAM);
    assert_eq!(h.bind(&p, s6, &sin6(Ipv6Addr::UNSPECIFIED, 7777)), 0);
    let peer: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let us: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let mut u = vec![0u8; 8 + 3];
    u[8..].copy_from_slice(b"abc");
    udp::Repr { src_port: 4242, dst_port: 7777, payload_len: 3 }.emit(&mut udp::Packet::new_unchecked(&mut u[..]), &udp::IpAddrs::V6 { src: peer, dst: us });
    let f = harness::frames::eth_ipv6(PEER_MAC, EthernetAddress(OUR_MAC), peer, us, ip_proto::UDP, 64, 0, &u);
    h.k.netif_receive(0, &f);
    assert!(h.k.hal.nics.take_transmitted(0).iter().all(|f| f[12..14] != [0x86, 0xdd] || ipv6::Packet::new_unchecked(&f[14..]).next_header() != ip_proto::ICMPV6), "no Port Unreachable");
    let (n, data, from) = h.recvfrom(&p, s6, 0);
    assert_eq!((n, data.as_slice(), from), (3, &b"abc"[..], sin6(peer, 4242)));
    // The same socket (not v6-only) takes IPv4 datagrams, reported v4-mapped.
    let f = v4_udp_frame(Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 1), 999, 7777, b"v4");
    h.k.netif_receive(0, &f);
    let (n, data, from) = h.recvfrom(&p, s6, 0);
    assert_eq!((n, data.as_slice()), (2, &b"v4"[..]));
    assert_eq!(from, sin6(Ipv4Addr::new(10, 0, 0, 2).to_ipv6_mapped(), 999));
    // An IPv4 socket on the same port (SO_REUSEADDR on neither: [::] already holds it).
    let s4 = h.socket(&p, AF_INET, SOCK_DGRAM);
    assert_eq!(h.bind(&p, s4, &sin(Ipv4Addr::UNSPECIFIED, 7778)), 0);
    // A broadcast reaches it too.
    let f = v4_udp_frame(Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 255), 999, 7778, b"all");
    let mut f = f;
    f[0..6].copy_from_slice(&[0xff; 6]);
    h.k.netif_receive(0, &f);
    let (n, data, from) = h.recvfrom(&p, s4, 0);
    assert_eq!((n, data.as_slice(), from), (3, &b"all"[..], sin(Ipv4Addr::new(10, 0, 0, 2), 999)));
    assert_eq!(h.udp_stat(false, "InDatagrams"), 2);
}

#[test]
fn port_unreachable_on_a_connected_socket_is_econnrefused() {
    let mut h = H::up();
    let p = h.proc(0);
    for (family, sa) in [(AF_INET, sin(Ipv4Addr::LOCALHOST, 9)), (AF_INET6, sin6(Ipv6Addr::LOCALHOST, 9))] {
        let s = h.socket(&p, family, SOCK_DGRAM);
        assert_eq!(h.connect(&p, s, &sa), 0);
        assert_eq!(h.sendto(&p, s, b"anyone?", None), 7, "the send itself succeeds");
        // The Port Unreachable came back over lo: the next call reports it, once.
        assert_eq!(h.recvfrom(&p, s, MSG_DONTWAIT).0, ECONNREFUSED);
        assert_eq!(h.recvfrom(&p, s, MSG_DONTWAIT).0, EAGAIN);
        assert_eq!(h.sendto(&p, s, b"again", None), 5);
        assert_eq!(h.sendto(&p, s, b"again", None), ECONNREFUSED);
        // An unconnected socket is not told.
        let u = h.socket(&p, family, SOCK_DGRAM);
        assert_eq!(h.sendto(&p, u, b"x", Some(&sa)), 1);
        assert_eq!(h.recvfrom(&p, u, MSG_DONTWAIT).0, EAGAIN);
    }
    assert_eq!(h.udp_stat(false, "NoPorts"), 3);
    assert_eq!(h.udp_stat(true, "Udp6NoPorts"), 3);
}

#[test]
fn a_full_receive_buffer_counts_rcvbuf_errors() {
    let mut h = H::up();
    let p = h.proc(0);
    let s = h.socket(&p, AF_INET, SOCK_DGRAM);
    assert_eq!(h.setsockopt(&p, s, SOL_SOCKET, SO_RCVBUF, &0i32.to_ne_bytes()), 0);
    assert_eq!(h.bind(&p, s, &sin(Ipv4Addr::LOCALHOST, 8000)), 0);
    let c = h.socket(&p, AF_INET, SOCK_DGRAM);
    let mut sent = 0;
    for _ in 0..10 {
        assert_eq!(h.sendto(&p, c, &[7u8; 1000], Some(&sin(Ipv4Addr::LOCALHOST, 8000))), 1000);
        sent += 1;
    }
    let mut got = 0;
    while h.recvfrom(&p, s, MSG_DONTWAIT).0 == 1000 {
        got += 1;
    }
    assert!(got >= 1 && got < sent, "got {got} of {sent}");
    assert_eq!(h.udp_stat(false, "RcvbufErrors"), (sent - got) as u64);
}

/// 4.3's udpv6_recvmsg around `__skb_recv_datagram`: `MSG_PEEK` leaves the head queued
/// and counts `InDatagrams` at the first look only (`skb->peeked`); a copy that faults
/// dequeues and frees the datagram (`InErrors` only if nobody had looked at it);
/// `MSG_TRUNC` returns the datagram's full length and consumes it.
#[test]
fn peek_trunc_and_a_faulting_buffer_follow_udpv6_recvmsg() {
    const MSG_PEEK: u64 = 2;
    const MSG_TRUNC: u64 = 0x20;
    const EFAULT: i64 = -14;
    let mut h = H::up();
    let p = h.proc(0);
    let s = h.socket(&p, AF_INET6, SOCK_DGRAM);
    assert_eq!(h.bind(&p, s, &sin6(Ipv6Addr::LOCALHOST, 5353)), 0);
    let c = h.socket(&p, AF_INET6, SOCK_DGRAM);
    for m in [&b"first"[..], b"second", b"third"] {
        assert_eq!(h.sendto(&p, c, m, Some(&sin6(Ipv6Addr::LOCALHOST, 5353))), m.len() as i64);
    }
    let (_, cname) = h.sockname(&p, c, false);
    let cname = sin6(Ipv6Addr::LOCALHOST, port_of(&cname));
    for _ in 0..2 {
        let (n, data, from) = h.recvfrom(&p, s, MSG_PEEK | MSG_DONTWAIT);
        assert_eq!((n, data.as_slice(), from), (5, &b"first"[..], cname.clone()));
    }
    assert_eq!(h.udp_stat(true, "Udp6InDatagrams"), 1);
    // A faulting buffer: EFAULT, the peeked datagram is gone, not counted again.
    h.put(p.pid, p.len(), &128i32.to_ne_bytes());
    let r = h.call(p.pid, Sysno::Recvfrom, [s as u64, 0x10_0000_0000, 64, MSG_DONTWAIT, p.addr(), p.len()]);
    assert_eq!(r, EFAULT);
    assert_eq!(h.udp_stat(true, "Udp6InErrors"), 0);
    // The same for a datagram nobody looked at: dropped, InErrors.
    let r = h.call(p.pid, Sysno::Recvfrom, [s as u64, 0x10_0000_0000, 64, MSG_DONTWAIT, p.addr(), p.len()]);
    assert_eq!(r, EFAULT);
    assert_eq!(h.udp_stat(true, "Udp6InErrors"), 1);
    // MSG_TRUNC with a short buffer: the full length, two bytes copied, consumed.
    h.put(p.pid, p.len(), &128i32.to_ne_bytes());
    let r = h.call(p.pid, Sysno::Recvfrom, [s as u64, p.buf(), 2, MSG_TRUNC | MSG_DONTWAIT, p.addr(), p.len()]);
    assert_eq!(r, 5);
    assert_eq!(h.get(p.pid, p.buf(), 2), b"th");
    assert_eq!(h.recvfrom(&p, s, MSG_DONTWAIT).0, EAGAIN);
    assert_eq!(h.udp_stat(true, "Udp6InDatagrams"), 2);
}

#[test]
fn an_ipv6_multicast_datagram_reaches_every_bound_socket() {
    let mut h = H::up();
    let p = h.proc(0);
    let mut socks = Vec::new();
    for _ in 0..3 {
        let s = h.socket(&p, AF_INET6, SOCK_DGRAM);
        assert_eq!(h.setsockopt(&p, s, SOL_SOCKET, SO_REUSEADDR, &1i32.to_ne_bytes()), 0);
        assert_eq!(h.bind(&p, s, &sin6(Ipv6Addr::UNSPECIFIED, 5000)), 0);
        socks.push(s);
    }
    let peer: Ipv6Addr = "fe80::2".parse().unwrap();
    let all: Ipv6Addr = "ff02::1".parse().unwrap();
    let mut u = vec![0u8; 8 + 4];
    u[8..].copy_from_slice(b"mcst");
    udp::Repr { src_port: 4000, dst_port: 5000, payload_len: 4 }.emit(&mut udp::Packet::new_unchecked(&mut u[..]), &udp::IpAddrs::V6 { src: peer, dst: all });
    let f = harness::frames::eth_ipv6(PEER_MAC, EthernetAddress::from_ipv6_multicast(&all), peer, all, ip_proto::UDP, 1, 0, &u);
    h.k.netif_receive(0, &f);
    for s in socks {
        let (n, data, from) = h.recvfrom(&p, s, MSG_DONTWAIT);
        assert_eq!((n, data.as_slice()), (4, &b"mcst"[..]));
        // A link-local source comes with the arrival interface as its scope.
        let mut want = sin6(peer, 4000);
        want[24..28].copy_from_slice(&2u32.to_ne_bytes());
        assert_eq!(from, want);
        assert_eq!(h.recvfrom(&p, s, MSG_DONTWAIT).0, EAGAIN);
    }
    assert_eq!(h.udp_stat(true, "Udp6InDatagrams"), 3);
}
