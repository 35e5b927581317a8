//! The simulated network joining several simulated hosts: NIC ports, learning switches
//! and full-duplex links, in virtual time, with a seeded fault plan per link direction
//! and pcap capture per link.
//!
//! The network keeps no clock of its own. The harness hands it frames with
//! [`Network::transmit`] at the time a host's NIC sends them, asks
//! [`Network::next_deadline`] when something is next due, and takes what has arrived
//! with [`Network::deliver_due`]. Everything inside (links, faults, switch forwarding)
//! is a pure function of the seed and that sequence of calls: one seed, one trace.
//!
//! ```text
//!  host 1 nic 0 ──link──┐
//!                       switch ──link── host 3 nic 0
//!  host 2 nic 0 ──link──┘
//! ```

pub mod faults;
pub mod link;
pub mod pcap;
pub mod switch;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;

use core::fmt;
use std::collections::BTreeMap;

pub use faults::FaultPlan;
pub use link::{Direction, LinkConfig, LinkCounters};
pub use pcap::{read_pcap, PcapWriter};
pub use switch::{Mac, SwitchConfig, SwitchCounters};

use link::{End, Entered, Link, LinkDir};
use switch::{Forward, Switch};

/// Length of an Ethernet header (destination, source, EtherType): the shortest frame.
pub const ETH_HEADER_LEN: usize = 14;
/// Default longest frame: a 64 KiB payload plus the header (enough for GSO-sized frames).
pub const DEFAULT_MAX_FRAME_LEN: usize = 65_535 + ETH_HEADER_LEN;
/// Largest value [`Network::set_max_frame_len`] accepts (the pcap snaplen).
pub const MAX_FRAME_LEN_LIMIT: usize = pcap::PCAP_SNAPLEN as usize;
/// Most frames in flight across the whole network at once (the default and the largest
/// [`Network::set_pending_limit`] takes); more are dropped and counted. This is what
/// stops a broadcast storm in a looped topology.
pub const MAX_PENDING: usize = 1 << 16;
/// Most links one network holds.
pub const MAX_LINKS: usize = 1 << 16;

/// A NIC's attachment point, as returned by [`Network::add_nic`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortId(pub u32);

/// A switch, as returned by [`Network::add_switch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SwitchId(pub u32);

/// A link, as returned by [`Network::connect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u32);

/// One end of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// A host's NIC; it takes at most one link.
    Nic(PortId),
    /// A switch; each link gives it one more port.
    Switch(SwitchId),
}

impl From<PortId> for Endpoint {
    fn from(p: PortId) -> Self {
        Endpoint::Nic(p)
    }
}

impl From<SwitchId> for Endpoint {
    fn from(s: SwitchId) -> Self {
        Endpoint::Switch(s)
    }
}

/// A frame arriving at a host's NIC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The receiving port.
    pub port: PortId,
    /// The host that port belongs to.
    pub host: u32,
    /// The NIC number on that host.
    pub nic: u32,
    /// The frame as it arrived (possibly corrupted by a fault).
    pub frame: Vec<u8>,
    /// Virtual time of arrival.
    pub at_ns: u64,
}

