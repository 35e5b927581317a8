//! IPv4 route decisions (`net/ipv4/route.c`, `fib_validate_source` and
//! `fib_compute_spec_dst` of `fib_frontend.c`): the input route of a received datagram
//! (`ip_route_input_noref`, `ip_route_input_slow`, `ip_route_input_mc`) and the output
//! route of one the host sends (`__ip_route_output_key`, `__mkroute_output`), as the
//! `struct rtable` fields the stack reads. No route cache: 4.3's is a per-next-hop cache
//! of the same answers.

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::fib::{Flow, RouteType, LOOPBACK_IFINDEX, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE};
use crate::net::wire::Ipv4Addr;
use crate::uapi::Errno;

/// `IPTOS_RT_MASK`: the TOS bits routing looks at.
pub const IPTOS_RT_MASK: u8 = 0x1c;
/// 224.0.0.1, all hosts: every device joins it when it comes up (`ip_mc_up`).
pub const IGMP_ALL_HOSTS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);

/// A route as the stack uses it (`struct rtable`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rtable {
    /// `rt_type`.
    pub rtype: RouteType,
    /// `RTCF_LOCAL`: delivered here (input) or looped back (output).
    pub local: bool,
    /// `RTCF_BROADCAST`.
    pub broadcast: bool,
    /// `RTCF_MULTICAST`.
    pub multicast: bool,
    /// `rt_is_input`.
    pub input: bool,
    /// `dst.error` of an input route ending in `ip_error` (`EHOSTUNREACH`, …).
    pub error: Option<Errno>,
    /// `dst.dev`: the output device (`lo` for what stays here).
    pub dev: u32,
    /// `rt_nexthop`: the gateway, or the destination itself.
    pub nexthop: Ipv4Addr,
    /// The flow's source once routing chose it (`fl4->saddr`; output routes).
    pub saddr: Ipv4Addr,
}

impl Rtable {
    /// An input route delivering locally (`local_input`).
    fn local_input(rtype: RouteType, broadcast: bool) -> Rtable {
        Rtable {
            rtype,
            local: true,
            broadcast,
            multicast: false,
            input: true,
            error: None,
            dev: LOOPBACK_IFINDEX,
            nexthop: Ipv4Addr::UNSPECIFIED,
            saddr: Ipv4Addr::UNSPECIFIED,
        }
    }
}

/// `ipv4_is_zeronet`: 0.0.0.0/8.
pub fn is_zeronet(a: &Ipv4Addr) -> bool {
    a.octets()[0] == 0
}

/// `ipv4_is_local_multicast`: 224.0.0.0/24.
pub fn is_local_multicast(a: &Ipv4Addr) -> bool {
    u32::from(*a) & 0xffff_ff00 == 0xe000_0000
}

impl<H: Hal> Kernel<H> {
    /// `ip_route_input_noref`: what to do with a datagram from `saddr` to `daddr` that
    /// arrived on `iif`. `Err(EINVAL)` drops it (martians, multicast groups not joined);
    /// a host's route to elsewhere, or no route, is an `RTN_UNREACHABLE` route whose
    /// `ip_error` counts and drops (`error` set). Never `EXDEV`: `rp_filter` is 0.
    pub(crate) fn ip_route_input(&self, daddr: Ipv4Addr, saddr: Ipv4Addr, tos: u8, iif: u32) -> Result<Rtable, Errno> {
        self.ip_route_input_mark(daddr, saddr, tos, iif, 0)
    }

