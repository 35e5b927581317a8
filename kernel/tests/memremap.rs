//! `memremap()`, `devm_memremap_pages()` and the nvdimm pmem probe (`kernel::mm::memremap`)
//! on the simulator: every case of spec mm-memremap.md §3 and its test ideas (§5), the
//! `/proc/iomem` text, and a seeded no-panic sweep over arbitrary arguments.
#![cfg(not(loom))]

use hal_sim::{PmemImage, SimConfig, SimHal, PMEM_BASE, RAM_BASE};
use kernel::hal::{PhysResource, IORES_RESERVED};
use kernel::mm::memremap::*;
use kernel::{Errno, Kernel, KernelConfig};

const MIB: u64 = 1 << 20;
const RAM: u64 = 16 * MIB;
const PMEM: u64 = 128 * MIB;
/// A reserved (not busy) range right after RAM, for ranges that mix RAM and other.
const RESERVED_AT: u64 = RAM_BASE + RAM;

fn boot(hal: SimHal) -> (Kernel<SimHal>, Iomem) {
    // The tests drive the pmem driver on their own Iomem: no boot-time probe.
    let k = Kernel::new(hal, KernelConfig { pmem_legacy: false, ..KernelConfig::default() });
    let io = Iomem::new(&k.hal);
    (k, io)
}

fn sim(ram: u64) -> SimHal {
    SimHal::new(SimConfig { seed: 1, ram_bytes: ram, cpus: 1 })
}

/// RAM at 1 MiB, a 1 MiB reserved hole right after it, 128 MiB of pmem at 4 GiB.
fn machine() -> (Kernel<SimHal>, Iomem) {
    boot(sim(RAM).with_resource(PhysResource { start: RESERVED_AT, len: MIB, name: IORES_RESERVED, busy: false }).with_pmem(PmemImage::new(PMEM_BASE, PMEM)))
}

/// Kernel log lines from `from` on, without their timestamps.
fn log_since(k: &Kernel<SimHal>, from: usize) -> Vec<String> {
    k.dmesg()[from..].iter().map(|l| l.split_once("] ").map_or(l.clone(), |(_, t)| t.to_string())).collect()
}

fn warnings(lines: &[String]) -> usize {
    lines.iter().filter(|l| l.starts_with("WARNING: ")).count()
}

fn is_vmalloc(a: u64) -> bool {
    (VMALLOC_START..VMALLOC_END).contains(&a)
}

#[test]
fn region_intersects_follows_the_4_3_counting_rule() {
    let (_, io) = machine();
    let ram = "System RAM";
    assert_eq!(io.region_intersects(RAM_BASE, 4096, ram), RegionKind::Intersects);
    assert_eq!(io.region_intersects(RAM_BASE, RAM, ram), RegionKind::Intersects);
    // RAM running into a hole: the hole counts for nothing.
    assert_eq!(io.region_intersects(0, 2 * MIB, ram), RegionKind::Intersects);
    // RAM running into a resource of another name: mixed.
    assert_eq!(io.region_intersects(RESERVED_AT - 4096, 8192, ram), RegionKind::Mixed);
    // A range swallowing RAM and pmem whole.
    assert_eq!(io.region_intersects(0, 8 << 30, ram), RegionKind::Mixed);
    assert_eq!(io.region_intersects(PMEM_BASE, MIB, ram), RegionKind::Disjoint);
    assert_eq!(io.region_intersects(RESERVED_AT, 4096, ram), RegionKind::Disjoint);
    assert_eq!(io.region_intersects(1 << 40, 4096, ram), RegionKind::Disjoint);
    // Size 0: `end` is start - 1, so only the start is inside.
    assert_eq!(io.region_intersects(RAM_BASE + 4096, 0, ram), RegionKind::Intersects);
    // A size that wraps: `end` lands below `start`, only the start hit counts.
    assert_eq!(io.region_intersects(RAM_BASE, u64::MAX, ram), RegionKind::Intersects);
    // Classification by other names works the same way.
    assert_eq!(io.region_intersects(PMEM_BASE, MIB, "Persistent Memory (legacy)"), RegionKind::Disjoint, "pmem is not busy, so never the asked type");
}

