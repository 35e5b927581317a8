//! `mm/mmap.c`, `mm/util.c` and x86's `sys_x86_64.c`/`mm/mmap.c`: `mmap`, `munmap`,
//! `brk`, the top-down address search, VMA split and merge, and the memory-commitment
//! check, with 4.3's argument checks in 4.3's order.
//!
//! Modelled configuration: overcommit mode 0 (heuristic: one request may not exceed the
//! free memory, less the admin reserve for non-`CAP_SYS_ADMIN` callers); no hugetlb pages
//! reserved (`MAP_HUGETLB` is `ENOMEM`); no SELinux, so the effective `mmap_min_addr` is
//! the sysctl's value; `RLIMIT_DATA`, `RLIMIT_AS` unlimited, `RLIMIT_MEMLOCK` 64 KiB.

use super::memory::{dup_mm, release_pages, zap_range, MemEnv};
use super::*;
use crate::fs::{InodeData, Node};
use crate::kernel::task::ObjId;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::{cap_mmap_addr, capable};
use crate::syscalls::dispatch::SysResult;
use crate::syscalls::Arch;
use crate::uapi::capability::{CAP_IPC_LOCK, CAP_SYS_ADMIN};
use crate::uapi::fcntl::O_PATH;
use crate::uapi::mman::*;
use alloc::collections::BTreeSet;

/// `s_dev` of the internal shmem mount `/dev/zero (deleted)` mappings show.
pub const SHMEM_DEV: u64 = 5;

/// Where `MAP_32BIT` mappings go on x86_64: the second GiB.
const MAP_32BIT_WINDOW: (u64, u64) = (0x4000_0000, 0x8000_0000);

fn same_file(a: &Option<VmFile>, b: &Option<VmFile>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.file_id == y.file_id && x.mapping == y.mapping,
        _ => false,
    }
}

/// `vma_merge`'s test for `a` directly followed by `b` (`is_mergeable_vma`,
/// `is_mergeable_anon_vma`, contiguous file offsets).
fn can_merge(a: &Vma, b: &Vma) -> bool {
    a.end == b.start
        && a.flags == b.flags
        && same_file(&a.file, &b.file)
        && a.uffd_ctx == b.uffd_ctx
        && (a.anon_vma.is_none() || b.anon_vma.is_none() || a.anon_vma == b.anon_vma)
        && a.pgoff.wrapping_add(a.pages()) == b.pgoff
}

impl Mm {
    /// `__split_vma`: cuts VMA `idx` at `addr` (inside it) into two.
    pub(crate) fn split_vma(&mut self, idx: usize, addr: VirtAddr) {
        let mut tail = self.vmas[idx].clone();
        tail.pgoff = tail.pgoff_of(addr);
        tail.start = addr;
        self.vmas[idx].end = addr;
        self.vmas.insert(idx + 1, tail);
    }

    /// Merges VMA `idx` into its predecessor and then its successor where `vma_merge`
    /// would; the index of the VMA that now holds it.
    pub(crate) fn merge_around(&mut self, idx: usize) -> usize {
        let mut i = idx;
        if i > 0 && can_merge(&self.vmas[i - 1], &self.vmas[i]) {
            let v = self.vmas.remove(i);
            i -= 1;
            self.vmas[i].end = v.end;
            self.vmas[i].anon_vma = self.vmas[i].anon_vma.or(v.anon_vma);
        }
        if i + 1 < self.vmas.len() && can_merge(&self.vmas[i], &self.vmas[i + 1]) {
            let v = self.vmas.remove(i + 1);
            self.vmas[i].end = v.end;
            self.vmas[i].anon_vma = self.vmas[i].anon_vma.or(v.anon_vma);
        }
        i
    }

    /// Inserts a VMA that overlaps none, keeping the order; its index.
    pub(crate) fn insert_vma(&mut self, vma: Vma) -> usize {
        let i = self.vmas.partition_point(|v| v.start < vma.start);
        self.vmas.insert(i, vma);
        i
    }
}

