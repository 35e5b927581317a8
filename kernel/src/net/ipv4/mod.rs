//! IPv4 (`net/ipv4/`): addresses on devices and the routes they imply, ARP, input with
//! 4.3's checks and input routing, options, local delivery (reassembly, ICMP, UDP without
//! sockets), ICMP errors with their suppression rules and rate limits, and output through
//! the FIB and the ARP table, fragmenting when needed.

#![warn(missing_docs)]

pub mod arp;
pub mod devinet;
pub mod fib_frontend;
pub mod icmp;
pub mod ip_do_fragment;
pub mod ip_fragment;
pub mod ip_input;
pub mod ip_options;
pub mod ip_forward;
pub mod ip_output;
pub mod route;
pub mod udp;

/// The IPv4 sysctls the stack reads, with 4.3's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Sysctl {
    /// `net.ipv4.icmp_echo_ignore_all`: 0.
    pub icmp_echo_ignore_all: bool,
    /// `net.ipv4.icmp_echo_ignore_broadcasts`: 1 (`icmp_sk_init`).
    pub icmp_echo_ignore_broadcasts: bool,
    /// `net.ipv4.icmp_ignore_bogus_error_responses`: 1.
    pub icmp_ignore_bogus_error_responses: bool,
    /// `net.ipv4.ip_default_ttl`: 64 (`IPDEFTTL`).
    pub ip_default_ttl: u8,
}

impl Ipv4Sysctl {
    /// 4.3's defaults.
    pub const fn new() -> Self {
        Ipv4Sysctl {
            icmp_echo_ignore_all: false,
            icmp_echo_ignore_broadcasts: true,
            icmp_ignore_bogus_error_responses: true,
            ip_default_ttl: 64,
        }
    }
}

impl Default for Ipv4Sysctl {
    fn default() -> Self {
        Self::new()
    }
}
