//! The orphan list (`ext4_orphan_add` / `ext4_orphan_del` / `ext4_orphan_cleanup`) and
//! the final freeing of an inode (`ext4_evict_inode` for an unlinked inode).
//!
//! The list is singly linked through `i_dtime` from `s_last_orphan`; everything lives
//! on disk, so membership is decided by walking it (bounded by the inode count).

use super::inode::DiskInode;
use super::super_block::{off, EXT4_ERROR_FS};
use super::*;
use alloc::format;

impl Ext4 {
    /// The orphan chain from `s_last_orphan`, bounded (a cycle or a bad number is
    /// corruption).
    fn orphan_chain<B: BlockIo + ?Sized>(&self, io: &mut B) -> FsResult<Vec<u32>> {
        let sb = self.read_super(io)?;
        let mut out = Vec::new();
        let mut ino = le32(&sb, off::LAST_ORPHAN);
        while ino != 0 {
            if ino > self.inodes_count || out.len() as u64 > u64::from(self.inodes_count) || out.contains(&ino) {
                return Err(FsError::Corrupted("bad orphan list"));
            }
            out.push(ino);
            ino = self.read_inode(io, ino)?.dtime();
        }
        Ok(out)
    }

    /// `ext4_orphan_add`: puts `ino` at the head of the orphan list (no-op when it is
    /// already on it).
    pub fn orphan_add<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<()> {
        let chain = self.orphan_chain(io)?;
        if chain.contains(&ino) {
            return Ok(());
        }
        let mut sb = self.read_super(io)?;
        let mut i = self.read_inode(io, ino)?;
        i.set_dtime(le32(&sb, off::LAST_ORPHAN));
        self.write_inode(io, &i)?;
        set32(&mut sb, off::LAST_ORPHAN, ino);
        self.write_super(io, &sb)
    }

    /// `ext4_orphan_del`: unlinks `ino` from the orphan list (no-op when absent).
    pub fn orphan_del<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<()> {
        let chain = self.orphan_chain(io)?;
        let Some(pos) = chain.iter().position(|&x| x == ino) else { return Ok(()) };
        let mut i = self.read_inode(io, ino)?;
        let next = i.dtime();
        if pos == 0 {
            let mut sb = self.read_super(io)?;
            set32(&mut sb, off::LAST_ORPHAN, next);
            self.write_super(io, &sb)?;
        } else {
            let mut prev = self.read_inode(io, chain[pos - 1])?;
            prev.set_dtime(next);
            self.write_inode(io, &prev)?;
        }
        i.set_dtime(0);
        self.write_inode(io, &i)
    }

    /// Whether a truncate may touch the inode's i_block (`ext4_can_truncate`).
    pub(crate) fn can_truncate(&self, i: &DiskInode) -> bool {
        i.is_reg() || i.is_dir() || (i.is_symlink() && !i.is_fast_symlink(self.block_size))
    }

    /// Frees an unlinked inode once nothing holds it open (`ext4_evict_inode` with
    /// `i_nlink == 0`): all blocks, the xattr block reference, the orphan entry, then the
    /// inode itself with `i_dtime = now`. A linked inode is left alone.
    pub fn evict_inode<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, ctx: &Ctx) -> FsResult<()> {
        self.check_rw()?;
        let mut i = self.read_inode(io, ino)?;
        if i.links() != 0 {
            return Ok(());
        }
        self.check_mapping(&i)?;
        if self.can_truncate(&i) {
            self.truncate_blocks(io, &mut i, 0)?;
        }
        i.set_size(0);
        self.write_inode(io, &i)?;
        self.xattr_drop_block(io, ino)?;
        self.orphan_del(io, ino)?;
        let mut i = self.read_inode(io, ino)?;
        i.set_dtime(ctx.now.sec as u32);
        self.write_inode(io, &i)?;
        self.free_inode(io, ino, i.is_dir())
    }

    /// `ext4_orphan_cleanup` at mount (read-write, after journal recovery): frees the
    /// unlinked inodes of the list and finishes interrupted truncates. With ERROR_FS set
    /// the list is dropped unprocessed. Returns the messages Linux prints.
    pub fn orphan_cleanup<B: BlockIo + ?Sized>(&self, io: &mut B, ctx: &Ctx) -> FsResult<Vec<String>> {
        let mut msgs = Vec::new();
        let mut sb = self.read_super(io)?;
        if le32(&sb, off::LAST_ORPHAN) == 0 {
            return Ok(msgs);
        }
        if self.read_only {
            msgs.push(format!("EXT4-fs ({}): write access unavailable, skipping orphan cleanup", self.dev_name));
            return Ok(msgs);
        }
        if le16(&sb, off::STATE) & EXT4_ERROR_FS != 0 {
            msgs.push(format!("EXT4-fs ({}): Errors on filesystem, clearing orphan list.", self.dev_name));
            set32(&mut sb, off::LAST_ORPHAN, 0);
            return self.write_super(io, &sb).map(|_| msgs);
        }
        let (mut nr_orphans, mut nr_truncates) = (0u32, 0u32);
        for _ in 0..=self.inodes_count {
            let sb = self.read_super(io)?;
            let ino = le32(&sb, off::LAST_ORPHAN);
            if ino == 0 {
                break;
            }
            if ino < self.first_ino || ino > self.inodes_count {
                msgs.push(format!("EXT4-fs warning (device {}): ext4_orphan_get:{}: bad orphan inode {}", self.dev_name, 0, ino));
                let mut sb = sb;
                set32(&mut sb, off::LAST_ORPHAN, 0);
                self.write_super(io, &sb)?;
                break;
            }
            let mut i = self.read_inode(io, ino)?;
            if i.links() != 0 {
                let size = i.size();
                msgs.push(format!("EXT4-fs ({}): ext4_orphan_cleanup: truncating inode {} to {} bytes", self.dev_name, ino, size));
                if self.can_truncate(&i) {
                    self.check_mapping(&i)?;
                    let keep = size.div_ceil(u64::from(self.block_size));
                    self.truncate_blocks(io, &mut i, keep)?;
                    self.write_inode(io, &i)?;
                }
                self.orphan_del(io, ino)?;
                nr_truncates += 1;
            } else {
                msgs.push(format!("EXT4-fs ({}): ext4_orphan_cleanup: deleting unreferenced inode {}", self.dev_name, ino));
                self.evict_inode(io, ino, ctx)?;
                nr_orphans += 1;
            }
        }
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        if nr_orphans != 0 {
            msgs.push(format!("EXT4-fs ({}): {} orphan inode{} deleted", self.dev_name, nr_orphans, plural(nr_orphans)));
        }
        if nr_truncates != 0 {
            msgs.push(format!("EXT4-fs ({}): {} truncate{} cleaned up", self.dev_name, nr_truncates, plural(nr_truncates)));
        }
        Ok(msgs)
    }
}
