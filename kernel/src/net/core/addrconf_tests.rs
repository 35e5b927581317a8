//! DAD as 4.3's `addrconf.c` runs it, the `ndisc` hooks into it, and `ip -6 addr show`'s
//! address lines.

use super::*;
use crate::net::core::addrconf_show::ifa_flags_text;
use crate::net::core::jiffies::{jiffies_to_ns, INITIAL_JIFFIES};
use alloc::vec;

const S: u64 = 1_000_000_000;
const J: u64 = 4_000_000;
const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn dev() -> Inet6Dev {
    Inet6Dev::new(MAC, 0, true, 9)
}

/// The pending DAD work of `x`, as ns.
fn due(d: &Inet6Dev, x: &Ipv6Addr) -> Option<u64> {
    d.get(x).and_then(|i| i.dad_work).map(jiffies_to_ns)
}

/// Adds `x` permanently at 0 and runs the DAD begin; returns when the first NS is due.
fn begin(d: &mut Inet6Dev, x: &Ipv6Addr) -> u64 {
    d.inet6_addr_add(*x, 64, 0, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0).unwrap();
    let mut first = d.timer(0);
    let t = due(d, x);
    if first.len() > 1 {
        // The random delay was 0: the NS went in the same run.
        assert_eq!(first.pop(), Some(DadEvent::SendNs { target: *x, dst: solicited_node(x) }));
        return 0;
    }
    assert_eq!(first, vec![DadEvent::JoinSolicited(*x)]);
    t.unwrap()
}

#[test]
fn defaults_and_solicited_node() {
    let c = Ipv6DevConf::default();
    assert_eq!((c.accept_dad, c.dad_transmits, c.rtr_solicit_delay, c.rtr_solicits), (1, 1, HZ, 3));
    assert_eq!(solicited_node(&a("2001:db8::1:2345:6789")), a("ff02::1:ff45:6789"));
    assert_eq!(dev().eui64_linklocal(), a("fe80::5054:ff:fe12:3456"));
    assert_eq!(Inet6Dev::new(MAC, IFF_LOOPBACK, true, 0).cnf.accept_dad, -1);
}

#[test]
fn dad_succeeds_one_retrans_after_the_probe() {
    for seed in 0..50 {
        let mut d = Inet6Dev::new(MAC, 0, true, seed);
        let x = a("2001:db8::1");
        let t0 = begin(&mut d, &x);
        assert!(t0 < S, "delay {t0} is below rtr_solicit_delay");
        assert_eq!(t0 % J, 0);
        assert_eq!(d.get(&x).unwrap().flags, IFA_F_PERMANENT | IFA_F_TENTATIVE);
        if t0 > 0 {
            assert!(d.timer(t0 - 1).is_empty());
            assert_eq!(d.timer(t0), vec![DadEvent::SendNs { target: x, dst: a("ff02::1:ff00:1") }]);
        }
        assert!(d.timer(t0 + S - 1).is_empty());
        assert_eq!(d.timer(t0 + S), vec![DadEvent::Completed { addr: x, send_rs: None }]);
        let i = d.get(&x).unwrap();
        assert_eq!((i.flags, i.state), (IFA_F_PERMANENT, IfaState::PostDad));
        assert_eq!(d.next_deadline(), None);
    }
}

#[test]
fn two_transmits_one_second_apart() {
    let mut d = dev();
    d.cnf.dad_transmits = 2;
    let x = a("2001:db8::2");
    let t0 = begin(&mut d, &x);
    let ns = DadEvent::SendNs { target: x, dst: solicited_node(&x) };
    if t0 > 0 {
        assert_eq!(d.timer(t0), vec![ns]);
    }
    assert_eq!(d.timer(t0 + S), vec![ns]);
    assert_eq!(d.timer(t0 + 2 * S), vec![DadEvent::Completed { addr: x, send_rs: None }]);
}

