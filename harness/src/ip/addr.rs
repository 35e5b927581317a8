//! `ip address` (`ip/ipaddress.c` of iproute2 v4.3.0): `add`, `change`, `replace`, `del`
//! (`ipaddr_modify`), `show` and `flush` (`ipaddr_list_flush_or_save`), and the link
//! listing `ip link show` shares with them.

use super::link::print_linkinfo;
use super::util::{fnmatch, matches, rtscope_a2n, InetPrefix};
use super::{usage, Args, Ip, Res, EXIT_USAGE};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use kernel::hal::Hal;
use kernel::net::core::addrconf::{ifa_scope, IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_HOMEADDRESS, IFA_F_MANAGETEMPADDR, IFA_F_MCAUTOJOIN};
use kernel::net::core::addrconf::{IFA_F_NODAD, IFA_F_NOPREFIXROUTE, IFA_F_PERMANENT, IFA_F_TENTATIVE};
use kernel::net::core::addrconf_show::ifa_flags_text;
use kernel::net::fib::names::scope_name;
use kernel::net::netdevice::{IFA_F_SECONDARY, IFF_UP};
use kernel::net::rtnetlink::addr::IfAddrMsg;
use kernel::net::rtnetlink::{InetAddr, AF_INET, AF_INET6, AF_PACKET, AF_UNSPEC, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use kernel::net::wire::{Ipv4Addr, Ipv6Addr};

/// iproute2's `max_flush_loops` default.
const MAX_FLUSH_LOOPS: usize = 10;

/// `do_ipaddr`.
pub fn do_ipaddr<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let Some((&cmd, rest)) = args.split_first() else { return list(ip, &[], false) };
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
    if matches(cmd, "list") || matches(cmd, "show") || matches(cmd, "lst") {
        return list_flush(ip, rest, false, false);
    }
    if matches(cmd, "flush") {
        return list_flush(ip, rest, false, true);
    }
    if matches(cmd, "save") || matches(cmd, "showdump") || matches(cmd, "restore") {
        return Err(ip.unsupported(cmd));
    }
    if matches(cmd, "help") {
        return Err(ip.usage(usage::ADDR));
    }
    let t = format!("Command \"{cmd}\" is unknown, try \"ip address help\".\n");
    Err(ip.fail(&t, EXIT_USAGE))
}

