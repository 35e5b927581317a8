//! renameat2, renameat, rename (`fs/namei.c`: `SYSCALL_DEFINE5(renameat2)`,
//! `vfs_rename`, `may_delete`, `may_create`, `lock_rename`'s trap; ramfs's
//! `simple_rename`).

use super::namei::{inode_permission, Parent};
use super::{Ino, InodeData, Node, MAY_EXEC, MAY_WRITE};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::security::cred::Cred;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::{CAP_FOWNER, CAP_MKNOD};
use crate::uapi::fcntl::AT_FDCWD;
use crate::uapi::stat::S_ISVTX;
use crate::uapi::Errno;

/// `renameat2` flags.
pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;
pub const RENAME_WHITEOUT: u32 = 4;

/// The `renameat2` flags ramfs's `->rename2` takes: none, ramfs has only `->rename`
/// (`simple_rename`), so any flag is `EINVAL` in `vfs_rename`. A filesystem with
/// `->rename2` (ext4: all three) answers here.
pub const RAMFS_RENAME2_FLAGS: u32 = 0;

/// Which mount a node is on (`path.mnt` identity): the root ramfs, procfs or debugfs.
/// k43 has one mount of each kind.
pub fn mount_id(node: Node) -> u32 {
    use super::proc::ProcNode::*;
    match node {
        Node::Ram(_) => 0,
        Node::Proc(DebugRoot | ProvokeCrash | ProvokeCrashDirect) => 2,
        Node::Proc(_) => 1,
        Node::Pipe(_) => 3,
        Node::Socket(_) => 4,
        Node::Userfaultfd(_) => 5,
        Node::Ext4(m, _) => 6 + m,
    }
}

/// A last component that is not `LAST_NORM` (`/`, `.`, `..`).
pub fn last_is_special(p: &Parent) -> bool {
    matches!(p.last.as_slice(), b"" | b"." | b"..")
}

impl<H: Hal> Kernel<H> {
    /// `may_delete` on a ramfs directory entry: write+search on the directory, the
    /// sticky-bit rule, then the directory/non-directory match.
    pub(crate) fn may_delete(&self, cred: &Cred, dir: Ino, victim: Ino, isdir: bool) -> Result<(), Errno> {
        let d = self.vfs.ram.get(dir).ok_or(Errno::ENOENT)?;
        let v = self.vfs.ram.get(victim).ok_or(Errno::ENOENT)?;
        inode_permission(cred, d, MAY_WRITE | MAY_EXEC)?;
        // check_sticky: the owner of the file or of the directory, or CAP_FOWNER.
        if d.mode & S_ISVTX != 0 && cred.fsuid != v.uid && cred.fsuid != d.uid && !capable(cred, CAP_FOWNER) {
            return Err(Errno::EPERM);
        }
        let victim_dir = matches!(v.data, InodeData::Dir { .. });
        if isdir {
            if !victim_dir {
                return Err(Errno::ENOTDIR);
            }
            if victim == super::ramfs::ROOT_INO {
                return Err(Errno::EBUSY);
            }
        } else if victim_dir {
            return Err(Errno::EISDIR);
        }
        if d.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        Ok(())
    }

    /// `may_create` in a ramfs directory (the name is known not to exist).
    pub(crate) fn may_create(&self, cred: &Cred, dir: Ino) -> Result<(), Errno> {
        let d = self.vfs.ram.get(dir).ok_or(Errno::ENOENT)?;
        if d.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        inode_permission(cred, d, MAY_WRITE | MAY_EXEC)
    }

    /// `d_ancestor(anc, desc)`: the child of `anc` on the way up from `desc` to it, when
    /// `anc` is a proper ancestor of `desc`.
    fn child_toward(&self, anc: Ino, desc: Ino) -> Option<Ino> {
        let mut cur = desc;
        for _ in 0..4096 {
            let Some(InodeData::Dir { parent, .. }) = self.vfs.ram.get(cur).map(|i| &i.data) else { return None };
            if *parent == cur {
                return None;
            }
            if *parent == anc {
                return Some(cur);
            }
            cur = *parent;
        }
        None
    }

    pub(crate) fn sys_rename(&mut self, pid: Pid, old: u64, new: u64) -> SysResult {
        self.sys_renameat2(pid, AT_FDCWD, old, AT_FDCWD, new, 0)
    }

