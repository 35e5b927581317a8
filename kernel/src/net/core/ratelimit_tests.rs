//! Token arithmetic of 4.3's ICMP limiters at their boundaries (`icmp_global_allow`,
//! `inet_peer_xrlim_allow`, `icmpv4_xrlim_allow`, `icmpv6_xrlim_allow`, `ip_error`).

use super::*;
use crate::net::core::inetpeer::{inet_peer_xrlim_allow, InetPeer, INET_PEER_MAXTTL};
use crate::net::core::jiffies::{jiffies_to_ns, ns_to_jiffies};

const J: u64 = 4_000_000; // one jiffy in ns
const S: u64 = 1_000_000_000;

fn count(n: usize, mut f: impl FnMut() -> bool) -> usize {
    (0..n).filter(|_| f()).count()
}

#[test]
fn global_bucket_starts_full_and_refills_every_20ms() {
    let sc = IcmpSysctl::new();
    let mut g = IcmpGlobal::new();
    // INITIAL_JIFFIES: the first call after boot sees a second elapsed and fills to 50.
    assert_eq!(count(60, || g.allow(&sc, 0)), 50);
    assert_eq!(g.stamp, ns_to_jiffies(0) as u32);
    // 4 jiffies (16 ms) later: still nothing; at 5 (20 ms) 1000 * 5 / 250 = 20 tokens.
    assert!(!g.allow(&sc, 4 * J));
    assert_eq!(count(30, || g.allow(&sc, 5 * J)), 20);
    // A long pause refills only up to the burst.
    assert_eq!(count(100, || g.allow(&sc, 10 * S)), 50);
}

#[test]
fn global_bucket_stamp_waits_for_a_whole_token() {
    let sc = IcmpSysctl { msgs_per_sec: 10, ..IcmpSysctl::new() };
    let mut g = IcmpGlobal::new();
    assert_eq!(count(20, || g.allow(&sc, 0)), 10);
    // 10 * 24 / 250 = 0 tokens: the stamp stays, so the time keeps counting.
    assert!(!g.allow(&sc, 24 * J));
    assert!(g.allow(&sc, 25 * J));
    assert!(!g.allow(&sc, 26 * J));
}

#[test]
fn peer_bucket_burst_of_six_then_one_per_timeout() {
    let mut peers = InetPeerBase::<u32>::new();
    assert_eq!(count(10, || peers.xrlim_allow(&1, 250, 0)), 6);
    assert_eq!(peers.get(&1).map(|p| p.rate_tokens), Some(0));
    assert!(!peers.xrlim_allow(&1, 250, 249 * J));
    // The refused call moved rate_last and kept its 249 tokens; one more jiffy is enough.
    assert!(peers.xrlim_allow(&1, 250, 250 * J));
    assert!(!peers.xrlim_allow(&1, 250, 250 * J));
    // Six timeouts of quiet restore the whole burst, and no more.
    assert_eq!(count(10, || peers.xrlim_allow(&1, 250, 250 * J + 6 * S)), 6);
    // Timeout 0: never limited.
    assert_eq!(count(10, || peers.xrlim_allow(&2, 0, 0)), 10);
    // No peer (allocation failure): allowed.
    assert!(inet_peer_xrlim_allow(None, 250, 0));
    let mut p = InetPeer { rate_tokens: 1499, rate_last: ns_to_jiffies(0), dtime: 0 };
    assert!(inet_peer_xrlim_allow(Some(&mut p), 250, 2 * J));
    assert_eq!(p.rate_tokens, 1250);
}

#[test]
fn icmpv4_types_and_exemptions() {
    let sc = IcmpSysctl::new();
    let (mut g, mut peers) = (IcmpGlobal::new(), InetPeerBase::new());
    let d = Ipv4Addr::new(192, 0, 2, 9);
    let mut send = |t: u8, c: u8, lo: bool| icmpv4_xrlim_allow(&mut g, &mut peers, &sc, t, c, lo, d, 0, S);
    // Port unreachable: a new destination gets 6 of 10.
    assert_eq!(count(10, || send(3, 3, false)), 6);
    // Echo reply (0), Frag Needed, types above 18, loopback: never limited.
    assert_eq!(count(10, || send(0, 0, false)), 10);
    assert_eq!(count(10, || send(3, 4, false)), 10);
    assert_eq!(count(10, || send(19, 0, false)), 10);
    assert_eq!(count(10, || send(11, 0, true)), 10);
    // Time Exceeded (11) is in 0x1818 and shares the destination's bucket.
    assert!(!send(11, 0, false));
    // Redirect (5) is not in the mask.
    assert!(send(5, 1, false));
    // The VRF index is part of the key.
    assert!(icmpv4_xrlim_allow(&mut g, &mut peers, &sc, 3, 3, false, d, 7, S));
}

