//! Route messages (`RTM_NEWROUTE`, `RTM_DELROUTE`, `RTM_GETROUTE`) and route dumps.
//!
//! IPv4: `inet_rtm_newroute` / `inet_rtm_delroute` (`net/ipv4/fib_frontend.c`,
//! `rtm_to_fib_config`), `fib_create_info` and `fib_check_nh` (`fib_semantics.c`) for the
//! next hop, `fib_table_insert` / `fib_table_delete` in the FIB library, and
//! `inet_rtm_getroute` / `rt_fill_info` (`net/ipv4/route.c`). IPv6: `rtm_to_fib6_config`,
//! `ip6_route_info_create`, `ip6_route_del` and `inet6_rtm_getroute` (`net/ipv6/route.c`).

use super::{v4, v6, InetAddr, AF_INET, AF_INET6};
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::addrconf::{ifa_scope, Inet6Dev, IFA_F_TENTATIVE};
use crate::net::fib::print::{CacheInfo, RouteMsg, RTCF_BROADCAST, RTCF_LOCAL, RTCF_MULTICAST, RTM_F_CLONED};
use crate::net::fib::{Fib4, Fib6, Flow, NlFlags, Route, RouteSpec, RouteType, RouterPref};
use crate::net::fib::{LOOPBACK_IFINDEX, RTNH_F_ONLINK, RTNH_F_PERVASIVE, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_TABLE_MAIN};
use crate::net::ipv4::route::Rtable;
use crate::net::netdevice::NetDevice;
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// `RTN_MAX`: route types above it are refused (`rtm_to_fib_config`).
pub const RTN_MAX: u8 = 11;

/// An `RTM_*ROUTE` message: `struct rtmsg` and the attributes k43 reads (`None` = not
/// sent). Built zeroed ([`RtMsg::new`]) as iproute2 `memset`s its request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RtMsg {
    /// `rtm_family`.
    pub family: u8,
    /// `rtm_dst_len`.
    pub dst_len: u8,
    /// `rtm_src_len`.
    pub src_len: u8,
    /// `rtm_tos`.
    pub tos: u8,
    /// `rtm_table` (ids above 255 travel in [`RtMsg::rta_table`]).
    pub table: u8,
    /// `rtm_protocol`.
    pub protocol: u8,
    /// `rtm_scope`.
    pub scope: u8,
    /// `rtm_type` (`RTN_*`).
    pub rtype: u8,
    /// `rtm_flags` (`RTNH_F_ONLINK`, `RTM_F_NOTIFY`…).
    pub flags: u32,
    /// `RTA_TABLE`.
    pub rta_table: Option<u32>,
    /// `RTA_DST`.
    pub dst: Option<InetAddr>,
    /// `RTA_SRC`.
    pub src: Option<InetAddr>,
    /// `RTA_GATEWAY`.
    pub gateway: Option<InetAddr>,
    /// `RTA_PREFSRC`.
    pub prefsrc: Option<InetAddr>,
    /// `RTA_OIF`.
    pub oif: Option<u32>,
    /// `RTA_IIF`.
    pub iif: Option<u32>,
    /// `RTA_PRIORITY`.
    pub priority: Option<u32>,
    /// `RTA_MARK`.
    pub mark: Option<u32>,
    /// `RTA_PREF` (IPv6).
    pub pref: Option<u8>,
}

impl RtMsg {
    /// A zeroed message of `family`.
    pub fn new(family: u8) -> Self {
        RtMsg { family, ..Self::default() }
    }

    /// The table the message names (`RTA_TABLE` over `rtm_table`, as `rtm_to_fib_config`
    /// and `rtm_to_fib6_config` read it).
    pub fn table_id(&self) -> u32 {
        self.rta_table.unwrap_or(u32::from(self.table))
    }
}

/// `RTM_GETROUTE`'s answer, by family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteReply {
    /// An IPv4 answer (`rt_fill_info`).
    V4(RouteMsg<Ipv4Addr>),
    /// An IPv6 answer (`rt6_fill_node`).
    V6(RouteMsg<Ipv6Addr>),
}