    /// [`ip_route_input`](Self::ip_route_input) for a packet carrying firewall mark `mark`
    /// (`skb->mark`, which the FIB lookup's `fwmark` rules see; `ip route get … iif DEV
    /// mark N`).
    pub(crate) fn ip_route_input_mark(&self, daddr: Ipv4Addr, saddr: Ipv4Addr, tos: u8, iif: u32, mark: u32) -> Result<Rtable, Errno> {
        if self.net.devices.get(&iif).is_some_and(|d| d.is_loopback()) {
            // What `lo` receives we sent, and 4.3 keeps the output route on it
            // (`loopback_xmit` keeps the dst, `ip_rcv_finish` routes only a packet
            // without one): every such route is RTCF_LOCAL, delivered here.
            let mut rt = Rtable::local_input(RouteType::Local, daddr.is_broadcast());
            if daddr.is_broadcast() {
                rt.rtype = RouteType::Broadcast;
            } else if daddr.is_multicast() {
                rt.rtype = RouteType::Multicast;
                rt.multicast = true;
            }
            return Ok(rt);
        }
        if daddr.is_multicast() {
            // ip_check_mc_rcu: only the all-hosts group is joined (no IGMP sockets).
            let joined = daddr == IGMP_ALL_HOSTS && self.net.devices.get(&iif).is_some_and(|d| d.is_up());
            if !joined {
                return Err(Errno::EINVAL);
            }
            return self.ip_route_input_mc(daddr, saddr, tos);
        }
        if saddr.is_multicast() || saddr.is_broadcast() {
            return Err(Errno::EINVAL);
        }
        if daddr.is_broadcast() || (saddr.is_unspecified() && daddr.is_unspecified()) {
            return self.brd_input(saddr, tos);
        }
        if is_zeronet(&saddr) || is_zeronet(&daddr) {
            return Err(Errno::EINVAL);
        }
        // route_localnet 0: 127/8 is martian on the wire, as destination or source.
        if daddr.is_loopback() || saddr.is_loopback() {
            return Err(Errno::EINVAL);
        }
        let fl = Flow::input(daddr, saddr, iif).tos(tos & IPTOS_RT_MASK).mark(mark);
        let forward = self.ipv4_forwarding();
        let (rtype, route_err, hop) = match self.net.fib4.lookup(&fl) {
            Ok(r) => (r.route.rtype, None, (r.route.oif, r.route.gateway)),
            Err(e) => (RouteType::Unreachable, Some(if forward { e.errno } else { Errno::EHOSTUNREACH }), (0, None)),
        };
        match rtype {
            RouteType::Broadcast if route_err.is_none() => self.brd_input(saddr, tos),
            RouteType::Local if route_err.is_none() => {
                self.fib_validate_source(saddr, daddr, tos)?;
                Ok(Rtable::local_input(RouteType::Local, false))
            }
            _ => {
                let error = match route_err {
                    Some(e) => e,
                    // A host's route to elsewhere; a router calls a non-unicast type a
                    // martian destination and forwards the rest (ip_mkroute_input).
                    None if !forward => Errno::EHOSTUNREACH,
                    None if rtype != RouteType::Unicast => return Err(Errno::EINVAL),
                    None => {
                        self.fib_validate_source(saddr, daddr, tos)?;
                        let (dev, gw) = hop;
                        let mut rt = Rtable::local_input(RouteType::Unicast, false);
                        rt.local = false;
                        rt.dev = dev;
                        rt.nexthop = gw.unwrap_or(daddr);
                        return Ok(rt);
                    }
                };
                let mut rt = Rtable::local_input(RouteType::Unreachable, false);
                rt.local = false;
                rt.error = Some(error);
                Ok(rt)
            }
        }
    }

    /// `brd_input`: a limited or subnet-directed broadcast, delivered here as broadcast
    /// once its source checks out (a zero source is fine: BOOTP/DHCP).
    fn brd_input(&self, saddr: Ipv4Addr, tos: u8) -> Result<Rtable, Errno> {
        if !is_zeronet(&saddr) {
            self.fib_validate_source(saddr, Ipv4Addr::UNSPECIFIED, tos)?;
        }
        Ok(Rtable::local_input(RouteType::Broadcast, true))
    }

