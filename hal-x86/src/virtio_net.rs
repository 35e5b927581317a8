//! The virtio-net NIC: QEMU's `-device virtio-net-pci` (transitional, PCI 1af4:1000)
//! driven by the `virtio-drivers` crate's `VirtIONet` over a legacy virtio-pci transport
//! on the device's I/O BAR 0 (virtio 1.0 §4.1.4.8, "Legacy Interfaces"), which this
//! file provides: the crate's own PCI transport needs the modern capabilities in a memory
//! BAR, which QEMU places above the identity-mapped first GiB. Polled, no interrupts.
//!
//! DMA memory comes from the kernel heap, identity-mapped, so a buffer's physical address
//! is its address. The NIC is global (one per machine); [`crate::hal::X86Hal`] exposes
//! it to the kernel as NIC 0 only when made with `with_nic`, so scenario hosts never see
//! it.

use crate::pci;
use crate::sync::Global;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;
use virtio_drivers::device::net::VirtIONet;
use virtio_drivers::transport::{DeviceStatus, DeviceType, InterruptStatus, Transport};
use virtio_drivers::{BufferDirection, Error, PhysAddr, PAGE_SIZE};
use x86_64::instructions::port::Port;
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Red Hat/virtio vendor id.
const VIRTIO_VENDOR: u16 = 0x1af4;
/// Transitional virtio-net (legacy device id 0x1000 = net).
const VIRTIO_NET_TRANSITIONAL: u16 = 0x1000;
/// Legacy queues have the device's fixed size: QEMU's virtio-net has 256.
pub const QUEUE_SIZE: usize = 256;
/// Receive buffer: the 10-byte legacy header plus a 1514-byte frame fit.
const RX_BUF_LEN: usize = 2048;
/// Largest frame the NIC transmits (no FCS): 1500-byte MTU plus the Ethernet header.
pub const MAX_FRAME: usize = 1514;

/// Legacy virtio-pci registers, offsets in the I/O BAR (§4.1.4.8); the device-specific
/// configuration follows at 0x14 while MSI-X is disabled (it is: nothing enables it).
mod reg {
    pub const HOST_FEATURES: u16 = 0x00;
    pub const GUEST_FEATURES: u16 = 0x04;
    pub const QUEUE_PFN: u16 = 0x08;
    pub const QUEUE_SIZE: u16 = 0x0c;
    pub const QUEUE_SELECT: u16 = 0x0e;
    pub const QUEUE_NOTIFY: u16 = 0x10;
    pub const STATUS: u16 = 0x12;
    pub const ISR: u16 = 0x13;
    pub const CONFIG: u16 = 0x14;
}

/// A legacy virtio-pci device's I/O BAR.
pub struct LegacyPciTransport {
    base: u16,
}

impl LegacyPciTransport {
    fn in8(&self, off: u16) -> u8 {
        // SAFETY: `base` is the device's I/O BAR 0 (probed by `probe`), and `off` is a
        // register inside it; legacy virtio register reads have no side effect except ISR,
        // whose read-to-clear is what ack_interrupt wants.
        unsafe { Port::<u8>::new(self.base + off).read() }
    }
    fn in16(&self, off: u16) -> u16 {
        // SAFETY: as in8.
        unsafe { Port::<u16>::new(self.base + off).read() }
    }
    fn in32(&self, off: u16) -> u32 {
        // SAFETY: as in8.
        unsafe { Port::<u32>::new(self.base + off).read() }
    }
    fn out8(&mut self, off: u16, v: u8) {
        // SAFETY: a register of the device's own I/O BAR; the device is ours alone.
        unsafe { Port::<u8>::new(self.base + off).write(v) }
    }
    fn out16(&mut self, off: u16, v: u16) {
        // SAFETY: as out8.
        unsafe { Port::<u16>::new(self.base + off).write(v) }
    }
    fn out32(&mut self, off: u16, v: u32) {
        // SAFETY: as out8.
        unsafe { Port::<u32>::new(self.base + off).write(v) }
    }
}

