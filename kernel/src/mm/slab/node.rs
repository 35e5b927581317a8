//! `struct kmem_cache_node`: the shared side of a cache — the slabs on their full,
//! partial and free lists, the node's shared array, and the slab directory that maps a
//! handle's slab number to its memory. Everything here runs under the node's list lock
//! (`KmemCache::node`), so plain `&mut self` methods suffice.
//!
//! A slab's bookkeeping (`page->active`, `page->freelist`, its list) lives here; its
//! objects and their per-object state words live in a [`Slab`] behind an `Arc`, so CPUs
//! can validate handles against it without the list lock.

use super::layout::{Geometry, Tunables};
use super::{PageSource, ALLOCATED, GEN_MASK, MAX_SLABS, SLOT_BITS, SLOT_MASK};
use crate::hal::PhysAddr;
use crate::sync::{AtomicU32, Ordering::Relaxed, SpinLock};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// End of an index-linked list.
const NIL: u32 = u32::MAX;

/// One object slot of a slab: the object and its state word.
pub(super) struct Slot<T> {
    /// `gen << 1 | ALLOCATED`: the generation counts frees, so a stale handle (an old
    /// generation) never matches again. Frees change it only under the slab's
    /// [`lock`](Slab::lock), so of two racing frees of one handle exactly one sees it
    /// allocated; allocation stores it without the lock (see `KmemCache::take_from_array`).
    pub(super) state: AtomicU32,
    /// The object. Its own lock, because callers on different CPUs use different objects
    /// of one slab at the same time and the kernel crate has no `unsafe` to share them.
    pub(super) obj: SpinLock<T>,
}

/// The memory of one slab: `1 << order` page frames carved into `num` object slots.
pub(super) struct Slab<T> {
    /// Serialises frees into this slab (SLUB's per-page freelist cmpxchg / `slab_lock`):
    /// a bulk free takes it once for a run of objects of this slab, which is what makes
    /// bulk cheaper per object than single frees (4.4's "detached freelist" idea).
    pub(super) lock: SpinLock<()>,
    /// The object slots, in address order.
    pub(super) slots: Box<[Slot<T>]>,
    /// The frames backing this slab (not necessarily contiguous in the model: each is
    /// allocated on its own from the [`PageSource`]).
    pub(super) frames: Box<[PhysAddr]>,
}

/// Which list a slab is on (`slabs_partial`, `slabs_full`, `slabs_free`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum List {
    Partial = 0,
    Full = 1,
    Free = 2,
}

/// Per-slab bookkeeping kept under the list lock (Linux keeps it in `struct page`).
struct SlabMeta {
    /// `page->active`: objects taken out of this slab (held by callers or sitting in a
    /// per-CPU or the shared array).
    active: usize,
    /// `page->freelist`: `freelist[active..num)` are the free slot indices (a stack).
    freelist: Box<[u16]>,
    /// Links of the list the slab is on.
    prev: u32,
    next: u32,
    /// The list, or `None` while this slab number is unused.
    list: Option<List>,
    /// Generation the next slab with this number starts its slots at: above every
    /// generation the previous one reached, so its stale handles stay stale.
    gen_base: u32,
}

/// Counters of the node's slow paths (`/proc/slabinfo` `globalstat` in a STATS build).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct NodeStats {
    /// Slabs created (`grown`).
    pub grown: u64,
    /// Slabs destroyed and their frames returned (`reaped`, plus free-limit destruction).
    pub destroyed: u64,
}

/// `struct kmem_cache_node` (the model has one node).
pub(super) struct Node<T> {
    /// Slab directory: slab number → memory. `None` for unused numbers.
    pub(super) dir: Vec<Option<Arc<Slab<T>>>>,
    meta: Vec<SlabMeta>,
    /// Head, tail and length of each list, indexed by [`List`].
    lists: [(u32, u32, usize); 3],
    /// Slab numbers free for reuse (bounded by [`MAX_SLABS`]).
    free_ids: Vec<u32>,
    /// `n->free_objects`: objects free inside slabs (not in any array).
    pub(super) free_objects: usize,
    /// `n->free_limit`: above this many free objects, a slab that becomes empty in
    /// `free_block` is destroyed at once instead of kept on `slabs_free`.
    free_limit: usize,
    /// `n->shared`: objects parked between CPUs; its limit is `shared * batchcount`.
    pub(super) shared: Vec<u32>,
    shared_limit: usize,
    /// The tunables every per-CPU array currently uses (`cachep->limit` …).
    pub(super) tun: Tunables,
    pub(super) stats: NodeStats,
    geo: Geometry,
    ctor: Option<fn(&mut T)>,
    nr_cpus: usize,
}

