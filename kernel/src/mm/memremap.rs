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

use crate::hal::{Devices, Hal, PhysAddr, PhysMem, VirtAddr, IORES_SYSTEM_RAM, PAGE_SIZE};
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// `MEMREMAP_WB`: write-back; satisfied from the direct map when the range is RAM.
pub const MEMREMAP_WB: u64 = 1 << 0;
/// `MEMREMAP_WT`: write-through; refused for System RAM.
pub const MEMREMAP_WT: u64 = 1 << 1;
/// `ARCH_MEMREMAP_PMEM` on x86_64 (which has the pmem API): write-back.
pub const ARCH_MEMREMAP_PMEM: u64 = MEMREMAP_WB;

/// `IORESOURCE_MEM`: the resource is memory space.
pub const IORESOURCE_MEM: u64 = 0x0000_0200;
/// `IORESOURCE_BUSY`: claimed; nobody may request a region inside it.
pub const IORESOURCE_BUSY: u64 = 0x8000_0000;

/// x86_64 `PAGE_OFFSET` (4-level paging, 4.3): base of the direct map of physical memory.
pub const PAGE_OFFSET: VirtAddr = 0xffff_8800_0000_0000;
/// x86_64 `VMALLOC_START`: where `ioremap` areas are carved from.
pub const VMALLOC_START: VirtAddr = 0xffff_c900_0000_0000;
/// x86_64 `VMALLOC_END` (the last vmalloc byte).
pub const VMALLOC_END: VirtAddr = 0xffff_e8ff_ffff_ffff;
/// x86_64 `MAX_PHYSMEM_BITS`: physical memory the direct map and `mem_section` can hold.
pub const MAX_PHYSMEM_BITS: u32 = 46;
/// x86_64 `SECTION_SIZE_BITS`: memory hotplug works in 128 MiB sections.
pub const SECTION_SIZE_BITS: u32 = 27;
/// Pages per memory section (32768).
pub const PAGES_PER_SECTION: u64 = 1 << (SECTION_SIZE_BITS - 12);
/// `sizeof(struct page)` on x86_64 without debug options.
pub const STRUCT_PAGE_SIZE: u64 = 64;
/// RAM frames one section's memmap takes (2 MiB: one vmemmap huge page).
pub const MEMMAP_FRAMES_PER_SECTION: u64 = PAGES_PER_SECTION * STRUCT_PAGE_SIZE / PAGE_SIZE;
/// `ND_PFN_ALIGN`: the nvdimm pfn device's alignment, one section.
pub const ND_PFN_ALIGN: u64 = PAGES_PER_SECTION * PAGE_SIZE;
/// Physical address bits of QEMU's default x86_64 CPU (`x86_phys_bits`).
pub const DEFAULT_PHYS_BITS: u32 = 40;

const ISA_START_ADDRESS: PhysAddr = 0xa_0000;
const ISA_END_ADDRESS: PhysAddr = 0x10_0000;
/// `IOREMAP_MAX_ORDER` on x86_64: `ioremap` areas align to at most 512 KiB.
const IOREMAP_MAX_ORDER: u32 = 7 + 12;
/// `MAX_IORES_LEVEL`: `/proc/iomem` indents at most this deep.
const MAX_IORES_LEVEL: usize = 5;
/// `SZ_8K`: where a pfn-mode namespace's data starts (after the info block).
const PFN_DATA_OFFSET: u64 = 8 << 10;

/// `region_intersects` results (`REGION_*`, `include/linux/mm.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// Touches resources of the asked type and nothing else (holes count for nothing).
    Intersects = 0,
    /// Touches no resource of the asked type.
    Disjoint = 1,
    /// Touches resources of the asked type and others.
    Mixed = 2,
}

/// Cache type of a kernel mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Write-back: the direct map, `ioremap_cache`.
    WriteBack,
    /// Write-through: `ioremap_wt`.
    WriteThrough,
}

/// What a kernel virtual address resolves through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelMapping {
    /// The direct map (`__va`): RAM, device memory added for ZONE_DEVICE, the ISA hole.
    Direct,
    /// An `ioremap` area of the given cache type.
    Ioremap(CacheMode),
}

/// Conventions of the managed (`devm_`) variants, which changed after 4.3 (spec §3.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DevmAbi {
    /// 4.3 (the default): every failure is NULL; detach passes the devres cell, not the mapping, to
    /// `memunmap`, so the mapping leaks; `devm_memunmap` drops the record then unmaps.
    #[default]
    Linux4_3,
    /// 4.4: devres failure is `ERR_PTR(-ENOMEM)`, `memremap` failure still NULL; the
    /// release callback still leaks, and `devm_memunmap` now goes through it.
    Linux4_4,
    /// Today: `ERR_PTR(-ENOMEM)` / `ERR_PTR(-ENXIO)`, and release unmaps.
    Current,
}

