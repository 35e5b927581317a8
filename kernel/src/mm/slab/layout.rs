//! Cache geometry, in 4.3's arithmetic: `calculate_alignment` (mm/slab_common.c), the
//! size rounding of SLAB's `__kmem_cache_create`, `cache_estimate`/`calculate_slab_order`
//! (objects per slab and slab order) and `enable_cpucache` (default per-CPU tunables), all
//! from mm/slab.c.
//!
//! Pure functions of the object size, so `/proc/slabinfo`'s `objsize`, `objperslab`,
//! `pagesperslab`, `limit`, `batchcount` and `sharedfactor` columns come out as a 4.3
//! SLAB kernel on x86_64 would print them.

use super::SlabFlags;
use crate::hal::PAGE_SIZE;

/// `PAGE_SIZE` as a `usize` (slab geometry is host-sized arithmetic).
pub(super) const PAGE: usize = PAGE_SIZE as usize;
/// `BYTES_PER_WORD` (`sizeof(void *)`): every object size is rounded to it.
const BYTES_PER_WORD: usize = 8;
/// `cache_line_size()` on x86_64: what `SLAB_HWCACHE_ALIGN` aligns to.
pub(super) const CACHE_LINE: usize = 64;
/// `ARCH_SLAB_MINALIGN` (`__alignof__(unsigned long long)`).
const ARCH_SLAB_MINALIGN: usize = 8;
/// `OFF_SLAB_MIN_SIZE` (`PAGE_SIZE >> 5`): smaller objects keep their freelist (one index
/// per object) inside the slab, which costs some objects per slab.
const OFF_SLAB_MIN_SIZE: usize = PAGE >> 5;
/// `sizeof(freelist_idx_t)`: `unsigned short` on x86_64 with 4 KiB pages (the byte index
/// is only used when `PAGE_SIZE >> 8 <= SLAB_OBJ_MIN_SIZE`, which 8-byte kmalloc rules out).
const FREELIST_IDX: usize = 2;
/// Largest slab order tried. Linux goes to `KMALLOC_MAX_ORDER`; the model stops at 3
/// (32 KiB) because a handle keeps the slot index in [`SLOT_BITS`](super::SLOT_BITS) bits.
pub(super) const MAX_ORDER: u32 = 3;
/// `slab_max_order`: `SLAB_MAX_ORDER_HI` (1), what `kmem_cache_init` picks on any machine
/// with more than 32 MiB of RAM: do not go above it unless no object fits.
const SLAB_MAX_ORDER: u32 = 1;
/// Most objects one slab may hold: the handle's slot field.
pub(super) const MAX_OBJS: usize = 1 << super::SLOT_BITS;
/// `BATCHREFILL_LIMIT`: an untouched per-CPU array refills at most this many objects.
pub(super) const BATCHREFILL_LIMIT: usize = 16;
/// Upper bound on a per-CPU array's `limit` accepted by tuning (Linux has none; a model
/// keeps every queue bounded).
pub(super) const MAX_LIMIT: usize = 4096;
/// Upper bound on the shared factor accepted by tuning (the shared array holds
/// `shared * batchcount` objects).
pub(super) const MAX_SHARED: usize = 64;

/// Object size, alignment and slab shape of one cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Geometry {
    /// `cachep->object_size`: the caller's object size.
    pub object_size: usize,
    /// `cachep->size`: the object size rounded to word and alignment (the slot stride).
    pub size: usize,
    /// `cachep->align`.
    pub align: usize,
    /// `cachep->gfporder`: a slab is `1 << order` pages.
    pub order: u32,
    /// `cachep->num`: objects per slab.
    pub num: usize,
    /// Whether the freelist lives in the slab (small objects), before the first object.
    pub on_slab_freelist: bool,
}

impl Geometry {
    /// Byte offset of object `idx` inside its slab (`page->s_mem + size * idx`, with
    /// `s_mem` after the on-slab freelist; no colouring in the model).
    pub fn obj_offset(&self, idx: usize) -> usize {
        let mgmt = if self.on_slab_freelist { freelist_size(self.num, self.align) } else { 0 };
        mgmt + self.size * idx
    }
}

