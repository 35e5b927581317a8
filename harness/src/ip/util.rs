//! iproute2 v4.3.0's argument helpers (`lib/utils.c`, `lib/rt_names.c`, `ip/rtm_map.c`,
//! `lib/ll_addr.c`), with C's number parsing (`strtoul`/`strtol`) reproduced so that the
//! same strings are accepted and refused.

use alloc::string::String;
use alloc::vec::Vec;
use kernel::net::rtnetlink::{InetAddr, AF_INET, AF_INET6, AF_MPLS, AF_PACKET, AF_UNSPEC};
use kernel::net::wire::{Ipv4Addr, Ipv6Addr};

/// `AF_DECnet`: refused by the "default" spellings like MPLS.
pub const AF_DECNET: u8 = 12;

/// C's `isspace`.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What `strtoul` (or `strtol`) did: the value as the C `unsigned long` it returns, how
/// many bytes it consumed (0 when there were no digits: `end == nptr`), and `ERANGE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strto {
    /// The value (negated modulo 2^64 for a leading `-`, as `strtoul` does).
    pub value: u64,
    /// Magnitude before negation, and whether there was a `-` (for `strtol`).
    pub neg: bool,
    /// Bytes consumed.
    pub end: usize,
    /// Overflow (`ERANGE`).
    pub erange: bool,
}

/// `strtoul(s, &end, base)` for base 0, 8, 10 or 16.
pub fn strtoul(s: &str, base: u32) -> Strto {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && c_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let hex_prefix = |i: usize| b.get(i) == Some(&b'0') && matches!(b.get(i + 1), Some(b'x' | b'X')) && b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit());
    let mut radix = base;
    if (base == 0 || base == 16) && hex_prefix(i) {
        radix = 16;
        i += 2;
    } else if base == 0 {
        radix = if b.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let start = i;
    let mut v: u64 = 0;
    let mut erange = false;
    while let Some(d) = b.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        match v.checked_mul(u64::from(radix)).and_then(|x| x.checked_add(u64::from(d))) {
            Some(x) => v = x,
            None => erange = true,
        }
        i += 1;
    }
    if i == start {
        return Strto { value: 0, neg: false, end: 0, erange: false };
    }
    let value = if erange {
        u64::MAX
    } else if neg {
        v.wrapping_neg()
    } else {
        v
    };
    Strto { value, neg, end: i, erange }
}

/// The whole of a non-empty `arg` is one number (`!ptr || ptr == arg || *ptr` fails).
fn whole(arg: &str, base: u32) -> Option<Strto> {
    if arg.is_empty() {
        return None;
    }
    let r = strtoul(arg, base);
    (r.end != 0 && r.end == arg.len()).then_some(r)
}

/// `get_unsigned` / `get_u32`: an unsigned number up to `UINT_MAX`.
pub fn get_u32(arg: &str, base: u32) -> Option<u32> {
    let r = whole(arg, base)?;
    if r.value == u64::MAX && r.erange {
        return None;
    }
    u32::try_from(r.value).ok()
}

/// `get_u8`.
pub fn get_u8(arg: &str, base: u32) -> Option<u8> {
    let r = whole(arg, base)?;
    if r.value == u64::MAX && r.erange {
        return None;
    }
    u8::try_from(r.value).ok()
}

/// `get_integer` / `get_s32`: `strtol`, within `int`.
pub fn get_integer(arg: &str, base: u32) -> Option<i32> {
    let r = whole(arg, base)?;
    // strtol: the magnitude must fit a long of its sign.
    let mag = if r.neg { r.value.wrapping_neg() } else { r.value };
    if r.erange || (!r.neg && mag > i64::MAX as u64) || (r.neg && mag > 1u64 << 63) {
        return None;
    }
    let v: i64 = if r.neg { (mag as i64).wrapping_neg() } else { mag as i64 };
    i32::try_from(v).ok()
}

