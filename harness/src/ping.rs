//! `ping` and `ping6` as iputils s20121221 (the Debian/Ubuntu ping of the Linux 4.3
//! era) behave and print, over raw ICMP sockets (so they need CAP_NET_RAW: a setuid-root
//! or `cap_net_raw+ep` file, as Debian installs it).
//!
//! Supported: `-c COUNT`, `-i INTERVAL` (seconds, decimals allowed; below 0.2 s only for
//! root, as iputils), `-s SIZE`, `-W TIMEOUT`, and the destination (numeric: no
//! resolver). Output, byte for byte iputils' formats:
//!
//! ```text
//! PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.
//! 64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.045 ms
//!
//! --- 10.0.0.2 ping statistics ---
//! 1 packets transmitted, 1 received, 0% packet loss, time 0ms
//! rtt min/avg/max/mdev = 0.045/0.045/0.045/0.000 ms
//! ```
//!
//! ping6 says `PING 2001:db8::2(2001:db8::2) 56 data bytes`, takes the hop limit from an
//! `IPV6_HOPLIMIT` control message (`IPV6_RECVHOPLIMIT`; without one it prints no
//! `ttl=`), and reports ICMPv6 errors as `From ADDR icmp_seq=N Destination unreachable:
//! Address unreachable`. Duplicates print `(DUP!)` and count in `+N duplicates`; errors in
//! `+N errors`. Exit status: 0 when some reply came, 1 when none did, 2 on a usage or
//! socket error (`ping: icmp open socket: Operation not permitted`, to standard output
//! here: k43 tasks have one output).

use crate::exec::Sys;
use crate::netprogs::{errno_name, parse_ip, SockAddr, AF_INET, AF_INET6, SOCK_RAW};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::IpAddr;
use kernel::syscalls::Sysno;

/// `IPPROTO_ICMP`.
const IPPROTO_ICMP: u64 = 1;
/// `IPPROTO_ICMPV6`.
const IPPROTO_ICMPV6: u64 = 58;
/// `SOL_IPV6`.
const SOL_IPV6: u64 = 41;
/// `IPV6_RECVHOPLIMIT`.
const IPV6_RECVHOPLIMIT: u64 = 51;
/// `IPV6_HOPLIMIT` (the control message type).
const IPV6_HOPLIMIT: u32 = 52;
/// iputils' `MAXWAIT`: seconds to wait for a reply once everything is sent and none came.
const MAXWAIT_S: u64 = 10;

/// Arena layout of a `recvmsg`: data at 0, the rest above any datagram.
const MSG_OFF: u64 = 0x3_1000;
const IOV_OFF: u64 = 0x3_1040;
const NAME_OFF: u64 = 0x3_1080;
const CTRL_OFF: u64 = 0x3_1100;
const CTRL_LEN: u64 = 64;

struct Opts {
    count: Option<u64>,
    interval_ns: u64,
    size: usize,
    /// `-W`: seconds to wait for the last reply (0: iputils' rule).
    timeout_s: u64,
    dest: IpAddr,
}

fn parse_opts(argv: &[Vec<u8>], v6: bool) -> Result<Opts, String> {
    let mut o = Opts { count: None, interval_ns: 1_000_000_000, size: 56, timeout_s: 0, dest: IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED) };
    let mut dest = None;
    let mut i = 1;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    while i < argv.len() {
        let a = text(&argv[i]);
        let mut value = || -> Result<String, String> {
            i += 1;
            argv.get(i).map(|v| text(v)).ok_or_else(|| format!("ping: option requires an argument -- '{}'", &a[1..]))
        };
        match a.as_str() {
            "-c" => o.count = Some(value()?.parse().ok().filter(|&c| c > 0).ok_or("ping: bad number of packets to transmit.")?),
            "-i" => o.interval_ns = parse_seconds(&value()?).ok_or("ping: bad timing interval.")?,
            "-s" => o.size = value()?.parse().ok().filter(|&s: &usize| s <= 65507).ok_or("ping: illegal negative packet size.")?,
            "-W" => o.timeout_s = value()?.parse().map_err(|_| String::from("ping: bad wait time."))?,
            s if s.starts_with('-') => return Err(format!("ping: invalid option -- '{}'", &s[1..])),
            _ => dest = Some(a),
        }
        i += 1;
    }
    let Some(d) = dest else { return Err(String::from("Usage: ping [-c count] [-i interval] [-s packetsize] [-W timeout] destination")) };
    o.dest = match parse_ip(d.as_bytes()) {
        Some(IpAddr::V4(a)) if !v6 => IpAddr::V4(a),
        Some(IpAddr::V6(a)) if v6 => IpAddr::V6(a),
        _ => return Err(format!("{}: unknown host {d}", if v6 { "ping6" } else { "ping" })),
    };
    Ok(o)
}