/// `ipaddr_modify`: `flags` is `Some(nlmsg_flags)` for `RTM_NEWADDR`, `None` for
/// `RTM_DELADDR`.
fn modify<H: Hal>(ip: &mut Ip<'_, H>, flags: Option<u16>, args: &[&str]) -> Res {
    let del = flags.is_none();
    let mut m = IfAddrMsg::new(ip.family);
    let (mut d, mut l, mut lcl_arg): (Option<&str>, Option<&str>, Option<&str>) = (None, None, None);
    let mut lcl: Option<InetPrefix> = None;
    let mut brd_len: i32 = 0;
    let mut scoped = false;
    let mut ifa_flags = 0u32;
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if w == "peer" || w == "remote" || w == "anycast" || matches(w, "valid_lft") || matches(w, "preferred_lft") {
            return Err(ip.unsupported(w));
        } else if matches(w, "broadcast") || w == "brd" {
            let v = ip.next_arg(&mut a)?;
            if brd_len != 0 {
                return Err(ip.duparg("broadcast", v));
            }
            if v == "+" {
                brd_len = -1;
            } else if v == "-" {
                brd_len = -2;
            } else {
                let p = ip.get_addr(v, m.family)?;
                if m.family == AF_UNSPEC {
                    m.family = p.family;
                }
                m.broadcast = p.attr();
                brd_len = i32::from(p.bytelen);
            }
        } else if w == "scope" {
            let v = ip.next_arg(&mut a)?;
            m.scope = rtscope_a2n(v).ok_or_else(|| ip.invarg("invalid scope value.", v))?;
            scoped = true;
        } else if w == "dev" {
            d = Some(ip.next_arg(&mut a)?);
        } else if w == "label" {
            l = Some(ip.next_arg(&mut a)?);
        } else if w == "home" {
            ifa_flags |= IFA_F_HOMEADDRESS;
        } else if w == "nodad" {
            ifa_flags |= IFA_F_NODAD;
        } else if w == "mngtmpaddr" {
            ifa_flags |= IFA_F_MANAGETEMPADDR;
        } else if w == "noprefixroute" {
            ifa_flags |= IFA_F_NOPREFIXROUTE;
        } else if w == "autojoin" {
            ifa_flags |= IFA_F_MCAUTOJOIN;
        } else {
            let mut w = w;
            if w == "local" {
                w = ip.next_arg(&mut a)?;
            }
            if matches(w, "help") {
                return Err(ip.usage(usage::ADDR));
            }
            if lcl.is_some_and(|p| p.bytelen != 0) {
                return Err(ip.duparg2("local", w));
            }
            lcl_arg = Some(w);
            let p = ip.get_prefix(w, m.family)?;
            if m.family == AF_UNSPEC {
                m.family = p.family;
            }
            m.local = p.attr();
            lcl = Some(p);
        }
        a.advance();
    }
    if ifa_flags <= 0xff {
        m.flags = ifa_flags as u8;
    } else {
        m.ifa_flags = Some(ifa_flags);
    }
    let Some(d) = d else {
        return Err(ip.fail("Not enough information: \"dev\" argument is required.\n", 1));
    };
    if let Some(l) = l {
        if !matches(d, l) {
            let t = format!("\"dev\" ({d}) must match \"label\" ({l}).\n");
            return Err(ip.fail(&t, 1));
        }
        if l != d {
            // k43 keeps no address labels.
            return Err(ip.unsupported("label"));
        }
        m.label = Some(String::from(l));
    }
    if let Some(p) = lcl.filter(|p| p.bytelen != 0) {
        let local_len = p.bytelen;
        if del && p.family == AF_INET && !p.len_given {
            let t = format!(
                "Warning: Executing wildcard deletion to stay compatible with old scripts.\n         Explicitly specify the prefix length ({}/{}) to avoid this warning.\n         This special behaviour is likely to disappear in further releases,\n         fix your scripts!\n",
                lcl_arg.unwrap_or(""),
                u32::from(local_len) * 8
            );
            ip.say(&t);
        } else {
            m.address = p.attr();
        }
    }
    // `ifa_prefixlen = lcl.bitlen` (no local: iproute2 reads an unset `inet_prefix`; the
    // kernel refuses the message for its missing address either way).
    m.prefixlen = lcl.map_or(0, |p| p.len8());
    if brd_len < 0 && !del {
        if m.family != AF_INET {
            return Err(ip.fail("Broadcast can be set only for IPv4 addresses\n", 1));
        }
        if let Some(p) = lcl.filter(|p| p.bitlen <= 30) {
            let mut b = u32::from_be_bytes([p.data[0], p.data[1], p.data[2], p.data[3]]);
            let host = if p.bitlen <= 0 { u32::MAX } else { u32::MAX >> p.bitlen };
            if brd_len == -1 {
                b |= host;
            } else {
                b &= !host;
            }
            m.broadcast = Some(InetAddr::V4(Ipv4Addr::from(b)));
        }
    }
    if !scoped && !del {
        m.scope = match lcl {
            Some(p) if p.family == AF_INET && p.bytelen >= 1 && p.data[0] == 127 => 254,
            _ => 0,
        };
    }
    m.ifindex = ip.dev_index(d)?;
    if ifa_flags & IFA_F_MCAUTOJOIN != 0 {
        let mc = lcl.is_some_and(|p| (p.family == AF_INET && p.data[0] & 0xf0 == 0xe0) || (p.family == AF_INET6 && p.data[0] == 0xff));
        if !mc {
            return Err(ip.fail("autojoin needs multicast address\n", 1));
        }
    }
    let r = match flags {
        Some(f) => ip.k.rtm_newaddr(&m, f),
        None => ip.k.rtm_deladdr(&m),
    };
    ip.talk(r)
}

