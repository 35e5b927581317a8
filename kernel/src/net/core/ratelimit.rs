//! ICMP output rate limiting as 4.3 has it: the system-wide token bucket every ICMPv4 and
//! ICMPv6 error draws from (`icmp_global_allow`, `net/ipv4/icmp.c`), then the
//! per-destination bucket in the inet_peer (`icmpv4_xrlim_allow`, `icmpv6_xrlim_allow` in
//! `net/ipv6/icmp.c`, both through [`InetPeerBase::xrlim_allow`]).
//!
//! Jiffies arithmetic at k43's `HZ = 250`: the sysctls `net.ipv4.icmp_ratelimit` and
//! `net.ipv6.icmp.ratelimit` are milliseconds on the outside and jiffies inside
//! (`proc_dointvec_ms_jiffies`), default `1 * HZ` = 250 jiffies = 1000 ms. IPv6 divides the
//! timeout by a power of two for short route prefixes in integer jiffies, so a /64 gives
//! `250 >> 2` = 62 jiffies = 248 ms (not 250 ms), /96 125 jiffies, /0 15 jiffies = 60 ms. The
//! global bucket refills only when at least `HZ / 50` = 5 jiffies (20 ms) have passed, with
//! `1000 * delta / 250` tokens for `delta` ≤ `HZ` jiffies, so a 5-jiffy gap earns 20.

#![warn(missing_docs)]

use super::inetpeer::InetPeerBase;
use super::jiffies::{ns_to_jiffies, HZ};
use crate::net::wire::{Ipv4Addr, Ipv6Addr};

/// `NR_ICMP_TYPES`: ICMPv4 types above this are never limited.
pub const NR_ICMP_TYPES: u8 = 18;
/// `ICMP_DEST_UNREACH`.
pub const ICMP_DEST_UNREACH: u8 = 3;
/// `ICMP_FRAG_NEEDED` (code of Destination Unreachable): never limited, PMTU needs it.
pub const ICMP_FRAG_NEEDED: u8 = 4;
/// `ICMPV6_PKT_TOOBIG`: never limited.
pub const ICMPV6_PKT_TOOBIG: u8 = 2;
/// `ICMPV6_INFOMSG_MASK`: informational ICMPv6 types are never limited.
pub const ICMPV6_INFOMSG_MASK: u8 = 0x80;

/// The sysctls the limiters read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpSysctl {
    /// `net.ipv4.icmp_msgs_per_sec` (global refill rate).
    pub msgs_per_sec: u32,
    /// `net.ipv4.icmp_msgs_burst` (global bucket size).
    pub msgs_burst: u32,
    /// `net.ipv4.icmp_ratelimit`, jiffies.
    pub icmp_ratelimit: u32,
    /// `net.ipv4.icmp_ratemask`: bit `1 << type` set = that ICMPv4 type is limited.
    pub icmp_ratemask: u32,
    /// `net.ipv6.icmp.ratelimit` (`icmpv6_time`), jiffies.
    pub icmpv6_time: u32,
}

impl IcmpSysctl {
    /// 4.3's defaults: 1000/s, burst 50, 1 s per destination, mask 0x1818 (Destination
    /// Unreachable, Source Quench, Time Exceeded, Parameter Problem).
    pub const fn new() -> Self {
        IcmpSysctl {
            msgs_per_sec: 1000,
            msgs_burst: 50,
            icmp_ratelimit: HZ as u32,
            icmp_ratemask: 0x1818,
            icmpv6_time: HZ as u32,
        }
    }
}

impl Default for IcmpSysctl {
    fn default() -> Self {
        Self::new()
    }
}

/// The `icmp_global` bucket (one per system in 4.3, shared by every namespace and by
/// ICMPv4 and ICMPv6). Starts empty with stamp 0; `INITIAL_JIFFIES` makes the first call
/// after boot see a full second elapsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IcmpGlobal {
    /// `credit`: messages that may still be sent.
    pub credit: u32,
    /// `stamp`: `(u32)jiffies` of the last refill.
    pub stamp: u32,
}

impl IcmpGlobal {
    /// An empty bucket, as the kernel's static starts.
    pub const fn new() -> Self {
        IcmpGlobal { credit: 0, stamp: 0 }
    }

