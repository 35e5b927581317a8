//! The fragment-queue machinery both families share (`net/ipv4/inet_fragment.c`,
//! `include/net/inet_frag.h`): one [`InetFrags`] table per family and namespace, holding
//! [`FragQueue`]s, charging their memory to a [`NetnsFrags`], arming each queue's timer
//! once at creation, and evicting under memory pressure the way 4.3's deferred worker does.
//!
//! What 4.3 does, and this models (read from the 4.3 tree):
//! * `inet_frag_find`: when the namespace's memory reads above `low_thresh` the eviction
//!   work is scheduled; a queue is created only while memory reads at most `high_thresh`
//!   (`inet_frag_alloc`), and only if the hash chain it lands in holds at most
//!   [`INETFRAGS_MAXDEPTH`] queues, else `-ENOBUFS` and a secret rebuild is scheduled.
//! * The worker (`inet_frag_worker`) is **not** oldest-first (the LRU list went in 3.17):
//!   from where it stopped last it walks at most [`INETFRAGS_EVICT_BUCKETS`] hash buckets,
//!   and in each bucket evicts every queue when memory reads at least `low_thresh`; it stops
//!   early once more than [`INETFRAGS_EVICT_MAX`] queues went. Evicted queues send no ICMP.
//! * Memory is a per-CPU counter read without summing (`frag_mem_limit` is
//!   `percpu_counter_read`), so the thresholds see a value that lags by up to
//!   [`FRAG_PERCPU_COUNTER_BATCH`] bytes; [`FragMem`] models one CPU's slot exactly.
//!
//! Model choices, stated once: Linux schedules the worker on a kworker; here it runs when
//! the call that scheduled it returns ([`InetFrags::run_worker`]). Linux's table is global
//! and its secret random; here a table belongs to one namespace, its secret is given at
//! construction and a rebuild derives the next one from it, so one seed is one run.
//! `skb->truesize` follows [`frag_truesize`].

#![warn(missing_docs)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// `INET_FRAG_FIRST_IN`: the fragment at offset 0 has arrived.
pub const INET_FRAG_FIRST_IN: u8 = 1;
/// `INET_FRAG_LAST_IN`: the fragment without More Fragments has arrived.
pub const INET_FRAG_LAST_IN: u8 = 2;

/// `INETFRAGS_HASHSZ`: hash buckets of a table.
pub const INETFRAGS_HASHSZ: usize = 1024;
/// `INETFRAGS_MAXDEPTH`: a new queue is refused in a chain already longer than this.
pub const INETFRAGS_MAXDEPTH: usize = 128;
/// `INETFRAGS_EVICT_BUCKETS`: buckets one worker run looks at.
pub const INETFRAGS_EVICT_BUCKETS: usize = 128;
/// `INETFRAGS_EVICT_MAX`: a worker run stops once it evicted more queues than this.
pub const INETFRAGS_EVICT_MAX: usize = 512;
/// `INETFRAGS_MIN_REBUILD_INTERVAL` (5 s): at most one secret rebuild per interval.
pub const INETFRAGS_MIN_REBUILD_INTERVAL_NS: u64 = 5 * NSEC_PER_SEC;
/// `frag_percpu_counter_batch`: a CPU's share is folded into the read value past this.
pub const FRAG_PERCPU_COUNTER_BATCH: i64 = 130_000;
/// k43's own bound on the fragments of one queue. Unreachable with 4.3's default
/// thresholds (4 MiB of fragments costing at least [`SKB_TRUESIZE_OVERHEAD`] each is
/// about 7000); a fragment past it is dropped as if the queue were full.
pub const INET_FRAG_MAX_FRAGMENTS: usize = 16_384;

