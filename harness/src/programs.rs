//! Built-in user programs: what `#!k43 NAME` files run. Each is an `async fn` over
//! [`Sys`]; its return value becomes the argument of the `exit_group` the world makes
//! for it, as libc's `exit` would.

use crate::exec::{ProgramFuture, Sys};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::format;
use alloc::vec::Vec;
use kernel::syscalls::Sysno;
use kernel::uapi::fcntl::{AT_FDCWD, O_CREAT, O_TRUNC, O_WRONLY};

/// A program's entry point: the task's handle and its argv.
pub type Entry = fn(Sys, Vec<Vec<u8>>) -> ProgramFuture;

/// Every built-in program, by the name `#!k43 NAME` uses.
pub static PROGRAMS: &[(&str, Entry, &str)] = &[
    ("true", |_, _| Box::pin(async { 0 }), "exit 0"),
    ("false", |_, _| Box::pin(async { 1 }), "exit 1"),
    ("exit", |_, a| Box::pin(async move { arg_num(&a, 1).unwrap_or(0) as i32 }), "exit with argv[1]"),
    ("producer", |s, a| Box::pin(producer(s, a)), "producer FD COUNT: write COUNT lines to FD, yielding between"),
    ("consumer", |s, a| Box::pin(consumer(s, a)), "consumer FD PATH: read FD to EOF, then write what came to PATH"),
    ("sleeper", |s, a| Box::pin(sleeper(s, a)), "sleeper MS: nanosleep MS milliseconds"),
    ("forker", |s, a| Box::pin(forker(s, a)), "forker N: fork N children exiting 1..N, reap them, exit with the sum"),
    ("id", |s, a| Box::pin(id(s, a)), "id PATH: write the real and effective ids to PATH"),
    ("postcopy", |s, a| Box::pin(postcopy(s, a)), "postcopy N PATH: post-copy live migration of N pages over pipes (a source process, a userfaultfd pager, the guest touching its pages in an order getrandom(2) draws from the seed); writes the fault count, resolution latencies and the verdict to PATH, exits 0 when the guest's memory equals the source's"),
    ("caps", |s, a| Box::pin(caps(s, a)), "caps PATH [FILE ARG…]: write the Uid, Gid and Cap* lines of /proc/self/status and the securebits and no_new_privs (prctl) to PATH, then execve FILE with ARG… if given"),
];

/// Looks a program up by name.
pub fn find(name: &str) -> Option<Entry> {
    PROGRAMS.iter().find(|p| p.0 == name).map(|p| p.1)
}

fn arg_num(argv: &[Vec<u8>], i: usize) -> Option<i64> {
    core::str::from_utf8(argv.get(i)?).ok()?.parse().ok()
}

impl Sys {
    /// `write(fd, data)`.
    pub async fn write(&self, fd: i32, data: &[u8]) -> i64 {
        if !self.store(self.arena, data).await {
            return -14;
        }
        self.syscall(Sysno::Write, [fd as u64, self.arena, data.len() as u64, 0, 0, 0]).await
    }

    /// `read(fd, n)`: the bytes read, or the negative errno.
    pub async fn read(&self, fd: i32, n: usize) -> Result<Vec<u8>, i64> {
        let r = self.syscall(Sysno::Read, [fd as u64, self.arena, n as u64, 0, 0, 0]).await;
        if r < 0 {
            return Err(r);
        }
        self.load(self.arena, r as usize).await.ok_or(-14)
    }

    /// `read(fd, chunk)` until EOF: everything read, or the first negative errno.
    pub async fn read_to_end(&self, fd: i32, chunk: usize) -> Result<Vec<u8>, i64> {
        let mut all = Vec::new();
        loop {
            let d = self.read(fd, chunk).await?;
            if d.is_empty() {
                return Ok(all);
            }
            all.extend_from_slice(&d);
        }
    }

    /// `openat(AT_FDCWD, path, flags, mode)`.
    pub async fn open(&self, path: &[u8], flags: u32, mode: u32) -> i64 {
        let mut p = path.to_vec();
        p.push(0);
        if !self.store(self.arena, &p).await {
            return -14;
        }
        self.syscall(Sysno::Openat, [AT_FDCWD as u64, self.arena, flags as u64, mode as u64, 0, 0]).await
    }

