//! copy_from_user / copy_to_user / strncpy_from_user over the HAL's user-access trait.
//!
//! The range check (`access_ok`) happens here; the copy itself happens in the backend
//! inside the PAN/SMAP window. A copy that faults on a page missing from a VMA is resolved
//! by the fault handler and retried, as Linux's fixup path does; anything else is
//! `-EFAULT`.

use super::{handle_mm_fault, TASK_SIZE};
use crate::hal::{Hal, UserFault, VirtAddr};
use crate::kernel::{Kernel, Pid};
use crate::uapi::Errno;
use alloc::vec;
use alloc::vec::Vec;

/// `access_ok`: the whole range lies in the user half and does not wrap.
pub fn access_ok(addr: VirtAddr, len: usize) -> bool {
    addr.checked_add(len as u64).is_some_and(|end| end <= TASK_SIZE)
}

/// How many times one copy may fault in a page before giving up (one per page is enough;
/// the bound keeps a buggy backend from looping forever).
const MAX_FAULTS_PER_COPY: usize = 1 << 16;

impl<H: Hal> Kernel<H> {
    /// The oops x86's `no_context` prints for a kernel access the MMU refused, here a user
    /// page touched with SMAP/PAN armed (error code: present, plus write for a store).
    pub(crate) fn oops_paging_request(&mut self, addr: VirtAddr, write: bool) {
        crate::printk!(self, "BUG: unable to handle kernel paging request at {:016x}", addr);
        crate::printk!(self, "Oops: {:04x} [#1] SMP", if write { 3 } else { 1 });
    }

    fn user_copy(&mut self, pid: Pid, addr: VirtAddr, len: usize, mut op: impl FnMut(&H, crate::hal::AddressSpaceId) -> Result<(), UserFault>, write: bool) -> Result<(), Errno> {
        if !access_ok(addr, len) {
            return Err(Errno::EFAULT);
        }
        if len == 0 {
            return Ok(());
        }
        let mm_id = self.task(pid).ok_or(Errno::ESRCH)?.mm;
        for _ in 0..MAX_FAULTS_PER_COPY {
            let asid = self.mms.get(&mm_id).ok_or(Errno::EFAULT)?.asid;
            self.hal.user_access_begin();
            let r = op(&self.hal, asid);
            self.hal.user_access_end();
            match r {
                Ok(()) => return Ok(()),
                Err(UserFault::NotMapped { addr: fault }) => {
                    let mm = self.mms.get_mut(&mm_id).ok_or(Errno::EFAULT)?;
                    handle_mm_fault(&self.hal, &mut self.frames, mm, fault, write).map_err(|_| Errno::EFAULT)?;
                }
                Err(UserFault::ReadOnly { .. }) => return Err(Errno::EFAULT),
                Err(UserFault::PanViolation { addr }) => {
                    self.oops_paging_request(addr, write);
                    return Err(Errno::EFAULT);
                }
            }
        }
        Err(Errno::EFAULT)
    }

    /// `copy_from_user` into `dst` from `pid`'s memory.
    pub fn copy_from_user(&mut self, pid: Pid, src: VirtAddr, dst: &mut [u8]) -> Result<(), Errno> {
        let len = dst.len();
        self.user_copy(pid, src, len, |h, asid| h.raw_copy_from_user(asid, src, dst), false)
    }

    /// `copy_to_user` of `src` into `pid`'s memory.
    pub fn copy_to_user(&mut self, pid: Pid, dst: VirtAddr, src: &[u8]) -> Result<(), Errno> {
        self.user_copy(pid, dst, src.len(), |h, asid| h.raw_copy_to_user(asid, dst, src), true)
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
    /// would be a `SIGSEGV`.
    pub fn user_mode_access(&mut self, pid: Pid, addr: VirtAddr, buf: &mut [u8], write: bool) -> Result<(), Errno> {
        if write {
            let data = buf.to_vec();
            self.copy_to_user(pid, addr, &data)
        } else {
            self.copy_from_user(pid, addr, buf)
        }
    }
}

impl<H: Hal> Kernel<H> {
    /// Reads `pid`'s memory the way a debugger would, without side effects: no fault is
    /// taken and no page is allocated; a page inside a VMA that was never touched reads as
    /// zeroes. `None` when part of the range is outside every VMA. Tracers use this so that
    /// tracing never changes what the traced run does.
    pub fn peek_user(&self, pid: Pid, addr: VirtAddr, len: usize) -> Option<Vec<u8>> {
        if !access_ok(addr, len) {
            return None;
        }
        let mm = self.mms.get(&self.task(pid)?.mm)?;
        let mut out = vec![0u8; len];
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let n = ((4096 - (a & 4095)) as usize).min(len - done);
            mm.find_vma(a)?;
            if let Some((pa, _)) = self.hal.translate(mm.asid, a) {
                self.hal.phys_read(pa, &mut out[done..done + n]);
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