/// Nanoseconds per second.
pub const NSEC_PER_SEC: u64 = 1_000_000_000;
/// `net.ipv4.ipfrag_high_thresh` and `net.ipv6.ip6frag_high_thresh` default: 4 MiB.
pub const FRAG_HIGH_THRESH: i64 = 4 * 1024 * 1024;
/// `ipfrag_low_thresh` / `ip6frag_low_thresh` default: 3 MiB.
pub const FRAG_LOW_THRESH: i64 = 3 * 1024 * 1024;
/// `IP_FRAG_TIME`: `net.ipv4.ipfrag_time`, 30 s.
pub const IP_FRAG_TIME_NS: u64 = 30 * NSEC_PER_SEC;
/// `IPV6_FRAG_TIMEOUT`: `net.ipv6.ip6frag_time`, 60 s.
pub const IPV6_FRAG_TIMEOUT_NS: u64 = 60 * NSEC_PER_SEC;

/// `SKB_TRUESIZE(0)` on x86_64 4.3: `SKB_DATA_ALIGN(sizeof(struct sk_buff))` (232 → 256)
/// plus `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` (320).
pub const SKB_TRUESIZE_OVERHEAD: usize = 576;
/// `NET_SKB_PAD`: headroom a driver reserves in front of a received frame.
pub const NET_SKB_PAD: usize = 64;
/// Link header the receive buffer also held (`ETH_HLEN`).
pub const ETH_HLEN: usize = 14;

/// The truesize model: what `netdev_alloc_skb(dev, ETH_HLEN + len)` of a copying driver
/// charges for a frame carrying an IP packet of `len` bytes —
/// `SKB_DATA_ALIGN(NET_SKB_PAD + ETH_HLEN + len) + SKB_TRUESIZE(0)`. Real drivers differ
/// (page-sized buffers charge more); the thresholds only need a monotone, fixed model.
pub const fn frag_truesize(len: usize) -> usize {
    (NET_SKB_PAD + ETH_HLEN + len).div_ceil(64) * 64 + SKB_TRUESIZE_OVERHEAD
}

/// `jhash_3words` (`include/linux/jhash.h`): Bob Jenkins' final mix over three words.
pub fn jhash_3words(a: u32, b: u32, c: u32, initval: u32) -> u32 {
    let iv = initval.wrapping_add(0xdead_beef).wrapping_add(3 << 2);
    let (mut a, mut b, mut c) = (a.wrapping_add(iv), b.wrapping_add(iv), c.wrapping_add(iv));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c.wrapping_sub(b.rotate_left(24))
}

/// `ip_frag_ecn_table`: from the OR of every fragment's `1 << ecn` to the ECN bits to OR
/// into the reassembled header, or `0xff`: drop (RFC 3168 §5.3). Not-ECT mixed with any
/// ECT or CE fragment is invalid, not only with CE.
pub const fn ip_frag_ecn(ored: u8) -> u8 {
    const NOT_ECT: u8 = 1;
    const CE: u8 = 8;
    let ored = ored & 0xf;
    if ored & NOT_ECT != 0 && ored != NOT_ECT {
        0xff
    } else if ored & CE != 0 && ored != CE {
        3
    } else {
        0
    }
}

/// The namespace's fragment memory, a `percpu_counter` of one CPU: [`read`](Self::read)
/// is what the thresholds see, [`sum`](Self::sum) what `/proc/net/sockstat` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragMem {
    count: i64,
    local: i64,
}

impl FragMem {
    /// `__percpu_counter_add` with the fragment batch: the CPU's share folds into the
    /// shared count once it reaches ±[`FRAG_PERCPU_COUNTER_BATCH`].
    pub fn add(&mut self, amount: i64) {
        let local = self.local + amount;
        if !(-FRAG_PERCPU_COUNTER_BATCH + 1..FRAG_PERCPU_COUNTER_BATCH).contains(&local) {
            self.count += local;
            self.local = 0;
        } else {
            self.local = local;
        }
    }

    /// `frag_mem_limit`: the folded count only.
    pub const fn read(&self) -> i64 {
        self.count
    }

    /// `sum_frag_mem_limit`: the exact value, never negative.
    pub fn sum(&self) -> i64 {
        (self.count + self.local).max(0)
    }
}

