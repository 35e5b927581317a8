//! `cargo harness qemu x86`: build the bare-metal image, hand it the scenarios as a PVH
//! module, boot it under QEMU, and hold every verdict and trace hash against the
//! simulator's for the same seed (a fixed one, or one the guest drew with RDSEED/RDRAND).

use crate::scn::{self, StmtKind};
use crate::sim::run_source;
use std::format;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::string::{String, ToString};
use std::vec::Vec;

/// Host RAM the x86 image can give scenario hosts (hal-x86/src/layout.rs: 128..448 MiB).
pub const METAL_HOST_RAM: u64 = 320 << 20;
/// Memory QEMU gives the guest (hal-x86 checks its layout fits).
pub const GUEST_MEMORY: &str = "512M";

/// The QEMU command line the harness uses, without the `-initrd` bundle.
pub fn qemu_args(elf: &Path) -> Vec<String> {
    [
        "-M", "q35", "-cpu", "max", "-m", GUEST_MEMORY, "-display", "none", "-serial", "stdio", "-no-reboot", "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel",
    ]
    .iter()
    .map(|s| String::from(*s))
    .chain([elf.display().to_string()])
    .collect()
}

/// Why a scenario cannot run in the image, if it cannot.
pub fn not_embeddable(src: &str) -> Option<String> {
    let s = scn::parse(src).ok()?;
    let mut ram = 0;
    let mut hosts = 0;
    for st in &s.stmts {
        match st.kind {
            StmtKind::Host { ram: r, pmem, nics, .. } => {
                if pmem > 0 {
                    return Some(String::from("a host has persistent memory (pmem=); the image's QEMU machine has none"));
                }
                if nics > 0 {
                    return Some(String::from("a host has simulated NICs (nics=); the image's NIC is a real virtio-net"));
                }
                ram += r;
                hosts += 1;
            }
            StmtKind::Reboot { .. } => return Some(String::from("it reboots a host, which the image cannot do")),
            StmtKind::Switch { .. } | StmtKind::Link { .. } => return Some(String::from("it builds a simulated network (switch, link)")),
            _ => {}
        }
    }
    if hosts == 0 {
        ram = 64 << 20;
    }
    (ram > METAL_HOST_RAM).then(|| format!("its hosts need {} MiB of RAM; the image has {} MiB for hosts", ram >> 20, METAL_HOST_RAM >> 20))
}

/// The seed of a `cargo harness qemu` run: `--seed N`, or `--seed random` for one the
/// guest draws with RDSEED (RDRAND when absent) and reports back on its serial line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    /// Every scenario runs with this seed.
    Fixed(u64),
    /// The image draws the seed (bundle line `seed rdrand`) and prints `seed: N (from …)`.
    Cpu,
}

impl core::str::FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Seed, String> {
        if s == "random" {
            return Ok(Seed::Cpu);
        }
        s.parse().map(Seed::Fixed).map_err(|_| format!("`{s}` is neither a number nor `random`"))
    }
}

impl core::fmt::Display for Seed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Seed::Fixed(n) => write!(f, "{n}"),
            Seed::Cpu => f.write_str("random"),
        }
    }
}

/// The seed the image drew for a `seed rdrand` bundle, from its `seed: N (from RDSEED)`
/// line, with the instruction it came from.
pub fn drawn_seed(serial: &str) -> Option<(u64, String)> {
    serial.lines().find_map(|l| {
        let rest = l.strip_prefix("seed: ")?;
        let (n, from) = rest.split_once(' ')?;
        let src = from.strip_prefix("(from ")?.strip_suffix(')')?;
        Some((n.parse().ok()?, String::from(src)))
    })
}

/// The bundle the image reads at boot (format: hal-x86/src/bundle.rs).
pub fn bundle(scenarios: &[(String, String)], seed: Seed, trace: bool) -> Vec<u8> {
    let seed_word = match seed {
        Seed::Fixed(n) => n.to_string(),
        Seed::Cpu => String::from("rdrand"),
    };
    let mut b = format!("k43-bundle 1\nseed {seed_word}\ntrace {}\n", trace as u8).into_bytes();
    for (path, src) in scenarios {
        b.extend_from_slice(format!("scenario {path} {}\n", src.len()).as_bytes());
        b.extend_from_slice(src.as_bytes());
        b.push(b'\n');
    }
    b
}

