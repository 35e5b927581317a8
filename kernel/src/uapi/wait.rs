//! `include/uapi/linux/wait.h` and the status word `wait4` stores.

pub const WNOHANG: u32 = 0x0000_0001;
pub const WUNTRACED: u32 = 0x0000_0002;
pub const WSTOPPED: u32 = WUNTRACED;
pub const WEXITED: u32 = 0x0000_0004;
pub const WCONTINUED: u32 = 0x0000_0008;
pub const WNOWAIT: u32 = 0x0100_0000;
pub const __WNOTHREAD: u32 = 0x2000_0000;
pub const __WALL: u32 = 0x4000_0000;
pub const __WCLONE: u32 = 0x8000_0000;

/// Status of a normal exit with `code` (`(code & 0xff) << 8`).
pub const fn exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Status of a death by signal `sig` (with the core-dump bit 0x80 when `core`).
pub const fn signaled(sig: i32, core: bool) -> i32 {
    (sig & 0x7f) | if core { 0x80 } else { 0 }
}

/// Status of a stop by signal `sig` (`0x7f | sig << 8`).
pub const fn stopped(sig: i32) -> i32 {
    0x7f | ((sig & 0xff) << 8)
}