/// Free gaps between VMAs, lowest first: `(start, end)`.
fn gaps(mm: &Mm) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(mm.vmas.len() + 1);
    let mut prev = 0;
    for v in &mm.vmas {
        if v.start > prev {
            out.push((prev, v.start));
        }
        prev = v.end;
    }
    out.push((prev, u64::MAX));
    out
}

/// `unmapped_area_topdown`: the highest `len` bytes free within `[low, high)`.
fn search_topdown(mm: &Mm, len: u64, low: u64, high: u64) -> Option<u64> {
    gaps(mm).into_iter().rev().find_map(|(gs, ge)| {
        let ge = ge.min(high);
        let cand = ge.checked_sub(len)?;
        (cand >= gs && cand >= low).then_some(cand)
    })
}

/// `unmapped_area`: the lowest `len` bytes free within `[low, high)`.
fn search_bottomup(mm: &Mm, len: u64, low: u64, high: u64) -> Option<u64> {
    gaps(mm).into_iter().find_map(|(gs, ge)| {
        let s = gs.max(low);
        let e = ge.min(high);
        (s <= e && e - s >= len).then_some(s)
    })
}

/// `calc_vm_prot_bits`.
fn calc_vm_prot_bits(prot: u64) -> u64 {
    let mut f = 0;
    if prot & PROT_READ != 0 {
        f |= VM_READ;
    }
    if prot & PROT_WRITE != 0 {
        f |= VM_WRITE;
    }
    if prot & PROT_EXEC != 0 {
        f |= VM_EXEC;
    }
    f
}

/// `calc_vm_flag_bits`.
fn calc_vm_flag_bits(flags: u64) -> u64 {
    let mut f = 0;
    if flags & MAP_GROWSDOWN != 0 {
        f |= VM_GROWSDOWN;
    }
    if flags & MAP_DENYWRITE != 0 {
        f |= VM_DENYWRITE;
    }
    if flags & MAP_LOCKED != 0 {
        f |= VM_LOCKED;
    }
    f
}

impl<H: Hal> Kernel<H> {
    /// The address space of `pid`.
    pub(crate) fn mm_id(&self, pid: Pid) -> Result<ObjId, Errno> {
        Ok(self.task(pid).ok_or(Errno::ESRCH)?.mm)
    }

    fn mm_ref(&self, id: ObjId) -> Result<&Mm, Errno> {
        self.mms.get(&id).ok_or(Errno::ENOMEM)
    }

    fn mm_mut(&mut self, id: ObjId) -> Result<&mut Mm, Errno> {
        self.mms.get_mut(&id).ok_or(Errno::ENOMEM)
    }

