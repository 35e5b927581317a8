//! The simulator binding (feature `std`): [`Platform`] for `hal-sim`, and running scenario
//! files by path and seed.

use crate::fabric::Fabric;
use crate::runner::{self, Outcome, PlatformFactory};
use crate::sim_net::SimFabric;
use std::boxed::Box;
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
    fn take_frames(&self) -> Vec<(u32, Vec<u8>)> {
        (0..self.nics.count()).flat_map(|n| self.nics.take_transmitted(n).into_iter().map(move |f| (n, f))).collect()
    }
    fn frames_pending(&self) -> bool {
        (0..self.nics.count()).any(|n| self.nics.has_transmitted(n))
    }
    fn disk_deadline(&self) -> Option<u64> {
        SimHal::disk_deadline(self)
    }
    fn disk_completions(&self) -> Vec<(u32, kernel::hal::BlkCompletion)> {
        SimHal::disk_completions(self)
    }
}

/// Makes simulated machines; host `i` of a run with seed `s` draws from seed
/// `s + i·φ` so hosts do not share a random stream.
pub struct SimFactory {
    /// The run's seed.
    pub seed: u64,
    /// Record every link of the scenario's network to a pcap file.
    pub capture: bool,
    /// The scenario's directory: `disk image=` files are found there.
    pub dir: Option<std::path::PathBuf>,
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
    fn make_nics(&self, index: usize, ram: u64, pmem: u64, nics: u32) -> Result<SimHal, String> {
        let m = self.make_pmem(index, ram, pmem)?;
        for n in 0..nics {
            m.nics.add(nic_mac(index, n));
        }
        Ok(m)
    }
    fn reboot(&self, index: usize, boot: u32, ram: u64, old: &SimHal) -> Result<SimHal, String> {
        // Each boot draws its own entropy, still from the run's seed.
        let seed = self.seed.wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_add((boot as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9));
        let m = old.reboot(SimConfig { seed, ram_bytes: ram, cpus: 1 });
        // The NICs are hardware: they survive the power cycle (their queues do not).
        for n in 0..old.nics.count() {
            if let Some(mac) = old.nics.mac(n) {
                m.nics.add(mac);
            }
        }
        // So do the disks, minus what their volatile caches held.
        for mut d in old.disks.take() {
            d.crash(hal_sim::disk::Crash::Drop);
            m.attach_disk(d);
        }
        Ok(m)
    }
    fn attach_disk(&self, p: &SimHal, spec: &runner::DiskSpec) -> Result<(), String> {
        let index = p.disks.borrow().len() as u64;
        let seed = self.seed ^ 0x6469_736b_0000_0000 ^ index;
        let mut d = match &spec.image {
            Some(f) => {
                let path = self.dir.as_ref().map_or_else(|| std::path::PathBuf::from(f), |d| d.join(f));
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let bytes = if f.ends_with(".gz") { crate::sim_disk::gunzip(&bytes).map_err(|e| format!("{}: {e}", path.display()))? } else { bytes };
                hal_sim::disk::SimDisk::from_image(bytes, seed)
            }
            None => hal_sim::disk::SimDisk::new(spec.size_mib << 11, seed),
        };
        d.faults = crate::sim_disk::parse_faults(&spec.faults)?;
        for (k, v) in &spec.opts {
            let v32 = u32::try_from(*v).map_err(|_| format!("{k}={v} does not fit 32 bits"))?;
            match k.as_str() {
                "discard_max_hw" => d.max_discard_sectors = v32 >> 9,
                "discard_granularity" => d.discard_granularity = v32,
                "max_hw_sectors" => d.max_hw_sectors = v32.max(8),
                _ => return Err(format!("unknown disk option '{k}'")),
            }
        }
        p.attach_disk(d);
        Ok(())
    }
    fn crash_disks(&self, p: &SimHal, tear: bool) -> Result<(), String> {
        let how = if tear { hal_sim::disk::Crash::Tear } else { hal_sim::disk::Crash::Drop };
        for d in p.disks.borrow_mut().iter_mut() {
            d.crash(how);
        }
        Ok(())
    }
    fn disk_discards(&self, p: &SimHal, disk: u32) -> Result<Vec<(u64, u64)>, String> {
        p.disks.borrow().get(disk as usize).map(|d| d.discards.clone()).ok_or_else(|| format!("no simulated disk {disk}"))
    }
    fn fabric(&self) -> Option<Box<dyn Fabric>> {
        // The wire's faults draw from their own stream of the run's seed.
        Some(Box::new(SimFabric::new(self.seed ^ 0x6e65_7477_6f72_6b21, self.capture)))
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
    Ok(runner::run(&scn, SimFactory { seed, capture: false, dir: scenario_dir(path) }, tracing))
}

/// Parses `src` and runs it with `seed`, capturing every link of its network: the outcome
/// and one pcap file per link, by link name.
pub fn run_source_captured(path: &str, src: &str, seed: u64, tracing: bool) -> Result<Outcome, ParseFailure> {
    let scn = scn::parse(src).map_err(|d| ParseFailure { rendered: d.render(path, src) })?;
    Ok(runner::run(&scn, SimFactory { seed, capture: true, dir: scenario_dir(path) }, tracing))
}

/// The directory of the scenario file at `path` (none for a source without a file). A
/// relative path not found from the working directory is taken from the workspace root
/// (tests run in their package's directory).
fn scenario_dir(path: &str) -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(path);
    let p = if p.is_relative() && !p.exists() { std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p) } else { p.to_path_buf() };
    p.parent().map(std::path::Path::to_path_buf)
}

