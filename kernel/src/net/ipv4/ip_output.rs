//! IPv4 output (`net/ipv4/ip_output.c`): build the header of a datagram the host sends
//! (`__ip_make_skb`: TTL, DF, Identification, options, checksum), count it
//! (`ip_output`), fragment it when it exceeds the device MTU (`ip_finish_output`), and
//! hand each frame to its neighbour (`ip_finish_output2`), which transmits at once or
//! queues while ARP resolves the next hop.
//!
//! The Identification model is 4.3's `__ip_select_ident` (`net/ipv4/route.c`), which no
//! longer uses `inet_peer`: a jhash of (destination, source, protocol mixed with the
//! namespace) keyed by a boot secret picks one of 2048 counters; each counter starts at a
//! random value (`prandom_bytes`), and a counter used again after `d` jiffies first
//! jumps ahead by a random amount below `d` (`ip_idents_reserve`). A DF datagram from
//! an unconnected socket (the ICMP socket never sets DF: `IP_PMTUDISC_DONT`) would get
//! ID 0. `net_hash_mix` (the namespace's address) and the initial counters are drawn
//! from the same seed.

use super::ip_options::{ip_options_build, IpOptions};
use super::route::Rtable;
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::jiffies::{ns_to_jiffies, Prandom};
use crate::net::core::neigh_key::NeighPacket;
use crate::net::core::neighbour::Resolve;
use crate::net::fib::RouteType;
use crate::net::inet_frag::jhash_3words;
use crate::net::ipv4::ip_do_fragment::{ip_fragment_cb, IpFragCb};
use crate::net::skbuff::SkBuff;
use crate::net::snmp::{IpStats, PoBase};
use crate::net::wire::ethernet::EtherType;
use crate::net::wire::{ip_proto, ipv4, EthernetAddress, Ipv4Addr};
use alloc::collections::BTreeMap;

/// `IP_IDENTS_SZ`: the number of Identification counters.
pub const IP_IDENTS_SZ: u32 = 2048;

impl NeighPacket<Ipv4Addr> for SkBuff {
    fn truesize(&self) -> usize {
        crate::net::inet_frag::frag_truesize(self.len())
    }
    fn source(&self) -> Option<Ipv4Addr> {
        let b: [u8; 4] = self.data().get(12..16)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    }
}

/// `ip_idents` and `ip_tstamps`, with the hash secret (`ip_idents_hashrnd`).
#[derive(Clone, Debug)]
pub struct IpIdents {
    hashrnd: u32,
    /// `ip6_idents_hashrnd`, IPv6's own secret over the same counters.
    hashrnd6: u32,
    mix: u32,
    init_secret: u32,
    /// Counters touched so far: bucket → (counter, stamp in jiffies).
    buckets: BTreeMap<u32, (u32, u32)>,
    rng: Prandom,
}

impl IpIdents {
    /// The generator, its secrets drawn from `seed`.
    pub fn new(seed: u64) -> IpIdents {
        let mut rng = Prandom::new(seed);
        let (hashrnd, mix, init_secret) = (rng.next_u32(), rng.next_u32(), rng.next_u32());
        // Drawn from a stream of its own so IPv4's draws stay what they were.
        let hashrnd6 = Prandom::new(seed ^ 0x6970_7636_6964_656e).next_u32();
        IpIdents { hashrnd, hashrnd6, mix, init_secret, buckets: BTreeMap::new(), rng }
    }

    /// `__ipv6_select_ident` (4.3, `net/ipv6/output_core.c`): the addresses hashed with
    /// `ip6_idents_hashrnd` (`__ipv6_addr_jhash` folds the first two words), then one
    /// counter of the IPv4 array reserved; 0 becomes `1 << 31`.
    pub fn select6(&mut self, daddr: &crate::net::wire::Ipv6Addr, saddr: &crate::net::wire::Ipv6Addr, now_ns: u64) -> u32 {
        let words = |a: &crate::net::wire::Ipv6Addr| {
            let o = a.octets();
            let w = |i: usize| u32::from_le_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            (w(0), w(4), w(8), w(12))
        };
        let jh = |a, init| {
            let (w0, w1, w2, w3) = words(a);
            jhash_3words(w0 ^ w1, w2, w3, init)
        };
        let hash = jh(saddr, jh(daddr, self.hashrnd6)) ^ self.mix;
        match self.reserve(hash, now_ns) {
            0 => 1 << 31,
            id => id,
        }
    }

