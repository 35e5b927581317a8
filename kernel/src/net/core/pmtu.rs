//! Path MTU learnt from Packet Too Big / Fragmentation Needed (RFC 8201, RFC 1191): 4.3's
//! per-destination exceptions — `fib_nh_exception`'s `fnhe_pmtu` for IPv4
//! (`__ip_rt_update_pmtu`), an `RTF_CACHE` clone's `RTAX_MTU` for IPv6
//! (`__ip6_rt_update_pmtu`) — reduced to what the output path reads: a lower MTU for one
//! destination, expiring `ip_rt_mtu_expires` / `ip6_rt_mtu_expires` (10 min) later.
//!
//! Not modelled: `ip route get`'s `cache expires … mtu …` line (routes are printed from
//! the FIB only), locked MTU metrics, and the expiry's garbage collection (an expired
//! entry is simply ignored).

use alloc::collections::BTreeMap;

/// `ip_rt_mtu_expires` and `ip6_rt_mtu_expires`: 10 minutes.
pub const MTU_EXPIRES_NS: u64 = 600_000_000_000;
/// `ip_rt_min_pmtu`: 512 + 20 + 20.
pub const IP_RT_MIN_PMTU: u32 = 552;
/// `IPV6_MIN_MTU`.
pub const IPV6_MIN_MTU: u32 = 1280;

/// Learnt path MTUs by destination.
#[derive(Clone, Debug)]
pub struct PmtuCache<A: Ord + Copy> {
    map: BTreeMap<A, (u32, u64)>,
}

impl<A: Ord + Copy> Default for PmtuCache<A> {
    fn default() -> Self {
        PmtuCache { map: BTreeMap::new() }
    }
}

impl<A: Ord + Copy> PmtuCache<A> {
    /// The learnt MTU towards `daddr`, unless it expired by `now_ns`.
    pub fn get(&self, daddr: &A, now_ns: u64) -> Option<u32> {
        self.map.get(daddr).filter(|(_, exp)| *exp > now_ns).map(|&(m, _)| m)
    }

    /// Records `mtu` (already clamped to the family's floor) towards `daddr` when it is
    /// below `current` (the path MTU in use); `true` when it was recorded. An equal MTU
    /// learnt again in the second half of its lifetime refreshes it, as 4.3's
    /// `rt_pmtu == mtu && time_before(jiffies, expires - ip_rt_mtu_expires / 2)` test lets.
    pub fn learn(&mut self, daddr: A, mtu: u32, current: u32, now_ns: u64) -> bool {
        let expires = now_ns.saturating_add(MTU_EXPIRES_NS);
        match self.map.get(&daddr).filter(|(_, exp)| *exp > now_ns) {
            Some(&(m, exp)) if m == mtu => {
                if now_ns < exp.saturating_sub(MTU_EXPIRES_NS / 2) {
                    return false;
                }
            }
            _ if mtu >= current => return false,
            _ => {}
        }
        self.map.insert(daddr, (mtu, expires));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_only_and_expiring() {
        let mut c = PmtuCache::<u32>::default();
        assert!(!c.learn(1, 1500, 1500, 0));
        assert!(c.learn(1, 1400, 1500, 0));
        assert_eq!(c.get(&1, 1), Some(1400));
        assert!(!c.learn(1, 1450, 1400, 5));
        assert!(c.learn(1, 1300, 1400, 5));
        assert_eq!(c.get(&1, 5 + MTU_EXPIRES_NS), None);
        assert_eq!(c.get(&2, 0), None);
    }
}