    /// Runs `f` with the fault handler's environment and address space `id`.
    pub(crate) fn with_mem<R>(&mut self, id: ObjId, f: impl FnOnce(&mut MemEnv<'_, H>, &mut Mm) -> R) -> Option<R> {
        let Kernel { hal, frames, page_cache, vfs, mms, .. } = self;
        let mm = mms.get_mut(&id)?;
        let mut frames = frames.lock();
        let mut env = MemEnv { hal, frames: &mut frames, cache: page_cache, ram: &vfs.ram };
        Some(f(&mut env, mm))
    }

    /// `vm.max_map_count`.
    pub(crate) fn max_map_count(&self) -> usize {
        self.vfs.sysctl.int("vm/max_map_count").unwrap_or(DEFAULT_MAX_MAP_COUNT).max(0) as usize
    }

    /// `mmap_min_addr` in force (`dac_mmap_min_addr`; k43 has no LSM floor).
    pub fn mmap_min_addr(&self) -> u64 {
        self.vfs.sysctl.ulong("vm/mmap_min_addr").unwrap_or(DEFAULT_MMAP_MIN_ADDR)
    }

    /// `security_mmap_addr`: the capability module's `cap_mmap_addr`.
    pub(crate) fn security_mmap_addr(&self, pid: Pid, addr: u64) -> Result<(), Errno> {
        let cred = &self.task(pid).ok_or(Errno::ESRCH)?.cred;
        cap_mmap_addr(cred, addr, self.mmap_min_addr())
    }

    /// `sysctl_admin_reserve_kbytes` in pages: 3% of RAM at boot, at most 8 MiB.
    fn admin_reserve_pages(&self) -> u64 {
        (self.frames.lock().total / 32).min((8 << 20) / PAGE_SIZE)
    }

    /// `security_vm_enough_memory_mm` in overcommit mode 0: the request must fit in free
    /// memory plus the reclaimable file cache, less the admin reserve unless the caller
    /// has `CAP_SYS_ADMIN`.
    pub(crate) fn vm_enough_memory(&self, pid: Pid, pages: u64) -> Result<(), Errno> {
        let cred = &self.task(pid).ok_or(Errno::ESRCH)?.cred;
        let mut free = self.frames.lock().free_frames() + self.page_cache.file_pages();
        if !capable(cred, CAP_SYS_ADMIN) {
            free = free.saturating_sub(self.admin_reserve_pages());
        }
        if free > pages {
            Ok(())
        } else {
            Err(Errno::ENOMEM)
        }
    }

    /// `mlock_future_check`: locked memory beyond `RLIMIT_MEMLOCK` needs `CAP_IPC_LOCK`.
    fn mlock_future_check(&self, pid: Pid, mm: &Mm, vm_flags: u64, len: u64) -> Result<(), Errno> {
        if vm_flags & VM_LOCKED == 0 {
            return Ok(());
        }
        let locked = len / PAGE_SIZE + mm.locked_vm();
        let cred = &self.task(pid).ok_or(Errno::ESRCH)?.cred;
        if locked > RLIMIT_MEMLOCK / PAGE_SIZE && !capable(cred, CAP_IPC_LOCK) {
            return Err(Errno::EAGAIN);
        }
        Ok(())
    }

    /// `round_hint_to_min`: a non-fixed hint below `mmap_min_addr` becomes
    /// `mmap_min_addr` rounded up to a page; 0 stays "no hint".
    fn round_hint_to_min(&self, hint: u64) -> u64 {
        let hint = hint & !(PAGE_SIZE - 1);
        let min = self.mmap_min_addr();
        if hint != 0 && hint < min {
            // PAGE_ALIGN, wrapping as C's does (a hint then becomes "no hint").
            return min.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        }
        hint
    }

    /// The lowest address the top-down search may return: a page, `mmap_min_addr`, and
    /// whatever the backend cannot map (hal-x86 keeps its identity map in the first GiB).
    fn search_floor(&self) -> u64 {
        PAGE_SIZE.max(self.mmap_min_addr()).max(self.hal.user_va_floor())
    }

    /// x86's `arch_get_unmapped_area_topdown` (falling back to the bottom-up search).
    fn arch_get_unmapped_area_topdown(&self, mm: &Mm, addr0: u64, len: u64, flags: u64) -> Result<u64, Errno> {
        if len > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        if flags & MAP_FIXED != 0 {
            return Ok(addr0);
        }
        let map32 = flags & MAP_32BIT != 0 && self.arch == Arch::X86_64;
        if !map32 {
            if addr0 != 0 {
                let addr = addr0.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
                let next = mm.find_vma(addr).map(|i| mm.vmas[i].start);
                if TASK_SIZE - len >= addr && next.is_none_or(|s| addr + len <= s) {
                    return Ok(addr);
                }
            }
            if let Some(a) = search_topdown(mm, len, self.search_floor(), mm.mmap_base) {
                return Ok(a);
            }
        }
        // arch_get_unmapped_area: bottom-up from TASK_UNMAPPED_BASE, or the MAP_32BIT window.
        let (begin, end) = if map32 { MAP_32BIT_WINDOW } else { (TASK_UNMAPPED_BASE, TASK_SIZE) };
        let begin = begin.max(self.hal.user_va_floor());
        if len > end {
            return Err(Errno::ENOMEM);
        }
        if addr0 != 0 {
            let addr = addr0.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
            let next = mm.find_vma(addr).map(|i| mm.vmas[i].start);
            if end - len >= addr && next.is_none_or(|s| addr + len <= s) {
                return Ok(addr);
            }
        }
        search_bottomup(mm, len, begin, end).ok_or(Errno::ENOMEM)
    }

    /// `get_unmapped_area`: choose (or check, for `MAP_FIXED`) where `len` bytes go.
    fn get_unmapped_area(&self, pid: Pid, mm: &Mm, addr: u64, len: u64, flags: u64) -> Result<u64, Errno> {
        if len > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        let addr = self.arch_get_unmapped_area_topdown(mm, addr, len, flags)?;
        if addr > TASK_SIZE - len {
            return Err(Errno::ENOMEM);
        }
        if addr & (PAGE_SIZE - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        self.security_mmap_addr(pid, addr)?;
        Ok(addr)
    }

    /// `mmap(addr, len, prot, flags, fd, off)`: x86_64's `sys_mmap` and `sys_mmap_pgoff`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sys_mmap(&mut self, pid: Pid, addr: u64, len: u64, prot: u64, flags: u64, fd: i32, off: u64) -> SysResult {
        if off & (PAGE_SIZE - 1) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let pgoff = off / PAGE_SIZE;
        let mut file = None;
        if flags & MAP_ANONYMOUS == 0 {
            let fid = self.fget(pid, fd).map_err(|_| Errno::EBADF)?;
            if self.files.get(&fid).is_none_or(|f| f.flags & O_PATH != 0) {
                return Err(Errno::EBADF.into());
            }
            if flags & MAP_HUGETLB != 0 {
                return Err(Errno::EINVAL.into());
            }
            file = Some(fid);
        } else if flags & MAP_HUGETLB != 0 {
            // An anonymous hugetlbfs file; its mmap reserves huge pages, and the pool
            // is empty.
            return Err(if len == 0 { Errno::EINVAL } else { Errno::ENOMEM }.into());
        }
        let flags = flags & !(MAP_EXECUTABLE | MAP_DENYWRITE);
        Ok(self.do_mmap(pid, file, addr, len, prot, flags, pgoff)? as i64)
    }

    /// `do_mmap`.
    #[allow(clippy::too_many_arguments)]
    fn do_mmap(&mut self, pid: Pid, file: Option<crate::fs::file::FileId>, addr: u64, len: u64, prot: u64, flags: u64, pgoff: u64) -> Result<u64, Errno> {
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let addr = if flags & MAP_FIXED == 0 { self.round_hint_to_min(addr) } else { addr };
        let len = page_align(len).filter(|&l| l != 0).ok_or(Errno::ENOMEM)?;
        if pgoff.checked_add(len / PAGE_SIZE).is_none() {
            return Err(Errno::EOVERFLOW);
        }
        let mm_id = self.mm_id(pid)?;
        let mm = self.mm_ref(mm_id)?;
        if mm.vmas.len() > self.max_map_count() {
            return Err(Errno::ENOMEM);
        }
        let addr = self.get_unmapped_area(pid, mm, addr, len, flags)?;
        let mut vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
        self.mlock_future_check(pid, mm, vm_flags, len)?;
        let mut pgoff = pgoff;
        let mut backing = None;
        if let Some(fid) = file {
            let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
            match flags & MAP_TYPE {
                MAP_SHARED => {
                    if prot & PROT_WRITE != 0 && !f.writable() {
                        return Err(Errno::EACCES);
                    }
                    vm_flags |= VM_SHARED | VM_MAYSHARE;
                    if !f.writable() {
                        vm_flags &= !(VM_MAYWRITE | VM_SHARED);
                    }
                }
                MAP_PRIVATE => {}
                _ => return Err(Errno::EINVAL),
            }
            if !f.readable() {
                return Err(Errno::EACCES);
            }
            // Only ramfs regular files and pmem disks have an mmap method (pipes, procfs,
            // directories: none).
            let ino = match f.node {
                Node::Ram(ino) if matches!(self.vfs.ram.get(ino).map(|i| &i.data), Some(InodeData::Reg(_))) => ino,
                Node::Ram(ino) if self.blkdev_of(ino).is_some_and(|rdev| self.iomem.disk(rdev).is_some()) => {
                    // A DAX mapping (what a DAX file's mmap sets): raw pfns, no page cache.
                    vm_flags |= VM_MIXEDMAP;
                    ino
                }
                _ => return Err(Errno::ENODEV),
            };
            if vm_flags & (VM_GROWSDOWN | VM_GROWSUP) != 0 {
                return Err(Errno::EINVAL);
            }
            backing = Some((fid, ino));
        } else {
            match flags & MAP_TYPE {
                MAP_SHARED => {
                    if vm_flags & (VM_GROWSDOWN | VM_GROWSUP) != 0 {
                        return Err(Errno::EINVAL);
                    }
                    pgoff = 0;
                    vm_flags |= VM_SHARED | VM_MAYSHARE;
                }
                MAP_PRIVATE => pgoff = addr / PAGE_SIZE,
                _ => return Err(Errno::EINVAL),
            }
        }
        if flags & MAP_NORESERVE != 0 {
            vm_flags |= VM_NORESERVE;
        }
        let addr = self.mmap_region(pid, mm_id, backing, addr, len, vm_flags, pgoff)?;
        if vm_flags & VM_LOCKED != 0 || flags & (MAP_POPULATE | MAP_NONBLOCK) == MAP_POPULATE {
            self.mm_populate(mm_id, addr, len);
        }
        Ok(addr)
    }

    /// `mmap_region`: replace whatever is at `[addr, addr + len)` with the new VMA.
    #[allow(clippy::too_many_arguments)]
    fn mmap_region(&mut self, pid: Pid, mm_id: ObjId, backing: Option<(u64, Ino)>, addr: u64, len: u64, mut vm_flags: u64, pgoff: u64) -> Result<u64, Errno> {
        // Clear old maps (a failure after this point leaves them unmapped, as in Linux).
        let released = self.do_munmap(mm_id, addr, len).map_err(|_| Errno::ENOMEM)?;
        let r = (|| {
            if vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE) == VM_WRITE {
                self.vm_enough_memory(pid, len / PAGE_SIZE)?;
                vm_flags |= VM_ACCOUNT;
            }
            let file = match backing {
                Some((fid, ino)) => {
                    let mapping = match self.blkdev_of(ino).and_then(|rdev| self.iomem.disk(rdev)) {
                        Some(d) => Mapping::Dax { phys_base: d.data_phys(), pages: d.capacity() / PAGE_SIZE },
                        None => Mapping::Ram(ino),
                    };
                    Some(VmFile { file_id: fid, mapping, dev: crate::fs::ramfs::RAMFS_DEV, ino, path: self.ram_path(ino) })
                }
                None if vm_flags & VM_SHARED != 0 => {
                    let id = self.next_id();
                    Some(VmFile { file_id: id, mapping: Mapping::Shmem(id), dev: SHMEM_DEV, ino: id, path: String::from("/dev/zero") })
                }
                None => None,
            };
            let mm = self.mm_mut(mm_id)?;
            let i = mm.insert_vma(Vma { start: addr, end: addr + len, flags: vm_flags, pgoff, file, anon_vma: None, uffd_ctx: None });
            mm.merge_around(i);
            mm.update_hiwater();
            Ok(addr)
        })();
        self.release_unused_mappings(released);
        r
    }

