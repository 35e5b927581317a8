//! Crash consistency of ext3 under k43's journal (issue 7, deliverable 6).
//!
//! A seeded workload — create-and-write, append, rename, truncate, unlink, fsync, sync —
//! runs through the whole kernel (syscalls, VFS, the ext4 driver, jbd2, the block layer)
//! on a simulated disk made by `mke2fs -t ext3`. It is run once to count the disk's write
//! and flush completions; then once per crash point, with the disk stopping after that
//! many completions (every flush/FUA boundary and every other write boundary), the power
//! cut dropping or tearing what the disk had not made durable. After each crash the
//! machine boots again, mounts (replaying the journal) and unmounts cleanly; then:
//! - the tree is one of the states the workload passed through, at or after the last
//!   state an `fsync`/`sync` had made durable (ext3's ordered journal commits whole
//!   operations in order, so recovery yields a prefix of them);
//! - `e2fsck -fn` finds the image clean.
//!
//! The workload never overwrites file data in place except where ext3 itself does: a
//! truncate zeroes the rest of the new last block as ordered data (`ext4_block_truncate_page`),
//! which reaches the disk before the transaction's commit block, so a crash in between
//! leaves the old size with that tail zeroed — allowed, as in Linux; the check ignores
//! those bytes for truncates not yet committed.

use hal_sim::disk::{Crash, SimDisk};
use hal_sim::{SimConfig, SimHal};
use kernel::fs::buffer::ImageIo;
use kernel::fs::ext4::{Ext4, MountType};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::{KEvent, Kernel, KernelConfig};
use std::collections::BTreeMap;
use std::process::Command;

/// The tree under /mnt/w: file name → contents.
type Tree = BTreeMap<String, Vec<u8>>;

const O_WRONLY: u64 = 1;
const O_RDONLY: u64 = 0;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;
const O_APPEND: u64 = 0o2000;
const AT_FDCWD: u64 = -100i64 as u64;

fn tool(name: &str) -> String {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = format!("{dir}/{name}");
        if std::path::Path::new(&p).exists() {
            return p;
        }
    }
    panic!("{name} is missing: install e2fsprogs");
}

fn mkfs() -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("k43-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("base.img");
    let st = Command::new(tool("mke2fs"))
        .args(["-q", "-F", "-t", "ext3", "-b", "1024", "-U", "6b3c0d7e-4300-4a43-9000-0000000000c5", "-E", "hash_seed=6b3c0d7e-4300-4a43-9000-0000000000c6"])
        .arg(&img)
        .arg("8M")
        .env("E2FSPROGS_FAKE_TIME", "1446422400")
        .status()
        .unwrap();
    assert!(st.success());
    let b = std::fs::read(&img).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    b
}

fn e2fsck_clean(image: &[u8], tag: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("k43-crash-fsck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("img");
    std::fs::write(&img, image).unwrap();
    let out = Command::new(tool("e2fsck")).args(["-fn"]).arg(&img).output().unwrap();
    if out.status.code() == Some(0) {
        Ok(())
    } else {
        let keep = std::env::temp_dir().join(format!("k43-crash-{tag}.img"));
        std::fs::copy(&img, &keep).ok();
        Err(format!("e2fsck -fn exit {:?} (image kept at {}):\n{}", out.status.code(), keep.display(), String::from_utf8_lossy(&out.stdout)))
    }
}

/// The "Filesystem features:" line `dumpe2fs -h` prints for an image.
fn features(image: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("k43-crash-feat-{}", std::process::id()));
    std::fs::write(&path, image).unwrap();
    let out = Command::new(tool("dumpe2fs")).arg("-h").arg(&path).output().unwrap();
    std::fs::remove_file(&path).ok();
    String::from_utf8_lossy(&out.stdout).lines().find(|l| l.starts_with("Filesystem features:")).unwrap_or("").to_string()
}

/// One machine: a kernel on the simulator with the disk, and a root task.
struct M {
    k: Kernel<SimHal>,
    pid: i32,
    arena: u64,
}

impl M {
    fn boot(disk: SimDisk, seed: u64) -> M {
        let hal = SimHal::new(SimConfig { seed, ram_bytes: 32 << 20, cpus: 1 });
        hal.attach_disk(disk);
        let mut k = Kernel::new(hal, KernelConfig::default());
        let _ = k.admin_mkdir(b"/mnt", 0o755, 0, 0);
        let pid = k.create_process(Cred::new(0, 0), "t", 0).expect("spawn");
        let mut m = M { k, pid, arena: 0 };
        // PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS: scratch for arguments.
        m.arena = m.call(Sysno::Mmap, [0, 1 << 20, 3, 0x22, u64::MAX, 0]).expect("mmap") as u64;
        m
    }

