//! strace's rendering of socket addresses and messages (strace 6.x `sockaddr.c`,
//! `msghdr.c`, `net.c`): `{sa_family=AF_INET, sin_port=htons(53),
//! sin_addr=inet_addr("127.0.0.1")}`, `{sa_family=AF_INET6, sin6_port=htons(7),
//! sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`,
//! socket lengths `[128 => 16]`, and `struct msghdr` as `{msg_name=…, msg_namelen=28,
//! msg_iov=[{iov_base="hello", iov_len=5}], msg_iovlen=1, msg_controllen=0,
//! msg_flags=0}`. The scenario language reads the same notation back.
//!
//! A link-local `sin6_scope_id` prints as a number: strace names the interface only when
//! the tracing host has one of that index (`if_nametoindex("eth0")`), and the simulated
//! kernel's interfaces are not the host's.

use crate::strace::{self, Peek, STRING_LIMIT};
use alloc::format;
use kernel::syscalls::desc::{ArgKind, Dir, StructKind};
use kernel::syscalls::Sysno;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;
/// `sizeof(struct sockaddr_storage)`: the most strace reads of an address.
pub const SOCKADDR_STORAGE_LEN: usize = 128;
/// `offsetof(struct sockaddr_in6, sin6_scope_id)`: strace's shortest printable IPv6
/// address.
const SIN6_MIN_LEN: usize = 24;
/// Most iovecs strace prints before `...` (`-s 32`).
const IOV_LIMIT: usize = 32;

/// strace's `addrfams`: the `AF_*` names by value.
pub static AF_NAMES: &[(&str, u64)] = kernel::syscalls::table::ADDRESS_FAMILIES.values;

/// Socket-option levels, options and flags a scenario may write by name.
pub static NET_CONSTANTS: &[(&str, u64)] = &[
    ("SOL_IP", 0),
    ("SOL_SOCKET", 1),
    ("SOL_IPV6", 41),
    ("SOL_ICMPV6", 58),
    ("SOL_RAW", 255),
    ("SO_REUSEADDR", 2),
    ("SO_TYPE", 3),
    ("SO_ERROR", 4),
    ("SO_BROADCAST", 6),
    ("SO_RCVBUF", 8),
    ("SO_BINDTODEVICE", 25),
    ("IP_HDRINCL", 3),
    ("ICMP_FILTER", 1),
    ("ICMP6_FILTER", 1),
    ("IPV6_CHECKSUM", 7),
    ("IPV6_V6ONLY", 26),
];

/// `printxval(addrfams, …, "AF_???")`.
pub fn family_name(f: u16) -> String {
    match AF_NAMES.iter().find(|(_, v)| *v == u64::from(f)) {
        Some((n, _)) => String::from(*n),
        None => format!("{f:#x} /* AF_??? */"),
    }
}

/// `print_sockaddr` of the `addrlen` bytes `b` (at least the family's two): the
/// family, then its fields when the length covers the family's printer
/// (`sockaddr_in`: 16; `sockaddr_in6`: 24, the scope id past that), else `sa_data`.
pub fn sockaddr_text(b: &[u8]) -> String {
    let fam = u16::from_le_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]);
    let mut s = format!("{{sa_family={}", family_name(fam));
    if b.len() > 2 {
        s.push_str(", ");
        let be16 = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
        if fam == AF_INET && b.len() >= 16 {
            let a = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            s.push_str(&format!("sin_port=htons({}), sin_addr=inet_addr(\"{a}\")", be16(2)));
        } else if fam == AF_INET6 && b.len() >= SIN6_MIN_LEN {
            let mut o = [0u8; 16];
            o.copy_from_slice(&b[8..24]);
            let a = Ipv6Addr::from(o);
            let flow = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            s.push_str(&format!("sin6_port=htons({}), sin6_flowinfo=htonl({flow}), inet_pton(AF_INET6, \"{a}\", &sin6_addr)", be16(2)));
            if b.len() > SIN6_MIN_LEN {
                let mut sc = [0u8; 4];
                for (i, x) in sc.iter_mut().enumerate() {
                    *x = b.get(24 + i).copied().unwrap_or(0);
                }
                s.push_str(&format!(", sin6_scope_id={}", u32::from_le_bytes(sc)));
            }
        } else {
            s.push_str(&format!("sa_data={}", strace::quote(&b[2..], None)));
        }
    }
    s.push('}');
    s
}

