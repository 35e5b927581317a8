//! userfaultfd (4.3) through the syscall interface, byte for byte: the handshake, register
//! validation, messages, COPY/ZEROPAGE/WAKE, blocking kernel-mode faults, the one-retry
//! rule, close with sleepers, fork. Test ideas from spec/mm-userfaultfd.md §7.

use hal_sim::{SimConfig, SimHal};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::uapi::userfaultfd::*;
use kernel::{KEvent, Kernel, KernelConfig};

const PAGE: u64 = 4096;
const EINVAL: i64 = -22;
const EBUSY: i64 = -16;
const EEXIST: i64 = -17;
const EAGAIN: i64 = -11;
const EFAULT: i64 = -14;
/// Log markers outside every syscall's return range.
const TOUCHED: i64 = i64::MIN;
const DIED: i64 = i64::MIN / 2;

struct K {
    k: Kernel<SimHal>,
    /// Every syscall return seen, in order, not yet claimed by a test.
    log: Vec<(i32, i64)>,
}

impl K {
    fn new() -> K {
        K { k: Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 }), KernelConfig::default()), log: Vec::new() }
    }

    fn spawn(&mut self) -> i32 {
        self.k.create_process(Cred::new(1000, 1000), "t", 0).expect("spawn")
    }

    /// Enters a syscall; runs the kernel until nothing is runnable; returns `Some(ret)`
    /// if this call returned, `None` if it sleeps.
    fn enter(&mut self, pid: i32, s: Sysno, args: [u64; 6]) -> Option<i64> {
        let nr = s.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
        self.k.submit(pid, nr, args).expect("submit");
        self.settle();
        self.took(pid)
    }

    /// Runs until quiet, logging the syscall returns.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            if !self.k.step() {
                break;
            }
        }
        // Syscall returns as (pid, ret); a completed user-mode fault as (pid, TOUCHED); a
        // death as (pid, DIED - status).
        let evs: Vec<(i32, i64)> = self
            .k
            .take_events()
            .filter_map(|e| match e {
                KEvent::SyscallReturn { pid, ret, .. } => Some((pid, ret)),
                KEvent::Touched { pid } => Some((pid, TOUCHED)),
                KEvent::Exited { pid, status } => Some((pid, DIED - status as i64)),
                _ => None,
            })
            .collect();
        self.log.extend(evs);
        assert_eq!(self.k.check_invariants(), Ok(()));
    }

    /// Claims `pid`'s oldest logged return.
    fn took(&mut self, pid: i32) -> Option<i64> {
        let i = self.log.iter().position(|&(p, _)| p == pid)?;
        Some(self.log.remove(i).1)
    }

    fn call(&mut self, pid: i32, s: Sysno, args: [u64; 6]) -> i64 {
        self.enter(pid, s, args).expect("the call returned")
    }

    fn put(&mut self, pid: i32, addr: u64, bytes: &[u8]) {
        let mut b = bytes.to_vec();
        self.k.user_mode_access(pid, addr, &mut b, true).expect("user memory");
    }

    fn get(&mut self, pid: i32, addr: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.k.user_mode_access(pid, addr, &mut b, false).expect("user memory");
        b
    }

    fn words(&mut self, pid: i32, addr: u64, n: usize) -> Vec<u64> {
        self.get(pid, addr, 8 * n).chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
    }

    fn mmap_anon(&mut self, pid: i32, len: u64) -> u64 {
        // PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS
        self.call(pid, Sysno::Mmap, [0, len, 3, 0x22, u64::MAX, 0]) as u64
    }

    /// A scratch page for ioctl arguments (not registered).
    fn scratch(&mut self, pid: i32) -> u64 {
        self.mmap_anon(pid, PAGE)
    }

    fn ioctl(&mut self, pid: i32, fd: i64, cmd: u32, arg: u64) -> i64 {
        self.call(pid, Sysno::Ioctl, [fd as u64, cmd as u64, arg, 0, 0, 0])
    }

    /// userfaultfd + the API handshake.
    fn uffd(&mut self, pid: i32, flags: u64, scratch: u64) -> i64 {
        let fd = self.call(pid, Sysno::Userfaultfd, [flags, 0, 0, 0, 0, 0]);
        assert!(fd >= 0, "userfaultfd: {fd}");
        self.put(pid, scratch, &[UFFD_API.to_le_bytes(), 0u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
        assert_eq!(self.ioctl(pid, fd, UFFDIO_API, scratch), 0);
        fd
    }

    fn register(&mut self, pid: i32, fd: i64, scratch: u64, start: u64, len: u64, mode: u64) -> i64 {
        self.put(pid, scratch, &[start.to_le_bytes(), len.to_le_bytes(), mode.to_le_bytes(), 0u64.to_le_bytes()].concat());
        self.ioctl(pid, fd, UFFDIO_REGISTER, scratch)
    }

    // The ioctl's own four fields plus who, which descriptor and where the struct goes.
    #[allow(clippy::too_many_arguments)]
    fn copy(&mut self, pid: i32, fd: i64, scratch: u64, dst: u64, src: u64, len: u64, mode: u64) -> (i64, i64) {
        self.put(pid, scratch, &[dst.to_le_bytes(), src.to_le_bytes(), len.to_le_bytes(), mode.to_le_bytes(), 0u64.to_le_bytes()].concat());
        let r = self.ioctl(pid, fd, UFFDIO_COPY, scratch);
        (r, self.words(pid, scratch + 32, 1)[0] as i64)
    }

    /// A pipe whose write end reads (a kernel copy from user memory) `addr`.
    fn pipe(&mut self, pid: i32, scratch: u64) -> (i64, i64) {
        assert_eq!(self.call(pid, Sysno::Pipe2, [scratch, 0, 0, 0, 0, 0]), 0);
        let b = self.get(pid, scratch, 8);
        (i32::from_le_bytes(b[0..4].try_into().unwrap()) as i64, i32::from_le_bytes(b[4..8].try_into().unwrap()) as i64)
    }
}

#[test]
fn handshake_and_flags() {
    let mut k = K::new();
    let t = k.spawn();
    let s = k.scratch(t);
    assert_eq!(k.call(t, Sysno::Userfaultfd, [1, 0, 0, 0, 0, 0]), EINVAL);
    let fd = k.call(t, Sysno::Userfaultfd, [0o4000 | 0o2000000, 0, 0, 0, 0, 0]);
    assert!(fd >= 0);
    // Before the handshake: REGISTER, read are EINVAL.
    assert_eq!(k.register(t, fd, s, 0x10000, PAGE, 1), EINVAL);
    assert_eq!(k.call(t, Sysno::Read, [fd as u64, s, 32, 0, 0, 0]), EINVAL);
    // A wrong API zeroes the argument.
    k.put(t, s, &[0xabu64.to_le_bytes(), 7u64.to_le_bytes(), 9u64.to_le_bytes()].concat());
    assert_eq!(k.ioctl(t, fd, UFFDIO_API, s), EINVAL);
    assert_eq!(k.words(t, s, 3), vec![0, 0, 0]);
    k.put(t, s, &[UFFD_API.to_le_bytes(), 0u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
    assert_eq!(k.ioctl(t, fd, UFFDIO_API, s), 0);
    assert_eq!(k.words(t, s, 3), vec![0xaa, 0, 0x8000_0000_0000_0003]);
    // A second API is EINVAL and leaves the argument alone.
    assert_eq!(k.ioctl(t, fd, UFFDIO_API, s), EINVAL);
    assert_eq!(k.words(t, s, 3), vec![0xaa, 0, 0x8000_0000_0000_0003]);
    // Unknown commands.
    assert_eq!(k.ioctl(t, fd, 0xC028_AA05, s), EINVAL);
    // O_NONBLOCK: read with nothing pending is EAGAIN.
    assert_eq!(k.call(t, Sysno::Read, [fd as u64, s, 32, 0, 0, 0]), EAGAIN);
    // A buffer shorter than one message.
    assert_eq!(k.call(t, Sysno::Read, [fd as u64, s, 31, 0, 0, 0]), EINVAL);
}

#[test]
fn register_validation() {
    let mut k = K::new();
    let t = k.spawn();
    let s = k.scratch(t);
    let fd = k.uffd(t, 0o4000, s);
    let a = k.mmap_anon(t, 4 * PAGE);
    assert_eq!(k.register(t, fd, s, a + 1, PAGE, 1), EINVAL);
    assert_eq!(k.register(t, fd, s, a, PAGE + 1, 1), EINVAL);
    assert_eq!(k.register(t, fd, s, a, 0, 1), EINVAL);
    assert_eq!(k.register(t, fd, s, 0, PAGE, 1), EINVAL); // below mmap_min_addr
    assert_eq!(k.register(t, fd, s, 0x7fff_ffff_f000, PAGE, 1), EINVAL); // at TASK_SIZE
    assert_eq!(k.register(t, fd, s, a, PAGE, 0), EINVAL);
    assert_eq!(k.register(t, fd, s, a, PAGE, 4), EINVAL);
    assert_eq!(k.register(t, fd, s, a, PAGE, UFFDIO_REGISTER_MODE_WP), EINVAL);
    // A hole (the first VMA above starts past the range): EINVAL. (ENOMEM, no VMA at or
    // above the start, cannot happen: the stack ends at TASK_SIZE.)
    assert_eq!(k.register(t, fd, s, 0x10000, PAGE, 1), EINVAL);
    // Shared anonymous memory is shmem: EINVAL.
    let sh = k.call(t, Sysno::Mmap, [0, PAGE, 3, 0x21, u64::MAX, 0]) as u64;
    assert_eq!(k.register(t, fd, s, sh, PAGE, 1), EINVAL);
    // Success reports the range ioctls.
    assert_eq!(k.register(t, fd, s, a, 2 * PAGE, 1), 0);
    assert_eq!(k.words(t, s + 24, 1), vec![0x1c]);
    // Again: a no-op success. Another context: EBUSY.
    assert_eq!(k.register(t, fd, s, a, 2 * PAGE, 1), 0);
    let fd2 = k.uffd(t, 0o4000, s);
    assert_eq!(k.register(t, fd2, s, a + PAGE, PAGE, 1), EBUSY);
    assert_eq!(k.register(t, fd2, s, a + 2 * PAGE, 2 * PAGE, 1), 0);
}

/// The faulting process `t` with a registered 4-page area and a pipe, and its forked
/// child `h` (the handler: it inherited the descriptor; ioctls act on `t`'s memory).
struct Setup {
    k: K,
    t: i32,
    h: i32,
    fd: i64,
    area: u64,
    scratch: u64,
    pipe: (i64, i64),
}

fn setup() -> Setup {
    let mut k = K::new();
    let t = k.spawn();
    let scratch = k.scratch(t);
    let fd = k.uffd(t, 0o4000, scratch);
    let area = k.mmap_anon(t, 4 * PAGE);
    assert_eq!(k.register(t, fd, scratch, area, 4 * PAGE, 1), 0);
    let pipe = k.pipe(t, scratch + 0x800);
    let h = k.call(t, Sysno::Fork, [0; 6]) as i32;
    assert!(h > 0);
    Setup { k, t, h, fd, area, scratch, pipe }
}

impl Setup {
    /// `t` writes `n` bytes at `addr` into its pipe: a kernel-mode read of user memory.
    fn fault_read(&mut self, addr: u64, n: u64) -> Option<i64> {
        let w = self.pipe.1 as u64;
        self.k.enter(self.t, Sysno::Write, [w, addr, n, 0, 0, 0])
    }

    /// The handler reads up to `n` messages.
    fn read_msgs(&mut self, n: usize) -> Result<Vec<[u8; 32]>, i64> {
        let buf = self.scratch + 0x400;
        let r = self.k.call(self.h, Sysno::Read, [self.fd as u64, buf, 32 * n as u64, 0, 0, 0]);
        if r < 0 {
            return Err(r);
        }
        let b = self.k.get(self.h, buf, r as usize);
        Ok(b.chunks(32).map(|c| c.try_into().unwrap()).collect())
    }

    /// The handler copies `len` bytes of `fill` to `dst` (from a fresh mapping of its own).
    fn copy_page(&mut self, dst: u64, fill: u8, len: u64, mode: u64) -> (i64, i64) {
        let src = self.k.mmap_anon(self.h, len);
        self.k.put(self.h, src, &vec![fill; len as usize]);
        self.k.copy(self.h, self.fd, self.scratch, dst, src, len, mode)
    }
}

#[test]
fn round_trip_message_and_copy() {
    let mut s = setup();
    let addr = s.area + 2 * PAGE + 0x123;
    assert_eq!(s.fault_read(addr, 5), None, "the write sleeps on the userfault");
    let m = s.read_msgs(4).expect("a message");
    assert_eq!(m, vec![pagefault_msg(addr, false)]);
    // Nothing more pending.
    assert_eq!(s.read_msgs(1), Err(EAGAIN));
    let (r, copied) = s.copy_page(s.area + 2 * PAGE, 0x5a, PAGE, 0);
    assert_eq!((r, copied), (0, PAGE as i64));
    // The write completed with the copied bytes.
    assert_eq!(s.k.took(s.t), Some(5));
    let mut b = vec![0u8; 5];
    let rd = s.pipe.0 as u64;
    assert_eq!(s.k.call(s.t, Sysno::Read, [rd, s.scratch + 0x200, 5, 0, 0, 0]), 5);
    b.copy_from_slice(&s.k.get(s.t, s.scratch + 0x200, 5));
    assert_eq!(b, vec![0x5a; 5]);
    // COPY onto a present page: EEXIST in both the return and the copy field.
    assert_eq!(s.copy_page(s.area + 2 * PAGE, 1, PAGE, 0), (EEXIST, EEXIST));
}

#[test]
fn write_faults_set_the_flag_and_fifo_order() {
    let mut s = setup();
    // A kernel store into registered memory: read(pipe) into the area.
    let (rd, w) = (s.pipe.0 as u64, s.pipe.1 as u64);
    s.k.put(s.t, s.scratch + 0x300, b"xyz");
    assert_eq!(s.k.call(s.t, Sysno::Write, [w, s.scratch + 0x300, 3, 0, 0, 0]), 3);
    assert_eq!(s.k.enter(s.t, Sysno::Read, [rd, s.area + 3 * PAGE + 8, 3, 0, 0, 0]), None);
    let m = s.read_msgs(1).expect("a message");
    assert_eq!(m, vec![pagefault_msg(s.area + 3 * PAGE + 8, true)]);
}

#[test]
fn partial_copy_and_dontwake_and_wake() {
    let mut s = setup();
    assert_eq!(s.fault_read(s.area, 1), None);
    // Fill page 1 first, then COPY pages 0..3: page 0 installs, page 1 is EEXIST.
    assert_eq!(s.copy_page(s.area + PAGE, 7, PAGE, 0), (0, PAGE as i64));
    assert_eq!(s.copy_page(s.area, 9, 3 * PAGE, 0), (EAGAIN, PAGE as i64));
    assert_eq!(s.k.took(s.t), Some(1));
    // DONTWAKE: the faulting task keeps sleeping until WAKE.
    assert_eq!(s.fault_read(s.area + 3 * PAGE, 1), None);
    assert_eq!(s.copy_page(s.area + 3 * PAGE, 3, PAGE, UFFDIO_COPY_MODE_DONTWAKE), (0, PAGE as i64));
    assert_eq!(s.k.took(s.t), None);
    s.k.put(s.h, s.scratch, &[(s.area + 3 * PAGE).to_le_bytes(), PAGE.to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(s.h, s.fd, UFFDIO_WAKE, s.scratch), 0);
    assert_eq!(s.k.took(s.t), Some(1));
}

#[test]
fn a_wake_without_a_page_fails_the_retry() {
    let mut s = setup();
    assert_eq!(s.fault_read(s.area + PAGE, 1), None);
    s.k.put(s.h, s.scratch, &[(s.area + PAGE).to_le_bytes(), PAGE.to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(s.h, s.fd, UFFDIO_WAKE, s.scratch), 0);
    // 4.3 allows one retry: the page is still missing, so the kernel copy fails.
    assert_eq!(s.k.took(s.t), Some(EFAULT));
    // The next syscall faults to user space again.
    assert_eq!(s.fault_read(s.area + PAGE, 1), None);
}

#[test]
fn zeropage_then_write_needs_no_message() {
    let mut s = setup();
    assert_eq!(s.fault_read(s.area, 1), None);
    s.k.put(s.h, s.scratch, &[s.area.to_le_bytes(), PAGE.to_le_bytes(), 0u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(s.h, s.fd, UFFDIO_ZEROPAGE, s.scratch), 0);
    assert_eq!(s.k.words(s.h, s.scratch + 24, 1), vec![PAGE]);
    assert_eq!(s.k.took(s.t), Some(1));
    // A store into the zero page is an ordinary COW fault.
    let w = s.pipe.1 as u64;
    s.k.put(s.t, s.scratch + 0x300, b"q");
    assert_eq!(s.k.call(s.t, Sysno::Write, [w, s.scratch + 0x300, 1, 0, 0, 0]), 1);
    assert_eq!(s.k.call(s.t, Sysno::Read, [s.pipe.0 as u64, s.area + 10, 2, 0, 0, 0]), 2);
    assert_eq!(s.read_msgs(1), Err(EAGAIN));
}

#[test]
fn close_wakes_sleepers_who_see_zeros() {
    let mut s = setup();
    // The handler's descriptor becomes the only one; the faulting task sleeps.
    assert_eq!(s.k.call(s.t, Sysno::Close, [s.fd as u64, 0, 0, 0, 0, 0]), 0);
    assert_eq!(s.fault_read(s.area + PAGE, 3), None);
    assert_eq!(s.k.call(s.h, Sysno::Close, [s.fd as u64, 0, 0, 0, 0, 0]), 0);
    // Released: the range is unregistered and the retry is an ordinary zero fill.
    assert_eq!(s.k.took(s.t), Some(3));
    assert_eq!(s.k.call(s.t, Sysno::Read, [s.pipe.0 as u64, s.scratch + 0x200, 3, 0, 0, 0]), 3);
    assert_eq!(s.k.get(s.t, s.scratch + 0x200, 3), vec![0, 0, 0]);
    assert!(s.k.k.check_invariants().is_ok());
}

#[test]
fn fork_child_does_not_fault_to_the_handler() {
    let mut s = setup();
    // h (the fork child) touches the registered range in its own copy: ordinary zero fill.
    let (_, w) = s.k.pipe(s.h, s.scratch + 0x900);
    assert_eq!(s.k.call(s.h, Sysno::Write, [w as u64, s.area, 4, 0, 0, 0]), 4);
    assert_eq!(s.read_msgs(1), Err(EAGAIN));
}

#[test]
fn fifo_order_and_a_multi_message_read() {
    let mut s = setup();
    // Three threads of t fault on pages 3, 1, 2 in that order.
    // clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD)
    let flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000;
    let mut threads = Vec::new();
    for _ in 0..3 {
        let th = s.k.call(s.t, Sysno::Clone, [flags, 0, 0, 0, 0, 0]) as i32;
        assert!(th > 0);
        threads.push(th);
    }
    let w = s.pipe.1 as u64;
    for (th, page) in threads.iter().zip([3u64, 1, 2]) {
        assert_eq!(s.k.enter(*th, Sysno::Write, [w, s.area + page * PAGE, 1, 0, 0, 0]), None);
    }
    // One 96-byte read returns all three, oldest first.
    let m = s.read_msgs(3).expect("messages");
    assert_eq!(m, vec![pagefault_msg(s.area + 3 * PAGE, false), pagefault_msg(s.area + PAGE, false), pagefault_msg(s.area + 2 * PAGE, false)]);
    // ZEROPAGE over all four pages wakes all three.
    s.k.put(s.h, s.scratch, &[s.area.to_le_bytes(), (4 * PAGE).to_le_bytes(), 0u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(s.h, s.fd, UFFDIO_ZEROPAGE, s.scratch), 0);
    for th in threads {
        assert_eq!(s.k.took(th), Some(1));
    }
}

#[test]
fn a_message_read_into_a_bad_buffer_is_lost() {
    let mut s = setup();
    assert_eq!(s.fault_read(s.area, 1), None);
    assert_eq!(s.k.call(s.h, Sysno::Read, [s.fd as u64, 0x10, 32, 0, 0, 0]), EFAULT);
    // No longer pending; the task sleeps until a wake.
    assert_eq!(s.read_msgs(1), Err(EAGAIN));
    assert_eq!(s.copy_page(s.area, 4, PAGE, 0), (0, PAGE as i64));
    assert_eq!(s.k.took(s.t), Some(1));
}

#[test]
fn unregister_does_not_wake_but_close_does() {
    let mut s = setup();
    assert_eq!(s.fault_read(s.area + PAGE, 2), None);
    s.k.put(s.h, s.scratch, &[s.area.to_le_bytes(), (4 * PAGE).to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(s.h, s.fd, UFFDIO_UNREGISTER, s.scratch), 0);
    s.k.settle();
    assert_eq!(s.k.took(s.t), None, "4.3 does not wake on UNREGISTER");
    // A WAKE releases it; the range is unregistered now, so the retry zero-fills.
    s.k.put(s.h, s.scratch, &[(s.area + PAGE).to_le_bytes(), PAGE.to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(s.h, s.fd, UFFDIO_WAKE, s.scratch), 0);
    assert_eq!(s.k.took(s.t), Some(2));
}

#[test]
fn the_context_keeps_the_address_space_after_its_process_exits() {
    let mut s = setup();
    assert_eq!(s.k.enter(s.t, Sysno::ExitGroup, [0, 0, 0, 0, 0, 0]), Some(DIED));
    // t is gone; its address space lives on in the context: COPY still works.
    assert_eq!(s.copy_page(s.area, 1, PAGE, 0), (0, PAGE as i64));
    assert_eq!(s.k.call(s.h, Sysno::Close, [s.fd as u64, 0, 0, 0, 0, 0]), 0);
    s.k.settle();
}

#[test]
fn a_user_mode_access_never_sleeps_on_a_userfault() {
    let mut s = setup();
    let mut b = [0u8; 4];
    assert_eq!(s.k.k.user_mode_access(s.t, s.area, &mut b, false), Err(kernel::Errno::EAGAIN));
    assert_eq!(s.read_msgs(1), Err(EAGAIN));
    assert_eq!(s.k.k.check_invariants(), Ok(()));
}

/// Found by the `uffd_ops` fuzz target: a thread cloned by a forked child has the child's
/// parent as its own (CLONE_THREAD copies `real_parent`); when that grandparent exited,
/// only thread-group leaders were reparented to init, leaving the thread with a parent
/// that no longer existed.
#[test]
fn threads_of_an_orphan_are_reparented_too() {
    let mut k = K::new();
    let t = k.spawn();
    let c = k.call(t, Sysno::Fork, [0; 6]) as i32;
    assert!(c > 0);
    // clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD)
    let th = k.call(c, Sysno::Clone, [0x10f00, 0, 0, 0, 0, 0]) as i32;
    assert!(th > 0);
    assert_eq!(k.k.task(th).map(|x| x.parent), Some(t));
    assert_eq!(k.enter(t, Sysno::Exit, [0; 6]), Some(DIED), "exit(0) returns nothing: the task is gone");
    k.settle();
    assert_eq!(k.k.task(c).map(|x| x.parent), Some(1));
    assert_eq!(k.k.task(th).map(|x| x.parent), Some(1));
}

#[test]
fn a_read_whose_buffer_waits_on_a_userfault_keeps_the_message() {
    let mut s = setup();
    // The handler registers a page of its own with a second context and reads the first
    // context's message into it: the read sleeps on the second context's fault.
    let hs = s.k.scratch(s.h);
    let fd2 = s.k.uffd(s.h, 0o4000, hs);
    let buf = s.k.mmap_anon(s.h, PAGE);
    assert_eq!(s.k.register(s.h, fd2, hs, buf, PAGE, 1), 0);
    // A thread of h (same memory and descriptors) will resolve it.
    let th = s.k.call(s.h, Sysno::Clone, [0x100 | 0x200 | 0x400 | 0x800 | 0x10000, 0, 0, 0, 0, 0]) as i32;
    assert!(th > 0);
    assert_eq!(s.fault_read(s.area, 1), None);
    assert_eq!(s.k.enter(s.h, Sysno::Read, [s.fd as u64, buf, 32, 0, 0, 0]), None);
    s.k.put(th, hs, &[buf.to_le_bytes(), PAGE.to_le_bytes(), 0u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(th, fd2, UFFDIO_ZEROPAGE, hs), 0);
    // ZEROPAGE maps the zero page read-only: the store into it is an ordinary COW fault.
    assert_eq!(s.k.took(s.h), Some(32));
    assert_eq!(s.k.get(s.h, buf, 32), pagefault_msg(s.area, false).to_vec());
}

#[test]
fn user_mode_faults_sleep_and_a_spurious_wake_is_sigbus() {
    let mut s = setup();
    // A user-mode load of a registered missing page enters through the fault path.
    s.k.k.submit_touch(s.t, s.area + 0x42, 1, false).expect("enters");
    s.k.settle();
    assert_eq!(s.k.took(s.t), None);
    assert_eq!(s.read_msgs(1), Ok(vec![pagefault_msg(s.area + 0x42, false)]));
    assert_eq!(s.copy_page(s.area, 3, PAGE, 0), (0, PAGE as i64));
    assert_eq!(s.k.took(s.t), Some(TOUCHED));
    // A store faults with the WRITE flag; a WAKE without a page: the one retry fails and
    // 4.3 delivers SIGBUS.
    s.k.k.submit_touch(s.t, s.area + PAGE, 8, true).expect("enters");
    s.k.settle();
    assert_eq!(s.read_msgs(1), Ok(vec![pagefault_msg(s.area + PAGE, true)]));
    s.k.put(s.h, s.scratch, &[(s.area + PAGE).to_le_bytes(), PAGE.to_le_bytes()].concat());
    assert_eq!(s.k.ioctl(s.h, s.fd, UFFDIO_WAKE, s.scratch), 0);
    assert_eq!(s.k.took(s.t), Some(TOUCHED));
    assert_eq!(s.k.took(s.t), Some(DIED - kernel::uapi::wait::signaled(kernel::uapi::signal::SIGBUS, false) as i64));
}

#[test]
fn a_user_mode_fault_outside_every_vma_is_sigsegv() {
    let mut s = setup();
    s.k.k.submit_touch(s.t, 0x1000, 4, false).expect("enters");
    s.k.settle();
    // The fault path returns, and the signal is delivered on the way to user mode.
    assert_eq!(s.k.took(s.t), Some(TOUCHED));
    assert_eq!(s.k.took(s.t), Some(DIED - kernel::uapi::wait::signaled(kernel::uapi::signal::SIGSEGV, false) as i64));
}

/// Found by `cargo fuzz run uffd_ops` (fuzz/regressions/uffd-copy-source-userfault.bin):
/// a UFFDIO_COPY whose source runs into a registered missing page after copying some
/// pages returned the partial count but left the caller queued on the source's
/// userfault ("task 3 has a userfault queued but is not asleep in a syscall").
#[test]
fn copy_with_a_faulting_source_leaves_nothing_queued() {
    harness::fuzz::uffd_ops(include_bytes!("../../fuzz/regressions/uffd-copy-source-userfault.bin"));
}
