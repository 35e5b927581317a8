//! Built-in network programs: a UDP echo server and client, and post-copy live migration
//! of a process's memory between two hosts over UDP (userfaultfd on the destination).
//! They talk to the kernel only through the socket calls of the syscall table, so every
//! datagram they exchange crosses the simulated wire (or `lo`).

use crate::exec::Sys;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use kernel::syscalls::Sysno;

/// `AF_INET`.
pub const AF_INET: u64 = 2;
/// `AF_INET6`.
pub const AF_INET6: u64 = 10;
/// `SOCK_DGRAM`.
pub const SOCK_DGRAM: u64 = 2;
/// `SOCK_RAW`.
pub const SOCK_RAW: u64 = 3;

/// Where in its arena a program keeps a socket address and its length: above any
/// datagram (at most 64 KiB) it stores at the arena's start.
const ADDR_OFF: u64 = 0x3_0000;
const ADDRLEN_OFF: u64 = 0x3_0100;
const POLL_OFF: u64 = 0x3_0200;

/// An IPv4 or IPv6 socket address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockAddr {
    /// The address.
    pub ip: IpAddr,
    /// The port.
    pub port: u16,
}

impl SockAddr {
    /// `sockaddr_in` (16 bytes) or `sockaddr_in6` (28 bytes), as the kernel reads them.
    pub fn encode(&self) -> Vec<u8> {
        match self.ip {
            IpAddr::V4(a) => {
                let mut b = Vec::with_capacity(16);
                b.extend_from_slice(&(AF_INET as u16).to_le_bytes());
                b.extend_from_slice(&self.port.to_be_bytes());
                b.extend_from_slice(&a.octets());
                b.extend_from_slice(&[0; 8]);
                b
            }
            IpAddr::V6(a) => {
                let mut b = Vec::with_capacity(28);
                b.extend_from_slice(&(AF_INET6 as u16).to_le_bytes());
                b.extend_from_slice(&self.port.to_be_bytes());
                b.extend_from_slice(&[0; 4]);
                b.extend_from_slice(&a.octets());
                b.extend_from_slice(&[0; 4]);
                b
            }
        }
    }

    /// Reads what the kernel wrote; `None` for another family or a short buffer.
    pub fn decode(b: &[u8]) -> Option<SockAddr> {
        let fam = u16::from_le_bytes([*b.first()?, *b.get(1)?]);
        let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
        match u64::from(fam) {
            AF_INET => Some(SockAddr { ip: IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b.get(4..8)?).ok()?)), port }),
            AF_INET6 => Some(SockAddr { ip: IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(8..24)?).ok()?)), port }),
            _ => None,
        }
    }

    /// The family's `AF_*`.
    pub fn family(&self) -> u64 {
        if self.ip.is_ipv4() {
            AF_INET
        } else {
            AF_INET6
        }
    }

    /// The address as its family prints it; an IPv4-mapped IPv6 address as IPv4 (what a
    /// dual-stack server shows for an IPv4 client).
    pub fn host_text(&self) -> String {
        match self.ip {
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => format!("{v4}"),
                None => format!("{a}"),
            },
            IpAddr::V4(a) => format!("{a}"),
        }
    }
}

/// Parses a numeric address (no name resolution: k43 has no resolver).
pub fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    core::str::from_utf8(text).ok()?.parse().ok()
}

impl Sys {
    /// `socket(domain, type, protocol)`.
    pub async fn socket(&self, domain: u64, ty: u64, proto: u64) -> i64 {
        self.syscall(Sysno::Socket, [domain, ty, proto, 0, 0, 0]).await
    }

    /// `bind(fd, addr)`.
    pub async fn bind(&self, fd: i32, addr: &SockAddr) -> i64 {
        let a = addr.encode();
        if !self.store(self.arena + ADDR_OFF, &a).await {
            return -14;
        }
        self.syscall(Sysno::Bind, [fd as u64, self.arena + ADDR_OFF, a.len() as u64, 0, 0, 0]).await
    }

    /// `sendto(fd, data, 0, addr)`.
    pub async fn sendto(&self, fd: i32, data: &[u8], to: &SockAddr) -> i64 {
        let a = to.encode();
        if !self.store(self.arena, data).await || !self.store(self.arena + ADDR_OFF, &a).await {
            return -14;
        }
        self.syscall(Sysno::Sendto, [fd as u64, self.arena, data.len() as u64, 0, self.arena + ADDR_OFF, a.len() as u64]).await
    }

    /// `recvfrom(fd, buf, n, flags, &addr, &len)`: the datagram and its sender.
    pub async fn recvfrom(&self, fd: i32, n: usize, flags: u64) -> Result<(Vec<u8>, Option<SockAddr>), i64> {
        if !self.store(self.arena + ADDRLEN_OFF, &28u32.to_le_bytes()).await {
            return Err(-14);
        }
        let r = self.syscall(Sysno::Recvfrom, [fd as u64, self.arena, n as u64, flags, self.arena + ADDR_OFF, self.arena + ADDRLEN_OFF]).await;
        if r < 0 {
            return Err(r);
        }
        let data = self.load(self.arena, (r as usize).min(n)).await.ok_or(-14)?;
        let from = self.load(self.arena + ADDR_OFF, 28).await.and_then(|b| SockAddr::decode(&b));
        Ok((data, from))
    }

