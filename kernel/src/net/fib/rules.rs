//! Policy routing rules (`ip rule`): `net/core/fib_rules.c` with the family parts of
//! `net/ipv4/fib_rules.c` and `net/ipv6/fib6_rules.c`.
//!
//! VRF in 4.3 has no rule type of its own: the `l3mdev` rule (and the automatic rule it
//! comes with) arrived in 4.8. A 4.3 VRF is steered by ordinary `oif vrf-blue table 10` and
//! `iif vrf-blue table 10` rules that the administrator adds (net-vrf.md §5), matched here
//! against the flow's `oif`/`iif` like any other, plus `FLOWI_FLAG_SKIP_NH_OIF`
//! ([`super::Flow::skip_nh_oif`]) so that a next hop on a slave satisfies a lookup with the
//! VRF as `oif`. The kernel installs no rules for a VRF, and neither does this module.

use alloc::string::String;
use alloc::vec::Vec;

use super::{prefix_match, Fib, FibAddr, Flow, NetDevs, RT_TABLE_DEFAULT, RT_TABLE_LOCAL};
use super::{RT_TABLE_MAIN, RT_TABLE_UNSPEC};
use crate::uapi::Errno;

/// `IFNAMSIZ` − 1: rule interface names are truncated to this (`nla_strlcpy`).
const IFNAME_MAX: usize = 15;
/// `IPTOS_TOS_MASK`: the only TOS bits an IPv4 rule may select on.
const IPTOS_TOS_MASK: u8 = 0x1e;

/// A rule's action, `FR_ACT_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleAction {
    /// `FR_ACT_UNSPEC` (0): as a delete selector, any action; looked up, it drops like
    /// blackhole.
    Unspec,
    /// `FR_ACT_TO_TBL` (1): look up the rule's table.
    ToTable,
    /// `FR_ACT_GOTO` (2): continue at the rule with the target preference.
    Goto,
    /// `FR_ACT_NOP` (3): nothing.
    Nop,
    /// `FR_ACT_BLACKHOLE` (6): drop (`EINVAL`).
    Blackhole,
    /// `FR_ACT_UNREACHABLE` (7): `ENETUNREACH`.
    Unreachable,
    /// `FR_ACT_PROHIBIT` (8): `EACCES`.
    Prohibit,
    /// Any other number: the kernel stores it and drops like blackhole.
    Other(u8),
}

impl RuleAction {
    /// The action with this `FR_ACT_*` number.
    pub const fn from_u8(n: u8) -> RuleAction {
        match n {
            0 => RuleAction::Unspec,
            1 => RuleAction::ToTable,
            2 => RuleAction::Goto,
            3 => RuleAction::Nop,
            6 => RuleAction::Blackhole,
            7 => RuleAction::Unreachable,
            8 => RuleAction::Prohibit,
            n => RuleAction::Other(n),
        }
    }
    /// The `FR_ACT_*` number.
    pub const fn to_u8(self) -> u8 {
        match self {
            RuleAction::Unspec => 0,
            RuleAction::ToTable => 1,
            RuleAction::Goto => 2,
            RuleAction::Nop => 3,
            RuleAction::Blackhole => 6,
            RuleAction::Unreachable => 7,
            RuleAction::Prohibit => 8,
            RuleAction::Other(n) => n,
        }
    }
}

/// A rule's `iif`/`oif` selector: the name as given and the device's index while a device
/// of that name exists (`None` is Linux's −1, `[detached]`, which never matches).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfName {
    /// Interface name (at most 15 bytes).
    pub name: String,
    /// Index of the device with that name, if any.
    pub ifindex: Option<u32>,
}

/// One policy rule (`struct fib_rule` + `fib4_rule` / `fib6_rule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule<A: FibAddr> {
    /// Preference; rules run in ascending order.
    pub pref: u32,
    /// Action.
    pub action: RuleAction,
    /// Table for [`RuleAction::ToTable`] (printed whenever non-zero).
    pub table: u32,
    /// Goto target preference (0 for none).
    pub target: u32,
    /// `FIB_RULE_INVERT` (`not`).
    pub invert: bool,
    /// Source selector (host bits kept as given, masked when matching).
    pub src: A,
    /// Source prefix length, 0 for `from all`.
    pub src_len: u8,
    /// Destination selector.
    pub dst: A,
    /// Destination prefix length, 0 for none.
    pub dst_len: u8,
    /// IPv4 TOS / IPv6 traffic class, 0 for any.
    pub tos: u8,
    /// Firewall mark.
    pub mark: u32,
    /// Firewall mark mask (all ones when a mark was given without one).
    pub mark_mask: u32,
    /// Input interface selector.
    pub iif: Option<IfName>,
    /// Output interface selector.
    pub oif: Option<IfName>,
    /// `suppress_prefixlength`, −1 for none.
    pub suppress_prefixlen: i32,
    pub(crate) id: u64,
    /// The goto target's identity while resolved (`ctarget`).
    pub(crate) ctarget: Option<u64>,
}

