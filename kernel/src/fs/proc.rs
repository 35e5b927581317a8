//! procfs: `/proc/<pid>/status` and `/proc/<pid>/maps` in 4.3's exact text (the latter in
//! `task_mmu.rs`), `/proc/<pid>/comm`, `/proc/self`,
//! `/proc/version` and the `/proc/sys` tree; and the few debugfs entries k43 has
//! (`/sys/kernel/debug/provoke-crash/DIRECT`, lkdtm's) and `/sys/block`'s disk files
//! (`block/sysfs.rs`), which are synthetic nodes of the same kind.

use super::{Node, MAY_WRITE};
use crate::hal::Hal;
use crate::kernel::task::TaskState;
use crate::kernel::{Kernel, Pid};
use crate::security::cred::Cred;
use crate::uapi::stat::{S_IFDIR, S_IFREG};
use crate::uapi::utsname::{UTS_RELEASE, UTS_VERSION};
use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// A procfs entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProcNode {
    /// `/proc`.
    Root,
    /// `/proc/<pid>`.
    PidDir(Pid),
    /// `/proc/<pid>/status`.
    Status(Pid),
    /// `/proc/<pid>/comm`.
    Comm(Pid),
    /// `/proc/<pid>/maps`.
    Maps(Pid),
    /// `/proc/version`.
    Version,
    /// `/proc/mounts` and `/proc/<pid>/mounts` (one mount namespace).
    Mounts,
    /// `/proc/iomem`: the physical memory map (`kernel/resource.c`).
    Iomem,
    /// `/proc/slabinfo`: the kernel's slab caches (`mm/slab_common.c`).
    Slabinfo,
    /// `/proc/net` (a symlink to `self/net` in Linux; one namespace here, so a directory).
    NetDir,
    /// `/proc/net/dev`: device counters.
    NetDev,
    /// `/proc/net/snmp`: the IPv4, ICMP, TCP and UDP MIBs.
    NetSnmp,
    /// `/proc/net/snmp6`: the IPv6, ICMPv6 and UDPv6 MIBs.
    NetSnmp6,
    /// `/proc/net/netstat`: `TcpExt` and `IpExt`.
    NetNetstat,
    /// `/proc/net/arp`: the ARP table (`arp_seq_show`).
    NetArp,
    /// A directory of `/proc/sys`: index of a knob below it and the depth of the directory
    /// in that knob's path (`/proc/sys` itself is depth 0 of any knob).
    SysDir(u32, u32),
    /// A sysctl file: the knob's index.
    SysFile(u32),
    /// debugfs's root, mounted on `/sys/kernel/debug`.
    DebugRoot,
    /// `/sys/kernel/debug/provoke-crash` (lkdtm).
    ProvokeCrash,
    /// `/sys/kernel/debug/provoke-crash/DIRECT`: writing a crash type runs it now.
    ProvokeCrashDirect,
    /// `/sys/block` (sysfs; mounted once a disk is probed).
    SysBlock,
    /// `/sys/block/<dev>`: the HAL's disk number.
    SysBlockDisk(u32),
    /// `/sys/block/<dev>/queue`.
    SysBlockQueue(u32),
    /// A file of either directory (`block/sysfs.rs`).
    SysBlockAttr(u32, crate::block::sysfs::BlkAttr),
}

impl ProcNode {
    /// Whether this entry is a directory.
    pub fn is_dir(self) -> bool {
        matches!(self, ProcNode::Root | ProcNode::NetDir | ProcNode::PidDir(_) | ProcNode::SysDir(..) | ProcNode::DebugRoot | ProcNode::ProvokeCrash | ProcNode::SysBlock | ProcNode::SysBlockDisk(_) | ProcNode::SysBlockQueue(_))
    }

    /// procfs permission: `generic_permission` on the entry's mode. `/proc/sys` files use
    /// `proc_sys_permission`'s test (root-owned, no capability override for writes).
    pub fn permission(self, cred: &Cred, mode: u32, uid: u32, gid: u32, mask: u32) -> Result<(), Errno> {
        if let ProcNode::SysFile(_) = self {
            let m = if cred.euid == 0 { mode >> 6 } else if cred.egid == 0 || cred.groups.contains(&0) { mode >> 3 } else { mode };
            return if mask & !m & 7 == 0 { Ok(()) } else { Err(Errno::EACCES) };
        }
        super::namei::generic_permission(cred, mode, uid, gid, mask)
    }
}

