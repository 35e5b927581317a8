//! read, write, lseek (`fs/read_write.c`) over ramfs files, pipes, procfs and raw disks
//! (pmem here; virtio disks in `block/bdev.rs`).

use super::pipe::PipeStep;
use super::proc::ProcNode;
use super::{InodeData, Node};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::mm::uaccess::access_ok;
use crate::security::commoncap::capable;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::CAP_FSETID;
use crate::uapi::fcntl::*;
use crate::uapi::signal::SIGPIPE;
use crate::uapi::xattr::XATTR_NAME_CAPS;
use crate::uapi::Errno;
use alloc::vec;

/// `MAX_RW_COUNT`: `INT_MAX & PAGE_MASK`.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;
/// Largest file ramfs keeps (`MAX_LFS_FILESIZE` would be 8 EiB; RAM is the real limit,
/// and this bound keeps a bad offset from asking the allocator for it).
pub const RAMFS_MAX_FILE: u64 = 1 << 30;

/// The most one `read`/`write` of an ext3 file moves (a short count, as read(2) and
/// write(2) allow): one restartable operation holds its whole transfer in memory.
const EXT_RW_CHUNK: usize = 1 << 20;

impl<H: Hal> Kernel<H> {
    pub(crate) fn sys_read(&mut self, pid: Pid, fd: i32, buf: u64, count: usize) -> SysResult {
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        if !f.readable() {
            return Err(Errno::EBADF.into());
        }
        let count = count.min(MAX_RW_COUNT);
        if !access_ok(buf, count) {
            return Err(Errno::EFAULT.into());
        }
        let data = match f.node {
            Node::Userfaultfd(c) => return self.uffd_read(pid, c, f.flags & O_NONBLOCK != 0, buf, count),
            Node::Socket(s) => return self.sock_read(pid, s, f.flags, buf, count),
            Node::Pipe(p) => {
                let done = self.restart_state(pid).unwrap_or(0) as usize;
                let mut tmp = vec![0u8; (count - done.min(count)).min(super::pipe::PIPE_SIZE)];
                let step = self.pipe_read(p, f.flags & O_NONBLOCK != 0, &mut tmp, done)?;
                let total = match step {
                    PipeStep::Done(t) | PipeStep::Block(t) => t,
                };
                if let Err(e) = self.copy_to_user(pid, buf + done as u64, &tmp[..total - done]) {
                    // pipe_read leaves a buffer it could not copy out in the pipe.
                    if let Some(pp) = self.pipes.get_mut(&p) {
                        pp.bufs.push_front(super::pipe::PipeBuffer { data: tmp[..total - done].to_vec(), offset: 0, packet: false });
                    }
                    return if done > 0 { Ok(done as i64) } else { Err(e.into()) };
                }
                if let PipeStep::Block(t) = step {
                    // A writer is waiting for room: keep reading after it writes.
                    self.set_restart_state(pid, t as u64);
                    let wq = self.pipes[&p].wait;
                    return Err(self.wait_on(pid, wq));
                }
                return Ok(total as i64);
            }
            Node::Ram(ino) if self.blkdev_of(ino).is_some() => {
                let rdev = self.blkdev_of(ino).unwrap_or(0);
                // A virtio disk goes through its request queue (and may park the task).
                if let Some(disk) = self.virtblk_of(rdev) {
                    return self.blkdev_read(pid, fid, disk, buf, count);
                }
                self.iomem.disk_read(&self.hal, rdev, f.pos, count)?
            }
            Node::Ram(ino) => {
                self.filemap_writeback(ino);
                let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
                let i = self.vfs.ram.get_mut(ino).ok_or(Errno::EBADF)?;
                let InodeData::Reg(d) = &i.data else { return Err(Errno::EISDIR.into()) };
                let start = (f.pos as usize).min(d.len());
                let end = start.saturating_add(count).min(d.len());
                let out = d[start..end].to_vec();
                i.atime = now;
                out
            }
            Node::Ext4(m, i) => {
                let st = self.ext_stat((m, i))?;
                if u32::from(st.mode) & crate::uapi::stat::S_IFMT == crate::uapi::stat::S_IFDIR {
                    return Err(Errno::EISDIR.into());
                }
                // One call moves at most EXT_RW_CHUNK (a short read, which read(2) allows).
                self.ext_read(pid, (m, i), f.pos, count.min(EXT_RW_CHUNK))?
            }
            Node::Proc(p) => {
                if p.is_dir() {
                    return Err(Errno::EISDIR.into());
                }
                let text = match &f.seq_buf {
                    Some(b) if f.pos != 0 => b.clone(),
                    _ => self.proc_read(p)?,
                };
                let start = (f.pos as usize).min(text.len());
                let end = start.saturating_add(count).min(text.len());
                let out = text[start..end].to_vec();
                self.files.update(&fid, |fm| fm.seq_buf = Some(text));
                out
            }
        };
        self.copy_to_user(pid, buf, &data)?;
        if !matches!(f.node, Node::Pipe(_)) {
            self.files.update(&fid, |fm| fm.pos += data.len() as u64);
        }
        Ok(data.len() as i64)
    }

