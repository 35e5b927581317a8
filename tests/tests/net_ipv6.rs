//! The IPv6 host stack on one simulated NIC, driven by frames: link-local configuration
//! and DAD when the link comes up, answering Neighbour Solicitations, Echo Requests,
//! ICMPv6 errors (port unreachable, unknown next header, no route), checksum drops and
//! the MIB counters they move. Every emitted frame is re-parsed and its checksum checked.

use hal_sim::{SimConfig, SimHal};
use kernel::net::wire::ethernet::{self, EtherType};
use kernel::net::wire::{icmpv6, ip_proto, ipv6, ndisc, EthernetAddress, Ipv6Addr};
use kernel::{Kernel, KernelConfig};
use harness::frames::icmpv6 as icmp;

const OUR_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const PEER_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

struct Host {
    k: Kernel<SimHal>,
}

impl Host {
    /// One NIC, `lo` and `eth0` up, `2001:db8::1/64` added, DAD done.
    fn up() -> Host {
        let hal = SimHal::new(SimConfig { seed: 7, ram_bytes: 16 << 20, cpus: 1 });
        hal.nics.add(OUR_MAC);
        let mut h = Host { k: Kernel::new(hal, KernelConfig::default()) };
        h.k.dev_open(1).unwrap();
        h.k.dev_open(2).unwrap();
        h.k.inet6_addr_add(2, a("2001:db8::1"), 64, 0).unwrap();
        h
    }

    /// Runs timers until none is due within `ns` of now; returns the frames sent.
    fn run_for(&mut self, ns: u64) -> Vec<Vec<u8>> {
        harness::sim::run_timers_for(&mut self.k, ns);
        self.sent()
    }

    fn sent(&mut self) -> Vec<Vec<u8>> {
        self.k.hal.nics.take_transmitted(0)
    }

    fn inject(&mut self, frame: &[u8]) -> Vec<Vec<u8>> {
        self.k.netif_receive(0, frame);
        self.sent()
    }

    fn snmp6(&self, name: &str) -> u64 {
        let t = String::from_utf8(self.k.proc_read(kernel::fs::proc::ProcNode::NetSnmp6).unwrap()).unwrap();
        t.lines().find_map(|l| l.split_once('\t').filter(|(n, _)| n.trim() == name).map(|(_, v)| v.trim().parse().unwrap())).unwrap()
    }
}

/// An Ethernet + IPv6 frame from the peer to us (or to `dst`'s group MAC).
fn frame(src: Ipv6Addr, dst: Ipv6Addr, nh: u8, hop: u8, payload: &[u8]) -> Vec<u8> {
    let dmac = if dst.is_multicast() { EthernetAddress::from_ipv6_multicast(&dst) } else { EthernetAddress(OUR_MAC) };
    harness::frames::eth_ipv6(PEER_MAC, dmac, src, dst, nh, hop, 0, payload)
}


/// An emitted frame, parsed: (dst MAC, IPv6 header repr, upper-layer bytes). Panics if
/// it does not re-parse or its ICMPv6 checksum is wrong.
fn parse(f: &[u8]) -> (EthernetAddress, ipv6::Repr, Vec<u8>) {
    let e = ethernet::Packet::new_checked(f).expect("ethernet");
    assert_eq!(e.ethertype(), EtherType::IPV6);
    assert_eq!(e.src_addr(), EthernetAddress(OUR_MAC));
    let p = ipv6::Packet::new_checked(e.payload()).expect("ipv6");
    let r = ipv6::Repr::parse(&p).expect("ipv6 repr");
    if r.next_header == ip_proto::ICMPV6 {
        assert!(icmpv6::checksum_ok(&r.src_addr, &r.dst_addr, p.payload()), "bad ICMPv6 checksum");
    }
    (e.dst_addr(), r, p.payload().to_vec())
}