    /// The path of a ramfs inode as `d_path` prints it (`?` if it has no name).
    pub(crate) fn ram_path(&self, ino: Ino) -> String {
        match self.vfs.ram.path_of(ino) {
            Some(p) => String::from_utf8_lossy(&p).into_owned(),
            None => String::from("?"),
        }
    }

    /// `mm_populate`: faults every page of `[addr, addr + len)` in (stores for private
    /// writable VMAs, so they get their own pages), stopping at the first failure. Bounded
    /// by twice the RAM's frames: page tables for more would not fit either.
    fn mm_populate(&mut self, mm_id: ObjId, addr: u64, len: u64) {
        let limit = self.frames.lock().total.saturating_mul(2);
        let mut va = addr;
        let mut n = 0;
        while va < addr + len && n < limit {
            let ok = self.with_mem(mm_id, |env, mm| {
                let Some(v) = mm.vma_at(va) else { return false };
                if v.inaccessible() {
                    return true;
                }
                let write = v.flags & (VM_WRITE | VM_SHARED) == VM_WRITE;
                handle_mm_fault(env, mm, va, write).is_ok()
            });
            if ok != Some(true) {
                return;
            }
            va += PAGE_SIZE;
            n += 1;
        }
    }

    /// `do_munmap`: removes `[start, start + len)` from address space `mm_id`, splitting
    /// the VMAs at its ends. Returns the objects whose VMAs went, for
    /// [`Kernel::release_unused_mappings`].
    pub(crate) fn do_munmap(&mut self, mm_id: ObjId, start: u64, len: u64) -> Result<BTreeSet<Mapping>, Errno> {
        let mut gone = BTreeSet::new();
        if start & (PAGE_SIZE - 1) != 0 || start > TASK_SIZE || len > TASK_SIZE - start {
            return Err(Errno::EINVAL);
        }
        let len = page_align(len).unwrap_or(0);
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let end = start + len;
        let max = self.max_map_count();
        let Kernel { hal, frames, mms, .. } = self;
        let mm = mms.get_mut(&mm_id).ok_or(Errno::ENOMEM)?;
        let Some(mut i) = mm.find_vma(start) else { return Ok(gone) };
        if mm.vmas[i].start >= end {
            return Ok(gone);
        }
        if start > mm.vmas[i].start {
            if end < mm.vmas[i].end && mm.vmas.len() >= max {
                return Err(Errno::ENOMEM);
            }
            mm.split_vma(i, start);
            i += 1;
        }
        if let Some(j) = mm.find_vma(end) {
            if end > mm.vmas[j].start {
                mm.split_vma(j, end);
            }
        }
        while i < mm.vmas.len() && mm.vmas[i].start < end {
            let v = mm.vmas.remove(i);
            zap_range(hal, &mut frames.lock(), mm, v.start, v.end);
            if let Some(f) = v.file {
                gone.insert(f.mapping);
            }
        }
        Ok(gone)
    }

