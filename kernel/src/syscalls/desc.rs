//! The vocabulary of the syscall description table: argument kinds, flag sets, return
//! kinds. Shaped like syzkaller's descriptions so that the scenario parser, the strace
//! tracer and the fuzzers can all be driven from one table.

/// Which ABI numbers a syscall by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Arch {
    /// `arch/x86/entry/syscalls/syscall_64.tbl`.
    X86_64,
    /// `include/uapi/asm-generic/unistd.h` as arm64 uses it.
    Aarch64,
}

/// A named set of bit flags, printed and parsed as `A|B|0x40`.
#[derive(Debug)]
pub struct FlagSet {
    /// Name of the set (`open_flags`).
    pub name: &'static str,
    /// `(name, bits)` in the order strace prints them.
    pub flags: &'static [(&'static str, u64)],
    /// For `open`-style flags: the access-mode field (`O_ACCMODE`) and its names, printed
    /// first and also when zero (`mmap`'s `MAP_TYPE` field works the same way). A flag
    /// of value 0 in `flags` (`PROT_NONE`) is the name printed when nothing is set.
    pub accmode: Option<(u64, &'static [(&'static str, u64)])>,
    /// For `clone`-style flags: the low byte is a signal number, printed as `SIGCHLD`.
    pub signal_low_byte: bool,
}

/// A named set of exclusive values (`SEEK_SET`, `CLOCK_MONOTONIC`).
#[derive(Debug)]
pub struct EnumSet {
    /// Name of the set.
    pub name: &'static str,
    /// `(name, value)`.
    pub values: &'static [(&'static str, u64)],
}

/// Whether the kernel reads an argument, writes it, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Read by the kernel.
    In,
    /// Written by the kernel.
    Out,
}

/// A structure type the table knows the layout of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StructKind {
    /// `struct timespec`.
    Timespec,
    /// `struct stat` of the running ABI.
    Stat,
    /// `struct new_utsname`.
    Utsname,
    /// `struct __user_cap_header_struct`.
    CapHeader,
    /// `struct __user_cap_data_struct[]` (one or two elements by header version).
    CapData,
    /// `struct rusage`.
    Rusage,
    /// `struct sock_fprog` and the `struct sock_filter` array it points at (seccomp).
    SockFprog,
    /// x86_64's `struct user_regs_struct` (ptrace `PTRACE_GETREGS`/`PTRACE_SETREGS`).
    UserRegs,
    /// One `long` the kernel stores (ptrace `PTRACE_PEEKDATA`, `PTRACE_GETEVENTMSG`),
    /// printed `[0x…]`.
    Word,
    /// `struct uffdio_api` (in/out).
    UffdioApi,
    /// `struct uffdio_range` (UNREGISTER, WAKE).
    UffdioRange,
    /// `struct uffdio_register` (in/out).
    UffdioRegister,
    /// `struct uffdio_copy` (in/out).
    UffdioCopy,
    /// `struct uffdio_zeropage` (in/out).
    UffdioZeropage,
    /// `struct uffd_msg` (what `read(2)` of a userfaultfd returns).
    UffdMsg,
    /// `struct pollfd[nfds]` (`fd`, `events` in; `revents` out).
    PollFd,
    /// `uint64_t range[2]` of `BLKDISCARD`/`BLKSECDISCARD` ({start, length} in bytes),
    /// printed `[0, 4096]` as strace does.
    BlkRange,
    /// A `u64` a block ioctl stores (`BLKGETSIZE64`, `BLKGETSIZE`), printed `[16777216]`.
    BlkU64,
    /// An `int`/`unsigned int` a block ioctl stores (`BLKSSZGET`, `BLKPBSZGET`,
    /// `BLKROGET`, `BLKDISCARDZEROES`), printed `[512]`.
    BlkU32,
    /// An `unsigned short` a block ioctl stores (`BLKROTATIONAL`), printed `[1]`.
    BlkU16,
    /// `struct msghdr` with its name, iovecs and control buffer: read by `sendmsg`
    /// (`Dir::In`); read and written by `recvmsg` (`Dir::Out`: printed at exit).
    MsgHdr,
    /// `struct linux_dirent64[]` filled by `getdents64` (the buffer's size is argument
    /// 2; the return value says how much was filled).
    Dirent64,
    /// `struct statfs`.
    Statfs,
}