/// Splits a knob path into its components.
fn comps(path: &str) -> Vec<&str> {
    path.split('/').collect()
}

impl<H: Hal> Kernel<H> {
    /// Looks `name` up in procfs directory `dir`.
    pub fn proc_lookup(&self, pid: Pid, dir: ProcNode, name: &[u8]) -> Result<Node, Errno> {
        let name = core::str::from_utf8(name).map_err(|_| Errno::ENOENT)?;
        let node = match dir {
            ProcNode::Root => match name {
                "." => ProcNode::Root,
                "self" => ProcNode::PidDir(self.task(pid).ok_or(Errno::ESRCH)?.tgid),
                "version" => ProcNode::Version,
                "mounts" => ProcNode::Mounts,
                "iomem" => ProcNode::Iomem,
                "slabinfo" => ProcNode::Slabinfo,
                "net" => ProcNode::NetDir,
                "sys" if !self.vfs.sysctl.knobs.is_empty() => ProcNode::SysDir(0, 0),
                _ => {
                    let n: Pid = name.parse().map_err(|_| Errno::ENOENT)?;
                    if name.starts_with('0') || name.starts_with('+') || self.task(n).is_none() {
                        return Err(Errno::ENOENT);
                    }
                    ProcNode::PidDir(n)
                }
            },
            ProcNode::NetDir => match name {
                "." => dir,
                ".." => ProcNode::Root,
                "dev" => ProcNode::NetDev,
                "snmp" => ProcNode::NetSnmp,
                "snmp6" => ProcNode::NetSnmp6,
                "netstat" => ProcNode::NetNetstat,
                "arp" => ProcNode::NetArp,
                _ => return Err(Errno::ENOENT),
            },
            ProcNode::PidDir(p) => match name {
                "." => dir,
                ".." => ProcNode::Root,
                "status" => ProcNode::Status(p),
                "comm" => ProcNode::Comm(p),
                "maps" => ProcNode::Maps(p),
                "mounts" => ProcNode::Mounts,
                _ => return Err(Errno::ENOENT),
            },
            ProcNode::SysDir(k, depth) => {
                let knob = &self.vfs.sysctl.knobs[k as usize];
                let prefix = &comps(&knob.path)[..depth as usize];
                match name {
                    "." => dir,
                    ".." if depth == 0 => ProcNode::Root,
                    ".." => ProcNode::SysDir(k, depth - 1),
                    _ => {
                        let found = self.vfs.sysctl.knobs.iter().enumerate().find_map(|(i, kn)| {
                            let c = comps(&kn.path);
                            (c.len() > prefix.len() && c[..prefix.len()] == *prefix && c[prefix.len()] == name).then_some((i, c.len()))
                        });
                        match found {
                            Some((i, len)) if len == prefix.len() + 1 => ProcNode::SysFile(i as u32),
                            Some((i, _)) => ProcNode::SysDir(i as u32, depth + 1),
                            None => return Err(Errno::ENOENT),
                        }
                    }
                }
            }
            ProcNode::DebugRoot => match name {
                "." => dir,
                "provoke-crash" => ProcNode::ProvokeCrash,
                _ => return Err(Errno::ENOENT),
            },
            ProcNode::ProvokeCrash => match name {
                "." => dir,
                ".." => ProcNode::DebugRoot,
                "DIRECT" => ProcNode::ProvokeCrashDirect,
                _ => return Err(Errno::ENOENT),
            },
            ProcNode::SysBlock | ProcNode::SysBlockDisk(_) | ProcNode::SysBlockQueue(_) => self.sysfs_block_lookup(dir, name)?,
            _ => return Err(Errno::ENOTDIR),
        };
        Ok(Node::Proc(node))
    }

