//! The core (Linux's `kernel/` directory): the [`Kernel`] state machine, tasks, the
//! scheduler and wait queues, fork/exit/wait/exec, ids and time.

pub mod exec;
pub mod exit;
pub mod fork;
pub mod invariants;
pub mod lkdtm;
pub mod ptrace;
pub mod random;
pub mod seccomp;
pub mod sched;
pub mod signal;
pub mod sys;
pub mod task;

use crate::fs::file::{FdTable, File, FsStruct};
use crate::fs::pipe::Pipe;
use crate::fs::ramfs::{Ramfs, ROOT_INO};
use crate::fs::sysctl::{KnobValue, Sysctl};
use crate::fs::{Node, PipeId, Vfs};
use crate::hal::Hal;
use crate::mm::frame::FrameAllocator;
use crate::mm::slab::{SlabFlags, SlabMap};
use crate::mm::Mm;
use crate::printk::LogBuf;
use crate::sync::SpinLock;
use alloc::sync::Arc;
use crate::security::cred::Cred;
use crate::syscalls::{Arch, Sysno};
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use sched::Sched;
pub use task::{ObjId, Pid, Task, TaskState};

/// Boot-time settings of one kernel instance.
#[derive(Clone, Debug)]
pub struct KernelConfig {
    /// The syscall ABI user programs speak.
    pub arch: Arch,
    /// `kernel.hostname` at boot.
    pub hostname: String,
    /// `CONFIG_X86_PMEM_LEGACY` (the `nd_e820` driver): legacy pmem ranges in the physical
    /// map are probed at boot into `/dev/pmemN`. Off for tests that drive the pmem driver
    /// themselves.
    pub pmem_legacy: bool,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig { arch: Arch::X86_64, hostname: String::from("k43"), pmem_legacy: true }
    }
}

/// What the kernel tells whoever drives it (the harness, the bare-metal loop).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KEvent {
    /// A syscall returned to user mode with `ret` (`-errno` on failure); `sysno` is
    /// `None` for a number the table does not know (`-ENOSYS`).
    SyscallReturn { pid: Pid, sysno: Option<Sysno>, ret: i64 },
    /// `pid`'s syscall could not finish and the task sleeps (it will be re-run on wakeup).
    Blocked { pid: Pid },
    /// `clone`/`fork` made `child`; it starts in user mode, returning 0.
    Forked { parent: Pid, child: Pid },
    /// `execve` succeeded: `pid` now runs built-in `program` with `argv`.
    Exec { pid: Pid, program: String, argv: Vec<Vec<u8>> },
    /// A user-mode access that entered the kernel through the page-fault path
    /// ([`Kernel::submit_touch`]) can now complete: the program retries it.
    Touched { pid: Pid },
    /// `pid` exited with `wait4` status `status`; it runs no more user code.
    Exited { pid: Pid, status: i32 },
}

/// One kernel instance: a host of the simulated world, or the kernel of a real machine.
pub struct Kernel<H: Hal> {
    /// The platform.
    pub hal: H,
    /// The ABI syscall numbers are read in.
    pub arch: Arch,
    pub(crate) tasks: BTreeMap<Pid, Task>,
    next_pid: Pid,
    next_obj: u64,
    pub(crate) sched: Sched,
    pub(crate) events: VecDeque<KEvent>,
    /// Page frames, shared with the kernel's slab caches (their page source).
    pub(crate) frames: Arc<SpinLock<FrameAllocator>>,
    /// The page cache (ramfs files and shmem while mapped) and the zero page.
    pub(crate) page_cache: crate::mm::filemap::PageCache,
    pub(crate) mms: BTreeMap<ObjId, Mm>,
    pub(crate) fdtables: BTreeMap<ObjId, FdTable>,
    pub(crate) fs_structs: BTreeMap<ObjId, FsStruct>,
    /// Open file descriptions, in the `filp` slab cache.
    pub(crate) files: SlabMap<File>,
    pub(crate) pipes: BTreeMap<PipeId, Pipe>,
    /// The physical resource tree, `memremap` areas and ZONE_DEVICE pages.
    pub(crate) iomem: crate::mm::memremap::Iomem,
    /// Set while `user_mode_access` runs: a userfault must not park the task.
    pub(crate) uaccess_nowait: bool,
    /// userfaultfd contexts and the faults sleeping on them.
    pub(crate) uffd: crate::fs::userfaultfd::UffdState,
    /// The network namespace: devices (and, as the network issue lands, the stack).
    pub(crate) net: crate::net::Net,
    /// The mounted filesystems.
    pub vfs: Vfs,
    /// The disks.
    pub(crate) blk: crate::block::blkdev::BlockDevs,
    /// Mounted ext3 filesystems (and mounts in progress).
    pub(crate) ext: crate::fs::extfs::ExtState,
    log: LogBuf,
    binfmts: BTreeSet<String>,
    /// Bits of one-time warnings already printed.
    pub(crate) warned: u32,
}

