//! strace's notation: how arguments, structures, flags and return values print. The
//! tracer prints with it and the scenario parser reads the same notation back.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use kernel::syscalls::desc::{ArgKind, Dir, FlagSet, RetKind, StructKind};
use kernel::uapi::capability::{CAP_NAMES, _LINUX_CAPABILITY_VERSION_1, _LINUX_CAPABILITY_VERSION_2, _LINUX_CAPABILITY_VERSION_3};
use kernel::uapi::signal::SIGNAL_NAMES;
use kernel::uapi::stat::*;
use kernel::uapi::Errno;

/// strace's default string limit (`-s 32`).
pub const STRING_LIMIT: usize = 32;

/// Reads a traced task's memory without side effects.
pub trait Peek {
    /// `len` bytes at `addr`, or `None` when unreadable.
    fn peek(&self, addr: u64, len: usize) -> Option<Vec<u8>>;
    /// A NUL-terminated string of at most `max` bytes and whether it ended.
    fn peek_cstr(&self, addr: u64, max: usize) -> Option<(Vec<u8>, bool)>;
}

/// Quotes bytes as strace does: C escapes for `\t\n\v\f\r\"\\`, octal for the rest of
/// the unprintables; cut at `limit` bytes with `...` after the closing quote.
pub fn quote(bytes: &[u8], limit: Option<usize>) -> String {
    let (shown, cut) = match limit {
        Some(l) if bytes.len() > l => (&bytes[..l], true),
        _ => (bytes, false),
    };
    let mut s = String::from("\"");
    for (i, &b) in shown.iter().enumerate() {
        match b {
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            0x0b => s.push_str("\\v"),
            0x0c => s.push_str("\\f"),
            b'\r' => s.push_str("\\r"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                // Shortest octal unless a digit follows (strace's rule).
                let next_digit = shown.get(i + 1).is_some_and(|n| n.is_ascii_digit());
                if next_digit {
                    let _ = write!(s, "\\{b:03o}");
                } else {
                    let _ = write!(s, "\\{b:o}");
                }
            }
        }
    }
    s.push('"');
    if cut {
        s.push_str("...");
    }
    s
}

/// A pointer as strace prints it: `NULL` or hex.
pub fn ptr(p: u64) -> String {
    if p == 0 {
        String::from("NULL")
    } else {
        format!("{p:#x}")
    }
}

/// A value as C's `%#lx` prints it: `0`, `0x1000`.
pub fn hex(v: u64) -> String {
    if v == 0 {
        String::from("0")
    } else {
        format!("{v:#x}")
    }
}

/// Flags of `set` joined by `|`, unknown bits in hex at the end; the set's zero-valued
/// name (`PROT_NONE`) when nothing is set.
pub fn flags(set: &FlagSet, v: u64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = v;
    if let Some((mask, names)) = set.accmode {
        let m = v & mask;
        match names.iter().find(|n| n.1 == m) {
            Some(n) => parts.push(n.0.into()),
            None => parts.push(hex(m)),
        }
        rest &= !mask;
    }
    if set.signal_low_byte {
        let sig = rest & 0xff;
        rest &= !0xff;
        for (name, bit) in set.flags {
            if rest & bit == *bit && *bit != 0 {
                parts.push((*name).into());
                rest &= !bit;
            }
        }
        if rest != 0 {
            parts.push(format!("{rest:#x}"));
        }
        if sig != 0 {
            parts.push(signal_name(sig as i32));
        }
        return if parts.is_empty() { String::from("0") } else { parts.join("|") };
    }
    let tail = bit_names(set.flags.iter().copied(), rest);
    if parts.is_empty() || tail != "0" {
        match set.flags.iter().find(|f| f.1 == 0) {
            Some(none) if tail == "0" => parts.push(none.0.into()),
            _ => parts.push(tail),
        }
    }
    parts.join("|")
}

/// `printflags`: the names of `v`'s bits in `names` order, unknown bits in hex at the end,
/// `0` when nothing is set.
pub fn bit_names<'a>(names: impl IntoIterator<Item = (&'a str, u64)>, v: u64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = v;
    for (name, bit) in names {
        if bit != 0 && rest & bit == bit {
            parts.push(name.into());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        String::from("0")
    } else {
        parts.join("|")
    }
}

/// `SIGKILL`, or the number for one without a name.
pub fn signal_name(sig: i32) -> String {
    match SIGNAL_NAMES.get(sig as usize) {
        Some(n) if sig > 0 => (*n).into(),
        _ => format!("{sig}"),
    }
}

