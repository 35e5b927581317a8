//! Unit tests: hashes against e2fsprogs' `dx_hash` values, inode field parsing, and
//! block-map path arithmetic at the level boundaries.

use super::hash::*;
use super::indirect::block_to_path;
use super::inode::*;
use super::super_block::max_bitmap_size;
use alloc::vec;

fn seed() -> [u32; 4] {
    let b: [u8; 16] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
    [0, 4, 8, 12].map(|i| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]))
}

#[test]
fn hash_vectors() {
    let s = seed();
    let z = [0u32; 4];
    let long = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
    let cases: &[(&[u8], u8, [u32; 4], u32, u32)] = &[
        (b"a", DX_HASH_LEGACY, s, 0xe74b53e2, 0),
        (b"a", DX_HASH_HALF_MD4, s, 0x93752ee6, 0x578c30ba),
        (b"a", DX_HASH_HALF_MD4, z, 0xd5fa7d7a, 0xacb48187),
        (b"a", DX_HASH_TEA, s, 0xf9b90e84, 0x211795e4),
        (b"a", DX_HASH_TEA, z, 0x6d0ea4c0, 0xc18922df),
        (b"hello", DX_HASH_LEGACY, z, 0x32252546, 0),
        (b"hello", DX_HASH_HALF_MD4, s, 0x344ca36e, 0x2ef16de2),
        (b"hello", DX_HASH_HALF_MD4, z, 0x1746da32, 0x420013b5),
        (b"hello", DX_HASH_TEA, s, 0x9e019d48, 0xb0a99d55),
        (b"lost+found", DX_HASH_HALF_MD4, s, 0x1efb822c, 0x2a3bb222),
        (b"lost+found", DX_HASH_TEA, z, 0x2dbf9e80, 0xbfebee4f),
        (b"file_with_a_longish_name_22", DX_HASH_LEGACY, z, 0x4bebd93c, 0),
        (b"file_with_a_longish_name_22", DX_HASH_HALF_MD4, s, 0x006078fa, 0x1625c52b),
        (b"file_with_a_longish_name_22", DX_HASH_HALF_MD4, z, 0x35c37d14, 0x56bb7fd1),
        (b"file_with_a_longish_name_22", DX_HASH_TEA, s, 0xfce48b02, 0xc51d337a),
        (long, DX_HASH_HALF_MD4, s, 0x2aa47faa, 0xf25370df),
        (long, DX_HASH_TEA, z, 0x8ada2f52, 0xdb4c1bb9),
    ];
    for &(name, v, sd, major, minor) in cases {
        let h = dirhash(name, v, &sd).unwrap();
        assert_eq!((h.hash, h.minor), (major, minor), "{:?} v{}", core::str::from_utf8(name), v);
        if name.iter().all(|c| c.is_ascii()) {
            let hu = dirhash(name, v + 3, &sd).unwrap();
            assert_eq!(hu, h);
        }
    }
    assert!(dirhash(b"x", 6, &z).is_none());
    // Bytes >= 0x80 differ between the signed and unsigned variants.
    let hi = [0xe9u8, b'a'];
    assert_ne!(dirhash(&hi, DX_HASH_HALF_MD4, &s), dirhash(&hi, DX_HASH_HALF_MD4_UNSIGNED, &s));
}

#[test]
fn block_paths() {
    for a in [256u64, 1024] {
        assert_eq!(block_to_path(0, a), Some(vec![0]));
        assert_eq!(block_to_path(11, a), Some(vec![11]));
        assert_eq!(block_to_path(12, a), Some(vec![12, 0]));
        assert_eq!(block_to_path(12 + a - 1, a), Some(vec![12, a as usize - 1]));
        assert_eq!(block_to_path(12 + a, a), Some(vec![13, 0, 0]));
        assert_eq!(block_to_path(12 + a + a * a - 1, a), Some(vec![13, a as usize - 1, a as usize - 1]));
        assert_eq!(block_to_path(12 + a + a * a, a), Some(vec![14, 0, 0, 0]));
        assert_eq!(block_to_path(12 + a + a * a + a + 1, a), Some(vec![14, 0, 1, 1]));
        let last = 12 + a + a * a + a * a * a - 1;
        let m = a as usize - 1;
        assert_eq!(block_to_path(last, a), Some(vec![14, m, m, m]));
        assert_eq!(block_to_path(last + 1, a), None);
    }
}

#[test]
fn max_sizes() {
    assert_eq!(max_bitmap_size(10), 17_247_252_480);
    assert_eq!(max_bitmap_size(11), 275_415_851_008);
    assert_eq!(max_bitmap_size(12), 2_194_719_883_264);
}

#[test]
fn inode_fields() {
    let mut raw = vec![0u8; 256];
    raw[0..2].copy_from_slice(&0x81a4u16.to_le_bytes());
    raw[2..4].copy_from_slice(&0x1234u16.to_le_bytes());
    raw[0x78..0x7a].copy_from_slice(&0x0005u16.to_le_bytes());
    raw[4..8].copy_from_slice(&1u32.to_le_bytes());
    raw[0x6c..0x70].copy_from_slice(&2u32.to_le_bytes());
    raw[0x10..0x14].copy_from_slice(&(-1i32 as u32).to_le_bytes());
    raw[0x80..0x82].copy_from_slice(&32u16.to_le_bytes());
    raw[0x88..0x8c].copy_from_slice(&((5u32 << 2) | 1).to_le_bytes());
    let mut i = DiskInode { ino: 12, raw };
    assert_eq!(i.uid(), 0x0005_1234);
    assert_eq!(i.size(), (2u64 << 32) | 1);
    assert_eq!(i.mtime(), super::Time { sec: -1 + (1i64 << 32), nsec: 5 });
    i.set_mtime(super::Time { sec: 1_600_000_000, nsec: 7 });
    assert_eq!(i.mtime(), super::Time { sec: 1_600_000_000, nsec: 7 });
    // 128-byte record: no extra fields.
    let j = DiskInode { ino: 12, raw: i.raw[..128].to_vec() };
    assert_eq!(j.mtime().nsec, 0);
    // Device numbers, old and new encodings.
    let mut d = DiskInode { ino: 13, raw: vec![0u8; 128] };
    d.set_mode(S_IFCHR | 0o600);
    d.set_rdev(4, 5);
    assert_eq!(d.rdev(), (4, 5));
    d.set_rdev(300, 70000);
    assert_eq!(d.rdev(), (300, 70000));
}
