//! [`SlabMap`]: kernel objects that live in a slab cache and are found by id.
//!
//! Linux keeps a pointer to a slab object wherever it needs one (`struct file *` in the
//! descriptor table); k43 names kernel objects by id, so this map joins the id to the
//! object's [`SlabObj`] handle. The object itself lives in the cache's slab, whose frames
//! come from the kernel's frame allocator: allocation can fail with `ENOMEM` as
//! `kmem_cache_alloc` can, and `/proc/slabinfo` counts the objects.

use super::{Gfp, KmemCache, PageSource, SlabFlags, SlabInfo, SlabObj};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The CPU every kernel cache is used from: a `Kernel` runs one step at a time, and
/// several CPUs of one host are interleavings of that one thread (DESIGN.md §3).
const CPU: u32 = 0;

/// Objects of type `T` in the slab cache `name`, by id.
pub struct SlabMap<T> {
    cache: KmemCache<T>,
    index: BTreeMap<u64, SlabObj>,
}

impl<T: Default + Send> SlabMap<T> {
    /// `kmem_cache_create(name, sizeof(T), 0, flags, NULL)` on one CPU, taking frames
    /// from `pages`. Returns `None` only for parameters no cache can have (an empty name,
    /// a type larger than the biggest slab), a kernel bug rather than an input.
    pub fn new(name: &str, flags: SlabFlags, pages: Arc<dyn PageSource>) -> Option<SlabMap<T>> {
        let cache = KmemCache::create(name, 0, flags, None, 1, pages).ok()?;
        Some(SlabMap { cache, index: BTreeMap::new() })
    }

    /// Allocates an object for `id` holding `value`; `ENOMEM` when no frame is left for
    /// a new slab, `EEXIST` if `id` is already present (a kernel bug, refused).
    pub fn insert(&mut self, id: u64, value: T) -> Result<(), Errno> {
        if self.index.contains_key(&id) {
            return Err(Errno::EEXIST);
        }
        let obj = self.cache.alloc(CPU, Gfp::KERNEL).map_err(|e| e.errno())?;
        match self.cache.with_object(obj, |o| *o = value) {
            Ok(()) => {
                self.index.insert(id, obj);
                Ok(())
            }
            Err(e) => {
                let _ = self.cache.free(CPU, obj);
                Err(e.errno())
            }
        }
    }

    /// Runs `f` on object `id`; `None` if there is none.
    pub fn update<R>(&self, id: &u64, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let obj = *self.index.get(id)?;
        self.cache.with_object(obj, f).ok()
    }

    /// A copy of object `id`.
    pub fn get(&self, id: &u64) -> Option<T>
    where
        T: Clone,
    {
        self.update(id, |o| o.clone())
    }

    /// Whether object `id` exists.
    pub fn contains_key(&self, id: &u64) -> bool {
        self.index.contains_key(id)
    }

    /// Frees object `id` (`kmem_cache_free`) and returns its last value.
    pub fn remove(&mut self, id: &u64) -> Option<T> {
        let obj = self.index.remove(id)?;
        let value = self.cache.with_object(obj, core::mem::take).ok();
        let _ = self.cache.free(CPU, obj);
        value
    }

    /// Copies of every object with its id, in id order.
    pub fn entries(&self) -> Vec<(u64, T)>
    where
        T: Clone,
    {
        self.index.keys().filter_map(|&id| Some((id, self.get(&id)?))).collect()
    }

    /// Whether any object satisfies `pred`.
    pub fn any(&self, mut pred: impl FnMut(&T) -> bool) -> bool {
        self.index.values().any(|&obj| self.cache.with_object(obj, |o| pred(o)).unwrap_or(false))
    }

    /// Objects present.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The cache's `/proc/slabinfo` line.
    pub fn slabinfo(&self) -> SlabInfo {
        self.cache.slabinfo()
    }

    /// The cache itself (for consistency checks: [`KmemCache::check`], its frames).
    pub fn cache(&self) -> &KmemCache<T> {
        &self.cache
    }
}

impl<T> core::fmt::Debug for SlabMap<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SlabMap").field("cache", &self.cache).field("objects", &self.index.len()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::hal::MemRegion;
    use crate::mm::frame::FrameAllocator;
    use crate::sync::SpinLock;

    #[test]
    fn objects_live_in_slab_frames_until_removed() {
        let frames = Arc::new(SpinLock::new(FrameAllocator::new(&[MemRegion { start: 0, len: 2 * 4096 }])));
        let mut m: SlabMap<[u64; 32]> = SlabMap::new("test", SlabFlags::HWCACHE_ALIGN, frames.clone()).unwrap();
        let mut n = 0u64;
        while m.insert(n, [n; 32]).is_ok() {
            n += 1;
        }
        // Two frames of 256-byte objects, 16 to a frame, then no frame for a third slab.
        assert_eq!(n, 32);
        assert_eq!(m.insert(99, [0; 32]), Err(Errno::ENOMEM));
        assert_eq!(frames.lock().free_frames(), 0);
        assert_eq!(m.insert(3, [0; 32]), Err(Errno::EEXIST));
        assert_eq!(m.get(&5).map(|o| o[31]), Some(5));
        assert_eq!(m.update(&5, |o| core::mem::replace(&mut o[0], 77)), Some(5));
        assert!(m.any(|o| o[0] == 77));
        assert_eq!(m.remove(&5).map(|o| o[0]), Some(77));
        assert_eq!(m.get(&5), None);
        assert_eq!(m.len(), 31);
        assert_eq!(m.slabinfo().in_use, 31);
        m.insert(99, [1; 32]).unwrap();
        assert_eq!(m.entries().len(), 32);
        m.cache().check().unwrap();
    }
}