/// A node of the iomem resource tree (`struct resource`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// First byte.
    pub start: PhysAddr,
    /// Last byte (inclusive, as Linux keeps it).
    pub end: PhysAddr,
    /// The name `/proc/iomem` prints.
    pub name: String,
    /// `IORESOURCE_*` bits.
    pub flags: u64,
    /// Sub-ranges claimed inside it, sorted, not overlapping.
    pub children: Vec<Resource>,
}

impl Resource {
    fn busy(&self) -> bool {
        self.flags & IORESOURCE_BUSY != 0
    }
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

/// Zones of x86_64 with `CONFIG_ZONE_DEVICE` (which requires `ZONE_DMA` off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// RAM below 4 GiB.
    Dma32,
    /// RAM above 4 GiB.
    Normal,
    /// Device memory with a memmap but never given to the page allocator.
    Device,
}

/// A ZONE_DEVICE page descriptor (the `struct page` fields 4.3 initialises for one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevicePage {
    /// Its page frame number.
    pub pfn: u64,
    /// NUMA node of the device.
    pub nid: i32,
    /// Always [`Zone::Device`].
    pub zone: Zone,
    /// `_count`: 1 from `init_page_count`, plus references taken since.
    pub count: u32,
    /// `PG_reserved`: set by `__add_zone` for pages that are never onlined.
    pub reserved: bool,
}

/// A device that owns managed resources (`struct device`, as devres and `dev_printk` see it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// `dev_name()`, e.g. `namespace0.0`.
    pub name: String,
    /// Name of the bound driver, e.g. `nd_pmem` (the first word of `dev_warn` lines).
    pub driver: String,
    /// `dev_to_node()`; negative for "unknown" (node 0 is used then).
    pub nid: i32,
}

impl Device {
    /// A device on an unknown NUMA node.
    pub fn new(name: &str, driver: &str) -> Device {
        Device { name: name.into(), driver: driver.into(), nid: -1 }
    }
}

/// How the nvdimm pmem driver maps a namespace (what `pmem_should_map_pages` and the pfn
/// device decide in 4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmemMode {
    /// `devm_memremap(…, ARCH_MEMREMAP_PMEM)`: a mapping, no page descriptors.
    Memremap,
    /// A legacy e820 region flagged `ND_REGION_PAGEMAP`: `devm_memremap_pages` when
    /// ZONE_DEVICE is configured, else as [`PmemMode::Memremap`].
    Pages,
    /// A pfn device in "ram" mode: memmap in DRAM, data after an 8 KiB info block.
    PfnRam,
    /// A pfn device in "pmem" mode (memmap on the device): refused with `ENXIO` in 4.3.
    PfnPmem,
}

/// What a successful pmem probe produced (`struct pmem_device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PmemDevice {
    /// First physical byte of the namespace.
    pub phys_addr: PhysAddr,
    /// Namespace size.
    pub size: u64,
    /// Where data starts inside the namespace (8 KiB in pfn mode).
    pub data_offset: u64,
    /// The kernel mapping. `None` is 4.3's NULL-but-not-`IS_ERR` hole: a failed
    /// `devm_memremap` is not caught by `pmem_alloc`.
    pub virt_addr: Option<VirtAddr>,
}

/// `BLOCK_EXT_MAJOR`: a disk allocated with no minors and `GENHD_FL_EXT_DEVT` (4.3's
/// `pmem_attach_disk` does `alloc_disk(0)`) gets its `dev_t` here, minors handed out in order.
pub const BLOCK_EXT_MAJOR: u32 = 259;
/// Group id of `disk`, which owns block device nodes (udev's `GROUP="disk"`, mode 0660).
pub const GID_DISK: u32 = 6;
/// Longest transfer one read or write of a pmem disk moves (a short count is legal).
const MAX_DISK_IO: u64 = 1 << 20;

/// A pmem block device (`pmem_attach_disk`'s gendisk): name, `dev_t` and the probe result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PmemDisk {
    /// `pmem<region id>`, the `/dev` node name.
    pub name: String,
    /// The `dev_t`, `makedev`-encoded (`259:minor`).
    pub rdev: u64,
    /// What `nd_pmem_probe` set up.
    pub pmem: PmemDevice,
}

impl PmemDisk {
    /// Bytes the disk holds (`set_capacity(size - data_offset)`).
    pub fn capacity(&self) -> u64 {
        self.pmem.size.saturating_sub(self.pmem.data_offset)
    }

    /// First physical byte of the disk's data.
    pub fn data_phys(&self) -> PhysAddr {
        self.pmem.phys_addr + self.pmem.data_offset
    }
}

