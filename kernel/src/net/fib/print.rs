//! iproute2 v4.3.0's text (the release paired with Linux 4.3): `ip route show`,
//! `ip -6 route show`, `ip route get`, `ip rule show`.
//!
//! Two layers, as in the real thing: the kernel side turns routes into route messages
//! (`fib_dump_info`, `rt6_fill_node`, `rt_fill_info` → [`RouteMsg`]), and `print_route`
//! turns a message into a line. The era's spacing is kept byte for byte: fields printed as
//! `" proto %s "` leave two spaces between words and a space before the newline
//! (`10.0.0.0/24 dev eth0  proto kernel  scope link  src 10.0.0.2 \n`), and a 4.3 kernel
//! always sends `RTA_PREF` for IPv6, so IPv6 lines end in ` pref medium`. iproute2 v4.3.0
//! does not print `RTA_ENCAP` (that came with v4.4.0), so neither does this.
//!
//! Names come from [`super::names`]; host names are never resolved.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::{Fib, FibAddr, FibError, FibResult, Flow, NetDevs, Route, RouteType, Rule, RuleAction};
use super::{LOOPBACK_IFINDEX, RTNH_F_DEAD, RTNH_F_LINKDOWN, RTNH_F_OFFLOAD, RTNH_F_ONLINK};
use super::{RTNH_F_PERVASIVE, RTPROT_BOOT, RTPROT_KERNEL, RTPROT_UNSPEC, RT_SCOPE_UNIVERSE};
use super::{RT_TABLE_LOCAL, RT_TABLE_MAIN};
use crate::uapi::Errno;

pub use super::names::{dsfield_name, inet_ntop6, proto_name, scope_name, table_name};

/// `RTM_F_NOTIFY`.
pub const RTM_F_NOTIFY: u32 = 0x100;
/// `RTM_F_CLONED`: a cache entry (every IPv4 `ip route get` answer).
pub const RTM_F_CLONED: u32 = 0x200;
/// `RTCF_LOCAL`: IPv4 route to this host.
pub const RTCF_LOCAL: u32 = 0x8000_0000;
/// `RTCF_BROADCAST`.
pub const RTCF_BROADCAST: u32 = 0x1000_0000;
/// `RTCF_MULTICAST`.
pub const RTCF_MULTICAST: u32 = 0x2000_0000;
/// `RTCF_DOREDIRECT`.
pub const RTCF_DOREDIRECT: u32 = 0x0100_0000;
/// Whether the modelled kernel has `CONFIG_IPV6_SUBTREES` (distribution kernels of the
/// time did, by recollection, not checked): then an IPv6 `ip route get` answer carries the
/// request's source (`RTA_SRC`), which iproute2 prints as `from ::`.
pub const IPV6_SUBTREES: bool = true;

/// `rta_cacheinfo`'s printed part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheInfo {
    /// Seconds until expiry, 0 for never.
    pub expires: u32,
    /// `dst.error` (negative errno, 0 for none).
    pub error: i32,
}

/// An `RTM_NEWROUTE` message as iproute2 reads it: the `rtmsg` header and the attributes
/// k43 routes can carry (`None` = attribute absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMsg<A: FibAddr> {
    /// `rtm_dst_len`.
    pub dst_len: u8,
    /// `rtm_src_len`.
    pub src_len: u8,
    /// `rtm_tos`.
    pub tos: u8,
    /// `RTA_TABLE` (full id).
    pub table: u32,
    /// `rtm_protocol`.
    pub protocol: u8,
    /// `rtm_scope`.
    pub scope: u8,
    /// `rtm_type`.
    pub rtype: u8,
    /// `rtm_flags` (`RTNH_F_*`, `RTM_F_*`, `RTCF_*` in the high half).
    pub flags: u32,
    /// `RTA_DST`.
    pub dst: Option<A>,
    /// `RTA_SRC`.
    pub src: Option<A>,
    /// `RTA_GATEWAY`.
    pub gateway: Option<A>,
    /// `RTA_OIF`.
    pub oif: Option<u32>,
    /// `RTA_PREFSRC`.
    pub prefsrc: Option<A>,
    /// `RTA_PRIORITY`.
    pub priority: Option<u32>,
    /// `RTA_MARK`.
    pub mark: Option<u32>,
    /// `RTA_IIF`.
    pub iif: Option<u32>,
    /// `RTA_CACHEINFO`.
    pub cacheinfo: Option<CacheInfo>,
    /// `RTA_PREF`.
    pub pref: Option<u8>,
}

