//! Tests of the neighbour table against 4.3's `neighbour.c`, `arp.c`, `ndisc.c` and
//! iproute2 4.3's `ip neigh`.

use super::*;
use crate::net::core::jiffies::{jiffies_to_ns, Prandom, INITIAL_JIFFIES};
use crate::net::core::neigh_rtnl::NeighFilter;
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use alloc::string::String;
use alloc::vec;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pkt<A> {
    pub id: u32,
    pub size: usize,
    pub src: Option<A>,
}

impl<A: Copy> NeighPacket<A> for Pkt<A> {
    fn truesize(&self) -> usize {
        self.size
    }
    fn source(&self) -> Option<A> {
        self.src
    }
}

pub(crate) const S: u64 = 1_000_000_000;
pub(crate) const MS: u64 = 1_000_000;
pub(crate) const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
pub(crate) const MAC2: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0xab, 0xcd, 0xef]);
pub(crate) const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub(crate) const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

pub(crate) type Arp = NeighTable<Ipv4Addr, Pkt<Ipv4Addr>>;
pub(crate) type Nd = NeighTable<Ipv6Addr, Pkt<Ipv6Addr>>;

pub(crate) fn pkt(id: u32) -> Pkt<Ipv4Addr> {
    Pkt { id, size: 1000, src: Some(ME) }
}

pub(crate) fn names(i: u32) -> String {
    match i {
        1 => String::from("lo"),
        2 => String::from("eth0"),
        n => alloc::format!("if{n}"),
    }
}

pub(crate) fn show<A: NeighKey, P: NeighPacket<A>>(t: &NeighTable<A, P>) -> String {
    t.show(&NeighFilter::show(), false, &names)
}

/// An ARP table with a fixed reachable_time of 30 s for predictable timelines.
pub(crate) fn arp() -> Arp {
    let mut t = Arp::arp(0, 1);
    t.parms.reachable_time = 30 * HZ;
    t.gc_next = INITIAL_JIFFIES + 30 * HZ;
    t.last_rand = INITIAL_JIFFIES + 600 * HZ;
    t
}

/// Resolves PEER on eth0 and answers with a solicited reply at `t`.
pub(crate) fn reachable(t: &mut Arp, at: u64) {
    let _ = t.resolve(2, &PEER, pkt(0), NeighInit::Resolve, 0);
    t.update(2, &PEER, Some(MAC), NUD_REACHABLE, NEIGH_UPDATE_F_OVERRIDE, at).unwrap();
}

pub(crate) fn state(t: &Arp) -> u8 {
    t.get(2, &PEER).map_or(0xff, |n| n.state)
}

#[test]
fn defaults_are_linux_4_3s() {
    let p = NeighParms::arp();
    assert_eq!((p.mcast_probes, p.ucast_probes, p.app_probes, p.mcast_reprobes), (3, 3, 0, 0));
    assert_eq!((p.retrans_time, p.base_reachable_time, p.delay_probe_time), (HZ, 30 * HZ, 5 * HZ));
    assert_eq!((p.gc_staletime, p.queue_len_bytes, p.locktime), (60 * HZ, 65536, HZ));
    assert_eq!(NeighParms::nd().locktime, 0);
    assert_eq!(p.max_probes(NUD_INCOMPLETE), 6);
    assert_eq!(p.max_probes(NUD_PROBE), 3);
    let t = Nd::nd(0, 42);
    assert_eq!((t.gc_thresh1, t.gc_thresh2, t.gc_thresh3, t.gc_interval), (128, 512, 1024, 30 * HZ));
    assert_eq!(t.id, "ndisc_cache");
    for seed in 0..200 {
        let r = Arp::arp(0, seed).parms(7).reachable_time;
        assert!((15 * HZ..45 * HZ).contains(&r), "{r}");
    }
    let mut rng = Prandom::new(3);
    assert_eq!(neigh_rand_reach_time(&mut rng, 0), 0);
    assert_eq!(neigh_rand_reach_time(&mut rng, 1), 0);
}

