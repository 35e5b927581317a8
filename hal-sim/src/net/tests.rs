//! Topology, timing, switching, capture and determinism tests (faults are in
//! `tests_faults.rs`).

use super::*;

/// A locally administered unicast address ending in `n`.
pub(super) fn mac(n: u8) -> Mac {
    [0x02, 0, 0, 0, 0, n]
}

pub(super) const BROADCAST: Mac = [0xff; 6];

/// An Ethernet frame with the local experimental EtherType, a 4-byte sequence number
/// and `pad` bytes of pattern after it.
pub(super) fn frame(dst: Mac, src: Mac, seq: u32, pad: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(ETH_HEADER_LEN + 4 + pad);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&0x88b5u16.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend((0..pad).map(|i| i as u8));
    f
}

pub(super) fn seq_of(f: &[u8]) -> u32 {
    u32::from_be_bytes([f[14], f[15], f[16], f[17]])
}

/// Runs the network until nothing is pending (bounded, so a bug cannot hang the test).
pub(super) fn drain(net: &mut Network) -> Vec<Delivery> {
    let mut out = Vec::new();
    for _ in 0..1_000_000 {
        let Some(t) = net.next_deadline() else { return out };
        out.extend(net.deliver_due(t));
    }
    panic!("network did not drain");
}

/// Two hosts (1 and 2) on one link.
pub(super) fn pair(seed: u64, cfg: LinkConfig) -> (Network, PortId, PortId, LinkId) {
    let mut net = Network::new(seed);
    let (a, b) = (net.add_nic(1, 0), net.add_nic(2, 0));
    let link = net.connect(a.into(), b.into(), cfg).unwrap();
    (net, a, b, link)
}

/// Hosts 1, 2 and 3 (MACs 1, 2, 3) each on their own link to one switch.
fn star(cfg: SwitchConfig) -> (Network, SwitchId, [PortId; 3]) {
    let mut net = Network::new(7);
    let sw = net.add_switch_with("sw0", cfg).unwrap();
    let ports = [1, 2, 3].map(|h| net.add_nic(h, 0));
    for p in ports {
        net.connect(p.into(), sw.into(), LinkConfig::default()).unwrap();
    }
    (net, sw, ports)
}

fn hosts(d: &[Delivery]) -> Vec<u32> {
    d.iter().map(|d| d.host).collect()
}

#[test]
fn two_hosts_exchange_frames_with_the_link_delay() {
    let (mut net, a, b, link) = pair(1, LinkConfig::default());
    let f = frame(mac(2), mac(1), 1, 50);
    net.transmit(a, f.clone(), 1_000);
    assert_eq!(net.next_deadline(), Some(1_000 + link::DEFAULT_DELAY_NS));
    assert!(net.deliver_due(10_999).is_empty());
    let got = net.deliver_due(11_000);
    assert_eq!(got, vec![Delivery { port: b, host: 2, nic: 0, frame: f, at_ns: 11_000 }]);
    assert_eq!(net.next_deadline(), None);

    let g = frame(mac(1), mac(2), 2, 0);
    net.transmit(b, g.clone(), 20_000);
    let got = drain(&mut net);
    assert_eq!((got[0].port, got[0].host, got[0].at_ns, &got[0].frame), (a, 1, 30_000, &g));
    for dir in Direction::BOTH {
        let c = net.link_counters(link, dir).unwrap();
        assert_eq!((c.sent, c.delivered, c.dropped), (1, 1, 0));
        assert_eq!(net.in_flight(link, dir), Some(0));
    }
}

