//! The buffer cache of a mounted disk filesystem (`fs/buffer.c`'s role for ext4 and
//! jbd2): filesystem blocks read from the disk, kept up to date with every operation's
//! writes, and the reads in flight.
//!
//! A block not in the cache makes the operation fail with [`FsError::Need`]; the kernel
//! then reads it — with a readahead window of the blocks after it that are not cached
//! either, as `sb_breadahead`/`ext4_readahead` would — and re-runs the operation when the
//! read completes. A failed read is remembered for the block so that the re-run ends in
//! `EIO` once (a later access tries the disk again, as a `!buffer_uptodate` buffer does).

use super::buffer::{BlockIo, FsError, FsResult};
use crate::block::genhd::ReqId;
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

/// Blocks read ahead of a miss, at most.
pub const READAHEAD_BLOCKS: u64 = 32;

/// One filesystem's cached blocks.
#[derive(Debug, Default)]
pub struct BufferCache {
    /// Bytes per block.
    pub block_size: usize,
    /// Blocks in the filesystem (reads never go past it).
    pub blocks: u64,
    bufs: BTreeMap<u64, Vec<u8>>,
    /// Reads in flight: request → (first block, count).
    reading: BTreeMap<ReqId, (u64, u64)>,
    /// Blocks covered by a read in flight.
    read_pending: BTreeSet<u64>,
    /// Blocks whose last read failed, with the error, until an operation sees it.
    read_errors: BTreeMap<u64, i32>,
    /// Blocks of a failed readahead window: each is read again on its own, so a bad
    /// sector fails only the block over it (a failed readahead leaves its pages
    /// `!uptodate` and the reader's own single-block read decides).
    read_singly: BTreeSet<u64>,
}

impl BufferCache {
    /// An empty cache for `blocks` blocks of `block_size` bytes.
    pub fn new(block_size: usize, blocks: u64) -> BufferCache {
        BufferCache { block_size, blocks, ..Default::default() }
    }

    /// Block `blk` if cached.
    pub fn get(&self, blk: u64) -> Option<&Vec<u8>> {
        self.bufs.get(&blk)
    }

    /// Makes `data` the cached contents of `blk`.
    pub fn put(&mut self, blk: u64, data: Vec<u8>) {
        self.bufs.insert(blk, data);
    }

    /// Whether a read of `blk` is in flight.
    pub fn is_reading(&self, blk: u64) -> bool {
        self.read_pending.contains(&blk)
    }

    /// The error of the last failed read of `blk`, if any.
    pub fn read_error(&self, blk: u64) -> Option<i32> {
        self.read_errors.get(&blk).copied()
    }

    /// Takes the error of the last failed read of `blk`, if any.
    pub fn take_read_error(&mut self, blk: u64) -> Option<i32> {
        self.read_errors.remove(&blk)
    }

    /// The blocks to read for a miss on `blk`: it and the uncached, unrequested blocks
    /// right after it (at most [`READAHEAD_BLOCKS`], not past the filesystem).
    pub fn readahead_window(&self, blk: u64) -> (u64, u64) {
        if self.read_singly.contains(&blk) {
            return (blk, 1);
        }
        let mut n = 1;
        while n < READAHEAD_BLOCKS {
            let b = blk + n;
            if b >= self.blocks || self.bufs.contains_key(&b) || self.read_pending.contains(&b) || self.read_singly.contains(&b) {
                break;
            }
            n += 1;
        }
        (blk, n)
    }

    /// Records that request `req` reads `count` blocks from `first`.
    pub fn start_read(&mut self, req: ReqId, first: u64, count: u64) {
        self.reading.insert(req, (first, count));
        self.read_pending.extend(first..first + count);
    }

