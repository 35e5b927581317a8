//! IPv4 semantics: `fib_table_insert`, `fib_table_delete`, `fib_table_lookup`
//! (net/ipv4/fib_trie.c), `fib_create_info` (fib_semantics.c), `fib_lookup` and
//! `fib4_rule_action` (include/net/ip_fib.h, fib_rules.c), `inet_addr_type_table`
//! (fib_frontend.c).
//!
//! Until the first rule is added or deleted, Linux 4.3 keeps the local table's routes in
//! main's trie (`fib_trie_table(RT_TABLE_LOCAL, main)`) and `fib_lookup` skips the rules:
//! it looks up that merged trie (local before main at equal prefix length) and, if that
//! fails in any way — a miss, a throw, but also an `unreachable` route — the default table,
//! whose answer then stands. `fib_unmerge` splits the trie when rules change; from then on
//! every lookup runs the rules. Both paths are modelled.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::rules::rules_lookup;
use super::{mask_addr, Fib, FibError, FibResult, Flow, NlFlags, Route, RouteSpec, RouteType};
use super::{RuleAction, RTNH_F_DEAD, RT_SCOPE_HOST, RT_SCOPE_NOWHERE, RT_TABLE_DEFAULT};
use super::{RT_TABLE_LOCAL, RT_TABLE_MAIN, RT_TABLE_UNSPEC};
use crate::uapi::Errno;

type R4 = Route<Ipv4Addr>;

/// Where `fib_table_insert` puts a new alias.
enum Plan {
    Insert(usize),
    Replace(usize),
    Noop,
}

/// The alias-list part of `fib_table_insert`, on the routes of one prefix of one table
/// (ordered TOS descending, priority ascending, as `fib_find_alias` keeps them).
fn plan_insert(aliases: &[R4], new: &R4, nl: NlFlags) -> Result<Plan, Errno> {
    let (tos, prio) = (new.tos, new.priority);
    // fib_find_alias: the first alias of lower TOS, or of equal TOS and priority >= prio.
    let fa = aliases.iter().position(|a| a.tos <= tos && (a.priority >= prio || a.tos < tos));
    let mut at = fa.unwrap_or(aliases.len());
    if let Some(first) =
        fa.filter(|&i| aliases.get(i).is_some_and(|a| a.tos == tos && a.priority == prio))
    {
        if nl.excl() {
            return Err(Errno::EEXIST);
        }
        let mut fa_match = None;
        let mut end = aliases.len();
        for (j, b) in aliases.iter().enumerate().skip(first) {
            if b.tos != tos || b.priority != prio {
                end = j;
                break;
            }
            if b.same_info(new) {
                fa_match = Some(j);
                end = j;
                break;
            }
        }
        if nl.replace() {
            return match fa_match {
                Some(m) if m == first => Ok(Plan::Noop),
                Some(_) => Err(Errno::EEXIST),
                None => Ok(Plan::Replace(first)),
            };
        }
        // A perfect duplicate (same type, scope, next hop…) is refused even on append.
        if fa_match.is_some() {
            return Err(Errno::EEXIST);
        }
        at = if nl.append() { end } else { first };
    }
    if !nl.create() {
        return Err(Errno::ENOENT);
    }
    Ok(Plan::Insert(at))
}

impl Fib<Ipv4Addr> {
    /// A namespace's IPv4 FIB: tables main and local, rules 0 (local), 32766 (main) and
    /// 32767 (default).
    pub fn new() -> Self {
        let mut f = Self::empty();
        // fib_new_table(LOCAL) creates main first, as local's alias.
        f.new_table(RT_TABLE_MAIN);
        f.new_table(RT_TABLE_LOCAL);
        f.default_rules();
        f
    }

    /// [`add_with`](Self::add_with) with no next-hop resolution: the route's device and
    /// gateway are taken as valid.
    pub fn add(&mut self, table: u32, route: R4, nl: NlFlags) -> Result<(), Errno> {
        self.add_with(table, route, nl, |_, _| Ok(()))
    }