/// A managed resource, released in reverse order when its device detaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Devres {
    Region { start: PhysAddr, n: u64 },
    Memremap { addr: VirtAddr },
    Pages { start: PhysAddr, size: u64 },
}

/// One memory section added for device memory.
#[derive(Clone, Debug)]
struct MemSection {
    nid: i32,
    /// The RAM frames its memmap occupies.
    memmap: Vec<PhysAddr>,
    /// `_count` of pages that differ from the initial 1.
    counts: BTreeMap<u64, u32>,
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

fn page_align_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
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

fn dev_printk<H: Hal>(k: &mut Kernel<H>, dev: &Device, msg: core::fmt::Arguments<'_>) {
    crate::printk!(k, "{} {}: {}", dev.driver, dev.name, msg);
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

    // ---- the resource tree (kernel/resource.c) ----

    /// The children list at `path` (indices from the top) with the parent's bounds.
    fn level_mut(&mut self, path: &[usize]) -> Option<(PhysAddr, PhysAddr, &mut Vec<Resource>)> {
        let (mut lo, mut hi, mut list) = (0, u64::MAX, &mut self.top);
        for &i in path {
            let r = list.get_mut(i)?;
            (lo, hi) = (r.start, r.end);
            list = &mut r.children;
        }
        Some((lo, hi, list))
    }

    /// `__request_resource` under the node at `path`: `Ok` when inserted, else the index
    /// of the conflicting child (`None` when the parent itself is the conflict).
    fn insert_child(&mut self, path: &[usize], new: Resource) -> Result<(), Option<usize>> {
        let Some((lo, hi, list)) = self.level_mut(path) else { return Err(None) };
        if new.end < new.start || new.start < lo || new.end > hi {
            return Err(None);
        }
        let mut pos = list.len();
        for (i, c) in list.iter().enumerate() {
            if c.start > new.end {
                pos = i;
                break;
            }
            if c.end >= new.start {
                return Err(Some(i));
            }
        }
        list.insert(pos, new);
        Ok(())
    }

    /// `request_mem_region`: claims `[start, start + n)` as a busy resource named `name`,
    /// descending into non-busy resources that contain it. `false` on any conflict.
    pub fn request_mem_region(&mut self, start: PhysAddr, n: u64, name: &str) -> bool {
        let end = start.wrapping_add(n).wrapping_sub(1);
        let new = Resource { start, end, name: name.into(), flags: IORESOURCE_MEM | IORESOURCE_BUSY, children: Vec::new() };
        let mut path = Vec::new();
        loop {
            match self.insert_child(&path, new.clone()) {
                Ok(()) => return true,
                Err(Some(i)) => {
                    let busy = self.level_mut(&path).and_then(|(_, _, l)| l.get(i).map(Resource::busy)).unwrap_or(true);
                    if busy {
                        return false;
                    }
                    path.push(i);
                }
                Err(None) => return false,
            }
        }
    }

    /// `__release_region`: drops the busy resource exactly `[start, start + n)`, looking
    /// inside non-busy ones; `false` when there is none.
    fn release_region(&mut self, start: PhysAddr, n: u64) -> bool {
        let end = start.wrapping_add(n).wrapping_sub(1);
        let mut list = &mut self.top;
        loop {
            let Some(i) = list.iter().position(|r| r.start <= start && r.end >= end) else { return false };
            if !list[i].busy() {
                list = &mut list[i].children;
                continue;
            }
            if list[i].start != start || list[i].end != end {
                return false;
            }
            list.remove(i);
            return true;
        }
    }

    /// `release_mem_region`, with 4.3's warning when nothing matches.
    pub fn release_mem_region<H: Hal>(&mut self, k: &mut Kernel<H>, start: PhysAddr, n: u64) {
        if !self.release_region(start, n) {
            crate::printk!(k, "Trying to free nonexistent resource <{:016x}-{:016x}>", start, start.wrapping_add(n).wrapping_sub(1));
        }
    }

    /// `release_mem_region_adjustable` (memory hot-remove): frees, trims or splits the
    /// busy memory resource containing the range.
    fn release_mem_region_adjustable(&mut self, start: PhysAddr, size: u64) -> Result<(), Errno> {
        let end = start.wrapping_add(size).wrapping_sub(1);
        let mut list = &mut self.top;
        loop {
            let mut found = None;
            for (i, r) in list.iter().enumerate() {
                if r.start >= end {
                    break;
                }
                if r.start <= start && r.end >= end {
                    found = Some(i);
                    break;
                }
            }
            let i = found.ok_or(Errno::EINVAL)?;
            if list[i].flags & IORESOURCE_MEM == 0 {
                return Err(Errno::EINVAL);
            }
            if !list[i].busy() {
                list = &mut list[i].children;
                continue;
            }
            let (rs, re) = (list[i].start, list[i].end);
            if rs == start && re == end {
                list.remove(i);
            } else if !list[i].children.is_empty() {
                return Err(Errno::EBUSY);
            } else if rs == start {
                list[i].start = end + 1;
            } else if re == end {
                list[i].end = start - 1;
            } else {
                let tail = Resource { start: end + 1, end: re, name: list[i].name.clone(), flags: list[i].flags, children: Vec::new() };
                list[i].end = start - 1;
                list.insert(i + 1, tail);
            }
            return Ok(());
        }
    }

    /// `region_intersects(start, size, name)` (4.3): classifies a range against the
    /// top-level resources named `name` with flags exactly `IORESOURCE_MEM|IORESOURCE_BUSY`.
    pub fn region_intersects(&self, start: PhysAddr, size: u64, name: &str) -> RegionKind {
        let end = start.wrapping_add(size).wrapping_sub(1);
        let (mut ty, mut other) = (0u32, 0u32);
        for p in &self.top {
            let is_type = p.name == name && p.flags == IORESOURCE_MEM | IORESOURCE_BUSY;
            let hits = [start >= p.start && start <= p.end, end >= p.start && end <= p.end, p.start >= start && p.end <= end];
            let n = hits.iter().filter(|&&h| h).count() as u32;
            if is_type {
                ty += n;
            } else {
                other += n;
            }
        }
        match (other, ty) {
            (0, 0) => RegionKind::Disjoint,
            (0, _) => RegionKind::Intersects,
            (_, 0) => RegionKind::Disjoint,
            _ => RegionKind::Mixed,
        }
    }

    /// The resource tree's top level (`iomem_resource.child`).
    pub fn resources(&self) -> &[Resource] {
        &self.top
    }

    /// `/proc/iomem` as 4.3's `r_show` prints it: `start-end : name`, eight hex digits at
    /// least, two spaces of indent per level. Hook it into procfs as the `iomem` file
    /// (mode 0444; 4.3 shows real addresses to everyone).
    pub fn iomem_text(&self) -> String {
        fn walk(out: &mut String, list: &[Resource], depth: usize) {
            for r in list {
                let _ = writeln!(out, "{:indent$}{:08x}-{:08x} : {}", "", r.start, r.end, r.name, indent = depth.min(MAX_IORES_LEVEL) * 2);
                walk(out, &r.children, depth + 1);
            }
        }
        let mut out = String::new();
        walk(&mut out, &self.top, 0);
        out
    }

    // ---- ioremap (arch/x86/mm/ioremap.c) ----

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
    fn ioremap<H: Hal>(&mut self, k: &mut Kernel<H>, phys: PhysAddr, size: u64, cache: CacheMode) -> Option<VirtAddr> {
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
    fn iounmap<H: Hal>(&mut self, k: &mut Kernel<H>, addr: VirtAddr) {
        let a = page_align_down(addr);
        match self.areas.range(..=a).next_back().filter(|(_, m)| a < m.area_end()).map(|(&v, _)| v) {
            Some(v) => {
                self.areas.remove(&v);
            }
            None => crate::printk!(k, "iounmap: bad address {:016x}", a),
        }
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

    /// Live `ioremap` areas, by address.
    pub fn mappings(&self) -> impl Iterator<Item = &IoMapping> + '_ {
        self.areas.values()
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

    // ---- warnings and devres ----

    fn warn_once<H: Hal>(&mut self, k: &mut Kernel<H>, site: &'static str, file: &str, func: &str, msg: Option<core::fmt::Arguments<'_>>) {
        if self.warned.insert(site) {
            warn(k, file, func, msg);
        }
    }

    /// `devres_alloc`: fails once after [`Iomem::fail_next_devres_alloc`] is set.
    fn devres_alloc(&mut self) -> bool {
        !core::mem::take(&mut self.fail_next_devres_alloc)
    }

    fn devres_add(&mut self, dev: &Device, r: Devres) {
        self.devres.entry(dev.name.clone()).or_default().push(r);
    }

    /// Removes the newest record of `dev` matching `pred` (`devres_destroy`).
    fn devres_take(&mut self, dev: &Device, pred: impl Fn(&Devres) -> bool) -> Option<Devres> {
        let list = self.devres.get_mut(&dev.name)?;
        let i = list.iter().rposition(pred)?;
        Some(list.remove(i))
    }

    /// Managed resources `dev` holds (regions, mappings, page maps).
    pub fn devres_count(&self, dev: &Device) -> usize {
        self.devres.get(&dev.name).map_or(0, Vec::len)
    }

    /// `devm_request_mem_region`: [`Iomem::request_mem_region`] named after the device,
    /// released on detach.
    pub fn devm_request_mem_region(&mut self, dev: &Device, start: PhysAddr, n: u64) -> bool {
        if !self.devres_alloc() || !self.request_mem_region(start, n, &dev.name) {
            return false;
        }
        self.devres_add(dev, Devres::Region { start, n });
        true
    }

    /// `devm_memremap`: `Ok(Some(addr))`, `Ok(None)` for NULL, `Err` for `ERR_PTR`, as
    /// [`Iomem::abi`] says each kernel answered.
    pub fn devm_memremap<H: Hal>(&mut self, k: &mut Kernel<H>, dev: &Device, offset: PhysAddr, size: u64, flags: u64) -> Result<Option<VirtAddr>, Errno> {
        if !self.devres_alloc() {
            return if self.abi == DevmAbi::Linux4_3 { Ok(None) } else { Err(Errno::ENOMEM) };
        }
        match self.memremap(k, offset, size, flags) {
            Some(addr) => {
                self.devres_add(dev, Devres::Memremap { addr });
                Ok(Some(addr))
            }
            None if self.abi == DevmAbi::Current => Err(Errno::ENXIO),
            None => Ok(None),
        }
    }

    /// The devres release callback of `devm_memremap`: before the fix it unmapped the
    /// devres cell (a kmalloc address, so nothing), leaking the mapping.
    fn devm_memremap_release<H: Hal>(&mut self, k: &mut Kernel<H>, addr: VirtAddr) {
        if self.abi == DevmAbi::Current {
            self.memunmap(k, addr);
        }
    }

    /// `devm_memunmap(dev, addr)`: drops the record (a bare `WARNING` when none matches)
    /// and unmaps (4.3), or releases through the callback (4.4 and later).
    pub fn devm_memunmap<H: Hal>(&mut self, k: &mut Kernel<H>, dev: &Device, addr: VirtAddr) {
        let found = self.devres_take(dev, |r| *r == Devres::Memremap { addr }).is_some();
        if !found {
            warn(k, "kernel/memremap.c", "devm_memunmap", None);
        }
        if self.abi == DevmAbi::Linux4_3 {
            self.memunmap(k, addr);
        } else if found {
            self.devm_memremap_release(k, addr);
        }
    }

    /// Driver detach (`devres_release_all`): releases every managed resource of `dev`,
    /// newest first.
    pub fn device_release<H: Hal>(&mut self, k: &mut Kernel<H>, dev: &Device) {
        let list = self.devres.remove(&dev.name).unwrap_or_default();
        for r in list.into_iter().rev() {
            match r {
                Devres::Region { start, n } => self.release_mem_region(k, start, n),
                Devres::Memremap { addr } => self.devm_memremap_release(k, addr),
                Devres::Pages { start, size } => self.arch_remove_memory(k, start, size),
            }
        }
    }

    // ---- ZONE_DEVICE (memory hotplug for device memory) ----

    fn ram_in_section(&self, sec: u64) -> bool {
        let (s, e) = (sec << SECTION_SIZE_BITS, (sec + 1) << SECTION_SIZE_BITS);
        self.ram.iter().any(|&(rs, l)| rs < e && s < rs + l)
    }

    /// `pfn_valid`: the pfn's section has a memmap (RAM, or device memory added).
    pub fn pfn_valid(&self, pfn: u64) -> bool {
        let sec = pfn / PAGES_PER_SECTION;
        self.sections.contains_key(&sec) || self.ram_in_section(sec)
    }

    /// `pfn_to_page` for device memory: the descriptor of a ZONE_DEVICE pfn (every pfn of
    /// an added section, even past the end of the device range), `None` otherwise.
    pub fn device_page(&self, pfn: u64) -> Option<DevicePage> {
        let s = self.sections.get(&(pfn / PAGES_PER_SECTION))?;
        let count = s.counts.get(&pfn).copied().unwrap_or(1);
        Some(DevicePage { pfn, nid: s.nid, zone: Zone::Device, count, reserved: true })
    }

    /// `is_zone_device_page(pfn_to_page(pfn))`.
    pub fn is_zone_device_pfn(&self, pfn: u64) -> bool {
        self.sections.contains_key(&(pfn / PAGES_PER_SECTION))
    }

    /// `page_zonenum(pfn_to_page(pfn))`: DEVICE for device sections, DMA32/NORMAL for
    /// RAM; `None` where there is no memmap.
    pub fn page_zone(&self, pfn: u64) -> Option<Zone> {
        if self.is_zone_device_pfn(pfn) {
            Some(Zone::Device)
        } else if self.in_ram(pfn.checked_mul(PAGE_SIZE)?, 1) {
            Some(if pfn < (4 << 30) / PAGE_SIZE { Zone::Dma32 } else { Zone::Normal })
        } else {
            None
        }
    }

    /// `get_page` on a device page: the new `_count`, `EFAULT` when the pfn has none.
    pub fn get_page(&mut self, pfn: u64) -> Result<u32, Errno> {
        let s = self.sections.get_mut(&(pfn / PAGES_PER_SECTION)).ok_or(Errno::EFAULT)?;
        let c = s.counts.entry(pfn).or_insert(1);
        *c = c.checked_add(1).ok_or(Errno::EOVERFLOW)?;
        Ok(*c)
    }

    /// `put_page` on a device page: the new `_count`. The last reference is refused
    /// (`EINVAL`): in 4.3 it would free the page into the buddy allocator it never
    /// belonged to.
    pub fn put_page(&mut self, pfn: u64) -> Result<u32, Errno> {
        let s = self.sections.get_mut(&(pfn / PAGES_PER_SECTION)).ok_or(Errno::EFAULT)?;
        let c = s.counts.entry(pfn).or_insert(1);
        if *c <= 1 {
            return Err(Errno::EINVAL);
        }
        *c -= 1;
        let c = *c;
        if c == 1 {
            s.counts.remove(&pfn);
        }
        Ok(c)
    }

    /// The RAM frames the device memmaps occupy (for the frame-accounting invariant).
    pub fn memmap_frames(&self) -> impl Iterator<Item = PhysAddr> + '_ {
        self.sections.values().flat_map(|s| s.memmap.iter().copied())
    }

    /// Section numbers with a device memmap.
    pub fn device_sections(&self) -> impl Iterator<Item = u64> + '_ {
        self.sections.keys().copied()
    }

    /// x86_64 `arch_add_memory(nid, start, size, for_device = true)`: direct-map the range,
    /// then give every section it touches a ZONE_DEVICE memmap (whole sections, allocated
    /// from RAM). A section that already has one is skipped (`-EEXIST` is ignored); on
    /// failure the sections and mapping already made stay, as in 4.3.
    fn arch_add_memory<H: Hal>(&mut self, k: &mut Kernel<H>, nid: i32, start: PhysAddr, size: u64) -> Result<(), Errno> {
        let end = start.checked_add(size).filter(|&e| e <= 1 << MAX_PHYSMEM_BITS).ok_or(Errno::EINVAL)?;
        if size > 0 {
            self.device_direct.push((start, end));
        }
        let (start_pfn, nr_pages) = (start / PAGE_SIZE, size / PAGE_SIZE);
        let mut err = Ok(());
        if let Some(last_pfn) = (start_pfn + nr_pages).checked_sub(1) {
            for sec in start_pfn / PAGES_PER_SECTION..=last_pfn / PAGES_PER_SECTION {
                if self.pfn_valid(sec * PAGES_PER_SECTION) {
                    continue;
                }
                if k.frames.lock().free_frames() < MEMMAP_FRAMES_PER_SECTION {
                    err = Err(Errno::ENOMEM);
                    break;
                }
                let memmap = (0..MEMMAP_FRAMES_PER_SECTION).filter_map(|_| k.frames.lock().alloc()).collect();
                self.sections.insert(sec, MemSection { nid, memmap, counts: BTreeMap::new() });
            }
        }
        if err.is_err() {
            self.warn_once(k, "arch_add_memory", "arch/x86/mm/init_64.c", "arch_add_memory", None);
        }
        err
    }

    /// x86_64 `arch_remove_memory` (4.3): unmap from the direct map, then `__remove_pages`,
    /// which BUGs on a range that is not whole sections (the memmap then stays), releases
    /// the busy resource covering the range (`release_mem_region_adjustable`, which in 4.3
    /// also takes a driver's own claim on device memory), and frees each section's memmap.
    fn arch_remove_memory<H: Hal>(&mut self, k: &mut Kernel<H>, start: PhysAddr, size: u64) {
        let end = start.saturating_add(size);
        if let Some(i) = self.device_direct.iter().position(|&r| r == (start, end)) {
            self.device_direct.remove(i);
        }
        let (start_pfn, nr_pages) = (start / PAGE_SIZE, size / PAGE_SIZE);
        if !start_pfn.is_multiple_of(PAGES_PER_SECTION) || !nr_pages.is_multiple_of(PAGES_PER_SECTION) {
            crate::printk!(k, "------------[ cut here ]------------");
            crate::printk!(k, "kernel BUG at mm/memory_hotplug.c: __remove_pages()");
            crate::printk!(k, "invalid opcode: 0000 [#1] SMP");
            return;
        }
        if let Err(e) = self.release_mem_region_adjustable(start, nr_pages * PAGE_SIZE) {
            crate::printk!(k, "Unable to release resource <{}-{}> ({})", Pa(start), Pa(start.wrapping_add(nr_pages * PAGE_SIZE).wrapping_sub(1)), -e.0);
        }
        for i in 0..nr_pages / PAGES_PER_SECTION {
            let Some(s) = self.sections.remove(&(start_pfn / PAGES_PER_SECTION + i)) else {
                self.warn_once(k, "arch_remove_memory", "arch/x86/mm/init_64.c", "arch_remove_memory", None);
                break;
            };
            for pa in s.memmap {
                k.frames.lock().free(pa);
            }
        }
    }

    /// `devm_memremap_pages(dev, res)` (4.3) for `[start, start + size)`: a write-back
    /// direct-map address of the range with a ZONE_DEVICE page descriptor for every page,
    /// released when `dev` detaches. RAM needs nothing new (its direct-map address);
    /// a range mixing RAM with other resources is `ENXIO` with a one-time warning;
    /// without ZONE_DEVICE the stub warns once and returns `ENXIO`; `ENOMEM` when the
    /// devres record or the memmap cannot be allocated.
    pub fn devm_memremap_pages<H: Hal>(&mut self, k: &mut Kernel<H>, dev: &Device, start: PhysAddr, size: u64) -> Result<VirtAddr, Errno> {
        if !self.zone_device {
            self.warn_once(k, "devm_memremap_pages:stub", "include/linux/io.h", "devm_memremap_pages", None);
            return Err(Errno::ENXIO);
        }
        let end = start.wrapping_add(size).wrapping_sub(1);
        match self.region_intersects(start, size, IORES_SYSTEM_RAM) {
            RegionKind::Mixed => {
                self.warn_once(k, "devm_memremap_pages:mixed", "kernel/memremap.c", "devm_memremap_pages", Some(format_args!("devm_memremap_pages attempted on mixed region {}", RawRes(start, end))));
                return Err(Errno::ENXIO);
            }
            RegionKind::Intersects => return Ok(PAGE_OFFSET.wrapping_add(start)),
            RegionKind::Disjoint => {}
        }
        if !self.devres_alloc() {
            return Err(Errno::ENOMEM);
        }
        let nid = dev.nid.max(0);
        self.arch_add_memory(k, nid, start, size)?;
        self.devres_add(dev, Devres::Pages { start, size });
        Ok(PAGE_OFFSET.wrapping_add(start))
    }

    // ---- the nvdimm pmem driver (drivers/nvdimm/pmem.c) ----

    /// `nd_pmem_probe` of a namespace `[start, start + size)` in `mode`: claim the region
    /// (`EBUSY` with a warning when taken), map it, and for a pfn device switch to page
    /// descriptors. A failed probe releases everything it claimed, as driver core does.
    pub fn pmem_probe<H: Hal>(&mut self, k: &mut Kernel<H>, dev: &Device, start: PhysAddr, size: u64, mode: PmemMode) -> Result<PmemDevice, Errno> {
        let r = self.pmem_alloc(k, dev, start, size, mode).and_then(|p| match mode {
            PmemMode::PfnRam | PmemMode::PfnPmem => self.attach_pfn(k, dev, p, mode),
            _ => Ok(p),
        });
        if r.is_err() {
            self.device_release(k, dev);
        }
        r
    }

    fn pmem_alloc<H: Hal>(&mut self, k: &mut Kernel<H>, dev: &Device, start: PhysAddr, size: u64, mode: PmemMode) -> Result<PmemDevice, Errno> {
        if !self.arch_has_wmb_pmem {
            dev_printk(k, dev, format_args!("unable to guarantee persistence of writes"));
        }
        if !self.devm_request_mem_region(dev, start, size) {
            // 4.3's format puts "0x" before %pa, which prints its own.
            dev_printk(k, dev, format_args!("could not reserve region [0x{}:{:#x}]", Pa(start), size));
            return Err(Errno::EBUSY);
        }
        let virt_addr = if mode == PmemMode::Pages && self.zone_device && ARCH_MEMREMAP_PMEM == MEMREMAP_WB {
            Some(self.devm_memremap_pages(k, dev, start, size)?)
        } else {
            self.devm_memremap(k, dev, start, size, ARCH_MEMREMAP_PMEM)?
        };
        Ok(PmemDevice { phys_addr: start, size, data_offset: 0, virt_addr })
    }

    /// `nvdimm_namespace_attach_pfn` for a namespace without an info block yet
    /// (`nd_pfn_init`): section alignment and size first (`ENODEV`), then the mode
    /// (`ENXIO` for "pmem"), then the memremap mapping is traded for page descriptors.
    fn attach_pfn<H: Hal>(&mut self, k: &mut Kernel<H>, dev: &Device, mut p: PmemDevice, mode: PmemMode) -> Result<PmemDevice, Errno> {
        if p.size < ND_PFN_ALIGN || !p.phys_addr.is_multiple_of(ND_PFN_ALIGN) {
            return Err(Errno::ENODEV);
        }
        if mode != PmemMode::PfnRam {
            return Err(Errno::ENXIO);
        }
        self.devm_memunmap(k, dev, p.virt_addr.unwrap_or(0));
        p.virt_addr = Some(self.devm_memremap_pages(k, dev, p.phys_addr, p.size)?);
        p.data_offset = PFN_DATA_OFFSET;
        Ok(p)
    }
}

// ---- pmem disks: boot-time probe and the block device's read/write ----

impl Iomem {
    /// The disk registered under `rdev`.
    pub fn disk(&self, rdev: u64) -> Option<&PmemDisk> {
        self.disks.iter().find(|d| d.rdev == rdev)
    }

