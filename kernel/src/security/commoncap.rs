//! `security/commoncap.c`: `cap_capable()` (and with it `capable()`/`ns_capable()`),
//! capget/capset rules, the set*id fixups and the file-capability xattr.

use super::cred::{CapSet, Cred};
use super::user_ns::UserNs;
use crate::uapi::capability::*;
use crate::uapi::Errno;

/// `cap_capable`: does `cred` hold `cap` in namespace `target`? It does when `target` is
/// its own namespace and `cap` is effective, or when `target` is a descendant of its
/// namespace and either it owns the child of its namespace on the way down (the owner of
/// a namespace has every capability in it) or holds `cap` in its own namespace.
pub fn ns_capable(cred: &Cred, target: &UserNs, cap: u32) -> bool {
    let mut ns = target.clone();
    loop {
        if ns == cred.user_ns {
            return cred.has_cap(cap);
        }
        // Tried every ancestor: the credential's namespace is not above the target.
        if ns.level() <= cred.user_ns.level() {
            return false;
        }
        let Some(parent) = ns.parent() else { return false };
        if parent == cred.user_ns && ns.0.owner == cred.euid {
            return true;
        }
        ns = parent;
    }
}

/// `capable(cap)`: `ns_capable(&init_user_ns, cap)`.
pub fn capable(cred: &Cred, cap: u32) -> bool {
    ns_capable(cred, &UserNs::init(), cap)
}

/// `ns_capable(current_user_ns(), cap)`: the capability in the caller's own namespace
/// (which is just its effective set).
pub fn own_ns_capable(cred: &Cred, cap: u32) -> bool {
    ns_capable(cred, &cred.user_ns, cap)
}

/// `cap_mmap_addr`: mapping below `dac_mmap_min_addr` needs `CAP_SYS_RAWIO` in the
/// initial user namespace (`EPERM` otherwise). Linux also sets `PF_SUPERPRIV` when the
/// capability was used; k43 has no process accounting that would show it.
pub fn cap_mmap_addr(cred: &Cred, addr: u64, dac_mmap_min_addr: u64) -> Result<(), Errno> {
    if addr < dac_mmap_min_addr && !capable(cred, CAP_SYS_RAWIO) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

fn is_subset(a: CapSet, b: CapSet) -> bool {
    a & !b == 0
}

/// `cap_capset`: validates new sets against the old credentials and applies them.
/// Linux order of checks: inheritable vs permitted (unless CAP_SETPCAP), inheritable vs
/// the bounding set, permitted may only shrink, effective within the new permitted.
pub fn cap_capset(cred: &mut Cred, effective: CapSet, inheritable: CapSet, permitted: CapSet) -> Result<(), Errno> {
    let setpcap = own_ns_capable(cred, CAP_SETPCAP);
    if !setpcap && !is_subset(inheritable, cred.cap_inheritable | cred.cap_permitted) {
        return Err(Errno::EPERM);
    }
    if !is_subset(inheritable, cred.cap_inheritable | cred.cap_bset) {
        return Err(Errno::EPERM);
    }
    if !is_subset(permitted, cred.cap_permitted) {
        return Err(Errno::EPERM);
    }
    if !is_subset(effective, permitted) {
        return Err(Errno::EPERM);
    }
    cred.cap_effective = effective;
    cred.cap_inheritable = inheritable;
    cred.cap_permitted = permitted;
    // 4.3: the ambient set must stay within permitted ∩ inheritable.
    cred.cap_ambient &= permitted & inheritable;
    debug_assert!(cred.ambient_invariant_ok());
    Ok(())
}

/// Whether `uid` is the root of `cred`'s namespace (`make_kuid(ns, 0)`; never true in a
/// child namespace without a uid map).
pub fn is_ns_root(cred: &Cred, uid: u32) -> bool {
    cred.user_ns.make_kid(0) == Some(uid)
}

/// `cap_task_fix_setuid` for the `setresuid` family (`LSM_SETID_ID/RE/RES`), given the
/// old credentials and the new ones whose ids have already changed (`cap_emulate_setxuid`).
pub fn cap_task_fix_setuid(new: &mut Cred, old: &Cred) {
    if new.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
        return;
    }
    let root = |u: u32| is_ns_root(old, u);
    // Leaving root entirely drops permitted, effective and ambient, unless keep-caps is
    // set (which keeps permitted, still clearing ambient).
    if (root(old.uid) || root(old.euid) || root(old.suid)) && !root(new.uid) && !root(new.euid) && !root(new.suid) {
        if new.securebits & SECBIT_KEEP_CAPS == 0 {
            new.cap_permitted = 0;
            new.cap_effective = 0;
        }
        new.cap_ambient = 0;
    }
    if root(old.euid) && !root(new.euid) {
        new.cap_effective = 0;
    }
    if !root(old.euid) && root(new.euid) {
        new.cap_effective = new.cap_permitted;
    }
    debug_assert!(new.ambient_invariant_ok());
}

