//! Long-lived per-destination state (`net/ipv4/inetpeer.c`, `include/net/inetpeer.h`): one
//! `struct inet_peer` per remote address (IPv4 keys carry the VRF master's ifindex, `vif`),
//! created on demand, and the token bucket kept in it that limits ICMP errors per
//! destination (`inet_peer_xrlim_allow`) and, for IPv4, route errors per source
//! (`ip_error`). Both share the same `rate_tokens`/`rate_last`, so a source that triggers
//! route errors pays twice from one bucket.
//!
//! 4.3 keeps peers in an AVL tree and collects garbage only on a miss that creates, among
//! the nodes on the lookup path (`inet_peer_gc`): unreferenced nodes idle for at least a TTL
//! that shrinks from 10 min towards 2 min as the pool fills, 0 once it holds
//! `inet_peer_threshold`. Here the pool is a `BTreeMap`; its "path" is the at most
//! [`PEER_MAXDEPTH`] keys nearest the one looked up. Every peer is released as soon as the
//! caller is done with it, so all of them are candidates and the pool stays bounded.

#![warn(missing_docs)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::jiffies::{ns_to_jiffies, HZ};

/// `XRLIM_BURST_FACTOR`: a bucket holds this many timeouts' worth of tokens.
pub const XRLIM_BURST_FACTOR: u64 = 6;
/// `PEER_MAXDEPTH`: the bound on an AVL lookup path, and on one GC pass here.
pub const PEER_MAXDEPTH: usize = 40;
/// `inet_peer_threshold` on a machine with more than 32 MiB of RAM.
pub const INET_PEER_THRESHOLD: usize = 65536 + 128;
/// `inet_peer_minttl`: 120 s.
pub const INET_PEER_MINTTL: u64 = 120 * HZ;
/// `inet_peer_maxttl`: 10 min.
pub const INET_PEER_MAXTTL: u64 = 600 * HZ;
/// `ip_rt_error_cost`: tokens one route-error ICMP costs (1 s).
pub const IP_RT_ERROR_COST: u32 = HZ as u32;
/// `ip_rt_error_burst`: a source's route-error bucket (5 s).
pub const IP_RT_ERROR_BURST: u32 = 5 * HZ as u32;

/// The rate-limiting part of `struct inet_peer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InetPeer {
    /// `rate_tokens` (jiffies of credit).
    pub rate_tokens: u32,
    /// `rate_last` (jiffies).
    pub rate_last: u64,
    /// `dtime`: `(u32)jiffies` when last released.
    pub dtime: u32,
}

/// `struct inet_peer_base`: one namespace's peers of one family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InetPeerBase<K> {
    peers: BTreeMap<K, InetPeer>,
    /// `inet_peer_threshold`.
    pub threshold: usize,
}

impl<K: Ord + Copy> Default for InetPeerBase<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Copy> InetPeerBase<K> {
    /// An empty pool with 4.3's default threshold.
    pub const fn new() -> Self {
        InetPeerBase { peers: BTreeMap::new(), threshold: INET_PEER_THRESHOLD }
    }

    /// `base->total`.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// The peer for `key`, if any.
    pub fn get(&self, key: &K) -> Option<&InetPeer> {
        self.peers.get(key)
    }

    /// `inet_peer_gc`'s TTL: `maxttl - (maxttl - minttl)/HZ * total/threshold * HZ`, in
    /// 4.3's integer order, or 0 at the threshold.
    pub fn gc_ttl(&self) -> u64 {
        let total = self.peers.len() as u64;
        let threshold = self.threshold.max(1) as u64;
        if total >= threshold {
            return 0;
        }
        let shrink = (INET_PEER_MAXTTL - INET_PEER_MINTTL) / HZ * total / threshold * HZ;
        INET_PEER_MAXTTL - shrink
    }

