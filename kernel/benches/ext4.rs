//! The ext4 library (`kernel/src/fs/ext4`, serving ext3 images) on a simulated disk —
//! a whole image in memory ([`ImageIo`]) — next to e2fsprogs' own library doing the same
//! work on the same image in the same run, through `debugfs`:
//!
//! - **read_32MiB**: mount a 64 MiB ext3 image (4 KiB blocks, made by `mke2fs -d`), look
//!   up `/file` (32 MiB) and read it sequentially in 128 KiB `read` calls, each through
//!   its own [`Overlay`] as the kernel runs every restartable operation (the simulated
//!   disk never answers `Need`). The peer: `debugfs -R "dump /file /dev/null"` on the
//!   same image file, timed as a whole process (process start, `ext2fs_open`, and the
//!   reads through the unix I/O manager from the host page cache).
//! - **create_1000**: on an empty ext3 image of the same geometry, create 1,000 files
//!   `f0` … `f999` in the root directory and write 100 bytes into each. Every `create`
//!   and every `write` is one operation through its own [`Overlay`] (what an
//!   `open(O_CREAT)` and a `write(2)` are). Two k43 variants: **no journal** (each
//!   operation's blocks go straight to the image) and **journaled** (the operations'
//!   metadata gathers in a running transaction; every 64 operations, and at the end,
//!   jbd2 plans the commit and its log blocks are written to the image, then the
//!   metadata is written home and checkpointed at once). The image copy is made outside
//!   the timed part. The peer: `debugfs -w -f cmds` running `write small fN` 1,000 times
//!   on a fresh copy of the empty image (libext2fs writes in place; no journal).
//!   A second figure runs four dumps in one debugfs process (`-f`), so that one
//!   dump's cost inside libext2fs, without the process, is (four − one) / 3.
//! - **debugfs/startup**: `debugfs -R stats` on the read image — what process start and
//!   `ext2fs_open` cost alone, to read the two debugfs figures against.
//!
//! Before timing, k43's read is checked byte for byte against the file, and both k43
//! create variants leave an image `e2fsck -fn` finds clean with all 1,000 files.
//!
//! e2fsprogs is required (looked for on `PATH`, then in `/usr/sbin` and `/sbin`).
//! Results: benches/README.md and the top-level README.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kernel::fs::buffer::{BlockIo, ImageIo, Overlay};
use kernel::fs::ext4::super_block::probe_block_size;
use kernel::fs::ext4::{Ctx, Ext4, MountType, Time, EXT4_JOURNAL_INO, EXT4_ROOT_INO};
use kernel::fs::jbd2::{jbd2_journal_load, journal_get_superblock, Journal};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The file read: 32 MiB.
const FILE_BYTES: usize = 32 << 20;
/// Bytes per `read` call.
const READ_CHUNK: usize = 128 << 10;
/// Files created, and bytes written into each.
const NFILES: usize = 1000;
const FILE_DATA: usize = 100;
/// Operations per journal commit in the journaled variant.
const COMMIT_EVERY: usize = 64;
const BS: usize = 4096;

/// An e2fsprogs tool, found on `PATH` or in `/usr/sbin`, `/sbin`. The command names the
/// program by its full path and leaves the child's `PATH` alone, so that std spawns it
/// with `posix_spawn` (a `vfork`) rather than `fork` + `exec`: forking this process,
/// with its several 64 MiB images, would add page-table copying to debugfs' figures.
fn tool(name: &str) -> Command {
    let path = std::env::var("PATH").unwrap_or_default();
    let exe = path
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found (is e2fsprogs installed?)"));
    let mut c = Command::new(exe);
    c.env("E2FSPROGS_FAKE_TIME", "1600000000");
    c
}

