//! statfs, fstatfs (`fs/statfs.c`): `struct statfs` of x86_64 and arm64 (the same
//! 120-byte asm-generic layout with 64-bit words on both), filled by `simple_statfs`
//! for every filesystem k43 has.

use super::proc::ProcNode;
use super::Node;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::Errno;

/// `sizeof(struct statfs)` on x86_64 and arm64.
pub const STATFS_SIZE: usize = 120;

pub const RAMFS_MAGIC: u64 = 0x858458f6;
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const DEBUGFS_MAGIC: u64 = 0x64626720;
pub const PIPEFS_MAGIC: u64 = 0x50495045;
pub const SOCKFS_MAGIC: u64 = 0x534f434b;
pub const ANON_INODE_FS_MAGIC: u64 = 0x09041934;
pub const EXT4_SUPER_MAGIC: u64 = 0xef53;

/// Filesystem magic numbers by name, as strace's `fsmagic` table prints them.
pub static FS_MAGIC_NAMES: &[(&str, u64)] = &[
    ("RAMFS_MAGIC", RAMFS_MAGIC),
    ("PROC_SUPER_MAGIC", PROC_SUPER_MAGIC),
    ("DEBUGFS_MAGIC", DEBUGFS_MAGIC),
    ("PIPEFS_MAGIC", PIPEFS_MAGIC),
    ("SOCKFS_MAGIC", SOCKFS_MAGIC),
    ("ANON_INODE_FS_MAGIC", ANON_INODE_FS_MAGIC),
    ("EXT2_SUPER_MAGIC", EXT4_SUPER_MAGIC),
    ("TMPFS_MAGIC", 0x01021994),
];

/// `ST_*` bits of `f_flags` (`calculate_f_flags`).
pub const ST_RDONLY: u64 = 0x0001;
pub const ST_NOSUID: u64 = 0x0002;
pub const ST_NODEV: u64 = 0x0004;
pub const ST_NOEXEC: u64 = 0x0008;
pub const ST_SYNCHRONOUS: u64 = 0x0010;
pub const ST_VALID: u64 = 0x0020;
pub const ST_MANDLOCK: u64 = 0x0040;
pub const ST_NOATIME: u64 = 0x0400;
pub const ST_NODIRATIME: u64 = 0x0800;
pub const ST_RELATIME: u64 = 0x1000;

/// `ST_*` names in strace's order (`xlat/statfs_flags.in`: `ST_VALID` first).
pub static ST_NAMES: &[(&str, u64)] = &[
    ("ST_VALID", ST_VALID),
    ("ST_RDONLY", ST_RDONLY),
    ("ST_NOSUID", ST_NOSUID),
    ("ST_NODEV", ST_NODEV),
    ("ST_NOEXEC", ST_NOEXEC),
    ("ST_SYNCHRONOUS", ST_SYNCHRONOUS),
    ("ST_MANDLOCK", ST_MANDLOCK),
    ("ST_NOATIME", ST_NOATIME),
    ("ST_NODIRATIME", ST_NODIRATIME),
    ("ST_RELATIME", ST_RELATIME),
];

/// `struct kstatfs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kstatfs {
    pub f_type: u64,
    pub f_bsize: u64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [u32; 2],
    pub f_namelen: u64,
    pub f_frsize: u64,
    pub f_flags: u64,
}

impl Kstatfs {
    /// `simple_statfs`: the magic, a page as the block size, `NAME_MAX`; zeros else.
    pub fn simple(magic: u64) -> Kstatfs {
        Kstatfs { f_type: magic, f_bsize: 4096, f_namelen: 255, ..Default::default() }
    }

