//! `include/uapi/linux/time.h`: clock ids and `struct timespec` (16 bytes on 64-bit).

pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
pub const CLOCK_MONOTONIC_RAW: u32 = 4;
pub const CLOCK_REALTIME_COARSE: u32 = 5;
pub const CLOCK_MONOTONIC_COARSE: u32 = 6;
pub const CLOCK_BOOTTIME: u32 = 7;
pub const CLOCK_REALTIME_ALARM: u32 = 8;
pub const CLOCK_BOOTTIME_ALARM: u32 = 9;
pub const CLOCK_TAI: u32 = 11;

pub const NSEC_PER_SEC: u64 = 1_000_000_000;

/// `struct timespec` on a 64-bit ABI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

impl Timespec {
    /// Size in user memory.
    pub const SIZE: usize = 16;

    /// From nanoseconds.
    pub fn from_ns(ns: u64) -> Timespec {
        Timespec { tv_sec: (ns / NSEC_PER_SEC) as i64, tv_nsec: (ns % NSEC_PER_SEC) as i64 }
    }

    /// `timespec_valid`: `tv_sec >= 0` and `0 <= tv_nsec < 1e9`.
    pub fn is_valid(&self) -> bool {
        self.tv_sec >= 0 && (0..NSEC_PER_SEC as i64).contains(&self.tv_nsec)
    }

    /// Nanoseconds, saturating (`timespec_to_ktime` clamps to `KTIME_MAX`).
    pub fn to_ns(&self) -> u64 {
        (self.tv_sec as u64).saturating_mul(NSEC_PER_SEC).saturating_add(self.tv_nsec as u64)
    }

    /// The user-memory bytes.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.tv_sec.to_le_bytes());
        b[8..].copy_from_slice(&self.tv_nsec.to_le_bytes());
        b
    }

    /// Parses the user-memory bytes.
    pub fn from_bytes(b: &[u8; 16]) -> Timespec {
        let mut s = [0u8; 8];
        let mut n = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        n.copy_from_slice(&b[8..]);
        Timespec { tv_sec: i64::from_le_bytes(s), tv_nsec: i64::from_le_bytes(n) }
    }
}
