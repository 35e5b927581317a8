//! `cargo harness` — run, sweep and replay k43 scenarios in the simulator.

use clap::{Parser, Subcommand};
use harness::sim::{run_source, run_source_captured};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "harness", about = "Run k43 scenarios in the deterministic simulator")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run scenario files or folders: one PASS/FAIL line per scenario and seed.
    Run {
        /// Files (`*.scn`) or folders searched recursively.
        paths: Vec<PathBuf>,
        /// Run with this seed (default 1).
        #[arg(long, conflicts_with = "seeds")]
        seed: Option<u64>,
        /// Run every seed of a range, `A..B` (B excluded).
        #[arg(long)]
        seeds: Option<String>,
        /// Print each run's full trace.
        #[arg(long)]
        trace: bool,
        /// One JSON object per run instead of text.
        #[arg(long)]
        json: bool,
        /// Capture every link of each scenario's network to DIR/SCENARIO.seedN.LINK.pcap
        /// (Wireshark and tshark read them).
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
    },
    /// Boot the bare-metal image under QEMU, run the scenarios there, and compare each
    /// verdict and trace hash with the simulator's.
    Qemu {
        /// Architecture: `x86` (aarch64 arrives with hal-arm).
        arch: String,
        /// Files or folders.
        paths: Vec<PathBuf>,
        /// The seed every scenario runs with: a number, or `random` for one the guest
        /// draws with RDSEED/RDRAND (the simulator then runs with the seed it reports).
        #[arg(long, default_value = "1")]
        seed: harness::qemu::Seed,
        /// Print the guest's whole serial output.
        #[arg(long)]
        trace: bool,
        /// Kill a guest still running after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// Skip the frame test (a second boot, with a virtio-net NIC, whose replies to
        /// real frames are held byte for byte against the simulator's).
        #[arg(long, conflicts_with = "frame_test_only")]
        no_frame_test: bool,
        /// Run only the frame test, no scenarios.
        #[arg(long)]
        frame_test_only: bool,
    },
    /// Reproduce one run with its full trace.
    Replay {
        /// The scenario file.
        path: PathBuf,
        /// The seed to replay.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = Vec::new();
            walk(p, &mut entries).map_err(|e| format!("{}: {e}", p.display()))?;
            entries.sort();
            out.extend(entries);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "scn") {
            out.push(p);
        }
    }
    Ok(())
}

