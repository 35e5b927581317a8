//! hal-sim: the deterministic backend of k43's HAL.
//!
//! A virtual clock that only moves when the world says so, entropy from ChaCha seeded by
//! the scenario seed, RAM as a byte array with a software MMU (4 KiB pages, per-process
//! page tables with a user bit), a software PAN window, a captured console, and
//! persistent-memory devices whose contents survive a simulated reboot (`pmem.rs`). Single
//! threaded; no wall clock and no OS randomness anywhere.

#![deny(missing_docs)]

mod mmu;
pub mod disk;
pub mod net;
pub mod nic;
mod pmem;

use core::cell::{Cell, RefCell};
use kernel::hal::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

pub use mmu::SoftMmu;
pub use pmem::{PmemImage, ResourceConflict, DEFAULT_PMEM, PMEM_BASE};

/// Where simulated RAM starts (the first MiB is left out, as on a PC).
pub const RAM_BASE: PhysAddr = 0x10_0000;
/// Default RAM size: 64 MiB.
pub const DEFAULT_RAM: u64 = 64 << 20;
/// The Unix time the simulated machine boots at: 2015-11-02 00:00:00 UTC, the day after
/// Linux 4.3 was released.
pub const BOOT_REALTIME_NS: u64 = 1_446_422_400 * 1_000_000_000;

/// Settings of one simulated machine.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// Bytes of RAM.
    pub ram_bytes: u64,
    /// Number of CPUs reported.
    pub cpus: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { seed: 0, ram_bytes: DEFAULT_RAM, cpus: 1 }
    }
}

/// One simulated machine.
pub struct SimHal {
    now: Cell<u64>,
    timer: Cell<Option<u64>>,
    rng: RefCell<ChaCha8Rng>,
    console: RefCell<Vec<u8>>,
    ram: RefCell<Vec<u8>>,
    regions: [MemRegion; 1],
    cpus: u32,
    irq_enabled: Cell<bool>,
    pan_open: Cell<bool>,
    mmu: SoftMmu,
    patches: RefCell<std::collections::BTreeMap<usize, Vec<u8>>>,
    devices: pmem::SimDevices,
    /// The machine's Ethernet NICs.
    pub nics: nic::SimNics,
    /// The machine's disks (`vda` first); a request's HAL tag is its disk's ticket.
    pub disks: RefCell<Vec<disk::SimDisk>>,
}

impl SimHal {
    /// A machine with `config`'s RAM and seed, clock at zero.
    pub fn new(config: SimConfig) -> SimHal {
        let ram_bytes = config.ram_bytes & !(PAGE_SIZE - 1);
        let regions = [MemRegion { start: RAM_BASE, len: ram_bytes }];
        SimHal {
            now: Cell::new(0),
            timer: Cell::new(None),
            rng: RefCell::new(ChaCha8Rng::seed_from_u64(config.seed)),
            console: RefCell::new(Vec::new()),
            ram: RefCell::new(vec![0u8; ram_bytes as usize]),
            regions,
            cpus: config.cpus.max(1),
            irq_enabled: Cell::new(true),
            pan_open: Cell::new(false),
            mmu: SoftMmu::default(),
            patches: RefCell::new(Default::default()),
            devices: pmem::SimDevices::new(&regions),
            nics: nic::SimNics::default(),
            disks: RefCell::new(Vec::new()),
        }
    }

    /// Attaches `d` as the next disk; returns its number.
    pub fn attach_disk(&self, d: disk::SimDisk) -> u32 {
        let mut disks = self.disks.borrow_mut();
        disks.push(d);
        disks.len() as u32 - 1
    }

    /// When the next disk request finishes.
    pub fn disk_deadline(&self) -> Option<u64> {
        self.disks.borrow().iter().filter_map(|d| d.next_deadline()).min()
    }

    /// Every disk request finished by now, as (disk, completion): the disks' interrupts.
    pub fn disk_completions(&self) -> Vec<(u32, BlkCompletion)> {
        let now = self.now.get();
        let mut out = Vec::new();
        for (i, d) in self.disks.borrow_mut().iter_mut().enumerate() {
            for c in d.complete_due(now) {
                out.push((i as u32, BlkCompletion { tag: c.ticket, status: c.status, data: c.data }));
            }
        }
        out
    }

    /// Moves the virtual clock forward by `ns`.
    pub fn advance(&self, ns: u64) {
        self.now.set(self.now.get().saturating_add(ns));
    }

    /// Moves the virtual clock to `t` if that is later than now.
    pub fn advance_to(&self, t: u64) {
        if t > self.now.get() {
            self.now.set(t);
        }
    }