/// `struct netns_frags`: a namespace's memory and its three sysctls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetnsFrags {
    /// Memory charged by queues and fragments.
    pub mem: FragMem,
    /// `ipfrag_time` / `ip6frag_time`: a queue's lifetime from its creation.
    pub timeout_ns: u64,
    /// `ipfrag_high_thresh`: no new queue while memory reads above it.
    pub high_thresh: i64,
    /// `ipfrag_low_thresh`: eviction runs while memory reads at or above it.
    pub low_thresh: i64,
}

impl NetnsFrags {
    /// `ipv4_frags_init_net` defaults.
    pub const fn ipv4() -> NetnsFrags {
        NetnsFrags {
            mem: FragMem { count: 0, local: 0 },
            timeout_ns: IP_FRAG_TIME_NS,
            high_thresh: FRAG_HIGH_THRESH,
            low_thresh: FRAG_LOW_THRESH,
        }
    }

    /// `ipv6_frags_init_net` defaults.
    pub const fn ipv6() -> NetnsFrags {
        NetnsFrags { timeout_ns: IPV6_FRAG_TIMEOUT_NS, ..NetnsFrags::ipv4() }
    }
}

/// A queued fragment: the packet as received (header included, for the reassembled
/// header and the ICMP quote) and the window `start..end` of it that is still data after
/// the header was pulled and overlaps trimmed (`pskb_pull`, `pskb_trim_rcsum`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frag {
    /// Byte offset of `pkt[start]` in the original datagram (`FRAG_CB(skb)->offset`).
    pub offset: usize,
    /// The received packet, from its network header.
    pub pkt: Vec<u8>,
    /// Length of the network headers in front of the data as received.
    pub hdr_len: usize,
    /// First data byte in `pkt`.
    pub start: usize,
    /// One past the last data byte in `pkt`.
    pub end: usize,
    /// What the fragment is charged (`skb->truesize`).
    pub truesize: usize,
}

impl Frag {
    /// Data bytes (`skb->len` after the pulls).
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether no data is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data bytes.
    pub fn data(&self) -> &[u8] {
        self.pkt.get(self.start..self.end).unwrap_or(&[])
    }

    /// What `icmp_send` quotes of it: the headers then the data left.
    pub fn quote(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.hdr_len + self.len());
        v.extend_from_slice(self.pkt.get(..self.hdr_len).unwrap_or(&[]));
        v.extend_from_slice(self.data());
        v
    }
}

/// `struct inet_frag_queue` with the fields `ipq` and `frag_queue` share (`iif`, `ecn`);
/// `proto` holds the rest of the family's queue.
#[derive(Clone, Debug)]
pub struct FragQueue<P> {
    /// Fragments in offset order, never overlapping.
    pub fragments: Vec<Frag>,
    /// Length of the datagram's data as far as known.
    pub len: usize,
    /// Data bytes received.
    pub meat: usize,
    /// `INET_FRAG_FIRST_IN` | `INET_FRAG_LAST_IN`.
    pub flags: u8,
    /// Largest fragment seen, headers included (`q.max_size`).
    pub max_size: usize,
    /// Arrival interface of the last fragment queued; 0 before any.
    pub iif: i32,
    /// OR of `1 << ecn` over the creating packet and every queued fragment.
    pub ecn: u8,
    /// Arrival time of the last fragment queued (`q.stamp`).
    pub stamp_ns: u64,
    /// When the timer fires.
    pub expires_ns: u64,
    /// The family's fields.
    pub proto: P,
    seq: u64,
    bucket: usize,
}

impl<P> FragQueue<P> {
    /// Index at which a fragment starting at `offset` goes: after every fragment that
    /// starts before it (the `prev`/`next` search of `ip_frag_queue`).
    pub fn slot(&self, offset: usize) -> usize {
        self.fragments.partition_point(|f| f.offset < offset)
    }

    /// Whether first and last are in and every byte between (`ip_frag_queue`'s test).
    pub fn is_complete(&self) -> bool {
        self.flags == INET_FRAG_FIRST_IN | INET_FRAG_LAST_IN && self.meat == self.len
    }
}

