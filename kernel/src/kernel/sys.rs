//! Identity and time syscalls (`kernel/sys.c`, `kernel/capability.c`,
//! `kernel/time/posix-timers.c`, `kernel/time/hrtimer.c`).

use super::{Kernel, Pid};
use crate::hal::Hal;
use crate::security::commoncap::{cap_capset, cap_task_fix_setuid, ns_capable};
use crate::security::cred::Cred;
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::syscalls::Arch;
use crate::uapi::capability::*;
use crate::uapi::time::*;
use crate::uapi::utsname::{NEW_UTS_LEN, UTSNAME_SIZE, UTS_RELEASE, UTS_VERSION};
use crate::uapi::Errno;
use alloc::string::ToString;

const NO_CHANGE: u32 = u32::MAX;
/// `KTIME_MAX`: the largest time an hrtimer can express.
const KTIME_MAX: u64 = i64::MAX as u64;

impl<H: Hal> Kernel<H> {
    fn cur(&self, pid: Pid) -> Result<&super::Task, Errno> {
        self.task(pid).ok_or(Errno::ESRCH)
    }

    pub(crate) fn sys_getpid(&mut self, pid: Pid) -> SysResult {
        Ok(self.cur(pid)?.tgid as i64)
    }

    pub(crate) fn sys_getppid(&mut self, pid: Pid) -> SysResult {
        Ok(self.cur(pid)?.parent as i64)
    }

    pub(crate) fn sys_gettid(&mut self, pid: Pid) -> SysResult {
        Ok(pid as i64)
    }

    pub(crate) fn sys_getid(&mut self, pid: Pid, which: u8) -> SysResult {
        let c = &self.cur(pid)?.cred;
        let kid = match which {
            0 => c.uid,
            1 => c.euid,
            2 => c.gid,
            _ => c.egid,
        };
        // from_kuid_munged(current_user_ns(), …): unmapped ids read as the overflow id.
        Ok(c.user_ns.from_kid_munged(kid) as i64)
    }

    /// `setresuid`/`setresgid`: each id may become one of the current three unless the
    /// caller has CAP_SETUID/CAP_SETGID; `-1` keeps an id.
    pub(crate) fn sys_setres(&mut self, pid: Pid, ids: [u32; 3], gid: bool) -> SysResult {
        let old = self.cur(pid)?.cred.clone();
        // make_kuid in the caller's namespace: an id it does not map is EINVAL.
        if ids.iter().any(|&id| id != NO_CHANGE && old.user_ns.make_kid(id).is_none()) {
            return Err(Errno::EINVAL.into());
        }
        let cur = if gid { [old.gid, old.egid, old.sgid] } else { [old.uid, old.euid, old.suid] };
        let cap = if gid { CAP_SETGID } else { CAP_SETUID };
        if !ns_capable(&old, &old.user_ns, cap) && ids.iter().any(|&id| id != NO_CHANGE && !cur.contains(&id)) {
            return Err(Errno::EPERM.into());
        }
        let mut new = old.clone();
        let pick = |id: u32, keep: u32| if id == NO_CHANGE { keep } else { id };
        if gid {
            new.gid = pick(ids[0], old.gid);
            new.egid = pick(ids[1], old.egid);
            new.sgid = pick(ids[2], old.sgid);
            new.fsgid = new.egid;
        } else {
            new.uid = pick(ids[0], old.uid);
            new.euid = pick(ids[1], old.euid);
            new.suid = pick(ids[2], old.suid);
            new.fsuid = new.euid;
            cap_task_fix_setuid(&mut new, &old);
        }
        self.commit_creds(pid, new);
        Ok(0)
    }

    /// `commit_creds`: credentials are per task; the thread group shares nothing here
    /// (Linux's setresuid is per-thread at the syscall level, glibc broadcasts it).
    pub(crate) fn commit_creds(&mut self, pid: Pid, cred: Cred) {
        // cap_ambient_invariant_ok is BUG_ON'd by Linux's commit_creds.
        debug_assert!(cred.ambient_invariant_ok(), "ambient ⊄ permitted ∩ inheritable: {cred:?}");
        if let Some(t) = self.tasks.get_mut(&pid) {
            // A change of euid/egid/fsuid/fsgid or a grown permitted set makes the
            // process non-dumpable (suid_dumpable, default 0).
            let o = &t.cred;
            if o.euid != cred.euid || o.egid != cred.egid || o.fsuid != cred.fsuid || o.fsgid != cred.fsgid || cred.cap_permitted & !o.cap_permitted != 0 {
                let mm = t.mm;
                t.cred = cred;
                if let Some(m) = self.mms.get_mut(&mm) {
                    m.dumpable = 0;
                }
                return;
            }
            t.cred = cred;
        }
    }

