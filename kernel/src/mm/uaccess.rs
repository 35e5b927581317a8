//! copy_from_user / copy_to_user / get_user / put_user / strncpy_from_user over the HAL's
//! user-access trait.
//!
//! The range check (`access_ok`: the whole range in the user half, no wrap-around)
//! happens here; the copy itself happens in the backend inside the PAN/SMAP window, one
//! page at a time. A copy that faults is resolved by [`handle_mm_fault`] and that page is
//! retried, as Linux's fault-then-fixup path does:
//! - a page missing from a VMA that allows the access is faulted in;
//! - a store to a read-only page of a writable VMA (a COW-shared page after `fork`, the
//!   zero page, a private file page) breaks the COW and goes on;
//! - anything else (no VMA, a `PROT_READ` mapping for a store, `PROT_NONE`, past the end
//!   of a file) is `-EFAULT`.
//!
//! A kernel access with the window closed is the PAN/SMAP oops.

use super::{handle_mm_fault, FaultError, TASK_SIZE};
use crate::hal::{Hal, UserFault, VirtAddr, PAGE_SIZE};
use crate::kernel::{Kernel, Pid};
use crate::uapi::Errno;
use alloc::vec;
use alloc::vec::Vec;

/// `access_ok`: the whole range lies in the user half and does not wrap.
pub fn access_ok(addr: VirtAddr, len: usize) -> bool {
    addr.checked_add(len as u64).is_some_and(|end| end <= TASK_SIZE)
}

/// How many times one page of a copy may fault before giving up (a fault that resolves
/// needs one retry, a COW break after a missing page two; the bound keeps a buggy backend
/// from looping forever).
const MAX_FAULTS_PER_PAGE: usize = 4;

impl<H: Hal> Kernel<H> {
    /// The oops x86's `no_context` prints for a kernel access the MMU refused, here a user
    /// page touched with SMAP/PAN armed (error code: present, plus write for a store).
    pub(crate) fn oops_paging_request(&mut self, addr: VirtAddr, write: bool) {
        crate::printk!(self, "BUG: unable to handle kernel paging request at {:016x}", addr);
        crate::printk!(self, "Oops: {:04x} [#1] SMP", if write { 3 } else { 1 });
    }

    /// Resolves a fault of `pid`'s address space at `addr` ([`handle_mm_fault`]).
    pub(crate) fn fault_in(&mut self, pid: Pid, addr: VirtAddr, write: bool) -> Result<(), FaultError> {
        let mm_id = self.task(pid).ok_or(FaultError::Segv)?.mm;
        self.with_mem(mm_id, |env, mm| handle_mm_fault(env, mm, addr, write)).unwrap_or(Err(FaultError::Segv))
    }