/// `S_IFREG|S_ISUID|0755`.
pub fn mode_t(mode: u32) -> String {
    let fmt = match mode & S_IFMT {
        S_IFREG => "S_IFREG",
        S_IFDIR => "S_IFDIR",
        S_IFLNK => "S_IFLNK",
        S_IFIFO => "S_IFIFO",
        S_IFCHR => "S_IFCHR",
        S_IFBLK => "S_IFBLK",
        S_IFSOCK => "S_IFSOCK",
        _ => "",
    };
    let mut s = String::from(fmt);
    for (bit, name) in [(S_ISUID, "S_ISUID"), (S_ISGID, "S_ISGID"), (S_ISVTX, "S_ISVTX")] {
        if mode & bit != 0 {
            if !s.is_empty() {
                s.push('|');
            }
            s.push_str(name);
        }
    }
    if !s.is_empty() {
        s.push('|');
    }
    s.push_str(&mode_arg((mode & 0o777) as u64));
    s
}

/// Permission bits as strace prints a `mode_t` argument: `0644`, `000`.
pub fn mode_arg(mode: u64) -> String {
    if mode == 0 {
        String::from("000")
    } else {
        format!("0{mode:o}")
    }
}

/// A capability set: `1<<CAP_CHOWN|1<<CAP_KILL`, `0` when empty.
pub fn capset(v: u64) -> String {
    if v == 0 {
        return String::from("0");
    }
    let mut parts = Vec::new();
    for (i, n) in CAP_NAMES.iter().enumerate() {
        if v & (1 << i) != 0 {
            parts.push(format!("1<<{n}"));
        }
    }
    let rest = v & !((1u64 << CAP_NAMES.len()) - 1);
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

/// A `wait4` status word: `{WIFEXITED(s) && WEXITSTATUS(s) == 0}`.
pub fn wait_status(st: i32) -> String {
    if st == 0xffff {
        String::from("{WIFCONTINUED(s)}")
    } else if st & 0x7f == 0 {
        format!("{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", (st >> 8) & 0xff)
    } else if st & 0xff == 0x7f {
        let sig = (st >> 8) & 0xff;
        let name = if sig & 0x80 != 0 { format!("{}|0x80", signal_name(sig & 0x7f)) } else { signal_name(sig) };
        let event = match (st >> 16) & 0xff {
            0 => String::new(),
            e => {
                let n = kernel::uapi::ptrace::PTRACE_CONST_NAMES.iter().find(|(n, v)| n.starts_with("PTRACE_EVENT_") && *v == e as u64).map(|(n, _)| String::from(*n));
                format!(" && s>>16 == {}", n.unwrap_or_else(|| format!("{e}")))
            }
        };
        format!("{{WIFSTOPPED(s) && WSTOPSIG(s) == {name}{event}}}")
    } else {
        let core = if st & 0x80 != 0 { " && WCOREDUMP(s)" } else { "" };
        format!("{{WIFSIGNALED(s) && WTERMSIG(s) == {}{}}}", signal_name(st & 0x7f), core)
    }
}

/// The return value: `3`, or `-1 ENOENT (No such file or directory)`.
pub fn retval(kind: RetKind, ret: i64) -> String {
    if kind == RetKind::NoReturn && ret == 0 {
        return String::from("0");
    }
    // A uid is returned zero-extended, so a negative value is always an error.
    if (-4095..0).contains(&ret) {
        let e = Errno(-ret as i32);
        return match e.name() {
            Some(n) => format!("-1 {} ({})", n, e.message()),
            None => format!("-1 errno {} (Unknown error {})", -ret, -ret),
        };
    }
    match kind {
        RetKind::Id => format!("{}", ret as u32),
        RetKind::Ptr => hex(ret as u64),
        _ => format!("{ret}"),
    }
}

/// Size in user memory of a structure, given the ABI and (for cap data) the version.
pub fn struct_size(kind: StructKind, aarch64: bool, cap_words: usize) -> usize {
    match kind {
        StructKind::Timespec => 16,
        StructKind::Stat => {
            if aarch64 {
                STAT_SIZE_GENERIC
            } else {
                STAT_SIZE_X86_64
            }
        }
        StructKind::Utsname => kernel::uapi::utsname::UTSNAME_SIZE,
        StructKind::CapHeader => 8,
        StructKind::CapData => 12 * cap_words,
        StructKind::Rusage => kernel::kernel::exit::RUSAGE_SIZE,
        StructKind::SockFprog => 16,
        StructKind::UserRegs => kernel::uapi::ptrace::USER_REGS_SIZE,
        StructKind::Word => 8,
        StructKind::UffdioApi => kernel::uapi::userfaultfd::UFFDIO_API_SIZE,
        StructKind::UffdioRange => kernel::uapi::userfaultfd::UFFDIO_RANGE_SIZE,
        StructKind::UffdioRegister => kernel::uapi::userfaultfd::UFFDIO_REGISTER_SIZE,
        StructKind::UffdioCopy => kernel::uapi::userfaultfd::UFFDIO_COPY_SIZE,
        StructKind::UffdioZeropage => kernel::uapi::userfaultfd::UFFDIO_ZEROPAGE_SIZE,
        StructKind::UffdMsg => kernel::uapi::userfaultfd::UFFD_MSG_SIZE,
        StructKind::PollFd => kernel::fs::poll::POLLFD_SIZE,
        StructKind::MsgHdr => kernel::net::msghdr::MSGHDR_SIZE,
        StructKind::BlkRange => 16,
        StructKind::BlkU64 => 8,
        StructKind::BlkU32 => 4,
        StructKind::BlkU16 => 2,
        // Variable: the call's count says how large the buffer is.
        StructKind::Dirent64 => 0,
        StructKind::Statfs => kernel::fs::statfs::STATFS_SIZE,
    }
}

/// Words per capability set for a header version (strace reads the header to know).
pub fn cap_words(version: u32) -> usize {
    if version == _LINUX_CAPABILITY_VERSION_1 {
        1
    } else {
        2
    }
}

fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn le64(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(a)
}

/// One decoded field: its name and how it prints.
pub type Field = (&'static str, String);

/// Decodes a structure into `(field, text)` pairs, all fields; `shown` is how many of
/// them strace prints before `...` (`None` = all).
pub fn decode_struct(kind: StructKind, b: &[u8], aarch64: bool) -> (Vec<Field>, Option<usize>) {
    match kind {
        StructKind::Timespec => (alloc::vec![("tv_sec", format!("{}", le64(b, 0) as i64)), ("tv_nsec", format!("{}", le64(b, 8) as i64))], None),
        StructKind::Stat => {
            let st = if aarch64 {
                Kstat {
                    dev: le64(b, 0),
                    ino: le64(b, 8),
                    mode: le32(b, 16),
                    nlink: le32(b, 20),
                    uid: le32(b, 24),
                    gid: le32(b, 28),
                    rdev: le64(b, 32),
                    size: le64(b, 48) as i64,
                    blksize: le32(b, 56),
                    blocks: le64(b, 64),
                    ..Default::default()
                }
            } else {
                let mut a = [0u8; STAT_SIZE_X86_64];
                a.copy_from_slice(&b[..STAT_SIZE_X86_64]);
                Kstat::from_x86_64(&a)
            };
            // strace shows a device's number where other files show their size.
            let rdev = ("st_rdev", format!("makedev({:#x}, {:#x})", ((st.rdev >> 8) & 0xfff) | ((st.rdev >> 32) & !0xfff), (st.rdev & 0xff) | ((st.rdev >> 12) & !0xff)));
            let size = ("st_size", format!("{}", st.size));
            let (second, last) = if matches!(st.mode & S_IFMT, S_IFBLK | S_IFCHR) { (rdev, size) } else { (size, rdev) };
            let fields = alloc::vec![
                ("st_mode", mode_t(st.mode)),
                second,
                ("st_dev", format!("makedev({:#x}, {:#x})", (st.dev >> 8) & 0xfff, st.dev & 0xff)),
                ("st_ino", format!("{}", st.ino)),
                ("st_nlink", format!("{}", st.nlink)),
                ("st_uid", format!("{}", st.uid)),
                ("st_gid", format!("{}", st.gid)),
                ("st_blksize", format!("{}", st.blksize)),
                ("st_blocks", format!("{}", st.blocks)),
                last,
            ];
            (fields, Some(2))
        }
        StructKind::Utsname => {
            let field = |i: usize| {
                let f = &b[i * 65..i * 65 + 65];
                let n = f.iter().position(|&c| c == 0).unwrap_or(65);
                quote(&f[..n], None)
            };
            let names = kernel::uapi::utsname::UTS_FIELDS;
            (names.iter().enumerate().map(|(i, n)| (*n, field(i))).collect(), Some(2))
        }
        StructKind::CapHeader => {
            let v = le32(b, 0);
            let vs = match v {
                _LINUX_CAPABILITY_VERSION_1 => String::from("_LINUX_CAPABILITY_VERSION_1"),
                _LINUX_CAPABILITY_VERSION_2 => String::from("_LINUX_CAPABILITY_VERSION_2"),
                _LINUX_CAPABILITY_VERSION_3 => String::from("_LINUX_CAPABILITY_VERSION_3"),
                _ => format!("{v:#x}"),
            };
            (alloc::vec![("version", vs), ("pid", format!("{}", le32(b, 4) as i32))], None)
        }
        StructKind::CapData => {
            let words = b.len() / 12;
            let set = |f: usize| (0..words).fold(0u64, |acc, w| acc | ((le32(b, 12 * w + 4 * f) as u64) << (32 * w)));
            (alloc::vec![("effective", capset(set(0))), ("permitted", capset(set(1))), ("inheritable", capset(set(2)))], None)
        }
        StructKind::Rusage => {
            let tv = |o: usize| format!("{{tv_sec={}, tv_usec={}}}", le64(b, o) as i64, le64(b, o + 8) as i64);
            (alloc::vec![("ru_utime", tv(0)), ("ru_stime", tv(16))], Some(2))
        }
        StructKind::UserRegs => {
            // strace prints the registers as signed decimals for rax/orig_rax and hex
            // for the others; k43 prints every register in decimal as a signed long.
            let f = kernel::uapi::ptrace::USER_REGS_NAMES.iter().enumerate().map(|(i, n)| (*n, format!("{}", le64(b, i * 8) as i64))).collect();
            (f, None)
        }
        StructKind::Word => (alloc::vec![("word", format!("{:#x}", le64(b, 0)))], None),
        StructKind::SockFprog => (alloc::vec![("len", format!("{}", u16::from_le_bytes([b[0], b[1]]))), ("filter", ptr(le64(b, 8)))], None),
        StructKind::Statfs => (statfs_fields(b), None),
        _ => (io_layout(kind).iter().map(|f| (f.name, io_field_text(f, b))).collect(), None),
    }
}

/// A `struct statfs` as strace prints it: `{f_type=RAMFS_MAGIC, f_bsize=4096, …,
/// f_fsid={val=[0, 0]}, f_namelen=255, f_frsize=4096, f_flags=ST_VALID}`.
pub fn statfs_fields(b: &[u8]) -> Vec<Field> {
    use kernel::fs::statfs::{Kstatfs, FS_MAGIC_NAMES, ST_NAMES};
    let st = Kstatfs::from_bytes(b);
    let f_type = FS_MAGIC_NAMES.iter().find(|(_, v)| *v == st.f_type).map(|(n, _)| String::from(*n)).unwrap_or_else(|| hex(st.f_type));
    alloc::vec![
        ("f_type", f_type),
        ("f_bsize", format!("{}", st.f_bsize)),
        ("f_blocks", format!("{}", st.f_blocks)),
        ("f_bfree", format!("{}", st.f_bfree)),
        ("f_bavail", format!("{}", st.f_bavail)),
        ("f_files", format!("{}", st.f_files)),
        ("f_ffree", format!("{}", st.f_ffree)),
        ("f_fsid", format!("{{val=[{}, {}]}}", st.f_fsid[0] as i32, st.f_fsid[1] as i32)),
        ("f_namelen", format!("{}", st.f_namelen)),
        ("f_frsize", format!("{}", st.f_frsize)),
        ("f_flags", bit_names(ST_NAMES.iter().copied(), st.f_flags)),
    ]
}

/// The `struct linux_dirent64` records in `b` (what `getdents64` returned), each as
/// `d_ino`, `d_off`, `d_reclen`, `d_type`, `d_name`.
pub fn dirents(b: &[u8]) -> Vec<Vec<Field>> {
    use kernel::fs::readdir::{DIRENT64_NAME_OFF, DT_NAMES};
    let mut out = Vec::new();
    let mut off = 0;
    while off + DIRENT64_NAME_OFF <= b.len() {
        let e = &b[off..];
        let reclen = u16::from_le_bytes([e[16], e[17]]) as usize;
        if reclen < DIRENT64_NAME_OFF || off + reclen > b.len() {
            break;
        }
        let name_area = &e[DIRENT64_NAME_OFF..reclen];
        let name = &name_area[..name_area.iter().position(|&c| c == 0).unwrap_or(name_area.len())];
        let d_type = DT_NAMES.iter().find(|(_, v)| *v == e[18] as u64).map(|(n, _)| String::from(*n)).unwrap_or_else(|| format!("{:#x} /* DT_??? */", e[18]));
        out.push(alloc::vec![
            ("d_ino", format!("{}", le64(e, 0))),
            ("d_off", format!("{}", le64(e, 8) as i64)),
            ("d_reclen", format!("{reclen}")),
            ("d_type", d_type),
            ("d_name", quote(name, None)),
        ]);
        off += reclen;
    }
    out
}

/// `getdents64`'s buffer as strace -v prints it: `[{d_ino=1, d_off=1, d_reclen=24,
/// d_type=DT_DIR, d_name="."}, …]`.
pub fn dirents_text(b: &[u8]) -> String {
    let items: Vec<String> = dirents(b).iter().map(|f| struct_text(f, None)).collect();
    format!("[{}]", items.join(", "))
}

/// How a field of an in/out structure prints.
#[derive(Clone, Copy, Debug)]
pub enum IoFmt {
    /// `%#x`: `0`, `0x1c`.
    Hex,
    /// Decimal (signed when the field is).
    Dec,
    /// Flag names joined by `|`, unknown bits in hex, `0` for none.
    Flags(&'static [(&'static str, u64)]),
    /// One name, or hex.
    Enum(&'static [(&'static str, u64)]),
}

