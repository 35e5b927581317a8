//! The VFS checks of the namespace syscalls (`may_create`, `may_delete`, the rename
//! traps, `chmod_common`, `chown_common`) for ext3 inodes; the ramfs versions live next
//! to the syscalls, these are called from there when the parent is on an ext mount.

use super::MntId;
use crate::fs::ext4::file::SetAttr;
use crate::fs::namei::{generic_permission, Parent};
use crate::fs::{Node, MAY_EXEC, MAY_WRITE};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::security::cred::Cred;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::{CAP_CHOWN, CAP_FOWNER, CAP_FSETID};
use crate::uapi::stat::{S_IALLUGO, S_IFDIR, S_IFMT, S_ISGID, S_ISVTX};
use crate::uapi::Errno;

fn is_dir_mode(mode: u16) -> bool {
    u32::from(mode) & S_IFMT == S_IFDIR
}

impl<H: Hal> Kernel<H> {
    /// `may_create` in ext3 directory `dir`: a removed directory is `ENOENT`, then write
    /// and search permission.
    pub(crate) fn ext_may_create(&self, cred: &Cred, (m, dir): (MntId, u32)) -> Result<(), Errno> {
        let d = self.ext_stat((m, dir))?;
        if d.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        generic_permission(cred, u32::from(d.mode), d.uid, d.gid, MAY_WRITE | MAY_EXEC)
    }

    /// `may_delete` of `victim` from ext3 directory `dir`: write+search, the sticky-bit
    /// rule, the directory/non-directory match, and the root.
    pub(crate) fn ext_may_delete(&self, cred: &Cred, (m, dir): (MntId, u32), victim: u32, isdir: bool) -> Result<(), Errno> {
        let d = self.ext_stat((m, dir))?;
        let v = self.ext_stat((m, victim))?;
        generic_permission(cred, u32::from(d.mode), d.uid, d.gid, MAY_WRITE | MAY_EXEC)?;
        if u32::from(d.mode) & S_ISVTX != 0 && cred.fsuid != v.uid && cred.fsuid != d.uid && !capable(cred, CAP_FOWNER) {
            return Err(Errno::EPERM);
        }
        match (isdir, is_dir_mode(v.mode)) {
            (true, false) => return Err(Errno::ENOTDIR),
            (true, true) if (m, victim) == Self::ext_root(m) => return Err(Errno::EBUSY),
            (false, true) => return Err(Errno::EISDIR),
            _ => {}
        }
        if d.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        Ok(())
    }

    /// `vfs_create` from `open(O_CREAT)`: a regular file in ext3 directory `p.dir`.
    pub(crate) fn ext_open_create(&mut self, pid: Pid, cred: &Cred, p: &Parent, mode: u32) -> Result<Node, Errno> {
        let Node::Ext4(m, dir) = p.dir else { return Err(Errno::EACCES) };
        self.ext_may_create(cred, (m, dir))?;
        let mode = crate::uapi::stat::S_IFREG | (mode & !self.umask_of(pid) & S_IALLUGO);
        let ino = self.ext_create(pid, (m, dir), &p.last, mode, None)?;
        Ok(Node::Ext4(m, ino))
    }

    /// `vfs_mkdir` in an ext3 directory (the name was found free).
    pub(crate) fn ext_mkdirat(&mut self, pid: Pid, cred: &Cred, p: &Parent, mode: u32) -> SysResult {
        let Node::Ext4(m, dir) = p.dir else { return Err(Errno::EACCES.into()) };
        self.ext_may_create(cred, (m, dir))?;
        let mode = S_IFDIR | (mode & !self.umask_of(pid) & (crate::uapi::stat::S_IRWXUGO | S_ISVTX));
        self.ext_create(pid, (m, dir), &p.last, mode, None)?;
        Ok(0)
    }

    /// `vfs_unlink` / `vfs_rmdir` in an ext3 directory.
    pub(crate) fn ext_unlinkat(&mut self, pid: Pid, cred: &Cred, p: &Parent, rmdir: bool) -> SysResult {
        let Node::Ext4(m, dir) = p.dir else { return Err(Errno::EACCES.into()) };
        let victim = self.ext_lookup((m, dir), &p.last)?;
        let v = self.ext_stat((m, victim))?;
        if !rmdir && p.trailing_slash {
            return Err(if is_dir_mode(v.mode) { Errno::EISDIR } else { Errno::ENOTDIR }.into());
        }
        self.ext_may_delete(cred, (m, dir), victim, rmdir)?;
        self.ext_unlink(pid, (m, dir), &p.last, rmdir)?;
        Ok(0)
    }