    /// Runs one syscall to its return; `None` when nothing can move any more (the disk
    /// stopped at its crash point with the call waiting on it).
    fn call(&mut self, s: Sysno, args: [u64; 6]) -> Option<i64> {
        let nr = s.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
        self.k.submit(self.pid, nr, args).expect("submit");
        for _ in 0..1_000_000 {
            while self.k.step() {}
            let pid = self.pid;
            let ret = self.k.take_events().find_map(|e| match e {
                KEvent::SyscallReturn { pid: p, ret, .. } if p == pid => Some(ret),
                _ => None,
            });
            if ret.is_some() {
                return ret;
            }
            let hal = &self.k.hal;
            let next = [hal.disk_deadline(), self.k.next_timer()].into_iter().flatten().min()?;
            self.k.hal.advance_to(next);
            for (d, c) in self.k.hal.disk_completions() {
                self.k.blk_complete(d, c);
            }
            self.k.run_timers();
        }
        panic!("syscall {s:?} never finished\n{}", self.k.ext_debug());
    }

    fn put(&mut self, off: u64, bytes: &[u8]) -> u64 {
        let mut b = bytes.to_vec();
        self.k.user_mode_access(self.pid, self.arena + off, &mut b, true).expect("arena");
        self.arena + off
    }

    fn path(&mut self, slot: u64, p: &str) -> u64 {
        let mut b = p.as_bytes().to_vec();
        b.push(0);
        self.put(slot * 256, &b)
    }

    fn take_disk(self) -> SimDisk {
        self.k.hal.disks.borrow_mut().remove(0)
    }
}

/// One step of the workload at the syscall level.
#[derive(Clone, Debug)]
enum Op {
    /// open(O_CREAT|O_TRUNC) + write + close of a new or existing name.
    Put(String, Vec<u8>),
    /// open(O_APPEND) + write + close.
    Append(String, Vec<u8>),
    Rename(String, String),
    Truncate(String, u64),
    Unlink(String),
    Fsync(String),
    Sync,
}

fn workload(seed: u64, n: usize) -> Vec<Op> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let mut names: Vec<String> = Vec::new();
    let mut ops = Vec::new();
    let mut counter = 0;
    for _ in 0..n {
        let pick = |r: u64, names: &Vec<String>| names[(r as usize) % names.len()].clone();
        let r = rnd(100);
        let op = if names.is_empty() || r < 25 {
            counter += 1;
            let name = format!("f{counter}");
            let len = rnd(5000) as usize;
            let byte = b'a' + (counter % 26) as u8;
            names.push(name.clone());
            Op::Put(name, vec![byte; len])
        } else if r < 40 {
            let len = 1 + rnd(3000) as usize;
            Op::Append(pick(rnd(1000), &names), vec![b'0' + (rnd(10) as u8); len])
        } else if r < 52 {
            let a = pick(rnd(1000), &names);
            counter += 1;
            let b = if rnd(2) == 0 { pick(rnd(1000), &names) } else { format!("r{counter}") };
            if a == b {
                Op::Sync
            } else {
                names.retain(|n| *n != a);
                if !names.contains(&b) {
                    names.push(b.clone());
                }
                Op::Rename(a, b)
            }
        } else if r < 60 {
            Op::Truncate(pick(rnd(1000), &names), rnd(4000))
        } else if r < 68 {
            let a = pick(rnd(1000), &names);
            names.retain(|n| *n != a);
            Op::Unlink(a)
        } else if r < 90 {
            Op::Fsync(pick(rnd(1000), &names))
        } else {
            Op::Sync
        };
        ops.push(op);
    }
    ops
}

