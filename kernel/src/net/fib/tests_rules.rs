//! Policy rules: defaults, preference assignment, selectors, actions, throw and table
//! misses falling through, goto, suppress, invert, device attach/detach, the 4.3 VRF
//! recipe.

use super::tests_v4::a4;
use super::tests_v6::a6;
use super::*;
use alloc::vec;

fn devs() -> BTreeMap<u32, String> {
    [(1, "lo"), (2, "eth0"), (3, "eth1"), (10, "vrf-blue")]
        .into_iter()
        .map(|(i, n)| (i, String::from(n)))
        .collect()
}

fn prefs<A: FibAddr>(f: &Fib<A>) -> Vec<u32> {
    f.rules().iter().map(|r| r.pref).collect()
}

fn r4(s: &str, len: u8) -> Route<Ipv4Addr> {
    Route::new(a4(s), len)
}

fn r6(s: &str, len: u8) -> Route<Ipv6Addr> {
    Route::new(a6(s), len)
}

/// (table, device) of a lookup, or its errno.
fn via<A: FibAddr>(res: Result<FibResult<'_, A>, FibError<'_, A>>) -> Result<(u32, u32), Errno> {
    res.map(|r| (r.table, r.route.oif)).map_err(|e| e.errno)
}

#[test]
fn default_rules_and_prefs() {
    let mut f = Fib4::new();
    assert_eq!(prefs(&f), vec![0, 32766, 32767]);
    assert_eq!(f.rules().iter().map(|r| r.table).collect::<Vec<_>>(), vec![255, 254, 253]);
    // fib_default_rule_pref: the second rule's preference minus one.
    assert_eq!(f.add_rule(&RuleSpec::lookup(10), &devs()), Ok(32765));
    assert_eq!(f.add_rule(&RuleSpec::lookup(11), &devs()), Ok(32764));
    assert_eq!(prefs(&f), vec![0, 32764, 32765, 32766, 32767]);
    f.del_rule(&RuleSpec::any().pref(0)).unwrap();
    // Without rule 0 the "second rule" is 32765: a duplicate preference, placed after.
    assert_eq!(f.add_rule(&RuleSpec::lookup(12), &devs()), Ok(32764));
    assert_eq!(prefs(&f), vec![32764, 32764, 32765, 32766, 32767]);
    assert_eq!(f.rules()[1].table, 12);
    let mut g = Fib6::new();
    assert_eq!(prefs(&g), vec![0, 32766]);
    assert_eq!(g.add_rule(&RuleSpec::lookup(10), &devs()), Ok(32765));
    // Rules are not deduplicated in 4.3.
    assert_eq!(g.add_rule(&RuleSpec::lookup(10).pref(5), &devs()), Ok(5));
    assert_eq!(g.add_rule(&RuleSpec::lookup(10).pref(5), &devs()), Ok(5));
    assert_eq!(prefs(&g), vec![0, 5, 5, 32765, 32766]);
}

#[test]
fn selectors() {
    let mut f = Fib4::new();
    for t in [10, 20, 30, 50, 60] {
        f.add(t, r4("0.0.0.0", 0).dev(t), NlFlags::ADD).unwrap();
    }
    f.add(40, r4("0.0.0.0", 0).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r4("0.0.0.0", 0).dev(9), NlFlags::ADD).unwrap();
    let d = devs();
    f.add_rule(&RuleSpec::lookup(10).pref(100).from(a4("192.168.1.0"), 24), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(20).pref(110).to(a4("198.51.100.0"), 24), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(30).pref(120).iif("eth1"), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(40).pref(130).oif("eth0"), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(50).pref(140).fwmark(1).fwmask(0xff), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(60).pref(150).tos(0x10), &d).unwrap();
    let out = |s: &str| Flow::output(a4(s));
    assert_eq!(via(f.lookup(&out("8.8.8.8").src(a4("192.168.1.5")))), Ok((10, 10)));
    assert_eq!(via(f.lookup(&out("198.51.100.7"))), Ok((20, 20)));
    assert_eq!(via(f.lookup(&Flow::input(a4("8.8.8.8"), a4("203.0.113.1"), 3))), Ok((30, 30)));
    assert_eq!(via(f.lookup(&out("8.8.8.8").oif(2))), Ok((40, 2)));
    assert_eq!(via(f.lookup(&out("8.8.8.8").mark(0x101))), Ok((50, 50)));
    assert_eq!(via(f.lookup(&out("8.8.8.8").mark(0x2))), Ok((254, 9)));
    assert_eq!(via(f.lookup(&out("8.8.8.8").tos(0x10))), Ok((60, 60)));
    let res = f.lookup(&out("8.8.8.8")).unwrap();
    assert_eq!((res.table, res.rule), (RT_TABLE_MAIN, Some(32766)));
    // A mark without a mask compares every bit.
    f.add_rule(&RuleSpec::lookup(10).pref(90).fwmark(7), &d).unwrap();
    assert_eq!(f.rules()[1].mark_mask, u32::MAX);
    assert_eq!(via(f.lookup(&out("8.8.8.8").mark(7))), Ok((10, 10)));
    assert_eq!(via(f.lookup(&out("8.8.8.8").mark(0x107))), Ok((254, 9)));
}