/// `ipaddr_list_link` (`ip link show`) and `ip address show` share this.
pub fn list<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str], do_link: bool) -> Res {
    list_flush(ip, args, do_link, false)
}

/// iproute2's address `filter`.
#[derive(Clone, Default)]
struct Filter {
    family: u8,
    ifindex: u32,
    up: bool,
    scope: Option<u8>,
    flags: u32,
    flagmask: u32,
    label: Option<String>,
    pfx: Option<InetPrefix>,
}

/// One dumped address (`RTM_NEWADDR`): what the filters and `print_addrinfo` read.
struct AddrRec {
    family: u8,
    ifindex: u32,
    scope: u8,
    flags: u32,
    local: [u8; 16],
    /// `IFA_LABEL` (IPv4 only; IPv6 addresses are labelled by their device).
    label: String,
    /// The printed lines.
    text: String,
    /// What deleting it sends.
    del: IfAddrMsg,
}

/// `rt_scope(ifa->scope)` of an IPv6 address.
fn rt_scope6(a: &Ipv6Addr) -> u8 {
    match ifa_scope(a) {
        0x10 => 254,
        0x20 => 253,
        0x40 => 200,
        _ => 0,
    }
}

/// The address dump (`inet_dump_ifaddr` then `inet6_dump_addr`: IPv4 before IPv6, each
/// in device order and the device's list order), as `print_addrinfo` prints each.
fn dump<H: Hal>(ip: &Ip<'_, H>) -> Vec<AddrRec> {
    let net = ip.k.net();
    let mut out = Vec::new();
    for d in net.devices.values() {
        for ifa in &d.addrs4 {
            let mut local = [0u8; 16];
            local[..4].copy_from_slice(&ifa.local.octets());
            let mut t = format!("    inet {}/{} ", ifa.local, ifa.prefixlen);
            if !ifa.broadcast.is_unspecified() {
                let _ = write!(t, "brd {} ", ifa.broadcast);
            }
            let _ = write!(t, "scope {} ", scope_name(ifa.scope));
            // print_addrinfo words a secondary IPv4 address "secondary" where IPv6 says
            // "temporary".
            let mut fl = ifa.flags;
            if fl & IFA_F_SECONDARY != 0 {
                fl &= !IFA_F_SECONDARY;
                t.push_str("secondary ");
            }
            t.push_str(&ifa_flags_text(fl));
            let _ = write!(t, "{}\n       valid_lft forever preferred_lft forever\n", d.name);
            let del = IfAddrMsg {
                family: AF_INET,
                prefixlen: ifa.prefixlen,
                flags: ifa.flags as u8,
                scope: ifa.scope,
                ifindex: d.ifindex,
                local: Some(InetAddr::V4(ifa.local)),
                address: Some(InetAddr::V4(ifa.local)),
                broadcast: None,
                label: Some(d.name.clone()),
                ifa_flags: Some(ifa.flags),
            };
            out.push(AddrRec { family: AF_INET, ifindex: d.ifindex, scope: ifa.scope, flags: ifa.flags, local, label: d.name.clone(), text: t, del });
        }
    }
    let now = ip.k.hal.now_ns();
    for (&ifindex, idev) in &net.idev6 {
        let text = idev.show(now);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (i, a) in idev.addrs().iter().enumerate() {
            let t: String = lines.get(2 * i..2 * i + 2).map(|l| l.concat()).unwrap_or_default();
            let del = IfAddrMsg {
                family: AF_INET6,
                prefixlen: a.prefix_len,
                ifindex,
                local: Some(InetAddr::V6(a.addr)),
                address: Some(InetAddr::V6(a.addr)),
                ..IfAddrMsg::new(AF_INET6)
            };
            out.push(AddrRec { family: AF_INET6, ifindex, scope: rt_scope6(&a.addr), flags: a.flags, local: a.addr.octets(), label: net.dev_name(ifindex), text: t, del });
        }
    }
    out
}