/// `pid_max` default (`PID_MAX_DEFAULT`).
pub const PID_MAX: Pid = 32768;
/// The init process.
pub const INIT_PID: Pid = 1;

impl<H: Hal> Kernel<H> {
    /// Boots a kernel on `hal`: RAM, the root filesystem with `/proc`, `/bin`, `/etc`,
    /// `/tmp`, the sysctl tree and init (pid 1).
    pub fn new(hal: H, config: KernelConfig) -> Kernel<H> {
        let frames = Arc::new(SpinLock::new(FrameAllocator::new(hal.ram_regions())));
        let iomem = crate::mm::memremap::Iomem::new(&hal);
        let net = crate::net::Net::boot(&hal);
        let now = hal.now_ns() + hal.realtime_offset_ns();
        let mut ram = Ramfs::new(now);
        let proc_mountpoint = ram.create_dir(ROOT_INO, b"proc", 0o555, 0, 0, now);
        for (name, mode) in [("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("dev", 0o755)] {
            ram.create_dir(ROOT_INO, name.as_bytes(), mode, 0, 0, now);
        }
        let sys = ram.create_dir(ROOT_INO, b"sys", 0o555, 0, 0, now);
        let sys_kernel = ram.create_dir(sys, b"kernel", 0o755, 0, 0, now);
        let debug_mountpoint = ram.create_dir(sys_kernel, b"debug", 0o700, 0, 0, now);
        let mounts = [(proc_mountpoint, crate::fs::proc::ProcNode::Root), (debug_mountpoint, crate::fs::proc::ProcNode::DebugRoot)].into_iter().collect();
        let mut k = Kernel {
            arch: config.arch,
            hal,
            tasks: BTreeMap::new(),
            next_pid: INIT_PID,
            next_obj: 1,
            sched: Sched::default(),
            events: VecDeque::new(),
            frames: frames.clone(),
            page_cache: Default::default(),
            mms: BTreeMap::new(),
            fdtables: BTreeMap::new(),
            fs_structs: BTreeMap::new(),
            files: SlabMap::new("filp", SlabFlags::HWCACHE_ALIGN | SlabFlags::PANIC, frames.clone()).expect("struct file fits a slab"),
            pipes: BTreeMap::new(),
            uffd: Default::default(),
            uaccess_nowait: false,
            net,
            iomem,
            vfs: Vfs { ram, mounts, sysctl: Sysctl::default(), mount_table: crate::fs::namespace::MountTable::boot(proc_mountpoint, debug_mountpoint), dir_cursors: BTreeMap::new() },
            blk: Default::default(),
            ext: Default::default(),
            log: LogBuf::default(),
            binfmts: BTreeSet::new(),
            warned: 0,
        };
        k.register_core_sysctls(&config.hostname);
        crate::printk!(k, "Linux version {} (k43) {}", crate::uapi::utsname::UTS_RELEASE, crate::uapi::utsname::UTS_VERSION);
        let total = k.frames.lock().total;
        crate::printk!(k, "Memory: {}K available", total * 4);
        if config.pmem_legacy {
            k.pmem_boot_probe();
        }
        k.blk_probe();
        let init = k.create_process(Cred::new(0, 0), "init", INIT_PID).expect("init at boot");
        debug_assert_eq!(init, INIT_PID);
        if let Some(t) = k.tasks.get_mut(&INIT_PID) {
            t.state = TaskState::Sleeping;
        }
        k
    }

    fn register_core_sysctls(&mut self, hostname: &str) {
        let s = &mut self.vfs.sysctl;
        let str_knob = |v: &str, maxlen| KnobValue::Str { value: v.into(), maxlen };
        s.register("kernel/hostname", 0o644, str_knob(hostname, 65));
        s.register("kernel/domainname", 0o644, str_knob("(none)", 65));
        s.register("kernel/ostype", 0o444, str_knob("Linux", 65));
        s.register("kernel/osrelease", 0o444, str_knob(crate::uapi::utsname::UTS_RELEASE, 65));
        s.register("kernel/version", 0o444, str_knob(crate::uapi::utsname::UTS_VERSION, 65));
        s.register("kernel/pid_max", 0o644, KnobValue::Int { value: PID_MAX as i64, min: 301, max: 4 * 1024 * 1024 });
        s.register("kernel/cap_last_cap", 0o444, KnobValue::Int { value: crate::uapi::capability::CAP_LAST_CAP as i64, min: 0, max: 63 });
        s.register("kernel/ngroups_max", 0o444, KnobValue::Int { value: 65536, min: 0, max: 65536 });
        // Bug compatibility (default 0 = fixed): 1 restores 4.3's CVE-2022-30594, where
        // PTRACE_SEIZE with PTRACE_O_SUSPEND_SECCOMP skipped the CAP_SYS_ADMIN and
        // "tracer not itself filtered" checks PTRACE_SETOPTIONS applies (fixed upstream
        // by ee1fee900537, 5.18).
        s.register("kernel/k43_bugcompat_ptrace_seize_suspend_seccomp", 0o644, KnobValue::Int { value: 0, min: 0, max: 1 });
        s.register("fs/pipe-max-size", 0o644, KnobValue::Int { value: 1 << 20, min: 4096, max: i32::MAX as i64 });
        s.register("vm/max_map_count", 0o644, KnobValue::Int { value: crate::mm::DEFAULT_MAX_MAP_COUNT, min: 0, max: i32::MAX as i64 });
        crate::security::min_addr::register(s);
        s.register(crate::net::ipv6::ip6_forward::FORWARDING_SYSCTL, 0o644, KnobValue::Int { value: 0, min: i32::MIN as i64, max: i32::MAX as i64 });
        s.register(crate::block::blkdev::BIO_CHAIN_SYSCTL, 0o644, KnobValue::Int { value: 0, min: 0, max: 1 });
        s.register(crate::net::ipv4::ip_forward::IP_FORWARD_SYSCTL, 0o644, KnobValue::Int { value: 0, min: i32::MIN as i64, max: i32::MAX as i64 });
    }

    /// Registers a built-in program `execve` may run (a `#!k43 NAME` file).
    pub fn register_program(&mut self, name: &str) {
        self.binfmts.insert(name.into());
    }

    /// Whether `name` is a registered program.
    pub fn has_program(&self, name: &str) -> bool {
        self.binfmts.contains(name)
    }

    /// Logs a kernel message (use the [`printk!`](crate::printk!) macro).
    pub fn printk(&mut self, args: core::fmt::Arguments<'_>) {
        let line = LogBuf::format(self.hal.now_ns(), args);
        self.hal.console_write(line.as_bytes());
        self.hal.console_write(b"\n");
        self.log.push(line);
    }

    /// The kernel log (`dmesg`).
    pub fn dmesg(&self) -> &[String] {
        self.log.lines()
    }

    /// A fresh id for a kernel object.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_obj += 1;
        self.next_obj
    }