impl<A: FibAddr> Rule<A> {
    /// A goto whose target rule does not exist (`FIB_RULE_UNRESOLVED`).
    pub fn is_unresolved(&self) -> bool {
        self.action == RuleAction::Goto && self.ctarget.is_none()
    }

    /// `fib_rule_match` with the family's `match`, inverted by `not`.
    fn matches(&self, fl: &Flow<A>, has_saddr: bool) -> bool {
        let dev_ok = |sel: &Option<IfName>, idx: u32| match sel {
            None => true,
            Some(s) => s.ifindex == Some(idx),
        };
        let m = dev_ok(&self.iif, fl.iif)
            && dev_ok(&self.oif, fl.oif)
            && (self.mark ^ fl.mark) & self.mark_mask == 0
            // fib6_rule_match: a source selector never matches a flow without a source.
            && (self.src_len == 0 || (has_saddr && prefix_match(fl.saddr, self.src, self.src_len)))
            && (self.dst_len == 0 || prefix_match(fl.daddr, self.dst, self.dst_len))
            && (self.tos == 0 || self.tos == fl.tos);
        m != self.invert
    }
}

/// What `ip rule add` / `ip rule del` send: for adding, `None` means "not given"; for
/// deleting, `None`, [`RuleAction::Unspec`], table 0 and zero lengths and TOS match any
/// rule (`fib_nl_delrule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec<A: FibAddr> {
    /// `pref`; an added rule without one gets `fib_default_rule_pref`'s.
    pub pref: Option<u32>,
    /// Action.
    pub action: RuleAction,
    /// Table (0 = unspecified).
    pub table: u32,
    /// `goto` target.
    pub goto: Option<u32>,
    /// `not`.
    pub invert: bool,
    /// `from PREFIX`.
    pub src: Option<(A, u8)>,
    /// `to PREFIX`.
    pub dst: Option<(A, u8)>,
    /// `tos` / `dsfield`.
    pub tos: u8,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// `fwmark …/MASK`.
    pub fwmask: Option<u32>,
    /// `iif NAME`.
    pub iif: Option<String>,
    /// `oif NAME`.
    pub oif: Option<String>,
    /// `suppress_prefixlength`.
    pub suppress_prefixlen: Option<i32>,
}

impl<A: FibAddr> RuleSpec<A> {
    /// A wildcard: matches every rule on delete; adds a rule with action 0 otherwise.
    pub fn any() -> Self {
        RuleSpec {
            pref: None,
            action: RuleAction::Unspec,
            table: RT_TABLE_UNSPEC,
            goto: None,
            invert: false,
            src: None,
            dst: None,
            tos: 0,
            fwmark: None,
            fwmask: None,
            iif: None,
            oif: None,
            suppress_prefixlen: None,
        }
    }
    /// `lookup TABLE` (iproute2 sends main when no table and no type is given).
    pub fn lookup(table: u32) -> Self {
        RuleSpec { action: RuleAction::ToTable, table, ..Self::any() }
    }
    /// A rule with this action and no table (`blackhole`, `unreachable`, `prohibit`, `nop`).
    pub fn action(action: RuleAction) -> Self {
        RuleSpec { action, ..Self::any() }
    }
    /// `goto PREF`.
    pub fn goto(target: u32) -> Self {
        RuleSpec { action: RuleAction::Goto, goto: Some(target), ..Self::any() }
    }
    /// With a preference.
    pub fn pref(mut self, p: u32) -> Self {
        self.pref = Some(p);
        self
    }
    /// With a table.
    pub fn table(mut self, t: u32) -> Self {
        self.table = t;
        self
    }
    /// With `from`.
    pub fn from(mut self, a: A, len: u8) -> Self {
        self.src = Some((a, len));
        self
    }
    /// With `to`.
    pub fn to(mut self, a: A, len: u8) -> Self {
        self.dst = Some((a, len));
        self
    }
    /// With `tos`.
    pub fn tos(mut self, t: u8) -> Self {
        self.tos = t;
        self
    }
    /// With `fwmark`.
    pub fn fwmark(mut self, m: u32) -> Self {
        self.fwmark = Some(m);
        self
    }
    /// With a mark mask.
    pub fn fwmask(mut self, m: u32) -> Self {
        self.fwmask = Some(m);
        self
    }
    /// With `iif`.
    pub fn iif(mut self, name: &str) -> Self {
        self.iif = Some(String::from(name));
        self
    }
    /// With `oif`.
    pub fn oif(mut self, name: &str) -> Self {
        self.oif = Some(String::from(name));
        self
    }
    /// With `not` (`FIB_RULE_INVERT`).
    pub fn invert(mut self) -> Self {
        self.invert = true;
        self
    }
    /// With `suppress_prefixlength`.
    pub fn suppress_prefixlength(mut self, n: i32) -> Self {
        self.suppress_prefixlen = Some(n);
        self
    }
}

