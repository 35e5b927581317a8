//! fstat, newfstatat (`fs/stat.c`): `generic_fillattr` for each kind of node.

use super::proc::ProcNode;
use super::{InodeData, Node};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::syscalls::Arch;
use crate::uapi::fcntl::*;
use crate::uapi::stat::*;
use crate::uapi::Errno;

/// `st_dev` of procfs (the second anonymous device after the ramfs root).
pub const PROC_DEV: u64 = 0x0000_0004;
/// `st_dev` of sysfs (k43's numbering).
pub const SYSFS_DEV: u64 = 0x0000_0011;
/// `st_dev` of debugfs.
pub const DEBUGFS_DEV: u64 = 0x0000_0007;
/// `st_dev` of pipefs.
pub const PIPEFS_DEV: u64 = 0x0000_000a;
/// `st_dev` of sockfs (mounted right after pipefs at boot).
pub const SOCKFS_DEV: u64 = 0x0000_0008;
/// `anon_inodefs` (k43's numbering, fixed at boot like the others).
pub const ANON_INODE_DEV: u64 = 0x0000_0009;
/// The one inode every anonymous-inode file shares.
pub const ANON_INODE_INO: u64 = 1;

fn split_ns(ns: u64) -> (i64, i64) {
    ((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64)
}

/// A stable inode number for a procfs entry.
fn proc_ino(p: ProcNode) -> u64 {
    match p {
        ProcNode::Root => 1,
        ProcNode::Version => 0xf000_0001,
        ProcNode::Iomem => 0xf000_0002,
        ProcNode::Slabinfo => 0xf000_0003,
        ProcNode::NetDir => 0xf000_0004,
        ProcNode::NetDev => 0xf000_0005,
        ProcNode::NetSnmp => 0xf000_0006,
        ProcNode::NetSnmp6 => 0xf000_0007,
        ProcNode::NetNetstat => 0xf000_0008,
        ProcNode::NetArp => 0xf000_0009,
        ProcNode::Mounts => 0xf000_000a,
        ProcNode::PidDir(pid) => (pid as u64) << 8,
        ProcNode::Status(pid) => ((pid as u64) << 8) | 1,
        ProcNode::Comm(pid) => ((pid as u64) << 8) | 2,
        ProcNode::Maps(pid) => ((pid as u64) << 8) | 3,
        ProcNode::SysDir(k, d) => 0xe000_0000 + ((k as u64) << 4) + d as u64,
        ProcNode::SysFile(k) => 0xd000_0000 + k as u64,
        ProcNode::DebugRoot => 1,
        ProcNode::ProvokeCrash => 2,
        ProcNode::ProvokeCrashDirect => 3,
        ProcNode::SysBlock => 0xc000_0000,
        ProcNode::SysBlockDisk(d) => 0xc000_0000 + ((d as u64 + 1) << 8),
        ProcNode::SysBlockQueue(d) => 0xc000_0000 + ((d as u64 + 1) << 8) + 1,
        ProcNode::SysBlockAttr(d, a) => 0xc000_0000 + ((d as u64 + 1) << 8) + 2 + a as u64,
    }
}

impl<H: Hal> Kernel<H> {
    /// `vfs_getattr` of a node.
    pub fn getattr(&self, node: Node) -> Result<Kstat, Errno> {
        let boot_real = self.hal.realtime_offset_ns();
        Ok(match node {
            Node::Ram(ino) => {
                let i = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
                let (size, rdev) = match &i.data {
                    InodeData::Reg(d) => (d.len() as i64, 0),
                    // The special inode's own size: the disk's is on the bdev inode.
                    InodeData::Dir { .. } => (0, 0),
                    InodeData::Blk { rdev } => (0, *rdev),
                    InodeData::Symlink(t) => (t.len() as i64, 0),
                };
                Kstat {
                    dev: super::ramfs::RAMFS_DEV,
                    ino,
                    mode: i.mode,
                    nlink: i.nlink,
                    uid: i.uid,
                    gid: i.gid,
                    rdev,
                    size,
                    blksize: 4096,
                    blocks: 0,
                    atime: split_ns(i.atime),
                    mtime: split_ns(i.mtime),
                    ctime: split_ns(i.ctime),
                }
            }
            Node::Ext4(m, i) => {
                let st = self.ext_stat((m, i))?;
                let dev = self.ext.mounts.get(&m).map_or(0, |x| x.devt);
                let ts = |t: crate::fs::ext4::Time| (t.sec, i64::from(t.nsec));
                Kstat {
                    dev,
                    ino: u64::from(st.ino),
                    mode: u32::from(st.mode),
                    nlink: u32::from(st.nlink),
                    uid: st.uid,
                    gid: st.gid,
                    rdev: crate::uapi::stat::makedev(st.rdev.0, st.rdev.1),
                    size: st.size as i64,
                    blksize: st.blksize,
                    blocks: st.blocks,
                    atime: ts(st.atime),
                    mtime: ts(st.mtime),
                    ctime: ts(st.ctime),
                }
            }
            Node::Proc(p) => {
                let (mode, uid, gid) = self.proc_attr(p).ok_or(Errno::ENOENT)?;
                let t = split_ns(boot_real);
                let dev = match p {
                    ProcNode::DebugRoot | ProcNode::ProvokeCrash | ProcNode::ProvokeCrashDirect => DEBUGFS_DEV,
                    ProcNode::SysBlock | ProcNode::SysBlockDisk(_) | ProcNode::SysBlockQueue(_) | ProcNode::SysBlockAttr(..) => SYSFS_DEV,
                    _ => PROC_DEV,
                };
                // kernfs gives every sysfs attribute a page-sized st_size.
                let (size, blksize) = if let ProcNode::SysBlockAttr(..) = p { (4096, 4096) } else { (0, 1024) };
                Kstat { dev, ino: proc_ino(p), mode, nlink: if p.is_dir() { 2 } else { 1 }, uid, gid, rdev: 0, size, blksize, blocks: 0, atime: t, mtime: t, ctime: t }
            }
            Node::Pipe(id) => {
                let p = self.pipes.get(&id).ok_or(Errno::EBADF)?;
                let t = split_ns(boot_real);
                Kstat { dev: PIPEFS_DEV, ino: p.ino, mode: S_IFIFO | 0o600, nlink: 1, uid: p.uid, gid: p.gid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t }
            }
            // sockfs: S_IFSOCK | 0777, owned by the creator (k43 reports root).
            Node::Socket(id) => {
                let t = split_ns(boot_real);
                Kstat { dev: SOCKFS_DEV, ino: id, mode: crate::uapi::stat::S_IFSOCK | 0o777, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t }
            }
            // anon_inode_inode: mode S_IRUSR|S_IWUSR with no file type, owned by root.
            Node::Userfaultfd(_) => {
                let t = split_ns(boot_real);
                Kstat { dev: ANON_INODE_DEV, ino: ANON_INODE_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atime: t, mtime: t, ctime: t }
            }
        })
    }

    fn put_stat(&mut self, pid: Pid, buf: u64, st: &Kstat) -> SysResult {
        match self.arch {
            Arch::X86_64 => self.copy_to_user(pid, buf, &st.to_x86_64())?,
            Arch::Aarch64 => self.copy_to_user(pid, buf, &st.to_generic())?,
        }
        Ok(0)
    }

    pub(crate) fn sys_fstat(&mut self, pid: Pid, fd: i32, buf: u64) -> SysResult {
        let f = self.fget(pid, fd)?;
        let st = self.getattr(self.files.get(&f).ok_or(Errno::EBADF)?.node)?;
        self.put_stat(pid, buf, &st)
    }

    pub(crate) fn sys_newfstatat(&mut self, pid: Pid, dirfd: i32, path: u64, buf: u64, flags: u32) -> SysResult {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let name = self.getname(pid, path)?;
        let node = self.at_empty_path_lookup(pid, dirfd, &name, flags)?;
        let st = self.getattr(node)?;
        self.put_stat(pid, buf, &st)
    }
}