    /// Copies `len` bytes at user `addr` page by page with `op(hal, asid, addr, offset, n)`.
    fn user_copy(&mut self, pid: Pid, addr: VirtAddr, len: usize, write: bool, mut op: impl FnMut(&H, crate::hal::AddressSpaceId, VirtAddr, usize, usize) -> Result<(), UserFault>) -> Result<(), Errno> {
        if !access_ok(addr, len) {
            return Err(Errno::EFAULT);
        }
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let n = ((PAGE_SIZE - (a & (PAGE_SIZE - 1))) as usize).min(len - done);
            let mut tries = 0;
            loop {
                let mm_id = self.task(pid).ok_or(Errno::ESRCH)?.mm;
                let asid = self.mms.get(&mm_id).ok_or(Errno::EFAULT)?.asid;
                self.hal.user_access_begin();
                let r = op(&self.hal, asid, a, done, n);
                self.hal.user_access_end();
                let fault = match r {
                    Ok(()) => break,
                    Err(UserFault::PanViolation { addr }) => {
                        self.oops_paging_request(addr, write);
                        return Err(Errno::EFAULT);
                    }
                    Err(UserFault::NotMapped { addr }) => (addr, write),
                    // A store to a read-only page: a write fault (COW break, or EFAULT for
                    // a mapping without write permission).
                    Err(UserFault::ReadOnly { addr }) => (addr, true),
                };
                tries += 1;
                if tries > MAX_FAULTS_PER_PAGE {
                    return Err(Errno::EFAULT);
                }
                match self.fault_in(pid, fault.0, fault.1) {
                    Ok(()) => {}
                    // handle_userfault: the task sleeps until the handler resolves the page
                    // (ERESTARTSYS: the syscall re-runs after the wakeup), or the fault fails.
                    // A user-mode access through user_mode_access cannot sleep (the task is
                    // not in a syscall): it reports that it would have to wait.
                    Err(crate::mm::FaultError::Userfault) if self.uaccess_nowait => return Err(Errno::EAGAIN),
                    Err(crate::mm::FaultError::Userfault) => {
                        let mm_id = self.task(pid).ok_or(Errno::ESRCH)?.mm;
                        return match self.handle_userfault(pid, mm_id, fault.0, fault.1) {
                            crate::fs::userfaultfd::UserfaultOutcome::Sleep => Err(Errno::ERESTARTSYS),
                            crate::fs::userfaultfd::UserfaultOutcome::Sigbus => Err(Errno::EFAULT),
                        };
                    }
                    Err(_) => return Err(Errno::EFAULT),
                }
            }
            done += n;
        }
        Ok(())
    }

    /// `copy_from_user` into `dst` from `pid`'s memory.
    pub fn copy_from_user(&mut self, pid: Pid, src: VirtAddr, dst: &mut [u8]) -> Result<(), Errno> {
        let len = dst.len();
        self.user_copy(pid, src, len, false, |h, asid, a, off, n| h.raw_copy_from_user(asid, a, &mut dst[off..off + n]))
    }

    /// `copy_to_user` of `src` into `pid`'s memory.
    pub fn copy_to_user(&mut self, pid: Pid, dst: VirtAddr, src: &[u8]) -> Result<(), Errno> {
        self.user_copy(pid, dst, src.len(), true, |h, asid, a, off, n| h.raw_copy_to_user(asid, a, &src[off..off + n]))
    }

    /// Reads `len` bytes of user memory into a new vector.
    pub fn read_user(&mut self, pid: Pid, src: VirtAddr, len: usize) -> Result<Vec<u8>, Errno> {
        let mut v = vec![0u8; len];
        self.copy_from_user(pid, src, &mut v)?;
        Ok(v)
    }

    /// Reads a fixed-size value of user memory.
    pub fn read_user_array<const N: usize>(&mut self, pid: Pid, src: VirtAddr) -> Result<[u8; N], Errno> {
        let mut a = [0u8; N];
        self.copy_from_user(pid, src, &mut a)?;
        Ok(a)
    }

    /// `get_user` of a `u64`.
    pub fn get_user_u64(&mut self, pid: Pid, src: VirtAddr) -> Result<u64, Errno> {
        Ok(u64::from_le_bytes(self.read_user_array(pid, src)?))
    }

    /// `get_user` of a `u32` (an `int`).
    pub fn get_user_u32(&mut self, pid: Pid, src: VirtAddr) -> Result<u32, Errno> {
        Ok(u32::from_le_bytes(self.read_user_array(pid, src)?))
    }

    /// `put_user` of a `u64`.
    pub fn put_user_u64(&mut self, pid: Pid, dst: VirtAddr, v: u64) -> Result<(), Errno> {
        self.copy_to_user(pid, dst, &v.to_le_bytes())
    }

    /// `put_user` of a `u32` (an `int`).
    pub fn put_user_u32(&mut self, pid: Pid, dst: VirtAddr, v: u32) -> Result<(), Errno> {
        self.copy_to_user(pid, dst, &v.to_le_bytes())
    }

    /// `clear_user`: zeroes `len` bytes of user memory.
    pub fn clear_user(&mut self, pid: Pid, dst: VirtAddr, len: usize) -> Result<(), Errno> {
        let zero = [0u8; PAGE_SIZE as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(zero.len());
            self.copy_to_user(pid, dst + done as u64, &zero[..n])?;
            done += n;
        }
        Ok(())
    }

    /// `strncpy_from_user`: the NUL-terminated string at `src`, at most `max` bytes
    /// including the NUL. `Ok(None)` means no NUL within `max` bytes (callers turn that into
    /// `ENAMETOOLONG` or `ERANGE`).
    pub fn strncpy_from_user(&mut self, pid: Pid, src: VirtAddr, max: usize) -> Result<Option<Vec<u8>>, Errno> {
        let mut out = Vec::new();
        let mut addr = src;
        while out.len() < max {
            // Never read past the page end in one go: the next page may be unmapped while
            // the string ends before it.
            let page_left = (4096 - (addr & 4095)) as usize;
            let n = page_left.min(max - out.len());
            let mut chunk = vec![0u8; n];
            self.copy_from_user(pid, addr, &mut chunk)?;
            if let Some(nul) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..nul]);
                return Ok(Some(out));
            }
            out.extend_from_slice(&chunk);
            addr += n as u64;
        }
        Ok(None)
    }

    /// A user-mode access by `pid` itself (a user program's load or store), which is not
    /// subject to PAN: faults are resolved as for any user access; `Err(EFAULT)` is what
    /// would be a `SIGSEGV`. It does not sleep: a missing page in a range registered with
    /// a userfaultfd gives `Err(EAGAIN)` (the access would wait for the handler).
    pub fn user_mode_access(&mut self, pid: Pid, addr: VirtAddr, buf: &mut [u8], write: bool) -> Result<(), Errno> {
        self.uaccess_nowait = true;
        let r = if write {
            let data = buf.to_vec();
            self.copy_to_user(pid, addr, &data)
        } else {
            self.copy_from_user(pid, addr, buf)
        };
        self.uaccess_nowait = false;
        r
    }
}