/// `cap_task_fix_setuid` for `LSM_SETID_FS` (`setfsuid`): the filesystem capabilities
/// follow fsuid 0 in and out of the effective set; the ambient set is untouched.
pub fn cap_task_fix_setfsuid(new: &mut Cred, old: &Cred) {
    if new.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
        return;
    }
    if is_ns_root(old, old.fsuid) && !is_ns_root(old, new.fsuid) {
        new.cap_effective &= !CAP_FS_SET;
    }
    if !is_ns_root(old, old.fsuid) && is_ns_root(old, new.fsuid) {
        new.cap_effective |= new.cap_permitted & CAP_FS_SET;
    }
}

/// `VFS_CAP_REVISION_MASK`, the revisions, the effective flag and the sizes of
/// `security.capability` (`include/uapi/linux/capability.h`).
pub const VFS_CAP_REVISION_MASK: u32 = 0xFF00_0000;
pub const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;
pub const VFS_CAP_REVISION_1: u32 = 0x0100_0000;
pub const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
pub const XATTR_CAPS_SZ_1: usize = 12;
pub const XATTR_CAPS_SZ_2: usize = 20;
/// `XATTR_CAPS_SZ`: the buffer `get_vfs_caps_from_disk` reads into (revision 2).
pub const XATTR_CAPS_SZ: usize = XATTR_CAPS_SZ_2;

/// `struct cpu_vfs_cap_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VfsCaps {
    pub magic_etc: u32,
    pub permitted: CapSet,
    pub inheritable: CapSet,
}

impl VfsCaps {
    /// Whether the file's effective bit is set.
    pub fn effective(&self) -> bool {
        self.magic_etc & VFS_CAP_FLAGS_EFFECTIVE != 0
    }

    /// The revision-2 bytes libcap's `setcap` writes.
    pub fn to_v2_bytes(&self) -> [u8; XATTR_CAPS_SZ_2] {
        let mut b = [0u8; XATTR_CAPS_SZ_2];
        let words = [
            VFS_CAP_REVISION_2 | (self.magic_etc & VFS_CAP_FLAGS_EFFECTIVE),
            self.permitted as u32,
            self.inheritable as u32,
            (self.permitted >> 32) as u32,
            (self.inheritable >> 32) as u32,
        ];
        for (i, w) in words.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        b
    }
}

/// `get_vfs_caps_from_disk` (4.3) on the stored value of `security.capability`:
/// `Ok(None)` when there is none (`-ENODATA`); `ERANGE` when the value does not fit
/// the 20-byte buffer the kernel reads it into; `EINVAL` for a short value, an unknown
/// revision or a size that does not match the revision. Bits above `CAP_LAST_CAP` are
/// masked off.
pub fn get_vfs_caps(value: Option<&[u8]>) -> Result<Option<VfsCaps>, Errno> {
    let Some(v) = value else { return Ok(None) };
    if v.len() > XATTR_CAPS_SZ {
        return Err(Errno::ERANGE);
    }
    if v.len() < 4 {
        return Err(Errno::EINVAL);
    }
    let w = |i: usize| u32::from_le_bytes([v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]]) as u64;
    let magic_etc = w(0) as u32;
    let words = match magic_etc & VFS_CAP_REVISION_MASK {
        VFS_CAP_REVISION_1 if v.len() == XATTR_CAPS_SZ_1 => 1,
        VFS_CAP_REVISION_2 if v.len() == XATTR_CAPS_SZ_2 => 2,
        _ => return Err(Errno::EINVAL),
    };
    let (mut permitted, mut inheritable) = (0u64, 0u64);
    for i in 0..words {
        permitted |= w(1 + 2 * i) << (32 * i);
        inheritable |= w(2 + 2 * i) << (32 * i);
    }
    Ok(Some(VfsCaps { magic_etc, permitted: permitted & CAP_FULL_SET, inheritable: inheritable & CAP_FULL_SET }))
}
