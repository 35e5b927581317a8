//! IPv6 output (`net/ipv6/ip6_output.c`, `route.c`'s output lookup): route a locally
//! built packet, count it, and hand it to its neighbour (`ip6_finish_output2`), which
//! transmits at once, or queues it while Neighbour Discovery resolves the next hop.

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::neigh_key::{NeighInit, NeighPacket};
use crate::net::core::neighbour::Resolve;
use crate::net::fib::Flow;
use crate::net::skbuff::SkBuff;
use crate::net::snmp::{IpStats, PoBase};
use crate::net::wire::ethernet::EtherType;
use crate::net::wire::{checksum, ipv6, EthernetAddress, Ipv6Addr};
use crate::uapi::Errno;

/// `skb->truesize` of a packet in k43's accounting (the same model as reassembly's).
fn truesize(len: usize) -> usize {
    crate::net::inet_frag::frag_truesize(len)
}

impl NeighPacket<Ipv6Addr> for SkBuff {
    fn truesize(&self) -> usize {
        truesize(self.len())
    }
    fn source(&self) -> Option<Ipv6Addr> {
        let d = self.data();
        let b: [u8; 16] = d.get(8..24)?.try_into().ok()?;
        Some(Ipv6Addr::from(b))
    }
}

/// What a locally generated packet needs besides its payload.
#[derive(Clone, Copy, Debug)]
pub struct Ip6Out {
    /// Source address.
    pub saddr: Ipv6Addr,
    /// Destination address.
    pub daddr: Ipv6Addr,
    /// Next header of the payload.
    pub proto: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub tclass: u8,
    /// Flow label (20 bits).
    pub flowlabel: u32,
}

impl Ip6Out {
    /// The header of a packet with `payload_len` bytes after it.
    fn repr(&self, payload_len: usize) -> ipv6::Repr {
        ipv6::Repr {
            src_addr: self.saddr,
            dst_addr: self.daddr,
            next_header: self.proto,
            payload_len,
            hop_limit: self.hop_limit,
            traffic_class: self.tclass,
            flow_label: self.flowlabel,
        }
    }
}

impl<H: Hal> Kernel<H> {
    /// `ip6_route_output` reduced to what k43 uses: the output device and next hop for
    /// `daddr` (the gateway, or `daddr` itself on a connected route). `oif` pins the
    /// device (a socket bound to it, a reply leaving by the receiving interface); for a
    /// link-local or multicast destination the lookup is strict about it
    /// (`RT6_LOOKUP_F_IFACE`). A destination that is one of our addresses leaves by `lo`.
    pub(crate) fn ip6_route_output(&self, daddr: &Ipv6Addr, oif: u32) -> Result<(u32, Ipv6Addr), Errno> {
        self.ip6_route_output_from(daddr, &Ipv6Addr::UNSPECIFIED, oif)
    }

    /// [`ip6_route_output`](Self::ip6_route_output) for a flow whose source is already
    /// known (`fl6.saddr`: a bound socket's address, an echo reply's): policy rules with
    /// `from` see it, as `fib6_rule_lookup` does.
    pub(crate) fn ip6_route_output_from(&self, daddr: &Ipv6Addr, saddr: &Ipv6Addr, oif: u32) -> Result<(u32, Ipv6Addr), Errno> {
        let mut fl = Flow::output(*daddr).oif(oif);
        if !saddr.is_unspecified() {
            fl = fl.src(*saddr);
        }
        if oif != 0 && (daddr.is_multicast() || super::addrconf::scope_of(daddr) <= 2) {
            fl = fl.strict();
        }
        let res = self.net.fib6.lookup(&fl).map_err(|e| e.errno)?;
        let r = res.route;
        Ok((r.oif, r.gateway.unwrap_or(*daddr)))
    }

