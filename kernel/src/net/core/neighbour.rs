//! The neighbour table (`net/core/neighbour.c`, `include/net/neighbour.h`): one generic
//! table shared by ARP (`arp_tbl`) and IPv6 Neighbour Discovery (`nd_tbl`), holding one
//! `struct neighbour` per (device, L3 address) with its NUD state, its link-layer address
//! and the queue of packets waiting for resolution.
//!
//! The table is a pure state machine: time is the `now_ns` argument (turned into 4.3's
//! jiffies by [`super::jiffies`]), and everything Linux would do to the outside world — send
//! a solicitation, transmit a released packet, report a failed one through
//! `dst_link_failure` — comes back as a [`NeighOutput`] or [`Resolve`] for the stack to act
//! on. `neigh_update` is in `neigh_update.rs`; timers ([`NeighTable::timer`]), the periodic
//! GC work and the `ip neigh` interface live in `neigh_timer.rs` and `neigh_rtnl.rs`.
//!
//! Model choices, stated once:
//! * Reference counts: Linux frees an entry only when nothing holds it. Here the only holder
//!   besides the table is the entry's own pending timer (`neigh_add_timer` takes a
//!   reference), so "refcnt == 1" reads "no timer armed".
//! * Per-device `neigh_parms` are looked up by ifindex at each use, as Linux follows
//!   `n->parms`; a device without its own set uses the table's defaults.
//! * Devices are Ethernet-like (`addr_len == 6`); the constructor's device-dependent
//!   choice (`NUD_NOARP` for multicast, broadcast, loopback, point-to-point and `IFF_NOARP`
//!   devices) is made by the caller through [`NeighInit`].

#![warn(missing_docs)]

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use super::jiffies::{ns_to_jiffies, time_after, Prandom, HZ};
pub use super::neigh_key::{NeighInit, NeighKey, NeighPacket};
pub use super::neigh_parms::{neigh_rand_reach_time, NeighParms};
use crate::net::wire::EthernetAddress;
use crate::uapi::Errno;

/// `NUD_NONE`: a fresh entry, nothing known.
pub const NUD_NONE: u8 = 0x00;
/// `NUD_INCOMPLETE`: resolution in progress, packets queued.
pub const NUD_INCOMPLETE: u8 = 0x01;
/// `NUD_REACHABLE`: confirmed within `reachable_time`.
pub const NUD_REACHABLE: u8 = 0x02;
/// `NUD_STALE`: address known, reachability unconfirmed.
pub const NUD_STALE: u8 = 0x04;
/// `NUD_DELAY`: used while stale; waiting for upper-layer confirmation.
pub const NUD_DELAY: u8 = 0x08;
/// `NUD_PROBE`: unicast probing.
pub const NUD_PROBE: u8 = 0x10;
/// `NUD_FAILED`: resolution failed.
pub const NUD_FAILED: u8 = 0x20;
/// `NUD_NOARP`: no resolution needed (multicast, broadcast, `IFF_NOARP`).
pub const NUD_NOARP: u8 = 0x40;
/// `NUD_PERMANENT`: administratively fixed.
pub const NUD_PERMANENT: u8 = 0x80;
/// `NUD_IN_TIMER`: states whose entry runs a timer.
pub const NUD_IN_TIMER: u8 = NUD_INCOMPLETE | NUD_REACHABLE | NUD_DELAY | NUD_PROBE;
/// `NUD_VALID`: states with a usable link-layer address.
pub const NUD_VALID: u8 = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;
/// `NUD_CONNECTED`: states that transmit without checking reachability.
pub const NUD_CONNECTED: u8 = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE;

/// `NTF_USE` (ndm_flags): trigger resolution instead of setting a state.
pub const NTF_USE: u8 = 0x01;
/// `NTF_PROXY`: a proxy (`pneigh`) entry.
pub const NTF_PROXY: u8 = 0x08;
/// `NTF_ROUTER`: the neighbour is an IPv6 router.
pub const NTF_ROUTER: u8 = 0x80;

