//! The tracer: every syscall of a run as strace prints it with `-f`, the lines kernel
//! messages and the harness add, and the trace hash.

use crate::strace::{self, is_out, Peek, STRING_LIMIT};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kernel::syscalls::desc::{ArgKind, Dir, StructKind};
use kernel::syscalls::Sysno;

/// A run's trace: lines in order, hashed as they come.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// Every line, without newlines.
    pub lines: Vec<String>,
    hash: Fnv128,
}

impl Trace {
    /// Appends a line.
    pub fn push(&mut self, line: String) {
        self.hash.write(line.as_bytes());
        self.hash.write(b"\n");
        self.lines.push(line);
    }

    /// The trace hash: 128-bit FNV-1a of every line and its newline, in hex.
    pub fn hash_hex(&self) -> String {
        format!("{:032x}", self.hash.0)
    }
}

/// FNV-1a, 128-bit: stable across machines and Rust versions, no dependency.
#[derive(Clone, Copy, Debug)]
struct Fnv128(u128);

impl Default for Fnv128 {
    fn default() -> Self {
        Fnv128(0x6c62272e07bb014262b821756295c58d)
    }
}

impl Fnv128 {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u128;
            self.0 = self.0.wrapping_mul(0x0000000001000000000000000000013B);
        }
    }
}