/// One field of a structure the scenario language marshals and checks field by field
/// (the ioctl arguments of userfaultfd, `struct uffd_msg`, `struct pollfd`). A nested
/// structure's fields are named `outer.inner` (`range.start`).
#[derive(Clone, Copy, Debug)]
pub struct IoField {
    /// Field name (`range.start` inside `range={…}`).
    pub name: &'static str,
    /// Byte offset.
    pub off: usize,
    /// Size in bytes: 1, 2, 4 or 8.
    pub size: usize,
    /// Sign-extended when read.
    pub signed: bool,
    /// The kernel reads it: a scenario's value is marshalled.
    pub input: bool,
    /// The kernel writes it: a scenario's value is checked after the call.
    pub output: bool,
    /// How it prints.
    pub fmt: IoFmt,
}

const fn iof(name: &'static str, off: usize, size: usize, input: bool, output: bool, fmt: IoFmt) -> IoField {
    IoField { name, off, size, signed: false, input, output, fmt }
}

const fn iof_signed(name: &'static str, off: usize, size: usize, input: bool, output: bool, fmt: IoFmt) -> IoField {
    IoField { name, off, size, signed: true, input, output, fmt }
}

/// `UFFDIO_REGISTER_MODE_*`.
pub static UFFDIO_REGISTER_MODES: &[(&str, u64)] = &[("UFFDIO_REGISTER_MODE_MISSING", 1), ("UFFDIO_REGISTER_MODE_WP", 2)];
/// `UFFDIO_COPY_MODE_*`.
pub static UFFDIO_COPY_MODES: &[(&str, u64)] = &[("UFFDIO_COPY_MODE_DONTWAKE", 1)];
/// `UFFDIO_ZEROPAGE_MODE_*`.
pub static UFFDIO_ZEROPAGE_MODES: &[(&str, u64)] = &[("UFFDIO_ZEROPAGE_MODE_DONTWAKE", 1)];
/// `UFFD_EVENT_*` of 4.3.
pub static UFFD_EVENTS: &[(&str, u64)] = &[("UFFD_EVENT_PAGEFAULT", 0x12)];
/// `UFFD_PAGEFAULT_FLAG_*`.
pub static UFFD_PAGEFAULT_FLAGS: &[(&str, u64)] = &[("UFFD_PAGEFAULT_FLAG_WRITE", 1), ("UFFD_PAGEFAULT_FLAG_WP", 2)];

