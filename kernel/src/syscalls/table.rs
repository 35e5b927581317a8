//! The one syscall table (DESIGN.md §5): every syscall k43 implements, with its numbers on
//! x86_64 and arm64, its typed arguments and its return kind. Dispatch, the scenario
//! parser, the strace tracer and the fuzzers all read this.

use super::desc::ArgKind::*;
use super::desc::{Arch, Arg, ArgKind, Dir, EnumSet, FlagSet, RetKind, StructKind, SyscallDesc};
use crate::uapi::{fcntl, mman, sched, wait, xattr};

macro_rules! a {
    ($name:literal, $kind:expr) => {
        Arg { name: $name, kind: $kind }
    };
}

pub static OPEN_FLAGS: FlagSet = FlagSet {
    name: "open_flags",
    flags: &[
        ("O_CREAT", fcntl::O_CREAT as u64),
        ("O_EXCL", fcntl::O_EXCL as u64),
        ("O_NOCTTY", fcntl::O_NOCTTY as u64),
        ("O_TRUNC", fcntl::O_TRUNC as u64),
        ("O_APPEND", fcntl::O_APPEND as u64),
        ("O_NONBLOCK", fcntl::O_NONBLOCK as u64),
        ("O_SYNC", fcntl::O_SYNC as u64),
        ("O_DSYNC", fcntl::O_DSYNC as u64),
        ("O_ASYNC", fcntl::FASYNC as u64),
        ("O_DIRECT", fcntl::O_DIRECT as u64),
        ("O_LARGEFILE", fcntl::O_LARGEFILE as u64),
        ("O_TMPFILE", fcntl::O_TMPFILE as u64),
        ("O_DIRECTORY", fcntl::O_DIRECTORY as u64),
        ("O_NOFOLLOW", fcntl::O_NOFOLLOW as u64),
        ("O_NOATIME", fcntl::O_NOATIME as u64),
        ("O_CLOEXEC", fcntl::O_CLOEXEC as u64),
        ("O_PATH", fcntl::O_PATH as u64),
    ],
    accmode: Some((3, &[("O_RDONLY", 0), ("O_WRONLY", 1), ("O_RDWR", 2)])),
    signal_low_byte: false,
};

pub static CLOEXEC_FLAGS: FlagSet = FlagSet {
    name: "cloexec_flags",
    flags: &[("O_NONBLOCK", fcntl::O_NONBLOCK as u64), ("O_CLOEXEC", fcntl::O_CLOEXEC as u64), ("O_DIRECT", fcntl::O_DIRECT as u64)],
    accmode: None,
    signal_low_byte: false,
};

/// `getrandom(2)` flags.
pub static GRND_FLAGS: FlagSet = FlagSet {
    name: "getrandom_flags",
    flags: &[("GRND_NONBLOCK", crate::kernel::random::GRND_NONBLOCK as u64), ("GRND_RANDOM", crate::kernel::random::GRND_RANDOM as u64)],
    accmode: None,
    signal_low_byte: false,
};

/// `userfaultfd(2)` flags.
pub static UFFD_FLAGS: FlagSet = FlagSet {
    name: "userfaultfd_flags",
    flags: &[("O_NONBLOCK", fcntl::O_NONBLOCK as u64), ("O_CLOEXEC", fcntl::O_CLOEXEC as u64)],
    accmode: None,
    signal_low_byte: false,
};

/// Address families (`AF_*`) by value, strace's `addrfams` list: `socket`'s domain and
/// every `sa_family`.
pub static ADDRESS_FAMILIES: EnumSet = EnumSet {
    name: "address_family",
    values: &[
        ("AF_UNSPEC", 0),
        ("AF_UNIX", 1),
        ("AF_INET", 2),
        ("AF_AX25", 3),
        ("AF_IPX", 4),
        ("AF_APPLETALK", 5),
        ("AF_NETROM", 6),
        ("AF_BRIDGE", 7),
        ("AF_ATMPVC", 8),
        ("AF_X25", 9),
        ("AF_INET6", 10),
        ("AF_ROSE", 11),
        ("AF_DECnet", 12),
        ("AF_NETBEUI", 13),
        ("AF_SECURITY", 14),
        ("AF_KEY", 15),
        ("AF_NETLINK", 16),
        ("AF_PACKET", 17),
        ("AF_ASH", 18),
        ("AF_ECONET", 19),
        ("AF_ATMSVC", 20),
        ("AF_RDS", 21),
        ("AF_SNA", 22),
        ("AF_IRDA", 23),
        ("AF_PPPOX", 24),
        ("AF_WANPIPE", 25),
        ("AF_LLC", 26),
        ("AF_IB", 27),
        ("AF_MPLS", 28),
        ("AF_CAN", 29),
        ("AF_TIPC", 30),
        ("AF_BLUETOOTH", 31),
        ("AF_IUCV", 32),
        ("AF_RXRPC", 33),
        ("AF_ISDN", 34),
        ("AF_PHONET", 35),
        ("AF_IEEE802154", 36),
        ("AF_CAIF", 37),
        ("AF_ALG", 38),
        ("AF_NFC", 39),
        ("AF_VSOCK", 40),
        ("AF_KCM", 41),
        ("AF_QIPCRTR", 42),
        ("AF_SMC", 43),
        ("AF_XDP", 44),
        ("AF_MCTP", 45),
    ],
};

