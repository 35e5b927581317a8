//! The simulator's [`Fabric`]: hal-sim's links and learning switches, with seeded fault
//! plans and (when asked) a pcap capture of every link.

use crate::fabric::{Arrival, End, Fabric, LinkOpts};
use hal_sim::net::{Endpoint, FaultPlan, LinkConfig, LinkId, Network, SwitchId};
use std::collections::BTreeMap;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

/// Frames a rate-limited link queues per direction (a NIC's `txqueuelen`).
const LINK_QUEUE: usize = 1000;

/// hal-sim's network as a world's wire.
pub struct SimFabric {
    net: Network,
    switches: BTreeMap<String, SwitchId>,
    links: Vec<(String, LinkId)>,
    capture: bool,
}

impl SimFabric {
    /// An empty network drawing its fault decisions from `seed`; `capture` records every
    /// link to a pcap file.
    pub fn new(seed: u64, capture: bool) -> SimFabric {
        SimFabric { net: Network::new(seed), switches: BTreeMap::new(), links: Vec::new(), capture }
    }

    fn endpoint(&mut self, e: &End) -> Result<Endpoint, String> {
        match e {
            End::Nic { host, nic } => Ok(Endpoint::Nic(self.net.add_nic(*host as u32, *nic))),
            End::Switch(name) => self.switches.get(name).map(|&s| Endpoint::Switch(s)).ok_or_else(|| format!("no switch named '{name}'")),
        }
    }
}

impl Fabric for SimFabric {
    fn add_switch(&mut self, name: &str) -> Result<(), String> {
        if self.switches.contains_key(name) {
            return Err(format!("switch '{name}' exists already"));
        }
        let id = self.net.add_switch(name);
        self.switches.insert(name.to_string(), id);
        Ok(())
    }

    fn connect(&mut self, name: &str, a: &End, b: &End, opts: &LinkOpts) -> Result<(), String> {
        let mut cfg = LinkConfig::default().with_faults(FaultPlan::parse(&opts.faults)?);
        if let Some(d) = opts.delay_ns {
            cfg = cfg.with_delay(d);
        }
        if let Some(r) = opts.rate_bps {
            cfg = cfg.with_rate(r, LINK_QUEUE);
        }
        let (ea, eb) = (self.endpoint(a)?, self.endpoint(b)?);
        let id = self.net.connect(ea, eb, cfg).map_err(|e| format!("link {name}: {e}"))?;
        if self.capture {
            self.net.capture(id).map_err(|e| e.to_string())?;
        }
        self.links.push((name.to_string(), id));
        Ok(())
    }

    fn transmit(&mut self, host: usize, nic: u32, frame: Vec<u8>, now_ns: u64) {
        let port = self.net.add_nic(host as u32, nic);
        self.net.transmit(port, frame, now_ns);
    }

    fn next_deadline(&self) -> Option<u64> {
        self.net.next_deadline()
    }

    fn deliver_due(&mut self, now_ns: u64) -> Vec<Arrival> {
        self.net.deliver_due(now_ns).into_iter().map(|d| Arrival { host: d.host as usize, nic: d.nic, frame: d.frame }).collect()
    }

    fn captures(&self) -> Vec<(String, Vec<u8>)> {
        self.links.iter().filter_map(|(n, id)| Some((n.clone(), self.net.pcap_bytes(*id)?))).collect()
    }
}