/// Runs `ops` on a mounted `m`, recording the model state after every syscall that
/// changed it and the index of the last state made durable. Stops early (returns
/// `false`) when the disk stopped.
fn run_ops(m: &mut M, ops: &[Op], states: &mut Vec<Tree>, durable: &mut usize, truncs: &mut Vec<(usize, String, u64)>) -> bool {
    let mut tree: Tree = states.last().cloned().unwrap_or_default();
    let dirpath = |n: &str| format!("/mnt/w/{n}");
    for op in ops {
        match op {
            Op::Put(name, data) | Op::Append(name, data) => {
                let append = matches!(op, Op::Append(..));
                let p = m.path(0, &dirpath(name));
                let flags = if append { O_WRONLY | O_APPEND } else { O_WRONLY | O_CREAT | O_TRUNC };
                let Some(fd) = m.call(Sysno::Openat, [AT_FDCWD, p, flags, 0o644, 0, 0]) else { return false };
                assert!(fd >= 0, "open {name}: {fd}");
                if !append {
                    tree.insert(name.clone(), Vec::new());
                    states.push(tree.clone());
                }
                let buf = m.put(4096, data);
                let Some(n) = m.call(Sysno::Write, [fd as u64, buf, data.len() as u64, 0, 0, 0]) else { return false };
                assert_eq!(n, data.len() as i64, "write {name}");
                tree.get_mut(name).expect("written file").extend_from_slice(data);
                states.push(tree.clone());
                let Some(r) = m.call(Sysno::Close, [fd as u64, 0, 0, 0, 0, 0]) else { return false };
                assert_eq!(r, 0);
            }
            Op::Rename(a, b) => {
                let (pa, pb) = (m.path(0, &dirpath(a)), m.path(1, &dirpath(b)));
                let Some(r) = m.call(Sysno::Renameat2, [AT_FDCWD, pa, AT_FDCWD, pb, 0, 0]) else { return false };
                assert_eq!(r, 0, "rename {a} {b}");
                let v = tree.remove(a).expect("renamed file");
                tree.insert(b.clone(), v);
                states.push(tree.clone());
            }
            Op::Truncate(name, len) => {
                let p = m.path(0, &dirpath(name));
                truncs.push((states.len(), name.clone(), *len));
                let Some(r) = m.call(Sysno::Truncate, [p, *len, 0, 0, 0, 0]) else { return false };
                assert_eq!(r, 0, "truncate {name}");
                tree.get_mut(name).expect("truncated file").resize(*len as usize, 0);
                states.push(tree.clone());
            }
            Op::Unlink(name) => {
                let p = m.path(0, &dirpath(name));
                let Some(r) = m.call(Sysno::Unlinkat, [AT_FDCWD, p, 0, 0, 0, 0]) else { return false };
                assert_eq!(r, 0, "unlink {name}");
                tree.remove(name);
                states.push(tree.clone());
            }
            Op::Fsync(name) => {
                let p = m.path(0, &dirpath(name));
                let Some(fd) = m.call(Sysno::Openat, [AT_FDCWD, p, O_RDONLY, 0, 0, 0]) else { return false };
                assert!(fd >= 0, "open {name} for fsync: {fd}");
                let Some(r) = m.call(Sysno::Fsync, [fd as u64, 0, 0, 0, 0, 0]) else { return false };
                assert_eq!(r, 0, "fsync {name}");
                *durable = states.len() - 1;
                let Some(_) = m.call(Sysno::Close, [fd as u64, 0, 0, 0, 0, 0]) else { return false };
            }
            Op::Sync => {
                let Some(r) = m.call(Sysno::Sync, [0; 6]) else { return false };
                assert_eq!(r, 0);
                *durable = states.len() - 1;
            }
        }
    }
    true
}

fn mount(m: &mut M) -> Option<i64> {
    let (src, dst, ty) = (m.path(0, "/dev/vda"), m.path(1, "/mnt"), m.path(2, "ext3"));
    m.call(Sysno::Mount, [src, dst, ty, 0, 0, 0])
}

fn umount(m: &mut M) -> Option<i64> {
    let p = m.path(0, "/mnt");
    m.call(Sysno::Umount2, [p, 0, 0, 0, 0, 0])
}

/// The tree in /w of an image, through the ext4 library.
fn tree_of(image: &[u8]) -> Result<Tree, String> {
    let mut io = ImageIo::new(image.to_vec(), 1024);
    let (fs, _) = Ext4::mount(&mut io, "vda", MountType::Ext3, true, image.len() as u64).map_err(|e| format!("mount: {:?}", e.err))?;
    let w = fs.lookup(&mut io, 2, b"w").map_err(|e| format!("lookup w: {e:?}"))?;
    let mut t = Tree::new();
    for e in fs.read_dir_all(&mut io, w).map_err(|e| format!("readdir: {e:?}"))? {
        if e.name == b"." || e.name == b".." {
            continue;
        }
        let st = fs.stat(&mut io, e.ino).map_err(|e| format!("stat: {e:?}"))?;
        let data = fs.read(&mut io, e.ino, 0, st.size as usize).map_err(|e| format!("read: {e:?}"))?;
        t.insert(String::from_utf8_lossy(&e.name).into_owned(), data);
    }
    Ok(t)
}

/// Whether `t` is `s` (state number `p`), ignoring the bytes a later, uncommitted
/// truncate may already have zeroed in the last block it kept.
fn same_modulo_truncates(t: &Tree, s: &Tree, p: usize, truncs: &[(usize, String, u64)]) -> bool {
    if t.len() != s.len() || t.keys().ne(s.keys()) {
        return false;
    }
    t.iter().all(|(name, a)| {
        let b = &s[name];
        if a.len() != b.len() {
            return false;
        }
        let masked = |i: usize| truncs.iter().any(|(at, n, l)| *at >= p && n == name && (i as u64) >= *l && (i as u64) < l.next_multiple_of(1024));
        a.iter().zip(b).enumerate().all(|(i, (x, y))| x == y || masked(i))
    })
}