/// `decode_sockaddr`: an address of `addrlen` bytes at `addr` (cut to 128); the pointer
/// when shorter than the family field or unreadable.
pub fn decode_sockaddr(addr: u64, addrlen: i32, peek: &dyn Peek) -> String {
    if addrlen < 2 {
        return strace::ptr(addr);
    }
    let len = (addrlen as usize).min(SOCKADDR_STORAGE_LEN);
    match peek.peek(addr, len).filter(|_| addr != 0) {
        Some(b) => sockaddr_text(&b),
        None => strace::ptr(addr),
    }
}

/// A `socklen_t` that was `before` on entry and `after` on exit: `[16]`, `[128 => 16]`.
pub fn socklen_text(before: i32, after: i32) -> String {
    if before == after {
        format!("[{after}]")
    } else {
        format!("[{before} => {after}]")
    }
}

/// The `i32` at `addr`, if readable.
pub fn peek_i32(addr: u64, peek: &dyn Peek) -> Option<i32> {
    let b = peek.peek(addr, 4).filter(|_| addr != 0)?;
    Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn le64(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

/// One iovec as `tprint_iov_upto` shows it, with the bytes it shows (`None`: the pointer
/// was printed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IovShown {
    /// `{iov_base=…, iov_len=N}`.
    pub text: String,
    /// The bytes shown (at most `data_size` of the total, and what could be read).
    pub data: Option<Vec<u8>>,
    /// `iov_len`.
    pub len: u64,
}

/// `tprint_iov_upto` over `n` iovecs at `addr` whose contents add up to at most
/// `data_size` bytes (`None`: no limit): the elements (at most 32), whether more were
/// left off, or `None` when the array is unreadable.
pub fn iov_elems(addr: u64, n: u64, data_size: Option<u64>, peek: &dyn Peek) -> Option<(Vec<IovShown>, bool)> {
    let shown = (n as usize).min(IOV_LIMIT);
    let raw = peek.peek(addr, shown * 16).filter(|_| addr != 0 || n == 0)?;
    let mut left = data_size;
    let mut out = Vec::new();
    for e in raw.chunks_exact(16) {
        let (base, len) = (le64(e, 0), le64(e, 8));
        let take = left.map_or(len, |l| l.min(len));
        if let Some(l) = left.as_mut() {
            *l -= take;
        }
        let (base_text, data) = match peek.peek(base, (take as usize).min(STRING_LIMIT)).filter(|_| base != 0 || take == 0) {
            Some(b) => {
                let mut q = strace::quote(&b, None);
                if take as usize > STRING_LIMIT {
                    q.push_str("...");
                }
                (q, Some(b))
            }
            None => (strace::ptr(base), None),
        };
        out.push(IovShown { text: format!("{{iov_base={base_text}, iov_len={len}}}"), data, len });
    }
    Some((out, n as usize > shown))
}

/// The iovec array as strace prints it (`[{iov_base="hi", iov_len=2}]`), or its pointer.
pub fn iov_text(addr: u64, n: u64, data_size: Option<u64>, peek: &dyn Peek) -> String {
    match iov_elems(addr, n, data_size, peek) {
        Some((elems, more)) => {
            let mut parts: Vec<String> = elems.into_iter().map(|e| e.text).collect();
            if more {
                parts.push(String::from("..."));
            }
            format!("[{}]", parts.join(", "))
        }
        None => strace::ptr(addr),
    }
}

/// `struct msghdr` as the kernel reads it (one layout for both, LP64).
pub use kernel::net::msghdr::UserMsghdr as Msghdr;

/// The msghdr at `addr`, if readable.
pub fn peek_msghdr(addr: u64, peek: &dyn Peek) -> Option<Msghdr> {
    let b = peek.peek(addr, kernel::net::msghdr::MSGHDR_SIZE).filter(|_| addr != 0)?;
    Some(Msghdr::parse(b.as_slice().try_into().ok()?))
}

/// `print_struct_msghdr`'s fields of the msghdr at `addr`: `user_namelen` is what
/// `msg_namelen` held before `recvmsg` (the name is printed at most that long, and
/// `msg_namelen` as `128 => 16` when it changed); `data_size` limits the iovec data
/// shown (`recvmsg`'s return value). `None` when the header is unreadable.
pub fn msghdr_fields(addr: u64, user_namelen: Option<i32>, data_size: Option<u64>, peek: &dyn Peek) -> Option<Vec<(&'static str, String)>> {
    let m = peek_msghdr(addr, peek)?;
    let namelen = match user_namelen {
        Some(u) if m.namelen > u => u,
        _ => m.namelen,
    };
    let mut f = Vec::new();
    f.push(("msg_name", decode_sockaddr(m.name, namelen, peek)));
    f.push(("msg_namelen", match user_namelen {
        Some(u) if u != m.namelen => format!("{u} => {}", m.namelen),
        _ => format!("{}", m.namelen),
    }));
    f.push(("msg_iov", iov_text(m.iov, m.iovlen, data_size, peek)));
    f.push(("msg_iovlen", format!("{}", m.iovlen)));
    if m.controllen != 0 {
        f.push(("msg_control", cmsg_text(m.control, m.controllen, peek)));
    }
    f.push(("msg_controllen", format!("{}", m.controllen)));
    f.push(("msg_flags", strace::flags(&kernel::syscalls::table::MSG_FLAGS, u64::from(m.flags))));
    Some(f)
}

/// `{name=text, …}` of [`msghdr_fields`], or the pointer.
pub fn msghdr_text(addr: u64, user_namelen: Option<i32>, data_size: Option<u64>, peek: &dyn Peek) -> String {
    match msghdr_fields(addr, user_namelen, data_size, peek) {
        Some(f) => strace::struct_text(&f, None),
        None => strace::ptr(addr),
    }
}

/// `decode_msg_control` in outline: each header's length, level and type (k43 decodes
/// no payloads, which strace then leaves out), `...` for a tail too short for a header.
fn cmsg_text(addr: u64, len: u64, peek: &dyn Peek) -> String {
    let len = len.min(4096) as usize;
    let Some(b) = peek.peek(addr, len).filter(|_| len >= 16) else { return strace::ptr(addr) };
    let mut parts = Vec::new();
    let mut off = 0usize;
    while b.len() - off >= 16 {
        let clen = le64(&b, off);
        let level = i32::from_le_bytes([b[off + 8], b[off + 9], b[off + 10], b[off + 11]]);
        let ty = i32::from_le_bytes([b[off + 12], b[off + 13], b[off + 14], b[off + 15]]);
        let lname = match level {
            0 => String::from("SOL_IP"),
            1 => String::from("SOL_SOCKET"),
            41 => String::from("SOL_IPV6"),
            255 => String::from("SOL_RAW"),
            l => format!("{l:#x} /* SOL_??? */"),
        };
        parts.push(format!("{{cmsg_len={clen}, cmsg_level={lname}, cmsg_type={}}}", strace::hex(ty as u32 as u64)));
        let step = (clen as usize).saturating_add(7) & !7;
        if clen < 16 || step >= b.len() - off {
            off = b.len();
            break;
        }
        off += step;
    }
    if off < b.len() {
        parts.push(String::from("..."));
    }
    format!("[{}]", parts.join(", "))
}

/// The index of the `SockAddrOut` argument whose length is argument `i`.
fn addr_of_len(sysno: Sysno, i: usize) -> Option<usize> {
    sysno.desc().args.iter().position(|a| matches!(a.kind, ArgKind::SockAddrOut { len_arg } if len_arg == i))
}

/// See [`crate::trace::entry_saved`].
pub fn entry_saved(sysno: Sysno, args: &[u64; 6], peek: &dyn Peek) -> Option<i64> {
    for (i, a) in sysno.desc().args.iter().enumerate() {
        match a.kind {
            // fetch_socklen: both pointers set and the length readable.
            ArgKind::SockLen => {
                let addr = addr_of_len(sysno, i).map_or(0, |j| args[j]);
                if addr != 0 {
                    return peek_i32(args[i], peek).map(i64::from);
                }
            }
            ArgKind::Struct(StructKind::MsgHdr, Dir::Out) => return peek_msghdr(args[i], peek).map(|m| i64::from(m.namelen)),
            _ => {}
        }
    }
    None
}

/// The socket arguments as strace prints them (`None` for other kinds): addresses read
/// (`bind`, `connect`, `sendto`), addresses and lengths written (`getsockname`,
/// `getpeername`, `recvfrom`: at exit, with the length as it was at entry in `saved`),
/// and message headers (`sendmsg` at entry, `recvmsg` at exit).
pub fn format_net_arg(sysno: Sysno, i: usize, args: &[u64; 6], ret: Option<i64>, saved: Option<i64>, peek: &dyn Peek) -> Option<String> {
    let a = args[i];
    let failed = ret.is_none_or(|r| r < 0);
    let ulen = saved.map(|v| v as i32);
    // strace names socket's protocol by the domain's list; k43 knows the IP one only.
    if sysno == Sysno::Socket && i == 2 && !matches!(args[0] as u32 as u16, AF_INET | AF_INET6) {
        return Some(format!("{}", a as u32 as i32));
    }
    Some(match sysno.desc().args[i].kind {
        ArgKind::SockAddr { len_arg } => decode_sockaddr(a, args[len_arg] as u32 as i32, peek),
        ArgKind::SockAddrOut { len_arg } => {
            let rlen = peek_i32(args[len_arg], peek);
            match (ulen, rlen) {
                (Some(u), Some(r)) if !failed && a != 0 => decode_sockaddr(a, u.min(r), peek),
                _ => strace::ptr(a),
            }
        }
        ArgKind::SockLen => {
            let addr = addr_of_len(sysno, i).map_or(0, |j| args[j]);
            match (ulen, peek_i32(a, peek)) {
                (Some(u), Some(r)) if addr != 0 => {
                    if failed {
                        format!("[{u}]")
                    } else {
                        socklen_text(u, r)
                    }
                }
                _ => strace::ptr(a),
            }
        }
        ArgKind::Struct(StructKind::MsgHdr, Dir::In) => msghdr_text(a, None, None, peek),
        ArgKind::Struct(StructKind::MsgHdr, Dir::Out) => match (failed, ulen) {
            (true, Some(u)) => format!("{{msg_namelen={u}}}"),
            (true, None) => strace::ptr(a),
            (false, _) => msghdr_text(a, ulen, ret.map(|r| r as u64), peek),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_addresses_print_as_strace_prints_them() {
        let mut b = [0u8; 16];
        b[0] = 2;
        b[2..4].copy_from_slice(&53u16.to_be_bytes());
        b[4..8].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(sockaddr_text(&b), "{sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\"127.0.0.1\")}");
        let mut b6 = [0u8; 28];
        b6[0] = 10;
        b6[2..4].copy_from_slice(&7u16.to_be_bytes());
        b6[23] = 1;
        assert_eq!(sockaddr_text(&b6), "{sa_family=AF_INET6, sin6_port=htons(7), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}");
        assert_eq!(sockaddr_text(&b6[..24]), "{sa_family=AF_INET6, sin6_port=htons(7), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr)}");
        // Too short for the family's printer: the raw bytes.
        assert_eq!(sockaddr_text(&b[..4]), "{sa_family=AF_INET, sa_data=\"\\0005\"}");
        assert_eq!(sockaddr_text(&[0, 0]), "{sa_family=AF_UNSPEC}");
        assert_eq!(sockaddr_text(&[99, 0, 1]), "{sa_family=0x63 /* AF_??? */, sa_data=\"\\1\"}");
        assert_eq!(socklen_text(128, 16), "[128 => 16]");
        assert_eq!(socklen_text(16, 16), "[16]");
    }
}