    /// `ip_route_input_mc` for a group this host has joined.
    fn ip_route_input_mc(&self, daddr: Ipv4Addr, saddr: Ipv4Addr, tos: u8) -> Result<Rtable, Errno> {
        if saddr.is_multicast() || saddr.is_broadcast() || saddr.is_loopback() {
            return Err(Errno::EINVAL);
        }
        if is_zeronet(&saddr) {
            if !is_local_multicast(&daddr) {
                return Err(Errno::EINVAL);
            }
        } else {
            self.fib_validate_source(saddr, Ipv4Addr::UNSPECIFIED, tos)?;
        }
        let mut rt = Rtable::local_input(RouteType::Multicast, false);
        rt.multicast = true;
        Ok(rt)
    }

    /// `fib_validate_source` with `rp_filter` 0 and `accept_local` 0: the route back to
    /// the source must not be local, broadcast or another non-unicast type (our own
    /// address as source is a martian); no route back is fine.
    pub(crate) fn fib_validate_source(&self, saddr: Ipv4Addr, daddr: Ipv4Addr, tos: u8) -> Result<(), Errno> {
        let fl = Flow::output(saddr).src(daddr).tos(tos & IPTOS_RT_MASK);
        match self.net.fib4.lookup(&fl) {
            Ok(r) if r.route.rtype != RouteType::Unicast => Err(Errno::EINVAL),
            _ => Ok(()),
        }
    }

    /// `__ip_route_output_key` for a flow to `daddr`, from `saddr` if given (it must be
    /// ours), out of `oif` if given: the device, next hop, chosen source and flags.
    /// A destination of ours leaves by `lo`. `ENETUNREACH`, `EHOSTUNREACH`, `EACCES`
    /// and `EINVAL` are the FIB's answers; `EINVAL` also for a source that is not ours
    /// or not usable.
    pub(crate) fn ip_route_output(&self, daddr: Ipv4Addr, saddr: Ipv4Addr, tos: u8, oif: u32) -> Result<Rtable, Errno> {
        self.ip_route_output_mark(daddr, saddr, tos, oif, 0)
    }

