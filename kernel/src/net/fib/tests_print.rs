//! iproute2 v4.3.0 text, byte for byte: `ip route show`, `ip -6 route show`, `ip rule
//! show`, `ip route get`.

use super::print::{
    dsfield_name, inet_ntop6, proto_name, rtnetlink_answers, scope_name, table_name, RouteMsg,
};
use super::tests_v4::a4;
use super::tests_v6::a6;
use super::*;

fn devs() -> BTreeMap<u32, String> {
    [(1, "lo"), (2, "eth0"), (3, "eth1")].into_iter().map(|(i, n)| (i, String::from(n))).collect()
}

fn r4(s: &str, len: u8) -> Route<Ipv4Addr> {
    Route::new(a4(s), len)
}

fn r6(s: &str, len: u8) -> Route<Ipv6Addr> {
    Route::new(a6(s), len)
}

/// What the kernel installs for `ip addr add 10.0.0.2/24 dev eth0` and for `lo`
/// (`fib_add_ifaddr`'s `fib_magic` calls), plus a few administrator routes.
fn host4() -> Fib4 {
    let mut f = Fib4::new();
    let k = |r: Route<Ipv4Addr>, t: RouteType, s: u8, src: &str| {
        r.rtype(t).scope(s).proto(RTPROT_KERNEL).src(a4(src))
    };
    for (tb, r) in [
        (
            RT_TABLE_LOCAL,
            k(r4("127.0.0.1", 32).dev(1), RouteType::Local, RT_SCOPE_HOST, "127.0.0.1"),
        ),
        (
            RT_TABLE_LOCAL,
            k(r4("127.0.0.0", 8).dev(1), RouteType::Local, RT_SCOPE_HOST, "127.0.0.1"),
        ),
        (
            RT_TABLE_LOCAL,
            k(r4("127.0.0.0", 32).dev(1), RouteType::Broadcast, RT_SCOPE_LINK, "127.0.0.1"),
        ),
        (
            RT_TABLE_LOCAL,
            k(r4("127.255.255.255", 32).dev(1), RouteType::Broadcast, RT_SCOPE_LINK, "127.0.0.1"),
        ),
        (RT_TABLE_LOCAL, k(r4("10.0.0.2", 32).dev(2), RouteType::Local, RT_SCOPE_HOST, "10.0.0.2")),
        (
            RT_TABLE_LOCAL,
            k(r4("10.0.0.0", 32).dev(2), RouteType::Broadcast, RT_SCOPE_LINK, "10.0.0.2"),
        ),
        (
            RT_TABLE_LOCAL,
            k(r4("10.0.0.255", 32).dev(2), RouteType::Broadcast, RT_SCOPE_LINK, "10.0.0.2"),
        ),
        (
            RT_TABLE_MAIN,
            k(r4("10.0.0.0", 24).dev(2), RouteType::Unicast, RT_SCOPE_LINK, "10.0.0.2"),
        ),
    ] {
        f.add(tb, r, NlFlags::APPEND).unwrap();
    }
    f.add(0, r4("0.0.0.0", 0).via(a4("10.0.0.1")).dev(2), NlFlags::ADD).unwrap();
    f
}

#[test]
fn ip_route_show() {
    let mut f = host4();
    f.add(
        0,
        r4("192.168.5.0", 24).via(a4("10.0.0.254")).dev(2).proto(RTPROT_STATIC).metric(100),
        NlFlags::ADD,
    )
    .unwrap();
    f.add(0, r4("10.9.0.0", 16).rtype(RouteType::Unreachable), NlFlags::ADD).unwrap();
    f.add(0, r4("10.2.0.0", 16).dev(3).tos(0x10).scope(RT_SCOPE_LINK), NlFlags::ADD).unwrap();
    f.add(0, r4("172.16.0.0", 12).via(a4("10.0.0.1")).dev(2).flags(RTNH_F_ONLINK), NlFlags::ADD)
        .unwrap();
    f.add(0, r4("198.51.100.0", 24).dev(7).scope(RT_SCOPE_LINK), NlFlags::ADD).unwrap();
    assert_eq!(
        f.show_routes(RT_TABLE_MAIN, &devs()),
        "default via 10.0.0.1 dev eth0 \n\
         10.0.0.0/24 dev eth0  proto kernel  scope link  src 10.0.0.2 \n\
         10.2.0.0/16 tos 0x10 dev eth1  scope link \n\
         unreachable 10.9.0.0/16 \n\
         172.16.0.0/12 via 10.0.0.1 dev eth0 onlink \n\
         192.168.5.0/24 via 10.0.0.254 dev eth0  proto static  metric 100 \n\
         198.51.100.0/24 dev if7  scope link \n"
    );
}

