//! mount, umount2 and `/proc/mounts` (`fs/namespace.c`: `SYSCALL_DEFINE5(mount)`,
//! `do_mount`, `do_new_mount`, `do_add_mount`, `SYSCALL_DEFINE2(umount)`, `do_umount`,
//! `show_vfsmnt`).

use super::proc::ProcNode;
use super::{Ino, Node};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::CAP_SYS_ADMIN;
use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// `mount(2)` flags.
pub const MS_RDONLY: u64 = 1;
pub const MS_NOSUID: u64 = 2;
pub const MS_NODEV: u64 = 4;
pub const MS_NOEXEC: u64 = 8;
pub const MS_SYNCHRONOUS: u64 = 16;
pub const MS_REMOUNT: u64 = 32;
pub const MS_MANDLOCK: u64 = 64;
pub const MS_DIRSYNC: u64 = 128;
pub const MS_NOATIME: u64 = 1024;
pub const MS_NODIRATIME: u64 = 2048;
pub const MS_BIND: u64 = 4096;
pub const MS_MOVE: u64 = 8192;
pub const MS_REC: u64 = 16384;
pub const MS_SILENT: u64 = 32768;
pub const MS_POSIXACL: u64 = 1 << 16;
pub const MS_UNBINDABLE: u64 = 1 << 17;
pub const MS_PRIVATE: u64 = 1 << 18;
pub const MS_SLAVE: u64 = 1 << 19;
pub const MS_SHARED: u64 = 1 << 20;
pub const MS_RELATIME: u64 = 1 << 21;
pub const MS_KERNMOUNT: u64 = 1 << 22;
pub const MS_I_VERSION: u64 = 1 << 23;
pub const MS_STRICTATIME: u64 = 1 << 24;
pub const MS_LAZYTIME: u64 = 1 << 25;
pub const MS_MGC_VAL: u64 = 0xc0ed_0000;
pub const MS_MGC_MSK: u64 = 0xffff_0000;

/// `mount(2)` flag names in strace's order (`MS_MGC_VAL` first).
pub static MS_NAMES: &[(&str, u64)] = &[
    ("MS_MGC_VAL", MS_MGC_VAL),
    ("MS_RDONLY", MS_RDONLY),
    ("MS_NOSUID", MS_NOSUID),
    ("MS_NODEV", MS_NODEV),
    ("MS_NOEXEC", MS_NOEXEC),
    ("MS_SYNCHRONOUS", MS_SYNCHRONOUS),
    ("MS_REMOUNT", MS_REMOUNT),
    ("MS_MANDLOCK", MS_MANDLOCK),
    ("MS_DIRSYNC", MS_DIRSYNC),
    ("MS_NOATIME", MS_NOATIME),
    ("MS_NODIRATIME", MS_NODIRATIME),
    ("MS_BIND", MS_BIND),
    ("MS_MOVE", MS_MOVE),
    ("MS_REC", MS_REC),
    ("MS_SILENT", MS_SILENT),
    ("MS_POSIXACL", MS_POSIXACL),
    ("MS_UNBINDABLE", MS_UNBINDABLE),
    ("MS_PRIVATE", MS_PRIVATE),
    ("MS_SLAVE", MS_SLAVE),
    ("MS_SHARED", MS_SHARED),
    ("MS_RELATIME", MS_RELATIME),
    ("MS_KERNMOUNT", MS_KERNMOUNT),
    ("MS_I_VERSION", MS_I_VERSION),
    ("MS_STRICTATIME", MS_STRICTATIME),
    ("MS_LAZYTIME", MS_LAZYTIME),
];

/// `umount2(2)` flags.
pub const MNT_FORCE: u32 = 1;
pub const MNT_DETACH: u32 = 2;
pub const MNT_EXPIRE: u32 = 4;
pub const UMOUNT_NOFOLLOW: u32 = 8;

/// Per-mount flags (`MNT_*` of `struct vfsmount`).
pub const MNT_NOSUID: u32 = 0x01;
pub const MNT_NODEV: u32 = 0x02;
pub const MNT_NOEXEC: u32 = 0x04;
pub const MNT_NOATIME: u32 = 0x08;
pub const MNT_NODIRATIME: u32 = 0x10;
pub const MNT_RELATIME: u32 = 0x20;
pub const MNT_READONLY: u32 = 0x40;