/// Why building the topology failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    /// No such port.
    NoSuchPort(PortId),
    /// No such switch.
    NoSuchSwitch(SwitchId),
    /// No such link.
    NoSuchLink(LinkId),
    /// The NIC port already has its link.
    PortBusy(PortId),
    /// Both ends are the same endpoint.
    SelfLink,
    /// The switch has [`switch::MAX_SWITCH_PORTS`] ports already.
    SwitchFull(SwitchId),
    /// The network has [`MAX_LINKS`] links already.
    TooManyLinks,
    /// A setting outside its limits; the text says which.
    BadConfig(String),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::NoSuchPort(p) => write!(f, "no port {}", p.0),
            NetError::NoSuchSwitch(s) => write!(f, "no switch {}", s.0),
            NetError::NoSuchLink(l) => write!(f, "no link {}", l.0),
            NetError::PortBusy(p) => write!(f, "port {} already has a link", p.0),
            NetError::SelfLink => write!(f, "a link needs two different endpoints"),
            NetError::SwitchFull(s) => write!(f, "switch {} has no free port", s.0),
            NetError::TooManyLinks => write!(f, "the network has {MAX_LINKS} links already"),
            NetError::BadConfig(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for NetError {}

/// Frames the network refused at [`Network::transmit`], before any link saw them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetCounters {
    /// Calls to `transmit`.
    pub transmitted: u64,
    /// Frames shorter than an Ethernet header.
    pub runts: u64,
    /// Frames longer than the configured maximum.
    pub giants: u64,
    /// Frames from an unknown port or one with no link.
    pub unconnected: u64,
    /// Copies not scheduled anywhere because the pending limit was reached.
    pub overflow: u64,
}

#[derive(Clone, Debug)]
struct Port {
    host: u32,
    nic: u32,
    /// The link and the direction frames from this port take on it.
    link: Option<(LinkId, Direction)>,
}

/// Something due at a point of virtual time.
#[derive(Clone, Debug)]
enum Event {
    /// A copy reaches the far end of `link` in direction `dir`.
    Arrive { link: LinkId, dir: Direction, frame: Vec<u8> },
    /// A switch, its latency over, puts a frame onto `link` in direction `dir`.
    SwitchOut { link: LinkId, dir: Direction, frame: Vec<u8> },
}

/// The whole simulated network. See the module documentation.
#[derive(Clone, Debug)]
pub struct Network {
    seed: u64,
    ports: Vec<Port>,
    /// (host, nic) to port, so asking for a NIC twice finds its port.
    nic_index: BTreeMap<(u32, u32), PortId>,
    switches: Vec<Switch>,
    /// Per switch, its ports: the link and the direction leaving the switch on it.
    switch_ports: Vec<Vec<(LinkId, Direction)>>,
    links: Vec<Link>,
    /// Keyed by (due time, sequence number): ties leave in the order they were scheduled.
    pending: BTreeMap<(u64, u64), Event>,
    next_seq: u64,
    pending_limit: usize,
    max_frame_len: usize,
    counters: NetCounters,
}

impl Network {
    /// An empty network whose every random choice derives from `seed`.
    pub fn new(seed: u64) -> Network {
        Network {
            seed,
            ports: Vec::new(),
            nic_index: BTreeMap::new(),
            switches: Vec::new(),
            switch_ports: Vec::new(),
            links: Vec::new(),
            pending: BTreeMap::new(),
            next_seq: 0,
            pending_limit: MAX_PENDING,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            counters: NetCounters::default(),
        }
    }

    /// The seed the network was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The attachment point of `host`'s NIC number `nic`; asking twice gives the same port.
    pub fn add_nic(&mut self, host: u32, nic: u32) -> PortId {
        if let Some(&p) = self.nic_index.get(&(host, nic)) {
            return p;
        }
        let id = PortId(self.ports.len() as u32);
        self.ports.push(Port { host, nic, link: None });
        self.nic_index.insert((host, nic), id);
        id
    }

    /// A learning switch with default settings; `name` is for traces.
    pub fn add_switch(&mut self, name: &str) -> SwitchId {
        self.switches.push(Switch::new(name.to_string(), SwitchConfig::default()));
        self.switch_ports.push(Vec::new());
        SwitchId((self.switches.len() - 1) as u32)
    }

    /// A learning switch with `cfg`, which must pass [`SwitchConfig::validate`].
    pub fn add_switch_with(&mut self, name: &str, cfg: SwitchConfig) -> Result<SwitchId, NetError> {
        cfg.validate().map_err(NetError::BadConfig)?;
        let id = self.add_switch(name);
        self.switches[id.0 as usize].cfg = cfg;
        Ok(id)
    }

