//! Pipes (`fs/pipe.c` as of 4.3): a ring of 16 page buffers (`PIPE_DEF_BUFFERS`).
//!
//! Capacity is counted in buffers, not bytes, exactly as Linux counts it: a write first
//! merges its sub-page remainder (`len % PAGE_SIZE`) into the last buffer when that fits,
//! then fills fresh buffers a page at a time, so writes of at most a page are atomic. A
//! reader that has data returns at once unless a writer is waiting for room. `O_DIRECT`
//! buffers are packets: never merged, read one per `read`, the unread rest discarded.
//! EOF comes when the last writer closes, `EPIPE` and `SIGPIPE` when the last reader has.

use super::PipeId;
use crate::hal::Hal;
use crate::kernel::sched::WqId;
use crate::kernel::{Kernel, Pid};
use crate::uapi::fcntl::{O_DIRECT, O_NONBLOCK};
use crate::uapi::Errno;
use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;

/// Buffers in a pipe (`PIPE_DEF_BUFFERS`).
pub const PIPE_BUFFERS: usize = 16;
/// Bytes in one buffer (a page).
pub const PIPE_PAGE: usize = 4096;
/// Most bytes a pipe can hold.
pub const PIPE_SIZE: usize = PIPE_BUFFERS * PIPE_PAGE;

/// One `struct pipe_buffer`: a page and the unread bytes in it.
#[derive(Debug)]
pub struct PipeBuffer {
    pub data: Vec<u8>,
    /// First unread byte.
    pub offset: usize,
    /// `PIPE_BUF_FLAG_PACKET`.
    pub packet: bool,
}

impl PipeBuffer {
    fn len(&self) -> usize {
        self.data.len() - self.offset
    }
}

/// One pipe (`struct pipe_inode_info`).
#[derive(Debug)]
pub struct Pipe {
    pub bufs: VecDeque<PipeBuffer>,
    pub readers: u32,
    pub writers: u32,
    /// Writers asleep waiting for a free buffer (`waiting_writers`).
    pub waiting_writers: BTreeSet<Pid>,
    /// Readers wait here for data or EOF; writers for room or no readers.
    pub wait: WqId,
    /// Owner of the pipefs inode (the creator's fsuid/fsgid).
    pub uid: u32,
    pub gid: u32,
    /// pipefs inode number.
    pub ino: u64,
}

/// What a pipe read or write decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipeStep {
    /// The call is over with this many bytes in all (0 from a read is EOF).
    Done(usize),
    /// The call must sleep, having moved this many bytes in all so far.
    Block(usize),
}

/// Restart state of a pipe write: bytes done, plus this bit once the merge step is past
/// (Linux tries the merge once per call, not after every sleep).
const PAST_MERGE: u64 = 1 << 63;

impl<H: Hal> Kernel<H> {
    /// Creates a pipe with no ends open yet.
    pub fn pipe_new(&mut self, uid: u32, gid: u32) -> PipeId {
        let id = self.next_id();
        let wait = self.sched.new_waitqueue();
        self.pipes.insert(id, Pipe { bufs: VecDeque::new(), readers: 0, writers: 0, waiting_writers: BTreeSet::new(), wait, uid, gid, ino: id });
        id
    }

    /// An end was opened (`flags` says which).
    pub fn pipe_get(&mut self, id: PipeId, flags: u32) {
        if let Some(p) = self.pipes.get_mut(&id) {
            if flags & 3 == 0 {
                p.readers += 1;
            } else {
                p.writers += 1;
            }
        }
    }

    /// An end was released: wake the other side, free the pipe with its last end.
    pub fn pipe_put(&mut self, id: PipeId, flags: u32) {
        let Some(p) = self.pipes.get_mut(&id) else { return };
        if flags & 3 == 0 {
            p.readers -= 1;
        } else {
            p.writers -= 1;
        }
        let wq = p.wait;
        if p.readers == 0 && p.writers == 0 {
            self.pipes.remove(&id);
        }
        self.wake_up(wq);
    }

