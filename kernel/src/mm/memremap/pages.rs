//! ZONE_DEVICE (`mm/memory_hotplug.c`, `arch/x86/mm/init_64.c`): memory sections with a
//! memmap for device memory, `arch_add_memory` / `arch_remove_memory`, and
//! `devm_memremap_pages`.

use super::devres::{Device, Devres};
use super::{Iomem, Pa, RawRes, MAX_PHYSMEM_BITS, PAGE_OFFSET};
use super::resource::RegionKind;
use crate::hal::{Hal, PhysAddr, VirtAddr, IORES_SYSTEM_RAM, PAGE_SIZE};
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// x86_64 `SECTION_SIZE_BITS`: memory hotplug works in 128 MiB sections.
pub const SECTION_SIZE_BITS: u32 = 27;
/// Pages per memory section (32768).
pub const PAGES_PER_SECTION: u64 = 1 << (SECTION_SIZE_BITS - 12);
/// `sizeof(struct page)` on x86_64 without debug options.
pub const STRUCT_PAGE_SIZE: u64 = 64;
/// RAM frames one section's memmap takes (2 MiB: one vmemmap huge page).
pub const MEMMAP_FRAMES_PER_SECTION: u64 = PAGES_PER_SECTION * STRUCT_PAGE_SIZE / PAGE_SIZE;

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

/// One memory section added for device memory.
#[derive(Clone, Debug)]
pub(super) struct MemSection {
    nid: i32,
    /// The RAM frames its memmap occupies.
    memmap: Vec<PhysAddr>,
    /// `_count` of pages that differ from the initial 1.
    counts: BTreeMap<u64, u32>,
}

impl Iomem {
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
    pub(super) fn arch_remove_memory<H: Hal>(&mut self, k: &mut Kernel<H>, start: PhysAddr, size: u64) {
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
}
