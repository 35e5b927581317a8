//! The nvdimm pmem driver (`drivers/nvdimm/pmem.c`): probing a namespace, the pfn device,
//! and the block device it registers.

use super::devres::Device;
use super::pages::PAGES_PER_SECTION;
use super::{Iomem, Pa, ARCH_MEMREMAP_PMEM, MEMREMAP_WB};
use crate::hal::{Hal, PhysAddr, VirtAddr, PAGE_SIZE};
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// `ND_PFN_ALIGN`: the nvdimm pfn device's alignment, one section.
pub const ND_PFN_ALIGN: u64 = PAGES_PER_SECTION * PAGE_SIZE;
/// `SZ_8K`: where a pfn-mode namespace's data starts (after the info block).
const PFN_DATA_OFFSET: u64 = 8 << 10;

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

fn dev_printk<H: Hal>(k: &mut Kernel<H>, dev: &Device, msg: core::fmt::Arguments<'_>) {
    crate::printk!(k, "{} {}: {}", dev.driver, dev.name, msg);
}

impl Iomem {
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
