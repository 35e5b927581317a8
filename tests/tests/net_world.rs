//! Two simulated hosts on a learning switch (hal-sim's network), driven together on one
//! virtual clock: Duplicate Address Detection across the wire, and the wire captured to a
//! pcap file that `tshark` reads (when it is installed; otherwise the capture is
//! re-parsed). The scenario runner's multi-host world builds on the same loop.

use hal_sim::net::{Endpoint, LinkConfig, LinkId, Network, PortId};
use hal_sim::{SimConfig, SimHal};
use kernel::net::wire::Ipv6Addr;
use kernel::{Kernel, KernelConfig};

struct World {
    hosts: Vec<Kernel<SimHal>>,
    ports: Vec<PortId>,
    links: Vec<LinkId>,
    net: Network,
    now: u64,
}

impl World {
    /// `n` hosts, each with one NIC, all linked to one switch; every link captured.
    fn star(n: u32, seed: u64) -> World {
        let mut net = Network::new(seed);
        let sw = net.add_switch("sw0");
        let (mut hosts, mut ports, mut links) = (Vec::new(), Vec::new(), Vec::new());
        for h in 0..n {
            let hal = SimHal::new(SimConfig { seed: seed + u64::from(h), ram_bytes: 16 << 20, cpus: 1 });
            hal.nics.add([0x52, 0x54, 0x00, 0x00, h as u8, 0x01]);
            hosts.push(Kernel::new(hal, KernelConfig::default()));
            let p = net.add_nic(h, 0);
            let l = net.connect(Endpoint::Nic(p), Endpoint::Switch(sw), LinkConfig::default()).unwrap();
            net.capture(l).unwrap();
            ports.push(p);
            links.push(l);
        }
        World { hosts, ports, links, net, now: 0 }
    }

    /// Runs everything up to `until`: each host's timers, frames onto the wire, frames
    /// off it, in time order.
    fn run_until(&mut self, until: u64) {
        for _ in 0..100_000 {
            // Move what the hosts sent onto the wire.
            for (h, k) in self.hosts.iter_mut().enumerate() {
                for f in k.hal.nics.take_transmitted(0) {
                    self.net.transmit(self.ports[h], f, self.now);
                }
            }
            let next = self.hosts.iter().filter_map(|k| k.next_timer()).chain(self.net.next_deadline()).filter(|&t| t <= until).min();
            let Some(t) = next else { break };
            self.now = t.max(self.now);
            for k in &mut self.hosts {
                k.hal.advance_to(self.now);
                if k.next_timer().is_some_and(|d| d <= self.now) {
                    k.run_timers();
                }
            }
            for d in self.net.deliver_due(self.now) {
                self.hosts[d.host as usize].netif_receive(d.nic, &d.frame);
            }
        }
        self.now = until;
        for k in &mut self.hosts {
            k.hal.advance_to(until);
        }
    }

    fn addr_text(&self, h: usize) -> String {
        self.hosts[h].net().idev6[&2].show(self.now)
    }
}

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Two hosts claim the same address: whichever probes first makes the other's DAD fail
/// (RFC 4862 §5.4.3: an NS from `::` for our tentative address); the first keeps it.
/// Different addresses both succeed.
#[test]
fn duplicate_address_detection_across_a_switch() {
    let mut w = World::star(3, 11);
    for k in &mut w.hosts {
        k.dev_open(2).unwrap();
    }
    w.hosts[0].inet6_addr_add(2, a("2001:db8::1"), 64, 0).unwrap();
    w.hosts[1].inet6_addr_add(2, a("2001:db8::1"), 64, 0).unwrap();
    w.hosts[2].inet6_addr_add(2, a("2001:db8::3"), 64, 0).unwrap();
    w.run_until(5_000_000_000);
    let texts: Vec<String> = (0..3).map(|h| w.addr_text(h)).collect();
    let failed: Vec<bool> = texts.iter().map(|t| t.lines().any(|l| l.contains("2001:db8::1") && l.contains("dadfailed"))).collect();
    assert_eq!(failed.iter().filter(|&&f| f).count(), 1, "exactly one of the two claimants fails DAD:\n{texts:#?}");
    assert!(!texts[2].contains("dadfailed") && texts[2].contains("2001:db8::3"), "{}", texts[2]);
    // Every link-local (distinct EUI-64s) survived.
    for t in &texts {
        assert!(t.contains("fe80::5054:ff:fe00") && t.matches("dadfailed").count() <= 1, "{t}");
    }
}

/// The captured wire opens in tshark (or re-parses) and holds the DAD probes.
#[test]
fn capture_opens_in_tshark() {
    let mut w = World::star(2, 5);
    for k in &mut w.hosts {
        k.dev_open(2).unwrap();
    }
    w.run_until(3_000_000_000);
    let pcap = w.net.pcap_bytes(w.links[0]).expect("captured");
    let frames = hal_sim::net::read_pcap(&pcap).expect("re-parses");
    assert!(frames.len() >= 1, "host 0's DAD probe is on its link");
    let path = std::env::temp_dir().join(format!("k43-net-world-{}.pcap", std::process::id()));
    std::fs::write(&path, &pcap).unwrap();
    let have_tshark = std::process::Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have_tshark {
        eprintln!("tshark is not on PATH: the capture was checked with read_pcap only");
        return;
    }
    let out = std::process::Command::new("tshark").arg("-n").arg("-r").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), frames.len(), "{text}");
    assert!(text.contains("Neighbor Solicitation"), "{text}");
}

/// `cargo harness run … --pcap DIR`'s files from a multi-host scenario (h1 — router —
/// h2, ping6 across) open in tshark (when installed; otherwise they re-parse), with one
/// line per captured frame and the echo exchange on both links.
#[test]
fn scenario_captures_open_in_tshark() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/net/ping6-through-router.scn")).unwrap();
    let out = harness::sim::run_source_captured("ping6-through-router.scn", &src, 1, true).expect("parses");
    assert_eq!(out.failure, None);
    assert_eq!(out.pcaps.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["h1.eth0-r.eth0", "r.eth1-h2.eth0"]);
    let dir = std::env::temp_dir().join(format!("k43-scn-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let have_tshark = std::process::Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    for (name, bytes) in &out.pcaps {
        let frames = hal_sim::net::read_pcap(bytes).expect("re-parses");
        assert!(frames.len() >= 6, "{name}: NS/NA and three echo exchanges");
        if !have_tshark {
            continue;
        }
        let path = dir.join(format!("{name}.pcap"));
        std::fs::write(&path, bytes).unwrap();
        let o = std::process::Command::new("tshark").arg("-n").arg("-r").arg(&path).output().unwrap();
        assert!(o.status.success(), "tshark failed on {name}: {}", String::from_utf8_lossy(&o.stderr));
        let text = String::from_utf8_lossy(&o.stdout);
        assert_eq!(text.lines().count(), frames.len(), "{text}");
        assert_eq!(text.matches("Echo (ping) request").count(), 3, "{text}");
        assert_eq!(text.matches("Echo (ping) reply").count(), 3, "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    if !have_tshark {
        eprintln!("tshark is not on PATH: the captures were checked with read_pcap only");
    }
}
