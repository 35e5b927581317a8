//! seccomp (`kernel/seccomp.c`): the per-task state and the syscall-entry check.

use super::task::PendingSyscall;
use super::{Kernel, Pid};
use crate::hal::Hal;
use crate::syscalls::dispatch::SysResult;

/// A task's seccomp state: `SECCOMP_MODE_DISABLED` (0) until a filter or strict mode is set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeccompState {
    /// 0 disabled, 1 strict, 2 filter.
    pub mode: u32,
}

impl<H: Hal> Kernel<H> {
    /// `secure_computing`: `None` lets the syscall run; `Some(result)` ends it here
    /// (skipped with a return value, or the task is gone).
    pub(crate) fn secure_computing(&mut self, pid: Pid, call: &PendingSyscall) -> Option<SysResult> {
        let t = self.task(pid)?;
        if t.seccomp.mode == 0 {
            return None;
        }
        let _ = call;
        None
    }
}