/// `socket`'s type: the `SOCK_TYPE_MASK` field by name, then `SOCK_CLOEXEC` and
/// `SOCK_NONBLOCK` (strace's `tprint_sock_type`).
pub static SOCK_TYPES: FlagSet = FlagSet {
    name: "socket_type",
    flags: &[("SOCK_CLOEXEC", fcntl::O_CLOEXEC as u64), ("SOCK_NONBLOCK", fcntl::O_NONBLOCK as u64)],
    accmode: Some((0xf, &[("SOCK_STREAM", 1), ("SOCK_DGRAM", 2), ("SOCK_RAW", 3), ("SOCK_RDM", 4), ("SOCK_SEQPACKET", 5), ("SOCK_DCCP", 6), ("SOCK_PACKET", 10)])),
    signal_low_byte: false,
};

/// IP protocol numbers (`IPPROTO_*`, strace's `inet_protocols`): `socket`'s protocol for
/// `AF_INET` and `AF_INET6`.
pub static IP_PROTOCOLS: EnumSet = EnumSet {
    name: "ip_protocol",
    values: &[
        ("IPPROTO_IP", 0),
        ("IPPROTO_ICMP", 1),
        ("IPPROTO_IGMP", 2),
        ("IPPROTO_IPIP", 4),
        ("IPPROTO_TCP", 6),
        ("IPPROTO_EGP", 8),
        ("IPPROTO_PUP", 12),
        ("IPPROTO_UDP", 17),
        ("IPPROTO_IDP", 22),
        ("IPPROTO_TP", 29),
        ("IPPROTO_DCCP", 33),
        ("IPPROTO_IPV6", 41),
        ("IPPROTO_ROUTING", 43),
        ("IPPROTO_FRAGMENT", 44),
        ("IPPROTO_RSVP", 46),
        ("IPPROTO_GRE", 47),
        ("IPPROTO_ESP", 50),
        ("IPPROTO_AH", 51),
        ("IPPROTO_ICMPV6", 58),
        ("IPPROTO_NONE", 59),
        ("IPPROTO_DSTOPTS", 60),
        ("IPPROTO_MTP", 92),
        ("IPPROTO_BEETPH", 94),
        ("IPPROTO_ENCAP", 98),
        ("IPPROTO_PIM", 103),
        ("IPPROTO_COMP", 108),
        ("IPPROTO_L2TP", 115),
        ("IPPROTO_SCTP", 132),
        ("IPPROTO_MH", 135),
        ("IPPROTO_UDPLITE", 136),
        ("IPPROTO_MPLS", 137),
        ("IPPROTO_ETHERNET", 143),
        ("IPPROTO_RAW", 255),
    ],
};

/// `MSG_*` flags of the socket calls, in strace's order (`xlat/msg_flags.in`).
pub static MSG_FLAGS: FlagSet = FlagSet {
    name: "msg_flags",
    flags: &[
        ("MSG_OOB", 0x1),
        ("MSG_PEEK", 0x2),
        ("MSG_DONTROUTE", 0x4),
        ("MSG_CTRUNC", 0x8),
        ("MSG_PROXY", 0x10),
        ("MSG_TRUNC", 0x20),
        ("MSG_DONTWAIT", 0x40),
        ("MSG_EOR", 0x80),
        ("MSG_WAITALL", 0x100),
        ("MSG_FIN", 0x200),
        ("MSG_SYN", 0x400),
        ("MSG_CONFIRM", 0x800),
        ("MSG_RST", 0x1000),
        ("MSG_ERRQUEUE", 0x2000),
        ("MSG_NOSIGNAL", 0x4000),
        ("MSG_MORE", 0x8000),
        ("MSG_WAITFORONE", 0x10000),
        ("MSG_BATCH", 0x40000),
        ("MSG_ZEROCOPY", 0x4000000),
        ("MSG_FASTOPEN", 0x20000000),
        ("MSG_CMSG_CLOEXEC", 0x40000000),
        ("MSG_CMSG_COMPAT", 0x80000000),
    ],
    accmode: None,
    signal_low_byte: false,
};

