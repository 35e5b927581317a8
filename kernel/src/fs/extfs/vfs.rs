//! What the VFS calls for an ext3 inode: one function per inode or file operation, each
//! one restartable operation. They return `Errno`, with `ERESTARTSYS` meaning "the task
//! is parked on the mount; the syscall re-runs" (it becomes `SysErr::Block` as for a
//! userfault), so that path walking and the syscalls can call them like ramfs code.
//!
//! Not modelled: `relatime` (reads never change atime — k43's ext3 mounts behave as
//! `noatime`; Linux 4.3 defaults to relatime), POSIX ACLs.

use super::MntId;
use crate::fs::buffer::{BlockIo, FsResult};
use crate::fs::ext4::dir::DirEntry;
use crate::fs::ext4::file::SetAttr;
use crate::fs::ext4::inode::Stat;
use crate::fs::ext4::{Ext4, Time, EXT4_ROOT_INO};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysErr;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// An ext3 inode as the VFS names it.
pub type ExtIno = (MntId, u32);

fn block_to_restart(e: SysErr) -> Errno {
    match e {
        SysErr::Errno(e) => e,
        SysErr::Block | SysErr::Gone => Errno::ERESTARTSYS,
    }
}

impl<H: Hal> Kernel<H> {
    /// Runs `f` as one operation of `pid` on `mnt` (see [`Kernel::ext_op`]).
    fn ext_call<R>(&mut self, pid: Pid, mnt: MntId, write: bool, f: impl FnOnce(&Ext4, &mut dyn BlockIo) -> FsResult<R>) -> Result<R, Errno> {
        self.ext_op(pid, mnt, write, f).map_err(block_to_restart)
    }

    /// The root inode of a mount.
    pub(crate) fn ext_root(mnt: MntId) -> ExtIno {
        (mnt, EXT4_ROOT_INO)
    }

    /// `ext4_lookup`: the inode `name` names in directory `dir` (`ENOENT`).
    pub(crate) fn ext_lookup(&self, (mnt, dir): ExtIno, name: &[u8]) -> Result<u32, Errno> {
        self.ext_peek(mnt, |fs, io| fs.lookup(io, dir, name))
    }

    /// `ext4_getattr`.
    pub(crate) fn ext_stat(&self, (mnt, ino): ExtIno) -> Result<Stat, Errno> {
        self.ext_peek(mnt, |fs, io| fs.stat(io, ino))
    }

    /// `ext4_file_read_iter`: up to `len` bytes at `pos`.
    pub(crate) fn ext_read(&mut self, pid: Pid, (mnt, ino): ExtIno, pos: u64, len: usize) -> Result<Vec<u8>, Errno> {
        self.ext_call(pid, mnt, false, |fs, io| fs.read(io, ino, pos, len))
    }

    /// `ext4_file_write_iter`: `data` at `pos`; drops set-id bits unless the caller has
    /// `CAP_FSETID` (`file_remove_privs`).
    pub(crate) fn ext_write(&mut self, pid: Pid, (mnt, ino): ExtIno, pos: u64, data: &[u8], kill_suid: bool) -> Result<usize, Errno> {
        let ctx = self.ext_ctx(pid);
        self.ext_call(pid, mnt, true, |fs, io| {
            if kill_suid {
                let st = fs.stat(io, ino)?;
                let mode = crate::fs::killed_suid_sgid(u32::from(st.mode & 0o7777)) as u16;
                if mode != st.mode & 0o7777 {
                    fs.setattr(io, ino, &SetAttr { mode: Some(mode), ctime: Some(ctx.now), ..SetAttr::default() }, &ctx)?;
                }
            }
            fs.write(io, ino, pos, data, &ctx)
        })
    }

    /// `ext4_setattr`.
    pub(crate) fn ext_setattr(&mut self, pid: Pid, (mnt, ino): ExtIno, a: SetAttr) -> Result<(), Errno> {
        let ctx = self.ext_ctx(pid);
        self.ext_call(pid, mnt, true, |fs, io| fs.setattr(io, ino, &a, &ctx))
    }

    /// `ext4_create`/`ext4_mkdir`/`ext4_symlink`: a new inode named `name` in `dir`.
    pub(crate) fn ext_create(&mut self, pid: Pid, (mnt, dir): ExtIno, name: &[u8], mode: u32, symlink: Option<&[u8]>) -> Result<u32, Errno> {
        let ctx = self.ext_ctx(pid);
        let m = (mode & 0o177777) as u16;
        self.ext_call(pid, mnt, true, |fs, io| match (symlink, mode & crate::uapi::stat::S_IFMT) {
            (Some(t), _) => fs.symlink(io, dir, name, t, &ctx),
            (None, crate::uapi::stat::S_IFDIR) => fs.mkdir(io, dir, name, m & 0o7777, &ctx),
            (None, _) => fs.create(io, dir, name, m, &ctx),
        })
    }

    /// `ext4_link`.
    pub(crate) fn ext_link(&mut self, pid: Pid, (mnt, ino): ExtIno, dir: u32, name: &[u8]) -> Result<(), Errno> {
        let ctx = self.ext_ctx(pid);
        self.ext_call(pid, mnt, true, |fs, io| fs.link(io, ino, dir, name, &ctx))
    }

