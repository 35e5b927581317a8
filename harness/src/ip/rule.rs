//! `ip rule` (`ip/iprule.c` of iproute2 v4.3.0): `add`, `del`, `show`/`list`, `flush`.
//!
//! The rule's family is `-4`/`-6` only (iproute2 does not infer it from `from`/`to`):
//! `ip rule add from 2001:db8::/32 …` without `-6` sends an IPv4 rule with a 16-byte
//! source, which 4.3 refuses (`EINVAL`).

use super::util::{dsfield_a2n, get_integer, get_u32, matches, rtntype_a2n, rttable_a2n};
use super::{usage, Args, Ip, Res, EXIT_USAGE};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kernel::hal::Hal;
use kernel::net::fib::{FibAddr, Rule, RuleAction, RT_TABLE_MAIN};
use kernel::net::rtnetlink::rule::{FibRuleMsg, FIB_RULE_INVERT};
use kernel::net::rtnetlink::{InetAddr, AF_INET, AF_INET6, AF_UNSPEC};
use kernel::net::wire::{Ipv4Addr, Ipv6Addr};
use kernel::uapi::Errno;

/// `FR_ACT_GOTO`.
const FR_ACT_GOTO: u8 = 2;
/// `FR_ACT_NOP`.
const FR_ACT_NOP: u8 = 3;
/// `RTN_NAT`, the deprecated `nat` action.
const RTN_NAT: u8 = 10;

/// `do_iprule`.
pub fn do_iprule<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let Some((&cmd, rest)) = args.split_first() else { return list(ip, &[]) };
    if matches(cmd, "list") || matches(cmd, "lst") || matches(cmd, "show") {
        return list(ip, rest);
    }
    if matches(cmd, "save") || matches(cmd, "restore") {
        return Err(ip.unsupported(cmd));
    }
    if matches(cmd, "add") {
        return modify(ip, true, rest);
    }
    if matches(cmd, "delete") {
        return modify(ip, false, rest);
    }
    if matches(cmd, "flush") {
        return flush(ip, rest);
    }
    if matches(cmd, "help") {
        return Err(ip.usage(usage::RULE));
    }
    let t = format!("Command \"{cmd}\" is unknown, try \"ip rule help\".\n");
    Err(ip.fail(&t, EXIT_USAGE))
}

/// `iprule_modify`.
fn modify<H: Hal>(ip: &mut Ip<'_, H>, add: bool, args: &[&str]) -> Res {
    let mut m = FibRuleMsg::new(ip.family);
    let mut table_ok = false;
    if add {
        m.action = 1;
    }
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if w == "not" {
            m.flags |= FIB_RULE_INVERT;
        } else if w == "from" || w == "to" {
            let v = ip.next_arg(&mut a)?;
            let p = ip.get_prefix(v, m.family)?;
            let attr = p.attr().filter(|_| p.bytelen != 0);
            if w == "from" {
                m.src_len = p.len8();
                m.src = attr;
            } else {
                m.dst_len = p.len8();
                m.dst = attr;
            }
        } else if matches(w, "preference") || matches(w, "order") || matches(w, "priority") {
            let v = ip.next_arg(&mut a)?;
            m.priority = Some(get_u32(v, 0).ok_or_else(|| ip.invarg("preference value is invalid\n", v))?);
        } else if w == "tos" || matches(w, "dsfield") {
            let v = ip.next_arg(&mut a)?;
            m.tos = dsfield_a2n(v).ok_or_else(|| ip.invarg("TOS value is invalid\n", v))?;
        } else if w == "fwmark" {
            let v = ip.next_arg(&mut a)?;
            let (mark, mask) = match v.split_once('/') {
                Some((k, m)) => (k, Some(m)),
                None => (v, None),
            };
            m.fwmark = Some(get_u32(mark, 0).ok_or_else(|| ip.invarg("fwmark value is invalid\n", mark))?);
            if let Some(mask) = mask {
                m.fwmask = Some(get_u32(mask, 0).ok_or_else(|| ip.invarg("fwmask value is invalid\n", mask))?);
            }
        } else if matches(w, "realms") {
            return Err(ip.unsupported(w));
        } else if matches(w, "table") || w == "lookup" {
            let v = ip.next_arg(&mut a)?;
            let tid = rttable_a2n(v).ok_or_else(|| ip.invarg("invalid table ID\n", v))?;
            if tid < 256 {
                m.table = tid as u8;
            } else {
                m.table = 0;
                m.fra_table = Some(tid);
            }
            table_ok = true;
        } else if matches(w, "suppress_prefixlength") || w == "sup_pl" {
            let v = ip.next_arg(&mut a)?;
            let pl = get_integer(v, 0).filter(|&p| p >= 0).ok_or_else(|| ip.invarg("suppress_prefixlength value is invalid\n", v))?;
            m.suppress_prefixlen = Some(pl as u32);
        } else if matches(w, "suppress_ifgroup") || w == "sup_group" {
            return Err(ip.unsupported(w));
        } else if w == "dev" || w == "iif" {
            m.iifname = Some(String::from(ip.next_arg(&mut a)?));
        } else if w == "oif" {
            m.oifname = Some(String::from(ip.next_arg(&mut a)?));
        } else if w == "nat" || matches(w, "map-to") {
            let v = ip.next_arg(&mut a)?;
            ip.say("Warning: route NAT is deprecated\n");
            if super::util::get_addr_1(v, AF_INET).is_none() {
                let t = format!("Error: an IP address is expected rather than \"{v}\"\n");
                return Err(ip.fail(&t, 1));
            }
            // RTA_GATEWAY is not a rule attribute 4.3 reads.
            m.action = RTN_NAT;
        } else {
            let mut w = w;
            if w == "type" {
                w = ip.next_arg(&mut a)?;
            }
            if matches(w, "help") {
                return Err(ip.usage(usage::RULE));
            } else if matches(w, "goto") {
                let v = ip.next_arg(&mut a)?;
                m.goto = Some(get_u32(v, 0).ok_or_else(|| ip.invarg("invalid target\n", v))?);
                m.action = FR_ACT_GOTO;
            } else if matches(w, "nop") {
                m.action = FR_ACT_NOP;
            } else {
                m.action = rtntype_a2n(w).ok_or_else(|| ip.invarg("Failed to parse rule type", w))?;
            }
            table_ok = true;
        }
        a.advance();
    }
    if m.family == AF_UNSPEC {
        m.family = AF_INET;
    }
    if !table_ok && add {
        m.table = RT_TABLE_MAIN as u8;
    }
    let r = if add { ip.k.fib_nl_newrule(&m) } else { ip.k.fib_nl_delrule(&m) };
    ip.talk(r)
}