fn run_ok(c: &mut Command) -> String {
    let o = c.output().unwrap_or_else(|e| panic!("cannot run {c:?} (is e2fsprogs installed?): {e}"));
    assert!(o.status.success(), "{c:?} failed: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Deterministic bytes (xorshift).
fn pattern(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// `mke2fs -t ext3 -b 4096` on a 64 MiB file, copying `from` in when given.
fn mkfs(img: &Path, from: Option<&Path>) {
    let f = std::fs::File::create(img).unwrap();
    f.set_len(64 << 20).unwrap();
    drop(f);
    let mut c = tool("mke2fs");
    c.args(["-q", "-F", "-t", "ext3", "-b", &BS.to_string(), "-U", "01234567-89ab-cdef-0123-456789abcdef"]);
    c.args(["-E", "hash_seed=00112233-4455-6677-8899-aabbccddeeff"]);
    if let Some(d) = from {
        c.arg("-d").arg(d);
    }
    run_ok(c.arg(img));
}

struct Images {
    dir: PathBuf,
    /// The image holding `/file`.
    full: PathBuf,
    /// The empty image (the create tests).
    empty: PathBuf,
    /// The contents of `/file`.
    data: Vec<u8>,
    /// A host file of `FILE_DATA` bytes, debugfs' source for `write`.
    small: PathBuf,
    /// debugfs' command file for the create test.
    cmds: PathBuf,
    /// debugfs' command file dumping `/file` four times.
    dump4: PathBuf,
}

fn images() -> Images {
    let dir = std::env::temp_dir().join(format!("k43-bench-ext4-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("root")).unwrap();
    let data = pattern(FILE_BYTES, 7);
    std::fs::write(dir.join("root/file"), &data).unwrap();
    let (full, empty) = (dir.join("full.img"), dir.join("empty.img"));
    mkfs(&full, Some(&dir.join("root")));
    mkfs(&empty, None);
    let small = dir.join("small");
    std::fs::write(&small, pattern(FILE_DATA, 1)).unwrap();
    let cmds = dir.join("cmds");
    let text: String = (0..NFILES).map(|k| format!("write {} f{}\n", small.display(), k)).collect();
    std::fs::write(&cmds, text).unwrap();
    let dump4 = dir.join("dump4");
    std::fs::write(&dump4, "dump /file /dev/null\n".repeat(4)).unwrap();
    Images { dir, full, empty, data, small, cmds, dump4 }
}

fn ctx() -> Ctx {
    Ctx { now: Time { sec: 1_700_000_000, nsec: 0 }, uid: 0, gid: 0, cap_resource: true }
}

/// The simulated disk over `image`, at the block size its superblock announces (the
/// kernel probes with 1 KiB blocks first, as `ext4_fill_super` does).
fn disk(image: Vec<u8>) -> ImageIo {
    let mut probe = ImageIo::new(image, 1024);
    let bs = probe_block_size(&mut probe).expect("probe").expect("ext magic") as usize;
    ImageIo::new(probe.image, bs)
}

fn mount(io: &mut ImageIo, ro: bool) -> Ext4 {
    let len = io.image.len() as u64;
    match Ext4::mount(io, "vda", MountType::Ext3, ro, len) {
        Ok((fs, _)) => fs,
        Err(e) => panic!("mount: {:?} {:?}", e.err, e.msgs),
    }
}

/// k43: mount, look `/file` up, read it all in `READ_CHUNK` calls. Returns the bytes read
/// (and, when `keep`, the contents).
fn k43_read(io: &mut ImageIo, keep: bool) -> (usize, Vec<u8>) {
    let fs = mount(io, true);
    let ino = fs.lookup(&mut Overlay::new(io), EXT4_ROOT_INO, b"file").expect("lookup");
    let mut off = 0u64;
    let mut total = 0;
    let mut out = Vec::new();
    loop {
        let mut op = Overlay::new(io);
        let d = fs.read(&mut op, ino, off, READ_CHUNK).expect("read");
        if d.is_empty() {
            break;
        }
        total += d.len();
        off += d.len() as u64;
        if keep {
            out.extend_from_slice(&d);
        }
        black_box(&d);
    }
    (total, out)
}

fn file_name(k: usize) -> Vec<u8> {
    format!("f{k}").into_bytes()
}

/// k43, no journal: 1,000 × (create, write), each operation's blocks applied to the
/// disk when it completes.
fn k43_create(io: &mut ImageIo, small: &[u8]) {
    let fs = mount(io, false);
    let c = ctx();
    for k in 0..NFILES {
        let mut op = Overlay::new(&mut *io);
        let ino = fs.create(&mut op, EXT4_ROOT_INO, &file_name(k), 0o644, &c).expect("create");
        op.commit().expect("apply");
        let mut op = Overlay::new(&mut *io);
        assert_eq!(fs.write(&mut op, ino, 0, small, &c).expect("write"), small.len());
        op.commit().expect("apply");
    }
}

/// The journal of the mounted filesystem (`ext4_load_journal` → `jbd2_journal_load`),
/// its block map read through the ext4 library from inode 8.
fn load_journal(fs: &Ext4, io: &mut ImageIo) -> Journal {
    let ji = fs.read_inode(io, EXT4_JOURNAL_INO).expect("journal inode");
    let map: Vec<u64> = fs.mapped_blocks(io, &ji).expect("journal map").into_iter().map(|(_, p)| p).collect();
    let jsb = journal_get_superblock(&io.read(map[0]).expect("jsb"), BS, ji.size()).expect("journal superblock");
    let l = jbd2_journal_load(jsb, &map, io).expect("jbd2_journal_load");
    assert!(l.recovery.replay.is_empty() && l.sb_write.is_none());
    l.journal
}

/// Commits the running transaction `txn` (its metadata and data blocks, its frees), in
/// the order of `CommitPlan`: data home, log blocks, commit block, superblock; then the
/// metadata home and the checkpoint done at once.
fn commit(j: &mut Journal, txn: &mut Overlay<'_, ImageIo>, now: (u64, u32)) {
    if txn.meta.is_empty() && txn.data.is_empty() && txn.forgotten.is_empty() {
        return;
    }
    let revoked: Vec<u64> = txn.forgotten.iter().filter(|f| f.1).map(|f| f.0).collect();
    let plan = j.commit(&txn.meta, &revoked, now).expect("jbd2 commit");
    let disk = &mut *txn.lower;
    for (b, d) in std::mem::take(&mut txn.data) {
        disk.write_data(b, &d).unwrap();
    }
    for (b, d) in plan.sb_before.iter().chain(&plan.log_writes).chain([&plan.commit_block]).chain(&plan.sb_after) {
        disk.write_meta(*b, d).unwrap();
    }
    for (b, d) in std::mem::take(&mut txn.meta) {
        disk.write_meta(b, &d).unwrap();
    }
    for (b, m) in std::mem::take(&mut txn.forgotten) {
        disk.forget(b, m);
    }
    if let Some((b, d)) = j.checkpoint_complete(plan.tid) {
        disk.write_meta(b, &d).unwrap();
    }
}

/// k43, journaled: the same operations; each one's blocks join the running transaction,
/// which commits every `COMMIT_EVERY` operations and at the end, then the journal is
/// marked empty (clean unmount).
fn k43_create_journaled(io: &mut ImageIo, small: &[u8]) {
    let fs = mount(io, false);
    let mut j = load_journal(&fs, io);
    let c = ctx();
    let now = (c.now.sec as u64, c.now.nsec);
    let mut txn = Overlay::new(&mut *io);
    let mut ops = 0;
    for k in 0..NFILES {
        let mut op = Overlay::new(&mut txn);
        let ino = fs.create(&mut op, EXT4_ROOT_INO, &file_name(k), 0o644, &c).expect("create");
        op.commit().expect("apply");
        let mut op = Overlay::new(&mut txn);
        assert_eq!(fs.write(&mut op, ino, 0, small, &c).expect("write"), small.len());
        op.commit().expect("apply");
        ops += 2;
        if ops % COMMIT_EVERY == 0 {
            commit(&mut j, &mut txn, now);
        }
    }
    commit(&mut j, &mut txn, now);
    if let Some((b, d)) = j.destroy().expect("journal destroy") {
        io.write_meta(b, &d).unwrap();
    }
}

/// `e2fsck -fn` must pass on `image`, which must hold all 1,000 files.
fn check_created(im: &Images, image: &[u8], what: &str) {
    let p = im.dir.join(format!("check-{what}.img"));
    std::fs::write(&p, image).unwrap();
    let o = tool("e2fsck").arg("-fn").arg(&p).output().expect("e2fsck");
    assert_eq!(o.status.code(), Some(0), "{what}: e2fsck -fn: {}", String::from_utf8_lossy(&o.stdout));
    let st = run_ok(tool("debugfs").args(["-R", "stat /f999"]).arg(&p).stderr(Stdio::null()));
    assert!(st.contains(&format!("Size: {FILE_DATA}\n")), "{what}: /f999 is not {FILE_DATA} bytes: {st}");
    let _ = std::fs::remove_file(p);
}

fn debugfs_quiet(c: &mut Command) {
    let st = c.stdout(Stdio::null()).stderr(Stdio::null()).status().expect("debugfs");
    assert!(st.success(), "{c:?} failed");
}

fn bench(c: &mut Criterion) {
    let im = images();
    let full = std::fs::read(&im.full).unwrap();
    let empty = std::fs::read(&im.empty).unwrap();
    let small = std::fs::read(&im.small).unwrap();

    // Checks before timing.
    let mut io = disk(full.clone());
    let (n, got) = k43_read(&mut io, true);
    assert!(n == FILE_BYTES && got == im.data, "k43 read differs from the file");
    let mut e = disk(empty.clone());
    k43_create(&mut e, &small);
    check_created(&im, &e.image, "k43");
    let mut e = disk(empty.clone());
    k43_create_journaled(&mut e, &small);
    check_created(&im, &e.image, "k43-journaled");
    let copy = im.dir.join("debugfs-create.img");
    std::fs::copy(&im.empty, &copy).unwrap();
    debugfs_quiet(tool("debugfs").arg("-w").arg("-f").arg(&im.cmds).arg(&copy));
    check_created(&im, &std::fs::read(&copy).unwrap(), "debugfs");

    let mut g = c.benchmark_group("read_32MiB");
    g.throughput(Throughput::Bytes(FILE_BYTES as u64));
    g.bench_function("k43 ext4 (mount + 256 x 128 KiB read)", |b| b.iter(|| black_box(k43_read(&mut io, false).0)));
    g.bench_function("debugfs dump (whole process)", |b| {
        b.iter(|| debugfs_quiet(tool("debugfs").args(["-R", "dump /file /dev/null"]).arg(&im.full)))
    });
    // Four dumps in one process: (this − one dump) / 3 is what one more dump costs
    // libext2fs once debugfs is up.
    g.throughput(Throughput::Bytes(4 * FILE_BYTES as u64));
    g.bench_function("debugfs dump x4 (one process)", |b| {
        b.iter(|| debugfs_quiet(tool("debugfs").arg("-f").arg(&im.dump4).arg(&im.full)))
    });
    g.finish();

    let mut g = c.benchmark_group("create_1000");
    // Each iteration also makes a 64 MiB copy of the image (untimed, but it counts
    // against criterion's budget).
    g.measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(NFILES as u64));
    g.bench_function("k43 ext4, no journal", |b| {
        b.iter_batched(|| disk(empty.clone()), |mut io| k43_create(&mut io, &small), BatchSize::PerIteration)
    });
    g.bench_function("k43 ext4, jbd2 commit every 64 ops", |b| {
        b.iter_batched(|| disk(empty.clone()), |mut io| k43_create_journaled(&mut io, &small), BatchSize::PerIteration)
    });
    g.bench_function("debugfs -w -f (whole process)", |b| {
        b.iter_batched(
            || std::fs::copy(&im.empty, &copy).unwrap(),
            |_| debugfs_quiet(tool("debugfs").arg("-w").arg("-f").arg(&im.cmds).arg(&copy)),
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("debugfs");
    g.bench_function("startup (debugfs -R stats, whole process)", |b| {
        b.iter(|| debugfs_quiet(tool("debugfs").args(["-R", "stats"]).arg(&im.full)))
    });
    g.finish();

    let _ = std::fs::remove_dir_all(&im.dir);
}

criterion_group! {
    name = benches;
    // Each iteration is tens of milliseconds: ten samples and a few seconds per figure
    // keep the whole run near two minutes.
    config = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500))
        .without_plots();
    targets = bench
}
criterion_main!(benches);