#[test]
fn link_up_runs_dad_then_answers_ns_and_echo() {
    let hal = SimHal::new(SimConfig { seed: 7, ram_bytes: 16 << 20, cpus: 1 });
    hal.nics.add(OUR_MAC);
    let mut k = Host { k: Kernel::new(hal, KernelConfig::default()) };
    k.k.dev_open(2).unwrap();
    // DAD for the EUI-64 link-local: one NS from :: to its solicited-node group, within
    // the first second, no SLLA option, hop limit 255.
    let sent = k.run_for(900_000_000);
    assert_eq!(sent.len(), 1, "one DAD probe");
    let (dmac, ip, msg) = parse(&sent[0]);
    let ll = a("fe80::5054:ff:fe12:3456");
    assert_eq!(ip.src_addr, Ipv6Addr::UNSPECIFIED);
    assert_eq!(ip.dst_addr, a("ff02::1:ff12:3456"));
    assert_eq!(dmac, EthernetAddress([0x33, 0x33, 0xff, 0x12, 0x34, 0x56]));
    assert_eq!((ip.hop_limit, ip.flow_label), (255, 0));
    let p = ndisc::Packet::new_checked(&msg[..]).unwrap();
    assert_eq!(ndisc::Repr::parse(&p).unwrap(), ndisc::Repr::NeighborSolicit { target: ll, lladdr: None });
    // Nothing more: DAD succeeds a second later, silently.
    assert!(k.run_for(2_000_000_000).is_empty());
}

#[test]
fn neighbour_solicitation_is_answered_with_a_solicited_override_na() {
    let mut h = Host::up();
    h.run_for(3_000_000_000);
    let peer = a("2001:db8::2");
    let ns = icmp(peer, a("ff02::1:ff00:1"), &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: a("2001:db8::1"), lladdr: Some(PEER_MAC) }));
    let out = h.inject(&frame(peer, a("ff02::1:ff00:1"), ip_proto::ICMPV6, 255, &ns));
    assert_eq!(out.len(), 1);
    let (dmac, ip, msg) = parse(&out[0]);
    assert_eq!((dmac, ip.src_addr, ip.dst_addr, ip.hop_limit), (PEER_MAC, a("2001:db8::1"), peer, 255));
    let p = ndisc::Packet::new_checked(&msg[..]).unwrap();
    assert_eq!(
        ndisc::Repr::parse(&p).unwrap(),
        ndisc::Repr::NeighborAdvert { flags: ndisc::NA_SOLICITED | ndisc::NA_OVERRIDE, target: a("2001:db8::1"), lladdr: Some(EthernetAddress(OUR_MAC)) }
    );
    // Hop limit 254: not from the link, ignored.
    assert!(h.inject(&frame(peer, a("ff02::1:ff00:1"), ip_proto::ICMPV6, 254, &ns)).is_empty());
}

#[test]
fn echo_request_gets_a_reply_after_resolution() {
    let mut h = Host::up();
    h.run_for(3_000_000_000);
    let peer = a("2001:db8::2");
    let req = icmp(peer, a("2001:db8::1"), &icmpv6::Repr::EchoRequest { code: 0, ident: 0x1234, seq: 7, data: b"k43 ping" });
    // The peer is unknown: the reply waits while an NS resolves it.
    let out = h.inject(&frame(peer, a("2001:db8::1"), ip_proto::ICMPV6, 64, &req));
    assert_eq!(out.len(), 1, "an NS first");
    let (dmac, ip, msg) = parse(&out[0]);
    assert_eq!((dmac, ip.dst_addr, ip.src_addr), (EthernetAddress([0x33, 0x33, 0xff, 0, 0, 2]), a("ff02::1:ff00:2"), a("2001:db8::1")));
    assert!(matches!(ndisc::Repr::parse(&ndisc::Packet::new_checked(&msg[..]).unwrap()).unwrap(), ndisc::Repr::NeighborSolicit { lladdr: Some(_), .. }));
    // The NA releases the queued reply.
    let na = icmp(peer, a("2001:db8::1"), &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborAdvert { flags: ndisc::NA_SOLICITED | ndisc::NA_OVERRIDE, target: peer, lladdr: Some(PEER_MAC) }));
    let out = h.inject(&frame(peer, a("2001:db8::1"), ip_proto::ICMPV6, 255, &na));
    assert_eq!(out.len(), 1);
    let (dmac, ip, msg) = parse(&out[0]);
    assert_eq!((dmac, ip.src_addr, ip.dst_addr, ip.hop_limit), (PEER_MAC, a("2001:db8::1"), peer, 64));
    assert_eq!(ip.flow_label & 0x80000, 0x80000, "4.3's automatic flow label sets the stateless bit");
    let p = icmpv6::Packet::new_checked(&msg[..]).unwrap();
    assert_eq!(icmpv6::Repr::parse(&a("2001:db8::1"), &peer, &p).unwrap(), icmpv6::Repr::EchoReply { code: 0, ident: 0x1234, seq: 7, data: b"k43 ping" });
    // Resolved now: the next request is answered at once.
    assert_eq!(h.inject(&frame(peer, a("2001:db8::1"), ip_proto::ICMPV6, 64, &req)).len(), 1);
    assert_eq!((h.snmp6("Icmp6InEchos"), h.snmp6("Icmp6OutEchoReplies")), (2, 2));
}

