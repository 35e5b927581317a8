//! Physical memory layout. Everything lives in the first GiB, which boot.s identity-maps
//! (supervisor only) in every address space:
//!
//! | range            | what                                              |
//! | ---------------- | ------------------------------------------------- |
//! | 1 MiB ..         | the image (text, data, bss with boot tables/stack) |
//! | 16 .. 80 MiB     | kernel heap (the global allocator)                 |
//! | 80 .. 112 MiB    | page-table pool (frames for the MMU's tables)      |
//! | 128 .. 448 MiB   | RAM handed to hosts, one `ram_bytes` region each   |
//!
//! QEMU runs with `-m 512M`; [`check_e820`] verifies the PVH memory map covers it.

use crate::sync::Global;
use alloc::vec::Vec;
use kernel::hal::PAGE_SIZE;

/// Kernel heap.
pub const HEAP_START: u64 = 16 << 20;
/// Kernel heap size.
pub const HEAP_SIZE: u64 = 64 << 20;
/// Page-table pool.
pub const PT_POOL_START: u64 = 80 << 20;
/// Page-table pool size.
pub const PT_POOL_SIZE: u64 = 32 << 20;
/// Host RAM window.
pub const HOST_RAM_START: u64 = 128 << 20;
/// Host RAM window size.
pub const HOST_RAM_SIZE: u64 = 320 << 20;

extern "C" {
    static __image_end: u8;
}

/// End of the loaded image (and its .bss).
pub fn image_end() -> u64 {
    // Only the address of the linker symbol is taken, never its value.
    core::ptr::addr_of!(__image_end) as u64
}

/// What [`check_e820`] found, for the boot log.
pub struct E820 {
    /// hvm_start_info version; 0 means no memory map was passed.
    pub version: u32,
    /// RAM ranges.
    pub ram_ranges: usize,
    /// Total RAM, bytes.
    pub ram_bytes: u64,
}

impl core::fmt::Display for E820 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.version == 0 {
            return write!(f, "e820: no memory map in hvm_start_info; layout unchecked");
        }
        write!(f, "e820: {} RAM ranges, {} MiB; image ends at {:#x}", self.ram_ranges, self.ram_bytes >> 20, image_end())
    }
}

/// Checks the layout against the image and the PVH `hvm_start_info` memory map. Panics
/// when a range the image relies on is not RAM. Allocates nothing: it runs before the
/// heap is set up, since the heap is one of the ranges checked.
pub fn check_e820(start_info: u64) -> E820 {
    assert!(image_end() <= HEAP_START, "image ({:#x}) overlaps the heap", image_end());
    const MAGIC: u32 = 0x336e_c578;
    // SAFETY: QEMU's PVH loader passes the physical address of hvm_start_info, which is in
    // the identity-mapped first GiB; the fields read are inside the structure (version 1).
    let (magic, version, map, entries) = unsafe {
        let p = start_info as *const u8;
        (
            (p as *const u32).read_volatile(),
            (p.add(4) as *const u32).read_volatile(),
            (p.add(40) as *const u64).read_volatile(),
            (p.add(48) as *const u32).read_volatile(),
        )
    };
    assert!(magic == MAGIC, "hvm_start_info magic {magic:#x} at {start_info:#x}");
    if version < 1 || map == 0 {
        return E820 { version: 0, ram_ranges: 0, ram_bytes: 0 };
    }
    let need = (HEAP_START, HOST_RAM_START + HOST_RAM_SIZE);
    let (mut ranges, mut total, mut covered) = (0, 0, false);
    for i in 0..entries as u64 {
        // SAFETY: the memory map table lies in low memory that the PVH loader reserved;
        // entries are 24 bytes (addr, size, type, reserved).
        let (addr, size, ty) = unsafe {
            let e = (map + i * 24) as *const u8;
            ((e as *const u64).read_volatile(), (e.add(8) as *const u64).read_volatile(), (e.add(16) as *const u32).read_volatile())
        };
        if ty == 1 {
            ranges += 1;
            total += size;
            covered |= addr <= need.0 && need.1 <= addr + size;
        }
    }
    assert!(covered, "e820: RAM ({} MiB in {ranges} ranges) does not cover {:#x}..{:#x}: run QEMU with -m 512M", total >> 20, need.0, need.1);
    E820 { version, ram_ranges: ranges, ram_bytes: total }
}

/// Free parts of the host RAM window, as sorted, coalesced (start, end) ranges.
static HOST_RAM: Global<Vec<(u64, u64)>> = Global::new(Vec::new());
static HOST_RAM_INIT: Global<bool> = Global::new(false);

/// Takes `len` bytes (page multiple) of host RAM, first fit; `None` when the window is
/// full. The region is all zeroes: QEMU zeroed the window, and [`host_ram_free`]'s
/// callers zero what they wrote before giving it back.
pub fn host_ram_alloc(len: u64) -> Option<u64> {
    debug_assert!(len % PAGE_SIZE == 0);
    if !HOST_RAM_INIT.with(|i| core::mem::replace(i, true)) {
        HOST_RAM.with(|f| f.push((HOST_RAM_START, HOST_RAM_START + HOST_RAM_SIZE)));
    }
    HOST_RAM.with(|free| {
        let i = free.iter().position(|&(s, e)| e - s >= len)?;
        let start = free[i].0;
        free[i].0 += len;
        if free[i].0 == free[i].1 {
            free.remove(i);
        }
        Some(start)
    })
}

/// Gives a region from [`host_ram_alloc`] back; it must be all zeroes again.
pub fn host_ram_free(start: u64, len: u64) {
    HOST_RAM.with(|free| {
        let i = free.partition_point(|&(s, _)| s < start);
        free.insert(i, (start, start + len));
        // Coalesce with the next and the previous range.
        if i + 1 < free.len() && free[i].1 == free[i + 1].0 {
            free[i].1 = free[i + 1].1;
            free.remove(i + 1);
        }
        if i > 0 && free[i - 1].1 == free[i].0 {
            free[i - 1].1 = free[i].1;
            free.remove(i);
        }
    });
}

/// Bytes of the host RAM window not handed out (the whole window once every host is gone).
pub fn host_ram_free_bytes() -> u64 {
    if !HOST_RAM_INIT.with(|i| *i) {
        return HOST_RAM_SIZE;
    }
    HOST_RAM.with(|free| free.iter().map(|(s, e)| e - s).sum())
}
