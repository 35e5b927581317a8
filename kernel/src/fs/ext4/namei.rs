//! Name operations (`namei.c`): lookup, create, mknod, mkdir, symlink, link, unlink,
//! rmdir, rename, and directory entry insertion (linear and htree).
//!
//! Atomicity: like every operation of this driver these run against an overlay the
//! caller throws away on any error (a `Need` as well as an errno), the way an aborted
//! handle would; error paths therefore do not undo earlier writes. Checks that can fail
//! (`EEXIST`, `ENOTEMPTY`, `EMLINK`…) are made before anything is written.
//!
//! Permission checks, `sticky`, and "rename into own subdirectory" (`EINVAL`) are the
//! VFS's job and are not repeated here.

use super::dir::{ftype_of_mode, rec_len_for, Found};
use super::inode::*;
use super::*;
use crate::uapi::Errno;
use alloc::vec;

/// What unlink/rmdir/rename leave for the VFS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unlinked {
    /// The inode that lost a link.
    pub ino: u32,
    /// Its link count now; at 0 it is on the orphan list and the VFS must call
    /// [`Ext4::evict_inode`] once the last open reference is gone.
    pub nlink: u16,
}

fn ok_name(name: &[u8]) -> FsResult<()> {
    if name.is_empty() {
        return Err(FsError::Errno(Errno::EINVAL));
    }
    if name.len() > EXT4_NAME_LEN {
        return Err(FsError::Errno(Errno::ENAMETOOLONG));
    }
    Ok(())
}

impl Ext4 {
    fn dir_inode<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<DiskInode> {
        let d = self.read_inode(io, ino)?;
        if !d.is_dir() {
            return Err(FsError::Errno(Errno::ENOTDIR));
        }
        self.check_mapping(&d)?;
        Ok(d)
    }

    /// `ext4_lookup`: the inode `name` names in directory `dir`, or `ENOENT`.
    pub fn lookup<B: BlockIo + ?Sized>(&self, io: &mut B, dir: u32, name: &[u8]) -> FsResult<u32> {
        if name.len() > EXT4_NAME_LEN {
            return Err(FsError::Errno(Errno::ENAMETOOLONG));
        }
        let d = self.dir_inode(io, dir)?;
        match self.find_entry(io, &d, name)? {
            Some(f) => {
                let ino = f.ino;
                let valid = ino == EXT4_ROOT_INO || ino == EXT4_JOURNAL_INO || ino == EXT4_RESIZE_INO || (ino >= self.first_ino && ino <= self.inodes_count);
                if !valid {
                    return Err(FsError::Corrupted("bad inode number"));
                }
                Ok(ino)
            }
            None => Err(FsError::Errno(Errno::ENOENT)),
        }
    }