/// iproute2's `matches(cmd, pattern)`: `cmd` is a prefix of `pattern` (the empty string
/// included).
pub fn matches(cmd: &str, pattern: &str) -> bool {
    pattern.as_bytes().starts_with(cmd.as_bytes())
}

/// `family_name`.
pub fn family_name(family: u8) -> &'static str {
    match family {
        AF_INET => "inet",
        AF_INET6 => "inet6",
        AF_DECNET => "dnet",
        AF_PACKET => "link",
        4 => "ipx",
        AF_MPLS => "mpls",
        7 => "bridge",
        _ => "???",
    }
}

/// `read_family`.
pub fn read_family(name: &str) -> u8 {
    match name {
        "inet" => AF_INET,
        "inet6" => AF_INET6,
        "dnet" => AF_DECNET,
        "link" => AF_PACKET,
        "ipx" => 4,
        "mpls" => AF_MPLS,
        "bridge" => 7,
        _ => AF_UNSPEC,
    }
}

/// `inet_prefix`: an address or prefix as iproute2 parsed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InetPrefix {
    /// `family` (may stay `AF_UNSPEC` for `default`).
    pub family: u8,
    /// `bytelen`: what `addattr_l` sends (0: no attribute).
    pub bytelen: u8,
    /// `bitlen` (−1: an address without a length).
    pub bitlen: i32,
    /// `PREFIXLEN_SPECIFIED`.
    pub len_given: bool,
    /// `data`.
    pub data: [u8; 16],
}

impl InetPrefix {
    fn zero(family: u8) -> Self {
        InetPrefix { family, bytelen: 0, bitlen: 0, len_given: false, data: [0; 16] }
    }

    /// The attribute this becomes (`None` for `bytelen` 0).
    pub fn attr(&self) -> Option<InetAddr> {
        match self.bytelen {
            4 => Some(InetAddr::V4(Ipv4Addr::new(self.data[0], self.data[1], self.data[2], self.data[3]))),
            16 => Some(InetAddr::V6(Ipv6Addr::from(self.data))),
            _ => None,
        }
    }

    /// The length as `rtm_dst_len` (a `u8` in the header).
    pub fn len8(&self) -> u8 {
        self.bitlen as u8
    }
}

/// `get_addr_ipv4`: up to four parts, each `strtoul(…, 0)` ≤ 255, separated by dots;
/// missing parts are 0.
fn get_addr_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut ap = [0u8; 4];
    let mut cp = s;
    for (i, slot) in ap.iter_mut().enumerate() {
        let r = strtoul(cp, 0);
        if r.value > 255 || r.end == 0 {
            return None;
        }
        *slot = r.value as u8;
        let rest = &cp[r.end..];
        if rest.is_empty() {
            break;
        }
        if i == 3 || !rest.starts_with('.') {
            return None;
        }
        cp = &rest[1..];
    }
    Some(ap)
}

/// `get_addr_1`.
pub fn get_addr_1(name: &str, family: u8) -> Option<InetPrefix> {
    let mut a = InetPrefix::zero(family);
    if name == "default" || name == "all" || name == "any" {
        if family == AF_DECNET || family == AF_MPLS {
            return None;
        }
        a.bytelen = if family == AF_INET6 { 16 } else { 4 };
        a.bitlen = -1;
        return Some(a);
    }
    if family == AF_PACKET {
        // Link-layer addresses as inet prefixes: not needed by the commands k43 has.
        return None;
    }
    if name.contains(':') {
        a.family = AF_INET6;
        if family != AF_UNSPEC && family != AF_INET6 {
            return None;
        }
        let v: Ipv6Addr = name.parse().ok()?;
        a.data = v.octets();
        a.bytelen = 16;
        a.bitlen = -1;
        return Some(a);
    }
    if family == AF_DECNET || family == AF_MPLS {
        return None;
    }
    a.family = AF_INET;
    if family != AF_UNSPEC && family != AF_INET {
        return None;
    }
    let o = get_addr_ipv4(name)?;
    a.data[..4].copy_from_slice(&o);
    a.bytelen = 4;
    a.bitlen = -1;
    Some(a)
}

