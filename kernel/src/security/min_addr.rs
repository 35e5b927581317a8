//! `security/min_addr.c`: the `vm.mmap_min_addr` sysctl.
//!
//! The value written is kept as written (any unsigned long, no bounds, not rounded: 4097
//! reads back as 4097); the places that use it round it the way 4.3 does: a non-fixed
//! `mmap` hint below it becomes `PAGE_ALIGN(mmap_min_addr)` (8192 for 4097), while the
//! permission check (`cap_mmap_addr`) compares against the exact value, so `MAP_FIXED`
//! at 0x1000 is refused and at 0x2000 allowed. k43 is built without SELinux, so there is
//! no `CONFIG_LSM_MMAP_MIN_ADDR` floor: the effective value is the sysctl's.
//!
//! Writing needs `CAP_SYS_RAWIO` in the initial namespace (`mmap_min_addr_handler`),
//! on top of the file's 0644 root-owned permission checked at open.

use super::commoncap::capable;
use super::cred::Cred;
use crate::fs::sysctl::{KnobValue, Sysctl};
use crate::mm::DEFAULT_MMAP_MIN_ADDR;
use crate::uapi::capability::CAP_SYS_RAWIO;
use crate::uapi::Errno;

/// `mmap_min_addr_handler`'s check on write.
pub fn mmap_min_addr_write_check(cred: &Cred) -> Result<(), Errno> {
    if capable(cred, CAP_SYS_RAWIO) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

/// Registers `vm.mmap_min_addr` (default `CONFIG_DEFAULT_MMAP_MIN_ADDR`, 4096).
pub fn register(s: &mut Sysctl) {
    s.register_checked("vm/mmap_min_addr", 0o644, KnobValue::ULong { value: DEFAULT_MMAP_MIN_ADDR }, Some(mmap_min_addr_write_check));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_parse_like_proc_doulongvec_minmax() {
        let mut s = Sysctl::default();
        register(&mut s);
        let k = s.find("vm.mmap_min_addr").expect("registered");
        assert_eq!(s.ulong("vm/mmap_min_addr"), Some(4096));
        s.write(k, b"4097\n").expect("decimal");
        assert_eq!(s.read(k), Some(b"4097\n".to_vec()));
        s.write(k, b"0x10000").expect("hex");
        assert_eq!(s.ulong("vm/mmap_min_addr"), Some(65536));
        s.write(k, b"010").expect("octal");
        assert_eq!(s.ulong("vm/mmap_min_addr"), Some(8));
        // A negative value is skipped silently.
        s.write(k, b"-1").expect("negative is not an error");
        assert_eq!(s.ulong("vm/mmap_min_addr"), Some(8));
        assert_eq!(s.write(k, b"12abc"), Err(Errno::EINVAL));
        assert_eq!(s.write(k, b"0x"), Err(Errno::EINVAL));
        assert_eq!(s.write(k, b"09"), Err(Errno::EINVAL));
        assert_eq!(s.ulong("vm/mmap_min_addr"), Some(8));
    }

    #[test]
    fn writing_needs_cap_sys_rawio() {
        let root = Cred::new(0, 0);
        assert_eq!(mmap_min_addr_write_check(&root), Ok(()));
        let mut no_rawio = Cred::new(0, 0);
        no_rawio.cap_effective &= !(1 << CAP_SYS_RAWIO);
        assert_eq!(mmap_min_addr_write_check(&no_rawio), Err(Errno::EPERM));
        assert_eq!(mmap_min_addr_write_check(&Cred::new(1000, 1000)), Err(Errno::EPERM));
    }
}