/// A table key: the family's queue identity and its `hashfn`.
pub trait FragKey: Ord + Clone {
    /// The family's hash with secret `rnd` (`ip4_hashfn`, `ip6_hashfn`).
    fn hash(&self, rnd: u32) -> u32;
}

/// Why `inet_frag_find` found no queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindError {
    /// Memory read above `high_thresh` (`inet_frag_alloc` returned NULL).
    NoMem,
    /// The hash chain is longer than [`INETFRAGS_MAXDEPTH`] (`-ENOBUFS`).
    NoBufs,
}

/// Why a fragment was dropped without an ICMP error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragDrop {
    /// The buffer does not have the shape the caller vouches for (shorter than its header
    /// or its length field, header offsets out of order); nothing is counted.
    Malformed,
    /// No queue could be found or made.
    NoQueue(FindError),
    /// A last fragment that disagrees with the known length, or data past a known end.
    Corrupt,
    /// No data (`end == offset`).
    Empty,
    /// Overlap. IPv6: the whole queue was discarded with it (RFC 5722). IPv4: the
    /// fragment lies inside data already queued and brings nothing new.
    Overlap,
    /// Not-ECT mixed with ECT/CE fragments (RFC 3168 §5.3).
    Ecn,
    /// The reassembled datagram would exceed 65535 bytes.
    Oversize,
    /// k43's [`INET_FRAG_MAX_FRAGMENTS`] bound.
    TooMany,
}

/// `struct inet_frags` for one family in one namespace.
#[derive(Clone, Debug)]
pub struct InetFrags<K: FragKey, P> {
    /// The namespace's memory and sysctls.
    pub nf: NetnsFrags,
    qsize: usize,
    rnd: u32,
    rebuilds: u32,
    queues: BTreeMap<K, FragQueue<P>>,
    timers: BTreeMap<(u64, u64), K>,
    /// Hash chains, oldest first: the last element is the `hlist` head.
    buckets: Vec<Vec<K>>,
    next_bucket: usize,
    rebuild: bool,
    last_rebuild_ns: Option<u64>,
    work_pending: bool,
    seq: u64,
}

impl<K: FragKey, P> InetFrags<K, P> {
    /// An empty table whose queues cost `qsize` bytes each (`f->qsize`), hashing with `rnd`.
    pub fn new(nf: NetnsFrags, qsize: usize, rnd: u32) -> Self {
        InetFrags {
            nf,
            qsize,
            rnd,
            rebuilds: 0,
            queues: BTreeMap::new(),
            timers: BTreeMap::new(),
            buckets: (0..INETFRAGS_HASHSZ).map(|_| Vec::new()).collect(),
            next_bucket: 0,
            rebuild: false,
            last_rebuild_ns: None,
            work_pending: false,
            seq: 0,
        }
    }

    /// Live queues.
    pub fn queue_count(&self) -> usize {
        self.queues.len()
    }

    /// The queue of `key`, if any.
    pub fn get(&self, key: &K) -> Option<&FragQueue<P>> {
        self.queues.get(key)
    }

