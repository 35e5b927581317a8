//! Real x86_64 4-level page tables. Table frames come from a pool of their own (see
//! `layout`), never from the kernel's RAM region. Every root shares the boot identity map
//! of the first GiB (2 MiB pages, U/S = 0 at the PDPT level, so supervisor only); the
//! rest of the lower half holds the kernel's user mappings with U/S, R/W and NX per page.
//! The top 2 MiB of the address space is a fixmap (as Linux's): supervisor-only,
//! uncached 4 KiB pages for device registers (the local APIC), shared by every root.

use crate::layout::{PT_POOL_SIZE, PT_POOL_START};
use crate::sync::Global;
use kernel::hal::{MmuError, PteFlags, VirtAddr, PAGE_SIZE};
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::structures::paging::PhysFrame;
use x86_64::PhysAddr as X86PhysAddr;

const P: u64 = 1 << 0;
const RW: u64 = 1 << 1;
const US: u64 = 1 << 2;
const PS: u64 = 1 << 7;
const PWT: u64 = 1 << 3;
const PCD: u64 = 1 << 4;
const NX: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;

/// One past the highest user address (47-bit lower half), as in hal-sim.
pub const USER_TOP: VirtAddr = 1 << 47;

/// The lowest address a user page can go: below it is the boot identity map of the
/// first GiB (2 MiB supervisor pages shared by every root).
pub const USER_FLOOR: VirtAddr = 1 << 30;

extern "C" {
    static boot_pml4: u8;
    static boot_pd: u8;
}

fn boot_pml4_pa() -> u64 {
    // The address of a linker symbol only: no access.
    core::ptr::addr_of!(boot_pml4) as u64
}

fn boot_pd_pa() -> u64 {
    // The address of a linker symbol only: no access.
    core::ptr::addr_of!(boot_pd) as u64
}

/// Base of the fixmap: PML4[511], PDPT[511], PD[511], one page table of 4 KiB slots.
pub const FIXMAP_BASE: u64 = 0xffff_ffff_ffe0_0000;

/// One 4 KiB page-table frame.
#[repr(C, align(4096))]
struct Table([u64; 512]);

/// The fixmap's PDPT, PD and PT: static (in the identity-mapped .bss, so physical =
/// virtual) and never from the pool, so the pool's leak count does not see them.
static FIXMAP_TABLES: Global<[Table; 3]> = Global::new([Table([0; 512]), Table([0; 512]), Table([0; 512])]);

fn fixmap_pdpt_pa() -> u64 {
    FIXMAP_TABLES.with(|t| &t[0] as *const Table as u64)
}

/// Maps the device page at `pa` into fixmap slot `slot` (uncached, writable, supervisor
/// only, NX where available) for the boot root and every root made afterwards; its
/// virtual address. Call at boot, before any other root exists and after `cpu::setup`
/// (NX is a reserved bit until EFER.NXE is set).
pub fn fixmap_mmio(slot: usize, pa: u64) -> u64 {
    assert!(slot < 512 && pa % PAGE_SIZE == 0, "fixmap slot {slot}, {pa:#x}");
    let (pdpt, pd, pt) = FIXMAP_TABLES.with(|t| (&t[0] as *const Table as u64, &t[1] as *const Table as u64, &t[2] as *const Table as u64));
    write(pdpt, 511, pd | P | RW);
    write(pd, 511, pt | P | RW);
    let nx = if crate::cpu::nx_on() { NX } else { 0 };
    write(pt, slot, pa | P | RW | PCD | PWT | nx);
    // Roots made by new_root copy PML4[511] from the boot root; the boot root gets it now.
    write(boot_pml4_pa(), 511, pdpt | P | RW);
    let va = FIXMAP_BASE + slot as u64 * PAGE_SIZE;
    x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
    va
}

/// The page-table pool: a bump pointer plus a free list threaded through freed frames.
struct Pool {
    next: u64,
    free: u64,
    in_use: u64,
}

static POOL: Global<Pool> = Global::new(Pool { next: PT_POOL_START, free: 0, in_use: 0 });

fn table(pa: u64) -> *mut u64 {
    pa as *mut u64
}

fn read(pa: u64, i: usize) -> u64 {
    // SAFETY: `pa` is a table frame from the pool, the boot tables or the fixmap tables,
    // identity-mapped, and i < 512.
    unsafe { table(pa).add(i).read_volatile() }
}

fn write(pa: u64, i: usize, v: u64) {
    // SAFETY: as in `read`; tables are only written by this module.
    unsafe { table(pa).add(i).write_volatile(v) }
}

fn alloc_table() -> Option<u64> {
    let pa = POOL.with(|p| {
        let pa = if p.free != 0 {
            let pa = p.free;
            p.free = read(pa, 0);
            pa
        } else if p.next < PT_POOL_START + PT_POOL_SIZE {
            let pa = p.next;
            p.next += PAGE_SIZE;
            pa
        } else {
            return None;
        };
        p.in_use += 1;
        Some(pa)
    })?;
    // SAFETY: a whole pool frame, identity-mapped, owned by no one else now.
    unsafe { core::ptr::write_bytes(pa as *mut u8, 0, PAGE_SIZE as usize) };
    Some(pa)
}