/// Names a scenario may use for the values of these structures.
pub static IO_CONSTANTS: &[&[(&str, u64)]] = &[UFFDIO_REGISTER_MODES, UFFDIO_COPY_MODES, UFFDIO_ZEROPAGE_MODES, UFFD_EVENTS, UFFD_PAGEFAULT_FLAGS, kernel::fs::poll::POLL_NAMES, &[("UFFD_API", 0xaa)]];

/// The fields of an in/out structure, in the order strace prints them.
pub fn io_layout(kind: StructKind) -> &'static [IoField] {
    use IoFmt::*;
    static API: [IoField; 3] = [iof("api", 0, 8, true, false, Hex), iof("features", 8, 8, true, true, Hex), iof("ioctls", 16, 8, false, true, Hex)];
    static RANGE: [IoField; 2] = [iof("start", 0, 8, true, false, Hex), iof("len", 8, 8, true, false, Dec)];
    static REGISTER: [IoField; 4] = [iof("range.start", 0, 8, true, false, Hex), iof("range.len", 8, 8, true, false, Dec), iof("mode", 16, 8, true, false, Flags(UFFDIO_REGISTER_MODES)), iof("ioctls", 24, 8, false, true, Hex)];
    static COPY: [IoField; 5] = [
        iof("dst", 0, 8, true, false, Hex),
        iof("src", 8, 8, true, false, Hex),
        iof("len", 16, 8, true, false, Dec),
        iof("mode", 24, 8, true, false, Flags(UFFDIO_COPY_MODES)),
        iof_signed("copy", 32, 8, false, true, Dec),
    ];
    static ZEROPAGE: [IoField; 4] = [iof("range.start", 0, 8, true, false, Hex), iof("range.len", 8, 8, true, false, Dec), iof("mode", 16, 8, true, false, Flags(UFFDIO_ZEROPAGE_MODES)), iof_signed("zeropage", 24, 8, false, true, Dec)];
    static MSG: [IoField; 3] = [iof("event", 0, 1, false, true, Enum(UFFD_EVENTS)), iof("flags", 8, 8, false, true, Flags(UFFD_PAGEFAULT_FLAGS)), iof("address", 16, 8, false, true, Hex)];
    static BLK_RANGE: [IoField; 2] = [iof("start", 0, 8, true, false, Dec), iof("len", 8, 8, true, false, Dec)];
    static BLK_U64: [IoField; 1] = [iof("value", 0, 8, false, true, Dec)];
    static BLK_U32: [IoField; 1] = [iof("value", 0, 4, false, true, Dec)];
    static BLK_U16: [IoField; 1] = [iof("value", 0, 2, false, true, Dec)];
    static POLLFD: [IoField; 3] = [iof_signed("fd", 0, 4, true, false, Dec), iof("events", 4, 2, true, false, Flags(kernel::fs::poll::POLL_NAMES)), iof("revents", 6, 2, false, true, Flags(kernel::fs::poll::POLL_NAMES))];
    match kind {
        StructKind::UffdioApi => &API,
        StructKind::UffdioRange => &RANGE,
        StructKind::UffdioRegister => &REGISTER,
        StructKind::UffdioCopy => &COPY,
        StructKind::UffdioZeropage => &ZEROPAGE,
        StructKind::UffdMsg => &MSG,
        StructKind::PollFd => &POLLFD,
        StructKind::BlkRange => &BLK_RANGE,
        StructKind::BlkU64 => &BLK_U64,
        StructKind::BlkU32 => &BLK_U32,
        StructKind::BlkU16 => &BLK_U16,
        _ => &[],
    }
}

