//! The IPv4 host stack on one simulated NIC, driven by frames: the routes an address and
//! `lo` bring, ARP (answering, learning, resolving, failing), Echo Requests, ICMP errors
//! (port and protocol unreachable, parameter problem) with 4.3's quote and suppression
//! rules, header checks and the MIB counters they move (spec net-ipv6.md §10). Every
//! emitted frame is re-parsed and its checksums checked.

use hal_sim::{SimConfig, SimHal};
use kernel::fs::proc::ProcNode;
use kernel::net::wire::arp::{self, Operation};
use kernel::net::wire::ethernet::{self, EtherType};
use kernel::net::wire::{checksum, icmpv4, ip_proto, ipv4, udp, EthernetAddress, Ipv4Addr};
use kernel::{Kernel, KernelConfig};

const OUR_MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);
const US: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

struct Host {
    k: Kernel<SimHal>,
}

impl Host {
    /// One NIC; `lo` and `eth0` up; 10.0.0.1/24 on eth0.
    fn up() -> Host {
        let hal = SimHal::new(SimConfig { seed: 7, ram_bytes: 16 << 20, cpus: 1 });
        hal.nics.add(OUR_MAC.0);
        let mut h = Host { k: Kernel::new(hal, KernelConfig::default()) };
        h.k.dev_open(1).unwrap();
        h.k.dev_open(2).unwrap();
        h.k.inet_addr_add(2, US, 24).unwrap();
        // Let IPv6 finish its DAD and keep only what IPv4 sends from here on.
        h.run_for(3_000_000_000);
        h
    }

    /// Up, with the peer's MAC learned from its ARP request for us.
    fn up_knowing_peer() -> Host {
        let mut h = Host::up();
        let out = h.inject(&arp_frame(Operation::Request, PEER_MAC, PEER, EthernetAddress::default(), US, EthernetAddress::BROADCAST));
        assert_eq!(out.len(), 1);
        h
    }

    /// Runs timers until none is due within `ns` of now; returns the IPv4/ARP frames sent.
    fn run_for(&mut self, ns: u64) -> Vec<Vec<u8>> {
        harness::sim::run_timers_for(&mut self.k, ns);
        self.sent()
    }

    /// Frames sent on eth0 that are not IPv6.
    fn sent(&mut self) -> Vec<Vec<u8>> {
        let all = self.k.hal.nics.take_transmitted(0);
        all.into_iter().filter(|f| f.len() >= 14 && f[12..14] != [0x86, 0xdd]).collect()
    }

    fn inject(&mut self, frame: &[u8]) -> Vec<Vec<u8>> {
        self.k.netif_receive(0, frame);
        self.sent()
    }

    fn proc(&self, node: ProcNode) -> String {
        String::from_utf8(self.k.proc_read(node).unwrap()).unwrap()
    }

    /// A counter of `/proc/net/snmp` (`Ip`, `Icmp`, `IcmpMsg`, `Udp` … lines), or of
    /// `/proc/net/netstat` for `IpExt`.
    fn snmp(&self, group: &str, name: &str) -> u64 {
        let t = self.proc(if group == "IpExt" { ProcNode::NetNetstat } else { ProcNode::NetSnmp });
        let lines: Vec<&str> = t.lines().collect();
        for pair in lines.chunks(2) {
            let (names, values) = (pair[0], pair[1]);
            if !names.starts_with(&format!("{group}:")) {
                continue;
            }
            let n: Vec<&str> = names.split_whitespace().collect();
            let v: Vec<&str> = values.split_whitespace().collect();
            if let Some(i) = n.iter().position(|x| *x == name) {
                return v[i].parse().unwrap();
            }
        }
        panic!("no counter {group}:{name}")
    }
}

fn arp_frame(op: Operation, sha: EthernetAddress, spa: Ipv4Addr, tha: EthernetAddress, tpa: Ipv4Addr, dmac: EthernetAddress) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 28];
    ethernet::Repr { src: sha, dst: dmac, ethertype: EtherType::ARP }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    arp::Repr { operation: op, sender_hw_addr: sha, sender_ip_addr: spa, target_hw_addr: tha, target_ip_addr: tpa }
        .emit(&mut arp::Packet::new_unchecked(&mut f[14..]));
    f
}

