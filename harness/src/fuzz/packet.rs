//! The `packet` fuzz target: arbitrary sequences of frames into one host configured by a
//! small fixed setup, checking what comes back out. IPv4 and ARP have their own steps
//! (`10.0.0.1/24` on `eth0`, the peer `10.0.0.2` learned from its ARP request); their
//! output is checked below too (`check_ipv4`, ARP sender and size).
//!
//! Setup: one NIC (`eth0`, 52:54:00:12:34:56) and `lo` up, `2001:db8::1/64` on `eth0`,
//! DAD finished, the peer `2001:db8::2` (02:00:00:00:00:01) learned from its Neighbour
//! Solicitation, so replies leave at once. Each input is a list of steps; a step is a
//! frame or a pause (timers run: neighbour probes, reassembly timeouts). Frames are built
//! from templates most of the time — a valid Ethernet + IPv6 header towards one of the
//! host's addresses, a multicast group, `::1` or a stranger, with a next header from the
//! ones the stack handles (Hop-by-Hop, Routing, Fragment, Destination Options, ICMPv6,
//! UDP, No Next Header, unknown) and a payload shaped for it (valid ICMPv6 checksums
//! for echo and ND, fragments of one datagram) — and then mutated; now and then they are
//! raw bytes.
//!
//! Invariants after every step: no panic; the kernel's invariants hold; every emitted
//! frame re-parses as Ethernet + IPv6 from one of the host's addresses (or `::` for DAD)
//! with a valid ICMPv6 checksum; ND messages carry hop limit 255; an ICMPv6 error is
//! never sent about an ICMPv6 error, nor about a packet to a multicast group or a
//! link-level broadcast/multicast frame (RFC 4443 §2.4 e.3, except Packet Too Big and a
//! code-2 Parameter Problem whose option type asks for it), nor to an unspecified or
//! multicast source, and it quotes at most 1232 bytes; reassembly memory stays within
//! `ip6frag_high_thresh` plus one queue's worth.

use alloc::vec;
use alloc::vec::Vec;
use arbitrary::{Arbitrary, Unstructured};
use hal_sim::{SimConfig, SimHal};
use kernel::net::wire::ethernet::{self, EtherType};
use kernel::net::wire::{arp, icmpv4, icmpv6, ip_proto, ipv4, ipv6, ndisc, EthernetAddress, Ipv4Addr, Ipv6Addr};
use kernel::{Kernel, KernelConfig};
use crate::frames::icmpv6 as icmp;

const OUR_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
/// Steps one input may take.
const MAX_STEPS: usize = 64;

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap_or(Ipv6Addr::UNSPECIFIED)
}

/// Where a templated frame goes.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Dst {
    Ours,
    LinkLocal,
    AllNodes,
    SolicitedNode,
    Loopback,
    Stranger,
    OffLink,
    Unspecified,
}

/// Who it comes from.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Src {
    Peer,
    PeerLinkLocal,
    Unspecified,
    Multicast,
    Ours,
    Other,
}

/// The payload shape.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Body {
    Echo { ident: u16, seq: u16, code: u8 },
    Ns { dad: bool, sllao: bool },
    Na { flags: u8 },
    IcmpError { t: u8, code: u8, quote_error: bool },
    Udp { port: u16, good_checksum: bool },
    HopByHop { opt_type: u8, then_udp: bool },
    DstOpts { opt_type: u8 },
    Routing { rtype: u8, segs_left: u8 },
    Fragment { id: u8, offset: u16, more: bool, len: u8 },
    NoNext,
    Unknown { nh: u8 },
}

/// An IPv4 payload shape.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Body4 {
    Echo { code: u8, ident: u16 },
    Udp { port: u16 },
    Other { proto: u8 },
}

/// One step of an input.
#[derive(Arbitrary, Debug)]
enum Step {
    V4 { to_us: bool, from_peer: bool, broadcast: bool, ttl: u8, options: Vec<u8>, frag: u16, body: Body4, data_len: u8, mutate: Vec<(u16, u8)> },
    Arp { request: bool, target_us: bool, sender: u8 },
    Frame { dst: Dst, src: Src, hop_limit: u8, tclass: u8, body: Body, data_len: u8, mutate: Vec<(u16, u8)>, broadcast_mac: bool },
    Raw(Vec<u8>),
    Pause { ms: u16 },
}

struct Target {
    k: Kernel<SimHal>,
    ours: Vec<Ipv6Addr>,
    ours4: Vec<Ipv4Addr>,
    verbose: bool,
}

