//! `mm/memory.c`: the one fault handler every backend's user accesses end in, copy-on-write,
//! unmapping page ranges, and `fork`'s copy of the page tables.
//!
//! Kinds of fault [`handle_mm_fault`] resolves, as 4.3 does:
//! - missing anonymous page: a read maps the shared zero page read-only, a write a fresh
//!   zeroed page (`do_anonymous_page`); with `VM_UFFD_MISSING` the fault is handed to
//!   userfaultfd instead ([`FaultError::Userfault`]);
//! - missing file or shmem page: the page-cache page, shared (`MAP_SHARED`: writable if
//!   the VMA is) or read-only private; a private write copies it at once (`do_cow_fault`);
//!   past the end of the file it is `SIGBUS`;
//! - write to a present read-only page of a writable VMA (`do_wp_page`): shared → made
//!   writable; an anonymous page nobody else maps → reused; otherwise copied.

use super::filemap::PageCache;
use super::frame::FrameAllocator;
use super::*;
use crate::fs::ramfs::Ramfs;
use crate::hal::{Hal, MmuError, PteFlags};

/// Why a fault was not resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No VMA, or the VMA does not allow the access: `SIGSEGV` in user mode, `-EFAULT`
    /// for a kernel copy.
    Segv,
    /// Past the end of a file mapping: `SIGBUS` in user mode, `-EFAULT` for a kernel copy.
    Sigbus,
    /// Out of memory (`VM_FAULT_OOM`).
    Oom,
    /// A missing page in a `VM_UFFD_MISSING` VMA: the fault must wait until the
    /// userfaultfd handler resolves it (`handle_userfault` → `VM_FAULT_RETRY`). The caller
    /// parks the task and retries the access after the wakeup.
    Userfault,
}

/// What the fault handler works with besides the address space: the HAL's MMU, the frame
/// allocator, the page cache, and the files page-cache pages are filled from.
pub struct MemEnv<'a, H: Hal> {
    pub hal: &'a H,
    pub frames: &'a mut FrameAllocator,
    pub cache: &'a mut PageCache,
    pub ram: &'a Ramfs,
}

/// Writes the kernel's PTE record for `va` into the HAL: mapped with the VMA's
/// permissions (write only if the PTE is writable), or not at all for a `PROT_NONE` VMA.
pub fn set_hw_pte<H: Hal>(hal: &H, asid: AddressSpaceId, va: VirtAddr, pte: &Pte, vma_flags: u64) -> Result<(), MmuError> {
    if vma_flags & (VM_READ | VM_WRITE | VM_EXEC) == 0 {
        hal.unmap_page(asid, va);
        return Ok(());
    }
    let flags = PteFlags { write: pte.write && vma_flags & VM_WRITE != 0, user: true, exec: vma_flags & VM_EXEC != 0 };
    hal.map_page(asid, va, pte.pa, flags)
}

fn mmu_err(e: MmuError) -> FaultError {
    match e {
        // The backend cannot map this address at all (hal-x86 below 1 GiB).
        MmuError::BadAddress => FaultError::Segv,
        MmuError::NoMemory | MmuError::NoAddressSpace => FaultError::Oom,
    }
}

/// `anon_vma_prepare`: gives the VMA an `anon_vma`, reusing an adjacent VMA's when the two
/// could share one (`find_mergeable_anon_vma`: same backing, contiguous offsets, flags
/// equal but for read/write/exec).
fn anon_vma_prepare(mm: &mut Mm, idx: usize) {
    if mm.vmas[idx].anon_vma.is_some() {
        return;
    }
    let compatible = |a: &Vma, b: &Vma| {
        a.end == b.start
            && a.file == b.file
            && (a.flags ^ b.flags) & !(VM_READ | VM_WRITE | VM_EXEC) == 0
            && a.pgoff.wrapping_add(a.pages()) == b.pgoff
    };
    let v = &mm.vmas[idx];
    let from_next = mm.vmas.get(idx + 1).filter(|n| compatible(v, n)).and_then(|n| n.anon_vma);
    let from_prev = idx.checked_sub(1).map(|p| &mm.vmas[p]).filter(|p| compatible(p, v)).and_then(|p| p.anon_vma);
    let id = match from_next.or(from_prev) {
        Some(id) => id,
        None => mm.new_anon_vma(),
    };
    mm.vmas[idx].anon_vma = Some(id);
}

