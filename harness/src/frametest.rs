//! The frame test: one host whose eth0 is configured the same way in the simulator and on
//! the bare-metal x86 image, fed the same Ethernet frames at the same virtual times.
//! Whatever it transmits must be byte-for-byte the same on both. On the image the frames
//! come from a host-side program through QEMU's virtio-net (`cargo harness qemu x86`), in
//! the simulator through hal-sim's NIC; [`FrameTest`] is the one copy of the setup and of
//! the per-frame work that both run.
//!
//! The host: `lo` and eth0 up, 2001:db8::1/64 (`nodad`) and 192.0.2.1/24 on eth0, and a
//! root process with a dual-stack UDP socket on `[::]:7` that sends every datagram back
//! where it came from (inetd's echo service). Frame `i` arrives at
//! [`FIRST_FRAME_NS`] + i·[`FRAME_GAP_NS`] of virtual time, after the timers due by then;
//! the echo drains its socket after each frame; at the end timers run [`TAIL_NS`] past the
//! last frame (neighbour entries going DELAY → PROBE → FAILED, with their probes).
//!
//! [`frames`] is what the peer sends; [`check_replies`] holds the host's answers against
//! what Linux 4.3 sends, so the test asserts more than "both sides agree".

use crate::frames::{eth_ipv6, icmpv6};
use crate::world::Platform;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use kernel::net::core::addrconf::{solicited_node, IFA_F_NODAD};
use kernel::net::wire::ethernet::{self, EtherType};
use kernel::net::wire::{arp, checksum, icmpv4, ip_proto, ipv4, ipv6, ndisc, udp, EthernetAddress, Ipv4Addr, Ipv6Addr};
use kernel::security::cred::Cred;
use kernel::syscalls::Sysno;
use kernel::{KEvent, Kernel, KernelConfig, Pid};

/// The host's MAC (QEMU: `-device virtio-net-pci,mac=52:54:00:12:34:56`).
pub const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
/// The peer's MAC: the host-side program's frames come from it.
pub const PEER_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x00, 0x00, 0x02];
/// A second peer, which the host has to resolve before it can answer.
pub const PEER3_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x00, 0x00, 0x03];
/// The host's global IPv6 address.
pub const GUEST_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The peer's IPv6 address.
pub const PEER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
/// The second peer's IPv6 address.
pub const PEER3_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 3);
/// The peer's link-local address.
pub const PEER_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
/// The host's IPv4 address.
pub const GUEST_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The peer's IPv4 address.
pub const PEER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// The echo service's UDP port.
pub const ECHO_PORT: u16 = 7;
/// A port nobody listens on.
pub const CLOSED_PORT: u16 = 9;
/// RAM of the host, on both platforms.
pub const RAM_BYTES: u64 = 32 << 20;
/// Virtual time of the first frame: after the link-local address's DAD (at most 1 s of
/// random delay plus one 1 s retransmission) has finished.
pub const FIRST_FRAME_NS: u64 = 3_000_000_000;
/// Virtual time between two frames.
pub const FRAME_GAP_NS: u64 = 10_000_000;
/// How long timers run after the last frame: the peers' neighbour entries reach PROBE
/// (5 s in DELAY) and FAILED (three probes 1 s apart).
pub const TAIL_NS: u64 = 10_000_000_000;
/// Timer expiries and echoed datagrams handled per step at most (a bound, never reached).
const LOOP_BOUND: usize = 10_000;
/// EtherType of the test's control frames (IEEE 802 local experimental 1). The kernel
/// never sees them: the image's frame loop takes them off the wire first.
pub const MARKER_ETHERTYPE: u16 = 0x88b5;
/// Payload of the frame the image sends once its NIC is up and receiving: the host-side
/// program sends nothing before.
pub const READY_PAYLOAD: &[u8] = b"k43 frame test: ready";
/// Payload of the frame the host-side program sends after the last test frame.
pub const END_PAYLOAD: &[u8] = b"k43 frame test: end of frames";
/// Payload of the frame the image sends after its last reply.
pub const DONE_PAYLOAD: &[u8] = b"k43 frame test: done";

