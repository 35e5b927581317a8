//! IPv6 reassembly (`net/ipv6/reassembly.c`): the Fragment header handler
//! `ipv6_frag_rcv`, its queue `ip6_frag_queue`, `ip6_frag_reasm` and the timer
//! `ip6_expire_frag_queue`, over the shared [`InetFrags`] table.
//!
//! The 4.3 rules (spec net-ipv6 §3.6, §6), as the 4.3 source has them:
//! * an atomic fragment (offset 0, M clear) is stepped over, counted `ReasmOKs`, and never
//!   touches a queue (RFC 6946);
//! * any overlap with a queued fragment, an exact duplicate included, destroys the whole
//!   queue silently (RFC 5722 with erratum 3089) and counts one `ReasmFails`;
//! * the queue is found or created *before* a fragment is checked, so a fragment that is
//!   then refused with Parameter Problem still leaves a queue (and its ECN bits) behind;
//! * the timer is armed once, at creation, for `ip6frag_time`.

use alloc::vec::Vec;

use crate::net::inet_frag::{
    frag_truesize, ip_frag_ecn, FindError, Frag, FragDrop, FragKey, FragQueue, InetFrags, NetnsFrags, ReasmStats,
    INET_FRAG_FIRST_IN, INET_FRAG_LAST_IN, INET_FRAG_MAX_FRAGMENTS,
};
use crate::net::wire::ipv6::{self, HEADER_LEN, MAX_PAYLOAD_LEN};
use crate::net::wire::ipv6_ext::{FragmentHeader, FRAGMENT_HEADER_LEN};
use crate::net::wire::Ipv6Addr;

/// `IP6_DEFRAG_LOCAL_DELIVER`: the `user` of every queue `ipv6_frag_rcv` makes.
pub const IP6_DEFRAG_LOCAL_DELIVER: u32 = 0;
/// `sizeof(struct frag_queue)` on x86_64 4.3 (the 200 bytes `inet_frag.h` quotes):
/// charged per queue.
pub const IP6_FRAG_QSIZE: usize = 200;

/// A reassembly queue's identity (`ip6_frag_match`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ip6FragKey {
    /// Identification of the Fragment header.
    pub id: u32,
    /// Who reassembles (`IP6_DEFRAG_*`).
    pub user: u32,
    /// Source address.
    pub saddr: Ipv6Addr,
    /// Destination address.
    pub daddr: Ipv6Addr,
}

/// `ipv6_addr_hash` as a little-endian 64-bit kernel computes it.
fn ipv6_addr_hash(a: &Ipv6Addr) -> u32 {
    a.octets().chunks_exact(4).fold(0, |h, w| h ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

impl FragKey for Ip6FragKey {
    /// `inet6_hash_frag`; the big-endian identification is hashed as its raw bytes.
    fn hash(&self, rnd: u32) -> u32 {
        crate::net::inet_frag::jhash_3words(
            ipv6_addr_hash(&self.saddr),
            ipv6_addr_hash(&self.daddr),
            self.id.swap_bytes(),
            rnd,
        )
    }
}

/// The IPv6-only part of `struct frag_queue`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ip6FragQueue {
    /// Offset of the byte that names the Fragment header in the first fragment.
    pub nhoffset: usize,
}

/// What `ipv6_frag_rcv` did with a packet. After `Atomic` and `Reassembled` the packet
/// counts as fragmented (`IP6SKB_FRAGMENTED`): a further Fragment header in it is a
/// header error, so pass `fragmented` when walking on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ip6FragVerdict {
    /// Not fragmented (atomic fragment): continue with the same packet at `thoff`, the
    /// next header being named by the byte at `nhoff` (the Fragment header's first byte).
    Atomic {
        /// Where the header after the Fragment header starts.
        thoff: usize,
        /// Offset of the byte naming it.
        nhoff: usize,
    },
    /// The datagram is whole: continue with `packet` at `thoff`, next header at `nhoff`.
    Reassembled {
        /// The reassembled packet, Fragment header removed.
        packet: Vec<u8>,
        /// Start of the once-fragmentable part.
        thoff: usize,
        /// Offset of the byte that named the Fragment header, now its next header.
        nhoff: usize,
    },
    /// Kept in a queue.
    Queued,
    /// Dropped silently.
    Dropped(FragDrop),
    /// Dropped; send Parameter Problem code 0 (`ICMPV6_HDR_FIELD`) with this pointer,
    /// quoting the packet.
    ParamProblem {
        /// Offset of the offending field from the start of the IPv6 header.
        pointer: u32,
    },
}

