//! ramfs: every inode in memory, with `simple_xattr`-style extended attributes (as tmpfs
//! keeps them) so executables can carry `security.capability`.

use super::{Ino, Inode, InodeData};
use crate::uapi::stat::{S_IFDIR, S_IFMT, S_IFREG};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Inode number of the root directory.
pub const ROOT_INO: Ino = 1;
/// `s_dev` the ramfs root reports (anonymous block device 0:1... like the first `tmpfs`).
pub const RAMFS_DEV: u64 = 0x0000_0001;
/// Bytes per block `st_blocks` counts in.
pub const BLOCK: u64 = 512;

/// The ramfs superblock.
#[derive(Debug)]
pub struct Ramfs {
    pub inodes: BTreeMap<Ino, Inode>,
    next_ino: Ino,
    /// When each name was linked into its directory: `d_alloc` and `d_move` put a dentry
    /// at the head of its parent's `d_subdirs`, so `dcache_readdir` lists the newest first.
    link_seq: BTreeMap<(Ino, Vec<u8>), u64>,
    next_seq: u64,
}

impl Ramfs {
    /// A filesystem holding only `/` (mode 0755, owned by root).
    pub fn new(now: u64) -> Ramfs {
        let mut fs = Ramfs { inodes: BTreeMap::new(), next_ino: ROOT_INO, link_seq: BTreeMap::new(), next_seq: 1 };
        fs.alloc(S_IFDIR | 0o755, 0, 0, InodeData::Dir { entries: BTreeMap::new(), parent: ROOT_INO }, now);
        fs
    }