impl<A: FibAddr> RouteMsg<A> {
    fn blank(table: u32) -> Self {
        RouteMsg {
            dst_len: 0,
            src_len: 0,
            tos: 0,
            table,
            protocol: RTPROT_UNSPEC,
            scope: RT_SCOPE_UNIVERSE,
            rtype: RouteType::Unicast.rtn(),
            flags: 0,
            dst: None,
            src: None,
            gateway: None,
            oif: None,
            prefsrc: None,
            priority: None,
            mark: None,
            iif: None,
            cacheinfo: None,
            pref: None,
        }
    }

    /// The dump message of a route in `table` (`fib_dump_info`, `rt6_fill_node`).
    pub fn from_route(r: &Route<A>, table: u32) -> Self {
        let mut m = Self::blank(table);
        m.dst_len = r.dst_len;
        m.dst = Some(r.dst).filter(|_| r.dst_len != 0);
        m.protocol = r.protocol;
        m.prefsrc = r.prefsrc;
        if A::IS_V6 {
            m.rtype = v6_type(r).rtn();
            m.flags = r.flags & (RTNH_F_LINKDOWN | RTNH_F_DEAD);
            m.gateway = r.gateway.filter(|_| r.error.is_none());
            m.oif = Some(r.oif);
            m.priority = Some(r.priority);
            m.cacheinfo = Some(CacheInfo { expires: 0, error: neg(r.error) });
            m.pref = Some(r.pref.bits());
        } else {
            m.tos = r.tos;
            m.rtype = r.rtype.rtn();
            m.flags = r.flags;
            m.scope = r.scope;
            m.gateway = r.gateway;
            m.oif = Some(r.oif).filter(|&o| o != 0);
            m.priority = Some(r.priority).filter(|&p| p != 0);
        }
        m
    }

    /// IPv6's `ip6_null_entry`, `ip6_prohibit_entry` or `ip6_blk_hole_entry` (by errno):
    /// no table, `lo`, protocol kernel, metric 4294967295.
    pub fn special_v6(errno: Errno) -> Self {
        let t = match errno {
            Errno::EACCES => RouteType::Prohibit,
            Errno::EINVAL => RouteType::Blackhole,
            _ => RouteType::Unreachable,
        };
        let mut m = Self::blank(0);
        m.rtype = t.rtn();
        m.protocol = RTPROT_KERNEL;
        m.oif = Some(LOOPBACK_IFINDEX);
        m.priority = Some(u32::MAX);
        m.cacheinfo = Some(CacheInfo { expires: 0, error: -errno.0 });
        m.pref = Some(0);
        m
    }
}

fn neg(e: Option<Errno>) -> i32 {
    e.map_or(0, |e| -e.0)
}

/// The type `rt6_fill_node` reports: reject routes by their error, `RTF_LOCAL` or a
/// route on `lo` as local, anything else unicast.
fn v6_type<A: FibAddr>(r: &Route<A>) -> RouteType {
    match r.error {
        Some(Errno::EINVAL) => RouteType::Blackhole,
        Some(Errno::EACCES) => RouteType::Prohibit,
        Some(Errno::EAGAIN) => RouteType::Throw,
        Some(_) => RouteType::Unreachable,
        None if r.rtype == RouteType::Local || r.oif == LOOPBACK_IFINDEX => RouteType::Local,
        None => RouteType::Unicast,
    }
}

/// `ll_index_to_name`: the device's name, or `if%d`.
fn dev_name(devs: &dyn NetDevs, ifindex: u32) -> String {
    devs.dev_name(ifindex).unwrap_or_else(|| format!("if{}", ifindex))
}

fn rtntype_name(n: u8) -> String {
    RouteType::from_rtn(n).map_or_else(|| format!("{}", n), |t| t.name().into())
}

