//! The `uffd_ops` fuzz target: typed sequences of mmap/munmap/mprotect/madvise/brk,
//! userfaultfd/ioctl(UFFDIO_*)/read/close, fork, threads, exit and memory touches among a
//! faulting process and its handler, generated from the syscall table with `arbitrary`.
//!
//! Setup: process `t` maps a scratch area and a 16-page window (8 pages mapped), opens a
//! non-blocking pipe and a userfaultfd, does the API handshake, registers the mapped part
//! of the window, and forks the handler `h`, which shares the descriptor (its ioctls act
//! on `t`'s memory). Each call's arguments come from the table's argument kinds, biased
//! toward what reaches deep states: addresses are mostly pages of the window or of earlier
//! `mmap` results, lengths a few pages, ioctl structs are written into the caller's
//! scratch page with valid-looking ranges and modes; then 0, -1, unaligned and wild values
//! now and then. A "touch" is a kernel copy: `write(pipe, addr, n)` reads user memory,
//! `read(pipe, addr, n)` stores into it, so a touch of a registered missing page sleeps
//! on the userfault until the handler resolves it.
//!
//! The scratch page (ioctl arguments, `uffd_msg` buffers) is written by the harness as a
//! user-mode store, which cannot sleep on a userfault; ranges overlapping it are never
//! registered (everything else, the pages used as `UFFDIO_COPY` sources included, may be).

use self::consts::*;
use alloc::vec::Vec;
use arbitrary::{Result, Unstructured};
use hal_sim::{SimConfig, SimHal};
use kernel::kernel::TaskState;
use kernel::security::cred::Cred;
use kernel::syscalls::desc::ArgKind;
use kernel::syscalls::{Arch, Sysno};
use kernel::uapi::fcntl::O_NONBLOCK;
use kernel::uapi::mman::*;
use kernel::uapi::userfaultfd::*;
use kernel::uapi::Errno;
use kernel::{KEvent, Kernel, KernelConfig, Pid};

mod consts {
    pub const PAGE: u64 = 4096;
    /// Scratch page for ioctl arguments and message buffers (never registered), followed
    /// by eight pages that `UFFDIO_COPY` reads from by default (registrable).
    pub const SCRATCH: u64 = 0x1000_0000;
    pub const SRC: u64 = SCRATCH + PAGE;
    pub const SRC_PAGES: u64 = 8;
    /// Where the `uffd_msg`s of a `read` go (room for 24).
    pub const MSG_OFF: u64 = 0x100;
    /// The window most addresses fall in.
    pub const WIN: u64 = 0x2000_0000;
    pub const WIN_PAGES: u64 = 16;
    /// Calls per input at most.
    pub const MAX_CALLS: usize = 64;
    /// Tasks at most (forks and threads beyond it are not made).
    pub const MAX_TASKS: usize = 6;
    /// Steps the kernel may take after one call before the next (a bound, not a target).
    pub const MAX_STEPS: usize = 1000;
}

/// What one step does.
#[derive(Clone, Copy, Debug)]
enum Op {
    Sys(Sysno),
    /// `write(pipe, addr, n)`: a kernel load from user memory.
    TouchLoad,
    /// `write(pipe, SRC, n)` then `read(pipe, addr, n)`: a kernel store.
    TouchStore,
    /// `clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD)`.
    Thread,
}

/// The ops, repeated to weight them.
const OPS: &[Op] = &[
    Op::Sys(Sysno::Mmap),
    Op::Sys(Sysno::Mmap),
    Op::Sys(Sysno::Munmap),
    Op::Sys(Sysno::Mprotect),
    Op::Sys(Sysno::Madvise),
    Op::Sys(Sysno::Brk),
    Op::Sys(Sysno::Userfaultfd),
    Op::Sys(Sysno::Ioctl),
    Op::Sys(Sysno::Ioctl),
    Op::Sys(Sysno::Ioctl),
    Op::Sys(Sysno::Ioctl),
    Op::Sys(Sysno::Read),
    Op::Sys(Sysno::Read),
    Op::Sys(Sysno::Close),
    Op::Sys(Sysno::Fork),
    Op::Sys(Sysno::Exit),
    Op::Sys(Sysno::ExitGroup),
    Op::TouchLoad,
    Op::TouchLoad,
    Op::TouchLoad,
    Op::TouchStore,
    Op::TouchStore,
    Op::TouchStore,
    Op::Thread,
];

