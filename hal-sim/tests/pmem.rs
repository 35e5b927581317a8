//! The simulator's persistent memory: its place in the physical map, sparse contents, user
//! mappings of pmem frames, and the point of it all: bytes written through `memremap`
//! survive a simulated host reboot while RAM does not.

use hal_sim::{PmemImage, ResourceConflict, SimConfig, SimHal, DEFAULT_PMEM, PMEM_BASE, RAM_BASE};
use kernel::hal::*;
use kernel::mm::memremap::{Device, Iomem, PmemMode, MEMREMAP_WB, MEMREMAP_WT, PAGE_OFFSET};
use kernel::{Kernel, KernelConfig};

fn config(seed: u64) -> SimConfig {
    SimConfig { seed, ram_bytes: 4 << 20, cpus: 1 }
}

#[test]
fn pmem_appears_in_the_map_outside_ram_and_not_busy() {
    let h = SimHal::new(config(1)).with_pmem(PmemImage::new(PMEM_BASE, DEFAULT_PMEM));
    assert_eq!(
        h.iomem_resources(),
        [
            PhysResource { start: RAM_BASE, len: 4 << 20, name: IORES_SYSTEM_RAM, busy: true },
            PhysResource { start: PMEM_BASE, len: DEFAULT_PMEM, name: IORES_PMEM_LEGACY, busy: false },
        ]
    );
    assert_eq!(h.ram_regions(), [MemRegion { start: RAM_BASE, len: 4 << 20 }], "pmem is not RAM the kernel may allocate");
    // A machine without pmem has only RAM, and refuses pmem accesses.
    let plain = SimHal::new(config(1));
    assert_eq!(plain.iomem_resources().len(), 1);
    assert_eq!(plain.pmem_read(PMEM_BASE, &mut [0u8; 4]), Err(PmemError::NotPmem));
    assert_eq!(plain.pmem_image(), None);
}

#[test]
fn devices_and_resources_must_not_collide() {
    let mut h = SimHal::new(config(1));
    assert_eq!(h.add_pmem(PmemImage::new(RAM_BASE + 4096, 4096)), Err(ResourceConflict::Overlap { with: RAM_BASE }));
    assert_eq!(h.add_pmem(PmemImage::new(PMEM_BASE, 0)), Err(ResourceConflict::Empty));
    h.add_pmem(PmemImage::new(PMEM_BASE, DEFAULT_PMEM)).unwrap();
    assert_eq!(h.add_resource(PhysResource { start: PMEM_BASE + DEFAULT_PMEM - 1, len: 2, name: IORES_RESERVED, busy: false }), Err(ResourceConflict::Overlap { with: PMEM_BASE }));
    h.add_pmem(PmemImage::new(PMEM_BASE + DEFAULT_PMEM, 4096).named(IORES_PMEM)).unwrap();
    h.add_resource(PhysResource { start: 0xf_0000, len: 0x1_0000, name: IORES_RESERVED, busy: true }).unwrap();
    let starts: Vec<u64> = h.iomem_resources().iter().map(|r| r.start).collect();
    assert_eq!(starts, [0xf_0000, RAM_BASE, PMEM_BASE, PMEM_BASE + DEFAULT_PMEM], "kept sorted");
    assert_eq!(h.pmem_images().len(), 2);
}

#[test]
fn contents_are_sparse_and_range_checked() {
    let h = SimHal::new(config(1)).with_pmem(PmemImage::new(PMEM_BASE, 1 << 30));
    h.pmem_write(PMEM_BASE + 4090, b"across a page").unwrap();
    let mut b = [0u8; 13];
    h.pmem_read(PMEM_BASE + 4090, &mut b).unwrap();
    assert_eq!(&b, b"across a page");
    assert_eq!(h.pmem_image().unwrap().resident_pages(), 2, "1 GiB of pmem, two pages stored");
    assert_eq!(h.pmem_write(PMEM_BASE + (1 << 30) - 2, b"abc"), Err(PmemError::NotPmem), "leaves the device");
    assert_eq!(h.pmem_read(PMEM_BASE - 1, &mut b), Err(PmemError::NotPmem));
    assert_eq!(h.pmem_write(u64::MAX, b"x"), Err(PmemError::NotPmem));
    // Equality is by content: a page of written zeroes equals a page never written.
    let mut a = PmemImage::new(PMEM_BASE, 8192);
    let fresh = a.clone();
    assert!(a.write(4096, &[0; 16]));
    assert_eq!(a, fresh);
    assert!(a.write(4096, &[1]));
    assert_ne!(a, fresh);
    assert!(!a.write(8192, &[1]));
}