#[test]
fn wb_on_pmem_is_a_new_write_back_mapping_and_wt_a_write_through_one() {
    let (mut k, mut io) = machine();
    let wb = io.memremap(&mut k, PMEM_BASE, MIB, MEMREMAP_WB).expect("WB mapping");
    let wt = io.memremap(&mut k, PMEM_BASE, MIB, MEMREMAP_WT).expect("WT mapping");
    assert!(is_vmalloc(wb) && is_vmalloc(wt) && wb != wt);
    assert_eq!(io.translate(wb), Some((PMEM_BASE, KernelMapping::Ioremap(CacheMode::WriteBack))));
    assert_eq!(io.translate(wt + 4096), Some((PMEM_BASE + 4096, KernelMapping::Ioremap(CacheMode::WriteThrough))));
    let m: Vec<_> = io.mappings().copied().collect();
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].phys, m[0].size, m[0].cache), (PMEM_BASE, MIB, CacheMode::WriteBack));
    // Both requested: WB is tried first and wins.
    let both = io.memremap(&mut k, PMEM_BASE, MIB, MEMREMAP_WB | MEMREMAP_WT).unwrap();
    assert_eq!(io.translate(both).unwrap().1, KernelMapping::Ioremap(CacheMode::WriteBack));
    // Unknown bits are ignored.
    let wt2 = io.memremap(&mut k, PMEM_BASE, MIB, MEMREMAP_WT | 0x100).unwrap();
    assert_eq!(io.translate(wt2).unwrap().1, KernelMapping::Ioremap(CacheMode::WriteThrough));
    // Two aliases see each other's stores.
    io.write(&k.hal, wb + 10, b"persistent").unwrap();
    let mut buf = [0u8; 10];
    io.read(&k.hal, wt + 10, &mut buf).unwrap();
    assert_eq!(&buf, b"persistent");
}

#[test]
fn wb_on_ram_returns_the_direct_map_and_wt_on_ram_warns_once() {
    let (mut k, mut io) = machine();
    let n = k.dmesg().len();
    let a = io.memremap(&mut k, RAM_BASE, 4096, MEMREMAP_WB).unwrap();
    assert_eq!(a, PAGE_OFFSET + RAM_BASE);
    assert_eq!(io.translate(a), Some((RAM_BASE, KernelMapping::Direct)));
    assert_eq!(io.mappings().count(), 0, "no new mapping");
    // WB satisfied from the direct map: WT never tried, no warning.
    assert_eq!(io.memremap(&mut k, RAM_BASE, 4096, MEMREMAP_WB | MEMREMAP_WT), Some(a));
    assert_eq!(warnings(&log_since(&k, n)), 0);
    assert_eq!(io.memremap(&mut k, RAM_BASE, 4096, MEMREMAP_WT), None);
    let lines = log_since(&k, n);
    assert_eq!(lines, ["------------[ cut here ]------------", "WARNING: CPU: 0 PID: 0 at kernel/memremap.c memremap()", "memremap attempted on ram 0x0000000000100000 size: 0x1000"]);
    // Once: the second refusal is silent, and so is WT with an unknown bit.
    assert_eq!(io.memremap(&mut k, RAM_BASE + 8192, 8192, MEMREMAP_WT | 0x40), None);
    assert_eq!(log_since(&k, n).len(), 3);
    assert_eq!(io.mappings().count(), 0);
    // The direct map aliases the frames the kernel hands out.
    io.write(&k.hal, a + 100, b"alias").unwrap();
    let mut b = [0u8; 5];
    kernel::hal::PhysMem::phys_read(&k.hal, RAM_BASE + 100, &mut b);
    assert_eq!(&b, b"alias");
}

#[test]
fn a_range_from_ram_into_a_hole_counts_as_ram() {
    let (mut k, mut io) = boot(sim(RAM).with_pmem(PmemImage::new(PMEM_BASE, PMEM)));
    let start = RAM_BASE + RAM - 4096;
    assert_eq!(io.memremap(&mut k, start, 2 * 4096, MEMREMAP_WB), Some(PAGE_OFFSET + start));
    let n = k.dmesg().len();
    assert_eq!(io.memremap(&mut k, start, 2 * 4096, MEMREMAP_WT), None);
    assert_eq!(log_since(&k, n)[2], "memremap attempted on ram 0x00000000010ff000 size: 0x2000");
    // Only the RAM half of that direct-map range is backed.
    let mut b = [0u8; 8];
    assert_eq!(io.read(&k.hal, PAGE_OFFSET + start + 4096, &mut b), Err(Errno::EFAULT));
}

#[test]
fn mixed_ranges_are_refused_with_one_warning() {
    let (mut k, mut io) = machine();
    let n = k.dmesg().len();
    let start = RESERVED_AT - 4096;
    for flags in [MEMREMAP_WB, MEMREMAP_WT, MEMREMAP_WB | MEMREMAP_WT] {
        assert_eq!(io.memremap(&mut k, start, 8192, flags), None);
    }
    let lines = log_since(&k, n);
    assert_eq!(warnings(&lines), 1);
    assert_eq!(lines[2], "memremap attempted on mixed range 0x00000000010ff000 size: 0x2000");
    assert_eq!(io.mappings().count(), 0);
    // The mixed warning and the RAM warning are separate call sites: each fires once.
    assert_eq!(io.memremap(&mut k, RAM_BASE, 4096, MEMREMAP_WT), None);
    assert_eq!(warnings(&log_since(&k, n)), 2);
}

