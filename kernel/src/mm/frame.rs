//! The physical page-frame allocator over the HAL's RAM regions.
//!
//! A bump pointer through the regions plus a LIFO free list: deterministic, O(1), and
//! enough until the buddy allocator and slab arrive with the mm issue.

use crate::hal::{MemRegion, PhysAddr, PAGE_SIZE};
use alloc::vec::Vec;

/// Hands out and takes back 4 KiB frames.
#[derive(Debug, Default)]
pub struct FrameAllocator {
    regions: Vec<MemRegion>,
    /// Region index and offset of the next never-used frame.
    next: (usize, u64),
    free: Vec<PhysAddr>,
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
        FrameAllocator { regions, next: (0, 0), free: Vec::new(), used: 0, total }
    }

    /// One frame, or `None` when RAM is exhausted.
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
        Some(pa)
    }

    /// Returns a frame.
    pub fn free(&mut self, pa: PhysAddr) {
        self.used -= 1;
        self.free.push(pa);
    }
}