    /// `munmap(addr, len)`.
    pub(crate) fn sys_munmap(&mut self, pid: Pid, addr: u64, len: u64) -> SysResult {
        let mm_id = self.mm_id(pid)?;
        let gone = self.do_munmap(mm_id, addr, len)?;
        self.release_unused_mappings(gone);
        Ok(0)
    }

    /// `do_brk`: an anonymous `VM_DATA_DEFAULT_FLAGS` mapping at `[addr, addr + len)`,
    /// merged with the heap below when it can be.
    fn do_brk(&mut self, pid: Pid, mm_id: ObjId, addr: u64, len: u64) -> Result<(), Errno> {
        let len = page_align(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(());
        }
        let flags = VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT;
        let mm = self.mm_ref(mm_id)?;
        self.get_unmapped_area(pid, mm, addr, len, MAP_FIXED)?;
        if mm.intersects(addr, addr + len) {
            let gone = self.do_munmap(mm_id, addr, len).map_err(|_| Errno::ENOMEM)?;
            self.release_unused_mappings(gone);
        }
        if self.mm_ref(mm_id)?.vmas.len() > self.max_map_count() {
            return Err(Errno::ENOMEM);
        }
        self.vm_enough_memory(pid, len / PAGE_SIZE)?;
        let mm = self.mm_mut(mm_id)?;
        let i = mm.insert_vma(Vma { start: addr, end: addr + len, flags, pgoff: addr / PAGE_SIZE, file: None, anon_vma: None, uffd_ctx: None });
        mm.merge_around(i);
        mm.update_hiwater();
        Ok(())
    }

