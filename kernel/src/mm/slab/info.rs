//! `/proc/slabinfo` accounting and the error counters.

use alloc::string::String;
use core::fmt;

/// The header `/proc/slabinfo` prints above the cache lines (`print_slabinfo_header`
/// without the STATS columns).
pub const SLABINFO_HEADER: &str = "slabinfo - version: 2.1\n\
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> \
: tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>";

/// One cache's `/proc/slabinfo` line (`struct slabinfo` from `get_slabinfo`), plus the
/// exact breakdown SLAB itself does not print.
///
/// SLAB's `active_objs` counts every object taken out of a slab, including those parked
/// in per-CPU and shared arrays; [`in_use`](Self::in_use) is the number callers really
/// hold. The snapshot is taken CPU by CPU and then the node, so under concurrent use the
/// fields need not be mutually consistent (as in Linux); at rest
/// `active_objs == in_use + cpu_avail + sharedavail` and
/// `num_objs == active_objs + free_objects`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlabInfo {
    /// Cache name.
    pub name: String,
    /// Objects out of their slabs (held by callers or cached in arrays).
    pub active_objs: usize,
    /// Objects in all slabs (`num_slabs * objperslab`).
    pub num_objs: usize,
    /// Bytes per object slot (`cachep->size`: aligned object size).
    pub objsize: usize,
    /// Objects per slab.
    pub objperslab: usize,
    /// Pages per slab (`1 << gfporder`).
    pub pagesperslab: usize,
    /// Per-CPU array limit.
    pub limit: usize,
    /// Refill/flush batch.
    pub batchcount: usize,
    /// Shared array factor (its size is `sharedfactor * batchcount`).
    pub sharedfactor: usize,
    /// Slabs with at least one object out (full and partial).
    pub active_slabs: usize,
    /// All slabs.
    pub num_slabs: usize,
    /// Objects in the shared array.
    pub sharedavail: usize,
    /// Objects held by callers: allocations minus frees.
    pub in_use: usize,
    /// Objects in per-CPU arrays.
    pub cpu_avail: usize,
    /// Objects free inside slabs (`n->free_objects`).
    pub free_objects: usize,
    /// Slabs ever created.
    pub grown: u64,
    /// Slabs destroyed (frames returned).
    pub destroyed: u64,
    /// Refills of an empty per-CPU array (`allocmiss` in a STATS build).
    pub refills: u64,
    /// Batches flushed from a full per-CPU array (`freemiss`).
    pub flushes: u64,
}

impl fmt::Display for SlabInfo {
    /// The line `cache_show` prints: `%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u
    /// : slabdata %6lu %6lu %6lu`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<17} {:>6} {:>6} {:>6} {:>4} {:>4} : tunables {:>4} {:>4} {:>4} : slabdata {:>6} {:>6} {:>6}",
            self.name,
            self.active_objs,
            self.num_objs,
            self.objsize,
            self.objperslab,
            self.pagesperslab,
            self.limit,
            self.batchcount,
            self.sharedfactor,
            self.active_slabs,
            self.num_slabs,
            self.sharedavail
        )
    }
}

/// How many calls each kind of rejected handle or failed allocation produced.
///
/// Linux would oops (`BUG`) or corrupt memory on most of these; the model turns each into
/// an error value and a count, so a simulation can report them and carry on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlabErrors {
    /// Frees of an object that is not allocated (freed twice, or a stale handle).
    pub double_free: u64,
    /// Accesses through a handle whose object is not allocated.
    pub use_after_free: u64,
    /// Handles from another cache (or a destroyed one).
    pub foreign: u64,
    /// Handles naming a slab or slot this cache never had.
    pub bad_handle: u64,
    /// NULL handles.
    pub null: u64,
    /// CPU numbers at or above the cache's CPU count.
    pub bad_cpu: u64,
    /// Allocations that failed for want of page frames.
    pub nomem: u64,
    /// Allocations refused by failslab injection.
    pub injected: u64,
}