#[test]
fn zero_transmits_still_waits_the_random_delay() {
    let mut d = Inet6Dev::new(MAC, 0, true, 5);
    d.cnf.dad_transmits = 0;
    let x = a("2001:db8::3");
    d.inet6_addr_add(x, 64, 0, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0).unwrap();
    let ev = d.timer(0);
    let t0 = due(&d, &x);
    match t0 {
        Some(t) => {
            assert_eq!(ev, vec![DadEvent::JoinSolicited(x)]);
            assert!(d.get(&x).unwrap().flags & IFA_F_TENTATIVE != 0);
            assert_eq!(d.timer(t), vec![DadEvent::Completed { addr: x, send_rs: None }]);
        }
        None => {
            assert_eq!(ev, vec![DadEvent::JoinSolicited(x), DadEvent::Completed { addr: x, send_rs: None }])
        }
    }
}

#[test]
fn dad_skipped_without_accept_dad_nodad_or_on_loopback() {
    let done = |x| vec![DadEvent::JoinSolicited(x), DadEvent::Completed { addr: x, send_rs: None }];
    let x = a("2001:db8::4");
    let mut d = dev();
    d.cnf.accept_dad = 0;
    d.inet6_addr_add(x, 64, 0, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0).unwrap();
    assert_eq!(d.timer(0), done(x));
    let mut d = dev();
    d.inet6_addr_add(x, 64, IFA_F_NODAD, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0).unwrap();
    assert_eq!(d.timer(0), done(x));
    assert_eq!(
        d.show(0),
        "    inet6 2001:db8::4/64 scope global nodad \n       valid_lft forever preferred_lft forever\n"
    );
    let mut d = Inet6Dev::new(MAC, IFF_LOOPBACK, true, 0);
    d.inet6_addr_add(a("::1"), 128, 0, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0).unwrap();
    assert_eq!(d.timer(0), done(a("::1")));
    assert_eq!(d.show(0), "    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever\n");
}

#[test]
fn dad_ns_from_another_node_fails_dad() {
    let mut d = dev();
    let x = a("2001:db8::5");
    let t0 = begin(&mut d, &x);
    let mut ev = vec![];
    assert_eq!(d.ns_target(&x, true, t0 + S / 2, &mut ev), TargetVerdict::DadConflict);
    assert_eq!(d.get(&x).unwrap().state, IfaState::ErrDad);
    // The work, queued at once, marks the permanent address.
    assert_eq!(d.timer(t0 + S / 2), vec![DadEvent::Failed(x)]);
    let i = d.get(&x).unwrap();
    assert_eq!(i.flags, IFA_F_PERMANENT | IFA_F_TENTATIVE | IFA_F_DADFAILED);
    assert_eq!(d.next_deadline(), None);
    assert_eq!(
        d.show(2 * S),
        "    inet6 2001:db8::5/64 scope global tentative dadfailed \n       valid_lft forever preferred_lft forever\n"
    );
    // A failed address is neither answered nor failed again.
    assert_eq!(d.ns_target(&x, false, 3 * S, &mut ev), TargetVerdict::Ignore);
    assert!(!d.dad_failure(&x, 3 * S, &mut ev) && ev.is_empty());
}

#[test]
fn conflicts_before_dad_begins_are_ignored() {
    let mut d = dev();
    let x = a("2001:db8::6");
    d.inet6_addr_add(x, 64, 0, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0).unwrap();
    let mut ev = vec![];
    assert_eq!(d.ns_target(&x, true, 0, &mut ev), TargetVerdict::DadConflict);
    assert_eq!(d.get(&x).unwrap().state, IfaState::PreDad);
    assert_eq!(d.timer(0)[0], DadEvent::JoinSolicited(x));
}

