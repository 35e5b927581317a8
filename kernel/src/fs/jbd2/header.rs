//! The 12-byte header every journal control block starts with (`journal_header_t`), and
//! the big-endian field helpers the other on-disk formats share.

/// `JBD2_MAGIC_NUMBER`: the first four bytes of every journal control block.
pub const JBD2_MAGIC_NUMBER: u32 = 0xC03B_3998;
/// `JBD2_DESCRIPTOR_BLOCK`: tags describing the block images that follow.
pub const JBD2_DESCRIPTOR_BLOCK: u32 = 1;
/// `JBD2_COMMIT_BLOCK`: the transaction is complete once this block is on disk.
pub const JBD2_COMMIT_BLOCK: u32 = 2;
/// `JBD2_SUPERBLOCK_V1`: the original superblock (no feature fields).
pub const JBD2_SUPERBLOCK_V1: u32 = 3;
/// `JBD2_SUPERBLOCK_V2`: the superblock with feature sets and UUID.
pub const JBD2_SUPERBLOCK_V2: u32 = 4;
/// `JBD2_REVOKE_BLOCK`: a list of filesystem blocks whose older log copies must not be replayed.
pub const JBD2_REVOKE_BLOCK: u32 = 5;

/// Reads a big-endian u16 at `off`, `None` past the end (journal content is untrusted).
pub(crate) fn be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Reads a big-endian u32 at `off`, `None` past the end.
pub(crate) fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Reads a big-endian u64 at `off`, `None` past the end.
pub(crate) fn be64(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_be_bytes(a))
}

/// Writes a big-endian u16 at `off`; silently does nothing past the end (emitters size
/// their buffers first, so this only guards against misuse).
pub(crate) fn put16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = off.checked_add(2).and_then(|e| b.get_mut(off..e)) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes a big-endian u32 at `off` (no-op past the end).
pub(crate) fn put32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = off.checked_add(4).and_then(|e| b.get_mut(off..e)) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes a big-endian u64 at `off` (no-op past the end).
pub(crate) fn put64(b: &mut [u8], off: usize, v: u64) {
    if let Some(s) = off.checked_add(8).and_then(|e| b.get_mut(off..e)) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// `journal_header_t`: magic, block type and the transaction id the block belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalHeader {
    /// `h_magic`: [`JBD2_MAGIC_NUMBER`] in a valid block.
    pub h_magic: u32,
    /// `h_blocktype`: one of the `JBD2_*_BLOCK` / `JBD2_SUPERBLOCK_*` values.
    pub h_blocktype: u32,
    /// `h_sequence`: the tid of the transaction the block belongs to (0 in the superblock).
    pub h_sequence: u32,
}

impl JournalHeader {
    /// On-disk size in bytes.
    pub const SIZE: usize = 12;

    /// A header with the journal magic.
    pub fn new(blocktype: u32, sequence: u32) -> JournalHeader {
        JournalHeader { h_magic: JBD2_MAGIC_NUMBER, h_blocktype: blocktype, h_sequence: sequence }
    }

    /// Reads the header at the start of `b` (`None` if `b` is shorter than 12 bytes).
    /// The magic is not checked here: recovery treats a wrong magic as "end of log".
    pub fn parse(b: &[u8]) -> Option<JournalHeader> {
        Some(JournalHeader { h_magic: be32(b, 0)?, h_blocktype: be32(b, 4)?, h_sequence: be32(b, 8)? })
    }

    /// Whether the magic is the journal's.
    pub fn is_valid(&self) -> bool {
        self.h_magic == JBD2_MAGIC_NUMBER
    }

    /// Writes the header at the start of `b`.
    pub fn emit(&self, b: &mut [u8]) {
        put32(b, 0, self.h_magic);
        put32(b, 4, self.h_blocktype);
        put32(b, 8, self.h_sequence);
    }
}

/// `tid_gt`: `x` is after `y` in modular (wrapping u32) tid order.
pub fn tid_gt(x: u32, y: u32) -> bool {
    (x.wrapping_sub(y) as i32) > 0
}

/// `tid_geq`: `x` is `y` or after it in modular tid order.
pub fn tid_geq(x: u32, y: u32) -> bool {
    (x.wrapping_sub(y) as i32) >= 0
}