/// Packs a slab number and slot index into a handle's location word.
#[inline]
pub(super) fn loc(sid: usize, slot: usize) -> u32 {
    debug_assert!(sid < MAX_SLABS && slot <= SLOT_MASK as usize);
    ((sid as u32) << SLOT_BITS) | slot as u32
}

/// Splits a location word into slab number and slot index.
#[inline]
pub(super) fn split(loc: u32) -> (usize, usize) {
    ((loc >> SLOT_BITS) as usize, (loc & SLOT_MASK) as usize)
}

impl<T> Node<T> {
    /// Every frame of every live slab, for the cache's `Drop` (which has no bounds on `T`).
    pub(super) fn all_frames(&self) -> impl Iterator<Item = PhysAddr> + '_ {
        self.dir.iter().flatten().flat_map(|s| s.frames.iter().copied())
    }
}

impl<T: Default + Send> Node<T> {
    /// An empty node for a cache of this geometry.
    pub(super) fn new(geo: Geometry, tun: Tunables, ctor: Option<fn(&mut T)>, nr_cpus: usize) -> Self {
        let mut n = Node {
            dir: Vec::new(),
            meta: Vec::new(),
            lists: [(NIL, NIL, 0); 3],
            free_ids: Vec::new(),
            free_objects: 0,
            free_limit: 0,
            shared: Vec::new(),
            shared_limit: 0,
            tun,
            stats: NodeStats::default(),
            geo,
            ctor,
            nr_cpus,
        };
        n.set_tunables(tun);
        n
    }

    /// Applies new tunables (`alloc_kmem_cache_node` after `__do_tune_cpucache`); the
    /// caller has already returned the old shared array's objects with
    /// [`free_block`](Self::free_block).
    pub(super) fn set_tunables(&mut self, tun: Tunables) {
        debug_assert!(self.shared.is_empty());
        self.tun = tun;
        self.shared_limit = tun.shared * tun.batchcount;
        self.shared = Vec::with_capacity(self.shared_limit);
        self.free_limit = (1 + self.nr_cpus) * tun.batchcount + self.geo.num;
    }

    /// Number of slabs on `list`.
    pub(super) fn list_len(&self, list: List) -> usize {
        self.lists[list as usize].2
    }

    /// Moves up to `max` objects from the shared array to `to` (`transfer_objects`):
    /// the most recently parked ones, which are the cache-warm ones.
    pub(super) fn transfer_shared(&mut self, max: usize, to: &mut Vec<u32>) -> usize {
        let nr = max.min(self.shared.len());
        let from = self.shared.len() - nr;
        to.extend(self.shared.drain(from..));
        nr
    }

    /// Parks `objs` in the shared array if it has room for all of them (callers pass at
    /// most the room reported by [`shared_room`](Self::shared_room)).
    pub(super) fn park_shared(&mut self, objs: &[u32]) {
        debug_assert!(objs.len() <= self.shared_room());
        self.shared.extend_from_slice(objs);
    }

    /// Free places in the shared array (0 when the cache has none).
    pub(super) fn shared_room(&self) -> usize {
        self.shared_limit - self.shared.len()
    }

    /// The refill loop of `cache_alloc_refill`: takes up to `batch` objects out of
    /// partial slabs first, then free ones, into `to`. Returns how many it took (0 when
    /// the node has no free object: the caller must grow).
    pub(super) fn take_objects(&mut self, mut batch: usize, to: &mut Vec<u32>) -> usize {
        let start = to.len();
        while batch > 0 {
            let sid = match self.front(List::Partial) {
                Some(s) => s,
                None => match self.front(List::Free) {
                    Some(s) => s,
                    None => break,
                },
            };
            let num = self.geo.num;
            let m = &mut self.meta[sid];
            debug_assert!(m.active < num, "a slab on the partial/free list has a free object");
            while m.active < num && batch > 0 {
                to.push(loc(sid, m.freelist[m.active] as usize));
                m.active += 1;
                batch -= 1;
            }
            let full = m.active == num;
            self.unlink(sid);
            self.push_front(sid, if full { List::Full } else { List::Partial });
        }
        let got = to.len() - start;
        self.free_objects -= got;
        got
    }