    /// `RTM_NEWROUTE` for IPv4 (`inet_rtm_newroute` → `fib_table_insert`): creates the table
    /// (0 means main) and inserts the route.
    ///
    /// `resolve_nh` runs where Linux checks the next hop, only for types that have one:
    /// for host-scope routes `dev_get_by_index` (→ `ENODEV`), otherwise `fib_check_nh`
    /// (device exists and is up, gateway reachable on-link: `ENODEV`, `ENETDOWN`,
    /// `EINVAL`, `ENETUNREACH`); it may fill in the device found for a gateway.
    ///
    /// Errors, in Linux's order: prefix longer than 32 → `EINVAL`; host bits set →
    /// `EINVAL` (`key << plen` non-zero); scope narrower than the type allows
    /// (`fib_props`) → `EINVAL`; a reject type (blackhole, unreachable, prohibit, throw,
    /// nat, xresolve) with a gateway or device → `EINVAL`; unspec → `EINVAL`; scope above
    /// host, or host scope with a gateway → `EINVAL`; the hook's error; a preferred source
    /// that is not a local address → `EINVAL`; then for an existing route of the same
    /// prefix, TOS and priority: with `NLM_F_EXCL` → `EEXIST`, an identical one (same type
    /// and everything else) → `EEXIST`; no `NLM_F_CREATE` and nothing to replace →
    /// `ENOENT`.
    pub fn add_with<F>(
        &mut self,
        table: u32,
        mut cfg: R4,
        nl: NlFlags,
        resolve_nh: F,
    ) -> Result<(), Errno>
    where
        F: FnOnce(&Self, &mut R4) -> Result<(), Errno>,
    {
        let tid = if table == RT_TABLE_UNSPEC { RT_TABLE_MAIN } else { table };
        // inet_rtm_newroute creates the table before fib_table_insert can fail.
        self.new_table(tid);
        if cfg.dst_len > 32 {
            return Err(Errno::EINVAL);
        }
        if mask_addr(cfg.dst, cfg.dst_len) != super::FibAddr::to_bits(cfg.dst) {
            return Err(Errno::EINVAL);
        }
        // An all-zero gateway or source attribute means none (nh_gw == 0).
        cfg.gateway = cfg.gateway.filter(|g| !g.is_unspecified());
        cfg.prefsrc = cfg.prefsrc.filter(|s| !s.is_unspecified());
        let (error, min_scope) = cfg.rtype.fib_props();
        if min_scope > cfg.scope {
            return Err(Errno::EINVAL);
        }
        if error.is_some() {
            if cfg.gateway.is_some() || cfg.oif != 0 {
                return Err(Errno::EINVAL);
            }
        } else {
            if !matches!(
                cfg.rtype,
                RouteType::Unicast
                    | RouteType::Local
                    | RouteType::Broadcast
                    | RouteType::Anycast
                    | RouteType::Multicast
            ) {
                return Err(Errno::EINVAL);
            }
            if cfg.scope > RT_SCOPE_HOST || (cfg.scope == RT_SCOPE_HOST && cfg.gateway.is_some()) {
                return Err(Errno::EINVAL);
            }
            resolve_nh(self, &mut cfg)?;
            if let Some(src) = cfg.prefsrc {
                if !self.valid_prefsrc(&cfg, src, tid) {
                    return Err(Errno::EINVAL);
                }
            }
        }
        cfg.error = error;
        cfg.idev = cfg.oif;
        let key = mask_addr(cfg.dst, cfg.dst_len);
        let plan = {
            let aliases = self.get_table(tid).and_then(|t| t.node(key, cfg.dst_len));
            plan_insert(aliases.map_or(&[][..], Vec::as_slice), &cfg, nl)?
        };
        let node = self.new_table(tid).node_entry(key, cfg.dst_len);
        match plan {
            Plan::Noop => {}
            Plan::Insert(at) => node.insert(at.min(node.len()), cfg),
            Plan::Replace(at) => {
                if let Some(slot) = node.get_mut(at) {
                    *slot = cfg;
                }
            }
        }
        Ok(())
    }

    /// `fib_valid_prefsrc`: a source must be local in the route's table (main's routes ask
    /// local) or in local, unless it is a local route's own address.
    fn valid_prefsrc(&self, cfg: &R4, src: Ipv4Addr, tid: u32) -> bool {
        if cfg.rtype == RouteType::Local && !cfg.dst.is_unspecified() && src == cfg.dst {
            return true;
        }
        let tb = if tid == RT_TABLE_MAIN { RT_TABLE_LOCAL } else { tid };
        let mut rc = self.addr_type_table(src, tb);
        if rc != RouteType::Local && tb != RT_TABLE_LOCAL {
            rc = self.addr_type_table(src, RT_TABLE_LOCAL);
        }
        rc == RouteType::Local
    }

