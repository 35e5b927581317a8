//! Directory blocks (`ext4_dir_entry_2`), linear search, readdir, entry insertion and
//! deletion inside a block, and the htree (dx) index walk of `namei.c`.

use super::hash::{dirhash, DxHash};
use super::inode::{self as ino_mod, DiskInode, EXT4_INDEX_FL};
use super::*;
use crate::uapi::Errno;

/// `EXT4_DIR_REC_LEN`: bytes an entry with a `len`-byte name needs.
pub const fn rec_len_for(len: usize) -> usize {
    (len + 8 + 3) & !3
}

/// File types stored in dirents (`EXT4_FT_*`).
pub mod ft {
    #![allow(missing_docs)]
    pub const UNKNOWN: u8 = 0;
    pub const REG_FILE: u8 = 1;
    pub const DIR: u8 = 2;
    pub const CHRDEV: u8 = 3;
    pub const BLKDEV: u8 = 4;
    pub const FIFO: u8 = 5;
    pub const SOCK: u8 = 6;
    pub const SYMLINK: u8 = 7;
}

/// The dirent file type of an inode mode (`ext4_type_by_mode`).
pub fn ftype_of_mode(mode: u16) -> u8 {
    match mode & ino_mod::S_IFMT {
        ino_mod::S_IFREG => ft::REG_FILE,
        ino_mod::S_IFDIR => ft::DIR,
        ino_mod::S_IFCHR => ft::CHRDEV,
        ino_mod::S_IFBLK => ft::BLKDEV,
        ino_mod::S_IFIFO => ft::FIFO,
        ino_mod::S_IFSOCK => ft::SOCK,
        ino_mod::S_IFLNK => ft::SYMLINK,
        _ => ft::UNKNOWN,
    }
}

/// One directory entry as readdir returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u32,
    /// Name bytes.
    pub name: Vec<u8>,
    /// Dirent file type (0 without the filetype feature).
    pub file_type: u8,
    /// readdir position just after this entry (`(lblk << bits) + offset`).
    pub next_pos: u64,
}

/// `EXT4_HTREE_EOF_64BIT`: the position after the last entry of a hash-order readdir.
pub const HTREE_EOF_64BIT: u64 = 0x7FFF_FFFF_FFFF_FFFF;

/// One parsed entry of a block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawDe {
    pub off: usize,
    pub ino: u32,
    pub rec_len: usize,
    pub name_len: usize,
    pub ftype: u8,
}

/// Where a name was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Logical block of the directory.
    pub lblk: u64,
    /// Physical block.
    pub pblk: u64,
    /// Byte offset of the entry.
    pub off: usize,
    /// Inode it names.
    pub ino: u32,
}

impl Ext4 {
    /// Parses and checks every entry of one directory block (`ext4_check_dir_entry`).
    pub(crate) fn parse_dir_block(&self, b: &[u8]) -> FsResult<Vec<RawDe>> {
        let mut out = Vec::new();
        let mut off = 0usize;
        let size = b.len();
        while off < size {
            let ino = le32(b, off);
            let rec_len = usize::from(le16(b, off + 4));
            let name_len = if self.has_filetype() { usize::from(*b.get(off + 6).unwrap_or(&0)) } else { usize::from(le16(b, off + 6)) };
            let ftype = if self.has_filetype() { *b.get(off + 7).unwrap_or(&0) } else { 0 };
            if rec_len < rec_len_for(1) {
                return Err(FsError::Corrupted("bad entry in directory: rec_len is smaller than minimal"));
            }
            if rec_len % 4 != 0 {
                return Err(FsError::Corrupted("bad entry in directory: rec_len % 4 != 0"));
            }
            if rec_len < rec_len_for(name_len) {
                return Err(FsError::Corrupted("bad entry in directory: rec_len is too small for name_len"));
            }
            if off + rec_len > size {
                return Err(FsError::Corrupted("bad entry in directory: directory entry across range"));
            }
            if ino > self.inodes_count {
                return Err(FsError::Corrupted("bad entry in directory: inode out of bounds"));
            }
            out.push(RawDe { off, ino, rec_len, name_len, ftype });
            off += rec_len;
        }
        Ok(out)
    }