    /// `ext4_add_entry`: puts `name → ino` into directory `dir_ino` and updates the
    /// directory's mtime/ctime (and size when a block is appended).
    ///
    /// An htree directory gets the entry in the leaf its hash selects. When that leaf is
    /// full, k43 does not split it (`do_split`): it clears the directory's INDEX_FL and
    /// continues linearly, as Linux does for a corrupt index and ext2 for any index —
    /// valid for e2fsck, slower for lookups (divergence). New and linear directories
    /// are never converted to htree (`make_indexed_dir` is not implemented).
    pub fn add_entry<B: BlockIo + ?Sized>(&self, io: &mut B, dir_ino: u32, name: &[u8], ino: u32, ftype: u8, ctx: &Ctx) -> FsResult<()> {
        ok_name(name)?;
        let mut dir = self.dir_inode(io, dir_ino)?;
        let ftype = if self.has_filetype() { ftype } else { 0 };
        let mut placed = false;
        if self.is_dx(&dir) {
            if let Some(path) = self.dx_probe(io, &dir, name)? {
                let (p, mut b) = self.read_dir_block(io, &dir, path.leaf)?;
                if self.add_to_block(&mut b, name, ino, ftype)? {
                    io.write_meta(p, &b)?;
                    placed = true;
                }
            }
            if !placed {
                dir.set_flags(dir.flags() & !EXT4_INDEX_FL);
            }
        } else if dir.flags() & EXT4_INDEX_FL != 0 && !self.has_dir_index() {
            // ext4_update_dx_flag
            dir.set_flags(dir.flags() & !EXT4_INDEX_FL);
        }
        if !placed {
            let n = self.dir_nblocks(&dir)?;
            for lblk in 0..n {
                let (p, mut b) = self.read_dir_block(io, &dir, lblk)?;
                if self.add_to_block(&mut b, name, ino, ftype)? {
                    io.write_meta(p, &b)?;
                    placed = true;
                    break;
                }
            }
        }
        if !placed {
            // ext4_append
            let n = self.dir_nblocks(&dir)?;
            if (n + 1) << self.block_bits > 0x7FFF_FFFF {
                return Err(FsError::Errno(Errno::ENOSPC));
            }
            let (p, _) = self.bmap_alloc(io, &mut dir, n, ctx)?;
            let mut b = vec![0u8; self.block_size as usize];
            set16(&mut b, 4, self.block_size as u16);
            if !self.add_to_block(&mut b, name, ino, ftype)? {
                return Err(FsError::Errno(Errno::ENOSPC));
            }
            io.write_meta(p, &b)?;
            dir.set_size((n + 1) << self.block_bits);
        }
        dir.set_mtime(ctx.now);
        dir.set_ctime(ctx.now);
        self.write_inode(io, &dir)
    }

    /// Removes the entry `found` from `dir_ino` and updates its mtime/ctime.
    fn delete_entry<B: BlockIo + ?Sized>(&self, io: &mut B, dir_ino: u32, found: &Found, ctx: &Ctx) -> FsResult<()> {
        let mut b = self.bread(io, found.pblk)?;
        self.delete_in_block(&mut b, found.off)?;
        io.write_meta(found.pblk, &b)?;
        let mut dir = self.read_inode(io, dir_ino)?;
        dir.set_mtime(ctx.now);
        dir.set_ctime(ctx.now);
        self.write_inode(io, &dir)
    }

    fn find_in<B: BlockIo + ?Sized>(&self, io: &mut B, dir_ino: u32, name: &[u8]) -> FsResult<Option<Found>> {
        let d = self.dir_inode(io, dir_ino)?;
        self.find_entry(io, &d, name)
    }