    /// `RTM_DELROUTE` for IPv4 (`inet_rtm_delroute` → `fib_table_delete`): removes and
    /// returns the first route of exactly this prefix and TOS that the selector matches.
    /// Errors: no such table → `ESRCH`; prefix longer than 32 or host bits set → `EINVAL`;
    /// nothing matches → `ESRCH`.
    pub fn delete(&mut self, table: u32, spec: &RouteSpec<Ipv4Addr>) -> Result<R4, Errno> {
        let t = self.get_table(table).ok_or(Errno::ESRCH)?;
        let tid = t.id;
        if spec.dst_len > 32 {
            return Err(Errno::EINVAL);
        }
        let key = mask_addr(spec.dst, spec.dst_len);
        if key != super::FibAddr::to_bits(spec.dst) {
            return Err(Errno::EINVAL);
        }
        let aliases = t.node(key, spec.dst_len).ok_or(Errno::ESRCH)?;
        // fib_find_alias(…, tos, 0): the first alias whose TOS is not above ours; the walk
        // then stays within exactly our TOS.
        let start = aliases.iter().position(|a| a.tos <= spec.tos).ok_or(Errno::ESRCH)?;
        let wild = |v: Option<u8>| v.filter(|&x| x != 0);
        let hit = aliases
            .iter()
            .enumerate()
            .skip(start)
            .take_while(|(_, a)| a.tos == spec.tos)
            .find(|(_, a)| {
                spec.rtype.filter(|&t| t != RouteType::Unspec).is_none_or(|t| t == a.rtype)
                    && spec.scope.filter(|&s| s != RT_SCOPE_NOWHERE).is_none_or(|s| s == a.scope)
                    && spec
                        .prefsrc
                        .filter(|s| !s.is_unspecified())
                        .is_none_or(|s| Some(s) == a.prefsrc)
                    && wild(spec.protocol).is_none_or(|p| p == a.protocol)
                    && nh_match(spec, a)
            });
        let idx = hit.map(|(i, _)| i).ok_or(Errno::ESRCH)?;
        self.new_table(tid).remove(key, spec.dst_len, idx).ok_or(Errno::ESRCH)
    }

    /// The tables a lookup in `tid` really searches: before `fib_unmerge`, main and local
    /// are one trie (local's aliases first at equal prefix length).
    fn view(&self, tid: u32) -> Vec<&super::Table<Ipv4Addr>> {
        let ids: &[u32] = if !self.custom_rules && (tid == RT_TABLE_MAIN || tid == RT_TABLE_LOCAL) {
            &[RT_TABLE_LOCAL, RT_TABLE_MAIN]
        } else {
            core::slice::from_ref(&tid)
        };
        ids.iter().filter_map(|&id| self.get_table(id)).collect()
    }

    /// `fib_table_lookup` semantics in one table: the longest prefix first, then the list
    /// order (TOS descending, priority ascending); an alias is skipped for a TOS mismatch,
    /// a scope narrower than the flow's, a dead next hop or another `oif` (unless
    /// `skip_nh_oif`); a reject type ends the lookup with its error even before the `oif`
    /// test. A miss (or no such table) is `EAGAIN`.
    fn trie_lookup(&self, tid: u32, fl: &Flow<Ipv4Addr>) -> Result<&R4, (Errno, Option<&R4>)> {
        let view = self.view(tid);
        let mut lens: Vec<u8> = view.iter().flat_map(|t| t.lens_desc()).collect();
        lens.sort_unstable_by(|a, b| b.cmp(a));
        lens.dedup();
        for len in lens {
            let key = mask_addr(fl.daddr, len);
            for r in view.iter().filter_map(|t| t.node(key, len)).flatten() {
                if (r.tos != 0 && r.tos != fl.tos) || r.scope < fl.scope {
                    continue;
                }
                if let Some(e) = r.error {
                    return Err((e, Some(r)));
                }
                if r.flags & RTNH_F_DEAD != 0 {
                    continue;
                }
                if !fl.skip_nh_oif && fl.oif != 0 && fl.oif != r.oif {
                    continue;
                }
                return Ok(r);
            }
        }
        Err((Errno::EAGAIN, None))
    }

    /// `fib_table_lookup` on one table (0 means main): `EAGAIN` on a miss or a throw route,
    /// a reject route's error, or the route.
    pub fn table_lookup(
        &self,
        table: u32,
        fl: &Flow<Ipv4Addr>,
    ) -> Result<FibResult<'_, Ipv4Addr>, FibError<'_, Ipv4Addr>> {
        let tid = if table == RT_TABLE_UNSPEC { RT_TABLE_MAIN } else { table };
        match self.trie_lookup(tid, fl) {
            Ok(route) => Ok(FibResult { route, table: tid, rule: None }),
            Err((errno, route)) => {
                Err(FibError { errno, route, table: route.map_or(0, |_| tid), rule: None })
            }
        }
    }