#[test]
fn ip_route_show_local_and_all() {
    let mut f = host4();
    assert_eq!(
        f.show_routes(RT_TABLE_LOCAL, &devs()),
        "broadcast 10.0.0.0 dev eth0  proto kernel  scope link  src 10.0.0.2 \n\
         local 10.0.0.2 dev eth0  proto kernel  scope host  src 10.0.0.2 \n\
         broadcast 10.0.0.255 dev eth0  proto kernel  scope link  src 10.0.0.2 \n\
         broadcast 127.0.0.0 dev lo  proto kernel  scope link  src 127.0.0.1 \n\
         local 127.0.0.0/8 dev lo  proto kernel  scope host  src 127.0.0.1 \n\
         local 127.0.0.1 dev lo  proto kernel  scope host  src 127.0.0.1 \n\
         broadcast 127.255.255.255 dev lo  proto kernel  scope link  src 127.0.0.1 \n"
    );
    f.add(1000, r4("0.0.0.0", 0).rtype(RouteType::Prohibit), NlFlags::ADD).unwrap();
    let all = f.show_routes(0, &devs());
    let lines: Vec<&str> = all.lines().collect();
    // Table 1000 is in hash bucket 232, before main's 254 and local's 255.
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[0], "prohibit default  table 1000 ");
    assert_eq!(lines[1], "default via 10.0.0.1 dev eth0 ");
    assert_eq!(
        lines[3],
        "broadcast 10.0.0.0 dev eth0  table local  proto kernel  scope link  src 10.0.0.2 "
    );
    assert_eq!(f.show_routes(1000, &devs()), "prohibit default \n");
    assert_eq!(f.show_routes(4242, &devs()), "");
}

/// addrconf's routes for `2001:db8::2/64` on eth0 and `::1` on lo, plus a default route.
fn host6() -> Fib6 {
    let mut f = Fib6::new();
    let local = |a: &str, idev| {
        r6(a, 128).rtype(RouteType::Local).dev(LOOPBACK_IFINDEX).idev(idev).proto(RTPROT_UNSPEC)
    };
    f.insert_raw(RT_TABLE_LOCAL, local("::1", 1), NlFlags::PREPEND).unwrap();
    f.insert_raw(RT_TABLE_LOCAL, local("2001:db8::2", 2), NlFlags::PREPEND).unwrap();
    f.insert_raw(RT_TABLE_LOCAL, local("fe80::5054:ff:fe12:3456", 2), NlFlags::PREPEND).unwrap();
    let prefix = |a: &str| r6(a, 64).dev(2).metric(IP6_RT_PRIO_ADDRCONF).proto(RTPROT_KERNEL);
    f.add(0, prefix("fe80::"), NlFlags::PREPEND).unwrap();
    f.add(0, prefix("2001:db8::"), NlFlags::PREPEND).unwrap();
    f.add(0, r6("::", 0).via(a6("fe80::1")).dev(2), NlFlags::ADD).unwrap();
    f
}

#[test]
fn ip6_route_show() {
    let mut f = host6();
    f.add(0, r6("2001:db8:9::", 64).rtype(RouteType::Unreachable), NlFlags::ADD).unwrap();
    f.add(0, r6("2001:db8:a::", 64).dev(3).pref(RouterPref::High), NlFlags::ADD).unwrap();
    assert_eq!(
        f.show_routes(RT_TABLE_MAIN, &devs()),
        "2001:db8::/64 dev eth0  proto kernel  metric 256  pref medium\n\
         unreachable 2001:db8:9::/64 dev lo  metric 1024  error -113 pref medium\n\
         2001:db8:a::/64 dev eth1  metric 1024  pref high\n\
         fe80::/64 dev eth0  proto kernel  metric 256  pref medium\n\
         default via fe80::1 dev eth0  metric 1024  pref medium\n"
    );
    assert_eq!(
        f.show_routes(RT_TABLE_LOCAL, &devs()),
        "local ::1 dev lo  proto none  metric 0  pref medium\n\
         local 2001:db8::2 dev lo  proto none  metric 0  pref medium\n\
         local fe80::5054:ff:fe12:3456 dev lo  proto none  metric 0  pref medium\n"
    );
    // `table all` shows each table's null entry at the end of its walk.
    let all = f.show_routes(0, &devs());
    let null = "unreachable default dev lo  table unspec  proto kernel  metric 4294967295  error -101 pref medium";
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 10);
    assert_eq!((lines[5], lines[9]), (null, null));
    assert_eq!(lines[6], "local ::1 dev lo  table local  proto none  metric 0  pref medium");
}