    pub(crate) fn sys_write(&mut self, pid: Pid, fd: i32, buf: u64, count: usize) -> SysResult {
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        if !f.writable() {
            return Err(Errno::EBADF.into());
        }
        let count = count.min(MAX_RW_COUNT);
        if !access_ok(buf, count) {
            return Err(Errno::EFAULT.into());
        }
        match f.node {
            // No write method: EINVAL (the file is O_RDWR in 4.3).
            Node::Userfaultfd(_) => Err(Errno::EINVAL.into()),
            Node::Socket(s) => self.sock_write(pid, s, buf, count),
            Node::Pipe(p) => {
                let data = self.read_user(pid, buf, count)?;
                let restart = self.restart_state(pid);
                let mut sigpipe = false;
                let r = self.pipe_write(p, pid, f.flags, &data, restart, &mut sigpipe);
                if sigpipe {
                    if let Some(t) = self.tasks.get_mut(&pid) {
                        t.pending_signal = SIGPIPE;
                    }
                }
                match r? {
                    (PipeStep::Done(n), _) => Ok(n as i64),
                    (PipeStep::Block(_), state) => {
                        self.set_restart_state(pid, state);
                        let wq = self.pipes[&p].wait;
                        Err(self.wait_on(pid, wq))
                    }
                }
            }
            Node::Ram(ino) if self.blkdev_of(ino).is_some() => {
                let rdev = self.blkdev_of(ino).unwrap_or(0);
                if let Some(disk) = self.virtblk_of(rdev) {
                    return self.blkdev_write(pid, fid, disk, buf, count);
                }
                let data = self.read_user(pid, buf, count.min(1 << 20))?;
                let n = self.iomem.disk_write(&self.hal, rdev, f.pos, &data)?;
                self.files.update(&fid, |fm| fm.pos += n as u64);
                Ok(n as i64)
            }
            Node::Ram(ino) => {
                let data = self.read_user(pid, buf, count)?;
                // Bring stores made through shared mappings in first, and show the
                // mappings what was written after.
                self.filemap_writeback(ino);
                let r = self.ramfs_write(pid, fid, &f, ino, &data);
                self.filemap_refresh(ino);
                r
            }
            Node::Ext4(m, i) => {
                let st = self.ext_stat((m, i))?;
                if u32::from(st.mode) & crate::uapi::stat::S_IFMT == crate::uapi::stat::S_IFDIR {
                    return Err(Errno::EISDIR.into());
                }
                let data = self.read_user(pid, buf, count.min(EXT_RW_CHUNK))?;
                let pos = if f.flags & O_APPEND != 0 { st.size } else { f.pos };
                let cred = self.task(pid).ok_or(Errno::ESRCH)?.cred.clone();
                let n = self.ext_write(pid, (m, i), pos, &data, !capable(&cred, CAP_FSETID))?;
                self.files.update(&fid, |fm| fm.pos = pos + n as u64);
                Ok(n as i64)
            }
            Node::Proc(ProcNode::ProvokeCrashDirect) => self.lkdtm_direct_entry(pid, buf, count),
            Node::Proc(p) => {
                let data = self.read_user(pid, buf, count)?;
                let cred = self.task(pid).ok_or(Errno::ESRCH)?.cred.clone();
                let n = self.proc_write(&cred, p, &data)?;
                Ok(n as i64)
            }
        }
    }

    /// The `dev_t` of a block device inode whose disk exists.
    pub(crate) fn blkdev_of(&self, ino: super::Ino) -> Option<u64> {
        match self.vfs.ram.get(ino).map(|i| &i.data) {
            Some(InodeData::Blk { rdev }) => Some(*rdev),
            _ => None,
        }
    }

