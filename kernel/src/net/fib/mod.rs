//! The Forwarding Information Base of both families, as Linux 4.3 keeps it: routing tables
//! by id (`net/ipv4/fib_trie.c`, `net/ipv6/ip6_fib.c`), route semantics and errnos
//! (`net/ipv4/fib_semantics.c`, `net/ipv6/route.c`), policy rules (`net/core/fib_rules.c`,
//! `net/ipv4/fib_rules.c`, `net/ipv6/fib6_rules.c`) and iproute2 v4.3.0's text for all of
//! it (`ip/iproute.c`, `ip/iprule.c`).
//!
//! A pure data structure: no devices, no packets, no neighbours. Whatever needs a device
//! (does ifindex 3 exist, is the gateway on-link, what source address does eth0 have) is
//! the caller's: route insertion takes a `resolve_nh` hook that runs exactly where Linux
//! checks the next hop (`fib_check_nh`, the gateway checks of `ip6_route_info_create`), so
//! errors come out in Linux's order; names come from a [`NetDevs`].
//!
//! One generic [`Fib`] over the address type; the family semantics differ too much to
//! share more than storage and rules, so [`Fib4`] and [`Fib6`] have their own `add`,
//! `delete` and `lookup` in `ipv4.rs` and `ipv6.rs`. Everything is ordered (`BTreeMap`,
//! sorted `Vec`s): the same calls give the same answers and the same dump order on every
//! run.
//!
//! What 4.3 does that is deliberately left out, each for the stack to add when it needs it:
//! multipath (`nexthop`) routes and IPv6 ECMP siblings, route metrics (`mtu`, `advmss`…),
//! expiring (RA) routes, realms, `suppress_ifgroup`, IPv6 source-specific (subtree) routes,
//! neighbour reachability in IPv6 router selection (every neighbour counts as reachable),
//! `ignore_routes_with_linkdown`, the route cache.

#![warn(missing_docs)]

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::uapi::Errno;

mod ipv4;
mod ipv6;
pub mod lwt;
pub mod names;
pub mod print;
pub mod route;
pub mod rules;
mod table;

pub use lwt::LwtState;
pub use route::{Route, RouteSpec, RouteType, RouterPref};
pub use rules::{IfName, Rule, RuleAction, RuleSpec};

use rules::RuleSet;
use table::Table;

/// `RT_TABLE_UNSPEC`: "no table" in a rule; as a route's table it means main.
pub const RT_TABLE_UNSPEC: u32 = 0;
/// `RT_TABLE_COMPAT`: what `rtm_table` says for ids that do not fit in a byte.
pub const RT_TABLE_COMPAT: u32 = 252;
/// `RT_TABLE_DEFAULT`.
pub const RT_TABLE_DEFAULT: u32 = 253;
/// `RT_TABLE_MAIN`.
pub const RT_TABLE_MAIN: u32 = 254;
/// `RT_TABLE_LOCAL`.
pub const RT_TABLE_LOCAL: u32 = 255;

/// `RTPROT_UNSPEC`.
pub const RTPROT_UNSPEC: u8 = 0;
/// `RTPROT_REDIRECT`: installed by an ICMP redirect.
pub const RTPROT_REDIRECT: u8 = 1;
/// `RTPROT_KERNEL`: installed by the kernel (connected, local, addrconf routes).
pub const RTPROT_KERNEL: u8 = 2;
/// `RTPROT_BOOT`: iproute2's default for `ip route add`.
pub const RTPROT_BOOT: u8 = 3;
/// `RTPROT_STATIC`: installed by the administrator.
pub const RTPROT_STATIC: u8 = 4;
/// `RTPROT_RA`: installed from a router advertisement.
pub const RTPROT_RA: u8 = 9;

/// `RT_SCOPE_UNIVERSE`: reaches beyond this host's links.
pub const RT_SCOPE_UNIVERSE: u8 = 0;
/// `RT_SCOPE_SITE`.
pub const RT_SCOPE_SITE: u8 = 200;
/// `RT_SCOPE_LINK`: directly attached.
pub const RT_SCOPE_LINK: u8 = 253;
/// `RT_SCOPE_HOST`: on this host.
pub const RT_SCOPE_HOST: u8 = 254;
/// `RT_SCOPE_NOWHERE`: as a delete selector, "any scope".
pub const RT_SCOPE_NOWHERE: u8 = 255;