/// `print_route`: one line for a route message. `filter_table` is `ip route show`'s table
/// filter (0 for `table all`: then tables other than main are named).
pub fn print_route<A: FibAddr>(m: &RouteMsg<A>, filter_table: u32, devs: &dyn NetDevs) -> String {
    let host_len = A::BITS;
    let cloned = m.flags & RTM_F_CLONED != 0;
    let mut s = String::new();
    if m.rtype != RouteType::Unicast.rtn() {
        let _ = write!(s, "{} ", rtntype_name(m.rtype));
    }
    match m.dst {
        Some(d) if m.dst_len != host_len => {
            let _ = write!(s, "{}/{} ", d.to_text(), m.dst_len);
        }
        Some(d) => {
            let _ = write!(s, "{} ", d.to_text());
        }
        None if m.dst_len != 0 => {
            let _ = write!(s, "0/{} ", m.dst_len);
        }
        None => s.push_str("default "),
    }
    match m.src {
        Some(a) if m.src_len != host_len => {
            let _ = write!(s, "from {}/{} ", a.to_text(), m.src_len);
        }
        Some(a) => {
            let _ = write!(s, "from {} ", a.to_text());
        }
        None if m.src_len != 0 => {
            let _ = write!(s, "from 0/{} ", m.src_len);
        }
        None => {}
    }
    if m.tos != 0 {
        let _ = write!(s, "tos {} ", dsfield_name(m.tos));
    }
    if let Some(g) = m.gateway {
        let _ = write!(s, "via {} ", g.to_text());
    }
    if let Some(o) = m.oif {
        let _ = write!(s, "dev {} ", dev_name(devs, o));
    }
    if !cloned {
        if m.table != RT_TABLE_MAIN && filter_table == 0 {
            let _ = write!(s, " table {} ", table_name(m.table));
        }
        if m.protocol != RTPROT_BOOT {
            let _ = write!(s, " proto {} ", proto_name(m.protocol));
        }
        if m.scope != RT_SCOPE_UNIVERSE {
            let _ = write!(s, " scope {} ", scope_name(m.scope));
        }
    }
    if let Some(p) = m.prefsrc {
        let _ = write!(s, " src {} ", p.to_text());
    }
    if let Some(p) = m.priority {
        let _ = write!(s, " metric {} ", p);
    }
    for (bit, word) in [
        (RTNH_F_DEAD, "dead "),
        (RTNH_F_ONLINK, "onlink "),
        (RTNH_F_PERVASIVE, "pervasive "),
        (RTNH_F_OFFLOAD, "offload "),
        (RTM_F_NOTIFY, "notify "),
        (RTNH_F_LINKDOWN, "linkdown "),
    ] {
        if m.flags & bit != 0 {
            s.push_str(word);
        }
    }
    match m.mark {
        Some(k) if k >= 16 => {
            let _ = write!(s, " mark 0x{:x}", k);
        }
        Some(k) if k != 0 => {
            let _ = write!(s, " mark {}", k);
        }
        _ => {}
    }
    if cloned && !A::IS_V6 {
        s.push_str("\n    cache ");
        cache_flags(&mut s, m.flags & !0xffff);
        if let Some(ci) = m.cacheinfo {
            if ci.expires != 0 {
                let _ = write!(s, " expires {}sec", ci.expires);
            }
            if ci.error != 0 {
                let _ = write!(s, " error {}", ci.error);
            }
        }
    } else if A::IS_V6 {
        let expires = m.cacheinfo.map_or(0, |c| c.expires);
        if cloned || expires != 0 {
            if cloned {
                s.push_str("\n    cache ");
            }
            if expires != 0 {
                let _ = write!(s, " expires {}sec", expires);
            }
        }
        if let Some(ci) = m.cacheinfo.filter(|c| c.error != 0) {
            let _ = write!(s, " error {}", ci.error);
        }
    }
    if let Some(i) = m.iif {
        let _ = write!(s, " iif {}", dev_name(devs, i));
    }
    if let Some(p) = m.pref {
        s.push_str(" pref ");
        match p {
            3 => s.push_str("low"),
            0 => s.push_str("medium"),
            1 => s.push_str("high"),
            p => {
                let _ = write!(s, "{}", p);
            }
        }
    }
    s.push('\n');
    s
}

