//! `struct queue_limits` and the discard files of `/sys/block/<dev>/queue/`
//! (`block/blk-sysfs.c`, 4.3): `discard_granularity`, `discard_max_hw_bytes` (new in
//! 4.3), `discard_max_bytes` (writable since 4.3), `discard_zeroes_data`.
//!
//! 4.3 keeps one soft limit that the driver's `blk_queue_max_discard_sectors` overwrites
//! together with the hardware limit; later kernels keep the administrator's value apart
//! (the 2024 rework) — same reads and errnos.

use super::SECTOR_SHIFT;
use crate::uapi::Errno;
use alloc::format;
use alloc::string::String;

/// A request queue's limits (the discard ones, and the sizes a bio is split by).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// `logical_block_size` in bytes.
    pub logical_block_size: u32,
    /// `physical_block_size` in bytes.
    pub physical_block_size: u32,
    /// `max_sectors` of a read/write request.
    pub max_sectors: u32,
    /// `discard_granularity` in bytes (0: the device has none).
    pub discard_granularity: u32,
    /// `discard_alignment` in bytes.
    pub discard_alignment: u32,
    /// `max_hw_discard_sectors`: 0 means no discard support.
    pub max_hw_discard_sectors: u32,
    /// `max_discard_sectors`: the soft limit `discard_max_bytes` sets.
    pub max_discard_sectors: u32,
    /// `discard_zeroes_data`.
    pub discard_zeroes_data: bool,
}

impl QueueLimits {
    /// A disk that discards `max_hw_discard_sectors` at a time in `granularity`-byte
    /// units (the driver's `blk_queue_max_discard_sectors` sets both limits).
    pub fn discarding(granularity: u32, max_hw_discard_sectors: u32) -> QueueLimits {
        QueueLimits {
            logical_block_size: 512,
            physical_block_size: 512,
            max_sectors: 2560,
            discard_granularity: granularity,
            discard_alignment: 0,
            max_hw_discard_sectors,
            max_discard_sectors: max_hw_discard_sectors,
            discard_zeroes_data: false,
        }
    }

    /// `blk_queue_discard`: the queue advertises discard.
    pub fn supports_discard(&self) -> bool {
        self.max_hw_discard_sectors != 0
    }

    /// `discard_max_bytes`'s text.
    pub fn discard_max_bytes_show(&self) -> String {
        format!("{}\n", u64::from(self.max_discard_sectors) << SECTOR_SHIFT)
    }

    /// `discard_max_hw_bytes`'s text.
    pub fn discard_max_hw_bytes_show(&self) -> String {
        format!("{}\n", u64::from(self.max_hw_discard_sectors) << SECTOR_SHIFT)
    }

    /// `discard_granularity`'s text.
    pub fn discard_granularity_show(&self) -> String {
        format!("{}\n", self.discard_granularity)
    }

    /// `queue_discard_max_store`: a decimal byte count (`queue_var_store`: EINVAL if it
    /// does not parse or exceeds `UINT_MAX`), a multiple of the granularity (the mask
    /// test: with granularity 0 only 0 passes), dropped to whole sectors, clamped to the
    /// hardware limit. Returns the bytes written, as the write returns.
    pub fn discard_max_bytes_store(&mut self, buf: &[u8]) -> Result<usize, Errno> {
        let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
        // kstrtoul accepts one trailing newline.
        let t = text.strip_suffix('\n').unwrap_or(text);
        let v: u64 = parse_ulong(t).ok_or(Errno::EINVAL)?;
        if v > u64::from(u32::MAX) {
            return Err(Errno::EINVAL);
        }
        if v & u64::from(self.discard_granularity.wrapping_sub(1)) != 0 {
            return Err(Errno::EINVAL);
        }
        let sectors = (v >> SECTOR_SHIFT) as u32;
        self.max_discard_sectors = sectors.min(self.max_hw_discard_sectors);
        Ok(buf.len())
    }
}

/// `queue_var_store`: a decimal `unsigned long` no larger than `UINT_MAX` (one trailing
/// newline allowed), else `EINVAL`.
pub fn queue_var_store(buf: &[u8]) -> Result<u64, Errno> {
    let text = core::str::from_utf8(buf).map_err(|_| Errno::EINVAL)?;
    let t = text.strip_suffix('\n').unwrap_or(text);
    parse_ulong(t).filter(|&v| v <= u64::from(u32::MAX)).ok_or(Errno::EINVAL)
}

/// `kstrtoul(page, 10, …)`: decimal digits with an optional leading `+`.
fn parse_ulong(t: &str) -> Option<u64> {
    let d = t.strip_prefix('+').unwrap_or(t);
    if d.is_empty() || !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    d.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discard_max_bytes_store_follows_queue_discard_max_store() {
        let mut l = QueueLimits::discarding(4096, 2048);
        assert_eq!(l.discard_max_bytes_show(), "1048576\n");
        assert_eq!(l.discard_max_hw_bytes_show(), "1048576\n");
        assert_eq!(l.discard_max_bytes_store(b"65536\n"), Ok(6));
        assert_eq!(l.max_discard_sectors, 128);
        // Not a multiple of the granularity, not a number, too large: EINVAL.
        assert_eq!(l.discard_max_bytes_store(b"4097"), Err(Errno::EINVAL));
        assert_eq!(l.discard_max_bytes_store(b"abc"), Err(Errno::EINVAL));
        assert_eq!(l.discard_max_bytes_store(b"-4096"), Err(Errno::EINVAL));
        assert_eq!(l.discard_max_bytes_store(b"4294967296"), Err(Errno::EINVAL));
        // Above the hardware limit: clamped, not refused.
        assert_eq!(l.discard_max_bytes_store(b"4294963200"), Ok(10));
        assert_eq!(l.max_discard_sectors, 2048);
        // 0: the soft limit is 0 (the queue still advertises discard).
        assert_eq!(l.discard_max_bytes_store(b"0"), Ok(1));
        assert!(l.supports_discard() && l.max_discard_sectors == 0);
        // Granularity 0: only 0 passes the mask test.
        let mut z = QueueLimits::discarding(0, 2048);
        assert_eq!(z.discard_max_bytes_store(b"512"), Err(Errno::EINVAL));
        assert_eq!(z.discard_max_bytes_store(b"0"), Ok(1));
    }
}