    /// A task that was asleep in a pipe write is gone (exit) or running again.
    pub(crate) fn pipe_forget_writer(&mut self, pid: Pid) {
        for p in self.pipes.values_mut() {
            p.waiting_writers.remove(&pid);
        }
    }

    /// `pipe_read` into `buf`, `done` bytes having been read before this task slept.
    /// Bytes read now are in `buf[..n]` where the result counts `done + n`.
    pub fn pipe_read(&mut self, id: PipeId, nonblock: bool, buf: &mut [u8], done: usize) -> Result<PipeStep, Errno> {
        let p = self.pipes.get_mut(&id).ok_or(Errno::EBADF)?;
        // A null read succeeds at once.
        if buf.is_empty() {
            return Ok(PipeStep::Done(done));
        }
        let mut n = 0;
        let mut freed = false;
        let outcome = loop {
            if let Some(b) = p.bufs.front_mut() {
                let chars = b.len().min(buf.len() - n);
                buf[n..n + chars].copy_from_slice(&b.data[b.offset..b.offset + chars]);
                b.offset += chars;
                n += chars;
                let packet = b.packet;
                if packet || b.len() == 0 {
                    p.bufs.pop_front();
                    freed = true;
                }
                if packet || n == buf.len() {
                    break PipeStep::Done(done + n);
                }
                continue;
            }
            if p.writers == 0 {
                break PipeStep::Done(done + n);
            }
            if p.waiting_writers.is_empty() {
                if done + n > 0 {
                    break PipeStep::Done(done + n);
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
            }
            break PipeStep::Block(done + n);
        };
        if freed {
            let wq = p.wait;
            self.wake_up(wq);
        }
        Ok(outcome)
    }

    /// `pipe_write` of `data` for `pid`; `restart` is what the last sleep saved. Returns
    /// the step and the state to save, or `EPIPE` with nothing written. `sigpipe` is set
    /// whenever no reader was found (Linux sends SIGPIPE even after a partial write).
    pub fn pipe_write(&mut self, id: PipeId, pid: Pid, flags: u32, data: &[u8], restart: Option<u64>, sigpipe: &mut bool) -> Result<(PipeStep, u64), Errno> {
        // A null write succeeds before anything else is looked at, readers or not.
        if data.is_empty() {
            return Ok((PipeStep::Done(0), 0));
        }
        let p = self.pipes.get_mut(&id).ok_or(Errno::EBADF)?;
        p.waiting_writers.remove(&pid);
        let packet = flags & O_DIRECT != 0;
        let mut ret = restart.map(|r| (r & !PAST_MERGE) as usize).unwrap_or(0);
        let mut woke = false;
        if restart.is_none() {
            if p.readers == 0 {
                *sigpipe = true;
                return Err(Errno::EPIPE);
            }
            // Merge the sub-page remainder into the last buffer when it fits.
            let chars = data.len() & (PIPE_PAGE - 1);
            if let Some(last) = p.bufs.back_mut() {
                if chars != 0 && !last.packet && last.data.len() + chars <= PIPE_PAGE {
                    last.data.extend_from_slice(&data[..chars]);
                    ret = chars;
                    woke = true;
                }
            }
        }
        let step = loop {
            if ret == data.len() {
                break PipeStep::Done(ret);
            }
            if p.readers == 0 {
                *sigpipe = true;
                if ret == 0 {
                    return Err(Errno::EPIPE);
                }
                break PipeStep::Done(ret);
            }
            if p.bufs.len() < PIPE_BUFFERS {
                let chars = PIPE_PAGE.min(data.len() - ret);
                p.bufs.push_back(PipeBuffer { data: data[ret..ret + chars].to_vec(), offset: 0, packet });
                ret += chars;
                woke = true;
                continue;
            }
            if flags & O_NONBLOCK != 0 {
                if ret == 0 {
                    return Err(Errno::EAGAIN);
                }
                break PipeStep::Done(ret);
            }
            p.waiting_writers.insert(pid);
            break PipeStep::Block(ret);
        };
        let wq = p.wait;
        if woke || matches!(step, PipeStep::Block(_)) {
            self.wake_up(wq);
        }
        Ok((step, ret as u64 | PAST_MERGE))
    }
}
