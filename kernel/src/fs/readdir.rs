//! getdents64 (`fs/readdir.c`): `struct linux_dirent64` records filled by `filldir64`
//! from `dcache_readdir` (ramfs) and procfs's directory iterators.

use super::proc::ProcNode;
use super::{InodeData, Node};
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::mm::uaccess::access_ok;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::fcntl::O_PATH;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `offsetof(struct linux_dirent64, d_name)`: d_ino (8), d_off (8), d_reclen (2),
/// d_type (1).
pub const DIRENT64_NAME_OFF: usize = 19;

/// `DT_*` values (`S_IFMT >> 12`).
pub const DT_UNKNOWN: u8 = 0;
pub const DT_FIFO: u8 = 1;
pub const DT_CHR: u8 = 2;
pub const DT_DIR: u8 = 4;
pub const DT_BLK: u8 = 6;
pub const DT_REG: u8 = 8;
pub const DT_LNK: u8 = 10;
pub const DT_SOCK: u8 = 12;
pub const DT_WHT: u8 = 14;

/// Names of the `d_type` values, as strace prints them.
pub static DT_NAMES: &[(&str, u64)] = &[
    ("DT_UNKNOWN", 0),
    ("DT_FIFO", 1),
    ("DT_CHR", 2),
    ("DT_DIR", 4),
    ("DT_BLK", 6),
    ("DT_REG", 8),
    ("DT_LNK", 10),
    ("DT_SOCK", 12),
    ("DT_WHT", 14),
];

/// The cursor dentry `dcache_dir_open` puts in an open directory's `d_subdirs`: the
/// file position it was left at and the link sequence of the last entry passed (`None`:
/// at the head of the list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirCursor {
    pub pos: u64,
    pub after: Option<u64>,
}

/// Size of a record for a name of `namlen` bytes: the header, the name and its NUL,
/// aligned to 8 bytes.
pub fn dirent64_reclen(namlen: usize) -> usize {
    (DIRENT64_NAME_OFF + namlen + 1).next_multiple_of(8)
}