fn nr(s: Sysno) -> u64 {
    s.desc().nr(Arch::X86_64).map(u64::from).unwrap_or(u64::MAX)
}

fn put64s(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A return value user space may see: a result, or `-errno` with an errno Linux defines
/// (never a kernel-internal one such as `ERESTARTSYS`).
pub(crate) fn valid_return(sysno: Option<Sysno>, ret: i64) -> bool {
    if ret >= 0 {
        return true;
    }
    let addr_like = matches!(sysno, Some(Sysno::Mmap | Sysno::Brk));
    if ret < -4095 {
        return addr_like;
    }
    Errno((-ret) as i32).name().is_some() && ret != Errno::ERESTARTSYS.ret()
}

struct Target {
    k: Kernel<SimHal>,
    /// A root process outside the story that kills everyone at the end.
    reaper: Pid,
    /// The processes and threads of the story (dead ones stay listed).
    tasks: Vec<Pid>,
    /// Descriptor numbers `userfaultfd` returned.
    fds: Vec<u64>,
    /// The non-blocking pipe the touches go through (never closed, never made blocking).
    pipe: (u64, u64),
    /// Addresses `mmap` and `brk` returned.
    addrs: Vec<u64>,
    /// Frames outside slab caches and open files before the story (the reaper's and init's, the zero page).
    baseline: (u64, usize),
    verbose: bool,
}

impl Target {
    /// Runs one call of `pid` to its return (setup only: the call must not block).
    fn sys(&mut self, pid: Pid, s: Sysno, args: [u64; 6]) -> Option<i64> {
        super::run_call(&mut self.k, pid, s, args, MAX_STEPS)
    }

    fn new(u: &mut Unstructured<'_>) -> Option<Target> {
        let mut k = Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 }), KernelConfig::default());
        let reaper = k.create_process(Cred::new(0, 0), "reaper", 0).ok()?;
        // Map the zero page now (a load of untouched stack), so the baseline includes it.
        let mut b = [0u8; 1];
        k.user_mode_access(reaper, kernel::mm::STACK_TOP - PAGE, &mut b, false).ok()?;
        let baseline = (k.frames_used() - k.slab_frames(), k.open_files());
        let verbose = std::env::var_os("K43_FUZZ_TRACE").is_some_and(|v| v == "1");
        let mut t = Target { k, reaper, tasks: Vec::new(), fds: Vec::new(), pipe: (0, 0), addrs: Vec::new(), baseline, verbose };
        let p = t.k.create_process(Cred::new(1000, 1000), "faulter", 0).ok()?;
        t.tasks.push(p);
        let anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
        let rw = PROT_READ | PROT_WRITE;
        assert_eq!(t.sys(p, Sysno::Mmap, [SCRATCH, PAGE * (1 + SRC_PAGES), rw, anon, u64::MAX, 0]), Some(SCRATCH as i64));
        t.k.user_mode_access(p, SCRATCH, &mut [0u8; PAGE as usize], true).ok()?;
        assert_eq!(t.sys(p, Sysno::Mmap, [WIN, 8 * PAGE, rw, anon, u64::MAX, 0]), Some(WIN as i64));
        assert_eq!(t.sys(p, Sysno::Pipe2, [SCRATCH, O_NONBLOCK as u64, 0, 0, 0, 0]), Some(0));
        let mut fds = [0u8; 8];
        t.k.user_mode_access(p, SCRATCH, &mut fds, false).ok()?;
        t.pipe = (u32::from_le_bytes(fds[..4].try_into().ok()?) as u64, u32::from_le_bytes(fds[4..].try_into().ok()?) as u64);
        // A blocking or a non-blocking context, as the input says.
        let flags = if u.arbitrary::<bool>().ok()? { O_NONBLOCK as u64 } else { 0 };
        let fd = t.sys(p, Sysno::Userfaultfd, [flags, 0, 0, 0, 0, 0])?;
        assert!(fd >= 0, "userfaultfd at setup: {fd}");
        t.fds.push(fd as u64);
        t.k.user_mode_access(p, SCRATCH, &mut put64s(&[UFFD_API, 0, 0]), true).ok()?;
        assert_eq!(t.sys(p, Sysno::Ioctl, [fd as u64, UFFDIO_API as u64, SCRATCH, 0, 0, 0]), Some(0));
        t.k.user_mode_access(p, SCRATCH, &mut put64s(&[WIN, 8 * PAGE, UFFDIO_REGISTER_MODE_MISSING, 0]), true).ok()?;
        assert_eq!(t.sys(p, Sysno::Ioctl, [fd as u64, UFFDIO_REGISTER as u64, SCRATCH, 0, 0, 0]), Some(0));
        let h = t.sys(p, Sysno::Fork, [0; 6])?;
        assert!(h > 0, "fork at setup: {h}");
        t.tasks.push(h as Pid);
        Some(t)
    }

    /// A user address: mostly a page of the window or of an earlier mapping.
    fn addr(&self, u: &mut Unstructured<'_>) -> Result<u64> {
        Ok(match u.int_in_range(0..=15u8)? {
            0..=8 => WIN + PAGE * u.int_in_range(0..=WIN_PAGES - 1)?,
            9 | 10 if !self.addrs.is_empty() => self.addrs[u.choose_index(self.addrs.len())?] + PAGE * u.int_in_range(0..=3)?,
            9 | 10 => SRC + PAGE * u.int_in_range(0..=SRC_PAGES - 1)?,
            11 => SRC + PAGE * u.int_in_range(0..=SRC_PAGES - 1)?,
            12 => 0,
            13 => WIN + u.int_in_range(0..=WIN_PAGES * PAGE)?,
            14 => [u64::MAX, 0xffff_8000_0000_0000, kernel::mm::TASK_SIZE - PAGE, kernel::mm::TASK_SIZE, PAGE][u.choose_index(5)?],
            _ => u.arbitrary()?,
        })
    }

    /// A length: mostly a few pages.
    fn len(&self, u: &mut Unstructured<'_>) -> Result<u64> {
        Ok(match u.int_in_range(0..=9u8)? {
            0..=6 => PAGE * u.int_in_range(1..=8)?,
            7 => 0,
            8 => u.int_in_range(1..=3 * PAGE)?,
            _ => u.arbitrary()?,
        })
    }

    /// A descriptor: mostly a userfaultfd.
    fn fd(&self, u: &mut Unstructured<'_>) -> Result<u64> {
        Ok(match u.int_in_range(0..=9u8)? {
            0..=5 if !self.fds.is_empty() => self.fds[u.choose_index(self.fds.len())?],
            6 => [self.pipe.0, self.pipe.1][u.choose_index(2)?],
            7 => u64::MAX,
            8 => u.int_in_range(0..=16)?,
            _ => u.arbitrary::<u32>()? as u64,
        })
    }

    /// One argument of `kind`.
    fn arg(&self, u: &mut Unstructured<'_>, kind: ArgKind) -> Result<u64> {
        if let Some(v) = super::named_arg(u, kind)? {
            return Ok(v);
        }
        Ok(match kind {
            ArgKind::Fd => self.fd(u)?,
            ArgKind::Ptr | ArgKind::Struct(..) | ArgKind::OutBuf { .. } | ArgKind::InBuf { .. } => self.addr(u)?,
            ArgKind::UInt => self.len(u)?,
            ArgKind::Hex => [0, PAGE, u.arbitrary()?][u.choose_index(3)?],
            _ => [0, u.arbitrary()?][u.choose_index(2)?],
        })
    }

    /// Writes `bytes` into `pid`'s scratch page at `off` (a user-mode store; the page
    /// may have been unmapped or protected, then the call reads what is there, or faults).
    fn scratch(&mut self, pid: Pid, off: u64, bytes: &[u8]) {
        let _ = self.k.user_mode_access(pid, SCRATCH + off, &mut bytes.to_vec(), true);
    }

    /// A range `[start, len)` for a uffd struct that never covers the scratch page.
    fn range(&self, u: &mut Unstructured<'_>) -> Result<(u64, u64)> {
        let (start, len) = (self.addr(u)?, self.len(u)?);
        let overlaps = start < SCRATCH + PAGE && start.saturating_add(len) > SCRATCH;
        Ok(if overlaps { (WIN, len.min(WIN_PAGES * PAGE)) } else { (start, len) })
    }

    /// Prepares the ioctl argument struct for `cmd` in `pid`'s scratch page.
    fn ioctl_struct(&mut self, u: &mut Unstructured<'_>, pid: Pid, fd: u64, cmd: u32) -> Result<bool> {
        let words: Vec<u64> = match cmd {
            UFFDIO_API => {
                let api = if u.ratio(7, 8)? { UFFD_API } else { u.arbitrary()? };
                let features = if u.ratio(7, 8)? { 0 } else { u.arbitrary()? };
                alloc::vec![api, features, 0]
            }
            UFFDIO_REGISTER => {
                let (start, len) = self.range(u)?;
                let mode = [UFFDIO_REGISTER_MODE_MISSING, UFFDIO_REGISTER_MODE_MISSING, 0, 2, 3, u.arbitrary()?][u.choose_index(6)?];
                // Only the range is guarded: a garbage mode is rejected before the range.
                alloc::vec![start, len, mode, 0]
            }
            UFFDIO_UNREGISTER | UFFDIO_WAKE => {
                let (start, len) = (self.addr(u)?, self.len(u)?);
                alloc::vec![start, len]
            }
            UFFDIO_COPY => {
                let (dst, len) = (self.addr(u)?, self.len(u)?);
                let src = if u.ratio(3, 4)? { SRC + PAGE * u.int_in_range(0..=SRC_PAGES - 1)? } else { self.addr(u)? };
                let mode = [0, 0, UFFDIO_COPY_MODE_DONTWAKE, u.arbitrary()?][u.choose_index(4)?];
                alloc::vec![dst, src, len, mode, 0]
            }
            UFFDIO_ZEROPAGE => {
                let (start, len) = (self.addr(u)?, self.len(u)?);
                let mode = [0, 0, UFFDIO_ZEROPAGE_MODE_DONTWAKE, u.arbitrary()?][u.choose_index(4)?];
                alloc::vec![start, len, mode, 0]
            }
            kernel::fs::ioctl::FIONBIO => {
                // The touch pipe stays non-blocking (a touch then only sleeps on a userfault).
                if fd == self.pipe.0 || fd == self.pipe.1 {
                    return Ok(false);
                }
                alloc::vec![u.int_in_range(0..=1)?]
            }
            _ => Vec::new(),
        };
        // A register struct read through a wild pointer could cover the scratch page: only
        // the scratch page carries one.
        self.scratch(pid, 0, &put64s(&words));
        Ok(true)
    }

    /// Makes one generated call, runs the kernel, checks the invariants.
    fn call(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let who = u.choose_index(self.tasks.len())?;
        let op = OPS[u.choose_index(OPS.len())?];
        let pid = self.tasks[who];
        let mut args = [0u64; 6];
        let sysno = match op {
            Op::Sys(s) => {
                for (i, a) in s.desc().args.iter().enumerate() {
                    args[i] = self.arg(u, a.kind)?;
                }
                s
            }
            Op::TouchLoad => {
                args = [self.pipe.1, self.addr(u)?.wrapping_add(u.int_in_range(0..=PAGE - 1)?), u.int_in_range(1..=64)?, 0, 0, 0];
                Sysno::Write
            }
            Op::TouchStore => {
                args = [self.pipe.0, self.addr(u)?.wrapping_add(u.int_in_range(0..=PAGE - 1)?), u.int_in_range(1..=64)?, 0, 0, 0];
                Sysno::Read
            }
            Op::Thread => {
                use kernel::uapi::sched::*;
                args[0] = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
                Sysno::Clone
            }
        };
        match op {
            Op::Sys(Sysno::Mmap) if u.ratio(3, 4)? => {
                // Mostly what gets a mapping: private (now and then shared) anonymous.
                let shared = u.ratio(1, 6)?;
                args[3] = if shared { MAP_SHARED } else { MAP_PRIVATE } | MAP_ANONYMOUS | if u.ratio(1, 2)? { MAP_FIXED } else { 0 };
                args[4] = u64::MAX;
                args[5] = 0;
                if u.ratio(3, 4)? {
                    args[2] = PROT_READ | PROT_WRITE;
                }
            }
            Op::Sys(Sysno::Brk) if u.ratio(1, 2)? => {
                args[0] = kernel::mm::ELF_ET_DYN_BASE + PAGE * u.int_in_range(0..=8)?;
            }
            Op::Sys(Sysno::Ioctl) => {
                if u.ratio(7, 8)? {
                    args[2] = SCRATCH;
                }
                if args[2] == SCRATCH && !self.ioctl_struct(u, pid, args[0], args[1] as u32)? {
                    return Ok(());
                }
            }
            Op::Sys(Sysno::Read) if u.ratio(3, 4)? => {
                args[1] = SCRATCH + MSG_OFF;
                args[2] = 32 * u.int_in_range(0..=4)?;
            }
            Op::Sys(Sysno::Close) if args[0] == self.pipe.0 || args[0] == self.pipe.1 => return Ok(()),
            Op::TouchStore => {
                // Something for the read to take: bytes from the scratch page.
                let n = args[2];
                if self.k.submit(pid, nr(Sysno::Write), [self.pipe.1, SCRATCH, n, 0, 0, 0]).is_ok() {
                    self.run(pid, Sysno::Write, [self.pipe.1, SCRATCH, n, 0, 0, 0]);
                }
            }
            _ => {}
        }
        if matches!(self.k.task(pid), None | Some(kernel::kernel::Task { state: TaskState::Zombie, .. })) {
            return Ok(());
        }
        if matches!(op, Op::Sys(Sysno::Fork) | Op::Thread) && self.tasks.len() >= MAX_TASKS {
            return Ok(());
        }
        if self.k.submit(pid, nr(sysno), args).is_err() {
            return Ok(()); // asleep inside a call
        }
        self.run(pid, sysno, args);
        Ok(())
    }

    /// Runs the kernel after `pid` entered `sysno(args)`; checks every return and the
    /// invariants.
    fn run(&mut self, pid: Pid, sysno: Sysno, args: [u64; 6]) {
        for _ in 0..MAX_STEPS {
            if !self.k.step() {
                break;
            }
        }
        let events: Vec<KEvent> = self.k.take_events().collect();
        if self.verbose {
            let shown: Vec<&KEvent> = events.iter().filter(|e| !matches!(e, KEvent::Blocked { .. })).collect();
            std::eprintln!("{pid}: {}({:x?}) -> {shown:?}", sysno.desc().name, &args[..sysno.desc().args.len()]);
        }
        for e in events {
            match e {
                KEvent::SyscallReturn { pid: p, sysno: s, ret } => {
                    assert!(valid_return(s, ret), "task {p}: {:?} returned {ret}, not a result or an errno", s.map(|s| s.desc().name));
                    match s {
                        Some(Sysno::Mmap) if ret > 0 && self.addrs.len() < 8 => self.addrs.push(ret as u64),
                        Some(Sysno::Userfaultfd) if ret >= 0 && !self.fds.contains(&(ret as u64)) && self.fds.len() < 8 => self.fds.push(ret as u64),
                        _ => {}
                    }
                }
                KEvent::Forked { child, .. } => self.tasks.push(child),
                _ => {}
            }
        }
        if let Some(t) = self.k.next_timer() {
            self.k.hal.advance_to(t);
            self.k.run_timers();
        }
        if let Err(e) = self.k.check_invariants() {
            panic!("invariant broken after {}: {e}", sysno.desc().name);
        }
        self.check_touch_sleepers();
    }

    /// The pipe is non-blocking, so a task asleep in a call on it sleeps on a userfault:
    /// one that is not queued on a context was never woken (a lost wakeup).
    fn check_touch_sleepers(&self) {
        let sleepers = self.k.uffd_sleepers();
        for &pid in &self.tasks {
            let Some(t) = self.k.task(pid) else { continue };
            if t.state != TaskState::Sleeping {
                continue;
            }
            let Some(p) = &t.syscall else { continue };
            let on_pipe = matches!(p.sysno, Some(Sysno::Read | Sysno::Write)) && (p.args[0] == self.pipe.0 || p.args[0] == self.pipe.1);
            if on_pipe {
                assert!(sleepers.iter().any(|s| s.0 == pid), "task {pid} sleeps in {:?} on the pipe but on no userfault", p.sysno);
            }
        }
    }

    fn live(&self) -> Vec<Pid> {
        self.tasks.iter().copied().filter(|&p| self.k.task(p).is_some_and(|t| t.state != TaskState::Zombie)).collect()
    }

    /// Runs until nothing is runnable (bounded: a livelock is a failure).
    fn settle(&mut self) {
        for _ in 0..100 {
            let mut n = 0;
            while self.k.step() {
                n += 1;
                assert!(n < 100_000, "the kernel never goes quiet (livelock)");
            }
            self.k.take_events().for_each(drop);
            let Some(t) = self.k.next_timer() else { break };
            self.k.hal.advance_to(t);
            self.k.run_timers();
        }
        if let Err(e) = self.k.check_invariants() {
            panic!("invariant broken at the end: {e}");
        }
    }

    /// The end: every task that can exits (closing its descriptors, which releases the
    /// contexts and wakes their sleepers); what is left sleeps legitimately (a context
    /// still open by a sleeping task) and is killed. Then nothing may be left: no task,
    /// no context, no sleeper, and every frame the story used is free again.
    fn finish(&mut self) {
        for _ in 0..16 {
            let mut exited = false;
            for pid in self.live() {
                if self.k.submit(pid, nr(Sysno::ExitGroup), [0; 6]).is_ok() {
                    exited = true;
                }
            }
            self.settle();
            if !exited {
                break;
            }
        }
        self.check_touch_sleepers();
        for (pid, _ctx) in self.k.uffd_sleepers() {
            // Its context is open (the invariants say so) and so held by a live task,
            // which is asleep itself: nobody could ever wake it but a signal.
            assert!(self.live().contains(&pid), "a dead task {pid} sleeps on a userfault");
        }
        for pid in self.live() {
            let tgid = self.k.task(pid).map(|t| t.tgid).unwrap_or(pid);
            let r = self.sys(self.reaper, Sysno::Kill, [tgid as u64, kernel::uapi::signal::SIGKILL as u64, 0, 0, 0, 0]);
            assert!(matches!(r, Some(0) | Some(-3)), "kill({tgid}, SIGKILL) = {r:?}");
            self.settle();
        }
        self.settle();
        assert_eq!(self.live(), Vec::<Pid>::new(), "tasks survived SIGKILL");
        assert_eq!(self.k.uffd_sleepers(), Vec::new(), "sleepers left on userfaults");
        assert_eq!(self.k.uffd_contexts(), 0, "userfaultfd contexts leaked");
        let now = (self.k.frames_used() - self.k.slab_frames(), self.k.open_files());
        assert_eq!(now, self.baseline, "frames or files leaked: (frames outside slabs, open files) {now:?}, {:?} before the story", self.baseline);
    }
}

/// The `uffd_ops` target. After every call: no panic, every return a result or an errno
/// Linux defines, the kernel invariants hold (frame reference counts equal mappings, the
/// userfaultfd queues consistent, every queued fault's task asleep), and a task asleep in
/// a touch is queued on a userfault. At the end, after every task exited or was killed:
/// no context, no sleeper, and the frame count back to what it was before the story.
pub fn uffd_ops(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Some(mut t) = Target::new(&mut u) else { return };
    for _ in 0..MAX_CALLS {
        if u.is_empty() || t.live().is_empty() || t.call(&mut u).is_err() {
            break;
        }
    }
    t.finish();
}