/// `NEIGH_UPDATE_F_OVERRIDE`: a different link-layer address replaces the cached one.
pub const NEIGH_UPDATE_F_OVERRIDE: u32 = 0x0000_0001;
/// `NEIGH_UPDATE_F_WEAK_OVERRIDE`: a different address only makes a connected entry stale.
pub const NEIGH_UPDATE_F_WEAK_OVERRIDE: u32 = 0x0000_0002;
/// `NEIGH_UPDATE_F_OVERRIDE_ISROUTER`: the update may set or clear `NTF_ROUTER`.
pub const NEIGH_UPDATE_F_OVERRIDE_ISROUTER: u32 = 0x0000_0004;
/// `NEIGH_UPDATE_F_ISROUTER`: the neighbour is a router.
pub const NEIGH_UPDATE_F_ISROUTER: u32 = 0x4000_0000;
/// `NEIGH_UPDATE_F_ADMIN`: the change comes from the administrator (may touch NOARP and
/// PERMANENT entries).
pub const NEIGH_UPDATE_F_ADMIN: u32 = 0x8000_0000;

/// How a solicitation is sent, from `arp_solicit`/`ndisc_solicit`'s probe arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolicitKind {
    /// Unicast to the cached address (reachability probe).
    Unicast(EthernetAddress),
    /// `neigh_app_ns`: an `RTM_GETNEIGH` notification for a user-space resolver.
    App,
    /// Broadcast ARP request / NS to the solicited-node group.
    Multicast,
}

/// A solicitation to transmit (`neigh->ops->solicit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Solicit<A> {
    /// Device.
    pub ifindex: u32,
    /// Address being resolved.
    pub target: A,
    /// Unicast, multicast or user-space.
    pub kind: SolicitKind,
    /// Source of the newest queued packet: the probe's source if it is ours.
    pub saddr_hint: Option<A>,
}

/// What a table operation asks the stack to do.
#[derive(Debug, PartialEq, Eq)]
pub struct NeighOutput<A, P> {
    /// Packets to transmit now, with their destination hardware address.
    pub xmit: Vec<(P, EthernetAddress)>,
    /// Packets whose resolution failed (`neigh_invalidate`): the stack reports each through
    /// `dst_link_failure` (ICMP host / ICMPv6 address unreachable) and frees it.
    pub unreachable: Vec<(u32, A, P)>,
    /// Solicitations to send, in order.
    pub solicits: Vec<Solicit<A>>,
    /// Number of `neigh_update_notify` calls (RTM_NEWNEIGH events).
    pub notify: usize,
}

impl<A, P> Default for NeighOutput<A, P> {
    fn default() -> Self {
        NeighOutput { xmit: Vec::new(), unreachable: Vec::new(), solicits: Vec::new(), notify: 0 }
    }
}

/// The outcome of [`NeighTable::resolve`] (`dst_neigh_output` and `neigh_resolve_output`).
#[derive(Debug, PartialEq, Eq)]
pub enum Resolve<A, P> {
    /// Transmit to this hardware address now.
    Send(P, EthernetAddress),
    /// Queued until resolution ends; `solicit` is the probe to send now, `discarded` the
    /// oldest packets pushed out of the queue (`unres_discards`, freed silently).
    Queued {
        /// Probe to send now (first packet of a resolution).
        solicit: Option<Solicit<A>>,
        /// Older packets evicted to make room.
        discarded: Vec<P>,
    },
    /// Freed silently: the entry failed at once because no probes are configured.
    Dropped(P),
    /// No entry could be created (`ip_finish_output2`/`ip6_finish_output2` drop the packet
    /// and return `EINVAL`); the errno is the creation error.
    NoNeigh(P, Errno),
}

/// `struct neigh_statistics`, the counters of `/proc/net/stat/{arp,ndisc}_cache` k43 keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeighStats {
    /// Entries allocated.
    pub allocs: u64,
    /// Entries freed.
    pub destroys: u64,
    /// Resolutions that failed.
    pub res_failed: u64,
    /// Queued packets discarded for lack of room.
    pub unres_discards: u64,
    /// Periodic GC runs.
    pub periodic_gc_runs: u64,
    /// Forced GC runs.
    pub forced_gc_runs: u64,
    /// Allocations refused because the table was full.
    pub table_fulls: u64,
}

