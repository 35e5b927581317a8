//! Post-copy live migration of a process's memory (spec/mm-userfaultfd.md §1): the
//! destination's guest runs on an empty area registered with userfaultfd, and its pager
//! fetches each page it touches from the source. Two transports: pipes between
//! processes of one host (`postcopy`), and UDP over IPv6 between two hosts
//! (`postcopy-source` and `postcopy-dest`), where the pager retransmits its requests so
//! the migration survives a faulty wire.

use crate::exec::{ProgramFuture, Sys};
use crate::netprogs::{parse_ip, SockAddr, AF_INET6, SOCK_DGRAM};
use crate::programs::arg_num;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv6Addr};
use kernel::syscalls::Sysno;
use kernel::uapi::fcntl::{O_CREAT, O_TRUNC, O_WRONLY};

const PAGE: u64 = 4096;

/// The content of source page `idx`: every byte depends on the page and the offset.
fn page_pattern(idx: u64) -> Vec<u8> {
    (0..PAGE).map(|off| ((idx * 131 + off * 7 + (off >> 8) * 13) % 251) as u8).collect()
}

impl Sys {
    /// `pipe2(fds, 0)`: `(read end, write end)`.
    pub(crate) async fn pipe(&self) -> Option<(i32, i32)> {
        if self.syscall(Sysno::Pipe2, [self.arena, 0, 0, 0, 0, 0]).await != 0 {
            return None;
        }
        let b = self.load(self.arena, 8).await?;
        Some((i32::from_le_bytes([b[0], b[1], b[2], b[3]]), i32::from_le_bytes([b[4], b[5], b[6], b[7]])))
    }

    /// An anonymous private read-write mapping of `len` bytes.
    pub(crate) async fn mmap_anon(&self, len: u64) -> i64 {
        self.syscall(Sysno::Mmap, [0, len, 3, 0x22, u64::MAX, 0]).await
    }

    /// `ioctl(fd, req, arg)` with `arg` stored in the arena first; the argument after.
    pub(crate) async fn ioctl_words(&self, fd: i32, req: u32, words: &[u64]) -> (i64, Vec<u8>) {
        let b: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        if !self.store(self.arena, &b).await {
            return (-14, Vec::new());
        }
        let r = self.syscall(Sysno::Ioctl, [fd as u64, req as u64, self.arena, 0, 0, 0]).await;
        (r, self.load(self.arena, b.len()).await.unwrap_or_default())
    }

