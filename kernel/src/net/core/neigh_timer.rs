//! The neighbour table's clocks (`net/core/neighbour.c`): each entry's timer
//! (`neigh_timer_handler`), the table's periodic GC work (`neigh_periodic_work`), and the
//! device-down flush (`neigh_flush_dev`).
//!
//! Timers are kept as jiffies in the entries; [`NeighTable::timer`] runs every handler whose
//! time has come, earliest first (ties in key order, where Linux's order among timers of
//! the same tick is unspecified), and the GC work when it is due.

#![warn(missing_docs)]

use alloc::vec::Vec;

use super::jiffies::{jiffies_to_ns, ns_to_jiffies, time_after, time_before, time_before_eq, HZ};
use super::neighbour::{
    invalidate, neigh_rand_reach_time, probe, NeighKey, NeighOutput, NeighPacket, NeighTable, NUD_DELAY,
    NUD_FAILED, NUD_INCOMPLETE, NUD_IN_TIMER, NUD_PERMANENT, NUD_PROBE, NUD_REACHABLE, NUD_STALE,
};

/// `neigh_periodic_work` re-draws `reachable_time` at most this often (300 s).
pub const NEIGH_RAND_INTERVAL: u64 = 300 * HZ;

impl<A: NeighKey, P: NeighPacket<A>> NeighTable<A, P> {
    /// The earliest instant (ns) at which [`timer`](Self::timer) has work: an entry timer
    /// or the periodic GC.
    pub fn next_deadline(&self) -> u64 {
        let first = self.entries.values().filter_map(|n| n.timer).fold(self.gc_next, |m, t| {
            if time_before(t, m) {
                t
            } else {
                m
            }
        });
        jiffies_to_ns(first)
    }

    /// Runs every expired entry timer (`neigh_timer_handler`) and, when due, the periodic
    /// GC work. Each handler re-arms at least half a second ahead, so this terminates.
    pub fn timer(&mut self, now_ns: u64) -> NeighOutput<A, P> {
        let now = ns_to_jiffies(now_ns);
        let mut out = NeighOutput::default();
        loop {
            let mut due: Vec<(u64, (u32, A))> = self
                .entries
                .iter()
                .filter_map(|(k, n)| n.timer.filter(|t| time_before_eq(*t, now)).map(|t| (t, *k)))
                .collect();
            if due.is_empty() {
                break;
            }
            due.sort();
            for (_, key) in due {
                self.timer_handler(&key, now, &mut out);
            }
        }
        if time_before_eq(self.gc_next, now) {
            self.periodic_work(now);
        }
        out
    }

    /// `neigh_timer_handler` for one entry whose timer fired at jiffies `now`.
    fn timer_handler(&mut self, key: &(u32, A), now: u64, out: &mut NeighOutput<A, P>) {
        let parms = self.parms(key.0).clone();
        let Some(n) = self.entries.get_mut(key) else { return };
        n.timer = None;
        let state = n.nud_state;
        let mut next = now.wrapping_add(HZ);
        let mut notify = false;
        if state & NUD_IN_TIMER == 0 {
            return;
        }
        if state & NUD_REACHABLE != 0 {
            if time_before_eq(now, n.confirmed.wrapping_add(parms.reachable_time)) {
                next = n.confirmed.wrapping_add(parms.reachable_time);
            } else if time_before_eq(now, n.used.wrapping_add(parms.delay_probe_time)) {
                n.nud_state = NUD_DELAY;
                n.updated = now;
                next = now.wrapping_add(parms.delay_probe_time);
            } else {
                n.nud_state = NUD_STALE;
                n.updated = now;
                notify = true;
            }
        } else if state & NUD_DELAY != 0 {
            if time_before_eq(now, n.confirmed.wrapping_add(parms.delay_probe_time)) {
                n.nud_state = NUD_REACHABLE;
                n.updated = now;
                notify = true;
                next = n.confirmed.wrapping_add(parms.reachable_time);
            } else {
                n.nud_state = NUD_PROBE;
                n.updated = now;
                n.probes = 0;
                notify = true;
                next = now.wrapping_add(parms.retrans_time);
            }
        } else {
            // NUD_PROBE | NUD_INCOMPLETE
            next = now.wrapping_add(parms.retrans_time);
        }
        if n.nud_state & (NUD_INCOMPLETE | NUD_PROBE) != 0 && n.probes >= parms.max_probes(n.nud_state) {
            n.nud_state = NUD_FAILED;
            invalidate(n, key, now, out, &mut self.stats);
            out.notify += 1;
            return;
        }
        if n.nud_state & NUD_IN_TIMER != 0 {
            if time_before(next, now.wrapping_add(HZ / 2)) {
                next = now.wrapping_add(HZ / 2);
            }
            n.timer = Some(next);
        }
        if n.nud_state & (NUD_INCOMPLETE | NUD_PROBE) != 0 {
            out.solicits.push(probe(n, key, &parms));
        }
        out.notify += usize::from(notify);
    }