    /// `__ip_select_ident` for one datagram (`segs` 1) at `now_ns`.
    pub fn select(&mut self, daddr: Ipv4Addr, saddr: Ipv4Addr, proto: u8, now_ns: u64) -> u16 {
        // The addresses are hashed as the raw big-endian words a little-endian CPU loads.
        let le = |a: Ipv4Addr| u32::from_le_bytes(a.octets());
        let hash = jhash_3words(le(daddr), le(saddr), u32::from(proto) ^ self.mix, self.hashrnd);
        self.reserve(hash, now_ns) as u16
    }

    /// `ip_idents_reserve(hash, 1)`: the counter of bucket `hash`, advanced by one plus
    /// a random amount growing with the jiffies since it was last used.
    fn reserve(&mut self, hash: u32, now_ns: u64) -> u32 {
        let idx = hash % IP_IDENTS_SZ;
        let init = jhash_3words(idx, 0, 0, self.init_secret);
        let (id, stamp) = self.buckets.get(&idx).copied().unwrap_or((init, 0));
        let now = ns_to_jiffies(now_ns) as u32;
        let mut delta = 0;
        if stamp != now {
            // prandom_u32_max(now - old).
            delta = ((u64::from(self.rng.next_u32()) * u64::from(now.wrapping_sub(stamp))) >> 32) as u32;
        }
        let new = id.wrapping_add(1).wrapping_add(delta);
        self.buckets.insert(idx, (new, now));
        new.wrapping_sub(1)
    }
}

/// What a locally built datagram needs besides its payload and route.
#[derive(Clone, Debug)]
pub struct Ip4Out {
    /// Source address.
    pub saddr: Ipv4Addr,
    /// Destination address (the first hop of a source route is the route's business).
    pub daddr: Ipv4Addr,
    /// Protocol of the payload.
    pub proto: u8,
    /// The TOS byte.
    pub tos: u8,
    /// Time to Live.
    pub ttl: u8,
    /// Don't Fragment.
    pub df: bool,
    /// Options to build into the header (`ipc.opt`).
    pub opts: IpOptions,
}

impl<H: Hal> Kernel<H> {
    /// Milliseconds since midnight UTC, as Timestamp options and ICMP Timestamp record it.
    pub(crate) fn ip_midtime(&self) -> u32 {
        let t = self.hal.now_ns().wrapping_add(self.hal.realtime_offset_ns());
        let (secs, nsec) = (t / 1_000_000_000, t % 1_000_000_000);
        ((secs % 86_400) * 1000 + nsec / 1_000_000) as u32
    }

    /// `__ip_make_skb` + `ip_local_out` + `ip_output`: the header (IHL with options,
    /// Identification, checksum) around `payload`, `icmp_out_count` for ICMP, the
    /// `OutRequests`/`OutOctets` counters, then out through `rt`.
    pub(crate) fn ip_send(&mut self, o: &Ip4Out, payload: &[u8], rt: &Rtable) {
        let hlen = ipv4::HEADER_LEN + o.opts.data.len();
        let total = hlen + payload.len();
        if total > usize::from(u16::MAX) {
            return;
        }
        let now = self.hal.now_ns();
        let ident = if o.df { 0 } else { self.net.ip_idents.select(o.daddr, o.saddr, o.proto, now) };
        let midtime = self.ip_midtime();
        let mut skb = SkBuff::alloc(total);
        {
            let d = skb.data_mut();
            let mut p = ipv4::Packet::new_unchecked(&mut d[..]);
            ipv4::Repr {
                src: o.saddr,
                dst: o.daddr,
                protocol: o.proto,
                payload_len: total - ipv4::HEADER_LEN,
                ttl: o.ttl,
                tos: o.tos,
                ident,
                dont_frag: o.df,
                more_frags: false,
                frag_offset: 0,
            }
            .emit(&mut p);
            p.set_version_ihl(4, (hlen / 4) as u8);
            ip_options_build(&mut d[..hlen], &o.opts, o.saddr, midtime);
            d[hlen..].copy_from_slice(payload);
            ipv4::Packet::new_unchecked(&mut d[..]).fill_checksum();
        }
        if o.proto == ip_proto::ICMP {
            if let Some(&t) = payload.first() {
                self.net.mib.icmp_out_count(t);
            }
        }
        skb.dev = rt.dev;
        self.net.mib.ip_statistics.upd_po(PoBase::Out, total as u64);
        self.ip_finish_output(skb, rt, false);
    }

    /// `dst_output` of a datagram whose header the sender built (`raw_send_hdrinc`): the
    /// `OutRequests`/`OutOctets` counters of `ip_output`, then out through `rt`.
    pub(crate) fn ip_output_built(&mut self, pkt: &[u8], rt: &Rtable) {
        let mut skb = SkBuff::alloc(pkt.len());
        skb.data_mut().copy_from_slice(pkt);
        skb.dev = rt.dev;
        self.net.mib.ip_statistics.upd_po(PoBase::Out, pkt.len() as u64);
        self.ip_finish_output(skb, rt, false);
    }

