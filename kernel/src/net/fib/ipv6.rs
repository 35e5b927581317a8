//! IPv6 semantics: `ip6_route_info_create` and `ip6_route_del` (net/ipv6/route.c),
//! `fib6_add_rt2node` (ip6_fib.c), `ip6_pol_route` with `rt6_select` / `find_rr_leaf` /
//! `rt6_score_route`, and `fib6_rule_lookup` / `fib6_rule_action` (fib6_rules.c).
//!
//! Every table's root holds `ip6_null_entry` (`unreachable default dev lo metric
//! 4294967295 error -101`) behind any default routes: it is what a failed lookup returns,
//! it shows up in `ip -6 route show table all`, and adding a default route with metric
//! 4294967295 under `NLM_F_EXCL` collides with it.

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use super::rules::rules_lookup;
use super::{mask_addr, Fib, FibError, FibResult, Flow, NlFlags, Route, RouteSpec, RouteType};
use super::{RuleAction, IP6_RT_PRIO_USER, LOOPBACK_IFINDEX, RTNH_F_DEAD, RTPROT_BOOT};
use super::{
    RTPROT_KERNEL, RTPROT_RA, RTPROT_REDIRECT, RTPROT_UNSPEC, RT_SCOPE_UNIVERSE, RT_TABLE_LOCAL,
};
use super::{RT_TABLE_MAIN, RT_TABLE_UNSPEC};
use crate::uapi::Errno;

type R6 = Route<Ipv6Addr>;

/// The null entry's metric (`~(u32)0`).
const NULL_METRIC: u32 = u32::MAX;

/// `rt6_qualify_for_ecmp`: a gateway route not made by addrconf or a redirect (k43 keeps
/// no `RTF_ADDRCONF`/`RTF_DYNAMIC` flags; protocol kernel/ra/redirect stands for them).
fn ecmp(r: &R6) -> bool {
    r.gateway.is_some()
        && r.error.is_none()
        && !matches!(r.protocol, RTPROT_KERNEL | RTPROT_RA | RTPROT_REDIRECT)
}

/// `rt6_need_strict`: multicast, link-local and loopback destinations need the device.
fn need_strict(a: &Ipv6Addr) -> bool {
    a.is_multicast() || a.is_unicast_link_local() || a.is_loopback()
}

/// The `dst.error` of a reject route (`ip6_route_info_create`'s switch).
fn reject_error(t: RouteType) -> Errno {
    match t {
        RouteType::Blackhole => Errno::EINVAL,
        RouteType::Prohibit => Errno::EACCES,
        RouteType::Throw => Errno::EAGAIN,
        RouteType::Unreachable => Errno::EHOSTUNREACH,
        _ => Errno::ENETUNREACH,
    }
}

/// What a rule's action leaves in `arg->result`.
#[derive(Clone, Copy)]
enum Dst6<'a> {
    Route(&'a R6, u32),
    /// `ip6_null_entry` (`ENETUNREACH`), `ip6_prohibit_entry` (`EACCES`),
    /// `ip6_blk_hole_entry` (`EINVAL`).
    Special(Errno),
}

/// `rt6_score_route` without neighbour reachability: device match (2 on `oif` or when
/// there is no `oif`, 1 for `lo` standing for `oif`, 0 otherwise; 0 fails a strict
/// lookup) with the router preference above it.
fn score(r: &R6, oif: u32, strict: bool) -> Option<i32> {
    let m = if oif == 0 || r.oif == oif {
        2
    } else if r.oif == LOOPBACK_IFINDEX && r.idev == oif {
        1
    } else {
        0
    };
    if m == 0 && strict {
        return None;
    }
    Some(m | (r.pref.decode() << 2))
}

/// `rt6_select` / `find_rr_leaf`: the best-scoring route among those of the lowest
/// metric (first wins a tie); only if none qualifies, the best of all the others.
fn select(routes: &[R6], oif: u32, strict: bool) -> Option<&R6> {
    let metric = routes.first()?.priority;
    let split = routes.iter().position(|r| r.priority != metric).unwrap_or(routes.len());
    let best = |rs: &'_ [R6]| -> Option<usize> {
        let mut best: Option<(usize, i32)> = None;
        for (i, r) in rs.iter().enumerate() {
            if r.flags & RTNH_F_DEAD != 0 {
                continue;
            }
            if let Some(m) = score(r, oif, strict) {
                if best.is_none_or(|(_, bm)| m > bm) {
                    best = Some((i, m));
                }
            }
        }
        best.map(|b| b.0)
    };
    let (head, rest) = routes.split_at(split);
    match best(head) {
        Some(i) => head.get(i),
        None => best(rest).and_then(|i| rest.get(i)),
    }
}

