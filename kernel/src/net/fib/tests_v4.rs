//! IPv4: longest-prefix match, TOS/priority order, tables, every errno of add, delete and
//! lookup, the pre-rules fast path.

use super::*;
use alloc::vec;

pub(super) fn a4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn r4(s: &str, len: u8) -> Route<Ipv4Addr> {
    Route::new(a4(s), len)
}

fn dev_of(f: &Fib4, d: &str) -> Result<u32, Errno> {
    f.lookup(&Flow::output(a4(d))).map(|r| r.route.oif).map_err(|e| e.errno)
}

#[test]
fn longest_prefix_wins() {
    let mut f = Fib4::new();
    f.add(0, r4("0.0.0.0", 0).via(a4("192.0.2.1")).dev(9), NlFlags::ADD).unwrap();
    f.add(0, r4("10.0.0.0", 8).dev(2).scope(RT_SCOPE_LINK), NlFlags::ADD).unwrap();
    f.add(0, r4("10.1.0.0", 16).dev(3), NlFlags::ADD).unwrap();
    f.add(0, r4("10.1.2.0", 24).dev(4), NlFlags::ADD).unwrap();
    f.add(0, r4("10.1.2.3", 32).dev(5), NlFlags::ADD).unwrap();
    // A /8 and a /24 on the same key live in one trie leaf; the longer one wins.
    f.add(0, r4("10.0.0.0", 24).dev(6), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, "10.1.2.3"), Ok(5));
    assert_eq!(dev_of(&f, "10.1.2.4"), Ok(4));
    assert_eq!(dev_of(&f, "10.1.3.4"), Ok(3));
    assert_eq!(dev_of(&f, "10.0.0.9"), Ok(6));
    assert_eq!(dev_of(&f, "10.0.1.9"), Ok(2));
    assert_eq!(dev_of(&f, "11.0.0.1"), Ok(9));
    let res = f.lookup(&Flow::output(a4("10.1.2.200"))).unwrap();
    assert_eq!(
        (res.route.dst, res.route.dst_len, res.table, res.rule),
        (a4("10.1.2.0"), 24, RT_TABLE_MAIN, None)
    );
}

#[test]
fn no_route_and_reject_types() {
    let mut f = Fib4::new();
    assert_eq!(dev_of(&f, "10.0.0.1"), Err(Errno::ENETUNREACH));
    f.add(0, r4("10.1.0.0", 16).rtype(RouteType::Unreachable), NlFlags::ADD).unwrap();
    f.add(0, r4("10.2.0.0", 16).rtype(RouteType::Prohibit), NlFlags::ADD).unwrap();
    f.add(0, r4("10.3.0.0", 16).rtype(RouteType::Blackhole), NlFlags::ADD).unwrap();
    f.add(0, r4("10.4.0.0", 16).rtype(RouteType::Throw), NlFlags::ADD).unwrap();
    f.add(0, r4("10.0.0.0", 8).dev(2), NlFlags::ADD).unwrap();
    // fib_props: EHOSTUNREACH, EACCES, EINVAL; a throw with nothing after it: ENETUNREACH.
    assert_eq!(dev_of(&f, "10.1.0.1"), Err(Errno::EHOSTUNREACH));
    assert_eq!(dev_of(&f, "10.2.0.1"), Err(Errno::EACCES));
    assert_eq!(dev_of(&f, "10.3.0.1"), Err(Errno::EINVAL));
    assert_eq!(dev_of(&f, "10.4.0.1"), Err(Errno::ENETUNREACH));
    assert_eq!(dev_of(&f, "10.5.0.1"), Ok(2));
    let e = f.lookup(&Flow::output(a4("10.1.2.3"))).unwrap_err();
    assert_eq!(e.route.map(|r| r.dst_len), Some(16));
    assert_eq!(e.table, RT_TABLE_MAIN);
    // The error comes before the oif test: a reject route stops even a device-bound lookup.
    assert_eq!(
        f.lookup(&Flow::output(a4("10.1.0.1")).oif(7)).unwrap_err().errno,
        Errno::EHOSTUNREACH
    );
    // table_lookup reports a throw as EAGAIN, as fib_table_lookup does.
    assert_eq!(f.table_lookup(0, &Flow::output(a4("10.4.0.1"))).unwrap_err().errno, Errno::EAGAIN);
}

