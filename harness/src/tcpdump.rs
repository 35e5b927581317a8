//! One-line summaries of Ethernet frames in the manner of `tcpdump -n`, for the trace
//! lines of frames crossing a scenario's wire. Decoded from the raw bytes (not the
//! kernel's parsers), so a frame the kernel would reject — bad checksum, truncated —
//! still gets a line saying what it looks like.

use alloc::format;
use alloc::string::String;
use core::net::{Ipv4Addr, Ipv6Addr};

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn v4(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    Some(Ipv4Addr::from(<[u8; 4]>::try_from(b.get(at..at + 4)?).ok()?))
}

fn v6(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    Some(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(at..at + 16)?).ok()?))
}

fn mac(b: &[u8], at: usize) -> Option<String> {
    let m = b.get(at..at + 6)?;
    Some(format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]))
}

/// The summary of `frame`: `ARP, …`, `IP …`, `IP6 …`, or the EtherType for others.
pub fn summary(frame: &[u8]) -> String {
    let Some(ethertype) = be16(frame, 12) else { return format!("[|ether] length {}", frame.len()) };
    let p = &frame[14..];
    let s = match ethertype {
        0x0806 => arp(p),
        0x0800 => ipv4(p),
        0x86dd => ipv6(p),
        t => Some(format!("ethertype 0x{t:04x}, length {}", frame.len())),
    };
    s.unwrap_or_else(|| format!("truncated, ethertype 0x{ethertype:04x}, length {}", frame.len()))
}

fn arp(p: &[u8]) -> Option<String> {
    let (spa, tpa) = (v4(p, 14)?, v4(p, 24)?);
    Some(match be16(p, 6)? {
        1 => format!("ARP, Request who-has {tpa} tell {spa}, length {}", p.len()),
        2 => format!("ARP, Reply {spa} is-at {}, length {}", mac(p, 8)?, p.len()),
        op => format!("ARP, op {op}, length {}", p.len()),
    })
}

fn ports(p: &[u8]) -> Option<(u16, u16)> {
    Some((be16(p, 0)?, be16(p, 2)?))
}

fn ipv4(p: &[u8]) -> Option<String> {
    let ihl = usize::from(*p.first()? & 0x0f) * 4;
    let total = usize::from(be16(p, 2)?).min(p.len());
    let (id, frag) = (be16(p, 4)?, be16(p, 6)?);
    let (ttl, proto) = (*p.get(8)?, *p.get(9)?);
    let (src, dst) = (v4(p, 12)?, v4(p, 16)?);
    let body = p.get(ihl..total)?;
    let off = (frag & 0x1fff) * 8;
    let mf = frag & 0x2000 != 0;
    let fragment = if off > 0 || mf { format!(" (frag {id}:{}@{off}{})", body.len(), if mf { "+" } else { "" }) } else { String::new() };
    if off > 0 {
        return Some(format!("IP {src} > {dst}: ip-proto-{proto}{fragment}, ttl {ttl}"));
    }
    let what = match proto {
        1 => {
            let (t, c) = (*body.first()?, *body.get(1)?);
            let text = match t {
                0 => format!("ICMP echo reply, id {}, seq {}", be16(body, 4)?, be16(body, 6)?),
                8 => format!("ICMP echo request, id {}, seq {}", be16(body, 4)?, be16(body, 6)?),
                3 => format!("ICMP {} unreachable{}", unreach4(c), if c == 4 { format!(" - need to frag (mtu {})", be16(body, 6)?) } else { String::new() }),
                // print-icmp.c's texts for the codes it names.
                11 if c == 1 => String::from("ICMP ip reassembly time exceeded"),
                11 => String::from("ICMP time exceeded in-transit"),
                12 if c == 0 => format!("ICMP parameter problem - octet {}", *body.get(4)?),
                12 => format!("ICMP parameter problem - code {c}"),
                13 => String::from("ICMP time stamp query"),
                14 => String::from("ICMP time stamp reply"),
                t => format!("ICMP type-#{t}"),
            };
            return Some(format!("IP {src} > {dst}: {text}, length {}{fragment}", body.len()));
        }
        17 => {
            let (sp, dp) = ports(body)?;
            return Some(format!("IP {src}.{sp} > {dst}.{dp}: UDP, length {}{fragment}", body.len().saturating_sub(8)));
        }
        6 => "tcp",
        p => return Some(format!("IP {src} > {dst}: ip-proto-{p} {}{fragment}", body.len())),
    };
    Some(format!("IP {src} > {dst}: {what} {}{fragment}", body.len()))
}

fn unreach4(code: u8) -> &'static str {
    match code {
        0 => "net",
        1 => "host",
        2 => "protocol",
        3 => "port",
        4 => "frag",
        5 => "source route",
        13 => "admin prohibited filter",
        _ => "other",
    }
}