/// Installs `pte` at `page` in the HAL and the record; on a HAL failure the reference
/// the PTE would hold is dropped again.
fn install<H: Hal>(env: &mut MemEnv<'_, H>, mm: &mut Mm, page: VirtAddr, pte: Pte, vma_flags: u64) -> Result<(), FaultError> {
    if let Err(e) = set_hw_pte(env.hal, mm.asid, page, &pte, vma_flags) {
        if takes_ref(pte.kind) {
            env.frames.put(pte.pa);
        }
        return Err(mmu_err(e));
    }
    mm.pages.insert(page, pte);
    mm.update_hiwater();
    Ok(())
}

/// `mfill_atomic_pte`'s last step for userfaultfd: installs `pte` at `page` with the
/// VMA's flags (on failure the PTE's frame reference is dropped).
pub fn install_pte<H: Hal>(env: &mut MemEnv<'_, H>, mm: &mut Mm, page: VirtAddr, pte: Pte) -> Result<(), FaultError> {
    let flags = mm.vma_at(page).map(|v| v.flags).ok_or(FaultError::Segv)?;
    install(env, mm, page, pte, flags)
}

/// Whether a PTE of this kind holds a reference on its frame (the zero page and device
/// pfns do not).
pub fn takes_ref(kind: PageKind) -> bool {
    !matches!(kind, PageKind::Zero | PageKind::Pfn)
}

/// A fresh frame holding a copy of `src` (zeroes for the zero page).
fn copy_page<H: Hal>(env: &mut MemEnv<'_, H>, src: Option<PhysAddr>) -> Result<PhysAddr, FaultError> {
    let pa = env.frames.alloc().ok_or(FaultError::Oom)?;
    match src {
        Some(s) => env.hal.phys_copy_frame(pa, s),
        None => env.hal.phys_zero_frame(pa),
    }
    Ok(pa)
}

/// A fresh RAM frame holding a copy of the persistent-memory page at `src` (`cow_user_page`
/// from a device pfn: the source is read through the kernel's mapping of the media).
fn copy_pmem_page<H: Hal>(env: &mut MemEnv<'_, H>, src: PhysAddr) -> Result<PhysAddr, FaultError> {
    let mut buf = alloc::vec![0u8; PAGE_SIZE as usize];
    env.hal.pmem_read(src, &mut buf).map_err(|_| FaultError::Sigbus)?;
    let pa = env.frames.alloc().ok_or(FaultError::Oom)?;
    env.hal.phys_write(pa, &buf);
    Ok(pa)
}

