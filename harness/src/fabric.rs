//! The wire between a world's hosts: what a platform offers to carry Ethernet frames from
//! one host's NIC to another's (the simulator's links and switches; bare metal has none).
//!
//! Scenarios build the topology (`switch`, `link`); the world moves every frame a NIC
//! transmitted onto the fabric at the virtual time it was sent and hands each arrival to
//! the receiving kernel at its due time, so several hosts share one clock.

use alloc::string::String;
use alloc::vec::Vec;

/// One end of a link as a scenario names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// NIC `nic` of host number `host`.
    Nic {
        /// The host's index in the world.
        host: usize,
        /// The NIC number (`eth<nic>`).
        nic: u32,
    },
    /// A switch, by name.
    Switch(String),
}

/// A link's settings as a scenario writes them (`delay=`, `rate=`, `faults="…"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkOpts {
    /// One-way propagation delay (`None`: the platform's default).
    pub delay_ns: Option<u64>,
    /// Bit rate of each direction (`None`: an infinitely fast wire).
    pub rate_bps: Option<u64>,
    /// The fault plan of both directions, in the platform's text form.
    pub faults: String,
}

/// A frame that reached a NIC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// The receiving host's index.
    pub host: usize,
    /// The receiving NIC.
    pub nic: u32,
    /// The frame as it arrived.
    pub frame: Vec<u8>,
}

/// A platform's network between hosts.
pub trait Fabric {
    /// Adds a learning switch called `name`.
    fn add_switch(&mut self, name: &str) -> Result<(), String>;
    /// Joins `a` and `b` with a link named `name` (for capture files); `Err` says why not.
    fn connect(&mut self, name: &str, a: &End, b: &End, opts: &LinkOpts) -> Result<(), String>;
    /// NIC `nic` of host `host` sent `frame` at virtual time `now_ns`.
    fn transmit(&mut self, host: usize, nic: u32, frame: Vec<u8>, now_ns: u64);
    /// The earliest time something is due on the wire.
    fn next_deadline(&self) -> Option<u64>;
    /// Every frame arriving at or before `now_ns`, in arrival order.
    fn deliver_due(&mut self, now_ns: u64) -> Vec<Arrival>;
    /// The capture file of every link so far, by link name (empty when not capturing).
    fn captures(&self) -> Vec<(String, Vec<u8>)>;
}
