//! Building test frames: Ethernet + IPv6 around a payload, and ICMPv6 messages with
//! their checksums — what the network tests, the `packet` fuzz target and the network
//! benchmark feed a host.

use alloc::vec;
use alloc::vec::Vec;
use kernel::net::wire::ethernet::{self, EtherType};
use kernel::net::wire::{icmpv6, ipv6, EthernetAddress, Ipv6Addr};

/// An Ethernet frame from `smac` to `dmac` carrying an IPv6 packet from `src` to `dst`
/// with next header `nh`, hop limit `hop`, traffic class `tclass` and `payload`.
#[allow(clippy::too_many_arguments)]
pub fn eth_ipv6(smac: EthernetAddress, dmac: EthernetAddress, src: Ipv6Addr, dst: Ipv6Addr, nh: u8, hop: u8, tclass: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; ethernet::HEADER_LEN + ipv6::HEADER_LEN + payload.len()];
    ethernet::Repr { src: smac, dst: dmac, ethertype: EtherType::IPV6 }.emit(&mut ethernet::Packet::new_unchecked(&mut f[..]));
    let mut p = ipv6::Packet::new_unchecked(&mut f[ethernet::HEADER_LEN..]);
    ipv6::Repr { src_addr: src, dst_addr: dst, next_header: nh, payload_len: payload.len(), hop_limit: hop, traffic_class: tclass, flow_label: 0 }.emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    f
}

/// The ICMPv6 message `r` from `src` to `dst`, checksum filled.
pub fn icmpv6(src: Ipv6Addr, dst: Ipv6Addr, r: &icmpv6::Repr<'_>) -> Vec<u8> {
    let mut m = vec![0u8; r.buffer_len()];
    r.emit(&src, &dst, &mut icmpv6::Packet::new_unchecked(&mut m[..]));
    m
}
