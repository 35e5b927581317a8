//! `execve` (`fs/exec.c`, `security/commoncap.c:cap_bprm_set_creds`).
//!
//! k43 runs built-in programs: a regular file whose content starts `#!k43 NAME` runs the
//! program registered as NAME, so the file's mode bits, owner, setuid/setgid bits and
//! xattrs decide permission and credentials exactly as for an ELF binary.

use super::task::TaskState;
use super::{KEvent, Kernel, Pid};
use crate::fs::{InodeData, Node, MAY_EXEC};
use crate::hal::Hal;
use crate::syscalls::dispatch::SysResult;
use crate::security::commoncap::{capable, get_vfs_caps, VFS_CAP_REVISION_MASK};
use crate::security::cred::Cred;
use crate::uapi::capability::{CAP_SETUID, SECBIT_KEEP_CAPS, SECBIT_NOROOT};
use crate::uapi::xattr::XATTR_NAME_CAPS;
use crate::uapi::stat::{S_ISGID, S_ISUID, S_IXGRP};
use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// `MAX_ARG_STRLEN`: 32 pages per string.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// The argument space: a quarter of the 8 MiB stack limit (`get_arg_page`'s check).
pub const ARG_MAX: usize = (8 << 20) / 4;
/// The magic that names a built-in program.
pub const K43_MAGIC: &[u8] = b"#!k43 ";

impl<H: Hal> Kernel<H> {
    /// Reads a NULL-terminated array of string pointers (`copy_strings`), charging each
    /// string against `ARG_MAX`.
    fn copy_strings(&mut self, pid: Pid, mut arr: u64, budget: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
        let mut out = Vec::new();
        if arr == 0 {
            return Ok(out);
        }
        loop {
            let p = self.get_user_u64(pid, arr)?;
            if p == 0 {
                return Ok(out);
            }
            let s = self.strncpy_from_user(pid, p, MAX_ARG_STRLEN)?.ok_or(Errno::E2BIG)?;
            let cost = s.len() + 1 + 8;
            if cost > *budget {
                return Err(Errno::E2BIG);
            }
            *budget -= cost;
            out.push(s);
            arr += 8;
        }
    }

    /// `check_unsafe_exec`: `LSM_UNSAFE_SHARE` when the fs struct is shared beyond the
    /// thread group, `LSM_UNSAFE_NO_NEW_PRIVS` under no_new_privs. (k43 has no ptrace
    /// yet, so `LSM_UNSAFE_PTRACE`/`_PTRACE_CAP` are never set.)
    pub(crate) fn bprm_unsafe(&self, pid: Pid) -> u32 {
        let Some(t) = self.task(pid) else { return 0 };
        let mut u = 0;
        if t.no_new_privs {
            u |= LSM_UNSAFE_NO_NEW_PRIVS;
        }
        let n_fs = self.tasks.values().filter(|o| o.tgid == t.tgid && o.fs == t.fs && o.state != TaskState::Zombie).count() as u32;
        if self.fs_structs.get(&t.fs).is_some_and(|f| f.users > n_fs) {
            u |= LSM_UNSAFE_SHARE;
        }
        u
    }