#[test]
fn resolution_sends_three_multicast_probes_then_fails() {
    let mut t = arp();
    let r = t.resolve(2, &PEER, pkt(1), NeighInit::Resolve, 0);
    let probe = Solicit { ifindex: 2, target: PEER, kind: SolicitKind::Multicast, saddr_hint: Some(ME) };
    assert_eq!(r, Resolve::Queued { solicit: Some(probe), discarded: vec![] });
    let n = t.get(2, &PEER).unwrap();
    assert_eq!((n.state, n.probes, n.queue_len), (NUD_INCOMPLETE, 4, 1));
    assert_eq!(n.timer, Some(INITIAL_JIFFIES + HZ));
    assert_eq!(t.next_deadline(), S);
    // A second packet joins the queue without a probe.
    assert_eq!(
        t.resolve(2, &PEER, pkt(2), NeighInit::Resolve, 100 * MS),
        Resolve::Queued { solicit: None, discarded: vec![] }
    );
    assert!(t.timer(S - 1).solicits.is_empty());
    for k in 1..=2 {
        let o = t.timer(k * S);
        assert_eq!(o.solicits, vec![probe], "retransmission {k}");
        assert_eq!(t.next_deadline(), (k + 1) * S);
    }
    let o = t.timer(3 * S);
    assert!(o.solicits.is_empty());
    assert_eq!(o.unreachable, vec![(2, PEER, pkt(1)), (2, PEER, pkt(2))]);
    assert_eq!(o.notify, 1);
    let n = t.get(2, &PEER).unwrap();
    assert_eq!((n.state, n.timer, n.queue_len), (NUD_FAILED, None, 0));
    assert_eq!(t.stats().res_failed, 1);
    assert_eq!(show(&t), "10.0.0.2 dev eth0  FAILED\n");
    // The next packet restarts resolution from FAILED.
    assert!(matches!(
        t.resolve(2, &PEER, pkt(3), NeighInit::Resolve, 4 * S),
        Resolve::Queued { solicit: Some(_), .. }
    ));
}

#[test]
fn queue_is_bounded_in_truesize_bytes() {
    let mut t = arp();
    let big = |id, size| Pkt { id, size, src: None };
    let _ = t.resolve(2, &PEER, big(1, 40_000), NeighInit::Resolve, 0);
    let r = t.resolve(2, &PEER, big(2, 25_536), NeighInit::Resolve, 0);
    assert_eq!(r, Resolve::Queued { solicit: None, discarded: vec![] });
    assert_eq!(t.get(2, &PEER).unwrap().queue_bytes, 65_536);
    let r = t.resolve(2, &PEER, big(3, 1), NeighInit::Resolve, 0);
    assert_eq!(r, Resolve::Queued { solicit: None, discarded: vec![big(1, 40_000)] });
    // A packet larger than the limit still goes in, alone.
    let r = t.resolve(2, &PEER, big(4, 70_000), NeighInit::Resolve, 0);
    assert_eq!(r, Resolve::Queued { solicit: None, discarded: vec![big(2, 25_536), big(3, 1)] });
    let n = t.get(2, &PEER).unwrap();
    assert_eq!((n.queue_len, n.queue_bytes), (1, 70_000));
    assert_eq!(t.stats().unres_discards, 3);
}

#[test]
fn solicited_reply_releases_the_queue_and_reaches() {
    let mut t = arp();
    let _ = t.resolve(2, &PEER, pkt(1), NeighInit::Resolve, 0);
    let _ = t.resolve(2, &PEER, pkt(2), NeighInit::Resolve, 0);
    let o = t.update(2, &PEER, Some(MAC), NUD_REACHABLE, NEIGH_UPDATE_F_OVERRIDE, 300 * MS).unwrap();
    assert_eq!(o.xmit, vec![(pkt(1), MAC), (pkt(2), MAC)]);
    assert_eq!(o.notify, 1);
    let n = t.get(2, &PEER).unwrap();
    assert_eq!((n.state, n.queue_len, n.queue_bytes), (NUD_REACHABLE, 0, 0));
    let now = INITIAL_JIFFIES + 300 / 4;
    assert_eq!((n.confirmed, n.timer), (now, Some(now + 30 * HZ)));
    assert_eq!(show(&t), "10.0.0.2 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE\n");
    // Connected: sent at once, `used` untouched.
    assert_eq!(t.resolve(2, &PEER, pkt(3), NeighInit::Resolve, 2 * S), Resolve::Send(pkt(3), MAC));
    assert_eq!(t.get(2, &PEER).unwrap().used, INITIAL_JIFFIES);
}

