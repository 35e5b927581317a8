//! A route: Linux's `fib_alias` + `fib_info` + one `fib_nh` for IPv4, `rt6_info` for IPv6,
//! flattened into one struct since k43 keeps one next hop per route.

use super::{FibAddr, LwtState, RTNH_COMPARE_MASK, RTPROT_BOOT, RT_SCOPE_HOST, RT_SCOPE_LINK};
use super::{RT_SCOPE_NOWHERE, RT_SCOPE_UNIVERSE};
use crate::uapi::Errno;

/// Route type, `RTN_*` (include/uapi/linux/rtnetlink.h); the discriminant is the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum RouteType {
    /// `RTN_UNSPEC` (0).
    Unspec = 0,
    /// `RTN_UNICAST` (1): a gateway or direct route.
    Unicast = 1,
    /// `RTN_LOCAL` (2): accept locally.
    Local = 2,
    /// `RTN_BROADCAST` (3): accept locally as broadcast, send as broadcast (IPv4).
    Broadcast = 3,
    /// `RTN_ANYCAST` (4).
    Anycast = 4,
    /// `RTN_MULTICAST` (5).
    Multicast = 5,
    /// `RTN_BLACKHOLE` (6): drop silently.
    Blackhole = 6,
    /// `RTN_UNREACHABLE` (7): destination unreachable.
    Unreachable = 7,
    /// `RTN_PROHIBIT` (8): administratively prohibited.
    Prohibit = 8,
    /// `RTN_THROW` (9): not in this table, go on with the next rule.
    Throw = 9,
    /// `RTN_NAT` (10): obsolete, always rejected as a route.
    Nat = 10,
    /// `RTN_XRESOLVE` (11): obsolete.
    Xresolve = 11,
}

impl RouteType {
    /// The type with this `RTN_*` number; `None` above `RTN_MAX` (11), which
    /// `rtm_to_fib_config` answers with `EINVAL`.
    pub const fn from_rtn(n: u8) -> Option<RouteType> {
        Some(match n {
            0 => RouteType::Unspec,
            1 => RouteType::Unicast,
            2 => RouteType::Local,
            3 => RouteType::Broadcast,
            4 => RouteType::Anycast,
            5 => RouteType::Multicast,
            6 => RouteType::Blackhole,
            7 => RouteType::Unreachable,
            8 => RouteType::Prohibit,
            9 => RouteType::Throw,
            10 => RouteType::Nat,
            11 => RouteType::Xresolve,
            _ => return None,
        })
    }

    /// The `RTN_*` number.
    pub const fn rtn(self) -> u8 {
        self as u8
    }

    /// iproute2's name (`rtnl_rtntype_n2a`; `RTN_UNSPEC` is "none").
    pub const fn name(self) -> &'static str {
        match self {
            RouteType::Unspec => "none",
            RouteType::Unicast => "unicast",
            RouteType::Local => "local",
            RouteType::Broadcast => "broadcast",
            RouteType::Anycast => "anycast",
            RouteType::Multicast => "multicast",
            RouteType::Blackhole => "blackhole",
            RouteType::Unreachable => "unreachable",
            RouteType::Prohibit => "prohibit",
            RouteType::Throw => "throw",
            RouteType::Nat => "nat",
            RouteType::Xresolve => "xresolve",
        }
    }

    /// IPv4's `fib_props[type]`: the error a lookup hitting this type returns, and the
    /// narrowest scope a route of this type may have.
    pub const fn fib_props(self) -> (Option<Errno>, u8) {
        match self {
            RouteType::Unspec => (None, RT_SCOPE_NOWHERE),
            RouteType::Unicast => (None, RT_SCOPE_UNIVERSE),
            RouteType::Local => (None, RT_SCOPE_HOST),
            RouteType::Broadcast | RouteType::Anycast => (None, RT_SCOPE_LINK),
            RouteType::Multicast => (None, RT_SCOPE_UNIVERSE),
            RouteType::Blackhole => (Some(Errno::EINVAL), RT_SCOPE_UNIVERSE),
            RouteType::Unreachable => (Some(Errno::EHOSTUNREACH), RT_SCOPE_UNIVERSE),
            RouteType::Prohibit => (Some(Errno::EACCES), RT_SCOPE_UNIVERSE),
            RouteType::Throw => (Some(Errno::EAGAIN), RT_SCOPE_UNIVERSE),
            RouteType::Nat | RouteType::Xresolve => (Some(Errno::EINVAL), RT_SCOPE_NOWHERE),
        }
    }

    /// The types `rtm_to_fib6_config` turns into `RTF_REJECT` routes.
    pub const fn is_v6_reject(self) -> bool {
        matches!(
            self,
            RouteType::Unreachable | RouteType::Blackhole | RouteType::Prohibit | RouteType::Throw
        )
    }
}

