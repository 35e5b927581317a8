//! Datagram socket state (`struct sock` + `inet_sock` + `ipv6_pinfo`, with `udp_sock` or
//! `raw_sock` reduced to what k43's UDP and raw sockets use), the one socket table both
//! families and both protocols share (`udp_table` and the raw hash, told apart by
//! [`InetSock::raw`]), the `sockaddr_in`/`sockaddr_in6` layouts, 4.3's lookup scoring
//! (`compute_score` of `net/ipv4/udp.c` and `net/ipv6/udp.c`), bind conflicts
//! (`udp_lib_lport_inuse` with `ipv4_rcv_saddr_equal`/`ipv6_rcv_saddr_equal`) and
//! ephemeral port selection (`udp_lib_get_port`).

#![warn(missing_docs)]

use crate::kernel::sched::WqId;
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

/// Id of a socket (`Node::Socket`).
pub type SockId = u64;

/// `SOCK_NONBLOCK` (= `O_NONBLOCK`).
pub const SOCK_NONBLOCK: i32 = crate::uapi::fcntl::O_NONBLOCK as i32;
/// `SOCK_CLOEXEC` (= `O_CLOEXEC`).
pub const SOCK_CLOEXEC: i32 = crate::uapi::fcntl::O_CLOEXEC as i32;
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
/// `SOL_ICMPV6`.
pub const SOL_ICMPV6: i32 = 58;
/// `SOL_RAW`.
pub const SOL_RAW: i32 = 255;
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
/// `IP_HDRINCL` (`SOL_IP`).
pub const IP_HDRINCL: i32 = 3;
/// `ICMP_FILTER` (`SOL_RAW`, IPv4 ICMP raw sockets).
pub const ICMP_FILTER: i32 = 1;
/// `ICMPV6_FILTER` (`SOL_ICMPV6`, ICMPv6 raw sockets).
pub const ICMPV6_FILTER: i32 = 1;
/// `IPV6_CHECKSUM` (`SOL_IPV6`, or `SOL_RAW` on ICMPv6 sockets).
pub const IPV6_CHECKSUM: i32 = 7;
/// `IPV6_V6ONLY`.
pub const IPV6_V6ONLY: i32 = 26;
/// `IPV6_RECVHOPLIMIT`.
pub const IPV6_RECVHOPLIMIT: i32 = 51;
/// `MSG_CTRUNC`: control data was cut short.
pub const MSG_CTRUNC: u32 = 8;

/// `AF_UNSPEC`.
pub const AF_UNSPEC: u16 = 0;
/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;
/// `NPROTO` (`AF_MAX` in 4.3).
pub const NPROTO: i32 = 41;
/// `SOCK_STREAM`.
pub const SOCK_STREAM: i32 = 1;
/// `SOCK_DGRAM`.
pub const SOCK_DGRAM: i32 = 2;
/// `SOCK_RAW`.
pub const SOCK_RAW: i32 = 3;
/// `SOCK_MAX`: types at or above are `EINVAL`.
pub const SOCK_MAX: i32 = 11;
/// `SOCK_TYPE_MASK`.
pub const SOCK_TYPE_MASK: i32 = 0xf;
/// `IPPROTO_MAX`.
pub const IPPROTO_MAX: i32 = 256;
/// `sizeof(struct sockaddr_in)`.
pub const SOCKADDR_IN_LEN: usize = 16;
/// `sizeof(struct sockaddr_in6)`.
pub const SOCKADDR_IN6_LEN: usize = 28;
/// `SIN6_LEN_RFC2133`: a `sockaddr_in6` without `sin6_scope_id`.
pub const SIN6_LEN_RFC2133: usize = 24;
/// `sizeof(struct sockaddr_storage)`: `move_addr_to_kernel`'s bound.
pub const SOCKADDR_STORAGE_LEN: usize = 128;
/// `IPPROTO_RAW`: a raw socket that always includes the IP header.
pub const IPPROTO_RAW: u8 = 255;
/// `IPPROTO_MH` (Mobility Header): IPv6 raw sockets checksum it at offset 4.
pub const IPPROTO_MH: u8 = 135;
/// `PROT_SOCK`: ports below need `CAP_NET_BIND_SERVICE`.
pub const PROT_SOCK: u16 = 1024;
/// `net.ipv4.ip_local_port_range` default low end.
pub const EPHEMERAL_LOW: u16 = 32768;
/// `net.ipv4.ip_local_port_range` default high end.
pub const EPHEMERAL_HIGH: u16 = 60999;
/// `sysctl_rmem_max` and `sysctl_rmem_default` (212992 on 4.3 x86_64).
pub const RMEM_DEFAULT: u32 = 212_992;
/// `SOCK_MIN_RCVBUF`: `2 * (2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff)))`.
pub const SOCK_MIN_RCVBUF: u32 = 4608;
/// `LOOPBACK4_IPV6`: the IPv4 view of a socket bound to a non-mapped IPv6 address,
/// which matches no IPv4 packet.
pub const LOOPBACK4_IPV6: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 6);
/// Size of the UDP hash table (`udp_table.mask + 1`) on a small machine
/// (`UDP_HTABLE_SIZE_MIN`): the stride of `udp_lib_get_port`'s search.
pub const UDP_HTABLE_SIZE: u32 = 256;

