//! IPv4 forwarding (`net/ipv4/ip_forward.c`, spec net-ipv6.md §10): the router half of
//! `ip_route_input_slow` (`ip_mkroute_input`) and `ip_forward`'s checks in 4.3's order:
//! TTL (Time Exceeded), DF over the output MTU (Fragmentation Needed with the MTU; source
//! routes never get here: `accept_source_route` 0 drops them), then the TTL decrement with
//! `ip_decrease_ttl`'s incremental checksum, `OutForwDatagrams`, and output through
//! `ip_output` (which counts `OutRequests` for forwarded datagrams too) — fragmented
//! when it may be.
//!
//! Not modelled: ICMP Redirects (`ip_rt_send_redirect`; a datagram going back out of
//! the interface it came in on is forwarded without one), `ip_forward_options` (Record
//! Route and Timestamp options of forwarded datagrams pass unchanged), router-alert
//! sockets, per-device `conf/*/forwarding` (the global `net.ipv4.ip_forward` governs
//! every device), netfilter.

use super::icmp::IcmpCtx;
use super::route::Rtable;
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::skbuff::{PacketType, SkBuff};
use crate::net::snmp::{IpStats, PoBase};
use crate::net::wire::icmpv4::{msg_type, time_exceeded, unreach};
use crate::net::wire::ipv4;
use alloc::vec::Vec;

/// The sysctl that turns a host into an IPv4 router (`IPV4_DEVCONF_ALL(FORWARDING)`).
pub const IP_FORWARD_SYSCTL: &str = "net/ipv4/ip_forward";

/// `ip_decrease_ttl`: the TTL minus one, with the header checksum patched as 4.3 does on
/// a little-endian CPU (`check += htons(0x0100)`, the carry folded back when the sum
/// reaches 0xFFFF) — bit for bit what Linux puts on the wire, 0xFFFF cases included.
pub fn ip_decrease_ttl(hdr: &mut [u8]) {
    if hdr.len() < ipv4::HEADER_LEN {
        return;
    }
    let mut check = u32::from(u16::from_le_bytes([hdr[10], hdr[11]])) + 0x0001;
    check += u32::from(check >= 0xffff);
    hdr[10..12].copy_from_slice(&(check as u16).to_le_bytes());
    hdr[8] = hdr[8].wrapping_sub(1);
}

impl<H: Hal> Kernel<H> {
    /// `net.ipv4.ip_forward` is set (any non-zero value, as `IN_DEV_FORWARD` reads it).
    pub(crate) fn ipv4_forwarding(&self) -> bool {
        self.vfs.sysctl.int(IP_FORWARD_SYSCTL).is_some_and(|v| v != 0)
    }

    /// `ip_forward` of `pkt`, which arrived on `iif` and was given the forwarding route
    /// `rt` (`ip_mkroute_input`: output device and next hop).
    pub(crate) fn ip_forward(&mut self, mut pkt: Vec<u8>, ctx: &IcmpCtx, rt: &Rtable) {
        if ctx.pkt_type != PacketType::Host {
            return;
        }
        let ip = ipv4::Packet::new_unchecked(&pkt[..]);
        if ip.ttl() <= 1 {
            self.net.mib.ip_statistics.inc(IpStats::InHdrErrors);
            return self.icmp_send(&pkt, ctx, msg_type::TIME_EXCEEDED, time_exceeded::TTL, 0);
        }
        let mtu = self.net.devices.get(&rt.dev).map_or(0, |d| d.mtu);
        if ip.flags_frag_off() & ipv4::IP_DF != 0 && pkt.len() > mtu as usize {
            self.net.mib.ip_statistics.inc(IpStats::FragFails);
            return self.icmp_send(&pkt, ctx, msg_type::DEST_UNREACH, unreach::FRAG_NEEDED, mtu);
        }
        let hlen = ip.header_len();
        ip_decrease_ttl(&mut pkt[..hlen]);
        // ip_forward_finish.
        self.net.mib.ip_statistics.inc(IpStats::OutForwDatagrams);
        self.net.mib.ip_statistics.add(IpStats::OutOctets, pkt.len() as u64);
        // dst_output is the forwarding route's ip_output, whose
        // IP_UPD_PO_STATS(IPSTATS_MIB_OUT) counts the datagram again: OutRequests (4.3's
        // IPSTATS_MIB_OUTPKTS) and OutOctets a second time, as 4.3 does.
        self.net.mib.ip_statistics.upd_po(PoBase::Out, pkt.len() as u64);
        let mut skb = SkBuff::from_frame(&pkt, rt.dev);
        skb.pkt_type = PacketType::Outgoing;
        self.ip_finish_output(skb, rt, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The incremental update gives the checksum a full recomputation gives.
    #[test]
    fn decrease_ttl_patches_the_checksum() {
        let mut h = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ipv4::Packet::new_unchecked(&mut h[..]).fill_checksum();
        let mut d = h;
        ip_decrease_ttl(&mut d);
        assert_eq!(d[8], 63);
        let mut full = d;
        full[10] = 0;
        full[11] = 0;
        ipv4::Packet::new_unchecked(&mut full[..]).fill_checksum();
        assert_eq!(d[10..12], full[10..12]);
        assert!(ipv4::Packet::new_unchecked(&d[..]).verify_checksum());
    }
}