/// `af_bit_len`.
fn af_bit_len(af: u8) -> i32 {
    match af {
        AF_INET6 => 128,
        AF_INET => 32,
        AF_DECNET => 16,
        4 => 80,
        AF_MPLS => 20,
        _ => 0,
    }
}

/// `mask2bits`: a dotted netmask's length, if it is one.
fn mask2bits(m: u32) -> Option<u32> {
    let host = !m;
    if host & host.wrapping_add(1) != 0 {
        return None;
    }
    Some(m.count_ones())
}

/// `get_netmask`: a number, or a dotted-quad netmask.
fn get_netmask(arg: &str) -> Option<u32> {
    if let Some(v) = get_u32(arg, 0) {
        return Some(v);
    }
    let a = get_addr_1(arg, AF_INET).filter(|a| a.family == AF_INET)?;
    mask2bits(u32::from_be_bytes([a.data[0], a.data[1], a.data[2], a.data[3]]))
}

/// `get_prefix_1`.
pub fn get_prefix_1(arg: &str, family: u8) -> Option<InetPrefix> {
    if arg == "default" || arg == "any" || arg == "all" {
        if family == AF_DECNET || family == AF_MPLS {
            return None;
        }
        return Some(InetPrefix::zero(family));
    }
    let (addr, len) = match arg.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (arg, None),
    };
    let mut p = get_addr_1(addr, family)?;
    p.bitlen = af_bit_len(p.family);
    if let Some(l) = len {
        let plen = get_netmask(l)?;
        if i64::from(plen) > i64::from(p.bitlen) {
            return None;
        }
        p.len_given = true;
        p.bitlen = plen as i32;
    }
    Some(p)
}

/// `ll_addr_a2n` for a MAC: colon-separated hex bytes (`sscanf("%x")` each, so `0x`
/// prefixes and trailing junk in a part pass), or a dotted IPv4 address; at most `max`
/// bytes. `Err` carries the part iproute2 names in "\"%s\" is invalid lladdr.".
pub fn ll_addr_a2n(arg: &str, max: usize) -> Result<Vec<u8>, String> {
    if arg.contains('.') {
        let a = get_addr_1(arg, AF_INET).ok_or_else(|| String::from(arg))?;
        return Ok(a.data[..4].to_vec());
    }
    let mut out = Vec::new();
    for part in arg.split(':') {
        if out.len() == max {
            break;
        }
        // sscanf("%x") into an int, then `temp < 0 || temp > 255` refused.
        let r = strtoul(part, 16);
        if r.end == 0 || r.neg || r.erange || r.value > 255 {
            return Err(String::from(part));
        }
        out.push(r.value as u8);
    }
    Ok(out)
}

/// `rtnl_rtntype_a2n` (route types; rule actions share the numbers).
pub fn rtntype_a2n(arg: &str) -> Option<u8> {
    let v = if arg == "local" {
        2
    } else if arg == "nat" {
        10
    } else if matches(arg, "broadcast") || arg == "brd" {
        3
    } else if matches(arg, "anycast") {
        4
    } else if matches(arg, "multicast") {
        5
    } else if matches(arg, "prohibit") {
        8
    } else if matches(arg, "unreachable") {
        7
    } else if matches(arg, "blackhole") {
        6
    } else if matches(arg, "xresolve") {
        11
    } else if matches(arg, "unicast") {
        1
    } else if arg == "throw" {
        9
    } else {
        let r = whole(arg, 0)?;
        return u8::try_from(r.value).ok();
    };
    Some(v)
}

/// A name table lookup then a number up to `max` (`rtnl_*_a2n`'s shape).
fn name_or_num(arg: &str, names: &[(&str, u32)], base: u32, max: u64) -> Option<u32> {
    if let Some((_, v)) = names.iter().find(|(n, _)| *n == arg) {
        return Some(*v);
    }
    let r = whole(arg, base)?;
    (r.value <= max).then_some(r.value as u32)
}

