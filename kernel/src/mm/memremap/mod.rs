//! `memremap()` and ZONE_DEVICE page descriptors (Linux 4.3 `kernel/memremap.c`), with the
//! parts of `kernel/resource.c` (the iomem tree, `region_intersects`, `/proc/iomem`),
//! `arch/x86/mm/ioremap.c` (`ioremap_cache`/`ioremap_wt`/`iounmap`),
//! `arch/x86/mm/init_64.c` + `mm/memory_hotplug.c` (`arch_add_memory`/`arch_remove_memory`
//! for device memory), `drivers/base/devres.c` (managed resources released on detach) and
//! `drivers/nvdimm/pmem.c` (the one 4.3 user) it stands on. Spec: `mm-memremap.md`.
//!
//! Linux keeps this state in globals (`iomem_resource`, the vmap area tree, `mem_section`,
//! per-device devres lists); here it is one [`Iomem`] value built from the HAL's physical
//! map at boot. Operations that log take the [`Kernel`] for `printk` and the frame
//! allocator (the ZONE_DEVICE memmap lives in ordinary RAM, as in 4.3).
//!
//! Addresses are x86_64's: the direct map at [`PAGE_OFFSET`], `ioremap` areas from
//! [`VMALLOC_START`]. Kernel code never dereferences them: it reads and writes through
//! [`Iomem::read`] / [`Iomem::write`], which resolve the mapping and go to RAM
//! (`PhysMem`), persistent memory (`Devices::pmem_*`) or, for a range with nothing behind
//! it, the all-ones a bus answers with.
//!
//! Not modelled: x86 PAT memtype conflicts between overlapping mappings (4.3 silently
//! hands out the first mapping's type when it is compatible), `ioremap`'s page-granular
//! "ioremap on RAM" check (it cannot fire for a range `region_intersects` called
//! DISJOINT), highmem (64-bit), NUMA beyond recording the node id, and the nvdimm pfn
//! info block on the media.

mod devres;
mod ioremap;
mod pages;
mod pmem;
mod resource;

pub use self::devres::{Device, DevmAbi};
pub use self::ioremap::{CacheMode, IoMapping};
pub use self::pages::{DevicePage, Zone, MEMMAP_FRAMES_PER_SECTION, PAGES_PER_SECTION, SECTION_SIZE_BITS, STRUCT_PAGE_SIZE};
pub use self::pmem::{PmemDevice, PmemDisk, PmemMode, BLOCK_EXT_MAJOR, GID_DISK, ND_PFN_ALIGN};
pub use self::resource::{RegionKind, Resource, IORESOURCE_BUSY, IORESOURCE_MEM};

use self::devres::Devres;
use self::pages::MemSection;
use crate::hal::{Devices, Hal, PhysAddr, PhysMem, VirtAddr, IORES_SYSTEM_RAM, PAGE_SIZE};
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

/// `MEMREMAP_WB`: write-back; satisfied from the direct map when the range is RAM.
pub const MEMREMAP_WB: u64 = 1 << 0;
/// `MEMREMAP_WT`: write-through; refused for System RAM.
pub const MEMREMAP_WT: u64 = 1 << 1;
/// `ARCH_MEMREMAP_PMEM` on x86_64 (which has the pmem API): write-back.
pub const ARCH_MEMREMAP_PMEM: u64 = MEMREMAP_WB;

/// x86_64 `PAGE_OFFSET` (4-level paging, 4.3): base of the direct map of physical memory.
pub const PAGE_OFFSET: VirtAddr = 0xffff_8800_0000_0000;
/// x86_64 `VMALLOC_START`: where `ioremap` areas are carved from.
pub const VMALLOC_START: VirtAddr = 0xffff_c900_0000_0000;
/// x86_64 `VMALLOC_END` (the last vmalloc byte).
pub const VMALLOC_END: VirtAddr = 0xffff_e8ff_ffff_ffff;
/// x86_64 `MAX_PHYSMEM_BITS`: physical memory the direct map and `mem_section` can hold.
pub const MAX_PHYSMEM_BITS: u32 = 46;
/// Physical address bits of QEMU's default x86_64 CPU (`x86_phys_bits`).
pub const DEFAULT_PHYS_BITS: u32 = 40;

const ISA_START_ADDRESS: PhysAddr = 0xa_0000;
const ISA_END_ADDRESS: PhysAddr = 0x10_0000;

/// What a kernel virtual address resolves through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelMapping {
    /// The direct map (`__va`): RAM, device memory added for ZONE_DEVICE, the ISA hole.
    Direct,
    /// An `ioremap` area of the given cache type.
    Ioremap(CacheMode),
}