#[test]
fn unsolicited_stale_releases_through_delay() {
    let mut t = arp();
    let _ = t.resolve(2, &PEER, pkt(1), NeighInit::Resolve, 0);
    let _ = t.resolve(2, &PEER, pkt(2), NeighInit::Resolve, 0);
    let o = t.update(2, &PEER, Some(MAC), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, S / 2).unwrap();
    assert_eq!(o.xmit, vec![(pkt(1), MAC), (pkt(2), MAC)]);
    // The first release ran neigh_event_send on the STALE entry: DELAY for 5 s.
    let n = t.get(2, &PEER).unwrap();
    assert_eq!(n.state, NUD_DELAY);
    assert_eq!(n.timer, Some(INITIAL_JIFFIES + HZ / 2 + 5 * HZ));
}

#[test]
fn reachable_goes_stale_after_reachable_time() {
    let mut t = arp();
    reachable(&mut t, 0);
    assert!(t.timer(30 * S - 1).notify == 0 && state(&t) == NUD_REACHABLE);
    // `now <= confirmed + reachable_time` is inclusive: still alive, re-armed 0.5 s on.
    t.timer(30 * S);
    assert_eq!((state(&t), t.next_deadline()), (NUD_REACHABLE, 30 * S + S / 2));
    let o = t.timer(30 * S + S / 2);
    assert_eq!((o.notify, state(&t)), (1, NUD_STALE));
    assert_eq!(t.get(2, &PEER).unwrap().timer, None);
    // A confirmation in time pushes the expiry: the timer re-arms at confirmed + reachable.
    let mut t = arp();
    reachable(&mut t, 0);
    assert!(t.confirm(2, &PEER, 20 * S));
    t.timer(30 * S);
    assert_eq!(state(&t), NUD_REACHABLE);
    assert_eq!(t.get(2, &PEER).unwrap().timer, Some(INITIAL_JIFFIES + 50 * HZ));
    t.timer(50 * S + S / 2);
    assert_eq!(state(&t), NUD_STALE);
}

#[test]
fn short_reachable_time_goes_through_delay() {
    let mut t = arp();
    t.set_base_reachable_time(None, 2 * HZ);
    let rt = t.parms(2).reachable_time;
    assert!((HZ..3 * HZ).contains(&rt));
    reachable(&mut t, 0);
    t.timer(jiffies_to_ns(INITIAL_JIFFIES + rt + HZ / 2));
    // used (0) + delay_first_probe_time (5 s) is still ahead.
    assert_eq!(state(&t), NUD_DELAY);
}

#[test]
fn stale_use_delays_then_probes_unicast_then_fails() {
    let mut t = arp();
    t.create(2, &PEER, NeighInit::Resolve, 0).unwrap();
    t.update(2, &PEER, Some(MAC), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, 0).unwrap();
    assert_eq!(t.resolve(2, &PEER, pkt(1), NeighInit::Resolve, S), Resolve::Send(pkt(1), MAC));
    assert_eq!(state(&t), NUD_DELAY);
    assert_eq!(t.next_deadline(), 6 * S);
    let o = t.timer(6 * S);
    let probe = Solicit { ifindex: 2, target: PEER, kind: SolicitKind::Unicast(MAC), saddr_hint: None };
    assert_eq!((o.solicits, o.notify), (vec![probe], 1));
    assert_eq!(state(&t), NUD_PROBE);
    // While probing, traffic still flows to the cached address.
    assert_eq!(t.resolve(2, &PEER, pkt(2), NeighInit::Resolve, 6 * S + 1), Resolve::Send(pkt(2), MAC));
    assert_eq!(t.timer(7 * S).solicits, vec![probe]);
    assert_eq!(t.timer(8 * S).solicits, vec![probe]);
    let o = t.timer(9 * S);
    assert!(o.solicits.is_empty() && o.unreachable.is_empty());
    assert_eq!(state(&t), NUD_FAILED);
}

#[test]
fn delay_confirmed_in_time_becomes_reachable() {
    let mut t = arp();
    t.create(2, &PEER, NeighInit::Resolve, 0).unwrap();
    t.update(2, &PEER, Some(MAC), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, 0).unwrap();
    let _ = t.resolve(2, &PEER, pkt(1), NeighInit::Resolve, S);
    t.confirm(2, &PEER, 3 * S);
    let o = t.timer(6 * S);
    assert_eq!((o.notify, state(&t)), (1, NUD_REACHABLE));
    assert_eq!(t.get(2, &PEER).unwrap().timer, Some(INITIAL_JIFFIES + 3 * HZ + 30 * HZ));
}

