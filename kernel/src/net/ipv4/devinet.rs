//! IPv4 addresses on devices (`net/ipv4/devinet.c`) and the routes each one implies
//! (`fib_add_ifaddr` and `fib_magic`, `net/ipv4/fib_frontend.c`).
//!
//! What `ip addr add ADDR/PLEN dev DEV` asks of 4.3 (iproute2 v4.3.0's `ipaddr_modify`):
//! `IFA_LOCAL` = `IFA_ADDRESS` = ADDR, scope host for an address in 127/8 and universe
//! otherwise (`default_scope`), and no `IFA_BROADCAST` — iproute2 computes one only for
//! `brd +` / `brd -`. So a plain `ip addr add 10.0.0.1/24 dev eth0` leaves
//! `ifa_broadcast` 0 and `fib_add_ifaddr` adds no route from it; the subnet's broadcast
//! routes (`broadcast 10.0.0.0` and `broadcast 10.0.0.255`, table local, scope link) come
//! from the prefix branch, which adds them only for prefixes shorter than /31.
//!
//! `lo`: 4.3's `inetdev_event(NETDEV_UP)` itself gives a loopback device 127.0.0.1/8
//! scope host when it comes up (no user space needed), with the routes
//! `local 127.0.0.1`, `local 127.0.0.0/8` (a loopback device's prefix route is `local`),
//! `broadcast 127.0.0.0` and `broadcast 127.255.255.255`, all in table local.
//!
//! Routes are added only while the device is up; an address added to a device that is
//! down gets its `local` route at once and the rest when the device comes up
//! (`fib_netdev_event(NETDEV_UP)` runs `fib_add_ifaddr` for every address again; routes
//! that exist already are refused with `EEXIST`, as `fib_magic` ignores).

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::fib::{Flow, NlFlags, Route, RouteType, RTPROT_KERNEL, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_LOCAL, RT_TABLE_MAIN};
use crate::net::netdevice::{InIfAddr, IFA_F_PERMANENT, IFA_F_SECONDARY};
use crate::net::wire::Ipv4Addr;
use crate::uapi::Errno;
use alloc::vec::Vec;

impl<H: Hal> Kernel<H> {
    /// `ip addr add ADDR/PLEN dev DEV` (`inet_rtm_newaddr`): the address, primary or (in
    /// a subnet the device already has) secondary, then `fib_add_ifaddr`'s routes.
    /// `EINVAL` for a prefix over 32 or a second address of a subnet with another scope,
    /// `ENODEV` for no such device, `EEXIST` if the device has this address and prefix.
    /// 0.0.0.0 is accepted and ignored, as `__inet_insert_ifa` does.
    pub fn inet_addr_add(&mut self, ifindex: u32, addr: Ipv4Addr, plen: u8) -> Result<(), Errno> {
        if plen > 32 {
            return Err(Errno::EINVAL);
        }
        let scope = if addr.octets()[0] == 127 { RT_SCOPE_HOST } else { RT_SCOPE_UNIVERSE };
        let ifa = InIfAddr { local: addr, prefixlen: plen, broadcast: Ipv4Addr::UNSPECIFIED, scope, flags: 0 };
        let dev = self.net.devices.get(&ifindex).ok_or(Errno::ENODEV)?;
        if !dev.in_dev {
            return Err(Errno::ENOBUFS);
        }
        // find_matching_ifa: the same address with the same mask.
        if dev.addrs4.iter().any(|a| a.prefixlen == plen && ifa.matches(&a.local) && a.local == addr) {
            return Err(Errno::EEXIST);
        }
        self.inet_insert_ifa(ifindex, ifa)?;
        self.net_run_backlog();
        Ok(())
    }

    /// `__inet_insert_ifa` and the `NETDEV_UP` address notification: a primary goes after
    /// the last primary of the same or a wider scope, a secondary at the end.
    pub(crate) fn inet_insert_ifa(&mut self, ifindex: u32, mut ifa: InIfAddr) -> Result<(), Errno> {
        if ifa.local.is_unspecified() {
            return Ok(());
        }
        let dev = self.net.devices.get_mut(&ifindex).ok_or(Errno::ENODEV)?;
        ifa.flags = (ifa.flags & !IFA_F_SECONDARY) | IFA_F_PERMANENT;
        let mut last_primary = 0;
        for (i, a) in dev.addrs4.iter().enumerate() {
            if a.is_primary() && ifa.scope <= a.scope {
                last_primary = i + 1;
            }
            if a.prefixlen == ifa.prefixlen && ifa.matches(&a.local) {
                if a.local == ifa.local {
                    return Err(Errno::EEXIST);
                }
                if a.scope != ifa.scope {
                    return Err(Errno::EINVAL);
                }
                ifa.flags |= IFA_F_SECONDARY;
            }
        }
        let at = if ifa.is_primary() { last_primary } else { dev.addrs4.len() };
        dev.addrs4.insert(at, ifa);
        self.fib_add_ifaddr(ifindex, &ifa);
        Ok(())
    }