#[test]
fn ip6_filter_quirk() {
    // Before iproute2 has seen a route from a table other than main, `table main` only
    // drops local-type routes: a local route in main is hidden from `ip -6 route`.
    let mut f = Fib6::new();
    f.add(0, r6("2001:db8::", 64).dev(2), NlFlags::ADD).unwrap();
    f.insert_raw(
        0,
        r6("2001:db8::7", 128).rtype(RouteType::Local).dev(1).idev(2).proto(RTPROT_UNSPEC),
        NlFlags::PREPEND,
    )
    .unwrap();
    assert_eq!(
        f.show_routes(RT_TABLE_MAIN, &devs()),
        "2001:db8::/64 dev eth0  metric 1024  pref medium\n"
    );
    // A table bucketed before main sets the flag first: then the table id decides.
    f.add(10, r6("::", 0).dev(3), NlFlags::ADD).unwrap();
    assert_eq!(
        f.show_routes(RT_TABLE_MAIN, &devs()),
        "local 2001:db8::7 dev lo  proto none  metric 0  pref medium\n\
         2001:db8::/64 dev eth0  metric 1024  pref medium\n"
    );
}

#[test]
fn ip_rule_show() {
    let mut f = Fib4::new();
    assert_eq!(f.show_rules(), "0:\tfrom all lookup local \n32766:\tfrom all lookup main \n32767:\tfrom all lookup default \n");
    assert_eq!(
        Fib6::new().show_rules(),
        "0:\tfrom all lookup local \n32766:\tfrom all lookup main \n"
    );
    let d = devs();
    let spec = RuleSpec::lookup(10)
        .pref(100)
        .from(a4("10.0.0.0"), 8)
        .to(a4("192.168.1.5"), 32)
        .tos(0x10)
        .fwmark(1)
        .fwmask(0xff)
        .iif("eth0")
        .oif("vrf-blue");
    f.add_rule(&spec, &d).unwrap();
    f.add_rule(&RuleSpec::action(RuleAction::Blackhole).pref(200), &d).unwrap();
    f.add_rule(&RuleSpec::action(RuleAction::Unreachable).pref(201), &d).unwrap();
    f.add_rule(&RuleSpec::action(RuleAction::Prohibit).pref(202).fwmark(7), &d).unwrap();
    f.add_rule(&RuleSpec::goto(400).pref(300), &d).unwrap();
    f.add_rule(&RuleSpec::action(RuleAction::Nop).pref(301), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(RT_TABLE_MAIN).pref(302).from(a4("10.0.0.0"), 8).invert(), &d)
        .unwrap();
    f.add_rule(&RuleSpec::lookup(RT_TABLE_MAIN).pref(303).suppress_prefixlength(0), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(RT_TABLE_MAIN).pref(304).fwmark(0).fwmask(0xf0), &d).unwrap();
    let text = f.show_rules();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(lines[1], "100:\tfrom 10.0.0.0/8 to 192.168.1.5 tos 0x10 fwmark 0x1/0xff iif eth0 oif vrf-blue [detached] lookup 10 \n");
    assert_eq!(lines[2], "200:\tfrom all blackhole\n");
    assert_eq!(lines[3], "201:\tfrom all unreachable\n");
    assert_eq!(lines[4], "202:\tfrom all fwmark 0x7 prohibit\n");
    assert_eq!(lines[5], "300:\tfrom all goto 400 [unresolved]\n");
    assert_eq!(lines[6], "301:\tfrom all nop\n");
    assert_eq!(lines[7], "302:\tnot from 10.0.0.0/8 lookup main \n");
    assert_eq!(lines[8], "303:\tfrom all lookup main suppress_prefixlength 0 \n");
    assert_eq!(lines[9], "304:\tfrom all fwmark 0x0/0xf0 lookup main \n");
    f.add_rule(&RuleSpec::lookup(RT_TABLE_DEFAULT).pref(400), &d).unwrap();
    assert_eq!(f.rules()[5].pref, 300);
    assert_eq!(print::print_rule(&f.rules()[5]), "300:\tfrom all goto 400\n");
    let mut g = Fib6::new();
    g.add_rule(&RuleSpec::lookup(10).pref(100).from(a6("2001:db8::"), 32).tos(0x28), &d).unwrap();
    assert_eq!(print::print_rule(&g.rules()[1]), "100:\tfrom 2001:db8::/32 tos AF11 lookup 10 \n");
}

