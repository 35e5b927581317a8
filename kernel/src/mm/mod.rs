//! Memory management: page frames, address spaces with VMAs, the fault handler.
//!
//! The foundation keeps only anonymous private memory (the stack and a scratch area set up
//! at exec), faulted in on demand and copied eagerly on fork; mmap, COW and file mappings
//! arrive with the mm issue and extend [`Mm`] and [`handle_mm_fault`].

pub mod frame;
pub mod uaccess;

use crate::hal::{AddressSpaceId, Hal, PteFlags, VirtAddr, PAGE_SIZE};
use crate::uapi::Errno;
use alloc::vec::Vec;
use frame::FrameAllocator;

/// `TASK_SIZE` on x86_64 (47-bit user half minus one guard page).
pub const TASK_SIZE: u64 = 0x0000_7fff_ffff_f000;
/// Top of the user stack (no randomisation: the seed drives every choice, not ASLR yet).
pub const STACK_TOP: u64 = 0x0000_7fff_ffff_f000;
/// `RLIMIT_STACK` default: 8 MiB.
pub const STACK_SIZE: u64 = 8 << 20;

/// VM flags (`VM_READ`…) a mapping carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmFlags {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

/// `struct vm_area_struct`: a range of anonymous private memory.
#[derive(Clone, Debug)]
pub struct Vma {
    pub start: VirtAddr,
    pub end: VirtAddr,
    pub flags: VmFlags,
    /// What `/proc/<pid>/maps` names it (`[stack]`).
    pub name: &'static str,
}

/// `struct mm_struct`: one address space, shared by `CLONE_VM` tasks.
#[derive(Debug)]
pub struct Mm {
    pub asid: AddressSpaceId,
    pub vmas: Vec<Vma>,
    /// Frames mapped into this space, by page address (to free and to copy on fork).
    pub pages: alloc::collections::BTreeMap<VirtAddr, u64>,
    /// Tasks using it.
    pub users: u32,
    /// Peak resident bytes (`VmHWM`).
    pub hiwater_rss: u64,
    /// Peak mapped bytes (`VmPeak`).
    pub hiwater_vm: u64,
    /// `get_dumpable`: `SUID_DUMP_DISABLE` (0), `SUID_DUMP_USER` (1) or `SUID_DUMP_ROOT` (2).
    pub dumpable: u8,
}

impl Mm {
    /// The VMA containing `addr`.
    pub fn find_vma(&self, addr: VirtAddr) -> Option<&Vma> {
        self.vmas.iter().find(|v| v.start <= addr && addr < v.end)
    }
}

/// Creates an address space with the standard exec layout: an 8 MiB stack VMA.
pub fn mm_alloc<H: Hal>(hal: &H) -> Result<Mm, Errno> {
    let asid = hal.create_address_space().map_err(|_| Errno::ENOMEM)?;
    let rw = VmFlags { read: true, write: true, exec: false };
    Ok(Mm {
        asid,
        vmas: alloc::vec![Vma { start: STACK_TOP - STACK_SIZE, end: STACK_TOP, flags: rw, name: "[stack]" }],
        pages: Default::default(),
        users: 1,
        hiwater_rss: 0,
        hiwater_vm: STACK_SIZE,
        dumpable: 1,
    })
}

/// Frees every frame and the page tables of an address space.
pub fn mm_release<H: Hal>(hal: &H, frames: &mut FrameAllocator, mm: Mm) {
    for (va, pa) in mm.pages {
        hal.unmap_page(mm.asid, va);
        frames.free(pa);
    }
    hal.destroy_address_space(mm.asid);
}

/// `dup_mmap` without COW: copies every VMA and every present page.
pub fn dup_mm<H: Hal>(hal: &H, frames: &mut FrameAllocator, old: &Mm) -> Result<Mm, Errno> {
    let asid = hal.create_address_space().map_err(|_| Errno::ENOMEM)?;
    let mut new = Mm { asid, vmas: old.vmas.clone(), pages: Default::default(), users: 1, hiwater_rss: old.hiwater_rss, hiwater_vm: old.hiwater_vm, dumpable: old.dumpable };
    for (&va, &src) in &old.pages {
        let Some(dst) = frames.alloc() else {
            mm_release(hal, frames, new);
            return Err(Errno::ENOMEM);
        };
        hal.phys_copy_frame(dst, src);
        let flags = old.find_vma(va).map(|v| pte_flags(v.flags)).unwrap_or_default();
        if hal.map_page(asid, va, dst, flags).is_err() {
            frames.free(dst);
            mm_release(hal, frames, new);
            return Err(Errno::ENOMEM);
        }
        new.pages.insert(va, dst);
    }
    Ok(new)
}

fn pte_flags(f: VmFlags) -> PteFlags {
    PteFlags { write: f.write, user: true, exec: f.exec }
}

/// Outcome of a fault that could not be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No VMA, or the access is not allowed by it: `SIGSEGV` for user mode, `-EFAULT`
    /// for a kernel copy.
    Segv,
    /// Out of memory.
    Oom,
}

/// `handle_mm_fault` for anonymous memory: a missing page inside a VMA that allows the
/// access is backed by a fresh zeroed frame.
pub fn handle_mm_fault<H: Hal>(hal: &H, frames: &mut FrameAllocator, mm: &mut Mm, addr: VirtAddr, write: bool) -> Result<(), FaultError> {
    let vma = mm.find_vma(addr).ok_or(FaultError::Segv)?;
    if (write && !vma.flags.write) || (!write && !vma.flags.read) {
        return Err(FaultError::Segv);
    }
    let flags = pte_flags(vma.flags);
    let page = addr & !(PAGE_SIZE - 1);
    if mm.pages.contains_key(&page) {
        // Present already: the fault was a permission fault the VMA does not allow.
        return Err(FaultError::Segv);
    }
    let pa = frames.alloc().ok_or(FaultError::Oom)?;
    hal.phys_zero_frame(pa);
    if hal.map_page(mm.asid, page, pa, flags).is_err() {
        frames.free(pa);
        return Err(FaultError::Oom);
    }
    mm.pages.insert(page, pa);
    mm.hiwater_rss = mm.hiwater_rss.max(mm.pages.len() as u64 * PAGE_SIZE);
    Ok(())
}
