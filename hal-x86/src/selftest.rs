//! Boot-time checks of the paths scenarios cannot reach: the hardware SMAP fault turned
//! into `PanViolation`, the exception-table fixup, read-only user pages, table reuse;
//! user copies with timer interrupts landing inside them.
//! Plus, behind features, deliberate CPU exceptions to see the fault report.

use crate::hal::X86Hal;
use crate::{paging, uaccess};
use kernel::hal::*;

const VA: u64 = 0x7fff_fff0_0000;

/// Runs the checks; panics (exit 35) on the first mismatch. Returns a summary line.
pub fn uaccess() -> alloc::string::String {
    let tables_before = paging::tables_in_use();
    let hal = X86Hal::new(0, 1 << 20);
    let frame = hal.ram_regions()[0].start;
    let asid = hal.create_address_space().expect("address space");
    let rw = PteFlags { write: true, user: true, exec: false };
    let ro = PteFlags { write: false, user: true, exec: false };
    hal.map_page(asid, VA, frame, rw).expect("map rw");
    hal.map_page(asid, VA + PAGE_SIZE, frame + PAGE_SIZE, ro).expect("map ro");
    let mut buf = [0u8; 8];

    // Window open: copies work, through the user mapping, into the frame.
    hal.user_access_begin();
    let w = hal.raw_copy_to_user(asid, VA + 8, b"k43!");
    let r = hal.raw_copy_from_user(asid, VA + 8, &mut buf[..4]);
    let ro_w = hal.raw_copy_to_user(asid, VA + PAGE_SIZE, b"x");
    let unmapped = hal.raw_copy_from_user(asid, VA + 2 * PAGE_SIZE - 2, &mut buf);
    let low = hal.raw_copy_from_user(asid, 0x1000, &mut buf);
    hal.user_access_end();
    assert_eq!((w, r, &buf[..4]), (Ok(()), Ok(()), &b"k43!"[..]), "copy with the window open");
    let mut phys = [0u8; 4];
    hal.phys_read(frame + 8, &mut phys);
    assert_eq!(&phys, b"k43!", "copy_to_user reached the frame");
    assert_eq!(ro_w, Err(UserFault::ReadOnly { addr: VA + PAGE_SIZE }));
    assert_eq!(unmapped, Err(UserFault::NotMapped { addr: VA + 2 * PAGE_SIZE }));
    assert_eq!(low, Err(UserFault::NotMapped { addr: 0x1000 }));

    // Window closed: hal-sim's PanViolation at the start address, from a real SMAP #PF.
    let pan = hal.raw_copy_from_user(asid, VA + 8, &mut buf);
    assert_eq!(pan, Err(UserFault::PanViolation { addr: VA + 8 }), "copy with the window closed");
    let pan_w = hal.raw_copy_to_user(asid, VA + 16, b"no");
    assert_eq!(pan_w, Err(UserFault::PanViolation { addr: VA + 16 }));
    hal.phys_read(frame + 16, &mut phys[..2]);
    assert_eq!(&phys[..2], &[0, 0], "a closed-window write changed user memory");

    // The fixup itself: a copy the pre-check would refuse, faulting in hardware.
    let fixup = uaccess::raw_hw_copy_for_test(paging::current_root(), VA + 2 * PAGE_SIZE);
    assert_eq!(fixup, Err(UserFault::NotMapped { addr: VA + 2 * PAGE_SIZE }), "exception-table fixup");

    assert_eq!(hal.unmap_page(asid, VA), Some(frame));
    assert_eq!(hal.translate(asid, VA), None);
    hal.destroy_address_space(asid);
    drop(hal);
    assert_eq!(paging::tables_in_use(), tables_before, "page tables leaked");
    alloc::format!(
        "uaccess self-test: ok (SMAP {}: closed window -> {:x?}; fixup -> {:x?})",
        if crate::cpu::smap_on() { "hardware" } else { "emulated" },
        pan.unwrap_err(),
        fixup.unwrap_err()
    )
}