    /// `cap_validate_magic`: the number of u32 words per set for the header's version,
    /// or `EINVAL` after writing the preferred version back.
    fn cap_validate_magic(&mut self, pid: Pid, hdr: u64) -> Result<usize, Errno> {
        let version = u32::from_le_bytes(self.read_user_array(pid, hdr)?);
        match version {
            _LINUX_CAPABILITY_VERSION_1 => {
                self.warn_once(0, "uses 32-bit capabilities (legacy support in use)", pid);
                Ok(_LINUX_CAPABILITY_U32S_1)
            }
            _LINUX_CAPABILITY_VERSION_2 => {
                self.warn_once(1, "uses deprecated v2 capabilities in a way that may be insecure", pid);
                Ok(_LINUX_CAPABILITY_U32S_3)
            }
            _LINUX_CAPABILITY_VERSION_3 => Ok(_LINUX_CAPABILITY_U32S_3),
            _ => {
                self.copy_to_user(pid, hdr, &_LINUX_CAPABILITY_VERSION_3.to_le_bytes())?;
                Err(Errno::EINVAL)
            }
        }
    }

    fn warn_once(&mut self, which: u32, msg: &str, pid: Pid) {
        if self.warned & (1 << which) == 0 {
            self.warned |= 1 << which;
            let comm = self.task(pid).map(|t| t.comm.clone()).unwrap_or_default();
            crate::printk!(self, "warning: `{}' {}", comm, msg);
        }
    }