#[test]
fn timer_rearms_at_least_half_a_second_ahead() {
    let mut t = arp();
    reachable(&mut t, 0);
    // Confirmed 29.9 s ago at expiry: next would be 0.1 s away, clamped to 0.5 s.
    t.confirm(2, &PEER, 100 * MS);
    t.timer(30 * S);
    assert_eq!(t.next_deadline(), 30 * S + S / 2);
}

#[test]
fn update_rules() {
    // Admin-only states.
    let mut t = arp();
    t.create(2, &PEER, NeighInit::Resolve, 0).unwrap();
    t.update(2, &PEER, Some(MAC), NUD_PERMANENT, NEIGH_UPDATE_F_ADMIN, 0).unwrap();
    assert_eq!(t.update(2, &PEER, Some(MAC2), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, 0), Err(Errno::EPERM));
    assert_eq!(t.update(2, &Ipv4Addr::new(1, 1, 1, 1), None, NUD_STALE, 0, 0), Err(Errno::ENOENT));
    // No address for an entry that has none.
    let mut t = arp();
    t.create(2, &PEER, NeighInit::Resolve, 0).unwrap();
    assert_eq!(t.update(2, &PEER, None, NUD_REACHABLE, 0, 0), Err(Errno::EINVAL));
    // A different address without OVERRIDE is ignored on a STALE entry, but stamps it.
    t.update(2, &PEER, Some(MAC), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, 0).unwrap();
    let o = t.update(2, &PEER, Some(MAC2), NUD_REACHABLE, 0, 2 * S).unwrap();
    let n = t.get(2, &PEER).unwrap();
    assert_eq!((o.notify, n.state, n.lladdr), (0, NUD_STALE, MAC));
    assert_eq!((n.confirmed, n.updated), (INITIAL_JIFFIES + 2 * HZ, INITIAL_JIFFIES + 2 * HZ));
    // WEAK_OVERRIDE on a connected entry: the old address stays, the entry turns STALE.
    let mut t = arp();
    reachable(&mut t, 0);
    t.update(2, &PEER, Some(MAC2), NUD_REACHABLE, NEIGH_UPDATE_F_WEAK_OVERRIDE, S).unwrap();
    let n = t.get(2, &PEER).unwrap();
    assert_eq!((n.state, n.lladdr, n.timer), (NUD_STALE, MAC, None));
    // Same address, STALE proposed to a connected entry: nothing changes.
    let mut t = arp();
    reachable(&mut t, 0);
    let o = t.update(2, &PEER, Some(MAC), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, S).unwrap();
    assert_eq!((o.notify, state(&t)), (0, NUD_REACHABLE));
    // OVERRIDE replaces the address; a non-connected new address backdates `confirmed`.
    t.update(2, &PEER, Some(MAC2), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, 2 * S).unwrap();
    let n = t.get(2, &PEER).unwrap();
    assert_eq!((n.state, n.lladdr), (NUD_STALE, MAC2));
    assert_eq!(n.confirmed, INITIAL_JIFFIES + 2 * HZ - 60 * HZ);
    // Delay/probe through update arm a timer due at once.
    t.update(2, &PEER, None, NUD_PROBE, NEIGH_UPDATE_F_ADMIN, 3 * S).unwrap();
    assert_eq!(t.get(2, &PEER).unwrap().timer, Some(INITIAL_JIFFIES + 3 * HZ));
    assert_eq!(t.timer(3 * S).solicits.len(), 1);
}

#[test]
fn router_flag_follows_override_isrouter() {
    let addr: Ipv6Addr = "fe80::1".parse().unwrap();
    let mut t = Nd::nd(0, 1);
    t.create(2, &addr, NeighInit::Resolve, 0).unwrap();
    let na = NEIGH_UPDATE_F_WEAK_OVERRIDE | NEIGH_UPDATE_F_OVERRIDE_ISROUTER;
    t.update(2, &addr, Some(MAC), NUD_STALE, na | NEIGH_UPDATE_F_OVERRIDE | NEIGH_UPDATE_F_ISROUTER, 0)
        .unwrap();
    assert_eq!(show(&t), "fe80::1 dev eth0 lladdr 52:54:00:12:34:56 router STALE\n");
    let mut only_eth0 = NeighFilter::show();
    only_eth0.index = 2;
    assert_eq!(t.show(&only_eth0, false, &names), "fe80::1 lladdr 52:54:00:12:34:56 router STALE\n");
    // An NA whose new address is ignored leaves the flag alone.
    t.update(2, &addr, Some(MAC2), NUD_STALE, na, S).unwrap();
    assert_eq!(t.get(2, &addr).unwrap().flags, NTF_ROUTER);
    // Without R the flag clears; without OVERRIDE_ISROUTER nothing touches it.
    t.update(2, &addr, Some(MAC), NUD_STALE, na, S).unwrap();
    assert_eq!(t.get(2, &addr).unwrap().flags, 0);
    t.update(2, &addr, Some(MAC), NUD_STALE, NEIGH_UPDATE_F_ISROUTER, S).unwrap();
    assert_eq!(t.get(2, &addr).unwrap().flags, 0);
}