    /// Mode, owner and group of a procfs entry; `None` once its task is gone.
    pub fn proc_attr(&self, node: ProcNode) -> Option<(u32, u32, u32)> {
        let task_owner = |p: Pid| self.task(p).map(|t| (t.cred.euid, t.cred.egid));
        Some(match node {
            ProcNode::Root | ProcNode::SysDir(..) => (S_IFDIR | 0o555, 0, 0),
            ProcNode::PidDir(p) => {
                let (u, g) = task_owner(p)?;
                (S_IFDIR | 0o555, u, g)
            }
            ProcNode::Status(p) | ProcNode::Maps(p) => {
                let (u, g) = task_owner(p)?;
                (S_IFREG | 0o444, u, g)
            }
            ProcNode::Comm(p) => {
                let (u, g) = task_owner(p)?;
                (S_IFREG | 0o644, u, g)
            }
            ProcNode::Version | ProcNode::Iomem | ProcNode::Mounts => (S_IFREG | 0o444, 0, 0),
            // proc_create("slabinfo", S_IRUSR, …): root only.
            ProcNode::Slabinfo => (S_IFREG | 0o400, 0, 0),
            ProcNode::NetDir => (S_IFDIR | 0o555, 0, 0),
            ProcNode::NetDev | ProcNode::NetSnmp | ProcNode::NetSnmp6 | ProcNode::NetNetstat | ProcNode::NetArp => (S_IFREG | 0o444, 0, 0),
            ProcNode::SysFile(k) => (S_IFREG | self.vfs.sysctl.knobs.get(k as usize)?.mode, 0, 0),
            // DEBUGFS_DEFAULT_MODE for the root; debugfs_create_dir's 0755; lkdtm's 0644.
            ProcNode::DebugRoot => (S_IFDIR | 0o700, 0, 0),
            ProcNode::ProvokeCrash => (S_IFDIR | 0o755, 0, 0),
            ProcNode::ProvokeCrashDirect => (S_IFREG | 0o644, 0, 0),
            ProcNode::SysBlock => (S_IFDIR | 0o755, 0, 0),
            ProcNode::SysBlockDisk(d) | ProcNode::SysBlockQueue(d) => {
                self.blk.disks.iter().find(|g| g.disk == d)?;
                (S_IFDIR | 0o755, 0, 0)
            }
            ProcNode::SysBlockAttr(d, a) => {
                self.blk.disks.iter().find(|g| g.disk == d)?;
                (S_IFREG | a.mode(), 0, 0)
            }
        })
    }

    /// The text of a procfs file, generated now.
    pub fn proc_read(&self, node: ProcNode) -> Result<Vec<u8>, Errno> {
        match node {
            ProcNode::Status(p) => self.proc_pid_status(p).map(String::into_bytes),
            ProcNode::Maps(p) => self.proc_pid_maps(p).map(String::into_bytes),
            ProcNode::Comm(p) => {
                let mut s = self.task(p).ok_or(Errno::ESRCH)?.comm.clone();
                s.push('\n');
                Ok(s.into_bytes())
            }
            ProcNode::Version => Ok(alloc::format!("Linux version {UTS_RELEASE} (k43@k43) (rustc) {UTS_VERSION}\n").into_bytes()),
            // 4.3 shows the real addresses to every reader.
            ProcNode::Iomem => Ok(self.iomem.iomem_text().into_bytes()),
            ProcNode::Mounts => Ok(self.proc_mounts_text().into_bytes()),
            ProcNode::NetDev => Ok(self.net.proc_net_dev().into_bytes()),
            ProcNode::NetSnmp => Ok(crate::net::snmp::snmp_seq_show(&self.net.mib, self.ipv4_forwarding(), 64).into_bytes()),
            ProcNode::NetSnmp6 => Ok(crate::net::snmp::snmp6_seq_show(&self.net.mib).into_bytes()),
            ProcNode::NetNetstat => Ok(crate::net::snmp::netstat_seq_show(&self.net.mib).into_bytes()),
            ProcNode::NetArp => Ok(self.net.proc_net_arp().into_bytes()),
            ProcNode::Slabinfo => Ok(alloc::format!("{}\n{}\n", crate::mm::slab::SLABINFO_HEADER, self.files.slabinfo()).into_bytes()),
            ProcNode::SysFile(k) => self.vfs.sysctl.read(k as usize).ok_or(Errno::ENOENT),
            ProcNode::ProvokeCrashDirect => Ok(crate::kernel::lkdtm::available_types()),
            ProcNode::SysBlockAttr(d, a) => Ok(a.show(self.blk.disks.iter().find(|g| g.disk == d).ok_or(Errno::ENODEV)?).into_bytes()),
            _ => Err(Errno::EISDIR),
        }
    }

