//! symlinkat, symlink, readlinkat, readlink (`fs/namei.c`: `SYSCALL_DEFINE3(symlinkat)`,
//! `vfs_symlink`; `fs/stat.c`: `SYSCALL_DEFINE4(readlinkat)`; `generic_readlink`).

use super::Node;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::fcntl::{AT_FDCWD, PATH_MAX};
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
    pub(crate) fn sys_symlink(&mut self, pid: Pid, target: u64, linkpath: u64) -> SysResult {
        self.sys_symlinkat(pid, target, AT_FDCWD, linkpath)
    }

    pub(crate) fn sys_symlinkat(&mut self, pid: Pid, target: u64, newdfd: i32, linkpath: u64) -> SysResult {
        let from = self.getname(pid, target)?;
        if from.is_empty() {
            return Err(Errno::ENOENT.into());
        }
        let to = self.getname(pid, linkpath)?;
        let cred = self.cred_of(pid)?;
        let np = self.filename_create(pid, newdfd, &to)?;
        if let Node::Ext4(m, dir) = np.dir {
            self.ext_may_create(&cred, (m, dir))?;
            self.ext_create(pid, (m, dir), &np.last, crate::uapi::stat::S_IFLNK | 0o777, Some(&from))?;
            return Ok(0);
        }
        let Node::Ram(dir) = np.dir else {
            if matches!(np.dir, Node::Proc(super::proc::ProcNode::SysDir(..))) {
                return Err(Errno::EACCES.into());
            }
            self.node_permission(&cred, np.dir, super::MAY_WRITE | super::MAY_EXEC)?;
            return Err(Errno::EPERM.into());
        };
        self.may_create(&cred, dir)?;
        let gid = self.new_inode_gid(&cred, dir);
        let now = self.now_real();
        self.vfs.ram.create_symlink(dir, &np.last, &from, cred.fsuid, gid, now);
        Ok(0)
    }

    pub(crate) fn sys_readlink(&mut self, pid: Pid, path: u64, buf: u64, bufsiz: i32) -> SysResult {
        self.sys_readlinkat(pid, AT_FDCWD, path, buf, bufsiz)
    }

    pub(crate) fn sys_readlinkat(&mut self, pid: Pid, dirfd: i32, path: u64, buf: u64, bufsiz: i32) -> SysResult {
        if bufsiz <= 0 {
            return Err(Errno::EINVAL.into());
        }
        // user_path_at_empty: an empty name means the descriptor itself.
        let name = self.strncpy_from_user(pid, path, PATH_MAX)?.ok_or(Errno::ENAMETOOLONG)?;
        let empty = name.is_empty();
        let node = if empty {
            if dirfd == AT_FDCWD {
                self.dirfd_start(pid, dirfd)?
            } else {
                let f = self.fget(pid, dirfd)?;
                self.files.get(&f).ok_or(Errno::EBADF)?.node
            }
        } else {
            // /proc/self is proc's one symbolic link (k43 walks it as the directory).
            let p = self.path_parent(pid, dirfd, &name)?;
            if p.dir == Node::Proc(super::proc::ProcNode::Root) && p.last == b"self" && !p.trailing_slash {
                let tgid = self.task(pid).ok_or(Errno::ESRCH)?.tgid;
                let text = alloc::format!("{tgid}").into_bytes();
                return self.readlink_copy(pid, buf, bufsiz, &text);
            }
            let mut links = p.links;
            self.last_component(pid, &p, false, &mut links)?
        };
        let Some(target) = self.symlink_target(node)? else {
            return Err(if empty { Errno::ENOENT } else { Errno::EINVAL }.into());
        };
        if let Node::Ram(ino) = node {
            let now = self.now_real();
            if let Some(i) = self.vfs.ram.get_mut(ino) {
                i.atime = now;
            }
        }
        self.readlink_copy(pid, buf, bufsiz, &target)
    }

    /// `readlink_copy`: at most `bufsiz` bytes, no NUL added.
    fn readlink_copy(&mut self, pid: Pid, buf: u64, bufsiz: i32, text: &[u8]) -> SysResult {
        let n = text.len().min(bufsiz as usize);
        self.copy_to_user(pid, buf, &text[..n])?;
        Ok(n as i64)
    }
}
