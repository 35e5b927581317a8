//! The journal superblock (`journal_superblock_t`, journal block 0, 1024 bytes used).

use super::csum::crc32c;
use super::header::{be32, put32, JournalHeader, JBD2_SUPERBLOCK_V1, JBD2_SUPERBLOCK_V2};

/// `JBD2_FEATURE_COMPAT_CHECKSUM`: v1 commit-block checksums (crc32_be over the transaction).
pub const JBD2_FEATURE_COMPAT_CHECKSUM: u32 = 0x1;
/// `JBD2_FEATURE_INCOMPAT_REVOKE`: the log may contain revoke blocks.
pub const JBD2_FEATURE_INCOMPAT_REVOKE: u32 = 0x1;
/// `JBD2_FEATURE_INCOMPAT_64BIT`: tags and revoke records carry 64-bit block numbers.
pub const JBD2_FEATURE_INCOMPAT_64BIT: u32 = 0x2;
/// `JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT`: commit blocks are written without a preceding flush.
pub const JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
/// `JBD2_FEATURE_INCOMPAT_CSUM_V2`: crc32c on every journal block, 16-bit tag checksums.
pub const JBD2_FEATURE_INCOMPAT_CSUM_V2: u32 = 0x8;
/// `JBD2_FEATURE_INCOMPAT_CSUM_V3`: like v2 with 16-byte tags and 32-bit tag checksums.
pub const JBD2_FEATURE_INCOMPAT_CSUM_V3: u32 = 0x10;
/// `JBD2_KNOWN_COMPAT_FEATURES` in Linux 4.3.
pub const JBD2_KNOWN_COMPAT_FEATURES: u32 = JBD2_FEATURE_COMPAT_CHECKSUM;
/// `JBD2_KNOWN_ROCOMPAT_FEATURES` in Linux 4.3 (none).
pub const JBD2_KNOWN_ROCOMPAT_FEATURES: u32 = 0;
/// `JBD2_KNOWN_INCOMPAT_FEATURES` in Linux 4.3.
pub const JBD2_KNOWN_INCOMPAT_FEATURES: u32 = JBD2_FEATURE_INCOMPAT_REVOKE
    | JBD2_FEATURE_INCOMPAT_64BIT
    | JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT
    | JBD2_FEATURE_INCOMPAT_CSUM_V2
    | JBD2_FEATURE_INCOMPAT_CSUM_V3;
/// `JBD2_CRC32C_CHKSUM`: the only `s_checksum_type` valid with checksum v2/v3.
pub const JBD2_CRC32C_CHKSUM: u8 = 4;
/// `JBD2_CRC32_CHKSUM`: commit-block checksum type of `COMPAT_CHECKSUM`.
pub const JBD2_CRC32_CHKSUM: u8 = 1;
/// `JBD2_CRC32_CHKSUM_SIZE`.
pub const JBD2_CRC32_CHKSUM_SIZE: u8 = 4;

/// `journal_superblock_t`, every field, so that parse → emit reproduces the 1024 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalSuperblock {
    /// `s_header` (blocktype [`JBD2_SUPERBLOCK_V1`] or [`JBD2_SUPERBLOCK_V2`]).
    pub s_header: JournalHeader,
    /// `s_blocksize`: must equal the filesystem block size.
    pub s_blocksize: u32,
    /// `s_maxlen`: total journal blocks.
    pub s_maxlen: u32,
    /// `s_first`: first log block (1 for an internal journal).
    pub s_first: u32,
    /// `s_sequence`: tid expected at the log tail.
    pub s_sequence: u32,
    /// `s_start`: log block of the tail transaction; 0 = clean journal.
    pub s_start: u32,
    /// `s_errno`: error recorded by a journal abort (a negative errno, stored as u32).
    pub s_errno: i32,
    /// `s_feature_compat` (v2 only).
    pub s_feature_compat: u32,
    /// `s_feature_incompat` (v2 only).
    pub s_feature_incompat: u32,
    /// `s_feature_ro_compat` (v2 only).
    pub s_feature_ro_compat: u32,
    /// `s_uuid`: the journal UUID, written after the first tag of each descriptor.
    pub s_uuid: [u8; 16],
    /// `s_nr_users`: filesystems sharing the journal.
    pub s_nr_users: u32,
    /// `s_dynsuper`: unused.
    pub s_dynsuper: u32,
    /// `s_max_transaction`: unused by Linux 4.3.
    pub s_max_transaction: u32,
    /// `s_max_trans_data`: unused by Linux 4.3.
    pub s_max_trans_data: u32,
    /// `s_checksum_type`: [`JBD2_CRC32C_CHKSUM`] with checksum v2/v3.
    pub s_checksum_type: u8,
    /// `s_padding2[3]` and `s_padding[42]` (bytes 0x51..0xFC), kept verbatim.
    pub s_padding: [u8; 0xFC - 0x51],
    /// `s_checksum`: crc32c of the superblock with this field zero (v2/v3 only).
    pub s_checksum: u32,
    /// `s_users[16*48]`: UUIDs of the sharing filesystems.
    pub s_users: [u8; 768],
}

impl JournalSuperblock {
    /// Bytes of the on-disk structure.
    pub const SIZE: usize = 1024;

