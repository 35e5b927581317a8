//! The iomem resource tree (`kernel/resource.c`): `request_mem_region` and release,
//! `region_intersects`, and the `/proc/iomem` text.

use super::Iomem;
use crate::hal::{Hal, PhysAddr};
use crate::kernel::Kernel;
use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// `IORESOURCE_MEM`: the resource is memory space.
pub const IORESOURCE_MEM: u64 = 0x0000_0200;
/// `IORESOURCE_BUSY`: claimed; nobody may request a region inside it.
pub const IORESOURCE_BUSY: u64 = 0x8000_0000;

/// `MAX_IORES_LEVEL`: `/proc/iomem` indents at most this deep.
const MAX_IORES_LEVEL: usize = 5;

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

impl Iomem {
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
    pub(super) fn insert_child(&mut self, path: &[usize], new: Resource) -> Result<(), Option<usize>> {
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
    pub(super) fn release_mem_region_adjustable(&mut self, start: PhysAddr, size: u64) -> Result<(), Errno> {
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
}