/// An Ethernet + IPv4 frame from the peer's MAC; `opts` go after the fixed header.
#[allow(clippy::too_many_arguments)]
fn ip_frame(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, ttl: u8, tos: u8, opts: &[u8], payload: &[u8], dmac: EthernetAddress) -> Vec<u8> {
    let hlen = 20 + opts.len();
    let mut f = vec![0u8; 14 + hlen + payload.len()];
    ethernet::Repr { src: PEER_MAC, dst: dmac, ethertype: EtherType::IPV4 }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    {
        let mut p = ipv4::Packet::new_unchecked(&mut f[14..]);
        ipv4::Repr { src, dst, protocol: proto, payload_len: hlen - 20 + payload.len(), ttl, tos, ident: 0x4242, dont_frag: false, more_frags: false, frag_offset: 0 }
            .emit(&mut p);
        p.set_version_ihl(4, (hlen / 4) as u8);
    }
    f[14 + 20..14 + hlen].copy_from_slice(opts);
    f[14 + hlen..].copy_from_slice(payload);
    ipv4::Packet::new_unchecked(&mut f[14..]).fill_checksum();
    f
}

fn echo(code: u8, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let r = icmpv4::Repr::EchoRequest { code, ident, seq, data };
    let mut m = vec![0u8; r.buffer_len()];
    r.emit(&mut icmpv4::Packet::new_unchecked(&mut m[..]));
    m
}

fn udp_dgram(src: Ipv4Addr, dst: Ipv4Addr, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = vec![0u8; 8 + data.len()];
    u[8..].copy_from_slice(data);
    udp::Repr { src_port: 40000, dst_port: dport, payload_len: data.len() }
        .emit(&mut udp::Packet::new_unchecked(&mut u[..]), &udp::IpAddrs::V4 { src, dst });
    u
}

/// An emitted IPv4 frame, parsed and checked: (dst MAC, the datagram, its payload).
fn parse_ip(f: &[u8]) -> (EthernetAddress, Vec<u8>, Vec<u8>) {
    let e = ethernet::Packet::new_checked(f).expect("ethernet");
    assert_eq!(e.ethertype(), EtherType::IPV4);
    assert_eq!(e.src_addr(), OUR_MAC);
    let p = ipv4::Packet::new_checked(e.payload()).expect("ipv4");
    assert!(p.verify_checksum(), "bad IPv4 header checksum");
    assert_eq!(usize::from(p.total_len()), e.payload().len(), "no padding after the datagram");
    if p.protocol() == ip_proto::ICMP && !p.more_frags() && p.frag_offset() == 0 {
        assert!(checksum::verifies(p.payload()), "bad ICMP checksum");
    }
    (e.dst_addr(), e.payload().to_vec(), p.payload().to_vec())
}

#[test]
fn an_address_and_lo_bring_4_3s_routes() {
    let h = Host::up();
    let local = h.k.ip_route_show(255);
    let lines: Vec<&str> = local.lines().map(str::trim_end).collect();
    assert_eq!(
        lines,
        [
            "broadcast 10.0.0.0 dev eth0  proto kernel  scope link  src 10.0.0.1",
            "local 10.0.0.1 dev eth0  proto kernel  scope host  src 10.0.0.1",
            "broadcast 10.0.0.255 dev eth0  proto kernel  scope link  src 10.0.0.1",
            "broadcast 127.0.0.0 dev lo  proto kernel  scope link  src 127.0.0.1",
            "local 127.0.0.0/8 dev lo  proto kernel  scope host  src 127.0.0.1",
            "local 127.0.0.1 dev lo  proto kernel  scope host  src 127.0.0.1",
            "broadcast 127.255.255.255 dev lo  proto kernel  scope link  src 127.0.0.1",
        ]
    );
    let main = h.k.ip_route_show(254);
    assert_eq!(main.trim_end(), "10.0.0.0/24 dev eth0  proto kernel  scope link  src 10.0.0.1");
    // No broadcast address unless `brd` is given.
    let a = h.k.inet_addrs(2);
    assert_eq!((a.len(), a[0].local, a[0].prefixlen, a[0].broadcast), (1, US, 24, Ipv4Addr::UNSPECIFIED));
    assert_eq!(h.k.inet_addrs(1)[0].local, Ipv4Addr::LOCALHOST);
}