    /// Joins `a` and `b` with a link. A NIC takes one link; a switch takes up to
    /// [`switch::MAX_SWITCH_PORTS`].
    pub fn connect(&mut self, a: Endpoint, b: Endpoint, cfg: LinkConfig) -> Result<LinkId, NetError> {
        cfg.validate().map_err(NetError::BadConfig)?;
        if a == b {
            return Err(NetError::SelfLink);
        }
        if self.links.len() >= MAX_LINKS {
            return Err(NetError::TooManyLinks);
        }
        for end in [a, b] {
            match end {
                Endpoint::Nic(p) => match self.ports.get(p.0 as usize) {
                    None => return Err(NetError::NoSuchPort(p)),
                    Some(port) if port.link.is_some() => return Err(NetError::PortBusy(p)),
                    Some(_) => {}
                },
                Endpoint::Switch(s) => match self.switch_ports.get(s.0 as usize) {
                    None => return Err(NetError::NoSuchSwitch(s)),
                    Some(ports) if ports.len() >= switch::MAX_SWITCH_PORTS => return Err(NetError::SwitchFull(s)),
                    Some(_) => {}
                },
            }
        }
        let id = LinkId(self.links.len() as u32);
        let mut ends = [End::Nic(0); 2];
        for (side, end) in [a, b].into_iter().enumerate() {
            // Frames leaving side 0 travel AToB.
            let out = if side == 0 { Direction::AToB } else { Direction::BToA };
            ends[side] = match end {
                Endpoint::Nic(p) => {
                    self.ports[p.0 as usize].link = Some((id, out));
                    End::Nic(p.0)
                }
                Endpoint::Switch(s) => {
                    let ports = &mut self.switch_ports[s.0 as usize];
                    ports.push((id, out));
                    End::Switch(s.0, ports.len() - 1)
                }
            };
        }
        let dirs = Direction::BOTH.map(|d| LinkDir::new(self.seed, id.0, d, cfg.plan(d)));
        self.links.push(Link { ends, cfg, dirs, capture: None });
        Ok(id)
    }

    /// Replaces the fault plan of one direction from now on (a partition, a heal).
    pub fn set_fault_plan(&mut self, link: LinkId, dir: Direction, plan: FaultPlan) -> Result<(), NetError> {
        plan.validate().map_err(NetError::BadConfig)?;
        let l = self.links.get_mut(link.0 as usize).ok_or(NetError::NoSuchLink(link))?;
        match dir {
            Direction::AToB => l.cfg.a_to_b = plan,
            Direction::BToA => l.cfg.b_to_a = plan,
        }
        l.dirs[dir.index()].plan = plan;
        Ok(())
    }

    /// Sets the longest frame [`Network::transmit`] accepts, in `ETH_HEADER_LEN..=MAX_FRAME_LEN_LIMIT`.
    pub fn set_max_frame_len(&mut self, len: usize) -> Result<(), NetError> {
        if !(ETH_HEADER_LEN..=MAX_FRAME_LEN_LIMIT).contains(&len) {
            return Err(NetError::BadConfig(format!("max frame length {len} is outside {ETH_HEADER_LEN}..={MAX_FRAME_LEN_LIMIT}")));
        }
        self.max_frame_len = len;
        Ok(())
    }

    /// Sets how many frames may be in flight at once, in `1..=MAX_PENDING`.
    pub fn set_pending_limit(&mut self, limit: usize) -> Result<(), NetError> {
        if !(1..=MAX_PENDING).contains(&limit) {
            return Err(NetError::BadConfig(format!("pending limit {limit} is outside 1..={MAX_PENDING}")));
        }
        self.pending_limit = limit;
        Ok(())
    }

    /// Starts capturing every frame that goes onto `link`, both directions in one file.
    ///
    /// The capture point is the sending end of the wire: a frame is recorded when it
    /// enters the link, after the transmit queue admitted it and after any corruption
    /// (what is on the wire), with the virtual time it entered. So tail-dropped frames
    /// are absent, frames the fault plan then loses in transit are present, a
    /// duplicated frame appears once, and delay, jitter and reordering are not visible.
    pub fn capture(&mut self, link: LinkId) -> Result<(), NetError> {
        let l = self.links.get_mut(link.0 as usize).ok_or(NetError::NoSuchLink(link))?;
        l.capture.get_or_insert_with(PcapWriter::new);
        Ok(())
    }