/// One `struct linux_dirent64` (`d_off` is the position after this entry).
pub fn dirent64_bytes(ino: u64, off: u64, d_type: u8, name: &[u8]) -> Vec<u8> {
    let reclen = dirent64_reclen(name.len());
    let mut b = alloc::vec![0u8; reclen];
    b[0..8].copy_from_slice(&ino.to_le_bytes());
    b[8..16].copy_from_slice(&off.to_le_bytes());
    b[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
    b[18] = d_type;
    b[DIRENT64_NAME_OFF..DIRENT64_NAME_OFF + name.len()].copy_from_slice(name);
    b
}

/// `ext4_filetype_table` (`get_dtype`): a directory entry's file type as `DT_*`.
pub fn ext4_dtype(ft: u8) -> u8 {
    match ft {
        1 => DT_REG,
        2 => DT_DIR,
        3 => 2,
        4 => 6,
        5 => 1,
        6 => 12,
        7 => 10,
        _ => DT_UNKNOWN,
    }
}

/// `dt_type`: a mode's file type as a `DT_*` value.
pub fn dt_type(mode: u32) -> u8 {
    ((mode >> 12) & 15) as u8
}

/// A `filldir64` buffer: records packed one after the other until one does not fit.
struct Filldir {
    out: Vec<u8>,
    count: usize,
    /// Offset in `out` of the last record written (its `d_off` is patched later).
    previous: Option<usize>,
    full: bool,
}

impl Filldir {
    /// `dir_emit`: false when the record does not fit (iteration stops there).
    fn emit(&mut self, name: &[u8], pos: u64, ino: u64, d_type: u8) -> bool {
        let reclen = dirent64_reclen(name.len());
        if self.out.len() + reclen > self.count {
            self.full = true;
            return false;
        }
        // filldir64 stores the previous record's d_off as this entry's position.
        if let Some(p) = self.previous {
            self.out[p + 8..p + 16].copy_from_slice(&pos.to_le_bytes());
        }
        self.previous = Some(self.out.len());
        self.out.extend_from_slice(&dirent64_bytes(ino, 0, d_type, name));
        true
    }
}

/// Where `dcache_dir_lseek` leaves the cursor for position `pos`: after the first
/// `pos - 2` entries (`None`: at the head).
fn cursor_after(children: &[(u64, Vec<u8>, super::Ino)], pos: u64) -> Option<u64> {
    if pos <= 2 {
        return None;
    }
    let skip = (pos - 2) as usize;
    match children.get(skip - 1) {
        Some(c) => Some(c.0),
        // Past the end: after the last entry.
        None => children.last().map(|c| c.0),
    }
}

impl<H: Hal> Kernel<H> {
    /// `dcache_dir_lseek` moved directory file `fid` (of ramfs directory `ino`) to `pos`:
    /// the cursor moves now, so entries created later stay before it.
    pub(crate) fn dcache_dir_lseek(&mut self, fid: super::file::FileId, ino: super::Ino, pos: u64) {
        if !matches!(self.vfs.ram.get(ino).map(|i| &i.data), Some(InodeData::Dir { .. })) {
            return;
        }
        let children = self.vfs.ram.children(ino);
        let after = cursor_after(&children, pos);
        self.vfs.dir_cursors.insert(fid, DirCursor { pos, after });
    }

    pub(crate) fn sys_getdents64(&mut self, pid: Pid, fd: i32, dirent: u64, count: u32) -> SysResult {
        let count = count as usize;
        if !access_ok(dirent, count) {
            return Err(Errno::EFAULT.into());
        }
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        // fdget does not see O_PATH descriptors.
        if f.flags & O_PATH != 0 {
            return Err(Errno::EBADF.into());
        }
        let (node, start) = (f.node, f.pos);
        let mut buf = Filldir { out: Vec::new(), count, previous: None, full: false };
        let mut pos = start;
        match node {
            Node::Ram(ino) => {
                let Some(inode) = self.vfs.ram.get(ino) else { return Err(Errno::EBADF.into()) };
                let InodeData::Dir { parent, .. } = &inode.data else { return Err(Errno::ENOTDIR.into()) };
                // iterate_dir: a removed directory reads as ENOENT.
                if inode.nlink == 0 {
                    return Err(Errno::ENOENT.into());
                }
                let parent = *parent;
                // A mounted-on directory's root is seen here only through its mount.
                let children = self.vfs.ram.children(ino);
                let mut after = match self.vfs.dir_cursors.get(&fid) {
                    Some(c) if c.pos == pos => c.after,
                    _ => cursor_after(&children, pos),
                };
                let mut stopped = false;
                if pos == 0 {
                    if buf.emit(b".", pos, ino, DT_DIR) {
                        pos = 1;
                    } else {
                        stopped = true;
                    }
                }
                if !stopped && pos == 1 {
                    if buf.emit(b"..", pos, parent, DT_DIR) {
                        pos = 2;
                    } else {
                        stopped = true;
                    }
                }
                if !stopped {
                    if pos == 2 {
                        after = None;
                    }
                    let from = after;
                    for (seq, name, child) in children.iter().filter(|c| from.is_none_or(|a| c.0 < a)) {
                        let d_type = self.vfs.ram.get(*child).map(|i| dt_type(i.mode)).unwrap_or(DT_UNKNOWN);
                        if !buf.emit(name, pos, *child, d_type) {
                            break;
                        }
                        after = Some(*seq);
                        pos += 1;
                    }
                }
                self.vfs.dir_cursors.insert(fid, DirCursor { pos, after });
            }
            Node::Ext4(m, i) => {
                let st = self.ext_stat((m, i))?;
                if u32::from(st.mode) & crate::uapi::stat::S_IFMT != crate::uapi::stat::S_IFDIR {
                    return Err(Errno::ENOTDIR.into());
                }
                if st.nlink == 0 {
                    return Err(Errno::ENOENT.into());
                }
                // ext4_readdir: hash order with hash positions for what is_dx_dir
                // covers, block order with block positions otherwise.
                for e in self.ext_readdir((m, i), pos, 512)? {
                    if !buf.emit(&e.name, pos, u64::from(e.ino), ext4_dtype(e.file_type)) {
                        break;
                    }
                    pos = e.next_pos;
                }
            }
            Node::Proc(p) if p.is_dir() => {
                // proc_readdir-style: ".", "..", then the directory's entries in a fixed
                // order; the position counts entries.
                let entries = self.proc_dir_entries(pid, p);
                for (i, (name, ino, d_type)) in entries.iter().enumerate().skip(pos as usize) {
                    if !buf.emit(name, i as u64, *ino, *d_type) {
                        break;
                    }
                    pos = i as u64 + 1;
                }
            }
            _ => return Err(Errno::ENOTDIR.into()),
        }
        let Some(last) = buf.previous else {
            // Nothing fit: EINVAL when an entry was offered, 0 at the end.
            return if buf.full { Err(Errno::EINVAL.into()) } else { Ok(0) };
        };
        buf.out[last + 8..last + 16].copy_from_slice(&pos.to_le_bytes());
        self.files.update(&fid, |fm| fm.pos = pos);
        self.copy_to_user(pid, dirent, &buf.out)?;
        Ok(buf.out.len() as i64)
    }

    /// The entries of a procfs directory as readdir lists them: name, inode number and
    /// `DT_*` type, `.` and `..` first.
    pub fn proc_dir_entries(&self, pid: Pid, dir: ProcNode) -> Vec<(Vec<u8>, u64, u8)> {
        let mut names: Vec<Vec<u8>> = alloc::vec![b".".to_vec(), b"..".to_vec()];
        match dir {
            ProcNode::Root => {
                for n in ["iomem", "mounts", "net", "self", "slabinfo", "sys", "version"] {
                    names.push(n.as_bytes().to_vec());
                }
                let mut pids: Vec<Pid> = self.tasks.values().filter(|t| t.pid == t.tgid).map(|t| t.pid).collect();
                pids.sort_unstable();
                names.extend(pids.into_iter().map(|p| alloc::format!("{p}").into_bytes()));
            }
            ProcNode::PidDir(_) => names.extend(["comm", "maps", "mounts", "status"].iter().map(|n| n.as_bytes().to_vec())),
            ProcNode::NetDir => names.extend(["arp", "dev", "netstat", "snmp", "snmp6"].iter().map(|n| n.as_bytes().to_vec())),
            ProcNode::DebugRoot => names.push(b"provoke-crash".to_vec()),
            ProcNode::ProvokeCrash => names.push(b"DIRECT".to_vec()),
            _ => {}
        }
        let mut out = Vec::new();
        for name in names {
            let node = match name.as_slice() {
                b"." => Ok(Node::Proc(dir)),
                // A filesystem root is its own parent (`parent_ino` within the sb).
                b".." if matches!(dir, ProcNode::Root | ProcNode::DebugRoot) => Ok(Node::Proc(dir)),
                b".." => self.walk_one(pid, Node::Proc(dir), b".."),
                n => self.proc_lookup(pid, dir, n),
            };
            let Ok(node) = node else { continue };
            let Ok(st) = self.getattr(node) else { continue };
            out.push((name, st.ino, dt_type(st.mode)));
        }
        out
    }
}
