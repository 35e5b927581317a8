//! Frames written as scapy writes them, for the scenario statement
//! `inject HOST.ethN LAYER/LAYER/…`: `Ether()/IPv6(src=2001:db8::9, hlim=1)/UDP(dport=9)/"x"`.
//! Lengths, next-header/protocol fields and checksums are filled in unless a layer gives
//! them (`UDP(chksum=0)`, `IPv6(plen=100)`), so a scenario states only what its test is
//! about. Parsed when the scenario is read (errors point at the column); built when the
//! statement runs, when the receiving NIC's MAC (Ether's default `dst`) is known.
//!
//! Layers and fields (defaults in brackets):
//! - `Ether(dst=[the NIC's MAC], src=[02:00:00:00:00:01], type=[from the next layer],
//!   pad=[0] (zero bytes after the frame's last layer, in no length))`
//! - `IPv6(src=[fe80::1], dst=[2001:db8::1], hlim=[64], tc=[0], fl=[0], nh, plen)`
//! - `HBH(opts="…", nh)`, `DestOpt(opts="…", nh)`: the option bytes after the 2-byte
//!   header, whose length must make the header a multiple of 8
//! - `Routing(type=[0], segleft=[0], data="…", nh)`: `data` follows the 4-byte header
//! - `Frag(offset=[0] (bytes), m=[0], id=[0], nh)`
//! - `UDP(sport=[40000], dport=[7], len, chksum)`
//! - `ICMPv6(type, code=[0], word=[0], chksum)`, `EchoRequest6(id=[0], seq=[0])`,
//!   `EchoReply6(id, seq)`, `NS(tgt, sll=[none])`, `NA(tgt, flags=[0x60] (R|S|O bits as
//!   the top byte), tll=[none])`
//! - `IP(src=[10.0.0.9], dst=[10.0.0.1], ttl=[64], tos=[0], id=[1], flags=[0] (2 = DF,
//!   1 = MF), frag=[0] (bytes), proto, len, chksum, opts="…")`
//! - `ICMP(type=[8], code=[0], id=[0], seq=[0], chksum)`
//! - `ARP(op=[1], hwsrc=[02:00:00:00:00:01], psrc, hwdst=[00:…], pdst)`
//! - `"bytes"` (C escapes) or `Raw(len=N)` (N bytes 0x00..)

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};
use kernel::net::wire::checksum;

/// A field's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    /// A number.
    Num(u64),
    /// An IPv6 address.
    V6(Ipv6Addr),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// A MAC address.
    Mac([u8; 6]),
    /// Bytes.
    Bytes(Vec<u8>),
}

/// One layer: its name and fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// `Ether`, `IPv6`, … or `Raw` for a string.
    pub name: String,
    /// Fields as written.
    pub fields: Vec<(String, Val)>,
}

const LAYERS: &[(&str, &[&str])] = &[
    ("Ether", &["dst", "src", "type", "pad"]),
    ("IPv6", &["src", "dst", "hlim", "tc", "fl", "nh", "plen"]),
    ("HBH", &["opts", "nh"]),
    ("DestOpt", &["opts", "nh"]),
    ("Routing", &["type", "segleft", "data", "nh"]),
    ("Frag", &["offset", "m", "id", "nh"]),
    ("UDP", &["sport", "dport", "len", "chksum"]),
    ("ICMPv6", &["type", "code", "word", "chksum"]),
    ("EchoRequest6", &["id", "seq", "chksum"]),
    ("EchoReply6", &["id", "seq", "chksum"]),
    ("NS", &["tgt", "sll", "chksum"]),
    ("NA", &["tgt", "flags", "tll", "chksum"]),
    ("IP", &["src", "dst", "ttl", "tos", "id", "flags", "frag", "proto", "len", "chksum", "opts"]),
    ("ICMP", &["type", "code", "id", "seq", "chksum"]),
    ("ARP", &["op", "hwsrc", "psrc", "hwdst", "pdst"]),
    ("Raw", &["len", "load"]),
];

