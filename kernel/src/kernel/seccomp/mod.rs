//! seccomp (`kernel/seccomp.c`, 4.3): strict mode, filter mode with stacked classic-BPF
//! filters, `seccomp(2)` and `prctl(PR_SET_SECCOMP/PR_GET_SECCOMP)`, thread sync, and
//! the syscall-entry check (`secure_computing`, phase 1).
//!
//! k43 has no user instruction pointers, so `seccomp_data.instruction_pointer` is 0.
//! `SECCOMP_RET_TRACE` stops the task for a tracer with `PTRACE_O_TRACESECCOMP`
//! (`PTRACE_EVENT_SECCOMP`, see `kernel/ptrace.rs`); otherwise it takes 4.3's no-tracer path
//! (`-ENOSYS`), and no signal handlers, so the forced `SIGSYS` of `SECCOMP_RET_TRAP`
//! always kills (its `si_*` fields are therefore never observable).

pub mod bpf;

use super::task::PendingSyscall;
use super::{Kernel, Pid};
use crate::hal::Hal;
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::syscalls::Arch;
use crate::uapi::capability::CAP_SYS_ADMIN;
use crate::uapi::signal::{SIGKILL, SIGSYS};
use crate::uapi::wait::signaled;
use crate::uapi::Errno;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bpf::{SeccompData, SockFilter};

/// `SECCOMP_MODE_DISABLED`.
pub const SECCOMP_MODE_DISABLED: u32 = 0;
/// `SECCOMP_MODE_STRICT`.
pub const SECCOMP_MODE_STRICT: u32 = 1;
/// `SECCOMP_MODE_FILTER`.
pub const SECCOMP_MODE_FILTER: u32 = 2;
/// `seccomp(2)` operation `SECCOMP_SET_MODE_STRICT`.
pub const SECCOMP_SET_MODE_STRICT: u32 = 0;
/// `seccomp(2)` operation `SECCOMP_SET_MODE_FILTER`.
pub const SECCOMP_SET_MODE_FILTER: u32 = 1;
/// `SECCOMP_FILTER_FLAG_TSYNC`, the only filter flag of 4.3.
pub const SECCOMP_FILTER_FLAG_TSYNC: u32 = 1;
/// Return actions, lowest (least permissive) first.
pub const SECCOMP_RET_KILL: u32 = 0x0000_0000;
#[allow(missing_docs)]
pub const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
#[allow(missing_docs)]
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
#[allow(missing_docs)]
pub const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
#[allow(missing_docs)]
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// Action mask: bit 31 is ignored in 4.3.
pub const SECCOMP_RET_ACTION: u32 = 0x7fff_0000;
/// Data mask.
pub const SECCOMP_RET_DATA: u32 = 0x0000_ffff;
/// `MAX_INSNS_PER_PATH`: 256 KiB of internal-BPF instructions per thread.
pub const MAX_INSNS_PER_PATH: u32 = (1 << 18) / 8;
/// `AUDIT_ARCH_X86_64`.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_AARCH64`.
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
/// `AUDIT_ARCH_I386`.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `MAX_ERRNO`.
const MAX_ERRNO: u32 = 4095;

/// One attached filter; `prev` is the filter that was on top before it (shared by
/// forked children and synced threads, like Linux's refcounted `seccomp_filter`).
pub struct FilterNode {
    /// The checked classic program.
    pub prog: Vec<SockFilter>,
    /// Its translated length (what the per-thread limit counts).
    pub clen: u32,
    /// The older filter.
    pub prev: Option<Arc<FilterNode>>,
}

impl core::fmt::Debug for FilterNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Not the chain: it can be thousands deep.
        write!(f, "FilterNode {{ len: {}, clen: {} }}", self.prog.len(), self.clen)
    }
}

impl Drop for FilterNode {
    fn drop(&mut self) {
        // Unlink iteratively: a recursive drop of a 4000-deep chain would eat the stack.
        let mut next = self.prev.take();
        while let Some(n) = next {
            match Arc::try_unwrap(n) {
                Ok(mut node) => next = node.prev.take(),
                Err(_) => break,
            }
        }
    }
}