    pub(crate) fn sys_capget(&mut self, pid: Pid, hdr: u64, data: u64) -> SysResult {
        // A NULL data pointer is how libcap asks for the preferred version: whatever the
        // header said, that is a success (the version was written back when unknown).
        let words = match self.cap_validate_magic(pid, hdr) {
            Ok(_) if data == 0 => return Ok(0),
            Ok(w) => w,
            Err(Errno::EINVAL) if data == 0 => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let target = i32::from_le_bytes(self.read_user_array(pid, hdr + 4)?);
        if target < 0 {
            return Err(Errno::EINVAL.into());
        }
        // cap_get_target_pid: any pid but the caller's own tid is looked up as a task
        // (a thread id names that thread; a tgid names the group leader).
        let t = if target != 0 && target != pid { target } else { pid };
        let c = &self.task(t).ok_or(Errno::ESRCH)?.cred;
        let (e, p, i) = (c.cap_effective, c.cap_permitted, c.cap_inheritable);
        let mut out = [0u8; 24];
        for w in 0..words {
            let sh = 32 * w;
            out[12 * w..12 * w + 4].copy_from_slice(&((e >> sh) as u32).to_le_bytes());
            out[12 * w + 4..12 * w + 8].copy_from_slice(&((p >> sh) as u32).to_le_bytes());
            out[12 * w + 8..12 * w + 12].copy_from_slice(&((i >> sh) as u32).to_le_bytes());
        }
        self.copy_to_user(pid, data, &out[..12 * words])?;
        Ok(0)
    }

    pub(crate) fn sys_capset(&mut self, pid: Pid, hdr: u64, data: u64) -> SysResult {
        let words = self.cap_validate_magic(pid, hdr)?;
        let target = i32::from_le_bytes(self.read_user_array(pid, hdr + 4)?);
        if target != 0 && target != pid {
            return Err(Errno::EPERM.into());
        }
        let raw = self.read_user(pid, data, 12 * words)?;
        let word = |w: usize, f: usize| u32::from_le_bytes([raw[12 * w + 4 * f], raw[12 * w + 4 * f + 1], raw[12 * w + 4 * f + 2], raw[12 * w + 4 * f + 3]]) as u64;
        let mut sets = [0u64; 3];
        for (f, set) in sets.iter_mut().enumerate() {
            for w in 0..words {
                *set |= word(w, f) << (32 * w);
            }
            *set &= CAP_FULL_SET;
        }
        let mut new = self.cur(pid)?.cred.clone();
        cap_capset(&mut new, sets[0], sets[2], sets[1])?;
        self.commit_creds(pid, new);
        Ok(0)
    }

    pub(crate) fn sys_uname(&mut self, pid: Pid, buf: u64) -> SysResult {
        let machine = match self.arch {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        };
        let host = self.vfs.sysctl.string("kernel/hostname").unwrap_or("").to_string();
        let domain = self.vfs.sysctl.string("kernel/domainname").unwrap_or("").to_string();
        let mut out = [0u8; UTSNAME_SIZE];
        for (i, v) in ["Linux", &host, UTS_RELEASE, UTS_VERSION, machine, &domain].iter().enumerate() {
            let b = v.as_bytes();
            let n = b.len().min(NEW_UTS_LEN);
            out[i * (NEW_UTS_LEN + 1)..i * (NEW_UTS_LEN + 1) + n].copy_from_slice(&b[..n]);
        }
        self.copy_to_user(pid, buf, &out)?;
        Ok(0)
    }

    /// The value of clock `id` for `pid`, or `EINVAL` for an id Linux rejects. Negative
    /// ids are CPU-time clocks of a process or thread (`posix-cpu-timers.c` encoding).
    fn clock_value(&self, pid: Pid, id: i32) -> Result<u64, Errno> {
        let now = self.hal.now_ns();
        if id < 0 {
            let target = !(id >> 3);
            let which = id & 3;
            let per_thread = id & 4 != 0;
            if which == 3 {
                return Err(Errno::EINVAL);
            }
            let me = self.cur(pid)?;
            let t = if target == 0 { me } else { self.task(target).ok_or(Errno::EINVAL)? };
            if per_thread {
                // posix_cpu_clock_get_task: a thread clock only of the caller's own group.
                if t.tgid != me.tgid {
                    return Err(Errno::EINVAL);
                }
                return Ok(t.cpu_ns);
            }
            // A process clock names a group leader (or the caller itself).
            if target != 0 && !t.is_leader() {
                return Err(Errno::EINVAL);
            }
            let t = if target == 0 { self.task(me.tgid).unwrap_or(me) } else { t };
            return Ok(self.tasks.values().filter(|o| o.tgid == t.tgid).map(|o| o.cpu_ns).sum());
        }
        let t = self.cur(pid)?;
        match id as u32 {
            CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Ok(now.saturating_add(self.hal.realtime_offset_ns())),
            CLOCK_TAI => Ok(now.saturating_add(self.hal.realtime_offset_ns())),
            CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => Ok(now),
            CLOCK_PROCESS_CPUTIME_ID => Ok(self.tasks.values().filter(|o| o.tgid == t.tgid).map(|o| o.cpu_ns).sum()),
            CLOCK_THREAD_CPUTIME_ID => Ok(t.cpu_ns),
            // The alarm clocks need an RTC device with wakeup; k43 has none.
            _ => Err(Errno::EINVAL),
        }
    }

    pub(crate) fn sys_clock_gettime(&mut self, pid: Pid, id: i32, tp: u64) -> SysResult {
        let v = self.clock_value(pid, id)?;
        self.copy_to_user(pid, tp, &Timespec::from_ns(v).to_bytes())?;
        Ok(0)
    }

    /// `nanosleep` on virtual time. The remaining time is written only when a signal
    /// interrupts the sleep, which k43's signal model cannot do yet.
    pub(crate) fn sys_nanosleep(&mut self, pid: Pid, req: u64, _rem: u64) -> SysResult {
        let deadline = match self.restart_state(pid) {
            Some(d) => d,
            None => {
                let ts = Timespec::from_bytes(&self.read_user_array(pid, req)?);
                if !ts.is_valid() {
                    return Err(Errno::EINVAL.into());
                }
                // ktime_t is signed: a sleep past KTIME_MAX never ends (the hrtimer is
                // armed at KTIME_MAX, ~292 years after boot).
                let d = self.hal.now_ns().saturating_add(ts.to_ns()).min(KTIME_MAX);
                self.set_restart_state(pid, d);
                d
            }
        };
        if self.hal.now_ns() >= deadline {
            return Ok(0);
        }
        if deadline == KTIME_MAX {
            return Err(SysErr::Block);
        }
        Err(self.sleep_until(pid, deadline))
    }
}

impl From<Errno> for SysErr {
    fn from(e: Errno) -> SysErr {
        // A user copy parked the task on a userfault: block, re-run after the wakeup.
        if e == Errno::ERESTARTSYS {
            return SysErr::Block;
        }
        SysErr::Errno(e)
    }
}