#[test]
fn admin_failed_on_incomplete_reports_the_queue() {
    let mut t = arp();
    let _ = t.resolve(2, &PEER, pkt(1), NeighInit::Resolve, 0);
    let o = t.update(2, &PEER, None, NUD_FAILED, NEIGH_UPDATE_F_ADMIN, S).unwrap();
    assert_eq!((o.unreachable, o.notify), (vec![(2, PEER, pkt(1))], 1));
    assert_eq!(t.get(2, &PEER).unwrap().timer, None);
}

#[test]
fn noarp_constructor_and_failures() {
    let mut t = Nd::nd(0, 1);
    let all: Ipv6Addr = "ff02::1".parse().unwrap();
    let p = Pkt { id: 1, size: 100, src: None };
    let mc = EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);
    assert_eq!(t.resolve(2, &all, p.clone(), NeighInit::for_key(&all), 0), Resolve::Send(p.clone(), mc));
    assert_eq!(show(&t), "");
    let f = NeighFilter::show().with_nud(&["all"], false).unwrap();
    assert_eq!(t.show(&f, false, &names), "ff02::1 dev eth0 lladdr 33:33:00:00:00:01 NOARP\n");
    assert_eq!(NeighInit::for_key(&Ipv4Addr::BROADCAST), NeighInit::NoArp(EthernetAddress::BROADCAST));
    assert_eq!(
        NeighInit::for_key(&Ipv4Addr::new(224, 0, 0, 251)),
        NeighInit::NoArp(EthernetAddress([1, 0, 0x5e, 0, 0, 0xfb]))
    );
    let x: Ipv6Addr = "2001:db8::1".parse().unwrap();
    assert_eq!(
        t.resolve(2, &x, p.clone(), NeighInit::NoInetDev, 0),
        Resolve::NoNeigh(p.clone(), Errno::EINVAL)
    );
    // No probes configured: the entry fails at once, the packet is freed silently.
    let mut q = NeighParms::nd();
    q.mcast_probes = 0;
    t.set_dev_parms(3, q);
    assert_eq!(t.resolve(3, &x, p.clone(), NeighInit::Resolve, 0), Resolve::Dropped(p));
    assert_eq!(t.get(3, &x).unwrap().state, NUD_FAILED);
}

#[test]
fn app_probes_and_probe_once() {
    let mut t = arp();
    let mut p = NeighParms::arp();
    p.mcast_probes = 0;
    p.app_probes = 1;
    t.set_dev_parms(2, p);
    let r = t.resolve(2, &PEER, pkt(1), NeighInit::Resolve, 0);
    assert!(matches!(r, Resolve::Queued { solicit: Some(Solicit { kind: SolicitKind::App, .. }), .. }));
    let o = t.timer(S);
    assert_eq!((o.solicits.len(), o.unreachable.len(), state(&t)), (0, 1, NUD_FAILED));
    // __neigh_set_probe_once: back to INCOMPLETE at the probe limit, fails on the next tick.
    t.set_probe_once(2, &PEER, 2 * S);
    assert_eq!(state(&t), NUD_INCOMPLETE);
    let o = t.timer(3 * S);
    assert_eq!((o.solicits.len(), state(&t)), (0, NUD_FAILED));
}

