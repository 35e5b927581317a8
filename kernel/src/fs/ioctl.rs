//! `ioctl(2)` (`fs/ioctl.c` `do_vfs_ioctl`, then the file's own `unlocked_ioctl`).
//!
//! Generic requests: `FIOCLEX`, `FIONCLEX`, `FIONBIO`, and `FIONREAD` for regular files
//! (`file_ioctl`) and pipes (`pipe_ioctl`). Then userfaultfd's, and a virtio disk's
//! (`block/ioctl.rs`). Anything else is `ENOTTY`,
//! as for a file without an `unlocked_ioctl` method. Not modelled: `FIOASYNC`,
//! `FIOQSIZE`, `FIFREEZE`/`FITHAW`, `FIGETBSZ`, `FIBMAP`.

use super::{InodeData, Node};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::fcntl::O_NONBLOCK;
use crate::uapi::Errno;

/// `FIONREAD` (`TIOCINQ`).
pub const FIONREAD: u32 = 0x541b;
/// `FIONBIO`.
pub const FIONBIO: u32 = 0x5421;
/// `FIONCLEX`.
pub const FIONCLEX: u32 = 0x5450;
/// `FIOCLEX`.
pub const FIOCLEX: u32 = 0x5451;

impl<H: Hal> Kernel<H> {
    /// `ioctl(fd, cmd, arg)`.
    pub(crate) fn sys_ioctl(&mut self, pid: Pid, fd: i32, cmd: u32, arg: u64) -> SysResult {
        let fid = self.fget(pid, fd)?;
        match cmd {
            FIOCLEX | FIONCLEX => {
                let tid = self.files_of(pid)?;
                if let Some(e) = self.fdtables.get_mut(&tid).and_then(|t| t.fds.get_mut(fd as usize)).and_then(|e| e.as_mut()) {
                    e.cloexec = cmd == FIOCLEX;
                }
                return Ok(0);
            }
            FIONBIO => {
                let mut b = [0u8; 4];
                self.copy_from_user(pid, arg, &mut b)?;
                let on = i32::from_le_bytes(b) != 0;
                self.files.update(&fid, |f| f.flags = if on { f.flags | O_NONBLOCK } else { f.flags & !O_NONBLOCK });
                return Ok(0);
            }
            _ => {}
        }
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        let (node, pos) = (f.node, f.pos);
        match (node, cmd) {
            (Node::Userfaultfd(c), _) => self.uffd_ioctl(pid, c, cmd, arg),
            (Node::Socket(s), FIONREAD) => {
                let n = self.sock_inq(s);
                self.copy_to_user(pid, arg, &n.to_le_bytes())?;
                Ok(0)
            }
            (Node::Pipe(p), FIONREAD) => {
                let n: usize = self.pipes.get(&p).map(|p| p.bufs.iter().map(|b| b.data.len() - b.offset).sum()).unwrap_or(0);
                self.copy_to_user(pid, arg, &(n as i32).to_le_bytes())?;
                Ok(0)
            }
            // block_ioctl → blkdev_ioctl for a virtio disk's node.
            (Node::Ram(ino), _) if self.blkdev_of(ino).and_then(|r| self.virtblk_of(r)).is_some() => {
                let disk = self.blkdev_of(ino).and_then(|r| self.virtblk_of(r)).unwrap_or(0);
                self.blkdev_ioctl(pid, fid, disk, cmd, arg)
            }
            (Node::Ram(ino), FIONREAD) => match self.vfs.ram.get(ino).map(|i| &i.data) {
                Some(InodeData::Reg(d)) => {
                    let n = (d.len() as i64 - pos as i64) as i32;
                    self.copy_to_user(pid, arg, &n.to_le_bytes())?;
                    Ok(0)
                }
                _ => Err(Errno::ENOTTY.into()),
            },
            _ => Err(Errno::ENOTTY.into()),
        }
    }
}