    /// Allocates a pid (`alloc_pid`): the next unused number, wrapping at `pid_max` to 300
    /// as Linux does.
    pub(crate) fn alloc_pid(&mut self) -> Result<Pid, Errno> {
        let max = self.vfs.sysctl.int("kernel/pid_max").unwrap_or(PID_MAX as i64) as Pid;
        for _ in 0..max {
            let p = self.next_pid;
            self.next_pid = if p + 1 >= max { 300 } else { p + 1 };
            if !self.tasks.contains_key(&p) {
                return Ok(p);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// A task by pid.
    pub fn task(&self, pid: Pid) -> Option<&Task> {
        self.tasks.get(&pid)
    }

    /// All tasks, by pid.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.values()
    }

    /// Creates a new process as a child of init, with `cred`, in a fresh address space
    /// and with an empty descriptor table: what a login or a service manager would start.
    /// `want_pid` is honoured when free (init at boot).
    pub fn create_process(&mut self, cred: Cred, comm: &str, want_pid: Pid) -> Result<Pid, Errno> {
        let pid = if want_pid > 0 && !self.tasks.contains_key(&want_pid) { want_pid } else { self.alloc_pid()? };
        let mm = crate::mm::mm_alloc(&self.hal)?;
        let mm_id = self.next_id();
        self.mms.insert(mm_id, mm);
        let files = self.next_id();
        self.fdtables.insert(files, FdTable { fds: Vec::new(), users: 1 });
        let fs = self.next_id();
        self.fs_structs.insert(fs, FsStruct { cwd: Node::Ram(ROOT_INO), umask: 0o022, users: 1 });
        let parent = if pid == INIT_PID { 0 } else { INIT_PID };
        self.tasks.insert(
            pid,
            Task {
                pid,
                tgid: pid,
                parent,
                pgid: pid,
                comm: comm.chars().take(15).collect(),
                state: TaskState::Running,
                cred,
                files,
                fs,
                mm: mm_id,
                exit_signal: crate::uapi::signal::SIGCHLD,
                exit_code: 0,
                group_exiting: false,
                syscall: None,
                cpu_ns: 0,
                nvcsw: 0,
                nivcsw: 0,
                vfork_done: None,
                pending_signal: 0,
                signal: Default::default(),
                no_new_privs: false,
                seccomp: Default::default(),
                clear_child_tid: 0,
                ptrace: Default::default(),
            },
        );
        if pid >= self.next_pid {
            self.next_pid = pid + 1;
        }
        Ok(pid)
    }

    /// Events produced since the last call, oldest first.
    pub fn take_events(&mut self) -> impl Iterator<Item = KEvent> + '_ {
        self.events.drain(..)
    }

    /// Frames in use, slab caches' included (for leak checks).
    pub fn frames_used(&self) -> u64 {
        self.frames.lock().used
    }

    /// Frames the kernel's slab caches hold. A cache keeps its slabs after the objects are
    /// freed (until `kmem_cache_shrink`), so a leak check compares `frames_used` minus
    /// these, and [`Kernel::open_files`] for the objects themselves.
    pub fn slab_frames(&self) -> u64 {
        self.files.cache().frames().len() as u64
    }

    /// Open file descriptions (objects in use in the `filp` cache).
    pub fn open_files(&self) -> usize {
        self.files.len()
    }
}

/// Administration as root (what a shell on the host would do), for harness commands and
/// boot-time setup. Paths resolve from `/` with init's credentials.
impl<H: Hal> Kernel<H> {
    fn admin_cred(&self) -> Cred {
        self.task(INIT_PID).map(|t| t.cred.clone()).unwrap_or_else(|| Cred::new(0, 0))
    }