fn free_table(pa: u64) {
    POOL.with(|p| {
        write(pa, 0, p.free);
        p.free = pa;
        p.in_use -= 1;
    });
}

/// Table frames in use (for the boot log and leak checks).
pub fn tables_in_use() -> u64 {
    POOL.with(|p| p.in_use)
}

/// A new root: an empty lower half except the shared supervisor identity map of the first
/// GiB, reached through a private PDPT so user mappings above 1 GiB stay private.
pub fn new_root() -> Option<u64> {
    let pml4 = alloc_table()?;
    let Some(pdpt) = alloc_table() else {
        free_table(pml4);
        return None;
    };
    write(pdpt, 0, boot_pd_pa() | P | RW);
    write(pml4, 0, pdpt | P | RW | US);
    write(pml4, 511, read(boot_pml4_pa(), 511));
    Some(pml4)
}

/// Frees every table of `root` (never the shared identity PD or fixmap, never mapped
/// frames).
pub fn free_root(root: u64) {
    fn free_level(pa: u64, level: u32) {
        if level > 1 {
            for i in 0..512 {
                let e = read(pa, i);
                let next = e & ADDR;
                if e & P != 0 && e & PS == 0 && next != boot_pd_pa() && next != fixmap_pdpt_pa() {
                    free_level(next, level - 1);
                }
            }
        }
        free_table(pa);
    }
    free_level(root, 4);
}

fn index(va: VirtAddr, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

/// The leaf entry slot for `va` (table frame and index), creating tables when `create`.
fn walk(root: u64, va: VirtAddr, create: bool) -> Result<Option<(u64, usize)>, MmuError> {
    let mut t = root;
    for level in [4, 3, 2] {
        let i = index(va, level);
        let e = read(t, i);
        if e & P == 0 {
            if !create {
                return Ok(None);
            }
            let new = alloc_table().ok_or(MmuError::NoMemory)?;
            write(t, i, new | P | RW | US);
            t = new;
        } else if e & PS != 0 {
            // Inside the supervisor identity map: no 4 KiB user page can go there.
            return Err(MmuError::BadAddress);
        } else {
            t = e & ADDR;
        }
    }
    Ok(Some((t, index(va, 1))))
}

/// Maps the page at `va` to `pa`; the caller checked alignment and range.
pub fn map(root: u64, va: VirtAddr, pa: u64, flags: PteFlags) -> Result<(), MmuError> {
    let (t, i) = walk(root, va, true)?.ok_or(MmuError::NoMemory)?;
    let mut e = pa | P;
    if flags.write {
        e |= RW;
    }
    if flags.user {
        e |= US;
    }
    if !flags.exec && crate::cpu::nx_on() {
        e |= NX;
    }
    write(t, i, e);
    Ok(())
}

/// Clears the mapping of the page at `va`, returning the frame it mapped.
pub fn unmap(root: u64, va: VirtAddr) -> Option<u64> {
    let (t, i) = walk(root, va, false).ok()??;
    let e = read(t, i);
    if e & P == 0 {
        return None;
    }
    write(t, i, 0);
    Some(e & ADDR)
}

/// Walks the tables for `va`: the physical address of that byte and the effective
/// permissions (U/S and R/W must be set at every level, NX at any level forbids exec).
pub fn lookup(root: u64, va: VirtAddr) -> Option<(u64, PteFlags)> {
    let mut t = root;
    let (mut user, mut write_ok, mut exec) = (true, true, true);
    for level in [4u32, 3, 2, 1] {
        let e = read(t, index(va, level));
        if e & P == 0 {
            return None;
        }
        user &= e & US != 0;
        write_ok &= e & RW != 0;
        exec &= e & NX == 0;
        if level == 1 || e & PS != 0 {
            let size = 1u64 << (12 + 9 * (level - 1));
            let flags = PteFlags { write: write_ok, user, exec };
            return Some(((e & ADDR & !(size - 1)) + (va & (size - 1)), flags));
        }
        t = e & ADDR;
    }
    None
}

/// The root CR3 points at now.
pub fn current_root() -> u64 {
    Cr3::read_raw().0.start_address().as_u64()
}

/// Loads `root` into CR3 (flushing non-global TLB entries) unless it is loaded already.
pub fn switch_to(root: u64) {
    if current_root() != root {
        let frame = PhysFrame::containing_address(X86PhysAddr::new(root));
        // SAFETY: `root` is a PML4 built by `new_root` (or the boot PML4); every root maps
        // the first GiB where the kernel's code, stack and heap live, so execution
        // continues unchanged.
        unsafe { Cr3::write(frame, Cr3Flags::empty()) };
    }
}

/// Back to the boot tables (before a loaded root is freed).
pub fn switch_to_boot() {
    switch_to(boot_pml4_pa());
}

/// Invalidates one page, or every non-global entry, of the loaded root.
pub fn flush(va: Option<VirtAddr>) {
    match va {
        Some(va) => x86_64::instructions::tlb::flush(x86_64::VirtAddr::new_truncate(va)),
        None => x86_64::instructions::tlb::flush_all(),
    }
}
