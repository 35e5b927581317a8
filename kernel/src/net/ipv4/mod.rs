//! IPv4 (`net/ipv4/`): reassembly of received fragments and fragmentation on output.

#![warn(missing_docs)]

pub mod ip_do_fragment;
pub mod ip_fragment;
