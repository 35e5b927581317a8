//! k43 on bare-metal x86_64: boots through PVH under QEMU, implements kernel::hal over
//! real page tables, SMAP and COM1, and runs the scenario runner's demo scenarios,
//! printing the same traces (and trace hashes) as the simulator.

#![no_std]
#![no_main]

extern crate alloc;

mod apic;
mod bundle;
mod clock;
mod cpu;
mod demo;
mod frames;
mod gdt;
mod hal;
mod heap;
mod hwrng;
mod idt;
mod layout;
mod paging;
mod pci;
mod qemu;
mod selftest;
mod serial;
mod sync;
mod uaccess;
mod virtio_net;

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
    let timer = apic::start(&f).unwrap_or_else(|e| panic!("APIC timer: {e}"));
    println!(
        "apic: {} timer at {}.{:03} MHz (divide 16, TSC-calibrated), {} counts per tick: {} Hz on vector {:#x}",
        if timer.x2apic { "x2APIC" } else { "xAPIC (fixmap MMIO)" },
        timer.apic_hz / 1_000_000,
        timer.apic_hz / 1000 % 1000,
        timer.count,
        apic::HZ,
        apic::TIMER_VECTOR
    );
    let has = |b: bool| if b { "present" } else { "absent" };
    println!("entropy: scenario runs use ChaCha8 from the seed; RDSEED {}, RDRAND {} (for `seed rdrand` bundles)", has(f.rdseed), has(f.rdrand));
    selftest::deliberate_fault();
    println!("{}", selftest::uaccess());
    println!("{}", selftest::irq_uaccess());
    // A machine without a virtio-net NIC prints nothing here and runs as before.
    match virtio_net::probe() {
        Ok(Some(f)) => println!(
            "virtio-net: {} at {}, legacy I/O BAR {:#x}, {}-entry queues, polled",
            f.mac.iter().map(|b| alloc::format!("{b:02x}")).collect::<alloc::vec::Vec<_>>().join(":"),
            f.function,
            f.io_base,
            virtio_net::QUEUE_SIZE
        ),
        Ok(None) => {}
        Err(e) => println!("virtio-net: {e}"),
    }

    let mut bundle = match bundle::from_start_info(start_info as u64) {
        Ok(b) => b,
        Err(e) => panic!("scenario bundle: {e}"),
    };
    if bundle.seed_from_cpu {
        match hwrng::seed(&f) {
            Ok((seed, source)) => {
                println!("seed: {seed} (from {})", source.name());
                bundle.seed = seed;
            }
            Err(e) => panic!("seed rdrand: {e}"),
        }
    }
    println!("bundle: {} scenarios, seed {}", bundle.scenarios.len(), bundle.seed);
    let (mut passed, mut failed, first_done) = demo::run_all(&bundle);
    if bundle.frame_test {
        match frames::run(bundle.seed) {
            Ok(r) => {
                passed += 1;
                println!("frame-test: PASS seed={} {} frames in, {} frames out, {} datagrams echoed", bundle.seed, r.received, r.sent, r.echoed);
            }
            Err(e) => {
                failed += 1;
                println!("frame-test: FAIL seed={}: {e}", bundle.seed);
            }
        }
    }
    let leaked_tables = paging::tables_in_use();
    let leaked_ram = layout::HOST_RAM_SIZE - layout::host_ram_free_bytes();
    println!("after all runs: {leaked_tables} page-table frames, {leaked_ram} bytes of host RAM still in use");
    let failed = failed + (leaked_tables != 0 || leaked_ram != 0) as usize;
    report_timer(&timer);
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

/// Stops the tick and prints `timer: N ticks at H Hz over M ms (TSC)` with the count the
/// TSC predicts, so the two clocks can be held against each other (±10% expected under
/// TCG; a periodic timer drops ticks whenever the vCPU cannot take one for a whole period,
/// as Linux's tick does, which is why Linux keeps time by a clocksource, not by jiffies).
fn report_timer(timer: &apic::Timer) {
    apic::stop();
    let ticks = apic::JIFFIES.load(core::sync::atomic::Ordering::Relaxed);
    let ns = clock::ticks_to_ns(clock::rdtsc() - timer.tsc_start).max(1);
    // Expected ticks in tenths, and the deviation in tenths of a percent.
    let expected_10 = ns as u128 * apic::HZ as u128 * 10 / 1_000_000_000;
    let dev_1000 = (ticks as i128 * 1_000_000_000 * 1000) / (ns as i128 * apic::HZ as i128) - 1000;
    let sign = if dev_1000 < 0 { "-" } else { "+" };
    println!(
        "timer: {ticks} ticks at {} Hz over {} ms (TSC); the TSC predicts {}.{}, {sign}{}.{}%{}",
        apic::HZ,
        ns / 1_000_000,
        expected_10 / 10,
        expected_10 % 10,
        dev_1000.abs() / 10,
        dev_1000.abs() % 10,
        if dev_1000.abs() <= 100 {
            " (within 10%)"
        } else if (ticks as i128 * 10 - expected_10 as i128).abs() <= 10 {
            " (within 1 tick: too short a run for 10%)"
        } else {
            " (OFF BY MORE THAN 10%: ticks lost while the CPU could not take them?)"
        }
    );
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    x86_64::instructions::interrupts::disable();
    println!();
    println!("PANIC: {info}");
    qemu::exit(qemu::FAIL)
}
