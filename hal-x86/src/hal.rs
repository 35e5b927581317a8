//! `X86Hal`: kernel::hal on bare metal, behaving like hal-sim wherever the kernel can
//! tell: a virtual clock the world advances, ChaCha8 entropy from the run's seed, a
//! buffered console, one RAM region of exactly `ram_bytes` — but real page tables, a real
//! CR3, and user copies under real SMAP.

use crate::{layout, paging, uaccess, virtio_net};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use kernel::hal::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// Unix time of boot, the same as hal-sim's: 2015-11-02 00:00:00 UTC.
pub const BOOT_REALTIME_NS: u64 = 1_446_422_400 * 1_000_000_000;

/// One machine (one host of a scenario) on the bare-metal HAL.
pub struct X86Hal {
    now: Cell<u64>,
    timer: Cell<Option<u64>>,
    rng: RefCell<ChaCha8Rng>,
    console: RefCell<Vec<u8>>,
    regions: [MemRegion; 1],
    /// Address space id -> PML4 physical address.
    spaces: RefCell<BTreeMap<u64, u64>>,
    next_asid: Cell<u64>,
    /// End of the highest frame written through this HAL (phys_* or a mapping): Drop
    /// zeroes the region up to here so the next host gets zeroed RAM, as hal-sim's does,
    /// without touching (and so faulting in under TCG) 64 MiB per host.
    touched_end: Cell<u64>,
    patches: RefCell<BTreeMap<usize, Vec<u8>>>,
    /// The machine's virtio-net NIC is this host's NIC 0 (`eth0`).
    nic: bool,
}

impl X86Hal {
    /// A machine with `ram_bytes` of zeroed RAM (carved from the host RAM window) whose
    /// entropy is `ChaCha8Rng::seed_from_u64(seed)`; clock at zero.
    pub fn new(seed: u64, ram_bytes: u64) -> X86Hal {
        let len = ram_bytes & !(PAGE_SIZE - 1);
        let start = layout::host_ram_alloc(len).expect("host RAM window exhausted (too many hosts or too much ram=)");
        X86Hal {
            now: Cell::new(0),
            timer: Cell::new(None),
            rng: RefCell::new(ChaCha8Rng::seed_from_u64(seed)),
            console: RefCell::new(Vec::new()),
            regions: [MemRegion { start, len }],
            spaces: RefCell::new(BTreeMap::new()),
            next_asid: Cell::new(0),
            touched_end: Cell::new(start),
            patches: RefCell::new(BTreeMap::new()),
            nic: false,
        }
    }

    /// The same machine with the virtio-net NIC (see `virtio_net::probe`) as NIC 0, or
    /// `None` when the machine has none. Scenario hosts are made without it, so they see
    /// no NIC at all, as in the simulator.
    pub fn with_nic(mut self) -> Option<X86Hal> {
        virtio_net::mac()?;
        self.nic = true;
        Some(self)
    }

    /// The next frame NIC 0 received, if one is waiting (the image polls; a received frame
    /// goes to `Kernel::netif_receive`, as a NIC's receive interrupt would hand it over).
    pub fn nic_poll(&self) -> Option<Vec<u8>> {
        if !self.nic {
            return None;
        }
        virtio_net::poll()
    }

    /// The armed timer deadline (what a periodic timer will compare against).
    #[allow(dead_code)]
    pub fn timer(&self) -> Option<u64> {
        self.timer.get()
    }

    /// Text patched at `site`, if any (static keys).
    #[allow(dead_code)]
    pub fn patched(&self, site: usize) -> Option<Vec<u8>> {
        self.patches.borrow().get(&site).cloned()
    }

    fn in_ram(&self, pa: PhysAddr, len: usize) -> bool {
        let r = self.regions[0];
        pa.checked_sub(r.start).and_then(|off| off.checked_add(len as u64)).is_some_and(|end| end <= r.len)
    }

    fn ram_ptr(&self, pa: PhysAddr, len: usize, what: &str) -> *mut u8 {
        assert!(self.in_ram(pa, len), "{what} outside RAM: a kernel bug ({pa:#x}+{len})");
        pa as *mut u8
    }