/// `handle_mm_fault`: resolves a fault at `addr` of `mm` (a load, or a store when
/// `write`). The single entry for faults from every backend: hal-sim's and hal-x86's user
/// copies both end here through the kernel's uaccess layer.
pub fn handle_mm_fault<H: Hal>(env: &mut MemEnv<'_, H>, mm: &mut Mm, addr: VirtAddr, write: bool) -> Result<(), FaultError> {
    let idx = mm.vma_index(addr).ok_or(FaultError::Segv)?;
    let flags = mm.vmas[idx].flags;
    // x86's access_error: a store needs VM_WRITE; a load any of read, write, execute.
    if write && flags & VM_WRITE == 0 {
        return Err(FaultError::Segv);
    }
    if !write && flags & (VM_READ | VM_WRITE | VM_EXEC) == 0 {
        return Err(FaultError::Segv);
    }
    let page = addr & !(PAGE_SIZE - 1);
    if let Some(&pte) = mm.pages.get(&page) {
        if !write || pte.write {
            // Spurious (another path mapped it already): make sure the HAL agrees.
            return set_hw_pte(env.hal, mm.asid, page, &pte, flags).map_err(mmu_err);
        }
        return do_wp_page(env, mm, idx, page, pte);
    }
    let vma = &mm.vmas[idx];
    match vma.file.as_ref().map(|f| f.mapping) {
        None => {
            if flags & VM_UFFD_MISSING != 0 {
                return Err(FaultError::Userfault);
            }
            if write {
                anon_vma_prepare(mm, idx);
                let pa = copy_page(env, None)?;
                install(env, mm, page, Pte { pa, write: true, kind: PageKind::Anon }, flags)
            } else {
                let pa = env.cache.zero_page(env.hal, env.frames).ok_or(FaultError::Oom)?;
                install(env, mm, page, Pte { pa, write: false, kind: PageKind::Zero }, flags)
            }
        }
        Some(Mapping::Dax { phys_base, pages }) => {
            // dax_fault: past the end of the device is SIGBUS; a shared mapping gets the
            // pfn itself (writable if the VMA is), a private load the pfn read-only, a
            // private store a copy in RAM.
            let pgoff = vma.pgoff_of(page);
            if pgoff >= pages {
                return Err(FaultError::Sigbus);
            }
            let pa = phys_base.checked_add(pgoff * PAGE_SIZE).ok_or(FaultError::Sigbus)?;
            if flags & VM_SHARED == 0 && write {
                anon_vma_prepare(mm, idx);
                let copy = copy_pmem_page(env, pa)?;
                return install(env, mm, page, Pte { pa: copy, write: true, kind: PageKind::Anon }, flags);
            }
            let w = flags & VM_SHARED != 0 && flags & VM_WRITE != 0;
            install(env, mm, page, Pte { pa, write: w, kind: PageKind::Pfn }, flags)
        }
        Some(mapping) => {
            let pgoff = vma.pgoff_of(page);
            if let Mapping::Ram(ino) = mapping {
                // filemap_fault: a page wholly past EOF is SIGBUS.
                let size = env.ram.get(ino).map(|i| match &i.data {
                    crate::fs::InodeData::Reg(d) => d.len() as u64,
                    _ => 0,
                });
                let pages = size.map(|s| s.div_ceil(PAGE_SIZE)).unwrap_or(0);
                if pgoff >= pages {
                    return Err(FaultError::Sigbus);
                }
            }
            let cached = env.cache.find_or_create(env.hal, env.frames, env.ram, mapping, pgoff).ok_or(FaultError::Oom)?;
            if flags & VM_SHARED != 0 {
                env.frames.get(cached);
                install(env, mm, page, Pte { pa: cached, write: flags & VM_WRITE != 0, kind: PageKind::Cache }, flags)
            } else if write {
                anon_vma_prepare(mm, idx);
                let pa = copy_page(env, Some(cached))?;
                install(env, mm, page, Pte { pa, write: true, kind: PageKind::Anon }, flags)
            } else {
                env.frames.get(cached);
                install(env, mm, page, Pte { pa: cached, write: false, kind: PageKind::Cache }, flags)
            }
        }
    }
}

/// `do_wp_page`: a store to a present read-only page of a writable VMA.
fn do_wp_page<H: Hal>(env: &mut MemEnv<'_, H>, mm: &mut Mm, idx: usize, page: VirtAddr, pte: Pte) -> Result<(), FaultError> {
    let flags = mm.vmas[idx].flags;
    let reuse = flags & VM_SHARED != 0 || (pte.kind == PageKind::Anon && env.frames.refcount(pte.pa) == 1);
    if reuse {
        let new = Pte { write: true, ..pte };
        set_hw_pte(env.hal, mm.asid, page, &new, flags).map_err(mmu_err)?;
        mm.pages.insert(page, new);
        return Ok(());
    }
    // Break COW: copy into a page of our own, then let go of the shared one.
    anon_vma_prepare(mm, idx);
    let pa = if pte.kind == PageKind::Pfn {
        copy_pmem_page(env, pte.pa)?
    } else {
        copy_page(env, (pte.kind != PageKind::Zero).then_some(pte.pa))?
    };
    let new = Pte { pa, write: true, kind: PageKind::Anon };
    if let Err(e) = set_hw_pte(env.hal, mm.asid, page, &new, flags) {
        env.frames.put(pa);
        return Err(mmu_err(e));
    }
    mm.pages.insert(page, new);
    if takes_ref(pte.kind) {
        env.frames.put(pte.pa);
    }
    mm.update_hiwater();
    Ok(())
}

/// `zap_page_range`: unmaps every present page in `[start, end)`, dropping their
/// references. The VMAs stay.
pub fn zap_range<H: Hal>(hal: &H, frames: &mut FrameAllocator, mm: &mut Mm, start: VirtAddr, end: VirtAddr) {
    let pages: Vec<(VirtAddr, Pte)> = mm.pages.range(start..end).map(|(&v, &p)| (v, p)).collect();
    for (va, pte) in pages {
        hal.unmap_page(mm.asid, va);
        mm.pages.remove(&va);
        if takes_ref(pte.kind) {
            frames.put(pte.pa);
        }
    }
    hal.flush_tlb(mm.asid, None);
}

