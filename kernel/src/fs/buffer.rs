//! Block access for the disk filesystems: what `sb_bread`, `mark_buffer_dirty` and
//! `ext4_forget` give ext4 and jbd2 in Linux, reduced to one trait.
//!
//! k43's kernel never sleeps inside a handler (DESIGN.md §3): a syscall that needs a
//! block not yet in memory fails with [`FsError::Need`], the kernel reads the block and
//! parks the task, and the syscall runs again from the top when the read completes. So
//! every filesystem operation written against [`BlockIo`] must be restartable:
//! - all mutable filesystem state lives in blocks read and written through the trait
//!   (free counts, bitmaps, inodes, directories), never only in memory;
//! - writes done before a `Need` are thrown away by the caller, so an operation may
//!   write early and still be re-run;
//! - the same operation on the same blocks makes the same decisions (no hidden state).
//!
//! Corruption is reported as [`FsError::Corrupted`] (Linux's `EFSCORRUPTED`, i.e.
//! `EUCLEAN`, after `ext4_error`), which the mount turns into its errors= behaviour.

use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

/// Why a filesystem operation did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsError {
    /// A plain errno for the caller (`ENOENT`, `ENOSPC`, `EIO` …).
    Errno(Errno),
    /// Filesystem block `0` is not in memory: read it and run the operation again.
    Need(u64),
    /// The on-disk structures are inconsistent (`ext4_error` + `EFSCORRUPTED`).
    Corrupted(&'static str),
}

impl From<Errno> for FsError {
    fn from(e: Errno) -> FsError {
        FsError::Errno(e)
    }
}

impl FsError {
    /// The errno a syscall returns for it (`EUCLEAN` for corruption).
    pub fn errno(self) -> Errno {
        match self {
            FsError::Errno(e) => e,
            FsError::Need(_) => Errno::EAGAIN,
            FsError::Corrupted(_) => Errno::EUCLEAN,
        }
    }
}

/// A filesystem result.
pub type FsResult<T> = Result<T, FsError>;

/// Blocks of one filesystem, as a mounted filesystem sees them.
pub trait BlockIo {
    /// The filesystem block size in bytes (1024 … 65536).
    fn block_size(&self) -> usize;
    /// Filesystem block `blk` as it now stands (including this operation's own writes),
    /// or [`FsError::Need`] when it must first be read from the disk.
    fn read(&mut self, blk: u64) -> FsResult<Vec<u8>>;
    /// Appends bytes `range` of block `blk` — the block as [`BlockIo::read`] returns it,
    /// zero-padded to the block size — to `out` (what a file read copies out). Same
    /// result and same `Need` as `read`; a layer that holds the block in memory
    /// overrides it to copy the bytes once instead of twice.
    fn read_extend(&mut self, blk: u64, range: core::ops::Range<usize>, out: &mut Vec<u8>) -> FsResult<()> {
        let b = self.read(blk)?;
        extend_padded(out, &b, range);
        Ok(())
    }
    /// Replaces a metadata block (superblock, descriptors, bitmaps, inode table, indirect,
    /// directory and xattr blocks): it joins the running transaction and reaches its home
    /// location only through the journal.
    fn write_meta(&mut self, blk: u64, data: &[u8]) -> FsResult<()>;
    /// Replaces a file data block: in `data=ordered` it reaches its home location before
    /// the transaction that makes it reachable commits.
    fn write_data(&mut self, blk: u64, data: &[u8]) -> FsResult<()>;
    /// Block `blk` was freed in this operation (`ext4_free_blocks`): a metadata block is
    /// revoked (`jbd2_journal_revoke`), and no freed block may be allocated again before
    /// the freeing transaction commits (rule W4).
    fn forget(&mut self, blk: u64, was_meta: bool);
    /// Whether `blk` was freed by a transaction that has not committed yet: the allocator
    /// must pass it over.
    fn busy(&self, blk: u64) -> bool;
}

/// Appends `block[range]` to `out`, reading past the end of `block` as zeroes.
fn extend_padded(out: &mut Vec<u8>, block: &[u8], range: core::ops::Range<usize>) {
    let have = block.len().min(range.end);
    if range.start < have {
        out.extend_from_slice(&block[range.start..have]);
    }
    let zeroes = range.end.saturating_sub(have.max(range.start));
    out.resize(out.len() + zeroes, 0);
}

/// A whole image in memory with nothing in between: every block is present, writes land
/// at once, nothing is journalled. For tools, tests, the fuzzer and the benchmark.
#[derive(Clone, Debug)]
pub struct ImageIo {
    /// The image, a whole number of blocks.
    pub image: Vec<u8>,
    block_size: usize,
    /// Every block freed, in order (metadata flag): tests check revokes with it.
    pub forgotten: Vec<(u64, bool)>,
    /// Blocks written as metadata and as data (tests check the split with them).
    pub meta_writes: BTreeSet<u64>,
    /// Blocks written as file data.
    pub data_writes: BTreeSet<u64>,
}

