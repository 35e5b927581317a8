//! `security/commoncap.c`: `capable()`, capget/capset rules and the setuid fixups.

use super::cred::{CapSet, Cred};
use crate::uapi::capability::*;
use crate::uapi::Errno;

/// `ns_capable(&init_user_ns, cap)` on the effective set. User namespaces arrive with the
/// security issue; until then every credential lives in the initial namespace.
pub fn capable(cred: &Cred, cap: u32) -> bool {
    cred.has_cap(cap)
}

/// `ns_capable(ns, cap)`: with only the initial user namespace modelled, the same check
/// as [`capable`].
pub fn ns_capable(cred: &Cred, cap: u32) -> bool {
    capable(cred, cap)
}

fn is_subset(a: CapSet, b: CapSet) -> bool {
    a & !b == 0
}

/// `cap_capset`: validates new sets against the old credentials and applies them.
/// Linux order of checks: inheritable vs permitted (unless CAP_SETPCAP), inheritable vs
/// the bounding set, permitted may only shrink, effective within the new permitted.
pub fn cap_capset(cred: &mut Cred, effective: CapSet, inheritable: CapSet, permitted: CapSet) -> Result<(), Errno> {
    let setpcap = cred.has_cap(CAP_SETPCAP);
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
    Ok(())
}

/// `cap_task_fix_setuid` for the `setresuid` family (`LSM_SETID_RES`), given the old
/// credentials and the new ones whose ids have already changed. (The fsuid fixup belongs
/// to `LSM_SETID_FS`, i.e. `setfsuid`, and is not applied here.)
pub fn cap_task_fix_setuid(new: &mut Cred, old: &Cred) {
    if new.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
        return;
    }
    // cap_emulate_setxuid: leaving root entirely drops permitted, effective and ambient,
    // unless keep-caps is set (which keeps permitted, still clearing ambient).
    if (old.uid == 0 || old.euid == 0 || old.suid == 0) && new.uid != 0 && new.euid != 0 && new.suid != 0 {
        if new.securebits & SECBIT_KEEP_CAPS == 0 {
            new.cap_permitted = 0;
            new.cap_effective = 0;
        }
        new.cap_ambient = 0;
    }
    if old.euid == 0 && new.euid != 0 {
        new.cap_effective = 0;
    }
    if old.euid != 0 && new.euid == 0 {
        new.cap_effective = new.cap_permitted;
    }
}