/// The outcome of one [`Ip6Frags::ipv6_frag_rcv`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip6FragRcv {
    /// What happened to the packet.
    pub verdict: Ip6FragVerdict,
    /// Counters to add (evictions this call triggered included).
    pub mib: ReasmStats,
}

/// A queue whose timer fired (`ip6_expire_frag_queue`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ip6FragTimeout {
    /// The queue.
    pub key: Ip6FragKey,
    /// Interface of the last fragment queued (0: none was, and nothing is counted).
    pub iif: i32,
    /// When the offset-0 fragment had arrived: that fragment, to quote in a Time Exceeded
    /// code 1 (`ICMPV6_EXC_FRAGTIME`) sent out through `iif`.
    pub invoking: Option<Vec<u8>>,
}

/// The IPv6 reassembly state of one namespace (`net->ipv6.frags` and its queues).
#[derive(Clone, Debug)]
pub struct Ip6Frags {
    frags: InetFrags<Ip6FragKey, Ip6FragQueue>,
}

impl Ip6Frags {
    /// Empty, with 4.3's defaults; `rnd` is the hash secret (`ip6_frags.rnd`).
    pub fn new(rnd: u32) -> Ip6Frags {
        Ip6Frags { frags: InetFrags::new(NetnsFrags::ipv6(), IP6_FRAG_QSIZE, rnd) }
    }

    /// Memory charged by the queues now (every CPU's counter summed) and
    /// `ip6frag_high_thresh`.
    pub fn mem(&self) -> (i64, i64) {
        (self.frags.nf.mem.sum(), self.frags.nf.high_thresh)
    }

    /// The namespace's memory and its `ip6frag_*` sysctls.
    pub fn netns_frags(&mut self) -> &mut NetnsFrags {
        &mut self.frags.nf
    }

    /// Live queues.
    pub fn queue_count(&self) -> usize {
        self.frags.queue_count()
    }

    /// When [`expire`](Self::expire) next has work.
    pub fn next_expiry(&self) -> Option<u64> {
        self.frags.next_expiry()
    }

    /// `ipv6_frag_rcv`: `pkt` is the IPv6 packet from its fixed header, `thoff` the
    /// offset of the Fragment header, `nhoff` the offset of the byte that names it,
    /// `fragmented` whether the packet already passed a Fragment header
    /// (`IP6SKB_FRAGMENTED`), `iif` the arrival interface's index.
    pub fn ipv6_frag_rcv(
        &mut self,
        pkt: &[u8],
        thoff: usize,
        nhoff: usize,
        fragmented: bool,
        iif: i32,
        now_ns: u64,
    ) -> Ip6FragRcv {
        let mut mib = ReasmStats::default();
        let verdict = self.rcv(pkt, thoff, nhoff, fragmented, iif, now_ns, &mut mib);
        // The eviction work a find scheduled; evicted queues count only where a
        // fragment had named a device, and never send ICMP.
        for (_, q) in self.frags.run_worker(now_ns) {
            if q.iif != 0 {
                mib.reasm_fails += 1;
            }
        }
        Ip6FragRcv { verdict, mib }
    }