    /// The automatic flow label of 4.3 (`ip6_make_flowlabel` with `auto_flowlabels` 1 and
    /// `flowlabel_state_ranges` 1): the low 20 bits of a flow hash, bit 19 set. (4.3 means
    /// to rotate the hash first but drops `rol32`'s result.) The hash is jhash over the
    /// addresses and protocol with the namespace's secret, standing in for the flow
    /// dissector's hash, whose secret is random per boot anyway.
    pub(crate) fn ip6_flowlabel(&self, saddr: &Ipv6Addr, daddr: &Ipv6Addr, proto: u8) -> u32 {
        let fold = |a: &Ipv6Addr| a.octets().chunks(4).fold(0u32, |h, w| h ^ u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
        let h = crate::net::inet_frag::jhash_3words(fold(saddr), fold(daddr), u32::from(proto), self.net.flow_secret);
        // `(__force __be32)hash & IPV6_FLOWLABEL_MASK`: the host-order hash's bytes read
        // in network order, so the label comes from its first three bytes in memory.
        let wire = u32::from_be_bytes(h.to_le_bytes());
        (wire & 0x000f_ffff) | 0x0008_0000
    }

    /// Builds an IPv6 packet around `payload` and sends it out of `oif` towards
    /// `nexthop` (`ip6_local_out` → `ip6_finish_output2`); counts `OutRequests` and
    /// the octets.
    pub(crate) fn ip6_send(&mut self, o: Ip6Out, payload: &[u8], oif: u32, nexthop: Ipv6Addr) {
        let mut skb = SkBuff::alloc(ipv6::HEADER_LEN + payload.len());
        {
            let mut p = ipv6::Packet::new_unchecked(skb.data_mut());
            o.repr(payload.len()).emit(&mut p);
            p.payload_mut().copy_from_slice(payload);
        }
        self.ip6_local_out(o, skb, oif, nexthop);
    }

    /// `ip6_local_out`: the packet leaves by `oif`, counted.
    fn ip6_local_out(&mut self, o: Ip6Out, mut skb: SkBuff, oif: u32, nexthop: Ipv6Addr) {
        skb.dev = oif;
        let len = skb.len() as u64;
        let multicast = o.daddr.is_multicast();
        // IPSTATS_MIB_OUT (OutRequests, OutOctets); multicast also OUTMCAST.
        let net = &mut self.net;
        net.mib.ip6_upd_po(net.dev_snmp6.get_mut(&oif), PoBase::Out, len);
        if multicast {
            net.mib.ip6_upd_po(net.dev_snmp6.get_mut(&oif), PoBase::OutMcast, len);
        }
        self.ip6_finish_output(skb, nexthop, o.daddr, o.saddr);
    }

    /// The MTU towards `daddr` out of `oif`: the device's, or the lower path MTU a Packet
    /// Too Big taught (`dst_mtu` of the `RTF_CACHE` clone). `None` for no such device.
    pub(crate) fn ip6_path_mtu(&self, oif: u32, daddr: &Ipv6Addr) -> Option<u32> {
        let dev = self.net.devices.get(&oif)?.mtu;
        let learnt = self.net.pmtu6.get(daddr, self.hal.now_ns());
        Some(learnt.map_or(dev, |m| m.min(dev)))
    }

    /// `__ip6_rt_update_pmtu` for a Packet Too Big about a packet we sent to `daddr`:
    /// the MTU is raised to 1280 (4.3 clamps; it no longer asks for atomic fragments),
    /// and kept when it is below the path's current one. Local destinations are exempt.
    pub(crate) fn ip6_update_pmtu(&mut self, daddr: &Ipv6Addr, mtu: u32) {
        let Ok((oif, _)) = self.ip6_route_output(daddr, 0) else { return };
        if self.net.devices.get(&oif).is_none_or(|d| d.is_loopback()) {
            return;
        }
        let Some(current) = self.ip6_path_mtu(oif, daddr) else { return };
        let now = self.hal.now_ns();
        self.net.pmtu6.learn(*daddr, mtu.max(crate::net::core::pmtu::IPV6_MIN_MTU), current, now);
    }

    /// `ip6_finish_output`: a packet over the path MTU is fragmented (a local socket's
    /// default `IPV6_PMTUDISC_WANT` lets it), with an Identification from
    /// `ipv6_select_ident`; `FragOKs` once, `FragCreates` per fragment, `FragFails` when
    /// it cannot be split.
    fn ip6_finish_output(&mut self, skb: SkBuff, nexthop: Ipv6Addr, daddr: Ipv6Addr, saddr: Ipv6Addr) {
        let oif = skb.dev;
        let Some(mtu) = self.ip6_path_mtu(oif, &daddr) else { return };
        if skb.len() <= mtu as usize {
            return self.ip6_finish_output2(skb, nexthop);
        }
        let now = self.hal.now_ns();
        let ident = self.net.ip_idents.select6(&daddr, &saddr, now);
        match super::ip6_fragment::ip6_fragment(skb.data(), mtu, ident) {
            Ok(frags) => {
                for f in frags {
                    let net = &mut self.net;
                    net.mib.ip6_inc(net.dev_snmp6.get_mut(&oif), IpStats::FragCreates);
                    let mut s = SkBuff::alloc(f.len());
                    s.data_mut().copy_from_slice(&f);
                    s.dev = oif;
                    self.ip6_finish_output2(s, nexthop);
                }
                let net = &mut self.net;
                net.mib.ip6_inc(net.dev_snmp6.get_mut(&oif), IpStats::FragOks);
            }
            Err(_) => {
                let net = &mut self.net;
                net.mib.ip6_inc(net.dev_snmp6.get_mut(&oif), IpStats::FragFails);
            }
        }
    }

    /// `dst_output` of a packet whose IPv6 header the sender built (`rawv6_send_hdrinc`):
    /// `OutRequests`/`OutOctets` on the route's device (and `OutMcast` for a multicast
    /// destination in the header, as `ip6_finish_output2` counts it), then out towards
    /// `nexthop`. The bytes go as given: no payload length is filled in.
    pub(crate) fn ip6_output_built(&mut self, pkt: &[u8], oif: u32, nexthop: Ipv6Addr) {
        let mut skb = SkBuff::alloc(pkt.len());
        skb.data_mut().copy_from_slice(pkt);
        skb.dev = oif;
        let len = pkt.len() as u64;
        let net = &mut self.net;
        net.mib.ip6_upd_po(net.dev_snmp6.get_mut(&oif), PoBase::Out, len);
        if pkt.get(24) == Some(&0xff) {
            net.mib.ip6_upd_po(net.dev_snmp6.get_mut(&oif), PoBase::OutMcast, len);
        }
        self.ip6_finish_output2(skb, nexthop);
    }

    /// `ip6_finish_output2`: `lo` needs no neighbour; multicast maps to its group MAC;
    /// unicast goes through the neighbour entry of `nexthop`.
    pub(crate) fn ip6_finish_output2(&mut self, skb: SkBuff, nexthop: Ipv6Addr) {
        let Some(dev) = self.net.devices.get(&skb.dev) else { return };
        if dev.is_loopback() {
            self.dev_queue_xmit(skb, EthernetAddress::default(), EtherType::IPV6.0);
            return;
        }
        let now = self.hal.now_ns();
        let ifindex = skb.dev;
        match self.net.nd.resolve(ifindex, &nexthop, skb, NeighInit::for_key(&nexthop), now) {
            Resolve::Send(skb, mac) => self.dev_queue_xmit(skb, mac, EtherType::IPV6.0),
            Resolve::Queued { solicit, .. } => {
                if let Some(s) = solicit {
                    self.ndisc_solicit(s);
                }
            }
            Resolve::Dropped(_) | Resolve::NoNeigh(..) => {}
        }
    }
}

/// The upper-layer checksum of `msg` (ICMPv6, UDP) between `src` and `dst`.
pub fn upper_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, proto: u8, msg: &[u8]) -> u16 {
    checksum::fold(checksum::combine(&[checksum::pseudo_header_v6(src, dst, proto, msg.len() as u32), checksum::sum(msg)]))
}
