//! Raw ICMP sockets and sendmsg/recvmsg through real syscalls on one host over `lo`: the
//! `CAP_NET_RAW` gate and its place in socket()'s checks, ping over 127.0.0.1 and ::1
//! with the kernel answering while the raw socket gets copies (its own request first),
//! `ICMP_FILTER`/`ICMP6_FILTER`, the ICMPv6 checksum the kernel computes, the IPv4
//! header on receive, `IPV6_CHECKSUM`, `IP_HDRINCL`, raw sockets taking an unknown
//! protocol (no Protocol Unreachable / Parameter Problem), the MIB counters, and
//! sendmsg/recvmsg with `MSG_PEEK`/`MSG_TRUNC`, `msg_name` filled and 4.3's errno order.

use hal_sim::{SimConfig, SimHal};
use kernel::net::msghdr::UserMsghdr;
use kernel::net::wire::{checksum, Ipv4Addr, Ipv6Addr};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::{KEvent, Kernel, KernelConfig};

const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;
const SOCK_DGRAM: u64 = 2;
const SOCK_RAW: u64 = 3;
const IPPROTO_ICMP: u64 = 1;
const IPPROTO_UDP: u64 = 17;
const IPPROTO_ICMPV6: u64 = 58;
const MSG_PEEK: u64 = 2;
const MSG_TRUNC: u64 = 0x20;
const MSG_DONTWAIT: u64 = 0x40;
const MSG_OOB: u64 = 1;
const MSG_CMSG_COMPAT: u64 = 0x8000_0000;
const SOL_IP: u64 = 0;
const SOL_IPV6: u64 = 41;
const SOL_ICMPV6: u64 = 58;
const SOL_RAW: u64 = 255;
const ICMP_FILTER: u64 = 1;
const ICMP6_FILTER: u64 = 1;
const IPV6_CHECKSUM: u64 = 7;
const IP_HDRINCL: u64 = 3;

const EPERM: i64 = -1;
const EAGAIN: i64 = -11;
const EFAULT: i64 = -14;
const EINVAL: i64 = -22;
const EMSGSIZE: i64 = -90;
const EPROTONOSUPPORT: i64 = -93;
const EOPNOTSUPP: i64 = -95;
const ENOBUFS: i64 = -105;
const EDESTADDRREQ: i64 = -89;

/// Scratch memory of a process: 16 KiB.
const SCRATCH: u64 = 16384;

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