    /// `brk(addr)`: moves the end of the heap; returns the new break, or the old one when
    /// the move is refused (below `start_brk`, into another mapping, out of memory).
    pub(crate) fn sys_brk(&mut self, pid: Pid, brk: u64) -> SysResult {
        let mm_id = self.mm_id(pid)?;
        let (start_brk, cur) = {
            let mm = self.mm_ref(mm_id)?;
            (mm.start_brk, mm.brk)
        };
        let fail = Ok(cur as i64);
        if brk < start_brk {
            return fail;
        }
        let (Some(newbrk), Some(oldbrk)) = (page_align(brk), page_align(cur)) else { return fail };
        if oldbrk != newbrk {
            if brk <= cur {
                // Always allow shrinking.
                match self.do_munmap(mm_id, newbrk, oldbrk - newbrk) {
                    Ok(gone) => self.release_unused_mappings(gone),
                    Err(_) => return fail,
                }
            } else {
                if self.mm_ref(mm_id)?.intersects(oldbrk, newbrk.saturating_add(PAGE_SIZE)) {
                    return fail;
                }
                if self.do_brk(pid, mm_id, oldbrk, newbrk - oldbrk).is_err() {
                    return fail;
                }
            }
        }
        self.mm_mut(mm_id)?.brk = brk;
        Ok(brk as i64)
    }

