//! `prctl(2)` (`kernel/sys.c:SYSCALL_DEFINE5(prctl)`) and the capability module's part of
//! it (`security/commoncap.c:cap_task_prctl`), which Linux offers every option first:
//! the bounding set, securebits, keep-caps and the 4.3 ambient set.
//!
//! Options of 4.3 that k43 does not model (`PR_SET_PDEATHSIG`, `PR_SET_TIMERSLACK`,
//! `PR_SET_CHILD_SUBREAPER`, `PR_SET_MM`, …) answer `EINVAL` like an unknown option.

use super::commoncap::own_ns_capable;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::*;
use crate::uapi::prctl::*;
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
    /// `sys_prctl`. `option` is an `int`; the other arguments are `unsigned long`.
    pub(crate) fn sys_prctl(&mut self, pid: Pid, option: i32, a2: u64, a3: u64, a4: u64, a5: u64) -> SysResult {
        if let Some(r) = self.cap_task_prctl(pid, option, a2, a3, a4, a5) {
            return r;
        }
        let option = option as u32;
        match option {
            PR_SET_DUMPABLE => {
                if a2 != SUID_DUMP_DISABLE && a2 != SUID_DUMP_USER {
                    return Err(Errno::EINVAL.into());
                }
                let mm = self.task(pid).ok_or(Errno::ESRCH)?.mm;
                if let Some(m) = self.mms.get_mut(&mm) {
                    m.dumpable = a2 as u8;
                }
                Ok(0)
            }
            PR_GET_DUMPABLE => {
                let mm = self.task(pid).ok_or(Errno::ESRCH)?.mm;
                Ok(self.mms.get(&mm).map_or(0, |m| m.dumpable) as i64)
            }
            PR_SET_NAME => {
                // strncpy_from_user(comm, arg2, TASK_COMM_LEN - 1): at most 15 bytes.
                let name = match self.strncpy_from_user(pid, a2, TASK_COMM_LEN)? {
                    Some(s) => s,
                    None => self.read_user(pid, a2, TASK_COMM_LEN - 1)?,
                };
                let comm = alloc::string::String::from_utf8_lossy(&name).into_owned();
                if let Some(t) = self.tasks.get_mut(&pid) {
                    t.comm = comm;
                }
                Ok(0)
            }
            PR_GET_NAME => {
                let mut buf = [0u8; TASK_COMM_LEN];
                let comm = self.task(pid).ok_or(Errno::ESRCH)?.comm.clone();
                let n = comm.len().min(TASK_COMM_LEN - 1);
                buf[..n].copy_from_slice(&comm.as_bytes()[..n]);
                self.copy_to_user(pid, a2, &buf)?;
                Ok(0)
            }
            PR_SET_NO_NEW_PRIVS => {
                if a2 != 1 || a3 != 0 || a4 != 0 || a5 != 0 {
                    return Err(Errno::EINVAL.into());
                }
                if let Some(t) = self.tasks.get_mut(&pid) {
                    t.no_new_privs = true;
                }
                Ok(0)
            }
            PR_GET_NO_NEW_PRIVS => {
                if a2 != 0 || a3 != 0 || a4 != 0 || a5 != 0 {
                    return Err(Errno::EINVAL.into());
                }
                Ok(self.task(pid).ok_or(Errno::ESRCH)?.no_new_privs as i64)
            }
            PR_SET_SECCOMP => self.prctl_set_seccomp(pid, a2, a3),
            PR_GET_SECCOMP => self.prctl_get_seccomp(pid),
            _ => Err(Errno::EINVAL.into()),
        }
    }

    /// `cap_task_prctl`: `None` for the options it does not handle (Linux's `-ENOSYS`,
    /// which sends `sys_prctl` on to its own switch).
    fn cap_task_prctl(&mut self, pid: Pid, option: i32, a2: u64, a3: u64, a4: u64, a5: u64) -> Option<SysResult> {
        let old = match self.task(pid) {
            Some(t) => t.cred.clone(),
            None => return Some(Err(Errno::ESRCH.into())),
        };
        let mut new = old.clone();
        let r: Result<i64, Errno> = match option as u32 {
            PR_CAPBSET_READ => {
                if !cap_valid(a2) {
                    Err(Errno::EINVAL)
                } else {
                    Ok((old.cap_bset >> a2) as i64 & 1)
                }
            }
            // cap_prctl_drop: the capability test comes before the validity test.
            PR_CAPBSET_DROP => {
                if !own_ns_capable(&old, CAP_SETPCAP) {
                    Err(Errno::EPERM)
                } else if !cap_valid(a2) {
                    Err(Errno::EINVAL)
                } else {
                    new.cap_bset &= !(1u64 << a2);
                    Ok(0)
                }
            }
            PR_SET_SECUREBITS => {
                let sb = old.securebits as u64;
                let locks = (SECURE_ALL_LOCKS) as u64;
                if ((sb & locks) >> 1) & (sb ^ a2) != 0 // a locked bit would change
                    || sb & locks & !a2 != 0 // a lock would be released
                    || a2 & !((SECURE_ALL_LOCKS | SECURE_ALL_BITS) as u64) != 0 // unsupported bits
                    || !own_ns_capable(&old, CAP_SETPCAP)
                {
                    Err(Errno::EPERM)
                } else {
                    new.securebits = a2 as u32;
                    Ok(0)
                }
            }
            PR_GET_SECUREBITS => Ok(old.securebits as i64),
            PR_GET_KEEPCAPS => Ok((old.securebits & SECBIT_KEEP_CAPS != 0) as i64),
            PR_SET_KEEPCAPS => {
                if a2 > 1 {
                    Err(Errno::EINVAL)
                } else if old.securebits & SECBIT_KEEP_CAPS_LOCKED != 0 {
                    Err(Errno::EPERM)
                } else {
                    if a2 != 0 {
                        new.securebits |= SECBIT_KEEP_CAPS;
                    } else {
                        new.securebits &= !SECBIT_KEEP_CAPS;
                    }
                    Ok(0)
                }
            }
            PR_CAP_AMBIENT => cap_prctl_ambient(&mut new, a2, a3, a4, a5),
            _ => return None,
        };
        Some(match r {
            Ok(v) => {
                if new != old {
                    self.commit_creds(pid, new);
                }
                Ok(v)
            }
            Err(e) => Err(e.into()),
        })
    }
}

/// `PR_CAP_AMBIENT` in 4.3's order of checks.
fn cap_prctl_ambient(new: &mut crate::security::cred::Cred, op: u64, cap: u64, a4: u64, a5: u64) -> Result<i64, Errno> {
    if op == PR_CAP_AMBIENT_CLEAR_ALL {
        if cap | a4 | a5 != 0 {
            return Err(Errno::EINVAL);
        }
        new.cap_ambient = 0;
        return Ok(0);
    }
    if !cap_valid(cap) || a4 != 0 || a5 != 0 {
        return Err(Errno::EINVAL);
    }
    let bit = 1u64 << cap;
    match op {
        PR_CAP_AMBIENT_IS_SET => Ok((new.cap_ambient & bit != 0) as i64),
        PR_CAP_AMBIENT_RAISE => {
            if new.cap_permitted & bit == 0 || new.cap_inheritable & bit == 0 || new.securebits & SECBIT_NO_CAP_AMBIENT_RAISE != 0 {
                return Err(Errno::EPERM);
            }
            new.cap_ambient |= bit;
            Ok(0)
        }
        PR_CAP_AMBIENT_LOWER => {
            new.cap_ambient &= !bit;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
