//! Real time: the TSC, calibrated once against PIT channel 2 (gate via port 0x61, mode 0,
//! as Linux's pit_calibrate_tsc does). The scenario clock is virtual (see `hal.rs`); this
//! one measures the machine itself: boot-to-result times, and the calibration of the local APIC timer (`apic.rs`).

use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::instructions::port::Port;

/// PIT input clock, Hz.
const PIT_HZ: u64 = 1_193_182;
/// Calibration window, ms.
const CAL_MS: u64 = 20;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);

/// The raw time-stamp counter.
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc only reads the counter (CR4.TSD is clear at CPL 0 anyway).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Measures the TSC frequency over a PIT channel-2 one-shot of `CAL_MS`; returns Hz.
pub fn calibrate() -> u64 {
    let latch = (PIT_HZ * CAL_MS / 1000) as u16;
    let mut ctrl = Port::<u8>::new(0x61);
    let mut cmd = Port::<u8>::new(0x43);
    let mut ch2 = Port::<u8>::new(0x42);
    // SAFETY: ports 0x61 (NMI status/speaker control), 0x43 and 0x42 (PIT command and
    // channel 2) belong to the PC platform timer; channel 2 only drives the speaker, whose
    // output bit is kept off.
    let (t0, t1) = unsafe {
        let v = ctrl.read();
        ctrl.write((v & !0x02) | 0x01); // gate high, speaker data off
        cmd.write(0b1011_0000); // channel 2, lobyte/hibyte, mode 0, binary
        ch2.write(latch as u8);
        ch2.write((latch >> 8) as u8);
        let t0 = rdtsc();
        while ctrl.read() & 0x20 == 0 {
            core::hint::spin_loop();
        }
        (t0, rdtsc())
    };
    let hz = (t1 - t0) * 1000 / CAL_MS;
    TSC_HZ.store(hz.max(1), Ordering::Relaxed);
    hz
}

/// The calibrated TSC frequency, Hz (0 before [`calibrate`]).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Converts TSC ticks to nanoseconds (0 before [`calibrate`]).
pub fn ticks_to_ns(ticks: u64) -> u64 {
    let hz = TSC_HZ.load(Ordering::Relaxed);
    if hz == 0 {
        return 0;
    }
    (ticks as u128 * 1_000_000_000 / hz as u128) as u64
}

/// Real monotonic nanoseconds since the CPU's reset (TSC based).
pub fn monotonic_ns() -> u64 {
    ticks_to_ns(rdtsc())
}