/// One `struct neighbour`.
#[derive(Debug)]
pub(super) struct Neighbour<P> {
    pub(super) nud_state: u8,
    pub(super) flags: u8,
    pub(super) ha: EthernetAddress,
    pub(super) probes: u32,
    pub(super) confirmed: u64,
    pub(super) updated: u64,
    pub(super) used: u64,
    pub(super) timer: Option<u64>,
    pub(super) arp_queue: VecDeque<P>,
    pub(super) arp_queue_len_bytes: usize,
}

/// A read-only view of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighInfo {
    /// `nud_state` bits.
    pub state: u8,
    /// `NTF_*` flags.
    pub flags: u8,
    /// Hardware address (meaningful when `state & NUD_VALID`).
    pub lladdr: EthernetAddress,
    /// Probes sent in the current resolution.
    pub probes: u32,
    /// Packets queued.
    pub queue_len: usize,
    /// Truesize bytes queued.
    pub queue_bytes: usize,
    /// Jiffies of the last confirmation / update / use.
    pub confirmed: u64,
    /// See `confirmed`.
    pub updated: u64,
    /// See `confirmed`.
    pub used: u64,
    /// Pending timer, in jiffies.
    pub timer: Option<u64>,
}

/// `struct neigh_table`.
#[derive(Debug)]
pub struct NeighTable<A, P> {
    /// `tbl->id`: "arp_cache" or "ndisc_cache".
    pub id: &'static str,
    /// `tbl->gc_interval` (jiffies). 4.3 only reports it: the periodic work runs every
    /// `base_reachable_time / 2`.
    pub gc_interval: u64,
    /// `gc_thresh1`: below this many entries the periodic GC removes nothing.
    pub gc_thresh1: usize,
    /// `gc_thresh2`: soft limit; above it a forced GC runs at most every 5 s.
    pub gc_thresh2: usize,
    /// `gc_thresh3`: hard limit.
    pub gc_thresh3: usize,
    pub(super) parms: NeighParms,
    pub(super) dev_parms: BTreeMap<u32, NeighParms>,
    pub(super) entries: BTreeMap<(u32, A), Neighbour<P>>,
    pub(super) proxies: BTreeMap<(A, u32), u8>,
    pub(super) last_flush: u64,
    pub(super) last_rand: u64,
    pub(super) gc_next: u64,
    pub(super) rng: Prandom,
    pub(super) stats: NeighStats,
}

impl<A: NeighKey, P: NeighPacket<A>> NeighTable<A, P> {
    /// `neigh_table_init` at `now_ns`, drawing randomness from `seed`.
    pub fn new(id: &'static str, mut parms: NeighParms, now_ns: u64, seed: u64) -> Self {
        let now = ns_to_jiffies(now_ns);
        let mut rng = Prandom::new(seed);
        parms.reachable_time = neigh_rand_reach_time(&mut rng, parms.base_reachable_time);
        NeighTable {
            id,
            gc_interval: 30 * HZ,
            gc_thresh1: 128,
            gc_thresh2: 512,
            gc_thresh3: 1024,
            last_flush: now,
            // Linux starts the clock for the 300 s re-randomisation 20 reachable times out.
            last_rand: now.wrapping_add(parms.reachable_time.wrapping_mul(20)),
            gc_next: now.wrapping_add(parms.reachable_time),
            parms,
            dev_parms: BTreeMap::new(),
            entries: BTreeMap::new(),
            proxies: BTreeMap::new(),
            rng,
            stats: NeighStats::default(),
        }
    }

    /// `arp_tbl`.
    pub fn arp(now_ns: u64, seed: u64) -> Self {
        Self::new("arp_cache", NeighParms::arp(), now_ns, seed)
    }