/// The address family of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `PF_INET`.
    V4,
    /// `PF_INET6`.
    V6,
}

/// A socket address as the user passes or receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockAddr {
    /// `struct sockaddr_in`.
    V4 {
        /// `sin_addr`.
        addr: Ipv4Addr,
        /// `sin_port` (host order here).
        port: u16,
    },
    /// `struct sockaddr_in6`.
    V6 {
        /// `sin6_addr`.
        addr: Ipv6Addr,
        /// `sin6_port` (host order here).
        port: u16,
        /// `sin6_flowinfo`.
        flowinfo: u32,
        /// `sin6_scope_id` (0 when the caller passed the RFC 2133 length).
        scope_id: u32,
    },
}

impl SockAddr {
    /// The bytes of the user structure (16 or 28), ports and addresses in network order.
    pub fn to_bytes(&self) -> Vec<u8> {
        match *self {
            SockAddr::V4 { addr, port } => {
                let mut b = alloc::vec![0u8; SOCKADDR_IN_LEN];
                b[0..2].copy_from_slice(&AF_INET.to_ne_bytes());
                b[2..4].copy_from_slice(&port.to_be_bytes());
                b[4..8].copy_from_slice(&addr.octets());
                b
            }
            SockAddr::V6 { addr, port, flowinfo, scope_id } => {
                let mut b = alloc::vec![0u8; SOCKADDR_IN6_LEN];
                b[0..2].copy_from_slice(&AF_INET6.to_ne_bytes());
                b[2..4].copy_from_slice(&port.to_be_bytes());
                b[4..8].copy_from_slice(&flowinfo.to_be_bytes());
                b[8..24].copy_from_slice(&addr.octets());
                b[24..28].copy_from_slice(&scope_id.to_ne_bytes());
                b
            }
        }
    }
}

/// `sa_family` of a user address (0 if shorter than the field).
pub fn sa_family(b: &[u8]) -> u16 {
    match b {
        [a, c, ..] => u16::from_ne_bytes([*a, *c]),
        _ => AF_UNSPEC,
    }
}

/// Reads a `sockaddr_in` (the caller has checked the length is at least 16).
pub fn parse_in(b: &[u8]) -> (Ipv4Addr, u16) {
    let g = |i: usize| b.get(i).copied().unwrap_or(0);
    (Ipv4Addr::new(g(4), g(5), g(6), g(7)), u16::from_be_bytes([g(2), g(3)]))
}

/// Reads a `sockaddr_in6` of `b.len()` bytes (at least `SIN6_LEN_RFC2133`); the scope id
/// only when the full 28 bytes were given.
pub fn parse_in6(b: &[u8]) -> SockAddr {
    let g = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut a = [0u8; 16];
    for (i, x) in a.iter_mut().enumerate() {
        *x = g(8 + i);
    }
    let scope_id = if b.len() >= SOCKADDR_IN6_LEN { u32::from_ne_bytes([g(24), g(25), g(26), g(27)]) } else { 0 };
    SockAddr::V6 { addr: Ipv6Addr::from(a), port: u16::from_be_bytes([g(2), g(3)]), flowinfo: u32::from_be_bytes([g(4), g(5), g(6), g(7)]), scope_id }
}

