//! Fault plan, queue and conservation tests.

use super::tests::{drain, frame, lossy_run, mac, pair, seq_of, BROADCAST};
use super::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

const N: u32 = 200;
const BASE: u64 = link::DEFAULT_DELAY_NS;

/// Sends N frames host 1 -> host 2, 1 µs apart, over a link with `plan` one way.
fn run_plan(plan: &str) -> (Vec<Delivery>, LinkCounters, Vec<Vec<u8>>) {
    let cfg = LinkConfig { a_to_b: FaultPlan::parse(plan).unwrap(), ..LinkConfig::default() };
    let (mut net, a, _, link) = pair(42, cfg);
    let sent: Vec<Vec<u8>> = (0..N).map(|i| frame(mac(2), mac(1), i, 40)).collect();
    for (i, f) in sent.iter().enumerate() {
        net.transmit(a, f.clone(), i as u64 * 1_000);
    }
    let got = drain(&mut net);
    (got, net.link_counters(link, Direction::AToB).unwrap(), sent)
}

fn sent_at(seq: u32) -> u64 {
    u64::from(seq) * 1_000
}

#[test]
fn every_fault_at_zero_percent_is_a_perfect_wire() {
    let (got, c, sent) = run_plan("drop=0%,dup=0%,corrupt=0%,reorder=0%:1ms,delay=0ns");
    assert_eq!(got.iter().map(|d| d.frame.clone()).collect::<Vec<_>>(), sent);
    assert!(got.iter().all(|d| d.at_ns == sent_at(seq_of(&d.frame)) + BASE));
    assert_eq!(c, LinkCounters { sent: N.into(), delivered: N.into(), ..LinkCounters::default() });
}

#[test]
fn drop_at_100_percent_loses_everything_but_the_capture_sees_it() {
    let (mut net, a, _, link) = pair(1, LinkConfig::default().with_faults(FaultPlan::parse("drop=100%").unwrap()));
    net.capture(link).unwrap();
    for i in 0..N {
        net.transmit(a, frame(mac(2), mac(1), i, 0), sent_at(i));
    }
    assert!(drain(&mut net).is_empty());
    let c = net.link_counters(link, Direction::AToB).unwrap();
    assert_eq!((c.sent, c.dropped, c.delivered), (N.into(), N.into(), 0));
    assert_eq!(read_pcap(&net.pcap_bytes(link).unwrap()).unwrap().len(), N as usize);
}

#[test]
fn duplicate_at_100_percent_delivers_every_frame_twice() {
    let (got, c, sent) = run_plan("dup=100%");
    assert_eq!(got.len(), 2 * N as usize);
    for (i, f) in sent.iter().enumerate() {
        assert_eq!(got.iter().filter(|d| &d.frame == f).count(), 2, "frame {i}");
    }
    assert_eq!((c.sent, c.duplicated, c.delivered, c.dropped), (N.into(), N.into(), 2 * u64::from(N), 0));
}

#[test]
fn corrupt_at_100_percent_flips_exactly_one_payload_bit() {
    let (got, c, sent) = run_plan("corrupt=100%");
    assert_eq!(got.len(), N as usize);
    for (d, orig) in got.iter().zip(&sent) {
        assert_eq!(d.frame[..ETH_HEADER_LEN], orig[..ETH_HEADER_LEN], "the header still gets it delivered");
        let flipped: u32 = d.frame.iter().zip(orig).map(|(x, y)| (x ^ y).count_ones()).sum();
        assert_eq!(flipped, 1);
    }
    assert_eq!((c.corrupted, c.delivered), (N.into(), N.into()));
    // A header-only frame has nothing to corrupt and arrives intact.
    let (mut net, a, _, link) = pair(1, LinkConfig::default().with_faults(FaultPlan::parse("corrupt=100%").unwrap()));
    net.transmit(a, BROADCAST.iter().chain(&mac(1)).chain(&[0x88, 0xb5]).copied().collect(), 0);
    assert_eq!(drain(&mut net)[0].frame.len(), ETH_HEADER_LEN);
    assert_eq!(net.link_counters(link, Direction::AToB).unwrap().corrupted, 0);
}

#[test]
fn reorder_at_100_percent_holds_every_frame_back_within_the_window() {
    let (got, c, _) = run_plan("reorder=100%:5ms");
    assert_eq!((c.reordered, c.delivered), (N.into(), N.into()));
    for d in &got {
        let extra = d.at_ns - sent_at(seq_of(&d.frame)) - BASE;
        assert!((1..=5_000_000).contains(&extra), "extra {extra}");
    }
}

/// Pairs (i, j) with i sent before j but delivered after it.
fn inversions(got: &[Delivery]) -> usize {
    let seqs: Vec<u32> = got.iter().map(|d| seq_of(&d.frame)).collect();
    (0..seqs.len()).map(|i| seqs[i + 1..].iter().filter(|&&s| s < seqs[i]).count()).sum()
}

