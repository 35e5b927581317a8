//! IPv4 reassembly (`net/ipv4/ip_fragment.c`): `ip_defrag`, its queue `ip_frag_queue`,
//! `ip_frag_reasm`, the timer `ip_expire`, and the per-source distance check
//! `ip_frag_too_far` / `ip_frag_reinit`, over the shared [`InetFrags`] table.
//!
//! Unlike IPv6, 4.3 repairs overlaps RFC 791 style instead of discarding (spec §10.3):
//! a new fragment loses the bytes the fragment before it already holds, and wins over the
//! fragments after it (their heads are eaten, wholly covered ones freed). A non-last
//! fragment whose data is not a multiple of 8 is cut down to one, not refused, and
//! nothing in `ip_frag_queue` counts `ReasmFails` when it drops a fragment.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::net::inet_frag::{
    frag_truesize, ip_frag_ecn, jhash_3words, Frag, FragDrop, FragKey, FragQueue, InetFrags, NetnsFrags, ReasmStats,
    INET_FRAG_FIRST_IN, INET_FRAG_LAST_IN, INET_FRAG_MAX_FRAGMENTS,
};
use crate::net::wire::ipv4::{self, IP_DF, IP_MF, IP_OFFSET};
use crate::net::wire::Ipv4Addr;

/// `enum ip_defrag_users` (`include/net/ip.h`): who reassembles. Local delivery.
pub const IP_DEFRAG_LOCAL_DELIVER: u32 = 0;
/// Router Alert chain (`ip_call_ra_chain`).
pub const IP_DEFRAG_CALL_RA_CHAIN: u32 = 1;
/// Conntrack on input, one user per zone up to [`IP_DEFRAG_CONNTRACK_IN_END`].
pub const IP_DEFRAG_CONNTRACK_IN: u32 = 2;
/// Last conntrack-in user (`__IP_DEFRAG_CONNTRACK_IN_END`).
pub const IP_DEFRAG_CONNTRACK_IN_END: u32 = IP_DEFRAG_CONNTRACK_IN + 65535;
/// Conntrack on output, one user per zone.
pub const IP_DEFRAG_CONNTRACK_OUT: u32 = IP_DEFRAG_CONNTRACK_IN_END + 1;
/// Bridge conntrack on input, one user per zone up to [`IP_DEFRAG_CONNTRACK_BRIDGE_IN_END`].
pub const IP_DEFRAG_CONNTRACK_BRIDGE_IN: u32 = IP_DEFRAG_CONNTRACK_OUT + 65536;
/// Last bridge conntrack-in user.
pub const IP_DEFRAG_CONNTRACK_BRIDGE_IN_END: u32 = IP_DEFRAG_CONNTRACK_BRIDGE_IN + 65535;
/// IPVS input.
pub const IP_DEFRAG_VS_IN: u32 = IP_DEFRAG_CONNTRACK_BRIDGE_IN_END + 1;
/// IPVS output.
pub const IP_DEFRAG_VS_OUT: u32 = IP_DEFRAG_VS_IN + 1;
/// IPVS forwarding.
pub const IP_DEFRAG_VS_FWD: u32 = IP_DEFRAG_VS_IN + 2;
/// AF_PACKET fanout (`PACKET_FANOUT_FLAG_DEFRAG`).
pub const IP_DEFRAG_AF_PACKET: u32 = IP_DEFRAG_VS_IN + 3;
/// macvlan broadcast.
pub const IP_DEFRAG_MACVLAN: u32 = IP_DEFRAG_VS_IN + 4;

/// `sizeof(struct ipq)` on x86_64 4.3 (144-byte `inet_frag_queue` plus the IPv4 fields
/// with `vif`, `rid` and the peer pointer): charged per queue.
pub const IPQ_QSIZE: usize = 184;
/// `net.ipv4.ipfrag_max_dist` default.
pub const IPFRAG_MAX_DIST: u32 = 64;