#[test]
fn ns_and_na_verdicts() {
    let mut d = dev();
    let x = a("2001:db8::7");
    let t0 = begin(&mut d, &x);
    let mut ev = vec![];
    // Tentative: a normal NS is ignored, a looped-back NA too.
    assert_eq!(d.ns_target(&x, false, t0, &mut ev), TargetVerdict::Ignore);
    assert_eq!(d.na_target(&x, true, t0, &mut ev), TargetVerdict::Ignore);
    assert_eq!(d.ns_target(&a("2001:db8::99"), true, t0, &mut ev), TargetVerdict::NotOurs);
    assert_eq!(d.na_target(&a("2001:db8::99"), false, t0, &mut ev), TargetVerdict::NotOurs);
    d.timer(t0);
    d.timer(t0 + S);
    // Preferred: answered; an NA for it is ignored (someone advertises our address).
    assert_eq!(d.ns_target(&x, false, 2 * S, &mut ev), TargetVerdict::Answer);
    assert_eq!(d.ns_target(&x, true, 2 * S, &mut ev), TargetVerdict::Answer);
    assert_eq!(d.na_target(&x, false, 2 * S, &mut ev), TargetVerdict::Ignore);
    assert!(ev.is_empty());
    // An NA from another node during DAD fails it.
    let y = a("2001:db8::8");
    let t1 = begin(&mut d, &y);
    assert_eq!(d.na_target(&y, false, t1, &mut ev), TargetVerdict::DadConflict);
    assert_eq!(d.timer(t1), vec![DadEvent::Failed(y)]);
}

#[test]
fn dynamic_address_is_deleted_on_failure() {
    let mut d = dev();
    let x = a("2001:db8::9");
    d.inet6_addr_add(x, 64, 0, 1800, 3600, 0).unwrap();
    assert_eq!(
        d.show(10 * S),
        "    inet6 2001:db8::9/64 scope global tentative dynamic \n       valid_lft 3590sec preferred_lft 1790sec\n"
    );
    d.timer(0);
    let mut ev = vec![];
    d.ns_target(&x, true, S / 100, &mut ev);
    assert_eq!(d.timer(S / 100), vec![DadEvent::Deleted(x)]);
    assert!(d.addrs().is_empty());
}

#[test]
fn accept_dad_2_disables_ipv6_on_the_eui64_link_local() {
    let mut d = dev();
    d.cnf.accept_dad = 2;
    let ll = d.add_linklocal(0).unwrap();
    d.timer(0);
    let mut ev = vec![];
    d.ns_target(&ll, true, 0, &mut ev);
    assert_eq!(ev, vec![DadEvent::Ipv6Disabled]);
    assert!(d.cnf.disable_ipv6);
    assert_eq!(d.timer(0), vec![DadEvent::Failed(ll)]);
    let r = d.inet6_addr_add(a("2001:db8::1"), 64, 0, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0);
    assert_eq!(r, Err(Errno::EACCES));
}

/// Runs every DAD work until none is pending.
fn run(d: &mut Inet6Dev) -> Vec<DadEvent> {
    let mut ev = vec![];
    while let Some(t) = d.next_deadline() {
        ev.extend(d.timer(t));
    }
    ev
}

#[test]
fn link_local_completion_sends_the_first_rs() {
    let mut d = dev();
    let ll = d.add_linklocal(0).unwrap();
    let ev = run(&mut d);
    assert_eq!(ev.last(), Some(&DadEvent::Completed { addr: ll, send_rs: Some(ll) }));
    assert_eq!(
        d.show(2 * S),
        "    inet6 fe80::5054:ff:fe12:3456/64 scope link \n       valid_lft forever preferred_lft forever\n"
    );
    // No RS when forwarding (accept_ra 1 is not 2).
    let mut d = dev();
    d.cnf.forwarding = 1;
    d.add_linklocal(0).unwrap();
    d.cnf.dad_transmits = 0;
    let last = run(&mut d).pop();
    assert!(matches!(last, Some(DadEvent::Completed { send_rs: None, .. })), "{last:?}");
}

#[test]
fn link_down_keeps_permanent_tentative_until_link_up() {
    let mut d = Inet6Dev::new(MAC, 0, false, 3);
    let x = a("2001:db8::a");
    d.inet6_addr_add(x, 64, 0, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, 0).unwrap();
    assert_eq!(d.timer(0), vec![DadEvent::JoinSolicited(x)]);
    assert_eq!((d.get(&x).unwrap().state, d.next_deadline()), (IfaState::Dad, None));
    d.link_up(5 * S);
    let t0 = d.next_deadline().unwrap();
    assert!((5 * S..6 * S).contains(&t0));
    assert_eq!(d.timer(t0), vec![DadEvent::SendNs { target: x, dst: solicited_node(&x) }]);
    // A non-permanent address on a device not ready is deleted instead.
    let mut d = Inet6Dev::new(MAC, 0, false, 3);
    d.inet6_addr_add(x, 64, 0, 100, 100, 0).unwrap();
    assert_eq!(d.timer(0), vec![DadEvent::JoinSolicited(x), DadEvent::Deleted(x)]);
}

