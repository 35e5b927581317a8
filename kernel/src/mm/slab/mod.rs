//! The slab allocator: typed object caches (`struct kmem_cache`) with per-CPU object
//! arrays, a shared node list, and the bulk API merged in Linux 4.3
//! (`kmem_cache_alloc_bulk` / `kmem_cache_free_bulk`).
//!
//! # Shape
//!
//! The structure is mm/slab.c's (SLAB), because its per-CPU `array_cache` plus the node's
//! shared array is exactly "per-CPU freelists refilled from / flushed to a shared list in
//! batches":
//!
//! - each CPU has an array of free objects (`limit` entries); allocation pops the most
//!   recently freed (cache-warm) object, free pushes;
//! - an empty array refills `batchcount` objects from the node's shared array, else from
//!   partial slabs, else free slabs, else grows a new slab from page frames
//!   (`cache_alloc_refill`, `cache_grow`);
//! - a full array flushes its `batchcount` oldest objects to the shared array, or back
//!   into their slabs (`cache_flusharray`, `free_block`).
//!
//! The bulk calls take the per-CPU array once per call and loop over it — the shape of
//! SLUB's 4.3 bulk code (and of SLAB's own bulk loop from 4.4), where 4.3's SLAB used the
//! generic one-object-at-a-time fallback. That fallback is kept as
//! [`alloc_bulk_fallback`](KmemCache::alloc_bulk_fallback) /
//! [`free_bulk_fallback`](KmemCache::free_bulk_fallback) for comparison, as in Jesper
//! Dangaard Brouer's measurements.
//!
//! # Model choices
//!
//! - **Typed objects and handles.** A [`KmemCache<T>`] holds `T`s; callers get a
//!   [`SlabObj`] handle (cache, slab, slot, generation) instead of a pointer and reach the
//!   object through [`with_object`](KmemCache::with_object). Slabs are still carved from
//!   page frames of a [`PageSource`]: a slab takes `1 << order` frames and holds the
//!   number of objects Linux would fit in them, and [`obj_addr`](KmemCache::obj_addr)
//!   tells where in those frames an object sits.
//! - **Locks for interrupt disabling.** Linux protects a CPU's array by disabling local
//!   interrupts. Here each CPU's array is behind its own [`SpinLock`], uncontended when
//!   callers keep to their CPU, so that code sharing a cache across threads (loom, or a
//!   caller passing the wrong CPU) stays sound. One lock round trip per call is the cost
//!   the bulk API amortises, as `local_irq_disable`/`enable` plus the `tid` bump are in
//!   SLUB. Lock order: a CPU's array, then a slab's lock or the node's list lock (never
//!   both), then an object's lock or the page source.
//! - **Always-on checking.** Linux detects a wrong-cache or double free only with
//!   debugging enabled (`SLAB_DEBUG_FREE`, redzones, memcg). Here every object has a
//!   state word (generation and allocated bit) that a free checks and flips under its
//!   slab's lock, so a double free (even two racing ones on different CPUs), a stale
//!   handle, a foreign or forged handle is refused with a [`SlabError`] and counted in
//!   [`errors`](KmemCache::errors) — never a panic, never an object handed out twice.
//!   A bulk free takes each slab's lock once per run of that slab's objects, the way
//!   4.4's SLUB frees a "detached freelist" per page with one cmpxchg.
//! - **Not modelled:** NUMA nodes and alien caches, slab colouring, memcg, `cache_reap`'s
//!   timers (call [`shrink`](KmemCache::shrink)), the rule that the bulk calls need
//!   interrupts enabled (there are no interrupts to check), blocking `gfp` masks (the
//!   model never sleeps), and page contiguity (a slab's frames are allocated one by one).

#![warn(missing_docs)]

mod info;
mod layout;
mod node;
mod page;
mod store;

pub use info::{SlabErrors, SlabInfo, SLABINFO_HEADER};
pub use layout::Tunables;
pub use page::PageSource;
pub use store::SlabMap;

use crate::hal::PhysAddr;
use crate::sync::{AtomicU32, AtomicU64, Ordering::Relaxed, SpinLock};
use crate::uapi::Errno;
use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use alloc::vec::Vec;
use layout::{Geometry, BATCHREFILL_LIMIT, MAX_LIMIT, MAX_SHARED, PAGE};
use node::{split, List, Node, Slab};

/// Bits of a handle's location word that hold the slot index (objects per slab ≤ 4096).
const SLOT_BITS: u32 = 12;
/// Mask of the slot index.
const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
/// Most slabs one cache can have at once (the rest of the location word).
const MAX_SLABS: usize = 1 << (32 - SLOT_BITS);
/// State-word bit: the object is held by a caller.
const ALLOCATED: u32 = 1;
/// Generations are 31 bits (the state word's upper bits); they wrap after 2^31 frees of
/// one slot, after which a handle that old could alias a new allocation.
const GEN_MASK: u32 = u32::MAX >> 1;
/// Most CPUs a cache accepts (`NR_CPUS`).
const MAX_CPUS: u32 = 1024;
/// Failslab countdown value meaning "disarmed".
const FAILSLAB_OFF: u64 = u64::MAX;

/// Allocation flags (`gfp_t`), with 4.3's bit values (before 4.4 reworked `__GFP_WAIT`).
///
/// Only [`ZERO`](Self::ZERO) changes what the model does; the reclaim bits are accepted
/// so call sites read as in Linux, but the model never sleeps or reclaims.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Gfp(pub u32);

impl Gfp {
    /// `__GFP_WAIT`: the caller can sleep.
    pub const WAIT: Gfp = Gfp(0x10);
    /// `__GFP_HIGH`: may use emergency reserves.
    pub const HIGH: Gfp = Gfp(0x20);
    /// `__GFP_IO`: may start physical I/O.
    pub const IO: Gfp = Gfp(0x40);
    /// `__GFP_FS`: may call into the filesystem.
    pub const FS: Gfp = Gfp(0x80);
    /// `__GFP_NOWARN`: no failure warning.
    pub const NOWARN: Gfp = Gfp(0x200);
    /// `__GFP_ZERO`: return zeroed objects (here: `T::default()`).
    pub const ZERO: Gfp = Gfp(0x8000);
    /// `GFP_NOWAIT`: no sleeping, no reserves.
    pub const NOWAIT: Gfp = Gfp(0);
    /// `GFP_ATOMIC`: no sleeping; may dip into reserves.
    pub const ATOMIC: Gfp = Gfp::HIGH;
    /// `GFP_KERNEL`: process context, may sleep and reclaim.
    pub const KERNEL: Gfp = Gfp(Gfp::WAIT.0 | Gfp::IO.0 | Gfp::FS.0);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Gfp) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for Gfp {
    type Output = Gfp;
    fn bitor(self, rhs: Gfp) -> Gfp {
        Gfp(self.0 | rhs.0)
    }
}

