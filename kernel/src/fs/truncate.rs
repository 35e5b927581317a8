//! truncate, ftruncate (`fs/open.c`: `do_sys_truncate`, `vfs_truncate`,
//! `do_sys_ftruncate`, `do_truncate`).

use super::{Ino, InodeData, Node, MAY_WRITE};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::security::cred::Cred;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::CAP_FSETID;
use crate::uapi::fcntl::O_PATH;
use crate::uapi::xattr::XATTR_NAME_CAPS;
use crate::uapi::Errno;

impl<H: Hal> Kernel<H> {
    pub(crate) fn sys_truncate(&mut self, pid: Pid, path: u64, length: i64) -> SysResult {
        if length < 0 {
            return Err(Errno::EINVAL.into());
        }
        let name = self.getname(pid, path)?;
        let node = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &name)?;
        let cred = self.cred_of(pid)?;
        // vfs_truncate: EISDIR for a directory, EINVAL for other non-regular files.
        if let Node::Ext4(m, i) = node {
            let st = self.ext_stat((m, i))?;
            match u32::from(st.mode) & crate::uapi::stat::S_IFMT {
                crate::uapi::stat::S_IFDIR => return Err(Errno::EISDIR.into()),
                crate::uapi::stat::S_IFREG => {}
                _ => return Err(Errno::EINVAL.into()),
            }
            super::namei::generic_permission(&cred, u32::from(st.mode), st.uid, st.gid, MAY_WRITE)?;
            self.ext_do_truncate(pid, &cred, (m, i), length as u64)?;
            return Ok(0);
        }
        let Node::Ram(ino) = node else {
            if self.node_is_dir(node) {
                return Err(Errno::EISDIR.into());
            }
            // A procfs file: write permission, then proc_notify_change accepts the size
            // and nothing changes.
            if let Node::Proc(_) = node {
                self.node_permission(&cred, node, MAY_WRITE)?;
                return Ok(0);
            }
            return Err(Errno::EINVAL.into());
        };
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        match inode.data {
            InodeData::Dir { .. } => return Err(Errno::EISDIR.into()),
            InodeData::Reg(_) => {}
            _ => return Err(Errno::EINVAL.into()),
        }
        super::namei::inode_permission(&cred, inode, MAY_WRITE)?;
        // get_write_access: a file being executed is ETXTBSY (k43 keeps no deny-write
        // count for running images).
        self.do_truncate(&cred, ino, length as u64)?;
        Ok(0)
    }

    pub(crate) fn sys_ftruncate(&mut self, pid: Pid, fd: i32, length: i64) -> SysResult {
        if length < 0 {
            return Err(Errno::EINVAL.into());
        }
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        if f.flags & O_PATH != 0 {
            return Err(Errno::EBADF.into());
        }
        // Not a regular file, or not open for writing: EINVAL. (Files from openat are
        // O_LARGEFILE on 64-bit, so the 2 GiB limit of `small` never applies.)
        let writable = f.writable();
        if let Node::Ext4(m, i) = f.node {
            let st = self.ext_stat((m, i))?;
            if u32::from(st.mode) & crate::uapi::stat::S_IFMT != crate::uapi::stat::S_IFREG || !writable {
                return Err(Errno::EINVAL.into());
            }
            let cred = self.cred_of(pid)?;
            self.ext_do_truncate(pid, &cred, (m, i), length as u64)?;
            return Ok(0);
        }
        let ino = match f.node {
            Node::Ram(ino) if matches!(self.vfs.ram.get(ino).map(|i| &i.data), Some(InodeData::Reg(_))) => ino,
            _ => return Err(Errno::EINVAL.into()),
        };
        if !writable {
            return Err(Errno::EINVAL.into());
        }
        let cred = self.cred_of(pid)?;
        self.do_truncate(&cred, ino, length as u64)?;
        Ok(0)
    }

    /// `do_truncate` on an ext3 file: set-id bits dropped unless `CAP_FSETID`, times
    /// updated when the size changes (`ext4_setattr`; `EFBIG` past the block-mapped
    /// limit comes from the filesystem).
    fn ext_do_truncate(&mut self, pid: Pid, cred: &Cred, (m, i): (crate::fs::extfs::MntId, u32), length: u64) -> Result<(), Errno> {
        let st = self.ext_stat((m, i))?;
        let now = self.ext_now();
        let mut a = crate::fs::ext4::file::SetAttr::default();
        if st.size != length {
            a.size = Some(length);
            a.mtime = Some(now);
            a.ctime = Some(now);
        }
        if !capable(cred, CAP_FSETID) {
            let mode = super::killed_suid_sgid(u32::from(st.mode & 0o7777)) as u16;
            if mode != st.mode & 0o7777 {
                a.mode = Some(mode);
                a.ctime = Some(now);
            }
        }
        if a.size.is_none() && a.mode.is_none() {
            return Ok(());
        }
        self.ext_setattr(pid, (m, i), a)
    }

    /// `do_truncate` on a ramfs file: `EFBIG` past the largest file, set-id bits and file
    /// capabilities dropped as a write drops them, times updated when the size changes.
    fn do_truncate(&mut self, cred: &Cred, ino: Ino, length: u64) -> Result<(), Errno> {
        if length > super::read_write::RAMFS_MAX_FILE {
            return Err(Errno::EFBIG);
        }
        let fsetid = capable(cred, CAP_FSETID);
        let now = self.now_real();
        self.filemap_writeback(ino);
        let i = self.vfs.ram.get_mut(ino).ok_or(Errno::ENOENT)?;
        let InodeData::Reg(d) = &mut i.data else { return Err(Errno::EINVAL) };
        if d.len() as u64 != length {
            d.resize(length as usize, 0);
            i.mtime = now;
            i.ctime = now;
        }
        if !fsetid {
            i.kill_suid_sgid();
        }
        i.xattrs.remove(XATTR_NAME_CAPS.as_bytes());
        self.filemap_refresh(ino);
        Ok(())
    }
}