/// A field's value in `b` (zero when `b` is too short).
pub fn io_get(f: &IoField, b: &[u8]) -> i64 {
    let Some(bytes) = b.get(f.off..f.off + f.size) else { return 0 };
    let mut w = [0u8; 8];
    w[..f.size].copy_from_slice(bytes);
    let v = u64::from_le_bytes(w);
    if f.signed && f.size < 8 {
        let shift = 64 - 8 * f.size as u32;
        ((v << shift) as i64) >> shift
    } else {
        v as i64
    }
}

/// Stores a field's value into `b` (truncated to its size).
pub fn io_put(f: &IoField, b: &mut [u8], v: i64) {
    if let Some(dst) = b.get_mut(f.off..f.off + f.size) {
        dst.copy_from_slice(&v.to_le_bytes()[..f.size]);
    }
}

/// A field's value as strace prints it.
pub fn io_field_text(f: &IoField, b: &[u8]) -> String {
    let v = io_get(f, b);
    match f.fmt {
        IoFmt::Hex => hex(v as u64),
        IoFmt::Dec => format!("{v}"),
        IoFmt::Flags(names) => bit_names(names.iter().copied(), v as u64),
        IoFmt::Enum(names) => names.iter().find(|(_, x)| *x == v as u64).map(|(n, _)| String::from(*n)).unwrap_or_else(|| hex(v as u64)),
    }
}