/// `RTNH_F_DEAD`: next hop is dead; lookups skip the route.
pub const RTNH_F_DEAD: u32 = 1;
/// `RTNH_F_PERVASIVE`.
pub const RTNH_F_PERVASIVE: u32 = 2;
/// `RTNH_F_ONLINK`: gateway forced on-link (`ip route add … onlink`).
pub const RTNH_F_ONLINK: u32 = 4;
/// `RTNH_F_OFFLOAD`.
pub const RTNH_F_OFFLOAD: u32 = 8;
/// `RTNH_F_LINKDOWN`: carrier down on the next hop's device.
pub const RTNH_F_LINKDOWN: u32 = 16;
/// `RTNH_COMPARE_MASK`: flags that do not make two routes different.
pub const RTNH_COMPARE_MASK: u32 = RTNH_F_DEAD | RTNH_F_LINKDOWN;

/// `LOOPBACK_IFINDEX` (include/net/flow.h): `lo` is always ifindex 1 in a namespace, and
/// output lookups carry it as their input interface.
pub const LOOPBACK_IFINDEX: u32 = 1;

/// `IP6_RT_PRIO_USER`: the metric an IPv6 route added without one gets.
pub const IP6_RT_PRIO_USER: u32 = 1024;
/// `IP6_RT_PRIO_ADDRCONF`: the metric of addrconf's prefix routes.
pub const IP6_RT_PRIO_ADDRCONF: u32 = 256;

/// `NLM_F_REPLACE`.
pub const NLM_F_REPLACE: u16 = 0x100;
/// `NLM_F_EXCL`.
pub const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE`.
pub const NLM_F_CREATE: u16 = 0x400;
/// `NLM_F_APPEND`.
pub const NLM_F_APPEND: u16 = 0x800;

/// The netlink flags of an `RTM_NEWROUTE`: they alone decide between "add", "replace",
/// "append" and friends in `fib_table_insert` and `fib6_add_rt2node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlFlags(pub u16);

impl NlFlags {
    /// `ip route add`: `NLM_F_CREATE | NLM_F_EXCL`.
    pub const ADD: NlFlags = NlFlags(NLM_F_CREATE | NLM_F_EXCL);
    /// `ip route change`: `NLM_F_REPLACE`.
    pub const CHANGE: NlFlags = NlFlags(NLM_F_REPLACE);
    /// `ip route replace`: `NLM_F_CREATE | NLM_F_REPLACE`.
    pub const REPLACE: NlFlags = NlFlags(NLM_F_CREATE | NLM_F_REPLACE);
    /// `ip route prepend`: `NLM_F_CREATE`. Also what an in-kernel insertion without a
    /// netlink header amounts to in `fib6_add_rt2node`.
    pub const PREPEND: NlFlags = NlFlags(NLM_F_CREATE);
    /// `ip route append`: `NLM_F_CREATE | NLM_F_APPEND` (also `fib_magic`'s flags).
    pub const APPEND: NlFlags = NlFlags(NLM_F_CREATE | NLM_F_APPEND);
    /// `ip route test`: `NLM_F_EXCL`.
    pub const TEST: NlFlags = NlFlags(NLM_F_EXCL);

    /// `NLM_F_EXCL` is set.
    pub const fn excl(self) -> bool {
        self.0 & NLM_F_EXCL != 0
    }
    /// `NLM_F_CREATE` is set.
    pub const fn create(self) -> bool {
        self.0 & NLM_F_CREATE != 0
    }
    /// `NLM_F_REPLACE` is set.
    pub const fn replace(self) -> bool {
        self.0 & NLM_F_REPLACE != 0
    }
    /// `NLM_F_APPEND` is set.
    pub const fn append(self) -> bool {
        self.0 & NLM_F_APPEND != 0
    }
}