    /// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
    pub(crate) async fn monotonic_ns(&self) -> u64 {
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

/// The source of a pipe migration: holds the pages and serves each request (an 8-byte
/// page index on `req`) with the page on `data`, until `req` reaches EOF.
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

/// The destination's pager over pipes: reads userfault messages, asks the source for
/// each page and installs it with UFFDIO_COPY; exits with the number of faults it
/// resolved.
async fn migration_pager(sys: Sys, n: u64, uffd: i32, base: u64, req: i32, data: i32, others: [i32; 2]) -> i32 {
    for fd in others {
        sys.close(fd).await;
    }
    let staging = sys.mmap_anon(PAGE).await;
    if staging < 0 {
        return 200;
    }
    let mut faults = 0u64;
    let mut resolved = 0u64;
    while resolved < n {
        let Some(addrs) = uffd_faults(&sys, uffd).await else { return 201 };
        for addr in addrs {
            faults += 1;
            let page = addr & !(PAGE - 1);
            let idx = (page - base) / PAGE;
            if sys.write(req, &idx.to_le_bytes()).await != 8 || !sys.read_full(data, staging as u64, PAGE).await {
                return 203;
            }
            match uffd_install(&sys, uffd, page, staging as u64).await {
                Ok(true) => resolved += 1,
                Ok(false) => {}
                Err(()) => return 204,
            }
        }
    }
    faults.min(199) as i32
}


/// Waits for userfault messages on the non-blocking `uffd` (poll, then read): the fault
/// addresses of one read, `None` on an error.
async fn uffd_faults(sys: &Sys, uffd: i32) -> Option<Vec<u64>> {
    use kernel::uapi::userfaultfd::UFFD_MSG_SIZE;
    loop {
        if sys.poll_in(uffd, -1).await != 1 {
            return None;
        }
        match sys.read(uffd, 4 * UFFD_MSG_SIZE).await {
            Ok(m) => return Some(m.chunks(UFFD_MSG_SIZE).map(|m| u64::from_le_bytes(m[16..24].try_into().unwrap_or([0; 8]))).collect()),
            Err(-11) => continue,
            Err(_) => return None,
        }
    }
}

/// UFFDIO_COPY of the page staged at `staging` to `page`: whether it is installed now
/// (EEXIST — a second fault on a page already copied — counts as not newly installed).
async fn uffd_install(sys: &Sys, uffd: i32, page: u64, staging: u64) -> Result<bool, ()> {
    use kernel::uapi::userfaultfd::UFFDIO_COPY;
    let (r, out) = sys.ioctl_words(uffd, UFFDIO_COPY, &[page, staging, PAGE, 0, 0]).await;
    match r {
        0 => Ok(out.len() == 40 && u64::from_le_bytes(out[32..40].try_into().unwrap_or([0; 8])) == PAGE),
        -17 => Ok(false),
        _ => Err(()),
    }
}

/// The destination's empty area: a non-blocking userfaultfd with the 4.3 API and `n`
/// anonymous pages registered for missing faults. `(uffd, base)`, or the exit code.
async fn destination_area(sys: &Sys, n: u64) -> Result<(i32, u64), i32> {
    use kernel::uapi::userfaultfd::{UFFDIO_API, UFFDIO_REGISTER, UFFDIO_REGISTER_MODE_MISSING, UFFD_API};
    let uffd = sys.syscall(Sysno::Userfaultfd, [(kernel::uapi::fcntl::O_NONBLOCK | kernel::uapi::fcntl::O_CLOEXEC) as u64, 0, 0, 0, 0, 0]).await;
    if uffd < 0 || sys.ioctl_words(uffd as i32, UFFDIO_API, &[UFFD_API, 0, 0]).await.0 != 0 {
        return Err(5);
    }
    let base = sys.mmap_anon(n * PAGE).await;
    if base < 0 || sys.ioctl_words(uffd as i32, UFFDIO_REGISTER, &[base as u64, n * PAGE, UFFDIO_REGISTER_MODE_MISSING, 0]).await.0 != 0 {
        return Err(6);
    }
    Ok((uffd as i32, base as u64))
}

/// The destination guest: touches each of its `n` pages once (a user-mode load of one
/// byte, which faults to the pager), in an order shuffled by a getrandom(2) key (the
/// seed drives it), then compares its memory with the source's pattern. What it saw, for
/// the report: the order, each touch's latency, and whether memory is identical.
struct GuestRun {
    order: Vec<u64>,
    lat: Vec<u64>,
    same: bool,
}

async fn guest_touch(sys: &Sys, n: u64, base: u64) -> Option<GuestRun> {
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
    let mut lat = Vec::new();
    let mut same = true;
    for &idx in &order {
        let off = (idx * 97) % PAGE;
        let t0 = sys.monotonic_ns().await;
        let b = sys.load(base + idx * PAGE + off, 1).await?;
        lat.push(sys.monotonic_ns().await - t0);
        same &= b.first() == page_pattern(idx).get(off as usize);
    }
    // Byte-for-byte comparison with the source's content.
    for i in 0..n {
        same &= sys.load(base + i * PAGE, PAGE as usize).await.is_some_and(|d| d == page_pattern(i));
    }
    Some(GuestRun { order, lat, same })
}

impl GuestRun {
    /// The report's text after its first line's `pages=… faults=…` part.
    fn text(&self, n: u64) -> String {
        let (max, sum) = (self.lat.iter().copied().max().unwrap_or(0), self.lat.iter().sum::<u64>());
        let order_text: Vec<String> = self.order.iter().map(|i| format!("{i}")).collect();
        format!(
            " order={}\nlatency_ns mean={} max={} min={}\nmemory {}\n",
            order_text.join(","),
            sum / n.max(1),
            max,
            self.lat.iter().copied().min().unwrap_or(0),
            if self.same { "identical" } else { "DIFFERS" }
        )
    }
}

async fn write_report(sys: &Sys, path: &[u8], text: &str) -> bool {
    let fd = sys.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644).await;
    if fd < 0 {
        return false;
    }
    sys.write(fd as i32, text.as_bytes()).await;
    sys.close(fd as i32).await;
    true
}

/// `postcopy N PATH`: post-copy live migration of N pages over pipes (a source process,
/// a userfaultfd pager, the guest); the report goes to PATH; exit 0 when the guest's
/// memory equals the source's.
pub async fn postcopy(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let (Some(n), Some(path)) = (arg_num(&argv, 1), argv.get(2)) else { return 2 };
    let n = n.clamp(1, 64) as u64;
    let (Some((req_r, req_w)), Some((data_r, data_w))) = (sys.pipe().await, sys.pipe().await) else { return 3 };
    // The source: its own process, reached only through the pipes.
    if sys.fork(move |c: Sys| -> ProgramFuture { Box::pin(async move { migration_source(c, n, req_r, data_w, [req_w, data_r]).await }) }).await < 0 {
        return 4;
    }
    let (uffd, base) = match destination_area(&sys, n).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    let pager = sys.fork(move |c: Sys| -> ProgramFuture { Box::pin(async move { migration_pager(c, n, uffd, base, req_w, data_r, [req_r, data_w]).await }) }).await;
    if pager < 0 {
        return 7;
    }
    for fd in [req_r, req_w, data_r, data_w] {
        sys.close(fd).await;
    }
    let Some(run) = guest_touch(&sys, n, base).await else { return 8 };
    sys.close(uffd).await;
    let (_, pst) = sys.wait4(pager as i32).await;
    let (_, sst) = sys.wait4(-1).await;
    let faults = (pst >> 8) & 0xff;
    let report = format!("pages={n} faults={faults} source_exit={}{}", (sst >> 8) & 0xff, run.text(n));
    if !write_report(&sys, path, &report).await {
        return 1;
    }
    if run.same && faults as u64 == n && sst == 0 {
        0
    } else {
        1
    }
}

/// How long the UDP pager waits for a page before asking again.
const PAGE_TIMEOUT_MS: i64 = 20;
/// Requests for one page before the pager gives up: 10 s of retrying, longer than a
/// neighbour resolution that lost its first answers takes (3 probes 1 s apart, then a
/// new round).
const PAGE_TRIES: u32 = 500;
/// A page request: `GET` and the page index; the answer is the index, the page's
/// FNV-1a hash and the page.
const GET: &[u8; 4] = b"GET ";
/// The end of a migration: the source exits when it arrives.
const BYE: &[u8; 4] = b"BYE ";
/// Bytes of a page answer.
const REPLY_LEN: usize = 16 + PAGE as usize;

/// FNV-1a, 64 bits: the migration's own integrity check of a page.
fn fnv64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// `postcopy-source PORT N`: the source host of a migration over UDP. Holds N pages and
/// answers each `GET idx` datagram on `[::]:PORT` with one datagram of the index, a hash
/// and the page (4,112 bytes: IPv6 fragments it on an Ethernet link), until `BYE`
/// arrives.
/// Requests are idempotent, so lost, duplicated or reordered ones need no state here.
pub async fn postcopy_source(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let (Some(port), Some(n)) = (arg_num(&argv, 1).and_then(|p| u16::try_from(p).ok()), arg_num(&argv, 2)) else { return 2 };
    let n = n.clamp(1, 64) as u64;
    let fd = sys.socket(AF_INET6, SOCK_DGRAM, 0).await;
    if fd < 0 || sys.bind(fd as i32, &SockAddr { ip: IpAddr::V6(Ipv6Addr::UNSPECIFIED), port }).await != 0 {
        return 10;
    }
    let mut served = 0u64;
    loop {
        let Ok((req, Some(from))) = sys.recvfrom(fd as i32, 64, 0).await else { return 12 };
        if req.starts_with(BYE) {
            sys.print(&format!("source: served {served} page requests\n")).await;
            return 0;
        }
        let Some(idx) = req.strip_prefix(GET.as_slice()).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes) else { continue };
        if idx >= n {
            continue;
        }
        let page = page_pattern(idx);
        let mut reply = idx.to_le_bytes().to_vec();
        reply.extend_from_slice(&fnv64(&page).to_le_bytes());
        reply.extend_from_slice(&page);
        if sys.sendto(fd as i32, &reply, &from).await < 0 {
            return 14;
        }
        served += 1;
    }
}