/// Whether a structure of [`io_layout`] prints as an array of its fields' values
/// (`[0, 4096]`, strace's way with the block ioctls) rather than `{name=value, …}`.
pub fn io_is_array(kind: StructKind) -> bool {
    matches!(kind, StructKind::BlkRange | StructKind::BlkU64 | StructKind::BlkU32 | StructKind::BlkU16)
}

/// A structure of [`io_layout`] as strace prints it, nested parts in braces
/// (`{range={start=0x7f…, len=4096}, mode=UFFDIO_REGISTER_MODE_MISSING, ioctls=0x1c}`);
/// `keep` picks the fields shown.
pub fn io_text(kind: StructKind, b: &[u8], keep: &dyn Fn(&IoField) -> bool) -> String {
    if io_is_array(kind) {
        let vals: Vec<String> = io_layout(kind).iter().filter(|f| keep(f)).map(|f| io_field_text(f, b)).collect();
        return format!("[{}]", vals.join(", "));
    }
    let mut s = String::from("{");
    let mut open: Option<&str> = None;
    let mut first = true;
    for f in io_layout(kind).iter().filter(|f| keep(f)) {
        let (outer, inner) = match f.name.split_once('.') {
            Some((o, i)) => (Some(o), i),
            None => (None, f.name),
        };
        if open.is_some() && open != outer {
            s.push('}');
            open = None;
        }
        if !first && !(outer.is_some() && open == outer) {
            s.push_str(", ");
        }
        if let Some(o) = outer {
            if open != outer {
                let _ = write!(s, "{o}={{");
                open = outer;
            } else {
                s.push_str(", ");
            }
        }
        first = false;
        let _ = write!(s, "{inner}={}", io_field_text(f, b));
    }
    if open.is_some() {
        s.push('}');
    }
    s.push('}');
    s
}