#[test]
fn table_full_and_forced_gc() {
    let mut t = arp();
    t.gc_thresh2 = 2;
    t.gc_thresh3 = 3;
    for i in 0..3 {
        let _ = t.resolve(2, &Ipv4Addr::new(10, 0, 1, i), pkt(0), NeighInit::Resolve, 0);
    }
    let p = Ipv4Addr::new(10, 0, 2, 1);
    // All three have timers (a reference each): nothing to free.
    assert_eq!(t.resolve(2, &p, pkt(9), NeighInit::Resolve, 0), Resolve::NoNeigh(pkt(9), Errno::ENOBUFS));
    assert_eq!((t.stats().table_fulls, t.stats().forced_gc_runs), (1, 1));
    // A FAILED entry (no timer) is fair game.
    t.update(2, &Ipv4Addr::new(10, 0, 1, 0), None, NUD_FAILED, NEIGH_UPDATE_F_ADMIN, 0).unwrap();
    assert!(t.create(2, &p, NeighInit::Resolve, 0).is_ok());
    assert_eq!(t.len(), 3);
    // Between thresh2 and thresh3 a forced GC runs only 5 s after the last one.
    let mut t = arp();
    t.gc_thresh2 = 1;
    t.create(2, &PEER, NeighInit::Resolve, 0).unwrap();
    t.create(2, &ME, NeighInit::Resolve, 5 * S).unwrap();
    assert_eq!((t.len(), t.stats().forced_gc_runs), (2, 0));
    t.create(2, &Ipv4Addr::new(10, 0, 0, 3), NeighInit::Resolve, 5 * S + 4 * MS).unwrap();
    assert_eq!((t.len(), t.stats().forced_gc_runs), (1, 1));
}

#[test]
fn periodic_gc() {
    let mut t = arp();
    let rt = t.parms(0).reachable_time;
    assert_eq!(t.next_deadline(), jiffies_to_ns(INITIAL_JIFFIES + rt));
    t.create(2, &PEER, NeighInit::Resolve, 0).unwrap();
    t.update(2, &PEER, None, NUD_FAILED, NEIGH_UPDATE_F_ADMIN, 0).unwrap();
    // Below gc_thresh1 nothing goes.
    assert_eq!(t.gc(S), 0);
    assert_eq!(t.next_deadline(), S + 15 * S);
    t.gc_thresh1 = 0;
    let stale = Ipv4Addr::new(10, 0, 0, 3);
    t.create(2, &stale, NeighInit::Resolve, 0).unwrap();
    t.update(2, &stale, Some(MAC), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, 0).unwrap();
    t.create(2, &ME, NeighInit::Resolve, 0).unwrap();
    t.update(2, &ME, Some(MAC), NUD_PERMANENT, NEIGH_UPDATE_F_ADMIN, 0).unwrap();
    let _ = t.resolve(2, &Ipv4Addr::new(10, 0, 0, 4), pkt(1), NeighInit::Resolve, 0);
    t.timer(S);
    t.timer(2 * S);
    assert_eq!(t.gc(2 * S), 1); // the FAILED one; INCOMPLETE runs a timer
    t.timer(3 * S); // now the INCOMPLETE one fails
    assert_eq!(t.gc(60 * S), 1); // it goes; the STALE one's used + 60 s has not passed
    assert_eq!(t.gc(60 * S + 4 * MS), 1);
    assert_eq!(show(&t), "10.0.0.1 dev eth0 lladdr 52:54:00:12:34:56 PERMANENT\n");
    // reachable_time is re-drawn once 300 s have passed since last_rand.
    let mut t = arp();
    let lr = t.last_rand;
    t.gc(jiffies_to_ns(lr + 300 * HZ));
    assert_eq!(t.parms(0).reachable_time, 30 * HZ);
    t.gc(jiffies_to_ns(lr + 300 * HZ + 1));
    assert_ne!(t.parms(0).reachable_time, 30 * HZ);
}

#[test]
fn ifdown_and_locktime() {
    let mut t = arp();
    reachable(&mut t, 0);
    t.create(3, &PEER, NeighInit::Resolve, 0).unwrap();
    *t.pneigh_lookup(&PEER, 2, true).unwrap() = 0;
    assert_eq!(t.ifdown(Some(2)), 1);
    assert_eq!((t.len(), t.is_proxied(&PEER, 2)), (1, false));
    let mut t = arp();
    t.neigh_event_ns(2, &PEER, MAC, NeighInit::Resolve, 0).unwrap();
    assert_eq!(state(&t), NUD_STALE);
    assert!(!t.locktime_passed(2, &PEER, S));
    assert!(t.locktime_passed(2, &PEER, S + 4 * MS));
    let mut n = Nd::nd(0, 1);
    let a: Ipv6Addr = "fe80::2".parse().unwrap();
    n.neigh_event_ns(2, &a, MAC, NeighInit::Resolve, 0).unwrap();
    assert!(!n.locktime_passed(2, &a, 3 * MS) && n.locktime_passed(2, &a, 4 * MS));
}