    /// `nd_tbl`.
    pub fn nd(now_ns: u64, seed: u64) -> Self {
        Self::new("ndisc_cache", NeighParms::nd(), now_ns, seed)
    }

    /// The parameters entries on `ifindex` use.
    pub fn parms(&self, ifindex: u32) -> &NeighParms {
        self.dev_parms.get(&ifindex).unwrap_or(&self.parms)
    }

    /// Gives `ifindex` its own parameters (`neigh_parms_alloc`: a copy of the defaults with
    /// a fresh `reachable_time`), or replaces them.
    pub fn set_dev_parms(&mut self, ifindex: u32, mut parms: NeighParms) {
        parms.reachable_time = neigh_rand_reach_time(&mut self.rng, parms.base_reachable_time);
        self.dev_parms.insert(ifindex, parms);
    }

    /// Writes `base_reachable_time` (jiffies) of a device's or the default parameters and
    /// re-draws `reachable_time` at once (`neigh_proc_base_reachable_time`; `ndisc` does the
    /// same for a Router Advertisement's Reachable Time).
    pub fn set_base_reachable_time(&mut self, ifindex: Option<u32>, base: u64) {
        let p = match ifindex.and_then(|i| self.dev_parms.get_mut(&i)) {
            Some(p) => p,
            None => &mut self.parms,
        };
        p.base_reachable_time = base;
        p.reachable_time = neigh_rand_reach_time(&mut self.rng, base);
    }