#[test]
fn deliveries_come_in_time_then_send_order() {
    let (mut net, a, b, _) = pair(1, LinkConfig::default().with_delay(500));
    // Sent out of time order and with ties: delivery sorts by time, ties by send order.
    for (seq, t) in [(1, 300), (2, 100), (3, 300), (4, 200)] {
        net.transmit(a, frame(mac(2), mac(1), seq, 0), t);
    }
    net.transmit(b, frame(mac(1), mac(2), 5, 0), 100);
    let got = net.deliver_due(10_000);
    let order: Vec<(u32, u64)> = got.iter().map(|d| (seq_of(&d.frame), d.at_ns)).collect();
    assert_eq!(order, vec![(2, 600), (5, 600), (4, 700), (1, 800), (3, 800)]);
}

#[test]
fn connect_checks_its_endpoints() {
    let mut net = Network::new(0);
    let (a, b, c) = (net.add_nic(1, 0), net.add_nic(2, 0), net.add_nic(3, 0));
    assert_eq!(net.add_nic(1, 0), a, "the same NIC is the same port");
    let sw = net.add_switch("sw");
    let cfg = LinkConfig::default();
    net.connect(a.into(), b.into(), cfg).unwrap();
    assert_eq!(net.connect(a.into(), c.into(), cfg), Err(NetError::PortBusy(a)));
    assert_eq!(net.connect(c.into(), b.into(), cfg), Err(NetError::PortBusy(b)));
    assert_eq!(net.connect(c.into(), c.into(), cfg), Err(NetError::SelfLink));
    assert_eq!(net.connect(sw.into(), sw.into(), cfg), Err(NetError::SelfLink));
    assert_eq!(net.connect(c.into(), PortId(99).into(), cfg), Err(NetError::NoSuchPort(PortId(99))));
    assert_eq!(net.connect(c.into(), SwitchId(5).into(), cfg), Err(NetError::NoSuchSwitch(SwitchId(5))));
    let bad_rate = LinkConfig { rate_bps: Some(0), ..cfg };
    assert!(matches!(net.connect(c.into(), sw.into(), bad_rate), Err(NetError::BadConfig(_))));
    let bad_plan = cfg.with_faults(FaultPlan { drop_ppm: 2_000_000, ..FaultPlan::NONE });
    assert!(matches!(net.connect(c.into(), sw.into(), bad_plan), Err(NetError::BadConfig(_))));
    // A failed connect leaves the port free.
    net.connect(c.into(), sw.into(), cfg).unwrap();
    assert!(net.add_switch_with("bad", SwitchConfig { latency_ns: 0, ..SwitchConfig::default() }).is_err());
    assert_eq!(net.set_fault_plan(LinkId(9), Direction::AToB, FaultPlan::NONE), Err(NetError::NoSuchLink(LinkId(9))));
    assert_eq!(net.capture(LinkId(9)), Err(NetError::NoSuchLink(LinkId(9))));
    assert!(net.set_max_frame_len(13).is_err() && net.set_max_frame_len(1 << 30).is_err());
    assert_eq!(net.switch_name(sw), Some("sw"));
}

#[test]
fn runts_giants_and_unconnected_ports_are_counted_not_sent() {
    let (mut net, a, _, link) = pair(1, LinkConfig::default());
    let lonely = net.add_nic(9, 0);
    net.transmit(a, vec![0; 13], 0);
    net.transmit(a, vec![0; DEFAULT_MAX_FRAME_LEN + 1], 0);
    net.transmit(a, vec![0; DEFAULT_MAX_FRAME_LEN], 0);
    net.transmit(lonely, frame(BROADCAST, mac(9), 0, 0), 0);
    net.transmit(PortId(1234), frame(BROADCAST, mac(9), 0, 0), 0);
    net.set_max_frame_len(100).unwrap();
    net.transmit(a, vec![0; 101], 0);
    let c = net.counters();
    assert_eq!((c.transmitted, c.runts, c.giants, c.unconnected), (6, 1, 2, 2));
    assert_eq!(drain(&mut net).len(), 1);
    assert_eq!(net.link_counters(link, Direction::AToB).unwrap().sent, 1);
}