    /// A write to a procfs file at offset 0.
    pub fn proc_write(&mut self, cred: &Cred, node: ProcNode, data: &[u8]) -> Result<usize, Errno> {
        match node {
            ProcNode::SysFile(k) => {
                let (mode, uid, gid) = self.proc_attr(node).ok_or(Errno::ENOENT)?;
                node.permission(cred, mode, uid, gid, MAY_WRITE)?;
                if let Some(check) = self.vfs.sysctl.knobs.get(k as usize).and_then(|kn| kn.write_check) {
                    check(cred)?;
                }
                self.vfs.sysctl.write(k as usize, data)?;
                Ok(data.len())
            }
            ProcNode::Comm(p) => {
                // comm_write: same thread group only; 15 bytes kept.
                let t = self.tasks.get_mut(&p).ok_or(Errno::ESRCH)?;
                let line = data.split(|&b| b == b'\n').next().unwrap_or(&[]);
                t.comm = String::from_utf8_lossy(&line[..line.len().min(15)]).into_owned();
                Ok(data.len())
            }
            ProcNode::SysBlockAttr(d, a) => a.store(self.blk.by_hal(d).ok_or(Errno::ENODEV)?, data),
            _ => Err(Errno::EINVAL),
        }
    }

    /// `proc_pid_status` exactly as 4.3's `fs/proc/array.c` prints it.
    pub fn proc_pid_status(&self, pid: Pid) -> Result<String, Errno> {
        let t = self.task(pid).ok_or(Errno::ESRCH)?;
        let c = &t.cred;
        let mut s = String::new();
        let ppid = if t.pid == 1 { 0 } else { t.parent };
        let fdsize = self.fdtables.get(&t.files).map(|f| f.capacity()).unwrap_or(0);
        let _ = write!(s, "Name:\t{}\n", t.comm);
        let _ = write!(
            s,
            "State:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t{}\nUid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{}\nGroups:\t",
            t.state.proc_text(),
            t.tgid,
            t.pid,
            ppid,
            self.task(t.ptrace.tracer).map(|x| x.tgid).unwrap_or(0),
            c.uid,
            c.euid,
            c.suid,
            c.fsuid,
            c.gid,
            c.egid,
            c.sgid,
            c.fsgid,
            fdsize
        );
        for g in &c.groups {
            let _ = write!(s, "{g} ");
        }
        s.push('\n');
        if t.state != TaskState::Zombie {
            if let Some(mm) = self.mms.get(&t.mm) {
                s.push_str(&self.task_mem(mm));
            }
        }
        let threads = self.tasks.values().filter(|o| o.tgid == t.tgid && o.state != TaskState::Zombie).count().max(1);
        let _ = write!(s, "Threads:\t{}\nSigQ:\t0/{}\n", threads, self.rlimit_sigpending());
        // kill(2) queues on the whole group: shown as shared pending.
        for (name, v) in [("SigPnd", 0), ("ShdPnd", t.signal.pending), ("SigBlk", 0), ("SigIgn", 0), ("SigCgt", 0)] {
            let _ = write!(s, "{name}:\t{v:016x}\n");
        }
        let _ = write!(
            s,
            "CapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\nCapAmb:\t{:016x}\n",
            c.cap_inheritable, c.cap_permitted, c.cap_effective, c.cap_bset, c.cap_ambient
        );
        let _ = write!(s, "Seccomp:\t{}\n", t.seccomp.mode);
        let ncpu = self.hal.cpu_count().clamp(1, 64);
        let mask: u64 = if ncpu == 64 { u64::MAX } else { (1u64 << ncpu) - 1 };
        let list = if ncpu == 1 { String::from("0") } else { alloc::format!("0-{}", ncpu - 1) };
        let _ = write!(s, "Cpus_allowed:\t{mask:x}\nCpus_allowed_list:\t{list}\n");
        let _ = write!(s, "Mems_allowed:\t00000000,00000001\nMems_allowed_list:\t0\n");
        let _ = write!(s, "voluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n", t.nvcsw, t.nivcsw);
        Ok(s)
    }

    /// The default `RLIMIT_SIGPENDING`: half of `max_threads` as `fork_init` sizes it
    /// from RAM (8 kernel stacks of 16 KiB per page frame... i.e. RAM / 128 KiB).
    pub fn rlimit_sigpending(&self) -> u64 {
        let ram = self.frames.lock().total * 4096;
        (ram / (8 * 16384)).clamp(20, 4 * 1024 * 1024) / 2
    }
}