    fn touch(&self, pa: PhysAddr, len: u64) {
        self.touched_end.set(self.touched_end.get().max(pa + len));
    }

    fn root(&self, asid: AddressSpaceId) -> Option<u64> {
        self.spaces.borrow().get(&asid.0).copied()
    }
}

impl Drop for X86Hal {
    fn drop(&mut self) {
        let ids: Vec<u64> = self.spaces.borrow().keys().copied().collect();
        for id in ids {
            self.destroy_address_space(AddressSpaceId(id));
        }
        let start = self.regions[0].start;
        // SAFETY: [start, touched_end) lies in this host's RAM region, which no mapping
        // uses any more (every address space is gone).
        unsafe { core::ptr::write_bytes(start as *mut u8, 0, (self.touched_end.get() - start) as usize) };
        layout::host_ram_free(start, self.regions[0].len);
    }
}

impl Clock for X86Hal {
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

impl Entropy for X86Hal {
    fn next_u64(&self) -> u64 {
        self.rng.borrow_mut().next_u64()
    }
}

impl Console for X86Hal {
    fn console_write(&self, bytes: &[u8]) {
        self.console.borrow_mut().extend_from_slice(bytes);
    }
}

impl Cpu for X86Hal {
    fn cpu_id(&self) -> u32 {
        0
    }
    fn cpu_count(&self) -> u32 {
        1
    }
    fn irq_save(&self) -> IrqFlags {
        let on = x86_64::instructions::interrupts::are_enabled();
        x86_64::instructions::interrupts::disable();
        IrqFlags(on as u64)
    }
    fn irq_restore(&self, flags: IrqFlags) {
        if flags.0 != 0 {
            x86_64::instructions::interrupts::enable();
        } else {
            x86_64::instructions::interrupts::disable();
        }
    }
    fn cpu_relax(&self) {
        core::hint::spin_loop();
    }
}

impl PhysMem for X86Hal {
    fn ram_regions(&self) -> &[MemRegion] {
        &self.regions
    }
    fn phys_read(&self, pa: PhysAddr, buf: &mut [u8]) {
        let p = self.ram_ptr(pa, buf.len(), "phys_read");
        // SAFETY: the range lies inside this host's RAM region (checked), which is
        // identity-mapped and disjoint from every Rust object.
        unsafe { core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
    }
    fn phys_write(&self, pa: PhysAddr, data: &[u8]) {
        let p = self.ram_ptr(pa, data.len(), "phys_write");
        self.touch(pa, data.len() as u64);
        // SAFETY: as in phys_read.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
    }
    fn phys_zero_frame(&self, pa: PhysAddr) {
        let p = self.ram_ptr(pa, PAGE_SIZE as usize, "frame");
        self.touch(pa, PAGE_SIZE);
        // SAFETY: as in phys_read.
        unsafe { core::ptr::write_bytes(p, 0, PAGE_SIZE as usize) };
    }
    fn phys_copy_frame(&self, dst: PhysAddr, src: PhysAddr) {
        let s = self.ram_ptr(src, PAGE_SIZE as usize, "frame");
        let d = self.ram_ptr(dst, PAGE_SIZE as usize, "frame");
        self.touch(dst, PAGE_SIZE);
        // SAFETY: both frames lie in this host's RAM region; `copy` allows dst == src.
        unsafe { core::ptr::copy(s, d, PAGE_SIZE as usize) };
    }
}

impl Mmu for X86Hal {
    fn create_address_space(&self) -> Result<AddressSpaceId, MmuError> {
        let root = paging::new_root().ok_or(MmuError::NoMemory)?;
        let id = self.next_asid.get() + 1;
        self.next_asid.set(id);
        self.spaces.borrow_mut().insert(id, root);
        Ok(AddressSpaceId(id))
    }
    fn destroy_address_space(&self, asid: AddressSpaceId) {
        let Some(root) = self.spaces.borrow_mut().remove(&asid.0) else { return };
        if paging::current_root() == root {
            paging::switch_to_boot();
        }
        paging::free_root(root);
    }
    fn map_page(&self, asid: AddressSpaceId, va: VirtAddr, pa: PhysAddr, flags: PteFlags) -> Result<(), MmuError> {
        // The same checks in the same order as hal-sim, then the identity-map limit.
        if !self.in_ram(pa, PAGE_SIZE as usize) || va % PAGE_SIZE != 0 || pa % PAGE_SIZE != 0 || va >= paging::USER_TOP {
            return Err(MmuError::BadAddress);
        }
        let root = self.root(asid).ok_or(MmuError::NoAddressSpace)?;
        paging::map(root, va, pa, flags)?;
        // User copies may write the frame from now on.
        self.touch(pa, PAGE_SIZE);
        if paging::current_root() == root {
            paging::flush(Some(va));
        }
        Ok(())
    }
    fn unmap_page(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<PhysAddr> {
        let root = self.root(asid)?;
        if va >= paging::USER_TOP {
            return None;
        }
        let page = va & !(PAGE_SIZE - 1);
        let pa = paging::unmap(root, page)?;
        if paging::current_root() == root {
            paging::flush(Some(page));
        }
        Some(pa)
    }
    fn translate(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<(PhysAddr, PteFlags)> {
        if va >= paging::USER_TOP {
            return None;
        }
        paging::lookup(self.root(asid)?, va)
    }
    fn flush_tlb(&self, asid: AddressSpaceId, va: Option<VirtAddr>) {
        // Only the loaded root can have cached entries: loading another root flushes them.
        if self.root(asid).is_some_and(|r| r == paging::current_root()) {
            paging::flush(va);
        }
    }
    fn activate(&self, asid: AddressSpaceId) {
        if let Some(root) = self.root(asid) {
            paging::switch_to(root);
        }
    }
    fn user_va_floor(&self) -> VirtAddr {
        // The identity map owns the first GiB: the kernel's address search stays above.
        paging::USER_FLOOR
    }
}

impl UserAccess for X86Hal {
    fn user_access_begin(&self) {
        uaccess::begin();
    }
    fn user_access_end(&self) {
        uaccess::end();
    }
    fn raw_copy_from_user(&self, asid: AddressSpaceId, src: VirtAddr, dst: &mut [u8]) -> Result<(), UserFault> {
        let Some(root) = self.root(asid) else { return Err(UserFault::NotMapped { addr: src }) };
        uaccess::copy_from_user(root, src, dst)
    }
    fn raw_copy_to_user(&self, asid: AddressSpaceId, dst: VirtAddr, src: &[u8]) -> Result<(), UserFault> {
        let Some(root) = self.root(asid) else { return Err(UserFault::NotMapped { addr: dst }) };
        uaccess::copy_to_user(root, dst, src)
    }
}

impl TextPatch for X86Hal {
    fn patch_text(&self, site: usize, insn: &[u8]) {
        self.patches.borrow_mut().insert(site, insn.to_vec());
    }
}

impl Devices for X86Hal {
    fn device_names(&self) -> &[&'static str] {
        &[]
    }
    fn nic_count(&self) -> u32 {
        self.nic as u32
    }
    fn nic_mac(&self, nic: u32) -> Option<[u8; 6]> {
        if self.nic && nic == 0 {
            virtio_net::mac()
        } else {
            None
        }
    }
    fn nic_transmit(&self, nic: u32, frame: &[u8]) -> bool {
        self.nic && nic == 0 && virtio_net::transmit(frame)
    }
}

impl harness::world::Platform for X86Hal {
    fn idle_until(&self, t: u64) {
        if t > self.now.get() {
            self.now.set(t);
        }
    }
    fn charge(&self, ns: u64) {
        self.now.set(self.now.get().saturating_add(ns));
    }
    fn take_console(&self) -> Vec<u8> {
        core::mem::take(&mut self.console.borrow_mut())
    }
}

/// Makes bare-metal machines for the scenario runner; host `i` of a run with seed `s`
/// draws from `s + i·φ`, exactly as harness's SimFactory.
pub struct X86Factory {
    /// The run's seed.
    pub seed: u64,
}

impl harness::runner::PlatformFactory for X86Factory {
    type P = X86Hal;
    fn make(&self, index: usize, ram: u64) -> X86Hal {
        let seed = self.seed.wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        X86Hal::new(seed, ram)
    }
}