impl Transport for LegacyPciTransport {
    fn device_type(&self) -> DeviceType {
        DeviceType::Network
    }
    fn read_device_features(&mut self) -> u64 {
        u64::from(self.in32(reg::HOST_FEATURES))
    }
    fn write_driver_features(&mut self, driver_features: u64) {
        // Legacy devices have 32 feature bits; VERSION_1 (bit 32) is never offered.
        self.out32(reg::GUEST_FEATURES, driver_features as u32);
    }
    fn max_queue_size(&mut self, queue: u16) -> u32 {
        self.out16(reg::QUEUE_SELECT, queue);
        u32::from(self.in16(reg::QUEUE_SIZE))
    }
    fn notify(&mut self, queue: u16) {
        self.out16(reg::QUEUE_NOTIFY, queue);
    }
    fn get_status(&self) -> DeviceStatus {
        DeviceStatus::from_bits_truncate(u32::from(self.in8(reg::STATUS)))
    }
    fn set_status(&mut self, status: DeviceStatus) {
        self.out8(reg::STATUS, status.bits() as u8);
    }
    fn set_guest_page_size(&mut self, _guest_page_size: u32) {
        // Legacy PCI has no such register: the page size is 4096.
    }
    fn requires_legacy_layout(&self) -> bool {
        true
    }
    fn queue_set(&mut self, queue: u16, size: u32, descriptors: PhysAddr, driver_area: PhysAddr, device_area: PhysAddr) {
        // The legacy layout (§2.6.2): one page-aligned block, the available ring right
        // after the descriptors and the used ring on the next 4096 boundary, at the
        // device's own queue size; the device learns only the block's page number.
        let desc_bytes = 16 * u64::from(size);
        let used_off = (desc_bytes + 2 * (u64::from(size) + 3) + 4095) & !4095;
        let laid_out = descriptors % PAGE_SIZE as u64 == 0
            && driver_area == descriptors + desc_bytes
            && device_area == descriptors + used_off
            && size == self.max_queue_size(queue)
            && descriptors / 4096 <= u64::from(u32::MAX);
        // `probe` checked the size; a ring the device would read elsewhere is not handed
        // over (the queue stays unused and the device sees no buffers).
        if laid_out {
            self.out16(reg::QUEUE_SELECT, queue);
            self.out32(reg::QUEUE_PFN, (descriptors / 4096) as u32);
        }
    }
    fn queue_unset(&mut self, queue: u16) {
        self.out16(reg::QUEUE_SELECT, queue);
        self.out32(reg::QUEUE_PFN, 0);
    }
    fn queue_used(&mut self, queue: u16) -> bool {
        self.out16(reg::QUEUE_SELECT, queue);
        self.in32(reg::QUEUE_PFN) != 0
    }
    fn ack_interrupt(&mut self) -> InterruptStatus {
        InterruptStatus::from_bits_truncate(u32::from(self.in8(reg::ISR)))
    }
    fn read_config_generation(&self) -> u32 {
        // Legacy devices have no generation counter.
        0
    }
    fn read_config_space<T: FromBytes + IntoBytes>(&self, offset: usize) -> Result<T, Error> {
        let mut v = T::new_zeroed();
        let bytes = v.as_mut_bytes();
        // virtio-net's configuration is 10 bytes at most on this device (MAC, status,
        // max_virtqueue_pairs); refuse reads past a generous bound of the BAR.
        if offset + bytes.len() > 0x40 {
            return Err(Error::ConfigSpaceTooSmall);
        }
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = self.in8(reg::CONFIG + (offset + i) as u16);
        }
        Ok(v)
    }
    fn write_config_space<T: IntoBytes + Immutable>(&mut self, offset: usize, value: T) -> Result<(), Error> {
        let bytes = value.as_bytes();
        if offset + bytes.len() > 0x40 {
            return Err(Error::ConfigSpaceTooSmall);
        }
        for (i, &b) in bytes.iter().enumerate() {
            self.out8(reg::CONFIG + (offset + i) as u16, b);
        }
        Ok(())
    }
}

/// virtio-drivers' view of this machine's memory: DMA pages from the heap, identity-mapped.
pub struct DmaHal;