/// `rtm_to_fib_config` into the FIB library's route: `EINVAL` for a type above
/// `RTN_MAX` or an attribute of the wrong length. Of `rtm_flags` the next-hop flags a
/// request may set are kept (`onlink`, `pervasive`); k43 reserves `dead` and `linkdown`
/// for its own bookkeeping.
pub(crate) fn rtm_to_fib_config(m: &RtMsg) -> Result<Route<Ipv4Addr>, Errno> {
    if m.rtype > RTN_MAX {
        return Err(Errno::EINVAL);
    }
    let rtype = RouteType::from_rtn(m.rtype).ok_or(Errno::EINVAL)?;
    let mut r = Route::new(v4(m.dst)?.unwrap_or(Ipv4Addr::UNSPECIFIED), m.dst_len)
        .rtype(rtype)
        .proto(m.protocol)
        .scope(m.scope)
        .tos(m.tos)
        .metric(m.priority.unwrap_or(0))
        .flags(m.flags & (RTNH_F_ONLINK | RTNH_F_PERVASIVE))
        .dev(m.oif.unwrap_or(0));
    r.gateway = v4(m.gateway)?;
    r.prefsrc = v4(m.prefsrc)?;
    Ok(r)
}

/// The next-hop part of `fib_create_info`, where the library calls it: a host-scope
/// route needs its device to exist (`dev_get_by_index` → `ENODEV`); anything else goes
/// through `fib_check_nh`:
///
/// * a gateway marked `onlink`: scope below link (`EINVAL`), the device exists
///   (`ENODEV`) and is up (`ENETDOWN`), and the gateway is a unicast address (`EINVAL`);
/// * any other gateway must be reachable through a route of link or host scope — the
///   lookup asks for scope `max(scope + 1, link)` — in the route's table, or failing
///   that through the rules (`fib_lookup`), whose error stands (`ENETUNREACH` when
///   nothing is on link); that route must be unicast or local (`EINVAL`) and gives the
///   device, which must be up (`ENETDOWN`);
/// * without a gateway, `onlink`/`pervasive` are `EINVAL`, the device must exist with
///   IPv4 on it (`ENODEV`) and be up (`ENETDOWN`).
pub(crate) fn fib_check_nh(devs: &BTreeMap<u32, NetDevice>, fib: &Fib4, table: u32, r: &mut Route<Ipv4Addr>) -> Result<(), Errno> {
    if r.scope == RT_SCOPE_HOST {
        return if devs.contains_key(&r.oif) { Ok(()) } else { Err(Errno::ENODEV) };
    }
    let Some(gw) = r.gateway else {
        if r.flags & (RTNH_F_PERVASIVE | RTNH_F_ONLINK) != 0 {
            return Err(Errno::EINVAL);
        }
        let dev = devs.get(&r.oif).filter(|d| d.in_dev).ok_or(Errno::ENODEV)?;
        return if dev.is_up() { Ok(()) } else { Err(Errno::ENETDOWN) };
    };
    if r.flags & RTNH_F_ONLINK != 0 {
        if r.scope >= RT_SCOPE_LINK {
            return Err(Errno::EINVAL);
        }
        let dev = devs.get(&r.oif).ok_or(Errno::ENODEV)?;
        if !dev.is_up() {
            return Err(Errno::ENETDOWN);
        }
        return if fib.addr_type(gw) == RouteType::Unicast { Ok(()) } else { Err(Errno::EINVAL) };
    }
    let scope = r.scope.saturating_add(1).max(RT_SCOPE_LINK);
    let fl = Flow::output(gw).oif(r.oif).scope(scope);
    let found = if table != 0 && fib.table_exists(table) { fib.table_lookup(table, &fl).ok() } else { None };
    let res = match found {
        Some(res) => res,
        None => fib.lookup(&fl).map_err(|e| e.errno)?,
    };
    if !matches!(res.route.rtype, RouteType::Unicast | RouteType::Local) {
        return Err(Errno::EINVAL);
    }
    let oif = res.route.oif;
    let dev = devs.get(&oif).ok_or(Errno::EINVAL)?;
    r.oif = oif;
    if dev.is_up() {
        Ok(())
    } else {
        Err(Errno::ENETDOWN)
    }
}

