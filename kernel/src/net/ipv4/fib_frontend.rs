//! What IPv4 routing does when addresses and devices go away (`net/ipv4/fib_frontend.c`):
//! `fib_del_ifaddr` (the routes an address implied, removed only where no remaining
//! address still implies them), `fib_inetaddr_event(NETDEV_DOWN)` and `fib_disable_ip`.
//!
//! k43 keeps one next hop per route, so Linux's two steps — mark the `fib_info` dead
//! (`fib_sync_down_dev`, `fib_sync_down_addr`), then `fib_flush` — are one removal here.

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::fib::{RouteSpec, RouteType, RTPROT_KERNEL, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_TABLE_LOCAL, RT_TABLE_MAIN};
use crate::net::netdevice::InIfAddr;
use crate::net::wire::Ipv4Addr;

/// `fib_del_ifaddr`'s `ok` bits: what another address still needs.
const LOCAL_OK: u32 = 1;
const BRD_OK: u32 = 2;
const BRD0_OK: u32 = 4;
const BRD1_OK: u32 = 8;

/// `ipv4_is_zeronet`.
fn zeronet(a: u32) -> bool {
    a & 0xff00_0000 == 0
}

/// `ifa_mask` as an integer.
fn mask_of(ifa: &InIfAddr) -> u32 {
    ifa.mask()
}

/// `inet_ifa_byprefix`: the first primary of `list` with this mask covering `prefix`.
fn byprefix(list: &[InIfAddr], prefix: u32, plen: u8) -> Option<InIfAddr> {
    list.iter().find(|a| a.is_primary() && a.prefixlen == plen && a.matches(&Ipv4Addr::from(prefix))).copied()
}

impl<H: Hal> Kernel<H> {
    /// `fib_inetaddr_event(NETDEV_DOWN)` for `ifa`, just unlinked from `ifindex`: its
    /// routes go (`fib_del_ifaddr`); if it was the device's last address, so does every
    /// route through the device (`fib_disable_ip`, as for the device going down).
    pub(crate) fn fib_inetaddr_down(&mut self, ifindex: u32, ifa: &InIfAddr) {
        self.fib_del_ifaddr(ifindex, ifa);
        if self.net.devices.get(&ifindex).is_some_and(|d| d.addrs4.is_empty()) {
            self.fib_disable_ip(ifindex);
        }
    }

    /// `fib_disable_ip(dev, NETDEV_DOWN)`: `fib_sync_down_dev` marks dead every route
    /// whose next hop is on the device (scope −1: all of them) and `fib_flush` removes
    /// them from every table; then `arp_ifdown` drops the device's ARP entries. Reject
    /// routes have no next hop and stay.
    pub(crate) fn fib_disable_ip(&mut self, ifindex: u32) {
        self.net.fib4.retain_routes(|_, r| r.oif != ifindex);
        self.net.arp.ifdown(Some(ifindex));
    }

    /// `fib_magic(RTM_DELROUTE, …)`: the kernel route an address implied, by type, prefix,
    /// device, protocol kernel, scope and preferred source; absent ones are ignored.
    fn fib_magic_del(&mut self, rtype: RouteType, dst: u32, plen: u8, ifindex: u32, prim: &InIfAddr) {
        let table = if rtype == RouteType::Unicast { RT_TABLE_MAIN } else { RT_TABLE_LOCAL };
        let scope = if rtype == RouteType::Local { RT_SCOPE_HOST } else { RT_SCOPE_LINK };
        let spec = RouteSpec::new(Ipv4Addr::from(dst), plen).rtype(rtype).scope(scope).proto(RTPROT_KERNEL).src(prim.local).dev(ifindex);
        let _ = self.net.fib4.delete(table, &spec);
    }