#[test]
fn switch_learns_and_stops_flooding_after_the_first_reply() {
    let (mut net, sw, [h1, h2, _]) = star(SwitchConfig::default());
    net.transmit(h1, frame(mac(2), mac(1), 1, 10), 0);
    let got = drain(&mut net);
    assert_eq!(hosts(&got), vec![2, 3], "unknown unicast floods to every other port");
    // NIC -> switch (10 µs), switch latency (1 µs), switch -> NIC (10 µs).
    assert!(got.iter().all(|d| d.at_ns == 21_000));

    net.transmit(h2, frame(mac(1), mac(2), 2, 10), 100_000);
    assert_eq!(hosts(&drain(&mut net)), vec![1], "the reply goes to the learned port only");
    net.transmit(h1, frame(mac(2), mac(1), 3, 10), 200_000);
    assert_eq!(hosts(&drain(&mut net)), vec![2], "host 2 was learned from its reply");

    let c = net.switch_counters(sw).unwrap();
    assert_eq!((c.received, c.flooded, c.forwarded, c.learned), (3, 1, 2, 2));
    let table = net.mac_table(sw, 200_000).unwrap();
    let l1 = net.port_link(h1).unwrap();
    assert_eq!(table.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(), vec![(mac(1), l1), (mac(2), net.port_link(h2).unwrap())]);
}

#[test]
fn broadcast_and_multicast_flood_but_never_return_to_their_port() {
    let (mut net, sw, [h1, h2, h3]) = star(SwitchConfig::default());
    // Teach the switch every host first: group addresses must flood all the same.
    for (i, h) in [h1, h2, h3].into_iter().enumerate() {
        net.transmit(h, frame(BROADCAST, mac(i as u8 + 1), 0, 0), 0);
    }
    let got = drain(&mut net);
    assert_eq!(got.len(), 6);
    assert!(got.iter().all(|d| seq_of(&d.frame) == 0 && d.frame[6..12] != mac(d.host as u8)));
    net.transmit(h2, frame([0x33, 0x33, 0, 0, 0, 1], mac(2), 1, 0), 1_000_000);
    assert_eq!(hosts(&drain(&mut net)), vec![1, 3]);
    // A multicast source is not learned: it says nothing about where a station is.
    net.transmit(h3, frame(mac(1), [0x01, 0, 0x5e, 0, 0, 1], 2, 0), 2_000_000);
    assert_eq!(hosts(&drain(&mut net)), vec![1]);
    assert_eq!(net.mac_table(sw, 2_000_000).unwrap().len(), 3);
    // A destination learned on the arrival port is filtered.
    net.transmit(h1, frame(mac(1), mac(1), 3, 0), 3_000_000);
    assert!(drain(&mut net).is_empty());
    assert_eq!(net.switch_counters(sw).unwrap().filtered, 1);
}

#[test]
fn learned_addresses_age_out_in_virtual_time() {
    let (mut net, sw, [h1, h2, _]) = star(SwitchConfig::default());
    net.transmit(h2, frame(BROADCAST, mac(2), 0, 0), 0);
    drain(&mut net);
    net.transmit(h1, frame(mac(2), mac(1), 1, 0), switch::DEFAULT_AGING_NS - 100_000);
    assert_eq!(hosts(&drain(&mut net)), vec![2], "still alive just before 300 s");
    net.transmit(h1, frame(mac(2), mac(1), 2, 0), switch::DEFAULT_AGING_NS);
    assert_eq!(hosts(&drain(&mut net)), vec![2, 3], "aged out: flooded again");
    let c = net.switch_counters(sw).unwrap();
    assert_eq!((c.aged, c.flooded), (1, 2));
}