/// One classic BPF instruction as strace -v prints it: `BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0)`,
/// `BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, 39, 0, 1)`, `BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|1)`.
pub fn bpf_insn(f: kernel::kernel::seccomp::bpf::SockFilter) -> String {
    let code = bpf_code(f.code);
    let k = if f.code == 0x06 { seccomp_ret(f.k) } else { format!("{}", f.k) };
    if f.code & 7 == 5 && f.code & 0xf0 != 0 {
        format!("BPF_JUMP({code}, {k}, {}, {})", f.jt, f.jf)
    } else if f.jt == 0 && f.jf == 0 {
        format!("BPF_STMT({code}, {k})")
    } else {
        // A non-jump with jump offsets: keep them so the line reads back the same.
        format!("BPF_JUMP({code}, {k}, {}, {})", f.jt, f.jf)
    }
}

/// An opcode as its `BPF_*` parts, or hex when the parts would not read back to it.
pub fn bpf_code(code: u16) -> String {
    const CLASS: [&str; 8] = ["BPF_LD", "BPF_LDX", "BPF_ST", "BPF_STX", "BPF_ALU", "BPF_JMP", "BPF_RET", "BPF_MISC"];
    const SIZE: [&str; 4] = ["BPF_W", "BPF_H", "BPF_B", "0x18"];
    const MODE: [&str; 8] = ["BPF_IMM", "BPF_ABS", "BPF_IND", "BPF_MEM", "BPF_LEN", "BPF_MSH", "0xc0", "0xe0"];
    const ALU: [&str; 16] = ["BPF_ADD", "BPF_SUB", "BPF_MUL", "BPF_DIV", "BPF_OR", "BPF_AND", "BPF_LSH", "BPF_RSH", "BPF_NEG", "BPF_MOD", "BPF_XOR", "0xb0", "0xc0", "0xd0", "0xe0", "0xf0"];
    const JMP: [&str; 16] = ["BPF_JA", "BPF_JEQ", "BPF_JGT", "BPF_JGE", "BPF_JSET", "0x50", "0x60", "0x70", "0x80", "0x90", "0xa0", "0xb0", "0xc0", "0xd0", "0xe0", "0xf0"];
    let c = code as usize;
    let class = c & 7;
    let src = if c & 8 != 0 { "BPF_X" } else { "BPF_K" };
    let text = match class {
        0 | 1 => format!("{}|{}|{}", CLASS[class], SIZE[(c >> 3) & 3], MODE[(c >> 5) & 7]),
        2 | 3 => String::from(CLASS[class]),
        4 if c & 0xf0 == 0x80 => String::from("BPF_ALU|BPF_NEG"),
        4 => format!("BPF_ALU|{}|{src}", ALU[(c >> 4) & 15]),
        5 if c & 0xf0 == 0 => String::from("BPF_JMP|BPF_JA"),
        5 => format!("BPF_JMP|{}|{src}", JMP[(c >> 4) & 15]),
        6 if c & 0x18 == 0x10 => String::from("BPF_RET|BPF_A"),
        6 => String::from("BPF_RET|BPF_K"),
        _ if c & 0x80 != 0 => String::from("BPF_MISC|BPF_TXA"),
        _ => String::from("BPF_MISC|BPF_TAX"),
    };
    // Whatever the names do not say exactly (stray bits) is printed as a number.
    if bpf_names_value(&text) == Some(code as u32) {
        text
    } else {
        format!("{code:#x}")
    }
}