/// The ordered rule list and the identities goto targets point at.
#[derive(Clone, Debug)]
pub(crate) struct RuleSet<A: FibAddr> {
    list: Vec<Rule<A>>,
    next_id: u64,
}

impl<A: FibAddr> RuleSet<A> {
    pub(crate) fn new() -> Self {
        RuleSet { list: Vec::new(), next_id: 1 }
    }
    pub(crate) fn as_slice(&self) -> &[Rule<A>] {
        &self.list
    }
    /// `fib_default_rule_add`: appended as is, at boot.
    pub(crate) fn push_default(&mut self, pref: u32, table: u32) {
        let r = self.blank(pref, RuleAction::ToTable, table);
        self.list.push(r);
    }
    fn blank(&mut self, pref: u32, action: RuleAction, table: u32) -> Rule<A> {
        let id = self.next_id;
        self.next_id += 1;
        Rule {
            pref,
            action,
            table,
            target: 0,
            invert: false,
            src: A::UNSPECIFIED,
            src_len: 0,
            dst: A::UNSPECIFIED,
            dst_len: 0,
            tos: 0,
            mark: 0,
            mark_mask: 0,
            iif: None,
            oif: None,
            suppress_prefixlen: -1,
            id,
            ctarget: None,
        }
    }
    /// `fib_default_rule_pref`: one less than the *second* rule's preference if that is
    /// non-zero, else 0. (Not "the lowest non-zero": with rule 0 deleted, a new rule lands
    /// on the second remaining rule's preference minus one.)
    fn default_pref(&self) -> u32 {
        match self.list.get(1) {
            Some(r) if r.pref != 0 => r.pref - 1,
            _ => 0,
        }
    }
    fn index_of(&self, id: u64) -> Option<usize> {
        self.list.iter().position(|r| r.id == id)
    }
}

fn ifname(name: &str, devs: &dyn NetDevs) -> IfName {
    let mut end = name.len().min(IFNAME_MAX);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let name = String::from(name.get(..end).unwrap_or(""));
    let ifindex = devs.dev_index(&name);
    IfName { name, ifindex }
}

impl<A: FibAddr> Fib<A> {
    /// The rules every namespace starts with (`fib_default_rules_init`,
    /// `fib6_rules_net_init`).
    pub(crate) fn default_rules(&mut self) {
        self.rules.push_default(0, RT_TABLE_LOCAL);
        self.rules.push_default(0x7ffe, RT_TABLE_MAIN);
        if !A::IS_V6 {
            self.rules.push_default(0x7fff, RT_TABLE_DEFAULT);
        }
    }