/// A reassembly queue's identity (`ip4_frag_match`); `vif` is the VRF master's index
/// (0 without VRF), new in 4.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ip4FragKey {
    /// Identification.
    pub id: u16,
    /// Source address.
    pub saddr: Ipv4Addr,
    /// Destination address.
    pub daddr: Ipv4Addr,
    /// Protocol.
    pub protocol: u8,
    /// Who reassembles (`IP_DEFRAG_*`).
    pub user: u32,
    /// VRF master interface index.
    pub vif: i32,
}

impl FragKey for Ip4FragKey {
    /// `ipqhashfn`, big-endian fields hashed as raw bytes on a little-endian CPU.
    fn hash(&self, rnd: u32) -> u32 {
        jhash_3words(
            u32::from(self.id.swap_bytes()) << 16 | u32::from(self.protocol),
            u32::from_le_bytes(self.saddr.octets()),
            u32::from_le_bytes(self.daddr.octets()),
            rnd,
        )
    }
}

/// The IPv4-only part of `struct ipq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ipq {
    /// Largest fragment with DF seen, header included.
    pub max_df_size: usize,
    /// The peer's fragment counter when this queue last saw a fragment.
    pub rid: u32,
    /// The `inet_peer` (source, vif) this queue holds, taken at creation when
    /// `ipfrag_max_dist` was not 0.
    pub peer: Option<(Ipv4Addr, i32)>,
}

/// The part of an `inet_peer` reassembly uses: fragments seen from the source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct InetPeer {
    rid: u32,
    refcnt: usize,
}

/// A reassembled datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpReassembled {
    /// Header of the offset-0 fragment (options included) with Total Length set, the
    /// fragment fields cleared (DF kept when `frag_pmtu`), CE OR-ed in when the ECN table
    /// says so, checksum recomputed; then the data.
    pub packet: Vec<u8>,
    /// `IPCB(skb)->frag_max_size`: the largest fragment received.
    pub frag_max_size: usize,
    /// `IPSKB_FRAG_PMTU`: the largest fragment had DF; a forwarder must refragment.
    pub frag_pmtu: bool,
}

/// What `ip_defrag` did with a fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpDefragVerdict {
    /// The datagram is whole.
    Reassembled(IpReassembled),
    /// Kept in a queue (`-EINPROGRESS`).
    Queued,
    /// Dropped, no ICMP.
    Dropped(FragDrop),
}

/// The outcome of one [`IpFrags::ip_defrag`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpDefrag {
    /// What happened to the fragment.
    pub verdict: IpDefragVerdict,
    /// Counters to add (evictions this call triggered included).
    pub mib: ReasmStats,
}

/// A queue whose timer fired (`ip_expire`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpFragTimeout {
    /// The queue.
    pub key: Ip4FragKey,
    /// Interface of the last fragment queued (0: none since creation or reinit).
    pub iif: i32,
    /// When the offset-0 fragment is queued and `iif` names a device: that fragment, to
    /// quote in Time Exceeded code 1 (`ICMP_EXC_FRAGTIME`) once the caller's input route
    /// lookup for it succeeds.
    pub invoking: Option<Vec<u8>>,
    /// `frag_expire_skip_icmp`: conntrack and AF_PACKET queues send it only when that
    /// route is local (RFC 792: only the end host does).
    pub only_if_local: bool,
}

/// `frag_expire_skip_icmp`.
pub const fn frag_expire_skip_icmp(user: u32) -> bool {
    user == IP_DEFRAG_AF_PACKET
        || (user >= IP_DEFRAG_CONNTRACK_IN && user <= IP_DEFRAG_CONNTRACK_IN_END)
        || (user >= IP_DEFRAG_CONNTRACK_BRIDGE_IN && user <= IP_DEFRAG_CONNTRACK_BRIDGE_IN_END)
}