#[test]
fn address_rules_secondary_duplicate_and_down_device() {
    let hal = SimHal::new(SimConfig { seed: 7, ram_bytes: 16 << 20, cpus: 1 });
    hal.nics.add(OUR_MAC.0);
    let mut k = Kernel::new(hal, KernelConfig::default());
    // eth0 down: only the local route until it comes up.
    k.inet_addr_add(2, US, 24).unwrap();
    assert_eq!(k.ip_route_show(254), "");
    assert_eq!(k.inet_addr_add(2, US, 24), Err(kernel::Errno::EEXIST));
    assert_eq!(k.inet_addr_add(2, US, 33), Err(kernel::Errno::EINVAL));
    assert_eq!(k.inet_addr_add(9, US, 24), Err(kernel::Errno::ENODEV));
    k.dev_open(2).unwrap();
    assert!(k.ip_route_show(254).starts_with("10.0.0.0/24 dev eth0"));
    // A second address of the subnet is secondary: its local route only.
    k.inet_addr_add(2, Ipv4Addr::new(10, 0, 0, 5), 24).unwrap();
    assert_eq!(k.inet_addrs(2)[1].flags & 1, 1);
    assert!(k.ip_route_show(255).contains("local 10.0.0.5 dev eth0  proto kernel  scope host  src 10.0.0.1"));
    // /31: no broadcast routes.
    k.inet_addr_add(2, Ipv4Addr::new(192, 168, 9, 0), 31).unwrap();
    assert!(!k.ip_route_show(255).contains("192.168.9.1"));
}

#[test]
fn arp_request_for_us_is_answered_with_an_exact_42_byte_reply() {
    let mut h = Host::up();
    // Padded to 60 bytes on the wire, as a real NIC delivers it.
    let mut req = arp_frame(Operation::Request, PEER_MAC, PEER, EthernetAddress::default(), US, EthernetAddress::BROADCAST);
    req.resize(60, 0);
    let out = h.inject(&req);
    assert_eq!(out.len(), 1);
    let expect = arp_frame(Operation::Reply, OUR_MAC, US, PEER_MAC, PEER, PEER_MAC);
    assert_eq!(out[0].len(), 42, "no padding on a virtual link");
    assert_eq!(out[0], expect);
    // The requester is learned, STALE (flags 0x2).
    let arp = h.proc(ProcNode::NetArp);
    assert_eq!(
        arp,
        "IP address       HW type     Flags       HW address            Mask     Device\n\
         10.0.0.2         0x1         0x2         02:00:00:00:00:01     *        eth0\n"
    );
    // A request for someone else: no reply, nothing learned.
    let other = arp_frame(Operation::Request, PEER_MAC, Ipv4Addr::new(10, 0, 0, 3), EthernetAddress::default(), Ipv4Addr::new(10, 0, 0, 9), EthernetAddress::BROADCAST);
    assert!(h.inject(&other).is_empty());
    assert_eq!(h.proc(ProcNode::NetArp).lines().count(), 2);
    // An RFC 5227 probe (sender 0.0.0.0) for our address: unicast reply, target IP 0.
    let probe = arp_frame(Operation::Request, PEER_MAC, Ipv4Addr::UNSPECIFIED, EthernetAddress::default(), US, EthernetAddress::BROADCAST);
    let out = h.inject(&probe);
    assert_eq!(out, [arp_frame(Operation::Reply, OUR_MAC, US, PEER_MAC, Ipv4Addr::UNSPECIFIED, PEER_MAC)]);
    // Weak host: lo's 127.0.0.1 is not answered (127/8 target), but any other local is.
    let lo = arp_frame(Operation::Request, PEER_MAC, PEER, EthernetAddress::default(), Ipv4Addr::LOCALHOST, EthernetAddress::BROADCAST);
    assert!(h.inject(&lo).is_empty());
}

#[test]
fn echo_request_from_an_unknown_peer_resolves_it_then_replies() {
    let mut h = Host::up();
    let req = echo(1, 0x1234, 7, b"k43 ping data");
    let out = h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0x10, &[], &req, OUR_MAC));
    // The reply waits for ARP: one broadcast request from our address, zero target MAC.
    assert_eq!(out, [arp_frame(Operation::Request, OUR_MAC, US, EthernetAddress::default(), PEER, EthernetAddress::BROADCAST)]);
    let out = h.inject(&arp_frame(Operation::Reply, PEER_MAC, PEER, OUR_MAC, US, OUR_MAC));
    assert_eq!(out.len(), 1);
    let (dmac, hdr, payload) = parse_ip(&out[0]);
    assert_eq!(dmac, PEER_MAC);
    let ip = ipv4::Packet::new_checked(&hdr[..]).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr(), ip.ttl(), ip.protocol(), ip.tos()), (US, PEER, 64, ip_proto::ICMP, 0x10));
    assert!(!ip.dont_frag(), "ICMP replies leave with DF clear (IP_PMTUDISC_DONT)");
    assert_eq!(ip.header_len(), 20);
    let p = icmpv4::Packet::new_checked(&payload[..]).unwrap();
    // 4.3 copies the request's code into the reply.
    assert_eq!(icmpv4::Repr::parse(&p).unwrap(), icmpv4::Repr::EchoReply { code: 1, ident: 0x1234, seq: 7, data: b"k43 ping data" });
    // Resolved (REACHABLE, flags 0x2): the next one goes at once; TTL 1 is delivered.
    let out = h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 1, 0, &[], &echo(0, 1, 2, b"x"), OUR_MAC));
    assert_eq!(out.len(), 1);
    assert!(h.proc(ProcNode::NetArp).contains("10.0.0.2         0x1         0x2         02:00:00:00:00:01"));
    assert_eq!((h.snmp("Icmp", "InEchos"), h.snmp("Icmp", "OutEchoReps")), (2, 2));
    assert_eq!((h.snmp("IcmpMsg", "InType8"), h.snmp("IcmpMsg", "OutType0")), (2, 2));
    assert_eq!(h.snmp("Ip", "InDelivers"), 2);
    assert_eq!(h.snmp("Ip", "OutRequests"), 2);
}