    /// Number of entries (`tbl->entries`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> &NeighStats {
        &self.stats
    }

    /// The entry for (`ifindex`, `addr`), if any.
    pub fn get(&self, ifindex: u32, addr: &A) -> Option<NeighInfo> {
        self.entries.get(&(ifindex, *addr)).map(|n| NeighInfo {
            state: n.nud_state,
            flags: n.flags,
            lladdr: n.ha,
            probes: n.probes,
            queue_len: n.arp_queue.len(),
            queue_bytes: n.arp_queue_len_bytes,
            confirmed: n.confirmed,
            updated: n.updated,
            used: n.used,
            timer: n.timer,
        })
    }

    /// Every entry's key, in table order.
    pub fn keys(&self) -> impl Iterator<Item = (u32, A)> + '_ {
        self.entries.keys().copied()
    }

    /// `neigh_forced_gc`: frees every entry nothing else holds that is not PERMANENT.
    fn forced_gc(&mut self, now: u64) -> bool {
        self.stats.forced_gc_runs += 1;
        let before = self.entries.len();
        self.entries.retain(|_, n| n.timer.is_some() || n.nud_state & NUD_PERMANENT != 0);
        let shrunk = before - self.entries.len();
        self.stats.destroys += shrunk as u64;
        self.last_flush = now;
        shrunk > 0
    }

    /// `__neigh_create` (through `neigh_alloc` and the constructor): the existing entry, or
    /// a new one; `ENOBUFS` when the table is full even after a forced GC.
    pub fn create(&mut self, ifindex: u32, addr: &A, init: NeighInit, now_ns: u64) -> Result<(), Errno> {
        if self.entries.contains_key(&(ifindex, *addr)) {
            return Ok(());
        }
        let now = ns_to_jiffies(now_ns);
        let entries = self.entries.len();
        // The forced GC runs whenever the count is high; only a full table with nothing
        // freed refuses the allocation.
        let pressed = entries >= self.gc_thresh3
            || (entries >= self.gc_thresh2 && time_after(now, self.last_flush.wrapping_add(5 * HZ)));
        if pressed && !self.forced_gc(now) && entries >= self.gc_thresh3 {
            self.stats.table_fulls += 1;
            return Err(Errno::ENOBUFS);
        }
        let (nud_state, ha) = match init {
            NeighInit::Resolve => (NUD_NONE, EthernetAddress::default()),
            NeighInit::NoArp(ha) => (NUD_NOARP, ha),
            NeighInit::NoInetDev => return Err(Errno::EINVAL),
        };
        self.stats.allocs += 1;
        let base = self.parms(ifindex).base_reachable_time;
        self.entries.insert(
            (ifindex, *addr),
            Neighbour {
                nud_state,
                flags: 0,
                ha,
                probes: 0,
                confirmed: now.wrapping_sub(base << 1),
                updated: now,
                used: now,
                timer: None,
                arp_queue: VecDeque::new(),
                arp_queue_len_bytes: 0,
            },
        );
        Ok(())
    }

    /// The output path for one packet (`ip_finish_output2` → `dst_neigh_output` →
    /// `neigh_resolve_output` → `neigh_event_send`): creates the entry if needed, sends on
    /// a connected entry, starts or joins a resolution otherwise.
    pub fn resolve(
        &mut self,
        ifindex: u32,
        addr: &A,
        packet: P,
        init: NeighInit,
        now_ns: u64,
    ) -> Resolve<A, P> {
        let key = (ifindex, *addr);
        if !self.entries.contains_key(&key) {
            if let Err(e) = self.create(ifindex, addr, init, now_ns) {
                return Resolve::NoNeigh(packet, e);
            }
        }
        // The entry and the device's parameters, borrowed side by side (`parms` is what
        // `self.parms(ifindex)` answers).
        let parms = self.dev_parms.get(&ifindex).unwrap_or(&self.parms);
        let Some(n) = self.entries.get_mut(&key) else {
            return Resolve::NoNeigh(packet, Errno::ENOBUFS);
        };
        // dst_neigh_output: a connected entry transmits through its cached header and
        // leaves `used` alone; only neigh_resolve_output goes through neigh_event_send.
        if n.nud_state & NUD_CONNECTED != 0 {
            return Resolve::Send(packet, n.ha);
        }
        let now = ns_to_jiffies(now_ns);
        let mut discarded = Vec::new();
        let (queued, packet, solicit) =
            event_send(n, &key, parms, Some(packet), now, &mut discarded, &mut self.stats);
        match (queued, packet) {
            (false, Some(p)) => Resolve::Send(p, n.ha),
            (true, Some(p)) => Resolve::Dropped(p),
            (_, None) => Resolve::Queued { solicit, discarded },
        }
    }

    /// `neigh_event_send(neigh, NULL)`, as `ip neigh … use` (`NTF_USE`) and `rt6_probe`
    /// call it: marks the entry used and starts resolution if it needs one.
    pub fn event_send(&mut self, ifindex: u32, addr: &A, now_ns: u64) -> Option<Solicit<A>> {
        let key = (ifindex, *addr);
        let parms = self.parms(ifindex).clone();
        let n = self.entries.get_mut(&key)?;
        let mut discarded = Vec::new();
        event_send(n, &key, &parms, None, ns_to_jiffies(now_ns), &mut discarded, &mut self.stats).2
    }

    /// Upper-layer confirmation (`dst_confirm` followed by the next output through the
    /// route, where `dst_neigh_output` stamps `neigh->confirmed`). False if no entry.
    pub fn confirm(&mut self, ifindex: u32, addr: &A, now_ns: u64) -> bool {
        match self.entries.get_mut(&(ifindex, *addr)) {
            Some(n) => {
                n.confirmed = ns_to_jiffies(now_ns);
                true
            }
            None => false,
        }
    }

    /// `__neigh_set_probe_once`: a FAILED entry goes back to INCOMPLETE for one last round
    /// of probes (its counter starts at the limit), so a late reply is still accepted.
    pub fn set_probe_once(&mut self, ifindex: u32, addr: &A, now_ns: u64) {
        let parms = self.parms(ifindex).clone();
        let Some(n) = self.entries.get_mut(&(ifindex, *addr)) else { return };
        let now = ns_to_jiffies(now_ns);
        n.updated = now;
        if n.nud_state & NUD_FAILED == 0 {
            return;
        }
        n.nud_state = NUD_INCOMPLETE;
        n.probes = parms.max_probes(NUD_INCOMPLETE);
        n.timer = Some(now.wrapping_add(parms.retrans_time));
    }
}

