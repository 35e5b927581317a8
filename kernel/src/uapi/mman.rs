//! `include/uapi/asm-generic/mman-common.h`, `mman.h` and x86's `asm/mman.h`: the
//! `mmap`/`mprotect`/`madvise` constants. x86_64 and arm64 agree on every value here
//! except `MAP_32BIT`, which only x86_64 has (arm64 ignores the bit).

pub const PROT_NONE: u64 = 0x0;
pub const PROT_READ: u64 = 0x1;
pub const PROT_WRITE: u64 = 0x2;
pub const PROT_EXEC: u64 = 0x4;
/// Page may be used for atomic ops (accepted by `mprotect`, no effect).
pub const PROT_SEM: u64 = 0x8;
/// `mprotect`: extend the change down to the start of a growsdown VMA.
pub const PROT_GROWSDOWN: u64 = 0x0100_0000;
/// `mprotect`: extend the change up to the end of a growsup VMA.
pub const PROT_GROWSUP: u64 = 0x0200_0000;

pub const MAP_SHARED: u64 = 0x01;
pub const MAP_PRIVATE: u64 = 0x02;
/// Mask for the mapping type (`MAP_SHARED`/`MAP_PRIVATE`).
pub const MAP_TYPE: u64 = 0x0f;
pub const MAP_FIXED: u64 = 0x10;
pub const MAP_ANONYMOUS: u64 = 0x20;
/// x86_64 only: place the mapping in the first 2 GiB.
pub const MAP_32BIT: u64 = 0x40;
pub const MAP_GROWSDOWN: u64 = 0x0100;
pub const MAP_DENYWRITE: u64 = 0x0800;
pub const MAP_EXECUTABLE: u64 = 0x1000;
pub const MAP_LOCKED: u64 = 0x2000;
pub const MAP_NORESERVE: u64 = 0x4000;
pub const MAP_POPULATE: u64 = 0x8000;
pub const MAP_NONBLOCK: u64 = 0x1_0000;
pub const MAP_STACK: u64 = 0x2_0000;
pub const MAP_HUGETLB: u64 = 0x4_0000;

pub const MADV_NORMAL: u64 = 0;
pub const MADV_RANDOM: u64 = 1;
pub const MADV_SEQUENTIAL: u64 = 2;
pub const MADV_WILLNEED: u64 = 3;
pub const MADV_DONTNEED: u64 = 4;
pub const MADV_REMOVE: u64 = 9;
pub const MADV_DONTFORK: u64 = 10;
pub const MADV_DOFORK: u64 = 11;
pub const MADV_MERGEABLE: u64 = 12;
pub const MADV_UNMERGEABLE: u64 = 13;
pub const MADV_HUGEPAGE: u64 = 14;
pub const MADV_NOHUGEPAGE: u64 = 15;
pub const MADV_DONTDUMP: u64 = 16;
pub const MADV_DODUMP: u64 = 17;
pub const MADV_HWPOISON: u64 = 100;
pub const MADV_SOFT_OFFLINE: u64 = 101;

/// `madvise` advice names, as strace prints them.
pub const MADV_NAMES: &[(&str, u64)] = &[
    ("MADV_NORMAL", MADV_NORMAL),
    ("MADV_RANDOM", MADV_RANDOM),
    ("MADV_SEQUENTIAL", MADV_SEQUENTIAL),
    ("MADV_WILLNEED", MADV_WILLNEED),
    ("MADV_DONTNEED", MADV_DONTNEED),
    ("MADV_REMOVE", MADV_REMOVE),
    ("MADV_DONTFORK", MADV_DONTFORK),
    ("MADV_DOFORK", MADV_DOFORK),
    ("MADV_MERGEABLE", MADV_MERGEABLE),
    ("MADV_UNMERGEABLE", MADV_UNMERGEABLE),
    ("MADV_HUGEPAGE", MADV_HUGEPAGE),
    ("MADV_NOHUGEPAGE", MADV_NOHUGEPAGE),
    ("MADV_DONTDUMP", MADV_DONTDUMP),
    ("MADV_DODUMP", MADV_DODUMP),
    ("MADV_HWPOISON", MADV_HWPOISON),
    ("MADV_SOFT_OFFLINE", MADV_SOFT_OFFLINE),
];