/// The `PRTFL` list of `print_route`: `<local,brd> ` and so on.
fn cache_flags(s: &mut String, mut flags: u32) {
    const NAMES: [(u32, &str); 14] = [
        (RTCF_LOCAL, "local"),
        (0x4000_0000, "reject"),
        (RTCF_MULTICAST, "mc"),
        (RTCF_BROADCAST, "brd"),
        (0x0800_0000, "dst-nat"),
        (0x0080_0000, "src-nat"),
        (0x0040_0000, "masq"),
        (0x0002_0000, "dst-direct"),
        (0x0400_0000, "src-direct"),
        (0x0004_0000, "redirected"),
        (RTCF_DOREDIRECT, "redirect"),
        (0x0020_0000, "fastroute"),
        (0x0001_0000, "notify"),
        (0x0008_0000, "proxy"),
    ];
    let mut first = true;
    for (bit, name) in NAMES {
        if flags & bit != 0 {
            flags &= !bit;
            let _ = write!(
                s,
                "{}{}{}",
                if first { "<" } else { "" },
                name,
                if flags != 0 { "," } else { "> " }
            );
            first = false;
        }
    }
    if flags != 0 {
        let _ = write!(s, "{}{:x}> ", if first { "<" } else { "" }, flags);
    }
}

/// `print_rule`: one `ip rule show` line.
pub fn print_rule<A: FibAddr>(r: &Rule<A>) -> String {
    let host_len = A::BITS;
    let mut s = format!("{}:\t", r.pref);
    if r.invert {
        s.push_str("not ");
    }
    let pfx = |a: A, l: u8| {
        if l != host_len {
            format!("{}/{}", a.to_text(), l)
        } else {
            a.to_text()
        }
    };
    if r.src_len != 0 {
        let _ = write!(s, "from {} ", pfx(r.src, r.src_len));
    } else {
        s.push_str("from all ");
    }
    if r.dst_len != 0 {
        let _ = write!(s, "to {} ", pfx(r.dst, r.dst_len));
    }
    if r.tos != 0 {
        let _ = write!(s, "tos {} ", dsfield_name(r.tos));
    }
    // FRA_FWMARK is sent for a non-zero mark, FRA_FWMASK for a non-zero mark or mask.
    if r.mark != 0 || r.mark_mask != 0 {
        if r.mark_mask != u32::MAX {
            let _ = write!(s, "fwmark 0x{:x}/0x{:x} ", r.mark, r.mark_mask);
        } else {
            let _ = write!(s, "fwmark 0x{:x} ", r.mark);
        }
    }
    for (word, sel) in [("iif", &r.iif), ("oif", &r.oif)] {
        if let Some(i) = sel {
            let _ = write!(s, "{} {} ", word, i.name);
            if i.ifindex.is_none() {
                s.push_str("[detached] ");
            }
        }
    }
    if r.table != 0 {
        let _ = write!(s, "lookup {} ", table_name(r.table));
        if r.suppress_prefixlen != -1 {
            let _ = write!(s, "suppress_prefixlength {} ", r.suppress_prefixlen);
        }
    }
    match r.action {
        RuleAction::Other(10) => s.push_str("masquerade"),
        RuleAction::Goto => {
            s.push_str("goto ");
            if r.target != 0 {
                let _ = write!(s, "{}", r.target);
            } else {
                s.push_str("none");
            }
            if r.is_unresolved() {
                s.push_str(" [unresolved]");
            }
        }
        RuleAction::Nop => s.push_str("nop"),
        RuleAction::ToTable => {}
        a => s.push_str(&rtntype_name(a.to_u8())),
    }
    s.push('\n');
    s
}

/// `RTNETLINK answers: …`, what `ip` prints when the kernel refuses.
pub fn rtnetlink_answers(e: Errno) -> String {
    format!("RTNETLINK answers: {}\n", e.message())
}

impl<A: FibAddr> Fib<A> {
    /// The route messages of a dump (`ip route show table all` before filtering): tables
    /// in hash order, each in the family's walk order; for IPv6 each table's walk ends with
    /// the null entry at its root.
    pub fn dump(&self) -> Vec<RouteMsg<A>> {
        let mut out = Vec::new();
        for id in self.table_ids() {
            for r in self.routes(id) {
                out.push(RouteMsg::from_route(r, id));
            }
            if A::IS_V6 {
                out.push(RouteMsg::special_v6(Errno::ENETUNREACH));
            }
        }
        out
    }