/// Per-CPU array tunables (`limit batchcount sharedfactor` in `/proc/slabinfo`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tunables {
    /// Most objects one CPU's array holds before it flushes a batch.
    pub limit: usize,
    /// Objects moved per refill or flush.
    pub batchcount: usize,
    /// The node's shared array holds `shared * batchcount` objects (0: no shared array).
    pub shared: usize,
}

/// `calculate_alignment`: `SLAB_HWCACHE_ALIGN` rounds up to the cache line, halved while
/// the object still fits twice (so two small objects share a line rather than each
/// wasting most of one); never below `ARCH_SLAB_MINALIGN`, always a multiple of a word.
fn calculate_alignment(flags: SlabFlags, align: usize, size: usize) -> usize {
    let mut align = align;
    if flags.contains(SlabFlags::HWCACHE_ALIGN) {
        let mut ralign = CACHE_LINE;
        while size <= ralign / 2 {
            ralign /= 2;
        }
        align = align.max(ralign);
    }
    align.max(ARCH_SLAB_MINALIGN).next_multiple_of(BYTES_PER_WORD)
}

/// `calculate_freelist_size`: one index per object, padded to the alignment so the first
/// object after it stays aligned.
fn freelist_size(nr_objs: usize, align: usize) -> usize {
    (nr_objs * FREELIST_IDX).next_multiple_of(align)
}

/// `calculate_nr_objs`: objects that fit in a slab that also holds their freelist. The
/// first guess ignores the padding, so it is right or one too many.
fn calculate_nr_objs(slab_size: usize, size: usize, align: usize) -> usize {
    let nr = slab_size / (size + FREELIST_IDX);
    let remained = slab_size - nr * size;
    if remained < freelist_size(nr, align) {
        nr.saturating_sub(1)
    } else {
        nr
    }
}

/// `cache_estimate`: objects per slab and bytes left over for a slab of `order`.
fn cache_estimate(order: u32, size: usize, align: usize, on_slab: bool) -> (usize, usize) {
    let slab_size = PAGE << order;
    if on_slab {
        let num = calculate_nr_objs(slab_size, size, align);
        let used = num * size + freelist_size(num, align);
        (num, slab_size.saturating_sub(used))
    } else {
        let num = slab_size / size;
        (num, slab_size - num * size)
    }
}

/// Computes a cache's geometry for objects of `object_size` bytes aligned to `align`,
/// or `None` when no slab order up to [`MAX_ORDER`] holds even one object or the
/// alignment is not a power of two no larger than a page.
pub(super) fn geometry(object_size: usize, align: usize, flags: SlabFlags) -> Option<Geometry> {
    if !align.is_power_of_two() || align > PAGE {
        return None;
    }
    // __kmem_cache_create: round to a word, then to the final alignment. A zero-sized
    // type still takes a word, as a zero-size kmem_cache_create would be refused.
    let size = object_size.max(1).next_multiple_of(BYTES_PER_WORD);
    let align = calculate_alignment(flags, align, size);
    let size = size.next_multiple_of(align);
    let on_slab = size < OFF_SLAB_MIN_SIZE;

    // calculate_slab_order: the smallest order whose waste is at most 1/8 of the slab,
    // not going above slab_max_order unless nothing fits at all.
    let mut best = None;
    for order in 0..=MAX_ORDER {
        let (num, left_over) = cache_estimate(order, size, align, on_slab);
        if num == 0 {
            continue;
        }
        if num > MAX_OBJS {
            break;
        }
        best = Some((order, num));
        // Reclaimable (VFS) caches keep small slabs so they are easier to free.
        if flags.contains(SlabFlags::RECLAIM_ACCOUNT) || order >= SLAB_MAX_ORDER {
            break;
        }
        if left_over * 8 <= PAGE << order {
            break;
        }
    }
    let (order, num) = best?;
    Some(Geometry { object_size, size, align, order, num, on_slab_freelist: on_slab })
}

