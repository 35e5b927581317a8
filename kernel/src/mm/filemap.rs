//! The page cache (`mm/filemap.c`, `mm/shmem.c`) and the zero page.
//!
//! ramfs keeps a file's bytes in the inode; while some VMA maps the file, the pages it
//! faulted live here too, and they are the authoritative copy: stores through a
//! `MAP_SHARED` mapping land in them, `read`/`write`/`exec` write them back to the inode
//! first or refresh them after ([`Kernel::filemap_writeback`],
//! [`Kernel::filemap_refresh`]). A private mapping maps them read-only until it writes
//! (then it copies), so it sees later changes to the file in the pages it has not
//! written, as on Linux. Shared anonymous memory is a shmem object whose pages exist only
//! here. When the last VMA of an object goes ([`Kernel::release_unused_mappings`]), its
//! pages are written back (ramfs) and dropped.
//!
//! Difference from Linux: truncating a mapped file does not unmap the pages past the new
//! end (`unmap_mapping_range`); they read as zeroes instead of raising `SIGBUS`.

use super::frame::FrameAllocator;
use super::{Mapping, PAGE_SIZE};
use crate::fs::ramfs::Ramfs;
use crate::fs::{InodeData, Ino};
use crate::hal::{Hal, PhysAddr};
use crate::kernel::Kernel;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

/// Cached pages by (object, page offset), and the zero page.
#[derive(Debug, Default)]
pub struct PageCache {
    pages: BTreeMap<(Mapping, u64), PhysAddr>,
    zero: Option<PhysAddr>,
}

impl PageCache {
    /// The shared zero page (`ZERO_PAGE`), allocated on first use and never freed; PTEs
    /// mapping it hold no reference.
    pub fn zero_page<H: Hal>(&mut self, hal: &H, frames: &mut FrameAllocator) -> Option<PhysAddr> {
        if self.zero.is_none() {
            let pa = frames.alloc()?;
            hal.phys_zero_frame(pa);
            self.zero = Some(pa);
        }
        self.zero
    }

    /// The zero page, if allocated.
    pub fn zero(&self) -> Option<PhysAddr> {
        self.zero
    }

    /// The cached page of `m` at `pgoff`.
    pub fn find(&self, m: Mapping, pgoff: u64) -> Option<PhysAddr> {
        self.pages.get(&(m, pgoff)).copied()
    }

    /// `find_or_create_page`: the cached page, read from the file (zeroes past its end, and
    /// for shmem) when not cached yet. The cache holds one reference.
    pub fn find_or_create<H: Hal>(&mut self, hal: &H, frames: &mut FrameAllocator, ram: &Ramfs, m: Mapping, pgoff: u64) -> Option<PhysAddr> {
        if let Some(pa) = self.find(m, pgoff) {
            return Some(pa);
        }
        let pa = frames.alloc()?;
        hal.phys_zero_frame(pa);
        if let Mapping::Ram(ino) = m {
            if let Some(InodeData::Reg(d)) = ram.get(ino).map(|i| &i.data) {
                let start = pgoff.saturating_mul(PAGE_SIZE);
                if start < d.len() as u64 {
                    let s = start as usize;
                    let n = (d.len() - s).min(PAGE_SIZE as usize);
                    hal.phys_write(pa, &d[s..s + n]);
                }
            }
        }
        self.pages.insert((m, pgoff), pa);
        Some(pa)
    }

    /// Cached pages of `m`, by page offset.
    pub fn pages_of(&self, m: Mapping) -> impl Iterator<Item = (u64, PhysAddr)> + '_ {
        self.pages.range((m, 0)..=(m, u64::MAX)).map(|(&(_, off), &pa)| (off, pa))
    }

    /// Every cached page.
    pub fn all(&self) -> impl Iterator<Item = (Mapping, u64, PhysAddr)> + '_ {
        self.pages.iter().map(|(&(m, off), &pa)| (m, off, pa))
    }

    /// Drops the cache's reference on the pages of `m` in `[from, to)` page offsets.
    pub fn remove_range(&mut self, frames: &mut FrameAllocator, m: Mapping, from: u64, to: u64) {
        let keys: Vec<(Mapping, u64)> = self.pages.range((m, from)..(m, to.max(from))).map(|(&k, _)| k).collect();
        for k in keys {
            if let Some(pa) = self.pages.remove(&k) {
                frames.put(pa);
            }
        }
    }

    /// Cached pages of ramfs files (`NR_FILE_PAGES` minus `NR_SHMEM`).
    pub fn file_pages(&self) -> u64 {
        self.pages.keys().filter(|(m, _)| matches!(m, Mapping::Ram(_))).count() as u64
    }
}

impl<H: Hal> Kernel<H> {
    /// Copies the cached pages of ramfs inode `ino` back into the inode (before its bytes
    /// are read or changed through the file).
    pub(crate) fn filemap_writeback(&mut self, ino: Ino) {
        let pages: Vec<(u64, PhysAddr)> = self.page_cache.pages_of(Mapping::Ram(ino)).collect();
        if pages.is_empty() {
            return;
        }
        let Some(InodeData::Reg(d)) = self.vfs.ram.get_mut(ino).map(|i| &mut i.data) else { return };
        for (pgoff, pa) in pages {
            let start = pgoff.saturating_mul(PAGE_SIZE);
            if start >= d.len() as u64 {
                continue;
            }
            let s = start as usize;
            let n = (d.len() - s).min(PAGE_SIZE as usize);
            self.hal.phys_read(pa, &mut d[s..s + n]);
        }
    }

    /// Copies inode `ino`'s bytes into its cached pages (after they changed through the
    /// file), zeroes past the end.
    pub(crate) fn filemap_refresh(&mut self, ino: Ino) {
        let pages: Vec<(u64, PhysAddr)> = self.page_cache.pages_of(Mapping::Ram(ino)).collect();
        let Some(InodeData::Reg(d)) = self.vfs.ram.get(ino).map(|i| &i.data) else { return };
        for (pgoff, pa) in pages {
            let mut page = vec![0u8; PAGE_SIZE as usize];
            let start = pgoff.saturating_mul(PAGE_SIZE);
            if start < d.len() as u64 {
                let s = start as usize;
                let n = (d.len() - s).min(PAGE_SIZE as usize);
                page[..n].copy_from_slice(&d[s..s + n]);
            }
            self.hal.phys_write(pa, &page);
        }
    }

    /// Whether some VMA of some address space maps `m`.
    pub(crate) fn mapping_in_use(&self, m: Mapping) -> bool {
        self.mms.values().any(|mm| mm.mappings().any(|x| x == m))
    }

    /// Drops the page cache of every object in `candidates` no VMA maps any more, writing
    /// ramfs pages back first; an unlinked, closed file is evicted then.
    pub(crate) fn release_unused_mappings(&mut self, candidates: BTreeSet<Mapping>) {
        for m in candidates {
            if self.mapping_in_use(m) {
                continue;
            }
            if let Mapping::Ram(ino) = m {
                self.filemap_writeback(ino);
            }
            self.page_cache.remove_range(&mut self.frames.lock(), m, 0, u64::MAX);
            if let Mapping::Ram(ino) = m {
                self.maybe_evict(ino);
            }
        }
    }
}
