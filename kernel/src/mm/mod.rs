//! Memory management (Linux's `mm/`): page frames with reference counts, address spaces
//! made of VMAs, the one fault handler, the page cache of ramfs files and shared
//! anonymous memory, and the `mmap`/`munmap`/`mprotect`/`madvise`/`brk` system calls.
//!
//! | file | Linux | what |
//! | --- | --- | --- |
//! | `frame.rs` | `mm/page_alloc.c` | frames and their reference counts |
//! | `mod.rs` | `include/linux/mm_types.h` | [`Mm`], [`Vma`], [`Pte`], the exec layout |
//! | `memory.rs` | `mm/memory.c` | [`handle_mm_fault`], copy-on-write, zapping, `fork`'s copy |
//! | `filemap.rs` | `mm/filemap.c`, `mm/shmem.c` | the page cache and the zero page |
//! | `mmap.rs` | `mm/mmap.c`, `mm/util.c` | `mmap`, `munmap`, `brk`, the address search, VMA split/merge |
//! | `mprotect.rs` | `mm/mprotect.c` | `mprotect` |
//! | `madvise.rs` | `mm/madvise.c` | `madvise` |
//! | `uaccess.rs` | `arch/*/lib/usercopy*` | `copy_{from,to}_user`, `get_user`/`put_user`, `strncpy_from_user` |
//!
//! The layout is x86_64's without randomisation (the seed drives every choice, not ASLR):
//! `TASK_SIZE` 0x7ffffffff000, the stack just below it, `mmap_base` 128 MiB under the
//! stack top with mappings searched top-down from there, programs at `ELF_ET_DYN_BASE`
//! (0x555555554000) with the heap right after them. arm64 hosts use the same layout
//! (only their syscall numbers differ in k43).

pub mod filemap;
pub mod frame;
pub mod madvise;
pub mod memory;
pub mod memremap;
pub mod mmap;
pub mod mprotect;
pub mod slab;
pub mod touch;
pub mod uaccess;

pub use memory::{handle_mm_fault, FaultError, MemEnv};

use crate::fs::Ino;
use crate::hal::{AddressSpaceId, Hal, PhysAddr, VirtAddr, PAGE_SIZE};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// `TASK_SIZE` on x86_64 (47-bit user half minus one guard page).
pub const TASK_SIZE: u64 = 0x0000_7fff_ffff_f000;
/// Top of the user stack (no randomisation: the seed drives every choice, not ASLR yet).
pub const STACK_TOP: u64 = 0x0000_7fff_ffff_f000;
/// `RLIMIT_STACK` default: 8 MiB.
pub const STACK_SIZE: u64 = 8 << 20;
/// `MIN_GAP` of x86's `mmap_base`: the stack rlimit is raised to at least 128 MiB.
pub const MMAP_MIN_GAP: u64 = 128 << 20;
/// Where a PIE program is loaded without randomisation: `ELF_ET_DYN_BASE` =
/// `TASK_SIZE / 3 * 2`, page aligned.
pub const ELF_ET_DYN_BASE: u64 = (TASK_SIZE / 3 * 2) & !(PAGE_SIZE - 1);
/// `TASK_UNMAPPED_BASE`: where the bottom-up (legacy) search starts.
pub const TASK_UNMAPPED_BASE: u64 = (TASK_SIZE / 3 + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
/// `DEFAULT_MAX_MAP_COUNT` (`vm.max_map_count`).
pub const DEFAULT_MAX_MAP_COUNT: i64 = 65530;
/// `RLIMIT_MEMLOCK` default (`MLOCK_LIMIT`): 64 KiB.
pub const RLIMIT_MEMLOCK: u64 = 64 * 1024;
/// `CONFIG_DEFAULT_MMAP_MIN_ADDR`.
pub const DEFAULT_MMAP_MIN_ADDR: u64 = 4096;

/// `vm_flags` bits (`include/linux/mm.h`, 4.3 values).
pub const VM_READ: u64 = 0x0000_0001;
pub const VM_WRITE: u64 = 0x0000_0002;
pub const VM_EXEC: u64 = 0x0000_0004;
pub const VM_SHARED: u64 = 0x0000_0008;
pub const VM_MAYREAD: u64 = 0x0000_0010;
pub const VM_MAYWRITE: u64 = 0x0000_0020;
pub const VM_MAYEXEC: u64 = 0x0000_0040;
pub const VM_MAYSHARE: u64 = 0x0000_0080;
pub const VM_GROWSDOWN: u64 = 0x0000_0100;
/// The VMA is registered with a userfaultfd for missing-page faults.
pub const VM_UFFD_MISSING: u64 = 0x0000_0200;
pub const VM_PFNMAP: u64 = 0x0000_0400;
pub const VM_DENYWRITE: u64 = 0x0000_0800;
/// The VMA is registered with a userfaultfd for write-protect faults (never set in 4.3).
pub const VM_UFFD_WP: u64 = 0x0000_1000;
pub const VM_LOCKED: u64 = 0x0000_2000;
pub const VM_IO: u64 = 0x0000_4000;
pub const VM_SEQ_READ: u64 = 0x0000_8000;
pub const VM_RAND_READ: u64 = 0x0001_0000;
pub const VM_DONTCOPY: u64 = 0x0002_0000;
pub const VM_DONTEXPAND: u64 = 0x0004_0000;
pub const VM_ACCOUNT: u64 = 0x0010_0000;
pub const VM_NORESERVE: u64 = 0x0020_0000;
pub const VM_HUGETLB: u64 = 0x0040_0000;
pub const VM_DONTDUMP: u64 = 0x0400_0000;
pub const VM_MIXEDMAP: u64 = 0x1000_0000;
pub const VM_HUGEPAGE: u64 = 0x2000_0000;
pub const VM_NOHUGEPAGE: u64 = 0x4000_0000;
pub const VM_MERGEABLE: u64 = 0x8000_0000;
/// `VM_GROWSUP` is `VM_NONE` on x86 and arm64.
pub const VM_GROWSUP: u64 = 0;
/// `VM_SPECIAL`: mappings the core VM must not touch page by page.
pub const VM_SPECIAL: u64 = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
/// `VM_DATA_DEFAULT_FLAGS` on x86 (no `READ_IMPLIES_EXEC`): the heap's flags.
pub const VM_DATA_DEFAULT_FLAGS: u64 = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

/// Rounds up to a page; `None` on overflow (`PAGE_ALIGN` would wrap to 0).
pub fn page_align(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

/// The object a shared or file mapping maps (`struct address_space`): a ramfs inode, or
/// the shmem object behind one `MAP_SHARED|MAP_ANONYMOUS` mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mapping {
    /// A ramfs regular file.
    Ram(Ino),
    /// Shared anonymous memory (`shmem_zero_setup`'s `/dev/zero` object).
    Shmem(u64),
    /// A DAX mapping of a pmem disk: page `pgoff` is the device pfn
    /// `phys_base / PAGE_SIZE + pgoff`, for `pgoff < pages`; no page cache behind it.
    Dax { phys_base: PhysAddr, pages: u64 },
}

/// `vma->vm_file`: what a file-backed VMA maps and how `/proc/<pid>/maps` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmFile {
    /// Identity of the `struct file` (two mmaps of one open file may merge; of two opens
    /// may not): the open file description's id, or a fresh id for shmem and exec.
    pub file_id: u64,
    /// The page-cache object.
    pub mapping: Mapping,
    /// `s_dev` of the inode's filesystem.
    pub dev: u64,
    /// `i_ino`.
    pub ino: u64,
    /// The path `d_path` prints (without the ` (deleted)` suffix).
    pub path: String,
}