/// An address family's address as the FIB keys it: a left-to-right bit string of
/// `BITS` bits (the trie's `KEYLENGTH`).
pub trait FibAddr: Copy + Eq + Ord + core::fmt::Debug + 'static {
    /// Address length in bits: 32 or 128.
    const BITS: u8;
    /// True for IPv6 (selects the family's semantics in shared code).
    const IS_V6: bool;
    /// The all-zero address (`0.0.0.0`, `::`).
    const UNSPECIFIED: Self;
    /// The address as an integer, most significant bit first.
    fn to_bits(self) -> u128;
    /// The address from [`to_bits`](Self::to_bits)'s form (excess high bits ignored).
    fn from_bits(bits: u128) -> Self;
    /// The address as iproute2 prints it (`inet_ntop`).
    fn to_text(self) -> String;
}

impl FibAddr for Ipv4Addr {
    const BITS: u8 = 32;
    const IS_V6: bool = false;
    const UNSPECIFIED: Self = Ipv4Addr::UNSPECIFIED;
    fn to_bits(self) -> u128 {
        u128::from(u32::from(self))
    }
    fn from_bits(bits: u128) -> Self {
        Ipv4Addr::from(bits as u32)
    }
    fn to_text(self) -> String {
        alloc::format!("{}", self)
    }
}

impl FibAddr for Ipv6Addr {
    const BITS: u8 = 128;
    const IS_V6: bool = true;
    const UNSPECIFIED: Self = Ipv6Addr::UNSPECIFIED;
    fn to_bits(self) -> u128 {
        u128::from(self)
    }
    fn from_bits(bits: u128) -> Self {
        Ipv6Addr::from(bits)
    }
    fn to_text(self) -> String {
        names::inet_ntop6(self)
    }
}

/// All ones over the family's width.
fn width_mask<A: FibAddr>() -> u128 {
    match 1u128.checked_shl(u32::from(A::BITS)) {
        Some(v) => v - 1,
        None => u128::MAX,
    }
}

/// The netmask of a `len`-bit prefix, as bits (`inet_make_mask`, `ipv6_addr_prefix`).
pub(crate) fn netmask<A: FibAddr>(len: u8) -> u128 {
    if len == 0 {
        return 0;
    }
    let shift = u32::from(A::BITS.saturating_sub(len));
    u128::MAX.checked_shl(shift).unwrap_or(0) & width_mask::<A>()
}

/// `addr` with its host bits cleared.
pub(crate) fn mask_addr<A: FibAddr>(addr: A, len: u8) -> u128 {
    addr.to_bits() & netmask::<A>(len)
}

/// `addr` lies in `prefix/len` (`ipv6_prefix_equal`, `(a ^ b) & mask`).
pub fn prefix_match<A: FibAddr>(addr: A, prefix: A, len: u8) -> bool {
    (addr.to_bits() ^ prefix.to_bits()) & netmask::<A>(len) == 0
}

/// A lookup key: Linux's `flowi4` / `flowi6` reduced to what the FIB reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow<A> {
    /// Destination.
    pub daddr: A,
    /// Source (unspecified when not chosen yet).
    pub saddr: A,
    /// Input interface; output lookups carry [`LOOPBACK_IFINDEX`], so `iif lo` rules match
    /// locally generated traffic.
    pub iif: u32,
    /// Output interface requested, 0 for any.
    pub oif: u32,
    /// Firewall mark.
    pub mark: u32,
    /// IPv4: TOS (`RT_TOS`-masked by the caller); IPv6: traffic class.
    pub tos: u8,
    /// IPv4 only: the narrowest route scope acceptable (`flowi4_scope`).
    pub scope: u8,
    /// `FLOWI_FLAG_SKIP_NH_OIF`: `oif` selects rules but not next hops (the VRF driver's
    /// lookups through `oif vrf-x` rules).
    pub skip_nh_oif: bool,
    /// IPv6: an input lookup (`ip6_pol_route_input`: devices are scored against `iif`, the
    /// source address always counts as known).
    pub input: bool,
    /// IPv6: `RT6_LOOKUP_F_IFACE` requested by the caller (socket bound to a device).
    pub strict: bool,
}