/// `ioctl(2)` requests k43 knows by name.
pub static IOCTL_CMDS: EnumSet = EnumSet {
    name: "ioctl_request",
    values: &[
        ("FIONREAD", crate::fs::ioctl::FIONREAD as u64),
        ("FIONBIO", crate::fs::ioctl::FIONBIO as u64),
        ("FIONCLEX", crate::fs::ioctl::FIONCLEX as u64),
        ("FIOCLEX", crate::fs::ioctl::FIOCLEX as u64),
        ("UFFDIO_API", crate::uapi::userfaultfd::UFFDIO_API as u64),
        ("UFFDIO_REGISTER", crate::uapi::userfaultfd::UFFDIO_REGISTER as u64),
        ("UFFDIO_UNREGISTER", crate::uapi::userfaultfd::UFFDIO_UNREGISTER as u64),
        ("UFFDIO_WAKE", crate::uapi::userfaultfd::UFFDIO_WAKE as u64),
        ("UFFDIO_COPY", crate::uapi::userfaultfd::UFFDIO_COPY as u64),
        ("UFFDIO_ZEROPAGE", crate::uapi::userfaultfd::UFFDIO_ZEROPAGE as u64),
        ("BLKROGET", crate::block::ioctl::BLKROGET as u64),
        ("BLKGETSIZE", crate::block::ioctl::BLKGETSIZE as u64),
        ("BLKSSZGET", crate::block::ioctl::BLKSSZGET as u64),
        ("BLKDISCARD", crate::block::ioctl::BLKDISCARD as u64),
        ("BLKPBSZGET", crate::block::ioctl::BLKPBSZGET as u64),
        ("BLKDISCARDZEROES", crate::block::ioctl::BLKDISCARDZEROES as u64),
        ("BLKSECDISCARD", crate::block::ioctl::BLKSECDISCARD as u64),
        ("BLKROTATIONAL", crate::block::ioctl::BLKROTATIONAL as u64),
        ("BLKGETSIZE64", crate::block::ioctl::BLKGETSIZE64 as u64),
    ],
};

pub static AT_FLAGS: FlagSet = FlagSet {
    name: "at_flags",
    flags: &[
        ("AT_SYMLINK_NOFOLLOW", fcntl::AT_SYMLINK_NOFOLLOW as u64),
        ("AT_REMOVEDIR", fcntl::AT_REMOVEDIR as u64),
        ("AT_SYMLINK_FOLLOW", fcntl::AT_SYMLINK_FOLLOW as u64),
        ("AT_NO_AUTOMOUNT", fcntl::AT_NO_AUTOMOUNT as u64),
        ("AT_EMPTY_PATH", fcntl::AT_EMPTY_PATH as u64),
    ],
    accmode: None,
    signal_low_byte: false,
};

pub static CLONE_FLAGS: FlagSet = FlagSet {
    name: "clone_flags",
    flags: CLONE_FLAG_NAMES,
    accmode: None,
    signal_low_byte: true,
};

/// `unshare`'s flags: clone's names without the exit signal in the low byte.
pub static UNSHARE_FLAGS: FlagSet = FlagSet { name: "unshare_flags", flags: CLONE_FLAG_NAMES, accmode: None, signal_low_byte: false };

/// `ptrace` requests (`PTRACE_*`).
pub static PTRACE_REQUESTS: EnumSet = EnumSet { name: "ptrace_request", values: crate::uapi::ptrace::PTRACE_REQUESTS };

/// `prctl` options (`PR_*`); the meaning of arg2..arg5 depends on the option.
pub static PR_OPTIONS: EnumSet = EnumSet { name: "pr_option", values: crate::uapi::prctl::PR_OPTIONS };

const CLONE_FLAG_NAMES: &[(&str, u64)] = &[
        ("CLONE_VM", sched::CLONE_VM),
        ("CLONE_FS", sched::CLONE_FS),
        ("CLONE_FILES", sched::CLONE_FILES),
        ("CLONE_SIGHAND", sched::CLONE_SIGHAND),
        ("CLONE_PTRACE", sched::CLONE_PTRACE),
        ("CLONE_VFORK", sched::CLONE_VFORK),
        ("CLONE_PARENT", sched::CLONE_PARENT),
        ("CLONE_THREAD", sched::CLONE_THREAD),
        ("CLONE_NEWNS", sched::CLONE_NEWNS),
        ("CLONE_SYSVSEM", sched::CLONE_SYSVSEM),
        ("CLONE_SETTLS", sched::CLONE_SETTLS),
        ("CLONE_PARENT_SETTID", sched::CLONE_PARENT_SETTID),
        ("CLONE_CHILD_CLEARTID", sched::CLONE_CHILD_CLEARTID),
        ("CLONE_DETACHED", sched::CLONE_DETACHED),
        ("CLONE_UNTRACED", sched::CLONE_UNTRACED),
        ("CLONE_CHILD_SETTID", sched::CLONE_CHILD_SETTID),
        ("CLONE_NEWUTS", sched::CLONE_NEWUTS),
        ("CLONE_NEWIPC", sched::CLONE_NEWIPC),
        ("CLONE_NEWUSER", sched::CLONE_NEWUSER),
        ("CLONE_NEWPID", sched::CLONE_NEWPID),
        ("CLONE_NEWNET", sched::CLONE_NEWNET),
        ("CLONE_IO", sched::CLONE_IO),
];

