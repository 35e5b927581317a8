//! openat, close, dup, dup3, pipe2, mkdirat, unlinkat, fchmodat, fchownat
//! (`fs/open.c`, `fs/namei.c`, `fs/file.c`, `fs/pipe.c`).

use super::file::FdEntry;
use super::namei::{inode_permission, Parent};
use super::{InodeData, Node, MAY_EXEC, MAY_READ, MAY_WRITE};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::security::cred::Cred;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::{CAP_CHOWN, CAP_FOWNER, CAP_FSETID};
use crate::uapi::fcntl::*;
use crate::uapi::stat::*;
use crate::uapi::xattr::XATTR_NAME_CAPS;
use crate::uapi::Errno;

/// `inode_owner_or_capable`.
pub fn owner_or_capable(cred: &Cred, uid: u32) -> bool {
    cred.fsuid == uid || capable(cred, CAP_FOWNER)
}

impl<H: Hal> Kernel<H> {
    pub(crate) fn cred_of(&self, pid: Pid) -> Result<Cred, Errno> {
        Ok(self.task(pid).ok_or(Errno::ESRCH)?.cred.clone())
    }

    pub(crate) fn umask_of(&self, pid: Pid) -> u32 {
        self.task(pid).and_then(|t| self.fs_structs.get(&t.fs)).map(|f| f.umask).unwrap_or(0o022)
    }

