//! `struct task_struct`, reduced to what k43 models: identity, state, credentials and the
//! shared resources (files, fs, mm) a task points at.

use crate::security::cred::Cred;
use crate::syscalls::Sysno;
use alloc::string::String;

/// A process or thread id.
pub type Pid = i32;

/// Ids of kernel objects tasks share (`files_struct`, `fs_struct`, `mm_struct`).
pub type ObjId = u64;

/// Scheduler state, as `/proc/<pid>/status` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// In user mode, or with a syscall queued to run (`R (running)`).
    Running,
    /// Parked on a wait queue inside a syscall (`S (sleeping)`).
    Sleeping,
    /// Stopped by a signal or a tracer (`T (stopped)`).
    Stopped,
    /// In a ptrace stop, inside a syscall (`t (tracing stop)`).
    Traced,
    /// Exited, waiting for its parent (`Z (zombie)`).
    Zombie,
}

impl TaskState {
    /// The `State:` text of `/proc/<pid>/status`.
    pub fn proc_text(self) -> &'static str {
        match self {
            TaskState::Running => "R (running)",
            TaskState::Sleeping => "S (sleeping)",
            TaskState::Stopped => "T (stopped)",
            TaskState::Traced => "t (tracing stop)",
            TaskState::Zombie => "Z (zombie)",
        }
    }
}

/// A syscall a task has entered and not yet returned from.
#[derive(Clone, Debug)]
pub struct PendingSyscall {
    /// Which syscall (`None`: a number the table does not know, answered `-ENOSYS` after
    /// seccomp has seen it).
    pub sysno: Option<Sysno>,
    /// The number the task entered with, in its ABI.
    pub nr: u64,
    /// The argument registers as the ABI passes them (what seccomp filters see).
    pub regs: [u64; 6],
    /// Arguments in the table's order.
    pub args: [u64; 6],
    /// seccomp has already let this call through (a re-run after a wakeup skips it).
    pub seccomp_passed: bool,
    /// Progress kept across a block and the re-run after the wakeup (a `nanosleep`
    /// deadline, bytes a pipe write already moved).
    pub restart: Option<u64>,
    /// The syscall-entry stop (or the `SECCOMP_RET_TRACE` stop) was taken; the re-run
    /// after the tracer resumed goes on to run the call.
    pub entry_stopped: bool,
    /// The call finished with this value and the task sits in (or left) its
    /// syscall-exit stop; the re-run returns it.
    pub exit_ret: Option<i64>,
    /// The tracer set `orig_rax` to -1 at the entry stop: the call is skipped and
    /// returns this (`rax`).
    pub skip_ret: Option<i64>,
    /// Not a syscall: a user-mode access (`addr`, `len`, write) that faulted and entered
    /// the kernel through the page-fault path (see [`crate::mm::touch`]).
    pub touch: Option<(u64, u64, bool)>,
}

/// One task (a thread; a process is a thread group).
#[derive(Clone, Debug)]
pub struct Task {
    /// Thread id.
    pub pid: Pid,
    /// Thread-group id (the process id).
    pub tgid: Pid,
    /// Process id of the parent process.
    pub parent: Pid,
    /// Process group id.
    pub pgid: Pid,
    /// `comm`: the executable's base name, at most 15 bytes.
    pub comm: String,
    /// Scheduler state.
    pub state: TaskState,
    /// Credentials.
    pub cred: Cred,
    /// The file-descriptor table.
    pub files: ObjId,
    /// cwd and umask.
    pub fs: ObjId,
    /// The address space.
    pub mm: ObjId,
    /// Signal sent to the parent on exit (`SIGCHLD` for `fork`).
    pub exit_signal: i32,
    /// The `wait4` status word once the task has exited.
    pub exit_code: i32,
    /// Set once `exit_group` (or a fatal signal) started tearing the group down.
    pub group_exiting: bool,
    /// The syscall in progress, if any.
    pub syscall: Option<PendingSyscall>,
    /// Virtual nanoseconds spent in syscalls (the CPU-time clocks).
    pub cpu_ns: u64,
    /// Voluntary context switches (blocks).
    pub nvcsw: u64,
    /// Involuntary context switches.
    pub nivcsw: u64,
    /// `CLONE_VFORK` child: the parent sleeps on this queue until the child execs or exits.
    pub vfork_done: Option<u64>,
    /// A signal raised against the task's own group during the current syscall
    /// (`SIGPIPE`, `kill(getpid(), …)`), acted on on the way back to user mode; 0 for none.
    pub pending_signal: i32,
    /// Queued signals and job-control stop state.
    pub signal: crate::kernel::signal::SignalState,
    /// `PR_SET_NO_NEW_PRIVS`: set-only, inherited by fork and kept across exec.
    pub no_new_privs: bool,
    /// seccomp mode and filters: copied on fork, kept on exec.
    pub seccomp: crate::kernel::seccomp::SeccompState,
    /// `CLONE_CHILD_CLEARTID` address, zeroed at exit.
    pub clear_child_tid: u64,
    /// ptrace link and stop state (`task->ptrace`, `task->parent` when traced).
    pub ptrace: crate::kernel::ptrace::PtraceLink,
}

impl Task {
    /// Whether this task leads its thread group.
    pub fn is_leader(&self) -> bool {
        self.pid == self.tgid
    }
}