pub static WAIT_FLAGS: FlagSet = FlagSet {
    name: "wait_flags",
    flags: &[
        ("WNOHANG", wait::WNOHANG as u64),
        ("WUNTRACED", wait::WUNTRACED as u64),
        ("WEXITED", wait::WEXITED as u64),
        ("WCONTINUED", wait::WCONTINUED as u64),
        ("WNOWAIT", wait::WNOWAIT as u64),
        ("__WNOTHREAD", wait::__WNOTHREAD as u64),
        ("__WALL", wait::__WALL as u64),
        ("__WCLONE", wait::__WCLONE as u64),
    ],
    accmode: None,
    signal_low_byte: false,
};

pub static XATTR_FLAGS: FlagSet = FlagSet {
    name: "xattr_flags",
    flags: &[("XATTR_CREATE", xattr::XATTR_CREATE as u64), ("XATTR_REPLACE", xattr::XATTR_REPLACE as u64)],
    accmode: None,
    signal_low_byte: false,
};

/// `mmap`/`mprotect` protections (`PROT_NONE` is what strace prints for 0).
pub static PROT_FLAGS: FlagSet = FlagSet {
    name: "mmap_prot",
    flags: &[
        ("PROT_NONE", mman::PROT_NONE),
        ("PROT_READ", mman::PROT_READ),
        ("PROT_WRITE", mman::PROT_WRITE),
        ("PROT_EXEC", mman::PROT_EXEC),
        ("PROT_SEM", mman::PROT_SEM),
        ("PROT_GROWSDOWN", mman::PROT_GROWSDOWN),
        ("PROT_GROWSUP", mman::PROT_GROWSUP),
    ],
    accmode: None,
    signal_low_byte: false,
};

/// `mmap` flags: the `MAP_TYPE` field printed first, as strace's `printxval` does.
pub static MAP_FLAGS: FlagSet = FlagSet {
    name: "mmap_flags",
    flags: &[
        ("MAP_FIXED", mman::MAP_FIXED),
        ("MAP_ANONYMOUS", mman::MAP_ANONYMOUS),
        ("MAP_ANON", mman::MAP_ANONYMOUS),
        ("MAP_32BIT", mman::MAP_32BIT),
        ("MAP_GROWSDOWN", mman::MAP_GROWSDOWN),
        ("MAP_DENYWRITE", mman::MAP_DENYWRITE),
        ("MAP_EXECUTABLE", mman::MAP_EXECUTABLE),
        ("MAP_LOCKED", mman::MAP_LOCKED),
        ("MAP_NORESERVE", mman::MAP_NORESERVE),
        ("MAP_POPULATE", mman::MAP_POPULATE),
        ("MAP_NONBLOCK", mman::MAP_NONBLOCK),
        ("MAP_STACK", mman::MAP_STACK),
        ("MAP_HUGETLB", mman::MAP_HUGETLB),
    ],
    accmode: Some((mman::MAP_TYPE, &[("MAP_SHARED", mman::MAP_SHARED), ("MAP_PRIVATE", mman::MAP_PRIVATE)])),
    signal_low_byte: false,
};

/// `madvise` advice (4.3's list, including the KSM, THP and memory-failure values).
pub static MADV_ADVICE: EnumSet = EnumSet { name: "madvise_advice", values: mman::MADV_NAMES };

pub static SEEK_WHENCE: EnumSet = EnumSet {
    name: "seek_whence",
    values: &[("SEEK_SET", 0), ("SEEK_CUR", 1), ("SEEK_END", 2), ("SEEK_DATA", 3), ("SEEK_HOLE", 4)],
};

pub static SECCOMP_OPS: EnumSet = EnumSet { name: "seccomp_op", values: &[("SECCOMP_SET_MODE_STRICT", 0), ("SECCOMP_SET_MODE_FILTER", 1)] };

pub static SECCOMP_FILTER_FLAGS: FlagSet = FlagSet {
    name: "seccomp_filter_flags",
    flags: &[("SECCOMP_FILTER_FLAG_TSYNC", 1)],
    accmode: None,
    signal_low_byte: false,
};

pub static CLOCK_IDS: EnumSet = EnumSet {
    name: "clockid",
    values: &[
        ("CLOCK_REALTIME", 0),
        ("CLOCK_MONOTONIC", 1),
        ("CLOCK_PROCESS_CPUTIME_ID", 2),
        ("CLOCK_THREAD_CPUTIME_ID", 3),
        ("CLOCK_MONOTONIC_RAW", 4),
        ("CLOCK_REALTIME_COARSE", 5),
        ("CLOCK_MONOTONIC_COARSE", 6),
        ("CLOCK_BOOTTIME", 7),
        ("CLOCK_REALTIME_ALARM", 8),
        ("CLOCK_BOOTTIME_ALARM", 9),
        ("CLOCK_TAI", 11),
    ],
};