/// A task's seccomp state: `SECCOMP_MODE_DISABLED` (0) until a filter or strict mode is
/// set; copied on fork and clone, kept across exec.
#[derive(Clone, Debug, Default)]
pub struct SeccompState {
    /// 0 disabled, 1 strict, 2 filter.
    pub mode: u32,
    /// The newest filter (filter mode only).
    pub filter: Option<Arc<FilterNode>>,
}

impl PartialEq for SeccompState {
    fn eq(&self, o: &Self) -> bool {
        self.mode == o.mode
            && match (&self.filter, &o.filter) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

impl Eq for SeccompState {}

/// `is_ancestor(parent, child)`: `parent` is `child` or one of its older filters.
fn is_ancestor(parent: &Option<Arc<FilterNode>>, child: &Option<Arc<FilterNode>>) -> bool {
    let Some(p) = parent else { return true };
    let mut c = child.as_ref();
    while let Some(n) = c {
        if Arc::ptr_eq(n, p) {
            return true;
        }
        c = n.prev.as_ref();
    }
    false
}

/// `seccomp_run_filters`: every filter runs, newest first; the lowest action wins and a
/// tie keeps the newer filter's value (so its data).
pub fn run_filters(top: &Arc<FilterNode>, sd: &SeccompData) -> u32 {
    let mut ret = SECCOMP_RET_ALLOW;
    let mut f = Some(top);
    while let Some(node) = f {
        let (cur, _) = bpf::run(&node.prog, sd);
        if cur & SECCOMP_RET_ACTION < ret & SECCOMP_RET_ACTION {
            ret = cur;
        }
        f = node.prev.as_ref();
    }
    ret
}

/// `AUDIT_ARCH_*` of an ABI (`syscall_get_arch`).
pub fn audit_arch(arch: Arch) -> u32 {
    match arch {
        Arch::X86_64 => AUDIT_ARCH_X86_64,
        Arch::Aarch64 => AUDIT_ARCH_AARCH64,
    }
}

/// The strict-mode whitelist (`mode1_syscalls`): read, write, exit, rt_sigreturn.
pub fn strict_allowed(arch: Arch, nr: i32) -> bool {
    match arch {
        Arch::X86_64 => matches!(nr, 0 | 1 | 60 | 15),
        Arch::Aarch64 => matches!(nr, 63 | 64 | 93 | 139),
    }
}

impl<H: Hal> Kernel<H> {
    /// `secure_computing`: `None` lets the syscall run; `Some(result)` ends it here
    /// (skipped with a return value, or the task is gone).
    pub(crate) fn secure_computing(&mut self, pid: Pid, call: &PendingSyscall) -> Option<SysResult> {
        let t = self.task(pid)?;
        // The number register as an int (`syscall_get_nr`).
        let nr = call.nr as u32 as i32;
        // PT_SUSPEND_SECCOMP: a checkpointing tracer suspended seccomp for this task.
        if t.ptrace.tracer != 0 && t.ptrace.options & crate::uapi::ptrace::PTRACE_O_SUSPEND_SECCOMP != 0 {
            return None;
        }
        match t.seccomp.mode {
            SECCOMP_MODE_DISABLED => None,
            SECCOMP_MODE_STRICT => {
                if strict_allowed(self.arch, nr) {
                    return None;
                }
                // `do_exit(SIGKILL)`: this thread only.
                self.do_exit(pid, signaled(SIGKILL, false));
                Some(Err(SysErr::Gone))
            }
            _ => {
                let Some(top) = t.seccomp.filter.clone() else {
                    // WARN_ON(f == NULL) in 4.3: fail closed.
                    self.do_exit(pid, signaled(SIGSYS, false));
                    return Some(Err(SysErr::Gone));
                };
                let sd = SeccompData { nr, arch: audit_arch(self.arch), instruction_pointer: 0, args: call.regs };
                let ret = run_filters(&top, &sd);
                let data = ret & SECCOMP_RET_DATA;
                match ret & SECCOMP_RET_ACTION {
                    SECCOMP_RET_ERRNO => Some(Ok(-i64::from(data.min(MAX_ERRNO)))),
                    SECCOMP_RET_TRAP => {
                        // A forced SIGSYS: with no handler its default action ends the
                        // whole process (no core dump: RLIMIT_CORE is 0).
                        self.force_sig_kill(pid, SIGSYS);
                        Some(Err(SysErr::Gone))
                    }
                    SECCOMP_RET_TRACE => {
                        use crate::uapi::ptrace::{PTRACE_EVENT_SECCOMP, PTRACE_O_TRACESECCOMP};
                        let traced = t.ptrace.tracer != 0 && t.ptrace.options & PTRACE_O_TRACESECCOMP != 0;
                        if !traced {
                            // No tracer with PTRACE_O_TRACESECCOMP: skipped with -ENOSYS.
                            return Some(Err(Errno::ENOSYS.into()));
                        }
                        // ptrace_event(PTRACE_EVENT_SECCOMP, data); after the tracer resumes,
                        // the call runs (as the tracer may have rewritten it) without the
                        // filters running again (4.3), or is skipped if orig_rax is -1.
                        if let Some(t) = self.tasks.get_mut(&pid) {
                            t.ptrace.message = u64::from(data);
                            if let Some(p) = t.syscall.as_mut() {
                                p.seccomp_passed = true;
                            }
                        }
                        self.ptrace_stop(pid, crate::kernel::ptrace::event_status(PTRACE_EVENT_SECCOMP), crate::kernel::ptrace::Inject::Ignore);
                        Some(Err(SysErr::Block))
                    }
                    SECCOMP_RET_ALLOW => None,
                    _ => {
                        // SECCOMP_RET_KILL and undefined actions: `do_exit(SIGSYS)`,
                        // this thread only.
                        self.do_exit(pid, signaled(SIGSYS, false));
                        Some(Err(SysErr::Gone))
                    }
                }
            }
        }
    }

    /// `seccomp(2)` (`do_seccomp`).
    pub(crate) fn sys_seccomp(&mut self, pid: Pid, op: u32, flags: u32, uargs: u64) -> SysResult {
        match op {
            SECCOMP_SET_MODE_STRICT => {
                if flags != 0 || uargs != 0 {
                    return Err(Errno::EINVAL.into());
                }
                self.seccomp_set_mode_strict(pid)
            }
            SECCOMP_SET_MODE_FILTER => self.seccomp_set_mode_filter(pid, flags, uargs),
            _ => Err(Errno::EINVAL.into()),
        }
    }

    /// `prctl(PR_SET_SECCOMP, mode, filter)`: mode 1 is strict (the filter argument is
    /// ignored), mode 2 a filter without flags.
    pub fn prctl_set_seccomp(&mut self, pid: Pid, arg2: u64, arg3: u64) -> SysResult {
        match arg2 {
            x if x == u64::from(SECCOMP_MODE_STRICT) => self.sys_seccomp(pid, SECCOMP_SET_MODE_STRICT, 0, 0),
            x if x == u64::from(SECCOMP_MODE_FILTER) => self.sys_seccomp(pid, SECCOMP_SET_MODE_FILTER, 0, arg3),
            _ => Err(Errno::EINVAL.into()),
        }
    }

    /// `prctl(PR_GET_SECCOMP)`: the mode (strict mode never gets here: prctl kills it).
    pub fn prctl_get_seccomp(&mut self, pid: Pid) -> SysResult {
        Ok(i64::from(self.task(pid).ok_or(Errno::ESRCH)?.seccomp.mode))
    }

    fn seccomp_set_mode_strict(&mut self, pid: Pid) -> SysResult {
        let t = self.tasks.get_mut(&pid).ok_or(Errno::ESRCH)?;
        if t.seccomp.mode != SECCOMP_MODE_DISABLED && t.seccomp.mode != SECCOMP_MODE_STRICT {
            return Err(Errno::EINVAL.into());
        }
        t.seccomp.mode = SECCOMP_MODE_STRICT;
        Ok(0)
    }

    /// `seccomp_prepare_user_filter` + `seccomp_prepare_filter` +
    /// `bpf_prog_create_from_user`, in 4.3's order.
    fn seccomp_prepare_user_filter(&mut self, pid: Pid, uargs: u64) -> Result<Vec<SockFilter>, Errno> {
        let mut fprog = [0u8; 16];
        self.copy_from_user(pid, uargs, &mut fprog).map_err(|_| Errno::EFAULT)?;
        let len = u16::from_le_bytes([fprog[0], fprog[1]]) as usize;
        let mut p = [0u8; 8];
        p.copy_from_slice(&fprog[8..16]);
        let filter = u64::from_le_bytes(p);
        if len == 0 || len > bpf::BPF_MAXINSNS {
            return Err(Errno::EINVAL);
        }
        let t = self.task(pid).ok_or(Errno::ESRCH)?;
        // CAP_SYS_ADMIN in the caller's own user namespace: its effective set.
        if !t.no_new_privs && !t.cred.has_cap(CAP_SYS_ADMIN) {
            return Err(Errno::EACCES);
        }
        if filter == 0 {
            return Err(Errno::EINVAL);
        }
        let mut insns = alloc::vec![0u8; len * SockFilter::SIZE];
        self.copy_from_user(pid, filter, &mut insns).map_err(|_| Errno::EFAULT)?;
        let prog = bpf::decode_prog(&insns);
        bpf::check(&prog)?;
        Ok(prog)
    }

    fn seccomp_set_mode_filter(&mut self, pid: Pid, flags: u32, uargs: u64) -> SysResult {
        if flags & !SECCOMP_FILTER_FLAG_TSYNC != 0 {
            return Err(Errno::EINVAL.into());
        }
        let prog = self.seccomp_prepare_user_filter(pid, uargs)?;
        let t = self.task(pid).ok_or(Errno::ESRCH)?;
        if t.seccomp.mode != SECCOMP_MODE_DISABLED && t.seccomp.mode != SECCOMP_MODE_FILTER {
            return Err(Errno::EINVAL.into());
        }
        // seccomp_attach_filter: the per-thread length limit, then TSYNC's check.
        let clen = bpf::translated_len(&prog);
        let mut total = u64::from(clen);
        let mut w = t.seccomp.filter.as_ref();
        while let Some(n) = w {
            total += u64::from(n.clen) + 4;
            w = n.prev.as_ref();
        }
        if total > u64::from(MAX_INSNS_PER_PATH) {
            return Err(Errno::ENOMEM.into());
        }
        let tsync = flags & SECCOMP_FILTER_FLAG_TSYNC != 0;
        let (tgid, nnp, old) = (t.tgid, t.no_new_privs, t.seccomp.filter.clone());
        let others: Vec<Pid> = self.tasks.values().filter(|o| o.tgid == tgid && o.pid != pid).map(|o| o.pid).collect();
        if tsync {
            // seccomp_can_sync_threads: the first thread (in thread-list order) that is
            // neither unconfined nor on an ancestor of our chain; its tid is returned.
            for &o in &others {
                let Some(ot) = self.task(o) else { continue };
                let ok = ot.seccomp.mode == SECCOMP_MODE_DISABLED || (ot.seccomp.mode == SECCOMP_MODE_FILTER && is_ancestor(&ot.seccomp.filter, &old));
                if !ok {
                    return Ok(i64::from(o));
                }
            }
        }
        let node = Arc::new(FilterNode { prog, clen, prev: old });
        if let Some(t) = self.tasks.get_mut(&pid) {
            t.seccomp.filter = Some(node.clone());
            t.seccomp.mode = SECCOMP_MODE_FILTER;
        }
        if tsync {
            for o in others {
                let Some(ot) = self.tasks.get_mut(&o) else { continue };
                ot.seccomp.filter = Some(node.clone());
                if ot.seccomp.mode == SECCOMP_MODE_DISABLED {
                    if nnp {
                        ot.no_new_privs = true;
                    }
                    ot.seccomp.mode = SECCOMP_MODE_FILTER;
                }
            }
        }
        Ok(0)
    }

    /// The seccomp mode of a task, for `/proc/<pid>/status`.
    pub fn seccomp_mode(&self, pid: Pid) -> u32 {
        self.task(pid).map(|t| t.seccomp.mode).unwrap_or(0)
    }
}
