//! The simulator binding (feature `std`): [`Platform`] for `hal-sim`, and running scenario
//! files by path and seed.

use crate::runner::{self, Outcome, PlatformFactory};
use crate::scn;
use crate::world::Platform;
use hal_sim::{SimConfig, SimHal};
use std::format;
use std::string::String;
use std::vec::Vec;

impl Platform for SimHal {
    fn idle_until(&self, t: u64) {
        self.advance_to(t);
    }
    fn charge(&self, ns: u64) {
        self.advance(ns);
    }
    fn take_console(&self) -> Vec<u8> {
        SimHal::take_console(self)
    }
}

/// Makes simulated machines; host `i` of a run with seed `s` draws from seed
/// `s + i·φ` so hosts do not share a random stream.
pub struct SimFactory {
    /// The run's seed.
    pub seed: u64,
}

impl PlatformFactory for SimFactory {
    type P = SimHal;
    fn make(&self, index: usize, ram: u64) -> SimHal {
        let seed = self.seed.wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        SimHal::new(SimConfig { seed, ram_bytes: ram, cpus: 1 })
    }
    fn make_pmem(&self, index: usize, ram: u64, pmem: u64) -> Result<SimHal, String> {
        let mut m = self.make(index, ram);
        if pmem > 0 {
            m.add_pmem(hal_sim::PmemImage::new(hal_sim::PMEM_BASE, pmem)).map_err(|e| format!("pmem does not fit the machine: {e:?}"))?;
        }
        Ok(m)
    }
    fn reboot(&self, index: usize, boot: u32, ram: u64, old: &SimHal) -> Result<SimHal, String> {
        // Each boot draws its own entropy, still from the run's seed.
        let seed = self.seed.wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_add((boot as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9));
        Ok(old.reboot(SimConfig { seed, ram_bytes: ram, cpus: 1 }))
    }
}

/// A scenario that could not even be parsed.
#[derive(Debug)]
pub struct ParseFailure {
    /// `path:line:col: error: …` with the line and a caret.
    pub rendered: String,
}

/// Parses `src` (from `path`) and runs it with `seed`.
pub fn run_source(path: &str, src: &str, seed: u64, tracing: bool) -> Result<Outcome, ParseFailure> {
    let scn = scn::parse(src).map_err(|d| ParseFailure { rendered: d.render(path, src) })?;
    Ok(runner::run(&scn, SimFactory { seed }, tracing))
}

/// Moves `k`'s virtual clock `ns` forward, firing every kernel timer (tasks' and the
/// network's) at its deadline on the way, as an idle simulated machine would.
pub fn run_timers_for(k: &mut kernel::Kernel<SimHal>, ns: u64) {
    use kernel::hal::Clock;
    let end = k.hal.now_ns().saturating_add(ns);
    while let Some(t) = k.next_timer().filter(|&t| t <= end) {
        k.hal.advance_to(t);
        k.run_timers();
    }
    k.hal.advance_to(end);
}
