//! `ip route` (`ip/iproute.c` of iproute2 v4.3.0): `add`, `change`, `replace`,
//! `prepend`, `append`, `test`, `del`, `show`/`list`, `get`, `flush`.

use super::util::{dsfield_a2n, get_u32, get_u8, matches, read_family, rtntype_a2n, rtprot_a2n, rtscope_a2n, rttable_a2n, InetPrefix};
use super::{usage, Args, Ip, Res, EXIT_USAGE};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kernel::hal::Hal;
use kernel::net::fib::print::{print_route, RouteMsg, RTM_F_CLONED};
use kernel::net::fib::{FibAddr, NlFlags, RouteType, RTNH_F_ONLINK, RTPROT_BOOT, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_NOWHERE};
use kernel::net::fib::{RT_SCOPE_UNIVERSE, RT_TABLE_LOCAL, RT_TABLE_MAIN};
use kernel::net::rtnetlink::route::{RouteReply, RtMsg};
use kernel::net::rtnetlink::{InetAddr, AF_INET, AF_INET6, AF_MPLS, AF_UNSPEC, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use kernel::net::wire::{Ipv4Addr, Ipv6Addr};
use kernel::uapi::Errno;

/// Rounds of `ip route flush` before giving up (iproute2 gives up after 30 s).
const FLUSH_ROUNDS: usize = 16;

/// `do_iproute`.
pub fn do_iproute<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let Some((&cmd, rest)) = args.split_first() else { return list_flush(ip, &[], false) };
    let modify = |flags: u16| Some(flags);
    let new = if matches(cmd, "add") {
        modify(NLM_F_CREATE | NLM_F_EXCL)
    } else if matches(cmd, "change") || cmd == "chg" {
        modify(NLM_F_REPLACE)
    } else if matches(cmd, "replace") {
        modify(NLM_F_CREATE | NLM_F_REPLACE)
    } else if matches(cmd, "prepend") {
        modify(NLM_F_CREATE)
    } else if matches(cmd, "append") {
        modify(NLM_F_CREATE | NLM_F_APPEND)
    } else if matches(cmd, "test") {
        modify(NLM_F_EXCL)
    } else {
        None
    };
    if let Some(flags) = new {
        return iproute_modify(ip, Some(flags), rest);
    }
    if matches(cmd, "delete") {
        return iproute_modify(ip, None, rest);
    }
    if matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst") {
        return list_flush(ip, rest, false);
    }
    if matches(cmd, "get") {
        return iproute_get(ip, rest);
    }
    if matches(cmd, "flush") {
        return list_flush(ip, rest, true);
    }
    if matches(cmd, "save") || matches(cmd, "restore") || matches(cmd, "showdump") {
        return Err(ip.unsupported(cmd));
    }
    if matches(cmd, "help") {
        return Err(ip.usage(usage::ROUTE));
    }
    let t = format!("Command \"{cmd}\" is unknown, try \"ip route help\".\n");
    Err(ip.fail(&t, EXIT_USAGE))
}

