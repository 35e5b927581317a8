//! The handlers' pure parts against Linux 4.3: `rtm_to_fib_config`, `fib_check_nh`,
//! `ip6_route_info_create`'s device checks, `rtnl_fill_ifinfo`'s view of a device. The
//! handlers themselves, through `ip`, are tested in `tests/tests/net_ip.rs` (they need a
//! HAL).

use super::link::{LinkInfo, ARPHRD_ETHER, ARPHRD_LOOPBACK, IF_OPER_DOWN, IF_OPER_UNKNOWN, IF_OPER_UP};
use super::route::{fib_check_nh, ip6_route_check, linklocal6, rtm_to_fib_config, unicast6, RtMsg};
use super::{v4, v6, InetAddr, AF_INET};
use crate::net::core::addrconf::{Inet6Dev, IFA_F_PERMANENT};
use crate::net::fib::{Fib4, Fib6, NlFlags, Route, RouteType, RTNH_F_ONLINK, RTPROT_KERNEL, RT_SCOPE_HOST, RT_SCOPE_LINK};
use crate::net::netdevice::{NetDevice, IFF_LOWER_UP, IFF_RUNNING, IFF_UP};
use crate::net::wire::{EthernetAddress, Ipv4Addr, Ipv6Addr};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;

fn a4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn a6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// lo (up), eth0 (up), eth1 (down).
fn devs() -> BTreeMap<u32, NetDevice> {
    let mut m = BTreeMap::new();
    let mut lo = NetDevice::loopback();
    lo.flags |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
    let mut eth0 = NetDevice::ethernet(2, 0, [0x52, 0x54, 0, 0, 0, 1]);
    eth0.flags |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
    m.insert(1, lo);
    m.insert(2, eth0);
    m.insert(3, NetDevice::ethernet(3, 1, [0x52, 0x54, 0, 0, 0, 2]));
    m
}

/// 10.0.0.0/24 on eth0 (link scope) and a default route via 10.0.0.1, as the kernel and
/// an administrator leave them.
fn fib4() -> Fib4 {
    let mut f = Fib4::new();
    let connected = Route::new(a4("10.0.0.0"), 24).dev(2).scope(RT_SCOPE_LINK).proto(RTPROT_KERNEL);
    f.add(254, connected, NlFlags::APPEND).unwrap();
    f.add(254, Route::new(a4("0.0.0.0"), 0).via(a4("10.0.0.1")).dev(2), NlFlags::ADD).unwrap();
    f
}

#[test]
fn rtm_to_fib_config_reads_the_header_and_attributes() {
    let mut m = RtMsg::new(AF_INET);
    m.dst = Some(InetAddr::V4(a4("10.1.0.0")));
    m.dst_len = 16;
    m.rtype = 12;
    assert_eq!(rtm_to_fib_config(&m), Err(Errno::EINVAL));
    m.rtype = RouteType::Unicast.rtn();
    m.flags = RTNH_F_ONLINK | 1;
    m.priority = Some(7);
    let r = rtm_to_fib_config(&m).unwrap();
    assert_eq!((r.dst, r.dst_len, r.priority, r.flags), (a4("10.1.0.0"), 16, 7, RTNH_F_ONLINK));
    m.gateway = Some(InetAddr::V6(a6("2001:db8::1")));
    assert_eq!(rtm_to_fib_config(&m), Err(Errno::EINVAL));
    assert_eq!(m.table_id(), 0);
    m.rta_table = Some(1000);
    assert_eq!(m.table_id(), 1000);
    assert_eq!(v4(Some(InetAddr::V6(Ipv6Addr::LOCALHOST))), Err(Errno::EINVAL));
    assert_eq!(v6(Some(InetAddr::V4(Ipv4Addr::LOCALHOST))), Err(Errno::EINVAL));
    assert_eq!(InetAddr::V6(Ipv6Addr::LOCALHOST).len(), 16);
}

