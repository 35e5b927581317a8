//! Directory name hashes for htree directories (`fs/ext4/hash.c`): legacy
//! (`dx_hack_hash`), half-MD4 and TEA, each in a signed-char and an unsigned-char
//! variant.

/// `DX_HASH_LEGACY`.
pub const DX_HASH_LEGACY: u8 = 0;
/// `DX_HASH_HALF_MD4`.
pub const DX_HASH_HALF_MD4: u8 = 1;
/// `DX_HASH_TEA`.
pub const DX_HASH_TEA: u8 = 2;
/// Unsigned variants are the signed ones + 3.
pub const DX_HASH_LEGACY_UNSIGNED: u8 = 3;
/// See [`DX_HASH_LEGACY_UNSIGNED`].
pub const DX_HASH_HALF_MD4_UNSIGNED: u8 = 4;
/// See [`DX_HASH_LEGACY_UNSIGNED`].
pub const DX_HASH_TEA_UNSIGNED: u8 = 5;
/// The hash Linux keeps for the end-of-directory readdir cookie.
pub const EXT4_HTREE_EOF_32BIT: u32 = 0x7FFF_FFFF;

/// A name's hash pair (major is what the index sorts on; bit 0 is always clear).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DxHash {
    /// Major hash.
    pub hash: u32,
    /// Minor hash.
    pub minor: u32,
}

/// A name byte as `char` would give it: sign-extended in the signed variants.
fn ch(c: u8, unsigned: bool) -> u32 {
    if unsigned { u32::from(c) } else { c as i8 as i32 as u32 }
}

fn dx_hack_hash(name: &[u8], unsigned: bool) -> u32 {
    let (mut h0, mut h1): (u32, u32) = (0x12a3_fe2d, 0x37ab_e8f9);
    for &c in name {
        let mut h = h1.wrapping_add(h0 ^ ch(c, unsigned).wrapping_mul(7_152_373));
        if h & 0x8000_0000 != 0 {
            h = h.wrapping_sub(0x7fff_ffff);
        }
        h1 = h0;
        h0 = h;
    }
    h0 << 1
}

/// `str2hashbuf`: packs up to `4 * out.len()` bytes of `msg` into words, padding with
/// the length of what is left of the name.
fn str2hashbuf(msg: &[u8], out: &mut [u32], unsigned: bool) {
    let len = msg.len() as u32;
    let pad = len | (len << 8) | (len << 16) | (len << 24);
    let mut val = pad;
    let n = msg.len().min(out.len() * 4);
    let mut w = 0;
    for (i, &c) in msg[..n].iter().enumerate() {
        val = ch(c, unsigned).wrapping_add(val << 8);
        if i % 4 == 3 {
            out[w] = val;
            w += 1;
            val = pad;
        }
    }
    if w < out.len() {
        out[w] = val;
        w += 1;
    }
    while w < out.len() {
        out[w] = pad;
        w += 1;
    }
}

fn half_md4_transform(buf: &mut [u32; 4], inp: &[u32; 8]) {
    let (mut a, mut b, mut c, mut d) = (buf[0], buf[1], buf[2], buf[3]);
    let f = |x: u32, y: u32, z: u32| z ^ (x & (y ^ z));
    let g = |x: u32, y: u32, z: u32| (x & y).wrapping_add((x ^ y) & z);
    let h = |x: u32, y: u32, z: u32| x ^ y ^ z;
    macro_rules! round {
        ($fun:expr, $k:expr, $order:expr, $rot:expr) => {
            for i in 0..8 {
                let w = inp[$order[i]].wrapping_add($k);
                let s = $rot[i % 4];
                match i % 4 {
                    0 => a = a.wrapping_add($fun(b, c, d)).wrapping_add(w).rotate_left(s),
                    1 => d = d.wrapping_add($fun(a, b, c)).wrapping_add(w).rotate_left(s),
                    2 => c = c.wrapping_add($fun(d, a, b)).wrapping_add(w).rotate_left(s),
                    _ => b = b.wrapping_add($fun(c, d, a)).wrapping_add(w).rotate_left(s),
                }
            }
        };
    }
    round!(f, 0u32, [0usize, 1, 2, 3, 4, 5, 6, 7], [3u32, 7, 11, 19]);
    round!(g, 0x5A82_7999u32, [1usize, 3, 5, 7, 0, 2, 4, 6], [3u32, 5, 9, 13]);
    round!(h, 0x6ED9_EBA1u32, [3usize, 7, 2, 6, 1, 5, 0, 4], [3u32, 9, 11, 15]);
    buf[0] = buf[0].wrapping_add(a);
    buf[1] = buf[1].wrapping_add(b);
    buf[2] = buf[2].wrapping_add(c);
    buf[3] = buf[3].wrapping_add(d);
}

fn tea_transform(buf: &mut [u32; 4], inp: &[u32; 4]) {
    let mut sum: u32 = 0;
    let (mut b0, mut b1) = (buf[0], buf[1]);
    let (a, b, c, d) = (inp[0], inp[1], inp[2], inp[3]);
    for _ in 0..16 {
        sum = sum.wrapping_add(0x9E37_79B9);
        b0 = b0.wrapping_add(((b1 << 4).wrapping_add(a)) ^ (b1.wrapping_add(sum)) ^ ((b1 >> 5).wrapping_add(b)));
        b1 = b1.wrapping_add(((b0 << 4).wrapping_add(c)) ^ (b0.wrapping_add(sum)) ^ ((b0 >> 5).wrapping_add(d)));
    }
    buf[0] = buf[0].wrapping_add(b0);
    buf[1] = buf[1].wrapping_add(b1);
}

/// `ext4fs_dirhash`: hashes `name` with `version` (0..=5) and the superblock seed.
/// Returns `None` for an unknown version (Linux: `-1` + "invalid/unsupported hash tree
/// version" warning).
pub fn dirhash(name: &[u8], version: u8, seed: &[u32; 4]) -> Option<DxHash> {
    let mut buf: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    if seed.iter().any(|&w| w != 0) {
        buf = *seed;
    }
    let (hash, minor) = match version {
        DX_HASH_LEGACY | DX_HASH_LEGACY_UNSIGNED => (dx_hack_hash(name, version == DX_HASH_LEGACY_UNSIGNED), 0),
        DX_HASH_HALF_MD4 | DX_HASH_HALF_MD4_UNSIGNED => {
            let unsigned = version == DX_HASH_HALF_MD4_UNSIGNED;
            let mut p = name;
            loop {
                let mut inp = [0u32; 8];
                str2hashbuf(p, &mut inp, unsigned);
                half_md4_transform(&mut buf, &inp);
                if p.len() <= 32 {
                    break;
                }
                p = &p[32..];
            }
            (buf[1], buf[2])
        }
        DX_HASH_TEA | DX_HASH_TEA_UNSIGNED => {
            let unsigned = version == DX_HASH_TEA_UNSIGNED;
            let mut p = name;
            loop {
                let mut inp = [0u32; 4];
                str2hashbuf(p, &mut inp, unsigned);
                tea_transform(&mut buf, &inp);
                if p.len() <= 16 {
                    break;
                }
                p = &p[16..];
            }
            (buf[0], buf[1])
        }
        _ => return None,
    };
    let mut hash = hash & !1;
    if hash == (EXT4_HTREE_EOF_32BIT << 1) {
        hash = (EXT4_HTREE_EOF_32BIT - 1) << 1;
    }
    Some(DxHash { hash, minor })
}