/// `iproute_modify`: `flags` is `Some(nlmsg_flags)` for `RTM_NEWROUTE`, `None` for
/// `RTM_DELROUTE`.
fn iproute_modify<H: Hal>(ip: &mut Ip<'_, H>, flags: Option<u16>, args: &[&str]) -> Res {
    let del = flags.is_none();
    let mut m = RtMsg::new(ip.family);
    m.table = RT_TABLE_MAIN as u8;
    m.scope = RT_SCOPE_NOWHERE;
    if !del {
        m.protocol = RTPROT_BOOT;
        m.scope = RT_SCOPE_UNIVERSE;
        m.rtype = RouteType::Unicast.rtn();
    }
    let (mut gw_ok, mut dst_ok, mut scope_ok, mut table_ok, mut type_ok) = (false, false, false, false, false);
    let mut d: Option<&str> = None;
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if w == "src" {
            let v = ip.next_arg(&mut a)?;
            let p = ip.get_addr(v, m.family)?;
            if m.family == AF_UNSPEC {
                m.family = p.family;
            }
            m.prefsrc = p.attr();
        } else if w == "as" {
            return Err(ip.unsupported(w));
        } else if w == "via" {
            gw_ok = true;
            let mut v = ip.next_arg(&mut a)?;
            let mut family = read_family(v);
            if family == AF_UNSPEC {
                family = m.family;
            } else {
                v = ip.next_arg(&mut a)?;
            }
            let p = ip.get_addr(v, family)?;
            if m.family == AF_UNSPEC {
                m.family = p.family;
            }
            // A gateway of another family travels as RTA_VIA, which 4.3's IPv4 and IPv6
            // route handlers do not read.
            if p.family == m.family {
                m.gateway = p.attr();
            }
        } else if w == "from" {
            let v = ip.next_arg(&mut a)?;
            let p = ip.get_prefix(v, m.family)?;
            if m.family == AF_UNSPEC {
                m.family = p.family;
            }
            m.src = p.attr().filter(|_| p.bytelen != 0);
            m.src_len = p.len8();
        } else if w == "tos" || matches(w, "dsfield") {
            let v = ip.next_arg(&mut a)?;
            m.tos = dsfield_a2n(v).ok_or_else(|| ip.invarg("\"tos\" value is invalid\n", v))?;
        } else if matches(w, "metric") || matches(w, "priority") || w == "preference" {
            let v = ip.next_arg(&mut a)?;
            m.priority = Some(get_u32(v, 0).ok_or_else(|| ip.invarg("\"metric\" value is invalid\n", v))?);
        } else if w == "scope" {
            let v = ip.next_arg(&mut a)?;
            m.scope = rtscope_a2n(v).ok_or_else(|| ip.invarg("invalid \"scope\" value\n", v))?;
            scope_ok = true;
        } else if matches!(w, "mtu" | "hoplimit" | "advmss" | "rtt" | "rto_min")
            || ["reordering", "window", "cwnd", "initcwnd", "initrwnd", "features", "quickack", "congctl", "rttvar", "ssthresh", "realms"].iter().any(|p| matches(w, p))
        {
            return Err(ip.unsupported(w));
        } else if w == "onlink" {
            m.flags |= RTNH_F_ONLINK;
        } else if w == "nexthop" {
            return Err(ip.unsupported(w));
        } else if matches(w, "protocol") {
            let v = ip.next_arg(&mut a)?;
            m.protocol = rtprot_a2n(v).ok_or_else(|| ip.invarg("\"protocol\" value is invalid\n", v))?;
        } else if matches(w, "table") {
            let v = ip.next_arg(&mut a)?;
            let tid = rttable_a2n(v).ok_or_else(|| ip.invarg("\"table\" value is invalid\n", v))?;
            if tid < 256 {
                m.table = tid as u8;
            } else {
                m.table = 0;
                m.rta_table = Some(tid);
            }
            table_ok = true;
        } else if w == "dev" || w == "oif" {
            d = Some(ip.next_arg(&mut a)?);
        } else if matches(w, "pref") {
            let v = ip.next_arg(&mut a)?;
            m.pref = Some(match v {
                "low" => 3,
                "medium" => 0,
                "high" => 1,
                _ => get_u8(v, 0).ok_or_else(|| ip.invarg("\"pref\" value is invalid\n", v))?,
            });
        } else {
            let mut w = w;
            if w == "to" {
                w = ip.next_arg(&mut a)?;
            }
            let first = w.bytes().next().unwrap_or(0);
            if !first.is_ascii_digit() {
                if let Some(t) = rtntype_a2n(w) {
                    w = ip.next_arg(&mut a)?;
                    m.rtype = t;
                    type_ok = true;
                }
            }
            if matches(w, "help") {
                return Err(ip.usage(usage::ROUTE));
            }
            if dst_ok {
                return Err(ip.duparg2("to", w));
            }
            let p = ip.get_prefix(w, m.family)?;
            if m.family == AF_UNSPEC {
                m.family = p.family;
            }
            m.dst_len = p.len8();
            dst_ok = true;
            m.dst = p.attr().filter(|_| p.bytelen != 0);
        }
        a.advance();
    }
    if !dst_ok {
        return Err(ip.usage(usage::ROUTE));
    }
    if let Some(d) = d {
        m.oif = Some(ip.dev_index(d)?);
    }
    if m.family == AF_UNSPEC {
        m.family = AF_INET;
    }
    let t = RouteType::from_rtn(m.rtype);
    if !table_ok && matches!(t, Some(RouteType::Local | RouteType::Broadcast | RouteType::Nat | RouteType::Anycast)) {
        m.table = RT_TABLE_LOCAL as u8;
    }
    if !scope_ok {
        if m.family == AF_INET6 || m.family == AF_MPLS {
            m.scope = RT_SCOPE_UNIVERSE;
        } else {
            match t {
                Some(RouteType::Local | RouteType::Nat) => m.scope = RT_SCOPE_HOST,
                Some(RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast) => m.scope = RT_SCOPE_LINK,
                Some(RouteType::Unicast | RouteType::Unspec) => {
                    if del {
                        m.scope = RT_SCOPE_NOWHERE;
                    } else if !gw_ok {
                        m.scope = RT_SCOPE_LINK;
                    }
                }
                _ => {}
            }
        }
    }
    if !type_ok && m.family == AF_MPLS {
        m.rtype = RouteType::Unicast.rtn();
    }
    let r = match flags {
        Some(f) => ip.k.rtm_newroute(&m, NlFlags(f)),
        None => ip.k.rtm_delroute(&m),
    };
    ip.talk(r)
}