    /// Number of blocks of a directory (bounded by the filesystem size).
    pub(crate) fn dir_nblocks(&self, dir: &DiskInode) -> FsResult<u64> {
        let n = dir.size() >> self.block_bits;
        if n > self.blocks_count {
            return Err(FsError::Corrupted("directory size too large"));
        }
        Ok(n)
    }

    /// Reads directory block `lblk` (`ext4_read_dirblock`: a hole is corruption).
    pub(crate) fn read_dir_block<B: BlockIo + ?Sized>(&self, io: &mut B, dir: &DiskInode, lblk: u64) -> FsResult<(u64, Vec<u8>)> {
        let p = self.bmap(io, dir, lblk)?;
        if p == 0 {
            return Err(FsError::Corrupted("Directory hole found"));
        }
        Ok((p, self.bread(io, p)?))
    }

    /// Looks `name` up in one block.
    fn search_block(&self, b: &[u8], name: &[u8]) -> FsResult<Option<(usize, u32)>> {
        for de in self.parse_dir_block(b)? {
            if de.ino != 0 && de.name_len == name.len() && b.get(de.off + 8..de.off + 8 + de.name_len) == Some(name) {
                return Ok(Some((de.off, de.ino)));
            }
        }
        Ok(None)
    }

    /// Whether `dir` is an htree directory (`is_dx`).
    pub fn is_dx(&self, dir: &DiskInode) -> bool {
        self.has_dir_index() && dir.flags() & EXT4_INDEX_FL != 0
    }

    /// `ext4_find_entry`: the htree path when the index is sound, else (or when the
    /// index is malformed) a linear scan of every block.
    pub fn find_entry<B: BlockIo + ?Sized>(&self, io: &mut B, dir: &DiskInode, name: &[u8]) -> FsResult<Option<Found>> {
        if name.is_empty() || name.len() > EXT4_NAME_LEN {
            return Ok(None);
        }
        // "." and ".." are only in the first block, outside any htree index (what
        // ext4_find_entry does for them; ext4_get_parent looks ".." up this way).
        if name == b"." || name == b".." {
            if self.dir_nblocks(dir)? == 0 {
                return Ok(None);
            }
            let (p, b) = self.read_dir_block(io, dir, 0)?;
            return Ok(self.search_block(&b, name)?.map(|(off, ino)| Found { lblk: 0, pblk: p, off, ino }));
        }
        if self.is_dx(dir) {
            if let Some(r) = self.dx_find_entry(io, dir, name)? {
                return Ok(r);
            }
            // ERR_BAD_DX_DIR: fall back to the linear scan.
        }
        for lblk in 0..self.dir_nblocks(dir)? {
            let (p, b) = self.read_dir_block(io, dir, lblk)?;
            if let Some((off, ino)) = self.search_block(&b, name)? {
                return Ok(Some(Found { lblk, pblk: p, off, ino }));
            }
        }
        Ok(None)
    }