/// The MAC address of NIC `nic` of host number `host`: locally administered
/// `52:54:00:00:HH:NN` (QEMU's prefix), NN counting from 1.
pub fn nic_mac(host: usize, nic: u32) -> [u8; 6] {
    [0x52, 0x54, 0x00, 0x00, host as u8, nic as u8 + 1]
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

/// The frame test ([`crate::frametest`]) in the simulator: the host on a SimHal with
/// `seed`, fed `frames` in order; every frame its NIC transmitted, oldest first.
pub fn frame_test(seed: u64, frames: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    use crate::frametest::{FrameTest, GUEST_MAC, RAM_BYTES};
    let hal = SimHal::new(SimConfig { seed, ram_bytes: RAM_BYTES, cpus: 1 });
    hal.nics.add(GUEST_MAC);
    let mut t = FrameTest::boot(hal)?;
    for f in frames {
        t.receive(f)?;
    }
    t.finish()?;
    Ok(t.kernel.hal.nics.take_transmitted(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frametest::{self, FrameTest, GUEST_MAC, RAM_BYTES};
    use kernel::fs::proc::ProcNode;

    fn frames() -> Vec<Vec<u8>> {
        frametest::frames().into_iter().map(|(_, f)| f).collect()
    }

    /// The simulator's side of the frame test answers as Linux does, the same way every
    /// time for one seed, and differently for another (the IPv6 flow labels and IPv4
    /// idents come from the seeded secrets), so the metal's byte-for-byte match also
    /// checks that the image drew the same secrets.
    #[test]
    fn frame_test_answers_as_linux_and_follows_the_seed() {
        let frames = frames();
        let out = frame_test(1, &frames).unwrap();
        frametest::check_replies(&out).unwrap();
        assert_eq!(out.len(), 22, "12 answers, the link-local DAD probe, the NS for ::3, and the probes of the peer's entries");
        assert_eq!(frame_test(1, &frames).unwrap(), out);
        let other = frame_test(2, &frames).unwrap();
        frametest::check_replies(&other).unwrap();
        assert_eq!(other.iter().map(Vec::len).collect::<Vec<_>>(), out.iter().map(Vec::len).collect::<Vec<_>>());
        assert_ne!(other, out);
        // A reply that is missing or wrong is caught.
        let mut broken = out.clone();
        broken.remove(2);
        assert!(frametest::check_replies(&broken).is_err());
        let mut broken = out.clone();
        let n = broken[3].len();
        broken[3][n - 1] ^= 1;
        assert!(frametest::check_replies(&broken).unwrap_err().contains("checksum"));
    }

    /// The last five frames are dropped without a word on the wire, each counted where
    /// Linux 4.3 counts it.
    #[test]
    fn bad_frames_are_dropped_silently_and_counted() {
        let frames = frames();
        let hal = SimHal::new(SimConfig { seed: 3, ram_bytes: RAM_BYTES, cpus: 1 });
        hal.nics.add(GUEST_MAC);
        let mut t = FrameTest::boot(hal).unwrap();
        let good = frames.len() - 5;
        for f in &frames[..good] {
            t.receive(f).unwrap();
        }
        let before = t.kernel.hal.nics.take_transmitted(0);
        frametest::check_replies(&before).unwrap();
        for f in &frames[good..] {
            t.receive(f).unwrap();
            assert_eq!(t.kernel.hal.nics.take_transmitted(0), Vec::<Vec<u8>>::new());
        }
        assert_eq!(t.echoed, 2);
        let text = String::from_utf8(t.kernel.proc_read(ProcNode::NetSnmp6).unwrap()).unwrap();
        let v6 = |name: &str| text.lines().find_map(|l| l.split_once('\t').filter(|(n, _)| n.trim() == name).map(|(_, v)| v.trim().parse::<u64>().unwrap())).unwrap();
        assert_eq!(v6("Icmp6InCsumErrors"), 1, "{text}");
        assert_eq!(v6("Udp6InCsumErrors"), 1, "a zero UDP checksum is an error in IPv6");
        assert_eq!(v6("Ip6InHdrErrors"), 1, "the packet cut short inside its header");
        assert_eq!(v6("Icmp6InNeighborSolicits"), 3, "the hop-limit-64 NS is counted, then ignored");
        assert_eq!((v6("Icmp6OutNeighborAdvertisements"), v6("Icmp6OutEchoReplies")), (2, 3));
        let snmp = String::from_utf8(t.kernel.proc_read(ProcNode::NetSnmp).unwrap()).unwrap();
        let ip: Vec<Vec<&str>> = snmp.lines().filter(|l| l.starts_with("Ip:")).map(|l| l.split_whitespace().collect()).collect();
        let at = ip[0].iter().position(|n| *n == "InHdrErrors").unwrap();
        assert_eq!(ip[1][at], "1", "the IPv4 header checksum error");
    }
}