impl ImageIo {
    /// `image` seen in blocks of `block_size` bytes (padded with zeroes to whole blocks).
    pub fn new(mut image: Vec<u8>, block_size: usize) -> ImageIo {
        let bs = block_size.max(1);
        image.resize(image.len().div_ceil(bs) * bs, 0);
        ImageIo { image, block_size: bs, forgotten: Vec::new(), meta_writes: BTreeSet::new(), data_writes: BTreeSet::new() }
    }

    fn range(&self, blk: u64) -> FsResult<core::ops::Range<usize>> {
        let start = usize::try_from(blk).ok().and_then(|b| b.checked_mul(self.block_size)).ok_or(FsError::Errno(Errno::EIO))?;
        let end = start.checked_add(self.block_size).filter(|&e| e <= self.image.len()).ok_or(FsError::Errno(Errno::EIO))?;
        Ok(start..end)
    }

    fn put(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        let r = self.range(blk)?;
        let n = data.len().min(self.block_size);
        self.image[r.clone()][..n].copy_from_slice(&data[..n]);
        self.image[r][n..].fill(0);
        Ok(())
    }
}

impl BlockIo for ImageIo {
    fn block_size(&self) -> usize {
        self.block_size
    }
    fn read(&mut self, blk: u64) -> FsResult<Vec<u8>> {
        // A block past the end reads as an I/O error, as the block layer's
        // bio_check_eod makes it.
        let r = self.range(blk)?;
        Ok(self.image[r].to_vec())
    }
    fn read_extend(&mut self, blk: u64, range: core::ops::Range<usize>, out: &mut Vec<u8>) -> FsResult<()> {
        let r = self.range(blk)?;
        extend_padded(out, &self.image[r], range);
        Ok(())
    }
    fn write_meta(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.meta_writes.insert(blk);
        self.put(blk, data)
    }
    fn write_data(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.data_writes.insert(blk);
        self.put(blk, data)
    }
    fn forget(&mut self, blk: u64, was_meta: bool) {
        self.forgotten.push((blk, was_meta));
    }
    fn busy(&self, _blk: u64) -> bool {
        false
    }
}

/// A [`BlockIo`] layered over another that keeps this operation's writes to itself until
/// [`Overlay::into_parts`]: what the kernel runs a restartable operation against.
#[derive(Debug)]
pub struct Overlay<'a, B: BlockIo + ?Sized> {
    /// What is below.
    pub lower: &'a mut B,
    /// Metadata blocks written by this operation.
    pub meta: BTreeMap<u64, Vec<u8>>,
    /// Data blocks written by this operation.
    pub data: BTreeMap<u64, Vec<u8>>,
    /// Blocks freed by this operation.
    pub forgotten: Vec<(u64, bool)>,
}

impl<'a, B: BlockIo + ?Sized> Overlay<'a, B> {
    /// An empty overlay on `lower`.
    pub fn new(lower: &'a mut B) -> Self {
        Overlay { lower, meta: BTreeMap::new(), data: BTreeMap::new(), forgotten: Vec::new() }
    }

    /// Applies the operation's writes and frees to the layer below.
    pub fn commit(self) -> FsResult<()> {
        for (b, d) in &self.data {
            self.lower.write_data(*b, d)?;
        }
        for (b, d) in &self.meta {
            self.lower.write_meta(*b, d)?;
        }
        for (b, m) in self.forgotten {
            self.lower.forget(b, m);
        }
        Ok(())
    }
}

impl<B: BlockIo + ?Sized> BlockIo for Overlay<'_, B> {
    fn block_size(&self) -> usize {
        self.lower.block_size()
    }
    fn read(&mut self, blk: u64) -> FsResult<Vec<u8>> {
        if let Some(d) = self.meta.get(&blk).or_else(|| self.data.get(&blk)) {
            return Ok(d.clone());
        }
        self.lower.read(blk)
    }
    fn read_extend(&mut self, blk: u64, range: core::ops::Range<usize>, out: &mut Vec<u8>) -> FsResult<()> {
        if let Some(d) = self.meta.get(&blk).or_else(|| self.data.get(&blk)) {
            extend_padded(out, d, range);
            return Ok(());
        }
        self.lower.read_extend(blk, range, out)
    }
    fn write_meta(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        let mut d = vec![0; self.block_size()];
        let n = data.len().min(d.len());
        d[..n].copy_from_slice(&data[..n]);
        self.data.remove(&blk);
        self.meta.insert(blk, d);
        Ok(())
    }
    fn write_data(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        let mut d = vec![0; self.block_size()];
        let n = data.len().min(d.len());
        d[..n].copy_from_slice(&data[..n]);
        self.meta.remove(&blk);
        self.data.insert(blk, d);
        Ok(())
    }
    fn forget(&mut self, blk: u64, was_meta: bool) {
        self.forgotten.push((blk, was_meta));
    }
    fn busy(&self, blk: u64) -> bool {
        self.forgotten.iter().any(|&(b, _)| b == blk) || self.lower.busy(blk)
    }
}