/// Formats argument `i` of a syscall. `ret` is `None` at entry; out-arguments then print
/// only their address. `saved` is what [`entry_saved`] read when the call entered.
pub fn format_arg(sysno: Sysno, i: usize, args: &[u64; 6], ret: Option<i64>, saved: Option<i64>, peek: &dyn Peek, aarch64: bool) -> String {
    let desc = sysno.desc();
    let a = args[i];
    let kind = desc.args[i].kind;
    let failed = ret.is_none_or(|r| r < 0);
    if let Some(t) = crate::sockaddr::format_net_arg(sysno, i, args, ret, saved, peek) {
        return t;
    }
    // prctl(PR_SET_SECCOMP, SECCOMP_MODE_*, struct sock_fprog *) as strace prints it.
    if sysno == Sysno::Prctl && args[0] as u32 == 22 && (i == 1 || i == 2) {
        const MODES: [&str; 3] = ["SECCOMP_MODE_DISABLED", "SECCOMP_MODE_STRICT", "SECCOMP_MODE_FILTER"];
        match (i, args[1]) {
            (1, m) if m < 3 => return String::from(MODES[m as usize]),
            (2, 2) => return strace::fprog(a, peek),
            _ => {}
        }
    }
    if sysno == Sysno::Ioctl && i == 2 {
        if let Some(sk) = ioctl_arg_kind(args[1] as u32 as u64) {
            // An out-only value of a failed call was never stored: its address.
            let out_only = strace::io_layout(sk).iter().all(|f| !f.input);
            return match peek.peek(a, strace::struct_size(sk, aarch64, 0)) {
                Some(b) if a != 0 && !(out_only && failed) => strace::io_text(sk, &b, &|_| true),
                _ => strace::ptr(a),
            };
        }
    }
    if let ArgKind::Struct(StructKind::PollFd, _) = kind {
        return pollfd_array(a, args[1] as u32 as u64, peek, false);
    }
    match kind {
        ArgKind::Int => format!("{}", a as u32 as i32),
        ArgKind::UInt => format!("{a}"),
        ArgKind::Fd | ArgKind::Pid => format!("{}", a as u32 as i32),
        ArgKind::DirFd => {
            if a as u32 as i32 == kernel::uapi::fcntl::AT_FDCWD {
                String::from("AT_FDCWD")
            } else {
                format!("{}", a as u32 as i32)
            }
        }
        ArgKind::Id => format!("{}", a as u32 as i32),
        ArgKind::Signal => strace::signal_name(a as u32 as i32),
        ArgKind::Mode => strace::mode_arg(a & 0o7777),
        ArgKind::Off => format!("{}", a as i64),
        ArgKind::Hex => strace::hex(a),
        ArgKind::Flags(set) => strace::flags(set, if set.signal_low_byte { a } else { a as u32 as u64 }),
        ArgKind::Enum(set) => set.name_of(a as u32 as u64).map(String::from).unwrap_or_else(|| format!("{}", a as u32 as i32)),
        ArgKind::Path | ArgKind::Str => match peek.peek_cstr(a, 4096) {
            Some((s, _)) if a != 0 => strace::quote(&s, None),
            _ => strace::ptr(a),
        },
        ArgKind::InBuf { len_arg } => {
            let len = args[len_arg] as usize;
            match peek.peek(a, len.min(STRING_LIMIT)) {
                Some(b) if a != 0 => {
                    let mut q = strace::quote(&b, None);
                    if len > STRING_LIMIT {
                        q.push_str("...");
                    }
                    q
                }
                _ => strace::ptr(a),
            }
        }
        ArgKind::OutBuf { len_arg } => {
            let r = ret.unwrap_or(-1);
            if r < 0 || a == 0 || args[len_arg] == 0 {
                return strace::ptr(a);
            }
            // A datagram's full length (MSG_TRUNC) may exceed the buffer: strace shows
            // at most the buffer.
            let n = (r as u64).min(args[len_arg]) as usize;
            match peek.peek(a, n.min(STRING_LIMIT)) {
                Some(b) => {
                    let mut q = strace::quote(&b, None);
                    if n > STRING_LIMIT {
                        q.push_str("...");
                    }
                    q
                }
                None => strace::ptr(a),
            }
        }
        ArgKind::Struct(sk, dir) => {
            if a == 0 || (dir == Dir::Out && failed) {
                return strace::ptr(a);
            }
            if sk == StructKind::Dirent64 {
                let n = (ret.unwrap_or(0).max(0) as u64).min(args[2] as u32 as u64) as usize;
                return match peek.peek(a, n) {
                    Some(b) => strace::dirents_text(&b),
                    None => strace::ptr(a),
                };
            }
            if sk == StructKind::SockFprog {
                // strace decodes seccomp's third argument only for SECCOMP_SET_MODE_FILTER.
                return if sysno == Sysno::Seccomp && args[0] as u32 != 1 { strace::ptr(a) } else { strace::fprog(a, peek) };
            }
            let words = if sk == StructKind::CapData {
                peek.peek(args[0], 4).map(|v| strace::cap_words(u32::from_le_bytes([v[0], v[1], v[2], v[3]]))).unwrap_or(2)
            } else {
                0
            };
            match peek.peek(a, strace::struct_size(sk, aarch64, words)) {
                Some(b) => {
                    let (f, shown) = strace::decode_struct(sk, &b, aarch64);
                    strace::struct_text(&f, shown)
                }
                None => strace::ptr(a),
            }
        }
        ArgKind::FdPair => {
            if failed || a == 0 {
                return strace::ptr(a);
            }
            match peek.peek(a, 8) {
                Some(b) => format!("[{}, {}]", i32::from_le_bytes([b[0], b[1], b[2], b[3]]), i32::from_le_bytes([b[4], b[5], b[6], b[7]])),
                None => strace::ptr(a),
            }
        }
        ArgKind::WaitStatus => {
            if a == 0 || ret.is_none_or(|r| r <= 0) {
                return strace::ptr(a);
            }
            match peek.peek(a, 4) {
                Some(b) => format!("[{}]", strace::wait_status(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
                None => strace::ptr(a),
            }
        }
        ArgKind::StrArray => {
            if a == 0 {
                return String::from("NULL");
            }
            let mut items = Vec::new();
            for k in 0..64u64 {
                let Some(p) = peek.peek(a + 8 * k, 8) else { return strace::ptr(a) };
                let p = u64::from_le_bytes([p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]]);
                if p == 0 {
                    return format!("[{}]", items.join(", "));
                }
                match peek.peek_cstr(p, 4096) {
                    Some((s, _)) => items.push(strace::quote(&s, Some(STRING_LIMIT))),
                    None => items.push(strace::ptr(p)),
                }
            }
            format!("[{}, ...]", items.join(", "))
        }
        ArgKind::Ptr | ArgKind::SockAddr { .. } | ArgKind::SockAddrOut { .. } | ArgKind::SockLen => strace::ptr(a),
    }
}

/// Index of the first argument printed at exit (the first out-argument), or the count.
pub fn first_out(sysno: Sysno) -> usize {
    sysno.desc().args.iter().position(|a| is_out(&a.kind)).unwrap_or(sysno.desc().args.len())
}

/// How many arguments strace shows: `openat` drops its mode unless it creates.
pub fn shown_args(sysno: Sysno, args: &[u64; 6]) -> usize {
    let n = sysno.desc().args.len();
    if sysno == Sysno::Openat && args[2] as u32 & (kernel::uapi::fcntl::O_CREAT | kernel::uapi::fcntl::__O_TMPFILE) == 0 {
        return n - 1;
    }
    n
}

/// The structure an `ioctl` request's argument points at, for the requests whose
/// argument the tracer decodes and the scenario language marshals field by field.
pub fn ioctl_arg_kind(req: u64) -> Option<StructKind> {
    use kernel::block::ioctl::*;
    use kernel::uapi::userfaultfd::*;
    match req as u32 {
        BLKDISCARD | BLKSECDISCARD => Some(StructKind::BlkRange),
        BLKGETSIZE64 | BLKGETSIZE => Some(StructKind::BlkU64),
        BLKSSZGET | BLKPBSZGET | BLKROGET | BLKDISCARDZEROES => Some(StructKind::BlkU32),
        BLKROTATIONAL => Some(StructKind::BlkU16),
        UFFDIO_API => Some(StructKind::UffdioApi),
        UFFDIO_REGISTER => Some(StructKind::UffdioRegister),
        UFFDIO_UNREGISTER | UFFDIO_WAKE => Some(StructKind::UffdioRange),
        UFFDIO_COPY => Some(StructKind::UffdioCopy),
        UFFDIO_ZEROPAGE => Some(StructKind::UffdioZeropage),
        _ => None,
    }
}

/// Most elements of an array strace prints before `...` (`-s 32`).
const ARRAY_LIMIT: usize = 32;

/// A `struct pollfd` array: at entry `[{fd=3, events=POLLIN}, …]`; after the call
/// (`returned`) the entries with a non-zero `revents`, `[{fd=3, revents=POLLIN}]`.
pub fn pollfd_array(a: u64, nfds: u64, peek: &dyn Peek, returned: bool) -> String {
    let size = kernel::fs::poll::POLLFD_SIZE;
    let n = (nfds as usize).min(ARRAY_LIMIT);
    let Some(b) = peek.peek(a, n * size).filter(|_| a != 0 || nfds == 0) else { return strace::ptr(a) };
    let mut items = Vec::new();
    for e in b.chunks(size) {
        if returned {
            if u16::from_le_bytes([e[6], e[7]]) != 0 {
                items.push(strace::io_text(StructKind::PollFd, e, &|f| f.name != "events"));
            }
        } else {
            items.push(strace::io_text(StructKind::PollFd, e, &|f| f.name != "revents"));
        }
    }
    if nfds as usize > n && !returned {
        items.push(String::from("..."));
    }
    format!("[{}]", items.join(", "))
}

/// How many of ptrace's arguments strace prints for a request.
fn ptrace_shown(req: u64) -> usize {
    use kernel::uapi::ptrace::*;
    match req {
        PTRACE_TRACEME => 1,
        PTRACE_ATTACH | PTRACE_KILL | PTRACE_INTERRUPT => 2,
        _ => 4,
    }
}

/// What ptrace's `data` means for a request: a structure or word the kernel stores or
/// reads, or `None` for an integer.
pub fn ptrace_data_kind(req: u64) -> Option<(StructKind, Dir)> {
    use kernel::uapi::ptrace::*;
    match req {
        PTRACE_PEEKTEXT | PTRACE_PEEKDATA | PTRACE_GETEVENTMSG => Some((StructKind::Word, Dir::Out)),
        PTRACE_GETREGS => Some((StructKind::UserRegs, Dir::Out)),
        PTRACE_SETREGS => Some((StructKind::UserRegs, Dir::In)),
        _ => None,
    }
}

/// ptrace's argument `i` as strace prints it (`ret` `None` at entry).
fn ptrace_arg(i: usize, args: &[u64; 6], ret: Option<i64>, peek: &dyn Peek) -> String {
    use kernel::uapi::ptrace::*;
    let req = args[0] as u32 as u64;
    let a = args[i];
    match i {
        0 => PTRACE_REQUESTS.iter().find(|(_, v)| *v == req).map(|(n, _)| String::from(*n)).unwrap_or_else(|| format!("{req:#x} /* PTRACE_??? */")),
        1 => format!("{}", a as u32 as i32),
        2 => strace::ptr(a),
        _ => match ptrace_data_kind(req) {
            Some((sk, dir)) => {
                if a == 0 || (dir == Dir::Out && ret.is_none_or(|r| r < 0)) {
                    return strace::ptr(a);
                }
                match peek.peek(a, strace::struct_size(sk, false, 0)) {
                    Some(b) if sk == StructKind::Word => {
                        let w = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
                        if req == PTRACE_GETEVENTMSG { format!("[{w}]") } else { format!("[{w:#x}]") }
                    }
                    Some(b) => {
                        let (f, shown) = strace::decode_struct(sk, &b, false);
                        strace::struct_text(&f, shown)
                    }
                    None => strace::ptr(a),
                }
            }
            None => match req {
                PTRACE_SETOPTIONS | PTRACE_SEIZE => {
                    let mut parts: Vec<String> = Vec::new();
                    let mut rest = a;
                    for (n, v) in PTRACE_CONST_NAMES.iter().filter(|(n, _)| n.starts_with("PTRACE_O_")) {
                        if a & v != 0 {
                            parts.push(String::from(*n));
                            rest &= !v;
                        }
                    }
                    if rest != 0 || parts.is_empty() {
                        parts.push(format!("{rest:#x}"));
                    }
                    if a == 0 { String::from("0") } else { parts.join("|") }
                }
                PTRACE_CONT | PTRACE_SYSCALL | PTRACE_DETACH if a != 0 && a < 65 => strace::signal_name(a as i32),
                PTRACE_POKETEXT | PTRACE_POKEDATA => format!("{a:#x}"),
                _ => format!("{a}"),
            },
        },
    }
}

/// What the tracer must read when a call enters to print it at exit: the `socklen_t` a
/// `getsockname`/`recvfrom` passes (when both pointers are set), the `msg_namelen` a
/// `recvmsg` passes.
pub fn entry_saved(sysno: Sysno, args: &[u64; 6], peek: &dyn Peek) -> Option<i64> {
    crate::sockaddr::entry_saved(sysno, args, peek)
}

/// `name(arg, arg` for the arguments printed at entry.
pub fn entry_text(sysno: Sysno, args: &[u64; 6], peek: &dyn Peek, aarch64: bool) -> Vec<String> {
    if sysno == Sysno::Prctl {
        return prctl_entry(args, peek);
    }
    if sysno == Sysno::Ptrace {
        // The data word is printed at exit: some requests store through it.
        let n = ptrace_shown(args[0] as u32 as u64);
        return (0..n.min(3)).map(|i| ptrace_arg(i, args, None, peek)).collect();
    }
    if sysno == Sysno::Ioctl && ioctl_arg_kind(args[1] as u32 as u64).is_some() {
        // The argument is printed at exit, in full: the kernel writes parts of it.
        return (0..2).map(|i| format_arg(sysno, i, args, None, None, peek, aarch64)).collect();
    }
    (0..first_out(sysno).min(shown_args(sysno, args))).map(|i| format_arg(sysno, i, args, None, None, peek, aarch64)).collect()
}

/// The rest of the arguments at exit (`saved`: what [`entry_saved`] read).
pub fn exit_text(sysno: Sysno, args: &[u64; 6], ret: i64, saved: Option<i64>, peek: &dyn Peek, aarch64: bool) -> Vec<String> {
    if sysno == Sysno::Prctl {
        return prctl_exit(args, ret, peek);
    }
    if sysno == Sysno::Ptrace {
        let n = ptrace_shown(args[0] as u32 as u64);
        return (3..n).map(|i| ptrace_arg(i, args, Some(ret), peek)).collect();
    }
    if sysno == Sysno::Ioctl && ioctl_arg_kind(args[1] as u32 as u64).is_some() {
        return alloc::vec![format_arg(sysno, 2, args, Some(ret), None, peek, aarch64)];
    }
    (first_out(sysno)..shown_args(sysno, args)).map(|i| format_arg(sysno, i, args, Some(ret), saved, peek, aarch64)).collect()
}

/// What strace prints in parentheses after some return values (`PR_GET_SECUREBITS`'s
/// flags, `PR_GET_DUMPABLE`'s name).
pub fn ret_aux(sysno: Sysno, args: &[u64; 6], ret: i64, peek: &dyn Peek) -> Option<String> {
    use kernel::uapi::prctl::*;
    if matches!(sysno, Sysno::Poll | Sysno::Ppoll) && ret >= 0 {
        return Some(if ret == 0 { String::from("Timeout") } else { pollfd_array(args[0], args[1] as u32 as u64, peek, true) });
    }
    if sysno != Sysno::Prctl || ret < 0 {
        return None;
    }
    match args[0] as u32 {
        PR_GET_SECUREBITS if ret != 0 => Some(secbits(ret as u64)),
        PR_GET_DUMPABLE => SUID_DUMP_NAMES.iter().find(|(_, v)| *v == ret as u64).map(|(n, _)| String::from(*n)),
        _ => None,
    }
}

/// `printflags(secbits, …)`: names in bit order, unknown bits in hex.
fn secbits(v: u64) -> String {
    strace::bit_names(kernel::uapi::capability::SECBIT_NAMES.iter().map(|(n, b)| (*n, *b as u64)), v)
}

/// `printxval(cap, …)`: `CAP_NET_RAW`, or `0x26 /* CAP_??? */`.
fn cap_name(v: u64) -> String {
    match kernel::uapi::capability::CAP_NAMES.get(v as usize) {
        Some(n) => String::from(*n),
        None => format!("{v:#x} /* CAP_??? */"),
    }
}

fn xval(table: &[(&str, u64)], v: u64, unknown: &str) -> String {
    match table.iter().find(|(_, x)| *x == v) {
        Some((n, _)) => String::from(*n),
        None => format!("{v:#x} /* {unknown} */"),
    }
}

/// `print_prctl_args`: the remaining arguments in hex.
fn hex_args(args: &[u64; 6], from: usize, out: &mut Vec<String>) {
    for &a in &args[from..5] {
        out.push(if a == 0 { String::from("0") } else { format!("{a:#x}") });
    }
}

/// strace's `prctl` decoder at entry: which arguments print depends on the option.
fn prctl_entry(args: &[u64; 6], peek: &dyn Peek) -> Vec<String> {
    use kernel::uapi::prctl::*;
    let option = args[0] as u32;
    let mut out = alloc::vec![xval(PR_OPTIONS, option as u64, "PR_???")];
    let a2 = args[1];
    match option {
        PR_GET_KEEPCAPS | PR_GET_SECCOMP | PR_GET_SECUREBITS | PR_GET_DUMPABLE | 13 | 30 | 31 | 32 => {}
        PR_GET_NAME => {}
        PR_SET_DUMPABLE => out.push(xval(SUID_DUMP_NAMES, a2, "SUID_DUMP_???")),
        PR_CAPBSET_READ | PR_CAPBSET_DROP => out.push(cap_name(a2)),
        PR_CAP_AMBIENT => {
            out.push(xval(PR_CAP_AMBIENT_OPS, a2, "PR_CAP_AMBIENT_???"));
            if matches!(a2, PR_CAP_AMBIENT_IS_SET | PR_CAP_AMBIENT_RAISE | PR_CAP_AMBIENT_LOWER) {
                out.push(cap_name(args[2]));
                hex_args(args, 3, &mut out);
            } else {
                hex_args(args, 2, &mut out);
            }
        }
        PR_SET_KEEPCAPS | 14 | 29 | 36 => out.push(format!("{a2}")),
        PR_SET_NAME => out.push(match peek.peek_cstr(a2, TASK_COMM_LEN) {
            Some((s, _)) if a2 != 0 => strace::quote(&s, None),
            _ => strace::ptr(a2),
        }),
        PR_SET_NO_NEW_PRIVS | 41 => {
            out.push(format!("{a2}"));
            hex_args(args, 2, &mut out);
        }
        PR_SET_SECCOMP => {
            out.push(xval(&[("SECCOMP_MODE_DISABLED", 0), ("SECCOMP_MODE_STRICT", 1), ("SECCOMP_MODE_FILTER", 2)], a2, "SECCOMP_MODE_???"));
            match a2 {
                1 => {}
                2 => out.push(if args[2] == 0 { strace::ptr(0) } else { strace::fprog(args[2], peek) }),
                _ => hex_args(args, 2, &mut out),
            }
        }
        PR_SET_SECUREBITS => out.push(secbits(a2)),
        _ => hex_args(args, 1, &mut out),
    }
    out
}

/// The part of a `prctl` line printed at exit: `PR_GET_NAME`'s buffer.
fn prctl_exit(args: &[u64; 6], ret: i64, peek: &dyn Peek) -> Vec<String> {
    if args[0] as u32 != kernel::uapi::prctl::PR_GET_NAME {
        return Vec::new();
    }
    if ret < 0 {
        return alloc::vec![strace::ptr(args[1])];
    }
    alloc::vec![match peek.peek_cstr(args[1], kernel::uapi::prctl::TASK_COMM_LEN) {
        Some((s, _)) => strace::quote(&s, None),
        None => strace::ptr(args[1]),
    }]
}