    /// `poll([{fd, POLLIN}], 1, timeout_ms)`: 1 when readable, 0 on timeout.
    pub async fn poll_in(&self, fd: i32, timeout_ms: i64) -> i64 {
        let mut pfd = Vec::with_capacity(8);
        pfd.extend_from_slice(&fd.to_le_bytes());
        pfd.extend_from_slice(&kernel::fs::poll::POLLIN.to_le_bytes());
        pfd.extend_from_slice(&0u16.to_le_bytes());
        if !self.store(self.arena + POLL_OFF, &pfd).await {
            return -14;
        }
        self.syscall(Sysno::Poll, [self.arena + POLL_OFF, 1, timeout_ms as u64, 0, 0, 0]).await
    }

    /// Writes `text` to standard output (fd 1), as printf would; lost if fd 1 is closed.
    pub async fn print(&self, text: &str) {
        for chunk in text.as_bytes().chunks(4096) {
            self.write(1, chunk).await;
        }
    }
}

fn arg<'a>(argv: &'a [Vec<u8>], i: usize) -> Option<&'a [u8]> {
    argv.get(i).map(|a| a.as_slice())
}

fn num(argv: &[Vec<u8>], i: usize) -> Option<i64> {
    core::str::from_utf8(arg(argv, i)?).ok()?.parse().ok()
}

/// `udp-echo-server PORT [COUNT]`: a dual-stack UDP socket (`[::]:PORT`, IPv4 clients
/// arrive as mapped addresses) that sends every datagram back to its sender; after COUNT
/// datagrams (0 or none: forever) it exits 0.
pub async fn udp_echo_server(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let Some(port) = num(&argv, 1).and_then(|p| u16::try_from(p).ok()) else { return 2 };
    let count = num(&argv, 2).unwrap_or(0).max(0) as u64;
    let fd = sys.socket(AF_INET6, SOCK_DGRAM, 0).await;
    if fd < 0 || sys.bind(fd as i32, &SockAddr { ip: IpAddr::V6(Ipv6Addr::UNSPECIFIED), port }).await != 0 {
        return 1;
    }
    let mut served = 0;
    while count == 0 || served < count {
        let Ok((data, Some(from))) = sys.recvfrom(fd as i32, 65536, 0).await else { return 1 };
        if sys.sendto(fd as i32, &data, &from).await < 0 {
            return 1;
        }
        served += 1;
    }
    0
}

/// `udp-echo-client ADDR PORT COUNT [SIZE]`: sends COUNT numbered datagrams of SIZE
/// bytes (default 32) one at a time, waiting up to a second for each echo, and prints a
/// line per datagram and a summary to standard output. Exits 0 when every echo came back
/// intact, 1 otherwise.
pub async fn udp_echo_client(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let (Some(ip), Some(port), Some(count)) = (arg(&argv, 1).and_then(parse_ip), num(&argv, 2).and_then(|p| u16::try_from(p).ok()), num(&argv, 3)) else {
        return 2;
    };
    let size = num(&argv, 4).unwrap_or(32).clamp(8, 65507) as usize;
    let to = SockAddr { ip, port };
    let fd = sys.socket(to.family(), SOCK_DGRAM, 0).await;
    if fd < 0 {
        return 1;
    }
    let fd = fd as i32;
    let mut got = 0;
    for seq in 0..count.max(0) {
        let mut msg = format!("echo {seq} ").into_bytes();
        msg.extend((msg.len()..size).map(|i| b'a' + (i % 26) as u8));
        let t0 = sys.monotonic_ns().await;
        let r = sys.sendto(fd, &msg, &to).await;
        if r < 0 {
            sys.print(&format!("seq {seq}: sendto: {}\n", errno_name(r))).await;
            continue;
        }
        let mut answered = false;
        // Stale or duplicated echoes of earlier datagrams are read and skipped.
        while sys.poll_in(fd, 1000).await == 1 {
            match sys.recvfrom(fd, 65536, 0).await {
                Ok((data, from)) if data == msg => {
                    let us = (sys.monotonic_ns().await - t0) / 1000;
                    let who = from.map(|f| f.host_text()).unwrap_or_default();
                    sys.print(&format!("{} bytes from {who}: seq={seq} time={us} us\n", data.len())).await;
                    answered = true;
                    break;
                }
                Ok(_) => continue,
                Err(e) => {
                    sys.print(&format!("seq {seq}: recvfrom: {}\n", errno_name(e))).await;
                    break;
                }
            }
        }
        if answered {
            got += 1;
        } else {
            sys.print(&format!("seq {seq}: no echo\n")).await;
        }
    }
    sys.print(&format!("{count} sent, {got} echoed\n")).await;
    if got == count {
        0
    } else {
        1
    }
}

/// The errno's name for a negative return.
pub fn errno_name(r: i64) -> &'static str {
    i32::try_from(-r).ok().and_then(|e| kernel::Errno(e).name()).unwrap_or("?")
}
