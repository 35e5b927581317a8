//! `struct neigh_parms` (`include/net/neighbour.h`): the per-table and per-device settings
//! of a neighbour table with `arp_tbl`'s and `nd_tbl`'s 4.3 defaults, and
//! `neigh_rand_reach_time`.

#![warn(missing_docs)]

use super::jiffies::{Prandom, HZ};
use super::neighbour::NUD_PROBE;

/// `struct neigh_parms`: per-table (and per-device) settings. Times are in jiffies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighParms {
    /// `mcast_solicit`: multicast probes while INCOMPLETE.
    pub mcast_probes: u32,
    /// `ucast_solicit`: unicast probes while PROBE.
    pub ucast_probes: u32,
    /// `app_solicit`: probes handed to a user-space daemon.
    pub app_probes: u32,
    /// `mcast_resolicit`: multicast probes after the unicast ones in PROBE.
    pub mcast_reprobes: u32,
    /// `retrans_time`.
    pub retrans_time: u64,
    /// `base_reachable_time`.
    pub base_reachable_time: u64,
    /// `delay_first_probe_time`.
    pub delay_probe_time: u64,
    /// `gc_stale_time`.
    pub gc_staletime: u64,
    /// `unres_qlen_bytes`: bytes of truesize queued per unresolved entry.
    pub queue_len_bytes: usize,
    /// `proxy_qlen`.
    pub proxy_qlen: u32,
    /// `anycast_delay`.
    pub anycast_delay: u64,
    /// `proxy_delay`.
    pub proxy_delay: u64,
    /// `locktime`: ARP ignores a second reply this soon after an update.
    pub locktime: u64,
    /// `reachable_time`: drawn from [base/2, 3·base/2) by `neigh_rand_reach_time`.
    pub reachable_time: u64,
}

impl NeighParms {
    /// `arp_tbl.parms` (`net/ipv4/arp.c`).
    pub const fn arp() -> NeighParms {
        NeighParms {
            mcast_probes: 3,
            ucast_probes: 3,
            app_probes: 0,
            mcast_reprobes: 0,
            retrans_time: HZ,
            base_reachable_time: 30 * HZ,
            delay_probe_time: 5 * HZ,
            gc_staletime: 60 * HZ,
            queue_len_bytes: 64 * 1024,
            proxy_qlen: 64,
            anycast_delay: HZ,
            proxy_delay: (8 * HZ) / 10,
            locktime: HZ,
            reachable_time: 30 * HZ,
        }
    }

    /// `nd_tbl.parms` (`net/ipv6/ndisc.c`): as ARP's but `locktime` 0.
    pub const fn nd() -> NeighParms {
        NeighParms { locktime: 0, ..NeighParms::arp() }
    }

    /// `neigh_max_probes`: probes before an INCOMPLETE or PROBE entry fails.
    pub fn max_probes(&self, state: u8) -> u32 {
        let m = if state & NUD_PROBE != 0 { self.mcast_reprobes } else { self.mcast_probes };
        self.ucast_probes.saturating_add(self.app_probes).saturating_add(m)
    }
}

/// `neigh_rand_reach_time`: uniform in [base/2, 3·base/2) jiffies, 0 for base 0.
pub fn neigh_rand_reach_time(rng: &mut Prandom, base: u64) -> u64 {
    if base == 0 {
        0
    } else {
        u64::from(rng.next_u32()) % base + (base >> 1)
    }
}