/// `renameat2` flags.
pub static RENAME_FLAGS: FlagSet = FlagSet {
    name: "rename_flags",
    flags: &[("RENAME_NOREPLACE", 1), ("RENAME_EXCHANGE", 2), ("RENAME_WHITEOUT", 4)],
    accmode: None,
    signal_low_byte: false,
};

/// `mount` flags (`MS_MGC_VAL` printed first when the magic is there).
pub static MOUNT_FLAGS: FlagSet = FlagSet { name: "mount_flags", flags: crate::fs::namespace::MS_NAMES, accmode: None, signal_low_byte: false };

/// `umount2` flags.
pub static UMOUNT_FLAGS: FlagSet = FlagSet {
    name: "umount_flags",
    flags: &[("MNT_FORCE", 1), ("MNT_DETACH", 2), ("MNT_EXPIRE", 4), ("UMOUNT_NOFOLLOW", 8)],
    accmode: None,
    signal_low_byte: false,
};

macro_rules! syscalls {
    ($( $variant:ident = $name:literal, x86 $x:expr, arm $r:expr, [$($arg:expr),* $(,)?], $ret:ident $(, order $ord:expr)? ;)*) => {
        /// Every syscall k43 implements, by name; the index into [`TABLE`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        pub enum Sysno { $($variant),* }

        /// The table itself, indexed by [`Sysno`].
        pub static TABLE: &[SyscallDesc] = &[
            $(SyscallDesc {
                name: $name,
                x86_64: $x,
                aarch64: $r,
                args: &[$($arg),*],
                ret: RetKind::$ret,
                aarch64_order: syscalls!(@ord $($ord)?),
            }),*
        ];

        /// All syscalls in table order.
        pub static ALL: &[Sysno] = ALL_CONST;
        const ALL_CONST: &[Sysno] = &[$(Sysno::$variant),*];
        const TABLE_NRS: &[(i32, i32)] = &[$((nr_or_neg($x), nr_or_neg($r))),*];
    };
    (@ord) => { None };
    (@ord $o:expr) => { Some($o) };
}

const fn nr_or_neg(n: Option<u32>) -> i32 {
    match n {
        Some(n) => n as i32,
        None => -1,
    }
}

const fn ts(d: Dir) -> ArgKind {
    Struct(StructKind::Timespec, d)
}

