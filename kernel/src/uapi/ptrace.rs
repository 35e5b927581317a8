//! `include/uapi/linux/ptrace.h` (4.3) and x86's `PTRACE_GETREGS`/`PTRACE_SETREGS`.

pub const PTRACE_TRACEME: u64 = 0;
pub const PTRACE_PEEKTEXT: u64 = 1;
pub const PTRACE_PEEKDATA: u64 = 2;
pub const PTRACE_POKETEXT: u64 = 4;
pub const PTRACE_POKEDATA: u64 = 5;
pub const PTRACE_CONT: u64 = 7;
pub const PTRACE_KILL: u64 = 8;
/// x86 only (arm64 has `PTRACE_GETREGSET` instead).
pub const PTRACE_GETREGS: u64 = 12;
/// x86 only.
pub const PTRACE_SETREGS: u64 = 13;
pub const PTRACE_ATTACH: u64 = 16;
pub const PTRACE_DETACH: u64 = 17;
pub const PTRACE_SYSCALL: u64 = 24;
pub const PTRACE_SETOPTIONS: u64 = 0x4200;
pub const PTRACE_GETEVENTMSG: u64 = 0x4201;
pub const PTRACE_SEIZE: u64 = 0x4206;
pub const PTRACE_INTERRUPT: u64 = 0x4207;
pub const PTRACE_LISTEN: u64 = 0x4208;

pub const PTRACE_O_TRACESYSGOOD: u64 = 1;
pub const PTRACE_O_TRACEFORK: u64 = 2;
pub const PTRACE_O_TRACEVFORK: u64 = 4;
pub const PTRACE_O_TRACECLONE: u64 = 8;
pub const PTRACE_O_TRACEEXEC: u64 = 0x10;
pub const PTRACE_O_TRACEVFORKDONE: u64 = 0x20;
pub const PTRACE_O_TRACEEXIT: u64 = 0x40;
pub const PTRACE_O_TRACESECCOMP: u64 = 0x80;
pub const PTRACE_O_EXITKILL: u64 = 0x10_0000;
pub const PTRACE_O_SUSPEND_SECCOMP: u64 = 0x20_0000;
/// `PTRACE_O_MASK`.
pub const PTRACE_O_MASK: u64 = 0xff | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP;

pub const PTRACE_EVENT_EXEC: i32 = 4;
pub const PTRACE_EVENT_SECCOMP: i32 = 7;
pub const PTRACE_EVENT_STOP: i32 = 128;

/// The request names strace prints.
pub const PTRACE_REQUESTS: &[(&str, u64)] = &[
    ("PTRACE_TRACEME", PTRACE_TRACEME),
    ("PTRACE_PEEKTEXT", PTRACE_PEEKTEXT),
    ("PTRACE_PEEKDATA", PTRACE_PEEKDATA),
    ("PTRACE_POKETEXT", PTRACE_POKETEXT),
    ("PTRACE_POKEDATA", PTRACE_POKEDATA),
    ("PTRACE_CONT", PTRACE_CONT),
    ("PTRACE_KILL", PTRACE_KILL),
    ("PTRACE_GETREGS", PTRACE_GETREGS),
    ("PTRACE_SETREGS", PTRACE_SETREGS),
    ("PTRACE_ATTACH", PTRACE_ATTACH),
    ("PTRACE_DETACH", PTRACE_DETACH),
    ("PTRACE_SYSCALL", PTRACE_SYSCALL),
    ("PTRACE_SETOPTIONS", PTRACE_SETOPTIONS),
    ("PTRACE_GETEVENTMSG", PTRACE_GETEVENTMSG),
    ("PTRACE_SEIZE", PTRACE_SEIZE),
    ("PTRACE_INTERRUPT", PTRACE_INTERRUPT),
    ("PTRACE_LISTEN", PTRACE_LISTEN),
];

/// `sizeof(struct user_regs_struct)` on x86_64: 27 longs.
pub const USER_REGS_SIZE: usize = 27 * 8;
/// Word indices in x86_64's `struct user_regs_struct`.
pub const REG_RAX: usize = 10;
pub const REG_RCX: usize = 11;
pub const REG_RDX: usize = 12;
pub const REG_RSI: usize = 13;
pub const REG_RDI: usize = 14;
pub const REG_ORIG_RAX: usize = 15;
pub const REG_R10: usize = 7;
pub const REG_R8: usize = 9;
pub const REG_R9: usize = 8;

/// `PTRACE_O_*` and `PTRACE_EVENT_*` names (constants anywhere in scenarios).
pub const PTRACE_CONST_NAMES: &[(&str, u64)] = &[
    ("PTRACE_O_TRACESYSGOOD", PTRACE_O_TRACESYSGOOD),
    ("PTRACE_O_TRACEFORK", PTRACE_O_TRACEFORK),
    ("PTRACE_O_TRACEVFORK", PTRACE_O_TRACEVFORK),
    ("PTRACE_O_TRACECLONE", PTRACE_O_TRACECLONE),
    ("PTRACE_O_TRACEEXEC", PTRACE_O_TRACEEXEC),
    ("PTRACE_O_TRACEVFORKDONE", PTRACE_O_TRACEVFORKDONE),
    ("PTRACE_O_TRACEEXIT", PTRACE_O_TRACEEXIT),
    ("PTRACE_O_TRACESECCOMP", PTRACE_O_TRACESECCOMP),
    ("PTRACE_O_EXITKILL", PTRACE_O_EXITKILL),
    ("PTRACE_O_SUSPEND_SECCOMP", PTRACE_O_SUSPEND_SECCOMP),
    ("PTRACE_EVENT_EXEC", PTRACE_EVENT_EXEC as u64),
    ("PTRACE_EVENT_SECCOMP", PTRACE_EVENT_SECCOMP as u64),
    ("PTRACE_EVENT_STOP", PTRACE_EVENT_STOP as u64),
];

/// Field names of x86_64's `struct user_regs_struct`, in order.
pub const USER_REGS_NAMES: [&str; 27] = [
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
    "fs_base", "gs_base", "ds", "es", "fs", "gs",
];
