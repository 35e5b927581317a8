//! `poll(2)` and `ppoll(2)` (`fs/select.c` `do_sys_poll`/`do_poll`, 4.3).
//!
//! Each file answers a mask (`f_op->poll`): pipes as `pipe_poll`, userfaultfd as
//! `userfaultfd_poll`, everything else `DEFAULT_POLLMASK`. When nothing is ready and the
//! timeout allows, the task parks on the wait queue of every polled file (and a timer for
//! a finite timeout) and the syscall re-runs from the top after any wakeup, with the
//! deadline it computed the first time.
//!
//! Not modelled: `ppoll`'s signal mask (the argument is read for `EFAULT`/`EINVAL` only;
//! k43 does not block signals), the timeout slack of `poll_schedule_timeout`, and
//! `EINTR`/`ERESTART_RESTARTBLOCK`: as every k43 sleep, a signal re-runs the call.

use super::Node;
use crate::hal::Hal;
use crate::kernel::sched::WqId;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::uapi::fcntl::{INR_OPEN_CUR, O_NONBLOCK};
use crate::uapi::time::Timespec;
use crate::uapi::Errno;
use alloc::vec::Vec;

pub const POLLIN: u16 = 0x0001;
pub const POLLPRI: u16 = 0x0002;
pub const POLLOUT: u16 = 0x0004;
pub const POLLERR: u16 = 0x0008;
pub const POLLHUP: u16 = 0x0010;
pub const POLLNVAL: u16 = 0x0020;
pub const POLLRDNORM: u16 = 0x0040;
pub const POLLRDBAND: u16 = 0x0080;
pub const POLLWRNORM: u16 = 0x0100;
pub const POLLWRBAND: u16 = 0x0200;
pub const POLLMSG: u16 = 0x0400;
pub const POLLREMOVE: u16 = 0x1000;
pub const POLLRDHUP: u16 = 0x2000;

/// The names strace prints, in its order.
pub static POLL_NAMES: &[(&str, u64)] = &[
    ("POLLIN", POLLIN as u64),
    ("POLLPRI", POLLPRI as u64),
    ("POLLOUT", POLLOUT as u64),
    ("POLLERR", POLLERR as u64),
    ("POLLHUP", POLLHUP as u64),
    ("POLLNVAL", POLLNVAL as u64),
    ("POLLRDNORM", POLLRDNORM as u64),
    ("POLLRDBAND", POLLRDBAND as u64),
    ("POLLWRNORM", POLLWRNORM as u64),
    ("POLLWRBAND", POLLWRBAND as u64),
    ("POLLMSG", POLLMSG as u64),
    ("POLLREMOVE", POLLREMOVE as u64),
    ("POLLRDHUP", POLLRDHUP as u64),
];

/// `DEFAULT_POLLMASK`: files without a poll method are always ready.
pub const DEFAULT_POLLMASK: u16 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/// `sizeof(struct pollfd)`: `int fd; short events; short revents;`.
pub const POLLFD_SIZE: usize = 8;

/// A `ppoll` timeout that never ends.
const NO_DEADLINE: u64 = u64::MAX;

impl<H: Hal> Kernel<H> {
    /// `f_op->poll` of file `fid`: the ready mask and the wait queue a poller sleeps on
    /// (`None` for files that are always ready).
    pub(crate) fn file_poll(&self, fid: u64) -> (u16, Option<WqId>) {
        let Some(f) = self.files.get(&fid) else { return (POLLNVAL, None) };
        match f.node {
            Node::Pipe(p) => {
                let Some(pipe) = self.pipes.get(&p) else { return (POLLERR, None) };
                // pipe_poll
                let mut mask = 0;
                if f.readable() {
                    if !pipe.bufs.is_empty() {
                        mask |= POLLIN | POLLRDNORM;
                    }
                    if pipe.writers == 0 {
                        mask |= POLLHUP;
                    }
                }
                if f.writable() {
                    if pipe.bufs.len() < super::pipe::PIPE_BUFFERS {
                        mask |= POLLOUT | POLLWRNORM;
                    }
                    if pipe.readers == 0 {
                        mask |= POLLERR;
                    }
                }
                (mask, Some(pipe.wait))
            }
            Node::Userfaultfd(c) => self.uffd_poll(c, f.flags & O_NONBLOCK != 0),
            Node::Socket(s) => self.sock_poll(s),
            Node::Ram(_) | Node::Proc(_) | Node::Ext4(..) => (DEFAULT_POLLMASK, None),
        }
    }

