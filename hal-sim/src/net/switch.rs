//! A learning Ethernet switch: the forwarding database of an 802.1D bridge without
//! spanning tree, VLANs or link-local filtering.
//!
//! Sources are learned per port on arrival; an entry ages out `aging_ns` of virtual
//! time after it was last refreshed (Linux's bridge default, 300 s); the table is
//! bounded and evicts its oldest entry when full. Frames to a learned address go out of
//! that one port; unknown unicast, broadcast and multicast (I/G bit set) are flooded to
//! every other port. A frame never leaves by the port it came in on. Loops are the
//! scenario's business: without STP a looped broadcast circulates until the network's
//! pending-frame limit stops it.

use std::collections::{BTreeMap, BTreeSet};

/// A 48-bit Ethernet address, as it sits in the frame.
pub type Mac = [u8; 6];

/// How long a learned address lives without traffic from it (Linux bridge `ageing_time`).
pub const DEFAULT_AGING_NS: u64 = 300_000_000_000;
/// Default bound on learned addresses.
pub const DEFAULT_TABLE_LIMIT: usize = 4096;
/// Default time a frame spends inside the switch before it leaves (store and forward).
pub const DEFAULT_SWITCH_LATENCY_NS: u64 = 1_000;
/// Most ports (links) one switch takes.
pub const MAX_SWITCH_PORTS: usize = 256;
/// Largest table a switch may be configured with.
pub const MAX_TABLE_LIMIT: usize = 1 << 16;

/// Settings of one switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwitchConfig {
    /// Time from a frame's arrival to its departure; at least 1 ns, so a frame going
    /// round a loop of switches always moves virtual time forward.
    pub latency_ns: u64,
    /// Lifetime of a learned address without traffic from it.
    pub aging_ns: u64,
    /// Most learned addresses; the oldest is evicted to make room.
    pub table_limit: usize,
}

impl Default for SwitchConfig {
    fn default() -> Self {
        SwitchConfig { latency_ns: DEFAULT_SWITCH_LATENCY_NS, aging_ns: DEFAULT_AGING_NS, table_limit: DEFAULT_TABLE_LIMIT }
    }
}

impl SwitchConfig {
    /// Checks the limits.
    pub fn validate(&self) -> Result<(), String> {
        if self.latency_ns == 0 {
            return Err("switch: latency must be at least 1 ns".into());
        }
        if self.table_limit == 0 || self.table_limit > MAX_TABLE_LIMIT {
            return Err(format!("switch: table limit {} is outside 1..={MAX_TABLE_LIMIT}", self.table_limit));
        }
        Ok(())
    }
}

/// What one switch has done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwitchCounters {
    /// Frames that arrived on any port.
    pub received: u64,
    /// Frames sent out of the one port their destination was learned on.
    pub forwarded: u64,
    /// Frames flooded (unknown unicast, broadcast, multicast); one per frame, not per port.
    pub flooded: u64,
    /// Frames dropped because their destination was learned on their arrival port.
    pub filtered: u64,
    /// Copies not scheduled because the network's pending-frame limit was reached.
    pub overflow: u64,
    /// Addresses newly learned.
    pub learned: u64,
    /// Learned addresses seen again on a different port.
    pub moved: u64,
    /// Entries removed because they aged out.
    pub aged: u64,
    /// Live entries evicted because the table was full.
    pub evicted: u64,
}

/// Where a frame goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forward {
    /// Out of this one port.
    Port(usize),
    /// Out of every port but the arrival port.
    Flood,
    /// Nowhere.
    Filter,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    port: usize,
    last_seen_ns: u64,
}

/// One switch's state; the network owns the mapping from its ports to links.
#[derive(Clone, Debug)]
pub(crate) struct Switch {
    pub(crate) name: String,
    pub(crate) cfg: SwitchConfig,
    pub(crate) counters: SwitchCounters,
    table: BTreeMap<Mac, Entry>,
    /// The same entries ordered by age, to evict the oldest without a scan.
    by_age: BTreeSet<(u64, Mac)>,
}

/// Whether an address is a group (multicast or broadcast) address: the I/G bit.
pub fn is_group(mac: &Mac) -> bool {
    mac[0] & 1 != 0
}

impl Switch {
    pub(crate) fn new(name: String, cfg: SwitchConfig) -> Switch {
        Switch { name, cfg, counters: SwitchCounters::default(), table: BTreeMap::new(), by_age: BTreeSet::new() }
    }

    fn expired(&self, e: &Entry, now_ns: u64) -> bool {
        // As the bridge's has_expired(): dead once updated + hold_time <= now.
        e.last_seen_ns.saturating_add(self.cfg.aging_ns) <= now_ns
    }

    fn remove(&mut self, mac: &Mac) {
        if let Some(e) = self.table.remove(mac) {
            self.by_age.remove(&(e.last_seen_ns, *mac));
        }
    }

    /// Learns (or refreshes) `src` on `port` at `now_ns`.
    fn learn(&mut self, src: Mac, port: usize, now_ns: u64) {
        if is_group(&src) {
            return; // A group address is never a station's location.
        }
        match self.table.get(&src).copied() {
            Some(old) => {
                if old.port != port {
                    self.counters.moved += 1;
                }
                self.by_age.remove(&(old.last_seen_ns, src));
            }
            None => {
                while self.table.len() >= self.cfg.table_limit {
                    let Some(&(seen, oldest)) = self.by_age.first() else { break };
                    let aged = seen.saturating_add(self.cfg.aging_ns) <= now_ns;
                    self.remove(&oldest);
                    if aged {
                        self.counters.aged += 1;
                    } else {
                        self.counters.evicted += 1;
                    }
                }
                self.counters.learned += 1;
            }
        }
        self.table.insert(src, Entry { port, last_seen_ns: now_ns });
        self.by_age.insert((now_ns, src));
        debug_assert_eq!(self.table.len(), self.by_age.len());
        debug_assert!(self.table.len() <= self.cfg.table_limit);
    }

    /// The live port of `dst`, dropping its entry if it has aged out.
    fn lookup(&mut self, dst: &Mac, now_ns: u64) -> Option<usize> {
        let e = *self.table.get(dst)?;
        if self.expired(&e, now_ns) {
            self.remove(dst);
            self.counters.aged += 1;
            return None;
        }
        Some(e.port)
    }

    /// Learns from a frame that arrived on `in_port` and decides where it goes. The
    /// caller has checked the frame holds an Ethernet header.
    pub(crate) fn decide(&mut self, frame: &[u8], in_port: usize, now_ns: u64) -> Forward {
        self.counters.received += 1;
        let mut dst = [0u8; 6];
        let mut src = [0u8; 6];
        dst.copy_from_slice(&frame[0..6]);
        src.copy_from_slice(&frame[6..12]);
        self.learn(src, in_port, now_ns);
        let out = if is_group(&dst) { None } else { self.lookup(&dst, now_ns) };
        match out {
            Some(p) if p == in_port => {
                self.counters.filtered += 1;
                Forward::Filter
            }
            Some(p) => {
                self.counters.forwarded += 1;
                Forward::Port(p)
            }
            None => {
                self.counters.flooded += 1;
                Forward::Flood
            }
        }
    }

    /// Live entries as `(address, port, last seen)`, in address order.
    pub(crate) fn entries(&self, now_ns: u64) -> Vec<(Mac, usize, u64)> {
        self.table.iter().filter(|(_, e)| !self.expired(e, now_ns)).map(|(m, e)| (*m, e.port, e.last_seen_ns)).collect()
    }
}