    /// The disks probed at boot.
    pub fn disks(&self) -> &[PmemDisk] {
        &self.disks
    }

    /// `blkdev_read_iter` → `pmem_rw_page`: reads at `pos` through the driver's kernel
    /// mapping; at or past the end nothing is read (0), a read crossing it is cut short.
    pub fn disk_read<H: Hal>(&self, hal: &H, rdev: u64, pos: u64, count: usize) -> Result<Vec<u8>, Errno> {
        let d = self.disk(rdev).ok_or(Errno::ENXIO)?;
        let size = d.capacity();
        if pos >= size {
            return Ok(Vec::new());
        }
        let n = (count as u64).min(size - pos).min(MAX_DISK_IO) as usize;
        let mut buf = alloc::vec![0u8; n];
        let va = d.pmem.virt_addr.ok_or(Errno::EIO)?;
        self.read(hal, va + d.pmem.data_offset + pos, &mut buf).map_err(|_| Errno::EIO)?;
        Ok(buf)
    }

    /// `blkdev_write_iter`: `ENOSPC` at or past the end (for a non-empty write), a write
    /// crossing it is cut short; the bytes go to the media through the kernel mapping.
    pub fn disk_write<H: Hal>(&self, hal: &H, rdev: u64, pos: u64, data: &[u8]) -> Result<usize, Errno> {
        let d = self.disk(rdev).ok_or(Errno::ENXIO)?;
        if data.is_empty() {
            return Ok(0);
        }
        let size = d.capacity();
        if pos >= size {
            return Err(Errno::ENOSPC);
        }
        let n = (data.len() as u64).min(size - pos).min(MAX_DISK_IO) as usize;
        let va = d.pmem.virt_addr.ok_or(Errno::EIO)?;
        self.write(hal, va + d.pmem.data_offset + pos, &data[..n]).map_err(|_| Errno::EIO)?;
        Ok(n)
    }
}

impl<H: Hal> Kernel<H> {
    /// Boot-time nvdimm: every legacy pmem range (e820 type 12, `memmap=nn!ss`) becomes
    /// region N with an io namespace `namespaceN.0` (`e820_pmem_probe` sets
    /// `ND_REGION_PAGEMAP`, so `nd_pmem` maps it with page descriptors when ZONE_DEVICE is
    /// configured), a disk `pmemN` at `259:minor`, and a node `/dev/pmemN` (brw-rw----
    /// root:disk, as udev makes it). A failed probe leaves no disk.
    pub(crate) fn pmem_boot_probe(&mut self) {
        let ranges: Vec<(PhysAddr, u64)> = self.hal.iomem_resources().iter().filter(|r| r.name == crate::hal::IORES_PMEM_LEGACY && r.len > 0).map(|r| (r.start, r.len)).collect();
        for (region, (start, len)) in ranges.into_iter().enumerate() {
            let dev = Device::new(&alloc::format!("namespace{region}.0"), "nd_pmem");
            let mut io = core::mem::take(&mut self.iomem);
            let r = io.pmem_probe(self, &dev, start, len, PmemMode::Pages);
            let minor = io.disks.len() as u32;
            let rdev = crate::uapi::stat::makedev(BLOCK_EXT_MAJOR, minor);
            let name = alloc::format!("pmem{region}");
            if let Ok(pmem) = r {
                io.disks.push(PmemDisk { name: name.clone(), rdev, pmem });
            }
            self.iomem = io;
            if r.is_ok() {
                let now = self.hal.now_ns() + self.hal.realtime_offset_ns();
                if let Some(dir) = self.vfs.ram.lookup(crate::fs::ramfs::ROOT_INO, b"dev") {
                    self.vfs.ram.create_blkdev(dir, name.as_bytes(), 0o660, 0, GID_DISK, rdev, now);
                }
            }
        }
    }
}