/// `iproute_get`.
fn iproute_get<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let mut m = RtMsg::new(ip.family);
    let (mut idev, mut odev) = (None, None);
    let mut mark = 0u32;
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if w == "tos" || matches(w, "dsfield") {
            let v = ip.next_arg(&mut a)?;
            m.tos = dsfield_a2n(v).ok_or_else(|| ip.invarg("TOS value is invalid\n", v))?;
        } else if matches(w, "from") {
            let v = ip.next_arg(&mut a)?;
            if matches(v, "help") {
                return Err(ip.usage(usage::ROUTE));
            }
            let p = ip.get_prefix(v, m.family)?;
            if m.family == AF_UNSPEC {
                m.family = p.family;
            }
            m.src = p.attr().filter(|_| p.bytelen != 0);
            m.src_len = p.len8();
        } else if matches(w, "iif") {
            idev = Some(ip.next_arg(&mut a)?);
        } else if matches(w, "mark") {
            let v = ip.next_arg(&mut a)?;
            // get_unsigned's failure is ignored: the mark stays as it was.
            if let Some(v) = get_u32(v, 0) {
                mark = v;
            }
        } else if matches(w, "oif") || w == "dev" {
            odev = Some(ip.next_arg(&mut a)?);
        } else if matches(w, "notify") || matches(w, "connected") {
            return Err(ip.unsupported(w));
        } else {
            let mut w = w;
            if w == "to" {
                w = ip.next_arg(&mut a)?;
            }
            if matches(w, "help") {
                return Err(ip.usage(usage::ROUTE));
            }
            let p = ip.get_prefix(w, m.family)?;
            if m.family == AF_UNSPEC {
                m.family = p.family;
            }
            m.dst = p.attr().filter(|_| p.bytelen != 0);
            m.dst_len = p.len8();
        }
        a.advance();
    }
    if m.dst_len == 0 {
        return Err(ip.fail("need at least a destination address\n", 1));
    }
    if let Some(d) = idev {
        m.iif = Some(ip.dev_index(d)?);
    }
    if let Some(d) = odev {
        m.oif = Some(ip.dev_index(d)?);
    }
    if mark != 0 {
        m.mark = Some(mark);
    }
    if m.family == AF_UNSPEC {
        m.family = AF_INET;
    }
    let reply = match ip.k.rtm_getroute(&m) {
        Ok(r) => r,
        Err(e) => return ip.talk(Err(e)),
    };
    let devs = ip.k.net().dev_names();
    let text = match reply {
        RouteReply::V4(r) => print_route(&r, 0, &devs),
        RouteReply::V6(r) => print_route(&r, 0, &devs),
    };
    ip.say(&text);
    Ok(())
}