    /// `free_block`: puts objects back into their slabs. A slab that becomes empty goes
    /// to the free list, or is destroyed when the node already holds more than
    /// `free_limit` free objects; its frames are appended to `dead` for the caller to
    /// return after dropping the list lock (`slabs_destroy`).
    pub(super) fn free_block(&mut self, objs: &[u32], dead: &mut Vec<PhysAddr>) {
        let num = self.geo.num;
        for &l in objs {
            let (sid, slot) = split(l);
            debug_assert!(self.dir.get(sid).is_some_and(|s| s
                .as_ref()
                .is_some_and(|s| s.slots[slot].state.load(Relaxed) & ALLOCATED == 0)));
            self.unlink(sid);
            let m = &mut self.meta[sid];
            debug_assert!(m.active > 0 && !m.freelist[m.active..].contains(&(slot as u16)));
            m.active -= 1;
            m.freelist[m.active] = slot as u16;
            self.free_objects += 1;
            if m.active == 0 {
                if self.free_objects > self.free_limit {
                    self.free_objects -= num;
                    self.destroy(sid, dead);
                } else {
                    self.push_front(sid, List::Free);
                }
            } else {
                // To the tail: the longest time for its other objects to come back too.
                self.push_back(sid, List::Partial);
            }
        }
    }

    /// `cache_grow`: one new slab on the free list. `false` when the page source is out
    /// of frames or every slab number is in use. Runs under the list lock: the model never
    /// sleeps, so there is nothing to gain from dropping it.
    pub(super) fn grow(&mut self, pages: &dyn PageSource) -> bool {
        let fresh = self.free_ids.is_empty();
        if fresh && self.dir.len() >= MAX_SLABS {
            return false;
        }
        let mut frames = Vec::with_capacity(1 << self.geo.order);
        for _ in 0..1usize << self.geo.order {
            match pages.alloc_page() {
                Some(pa) => frames.push(pa),
                None => {
                    for pa in frames {
                        pages.free_page(pa);
                    }
                    return false;
                }
            }
        }
        let sid = match self.free_ids.pop() {
            Some(sid) => sid as usize,
            None => {
                self.dir.push(None);
                self.meta.push(SlabMeta {
                    active: 0,
                    freelist: Box::new([]),
                    prev: NIL,
                    next: NIL,
                    list: None,
                    gen_base: 0,
                });
                self.dir.len() - 1
            }
        };
        let gen_base = self.meta[sid].gen_base;
        let ctor = self.ctor;
        // cache_init_objs: every object starts as zeroed memory run through the ctor once;
        // objects go back to the slab in that constructed state (Linux's ctor contract).
        let slots = (0..self.geo.num)
            .map(|_| {
                let mut obj = T::default();
                if let Some(ctor) = ctor {
                    ctor(&mut obj);
                }
                Slot { state: AtomicU32::new(gen_base << 1), obj: SpinLock::new(obj) }
            })
            .collect();
        self.dir[sid] = Some(Arc::new(Slab { lock: SpinLock::new(()), slots, frames: frames.into_boxed_slice() }));
        let m = &mut self.meta[sid];
        m.active = 0;
        m.freelist = (0..self.geo.num as u16).collect();
        self.push_back(sid, List::Free);
        self.free_objects += self.geo.num;
        self.stats.grown += 1;
        true
    }

    /// `drain_freelist`: destroys up to `tofree` slabs from the tail of the free list.
    pub(super) fn drain_freelist(&mut self, tofree: usize, dead: &mut Vec<PhysAddr>) -> usize {
        let mut nr = 0;
        while nr < tofree {
            let Some(sid) = self.back(List::Free) else { break };
            self.unlink(sid);
            self.free_objects -= self.geo.num;
            self.destroy(sid, dead);
            nr += 1;
        }
        nr
    }

    /// Destroys an empty, unlinked slab: frames to `dead`, number back to the pool with a
    /// generation base above everything its slots reached.
    fn destroy(&mut self, sid: usize, dead: &mut Vec<PhysAddr>) {
        let Some(slab) = self.dir[sid].take() else { return };
        let top = slab.slots.iter().map(|s| s.state.load(Relaxed) >> 1).max().unwrap_or(0);
        dead.extend_from_slice(&slab.frames);
        let m = &mut self.meta[sid];
        debug_assert_eq!(m.active, 0);
        m.gen_base = (top + 1) & GEN_MASK;
        m.freelist = Box::new([]);
        m.list = None;
        self.free_ids.push(sid as u32);
        self.stats.destroyed += 1;
    }

    /// The slab currently using number `sid`.
    pub(super) fn slab(&self, sid: usize) -> Option<&Arc<Slab<T>>> {
        self.dir.get(sid).and_then(Option::as_ref)
    }

    /// Whether number `sid` was ever handed out (a handle naming a larger one was forged).
    pub(super) fn ever_used(&self, sid: usize) -> bool {
        sid < self.dir.len()
    }