/// The type of one syscall argument.
#[derive(Clone, Copy, Debug)]
pub enum ArgKind {
    /// A signed integer, printed in decimal.
    Int,
    /// An unsigned integer (a size or a count), printed in decimal.
    UInt,
    /// A file descriptor.
    Fd,
    /// A directory file descriptor: `AT_FDCWD` or an fd.
    DirFd,
    /// A process id (`-1` and `0` have their `wait4` meanings).
    Pid,
    /// A user or group id; `-1` means "unchanged".
    Id,
    /// A signal number, printed by name (`SIGTERM`).
    Signal,
    /// File permission bits, printed in octal.
    Mode,
    /// A file offset.
    Off,
    /// An unsigned value strace prints in hex (`mmap`'s offset): `0`, `0x1000`.
    Hex,
    /// Bit flags of a named set.
    Flags(&'static FlagSet),
    /// One value of a named set.
    Enum(&'static EnumSet),
    /// A NUL-terminated path.
    Path,
    /// A NUL-terminated string that is not a path (an xattr name).
    Str,
    /// A buffer the kernel reads; its length is argument `len_arg`.
    InBuf {
        /// Index of the argument holding the length.
        len_arg: usize,
    },
    /// A buffer the kernel fills; its capacity is argument `len_arg` and the return value
    /// says how much was written.
    OutBuf {
        /// Index of the argument holding the capacity.
        len_arg: usize,
    },
    /// A pointer to a structure of known layout.
    Struct(StructKind, Dir),
    /// `int[2]` filled by `pipe2`.
    FdPair,
    /// `int *` where `wait4` stores a status word.
    WaitStatus,
    /// A NULL-terminated array of string pointers (`argv`, `envp`).
    StrArray,
    /// A pointer the kernel does not dereference (or not yet modelled): printed in hex.
    Ptr,
    /// A `struct sockaddr` the kernel reads; argument `len_arg` is its length (by value).
    SockAddr {
        /// Index of the argument holding the length.
        len_arg: usize,
    },
    /// A `struct sockaddr` the kernel writes; argument `len_arg` is a `socklen_t *` with
    /// the room before the call and the address's full length after it.
    SockAddrOut {
        /// Index of the `socklen_t *` argument.
        len_arg: usize,
    },
    /// A `socklen_t *` the kernel reads and writes back (printed `[128 => 16]`).
    SockLen,
}

/// One argument: its name in the man page and its kind.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    /// Parameter name as in the man page.
    pub name: &'static str,
    /// Its type.
    pub kind: ArgKind,
}

/// How a syscall's return value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetKind {
    /// An integer: `>= 0` is success, `-4095..=-1` an errno.
    Int,
    /// A new file descriptor.
    Fd,
    /// A process or thread id.
    Pid,
    /// A user or group id (never fails).
    Id,
    /// An address (`mmap`, `brk`), printed in hex as strace prints it.
    Ptr,
    /// Does not return on success (`exit`, `exit_group`); `execve` returns 0 in traces.
    NoReturn,
}

/// One syscall, described once.
#[derive(Debug)]
pub struct SyscallDesc {
    /// The name strace prints.
    pub name: &'static str,
    /// Number in the x86_64 table, if it exists there.
    pub x86_64: Option<u32>,
    /// Number in the arm64 table, if it exists there.
    pub aarch64: Option<u32>,
    /// Arguments in x86_64 order.
    pub args: &'static [Arg],
    /// Return kind.
    pub ret: RetKind,
    /// arm64's argument order where it differs (index into `args` per arm64 register).
    pub aarch64_order: Option<&'static [usize]>,
}

impl SyscallDesc {
    /// Arguments in table order from the registers `arch` passes them in.
    pub fn args_from_regs(&self, arch: Arch, regs: [u64; 6]) -> [u64; 6] {
        match (arch, self.aarch64_order) {
            (Arch::Aarch64, Some(order)) => {
                let mut a = [0u64; 6];
                for (reg, &idx) in order.iter().enumerate() {
                    a[idx] = regs[reg];
                }
                a
            }
            _ => regs,
        }
    }

    /// The registers `arch` passes arguments (in table order) in.
    pub fn regs_from_args(&self, arch: Arch, args: [u64; 6]) -> [u64; 6] {
        match (arch, self.aarch64_order) {
            (Arch::Aarch64, Some(order)) => {
                let mut r = [0u64; 6];
                for (reg, &idx) in order.iter().enumerate() {
                    r[reg] = args[idx];
                }
                r
            }
            _ => args,
        }
    }

    /// The number this syscall has on `arch`.
    pub fn nr(&self, arch: Arch) -> Option<u32> {
        match arch {
            Arch::X86_64 => self.x86_64,
            Arch::Aarch64 => self.aarch64,
        }
    }
}

impl FlagSet {
    /// Looks one flag name up (an access-mode name included).
    pub fn lookup(&self, name: &str) -> Option<u64> {
        self.flags.iter().chain(self.accmode.map(|a| a.1).unwrap_or(&[]).iter()).find(|f| f.0 == name).map(|f| f.1)
    }
}

impl EnumSet {
    /// Looks a value up by name.
    pub fn lookup(&self, name: &str) -> Option<u64> {
        self.values.iter().find(|f| f.0 == name).map(|f| f.1)
    }

    /// The name of a value.
    pub fn name_of(&self, v: u64) -> Option<&'static str> {
        self.values.iter().find(|f| f.1 == v).map(|f| f.0)
    }
}