/// `rtnl_rtprot_a2n`: the table as `/etc/iproute2/rt_protos` leaves it (protocol 0 is
/// `unspec` there; `none` is only the built-in name it replaces).
pub fn rtprot_a2n(arg: &str) -> Option<u8> {
    const NAMES: [(&str, u32); 24] = [
        ("unspec", 0),
        ("redirect", 1),
        ("kernel", 2),
        ("boot", 3),
        ("static", 4),
        ("gated", 8),
        ("ra", 9),
        ("mrt", 10),
        ("zebra", 11),
        ("bird", 12),
        ("dnrouted", 13),
        ("xorp", 14),
        ("ntk", 15),
        ("dhcp", 16),
        ("babel", 42),
        ("gated/default", 246),
        ("gated/inet", 247),
        ("gated/conn", 248),
        ("gated/static", 249),
        ("gated/rip", 250),
        ("gated/ospfase", 251),
        ("gated/ospf", 252),
        ("gated/bgp", 253),
        ("gated/aggr", 254),
    ];
    name_or_num(arg, &NAMES, 0, 255).map(|v| v as u8)
}

/// `rtnl_rtscope_a2n`.
pub fn rtscope_a2n(arg: &str) -> Option<u8> {
    const NAMES: [(&str, u32); 5] = [("global", 0), ("site", 200), ("link", 253), ("host", 254), ("nowhere", 255)];
    name_or_num(arg, &NAMES, 0, 255).map(|v| v as u8)
}

/// `rtnl_rttable_a2n`: `local`, `main`, `default`, `unspec`, or a number (`strtoul`'s
/// result stored in a `__u32`, so larger numbers wrap).
pub fn rttable_a2n(arg: &str) -> Option<u32> {
    const NAMES: [(&str, u32); 4] = [("local", 255), ("main", 254), ("default", 253), ("unspec", 0)];
    if let Some((_, v)) = NAMES.iter().find(|(n, _)| *n == arg) {
        return Some(*v);
    }
    whole(arg, 0).map(|r| r.value as u32)
}

/// `rtnl_dsfield_a2n`: the shipped `rt_dsfield` names, else hexadecimal up to 0xff.
pub fn dsfield_a2n(arg: &str) -> Option<u8> {
    const NAMES: [(&str, u32); 22] = [
        ("default", 0x00),
        ("AF11", 0x28),
        ("AF12", 0x30),
        ("AF13", 0x38),
        ("AF21", 0x48),
        ("AF22", 0x50),
        ("AF23", 0x58),
        ("AF31", 0x68),
        ("AF32", 0x70),
        ("AF33", 0x78),
        ("AF41", 0x88),
        ("AF42", 0x90),
        ("AF43", 0x98),
        ("CS1", 0x20),
        ("CS2", 0x40),
        ("CS3", 0x60),
        ("CS4", 0x80),
        ("CS5", 0xa0),
        ("CS6", 0xc0),
        ("CS7", 0xe0),
        ("EF", 0xb8),
        ("0", 0),
    ];
    name_or_num(arg, &NAMES, 16, 255).map(|v| v as u8)
}

/// `rtnl_group_a2n`: `default` (the shipped `group` file) or a number.
pub fn group_a2n(arg: &str) -> Option<i32> {
    if arg == "default" {
        return Some(0);
    }
    let r = whole(arg, 0)?;
    Some(r.value as i32)
}

/// `fnmatch(pattern, s, 0)` for `*`, `?` and literal characters (no brackets).
pub fn fnmatch(pattern: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8], depth: usize) -> bool {
        if depth > 64 {
            return false;
        }
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|k| go(rest, &s[k..], depth + 1)),
            Some((b'?', rest)) => !s.is_empty() && go(rest, &s[1..], depth),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..], depth),
        }
    }
    go(pattern.as_bytes(), s.as_bytes(), 0)
}

