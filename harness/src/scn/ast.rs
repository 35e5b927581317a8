//! The parsed form of a scenario.

use alloc::string::String;
use alloc::vec::Vec;
use kernel::syscalls::desc::StructKind;
use kernel::syscalls::{Arch, Sysno};
use kernel::Errno;

/// A whole scenario file.
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    /// Statements in file order.
    pub stmts: Vec<Stmt>,
}

/// One statement and the line it came from.
#[derive(Clone, Debug)]
pub struct Stmt {
    /// 1-based line number.
    pub line: usize,
    /// What to do.
    pub kind: StmtKind,
}

/// A word that may contain `$var` references (paths in admin commands, strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word(pub Vec<WordPart>);

/// A piece of a [`Word`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WordPart {
    /// Literal bytes.
    Lit(Vec<u8>),
    /// The value of a variable, in decimal.
    Var(String),
}

/// An integer expression: constants, variables, and `|` of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntExpr {
    /// A constant.
    Const(i64),
    /// A bound variable (or a task label: its pid).
    Var(String),
    /// Bitwise or of the parts.
    Or(Vec<IntExpr>),
    /// The negation of a value (`-$pgrp`).
    Neg(alloc::boxed::Box<IntExpr>),
    /// The sum of the parts (`$m+4096`), wrapping.
    Add(Vec<IntExpr>),
}

/// A value to match, binding a variable when it is still unbound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pat {
    /// Must equal.
    Const(i64),
    /// Bind, or compare when bound.
    Var(String),
    /// Must equal the value of an expression of bound variables (`= $m+8192`).
    Expr(IntExpr),
    /// Anything.
    Any,
}

/// One argument of a call line, typed by the syscall table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgVal {
    /// A register value.
    Int(IntExpr),
    /// Bytes the kernel reads, marshalled into user memory (`"…"`).
    Bytes(Word),
    /// A NULL-terminated array of strings.
    Strs(Vec<Word>),
    /// A structure the kernel reads: `{field=value, …}`.
    InStruct(StructKind, Vec<(String, IntExpr)>),
    /// Something the kernel writes, and what it must look like.
    Out(OutPat),
    /// In/out structures field by field (`{dst=$a, src=$b, len=4096, mode=0, copy=4096}`,
    /// `[{fd=3, events=POLLIN}]`): input fields are marshalled, output fields checked.
    Io {
        /// The structure type (see `strace::io_layout`).
        sk: StructKind,
        /// One field list per array element (one for a plain structure).
        elems: Vec<Vec<IoFieldVal>>,
    },
    /// A socket address the kernel reads, as strace prints it
    /// (`{sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}`).
    SockAddr(SockAddrSpec),
    /// A `socklen_t *`: the value written before the call, and what it must hold after
    /// (`[16]`: 16 both; `[128 => 16]`; `...`: 128, not checked).
    LenPtr {
        /// The value before the call.
        input: IntExpr,
        /// The value after a successful call.
        expect: Option<Pat>,
    },
    /// A `struct msghdr` (`sendmsg`: all input; `recvmsg`: sizes in, contents checked).
    Msg(alloc::boxed::Box<MsgSpec>),
    /// A `struct sock_fprog` the kernel reads, strace -v's way:
    /// `{len=2, filter=[BPF_STMT(…), BPF_JUMP(…)]}`; `len` defaults to the array's length.
    Fprog {
        /// `len`, when given (it may disagree with the array, for the error cases).
        len: Option<IntExpr>,
        /// The instructions, or a raw pointer (`filter=NULL`).
        filter: FprogFilter,
    },
}

/// A socket address in strace's notation. Fields left out are 0; an address of another
/// family is its `sa_data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SockAddrSpec {
    /// `sa_family` (`AF_INET`, `AF_INET6`, or a number).
    pub family: IntExpr,
    /// `sin_port=htons(N)` / `sin6_port=htons(N)`, in host order.
    pub port: Option<IntExpr>,
    /// `inet_addr("…")` (4 bytes) or `inet_pton(AF_INET6, "…", &sin6_addr)` (16 bytes).
    pub addr: Option<Vec<u8>>,
    /// `sin6_flowinfo=htonl(N)`.
    pub flowinfo: Option<IntExpr>,
    /// `sin6_scope_id=N`.
    pub scope_id: Option<IntExpr>,
    /// `sa_data="…"`.
    pub data: Option<Word>,
}

/// Where a message's name points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MsgName {
    /// `msg_name=NULL`, or a raw pointer.
    Raw(IntExpr),
    /// An address given (`sendmsg`).
    Addr(SockAddrSpec),
    /// An address expected, as printed (`recvmsg`); `...` for any.
    Expect(String),
}

/// One `{iov_base=…, iov_len=N}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IovSpec {
    /// The bytes (`sendmsg`: sent; `recvmsg`: expected, a prefix when followed by `...`),
    /// or a raw pointer.
    pub base: IovBase,
    /// `iov_len` (default: the string's length).
    pub len: Option<IntExpr>,
}