    /// `icmp_global_allow`: refills `msgs_per_sec * delta / HZ` tokens when at least
    /// `HZ / 50` jiffies passed since the last refill (delta capped at `HZ`; the stamp moves
    /// only when tokens were added), caps at `msgs_burst`, and spends one.
    pub fn allow(&mut self, sysctl: &IcmpSysctl, now_ns: u64) -> bool {
        let now = ns_to_jiffies(now_ns) as u32;
        let hz = HZ as u32;
        let delta = now.wrapping_sub(self.stamp).min(hz);
        // The lockless early exit changes nothing, so only its verdict is kept.
        if self.credit == 0 && delta < hz / 50 {
            return false;
        }
        let mut incr = 0;
        if delta >= hz / 50 {
            incr = sysctl.msgs_per_sec.wrapping_mul(delta) / hz;
            if incr != 0 {
                self.stamp = now;
            }
        }
        let mut credit = self.credit.wrapping_add(incr).min(sysctl.msgs_burst);
        let rc = credit != 0;
        if rc {
            credit -= 1;
        }
        self.credit = credit;
        rc
    }
}

/// `icmpv4_xrlim_allow`: whether an ICMPv4 message of `icmp_type`/`code` to `daddr` may go
/// out. `loopback_dev`: the route towards `daddr` leaves through a loopback device. `vif`:
/// the VRF master's ifindex (0 without VRF), part of the peer key.
#[allow(clippy::too_many_arguments)]
pub fn icmpv4_xrlim_allow(
    global: &mut IcmpGlobal,
    peers: &mut InetPeerBase<(Ipv4Addr, u32)>,
    sysctl: &IcmpSysctl,
    icmp_type: u8,
    code: u8,
    loopback_dev: bool,
    daddr: Ipv4Addr,
    vif: u32,
    now_ns: u64,
) -> bool {
    if icmp_type > NR_ICMP_TYPES
        || (icmp_type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
        || loopback_dev
        || (1u32 << icmp_type) & sysctl.icmp_ratemask == 0
    {
        return true;
    }
    global.allow(sysctl, now_ns) && peers.xrlim_allow(&(daddr, vif), sysctl.icmp_ratelimit, now_ns)
}

/// The output route `icmpv6_xrlim_allow` looks up for the error's destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmpv6Route {
    /// `dst->error`: no route (`OutNoRoutes` is counted and the error not sent).
    Error,
    /// The route's device is a loopback device.
    Loopback,
    /// A route whose destination prefix (`rt6i_dst.plen`) is this long.
    Prefix(u8),
}

/// `icmpv6_xrlim_allow`'s timeout for a route prefix: `tmo >>= (128 - plen) >> 5` below /128
/// ("give more bandwidth to wider prefixes").
pub const fn icmpv6_timeout(icmpv6_time: u32, plen: u8) -> u32 {
    if plen < 128 {
        icmpv6_time >> ((128 - plen as u32) >> 5)
    } else {
        icmpv6_time
    }
}

/// `icmpv6_xrlim_allow`: informational messages and Packet Too Big always pass; otherwise
/// the route decides (none: refused; loopback: allowed), then the global bucket, then the
/// destination's peer with the prefix-scaled timeout.
pub fn icmpv6_xrlim_allow(
    global: &mut IcmpGlobal,
    peers: &mut InetPeerBase<Ipv6Addr>,
    sysctl: &IcmpSysctl,
    icmp_type: u8,
    route: Icmpv6Route,
    daddr: Ipv6Addr,
    now_ns: u64,
) -> bool {
    if icmp_type & ICMPV6_INFOMSG_MASK != 0 || icmp_type == ICMPV6_PKT_TOOBIG {
        return true;
    }
    match route {
        Icmpv6Route::Error => false,
        Icmpv6Route::Loopback => true,
        Icmpv6Route::Prefix(plen) => {
            let tmo = icmpv6_timeout(sysctl.icmpv6_time, plen);
            global.allow(sysctl, now_ns) && peers.xrlim_allow(&daddr, tmo, now_ns)
        }
    }
}

#[cfg(test)]
#[path = "ratelimit_tests.rs"]
mod tests;