impl Filter {
    /// `print_addrinfo`'s tests.
    fn addr_ok(&self, a: &AddrRec) -> bool {
        (self.ifindex == 0 || self.ifindex == a.ifindex)
            && self.scope.is_none_or(|s| s == a.scope)
            && (self.flags ^ a.flags) & self.flagmask == 0
            && self.label.as_deref().is_none_or(|l| fnmatch(l, &a.label))
            && self.pfx.is_none_or(|p| prefix_ok(&a.local, &p))
            && (self.family == AF_UNSPEC || self.family == a.family)
    }
}

/// `inet_addr_match(&dst, &filter.pfx, filter.pfx.bitlen) == 0`.
fn prefix_ok(a: &[u8; 16], p: &InetPrefix) -> bool {
    let bits = p.bitlen.clamp(0, 128) as usize;
    let (whole, rest) = (bits / 8, bits % 8);
    a[..whole] == p.data[..whole] && (rest == 0 || (a[whole] ^ p.data[whole]) & (0xffu8 << (8 - rest)) == 0)
}

/// `ipaddr_list_flush_or_save` for `show` (of links too, `do_link`) and `flush`.
fn list_flush<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str], do_link: bool, flush: bool) -> Res {
    let mut f = Filter { family: if do_link { AF_PACKET } else { ip.family }, ..Filter::default() };
    let mut filter_dev: Option<&str> = None;
    if flush {
        if args.is_empty() {
            return Err(ip.fail("Flush requires arguments.\n", 1));
        }
        if f.family == AF_PACKET {
            return Err(ip.fail("Cannot flush link addresses.\n", 1));
        }
    }
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        let flag = |set: bool, bit: u32| (set, bit);
        let flagword = match w {
            "dynamic" => Some(flag(false, IFA_F_PERMANENT)),
            "permanent" => Some(flag(true, IFA_F_PERMANENT)),
            "secondary" | "temporary" => Some(flag(true, IFA_F_SECONDARY)),
            "primary" => Some(flag(false, IFA_F_SECONDARY)),
            "tentative" => Some(flag(true, IFA_F_TENTATIVE)),
            "-tentative" => Some(flag(false, IFA_F_TENTATIVE)),
            "deprecated" => Some(flag(true, IFA_F_DEPRECATED)),
            "-deprecated" => Some(flag(false, IFA_F_DEPRECATED)),
            "home" => Some(flag(true, IFA_F_HOMEADDRESS)),
            "nodad" => Some(flag(true, IFA_F_NODAD)),
            "mngtmpaddr" => Some(flag(true, IFA_F_MANAGETEMPADDR)),
            "noprefixroute" => Some(flag(true, IFA_F_NOPREFIXROUTE)),
            "autojoin" => Some(flag(true, IFA_F_MCAUTOJOIN)),
            "dadfailed" => Some(flag(true, IFA_F_DADFAILED)),
            "-dadfailed" => Some(flag(false, IFA_F_DADFAILED)),
            _ => None,
        };
        if w == "to" {
            let v = ip.next_arg(&mut a)?;
            let p = ip.get_prefix(v, f.family)?;
            if f.family == AF_UNSPEC {
                f.family = p.family;
            }
            f.pfx = Some(p).filter(|p| p.family != AF_UNSPEC);
        } else if w == "scope" {
            let v = ip.next_arg(&mut a)?;
            f.scope = match rtscope_a2n(v) {
                Some(s) => Some(s),
                None if v == "all" => None,
                None => return Err(ip.invarg("invalid \"scope\"\n", v)),
            };
        } else if w == "up" {
            f.up = true;
        } else if let Some((set, bit)) = flagword {
            if set {
                f.flags |= bit;
            } else {
                f.flags &= !bit;
            }
            f.flagmask |= bit;
        } else if w == "label" {
            f.label = Some(String::from(ip.next_arg(&mut a)?));
        } else if w == "group" || w == "master" || (do_link && w == "type") {
            return Err(ip.unsupported(w));
        } else {
            let mut w = w;
            if w == "dev" {
                w = ip.next_arg(&mut a)?;
            } else if matches(w, "help") {
                return Err(ip.usage(if do_link { usage::LINK } else { usage::ADDR }));
            }
            if filter_dev.is_some() {
                return Err(ip.duparg2("dev", w));
            }
            filter_dev = Some(w);
        }
        a.advance();
    }
    if let Some(d) = filter_dev {
        f.ifindex = ip.ll_name_to_index(d);
        if f.ifindex == 0 {
            let t = format!("Device \"{d}\" does not exist.\n");
            return Err(ip.fail(&t, 1));
        }
    }
    if flush {
        return flush_addrs(ip, &f);
    }
    // `ip link show DEV`: one RTM_GETLINK.
    if filter_dev.is_some() && do_link {
        let l = match ip.k.rtnl_getlink(f.ifindex) {
            Ok(l) => l,
            Err(e) => return ip.talk(Err(e)),
        };
        let t = print_linkinfo(&l, true, true);
        ip.say(&t);
        return Ok(());
    }
    let links = ip.k.rtnl_dump_ifinfo();
    let addrs = if f.family != AF_PACKET { dump(ip) } else { Vec::new() };
    let link_line = f.family == AF_UNSPEC || f.family == AF_PACKET;
    let mut out = String::new();
    for l in &links {
        // ipaddr_filter: a link whose addresses all fail the filters goes; one with none
        // stays unless a family was asked for.
        if f.family != AF_PACKET {
            let mine: Vec<&AddrRec> = addrs.iter().filter(|a| a.ifindex == l.ifindex).collect();
            let ok = mine.iter().any(|a| {
                (f.family == AF_UNSPEC || f.family == a.family)
                    && f.scope.is_none_or(|s| s == a.scope)
                    && (f.flags ^ a.flags) & f.flagmask == 0
                    && f.pfx.is_none_or(|p| prefix_ok(&a.local, &p))
                    && f.label.as_deref().is_none_or(|lb| fnmatch(lb, &a.label))
            });
            let keep = ok || (mine.is_empty() && f.family == AF_UNSPEC);
            if !keep {
                continue;
            }
        }
        // print_linkinfo's own filters.
        if (f.ifindex != 0 && l.ifindex != f.ifindex) || (f.up && l.flags & IFF_UP == 0) {
            continue;
        }
        if f.label.as_deref().is_some_and(|lb| (f.family == AF_UNSPEC || f.family == AF_PACKET) && !fnmatch(lb, &l.name)) {
            continue;
        }
        out.push_str(&print_linkinfo(l, do_link, link_line));
        if f.family != AF_PACKET {
            for a in addrs.iter().filter(|a| a.ifindex == l.ifindex && f.addr_ok(a)) {
                out.push_str(&a.text);
            }
        }
    }
    ip.say(&out);
    Ok(())
}