impl<A: FibAddr> Flow<A> {
    /// A locally generated packet's lookup (`__ip_route_output_key`, `ip6_route_output`).
    pub fn output(daddr: A) -> Self {
        Flow {
            daddr,
            saddr: A::UNSPECIFIED,
            iif: LOOPBACK_IFINDEX,
            oif: 0,
            mark: 0,
            tos: 0,
            scope: RT_SCOPE_UNIVERSE,
            skip_nh_oif: false,
            input: false,
            strict: false,
        }
    }
    /// A received packet's lookup (`ip_route_input_slow`, `ip6_route_input`).
    pub fn input(daddr: A, saddr: A, iif: u32) -> Self {
        Flow { saddr, iif, input: true, ..Self::output(daddr) }
    }
    /// With an output interface.
    pub fn oif(self, oif: u32) -> Self {
        Flow { oif, ..self }
    }
    /// With a source address.
    pub fn src(self, saddr: A) -> Self {
        Flow { saddr, ..self }
    }
    /// With a firewall mark.
    pub fn mark(self, mark: u32) -> Self {
        Flow { mark, ..self }
    }
    /// With a TOS / traffic class.
    pub fn tos(self, tos: u8) -> Self {
        Flow { tos, ..self }
    }
    /// With a minimum route scope (IPv4).
    pub fn scope(self, scope: u8) -> Self {
        Flow { scope, ..self }
    }
    /// With `FLOWI_FLAG_SKIP_NH_OIF`.
    pub fn skip_nh_oif(self) -> Self {
        Flow { skip_nh_oif: true, ..self }
    }
    /// With `RT6_LOOKUP_F_IFACE` (IPv6).
    pub fn strict(self) -> Self {
        Flow { strict: true, ..self }
    }
}

/// A successful lookup: the route (`fib_result` / the `rt6_info`), the table it came from
/// and the preference of the rule that chose it (`None` on IPv4's no-custom-rules path).
#[derive(Clone, Copy, Debug)]
pub struct FibResult<'a, A: FibAddr> {
    /// The route.
    pub route: &'a Route<A>,
    /// The table the lookup ran in (`res->table`; for IPv4 before any rule change this is
    /// main even for local routes, the two sharing one trie).
    pub table: u32,
    /// Preference of the deciding rule.
    pub rule: Option<u32>,
}

/// A failed lookup: the errno Linux's lookup produces and, when a route produced it
/// (`unreachable`, `prohibit`, `blackhole`), that route and its table. IPv6 hands such a
/// route to its caller as a `dst` with an error; `ip -6 route get` prints it.
#[derive(Clone, Copy, Debug)]
pub struct FibError<'a, A: FibAddr> {
    /// `ENETUNREACH` (no route or `unreachable` rule), `EHOSTUNREACH` (`unreachable`
    /// route), `EACCES` (`prohibit`), `EINVAL` (`blackhole`).
    pub errno: Errno,
    /// The reject route, if a route (not a rule or the absence of one) decided.
    pub route: Option<&'a Route<A>>,
    /// The route's table, or 0.
    pub table: u32,
    /// Preference of the deciding rule, if a rule decided.
    pub rule: Option<u32>,
}

impl<'a, A: FibAddr> FibError<'a, A> {
    pub(crate) fn bare(errno: Errno) -> Self {
        FibError { errno, route: None, table: 0, rule: None }
    }
}

impl<A: FibAddr> From<FibError<'_, A>> for Errno {
    fn from(e: FibError<'_, A>) -> Errno {
        e.errno
    }
}

/// Device names and indexes, which live outside the FIB (iproute2's `ll_index_to_name`,
/// the kernel's `__dev_get_by_name` for rule interface names).
pub trait NetDevs {
    /// The name of `ifindex`, or `None` if no such device exists.
    fn dev_name(&self, ifindex: u32) -> Option<String>;
    /// The index of the device called `name`, if it exists.
    fn dev_index(&self, name: &str) -> Option<u32>;
}

impl NetDevs for BTreeMap<u32, String> {
    fn dev_name(&self, ifindex: u32) -> Option<String> {
        self.get(&ifindex).cloned()
    }
    fn dev_index(&self, name: &str) -> Option<u32> {
        self.iter().find(|(_, n)| n.as_str() == name).map(|(i, _)| *i)
    }
}

impl<F: Fn(u32) -> Option<String>> NetDevs for F {
    fn dev_name(&self, ifindex: u32) -> Option<String> {
        self(ifindex)
    }
    fn dev_index(&self, _name: &str) -> Option<u32> {
        None
    }
}