    #[allow(clippy::too_many_arguments)]
    fn rcv(
        &mut self,
        pkt: &[u8],
        thoff: usize,
        nhoff: usize,
        fragmented: bool,
        iif: i32,
        now_ns: u64,
        mib: &mut ReasmStats,
    ) -> Ip6FragVerdict {
        if pkt.len() < HEADER_LEN || thoff < HEADER_LEN || nhoff >= thoff {
            return Ip6FragVerdict::Dropped(FragDrop::Malformed);
        }
        let ip = ipv6::Packet::new_unchecked(pkt);
        let plen = usize::from(ip.payload_len());
        let pkt = match plen {
            0 => pkt,
            _ => match pkt.get(..HEADER_LEN + plen) {
                Some(p) => p,
                None => return Ip6FragVerdict::Dropped(FragDrop::Malformed),
            },
        };
        let fail_hdr = |mib: &mut ReasmStats| {
            mib.in_hdr_errors += 1;
            Ip6FragVerdict::ParamProblem { pointer: thoff as u32 }
        };
        if fragmented {
            return fail_hdr(mib);
        }
        mib.reasm_reqds += 1;
        // A jumbogram cannot be fragmented; a short header is a header error.
        let Some(fh) = pkt.get(thoff..).filter(|b| plen != 0 && b.len() >= FRAGMENT_HEADER_LEN) else {
            return fail_hdr(mib);
        };
        let fh = FragmentHeader::new_unchecked(fh);
        if fh.is_atomic() {
            mib.reasm_oks += 1;
            return Ip6FragVerdict::Atomic { thoff: thoff + FRAGMENT_HEADER_LEN, nhoff: thoff };
        }
        let ecn = 1u8 << (ip.traffic_class() & 3);
        let key =
            Ip6FragKey { id: fh.ident(), user: IP6_DEFRAG_LOCAL_DELIVER, saddr: ip.src_addr(), daddr: ip.dst_addr() };
        if let Err(e) = self.frags.find(&key, now_ns, ecn, Ip6FragQueue::default) {
            mib.reasm_fails += 1;
            return Ip6FragVerdict::Dropped(FragDrop::NoQueue(e));
        }
        self.frag_queue(&key, pkt, thoff, nhoff, ecn, iif, now_ns, mib)
    }

    /// `ip6_frag_queue`.
    #[allow(clippy::too_many_arguments)]
    fn frag_queue(
        &mut self,
        key: &Ip6FragKey,
        pkt: &[u8],
        thoff: usize,
        nhoff: usize,
        ecn: u8,
        iif: i32,
        now_ns: u64,
        mib: &mut ReasmStats,
    ) -> Ip6FragVerdict {
        let start = thoff + FRAGMENT_HEADER_LEN;
        let fh = FragmentHeader::new_unchecked(&pkt[thoff..start]);
        let offset = fh.byte_offset();
        // offset + payload_len - (bytes from the fixed header's end to the data).
        let end = offset + (pkt.len() - start);
        if end > MAX_PAYLOAD_LEN {
            mib.in_hdr_errors += 1;
            return Ip6FragVerdict::ParamProblem { pointer: (thoff + 2) as u32 };
        }
        let err = |mib: &mut ReasmStats, why| {
            mib.reasm_fails += 1;
            Ip6FragVerdict::Dropped(why)
        };
        let Some(q) = self.frags.get_mut(key) else {
            return err(mib, FragDrop::NoQueue(FindError::NoMem));
        };
        if !fh.more_frags() {
            if end < q.len || (q.flags & INET_FRAG_LAST_IN != 0 && end != q.len) {
                return err(mib, FragDrop::Corrupt);
            }
            q.flags |= INET_FRAG_LAST_IN;
            q.len = end;
        } else {
            // RFC 2460 §4.5: a non-final fragment is a multiple of 8 bytes.
            if !end.is_multiple_of(8) {
                mib.in_hdr_errors += 1;
                return Ip6FragVerdict::ParamProblem { pointer: 4 };
            }
            if end > q.len {
                if q.flags & INET_FRAG_LAST_IN != 0 {
                    return err(mib, FragDrop::Corrupt);
                }
                q.len = end;
            }
        }
        if end == offset {
            return err(mib, FragDrop::Empty);
        }
        let idx = q.slot(offset);
        let overlaps_prev = idx > 0 && q.fragments.get(idx - 1).is_some_and(|p| p.offset + p.len() > offset);
        let overlaps_next = q.fragments.get(idx).is_some_and(|n| n.offset < end);
        if overlaps_prev || overlaps_next {
            // RFC 5722 §4 with erratum 3089: discard the datagram and every fragment.
            if let Some(mut q) = self.frags.unlink(key) {
                self.frags.destroy(&mut q);
            }
            return err(mib, FragDrop::Overlap);
        }
        if q.fragments.len() >= INET_FRAG_MAX_FRAGMENTS {
            return err(mib, FragDrop::TooMany);
        }
        let truesize = frag_truesize(pkt.len());
        q.fragments.insert(idx, Frag { offset, pkt: pkt.to_vec(), hdr_len: start, start, end: pkt.len(), truesize });
        q.iif = iif;
        q.stamp_ns = now_ns;
        q.meat += end - offset;
        q.ecn |= ecn;
        if offset == 0 {
            q.proto.nhoffset = nhoff;
            q.flags |= INET_FRAG_FIRST_IN;
        }
        let complete = q.is_complete();
        self.frags.mem_add(truesize as i64);
        if complete {
            return self.reasm(key, mib);
        }
        Ip6FragVerdict::Queued
    }