    /// IPv4's part of `dev_open` (`inetdev_event` then `fib_netdev_event`, `NETDEV_UP`):
    /// a loopback device gets 127.0.0.1/8; every address of the device gets its routes.
    /// Membership of 224.0.0.1 (`ip_mc_up`) follows from the device being up.
    pub(crate) fn inetdev_up(&mut self, ifindex: u32) {
        let Some(dev) = self.net.devices.get(&ifindex) else { return };
        if !dev.in_dev {
            return;
        }
        if dev.is_loopback() {
            let lo = InIfAddr { local: Ipv4Addr::LOCALHOST, prefixlen: 8, broadcast: Ipv4Addr::UNSPECIFIED, scope: RT_SCOPE_HOST, flags: 0 };
            let _ = self.inet_insert_ifa(ifindex, lo);
        }
        let addrs: Vec<InIfAddr> = self.net.devices.get(&ifindex).map(|d| d.addrs4.clone()).unwrap_or_default();
        for ifa in &addrs {
            self.fib_add_ifaddr(ifindex, ifa);
        }
    }

    /// `fib_add_ifaddr`: `local ADDR` always; once the device is up the explicit broadcast
    /// address, and for a primary address the prefix route (`local` on a loopback device,
    /// else in main) with, below /31, the subnet's two broadcast routes.
    fn fib_add_ifaddr(&mut self, ifindex: u32, ifa: &InIfAddr) {
        let Some(dev) = self.net.devices.get(&ifindex) else { return };
        let (up, loopback) = (dev.is_up(), dev.is_loopback());
        let mask = ifa.mask();
        let prefix = Ipv4Addr::from(u32::from(ifa.local) & mask);
        let prim = if ifa.is_primary() {
            *ifa
        } else {
            // inet_ifa_byprefix: the primary of the same subnet.
            match dev.addrs4.iter().find(|a| a.is_primary() && a.prefixlen == ifa.prefixlen && a.matches(&prefix)) {
                Some(p) => *p,
                None => return,
            }
        };
        self.fib_magic(RouteType::Local, ifa.local, 32, ifindex, &prim);
        if !up {
            return;
        }
        if !ifa.broadcast.is_unspecified() && !ifa.broadcast.is_broadcast() {
            self.fib_magic(RouteType::Broadcast, ifa.broadcast, 32, ifindex, &prim);
        }
        if prefix.octets()[0] != 0 && ifa.is_primary() && (prefix != ifa.local || ifa.prefixlen < 32) {
            let t = if loopback { RouteType::Local } else { RouteType::Unicast };
            self.fib_magic(t, prefix, ifa.prefixlen, ifindex, &prim);
            if ifa.prefixlen < 31 {
                self.fib_magic(RouteType::Broadcast, prefix, 32, ifindex, &prim);
                self.fib_magic(RouteType::Broadcast, Ipv4Addr::from(u32::from(prefix) | !mask), 32, ifindex, &prim);
            }
        }
    }

    /// `__inet_del_ifa(in_dev, ifap, 1, …)` with `promote_secondaries` 0 (4.3's default):
    /// the address at `idx` of `ifindex` goes, and with a primary go the secondaries of its
    /// subnet, each announced (`NETDEV_DOWN` on `inetaddr_chain` → `fib_inetaddr_event`)
    /// as it leaves the list.
    pub(crate) fn inet_del_ifa(&mut self, ifindex: u32, idx: usize) {
        let Some(dev) = self.net.devices.get_mut(&ifindex) else { return };
        let Some(&ifa1) = dev.addrs4.get(idx) else { return };
        if ifa1.is_primary() {
            let mut j = idx + 1;
            loop {
                let Some(dev) = self.net.devices.get_mut(&ifindex) else { return };
                let Some(&a) = dev.addrs4.get(j) else { break };
                if a.is_primary() || a.prefixlen != ifa1.prefixlen || !ifa1.matches(&a.local) {
                    j += 1;
                    continue;
                }
                dev.addrs4.remove(j);
                self.fib_inetaddr_down(ifindex, &a);
            }
        }
        let Some(dev) = self.net.devices.get_mut(&ifindex) else { return };
        if let Some(i) = dev.addrs4.iter().position(|a| *a == ifa1) {
            dev.addrs4.remove(i);
            self.fib_inetaddr_down(ifindex, &ifa1);
        }
        self.net_run_backlog();
    }

