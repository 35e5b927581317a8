//! Regular file contents: read, write (allocating through the block map), truncate,
//! and `setattr` (`ext4_file_write_iter`, `ext4_setattr`, `ext4_truncate`).

use super::indirect::MapCache;
use super::inode::DiskInode;
use super::*;
use crate::uapi::Errno;
use alloc::vec;

/// Attributes to change (`struct iattr`); `None` leaves a field alone. Permission and
/// `ATTR_KILL_S*ID` logic is the VFS's.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    /// New permission bits (the type bits are kept).
    pub mode: Option<u16>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size (truncate / extend).
    pub size: Option<u64>,
    /// New access time.
    pub atime: Option<Time>,
    /// New modification time.
    pub mtime: Option<Time>,
    /// New change time.
    pub ctime: Option<Time>,
}

impl Ext4 {
    /// Reads up to `len` bytes at `off` of an inode's data (holes read as zeroes), not
    /// past i_size.
    pub(crate) fn read_at<B: BlockIo + ?Sized>(&self, io: &mut B, i: &DiskInode, off: u64, len: usize) -> FsResult<Vec<u8>> {
        let size = i.size();
        if off >= size {
            return Ok(Vec::new());
        }
        let end = size.min(off.saturating_add(len as u64));
        let mut out = Vec::with_capacity((end - off) as usize);
        let bs = u64::from(self.block_size);
        let mut pos = off;
        let mut map = MapCache::default();
        while pos < end {
            let lblk = pos / bs;
            let o = (pos % bs) as usize;
            let n = ((bs - o as u64).min(end - pos)) as usize;
            let p = self.bmap_cached(io, i, lblk, &mut map)?;
            if p == 0 {
                out.resize(out.len() + n, 0);
            } else {
                // bread's block, padded to the block size, copied straight out.
                io.read_extend(p, o..o + n, &mut out)?;
            }
            pos += n as u64;
        }
        Ok(out)
    }

    /// A regular file about to change size or contents: `EROFS` on a read-only mount,
    /// `EISDIR` for a directory, `EINVAL` for anything else not regular, corruption for a
    /// map k43 cannot serve.
    fn regular_for_change<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<DiskInode> {
        self.check_rw()?;
        let i = self.read_inode(io, ino)?;
        if i.is_dir() {
            return Err(FsError::Errno(Errno::EISDIR));
        }
        if !i.is_reg() {
            return Err(FsError::Errno(Errno::EINVAL));
        }
        self.check_mapping(&i)?;
        Ok(i)
    }

    /// `read(2)` of inode `ino`: up to `len` bytes at `off`.
    pub fn read<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, off: u64, len: usize) -> FsResult<Vec<u8>> {
        let i = self.read_inode(io, ino)?;
        if i.is_dir() {
            return Err(FsError::Errno(Errno::EISDIR));
        }
        self.check_mapping(&i)?;
        self.read_at(io, &i, off, len)
    }

    /// `write(2)` of `data` at `off` into regular file `ino`: allocates holes and
    /// indirect blocks, read-modify-writes partial blocks, extends i_size, sets
    /// mtime/ctime (`file_update_time`). `EFBIG` at or past the block-mapped limit (the
    /// write is shortened to end there); a write that runs out of space after some bytes
    /// returns the short count, as Linux does.
    pub fn write<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, off: u64, data: &[u8], ctx: &Ctx) -> FsResult<usize> {
        let mut i = self.regular_for_change(io, ino)?;
        if data.is_empty() {
            return Ok(0);
        }
        if off >= self.bitmap_maxbytes {
            return Err(FsError::Errno(Errno::EFBIG));
        }
        let len = (data.len() as u64).min(self.bitmap_maxbytes - off) as usize;
        let bs = u64::from(self.block_size);
        let mut done = 0usize;
        while done < len {
            let pos = off + done as u64;
            let lblk = pos / bs;
            let o = (pos % bs) as usize;
            let n = ((bs as usize) - o).min(len - done);
            let chunk = &data[done..done + n];
            let existing = self.bmap(io, &i, lblk)?;
            let (p, fresh) = if existing != 0 {
                (existing, false)
            } else {
                match self.bmap_alloc(io, &mut i, lblk, ctx) {
                    Ok(r) => r,
                    Err(FsError::Errno(e)) if done > 0 && (e == Errno::ENOSPC || e == Errno::EDQUOT) => break,
                    Err(e) => return Err(e),
                }
            };
            if n == bs as usize {
                io.write_data(p, chunk)?;
            } else {
                let mut b = if fresh { vec![0u8; bs as usize] } else { self.bread(io, p)? };
                b[o..o + n].copy_from_slice(chunk);
                io.write_data(p, &b)?;
            }
            done += n;
        }
        let end = off + done as u64;
        if end > i.size() {
            i.set_size(end);
        }
        i.set_mtime(ctx.now);
        i.set_ctime(ctx.now);
        self.write_inode(io, &i)?;
        Ok(done)
    }

    /// Sets the size of regular file `ino` (`ext4_setattr` with `ATTR_SIZE`): shrinking
    /// zeroes the tail of the new last block and frees the blocks past it; growing only
    /// moves i_size (a hole). `EFBIG` past the block-mapped limit. mtime/ctime are set
    /// when the size changes.
    pub fn truncate<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, size: u64, ctx: &Ctx) -> FsResult<()> {
        let mut i = self.regular_for_change(io, ino)?;
        if size > self.bitmap_maxbytes {
            return Err(FsError::Errno(Errno::EFBIG));
        }
        let old = i.size();
        if size == old {
            return Ok(());
        }
        let bs = u64::from(self.block_size);
        if size < old {
            // block_truncate_page: zero the rest of a partial last block.
            let o = (size % bs) as usize;
            if o != 0 {
                let p = self.bmap(io, &i, size / bs)?;
                if p != 0 {
                    let mut b = self.bread(io, p)?;
                    b[o..].fill(0);
                    io.write_data(p, &b)?;
                }
            }
            self.truncate_blocks(io, &mut i, size.div_ceil(bs))?;
        }
        i.set_size(size);
        i.set_mtime(ctx.now);
        i.set_ctime(ctx.now);
        self.write_inode(io, &i)
    }

    /// `ext4_setattr`: mode, owner, times and size.
    pub fn setattr<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, a: &SetAttr, ctx: &Ctx) -> FsResult<()> {
        self.check_rw()?;
        if let Some(sz) = a.size {
            self.truncate(io, ino, sz, ctx)?;
        }
        let mut i = self.read_inode(io, ino)?;
        if let Some(m) = a.mode {
            i.set_mode((i.mode() & inode::S_IFMT) | (m & 0o7777));
        }
        if let Some(u) = a.uid {
            i.set_uid(u);
        }
        if let Some(g) = a.gid {
            i.set_gid(g);
        }
        if let Some(t) = a.atime {
            i.set_atime(t);
        }
        if let Some(t) = a.mtime {
            i.set_mtime(t);
        }
        if let Some(t) = a.ctime {
            i.set_ctime(t);
        }
        self.write_inode(io, &i)
    }
}