    /// The user-space `struct statfs` (`do_statfs_native`).
    pub fn to_bytes(&self) -> [u8; STATFS_SIZE] {
        let mut b = [0u8; STATFS_SIZE];
        let words = [self.f_type, self.f_bsize, self.f_blocks, self.f_bfree, self.f_bavail, self.f_files, self.f_ffree];
        for (i, w) in words.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        b[56..60].copy_from_slice(&self.f_fsid[0].to_le_bytes());
        b[60..64].copy_from_slice(&self.f_fsid[1].to_le_bytes());
        b[64..72].copy_from_slice(&self.f_namelen.to_le_bytes());
        b[72..80].copy_from_slice(&self.f_frsize.to_le_bytes());
        b[80..88].copy_from_slice(&self.f_flags.to_le_bytes());
        b
    }

    /// Reads a user-space `struct statfs` back (the tracer).
    pub fn from_bytes(b: &[u8]) -> Kstatfs {
        let w = |o: usize| b.get(o..o + 8).map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8]))).unwrap_or(0);
        let h = |o: usize| b.get(o..o + 4).map(|s| u32::from_le_bytes(s.try_into().unwrap_or([0; 4]))).unwrap_or(0);
        Kstatfs {
            f_type: w(0),
            f_bsize: w(8),
            f_blocks: w(16),
            f_bfree: w(24),
            f_bavail: w(32),
            f_files: w(40),
            f_ffree: w(48),
            f_fsid: [h(56), h(60)],
            f_namelen: w(64),
            f_frsize: w(72),
            f_flags: w(80),
        }
    }
}

impl<H: Hal> Kernel<H> {
    /// `vfs_statfs` of a node: the filesystem's `->statfs`, `f_frsize` defaulting to
    /// `f_bsize`, and `f_flags` from the mount.
    pub fn vfs_statfs(&self, node: Node) -> Result<Kstatfs, Errno> {
        let mut st = match node {
            Node::Ram(_) => Kstatfs::simple(RAMFS_MAGIC),
            Node::Proc(ProcNode::DebugRoot | ProcNode::ProvokeCrash | ProcNode::ProvokeCrashDirect) => Kstatfs::simple(DEBUGFS_MAGIC),
            Node::Proc(_) => Kstatfs::simple(PROC_SUPER_MAGIC),
            Node::Pipe(_) => Kstatfs::simple(PIPEFS_MAGIC),
            Node::Socket(_) => Kstatfs::simple(SOCKFS_MAGIC),
            Node::Userfaultfd(_) => Kstatfs::simple(ANON_INODE_FS_MAGIC),
            Node::Ext4(m, _) => {
                let e = self.ext_statfs(m)?;
                Kstatfs {
                    f_type: u64::from(e.f_type),
                    f_bsize: u64::from(e.f_bsize),
                    f_blocks: e.f_blocks,
                    f_bfree: e.f_bfree,
                    f_bavail: e.f_bavail,
                    f_files: e.f_files,
                    f_ffree: e.f_ffree,
                    f_fsid: e.f_fsid,
                    f_namelen: u64::from(e.f_namelen),
                    f_frsize: u64::from(e.f_bsize),
                    f_flags: 0,
                }
            }
        };
        if st.f_frsize == 0 {
            st.f_frsize = st.f_bsize;
        }
        st.f_flags = ST_VALID | self.mount_st_flags(node);
        Ok(st)
    }

    pub(crate) fn sys_statfs(&mut self, pid: Pid, path: u64, buf: u64) -> SysResult {
        let name = self.getname(pid, path)?;
        let node = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &name)?;
        let st = self.vfs_statfs(node)?;
        self.copy_to_user(pid, buf, &st.to_bytes())?;
        Ok(0)
    }

    /// `fstatfs(2)`: `fdget_raw`, so an `O_PATH` descriptor is fine.
    pub(crate) fn sys_fstatfs(&mut self, pid: Pid, fd: i32, buf: u64) -> SysResult {
        let fid = self.fget(pid, fd)?;
        let node = self.files.get(&fid).ok_or(Errno::EBADF)?.node;
        let st = self.vfs_statfs(node)?;
        self.copy_to_user(pid, buf, &st.to_bytes())?;
        Ok(0)
    }
}