    /// `chmod_common` on an ext3 inode.
    pub(crate) fn ext_chmod(&mut self, pid: Pid, cred: &Cred, (m, ino): (MntId, u32), mode: u32) -> Result<(), Errno> {
        let st = self.ext_stat((m, ino))?;
        if cred.fsuid != st.uid && !capable(cred, CAP_FOWNER) {
            return Err(Errno::EPERM);
        }
        let mut mode = mode & S_IALLUGO;
        if !cred.in_group(st.gid) && !capable(cred, CAP_FSETID) {
            mode &= !S_ISGID;
        }
        let now = self.ext_now();
        self.ext_setattr(pid, (m, ino), SetAttr { mode: Some(mode as u16), ctime: Some(now), ..SetAttr::default() })
    }

    /// `chown_common` on an ext3 inode: CAP_CHOWN to change the owner; ownership and
    /// membership (or CAP_CHOWN) to change the group; set-id bits go on non-directories.
    pub(crate) fn ext_chown(&mut self, pid: Pid, cred: &Cred, (m, ino): (MntId, u32), uid: u32, gid: u32) -> Result<(), Errno> {
        let st = self.ext_stat((m, ino))?;
        let new_uid = if uid == u32::MAX { st.uid } else { uid };
        let new_gid = if gid == u32::MAX { st.gid } else { gid };
        let chown_ok = (cred.fsuid == st.uid && new_uid == st.uid) || capable(cred, CAP_CHOWN);
        let chgrp_ok = (cred.fsuid == st.uid && (new_gid == st.gid || cred.in_group(new_gid))) || capable(cred, CAP_CHOWN);
        if (uid != u32::MAX && !chown_ok) || (gid != u32::MAX && !chgrp_ok) {
            return Err(Errno::EPERM);
        }
        let mode = (!is_dir_mode(st.mode)).then(|| crate::fs::killed_suid_sgid(u32::from(st.mode & 0o7777)) as u16);
        let now = self.ext_now();
        self.ext_setattr(pid, (m, ino), SetAttr { mode, uid: Some(new_uid), gid: Some(new_gid), ctime: Some(now), ..SetAttr::default() })
    }

    /// `d_ancestor` over an ext3 tree: the child of `anc` on the way up from `desc`.
    fn ext_child_toward(&self, m: MntId, anc: u32, desc: u32) -> Result<Option<u32>, Errno> {
        let mut cur = desc;
        for _ in 0..4096 {
            if (m, cur) == Self::ext_root(m) {
                return Ok(None);
            }
            let parent = self.ext_lookup((m, cur), b"..")?;
            if parent == anc {
                return Ok(Some(cur));
            }
            if parent == cur {
                return Ok(None);
            }
            cur = parent;
        }
        Ok(None)
    }

    /// The ext3 half of `renameat2` (both parents on mount `m`), after the generic
    /// checks: lookups, `RENAME_NOREPLACE`, trailing slashes, the ancestor traps,
    /// `may_delete`/`may_create`. `RENAME_EXCHANGE` and `RENAME_WHITEOUT`, which 4.3's
    /// ext4 supports, are not modelled: `EINVAL`.
    pub(crate) fn ext_sys_rename(&mut self, pid: Pid, cred: &Cred, m: MntId, (odir, op): (u32, &Parent), (ndir, np): (u32, &Parent), flags: u32) -> SysResult {
        use crate::fs::rename::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
        let source = self.ext_lookup((m, odir), &op.last)?;
        let target = match self.ext_lookup((m, ndir), &np.last) {
            Ok(t) => Some(t),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e.into()),
        };
        if flags & RENAME_NOREPLACE != 0 && target.is_some() {
            return Err(Errno::EEXIST.into());
        }
        let is_dir = is_dir_mode(self.ext_stat((m, source))?.mode);
        if flags & RENAME_EXCHANGE != 0 && target.is_none() {
            return Err(Errno::ENOENT.into());
        }
        if !is_dir && (op.trailing_slash || np.trailing_slash) {
            return Err(Errno::ENOTDIR.into());
        }
        if odir != ndir {
            if self.ext_child_toward(m, source, ndir)?.is_some() || source == ndir {
                return Err(Errno::EINVAL.into());
            }
            if let Some(t) = target {
                if self.ext_child_toward(m, t, odir)?.is_some() {
                    return Err(Errno::ENOTEMPTY.into());
                }
            }
        }
        if target == Some(source) {
            return Ok(0);
        }
        self.ext_may_delete(cred, (m, odir), source, is_dir)?;
        match target {
            None => self.ext_may_create(cred, (m, ndir))?,
            Some(t) => self.ext_may_delete(cred, (m, ndir), t, is_dir)?,
        }
        if flags & (RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
            return Err(Errno::EINVAL.into());
        }
        if odir != ndir && is_dir {
            let st = self.ext_stat((m, source))?;
            generic_permission(cred, u32::from(st.mode), st.uid, st.gid, MAY_WRITE)?;
        }
        self.ext_rename(pid, m, odir, &op.last, ndir, &np.last)?;
        Ok(0)
    }
}
