//! sync, syncfs, fsync, fdatasync (`fs/sync.c`). ramfs has nothing to write back; a
//! block device's cache is flushed by its driver.

use super::{InodeData, Node};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::fcntl::O_PATH;
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
    /// `sync(2)`: never fails.
    pub(crate) fn sys_sync(&mut self, pid: Pid) -> SysResult {
        // sync_filesystems: every ext mount commits; the call returns when all have.
        let mounts: alloc::vec::Vec<_> = self.ext.mounts.keys().copied().collect();
        let mut waiting = None;
        for m in mounts {
            match self.ext_fsync(pid, m) {
                Ok(()) | Err(Errno::EIO | Errno::EROFS) => {}
                Err(e) => waiting = Some(e),
            }
        }
        match waiting {
            Some(e) => Err(e.into()),
            None => Ok(0),
        }
    }

    /// `syncfs(2)`: any open descriptor's filesystem (pipefs and sockfs included).
    pub(crate) fn sys_syncfs(&mut self, pid: Pid, fd: i32) -> SysResult {
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        if f.flags & O_PATH != 0 {
            return Err(Errno::EBADF.into());
        }
        if let Node::Ext4(m, _) = f.node {
            // sync_filesystem skips a read-only superblock (one ext4_abort remounted).
            match self.ext_fsync(pid, m) {
                Ok(()) | Err(Errno::EROFS) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(0)
    }

    /// `fsync(2)` and `fdatasync(2)` (`vfs_fsync_range`): `EINVAL` when the file has no
    /// `->fsync` (pipes, sockets, procfs and anonymous inodes); ramfs files and
    /// directories have `noop_fsync`, block devices `blkdev_fsync`.
    pub(crate) fn sys_fsync(&mut self, pid: Pid, fd: i32, _datasync: bool) -> SysResult {
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        if f.flags & O_PATH != 0 {
            return Err(Errno::EBADF.into());
        }
        match f.node {
            Node::Ram(ino) => match self.vfs.ram.get(ino).map(|i| &i.data) {
                Some(InodeData::Blk { rdev }) => match self.virtblk_of(*rdev) {
                    Some(disk) => self.blkdev_fsync(pid, disk),
                    None => Ok(0),
                },
                Some(InodeData::Reg(_) | InodeData::Dir { .. }) => Ok(0),
                _ => Err(Errno::EINVAL.into()),
            },
            // ext4_sync_file: commit the running transaction and wait for it.
            Node::Ext4(m, _) => {
                self.ext_fsync(pid, m)?;
                Ok(0)
            }
            Node::Proc(_) | Node::Pipe(_) | Node::Socket(_) | Node::Userfaultfd(_) => Err(Errno::EINVAL.into()),
        }
    }
}