impl Target {
    fn new() -> Option<Target> {
        let hal = SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 });
        hal.nics.add(OUR_MAC);
        let mut k = Kernel::new(hal, KernelConfig::default());
        k.dev_open(1).ok()?;
        k.dev_open(2).ok()?;
        k.inet6_addr_add(2, addr("2001:db8::1"), 64, 0).ok()?;
        let mut t = Target { k, ours4: Vec::new(), ours: vec![addr("2001:db8::1"), addr("fe80::5054:ff:fe12:3456"), Ipv6Addr::LOCALHOST], verbose: std::env::var_os("K43_FUZZ_TRACE").is_some_and(|v| v == "1") };
        t.pause(3_000);
        let ns = icmp(addr("2001:db8::2"), addr("ff02::1:ff00:1"), &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: addr("2001:db8::1"), lladdr: Some(PEER_MAC) }));
        let f = frame(PEER_MAC, EthernetAddress::from_ipv6_multicast(&addr("ff02::1:ff00:1")), addr("2001:db8::2"), addr("ff02::1:ff00:1"), ip_proto::ICMPV6, 255, 0, &ns);
        t.k.netif_receive(0, &f);
        t.k.inet_addr_add(2, V4_US, 24).ok()?;
        t.k.netif_receive(0, &arp_frame(true, V4_US, V4_PEER));
        t.k.hal.nics.take_transmitted(0);
        t.ours4 = vec![V4_US, Ipv4Addr::new(127, 0, 0, 1)];
        Some(t)
    }

    fn pause(&mut self, ms: u64) {
        crate::sim::run_timers_for(&mut self.k, ms * 1_000_000);
    }

    /// Sends `f` in and checks everything that came out.
    fn inject(&mut self, f: &[u8]) {
        self.k.netif_receive(0, f);
        self.check_out(Some(f));
    }

    fn check_out(&mut self, input: Option<&[u8]>) {
        for out in self.k.hal.nics.take_transmitted(0) {
            if self.verbose {
                std::eprintln!("out: {out:02x?}");
            }
            check_frame(&out, &self.ours, &self.ours4, input);
        }
        if let Err(e) = self.k.check_invariants() {
            panic!("invariant broken: {e}");
        }
        let (mem, high) = self.k.net().frags6.mem();
        // One queue may be created at the threshold and take a fragment more.
        assert!(mem <= high + 70_000, "reassembly memory {mem} above ip6frag_high_thresh {high}");
    }
}

fn frame(smac: EthernetAddress, dmac: EthernetAddress, src: Ipv6Addr, dst: Ipv6Addr, nh: u8, hop: u8, tclass: u8, payload: &[u8]) -> Vec<u8> {
    crate::frames::eth_ipv6(smac, dmac, src, dst, nh, hop, tclass, payload)
}