#[test]
fn failed_resolution_sends_three_requests_then_reports_host_unreachable_locally() {
    let mut h = Host::up();
    let out = h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &echo(0, 1, 1, b"?"), OUR_MAC));
    assert_eq!(out.len(), 1);
    let more = h.run_for(10_000_000_000);
    assert_eq!(more.len(), 2, "3 requests in all, 1 s apart");
    for f in &more {
        assert_eq!(f[..], arp_frame(Operation::Request, OUR_MAC, US, EthernetAddress::default(), PEER, EthernetAddress::BROADCAST)[..]);
    }
    // dst_link_failure: Destination Unreachable code 1 about our reply, to ourselves by lo.
    assert_eq!((h.snmp("IcmpMsg", "OutType3"), h.snmp("IcmpMsg", "InType3")), (1, 1));
    assert!(h.proc(ProcNode::NetArp).contains("0x0         00:00:00:00:00:00"), "FAILED entry stays until GC");
}

#[test]
fn udp_to_a_closed_port_quotes_up_to_576_bytes() {
    let mut h = Host::up_knowing_peer();
    let u = udp_dgram(PEER, US, 9, b"hello");
    let f = ip_frame(PEER, US, ip_proto::UDP, 64, 0x04, &[], &u, OUR_MAC);
    let out = h.inject(&f);
    assert_eq!(out.len(), 1);
    let (_, hdr, payload) = parse_ip(&out[0]);
    let ip = ipv4::Packet::new_checked(&hdr[..]).unwrap();
    // Errors: our address as source, precedence "internetwork control", TTL 64, DF clear.
    assert_eq!((ip.src_addr(), ip.dst_addr(), ip.tos(), ip.ttl(), ip.dont_frag()), (US, PEER, 0xc4, 64, false));
    let p = icmpv4::Packet::new_checked(&payload[..]).unwrap();
    assert_eq!(icmpv4::Repr::parse(&p).unwrap(), icmpv4::Repr::DstUnreachable { code: 3, mtu: 0, data: &f[14..] });
    // A big datagram: the quote stops so the error is 576 bytes.
    let u = udp_dgram(PEER, US, 9, &[7u8; 1000]);
    let f = ip_frame(PEER, US, ip_proto::UDP, 64, 0, &[], &u, OUR_MAC);
    let out = h.inject(&f);
    let (_, _, payload) = parse_ip(&out[0]);
    assert_eq!(out[0].len(), 14 + 576);
    assert_eq!(&payload[8..], &f[14..14 + 548]);
    // A zero checksum means none: still Port Unreachable. A wrong one: silent drop.
    let mut u = udp_dgram(PEER, US, 9, b"zero");
    u[6] = 0;
    u[7] = 0;
    assert_eq!(h.inject(&ip_frame(PEER, US, ip_proto::UDP, 64, 0, &[], &u, OUR_MAC)).len(), 1);
    let mut u = udp_dgram(PEER, US, 9, b"bad");
    u[6] ^= 0x55;
    assert!(h.inject(&ip_frame(PEER, US, ip_proto::UDP, 64, 0, &[], &u, OUR_MAC)).is_empty());
    assert_eq!((h.snmp("Udp", "NoPorts"), h.snmp("Udp", "InCsumErrors"), h.snmp("Udp", "InErrors")), (3, 1, 1));
    // To the subnet broadcast: no error (and no socket).
    let u = udp_dgram(PEER, Ipv4Addr::new(10, 0, 0, 255), 9, b"b");
    assert!(h.inject(&ip_frame(PEER, Ipv4Addr::new(10, 0, 0, 255), ip_proto::UDP, 64, 0, &[], &u, EthernetAddress::BROADCAST)).is_empty());
    assert_eq!(h.snmp("Udp", "IgnoredMulti"), 1);
    // Rate limit: a burst of 6 per destination, the fourth through ninth errors here.
    let u = udp_dgram(PEER, US, 9, b"r");
    let f = ip_frame(PEER, US, ip_proto::UDP, 64, 0, &[], &u, OUR_MAC);
    let sent: usize = (0..10).map(|_| h.inject(&f).len()).sum();
    assert_eq!(sent, 3, "3 errors left of the burst of 6");
}