fn describe(t: &Tree) -> String {
    t.iter().map(|(k, v)| format!("{k}:{}", v.len())).collect::<Vec<_>>().join(" ")
}

/// The base image with /w made and committed.
fn prepared(base: &[u8]) -> SimDisk {
    let mut m = M::boot(SimDisk::from_image(base.to_vec(), 7), 1);
    assert_eq!(mount(&mut m), Some(0));
    let p = m.path(0, "/mnt/w");
    assert_eq!(m.call(Sysno::Mkdirat, [AT_FDCWD, p, 0o755, 0, 0, 0]), Some(0));
    assert_eq!(umount(&mut m), Some(0));
    m.take_disk()
}

struct Sweep {
    points: usize,
    barriers: usize,
    failures: Vec<String>,
}

fn sweep(base: &SimDisk, wseed: u64, nops: usize, tear_every: usize, out: &mut Sweep) {
    let ops = workload(wseed, nops);
    // The full run: how many writes the disk completes, and which were barriers.
    let mut m = M::boot(base.clone(), wseed);
    assert_eq!(mount(&mut m), Some(0));
    let start = m.k.hal.disks.borrow()[0].writes_completed;
    let (mut states, mut durable) = (vec![Tree::new()], 0);
    assert!(run_ops(&mut m, &ops, &mut states, &mut durable, &mut Vec::new()));
    let total = m.k.hal.disks.borrow()[0].writes_completed;
    assert_eq!(umount(&mut m), Some(0));
    let full = m.take_disk();
    if let Err(e) = e2fsck_clean(full.durable_image(), &format!("full-{wseed}")) {
        out.failures.push(format!("workload {wseed} without a crash: {e}"));
        return;
    }
    // k43 never adds a feature to an ext3 filesystem.
    let (before, after) = (features(base.durable_image()), features(full.durable_image()));
    assert!(before.contains("has_journal") && before.contains("dir_index"), "{before}");
    if before != after {
        out.failures.push(format!("workload {wseed}: features changed from '{before}' to '{after}'"));
    }
    for k in start..total {
        let mut disk = base.clone();
        disk.stop_after_writes = Some(k);
        let mut m = M::boot(disk, wseed);
        assert_eq!(mount(&mut m), Some(0));
        let (mut states, mut durable, mut truncs) = (vec![Tree::new()], 0, Vec::new());
        let finished = run_ops(&mut m, &ops, &mut states, &mut durable, &mut truncs);
        let mut disk = m.take_disk();
        let tear = tear_every != 0 && k % tear_every as u64 == 0;
        disk.crash(if tear { Crash::Tear } else { Crash::Drop });
        disk.stop_after_writes = None;
        let tag = format!("w{wseed}-k{k}{}", if tear { "-tear" } else { "" });
        // Reboot, recover, unmount cleanly.
        let mut m = M::boot(disk, wseed ^ 0x5a5a);
        match mount(&mut m) {
            Some(0) => {}
            r => {
                out.failures.push(format!("{tag}: remount returned {r:?}\n{}", String::from_utf8_lossy(&m.k.hal.take_console())));
                continue;
            }
        }
        if umount(&mut m) != Some(0) {
            out.failures.push(format!("{tag}: umount failed"));
            continue;
        }
        let disk = m.take_disk();
        out.points += 1;
        let _ = finished;
        let image = disk.durable_image();
        if let Err(e) = e2fsck_clean(image, &tag) {
            out.failures.push(format!("{tag}: {e}"));
            continue;
        }
        match tree_of(image) {
            Err(e) => out.failures.push(format!("{tag}: {e}")),
            Ok(t) => {
                if !(durable..states.len()).any(|p| same_modulo_truncates(&t, &states[p], p, &truncs)) {
                    let expect: Vec<String> = states[durable..].iter().take(3).map(describe).collect();
                    out.failures.push(format!("{tag}: the tree [{}] is not a state at or after the last durable one (states {}..{}: first {:?})", describe(&t), durable, states.len(), expect));
                }
            }
        }
    }
    out.barriers += full.barriers_completed as usize;
}

#[test]
fn crash_at_every_write_boundary_recovers_an_allowed_state() {
    let base = prepared(&mkfs());
    let mut out = Sweep { points: 0, barriers: 0, failures: Vec::new() };
    for wseed in 1..=6 {
        sweep(&base, wseed, 50, 3, &mut out);
    }
    println!("crash sweep: {} crash points explored ({} flush/FUA completions in the full runs), {} failures", out.points, out.barriers, out.failures.len());
    assert!(out.failures.is_empty(), "{} failures:\n{}", out.failures.len(), out.failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n"));
    assert!(out.points >= 500, "only {} crash points", out.points);
}