#[test]
fn tos_then_priority_order() {
    let mut f = Fib4::new();
    f.add(0, r4("10.0.0.0", 8).dev(2).metric(10), NlFlags::ADD).unwrap();
    f.add(0, r4("10.0.0.0", 8).dev(4).metric(5), NlFlags::ADD).unwrap();
    f.add(0, r4("10.0.0.0", 8).dev(3).tos(0x10), NlFlags::ADD).unwrap();
    let order: Vec<(u8, u32, u32)> =
        f.routes(0).iter().map(|r| (r.tos, r.priority, r.oif)).collect();
    assert_eq!(order, vec![(0x10, 0, 3), (0, 5, 4), (0, 10, 2)]);
    let dev =
        |f: &Fib4, fl: Flow<Ipv4Addr>| f.lookup(&fl).map(|r| r.route.oif).map_err(|e| e.errno);
    assert_eq!(dev(&f, Flow::output(a4("10.9.9.9")).tos(0x10)), Ok(3));
    assert_eq!(dev(&f, Flow::output(a4("10.9.9.9"))), Ok(4));
    assert_eq!(dev(&f, Flow::output(a4("10.9.9.9")).tos(0x08)), Ok(4));
    // oif skips aliases whose next hop is elsewhere, and backtracks to shorter prefixes.
    assert_eq!(dev(&f, Flow::output(a4("10.9.9.9")).oif(2)), Ok(2));
    assert_eq!(dev(&f, Flow::output(a4("10.9.9.9")).oif(8)), Err(Errno::ENETUNREACH));
    f.add(0, r4("0.0.0.0", 0).dev(8).via(a4("192.0.2.1")), NlFlags::ADD).unwrap();
    assert_eq!(dev(&f, Flow::output(a4("10.9.9.9")).oif(8)), Ok(8));
    // FLOWI_FLAG_SKIP_NH_OIF: the oif no longer filters next hops.
    assert_eq!(dev(&f, Flow::output(a4("10.9.9.9")).oif(8).skip_nh_oif()), Ok(4));
}

#[test]
fn scope_filter() {
    let mut f = Fib4::new();
    f.add(0, r4("10.0.0.0", 8).via(a4("192.0.2.1")).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r4("10.1.0.0", 16).dev(3).scope(RT_SCOPE_LINK), NlFlags::ADD).unwrap();
    let fl = |d: &str| Flow::output(a4(d)).scope(RT_SCOPE_LINK);
    assert_eq!(f.lookup(&fl("10.1.1.1")).map(|r| r.route.oif).ok(), Some(3));
    assert_eq!(f.lookup(&fl("10.2.1.1")).unwrap_err().errno, Errno::ENETUNREACH);
}

#[test]
fn tables_are_separate() {
    let mut f = Fib4::new();
    f.add(10, r4("10.0.0.0", 8).dev(2), NlFlags::ADD).unwrap();
    f.add(RT_TABLE_MAIN, r4("10.0.0.0", 8).dev(3), NlFlags::ADD).unwrap();
    assert!(f.table_exists(10) && !f.table_exists(11));
    assert_eq!(f.table_lookup(10, &Flow::output(a4("10.0.0.1"))).unwrap().route.oif, 2);
    assert_eq!(dev_of(&f, "10.0.0.1"), Ok(3));
    assert_eq!(f.routes(10).len(), 1);
    assert_eq!(f.routes(RT_TABLE_UNSPEC).len(), 1, "table 0 is main");
    // Without rules, a main miss falls to the default table.
    assert_eq!(dev_of(&f, "11.0.0.1"), Err(Errno::ENETUNREACH));
    f.add(RT_TABLE_DEFAULT, r4("0.0.0.0", 0).dev(4), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, "11.0.0.1"), Ok(4));
    let res = f.lookup(&Flow::output(a4("11.0.0.1"))).unwrap();
    assert_eq!(res.table, RT_TABLE_DEFAULT);
    // Tables are listed by hash bucket (id & 255).
    f.add(266, r4("10.0.0.0", 8).dev(2), NlFlags::ADD).unwrap();
    assert_eq!(f.table_ids(), vec![266, 10, 253, 254, 255]);
}