/// `kmem_cache_create` flags (`SLAB_*`, 4.3 values). Unknown bits are dropped, as
/// `CACHE_CREATE_MASK` drops them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SlabFlags(pub u32);

impl SlabFlags {
    /// `SLAB_POISON`: a freed object is overwritten (here: reset to `T::default()`), and
    /// the constructor then runs at every allocation instead of once per slab.
    pub const POISON: SlabFlags = SlabFlags(0x0000_0800);
    /// `SLAB_HWCACHE_ALIGN`: align objects to cache lines.
    pub const HWCACHE_ALIGN: SlabFlags = SlabFlags(0x0000_2000);
    /// `SLAB_RECLAIM_ACCOUNT`: objects are reclaimable; keeps slabs at the smallest order.
    pub const RECLAIM_ACCOUNT: SlabFlags = SlabFlags(0x0002_0000);
    /// `SLAB_PANIC`: Linux panics if creation fails. Accepted and ignored: the model never
    /// panics; [`KmemCache::create`] returns an error either way.
    pub const PANIC: SlabFlags = SlabFlags(0x0004_0000);
    /// Bits this model knows.
    const KNOWN: u32 = Self::POISON.0 | Self::HWCACHE_ALIGN.0 | Self::RECLAIM_ACCOUNT.0 | Self::PANIC.0;

    /// No flags.
    pub const fn empty() -> SlabFlags {
        SlabFlags(0)
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: SlabFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for SlabFlags {
    type Output = SlabFlags;
    fn bitor(self, rhs: SlabFlags) -> SlabFlags {
        SlabFlags(self.0 | rhs.0)
    }
}

/// A handle to one object of a [`KmemCache`]: what `kmem_cache_alloc` returns instead of a
/// pointer. `Copy`, like a pointer; freeing a copy twice is detected, not undefined.
///
/// [`SlabObj::NULL`] (also the `Default`) fills arrays before a bulk allocation, as
/// callers zero their `void *p[]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlabObj {
    /// Owning cache's id (0: NULL).
    cache: u32,
    /// Slab number and slot index.
    loc: u32,
    /// Generation of the slot when this handle was issued.
    gen: u32,
}

impl SlabObj {
    /// The NULL handle.
    pub const NULL: SlabObj = SlabObj { cache: 0, loc: 0, gen: 0 };

    /// Whether this is the NULL handle.
    pub const fn is_null(self) -> bool {
        self.cache == 0
    }
}

/// Why a slab call refused a handle or could not allocate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlabError {
    /// No free object and no page frame for a new slab (`kmem_cache_alloc` → NULL).
    NoMemory,
    /// Failslab fault injection refused the allocation.
    Injected,
    /// The CPU number is not below the cache's CPU count.
    BadCpu,
    /// A NULL handle (4.3's SLUB bulk free would `BUG`).
    Null,
    /// The handle belongs to another (or a destroyed) cache.
    ForeignCache,
    /// The handle names a slab or slot this cache never had: forged.
    BadHandle,
    /// Free of an object that is not allocated: already freed, or a stale handle.
    DoubleFree,
    /// Access through a handle whose object is not allocated (use after free).
    UseAfterFree,
    /// `create` or `tune` arguments out of range.
    Invalid,
}

impl SlabError {
    /// The errno Linux would report for this condition.
    pub fn errno(self) -> Errno {
        match self {
            SlabError::NoMemory | SlabError::Injected => Errno::ENOMEM,
            SlabError::DoubleFree | SlabError::UseAfterFree => Errno::EFAULT,
            _ => Errno::EINVAL,
        }
    }
}

/// What [`KmemCache::free_bulk`] reports when some entries were refused. The other
/// entries were freed all the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeBulkError {
    /// Index of the first refused entry.
    pub index: usize,
    /// Why it was refused.
    pub error: SlabError,
    /// How many entries were refused in all.
    pub rejected: usize,
}

/// Error counters, bumped only on error paths.
#[derive(Default)]
struct ErrorCounters {
    double_free: AtomicU64,
    use_after_free: AtomicU64,
    foreign: AtomicU64,
    bad_handle: AtomicU64,
    null: AtomicU64,
    bad_cpu: AtomicU64,
    nomem: AtomicU64,
    injected: AtomicU64,
}

/// Per-CPU slow-path counters (STATS' `allocmiss`/`freemiss`), kept under the CPU's
/// lock. No per-object hit counters: the fast paths stay free of bookkeeping beyond
/// `live`, as Linux keeps them only in `CONFIG_DEBUG_SLAB` builds.
#[derive(Clone, Copy, Debug, Default)]
struct CpuStats {
    refills: u64,
    flushes: u64,
}

/// One CPU's `struct array_cache`, plus its private copy of the slab directory.
struct CpuCache<T> {
    /// `ac->entry[0..avail)`: free objects, most recently freed last.
    entry: Vec<u32>,
    /// `ac->limit`.
    limit: usize,
    /// `ac->batchcount`.
    batchcount: usize,
    /// `ac->touched`: used since the last refill; an untouched array refills less.
    touched: bool,
    /// Slab number → memory, as this CPU last saw the node's directory. Lets a free
    /// validate its handle without the node's lock. Invariant: every object in `entry`
    /// has its (live) slab here; any other entry may be stale, which a failed check
    /// notices and repairs under the node lock.
    dir: Vec<Option<Arc<Slab<T>>>>,
    /// Allocations minus frees on this CPU (negative when it frees others' objects).
    live: i64,
    stats: CpuStats,
}

/// A CPU's array on its own cache line, so CPUs do not false-share their locks.
#[repr(align(64))]
struct PerCpu<T>(SpinLock<CpuCache<T>>);