/// What a mount's root is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountRoot {
    /// The root ramfs (`rootfs`), or a directory of it.
    Ram(Ino),
    /// A synthetic filesystem's root (procfs, debugfs).
    Proc(ProcNode),
    /// An ext3 filesystem mounted from a disk.
    Ext(crate::fs::extfs::MntId),
}

/// One mount (`struct mount`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// `mnt_devname` (`none` when mount(2) had no source).
    pub devname: Vec<u8>,
    /// The filesystem type's name.
    pub fstype: String,
    /// The ramfs directory it is mounted on (`None` for the root mount).
    pub mountpoint: Option<Ino>,
    pub root: MountRoot,
    /// `MNT_*` flags.
    pub mnt_flags: u32,
    /// `MS_SYNCHRONOUS|MS_DIRSYNC|MS_MANDLOCK|MS_RDONLY` of the superblock.
    pub sb_flags: u64,
    /// `mnt_expiry_mark`, set by a first `MNT_EXPIRE`.
    pub expiry_mark: bool,
}

/// The mount namespace's list, in mount order.
#[derive(Clone, Debug, Default)]
pub struct MountTable {
    pub mounts: Vec<Mount>,
}

impl MountTable {
    /// The mounts of a booted k43: rootfs, procfs on /proc, debugfs on
    /// /sys/kernel/debug.
    pub fn boot(proc_mp: Ino, debug_mp: Ino) -> MountTable {
        let m = |dev: &str, fstype: &str, mp: Option<Ino>, root: MountRoot, flags: u32| Mount { devname: dev.as_bytes().to_vec(), fstype: fstype.into(), mountpoint: mp, root, mnt_flags: flags, sb_flags: 0, expiry_mark: false };
        MountTable {
            mounts: alloc::vec![
                m("rootfs", "rootfs", None, MountRoot::Ram(super::ramfs::ROOT_INO), 0),
                m("proc", "proc", Some(proc_mp), MountRoot::Proc(ProcNode::Root), MNT_RELATIME),
                m("debugfs", "debugfs", Some(debug_mp), MountRoot::Proc(ProcNode::DebugRoot), MNT_RELATIME),
            ],
        }
    }
}

/// Which mount root a node's filesystem has (k43 has one superblock per kind).
fn root_of(node: Node) -> Option<MountRoot> {
    match node {
        Node::Ram(_) => Some(MountRoot::Ram(super::ramfs::ROOT_INO)),
        Node::Proc(ProcNode::DebugRoot | ProcNode::ProvokeCrash | ProcNode::ProvokeCrashDirect) => Some(MountRoot::Proc(ProcNode::DebugRoot)),
        Node::Proc(_) => Some(MountRoot::Proc(ProcNode::Root)),
        Node::Ext4(m, _) => Some(MountRoot::Ext(m)),
        _ => None,
    }
}

impl<H: Hal> Kernel<H> {
    /// `ST_*` bits of the mount a node is on (`flags_by_mnt` + `flags_by_sb`).
    pub fn mount_st_flags(&self, node: Node) -> u64 {
        use super::statfs::*;
        let Some(root) = root_of(node) else { return 0 };
        let Some(m) = self.vfs.mount_table.mounts.iter().rev().find(|m| m.root == root) else { return 0 };
        let mut f = 0;
        for (mnt, st) in [(MNT_READONLY, ST_RDONLY), (MNT_NOSUID, ST_NOSUID), (MNT_NODEV, ST_NODEV), (MNT_NOEXEC, ST_NOEXEC), (MNT_NOATIME, ST_NOATIME), (MNT_NODIRATIME, ST_NODIRATIME), (MNT_RELATIME, ST_RELATIME)] {
            if m.mnt_flags & mnt != 0 {
                f |= st;
            }
        }
        for (sb, st) in [(MS_SYNCHRONOUS, ST_SYNCHRONOUS), (MS_MANDLOCK, ST_MANDLOCK), (MS_RDONLY, ST_RDONLY)] {
            if m.sb_flags & sb != 0 {
                f |= st;
            }
        }
        f
    }