fn ipv6(p: &[u8]) -> Option<String> {
    let plen = usize::from(be16(p, 4)?);
    let (mut nh, hlim) = (*p.get(6)?, *p.get(7)?);
    let (src, dst) = (v6(p, 8)?, v6(p, 24)?);
    let end = (40 + plen).min(p.len());
    let mut at = 40;
    let mut fragment = String::new();
    // The extension-header chain, as far as it is intact.
    loop {
        match nh {
            0 | 43 | 60 => {
                let next = *p.get(at)?;
                at += (usize::from(*p.get(at + 1)?) + 1) * 8;
                nh = next;
            }
            44 => {
                let (next, offm) = (*p.get(at)?, be16(p, at + 2)?);
                let id = u32::from_be_bytes(p.get(at + 4..at + 8)?.try_into().ok()?);
                let (off, more) = (offm & 0xfff8, offm & 1 != 0);
                at += 8;
                fragment = format!("frag (0x{id:08x}:{off}|{}{}) ", end.saturating_sub(at), if more { "+" } else { "" });
                if off > 0 {
                    return Some(format!("IP6 {src} > {dst}: {fragment}ip-proto-{next}, hlim {hlim}"));
                }
                nh = next;
            }
            _ => break,
        }
    }
    let body = p.get(at..end)?;
    let what = match nh {
        58 => icmp6(body)?,
        17 => {
            let (sp, dp) = ports(body)?;
            return Some(format!("IP6 {src}.{sp} > {dst}.{dp}: {fragment}UDP, length {}", body.len().saturating_sub(8)));
        }
        n => format!("ip-proto-{n} {}", body.len()),
    };
    Some(format!("IP6 {src} > {dst}: {fragment}{what}"))
}

fn icmp6(m: &[u8]) -> Option<String> {
    let (t, c) = (*m.first()?, *m.get(1)?);
    let text = match t {
        1 => format!(
            "destination unreachable, {}",
            match c {
                0 => "unreachable route",
                1 => "unreachable prohibited",
                2 => "beyond scope",
                3 => "unreachable address",
                4 => "unreachable port",
                _ => "unknown code",
            }
        ),
        2 => format!("packet too big, mtu {}", u32::from_be_bytes(m.get(4..8)?.try_into().ok()?)),
        3 => String::from(if c == 0 { "time exceeded in-transit" } else { "time exceeded reassembly" }),
        4 => format!("parameter problem, code {c}, pointer {}", u32::from_be_bytes(m.get(4..8)?.try_into().ok()?)),
        128 => format!("echo request, id {}, seq {}", be16(m, 4)?, be16(m, 6)?),
        129 => format!("echo reply, id {}, seq {}", be16(m, 4)?, be16(m, 6)?),
        133 => String::from("router solicitation"),
        134 => String::from("router advertisement"),
        135 => format!("neighbor solicitation, who has {}", v6(m, 8)?),
        136 => format!("neighbor advertisement, tgt is {}", v6(m, 8)?),
        137 => String::from("redirect"),
        143 => String::from("multicast listener report v2"),
        t => format!("type {t}"),
    };
    Some(format!("ICMP6, {text}, length {}", m.len()))
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn arp_and_garbage() {
        let mut f = [0u8; 42];
        f[12..14].copy_from_slice(&[0x08, 0x06]);
        f[14 + 6..14 + 8].copy_from_slice(&[0, 1]);
        f[14 + 14..14 + 18].copy_from_slice(&[10, 0, 0, 1]);
        f[14 + 24..14 + 28].copy_from_slice(&[10, 0, 0, 2]);
        assert_eq!(summary(&f), "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28");
        for n in 0..f.len() {
            let _ = summary(&f[..n]);
        }
        // ICMPv4 Time Exceeded code 1 and Parameter Problem code 0 as print-icmp.c words
        // them (the pointer is the octet of the quoted header).
        let mut e = [0u8; 14 + 20 + 8];
        e[12..14].copy_from_slice(&[0x08, 0x00]);
        e[14] = 0x45;
        e[16..18].copy_from_slice(&28u16.to_be_bytes());
        e[14 + 9] = 1;
        e[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 1]);
        e[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 9]);
        e[34] = 11;
        e[35] = 1;
        assert_eq!(summary(&e), "IP 10.0.0.1 > 10.0.0.9: ICMP ip reassembly time exceeded, length 8");
        e[35] = 0;
        assert_eq!(summary(&e), "IP 10.0.0.1 > 10.0.0.9: ICMP time exceeded in-transit, length 8");
        e[34] = 12;
        e[38] = 21;
        assert_eq!(summary(&e), "IP 10.0.0.1 > 10.0.0.9: ICMP parameter problem - octet 21, length 8");
        e[35] = 1;
        assert_eq!(summary(&e), "IP 10.0.0.1 > 10.0.0.9: ICMP parameter problem - code 1, length 8");
        let mut v6 = [0xffu8; 80];
        v6[12..14].copy_from_slice(&[0x86, 0xdd]);
        for n in 0..v6.len() {
            let _ = summary(&v6[..n]);
        }
    }
}
