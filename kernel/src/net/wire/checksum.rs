//! The Internet checksum (RFC 1071): the 16-bit ones'-complement of the ones'-complement
//! sum, and the IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1) pseudo-headers that UDP, TCP
//! and ICMPv6 cover.
//!
//! Sums are carried in a `u32` and folded only at the end, as Linux's `csum_partial` /
//! `csum_fold` split it, so partial sums over several pieces combine with [`combine`].

use super::{Ipv4Addr, Ipv6Addr};

/// The unfolded ones'-complement sum of `data` as big-endian 16-bit words, an odd last
/// byte padded with a zero byte (RFC 1071 §4.1).
///
/// Eight bytes are added at a time, as two big-endian 32-bit words: a 32-bit word's value
/// `hi·2¹⁶ + lo` is congruent to `hi + lo` modulo `2¹⁶ − 1`, so the folded sum is the
/// 16-bit one (RFC 1071 §2(B), the trick of Linux's `csum_partial`).
pub fn sum(data: &[u8]) -> u32 {
    let mut acc: u64 = 0;
    let mut quads = data.chunks_exact(8);
    for q in &mut quads {
        let w = u64::from_be_bytes([q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7]]);
        acc += (w >> 32) + (w & 0xffff_ffff);
    }
    let mut chunks = quads.remainder().chunks_exact(2);
    for w in &mut chunks {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    fold64(acc)
}

/// Adds partial sums (each from [`sum`] or a pseudo-header). Every piece but the last
/// must cover an even number of bytes.
pub fn combine(parts: &[u32]) -> u32 {
    fold64(parts.iter().map(|&p| u64::from(p)).sum())
}

fn fold64(mut acc: u64) -> u32 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u32
}

/// `csum_fold`: the checksum field value for a partial sum — its complement, 16 bits.
pub fn fold(partial: u32) -> u16 {
    !(fold64(u64::from(partial)) as u16)
}

/// The checksum of `data` alone (IPv4 header, ICMPv4).
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum(data))
}

/// Whether `data`, checksum field included, verifies: its sum folds to 0xffff.
pub fn verifies(data: &[u8]) -> bool {
    fold(sum(data)) == 0
}

/// The IPv4 pseudo-header sum: source, destination, zero, protocol, upper-layer length.
pub fn pseudo_header_v4(src: &Ipv4Addr, dst: &Ipv4Addr, proto: u8, len: u16) -> u32 {
    combine(&[sum(&src.octets()), sum(&dst.octets()), u32::from(proto), u32::from(len)])
}

/// The IPv6 pseudo-header sum: source, destination, 32-bit upper-layer length, three
/// zero bytes, next header. `dst` is the final destination (the last Routing-header
/// address when there is one).
pub fn pseudo_header_v6(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, len: u32) -> u32 {
    combine(&[
        sum(&src.octets()),
        sum(&dst.octets()),
        len >> 16,
        len & 0xffff,
        u32::from(next_header),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time definition.
    fn sum16(data: &[u8]) -> u32 {
        let mut acc: u64 = 0;
        for w in data.chunks(2) {
            acc += u64::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)]));
        }
        fold64(acc)
    }

    #[test]
    fn wide_sum_is_the_16_bit_sum() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut data = alloc::vec::Vec::new();
        for len in 0..300 {
            data.clear();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.push(x as u8);
            }
            assert_eq!(sum(&data), sum16(&data), "len {len}");
            // Runs of 0xff, the carries' worst case.
            let ff = alloc::vec![0xffu8; len];
            assert_eq!(sum(&ff), sum16(&ff), "0xff len {len}");
        }
        assert_eq!(sum(&[0xff; 65536]), sum16(&[0xff; 65536]));
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (folded).
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&d), 0xddf2);
        assert_eq!(checksum(&d), !0xddf2);
    }

    #[test]
    fn ipv4_header_verifies() {
        // A real IPv4 header (Wikipedia's example), checksum b861.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0,
            0xa8, 0x00, 0xc7,
        ];
        assert!(verifies(&h));
        let mut z = h;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(checksum(&z), 0xb861);
    }

    #[test]
    fn odd_length_and_pieces() {
        let d = [1u8, 2, 3, 4, 5];
        assert_eq!(sum(&d), 0x0102 + 0x0304 + 0x0500);
        assert_eq!(combine(&[sum(&d[..2]), sum(&d[2..])]), sum(&d));
    }

    #[test]
    fn pseudo_headers() {
        let s6: Ipv6Addr = "fe80::1".parse().unwrap();
        let d6: Ipv6Addr = "ff02::1".parse().unwrap();
        assert_eq!(pseudo_header_v6(&s6, &d6, 58, 8), fold64(0xfe80 + 1 + 0xff02 + 1 + 8 + 58));
        let s4 = Ipv4Addr::new(10, 0, 0, 1);
        let d4 = Ipv4Addr::new(10, 0, 0, 2);
        assert_eq!(pseudo_header_v4(&s4, &d4, 17, 12), 0x0a00 + 1 + 0x0a00 + 2 + 17 + 12);
    }
}