/// Builds the image with hal-x86/build.sh; its ELF path.
pub fn build_image(root: &Path) -> Result<PathBuf, String> {
    if !Path::new("/usr/bin/rustc").exists() {
        return Err(String::from("the image needs Debian's rustc-web, cargo-web and rust-web-src (apt-get install rustc-web cargo-web rust-web-src)"));
    }
    let out = Command::new(root.join("hal-x86/build.sh")).output().map_err(|e| format!("hal-x86/build.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("building the image failed:\n{}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// How a boot ended.
pub struct Boot {
    /// QEMU's exit status (33 = the image's pass; 124 = killed by the timeout).
    pub status: i32,
    /// Everything the guest wrote to COM1.
    pub serial: String,
}

/// Boots `elf` with `bundle` under `timeout` seconds (coreutils' timeout kills a hung guest).
pub fn boot(elf: &Path, bundle_path: &Path, timeout_s: u64) -> Result<Boot, String> {
    let out = Command::new("timeout")
        .arg("--signal=KILL")
        .arg(format!("{timeout_s}"))
        .arg("qemu-system-x86_64")
        .args(qemu_args(elf))
        .arg("-initrd")
        .arg(bundle_path)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e} (apt-get install qemu-system-x86)"))?;
    Ok(Boot { status: out.status.code().unwrap_or(137), serial: String::from_utf8_lossy(&out.stdout).into_owned() })
}

/// One scenario's verdict on the metal next to the simulator's.
pub struct Compared {
    /// Scenario path.
    pub path: String,
    /// `PASS`/`FAIL` on the metal, and its trace hash; `None` if the image never reported it.
    pub metal: Option<(bool, String)>,
    /// The simulator's verdict and hash for the same seed.
    pub sim: (bool, String),
}

/// Pairs the image's `PASS|FAIL path seed=N trace-hash=H` lines with simulator runs.
pub fn compare(scenarios: &[(String, String)], serial: &str, seed: u64) -> Vec<Compared> {
    scenarios
        .iter()
        .map(|(path, src)| {
            let metal = serial.lines().find_map(|l| {
                let (verdict, rest) = l.split_once(' ')?;
                let mut w = rest.split(' ');
                if w.next()? != path {
                    return None;
                }
                // The line must carry this run's seed (the one the guest drew, for
                // `--seed random`); a line with another seed counts as never reported.
                if w.next()?.strip_prefix("seed=")?.parse::<u64>().ok()? != seed {
                    return None;
                }
                let hash = w.next()?.strip_prefix("trace-hash=")?;
                matches!(verdict, "PASS" | "FAIL").then(|| (verdict == "PASS", String::from(hash)))
            });
            let sim = match run_source(path, src, seed, true) {
                Ok(o) => (o.failure.is_none(), o.trace.hash_hex()),
                Err(_) => (false, String::from("parse-error")),
            };
            Compared { path: path.clone(), metal, sim }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_argument_and_bundle_line() {
        assert_eq!("7".parse::<Seed>(), Ok(Seed::Fixed(7)));
        assert_eq!("random".parse::<Seed>(), Ok(Seed::Cpu));
        assert!("rdrand".parse::<Seed>().is_err());
        assert!(bundle(&[], Seed::Fixed(7), false).starts_with(b"k43-bundle 1\nseed 7\n"));
        assert!(bundle(&[], Seed::Cpu, false).starts_with(b"k43-bundle 1\nseed rdrand\n"));
    }

    #[test]
    fn drawn_seed_from_serial() {
        let serial = "bundle: 1 scenarios, seed 1\nseed: 42 (from RDRAND)\nPASS x seed=42 trace-hash=ab\n";
        assert_eq!(drawn_seed(serial), Some((42, String::from("RDRAND"))));
        assert_eq!(drawn_seed("seed: x (from RDSEED)\n"), None);
    }
}