#[test]
fn the_mac_table_is_bounded_and_evicts_the_oldest() {
    let cfg = SwitchConfig { table_limit: 4, ..SwitchConfig::default() };
    let (mut net, sw, [h1, _, _]) = star(cfg);
    for n in 10..16u8 {
        net.transmit(h1, frame(BROADCAST, mac(n), 0, 0), u64::from(n) * 1_000);
    }
    drain(&mut net);
    let table: Vec<Mac> = net.mac_table(sw, 20_000).unwrap().into_iter().map(|e| e.0).collect();
    assert_eq!(table, vec![mac(12), mac(13), mac(14), mac(15)]);
    let c = net.switch_counters(sw).unwrap();
    assert_eq!((c.learned, c.evicted), (6, 2));
}

#[test]
fn a_switching_loop_is_bounded_by_the_pending_limit() {
    let mut net = Network::new(3);
    let (s1, s2) = (net.add_switch("s1"), net.add_switch("s2"));
    let h = net.add_nic(1, 0);
    net.connect(h.into(), s1.into(), LinkConfig::default()).unwrap();
    for _ in 0..3 {
        net.connect(s1.into(), s2.into(), LinkConfig::default()).unwrap();
    }
    assert!(net.set_pending_limit(0).is_err() && net.set_pending_limit(MAX_PENDING + 1).is_err());
    net.set_pending_limit(1024).unwrap();
    net.transmit(h, frame(BROADCAST, mac(1), 0, 0), 0);
    // Every hop doubles the copies: the storm fills the pending set and stays there.
    let got = net.deliver_due(300_000);
    assert!(!got.is_empty());
    assert!(net.pending() <= 1024);
    assert!(net.counters().overflow > 0);
}

#[test]
fn capture_records_what_enters_the_link() {
    let (mut net, a, b, link) = pair(1, LinkConfig::default());
    assert_eq!(net.pcap_bytes(link), None);
    net.capture(link).unwrap();
    let frames = [frame(mac(2), mac(1), 1, 100), frame(mac(1), mac(2), 2, 0), frame(BROADCAST, mac(1), 3, 1000)];
    net.transmit(a, frames[0].clone(), 5);
    net.transmit(b, frames[1].clone(), 1_000_000_007);
    net.transmit(a, frames[2].clone(), 3_000_000_000);
    drain(&mut net);
    let bytes = net.pcap_bytes(link).unwrap();
    assert_eq!(&bytes[0..4], &pcap::PCAP_MAGIC_NS.to_le_bytes());
    assert_eq!(&bytes[4..8], &[2, 0, 4, 0]);
    assert_eq!(&bytes[16..20], &pcap::PCAP_SNAPLEN.to_le_bytes());
    assert_eq!(&bytes[20..24], &pcap::LINKTYPE_ETHERNET.to_le_bytes());
    let recs = read_pcap(&bytes).unwrap();
    let want: Vec<(u64, Vec<u8>)> =
        [5, 1_000_000_007, 3_000_000_000].into_iter().zip(frames.iter().cloned()).collect();
    assert_eq!(recs, want);
}

#[test]
fn read_pcap_takes_both_magics_and_byte_orders_and_rejects_junk() {
    // A big-endian microsecond file with one 14-byte record, built by hand.
    let mut f = Vec::new();
    f.extend_from_slice(&pcap::PCAP_MAGIC_US.to_be_bytes());
    f.extend_from_slice(&[0, 2, 0, 4]);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_be_bytes());
    f.extend_from_slice(&1u32.to_be_bytes());
    for v in [7u32, 250, 14, 14] {
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&[0xab; 14]);
    assert_eq!(read_pcap(&f).unwrap(), vec![(7_000_250_000, vec![0xab; 14])]);
    // The same, little-endian with nanoseconds, from the writer.
    let mut w = PcapWriter::new();
    w.record(7_000_000_250, &[0xab; 14]);
    assert_eq!(read_pcap(w.bytes()).unwrap(), vec![(7_000_000_250, vec![0xab; 14])]);

    assert!(read_pcap(&[]).is_err());
    assert!(read_pcap(&[0u8; 24]).unwrap_err().contains("magic"));
    assert!(read_pcap(&f[..f.len() - 1]).unwrap_err().contains("claims 14 bytes"));
    assert!(read_pcap(&f[..30]).unwrap_err().contains("truncated"));
    // Every prefix and every single-byte change of a valid file parses or errs, never panics.
    let good = w.bytes().to_vec();
    for cut in 0..good.len() {
        let _ = read_pcap(&good[..cut]);
    }
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0xff;
        let _ = read_pcap(&bad);
    }
}