#[test]
fn fib_check_nh_wants_an_on_link_gateway() {
    let (d, f) = (devs(), fib4());
    let gw = |g: &str| Route::new(a4("10.9.0.0"), 16).via(a4(g));
    // On link: the device comes from the connected route.
    let mut r = gw("10.0.0.7");
    assert_eq!(fib_check_nh(&d, &f, 254, &mut r), Ok(()));
    assert_eq!(r.oif, 2);
    // Reachable only through another gateway: not on link.
    assert_eq!(fib_check_nh(&d, &f, 254, &mut gw("192.168.1.1")), Err(Errno::ENETUNREACH));
    // On link, but not out of the device asked for.
    assert_eq!(fib_check_nh(&d, &f, 254, &mut gw("10.0.0.7").dev(3)), Err(Errno::ENETUNREACH));
    // onlink: no route needed, but a link-scope route is refused and the device must be up.
    let mut r = gw("172.16.0.1").dev(2).flags(RTNH_F_ONLINK);
    assert_eq!(fib_check_nh(&d, &f, 254, &mut r), Ok(()));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut gw("172.16.0.1").dev(3).flags(RTNH_F_ONLINK)), Err(Errno::ENETDOWN));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut gw("172.16.0.1").dev(9).flags(RTNH_F_ONLINK)), Err(Errno::ENODEV));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut gw("172.16.0.1").dev(2).scope(RT_SCOPE_LINK).flags(RTNH_F_ONLINK)), Err(Errno::EINVAL));
    // No gateway: an existing device that is up.
    let dev = |o: u32| Route::new(a4("10.9.0.0"), 16).dev(o).scope(RT_SCOPE_LINK);
    assert_eq!(fib_check_nh(&d, &f, 254, &mut dev(2)), Ok(()));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut dev(3)), Err(Errno::ENETDOWN));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut dev(9)), Err(Errno::ENODEV));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut dev(0)), Err(Errno::ENODEV));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut dev(2).flags(RTNH_F_ONLINK)), Err(Errno::EINVAL));
    // Host scope: only that the device exists (a down one will do).
    assert_eq!(fib_check_nh(&d, &f, 254, &mut dev(3).scope(RT_SCOPE_HOST)), Ok(()));
    assert_eq!(fib_check_nh(&d, &f, 254, &mut dev(9).scope(RT_SCOPE_HOST)), Err(Errno::ENODEV));
}

#[test]
fn ip6_route_info_create_device_checks() {
    let d = devs();
    let mut idevs = BTreeMap::new();
    for i in 1..=3 {
        idevs.insert(i, Inet6Dev::new(EthernetAddress::default(), 0, true, 0));
    }
    if let Some(i) = idevs.get_mut(&2) {
        i.ipv6_add_addr(a6("2001:db8::2"), 64, IFA_F_PERMANENT, u32::MAX, u32::MAX, 0).unwrap();
    }
    let mut f = Fib6::new();
    f.add(254, Route::new(a6("2001:db8::"), 64).dev(2), NlFlags::ADD).unwrap();
    f.add(254, Route::new(a6("2001:db8:1::"), 64).via(a6("2001:db8::1")).dev(2), NlFlags::ADD).unwrap();
    let r = || Route::new(a6("2001:db8:9::"), 64);
    let mut x = r().via(a6("2001:db8::1"));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut x), Ok(()));
    assert_eq!(x.oif, 2);
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("2001:db8:1::1"))), Err(Errno::EHOSTUNREACH));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("2001:db9::1"))), Err(Errno::EHOSTUNREACH));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("2001:db8::1")).dev(3)), Err(Errno::EHOSTUNREACH));
    // Our own address, whatever its DAD state, and non-unicast gateways.
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("2001:db8::2"))), Err(Errno::EINVAL));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("::ffff:10.0.0.1"))), Err(Errno::EINVAL));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(Ipv6Addr::UNSPECIFIED)), Err(Errno::EINVAL));
    // A link-local gateway needs a device, and not lo.
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("fe80::1"))), Err(Errno::EINVAL));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("fe80::1")).dev(2)), Ok(()));
    // lo: promoted to a reject route before the gateway is looked at.
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().via(a6("fe80::1")).dev(1)), Ok(()));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().dev(9)), Err(Errno::ENODEV));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r()), Err(Errno::ENODEV));
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().rtype(RouteType::Blackhole)), Ok(()));
    // A preferred source must be usable: the address is still tentative.
    assert_eq!(ip6_route_check(&d, &idevs, &f, &mut r().dev(2).src(a6("2001:db8::2"))), Err(Errno::EINVAL));
    assert!(unicast6(&a6("2001:db8::1")) && unicast6(&Ipv6Addr::LOCALHOST) && !unicast6(&a6("ff02::1")));
    assert!(linklocal6(&a6("fe80::1")) && linklocal6(&a6("febf::1")) && !linklocal6(&a6("fec0::1")));
}

#[test]
fn getlink_describes_a_device_as_rtnl_fill_ifinfo() {
    let d = devs();
    let lo = LinkInfo::of(&d[&1]);
    assert_eq!((lo.link_type, lo.operstate, lo.txqlen, lo.qdisc), (ARPHRD_LOOPBACK, IF_OPER_UNKNOWN, 0, "noop"));
    assert_eq!(lo.broadcast, EthernetAddress::default());
    let eth0 = LinkInfo::of(&d[&2]);
    assert_eq!((eth0.link_type, eth0.operstate, eth0.txqlen), (ARPHRD_ETHER, IF_OPER_UP, 1000));
    let eth1 = LinkInfo::of(&d[&3]);
    assert_eq!((eth1.operstate, eth1.flags & (IFF_RUNNING | IFF_LOWER_UP)), (IF_OPER_DOWN, 0));
}