/// `ipv6_addr_v4mapped`.
pub fn v4mapped(a: &Ipv6Addr) -> Option<Ipv4Addr> {
    a.to_ipv4_mapped()
}

/// `ipv6_addr_set_v4mapped`.
pub fn mapped(a: Ipv4Addr) -> Ipv6Addr {
    a.to_ipv6_mapped()
}

/// `__ipv6_addr_needs_scope_id`: link-local unicast, or multicast of interface- or
/// link-local scope.
pub fn needs_scope_id(a: &Ipv6Addr) -> bool {
    let o = a.octets();
    if a.is_multicast() {
        matches!(o[1] & 0x0f, 1 | 2)
    } else {
        o[0] == 0xfe && o[1] & 0xc0 == 0x80
    }
}

/// One queued datagram (`sk_receive_queue` entry).
#[derive(Clone, Debug)]
pub struct Dgram {
    /// Where it came from, as `recvfrom` reports it to this socket's family.
    pub from: SockAddr,
    /// What `recvmsg` copies: the UDP payload; for a raw IPv4 socket the whole datagram
    /// from its IP header, for a raw IPv6 socket the packet from its transport header.
    pub data: Vec<u8>,
    /// `skb->truesize` charged to `sk_rmem_alloc`.
    pub truesize: usize,
    /// Arrived over IPv4 (`InDatagrams` is counted by the datagram's family).
    pub v4: bool,
    /// `skb->peeked`: an earlier `MSG_PEEK` saw it, so its first look was counted
    /// already (`__skb_recv_datagram` reports the flag as it was before the look).
    pub peeked: bool,
    /// The IPv6 header's hop limit (`IPV6_HOPLIMIT` control message); 0 over IPv4.
    pub hop_limit: u8,
}

/// `struct icmp_filter` / `struct icmp6_filter` and the rest of `raw_sock`/`raw6_sock`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawSock {
    /// `inet_num` as the raw hash keys it: the protocol the socket was created for,
    /// kept when `udp_disconnect` unhashes it.
    pub protocol: u8,
    /// `inet->hdrincl` (`IP_HDRINCL`, or created with `IPPROTO_RAW`).
    pub hdrincl: bool,
    /// `raw_sk(sk)->filter.data` (IPv4 ICMP): bit `t` set blocks type `t` < 32.
    pub icmp_filter: u32,
    /// `raw6_sk(sk)->filter.data` (ICMPv6): bit `t` set blocks type `t`; all clear
    /// (the zeroed socket) passes everything.
    pub icmp6_filter: [u32; 8],
    /// `rp->checksum` and `rp->offset` (IPv6 `IPV6_CHECKSUM`): where the kernel puts
    /// the checksum it computes on send and verifies on receive, `None` for off.
    pub checksum: Option<u32>,
}

