//! Pipes (`fs/pipe.c`): a 64 KiB ring (16 pages, `PIPE_DEF_BUFFERS`), `PIPE_BUF`
//! atomicity, `O_NONBLOCK`, `O_DIRECT` packet mode, EOF when the last writer closes and
//! `EPIPE`/`SIGPIPE` when the last reader has.

use super::PipeId;
use crate::hal::Hal;
use crate::kernel::sched::WqId;
use crate::kernel::Kernel;
use crate::uapi::fcntl::{O_DIRECT, O_NONBLOCK};
use alloc::collections::VecDeque;

/// A run of bytes from one write: a packet (`O_DIRECT`) is read whole or not at all.
#[derive(Debug)]
pub struct Seg {
    pub bytes: VecDeque<u8>,
    pub packet: bool,
}

/// Capacity of a pipe: 16 buffers of one page.
pub const PIPE_SIZE: usize = 16 * 4096;
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;

/// One pipe.
#[derive(Debug)]
pub struct Pipe {
    pub segs: VecDeque<Seg>,
    /// Bytes buffered in all segments.
    pub len: usize,
    pub readers: u32,
    pub writers: u32,
    /// Readers wait here for data or EOF; writers for room or no readers.
    pub wait: WqId,
    /// Owner of the pipefs inode (the creator's fsuid/fsgid).
    pub uid: u32,
    pub gid: u32,
    /// pipefs inode number.
    pub ino: u64,
}

impl<H: Hal> Kernel<H> {
    /// Creates a pipe with no ends open yet.
    pub fn pipe_new(&mut self, uid: u32, gid: u32) -> PipeId {
        let id = self.next_id();
        let wait = self.sched.new_waitqueue();
        self.pipes.insert(id, Pipe { segs: VecDeque::new(), len: 0, readers: 0, writers: 0, wait, uid, gid, ino: id });
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

    /// `pipe_read`: `Ok(Some(n))` read n bytes (0 = EOF), `Ok(None)` must block.
    pub fn pipe_read(&mut self, id: PipeId, nonblock: bool, buf: &mut [u8]) -> Result<Option<usize>, crate::Errno> {
        let p = self.pipes.get_mut(&id).ok_or(crate::Errno::EBADF)?;
        if p.len == 0 {
            if p.writers == 0 {
                return Ok(Some(0));
            }
            if nonblock {
                return Err(crate::Errno::EAGAIN);
            }
            return Ok(None);
        }
        let mut n = 0;
        while n < buf.len() {
            let Some(seg) = p.segs.front_mut() else { break };
            if seg.packet {
                if n > 0 {
                    break;
                }
                // One packet per read; what does not fit in the buffer is discarded.
                let seg = p.segs.pop_front().expect("front exists");
                p.len -= seg.bytes.len();
                for (i, b) in seg.bytes.into_iter().take(buf.len()).enumerate() {
                    buf[i] = b;
                    n = i + 1;
                }
                break;
            }
            let take = seg.bytes.len().min(buf.len() - n);
            for b in seg.bytes.drain(..take) {
                buf[n] = b;
                n += 1;
            }
            p.len -= take;
            if seg.bytes.is_empty() {
                p.segs.pop_front();
            }
        }
        let wq = p.wait;
        self.wake_up(wq);
        Ok(Some(n))
    }

    /// `pipe_write` of `data`, of which `done` bytes were already written before this
    /// task last blocked. Returns `Ok(Ok(total))` when finished, `Ok(Err(progress))` to
    /// block with `progress` bytes queued so far, or `EPIPE` when no reader is left (the
    /// caller raises `SIGPIPE`, and returns the `done` bytes already written if any).
    pub fn pipe_write(&mut self, id: PipeId, flags: u32, data: &[u8], done: usize) -> Result<Result<usize, usize>, crate::Errno> {
        // A null write succeeds before anything else is looked at, readers or not.
        if data.is_empty() {
            return Ok(Ok(0));
        }
        let p = self.pipes.get_mut(&id).ok_or(crate::Errno::EBADF)?;
        if p.readers == 0 {
            return Err(crate::Errno::EPIPE);
        }
        let room = PIPE_SIZE - p.len;
        let left = &data[done..];
        let atomic = data.len() <= PIPE_BUF;
        let n = if atomic && room < left.len() { 0 } else { room.min(left.len()) };
        if n > 0 {
            let packet = flags & O_DIRECT != 0;
            match p.segs.back_mut() {
                Some(last) if !packet && !last.packet => last.bytes.extend(&left[..n]),
                _ => p.segs.push_back(Seg { bytes: left[..n].iter().copied().collect(), packet }),
            }
            p.len += n;
            let wq = p.wait;
            self.wake_up(wq);
        }
        let total = done + n;
        if total == data.len() {
            return Ok(Ok(total));
        }
        if flags & O_NONBLOCK != 0 {
            return if total > 0 { Ok(Ok(total)) } else { Err(crate::Errno::EAGAIN) };
        }
        Ok(Err(total))
    }
}
