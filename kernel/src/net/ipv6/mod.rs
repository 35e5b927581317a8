//! IPv6 (`net/ipv6/`): input with the extension-header walk, output through Neighbour
//! Discovery, ICMPv6, address configuration, reassembly of received fragments and
//! fragmentation on output.

#![warn(missing_docs)]

pub mod addrconf;
pub mod addrconf_del;
pub mod icmp;
pub mod ip6_forward;
pub mod ip6_fragment;
pub mod ip6_input;
pub mod ip6_output;
pub mod ndisc;
pub mod raw;
pub mod reassembly;
