//! Persistent memory and the physical address map of the simulated machine.
//!
//! A pmem device is a range of physical addresses outside RAM whose bytes outlive the
//! machine: [`SimHal::pmem_images`] takes them off a machine ("power off") and
//! [`SimHal::with_pmem`] puts them into a fresh one ("power on"), whose RAM starts
//! zeroed. Contents are stored sparsely, a page at a time, so a device of many GiB costs
//! only the pages ever written.
//!
//! The map [`kernel::hal::Devices::iomem_resources`] reports is built here: System RAM
//! (busy, as x86 marks it), each pmem device as `Persistent Memory (legacy)` (e820 type
//! 12, what `memmap=nn!ss` makes, left free for the nvdimm driver), and any extra ranges
//! a test adds (a `reserved` hole, a second RAM bank) to reach the edge cases of
//! `region_intersects`.

use crate::SimHal;
use kernel::hal::{MemRegion, PhysAddr, PhysResource, PmemError, IORES_PMEM_LEGACY, IORES_SYSTEM_RAM, PAGE_SIZE};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Where the default pmem device sits: 4 GiB, far above simulated RAM (as
/// `memmap=128M!4G` would put it).
pub const PMEM_BASE: PhysAddr = 4 << 30;
/// Default pmem size: 128 MiB, one x86_64 memory-hotplug section.
pub const DEFAULT_PMEM: u64 = 128 << 20;

/// Most devices and extra resources one machine takes (a limit, as on everything).
const MAX_RESOURCES: usize = 64;

/// The contents of one persistent-memory device and its place in the physical map: what
/// survives a reboot of the simulated host.
#[derive(Clone, Debug)]
pub struct PmemImage {
    start: PhysAddr,
    len: u64,
    name: &'static str,
    /// Pages ever written, by page index from `start`; absent pages read as zeroes.
    pages: BTreeMap<u64, Box<[u8]>>,
}

impl PmemImage {
    /// A zero-filled device covering `[start, start + len)`, widened to whole pages, named
    /// `Persistent Memory (legacy)` in the map.
    pub fn new(start: PhysAddr, len: u64) -> PmemImage {
        let s = start & !(PAGE_SIZE - 1);
        let end = start.saturating_add(len).saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        PmemImage { start: s, len: end.saturating_sub(s), name: IORES_PMEM_LEGACY, pages: BTreeMap::new() }
    }

    /// The same device under another resource name (e.g. `Persistent Memory`, e820 type 7).
    pub fn named(mut self, name: &'static str) -> PmemImage {
        self.name = name;
        self
    }

    /// First physical byte.
    pub fn start(&self) -> PhysAddr {
        self.start
    }

    /// Length in bytes (a multiple of the page size).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the device has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The name the physical map gives the range.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Pages that hold data (were written at least once).
    pub fn resident_pages(&self) -> usize {
        self.pages.len()
    }

    fn covers(&self, pa: PhysAddr, n: usize) -> bool {
        pa >= self.start && pa.checked_add(n as u64).is_some_and(|e| e <= self.start + self.len)
    }

    /// Reads `buf.len()` bytes at device offset `off`; `false` (and nothing read) when
    /// the range leaves the device.
    pub fn read(&self, off: u64, buf: &mut [u8]) -> bool {
        let Some(pa) = self.start.checked_add(off) else { return false };
        if !self.covers(pa, buf.len()) {
            return false;
        }
        let mut done = 0usize;
        while done < buf.len() {
            let o = off + done as u64;
            let (page, in_page) = (o / PAGE_SIZE, (o % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - in_page).min(buf.len() - done);
            match self.pages.get(&page) {
                Some(p) => buf[done..done + n].copy_from_slice(&p[in_page..in_page + n]),
                None => buf[done..done + n].fill(0),
            }
            done += n;
        }
        true
    }

    /// Writes `data` at device offset `off`; `false` (and nothing written) when the range
    /// leaves the device.
    pub fn write(&mut self, off: u64, data: &[u8]) -> bool {
        let Some(pa) = self.start.checked_add(off) else { return false };
        if !self.covers(pa, data.len()) {
            return false;
        }
        let mut done = 0usize;
        while done < data.len() {
            let o = off + done as u64;
            let (page, in_page) = (o / PAGE_SIZE, (o % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - in_page).min(data.len() - done);
            let p = self.pages.entry(page).or_insert_with(|| vec![0u8; PAGE_SIZE as usize].into_boxed_slice());
            p[in_page..in_page + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
        true
    }
}

/// Two images are equal when they describe the same range with the same bytes (a page
/// never written equals a page written with zeroes).
impl PartialEq for PmemImage {
    fn eq(&self, other: &PmemImage) -> bool {
        let zero = |p: &[u8]| p.iter().all(|&b| b == 0);
        self.start == other.start
            && self.len == other.len
            && self.name == other.name
            && self.pages.iter().all(|(i, p)| other.pages.get(i).map_or(zero(p), |q| p == q))
            && other.pages.iter().all(|(i, q)| self.pages.contains_key(i) || zero(q))
    }
}

impl Eq for PmemImage {}

/// Why a device or resource could not be added to a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceConflict {
    /// The range is empty or wraps around the address space.
    Empty,
    /// The range overlaps RAM, a pmem device or another resource already in the map.
    Overlap {
        /// Start of the entry it collides with.
        with: PhysAddr,
    },
    /// The machine already has the most entries it takes.
    TooMany,
}

/// The physical map and the pmem devices of one machine.
pub(crate) struct SimDevices {
    /// Sorted by start, never overlapping.
    resources: Vec<PhysResource>,
    pmem: RefCell<Vec<PmemImage>>,
}

impl SimDevices {
    /// A map of just the RAM regions.
    pub(crate) fn new(ram: &[MemRegion]) -> SimDevices {
        let resources = ram.iter().filter(|r| r.len > 0).map(|r| PhysResource { start: r.start, len: r.len, name: IORES_SYSTEM_RAM, busy: true }).collect();
        SimDevices { resources, pmem: RefCell::new(Vec::new()) }
    }

    pub(crate) fn resources(&self) -> &[PhysResource] {
        &self.resources
    }

    fn insert(&mut self, r: PhysResource) -> Result<(), ResourceConflict> {
        let end = r.start.checked_add(r.len).filter(|_| r.len > 0).ok_or(ResourceConflict::Empty)?;
        if self.resources.len() >= MAX_RESOURCES {
            return Err(ResourceConflict::TooMany);
        }
        if let Some(o) = self.resources.iter().find(|o| o.start < end && r.start < o.start + o.len) {
            return Err(ResourceConflict::Overlap { with: o.start });
        }
        let i = self.resources.partition_point(|o| o.start < r.start);
        self.resources.insert(i, r);
        Ok(())
    }

    /// Runs `f` on the device holding all of `[pa, pa + n)`.
    fn with_device<T>(&self, pa: PhysAddr, n: usize, f: impl FnOnce(&mut PmemImage, u64) -> T) -> Option<T> {
        let mut devs = self.pmem.borrow_mut();
        let d = devs.iter_mut().find(|d| d.covers(pa, n))?;
        let off = pa - d.start;
        Some(f(d, off))
    }

    /// Whether `[pa, pa + n)` lies inside one pmem device.
    pub(crate) fn pmem_covers(&self, pa: PhysAddr, n: usize) -> bool {
        self.pmem.borrow().iter().any(|d| d.covers(pa, n))
    }

    pub(crate) fn pmem_read(&self, pa: PhysAddr, buf: &mut [u8]) -> Result<(), PmemError> {
        let n = buf.len();
        self.with_device(pa, n, |d, off| d.read(off, buf)).filter(|&ok| ok).map(|_| ()).ok_or(PmemError::NotPmem)
    }

    pub(crate) fn pmem_write(&self, pa: PhysAddr, data: &[u8]) -> Result<(), PmemError> {
        self.with_device(pa, data.len(), |d, off| d.write(off, data)).filter(|&ok| ok).map(|_| ()).ok_or(PmemError::NotPmem)
    }
}

impl SimHal {
    /// Attaches a persistent-memory device holding `image` (a fresh one, or one taken
    /// from a machine before its "reboot"); it appears in the physical map under the
    /// image's name. Fails when the range collides with RAM or another entry.
    pub fn add_pmem(&mut self, image: PmemImage) -> Result<(), ResourceConflict> {
        self.devices.insert(PhysResource { start: image.start, len: image.len, name: image.name, busy: false })?;
        self.devices.pmem.get_mut().push(image);
        Ok(())
    }

    /// [`SimHal::add_pmem`] for building a machine in a test.
    ///
    /// # Panics
    /// When the image collides with the machine's map: a mistake in the test's setup.
    pub fn with_pmem(mut self, image: PmemImage) -> SimHal {
        if let Err(e) = self.add_pmem(image) {
            panic!("pmem device does not fit the simulated machine: {e:?}");
        }
        self
    }

    /// Adds a top-level entry with no backing to the physical map (a `reserved` hole, a
    /// PCI window, a RAM bank the kernel must not allocate from): reads through a mapping
    /// of it see all-ones, as a bus with nothing behind it answers.
    pub fn add_resource(&mut self, r: PhysResource) -> Result<(), ResourceConflict> {
        self.devices.insert(r)
    }

    /// [`SimHal::add_resource`] for building a machine in a test.
    ///
    /// # Panics
    /// When the entry collides with the machine's map: a mistake in the test's setup.
    pub fn with_resource(mut self, r: PhysResource) -> SimHal {
        if let Err(e) = self.add_resource(r) {
            panic!("resource does not fit the simulated machine: {e:?}");
        }
        self
    }

    /// The contents of every pmem device, in the order they were attached: what a power
    /// cycle keeps.
    pub fn pmem_images(&self) -> Vec<PmemImage> {
        self.devices.pmem.borrow().clone()
    }

    /// The contents of the first pmem device, if the machine has one.
    pub fn pmem_image(&self) -> Option<PmemImage> {
        self.devices.pmem.borrow().first().cloned()
    }

    /// A power cycle: a new machine built from `config` (RAM zeroed, clock at zero, entropy
    /// from `config.seed`) with this machine's extra physical-map entries and its pmem
    /// devices, contents included.
    pub fn reboot(&self, config: crate::SimConfig) -> SimHal {
        let mut m = SimHal::new(config);
        let pmem = self.devices.pmem.borrow();
        for r in &self.devices.resources {
            let from_ram = r.name == IORES_SYSTEM_RAM && r.busy && self.regions.iter().any(|g| g.start == r.start && g.len == r.len);
            let from_pmem = pmem.iter().any(|d| d.start == r.start);
            if !from_ram && !from_pmem {
                // It fitted the old map, so it fits the new one unless `config` grew RAM
                // into it; then it is left out.
                let _ = m.add_resource(*r);
            }
        }
        for d in pmem.iter() {
            let _ = m.add_pmem(d.clone());
        }
        m
    }
}
