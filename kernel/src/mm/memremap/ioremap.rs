//! `ioremap` (`arch/x86/mm/ioremap.c`): `ioremap_cache` / `ioremap_wt` / `iounmap` and the
//! vmalloc-area allocation behind them.

use super::{Iomem, ISA_END_ADDRESS, ISA_START_ADDRESS, PAGE_OFFSET, VMALLOC_END, VMALLOC_START};
use crate::hal::{Hal, PhysAddr, VirtAddr, PAGE_SIZE};
use crate::kernel::Kernel;

/// `IOREMAP_MAX_ORDER` on x86_64: `ioremap` areas align to at most 512 KiB.
const IOREMAP_MAX_ORDER: u32 = 7 + 12;

/// Cache type of a kernel mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Write-back: the direct map, `ioremap_cache`.
    WriteBack,
    /// Write-through: `ioremap_wt`.
    WriteThrough,
}

/// One live `ioremap` area (`struct vm_struct`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoMapping {
    /// Start of the area (page aligned; `memremap` returns this plus the offset in page).
    pub va: VirtAddr,
    /// First physical byte mapped (page aligned).
    pub phys: PhysAddr,
    /// Bytes mapped (whole pages; the area has one more, unmapped guard page).
    pub size: u64,
    /// Cache type.
    pub cache: CacheMode,
}

impl IoMapping {
    fn area_end(&self) -> VirtAddr {
        self.va + self.size + PAGE_SIZE
    }
}

fn page_align_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

impl Iomem {
    /// `get_vm_area_caller(size, VM_IOREMAP)`: first fit from `VMALLOC_START`, aligned to
    /// the size's power of two (at most 512 KiB), with a guard page after each area.
    fn get_vm_area(&self, size: u64) -> Option<VirtAddr> {
        let fls = 64 - size.leading_zeros();
        let align = 1u64 << fls.clamp(12, IOREMAP_MAX_ORDER);
        let total = size.checked_add(PAGE_SIZE)?;
        let mut addr = VMALLOC_START.next_multiple_of(align);
        for m in self.areas.values() {
            if m.area_end() <= addr {
                continue;
            }
            if addr.checked_add(total)? <= m.va {
                break;
            }
            addr = m.area_end().checked_next_multiple_of(align)?;
        }
        (addr.checked_add(total)? <= VMALLOC_END).then_some(addr)
    }

    /// x86's `__ioremap_caller` for `ioremap_cache` / `ioremap_wt`.
    pub(super) fn ioremap<H: Hal>(&mut self, k: &mut Kernel<H>, phys: PhysAddr, size: u64, cache: CacheMode) -> Option<VirtAddr> {
        let last = phys.wrapping_add(size).wrapping_sub(1);
        if size == 0 || last < phys {
            return None;
        }
        if self.phys_bits < 64 && phys >> self.phys_bits != 0 {
            crate::printk!(k, "ioremap: invalid physical address {:x}", phys);
            self.warn_once(k, "ioremap:invalid", "arch/x86/mm/ioremap.c", "__ioremap_caller", None);
            return None;
        }
        // The legacy ISA hole is always mapped: hand out its direct-map address.
        if phys >= ISA_START_ADDRESS && last < ISA_END_ADDRESS {
            return Some(PAGE_OFFSET + phys);
        }
        let base = page_align_down(phys);
        let mapped = match last.checked_add(1).and_then(|e| e.checked_next_multiple_of(PAGE_SIZE)) {
            Some(e) => e - base,
            None => 0u64.wrapping_sub(base),
        };
        let Some(va) = self.get_vm_area(mapped) else {
            crate::printk!(k, "vmap allocation for size {} failed: use vmalloc=<size> to increase size", mapped.wrapping_add(PAGE_SIZE));
            return None;
        };
        self.areas.insert(va, IoMapping { va, phys: base, size: mapped, cache });
        Some(va + (phys - base))
    }

    /// x86's `iounmap`: removes the area containing `addr`, or complains.
    pub(super) fn iounmap<H: Hal>(&mut self, k: &mut Kernel<H>, addr: VirtAddr) {
        let a = page_align_down(addr);
        match self.areas.range(..=a).next_back().filter(|(_, m)| a < m.area_end()).map(|(&v, _)| v) {
            Some(v) => {
                self.areas.remove(&v);
            }
            None => crate::printk!(k, "iounmap: bad address {:016x}", a),
        }
    }

    /// Live `ioremap` areas, by address.
    pub fn mappings(&self) -> impl Iterator<Item = &IoMapping> + '_ {
        self.areas.values()
    }
}