    /// `ip6_frag_reasm`: the first fragment's unfragmentable part, the byte that named
    /// the Fragment header set to the header's Next Header, Payload Length rewritten and
    /// CE OR-ed in when the table says so, then every fragment's data.
    fn reasm(&mut self, key: &Ip6FragKey, mib: &mut ReasmStats) -> Ip6FragVerdict {
        let Some(mut q) = self.frags.unlink(key) else {
            return Ip6FragVerdict::Dropped(FragDrop::Malformed);
        };
        let built = Self::build(&q);
        let verdict = match built {
            Ok((packet, thoff)) => {
                let sum: usize = q.fragments.drain(..).map(|f| f.truesize).sum();
                self.frags.mem_add(-(sum as i64));
                mib.reasm_oks += 1;
                Ip6FragVerdict::Reassembled { packet, thoff, nhoff: q.proto.nhoffset }
            }
            Err(why) => {
                mib.reasm_fails += 1;
                Ip6FragVerdict::Dropped(why)
            }
        };
        self.frags.destroy(&mut q);
        verdict
    }

    fn build(q: &FragQueue<Ip6FragQueue>) -> Result<(Vec<u8>, usize), FragDrop> {
        let ecn = ip_frag_ecn(q.ecn);
        if ecn == 0xff {
            return Err(FragDrop::Ecn);
        }
        let head = q.fragments.first().ok_or(FragDrop::Malformed)?;
        let unfrag = head.start - FRAGMENT_HEADER_LEN;
        let payload_len = unfrag - HEADER_LEN + q.len;
        if payload_len > MAX_PAYLOAD_LEN {
            return Err(FragDrop::Oversize);
        }
        let mut out = Vec::with_capacity(HEADER_LEN + payload_len);
        out.extend_from_slice(head.pkt.get(..unfrag).ok_or(FragDrop::Malformed)?);
        let nexthdr = *head.pkt.get(unfrag).ok_or(FragDrop::Malformed)?;
        *out.get_mut(q.proto.nhoffset).ok_or(FragDrop::Malformed)? = nexthdr;
        for f in &q.fragments {
            out.extend_from_slice(f.data());
        }
        let mut ip = ipv6::Packet::new_unchecked(&mut out[..]);
        ip.set_payload_len(payload_len as u16);
        // ipv6_change_dsfield(hdr, 0xff, ecn): OR, keeping the first fragment's bits.
        let tc = ip.traffic_class();
        ip.set_traffic_class(tc | ecn);
        Ok((out, unfrag))
    }

    /// `ip6_frag_expire` for every timer due at `now_ns`. A queue that never queued a
    /// fragment names no device and counts nothing; the others count `ReasmFails` and
    /// `ReasmTimeout`, and quote their first fragment if it arrived.
    pub fn expire(&mut self, now_ns: u64) -> (Vec<Ip6FragTimeout>, ReasmStats) {
        let mut mib = ReasmStats::default();
        let mut out = Vec::new();
        for (key, mut q) in self.frags.expire(now_ns) {
            let mut invoking = None;
            if q.iif != 0 {
                mib.reasm_fails += 1;
                mib.reasm_timeout += 1;
                if q.flags & INET_FRAG_FIRST_IN != 0 {
                    invoking = q.fragments.first().map(Frag::quote);
                }
            }
            self.frags.destroy(&mut q);
            out.push(Ip6FragTimeout { key, iif: q.iif, invoking });
        }
        (out, mib)
    }

    /// Bytes charged now (`sum_frag_mem_limit`, `/proc/net/sockstat6` "FRAG6 memory").
    pub fn mem_sum(&self) -> i64 {
        self.frags.nf.mem.sum()
    }

    /// Bytes the thresholds see now (`frag_mem_limit`).
    pub fn mem_read(&self) -> i64 {
        self.frags.nf.mem.read()
    }
}

#[cfg(test)]
#[path = "reassembly_tests.rs"]
mod tests;