/// A slab cache of `T` objects (`struct kmem_cache`), created by
/// [`create`](Self::create) (`kmem_cache_create`).
///
/// Every call names the CPU it runs on (`cpu`, below the CPU count given at creation):
/// Linux's `this_cpu` made explicit, so the simulator and loom can play several CPUs.
pub struct KmemCache<T> {
    name: Box<str>,
    id: u32,
    flags: SlabFlags,
    geo: Geometry,
    ctor: Option<fn(&mut T)>,
    cpus: Box<[PerCpu<T>]>,
    /// `kmem_cache_node` behind its `list_lock`.
    node: SpinLock<Node<T>>,
    pages: Arc<dyn PageSource>,
    /// Failslab countdown: this many more allocations succeed, the next fails.
    failslab: AtomicU64,
    errors: ErrorCounters,
}

#[cfg(not(loom))]
static NEXT_CACHE_ID: AtomicU32 = AtomicU32::new(1);

#[cfg(loom)]
loom::lazy_static! {
    // loom's atomics have no const constructor; this one is reset per model execution.
    static ref NEXT_CACHE_ID: AtomicU32 = AtomicU32::new(1);
}

/// A cache id no other live cache has, so a handle carries its cache with it (Linux finds
/// the cache from the object's page; a handle has no page).
fn next_cache_id() -> u32 {
    loop {
        let id = NEXT_CACHE_ID.fetch_add(1, Relaxed);
        if id != 0 {
            return id;
        }
    }
}

/// Brings `dir[sid]` in line with the node's directory (`node_dir`, read under its lock).
#[inline]
fn sync_dir<T>(dir: &mut Vec<Option<Arc<Slab<T>>>>, node_dir: &[Option<Arc<Slab<T>>>], sid: usize) {
    let cur = node_dir.get(sid).and_then(Option::as_ref);
    if dir.len() <= sid {
        if cur.is_none() {
            return;
        }
        dir.resize_with(sid + 1, || None);
    }
    let same = match (&dir[sid], cur) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    };
    if !same {
        dir[sid] = cur.cloned();
    }
}

impl<T: Default + Send> KmemCache<T> {
    /// `kmem_cache_create(name, sizeof(T), align, flags, ctor)` for a machine with
    /// `nr_cpus` CPUs, taking slab frames from `pages`.
    ///
    /// The alignment used is the larger of `align` and `T`'s own; it must be a power of
    /// two no larger than a page. `ctor` initialises each object once when its slab is
    /// created (objects must be freed in that constructed state, as in Linux). Returns
    /// [`SlabError::Invalid`] where Linux returns NULL.
    pub fn create(
        name: &str,
        align: usize,
        flags: SlabFlags,
        ctor: Option<fn(&mut T)>,
        nr_cpus: u32,
        pages: Arc<dyn PageSource>,
    ) -> Result<Self, SlabError> {
        if name.is_empty() || nr_cpus == 0 || nr_cpus > MAX_CPUS {
            return Err(SlabError::Invalid);
        }
        let flags = SlabFlags(flags.0 & SlabFlags::KNOWN);
        let align = align.max(core::mem::align_of::<T>());
        let geo = layout::geometry(core::mem::size_of::<T>(), align, flags).ok_or(SlabError::Invalid)?;
        let tun = layout::default_tunables(geo.size, nr_cpus as usize);
        // With SLAB_POISON the constructor runs at allocation (the poisoned object has
        // lost its constructed state), not when the slab is filled.
        let slab_ctor = if flags.contains(SlabFlags::POISON) { None } else { ctor };
        let cpus = (0..nr_cpus)
            .map(|_| {
                PerCpu(SpinLock::new(CpuCache {
                    entry: Vec::with_capacity(tun.limit),
                    limit: tun.limit,
                    batchcount: tun.batchcount,
                    touched: false,
                    dir: Vec::new(),
                    live: 0,
                    stats: CpuStats::default(),
                }))
            })
            .collect();
        Ok(KmemCache {
            name: name.into(),
            id: next_cache_id(),
            flags,
            geo,
            ctor,
            cpus,
            node: SpinLock::new(Node::new(geo, tun, slab_ctor, nr_cpus as usize)),
            pages,
            failslab: AtomicU64::new(FAILSLAB_OFF),
            errors: ErrorCounters::default(),
        })
    }

    /// `kmem_cache_alloc(cachep, flags)` on CPU `cpu`.
    pub fn alloc(&self, cpu: u32, flags: Gfp) -> Result<SlabObj, SlabError> {
        let mut guard = self.percpu(cpu)?.lock();
        let c = &mut *guard;
        // Fast path (`ac->avail` non-zero, no hooks armed): pop, mark, return.
        if self.failslab.load(Relaxed) == FAILSLAB_OFF
            && !flags.contains(Gfp::ZERO)
            && !self.flags.contains(SlabFlags::POISON)
        {
            if let Some(&l) = c.entry.last() {
                let (sid, slot) = split(l);
                if let Some(s) = c.dir.get(sid).and_then(Option::as_deref).and_then(|s| s.slots.get(slot)) {
                    c.entry.pop();
                    // As in `take_from_array`: only this CPU holds the object.
                    let st = s.state.load(Relaxed);
                    debug_assert_eq!(st & ALLOCATED, 0, "cached object already allocated");
                    s.state.store(st | ALLOCATED, Relaxed);
                    c.live += 1;
                    // Store only on change: an unconditional byte store here cost 3 ns
                    // per alloc+free pair on the benchmark machine (benches/README.md).
                    if !c.touched {
                        c.touched = true;
                    }
                    return Ok(SlabObj { cache: self.id, loc: l, gen: st >> 1 });
                }
            }
        }
        self.alloc_one(c, flags)
    }

    /// `kmem_cache_free(cachep, objp)` on CPU `cpu`.
    ///
    /// Refuses (and counts) a NULL, foreign, forged or not-allocated handle; the cache is
    /// unchanged then.
    pub fn free(&self, cpu: u32, obj: SlabObj) -> Result<(), SlabError> {
        let mut guard = self.percpu(cpu)?.lock();
        let c = &mut *guard;
        // Fast path: room in the array, the handle checks out against this CPU's view.
        if let Ok(sid) = self.precheck(obj) {
            if c.entry.len() < c.limit && !self.flags.contains(SlabFlags::POISON) {
                if let Some(slab) = c.dir.get(sid).and_then(Option::as_deref) {
                    let s = &slab.slots[split(obj.loc).1];
                    let freed = {
                        let _held = slab.lock.lock();
                        let ok = s.state.load(Relaxed) == (obj.gen << 1) | ALLOCATED;
                        if ok {
                            s.state.store(((obj.gen + 1) & GEN_MASK) << 1, Relaxed);
                        }
                        ok
                    };
                    if freed {
                        c.entry.push(obj.loc);
                        c.live -= 1;
                        return Ok(());
                    }
                }
            }
        }
        // Everything else, including every refusal, takes the general path.
        let mut res = Ok(());
        self.free_objs(c, &[obj], |_, e| res = Err(e));
        res
    }

