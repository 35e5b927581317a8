//! IPv6 forwarding (`ip6_forward`, spec net-ipv6.md §3.5): a router's checks in 4.3's
//! order, its ICMPv6 errors (Time Exceeded, Destination Unreachable beyond scope, Packet
//! Too Big — routers never fragment) and the hop-limit decrement.
//!
//! Not modelled yet: Redirects (§3.5.1; the packet is forwarded back out of the
//! interface it came in on, without the Redirect Linux would add), router-alert sockets,
//! proxy NDP, IPsec.

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::skbuff::{PacketType, SkBuff};
use crate::net::snmp::IpStats;
use crate::net::wire::icmpv6::{dst_unreach, msg_type, time_exceeded};
use crate::net::wire::{ipv6, Ipv6Addr};

/// `IPV6_MIN_MTU`.
const IPV6_MIN_MTU: u32 = 1280;
/// The sysctl that turns a host into a router.
pub const FORWARDING_SYSCTL: &str = "net/ipv6/conf/all/forwarding";

impl<H: Hal> Kernel<H> {
    /// `net.ipv6.conf.all.forwarding` is set.
    pub(crate) fn ipv6_forwarding(&self) -> bool {
        self.vfs.sysctl.int(FORWARDING_SYSCTL).is_some_and(|v| v != 0)
    }

    /// `ip6_forward` of `pkt` (received on `iif`) by the route `(oif, nexthop)`.
    pub(crate) fn ip6_forward(&mut self, mut pkt: alloc::vec::Vec<u8>, iif: u32, pkt_type: PacketType, oif: u32, nexthop: Ipv6Addr, srcrt: bool) {
        let count = |k: &mut Self, f: IpStats| {
            let net = &mut k.net;
            net.mib.ip6_inc(net.dev_snmp6.get_mut(&oif), f);
        };
        if !self.ipv6_forwarding() {
            return count(self, IpStats::InAddrErrors);
        }
        if pkt_type != PacketType::Host {
            return;
        }
        let ip = ipv6::Packet::new_unchecked(&pkt[..]);
        let (saddr, hop) = (ip.src_addr(), ip.hop_limit());
        if hop <= 1 {
            self.icmp6_send(&pkt, oif, pkt_type, msg_type::TIME_EXCEEDED, time_exceeded::HOP_LIMIT, 0);
            return count(self, IpStats::InHdrErrors);
        }
        if oif == iif && !srcrt {
            // ndisc_send_redirect would go here (not modelled); the packet is forwarded.
        } else {
            if saddr.is_unspecified() || saddr.is_multicast() || saddr.is_loopback() {
                return count(self, IpStats::InAddrErrors);
            }
            if super::addrconf::scope_of(&saddr) == 2 {
                self.icmp6_send(&pkt, iif, pkt_type, msg_type::DST_UNREACH, dst_unreach::BEYOND_SCOPE, 0);
                return count(self, IpStats::InAddrErrors);
            }
        }
        let mtu = self.net.devices.get(&oif).map_or(IPV6_MIN_MTU, |d| d.mtu).max(IPV6_MIN_MTU);
        if pkt.len() > mtu as usize {
            self.icmp6_send(&pkt, oif, pkt_type, msg_type::PKT_TOO_BIG, 0, mtu);
            count(self, IpStats::InTooBigErrors);
            return count(self, IpStats::FragFails);
        }
        pkt[7] = hop - 1;
        count(self, IpStats::OutForwDatagrams);
        let net = &mut self.net;
        net.mib.ip6_add(net.dev_snmp6.get_mut(&oif), IpStats::OutOctets, pkt.len() as u64);
        let mut skb = SkBuff::from_frame(&pkt, oif);
        skb.pkt_type = PacketType::Outgoing;
        self.ip6_finish_output2(skb, nexthop);
    }
}