    /// The capture file of `link` so far, if [`Network::capture`] was called for it.
    pub fn pcap_bytes(&self, link: LinkId) -> Option<Vec<u8>> {
        Some(self.links.get(link.0 as usize)?.capture.as_ref()?.bytes().to_vec())
    }

    /// Puts `frame` from the NIC at `from` onto its link at virtual time `now_ns`.
    /// Runts, giants and frames from ports without a link are dropped and counted in
    /// [`Network::counters`]. `now_ns` should not be earlier than the last
    /// [`Network::deliver_due`] time; if it is, the frame still arrives (at the next call)
    /// with the time computed from `now_ns`.
    pub fn transmit(&mut self, from: PortId, frame: Vec<u8>, now_ns: u64) {
        self.counters.transmitted += 1;
        if frame.len() < ETH_HEADER_LEN {
            self.counters.runts += 1;
            return;
        }
        if frame.len() > self.max_frame_len {
            self.counters.giants += 1;
            return;
        }
        match self.ports.get(from.0 as usize).and_then(|p| p.link) {
            Some((link, dir)) => self.enter_link(link, dir, frame, now_ns),
            None => self.counters.unconnected += 1,
        }
    }

    /// The earliest time something is due. At such a time only a switch may have work
    /// to do, in which case [`Network::deliver_due`] returns nothing for it.
    pub fn next_deadline(&self) -> Option<u64> {
        self.pending.keys().next().map(|&(t, _)| t)
    }

    /// Every frame arriving at a NIC at or before `now_ns`, by arrival time, then by the
    /// order the network scheduled them. Switch forwarding due by then happens on the way.
    pub fn deliver_due(&mut self, now_ns: u64) -> Vec<Delivery> {
        let mut out = Vec::new();
        // Terminates: a NIC arrival schedules nothing, and every frame a switch sends on
        // is due at least its latency (>= 1 ns) later, so time moves towards now_ns.
        while let Some(entry) = self.pending.first_entry() {
            let (at_ns, _) = *entry.key();
            if at_ns > now_ns {
                break;
            }
            match entry.remove() {
                Event::Arrive { link, dir, frame } => self.arrive(link, dir, frame, at_ns, &mut out),
                Event::SwitchOut { link, dir, frame } => self.enter_link(link, dir, frame, at_ns),
            }
        }
        out
    }

    /// Frames and copies currently scheduled (on links or inside switches).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Network-wide refusal counters.
    pub fn counters(&self) -> NetCounters {
        self.counters
    }

    /// Counters of one direction of a link.
    pub fn link_counters(&self, link: LinkId, dir: Direction) -> Option<LinkCounters> {
        Some(self.links.get(link.0 as usize)?.dirs[dir.index()].counters)
    }

    /// Copies on one direction of a link that have not arrived yet.
    pub fn in_flight(&self, link: LinkId, dir: Direction) -> Option<u64> {
        Some(self.links.get(link.0 as usize)?.dirs[dir.index()].in_flight)
    }

    /// The settings of a link, with its current fault plans.
    pub fn link_config(&self, link: LinkId) -> Option<LinkConfig> {
        Some(self.links.get(link.0 as usize)?.cfg)
    }

    /// Number of links.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// The link of a NIC port, if connected.
    pub fn port_link(&self, port: PortId) -> Option<LinkId> {
        Some(self.ports.get(port.0 as usize)?.link?.0)
    }

    /// Counters of a switch.
    pub fn switch_counters(&self, sw: SwitchId) -> Option<SwitchCounters> {
        Some(self.switches.get(sw.0 as usize)?.counters)
    }