/// `ipv6_addr_type(a) & IPV6_ADDR_UNICAST`: not `::`, not multicast, not IPv4-mapped.
pub(crate) fn unicast6(a: &Ipv6Addr) -> bool {
    let s = a.segments();
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    !a.is_unspecified() && !a.is_multicast() && !mapped
}

/// `IPV6_ADDR_LINKLOCAL | IPV6_ADDR_UNICAST`: `fe80::/10`.
pub(crate) fn linklocal6(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// The device checks of `ip6_route_info_create`, where the library calls them:
///
/// * a device that does not exist (or has no IPv6) → `ENODEV`;
/// * a reject type, or a route through `lo` to anything but `::1` that is not `local`,
///   becomes a reject route on `lo` before anything else is looked at;
/// * a gateway that is one of our addresses (tentative ones included; a link-local one
///   only on the route's device) → `EINVAL`; one that is not link-local must be unicast
///   (`EINVAL`) and reachable (`rt6_lookup`, strict about a given device) through a route
///   without a gateway on the same device (`EHOSTUNREACH`), which supplies the device
///   when none was given; after which there must be a device and not `lo` (`EINVAL`: a
///   link-local gateway needs a device);
/// * no device by now → `ENODEV`;
/// * a preferred source that is not a usable address of the device (or a global one of
///   any device) → `EINVAL`.
pub(crate) fn ip6_route_check(
    devs: &BTreeMap<u32, NetDevice>,
    idevs: &BTreeMap<u32, Inet6Dev>,
    fib: &Fib6,
    r: &mut Route<Ipv6Addr>,
) -> Result<(), Errno> {
    let dev = match r.oif {
        0 => None,
        o if idevs.contains_key(&o) => Some(devs.get(&o).ok_or(Errno::ENODEV)?),
        _ => return Err(Errno::ENODEV),
    };
    let promote = dev.is_some_and(|d| d.is_loopback()) && !r.dst.is_loopback() && r.rtype != RouteType::Local;
    if r.rtype.is_v6_reject() || promote {
        return Ok(());
    }
    if let Some(gw) = r.gateway {
        let ll = linklocal6(&gw);
        let ours = idevs.iter().any(|(&i, d)| d.get(&gw).is_some() && (!ll || r.oif == 0 || i == r.oif));
        if ours {
            return Err(Errno::EINVAL);
        }
        if !ll {
            if !unicast6(&gw) {
                return Err(Errno::EINVAL);
            }
            let mut fl = Flow::output(gw).oif(r.oif);
            if r.oif != 0 {
                fl = fl.strict();
            }
            let grt = fib.lookup(&fl).map_err(|_| Errno::EHOSTUNREACH)?.route;
            if r.oif != 0 && r.oif != grt.oif {
                return Err(Errno::EHOSTUNREACH);
            }
            r.oif = grt.oif;
            if grt.gateway.is_some() {
                return Err(Errno::EHOSTUNREACH);
            }
        }
        if devs.get(&r.oif).is_none_or(|d| d.is_loopback()) {
            return Err(Errno::EINVAL);
        }
    }
    if r.oif == 0 {
        return Err(Errno::ENODEV);
    }
    if let Some(src) = r.prefsrc {
        // ipv6_chk_addr(net, src, dev, 0)
        let global = ifa_scope(&src) & 0x30 == 0;
        let ok = idevs.iter().any(|(&i, d)| {
            d.get(&src).is_some_and(|a| a.flags & IFA_F_TENTATIVE == 0) && (i == r.oif || global)
        });
        if !ok {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

/// `rt_fill_info` for an IPv4 route `ip route get` produced: always a cache entry of
/// table main; the request's destination, source and TOS; the device (`lo` for what stays
/// here); the chosen source of an output route when it differs from the request's; the
/// gateway when the route uses one; the mark; the input device of an input route.
fn rtable_msg(rt: &Rtable, dst: Ipv4Addr, src: Ipv4Addr, tos: u8, mark: u32, iif: Option<u32>) -> RouteMsg<Ipv4Addr> {
    let mut flags = RTM_F_CLONED;
    if rt.local {
        flags |= RTCF_LOCAL;
    }
    if rt.broadcast {
        flags |= RTCF_BROADCAST;
    }
    if rt.multicast {
        flags |= RTCF_MULTICAST;
    }
    RouteMsg {
        dst_len: 32,
        src_len: if src.is_unspecified() { 0 } else { 32 },
        tos,
        table: RT_TABLE_MAIN,
        protocol: 0,
        scope: 0,
        rtype: rt.rtype.rtn(),
        flags,
        dst: Some(dst),
        src: Some(src).filter(|s| !s.is_unspecified()),
        gateway: Some(rt.nexthop).filter(|g| *g != dst && !g.is_unspecified()),
        oif: Some(rt.dev),
        prefsrc: Some(rt.saddr).filter(|s| iif.is_none() && *s != src),
        priority: None,
        mark: Some(mark).filter(|&k| k != 0),
        iif,
        cacheinfo: Some(CacheInfo::default()),
        pref: None,
    }
}

impl<H: Hal> Kernel<H> {
    /// `RTM_NEWROUTE`, dispatched by family (`EOPNOTSUPP` for a family without a route
    /// handler, MPLS included: k43 has no MPLS module).
    pub fn rtm_newroute(&mut self, m: &RtMsg, nl: NlFlags) -> Result<(), Errno> {
        match m.family {
            AF_INET => self.inet_rtm_newroute(m, nl),
            AF_INET6 => self.inet6_rtm_newroute(m, nl),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// `RTM_DELROUTE`, dispatched by family.
    pub fn rtm_delroute(&mut self, m: &RtMsg) -> Result<(), Errno> {
        match m.family {
            AF_INET => self.inet_rtm_delroute(m),
            AF_INET6 => self.inet6_rtm_delroute(m),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// `RTM_GETROUTE` (not a dump), dispatched by family.
    pub fn rtm_getroute(&self, m: &RtMsg) -> Result<RouteReply, Errno> {
        match m.family {
            AF_INET => self.inet_rtm_getroute(m).map(RouteReply::V4),
            AF_INET6 => self.inet6_rtm_getroute(m).map(RouteReply::V6),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// `inet_rtm_newroute`: the table is created first (0 is main) and stays even if the
    /// route is refused; then `fib_table_insert` with `fib_create_info`'s checks (see
    /// [`Fib4::add_with`]) and the next hop's ([`fib_check_nh`]). `NLM_F_EXCL` refuses an
    /// existing route of the same prefix, TOS and priority (`EEXIST`); `NLM_F_REPLACE`
    /// replaces the first of them; `NLM_F_APPEND` adds after them; without `NLM_F_CREATE`
    /// and nothing to replace, `ENOENT`.
    pub fn inet_rtm_newroute(&mut self, m: &RtMsg, nl: NlFlags) -> Result<(), Errno> {
        let r = rtm_to_fib_config(m)?;
        let table = m.table_id();
        let net = &mut self.net;
        let devs = &net.devices;
        net.fib4.add_with(table, r, nl, |fib, r| fib_check_nh(devs, fib, table, r))
    }

    /// `inet_rtm_delroute`: `ESRCH` for a table that does not exist or no route matching
    /// (`fib_table_delete`: prefix and TOS exactly; type, scope (`RT_SCOPE_NOWHERE` = any),
    /// preferred source, protocol, priority, device and gateway when given).
    pub fn inet_rtm_delroute(&mut self, m: &RtMsg) -> Result<(), Errno> {
        if m.rtype > RTN_MAX {
            return Err(Errno::EINVAL);
        }
        let mut spec = RouteSpec::new(v4(m.dst)?.unwrap_or(Ipv4Addr::UNSPECIFIED), m.dst_len).tos(m.tos).scope(m.scope).proto(m.protocol);
        spec.rtype = RouteType::from_rtn(m.rtype);
        spec.priority = m.priority;
        spec.prefsrc = v4(m.prefsrc)?;
        spec.oif = m.oif;
        spec.gateway = v4(m.gateway)?;
        self.net.fib4.delete(m.table_id(), &spec).map(|_| ())
    }

    /// `inet6_rtm_newroute` → `ip6_route_add`: `rtm_to_fib6_config` (unreachable,
    /// blackhole, prohibit and throw are reject routes; `RTA_PREF` other than low or high
    /// is medium), then `ip6_route_info_create` ([`ip6_route_check`], then the library's
    /// [`Fib6::add_with`]: metric 0 is 1024, the table is created, a route without a device
    /// is `ENODEV`) and `fib6_add` (`EEXIST`, `ENOENT`). A source prefix (`from`) is
    /// `EINVAL`: k43 keeps no source-specific subtrees, as a kernel built without
    /// `CONFIG_IPV6_SUBTREES` answers.
    pub fn inet6_rtm_newroute(&mut self, m: &RtMsg, nl: NlFlags) -> Result<(), Errno> {
        if m.dst_len > 128 || m.src_len > 128 || m.src_len != 0 {
            return Err(Errno::EINVAL);
        }
        let rtype = RouteType::from_rtn(m.rtype).unwrap_or(RouteType::Unicast);
        let mut r = Route::new(v6(m.dst)?.unwrap_or(Ipv6Addr::UNSPECIFIED), m.dst_len)
            .rtype(rtype)
            .proto(m.protocol)
            .metric(m.priority.unwrap_or(0))
            .dev(m.oif.unwrap_or(0))
            .pref(RouterPref::from_bits(m.pref.unwrap_or(0)));
        r.gateway = v6(m.gateway)?;
        r.prefsrc = v6(m.prefsrc)?.filter(|s| !s.is_unspecified());
        let table = m.table_id();
        let net = &mut self.net;
        // ip6_route_info_create creates the table right after the device lookup, so a
        // route refused for its gateway or source still leaves it behind.
        if r.oif == 0 || (net.devices.contains_key(&r.oif) && net.idev6.contains_key(&r.oif)) {
            net.fib6.new_table(table);
        }
        let (devs, idevs) = (&net.devices, &net.idev6);
        net.fib6.add_with(table, r, nl, |fib, r| ip6_route_check(devs, idevs, fib, r))
    }

    /// `inet6_rtm_delroute` → `ip6_route_del`: the first route of exactly the prefix with
    /// the given device, gateway and metric; `ESRCH` for no table or no match. The root of
    /// every table ends with the null entry (`lo`, no gateway, metric 4294967295): a
    /// default-route deletion that matches nothing else but it gets `__ip6_del_rt`'s
    /// `ENOENT`.
    pub fn inet6_rtm_delroute(&mut self, m: &RtMsg) -> Result<(), Errno> {
        let dst = v6(m.dst)?.unwrap_or(Ipv6Addr::UNSPECIFIED);
        let gateway = v6(m.gateway)?;
        let mut spec = RouteSpec::new(dst, m.dst_len);
        spec.oif = m.oif.filter(|&o| o != 0);
        spec.gateway = gateway;
        spec.priority = m.priority.filter(|&p| p != 0);
        let table = m.table_id();
        match self.net.fib6.delete(table, &spec) {
            Err(e) if e == Errno::ESRCH && m.dst_len == 0 && self.net.fib6.table_exists(table) => {
                let null_matches = spec.oif.is_none_or(|o| o == LOOPBACK_IFINDEX)
                    && spec.gateway.is_none_or(|g| g.is_unspecified())
                    && spec.priority.is_none_or(|p| p == u32::MAX);
                Err(if null_matches { Errno::ENOENT } else { Errno::ESRCH })
            }
            r => r.map(|_| ()),
        }
    }

    /// `inet_rtm_getroute`: with `RTA_IIF` the input route of a packet from `src` to `dst`
    /// arriving on that device (`ENODEV` if it does not exist; the input route's own error
    /// — no route, forwarding off — is the answer); without it the output route
    /// (`ip_route_output_key` with the request's TOS, `RTA_OIF` and mark), whose errors
    /// are the answer (`ENETUNREACH`, `EHOSTUNREACH`, `EACCES`, `EINVAL`). The reply is
    /// `rt_fill_info`'s.
    pub fn inet_rtm_getroute(&self, m: &RtMsg) -> Result<RouteMsg<Ipv4Addr>, Errno> {
        let src = v4(m.src)?.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let dst = v4(m.dst)?.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mark = m.mark.unwrap_or(0);
        match m.iif.filter(|&i| i != 0) {
            Some(iif) => {
                if !self.net.devices.contains_key(&iif) {
                    return Err(Errno::ENODEV);
                }
                let rt = self.ip_route_input_mark(dst, src, m.tos, iif, mark)?;
                // `err = -rt->dst.error`: an input route ending in ip_error is refused.
                if let Some(e) = rt.error {
                    return Err(e);
                }
                Ok(rtable_msg(&rt, dst, src, m.tos, mark, Some(iif)))
            }
            None => {
                let rt = self.ip_route_output_mark(dst, src, m.tos, m.oif.unwrap_or(0), mark)?;
                Ok(rtable_msg(&rt, dst, src, m.tos, mark, None))
            }
        }
    }

    /// `inet6_rtm_getroute`: an input lookup with `RTA_IIF` (`ENODEV` if the device does
    /// not exist), else an output lookup with `RTA_OIF`; the mark goes into the flow. IPv6
    /// answers whatever the lookup gave — reject routes and the null entry included, with
    /// their error in the cache info — through `rt6_fill_node`, which adds the source
    /// `ip6_route_get_saddr` picks for an output route (the route's preferred source, or
    /// one of the route's device's addresses; k43 looks at the other devices only when
    /// that device has none).
    pub fn inet6_rtm_getroute(&self, m: &RtMsg) -> Result<RouteMsg<Ipv6Addr>, Errno> {
        let saddr = v6(m.src)?.unwrap_or(Ipv6Addr::UNSPECIFIED);
        let daddr = v6(m.dst)?.unwrap_or(Ipv6Addr::UNSPECIFIED);
        let mark = m.mark.unwrap_or(0);
        let fl = match m.iif.filter(|&i| i != 0) {
            Some(iif) => {
                if !self.net.devices.contains_key(&iif) {
                    return Err(Errno::ENODEV);
                }
                Flow::input(daddr, saddr, iif).mark(mark)
            }
            None => Flow::output(daddr).src(saddr).oif(m.oif.unwrap_or(0)).mark(mark),
        };
        let res = self.net.fib6.lookup(&fl);
        let idev = match &res {
            Ok(r) => r.route.idev,
            Err(e) => e.route.map_or(LOOPBACK_IFINDEX, |r| r.idev),
        };
        let chosen = if fl.input { None } else { self.getroute_saddr6(idev, &daddr) };
        Ok(RouteMsg::get6(&fl, &res, chosen))
    }

    /// `ipv6_dev_get_saddr` for `inet6_rtm_getroute`: the device's best address, else the
    /// best of the other devices' in ifindex order.
    fn getroute_saddr6(&self, idev: u32, daddr: &Ipv6Addr) -> Option<Ipv6Addr> {
        self.ipv6_dev_get_saddr(idev, daddr).or_else(|| {
            let ids: Vec<u32> = self.net.idev6.keys().copied().filter(|&i| i != idev).collect();
            ids.into_iter().find_map(|i| self.ipv6_dev_get_saddr(i, daddr))
        })
    }

    /// The IPv4 routes of every table in `inet_dump_fib`'s order, as route messages
    /// (`ip route show` filters and prints them).
    pub fn inet_dump_fib(&self) -> Vec<RouteMsg<Ipv4Addr>> {
        self.net.fib4.dump()
    }

    /// The IPv6 routes of every table in `inet6_dump_fib`'s order, each table's walk
    /// ending with its null entry.
    pub fn inet6_dump_fib(&self) -> Vec<RouteMsg<Ipv6Addr>> {
        self.net.fib6.dump()
    }
}