syscalls! {
    Read = "read", x86 Some(0), arm Some(63), [a!("fd", Fd), a!("buf", OutBuf { len_arg: 2 }), a!("count", UInt)], Int;
    Write = "write", x86 Some(1), arm Some(64), [a!("fd", Fd), a!("buf", InBuf { len_arg: 2 }), a!("count", UInt)], Int;
    Openat = "openat", x86 Some(257), arm Some(56), [a!("dirfd", DirFd), a!("pathname", Path), a!("flags", Flags(&OPEN_FLAGS)), a!("mode", Mode)], Fd;
    Close = "close", x86 Some(3), arm Some(57), [a!("fd", Fd)], Int;
    Ioctl = "ioctl", x86 Some(16), arm Some(29), [a!("fd", Fd), a!("request", Enum(&IOCTL_CMDS)), a!("argp", Ptr)], Int;
    Poll = "poll", x86 Some(7), arm None, [a!("fds", Struct(StructKind::PollFd, Dir::In)), a!("nfds", UInt), a!("timeout", Int)], Int;
    Ppoll = "ppoll", x86 Some(271), arm Some(73), [a!("fds", Struct(StructKind::PollFd, Dir::In)), a!("nfds", UInt), a!("tsp", ts(Dir::In)), a!("sigmask", Ptr), a!("sigsetsize", UInt)], Int;
    Getrandom = "getrandom", x86 Some(318), arm Some(278), [a!("buf", OutBuf { len_arg: 1 }), a!("count", UInt), a!("flags", Flags(&GRND_FLAGS))], Int;
    Userfaultfd = "userfaultfd", x86 Some(323), arm Some(282), [a!("flags", Flags(&UFFD_FLAGS))], Fd;
    Fstat = "fstat", x86 Some(5), arm Some(80), [a!("fd", Fd), a!("statbuf", Struct(StructKind::Stat, Dir::Out))], Int;
    Newfstatat = "newfstatat", x86 Some(262), arm Some(79), [a!("dirfd", DirFd), a!("pathname", Path), a!("statbuf", Struct(StructKind::Stat, Dir::Out)), a!("flags", Flags(&AT_FLAGS))], Int;
    Lseek = "lseek", x86 Some(8), arm Some(62), [a!("fd", Fd), a!("offset", Off), a!("whence", Enum(&SEEK_WHENCE))], Int;
    Pipe2 = "pipe2", x86 Some(293), arm Some(59), [a!("pipefd", FdPair), a!("flags", Flags(&CLOEXEC_FLAGS))], Int;
    Dup = "dup", x86 Some(32), arm Some(23), [a!("oldfd", Fd)], Fd;
    Dup3 = "dup3", x86 Some(292), arm Some(24), [a!("oldfd", Fd), a!("newfd", Fd), a!("flags", Flags(&CLOEXEC_FLAGS))], Fd;
    Mkdirat = "mkdirat", x86 Some(258), arm Some(34), [a!("dirfd", DirFd), a!("pathname", Path), a!("mode", Mode)], Int;
    Unlinkat = "unlinkat", x86 Some(263), arm Some(35), [a!("dirfd", DirFd), a!("pathname", Path), a!("flags", Flags(&AT_FLAGS))], Int;
    Fchmodat = "fchmodat", x86 Some(268), arm Some(53), [a!("dirfd", DirFd), a!("pathname", Path), a!("mode", Mode)], Int;
    Fchownat = "fchownat", x86 Some(260), arm Some(54), [a!("dirfd", DirFd), a!("pathname", Path), a!("owner", Id), a!("group", Id), a!("flags", Flags(&AT_FLAGS))], Int;
    Setxattr = "setxattr", x86 Some(188), arm Some(5), [a!("path", Path), a!("name", Str), a!("value", InBuf { len_arg: 3 }), a!("size", UInt), a!("flags", Flags(&XATTR_FLAGS))], Int;
    Getxattr = "getxattr", x86 Some(191), arm Some(8), [a!("path", Path), a!("name", Str), a!("value", OutBuf { len_arg: 3 }), a!("size", UInt)], Int;
    Listxattr = "listxattr", x86 Some(194), arm Some(11), [a!("path", Path), a!("list", OutBuf { len_arg: 2 }), a!("size", UInt)], Int;
    Removexattr = "removexattr", x86 Some(197), arm Some(14), [a!("path", Path), a!("name", Str)], Int;
    Getpid = "getpid", x86 Some(39), arm Some(172), [], Pid;
    Kill = "kill", x86 Some(62), arm Some(129), [a!("pid", Pid), a!("sig", Signal)], Int;
    Getppid = "getppid", x86 Some(110), arm Some(173), [], Pid;
    Gettid = "gettid", x86 Some(186), arm Some(178), [], Pid;
    Getuid = "getuid", x86 Some(102), arm Some(174), [], Id;
    Geteuid = "geteuid", x86 Some(107), arm Some(175), [], Id;
    Getgid = "getgid", x86 Some(104), arm Some(176), [], Id;
    Getegid = "getegid", x86 Some(108), arm Some(177), [], Id;
    Setresuid = "setresuid", x86 Some(117), arm Some(147), [a!("ruid", Id), a!("euid", Id), a!("suid", Id)], Int;
    Setresgid = "setresgid", x86 Some(119), arm Some(149), [a!("rgid", Id), a!("egid", Id), a!("sgid", Id)], Int;
    Capget = "capget", x86 Some(125), arm Some(90), [a!("hdrp", Struct(StructKind::CapHeader, Dir::In)), a!("datap", Struct(StructKind::CapData, Dir::Out))], Int;
    Capset = "capset", x86 Some(126), arm Some(91), [a!("hdrp", Struct(StructKind::CapHeader, Dir::In)), a!("datap", Struct(StructKind::CapData, Dir::In))], Int;
    Uname = "uname", x86 Some(63), arm Some(160), [a!("buf", Struct(StructKind::Utsname, Dir::Out))], Int;
    ClockGettime = "clock_gettime", x86 Some(228), arm Some(113), [a!("clockid", Enum(&CLOCK_IDS)), a!("tp", ts(Dir::Out))], Int;
    Nanosleep = "nanosleep", x86 Some(35), arm Some(101), [a!("req", ts(Dir::In)), a!("rem", ts(Dir::Out))], Int;
    SchedYield = "sched_yield", x86 Some(24), arm Some(124), [], Int;
    Exit = "exit", x86 Some(60), arm Some(93), [a!("status", Int)], NoReturn;
    ExitGroup = "exit_group", x86 Some(231), arm Some(94), [a!("status", Int)], NoReturn;
    Clone = "clone", x86 Some(56), arm Some(220), [a!("flags", Flags(&CLONE_FLAGS)), a!("child_stack", Ptr), a!("parent_tid", Ptr), a!("child_tid", Ptr), a!("tls", Ptr)], Pid, order &[0, 1, 2, 4, 3];
    Fork = "fork", x86 Some(57), arm None, [], Pid;
    Wait4 = "wait4", x86 Some(61), arm Some(260), [a!("pid", Pid), a!("wstatus", WaitStatus), a!("options", Flags(&WAIT_FLAGS)), a!("rusage", Struct(StructKind::Rusage, Dir::Out))], Pid;
    Execve = "execve", x86 Some(59), arm Some(221), [a!("filename", Path), a!("argv", StrArray), a!("envp", StrArray)], Int;
    Prctl = "prctl", x86 Some(157), arm Some(167), [a!("option", Enum(&PR_OPTIONS)), a!("arg2", UInt), a!("arg3", UInt), a!("arg4", UInt), a!("arg5", UInt)], Int;
    Ptrace = "ptrace", x86 Some(101), arm Some(117), [a!("request", Enum(&PTRACE_REQUESTS)), a!("pid", Pid), a!("addr", Ptr), a!("data", UInt)], Int;
    Unshare = "unshare", x86 Some(272), arm Some(97), [a!("flags", Flags(&UNSHARE_FLAGS))], Int;
    Mmap = "mmap", x86 Some(9), arm Some(222), [a!("addr", Ptr), a!("length", UInt), a!("prot", Flags(&PROT_FLAGS)), a!("flags", Flags(&MAP_FLAGS)), a!("fd", Fd), a!("offset", Hex)], Ptr;
    Munmap = "munmap", x86 Some(11), arm Some(215), [a!("addr", Ptr), a!("length", UInt)], Int;
    Mprotect = "mprotect", x86 Some(10), arm Some(226), [a!("addr", Ptr), a!("len", UInt), a!("prot", Flags(&PROT_FLAGS))], Int;
    Madvise = "madvise", x86 Some(28), arm Some(233), [a!("addr", Ptr), a!("length", UInt), a!("advice", Enum(&MADV_ADVICE))], Int;
    Brk = "brk", x86 Some(12), arm Some(214), [a!("addr", Ptr)], Ptr;
    Seccomp = "seccomp", x86 Some(317), arm Some(277), [a!("operation", Enum(&SECCOMP_OPS)), a!("flags", Flags(&SECCOMP_FILTER_FLAGS)), a!("args", Struct(StructKind::SockFprog, Dir::In))], Int;
    Socket = "socket", x86 Some(41), arm Some(198), [a!("domain", Enum(&ADDRESS_FAMILIES)), a!("type", Flags(&SOCK_TYPES)), a!("protocol", Enum(&IP_PROTOCOLS))], Fd;
    Bind = "bind", x86 Some(49), arm Some(200), [a!("sockfd", Fd), a!("addr", SockAddr { len_arg: 2 }), a!("addrlen", Int)], Int;
    Connect = "connect", x86 Some(42), arm Some(203), [a!("sockfd", Fd), a!("addr", SockAddr { len_arg: 2 }), a!("addrlen", Int)], Int;
    Getsockname = "getsockname", x86 Some(51), arm Some(204), [a!("sockfd", Fd), a!("addr", SockAddrOut { len_arg: 2 }), a!("addrlen", SockLen)], Int;
    Getpeername = "getpeername", x86 Some(52), arm Some(205), [a!("sockfd", Fd), a!("addr", SockAddrOut { len_arg: 2 }), a!("addrlen", SockLen)], Int;
    Sendto = "sendto", x86 Some(44), arm Some(206), [a!("sockfd", Fd), a!("buf", InBuf { len_arg: 2 }), a!("len", UInt), a!("flags", Flags(&MSG_FLAGS)), a!("dest_addr", SockAddr { len_arg: 5 }), a!("addrlen", Int)], Int;
    Recvfrom = "recvfrom", x86 Some(45), arm Some(207), [a!("sockfd", Fd), a!("buf", OutBuf { len_arg: 2 }), a!("len", UInt), a!("flags", Flags(&MSG_FLAGS)), a!("src_addr", SockAddrOut { len_arg: 5 }), a!("addrlen", SockLen)], Int;
    Setsockopt = "setsockopt", x86 Some(54), arm Some(208), [a!("sockfd", Fd), a!("level", Int), a!("optname", Int), a!("optval", Ptr), a!("optlen", UInt)], Int;
    Getsockopt = "getsockopt", x86 Some(55), arm Some(209), [a!("sockfd", Fd), a!("level", Int), a!("optname", Int), a!("optval", Ptr), a!("optlen", Ptr)], Int;
    Sendmsg = "sendmsg", x86 Some(46), arm Some(211), [a!("sockfd", Fd), a!("msg", Struct(StructKind::MsgHdr, Dir::In)), a!("flags", Flags(&MSG_FLAGS))], Int;
    Recvmsg = "recvmsg", x86 Some(47), arm Some(212), [a!("sockfd", Fd), a!("msg", Struct(StructKind::MsgHdr, Dir::Out)), a!("flags", Flags(&MSG_FLAGS))], Int;
    Getdents64 = "getdents64", x86 Some(217), arm Some(61), [a!("fd", Fd), a!("dirp", Struct(StructKind::Dirent64, Dir::Out)), a!("count", UInt)], Int;
    Rename = "rename", x86 Some(82), arm None, [a!("oldpath", Path), a!("newpath", Path)], Int;
    Renameat = "renameat", x86 Some(264), arm Some(38), [a!("olddirfd", DirFd), a!("oldpath", Path), a!("newdirfd", DirFd), a!("newpath", Path)], Int;
    Renameat2 = "renameat2", x86 Some(316), arm Some(276), [a!("olddirfd", DirFd), a!("oldpath", Path), a!("newdirfd", DirFd), a!("newpath", Path), a!("flags", Flags(&RENAME_FLAGS))], Int;
    Link = "link", x86 Some(86), arm None, [a!("oldpath", Path), a!("newpath", Path)], Int;
    Linkat = "linkat", x86 Some(265), arm Some(37), [a!("olddirfd", DirFd), a!("oldpath", Path), a!("newdirfd", DirFd), a!("newpath", Path), a!("flags", Flags(&AT_FLAGS))], Int;
    Symlink = "symlink", x86 Some(88), arm None, [a!("target", Path), a!("linkpath", Path)], Int;
    Symlinkat = "symlinkat", x86 Some(266), arm Some(36), [a!("target", Path), a!("newdirfd", DirFd), a!("linkpath", Path)], Int;
    Readlink = "readlink", x86 Some(89), arm None, [a!("pathname", Path), a!("buf", OutBuf { len_arg: 2 }), a!("bufsiz", UInt)], Int;
    Readlinkat = "readlinkat", x86 Some(267), arm Some(78), [a!("dirfd", DirFd), a!("pathname", Path), a!("buf", OutBuf { len_arg: 3 }), a!("bufsiz", UInt)], Int;
    Truncate = "truncate", x86 Some(76), arm Some(45), [a!("path", Path), a!("length", Off)], Int;
    Ftruncate = "ftruncate", x86 Some(77), arm Some(46), [a!("fd", Fd), a!("length", Off)], Int;
    Fsync = "fsync", x86 Some(74), arm Some(82), [a!("fd", Fd)], Int;
    Fdatasync = "fdatasync", x86 Some(75), arm Some(83), [a!("fd", Fd)], Int;
    Sync = "sync", x86 Some(162), arm Some(81), [], Int;
    Syncfs = "syncfs", x86 Some(306), arm Some(267), [a!("fd", Fd)], Int;
    Statfs = "statfs", x86 Some(137), arm Some(43), [a!("path", Path), a!("buf", Struct(StructKind::Statfs, Dir::Out))], Int;
    Fstatfs = "fstatfs", x86 Some(138), arm Some(44), [a!("fd", Fd), a!("buf", Struct(StructKind::Statfs, Dir::Out))], Int;
    Mount = "mount", x86 Some(165), arm Some(40), [a!("source", Str), a!("target", Path), a!("filesystemtype", Str), a!("mountflags", Flags(&MOUNT_FLAGS)), a!("data", Str)], Int;
    Umount2 = "umount2", x86 Some(166), arm Some(39), [a!("target", Path), a!("flags", Flags(&UMOUNT_FLAGS))], Int;
}