    /// Checks the node's own invariants: list integrity, per-slab counts and
    /// `free_objects`; returns each live slab's number of taken objects for the cache-wide
    /// check. (mm/slab.c's `get_slabinfo` checks a subset and prints "accounting error".)
    pub(super) fn check(&self) -> Result<Vec<(usize, usize)>, &'static str> {
        let num = self.geo.num;
        let mut seen = alloc::vec![false; self.dir.len()];
        let mut free_objects = 0;
        let mut taken = Vec::new();
        for list in [List::Partial, List::Full, List::Free] {
            let (head, tail, len) = self.lists[list as usize];
            let (mut cur, mut prev, mut count) = (head, NIL, 0);
            while cur != NIL {
                let sid = cur as usize;
                let m = self.meta.get(sid).ok_or("list links to a slab number out of range")?;
                if seen.get(sid).copied().unwrap_or(true) {
                    return Err("slab on two lists or twice on one");
                }
                seen[sid] = true;
                if m.prev != prev || m.list != Some(list) || self.dir[sid].is_none() {
                    return Err("list links or list tag inconsistent");
                }
                let ok = match list {
                    List::Full => m.active == num,
                    List::Free => m.active == 0,
                    List::Partial => m.active > 0 && m.active < num,
                };
                if !ok {
                    return Err("slab on the wrong list for its active count");
                }
                let slab = self.dir[sid].as_ref().ok_or("listed slab has no memory")?;
                let mut in_freelist = alloc::vec![false; num];
                for &f in &m.freelist[m.active..] {
                    let f = f as usize;
                    if f >= num || in_freelist[f] {
                        return Err("slab freelist index out of range or repeated");
                    }
                    in_freelist[f] = true;
                    if slab.slots[f].state.load(Relaxed) & ALLOCATED != 0 {
                        return Err("object on a slab freelist is marked allocated");
                    }
                }
                free_objects += num - m.active;
                taken.push((sid, m.active));
                prev = cur;
                cur = m.next;
                count += 1;
            }
            if prev != tail || count != len {
                return Err("list tail or length inconsistent");
            }
        }
        if self.dir.iter().enumerate().any(|(sid, s)| s.is_some() != seen[sid]) {
            return Err("live slab on no list");
        }
        if free_objects != self.free_objects {
            return Err("free_objects accounting error");
        }
        if self.shared.len() > self.shared_limit {
            return Err("shared array over its limit");
        }
        Ok(taken)
    }

    /// The geometry's slot index free list of slab `sid` (for the cache-wide check).
    pub(super) fn is_in_slab_freelist(&self, sid: usize, slot: usize) -> bool {
        self.meta.get(sid).is_some_and(|m| m.freelist[m.active..].contains(&(slot as u16)))
    }

    fn front(&self, list: List) -> Option<usize> {
        let h = self.lists[list as usize].0;
        (h != NIL).then_some(h as usize)
    }

    fn back(&self, list: List) -> Option<usize> {
        let t = self.lists[list as usize].1;
        (t != NIL).then_some(t as usize)
    }

    fn push_front(&mut self, sid: usize, list: List) {
        let (head, tail, len) = &mut self.lists[list as usize];
        let m = &mut self.meta[sid];
        debug_assert!(m.list.is_none());
        m.list = Some(list);
        m.prev = NIL;
        m.next = *head;
        if *head == NIL {
            *tail = sid as u32;
        } else {
            self.meta[*head as usize].prev = sid as u32;
        }
        *head = sid as u32;
        *len += 1;
    }

    fn push_back(&mut self, sid: usize, list: List) {
        let (head, tail, len) = &mut self.lists[list as usize];
        let m = &mut self.meta[sid];
        debug_assert!(m.list.is_none());
        m.list = Some(list);
        m.next = NIL;
        m.prev = *tail;
        if *tail == NIL {
            *head = sid as u32;
        } else {
            self.meta[*tail as usize].next = sid as u32;
        }
        *tail = sid as u32;
        *len += 1;
    }

    fn unlink(&mut self, sid: usize) {
        let m = &mut self.meta[sid];
        let Some(list) = m.list.take() else { return };
        let (prev, next) = (m.prev, m.next);
        let (head, tail, len) = &mut self.lists[list as usize];
        if prev == NIL {
            *head = next;
        } else {
            self.meta[prev as usize].next = next;
        }
        if next == NIL {
            *tail = prev;
        } else {
            self.meta[next as usize].prev = prev;
        }
        *len -= 1;
    }
}