    /// [`ip_route_output`](Self::ip_route_output) for a flow with firewall mark `mark`
    /// (`flowi4_mark`: `SO_MARK`, or `ip route get … mark N`).
    pub(crate) fn ip_route_output_mark(&self, daddr: Ipv4Addr, saddr: Ipv4Addr, tos: u8, oif: u32, mark: u32) -> Result<Rtable, Errno> {
        let mut saddr = saddr;
        if !saddr.is_unspecified() {
            if saddr.is_multicast() || saddr.is_broadcast() || is_zeronet(&saddr) {
                return Err(Errno::EINVAL);
            }
            if oif == 0 && (daddr.is_multicast() || daddr.is_broadcast()) {
                let dev = self.ip_dev_find(saddr).ok_or(Errno::EINVAL)?;
                return self.mkroute_output(RouteType::Unicast, daddr, saddr, dev, None);
            }
            if self.ip_dev_find(saddr).is_none() {
                return Err(Errno::EINVAL);
            }
        }
        if oif != 0 {
            let dev = self.net.devices.get(&oif).ok_or(Errno::ENODEV)?;
            if !dev.is_up() {
                return Err(Errno::ENETUNREACH);
            }
            if is_local_multicast(&daddr) || daddr.is_broadcast() {
                if saddr.is_unspecified() {
                    saddr = self.inet_select_addr(oif, Ipv4Addr::UNSPECIFIED, RT_SCOPE_LINK);
                }
                return self.mkroute_output(RouteType::Unicast, daddr, saddr, oif, None);
            }
            if saddr.is_unspecified() {
                if daddr.is_multicast() {
                    saddr = self.inet_select_addr(oif, Ipv4Addr::UNSPECIFIED, RT_SCOPE_UNIVERSE);
                } else if daddr.is_unspecified() {
                    saddr = self.inet_select_addr(oif, Ipv4Addr::UNSPECIFIED, RT_SCOPE_HOST);
                }
            }
        }
        if daddr.is_unspecified() {
            // A packet to 0.0.0.0 goes to ourselves.
            let d = if saddr.is_unspecified() { Ipv4Addr::LOCALHOST } else { saddr };
            let s = if saddr.is_unspecified() { Ipv4Addr::LOCALHOST } else { saddr };
            return self.mkroute_output(RouteType::Local, d, s, LOOPBACK_IFINDEX, None);
        }
        let fl = Flow::output(daddr).src(saddr).oif(oif).tos(tos & IPTOS_RT_MASK).mark(mark);
        let res = match self.net.fib4.lookup(&fl) {
            Ok(r) => r,
            Err(e) => {
                if oif != 0 {
                    // Routing tables are wrong: assume the destination is on link.
                    if saddr.is_unspecified() {
                        saddr = self.inet_select_addr(oif, Ipv4Addr::UNSPECIFIED, RT_SCOPE_LINK);
                    }
                    return self.mkroute_output(RouteType::Unicast, daddr, saddr, oif, None);
                }
                return Err(e.errno);
            }
        };
        let r = res.route;
        if r.rtype == RouteType::Local {
            if saddr.is_unspecified() {
                saddr = r.prefsrc.unwrap_or(daddr);
            }
            return self.mkroute_output(RouteType::Local, daddr, saddr, LOOPBACK_IFINDEX, None);
        }
        if saddr.is_unspecified() {
            // FIB_RES_PREFSRC.
            saddr = match r.prefsrc {
                Some(s) => s,
                None => self.inet_select_addr(r.oif, r.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED), r.scope),
            };
        }
        let (rtype, oif, gw) = (r.rtype, r.oif, r.gateway);
        self.mkroute_output(rtype, daddr, saddr, oif, gw)
    }

    /// `__mkroute_output`: the route's type from the destination (limited broadcast,
    /// multicast, a zero network is refused) and its flags; a loopback source may only
    /// leave by a loopback device.
    fn mkroute_output(&self, rtype: RouteType, daddr: Ipv4Addr, saddr: Ipv4Addr, dev: u32, gw: Option<Ipv4Addr>) -> Result<Rtable, Errno> {
        let d = self.net.devices.get(&dev).ok_or(Errno::ENODEV)?;
        if saddr.is_loopback() && !d.is_loopback() {
            return Err(Errno::EINVAL);
        }
        let rtype = if daddr.is_broadcast() {
            RouteType::Broadcast
        } else if daddr.is_multicast() {
            RouteType::Multicast
        } else if is_zeronet(&daddr) {
            return Err(Errno::EINVAL);
        } else {
            rtype
        };
        let mut rt = Rtable {
            rtype,
            local: d.is_loopback() || rtype == RouteType::Local,
            broadcast: false,
            multicast: false,
            input: false,
            error: None,
            dev,
            nexthop: gw.unwrap_or(daddr),
            saddr,
        };
        match rtype {
            RouteType::Broadcast => {
                rt.broadcast = true;
                rt.local = true;
            }
            // Multicast loops back only for groups we joined, and only to sockets.
            RouteType::Multicast => rt.multicast = true,
            _ => {}
        }
        Ok(rt)
    }

    /// `fib_compute_spec_dst`: the address a reply to a datagram comes from — its
    /// destination if its input route was local unicast (`RTCF_LOCAL` alone), else the
    /// preferred source of the route back, else one selected on the arrival device.
    pub(crate) fn fib_compute_spec_dst(&self, local_unicast: bool, saddr: Ipv4Addr, daddr: Ipv4Addr, tos: u8, iif: u32) -> Ipv4Addr {
        if local_unicast {
            return daddr;
        }
        let mut scope = RT_SCOPE_UNIVERSE;
        if !is_zeronet(&saddr) {
            let fl = Flow::output(saddr).tos(tos & IPTOS_RT_MASK);
            if let Ok(r) = self.net.fib4.lookup(&fl) {
                let r = r.route;
                return r.prefsrc.unwrap_or_else(|| self.inet_select_addr(r.oif, r.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED), r.scope));
            }
        } else {
            scope = RT_SCOPE_LINK;
        }
        self.inet_select_addr(iif, saddr, scope)
    }
}