    /// The queue of `key`, writable.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut FragQueue<P>> {
        self.queues.get_mut(key)
    }

    /// Charges (or, negative, releases) memory in one counter update, as each
    /// `add_frag_mem_limit` / `sub_frag_mem_limit` call of Linux does.
    pub fn mem_add(&mut self, amount: i64) {
        self.nf.mem.add(amount);
    }

    /// When the earliest timer fires.
    pub fn next_expiry(&self) -> Option<u64> {
        self.timers.keys().next().map(|&(t, _)| t)
    }

    fn bucket_of(&self, key: &K) -> usize {
        key.hash(self.rnd) as usize & (INETFRAGS_HASHSZ - 1)
    }

    fn may_rebuild(&self, now_ns: u64) -> bool {
        self.last_rebuild_ns.is_none_or(|t| now_ns > t.saturating_add(INETFRAGS_MIN_REBUILD_INTERVAL_NS))
    }

    /// `inet_frag_find`: the queue of `key`, created with `ecn` and `init()` when there
    /// is none and `inet_frag_alloc` allows one. Its timer is armed once, here.
    pub fn find(
        &mut self,
        key: &K,
        now_ns: u64,
        ecn: u8,
        init: impl FnOnce() -> P,
    ) -> Result<&mut FragQueue<P>, FindError> {
        if self.nf.mem.read() > self.nf.low_thresh {
            self.work_pending = true;
        }
        if !self.queues.contains_key(key) {
            let bucket = self.bucket_of(key);
            if self.buckets[bucket].len() > INETFRAGS_MAXDEPTH {
                if self.may_rebuild(now_ns) {
                    self.rebuild = true;
                    self.work_pending = true;
                }
                return Err(FindError::NoBufs);
            }
            if self.nf.mem.read() > self.nf.high_thresh {
                self.work_pending = true;
                return Err(FindError::NoMem);
            }
            self.nf.mem.add(self.qsize as i64);
            self.seq += 1;
            let expires_ns = now_ns.saturating_add(self.nf.timeout_ns);
            let q = FragQueue {
                fragments: Vec::new(),
                len: 0,
                meat: 0,
                flags: 0,
                max_size: 0,
                iif: 0,
                ecn,
                stamp_ns: now_ns,
                expires_ns,
                proto: init(),
                seq: self.seq,
                bucket,
            };
            self.timers.insert((expires_ns, self.seq), key.clone());
            self.buckets[bucket].push(key.clone());
            self.queues.insert(key.clone(), q);
        }
        self.queues.get_mut(key).ok_or(FindError::NoMem)
    }

    /// `mod_timer(&q->timer, jiffies + timeout)`: re-arms a live queue's timer from now
    /// (only `ip_frag_reinit` does this).
    pub fn rearm(&mut self, key: &K, now_ns: u64) {
        let timeout = self.nf.timeout_ns;
        if let Some(q) = self.queues.get_mut(key) {
            self.timers.remove(&(q.expires_ns, q.seq));
            q.expires_ns = now_ns.saturating_add(timeout);
            self.timers.insert((q.expires_ns, q.seq), key.clone());
        }
    }

    /// `inet_frag_kill`: takes the queue out of the table and stops its timer. Its memory
    /// stays charged until [`destroy`](Self::destroy).
    pub fn unlink(&mut self, key: &K) -> Option<FragQueue<P>> {
        let q = self.queues.remove(key)?;
        self.timers.remove(&(q.expires_ns, q.seq));
        if let Some(chain) = self.buckets.get_mut(q.bucket) {
            chain.retain(|k| k != key);
        }
        Some(q)
    }

    /// `inet_frag_destroy`: frees the fragments left and the queue, releasing their
    /// truesize and `qsize` in one counter update. The emptied queue stays with the caller
    /// for its destructor (the IPv4 peer reference).
    pub fn destroy(&mut self, q: &mut FragQueue<P>) {
        let sum: usize = q.fragments.drain(..).map(|f| f.truesize).sum();
        self.nf.mem.add(-((sum + self.qsize) as i64));
    }

    /// Timers due at `now_ns`, in firing order: the queues, unlinked but not destroyed,
    /// for the family's `frag_expire` to count, quote and then destroy.
    pub fn expire(&mut self, now_ns: u64) -> Vec<(K, FragQueue<P>)> {
        let mut due = Vec::new();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now_ns {
                break;
            }
            let key = entry.remove();
            if let Some(q) = self.unlink(&key) {
                due.push((key, q));
            }
        }
        due
    }

    /// The eviction work (`inet_frag_worker`), if a find scheduled it: returns the
    /// evicted queues, already destroyed (memory released bucket by bucket, since each
    /// bucket's decision reads it), for the family to count.
    pub fn run_worker(&mut self, now_ns: u64) -> Vec<(K, FragQueue<P>)> {
        let mut evicted = Vec::new();
        if !core::mem::take(&mut self.work_pending) {
            return evicted;
        }
        let mut i = self.next_bucket;
        for _ in 0..INETFRAGS_EVICT_BUCKETS {
            // inet_evict_bucket decides for the whole chain before expiring any of it,
            // and expires in the reverse of chain order: oldest first.
            if self.nf.low_thresh == 0 || self.nf.mem.read() >= self.nf.low_thresh {
                for key in core::mem::take(&mut self.buckets[i]) {
                    if let Some(mut q) = self.queues.remove(&key) {
                        self.timers.remove(&(q.expires_ns, q.seq));
                        self.destroy(&mut q);
                        evicted.push((key, q));
                    }
                }
            }
            i = (i + 1) & (INETFRAGS_HASHSZ - 1);
            if evicted.len() > INETFRAGS_EVICT_MAX {
                break;
            }
        }
        self.next_bucket = i;
        if self.rebuild && self.may_rebuild(now_ns) {
            self.secret_rebuild(now_ns);
        }
        evicted
    }

    /// `inet_frag_secret_rebuild`: a new secret, every queue moved to its new chain the
    /// way Linux relinks them (walking each chain from its head, moving to the new head).
    fn secret_rebuild(&mut self, now_ns: u64) {
        self.rebuilds = self.rebuilds.wrapping_add(1);
        // Linux draws the secret with get_random_bytes; deriving it keeps runs replayable.
        self.rnd = jhash_3words(self.rnd, self.rebuilds, now_ns as u32, 0x9e37_79b9);
        for i in 0..INETFRAGS_HASHSZ {
            let chain = core::mem::take(&mut self.buckets[i]);
            let mut keep = Vec::new();
            for key in chain.into_iter().rev() {
                let h = self.bucket_of(&key);
                if h == i {
                    keep.push(key);
                } else {
                    if let Some(q) = self.queues.get_mut(&key) {
                        q.bucket = h;
                    }
                    self.buckets[h].push(key);
                }
            }
            keep.reverse();
            self.buckets[i] = keep;
        }
        self.rebuild = false;
        self.last_rebuild_ns = Some(now_ns);
    }
}