#[test]
fn throw_and_miss_continue() {
    let mut f = Fib4::new();
    f.add(10, r4("10.0.0.0", 8).rtype(RouteType::Throw), NlFlags::ADD).unwrap();
    f.add(10, r4("10.1.0.0", 16).dev(5), NlFlags::ADD).unwrap();
    f.add(0, r4("10.0.0.0", 8).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r4("10.2.0.0", 16).rtype(RouteType::Prohibit), NlFlags::ADD).unwrap();
    f.add_rule(&RuleSpec::lookup(77).pref(50), &devs()).unwrap();
    f.add_rule(&RuleSpec::lookup(10).pref(100), &devs()).unwrap();
    let out = |s: &str| f.lookup(&Flow::output(a4(s)));
    assert_eq!(via(out("10.1.0.1")), Ok((10, 5)));
    assert_eq!(via(out("10.3.0.1")), Ok((254, 2)));
    // Throw in table 10, then main's prohibit route: EACCES (net-ipv6.md 3.7).
    let e = out("10.2.0.1").unwrap_err();
    assert_eq!((e.errno, e.table, e.rule), (Errno::EACCES, RT_TABLE_MAIN, Some(32766)));
    assert_eq!(via(out("11.0.0.1")), Err(Errno::ENETUNREACH));

    let mut g = Fib6::new();
    g.add(10, r6("2001:db8::", 32).rtype(RouteType::Throw), NlFlags::ADD).unwrap();
    g.add(10, r6("2001:db8:1::", 48).dev(5), NlFlags::ADD).unwrap();
    g.add(0, r6("2001:db8::", 32).dev(2), NlFlags::ADD).unwrap();
    g.add(0, r6("2001:db8:2::", 48).rtype(RouteType::Prohibit), NlFlags::ADD).unwrap();
    g.add_rule(&RuleSpec::lookup(77).pref(50), &devs()).unwrap();
    g.add_rule(&RuleSpec::lookup(10).pref(100), &devs()).unwrap();
    let out6 = |s: &str| g.lookup(&Flow::output(a6(s)));
    assert_eq!(via(out6("2001:db8:1::1")), Ok((10, 5)));
    assert_eq!(via(out6("2001:db8:3::1")), Ok((254, 2)));
    assert_eq!(via(out6("2001:db8:2::1")), Err(Errno::EACCES));
    assert_eq!(via(out6("2001:db9::1")), Err(Errno::ENETUNREACH));
}

#[test]
fn rule_actions() {
    let d = devs();
    let mut f = Fib4::new();
    f.add(0, r4("0.0.0.0", 0).dev(2), NlFlags::ADD).unwrap();
    let mut g = Fib6::new();
    g.add(0, r6("::", 0).dev(2), NlFlags::ADD).unwrap();
    for (pref, action, errno) in [
        (50, RuleAction::Unreachable, Errno::ENETUNREACH),
        (51, RuleAction::Prohibit, Errno::EACCES),
        (52, RuleAction::Blackhole, Errno::EINVAL),
    ] {
        let n = pref as u8 - 49;
        f.add_rule(&RuleSpec::action(action).pref(pref).to(Ipv4Addr::new(203, 0, 113, n), 32), &d)
            .unwrap();
        g.add_rule(
            &RuleSpec::action(action)
                .pref(pref)
                .to(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n.into()), 128),
            &d,
        )
        .unwrap();
        let e = f.lookup(&Flow::output(Ipv4Addr::new(203, 0, 113, n))).unwrap_err();
        assert_eq!((e.errno, e.rule, e.route.is_none()), (errno, Some(pref), true));
        let e = g
            .lookup(&Flow::output(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n.into())))
            .unwrap_err();
        assert_eq!((e.errno, e.rule, e.route.is_none()), (errno, Some(pref), true));
    }
    assert_eq!(via(f.lookup(&Flow::output(a4("203.0.113.9")))), Ok((254, 2)));
    // A nop rule does nothing.
    f.add_rule(&RuleSpec::action(RuleAction::Nop).pref(1), &d).unwrap();
    assert_eq!(via(f.lookup(&Flow::output(a4("203.0.113.9")))), Ok((254, 2)));
}

