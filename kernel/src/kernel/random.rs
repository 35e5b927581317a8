//! `getrandom(2)` (`drivers/char/random.c`, 4.3).
//!
//! The bytes come from the HAL's entropy source (the seeded ChaCha stream in the
//! simulator, RDRAND-seeded on the metal), so one seed replays the same bytes. The
//! nonblocking pool counts as initialised from boot and the blocking pool's entropy
//! estimate as full: `GRND_NONBLOCK` never gives `EAGAIN`, and `GRND_RANDOM` returns at
//! most `SEC_XFER_SIZE` bytes per call, as one `extract_entropy_user` does.

use super::{Kernel, Pid};
use crate::hal::Hal;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::Errno;

/// `GRND_NONBLOCK`.
pub const GRND_NONBLOCK: u32 = 1;
/// `GRND_RANDOM`: draw from the blocking pool.
pub const GRND_RANDOM: u32 = 2;
/// `SEC_XFER_SIZE`: what one read of the blocking pool returns at most.
const SEC_XFER_SIZE: usize = 512;
/// `urandom_read`'s cap: `INT_MAX >> (ENTROPY_SHIFT + 3)`.
const URANDOM_MAX: usize = (i32::MAX >> 6) as usize;

impl<H: Hal> Kernel<H> {
    /// `getrandom(buf, count, flags)`.
    pub(crate) fn sys_getrandom(&mut self, pid: Pid, buf: u64, count: usize, flags: u32) -> SysResult {
        if flags & !(GRND_NONBLOCK | GRND_RANDOM) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let count = count.min(i32::MAX as usize);
        let n = if flags & GRND_RANDOM != 0 { count.min(SEC_XFER_SIZE) } else { count.min(URANDOM_MAX) };
        let mut out = alloc::vec::Vec::with_capacity(n);
        while out.len() < n {
            let w = self.hal.next_u64().to_le_bytes();
            let take = (n - out.len()).min(8);
            out.extend_from_slice(&w[..take]);
        }
        self.copy_to_user(pid, buf, &out)?;
        Ok(n as i64)
    }
}