    /// The armed timer deadline.
    pub fn timer(&self) -> Option<u64> {
        self.timer.get()
    }

    /// Takes everything written to the console so far.
    pub fn take_console(&self) -> Vec<u8> {
        std::mem::take(&mut self.console.borrow_mut())
    }

    /// Text patched at `site`, if any (static keys).
    pub fn patched(&self, site: usize) -> Option<Vec<u8>> {
        self.patches.borrow().get(&site).cloned()
    }

    fn ram_range(&self, pa: PhysAddr, len: usize) -> Option<std::ops::Range<usize>> {
        let off = pa.checked_sub(RAM_BASE)? as usize;
        let end = off.checked_add(len)?;
        (end <= self.ram.borrow().len()).then_some(off..end)
    }

    /// Whether a kernel access to user memory is allowed now (the software PAN).
    fn user_window_open(&self) -> bool {
        self.pan_open.get()
    }

    fn user_copy(&self, asid: AddressSpaceId, va: VirtAddr, len: usize, write: bool, mut f: impl FnMut(std::ops::Range<usize>, usize, &mut [u8])) -> Result<(), UserFault> {
        if !self.user_window_open() {
            return Err(UserFault::PanViolation { addr: va });
        }
        let mut done = 0usize;
        while done < len {
            let addr = va + done as u64;
            let Some((pa, flags)) = self.mmu.translate(asid, addr) else {
                return Err(UserFault::NotMapped { addr });
            };
            if !flags.user {
                return Err(UserFault::NotMapped { addr });
            }
            if write && !flags.write {
                return Err(UserFault::ReadOnly { addr });
            }
            let in_page = (PAGE_SIZE - (addr & (PAGE_SIZE - 1))) as usize;
            let n = in_page.min(len - done);
            if let Some(range) = self.ram_range(pa, n) {
                f(range, done, &mut self.ram.borrow_mut());
            } else {
                // A persistent-memory page mapped into the process (DAX): copy through a
                // bounce buffer, read-modify-write for stores.
                let mut bounce = vec![0u8; n];
                self.devices.pmem_read(pa, &mut bounce).map_err(|_| UserFault::NotMapped { addr })?;
                f(0..n, done, &mut bounce);
                if write {
                    self.devices.pmem_write(pa, &bounce).map_err(|_| UserFault::NotMapped { addr })?;
                }
            }
            done += n;
        }
        Ok(())
    }
}

impl Clock for SimHal {
    fn now_ns(&self) -> u64 {
        self.now.get()
    }
    fn realtime_offset_ns(&self) -> u64 {
        BOOT_REALTIME_NS
    }
    fn set_timer(&self, deadline_ns: Option<u64>) {
        self.timer.set(deadline_ns);
    }
}

impl Entropy for SimHal {
    fn next_u64(&self) -> u64 {
        self.rng.borrow_mut().next_u64()
    }
}

impl Console for SimHal {
    fn console_write(&self, bytes: &[u8]) {
        self.console.borrow_mut().extend_from_slice(bytes);
    }
}

impl Cpu for SimHal {
    fn cpu_id(&self) -> u32 {
        0
    }
    fn cpu_count(&self) -> u32 {
        self.cpus
    }
    fn irq_save(&self) -> IrqFlags {
        IrqFlags(self.irq_enabled.replace(false) as u64)
    }
    fn irq_restore(&self, flags: IrqFlags) {
        self.irq_enabled.set(flags.0 != 0);
    }
    fn cpu_relax(&self) {}
}

impl PhysMem for SimHal {
    fn ram_regions(&self) -> &[MemRegion] {
        &self.regions
    }
    fn phys_read(&self, pa: PhysAddr, buf: &mut [u8]) {
        let r = self.ram_range(pa, buf.len()).expect("phys_read outside RAM: a kernel bug");
        buf.copy_from_slice(&self.ram.borrow()[r]);
    }
    fn phys_write(&self, pa: PhysAddr, data: &[u8]) {
        let r = self.ram_range(pa, data.len()).expect("phys_write outside RAM: a kernel bug");
        self.ram.borrow_mut()[r].copy_from_slice(data);
    }
    fn phys_zero_frame(&self, pa: PhysAddr) {
        let r = self.ram_range(pa, PAGE_SIZE as usize).expect("frame outside RAM: a kernel bug");
        self.ram.borrow_mut()[r].fill(0);
    }
    fn phys_copy_frame(&self, dst: PhysAddr, src: PhysAddr) {
        let s = self.ram_range(src, PAGE_SIZE as usize).expect("frame outside RAM: a kernel bug");
        let d = self.ram_range(dst, PAGE_SIZE as usize).expect("frame outside RAM: a kernel bug");
        self.ram.borrow_mut().copy_within(s, d.start);
    }
}

