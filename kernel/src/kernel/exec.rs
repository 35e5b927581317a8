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
use crate::uapi::capability::SECBIT_NOROOT;
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

    pub(crate) fn sys_execve(&mut self, pid: Pid, filename: u64, argv: u64, envp: u64) -> SysResult {
        let path = self.getname(pid, filename)?;
        let node = self.path_lookup(pid, crate::uapi::fcntl::AT_FDCWD, &path)?;
        let cred = self.task(pid).ok_or(Errno::ESRCH)?.cred.clone();
        let Node::Ram(ino) = node else { return Err(Errno::EACCES.into()) };
        let inode = self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?;
        let InodeData::Reg(content) = &inode.data else { return Err(Errno::EACCES.into()) };
        crate::fs::namei::inode_permission(&cred, inode, MAY_EXEC)?;
        let (mode, fuid, fgid) = (inode.mode, inode.uid, inode.gid);
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
        let new_mm = crate::mm::mm_alloc(&self.hal)?;

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
        let new = bprm_creds(&cred, mode, fuid, fgid);
        let base = path.rsplit(|&b| b == b'/').next().unwrap_or(&path);
        let comm = String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned();
        let vfork = self.tasks.get_mut(&pid).and_then(|t| {
            t.cred = new;
            t.comm = comm;
            t.vfork_done.take()
        });
        if let Some(wq) = vfork {
            self.wake_up(wq);
        }
        self.events.push_back(KEvent::Exec { pid, program, argv: args });
        Ok(0)
    }
}

/// `bprm_fill_uid` + `cap_bprm_set_creds` for a file without file capabilities (file
/// capabilities and the rest of the exec transform arrive with the security issue).
fn bprm_creds(old: &crate::security::cred::Cred, mode: u32, fuid: u32, fgid: u32) -> crate::security::cred::Cred {
    let mut new = old.clone();
    if mode & S_ISUID != 0 {
        new.euid = fuid;
    }
    if mode & (S_ISGID | S_IXGRP) == (S_ISGID | S_IXGRP) {
        new.egid = fgid;
    }
    // get_file_caps with no xattr: bprm_clear_caps.
    new.cap_permitted = 0;
    let mut effective = false;
    if new.securebits & SECBIT_NOROOT == 0 {
        if new.euid == 0 || new.uid == 0 {
            new.cap_permitted = old.cap_bset | old.cap_inheritable;
        }
        if new.euid == 0 {
            effective = true;
        }
    }
    let is_setid = new.euid != old.uid || new.egid != old.gid;
    new.suid = new.euid;
    new.fsuid = new.euid;
    new.sgid = new.egid;
    new.fsgid = new.egid;
    if is_setid {
        new.cap_ambient = 0;
    }
    new.cap_permitted |= new.cap_ambient;
    new.cap_effective = if effective { new.cap_permitted } else { new.cap_ambient };
    new.securebits &= !crate::uapi::capability::SECBIT_KEEP_CAPS;
    new
}
