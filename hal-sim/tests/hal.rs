//! The simulator backend's own contract: determinism from the seed, the software MMU's
//! user bit and permissions, and the software PAN.

use hal_sim::{SimConfig, SimHal, RAM_BASE};
use kernel::hal::*;

fn hal(seed: u64) -> SimHal {
    SimHal::new(SimConfig { seed, ram_bytes: 1 << 20, cpus: 1 })
}

#[test]
fn entropy_is_a_function_of_the_seed() {
    let a: Vec<u64> = (0..8).map(|_| hal(7).next_u64()).collect();
    let (x, y) = (hal(7), hal(8));
    let b: Vec<u64> = (0..8).map(|_| x.next_u64()).collect();
    let c: Vec<u64> = (0..8).map(|_| y.next_u64()).collect();
    assert_eq!(a[0], b[0]);
    assert_ne!(b, c);
}

#[test]
fn clock_moves_only_when_told() {
    let h = hal(1);
    assert_eq!(h.now_ns(), 0);
    h.advance(5);
    h.advance_to(3);
    assert_eq!(h.now_ns(), 5);
    h.advance_to(100);
    assert_eq!(h.now_ns(), 100);
}

#[test]
fn user_copies_need_the_window_and_a_user_mapping() {
    let h = hal(1);
    let asid = h.create_address_space().unwrap();
    let user = PteFlags { write: true, user: true, exec: false };
    h.map_page(asid, 0x1000, RAM_BASE, user).unwrap();
    h.map_page(asid, 0x2000, RAM_BASE + 4096, PteFlags { write: false, user: true, exec: false }).unwrap();
    h.map_page(asid, 0x3000, RAM_BASE + 8192, PteFlags { write: true, user: false, exec: false }).unwrap();
    let mut buf = [0u8; 4];
    // Window closed: the software PAN refuses.
    assert_eq!(h.raw_copy_to_user(asid, 0x1000, b"abcd"), Err(UserFault::PanViolation { addr: 0x1000 }));
    h.user_access_begin();
    h.raw_copy_to_user(asid, 0x1ffe, b"ab").unwrap();
    assert_eq!(h.raw_copy_to_user(asid, 0x1ffe, b"abcd"), Err(UserFault::ReadOnly { addr: 0x2000 }));
    assert_eq!(h.raw_copy_from_user(asid, 0x3000, &mut buf), Err(UserFault::NotMapped { addr: 0x3000 }));
    assert_eq!(h.raw_copy_from_user(asid, 0x5000, &mut buf), Err(UserFault::NotMapped { addr: 0x5000 }));
    h.raw_copy_from_user(asid, 0x1ffe, &mut buf[..2]).unwrap();
    h.user_access_end();
    assert_eq!(&buf[..2], b"ab");
    assert_eq!(h.unmap_page(asid, 0x1000), Some(RAM_BASE));
    assert_eq!(h.translate(asid, 0x1000), None);
}

#[test]
fn mapping_outside_ram_or_unaligned_is_refused() {
    let h = hal(1);
    let asid = h.create_address_space().unwrap();
    let f = PteFlags { write: true, user: true, exec: false };
    assert_eq!(h.map_page(asid, 0x1000, 0, f), Err(MmuError::BadAddress));
    assert_eq!(h.map_page(asid, 0x1001, RAM_BASE, f), Err(MmuError::BadAddress));
    assert_eq!(h.map_page(AddressSpaceId(99), 0x1000, RAM_BASE, f), Err(MmuError::NoAddressSpace));
}