    /// Parses the first 1024 bytes of `b` (`None` if shorter).
    pub fn parse(b: &[u8]) -> Option<JournalSuperblock> {
        let b = b.get(..Self::SIZE)?;
        let mut s_uuid = [0; 16];
        s_uuid.copy_from_slice(&b[0x30..0x40]);
        let mut s_padding = [0; 0xFC - 0x51];
        s_padding.copy_from_slice(&b[0x51..0xFC]);
        let mut s_users = [0; 768];
        s_users.copy_from_slice(&b[0x100..0x400]);
        Some(JournalSuperblock {
            s_header: JournalHeader::parse(b)?,
            s_blocksize: be32(b, 0x0C)?,
            s_maxlen: be32(b, 0x10)?,
            s_first: be32(b, 0x14)?,
            s_sequence: be32(b, 0x18)?,
            s_start: be32(b, 0x1C)?,
            s_errno: be32(b, 0x20)? as i32,
            s_feature_compat: be32(b, 0x24)?,
            s_feature_incompat: be32(b, 0x28)?,
            s_feature_ro_compat: be32(b, 0x2C)?,
            s_uuid,
            s_nr_users: be32(b, 0x40)?,
            s_dynsuper: be32(b, 0x44)?,
            s_max_transaction: be32(b, 0x48)?,
            s_max_trans_data: be32(b, 0x4C)?,
            s_checksum_type: b[0x50],
            s_padding,
            s_checksum: be32(b, 0xFC)?,
            s_users,
        })
    }

    /// Writes the 1024 bytes at the start of `b` (which must be at least that long; the
    /// rest of the block is left alone, as Linux only ever rewrites the struct).
    pub fn emit(&self, b: &mut [u8]) {
        if b.len() < Self::SIZE {
            return;
        }
        self.s_header.emit(b);
        put32(b, 0x0C, self.s_blocksize);
        put32(b, 0x10, self.s_maxlen);
        put32(b, 0x14, self.s_first);
        put32(b, 0x18, self.s_sequence);
        put32(b, 0x1C, self.s_start);
        put32(b, 0x20, self.s_errno as u32);
        put32(b, 0x24, self.s_feature_compat);
        put32(b, 0x28, self.s_feature_incompat);
        put32(b, 0x2C, self.s_feature_ro_compat);
        b[0x30..0x40].copy_from_slice(&self.s_uuid);
        put32(b, 0x40, self.s_nr_users);
        put32(b, 0x44, self.s_dynsuper);
        put32(b, 0x48, self.s_max_transaction);
        put32(b, 0x4C, self.s_max_trans_data);
        b[0x50] = self.s_checksum_type;
        b[0x51..0xFC].copy_from_slice(&self.s_padding);
        put32(b, 0xFC, self.s_checksum);
        b[0x100..0x400].copy_from_slice(&self.s_users);
    }

    /// `j_format_version`: 1 or 2 from the block type, 0 for anything else.
    pub fn format_version(&self) -> u32 {
        match self.s_header.h_blocktype {
            JBD2_SUPERBLOCK_V1 => 1,
            JBD2_SUPERBLOCK_V2 => 2,
            _ => 0,
        }
    }

    /// `JBD2_HAS_COMPAT_FEATURE`: feature words only count in a v2 superblock.
    pub fn has_compat(&self, mask: u32) -> bool {
        self.format_version() >= 2 && self.s_feature_compat & mask != 0
    }

    /// `JBD2_HAS_INCOMPAT_FEATURE`.
    pub fn has_incompat(&self, mask: u32) -> bool {
        self.format_version() >= 2 && self.s_feature_incompat & mask != 0
    }

    /// `jbd2_journal_has_csum_v2or3`.
    pub fn has_csum_v2or3(&self) -> bool {
        self.has_incompat(JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_CSUM_V3)
    }

    /// `journal_tag_bytes`: 8 for ext3 (no 64bit, no checksums), 12 with 64bit, +2 with
    /// csum v2, 16 with csum v3.
    pub fn tag_bytes(&self) -> usize {
        if self.has_incompat(JBD2_FEATURE_INCOMPAT_CSUM_V3) {
            return 16;
        }
        let mut sz = 12;
        if self.has_incompat(JBD2_FEATURE_INCOMPAT_CSUM_V2) {
            sz += 2;
        }
        if self.has_incompat(JBD2_FEATURE_INCOMPAT_64BIT) {
            sz
        } else {
            sz - 4
        }
    }

    /// `j_csum_seed`: crc32c of the UUID, the seed of every v2/v3 block checksum.
    pub fn csum_seed(&self) -> u32 {
        crc32c(!0, &self.s_uuid)
    }

    /// `jbd2_superblock_csum`: crc32c over the 1024 bytes with `s_checksum` zero.
    pub fn compute_checksum(&self) -> u32 {
        let mut b = alloc::vec![0u8; Self::SIZE];
        let mut s = self.clone();
        s.s_checksum = 0;
        s.emit(&mut b);
        crc32c(!0, &b)
    }

    /// `jbd2_superblock_csum_set`: refresh `s_checksum` when checksums v2/v3 are on (done
    /// by `jbd2_write_superblock` before every superblock write).
    pub fn set_checksum(&mut self) {
        if self.has_csum_v2or3() {
            self.s_checksum = self.compute_checksum();
        }
    }

    /// The block-0 image with this superblock: `old` (the block as read) with its first
    /// 1024 bytes replaced and the checksum refreshed.
    pub fn to_block(&self, old: &[u8]) -> alloc::vec::Vec<u8> {
        let mut s = self.clone();
        s.set_checksum();
        let mut b = old.to_vec();
        if b.len() < Self::SIZE {
            b.resize(Self::SIZE, 0);
        }
        s.emit(&mut b);
        b
    }
}