    /// `execve(path, argv, [])`: returns only on failure.
    pub async fn execve(&self, path: &[u8], argv: &[Vec<u8>]) -> i64 {
        let mut blob = Vec::new();
        let mut offs = Vec::new();
        let strings = self.arena + 8 * (argv.len() as u64 + 2);
        for s in core::iter::once(path).chain(argv.iter().map(|a| a.as_slice())) {
            offs.push(strings + blob.len() as u64);
            blob.extend_from_slice(s);
            blob.push(0);
        }
        let mut ptrs = Vec::new();
        for o in &offs[1..] {
            ptrs.extend_from_slice(&o.to_le_bytes());
        }
        ptrs.extend_from_slice(&0u64.to_le_bytes());
        ptrs.extend_from_slice(&0u64.to_le_bytes());
        if !self.store(self.arena, &ptrs).await || !self.store(strings, &blob).await {
            return -14;
        }
        let envp = self.arena + 8 * (argv.len() as u64 + 1);
        self.syscall(Sysno::Execve, [offs[0], self.arena, envp, 0, 0, 0]).await
    }

    /// `close(fd)`.
    pub async fn close(&self, fd: i32) -> i64 {
        self.syscall(Sysno::Close, [fd as u64, 0, 0, 0, 0, 0]).await
    }

    /// `sched_yield()`.
    pub async fn sched_yield(&self) -> i64 {
        self.syscall(Sysno::SchedYield, [0; 6]).await
    }

    /// `nanosleep` for `ns` nanoseconds.
    pub async fn nanosleep(&self, ns: u64) -> i64 {
        let ts = kernel::uapi::time::Timespec::from_ns(ns);
        if !self.store(self.arena, &ts.to_bytes()).await {
            return -14;
        }
        self.syscall(Sysno::Nanosleep, [self.arena, 0, 0, 0, 0, 0]).await
    }

    /// `wait4(pid, &status, 0, NULL)`: the reaped pid (or -errno) and the status word.
    pub async fn wait4(&self, pid: i32) -> (i64, i32) {
        let r = self.syscall(Sysno::Wait4, [pid as i64 as u64, self.arena, 0, 0, 0, 0]).await;
        let st = self.load(self.arena, 4).await.map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
        (r, st)
    }
}

async fn producer(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let (Some(fd), Some(count)) = (arg_num(&argv, 1), arg_num(&argv, 2)) else { return 2 };
    for i in 0..count {
        if sys.write(fd as i32, format!("msg {i}\n").as_bytes()).await < 0 {
            return 1;
        }
        sys.sched_yield().await;
    }
    sys.close(fd as i32).await;
    0
}

async fn consumer(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let (Some(fd), Some(path)) = (arg_num(&argv, 1), argv.get(2)) else { return 2 };
    let Ok(got) = sys.read_to_end(fd as i32, 7).await else { return 1 };
    let out = sys.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644).await;
    if out < 0 {
        return 1;
    }
    // Write in pieces the arena holds.
    for chunk in got.chunks(4096) {
        if sys.write(out as i32, chunk).await < 0 {
            return 1;
        }
    }
    sys.close(out as i32).await;
    0
}

async fn sleeper(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let ms = arg_num(&argv, 1).unwrap_or(0).max(0) as u64;
    if sys.nanosleep(ms * 1_000_000).await == 0 {
        0
    } else {
        1
    }
}

async fn forker(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let n = arg_num(&argv, 1).unwrap_or(2).clamp(0, 64);
    for i in 0..n {
        let code = (i + 1) as i32;
        let r = sys.fork(move |child: Sys| -> ProgramFuture {
            Box::pin(async move {
                child.sched_yield().await;
                code
            })
        })
        .await;
        if r < 0 {
            return 100;
        }
    }
    let mut sum = 0;
    for _ in 0..n {
        let (r, st) = sys.wait4(-1).await;
        if r <= 0 {
            return 101;
        }
        sum += (st >> 8) & 0xff;
    }
    sum
}