#[test]
fn fast_path_quirks() {
    let mut f = Fib4::new();
    // Before any rule change main and local share a trie: the longer prefix wins across
    // them, so a main /16 beats local's 127/8.
    f.add(
        RT_TABLE_LOCAL,
        r4("127.0.0.0", 8).rtype(RouteType::Local).dev(1).scope(RT_SCOPE_HOST).proto(RTPROT_KERNEL),
        NlFlags::ADD,
    )
    .unwrap();
    f.add(0, r4("127.1.0.0", 16).dev(2), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, "127.1.2.3"), Ok(2));
    assert_eq!(f.addr_type(a4("127.1.2.3")), RouteType::Unicast);
    // An unreachable route in main is overridden by the default table once it exists,
    // even by its miss (fib_lookup only keeps main's answer when it is a success).
    f.add(0, r4("10.0.0.0", 8).rtype(RouteType::Unreachable), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, "10.0.0.1"), Err(Errno::EHOSTUNREACH));
    f.add(RT_TABLE_DEFAULT, r4("192.0.2.0", 24).dev(4), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, "10.0.0.1"), Err(Errno::ENETUNREACH));
    // The first rule change unmerges: now rule 0 asks local first.
    assert!(!f.has_custom_rules());
    f.add_rule(&RuleSpec::lookup(100).pref(100), &BTreeMap::new()).unwrap();
    assert!(f.has_custom_rules());
    assert_eq!(f.lookup(&Flow::output(a4("127.1.2.3"))).unwrap().route.rtype, RouteType::Local);
    assert_eq!(dev_of(&f, "10.0.0.1"), Err(Errno::EHOSTUNREACH));
}

#[test]
fn add_errnos() {
    let mut f = Fib4::new();
    let add = |f: &mut Fib4, r: Route<Ipv4Addr>, nl| f.add(0, r, nl);
    assert_eq!(add(&mut f, r4("10.0.0.0", 33).dev(2), NlFlags::ADD), Err(Errno::EINVAL));
    // fib_table_insert: key << plen must be 0 (iproute2's "Invalid prefix for given prefix
    // length" is the same check made in user space).
    assert_eq!(add(&mut f, r4("10.0.0.1", 24).dev(2), NlFlags::ADD), Err(Errno::EINVAL));
    assert_eq!(
        add(
            &mut f,
            r4("10.0.0.0", 24).dev(2).via(a4("10.0.0.1")).rtype(RouteType::Unreachable),
            NlFlags::ADD
        ),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        add(&mut f, r4("10.0.0.0", 24).dev(2).rtype(RouteType::Prohibit), NlFlags::ADD),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        add(&mut f, r4("10.0.0.0", 24).dev(2).rtype(RouteType::Unspec), NlFlags::ADD),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        add(&mut f, r4("10.0.0.0", 24).dev(2).rtype(RouteType::Nat), NlFlags::ADD),
        Err(Errno::EINVAL)
    );
    // fib_props scope: local needs host scope, broadcast at least link.
    assert_eq!(
        add(&mut f, r4("10.0.0.1", 32).dev(2).rtype(RouteType::Local), NlFlags::ADD),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        add(&mut f, r4("10.0.0.255", 32).dev(2).rtype(RouteType::Broadcast), NlFlags::ADD),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        add(&mut f, r4("10.0.0.0", 24).dev(2).scope(RT_SCOPE_NOWHERE), NlFlags::ADD),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        add(
            &mut f,
            r4("10.0.0.0", 24).dev(2).via(a4("10.0.0.1")).scope(RT_SCOPE_HOST),
            NlFlags::ADD
        ),
        Err(Errno::EINVAL)
    );
    // A preferred source must be a local address.
    assert_eq!(
        add(&mut f, r4("10.0.0.0", 24).dev(2).src(a4("10.0.0.2")), NlFlags::ADD),
        Err(Errno::EINVAL)
    );
    f.add(
        RT_TABLE_LOCAL,
        r4("10.0.0.2", 32).dev(2).rtype(RouteType::Local).scope(RT_SCOPE_HOST).src(a4("10.0.0.2")),
        NlFlags::ADD,
    )
    .unwrap();
    add(&mut f, r4("10.0.0.0", 24).dev(2).src(a4("10.0.0.2")), NlFlags::ADD).unwrap();
    assert_eq!(add(&mut f, r4("10.0.0.0", 24).dev(3), NlFlags::ADD), Err(Errno::EEXIST));
    add(&mut f, r4("10.0.0.0", 24).dev(3).metric(1), NlFlags::ADD).unwrap();
    assert_eq!(
        add(&mut f, r4("10.0.0.0", 24).dev(3).metric(1), NlFlags::APPEND),
        Err(Errno::EEXIST)
    );
    assert_eq!(add(&mut f, r4("10.9.0.0", 24).dev(3), NlFlags::CHANGE), Err(Errno::ENOENT));
    assert_eq!(add(&mut f, r4("10.9.0.0", 24).dev(3), NlFlags::TEST), Err(Errno::ENOENT));
    // The table is created before the insertion fails (inet_rtm_newroute).
    assert_eq!(f.add(77, r4("10.0.0.1", 24).dev(2), NlFlags::ADD), Err(Errno::EINVAL));
    assert!(f.table_exists(77));
}