/// `postcopy-dest ADDR PORT N PATH`: the destination host of a migration over UDP. The
/// guest touches N registered pages; its pager asks the source at ADDR:PORT for each
/// faulting page (`GET idx`), retransmitting after 20 ms without an answer (so a lossy,
/// duplicating or reordering wire still completes), and installs it with UFFDIO_COPY.
/// Answers whose page hash does not match (corruption the UDP checksum missed) are
/// dropped and counted. The report (pages, faults, requests sent, bad answers, then what
/// `postcopy` reports) goes to PATH;
/// exit 0 when the guest's memory equals the source's.
pub async fn postcopy_dest(sys: Sys, argv: Vec<Vec<u8>>) -> i32 {
    let (Some(ip), Some(port), Some(n), Some(path)) =
        (argv.get(1).and_then(|a| parse_ip(a)), arg_num(&argv, 2).and_then(|p| u16::try_from(p).ok()), arg_num(&argv, 3), argv.get(4))
    else {
        return 2;
    };
    let (n, src) = (n.clamp(1, 64) as u64, SockAddr { ip, port });
    let fd = sys.socket(src.family(), SOCK_DGRAM, 0).await;
    if fd < 0 {
        return 3;
    }
    let fd = fd as i32;
    let (uffd, base) = match destination_area(&sys, n).await {
        Ok(a) => a,
        Err(code) => return code,
    };
    // The pager reports through a pipe: faults resolved and requests sent.
    let Some((stat_r, stat_w)) = sys.pipe().await else { return 3 };
    let pager = sys.fork(move |c: Sys| -> ProgramFuture { Box::pin(async move { udp_pager(c, n, uffd, base, fd, src, stat_w).await }) }).await;
    if pager < 0 {
        return 7;
    }
    sys.close(stat_w).await;
    let Some(run) = guest_touch(&sys, n, base).await else { return 8 };
    sys.close(uffd).await;
    let (_, pst) = sys.wait4(pager as i32).await;
    let stats = sys.read(stat_r, 24).await.unwrap_or_default();
    let word = |o: usize| stats.get(o..o + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).unwrap_or(0);
    let (faults, requests, bad) = (word(0), word(8), word(16));
    // The source may go now (a lost BYE leaves it waiting, which a scenario sees).
    sys.sendto(fd, BYE, &src).await;
    let report = format!("pages={n} faults={faults} requests={requests} bad_replies={bad} pager_exit={}{}", (pst >> 8) & 0xff, run.text(n));
    if !write_report(&sys, path, &report).await {
        return 1;
    }
    if run.same && faults == n && pst == 0 {
        0
    } else {
        1
    }
}