#[test]
fn no_flags_and_unknown_flags_give_null() {
    let (mut k, mut io) = machine();
    let n = k.dmesg().len();
    for (off, flags) in [(PMEM_BASE, 0), (RAM_BASE, 0), (PMEM_BASE, 1 << 2), (PMEM_BASE, 1 << 4)] {
        assert_eq!(io.memremap(&mut k, off, 4096, flags), None);
    }
    assert!(log_since(&k, n).is_empty(), "nothing tried, nothing said");
    // On RAM an unknown bit is still "a flag pending", so 4.3 warns about aliasing RAM.
    assert_eq!(io.memremap(&mut k, RAM_BASE, 4096, 1 << 3), None);
    assert_eq!(log_since(&k, n)[2], "memremap attempted on ram 0x0000000000100000 size: 0x1000");
}

#[test]
fn ioremap_edges_size_zero_bad_address_isa_and_sub_page_offsets() {
    let (mut k, mut io) = machine();
    let n = k.dmesg().len();
    assert_eq!(io.memremap(&mut k, PMEM_BASE, 0, MEMREMAP_WB), None, "ioremap refuses size 0");
    assert_eq!(io.memremap(&mut k, PMEM_BASE, u64::MAX, MEMREMAP_WB), None, "and a wrapping range");
    assert!(log_since(&k, n).is_empty());
    // At or above x86_phys_bits: a message and a bare one-time WARNING.
    assert_eq!(io.memremap(&mut k, 1 << 40, 4096, MEMREMAP_WB), None);
    assert_eq!(io.memremap(&mut k, 1 << 41, 4096, MEMREMAP_WT), None);
    let lines = log_since(&k, n);
    assert_eq!(lines[0], "ioremap: invalid physical address 10000000000");
    assert_eq!(lines[2], "WARNING: CPU: 0 PID: 0 at arch/x86/mm/ioremap.c __ioremap_caller()");
    assert_eq!(lines[3], "ioremap: invalid physical address 20000000000");
    assert_eq!(warnings(&lines), 1);
    // The ISA hole is answered from the direct map, and memunmap ignores it.
    let isa = io.memremap(&mut k, 0xb8000, 4000, MEMREMAP_WB).unwrap();
    assert_eq!(isa, PAGE_OFFSET + 0xb8000);
    assert_eq!(io.mappings().count(), 0);
    io.memunmap(&mut k, isa);
    // A sub-page range maps its whole pages and returns the offset inside.
    let a = io.memremap(&mut k, PMEM_BASE + 0x1234, 0x2000, MEMREMAP_WT).unwrap();
    assert_eq!(a % 4096, 0x234);
    let m = *io.mappings().next().unwrap();
    assert_eq!((m.phys, m.size), (PMEM_BASE + 0x1000, 0x3000));
    assert_eq!(io.translate(a), Some((PMEM_BASE + 0x1234, KernelMapping::Ioremap(CacheMode::WriteThrough))));
}

#[test]
fn ioremap_areas_are_aligned_first_fit_with_guard_pages() {
    let (mut k, mut io) = machine();
    let a = io.memremap(&mut k, PMEM_BASE, 4096, MEMREMAP_WB).unwrap();
    let b = io.memremap(&mut k, PMEM_BASE, 4096, MEMREMAP_WB).unwrap();
    let c = io.memremap(&mut k, PMEM_BASE, MIB, MEMREMAP_WB).unwrap();
    assert_eq!(a, VMALLOC_START);
    // 4 KiB areas align to 8 KiB (fls), and a guard page separates neighbours.
    assert_eq!(b, VMALLOC_START + 0x2000);
    // 1 MiB areas align to IOREMAP_MAX_ORDER (512 KiB).
    assert_eq!(c, VMALLOC_START + 0x80000);
    // The guard page is not mapped.
    let mut x = [0u8; 1];
    assert_eq!(io.read(&k.hal, a + 4096, &mut x), Err(Errno::EFAULT));
    // A freed hole is reused first.
    io.memunmap(&mut k, a);
    assert_eq!(io.memremap(&mut k, PMEM_BASE + 4096, 4096, MEMREMAP_WT), Some(a));
}

