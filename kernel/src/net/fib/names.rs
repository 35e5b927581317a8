//! iproute2 v4.3.0's names for numbers and addresses: its built-in tables plus the
//! `/etc/iproute2` files it ships (`rt_tables` has `0 unspec`, `rt_protos` the gated
//! entries, `rt_dsfield` the DSCP names), and glibc's `inet_ntop` for IPv6.

use alloc::format;
use alloc::string::String;
use core::fmt::Write;
use core::net::Ipv6Addr;

use super::{RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN};

/// `inet_ntop(AF_INET6)` as glibc writes it: the longest run (first if tied) of two or
/// more zero groups becomes `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` end in dotted quad.
pub fn inet_ntop6(a: Ipv6Addr) -> String {
    let w = a.segments();
    let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
    for (i, &g) in w.iter().enumerate() {
        if g == 0 {
            let c = cur.map_or((i, 1), |(b, l)| (b, l + 1));
            cur = Some(c);
            if c.1 > best.1 {
                best = c;
            }
        } else {
            cur = None;
        }
    }
    let best = if best.1 >= 2 { Some(best) } else { None };
    let mut s = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((b, l)) = best.filter(|&(b, l)| i >= b && i < b + l) {
            if i == b {
                s.push(':');
            }
            i = b + l;
            if i == 8 {
                s.push(':');
            }
            continue;
        }
        if i != 0 {
            s.push(':');
        }
        if i == 6 && best.is_some_and(|(b, l)| b == 0 && (l == 6 || (l == 5 && w[5] == 0xffff))) {
            let o = a.octets();
            let _ = write!(s, "{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
            break;
        }
        let _ = write!(s, "{:x}", w[i]);
        i += 1;
    }
    s
}

/// `rtnl_rttable_n2a`: local, main, default, unspec (from the shipped `rt_tables`), or the
/// number.
pub fn table_name(id: u32) -> String {
    match id {
        RT_TABLE_LOCAL => "local".into(),
        RT_TABLE_MAIN => "main".into(),
        RT_TABLE_DEFAULT => "default".into(),
        0 => "unspec".into(),
        n => format!("{}", n),
    }
}

/// `rtnl_rtprot_n2a`: built-in names, then the shipped `rt_protos`, else the number.
pub fn proto_name(p: u8) -> String {
    let n = match p {
        0 => "none",
        1 => "redirect",
        2 => "kernel",
        3 => "boot",
        4 => "static",
        8 => "gated",
        9 => "ra",
        10 => "mrt",
        11 => "zebra",
        12 => "bird",
        13 => "dnrouted",
        14 => "xorp",
        15 => "ntk",
        16 => "dhcp",
        42 => "babel",
        254 => "gated/aggr",
        253 => "gated/bgp",
        252 => "gated/ospf",
        251 => "gated/ospfase",
        250 => "gated/rip",
        249 => "gated/static",
        248 => "gated/conn",
        247 => "gated/inet",
        246 => "gated/default",
        n => return format!("{}", n),
    };
    n.into()
}

/// `rtnl_rtscope_n2a`.
pub fn scope_name(s: u8) -> String {
    match s {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => format!("{}", n),
    }
}

/// `rtnl_dsfield_n2a`: the shipped `rt_dsfield` names, else `0x%02x`.
pub fn dsfield_name(v: u8) -> String {
    let n = match v {
        0x00 => "default",
        0x28 => "AF11",
        0x30 => "AF12",
        0x38 => "AF13",
        0x48 => "AF21",
        0x50 => "AF22",
        0x58 => "AF23",
        0x68 => "AF31",
        0x70 => "AF32",
        0x78 => "AF33",
        0x88 => "AF41",
        0x90 => "AF42",
        0x98 => "AF43",
        0x20 => "CS1",
        0x40 => "CS2",
        0x60 => "CS3",
        0x80 => "CS4",
        0xa0 => "CS5",
        0xc0 => "CS6",
        0xe0 => "CS7",
        0xb8 => "EF",
        v => return format!("0x{:02x}", v),
    };
    n.into()
}