/// The IPv4 reassembly state of one namespace (`net->ipv4.frags`, its queues and the
/// peers they hold).
#[derive(Clone, Debug)]
pub struct IpFrags {
    frags: InetFrags<Ip4FragKey, Ipq>,
    peers: BTreeMap<(Ipv4Addr, i32), InetPeer>,
    /// `net.ipv4.ipfrag_max_dist` (0 disables the check).
    pub max_dist: u32,
}

impl IpFrags {
    /// Empty, with 4.3's defaults; `rnd` is the hash secret (`ip4_frags.rnd`).
    pub fn new(rnd: u32) -> IpFrags {
        IpFrags {
            frags: InetFrags::new(NetnsFrags::ipv4(), IPQ_QSIZE, rnd),
            peers: BTreeMap::new(),
            max_dist: IPFRAG_MAX_DIST,
        }
    }

    /// The namespace's memory and its `ipfrag_*` sysctls.
    pub fn netns_frags(&mut self) -> &mut NetnsFrags {
        &mut self.frags.nf
    }

    /// Live queues.
    pub fn queue_count(&self) -> usize {
        self.frags.queue_count()
    }

    /// Peers held by live queues (the model keeps no peer without a queue).
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// When [`expire`](Self::expire) next has work.
    pub fn next_expiry(&self) -> Option<u64> {
        self.frags.next_expiry()
    }

    /// Bytes charged now (`ip_frag_mem`, `/proc/net/sockstat` "FRAG: memory").
    pub fn mem_sum(&self) -> i64 {
        self.frags.nf.mem.sum()
    }

    /// Bytes the thresholds see now (`frag_mem_limit`).
    pub fn mem_read(&self) -> i64 {
        self.frags.nf.mem.read()
    }

    /// `ip_defrag`: `pkt` is a fragment from its IPv4 header, already accepted by
    /// `ip_rcv` (a buffer that is not a valid header with Total Length present is
    /// dropped uncounted); `user` is an `IP_DEFRAG_*` value, `vif` the VRF master's index,
    /// `iif` the arrival interface's.
    pub fn ip_defrag(&mut self, pkt: &[u8], user: u32, vif: i32, iif: i32, now_ns: u64) -> IpDefrag {
        let mut mib = ReasmStats::default();
        let verdict = self.defrag(pkt, user, vif, iif, now_ns, &mut mib);
        for (_, q) in self.frags.run_worker(now_ns) {
            mib.reasm_fails += 1;
            self.put_peer(&q.proto);
        }
        IpDefrag { verdict, mib }
    }

    fn put_peer(&mut self, q: &Ipq) {
        if let Some(pk) = q.peer {
            if let Some(p) = self.peers.get_mut(&pk) {
                p.refcnt -= 1;
                if p.refcnt == 0 {
                    self.peers.remove(&pk);
                }
            }
        }
    }

    /// `inet_frag_destroy` plus the `ip4_frag_free` destructor.
    fn destroy(&mut self, q: &mut FragQueue<Ipq>) {
        self.frags.destroy(q);
        self.put_peer(&q.proto);
    }

    fn defrag(
        &mut self,
        pkt: &[u8],
        user: u32,
        vif: i32,
        iif: i32,
        now_ns: u64,
        mib: &mut ReasmStats,
    ) -> IpDefragVerdict {
        let Ok(ip) = ipv4::Packet::new_checked(pkt) else {
            return IpDefragVerdict::Dropped(FragDrop::Malformed);
        };
        let pkt = &pkt[..usize::from(ip.total_len())];
        mib.reasm_reqds += 1;
        let (saddr, max_dist, peers) = (ip.src_addr(), self.max_dist, &mut self.peers);
        let key = Ip4FragKey { id: ip.ident(), saddr, daddr: ip.dst_addr(), protocol: ip.protocol(), user, vif };
        let init = || {
            let peer = (max_dist != 0).then(|| {
                peers.entry((saddr, vif)).or_default().refcnt += 1;
                (saddr, vif)
            });
            Ipq { max_df_size: 0, rid: 0, peer }
        };
        if let Err(e) = self.frags.find(&key, now_ns, 1 << (ip.tos() & 3), init) {
            mib.reasm_fails += 1;
            return IpDefragVerdict::Dropped(FragDrop::NoQueue(e));
        }
        self.too_far(&key, now_ns, mib);
        self.frag_queue(&key, pkt, iif, now_ns, mib)
    }