impl Mmu for SimHal {
    fn create_address_space(&self) -> Result<AddressSpaceId, MmuError> {
        Ok(self.mmu.create())
    }
    fn destroy_address_space(&self, asid: AddressSpaceId) {
        self.mmu.destroy(asid)
    }
    fn map_page(&self, asid: AddressSpaceId, va: VirtAddr, pa: PhysAddr, flags: PteFlags) -> Result<(), MmuError> {
        if self.ram_range(pa, PAGE_SIZE as usize).is_none() && !self.devices.pmem_covers(pa, PAGE_SIZE as usize) {
            return Err(MmuError::BadAddress);
        }
        self.mmu.map(asid, va, pa, flags)
    }
    fn unmap_page(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<PhysAddr> {
        self.mmu.unmap(asid, va)
    }
    fn translate(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<(PhysAddr, PteFlags)> {
        self.mmu.translate(asid, va)
    }
    fn flush_tlb(&self, _asid: AddressSpaceId, _va: Option<VirtAddr>) {
        // The software MMU walks its tables on every access: there is no TLB to flush.
    }
    fn activate(&self, asid: AddressSpaceId) {
        self.mmu.activate(asid)
    }
}

impl UserAccess for SimHal {
    fn user_access_begin(&self) {
        self.pan_open.set(true);
    }
    fn user_access_end(&self) {
        self.pan_open.set(false);
    }
    fn raw_copy_from_user(&self, asid: AddressSpaceId, src: VirtAddr, dst: &mut [u8]) -> Result<(), UserFault> {
        let len = dst.len();
        self.user_copy(asid, src, len, false, |r, off, ram| dst[off..off + r.len()].copy_from_slice(&ram[r]))
    }
    fn raw_copy_to_user(&self, asid: AddressSpaceId, dst: VirtAddr, src: &[u8]) -> Result<(), UserFault> {
        self.user_copy(asid, dst, src.len(), true, |r, off, ram| {
            let n = r.len();
            ram[r].copy_from_slice(&src[off..off + n])
        })
    }
}

impl TextPatch for SimHal {
    fn patch_text(&self, site: usize, insn: &[u8]) {
        self.patches.borrow_mut().insert(site, insn.to_vec());
    }
}

impl Devices for SimHal {
    fn device_names(&self) -> &[&'static str] {
        &[]
    }
    fn iomem_resources(&self) -> &[PhysResource] {
        self.devices.resources()
    }
    fn pmem_read(&self, pa: PhysAddr, buf: &mut [u8]) -> Result<(), PmemError> {
        self.devices.pmem_read(pa, buf)
    }
    fn pmem_write(&self, pa: PhysAddr, data: &[u8]) -> Result<(), PmemError> {
        self.devices.pmem_write(pa, data)
    }
    fn nic_count(&self) -> u32 {
        self.nics.count()
    }
    fn nic_mac(&self, nic: u32) -> Option<[u8; 6]> {
        self.nics.mac(nic)
    }
    fn nic_transmit(&self, nic: u32, frame: &[u8]) -> bool {
        self.nics.transmit(nic, frame)
    }
    fn blk_count(&self) -> u32 {
        self.disks.borrow().len() as u32
    }
    fn blk_info(&self, disk: u32) -> Option<BlkInfo> {
        let disks = self.disks.borrow();
        let d = disks.get(disk as usize)?;
        Some(BlkInfo {
            sectors: d.sectors(),
            logical_block_size: disk::SECTOR as u32,
            physical_block_size: disk::SECTOR as u32,
            max_hw_sectors: d.max_hw_sectors,
            max_discard_sectors: d.max_discard_sectors,
            discard_granularity: d.discard_granularity,
            write_cache: true,
        })
    }
    fn blk_submit(&self, disk: u32, req: BlkRequest) -> Option<u64> {
        let now = self.now.get();
        let mut disks = self.disks.borrow_mut();
        let d = disks.get_mut(disk as usize)?;
        let op = match req.op {
            BlkOp::Read => disk::DiskOp::Read { sector: req.sector, sectors: req.sectors },
            BlkOp::Write { fua } => disk::DiskOp::Write { sector: req.sector, data: req.data, fua },
            BlkOp::Flush => disk::DiskOp::Flush,
            BlkOp::Discard { .. } => disk::DiskOp::Discard { sector: req.sector, sectors: req.sectors },
        };
        Some(d.submit(op, now))
    }
}