#[test]
fn ip_route_get_v4() {
    let f = host4();
    let d = devs();
    let get = |fl: Flow<Ipv4Addr>, from: Option<Ipv4Addr>| {
        let res = f.lookup(&fl).unwrap();
        print::print_route(&RouteMsg::get4(&fl, from, &res, a4("10.0.0.2")), 0, &d)
    };
    assert_eq!(
        get(Flow::output(a4("10.0.0.5")), None),
        "10.0.0.5 dev eth0  src 10.0.0.2 \n    cache \n"
    );
    assert_eq!(
        get(Flow::output(a4("8.8.8.8")), None),
        "8.8.8.8 via 10.0.0.1 dev eth0  src 10.0.0.2 \n    cache \n"
    );
    assert_eq!(
        get(Flow::output(a4("10.0.0.2")), None),
        "local 10.0.0.2 dev lo  src 10.0.0.2 \n    cache <local> \n"
    );
    assert_eq!(
        get(Flow::output(a4("10.0.0.255")), None),
        "broadcast 10.0.0.255 dev eth0  src 10.0.0.2 \n    cache <local,brd> \n"
    );
    let fl = Flow::output(a4("8.8.8.8")).src(a4("10.0.0.2")).mark(42).tos(0x10);
    assert_eq!(
        get(fl, Some(a4("10.0.0.2"))),
        "8.8.8.8 from 10.0.0.2 tos 0x10 via 10.0.0.1 dev eth0  mark 0x2a\n    cache \n"
    );
    // A refusal is printed by `ip` from the errno.
    assert_eq!(rtnetlink_answers(Errno::EHOSTUNREACH), "RTNETLINK answers: No route to host\n");
    assert_eq!(
        rtnetlink_answers(Errno::ENETUNREACH),
        "RTNETLINK answers: Network is unreachable\n"
    );
}

#[test]
fn ip_route_get_v6() {
    let mut f = host6();
    f.add(0, r6("2001:db8:9::", 64).rtype(RouteType::Unreachable), NlFlags::ADD).unwrap();
    let d = devs();
    let src = Some(a6("2001:db8::2"));
    let get = |f: &Fib6, fl: Flow<Ipv6Addr>| {
        print::print_route(&RouteMsg::get6(&fl, &f.lookup(&fl), src), 0, &d)
    };
    assert_eq!(
        get(&f, Flow::output(a6("2001:db8::5"))),
        "2001:db8::5 from :: dev eth0  proto kernel  src 2001:db8::2  metric 256  pref medium\n"
    );
    assert_eq!(
        get(&f, Flow::output(a6("2001:4860::8888"))),
        "2001:4860::8888 from :: via fe80::1 dev eth0  src 2001:db8::2  metric 1024  pref medium\n"
    );
    assert_eq!(
        get(&f, Flow::output(a6("2001:db8:9::1"))),
        "unreachable 2001:db8:9::1 from :: dev lo  src 2001:db8::2  metric 1024  error -113 pref medium\n"
    );
    assert_eq!(
        get(&f, Flow::input(a6("2001:db8::5"), a6("2001:db8::99"), 3)),
        "2001:db8::5 from 2001:db8::99 dev eth0  proto kernel  metric 256  iif eth1 pref medium\n"
    );
    f.delete(0, &RouteSpec::new(a6("::"), 0)).unwrap();
    assert_eq!(
        get(&f, Flow::output(a6("2001:db9::1"))),
        "unreachable 2001:db9::1 from :: dev lo  table unspec  proto kernel  src 2001:db8::2  metric 4294967295  error -101 pref medium\n"
    );
}

#[test]
fn names_and_addresses() {
    for (a, s) in [
        ("::", "::"),
        ("::1", "::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("fe80::", "fe80::"),
        ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
        ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
        ("2001:db8:0:1:0:1:0:1", "2001:db8:0:1:0:1:0:1"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("::102:304", "::1.2.3.4"),
        ("1::", "1::"),
        ("0:1::", "0:1::"),
    ] {
        assert_eq!(inet_ntop6(a6(a)), s, "{}", a);
    }
    assert_eq!(
        (table_name(0), table_name(253), table_name(10), table_name(70000)),
        ("unspec".into(), "default".into(), "10".into(), "70000".into())
    );
    assert_eq!(
        (proto_name(0), proto_name(4), proto_name(254), proto_name(200)),
        ("none".into(), "static".into(), "gated/aggr".into(), "200".into())
    );
    assert_eq!(
        (scope_name(0), scope_name(200), scope_name(100)),
        ("global".into(), "site".into(), "100".into())
    );
    assert_eq!((dsfield_name(0xb8), dsfield_name(0x10)), ("EF".into(), "0x10".into()));
    // Devices may also be named by a closure.
    let by_closure = |i: u32| (i == 2).then(|| String::from("wlan0"));
    let f = {
        let mut f = Fib4::new();
        f.add(0, r4("10.0.0.0", 8).dev(2), NlFlags::ADD).unwrap();
        f
    };
    assert_eq!(f.show_routes(RT_TABLE_MAIN, &by_closure), "10.0.0.0/8 dev wlan0 \n");
}