/// `1`, `0.5`, `0.25` seconds in nanoseconds.
fn parse_seconds(s: &str) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let w: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut ns = w.checked_mul(1_000_000_000)?;
    let mut scale = 100_000_000;
    for c in frac.bytes().take(9) {
        ns += u64::from(c.checked_sub(b'0').filter(|d| *d <= 9)?) * scale;
        scale /= 10;
    }
    Some(ns)
}

/// iputils' `time=` field for a round trip of `us` microseconds.
fn time_text(us: u64) -> String {
    match us {
        100_000.. => format!("{} ms", us / 1000),
        10_000.. => format!("{}.{:01} ms", us / 1000, (us % 1000) / 100),
        1_000.. => format!("{}.{:02} ms", us / 1000, (us % 1000) / 10),
        _ => format!("{}.{:03} ms", us / 1000, us % 1000),
    }
}

/// `llsqrt`: the integer square root iputils uses for mdev.
fn isqrt(a: u64) -> u64 {
    let (mut prev, mut x) = (!0u64, a);
    if x > 0 {
        while x < prev {
            prev = x;
            x = (x + a / x) / 2;
        }
    }
    x
}

/// What came back for one receive.
enum Reply {
    /// An Echo Reply to us: sequence, ICMP bytes, hop limit if known.
    Echo { seq: u16, len: usize, hops: Option<u8>, from: String },
    /// An ICMP error quoting one of our requests.
    Error { seq: u16, from: String, text: String },
    /// Someone else's traffic.
    Other,
}

impl Sys {
    /// `recvmsg(fd, {name, [data], control}, MSG_DONTWAIT)`: the data, the sender and
    /// the control messages.
    async fn recvmsg_ctl(&self, fd: i32, n: usize) -> Result<(Vec<u8>, Option<SockAddr>, Vec<u8>), i64> {
        let a = self.arena;
        let mut msg = Vec::with_capacity(56);
        for w in [a + NAME_OFF, 28, a + IOV_OFF, 1, a + CTRL_OFF, CTRL_LEN, 0] {
            msg.extend_from_slice(&w.to_le_bytes());
        }
        let mut iov = (a).to_le_bytes().to_vec();
        iov.extend_from_slice(&(n as u64).to_le_bytes());
        if !self.store(a + MSG_OFF, &msg).await || !self.store(a + IOV_OFF, &iov).await {
            return Err(-14);
        }
        let r = self.syscall(Sysno::Recvmsg, [fd as u64, a + MSG_OFF, 0x40, 0, 0, 0]).await;
        if r < 0 {
            return Err(r);
        }
        let data = self.load(a, (r as usize).min(n)).await.ok_or(-14)?;
        let from = self.load(a + NAME_OFF, 28).await.and_then(|b| SockAddr::decode(&b));
        let m = self.load(a + MSG_OFF, 56).await.ok_or(-14)?;
        let clen = u64::from_le_bytes(m[40..48].try_into().unwrap_or([0; 8])).min(CTRL_LEN) as usize;
        let ctl = self.load(a + CTRL_OFF, clen).await.unwrap_or_default();
        Ok((data, from, ctl))
    }
}