/// A datagram socket: UDP, or raw when [`raw`](Self::raw) is set.
#[derive(Clone, Debug)]
pub struct InetSock {
    /// `sk_family`.
    pub family: Family,
    /// `inet_num`: the bound local port, 0 while unbound (unhashed).
    pub num: u16,
    /// `inet_rcv_saddr`: the bound IPv4 address (or the IPv4 view of an IPv6 socket).
    pub rcv_saddr4: Ipv4Addr,
    /// `inet_saddr`: the IPv4 source used for sending.
    pub saddr4: Ipv4Addr,
    /// `inet_daddr`.
    pub daddr4: Ipv4Addr,
    /// `sk_v6_rcv_saddr`.
    pub rcv_saddr6: Ipv6Addr,
    /// `np->saddr`.
    pub saddr6: Ipv6Addr,
    /// `sk_v6_daddr`.
    pub daddr6: Ipv6Addr,
    /// `inet_dport`.
    pub dport: u16,
    /// `sk_state == TCP_ESTABLISHED`.
    pub connected: bool,
    /// `sk_bound_dev_if`.
    pub bound_dev_if: u32,
    /// `sk_reuse` (`SO_REUSEADDR`).
    pub reuse: bool,
    /// `SOCK_BROADCAST` (`SO_BROADCAST`).
    pub broadcast: bool,
    /// `sk_ipv6only` (`IPV6_V6ONLY`).
    pub ipv6only: bool,
    /// `np->rxopt.bits.rxhlim` (`IPV6_RECVHOPLIMIT`): `recvmsg` adds an
    /// `IPV6_HOPLIMIT` control message to IPv6 datagrams.
    pub recv_hoplimit: bool,
    /// `SOCK_BINDADDR_LOCK`: bind named an address.
    pub bindaddr_lock: bool,
    /// `SOCK_BINDPORT_LOCK`: bind named a port.
    pub bindport_lock: bool,
    /// `sk_rcvbuf`.
    pub rcvbuf: u32,
    /// `sk_rmem_alloc`.
    pub rmem_alloc: usize,
    /// `sk_receive_queue`.
    pub rcvq: VecDeque<Dgram>,
    /// `sk_err`: reported once by the next call.
    pub err: Option<Errno>,
    /// `sk_drops`.
    pub drops: u64,
    /// Readers sleep here (`sk_wq`).
    pub wq: WqId,
    /// Order of hashing: the newest socket is first in its chain, and wins ties.
    pub hash_seq: u64,
    /// The raw part of a `SOCK_RAW` socket; `num` is then `inet_sport` (the protocol
    /// while hashed, 0 after `udp_disconnect` unhashed it).
    pub raw: Option<RawSock>,
}

impl InetSock {
    /// A fresh socket (`sk_alloc` + `sock_init_data` + `inet_create`/`inet6_create`).
    pub fn new(family: Family, wq: WqId) -> InetSock {
        InetSock {
            family,
            num: 0,
            rcv_saddr4: Ipv4Addr::UNSPECIFIED,
            saddr4: Ipv4Addr::UNSPECIFIED,
            daddr4: Ipv4Addr::UNSPECIFIED,
            rcv_saddr6: Ipv6Addr::UNSPECIFIED,
            saddr6: Ipv6Addr::UNSPECIFIED,
            daddr6: Ipv6Addr::UNSPECIFIED,
            dport: 0,
            connected: false,
            bound_dev_if: 0,
            reuse: false,
            broadcast: false,
            ipv6only: false,
            recv_hoplimit: false,
            bindaddr_lock: false,
            bindport_lock: false,
            rcvbuf: RMEM_DEFAULT,
            rmem_alloc: 0,
            rcvq: VecDeque::new(),
            err: None,
            drops: 0,
            wq,
            hash_seq: 0,
            raw: None,
        }
    }

    /// A raw socket for `protocol` (`inet_create`/`inet6_create` with `SOCK_RAW`, then
    /// `raw_init`/`rawv6_init_sk`): hashed at once under its protocol; ICMPv6 (and
    /// Mobility Header) sockets checksum at their protocol's offset.
    pub fn new_raw(family: Family, wq: WqId, protocol: u8) -> InetSock {
        let mut sk = InetSock::new(family, wq);
        let checksum = match (family, protocol) {
            (Family::V6, crate::net::wire::ip_proto::ICMPV6) => Some(2),
            (Family::V6, IPPROTO_MH) => Some(4),
            _ => None,
        };
        sk.num = u16::from(protocol);
        sk.raw = Some(RawSock { protocol, hdrincl: protocol == IPPROTO_RAW, checksum, ..RawSock::default() });
        sk
    }

    /// A UDP socket (takes part in `udp_table`'s lookups and port conflicts).
    pub fn is_udp(&self) -> bool {
        self.raw.is_none()
    }

    /// `ipv6_only_sock`.
    pub fn v6only(&self) -> bool {
        self.family == Family::V6 && self.ipv6only
    }