/// An ICMPv4 Echo Request with its checksum (raw IPv4 sockets send what they are given).
fn echo4(id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    let c = checksum::checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// An ICMPv6 Echo Request with a zero checksum field: the kernel fills it in.
fn echo6(id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut m = vec![128, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(data);
    m
}

/// Whether an ICMPv6 message from `src` to `dst` carries a valid checksum.
fn icmp6_verifies(src: &Ipv6Addr, dst: &Ipv6Addr, m: &[u8]) -> bool {
    kernel::net::ipv6::ip6_output::upper_checksum(src, dst, 58, m) == 0
}

struct H {
    k: Kernel<SimHal>,
    log: Vec<(i32, i64)>,
}

/// A process with scratch memory: data at +0 (8 KiB), addresses at +8192, lengths at
/// +8448, option values at +8704, a msghdr at +9216, iovecs at +9472, a second buffer
/// at +12288.
struct P {
    pid: i32,
    page: u64,
}

impl P {
    fn buf(&self) -> u64 {
        self.page
    }
    fn addr(&self) -> u64 {
        self.page + 8192
    }
    fn len(&self) -> u64 {
        self.page + 8448
    }
    fn opt(&self) -> u64 {
        self.page + 8704
    }
    fn msg(&self) -> u64 {
        self.page + 9216
    }
    fn iov(&self) -> u64 {
        self.page + 9472
    }
    fn buf2(&self) -> u64 {
        self.page + 12288
    }
}

impl H {
    /// `lo` up (127.0.0.1 and ::1).
    fn up() -> H {
        let hal = SimHal::new(SimConfig { seed: 5, ram_bytes: 16 << 20, cpus: 1 });
        let mut h = H { k: Kernel::new(hal, KernelConfig::default()), log: Vec::new() };
        h.k.dev_open(1).unwrap();
        harness::sim::run_timers_for(&mut h.k, 3_000_000_000);
        h
    }

    fn proc(&mut self, uid: u32) -> P {
        let pid = self.k.create_process(Cred::new(uid, uid), "t", 0).expect("spawn");
        let page = self.call(pid, Sysno::Mmap, [0, SCRATCH, 3, 0x22, u64::MAX, 0]) as u64;
        P { pid, page }
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

    fn call(&mut self, pid: i32, s: Sysno, args: [u64; 6]) -> i64 {
        let nr = s.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
        self.k.submit(pid, nr, args).expect("submit");
        self.run();
        let i = self.log.iter().position(|&(p, _)| p == pid).expect("the call returned");
        self.log.remove(i).1
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

    fn socket(&mut self, p: &P, family: u64, ty: u64, proto: u64) -> i64 {
        self.call(p.pid, Sysno::Socket, [family, ty, proto, 0, 0, 0])
    }

    fn bind(&mut self, p: &P, fd: i64, sa: &[u8]) -> i64 {
        self.put(p.pid, p.addr(), sa);
        self.call(p.pid, Sysno::Bind, [fd as u64, p.addr(), sa.len() as u64, 0, 0, 0])
    }

    fn sendto(&mut self, p: &P, fd: i64, data: &[u8], sa: &[u8]) -> i64 {
        self.put(p.pid, p.buf(), data);
        self.put(p.pid, p.addr(), sa);
        self.call(p.pid, Sysno::Sendto, [fd as u64, p.buf(), data.len() as u64, 0, p.addr(), sa.len() as u64])
    }

    /// recvfrom into a `cap`-byte buffer: (ret, data, source address).
    fn recvfrom(&mut self, p: &P, fd: i64, cap: usize, flags: u64) -> (i64, Vec<u8>, Vec<u8>) {
        self.put(p.pid, p.len(), &128i32.to_ne_bytes());
        let r = self.call(p.pid, Sysno::Recvfrom, [fd as u64, p.buf(), cap as u64, flags | MSG_DONTWAIT, p.addr(), p.len()]);
        if r < 0 {
            return (r, vec![], vec![]);
        }
        let data = self.get(p.pid, p.buf(), (r as usize).min(cap));
        let alen = i32::from_ne_bytes(self.get(p.pid, p.len(), 4).try_into().unwrap()) as usize;
        (r, data, self.get(p.pid, p.addr(), alen))
    }

    fn setsockopt(&mut self, p: &P, fd: i64, level: u64, name: u64, val: &[u8]) -> i64 {
        self.put(p.pid, p.opt(), val);
        self.call(p.pid, Sysno::Setsockopt, [fd as u64, level, name, p.opt(), val.len() as u64, 0])
    }

    /// getsockopt with room for `cap` bytes: (ret, value, length stored).
    fn getsockopt(&mut self, p: &P, fd: i64, level: u64, name: u64, cap: i32) -> (i64, Vec<u8>, i32) {
        self.put(p.pid, p.len(), &cap.to_ne_bytes());
        self.put(p.pid, p.opt(), &[0xaa; 64]);
        let r = self.call(p.pid, Sysno::Getsockopt, [fd as u64, level, name, p.opt(), p.len(), 0]);
        let n = i32::from_ne_bytes(self.get(p.pid, p.len(), 4).try_into().unwrap());
        (r, self.get(p.pid, p.opt(), 64), n)
    }

    /// Lays out a msghdr at `p.msg()`: `name` at `p.addr()` (`namelen` as given),
    /// `iovs` as (offset into the data area, length) over `p.buf()`.
    fn msghdr(&mut self, p: &P, name: Option<(&[u8], i32)>, iovs: &[(u64, u64)]) {
        let mut arr = Vec::new();
        for &(off, len) in iovs {
            arr.extend_from_slice(&(p.buf() + off).to_le_bytes());
            arr.extend_from_slice(&len.to_le_bytes());
        }
        self.put(p.pid, p.iov(), &arr);
        let (na, nl) = match name {
            Some((b, l)) => {
                self.put(p.pid, p.addr(), b);
                (p.addr(), l)
            }
            None => (0, 0),
        };
        let m = UserMsghdr { name: na, namelen: nl, iov: p.iov(), iovlen: iovs.len() as u64, control: 0, controllen: 0, flags: 0 };
        self.put(p.pid, p.msg(), &m.to_bytes());
    }

    fn read_msghdr(&mut self, p: &P) -> UserMsghdr {
        UserMsghdr::parse(&self.get(p.pid, p.msg(), 56).try_into().unwrap())
    }

    /// One `Name: value` column of a `/proc/net/snmp` table (`Icmp:`, `IcmpMsg:`, `Ip:`).
    fn snmp(&self, table: &str, name: &str) -> u64 {
        let t = String::from_utf8(self.k.proc_read(kernel::fs::proc::ProcNode::NetSnmp).unwrap()).unwrap();
        let lines: Vec<&str> = t.lines().filter(|l| l.starts_with(&format!("{table}:"))).collect();
        if lines.len() < 2 {
            return 0;
        }
        let names: Vec<&str> = lines[0].split_whitespace().collect();
        let vals: Vec<&str> = lines[1].split_whitespace().collect();
        names.iter().position(|n| *n == name).map_or(0, |i| vals[i].parse().unwrap())
    }

    /// A `/proc/net/snmp6` counter (0 when not listed).
    fn snmp6(&self, name: &str) -> u64 {
        let t = String::from_utf8(self.k.proc_read(kernel::fs::proc::ProcNode::NetSnmp6).unwrap()).unwrap();
        t.lines().find_map(|l| l.split_once(char::is_whitespace).filter(|(n, _)| n.trim() == name).map(|(_, v)| v.trim().parse().unwrap())).unwrap_or(0)
    }
}

#[test]
fn raw_sockets_need_cap_net_raw_after_the_protocol_check() {
    let mut h = H::up();
    let user = h.proc(1000);
    let root = h.proc(0);
    assert_eq!(h.socket(&user, AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
    assert_eq!(h.socket(&user, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
    // inetsw's raw entry is a wildcard that does not match protocol 0: EPROTONOSUPPORT
    // comes before the capability check.
    assert_eq!(h.socket(&user, AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
    assert_eq!(h.socket(&user, AF_INET6, SOCK_RAW, 0), EPROTONOSUPPORT);
    let fd = h.socket(&root, AF_INET, SOCK_RAW, IPPROTO_ICMP);
    assert!(fd >= 0);
    let (r, v, n) = h.getsockopt(&root, fd, 1, 3, 4);
    assert_eq!((r, &v[..4], n), (0, &3i32.to_ne_bytes()[..], 4), "SO_TYPE is SOCK_RAW");
    // getsockname reports the protocol as the port (inet_sport = inet_num).
    h.put(root.pid, root.len(), &16i32.to_ne_bytes());
    assert_eq!(h.call(root.pid, Sysno::Getsockname, [fd as u64, root.addr(), root.len(), 0, 0, 0]), 0);
    assert_eq!(h.get(root.pid, root.addr(), 16), sin(Ipv4Addr::UNSPECIFIED, 1));
    let fd6 = h.socket(&root, AF_INET6, SOCK_RAW | 0o4000, IPPROTO_ICMPV6);
    assert!(fd6 >= 0);
}

#[test]
fn ping_127_0_0_1_with_the_kernel_answering() {
    let mut h = H::up();
    let p = h.proc(0);
    let fd = h.socket(&p, AF_INET, SOCK_RAW, IPPROTO_ICMP);
    let (in0, out0) = (h.snmp("Icmp", "InMsgs"), h.snmp("Icmp", "OutMsgs"));
    let req = echo4(0x1234, 1, b"ping!");
    assert_eq!(h.sendto(&p, fd, &req, &sin(Ipv4Addr::LOCALHOST, 0)), req.len() as i64);
    // Our own request comes first (raw_local_deliver copies before icmp_rcv answers),
    // with its IPv4 header.
    let (n, d, from) = h.recvfrom(&p, fd, 1500, 0);
    assert_eq!(n, 20 + req.len() as i64);
    assert_eq!(from, sin(Ipv4Addr::LOCALHOST, 0), "the source, port 0");
    assert_eq!(d[0], 0x45);
    assert_eq!(u16::from_be_bytes([d[2], d[3]]) as usize, 20 + req.len(), "tot_len");
    assert_eq!((d[8], d[9]), (64, 1), "TTL 64, protocol ICMP");
    assert!(checksum::verifies(&d[..20]), "the header checksum the kernel built");
    assert_eq!(&d[12..20], &[127, 0, 0, 1, 127, 0, 0, 1]);
    assert_eq!(&d[20..], &req[..]);
    // Then the kernel's reply: same id, sequence and data.
    let (n, d, _) = h.recvfrom(&p, fd, 1500, 0);
    assert_eq!(n, 20 + req.len() as i64);
    assert_eq!(d[20], 0, "Echo Reply");
    assert_eq!(&d[24..], &req[4..]);
    assert!(checksum::verifies(&d[20..]));
    assert_eq!(h.recvfrom(&p, fd, 1500, 0).0, EAGAIN);
    // icmp_out_count for the raw send and the reply; icmp_rcv for both receipts.
    assert_eq!(h.snmp("Icmp", "OutMsgs") - out0, 2);
    assert_eq!(h.snmp("Icmp", "InMsgs") - in0, 2);
    assert_eq!(h.snmp("Icmp", "OutEchos"), 1);
    assert_eq!(h.snmp("Icmp", "OutEchoReps"), 1);
    // A short buffer: MSG_TRUNC returns the whole length.
    assert_eq!(h.sendto(&p, fd, &req, &sin(Ipv4Addr::LOCALHOST, 0)), req.len() as i64);
    let (n, d, _) = h.recvfrom(&p, fd, 4, MSG_TRUNC);
    assert_eq!((n, d.len()), (20 + req.len() as i64, 4));
    // A message shorter than the type and code the kernel reads before routing.
    assert_eq!(h.sendto(&p, fd, &[8], &sin(Ipv4Addr::LOCALHOST, 0)), EFAULT);
    assert_eq!(h.call(p.pid, Sysno::Sendto, [fd as u64, p.buf(), 8, 0, 0, 0]), EDESTADDRREQ);
    assert_eq!(h.call(p.pid, Sysno::Sendto, [fd as u64, p.buf(), 8, MSG_OOB, 0, 0]), EOPNOTSUPP);
}

#[test]
fn icmp_filter_blocks_the_request_copy() {
    let mut h = H::up();
    let p = h.proc(0);
    let fd = h.socket(&p, AF_INET, SOCK_RAW, IPPROTO_ICMP);
    // Block Echo Request (type 8): ping's own filter lets replies and errors through.
    assert_eq!(h.setsockopt(&p, fd, SOL_RAW, ICMP_FILTER, &(1u32 << 8).to_ne_bytes()), 0);
    let (r, v, n) = h.getsockopt(&p, fd, SOL_RAW, ICMP_FILTER, 64);
    assert_eq!((r, &v[..4], n), (0, &(1u32 << 8).to_ne_bytes()[..], 4));
    let (r, v, n) = h.getsockopt(&p, fd, SOL_RAW, ICMP_FILTER, 2);
    assert_eq!((r, &v[..3], n), (0, &[0, 1, 0xaa][..], 2), "two bytes asked, two given");
    assert_eq!(h.getsockopt(&p, fd, SOL_RAW, ICMP_FILTER, -1).0, EINVAL);
    assert_eq!(h.getsockopt(&p, fd, SOL_RAW, 2, 4).0, -92, "ENOPROTOOPT");
    let req = echo4(7, 9, b"x");
    assert_eq!(h.sendto(&p, fd, &req, &sin(Ipv4Addr::LOCALHOST, 0)), req.len() as i64);
    let (_, d, _) = h.recvfrom(&p, fd, 1500, 0);
    assert_eq!(d[20], 0, "only the reply arrives");
    assert_eq!(h.recvfrom(&p, fd, 1500, 0).0, EAGAIN);
    // ICMP_FILTER is an ICMP socket's option only.
    let udp_raw = h.socket(&p, AF_INET, SOCK_RAW, IPPROTO_UDP);
    assert_eq!(h.setsockopt(&p, udp_raw, SOL_RAW, ICMP_FILTER, &[0; 4]), EOPNOTSUPP);
    // IP_HDRINCL is a raw socket's option: on UDP ENOPROTOOPT; getsockopt gives a byte.
    let udp = h.socket(&p, AF_INET, SOCK_DGRAM, 0);
    assert_eq!(h.setsockopt(&p, udp, SOL_IP, IP_HDRINCL, &1i32.to_ne_bytes()), -92);
    let (r, v, n) = h.getsockopt(&p, fd, SOL_IP, IP_HDRINCL, 1);
    assert_eq!((r, v[0], n), (0, 0, 1));
}

#[test]
fn ip_hdrincl_sends_the_callers_header() {
    let mut h = H::up();
    let p = h.proc(0);
    let fd = h.socket(&p, AF_INET, SOCK_RAW, IPPROTO_ICMP);
    assert_eq!(h.setsockopt(&p, fd, SOL_IP, IP_HDRINCL, &1i32.to_ne_bytes()), 0);
    let icmp = echo4(3, 4, b"hdr");
    // A header with source, length, ID and checksum left 0: the kernel fills them in.
    let mut pkt = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 9, 1, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1];
    pkt.extend_from_slice(&icmp);
    assert_eq!(h.sendto(&p, fd, &pkt, &sin(Ipv4Addr::LOCALHOST, 0)), pkt.len() as i64);
    let (n, d, _) = h.recvfrom(&p, fd, 1500, 0);
    assert_eq!(n as usize, pkt.len());
    assert_eq!(d[8], 9, "the caller's TTL");
    assert_eq!(&d[12..16], &[127, 0, 0, 1], "the route's source");
    assert!(checksum::verifies(&d[..20]));
    assert_ne!(u16::from_be_bytes([d[4], d[5]]), 0, "an Identification was chosen");
    // An IHL past the data is EINVAL.
    assert_eq!(h.sendto(&p, fd, &[0x4f, 0, 0, 0], &sin(Ipv4Addr::LOCALHOST, 0)), EINVAL);
}

#[test]
fn ping6_over_loopback_with_the_checksum_from_the_kernel() {
    let mut h = H::up();
    let p = h.proc(0);
    let fd = h.socket(&p, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    let req = echo6(0x4242, 1, b"six");
    assert_eq!(h.sendto(&p, fd, &req, &sin6(Ipv6Addr::LOCALHOST, 0)), req.len() as i64);
    // Our request, without the IPv6 header, its checksum computed at offset 2.
    let (n, d, from) = h.recvfrom(&p, fd, 1500, 0);
    assert_eq!((n as usize, d[0]), (req.len(), 128));
    assert_ne!(&d[2..4], &[0, 0]);
    assert!(icmp6_verifies(&Ipv6Addr::LOCALHOST, &Ipv6Addr::LOCALHOST, &d));
    assert_eq!(from, sin6(Ipv6Addr::LOCALHOST, 0));
    let (n, d, _) = h.recvfrom(&p, fd, 1500, 0);
    assert_eq!((n as usize, d[0]), (req.len(), 129), "the kernel's Echo Reply");
    assert_eq!(&d[4..], &req[4..]);
    assert!(icmp6_verifies(&Ipv6Addr::LOCALHOST, &Ipv6Addr::LOCALHOST, &d));
    assert_eq!(h.snmp6("Icmp6OutMsgs"), 2);
    assert_eq!(h.snmp6("Icmp6InMsgs"), 2);
    assert_eq!(h.snmp6("Icmp6OutEchos"), 1);
    assert_eq!(h.snmp6("Icmp6OutEchoReplies"), 1);
    // IPV6_CHECKSUM: offset 2, not settable at SOL_IPV6 on ICMPv6 (RFC 3542).
    let (r, v, n) = h.getsockopt(&p, fd, SOL_IPV6, IPV6_CHECKSUM, 4);
    assert_eq!((r, &v[..4], n), (0, &2i32.to_ne_bytes()[..], 4));
    assert_eq!(h.setsockopt(&p, fd, SOL_IPV6, IPV6_CHECKSUM, &4i32.to_ne_bytes()), EINVAL);
    assert_eq!(h.setsockopt(&p, fd, SOL_RAW, IPV6_CHECKSUM, &3i32.to_ne_bytes()), EINVAL, "odd offset");
    // The port must be 0 or the protocol; a message too short for the offset is EINVAL.
    assert_eq!(h.sendto(&p, fd, &req, &sin6(Ipv6Addr::LOCALHOST, 17)), EINVAL);
    assert_eq!(h.sendto(&p, fd, &req, &sin6(Ipv6Addr::LOCALHOST, 58)), req.len() as i64);
    assert_eq!(h.sendto(&p, fd, &req[..3], &sin6(Ipv6Addr::LOCALHOST, 0)), EINVAL);
    assert_eq!(h.sendto(&p, fd, &req[..1], &sin6(Ipv6Addr::LOCALHOST, 0)), EFAULT);
    // A v4-mapped address cannot be bound: raw IPv6 is IPv6 only.
    assert_eq!(h.bind(&p, fd, &sin6(Ipv4Addr::LOCALHOST.to_ipv6_mapped(), 0)), -99);
}

#[test]
fn icmp6_filter_passes_all_by_default_and_blocks_what_is_set() {
    let mut h = H::up();
    let p = h.proc(0);
    let fd = h.socket(&p, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    let (r, v, n) = h.getsockopt(&p, fd, SOL_ICMPV6, ICMP6_FILTER, 64);
    assert_eq!((r, &v[..32], n), (0, &[0u8; 32][..], 32));
    let mut f = [0u32; 8];
    f[128 >> 5] |= 1 << (128 & 31);
    let bytes: Vec<u8> = f.iter().flat_map(|w| w.to_ne_bytes()).collect();
    assert_eq!(h.setsockopt(&p, fd, SOL_ICMPV6, ICMP6_FILTER, &bytes), 0);
    let req = echo6(1, 2, b"f");
    assert_eq!(h.sendto(&p, fd, &req, &sin6(Ipv6Addr::LOCALHOST, 0)), req.len() as i64);
    let (_, d, _) = h.recvfrom(&p, fd, 1500, 0);
    assert_eq!(d[0], 129, "the request was filtered");
    assert_eq!(h.recvfrom(&p, fd, 1500, 0).0, EAGAIN);
    // SOL_ICMPV6 belongs to ICMPv6 sockets.
    let other = h.socket(&p, AF_INET6, SOCK_RAW, IPPROTO_UDP);
    assert_eq!(h.setsockopt(&p, other, SOL_ICMPV6, ICMP6_FILTER, &bytes), EOPNOTSUPP);
}

#[test]
fn a_raw_socket_takes_an_unknown_protocol() {
    let mut h = H::up();
    let p = h.proc(0);
    // IPv4: protocol 253 to 127.0.0.1 with a raw socket for it: no Protocol Unreachable.
    let rx = h.socket(&p, AF_INET, SOCK_RAW, 253);
    let tx = h.socket(&p, AF_INET, SOCK_RAW, 253);
    let unreach0 = h.snmp("Icmp", "OutDestUnreachs");
    assert_eq!(h.sendto(&p, tx, b"data", &sin(Ipv4Addr::LOCALHOST, 0)), 4);
    // Both sockets match the datagram (neither is bound nor connected).
    let (n, d, _) = h.recvfrom(&p, rx, 1500, 0);
    assert_eq!((n, d[9], &d[20..]), (24, 253, &b"data"[..]));
    assert_eq!(h.recvfrom(&p, tx, 1500, 0).0, 24);
    assert_eq!(h.snmp("Icmp", "OutDestUnreachs"), unreach0);
    assert_eq!(h.snmp("Ip", "InUnknownProtos"), 0);
    // Closed, the protocol is unknown again.
    for fd in [rx, tx] {
        assert_eq!(h.call(p.pid, Sysno::Close, [fd as u64, 0, 0, 0, 0, 0]), 0);
    }
    // IPv6: next header 253 delivered to a raw socket, no Parameter Problem.
    let rx6 = h.socket(&p, AF_INET6, SOCK_RAW, 253);
    assert_eq!(h.sendto(&p, rx6, b"six!", &sin6(Ipv6Addr::LOCALHOST, 0)), 4);
    let (n, d, _) = h.recvfrom(&p, rx6, 1500, 0);
    assert_eq!((n, d.as_slice()), (4, &b"six!"[..]));
    assert_eq!(h.snmp6("Icmp6OutParmProblems"), 0);
    assert_eq!(h.snmp6("Ip6InUnknownProtos"), 0);
    // A raw socket is unhashed for good by connect(AF_UNSPEC) (udp_disconnect).
    let mut unspec = sin6(Ipv6Addr::UNSPECIFIED, 0);
    unspec[0] = 0;
    h.put(p.pid, p.addr(), &unspec);
    assert_eq!(h.call(p.pid, Sysno::Connect, [rx6 as u64, p.addr(), 28, 0, 0, 0]), 0);
    let tx6 = h.socket(&p, AF_INET6, SOCK_RAW, 253);
    assert_eq!(h.sendto(&p, tx6, b"gone", &sin6(Ipv6Addr::LOCALHOST, 0)), 4);
    assert_eq!(h.recvfrom(&p, rx6, 1500, 0).0, EAGAIN);
}

#[test]
fn sendmsg_and_recvmsg_with_peek_trunc_and_the_name() {
    let mut h = H::up();
    let p = h.proc(0);
    let rx = h.socket(&p, AF_INET6, SOCK_DGRAM, 0);
    let tx = h.socket(&p, AF_INET6, SOCK_DGRAM, 0);
    assert_eq!(h.bind(&p, rx, &sin6(Ipv6Addr::LOCALHOST, 7000)), 0);
    assert_eq!(h.bind(&p, tx, &sin6(Ipv6Addr::LOCALHOST, 7001)), 0);
    // Two iovecs gathered into one datagram.
    h.put(p.pid, p.buf(), b"hello, ");
    h.put(p.pid, p.buf() + 100, b"world");
    let dst = sin6(Ipv6Addr::LOCALHOST, 7000);
    h.msghdr(&p, Some((&dst, 28)), &[(0, 7), (100, 5)]);
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [tx as u64, p.msg(), 0, 0, 0, 0]), 12);
    // MSG_PEEK into 5 + 3 bytes: a short copy, MSG_TRUNC in msg_flags, the name filled.
    h.put(p.pid, p.addr(), &[0xee; 28]);
    h.msghdr(&p, Some((&[0xee; 28], 128)), &[(2000, 5), (3000, 3)]);
    assert_eq!(h.call(p.pid, Sysno::Recvmsg, [rx as u64, p.msg(), MSG_PEEK, 0, 0, 0]), 8);
    let m = h.read_msghdr(&p);
    assert_eq!(m.flags, MSG_TRUNC as u32);
    assert_eq!((m.namelen, m.controllen), (28, 0));
    assert_eq!(h.get(p.pid, p.addr(), 28), sin6(Ipv6Addr::LOCALHOST, 7001));
    assert_eq!(h.get(p.pid, p.buf() + 2000, 5), b"hello");
    assert_eq!(h.get(p.pid, p.buf() + 3000, 3), b", w");
    // InDatagrams counts the first look, the peek.
    assert_eq!(h.snmp6("Udp6InDatagrams"), 1);
    // The peeked datagram is still there; MSG_TRUNC returns its real length.
    h.msghdr(&p, Some((&[0; 28], 10)), &[(4000, 4)]);
    assert_eq!(h.call(p.pid, Sysno::Recvmsg, [rx as u64, p.msg(), MSG_TRUNC, 0, 0, 0]), 12);
    let m = h.read_msghdr(&p);
    assert_eq!((m.flags, m.namelen), (MSG_TRUNC as u32, 28), "10 bytes of the name copied, its length stored");
    assert_eq!(h.get(p.pid, p.addr(), 10), &sin6(Ipv6Addr::LOCALHOST, 7001)[..10]);
    assert_eq!(h.snmp6("Udp6InDatagrams"), 1, "not counted twice");
    // Gone now; a non-blocking recvmsg is EAGAIN and leaves the header as it was.
    h.msghdr(&p, None, &[(0, 64)]);
    assert_eq!(h.call(p.pid, Sysno::Recvmsg, [rx as u64, p.msg(), MSG_DONTWAIT, 0, 0, 0]), EAGAIN);
    // A raw socket's recvmsg: the name is the source with port 0.
    let raw = h.socket(&p, AF_INET, SOCK_RAW, IPPROTO_ICMP);
    let req = echo4(1, 1, b"");
    assert_eq!(h.sendto(&p, raw, &req, &sin(Ipv4Addr::LOCALHOST, 0)), 8);
    h.msghdr(&p, Some((&[0; 16], 16)), &[(0, 10)]);
    assert_eq!(h.call(p.pid, Sysno::Recvmsg, [raw as u64, p.msg(), 0, 0, 0, 0]), 10);
    let m = h.read_msghdr(&p);
    assert_eq!((m.flags, m.namelen), (MSG_TRUNC as u32, 16));
    assert_eq!(h.get(p.pid, p.addr(), 16), sin(Ipv4Addr::LOCALHOST, 0));
}

#[test]
fn sendmsg_errnos_in_4_3_order() {
    let mut h = H::up();
    let p = h.proc(0);
    let fd = h.socket(&p, AF_INET, SOCK_DGRAM, 0);
    let dst = sin(Ipv4Addr::LOCALHOST, 9);
    h.msghdr(&p, Some((&dst, 16)), &[(0, 4)]);
    // MSG_CMSG_COMPAT before the descriptor.
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [999, p.msg(), MSG_CMSG_COMPAT, 0, 0, 0]), EINVAL);
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [999, p.msg(), 0, 0, 0, 0]), -9, "EBADF");
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, 0x10, 0, 0, 0, 0]), EFAULT);
    // A negative name length with a name.
    h.msghdr(&p, Some((&dst, -1)), &[(0, 4)]);
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), EINVAL);
    // More than UIO_MAXIOV iovecs, then a negative iov_len, then a bad iov_base.
    let mut m = UserMsghdr { name: 0, namelen: 0, iov: p.iov(), iovlen: 1025, control: 0, controllen: 0, flags: 0 };
    h.put(p.pid, p.msg(), &m.to_bytes());
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), EMSGSIZE);
    let mut iov = Vec::new();
    iov.extend_from_slice(&p.buf().to_le_bytes());
    iov.extend_from_slice(&(-1i64).to_le_bytes());
    h.put(p.pid, p.iov(), &iov);
    m.iovlen = 1;
    h.put(p.pid, p.msg(), &m.to_bytes());
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), EINVAL);
    iov[0..8].copy_from_slice(&0xffff_8000_0000_0000u64.to_le_bytes());
    iov[8..16].copy_from_slice(&4u64.to_le_bytes());
    h.put(p.pid, p.iov(), &iov);
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), EFAULT);
    // A control length past INT_MAX; then a zeroed control message (cmsg_len 0).
    h.msghdr(&p, Some((&dst, 16)), &[(0, 4)]);
    let mut m = h.read_msghdr(&p);
    m.controllen = 1 << 31;
    h.put(p.pid, p.msg(), &m.to_bytes());
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), ENOBUFS);
    // sock_kmalloc refuses net.core.optmem_max (20480) and more; below that the buffer
    // is copied in (EFAULT from an unmapped one).
    m.controllen = 20480;
    h.put(p.pid, p.msg(), &m.to_bytes());
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), ENOBUFS);
    m.control = 0x10;
    m.controllen = 20479;
    h.put(p.pid, p.msg(), &m.to_bytes());
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), EFAULT);
    m.control = p.buf2();
    m.controllen = 16;
    h.put(p.pid, p.buf2(), &[0; 16]);
    h.put(p.pid, p.msg(), &m.to_bytes());
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), EINVAL);
    // IP_TTL 5 as a control message: accepted.
    let mut c = Vec::new();
    c.extend_from_slice(&20u64.to_ne_bytes());
    c.extend_from_slice(&0i32.to_ne_bytes());
    c.extend_from_slice(&2i32.to_ne_bytes());
    c.extend_from_slice(&5i32.to_ne_bytes());
    c.extend_from_slice(&[0; 4]);
    h.put(p.pid, p.buf2(), &c);
    m.controllen = 24;
    h.put(p.pid, p.msg(), &m.to_bytes());
    assert_eq!(h.call(p.pid, Sysno::Sendmsg, [fd as u64, p.msg(), 0, 0, 0, 0]), 4);
    // recvmsg: MSG_CMSG_COMPAT refused too.
    assert_eq!(h.call(p.pid, Sysno::Recvmsg, [fd as u64, p.msg(), MSG_CMSG_COMPAT, 0, 0, 0]), EINVAL);
}

