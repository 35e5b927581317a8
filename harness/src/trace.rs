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
/// only their address.
pub fn format_arg(sysno: Sysno, i: usize, args: &[u64; 6], ret: Option<i64>, peek: &dyn Peek, aarch64: bool) -> String {
    let desc = sysno.desc();
    let a = args[i];
    let kind = desc.args[i].kind;
    let failed = ret.is_none_or(|r| r < 0);
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
        ArgKind::Mode => strace::mode_arg(a & 0o7777),
        ArgKind::Off => format!("{}", a as i64),
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
            let n = r as usize;
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
        ArgKind::Ptr => strace::ptr(a),
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

/// `name(arg, arg` for the arguments printed at entry.
pub fn entry_text(sysno: Sysno, args: &[u64; 6], peek: &dyn Peek, aarch64: bool) -> Vec<String> {
    (0..first_out(sysno).min(shown_args(sysno, args))).map(|i| format_arg(sysno, i, args, None, peek, aarch64)).collect()
}

/// The rest of the arguments at exit.
pub fn exit_text(sysno: Sysno, args: &[u64; 6], ret: i64, peek: &dyn Peek, aarch64: bool) -> Vec<String> {
    (first_out(sysno)..shown_args(sysno, args)).map(|i| format_arg(sysno, i, args, Some(ret), peek, aarch64)).collect()
}