#[test]
fn errors_port_unreachable_unknown_header_and_bad_checksum() {
    let mut h = Host::up();
    h.run_for(3_000_000_000);
    let peer = a("2001:db8::2");
    // Learn the peer first (an NS with its SLLA).
    let ns = icmp(peer, a("ff02::1:ff00:1"), &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: a("2001:db8::1"), lladdr: Some(PEER_MAC) }));
    h.inject(&frame(peer, a("ff02::1:ff00:1"), ip_proto::ICMPV6, 255, &ns));

    // UDP to a closed port: Port Unreachable quoting the whole packet.
    let mut udp = vec![0x30, 0x39, 0x00, 0x07, 0, 12, 0, 0, b'a', b'b', b'c', b'd'];
    let c = !kernel::net::wire::checksum::fold(kernel::net::wire::checksum::combine(&[
        kernel::net::wire::checksum::pseudo_header_v6(&peer, &a("2001:db8::1"), 17, 12),
        kernel::net::wire::checksum::sum(&udp),
    ]));
    udp[6..8].copy_from_slice(&(!c).to_be_bytes());
    let f = frame(peer, a("2001:db8::1"), ip_proto::UDP, 64, &udp);
    let out = h.inject(&f);
    assert_eq!(out.len(), 1);
    let (_, ip, msg) = parse(&out[0]);
    let p = icmpv6::Packet::new_checked(&msg[..]).unwrap();
    assert_eq!(icmpv6::Repr::parse(&ip.src_addr, &ip.dst_addr, &p).unwrap(), icmpv6::Repr::DstUnreachable { code: 4, data: &f[14..] });
    assert_eq!(h.snmp6("Udp6NoPorts"), 1);

    // Next header 253, nothing handles it: Parameter Problem code 1, pointer 6.
    let out = h.inject(&frame(peer, a("2001:db8::1"), 253, 64, b"xxxxxxxx"));
    let (_, ip, msg) = parse(&out[0]);
    let p = icmpv6::Packet::new_checked(&msg[..]).unwrap();
    assert!(matches!(icmpv6::Repr::parse(&ip.src_addr, &ip.dst_addr, &p).unwrap(), icmpv6::Repr::ParamProblem { code: 1, pointer: 6, .. }));
    assert_eq!(h.snmp6("Ip6InUnknownProtos"), 1);

    // A corrupted Echo Request: counted, not answered.
    let mut req = icmp(peer, a("2001:db8::1"), &icmpv6::Repr::EchoRequest { code: 0, ident: 1, seq: 1, data: b"x" });
    req[8] ^= 1;
    assert!(h.inject(&frame(peer, a("2001:db8::1"), ip_proto::ICMPV6, 64, &req)).is_empty());
    assert_eq!(h.snmp6("Icmp6InCsumErrors"), 1);

    // No route to 2001:db9::/64 on a host without a default route: code 0.
    let out = h.inject(&frame(peer, a("2001:db9::5"), ip_proto::UDP, 64, &udp));
    let (_, ip, msg) = parse(&out[0]);
    let p = icmpv6::Packet::new_checked(&msg[..]).unwrap();
    assert!(matches!(icmpv6::Repr::parse(&ip.src_addr, &ip.dst_addr, &p).unwrap(), icmpv6::Repr::DstUnreachable { code: 0, .. }));
    assert_eq!(h.snmp6("Ip6InNoRoutes"), 1);
}

#[test]
fn frames_for_others_and_short_frames_are_dropped() {
    let mut h = Host::up();
    h.run_for(3_000_000_000);
    let mut f = frame(a("2001:db8::2"), a("2001:db8::1"), 253, 64, b"12345678");
    f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
    assert!(h.inject(&f).is_empty(), "PACKET_OTHERHOST");
    assert!(h.inject(&[0u8; 10]).is_empty());
    // Truncated: the payload length says more than the frame holds.
    let mut t = frame(a("2001:db8::2"), a("2001:db8::1"), 253, 64, b"12345678");
    t[14 + 5] = 200;
    assert!(h.inject(&t).is_empty());
    assert_eq!(h.snmp6("Ip6InTruncatedPkts"), 1);
}