/// With the APIC timer running: copies 64 KiB to and from user pages under the stac
/// window, over and over, until at least 5 ticks have arrived and one of them interrupted
/// the `rep movsb` itself (or 200 ms passed). Every copy must succeed and round-trip (a
/// tick is not a fault), and the handler must never have run with RFLAGS.AC set.
pub fn irq_uaccess() -> alloc::string::String {
    use crate::apic::{AC_IN_HANDLER, JIFFIES, TICKS_IN_COPY, TICKS_IN_WINDOW};
    use crate::clock;
    use core::sync::atomic::Ordering::Relaxed;
    const PAGES: u64 = 16;
    let tables_before = paging::tables_in_use();
    let hal = X86Hal::new(0, PAGES * PAGE_SIZE);
    let frame = hal.ram_regions()[0].start;
    let asid = hal.create_address_space().expect("address space");
    let rw = PteFlags { write: true, user: true, exec: false };
    for i in 0..PAGES {
        hal.map_page(asid, VA + i * PAGE_SIZE, frame + i * PAGE_SIZE, rw).expect("map rw");
    }
    let len = (PAGES * PAGE_SIZE) as usize;
    let src: alloc::vec::Vec<u8> = (0..len).map(|i| (i * 7 + i / 4096) as u8).collect();
    let mut back = alloc::vec![0u8; len];
    let (j0, w0, c0) = (JIFFIES.load(Relaxed), TICKS_IN_WINDOW.load(Relaxed), TICKS_IN_COPY.load(Relaxed));
    let t0 = clock::rdtsc();
    let deadline = t0 + clock::tsc_hz() / 5;
    let mut rounds = 0u64;
    loop {
        hal.user_access_begin();
        let w = hal.raw_copy_to_user(asid, VA, &src);
        let r = hal.raw_copy_from_user(asid, VA, &mut back);
        hal.user_access_end();
        assert_eq!((w, r), (Ok(()), Ok(())), "user copy with the timer running (round {rounds})");
        assert!(back == src, "user copy round trip with the timer running (round {rounds})");
        back.fill(0);
        rounds += 1;
        let (ticks, in_copy) = (JIFFIES.load(Relaxed) - j0, TICKS_IN_COPY.load(Relaxed) - c0);
        if (ticks >= 5 && in_copy >= 1) || clock::rdtsc() > deadline {
            break;
        }
    }
    let ms = clock::ticks_to_ns(clock::rdtsc() - t0) / 1_000_000;
    let (ticks, in_window, in_copy) = (JIFFIES.load(Relaxed) - j0, TICKS_IN_WINDOW.load(Relaxed) - w0, TICKS_IN_COPY.load(Relaxed) - c0);
    assert!(ticks > 0, "no timer tick in {ms} ms of user copies: is the APIC timer running?");
    assert_eq!(AC_IN_HANDLER.load(Relaxed), 0, "the timer handler ran with RFLAGS.AC set");
    hal.destroy_address_space(asid);
    drop(hal);
    assert_eq!(paging::tables_in_use(), tables_before, "page tables leaked");
    alloc::format!(
        "irq self-test: ok ({rounds} x 2 user copies of {len} bytes in {ms} ms; {ticks} ticks, {in_window} with AC set (window open), {in_copy} inside rep movsb; handler always ran with AC clear)"
    )
}

/// With feature `fault-int3`, `fault-ud2`, `fault-pf` or `fault-df`: raise that exception
/// now (the report and exit 37 are the expected outcome); `fault-panic` panics (exit 35).
pub fn deliberate_fault() {
    #[cfg(feature = "fault-int3")]
    // SAFETY: a breakpoint trap; the handler reports it and exits QEMU.
    unsafe {
        core::arch::asm!("int3")
    };
    #[cfg(feature = "fault-ud2")]
    // SAFETY: an invalid opcode; the handler reports it and exits QEMU.
    unsafe {
        core::arch::asm!("ud2")
    };
    #[cfg(feature = "fault-pf")]
    // SAFETY: a read of an unmapped address outside any copy routine: an oops that the
    // #PF handler reports before exiting QEMU.
    unsafe {
        core::ptr::read_volatile(0x7fff_dead_0000 as *const u64);
    }
    #[cfg(feature = "fault-df")]
    // SAFETY: points RSP at an unmapped page: the push faults, delivering the #PF faults
    // too, and the CPU raises #DF on its IST stack, which reports and exits QEMU.
    unsafe {
        core::arch::asm!("mov rsp, {0}", "push rax", in(reg) 0x7fff_0000_0000u64, options(noreturn))
    };
    #[cfg(feature = "fault-panic")]
    panic!("deliberate panic (feature fault-panic)");
}