/// iproute2's route `filter` (`iproute_reset_filter` and what the arguments set).
#[derive(Clone, Default)]
struct Filter {
    tb: u32,
    cloned: bool,
    tos: u8,
    tosmask: bool,
    protocol: Option<u8>,
    scope: Option<u8>,
    rtype: Option<u8>,
    rdst: Option<InetPrefix>,
    mdst: Option<InetPrefix>,
    rsrc: Option<InetPrefix>,
    msrc: Option<InetPrefix>,
    rvia: Option<InetPrefix>,
    rprefsrc: Option<InetPrefix>,
    iif: Option<u32>,
    oif: Option<u32>,
    mark: Option<u32>,
}

/// The first `bits` bits of `a` and `b` agree (`inet_addr_match`).
fn addr_match(a: &[u8; 16], b: &[u8; 16], bits: i32) -> bool {
    let bits = bits.clamp(0, 128) as usize;
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) & (0xffu8 << (8 - rest)) == 0
}

/// A route message's address as `inet_prefix` data.
fn bytes<A: FibAddr>(a: Option<A>) -> [u8; 16] {
    let mut d = [0u8; 16];
    if let Some(a) = a {
        let v = a.to_bits();
        if A::IS_V6 {
            d = v.to_be_bytes();
        } else {
            d[..4].copy_from_slice(&(v as u32).to_be_bytes());
        }
    }
    d
}

impl Filter {
    /// `filter_nlmsg` for a route of `family`; `multiple` is its `ip6_multiple_tables`.
    fn keep<A: FibAddr>(&self, m: &RouteMsg<A>, family: u8, multiple: &mut bool, flush: bool) -> bool {
        if family == AF_INET6 && m.table != RT_TABLE_MAIN {
            *multiple = true;
        }
        if self.cloned != (m.flags & RTM_F_CLONED != 0) {
            return false;
        }
        if family == AF_INET6 && !*multiple {
            if self.tb != 0 {
                let local = m.rtype == RouteType::Local.rtn();
                let ok = match self.tb {
                    RT_TABLE_LOCAL => local,
                    RT_TABLE_MAIN => !local,
                    _ => false,
                };
                if !ok {
                    return false;
                }
            }
        } else if self.tb > 0 && self.tb != m.table {
            return false;
        }
        if self.protocol.is_some_and(|p| p != m.protocol)
            || self.scope.is_some_and(|s| s != m.scope)
            || self.rtype.is_some_and(|t| t != m.rtype)
            || (self.tosmask && self.tos != m.tos)
        {
            return false;
        }
        let fam_ok = |p: &Option<InetPrefix>| p.is_none_or(|p| p.family == family);
        if !fam_ok(&self.rdst) || !fam_ok(&self.mdst) || !fam_ok(&self.rsrc) || !fam_ok(&self.msrc) || !fam_ok(&self.rvia) || !fam_ok(&self.rprefsrc) {
            return false;
        }
        if self.rdst.is_some_and(|p| p.bitlen > i32::from(m.dst_len)) || self.mdst.is_some_and(|p| p.bitlen >= 0 && p.bitlen < i32::from(m.dst_len)) {
            return false;
        }
        if self.rsrc.is_some_and(|p| p.bitlen > i32::from(m.src_len)) || self.msrc.is_some_and(|p| p.bitlen >= 0 && p.bitlen < i32::from(m.src_len)) {
            return false;
        }
        let dst = bytes(m.dst);
        let src = bytes(m.src);
        if self.rdst.is_some_and(|p| !addr_match(&dst, &p.data, p.bitlen)) || self.mdst.is_some_and(|p| p.bitlen >= 0 && !addr_match(&dst, &p.data, i32::from(m.dst_len))) {
            return false;
        }
        if self.rsrc.is_some_and(|p| !addr_match(&src, &p.data, p.bitlen)) || self.msrc.is_some_and(|p| p.bitlen >= 0 && !addr_match(&src, &p.data, i32::from(m.src_len))) {
            return false;
        }
        if self.rvia.is_some_and(|p| p.bitlen > 0 && !addr_match(&bytes(m.gateway), &p.data, p.bitlen)) {
            return false;
        }
        if self.rprefsrc.is_some_and(|p| p.bitlen > 0 && !addr_match(&bytes(m.prefsrc), &p.data, p.bitlen)) {
            return false;
        }
        if self.iif.is_some_and(|i| m.iif.unwrap_or(0) != i) || self.oif.is_some_and(|o| m.oif.unwrap_or(0) != o) || self.mark.is_some_and(|k| m.mark.unwrap_or(0) != k) {
            return false;
        }
        // Flushing leaves every table's null entry alone.
        !(flush && family == AF_INET6 && m.dst_len == 0 && m.rtype == RouteType::Unreachable.rtn() && m.priority == Some(u32::MAX))
    }
}