/// Runs scenario text with `lo` brought up at boot (the scenario language has no admin
/// command for it yet).
fn run_with_lo(src: &str) -> harness::runner::Outcome {
    let scn = harness::scn::parse(src).unwrap_or_else(|d| panic!("{}", d.render("t.scn", src)));
    harness::runner::run_with_boot_hook(&scn, harness::sim::SimFactory { seed: 1, capture: false, dir: None }, true, |k| {
        k.dev_open(1).expect("lo up");
        harness::sim::run_timers_for(k, 3_000_000_000);
    })
}

const SCN_TRAFFIC: &str = r#"
spawn t uid=0 gid=0
t: socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = $rx
t: socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = $tx
t: bind($rx, {sa_family=AF_INET6, sin6_port=htons(7000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
t: bind($tx, {sa_family=AF_INET6, sin6_port=htons(7001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
t: sendmsg($tx, {msg_name={sa_family=AF_INET6, sin6_port=htons(7000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, msg_namelen=28, msg_iov=[{iov_base="hello, ", iov_len=7}, {iov_base="world", iov_len=5}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 12
t: recvmsg($rx, {msg_name={sa_family=AF_INET6, sin6_port=htons(7001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, msg_namelen=128 => 28, msg_iov=[{iov_base="hello", iov_len=5}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, MSG_PEEK) = 5
t: recvfrom($rx, "hello, world", 64, 0, {sa_family=AF_INET6, sin6_port=htons(7001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [128 => 28]) = 12
t: socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) = $r
t: sendto($r, "\10\0\367\377\0\0\0\0", 8, 0, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 8
t: recvfrom($r, ..., 64, 0, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, [16]) = 28
t: recvmsg($r, {msg_name=..., msg_namelen=16, msg_iov=[{iov_base="E"..., iov_len=20}, {iov_base="\0\0\377\377\0\0\0\0", iov_len=8}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 28
t: sendto($r, "\10\0\367\377\0\0\0\0", 8, 0, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 8
t: recvfrom($r, "E\0", 2, MSG_TRUNC, ..., [128 => 16]) = 28
"#;

#[test]
fn scenario_lines_give_and_check_socket_addresses_and_messages() {
    let out = run_with_lo(SCN_TRAFFIC);
    assert_eq!(out.failure, None, "{}", out.trace.lines.join("\n"));
    let trace = out.trace.lines.join("\n");
    for line in [
        r#"recvmsg(0, {msg_name={sa_family=AF_INET6, sin6_port=htons(7001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, msg_namelen=128 => 28, msg_iov=[{iov_base="hello", iov_len=5}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, MSG_PEEK) = 5"#,
        r#"recvfrom(0, "hello, world", 64, 0, {sa_family=AF_INET6, sin6_port=htons(7001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [128 => 28]) = 12"#,
        r#"recvfrom(2, "E\0", 2, MSG_TRUNC, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 28"#,
        r#"sendmsg(1, {msg_name={sa_family=AF_INET6, sin6_port=htons(7000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, msg_namelen=28, msg_iov=[{iov_base="hello, ", iov_len=7}, {iov_base="world", iov_len=5}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 12"#,
    ] {
        assert!(trace.contains(line), "missing {line}\n{trace}");
    }
    // A wrong expectation fails with the tracer's rendering.
    let bad = SCN_TRAFFIC.replace("[128 => 28]) = 12", "[128 => 16]) = 12");
    let f = run_with_lo(&bad).failure.expect("a wrong length fails");
    assert!(f.contains("addrlen is [28], expected 16"), "{f}");
    let bad = SCN_TRAFFIC.replace("htons(7001), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, [128", "htons(7002), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, [128");
    let f = run_with_lo(&bad).failure.expect("a wrong address fails");
    assert!(f.contains("src_addr is {sa_family=AF_INET6, sin6_port=htons(7001)"), "{f}");
    let bad = SCN_TRAFFIC.replace("msg_flags=MSG_TRUNC}, MSG_PEEK", "msg_flags=0}, MSG_PEEK");
    let f = run_with_lo(&bad).failure.expect("wrong flags fail");
    assert!(f.contains("msg_flags is MSG_TRUNC, expected 0"), "{f}");
    let bad = SCN_TRAFFIC.replace("[{iov_base=\"hello\", iov_len=5}]", "[{iov_base=\"jello\", iov_len=5}]");
    let f = run_with_lo(&bad).failure.expect("wrong data fails");
    assert!(f.contains("msg_iov[0] holds \"hello\", expected \"jello\""), "{f}");
}

#[test]
fn a_connected_raw_socket_hears_of_protocol_unreachable() {
    let mut h = H::up();
    let p = h.proc(0);
    // Bound to 127.0.0.1 and connected to 127.0.0.2: its own datagram (to .2) is not
    // for it, nobody else takes protocol 253, so the host answers Protocol Unreachable,
    // and raw_icmp_error gives the sender its hard error.
    let fd = h.socket(&p, AF_INET, SOCK_RAW, 253);
    assert_eq!(h.bind(&p, fd, &sin(Ipv4Addr::LOCALHOST, 0)), 0);
    h.put(p.pid, p.addr(), &sin(Ipv4Addr::new(127, 0, 0, 2), 0));
    assert_eq!(h.call(p.pid, Sysno::Connect, [fd as u64, p.addr(), 16, 0, 0, 0]), 0);
    // A quote with fewer than 8 bytes past the header reaches no socket (InErrors).
    h.put(p.pid, p.buf(), b"anyone?");
    assert_eq!(h.call(p.pid, Sysno::Write, [fd as u64, p.buf(), 7, 0, 0, 0]), 7);
    assert_eq!(h.snmp("Icmp", "OutDestUnreachs"), 1);
    assert_eq!(h.snmp("Icmp", "InErrors"), 1);
    assert_eq!(h.recvfrom(&p, fd, 64, 0).0, EAGAIN);
    h.put(p.pid, p.buf(), b"anyone there?");
    assert_eq!(h.call(p.pid, Sysno::Write, [fd as u64, p.buf(), 13, 0, 0, 0]), 13);
    assert_eq!(h.snmp("Icmp", "OutDestUnreachs"), 2);
    assert_eq!(h.snmp("Ip", "InUnknownProtos"), 2);
    // ENOPROTOOPT (icmp_err_convert[ICMP_PROT_UNREACH]), reported once.
    assert_eq!(h.recvfrom(&p, fd, 64, 0).0, -92);
    assert_eq!(h.recvfrom(&p, fd, 64, 0).0, EAGAIN);
}