const AF_INET6: u64 = 10;
const SOCK_DGRAM: u64 = 2;
const MSG_DONTWAIT: u64 = 0x40;
const EAGAIN: i64 = -11;
const PAGE: u64 = 4096;

/// A control frame: broadcast from `src` with [`MARKER_ETHERTYPE`] and `payload`, padded
/// to Ethernet's 60-byte minimum.
pub fn marker(src: [u8; 6], payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; (ethernet::HEADER_LEN + payload.len()).max(60)];
    ethernet::Repr { src: EthernetAddress(src), dst: EthernetAddress::BROADCAST, ethertype: EtherType(MARKER_ETHERTYPE) }
        .emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    f[ethernet::HEADER_LEN..ethernet::HEADER_LEN + payload.len()].copy_from_slice(payload);
    f
}

/// Whether `frame` is a control frame carrying `payload`.
pub fn is_marker(frame: &[u8], payload: &[u8]) -> bool {
    frame.len() >= ethernet::HEADER_LEN + payload.len()
        && frame[12..14] == MARKER_ETHERTYPE.to_be_bytes()
        && &frame[ethernet::HEADER_LEN..ethernet::HEADER_LEN + payload.len()] == payload
}

/// The host under test and its echo process.
pub struct FrameTest<P: Platform> {
    /// Its kernel.
    pub kernel: Kernel<P>,
    pid: Pid,
    page: u64,
    fd: u64,
    /// Frames received so far.
    pub received: usize,
    /// Datagrams the echo sent back.
    pub echoed: usize,
}