    pub(crate) fn now_real(&self) -> u64 {
        self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns())
    }

    /// The ramfs directory of a walk's parent, with write+search permission checked
    /// (`may_create`/`may_delete` preamble). procfs refuses creation with `ENOENT`
    /// semantics Linux gives for a missing entry in a read-only dir: `EACCES`.
    pub(crate) fn writable_parent(&self, cred: &Cred, p: &Parent) -> Result<super::Ino, Errno> {
        match p.dir {
            Node::Ram(dir) => {
                let d = self.vfs.ram.get(dir).ok_or(Errno::ENOENT)?;
                // may_create: IS_DEADDIR (a removed directory still held open) is ENOENT,
                // before the permission check.
                if d.nlink == 0 {
                    return Err(Errno::ENOENT);
                }
                inode_permission(cred, d, MAY_WRITE | MAY_EXEC)?;
                Ok(dir)
            }
            _ => Err(Errno::EACCES),
        }
    }

    pub(crate) fn sys_openat(&mut self, pid: Pid, dirfd: i32, path: u64, flags: u32, mode: u32) -> SysResult {
        let path = self.getname(pid, path)?;
        let cred = self.cred_of(pid)?;
        let mut flags = flags & VALID_OPEN_FLAGS;
        if flags & __O_TMPFILE != 0 {
            // ramfs has no ->tmpfile; a malformed O_TMPFILE is EINVAL first.
            if flags & O_TMPFILE != O_TMPFILE || flags & O_ACCMODE == O_RDONLY {
                return Err(Errno::EINVAL.into());
            }
            return Err(Errno::EOPNOTSUPP.into());
        }
        if flags & O_PATH != 0 {
            flags &= O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
        }
        let acc = flags & O_ACCMODE;
        let mut parent = self.path_parent(pid, dirfd, &path)?;
        // O_CREAT|O_EXCL never follows a symbolic link in the last component; O_NOFOLLOW
        // makes one there ELOOP (unless O_PATH opens the link itself).
        let follow = flags & O_NOFOLLOW == 0 && flags & (O_CREAT | O_EXCL) != (O_CREAT | O_EXCL);
        let existing = loop {
            // do_last: with O_CREAT, a last component that is `/`, `.` or `..` is opened as
            // the directory it names (EISDIR below), and a trailing slash is EISDIR before
            // any lookup, whether or not the name exists.
            if flags & O_CREAT != 0 {
                if matches!(parent.last.as_slice(), b"" | b"." | b"..") {
                    if !parent.last.is_empty() {
                        self.path_lookup_from(pid, &parent)?;
                    }
                    return Err(Errno::EISDIR.into());
                }
                if parent.trailing_slash {
                    return Err(Errno::EISDIR.into());
                }
            }
            let existing = if parent.last.is_empty() { Ok(parent.dir) } else { self.path_lookup_from(pid, &parent) };
            let Ok(node) = existing else { break existing };
            let Some(target) = self.symlink_target(node)? else { break existing };
            if flags & (O_CREAT | O_EXCL) == (O_CREAT | O_EXCL) {
                return Err(Errno::EEXIST.into());
            }
            if !follow && !parent.trailing_slash {
                if flags & O_PATH == 0 {
                    return Err(Errno::ELOOP.into());
                }
                break existing;
            }
            if parent.links >= super::namei::MAXSYMLINKS {
                return Err(Errno::ELOOP.into());
            }
            let target = target.to_vec();
            parent = self.parent_walk(pid, parent.dir, &target, parent.links + 1)?;
        };
        let node = match existing {
            Ok(node) => {
                if flags & O_CREAT != 0 && flags & O_EXCL != 0 {
                    return Err(Errno::EEXIST.into());
                }
                node
            }
            Err(Errno::ENOENT) if flags & O_CREAT != 0 && flags & O_PATH == 0 && matches!(parent.dir, Node::Ext4(..)) => {
                let node = self.ext_open_create(pid, &cred, &parent, mode)?;
                let f = self.alloc_file(node, flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC))?;
                return Ok(self.fd_install_lowest(pid, f, flags & O_CLOEXEC != 0)? as i64);
            }
            Err(Errno::ENOENT) if flags & O_CREAT != 0 && flags & O_PATH == 0 => {
                let dir = self.writable_parent(&cred, &parent)?;
                let gid = self.new_inode_gid(&cred, dir);
                let now = self.now_real();
                let m = mode & !self.umask_of(pid) & S_IALLUGO;
                let ino = self.vfs.ram.create_file(dir, &parent.last, m, cred.fsuid, gid, alloc::vec::Vec::new(), now);
                // A freshly created file may be opened with any mode (may_open is skipped).
                let f = self.alloc_file(Node::Ram(ino), flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC))?;
                return Ok(self.fd_install_lowest(pid, f, flags & O_CLOEXEC != 0)? as i64);
            }
            Err(e) => return Err(e.into()),
        };
        let is_dir = self.node_is_dir(node);
        if flags & O_DIRECTORY != 0 && !is_dir {
            return Err(Errno::ENOTDIR.into());
        }
        if flags & O_PATH == 0 {
            if is_dir && (acc != O_RDONLY || flags & O_CREAT != 0) {
                return Err(Errno::EISDIR.into());
            }
            let mut mask = 0;
            if acc == O_RDONLY || acc == O_RDWR {
                mask |= MAY_READ;
            }
            if acc == O_WRONLY || acc == O_RDWR {
                mask |= MAY_WRITE;
            }
            if flags & O_TRUNC != 0 {
                mask |= MAY_WRITE;
            }
            self.node_permission(&cred, node, mask)?;
            // may_open: writing a file or directory of a read-only filesystem is EROFS.
            if let Node::Ext4(m, _) = node {
                if mask & MAY_WRITE != 0 && self.ext.mounts.get(&m).is_some_and(|x| x.read_only || x.fs.read_only) {
                    return Err(Errno::EROFS.into());
                }
            }
            // proc_maps_open → proc_mem_open: the reader must be allowed to ptrace-read it.
            if let Node::Proc(super::proc::ProcNode::Maps(target)) = node {
                if !self.ptrace_may_access(pid, target) {
                    return Err(Errno::EACCES.into());
                }
            }
            if flags & O_NOATIME != 0 {
                if let Node::Ram(ino) = node {
                    let uid = self.vfs.ram.get(ino).map(|i| i.uid).unwrap_or(0);
                    if !owner_or_capable(&cred, uid) {
                        return Err(Errno::EPERM.into());
                    }
                }
            }
            if flags & O_TRUNC != 0 {
                if let Node::Ext4(m, i) = node {
                    if self.ext_stat((m, i))?.size != 0 {
                        let now = self.ext_now();
                        self.ext_setattr(pid, (m, i), crate::fs::ext4::file::SetAttr { size: Some(0), mtime: Some(now), ctime: Some(now), ..Default::default() })?;
                    }
                }
                if let Node::Ram(ino) = node {
                    let now = self.now_real();
                    if let Some(i) = self.vfs.ram.get_mut(ino) {
                        if let InodeData::Reg(d) = &mut i.data {
                            if !d.is_empty() {
                                d.clear();
                                i.mtime = now;
                                i.ctime = now;
                            }
                        }
                    }
                    self.filemap_refresh(ino);
                }
            }
        }
        let f = self.alloc_file(node, flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC))?;
        Ok(self.fd_install_lowest(pid, f, flags & O_CLOEXEC != 0)? as i64)
    }

    /// The group a new inode in `dir` gets: the directory's group if it is setgid.
    pub(crate) fn new_inode_gid(&self, cred: &Cred, dir: super::Ino) -> u32 {
        match self.vfs.ram.get(dir) {
            Some(d) if d.mode & S_ISGID != 0 => d.gid,
            _ => cred.fsgid,
        }
    }

    pub(crate) fn sys_close(&mut self, pid: Pid, fd: i32) -> SysResult {
        self.close_fd(pid, fd)?;
        Ok(0)
    }

    pub(crate) fn sys_dup(&mut self, pid: Pid, fd: i32) -> SysResult {
        let file = self.fget(pid, fd)?;
        self.files.update(&file, |f| f.refs += 1);
        Ok(self.fd_install_lowest(pid, file, false)? as i64)
    }

    pub(crate) fn sys_dup3(&mut self, pid: Pid, old: i32, new: i32, flags: u32) -> SysResult {
        if flags & !O_CLOEXEC != 0 {
            return Err(Errno::EINVAL.into());
        }
        if old == new {
            return Err(Errno::EINVAL.into());
        }
        let nfd = usize::try_from(new).map_err(|_| Errno::EBADF)?;
        if nfd >= INR_OPEN_CUR {
            return Err(Errno::EBADF.into());
        }
        let file = self.fget(pid, old)?;
        self.files.update(&file, |f| f.refs += 1);
        let tid = self.files_of(pid)?;
        let prev = self.fdtables.get_mut(&tid).and_then(|t| t.install(nfd, FdEntry { file, cloexec: flags & O_CLOEXEC != 0 }));
        if let Some(p) = prev {
            self.fput(p.file);
        }
        Ok(new as i64)
    }

    pub(crate) fn sys_pipe2(&mut self, pid: Pid, fds: u64, flags: u32) -> SysResult {
        if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let cred = self.cred_of(pid)?;
        let p = self.pipe_new(cred.fsuid, cred.fsgid);
        let status = flags & (O_NONBLOCK | O_DIRECT);
        let r = match self.alloc_file(Node::Pipe(p), O_RDONLY | status) {
            Ok(r) => r,
            Err(e) => {
                // No end was made: the pipe has no user to free it later.
                if let Some(pipe) = self.pipes.remove(&p) {
                    self.sched.waitqueues.remove(&pipe.wait);
                }
                return Err(e.into());
            }
        };
        let w = match self.alloc_file(Node::Pipe(p), O_WRONLY | status) {
            Ok(w) => w,
            Err(e) => {
                self.fput(r);
                return Err(e.into());
            }
        };
        let cloexec = flags & O_CLOEXEC != 0;
        let rfd = match self.fd_install_lowest(pid, r, cloexec) {
            Ok(fd) => fd,
            Err(e) => {
                self.fput(w);
                return Err(e.into());
            }
        };
        let wfd = match self.fd_install_lowest(pid, w, cloexec) {
            Ok(fd) => fd,
            Err(e) => {
                let _ = self.close_fd(pid, rfd);
                return Err(e.into());
            }
        };
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&rfd.to_le_bytes());
        out[4..].copy_from_slice(&wfd.to_le_bytes());
        if let Err(e) = self.copy_to_user(pid, fds, &out) {
            let _ = self.close_fd(pid, rfd);
            let _ = self.close_fd(pid, wfd);
            return Err(e.into());
        }
        Ok(0)
    }

    pub(crate) fn sys_mkdirat(&mut self, pid: Pid, dirfd: i32, path: u64, mode: u32) -> SysResult {
        let path = self.getname(pid, path)?;
        let cred = self.cred_of(pid)?;
        let p = self.path_parent(pid, dirfd, &path)?;
        if p.last.is_empty() || p.last == b"." || p.last == b".." || self.path_lookup_from(pid, &p).is_ok() {
            return Err(Errno::EEXIST.into());
        }
        if let Node::Proc(pn) = p.dir {
            // vfs_mkdir: may_create's permission check, then procfs has no ->mkdir
            // (EPERM); /proc/sys answers the write permission itself with EACCES.
            if matches!(pn, super::proc::ProcNode::SysDir(..)) {
                return Err(Errno::EACCES.into());
            }
            self.node_permission(&cred, p.dir, MAY_WRITE | MAY_EXEC)?;
            return Err(Errno::EPERM.into());
        }
        if matches!(p.dir, Node::Ext4(..)) {
            return self.ext_mkdirat(pid, &cred, &p, mode);
        }
        let dir = self.writable_parent(&cred, &p)?;
        let mut m = mode & !self.umask_of(pid) & (S_IRWXUGO | S_ISVTX);
        let gid = self.new_inode_gid(&cred, dir);
        if self.vfs.ram.get(dir).is_some_and(|d| d.mode & S_ISGID != 0) {
            m |= S_ISGID;
        }
        let now = self.now_real();
        self.vfs.ram.create_dir(dir, &p.last, m, cred.fsuid, gid, now);
        Ok(0)
    }

    pub(crate) fn sys_unlinkat(&mut self, pid: Pid, dirfd: i32, path: u64, flags: u32) -> SysResult {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(Errno::EINVAL.into());
        }
        let path = self.getname(pid, path)?;
        let cred = self.cred_of(pid)?;
        let p = self.path_parent(pid, dirfd, &path)?;
        let rmdir = flags & AT_REMOVEDIR != 0;
        // do_rmdir: LAST_DOTDOT, LAST_DOT, LAST_ROOT; do_unlinkat: anything not LAST_NORM.
        match p.last.as_slice() {
            b"" if rmdir => return Err(Errno::EBUSY.into()),
            b"." if rmdir => return Err(Errno::EINVAL.into()),
            b".." if rmdir => return Err(Errno::ENOTEMPTY.into()),
            b"" | b"." | b".." => return Err(Errno::EISDIR.into()),
            _ => {}
        }
        let dir = match p.dir {
            Node::Ram(d) => d,
            Node::Ext4(..) => return self.ext_unlinkat(pid, &cred, &p, rmdir),
            _ => {
                // procfs: may_delete's checks, then no ->unlink/->rmdir: EPERM.
                // /proc/sys directories refuse writes in their ->permission (EACCES).
                let victim = self.path_lookup_from(pid, &p)?;
                if matches!(p.dir, Node::Proc(super::proc::ProcNode::SysDir(..))) {
                    return Err(Errno::EACCES.into());
                }
                self.node_permission(&cred, p.dir, MAY_WRITE | MAY_EXEC)?;
                return Err(match (self.node_is_dir(victim), rmdir) {
                    (false, true) => Errno::ENOTDIR,
                    (true, false) => Errno::EISDIR,
                    _ => Errno::EPERM,
                }
                .into());
            }
        };
        let ino = self.vfs.ram.lookup(dir, &p.last).ok_or(Errno::ENOENT)?;
        let d = self.vfs.ram.get(dir).ok_or(Errno::ENOENT)?;
        let victim = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        // unlink("file/"): the trailing slash makes it ENOTDIR (EISDIR for a directory),
        // before any permission check (do_unlinkat's `slashes` exit).
        if !rmdir && p.trailing_slash {
            return Err(if matches!(victim.data, InodeData::Dir { .. }) { Errno::EISDIR } else { Errno::ENOTDIR }.into());
        }
        inode_permission(&cred, d, MAY_WRITE | MAY_EXEC)?;
        // Sticky directories: only the owner of the file or of the dir (or CAP_FOWNER).
        if d.mode & S_ISVTX != 0 && cred.fsuid != victim.uid && cred.fsuid != d.uid && !capable(&cred, CAP_FOWNER) {
            return Err(Errno::EPERM.into());
        }
        match (&victim.data, rmdir) {
            (InodeData::Dir { entries, .. }, true) => {
                // vfs_rmdir: a mountpoint is busy (checked before the emptiness test).
                if self.vfs.mounts.contains_key(&ino) {
                    return Err(Errno::EBUSY.into());
                }
                if !entries.is_empty() {
                    return Err(Errno::ENOTEMPTY.into());
                }
            }
            (InodeData::Dir { .. }, false) => return Err(Errno::EISDIR.into()),
            (_, true) => return Err(Errno::ENOTDIR.into()),
            (_, false) => {}
        }
        let now = self.now_real();
        self.vfs.ram.unlink(dir, &p.last, now);
        self.maybe_evict(ino);
        Ok(0)
    }

    /// `chmod_common`: owner or CAP_FOWNER; the setgid bit is dropped when the caller is
    /// not in the file's group and lacks CAP_FSETID.
    pub fn do_chmod(&mut self, pid: Pid, cred: &Cred, node: Node, mode: u32) -> Result<(), Errno> {
        if let Node::Ext4(m, i) = node {
            return self.ext_chmod(pid, cred, (m, i), mode);
        }
        let Node::Ram(ino) = node else { return Err(Errno::EPERM) };
        let now = self.now_real();
        let i = self.vfs.ram.get_mut(ino).ok_or(Errno::ENOENT)?;
        if !owner_or_capable(cred, i.uid) {
            return Err(Errno::EPERM);
        }
        let mut m = mode & S_IALLUGO;
        if !cred.in_group(i.gid) && !capable(cred, CAP_FSETID) {
            m &= !S_ISGID;
        }
        i.mode = (i.mode & S_IFMT) | m;
        i.ctime = now;
        Ok(())
    }

    pub(crate) fn sys_fchmodat(&mut self, pid: Pid, dirfd: i32, path: u64, mode: u32) -> SysResult {
        let path = self.getname(pid, path)?;
        let node = self.path_lookup(pid, dirfd, &path)?;
        let cred = self.cred_of(pid)?;
        self.do_chmod(pid, &cred, node, mode)?;
        Ok(0)
    }

    /// `chown_common` + `notify_change`: changing the owner needs CAP_CHOWN; changing the
    /// group needs ownership and membership of the new group, or CAP_CHOWN. On a non-dir the
    /// setuid bit, the setgid bit (when group-executable) and `security.capability` go.
    pub fn do_chown(&mut self, pid: Pid, cred: &Cred, node: Node, uid: u32, gid: u32) -> Result<(), Errno> {
        if let Node::Ext4(m, i) = node {
            return self.ext_chown(pid, cred, (m, i), uid, gid);
        }
        let Node::Ram(ino) = node else { return Err(Errno::EPERM) };
        let now = self.now_real();
        let i = self.vfs.ram.get_mut(ino).ok_or(Errno::ENOENT)?;
        let new_uid = if uid == u32::MAX { i.uid } else { uid };
        let new_gid = if gid == u32::MAX { i.gid } else { gid };
        let chown_ok = (cred.fsuid == i.uid && new_uid == i.uid) || capable(cred, CAP_CHOWN);
        let chgrp_ok = (cred.fsuid == i.uid && (new_gid == i.gid || cred.in_group(new_gid))) || capable(cred, CAP_CHOWN);
        if (uid != u32::MAX && !chown_ok) || (gid != u32::MAX && !chgrp_ok) {
            return Err(Errno::EPERM);
        }
        if i.mode & S_IFMT != S_IFDIR {
            i.kill_suid_sgid();
            i.xattrs.remove(XATTR_NAME_CAPS.as_bytes());
        }
        i.uid = new_uid;
        i.gid = new_gid;
        i.ctime = now;
        Ok(())
    }

    pub(crate) fn sys_fchownat(&mut self, pid: Pid, dirfd: i32, path: u64, uid: u32, gid: u32, flags: u32) -> SysResult {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let path = self.getname(pid, path)?;
        let node = self.at_empty_path_lookup(pid, dirfd, &path, flags)?;
        let cred = self.cred_of(pid)?;
        self.do_chown(pid, &cred, node, uid, gid)?;
        Ok(0)
    }

    /// Looks the last component of a walked path up.
    pub(crate) fn path_lookup_from(&self, pid: Pid, p: &Parent) -> Result<Node, Errno> {
        let node = self.walk_one(pid, p.dir, &p.last)?;
        if p.trailing_slash && !self.node_is_dir(node) {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }
}