#[test]
fn pmem_frames_can_back_user_mappings() {
    let h = SimHal::new(config(1)).with_pmem(PmemImage::new(PMEM_BASE, DEFAULT_PMEM));
    let asid = h.create_address_space().unwrap();
    let rw = PteFlags { write: true, user: true, exec: false };
    h.map_page(asid, 0x1000, PMEM_BASE + 0x2000, rw).unwrap();
    assert_eq!(h.map_page(asid, 0x2000, PMEM_BASE + DEFAULT_PMEM, rw), Err(MmuError::BadAddress), "past the device");
    h.user_access_begin();
    h.raw_copy_to_user(asid, 0x1ffc, b"dax!").unwrap();
    let mut b = [0u8; 4];
    h.raw_copy_from_user(asid, 0x1ffc, &mut b).unwrap();
    h.user_access_end();
    assert_eq!(&b, b"dax!");
    h.pmem_read(PMEM_BASE + 0x2ffc, &mut b).unwrap();
    assert_eq!(&b, b"dax!");
}

/// Boots a kernel on `hal` and maps the pmem namespace the way the 4.3 pmem driver does.
fn boot_and_probe(hal: SimHal) -> (Kernel<SimHal>, Iomem, u64) {
    let mut k = Kernel::new(hal, KernelConfig::default());
    let mut io = Iomem::new(&k.hal);
    let ns = Device::new("namespace0.0", "nd_pmem");
    let p = io.pmem_probe(&mut k, &ns, PMEM_BASE, DEFAULT_PMEM, PmemMode::Pages).expect("probe");
    (k, io, p.virt_addr.expect("mapped"))
}

#[test]
fn pmem_written_through_memremap_survives_a_reboot_and_ram_does_not() {
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + 3) as u8).collect();
    let ram_pa = RAM_BASE + (3 << 20);
    let old = {
        let hal = SimHal::new(config(1)).with_pmem(PmemImage::new(PMEM_BASE, DEFAULT_PMEM));
        let mut k = Kernel::new(hal, KernelConfig::default());
        let mut io = Iomem::new(&k.hal);
        // Through a write-through memremap mapping, and through the direct map of RAM.
        let wt = io.memremap(&mut k, PMEM_BASE + 0x1000, data.len() as u64, MEMREMAP_WT).unwrap();
        io.write(&k.hal, wt, &data).unwrap();
        let ram = io.memremap(&mut k, ram_pa, 4096, MEMREMAP_WB).unwrap();
        assert_eq!(ram, PAGE_OFFSET + ram_pa);
        io.write(&k.hal, ram, b"volatile").unwrap();
        io.memunmap(&mut k, wt);
        k.hal.pmem_image().unwrap()
    };
    // Power on a new machine with the old device's contents.
    let hal = SimHal::new(config(2)).with_pmem(old);
    let mut k = Kernel::new(hal, KernelConfig::default());
    let mut io = Iomem::new(&k.hal);
    let wb = io.memremap(&mut k, PMEM_BASE + 0x1000, data.len() as u64, MEMREMAP_WB).unwrap();
    let mut back = vec![0u8; data.len()];
    io.read(&k.hal, wb, &mut back).unwrap();
    assert_eq!(back, data);
    let ram = io.memremap(&mut k, ram_pa, 4096, MEMREMAP_WB).unwrap();
    let mut b = [0xaau8; 8];
    io.read(&k.hal, ram, &mut b).unwrap();
    assert_eq!(b, [0; 8], "RAM starts zeroed");
}

#[test]
fn reboot_keeps_the_map_and_pmem_of_a_page_mapped_namespace() {
    let hal = SimHal::new(config(1)).with_pmem(PmemImage::new(PMEM_BASE, DEFAULT_PMEM)).with_resource(PhysResource { start: 0xf_0000, len: 0x1_0000, name: IORES_RESERVED, busy: true });
    let (k, io, va) = boot_and_probe(hal);
    io.write(&k.hal, va + DEFAULT_PMEM - 5, b"tail!").unwrap();
    io.write(&k.hal, PAGE_OFFSET + RAM_BASE + (2 << 20), b"gone").unwrap();
    let next = k.hal.reboot(config(1));
    assert_eq!(next.iomem_resources(), k.hal.iomem_resources());
    assert_eq!(next.pmem_images(), k.hal.pmem_images());
    let (k2, io2, va2) = boot_and_probe(next);
    assert_eq!(va2, va, "same map, same direct-map address");
    let mut b = [0u8; 5];
    io2.read(&k2.hal, va2 + DEFAULT_PMEM - 5, &mut b).unwrap();
    assert_eq!(&b, b"tail!");
    let mut r = [1u8; 4];
    k2.hal.phys_read(RAM_BASE + (2 << 20), &mut r);
    assert_eq!(r, [0; 4]);
}
