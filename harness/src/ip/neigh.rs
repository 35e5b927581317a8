//! `ip neigh` (`ip/ipneigh.c` of iproute2 v4.3.0): `add`, `change`, `replace`, `del`
//! (`ipneigh_modify`), `show` and `flush` (`do_show_or_flush`). Without a family both
//! tables are listed, ARP first (`neigh_dump_info` walks `neigh_tables[]` in order).

use super::util::{ll_addr_a2n, matches};
use super::{usage, Args, Ip, Res, EXIT_USAGE};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kernel::hal::Hal;
use kernel::net::core::neigh_rtnl::{nud_state_a2n, NeighFilter};
use kernel::net::core::neighbour::{NTF_PROXY, NUD_PERMANENT};
use kernel::net::rtnetlink::neigh::NeighMsg;
use kernel::net::rtnetlink::{AF_INET, AF_INET6, AF_UNSPEC, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use kernel::net::wire::{Ipv4Addr, Ipv6Addr};

/// `do_ipneigh`.
pub fn do_ipneigh<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let Some((&cmd, rest)) = args.split_first() else { return show_flush(ip, &[], false) };
    if matches(cmd, "add") {
        return modify(ip, Some(NLM_F_CREATE | NLM_F_EXCL), rest);
    }
    if matches(cmd, "change") || cmd == "chg" {
        return modify(ip, Some(NLM_F_REPLACE), rest);
    }
    if matches(cmd, "replace") {
        return modify(ip, Some(NLM_F_CREATE | NLM_F_REPLACE), rest);
    }
    if matches(cmd, "delete") {
        return modify(ip, None, rest);
    }
    if matches(cmd, "get") {
        return Err(ip.fail("Sorry, \"neigh get\" is not implemented :-(\n", 1));
    }
    if matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list") {
        return show_flush(ip, rest, false);
    }
    if matches(cmd, "flush") {
        return show_flush(ip, rest, true);
    }
    if matches(cmd, "help") {
        return Err(ip.usage(usage::NEIGH));
    }
    let t = format!("Command \"{cmd}\" is unknown, try \"ip neigh help\".\n");
    Err(ip.fail(&t, EXIT_USAGE))
}

/// `ipneigh_modify`: `flags` is `Some(nlmsg_flags)` for `RTM_NEWNEIGH`, `None` for
/// `RTM_DELNEIGH`.
fn modify<H: Hal>(ip: &mut Ip<'_, H>, flags: Option<u16>, args: &[&str]) -> Res {
    let mut m = NeighMsg::new(ip.family);
    m.state = u16::from(NUD_PERMANENT);
    let (mut d, mut lla): (Option<&str>, Option<&str>) = (None, None);
    let mut dst = None;
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if matches(w, "lladdr") {
            let v = ip.next_arg(&mut a)?;
            if lla.is_some() {
                return Err(ip.duparg("lladdr", v));
            }
            lla = Some(v);
        } else if w == "nud" {
            let v = ip.next_arg(&mut a)?;
            m.state = nud_state_a2n(v).ok_or_else(|| ip.invarg("nud state is bad", v))? as u16;
        } else if matches(w, "proxy") {
            let v = ip.next_arg(&mut a)?;
            if matches(v, "help") {
                return Err(ip.usage(usage::NEIGH));
            }
            if dst.is_some() {
                return Err(ip.duparg("address", v));
            }
            dst = Some(ip.get_addr(v, ip.family)?);
            m.flags |= NTF_PROXY;
        } else if w == "dev" {
            d = Some(ip.next_arg(&mut a)?);
        } else {
            let mut w = w;
            if w == "to" {
                w = ip.next_arg(&mut a)?;
            }
            // ipneigh_modify's quirk: "help" here only skips a word.
            if matches(w, "help") {
                w = ip.next_arg(&mut a)?;
            }
            if dst.is_some() {
                return Err(ip.duparg2("to", w));
            }
            dst = Some(ip.get_addr(w, ip.family)?);
        }
        a.advance();
    }
    let (Some(d), Some(dst)) = (d, dst.filter(|p| p.family != AF_UNSPEC)) else {
        return Err(ip.fail("Device and destination are required arguments.\n", EXIT_USAGE));
    };
    m.family = dst.family;
    m.dst = dst.attr();
    if let Some(l) = lla.filter(|l| *l != "null") {
        match ll_addr_a2n(l, 20) {
            Ok(b) => m.lladdr = Some(b),
            Err(part) => {
                let t = format!("\"{part}\" is invalid lladdr.\n");
                return Err(ip.fail(&t, 1));
            }
        }
    }
    m.ifindex = ip.dev_index(d)?;
    let r = match flags {
        Some(f) => ip.k.neigh_add(&m, f),
        None => ip.k.neigh_delete(&m),
    };
    if let Err(e) = r {
        let t = kernel::net::fib::print::rtnetlink_answers(e);
        // ipneigh_modify: `exit(2)`.
        return Err(ip.fail(&t, 2));
    }
    Ok(())
}