    /// `ip rule add` (`fib_nl_newrule` + `fib4_rule_configure` / `fib6_rule_configure`);
    /// returns the preference the rule got. Rules are not checked for duplicates (4.3 has
    /// no such check); a rule goes after every rule of lower or equal preference.
    ///
    /// Errors: a prefix longer than the address → `EINVAL`; `goto` without the goto action,
    /// the goto action without a target, or a target not after the rule → `EINVAL`; IPv4
    /// TOS outside `IPTOS_TOS_MASK` → `EINVAL`; an IPv6 lookup rule without a table →
    /// `EINVAL`. An IPv4 lookup rule without a table gets the first unused table id, created.
    pub fn add_rule(&mut self, spec: &RuleSpec<A>, devs: &dyn NetDevs) -> Result<u32, Errno> {
        let too_long = |p: &Option<(A, u8)>| p.is_some_and(|(_, l)| l > A::BITS);
        if too_long(&spec.src) || too_long(&spec.dst) {
            return Err(Errno::EINVAL);
        }
        let pref = spec.pref.unwrap_or_else(|| self.rules.default_pref());
        let mut rule = self.rules.blank(pref, spec.action, spec.table);
        rule.iif = spec.iif.as_deref().map(|n| ifname(n, devs));
        rule.oif = spec.oif.as_deref().map(|n| ifname(n, devs));
        rule.mark = spec.fwmark.unwrap_or(0);
        // Compatibility in fib_nl_newrule: a non-zero mark alone compares all bits.
        rule.mark_mask = if rule.mark != 0 { u32::MAX } else { 0 };
        if let Some(m) = spec.fwmask {
            rule.mark_mask = m;
        }
        rule.invert = spec.invert;
        rule.suppress_prefixlen = spec.suppress_prefixlen.unwrap_or(-1);
        match spec.goto {
            Some(t) => {
                // Backward jumps are refused so that lookups cannot loop.
                if spec.action != RuleAction::Goto || t <= pref {
                    return Err(Errno::EINVAL);
                }
                rule.target = t;
                rule.ctarget = self.rules.list.iter().find(|r| r.pref == t).map(|r| r.id);
            }
            None if spec.action == RuleAction::Goto => return Err(Errno::EINVAL),
            None => {}
        }
        // The family's configure().
        if A::IS_V6 {
            if spec.action == RuleAction::ToTable {
                if spec.table == RT_TABLE_UNSPEC {
                    return Err(Errno::EINVAL);
                }
                self.new_table(spec.table);
            }
        } else {
            if spec.tos & !IPTOS_TOS_MASK != 0 {
                return Err(Errno::EINVAL);
            }
            if spec.table == RT_TABLE_UNSPEC && spec.action == RuleAction::ToTable {
                // fib_empty_table: the first id from 1 with no table.
                let mut id = 1u32;
                for &t in self.tables.keys() {
                    if t != id {
                        break;
                    }
                    id = id.checked_add(1).ok_or(Errno::ENOBUFS)?;
                }
                self.new_table(id);
                rule.table = id;
            }
            self.custom_rules = true;
        }
        if let Some((a, l)) = spec.src {
            rule.src = a;
            rule.src_len = l;
        }
        if let Some((a, l)) = spec.dst {
            rule.dst = a;
            rule.dst_len = l;
        }
        rule.tos = spec.tos;
        let id = rule.id;
        let at =
            self.rules.list.iter().position(|r| r.pref > pref).unwrap_or(self.rules.list.len());
        self.rules.list.insert(at, rule);
        // Unresolved gotos aiming at this preference now point here.
        for r in self.rules.list.iter_mut() {
            if r.action == RuleAction::Goto && r.target == pref && r.ctarget.is_none() {
                r.ctarget = Some(id);
            }
        }
        Ok(pref)
    }