/// Re-derives the hardware PTEs of `[start, end)` after the VMA's flags changed
/// (`change_protection`): private pages lose write permission (a later store takes a
/// write fault that reuses or copies), shared ones follow the VMA.
pub fn change_protection<H: Hal>(hal: &H, mm: &mut Mm, start: VirtAddr, end: VirtAddr, vma_flags: u64) {
    let vas: Vec<VirtAddr> = mm.pages.range(start..end).map(|(&v, _)| v).collect();
    for va in vas {
        let Some(pte) = mm.pages.get_mut(&va) else { continue };
        pte.write = vma_flags & VM_SHARED != 0 && vma_flags & VM_WRITE != 0;
        let pte = *pte;
        // Remapping a page that was mapped before cannot need a new table.
        let _ = set_hw_pte(hal, mm.asid, va, &pte, vma_flags);
    }
    hal.flush_tlb(mm.asid, None);
}

/// `dup_mmap` + `copy_page_range`: the child's address space for `fork`. VMAs marked
/// `VM_DONTCOPY` (`MADV_DONTFORK`) are left out; `VM_LOCKED` and userfaultfd registration
/// are not inherited. Page tables are copied only for VMAs with anonymous pages (an
/// `anon_vma`) or raw pfns (`VM_PFNMAP`/`VM_MIXEDMAP`, which cannot be refaulted from a
/// page cache), as 4.3's `copy_page_range` does; the child refaults the rest from the page cache. Private
/// pages become copy-on-write: read-only in both, one more reference on the frame.
pub fn dup_mm<H: Hal>(hal: &H, frames: &mut FrameAllocator, old: &mut Mm) -> Result<Mm, Errno> {
    let asid = hal.create_address_space().map_err(|_| Errno::ENOMEM)?;
    let mut new = Mm {
        asid,
        vmas: Vec::new(),
        pages: BTreeMap::new(),
        users: 1,
        hiwater_rss: 0,
        hiwater_vm: 0,
        dumpable: old.dumpable,
        start_brk: old.start_brk,
        brk: old.brk,
        start_stack: old.start_stack,
        mmap_base: old.mmap_base,
        start_code: old.start_code,
        end_code: old.end_code,
        next_anon_vma: old.next_anon_vma,
    };
    for vma in old.vmas.iter().filter(|v| v.flags & VM_DONTCOPY == 0) {
        let mut v = vma.clone();
        v.flags &= !(VM_LOCKED | VM_UFFD_MISSING | VM_UFFD_WP);
        v.uffd_ctx = None;
        new.vmas.push(v);
    }
    let copy: Vec<(VirtAddr, VirtAddr, u64, bool)> = new.vmas.iter().filter(|v| v.anon_vma.is_some() || v.flags & (VM_PFNMAP | VM_MIXEDMAP) != 0).map(|v| (v.start, v.end, v.flags, v.is_cow())).collect();
    for (start, end, vflags, cow) in copy {
        let pages: Vec<(VirtAddr, Pte)> = old.pages.range(start..end).map(|(&v, &p)| (v, p)).collect();
        for (va, mut pte) in pages {
            if cow && pte.write {
                pte.write = false;
                old.pages.insert(va, pte);
                let _ = set_hw_pte(hal, old.asid, va, &pte, vflags);
            }
            if takes_ref(pte.kind) {
                frames.get(pte.pa);
            }
            if set_hw_pte(hal, asid, va, &pte, vflags).is_err() {
                if takes_ref(pte.kind) {
                    frames.put(pte.pa);
                }
                hal.flush_tlb(old.asid, None);
                release_pages(hal, frames, &mut new);
                hal.destroy_address_space(asid);
                return Err(Errno::ENOMEM);
            }
            new.pages.insert(va, pte);
        }
    }
    hal.flush_tlb(old.asid, None);
    new.hiwater_vm = new.total_vm();
    new.hiwater_rss = new.rss();
    Ok(new)
}

/// Unmaps and drops every page of `mm` (the VMAs and the address space stay).
pub fn release_pages<H: Hal>(hal: &H, frames: &mut FrameAllocator, mm: &mut Mm) {
    zap_range(hal, frames, mm, 0, u64::MAX);
}
