//! Built-in user programs: what `#!k43 NAME` files run. Each is an `async fn` over
//! [`Sys`]; its return value becomes the argument of the `exit_group` the world makes
//! for it, as libc's `exit` would.

use crate::exec::{ProgramFuture, Sys};
use alloc::boxed::Box;
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
    ("postcopy", |s, a| Box::pin(crate::migration::postcopy(s, a)), "postcopy N PATH: post-copy live migration of N pages over pipes (a source process, a userfaultfd pager, the guest touching its pages in an order getrandom(2) draws from the seed); writes the fault count, resolution latencies and the verdict to PATH, exits 0 when the guest's memory equals the source's"),
    ("udp-echo-server", |s, a| Box::pin(crate::netprogs::udp_echo_server(s, a)), "udp-echo-server PORT [COUNT]: echo UDP datagrams on [::]:PORT (both families), COUNT of them or forever"),
    ("udp-echo-client", |s, a| Box::pin(crate::netprogs::udp_echo_client(s, a)), "udp-echo-client ADDR PORT COUNT [SIZE]: send COUNT datagrams, wait up to 1 s for each echo, print a line each and a summary to stdout; exit 0 if all came back"),
    ("postcopy-source", |s, a| Box::pin(crate::migration::postcopy_source(s, a)), "postcopy-source PORT N: the source host of a migration over UDP: serve N pages to GET requests on [::]:PORT until BYE"),
    ("postcopy-dest", |s, a| Box::pin(crate::migration::postcopy_dest(s, a)), "postcopy-dest ADDR PORT N PATH: the destination host: a guest touching N userfaultfd-registered pages, its pager fetching each from ADDR:PORT over UDP with retransmission; the report goes to PATH, exit 0 when memory equals the source's"),
    ("ping", |s, a| Box::pin(crate::ping::ping(s, a, false)), "ping [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT] ADDR: iputils' ping over a raw ICMP socket (needs CAP_NET_RAW), its output format, to stdout"),
    ("ping6", |s, a| Box::pin(crate::ping::ping(s, a, true)), "ping6 [-c COUNT] [-i INTERVAL] [-s SIZE] [-W TIMEOUT] ADDR: iputils' ping6 over a raw ICMPv6 socket (hop limits from IPV6_RECVHOPLIMIT)"),
    ("blkread", |s, a| Box::pin(blkread(s, a)), "blkread DEV COUNT SIZE PATH: read SIZE bytes at offset 0 of DEV COUNT times; each read must return SIZE or EIO (else exit 3); write 'reads COUNT ok A eio B' to PATH; exit 0 when both outcomes were seen, 4 otherwise"),
    ("caps", |s, a| Box::pin(caps(s, a)), "caps PATH [FILE ARG…]: write the Uid, Gid and Cap* lines of /proc/self/status and the securebits and no_new_privs (prctl) to PATH, then execve FILE with ARG… if given"),
];

/// Looks a program up by name.
pub fn find(name: &str) -> Option<Entry> {
    PROGRAMS.iter().find(|p| p.0 == name).map(|p| p.1)
}

/// Argument `i` as a decimal number.
pub(crate) fn arg_num(argv: &[Vec<u8>], i: usize) -> Option<i64> {
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

async fn blkread(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let (Some(dev), Some(count), Some(size), Some(path)) = (argv.get(1), arg_num(&argv, 2), arg_num(&argv, 3), argv.get(4)) else { return 2 };
    let fd = sys.open(dev, kernel::uapi::fcntl::O_RDONLY, 0).await;
    if fd < 0 {
        return 2;
    }
    let (mut ok, mut eio) = (0, 0);
    for _ in 0..count.max(0) {
        if sys.syscall(Sysno::Lseek, [fd as u64, 0, 0, 0, 0, 0]).await != 0 {
            return 3;
        }
        match sys.read(fd as i32, size.max(0) as usize).await {
            Ok(d) if d.len() as i64 == size => ok += 1,
            Err(e) if e == kernel::Errno::EIO.ret() => eio += 1,
            _ => return 3,
        }
    }
    let out = sys.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644).await;
    if out < 0 || sys.write(out as i32, format!("reads {count} ok {ok} eio {eio}\n").as_bytes()).await < 0 {
        return 2;
    }
    if ok > 0 && eio > 0 {
        0
    } else {
        4
    }
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
