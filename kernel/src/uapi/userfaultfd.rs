//! `include/uapi/linux/userfaultfd.h` as of 4.3: ioctl numbers, modes, and the byte
//! layouts of the ioctl arguments and of `struct uffd_msg`.
//!
//! Later kernels added features, events and ioctls (see `spec/mm-userfaultfd.md` §6);
//! 4.3 answers all of them as unknown.

/// `UFFD_API`: the only API version.
pub const UFFD_API: u64 = 0xaa;
/// `UFFD_API_FEATURES`: 4.3 has none.
pub const UFFD_API_FEATURES: u64 = 0;
/// The ioctl type byte (`UFFDIO`).
pub const UFFDIO: u32 = 0xaa;

/// `_UFFDIO_*` ioctl numbers (the low byte of the command).
pub const _UFFDIO_REGISTER: u32 = 0x00;
pub const _UFFDIO_UNREGISTER: u32 = 0x01;
pub const _UFFDIO_WAKE: u32 = 0x02;
pub const _UFFDIO_COPY: u32 = 0x03;
pub const _UFFDIO_ZEROPAGE: u32 = 0x04;
pub const _UFFDIO_API: u32 = 0x3f;

/// `UFFD_API_IOCTLS`: REGISTER, UNREGISTER and API (`uffdio_api.ioctls`).
pub const UFFD_API_IOCTLS: u64 = (1 << _UFFDIO_REGISTER) | (1 << _UFFDIO_UNREGISTER) | (1 << _UFFDIO_API);
/// `UFFD_API_RANGE_IOCTLS`: WAKE, COPY and ZEROPAGE (`uffdio_register.ioctls`).
pub const UFFD_API_RANGE_IOCTLS: u64 = (1 << _UFFDIO_WAKE) | (1 << _UFFDIO_COPY) | (1 << _UFFDIO_ZEROPAGE);

/// The generic `_IOC` encoding x86_64 and arm64 share: direction in bits 31..30 (1 write,
/// 2 read), the argument size in 29..16, the type in 15..8, the number in 7..0.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: u32) -> u32 {
    (dir << 30) | (size << 16) | (ty << 8) | nr
}
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// `_IOWR(UFFDIO, _UFFDIO_API, struct uffdio_api)`.
pub const UFFDIO_API: u32 = ioc(IOC_READ | IOC_WRITE, UFFDIO, _UFFDIO_API, UFFDIO_API_SIZE as u32);
/// `_IOWR(UFFDIO, _UFFDIO_REGISTER, struct uffdio_register)`.
pub const UFFDIO_REGISTER: u32 = ioc(IOC_READ | IOC_WRITE, UFFDIO, _UFFDIO_REGISTER, UFFDIO_REGISTER_SIZE as u32);
/// `_IOR(UFFDIO, _UFFDIO_UNREGISTER, struct uffdio_range)` (declared `_IOR` although the
/// kernel only reads it: the number is what matters).
pub const UFFDIO_UNREGISTER: u32 = ioc(IOC_READ, UFFDIO, _UFFDIO_UNREGISTER, UFFDIO_RANGE_SIZE as u32);
/// `_IOR(UFFDIO, _UFFDIO_WAKE, struct uffdio_range)`.
pub const UFFDIO_WAKE: u32 = ioc(IOC_READ, UFFDIO, _UFFDIO_WAKE, UFFDIO_RANGE_SIZE as u32);
/// `_IOWR(UFFDIO, _UFFDIO_COPY, struct uffdio_copy)`.
pub const UFFDIO_COPY: u32 = ioc(IOC_READ | IOC_WRITE, UFFDIO, _UFFDIO_COPY, UFFDIO_COPY_SIZE as u32);
/// `_IOWR(UFFDIO, _UFFDIO_ZEROPAGE, struct uffdio_zeropage)`.
pub const UFFDIO_ZEROPAGE: u32 = ioc(IOC_READ | IOC_WRITE, UFFDIO, _UFFDIO_ZEROPAGE, UFFDIO_ZEROPAGE_SIZE as u32);