    /// The ramfs part of `write`: at the position (or the end for `O_APPEND`), dropping
    /// set-id bits and file capabilities as `file_remove_privs` does.
    fn ramfs_write(&mut self, pid: Pid, fid: super::file::FileId, f: &super::file::File, ino: super::Ino, data: &[u8]) -> SysResult {
        let cred = self.task(pid).ok_or(Errno::ESRCH)?.cred.clone();
        let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
        let i = self.vfs.ram.get_mut(ino).ok_or(Errno::EBADF)?;
        let InodeData::Reg(d) = &mut i.data else { return Err(Errno::EISDIR.into()) };
        let pos = if f.flags & O_APPEND != 0 { d.len() as u64 } else { f.pos };
        let end = pos.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        if end > RAMFS_MAX_FILE {
            return Err(Errno::EFBIG.into());
        }
        if !data.is_empty() {
            if d.len() < end as usize {
                d.resize(end as usize, 0);
            }
            d[pos as usize..end as usize].copy_from_slice(data);
            // file_remove_privs: setuid/setgid go unless CAP_FSETID; file
            // capabilities always go.
            if !capable(&cred, CAP_FSETID) {
                i.kill_suid_sgid();
            }
            i.xattrs.remove(XATTR_NAME_CAPS.as_bytes());
            i.mtime = now;
            i.ctime = now;
        }
        self.files.update(&fid, |fm| fm.pos = end);
        Ok(data.len() as i64)
    }

    pub(crate) fn sys_lseek(&mut self, pid: Pid, fd: i32, off: i64, whence: u32) -> SysResult {
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        // fdget_pos does not see O_PATH descriptors.
        if f.flags & O_PATH != 0 {
            return Err(Errno::EBADF.into());
        }
        let size = match f.node {
            Node::Pipe(_) | Node::Socket(_) => return Err(Errno::ESPIPE.into()),
            // noop_llseek: the position does not move.
            Node::Userfaultfd(_) => return Ok(f.pos as i64),
            Node::Ram(ino) => match &self.vfs.ram.get(ino).ok_or(Errno::EBADF)?.data {
                InodeData::Reg(d) => d.len() as i64,
                InodeData::Symlink(t) => t.len() as i64,
                // block_llseek → fixed_size_llseek: the disk's size bounds the position.
                InodeData::Blk { rdev } => {
                    let size = self.blkdev_size(*rdev)? as i64;
                    let new = match whence {
                        SEEK_SET => Some(off),
                        SEEK_CUR if off == 0 => return Ok(f.pos as i64),
                        SEEK_CUR => (f.pos as i64).checked_add(off),
                        SEEK_END => size.checked_add(off),
                        SEEK_DATA | SEEK_HOLE if off < 0 || off >= size => return Err(Errno::ENXIO.into()),
                        SEEK_DATA => Some(off),
                        SEEK_HOLE => Some(size),
                        _ => return Err(Errno::EINVAL.into()),
                    };
                    let new = new.filter(|&n| (0..=size).contains(&n)).ok_or(Errno::EINVAL)?;
                    self.files.update(&fid, |fm| fm.pos = new as u64);
                    return Ok(new);
                }
                InodeData::Dir { .. } => {
                    // dcache_dir_lseek: SEEK_SET and SEEK_CUR only.
                    if whence > SEEK_CUR {
                        return Err(Errno::EINVAL.into());
                    }
                    0
                }
            },
            Node::Ext4(m, i) => {
                let st = self.ext_stat((m, i))?;
                if u32::from(st.mode) & crate::uapi::stat::S_IFMT == crate::uapi::stat::S_IFDIR {
                    // ext4_dir_llseek of a linear directory: generic_file_llseek_size
                    // over positions, SEEK_SET and SEEK_CUR alone meaningful.
                    if whence > SEEK_CUR {
                        return Err(Errno::EINVAL.into());
                    }
                    0
                } else {
                    st.size as i64
                }
            }
            Node::Proc(_) => {
                // seq_lseek: SEEK_SET and SEEK_CUR only.
                if whence > SEEK_CUR {
                    return Err(Errno::EINVAL.into());
                }
                0
            }
        };
        let new = match whence {
            SEEK_SET => Some(off),
            SEEK_CUR => (f.pos as i64).checked_add(off),
            SEEK_END => size.checked_add(off),
            // shmem_file_llseek: a negative offset is EINVAL, one at or past the end ENXIO.
            SEEK_DATA | SEEK_HOLE if off < 0 => return Err(Errno::EINVAL.into()),
            SEEK_DATA | SEEK_HOLE if off >= size => return Err(Errno::ENXIO.into()),
            SEEK_DATA => Some(off),
            SEEK_HOLE => Some(size),
            _ => return Err(Errno::EINVAL.into()),
        };
        let new = new.filter(|&n| n >= 0).ok_or(Errno::EINVAL)?;
        if let Node::Ram(ino) = f.node {
            if new as u64 != f.pos {
                self.dcache_dir_lseek(fid, ino, new as u64);
            }
        }
        self.files.update(&fid, |fm| {
            fm.pos = new as u64;
            if new == 0 {
                fm.seq_buf = None;
            }
        });
        Ok(new)
    }
}