#[test]
fn goto_rules() {
    let d = devs();
    let mut f = Fib4::new();
    f.add(10, r4("0.0.0.0", 0).dev(10), NlFlags::ADD).unwrap();
    f.add(20, r4("0.0.0.0", 0).dev(20), NlFlags::ADD).unwrap();
    f.add_rule(&RuleSpec::goto(200).pref(100).from(a4("192.168.1.0"), 24), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(10).pref(150), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(20).pref(200), &d).unwrap();
    let src = |f: &Fib4, s: &str| via(f.lookup(&Flow::output(a4("8.8.8.8")).src(a4(s))));
    assert_eq!(src(&f, "192.168.1.5"), Ok((20, 20)));
    assert_eq!(src(&f, "192.168.2.5"), Ok((10, 10)));
    // Backward or missing targets, and a target on another action: EINVAL.
    assert_eq!(f.add_rule(&RuleSpec::goto(100).pref(100), &d), Err(Errno::EINVAL));
    assert_eq!(f.add_rule(&RuleSpec::action(RuleAction::Goto).pref(120), &d), Err(Errno::EINVAL));
    assert_eq!(
        f.add_rule(&RuleSpec { goto: Some(300), ..RuleSpec::lookup(10).pref(120) }, &d),
        Err(Errno::EINVAL)
    );
    // Deleting the target leaves the goto unresolved: it is skipped.
    f.del_rule(&RuleSpec::any().pref(200)).unwrap();
    assert!(f.rules()[1].is_unresolved());
    assert_eq!(src(&f, "192.168.1.5"), Ok((10, 10)));
    // A new rule at the target preference resolves it again.
    f.add_rule(&RuleSpec::lookup(20).pref(200), &d).unwrap();
    assert!(!f.rules()[1].is_unresolved());
    assert_eq!(src(&f, "192.168.1.5"), Ok((20, 20)));
    // A goto target that does not match the flow: the walk goes on after the target.
    f.del_rule(&RuleSpec::any().pref(200)).unwrap();
    f.add_rule(&RuleSpec::lookup(20).pref(200).to(a4("198.51.100.0"), 24), &d).unwrap();
    assert_eq!(src(&f, "192.168.1.5"), Err(Errno::ENETUNREACH));
}

#[test]
fn delete_rules() {
    let d = devs();
    let mut f = Fib4::new();
    f.add_rule(&RuleSpec::lookup(10).pref(100).from(a4("10.0.0.0"), 8).iif("eth0"), &d).unwrap();
    let del = |f: &mut Fib4, s: RuleSpec<Ipv4Addr>| f.del_rule(&s).map(|r| r.pref);
    assert_eq!(del(&mut f, RuleSpec::any().pref(99)), Err(Errno::ENOENT));
    assert_eq!(del(&mut f, RuleSpec::lookup(11).pref(100)), Err(Errno::ENOENT));
    assert_eq!(del(&mut f, RuleSpec::any().from(a4("10.0.0.0"), 16)), Err(Errno::ENOENT));
    assert_eq!(del(&mut f, RuleSpec::any().from(a4("10.0.0.1"), 8)), Err(Errno::ENOENT));
    assert_eq!(del(&mut f, RuleSpec::any().iif("eth1")), Err(Errno::ENOENT));
    assert_eq!(del(&mut f, RuleSpec::action(RuleAction::Blackhole)), Err(Errno::ENOENT));
    assert_eq!(del(&mut f, RuleSpec::any().from(a4("10.0.0.0"), 40)), Err(Errno::EINVAL));
    assert_eq!(del(&mut f, RuleSpec::any().from(a4("10.0.0.0"), 8).iif("eth0")), Ok(100));
    // The default rules are not permanent in 4.3.
    assert_eq!(del(&mut f, RuleSpec::lookup(RT_TABLE_MAIN)), Ok(32766));
    assert_eq!(del(&mut f, RuleSpec::any()), Ok(0));
    assert_eq!(prefs(&f), vec![32767]);
    let mut g = Fib6::new();
    assert_eq!(g.del_rule(&RuleSpec::any().pref(32767)).map(|r| r.pref), Err(Errno::ENOENT));
    assert_eq!(g.del_rule(&RuleSpec::any().pref(32766)).map(|r| r.pref), Ok(32766));
}