    /// `inet_reset_saddr`.
    pub fn reset_saddr(&mut self) {
        self.rcv_saddr4 = Ipv4Addr::UNSPECIFIED;
        self.saddr4 = Ipv4Addr::UNSPECIFIED;
        if self.family == Family::V6 {
            self.rcv_saddr6 = Ipv6Addr::UNSPECIFIED;
            self.saddr6 = Ipv6Addr::UNSPECIFIED;
        }
    }

    /// `inet6_rcv_saddr`: `None` for an IPv4 socket.
    fn rcv6(&self) -> Option<Ipv6Addr> {
        (self.family == Family::V6).then_some(self.rcv_saddr6)
    }
}

/// `ipv4_rcv_saddr_equal(sk, sk2)` (4.3).
fn ipv4_rcv_saddr_equal(sk: &InetSock, sk2: &InetSock) -> bool {
    !sk2.v6only() && (sk.rcv_saddr4.is_unspecified() || sk2.rcv_saddr4.is_unspecified() || sk.rcv_saddr4 == sk2.rcv_saddr4)
}

/// The address class `ipv6_rcv_saddr_equal` tells apart.
#[derive(PartialEq, Eq)]
enum AddrClass {
    Any,
    Mapped,
    Other,
}

fn class6(a: Option<Ipv6Addr>) -> AddrClass {
    match a {
        None => AddrClass::Mapped,
        Some(a) if a.is_unspecified() => AddrClass::Any,
        Some(a) if v4mapped(&a).is_some() => AddrClass::Mapped,
        Some(_) => AddrClass::Other,
    }
}

/// `ipv6_rcv_saddr_equal(sk, sk2)` (4.3, `net/ipv6/inet6_connection_sock.c`'s sibling in
/// `udp.c`).
fn ipv6_rcv_saddr_equal(sk: &InetSock, sk2: &InetSock) -> bool {
    let t1 = class6(sk.rcv6());
    let t2 = class6(sk2.rcv6());
    let sk2_v6only = sk2.v6only();
    if t1 == AddrClass::Mapped && t2 == AddrClass::Mapped {
        return !sk2_v6only && (sk.rcv_saddr4.is_unspecified() || sk2.rcv_saddr4.is_unspecified() || sk.rcv_saddr4 == sk2.rcv_saddr4);
    }
    if t2 == AddrClass::Any && !(sk2_v6only && t1 == AddrClass::Mapped) {
        return true;
    }
    if t1 == AddrClass::Any && !(sk.v6only() && t2 == AddrClass::Mapped) {
        return true;
    }
    sk2.rcv6().is_some_and(|a| a == sk.rcv_saddr6)
}

/// Where a received datagram is going: the fields `compute_score` compares.
#[derive(Clone, Copy, Debug)]
pub struct Lookup<A> {
    /// Source address of the datagram.
    pub saddr: A,
    /// Source port.
    pub sport: u16,
    /// Destination address.
    pub daddr: A,
    /// Destination port.
    pub dport: u16,
    /// Arrival interface.
    pub dif: u32,
}

/// The socket table (`udp_table`), shared by both families as Linux shares it.
#[derive(Clone, Debug, Default)]
pub struct SockTable {
    /// Every socket, hashed or not.
    pub socks: BTreeMap<SockId, InetSock>,
    /// The next `hash_seq`.
    pub seq: u64,
}

impl SockTable {
    /// `udp_lib_lport_inuse` for one port: whether a hashed socket other than `id`
    /// conflicts with `id`'s (proposed) binding on `port`.
    pub fn port_in_use(&self, id: SockId, port: u16) -> bool {
        let Some(sk) = self.socks.get(&id) else { return true };
        self.socks.iter().any(|(&i, sk2)| {
            i != id
                && sk2.is_udp()
                && sk2.num == port
                && (!sk2.reuse || !sk.reuse)
                && (sk2.bound_dev_if == 0 || sk.bound_dev_if == 0 || sk2.bound_dev_if == sk.bound_dev_if)
                && match sk.family {
                    Family::V4 => ipv4_rcv_saddr_equal(sk, sk2),
                    Family::V6 => ipv6_rcv_saddr_equal(sk, sk2),
                }
        })
    }