    pub(crate) fn sys_renameat2(&mut self, pid: Pid, olddfd: i32, old: u64, newdfd: i32, new: u64, flags: u32) -> SysResult {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
            return Err(Errno::EINVAL.into());
        }
        if flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 && flags & RENAME_EXCHANGE != 0 {
            return Err(Errno::EINVAL.into());
        }
        let cred = self.cred_of(pid)?;
        if flags & RENAME_WHITEOUT != 0 && !capable(&cred, CAP_MKNOD) {
            return Err(Errno::EPERM.into());
        }
        let oldname = self.getname(pid, old)?;
        let op = self.path_parent(pid, olddfd, &oldname)?;
        let newname = self.getname(pid, new)?;
        let np = self.path_parent(pid, newdfd, &newname)?;
        if mount_id(op.dir) != mount_id(np.dir) {
            return Err(Errno::EXDEV.into());
        }
        if last_is_special(&op) {
            return Err(Errno::EBUSY.into());
        }
        if last_is_special(&np) {
            return Err(if flags & RENAME_NOREPLACE != 0 { Errno::EEXIST } else { Errno::EBUSY }.into());
        }
        if let (Node::Ext4(m, odir), Node::Ext4(_, ndir)) = (op.dir, np.dir) {
            return self.ext_sys_rename(pid, &cred, m, (odir, &op), (ndir, &np), flags);
        }
        let (Node::Ram(odir), Node::Ram(ndir)) = (op.dir, np.dir) else {
            // procfs and debugfs: the lookups, may_delete's permission check, then no
            // ->rename (EPERM).
            self.walk_one(pid, op.dir, &op.last)?;
            if matches!(op.dir, Node::Proc(super::proc::ProcNode::SysDir(..))) {
                return Err(Errno::EACCES.into());
            }
            self.node_permission(&cred, op.dir, MAY_WRITE | MAY_EXEC)?;
            return Err(Errno::EPERM.into());
        };
        let source = self.vfs.ram.lookup(odir, &op.last).ok_or(Errno::ENOENT)?;
        let target = self.vfs.ram.lookup(ndir, &np.last);
        if flags & RENAME_NOREPLACE != 0 && target.is_some() {
            return Err(Errno::EEXIST.into());
        }
        let is_dir_ino = |k: &Self, i: Ino| k.vfs.ram.get(i).is_some_and(|n| matches!(n.data, InodeData::Dir { .. }));
        let is_dir = is_dir_ino(self, source);
        let new_is_dir = target.is_some_and(|t| is_dir_ino(self, t));
        if flags & RENAME_EXCHANGE != 0 {
            let Some(_) = target else { return Err(Errno::ENOENT.into()) };
            if !new_is_dir && np.trailing_slash {
                return Err(Errno::ENOTDIR.into());
            }
        }
        // Unless the source is a directory, trailing slashes give ENOTDIR.
        if !is_dir && (op.trailing_slash || (flags & RENAME_EXCHANGE == 0 && np.trailing_slash)) {
            return Err(Errno::ENOTDIR.into());
        }
        // lock_rename's trap: the source may not be an ancestor of the target, nor the
        // target an ancestor of the source.
        if odir != ndir {
            if self.child_toward(odir, ndir) == Some(source) {
                return Err(Errno::EINVAL.into());
            }
            if target.is_some() && self.child_toward(ndir, odir) == target {
                return Err(if flags & RENAME_EXCHANGE != 0 { Errno::EINVAL } else { Errno::ENOTEMPTY }.into());
            }
        }
        // vfs_rename.
        if target == Some(source) {
            return Ok(0);
        }
        self.may_delete(&cred, odir, source, is_dir)?;
        match target {
            None => self.may_create(&cred, ndir)?,
            Some(t) => self.may_delete(&cred, ndir, t, if flags & RENAME_EXCHANGE != 0 { new_is_dir } else { is_dir })?,
        }
        if flags & !RAMFS_RENAME2_FLAGS != 0 {
            return Err(Errno::EINVAL.into());
        }
        // Changing the parent of a directory rewrites its "..": write permission on it.
        if odir != ndir && is_dir {
            inode_permission(&cred, self.vfs.ram.get(source).ok_or(Errno::ENOENT)?, MAY_WRITE)?;
        }
        if self.vfs.mounts.contains_key(&source) || target.is_some_and(|t| self.vfs.mounts.contains_key(&t)) {
            return Err(Errno::EBUSY.into());
        }
        // simple_rename: a non-empty directory target is ENOTEMPTY.
        if let Some(t) = target {
            if let Some(InodeData::Dir { entries, .. }) = self.vfs.ram.get(t).map(|i| &i.data) {
                if !entries.is_empty() {
                    return Err(Errno::ENOTEMPTY.into());
                }
            }
        }
        let now = self.now_real();
        if target.is_some() {
            self.vfs.ram.unlink(ndir, &np.last, now);
        }
        self.vfs.ram.move_entry(odir, &op.last, ndir, &np.last, now);
        if let Some(t) = target {
            self.maybe_evict(t);
        }
        Ok(0)
    }
}