    /// Creates an inode (not linked anywhere yet).
    pub fn alloc(&mut self, mode: u32, uid: u32, gid: u32, data: InodeData, now: u64) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        let nlink = if mode & S_IFMT == S_IFDIR { 2 } else { 1 };
        self.inodes.insert(ino, Inode { ino, mode, uid, gid, nlink, data, xattrs: Default::default(), atime: now, mtime: now, ctime: now });
        ino
    }

    /// Looks an inode up.
    pub fn get(&self, ino: Ino) -> Option<&Inode> {
        self.inodes.get(&ino)
    }

    /// Looks an inode up for change.
    pub fn get_mut(&mut self, ino: Ino) -> Option<&mut Inode> {
        self.inodes.get_mut(&ino)
    }

    /// The inode `name` names in directory `dir`.
    pub fn lookup(&self, dir: Ino, name: &[u8]) -> Option<Ino> {
        match &self.get(dir)?.data {
            InodeData::Dir { entries, parent } => match name {
                b"." => Some(dir),
                b".." => Some(*parent),
                _ => entries.get(name).copied(),
            },
            InodeData::Reg(_) | InodeData::Blk { .. } | InodeData::Symlink(_) => None,
        }
    }

    /// Links `ino` into `dir` as `name` (the caller checked it does not exist).
    pub fn link(&mut self, dir: Ino, name: &[u8], ino: Ino, now: u64) {
        let is_dir = self.get(ino).is_some_and(|i| i.mode & S_IFMT == S_IFDIR);
        if let Some(InodeData::Dir { parent, .. }) = self.get_mut(ino).map(|i| &mut i.data) {
            *parent = dir;
        }
        if let Some(d) = self.inodes.get_mut(&dir) {
            if let InodeData::Dir { entries, .. } = &mut d.data {
                entries.insert(name.to_vec(), ino);
            }
            self.link_seq.insert((dir, name.to_vec()), self.next_seq);
            self.next_seq += 1;
            if is_dir {
                d.nlink += 1;
            }
            d.mtime = now;
            d.ctime = now;
        }
    }

    /// Removes `name` from `dir`, dropping the inode when its last link goes (open files
    /// keep their data through their own reference in k43's model: see `File`).
    pub fn unlink(&mut self, dir: Ino, name: &[u8], now: u64) {
        let Some(ino) = self.lookup(dir, name) else { return };
        let is_dir = self.get(ino).is_some_and(|i| i.mode & S_IFMT == S_IFDIR);
        if let Some(d) = self.inodes.get_mut(&dir) {
            if let InodeData::Dir { entries, .. } = &mut d.data {
                entries.remove(name);
            }
            self.link_seq.remove(&(dir, name.to_vec()));
            if is_dir {
                d.nlink -= 1;
            }
            d.mtime = now;
            d.ctime = now;
        }
        if let Some(i) = self.get_mut(ino) {
            i.nlink = if is_dir { 0 } else { i.nlink.saturating_sub(1) };
            i.ctime = now;
        }
    }

    /// Moves the entry `old_name` of `old_dir` to `new_name` in `new_dir` (which has no
    /// such entry): `d_move` puts it at the head of its new parent's list; a directory
    /// takes its ".." link along.
    pub fn move_entry(&mut self, old_dir: Ino, old_name: &[u8], new_dir: Ino, new_name: &[u8], now: u64) {
        let Some(ino) = self.lookup(old_dir, old_name) else { return };
        let is_dir = self.get(ino).is_some_and(|i| i.mode & S_IFMT == S_IFDIR);
        if let Some(d) = self.get_mut(old_dir) {
            if let InodeData::Dir { entries, .. } = &mut d.data {
                entries.remove(old_name);
            }
            if is_dir {
                d.nlink -= 1;
            }
            d.mtime = now;
            d.ctime = now;
        }
        self.link_seq.remove(&(old_dir, old_name.to_vec()));
        self.link(new_dir, new_name, ino, now);
        if let Some(i) = self.get_mut(ino) {
            i.ctime = now;
        }
    }

    /// Frees an inode nobody links or holds open.
    pub fn evict(&mut self, ino: Ino) {
        self.inodes.remove(&ino);
    }

    /// An absolute path naming `ino` (the first link found walking down from `/`, in name
    /// order): what `d_path` prints for a mapped file. `None` once it has no link.
    pub fn path_of(&self, ino: Ino) -> Option<Vec<u8>> {
        if ino == ROOT_INO {
            return Some(b"/".to_vec());
        }
        let mut stack: Vec<(Ino, Vec<u8>)> = alloc::vec![(ROOT_INO, Vec::new())];
        while let Some((dir, prefix)) = stack.pop() {
            let Some(InodeData::Dir { entries, .. }) = self.get(dir).map(|i| &i.data) else { continue };
            for (name, &child) in entries {
                let mut p = prefix.clone();
                p.push(b'/');
                p.extend_from_slice(name);
                if child == ino {
                    return Some(p);
                }
                if matches!(self.get(child).map(|i| &i.data), Some(InodeData::Dir { .. })) {
                    stack.push((child, p));
                }
            }
        }
        None
    }

    /// Creates a regular file `name` in `dir` with `content` (boot-time population and
    /// admin commands).
    pub fn create_file(&mut self, dir: Ino, name: &[u8], mode: u32, uid: u32, gid: u32, content: Vec<u8>, now: u64) -> Ino {
        let ino = self.alloc(S_IFREG | (mode & 0o7777), uid, gid, InodeData::Reg(content), now);
        self.link(dir, name, ino, now);
        ino
    }

    /// Creates a block device node `name` in `dir` (what devtmpfs does for a new disk).
    pub fn create_blkdev(&mut self, dir: Ino, name: &[u8], mode: u32, uid: u32, gid: u32, rdev: u64, now: u64) -> Ino {
        let ino = self.alloc(crate::uapi::stat::S_IFBLK | (mode & 0o7777), uid, gid, InodeData::Blk { rdev }, now);
        self.link(dir, name, ino, now);
        ino
    }

    /// The entries of `dir` in `d_subdirs` order (newest link first), each with the
    /// sequence number that orders it.
    pub fn children(&self, dir: Ino) -> Vec<(u64, Vec<u8>, Ino)> {
        let Some(InodeData::Dir { entries, .. }) = self.get(dir).map(|i| &i.data) else { return Vec::new() };
        let mut v: Vec<(u64, Vec<u8>, Ino)> = entries.iter().map(|(n, &i)| (self.link_seq.get(&(dir, n.clone())).copied().unwrap_or(0), n.clone(), i)).collect();
        v.sort_by(|a, b| b.0.cmp(&a.0));
        v
    }

    /// Creates a symbolic link `name` in `dir` pointing at `target` (`ramfs_symlink`:
    /// mode `S_IFLNK|0777`).
    pub fn create_symlink(&mut self, dir: Ino, name: &[u8], target: &[u8], uid: u32, gid: u32, now: u64) -> Ino {
        let ino = self.alloc(crate::uapi::stat::S_IFLNK | 0o777, uid, gid, InodeData::Symlink(target.to_vec()), now);
        self.link(dir, name, ino, now);
        ino
    }

    /// Creates a directory `name` in `dir`.
    pub fn create_dir(&mut self, dir: Ino, name: &[u8], mode: u32, uid: u32, gid: u32, now: u64) -> Ino {
        let ino = self.alloc(S_IFDIR | (mode & 0o7777), uid, gid, InodeData::Dir { entries: BTreeMap::new(), parent: dir }, now);
        self.link(dir, name, ino, now);
        ino
    }
}