#[test]
fn append_prepend_replace() {
    let mut f = Fib4::new();
    let devs = |f: &Fib4| f.routes(0).iter().map(|r| r.oif).collect::<Vec<_>>();
    f.add(0, r4("10.0.0.0", 8).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r4("10.0.0.0", 8).dev(3), NlFlags::APPEND).unwrap();
    f.add(0, r4("10.0.0.0", 8).dev(4), NlFlags::PREPEND).unwrap();
    assert_eq!(devs(&f), vec![4, 2, 3]);
    assert_eq!(dev_of(&f, "10.0.0.1"), Ok(4));
    // Replace swaps the first alias of the same TOS and priority.
    f.add(0, r4("10.0.0.0", 8).dev(5), NlFlags::REPLACE).unwrap();
    assert_eq!(devs(&f), vec![5, 2, 3]);
    // Replacing with an identical route that is not first: EEXIST; first: nothing to do.
    assert_eq!(f.add(0, r4("10.0.0.0", 8).dev(2), NlFlags::REPLACE), Err(Errno::EEXIST));
    assert_eq!(f.add(0, r4("10.0.0.0", 8).dev(5), NlFlags::REPLACE), Ok(()));
    f.add(0, r4("10.0.0.0", 8).dev(6), NlFlags::CHANGE).unwrap();
    assert_eq!(devs(&f), vec![6, 2, 3]);
    // Replace of something absent creates it.
    f.add(0, r4("10.1.0.0", 16).dev(7), NlFlags::REPLACE).unwrap();
    assert_eq!(dev_of(&f, "10.1.0.1"), Ok(7));
}

#[test]
fn encap_is_part_of_identity() {
    let mut f = Fib4::new();
    let mpls = |l: u32| LwtState::Mpls { labels: vec![l] };
    f.add(0, r4("10.10.0.0", 24).via(a4("10.1.1.2")).dev(2).encap(mpls(200)), NlFlags::ADD)
        .unwrap();
    assert_eq!(
        f.add(0, r4("10.10.0.0", 24).via(a4("10.1.1.2")).dev(2).encap(mpls(200)), NlFlags::APPEND),
        Err(Errno::EEXIST)
    );
    f.add(0, r4("10.10.0.0", 24).via(a4("10.1.1.2")).dev(2).encap(mpls(300)), NlFlags::APPEND)
        .unwrap();
    let got = f.lookup(&Flow::output(a4("10.10.0.9"))).unwrap();
    assert_eq!(got.route.encap, Some(mpls(200)));
    assert_eq!(got.route.encap.as_ref().map(LwtState::encap_type), Some(lwt::LWTUNNEL_ENCAP_MPLS));
    // A delete naming a next hop compares the encap too.
    let spec = RouteSpec::new(a4("10.10.0.0"), 24).dev(2).encap(mpls(300));
    assert_eq!(f.delete(0, &spec).unwrap().encap, Some(mpls(300)));
    assert_eq!(f.delete(0, &spec), Err(Errno::ESRCH));
}

#[test]
fn delete_errnos_and_selectors() {
    let mut f = Fib4::new();
    f.add(0, r4("10.0.0.0", 24).dev(2).proto(RTPROT_KERNEL).scope(RT_SCOPE_LINK), NlFlags::ADD)
        .unwrap();
    f.add(0, r4("10.0.0.0", 24).dev(3).metric(100), NlFlags::ADD).unwrap();
    let del = |f: &mut Fib4, t: u32, s: RouteSpec<Ipv4Addr>| f.delete(t, &s).map(|r| r.oif);
    assert_eq!(del(&mut f, 42, RouteSpec::new(a4("10.0.0.0"), 24)), Err(Errno::ESRCH));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 33)), Err(Errno::EINVAL));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.0.1"), 24)), Err(Errno::EINVAL));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.1.0"), 24)), Err(Errno::ESRCH));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24).tos(0x10)), Err(Errno::ESRCH));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24).dev(9)), Err(Errno::ESRCH));
    assert_eq!(
        del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24).proto(RTPROT_STATIC)),
        Err(Errno::ESRCH)
    );
    assert_eq!(
        del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24).rtype(RouteType::Local)),
        Err(Errno::ESRCH)
    );
    assert_eq!(
        del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24).scope(RT_SCOPE_HOST)),
        Err(Errno::ESRCH)
    );
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24).metric(100)), Ok(3));
    // No selector: the first alias goes.
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24)), Ok(2));
    assert_eq!(del(&mut f, 0, RouteSpec::new(a4("10.0.0.0"), 24)), Err(Errno::ESRCH));
    assert!(f.routes(0).is_empty());
}