/// The value of `A|B|0x10` over the BPF and seccomp names; `None` when a part is unknown.
pub fn bpf_names_value(text: &str) -> Option<u32> {
    let mut v = 0u32;
    for part in text.split('|') {
        let part = part.trim();
        v |= match part.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).ok()?,
            None => match kernel::kernel::seccomp::bpf::name_value(part) {
                Some(n) => n,
                None => part.parse().ok()?,
            },
        };
    }
    Some(v)
}

/// A `RET` constant: `SECCOMP_RET_ALLOW`, `SECCOMP_RET_ERRNO|13`, or hex.
pub fn seccomp_ret(k: u32) -> String {
    use kernel::kernel::seccomp::*;
    let name = match k & 0xffff_0000 {
        SECCOMP_RET_KILL => "SECCOMP_RET_KILL",
        SECCOMP_RET_TRAP => "SECCOMP_RET_TRAP",
        SECCOMP_RET_ERRNO => "SECCOMP_RET_ERRNO",
        SECCOMP_RET_TRACE => "SECCOMP_RET_TRACE",
        SECCOMP_RET_ALLOW => "SECCOMP_RET_ALLOW",
        _ => return format!("{k:#x}"),
    };
    match k & SECCOMP_RET_DATA {
        0 => String::from(name),
        d => format!("{name}|{d}"),
    }
}

/// Most instructions of a filter strace prints before `...`.
pub const BPF_PRINT_LIMIT: usize = 32;

/// A `struct sock_fprog *` argument: `{len=2, filter=[BPF_STMT(…), …]}`, the pointer when
/// the structure is unreadable, `filter=0x…` when the array is.
pub fn fprog(addr: u64, peek: &dyn Peek) -> String {
    let Some(b) = peek.peek(addr, 16).filter(|_| addr != 0) else { return ptr(addr) };
    let len = u16::from_le_bytes([b[0], b[1]]) as usize;
    let fp = le64(&b, 8);
    let shown = len.min(BPF_PRINT_LIMIT);
    match peek.peek(fp, shown * 8).filter(|_| fp != 0) {
        Some(insns) => {
            let mut parts: Vec<String> = kernel::kernel::seccomp::bpf::decode_prog(&insns).into_iter().map(bpf_insn).collect();
            if len > shown {
                parts.push(String::from("..."));
            }
            format!("{{len={len}, filter=[{}]}}", parts.join(", "))
        }
        None => format!("{{len={len}, filter={}}}", ptr(fp)),
    }
}

/// Prints decoded fields the way strace does, with `...` when fields are omitted.
pub fn struct_text(fields: &[Field], shown: Option<usize>) -> String {
    let n = shown.unwrap_or(fields.len()).min(fields.len());
    let mut s = String::from("{");
    for (i, (k, v)) in fields[..n].iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{k}={v}");
    }
    if n < fields.len() {
        s.push_str(", ...");
    }
    s.push('}');
    s
}

/// Whether an argument kind is written by the kernel (printed at syscall exit).
pub fn is_out(kind: &ArgKind) -> bool {
    matches!(kind, ArgKind::OutBuf { .. } | ArgKind::Struct(_, Dir::Out) | ArgKind::FdPair | ArgKind::WaitStatus | ArgKind::SockAddrOut { .. } | ArgKind::SockLen)
}
