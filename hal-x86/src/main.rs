//! k43 on bare-metal x86_64: boots through PVH under QEMU, implements kernel::hal over
//! real page tables, SMAP and COM1, and runs the scenario runner's demo scenarios,
//! printing the same traces (and trace hashes) as the simulator.

#![no_std]
#![no_main]

extern crate alloc;

mod bundle;
mod clock;
mod cpu;
mod demo;
mod gdt;
mod hal;
mod heap;
mod idt;
mod layout;
mod paging;
mod qemu;
mod selftest;
mod serial;
mod sync;
mod uaccess;

core::arch::global_asm!(include_str!("boot.s"), options(att_syntax));

/// Entered from boot.s in long mode with the first GiB identity-mapped; `start_info` is
/// the physical address of the PVH `hvm_start_info`.
#[no_mangle]
extern "C" fn kmain(start_info: u32) -> ! {
    let t_entry = clock::rdtsc();
    serial::init();
    println!("k43 hal-x86: PVH boot, start_info at {start_info:#x}");
    gdt::init();
    idt::init();
    cpu::mask_pic();
    let e820 = layout::check_e820(start_info as u64);
    heap::init();
    let f = cpu::features();
    cpu::setup(&f);
    x86_64::instructions::interrupts::enable();
    println!("{e820}");
    let hz = clock::calibrate();
    println!(
        "cpu: smep={} smap={} nx={} rdrand={} rdseed={} invariant_tsc={}; CR4.SMEP={} CR4.SMAP={} EFER.NXE={}",
        f.smep,
        f.smap,
        f.nx,
        f.rdrand,
        f.rdseed,
        f.invariant_tsc,
        x86_64::registers::control::Cr4::read().contains(x86_64::registers::control::Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION),
        cpu::smap_on(),
        cpu::nx_on()
    );
    println!("tsc: {}.{:03} MHz (PIT channel 2); kmain entered {} us after reset", hz / 1_000_000, hz / 1000 % 1000, clock::ticks_to_ns(t_entry) / 1000);
    println!("entropy: scenario runs use ChaCha8 from the seed; RDRAND {}", if f.rdrand { "present (unused)" } else { "absent" });
    selftest::deliberate_fault();
    println!("{}", selftest::uaccess());

    let bundle = match bundle::from_start_info(start_info as u64) {
        Ok(b) => b,
        Err(e) => panic!("scenario bundle: {e}"),
    };
    println!("bundle: {} scenarios, seed {}", bundle.scenarios.len(), bundle.seed);
    let (passed, failed, first_done) = demo::run_all(&bundle);
    let leaked_tables = paging::tables_in_use();
    let leaked_ram = layout::HOST_RAM_SIZE - layout::host_ram_free_bytes();
    println!("after all runs: {leaked_tables} page-table frames, {leaked_ram} bytes of host RAM still in use");
    let failed = failed + (leaked_tables != 0 || leaked_ram != 0) as usize;
    println!("{passed} passed, {failed} failed");
    // The TSC counts from reset, so these are times since QEMU started the CPU.
    println!(
        "timing: kmain {} us, first scenario result {} us, all done {} us after reset",
        clock::ticks_to_ns(t_entry) / 1000,
        clock::ticks_to_ns(first_done) / 1000,
        clock::monotonic_ns() / 1000
    );
    qemu::exit(if failed == 0 && passed > 0 { qemu::PASS } else { qemu::FAIL })
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    x86_64::instructions::interrupts::disable();
    println!();
    println!("PANIC: {info}");
    qemu::exit(qemu::FAIL)
}