    /// `ip route show table TABLE` (`ip -6 route show …` for IPv6); `table` 0 is `all`,
    /// main is what `ip route show` shows. Applies `filter_nlmsg`'s table test, including
    /// its IPv6 quirk: until a route from a table other than main has been seen, a main
    /// filter only drops local-type routes and a local filter keeps only those.
    pub fn show_routes(&self, table: u32, devs: &dyn NetDevs) -> String {
        let mut out = String::new();
        let mut ip6_multiple_tables = false;
        for m in self.dump() {
            if A::IS_V6 && m.table != RT_TABLE_MAIN {
                ip6_multiple_tables = true;
            }
            let keep = if A::IS_V6 && !ip6_multiple_tables {
                match table {
                    0 => true,
                    RT_TABLE_LOCAL => m.rtype == RouteType::Local.rtn(),
                    RT_TABLE_MAIN => m.rtype != RouteType::Local.rtn(),
                    _ => false,
                }
            } else {
                table == 0 || table == m.table
            };
            if keep {
                out.push_str(&print_route(&m, table, devs));
            }
        }
        out
    }

    /// `ip rule show` (`ip -6 rule show`).
    pub fn show_rules(&self) -> String {
        self.rules().iter().map(print_rule).collect()
    }
}

impl RouteMsg<Ipv4Addr> {
    /// The answer `inet_rtm_getroute` sends for an output lookup (`rt_fill_info`):
    /// `req_src` is the request's `from` (if any), `saddr` the source the output route
    /// chose (`fl4->saddr`: the route's preferred source or `inet_select_addr`'s pick).
    /// Local routes answer through `lo` with `<local>`, broadcast ones with `<local,brd>`.
    pub fn get4(
        fl: &Flow<Ipv4Addr>,
        req_src: Option<Ipv4Addr>,
        res: &FibResult<'_, Ipv4Addr>,
        saddr: Ipv4Addr,
    ) -> Self {
        let r = res.route;
        let mut m = Self::blank(RT_TABLE_MAIN);
        let (oif, flags) = match r.rtype {
            RouteType::Local => (LOOPBACK_IFINDEX, RTCF_LOCAL),
            RouteType::Broadcast => (r.oif, RTCF_BROADCAST | RTCF_LOCAL),
            RouteType::Multicast => (r.oif, RTCF_MULTICAST),
            _ => (r.oif, 0),
        };
        m.dst_len = 32;
        m.dst = Some(fl.daddr);
        m.tos = fl.tos;
        m.rtype = r.rtype.rtn();
        m.flags = flags | RTM_F_CLONED;
        if let Some(src) = req_src.filter(|s| !s.is_unspecified()) {
            m.src_len = 32;
            m.src = Some(src);
        }
        m.oif = Some(oif).filter(|&o| o != 0);
        if saddr != req_src.unwrap_or(Ipv4Addr::UNSPECIFIED) {
            m.prefsrc = Some(saddr);
        }
        m.gateway = r.gateway.filter(|_| r.rtype == RouteType::Unicast);
        m.mark = Some(fl.mark).filter(|&k| k != 0);
        m.cacheinfo = Some(CacheInfo::default());
        m
    }
}

impl RouteMsg<Ipv6Addr> {
    /// The answer `inet6_rtm_getroute` sends (`rt6_fill_node` with the request's
    /// addresses): whatever the lookup gave, reject and null entries included (4.3 sends
    /// them instead of an error). `saddr` is the source `ip6_route_get_saddr` picked for
    /// an output lookup; a route's own preferred source overrides it.
    pub fn get6(
        fl: &Flow<Ipv6Addr>,
        res: &Result<FibResult<'_, Ipv6Addr>, FibError<'_, Ipv6Addr>>,
        saddr: Option<Ipv6Addr>,
    ) -> Self {
        let mut m = match res {
            Ok(fr) => Self::from_route(fr.route, fr.table),
            Err(FibError { route: Some(r), table, .. }) => Self::from_route(r, *table),
            Err(e) => Self::special_v6(e.errno),
        };
        m.dst_len = 128;
        m.dst = Some(fl.daddr);
        if IPV6_SUBTREES {
            m.src_len = 128;
            m.src = Some(fl.saddr);
        }
        if fl.input {
            m.iif = Some(fl.iif);
        } else if m.prefsrc.is_none() {
            m.prefsrc = saddr;
        }
        m.mark = None;
        m
    }
}
