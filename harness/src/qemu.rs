//! `cargo harness qemu x86`: build the bare-metal image, hand it the scenarios as a PVH
//! module, boot it under QEMU, and hold every verdict and trace hash against the
//! simulator's for the same seed (a fixed one, or one the guest drew with RDSEED/RDRAND).

use crate::scn::{self, StmtKind};
use crate::sim::run_source;
use std::format;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::string::{String, ToString};
use std::vec;
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
            StmtKind::Disk { .. } | StmtKind::Crash { .. } => return Some(String::from("it plugs in a simulated disk (disk, crash); the image has no virtio-blk driver")),
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

/// The bundle of a frame-test boot: no scenarios, `frame-test 1` (hal-x86/src/bundle.rs).
pub fn frame_bundle(seed: Seed) -> Vec<u8> {
    let mut b = bundle(&[], seed, false);
    b.extend_from_slice(b"frame-test 1\n");
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

/// A frame-test boot: what the host-side program sent through QEMU and what came back.
pub struct FrameBoot {
    /// How the boot ended.
    pub boot: Boot,
    /// The guest's frames, in the order they arrived, the done marker not included.
    pub received: Vec<Vec<u8>>,
    /// Whether the guest's done marker arrived (after which nothing else may).
    pub done: bool,
    /// Frames that arrived after the done marker.
    pub after_done: usize,
    /// Wall-clock time of the boot.
    pub elapsed: std::time::Duration,
}

/// The QEMU arguments that give the guest a virtio-net NIC with the frame test's MAC on a
/// `dgram` netdev between unix sockets `qemu_sock` (QEMU binds it) and `host_sock` (the
/// program's): one datagram is one Ethernet frame (shared/TOOLCHAIN.md §2). The device is
/// transitional with its modern interface off, so it has only the legacy I/O BAR the
/// image drives, and no option ROM (`romfile=`: the image boots by PVH, not from iPXE).
pub fn frame_netdev_args(qemu_sock: &Path, host_sock: &Path) -> Vec<String> {
    let m = crate::frametest::GUEST_MAC;
    vec![
        String::from("-netdev"),
        format!("dgram,id=n0,local.type=unix,local.path={},remote.type=unix,remote.path={}", qemu_sock.display(), host_sock.display()),
        String::from("-device"),
        format!("virtio-net-pci,netdev=n0,mac={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x},disable-modern=on,romfile=", m[0], m[1], m[2], m[3], m[4], m[5]),
    ]
}

/// Boots `elf` for the frame test and plays the peer: once the guest's ready marker came,
/// sends `frames` and the end marker through QEMU, collects the guest's frames until its
/// done marker, waits for QEMU to exit (killed after `timeout_s`).
pub fn frame_boot(elf: &Path, seed: Seed, frames: &[Vec<u8>], timeout_s: u64) -> Result<FrameBoot, String> {
    use crate::frametest::{is_marker, marker, DONE_PAYLOAD, END_PAYLOAD, PEER_MAC, READY_PAYLOAD};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::io::Read;
    use std::os::unix::net::UnixDatagram;
    use std::time::{Duration, Instant};
    let t0 = Instant::now();
    let dir = std::env::temp_dir().join(format!("k43-frames-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (host_sock, qemu_sock, bundle_path) = (dir.join("host.sock"), dir.join("qemu.sock"), dir.join("bundle.bin"));
    std::fs::write(&bundle_path, frame_bundle(seed)).map_err(|e| format!("{}: {e}", bundle_path.display()))?;
    // Bound before QEMU starts, so none of the guest's frames is lost.
    let sock = UnixDatagram::bind(&host_sock).map_err(|e| format!("{}: {e}", host_sock.display()))?;
    let deadline = t0 + Duration::from_secs(timeout_s);
    sock.set_write_timeout(Some(Duration::from_secs(timeout_s.max(1)))).map_err(|e| e.to_string())?;
    let mut child = Command::new("timeout")
        .arg("--signal=KILL")
        .arg(format!("{timeout_s}"))
        .arg("qemu-system-x86_64")
        .args(qemu_args(elf))
        .arg("-initrd")
        .arg(&bundle_path)
        .args(frame_netdev_args(&qemu_sock, &host_sock))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start qemu-system-x86_64: {e} (apt-get install qemu-system-x86)"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let serial_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    // The guest's frames are read while ours are sent: a unix datagram socket holds only
    // a few (net.unix.max_dgram_qlen) before the sender blocks.
    let rx = sock.try_clone().map_err(|e| e.to_string())?;
    rx.set_read_timeout(Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
    let (stop, ready) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let (stop_rx, ready_rx) = (stop.clone(), ready.clone());
    let receiver = std::thread::spawn(move || {
        let (mut got, mut done, mut after) = (Vec::new(), false, 0);
        let mut buf = vec![0u8; 65536];
        loop {
            match rx.recv(&mut buf) {
                Ok(n) if is_marker(&buf[..n], READY_PAYLOAD) && !ready_rx.load(Ordering::Relaxed) => ready_rx.store(true, Ordering::Relaxed),
                // Nothing of the kernel's comes before the ready marker (the image sends it
                // before booting the test's kernel).
                Ok(_) if !ready_rx.load(Ordering::Relaxed) => {}
                Ok(n) if is_marker(&buf[..n], DONE_PAYLOAD) => done = true,
                Ok(_) if done => after += 1,
                Ok(n) => got.push(buf[..n].to_vec()),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    if stop_rx.load(Ordering::Relaxed) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        (got, done, after)
    });
    // Frames go out only after the guest's ready marker: QEMU reads the first datagram as
    // soon as it starts, and a frame it holds while the device is not yet the image's
    // (SeaBIOS, then the driver's reset and setup) was seen to be lost.
    let mut send_all = || -> Result<(), String> {
        while !ready.load(Ordering::Relaxed) {
            if Instant::now() > deadline || child.try_wait().is_ok_and(|s| s.is_some()) {
                return Err(String::from("the guest never sent its ready marker"));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        for f in frames.iter().cloned().chain([marker(PEER_MAC, END_PAYLOAD)]) {
            sock.send_to(&f, &qemu_sock).map_err(|e| format!("sending a frame to QEMU: {e}"))?;
        }
        Ok(())
    };
    let sent = send_all();
    let status = child.wait().map_err(|e| e.to_string())?;
    stop.store(true, Ordering::Relaxed);
    let (received, done, after_done) = receiver.join().map_err(|_| "the receiver thread panicked")?;
    let serial = serial_reader.join().map_err(|_| "the serial reader panicked")?;
    let _ = std::fs::remove_dir_all(&dir);
    let boot = Boot { status: status.code().unwrap_or(137), serial };
    if let Err(e) = sent {
        return Err(format!("{e}; the guest's last lines:\n{}", boot.serial.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")));
    }
    Ok(FrameBoot { boot, received, done, after_done, elapsed: t0.elapsed() })
}

/// Where two frame sequences first differ, as text with both frames in hex; `None` when
/// they are equal.
pub fn frame_diff(metal: &[Vec<u8>], sim: &[Vec<u8>]) -> Option<String> {
    let hex = |f: &[u8]| f.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for i in 0..metal.len().max(sim.len()) {
        match (metal.get(i), sim.get(i)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                let show = |f: Option<&Vec<u8>>| f.map_or(String::from("(none)"), |f| format!("{} bytes {}", f.len(), hex(f)));
                return Some(format!("frame {i} of {} (metal) / {} (simulator) differs:\n  metal:     {}\n  simulator: {}", metal.len(), sim.len(), show(a), show(b)));
            }
        }
    }
    None
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
    fn frame_bundle_and_netdev() {
        assert_eq!(frame_bundle(Seed::Fixed(3)), b"k43-bundle 1\nseed 3\ntrace 0\nframe-test 1\n");
        let a = frame_netdev_args(Path::new("/t/q.sock"), Path::new("/t/h.sock"));
        assert_eq!(a[1], "dgram,id=n0,local.type=unix,local.path=/t/q.sock,remote.type=unix,remote.path=/t/h.sock");
        assert_eq!(a[3], "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,disable-modern=on,romfile=");
        let f = vec![vec![1u8, 2], vec![3]];
        assert_eq!(frame_diff(&f, &f), None);
        assert!(frame_diff(&f, &f[..1]).unwrap().starts_with("frame 1 of 2 (metal) / 1 (simulator) differs"));
        assert!(frame_diff(&[vec![1, 2], vec![4]], &f).unwrap().contains("metal:     1 bytes 04"));
    }

    #[test]
    fn drawn_seed_from_serial() {
        let serial = "bundle: 1 scenarios, seed 1\nseed: 42 (from RDRAND)\nPASS x seed=42 trace-hash=ab\n";
        assert_eq!(drawn_seed(serial), Some((42, String::from("RDRAND"))));
        assert_eq!(drawn_seed("seed: x (from RDSEED)\n"), None);
    }
}
