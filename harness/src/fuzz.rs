//! Fuzz-target bodies, shared by `fuzz/` (cargo-fuzz) and the tests (which run them on
//! generated inputs), so a target and its regression test cannot drift apart.

use crate::sim::SimFactory;
use crate::{runner, scn};
use hal_sim::{SimConfig, SimHal};
use kernel::security::cred::Cred;
use kernel::syscalls::table::ALL;
use kernel::{Kernel, KernelConfig};

/// Any text either parses or yields a diagnostic that renders; a parsed scenario runs to
/// an outcome without panicking (with a small tick budget per statement).
pub fn scenario_text(data: &[u8]) {
    let Ok(src) = core::str::from_utf8(data) else { return };
    match scn::parse(src) {
        Ok(s) => {
            let _ = runner::run(&s, SimFactory { seed: data.len() as u64 }, true);
        }
        Err(d) => {
            let _ = d.render("fuzz.scn", src);
        }
    }
}

/// Bytes read as a sequence of syscalls (one byte picks the syscall, 48 bytes the six
/// arguments) made by an unprivileged and a root process; the kernel must never panic and
/// its invariants must hold after every step.
pub fn syscall_sequence(data: &[u8]) {
    let mut k = Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 8 << 20, cpus: 1 }), KernelConfig::default());
    let mut pids = [
        k.create_process(Cred::new(1000, 1000), "user", 0).expect("spawn at boot"),
        k.create_process(Cred::new(0, 0), "root", 0).expect("spawn at boot"),
    ];
    for (n, chunk) in data.chunks_exact(49).enumerate() {
        let sysno = ALL[chunk[0] as usize % ALL.len()];
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&chunk[1 + 8 * i..9 + 8 * i]);
            *a = u64::from_le_bytes(b);
        }
        let who = n % 2;
        let Some(nr) = sysno.desc().nr(kernel::syscalls::Arch::X86_64) else { continue };
        if k.submit(pids[who], nr as u64, args).is_err() {
            let cred = if who == 0 { Cred::new(1000, 1000) } else { Cred::new(0, 0) };
            match k.create_process(cred, "again", 0) {
                Ok(p) => pids[who] = p,
                Err(_) => return,
            }
            continue;
        }
        for _ in 0..16 {
            if !k.step() {
                break;
            }
        }
        k.take_events().for_each(drop);
        if let Some(t) = k.next_timer() {
            k.hal.advance_to(t);
            k.run_timers();
        }
        if let Err(e) = k.check_invariants() {
            panic!("invariant broken after {}: {e}", sysno.desc().name);
        }
    }
}
