//! The frame test on the metal (bundle line `frame-test 1`): harness's
//! [`FrameTest`] host on an [`X86Hal`] whose NIC 0 is the virtio-net device. Frames the
//! host-side program sends through QEMU are polled off the NIC and received by the kernel
//! one by one, at the virtual times the simulator uses; everything the kernel transmits
//! goes straight out on the wire. A ready marker tells the program to start sending, its
//! end marker stops the loop, the timers run on, and a done marker tells the program that
//! nothing more will come.

use crate::clock;
use crate::hal::X86Hal;
use crate::virtio_net;
use alloc::format;
use alloc::string::String;
use harness::frametest::{is_marker, marker, FrameTest, DONE_PAYLOAD, END_PAYLOAD, GUEST_MAC, RAM_BYTES, READY_PAYLOAD};

/// Real time the image waits for the next frame before giving up.
const IDLE_LIMIT_NS: u64 = 60_000_000_000;

/// What a frame test run did.
pub struct Report {
    /// Frames received (the end marker not counted).
    pub received: usize,
    /// Frames the kernel transmitted on eth0.
    pub sent: u64,
    /// Datagrams the echo process sent back.
    pub echoed: usize,
}

/// Runs the frame test with `seed`; the host's RAM is freed when it returns.
pub fn run(seed: u64) -> Result<Report, String> {
    let hal = X86Hal::new(seed, RAM_BYTES).with_nic().ok_or("no virtio-net NIC (QEMU needs -device virtio-net-pci,netdev=…)")?;
    // The program sends nothing before this: QEMU drops a frame it read before the driver
    // was set up (the first frame of a program that did not wait was lost every time).
    if !virtio_net::transmit(&marker(GUEST_MAC, READY_PAYLOAD)) {
        return Err(String::from("the ready marker could not be sent"));
    }
    let mut t = FrameTest::boot(hal)?;
    let mut idle_since = clock::monotonic_ns();
    loop {
        match t.kernel.hal.nic_poll() {
            Some(f) if is_marker(&f, END_PAYLOAD) => break,
            Some(f) => {
                t.receive(&f)?;
                idle_since = clock::monotonic_ns();
            }
            None if clock::monotonic_ns() - idle_since > IDLE_LIMIT_NS => {
                return Err(format!("no frame for {} s after {} frames", IDLE_LIMIT_NS / 1_000_000_000, t.received));
            }
            // The tick (HZ=250) wakes the CPU to poll again.
            None => x86_64::instructions::hlt(),
        }
    }
    t.finish()?;
    let sent = t.kernel.net().devices.get(&2).map_or(0, |d| d.stats.tx_packets);
    if !virtio_net::transmit(&marker(GUEST_MAC, DONE_PAYLOAD)) {
        return Err(String::from("the done marker could not be sent"));
    }
    if virtio_net::rx_dropped() != 0 {
        return Err(format!("the driver dropped {} received frames", virtio_net::rx_dropped()));
    }
    Ok(Report { received: t.received, sent, echoed: t.echoed })
}