/// `do_show_or_flush`.
fn show_flush<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str], flush: bool) -> Res {
    let mut family = ip.family;
    if flush && args.is_empty() {
        return Err(ip.fail("Flush requires arguments.\n", 1));
    }
    let (mut filter_dev, mut unused, mut proxy) = (None, false, false);
    let mut nuds: Vec<&str> = Vec::new();
    let mut pfx = None;
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if w == "dev" {
            let v = ip.next_arg(&mut a)?;
            if filter_dev.is_some() {
                return Err(ip.duparg("dev", v));
            }
            filter_dev = Some(v);
        } else if w == "unused" {
            unused = true;
        } else if w == "nud" {
            let v = ip.next_arg(&mut a)?;
            if nud_state_a2n(v).is_none() && v != "all" {
                return Err(ip.invarg("nud state is bad", v));
            }
            nuds.push(v);
        } else if w == "proxy" {
            proxy = true;
        } else {
            let mut w = w;
            if w == "to" {
                w = ip.next_arg(&mut a)?;
            }
            if matches(w, "help") {
                return Err(ip.usage(usage::NEIGH));
            }
            let p = ip.get_prefix(w, family)?;
            if family == AF_UNSPEC {
                family = p.family;
            }
            pfx = Some(p).filter(|p| p.family != AF_UNSPEC);
        }
        a.advance();
    }
    let index = match filter_dev {
        Some(d) => ip.dev_index(d)?,
        None => 0,
    };
    let base4 = if flush { NeighFilter::<Ipv4Addr>::flush() } else { NeighFilter::<Ipv4Addr>::show() };
    let base6 = if flush { NeighFilter::<Ipv6Addr>::flush() } else { NeighFilter::<Ipv6Addr>::show() };
    let (Some(mut f4), Some(mut f6)) = (base4.with_nud(&nuds, flush), base6.with_nud(&nuds, flush)) else {
        return Err(ip.invarg("nud state is bad", ""));
    };
    f4.index = index;
    f6.index = index;
    f4.unused_only = unused;
    f6.unused_only = unused;
    if let Some(p) = pfx {
        let len = p.bitlen.clamp(0, 128) as u8;
        if p.family == AF_INET {
            f4.prefix = Some((Ipv4Addr::new(p.data[0], p.data[1], p.data[2], p.data[3]), len));
        } else {
            f6.prefix = Some((Ipv6Addr::from(p.data), len));
        }
    }
    let v4 = family == AF_UNSPEC || family == AF_INET;
    let v6 = family == AF_UNSPEC || family == AF_INET6;
    if flush {
        if v4 {
            ip.k.neigh_flush4(&f4);
        }
        if v6 {
            ip.k.neigh_flush6(&f6);
        }
        return Ok(());
    }
    let net = ip.k.net();
    let name_of = |i: u32| -> String { net.dev_name(i) };
    let mut out = String::new();
    if v4 {
        out.push_str(&net.arp.show(&f4, proxy, &name_of));
    }
    if v6 {
        out.push_str(&net.nd.show(&f6, proxy, &name_of));
    }
    ip.say(&out);
    Ok(())
}