#[test]
fn memunmap_releases_ioremap_areas_and_ignores_the_direct_map() {
    let (mut k, mut io) = machine();
    let direct = io.memremap(&mut k, RAM_BASE, 4096, MEMREMAP_WB).unwrap();
    let mapped = io.memremap(&mut k, PMEM_BASE + 0x10, 0x100, MEMREMAP_WB).unwrap();
    let n = k.dmesg().len();
    io.memunmap(&mut k, direct);
    io.memunmap(&mut k, 0);
    assert_eq!(io.translate(direct).map(|t| t.1), Some(KernelMapping::Direct), "the direct map stays");
    assert_eq!(io.mappings().count(), 1);
    // Any address inside the area unmaps the whole area.
    io.memunmap(&mut k, mapped + 0x80);
    assert_eq!(io.mappings().count(), 0);
    assert!(log_since(&k, n).is_empty());
    let mut b = [0u8; 4];
    assert_eq!(io.read(&k.hal, mapped, &mut b), Err(Errno::EFAULT));
    // A second unmap finds no area.
    io.memunmap(&mut k, mapped);
    assert_eq!(log_since(&k, n), [format!("iounmap: bad address {:016x}", mapped & !0xfff)]);
}

#[test]
fn reads_of_a_range_with_nothing_behind_it_are_all_ones() {
    let (mut k, mut io) = machine();
    let a = io.memremap(&mut k, RESERVED_AT, 4096, MEMREMAP_WB).expect("a reserved range maps like any non-RAM");
    io.write(&k.hal, a, &[1, 2, 3]).unwrap();
    let mut b = [0u8; 3];
    io.read(&k.hal, a, &mut b).unwrap();
    assert_eq!(b, [0xff; 3]);
    // Past the end of pmem too (the mapping is DISJOINT, so it is made).
    let p = io.memremap(&mut k, PMEM_BASE + PMEM - 4096, 8192, MEMREMAP_WB).unwrap();
    io.write(&k.hal, p, &[7; 8192]).unwrap();
    let mut b = [0u8; 8192];
    io.read(&k.hal, p, &mut b).unwrap();
    assert!(b[..4096].iter().all(|&x| x == 7) && b[4096..].iter().all(|&x| x == 0xff));
}

#[test]
fn devm_memremap_conventions_per_kernel() {
    let dev = Device::new("namespace0.0", "nd_pmem");
    for (abi, devres_fail, remap_fail) in [
        (DevmAbi::Linux4_3, Ok(None), Ok(None)),
        (DevmAbi::Linux4_4, Err(Errno::ENOMEM), Ok(None)),
        (DevmAbi::Current, Err(Errno::ENOMEM), Err(Errno::ENXIO)),
    ] {
        let (mut k, mut io) = machine();
        io.abi = abi;
        io.fail_next_devres_alloc = true;
        assert_eq!(io.devm_memremap(&mut k, &dev, PMEM_BASE, MIB, MEMREMAP_WB), devres_fail, "{abi:?}");
        assert_eq!(io.devm_memremap(&mut k, &dev, RAM_BASE, 4096, MEMREMAP_WT), remap_fail, "{abi:?}");
        assert_eq!(io.devres_count(&dev), 0);
        let a = io.devm_memremap(&mut k, &dev, PMEM_BASE, MIB, MEMREMAP_WB).unwrap().unwrap();
        assert_eq!(io.devres_count(&dev), 1);
        io.device_release(&mut k, &dev);
        // The 4.3/4.4 release callback unmaps the devres cell, not the mapping: it leaks.
        let leaked = io.mappings().any(|m| m.va == a);
        assert_eq!(leaked, abi != DevmAbi::Current, "{abi:?}");
    }
}

#[test]
fn devm_memunmap_4_3_drops_the_record_then_unmaps() {
    let (mut k, mut io) = machine();
    let dev = Device::new("namespace0.0", "nd_pmem");
    let a = io.devm_memremap(&mut k, &dev, PMEM_BASE, MIB, MEMREMAP_WT).unwrap().unwrap();
    let n = k.dmesg().len();
    io.devm_memunmap(&mut k, &dev, a);
    assert_eq!((io.devres_count(&dev), io.mappings().count()), (0, 0));
    assert!(log_since(&k, n).is_empty());
    // No record: a bare WARNING, and the (already gone) address is still unmapped.
    io.devm_memunmap(&mut k, &dev, a);
    let lines = log_since(&k, n);
    assert_eq!(lines[1], "WARNING: CPU: 0 PID: 0 at kernel/memremap.c devm_memunmap()");
    assert_eq!(lines[2], format!("iounmap: bad address {a:016x}"));
}