    /// `ip_frag_too_far`, and `ip_frag_reinit` when it says so: more than
    /// `ipfrag_max_dist` fragments from the same source went to other queues since this
    /// one's last, so its fragments are stale. Only the datagram's data is reset; the
    /// timer is re-armed from now, and `max_size`/`max_df_size` stay.
    fn too_far(&mut self, key: &Ip4FragKey, now_ns: u64, mib: &mut ReasmStats) {
        let max = self.max_dist;
        let Some(q) = self.frags.get_mut(key) else { return };
        let Some(peer) = q.proto.peer.and_then(|pk| self.peers.get_mut(&pk)).filter(|_| max != 0) else {
            return;
        };
        let start = q.proto.rid;
        peer.rid = peer.rid.wrapping_add(1);
        q.proto.rid = peer.rid;
        if q.fragments.is_empty() || peer.rid.wrapping_sub(start) <= max {
            return;
        }
        mib.reasm_fails += 1;
        let sum: usize = q.fragments.drain(..).map(|f| f.truesize).sum();
        (q.flags, q.len, q.meat, q.iif, q.ecn) = (0, 0, 0, 0, 0);
        self.frags.rearm(key, now_ns);
        self.frags.mem_add(-(sum as i64));
    }

    /// `ip_frag_queue`.
    fn frag_queue(
        &mut self,
        key: &Ip4FragKey,
        pkt: &[u8],
        iif: i32,
        now_ns: u64,
        mib: &mut ReasmStats,
    ) -> IpDefragVerdict {
        let ip = ipv4::Packet::new_unchecked(pkt);
        let ihl = ip.header_len();
        let word = ip.flags_frag_off();
        let mut offset = usize::from(word & IP_OFFSET) << 3;
        let mut end = offset + (pkt.len() - ihl);
        let drop = |why| IpDefragVerdict::Dropped(why);
        let Some(q) = self.frags.get_mut(key) else {
            return drop(FragDrop::Malformed);
        };
        if word & IP_MF == 0 {
            if end < q.len || (q.flags & INET_FRAG_LAST_IN != 0 && end != q.len) {
                return drop(FragDrop::Corrupt);
            }
            q.flags |= INET_FRAG_LAST_IN;
            q.len = end;
        } else {
            end &= !7;
            if end > q.len {
                if q.flags & INET_FRAG_LAST_IN != 0 {
                    return drop(FragDrop::Corrupt);
                }
                q.len = end;
            }
        }
        if end == offset {
            return drop(FragDrop::Empty);
        }
        let mut start = ihl;
        let data_end = ihl + (end - offset);
        let idx = q.slot(offset);
        // The fragment before keeps its bytes: pull ours past its end.
        if let Some(prev) = idx.checked_sub(1).and_then(|i| q.fragments.get(i)) {
            let prev_end = prev.offset + prev.len();
            if prev_end > offset {
                let i = prev_end - offset;
                offset += i;
                if end <= offset {
                    return drop(FragDrop::Overlap);
                }
                start += i;
            }
        }
        if q.fragments.len() >= INET_FRAG_MAX_FRAGMENTS {
            return drop(FragDrop::TooMany);
        }
        // Ours wins over the fragments after it: eat their heads, free the covered ones.
        let mut freed = Vec::new();
        while let Some(next) = q.fragments.get_mut(idx).filter(|n| n.offset < end) {
            let i = end - next.offset;
            if i < next.len() {
                next.start += i;
                next.offset += i;
                q.meat -= i;
                break;
            }
            let gone = q.fragments.remove(idx);
            q.meat -= gone.len();
            freed.push(gone.truesize);
        }
        let truesize = frag_truesize(pkt.len());
        q.fragments.insert(idx, Frag { offset, pkt: pkt.to_vec(), hdr_len: ihl, start, end: data_end, truesize });
        q.iif = iif;
        q.stamp_ns = now_ns;
        q.meat += data_end - start;
        q.ecn |= 1 << (ip.tos() & 3);
        if offset == 0 {
            q.flags |= INET_FRAG_FIRST_IN;
        }
        let fragsize = data_end - start + ihl;
        q.max_size = q.max_size.max(fragsize);
        if word & IP_DF != 0 && fragsize > q.proto.max_df_size {
            q.proto.max_df_size = fragsize;
        }
        let complete = q.is_complete();
        for t in freed {
            self.frags.mem_add(-(t as i64));
        }
        self.frags.mem_add(truesize as i64);
        if complete {
            return self.reasm(key, mib);
        }
        IpDefragVerdict::Queued
    }

