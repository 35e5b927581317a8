//! The periodic tick: the local APIC timer at `HZ` (CONFIG_HZ_250, 4.3's default),
//! calibrated against the TSC (itself calibrated on the PIT, see `clock.rs`), on vector
//! 0xef like Linux's LOCAL_TIMER_VECTOR. The handler only counts `JIFFIES` and sends the
//! EOI: the scenario clock stays virtual (hal.rs), so ticks cannot change a trace.
//!
//! Registers are reached through MSRs in x2APIC mode when the CPU has it, else through
//! the xAPIC page mapped uncached in the fixmap (QEMU 7.2's TCG has no x2APIC).

use crate::clock;
use crate::cpu::Features;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use x86_64::registers::model_specific::Msr;

/// Ticks per second.
pub const HZ: u64 = 250;
/// The timer's IDT vector.
pub const TIMER_VECTOR: u8 = 0xef;
/// The APIC's spurious-interrupt vector.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Timer interrupts since [`start`]: Linux's jiffies (from 0, not INITIAL_JIFFIES).
pub static JIFFIES: AtomicU64 = AtomicU64::new(0);
/// Ticks that interrupted code running with RFLAGS.AC set (inside a stac window).
pub static TICKS_IN_WINDOW: AtomicU64 = AtomicU64::new(0);
/// Ticks that interrupted the user-copy instruction itself (an `__ex_table` address).
pub static TICKS_IN_COPY: AtomicU64 = AtomicU64::new(0);
/// Ticks whose handler found RFLAGS.AC still set after the entry's clac: must stay 0.
pub static AC_IN_HANDLER: AtomicU64 = AtomicU64::new(0);

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2: u64 = 1 << 10;

const REG_TPR: u32 = 0x80;
const REG_EOI: u32 = 0xb0;
const REG_SVR: u32 = 0xf0;
const REG_LVT_TIMER: u32 = 0x320;
const REG_TIMER_INIT: u32 = 0x380;
const REG_TIMER_CUR: u32 = 0x390;
const REG_TIMER_DIV: u32 = 0x3e0;

const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;
/// Divide configuration value for divide-by-16 (bits 0, 1, 3 = 0b0011).
const DIV_16: u32 = 0b0011;
/// Calibration window, ms of TSC time.
const CAL_MS: u64 = 10;

/// x2APIC mode is on (registers are MSRs 0x800 + reg/16).
static X2: AtomicBool = AtomicBool::new(false);
/// Virtual address of the xAPIC register page (fixmap), when not in x2APIC mode.
static MMIO: AtomicU64 = AtomicU64::new(0);

fn read(reg: u32) -> u32 {
    if X2.load(Ordering::Relaxed) {
        // SAFETY: x2APIC mode is on and `reg` is one of this module's readable registers.
        unsafe { Msr::new(0x800 + (reg >> 4)).read() as u32 }
    } else {
        // SAFETY: MMIO is the APIC page mapped uncached by `start`; reg < 4096 and aligned.
        unsafe { ((MMIO.load(Ordering::Relaxed) + reg as u64) as *const u32).read_volatile() }
    }
}

fn write(reg: u32, v: u32) {
    if X2.load(Ordering::Relaxed) {
        // SAFETY: as in `read`; writes to these registers only program the local APIC.
        unsafe { Msr::new(0x800 + (reg >> 4)).write(v as u64) }
    } else {
        // SAFETY: as in `read`.
        unsafe { ((MMIO.load(Ordering::Relaxed) + reg as u64) as *mut u32).write_volatile(v) }
    }
}

/// End of interrupt.
pub fn eoi() {
    write(REG_EOI, 0);
}

/// What [`start`] set up, for the boot log and the final report.
#[derive(Clone, Copy)]
pub struct Timer {
    /// APIC timer input after the divider, Hz.
    pub apic_hz: u64,
    /// Initial count per tick.
    pub count: u32,
    /// TSC when the timer started.
    pub tsc_start: u64,
    /// x2APIC (MSR) or xAPIC (MMIO).
    pub x2apic: bool,
}

/// Enables the local APIC, calibrates its timer against the TSC over `CAL_MS` and starts
/// it periodic at `HZ`. Needs `clock::calibrate` done, the IDT loaded, interrupts may be
/// on or off (the timer only fires once unmasked, at the end).
pub fn start(f: &Features) -> Result<Timer, &'static str> {
    if !f.apic {
        return Err("no local APIC (CPUID.1:EDX.APIC)");
    }
    let tsc_hz = clock::tsc_hz();
    if tsc_hz == 0 {
        return Err("TSC not calibrated");
    }
    let mut base_msr = Msr::new(IA32_APIC_BASE);
    // SAFETY: IA32_APIC_BASE exists when CPUID reports an APIC; setting the enable bit
    // (and the x2APIC bit only when CPUID reports x2APIC) keeps the base address.
    let base = unsafe {
        let mut b = base_msr.read() | APIC_BASE_ENABLE;
        base_msr.write(b);
        if f.x2apic {
            b |= APIC_BASE_X2;
            base_msr.write(b);
        }
        b
    };
    if f.x2apic {
        X2.store(true, Ordering::Relaxed);
    } else {
        let pa = base & 0x000f_ffff_ffff_f000;
        MMIO.store(crate::paging::fixmap_mmio(0, pa), Ordering::Relaxed);
    }
    write(REG_TPR, 0);
    write(REG_SVR, 1 << 8 | SPURIOUS_VECTOR as u32); // software enable
    write(REG_TIMER_DIV, DIV_16);
    write(REG_LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u32); // one-shot, masked

    // Count down from the top for CAL_MS of TSC time.
    write(REG_TIMER_INIT, u32::MAX);
    let t0 = clock::rdtsc();
    let window = tsc_hz * CAL_MS / 1000;
    let mut t1 = t0;
    while t1 - t0 < window {
        core::hint::spin_loop();
        t1 = clock::rdtsc();
    }
    let left = read(REG_TIMER_CUR);
    write(REG_TIMER_INIT, 0);
    let counted = (u32::MAX - left) as u64;
    let apic_hz = (counted as u128 * tsc_hz as u128 / (t1 - t0) as u128) as u64;
    let count = u32::try_from(apic_hz / HZ).map_err(|_| "APIC timer too fast for a 32-bit count")?;
    if count == 0 {
        return Err("APIC timer did not count");
    }

    JIFFIES.store(0, Ordering::Relaxed);
    let tsc_start = clock::rdtsc();
    write(REG_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR as u32);
    write(REG_TIMER_INIT, count);
    Ok(Timer { apic_hz, count, tsc_start, x2apic: f.x2apic })
}

/// Masks the timer (before the final report, so the count and the TSC stop together).
pub fn stop() {
    write(REG_LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u32);
    write(REG_TIMER_INIT, 0);
}

/// The timer interrupt: count, note what it interrupted, EOI. No locks, no allocation,
/// no printing: only atomics, so it can land anywhere interrupts are on.
pub fn tick(saved_rflags: u64, saved_rip: u64) {
    const AC: u64 = 1 << 18;
    JIFFIES.fetch_add(1, Ordering::Relaxed);
    if saved_rflags & AC != 0 {
        TICKS_IN_WINDOW.fetch_add(1, Ordering::Relaxed);
    }
    if crate::uaccess::is_copy_insn(saved_rip) {
        TICKS_IN_COPY.fetch_add(1, Ordering::Relaxed);
    }
    if x86_64::registers::rflags::read_raw() & AC != 0 {
        AC_IN_HANDLER.fetch_add(1, Ordering::Relaxed);
    }
    eoi();
}
