//! The two checksums the journal format uses: crc32c (`jbd2_chksum`, checksum v2/v3) and
//! big-endian crc32 (`crc32_be`, the v1 `COMPAT_CHECKSUM` commit checksum). Both are the
//! raw kernel primitives: no implicit pre- or post-inversion, the caller passes the seed.

/// Builds a 256-entry table for a reflected (LSB-first) CRC-32 polynomial.
const fn table_le(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// Builds a 256-entry table for a normal (MSB-first) CRC-32 polynomial.
const fn table_be(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 { (c << 1) ^ poly } else { c << 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC32C: [u32; 256] = table_le(0x82F6_3B78);
static CRC32_BE: [u32; 256] = table_be(0x04C1_1DB7);

/// `__crc32c_le(crc, data)`: what `jbd2_chksum` computes (the crypto shash state is read
/// back without the final inversion).
pub fn crc32c(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC32C[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

/// `crc32_be(crc, data)`: the checksum `JBD2_FEATURE_COMPAT_CHECKSUM` commit blocks carry.
pub fn crc32_be(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC32_BE[(((crc >> 24) ^ b as u32) & 0xFF) as usize] ^ (crc << 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The standard check value of CRC-32C is defined with ~0 in and ~ out.
        assert_eq!(!crc32c(!0, b"123456789"), 0xE306_9283);
        // CRC-32/MPEG-2 (MSB-first, init ~0, no final xor) check value.
        assert_eq!(crc32_be(!0, b"123456789"), 0x0376_E6E7);
    }
}