fn udp(src: Ipv6Addr, dst: Ipv6Addr, port: u16, data: &[u8], good: bool) -> Vec<u8> {
    let mut u = vec![0u8; 8 + data.len()];
    u[0..2].copy_from_slice(&40000u16.to_be_bytes());
    u[2..4].copy_from_slice(&port.to_be_bytes());
    let ulen = u.len() as u16;
    u[4..6].copy_from_slice(&ulen.to_be_bytes());
    u[8..].copy_from_slice(data);
    let c = kernel::net::ipv6::ip6_output::upper_checksum(&src, &dst, ip_proto::UDP, &u);
    let c = if good { if c == 0 { 0xffff } else { c } } else { c ^ 0x5a5a };
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

/// Builds the templated frame of a `Step::Frame`.
fn build(dst: Dst, src: Src, hop: u8, tclass: u8, body: Body, data_len: u8, broadcast_mac: bool) -> Vec<u8> {
    let ours = addr("2001:db8::1");
    let d = match dst {
        Dst::Ours => ours,
        Dst::LinkLocal => addr("fe80::5054:ff:fe12:3456"),
        Dst::AllNodes => addr("ff02::1"),
        Dst::SolicitedNode => addr("ff02::1:ff00:1"),
        Dst::Loopback => Ipv6Addr::LOCALHOST,
        Dst::Stranger => addr("2001:db8::77"),
        Dst::OffLink => addr("2001:db9::5"),
        Dst::Unspecified => Ipv6Addr::UNSPECIFIED,
    };
    let s = match src {
        Src::Peer => addr("2001:db8::2"),
        Src::PeerLinkLocal => addr("fe80::1"),
        Src::Unspecified => Ipv6Addr::UNSPECIFIED,
        Src::Multicast => addr("ff02::1"),
        Src::Ours => ours,
        Src::Other => addr("2001:db8::3"),
    };
    let data: Vec<u8> = (0..data_len).collect();
    let (nh, payload) = match body {
        Body::Echo { ident, seq, code } => (ip_proto::ICMPV6, icmp(s, d, &icmpv6::Repr::EchoRequest { code: code & 1, ident, seq, data: &data })),
        Body::Ns { dad, sllao } => {
            let s = if dad { Ipv6Addr::UNSPECIFIED } else { s };
            (ip_proto::ICMPV6, icmp(s, d, &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: ours, lladdr: sllao.then_some(PEER_MAC) })))
        }
        Body::Na { flags } => (ip_proto::ICMPV6, icmp(s, d, &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborAdvert { flags: flags & 0xe0, target: s, lladdr: Some(PEER_MAC) }))),
        Body::IcmpError { t, code, quote_error } => {
            let inner = if quote_error { frame(PEER_MAC, PEER_MAC, d, s, ip_proto::ICMPV6, 64, 0, &[1, 0, 0, 0, 0, 0, 0, 0])[14..].to_vec() } else { data.clone() };
            let m = icmp(s, d, &icmpv6::Repr::Other { msg_type: t & 0x7f, code, data: &inner_with_header(&inner) });
            (ip_proto::ICMPV6, m)
        }
        Body::Udp { port, good_checksum } => (ip_proto::UDP, udp(s, d, port, &data, good_checksum)),
        Body::HopByHop { opt_type, then_udp } => {
            let mut h = vec![if then_udp { ip_proto::UDP } else { ip_proto::NONE }, 0, opt_type, 2, 0, 0, 1, 0];
            if opt_type == 0 {
                h[2..].fill(0);
            }
            if then_udp {
                h.extend(udp(s, d, 7, &data, true));
            }
            (ip_proto::HOPOPTS, h)
        }
        Body::DstOpts { opt_type } => (ip_proto::DSTOPTS, vec![ip_proto::NONE, 0, opt_type, 4, 0, 0, 0, 0]),
        Body::Routing { rtype, segs_left } => {
            let mut r = vec![ip_proto::NONE, 2, rtype, segs_left, 0, 0, 0, 0];
            r.extend_from_slice(&ours.octets());
            (ip_proto::ROUTING, r)
        }
        Body::Fragment { id, offset, more, len } => {
            let off = (offset & 0x1fff) << 3 | u16::from(more);
            let mut f = vec![ip_proto::UDP, 0];
            f.extend_from_slice(&off.to_be_bytes());
            f.extend_from_slice(&u32::from(id).to_be_bytes());
            f.extend((0..len).map(|i| i.wrapping_mul(7)));
            (ip_proto::FRAGMENT, f)
        }
        Body::NoNext => (ip_proto::NONE, data),
        Body::Unknown { nh } => (nh, data),
    };
    let dmac = if broadcast_mac {
        EthernetAddress::BROADCAST
    } else if d.is_multicast() {
        EthernetAddress::from_ipv6_multicast(&d)
    } else {
        EthernetAddress(OUR_MAC)
    };
    frame(PEER_MAC, dmac, s, d, nh, hop, tclass, &payload)
}

/// An ICMPv6 error body: four unused bytes, then the quote.
fn inner_with_header(q: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; 4];
    v.extend_from_slice(q);
    v
}