    /// A read finished: its blocks enter the cache (without overwriting blocks an
    /// operation changed meanwhile), or its first block remembers the error.
    pub fn end_read(&mut self, req: ReqId, status: i32, data: &[u8]) {
        let Some((first, count)) = self.reading.remove(&req) else { return };
        for b in first..first + count {
            self.read_pending.remove(&b);
        }
        if status != 0 {
            if count > 1 {
                // Readahead failed: nothing is known about any one block yet.
                self.read_singly.extend(first..first + count);
            } else {
                self.read_errors.insert(first, status);
            }
            return;
        }
        for b in first..first + count {
            self.read_singly.remove(&b);
        }
        for (i, chunk) in data.chunks(self.block_size.max(1)).take(count as usize).enumerate() {
            self.bufs.entry(first + i as u64).or_insert_with(|| chunk.to_vec());
        }
    }

    /// Reads in flight.
    pub fn reads_in_flight(&self) -> usize {
        self.reading.len()
    }
}

/// The cache as an operation sees it: hits come from memory, misses fail with
/// [`FsError::Need`]; writes land in the cache and are recorded for the journal.
/// Blocks freed by a transaction that has not committed are `busy`.
pub struct CacheIo<'a> {
    /// The cache.
    pub cache: &'a mut BufferCache,
    /// Blocks freed and not yet committed.
    pub busy: &'a BTreeSet<u64>,
}

impl BlockIo for CacheIo<'_> {
    fn block_size(&self) -> usize {
        self.cache.block_size
    }
    fn read(&mut self, blk: u64) -> FsResult<Vec<u8>> {
        if blk >= self.cache.blocks {
            return Err(FsError::Errno(Errno::EIO));
        }
        match self.cache.get(blk) {
            Some(d) => Ok(d.clone()),
            None => Err(FsError::Need(blk)),
        }
    }
    fn write_meta(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.cache.put(blk, data.to_vec());
        Ok(())
    }
    fn write_data(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.cache.put(blk, data.to_vec());
        Ok(())
    }
    fn forget(&mut self, _blk: u64, _was_meta: bool) {}
    fn busy(&self, blk: u64) -> bool {
        self.busy.contains(&blk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readahead_stops_at_cached_pending_and_end() {
        let mut c = BufferCache::new(1024, 100);
        c.put(10, alloc::vec![0; 1024]);
        assert_eq!(c.readahead_window(5), (5, 5));
        c.start_read(7, 20, 4);
        assert_eq!(c.readahead_window(15), (15, 5));
        assert_eq!(c.readahead_window(95), (95, 5));
        assert_eq!(c.readahead_window(40), (40, READAHEAD_BLOCKS));
    }

    #[test]
    fn reads_fill_or_remember_errors() {
        let mut c = BufferCache::new(4, 100);
        c.start_read(1, 3, 2);
        c.put(4, alloc::vec![9; 4]);
        c.end_read(1, 0, &[1, 1, 1, 1, 2, 2, 2, 2]);
        assert_eq!(c.get(3), Some(&alloc::vec![1; 4]));
        // An operation's newer write is not replaced by what the disk held.
        assert_eq!(c.get(4), Some(&alloc::vec![9; 4]));
        c.start_read(2, 50, 1);
        c.end_read(2, -5, &[]);
        assert_eq!(c.get(50), None);
        assert_eq!(c.take_read_error(50), Some(-5));
        assert_eq!(c.take_read_error(50), None);
    }

    #[test]
    fn failed_readahead_is_retried_block_by_block() {
        let mut c = BufferCache::new(4, 100);
        c.start_read(1, 10, 8);
        c.end_read(1, -5, &[]);
        // No block of the window is known bad: each is read again alone.
        assert_eq!(c.take_read_error(10), None);
        assert_eq!(c.readahead_window(10), (10, 1));
        assert_eq!(c.readahead_window(8), (8, 2));
        c.start_read(2, 10, 1);
        c.end_read(2, 0, &[3, 3, 3, 3]);
        assert_eq!(c.get(10), Some(&alloc::vec![3; 4]));
        c.start_read(3, 11, 1);
        c.end_read(3, -5, &[]);
        assert_eq!(c.take_read_error(11), Some(-5));
    }
}