/// A router with two NICs: forwarding off drops (InAddrErrors); on, it decrements the hop
/// limit and forwards unchanged otherwise, answers hop limit 1 with Time Exceeded from
/// the address facing the sender, a link-local source with Destination Unreachable
/// code 2, and a packet over the output MTU with Packet Too Big (never fragments).
#[test]
fn router_forwards_and_sends_its_errors() {
    let hal = SimHal::new(SimConfig { seed: 3, ram_bytes: 16 << 20, cpus: 1 });
    hal.nics.add(OUR_MAC);
    hal.nics.add([0x52, 0x54, 0x00, 0x12, 0x34, 0x57]);
    let mut h = Host { k: Kernel::new(hal, KernelConfig::default()) };
    for i in 1..=3 {
        h.k.dev_open(i).unwrap();
    }
    h.k.inet6_addr_add(2, a("2001:db8:1::1"), 64, 0).unwrap();
    h.k.inet6_addr_add(3, a("2001:db8:2::1"), 64, 0).unwrap();
    h.run_for(3_000_000_000);
    h.k.hal.nics.take_transmitted(1);
    let (src, dst) = (a("2001:db8:1::2"), a("2001:db8:2::9"));
    // Learn the sender on eth0 and the receiver on eth1 (NS with SLLA options).
    let learn = |h: &mut Host, nic: u32, peer: Ipv6Addr, ours: Ipv6Addr, mac: EthernetAddress| {
        let sn = a(&format!("ff02::1:ff00:{:x}", ours.octets()[15]));
        let ns = icmp(peer, sn, &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: ours, lladdr: Some(mac) }));
        let mut f = frame(peer, sn, ip_proto::ICMPV6, 255, &ns);
        f[6..12].copy_from_slice(&mac.0);
        h.k.netif_receive(nic, &f);
        h.k.hal.nics.take_transmitted(0);
        h.k.hal.nics.take_transmitted(1);
    };
    learn(&mut h, 0, src, a("2001:db8:1::1"), PEER_MAC);
    let far_mac = EthernetAddress([0x02, 0, 0, 0, 0, 0x02]);
    learn(&mut h, 1, dst, a("2001:db8:2::1"), far_mac);

    let f = frame(src, dst, 253, 9, b"forward me");
    // Forwarding off: a host drops it.
    assert!(h.inject(&f).is_empty() && h.k.hal.nics.take_transmitted(1).is_empty());
    assert_eq!(h.snmp6("Ip6InAddrErrors"), 1);
    let idx = h.k.vfs.sysctl.find("net/ipv6/conf/all/forwarding").unwrap();
    h.k.vfs.sysctl.write(idx, b"1\n").unwrap();
    h.k.netif_receive(0, &f);
    let out = h.k.hal.nics.take_transmitted(1);
    assert_eq!(out.len(), 1);
    assert_eq!(&out[0][0..6], &far_mac.0);
    let mut expect = f[14..].to_vec();
    expect[7] = 8;
    assert_eq!(&out[0][14..], &expect[..], "only the hop limit changes");
    assert_eq!(h.snmp6("Ip6OutForwDatagrams"), 1);

    // Hop limit 1: Time Exceeded back to the sender, from eth0's address.
    let out = h.inject(&frame(src, dst, 253, 1, b"x"));
    let (_, ip, msg) = parse(&out[0]);
    assert_eq!((ip.src_addr, ip.dst_addr), (a("2001:db8:1::1"), src));
    assert_eq!((msg[0], msg[1]), (3, 0));

    // A link-local source cannot be forwarded: code 2 (the sender learned first).
    let ll = a("fe80::5054:ff:fe12:3456");
    let ns = icmp(a("fe80::1"), a("ff02::1:ff12:3456"), &icmpv6::Repr::Ndisc(ndisc::Repr::NeighborSolicit { target: ll, lladdr: Some(PEER_MAC) }));
    h.inject(&frame(a("fe80::1"), a("ff02::1:ff12:3456"), ip_proto::ICMPV6, 255, &ns));
    let out = h.inject(&frame(a("fe80::1"), dst, 253, 64, b"x"));
    let (_, _, msg) = parse(&out[0]);
    assert_eq!((msg[0], msg[1]), (1, 2));

    // Larger than eth1's 1500-byte MTU: Packet Too Big with MTU 1500, 1280 bytes long.
    let big = vec![0u8; 1600];
    let out = h.inject(&frame(src, dst, 253, 64, &big));
    let (_, ip, msg) = parse(&out[0]);
    assert_eq!((msg[0], u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]])), (2, 1500));
    assert_eq!(40 + msg.len(), 1280);
    assert_eq!(ip.dst_addr, src);
}