    /// Frees an address space nobody uses any more (`mmput` → `exit_mmap`).
    pub(crate) fn mm_release(&mut self, mut mm: Mm) {
        release_pages(&self.hal, &mut self.frames.lock(), &mut mm);
        self.hal.destroy_address_space(mm.asid);
        let gone: BTreeSet<Mapping> = mm.mappings().collect();
        self.release_unused_mappings(gone);
    }

    /// `dup_mmap` for `fork` by `pid`: each `VM_ACCOUNT` VMA is charged again, then the
    /// VMAs and (copy-on-write) pages are copied. The new address space's id.
    pub(crate) fn dup_mm(&mut self, pid: Pid, old_id: ObjId) -> Result<ObjId, Errno> {
        let old = self.mm_ref(old_id)?;
        let charges: Vec<u64> = old.vmas.iter().filter(|v| v.flags & VM_ACCOUNT != 0 && v.flags & VM_DONTCOPY == 0).map(Vma::pages).collect();
        for pages in charges {
            self.vm_enough_memory(pid, pages)?;
        }
        let Kernel { hal, frames, mms, .. } = self;
        let old = mms.get_mut(&old_id).ok_or(Errno::ENOMEM)?;
        let new = dup_mm(hal, &mut frames.lock(), old)?;
        let id = self.next_id();
        self.mms.insert(id, new);
        Ok(id)
    }

    /// Maps an executed program's file read-only and executable at `ELF_ET_DYN_BASE`
    /// (what loading a PIE's text does) and starts the heap right after it.
    pub(crate) fn map_exec_text(&mut self, mm: &mut Mm, ino: Ino, size: u64) {
        let len = page_align(size.max(1)).unwrap_or(PAGE_SIZE);
        let file = VmFile { file_id: self.next_id(), mapping: Mapping::Ram(ino), dev: crate::fs::ramfs::RAMFS_DEV, ino, path: self.ram_path(ino) };
        let start = ELF_ET_DYN_BASE;
        mm.insert_vma(Vma { start, end: start + len, flags: VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DENYWRITE, pgoff: 0, file: Some(file), anon_vma: None, uffd_ctx: None });
        mm.start_code = start;
        mm.end_code = start + len;
        mm.start_brk = start + len;
        mm.brk = start + len;
        mm.update_hiwater();
    }
}