#[test]
fn devm_memremap_pages_gives_every_pfn_a_zone_device_descriptor() {
    let (mut k, mut io) = machine();
    let mut dev = Device::new("namespace0.0", "nd_pmem");
    dev.nid = 1;
    let used = k.frames_used();
    let a = io.devm_memremap_pages(&mut k, &dev, PMEM_BASE, PMEM).unwrap();
    assert_eq!(a, PAGE_OFFSET + PMEM_BASE, "the direct map, now covering the device");
    assert_eq!(io.translate(a + PMEM - 1), Some((PMEM_BASE + PMEM - 1, KernelMapping::Direct)));
    let first = PMEM_BASE / 4096;
    for pfn in [first, first + 1, first + PAGES_PER_SECTION / 2, first + PAGES_PER_SECTION - 1] {
        let p = io.device_page(pfn).expect("a descriptor");
        assert_eq!(p, DevicePage { pfn, nid: 1, zone: Zone::Device, count: 1, reserved: true });
        assert!(io.pfn_valid(pfn) && io.is_zone_device_pfn(pfn));
        assert_eq!(io.page_zone(pfn), Some(Zone::Device));
    }
    assert_eq!(io.device_page(first + PAGES_PER_SECTION), None);
    assert_eq!(io.device_page(RAM_BASE / 4096), None);
    assert_eq!(io.page_zone(RAM_BASE / 4096), Some(Zone::Dma32), "RAM has a memmap but no device page");
    assert!(!io.pfn_valid(first - 1));
    // The memmap lives in RAM (2 MiB per section); the device pages never join the free pool.
    assert_eq!(k.frames_used(), used + MEMMAP_FRAMES_PER_SECTION);
    assert_eq!(io.memmap_frames().count() as u64, MEMMAP_FRAMES_PER_SECTION);
    // Reference counts, with the last reference refused.
    assert_eq!(io.get_page(first + 5), Ok(2));
    assert_eq!(io.put_page(first + 5), Ok(1));
    assert_eq!(io.put_page(first + 5), Err(Errno::EINVAL));
    assert_eq!(io.get_page(RAM_BASE / 4096), Err(Errno::EFAULT));
    // Data through the direct map reaches the device.
    io.write(&k.hal, a + 4096, b"dax").unwrap();
    let mut b = [0u8; 3];
    kernel::hal::Devices::pmem_read(&k.hal, PMEM_BASE + 4096, &mut b).unwrap();
    assert_eq!(&b, b"dax");
    // Detach: descriptors, memmap frames and the direct mapping go.
    io.device_release(&mut k, &dev);
    assert_eq!(io.device_page(first), None);
    assert_eq!(k.frames_used(), used);
    assert_eq!(io.translate(a), None);
}

#[test]
fn devm_memremap_pages_on_ram_mixed_and_without_zone_device() {
    let (mut k, mut io) = machine();
    let dev = Device::new("namespace0.0", "nd_pmem");
    let used = k.frames_used();
    // RAM already has struct pages: its direct-map address, nothing new.
    assert_eq!(io.devm_memremap_pages(&mut k, &dev, RAM_BASE, 2 * MIB), Ok(PAGE_OFFSET + RAM_BASE));
    assert_eq!((io.device_sections().count(), io.devres_count(&dev), k.frames_used()), (0, 0, used));
    let n = k.dmesg().len();
    assert_eq!(io.devm_memremap_pages(&mut k, &dev, RESERVED_AT - MIB, 2 * MIB), Err(Errno::ENXIO));
    assert_eq!(log_since(&k, n)[2], "devm_memremap_pages attempted on mixed region [mem 0x01000000-0x011fffff flags 0x200]");
    io.zone_device = false;
    let n = k.dmesg().len();
    assert_eq!(io.devm_memremap_pages(&mut k, &dev, PMEM_BASE, PMEM), Err(Errno::ENXIO));
    assert_eq!(io.devm_memremap_pages(&mut k, &dev, PMEM_BASE, PMEM), Err(Errno::ENXIO));
    assert_eq!(log_since(&k, n), ["------------[ cut here ]------------", "WARNING: CPU: 0 PID: 0 at include/linux/io.h devm_memremap_pages()"]);
    assert_eq!(io.device_sections().count(), 0);
}

#[test]
fn devm_memremap_pages_allocation_failures() {
    // The devres record.
    let (mut k, mut io) = machine();
    let dev = Device::new("namespace0.0", "nd_pmem");
    io.fail_next_devres_alloc = true;
    assert_eq!(io.devm_memremap_pages(&mut k, &dev, PMEM_BASE, PMEM), Err(Errno::ENOMEM));
    assert_eq!(io.device_sections().count(), 0);
    // The memmap: 3 MiB of RAM holds one section's memmap but not two. 4.3 keeps the
    // sections already added and the direct mapping (nothing will ever release them).
    let (mut k, mut io) = boot(sim(3 * MIB).with_pmem(PmemImage::new(PMEM_BASE, 2 * PMEM)));
    let n = k.dmesg().len();
    assert_eq!(io.devm_memremap_pages(&mut k, &dev, PMEM_BASE, 2 * PMEM), Err(Errno::ENOMEM));
    assert_eq!(log_since(&k, n)[1], "WARNING: CPU: 0 PID: 0 at arch/x86/mm/init_64.c arch_add_memory()");
    assert_eq!(io.device_sections().collect::<Vec<_>>(), [PMEM_BASE >> SECTION_SIZE_BITS]);
    assert_eq!(io.devres_count(&dev), 0);
}