/// The list walk of `fib6_add_rt2node` on the routes of one prefix (metric ascending):
/// `(Some(i), _)` replaces route `i`, `(None, at)` inserts at `at`.
fn plan_insert(node: &[R6], rt: &R6, nl: NlFlags) -> Result<(Option<usize>, usize), Errno> {
    let mut ins = 0;
    let mut found = None;
    let mut fallback = None;
    for (i, it) in node.iter().enumerate() {
        if it.priority == rt.priority {
            if nl.excl() {
                return Err(Errno::EEXIST);
            }
            if nl.replace() {
                if ecmp(rt) == ecmp(it) {
                    found = Some(i);
                    ins = i;
                    break;
                }
                if ecmp(rt) && fallback.is_none() {
                    fallback = Some(i);
                }
                ins = i + 1;
                continue;
            }
            if it.oif == rt.oif && it.idev == rt.idev && it.gateway == rt.gateway {
                return Err(Errno::EEXIST);
            }
        }
        if it.priority > rt.priority {
            ins = i;
            break;
        }
        ins = i + 1;
    }
    // The root's list ends with ip6_null_entry (lo, no gateway, metric ~0).
    if rt.dst_len == 0 && rt.priority == NULL_METRIC && found.is_none() {
        let alike =
            rt.oif == LOOPBACK_IFINDEX && rt.idev == LOOPBACK_IFINDEX && rt.gateway.is_none();
        if nl.excl() || (!nl.replace() && alike) {
            return Err(Errno::EEXIST);
        }
    }
    if found.is_none() {
        if let Some(f) = fallback {
            found = Some(f);
            ins = f;
        }
    }
    if nl.replace() && found.is_none() && !nl.create() {
        return Err(Errno::ENOENT);
    }
    Ok((if nl.replace() { found } else { None }, ins))
}

impl Fib<Ipv6Addr> {
    /// A namespace's IPv6 FIB: tables main and local, rules 0 (local) and 32766 (main).
    pub fn new() -> Self {
        let mut f = Self::empty();
        f.new_table(RT_TABLE_MAIN);
        f.new_table(RT_TABLE_LOCAL);
        f.default_rules();
        f
    }

    /// [`add_with`](Self::add_with) with no device checks.
    pub fn add(&mut self, table: u32, route: R6, nl: NlFlags) -> Result<(), Errno> {
        self.add_with(table, route, nl, |_, _| Ok(()))
    }

    /// `RTM_NEWROUTE` for IPv6 (`ip6_route_add`).
    ///
    /// `resolve_nh` runs right after the prefix-length check, where
    /// `ip6_route_info_create` touches devices: the device must exist (`ENODEV`); unless
    /// the route is a reject type, a gateway must not be local and must be link-local or
    /// reachable through a non-gateway route (`EINVAL`, `EHOSTUNREACH`), may supply the
    /// device, and a preferred source must be an address of the device (`EINVAL`).
    ///
    /// Then, as Linux: metric 0 becomes 1024 and protocol 0 boot; the table is created
    /// (0 means main); host bits are cleared (no error, unlike IPv4); reject types
    /// (unreachable → `EHOSTUNREACH`, prohibit → `EACCES`, blackhole → `EINVAL`, throw →
    /// `EAGAIN`) and ordinary routes via `lo` to anything but `::1` become reject routes on
    /// `lo` (the latter with `ENETUNREACH`); other routes without a device → `ENODEV`;
    /// other types than local become unicast. Insertion ([`insert_raw`](Self::insert_raw))
    /// can answer `EEXIST` or `ENOENT`.
    ///
    /// Errors: prefix longer than 128 → `EINVAL`; the hook's; `ENODEV`; `EEXIST`; `ENOENT`.
    pub fn add_with<F>(
        &mut self,
        table: u32,
        mut cfg: R6,
        nl: NlFlags,
        resolve_nh: F,
    ) -> Result<(), Errno>
    where
        F: FnOnce(&Self, &mut R6) -> Result<(), Errno>,
    {
        if cfg.dst_len > 128 {
            return Err(Errno::EINVAL);
        }
        resolve_nh(self, &mut cfg)?;
        if cfg.priority == 0 {
            cfg.priority = IP6_RT_PRIO_USER;
        }
        if cfg.protocol == RTPROT_UNSPEC {
            cfg.protocol = RTPROT_BOOT;
        }
        // The table exists from here on, even if the route is then refused.
        self.new_table(table);
        let promote =
            cfg.oif == LOOPBACK_IFINDEX && !cfg.dst.is_loopback() && cfg.rtype != RouteType::Local;
        if cfg.rtype.is_v6_reject() || promote {
            cfg.error = Some(reject_error(cfg.rtype));
            if !cfg.rtype.is_v6_reject() {
                cfg.rtype = RouteType::Unreachable;
            }
            cfg.oif = LOOPBACK_IFINDEX;
            cfg.idev = LOOPBACK_IFINDEX;
            cfg.gateway = None;
            cfg.prefsrc = None;
        } else {
            if cfg.oif == 0 {
                return Err(Errno::ENODEV);
            }
            if cfg.rtype != RouteType::Local {
                cfg.rtype = RouteType::Unicast;
            }
            cfg.error = None;
        }
        self.insert_raw(table, cfg, nl)
    }

