//! `mm/madvise.c`: `madvise` with 4.3's advice list and its walk over the VMAs of the
//! range (holes are skipped and reported as `ENOMEM` at the end).
//!
//! Modelled configuration: `CONFIG_KSM` and `CONFIG_TRANSPARENT_HUGEPAGE` on (their
//! advice only sets VMA flags: k43 merges no pages and has no huge pages),
//! `CONFIG_MEMORY_FAILURE` off (`MADV_HWPOISON`/`MADV_SOFT_OFFLINE` are unknown advice,
//! `EINVAL`), `CONFIG_SWAP` on (`MADV_WILLNEED` succeeds on anonymous memory).

use super::memory::zap_range;
use super::*;
use crate::kernel::task::ObjId;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::mman::*;

/// `madvise_behavior_valid`.
fn behavior_valid(b: u64) -> bool {
    matches!(
        b,
        MADV_NORMAL
            | MADV_RANDOM
            | MADV_SEQUENTIAL
            | MADV_WILLNEED
            | MADV_DONTNEED
            | MADV_REMOVE
            | MADV_DONTFORK
            | MADV_DOFORK
            | MADV_MERGEABLE
            | MADV_UNMERGEABLE
            | MADV_HUGEPAGE
            | MADV_NOHUGEPAGE
            | MADV_DONTDUMP
            | MADV_DODUMP
    )
}

/// `VM_NO_THP`: VMAs transparent huge pages never apply to.
const VM_NO_THP: u64 = VM_SPECIAL | VM_HUGETLB | VM_SHARED | VM_MAYSHARE;

/// The flags advice `b` gives a VMA with `flags` (`madvise_behavior`, `ksm_madvise`,
/// `hugepage_madvise`).
fn behavior_flags(b: u64, flags: u64) -> Result<u64, Errno> {
    let mut f = flags;
    match b {
        MADV_NORMAL => f &= !(VM_RAND_READ | VM_SEQ_READ),
        MADV_SEQUENTIAL => f = (f & !VM_RAND_READ) | VM_SEQ_READ,
        MADV_RANDOM => f = (f & !VM_SEQ_READ) | VM_RAND_READ,
        MADV_DONTFORK => f |= VM_DONTCOPY,
        MADV_DOFORK => {
            if f & VM_IO != 0 {
                return Err(Errno::EINVAL);
            }
            f &= !VM_DONTCOPY;
        }
        MADV_DONTDUMP => f |= VM_DONTDUMP,
        MADV_DODUMP => {
            if f & VM_SPECIAL != 0 {
                return Err(Errno::EINVAL);
            }
            f &= !VM_DONTDUMP;
        }
        // Shared and special mappings are silently left alone.
        MADV_MERGEABLE if f & (VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP) == 0 => f |= VM_MERGEABLE,
        MADV_UNMERGEABLE => f &= !VM_MERGEABLE,
        MADV_HUGEPAGE | MADV_NOHUGEPAGE => {
            if f & VM_NO_THP != 0 {
                return Err(Errno::EINVAL);
            }
            if b == MADV_HUGEPAGE {
                f = (f & !VM_NOHUGEPAGE) | VM_HUGEPAGE;
            } else {
                f = (f & !VM_HUGEPAGE) | VM_NOHUGEPAGE;
            }
        }
        _ => {}
    }
    Ok(f)
}

impl<H: Hal> Kernel<H> {
    /// `madvise(addr, len, advice)`.
    pub(crate) fn sys_madvise(&mut self, pid: Pid, start: u64, len_in: u64, behavior: i32) -> SysResult {
        let b = behavior as i64 as u64;
        if behavior < 0 || !behavior_valid(b) {
            return Err(Errno::EINVAL.into());
        }
        if start & (PAGE_SIZE - 1) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let len = len_in.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        // len was rounded up from a small negative to zero.
        if len_in != 0 && len == 0 {
            return Err(Errno::EINVAL.into());
        }
        let end = start.wrapping_add(len);
        if end < start {
            return Err(Errno::EINVAL.into());
        }
        if end == start {
            return Ok(0);
        }
        let mm_id = self.mm_id(pid)?;
        let mut start = start;
        let mut unmapped = false;
        loop {
            let mm = self.mms.get(&mm_id).ok_or(Errno::ENOMEM)?;
            let Some(idx) = mm.find_vma(start) else { return Err(Errno::ENOMEM.into()) };
            if start < mm.vmas[idx].start {
                unmapped = true;
                start = mm.vmas[idx].start;
                if start >= end {
                    return Err(Errno::ENOMEM.into());
                }
            }
            let tmp = mm.vmas[idx].end.min(end);
            let next = self.madvise_vma(mm_id, idx, start, tmp, b)?;
            start = tmp.max(next);
            if start >= end {
                return if unmapped { Err(Errno::ENOMEM.into()) } else { Ok(0) };
            }
        }
    }