#[test]
fn unaligned_page_maps_cover_whole_sections_and_bug_on_detach() {
    let (mut k, mut io) = machine();
    let dev = Device::new("namespace0.0", "nd_pmem");
    let start = PMEM_BASE + 64 * MIB;
    io.devm_memremap_pages(&mut k, &dev, start, 32 * MIB).unwrap();
    // The whole section gets a memmap, before and after the range.
    assert!(io.is_zone_device_pfn(PMEM_BASE / 4096));
    assert!(io.is_zone_device_pfn((PMEM_BASE + PMEM) / 4096 - 1));
    // A second map in the same section adds nothing (-EEXIST is ignored).
    let used = k.frames_used();
    let dev2 = Device::new("namespace0.1", "nd_pmem");
    io.devm_memremap_pages(&mut k, &dev2, PMEM_BASE, 32 * MIB).unwrap();
    assert_eq!(k.frames_used(), used);
    let n = k.dmesg().len();
    io.device_release(&mut k, &dev);
    assert_eq!(log_since(&k, n), ["------------[ cut here ]------------", "kernel BUG at mm/memory_hotplug.c: __remove_pages()", "invalid opcode: 0000 [#1] SMP"]);
    assert!(io.is_zone_device_pfn(start / 4096), "the memmap stays");
    assert_eq!(io.translate(PAGE_OFFSET + start), None, "the direct mapping was already gone");
}

#[test]
fn iomem_text_and_region_requests() {
    let (mut k, mut io) = machine();
    let base = "00100000-010fffff : System RAM\n01100000-011fffff : reserved\n100000000-107ffffff : Persistent Memory (legacy)\n";
    assert_eq!(io.iomem_text(), base);
    assert!(io.request_mem_region(PMEM_BASE, MIB, "namespace0.0"));
    assert!(io.request_mem_region(PMEM_BASE + MIB, MIB, "namespace0.1"));
    assert!(!io.request_mem_region(PMEM_BASE + MIB / 2, MIB, "overlap"), "inside a busy claim");
    assert!(!io.request_mem_region(RAM_BASE, 4096, "ram"), "System RAM is busy");
    assert!(!io.request_mem_region(PMEM_BASE + PMEM - 4096, 8192, "across"), "leaves its parent");
    assert!(!io.request_mem_region(PMEM_BASE, 0, "empty"));
    assert!(io.request_mem_region(2 << 30, 4096, "hole"), "a hole is free at the top level");
    assert!(io.request_mem_region(RESERVED_AT, 4096, "in reserved"));
    assert_eq!(
        io.iomem_text(),
        "00100000-010fffff : System RAM\n01100000-011fffff : reserved\n  01100000-01100fff : in reserved\n80000000-80000fff : hole\n100000000-107ffffff : Persistent Memory (legacy)\n  100000000-1000fffff : namespace0.0\n  100100000-1001fffff : namespace0.1\n"
    );
    let n = k.dmesg().len();
    io.release_mem_region(&mut k, PMEM_BASE, MIB);
    io.release_mem_region(&mut k, PMEM_BASE, MIB);
    assert_eq!(log_since(&k, n), ["Trying to free nonexistent resource <0000000100000000-00000001000fffff>"]);
    assert!(!io.iomem_text().contains("namespace0.0"));
}

#[test]
fn a_hal_without_a_map_gets_its_ram_as_system_ram() {
    struct NoMap(SimHal);
    impl kernel::hal::PhysMem for NoMap {
        fn ram_regions(&self) -> &[kernel::hal::MemRegion] {
            self.0.ram_regions()
        }
        fn phys_read(&self, pa: u64, buf: &mut [u8]) {
            self.0.phys_read(pa, buf)
        }
        fn phys_write(&self, pa: u64, data: &[u8]) {
            self.0.phys_write(pa, data)
        }
        fn phys_zero_frame(&self, pa: u64) {
            self.0.phys_zero_frame(pa)
        }
        fn phys_copy_frame(&self, dst: u64, src: u64) {
            self.0.phys_copy_frame(dst, src)
        }
    }
    impl kernel::hal::Devices for NoMap {
        fn device_names(&self) -> &[&'static str] {
            &[]
        }
    }
    let io = Iomem::new(&NoMap(sim(RAM).with_pmem(PmemImage::new(PMEM_BASE, PMEM))));
    assert_eq!(io.iomem_text(), "00100000-010fffff : System RAM\n");
}