    /// `/proc/mounts` (`show_vfsmnt`): device, mountpoint, type, options, `0 0`.
    pub fn proc_mounts_text(&self) -> String {
        let mut s = String::new();
        for m in &self.vfs.mount_table.mounts {
            let mp = match m.mountpoint {
                None => alloc::vec![b'/'],
                Some(ino) => self.vfs.ram.path_of(ino).unwrap_or_else(|| b"/".to_vec()),
            };
            let ro = m.mnt_flags & MNT_READONLY != 0 || m.sb_flags & MS_RDONLY != 0;
            let mut opts = String::from(if ro { "ro" } else { "rw" });
            for (bit, name) in [(MS_SYNCHRONOUS, ",sync"), (MS_DIRSYNC, ",dirsync"), (MS_MANDLOCK, ",mand")] {
                if m.sb_flags & bit != 0 {
                    opts.push_str(name);
                }
            }
            for (bit, name) in [(MNT_NOSUID, ",nosuid"), (MNT_NODEV, ",nodev"), (MNT_NOEXEC, ",noexec"), (MNT_NOATIME, ",noatime"), (MNT_NODIRATIME, ",nodiratime"), (MNT_RELATIME, ",relatime")] {
                if m.mnt_flags & bit != 0 {
                    opts.push_str(name);
                }
            }
            // ext4_show_options: the data mode is always shown.
            if let MountRoot::Ext(_) = m.root {
                opts.push_str(",data=ordered");
            }
            // mangle(): space, tab, newline and backslash as octal escapes.
            let mangle = |b: &[u8]| {
                let mut o = String::new();
                for &c in b {
                    match c {
                        b' ' | b'\t' | b'\n' | b'\\' => o.push_str(&alloc::format!("\\{c:03o}")),
                        _ => o.push(c as char),
                    }
                }
                o
            };
            s.push_str(&alloc::format!("{} {} {} {} 0 0\n", mangle(&m.devname), mangle(&mp), m.fstype, opts));
        }
        s
    }

    /// Reads a mount(2) string (`copy_mount_string`: `strndup_user` of up to a page).
    fn mount_string(&mut self, pid: Pid, addr: u64) -> Result<Option<Vec<u8>>, Errno> {
        if addr == 0 {
            return Ok(None);
        }
        Ok(Some(self.strncpy_from_user(pid, addr, 4096)?.ok_or(Errno::EINVAL)?))
    }