/// `sscanf(name, "if%u", &idx)`: iproute2's fallback name for an index it cannot name.
pub fn if_index_name(name: &str) -> u32 {
    let Some(rest) = name.strip_prefix("if") else { return 0 };
    let r = strtoul(rest, 10);
    if r.end == 0 {
        return 0;
    }
    r.value as u32
}

/// `format!` shorthand for the error texts.
pub fn q(s: &str) -> String {
    alloc::format!("\"{s}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_parsing() {
        assert_eq!(get_u32("0x10", 0), Some(16));
        assert_eq!(get_u32("010", 0), Some(8));
        assert_eq!(get_u32(" 7", 0), Some(7));
        assert_eq!(get_u32("7 ", 0), None);
        assert_eq!(get_u32("-1", 0), None);
        assert_eq!(get_u32("-0", 0), Some(0));
        assert_eq!(get_u32("4294967296", 0), None);
        assert_eq!(get_u32("", 0), None);
        assert_eq!(get_u32("0x", 0), None);
        assert_eq!(get_integer("-5", 0), Some(-5));
        assert_eq!(get_integer("2147483648", 0), None);
        assert_eq!(get_u8("256", 0), None);
        // rtnl_rttable_a2n stores strtoul's value in a __u32.
        assert_eq!(rttable_a2n("4294967296"), Some(0));
        assert_eq!(rttable_a2n("main"), Some(254));
        assert_eq!(dsfield_a2n("10"), Some(0x10));
        assert_eq!(dsfield_a2n("EF"), Some(0xb8));
        assert_eq!(rtprot_a2n("none"), None);
        assert_eq!(rtprot_a2n("unspec"), Some(0));
        assert_eq!(rtntype_a2n("un"), Some(7));
        assert_eq!(rtntype_a2n(""), Some(3));
        assert_eq!(rtntype_a2n("default"), None);
    }

    #[test]
    fn prefixes_as_get_prefix_reads_them() {
        let p = get_prefix_1("10.1/16", AF_UNSPEC).unwrap();
        assert_eq!((p.family, p.bitlen, p.bytelen, &p.data[..4]), (AF_INET, 16, 4, &[10, 1, 0, 0][..]));
        let p = get_prefix_1("10.0.0.0/255.255.255.0", AF_UNSPEC).unwrap();
        assert_eq!(p.bitlen, 24);
        assert!(get_prefix_1("10.0.0.0/255.0.255.0", AF_UNSPEC).is_none());
        assert!(get_prefix_1("10.0.0.0/33", AF_UNSPEC).is_none());
        assert!(get_prefix_1("256.0.0.0", AF_UNSPEC).is_none());
        assert!(get_prefix_1("1.2.3.4.5", AF_UNSPEC).is_none());
        let d = get_prefix_1("default", AF_UNSPEC).unwrap();
        assert_eq!((d.family, d.bitlen, d.bytelen), (AF_UNSPEC, 0, 0));
        let p = get_prefix_1("2001:db8::/32", AF_UNSPEC).unwrap();
        assert_eq!((p.family, p.bitlen, p.len_given), (AF_INET6, 32, true));
        assert!(get_prefix_1("2001:db8::/32", AF_INET).is_none());
        assert!(get_prefix_1("10.0.0.0/8", AF_INET6).is_none());
        assert_eq!(get_addr_1("default", AF_INET6).map(|a| a.bytelen), Some(16));
        assert_eq!(ll_addr_a2n("52:54:0:a:b:c", 20), Ok([0x52, 0x54, 0, 0xa, 0xb, 0xc].to_vec()));
        assert_eq!(ll_addr_a2n("52:zz", 20), Err(String::from("zz")));
        assert!(fnmatch("eth*", "eth0") && fnmatch("e?h0", "eth0") && !fnmatch("eth", "eth0"));
        assert_eq!((if_index_name("if7"), if_index_name("eth0")), (7, 0));
    }
}