fn parse_range(s: &str) -> Result<std::ops::Range<u64>, String> {
    let (a, b) = s.split_once("..").ok_or_else(|| format!("--seeds takes A..B, got '{s}'"))?;
    let a: u64 = a.parse().map_err(|_| format!("bad seed '{a}'"))?;
    let b: u64 = b.parse().map_err(|_| format!("bad seed '{b}'"))?;
    if b <= a {
        return Err(format!("empty seed range {s}"));
    }
    Ok(a..b)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { paths, seed, seeds, trace, json, pcap } => {
            let seeds = match seeds.as_deref().map(parse_range).transpose() {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let s = seed.unwrap_or(1);
                    s..s + 1
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let paths = if paths.is_empty() { vec![PathBuf::from("scenarios")] } else { paths };
            let files = match collect(&paths) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Some(dir) = &pcap {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    eprintln!("error: {}: {e}", dir.display());
                    return ExitCode::from(2);
                }
            }
            run(&files, seeds, trace, json, pcap.as_deref())
        }
        Cmd::Replay { path, seed } => run(&[path], seed..seed + 1, true, false, None),
        Cmd::Qemu { arch, paths, seed, trace, timeout, no_frame_test, frame_test_only } => {
            if arch != "x86" {
                eprintln!("error: only `x86` boots today (got `{arch}`)");
                return ExitCode::from(2);
            }
            let paths = if paths.is_empty() { vec![PathBuf::from("scenarios")] } else { paths };
            match collect(&paths) {
                Ok(files) => qemu_x86(&files, seed, trace, timeout, !no_frame_test, !frame_test_only),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn qemu_x86(files: &[PathBuf], seed_arg: harness::qemu::Seed, show: bool, timeout: u64, frame_test: bool, scenarios: bool) -> ExitCode {
    use harness::qemu;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("harness/ has a parent").to_path_buf();
    let mut embed = Vec::new();
    let mut skipped = Vec::new();
    for f in files.iter().filter(|_| scenarios) {
        let src = match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        };
        let path = f.display().to_string();
        match qemu::not_embeddable(&src) {
            Some(why) => skipped.push((path, why)),
            None => embed.push((path, src)),
        }
    }
    let elf = match qemu::build_image(&root) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut pass, mut fail, mut status_ok) = (0, 0, true);
    if scenarios {
        match qemu_scenarios(&elf, &embed, &skipped, seed_arg, show, timeout) {
            Ok((p, f, ok)) => (pass, fail, status_ok) = (p, f, ok),
            Err(code) => return code,
        }
    }
    if frame_test {
        if qemu_frame_test(&elf, seed_arg, show, timeout) {
            pass += 1;
        } else {
            fail += 1;
        }
    }
    println!("{pass} passed, {fail} failed");
    if fail == 0 && status_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Boots the image with the scenarios in `embed` and holds each verdict and trace hash
/// against the simulator's: (passed, failed, QEMU's status was the pass code).
fn qemu_scenarios(
    elf: &Path,
    embed: &[(String, String)],
    skipped: &[(String, String)],
    seed_arg: harness::qemu::Seed,
    show: bool,
    timeout: u64,
) -> Result<(u32, u32, bool), ExitCode> {
    use harness::qemu;
    let bundle_path = std::env::temp_dir().join(format!("k43-bundle-{}.bin", std::process::id()));
    if let Err(e) = std::fs::write(&bundle_path, qemu::bundle(embed, seed_arg, show)) {
        eprintln!("error: {}: {e}", bundle_path.display());
        return Err(ExitCode::from(2));
    }
    println!("qemu-system-x86_64 {} -initrd {}", qemu::qemu_args(elf).join(" "), bundle_path.display());
    let boot = match qemu::boot(elf, &bundle_path, timeout) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let _ = std::fs::remove_file(&bundle_path);
    if show {
        print!("{}", boot.serial);
    }
    let seed = match seed_arg {
        qemu::Seed::Fixed(n) => n,
        qemu::Seed::Cpu => match qemu::drawn_seed(&boot.serial) {
            Some((n, from)) => {
                println!("seed: {n} (drawn by the guest with {from}; the simulator runs with it)");
                n
            }
            None => {
                println!("FAIL: --seed random, but the guest never reported a `seed: N (from …)` line; its last lines:");
                for l in boot.serial.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev() {
                    println!("  {l}");
                }
                return Err(ExitCode::from(1));
            }
        },
    };
    let results = qemu::compare(embed, &boot.serial, seed);
    let (mut pass, mut fail) = (0, 0);
    for r in &results {
        match &r.metal {
            Some((ok, h)) if *ok && r.sim.0 && *h == r.sim.1 => {
                pass += 1;
                println!("PASS {} seed={seed} trace-hash={h} (= simulator)", r.path);
            }
            Some((ok, h)) => {
                fail += 1;
                let v = if *ok { "PASS" } else { "FAIL" };
                let sv = if r.sim.0 { "PASS" } else { "FAIL" };
                println!("FAIL {} seed={seed}: metal {v} trace-hash={h}, simulator {sv} trace-hash={}", r.path, r.sim.1);
            }
            None => {
                fail += 1;
                println!("FAIL {} seed={seed}: the image never reported it", r.path);
            }
        }
    }
    for line in boot.serial.lines().filter(|l| ["timing:", "cpu:", "apic:", "timer:", "irq self-test:"].iter().any(|p| l.starts_with(p))) {
        println!("{line}");
    }
    println!("not embeddable: {}", if skipped.is_empty() { "none" } else { "" });
    for (p, why) in skipped {
        println!("  {p}: {why}");
    }
    let status_ok = match boot.status {
        33 => true,
        124 | 137 => {
            println!("the guest hung: killed after {timeout} s");
            false
        }
        s => {
            println!("QEMU exited with status {s} (33 = pass, 35 = panic or failures, 37 = CPU exception); the guest's last lines:");
            for l in boot.serial.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev() {
                println!("  {l}");
            }
            false
        }
    };
    Ok((pass, fail, status_ok))
}

/// The frame test: boots the image with a virtio-net NIC, sends it [`harness::frametest::frames`]
/// through QEMU, and holds the frames it sent back against the simulator's for the same
/// seed, byte for byte, and against what Linux answers ([`harness::frametest::check_replies`]).
fn qemu_frame_test(elf: &Path, seed_arg: harness::qemu::Seed, show: bool, timeout: u64) -> bool {
    use harness::{frametest, qemu};
    let named = frametest::frames();
    let frames: Vec<Vec<u8>> = named.iter().map(|(_, f)| f.clone()).collect();
    let fb = match qemu::frame_boot(elf, seed_arg, &frames, timeout) {
        Ok(b) => b,
        Err(e) => {
            println!("FAIL frame test: {e}");
            return false;
        }
    };
    if show {
        print!("{}", fb.boot.serial);
    }
    let last_lines = |serial: &str| {
        for l in serial.lines().rev().take(25).collect::<Vec<_>>().into_iter().rev() {
            println!("  {l}");
        }
    };
    let seed = match seed_arg {
        qemu::Seed::Fixed(n) => n,
        qemu::Seed::Cpu => match qemu::drawn_seed(&fb.boot.serial) {
            Some((n, _)) => n,
            None => {
                println!("FAIL frame test: --seed random, but the guest never reported its seed; its last lines:");
                last_lines(&fb.boot.serial);
                return false;
            }
        },
    };
    let guest = fb.boot.serial.lines().find(|l| l.starts_with("frame-test: ")).unwrap_or("(no frame-test line)");
    if fb.boot.status != 33 || !fb.done || fb.after_done != 0 || !guest.starts_with("frame-test: PASS") {
        println!(
            "FAIL frame test seed={seed}: QEMU status {} (33 = pass), done marker {}, {} frames after it; the guest's last lines:",
            fb.boot.status,
            if fb.done { "received" } else { "missing" },
            fb.after_done
        );
        last_lines(&fb.boot.serial);
        return false;
    }
    let sim = match harness::sim::frame_test(seed, &frames) {
        Ok(s) => s,
        Err(e) => {
            println!("FAIL frame test seed={seed}: the simulator's run failed: {e}");
            return false;
        }
    };
    if let Some(d) = qemu::frame_diff(&fb.received, &sim) {
        println!("FAIL frame test seed={seed}: the metal's replies differ from the simulator's: {d}");
        for (i, (name, _)) in named.iter().enumerate() {
            println!("  frame {i} sent: {name}");
        }
        return false;
    }
    if let Err(e) = frametest::check_replies(&sim) {
        println!("FAIL frame test seed={seed}: {e}");
        return false;
    }
    let bytes: usize = fb.received.iter().map(|f| f.len()).sum();
    println!(
        "PASS frame test seed={seed}: {} frames sent through QEMU's virtio-net (netdev dgram over unix sockets), {} frames ({bytes} bytes) back, byte for byte the simulator's; {:.2} s",
        frames.len(),
        fb.received.len(),
        fb.elapsed.as_secs_f64()
    );
    println!("{guest}");
    true
}

fn run(files: &[PathBuf], seeds: std::ops::Range<u64>, show_trace: bool, json: bool, pcap: Option<&Path>) -> ExitCode {
    let mut sources = Vec::new();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(s) => sources.push((f.display().to_string(), s)),
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        }
    }
    let total = sources.len() as u64 * (seeds.end - seeds.start);
    let bar = if total > 64 && !json && !show_trace {
        let b = ProgressBar::new(total);
        b.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()));
        Some(b)
    } else {
        None
    };
    let (mut pass, mut fail) = (0u64, 0u64);
    let mut combined = harness::trace::Trace::default();
    let mut parse_error = false;
    for (path, src) in &sources {
        for seed in seeds.clone() {
            let ran = if pcap.is_some() { run_source_captured(path, src, seed, true) } else { run_source(path, src, seed, true) };
            let outcome = match ran {
                Ok(o) => o,
                Err(p) => {
                    if let Some(b) = &bar {
                        b.suspend(|| eprint!("{}", p.rendered));
                    } else {
                        eprint!("{}", p.rendered);
                    }
                    parse_error = true;
                    break;
                }
            };
            if let Some(dir) = pcap {
                let stem = Path::new(path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                for (link, bytes) in &outcome.pcaps {
                    let file = dir.join(format!("{stem}.seed{seed}.{link}.pcap"));
                    if let Err(e) = std::fs::write(&file, bytes) {
                        eprintln!("error: {}: {e}", file.display());
                        return ExitCode::from(2);
                    }
                }
            }
            let hash = outcome.trace.hash_hex();
            combined.push(format!("{path} {seed} {hash}"));
            let ok = outcome.failure.is_none();
            if ok {
                pass += 1;
            } else {
                fail += 1;
            }
            let line = if json {
                serde_json::json!({"scenario": path, "seed": seed, "pass": ok, "trace_hash": hash, "failure": outcome.failure}).to_string()
            } else {
                let mut l = format!("{} {path} seed={seed} trace-hash={hash}", if ok { "PASS" } else { "FAIL" });
                if let Some(f) = &outcome.failure {
                    l.push_str(&format!("\n  {}", f.replace('\n', "\n  ")));
                }
                l
            };
            let print = |l: &str| {
                if show_trace {
                    for t in &outcome.trace.lines {
                        println!("{t}");
                    }
                    println!("trace-hash: {hash}");
                }
                println!("{l}");
            };
            match &bar {
                Some(b) if ok => b.inc(1),
                Some(b) => {
                    b.suspend(|| print(&line));
                    b.inc(1);
                }
                None => print(&line),
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !json {
        println!("{pass} passed, {fail} failed");
        println!("trace-hash: {}", combined.hash_hex());
    }
    if parse_error {
        ExitCode::from(2)
    } else if fail > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
