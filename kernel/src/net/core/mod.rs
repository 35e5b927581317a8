//! Protocol-independent networking core (`net/core/`, and the ICMP and addrconf pieces
//! that are pure state machines): the neighbour table ARP and ND share, the ICMP rate
//! limiters, and the IPv6 Duplicate Address Detection state machine.
//!
//! Everything here is a pure state machine over `now_ns` (see [`jiffies`] for how that
//! becomes 4.3's `jiffies` at `HZ = 250`): no devices, no packets sent; each operation
//! returns what the stack must do.

#![warn(missing_docs)]

pub mod addrconf;
pub mod addrconf_show;
pub mod inetpeer;
pub mod jiffies;
pub mod neigh_key;
pub mod neigh_parms;
pub mod neigh_rtnl;
pub mod neigh_timer;
pub mod neigh_update;
pub mod neighbour;
pub mod ratelimit;
pub mod pmtu;

#[cfg(test)]
mod neigh_walk_tests;
