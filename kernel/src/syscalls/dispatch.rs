//! The dispatcher: a table entry to its handler, with arguments narrowed the way the
//! `SYSCALL_DEFINEn` wrappers narrow them (an `int` argument takes the low 32 bits).

use super::Sysno;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::uapi::Errno;

/// Why a handler did not produce a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysErr {
    /// Failed with an errno.
    Errno(Errno),
    /// Parked on a wait queue or a timer; re-run from the top after the wakeup.
    Block,
    /// The calling task exited inside the syscall; nothing returns.
    Gone,
}

/// A handler's result.
pub type SysResult = Result<i64, SysErr>;

fn int(a: u64) -> i32 {
    a as u32 as i32
}

fn uint(a: u64) -> u32 {
    a as u32
}

/// Runs syscall `sysno` for `pid` with raw arguments `a`.
pub fn dispatch<H: Hal>(k: &mut Kernel<H>, pid: Pid, sysno: Sysno, a: [u64; 6]) -> SysResult {
    use Sysno::*;
    match sysno {
        Read => k.sys_read(pid, int(a[0]), a[1], a[2] as usize),
        Write => k.sys_write(pid, int(a[0]), a[1], a[2] as usize),
        Openat => k.sys_openat(pid, int(a[0]), a[1], uint(a[2]), uint(a[3])),
        Close => k.sys_close(pid, int(a[0])),
        Ioctl => k.sys_ioctl(pid, int(a[0]), a[1] as u32, a[2]),
        Userfaultfd => k.sys_userfaultfd(pid, a[0] as u32),
        Getrandom => k.sys_getrandom(pid, a[0], a[1] as usize, a[2] as u32),
        Poll => k.sys_poll(pid, a[0], uint(a[1]) as u64, int(a[2])),
        Ppoll => k.sys_ppoll(pid, a[0], uint(a[1]) as u64, a[2], a[3], a[4]),
        Fstat => k.sys_fstat(pid, int(a[0]), a[1]),
        Newfstatat => k.sys_newfstatat(pid, int(a[0]), a[1], a[2], uint(a[3])),
        Lseek => k.sys_lseek(pid, int(a[0]), a[1] as i64, uint(a[2])),
        Pipe2 => k.sys_pipe2(pid, a[0], uint(a[1])),
        Dup => k.sys_dup(pid, int(a[0])),
        Dup3 => k.sys_dup3(pid, int(a[0]), int(a[1]), uint(a[2])),
        Mkdirat => k.sys_mkdirat(pid, int(a[0]), a[1], uint(a[2])),
        Unlinkat => k.sys_unlinkat(pid, int(a[0]), a[1], uint(a[2])),
        Fchmodat => k.sys_fchmodat(pid, int(a[0]), a[1], uint(a[2])),
        Fchownat => k.sys_fchownat(pid, int(a[0]), a[1], uint(a[2]), uint(a[3]), uint(a[4])),
        Setxattr => k.sys_setxattr(pid, a[0], a[1], a[2], a[3] as usize, uint(a[4])),
        Getxattr => k.sys_getxattr(pid, a[0], a[1], a[2], a[3] as usize),
        Listxattr => k.sys_listxattr(pid, a[0], a[1], a[2] as usize),
        Removexattr => k.sys_removexattr(pid, a[0], a[1]),
        Getpid => k.sys_getpid(pid),
        Getppid => k.sys_getppid(pid),
        Kill => k.sys_kill(pid, int(a[0]), int(a[1])),
        Gettid => k.sys_gettid(pid),
        Getuid => k.sys_getid(pid, 0),
        Geteuid => k.sys_getid(pid, 1),
        Getgid => k.sys_getid(pid, 2),
        Getegid => k.sys_getid(pid, 3),
        Setresuid => k.sys_setres(pid, [uint(a[0]), uint(a[1]), uint(a[2])], false),
        Setresgid => k.sys_setres(pid, [uint(a[0]), uint(a[1]), uint(a[2])], true),
        Capget => k.sys_capget(pid, a[0], a[1]),
        Capset => k.sys_capset(pid, a[0], a[1]),
        Uname => k.sys_uname(pid, a[0]),
        ClockGettime => k.sys_clock_gettime(pid, int(a[0]), a[1]),
        Nanosleep => k.sys_nanosleep(pid, a[0], a[1]),
        SchedYield => Ok(0),
        Exit => k.sys_exit(pid, int(a[0])),
        ExitGroup => k.sys_exit_group(pid, int(a[0])),
        Clone => k.sys_clone(pid, a[0], a[1], a[2], a[3], a[4]),
        Fork => k.sys_fork(pid),
        Wait4 => k.sys_wait4(pid, int(a[0]), a[1], uint(a[2]), a[3]),
        Execve => k.sys_execve(pid, a[0], a[1], a[2]),
        Ptrace => k.sys_ptrace(pid, a[0], int(a[1]), a[2], a[3]),
        Prctl => k.sys_prctl(pid, int(a[0]), a[1], a[2], a[3], a[4]),
        Unshare => k.sys_unshare(pid, a[0]),
        Mmap => k.sys_mmap(pid, a[0], a[1], a[2], a[3], int(a[4]), a[5]),
        Munmap => k.sys_munmap(pid, a[0], a[1]),
        Mprotect => k.sys_mprotect(pid, a[0], a[1], a[2]),
        Madvise => k.sys_madvise(pid, a[0], a[1], int(a[2])),
        Brk => k.sys_brk(pid, a[0]),
        Seccomp => k.sys_seccomp(pid, uint(a[0]), uint(a[1]), a[2]),
        Socket => k.sys_socket(pid, int(a[0]), int(a[1]), int(a[2])),
        Bind => k.sys_bind(pid, int(a[0]), a[1], uint(a[2])),
        Connect => k.sys_connect(pid, int(a[0]), a[1], uint(a[2])),
        Getsockname => k.sys_getname(pid, int(a[0]), a[1], a[2], false),
        Getpeername => k.sys_getname(pid, int(a[0]), a[1], a[2], true),
        Sendto => k.sys_sendto(pid, int(a[0]), a[1], a[2] as usize, uint(a[3]), a[4], uint(a[5])),
        Recvfrom => k.sys_recvfrom(pid, int(a[0]), a[1], a[2] as usize, uint(a[3]), a[4], a[5]),
        Setsockopt => k.sys_setsockopt(pid, int(a[0]), int(a[1]), int(a[2]), a[3], uint(a[4])),
        Getsockopt => k.sys_getsockopt(pid, int(a[0]), int(a[1]), int(a[2]), a[3], a[4]),
        Sendmsg => k.sys_sendmsg(pid, int(a[0]), a[1], uint(a[2])),
        Recvmsg => k.sys_recvmsg(pid, int(a[0]), a[1], uint(a[2])),
        Getdents64 => k.sys_getdents64(pid, int(a[0]), a[1], uint(a[2])),
        Rename => k.sys_rename(pid, a[0], a[1]),
        Renameat => k.sys_renameat2(pid, int(a[0]), a[1], int(a[2]), a[3], 0),
        Renameat2 => k.sys_renameat2(pid, int(a[0]), a[1], int(a[2]), a[3], uint(a[4])),
        Link => k.sys_link(pid, a[0], a[1]),
        Linkat => k.sys_linkat(pid, int(a[0]), a[1], int(a[2]), a[3], uint(a[4])),
        Symlink => k.sys_symlink(pid, a[0], a[1]),
        Symlinkat => k.sys_symlinkat(pid, a[0], int(a[1]), a[2]),
        Readlink => k.sys_readlink(pid, a[0], a[1], int(a[2])),
        Readlinkat => k.sys_readlinkat(pid, int(a[0]), a[1], a[2], int(a[3])),
        Truncate => k.sys_truncate(pid, a[0], a[1] as i64),
        Ftruncate => k.sys_ftruncate(pid, int(a[0]), a[1] as i64),
        Fsync => k.sys_fsync(pid, int(a[0]), false),
        Fdatasync => k.sys_fsync(pid, int(a[0]), true),
        Sync => k.sys_sync(pid),
        Syncfs => k.sys_syncfs(pid, int(a[0])),
        Statfs => k.sys_statfs(pid, a[0], a[1]),
        Fstatfs => k.sys_fstatfs(pid, int(a[0]), a[1]),
        Mount => k.sys_mount(pid, a[0], a[1], a[2], a[3], a[4]),
        Umount2 => k.sys_umount2(pid, a[0], int(a[1]) as u32),
    }
}
