//! The physical page-frame allocator over the HAL's RAM regions, with a reference count
//! per frame (`page->_count`).
//!
//! A bump pointer through the regions plus a LIFO free list: deterministic, O(1), and
//! enough until the buddy allocator arrives. A frame is handed out with one reference;
//! copy-on-write sharing after `fork` and the page cache take more with [`get`] and drop
//! them with [`put`], which frees the frame when the last one goes.
//!
//! [`get`]: FrameAllocator::get
//! [`put`]: FrameAllocator::put

use crate::hal::{MemRegion, PhysAddr, PAGE_SIZE};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Hands out and takes back 4 KiB frames.
#[derive(Debug, Default)]
pub struct FrameAllocator {
    regions: Vec<MemRegion>,
    /// Region index and offset of the next never-used frame.
    next: (usize, u64),
    free: Vec<PhysAddr>,
    /// References to each frame handed out (absent = free).
    refs: BTreeMap<PhysAddr, u32>,
    /// Frames currently handed out.
    pub used: u64,
    /// Frames in all regions.
    pub total: u64,
}

impl FrameAllocator {
    /// An allocator over `regions` (each trimmed to whole pages).
    pub fn new(regions: &[MemRegion]) -> FrameAllocator {
        let regions: Vec<MemRegion> = regions
            .iter()
            .map(|r| {
                let start = r.start.next_multiple_of(PAGE_SIZE);
                let end = (r.start + r.len) & !(PAGE_SIZE - 1);
                MemRegion { start, len: end.saturating_sub(start) }
            })
            .filter(|r| r.len > 0)
            .collect();
        let total = regions.iter().map(|r| r.len / PAGE_SIZE).sum();
        FrameAllocator { regions, next: (0, 0), free: Vec::new(), refs: BTreeMap::new(), used: 0, total }
    }

    /// One frame with one reference, or `None` when RAM is exhausted.
    pub fn alloc(&mut self) -> Option<PhysAddr> {
        let pa = match self.free.pop() {
            Some(pa) => pa,
            None => loop {
                let r = self.regions.get(self.next.0)?;
                if self.next.1 < r.len {
                    let pa = r.start + self.next.1;
                    self.next.1 += PAGE_SIZE;
                    break pa;
                }
                self.next = (self.next.0 + 1, 0);
            },
        };
        self.used += 1;
        self.refs.insert(pa, 1);
        Some(pa)
    }

    /// Takes another reference on a frame in use (`get_page`).
    pub fn get(&mut self, pa: PhysAddr) {
        match self.refs.get_mut(&pa) {
            Some(n) => *n += 1,
            None => debug_assert!(false, "get_page on free frame {pa:#x}"),
        }
    }

    /// Drops a reference (`put_page`); the last one frees the frame.
    pub fn put(&mut self, pa: PhysAddr) {
        let Some(n) = self.refs.get_mut(&pa) else {
            debug_assert!(false, "put_page on free frame {pa:#x}");
            return;
        };
        *n -= 1;
        if *n == 0 {
            self.refs.remove(&pa);
            self.used -= 1;
            self.free.push(pa);
        }
    }

    /// Returns a frame the caller holds the only reference to (same as [`FrameAllocator::put`]).
    pub fn free(&mut self, pa: PhysAddr) {
        debug_assert_eq!(self.refs.get(&pa), Some(&1), "free of a shared frame {pa:#x}");
        self.put(pa);
    }

    /// References held on `pa` (0 when free).
    pub fn refcount(&self, pa: PhysAddr) -> u32 {
        self.refs.get(&pa).copied().unwrap_or(0)
    }

    /// Every frame in use with its reference count, by address.
    pub fn in_use(&self) -> impl Iterator<Item = (PhysAddr, u32)> + '_ {
        self.refs.iter().map(|(&pa, &n)| (pa, n))
    }

    /// Frames not handed out (`NR_FREE_PAGES`).
    pub fn free_frames(&self) -> u64 {
        self.total - self.used
    }
}
