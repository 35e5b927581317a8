//! `ip link` (`ip/iplink.c` of iproute2 v4.3.0): `set DEV up|down|mtu N` (`iplink_modify`
//! with `RTM_NEWLINK`), `show` (`ipaddr_list_link`), and `print_linkinfo`
//! (`ip/ipaddress.c`), which `ip address show` shares.

use super::util::{get_integer, matches};
use super::{addr, usage, Args, Ip, Res, EXIT_USAGE};
use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use kernel::hal::Hal;
use kernel::net::netdevice::IFF_UP;
use kernel::net::rtnetlink::link::{IfInfoMsg, LinkInfo, ARPHRD_ETHER, ARPHRD_LOOPBACK};

/// `IFF_RUNNING`.
const IFF_RUNNING: u32 = 0x40;

/// `print_link_flags`: `<…>` in iproute2's order, `NO-CARRIER` for a device up without
/// carrier, leftover bits in hex.
fn link_flags(mut flags: u32) -> String {
    let mut s = String::from("<");
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        s.push_str(if flags != 0 { "NO-CARRIER," } else { "NO-CARRIER" });
    }
    flags &= !IFF_RUNNING;
    const NAMES: [(u32, &str); 18] = [
        (0x8, "LOOPBACK"),
        (0x2, "BROADCAST"),
        (0x10, "POINTOPOINT"),
        (0x1000, "MULTICAST"),
        (0x80, "NOARP"),
        (0x200, "ALLMULTI"),
        (0x100, "PROMISC"),
        (0x400, "MASTER"),
        (0x800, "SLAVE"),
        (0x4, "DEBUG"),
        (0x8000, "DYNAMIC"),
        (0x4000, "AUTOMEDIA"),
        (0x2000, "PORTSEL"),
        (0x20, "NOTRAILERS"),
        (0x1, "UP"),
        (0x1_0000, "LOWER_UP"),
        (0x2_0000, "DORMANT"),
        (0x4_0000, "ECHO"),
    ];
    for (bit, name) in NAMES {
        if flags & bit != 0 {
            flags &= !bit;
            s.push_str(name);
            if flags != 0 {
                s.push(',');
            }
        }
    }
    if flags != 0 {
        let _ = write!(s, "{flags:x}");
    }
    s.push_str("> ");
    s
}

/// `oper_states[]`.
fn operstate(st: u8) -> String {
    const NAMES: [&str; 7] = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];
    match NAMES.get(usize::from(st)) {
        Some(n) => format!("state {n} "),
        None => format!("state {st:#x} "),
    }
}

/// `print_linkinfo` for one device: `do_link` adds `mode`; `link_line` is whether the
/// `link/…` line is printed (no family filter, or `AF_PACKET`).
pub fn print_linkinfo(l: &LinkInfo, do_link: bool, link_line: bool) -> String {
    let mut s = format!("{}: {}: ", l.ifindex, l.name);
    s.push_str(&link_flags(l.flags));
    let _ = write!(s, "mtu {} qdisc {} ", l.mtu, l.qdisc);
    s.push_str(&operstate(l.operstate));
    if do_link {
        s.push_str(if l.linkmode == 0 { "mode DEFAULT " } else { "mode DORMANT " });
    }
    if l.group == 0 {
        s.push_str("group default ");
    } else {
        let _ = write!(s, "group {} ", l.group);
    }
    if l.txqlen != 0 {
        let _ = write!(s, "qlen {}", l.txqlen);
    }
    if link_line {
        let ty = match l.link_type {
            ARPHRD_LOOPBACK => String::from("loopback"),
            ARPHRD_ETHER => String::from("ether"),
            t => format!("[{t}]"),
        };
        let _ = write!(s, "\n    link/{ty} {} brd {}", l.address, l.broadcast);
    }
    s.push('\n');
    s
}

/// `do_iplink`.
pub fn do_iplink<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let Some((&cmd, rest)) = args.split_first() else { return addr::list(ip, &[], true) };
    if matches(cmd, "add") || matches(cmd, "replace") || matches(cmd, "delete") {
        return Err(ip.unsupported(cmd));
    }
    if matches(cmd, "set") || matches(cmd, "change") {
        return set(ip, rest);
    }
    if matches(cmd, "show") || matches(cmd, "lst") || matches(cmd, "list") {
        return addr::list(ip, rest, true);
    }
    if matches(cmd, "help") {
        return Err(ip.usage(usage::LINK));
    }
    let t = format!("Command \"{cmd}\" is unknown, try \"ip link help\".\n");
    Err(ip.fail(&t, EXIT_USAGE))
}

/// `iplink_modify(RTM_NEWLINK, 0, …)` with `iplink_parse`: `up`, `down`, `mtu`, the
/// device; the other keywords are not modelled.
fn set<H: Hal>(ip: &mut Ip<'_, H>, args: &[&str]) -> Res {
    let mut m = IfInfoMsg::default();
    let mut dev: Option<&str> = None;
    let mut a = Args::new(args);
    while let Some(w) = a.peek() {
        if w == "up" {
            m.change |= IFF_UP;
            m.flags |= IFF_UP;
        } else if w == "down" {
            m.change |= IFF_UP;
            m.flags &= !IFF_UP;
        } else if w == "mtu" {
            let v = ip.next_arg(&mut a)?;
            if m.mtu.is_some() {
                return Err(ip.duparg("mtu", v));
            }
            m.mtu = Some(get_integer(v, 0).ok_or_else(|| ip.invarg("Invalid \"mtu\" value\n", v))?);
        } else if matches!(w, "name" | "index" | "netns" | "multicast" | "allmulticast" | "promisc" | "trailers" | "arp" | "vf" | "group" | "mode" | "state" | "protodown" | "brd" | "qlen")
            || ["link", "address", "broadcast", "txqueuelen", "txqlen", "master", "nomaster", "dynamic", "type", "alias", "numtxqueues", "numrxqueues", "addrgenmode", "link-netnsid"]
                .iter()
                .any(|p| matches(w, p))
        {
            return Err(ip.unsupported(w));
        } else {
            if matches(w, "help") {
                return Err(ip.usage(usage::LINK));
            }
            let mut w = w;
            if w == "dev" {
                w = ip.next_arg(&mut a)?;
            }
            if dev.is_some() {
                return Err(ip.duparg2("dev", w));
            }
            dev = Some(w);
        }
        a.advance();
    }
    let Some(dev) = dev else {
        return Err(ip.fail("Not enough information: \"dev\" argument is required.\n", EXIT_USAGE));
    };
    m.ifindex = ip.dev_index(dev)?;
    if let Err(e) = ip.k.rtnl_setlink(&m) {
        let t = kernel::net::fib::print::rtnetlink_answers(e);
        // iplink_modify: `exit(2)`.
        return Err(ip.fail(&t, 2));
    }
    Ok(())
}