/// The hop limit in an `IPV6_HOPLIMIT` control message, if one is there.
fn cmsg_hoplimit(ctl: &[u8]) -> Option<u8> {
    let mut at = 0;
    while at + 16 <= ctl.len() {
        let len = u64::from_le_bytes(ctl[at..at + 8].try_into().ok()?) as usize;
        let (level, ty) = (u32::from_le_bytes(ctl[at + 8..at + 12].try_into().ok()?), u32::from_le_bytes(ctl[at + 12..at + 16].try_into().ok()?));
        if len < 16 {
            return None;
        }
        if u64::from(level) == SOL_IPV6 && ty == IPV6_HOPLIMIT {
            return ctl.get(at + 16).copied();
        }
        at += (len + 7) & !7;
    }
    None
}

/// Classifies what a raw socket read: `data` is the IPv4 datagram (v4) or the ICMPv6
/// message (v6).
fn classify(v6: bool, ident: u16, data: &[u8], from: Option<SockAddr>, hops: Option<u8>) -> Reply {
    let who = from.map(|f| f.host_text()).unwrap_or_default();
    let (icmp, hops) = if v6 {
        (data, hops)
    } else {
        let ihl = usize::from(data.first().map_or(0, |b| b & 0x0f)) * 4;
        (data.get(ihl..).unwrap_or(&[]), data.get(8).copied())
    };
    let field = |m: &[u8], at: usize| m.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let (echo_reply, (ty, code)) = (if v6 { 129 } else { 0 }, (icmp.first().copied().unwrap_or(255), icmp.get(1).copied().unwrap_or(0)));
    if ty == echo_reply {
        return match (field(icmp, 4), field(icmp, 6)) {
            (Some(id), Some(seq)) if id == ident => Reply::Echo { seq, len: icmp.len(), hops, from: who },
            _ => Reply::Other,
        };
    }
    // An error quotes our request: (IPv4 header +) ICMP header with our id and seq.
    let quoted = if v6 { icmp.get(8 + 40..) } else { icmp.get(8..).and_then(|q| q.get(usize::from(q.first().map_or(0, |b| b & 0x0f)) * 4..)) };
    let Some(q) = quoted else { return Reply::Other };
    let echo_request = if v6 { 128 } else { 8 };
    if q.first() != Some(&echo_request) || field(q, 4) != Some(ident) {
        return Reply::Other;
    }
    let Some(seq) = field(q, 6) else { return Reply::Other };
    let text = if v6 { error6(ty, code, icmp) } else { error4(ty, code, icmp) };
    match text {
        Some(text) => Reply::Error { seq, from: who, text },
        None => Reply::Other,
    }
}

/// iputils' `pr_icmph` texts for the errors ping reports.
fn error4(ty: u8, code: u8, m: &[u8]) -> Option<String> {
    Some(String::from(match (ty, code) {
        (3, 0) => "Destination Net Unreachable",
        (3, 1) => "Destination Host Unreachable",
        (3, 2) => "Destination Protocol Unreachable",
        (3, 3) => "Destination Port Unreachable",
        (3, 4) => return Some(format!("Frag needed and DF set (mtu = {})", m.get(6..8).map_or(0, |b| u16::from_be_bytes([b[0], b[1]])))),
        (3, 5) => "Source Route Failed",
        (3, 13) => "Packet filtered",
        (3, _) => return Some(format!("Dest Unreachable, Bad Code: {code}")),
        (11, 0) => "Time to live exceeded",
        (11, 1) => "Frag reassembly time exceeded",
        (12, _) => return Some(format!("Parameter problem: pointer = {}", m.get(4).copied().unwrap_or(0))),
        _ => return None,
    }))
}