    /// The MTU towards `daddr` out of `dev`: the device's, or the lower path MTU a
    /// Fragmentation Needed taught (`fnhe_pmtu`). `None` for no such device.
    pub(crate) fn ip_path_mtu(&self, dev: u32, daddr: Ipv4Addr) -> Option<u32> {
        let m = self.net.devices.get(&dev)?.mtu;
        let learnt = self.net.pmtu4.get(&daddr, self.hal.now_ns());
        Some(learnt.map_or(m, |p| p.min(m)))
    }

    /// `__ip_rt_update_pmtu` for a Fragmentation Needed about a datagram we sent to
    /// `daddr`: an MTU below 552 (`ip_rt_min_pmtu`) is raised to it; kept when below the
    /// path's current MTU, for 10 minutes.
    pub(crate) fn ip_rt_update_pmtu(&mut self, daddr: Ipv4Addr, mtu: u32) {
        let Ok(rt) = self.ip_route_output(daddr, Ipv4Addr::UNSPECIFIED, 0, 0) else { return };
        if rt.local {
            return;
        }
        let Some(current) = self.ip_path_mtu(rt.dev, daddr) else { return };
        let now = self.hal.now_ns();
        self.net.pmtu4.learn(daddr, mtu.max(crate::net::core::pmtu::IP_RT_MIN_PMTU), current, now);
    }

    /// `ip_finish_output`: a datagram larger than the path MTU is fragmented
    /// (`FragOKs`, `FragCreates`, or `FragFails`). Locally built datagrams may be
    /// fragmented even with DF (`ignore_df`, the ICMP socket's `IP_PMTUDISC_DONT`).
    pub(crate) fn ip_finish_output(&mut self, skb: SkBuff, rt: &Rtable, forwarded: bool) {
        // ip_skb_dst_mtu: a forwarded datagram sees the device's MTU
        // (ip_dst_mtu_maybe_forward, ip_forward_use_pmtu 0), ours the path's.
        let daddr = ipv4::Packet::new_unchecked(skb.data()).dst_addr();
        let mtu = if forwarded { self.net.devices.get(&rt.dev).map(|d| d.mtu) } else { self.ip_path_mtu(rt.dev, daddr) };
        let Some(mtu) = mtu else { return };
        if skb.len() <= mtu as usize {
            return self.ip_finish_output2(skb, rt);
        }
        let cb = IpFragCb { ignore_df: true, ..IpFragCb::default() };
        match ip_fragment_cb(skb.data(), mtu, &cb) {
            Ok(frags) => {
                self.net.mib.ip_statistics.inc(IpStats::FragOks);
                for f in frags {
                    self.net.mib.ip_statistics.inc(IpStats::FragCreates);
                    let mut s = SkBuff::alloc(f.len());
                    s.data_mut().copy_from_slice(&f);
                    s.dev = rt.dev;
                    self.ip_finish_output2(s, rt);
                }
            }
            Err(_) => self.net.mib.ip_statistics.inc(IpStats::FragFails),
        }
    }

    /// `ip_finish_output2`: broadcast and multicast counted; `lo` needs no neighbour;
    /// anything else goes through the ARP entry of the next hop. A neighbour that cannot
    /// be created drops the frame.
    fn ip_finish_output2(&mut self, skb: SkBuff, rt: &Rtable) {
        let len = skb.len() as u64;
        match rt.rtype {
            RouteType::Multicast => self.net.mib.ip_statistics.upd_po(PoBase::OutMcast, len),
            RouteType::Broadcast => self.net.mib.ip_statistics.upd_po(PoBase::OutBcast, len),
            _ => {}
        }
        let Some(dev) = self.net.devices.get(&skb.dev) else { return };
        if dev.is_loopback() {
            return self.dev_queue_xmit(skb, EthernetAddress::default(), EtherType::IPV4.0);
        }
        let now = self.hal.now_ns();
        let ifindex = skb.dev;
        let init = self.arp_neigh_init(ifindex, &rt.nexthop);
        match self.net.arp.resolve(ifindex, &rt.nexthop, skb, init, now) {
            Resolve::Send(skb, mac) => self.dev_queue_xmit(skb, mac, EtherType::IPV4.0),
            Resolve::Queued { solicit, .. } => {
                if let Some(s) = solicit {
                    self.arp_solicit(s);
                }
            }
            Resolve::Dropped(_) | Resolve::NoNeigh(..) => {}
        }
    }
}