impl<P: Platform> FrameTest<P> {
    /// Boots a kernel on `hal` (whose NIC 0 has [`GUEST_MAC`]) at virtual time 0 and
    /// configures it; the link-local address's DAD is left to the timers.
    pub fn boot(hal: P) -> Result<FrameTest<P>, String> {
        if hal.nic_mac(0) != Some(GUEST_MAC) {
            return Err(format!("NIC 0 has MAC {:02x?}, the test needs {GUEST_MAC:02x?}", hal.nic_mac(0)));
        }
        let mut k = Kernel::new(hal, KernelConfig::default());
        let e = |what: &str, err: kernel::Errno| format!("{what}: {err:?}");
        k.dev_open(1).map_err(|x| e("ip link set lo up", x))?;
        k.dev_open(2).map_err(|x| e("ip link set eth0 up", x))?;
        k.inet6_addr_add(2, GUEST_V6, 64, IFA_F_NODAD).map_err(|x| e("ip -6 addr add 2001:db8::1/64 dev eth0 nodad", x))?;
        k.inet_addr_add(2, GUEST_V4, 24).map_err(|x| e("ip addr add 192.0.2.1/24 dev eth0", x))?;
        let pid = k.create_process(Cred::new(0, 0), "echo", 0).map_err(|x| e("the echo process", x))?;
        let mut t = FrameTest { kernel: k, pid, page: 0, fd: 0, received: 0, echoed: 0 };
        t.page = t.syscall(Sysno::Mmap, [0, PAGE, 3, 0x22, u64::MAX, 0])? as u64;
        t.fd = t.syscall(Sysno::Socket, [AF_INET6, SOCK_DGRAM, 0, 0, 0, 0])? as u64;
        let mut sa = [0u8; 28];
        sa[0..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
        sa[2..4].copy_from_slice(&ECHO_PORT.to_be_bytes());
        t.put(t.addr(), &sa)?;
        t.syscall(Sysno::Bind, [t.fd, t.addr(), 28, 0, 0, 0])?;
        Ok(t)
    }

    fn addr(&self) -> u64 {
        self.page + 2048
    }

    fn len(&self) -> u64 {
        self.page + 2304
    }

    fn put(&mut self, addr: u64, bytes: &[u8]) -> Result<(), String> {
        let mut b = bytes.to_vec();
        self.kernel.user_mode_access(self.pid, addr, &mut b, true).map_err(|e| format!("store at {addr:#x}: {e:?}"))
    }

    fn get(&mut self, addr: u64, n: usize) -> Result<Vec<u8>, String> {
        let mut b = vec![0u8; n];
        self.kernel.user_mode_access(self.pid, addr, &mut b, false).map_err(|e| format!("load at {addr:#x}: {e:?}"))?;
        Ok(b)
    }

    /// Runs one syscall of the echo process to completion: its return value, or an error
    /// if it failed (other than `EAGAIN`, which is returned) or did not return.
    fn syscall(&mut self, s: Sysno, args: [u64; 6]) -> Result<i64, String> {
        let nr = s.desc().nr(self.kernel.arch).ok_or_else(|| format!("{s:?} has no number"))? as u64;
        self.kernel.submit(self.pid, nr, args).map_err(|e| format!("{s:?}: submit: {e:?}"))?;
        for _ in 0..LOOP_BOUND {
            if !self.kernel.step() {
                break;
            }
        }
        let pid = self.pid;
        let ret = self.kernel.take_events().find_map(|ev| match ev {
            KEvent::SyscallReturn { pid: p, ret, .. } if p == pid => Some(ret),
            _ => None,
        });
        match ret {
            Some(r) if r >= 0 || r == EAGAIN => Ok(r),
            Some(r) => Err(format!("{s:?} failed: {r}")),
            None => Err(format!("{s:?} did not return")),
        }
    }

    /// Runs the timers due up to `t`, in deadline order, and sets the clock to `t`.
    fn run_until(&mut self, t: u64) -> Result<(), String> {
        for _ in 0..LOOP_BOUND {
            match self.kernel.next_timer() {
                Some(d) if d <= t => {
                    self.kernel.hal.idle_until(d);
                    self.kernel.run_timers();
                }
                _ => {
                    self.kernel.hal.idle_until(t);
                    return Ok(());
                }
            }
        }
        Err(format!("timers still due after {LOOP_BOUND} expiries before {t} ns"))
    }

    /// Frame number `self.received` arrives on eth0: timers up to its time, the frame,
    /// then the echo drains its socket.
    pub fn receive(&mut self, frame: &[u8]) -> Result<(), String> {
        let at = FIRST_FRAME_NS + self.received as u64 * FRAME_GAP_NS;
        self.run_until(at)?;
        self.received += 1;
        self.kernel.netif_receive(0, frame);
        for _ in 0..LOOP_BOUND {
            self.put(self.len(), &28i32.to_ne_bytes())?;
            let (buf, addr, len) = (self.page, self.addr(), self.len());
            let n = self.syscall(Sysno::Recvfrom, [self.fd, buf, 2048, MSG_DONTWAIT, addr, len])?;
            if n == EAGAIN {
                return Ok(());
            }
            let alen = i32::from_ne_bytes(self.get(len, 4)?.try_into().unwrap_or([0; 4]));
            self.syscall(Sysno::Sendto, [self.fd, buf, n as u64, 0, addr, alen as u64])?;
            self.echoed += 1;
        }
        Err(String::from("the echo socket never ran dry"))
    }

    /// After the last frame: timers run [`TAIL_NS`] on.
    pub fn finish(&mut self) -> Result<(), String> {
        let last = FIRST_FRAME_NS + self.received.saturating_sub(1) as u64 * FRAME_GAP_NS;
        self.run_until(last + TAIL_NS)
    }
}

fn mac(m: [u8; 6]) -> EthernetAddress {
    EthernetAddress(m)
}

fn guest_ll() -> Ipv6Addr {
    ipv6::link_local_from_mac(&mac(GUEST_MAC))
}

fn ndisc_msg(src: Ipv6Addr, dst: Ipv6Addr, r: ndisc::Repr<'_>) -> Vec<u8> {
    icmpv6(src, dst, &kernel::net::wire::icmpv6::Repr::Ndisc(r))
}

fn udp6(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = vec![0u8; udp::HEADER_LEN + data.len()];
    u[udp::HEADER_LEN..].copy_from_slice(data);
    udp::Repr { src_port: sport, dst_port: dport, payload_len: data.len() }
        .emit(&mut udp::Packet::new_unchecked(&mut u[..]), &udp::IpAddrs::V6 { src, dst });
    eth_ipv6(mac(PEER_MAC), mac(GUEST_MAC), src, dst, ip_proto::UDP, 64, 0, &u)
}

fn eth_ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, ident: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; ethernet::HEADER_LEN + 20 + payload.len()];
    ethernet::Repr { src: mac(PEER_MAC), dst: mac(GUEST_MAC), ethertype: EtherType::IPV4 }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    let r = ipv4::Repr { src, dst, protocol: proto, payload_len: payload.len(), ttl: 64, tos: 0, ident, dont_frag: true, more_frags: false, frag_offset: 0 };
    r.emit(&mut ipv4::Packet::new_unchecked(&mut f[ethernet::HEADER_LEN..]));
    f[ethernet::HEADER_LEN + 20..].copy_from_slice(payload);
    ipv4::Packet::new_unchecked(&mut f[ethernet::HEADER_LEN..]).fill_checksum();
    f
}

