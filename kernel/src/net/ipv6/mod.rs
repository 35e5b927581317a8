//! IPv6 (`net/ipv6/`): reassembly of received fragments and fragmentation on output.

#![warn(missing_docs)]

pub mod ip6_fragment;
pub mod reassembly;
