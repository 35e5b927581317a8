//! The kernel side of IPv6 address configuration (`net/ipv6/addrconf.c`): what happens
//! when a link comes up and when an address is added, and what DAD's events turn into
//! (Neighbour Solicitations, the address's local route, multicast membership).
//! The DAD state machine itself is `net::core::addrconf::Inet6Dev`.

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::addrconf::{solicited_node, DadEvent, IFA_F_DADFAILED, IFA_F_MANAGETEMPADDR, IFA_F_NOPREFIXROUTE, IFA_F_PERMANENT, IFA_F_TENTATIVE, INFINITY_LIFE_TIME};
use crate::net::fib::{NlFlags, Route, RouteType, RTPROT_KERNEL, RT_TABLE_LOCAL, RT_TABLE_MAIN};
use crate::net::netdevice::DevKind;
use crate::net::wire::Ipv6Addr;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `IP6_RT_PRIO_ADDRCONF`: the metric of the kernel's prefix routes.
pub const IP6_RT_PRIO_ADDRCONF: u32 = 256;
/// `ff02::1`, all nodes.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// `ff01::1`, all nodes, interface-local.
const ALL_NODES_IFLOCAL: Ipv6Addr = Ipv6Addr::new(0xff01, 0, 0, 0, 0, 0, 0, 1);
/// `ff02::2`, all routers (joined while forwarding).
const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

impl<H: Hal> Kernel<H> {
    /// `addrconf_notify(NETDEV_UP)`: `lo` gets `::1/128` (`init_loopback`: no prefix
    /// route, and the local routes of the other devices' usable addresses, which `lo`
    /// going down took away, come back); an Ethernet device is marked ready and gets its
    /// EUI-64 link-local address (tentative, DAD started), the `fe80::/64` route and the
    /// `ff00::/8` multicast route in the local table.
    pub(crate) fn addrconf_dev_up(&mut self, ifindex: u32) {
        let now = self.hal.now_ns();
        let Some(kind) = self.net.devices.get(&ifindex).map(|d| d.kind) else { return };
        let Some(idev) = self.net.idev6.get_mut(&ifindex) else { return };
        idev.link_up(now);
        match kind {
            DevKind::Loopback => {
                // init_loopback → add_addr: ::1, permanent (not `nodad`: `ip -6 addr` shows
                // no flag); DAD is skipped on a loopback device, so it is usable at once.
                let lo = Ipv6Addr::LOCALHOST;
                if idev.ipv6_add_addr(lo, 128, IFA_F_PERMANENT, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, now).is_ok() {
                    idev.dad_start(&lo, now);
                }
                let others: Vec<(u32, Ipv6Addr)> = self
                    .net
                    .idev6
                    .iter()
                    .filter(|(&i, _)| i != ifindex)
                    .flat_map(|(&i, d)| d.addrs().iter().filter(|a| a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0).map(move |a| (i, a.addr)))
                    .collect();
                for (i, a) in others {
                    // An address whose route survived is refused (EEXIST), as the
                    // `sp_ifa->rt` check skips it.
                    let _ = self.net.fib6.insert_raw(RT_TABLE_LOCAL, local_route(a, i), NlFlags::PREPEND);
                }
            }
            DevKind::Ether { .. } => {
                if idev.add_linklocal(now).is_ok() {
                    self.addrconf_prefix_route(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 64, ifindex);
                }
                let mroute = Route::new(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8).dev(ifindex).metric(IP6_RT_PRIO_ADDRCONF);
                let _ = self.net.fib6.add(RT_TABLE_LOCAL, mroute, NlFlags::PREPEND);
            }
        }
        self.addrconf_timers(now);
    }

    /// `ip -6 addr add ADDR/PLEN dev DEV` (`inet6_addr_add`): the address (tentative, DAD
    /// started) and, unless `IFA_F_NOPREFIXROUTE`, its prefix route — for a /128 too, and
    /// on `lo` that route becomes a reject route as `ip6_route_add` makes of any `lo`
    /// route. `addrconf_add_dev` also adds the `ff00::/8` route of a device that is not
    /// `lo`. `EINVAL` for a prefix over 128, `ENODEV` for no such device, `ENOBUFS` for a
    /// device without IPv6 (MTU below 1280), the address's own errors (`EEXIST`, …).
    pub fn inet6_addr_add(&mut self, ifindex: u32, addr: Ipv6Addr, plen: u32, flags: u32) -> Result<(), Errno> {
        let now = self.hal.now_ns();
        if plen > 128 || (flags & IFA_F_MANAGETEMPADDR != 0 && plen != 64) {
            return Err(Errno::EINVAL);
        }
        let dev = self.net.devices.get(&ifindex).ok_or(Errno::ENODEV)?;
        let loopback = dev.is_loopback();
        let idev = self.net.idev6.get_mut(&ifindex).ok_or(Errno::ENOBUFS)?;
        if idev.cnf.disable_ipv6 {
            return Err(Errno::EACCES);
        }
        if !loopback {
            let mroute = Route::new(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8).dev(ifindex).metric(IP6_RT_PRIO_ADDRCONF);
            let _ = self.net.fib6.add(RT_TABLE_LOCAL, mroute, NlFlags::PREPEND);
        }
        let Some(idev) = self.net.idev6.get_mut(&ifindex) else { return Err(Errno::ENOBUFS) };
        idev.inet6_addr_add(addr, plen, flags | IFA_F_PERMANENT, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, now)?;
        if flags & IFA_F_NOPREFIXROUTE == 0 {
            self.addrconf_prefix_route(addr, plen as u8, ifindex);
        }
        self.addrconf_timers(now);
        self.net_run_backlog();
        Ok(())
    }

