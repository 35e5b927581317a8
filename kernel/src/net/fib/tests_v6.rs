//! IPv6: longest-prefix match, metric tie-break, device scoring, router preference,
//! reject routes, the null entry, every errno of add and delete.

use super::*;
use alloc::vec;

pub(super) fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn r6(s: &str, len: u8) -> Route<Ipv6Addr> {
    Route::new(a6(s), len)
}

fn dev_of(f: &Fib6, fl: Flow<Ipv6Addr>) -> Result<u32, Errno> {
    f.lookup(&fl).map(|r| r.route.oif).map_err(|e| e.errno)
}

fn out(d: &str) -> Flow<Ipv6Addr> {
    // A chosen source keeps oif lookups non-strict (ip6_route_output).
    Flow::output(a6(d)).src(a6("2001:db8::100"))
}

#[test]
fn longest_prefix_then_lowest_metric() {
    let mut f = Fib6::new();
    f.add(0, r6("::", 0).via(a6("fe80::1")).dev(9), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8::", 32).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8:1::", 48).dev(3).metric(300), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8:1::", 48).dev(4).metric(100), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8:1::5", 128).dev(5), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, out("2001:db8:1::5")), Ok(5));
    assert_eq!(dev_of(&f, out("2001:db8:1::6")), Ok(4));
    assert_eq!(dev_of(&f, out("2001:db8:2::6")), Ok(2));
    assert_eq!(dev_of(&f, out("2001:db9::1")), Ok(9));
    let res = f.lookup(&out("2001:db8:1::6")).unwrap();
    assert_eq!((res.table, res.rule, res.route.priority), (RT_TABLE_MAIN, Some(0x7ffe), 100));
    assert_eq!(
        f.routes(0).iter().map(|r| r.priority).collect::<Vec<_>>(),
        vec![1024, 100, 300, 1024, 1024]
    );
}

#[test]
fn add_defaults_and_host_bits() {
    let mut f = Fib6::new();
    f.add(0, r6("2001:db8::1", 64).dev(2).proto(RTPROT_UNSPEC), NlFlags::ADD).unwrap();
    let r = f.routes(0)[0].clone();
    // Host bits are cleared silently (ipv6_addr_prefix), metric 0 → 1024, proto 0 → boot.
    assert_eq!(
        (r.dst, r.priority, r.protocol, r.scope),
        (a6("2001:db8::"), IP6_RT_PRIO_USER, RTPROT_BOOT, RT_SCOPE_UNIVERSE)
    );
    assert_eq!(f.add(0, r6("2001:db8::", 129).dev(2), NlFlags::ADD), Err(Errno::EINVAL));
    assert_eq!(f.add(0, r6("2001:db8:5::", 64), NlFlags::ADD), Err(Errno::ENODEV));
    assert_eq!(f.add(0, r6("2001:db8::", 64).dev(3), NlFlags::ADD), Err(Errno::EEXIST));
    assert_eq!(f.add(0, r6("2001:db8::", 64).dev(2), NlFlags::PREPEND), Err(Errno::EEXIST));
    // Same metric, another device: allowed without NLM_F_EXCL, after the first.
    f.add(0, r6("2001:db8::", 64).dev(3), NlFlags::APPEND).unwrap();
    f.add(0, r6("2001:db8::", 64).dev(4).metric(10), NlFlags::ADD).unwrap();
    assert_eq!(f.routes(0).iter().map(|r| r.oif).collect::<Vec<_>>(), vec![4, 2, 3]);
    assert_eq!(f.add(0, r6("2001:db8:7::", 64).dev(3), NlFlags::CHANGE), Err(Errno::ENOENT));
    f.add(0, r6("2001:db8::", 64).dev(5).metric(10), NlFlags::REPLACE).unwrap();
    assert_eq!(f.routes(0).iter().map(|r| r.oif).collect::<Vec<_>>(), vec![5, 2, 3]);
    f.add(0, r6("2001:db8:7::", 64).dev(3), NlFlags::REPLACE).unwrap();
    // The table exists once the route got that far, even when refused.
    assert_eq!(f.add(66, r6("2001:db8:5::", 64), NlFlags::ADD), Err(Errno::ENODEV));
    assert!(f.table_exists(66));
}