#[test]
fn header_checks_and_their_counters() {
    let mut h = Host::up_knowing_peer();
    let good = ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &echo(0, 1, 1, b"a"), OUR_MAC);
    // Bad header checksum: dropped, InCsumErrors and InHdrErrors.
    let mut f = good.clone();
    f[14 + 10] ^= 0xff;
    assert!(h.inject(&f).is_empty());
    assert_eq!((h.snmp("Ip", "InHdrErrors"), h.snmp("IpExt", "InCsumErrors")), (1, 1));
    // Version 6 in an IPv4 frame, IHL 4: header errors.
    let mut f = good.clone();
    f[14] = 0x65;
    assert!(h.inject(&f).is_empty());
    let mut f = good.clone();
    f[14] = 0x44;
    assert!(h.inject(&f).is_empty());
    assert_eq!(h.snmp("Ip", "InHdrErrors"), 3);
    // Total Length past the frame: truncated.
    let mut f = good.clone();
    f[14 + 3] = 200;
    ipv4::Packet::new_unchecked(&mut f[14..]).fill_checksum();
    assert!(h.inject(&f).is_empty());
    assert_eq!(h.snmp("IpExt", "InTruncatedPkts"), 1);
    // Ethernet padding after Total Length is trimmed, not an error.
    let mut f = good.clone();
    f.extend_from_slice(&[0; 20]);
    assert_eq!(h.inject(&f).len(), 1);
    // Martians: our own address as source, 127/8 from the wire, a multicast source.
    for (s, d) in [(US, US), (PEER, Ipv4Addr::new(127, 0, 0, 1)), (Ipv4Addr::new(224, 1, 1, 1), US)] {
        assert!(h.inject(&ip_frame(s, d, ip_proto::ICMP, 64, 0, &[], &echo(0, 1, 1, b"m"), OUR_MAC)).is_empty());
    }
    // A host with a unicast destination that is not ours: silent, InAddrErrors.
    assert!(h.inject(&ip_frame(PEER, Ipv4Addr::new(10, 0, 0, 7), ip_proto::ICMP, 64, 0, &[], &echo(0, 1, 1, b"f"), OUR_MAC)).is_empty());
    assert!(h.inject(&ip_frame(PEER, Ipv4Addr::new(192, 0, 2, 1), ip_proto::ICMP, 64, 0, &[], &echo(0, 1, 1, b"f"), OUR_MAC)).is_empty());
    assert_eq!(h.snmp("Ip", "InAddrErrors"), 2);
    // A bad ICMP checksum: silent, counted.
    let mut e = echo(0, 1, 1, b"c");
    e[2] ^= 1;
    assert!(h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &e, OUR_MAC)).is_empty());
    assert_eq!((h.snmp("Icmp", "InCsumErrors"), h.snmp("Icmp", "InErrors")), (1, 1));
    // A frame for another MAC: not even counted as received.
    let before = h.snmp("Ip", "InReceives");
    let mut f = good;
    f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
    assert!(h.inject(&f).is_empty());
    assert_eq!(h.snmp("Ip", "InReceives"), before);
}

#[test]
fn broadcast_echo_is_ignored_and_unknown_protocols_are_unreachable() {
    let mut h = Host::up_knowing_peer();
    for d in [Ipv4Addr::new(10, 0, 0, 255), Ipv4Addr::BROADCAST] {
        assert!(h.inject(&ip_frame(PEER, d, ip_proto::ICMP, 64, 0, &[], &echo(0, 1, 1, b"b"), EthernetAddress::BROADCAST)).is_empty());
    }
    assert_eq!((h.snmp("IpExt", "InBcastPkts"), h.snmp("Icmp", "InErrors")), (2, 2));
    // A unicast datagram inside a broadcast frame is accepted, but errors about it are
    // not sent (pkt_type is not PACKET_HOST); the echo reply is.
    assert_eq!(h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &echo(0, 1, 1, b"u"), EthernetAddress::BROADCAST)).len(), 1);
    assert!(h.inject(&ip_frame(PEER, US, 253, 64, 0, &[], b"data", EthernetAddress::BROADCAST)).is_empty());
    // Protocol 253 to us: Destination Unreachable code 2, quoting the datagram.
    let f = ip_frame(PEER, US, 253, 64, 0, &[], b"abcdefgh", OUR_MAC);
    let out = h.inject(&f);
    let (_, _, payload) = parse_ip(&out[0]);
    let p = icmpv4::Packet::new_checked(&payload[..]).unwrap();
    assert_eq!(icmpv4::Repr::parse(&p).unwrap(), icmpv4::Repr::DstUnreachable { code: 2, mtu: 0, data: &f[14..] });
    assert_eq!(h.snmp("Ip", "InUnknownProtos"), 2);
    // No error about an ICMP error.
    let err = icmpv4::Repr::DstUnreachable { code: 3, mtu: 0, data: &f[14..] };
    let mut m = vec![0u8; err.buffer_len()];
    err.emit(&mut icmpv4::Packet::new_unchecked(&mut m[..]));
    assert!(h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &m, OUR_MAC)).is_empty());
}

