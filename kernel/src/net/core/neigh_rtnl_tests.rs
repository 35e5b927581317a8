//! `ip neigh` add/change/replace/del/flush/show against 4.3's `neigh_add`/`neigh_delete`
//! and iproute2 4.3's `ipneigh.c` text.

use super::*;
use crate::net::core::neighbour::tests::*;
use crate::net::core::neighbour::*;
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use alloc::vec;

fn msg<'a>(ifindex: u32, dst: &'a [u8], ll: Option<&'a [u8]>, state: u16, flags: u8) -> NdMsg<'a> {
    NdMsg { ifindex, state, flags, dst, lladdr: ll }
}

#[test]
fn ip_neigh_add_change_replace_del() {
    let mut t = arp();
    let dst = PEER.octets();
    let ll = MAC.0;
    let add = NLM_F_CREATE | NLM_F_EXCL;
    let m = msg(2, &dst, Some(&ll), u16::from(NUD_PERMANENT), 0);
    t.rtnl_newneigh(&m, add, NeighInit::Resolve, 0).unwrap();
    assert_eq!(show(&t), "10.0.0.2 dev eth0 lladdr 52:54:00:12:34:56 PERMANENT\n");
    assert_eq!(t.rtnl_newneigh(&m, add, NeighInit::Resolve, 0), Err(Errno::EEXIST));
    // Without REPLACE an existing entry keeps its address.
    let ll2 = MAC2.0;
    let m2 = msg(2, &dst, Some(&ll2), u16::from(NUD_REACHABLE), 0);
    t.rtnl_newneigh(&m2, NLM_F_CREATE, NeighInit::Resolve, 0).unwrap();
    assert_eq!(t.get(2, &PEER).unwrap().lladdr, MAC);
    t.rtnl_newneigh(&m2, NLM_F_REPLACE, NeighInit::Resolve, 0).unwrap();
    assert_eq!(show(&t), "10.0.0.2 dev eth0 lladdr 52:54:00:ab:cd:ef REACHABLE\n");
    let other = ME.octets();
    let m3 = msg(2, &other, Some(&ll), u16::from(NUD_STALE), 0);
    assert_eq!(t.rtnl_newneigh(&m3, NLM_F_REPLACE, NeighInit::Resolve, 0), Err(Errno::ENOENT));
    // Errors in neigh_add's order.
    assert_eq!(
        t.rtnl_newneigh(&msg(2, &dst, Some(&ll[..5]), 0x80, 0), add, NeighInit::Resolve, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        t.rtnl_newneigh(&msg(2, &dst[..3], None, 0x80, 0), add, NeighInit::Resolve, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        t.rtnl_newneigh(&msg(0, &other, None, 0x80, 0), add, NeighInit::Resolve, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        t.rtnl_newneigh(&msg(2, &other, None, 0x80, 0), add, NeighInit::NoInetDev, 0),
        Err(Errno::EINVAL)
    );
    // No lladdr: EINVAL, but the entry was created and stays NUD_NONE (hidden by default).
    assert_eq!(
        t.rtnl_newneigh(&msg(2, &other, None, 0x80, 0), add, NeighInit::Resolve, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(t.get(2, &ME).unwrap().state, NUD_NONE);
    let none = NeighFilter::show().with_nud(&["none"], false).unwrap();
    assert_eq!(t.show(&none, false, &names), "10.0.0.1 dev eth0 \n");
    // Delete sets FAILED; the entry stays.
    t.rtnl_delneigh(&msg(2, &dst, None, 0, 0), S).unwrap();
    assert_eq!(show(&t), "10.0.0.2 dev eth0  FAILED\n");
    let nowhere = Ipv4Addr::new(10, 9, 9, 9).octets();
    assert_eq!(t.rtnl_delneigh(&msg(2, &nowhere, None, 0, 0), S).map(|_| ()), Err(Errno::ENOENT));
    assert_eq!(t.rtnl_delneigh(&msg(0, &dst, None, 0, 0), S).map(|_| ()), Err(Errno::EINVAL));
    assert_eq!(t.rtnl_delneigh(&msg(2, &dst[..2], None, 0, 0), S).map(|_| ()), Err(Errno::EINVAL));
    // `ip neigh add … use`: starts resolution.
    let o =
        t.rtnl_newneigh(&msg(2, &dst, None, 0, NTF_USE), NLM_F_REPLACE, NeighInit::Resolve, 2 * S).unwrap();
    assert_eq!(o.solicits.len(), 1);
    assert_eq!(state(&t), NUD_INCOMPLETE);
}

#[test]
fn proxy_entries() {
    let mut t = arp();
    let dst = Ipv4Addr::new(10, 0, 0, 5).octets();
    t.rtnl_newneigh(&msg(2, &dst, None, 0, NTF_PROXY), NLM_F_CREATE | NLM_F_EXCL, NeighInit::Resolve, 0)
        .unwrap();
    assert_eq!(t.show(&NeighFilter::show(), true, &names), "10.0.0.5 dev eth0  proxy\n");
    assert_eq!(show(&t), "");
    assert_eq!(t.rtnl_delneigh(&msg(3, &dst, None, 0, NTF_PROXY), 0).map(|_| ()), Err(Errno::ENOENT));
    t.rtnl_delneigh(&msg(2, &dst, None, 0, NTF_PROXY), 0).unwrap();
    assert_eq!(t.show(&NeighFilter::show(), true, &names), "");
    // ND refuses a proxy entry without a device (pndisc_constructor); ARP takes it.
    let mut n = Nd::nd(0, 1);
    let a = "2001:db8::5".parse::<Ipv6Addr>().unwrap().octets();
    let r = n.rtnl_newneigh(&msg(0, &a, None, 0, NTF_PROXY), NLM_F_CREATE, NeighInit::Resolve, 0);
    assert_eq!(r.map(|_| ()), Err(Errno::ENOBUFS));
    t.rtnl_newneigh(&msg(0, &dst, None, 0, NTF_PROXY), NLM_F_CREATE, NeighInit::Resolve, 0).unwrap();
    assert!(t.is_proxied(&Ipv4Addr::from(dst), 7));
    assert_eq!(t.show(&NeighFilter::show(), true, &names), "10.0.0.5  proxy\n");
}

#[test]
fn flush_sets_failed_and_keeps_permanent() {
    let mut t = arp();
    reachable(&mut t, 0);
    t.create(2, &ME, NeighInit::Resolve, 0).unwrap();
    t.update(2, &ME, Some(MAC2), NUD_PERMANENT, NEIGH_UPDATE_F_ADMIN, 0).unwrap();
    let inc = Ipv4Addr::new(10, 0, 0, 7);
    let _ = t.resolve(2, &inc, pkt(5), NeighInit::Resolve, 0);
    let _ = t.resolve(3, &inc, pkt(6), NeighInit::Resolve, 0);
    let mut f = NeighFilter::flush();
    f.index = 2;
    let (n, o) = t.flush(&f, S);
    assert_eq!(n, 2);
    assert_eq!(o.unreachable, vec![(2, inc, pkt(5))]);
    assert_eq!(
        show(&t),
        "10.0.0.1 dev eth0 lladdr 52:54:00:ab:cd:ef PERMANENT\n10.0.0.2 dev eth0  FAILED\n\
         10.0.0.7 dev eth0  FAILED\n10.0.0.7 dev if3  INCOMPLETE\n"
    );
    assert_eq!(t.flush(&f, S).0, 0);
}

#[test]
fn filters_and_nud_names() {
    assert_eq!(nud_state_a2n("p"), Some(0x80));
    assert_eq!(nud_state_a2n(""), Some(0x80));
    assert_eq!(nud_state_a2n("re"), Some(0x02));
    assert_eq!(nud_state_a2n("f"), Some(0x20));
    assert_eq!(nud_state_a2n("noar"), None);
    assert_eq!(nud_state_a2n("stale"), Some(0x04));
    assert_eq!(nud_state_a2n("0x10"), Some(0x10));
    assert_eq!(nud_state_a2n("020"), Some(0x10));
    assert_eq!(nud_state_a2n("0"), Some(0));
    assert_eq!(nud_state_a2n("3"), None);
    assert_eq!(nud_state_a2n("0x100"), None);
    assert_eq!(nud_state_a2n("x"), None);
    assert!(NeighFilter::<Ipv4Addr>::show().with_nud(&["bogus"], false).is_none());
    let f = NeighFilter::<Ipv4Addr>::show().with_nud(&["stale", "delay"], false).unwrap();
    assert_eq!(f.state, 0x0c);
    let f = NeighFilter::<Ipv4Addr>::flush().with_nud(&["all"], true).unwrap();
    assert_eq!(f.state & 0x40, 0);
    let mut f = NeighFilter::show();
    f.prefix = Some((Ipv4Addr::new(10, 0, 0, 0), 30));
    assert!(f.matches(2, &PEER, NUD_STALE, 0, false));
    assert!(!f.matches(2, &Ipv4Addr::new(10, 0, 0, 4), NUD_STALE, 0, false));
    f.unused_only = true;
    assert!(!f.matches(2, &PEER, NUD_STALE, 0, true));
}

#[test]
fn ipv6_text_is_glibcs() {
    for (a, want) in [
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::1", "fe80::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1::", "1::"),
        ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("::1.2.3.4", "::1.2.3.4"),
        ("::2:3", "::0.2.0.3"),
    ] {
        assert_eq!(inet6_ntop(&a.parse().unwrap()), want, "{a}");
    }
}