    pub(crate) fn sys_execve(&mut self, pid: Pid, filename: u64, argv: u64, envp: u64) -> SysResult {
        let path = self.getname(pid, filename)?;
        let node = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &path)?;
        let cred = self.task(pid).ok_or(Errno::ESRCH)?.cred.clone();
        let Node::Ram(ino) = node else { return Err(Errno::EACCES.into()) };
        // The binary's bytes as a mapping may have changed them.
        self.filemap_writeback(ino);
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        let InodeData::Reg(content) = &inode.data else { return Err(Errno::EACCES.into()) };
        crate::fs::namei::inode_permission(&cred, inode, MAY_EXEC)?;
        let (mode, fuid, fgid) = (inode.mode, inode.uid, inode.gid);
        let size = content.len() as u64;
        let caps_xattr = inode.xattrs.get(XATTR_NAME_CAPS.as_bytes()).map(<[u8]>::to_vec);
        let program = content
            .strip_prefix(K43_MAGIC)
            .map(|rest| rest.split(|&b| b == b'\n' || b == b' ').next().unwrap_or(&[]))
            .and_then(|n| core::str::from_utf8(n).ok())
            .map(String::from);
        // The arguments are copied before any binary handler looks at the file, so a
        // bad argv is EFAULT even for a file no handler takes (ENOEXEC comes last).
        let mut budget = ARG_MAX;
        let args = self.copy_strings(pid, argv, &mut budget)?;
        let _env = self.copy_strings(pid, envp, &mut budget)?;
        let program = program.filter(|n| self.has_program(n)).ok_or(Errno::ENOEXEC)?;
        // check_unsafe_exec + cap_bprm_set_creds, before the point of no return.
        let task = self.task(pid).ok_or(Errno::ESRCH)?;
        let nnp = task.no_new_privs;
        let unsafe_ = self.bprm_unsafe(pid);
        let file = BprmFile { mode, uid: fuid, gid: fgid, caps_xattr: caps_xattr.as_deref(), nosuid: false };
        let (new, notes) = match bprm_creds(&cred, &file, nnp, unsafe_) {
            Ok(r) => r,
            Err(e) => {
                if e == Errno::EINVAL {
                    crate::printk!(self, "get_file_caps: get_vfs_caps_from_disk returned -22 for {}", String::from_utf8_lossy(&path));
                }
                return Err(e.into());
            }
        };
        if notes.warn_mixed && self.warned & (1 << 2) == 0 {
            self.warned |= 1 << 2;
            crate::printk!(self, "warning: `{}' has both setuid-root and effective capabilities. Therefore not raising all capabilities.", String::from_utf8_lossy(&path));
        }
        let mut new_mm = crate::mm::mm_alloc(&self.hal)?;
        self.map_exec_text(&mut new_mm, ino, size);
        // setup_new_exec: dumpable unless the caller runs with set-id ids; commit_creds
        // below clears it when the exec changes ids or grows the permitted set.
        new_mm.dumpable = (cred.euid == cred.uid && cred.egid == cred.gid) as u8;

        // Point of no return.
        let tgid = self.cur_tgid(pid)?;
        let others: Vec<Pid> = self.tasks.values().filter(|t| t.tgid == tgid && t.pid != pid && t.state != TaskState::Zombie).map(|t| t.pid).collect();
        for o in others {
            // de_thread: the other threads die; the exec'ing thread keeps its own pid here
            // (Linux moves it to the leader's pid when a non-leader execs; k43 keeps
            // the simpler case and documents it).
            self.do_exit(o, 0);
        }
        self.replace_mm(pid, new_mm);
        let files = self.files_of(pid)?;
        self.close_on_exec(files);
        self.commit_creds(pid, new);
        let base = path.rsplit(|&b| b == b'/').next().unwrap_or(&path);
        let comm = String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned();
        let vfork = self.tasks.get_mut(&pid).and_then(|t| {
            t.comm = comm;
            t.vfork_done.take()
        });
        if let Some(wq) = vfork {
            self.wake_up(wq);
        }
        self.events.push_back(KEvent::Exec { pid, program, argv: args });
        // ptrace_event(PTRACE_EVENT_EXEC): with TRACEEXEC an event stop (message = the
        // former thread id), else a legacy SIGTRAP for a non-seized tracee. k43 takes it
        // at the new program's first kernel entry.
        if let Some(t) = self.tasks.get_mut(&pid) {
            use crate::uapi::ptrace::{PTRACE_EVENT_EXEC, PTRACE_O_TRACEEXEC};
            if t.ptrace.tracer != 0 {
                if t.ptrace.options & PTRACE_O_TRACEEXEC != 0 {
                    t.ptrace.message = pid as u64;
                    t.ptrace.pending_stop = Some(crate::kernel::ptrace::event_status(PTRACE_EVENT_EXEC));
                } else if !t.ptrace.seized {
                    t.ptrace.pending_stop = Some(crate::uapi::wait::stopped(crate::uapi::signal::SIGTRAP));
                }
            }
        }
        Ok(0)
    }
}

/// `bprm->unsafe` bits (`include/linux/security.h`).
pub const LSM_UNSAFE_SHARE: u32 = 1;
pub const LSM_UNSAFE_PTRACE: u32 = 2;
pub const LSM_UNSAFE_PTRACE_CAP: u32 = 4;
pub const LSM_UNSAFE_NO_NEW_PRIVS: u32 = 8;

/// What `execve` knows about the file when it computes the new credentials.
#[derive(Clone, Copy, Debug)]
pub struct BprmFile<'a> {
    /// `i_mode`, `i_uid`, `i_gid`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The raw `security.capability` value, if the file has one.
    pub caps_xattr: Option<&'a [u8]>,
    /// The file's mount is `MNT_NOSUID` (set-id bits and file capabilities ignored).
    pub nosuid: bool,
}