/// The output invariants of one emitted frame (module doc).
fn check_frame(out: &[u8], ours: &[Ipv6Addr], ours4: &[Ipv4Addr], input: Option<&[u8]>) {
    let e = ethernet::Packet::new_checked(out).expect("emitted frame has an Ethernet header");
    assert_eq!(e.src_addr(), EthernetAddress(OUR_MAC), "source MAC");
    match e.ethertype() {
        EtherType::IPV6 => {}
        EtherType::IPV4 => return check_ipv4(e.payload(), ours4),
        EtherType::ARP => {
            let p = arp::Packet::new_checked(e.payload()).expect("emitted ARP re-parses");
            let r = arp::Repr::parse(&p).expect("emitted ARP repr");
            assert_eq!(out.len(), 42, "ARP frames are not padded on virtual links");
            assert_eq!(r.sender_hw_addr, EthernetAddress(OUR_MAC));
            assert!(ours4.contains(&r.sender_ip_addr), "ARP from {} is not ours", r.sender_ip_addr);
            return;
        }
        t => panic!("emitted EtherType {:#06x}", t.0),
    }
    let p = ipv6::Packet::new_checked(e.payload()).expect("emitted packet re-parses");
    let r = ipv6::Repr::parse(&p).expect("emitted IPv6 header");
    assert!(ours.contains(&r.src_addr) || r.src_addr.is_unspecified(), "source {} is not ours", r.src_addr);
    if r.next_header != ip_proto::ICMPV6 {
        return;
    }
    let msg = p.payload();
    assert!(icmpv6::checksum_ok(&r.src_addr, &r.dst_addr, msg), "emitted ICMPv6 checksum");
    let Some(&t) = msg.first() else { panic!("empty ICMPv6 message") };
    if (133..=137).contains(&t) {
        assert_eq!(r.hop_limit, 255, "ND hop limit");
    }
    if !icmpv6::is_error(t) {
        return;
    }
    assert!(msg.len() <= 8 + icmpv6::MAX_ERROR_QUOTE, "error quotes {} bytes", msg.len() - 8);
    assert!(!r.dst_addr.is_multicast() && !r.dst_addr.is_unspecified(), "error sent to {}", r.dst_addr);
    // The invoking packet is the quote (an error may leave long after its cause arrived,
    // queued while the source was resolved): judge it by what it quotes.
    let quote = &msg[8..];
    let Ok(ip) = ipv6::Packet::new_checked(quote) else {
        // Quotes are at least an IPv6 header (icmp6_send refuses less) but may be cut.
        assert!(quote.len() >= 40, "error quotes {} bytes, less than an IPv6 header", quote.len());
        return;
    };
    let exempt = t == icmpv6::msg_type::PKT_TOO_BIG || (t == icmpv6::msg_type::PARAM_PROBLEM && msg[1] == 2);
    if !exempt {
        assert!(!ip.dst_addr().is_multicast(), "error about a packet to multicast {}", ip.dst_addr());
        // A link-level multicast frame is known only for the frame just injected.
        if let Some(ie) = input.and_then(|i| ethernet::Packet::new_checked(i).ok()) {
            if ie.payload().starts_with(quote) {
                assert!(!ie.dst_addr().is_multicast(), "error about a link-level multicast frame");
            }
        }
    }
    assert!(!ip.src_addr().is_multicast() && !ip.src_addr().is_unspecified(), "error about a packet from {}", ip.src_addr());
    if let Ok(u) = kernel::net::wire::ipv6_ext::ExtHeaderChain::upper_layer(ip.next_header(), ip.payload()) {
        if u.next_header == ip_proto::ICMPV6 && u.frag_offset == 0 {
            if let Some(&it) = ip.payload().get(u.offset) {
                assert!(!icmpv6::is_error(it), "ICMPv6 error about ICMPv6 error type {it}");
            }
        }
    }
}

const V4_US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const V4_PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// An ARP request (`request`) or reply from the peer about `target`.
fn arp_frame(request: bool, target: Ipv4Addr, sender: Ipv4Addr) -> Vec<u8> {
    let mut f = vec![0u8; 42];
    let dmac = if request { EthernetAddress::BROADCAST } else { EthernetAddress(OUR_MAC) };
    ethernet::Repr { src: PEER_MAC, dst: dmac, ethertype: EtherType::ARP }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    let op = if request { arp::Operation::Request } else { arp::Operation::Reply };
    let tha = if request { EthernetAddress::default() } else { EthernetAddress(OUR_MAC) };
    arp::Repr { operation: op, sender_hw_addr: PEER_MAC, sender_ip_addr: sender, target_hw_addr: tha, target_ip_addr: target }.emit(&mut arp::Packet::new_unchecked(&mut f[14..]));
    f
}

