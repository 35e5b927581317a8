//! The platform boundary: everything the kernel needs from a machine, as small traits.
//!
//! The kernel is generic over [`Hal`]; `hal-sim` implements it deterministically, the
//! bare-metal images implement it on real hardware. A difference between worlds lives in
//! a backend, never in a `cfg` inside kernel logic. Every method takes `&self`: backends
//! use interior mutability, which is what a real machine's registers are anyway.

/// A physical address.
pub type PhysAddr = u64;
/// A virtual address.
pub type VirtAddr = u64;

/// Size of a base page and of a physical frame, as on x86_64 and arm64 4K-granule.
pub const PAGE_SIZE: u64 = 4096;

/// Monotonic time and a one-shot timer.
pub trait Clock {
    /// Nanoseconds since boot on the monotonic clock (`CLOCK_MONOTONIC`).
    fn now_ns(&self) -> u64;
    /// Nanoseconds between the Unix epoch and boot, so `CLOCK_REALTIME = now + offset`.
    fn realtime_offset_ns(&self) -> u64;
    /// Arms the one-shot timer for an absolute monotonic deadline (`None` disarms it). The
    /// kernel calls [`crate::Kernel::run_timers`] once the deadline has passed.
    fn set_timer(&self, deadline_ns: Option<u64>);
}

/// Randomness. In the simulator every bit comes from the scenario seed.
pub trait Entropy {
    /// The next 64 random bits.
    fn next_u64(&self) -> u64;
}

/// The system console (a UART on hardware, a captured buffer in the simulator).
pub trait Console {
    /// Writes bytes to the console; never fails, may drop when the device is gone.
    fn console_write(&self, bytes: &[u8]);
}

/// Saved interrupt state, returned by [`Cpu::irq_save`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqFlags(pub u64);

/// The processor the kernel runs on.
pub trait Cpu {
    /// Index of the executing CPU.
    fn cpu_id(&self) -> u32;
    /// Number of CPUs brought up.
    fn cpu_count(&self) -> u32;
    /// Disables interrupts and returns the previous state.
    fn irq_save(&self) -> IrqFlags;
    /// Restores the interrupt state saved by [`Cpu::irq_save`].
    fn irq_restore(&self, flags: IrqFlags);
    /// Hint inside a spin-wait loop (`pause`, `yield`).
    fn cpu_relax(&self);
}

/// A range of usable RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemRegion {
    /// First byte of the region (page aligned).
    pub start: PhysAddr,
    /// Length in bytes (a multiple of [`PAGE_SIZE`]).
    pub len: u64,
}

/// Physical memory: which RAM exists, and access to it by physical address.
pub trait PhysMem {
    /// The usable RAM regions the kernel may hand out as page frames.
    fn ram_regions(&self) -> &[MemRegion];
    /// Reads `buf.len()` bytes at `pa`; the range must lie inside one RAM region.
    fn phys_read(&self, pa: PhysAddr, buf: &mut [u8]);
    /// Writes `data` at `pa`; the range must lie inside one RAM region.
    fn phys_write(&self, pa: PhysAddr, data: &[u8]);
    /// Fills one frame with zeroes.
    fn phys_zero_frame(&self, pa: PhysAddr);
    /// Copies one whole frame (`fork`'s page copy).
    fn phys_copy_frame(&self, dst: PhysAddr, src: PhysAddr);
}

/// Identifies one hardware address space (a page-table root).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddressSpaceId(pub u64);

/// Page-table entry permissions, architecture-neutral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PteFlags {
    /// Writable.
    pub write: bool,
    /// Accessible from user mode (x86 U/S, arm64 AP[1]).
    pub user: bool,
    /// Executable (x86 !NX, arm64 !UXN/!PXN).
    pub exec: bool,
}

/// Why an MMU operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmuError {
    /// The backend ran out of memory for page tables.
    NoMemory,
    /// The address is not canonical or not page aligned.
    BadAddress,
    /// There is no such address space.
    NoAddressSpace,
}

