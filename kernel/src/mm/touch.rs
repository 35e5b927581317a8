//! User-mode page faults (`__do_page_fault` for an access from user mode).
//!
//! A built-in program's loads and stores go through `user_mode_access`, which resolves
//! ordinary faults in place and never sleeps. An access that must wait for a userfaultfd
//! handler enters the kernel here instead, as a fault does on hardware: the task sleeps
//! on the userfault (interruptibly, as for user-mode faults) and retries after the wake;
//! an access that cannot be satisfied ends in a signal — `SIGBUS` for a userfault that
//! may not wait again (4.3's single retry) or a page past the end of a mapped file,
//! `SIGSEGV` for no VMA or a VMA without the permission.

use super::FaultError;
use crate::fs::userfaultfd::UserfaultOutcome;
use crate::hal::{Hal, PAGE_SIZE};
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysErr;
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
    /// Faults in every page of `[addr, addr + len)` for `pid` in user mode. `Err(EIO)`
    /// stands for `SIGBUS`, `Err(EFAULT)` for `SIGSEGV`, `Err(Block)` for a userfault
    /// sleep.
    pub(crate) fn handle_user_fault(&mut self, pid: Pid, addr: u64, len: u64, write: bool) -> Result<(), SysErr> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).filter(|&e| e <= super::TASK_SIZE).ok_or(Errno::EFAULT)?;
        let mut page = addr & !(PAGE_SIZE - 1);
        while page < end {
            // The exact address for the first page, the page's start for the others.
            let at = addr.max(page);
            match self.fault_in(pid, at, write) {
                Ok(()) => {}
                Err(FaultError::Userfault) => {
                    let mm_id = self.task(pid).ok_or(Errno::ESRCH)?.mm;
                    return match self.handle_userfault(pid, mm_id, at, write) {
                        UserfaultOutcome::Sleep => Err(SysErr::Block),
                        UserfaultOutcome::Sigbus => Err(Errno::EIO.into()),
                    };
                }
                Err(FaultError::Sigbus) => return Err(Errno::EIO.into()),
                // No VMA, no permission; out of memory has no OOM killer here either.
                Err(FaultError::Segv | FaultError::Oom) => return Err(Errno::EFAULT.into()),
            }
            page += PAGE_SIZE;
        }
        Ok(())
    }
}
