//! `neigh_update` (`net/core/neighbour.c`), the one entry point through which ARP replies and
//! requests, Neighbour Advertisements and Solicitations, redirects and the administrator
//! change an entry's state and link-layer address, with its `NEIGH_UPDATE_F_*` rules; and
//! the ARP-side helpers around it (`neigh_event_ns`, `arp_process`'s locktime rule).
//!
//! How 4.3's callers drive it (the stack reproduces these calls):
//! * `arp_process`, request for one of our addresses: [`NeighTable::neigh_event_ns`].
//!   Any other ARP packet updates an existing entry only: REACHABLE for a unicast reply,
//!   STALE otherwise, `OVERRIDE` once `locktime` has passed (see
//!   [`NeighTable::locktime_passed`]).
//! * `ndisc_recv_ns`, not DAD: create the sender's entry if the NS was unicast or carried
//!   an SLLA, then STALE with `WEAK_OVERRIDE | OVERRIDE`.
//! * `ndisc_recv_na`, existing entry not FAILED: REACHABLE if S else STALE, with
//!   `WEAK_OVERRIDE | OVERRIDE_ISROUTER`, plus `OVERRIDE` for O and `ISROUTER` for R. An NA
//!   never creates an entry.
//! * `ip neigh add/change/replace/del`: `neigh_rtnl.rs`, with `ADMIN`.

#![warn(missing_docs)]

use alloc::vec::Vec;

use super::jiffies::{ns_to_jiffies, time_after};
use super::neighbour::*;
use crate::net::wire::EthernetAddress;
use crate::uapi::Errno;

impl<A: NeighKey, P: NeighPacket<A>> NeighTable<A, P> {
    /// `neigh_update`: applies a new state and (optionally) link-layer address under the
    /// `NEIGH_UPDATE_F_*` rules, releasing queued packets when the entry becomes valid and
    /// failing them when an INCOMPLETE/PROBE entry is set FAILED. `ENOENT` if there is no
    /// entry (callers look up first; Linux's callers hold one).
    pub fn update(
        &mut self,
        ifindex: u32,
        addr: &A,
        lladdr: Option<EthernetAddress>,
        new: u8,
        flags: u32,
        now_ns: u64,
    ) -> Result<NeighOutput<A, P>, Errno> {
        let key = (ifindex, *addr);
        let parms = self.parms(ifindex).clone();
        let n = self.entries.get_mut(&key).ok_or(Errno::ENOENT)?;
        let now = ns_to_jiffies(now_ns);
        let mut out = NeighOutput::default();
        let old = n.nud_state;
        let mut new = new;
        if flags & NEIGH_UPDATE_F_ADMIN == 0 && old & (NUD_NOARP | NUD_PERMANENT) != 0 {
            return Err(Errno::EPERM);
        }
        if new & NUD_VALID == 0 {
            if old & NUD_IN_TIMER != 0 {
                n.timer = None;
            }
            n.nud_state = new;
            out.notify = usize::from(old & NUD_VALID != 0);
            if old & (NUD_INCOMPLETE | NUD_PROBE) != 0 && new & NUD_FAILED != 0 {
                invalidate(n, &key, now, &mut out, &mut self.stats);
                out.notify = 1;
            }
            return Ok(out);
        }
        // `same` stands for C's `lladdr == neigh->ha`: the cached address is kept.
        let (mut ll, mut same) = match lladdr {
            Some(l) if old & NUD_VALID != 0 && l == n.ha => (n.ha, true),
            Some(l) => (l, false),
            None if old & NUD_VALID == 0 => return Err(Errno::EINVAL),
            None => (n.ha, true),
        };
        if new & NUD_CONNECTED != 0 {
            n.confirmed = now;
        }
        n.updated = now;
        let mut update_isrouter = flags & NEIGH_UPDATE_F_OVERRIDE_ISROUTER != 0;
        if old & NUD_VALID != 0 {
            if !same && flags & NEIGH_UPDATE_F_OVERRIDE == 0 {
                update_isrouter = false;
                if flags & NEIGH_UPDATE_F_WEAK_OVERRIDE != 0 && old & NUD_CONNECTED != 0 {
                    ll = n.ha;
                    same = true;
                    new = NUD_STALE;
                } else {
                    return Ok(out);
                }
            } else if same
                && new == NUD_STALE
                && (flags & NEIGH_UPDATE_F_WEAK_OVERRIDE != 0 || old & NUD_CONNECTED != 0)
            {
                new = old;
            }
        }
        if new != old {
            if old & NUD_IN_TIMER != 0 {
                n.timer = None;
            }
            if new & NUD_PROBE != 0 {
                n.probes = 0;
            }
            if new & NUD_IN_TIMER != 0 {
                let d = if new & NUD_REACHABLE != 0 { parms.reachable_time } else { 0 };
                n.timer = Some(now.wrapping_add(d));
            }
            n.nud_state = new;
            out.notify = 1;
        }
        if !same {
            n.ha = ll;
            if new & NUD_CONNECTED == 0 {
                n.confirmed = now.wrapping_sub(parms.base_reachable_time << 1);
            }
            out.notify = 1;
        }
        if new != old && old & NUD_VALID == 0 {
            // Each queued packet goes out through the entry's output function: a connected
            // entry sends it, a STALE one runs neigh_event_send and turns DELAY first.
            let mut discarded = Vec::new();
            while n.nud_state & NUD_VALID != 0 {
                let Some(p) = n.arp_queue.pop_front() else { break };
                if n.nud_state & NUD_CONNECTED == 0 {
                    event_send(n, &key, &parms, None, now, &mut discarded, &mut self.stats);
                }
                out.xmit.push((p, n.ha));
            }
            n.arp_queue.clear();
            n.arp_queue_len_bytes = 0;
        }
        if update_isrouter {
            if flags & NEIGH_UPDATE_F_ISROUTER != 0 {
                n.flags |= NTF_ROUTER;
            } else {
                n.flags &= !NTF_ROUTER;
            }
        }
        Ok(out)
    }

    /// `neigh_event_ns` as ARP uses it for a request to us: finds or (with an address)
    /// creates the sender's entry and makes it STALE with `NEIGH_UPDATE_F_OVERRIDE`. `ndisc`
    /// does the same with its own creation rule and flags through [`create`](Self::create)
    /// and [`update`](Self::update).
    pub fn neigh_event_ns(
        &mut self,
        ifindex: u32,
        addr: &A,
        lladdr: EthernetAddress,
        init: NeighInit,
        now_ns: u64,
    ) -> Result<NeighOutput<A, P>, Errno> {
        self.create(ifindex, addr, init, now_ns)?;
        self.update(ifindex, addr, Some(lladdr), NUD_STALE, NEIGH_UPDATE_F_OVERRIDE, now_ns)
    }

    /// `arp_process`'s override rule: a reply may replace the address only once `locktime`
    /// has passed since the entry's last update (the first of several replies wins).
    pub fn locktime_passed(&self, ifindex: u32, addr: &A, now_ns: u64) -> bool {
        self.entries.get(&(ifindex, *addr)).is_some_and(|n| {
            let lock = self.parms(ifindex).locktime;
            time_after(ns_to_jiffies(now_ns), n.updated.wrapping_add(lock))
        })
    }
}