    /// The name a switch was given.
    pub fn switch_name(&self, sw: SwitchId) -> Option<&str> {
        Some(&self.switches.get(sw.0 as usize)?.name)
    }

    /// A switch's learned addresses still alive at `now_ns`, as (address, link it was
    /// learned on, last seen), in address order.
    pub fn mac_table(&self, sw: SwitchId, now_ns: u64) -> Option<Vec<(Mac, LinkId, u64)>> {
        let s = self.switches.get(sw.0 as usize)?;
        let ports = &self.switch_ports[sw.0 as usize];
        Some(s.entries(now_ns).into_iter().map(|(mac, port, seen)| (mac, ports[port].0, seen)).collect())
    }

    fn schedule(&mut self, at_ns: u64, event: Event) -> bool {
        if self.pending.len() >= self.pending_limit {
            self.counters.overflow += 1;
            return false;
        }
        self.pending.insert((at_ns, self.next_seq), event);
        self.next_seq += 1;
        true
    }

    fn enter_link(&mut self, link: LinkId, dir: Direction, mut frame: Vec<u8>, now_ns: u64) {
        let Some(l) = self.links.get_mut(link.0 as usize) else { return };
        let d = dir.index();
        let entered = l.dirs[d].enter(&mut frame, now_ns, &l.cfg);
        if entered != Entered::TailDrop {
            if let Some(cap) = &mut l.capture {
                cap.record(now_ns, &frame);
            }
        }
        let Entered::Sent(arrivals) = entered else { return };
        let copies = arrivals.iter().flatten().count();
        for (i, at) in arrivals.into_iter().flatten().enumerate() {
            let copy = if i + 1 == copies { std::mem::take(&mut frame) } else { frame.clone() };
            let scheduled = self.schedule(at, Event::Arrive { link, dir, frame: copy });
            let counters = &mut self.links[link.0 as usize].dirs[d];
            if scheduled {
                counters.in_flight += 1;
            } else {
                counters.counters.dropped += 1;
            }
        }
    }

    fn arrive(&mut self, link: LinkId, dir: Direction, frame: Vec<u8>, at_ns: u64, out: &mut Vec<Delivery>) {
        let l = &mut self.links[link.0 as usize];
        let ld = &mut l.dirs[dir.index()];
        debug_assert!(ld.in_flight > 0);
        ld.in_flight = ld.in_flight.saturating_sub(1);
        ld.counters.delivered += 1;
        // The receiving end is the one frames travelling the other way leave from.
        match l.ends[dir.reverse().index()] {
            End::Nic(p) => {
                let port = &self.ports[p as usize];
                out.push(Delivery { port: PortId(p), host: port.host, nic: port.nic, frame, at_ns });
            }
            End::Switch(s, in_port) => self.switch_frame(s as usize, in_port, frame, at_ns),
        }
    }

    fn switch_frame(&mut self, s: usize, in_port: usize, frame: Vec<u8>, at_ns: u64) {
        let sw = &mut self.switches[s];
        let leave_ns = at_ns.saturating_add(sw.cfg.latency_ns);
        let targets: Vec<(LinkId, Direction)> = match sw.decide(&frame, in_port, at_ns) {
            Forward::Filter => return,
            Forward::Port(p) => vec![self.switch_ports[s][p]],
            Forward::Flood => {
                self.switch_ports[s].iter().enumerate().filter(|&(p, _)| p != in_port).map(|(_, &t)| t).collect()
            }
        };
        let mut frame = Some(frame);
        let last = targets.len().saturating_sub(1);
        for (i, (link, dir)) in targets.into_iter().enumerate() {
            // The last copy takes the frame itself: a unicast forward copies nothing.
            let copy = if i == last { frame.take().unwrap_or_default() } else { frame.clone().unwrap_or_default() };
            if !self.schedule(leave_ns, Event::SwitchOut { link, dir, frame: copy }) {
                self.switches[s].counters.overflow += 1;
            }
        }
    }
}