/// The deletion `ip route flush` sends for a dumped route: the message itself as
/// `RTM_DELROUTE`.
fn del_msg<A: FibAddr>(m: &RouteMsg<A>, family: u8) -> RtMsg {
    let attr = |a: Option<A>| {
        a.map(|a| {
            let b = bytes(Some(a));
            if A::IS_V6 {
                InetAddr::V6(Ipv6Addr::from(b))
            } else {
                InetAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            }
        })
    };
    RtMsg {
        family,
        dst_len: m.dst_len,
        src_len: m.src_len,
        tos: m.tos,
        table: if m.table < 256 { m.table as u8 } else { 0 },
        protocol: m.protocol,
        scope: m.scope,
        rtype: m.rtype,
        flags: m.flags,
        rta_table: Some(m.table),
        dst: attr(m.dst),
        src: attr(m.src),
        gateway: attr(m.gateway),
        prefsrc: attr(m.prefsrc),
        oif: m.oif,
        iif: m.iif,
        priority: m.priority,
        mark: m.mark,
        pref: m.pref,
    }
}

/// `iproute_list_flush_or_save` for `show` and `flush`.
fn list_flush<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str], flush: bool) -> Res {
    let mut do_ipv6 = ip.family;
    let mut f = Filter { tb: RT_TABLE_MAIN, ..Filter::default() };
    let (mut id, mut od) = (None, None);
    if flush && args.is_empty() {
        return Err(ip.fail("\"ip route flush\" requires arguments.\n", 1));
    }
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if matches(w, "table") {
            let v = ip.next_arg(&mut a)?;
            match rttable_a2n(v) {
                Some(t) => f.tb = t,
                None if v == "all" => f.tb = 0,
                None if v == "cache" => f.cloned = true,
                None if v == "help" => return Err(ip.usage(usage::ROUTE)),
                None => return Err(ip.invarg("table id value is invalid\n", v)),
            }
        } else if matches(w, "cached") || matches(w, "cloned") {
            f.cloned = true;
        } else if w == "tos" || matches(w, "dsfield") {
            let v = ip.next_arg(&mut a)?;
            f.tos = dsfield_a2n(v).ok_or_else(|| ip.invarg("TOS value is invalid\n", v))?;
            f.tosmask = true;
        } else if matches(w, "protocol") {
            let v = ip.next_arg(&mut a)?;
            f.protocol = match rtprot_a2n(v) {
                Some(p) => Some(p),
                None if v == "all" => None,
                None => return Err(ip.invarg("invalid \"protocol\"\n", v)),
            };
        } else if matches(w, "scope") {
            let v = ip.next_arg(&mut a)?;
            f.scope = match rtscope_a2n(v) {
                Some(s) => Some(s),
                None if v == "all" => None,
                None => return Err(ip.invarg("invalid \"scope\"\n", v)),
            };
        } else if matches(w, "type") {
            let v = ip.next_arg(&mut a)?;
            f.rtype = Some(rtntype_a2n(v).ok_or_else(|| ip.invarg("node type value is invalid\n", v))?);
        } else if w == "dev" || w == "oif" {
            od = Some(ip.next_arg(&mut a)?);
        } else if w == "iif" {
            id = Some(ip.next_arg(&mut a)?);
        } else if w == "mark" {
            let v = ip.next_arg(&mut a)?;
            f.mark = Some(get_u32(v, 0).unwrap_or(0));
        } else if w == "via" {
            let mut v = ip.next_arg(&mut a)?;
            let mut family = read_family(v);
            if family == AF_UNSPEC {
                family = do_ipv6;
            } else {
                v = ip.next_arg(&mut a)?;
            }
            f.rvia = Some(ip.get_prefix(v, family)?);
        } else if w == "src" {
            let v = ip.next_arg(&mut a)?;
            f.rprefsrc = Some(ip.get_prefix(v, do_ipv6)?);
        } else if matches(w, "realms") {
            return Err(ip.unsupported(w));
        } else if matches(w, "from") {
            let v = ip.next_arg(&mut a)?;
            if matches(v, "root") {
                let v = ip.next_arg(&mut a)?;
                f.rsrc = Some(ip.get_prefix(v, do_ipv6)?);
            } else if matches(v, "match") {
                let v = ip.next_arg(&mut a)?;
                f.msrc = Some(ip.get_prefix(v, do_ipv6)?);
            } else {
                let v = if matches(v, "exact") { ip.next_arg(&mut a)? } else { v };
                f.msrc = Some(ip.get_prefix(v, do_ipv6)?);
                f.rsrc = f.msrc;
            }
        } else {
            let mut v = w;
            if matches(v, "to") {
                v = ip.next_arg(&mut a)?;
            }
            if matches(v, "root") {
                let v = ip.next_arg(&mut a)?;
                f.rdst = Some(ip.get_prefix(v, do_ipv6)?);
            } else if matches(v, "match") {
                let v = ip.next_arg(&mut a)?;
                f.mdst = Some(ip.get_prefix(v, do_ipv6)?);
            } else {
                let v = if matches(v, "exact") { ip.next_arg(&mut a)? } else { v };
                f.mdst = Some(ip.get_prefix(v, do_ipv6)?);
                f.rdst = f.mdst;
            }
        }
        a.advance();
    }
    // A prefix without a family (`default`) filters nothing by family.
    for p in [&mut f.rdst, &mut f.mdst, &mut f.rsrc, &mut f.msrc, &mut f.rvia, &mut f.rprefsrc] {
        if p.is_some_and(|x| x.family == AF_UNSPEC) {
            *p = None;
        }
    }
    if do_ipv6 == AF_UNSPEC && f.tb != 0 {
        do_ipv6 = AF_INET;
    }
    if let Some(d) = id {
        f.iif = Some(ip.dev_index(d)?);
    }
    if let Some(d) = od {
        f.oif = Some(ip.dev_index(d)?);
    }
    if !matches!(do_ipv6, AF_UNSPEC | AF_INET | AF_INET6) {
        let t = format!("RTNETLINK answers: {}\n{} terminated\n", Errno::EOPNOTSUPP.message(), if flush { "Flush" } else { "Dump" });
        return Err(ip.fail(&t, 1));
    }
    let v4 = do_ipv6 != AF_INET6;
    let v6 = do_ipv6 != AF_INET;
    if flush {
        // No route cache in 4.3 to flush, and no cached routes to dump.
        if f.cloned {
            return Ok(());
        }
        for _ in 0..FLUSH_ROUNDS {
            let mut dels: Vec<RtMsg> = Vec::new();
            if v4 {
                let mut multiple = false;
                dels.extend(ip.k.inet_dump_fib().iter().filter(|m| f.keep(*m, AF_INET, &mut multiple, true)).map(|m| del_msg(m, AF_INET)));
            }
            if v6 {
                let mut multiple = false;
                dels.extend(ip.k.inet6_dump_fib().iter().filter(|m| f.keep(*m, AF_INET6, &mut multiple, true)).map(|m| del_msg(m, AF_INET6)));
            }
            if dels.is_empty() {
                return Ok(());
            }
            for m in dels {
                if let Err(e) = ip.k.rtm_delroute(&m) {
                    let t = format!("Failed to send flush request: {}\n", e.message());
                    return Err(ip.fail(&t, 1));
                }
            }
        }
        let t = String::from("\n*** Flush not completed, entries remain ***\n");
        return Err(ip.fail(&t, 1));
    }
    if f.cloned {
        return Ok(());
    }
    let devs = ip.k.net().dev_names();
    let mut out = String::new();
    if v4 {
        let mut multiple = false;
        for m in ip.k.inet_dump_fib() {
            if f.keep(&m, AF_INET, &mut multiple, false) {
                out.push_str(&print_route(&m, f.tb, &devs));
            }
        }
    }
    if v6 {
        let mut multiple = false;
        for m in ip.k.inet6_dump_fib() {
            if f.keep(&m, AF_INET6, &mut multiple, false) {
                out.push_str(&print_route(&m, f.tb, &devs));
            }
        }
    }
    ip.say(&out);
    Ok(())
}