/// The iomem resource tree, the `ioremap` areas and the ZONE_DEVICE memmaps: everything
/// `memremap` and `devm_memremap_pages` keep. Build it with [`Iomem::new`]; `Default` is
/// an empty placeholder (for `mem::take` while a `Kernel` method lends it out).
#[derive(Debug, Default)]
pub struct Iomem {
    /// `iomem_resource.child`.
    top: Vec<Resource>,
    /// RAM as `PhysMem` reports it: where the direct map is backed.
    ram: Vec<(PhysAddr, u64)>,
    /// Live `ioremap` areas by start.
    areas: BTreeMap<VirtAddr, IoMapping>,
    /// Device ranges `arch_add_memory` put in the direct map, `[start, end)`.
    device_direct: Vec<(PhysAddr, PhysAddr)>,
    /// Device memory sections by section number.
    sections: BTreeMap<u64, MemSection>,
    /// Managed resources per device name, oldest first.
    devres: BTreeMap<String, Vec<Devres>>,
    /// `WARN_ONCE` sites that fired.
    warned: BTreeSet<&'static str>,
    /// `CONFIG_ZONE_DEVICE` (x86_64 only in 4.3; on by default here).
    pub zone_device: bool,
    /// Which kernel's `devm_memremap` conventions to follow.
    pub abi: DevmAbi,
    /// `boot_cpu_data.x86_phys_bits`: `ioremap` refuses addresses at or above it.
    pub phys_bits: u32,
    /// `arch_has_wmb_pmem()`: x86_64 4.3 needs `PCOMMIT`, which no shipped CPU has.
    pub arch_has_wmb_pmem: bool,
    /// Fault injection: the next devres allocation fails (one shot).
    pub fail_next_devres_alloc: bool,
    /// The pmem disks probed at boot, in probe order (minor = index).
    disks: Vec<PmemDisk>,
}

/// `%pa`: `0x` and 16 hex digits.
struct Pa(u64);

impl core::fmt::Display for Pa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "0x{:016x}", self.0)
    }
}

/// C's `%#lx`: `0x` prefix except for zero.
struct AltHex(u64);

impl core::fmt::Display for AltHex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0 == 0 {
            f.write_str("0")
        } else {
            write!(f, "{:#x}", self.0)
        }
    }
}

/// `%pr` of a memory resource: `[mem 0x%08llx-0x%08llx flags 0x200]`.
struct RawRes(PhysAddr, PhysAddr);

impl core::fmt::Display for RawRes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "[mem {:#010x}-{:#010x} flags {:#x}]", self.0, self.1, IORESOURCE_MEM)
    }
}

/// Prints a `WARN()` splat: the cut line, `WARNING: … at FILE FUNC()`, the message.
fn warn<H: Hal>(k: &mut Kernel<H>, file: &str, func: &str, msg: Option<core::fmt::Arguments<'_>>) {
    crate::printk!(k, "------------[ cut here ]------------");
    let cpu = k.hal.cpu_id();
    crate::printk!(k, "WARNING: CPU: {} PID: 0 at {} {}()", cpu, file, func);
    if let Some(m) = msg {
        k.printk(m);
    }
}

impl Iomem {
    /// Builds the boot-time state from the HAL's physical map (`e820_reserve_resources`):
    /// each entry becomes a top-level resource, busy when the HAL says so. A HAL that
    /// reports no map gets its RAM regions as busy System RAM. Entries that collide with
    /// an earlier one are dropped, as `insert_resource` refuses them.
    pub fn new<H: PhysMem + Devices>(hal: &H) -> Iomem {
        let mut io = Iomem { zone_device: true, phys_bits: DEFAULT_PHYS_BITS, ..Iomem::default() };
        io.ram = hal.ram_regions().iter().filter(|r| r.len > 0).map(|r| (r.start, r.len)).collect();
        let map = hal.iomem_resources();
        let entries: Vec<(PhysAddr, u64, &str, bool)> = if map.is_empty() {
            io.ram.iter().map(|&(s, l)| (s, l, IORES_SYSTEM_RAM, true)).collect()
        } else {
            map.iter().map(|r| (r.start, r.len, r.name, r.busy)).collect()
        };
        for (start, len, name, busy) in entries {
            let Some(end) = len.checked_sub(1).and_then(|l| start.checked_add(l)) else { continue };
            let flags = IORESOURCE_MEM | if busy { IORESOURCE_BUSY } else { 0 };
            let _ = io.insert_child(&[], Resource { start, end, name: name.into(), flags, children: Vec::new() });
        }
        io
    }

    // ---- memremap (kernel/memremap.c) ----