/// The routing tables and policy rules of one family in one namespace.
#[derive(Clone, Debug)]
pub struct Fib<A: FibAddr> {
    tables: BTreeMap<u32, Table<A>>,
    rules: RuleSet<A>,
    /// `net->ipv4.fib_has_custom_rules`: until a rule is added or deleted, IPv4 looks up
    /// main (merged with local) and then default without running the rules.
    custom_rules: bool,
    /// Table creation counter: tables sit at the head of their hash bucket, so a dump
    /// lists newer tables of a bucket first.
    table_seq: u64,
}

/// The IPv4 FIB.
pub type Fib4 = Fib<Ipv4Addr>;
/// The IPv6 FIB.
pub type Fib6 = Fib<Ipv6Addr>;

impl<A: FibAddr> Fib<A> {
    fn empty() -> Self {
        Fib { tables: BTreeMap::new(), rules: RuleSet::new(), custom_rules: false, table_seq: 0 }
    }

    /// `fib_new_table` / `fib6_new_table`: the table with this id, created if missing
    /// (id 0 means main). Tables are never deleted, as in Linux.
    pub(crate) fn new_table(&mut self, id: u32) -> &mut Table<A> {
        let id = if id == RT_TABLE_UNSPEC { RT_TABLE_MAIN } else { id };
        let seq = self.table_seq;
        let t = self.tables.entry(id).or_insert_with(|| Table::new(id, seq));
        if t.seq == seq {
            self.table_seq += 1;
        }
        t
    }

    /// `fib_get_table` / `fib6_get_table` (id 0 means main).
    pub(crate) fn get_table(&self, id: u32) -> Option<&Table<A>> {
        let id = if id == RT_TABLE_UNSPEC { RT_TABLE_MAIN } else { id };
        self.tables.get(&id)
    }

    /// Whether table `id` exists (0 means main).
    pub fn table_exists(&self, id: u32) -> bool {
        self.get_table(id).is_some()
    }

    /// Table ids in dump order (`inet_dump_fib`, `inet6_dump_fib`): by hash bucket
    /// (`id & 255`), newest first within a bucket.
    pub fn table_ids(&self) -> Vec<u32> {
        let mut v: Vec<(u32, u64, u32)> =
            self.tables.values().map(|t| (t.id & 255, u64::MAX - t.seq, t.id)).collect();
        v.sort_unstable();
        v.into_iter().map(|(_, _, id)| id).collect()
    }

    /// The routes of a table in dump order (IPv4: by key, longer prefixes first within a
    /// key; IPv6: the fib6 tree's post-order walk, more specific prefixes first).
    pub fn routes(&self, table: u32) -> Vec<&Route<A>> {
        self.get_table(table).map(|t| t.dump_order()).unwrap_or_default()
    }

    /// Removes every route for which `keep(table, route)` is false (the stack's
    /// `fib_flush` after a device goes away); returns how many were removed.
    pub fn retain_routes(&mut self, mut keep: impl FnMut(u32, &Route<A>) -> bool) -> usize {
        self.tables
            .values_mut()
            .map(|t| {
                let id = t.id;
                t.retain(|r| keep(id, r))
            })
            .sum()
    }

    /// Forgets `addr` as the preferred source of the routes through `oif` (every route for
    /// `None`), keeping the routes: IPv6's `rt6_remove_prefsrc` when the address goes.
    /// Returns how many routes changed.
    pub fn clear_prefsrc(&mut self, oif: Option<u32>, addr: A) -> usize {
        let mut n = 0;
        for t in self.tables.values_mut() {
            for r in t.routes_mut() {
                if oif.is_none_or(|o| o == r.oif) && r.prefsrc == Some(addr) {
                    r.prefsrc = None;
                    n += 1;
                }
            }
        }
        n
    }

    /// The policy rules in order.
    pub fn rules(&self) -> &[Rule<A>] {
        self.rules.as_slice()
    }

    /// IPv4's `fib_has_custom_rules`: set by the first rule added or deleted.
    pub fn has_custom_rules(&self) -> bool {
        self.custom_rules
    }
}

#[cfg(test)]
mod tests_print;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_rules;
#[cfg(test)]
mod tests_v4;
#[cfg(test)]
mod tests_v6;