/// `ipaddr_flush`: rounds of dump-and-delete until a round finds nothing; the deletions
/// of a round all go out before their errors are read (`rtnl_send_check`), so deleting a
/// primary that took its secondaries along makes the secondaries' deletions fail.
fn flush_addrs<H: Hal>(ip: &mut Ip<'_, H>, f: &Filter) -> Res {
    for _ in 0..MAX_FLUSH_LOOPS {
        let victims: Vec<IfAddrMsg> = dump(ip).into_iter().filter(|a| f.addr_ok(a)).map(|a| a.del).collect();
        if victims.is_empty() {
            return Ok(());
        }
        let mut first_err = None;
        for m in victims {
            if let Err(e) = ip.k.rtm_deladdr(&m) {
                first_err.get_or_insert(e);
            }
        }
        if let Some(e) = first_err {
            let t = format!("Failed to send flush request: {}\n", e.message());
            return Err(ip.fail(&t, 1));
        }
        // Flushing primaries only: one round, so promoted secondaries stay.
        if f.flagmask & IFA_F_SECONDARY != 0 && f.flags & IFA_F_SECONDARY == 0 {
            return Ok(());
        }
    }
    let t = format!("*** Flush remains incomplete after {MAX_FLUSH_LOOPS} rounds. ***\n");
    Err(ip.fail(&t, 1))
}