fn icmp4_echo(ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let r = icmpv4::Repr::EchoRequest { code: 0, ident, seq, data };
    let mut m = vec![0u8; r.buffer_len()];
    r.emit(&mut icmpv4::Packet::new_unchecked(&mut m[..]));
    m
}

fn udp4(sport: u16, dport: u16, ident: u16, data: &[u8]) -> Vec<u8> {
    let mut u = vec![0u8; udp::HEADER_LEN + data.len()];
    u[udp::HEADER_LEN..].copy_from_slice(data);
    udp::Repr { src_port: sport, dst_port: dport, payload_len: data.len() }
        .emit(&mut udp::Packet::new_unchecked(&mut u[..]), &udp::IpAddrs::V4 { src: PEER_V4, dst: GUEST_V4 });
    eth_ipv4(PEER_V4, GUEST_V4, ip_proto::UDP, ident, &u)
}

/// The payload of the ICMPv6 echo requests: 56 bytes, as ping6 sends.
fn ping_data(seed: u8) -> Vec<u8> {
    (0..56u8).map(|i| i.wrapping_mul(7).wrapping_add(seed)).collect()
}

/// What the peer sends, in order, each with a name for the report. The host answers the
/// first twelve (see [`check_replies`]); the last five must be dropped silently.
pub fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let v6_echo = |src: Ipv6Addr, dst: Ipv6Addr, smac: [u8; 6], seq: u16| {
        let r = kernel::net::wire::icmpv6::Repr::EchoRequest { code: 0, ident: 0x4b43, seq, data: &ping_data(seq as u8) };
        eth_ipv6(mac(smac), mac(GUEST_MAC), src, dst, ip_proto::ICMPV6, 64, 0, &icmpv6(src, dst, &r))
    };
    let ns = |src: Ipv6Addr, target: Ipv6Addr, hop: u8| {
        let dst = solicited_node(&target);
        let m = ndisc_msg(src, dst, ndisc::Repr::NeighborSolicit { target, lladdr: Some(mac(PEER_MAC)) });
        eth_ipv6(mac(PEER_MAC), EthernetAddress::from_ipv6_multicast(&dst), src, dst, ip_proto::ICMPV6, hop, 0, &m)
    };
    let arp_req = {
        let mut f = vec![0u8; ethernet::HEADER_LEN + 28];
        ethernet::Repr { src: mac(PEER_MAC), dst: EthernetAddress::BROADCAST, ethertype: EtherType::ARP }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
        arp::Repr {
            operation: arp::Operation::Request,
            sender_hw_addr: mac(PEER_MAC),
            sender_ip_addr: PEER_V4,
            target_hw_addr: EthernetAddress([0; 6]),
            target_ip_addr: GUEST_V4,
        }
        .emit(&mut arp::Packet::new_unchecked(&mut f[ethernet::HEADER_LEN..]));
        f
    };
    let na3 = {
        let flags = ndisc::NA_SOLICITED | ndisc::NA_OVERRIDE;
        let m = ndisc_msg(PEER3_V6, GUEST_V6, ndisc::Repr::NeighborAdvert { flags, target: PEER3_V6, lladdr: Some(mac(PEER3_MAC)) });
        eth_ipv6(mac(PEER3_MAC), mac(GUEST_MAC), PEER3_V6, GUEST_V6, ip_proto::ICMPV6, 255, 0, &m)
    };
    let mut bad_csum = v6_echo(PEER_V6, GUEST_V6, PEER_MAC, 9);
    let last = bad_csum.len() - 1;
    bad_csum[last] ^= 0xff;
    let mut bad_ip4 = eth_ipv4(PEER_V4, GUEST_V4, ip_proto::ICMP, 0x4b02, &icmp4_echo(0x4b43, 9, b"bad header"));
    bad_ip4[ethernet::HEADER_LEN + 10] ^= 0x01;
    let mut zero_csum_udp6 = udp6(PEER_V6, GUEST_V6, 40002, ECHO_PORT, b"no checksum");
    let at = ethernet::HEADER_LEN + ipv6::HEADER_LEN + 6;
    zero_csum_udp6[at..at + 2].copy_from_slice(&[0, 0]);
    let truncated = v6_echo(PEER_V6, GUEST_V6, PEER_MAC, 10)[..ethernet::HEADER_LEN + 30].to_vec();
    vec![
        ("NDP neighbour solicitation for 2001:db8::1", ns(PEER_V6, GUEST_V6, 255)),
        ("ICMPv6 echo request to 2001:db8::1", v6_echo(PEER_V6, GUEST_V6, PEER_MAC, 1)),
        ("IPv6 UDP to the echo port", udp6(PEER_V6, GUEST_V6, 40000, ECHO_PORT, b"k43 over virtio-net, IPv6")),
        ("IPv6 UDP to a closed port", udp6(PEER_V6, GUEST_V6, 40000, CLOSED_PORT, b"anyone?")),
        ("NDP neighbour solicitation for the link-local address", ns(PEER_LL, guest_ll(), 255)),
        ("ICMPv6 echo request to the link-local address", v6_echo(PEER_LL, guest_ll(), PEER_MAC, 2)),
        ("ARP request for 192.0.2.1", arp_req),
        ("ICMPv4 echo request", eth_ipv4(PEER_V4, GUEST_V4, ip_proto::ICMP, 0x4b01, &icmp4_echo(0x4b43, 1, b"k43 ping over virtio-net"))),
        ("IPv4 UDP to the echo port", udp4(40001, ECHO_PORT, 0x4b03, b"k43 over virtio-net, IPv4")),
        ("IPv4 UDP to a closed port", udp4(40001, CLOSED_PORT, 0x4b04, b"anyone there?")),
        ("ICMPv6 echo request from an unresolved peer (2001:db8::3)", v6_echo(PEER3_V6, GUEST_V6, PEER3_MAC, 3)),
        ("NDP neighbour advertisement for 2001:db8::3", na3),
        ("ICMPv6 echo request with a bad checksum", bad_csum),
        ("IPv4 datagram with a bad header checksum", bad_ip4),
        ("IPv6 UDP with a zero checksum", zero_csum_udp6),
        ("neighbour solicitation with hop limit 64", ns(PEER_V6, GUEST_V6, 64)),
        ("IPv6 packet cut short", truncated),
    ]
}