    /// `kmem_cache_alloc_bulk(s, flags, p.len(), p)` with 4.3's semantics: fills all of
    /// `p` with distinct objects and returns `true`, or returns `false` having allocated
    /// nothing — the objects obtained before the failure are freed again, and `p` is left
    /// holding their now-stale handles (freeing those is a detected double free).
    /// An empty `p` returns `true`. With [`Gfp::ZERO`] every object is reset to
    /// `T::default()`.
    ///
    /// The CPU's array is taken once for the whole batch, refilled from the node inside
    /// the loop when it runs dry (SLUB's 4.3 loop calls its slow path the same way).
    ///
    /// Linux 4.4 changed the return type to `int`: the number of objects allocated,
    /// always `size` on success and 0 on failure — still all-or-nothing; the count left
    /// room for a later partial-allocation flag. Modern kernels keep that `int` form.
    pub fn alloc_bulk(&self, cpu: u32, flags: Gfp, p: &mut [SlabObj]) -> bool {
        match p {
            [] => return true,
            // One object: the single fast path is the cheapest way to the same result.
            [one] => return self.alloc(cpu, flags).map(|obj| *one = obj).is_ok(),
            _ => {}
        }
        let Ok(pc) = self.percpu(cpu) else { return false };
        let mut guard = pc.lock();
        let c = &mut *guard;
        let mut i = 0;
        while i < p.len() {
            let done = if self.failslab.load(Relaxed) != FAILSLAB_OFF {
                // Armed fault injection is a per-object hook: one object at a time.
                self.alloc_one(c, flags).map(|obj| p[i] = obj).map(|()| 1)
            } else if c.entry.is_empty() {
                c.stats.refills += 1;
                self.refill(c).map(|()| 0)
            } else {
                // As many as the array holds, in one tight loop (SLUB pops its per-CPU
                // freelist the same way).
                let k = (p.len() - i).min(c.entry.len());
                self.take_from_array(c, &mut p[i..i + k], flags);
                Ok(k)
            };
            match done {
                Ok(k) => i += k,
                Err(_) => {
                    self.free_objs(c, &p[..i], |_, _| debug_assert!(false, "rolling back our own allocation"));
                    return false;
                }
            }
        }
        true
    }

    /// `kmem_cache_free_bulk(s, p.len(), p)`: frees the objects in array order under one
    /// acquisition of the CPU's array. 4.3 returns nothing and `BUG`s on NULL; here every
    /// valid entry is freed, and entries that are NULL, foreign, forged or not allocated
    /// are skipped, counted, and reported in a [`FreeBulkError`].
    pub fn free_bulk(&self, cpu: u32, p: &[SlabObj]) -> Result<(), FreeBulkError> {
        match p {
            [] => return Ok(()),
            [one] => return self.free(cpu, *one).map_err(|error| FreeBulkError { index: 0, error, rejected: 1 }),
            _ => {}
        }
        let pc = self.percpu(cpu).map_err(|error| FreeBulkError { index: 0, error, rejected: p.len() })?;
        let mut c = pc.lock();
        let mut failed: Option<FreeBulkError> = None;
        self.free_objs(&mut c, p, |index, error| {
            failed.get_or_insert(FreeBulkError { index, error, rejected: 0 }).rejected += 1;
        });
        failed.map_or(Ok(()), Err)
    }

    /// `__kmem_cache_alloc_bulk`, the generic fallback of mm/slab_common.c that 4.3's
    /// SLAB and SLOB used: one [`alloc`](Self::alloc) per object, freeing the ones already
    /// obtained if any fails. Same result as [`alloc_bulk`](Self::alloc_bulk); kept to
    /// measure what the native loop saves.
    pub fn alloc_bulk_fallback(&self, cpu: u32, flags: Gfp, p: &mut [SlabObj]) -> bool {
        for i in 0..p.len() {
            match self.alloc(cpu, flags) {
                Ok(obj) => p[i] = obj,
                Err(_) => {
                    for &obj in &p[..i] {
                        let undone = self.free(cpu, obj);
                        debug_assert!(undone.is_ok(), "rolling back our own allocation");
                    }
                    return false;
                }
            }
        }
        true
    }