/// The memory-management unit: page tables per address space.
pub trait Mmu {
    /// Creates an empty user address space (kernel mappings included where the
    /// architecture shares them).
    fn create_address_space(&self) -> Result<AddressSpaceId, MmuError>;
    /// Tears an address space down; the frames it mapped belong to the kernel, which
    /// frees them itself.
    fn destroy_address_space(&self, asid: AddressSpaceId);
    /// Maps the 4 KiB page at `va` to frame `pa`, replacing any previous mapping.
    fn map_page(&self, asid: AddressSpaceId, va: VirtAddr, pa: PhysAddr, flags: PteFlags) -> Result<(), MmuError>;
    /// Removes the mapping of the page at `va`, returning the frame it mapped.
    fn unmap_page(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<PhysAddr>;
    /// Looks `va` up: the frame and permissions of its page, if mapped.
    fn translate(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<(PhysAddr, PteFlags)>;
    /// Invalidates cached translations (the TLB) for one page, or for the whole space.
    fn flush_tlb(&self, asid: AddressSpaceId, va: Option<VirtAddr>);
    /// Makes `asid` the current user address space (CR3 / TTBR0).
    fn activate(&self, asid: AddressSpaceId);
    /// The lowest user address this backend can map (`map_page` refuses pages below it).
    /// The kernel's address search never hands out memory below it; a `MAP_FIXED` mapping
    /// there still gets its VMA, and a fault in it is `SIGSEGV`/`-EFAULT`.
    fn user_va_floor(&self) -> VirtAddr {
        0
    }
}

/// How an access to user memory failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserFault {
    /// No user mapping at `addr` (a page fault the fixup table turns into `-EFAULT`).
    NotMapped {
        /// First faulting address.
        addr: VirtAddr,
    },
    /// A write to a read-only user page.
    ReadOnly {
        /// First faulting address.
        addr: VirtAddr,
    },
    /// The kernel touched user memory with the PAN/SMAP window closed: an oops in Linux.
    PanViolation {
        /// First faulting address.
        addr: VirtAddr,
    },
}

/// User-memory access from kernel mode, guarded as Linux guards it.
///
/// The copy routines are the only kernel code allowed to touch user pages, and only
/// between [`UserAccess::user_access_begin`] and [`UserAccess::user_access_end`] (x86
/// `stac`/`clac` under SMAP, arm64 clearing/setting PSTATE.PAN). A copy outside the
/// window reports [`UserFault::PanViolation`]. A copy stops at the first bad byte.
pub trait UserAccess {
    /// Opens the window (`stac` / PAN=0).
    fn user_access_begin(&self);
    /// Closes the window (`clac` / PAN=1).
    fn user_access_end(&self);
    /// Copies from user `src` in `asid` into `dst`.
    fn raw_copy_from_user(&self, asid: AddressSpaceId, src: VirtAddr, dst: &mut [u8]) -> Result<(), UserFault>;
    /// Copies `src` to user `dst` in `asid`.
    fn raw_copy_to_user(&self, asid: AddressSpaceId, dst: VirtAddr, src: &[u8]) -> Result<(), UserFault>;
}

/// Live patching of kernel text, for static keys (jump labels).
pub trait TextPatch {
    /// Replaces the instruction bytes at patch site `site` with `insn` on every CPU, as
    /// `text_poke_bp` does: other CPUs never execute a torn instruction.
    fn patch_text(&self, site: usize, insn: &[u8]);
}

/// Firmware name of usable RAM in the physical map (e820 types 1 and 128).
pub const IORES_SYSTEM_RAM: &str = "System RAM";
/// Firmware name of e820 type 12, the pre-ACPI-6 NVDIMM type `memmap=nn!ss` creates.
pub const IORES_PMEM_LEGACY: &str = "Persistent Memory (legacy)";
/// Firmware name of e820 type 7 (ACPI 6 persistent memory).
pub const IORES_PMEM: &str = "Persistent Memory";
/// Firmware name of e820 type 2 and of every type Linux 4.3 does not know.
pub const IORES_RESERVED: &str = "reserved";

/// One top-level entry of the physical address map as the firmware reports it (an e820
/// entry): what `/proc/iomem` prints at depth 0 and what `region_intersects` walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysResource {
    /// First byte of the range.
    pub start: PhysAddr,
    /// Length in bytes (never 0).
    pub len: u64,
    /// The name Linux gives the range ([`IORES_SYSTEM_RAM`], [`IORES_PMEM_LEGACY`], …).
    pub name: &'static str,
    /// `IORESOURCE_BUSY`: claimed at boot, so no driver may request a region inside it.
    /// x86 marks System RAM busy and leaves reserved ranges above 1 MiB and persistent
    /// memory free for their drivers.
    pub busy: bool,
}

/// Why a persistent-memory access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmemError {
    /// The range does not lie inside one persistent-memory region of this platform.
    NotPmem,
}