/// An `iov_base`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IovBase {
    /// `"bytes"`; `true` when `...` follows (only a prefix is given).
    Bytes(Word, bool),
    /// A raw pointer (`NULL`, `$m`).
    Raw(IntExpr),
    /// `...`: a buffer, contents not checked.
    Any,
}

/// A `struct msghdr` in strace's notation (`{msg_name=…, msg_namelen=28,
/// msg_iov=[…], msg_iovlen=1, msg_controllen=0, msg_flags=0}`); every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MsgSpec {
    /// `msg_name` (absent: NULL for `sendmsg`, a 128-byte buffer for `recvmsg`).
    pub name: Option<MsgName>,
    /// `msg_namelen=IN [=> OUT]`.
    pub namelen: Option<(IntExpr, Option<Pat>)>,
    /// `msg_iov=[…]` (absent: one 4096-byte buffer for `recvmsg`, none for `sendmsg`),
    /// or a raw pointer.
    pub iov: Option<Result<Vec<IovSpec>, IntExpr>>,
    /// `msg_iovlen=N` (default: the array's length).
    pub iovlen: Option<IntExpr>,
    /// `msg_controllen=IN [=> OUT]` (the control buffer is zeroed memory of that size).
    pub controllen: Option<(IntExpr, Option<Pat>)>,
    /// `msg_flags=…`: given to `sendmsg`; what `recvmsg` must leave.
    pub flags: Option<IntExpr>,
}

/// A value in an in/out structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldVal {
    /// `...`: 0 as input, not checked as output.
    Any,
    /// A `$var`: its value as input; as output it binds when unbound.
    Var(String),
    /// An expression of constants and bound variables.
    Expr(IntExpr),
}

/// `name=VALUE` or `name=IN => OUT` of an in/out structure (`range.start` inside
/// `range={…}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoFieldVal {
    /// Flattened field name.
    pub name: String,
    /// What is written: the input of an input field, the expectation of an output field
    /// (both for an in/out field).
    pub value: FieldVal,
    /// `=> OUT`: the expectation after the call, for any field.
    pub then: Option<FieldVal>,
}

/// The `filter` of a [`ArgVal::Fprog`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FprogFilter {
    /// `[BPF_STMT(code, k), BPF_JUMP(code, k, jt, jf), …]` as `[code, k, jt, jf]`.
    Insns(Vec<[IntExpr; 4]>),
    /// A raw pointer.
    Raw(IntExpr),
}

/// Expectation on an out-argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutPat {
    /// `...`: not checked (a buffer is still provided).
    Any,
    /// An explicit pointer (`NULL`, `0xdead0000`): passed as is, not checked.
    Raw(IntExpr),
    /// The bytes written (`"hello"`).
    Bytes(Word),
    /// Fields of a structure, as strace prints them; unlisted fields are not checked.
    Struct(Vec<(String, String)>),
    /// `[fd0, fd1]` of pipe2.
    FdPair([Pat; 2]),
    /// `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`, as text.
    Wait(String),
    /// A written socket address, compared with how the tracer prints it.
    Text(String),
    /// `getdents64`'s records, each as fields; `more`: a trailing `...` leaves the rest
    /// unchecked.
    Dirents {
        /// The records given, in order.
        entries: Vec<Vec<(String, String)>>,
        /// A trailing `...`.
        more: bool,
    },
}

/// What a call must return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetExpect {
    /// `= ?`
    Any,
    /// `= 3`, `= $fd`
    Value(Pat),
    /// `= -1 ENOENT (No such file or directory)`
    Err(Errno),
    /// A value with a checked decoration: poll's `= 1 ([{fd=3, revents=POLLIN}])`.
    Aux(alloc::boxed::Box<RetExpect>, Vec<Vec<IoFieldVal>>),
}

/// A syscall line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The syscall.
    pub sysno: Sysno,
    /// Arguments, one per table argument.
    pub args: Vec<ArgVal>,
    /// Expected result.
    pub ret: RetExpect,
    /// `<unfinished ...>`: the call must block.
    pub unfinished: bool,
}

/// How a text expectation compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOp {
    /// The text occurs.
    Contains,
    /// The text does not occur.
    Lacks,
    /// The whole content equals the text.
    Equals,
}

/// What an `expect` line checks.
// The fields are the parts of the syntax line each variant documents.
#[allow(missing_docs)]
#[derive(Clone, Debug)]
pub enum Expect {
    /// A file's content (read as root).
    File { path: Word, op: TextOp, text: Word },
    /// The trace so far.
    Trace { op: TextOp, text: Word },
    /// The kernel log.
    Dmesg { op: TextOp, text: Word },
    /// A task exited normally with a code.
    Exited { label: String, code: i32 },
    /// A task was killed by a signal.
    Killed { label: String, sig: i32 },
    /// What `ip ARGS…` prints (errors included; its exit status is not checked).
    Ip { args: Vec<Word>, op: TextOp, text: Word },
    /// `disk NAME discards [<= BYTES] [tile START LEN] [aligned BYTES] [count N]`: the
    /// discards the simulated disk carried out since the last such expectation on it
    /// (bytes throughout): none larger than `<=`; together exactly `[START, START+LEN)`
    /// without overlap (`tile`); every boundary inside that range on a multiple of
    /// `aligned`; `count` of them.
    DiskDiscards { disk: String, max: Option<u64>, tile: Option<(u64, u64)>, aligned: Option<u64>, count: Option<u64> },
}