    /// `__kmem_cache_free_bulk`: one [`free`](Self::free) per object.
    pub fn free_bulk_fallback(&self, cpu: u32, p: &[SlabObj]) -> Result<(), FreeBulkError> {
        let mut failed: Option<FreeBulkError> = None;
        for (index, &obj) in p.iter().enumerate() {
            if let Err(error) = self.free(cpu, obj) {
                failed.get_or_insert(FreeBulkError { index, error, rejected: 0 }).rejected += 1;
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// Runs `f` on the object behind `obj` (a pointer dereference in Linux). Refuses a
    /// handle whose object is not allocated.
    ///
    /// Looks the slab up under the node's list lock, so it costs more than the alloc/free
    /// fast paths. `f` runs holding the object's own lock, which is not reentrant: `f` must
    /// not call `with_object` on the same object again. The check is made at entry; a
    /// free of the object while `f` runs (on another CPU, or from inside `f`) is the
    /// caller's use after free — memory-safe here, and the poisoning or zeroing that would
    /// have needed the object's lock is skipped and counted as a use after free.
    pub fn with_object<R>(&self, obj: SlabObj, f: impl FnOnce(&mut T) -> R) -> Result<R, SlabError> {
        let (slab, slot) = self.live_slab(obj)?;
        let mut guard = slab.slots[slot].obj.lock();
        Ok(f(&mut guard))
    }

    /// Physical address of the object behind `obj`: its slab's frames plus the object's
    /// offset (after the on-slab freelist for small objects), as `virt_to_phys` of the
    /// pointer Linux would have returned.
    pub fn obj_addr(&self, obj: SlabObj) -> Result<PhysAddr, SlabError> {
        let (slab, slot) = self.live_slab(obj)?;
        let off = self.geo.obj_offset(slot);
        Ok(slab.frames[off / PAGE] + (off % PAGE) as u64)
    }

    /// The page frames this cache's slabs hold (for frame-accounting checks).
    pub fn frames(&self) -> Vec<PhysAddr> {
        self.node.lock().all_frames().collect()
    }

    /// `kmem_cache_shrink`: drains every CPU's array and the shared array back into the
    /// slabs and returns every empty slab's frames. Returns the number of slabs destroyed.
    pub fn shrink(&self) -> usize {
        let mut dead = Vec::new();
        let before = self.node.lock().stats.destroyed;
        for pc in self.cpus.iter() {
            // drain_cpu_caches: Linux runs this on each CPU by IPI; here we take its lock.
            let mut c = pc.0.lock();
            self.node.lock().free_block(&c.entry, &mut dead);
            c.entry.clear();
        }
        let mut n = self.node.lock();
        let mut shared = core::mem::take(&mut n.shared);
        n.free_block(&shared, &mut dead);
        shared.clear();
        n.shared = shared;
        let tofree = n.list_len(List::Free);
        n.drain_freelist(tofree, &mut dead);
        let destroyed = (n.stats.destroyed - before) as usize;
        drop(n);
        self.release(dead);
        self.prune_dirs();
        destroyed
    }

    /// Retunes the per-CPU arrays, as writing `name limit batchcount shared` to
    /// `/proc/slabinfo` does (`do_tune_cpucache`): every array and the shared array are
    /// first emptied into the slabs. Linux silently ignores out-of-range values; this
    /// returns [`SlabError::Invalid`] (limits: `1 <= batchcount <= limit <= 4096`,
    /// `shared <= 64`).
    pub fn tune(&self, limit: usize, batchcount: usize, shared: usize) -> Result<(), SlabError> {
        if limit == 0 || limit > MAX_LIMIT || batchcount == 0 || batchcount > limit || shared > MAX_SHARED {
            return Err(SlabError::Invalid);
        }
        let mut dead = Vec::new();
        for pc in self.cpus.iter() {
            let mut c = pc.0.lock();
            self.node.lock().free_block(&c.entry, &mut dead);
            // A fresh `array_cache`, as __do_tune_cpucache allocates one: untouched.
            c.entry = Vec::with_capacity(limit);
            c.limit = limit;
            c.batchcount = batchcount;
            c.touched = false;
        }
        let mut n = self.node.lock();
        let old = core::mem::take(&mut n.shared);
        n.free_block(&old, &mut dead);
        n.set_tunables(Tunables { limit, batchcount, shared });
        drop(n);
        self.release(dead);
        Ok(())
    }

    /// `kmem_cache_destroy`: shrinks the cache and, if no object is still allocated,
    /// destroys it. Otherwise returns the cache unharmed, as Linux refuses with "Slab cache
    /// still has objects".
    #[allow(clippy::result_large_err)] // Err hands the cache back; boxing it buys nothing.
    pub fn destroy(self) -> Result<(), Self> {
        self.shrink();
        let busy = {
            let n = self.node.lock();
            n.list_len(List::Full) + n.list_len(List::Partial) > 0
        };
        if busy {
            Err(self)
        } else {
            Ok(())
        }
    }

    /// Arms failslab fault injection: the next `after` allocations succeed and the one
    /// after fails with [`SlabError::Injected`], then injection disarms. `None` disarms.
    /// (Linux's `should_failslab`, checked in the per-object pre-allocation hook.)
    pub fn set_failslab(&self, after: Option<u64>) {
        self.failslab.store(after.map_or(FAILSLAB_OFF, |n| n.min(FAILSLAB_OFF - 1)), Relaxed);
    }

    /// The cache's `/proc/slabinfo` line and counters.
    pub fn slabinfo(&self) -> SlabInfo {
        let (mut cpu_avail, mut live, mut st) = (0, 0i64, CpuStats::default());
        for pc in self.cpus.iter() {
            let c = pc.0.lock();
            cpu_avail += c.entry.len();
            live += c.live;
            st.refills += c.stats.refills;
            st.flushes += c.stats.flushes;
        }
        let n = self.node.lock();
        let active_slabs = n.list_len(List::Full) + n.list_len(List::Partial);
        let num_slabs = active_slabs + n.list_len(List::Free);
        let num_objs = num_slabs * self.geo.num;
        SlabInfo {
            name: self.name.as_ref().into(),
            active_objs: num_objs - n.free_objects,
            num_objs,
            objsize: self.geo.size,
            objperslab: self.geo.num,
            pagesperslab: 1 << self.geo.order,
            limit: n.tun.limit,
            batchcount: n.tun.batchcount,
            sharedfactor: n.tun.shared,
            active_slabs,
            num_slabs,
            sharedavail: n.shared.len(),
            in_use: usize::try_from(live).unwrap_or(0),
            cpu_avail,
            free_objects: n.free_objects,
            grown: n.stats.grown,
            destroyed: n.stats.destroyed,
            refills: st.refills,
            flushes: st.flushes,
        }
    }

    /// `active_objs`: objects out of their slabs (callers' plus those cached in arrays).
    pub fn active_objs(&self) -> usize {
        self.slabinfo().active_objs
    }

    /// `num_objs`: objects in all slabs.
    pub fn num_objs(&self) -> usize {
        self.slabinfo().num_objs
    }

    /// `num_slabs`: slabs in the cache.
    pub fn num_slabs(&self) -> usize {
        self.slabinfo().num_slabs
    }

    /// `active_slabs`: slabs with at least one object out.
    pub fn active_slabs(&self) -> usize {
        self.slabinfo().active_slabs
    }

    /// Objects currently held by callers.
    pub fn objects_in_use(&self) -> usize {
        self.slabinfo().in_use
    }

    /// Error counters since creation.
    pub fn errors(&self) -> SlabErrors {
        let e = &self.errors;
        SlabErrors {
            double_free: e.double_free.load(Relaxed),
            use_after_free: e.use_after_free.load(Relaxed),
            foreign: e.foreign.load(Relaxed),
            bad_handle: e.bad_handle.load(Relaxed),
            null: e.null.load(Relaxed),
            bad_cpu: e.bad_cpu.load(Relaxed),
            nomem: e.nomem.load(Relaxed),
            injected: e.injected.load(Relaxed),
        }
    }

    /// Verifies every invariant of the cache at once, with all CPUs' arrays and the node
    /// locked (a debugging aid for tests and simulations; O(objects)):
    /// lists and counts are consistent, and every object is in exactly one place — a
    /// slab's freelist, one CPU's array, the shared array, or held by a caller (its
    /// state word says allocated) — with the held ones matching the allocation counts.
    pub fn check(&self) -> Result<(), &'static str> {
        let cpus: Vec<_> = self.cpus.iter().map(|pc| pc.0.lock()).collect();
        let n = self.node.lock();
        let taken = n.check()?;
        let mut cached_set = BTreeSet::new();
        for c in &cpus {
            if c.entry.len() > c.limit {
                return Err("per-CPU array over its limit");
            }
        }
        for &l in cpus.iter().flat_map(|c| c.entry.iter()).chain(n.shared.iter()) {
            let (sid, slot) = split(l);
            let slab = n.slab(sid).ok_or("cached object of a slab that does not exist")?;
            if slot >= self.geo.num || !cached_set.insert(l) {
                return Err("cached object out of range or cached twice");
            }
            if n.is_in_slab_freelist(sid, slot) {
                return Err("object both cached and free in its slab");
            }
            if slab.slots[slot].state.load(Relaxed) & ALLOCATED != 0 {
                return Err("cached object marked allocated");
            }
        }
        for c in &cpus {
            if c.entry.iter().any(|&l| {
                let sid = split(l).0;
                !matches!((c.dir.get(sid), n.slab(sid)), (Some(Some(a)), Some(b)) if Arc::ptr_eq(a, b))
            }) {
                return Err("per-CPU object without its slab in that CPU's directory");
            }
        }
        let allocated: usize = taken
            .iter()
            .filter_map(|&(sid, _)| n.slab(sid))
            .map(|s| s.slots.iter().filter(|o| o.state.load(Relaxed) & ALLOCATED != 0).count())
            .sum();
        let live: i64 = cpus.iter().map(|c| c.live).sum();
        if i64::try_from(allocated) != Ok(live) {
            return Err("objects marked allocated differ from allocations minus frees");
        }
        if taken.iter().map(|t| t.1).sum::<usize>() != cached_set.len() + allocated {
            return Err("slab active counts differ from cached plus allocated objects");
        }
        Ok(())
    }

    /// The cache's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `cachep->object_size`: `size_of::<T>()`.
    pub fn object_size(&self) -> usize {
        self.geo.object_size
    }

    /// `cachep->size`: the slot stride (object size rounded to word and alignment).
    pub fn size(&self) -> usize {
        self.geo.size
    }

    /// `cachep->align`.
    pub fn align(&self) -> usize {
        self.geo.align
    }

    /// `cachep->num`: objects per slab.
    pub fn objs_per_slab(&self) -> usize {
        self.geo.num
    }

    /// Pages per slab (`1 << cachep->gfporder`).
    pub fn pages_per_slab(&self) -> usize {
        1 << self.geo.order
    }

    /// The flags in effect (unknown bits dropped).
    pub fn flags(&self) -> SlabFlags {
        self.flags
    }

    /// Number of CPUs the cache serves.
    pub fn nr_cpus(&self) -> u32 {
        self.cpus.len() as u32
    }

    /// The array of CPU `cpu`, or [`SlabError::BadCpu`] (counted).
    #[inline]
    fn percpu(&self, cpu: u32) -> Result<&SpinLock<CpuCache<T>>, SlabError> {
        match self.cpus.get(cpu as usize) {
            Some(pc) => Ok(&pc.0),
            None => Err(self.count(SlabError::BadCpu)),
        }
    }

    /// `____cache_alloc` plus the per-object hooks: one object from the CPU's array,
    /// refilling it first if empty.
    #[inline]
    fn alloc_one(&self, c: &mut CpuCache<T>, flags: Gfp) -> Result<SlabObj, SlabError> {
        if self.should_failslab() {
            return Err(self.count(SlabError::Injected));
        }
        if c.entry.is_empty() {
            c.stats.refills += 1;
            self.refill(c)?;
        }
        let mut obj = [SlabObj::NULL];
        self.take_from_array(c, &mut obj, flags);
        Ok(obj[0])
    }

    /// Pops `out.len()` objects (the array holds at least that many) off the top of the
    /// array, marks them allocated and writes their handles.
    ///
    /// The state word is stored without the slab's lock: only this CPU holds these
    /// objects, and a free changes the word only when it equals the allocated state of
    /// the free's handle, which cannot be this generation until we return the handle.
    #[inline]
    fn take_from_array(&self, c: &mut CpuCache<T>, out: &mut [SlabObj], flags: Gfp) {
        let start = c.entry.len() - out.len();
        let reset = flags.contains(Gfp::ZERO) || self.flags.contains(SlabFlags::POISON);
        // Consecutive objects mostly share a slab: look it up once per run.
        let mut run: (usize, Option<&Slab<T>>) = (usize::MAX, None);
        for (dst, &l) in out.iter_mut().zip(c.entry[start..].iter().rev()) {
            let (sid, slot) = split(l);
            if sid != run.0 {
                run = (sid, c.dir.get(sid).and_then(Option::as_deref));
            }
            let slab = run.1.expect("invariant: a cached object's slab is in its CPU's directory");
            let s = &slab.slots[slot];
            let st = s.state.load(Relaxed);
            debug_assert_eq!(st & ALLOCATED, 0, "cached object already allocated");
            s.state.store(st | ALLOCATED, Relaxed);
            if reset {
                // try_lock: a caller still holding the object through a stale handle
                // (`with_object` on a freed object, even from inside this very call's
                // caller) must not make the allocation spin forever.
                match s.obj.try_lock() {
                    Some(mut obj) => self.reset_on_alloc(&mut obj, flags),
                    None => {
                        self.count(SlabError::UseAfterFree);
                    }
                }
            }
            *dst = SlabObj { cache: self.id, loc: l, gen: st >> 1 };
        }
        c.entry.truncate(start);
        c.live += out.len() as i64;
        // `ac->touched`: in use, so the next refill takes a whole batch.
        c.touched = true;
    }

    /// `__GFP_ZERO`'s memset, or under `SLAB_POISON` the constructor the poisoning undid.
    #[cold]
    fn reset_on_alloc(&self, obj: &mut T, flags: Gfp) {
        if flags.contains(Gfp::ZERO) {
            *obj = T::default();
        } else if let Some(ctor) = self.ctor {
            ctor(obj);
        }
    }

    /// `__cache_free` for each of `objs`, in order: validates the handle, marks the object
    /// free and pushes it on the CPU's array (flushing a batch first when full). Refused
    /// handles go to `reject` with their index and change nothing.
    ///
    /// A run of objects from one slab is checked and marked under one acquisition of that
    /// slab's lock; a single free is a run of one.
    #[inline]
    fn free_objs(&self, c: &mut CpuCache<T>, objs: &[SlabObj], mut reject: impl FnMut(usize, SlabError)) {
        let mut i = 0;
        while i < objs.len() {
            let sid = match self.precheck(objs[i]) {
                Ok(sid) => sid,
                Err(e) => {
                    reject(i, self.count(e));
                    i += 1;
                    continue;
                }
            };
            let mut j = i;
            if let Some(slab) = c.dir.get(sid).and_then(Option::as_deref) {
                let _held = slab.lock.lock();
                while j < objs.len() {
                    let o = objs[j];
                    if self.precheck(o) != Ok(sid) {
                        break; // another slab, or refused: the outer loop handles it
                    }
                    let s = &slab.slots[split(o.loc).1];
                    if s.state.load(Relaxed) != (o.gen << 1) | ALLOCATED {
                        break; // not allocated here: maybe our directory is stale
                    }
                    s.state.store(((o.gen + 1) & GEN_MASK) << 1, Relaxed);
                    if self.flags.contains(SlabFlags::POISON) {
                        self.poison(&s.obj);
                    }
                    j += 1;
                }
            }
            self.push_freed(c, &objs[i..j]);
            if j < objs.len() && self.precheck(objs[j]) == Ok(sid) {
                // The run stopped at an object that did not check out against this CPU's
                // view of the slab: retry it against the node's.
                match self.free_slow(c, objs[j]) {
                    Ok(()) => self.push_freed(c, &objs[j..=j]),
                    Err(e) => reject(j, e),
                }
                j += 1;
            }
            i = j;
        }
    }

    /// `SLAB_POISON` on free: overwrite the object. Skipped (and counted) if someone is
    /// inside [`with_object`](Self::with_object) on it — freeing it from inside `f` is a
    /// use after free, and waiting for `f` would deadlock.
    #[cold]
    fn poison(&self, obj: &SpinLock<T>) {
        match obj.try_lock() {
            Some(mut obj) => *obj = T::default(),
            None => {
                self.count(SlabError::UseAfterFree);
            }
        }
    }

    /// The lock-free part of a handle's validation: its slab number if it is this cache's
    /// and its slot and generation are in range.
    #[inline]
    fn precheck(&self, obj: SlabObj) -> Result<usize, SlabError> {
        if obj.cache != self.id {
            return Err(if obj.is_null() { SlabError::Null } else { SlabError::ForeignCache });
        }
        let (sid, slot) = split(obj.loc);
        if slot >= self.geo.num || obj.gen > GEN_MASK {
            return Err(SlabError::BadHandle);
        }
        Ok(sid)
    }

    /// Pushes freed objects on the CPU's array, flushing a batch whenever it is full.
    #[inline]
    fn push_freed(&self, c: &mut CpuCache<T>, objs: &[SlabObj]) {
        for o in objs {
            if c.entry.len() >= c.limit {
                c.stats.flushes += 1;
                self.flusharray(c);
            }
            c.entry.push(o.loc);
        }
        c.live -= objs.len() as i64;
    }

    /// A free that did not check out against this CPU's directory: the entry may be stale
    /// (the slab number was reused since this CPU last looked), so refresh it under the
    /// node lock and check once more before calling it a double free.
    #[cold]
    fn free_slow(&self, c: &mut CpuCache<T>, obj: SlabObj) -> Result<(), SlabError> {
        let (sid, slot) = split(obj.loc);
        let existed = {
            let n = self.node.lock();
            sync_dir(&mut c.dir, &n.dir, sid);
            n.ever_used(sid)
        };
        if let Some(slab) = c.dir.get(sid).and_then(Option::as_deref) {
            let _held = slab.lock.lock();
            let s = &slab.slots[slot];
            if s.state.load(Relaxed) == (obj.gen << 1) | ALLOCATED {
                s.state.store(((obj.gen + 1) & GEN_MASK) << 1, Relaxed);
                if self.flags.contains(SlabFlags::POISON) {
                    self.poison(&s.obj);
                }
                return Ok(());
            }
        }
        Err(self.count(if existed { SlabError::DoubleFree } else { SlabError::BadHandle }))
    }

    /// `cache_alloc_refill`: fills the empty array with up to a batch of objects from the
    /// shared array, else from the slabs, growing the cache by one slab if it has none.
    #[inline(never)]
    fn refill(&self, c: &mut CpuCache<T>) -> Result<(), SlabError> {
        debug_assert!(c.entry.is_empty());
        let mut batch = c.batchcount;
        if !c.touched && batch > BATCHREFILL_LIMIT {
            // Little recent use: a partial refill, so idle CPUs do not hoard objects.
            batch = BATCHREFILL_LIMIT;
        }
        let batch = batch.min(c.limit);
        let mut n = self.node.lock();
        if n.transfer_shared(batch, &mut c.entry) == 0 && n.take_objects(batch, &mut c.entry) == 0 {
            if !n.grow(&*self.pages) {
                drop(n);
                return Err(self.count(SlabError::NoMemory));
            }
            n.take_objects(batch, &mut c.entry);
        }
        // Keep the invariant: this CPU can reach the slab of every object it caches.
        let mut last = usize::MAX;
        for &l in &c.entry {
            let sid = split(l).0;
            if sid != last {
                sync_dir(&mut c.dir, &n.dir, sid);
                last = sid;
            }
        }
        Ok(())
    }

    /// `cache_flusharray`: moves the array's oldest batch to the shared array if it has
    /// room, else back into the slabs.
    #[inline(never)]
    fn flusharray(&self, c: &mut CpuCache<T>) {
        let batch = c.batchcount.min(c.entry.len());
        let mut dead = Vec::new();
        let mut n = self.node.lock();
        let room = n.shared_room();
        let moved = if room > 0 {
            let k = batch.min(room);
            n.park_shared(&c.entry[..k]);
            k
        } else {
            n.free_block(&c.entry[..batch], &mut dead);
            batch
        };
        drop(n);
        c.entry.drain(..moved);
        self.release(dead);
    }

    /// `slabs_destroy`'s page freeing, after the list lock is dropped.
    fn release(&self, dead: Vec<PhysAddr>) {
        for pa in dead {
            self.pages.free_page(pa);
        }
    }

    /// Drops CPUs' references to destroyed slabs, so their memory goes.
    fn prune_dirs(&self) {
        for pc in self.cpus.iter() {
            let mut c = pc.0.lock();
            let n = self.node.lock();
            for (sid, entry) in c.dir.iter_mut().enumerate() {
                let live = matches!((&*entry, n.slab(sid)), (Some(a), Some(b)) if Arc::ptr_eq(a, b));
                if !live {
                    *entry = None;
                }
            }
            while c.dir.last().is_some_and(Option::is_none) {
                c.dir.pop();
            }
        }
    }

    /// Validates a handle for access: the slab and slot of an allocated object.
    fn live_slab(&self, obj: SlabObj) -> Result<(Arc<Slab<T>>, usize), SlabError> {
        if obj.cache != self.id {
            let e = if obj.is_null() { SlabError::Null } else { SlabError::ForeignCache };
            return Err(self.count(e));
        }
        let (sid, slot) = split(obj.loc);
        if slot >= self.geo.num {
            return Err(self.count(SlabError::BadHandle));
        }
        let (slab, existed) = {
            let n = self.node.lock();
            (n.slab(sid).cloned(), n.ever_used(sid))
        };
        match slab {
            Some(s) if s.slots[slot].state.load(Relaxed) == (obj.gen << 1) | ALLOCATED => Ok((s, slot)),
            _ if existed => Err(self.count(SlabError::UseAfterFree)),
            _ => Err(self.count(SlabError::BadHandle)),
        }
    }

    /// The per-object pre-allocation hook's `should_failslab`. One relaxed load when
    /// disarmed.
    #[inline]
    fn should_failslab(&self) -> bool {
        self.failslab.load(Relaxed) != FAILSLAB_OFF && self.failslab_tick()
    }

    /// Counts down an armed failslab; true for the allocation that must fail.
    #[cold]
    fn failslab_tick(&self) -> bool {
        let mut cur = self.failslab.load(Relaxed);
        loop {
            if cur == FAILSLAB_OFF {
                return false;
            }
            let next = if cur == 0 { FAILSLAB_OFF } else { cur - 1 };
            match self.failslab.compare_exchange(cur, next, Relaxed, Relaxed) {
                Ok(_) => return cur == 0,
                Err(found) => cur = found,
            }
        }
    }

    /// Bumps the counter for `e` and returns it.
    #[cold]
    fn count(&self, e: SlabError) -> SlabError {
        let ctr = match e {
            SlabError::NoMemory => &self.errors.nomem,
            SlabError::Injected => &self.errors.injected,
            SlabError::BadCpu => &self.errors.bad_cpu,
            SlabError::Null => &self.errors.null,
            SlabError::ForeignCache => &self.errors.foreign,
            SlabError::BadHandle => &self.errors.bad_handle,
            SlabError::DoubleFree => &self.errors.double_free,
            SlabError::UseAfterFree => &self.errors.use_after_free,
            SlabError::Invalid => return e,
        };
        ctr.fetch_add(1, Relaxed);
        e
    }
}

impl<T> Drop for KmemCache<T> {
    /// Returns every slab's frames. Objects still allocated die with the cache; their
    /// handles become foreign to every other cache.
    fn drop(&mut self) {
        let n = self.node.lock();
        for pa in n.all_frames() {
            self.pages.free_page(pa);
        }
    }
}

impl<T> core::fmt::Debug for KmemCache<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KmemCache").field("name", &self.name).field("id", &self.id).field("geo", &self.geo).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    // The public API is tested in tests/slab.rs; these need the private representation.
    use super::*;
    use crate::hal::MemRegion;
    use crate::mm::frame::FrameAllocator;

    fn cache() -> KmemCache<u64> {
        let pages = Arc::new(SpinLock::new(FrameAllocator::new(&[MemRegion { start: 0, len: 64 * 4096 }])));
        KmemCache::create("unit", 8, SlabFlags::empty(), None, 2, pages).unwrap()
    }

    #[test]
    fn handle_is_three_words() {
        assert_eq!(core::mem::size_of::<SlabObj>(), 12);
    }

    #[test]
    fn forged_handles_are_refused() {
        let c = cache();
        let o = c.alloc(0, Gfp::KERNEL).unwrap();
        let no_such_slab = SlabObj { loc: node::loc(MAX_SLABS - 1, 0), ..o };
        let no_such_slot = SlabObj { loc: o.loc | SLOT_MASK, ..o };
        let no_such_gen = SlabObj { gen: u32::MAX, ..o };
        for forged in [no_such_slab, no_such_slot, no_such_gen] {
            assert_eq!(c.free(1, forged), Err(SlabError::BadHandle));
        }
        assert_eq!(c.with_object(no_such_slab, |_| ()), Err(SlabError::BadHandle));
        assert_eq!(c.errors().bad_handle, 4);
        c.free(0, o).unwrap();
        c.check().unwrap();
    }

    /// `check` is what the property and loom tests rely on: make sure it sees corruption.
    #[test]
    fn check_catches_corruption() {
        let c = cache();
        let o = c.alloc(0, Gfp::KERNEL).unwrap();
        c.free(0, o).unwrap();
        let slab = c.node.lock().slab(0).unwrap().clone();
        let state = &slab.slots[split(o.loc).1].state;
        let v = state.load(Relaxed);
        state.store(v | ALLOCATED, Relaxed);
        assert!(c.check().is_err(), "cached object marked allocated");
        state.store(v, Relaxed);
        c.check().unwrap();
        c.cpus[1].0.lock().entry.push(o.loc);
        assert!(c.check().is_err(), "object cached on two CPUs");
        c.cpus[1].0.lock().entry.clear();
        c.cpus[0].0.lock().live += 1;
        assert!(c.check().is_err(), "live count off");
        c.cpus[0].0.lock().live -= 1;
        c.check().unwrap();
    }
}
