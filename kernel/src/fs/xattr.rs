//! Extended attributes (`fs/xattr.c`, tmpfs's `simple_xattr` store, commoncap's
//! `cap_inode_setxattr`/`cap_inode_removexattr`).
//!
//! The root filesystem keeps xattrs the way 4.3's tmpfs does: the `security.` and
//! `trusted.` namespaces are stored; `user.` (tmpfs gained it in 6.6) and `system.`
//! (POSIX ACLs, not modelled) answer `EOPNOTSUPP`.

use super::open::owner_or_capable;
use super::{Inode, Node, MAY_READ, MAY_WRITE};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::security::commoncap::capable;
use crate::security::cred::Cred;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::{CAP_SETFCAP, CAP_SYS_ADMIN};
use crate::uapi::stat::{S_IFDIR, S_IFMT, S_IFREG, S_ISVTX};
use crate::uapi::xattr::*;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// An inode's attributes in `simple_xattr` list order: a new name goes to the front, a
/// replaced value keeps its place.
#[derive(Clone, Debug, Default)]
pub struct Xattrs(Vec<(Vec<u8>, Vec<u8>)>);

impl Xattrs {
    /// The value of `name`.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// Sets `name`, keeping its position when it exists.
    pub fn set(&mut self, name: &[u8], value: Vec<u8>) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = value,
            None => self.0.insert(0, (name.to_vec(), value)),
        }
    }

    /// Removes `name`; whether it existed.
    pub fn remove(&mut self, name: &[u8]) -> bool {
        let before = self.0.len();
        self.0.retain(|(n, _)| n != name);
        before != self.0.len()
    }

    /// Names in list order.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(|(n, _)| n.as_slice())
    }
}

/// `xattr_permission` (4.3).
fn xattr_permission(cred: &Cred, inode: &Inode, name: &[u8], mask: u32) -> Result<(), Errno> {
    if name.starts_with(XATTR_SECURITY_PREFIX.as_bytes()) || name.starts_with(XATTR_SYSTEM_PREFIX.as_bytes()) {
        return Ok(());
    }
    if name.starts_with(XATTR_TRUSTED_PREFIX.as_bytes()) {
        if !capable(cred, CAP_SYS_ADMIN) {
            return Err(if mask & MAY_WRITE != 0 { Errno::EPERM } else { Errno::ENODATA });
        }
        return Ok(());
    }
    if name.starts_with(XATTR_USER_PREFIX.as_bytes()) {
        let fmt = inode.mode & S_IFMT;
        if fmt != S_IFREG && fmt != S_IFDIR {
            return Err(if mask & MAY_WRITE != 0 { Errno::EPERM } else { Errno::ENODATA });
        }
        if fmt == S_IFDIR && inode.mode & S_ISVTX != 0 && mask & MAY_WRITE != 0 && !owner_or_capable(cred, inode.uid) {
            return Err(Errno::EPERM);
        }
    }
    super::namei::inode_permission(cred, inode, mask)
}