#[test]
fn resolve_nh_hook() {
    let mut f = Fib4::new();
    // The hook may fill in the device of a gateway (fib_check_nh).
    f.add_with(0, r4("10.9.0.0", 16).via(a4("192.0.2.1")), NlFlags::ADD, |_, r| {
        r.oif = 4;
        Ok(())
    })
    .unwrap();
    assert_eq!(dev_of(&f, "10.9.1.1"), Ok(4));
    // Its error comes before the preferred-source check, and after the type checks.
    let nodev = |_: &Fib4, _: &mut Route<Ipv4Addr>| Err(Errno::ENODEV);
    assert_eq!(
        f.add_with(0, r4("10.8.0.0", 16).dev(99).src(a4("1.2.3.4")), NlFlags::ADD, nodev),
        Err(Errno::ENODEV)
    );
    assert_eq!(f.add_with(0, r4("10.8.0.1", 16).dev(99), NlFlags::ADD, nodev), Err(Errno::EINVAL));
    // Reject routes have no next hop to check.
    assert_eq!(
        f.add_with(0, r4("10.8.0.0", 16).rtype(RouteType::Blackhole), NlFlags::ADD, nodev),
        Ok(())
    );
    // route::iproute2_scope gives what `ip route add` sends without `scope`.
    assert_eq!(route::iproute2_scope(RouteType::Unicast, false), RT_SCOPE_LINK);
    assert_eq!(route::iproute2_scope(RouteType::Unicast, true), RT_SCOPE_UNIVERSE);
    assert_eq!(route::iproute2_scope(RouteType::Local, false), RT_SCOPE_HOST);
    assert_eq!(route::iproute2_scope(RouteType::Broadcast, false), RT_SCOPE_LINK);
    assert_eq!(route::iproute2_scope(RouteType::Unreachable, false), RT_SCOPE_UNIVERSE);
}

#[test]
fn addr_types() {
    let mut f = Fib4::new();
    let local = |a: &str| {
        r4(a, 32).dev(2).rtype(RouteType::Local).scope(RT_SCOPE_HOST).proto(RTPROT_KERNEL)
    };
    f.add(RT_TABLE_LOCAL, local("10.0.0.2"), NlFlags::APPEND).unwrap();
    f.add(
        RT_TABLE_LOCAL,
        r4("10.0.0.255", 32).dev(2).rtype(RouteType::Broadcast).scope(RT_SCOPE_LINK),
        NlFlags::APPEND,
    )
    .unwrap();
    assert_eq!(f.addr_type(a4("10.0.0.2")), RouteType::Local);
    assert_eq!(f.addr_type(a4("10.0.0.255")), RouteType::Broadcast);
    assert_eq!(f.addr_type(a4("10.0.0.3")), RouteType::Unicast);
    assert_eq!(f.addr_type(a4("0.1.2.3")), RouteType::Broadcast);
    assert_eq!(f.addr_type(a4("255.255.255.255")), RouteType::Broadcast);
    assert_eq!(f.addr_type(a4("224.0.0.1")), RouteType::Multicast);
    assert_eq!(f.addr_type_table(a4("10.0.0.2"), 99), RouteType::Broadcast, "no such table");
    // Local routes are found through the main lookup as well (merged trie, then rule 0).
    assert_eq!(f.lookup(&Flow::output(a4("10.0.0.2"))).unwrap().route.rtype, RouteType::Local);
}

#[test]
fn retain_and_dead_next_hops() {
    let mut f = Fib4::new();
    f.add(0, r4("10.0.0.0", 8).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r4("10.1.0.0", 16).dev(3), NlFlags::ADD).unwrap();
    f.add(0, r4("10.1.0.0", 16).dev(4).metric(5), NlFlags::ADD).unwrap();
    assert_eq!(f.retain_routes(|_, r| r.oif != 3), 1);
    assert_eq!(dev_of(&f, "10.1.0.1"), Ok(4));
    assert_eq!(f.retain_routes(|_, r| r.oif != 4), 1);
    assert_eq!(dev_of(&f, "10.1.0.1"), Ok(2));
    f.add(0, r4("10.2.0.0", 16).dev(5).flags(RTNH_F_DEAD), NlFlags::ADD).unwrap();
    assert_eq!(dev_of(&f, "10.2.0.1"), Ok(2));
}