    /// `fib_del_ifaddr(ifa, NULL)`, with `ifa` already off the device's list: the prefix
    /// route of a primary; the broadcast and local routes unless a remaining address with
    /// the same preferred source still implies them; and once the address is no longer
    /// local anywhere, every route that used it as preferred source (`fib_sync_down_addr`).
    pub(crate) fn fib_del_ifaddr(&mut self, ifindex: u32, ifa: &InIfAddr) {
        let Some(dev) = self.net.devices.get(&ifindex) else { return };
        let loopback = dev.is_loopback();
        let list = dev.addrs4.clone();
        let mask = mask_of(ifa);
        let local = u32::from(ifa.local);
        let bcast = u32::from(ifa.broadcast);
        let brd = local | !mask;
        let any = local & mask;
        let mut prim = *ifa;
        let mut subnet = false;
        if !ifa.is_primary() {
            match byprefix(&list, any, ifa.prefixlen) {
                Some(p) => prim = p,
                // "bug: prim == NULL" in 4.3: nothing to do.
                None => return,
            }
        } else if !zeronet(any) && (any != local || ifa.prefixlen < 32) {
            let t = if loopback { RouteType::Local } else { RouteType::Unicast };
            self.fib_magic_del(t, any, ifa.prefixlen, ifindex, &prim);
            subnet = true;
        }
        let mut ok = 0;
        let mut prim1: Option<InIfAddr> = None;
        let mut same_prefsrc = false;
        for ifa1 in &list {
            if !ifa1.is_primary() {
                if ifa1.prefixlen == prim.prefixlen && prim.matches(&ifa1.local) {
                    prim1 = Some(prim);
                } else {
                    if !same_prefsrc {
                        continue;
                    }
                    if prim1.is_none_or(|p| ifa1.prefixlen != p.prefixlen || !p.matches(&ifa1.local)) {
                        prim1 = byprefix(&list, u32::from(ifa1.local), ifa1.prefixlen);
                    }
                    match prim1 {
                        Some(p) if p.local == prim.local => {}
                        _ => continue,
                    }
                }
            } else {
                if prim.local != ifa1.local {
                    continue;
                }
                prim1 = Some(*ifa1);
                if prim != *ifa1 {
                    same_prefsrc = true;
                }
            }
            let b1 = u32::from(ifa1.broadcast);
            if ifa.local == ifa1.local {
                ok |= LOCAL_OK;
            }
            if bcast == b1 {
                ok |= BRD_OK;
            }
            if brd == b1 {
                ok |= BRD1_OK;
            }
            if any == b1 {
                ok |= BRD0_OK;
            }
            // A primary's subnet broadcasts.
            if prim1 == Some(*ifa1) && ifa1.prefixlen < 31 {
                let m1 = mask_of(ifa1);
                let brd1 = u32::from(ifa1.local) | !m1;
                let any1 = u32::from(ifa1.local) & m1;
                if !zeronet(any1) {
                    if bcast == brd1 || bcast == any1 {
                        ok |= BRD_OK;
                    }
                    if brd == brd1 || brd == any1 {
                        ok |= BRD1_OK;
                    }
                    if any == brd1 || any == any1 {
                        ok |= BRD0_OK;
                    }
                }
            }
        }
        if ok & BRD_OK == 0 {
            self.fib_magic_del(RouteType::Broadcast, bcast, 32, ifindex, &prim);
        }
        if subnet && ifa.prefixlen < 31 {
            if ok & BRD1_OK == 0 {
                self.fib_magic_del(RouteType::Broadcast, brd, 32, ifindex, &prim);
            }
            if ok & BRD0_OK == 0 {
                self.fib_magic_del(RouteType::Broadcast, any, 32, ifindex, &prim);
            }
        }
        if ok & LOCAL_OK == 0 {
            self.fib_magic_del(RouteType::Local, local, 32, ifindex, &prim);
            // inet_addr_type_dev_table: is the address still local somewhere?
            if self.net.fib4.addr_type(ifa.local) != RouteType::Local {
                let gone = ifa.local;
                self.net.fib4.retain_routes(|_, r| r.prefsrc != Some(gone));
            }
        }
    }
}