    /// `fib6_add` alone, without `ip6_route_info_create`'s defaults and checks: for routes
    /// the kernel builds itself (`addrconf_dst_alloc`'s local routes: `dev lo`, metric 0,
    /// protocol 0, `idev` the address's interface). Reject types get their error.
    ///
    /// `fib6_add_rt2node`: the route goes after the routes of lower or equal metric. At an
    /// equal metric: with `NLM_F_EXCL` → `EEXIST`; with `NLM_F_REPLACE` it replaces the
    /// first one alike in ECMP-ness (or, for an ECMP route, the first one at all); otherwise
    /// one with the same device, `idev` and gateway → `EEXIST`. Replace with nothing to
    /// replace: inserted with `NLM_F_CREATE`, else `ENOENT`.
    pub fn insert_raw(&mut self, table: u32, mut rt: R6, nl: NlFlags) -> Result<(), Errno> {
        if rt.dst_len > 128 {
            return Err(Errno::EINVAL);
        }
        let key = mask_addr(rt.dst, rt.dst_len);
        rt.dst = Ipv6Addr::from(key);
        rt.scope = RT_SCOPE_UNIVERSE;
        rt.tos = 0;
        if rt.idev == 0 {
            rt.idev = rt.oif;
        }
        if rt.rtype.is_v6_reject() && rt.error.is_none() {
            rt.error = Some(reject_error(rt.rtype));
        }
        let tid = if table == RT_TABLE_UNSPEC { RT_TABLE_MAIN } else { table };
        self.new_table(tid);
        let (found, ins) = {
            let node = self.get_table(tid).and_then(|t| t.node(key, rt.dst_len));
            plan_insert(node.map_or(&[][..], Vec::as_slice), &rt, nl)?
        };
        let node = self.new_table(tid).node_entry(key, rt.dst_len);
        match found {
            Some(i) => {
                if let Some(slot) = node.get_mut(i) {
                    *slot = rt;
                }
            }
            None => node.insert(ins.min(node.len()), rt),
        }
        Ok(())
    }

    /// `RTM_DELROUTE` for IPv6 (`ip6_route_del`): removes and returns the first route of
    /// exactly this prefix (host bits ignored) with the given device, gateway and metric
    /// (each optional). Errors: no such table, no such prefix or no match → `ESRCH`.
    pub fn delete(&mut self, table: u32, spec: &RouteSpec<Ipv6Addr>) -> Result<R6, Errno> {
        let t = self.get_table(table).ok_or(Errno::ESRCH)?;
        let tid = t.id;
        if spec.dst_len > 128 {
            return Err(Errno::ESRCH);
        }
        let key = mask_addr(spec.dst, spec.dst_len);
        let node = t.node(key, spec.dst_len).ok_or(Errno::ESRCH)?;
        let idx = node
            .iter()
            .position(|r| {
                spec.oif.filter(|&o| o != 0).is_none_or(|o| o == r.oif)
                    && spec.gateway.is_none_or(|g| g == r.gateway.unwrap_or(Ipv6Addr::UNSPECIFIED))
                    && spec.priority.filter(|&m| m != 0).is_none_or(|m| m == r.priority)
            })
            .ok_or(Errno::ESRCH)?;
        self.new_table(tid).remove(key, spec.dst_len, idx).ok_or(Errno::ESRCH)
    }