    /// readdir from position `pos` (`(lblk << bits) + offset`), at most `max` entries.
    /// Positions are physical (as `ext4_readdir` without the htree order).
    pub fn readdir<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, pos: u64, max: usize) -> FsResult<Vec<DirEntry>> {
        let dir = self.read_inode(io, ino)?;
        if !dir.is_dir() {
            return Err(FsError::Errno(Errno::ENOTDIR));
        }
        self.check_mapping(&dir)?;
        let mut out = Vec::new();
        let n = self.dir_nblocks(&dir)?;
        let mut lblk = pos >> self.block_bits;
        let mut start = (pos & u64::from(self.block_size - 1)) as usize;
        while lblk < n && out.len() < max {
            let (_, b) = self.read_dir_block(io, &dir, lblk)?;
            for de in self.parse_dir_block(&b)? {
                if de.off < start {
                    continue;
                }
                if out.len() >= max {
                    return Ok(out);
                }
                if de.ino != 0 {
                    out.push(DirEntry {
                        ino: de.ino,
                        name: b[de.off + 8..de.off + 8 + de.name_len].to_vec(),
                        file_type: de.ftype,
                        next_pos: (lblk << self.block_bits) + (de.off + de.rec_len) as u64,
                    });
                }
            }
            lblk += 1;
            start = 0;
        }
        Ok(out)
    }

    /// `ext4_readdir` as 4.3 does it for getdents: a directory that `is_dx_dir` (an
    /// indexed one, or any one-block directory of a `dir_index` filesystem) is read in
    /// hash order (`ext4_dx_readdir`), positions being `hash2pos` of each entry's (major,
    /// minor) hash for a 64-bit caller and `EXT4_HTREE_EOF_64BIT` at the end; `.` and
    /// `..` of an indexed directory sort first with hashes 0 and 2, as
    /// `ext4_htree_fill_tree` stores them. Other directories are read in block order.
    /// `next_pos` of each entry is the position of the one after it.
    /// Not modelled: entries whose hashes collide across a `max` boundary restart at
    /// the first of them (Linux keeps them in `info->extra_fname`).
    pub fn readdir_hashed<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, pos: u64, max: usize) -> FsResult<Vec<DirEntry>> {
        let dir = self.read_inode(io, ino)?;
        if !dir.is_dir() {
            return Err(FsError::Errno(Errno::ENOTDIR));
        }
        let indexed = self.is_dx(&dir);
        let one_block = dir.size() >> self.block_bits == 1;
        if !self.has_dir_index() || !(indexed || one_block) {
            return self.readdir(io, ino, pos, max);
        }
        if pos == HTREE_EOF_64BIT {
            return Ok(Vec::new());
        }
        let version = if indexed {
            let (_, root) = self.read_dir_block(io, &dir, 0)?;
            self.dx_hash_version(root.get(0x1C).copied().unwrap_or(0))
        } else {
            self.dx_hash_version(self.def_hash_version)
        };
        let mut all: Vec<(u64, DirEntry)> = Vec::new();
        for e in self.readdir(io, ino, 0, usize::MAX)? {
            let key = match (indexed, e.name.as_slice()) {
                (true, b".") => 0,
                (true, b"..") => 2u64 << 31,
                _ => {
                    let h = dirhash(&e.name, version, &self.hash_seed).ok_or(FsError::Corrupted("invalid/unsupported hash tree version"))?;
                    (u64::from(h.hash >> 1) << 32) | u64::from(h.minor)
                }
            };
            all.push((key, e));
        }
        all.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.next_pos.cmp(&b.1.next_pos)));
        let keys: Vec<u64> = all.iter().map(|(k, _)| *k).collect();
        let mut out = Vec::new();
        for (i, (key, mut e)) in all.into_iter().enumerate() {
            if key < pos {
                continue;
            }
            if out.len() >= max {
                break;
            }
            e.next_pos = keys.get(i + 1).copied().unwrap_or(HTREE_EOF_64BIT);
            out.push(e);
        }
        Ok(out)
    }

    /// Every entry of directory `ino` (including `.` and `..`).
    pub fn read_dir_all<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<Vec<DirEntry>> {
        self.readdir(io, ino, 0, usize::MAX)
    }

    /// Tries to put an entry in block `b` (`ext4_find_dest_de` + `ext4_insert_dentry`).
    /// `Ok(false)` when there is no room; `EEXIST` when the name is there.
    pub(crate) fn add_to_block(&self, b: &mut [u8], name: &[u8], ino: u32, ftype: u8) -> FsResult<bool> {
        let need = rec_len_for(name.len());
        let mut slot = None;
        for de in self.parse_dir_block(b)? {
            if de.ino != 0 && de.name_len == name.len() && b.get(de.off + 8..de.off + 8 + de.name_len) == Some(name) {
                return Err(FsError::Errno(Errno::EEXIST));
            }
            let used = if de.ino != 0 { rec_len_for(de.name_len) } else { 0 };
            if slot.is_none() && de.rec_len >= used + need {
                slot = Some((de, used));
            }
        }
        let Some((de, used)) = slot else { return Ok(false) };
        let mut off = de.off;
        let mut rec_len = de.rec_len;
        if de.ino != 0 {
            set16(b, off + 4, used as u16);
            off += used;
            rec_len -= used;
        }
        self.write_dirent(b, off, ino, rec_len, name, ftype);
        Ok(true)
    }

    pub(crate) fn write_dirent(&self, b: &mut [u8], off: usize, ino: u32, rec_len: usize, name: &[u8], ftype: u8) {
        set32(b, off, ino);
        set16(b, off + 4, rec_len as u16);
        if self.has_filetype() {
            if let Some(x) = b.get_mut(off + 6) {
                *x = name.len() as u8;
            }
            if let Some(x) = b.get_mut(off + 7) {
                *x = ftype;
            }
        } else {
            set16(b, off + 6, name.len() as u16);
        }
        if let Some(dst) = b.get_mut(off + 8..off + 8 + name.len()) {
            dst.copy_from_slice(name);
        }
    }

    /// Removes the entry at `off` of block `b` (`ext4_generic_delete_entry`): merged into
    /// the previous entry, or marked unused when it is the first of the block.
    pub(crate) fn delete_in_block(&self, b: &mut [u8], off: usize) -> FsResult<()> {
        let mut prev: Option<RawDe> = None;
        for de in self.parse_dir_block(b)? {
            if de.off == off {
                match prev {
                    Some(p) => set16(b, p.off + 4, (p.rec_len + de.rec_len) as u16),
                    None => set32(b, off, 0),
                }
                return Ok(());
            }
            prev = Some(de);
        }
        Err(FsError::Corrupted("directory entry vanished"))
    }

    /// The hash version of an htree root plus the unsigned offset.
    fn dx_hash_version(&self, v: u8) -> u8 {
        if v <= hash::DX_HASH_TEA && self.hash_unsigned { v + 3 } else { v }
    }

    /// `dx_probe`: walks the index to the leaf for `name`. `Ok(None)` means the index is
    /// malformed (`ERR_BAD_DX_DIR`, with the warning in the reason string).
    pub(crate) fn dx_probe<B: BlockIo + ?Sized>(&self, io: &mut B, dir: &DiskInode, name: &[u8]) -> FsResult<Option<DxPath>> {
        let (_, root) = self.read_dir_block(io, dir, 0)?;
        let hv = root[0x1C];
        let info_len = usize::from(root[0x1D]);
        let levels = root[0x1E];
        let unused = root[0x1F];
        if hv > hash::DX_HASH_TEA || unused & 1 != 0 || levels > 1 {
            return Ok(None);
        }
        let version = self.dx_hash_version(hv);
        let Some(h) = dirhash(name, version, &self.hash_seed) else { return Ok(None) };
        let bs = self.block_size as usize;
        let eoff = 0x18 + info_len;
        if eoff + 8 > bs {
            return Ok(None);
        }
        let root_limit = (bs - 24 - info_len) / 8;
        let mut frames = Vec::new();
        let mut blk_data = root;
        let mut lblk = 0u64;
        let mut off = eoff;
        let mut limit_expected = root_limit;
        let nblocks = self.dir_nblocks(dir)?;
        for level in 0..=levels {
            let limit = usize::from(le16(&blk_data, off));
            let count = usize::from(le16(&blk_data, off + 2));
            if limit != limit_expected || count == 0 || count > limit {
                return Ok(None);
            }
            // last entry with hash <= target (entry 0 counts as 0)
            let (mut p, mut q) = (1usize, count - 1);
            while p <= q {
                let m = p + (q - p) / 2;
                if le32(&blk_data, off + m * 8) > h.hash {
                    if m == 0 {
                        break;
                    }
                    q = m - 1;
                } else {
                    p = m + 1;
                }
            }
            let at = p - 1;
            let child = u64::from(le32(&blk_data, off + at * 8 + 4)) & 0x0FFF_FFFF;
            frames.push(DxFrame { lblk, off, at, count, data: blk_data.clone() });
            if child >= nblocks {
                return Ok(None);
            }
            if level == levels {
                return Ok(Some(DxPath { frames, leaf: child, hash: h }));
            }
            let (_, nb) = self.read_dir_block(io, dir, child)?;
            blk_data = nb;
            lblk = child;
            off = 8;
            limit_expected = (bs - 8) / 8;
        }
        Ok(None)
    }

    /// `ext4_dx_find_entry`: `None` when the index is bad (caller scans linearly).
    fn dx_find_entry<B: BlockIo + ?Sized>(&self, io: &mut B, dir: &DiskInode, name: &[u8]) -> FsResult<Option<Option<Found>>> {
        let Some(mut path) = self.dx_probe(io, dir, name)? else { return Ok(None) };
        // Bounded by the number of leaves.
        for _ in 0..=self.dir_nblocks(dir)? {
            let (p, b) = self.read_dir_block(io, dir, path.leaf)?;
            if let Some((off, ino)) = self.search_block(&b, name)? {
                return Ok(Some(Some(Found { lblk: path.leaf, pblk: p, off, ino })));
            }
            if !self.dx_next_block(io, dir, &mut path)? {
                return Ok(Some(None));
            }
        }
        Ok(Some(None))
    }

    /// `ext4_htree_next_block`: moves to the next leaf if its starting hash continues
    /// the target hash (collision chains).
    fn dx_next_block<B: BlockIo + ?Sized>(&self, io: &mut B, dir: &DiskInode, path: &mut DxPath) -> FsResult<bool> {
        let depth = path.frames.len();
        let mut k = depth;
        loop {
            if k == 0 {
                return Ok(false);
            }
            let f = &mut path.frames[k - 1];
            if f.at + 1 < f.count {
                f.at += 1;
                break;
            }
            k -= 1;
        }
        let f = &path.frames[k - 1];
        let bhash = le32(&f.data, f.off + f.at * 8);
        if bhash & !1 != path.hash.hash {
            return Ok(false);
        }
        // Descend to the leftmost leaf under the new position.
        let mut child = u64::from(le32(&f.data, f.off + f.at * 8 + 4)) & 0x0FFF_FFFF;
        for j in k..depth {
            let (_, nb) = self.read_dir_block(io, dir, child)?;
            let count = usize::from(le16(&nb, 8 + 2));
            if count == 0 {
                return Err(FsError::Corrupted("dx node with no entries"));
            }
            path.frames[j] = DxFrame { lblk: child, off: 8, at: 0, count, data: nb.clone() };
            child = u64::from(le32(&nb, 8 + 4)) & 0x0FFF_FFFF;
        }
        path.leaf = child;
        Ok(true)
    }
}

/// One index level of a dx path.
#[derive(Clone, Debug)]
pub(crate) struct DxFrame {
    #[allow(dead_code)]
    pub lblk: u64,
    pub off: usize,
    pub at: usize,
    pub count: usize,
    pub data: Vec<u8>,
}

/// The result of `dx_probe`.
#[derive(Clone, Debug)]
pub(crate) struct DxPath {
    pub frames: Vec<DxFrame>,
    pub leaf: u64,
    #[allow(dead_code)]
    pub hash: DxHash,
}