#[test]
fn delete_errnos() {
    let mut f = Fib6::new();
    f.add(0, r6("2001:db8::", 64).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8::", 64).dev(3).via(a6("fe80::1")).metric(5), NlFlags::ADD).unwrap();
    let del = |f: &mut Fib6, t: u32, s: RouteSpec<Ipv6Addr>| f.delete(t, &s).map(|r| r.oif);
    assert_eq!(del(&mut f, 9, RouteSpec::new(a6("2001:db8::"), 64)), Err(Errno::ESRCH));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a6("2001:db8::"), 129)), Err(Errno::ESRCH));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a6("2001:db8::"), 63)), Err(Errno::ESRCH));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a6("2001:db8::"), 64).dev(7)), Err(Errno::ESRCH));
    assert_eq!(
        del(&mut f, 0, RouteSpec::new(a6("2001:db8::"), 64).via(a6("fe80::2"))),
        Err(Errno::ESRCH)
    );
    assert_eq!(del(&mut f, 0, RouteSpec::new(a6("2001:db8::"), 64).metric(7)), Err(Errno::ESRCH));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a6("2001:db8::"), 64).via(a6("fe80::1"))), Ok(3));
    // Host bits in a delete are ignored (fib6_locate compares the prefix only).
    assert_eq!(del(&mut f, 0, RouteSpec::new(a6("2001:db8::99"), 64)), Ok(2));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a6("2001:db8::"), 64)), Err(Errno::ESRCH));
}