/// The outcome of [`bprm_creds`] besides the credential.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BprmNotes {
    /// The file is setuid-root with file capabilities and was run by non-root:
    /// `warn_setuid_and_fcaps_mixed`.
    pub warn_mixed: bool,
    /// The effective bit was set (`bprm->cap_effective`).
    pub effective: bool,
}

/// `bprm_fill_uid` + `cap_bprm_set_creds` (4.3): the credentials `old` has after
/// executing `file`. `unsafe_` is `bprm->unsafe`; `nnp` the task's no_new_privs.
/// Errors: `EINVAL`/`ERANGE` for a bad `security.capability` value, `EPERM` when the
/// file's effective bit forces capabilities the bounding/inheritable sets withhold.
pub fn bprm_creds(old: &Cred, file: &BprmFile<'_>, nnp: bool, unsafe_: u32) -> Result<(Cred, BprmNotes), Errno> {
    let mut new = old.clone();
    let mut notes = BprmNotes::default();
    // bprm_fill_uid: set-id bits, unless nosuid, no_new_privs or ids the namespace
    // does not map.
    new.euid = old.euid;
    new.egid = old.egid;
    if !file.nosuid && !nnp && file.mode & (S_ISUID | S_ISGID) != 0 && new.user_ns.has_mapping(file.uid) && new.user_ns.has_mapping(file.gid) {
        if file.mode & S_ISUID != 0 {
            new.euid = file.uid;
        }
        if file.mode & (S_ISGID | S_IXGRP) == (S_ISGID | S_IXGRP) {
            new.egid = file.gid;
        }
    }
    // get_file_caps: bprm_clear_caps, then the xattr.
    new.cap_permitted = 0;
    let mut effective = false;
    let mut has_cap = false;
    if !file.nosuid {
        if let Some(fc) = get_vfs_caps(file.caps_xattr)? {
            effective = fc.effective();
            has_cap = fc.magic_etc & VFS_CAP_REVISION_MASK != 0;
            // pP' = (X & fP) | (pI & fI); the ambient part comes later.
            new.cap_permitted = (new.cap_bset & fc.permitted) | (new.cap_inheritable & fc.inheritable);
            if effective && fc.permitted & !new.cap_permitted != 0 {
                // "Forced" (file-permitted) capabilities the task cannot have.
                return Err(Errno::EPERM);
            }
        }
    }
    let root = new.user_ns.make_kid(0);
    let is_root = |u: u32| root == Some(u);
    // issecure(SECURE_NOROOT) reads the caller's (old) securebits.
    if old.securebits & SECBIT_NOROOT == 0 {
        if has_cap && !is_root(new.uid) && is_root(new.euid) {
            // setuid-root with file capabilities run by non-root: the file's sets only.
            notes.warn_mixed = true;
        } else {
            if is_root(new.euid) || is_root(new.uid) {
                new.cap_permitted = old.cap_bset | old.cap_inheritable;
            }
            if is_root(new.euid) {
                effective = true;
            }
        }
    }
    // Set-id compares against the OLD real ids.
    let is_setid = new.euid != old.uid || new.egid != old.gid;
    if (is_setid || new.cap_permitted & !old.cap_permitted != 0) && unsafe_ & !LSM_UNSAFE_PTRACE_CAP != 0 {
        // Downgrade: no more than they had, and maybe less.
        if !capable(old, CAP_SETUID) || unsafe_ & LSM_UNSAFE_NO_NEW_PRIVS != 0 {
            new.euid = new.uid;
            new.egid = new.gid;
        }
        new.cap_permitted &= old.cap_permitted;
    }
    new.suid = new.euid;
    new.fsuid = new.euid;
    new.sgid = new.egid;
    new.fsgid = new.egid;
    // File caps or set-id cancel the ambient set (4.3: new.pA still holds old.pA here).
    if has_cap || is_setid {
        new.cap_ambient = 0;
    }
    new.cap_permitted |= new.cap_ambient;
    new.cap_effective = if effective { new.cap_permitted } else { new.cap_ambient };
    new.securebits &= !SECBIT_KEEP_CAPS;
    notes.effective = effective;
    if !new.ambient_invariant_ok() {
        return Err(Errno::EPERM);
    }
    Ok((new, notes))
}