/// `__neigh_event_send` after `neigh_event_send` stamped `used`. Returns (rc, the packet if
/// it was not queued, the immediate probe): rc false means "transmit now".
pub(super) fn event_send<A: NeighKey, P: NeighPacket<A>>(
    n: &mut Neighbour<P>,
    key: &(u32, A),
    parms: &NeighParms,
    skb: Option<P>,
    now: u64,
    discarded: &mut Vec<P>,
    stats: &mut NeighStats,
) -> (bool, Option<P>, Option<Solicit<A>>) {
    n.used = now;
    if n.nud_state & (NUD_CONNECTED | NUD_DELAY | NUD_PROBE) != 0 {
        return (false, skb, None);
    }
    let mut immediate_probe = false;
    if n.nud_state & (NUD_STALE | NUD_INCOMPLETE) == 0 {
        if parms.mcast_probes.saturating_add(parms.app_probes) != 0 {
            n.probes = parms.ucast_probes;
            n.nud_state = NUD_INCOMPLETE;
            n.updated = now;
            n.timer = Some(now.wrapping_add(parms.retrans_time.max(HZ / 2)));
            immediate_probe = true;
        } else {
            n.nud_state = NUD_FAILED;
            n.updated = now;
            return (true, skb, None);
        }
    } else if n.nud_state & NUD_STALE != 0 {
        n.nud_state = NUD_DELAY;
        n.updated = now;
        n.timer = Some(now.wrapping_add(parms.delay_probe_time));
    }
    let mut rc = false;
    let mut skb = skb;
    if n.nud_state == NUD_INCOMPLETE {
        if let Some(p) = skb.take() {
            let size = p.truesize();
            while n.arp_queue_len_bytes.saturating_add(size) > parms.queue_len_bytes {
                let Some(old) = n.arp_queue.pop_front() else { break };
                n.arp_queue_len_bytes = n.arp_queue_len_bytes.saturating_sub(old.truesize());
                discarded.push(old);
                stats.unres_discards += 1;
            }
            n.arp_queue_len_bytes = n.arp_queue_len_bytes.saturating_add(size);
            n.arp_queue.push_back(p);
            debug_assert!(n.arp_queue_len_bytes <= parms.queue_len_bytes || n.arp_queue.len() == 1);
        }
        rc = true;
    }
    let solicit = immediate_probe.then(|| probe(n, key, parms));
    (rc, skb, solicit)
}

/// `neigh_probe`: the solicitation for the current probe number (with the newest queued
/// packet as source hint), then one more probe counted.
pub(super) fn probe<A: NeighKey, P: NeighPacket<A>>(
    n: &mut Neighbour<P>,
    key: &(u32, A),
    parms: &NeighParms,
) -> Solicit<A> {
    let p = i64::from(n.probes) - i64::from(parms.ucast_probes);
    let kind = if p < 0 {
        SolicitKind::Unicast(n.ha)
    } else if p - i64::from(parms.app_probes) < 0 {
        SolicitKind::App
    } else {
        SolicitKind::Multicast
    };
    n.probes = n.probes.saturating_add(1);
    Solicit {
        ifindex: key.0,
        target: key.1,
        kind,
        saddr_hint: n.arp_queue.back().and_then(NeighPacket::source),
    }
}

/// `neigh_invalidate`: a FAILED entry hands every queued packet to `error_report`.
pub(super) fn invalidate<A: NeighKey, P>(
    n: &mut Neighbour<P>,
    key: &(u32, A),
    now: u64,
    out: &mut NeighOutput<A, P>,
    stats: &mut NeighStats,
) {
    stats.res_failed += 1;
    n.updated = now;
    while n.nud_state == NUD_FAILED {
        let Some(p) = n.arp_queue.pop_front() else { break };
        out.unreachable.push((key.0, key.1, p));
    }
    n.arp_queue.clear();
    n.arp_queue_len_bytes = 0;
}

#[cfg(test)]
#[path = "neighbour_tests.rs"]
pub(super) mod tests;
