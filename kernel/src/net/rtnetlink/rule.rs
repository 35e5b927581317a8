//! Policy-rule messages (`RTM_NEWRULE`, `RTM_DELRULE`): `fib_nl_newrule` and
//! `fib_nl_delrule` (`net/core/fib_rules.c`) with the family parts
//! (`fib4_rule_configure`, `fib6_rule_configure`, the `compare`s), over the FIB library's
//! rule set.

use super::{InetAddr, AF_INET, AF_INET6};
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::fib::{Fib, FibAddr, NetDevs, RuleAction, RuleSpec};
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use crate::uapi::Errno;
use alloc::string::String;

/// `FIB_RULE_INVERT` (`ip rule add not …`).
pub const FIB_RULE_INVERT: u32 = 0x2;

/// An `RTM_*RULE` message: `struct fib_rule_hdr` (which overlays `struct rtmsg`: the
/// action sits where `rtm_type` is) and the `FRA_*` attributes k43 reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FibRuleMsg {
    /// `family`.
    pub family: u8,
    /// `dst_len`.
    pub dst_len: u8,
    /// `src_len`.
    pub src_len: u8,
    /// `tos`.
    pub tos: u8,
    /// `table` (ids above 255 travel in [`FibRuleMsg::fra_table`]).
    pub table: u8,
    /// `action` (`FR_ACT_*`; `RTN_UNICAST` is `FR_ACT_TO_TBL`).
    pub action: u8,
    /// `flags` (`FIB_RULE_INVERT`).
    pub flags: u32,
    /// `FRA_SRC`.
    pub src: Option<InetAddr>,
    /// `FRA_DST`.
    pub dst: Option<InetAddr>,
    /// `FRA_PRIORITY`.
    pub priority: Option<u32>,
    /// `FRA_TABLE`.
    pub fra_table: Option<u32>,
    /// `FRA_IIFNAME`.
    pub iifname: Option<String>,
    /// `FRA_OIFNAME`.
    pub oifname: Option<String>,
    /// `FRA_FWMARK`.
    pub fwmark: Option<u32>,
    /// `FRA_FWMASK`.
    pub fwmask: Option<u32>,
    /// `FRA_GOTO`.
    pub goto: Option<u32>,
    /// `FRA_SUPPRESS_PREFIXLEN`.
    pub suppress_prefixlen: Option<u32>,
}

impl FibRuleMsg {
    /// A zeroed message of `family`.
    pub fn new(family: u8) -> Self {
        FibRuleMsg { family, ..Self::default() }
    }

    /// `frh_get_table`: `FRA_TABLE` over the header's byte.
    pub fn table_id(&self) -> u32 {
        self.fra_table.unwrap_or(u32::from(self.table))
    }
}

/// The family's address from an attribute, `None` when its length is wrong.
trait FromInet: FibAddr {
    fn from_inet(a: InetAddr) -> Option<Self>;
}

impl FromInet for Ipv4Addr {
    fn from_inet(a: InetAddr) -> Option<Self> {
        match a {
            InetAddr::V4(x) => Some(x),
            InetAddr::V6(_) => None,
        }
    }
}

impl FromInet for Ipv6Addr {
    fn from_inet(a: InetAddr) -> Option<Self> {
        match a {
            InetAddr::V6(x) => Some(x),
            InetAddr::V4(_) => None,
        }
    }
}

/// `validate_rulemsg` and the header-to-selector part of both handlers: a non-zero
/// prefix length needs its address attribute, of the family's length, and no longer than
/// the address (`EINVAL`).
fn to_spec<A: FromInet>(m: &FibRuleMsg) -> Result<RuleSpec<A>, Errno> {
    let pfx = |len: u8, a: Option<InetAddr>| -> Result<Option<(A, u8)>, Errno> {
        if len == 0 {
            return Ok(None);
        }
        let a = a.and_then(A::from_inet).ok_or(Errno::EINVAL)?;
        if len > A::BITS {
            return Err(Errno::EINVAL);
        }
        Ok(Some((a, len)))
    };
    let mut spec = RuleSpec::any();
    spec.src = pfx(m.src_len, m.src)?;
    spec.dst = pfx(m.dst_len, m.dst)?;
    spec.pref = m.priority;
    spec.action = RuleAction::from_u8(m.action);
    spec.table = m.table_id();
    spec.goto = m.goto;
    spec.invert = m.flags & FIB_RULE_INVERT != 0;
    spec.tos = m.tos;
    spec.fwmark = m.fwmark;
    spec.fwmask = m.fwmask;
    spec.iif = m.iifname.clone();
    spec.oif = m.oifname.clone();
    // The kernel stores the u32 attribute in an int.
    spec.suppress_prefixlen = m.suppress_prefixlen.map(|v| v as i32);
    Ok(spec)
}

fn newrule<A: FromInet>(fib: &mut Fib<A>, m: &FibRuleMsg, devs: &dyn NetDevs) -> Result<(), Errno> {
    let spec = to_spec::<A>(m)?;
    fib.add_rule(&spec, devs).map(|_| ())
}

fn delrule<A: FromInet>(fib: &mut Fib<A>, m: &FibRuleMsg) -> Result<(), Errno> {
    let spec = to_spec::<A>(m)?;
    fib.del_rule(&spec).map(|_| ())
}

impl<H: Hal> Kernel<H> {
    /// `ip rule add` (`fib_nl_newrule`): `EAFNOSUPPORT` for a family without rules;
    /// `validate_rulemsg`'s `EINVAL`s; then the rule as the library adds it (goto checks,
    /// IPv4's TOS mask and table auto-creation, IPv6's mandatory table: see
    /// [`Fib::add_rule`]). Interface names resolve to the devices that exist now.
    pub fn fib_nl_newrule(&mut self, m: &FibRuleMsg) -> Result<(), Errno> {
        let devs = self.net.dev_names();
        match m.family {
            AF_INET => newrule(&mut self.net.fib4, m, &devs),
            AF_INET6 => newrule(&mut self.net.fib6, m, &devs),
            _ => Err(Errno::EAFNOSUPPORT),
        }
    }

    /// `ip rule del` (`fib_nl_delrule`): the first rule the message's non-zero fields all
    /// match; `ENOENT` if none does; `EAFNOSUPPORT` and `EINVAL` as for adding.
    pub fn fib_nl_delrule(&mut self, m: &FibRuleMsg) -> Result<(), Errno> {
        match m.family {
            AF_INET => delrule(&mut self.net.fib4, m),
            AF_INET6 => delrule(&mut self.net.fib6, m),
            _ => Err(Errno::EAFNOSUPPORT),
        }
    }
}
