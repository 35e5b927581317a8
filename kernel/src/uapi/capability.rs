//! `include/uapi/linux/capability.h` and `include/uapi/linux/securebits.h` as of 4.3.

pub const _LINUX_CAPABILITY_VERSION_1: u32 = 0x1998_0330;
pub const _LINUX_CAPABILITY_U32S_1: usize = 1;
pub const _LINUX_CAPABILITY_VERSION_2: u32 = 0x2007_1026;
pub const _LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
pub const _LINUX_CAPABILITY_U32S_3: usize = 2;

/// Capability names in number order; `CAP_AUDIT_READ` (37) is the last one in 4.3.
pub const CAP_NAMES: [&str; 38] = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
];

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_SYS_MODULE: u32 = 16;
pub const CAP_SYS_RAWIO: u32 = 17;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_SETFCAP: u32 = 31;
pub const CAP_LAST_CAP: u32 = 37;

/// `CAP_FULL_SET` for 4.3: bits 0..=CAP_LAST_CAP.
pub const CAP_FULL_SET: u64 = (1u64 << (CAP_LAST_CAP + 1)) - 1;
/// `CAP_FS_SET`: the capabilities that follow fsuid changes (`cap_fs_mask`).
pub const CAP_FS_SET: u64 = (1 << CAP_CHOWN) | (1 << CAP_MKNOD) | (1 << CAP_DAC_OVERRIDE)
    | (1 << CAP_DAC_READ_SEARCH) | (1 << CAP_FOWNER) | (1 << CAP_FSETID) | (1 << CAP_LINUX_IMMUTABLE);
pub const CAP_LINUX_IMMUTABLE_BIT: u64 = 1 << CAP_LINUX_IMMUTABLE;

/// Looks a capability up by name (`"CAP_NET_RAW"`).
pub fn cap_from_name(name: &str) -> Option<u32> {
    CAP_NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

pub const SECURE_NOROOT: u32 = 0;
pub const SECURE_NOROOT_LOCKED: u32 = 1;
pub const SECURE_NO_SETUID_FIXUP: u32 = 2;
pub const SECURE_NO_SETUID_FIXUP_LOCKED: u32 = 3;
pub const SECURE_KEEP_CAPS: u32 = 4;
pub const SECURE_KEEP_CAPS_LOCKED: u32 = 5;
pub const SECURE_NO_CAP_AMBIENT_RAISE: u32 = 6;
pub const SECURE_NO_CAP_AMBIENT_RAISE_LOCKED: u32 = 7;

pub const SECBIT_NOROOT: u32 = 1 << SECURE_NOROOT;
pub const SECBIT_NOROOT_LOCKED: u32 = 1 << SECURE_NOROOT_LOCKED;
pub const SECBIT_NO_SETUID_FIXUP: u32 = 1 << SECURE_NO_SETUID_FIXUP;
pub const SECBIT_NO_SETUID_FIXUP_LOCKED: u32 = 1 << SECURE_NO_SETUID_FIXUP_LOCKED;
pub const SECBIT_KEEP_CAPS: u32 = 1 << SECURE_KEEP_CAPS;
pub const SECBIT_KEEP_CAPS_LOCKED: u32 = 1 << SECURE_KEEP_CAPS_LOCKED;
pub const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << SECURE_NO_CAP_AMBIENT_RAISE;
pub const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: u32 = 1 << SECURE_NO_CAP_AMBIENT_RAISE_LOCKED;
/// `SECURE_ALL_BITS`: the feature bits of 4.3.
pub const SECURE_ALL_BITS: u32 = SECBIT_NOROOT | SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS | SECBIT_NO_CAP_AMBIENT_RAISE;
/// `SECURE_ALL_LOCKS`: each feature bit's lock, one bit above it.
pub const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;
/// The securebits names in bit order, as strace prints them.
pub const SECBIT_NAMES: &[(&str, u32)] = &[
    ("SECBIT_NOROOT", SECBIT_NOROOT),
    ("SECBIT_NOROOT_LOCKED", SECBIT_NOROOT_LOCKED),
    ("SECBIT_NO_SETUID_FIXUP", SECBIT_NO_SETUID_FIXUP),
    ("SECBIT_NO_SETUID_FIXUP_LOCKED", SECBIT_NO_SETUID_FIXUP_LOCKED),
    ("SECBIT_KEEP_CAPS", SECBIT_KEEP_CAPS),
    ("SECBIT_KEEP_CAPS_LOCKED", SECBIT_KEEP_CAPS_LOCKED),
    ("SECBIT_NO_CAP_AMBIENT_RAISE", SECBIT_NO_CAP_AMBIENT_RAISE),
    ("SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED", SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED),
];

/// `cap_valid`: 0..=CAP_LAST_CAP (the argument is an unsigned long).
pub fn cap_valid(cap: u64) -> bool {
    cap <= CAP_LAST_CAP as u64
}