    /// `ip6_pol_route` in one table: the longest prefix with a route that `rt6_select`
    /// accepts, backtracking to shorter prefixes (`fib6_backtrack`).
    fn pol_route(&self, tid: u32, fl: &Flow<Ipv6Addr>) -> Option<&R6> {
        let t = self.get_table(tid)?;
        let oif = if fl.skip_nh_oif {
            0
        } else if fl.input {
            fl.iif
        } else {
            fl.oif
        };
        let strict = need_strict(&fl.daddr)
            || (!fl.input && (fl.strict || (fl.oif != 0 && fl.saddr.is_unspecified())));
        t.covering(fl.daddr).find_map(|(_, routes)| select(routes, oif, strict))
    }

    /// `ip6_pol_route` on one table (0 means main): the route, its error if it is a reject
    /// route, or the null entry's `ENETUNREACH`.
    pub fn table_lookup(
        &self,
        table: u32,
        fl: &Flow<Ipv6Addr>,
    ) -> Result<FibResult<'_, Ipv6Addr>, FibError<'_, Ipv6Addr>> {
        let tid = if table == RT_TABLE_UNSPEC { RT_TABLE_MAIN } else { table };
        match self.pol_route(tid, fl) {
            None => Err(FibError::bare(Errno::ENETUNREACH)),
            Some(r) => match r.error {
                None => Ok(FibResult { route: r, table: tid, rule: None }),
                Some(errno) => Err(FibError { errno, route: Some(r), table: tid, rule: None }),
            },
        }
    }

    /// `fib6_rule_lookup`: the rules decide; a table miss or a throw route goes on to the
    /// next rule (`fib6_rule_action` returns the route's error, `EAGAIN` for throw); what
    /// the last action left stands, a throw route or nothing becoming the null entry.
    /// Errors: `ENETUNREACH` (no route, `unreachable` rule), `EHOSTUNREACH`
    /// (`unreachable` route), `EACCES` (`prohibit`), `EINVAL` (`blackhole`).
    pub fn lookup(
        &self,
        fl: &Flow<Ipv6Addr>,
    ) -> Result<FibResult<'_, Ipv6Addr>, FibError<'_, Ipv6Addr>> {
        // RT6_LOOKUP_F_HAS_SADDR: input lookups always, output ones with a source.
        let has_saddr = fl.input || !fl.saddr.is_unspecified();
        let mut last: Option<Dst6<'_>> = None;
        let mut last_pref = None;
        let _ = rules_lookup(
            self,
            fl,
            has_saddr,
            |rule| {
                last_pref = Some(rule.pref);
                match rule.action {
                    RuleAction::ToTable => match self.pol_route(rule.table, fl) {
                        None => {
                            last = None;
                            Err(Errno::EAGAIN)
                        }
                        Some(r) => {
                            last = Some(Dst6::Route(r, rule.table));
                            r.error.map_or(Ok(r.dst_len), Err)
                        }
                    },
                    RuleAction::Unreachable => {
                        last = Some(Dst6::Special(Errno::ENETUNREACH));
                        Err(Errno::ENETUNREACH)
                    }
                    RuleAction::Prohibit => {
                        last = Some(Dst6::Special(Errno::EACCES));
                        Err(Errno::EACCES)
                    }
                    _ => {
                        last = Some(Dst6::Special(Errno::EINVAL));
                        Err(Errno::EINVAL)
                    }
                }
            },
            // fib6_rule_suppress; the suppressed route stays in arg->result, as in 4.3.
            |rule, &len| i32::from(len) <= rule.suppress_prefixlen,
        );
        let rule = last_pref;
        match last {
            Some(Dst6::Route(r, table)) => match r.error {
                None => Ok(FibResult { route: r, table, rule }),
                Some(e) if e == Errno::EAGAIN => Err(FibError::bare(Errno::ENETUNREACH)),
                Some(errno) => Err(FibError { errno, route: Some(r), table, rule }),
            },
            Some(Dst6::Special(errno)) => Err(FibError { errno, route: None, table: 0, rule }),
            None => Err(FibError::bare(Errno::ENETUNREACH)),
        }
    }
}

impl Default for Fib<Ipv6Addr> {
    fn default() -> Self {
        Self::new()
    }
}