    /// `addrconf_prefix_route`: `PREFIX/PLEN dev DEV proto kernel metric 256` in main.
    fn addrconf_prefix_route(&mut self, prefix: Ipv6Addr, plen: u8, ifindex: u32) {
        let r = Route::new(prefix, plen).dev(ifindex).proto(RTPROT_KERNEL).metric(IP6_RT_PRIO_ADDRCONF);
        let _ = self.net.fib6.add(RT_TABLE_MAIN, r, NlFlags::PREPEND);
    }

    /// Runs every device's due DAD work and acts on its events.
    pub(crate) fn addrconf_timers(&mut self, now: u64) {
        let ids: Vec<u32> = self.net.idev6.keys().copied().collect();
        for ifindex in ids {
            let ev = match self.net.idev6.get_mut(&ifindex) {
                Some(i) if i.next_deadline().is_some_and(|t| t <= now) => i.timer(now),
                _ => continue,
            };
            self.addrconf_events(ifindex, ev);
        }
    }

    /// What DAD asked for: an NS for a tentative address; on completion the address's
    /// `local` route (`dev lo`, table local, as `__ipv6_ifa_notify` inserts it).
    pub(crate) fn addrconf_events(&mut self, ifindex: u32, events: Vec<DadEvent>) {
        for e in events {
            match e {
                // Membership is computed from the address list (ipv6_chk_mcast_addr).
                DadEvent::JoinSolicited(_) => {}
                DadEvent::SendNs { target, dst } => self.ndisc_send_ns(ifindex, target, dst, Ipv6Addr::UNSPECIFIED),
                DadEvent::Completed { addr, .. } => {
                    let _ = self.net.fib6.insert_raw(RT_TABLE_LOCAL, local_route(addr, ifindex), NlFlags::PREPEND);
                }
                // addrconf_dad_failure's net_info_ratelimited (k43 prints every one: no
                // printk rate limit is modelled).
                DadEvent::Failed(addr) => {
                    let name = self.net.dev_name(ifindex);
                    self.printk(format_args!("{name}: IPv6 duplicate address {addr} detected!"));
                }
                DadEvent::Deleted(_) | DadEvent::Ipv6Disabled => {}
            }
        }
    }

    /// `ipv6_chk_mcast_addr`: whether device `ifindex` listens to `group` — the all-nodes
    /// groups, all-routers while forwarding, and the solicited-node group of each of its
    /// addresses (joined when the address is added, tentative or not).
    pub(crate) fn ipv6_chk_mcast_addr(&self, ifindex: u32, group: &Ipv6Addr) -> bool {
        if *group == ALL_NODES || *group == ALL_NODES_IFLOCAL {
            return true;
        }
        if self.ipv6_forwarding() && *group == ALL_ROUTERS {
            return true;
        }
        self.net.idev6.get(&ifindex).is_some_and(|i| i.addrs().iter().any(|a| solicited_node(&a.addr) == *group))
    }

    /// The device holding usable address `a` (`ipv6_chk_addr` with any device).
    pub(crate) fn ipv6_addr_dev(&self, a: &Ipv6Addr) -> Option<u32> {
        self.net
            .idev6
            .iter()
            .find(|(_, i)| i.get(a).is_some_and(|x| x.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0))
            .map(|(&k, _)| k)
    }

    /// `ipv6_dev_get_saddr`, the rules of RFC 6724 §5 k43 needs: a usable address of the
    /// output device whose scope is at least the destination's, the smallest such scope
    /// first (rule 2), then the longest prefix shared with the destination (rule 8).
    pub(crate) fn ipv6_dev_get_saddr(&self, ifindex: u32, daddr: &Ipv6Addr) -> Option<Ipv6Addr> {
        let dscope = scope_of(daddr);
        let idev = self.net.idev6.get(&ifindex)?;
        // One pass, each address's scope computed once; the first of equal candidates
        // wins (as `min_by_key` picks it).
        let mut best: Option<((u8, u32), Ipv6Addr)> = None;
        for a in idev.addrs() {
            if a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) != 0 {
                continue;
            }
            let scope = scope_of(&a.addr);
            if scope < dscope {
                continue;
            }
            let key = (scope, u32::MAX - common_prefix(&a.addr, daddr));
            if best.is_none_or(|(k, _)| key < k) {
                best = Some((key, a.addr));
            }
        }
        best.map(|(_, a)| a)
    }
}

/// `addrconf_dst_alloc(idev, addr, false)`: the local route of an address of `ifindex`,
/// on `lo` in the local table with metric 0 and protocol 0.
pub(crate) fn local_route(addr: Ipv6Addr, ifindex: u32) -> Route<Ipv6Addr> {
    Route::new(addr, 128).rtype(RouteType::Local).dev(crate::net::fib::LOOPBACK_IFINDEX).idev(ifindex).proto(0).metric(0)
}

/// `ipv6_addr_scope` as RFC 6724 orders scopes: interface-local 1, link-local 2,
/// site 5, global 14 (multicast addresses carry theirs).
pub fn scope_of(a: &Ipv6Addr) -> u8 {
    let o = a.octets();
    if a.is_multicast() {
        o[1] & 0x0f
    } else if a.is_loopback() {
        1
    } else if o[0] == 0xfe && o[1] & 0xc0 == 0x80 {
        2
    } else if o[0] == 0xfe && o[1] & 0xc0 == 0xc0 {
        5
    } else {
        14
    }
}

/// Bits two addresses share from the top.
fn common_prefix(a: &Ipv6Addr, b: &Ipv6Addr) -> u32 {
    (a.to_bits() ^ b.to_bits()).leading_zeros()
}