async fn id(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let Some(path) = argv.get(1) else { return 2 };
    let uid = sys.syscall(Sysno::Getuid, [0; 6]).await;
    let euid = sys.syscall(Sysno::Geteuid, [0; 6]).await;
    let gid = sys.syscall(Sysno::Getgid, [0; 6]).await;
    let egid = sys.syscall(Sysno::Getegid, [0; 6]).await;
    let fd = sys.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644).await;
    if fd < 0 {
        return 1;
    }
    sys.write(fd as i32, format!("uid={uid} euid={euid} gid={gid} egid={egid}\n").as_bytes()).await;
    sys.close(fd as i32).await;
    0
}

async fn caps(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let Some(path) = argv.get(1) else { return 2 };
    let fd = sys.open(b"/proc/self/status", kernel::uapi::fcntl::O_RDONLY, 0).await;
    if fd < 0 {
        return 1;
    }
    let Ok(status) = sys.read_to_end(fd as i32, 1024).await else { return 1 };
    sys.close(fd as i32).await;
    let mut out = Vec::new();
    for line in status.split(|&b| b == b'\n').filter(|l| l.starts_with(b"Cap") || l.starts_with(b"Uid:") || l.starts_with(b"Gid:")) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    let sb = sys.syscall(Sysno::Prctl, [kernel::uapi::prctl::PR_GET_SECUREBITS as u64, 0, 0, 0, 0, 0]).await;
    let nnp = sys.syscall(Sysno::Prctl, [kernel::uapi::prctl::PR_GET_NO_NEW_PRIVS as u64, 0, 0, 0, 0, 0]).await;
    out.extend_from_slice(format!("securebits={sb:#x} no_new_privs={nnp}\n").as_bytes());
    let o = sys.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644).await;
    if o < 0 {
        return 1;
    }
    sys.write(o as i32, &out).await;
    sys.close(o as i32).await;
    if let Some(file) = argv.get(2) {
        sys.execve(file, &argv[2..]).await;
        return 3;
    }
    0
}

const PAGE: u64 = 4096;

/// The content of source page `idx`: every byte depends on the page and the offset.
fn page_pattern(idx: u64) -> Vec<u8> {
    (0..PAGE).map(|off| ((idx * 131 + off * 7 + (off >> 8) * 13) % 251) as u8).collect()
}

impl Sys {
    /// `pipe2(fds, 0)`: `(read end, write end)`.
    async fn pipe(&self) -> Option<(i32, i32)> {
        if self.syscall(Sysno::Pipe2, [self.arena, 0, 0, 0, 0, 0]).await != 0 {
            return None;
        }
        let b = self.load(self.arena, 8).await?;
        Some((i32::from_le_bytes([b[0], b[1], b[2], b[3]]), i32::from_le_bytes([b[4], b[5], b[6], b[7]])))
    }

    /// An anonymous private read-write mapping of `len` bytes.
    async fn mmap_anon(&self, len: u64) -> i64 {
        self.syscall(Sysno::Mmap, [0, len, 3, 0x22, u64::MAX, 0]).await
    }

    /// `ioctl(fd, req, arg)` with `arg` stored in the arena first; the argument after.
    async fn ioctl_words(&self, fd: i32, req: u32, words: &[u64]) -> (i64, Vec<u8>) {
        let b: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        if !self.store(self.arena, &b).await {
            return (-14, Vec::new());
        }
        let r = self.syscall(Sysno::Ioctl, [fd as u64, req as u64, self.arena, 0, 0, 0]).await;
        (r, self.load(self.arena, b.len()).await.unwrap_or_default())
    }

    /// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
    async fn monotonic_ns(&self) -> u64 {
        self.syscall(Sysno::ClockGettime, [1, self.arena, 0, 0, 0, 0]).await;
        let b = self.load(self.arena, 16).await.unwrap_or_else(|| alloc::vec![0; 16]);
        let w = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        w(0).wrapping_mul(1_000_000_000).wrapping_add(w(8))
    }