#[test]
fn add_rule_errnos_and_tables() {
    let d = devs();
    let mut f = Fib4::new();
    assert_eq!(f.add_rule(&RuleSpec::lookup(10).from(a4("10.0.0.0"), 33), &d), Err(Errno::EINVAL));
    assert_eq!(f.add_rule(&RuleSpec::lookup(10).to(a4("10.0.0.0"), 33), &d), Err(Errno::EINVAL));
    // IPv4 rules select on the TOS bits only (IPTOS_TOS_MASK 0x1e).
    assert_eq!(f.add_rule(&RuleSpec::lookup(10).tos(0x01), &d), Err(Errno::EINVAL));
    assert_eq!(f.add_rule(&RuleSpec::lookup(10).tos(0x20), &d), Err(Errno::EINVAL));
    assert!(!f.has_custom_rules(), "refused rules change nothing");
    // A lookup rule without a table gets the first unused id (fib_empty_table).
    f.add_rule(&RuleSpec::lookup(0).pref(10), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(0).pref(11), &d).unwrap();
    assert_eq!((f.rules()[1].table, f.rules()[2].table), (1, 2));
    assert!(f.table_exists(1) && f.table_exists(2));
    let mut g = Fib6::new();
    assert_eq!(g.add_rule(&RuleSpec::lookup(0), &d), Err(Errno::EINVAL));
    assert_eq!(
        g.add_rule(&RuleSpec::lookup(10).from(a6("2001:db8::"), 129), &d),
        Err(Errno::EINVAL)
    );
    g.add_rule(&RuleSpec::lookup(10).tos(0xb8), &d).unwrap();
    assert!(g.table_exists(10), "fib6_rule_configure creates the table");
    g.add_rule(&RuleSpec::action(RuleAction::Blackhole), &d).unwrap();
}

#[test]
fn invert_suppress_and_v6_source() {
    let d = devs();
    let mut f = Fib4::new();
    f.add(10, r4("0.0.0.0", 0).dev(10), NlFlags::ADD).unwrap();
    f.add(0, r4("0.0.0.0", 0).dev(2), NlFlags::ADD).unwrap();
    f.add(0, r4("192.0.2.0", 24).dev(3), NlFlags::ADD).unwrap();
    f.add_rule(&RuleSpec::lookup(10).pref(100).from(a4("10.0.0.0"), 8).invert(), &d).unwrap();
    let src = |f: &Fib4, s: &str, dst: &str| via(f.lookup(&Flow::output(a4(dst)).src(a4(s))));
    assert_eq!(src(&f, "192.168.1.1", "8.8.8.8"), Ok((10, 10)));
    assert_eq!(src(&f, "10.0.0.1", "8.8.8.8"), Ok((254, 2)));
    f.del_rule(&RuleSpec::any().pref(100)).unwrap();
    // suppress_prefixlength 0: main's default route does not count, its /24 does.
    f.add_rule(&RuleSpec::lookup(RT_TABLE_MAIN).pref(100).suppress_prefixlength(0), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(10).pref(200), &d).unwrap();
    assert_eq!(src(&f, "10.0.0.1", "8.8.8.8"), Ok((10, 10)));
    assert_eq!(src(&f, "10.0.0.1", "192.0.2.1"), Ok((254, 3)));

    let mut g = Fib6::new();
    g.add(10, r6("::", 0).dev(10), NlFlags::ADD).unwrap();
    g.add(0, r6("::", 0).dev(2), NlFlags::ADD).unwrap();
    g.add_rule(&RuleSpec::lookup(10).pref(100).from(a6("2001:db8:1::"), 48), &d).unwrap();
    let fl = Flow::output(a6("2001:db8:9::1"));
    // fib6_rule_match: a source selector needs RT6_LOOKUP_F_HAS_SADDR.
    assert_eq!(via(g.lookup(&fl)), Ok((254, 2)));
    assert_eq!(via(g.lookup(&fl.src(a6("2001:db8:1::5")))), Ok((10, 10)));
    assert_eq!(
        via(g.lookup(&Flow::input(a6("2001:db8:9::1"), a6("2001:db8:1::5"), 3))),
        Ok((10, 10))
    );
}