#[test]
fn reject_routes() {
    let mut f = Fib6::new();
    for (p, t) in [
        ("2001:db8:1::", RouteType::Unreachable),
        ("2001:db8:2::", RouteType::Prohibit),
        ("2001:db8:3::", RouteType::Blackhole),
        ("2001:db8:4::", RouteType::Throw),
    ] {
        // The device given is replaced by lo; a gateway is dropped.
        f.add(0, r6(p, 48).rtype(t).dev(2).via(a6("fe80::1")), NlFlags::ADD).unwrap();
    }
    // A route via lo to anything but ::1 becomes a reject route (ENETUNREACH).
    f.add(0, r6("2001:db8:5::", 48).dev(LOOPBACK_IFINDEX), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8::", 32).dev(2), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, out("2001:db8:1::1")), Err(Errno::EHOSTUNREACH));
    assert_eq!(dev_of(&f, out("2001:db8:2::1")), Err(Errno::EACCES));
    assert_eq!(dev_of(&f, out("2001:db8:3::1")), Err(Errno::EINVAL));
    assert_eq!(
        dev_of(&f, out("2001:db8:4::1")),
        Err(Errno::ENETUNREACH),
        "throw, then no rule left"
    );
    assert_eq!(dev_of(&f, out("2001:db8:5::1")), Err(Errno::ENETUNREACH));
    assert_eq!(dev_of(&f, out("2001:db8:6::1")), Ok(2));
    let e = f.lookup(&out("2001:db8:1::1")).unwrap_err();
    let r = e.route.unwrap();
    assert_eq!(
        (r.oif, r.idev, r.gateway, e.table),
        (LOOPBACK_IFINDEX, LOOPBACK_IFINDEX, None, RT_TABLE_MAIN)
    );
    assert_eq!(f.lookup(&out("2001:db9::1")).unwrap_err().route, None);
    // The root's null entry collides with an exclusive default route of metric ~0.
    assert_eq!(f.add(0, r6("::", 0).dev(2).metric(u32::MAX), NlFlags::ADD), Err(Errno::EEXIST));
    f.add(0, r6("::", 0).dev(2).metric(u32::MAX), NlFlags::APPEND).unwrap();
}

#[test]
fn device_scoring() {
    let mut f = Fib6::new();
    f.add(0, r6("2001:db8::", 64).dev(2).metric(10), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8::", 64).dev(3).metric(10), NlFlags::APPEND).unwrap();
    f.add(0, r6("2001:db8::", 64).dev(4).metric(20), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8::", 32).dev(5), NlFlags::ADD).unwrap();
    // No oif: first of the lowest metric.
    assert_eq!(dev_of(&f, out("2001:db8::9")), Ok(2));
    // oif among the lowest metric: preferred.
    assert_eq!(dev_of(&f, out("2001:db8::9").oif(3)), Ok(3));
    // oif only at a higher metric, non-strict: the lowest metric still wins.
    assert_eq!(dev_of(&f, out("2001:db8::9").oif(4)), Ok(2));
    // Strict (oif with no source): the higher metric is searched, then shorter prefixes.
    let strict = |o| Flow::output(a6("2001:db8::9")).oif(o);
    assert_eq!(dev_of(&f, strict(4)), Ok(4));
    assert_eq!(dev_of(&f, strict(5)), Ok(5));
    assert_eq!(dev_of(&f, strict(6)), Err(Errno::ENETUNREACH));
    assert_eq!(dev_of(&f, out("2001:db8::9").oif(6).strict()), Err(Errno::ENETUNREACH));
    // skip_nh_oif (the VRF's lookups) ignores the device.
    assert_eq!(dev_of(&f, strict(6).skip_nh_oif()), Ok(2));
    // Input lookups score devices against the input interface.
    let inp = |i| Flow::input(a6("2001:db8::9"), a6("2001:db8:ffff::1"), i);
    assert_eq!(dev_of(&f, inp(3)), Ok(3));
    assert_eq!(dev_of(&f, inp(4)), Ok(2));
    // Link-local destinations are strict: only routes on the oif.
    f.add(0, r6("fe80::", 64).dev(2).metric(256), NlFlags::ADD).unwrap();
    f.add(0, r6("fe80::", 64).dev(3).metric(256), NlFlags::APPEND).unwrap();
    assert_eq!(dev_of(&f, Flow::output(a6("fe80::7")).src(a6("fe80::1")).oif(3)), Ok(3));
    assert_eq!(
        dev_of(&f, Flow::output(a6("fe80::7")).src(a6("fe80::1")).oif(4)),
        Err(Errno::ENETUNREACH)
    );
}

#[test]
fn router_preference_outranks_device() {
    let mut f = Fib6::new();
    f.add(0, r6("::", 0).via(a6("fe80::1")).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r6("::", 0).via(a6("fe80::2")).dev(3).pref(RouterPref::High), NlFlags::APPEND)
        .unwrap();
    f.add(0, r6("::", 0).via(a6("fe80::3")).dev(4).pref(RouterPref::Low), NlFlags::APPEND).unwrap();
    assert_eq!(dev_of(&f, out("2001:db8::1")), Ok(3));
    assert_eq!(dev_of(&f, out("2001:db8::1").oif(2)), Ok(3));
    assert_eq!(RouterPref::from_bits(2), RouterPref::Medium);
    assert_eq!(RouterPref::Low.bits(), 3);
}

#[test]
fn kernel_local_routes() {
    let mut f = Fib6::new();
    // addrconf_dst_alloc: dev lo, idev the address's interface, metric 0, protocol 0.
    let local = r6("2001:db8::2", 128)
        .rtype(RouteType::Local)
        .dev(LOOPBACK_IFINDEX)
        .idev(2)
        .proto(RTPROT_UNSPEC);
    f.insert_raw(RT_TABLE_LOCAL, local.clone(), NlFlags::PREPEND).unwrap();
    assert_eq!(f.insert_raw(RT_TABLE_LOCAL, local, NlFlags::PREPEND), Err(Errno::EEXIST));
    f.add(
        0,
        r6("2001:db8::", 64).dev(2).metric(IP6_RT_PRIO_ADDRCONF).proto(RTPROT_KERNEL),
        NlFlags::ADD,
    )
    .unwrap();
    let got = f.lookup(&out("2001:db8::2")).unwrap();
    assert_eq!(
        (got.route.rtype, got.route.priority, got.table, got.rule),
        (RouteType::Local, 0, RT_TABLE_LOCAL, Some(0))
    );
    // A strict lookup bound to eth0 still finds it: lo standing for eth0 scores 1.
    let strict = Flow::output(a6("2001:db8::2")).oif(2);
    assert_eq!(f.lookup(&strict).unwrap().route.rtype, RouteType::Local);
    assert_eq!(f.table_lookup(RT_TABLE_LOCAL, &strict).unwrap().table, RT_TABLE_LOCAL);
    assert_eq!(
        f.table_lookup(RT_TABLE_LOCAL, &out("2001:db8::3")).unwrap_err().errno,
        Errno::ENETUNREACH
    );
}
