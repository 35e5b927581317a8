//! Where slabs get their page frames.

use crate::hal::PhysAddr;
use crate::mm::frame::FrameAllocator;
use crate::sync::SpinLock;

/// A source of 4 KiB page frames for slabs (`alloc_pages`/`__free_pages` in the small).
///
/// Shared by every CPU's slow path, hence `Sync`; the model asks for one frame at a time
/// and keeps a slab's frames in a list, so a source needs no contiguous allocation.
pub trait PageSource: Send + Sync {
    /// One frame, or `None` when memory is exhausted (the cache then fails the
    /// allocation: `kmem_cache_alloc` returns NULL, a bulk allocation returns `false`).
    fn alloc_page(&self) -> Option<PhysAddr>;
    /// Gives back a frame this source handed out.
    fn free_page(&self, pa: PhysAddr);
}

/// The kernel's frame allocator behind a spin lock, the way the buddy allocator's zone
/// lock guards it in Linux.
impl PageSource for SpinLock<FrameAllocator> {
    fn alloc_page(&self) -> Option<PhysAddr> {
        self.lock().alloc()
    }

    fn free_page(&self, pa: PhysAddr) {
        self.lock().free(pa)
    }
}