/// `UFFDIO_REGISTER_MODE_MISSING`: the one mode 4.3 implements.
pub const UFFDIO_REGISTER_MODE_MISSING: u64 = 1;
/// `UFFDIO_REGISTER_MODE_WP`: defined, rejected with `EINVAL` in 4.3.
pub const UFFDIO_REGISTER_MODE_WP: u64 = 2;
/// `UFFDIO_COPY_MODE_DONTWAKE`.
pub const UFFDIO_COPY_MODE_DONTWAKE: u64 = 1;
/// `UFFDIO_ZEROPAGE_MODE_DONTWAKE`.
pub const UFFDIO_ZEROPAGE_MODE_DONTWAKE: u64 = 1;

/// `UFFD_EVENT_PAGEFAULT`: the only event of 4.3 (numbering starts at 0x12 on purpose).
pub const UFFD_EVENT_PAGEFAULT: u8 = 0x12;
/// `UFFD_PAGEFAULT_FLAG_WRITE`: the fault was a write.
pub const UFFD_PAGEFAULT_FLAG_WRITE: u64 = 1;
/// `UFFD_PAGEFAULT_FLAG_WP`: never set in 4.3.
pub const UFFD_PAGEFAULT_FLAG_WP: u64 = 2;

/// `sizeof(struct uffdio_api)`: `api`, `features`, `ioctls`.
pub const UFFDIO_API_SIZE: usize = 24;
/// `sizeof(struct uffdio_range)`: `start`, `len`.
pub const UFFDIO_RANGE_SIZE: usize = 16;
/// `sizeof(struct uffdio_register)`: `range`, `mode`, `ioctls` (out).
pub const UFFDIO_REGISTER_SIZE: usize = 32;
/// `sizeof(struct uffdio_copy)`: `dst`, `src`, `len`, `mode`, `copy` (out).
pub const UFFDIO_COPY_SIZE: usize = 40;
/// `sizeof(struct uffdio_zeropage)`: `range`, `mode`, `zeropage` (out).
pub const UFFDIO_ZEROPAGE_SIZE: usize = 32;
/// `sizeof(struct uffd_msg)` (packed).
pub const UFFD_MSG_SIZE: usize = 32;

/// The little-endian `u64` at byte `off` of `b` (callers pass buffers of the struct's
/// size, so the range is in bounds).
pub fn le64(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(w)
}

/// `struct uffd_msg` for a page fault: every byte not set here is zero, because the
/// kernel clears the message before filling it.
pub fn pagefault_msg(address: u64, write: bool) -> [u8; UFFD_MSG_SIZE] {
    let mut m = [0u8; UFFD_MSG_SIZE];
    m[0] = UFFD_EVENT_PAGEFAULT;
    let flags = if write { UFFD_PAGEFAULT_FLAG_WRITE } else { 0 };
    m[8..16].copy_from_slice(&flags.to_le_bytes());
    m[16..24].copy_from_slice(&address.to_le_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_4_3_header() {
        assert_eq!(UFFDIO_REGISTER, 0xC020_AA00);
        assert_eq!(UFFDIO_UNREGISTER, 0x8010_AA01);
        assert_eq!(UFFDIO_WAKE, 0x8010_AA02);
        assert_eq!(UFFDIO_COPY, 0xC028_AA03);
        assert_eq!(UFFDIO_ZEROPAGE, 0xC020_AA04);
        assert_eq!(UFFDIO_API, 0xC018_AA3F);
        assert_eq!(UFFD_API_IOCTLS, 0x8000_0000_0000_0003);
        assert_eq!(UFFD_API_RANGE_IOCTLS, 0x1c);
    }

    #[test]
    fn a_message_is_32_bytes_with_the_exact_address() {
        let m = pagefault_msg(0x7f00_0000_2123, true);
        assert_eq!(m[0], 0x12);
        assert_eq!(&m[1..8], &[0; 7]);
        assert_eq!(le64(&m, 8), 1);
        assert_eq!(le64(&m, 16), 0x7f00_0000_2123);
        assert_eq!(le64(&m, 24), 0);
    }
}