#[test]
fn the_reorder_fault_really_reorders() {
    let (got, c, _) = run_plan("reorder=10%:50us");
    assert_eq!(got.len(), N as usize);
    assert!(c.reordered > 0 && c.reordered < N.into());
    assert!(inversions(&got) > 0, "later frames overtake held-back ones");
    let (got, _, _) = run_plan("reorder=0%:50us");
    assert_eq!(inversions(&got), 0);
}

#[test]
fn delay_jitter_stays_within_its_bound() {
    let (got, c, _) = run_plan("delay=100us");
    assert_eq!(c.delivered, u64::from(N));
    let extras: Vec<u64> = got.iter().map(|d| d.at_ns - sent_at(seq_of(&d.frame)) - BASE).collect();
    assert!(extras.iter().all(|&e| e <= 100_000));
    assert!(extras.iter().any(|&e| e != extras[0]), "jitter varies");
}

#[test]
fn a_rate_limited_link_serialises_and_tail_drops() {
    // 1 Mbit/s: a 125-byte frame takes 1 ms to send; 4 frames may wait.
    let (mut net, a, _, link) = pair(1, LinkConfig::default().with_rate(1_000_000, 4));
    for i in 0..10 {
        net.transmit(a, frame(mac(2), mac(1), i, 125 - 18), 0);
    }
    // At 2.5 ms two frames are done, so two more fit.
    for i in 10..13 {
        net.transmit(a, frame(mac(2), mac(1), i, 125 - 18), 2_500_000);
    }
    let got = drain(&mut net);
    let seen: Vec<(u32, u64)> = got.iter().map(|d| (seq_of(&d.frame), d.at_ns)).collect();
    let ms = 1_000_000;
    assert_eq!(seen, vec![(0, ms + BASE), (1, 2 * ms + BASE), (2, 3 * ms + BASE), (3, 4 * ms + BASE), (10, 5 * ms + BASE), (11, 6 * ms + BASE)]);
    let c = net.link_counters(link, Direction::AToB).unwrap();
    assert_eq!((c.sent, c.delivered, c.dropped, c.queue_drops), (13, 6, 7, 7));
}

#[test]
fn changing_the_plan_mid_run_partitions_and_heals() {
    let (mut net, a, _, link) = pair(1, LinkConfig::default());
    net.set_fault_plan(link, Direction::AToB, FaultPlan::parse("drop=100%").unwrap()).unwrap();
    net.transmit(a, frame(mac(2), mac(1), 0, 0), 0);
    assert!(drain(&mut net).is_empty());
    net.set_fault_plan(link, Direction::AToB, FaultPlan::NONE).unwrap();
    net.transmit(a, frame(mac(2), mac(1), 1, 0), 1_000);
    assert_eq!(drain(&mut net).len(), 1);
    assert!(net.set_fault_plan(link, Direction::AToB, FaultPlan { reorder_ppm: 1, ..FaultPlan::NONE }).is_err());
}

#[test]
fn fault_plans_parse_print_and_explain() {
    let p = FaultPlan::parse("drop=1%,dup=0.5%,reorder=2%:5ms,corrupt=0.1%,delay=100us").unwrap();
    let want = FaultPlan {
        drop_ppm: 10_000,
        duplicate_ppm: 5_000,
        corrupt_ppm: 1_000,
        reorder_ppm: 20_000,
        reorder_window_ns: 5_000_000,
        jitter_ns: 100_000,
    };
    assert_eq!(p, want);
    assert_eq!(p.to_string(), "drop=1%,dup=0.5%,corrupt=0.1%,reorder=2%:5ms,delay=100us");
    assert_eq!(FaultPlan::parse(&p.to_string()), Ok(p));
    assert_eq!(FaultPlan::parse(""), Ok(FaultPlan::NONE));
    assert_eq!(FaultPlan::parse("none").unwrap().to_string(), "none");
    let q = FaultPlan::parse(" loss = 250ppm , duplicate=0.0001% ,reorder=100%, jitter=1.5ms,").unwrap();
    assert_eq!((q.drop_ppm, q.duplicate_ppm, q.reorder_ppm), (250, 1, faults::PPM));
    assert_eq!((q.reorder_window_ns, q.jitter_ns), (faults::DEFAULT_REORDER_WINDOW_NS, 1_500_000));
    assert_eq!(FaultPlan::parse(&q.to_string()), Ok(q));
    assert_eq!(FaultPlan::parse("delay=2s,reorder=1%:40ns").unwrap().to_string(), "reorder=1%:40ns,delay=2s");

    for (bad, says) in [
        ("drop", "expected KEY=VALUE"),
        ("drop=1", "expected a percentage"),
        ("drop=101%", "cannot exceed 100%"),
        ("drop=-1%", "not a number"),
        ("drop=1.%", "not a number"),
        ("drop=0.00001%", "more decimals"),
        ("drop=1%,drop=2%", "given twice"),
        ("loss=1%,drop=2%", "given twice"),
        ("dorp=1%", "unknown fault `dorp`"),
        ("delay=100", "with a unit"),
        ("delay=1.5ns", "more decimals"),
        ("delay=100000s", "limited to 60s"),
        ("delay=99999999999999999999s", "too large"),
        ("reorder=1%:0ms", "window above 0"),
        ("reorder=1%:fast", "with a unit"),
        ("corrupt=%", "not a number"),
    ] {
        let err = FaultPlan::parse(bad).unwrap_err();
        assert!(err.contains(says), "`{bad}` gave `{err}`, wanted `{says}`");
    }
    assert!(FaultPlan::parse(&"drop=1%,".repeat(200)).unwrap_err().contains("bytes"));
}

