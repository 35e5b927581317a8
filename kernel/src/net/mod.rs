//! Networking (`net/`): wire formats first; the stack (devices, skbs, IPv4/IPv6 input
//! and output, neighbour discovery, routing, UDP sockets) builds on them.

pub mod inet_frag;
pub mod ipv4;
pub mod ipv6;
pub mod wire;