#[test]
fn pmem_probe_maps_pages_and_refuses_a_second_claim() {
    let (mut k, mut io) = machine();
    let ns = Device::new("namespace0.0", "nd_pmem");
    let n = k.dmesg().len();
    let p = io.pmem_probe(&mut k, &ns, PMEM_BASE, PMEM, PmemMode::Pages).unwrap();
    assert_eq!(p, PmemDevice { phys_addr: PMEM_BASE, size: PMEM, data_offset: 0, virt_addr: Some(PAGE_OFFSET + PMEM_BASE) });
    assert_eq!(log_since(&k, n), ["nd_pmem namespace0.0: unable to guarantee persistence of writes"]);
    assert!(io.iomem_text().ends_with("100000000-107ffffff : Persistent Memory (legacy)\n  100000000-107ffffff : namespace0.0\n"));
    assert!(io.is_zone_device_pfn(PMEM_BASE / 4096));
    // Another device on the same range: EBUSY (4.3's format doubles the 0x).
    let other = Device::new("namespace0.1", "nd_pmem");
    io.arch_has_wmb_pmem = true;
    let n = k.dmesg().len();
    assert_eq!(io.pmem_probe(&mut k, &other, PMEM_BASE, PMEM, PmemMode::Pages), Err(Errno::EBUSY));
    assert_eq!(log_since(&k, n), ["nd_pmem namespace0.1: could not reserve region [0x0x0000000100000000:0x8000000]"]);
    assert!(io.is_zone_device_pfn(PMEM_BASE / 4096), "the first device keeps its pages");
    // Unbind: 4.3's hot-remove releases the busy resource over the range (the driver's
    // own claim), so the devres release of that claim then finds nothing.
    let n = k.dmesg().len();
    io.device_release(&mut k, &ns);
    assert_eq!(log_since(&k, n), ["Trying to free nonexistent resource <0000000100000000-0000000107ffffff>"]);
    assert!(!io.is_zone_device_pfn(PMEM_BASE / 4096));
    assert_eq!(io.iomem_text(), "00100000-010fffff : System RAM\n01100000-011fffff : reserved\n100000000-107ffffff : Persistent Memory (legacy)\n");
}

#[test]
fn pmem_probe_without_page_mapping_uses_devm_memremap() {
    let (mut k, mut io) = machine();
    let ns = Device::new("namespace0.0", "nd_pmem");
    let p = io.pmem_probe(&mut k, &ns, PMEM_BASE, PMEM, PmemMode::Memremap).unwrap();
    assert!(is_vmalloc(p.virt_addr.unwrap()) && io.device_sections().count() == 0, "no page descriptors");
    io.abi = DevmAbi::Current;
    io.device_release(&mut k, &ns);
    assert_eq!(io.mappings().count(), 0, "fixed kernels unmap on detach");
    io.abi = DevmAbi::Linux4_3;
    // A page-mappable region on a kernel without ZONE_DEVICE falls back to memremap.
    io.zone_device = false;
    let p = io.pmem_probe(&mut k, &ns, PMEM_BASE, PMEM, PmemMode::Pages).unwrap();
    let a = p.virt_addr.unwrap();
    assert!(is_vmalloc(a));
    assert_eq!(io.translate(a).unwrap().1, KernelMapping::Ioremap(CacheMode::WriteBack), "ARCH_MEMREMAP_PMEM is WB on x86_64");
    let n = k.dmesg().len();
    io.device_release(&mut k, &ns);
    assert!(log_since(&k, n).is_empty());
    assert_eq!(io.mappings().count(), 1, "4.3 leaks the mapping on detach");
    assert!(!io.iomem_text().contains("namespace"), "the region claim is released");
}

#[test]
fn pfn_devices_check_alignment_and_mode() {
    let (mut k, mut io) = boot(sim(RAM).with_pmem(PmemImage::new(PMEM_BASE, 2 * PMEM)));
    let ns = Device::new("pfn0.0", "nd_pmem");
    // Not section aligned, or smaller than a section: a fresh pfn device refuses.
    assert_eq!(io.pmem_probe(&mut k, &ns, PMEM_BASE + MIB, PMEM, PmemMode::PfnRam), Err(Errno::ENODEV));
    assert_eq!(io.pmem_probe(&mut k, &ns, PMEM_BASE, PMEM / 2, PmemMode::PfnRam), Err(Errno::ENODEV));
    assert_eq!(io.pmem_probe(&mut k, &ns, PMEM_BASE, PMEM, PmemMode::PfnPmem), Err(Errno::ENXIO));
    // Each failed probe released what it claimed, except that 4.3's devm_memremap
    // release leaks the mapping: three probes, three stray mappings.
    assert_eq!((io.devres_count(&ns), io.device_sections().count()), (0, 0));
    assert!(!io.iomem_text().contains("pfn0.0"));
    assert_eq!(io.mappings().count(), 3);
    let p = io.pmem_probe(&mut k, &ns, PMEM_BASE, PMEM, PmemMode::PfnRam).unwrap();
    assert_eq!((p.virt_addr, p.data_offset), (Some(PAGE_OFFSET + PMEM_BASE), 8192));
    assert_eq!(io.mappings().count(), 3, "devm_memunmap traded the new mapping for the direct map");
    assert_eq!(io.device_sections().count(), 1);
}