    /// `poll(fds, nfds, timeout_msecs)`.
    pub(crate) fn sys_poll(&mut self, pid: Pid, ufds: u64, nfds: u64, timeout_ms: i32) -> SysResult {
        let deadline = match self.restart_state(pid) {
            Some(d) => d,
            None => {
                // poll_select_set_timeout: a negative timeout is infinite.
                let d = if timeout_ms < 0 { NO_DEADLINE } else { self.hal.now_ns().saturating_add(timeout_ms as u64 * 1_000_000) };
                self.set_restart_state(pid, d);
                d
            }
        };
        self.do_sys_poll(pid, ufds, nfds, deadline)
    }

    /// `ppoll(fds, nfds, tsp, sigmask, sigsetsize)`.
    pub(crate) fn sys_ppoll(&mut self, pid: Pid, ufds: u64, nfds: u64, tsp: u64, sigmask: u64, sigsetsize: u64) -> SysResult {
        let deadline = match self.restart_state(pid) {
            Some(d) => d,
            None => {
                let d = if tsp == 0 {
                    NO_DEADLINE
                } else {
                    let ts = Timespec::from_bytes(&self.read_user_array(pid, tsp)?);
                    if !ts.is_valid() {
                        return Err(Errno::EINVAL.into());
                    }
                    self.hal.now_ns().saturating_add(ts.to_ns()).min(NO_DEADLINE - 1)
                };
                if sigmask != 0 {
                    if sigsetsize != 8 {
                        return Err(Errno::EINVAL.into());
                    }
                    let _ = self.read_user_array::<8>(pid, sigmask)?;
                }
                self.set_restart_state(pid, d);
                d
            }
        };
        self.do_sys_poll(pid, ufds, nfds, deadline)
    }

    /// `do_sys_poll` with an absolute deadline (`NO_DEADLINE`: none).
    fn do_sys_poll(&mut self, pid: Pid, ufds: u64, nfds: u64, deadline: u64) -> SysResult {
        if nfds > INR_OPEN_CUR as u64 {
            return Err(Errno::EINVAL.into());
        }
        let n = nfds as usize;
        let mut b = alloc::vec![0u8; n * POLLFD_SIZE];
        self.copy_from_user(pid, ufds, &mut b)?;
        let mut count = 0i64;
        let mut queues: Vec<WqId> = Vec::new();
        for e in b.chunks_mut(POLLFD_SIZE) {
            let fd = i32::from_le_bytes([e[0], e[1], e[2], e[3]]);
            let events = u16::from_le_bytes([e[4], e[5]]);
            // do_pollfd
            let revents = if fd < 0 {
                0
            } else {
                match self.fget(pid, fd) {
                    Err(_) => POLLNVAL,
                    Ok(fid) => {
                        let (mask, wq) = self.file_poll(fid);
                        if let Some(wq) = wq {
                            if !queues.contains(&wq) {
                                queues.push(wq);
                            }
                        }
                        mask & (events | POLLERR | POLLHUP)
                    }
                }
            };
            e[6..8].copy_from_slice(&revents.to_le_bytes());
            if revents != 0 {
                count += 1;
            }
        }
        let now = self.hal.now_ns();
        if count == 0 && now < deadline {
            for wq in queues {
                let _ = self.wait_on(pid, wq);
            }
            if deadline != NO_DEADLINE {
                return Err(self.sleep_until(pid, deadline));
            }
            return Err(SysErr::Block);
        }
        // poll_copy_to_user: revents of every entry (fd and events unchanged).
        for (i, e) in b.chunks(POLLFD_SIZE).enumerate() {
            self.copy_to_user(pid, ufds + (i * POLLFD_SIZE) as u64 + 6, &e[6..8])?;
        }
        Ok(count)
    }
}