/// `struct vm_area_struct`: `[start, end)` with one set of flags and one backing.
#[derive(Clone, Debug)]
pub struct Vma {
    pub start: VirtAddr,
    pub end: VirtAddr,
    /// `VM_*` bits.
    pub flags: u64,
    /// `vm_pgoff`: the file offset in pages (for anonymous private memory, `start >> 12`
    /// at creation, as Linux sets it for `anon_vma` merging).
    pub pgoff: u64,
    /// The mapped file or shmem object.
    pub file: Option<VmFile>,
    /// Identity of the `anon_vma` once an anonymous page was faulted in (merging needs
    /// compatible ones).
    pub anon_vma: Option<u64>,
    /// `vm_userfaultfd_ctx`: the userfaultfd context this VMA is registered with; non-`None`
    /// exactly when `VM_UFFD_MISSING` or `VM_UFFD_WP` is set.
    pub uffd_ctx: Option<u64>,
}

impl Vma {
    /// Pages in the VMA.
    pub fn pages(&self) -> u64 {
        (self.end - self.start) / PAGE_SIZE
    }

    /// The file page offset of page address `va` (inside the VMA).
    pub fn pgoff_of(&self, va: VirtAddr) -> u64 {
        self.pgoff.wrapping_add((va - self.start) / PAGE_SIZE)
    }

    /// Whether the VMA allows none of read, write, execute (`PROT_NONE`).
    pub fn inaccessible(&self) -> bool {
        self.flags & (VM_READ | VM_WRITE | VM_EXEC) == 0
    }

    /// `is_cow_mapping`: private and possibly writable.
    pub fn is_cow(&self) -> bool {
        self.flags & (VM_SHARED | VM_MAYWRITE) == VM_MAYWRITE
    }
}

/// What a page-table entry maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    /// An anonymous page (private to the COW group sharing it).
    Anon,
    /// A page-cache page (file or shmem), shared with the cache.
    Cache,
    /// The shared zero page a read of untouched anonymous memory maps.
    Zero,
    /// A raw device pfn (`insert_pfn`'s special PTE, DAX): no frame, no reference, not
    /// counted in RSS.
    Pfn,
}

/// One present page of an address space: the kernel's record of the PTE (the HAL holds
/// the hardware one; a `PROT_NONE` VMA keeps its pages here but not in the HAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pte {
    pub pa: PhysAddr,
    /// Writable in hardware (a COW-shared or zero page is not, even in a writable VMA).
    pub write: bool,
    pub kind: PageKind,
}

