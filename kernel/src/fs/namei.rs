//! Path walking (`fs/namei.c`): dirfd handling, search permission on every directory,
//! procfs crossing, and `generic_permission`.

use super::ramfs::ROOT_INO;
use super::{Inode, InodeData, Ino, Node, MAY_EXEC, MAY_READ, MAY_WRITE};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::security::cred::Cred;
use crate::uapi::capability::{CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
use crate::uapi::fcntl::{AT_FDCWD, NAME_MAX, PATH_MAX};
use crate::uapi::stat::{S_IFDIR, S_IFMT};
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `generic_permission` on a mode/owner triple.
pub fn generic_permission(cred: &Cred, mode: u32, uid: u32, gid: u32, mask: u32) -> Result<(), Errno> {
    let mut m = mode;
    if cred.fsuid == uid {
        m >>= 6;
    } else if cred.in_group(gid) {
        m >>= 3;
    }
    let mask = mask & (MAY_READ | MAY_WRITE | MAY_EXEC);
    if mask & !m & 7 == 0 {
        return Ok(());
    }
    if mode & S_IFMT == S_IFDIR {
        if capable(cred, CAP_DAC_OVERRIDE) {
            return Ok(());
        }
        if mask & MAY_WRITE == 0 && capable(cred, CAP_DAC_READ_SEARCH) {
            return Ok(());
        }
        return Err(Errno::EACCES);
    }
    // Read/write are always overridable; exec only when some exec bit is set.
    if (mask & MAY_EXEC == 0 || mode & 0o111 != 0) && capable(cred, CAP_DAC_OVERRIDE) {
        return Ok(());
    }
    if mask == MAY_READ && capable(cred, CAP_DAC_READ_SEARCH) {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// `inode_permission` on a ramfs inode.
pub fn inode_permission(cred: &Cred, inode: &Inode, mask: u32) -> Result<(), Errno> {
    generic_permission(cred, inode.mode, inode.uid, inode.gid, mask)
}

/// The result of walking all but the last component.
#[derive(Debug)]
pub struct Parent {
    /// The directory that holds (or would hold) the last component.
    pub dir: Node,
    /// The last component (may be `.` or `..`; empty for `/`).
    pub last: Vec<u8>,
    /// The path ended in `/`.
    pub trailing_slash: bool,
    /// Symbolic links followed so far (`nd->total_link_count`).
    pub links: u32,
}

/// `MAXSYMLINKS`: links one lookup may follow before `ELOOP`.
pub const MAXSYMLINKS: u32 = 40;

fn is_dir_node<H: Hal>(k: &Kernel<H>, n: Node) -> bool {
    match n {
        Node::Ram(ino) => k.vfs.ram.get(ino).is_some_and(|i| matches!(i.data, InodeData::Dir { .. })),
        Node::Proc(p) => p.is_dir(),
        Node::Ext4(m, i) => k.ext_stat((m, i)).is_ok_and(|st| u32::from(st.mode) & S_IFMT == S_IFDIR),
        Node::Pipe(_) | Node::Userfaultfd(_) | Node::Socket(_) => false,
    }
}

impl<H: Hal> Kernel<H> {
    /// Reads a path argument: `EFAULT`, `ENAMETOOLONG` past `PATH_MAX`.
    pub fn getname(&mut self, pid: Pid, addr: u64) -> Result<Vec<u8>, Errno> {
        self.strncpy_from_user(pid, addr, PATH_MAX)?.ok_or(Errno::ENAMETOOLONG)
    }

    /// The directory a relative path starts at: cwd for `AT_FDCWD`, else `dirfd`'s file,
    /// which must be a directory.
    pub fn dirfd_start(&self, pid: Pid, dirfd: i32) -> Result<Node, Errno> {
        if dirfd == AT_FDCWD {
            let fs = self.task(pid).ok_or(Errno::ESRCH)?.fs;
            return Ok(self.fs_structs.get(&fs).map(|f| f.cwd).unwrap_or(Node::Ram(ROOT_INO)));
        }
        let file = self.fget(pid, dirfd)?;
        let node = self.files.get(&file).ok_or(Errno::EBADF)?.node;
        if !is_dir_node(self, node) {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }

    /// Permission check on any node.
    pub fn node_permission(&self, cred: &Cred, node: Node, mask: u32) -> Result<(), Errno> {
        match node {
            Node::Ram(ino) => inode_permission(cred, self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?, mask),
            Node::Proc(p) => {
                let (mode, uid, gid) = self.proc_attr(p).ok_or(Errno::ENOENT)?;
                p.permission(cred, mode, uid, gid, mask)
            }
            Node::Ext4(m, i) => {
                let st = self.ext_stat((m, i))?;
                generic_permission(cred, u32::from(st.mode), st.uid, st.gid, mask)
            }
            Node::Pipe(_) | Node::Userfaultfd(_) | Node::Socket(_) => Ok(()),
        }
    }

    /// One step of the walk: `name` inside directory `dir`, which the caller may search.
    pub(crate) fn walk_one(&self, pid: Pid, dir: Node, name: &[u8]) -> Result<Node, Errno> {
        match dir {
            Node::Ram(ino) => {
                if let Some(&root) = self.vfs.mounts.get(&ino) {
                    if name != b".." {
                        return self.proc_lookup(pid, root, name);
                    }
                }
                let found = self.vfs.ram.lookup(ino, name).ok_or(Errno::ENOENT)?;
                // follow_managed: stepping onto a mountpoint lands on the root of what is
                // mounted there, so `/proc` itself is procfs's directory (for stat, for a
                // dirfd, and as the parent of `/proc/x` in create and unlink).
                if ino != found {
                    if let Some(m) = self.ext.on_mountpoint(found) {
                        let (m, i) = Self::ext_root(m);
                        return Ok(Node::Ext4(m, i));
                    }
                }
                match self.vfs.mounts.get(&found) {
                    Some(&root) if ino != found => Ok(Node::Proc(root)),
                    _ => Ok(Node::Ram(found)),
                }
            }
            // The root of an ext mount: `..` leaves it for the mountpoint's parent.
            Node::Ext4(m, i) if name == b".." && (m, i) == Self::ext_root(m) => {
                let mp = self.ext.mounts.get(&m).map_or(ROOT_INO, |x| x.mountpoint);
                Ok(Node::Ram(self.vfs.ram.lookup(mp, b"..").unwrap_or(ROOT_INO)))
            }
            Node::Ext4(m, i) => {
                let found = match name {
                    b"." => i,
                    _ => self.ext_lookup((m, i), name)?,
                };
                Ok(Node::Ext4(m, found))
            }
            Node::Proc(root) if name == b".." && self.vfs.mounts.values().any(|&r| r == root) => {
                let mp = self.vfs.mounts.iter().find(|(_, &r)| r == root).map(|(&i, _)| i).unwrap_or(ROOT_INO);
                Ok(Node::Ram(self.vfs.ram.lookup(mp, b"..").unwrap_or(ROOT_INO)))
            }
            Node::Proc(p) => self.proc_lookup(pid, p, name),
            Node::Pipe(_) | Node::Userfaultfd(_) | Node::Socket(_) => Err(Errno::ENOTDIR),
        }
    }

    fn check_search(&self, cred: &Cred, dir: Node) -> Result<(), Errno> {
        if !is_dir_node(self, dir) {
            return Err(Errno::ENOTDIR);
        }
        self.node_permission(cred, dir, MAY_EXEC)
    }

    /// Walks every component but the last (`path_parentat`), following symbolic links
    /// met on the way.
    pub fn path_parent(&self, pid: Pid, dirfd: i32, path: &[u8]) -> Result<Parent, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let start = if path[0] == b'/' { Node::Ram(ROOT_INO) } else { self.dirfd_start(pid, dirfd)? };
        self.parent_walk(pid, start, path, 0)
    }

    /// `link_path_walk` from `start` (a relative path's directory), `links` links already
    /// followed by this lookup.
    pub(crate) fn parent_walk(&self, pid: Pid, start: Node, path: &[u8], mut links: u32) -> Result<Parent, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let cred = &self.task(pid).ok_or(Errno::ESRCH)?.cred;
        let mut dir = if path[0] == b'/' { Node::Ram(ROOT_INO) } else { start };
        let trailing_slash = path.len() > 1 && path.ends_with(b"/");
        let comps: Vec<&[u8]> = path.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect();
        if comps.iter().any(|c| c.len() > NAME_MAX) {
            return Err(Errno::ENAMETOOLONG);
        }
        let Some((last, init)) = comps.split_last() else {
            return Ok(Parent { dir, last: Vec::new(), trailing_slash: false, links });
        };
        for c in init {
            self.check_search(cred, dir)?;
            let next = self.walk_one(pid, dir, c)?;
            dir = self.follow_link(pid, dir, next, &mut links)?;
        }
        self.check_search(cred, dir)?;
        Ok(Parent { dir, last: last.to_vec(), trailing_slash, links })
    }

    /// The target of a symbolic link node, `None` for anything else. An ext3 link whose
    /// blocks are not read yet gives `ERESTARTSYS` (the call re-runs after the read).
    pub fn symlink_target(&self, node: Node) -> Result<Option<Vec<u8>>, Errno> {
        match node {
            Node::Ram(ino) => Ok(match self.vfs.ram.get(ino).map(|i| &i.data) {
                Some(InodeData::Symlink(t)) => Some(t.clone()),
                _ => None,
            }),
            Node::Ext4(m, i) => {
                let st = self.ext_stat((m, i))?;
                if u32::from(st.mode) & S_IFMT != crate::uapi::stat::S_IFLNK {
                    return Ok(None);
                }
                self.ext_readlink((m, i)).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Whether `node` is a symbolic link.
    pub fn node_is_symlink(&self, node: Node) -> bool {
        self.symlink_target(node).is_ok_and(|t| t.is_some())
    }

    /// `pick_link` + `trailing_symlink`: when `node` (found in `dir`) is a symbolic link,
    /// what it resolves to, the link's own last component followed too; `ELOOP` past
    /// `MAXSYMLINKS` links in the whole lookup.
    pub(crate) fn follow_link(&self, pid: Pid, dir: Node, node: Node, links: &mut u32) -> Result<Node, Errno> {
        let Some(target) = self.symlink_target(node)? else { return Ok(node) };
        if *links >= MAXSYMLINKS {
            return Err(Errno::ELOOP);
        }
        *links += 1;
        let p = self.parent_walk(pid, dir, &target, *links)?;
        *links = p.links;
        self.last_component(pid, &p, true, links)
    }

    /// Looks a walked path's last component up, following a symbolic link there when
    /// `follow` (a trailing slash always follows).
    pub(crate) fn last_component(&self, pid: Pid, p: &Parent, follow: bool, links: &mut u32) -> Result<Node, Errno> {
        if p.last.is_empty() {
            return Ok(p.dir);
        }
        let mut node = self.walk_one(pid, p.dir, &p.last)?;
        if follow || p.trailing_slash {
            node = self.follow_link(pid, p.dir, node, links)?;
        }
        if p.trailing_slash && !is_dir_node(self, node) {
            return Err(Errno::ENOTDIR);
        }
        Ok(node)
    }

    /// Resolves a whole path to a node (`filename_lookup` with `LOOKUP_FOLLOW`). A
    /// trailing slash demands a directory.
    pub fn path_lookup(&self, pid: Pid, dirfd: i32, path: &[u8]) -> Result<Node, Errno> {
        self.path_lookup_follow(pid, dirfd, path, true)
    }

    /// `filename_lookup`, following a symbolic link in the last component or not.
    pub fn path_lookup_follow(&self, pid: Pid, dirfd: i32, path: &[u8], follow: bool) -> Result<Node, Errno> {
        let p = self.path_parent(pid, dirfd, path)?;
        let mut links = p.links;
        self.last_component(pid, &p, follow, &mut links)
    }

    /// The node an `*at` call names: with `AT_EMPTY_PATH` and an empty path, `dirfd`
    /// itself (the cwd for `AT_FDCWD`, an `O_PATH` descriptor included); else the path.
    /// `AT_SYMLINK_NOFOLLOW` leaves a symbolic link in the last component unfollowed.
    pub fn at_empty_path_lookup(&self, pid: Pid, dirfd: i32, path: &[u8], flags: u32) -> Result<Node, Errno> {
        if !path.is_empty() || flags & crate::uapi::fcntl::AT_EMPTY_PATH == 0 {
            return self.path_lookup_follow(pid, dirfd, path, flags & crate::uapi::fcntl::AT_SYMLINK_NOFOLLOW == 0);
        }
        if dirfd == AT_FDCWD {
            return self.dirfd_start(pid, dirfd);
        }
        let f = self.fget(pid, dirfd)?;
        Ok(self.files.get(&f).ok_or(Errno::EBADF)?.node)
    }

    /// Whether `node` is a directory.
    pub fn node_is_dir(&self, node: Node) -> bool {
        is_dir_node(self, node)
    }
}

/// The ramfs inode of a node, if it has one.
pub fn ram_ino(node: Node) -> Option<Ino> {
    match node {
        Node::Ram(i) => Some(i),
        _ => None,
    }
}