#[test]
fn the_parser_never_panics_on_junk() {
    let alphabet: Vec<char> = "drop=dupcorreorderdelay%:,.0123456789 msnuµ-+xé".chars().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..20_000 {
        let len = (rng.next_u32() % 40) as usize;
        let s: String = (0..len).map(|_| alphabet[(rng.next_u32() as usize) % alphabet.len()]).collect();
        if let Ok(p) = FaultPlan::parse(&s) {
            assert_eq!(FaultPlan::parse(&p.to_string()), Ok(p), "round trip of `{s}`");
        }
    }
}

#[test]
fn a_different_seed_changes_the_fault_draws() {
    let plan = "drop=20%";
    let lost = |seed| lossy_run(seed, plan).iter().map(|d| seq_of(&d.frame)).collect::<Vec<_>>();
    assert_ne!(lost(1), lost(2));
}

/// Checks `sent + duplicated == delivered + dropped + in flight` on every link direction.
fn assert_conserved(net: &Network) {
    for l in 0..net.link_count() {
        for dir in Direction::BOTH {
            let c = net.link_counters(LinkId(l as u32), dir).unwrap();
            let fly = net.in_flight(LinkId(l as u32), dir).unwrap();
            assert_eq!(c.sent + c.duplicated, c.delivered + c.dropped + fly, "link {l} {dir:?}: {c:?}, {fly} in flight");
        }
    }
}

#[test]
fn random_traffic_never_panics_and_conserves_frames() {
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut net = Network::new(seed);
        let switches = [net.add_switch("s0"), net.add_switch("s1")];
        let cfg = LinkConfig::default().with_faults(FaultPlan::parse("drop=3%,dup=3%,corrupt=3%,reorder=5%:30us,delay=2us").unwrap());
        net.connect(switches[0].into(), switches[1].into(), cfg.with_rate(100_000_000, 8)).unwrap();
        let ports: Vec<PortId> = (0..6u32).map(|h| net.add_nic(h, 0)).collect();
        for (i, &p) in ports.iter().enumerate().take(5) {
            // Host 5 stays unconnected: its frames must be counted, not lost track of.
            let link_cfg = if i % 2 == 0 { cfg } else { cfg.with_rate(10_000_000, 2) };
            net.connect(p.into(), switches[i % 2].into(), link_cfg).unwrap();
        }
        let (mut now, mut handed_to_links) = (0u64, 0u64);
        for _ in 0..2_000 {
            now += u64::from(rng.next_u32() % 20_000);
            let from = ports[(rng.next_u32() % 6) as usize];
            let dst = match rng.next_u32() % 8 {
                0 => BROADCAST,
                1 => [0x33, 0x33, 0, 0, 0, 1],
                n => mac(n as u8 % 7),
            };
            let len = match rng.next_u32() % 10 {
                0 => (rng.next_u32() % 20) as usize,
                1 => DEFAULT_MAX_FRAME_LEN + (rng.next_u32() % 3) as usize,
                _ => 14 + (rng.next_u32() % 1500) as usize,
            };
            let mut f = vec![0u8; len];
            let src = mac(net.port_link(from).map_or(6, |_| from.0 as u8));
            for (i, b) in dst.iter().chain(&src).enumerate().take(len) {
                f[i] = *b;
            }
            let before = net.counters();
            net.transmit(from, f, now);
            let after = net.counters();
            if (after.runts, after.giants, after.unconnected) == (before.runts, before.giants, before.unconnected) {
                handed_to_links += 1;
            }
            if rng.next_u32() % 3 == 0 {
                let got = net.deliver_due(now);
                assert!(got.iter().all(|d| d.at_ns <= now && d.frame.len() >= ETH_HEADER_LEN));
                assert!(got.windows(2).all(|w| w[0].at_ns <= w[1].at_ns));
            }
            assert_conserved(&net);
        }
        drain(&mut net);
        assert_conserved(&net);
        assert_eq!(net.pending(), 0);
        let c = net.counters();
        assert_eq!(c.transmitted, 2_000);
        assert_eq!(c.transmitted, c.runts + c.giants + c.unconnected + handed_to_links);
        // Every frame a NIC handed over entered exactly its own link.
        let nic_sent: u64 = ports[..5]
            .iter()
            .map(|&p| {
                let l = net.port_link(p).unwrap();
                net.link_counters(l, Direction::AToB).unwrap().sent
            })
            .sum();
        assert_eq!(nic_sent, handed_to_links);
    }
}