/// One end of a `link` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEnd {
    /// `HOST.ethN`
    Nic(String, u32),
    /// A switch's name.
    Switch(String),
}

/// A statement.
// The fields are the parts of the syntax line each variant documents.
#[allow(missing_docs)]
#[derive(Clone, Debug)]
pub enum StmtKind {
    /// `host NAME [arch=…] [ram=…] [pmem=…] [nics=N]` (`pmem`: bytes of persistent memory,
    /// 0 for none; `nics`: Ethernet NICs, `eth0`…)
    Host { name: String, arch: Arch, ram: u64, pmem: u64, nics: u32 },
    /// `on HOST`: later admin commands and spawns act on that host
    On { host: String },
    /// `switch NAME`: a learning switch
    Switch { name: String },
    /// `link A B [delay=DUR] [rate=BITS] [faults="PLAN"]`, each end `HOST.ethN` or a
    /// switch name
    Link { a: LinkEnd, b: LinkEnd, delay_ns: Option<u64>, rate_bps: Option<u64>, faults: String },
    /// `sleep DURATION`: let the world run for that much virtual time
    Sleep { ns: u64 },
    /// `inject HOST.ethN [times=N] FRAME`: the NIC receives a frame written scapy's way
    /// (N times back to back)
    /// (`Ether()/IPv6(hlim=1)/UDP(dport=9)/"x"`, see `harness::packet`)
    Inject { host: String, nic: u32, times: u32, frame: Vec<crate::packet::Layer> },
    /// `disk NAME [size=MiB] [image="FILE"] [faults="PLAN"] [KEY=N…]`: plug a simulated
    /// disk into the current host (it is probed as NAME: vda, vdb … in order). `image` is
    /// a file (`.gz` is inflated) next to the scenario; else `size` MiB of zeroes. The
    /// fault plan: `bad=S[-E],…` `error_ppm=N` `latency=DUR` `jitter=DUR`. Keys:
    /// `discard_max_hw=BYTES`, `discard_granularity=BYTES`, `max_hw_sectors=N`.
    Disk { name: String, size_mib: u64, image: Option<String>, faults: String, opts: Vec<(String, u64)> },
    /// `crash [tear]`: power-cut every disk of the current host (what is not durable is
    /// lost, or torn sector by sector), then reboot the host with its disks
    Crash { tear: bool },
    /// `reboot [HOST]`: power-cycle the host (the current one by default), keeping its pmem
    Reboot { host: Option<String> },
    /// `spawn LABEL [uid=] [gid=] [groups=a,b] [comm=]`
    Spawn { label: String, uid: u32, gid: u32, groups: Vec<u32>, comm: String },
    /// `file PATH [mode=] [uid=] [gid=] "content"`
    File { path: Word, mode: u32, uid: u32, gid: u32, content: Word },
    /// `mkdir PATH [mode=] [uid=] [gid=]`
    Mkdir { path: Word, mode: u32, uid: u32, gid: u32 },
    /// `chmod MODE PATH`
    Chmod { mode: u32, path: Word },
    /// `chown UID[:GID] PATH`
    Chown { uid: u32, gid: Option<u32>, path: Word },
    /// `sysctl KEY[=VALUE]`
    Sysctl { key: String, value: Option<String> },
    /// `cat PATH`
    Cat { path: Word },
    /// `setcap CAPS PATH` (libcap text, e.g. `cap_net_raw+ep`; quoted when it has
    /// spaces) or `setcap -r PATH` (`caps: None`).
    Setcap { caps: Option<crate::captext::FileCaps>, text: String, path: Word },
    /// `getcap PATH`
    Getcap { path: Word },
    /// `LABEL: call(…) = …`
    Call { label: String, call: Call },
    /// `LABEL: syscall(NR, args…) = …`: a raw syscall number, known to the table or not.
    RawCall { label: String, nr: IntExpr, args: Vec<IntExpr>, ret: RetExpect },
    /// `LABEL: <... name resumed> …) = …`
    Resumed { label: String, sysno: Sysno, rest: Vec<ArgVal>, ret: RetExpect },
    /// `run`: until nothing can move.
    Run,
    /// `wait LABEL`: until the task exits.
    Wait { label: String },
    /// `expect …`
    Expect(Expect),
    /// `ip ARGS…`: iproute2's `ip` as root on the current host (`harness::ip`); its output
    /// goes to the trace, and a non-zero exit status fails the scenario.
    Ip { args: Vec<Word> },
}