    /// `udp_lib_get_port`: binds `id` to `snum`, or with `snum` 0 to an ephemeral port
    /// found as 4.3 searches (a random start in the range, then strides of an odd
    /// multiple of the hash size through each chain). `false` means in use / none free.
    pub fn get_port(&mut self, id: SockId, snum: u16, rand: u32) -> bool {
        let port = if snum != 0 {
            if self.port_in_use(id, snum) {
                return false;
            }
            snum
        } else {
            let (low, high) = (u32::from(EPHEMERAL_LOW), u32::from(EPHEMERAL_HIGH));
            let remaining = high - low + 1;
            // reciprocal_scale(rand, remaining) + low
            let mut first = ((u64::from(rand) * u64::from(remaining)) >> 32) as u16 as u32 + low;
            let stride = (rand | 1).wrapping_mul(UDP_HTABLE_SIZE) as u16;
            let last = first + UDP_HTABLE_SIZE;
            let mut found = None;
            'outer: while first != last {
                let f = first as u16;
                let mut s = f;
                loop {
                    if (low..=high).contains(&u32::from(s)) && !self.port_in_use(id, s) {
                        found = Some(s);
                        break 'outer;
                    }
                    s = s.wrapping_add(stride);
                    if s == f {
                        break;
                    }
                }
                first += 1;
            }
            match found {
                Some(p) => p,
                None => return false,
            }
        };
        self.seq += 1;
        let seq = self.seq;
        if let Some(sk) = self.socks.get_mut(&id) {
            sk.num = port;
            sk.hash_seq = seq;
        }
        true
    }

    /// `__udp4_lib_lookup`: the best-scoring socket for an IPv4 datagram (IPv6 sockets
    /// that are not v6-only take part with a lower base score); ties go to the newest.
    pub fn lookup4(&self, l: &Lookup<Ipv4Addr>) -> Option<SockId> {
        let mut best: Option<(i32, u64, SockId)> = None;
        for (&id, sk) in &self.socks {
            if sk.num != l.dport || sk.num == 0 || sk.v6only() || !sk.is_udp() {
                continue;
            }
            let mut score = if sk.family == Family::V4 { 2 } else { 1 };
            if !sk.rcv_saddr4.is_unspecified() {
                if sk.rcv_saddr4 != l.daddr {
                    continue;
                }
                score += 4;
            }
            let daddr4 = if sk.family == Family::V4 { sk.daddr4 } else { v4mapped(&sk.daddr6).unwrap_or(sk.daddr4) };
            if !daddr4.is_unspecified() {
                if daddr4 != l.saddr {
                    continue;
                }
                score += 4;
            }
            if sk.dport != 0 {
                if sk.dport != l.sport {
                    continue;
                }
                score += 4;
            }
            if sk.bound_dev_if != 0 {
                if sk.bound_dev_if != l.dif {
                    continue;
                }
                score += 4;
            }
            if best.is_none_or(|(s, q, _)| score > s || (score == s && sk.hash_seq > q)) {
                best = Some((score, sk.hash_seq, id));
            }
        }
        best.map(|b| b.2)
    }

    /// `__udp6_lib_lookup`: the best-scoring IPv6 socket for an IPv6 datagram.
    pub fn lookup6(&self, l: &Lookup<Ipv6Addr>) -> Option<SockId> {
        let mut best: Option<(i32, u64, SockId)> = None;
        for (&id, sk) in &self.socks {
            if sk.num != l.dport || sk.num == 0 || sk.family != Family::V6 || !sk.is_udp() {
                continue;
            }
            let mut score = 0;
            if sk.dport != 0 {
                if sk.dport != l.sport {
                    continue;
                }
                score += 1;
            }
            if !sk.rcv_saddr6.is_unspecified() {
                if sk.rcv_saddr6 != l.daddr {
                    continue;
                }
                score += 1;
            }
            if !sk.daddr6.is_unspecified() {
                if sk.daddr6 != l.saddr {
                    continue;
                }
                score += 1;
            }
            if sk.bound_dev_if != 0 {
                if sk.bound_dev_if != l.dif {
                    continue;
                }
                score += 1;
            }
            if best.is_none_or(|(s, q, _)| score > s || (score == s && sk.hash_seq > q)) {
                best = Some((score, sk.hash_seq, id));
            }
        }
        best.map(|b| b.2)
    }

    /// `__udp_is_mcast_sock` over the table: every socket a broadcast or multicast IPv4
    /// datagram goes to (no group filters: `mc_all` is on by default).
    pub fn mcast4(&self, l: &Lookup<Ipv4Addr>) -> Vec<SockId> {
        self.socks
            .iter()
            .filter(|(_, sk)| {
                sk.num != 0
                    && sk.is_udp()
                    && sk.num == l.dport
                    && !sk.v6only()
                    && (sk.daddr4.is_unspecified() || sk.daddr4 == l.saddr)
                    && (sk.dport == 0 || sk.dport == l.sport)
                    && (sk.rcv_saddr4.is_unspecified() || sk.rcv_saddr4 == l.daddr)
                    && (sk.bound_dev_if == 0 || sk.bound_dev_if == l.dif)
            })
            .map(|(&id, _)| id)
            .collect()
    }

    /// `__udp_v6_is_mcast_sock` over the table (`inet6_mc_check` passes without a
    /// membership list).
    pub fn mcast6(&self, l: &Lookup<Ipv6Addr>) -> Vec<SockId> {
        self.socks
            .iter()
            .filter(|(_, sk)| {
                sk.num != 0
                    && sk.is_udp()
                    && sk.num == l.dport
                    && sk.family == Family::V6
                    && (sk.dport == 0 || sk.dport == l.sport)
                    && (sk.daddr6.is_unspecified() || sk.daddr6 == l.saddr)
                    && (sk.bound_dev_if == 0 || sk.bound_dev_if == l.dif)
                    && (sk.rcv_saddr6.is_unspecified() || sk.rcv_saddr6 == l.daddr)
            })
            .map(|(&id, _)| id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tbl(n: usize) -> SockTable {
        let mut t = SockTable::default();
        for i in 0..n {
            t.socks.insert(i as u64 + 1, InetSock::new(Family::V4, 1));
        }
        t
    }

    #[test]
    fn sockaddr_layouts_are_byte_exact() {
        let b = SockAddr::V4 { addr: Ipv4Addr::new(127, 0, 0, 1), port: 0x1234 }.to_bytes();
        assert_eq!(b, [2, 0, 0x12, 0x34, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = SockAddr::V6 { addr: Ipv6Addr::LOCALHOST, port: 7, flowinfo: 0, scope_id: 3 }.to_bytes();
        assert_eq!(b.len(), 28);
        assert_eq!(&b[..4], &[10, 0, 0, 7]);
        assert_eq!(b[23], 1);
        assert_eq!(&b[24..], &[3, 0, 0, 0]);
        assert_eq!(parse_in6(&b), SockAddr::V6 { addr: Ipv6Addr::LOCALHOST, port: 7, flowinfo: 0, scope_id: 3 });
    }

    #[test]
    fn ephemeral_ports_are_in_range_and_distinct() {
        let mut t = tbl(50);
        let mut seen = alloc::collections::BTreeSet::new();
        for i in 1..=50u64 {
            assert!(t.get_port(i, 0, 0x9e37_79b9u32.wrapping_mul(i as u32)));
            let p = t.socks[&i].num;
            assert!((EPHEMERAL_LOW..=EPHEMERAL_HIGH).contains(&p));
            assert!(seen.insert(p));
        }
    }

    #[test]
    fn conflicts_and_reuse() {
        let mut t = tbl(2);
        assert!(t.get_port(1, 5000, 0));
        assert!(!t.get_port(2, 5000, 0));
        t.socks.get_mut(&1).unwrap().reuse = true;
        t.socks.get_mut(&2).unwrap().reuse = true;
        assert!(t.get_port(2, 5000, 0));
        // The newest wins a tie.
        let l = Lookup { saddr: Ipv4Addr::LOCALHOST, sport: 1, daddr: Ipv4Addr::LOCALHOST, dport: 5000, dif: 1 };
        assert_eq!(t.lookup4(&l), Some(2));
    }
}