/// IPv6 router preference (RFC 4191, `RTA_PREF`), kept in the route's flags by Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RouterPref {
    /// `ICMPV6_ROUTER_PREF_LOW` (3).
    Low,
    /// `ICMPV6_ROUTER_PREF_MEDIUM` (0), the default.
    #[default]
    Medium,
    /// `ICMPV6_ROUTER_PREF_HIGH` (1).
    High,
}

impl RouterPref {
    /// The wire value (`ICMPV6_ROUTER_PREF_*`).
    pub const fn bits(self) -> u8 {
        match self {
            RouterPref::Low => 3,
            RouterPref::Medium => 0,
            RouterPref::High => 1,
        }
    }
    /// `rtm_to_fib6_config`: anything but low or high is medium.
    pub const fn from_bits(v: u8) -> RouterPref {
        match v {
            3 => RouterPref::Low,
            1 => RouterPref::High,
            _ => RouterPref::Medium,
        }
    }
    /// `IPV6_DECODE_PREF`: 1 low, 2 medium, 3 high; the part of `rt6_score_route`'s score
    /// that outranks the device match.
    pub(crate) const fn decode(self) -> i32 {
        (self.bits() ^ 2) as i32
    }
}

/// One route with its single next hop.
///
/// Build it with [`Route::new`] and the setters; the FIB fills in the rest on insertion
/// (IPv6 reject routes get `lo` as their device, as `ip6_route_info_create` does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route<A: FibAddr> {
    /// Destination prefix (host bits clear once inserted).
    pub dst: A,
    /// Prefix length.
    pub dst_len: u8,
    /// IPv4 TOS selector (`fa_tos`); 0 matches any.
    pub tos: u8,
    /// `RTN_*`.
    pub rtype: RouteType,
    /// `RTPROT_*`.
    pub protocol: u8,
    /// `RT_SCOPE_*` (IPv4; IPv6 routes are always universe).
    pub scope: u8,
    /// IPv4 priority / IPv6 metric.
    pub priority: u32,
    /// Preferred source address (`RTA_PREFSRC`).
    pub prefsrc: Option<A>,
    /// Gateway (`RTA_GATEWAY`).
    pub gateway: Option<A>,
    /// Output device ifindex, 0 for none.
    pub oif: u32,
    /// IPv6: the `inet6_dev` the route belongs to (`rt6i_idev`); equals `oif` except for
    /// routes on `lo` standing for another interface (local addresses). Unused for IPv4.
    pub idev: u32,
    /// `RTNH_F_*` (route and next-hop flags; `onlink`, `dead`, `linkdown`).
    pub flags: u32,
    /// Per-route lightweight-tunnel encapsulation (`nh_lwtstate`, `dst.lwtstate`).
    pub encap: Option<LwtState>,
    /// IPv6 router preference.
    pub pref: RouterPref,
    /// What a lookup ending here returns (`fib_props[].error`, `rt->dst.error`).
    pub(crate) error: Option<Errno>,
}

impl<A: FibAddr> Route<A> {
    /// A unicast route to `dst/dst_len` with iproute2's defaults for `ip route add`:
    /// protocol boot, scope universe, priority/metric 0 (IPv6 turns 0 into 1024).
    pub fn new(dst: A, dst_len: u8) -> Self {
        Route {
            dst,
            dst_len,
            tos: 0,
            rtype: RouteType::Unicast,
            protocol: RTPROT_BOOT,
            scope: RT_SCOPE_UNIVERSE,
            priority: 0,
            prefsrc: None,
            gateway: None,
            oif: 0,
            idev: 0,
            flags: 0,
            encap: None,
            pref: RouterPref::Medium,
            error: None,
        }
    }
    /// With a type.
    pub fn rtype(mut self, t: RouteType) -> Self {
        self.rtype = t;
        self
    }
    /// With a gateway (`via`).
    pub fn via(mut self, gw: A) -> Self {
        self.gateway = Some(gw);
        self
    }
    /// With an output device (`dev`).
    pub fn dev(mut self, oif: u32) -> Self {
        self.oif = oif;
        self
    }
    /// With a protocol (`proto`).
    pub fn proto(mut self, p: u8) -> Self {
        self.protocol = p;
        self
    }
    /// With a scope (`scope`).
    pub fn scope(mut self, s: u8) -> Self {
        self.scope = s;
        self
    }
    /// With a priority / metric (`metric`).
    pub fn metric(mut self, m: u32) -> Self {
        self.priority = m;
        self
    }
    /// With a preferred source (`src`).
    pub fn src(mut self, a: A) -> Self {
        self.prefsrc = Some(a);
        self
    }
    /// With a TOS selector (`tos`, IPv4).
    pub fn tos(mut self, t: u8) -> Self {
        self.tos = t;
        self
    }
    /// With an encapsulation (`encap`).
    pub fn encap(mut self, e: LwtState) -> Self {
        self.encap = Some(e);
        self
    }
    /// With `RTNH_F_*` flags.
    pub fn flags(mut self, f: u32) -> Self {
        self.flags = f;
        self
    }
    /// With a router preference (`pref`, IPv6).
    pub fn pref(mut self, p: RouterPref) -> Self {
        self.pref = p;
        self
    }
    /// With an `inet6_dev` different from the output device (IPv6 local routes).
    pub fn idev(mut self, i: u32) -> Self {
        self.idev = i;
        self
    }