/// `iprule_list_or_save` for `show`.
fn list<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    if !args.is_empty() {
        return Err(ip.fail("\"ip rule show\" does not take any arguments.\n", 1));
    }
    let text = match ip.family {
        AF_UNSPEC | AF_INET => ip.k.net().fib4.show_rules(),
        AF_INET6 => ip.k.net().fib6.show_rules(),
        _ => {
            let t = format!("RTNETLINK answers: {}\nDump terminated\n", Errno::EAFNOSUPPORT.message());
            return Err(ip.fail(&t, 1));
        }
    };
    ip.say(&text);
    Ok(())
}

/// A dumped rule sent back as `RTM_DELRULE` (`flush_rule`).
fn del_msg<A: FibAddr>(r: &Rule<A>, family: u8, addr: fn(A) -> InetAddr) -> FibRuleMsg {
    FibRuleMsg {
        family,
        dst_len: r.dst_len,
        src_len: r.src_len,
        tos: r.tos,
        table: if r.table < 256 { r.table as u8 } else { 0 },
        action: r.action.to_u8(),
        flags: if r.invert { FIB_RULE_INVERT } else { 0 },
        src: (r.src_len != 0).then(|| addr(r.src)),
        dst: (r.dst_len != 0).then(|| addr(r.dst)),
        priority: Some(r.pref),
        fra_table: Some(r.table),
        iifname: r.iif.as_ref().map(|i| i.name.clone()),
        oifname: r.oif.as_ref().map(|i| i.name.clone()),
        fwmark: (r.mark != 0).then_some(r.mark),
        fwmask: (r.mark != 0 || r.mark_mask != 0).then_some(r.mark_mask),
        goto: (r.action == RuleAction::Goto).then_some(r.target),
        suppress_prefixlen: None,
    }
}

/// `iprule_flush`: every rule with a non-zero preference is deleted, in dump order.
fn flush<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    if !args.is_empty() {
        return Err(ip.fail("\"ip rule flush\" does not allow arguments\n", 1));
    }
    let msgs: Vec<FibRuleMsg> = match ip.family {
        AF_UNSPEC | AF_INET => ip.k.net().fib4.rules().iter().filter(|r| r.pref != 0).map(|r| del_msg(r, AF_INET, |a: Ipv4Addr| InetAddr::V4(a))).collect(),
        AF_INET6 => ip.k.net().fib6.rules().iter().filter(|r| r.pref != 0).map(|r| del_msg(r, AF_INET6, |a: Ipv6Addr| InetAddr::V6(a))).collect(),
        _ => {
            let t = format!("RTNETLINK answers: {}\nFlush terminated\n", Errno::EAFNOSUPPORT.message());
            return Err(ip.fail(&t, 1));
        }
    };
    for m in msgs {
        if let Err(e) = ip.k.fib_nl_delrule(&m) {
            let t = format!("RTNETLINK answers: {}\nFlush terminated\n", e.message());
            return Err(ip.fail(&t, 1));
        }
    }
    Ok(())
}