    fn add_links<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, delta: i32, ctx: &Ctx) -> FsResult<u16> {
        let mut i = self.read_inode(io, ino)?;
        let n = i32::from(i.links());
        if delta < 0 && i.is_dir() && n <= 2 {
            // ext4_dec_count: a directory at 2 (or 1, dir_nlink) links keeps them.
            i.set_ctime(ctx.now);
            self.write_inode(io, &i)?;
            return Ok(i.links());
        }
        let v = (n + delta).clamp(0, i32::from(u16::MAX)) as u16;
        i.set_links(v);
        i.set_ctime(ctx.now);
        self.write_inode(io, &i)?;
        Ok(v)
    }

    fn create_common<B: BlockIo + ?Sized>(&self, io: &mut B, dir_ino: u32, name: &[u8], mode: u16, ctx: &Ctx, init: impl FnOnce(&Self, &mut B, &mut DiskInode) -> FsResult<()>) -> FsResult<u32> {
        self.check_rw()?;
        ok_name(name)?;
        let dir = self.dir_inode(io, dir_ino)?;
        if self.find_entry(io, &dir, name)?.is_some() {
            return Err(FsError::Errno(Errno::EEXIST));
        }
        let mut n = self.new_inode(io, &dir, mode, ctx)?;
        n.set_links(1);
        init(self, io, &mut n)?;
        self.write_inode(io, &n)?;
        self.add_entry(io, dir_ino, name, n.ino, ftype_of_mode(mode), ctx)?;
        Ok(n.ino)
    }

    /// `ext4_create`: a new empty regular file (`mode` permission bits; the type bits
    /// are forced to S_IFREG).
    pub fn create<B: BlockIo + ?Sized>(&self, io: &mut B, dir: u32, name: &[u8], mode: u16, ctx: &Ctx) -> FsResult<u32> {
        self.create_common(io, dir, name, S_IFREG | (mode & 0o7777), ctx, |_, _, _| Ok(()))
    }

    /// `ext4_mknod`: a device node, FIFO or socket (`mode` includes the type).
    pub fn mknod<B: BlockIo + ?Sized>(&self, io: &mut B, dir: u32, name: &[u8], mode: u16, rdev: (u32, u32), ctx: &Ctx) -> FsResult<u32> {
        let t = mode & S_IFMT;
        if ![S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK, S_IFREG].contains(&t) {
            return Err(FsError::Errno(Errno::EINVAL));
        }
        self.create_common(io, dir, name, mode, ctx, |_, _, n| {
            if t == S_IFCHR || t == S_IFBLK {
                n.set_rdev(rdev.0, rdev.1);
            }
            Ok(())
        })
    }

    /// `ext4_symlink`: fast (target in i_block) when `target.len() + 1 <= 60`, else one
    /// block holding the target. `ENAMETOOLONG` when it does not fit a block.
    pub fn symlink<B: BlockIo + ?Sized>(&self, io: &mut B, dir: u32, name: &[u8], target: &[u8], ctx: &Ctx) -> FsResult<u32> {
        if target.len() + 1 > self.block_size as usize {
            return Err(FsError::Errno(Errno::ENAMETOOLONG));
        }
        self.create_common(io, dir, name, S_IFLNK | 0o777, ctx, |fs, io, n| {
            if target.len() < 60 {
                let mut raw = [0u8; 60];
                raw[..target.len()].copy_from_slice(target);
                for i in 0..15 {
                    n.set_block_ptr(i, le32(&raw, i * 4));
                }
            } else {
                let (p, _) = fs.bmap_alloc(io, n, 0, ctx)?;
                let mut b = vec![0u8; fs.block_size as usize];
                b[..target.len()].copy_from_slice(target);
                io.write_meta(p, &b)?;
            }
            n.set_size(target.len() as u64);
            Ok(())
        })
    }

    /// `ext4_mkdir`: `.` and `..` in one block, 2 links, parent + 1. `EMLINK` when the
    /// parent has `EXT4_LINK_MAX` links — for indexed directories too: k43 never turns
    /// on dir_nlink on an ext3 filesystem (project rule, divergence from 4.3).
    pub fn mkdir<B: BlockIo + ?Sized>(&self, io: &mut B, dir_ino: u32, name: &[u8], mode: u16, ctx: &Ctx) -> FsResult<u32> {
        self.check_rw()?;
        ok_name(name)?;
        let dir = self.dir_inode(io, dir_ino)?;
        if dir.links() >= EXT4_LINK_MAX {
            return Err(FsError::Errno(Errno::EMLINK));
        }
        if self.find_entry(io, &dir, name)?.is_some() {
            return Err(FsError::Errno(Errno::EEXIST));
        }
        let mut n = self.new_inode(io, &dir, S_IFDIR | (mode & 0o7777), ctx)?;
        let (p, _) = self.bmap_alloc(io, &mut n, 0, ctx)?;
        let bs = self.block_size as usize;
        let mut b = vec![0u8; bs];
        self.write_dirent(&mut b, 0, n.ino, rec_len_for(1), b".", dir::ft::DIR);
        self.write_dirent(&mut b, 12, dir_ino, bs - 12, b"..", dir::ft::DIR);
        io.write_meta(p, &b)?;
        n.set_size(bs as u64);
        n.set_links(2);
        self.write_inode(io, &n)?;
        self.add_entry(io, dir_ino, name, n.ino, dir::ft::DIR, ctx)?;
        self.add_links(io, dir_ino, 1, ctx)?;
        Ok(n.ino)
    }

    /// `ext4_link`: a new name for `ino`. `EMLINK` at `EXT4_LINK_MAX`; an inode with no
    /// links (O_TMPFILE) leaves the orphan list.
    pub fn link<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, dir_ino: u32, name: &[u8], ctx: &Ctx) -> FsResult<()> {
        self.check_rw()?;
        ok_name(name)?;
        let i = self.read_inode(io, ino)?;
        if i.is_dir() {
            return Err(FsError::Errno(Errno::EPERM));
        }
        if i.links() >= EXT4_LINK_MAX {
            return Err(FsError::Errno(Errno::EMLINK));
        }
        if self.find_in(io, dir_ino, name)?.is_some() {
            return Err(FsError::Errno(Errno::EEXIST));
        }
        self.add_entry(io, dir_ino, name, ino, ftype_of_mode(i.mode()), ctx)?;
        let was = i.links();
        self.add_links(io, ino, 1, ctx)?;
        if was == 0 {
            self.orphan_del(io, ino)?;
        }
        Ok(())
    }

    /// `ext4_unlink`: removes a non-directory name; at 0 links the inode goes on the
    /// orphan list (freed by [`Ext4::evict_inode`]).
    pub fn unlink<B: BlockIo + ?Sized>(&self, io: &mut B, dir_ino: u32, name: &[u8], ctx: &Ctx) -> FsResult<Unlinked> {
        self.check_rw()?;
        let f = self.find_in(io, dir_ino, name)?.ok_or(FsError::Errno(Errno::ENOENT))?;
        let i = self.read_inode(io, f.ino)?;
        if i.is_dir() {
            return Err(FsError::Errno(Errno::EISDIR));
        }
        self.delete_entry(io, dir_ino, &f, ctx)?;
        let mut i = self.read_inode(io, f.ino)?;
        if i.links() == 0 {
            // "Deleting nonexistent file"
            i.set_links(1);
        }
        i.set_links(i.links() - 1);
        i.set_ctime(ctx.now);
        self.write_inode(io, &i)?;
        if i.links() == 0 {
            self.orphan_add(io, f.ino)?;
        }
        Ok(Unlinked { ino: f.ino, nlink: i.links() })
    }

    /// `empty_dir`: only `.`, `..` and unused entries.
    pub fn dir_is_empty<B: BlockIo + ?Sized>(&self, io: &mut B, d: &DiskInode) -> FsResult<bool> {
        let n = self.dir_nblocks(d)?;
        if n == 0 {
            return Ok(true);
        }
        for lblk in 0..n {
            let (_, b) = self.read_dir_block(io, d, lblk)?;
            for (k, de) in self.parse_dir_block(&b)?.iter().enumerate() {
                if lblk == 0 && k < 2 {
                    continue;
                }
                if de.ino != 0 {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// `ext4_rmdir`: `ENOTEMPTY` unless empty; the directory loses all links and goes on
    /// the orphan list, the parent loses one.
    pub fn rmdir<B: BlockIo + ?Sized>(&self, io: &mut B, dir_ino: u32, name: &[u8], ctx: &Ctx) -> FsResult<Unlinked> {
        self.check_rw()?;
        if name == b"." {
            return Err(FsError::Errno(Errno::EINVAL));
        }
        if name == b".." {
            return Err(FsError::Errno(Errno::ENOTEMPTY));
        }
        let f = self.find_in(io, dir_ino, name)?.ok_or(FsError::Errno(Errno::ENOENT))?;
        let i = self.read_inode(io, f.ino)?;
        if !i.is_dir() {
            return Err(FsError::Errno(Errno::ENOTDIR));
        }
        self.check_mapping(&i)?;
        if !self.dir_is_empty(io, &i)? {
            return Err(FsError::Errno(Errno::ENOTEMPTY));
        }
        self.delete_entry(io, dir_ino, &f, ctx)?;
        let mut i = self.read_inode(io, f.ino)?;
        i.set_links(0);
        i.set_ctime(ctx.now);
        self.write_inode(io, &i)?;
        self.orphan_add(io, f.ino)?;
        self.add_links(io, dir_ino, -1, ctx)?;
        Ok(Unlinked { ino: f.ino, nlink: 0 })
    }

    /// `ext4_rename` (no flags): moves `old_name` of `old_dir` to `new_name` of
    /// `new_dir`, replacing an existing target (which must be an empty directory when
    /// the source is one). Returns the replaced inode's new link count, if any.
    pub fn rename<B: BlockIo + ?Sized>(&self, io: &mut B, old_dir: u32, old_name: &[u8], new_dir: u32, new_name: &[u8], ctx: &Ctx) -> FsResult<Option<Unlinked>> {
        self.check_rw()?;
        ok_name(new_name)?;
        let old = self.find_in(io, old_dir, old_name)?.ok_or(FsError::Errno(Errno::ENOENT))?;
        let oi = self.read_inode(io, old.ino)?;
        let new = self.find_in(io, new_dir, new_name)?;
        let is_dir = oi.is_dir();
        if let Some(n) = &new {
            if n.ino == old.ino {
                return Ok(None);
            }
            let ni = self.read_inode(io, n.ino)?;
            if is_dir {
                if !ni.is_dir() {
                    return Err(FsError::Errno(Errno::ENOTDIR));
                }
                if !self.dir_is_empty(io, &ni)? {
                    return Err(FsError::Errno(Errno::ENOTEMPTY));
                }
            } else if ni.is_dir() {
                return Err(FsError::Errno(Errno::EISDIR));
            }
        } else if is_dir && old_dir != new_dir {
            let nd = self.dir_inode(io, new_dir)?;
            if nd.links() >= EXT4_LINK_MAX {
                return Err(FsError::Errno(Errno::EMLINK));
            }
        }
        let ftype = if self.has_filetype() { ftype_of_mode(oi.mode()) } else { 0 };
        match &new {
            Some(n) => {
                // ext4_setent
                let mut b = self.bread(io, n.pblk)?;
                set32(&mut b, n.off, old.ino);
                if self.has_filetype() {
                    if let Some(x) = b.get_mut(n.off + 7) {
                        *x = ftype;
                    }
                }
                io.write_meta(n.pblk, &b)?;
                let mut d = self.read_inode(io, new_dir)?;
                d.set_mtime(ctx.now);
                d.set_ctime(ctx.now);
                self.write_inode(io, &d)?;
            }
            None => self.add_entry(io, new_dir, new_name, old.ino, ftype, ctx)?,
        }
        let mut oi = self.read_inode(io, old.ino)?;
        oi.set_ctime(ctx.now);
        self.write_inode(io, &oi)?;
        // The old entry may have moved if the insertion touched its block: find it again.
        let old_again = self.find_in(io, old_dir, old_name)?;
        match old_again {
            Some(f) if f.ino == old.ino => self.delete_entry(io, old_dir, &f, ctx)?,
            _ => return Err(FsError::Corrupted("rename source vanished")),
        }
        let mut replaced = None;
        if let Some(n) = &new {
            let left = self.add_links(io, n.ino, -1, ctx)?;
            replaced = Some(Unlinked { ino: n.ino, nlink: left });
        }
        if is_dir {
            // ext4_rename_dir_finish: '..' of the moved directory.
            let oi = self.read_inode(io, old.ino)?;
            let (p, mut b) = self.read_dir_block(io, &oi, 0)?;
            let des = self.parse_dir_block(&b)?;
            let dd = des.get(1).ok_or(FsError::Corrupted("directory without .."))?;
            if dd.name_len != 2 || b.get(dd.off + 8..dd.off + 10) != Some(b"..") {
                return Err(FsError::Corrupted("directory without .."));
            }
            set32(&mut b, dd.off, new_dir);
            io.write_meta(p, &b)?;
            self.add_links(io, old_dir, -1, ctx)?;
            match &new {
                Some(n) => {
                    let mut ni = self.read_inode(io, n.ino)?;
                    ni.set_links(0);
                    self.write_inode(io, &ni)?;
                    replaced = Some(Unlinked { ino: n.ino, nlink: 0 });
                }
                None => {
                    self.add_links(io, new_dir, 1, ctx)?;
                }
            }
        }
        if let Some(r) = replaced {
            if r.nlink == 0 {
                self.orphan_add(io, r.ino)?;
            }
        }
        Ok(replaced)
    }
}