    /// Resolves an absolute path as root.
    pub fn admin_lookup(&self, path: &[u8]) -> Result<Node, Errno> {
        self.path_lookup(INIT_PID, crate::uapi::fcntl::AT_FDCWD, path)
    }

    /// Creates (or replaces the content of) a regular file.
    pub fn admin_write_file(&mut self, path: &[u8], mode: u32, uid: u32, gid: u32, content: &[u8]) -> Result<(), Errno> {
        let p = self.path_parent(INIT_PID, crate::uapi::fcntl::AT_FDCWD, path)?;
        let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
        match self.path_lookup_from(INIT_PID, &p) {
            Ok(Node::Ram(ino)) => {
                let i = self.vfs.ram.get_mut(ino).ok_or(Errno::ENOENT)?;
                match &mut i.data {
                    crate::fs::InodeData::Reg(d) => *d = content.to_vec(),
                    _ => return Err(Errno::EISDIR),
                }
                i.mode = crate::uapi::stat::S_IFREG | (mode & 0o7777);
                i.uid = uid;
                i.gid = gid;
                i.mtime = now;
                self.filemap_refresh(ino);
                Ok(())
            }
            Ok(node) => {
                let cred = self.admin_cred();
                self.proc_write_node(&cred, node, content)
            }
            Err(Errno::ENOENT) => {
                let Node::Ram(dir) = p.dir else { return Err(Errno::EACCES) };
                self.vfs.ram.create_file(dir, &p.last, mode, uid, gid, content.to_vec(), now);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn proc_write_node(&mut self, cred: &Cred, node: Node, data: &[u8]) -> Result<(), Errno> {
        match node {
            Node::Proc(p) => self.proc_write(cred, p, data).map(|_| ()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Creates a directory.
    pub fn admin_mkdir(&mut self, path: &[u8], mode: u32, uid: u32, gid: u32) -> Result<(), Errno> {
        let p = self.path_parent(INIT_PID, crate::uapi::fcntl::AT_FDCWD, path)?;
        if self.path_lookup_from(INIT_PID, &p).is_ok() {
            return Err(Errno::EEXIST);
        }
        let Node::Ram(dir) = p.dir else { return Err(Errno::EACCES) };
        let now = self.hal.now_ns().saturating_add(self.hal.realtime_offset_ns());
        self.vfs.ram.create_dir(dir, &p.last, mode, uid, gid, now);
        Ok(())
    }

    /// Reads a whole file (procfs included).
    pub fn admin_read(&self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        match self.admin_lookup(path)? {
            Node::Ram(ino) => match &self.vfs.ram.get(ino).ok_or(Errno::ENOENT)?.data {
                crate::fs::InodeData::Reg(d) => {
                    // Stores through shared mappings are in the page cache, not yet in d.
                    let mut d = d.clone();
                    for (pgoff, pa) in self.page_cache.pages_of(crate::mm::Mapping::Ram(ino)) {
                        let start = pgoff.saturating_mul(crate::hal::PAGE_SIZE);
                        if start < d.len() as u64 {
                            let s = start as usize;
                            let n = (d.len() - s).min(crate::hal::PAGE_SIZE as usize);
                            self.hal.phys_read(pa, &mut d[s..s + n]);
                        }
                    }
                    Ok(d)
                }
                _ => Err(Errno::EISDIR),
            },
            Node::Proc(p) => self.proc_read(p),
            // Only what the cache holds: an admin read cannot wait for the disk.
            Node::Ext4(m, i) => self.ext_peek(m, |fs, io| {
                let st = fs.stat(io, i)?;
                fs.read(io, i, 0, st.size as usize)
            }),
            Node::Pipe(_) | Node::Userfaultfd(_) | Node::Socket(_) => Err(Errno::EINVAL),
        }
    }

    /// `chmod` as root.
    pub fn admin_chmod(&mut self, path: &[u8], mode: u32) -> Result<(), Errno> {
        let node = self.admin_lookup(path)?;
        let cred = self.admin_cred();
        self.do_chmod(INIT_PID, &cred, node, mode)
    }

    /// `chown` as root (`u32::MAX` keeps an id).
    pub fn admin_chown(&mut self, path: &[u8], uid: u32, gid: u32) -> Result<(), Errno> {
        let node = self.admin_lookup(path)?;
        let cred = self.admin_cred();
        self.do_chown(INIT_PID, &cred, node, uid, gid)
    }

    /// `sysctl -w key=value` (dotted or slashed key).
    pub fn admin_sysctl_write(&mut self, key: &str, value: &str) -> Result<(), Errno> {
        let idx = self.vfs.sysctl.find(key).ok_or(Errno::ENOENT)?;
        let node = Node::Proc(crate::fs::proc::ProcNode::SysFile(idx as u32));
        let cred = self.admin_cred();
        self.proc_write_node(&cred, node, value.as_bytes())
    }

    /// `sysctl key`: the value without the newline.
    pub fn admin_sysctl_read(&self, key: &str) -> Result<String, Errno> {
        let idx = self.vfs.sysctl.find(key).ok_or(Errno::ENOENT)?;
        let v = self.vfs.sysctl.read(idx).ok_or(Errno::ENOENT)?;
        Ok(String::from_utf8_lossy(&v).trim_end_matches('\n').into())
    }

    /// Sets supplementary groups of a task (what `initgroups` did before it started).
    pub fn set_groups(&mut self, pid: Pid, mut groups: Vec<u32>) {
        groups.sort_unstable();
        groups.dedup();
        if let Some(t) = self.tasks.get_mut(&pid) {
            t.cred.groups = groups;
        }
    }
}
