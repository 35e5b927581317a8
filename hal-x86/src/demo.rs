//! Runs the bundle's scenarios through harness's runner on [`X86Factory`] machines and
//! prints what `cargo harness run` prints, so the host can compare verdicts and hashes.

use crate::bundle::Bundle;
use crate::clock;
use crate::hal::X86Factory;
use crate::println;

/// Runs every scenario; returns (passed, failed) and the TSC when the first one ended.
pub fn run_all(b: &Bundle) -> (usize, usize, u64) {
    let (mut passed, mut failed, mut first_done) = (0, 0, 0);
    for (path, src) in &b.scenarios {
        let scn = match harness::scn::parse(src) {
            Ok(s) => s,
            Err(d) => {
                crate::print!("{}", d.render(path, src));
                failed += 1;
                continue;
            }
        };
        let out = harness::runner::run(&scn, X86Factory { seed: b.seed }, true);
        if first_done == 0 {
            first_done = clock::rdtsc();
        }
        if b.trace {
            for line in &out.trace.lines {
                println!("{line}");
            }
        }
        let hash = out.trace.hash_hex();
        let verdict = if out.failure.is_none() { "PASS" } else { "FAIL" };
        if out.failure.is_none() {
            passed += 1;
        } else {
            failed += 1;
        }
        println!("{verdict} {path} seed={} trace-hash={hash}", b.seed);
        if let Some(f) = &out.failure {
            println!("  {}", f.replace('\n', "\n  "));
        }
    }
    (passed, failed, first_done)
}