/// Devices the platform found, handed to the kernel at boot.
pub trait Devices {
    /// Names of the devices found, in discovery order (e.g. `"eth0"`, `"vda"`).
    fn device_names(&self) -> &[&'static str];
    /// The top-level physical address map, sorted by address, entries not overlapping.
    /// Empty (the default) means the backend reports no map: the kernel then takes
    /// [`PhysMem::ram_regions`] as its only, busy, System RAM entries.
    fn iomem_resources(&self) -> &[PhysResource] {
        &[]
    }
    /// Reads persistent memory by physical address; the range must lie inside one pmem
    /// region. Backends without persistent memory (the default) refuse every range.
    fn pmem_read(&self, _pa: PhysAddr, _buf: &mut [u8]) -> Result<(), PmemError> {
        Err(PmemError::NotPmem)
    }
    /// Writes persistent memory by physical address; the bytes are durable when this
    /// returns (the platform behaves like an ADR-protected NVDIMM). Same range rule as
    /// [`Devices::pmem_read`].
    fn pmem_write(&self, _pa: PhysAddr, _data: &[u8]) -> Result<(), PmemError> {
        Err(PmemError::NotPmem)
    }
    /// Ethernet NICs the platform has (`eth0` is NIC 0). Backends without a network (the
    /// default) have none. Received frames reach the kernel through
    /// [`crate::Kernel::netif_receive`], called by the backend's receive path.
    fn nic_count(&self) -> u32 {
        0
    }
    /// NIC `nic`'s burned-in MAC address, `None` for a NIC that does not exist.
    fn nic_mac(&self, _nic: u32) -> Option<[u8; 6]> {
        None
    }
    /// Puts one Ethernet frame (no FCS) on NIC `nic`'s wire. Returns `false` if the NIC
    /// does not exist or its transmit queue is full (the kernel counts a `tx_dropped`).
    fn nic_transmit(&self, _nic: u32, _frame: &[u8]) -> bool {
        false
    }
    /// Block devices the platform has (`vda` is disk 0). Backends without disks (the
    /// default) have none. Finished requests reach the kernel through
    /// [`crate::Kernel::blk_complete`], called by the backend's completion path.
    fn blk_count(&self) -> u32 {
        0
    }
    /// Disk `disk`'s geometry and limits, `None` for a disk that does not exist.
    fn blk_info(&self, _disk: u32) -> Option<BlkInfo> {
        None
    }
    /// Starts `req` on disk `disk`; returns the tag its completion will carry, `None` if
    /// the disk does not exist (the kernel fails the request with `EIO`).
    fn blk_submit(&self, _disk: u32, _req: BlkRequest) -> Option<u64> {
        None
    }
}

/// A block device as its hardware reports it (what a driver puts in `queue_limits` and
/// `set_capacity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlkInfo {
    /// Capacity in 512-byte sectors.
    pub sectors: u64,
    /// `logical_block_size` in bytes (512 for virtio-blk unless the host says otherwise).
    pub logical_block_size: u32,
    /// `physical_block_size` in bytes.
    pub physical_block_size: u32,
    /// `max_hw_sectors`: the largest request the device takes.
    pub max_hw_sectors: u32,
    /// `max_discard_sectors` (0: the device does not discard).
    pub max_discard_sectors: u32,
    /// `discard_granularity` in bytes.
    pub discard_granularity: u32,
    /// Whether the device has a volatile write cache (flushes and FUA mean something).
    pub write_cache: bool,
}

/// What a block request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkOp {
    /// Read the sectors.
    Read,
    /// Write the sectors; `fua` (`REQ_FUA`) makes them durable before completion.
    Write {
        /// `REQ_FUA`.
        fua: bool,
    },
    /// Make every completed write durable (`REQ_FLUSH` with no data).
    Flush,
    /// Forget the sectors (`REQ_DISCARD`, with `REQ_SECURE` when `secure`).
    Discard {
        /// `REQ_SECURE`.
        secure: bool,
    },
}

/// One request handed to a block device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlkRequest {
    /// The operation.
    pub op: BlkOp,
    /// First 512-byte sector.
    pub sector: u64,
    /// Sectors covered (0 for a flush).
    pub sectors: u64,
    /// The bytes of a write (`sectors * 512` of them); empty otherwise.
    pub data: alloc::vec::Vec<u8>,
}

/// A finished block request, as the device's interrupt reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlkCompletion {
    /// The tag [`Devices::blk_submit`] returned.
    pub tag: u64,
    /// 0, or a negative errno (`-EIO`): what becomes `bi_error`.
    pub status: i32,
    /// The bytes a read returned.
    pub data: alloc::vec::Vec<u8>,
}

/// Everything the kernel needs from a platform.
pub trait Hal: Clock + Entropy + Console + Cpu + PhysMem + Mmu + UserAccess + TextPatch + Devices {}

impl<T: Clock + Entropy + Console + Cpu + PhysMem + Mmu + UserAccess + TextPatch + Devices> Hal for T {}