    /// `neigh_periodic_work` at jiffies `now`: re-draws `reachable_time` every 300 s, then
    /// (only with at least `gc_thresh1` entries) frees unreferenced entries that are FAILED
    /// or unused for `gc_staletime`, and re-arms itself `base_reachable_time / 2` ahead.
    fn periodic_work(&mut self, now: u64) -> usize {
        self.stats.periodic_gc_runs += 1;
        if time_after(now, self.last_rand.wrapping_add(NEIGH_RAND_INTERVAL)) {
            self.last_rand = now;
            self.parms.reachable_time = neigh_rand_reach_time(&mut self.rng, self.parms.base_reachable_time);
            for p in self.dev_parms.values_mut() {
                p.reachable_time = neigh_rand_reach_time(&mut self.rng, p.base_reachable_time);
            }
        }
        let mut removed = 0;
        if self.entries.len() >= self.gc_thresh1 {
            let (defaults, dev_parms) = (&self.parms, &self.dev_parms);
            let before = self.entries.len();
            self.entries.retain(|(ifindex, _), n| {
                if n.nud_state & (NUD_PERMANENT | NUD_IN_TIMER) != 0 {
                    return true;
                }
                if time_before(n.used, n.confirmed) {
                    n.used = n.confirmed;
                }
                let stale = dev_parms.get(ifindex).unwrap_or(defaults).gc_staletime;
                let expired = n.nud_state == NUD_FAILED || time_after(now, n.used.wrapping_add(stale));
                !(n.timer.is_none() && expired)
            });
            removed = before - self.entries.len();
            self.stats.destroys += removed as u64;
        }
        self.gc_next = now.wrapping_add(self.parms.base_reachable_time >> 1);
        removed
    }

    /// Runs the periodic GC work now (as if its delayed work fired), returning how many
    /// entries it freed. It re-arms from now.
    pub fn gc(&mut self, now_ns: u64) -> usize {
        self.periodic_work(ns_to_jiffies(now_ns))
    }

    /// `neigh_changeaddr` (`neigh_flush_dev`): frees every entry of `ifindex`, or of every
    /// device for `None`, with its timer and queued packets (freed silently).
    pub fn changeaddr(&mut self, ifindex: Option<u32>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(i, _), _| ifindex.is_some_and(|d| d != *i));
        let removed = before - self.entries.len();
        self.stats.destroys += removed as u64;
        removed
    }

    /// `neigh_ifdown`: [`changeaddr`](Self::changeaddr) plus the device's proxy entries
    /// (`pneigh_ifdown`).
    pub fn ifdown(&mut self, ifindex: Option<u32>) -> usize {
        self.proxies.retain(|(_, i), _| ifindex.is_some_and(|d| d != *i));
        self.changeaddr(ifindex)
    }
}