/// An IPv4 frame from the step's description (options padded to a multiple of 4 and
/// cut at 40 bytes; the header checksum is right before any mutation).
#[allow(clippy::too_many_arguments)]
fn v4_frame(to_us: bool, from_peer: bool, broadcast: bool, ttl: u8, options: &[u8], frag: u16, body: Body4, data_len: u8) -> Vec<u8> {
    let dst = if broadcast { Ipv4Addr::new(10, 0, 0, 255) } else if to_us { V4_US } else { Ipv4Addr::new(10, 9, 9, 9) };
    let src = if from_peer { V4_PEER } else { Ipv4Addr::new(10, 0, 0, 3) };
    let data: Vec<u8> = (0..data_len).collect();
    let (proto, payload) = match body {
        Body4::Echo { code, ident } => {
            let mut m = vec![8, code & 1, 0, 0];
            m.extend_from_slice(&ident.to_be_bytes());
            m.extend_from_slice(&[0, 1]);
            m.extend_from_slice(&data);
            let c = kernel::net::wire::checksum::checksum(&m);
            m[2..4].copy_from_slice(&c.to_be_bytes());
            (ip_proto::ICMP, m)
        }
        Body4::Udp { port } => {
            let mut u = vec![0x9c, 0x40, (port >> 8) as u8, port as u8, 0, (8 + data.len()) as u8, 0, 0];
            u.extend_from_slice(&data);
            (ip_proto::UDP, u)
        }
        Body4::Other { proto } => (proto, data),
    };
    let mut opts: Vec<u8> = options.iter().copied().take(40).collect();
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    let hl = 20 + opts.len();
    let total = hl + payload.len();
    let mut ip = vec![0u8; total];
    ip[0] = 0x40 | (hl / 4) as u8;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[6..8].copy_from_slice(&(frag & 0x3fff).to_be_bytes());
    ip[8] = ttl;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    ip[20..hl].copy_from_slice(&opts);
    let c = kernel::net::wire::checksum::checksum(&ip[..hl]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip[hl..].copy_from_slice(&payload);
    let dmac = if broadcast { EthernetAddress::BROADCAST } else { EthernetAddress(OUR_MAC) };
    let mut f = vec![0u8; 14];
    ethernet::Repr { src: PEER_MAC, dst: dmac, ethertype: EtherType::IPV4 }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    f.extend_from_slice(&ip);
    f
}

/// The output invariants of an emitted IPv4 packet: it re-parses with a good header
/// checksum, comes from one of our addresses, and an ICMP message in it has a good
/// checksum and is never an error about an ICMP error (4.3's error types).
fn check_ipv4(pkt: &[u8], ours4: &[Ipv4Addr]) {
    let p = ipv4::Packet::new_checked(pkt).expect("emitted IPv4 re-parses");
    let r = ipv4::Repr::parse(&p).expect("emitted IPv4 header checksum");
    assert!(ours4.contains(&r.src), "IPv4 source {} is not ours", r.src);
    if r.protocol != ip_proto::ICMP || r.frag_offset != 0 {
        return;
    }
    let msg = p.payload();
    if r.more_frags {
        return;
    }
    assert_eq!(kernel::net::wire::checksum::checksum(msg), 0, "emitted ICMP checksum");
    let Some(&t) = msg.first() else { panic!("empty ICMP message") };
    if icmpv4::is_error(t) {
        assert!(!r.dst.is_broadcast() && !r.dst.is_multicast(), "ICMP error to {}", r.dst);
        let quote = &msg[8..];
        if quote.len() >= 20 && quote[9] == ip_proto::ICMP {
            let ihl = usize::from(quote[0] & 0x0f) * 4;
            let off = u16::from_be_bytes([quote[6], quote[7]]) & 0x1fff;
            if let Some(&qt) = quote.get(ihl) {
                assert!(off != 0 || !icmpv4::is_error(qt), "ICMP error about ICMP error type {qt}");
            }
        }
    }
}

/// The `packet` target body.
pub fn packet(data: &[u8]) {
    let Some(mut t) = Target::new() else { return };
    let mut u = Unstructured::new(data);
    for _ in 0..MAX_STEPS {
        let Ok(step) = Step::arbitrary(&mut u) else { break };
        if t.verbose {
            std::eprintln!("{step:?}");
        }
        match step {
            Step::Frame { dst, src, hop_limit, tclass, body, data_len, mutate, broadcast_mac } => {
                let mut f = build(dst, src, hop_limit, tclass, body, data_len, broadcast_mac);
                for (at, x) in mutate.into_iter().take(4) {
                    let i = usize::from(at) % f.len().max(1);
                    if let Some(b) = f.get_mut(i) {
                        *b ^= x;
                    }
                }
                t.inject(&f);
            }
            Step::V4 { to_us, from_peer, broadcast, ttl, options, frag, body, data_len, mutate } => {
                let mut f = v4_frame(to_us, from_peer, broadcast, ttl, &options, frag, body, data_len);
                for (at, x) in mutate.into_iter().take(4) {
                    let i = usize::from(at) % f.len().max(1);
                    if let Some(b) = f.get_mut(i) {
                        *b ^= x;
                    }
                }
                t.inject(&f);
            }
            Step::Arp { request, target_us, sender } => {
                let target = if target_us { V4_US } else { Ipv4Addr::new(10, 0, 0, 7) };
                t.inject(&arp_frame(request, target, Ipv4Addr::new(10, 0, 0, sender)));
            }
            Step::Raw(bytes) => t.inject(&bytes),
            Step::Pause { ms } => {
                t.pause(u64::from(ms) * 4);
                t.check_out(None);
            }
        }
    }
}