/// One transmitted frame, decoded as far as [`check_replies`] needs.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    /// ARP (operation, sender IP, target IP, target MAC).
    Arp(u16, Ipv4Addr, Ipv4Addr, EthernetAddress),
    /// IPv6 (src, dst, next header, payload) with a valid upper-layer checksum.
    V6(Ipv6Addr, Ipv6Addr, u8, Vec<u8>),
    /// IPv4 (src, dst, protocol, payload) with valid header and upper-layer checksums.
    V4(Ipv4Addr, Ipv4Addr, u8, Vec<u8>),
}

fn decode(f: &[u8]) -> Result<(EthernetAddress, Sent), String> {
    let e = ethernet::Packet::new_checked(f).map_err(|_| String::from("not Ethernet"))?;
    if e.src_addr() != mac(GUEST_MAC) {
        return Err(format!("source MAC {:?}", e.src_addr()));
    }
    let dst = e.dst_addr();
    match e.ethertype() {
        EtherType::ARP => {
            let a = arp::Repr::parse(&arp::Packet::new_checked(e.payload()).map_err(|_| String::from("short ARP"))?).map_err(|_| String::from("bad ARP"))?;
            Ok((dst, Sent::Arp(a.operation.into(), a.sender_ip_addr, a.target_ip_addr, a.target_hw_addr)))
        }
        EtherType::IPV6 => {
            let p = ipv6::Packet::new_checked(e.payload()).map_err(|_| String::from("bad IPv6 header"))?;
            let (s, d, nh) = (p.src_addr(), p.dst_addr(), p.next_header());
            let pl = p.payload();
            let ok = match nh {
                ip_proto::ICMPV6 | ip_proto::UDP => {
                    checksum::fold(checksum::combine(&[checksum::pseudo_header_v6(&s, &d, nh, pl.len() as u32), checksum::sum(pl)])) == 0
                }
                _ => true,
            };
            if !ok {
                return Err(String::from("bad IPv6 upper-layer checksum"));
            }
            Ok((dst, Sent::V6(s, d, nh, pl.to_vec())))
        }
        EtherType::IPV4 => {
            let p = ipv4::Packet::new_checked(e.payload()).map_err(|_| String::from("bad IPv4 header"))?;
            if !p.verify_checksum() {
                return Err(String::from("bad IPv4 header checksum"));
            }
            let (s, d, proto) = (p.src_addr(), p.dst_addr(), p.protocol());
            let pl = p.payload();
            let ok = match proto {
                ip_proto::ICMP => checksum::verifies(pl),
                ip_proto::UDP => checksum::fold(checksum::combine(&[checksum::pseudo_header_v4(&s, &d, proto, pl.len() as u16), checksum::sum(pl)])) == 0,
                _ => true,
            };
            if !ok {
                return Err(String::from("bad IPv4 upper-layer checksum"));
            }
            Ok((dst, Sent::V4(s, d, proto, pl.to_vec())))
        }
        t => Err(format!("EtherType {:#06x}", t.0)),
    }
}