impl Sysno {
    /// This syscall's description.
    pub fn desc(self) -> &'static SyscallDesc {
        &TABLE[self as usize]
    }

    /// Finds a syscall by the name strace prints.
    pub fn from_name(name: &str) -> Option<Sysno> {
        ALL.iter().copied().find(|s| s.desc().name == name)
    }

    /// Finds the syscall with number `nr` on `arch`; `None` means `-ENOSYS`.
    pub fn from_nr(arch: Arch, nr: u64) -> Option<Sysno> {
        let map = match arch {
            Arch::X86_64 => &X86_64_MAP,
            Arch::Aarch64 => &AARCH64_MAP,
        };
        usize::try_from(nr).ok().and_then(|n| map.get(n)).copied().flatten()
    }
}

/// Number-indexed lookup tables, built at compile time so dispatch is one load.
const MAP_LEN: usize = 512;

const fn build_map(arch: Arch) -> [Option<Sysno>; MAP_LEN] {
    let mut map = [None; MAP_LEN];
    let mut i = 0;
    while i < ALL_CONST.len() {
        let nr = match arch {
            Arch::X86_64 => TABLE_NRS[i].0,
            Arch::Aarch64 => TABLE_NRS[i].1,
        };
        if nr >= 0 {
            map[nr as usize] = Some(ALL_CONST[i]);
        }
        i += 1;
    }
    map
}

static X86_64_MAP: [Option<Sysno>; MAP_LEN] = build_map(Arch::X86_64);
static AARCH64_MAP: [Option<Sysno>; MAP_LEN] = build_map(Arch::Aarch64);
