//! lkdtm (`drivers/misc/lkdtm.c`): provoke a kernel bug on purpose, through
//! `/sys/kernel/debug/provoke-crash/DIRECT`.
//!
//! k43 has the one crash type that tests the user-access discipline: `ACCESS_USERSPACE`
//! reads a user page from kernel code *without* opening the user-access window, which
//! SMAP (x86) or PAN (arm64, and the simulator's software PAN) must turn into a fault and
//! an oops. A kernel where that read succeeds silently has lost its SMAP/PAN protection.

use super::{Kernel, Pid};
use crate::hal::{Hal, UserAccess, UserFault};
use crate::mm::{PageKind, STACK_SIZE, STACK_TOP};
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::uapi::signal::SIGKILL;
use crate::uapi::wait::signaled;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// The crash types this kernel implements.
const TYPES: &[&str] = &["ACCESS_USERSPACE"];

/// What reading DIRECT shows (`lkdtm_debugfs_read`).
pub fn available_types() -> Vec<u8> {
    let mut s = alloc::string::String::from("Available crash types:\n");
    for t in TYPES {
        s.push_str(t);
        s.push('\n');
    }
    s.into_bytes()
}

impl<H: Hal> Kernel<H> {
    /// `direct_entry`: the written word names a crash type, which runs at once.
    pub(crate) fn lkdtm_direct_entry(&mut self, pid: Pid, buf: u64, count: usize) -> SysResult {
        if count < 1 || count >= 4096 {
            return Err(Errno::EINVAL.into());
        }
        let data = self.read_user(pid, buf, count)?;
        let word = core::str::from_utf8(&data).map_err(|_| Errno::EINVAL)?.trim();
        match word {
            "ACCESS_USERSPACE" => {
                crate::printk!(self, "lkdtm: Performing direct entry {}", word);
                self.lkdtm_access_userspace(pid)?;
                Ok(count as i64)
            }
            _ => Err(Errno::EINVAL.into()),
        }
    }

    /// Reads (then writes) a present user page straight from kernel code.
    fn lkdtm_access_userspace(&mut self, pid: Pid) -> Result<(), SysErr> {
        // Linux vm_mmap()s a fresh page; the lowest page of the stack VMA is an ordinary
        // anonymous user page of this task, made present first so that only the missing
        // user-access window can make the access fault.
        let addr = STACK_TOP - STACK_SIZE;
        let mm_id = self.task(pid).ok_or(Errno::ESRCH)?.mm;
        let mm = self.mms.get(&mm_id).ok_or(Errno::EFAULT)?;
        if mm.pages.get(&addr).is_none_or(|p| p.kind != PageKind::Anon) {
            self.fault_in(pid, addr, true).map_err(|_| Errno::ENOMEM)?;
        }
        let asid = self.mms.get(&mm_id).ok_or(Errno::EFAULT)?.asid;
        crate::printk!(self, "lkdtm: attempting bad read at {:016x}", addr);
        let mut word = [0u8; 8];
        // The bug lkdtm provokes: no user_access_begin() around this access.
        let read = UserAccess::raw_copy_from_user(&self.hal, asid, addr, &mut word);
        let fault = match read {
            Ok(()) => {
                let v = u64::from_le_bytes(word).wrapping_add(0xc0de_c0de);
                crate::printk!(self, "lkdtm: attempting bad write at {:016x}", addr);
                match UserAccess::raw_copy_to_user(&self.hal, asid, addr, &v.to_le_bytes()) {
                    Ok(()) => return Ok(()),
                    Err(f) => (f, true),
                }
            }
            Err(f) => (f, false),
        };
        match fault {
            (UserFault::PanViolation { addr }, write) => {
                self.oops_paging_request(addr, write);
                // oops_end: the task that oopsed dies with SIGKILL.
                self.do_group_exit(pid, signaled(SIGKILL, false));
                Err(SysErr::Gone)
            }
            _ => Err(Errno::EFAULT.into()),
        }
    }
}