#[test]
fn options_record_route_echoed_bad_option_answered_source_route_dropped() {
    let mut h = Host::up_knowing_peer();
    // Record Route with nine empty slots: the reply shows our address twice.
    let mut rr = vec![7u8, 39, 4];
    rr.resize(40, 0);
    let out = h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &rr, &echo(0, 9, 9, b"rr"), OUR_MAC));
    assert_eq!(out.len(), 1);
    let (_, hdr, _) = parse_ip(&out[0]);
    assert_eq!(ipv4::Packet::new_checked(&hdr[..]).unwrap().header_len(), 60);
    assert_eq!(&hdr[20..23], &[7, 39, 12]);
    assert_eq!(&hdr[23..27], &US.octets());
    assert_eq!(&hdr[27..31], &US.octets());
    // Record Route with length 2: Parameter Problem pointing at the length byte (21).
    let bad = [7u8, 2, 4, 0];
    let f = ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &bad, &echo(0, 1, 1, b"p"), OUR_MAC);
    let out = h.inject(&f);
    assert_eq!(out.len(), 1);
    let (_, _, payload) = parse_ip(&out[0]);
    let p = icmpv4::Packet::new_checked(&payload[..]).unwrap();
    assert!(matches!(icmpv4::Repr::parse(&p).unwrap(), icmpv4::Repr::ParamProblem { code: 0, pointer: 21, .. }));
    assert_eq!(h.snmp("Ip", "InHdrErrors"), 1);
    // Loose source route, exhausted, to us: dropped (accept_source_route 0).
    let lsrr = [131u8, 7, 8, 10, 0, 0, 9, 0];
    assert!(h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &lsrr, &echo(0, 1, 1, b"s"), OUR_MAC)).is_empty());
}

#[test]
fn fragmented_echo_is_reassembled_and_the_reply_fragmented() {
    let mut h = Host::up_knowing_peer();
    let data = vec![0x5au8; 2000];
    let req = echo(0, 3, 4, &data);
    let whole = ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &req, OUR_MAC);
    // Split the datagram's payload at 1480 bytes.
    let ipd = &whole[14..];
    let (a, b) = (&ipd[20..20 + 1480], &ipd[20 + 1480..]);
    let mk = |chunk: &[u8], off: u16, mf: bool| {
        let mut f = ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], chunk, OUR_MAC);
        let mut p = ipv4::Packet::new_unchecked(&mut f[14..]);
        p.set_frag_offset(off);
        p.set_more_frags(mf);
        p.fill_checksum();
        f
    };
    assert!(h.inject(&mk(a, 0, true)).is_empty());
    let out = h.inject(&mk(b, 1480, false));
    assert_eq!(out.len(), 2, "the 2028-byte reply leaves in two fragments");
    let (_, h1, p1) = parse_ip(&out[0]);
    let (_, h2, p2) = parse_ip(&out[1]);
    let (i1, i2) = (ipv4::Packet::new_checked(&h1[..]).unwrap(), ipv4::Packet::new_checked(&h2[..]).unwrap());
    assert_eq!((p1.len(), i1.more_frags(), i2.frag_offset(), i2.more_frags()), (1480, true, 1480, false));
    assert_eq!(i1.ident(), i2.ident());
    let mut reply = p1.clone();
    reply.extend_from_slice(&p2);
    assert!(checksum::verifies(&reply));
    assert_eq!(&reply[8..], &data[..]);
    assert_eq!((h.snmp("Ip", "ReasmOKs"), h.snmp("Ip", "FragOKs"), h.snmp("Ip", "FragCreates")), (1, 1, 2));
}