    pub(crate) fn sys_mount(&mut self, pid: Pid, source: u64, target: u64, fstype: u64, flags: u64, data: u64) -> SysResult {
        let fstype = self.mount_string(pid, fstype)?;
        let source = self.mount_string(pid, source)?;
        // copy_mount_options: EFAULT only when nothing at all can be read.
        let data = if data == 0 {
            None
        } else {
            match self.strncpy_from_user(pid, data, 4096) {
                Ok(d) => Some(d.unwrap_or_default()),
                Err(e) => return Err(e.into()),
            }
        };
        let mut flags = flags;
        if flags & MS_MGC_MSK == MS_MGC_VAL {
            flags &= !MS_MGC_MSK;
        }
        // do_mount: the mountpoint is looked up (following links) before the
        // permission check.
        let dir = self.getname(pid, target)?;
        let node = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &dir)?;
        let cred = self.cred_of(pid)?;
        if !capable(&cred, CAP_SYS_ADMIN) {
            return Err(Errno::EPERM.into());
        }
        let mut mnt_flags = 0;
        if flags & MS_NOATIME == 0 {
            mnt_flags |= MNT_RELATIME;
        }
        for (ms, mnt) in [(MS_NOSUID, MNT_NOSUID), (MS_NODEV, MNT_NODEV), (MS_NOEXEC, MNT_NOEXEC), (MS_NOATIME, MNT_NOATIME), (MS_NODIRATIME, MNT_NODIRATIME), (MS_RDONLY, MNT_READONLY)] {
            if flags & ms != 0 {
                mnt_flags |= mnt;
            }
        }
        if flags & MS_STRICTATIME != 0 {
            mnt_flags &= !(MNT_RELATIME | MNT_NOATIME);
        }
        if flags & (MS_REMOUNT | MS_BIND | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE | MS_MOVE) != 0 {
            // Remount, bind, propagation changes and moves are not modelled yet.
            return Err(Errno::EINVAL.into());
        }
        // do_new_mount.
        let Some(fstype) = fstype else { return Err(Errno::EINVAL.into()) };
        let fstype = String::from_utf8_lossy(&fstype).into_owned();
        if fstype == "ext3" || fstype == "ext4" {
            return self.ext_sys_mount(pid, &fstype, source, node, flags, mnt_flags);
        }
        let root = self.mount_fs(pid, &fstype, source.as_deref(), flags, data.as_deref())?;
        // do_add_mount: the same filesystem again on its own root is EBUSY; k43 cannot
        // stack a mount on another one (a mountpoint's root is not a ramfs directory).
        let target_ino = match node {
            Node::Ram(ino) => ino,
            _ => return Err(Errno::EBUSY.into()),
        };
        // graft_tree: a directory root only on a directory.
        if !self.node_is_dir(node) {
            return Err(Errno::ENOTDIR.into());
        }
        if target_ino == super::ramfs::ROOT_INO || self.vfs.mounts.contains_key(&target_ino) {
            return Err(Errno::EBUSY.into());
        }
        if let MountRoot::Proc(p) = root {
            self.vfs.mounts.insert(target_ino, p);
        }
        let sb_flags = flags & (MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_RDONLY);
        let devname = source.unwrap_or_else(|| b"none".to_vec());
        self.vfs.mount_table.mounts.push(Mount { devname, fstype, mountpoint: Some(target_ino), root, mnt_flags, sb_flags, expiry_mark: false });
        Ok(0)
    }

    /// `get_fs_type` + `vfs_kern_mount`: the filesystem types k43 can mount, by name.
    /// An unknown name is `ENODEV`. This is where a block filesystem ("ext4", "ext3")
    /// opens its `source` device and reads its superblock.
    pub fn mount_fs(&mut self, _pid: Pid, fstype: &str, _source: Option<&[u8]>, _flags: u64, _data: Option<&[u8]>) -> Result<MountRoot, Errno> {
        match fstype {
            "proc" => Ok(MountRoot::Proc(ProcNode::Root)),
            "debugfs" => Ok(MountRoot::Proc(ProcNode::DebugRoot)),
            _ => Err(Errno::ENODEV),
        }
    }

    pub(crate) fn sys_umount2(&mut self, pid: Pid, target: u64, flags: u32) -> SysResult {
        if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let cred = self.cred_of(pid)?;
        if !capable(&cred, CAP_SYS_ADMIN) {
            return Err(Errno::EPERM.into());
        }
        let name = self.getname(pid, target)?;
        let node = self.path_lookup_follow(pid, crate::uapi::fcntl::AT_FDCWD, &name, flags & UMOUNT_NOFOLLOW == 0)?;
        // The path must be the root of a mount.
        if let Node::Ext4(m, i) = node {
            if (m, i) != Self::ext_root(m) {
                return Err(Errno::EINVAL.into());
            }
            let Some(idx) = self.vfs.mount_table.mounts.iter().rposition(|x| x.root == MountRoot::Ext(m)) else { return Err(Errno::EINVAL.into()) };
            if flags & MNT_EXPIRE != 0 {
                return Err(Errno::EINVAL.into());
            }
            // The caller's own files were checked on the first run; the unmount then
            // waits for its writes.
            if self.restart_state(pid).is_none() && self.mount_busy(idx) {
                return Err(Errno::EBUSY.into());
            }
            self.set_restart_state(pid, 1);
            self.ext_umount(pid, m)?;
            self.vfs.mount_table.mounts.remove(idx);
            return Ok(0);
        }
        let idx = match node {
            Node::Ram(super::ramfs::ROOT_INO) => 0,
            Node::Proc(p @ (ProcNode::Root | ProcNode::DebugRoot)) => {
                match self.vfs.mount_table.mounts.iter().rposition(|m| m.root == MountRoot::Proc(p)) {
                    Some(i) => i,
                    None => return Err(Errno::EINVAL.into()),
                }
            }
            _ => return Err(Errno::EINVAL.into()),
        };
        // do_umount.
        if flags & MNT_EXPIRE != 0 {
            if idx == 0 || flags & (MNT_FORCE | MNT_DETACH) != 0 {
                return Err(Errno::EINVAL.into());
            }
            if self.mount_busy(idx) {
                return Err(Errno::EBUSY.into());
            }
            if !self.vfs.mount_table.mounts[idx].expiry_mark {
                self.vfs.mount_table.mounts[idx].expiry_mark = true;
                return Err(Errno::EAGAIN.into());
            }
        }
        if idx == 0 {
            // The root mount: Linux remounts it read-only (or detaches it); k43's root
            // stays, busy.
            return Err(Errno::EBUSY.into());
        }
        if flags & MNT_DETACH == 0 && self.mount_busy(idx) {
            return Err(Errno::EBUSY.into());
        }
        let m = self.vfs.mount_table.mounts.remove(idx);
        if let Some(mp) = m.mountpoint {
            self.vfs.mounts.remove(&mp);
        }
        Ok(0)
    }

    /// `mount -t ext3|ext4 SOURCE TARGET`: `SOURCE` must name a virtio disk's node
    /// (`ENOTBLK` for anything else, `ENXIO` without the disk), `TARGET` a ramfs
    /// directory nothing is mounted on; then the filesystem is read and the mount
    /// recorded. Re-run after each wait for the disk. Divergence: Linux checks the
    /// mountpoint (`do_add_mount`) after reading the superblock; k43 checks it first, so
    /// a bad mountpoint fails without touching the disk.
    fn ext_sys_mount(&mut self, pid: Pid, fstype: &str, source: Option<Vec<u8>>, node: Node, flags: u64, mnt_flags: u32) -> SysResult {
        let source = source.ok_or(Errno::EINVAL)?;
        let resumed = self.restart_state(pid).is_some();
        let target_ino = match node {
            Node::Ram(ino) => ino,
            // A re-run after the mount existed: the target now walks into it.
            Node::Ext4(m, _) if resumed => self.ext.mounts.get(&m).map(|x| x.mountpoint).ok_or(Errno::EINVAL)?,
            _ => return Err(Errno::EBUSY.into()),
        };
        if !resumed {
            if !self.node_is_dir(node) {
                return Err(Errno::ENOTDIR.into());
            }
            if target_ino == super::ramfs::ROOT_INO || self.vfs.mounts.contains_key(&target_ino) {
                return Err(Errno::EBUSY.into());
            }
        }
        // lookup_bdev: the source node, a block device, its disk.
        let src = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &source)?;
        let Node::Ram(sino) = src else { return Err(Errno::ENOTBLK.into()) };
        let rdev = self.blkdev_of(sino).ok_or(Errno::ENOTBLK)?;
        let disk = self.virtblk_of(rdev).ok_or(Errno::ENXIO)?;
        let ty = if fstype == "ext3" { crate::fs::ext4::MountType::Ext3 } else { crate::fs::ext4::MountType::Ext4 };
        self.ext_mount(pid, ty, disk, target_ino, flags & MS_RDONLY != 0)?;
        let Some(m) = self.ext.of_disk(disk) else { return Err(Errno::EIO.into()) };
        let sb_flags = flags & (MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_RDONLY);
        self.vfs.mount_table.mounts.push(Mount { devname: source, fstype: String::from(fstype), mountpoint: Some(target_ino), root: MountRoot::Ext(m), mnt_flags, sb_flags, expiry_mark: false });
        Ok(0)
    }

    /// `propagate_mount_busy`: open files or working directories on the mount, or
    /// mounts below it.
    fn mount_busy(&self, idx: usize) -> bool {
        let root = self.vfs.mount_table.mounts[idx].root;
        let on = |n: Node| root_of(n) == Some(root);
        if self.files.any(|f| on(f.node)) {
            return true;
        }
        self.fs_structs.values().any(|f| on(f.cwd))
    }
}