    /// `inetdev_event(NETDEV_CHANGEMTU)`: below 68 (`inetdev_valid_mtu`) IPv4 leaves the
    /// device (`inetdev_destroy`: every address deleted, then its ARP entries); at 68 or
    /// more a device without IPv4 state gets it back (`inetdev_init`), without addresses.
    pub(crate) fn inetdev_changemtu(&mut self, ifindex: u32) {
        let Some(dev) = self.net.devices.get_mut(&ifindex) else { return };
        if dev.mtu >= 68 {
            dev.in_dev = true;
            return;
        }
        if !dev.in_dev {
            return;
        }
        // Bounded by the list, which each round shortens.
        for _ in 0..=dev.addrs4.len() {
            match self.net.devices.get(&ifindex) {
                Some(d) if !d.addrs4.is_empty() => self.inet_del_ifa(ifindex, 0),
                _ => break,
            }
        }
        if let Some(dev) = self.net.devices.get_mut(&ifindex) {
            dev.in_dev = false;
        }
        self.net.arp.ifdown(Some(ifindex));
    }

    /// `fib_magic(RTM_NEWROUTE, …)`: a kernel route from an address, appended
    /// (`NLM_F_CREATE | NLM_F_APPEND`); unicast routes in main, the rest in local; scope
    /// host for `local`, link otherwise; the primary address as preferred source.
    fn fib_magic(&mut self, rtype: RouteType, dst: Ipv4Addr, plen: u8, ifindex: u32, prim: &InIfAddr) {
        let table = if rtype == RouteType::Unicast { RT_TABLE_MAIN } else { RT_TABLE_LOCAL };
        let scope = if rtype == RouteType::Local { RT_SCOPE_HOST } else { RT_SCOPE_LINK };
        let r = Route::new(dst, plen).rtype(rtype).dev(ifindex).proto(RTPROT_KERNEL).scope(scope).src(prim.local);
        // An identical route exists already (EEXIST): fib_magic ignores the error.
        let _ = self.net.fib4.add(table, r, NlFlags::APPEND);
    }

    /// `inet_select_addr`: a primary address of `ifindex` of at most `scope`, the first
    /// one in `dst`'s subnet if any (any one for `dst` 0.0.0.0); failing that, the first
    /// primary address of any device (in ifindex order, `lo` first) that is not link
    /// scope and within `scope`. 0.0.0.0 when there is none.
    pub(crate) fn inet_select_addr(&self, ifindex: u32, dst: Ipv4Addr, scope: u8) -> Ipv4Addr {
        let mut addr = None;
        if let Some(dev) = self.net.devices.get(&ifindex) {
            for ifa in dev.addrs4.iter().filter(|a| a.is_primary() && a.scope <= scope) {
                if dst.is_unspecified() || ifa.matches(&dst) {
                    addr = Some(ifa.local);
                    break;
                }
                addr.get_or_insert(ifa.local);
            }
        }
        if let Some(a) = addr {
            return a;
        }
        self.net
            .devices
            .values()
            .flat_map(|d| d.addrs4.iter())
            .find(|a| a.is_primary() && a.scope != RT_SCOPE_LINK && a.scope <= scope)
            .map_or(Ipv4Addr::UNSPECIFIED, |a| a.local)
    }

    /// `__ip_dev_find(net, addr, false)`: the device holding `addr`, else the device of a
    /// `local` route for it in table local.
    pub(crate) fn ip_dev_find(&self, addr: Ipv4Addr) -> Option<u32> {
        if let Some(d) = self.net.devices.values().find(|d| d.has_addr4(&addr)) {
            return Some(d.ifindex);
        }
        let r = self.net.fib4.table_lookup(RT_TABLE_LOCAL, &Flow::output(addr)).ok()?;
        (r.route.rtype == RouteType::Local).then_some(r.route.oif)
    }
}

impl<H: Hal> Kernel<H> {
    /// `ip route show table TABLE` for IPv4 (0 is `all`, 254 main, 255 local), in
    /// iproute2 v4.3.0's text.
    pub fn ip_route_show(&self, table: u32) -> alloc::string::String {
        let devs: alloc::collections::BTreeMap<u32, alloc::string::String> =
            self.net.devices.values().map(|d| (d.ifindex, d.name.clone())).collect();
        self.net.fib4.show_routes(table, &devs)
    }

    /// The IPv4 addresses of `ifindex`, in the device's order (primaries first by scope,
    /// then secondaries), as `ip -4 addr show dev DEV` lists them.
    pub fn inet_addrs(&self, ifindex: u32) -> Vec<InIfAddr> {
        self.net.devices.get(&ifindex).map(|d| d.addrs4.clone()).unwrap_or_default()
    }
}