/// `struct mm_struct`: one address space, shared by `CLONE_VM` tasks.
#[derive(Debug)]
pub struct Mm {
    pub asid: AddressSpaceId,
    /// VMAs sorted by address, never overlapping.
    pub vmas: Vec<Vma>,
    /// Present pages by page address.
    pub pages: BTreeMap<VirtAddr, Pte>,
    /// Tasks using it.
    pub users: u32,
    /// Peak resident pages (`VmHWM`).
    pub hiwater_rss: u64,
    /// Peak mapped pages (`VmPeak`).
    pub hiwater_vm: u64,
    /// `get_dumpable`: `SUID_DUMP_DISABLE` (0), `SUID_DUMP_USER` (1) or `SUID_DUMP_ROOT` (2).
    pub dumpable: u8,
    /// `start_brk`/`brk`: the heap is `[start_brk, brk)`.
    pub start_brk: VirtAddr,
    pub brk: VirtAddr,
    /// An address inside the main stack (what names it `[stack]`).
    pub start_stack: VirtAddr,
    /// Where the top-down search starts.
    pub mmap_base: VirtAddr,
    /// The program's text (`VmExe`).
    pub start_code: VirtAddr,
    pub end_code: VirtAddr,
    /// Next `anon_vma` id.
    pub next_anon_vma: u64,
}

impl Mm {
    /// `find_vma`: index of the first VMA ending above `addr`.
    pub fn find_vma(&self, addr: VirtAddr) -> Option<usize> {
        let i = self.vmas.partition_point(|v| v.end <= addr);
        (i < self.vmas.len()).then_some(i)
    }

    /// Index of the VMA containing `addr`.
    pub fn vma_index(&self, addr: VirtAddr) -> Option<usize> {
        self.find_vma(addr).filter(|&i| self.vmas[i].start <= addr)
    }

    /// The VMA containing `addr`.
    pub fn vma_at(&self, addr: VirtAddr) -> Option<&Vma> {
        self.vma_index(addr).map(|i| &self.vmas[i])
    }

    /// `find_vma_intersection`: whether any VMA overlaps `[start, end)`.
    pub fn intersects(&self, start: VirtAddr, end: VirtAddr) -> bool {
        self.find_vma(start).is_some_and(|i| self.vmas[i].start < end)
    }

    /// Resident pages (`VmRSS`): the zero page is not counted, as Linux's rss counters
    /// skip it.
    pub fn rss(&self) -> u64 {
        self.pages.values().filter(|p| !matches!(p.kind, PageKind::Zero | PageKind::Pfn)).count() as u64
    }

    /// Mapped pages (`total_vm`).
    pub fn total_vm(&self) -> u64 {
        self.vmas.iter().map(Vma::pages).sum()
    }

    /// Pages of `VM_LOCKED` VMAs (`locked_vm`).
    pub fn locked_vm(&self) -> u64 {
        self.vmas.iter().filter(|v| v.flags & VM_LOCKED != 0).map(Vma::pages).sum()
    }

    /// Updates the high-water marks after a change.
    pub fn update_hiwater(&mut self) {
        self.hiwater_vm = self.hiwater_vm.max(self.total_vm());
        self.hiwater_rss = self.hiwater_rss.max(self.rss());
    }

    /// A fresh `anon_vma` id.
    pub fn new_anon_vma(&mut self) -> u64 {
        self.next_anon_vma += 1;
        self.next_anon_vma
    }

    /// Every object mapped by some VMA.
    pub fn mappings(&self) -> impl Iterator<Item = Mapping> + '_ {
        self.vmas.iter().filter_map(|v| v.file.as_ref().map(|f| f.mapping))
    }
}

/// Creates an address space with the standard exec layout: an 8 MiB stack VMA (Linux's
/// starts small and grows; k43's is made at its rlimit size and does not grow, so it is
/// not charged against overcommit like a growing stack), the heap empty at
/// `ELF_ET_DYN_BASE`.
pub fn mm_alloc<H: Hal>(hal: &H) -> Result<Mm, Errno> {
    let asid = hal.create_address_space().map_err(|_| Errno::ENOMEM)?;
    let start = STACK_TOP - STACK_SIZE;
    let stack = Vma { start, end: STACK_TOP, flags: VM_DATA_DEFAULT_FLAGS | VM_GROWSDOWN, pgoff: start / PAGE_SIZE, file: None, anon_vma: None, uffd_ctx: None };
    Ok(Mm {
        asid,
        vmas: alloc::vec![stack],
        pages: BTreeMap::new(),
        users: 1,
        hiwater_rss: 0,
        hiwater_vm: STACK_SIZE / PAGE_SIZE,
        dumpable: 1,
        start_brk: ELF_ET_DYN_BASE,
        brk: ELF_ET_DYN_BASE,
        start_stack: STACK_TOP - PAGE_SIZE,
        mmap_base: STACK_TOP - MMAP_MIN_GAP,
        start_code: 0,
        end_code: 0,
        next_anon_vma: 0,
    })
}