/// xorshift64*: the sweep's own deterministic source.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick(&mut self, xs: &[u64]) -> u64 {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// Arbitrary offsets, sizes and flags never panic, and leave the state consistent: every
/// live area is page aligned, inside the vmalloc range and not overlapping the next; the
/// memmap frames are exactly the sections' share of used RAM. Two runs of one seed print
/// the same log (determinism).
#[test]
fn arbitrary_arguments_never_panic_and_replay_identically() {
    let run = |seed: u64| -> (Vec<String>, String) {
        let (mut k, mut io) = machine();
        let base_used = k.frames_used();
        let mut rng = Rng(seed | 1);
        let devs = [Device::new("a", "nd_pmem"), Device::new("b", "nd_pmem")];
        let offs = [0, RAM_BASE, RESERVED_AT - 4096, RESERVED_AT, PMEM_BASE, PMEM_BASE + 0x123, PMEM_BASE + PMEM - 1, 0xa0000, 1 << 40, u64::MAX - 4095, u64::MAX];
        let sizes = [0, 1, 4096, 8192, MIB, PMEM, 2 * PMEM, 1 << 46, u64::MAX];
        let mut live = Vec::new();
        for _ in 0..300 {
            let (off, size, flags) = (rng.pick(&offs), rng.pick(&sizes), rng.next() & 0x1f);
            let d = &devs[(rng.next() % 2) as usize];
            match rng.next() % 8 {
                0 | 1 => live.extend(io.memremap(&mut k, off, size, flags)),
                2 => {
                    let a = if live.is_empty() { rng.next() } else { live.swap_remove((rng.next() % live.len() as u64) as usize) };
                    io.memunmap(&mut k, a);
                }
                3 => {
                    let _ = io.devm_memremap_pages(&mut k, d, off, size);
                }
                4 => {
                    let _ = io.devm_memremap(&mut k, d, off, size, flags);
                }
                5 => {
                    let _ = io.pmem_probe(&mut k, d, off, size, [PmemMode::Memremap, PmemMode::Pages, PmemMode::PfnRam, PmemMode::PfnPmem][(flags % 4) as usize]);
                }
                6 => io.device_release(&mut k, d),
                _ => {
                    let wild = rng.next();
                    let a = rng.pick(&[VMALLOC_START, PAGE_OFFSET + RAM_BASE, PAGE_OFFSET + PMEM_BASE, wild]);
                    let mut buf = vec![0u8; (rng.next() % 9000) as usize];
                    let _ = io.read(&k.hal, a, &mut buf);
                    let _ = io.write(&k.hal, a, &buf);
                }
            }
            let areas: Vec<IoMapping> = io.mappings().copied().collect();
            for w in areas.windows(2) {
                assert!(w[0].va + w[0].size + 4096 <= w[1].va, "areas overlap: {w:?}");
            }
            for m in &areas {
                assert!(m.va % 4096 == 0 && m.phys % 4096 == 0 && m.size % 4096 == 0 && m.va >= VMALLOC_START && m.va + m.size < VMALLOC_END);
            }
            assert_eq!(k.frames_used(), base_used + io.memmap_frames().count() as u64);
        }
        let log = k.dmesg().to_vec();
        (log, io.iomem_text())
    };
    for seed in 0..20 {
        assert_eq!(run(seed), run(seed), "seed {seed}");
    }
}

/// `/proc/iomem` is the kernel's own resource tree: System RAM, the reserved hole and the
/// pmem device, in Linux's `%08llx-%08llx : name` form.
#[test]
fn proc_iomem_shows_the_machine() {
    let (k, io) = machine();
    let text = String::from_utf8(k.admin_read(b"/proc/iomem").expect("/proc/iomem")).expect("text");
    assert_eq!(text, io.iomem_text());
    assert!(text.contains(" : System RAM\n"), "{text}");
    assert!(text.contains(" : Persistent Memory"), "{text}");
}