/// commoncap's set/remove check on `security.*` names.
fn cap_inode_xattr_change(cred: &Cred, name: &[u8]) -> Result<(), Errno> {
    if name == XATTR_NAME_CAPS.as_bytes() {
        return if capable(cred, CAP_SETFCAP) { Ok(()) } else { Err(Errno::EPERM) };
    }
    if name.starts_with(XATTR_SECURITY_PREFIX.as_bytes()) && !capable(cred, CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// `shmem_xattr_validate`: the namespaces 4.3's tmpfs stores.
/// A prefix with nothing after it (`"trusted."`) is `EINVAL`.
fn store_validate(name: &[u8]) -> Result<(), Errno> {
    for prefix in [XATTR_SECURITY_PREFIX, XATTR_TRUSTED_PREFIX] {
        if let Some(rest) = name.strip_prefix(prefix.as_bytes()) {
            return if rest.is_empty() { Err(Errno::EINVAL) } else { Ok(()) };
        }
    }
    Err(Errno::EOPNOTSUPP)
}

impl<H: Hal> Kernel<H> {
    /// Reads an attribute name: `ERANGE` when empty or longer than `XATTR_NAME_MAX`.
    fn xattr_name(&mut self, pid: Pid, addr: u64) -> Result<Vec<u8>, Errno> {
        match self.strncpy_from_user(pid, addr, XATTR_NAME_MAX + 1)? {
            Some(n) if !n.is_empty() => Ok(n),
            _ => Err(Errno::ERANGE),
        }
    }

    fn xattr_inode(&mut self, pid: Pid, path: u64) -> Result<(u64, Cred), Errno> {
        let p = self.getname(pid, path)?;
        let node = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &p)?;
        let cred = self.task(pid).ok_or(Errno::ESRCH)?.cred.clone();
        match node {
            Node::Ram(ino) => Ok((ino, cred)),
            // ext3 inodes are answered by ext_xattr (the caller looked first).
            // procfs and pipefs store no attributes.
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// The ext3 inode a path names, if it names one (the xattr calls' ext4 branch).
    fn xattr_ext_inode(&mut self, pid: Pid, path: u64) -> Result<Option<((crate::fs::extfs::MntId, u32), Cred, Inode)>, Errno> {
        let p = self.getname(pid, path)?;
        let node = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &p)?;
        let Node::Ext4(m, i) = node else { return Ok(None) };
        let cred = self.task(pid).ok_or(Errno::ESRCH)?.cred.clone();
        let st = self.ext_stat((m, i))?;
        // The VFS checks see the inode's mode and owners only.
        let view = Inode { ino: u64::from(i), mode: u32::from(st.mode), uid: st.uid, gid: st.gid, nlink: u32::from(st.nlink), data: super::InodeData::Reg(Vec::new()), xattrs: Default::default(), atime: 0, mtime: 0, ctime: 0 };
        Ok(Some(((m, i), cred, view)))
    }

    /// `vfs_setxattr` with root-like admin use too.
    pub fn do_setxattr(&mut self, cred: &Cred, ino: u64, name: &[u8], value: Vec<u8>, flags: u32) -> Result<(), Errno> {
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        xattr_permission(cred, inode, name, MAY_WRITE)?;
        cap_inode_xattr_change(cred, name)?;
        store_validate(name)?;
        let exists = inode.xattrs.get(name).is_some();
        if flags & XATTR_CREATE != 0 && exists {
            return Err(Errno::EEXIST);
        }
        if flags & XATTR_REPLACE != 0 && !exists {
            return Err(Errno::ENODATA);
        }
        let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
        let inode = self.vfs.ram.get_mut(ino).ok_or(Errno::ENOENT)?;
        inode.xattrs.set(name, value);
        inode.ctime = now;
        Ok(())
    }

    pub(crate) fn sys_setxattr(&mut self, pid: Pid, path: u64, name: u64, value: u64, size: usize, flags: u32) -> SysResult {
        let ext = self.xattr_ext_inode(pid, path)?;
        let ram = if ext.is_none() { Some(self.xattr_inode(pid, path)?) } else { None };
        if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let name = self.xattr_name(pid, name)?;
        if size > XATTR_SIZE_MAX {
            return Err(Errno::E2BIG.into());
        }
        let value = if size > 0 { self.read_user(pid, value, size)? } else { Vec::new() };
        match (ext, ram) {
            (Some((e, cred, view)), _) => {
                xattr_permission(&cred, &view, &name, MAY_WRITE)?;
                cap_inode_xattr_change(&cred, &name)?;
                self.ext_setxattr(pid, e, &name, Some(&value), flags)?;
            }
            (None, Some((ino, cred))) => self.do_setxattr(&cred, ino, &name, value, flags)?,
            (None, None) => return Err(Errno::EOPNOTSUPP.into()),
        }
        Ok(0)
    }

    /// `vfs_getxattr`: the value of `name`.
    pub fn do_getxattr(&self, cred: &Cred, ino: u64, name: &[u8]) -> Result<Vec<u8>, Errno> {
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        xattr_permission(cred, inode, name, MAY_READ)?;
        store_validate(name)?;
        inode.xattrs.get(name).map(<[u8]>::to_vec).ok_or(Errno::ENODATA)
    }

    pub(crate) fn sys_getxattr(&mut self, pid: Pid, path: u64, name: u64, value: u64, size: usize) -> SysResult {
        let ext = self.xattr_ext_inode(pid, path)?;
        let (ino, cred) = match &ext {
            Some((_, c, _)) => (0, c.clone()),
            None => self.xattr_inode(pid, path)?,
        };
        let name = self.xattr_name(pid, name)?;
        let size = size.min(XATTR_SIZE_MAX);
        let v = match ext {
            Some((e, cred, view)) => {
                xattr_permission(&cred, &view, &name, MAY_READ)?;
                self.ext_getxattr(e, &name)?
            }
            None => self.do_getxattr(&cred, ino, &name)?,
        };
        if size == 0 {
            return Ok(v.len() as i64);
        }
        if size < v.len() {
            return Err(if size >= XATTR_SIZE_MAX { Errno::E2BIG } else { Errno::ERANGE }.into());
        }
        self.copy_to_user(pid, value, &v)?;
        Ok(v.len() as i64)
    }

    /// `simple_xattr_list`: NUL-separated names; `trusted.*` only for CAP_SYS_ADMIN.
    pub fn do_listxattr(&self, cred: &Cred, ino: u64) -> Result<Vec<u8>, Errno> {
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        let admin = capable(cred, CAP_SYS_ADMIN);
        let mut out = Vec::new();
        for n in inode.xattrs.names() {
            if n.starts_with(XATTR_TRUSTED_PREFIX.as_bytes()) && !admin {
                continue;
            }
            out.extend_from_slice(n);
            out.push(0);
        }
        Ok(out)
    }

    pub(crate) fn sys_listxattr(&mut self, pid: Pid, path: u64, list: u64, size: usize) -> SysResult {
        let names = match self.xattr_ext_inode(pid, path)? {
            Some((e, cred, _)) => {
                // ext4_listxattr: trusted.* only for CAP_SYS_ADMIN.
                let admin = capable(&cred, CAP_SYS_ADMIN);
                let mut out = Vec::new();
                for n in self.ext_listxattr(e)? {
                    if n.starts_with(XATTR_TRUSTED_PREFIX.as_bytes()) && !admin {
                        continue;
                    }
                    out.extend_from_slice(&n);
                    out.push(0);
                }
                out
            }
            None => {
                let (ino, cred) = self.xattr_inode(pid, path)?;
                self.do_listxattr(&cred, ino)?
            }
        };
        let size = size.min(XATTR_LIST_MAX);
        if size == 0 {
            return Ok(names.len() as i64);
        }
        if size < names.len() {
            return Err(if size >= XATTR_LIST_MAX { Errno::E2BIG } else { Errno::ERANGE }.into());
        }
        self.copy_to_user(pid, list, &names)?;
        Ok(names.len() as i64)
    }

    /// `vfs_removexattr`.
    pub fn do_removexattr(&mut self, cred: &Cred, ino: u64, name: &[u8]) -> Result<(), Errno> {
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        xattr_permission(cred, inode, name, MAY_WRITE)?;
        cap_inode_xattr_change(cred, name)?;
        store_validate(name)?;
        let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
        let inode = self.vfs.ram.get_mut(ino).ok_or(Errno::ENOENT)?;
        if !inode.xattrs.remove(name) {
            return Err(Errno::ENODATA);
        }
        inode.ctime = now;
        Ok(())
    }

    pub(crate) fn sys_removexattr(&mut self, pid: Pid, path: u64, name: u64) -> SysResult {
        if let Some((e, cred, view)) = self.xattr_ext_inode(pid, path)? {
            let name = self.xattr_name(pid, name)?;
            xattr_permission(&cred, &view, &name, MAY_WRITE)?;
            cap_inode_xattr_change(&cred, &name)?;
            self.ext_setxattr(pid, e, &name, None, 0)?;
            return Ok(0);
        }
        let (ino, cred) = self.xattr_inode(pid, path)?;
        let name = self.xattr_name(pid, name)?;
        self.do_removexattr(&cred, ino, &name)?;
        Ok(0)
    }
}

/// Extended attributes as root (what `setcap`/`getcap` on the host do).
impl<H: Hal> Kernel<H> {
    fn admin_xattr_target(&self, path: &[u8]) -> Result<(u64, Cred), Errno> {
        let cred = self.task(crate::kernel::INIT_PID).map(|t| t.cred.clone()).unwrap_or_else(|| Cred::new(0, 0));
        match self.admin_lookup(path)? {
            Node::Ram(ino) => Ok((ino, cred)),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// `setxattr(path, name, value, 0)` as root.
    pub fn admin_setxattr(&mut self, path: &[u8], name: &[u8], value: &[u8]) -> Result<(), Errno> {
        let (ino, cred) = self.admin_xattr_target(path)?;
        self.do_setxattr(&cred, ino, name, value.to_vec(), 0)
    }

    /// `getxattr(path, name)` as root.
    pub fn admin_getxattr(&self, path: &[u8], name: &[u8]) -> Result<Vec<u8>, Errno> {
        let (ino, cred) = self.admin_xattr_target(path)?;
        self.do_getxattr(&cred, ino, name)
    }

    /// `removexattr(path, name)` as root.
    pub fn admin_removexattr(&mut self, path: &[u8], name: &[u8]) -> Result<(), Errno> {
        let (ino, cred) = self.admin_xattr_target(path)?;
        self.do_removexattr(&cred, ino, name)
    }
}