    /// Reads exactly `n` bytes from `fd` to `addr` (a pipe may return less).
    async fn read_full(&self, fd: i32, addr: u64, n: u64) -> bool {
        let mut done = 0;
        while done < n {
            let r = self.syscall(Sysno::Read, [fd as u64, addr + done, n - done, 0, 0, 0]).await;
            if r <= 0 {
                return false;
            }
            done += r as u64;
        }
        true
    }
}

/// The source host of a post-copy migration: holds the pages and serves each request
/// (an 8-byte page index on `req`) with the page on `data`, until `req` reaches EOF.
/// The transport is a pipe: networking does not exist yet (the issue moves it to UDP).
async fn migration_source(sys: Sys, n: u64, req: i32, data: i32, others: [i32; 2]) -> i32 {
    // Only its own ends stay open, so the request pipe reaches EOF when the pager exits.
    for fd in others {
        sys.close(fd).await;
    }
    let mem = sys.mmap_anon(n * PAGE).await;
    if mem < 0 {
        return 10;
    }
    for i in 0..n {
        if !sys.store(mem as u64 + i * PAGE, &page_pattern(i)).await {
            return 11;
        }
    }
    loop {
        let Ok(b) = sys.read(req, 8).await else { return 12 };
        if b.is_empty() {
            return 0;
        }
        let idx = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
        if idx >= n {
            return 13;
        }
        let r = sys.syscall(Sysno::Write, [data as u64, mem as u64 + idx * PAGE, PAGE, 0, 0, 0]).await;
        if r != PAGE as i64 {
            return 14;
        }
    }
}

/// The destination's pager: reads userfault messages, asks the source for each page
/// and installs it with UFFDIO_COPY; exits with the number of faults it resolved.
async fn migration_pager(sys: Sys, n: u64, uffd: i32, base: u64, req: i32, data: i32, others: [i32; 2]) -> i32 {
    for fd in others {
        sys.close(fd).await;
    }
    use kernel::uapi::userfaultfd::{UFFDIO_COPY, UFFD_MSG_SIZE};
    let staging = sys.mmap_anon(PAGE).await;
    if staging < 0 {
        return 200;
    }
    let mut faults = 0u64;
    let mut resolved = 0u64;
    while resolved < n {
        // Wait for messages (POLLIN on the non-blocking descriptor).
        let mut pfd = Vec::new();
        pfd.extend_from_slice(&uffd.to_le_bytes());
        pfd.extend_from_slice(&kernel::fs::poll::POLLIN.to_le_bytes());
        pfd.extend_from_slice(&0u16.to_le_bytes());
        sys.store(sys.arena, &pfd).await;
        if sys.syscall(Sysno::Poll, [sys.arena, 1, u64::MAX, 0, 0, 0]).await != 1 {
            return 201;
        }
        let msgs = match sys.read(uffd, 4 * UFFD_MSG_SIZE).await {
            Ok(m) => m,
            Err(-11) => continue,
            Err(_) => return 202,
        };
        for m in msgs.chunks(UFFD_MSG_SIZE) {
            faults += 1;
            let addr = u64::from_le_bytes(m[16..24].try_into().unwrap_or([0; 8]));
            let page = addr & !(PAGE - 1);
            let idx = (page - base) / PAGE;
            if sys.write(req, &idx.to_le_bytes()).await != 8 || !sys.read_full(data, staging as u64, PAGE).await {
                return 203;
            }
            let (r, out) = sys.ioctl_words(uffd, UFFDIO_COPY, &[page, staging as u64, PAGE, 0, 0]).await;
            // EEXIST: already installed (a second fault on the same page).
            if r != 0 && r != -17 {
                return 204;
            }
            if r == 0 && out.len() == 40 && u64::from_le_bytes(out[32..40].try_into().unwrap_or([0; 8])) == PAGE {
                resolved += 1;
            }
        }
    }
    faults.min(199) as i32
}