#[test]
fn reassembly_timeout_answers_time_exceeded_quoting_the_first_fragment() {
    let mut h = Host::up_knowing_peer();
    let req = echo(0, 5, 6, &[1u8; 64]);
    let mut f = ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &req[..40], OUR_MAC);
    {
        let mut p = ipv4::Packet::new_unchecked(&mut f[14..]);
        p.set_more_frags(true);
        p.fill_checksum();
    }
    assert!(h.inject(&f).is_empty());
    assert!(h.run_for(29_000_000_000).is_empty());
    let out = h.run_for(2_000_000_000);
    assert_eq!(out.len(), 1, "ipfrag_time is 30 s");
    let (_, _, payload) = parse_ip(&out[0]);
    let p = icmpv4::Packet::new_checked(&payload[..]).unwrap();
    assert_eq!(icmpv4::Repr::parse(&p).unwrap(), icmpv4::Repr::TimeExceeded { code: 1, data: &f[14..] });
    assert_eq!((h.snmp("Ip", "ReasmTimeout"), h.snmp("Ip", "ReasmFails")), (1, 1));
    // Only the first fragment earns one: a lone second fragment times out silently.
    let mut g = ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &req[40..], OUR_MAC);
    {
        let mut p = ipv4::Packet::new_unchecked(&mut g[14..]);
        p.set_frag_offset(40);
        p.fill_checksum();
    }
    assert!(h.inject(&g).is_empty());
    let later = h.run_for(40_000_000_000);
    // Only the unicast ARP probes of the peer's entry (STALE, used by the error above:
    // DELAY, then PROBE).
    assert!(later.iter().all(|f| f[12..14] == [0x08, 0x06] && f[0..6] == PEER_MAC.0), "{later:02x?}");
    assert_eq!(later.len(), 3);
    assert_eq!(h.snmp("Ip", "ReasmTimeout"), 2);
}

#[test]
fn timestamp_request_is_answered() {
    let mut h = Host::up_knowing_peer();
    let mut m = vec![13u8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0, 0, 0, 0, 0];
    let c = checksum::checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    let out = h.inject(&ip_frame(PEER, US, ip_proto::ICMP, 64, 0, &[], &m, OUR_MAC));
    assert_eq!(out.len(), 1);
    let (_, _, r) = parse_ip(&out[0]);
    assert_eq!(r.len(), 20);
    assert_eq!(&r[..2], &[14, 0]);
    assert_eq!(&r[4..12], &m[4..12], "identifier, sequence and originate timestamp kept");
    assert_eq!(&r[12..16], &r[16..20], "receive = transmit");
}

#[test]
fn garbage_frames_never_panic() {
    let mut h = Host::up_knowing_peer();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..20_000 {
        let len = (next() % 200) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let arp = i % 3 == 0;
        if !arp && body.len() >= 20 {
            // Mostly-valid headers so the deeper layers see garbage too.
            let ihl = 5 + (next() % 11) as u8;
            body[0] = 0x40 | ihl;
            let tot = if next() % 4 == 0 { next() as u16 } else { body.len() as u16 };
            body[2..4].copy_from_slice(&tot.to_be_bytes());
            body[12..16].copy_from_slice(&PEER.octets());
            if next() % 2 == 0 {
                body[16..20].copy_from_slice(&US.octets());
            }
            body[9] = [1u8, 17, 2, 253][(next() % 4) as usize];
            if next() % 2 == 0 {
                body[6..8].copy_from_slice(&[0, 0]);
            }
            let hl = (usize::from(ihl) * 4).min(body.len());
            body[10..12].copy_from_slice(&[0, 0]);
            let c = checksum::checksum(&body[..hl]);
            body[10..12].copy_from_slice(&c.to_be_bytes());
        }
        let mut f = vec![0u8; 14];
        f[0..6].copy_from_slice(&if next() % 5 == 0 { EthernetAddress::BROADCAST.0 } else { OUR_MAC.0 });
        f[6..12].copy_from_slice(&PEER_MAC.0);
        f[12..14].copy_from_slice(if arp { &[0x08, 0x06] } else { &[0x08, 0x00] });
        f.extend_from_slice(&body);
        h.inject(&f);
        if i % 1000 == 0 {
            h.run_for(5_000_000_000);
        }
    }
    h.run_for(60_000_000_000);
}

