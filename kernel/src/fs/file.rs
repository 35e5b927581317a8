//! Open file descriptions (`struct file`), descriptor tables (`files_struct`) and
//! `fs_struct`, with explicit reference counts (`fget`/`fput`) as Linux keeps them.

use super::Node;
use crate::hal::Hal;
use crate::kernel::task::ObjId;
use crate::kernel::{Kernel, Pid};
use crate::uapi::fcntl::INR_OPEN_CUR;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// Id of an open file description.
pub type FileId = u64;

/// An open file description, shared by `dup` and `fork`.
#[derive(Clone, Debug)]
pub struct File {
    pub node: Node,
    /// `f_flags`: open flags minus `O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_CLOEXEC`.
    pub flags: u32,
    pub pos: u64,
    /// Descriptors (in any table) referring to this description.
    pub refs: u32,
    /// A procfs file's text, generated when read from offset 0 (seq_file style).
    pub seq_buf: Option<Vec<u8>>,
}

impl Default for File {
    /// The zeroed `struct file` of a fresh slab object (inode 0 exists nowhere); never
    /// seen by anyone: `alloc_file` fills the object before handing its id out.
    fn default() -> File {
        File { node: Node::Ram(0), flags: 0, pos: 0, refs: 0, seq_buf: None }
    }
}

impl File {
    /// Opened for reading (`FMODE_READ`).
    pub fn readable(&self) -> bool {
        self.flags & 3 != 1 && self.flags & crate::uapi::fcntl::O_PATH == 0
    }

    /// Opened for writing (`FMODE_WRITE`).
    pub fn writable(&self) -> bool {
        matches!(self.flags & 3, 1 | 2) && self.flags & crate::uapi::fcntl::O_PATH == 0
    }
}

/// One slot of a descriptor table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdEntry {
    pub file: FileId,
    pub cloexec: bool,
}

/// `files_struct`: a descriptor table, shared by `CLONE_FILES` tasks.
#[derive(Clone, Debug, Default)]
pub struct FdTable {
    pub fds: Vec<Option<FdEntry>>,
    pub users: u32,
}

impl FdTable {
    /// The lowest free descriptor, below `RLIMIT_NOFILE`.
    pub fn lowest_free(&self) -> Option<usize> {
        let n = self.fds.iter().position(|e| e.is_none()).unwrap_or(self.fds.len());
        (n < INR_OPEN_CUR).then_some(n)
    }

    /// Puts `entry` at `fd` (growing the table).
    pub fn install(&mut self, fd: usize, entry: FdEntry) -> Option<FdEntry> {
        if self.fds.len() <= fd {
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd].replace(entry)
    }

    /// Number of open descriptors.
    pub fn open_count(&self) -> usize {
        self.fds.iter().filter(|e| e.is_some()).count()
    }

    /// `FDSize` of /proc status: the table's capacity (a multiple of 64 in Linux).
    pub fn capacity(&self) -> usize {
        self.fds.len().max(1).next_multiple_of(64)
    }
}

/// `fs_struct`: cwd and umask, shared by `CLONE_FS` tasks.
#[derive(Clone, Debug)]
pub struct FsStruct {
    pub cwd: Node,
    pub umask: u32,
    pub users: u32,
}

impl<H: Hal> Kernel<H> {
    /// `fget`: the file description behind `fd` of `pid`'s table, or `EBADF`.
    pub fn fget(&self, pid: Pid, fd: i32) -> Result<FileId, Errno> {
        let t = self.task(pid).ok_or(Errno::ESRCH)?;
        let table = self.fdtables.get(&t.files).ok_or(Errno::EBADF)?;
        let fd = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        table.fds.get(fd).copied().flatten().map(|e| e.file).ok_or(Errno::EBADF)
    }

    /// The descriptor table id of `pid`.
    pub fn files_of(&self, pid: Pid) -> Result<ObjId, Errno> {
        Ok(self.task(pid).ok_or(Errno::ESRCH)?.files)
    }

    /// Creates an open file description with one reference (`get_empty_filp`); `ENOMEM`
    /// when the `filp` cache cannot grow.
    pub fn alloc_file(&mut self, node: Node, flags: u32) -> Result<FileId, Errno> {
        let id = self.next_id();
        self.files.insert(id, File { node, flags, pos: 0, refs: 1, seq_buf: None })?;
        if let Node::Pipe(p) = node {
            self.pipe_get(p, flags);
        }
        Ok(id)
    }