    /// `madvise_vma` for `[start, end)` inside VMA `idx`; returns the end of the VMA that
    /// now covers the range (where the walk continues).
    fn madvise_vma(&mut self, mm_id: ObjId, idx: usize, start: u64, end: u64, b: u64) -> Result<u64, Errno> {
        let mm = self.mms.get(&mm_id).ok_or(Errno::ENOMEM)?;
        let vma = &mm.vmas[idx];
        let vma_end = vma.end;
        match b {
            MADV_WILLNEED => Ok(vma_end),
            MADV_DONTNEED => {
                if vma.flags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP) != 0 {
                    return Err(Errno::EINVAL);
                }
                let Kernel { hal, frames, mms, .. } = self;
                if let Some(mm) = mms.get_mut(&mm_id) {
                    zap_range(hal, &mut frames.lock(), mm, start, end);
                }
                Ok(vma_end)
            }
            MADV_REMOVE => {
                if vma.flags & (VM_LOCKED | VM_HUGETLB) != 0 {
                    return Err(Errno::EINVAL);
                }
                let Some(file) = vma.file.as_ref() else { return Err(Errno::EINVAL) };
                if vma.flags & (VM_SHARED | VM_WRITE) != VM_SHARED | VM_WRITE {
                    return Err(Errno::EACCES);
                }
                match file.mapping {
                    // ramfs has no fallocate.
                    // No fallocate for ramfs files or (in 4.3) block devices.
                    Mapping::Ram(_) | Mapping::Dax { .. } => Err(Errno::EOPNOTSUPP),
                    m @ Mapping::Shmem(_) => {
                        // shmem_fallocate(FALLOC_FL_PUNCH_HOLE): the pages go from the
                        // object and from every address space mapping them.
                        let (from, to) = (vma.pgoff_of(start), vma.pgoff_of(end));
                        self.punch_hole(m, from, to);
                        Ok(0)
                    }
                }
            }
            _ => {
                let newflags = behavior_flags(b, vma.flags)?;
                let i = self.vma_set_flags(mm_id, idx, start, end, newflags).map_err(|e| if e == Errno::ENOMEM { Errno::EAGAIN } else { e })?;
                Ok(self.mms.get(&mm_id).map(|mm| mm.vmas[i].end).unwrap_or(end))
            }
        }
    }

    /// Removes page offsets `[from, to)` of shmem object `m` from the cache and from every
    /// address space mapping them (`unmap_mapping_range` + `truncate_inode_pages_range`).
    fn punch_hole(&mut self, m: Mapping, from: u64, to: u64) {
        let Kernel { hal, frames, mms, page_cache, .. } = self;
        for mm in mms.values_mut() {
            let ranges: Vec<(u64, u64)> = mm
                .vmas
                .iter()
                .filter(|v| v.file.as_ref().is_some_and(|f| f.mapping == m))
                .filter_map(|v| {
                    let lo = from.max(v.pgoff);
                    let hi = to.min(v.pgoff.wrapping_add(v.pages()));
                    (lo < hi).then(|| (v.start + (lo - v.pgoff) * PAGE_SIZE, v.start + (hi - v.pgoff) * PAGE_SIZE))
                })
                .collect();
            for (s, e) in ranges {
                // Only the shared pages: private COW copies of a shmem page do not exist
                // (shmem is always mapped shared).
                zap_range(hal, &mut frames.lock(), mm, s, e);
            }
        }
        page_cache.remove_range(&mut frames.lock(), m, from, to);
    }
}