    /// The error a lookup that ends on this route returns, `None` for a usable route.
    pub fn error(&self) -> Option<Errno> {
        self.error
    }

    /// `fa->fa_type == type && fa->fa_info == fi`: `fib_create_info` shares one `fib_info`
    /// between routes equal in everything `fib_find_info` and `nh_comp` compare, so this is
    /// what "the same route" means to `fib_table_insert` (TOS and prefix aside).
    pub(crate) fn same_info(&self, o: &Route<A>) -> bool {
        self.rtype == o.rtype
            && self.protocol == o.protocol
            && self.scope == o.scope
            && self.prefsrc == o.prefsrc
            && self.priority == o.priority
            && (self.flags ^ o.flags) & !RTNH_COMPARE_MASK == 0
            && self.oif == o.oif
            && self.gateway == o.gateway
            && self.encap == o.encap
    }
}

/// A route selector for deletion (`ip route del`): `None` (or Linux's zero) fields match
/// anything, as in `fib_table_delete` and `ip6_route_del`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec<A: FibAddr> {
    /// Destination prefix (exact).
    pub dst: A,
    /// Prefix length (exact).
    pub dst_len: u8,
    /// IPv4 TOS (exact).
    pub tos: u8,
    /// Type (IPv4).
    pub rtype: Option<RouteType>,
    /// Scope (IPv4; `None` is iproute2's `RT_SCOPE_NOWHERE` wildcard).
    pub scope: Option<u8>,
    /// Protocol (IPv4).
    pub protocol: Option<u8>,
    /// Priority / metric.
    pub priority: Option<u32>,
    /// Preferred source (IPv4).
    pub prefsrc: Option<A>,
    /// Output device.
    pub oif: Option<u32>,
    /// Gateway.
    pub gateway: Option<A>,
    /// Encapsulation (IPv4, compared only together with a device or gateway).
    pub encap: Option<LwtState>,
}

impl<A: FibAddr> RouteSpec<A> {
    /// Selects routes to `dst/dst_len` (TOS 0), whatever else they carry.
    pub fn new(dst: A, dst_len: u8) -> Self {
        RouteSpec {
            dst,
            dst_len,
            tos: 0,
            rtype: None,
            scope: None,
            protocol: None,
            priority: None,
            prefsrc: None,
            oif: None,
            gateway: None,
            encap: None,
        }
    }
    /// Only routes via this device.
    pub fn dev(mut self, oif: u32) -> Self {
        self.oif = Some(oif);
        self
    }
    /// Only routes via this gateway.
    pub fn via(mut self, gw: A) -> Self {
        self.gateway = Some(gw);
        self
    }
    /// Only routes with this priority / metric.
    pub fn metric(mut self, m: u32) -> Self {
        self.priority = Some(m);
        self
    }
    /// Only routes of this type.
    pub fn rtype(mut self, t: RouteType) -> Self {
        self.rtype = Some(t);
        self
    }
    /// Only routes with this protocol.
    pub fn proto(mut self, p: u8) -> Self {
        self.protocol = Some(p);
        self
    }
    /// Only routes with this scope.
    pub fn scope(mut self, s: u8) -> Self {
        self.scope = Some(s);
        self
    }
    /// Only routes with this preferred source.
    pub fn src(mut self, a: A) -> Self {
        self.prefsrc = Some(a);
        self
    }
    /// Only routes with this TOS.
    pub fn tos(mut self, t: u8) -> Self {
        self.tos = t;
        self
    }
    /// Only routes with this encapsulation.
    pub fn encap(mut self, e: LwtState) -> Self {
        self.encap = Some(e);
        self
    }
}

/// The scope iproute2 v4.3.0 sends for an IPv4 `ip route add` without `scope`
/// (`iproute_modify`): host for local and nat, link for broadcast, multicast, anycast and
/// for unicast routes without a gateway, universe otherwise. IPv6 is always universe.
pub const fn iproute2_scope(rtype: RouteType, has_gateway: bool) -> u8 {
    match rtype {
        RouteType::Local | RouteType::Nat => RT_SCOPE_HOST,
        RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast => RT_SCOPE_LINK,
        RouteType::Unicast | RouteType::Unspec if !has_gateway => RT_SCOPE_LINK,
        _ => RT_SCOPE_UNIVERSE,
    }
}