#[test]
fn address_errors() {
    let mut d = dev();
    let x = a("2001:db8::1");
    let inf = INFINITY_LIFE_TIME;
    assert_eq!(d.inet6_addr_add(x, 129, 0, inf, inf, 0), Err(Errno::EINVAL));
    assert_eq!(d.inet6_addr_add(x, 64, 0, 0, 0, 0), Err(Errno::EINVAL));
    assert_eq!(d.inet6_addr_add(x, 64, 0, 20, 10, 0), Err(Errno::EINVAL));
    assert_eq!(d.inet6_addr_add(x, 48, IFA_F_MANAGETEMPADDR, inf, inf, 0), Err(Errno::EINVAL));
    assert_eq!(d.inet6_addr_add(a("::"), 64, 0, inf, inf, 0), Err(Errno::EADDRNOTAVAIL));
    assert_eq!(d.inet6_addr_add(a("ff02::1"), 64, 0, inf, inf, 0), Err(Errno::EADDRNOTAVAIL));
    assert_eq!(d.inet6_addr_add(a("::1"), 128, 0, inf, inf, 0), Err(Errno::EADDRNOTAVAIL));
    d.inet6_addr_add(x, 64, 0, inf, inf, 0).unwrap();
    assert_eq!(d.inet6_addr_add(x, 48, 0, inf, inf, 0), Err(Errno::EEXIST));
    assert_eq!(d.inet6_addr_del(&x, 48), Err(Errno::EADDRNOTAVAIL));
    assert_eq!(d.inet6_addr_del(&a("2001:db8::2"), 64), Err(Errno::EADDRNOTAVAIL));
    assert_eq!(d.inet6_addr_del(&x, 64), Ok(()));
}

#[test]
fn list_order_and_flag_words() {
    let mut d = dev();
    let inf = INFINITY_LIFE_TIME;
    d.inet6_addr_add(a("2001:db8::1"), 64, 0, inf, inf, 0).unwrap();
    d.add_linklocal(0).unwrap();
    d.inet6_addr_add(a("2001:db8::2"), 64, 0, inf, inf, 0).unwrap();
    d.inet6_addr_add(a("fec0::1"), 64, 0, inf, inf, 0).unwrap();
    let order: Vec<Ipv6Addr> = d.addrs().iter().map(|i| i.addr).collect();
    assert_eq!(order, vec![a("2001:db8::2"), a("2001:db8::1"), a("fec0::1"), a("fe80::5054:ff:fe12:3456")]);
    assert!(d.show(0).contains("    inet6 fec0::1/64 scope site tentative \n"));
    assert_eq!(ifa_flags_text(IFA_F_PERMANENT | IFA_F_OPTIMISTIC | IFA_F_TENTATIVE), "tentative flags 04 ");
    assert_eq!(ifa_flags_text(IFA_F_TEMPORARY | IFA_F_DEPRECATED), "temporary deprecated dynamic ");
    assert_eq!(ifa_flags_text(IFA_F_PERMANENT | IFA_F_STABLE_PRIVACY), "flags 800 ");
    assert_eq!(
        ifa_flags_text(IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR),
        "mngtmpaddr noprefixroute "
    );
    // A deprecated address: preferred 0, printed signed.
    let mut d = dev();
    d.inet6_addr_add(a("2001:db8::3"), 64, 0, 0, 100, 0).unwrap();
    assert!(d.show(0).ends_with(
        "scope global tentative deprecated dynamic \n       valid_lft 100sec preferred_lft 0sec\n"
    ));
    assert_eq!(INITIAL_JIFFIES, d.get(&a("2001:db8::3")).unwrap().tstamp);
}