/// Checks what the host transmitted against what Linux 4.3 sends for [`frames`]: every
/// frame parses with valid checksums and comes from [`GUEST_MAC`], and the answers are
/// there, in order: the NA for 2001:db8::1 (S and O set, TLLA option), the echo reply
/// with the request's id, sequence and data, the UDP echo from port 7, the Port
/// Unreachable quoting the datagram, the link-local NA and echo reply, the ARP reply, the
/// ICMPv4 echo reply, the IPv4 UDP echo, the ICMPv4 Port Unreachable, the multicast NS
/// for 2001:db8::3 followed by the queued echo reply once the NA came. The peers' entries
/// are probed later (unicast NS, ARP requests); nothing answers the last five frames.
pub fn check_replies(sent: &[Vec<u8>]) -> Result<(), String> {
    let mut decoded = Vec::new();
    for (i, f) in sent.iter().enumerate() {
        decoded.push(decode(f).map_err(|e| format!("transmitted frame {i}: {e}"))?);
    }
    let guest_ll = guest_ll();
    let ok_na = |target: Ipv6Addr, to: Ipv6Addr| {
        move |(d, s): &(EthernetAddress, Sent)| match s {
            Sent::V6(src, dst, ip_proto::ICMPV6, m) => {
                *d == mac(PEER_MAC)
                    && *src == target
                    && *dst == to
                    && m.len() == 32
                    && m[0] == ndisc::msg_type::NEIGHBOR_ADVERT
                    && m[4] == ndisc::NA_SOLICITED | ndisc::NA_OVERRIDE
                    && m[8..24] == target.octets()
                    && m[24..26] == [2, 1]
                    && m[26..32] == GUEST_MAC
            }
            _ => false,
        }
    };
    let echo6 = |from: Ipv6Addr, to: Ipv6Addr, dmac: [u8; 6], seq: u16| {
        move |(d, s): &(EthernetAddress, Sent)| match s {
            Sent::V6(src, dst, ip_proto::ICMPV6, m) => {
                *d == mac(dmac) && *src == from && *dst == to && m[0] == 129 && m[4..6] == [0x4b, 0x43] && m[6..8] == seq.to_be_bytes() && m[8..] == ping_data(seq as u8)[..]
            }
            _ => false,
        }
    };
    let udp_echo6 = |(d, s): &(EthernetAddress, Sent)| match s {
        Sent::V6(src, dst, ip_proto::UDP, u) => {
            *d == mac(PEER_MAC) && *src == GUEST_V6 && *dst == PEER_V6 && u[0..2] == ECHO_PORT.to_be_bytes() && u[2..4] == 40000u16.to_be_bytes() && u[8..] == b"k43 over virtio-net, IPv6"[..]
        }
        _ => false,
    };
    let unreach6 = |(_, s): &(EthernetAddress, Sent)| match s {
        // Type 1 code 4, quoting the invoking packet from its IPv6 header on.
        Sent::V6(src, dst, ip_proto::ICMPV6, m) => *src == GUEST_V6 && *dst == PEER_V6 && m[0] == 1 && m[1] == 4 && m.len() == 8 + 40 + 8 + 7 && m[8 + 24..8 + 40] == GUEST_V6.octets(),
        _ => false,
    };
    let arp_reply = |(d, s): &(EthernetAddress, Sent)| *d == mac(PEER_MAC) && *s == Sent::Arp(2, GUEST_V4, PEER_V4, mac(PEER_MAC));
    let echo4 = |(d, s): &(EthernetAddress, Sent)| match s {
        Sent::V4(src, dst, ip_proto::ICMP, m) => *d == mac(PEER_MAC) && *src == GUEST_V4 && *dst == PEER_V4 && m[0] == 0 && m[4..8] == [0x4b, 0x43, 0, 1] && m[8..] == b"k43 ping over virtio-net"[..],
        _ => false,
    };
    let udp_echo4 = |(d, s): &(EthernetAddress, Sent)| match s {
        Sent::V4(src, dst, ip_proto::UDP, u) => {
            *d == mac(PEER_MAC) && *src == GUEST_V4 && *dst == PEER_V4 && u[0..2] == ECHO_PORT.to_be_bytes() && u[2..4] == 40001u16.to_be_bytes() && u[8..] == b"k43 over virtio-net, IPv4"[..]
        }
        _ => false,
    };
    let unreach4 = |(_, s): &(EthernetAddress, Sent)| match s {
        // Type 3 code 3, quoting the IP header and the whole (short) datagram.
        Sent::V4(src, dst, ip_proto::ICMP, m) => *src == GUEST_V4 && *dst == PEER_V4 && m[0] == 3 && m[1] == 3 && m.len() == 8 + 20 + 8 + 13 && m[8 + 16..8 + 20] == GUEST_V4.octets(),
        _ => false,
    };
    let ns3 = |(d, s): &(EthernetAddress, Sent)| match s {
        Sent::V6(src, dst, ip_proto::ICMPV6, m) => {
            let sn = solicited_node(&PEER3_V6);
            *d == EthernetAddress::from_ipv6_multicast(&sn) && *src == GUEST_V6 && *dst == sn && m[0] == ndisc::msg_type::NEIGHBOR_SOLICIT && m[8..24] == PEER3_V6.octets()
        }
        _ => false,
    };
    type Check<'c> = (&'static str, &'c dyn Fn(&(EthernetAddress, Sent)) -> bool);
    let na_global = ok_na(GUEST_V6, PEER_V6);
    let na_ll = ok_na(guest_ll, PEER_LL);
    let echo_global = echo6(GUEST_V6, PEER_V6, PEER_MAC, 1);
    let echo_ll = echo6(guest_ll, PEER_LL, PEER_MAC, 2);
    let echo3 = echo6(GUEST_V6, PEER3_V6, PEER3_MAC, 3);
    let expected: [Check<'_>; 12] = [
        ("NA for 2001:db8::1", &na_global),
        ("ICMPv6 echo reply", &echo_global),
        ("IPv6 UDP echo", &udp_echo6),
        ("ICMPv6 port unreachable", &unreach6),
        ("NA for the link-local address", &na_ll),
        ("link-local ICMPv6 echo reply", &echo_ll),
        ("ARP reply", &arp_reply),
        ("ICMPv4 echo reply", &echo4),
        ("IPv4 UDP echo", &udp_echo4),
        ("ICMPv4 port unreachable", &unreach4),
        ("multicast NS for 2001:db8::3", &ns3),
        ("the queued echo reply to 2001:db8::3", &echo3),
    ];
    // In order, each after the previous one (timers may put other frames in between).
    let mut at = 0;
    for (what, check) in expected {
        match decoded[at..].iter().position(check) {
            Some(i) => at += i + 1,
            None => return Err(format!("no {what} after transmitted frame {at} of {}", decoded.len())),
        }
    }
    Ok(())
}