/// Parses `text` (the rest of an `inject` line); `Err((byte offset, message))`.
pub fn parse(text: &str) -> Result<Vec<Layer>, (usize, String)> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut layers = Vec::new();
    let ws = |i: &mut usize| {
        while *i < b.len() && (b[*i] == b' ' || b[*i] == b'\t') {
            *i += 1;
        }
    };
    loop {
        ws(&mut i);
        if b.get(i) == Some(&b'"') {
            let (bytes, n) = string(&b[i..]).ok_or((i, String::from("unterminated string")))?;
            layers.push(Layer { name: "Raw".into(), fields: vec![("load".into(), Val::Bytes(bytes))] });
            i += n;
        } else {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let name = &text[start..i];
            let Some((_, known)) = LAYERS.iter().find(|l| l.0 == name) else {
                return Err((start, format!("unknown layer '{name}' (known: {})", LAYERS.iter().map(|l| l.0).collect::<Vec<_>>().join(", "))));
            };
            if b.get(i) != Some(&b'(') {
                return Err((i, format!("expected '(' after {name}")));
            }
            i += 1;
            let mut fields = Vec::new();
            loop {
                ws(&mut i);
                if b.get(i) == Some(&b')') {
                    i += 1;
                    break;
                }
                let fs = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let f = &text[fs..i];
                if !known.contains(&f) {
                    return Err((fs, format!("{name} has no field '{f}' (fields: {})", known.join(", "))));
                }
                ws(&mut i);
                if b.get(i) != Some(&b'=') {
                    return Err((i, String::from("expected '='")));
                }
                i += 1;
                ws(&mut i);
                let vs = i;
                let v = if b.get(i) == Some(&b'"') {
                    let (bytes, n) = string(&b[i..]).ok_or((i, String::from("unterminated string")))?;
                    i += n;
                    Val::Bytes(bytes)
                } else {
                    while i < b.len() && !matches!(b[i], b',' | b')' | b' ' | b'\t') {
                        i += 1;
                    }
                    value(&text[vs..i]).ok_or((vs, format!("bad value '{}' (a number, an IPv4/IPv6 or MAC address, or a string)", &text[vs..i])))?
                };
                fields.push((f.to_string(), v));
                ws(&mut i);
                match b.get(i) {
                    Some(b',') => i += 1,
                    Some(b')') => {}
                    _ => return Err((i, String::from("expected ',' or ')'"))),
                }
            }
            layers.push(Layer { name: name.into(), fields });
        }
        ws(&mut i);
        match b.get(i) {
            None => break,
            Some(b'/') => i += 1,
            Some(_) => return Err((i, String::from("expected '/' between layers"))),
        }
    }
    if layers.is_empty() {
        return Err((0, String::from("expected a frame, e.g. Ether()/IPv6()/UDP()")));
    }
    Ok(layers)
}

fn value(s: &str) -> Option<Val> {
    if let Some(h) = s.strip_prefix("0x") {
        return u64::from_str_radix(h, 16).ok().map(Val::Num);
    }
    if let Ok(n) = s.parse::<u64>() {
        return Some(Val::Num(n));
    }
    if let Ok(a) = s.parse::<Ipv4Addr>() {
        return Some(Val::V4(a));
    }
    if let Ok(a) = s.parse::<Ipv6Addr>() {
        return Some(Val::V6(a));
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() == 6 && parts.iter().all(|p| p.len() == 2) {
        let mut m = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            m[i] = u8::from_str_radix(p, 16).ok()?;
        }
        return Some(Val::Mac(m));
    }
    None
}