/// `enable_cpucache`'s defaults: big objects get short per-CPU arrays (each cached object
/// pins more memory); a shared array only on SMP and for objects up to a page.
pub(super) fn default_tunables(size: usize, nr_cpus: usize) -> Tunables {
    let limit = match size {
        s if s > 131_072 => 1,
        s if s > PAGE => 8,
        s if s > 1024 => 24,
        s if s > 256 => 54,
        _ => 120,
    };
    let shared = if size <= PAGE && nr_cpus > 1 { 8 } else { 0 };
    Tunables { limit, batchcount: limit.div_ceil(2), shared }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geo(size: usize, align: usize, flags: SlabFlags) -> Geometry {
        geometry(size, align, flags).unwrap()
    }

    /// Values a 4.3 SLAB x86_64 kernel prints in /proc/slabinfo for caches of these
    /// shapes (objsize, objperslab, pagesperslab).
    #[test]
    fn matches_linux_slabinfo_shapes() {
        let none = SlabFlags::empty();
        // kmalloc-64 style: on-slab freelist costs two objects.
        let g = geo(64, 8, none);
        assert_eq!((g.size, g.num, g.order), (64, 62, 0));
        // kmalloc-32: 4096 / 34 = 120, freelist 240 bytes fits in the 256 left over.
        let g = geo(32, 8, none);
        assert_eq!((g.size, g.num, g.order), (32, 120, 0));
        // 256-byte objects are off-slab: a page holds exactly 16.
        let g = geo(256, 8, none);
        assert_eq!((g.size, g.num, g.order), (256, 16, 0));
        // 1 KiB: 4 per page.
        let g = geo(1024, 8, none);
        assert_eq!((g.num, g.order), (4, 0));
        // 2000 bytes: order 0 wastes 96 <= 512, so 2 per page.
        let g = geo(2000, 8, none);
        assert_eq!((g.size, g.num, g.order), (2000, 2, 0));
        // 3000 bytes: order 0 wastes 1096 > 512, order 1 (slab_max_order) holds 2.
        let g = geo(3000, 8, none);
        assert_eq!((g.num, g.order), (2, 1));
        // ... unless the cache is reclaimable, which stays at order 0.
        let g = geo(3000, 8, SlabFlags::RECLAIM_ACCOUNT);
        assert_eq!((g.num, g.order), (1, 0));
        // Bigger than a page: the first order that holds one.
        let g = geo(5000, 8, none);
        assert_eq!((g.num, g.order), (1, 1));
        // Too big for MAX_ORDER.
        assert!(geometry(PAGE << (MAX_ORDER + 1), 8, none).is_none());
    }

    #[test]
    fn hwcache_align_halves_for_small_objects() {
        let hw = SlabFlags::HWCACHE_ALIGN;
        assert_eq!(geo(20, 8, hw).size, 32); // fits twice in 64: align 32
        assert_eq!(geo(40, 8, hw).size, 64);
        assert_eq!(geo(8, 8, hw).size, 8);
        assert_eq!(geo(100, 8, hw).size, 128);
        assert_eq!(geo(1, 8, SlabFlags::empty()).size, 8);
        assert_eq!(geo(0, 8, SlabFlags::empty()).size, 8);
        assert_eq!(geo(24, 1024, SlabFlags::empty()).size, 1024);
        assert!(geometry(24, 3, SlabFlags::empty()).is_none());
        assert!(geometry(24, 2 * PAGE, SlabFlags::empty()).is_none());
    }

    #[test]
    fn objects_fit_their_slab() {
        for size in (1..=PAGE * 8).step_by(37) {
            for align in [8, 64, 512] {
                let Some(g) = geometry(size, align, SlabFlags::empty()) else { continue };
                assert!(g.num >= 1 && g.num <= MAX_OBJS);
                assert_eq!(g.obj_offset(0) % g.align, 0, "size {size} align {align}");
                assert!(g.obj_offset(g.num - 1) + g.size <= PAGE << g.order, "size {size}");
            }
        }
    }

    #[test]
    fn enable_cpucache_defaults() {
        assert_eq!(default_tunables(256, 2), Tunables { limit: 120, batchcount: 60, shared: 8 });
        assert_eq!(default_tunables(257, 1), Tunables { limit: 54, batchcount: 27, shared: 0 });
        assert_eq!(default_tunables(2048, 4), Tunables { limit: 24, batchcount: 12, shared: 8 });
        assert_eq!(default_tunables(8192, 4), Tunables { limit: 8, batchcount: 4, shared: 0 });
    }
}
