//! CPU features (CPUID) and control-register setup: SMEP, SMAP, NX, write protection.

use core::arch::x86_64::{__cpuid, __cpuid_count};
use core::sync::atomic::{AtomicBool, Ordering};
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};

/// What CPUID reported.
#[derive(Clone, Copy, Debug, Default)]
pub struct Features {
    pub smep: bool,
    pub smap: bool,
    pub nx: bool,
    pub rdrand: bool,
    pub rdseed: bool,
    pub invariant_tsc: bool,
    pub apic: bool,
    pub x2apic: bool,
}

/// CR4.SMAP is set. entry.s reads it (as a byte) to decide whether to `clac` on entry.
#[no_mangle]
static K43_SMAP_ON: AtomicBool = AtomicBool::new(false);
static NX_ON: AtomicBool = AtomicBool::new(false);

/// Reads the CPUID leaves this image cares about.
pub fn features() -> Features {
    // SAFETY: CPUID exists on every x86_64 CPU; leaves above the maximum are not queried.
    unsafe {
        let max = __cpuid(0).eax;
        let max_ext = __cpuid(0x8000_0000).eax;
        let l1 = __cpuid(1);
        let l7 = if max >= 7 { __cpuid_count(7, 0) } else { core::mem::zeroed() };
        let e1 = if max_ext >= 0x8000_0001 { __cpuid(0x8000_0001) } else { core::mem::zeroed() };
        let e7 = if max_ext >= 0x8000_0007 { __cpuid(0x8000_0007) } else { core::mem::zeroed() };
        Features {
            smep: l7.ebx & (1 << 7) != 0,
            smap: l7.ebx & (1 << 20) != 0,
            rdseed: l7.ebx & (1 << 18) != 0,
            rdrand: l1.ecx & (1 << 30) != 0,
            nx: e1.edx & (1 << 20) != 0,
            invariant_tsc: e7.edx & (1 << 8) != 0,
            apic: l1.edx & (1 << 9) != 0,
            x2apic: l1.ecx & (1 << 21) != 0,
        }
    }
}

/// Turns on what the CPU has: CR0.WP, EFER.NXE, CR4.SMEP/SMAP.
pub fn setup(f: &Features) {
    // SAFETY: WP makes supervisor writes honour read-only pages, NXE makes the NX bit
    // valid in page tables, SMEP/SMAP forbid kernel execution from / access to user pages;
    // the kernel runs from supervisor pages only and touches user pages only through the
    // uaccess routines, which open the SMAP window with stac. Each bit is set only when
    // CPUID reports it.
    unsafe {
        Cr0::update(|c| c.insert(Cr0Flags::WRITE_PROTECT));
        if f.nx {
            Efer::update(|e| e.insert(EferFlags::NO_EXECUTE_ENABLE));
            NX_ON.store(true, Ordering::Relaxed);
        }
        if f.smep {
            Cr4::update(|c| c.insert(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION));
        }
        if f.smap {
            Cr4::update(|c| c.insert(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION));
            K43_SMAP_ON.store(true, Ordering::Relaxed);
        }
    }
}

/// SMAP is enforced by the hardware (CR4.SMAP set).
pub fn smap_on() -> bool {
    K43_SMAP_ON.load(Ordering::Relaxed)
}

/// The NX bit may be used in page tables (EFER.NXE set).
pub fn nx_on() -> bool {
    NX_ON.load(Ordering::Relaxed)
}

/// `stac`: allow supervisor access to user pages.
pub fn stac() {
    // SAFETY: only sets RFLAGS.AC; stac exists because SMAP is on (checked by caller).
    unsafe { core::arch::asm!("stac", options(nostack)) };
}

/// `clac`: forbid supervisor access to user pages again.
pub fn clac() {
    // SAFETY: only clears RFLAGS.AC; clac exists because SMAP is on (checked by caller).
    unsafe { core::arch::asm!("clac", options(nostack)) };
}

/// Moves the legacy PICs off the exception vectors (to 0x20..0x2f, as Linux does) and
/// masks every line: the periodic timer comes from the local APIC (see `apic.rs`), and a
/// spurious PIC interrupt must never look like CPU exception 7 or 15.
pub fn mask_pic() {
    use x86_64::instructions::port::Port;
    let (mut c1, mut d1, mut c2, mut d2) = (Port::<u8>::new(0x20), Port::<u8>::new(0x21), Port::<u8>::new(0xa0), Port::<u8>::new(0xa1));
    // SAFETY: the standard 8259A initialisation (ICW1..ICW4) on the PICs' own ports, with
    // interrupts disabled (kmain enables them later), then OCW1 = 0xFF masks every line.
    unsafe {
        c1.write(0x11); // ICW1: edge, cascade, ICW4 follows
        c2.write(0x11);
        d1.write(0x20); // ICW2: vector base
        d2.write(0x28);
        d1.write(0x04); // ICW3: slave on IRQ2
        d2.write(0x02);
        d1.write(0x01); // ICW4: 8086 mode
        d2.write(0x01);
        d1.write(0xff);
        d2.write(0xff);
    }
}