    /// `inet_peer_gc` on the "path" to `key`: frees peers idle for at least the TTL.
    fn gc_near(&mut self, key: &K, now: u64) -> usize {
        let ttl = self.gc_ttl();
        let half = PEER_MAXDEPTH / 2;
        let mut path: Vec<K> = self.peers.range(..*key).rev().take(half).map(|(k, _)| *k).collect();
        path.extend(self.peers.range(*key..).take(half).map(|(k, _)| *k));
        let mut freed = 0;
        for k in path {
            let idle = self.peers.get(&k).map(|p| (now as u32).wrapping_sub(p.dtime));
            if idle.is_some_and(|d| u64::from(d) >= ttl) {
                self.peers.remove(&k);
                freed += 1;
            }
        }
        freed
    }

    /// `inet_getpeer(base, key, create)`: the peer for `key`, created (with no tokens and
    /// `rate_last` 60 s in the past, so its first use finds a full bucket) when `create`.
    pub fn getpeer(&mut self, key: &K, create: bool, now_ns: u64) -> Option<&mut InetPeer> {
        let now = ns_to_jiffies(now_ns);
        if !self.peers.contains_key(key) {
            if !create {
                return None;
            }
            self.gc_near(key, now);
            let p = InetPeer { rate_tokens: 0, rate_last: now.wrapping_sub(60 * HZ), dtime: now as u32 };
            self.peers.insert(*key, p);
        }
        self.peers.get_mut(key)
    }

    /// `inet_putpeer`: stamps `dtime` on release.
    pub fn putpeer(&mut self, key: &K, now_ns: u64) {
        if let Some(p) = self.peers.get_mut(key) {
            p.dtime = ns_to_jiffies(now_ns) as u32;
        }
    }

    /// `inet_getpeer` + `inet_peer_xrlim_allow(peer, timeout)` + `inet_putpeer`, as
    /// `icmpv4_xrlim_allow` and `icmpv6_xrlim_allow` use them; `timeout` in jiffies.
    pub fn xrlim_allow(&mut self, key: &K, timeout: u32, now_ns: u64) -> bool {
        let peer = self.getpeer(key, true, now_ns);
        let rc = inet_peer_xrlim_allow(peer, timeout, now_ns);
        self.putpeer(key, now_ns);
        rc
    }

    /// `ip_error`'s limiter for the source of a packet that hit an unreachable, prohibit
    /// or missing route on a forwarding device: a bucket of [`IP_RT_ERROR_BURST`] jiffies,
    /// [`IP_RT_ERROR_COST`] per error, in the same peer fields as `xrlim_allow`.
    pub fn ip_error_allow(&mut self, key: &K, now_ns: u64) -> bool {
        let now = ns_to_jiffies(now_ns);
        let mut send = true;
        if let Some(p) = self.getpeer(key, true, now_ns) {
            // `peer->rate_tokens += now - peer->rate_last` adds into a u32.
            p.rate_tokens = p.rate_tokens.wrapping_add(now.wrapping_sub(p.rate_last) as u32);
            if p.rate_tokens > IP_RT_ERROR_BURST {
                p.rate_tokens = IP_RT_ERROR_BURST;
            }
            p.rate_last = now;
            if p.rate_tokens >= IP_RT_ERROR_COST {
                p.rate_tokens -= IP_RT_ERROR_COST;
            } else {
                send = false;
            }
        }
        self.putpeer(key, now_ns);
        send
    }
}

/// `inet_peer_xrlim_allow`: adds the jiffies since `rate_last` to the bucket, caps it at
/// `XRLIM_BURST_FACTOR * timeout`, and spends `timeout` if that much is there. No peer (the
/// allocation failed) means allowed.
pub fn inet_peer_xrlim_allow(peer: Option<&mut InetPeer>, timeout: u32, now_ns: u64) -> bool {
    let Some(peer) = peer else { return true };
    let now = ns_to_jiffies(now_ns);
    let timeout = u64::from(timeout);
    let mut token = u64::from(peer.rate_tokens).wrapping_add(now.wrapping_sub(peer.rate_last));
    peer.rate_last = now;
    token = token.min(XRLIM_BURST_FACTOR * timeout);
    let rc = token >= timeout;
    if rc {
        token -= timeout;
    }
    peer.rate_tokens = token as u32;
    rc
}