async fn postcopy(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    use kernel::uapi::userfaultfd::{UFFDIO_API, UFFDIO_REGISTER, UFFDIO_REGISTER_MODE_MISSING, UFFD_API};
    let (Some(n), Some(path)) = (arg_num(&argv, 1), argv.get(2)) else { return 2 };
    let n = n.clamp(1, 64) as u64;
    let (Some((req_r, req_w)), Some((data_r, data_w))) = (sys.pipe().await, sys.pipe().await) else { return 3 };
    // The source: its own process, reached only through the pipes.
    if sys.fork(move |c: Sys| -> ProgramFuture { Box::pin(async move { migration_source(c, n, req_r, data_w, [req_w, data_r]).await }) }).await < 0 {
        return 4;
    }
    // The destination: an empty registered area, then its pager.
    let uffd = sys.syscall(Sysno::Userfaultfd, [(kernel::uapi::fcntl::O_NONBLOCK | kernel::uapi::fcntl::O_CLOEXEC) as u64, 0, 0, 0, 0, 0]).await;
    if uffd < 0 || sys.ioctl_words(uffd as i32, UFFDIO_API, &[UFFD_API, 0, 0]).await.0 != 0 {
        return 5;
    }
    let base = sys.mmap_anon(n * PAGE).await;
    if base < 0 || sys.ioctl_words(uffd as i32, UFFDIO_REGISTER, &[base as u64, n * PAGE, UFFDIO_REGISTER_MODE_MISSING, 0]).await.0 != 0 {
        return 6;
    }
    let (uffd, base) = (uffd as i32, base as u64);
    let pager = sys.fork(move |c: Sys| -> ProgramFuture { Box::pin(async move { migration_pager(c, n, uffd, base, req_w, data_r, [req_r, data_w]).await }) }).await;
    if pager < 0 {
        return 7;
    }
    for fd in [req_r, req_w, data_r, data_w] {
        sys.close(fd).await;
    }
    // The touch order: a shuffle keyed by getrandom(2), which the seed drives.
    sys.syscall(Sysno::Getrandom, [sys.arena, 8, 0, 0, 0, 0]).await;
    let key = sys.load(sys.arena, 8).await.unwrap_or_else(|| alloc::vec![0; 8]);
    let mut x = u64::from_le_bytes(key[..8].try_into().unwrap_or([0; 8])) | 1;
    let mut order: Vec<u64> = (0..n).collect();
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    // The guest runs: each first touch (a user-mode load of one byte) faults to the pager.
    let mut lat = Vec::new();
    let mut bytes_ok = true;
    for &idx in &order {
        let off = (idx * 97) % PAGE;
        let t0 = sys.monotonic_ns().await;
        let Some(b) = sys.load(base + idx * PAGE + off, 1).await else { return 8 };
        lat.push(sys.monotonic_ns().await - t0);
        bytes_ok &= b.first() == page_pattern(idx).get(off as usize);
    }
    // Byte-for-byte comparison with the source's content.
    let mut same = bytes_ok;
    for i in 0..n {
        same &= sys.load(base + i * PAGE, PAGE as usize).await.is_some_and(|d| d == page_pattern(i));
    }
    sys.close(uffd).await;
    let (_, pst) = sys.wait4(pager as i32).await;
    let (_, sst) = sys.wait4(-1).await;
    let faults = (pst >> 8) & 0xff;
    let (max, sum) = (lat.iter().copied().max().unwrap_or(0), lat.iter().sum::<u64>());
    let order_text: Vec<String> = order.iter().map(|i| format!("{i}")).collect();
    let report = format!(
        "pages={n} faults={faults} source_exit={} order={}\nlatency_ns mean={} max={} min={}\nmemory {}\n",
        (sst >> 8) & 0xff,
        order_text.join(","),
        sum / n,
        max,
        lat.iter().copied().min().unwrap_or(0),
        if same { "identical" } else { "DIFFERS" }
    );
    let fd = sys.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644).await;
    if fd < 0 {
        return 1;
    }
    sys.write(fd as i32, report.as_bytes()).await;
    sys.close(fd as i32).await;
    if same && faults as u64 == n && sst == 0 {
        0
    } else {
        1
    }
}