#[test]
fn tshark_reads_the_capture() {
    let (mut net, a, b, link) = pair(5, LinkConfig::default().with_faults(FaultPlan::parse("corrupt=20%,delay=5us").unwrap()));
    net.capture(link).unwrap();
    for i in 0..10u32 {
        net.transmit(a, frame(mac(2), mac(1), i, 60), u64::from(i) * 1_000);
        net.transmit(b, frame(mac(1), mac(2), i, 60), u64::from(i) * 1_000 + 500);
    }
    drain(&mut net);
    let bytes = net.pcap_bytes(link).unwrap();
    let have_tshark = std::process::Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have_tshark {
        eprintln!("tshark is not on PATH: checking the capture with read_pcap only");
        assert_eq!(read_pcap(&bytes).unwrap().len(), 20);
        return;
    }
    let path = std::env::temp_dir().join(format!("k43-simnet-{}.pcap", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("tshark").arg("-n").arg("-r").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| !l.trim().is_empty()).count(), 20, "tshark printed:\n{stdout}");
}

/// Runs a fixed traffic pattern through a lossy star and returns what arrived.
pub(super) fn lossy_run(seed: u64, plan: &str) -> Vec<Delivery> {
    let mut net = Network::new(seed);
    let sw = net.add_switch("sw");
    let plan = FaultPlan::parse(plan).unwrap();
    let ports: Vec<PortId> = (1..=3).map(|h| net.add_nic(h, 0)).collect();
    for &p in &ports {
        net.connect(p.into(), sw.into(), LinkConfig::default().with_faults(plan)).unwrap();
    }
    let mut out = Vec::new();
    for i in 0..300u32 {
        let from = (i % 3) as usize;
        let to = ((i + 1) % 3) as u8 + 1;
        net.transmit(ports[from], frame(mac(to), mac(from as u8 + 1), i, (i % 50) as usize), u64::from(i) * 3_000);
        out.extend(net.deliver_due(u64::from(i) * 3_000));
    }
    out.extend(drain(&mut net));
    out
}

#[test]
fn same_seed_same_deliveries_different_seed_different() {
    let plan = "drop=5%,dup=5%,reorder=10%:50us,corrupt=5%,delay=2us";
    let a = lossy_run(11, plan);
    assert_eq!(a, lossy_run(11, plan));
    assert_ne!(a, lossy_run(12, plan));
    // Without faults the seed does not matter.
    assert_eq!(lossy_run(11, ""), lossy_run(12, ""));
}

#[test]
fn adding_a_link_does_not_change_other_links_draws() {
    let plan = FaultPlan::parse("drop=30%,dup=20%,delay=3us").unwrap();
    let run = |extra: bool| {
        let (mut net, a, _, link) = pair(99, LinkConfig::default().with_faults(plan));
        if extra {
            let (c, d) = (net.add_nic(3, 0), net.add_nic(4, 0));
            net.connect(c.into(), d.into(), LinkConfig::default().with_faults(plan)).unwrap();
            for i in 0..50 {
                net.transmit(c, frame(mac(4), mac(3), i, 0), u64::from(i) * 777);
            }
        }
        for i in 0..100 {
            net.transmit(a, frame(mac(2), mac(1), i, 0), u64::from(i) * 1_000);
        }
        let got: Vec<Delivery> = drain(&mut net).into_iter().filter(|d| d.host == 2).collect();
        (got, net.link_counters(link, Direction::AToB).unwrap())
    };
    assert_eq!(run(false), run(true));
}
