//! IPv6 addresses going away (`net/ipv6/addrconf.c`): `ip -6 addr del` (`inet6_addr_del`
//! → `ipv6_del_addr`, with `check_cleanup_prefix_route` and `rt6_remove_prefsrc`), a
//! device going down or losing IPv6 (`addrconf_ifdown`), and the MTU notifier that
//! decides the latter (`addrconf_notify(NETDEV_CHANGEMTU)`).

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::addrconf::{Inet6Dev, IFA_F_NOPREFIXROUTE, IFA_F_PERMANENT};
use crate::net::fib::{prefix_match, LOOPBACK_IFINDEX, RT_TABLE_LOCAL, RT_TABLE_MAIN};
use crate::net::wire::Ipv6Addr;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `IPV6_MIN_MTU`: a link with a smaller MTU cannot carry IPv6.
pub const IPV6_MIN_MTU: u32 = 1280;

impl<H: Hal> Kernel<H> {
    /// `ip -6 addr del ADDR/PLEN dev DEV` (`inet6_addr_del`): `EINVAL` for a prefix over
    /// 128, `ENODEV` for no such device, `ENXIO` for a device without IPv6,
    /// `EADDRNOTAVAIL` unless the device has exactly this address and prefix length.
    ///
    /// Then `ipv6_del_addr`: the address leaves the list, its local route goes
    /// (`__ipv6_ifa_notify(RTM_DELADDR)`), its prefix route too if it was permanent, had
    /// one (no `noprefixroute`) and no other address of the device shares the prefix
    /// (`check_cleanup_prefix_route`: one that is permanent keeps the route, one that is
    /// not would only shorten its lifetime), and routes through the device that named it
    /// as preferred source forget it (`rt6_remove_prefsrc`).
    pub fn inet6_addr_del(&mut self, ifindex: u32, addr: Ipv6Addr, plen: u32) -> Result<(), Errno> {
        if plen > 128 {
            return Err(Errno::EINVAL);
        }
        if !self.net.devices.contains_key(&ifindex) {
            return Err(Errno::ENODEV);
        }
        let idev = self.net.idev6.get_mut(&ifindex).ok_or(Errno::ENXIO)?;
        let ifp = idev
            .addrs()
            .iter()
            .find(|i| i.addr == addr && u32::from(i.prefix_len) == plen)
            .cloned()
            .ok_or(Errno::EADDRNOTAVAIL)?;
        let del_prefix = ifp.flags & IFA_F_PERMANENT != 0
            && ifp.flags & IFA_F_NOPREFIXROUTE == 0
            && !idev.addrs().iter().any(|o| o.addr != addr && prefix_match(o.addr, addr, ifp.prefix_len));
        idev.inet6_addr_del(&addr, plen)?;
        self.ipv6_del_local_route(ifindex, addr);
        if del_prefix {
            self.cleanup_prefix_route(ifindex, addr, ifp.prefix_len);
        }
        self.net.fib6.clear_prefsrc(Some(ifindex), addr);
        Ok(())
    }

    /// `ip6_del_rt(ifp->rt)`: the local route `addrconf_dst_alloc` made for `addr` of
    /// `ifindex` (on `lo`, in the local table), if DAD had completed and inserted it.
    pub(crate) fn ipv6_del_local_route(&mut self, ifindex: u32, addr: Ipv6Addr) {
        self.net.fib6.retain_routes(|t, r| {
            !(t == RT_TABLE_LOCAL && r.dst == addr && r.dst_len == 128 && r.oif == LOOPBACK_IFINDEX && r.idev == ifindex)
        });
    }

    /// `cleanup_prefix_route(ifp, 0, true)`: the first route of exactly `addr/plen` in the
    /// prefix table (main) through `ifindex` without a gateway
    /// (`addrconf_get_prefix_route(…, 0, RTF_GATEWAY | RTF_DEFAULT)`) — the kernel's or
    /// the administrator's alike, as in 4.3.
    fn cleanup_prefix_route(&mut self, ifindex: u32, addr: Ipv6Addr, plen: u8) {
        let mut done = false;
        self.net.fib6.retain_routes(|t, r| {
            let hit = !done
                && t == RT_TABLE_MAIN
                && r.dst_len == plen
                && prefix_match(r.dst, addr, plen)
                && r.oif == ifindex
                && r.gateway.is_none()
                && r.error().is_none();
            done |= hit;
            !hit
        });
    }

    /// `addrconf_ifdown(dev, how)`: the routes through the device (`rt6_ifdown`: every
    /// table; the local routes of its addresses are on `lo` and go with each address),
    /// its ND entries, and every address with its local route. `how` false (the device
    /// went down) keeps the `inet6_dev`, no longer ready; true (unregister, or an MTU
    /// below 1280) takes IPv6 off the device.
    pub(crate) fn addrconf_ifdown(&mut self, ifindex: u32, how: bool) {
        self.net.fib6.retain_routes(|_, r| r.oif != ifindex);
        self.net.nd.ifdown(Some(ifindex));
        let Some(idev) = self.net.idev6.get_mut(&ifindex) else { return };
        let addrs: Vec<(Ipv6Addr, u32)> = idev.addrs().iter().map(|a| (a.addr, u32::from(a.prefix_len))).collect();
        for (a, p) in &addrs {
            let _ = idev.inet6_addr_del(a, *p);
        }
        idev.if_ready = false;
        for (a, _) in addrs {
            self.ipv6_del_local_route(ifindex, a);
        }
        if how {
            self.net.idev6.remove(&ifindex);
        }
    }

    /// `addrconf_notify(NETDEV_CHANGEMTU)`: at 1280 or more a device without IPv6 gets a
    /// fresh `inet6_dev` (`ipv6_add_dev`: no addresses until the next `NETDEV_UP`, ready if
    /// the device runs); below, IPv6 leaves the device (`addrconf_ifdown(dev, 1)`).
    pub(crate) fn addrconf_changemtu(&mut self, ifindex: u32) {
        let Some(dev) = self.net.devices.get(&ifindex) else { return };
        if dev.mtu >= IPV6_MIN_MTU {
            if !self.net.idev6.contains_key(&ifindex) {
                let (mac, flags, up) = (dev.mac, dev.flags, dev.is_up());
                let seed = self.hal.next_u64();
                self.net.idev6.insert(ifindex, Inet6Dev::new(mac, flags, up, seed));
            }
            return;
        }
        if self.net.idev6.contains_key(&ifindex) {
            self.addrconf_ifdown(ifindex, true);
        }
    }
}