/// A router with two NICs (spec net-ipv6.md §10, `ip_forward`): with
/// `net.ipv4.ip_forward` 0 a datagram for elsewhere is counted in `InAddrErrors` and
/// dropped; with 1 it leaves eth1 towards the next hop with the TTL one less and the
/// checksum patched (nothing else changes), counted in `ForwDatagrams`; TTL 1 is
/// answered with Time Exceeded from eth0's address; a DF datagram over eth1's MTU with
/// Fragmentation Needed carrying the MTU; one without DF is fragmented.
#[test]
fn router_forwards_decrements_ttl_and_answers_its_errors() {
    let hal = SimHal::new(SimConfig { seed: 3, ram_bytes: 16 << 20, cpus: 1 });
    hal.nics.add(OUR_MAC.0);
    hal.nics.add([0x52, 0x54, 0x00, 0x12, 0x34, 0x57]);
    let mut h = Host { k: Kernel::new(hal, KernelConfig::default()) };
    for i in 1..=3 {
        h.k.dev_open(i).unwrap();
    }
    h.k.inet_addr_add(2, US, 24).unwrap();
    h.k.inet_addr_add(3, Ipv4Addr::new(10, 0, 1, 1), 24).unwrap();
    h.run_for(3_000_000_000);
    h.k.hal.nics.take_transmitted(1);
    let far = Ipv4Addr::new(10, 0, 1, 9);
    let far_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x09]);
    // The sender and the receiver make themselves known (ARP requests for us).
    h.inject(&arp_frame(Operation::Request, PEER_MAC, PEER, EthernetAddress::default(), US, EthernetAddress::BROADCAST));
    h.k.netif_receive(1, &arp_frame(Operation::Request, far_mac, far, EthernetAddress::default(), Ipv4Addr::new(10, 0, 1, 1), EthernetAddress::BROADCAST));
    h.k.hal.nics.take_transmitted(1);

    let f = ip_frame(PEER, far, 253, 9, 0, &[], b"forward me", OUR_MAC);
    assert!(h.inject(&f).is_empty() && h.k.hal.nics.take_transmitted(1).is_empty());
    assert_eq!(h.snmp("Ip", "InAddrErrors"), 1);
    assert!(h.proc(ProcNode::NetSnmp).contains("\nIp: 2 64 "), "Forwarding is 2 (off)");

    let idx = h.k.vfs.sysctl.find("net/ipv4/ip_forward").unwrap();
    h.k.vfs.sysctl.write(idx, b"1\n").unwrap();
    assert!(h.proc(ProcNode::NetSnmp).contains("\nIp: 1 64 "), "Forwarding is 1 (on)");
    h.k.netif_receive(0, &f);
    let out = h.k.hal.nics.take_transmitted(1);
    assert_eq!(out.len(), 1);
    assert_eq!(&out[0][0..6], &far_mac.0);
    let mut expect = f[14..].to_vec();
    expect[8] = 8;
    let mut e = ipv4::Packet::new_unchecked(&mut expect[..]);
    e.fill_checksum();
    assert_eq!(&out[0][14..], &expect[..], "only the TTL and the checksum change");
    assert_eq!(h.snmp("Ip", "ForwDatagrams"), 1);

    // TTL 1: Time Exceeded, from the address facing the sender, quoting the datagram.
    let out = h.inject(&ip_frame(PEER, far, 253, 1, 0, &[], b"x", OUR_MAC));
    assert_eq!(out.len(), 1);
    let (_, ip, msg) = parse_ip(&out[0]);
    let ip = ipv4::Packet::new_unchecked(&ip[..]);
    assert_eq!((ip.src_addr(), ip.dst_addr()), (US, PEER));
    assert_eq!((msg[0], msg[1]), (11, 0));
    assert_eq!(h.snmp("Ip", "InHdrErrors"), 1);

    // DF and over eth1's 1500 bytes: Fragmentation Needed with MTU 1500; no DF: two
    // fragments on eth1.
    let big = vec![0x5a; 1600];
    let mut df = ip_frame(PEER, far, 253, 9, 0, &[], &big, OUR_MAC);
    ipv4::Packet::new_unchecked(&mut df[14..]).set_dont_frag(true);
    ipv4::Packet::new_unchecked(&mut df[14..]).fill_checksum();
    let out = h.inject(&df);
    let (_, _, msg) = parse_ip(&out[0]);
    assert_eq!((msg[0], msg[1], u16::from_be_bytes([msg[6], msg[7]])), (3, 4, 1500));
    assert_eq!(h.snmp("Ip", "FragFails"), 1);
    h.k.netif_receive(0, &ip_frame(PEER, far, 253, 9, 0, &[], &big, OUR_MAC));
    let out = h.k.hal.nics.take_transmitted(1);
    assert_eq!(out.len(), 2, "fragmented");
    assert_eq!((h.snmp("Ip", "FragOKs"), h.snmp("Ip", "FragCreates")), (1, 2));
}