#[test]
fn global_refusal_spends_no_peer_tokens() {
    let sc = IcmpSysctl::new();
    let (mut g, mut peers) = (IcmpGlobal::new(), InetPeerBase::new());
    assert_eq!(count(50, || g.allow(&sc, 0)), 50);
    let d = Ipv4Addr::new(192, 0, 2, 1);
    assert!(!icmpv4_xrlim_allow(&mut g, &mut peers, &sc, 3, 1, false, d, 0, J));
    assert!(peers.get(&(d, 0)).is_none());
}

#[test]
fn icmpv6_prefix_scaling() {
    let t = 250;
    let want = [
        (128, 250),
        (127, 250),
        (97, 250),
        (96, 125),
        (65, 125),
        (64, 62),
        (33, 62),
        (32, 31),
        (1, 31),
        (0, 15),
    ];
    for (plen, tmo) in want {
        assert_eq!(icmpv6_timeout(t, plen), tmo, "/{plen}");
    }
}

#[test]
fn icmpv6_limits() {
    let sc = IcmpSysctl::new();
    let (mut g, mut peers) = (IcmpGlobal::new(), InetPeerBase::new());
    let d: Ipv6Addr = "2001:db8::9".parse().unwrap();
    let mut send = |t: u8, r: Icmpv6Route, at: u64| icmpv6_xrlim_allow(&mut g, &mut peers, &sc, t, r, d, at);
    // Echo reply, PTB: never limited. No route: refused.
    assert_eq!(count(10, || send(129, Icmpv6Route::Error, 0)), 10);
    assert_eq!(count(10, || send(2, Icmpv6Route::Prefix(128), 0)), 10);
    assert!(!send(1, Icmpv6Route::Error, 0));
    assert_eq!(count(10, || send(1, Icmpv6Route::Loopback, 0)), 10);
    // 100 errors in 1 ms over a /64 route: the new peer's burst of 6, then one per 62 jiffies.
    assert_eq!(count(100, || send(1, Icmpv6Route::Prefix(64), 0)), 6);
    assert!(!send(1, Icmpv6Route::Prefix(64), 61 * J));
    assert!(send(1, Icmpv6Route::Prefix(64), 62 * J));
    // Over a /128 the same destination now needs 250 jiffies per token.
    assert!(!send(1, Icmpv6Route::Prefix(128), 62 * J + 249 * J));
    assert!(send(1, Icmpv6Route::Prefix(128), 62 * J + 250 * J));
}

#[test]
fn route_errors_and_icmp_share_one_bucket() {
    let sc = IcmpSysctl::new();
    let src = (Ipv4Addr::new(198, 51, 100, 7), 0);
    // ip_error alone: 5 back to back (burst 5 s, cost 1 s).
    let mut peers = InetPeerBase::new();
    assert_eq!(count(10, || peers.ip_error_allow(&src, 0)), 5);
    // As 4.3 runs them, ip_error then icmp_send's xrlim for the same address: 2 errors.
    let (mut g, mut peers) = (IcmpGlobal::new(), InetPeerBase::new());
    let sent = count(10, || {
        peers.ip_error_allow(&src, 0) && icmpv4_xrlim_allow(&mut g, &mut peers, &sc, 3, 0, false, src.0, 0, 0)
    });
    assert_eq!(sent, 2);
}

#[test]
fn peer_pool_gc_and_bound() {
    let mut peers = InetPeerBase::<u32>::new();
    assert_eq!(peers.gc_ttl(), INET_PEER_MAXTTL);
    peers.threshold = 10;
    for k in 0..5 {
        peers.xrlim_allow(&k, 250, 0);
    }
    // 600 s - 480 * 5 / 10 s = 360 s.
    assert_eq!(peers.gc_ttl(), 360 * 250);
    // A creating miss 360 s later frees the idle neighbours of the new key.
    peers.xrlim_allow(&100, 250, jiffies_to_ns(ns_to_jiffies(0) + 360 * 250) - 1);
    assert_eq!(peers.len(), 6);
    peers.xrlim_allow(&101, 250, 360 * S);
    assert_eq!(peers.len(), 2);
    // At the threshold the TTL is 0: the pool never grows past it.
    peers.threshold = 100;
    for k in 0..10_000u32 {
        peers.xrlim_allow(&(k.wrapping_mul(2_654_435_761)), 250, 400 * S);
        assert!(peers.len() <= 101);
    }
    // A lookup that may not create finds nothing and frees nothing.
    let mut fresh = InetPeerBase::<u32>::new();
    assert!(fresh.getpeer(&1, false, 0).is_none() && fresh.is_empty());
}