/// The UDP pager: each fault becomes `GET idx` requests until the page arrives (stale
/// and duplicate answers for other pages are installed too if still missing, else
/// skipped); writes (faults, requests) to `stat` and exits 0, or non-zero on failure.
async fn udp_pager(sys: Sys, n: u64, uffd: i32, base: u64, fd: i32, src: SockAddr, stat: i32) -> i32 {
    let staging = sys.mmap_anon(PAGE).await;
    if staging < 0 {
        return 20;
    }
    let staging = staging as u64;
    let (mut faults, mut requests, mut resolved, mut bad) = (0u64, 0u64, 0u64, 0u64);
    while resolved < n {
        let Some(addrs) = uffd_faults(&sys, uffd).await else { return 21 };
        for addr in addrs {
            faults += 1;
            let page = addr & !(PAGE - 1);
            let want = (page - base) / PAGE;
            let mut have = false;
            for _ in 0..PAGE_TRIES {
                let mut req = GET.to_vec();
                req.extend_from_slice(&want.to_le_bytes());
                if sys.sendto(fd, &req, &src).await < 0 {
                    return 22;
                }
                requests += 1;
                while sys.poll_in(fd, PAGE_TIMEOUT_MS).await == 1 {
                    let Ok((reply, _)) = sys.recvfrom(fd, REPLY_LEN, 0).await else { return 23 };
                    let word = |o: usize| reply.get(o..o + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes);
                    let (Some(idx), Some(hash)) = (word(0), word(8)) else { continue };
                    // The UDP checksum misses two flips of one bit position in opposite
                    // directions (corrupt faults produce them); the page hash does not.
                    if reply.len() != REPLY_LEN || idx >= n || fnv64(&reply[16..]) != hash {
                        bad += 1;
                        continue;
                    }
                    if !sys.store(staging, &reply[16..]).await {
                        return 24;
                    }
                    match uffd_install(&sys, uffd, base + idx * PAGE, staging).await {
                        Ok(true) => resolved += 1,
                        Ok(false) => {}
                        Err(()) => return 25,
                    }
                    if idx == want {
                        have = true;
                        break;
                    }
                }
                if have {
                    break;
                }
            }
            if !have {
                return 26;
            }
        }
    }
    let mut st = faults.to_le_bytes().to_vec();
    st.extend_from_slice(&requests.to_le_bytes());
    st.extend_from_slice(&bad.to_le_bytes());
    sys.write(stat, &st).await;
    0
}