    /// `ext4_unlink` / `ext4_rmdir`; an inode left without links and not open is
    /// evicted right away, else at its last close.
    pub(crate) fn ext_unlink(&mut self, pid: Pid, (mnt, dir): ExtIno, name: &[u8], rmdir: bool) -> Result<(), Errno> {
        let ctx = self.ext_ctx(pid);
        let u = self.ext_call(pid, mnt, true, |fs, io| if rmdir { fs.rmdir(io, dir, name, &ctx) } else { fs.unlink(io, dir, name, &ctx) })?;
        if u.nlink == 0 {
            self.ext_iput(mnt, u.ino);
        }
        Ok(())
    }

    /// `ext4_rename`.
    pub(crate) fn ext_rename(&mut self, pid: Pid, mnt: MntId, old_dir: u32, old_name: &[u8], new_dir: u32, new_name: &[u8]) -> Result<(), Errno> {
        let ctx = self.ext_ctx(pid);
        let u = self.ext_call(pid, mnt, true, |fs, io| fs.rename(io, old_dir, old_name, new_dir, new_name, &ctx))?;
        if let Some(u) = u.filter(|u| u.nlink == 0) {
            self.ext_iput(mnt, u.ino);
        }
        Ok(())
    }

    /// `ext4_readdir`: entries from position `pos`, at most `max`.
    pub(crate) fn ext_readdir(&self, (mnt, ino): ExtIno, pos: u64, max: usize) -> Result<Vec<DirEntry>, Errno> {
        self.ext_peek(mnt, |fs, io| fs.readdir_hashed(io, ino, pos, max))
    }

    /// `ext4_readlink` (`page_get_link` or the fast symlink's inline target).
    pub(crate) fn ext_readlink(&self, (mnt, ino): ExtIno) -> Result<Vec<u8>, Errno> {
        self.ext_peek(mnt, |fs, io| fs.readlink(io, ino))
    }

    /// `ext4_xattr_get`.
    pub(crate) fn ext_getxattr(&self, (mnt, ino): ExtIno, name: &[u8]) -> Result<Vec<u8>, Errno> {
        self.ext_peek(mnt, |fs, io| fs.get_xattr(io, ino, name))
    }

    /// `ext4_listxattr`: the names.
    pub(crate) fn ext_listxattr(&self, (mnt, ino): ExtIno) -> Result<Vec<Vec<u8>>, Errno> {
        self.ext_peek(mnt, |fs, io| fs.list_xattr(io, ino))
    }

    /// `ext4_xattr_set` (`None` removes).
    pub(crate) fn ext_setxattr(&mut self, pid: Pid, (mnt, ino): ExtIno, name: &[u8], value: Option<&[u8]>, flags: u32) -> Result<(), Errno> {
        let ctx = self.ext_ctx(pid);
        self.ext_call(pid, mnt, true, |fs, io| fs.set_xattr(io, ino, name, value, flags, &ctx))
    }

    /// `ext4_statfs`.
    pub(crate) fn ext_statfs(&self, mnt: MntId) -> Result<crate::fs::ext4::Statfs, Errno> {
        self.ext_peek(mnt, |fs, io| fs.statfs(io))
    }

    /// `ext4_sync_file` / `sync_filesystem`: the running transaction commits and the
    /// call returns once it has.
    pub(crate) fn ext_fsync(&mut self, pid: Pid, mnt: MntId) -> Result<(), Errno> {
        self.ext_sync(pid, mnt).map_err(block_to_restart)
    }

    /// The last reference to an inode went: one without links is evicted (in the
    /// background: a block it needs is read first).
    pub(crate) fn ext_iput(&mut self, mnt: MntId, ino: u32) {
        let node = crate::fs::Node::Ext4(mnt, ino);
        if self.files.any(|f| f.node == node) {
            return;
        }
        if let Some(m) = self.ext.mounts.get_mut(&mnt) {
            m.evict_pending.insert(ino);
        }
        self.ext_evict_pending(mnt);
    }

    /// Evicts the unlinked inodes whose last reference went (`ext4_evict_inode`), each
    /// as its own operation, as far as the cache allows; the rest wait for their blocks.
    pub(crate) fn ext_evict_pending(&mut self, mnt: MntId) {
        let Some(m) = self.ext.mounts.get(&mnt) else { return };
        if m.read_only {
            return;
        }
        let pending: Vec<u32> = m.evict_pending.iter().copied().collect();
        let ctx = self.ext_ctx(0);
        for ino in pending {
            let evict = |fs: &Ext4, io: &mut dyn BlockIo| {
                // Only an inode without links goes (a link may have come back).
                if fs.stat(io, ino)?.nlink != 0 {
                    return Ok(());
                }
                fs.evict_inode(io, ino, &ctx)
            };
            if self.ext_op_background(mnt, evict) {
                if let Some(m) = self.ext.mounts.get_mut(&mnt) {
                    m.evict_pending.remove(&ino);
                }
            }
        }
    }

    /// The time stamps an operation of `pid` would write now.
    pub(crate) fn ext_now(&self) -> Time {
        self.ext_ctx(0).now
    }
}