impl<H: Hal> Kernel<H> {
    /// Reads `pid`'s memory the way a debugger would, without side effects: no fault is
    /// taken and no page is allocated. A page inside a VMA reads as what a fault would
    /// show: the present page, else the file's bytes for a file mapping, else zeroes.
    /// `None` when part of the range is outside every readable VMA or past the end of a
    /// mapped file (what `process_vm_readv` refuses). Tracers use this so that tracing
    /// never changes what the traced run does. It reads through the kernel's own page
    /// records, never the backend's page tables (so a hal-x86 address inside its identity
    /// map reads like hal-sim's).
    pub fn peek_user(&self, pid: Pid, addr: VirtAddr, len: usize) -> Option<Vec<u8>> {
        if !access_ok(addr, len) {
            return None;
        }
        let mm = self.mms.get(&self.task(pid)?.mm)?;
        let mut out = vec![0u8; len];
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let off = (a & (PAGE_SIZE - 1)) as usize;
            let n = (PAGE_SIZE as usize - off).min(len - done);
            let vma = mm.vma_at(a)?;
            // process_vm_readv (what strace reads with) needs VM_READ.
            if vma.flags & super::VM_READ == 0 {
                return None;
            }
            let page = a & !(PAGE_SIZE - 1);
            let dst = &mut out[done..done + n];
            if let Some(pte) = mm.pages.get(&page) {
                if pte.kind == super::PageKind::Pfn {
                    self.hal.pmem_read(pte.pa + off as u64, dst).ok()?;
                } else {
                    self.hal.phys_read(pte.pa + off as u64, dst);
                }
            } else if let Some(f) = &vma.file {
                let pgoff = vma.pgoff_of(page);
                if let super::Mapping::Dax { phys_base, pages } = f.mapping {
                    // Not faulted in yet: the media itself (past the end would be SIGBUS).
                    if pgoff >= pages {
                        return None;
                    }
                    self.hal.pmem_read(phys_base + pgoff * PAGE_SIZE + off as u64, dst).ok()?;
                } else if let Some(pa) = self.page_cache.find(f.mapping, pgoff) {
                    self.hal.phys_read(pa + off as u64, dst);
                } else if let super::Mapping::Ram(ino) = f.mapping {
                    let Some(crate::fs::InodeData::Reg(d)) = self.vfs.ram.get(ino).map(|i| &i.data) else { return None };
                    // A page wholly past the end of the file would be SIGBUS.
                    if pgoff >= (d.len() as u64).div_ceil(PAGE_SIZE) {
                        return None;
                    }
                    let s = pgoff.saturating_mul(PAGE_SIZE).saturating_add(off as u64);
                    for (k, b) in dst.iter_mut().enumerate() {
                        *b = usize::try_from(s + k as u64).ok().and_then(|i| d.get(i)).copied().unwrap_or(0);
                    }
                }
            }
            done += n;
        }
        Some(out)
    }

    /// [`Kernel::peek_user`] of a NUL-terminated string of at most `max` bytes; the bool
    /// says whether the NUL was found.
    pub fn peek_user_cstr(&self, pid: Pid, addr: VirtAddr, max: usize) -> Option<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        let mut a = addr;
        while out.len() < max {
            let n = ((4096 - (a & 4095)) as usize).min(max - out.len());
            let chunk = self.peek_user(pid, a, n)?;
            if let Some(z) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Some((out, true));
            }
            out.extend_from_slice(&chunk);
            a += n as u64;
        }
        Some((out, false))
    }
}
