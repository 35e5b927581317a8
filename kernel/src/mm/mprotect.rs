//! `mm/mprotect.c`: `mprotect`, VMA by VMA with split and merge (`mprotect_fixup`), and
//! the generic "change the flags of part of a VMA" step `madvise` shares.

use super::memory::change_protection;
use super::*;
use crate::kernel::task::ObjId;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::mman::*;

impl<H: Hal> Kernel<H> {
    /// Gives `[start, end)` (inside VMA `idx`) the flags `newflags`: splits it off (each
    /// split counts against `vm.max_map_count`: `ENOMEM`), sets the flags, merges with the
    /// neighbours, and re-derives the PTEs when the protection changed. Returns the index
    /// of the VMA now covering `start`.
    pub(crate) fn vma_set_flags(&mut self, mm_id: ObjId, idx: usize, start: VirtAddr, end: VirtAddr, newflags: u64) -> Result<usize, Errno> {
        let max = self.vfs.sysctl.int("vm/max_map_count").unwrap_or(DEFAULT_MAX_MAP_COUNT).max(0) as usize;
        let hal = &self.hal;
        let mm = self.mms.get_mut(&mm_id).ok_or(Errno::ENOMEM)?;
        let old = mm.vmas[idx].flags;
        if newflags == old {
            return Ok(idx);
        }
        let mut i = idx;
        // vma_merge first (the changed range joins a neighbour without a split), then
        // split_vma: the same VMAs result either way.
        if start != mm.vmas[i].start {
            if mm.vmas.len() >= max {
                return Err(Errno::ENOMEM);
            }
            mm.split_vma(i, start);
            i += 1;
        }
        if end != mm.vmas[i].end {
            if mm.vmas.len() >= max {
                return Err(Errno::ENOMEM);
            }
            mm.split_vma(i, end);
        }
        mm.vmas[i].flags = newflags;
        let i = mm.merge_around(i);
        if (old ^ newflags) & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED) != 0 {
            change_protection(hal, mm, start, end, newflags);
        }
        Ok(i)
    }

    /// `mprotect(addr, len, prot)`. VMAs are changed one after the other; an error on a
    /// later one (a hole: `ENOMEM`; a permission the mapping may not get: `EACCES`)
    /// leaves the earlier ones changed, as in Linux.
    pub(crate) fn sys_mprotect(&mut self, pid: Pid, start: u64, len: u64, prot: u64) -> SysResult {
        let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
        let prot = prot & !(PROT_GROWSDOWN | PROT_GROWSUP);
        if grows == PROT_GROWSDOWN | PROT_GROWSUP {
            return Err(Errno::EINVAL.into());
        }
        if start & (PAGE_SIZE - 1) != 0 {
            return Err(Errno::EINVAL.into());
        }
        if len == 0 {
            return Ok(0);
        }
        let len = page_align(len).unwrap_or(0);
        let end = start.wrapping_add(len);
        if end <= start {
            return Err(Errno::ENOMEM.into());
        }
        // arch_validate_prot.
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let mut vm_flags = 0;
        for (p, f) in [(PROT_READ, VM_READ), (PROT_WRITE, VM_WRITE), (PROT_EXEC, VM_EXEC)] {
            if prot & p != 0 {
                vm_flags |= f;
            }
        }
        let mm_id = self.mm_id(pid)?;
        let mm = self.mms.get(&mm_id).ok_or(Errno::ENOMEM)?;
        let Some(mut idx) = mm.find_vma(start) else { return Err(Errno::ENOMEM.into()) };
        let mut start = start;
        let vma = &mm.vmas[idx];
        if grows & PROT_GROWSDOWN != 0 {
            if vma.start >= end {
                return Err(Errno::ENOMEM.into());
            }
            start = vma.start;
            if vma.flags & VM_GROWSDOWN == 0 {
                return Err(Errno::EINVAL.into());
            }
        } else {
            if vma.start > start {
                return Err(Errno::ENOMEM.into());
            }
            if grows & PROT_GROWSUP != 0 {
                // The range would extend to the VMA's end, but VM_GROWSUP does not exist
                // on x86 and arm64: no VMA has it.
                return Err(Errno::EINVAL.into());
            }
        }
        let mut nstart = start;
        loop {
            let vma = &self.mms.get(&mm_id).ok_or(Errno::ENOMEM)?.vmas[idx];
            let newflags = vm_flags | (vma.flags & !(VM_READ | VM_WRITE | VM_EXEC));
            // Each VM_x needs its VM_MAYx (VM_MAY* sit 4 bits higher).
            if (newflags & !(newflags >> 4)) & (VM_READ | VM_WRITE | VM_EXEC) != 0 {
                return Err(Errno::EACCES.into());
            }
            let tmp = vma.end.min(end);
            let mut newflags = newflags;
            // A private mapping made writable is charged now (VM_ACCOUNT).
            if newflags & VM_WRITE != 0 && vma.flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE) == 0 && newflags != vma.flags {
                self.vm_enough_memory(pid, (tmp - nstart) / PAGE_SIZE)?;
                newflags |= VM_ACCOUNT;
            }
            idx = self.vma_set_flags(mm_id, idx, nstart, tmp, newflags)?;
            let mm = self.mms.get(&mm_id).ok_or(Errno::ENOMEM)?;
            nstart = tmp.max(mm.vmas[idx].end);
            if nstart >= end {
                return Ok(0);
            }
            idx += 1;
            if mm.vmas.get(idx).is_none_or(|v| v.start != nstart) {
                return Err(Errno::ENOMEM.into());
            }
        }
    }
}