#[test]
fn interface_selectors_attach_and_detach() {
    let mut f = Fib4::new();
    f.add(10, r4("0.0.0.0", 0).dev(3), NlFlags::ADD).unwrap();
    f.add(0, r4("0.0.0.0", 0).dev(2), NlFlags::ADD).unwrap();
    // Added before the device exists: detached, matches nothing.
    f.add_rule(&RuleSpec::lookup(10).pref(100).iif("vrf-red"), &devs()).unwrap();
    assert_eq!(f.rules()[1].iif, Some(IfName { name: "vrf-red".into(), ifindex: None }));
    let inp = |f: &Fib4| via(f.lookup(&Flow::input(a4("8.8.8.8"), a4("192.0.2.9"), 11)));
    assert_eq!(inp(&f), Ok((254, 2)));
    f.rules_dev_register("vrf-red", 11);
    assert_eq!(inp(&f), Ok((10, 3)));
    f.rules_dev_rename(11, "vrf-green");
    assert_eq!(inp(&f), Ok((254, 2)));
    f.rules_dev_rename(11, "vrf-red");
    f.rules_dev_unregister(11);
    assert_eq!(inp(&f), Ok((254, 2)));
    // Names are cut to IFNAMSIZ - 1 bytes.
    f.add_rule(&RuleSpec::lookup(10).pref(200).oif("a-very-long-interface"), &devs()).unwrap();
    assert_eq!(f.rules()[2].oif.as_ref().map(|i| i.name.as_str()), Some("a-very-long-int"));
}

#[test]
fn vrf_as_in_4_3() {
    // net-vrf.md §5: the administrator's rules steer lookups with the VRF as oif or iif.
    let d = devs();
    let mut f = Fib4::new();
    f.add(0, r4("0.0.0.0", 0).via(a4("10.0.0.1")).dev(2), NlFlags::ADD).unwrap();
    f.add(10, r4("0.0.0.0", 0).rtype(RouteType::Prohibit), NlFlags::ADD).unwrap();
    f.add(10, r4("192.0.2.0", 24).via(a4("10.1.1.254")).dev(3), NlFlags::ADD).unwrap();
    f.add_rule(&RuleSpec::lookup(10).oif("vrf-blue"), &d).unwrap();
    f.add_rule(&RuleSpec::lookup(10).iif("vrf-blue"), &d).unwrap();
    let out = |dst: &str| Flow::output(a4(dst)).oif(10);
    // connect() through the VRF: VRFSRC | SKIP_NH_OIF → the real next hop on the slave.
    assert_eq!(via(f.lookup(&out("192.0.2.5").skip_nh_oif())), Ok((10, 3)));
    // Isolation: the VRF's prohibit default.
    assert_eq!(via(f.lookup(&out("8.8.8.8").skip_nh_oif())), Err(Errno::EACCES));
    // Without SKIP_NH_OIF the slave's next hop is not on the VRF: only the reject is left.
    assert_eq!(via(f.lookup(&out("192.0.2.5"))), Err(Errno::EACCES));
    // Input: skb_iif is the VRF's ifindex.
    assert_eq!(via(f.lookup(&Flow::input(a4("192.0.2.5"), a4("10.1.1.9"), 10))), Ok((10, 3)));
    assert_eq!(
        via(f.lookup(&Flow::input(a4("198.51.100.1"), a4("10.1.1.9"), 10))),
        Err(Errno::EACCES)
    );
    // Outside the VRF, main.
    assert_eq!(via(f.lookup(&Flow::output(a4("192.0.2.5")))), Ok((254, 2)));
}