    /// `ip rule del` (`fib_nl_delrule`): deletes the first rule the selector matches.
    /// Errors: no such rule → `ENOENT`; a prefix longer than the address → `EINVAL`.
    /// Gotos that pointed at the deleted rule become unresolved.
    pub fn del_rule(&mut self, spec: &RuleSpec<A>) -> Result<Rule<A>, Errno> {
        let too_long = |p: &Option<(A, u8)>| p.is_some_and(|(_, l)| l > A::BITS);
        if too_long(&spec.src) || too_long(&spec.dst) {
            return Err(Errno::EINVAL);
        }
        let name_ok = |want: &Option<String>, have: &Option<IfName>| match want {
            None => true,
            Some(w) => have.as_ref().map_or("", |h| h.name.as_str()) == w.as_str(),
        };
        // fib4_rule_compare / fib6_rule_compare: lengths, then exact addresses.
        let pfx_ok = |want: &Option<(A, u8)>, a: A, l: u8| match *want {
            Some((wa, wl)) if wl != 0 => l == wl && a == wa,
            _ => true,
        };
        let idx = self.rules.list.iter().position(|r| {
            (spec.action == RuleAction::Unspec || spec.action == r.action)
                && (spec.table == RT_TABLE_UNSPEC || spec.table == r.table)
                && spec.pref.is_none_or(|p| p == r.pref)
                && name_ok(&spec.iif, &r.iif)
                && name_ok(&spec.oif, &r.oif)
                && spec.fwmark.is_none_or(|m| m == r.mark)
                && spec.fwmask.is_none_or(|m| m == r.mark_mask)
                && pfx_ok(&spec.src, r.src, r.src_len)
                && pfx_ok(&spec.dst, r.dst, r.dst_len)
                && (spec.tos == 0 || spec.tos == r.tos)
        });
        let idx = idx.ok_or(Errno::ENOENT)?;
        if !A::IS_V6 {
            self.custom_rules = true;
        }
        let rule = self.rules.list.remove(idx);
        for r in self.rules.list.iter_mut() {
            if r.ctarget == Some(rule.id) {
                r.ctarget = None;
            }
        }
        Ok(rule)
    }

    /// `NETDEV_REGISTER` for rules (`attach_rules`): detached selectors naming `name`
    /// attach to `ifindex`.
    pub fn rules_dev_register(&mut self, name: &str, ifindex: u32) {
        for r in self.rules.list.iter_mut() {
            for sel in [&mut r.iif, &mut r.oif].into_iter().flatten() {
                if sel.ifindex.is_none() && sel.name == name {
                    sel.ifindex = Some(ifindex);
                }
            }
        }
    }

    /// `NETDEV_UNREGISTER` for rules (`detach_rules`): selectors on `ifindex` detach.
    pub fn rules_dev_unregister(&mut self, ifindex: u32) {
        for r in self.rules.list.iter_mut() {
            for sel in [&mut r.iif, &mut r.oif].into_iter().flatten() {
                if sel.ifindex == Some(ifindex) {
                    sel.ifindex = None;
                }
            }
        }
    }

    /// `NETDEV_CHANGENAME` for rules: detach from the old name, attach under the new one.
    pub fn rules_dev_rename(&mut self, ifindex: u32, new_name: &str) {
        self.rules_dev_unregister(ifindex);
        self.rules_dev_register(new_name, ifindex);
    }
}

/// `fib_rules_lookup`: runs `action` for each matching rule in order, following gotos and
/// skipping nops; an `EAGAIN` from the action, or a result `suppress` rejects, moves on to
/// the next rule; anything else ends the walk with that rule's preference. No rule left →
/// `ESRCH` (with no preference).
pub(crate) fn rules_lookup<A: FibAddr, R>(
    fib: &Fib<A>,
    fl: &Flow<A>,
    has_saddr: bool,
    mut action: impl FnMut(&Rule<A>) -> Result<R, Errno>,
    mut suppress: impl FnMut(&Rule<A>, &R) -> bool,
) -> Result<(R, u32), (Errno, Option<u32>)> {
    let list = fib.rules.as_slice();
    let mut i = 0;
    // A goto only jumps forward (its target has a higher preference), so the walk ends;
    // the step bound is a belt to those braces.
    let mut steps = 0usize;
    while let Some(mut rule) = list.get(i) {
        steps += 1;
        if steps > 2 * list.len() + 2 {
            break;
        }
        // The "jumped:" label: a goto target is matched like any rule, and the walk goes
        // on after it.
        loop {
            if !rule.matches(fl, has_saddr) {
                break;
            }
            match rule.action {
                RuleAction::Goto => {
                    let target = rule.ctarget.and_then(|id| fib.rules.index_of(id));
                    match target.and_then(|t| list.get(t).map(|r| (t, r))) {
                        Some((t, r)) if t > i => {
                            i = t;
                            rule = r;
                            continue;
                        }
                        _ => break,
                    }
                }
                RuleAction::Nop => break,
                _ => match action(rule) {
                    Ok(res) if !suppress(rule, &res) => return Ok((res, rule.pref)),
                    Ok(_) => break,
                    Err(e) if e == Errno::EAGAIN => break,
                    Err(e) => return Err((e, Some(rule.pref))),
                },
            }
        }
        i += 1;
    }
    Err((Errno::ESRCH, None))
}