/// Why a datagram leaves unfragmented (`ip_fragment`, `ip6_fragment`); each counts
/// `FragFails`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragError {
    /// It may not be fragmented to this MTU: send ICMP Fragmentation Needed (IPv4, DF
    /// set) or Packet Too Big (IPv6) carrying `mtu`, and drop it.
    TooBig {
        /// The MTU to report.
        mtu: u32,
    },
    /// The MTU leaves no room for 8 bytes of data after an IPv4 header (Linux relies on
    /// device MTUs of at least 68 never to get here); drop.
    MtuTooSmall,
    /// Not a well-formed datagram of the family; drop.
    Malformed,
}

/// The reassembly counters of `/proc/net/snmp` (`Ip:`) and `/proc/net/snmp6` (`Ip6`) a
/// call changed; the caller adds them to its MIB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReasmStats {
    /// `IPSTATS_MIB_INHDRERRORS`.
    pub in_hdr_errors: u64,
    /// `IPSTATS_MIB_REASMREQDS`: fragments offered to reassembly.
    pub reasm_reqds: u64,
    /// `IPSTATS_MIB_REASMOKS`: datagrams reassembled.
    pub reasm_oks: u64,
    /// `IPSTATS_MIB_REASMFAILS`.
    pub reasm_fails: u64,
    /// `IPSTATS_MIB_REASMTIMEOUT`.
    pub reasm_timeout: u64,
}

impl ReasmStats {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &ReasmStats) {
        self.in_hdr_errors += other.in_hdr_errors;
        self.reasm_reqds += other.reasm_reqds;
        self.reasm_oks += other.reasm_oks;
        self.reasm_fails += other.reasm_fails;
        self.reasm_timeout += other.reasm_timeout;
    }
}

#[cfg(test)]
#[path = "inet_frag_tests.rs"]
mod tests;
