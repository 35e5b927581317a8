//! linkat, link (`fs/namei.c`: `SYSCALL_DEFINE5(linkat)`, `filename_create`,
//! `vfs_link`; ramfs's `simple_link`).

use super::namei::Parent;
use super::rename::{last_is_special, mount_id};
use super::{InodeData, Node};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::CAP_DAC_READ_SEARCH;
use crate::uapi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_FOLLOW, PATH_MAX};
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
    /// `filename_create` for a non-directory: the parent walk, then `EEXIST` for `.`,
    /// `..`, `/` and an existing name, `ENOENT` for a trailing slash on a new name.
    pub(crate) fn filename_create(&self, pid: Pid, dirfd: i32, path: &[u8]) -> Result<Parent, Errno> {
        let p = self.path_parent(pid, dirfd, path)?;
        if last_is_special(&p) {
            return Err(Errno::EEXIST);
        }
        match self.walk_one(pid, p.dir, &p.last) {
            Ok(_) => return Err(Errno::EEXIST),
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(e),
        }
        if p.trailing_slash {
            return Err(Errno::ENOENT);
        }
        Ok(p)
    }

    pub(crate) fn sys_link(&mut self, pid: Pid, old: u64, new: u64) -> SysResult {
        self.sys_linkat(pid, AT_FDCWD, old, AT_FDCWD, new, 0)
    }

    pub(crate) fn sys_linkat(&mut self, pid: Pid, olddfd: i32, old: u64, newdfd: i32, new: u64, flags: u32) -> SysResult {
        if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let cred = self.cred_of(pid)?;
        // A null name links what a descriptor refers to: CAP_DAC_READ_SEARCH only.
        if flags & AT_EMPTY_PATH != 0 && !capable(&cred, CAP_DAC_READ_SEARCH) {
            return Err(Errno::ENOENT.into());
        }
        let oldname = self.strncpy_from_user(pid, old, PATH_MAX)?.ok_or(Errno::ENAMETOOLONG)?;
        let source = if oldname.is_empty() && flags & AT_EMPTY_PATH != 0 {
            if olddfd == AT_FDCWD {
                self.dirfd_start(pid, olddfd)?
            } else {
                let f = self.fget(pid, olddfd)?;
                self.files.get(&f).ok_or(Errno::EBADF)?.node
            }
        } else {
            self.path_lookup_follow(pid, olddfd, &oldname, flags & AT_SYMLINK_FOLLOW != 0)?
        };
        let newname = self.getname(pid, new)?;
        let np = self.filename_create(pid, newdfd, &newname)?;
        if mount_id(source) != mount_id(np.dir) {
            return Err(Errno::EXDEV.into());
        }
        if let (Node::Ext4(m, ino), Node::Ext4(_, dir)) = (source, np.dir) {
            // vfs_link: may_create, no directories, no unlinked inode; ext4_link checks
            // the link limit (EMLINK).
            self.ext_may_create(&cred, (m, dir))?;
            let st = self.ext_stat((m, ino))?;
            if u32::from(st.mode) & crate::uapi::stat::S_IFMT == crate::uapi::stat::S_IFDIR {
                return Err(Errno::EPERM.into());
            }
            if st.nlink == 0 {
                return Err(Errno::ENOENT.into());
            }
            self.ext_link(pid, (m, ino), dir, &np.last)?;
            return Ok(0);
        }
        let (Node::Ram(ino), Node::Ram(dir)) = (source, np.dir) else {
            // procfs/debugfs: may_create's permission check, then no ->link.
            if matches!(np.dir, Node::Proc(super::proc::ProcNode::SysDir(..))) {
                return Err(Errno::EACCES.into());
            }
            self.node_permission(&cred, np.dir, super::MAY_WRITE | super::MAY_EXEC)?;
            return Err(Errno::EPERM.into());
        };
        // vfs_link.
        self.may_create(&cred, dir)?;
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        if matches!(inode.data, InodeData::Dir { .. }) {
            return Err(Errno::EPERM.into());
        }
        // No new link to an unlinked file (not O_TMPFILE's I_LINKABLE: ramfs has none).
        // ramfs has no s_max_links: no EMLINK.
        if inode.nlink == 0 {
            return Err(Errno::ENOENT.into());
        }
        let now = self.now_real();
        if let Some(i) = self.vfs.ram.get_mut(ino) {
            i.nlink += 1;
            i.ctime = now;
        }
        self.vfs.ram.link(dir, &np.last, ino, now);
        Ok(0)
    }
}