    /// `ip_frag_reasm`.
    fn reasm(&mut self, key: &Ip4FragKey, mib: &mut ReasmStats) -> IpDefragVerdict {
        let Some(mut q) = self.frags.unlink(key) else {
            return IpDefragVerdict::Dropped(FragDrop::Malformed);
        };
        let verdict = match Self::build(&q) {
            Ok(r) => {
                let sum: usize = q.fragments.drain(..).map(|f| f.truesize).sum();
                self.frags.mem_add(-(sum as i64));
                mib.reasm_oks += 1;
                IpDefragVerdict::Reassembled(r)
            }
            Err(why) => {
                mib.reasm_fails += 1;
                IpDefragVerdict::Dropped(why)
            }
        };
        self.destroy(&mut q);
        verdict
    }

    fn build(q: &FragQueue<Ipq>) -> Result<IpReassembled, FragDrop> {
        let ecn = ip_frag_ecn(q.ecn);
        if ecn == 0xff {
            return Err(FragDrop::Ecn);
        }
        let head = q.fragments.first().ok_or(FragDrop::Malformed)?;
        let len = head.hdr_len + q.len;
        if len > usize::from(u16::MAX) {
            return Err(FragDrop::Oversize);
        }
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(head.pkt.get(..head.hdr_len).ok_or(FragDrop::Malformed)?);
        for f in &q.fragments {
            out.extend_from_slice(f.data());
        }
        let frag_pmtu = q.proto.max_df_size == q.max_size;
        let mut ip = ipv4::Packet::new_unchecked(&mut out[..]);
        ip.set_total_len(len as u16);
        let tos = ip.tos();
        ip.set_tos(tos | ecn);
        ip.set_flags_frag_off(if frag_pmtu { IP_DF } else { 0 });
        ip.fill_checksum();
        Ok(IpReassembled { packet: out, frag_max_size: q.proto.max_df_size.max(q.max_size), frag_pmtu })
    }

    /// `ip_expire` for every timer due at `now_ns`: each counts `ReasmFails` and
    /// `ReasmTimeout`; a queue holding its offset-0 fragment quotes it.
    pub fn expire(&mut self, now_ns: u64) -> (Vec<IpFragTimeout>, ReasmStats) {
        let mut mib = ReasmStats::default();
        let mut out = Vec::new();
        for (key, mut q) in self.frags.expire(now_ns) {
            mib.reasm_fails += 1;
            mib.reasm_timeout += 1;
            let invoking = match q.flags & INET_FRAG_FIRST_IN != 0 && q.iif != 0 {
                true => q.fragments.first().map(Frag::quote),
                false => None,
            };
            self.destroy(&mut q);
            out.push(IpFragTimeout { key, iif: q.iif, invoking, only_if_local: frag_expire_skip_icmp(key.user) });
        }
        (out, mib)
    }
}

#[cfg(test)]
#[path = "ip_fragment_tests.rs"]
mod tests;
