//! Managed (`devm_`) resources (`drivers/base/devres.c`): the devices that own them, the
//! managed `request_mem_region` and `memremap`, and their release on detach.

use super::{warn, Iomem};
use crate::hal::{Hal, PhysAddr, VirtAddr};
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;

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

/// A managed resource, released in reverse order when its device detaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Devres {
    Region { start: PhysAddr, n: u64 },
    Memremap { addr: VirtAddr },
    Pages { start: PhysAddr, size: u64 },
}

impl Iomem {
    /// `devres_alloc`: fails once after [`Iomem::fail_next_devres_alloc`] is set.
    pub(super) fn devres_alloc(&mut self) -> bool {
        !core::mem::take(&mut self.fail_next_devres_alloc)
    }

    pub(super) fn devres_add(&mut self, dev: &Device, r: Devres) {
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
}