/// A C string literal at the start of `b`: its bytes and the length consumed.
fn string(b: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Some((out, i + 1)),
            b'\\' => {
                let c = *b.get(i + 1)?;
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'0' => out.push(0),
                    b'\\' | b'"' => out.push(c),
                    b'x' => {
                        let h = core::str::from_utf8(b.get(i..i + 2)?).ok()?;
                        out.push(u8::from_str_radix(h, 16).ok()?);
                        i += 2;
                    }
                    _ => return None,
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    None
}

impl Layer {
    fn get(&self, f: &str) -> Option<&Val> {
        self.fields.iter().find(|(n, _)| n == f).map(|(_, v)| v)
    }
    fn num(&self, f: &str, default: u64) -> Result<u64, String> {
        match self.get(f) {
            None => Ok(default),
            Some(Val::Num(n)) => Ok(*n),
            Some(v) => Err(format!("{}.{f} must be a number, not {v:?}", self.name)),
        }
    }
    fn v6(&self, f: &str, default: &str) -> Result<Ipv6Addr, String> {
        match self.get(f) {
            None => default.parse().map_err(|_| String::new()),
            Some(Val::V6(a)) => Ok(*a),
            Some(v) => Err(format!("{}.{f} must be an IPv6 address, not {v:?}", self.name)),
        }
    }
    fn v4(&self, f: &str, default: Ipv4Addr) -> Result<Ipv4Addr, String> {
        match self.get(f) {
            None => Ok(default),
            Some(Val::V4(a)) => Ok(*a),
            Some(v) => Err(format!("{}.{f} must be an IPv4 address, not {v:?}", self.name)),
        }
    }
    fn mac(&self, f: &str, default: [u8; 6]) -> Result<[u8; 6], String> {
        match self.get(f) {
            None => Ok(default),
            Some(Val::Mac(m)) => Ok(*m),
            Some(v) => Err(format!("{}.{f} must be a MAC address, not {v:?}", self.name)),
        }
    }
    fn bytes(&self, f: &str) -> Result<Vec<u8>, String> {
        match self.get(f) {
            None => Ok(Vec::new()),
            Some(Val::Bytes(b)) => Ok(b.clone()),
            Some(v) => Err(format!("{}.{f} must be a string, not {v:?}", self.name)),
        }
    }

    /// The protocol number this layer is, for the one before it.
    fn proto(&self) -> Option<u64> {
        Some(match self.name.as_str() {
            "HBH" => 0,
            "Routing" => 43,
            "Frag" => 44,
            "DestOpt" => 60,
            "UDP" => 17,
            "ICMPv6" | "EchoRequest6" | "EchoReply6" | "NS" | "NA" => 58,
            "ICMP" => 1,
            "IPv6" => 41,
            "IP" => 4,
            _ => return None,
        })
    }
}

/// Where the pseudo-header comes from.
#[derive(Clone, Copy)]
enum Net {
    None,
    V6(Ipv6Addr, Ipv6Addr),
    V4(Ipv4Addr, Ipv4Addr),
}

/// Builds the frame; `nic_mac` is Ether's default destination.
pub fn build(layers: &[Layer], nic_mac: [u8; 6]) -> Result<Vec<u8>, String> {
    build_from(layers, nic_mac, Net::None)
}

fn build_from(layers: &[Layer], nic_mac: [u8; 6], net: Net) -> Result<Vec<u8>, String> {
    let Some((l, rest)) = layers.split_first() else { return Ok(Vec::new()) };
    let next = rest.first().and_then(Layer::proto);
    let nh = |l: &Layer| l.num("nh", next.unwrap_or(59)).map(|v| v as u8);
    Ok(match l.name.as_str() {
        "Ether" => {
            let ty = match rest.first().map(|x| x.name.as_str()) {
                Some("IPv6") => 0x86dd,
                Some("IP") => 0x0800,
                Some("ARP") => 0x0806,
                _ => 0x88b5,
            };
            let mut f = l.mac("dst", nic_mac)?.to_vec();
            f.extend_from_slice(&l.mac("src", [2, 0, 0, 0, 0, 1])?);
            f.extend_from_slice(&(l.num("type", ty)? as u16).to_be_bytes());
            f.extend(build_from(rest, nic_mac, net)?);
            // Trailing bytes no length covers (Ethernet padding).
            f.resize(f.len() + l.num("pad", 0)?.min(1500) as usize, 0);
            f
        }
        "IPv6" => {
            let (src, dst) = (l.v6("src", "fe80::1")?, l.v6("dst", "2001:db8::1")?);
            let payload = build_from(rest, nic_mac, Net::V6(src, dst))?;
            let (tc, fl) = (l.num("tc", 0)? as u32, l.num("fl", 0)? as u32);
            let mut h = ((6u32 << 28) | ((tc & 0xff) << 20) | (fl & 0xf_ffff)).to_be_bytes().to_vec();
            h.extend_from_slice(&(l.num("plen", payload.len() as u64)? as u16).to_be_bytes());
            h.push(nh(l)?);
            h.push(l.num("hlim", 64)? as u8);
            h.extend_from_slice(&src.octets());
            h.extend_from_slice(&dst.octets());
            h.extend(payload);
            h
        }
        "HBH" | "DestOpt" => {
            let opts = l.bytes("opts")?;
            let total = 2 + opts.len();
            if total % 8 != 0 {
                return Err(format!("{}: 2 + {} option bytes is not a multiple of 8", l.name, opts.len()));
            }
            let mut h = vec![nh(l)?, (total / 8 - 1) as u8];
            h.extend(opts);
            h.extend(build_from(rest, nic_mac, net)?);
            h
        }
        "Routing" => {
            let data = l.bytes("data")?;
            let total = 4 + data.len();
            if total % 8 != 0 {
                return Err(format!("Routing: 4 + {} data bytes is not a multiple of 8", data.len()));
            }
            let mut h = vec![nh(l)?, (total / 8 - 1) as u8, l.num("type", 0)? as u8, l.num("segleft", 0)? as u8];
            h.extend(data);
            h.extend(build_from(rest, nic_mac, net)?);
            h
        }
        "Frag" => {
            let off = l.num("offset", 0)?;
            let mut h = vec![nh(l)?, 0];
            h.extend_from_slice(&(((off & 0xfff8) as u16) | (l.num("m", 0)? as u16 & 1)).to_be_bytes());
            h.extend_from_slice(&(l.num("id", 0)? as u32).to_be_bytes());
            // What follows a fragment header is fragment data: no checksums of its own.
            h.extend(build_from(rest, nic_mac, net)?);
            h
        }
        "UDP" => {
            let payload = build_from(rest, nic_mac, Net::None)?;
            let mut u = (l.num("sport", 40000)? as u16).to_be_bytes().to_vec();
            u.extend_from_slice(&(l.num("dport", 7)? as u16).to_be_bytes());
            u.extend_from_slice(&(l.num("len", 8 + payload.len() as u64)? as u16).to_be_bytes());
            u.extend_from_slice(&[0, 0]);
            u.extend(payload);
            let c = upper_checksum(net, 17, &u);
            let c = if c == 0 { 0xffff } else { c };
            u[6..8].copy_from_slice(&(l.num("chksum", u64::from(c))? as u16).to_be_bytes());
            u
        }
        "ICMPv6" | "EchoRequest6" | "EchoReply6" | "NS" | "NA" => {
            let mut m = match l.name.as_str() {
                "ICMPv6" => {
                    let mut m = vec![l.num("type", 128)? as u8, l.num("code", 0)? as u8, 0, 0];
                    m.extend_from_slice(&(l.num("word", 0)? as u32).to_be_bytes());
                    m
                }
                "EchoRequest6" | "EchoReply6" => {
                    let mut m = vec![if l.name == "EchoRequest6" { 128 } else { 129 }, 0, 0, 0];
                    m.extend_from_slice(&(l.num("id", 0)? as u16).to_be_bytes());
                    m.extend_from_slice(&(l.num("seq", 0)? as u16).to_be_bytes());
                    m
                }
                _ => {
                    let ns = l.name == "NS";
                    let mut m = vec![if ns { 135 } else { 136 }, 0, 0, 0];
                    m.push(if ns { 0 } else { l.num("flags", 0x60)? as u8 });
                    m.extend_from_slice(&[0, 0, 0]);
                    m.extend_from_slice(&l.v6("tgt", "2001:db8::1")?.octets());
                    let (opt, f) = if ns { (1u8, "sll") } else { (2u8, "tll") };
                    if l.get(f).is_some() {
                        m.extend_from_slice(&[opt, 1]);
                        m.extend_from_slice(&l.mac(f, [0; 6])?);
                    }
                    m
                }
            };
            m.extend(build_from(rest, nic_mac, Net::None)?);
            let c = upper_checksum(net, 58, &m);
            m[2..4].copy_from_slice(&(l.num("chksum", u64::from(c))? as u16).to_be_bytes());
            m
        }
        "IP" => {
            let (src, dst) = (l.v4("src", Ipv4Addr::new(10, 0, 0, 9))?, l.v4("dst", Ipv4Addr::new(10, 0, 0, 1))?);
            let opts = l.bytes("opts")?;
            if opts.len() % 4 != 0 || opts.len() > 40 {
                return Err(format!("IP: {} option bytes; options come in 4-byte words, at most 40", opts.len()));
            }
            let payload = build_from(rest, nic_mac, Net::V4(src, dst))?;
            let hlen = 20 + opts.len();
            let mut h = vec![0x40 | (hlen / 4) as u8, l.num("tos", 0)? as u8];
            h.extend_from_slice(&(l.num("len", (hlen + payload.len()) as u64)? as u16).to_be_bytes());
            h.extend_from_slice(&(l.num("id", 1)? as u16).to_be_bytes());
            let ff = ((l.num("flags", 0)? as u16 & 7) << 13) | ((l.num("frag", 0)? / 8) as u16 & 0x1fff);
            h.extend_from_slice(&ff.to_be_bytes());
            h.push(l.num("ttl", 64)? as u8);
            h.push(l.num("proto", next.unwrap_or(255))? as u8);
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(&src.octets());
            h.extend_from_slice(&dst.octets());
            h.extend(opts);
            let c = checksum::checksum(&h);
            h[10..12].copy_from_slice(&(l.num("chksum", u64::from(c))? as u16).to_be_bytes());
            h.extend(payload);
            h
        }
        "ICMP" => {
            let mut m = vec![l.num("type", 8)? as u8, l.num("code", 0)? as u8, 0, 0];
            m.extend_from_slice(&(l.num("id", 0)? as u16).to_be_bytes());
            m.extend_from_slice(&(l.num("seq", 0)? as u16).to_be_bytes());
            m.extend(build_from(rest, nic_mac, Net::None)?);
            let c = checksum::checksum(&m);
            m[2..4].copy_from_slice(&(l.num("chksum", u64::from(c))? as u16).to_be_bytes());
            m
        }
        "ARP" => {
            let mut a = vec![0, 1, 8, 0, 6, 4];
            a.extend_from_slice(&(l.num("op", 1)? as u16).to_be_bytes());
            a.extend_from_slice(&l.mac("hwsrc", [2, 0, 0, 0, 0, 1])?);
            a.extend_from_slice(&l.v4("psrc", Ipv4Addr::new(10, 0, 0, 9))?.octets());
            a.extend_from_slice(&l.mac("hwdst", [0; 6])?);
            a.extend_from_slice(&l.v4("pdst", Ipv4Addr::new(10, 0, 0, 1))?.octets());
            a.extend(build_from(rest, nic_mac, net)?);
            a
        }
        _ => {
            let mut b = l.bytes("load")?;
            b.extend((0..l.num("len", 0)?.min(65535)).map(|i| i as u8));
            b.extend(build_from(rest, nic_mac, net)?);
            b
        }
    })
}

fn upper_checksum(net: Net, proto: u8, msg: &[u8]) -> u16 {
    let pseudo = match net {
        Net::V6(s, d) => checksum::pseudo_header_v6(&s, &d, proto, msg.len() as u32),
        Net::V4(s, d) => checksum::pseudo_header_v4(&s, &d, proto, msg.len() as u16),
        Net::None => 0,
    };
    checksum::fold(checksum::combine(&[pseudo, checksum::sum(msg)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_over_ipv6_has_valid_lengths_and_checksum() {
        let l = parse("Ether()/IPv6(src=2001:db8::9, dst=2001:db8::1, hlim=1)/UDP(dport=9)/\"hi\"").unwrap();
        let f = build(&l, [0x52, 0x54, 0, 0, 0, 1]).unwrap();
        assert_eq!(&f[0..6], &[0x52, 0x54, 0, 0, 0, 1]);
        assert_eq!(&f[12..14], &[0x86, 0xdd]);
        assert_eq!(u16::from_be_bytes([f[18], f[19]]), 10);
        assert_eq!((f[20], f[21]), (17, 1));
        let (s, d): (Ipv6Addr, Ipv6Addr) = ("2001:db8::9".parse().unwrap(), "2001:db8::1".parse().unwrap());
        let u = &f[54..];
        assert_eq!(checksum::fold(checksum::combine(&[checksum::pseudo_header_v6(&s, &d, 17, u.len() as u32), checksum::sum(u)])), 0);
        assert_eq!(&u[8..], b"hi");
    }

    #[test]
    fn errors_point_at_the_column() {
        assert_eq!(parse("Ether()/Bogus()").unwrap_err().0, 8);
        assert_eq!(parse("IPv6(hop=1)").unwrap_err().1, "IPv6 has no field 'hop' (fields: src, dst, hlim, tc, fl, nh, plen)");
        assert!(parse("IPv6(src=zz)").is_err());
        assert!(build(&parse("HBH(opts=\"\\x01\")").unwrap(), [0; 6]).is_err());
        for t in ["", "Ether(", "\"abc", "IP(src=1.2.3.4", "UDP()/", "Raw(len=70000)"] {
            let _ = parse(t).map(|l| build(&l, [0; 6]));
        }
    }
}
