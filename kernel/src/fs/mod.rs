//! The VFS: a ramfs root with Linux mode bits, owners and extended attributes, procfs
//! mounted on /proc, pipes, open files and descriptor tables.

pub mod bcache;
pub mod buffer;
pub mod ext4;
pub mod extfs;
pub mod file;
pub mod ioctl;
pub mod ioplan;
pub mod jbd2;
pub mod link;
pub mod namei;
pub mod namespace;
pub mod open;
pub mod pipe;
pub mod poll;
pub mod proc;
pub mod ramfs;
pub mod read_write;
pub mod readdir;
pub mod rename;
pub mod stat;
pub mod statfs;
pub mod symlink;
pub mod sync;
pub mod sysctl;
pub mod task_mmu;
pub mod truncate;
pub mod userfaultfd;
pub mod xattr;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use proc::ProcNode;

/// An inode number in the ramfs.
pub type Ino = u64;
/// A pipe's id.
pub type PipeId = u64;

/// What an open file or a path refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    /// A ramfs inode.
    Ram(Ino),
    /// A procfs entry (generated on demand).
    Proc(ProcNode),
    /// One end of a pipe.
    Pipe(PipeId),
    /// A userfaultfd context (`[userfaultfd]` anonymous inode).
    Userfaultfd(crate::fs::userfaultfd::UffdId),
    /// A socket (`sockfs` inode): k43's are UDP.
    Socket(crate::net::socket::SockId),
    /// An inode of a mounted ext3 filesystem: (mount, inode number).
    Ext4(crate::fs::extfs::MntId, u32),
}

/// Permission bits `inode_permission` is asked for.
pub const MAY_EXEC: u32 = 1;
pub const MAY_WRITE: u32 = 2;
pub const MAY_READ: u32 = 4;

/// `mode` without the set-id bits `ATTR_KILL_SUID`/`ATTR_KILL_SGID` take away: the
/// setuid bit, and the setgid bit when it means "setgid" (group-executable) rather than
/// mandatory locking. Any filesystem's inode mode.
pub fn killed_suid_sgid(mode: u32) -> u32 {
    let mut m = mode & !crate::uapi::stat::S_ISUID;
    if m & crate::uapi::stat::S_IXGRP != 0 {
        m &= !crate::uapi::stat::S_ISGID;
    }
    m
}

/// A ramfs inode.
#[derive(Clone, Debug)]
pub struct Inode {
    pub ino: Ino,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub data: InodeData,
    /// Extended attributes (`security.capability`…).
    pub xattrs: xattr::Xattrs,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
}

impl Inode {
    /// `ATTR_KILL_SUID`/`ATTR_KILL_SGID`: the setuid bit goes, and the setgid bit when it
    /// means "setgid" (group-executable) rather than mandatory locking.
    pub fn kill_suid_sgid(&mut self) {
        self.mode = killed_suid_sgid(self.mode);
    }
}

/// The contents of a ramfs inode.
#[derive(Clone, Debug)]
pub enum InodeData {
    /// A regular file's bytes.
    Reg(Vec<u8>),
    /// A directory: entries by name, and the parent directory (itself for the root).
    Dir { entries: BTreeMap<Vec<u8>, Ino>, parent: Ino },
    /// A block device special file (`init_special_inode`): `i_rdev`, as `makedev` encodes
    /// it; opening it reaches the disk registered under that number (`def_blk_fops`).
    Blk { rdev: u64 },
    /// A symbolic link's target (`ramfs_symlink` → `page_symlink`: the text without NUL).
    Symlink(Vec<u8>),
}

/// The mounted filesystems.
#[derive(Debug)]
pub struct Vfs {
    pub ram: ramfs::Ramfs,
    /// Synthetic filesystems mounted on ramfs directories: procfs on /proc, debugfs on
    /// /sys/kernel/debug (mountpoint inode → the mounted root).
    pub mounts: alloc::collections::BTreeMap<Ino, ProcNode>,
    pub sysctl: sysctl::Sysctl,
    /// The mount table as `/proc/mounts` shows it, and what `umount2` and `mount` consult
    /// (`fs/namespace.c`).
    pub mount_table: namespace::MountTable,
    /// `dcache_readdir` cursors of open directories: where the next `getdents64` goes on.
    pub dir_cursors: BTreeMap<file::FileId, readdir::DirCursor>,
}