    /// `fib_lookup`: the route for a flow, or `ENETUNREACH` (no route, or an
    /// `unreachable` rule), `EHOSTUNREACH` (`unreachable` route), `EACCES` (`prohibit`
    /// route or rule), `EINVAL` (`blackhole` route or rule).
    pub fn lookup(
        &self,
        fl: &Flow<Ipv4Addr>,
    ) -> Result<FibResult<'_, Ipv4Addr>, FibError<'_, Ipv4Addr>> {
        if !self.custom_rules {
            // The inline fib_lookup of include/net/ip_fib.h.
            let mut res = self.table_lookup(RT_TABLE_MAIN, fl);
            if res.is_err() && self.table_exists(RT_TABLE_DEFAULT) {
                res = self.table_lookup(RT_TABLE_DEFAULT, fl);
            }
            return res.map_err(eagain_unreach);
        }
        let mut failed: Option<(&R4, u32)> = None;
        let walk = rules_lookup(
            self,
            fl,
            true,
            |rule| {
                failed = None;
                match rule.action {
                    RuleAction::ToTable => match self.trie_lookup(rule.table, fl) {
                        Ok(r) => Ok((r, rule.table)),
                        Err((e, r)) => {
                            failed = r.map(|r| (r, rule.table));
                            Err(e)
                        }
                    },
                    RuleAction::Unreachable => Err(Errno::ENETUNREACH),
                    RuleAction::Prohibit => Err(Errno::EACCES),
                    _ => Err(Errno::EINVAL),
                }
            },
            // fib4_rule_suppress: results not longer than suppress_prefixlength go on.
            |rule, (r, _)| i32::from(r.dst_len) <= rule.suppress_prefixlen,
        );
        match walk {
            Ok(((route, table), pref)) => Ok(FibResult { route, table, rule: Some(pref) }),
            // __fib_lookup: no rule decided.
            Err((e, _)) if e == Errno::ESRCH => Err(FibError::bare(Errno::ENETUNREACH)),
            Err((errno, rule)) => Err(FibError {
                errno,
                route: failed.map(|f| f.0),
                table: failed.map_or(0, |f| f.1),
                rule,
            }),
        }
    }

    /// `inet_addr_type`: what `addr` is to this host, by the local table.
    pub fn addr_type(&self, addr: Ipv4Addr) -> RouteType {
        self.addr_type_table(addr, RT_TABLE_LOCAL)
    }

    /// `inet_addr_type_table` (`__inet_dev_addr_type` without a device): 0.0.0.0/8 and
    /// 255.255.255.255 are broadcast, 224/4 multicast; otherwise the type of the route
    /// `addr` finds in the table, unicast if none, broadcast if the table does not exist.
    pub fn addr_type_table(&self, addr: Ipv4Addr, table: u32) -> RouteType {
        if addr.octets()[0] == 0 || addr.is_broadcast() {
            return RouteType::Broadcast;
        }
        if addr.is_multicast() {
            return RouteType::Multicast;
        }
        let tid = if table == RT_TABLE_UNSPEC { RT_TABLE_MAIN } else { table };
        if !self.table_exists(tid) {
            return RouteType::Broadcast;
        }
        match self.trie_lookup(tid, &Flow::output(addr)) {
            Ok(r) => r.rtype,
            Err(_) => RouteType::Unicast,
        }
    }
}

impl Default for Fib<Ipv4Addr> {
    fn default() -> Self {
        Self::new()
    }
}

/// `fib_lookup`'s last step: a lookup that found nothing is `ENETUNREACH`.
fn eagain_unreach(e: FibError<'_, Ipv4Addr>) -> FibError<'_, Ipv4Addr> {
    if e.errno == Errno::EAGAIN {
        FibError::bare(Errno::ENETUNREACH)
    } else {
        e
    }
}

/// `fib_nh_match`: priority if given; device and gateway if either is given (and then the
/// encap too, `fib_encap_match`).
fn nh_match(spec: &RouteSpec<Ipv4Addr>, a: &R4) -> bool {
    if spec.priority.is_some_and(|p| p != 0 && p != a.priority) {
        return false;
    }
    let oif = spec.oif.filter(|&o| o != 0);
    let gw = spec.gateway.filter(|g| !g.is_unspecified());
    if oif.is_none() && gw.is_none() {
        return true;
    }
    if spec.encap.is_some() && spec.encap != a.encap {
        return false;
    }
    oif.is_none_or(|o| o == a.oif) && gw.is_none_or(|g| Some(g) == a.gateway)
}