// SAFETY: dma_alloc returns zeroed, page-aligned, exclusively owned heap pages whose
// physical address is their address (the heap lies in the identity-mapped first GiB);
// share/unshare translate by identity and need no bounce buffers, because QEMU's DMA is
// coherent with the CPU.
unsafe impl virtio_drivers::Hal for DmaHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Ok(layout) = core::alloc::Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE) else {
            return (0, NonNull::dangling());
        };
        // SAFETY: the layout has a non-zero size (the crate asks for at least one page).
        let p = unsafe { alloc::alloc::alloc_zeroed(layout) };
        match NonNull::new(p) {
            Some(nn) => (p as PhysAddr, nn),
            None => (0, NonNull::dangling()),
        }
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let Ok(layout) = core::alloc::Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE) else { return -1 };
        // SAFETY: the crate passes back what dma_alloc returned for this many pages.
        unsafe { alloc::alloc::dealloc(vaddr.as_ptr(), layout) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        // Identity map; the legacy transport has no MMIO, so this is never called.
        NonNull::new(paddr as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr() as *mut u8 as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

type Net = VirtIONet<DmaHal, LegacyPciTransport, QUEUE_SIZE>;

/// The machine's NIC, once probed.
static NIC: Global<Option<Box<Nic>>> = Global::new(None);

struct Nic {
    net: Net,
    mac: [u8; 6],
    /// Received frames lost to device errors or impossible lengths.
    rx_dropped: u64,
}

/// What [`probe`] found, for the boot log.
pub struct Found {
    /// Where.
    pub function: pci::Function,
    /// I/O BAR 0.
    pub io_base: u16,
    /// The device's MAC (its `mac=` property).
    pub mac: [u8; 6],
}

/// Finds a virtio-net PCI function on bus 0, brings it up (receive buffers posted) and
/// keeps it as the machine's NIC. `Ok(None)` when there is none.
pub fn probe() -> Result<Option<Found>, &'static str> {
    let Some(function) = pci::find(VIRTIO_VENDOR, VIRTIO_NET_TRANSITIONAL) else { return Ok(None) };
    let io_base = pci::io_bar(function, 0).ok_or("virtio-net without a legacy I/O BAR 0 (disable-legacy=on?)")?;
    pci::enable_io_and_dma(function);
    let mut t = LegacyPciTransport { base: io_base };
    t.set_status(DeviceStatus::empty());
    for q in 0..2 {
        if t.max_queue_size(q) as usize != QUEUE_SIZE {
            return Err("virtio-net queue size is not 256 (legacy queues cannot be resized)");
        }
    }
    let net = Net::new(t, RX_BUF_LEN).map_err(|_| "virtio-net did not initialise")?;
    let mac = net.mac_address();
    NIC.with(|n| *n = Some(Box::new(Nic { net, mac, rx_dropped: 0 })));
    Ok(Some(Found { function, io_base, mac }))
}

/// The NIC's MAC, if there is a NIC.
pub fn mac() -> Option<[u8; 6]> {
    NIC.with(|n| n.as_ref().map(|n| n.mac))
}

/// Sends one frame and waits until the device has taken it. `false` without a NIC, for a
/// frame larger than [`MAX_FRAME`] or when the device fails the request.
pub fn transmit(frame: &[u8]) -> bool {
    NIC.with(|n| {
        let Some(n) = n.as_mut() else { return false };
        if frame.len() > MAX_FRAME {
            return false;
        }
        let mut tx = n.net.new_tx_buffer(frame.len());
        tx.packet_mut().copy_from_slice(frame);
        n.net.send(tx).is_ok()
    })
}

/// The next received frame, if one is waiting; its buffer goes back to the device.
pub fn poll() -> Option<Vec<u8>> {
    NIC.with(|n| {
        let n = n.as_mut()?;
        // Bounded: a device that keeps failing its used entries cannot stall the caller.
        for _ in 0..QUEUE_SIZE {
            if !n.net.can_recv() {
                return None;
            }
            let rx = match n.net.receive() {
                Ok(rx) => rx,
                Err(_) => {
                    n.rx_dropped += 1;
                    continue;
                }
            };
            // The length is the device's word: check it before slicing (a 12-byte header
            // bound covers both header sizes).
            let fits = rx.packet_len() + 12 <= rx.as_bytes().len();
            let frame = fits.then(|| rx.packet().to_vec());
            if n.net.recycle_rx_buffer(rx).is_err() {
                n.rx_dropped += 1;
            }
            match frame {
                Some(f) => return Some(f),
                None => n.rx_dropped += 1,
            }
        }
        None
    })
}

/// Frames the driver dropped (device errors, impossible lengths).
pub fn rx_dropped() -> u64 {
    NIC.with(|n| n.as_ref().map_or(0, |n| n.rx_dropped))
}