    /// `memremap(offset, size, flags)` (4.3): a kernel address for a memory-like range, or
    /// `None` (NULL). WB on RAM is the direct map; WB elsewhere a new write-back mapping;
    /// WT a write-through mapping, refused with a one-time warning on RAM; a range that
    /// mixes RAM with other resources is refused with a one-time warning. Unknown flag
    /// bits are ignored, no flags give NULL.
    pub fn memremap<H: Hal>(&mut self, k: &mut Kernel<H>, offset: PhysAddr, size: u64, flags: u64) -> Option<VirtAddr> {
        let is_ram = self.region_intersects(offset, size, IORES_SYSTEM_RAM);
        if is_ram == RegionKind::Mixed {
            self.warn_once(k, "memremap:mixed", "kernel/memremap.c", "memremap", Some(format_args!("memremap attempted on mixed range {} size: {}", Pa(offset), AltHex(size))));
            return None;
        }
        let mut flags = flags;
        let mut addr = None;
        if flags & MEMREMAP_WB != 0 {
            flags &= !MEMREMAP_WB;
            if is_ram == RegionKind::Intersects {
                // try_ram_remap: no highmem on 64-bit, so always the linear address.
                addr = Some(PAGE_OFFSET.wrapping_add(offset));
            }
            if addr.is_none() {
                addr = self.ioremap(k, offset, size, CacheMode::WriteBack);
            }
        }
        if addr.is_none() && is_ram == RegionKind::Intersects && flags != 0 {
            self.warn_once(k, "memremap:ram", "kernel/memremap.c", "memremap", Some(format_args!("memremap attempted on ram {} size: {}", Pa(offset), AltHex(size))));
            return None;
        }
        if addr.is_none() && flags & MEMREMAP_WT != 0 {
            addr = self.ioremap(k, offset, size, CacheMode::WriteThrough);
        }
        addr
    }

    /// `memunmap(addr)`: unmaps an `ioremap` area; direct-map addresses and NULL-like
    /// addresses outside the vmalloc range are ignored.
    pub fn memunmap<H: Hal>(&mut self, k: &mut Kernel<H>, addr: VirtAddr) {
        if (VMALLOC_START..VMALLOC_END).contains(&addr) {
            self.iounmap(k, addr);
        }
    }

    fn in_ram(&self, pa: PhysAddr, n: u64) -> bool {
        self.ram.iter().any(|&(s, l)| pa >= s && pa.checked_add(n).is_some_and(|e| e <= s + l))
    }

    /// Resolves a kernel virtual address: its physical address and how it is mapped.
    /// `None` for an address no mapping covers (an access would oops).
    pub fn translate(&self, addr: VirtAddr) -> Option<(PhysAddr, KernelMapping)> {
        if let Some(m) = self.areas.range(..=addr).next_back().map(|(_, m)| m).filter(|m| addr < m.va + m.size) {
            return Some((m.phys + (addr - m.va), KernelMapping::Ioremap(m.cache)));
        }
        let pa = addr.checked_sub(PAGE_OFFSET).filter(|&pa| pa < 1 << MAX_PHYSMEM_BITS)?;
        let direct = self.in_ram(pa, 1) || (ISA_START_ADDRESS..ISA_END_ADDRESS).contains(&pa) || self.device_direct.iter().any(|&(s, e)| (s..e).contains(&pa));
        direct.then_some((pa, KernelMapping::Direct))
    }

    /// Walks `[addr, addr + len)` a page at a time: `f(physical address, offset, length)`.
    fn walk(&self, addr: VirtAddr, len: usize, mut f: impl FnMut(PhysAddr, usize, usize)) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < len {
            let va = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
            let (pa, _) = self.translate(va).ok_or(Errno::EFAULT)?;
            let n = ((PAGE_SIZE - (va % PAGE_SIZE)) as usize).min(len - done);
            f(pa, done, n);
            done += n;
        }
        Ok(())
    }

    /// Reads through a kernel mapping (`memcpy` from a `memremap` result): RAM, persistent
    /// memory, or all-ones where nothing answers. `EFAULT` where no mapping exists (checked
    /// before anything is read).
    pub fn read<H: Hal>(&self, hal: &H, addr: VirtAddr, buf: &mut [u8]) -> Result<(), Errno> {
        self.walk(addr, buf.len(), |_, _, _| {})?;
        self.walk(addr, buf.len(), |pa, off, n| {
            let chunk = &mut buf[off..off + n];
            if self.in_ram(pa, n as u64) {
                hal.phys_read(pa, chunk);
            } else if hal.pmem_read(pa, chunk).is_err() {
                chunk.fill(0xff);
            }
        })
    }

    /// Writes through a kernel mapping; stores to a range with nothing behind it vanish.
    /// `EFAULT` where no mapping exists (checked before anything is written).
    pub fn write<H: Hal>(&self, hal: &H, addr: VirtAddr, data: &[u8]) -> Result<(), Errno> {
        self.walk(addr, data.len(), |_, _, _| {})?;
        self.walk(addr, data.len(), |pa, off, n| {
            let chunk = &data[off..off + n];
            if self.in_ram(pa, n as u64) {
                hal.phys_write(pa, chunk);
            } else {
                let _ = hal.pmem_write(pa, chunk);
            }
        })
    }

    // ---- warnings ----

    fn warn_once<H: Hal>(&mut self, k: &mut Kernel<H>, site: &'static str, file: &str, func: &str, msg: Option<core::fmt::Arguments<'_>>) {
        if self.warned.insert(site) {
            warn(k, file, func, msg);
        }
    }
}