    /// `fd_install` at the lowest free slot; `EMFILE` when the table is full (the file
    /// reference is dropped in that case).
    pub fn fd_install_lowest(&mut self, pid: Pid, file: FileId, cloexec: bool) -> Result<i32, Errno> {
        let tid = self.files_of(pid)?;
        let slot = self.fdtables.get(&tid).and_then(|t| t.lowest_free());
        let Some(fd) = slot else {
            self.fput(file);
            return Err(Errno::EMFILE);
        };
        if let Some(t) = self.fdtables.get_mut(&tid) {
            t.install(fd, FdEntry { file, cloexec });
        }
        Ok(fd as i32)
    }

    /// `fput`: drops one reference; the last one releases the description (a pipe end
    /// closes, an unlinked inode is evicted).
    pub fn fput(&mut self, file: FileId) {
        let Some(refs) = self.files.update(&file, |f| {
            f.refs -= 1;
            f.refs
        }) else {
            return;
        };
        if refs > 0 {
            return;
        }
        let Some(f) = self.files.remove(&file) else { return };
        self.vfs.dir_cursors.remove(&file);
        match f.node {
            Node::Pipe(p) => self.pipe_put(p, f.flags),
            Node::Userfaultfd(c) => self.uffd_release(c),
            Node::Ram(ino) => self.maybe_evict(ino),
            Node::Ext4(m, i) => self.ext_iput(m, i),
            Node::Proc(_) => {}
            Node::Socket(s) => self.sock_release(s),
        }
    }

    /// Evicts a ramfs inode once it has no links and no open file or mapping refers to it.
    pub fn maybe_evict(&mut self, ino: super::Ino) {
        let Some(inode) = self.vfs.ram.get(ino) else { return };
        let linked = inode.nlink > 0;
        // A mapping holds the file too (vma->vm_file).
        if linked || self.files.any(|f| f.node == Node::Ram(ino)) || self.mapping_in_use(crate::mm::Mapping::Ram(ino)) {
            return;
        }
        self.vfs.ram.evict(ino);
    }

    /// Closes `fd` of `pid` (`__close_fd`).
    pub fn close_fd(&mut self, pid: Pid, fd: i32) -> Result<(), Errno> {
        let tid = self.files_of(pid)?;
        let fd = usize::try_from(fd).map_err(|_| Errno::EBADF)?;
        let entry = self.fdtables.get_mut(&tid).and_then(|t| t.fds.get_mut(fd)).and_then(|e| e.take()).ok_or(Errno::EBADF)?;
        self.fput(entry.file);
        Ok(())
    }

    /// Drops one user of a descriptor table, closing everything when it was the last.
    pub fn put_files(&mut self, tid: ObjId) {
        let Some(t) = self.fdtables.get_mut(&tid) else { return };
        t.users -= 1;
        if t.users > 0 {
            return;
        }
        let t = self.fdtables.remove(&tid).expect("present above");
        for e in t.fds.into_iter().flatten() {
            self.fput(e.file);
        }
    }

    /// `dup_fd`: a copy of a descriptor table for `fork` without `CLONE_FILES`.
    pub fn dup_files(&mut self, tid: ObjId) -> ObjId {
        let mut copy = self.fdtables.get(&tid).cloned().unwrap_or_default();
        copy.users = 1;
        for e in copy.fds.iter().flatten() {
            self.files.update(&e.file, |f| f.refs += 1);
        }
        let id = self.next_id();
        self.fdtables.insert(id, copy);
        id
    }

    /// Closes the close-on-exec descriptors (`do_close_on_exec`).
    pub fn close_on_exec(&mut self, tid: ObjId) {
        let mut to_put = Vec::new();
        if let Some(t) = self.fdtables.get_mut(&tid) {
            for slot in t.fds.iter_mut() {
                if slot.is_some_and(|e| e.cloexec) {
                    to_put.push(slot.take().expect("checked").file);
                }
            }
        }
        for f in to_put {
            self.fput(f);
        }
    }
}