/// ping6's `pr_icmph` texts.
fn error6(ty: u8, code: u8, m: &[u8]) -> Option<String> {
    let word = || m.get(4..8).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    Some(match ty {
        1 => format!(
            "Destination unreachable: {}",
            match code {
                0 => String::from("No route"),
                1 => String::from("Administratively prohibited"),
                2 => String::from("Beyond scope of source address"),
                3 => String::from("Address unreachable"),
                4 => String::from("Port unreachable"),
                c => format!("Unknown code {c}"),
            }
        ),
        2 => format!("Packet too big: mtu={}", word()),
        3 => format!("Time exceeded: {}", if code == 0 { String::from("Hop limit") } else if code == 1 { String::from("Defragmentation failure") } else { format!("code {code}") }),
        4 => format!("Parameter problem: {}", match code { 0 => "Wrong header field ", 1 => "Unknown header ", 2 => "Unknown option ", _ => "code " }) + &format!("at {}", word()),
        _ => return None,
    })
}

/// The ICMP Echo Request iputils sends: id, seq, then a timeval and the pattern `i`.
fn echo_request(v6: bool, ident: u16, seq: u16, size: usize, now_ns: u64) -> Vec<u8> {
    let mut m = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    let mut data: Vec<u8> = (0..size).map(|i| i as u8).collect();
    if size >= 16 {
        data[..8].copy_from_slice(&(now_ns / 1_000_000_000).to_le_bytes());
        data[8..16].copy_from_slice(&((now_ns % 1_000_000_000) / 1000).to_le_bytes());
    }
    m.extend_from_slice(&data);
    if !v6 {
        // The kernel checksums ICMPv6 for a raw socket; ICMPv4 is the sender's job.
        let c = kernel::net::wire::checksum::checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
    m
}

/// `ping` (`v6` false) and `ping6`.
pub async fn ping(sys: Sys, argv: Vec<Vec<u8>>, v6: bool) -> i32 {
    let o = match parse_opts(&argv, v6) {
        Ok(o) => o,
        Err(e) => {
            sys.print(&format!("{e}\n")).await;
            return 2;
        }
    };
    let uid = sys.syscall(Sysno::Getuid, [0; 6]).await;
    if o.interval_ns < 200_000_000 && uid != 0 {
        sys.print("ping: cannot flood; minimal interval, allowed for user, is 200ms\n").await;
        return 2;
    }
    let (domain, proto) = if v6 { (AF_INET6, IPPROTO_ICMPV6) } else { (AF_INET, IPPROTO_ICMP) };
    let fd = sys.socket(domain, SOCK_RAW, proto).await;
    if fd < 0 {
        sys.print(&format!("ping: icmp open socket: {}\n", kernel::Errno(-fd as i32).message())).await;
        return 2;
    }
    let fd = fd as i32;
    if v6 {
        sys.store(sys.arena + NAME_OFF, &1i32.to_le_bytes()).await;
        sys.syscall(Sysno::Setsockopt, [fd as u64, SOL_IPV6, IPV6_RECVHOPLIMIT, sys.arena + NAME_OFF, 4, 0]).await;
    }
    let dest = SockAddr { ip: o.dest, port: 0 };
    let d = dest.host_text();
    if v6 {
        sys.print(&format!("PING {d}({d}) {} data bytes\n", o.size)).await;
    } else {
        sys.print(&format!("PING {d} ({d}) {}({}) bytes of data.\n", o.size, o.size + 28)).await;
    }
    let ident = (sys.pid & 0xffff) as u16;
    let start = sys.monotonic_ns().await;
    let (mut sent, mut received, mut dups, mut errors) = (0u64, 0u64, 0u64, 0u64);
    let mut sent_at: Vec<u64> = Vec::new();
    let mut answered: Vec<bool> = Vec::new();
    let mut rtts: Vec<u64> = Vec::new();
    let mut next_send = start;
    loop {
        let now = sys.monotonic_ns().await;
        let all_sent = o.count.is_some_and(|c| sent >= c);
        if all_sent && received + errors >= sent {
            break;
        }
        if !all_sent && now >= next_send {
            let seq = (sent + 1) as u16;
            let req = echo_request(v6, ident, seq, o.size, now);
            let r = sys.sendto(fd, &req, &dest).await;
            sent += 1;
            sent_at.push(now);
            answered.push(false);
            if r < 0 {
                sys.print(&format!("ping: sendmsg: {}\n", kernel::Errno(-r as i32).message())).await;
                errors += 1;
            }
            next_send = now + o.interval_ns;
            continue;
        }
        // Wait for replies until the next send, or (all sent) the linger time.
        let deadline = if !all_sent {
            next_send
        } else {
            let linger = if o.timeout_s > 0 {
                o.timeout_s * 1_000_000_000
            } else if received > 0 {
                (2 * rtts.iter().copied().max().unwrap_or(0)).max(1_000_000)
            } else {
                MAXWAIT_S * 1_000_000_000
            };
            sent_at.last().copied().unwrap_or(start) + linger.max(o.interval_ns.min(linger))
        };
        if now >= deadline {
            if all_sent {
                break;
            }
            continue;
        }
        let wait_ms = ((deadline - now) + 999_999) / 1_000_000;
        if sys.poll_in(fd, wait_ms as i64).await != 1 {
            continue;
        }
        let (data, from, ctl) = match sys.recvmsg_ctl(fd, o.size + 8 + 60 + 40).await {
            Ok(x) => x,
            Err(-11) => continue,
            Err(e) => {
                sys.print(&format!("ping: recvmsg: {}\n", errno_name(e))).await;
                break;
            }
        };
        let at = sys.monotonic_ns().await;
        match classify(v6, ident, &data, from, cmsg_hoplimit(&ctl)) {
            Reply::Echo { seq, len, hops, from } => {
                let i = usize::from(seq).wrapping_sub(1);
                let Some(&t0) = sent_at.get(i) else { continue };
                let us = (at - t0) / 1000;
                let dup = answered[i];
                if dup {
                    dups += 1;
                } else {
                    answered[i] = true;
                    received += 1;
                    rtts.push(us);
                }
                let ttl = hops.map(|h| format!(" ttl={h}")).unwrap_or_default();
                sys.print(&format!("{len} bytes from {from}: icmp_seq={seq}{ttl} time={}{}\n", time_text(us), if dup { " (DUP!)" } else { "" })).await;
            }
            Reply::Error { seq, from, text } => {
                errors += 1;
                sys.print(&format!("From {from} icmp_seq={seq} {text}\n")).await;
            }
            Reply::Other => {}
        }
    }
    let elapsed_ms = (sys.monotonic_ns().await - start) / 1_000_000;
    let mut stats = format!("\n--- {d} ping statistics ---\n{sent} packets transmitted, {received} received");
    if dups > 0 {
        stats += &format!(", +{dups} duplicates");
    }
    if errors > 0 {
        stats += &format!(", +{errors} errors");
    }
    let loss = if sent > 0 { (sent - received) * 100 / sent } else { 0 };
    stats += &format!(", {loss}% packet loss, time {elapsed_ms}ms\n");
    if received > 0 {
        let n = rtts.len() as u64;
        let sum: u64 = rtts.iter().sum();
        let sum2: u128 = rtts.iter().map(|&r| u128::from(r) * u128::from(r)).sum();
        let avg = sum / n;
        let mdev = isqrt((sum2 / u128::from(n)).saturating_sub(u128::from(avg) * u128::from(avg)) as u64);
        let (min, max) = (rtts.iter().copied().min().unwrap_or(0), rtts.iter().copied().max().unwrap_or(0));
        let f = |v: u64| format!("{}.{:03}", v / 1000, v % 1000);
        stats += &format!("rtt min/avg/max/mdev = {}/{}/{}/{} ms\n", f(min), f(avg), f(max), f(mdev));
    }
    sys.print(&stats).await;
    sys.close(fd).await;
    if received > 0 {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iputils_number_formats() {
        assert_eq!(time_text(45), "0.045 ms");
        assert_eq!(time_text(1234), "1.23 ms");
        assert_eq!(time_text(12345), "12.3 ms");
        assert_eq!(time_text(123456), "123 ms");
        assert_eq!(parse_seconds("0.2"), Some(200_000_000));
        assert_eq!(parse_seconds("1"), Some(1_000_000_000));
        assert_eq!(parse_seconds("x"), None);
        assert_eq!(isqrt(16), 4);
        assert_eq!(isqrt(0), 0);
    }
}
