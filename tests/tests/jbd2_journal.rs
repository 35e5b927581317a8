//! jbd2 against real e2fsprogs: (a) k43 logs transactions into an ext3 image made by
//! mke2fs, then `debugfs logdump` must list them and `e2fsck -fy` must replay them into
//! exactly the expected home blocks; (b) debugfs writes transactions (`jo`/`jw`/`jc`),
//! then k43's recovery must produce the same blocks as e2fsck's replay. e2fsprogs is
//! required: a missing tool fails the test.

use kernel::fs::buffer::{BlockIo, ImageIo};
use kernel::fs::jbd2::header::JBD2_MAGIC_NUMBER;
use kernel::fs::jbd2::superblock::JournalSuperblock;
use kernel::fs::jbd2::{jbd2_journal_load, journal_get_superblock, CommitPlan};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory for one test run.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("k43-jbd2-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs a tool; panics (test failure) when it cannot be started.
fn run(cmd: &str, args: &[&str], stdin: Option<&str>) -> (i32, String) {
    use std::io::Write;
    let mut c = Command::new(cmd);
    c.args(args).env("E2FSPROGS_FAKE_TIME", "1600000000");
    c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut ch = c.spawn().unwrap_or_else(|e| panic!("e2fsprogs tool {cmd} is required: {e}"));
    {
        let mut si = ch.stdin.take().unwrap();
        if let Some(s) = stdin {
            si.write_all(s.as_bytes()).unwrap();
        }
    }
    let o = ch.wait_with_output().unwrap();
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), s)
}

fn mkfs(dir: &Path, bs: usize, size: &str) -> PathBuf {
    let img = dir.join("img");
    let (rc, out) = run(
        "mke2fs",
        &["-q", "-F", "-t", "ext3", "-b", &bs.to_string(), "-U", "01234567-89ab-cdef-0123-456789abcdef", img.to_str().unwrap(), size],
        None,
    );
    assert_eq!(rc, 0, "mke2fs: {out}");
    img
}

fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

/// The journal inode's block map (journal block n → fs block), from inode 8's i_block
/// (direct, IND, DIND, TIND), and its i_size. A test-only reader of the ext3 layout.
fn journal_map(image: &[u8], bs: usize) -> (Vec<u64>, u64) {
    let sb = &image[1024..2048];
    let first_data_block = le32(sb, 0x14) as usize;
    let ipg = le32(sb, 0x28) as usize;
    let isz = if le32(sb, 0x4C) >= 1 { u16::from_le_bytes([sb[0x58], sb[0x59]]) as usize } else { 128 };
    let gdt = (first_data_block + 1) * bs;
    assert!(8 <= ipg);
    let itable = le32(image, gdt + 8) as usize;
    let ino = &image[itable * bs + 7 * isz..][..isz];
    let size = le32(ino, 4) as u64 | (le32(ino, 0x6C) as u64) << 32;
    let nblocks = (size / bs as u64) as usize;
    let blk = |b: u32| &image[b as usize * bs..][..bs];
    let ptrs = |b: u32| -> Vec<u32> { (0..bs / 4).map(|i| le32(blk(b), 4 * i)).collect() };
    let mut map = Vec::new();
    for i in 0..12 {
        map.push(le32(ino, 0x28 + 4 * i) as u64);
    }
    fn walk(depth: u32, b: u32, ptrs: &dyn Fn(u32) -> Vec<u32>, out: &mut Vec<u64>, want: usize) {
        if out.len() >= want {
            return;
        }
        if b == 0 {
            return;
        }
        for p in ptrs(b) {
            if out.len() >= want {
                return;
            }
            if depth == 0 {
                out.push(p as u64);
            } else {
                walk(depth - 1, p, ptrs, out, want);
            }
        }
    }
    for (d, i) in [(0, 12), (1, 13), (2, 14)] {
        walk(d, le32(ino, 0x28 + 4 * i), &ptrs, &mut map, nblocks);
    }
    map.truncate(nblocks);
    assert_eq!(map.len(), nblocks, "journal inode fully mapped");
    (map, size)
}

fn block(image: &[u8], bs: usize, b: u64) -> Vec<u8> {
    image[b as usize * bs..][..bs].to_vec()
}

fn apply(io: &mut ImageIo, plan: &CommitPlan, with_commit: bool) {
    for (b, d) in plan.sb_before.iter().chain(plan.log_writes.iter()) {
        io.write_meta(*b, d).unwrap();
    }
    if with_commit {
        io.write_meta(plan.commit_block.0, &plan.commit_block.1).unwrap();
        if let Some((b, d)) = &plan.sb_after {
            io.write_meta(*b, d).unwrap();
        }
    }
}

fn pattern(tag: u8, bs: usize) -> Vec<u8> {
    (0..bs).map(|i| tag ^ (i as u8).wrapping_mul(7)).collect()
}

/// (a) k43 writes, e2fsprogs replays.
fn k43_writes_e2fsck_replays(bs: usize, size: &str) {
    let dir = scratch(&format!("a{bs}"));
    let img = mkfs(&dir, bs, size);
    let bytes = std::fs::read(&img).unwrap();
    let (map, isize) = journal_map(&bytes, bs);
    let mut io = ImageIo::new(bytes, bs);
    let jsb = journal_get_superblock(&io.read(map[0]).unwrap(), bs, isize).unwrap();
    let mut l = jbd2_journal_load(jsb, &map, &mut io).unwrap();
    assert!(l.recovery.replay.is_empty());
    let tid0 = l.journal.transaction_sequence;
    let total = io.image.len() as u64 / bs as u64;
    let (x, y, z, w) = (total - 40, total - 39, total - 38, total - 37);

    // The fs superblock as the mounted fs would have it: RECOVER set, new volume name.
    let sb_blk = if bs == 1024 { 1 } else { 0 };
    let sb_off = if bs == 1024 { 0 } else { 1024 };
    let mut fs_sb = block(&io.image, bs, sb_blk);
    fs_sb[sb_off + 0x60] |= 0x4;
    fs_sb[sb_off + 0x78..sb_off + 0x88].copy_from_slice(b"k43-journalled\0\0");
    io.write_meta(sb_blk, &fs_sb).unwrap();

    // T1: x (begins with the magic: escaped), y.
    let mut esc = pattern(1, bs);
    esc[..4].copy_from_slice(&JBD2_MAGIC_NUMBER.to_be_bytes());
    let t1: BTreeMap<u64, Vec<u8>> = [(x, esc.clone()), (y, pattern(2, bs))].into_iter().collect();
    let p1 = l.journal.commit(&t1, &[], (1_600_000_000, 1)).unwrap();
    assert_eq!(p1.escaped, 1);
    apply(&mut io, &p1, true);
    // T2: revokes y, logs z and the superblock.
    let t2: BTreeMap<u64, Vec<u8>> = [(z, pattern(3, bs)), (sb_blk, fs_sb.clone())].into_iter().collect();
    let p2 = l.journal.commit(&t2, &[y], (1_600_000_001, 2)).unwrap();
    apply(&mut io, &p2, true);
    // T3: torn (no commit block).
    let t3: BTreeMap<u64, Vec<u8>> = [(w, pattern(4, bs)), (x, pattern(5, bs))].into_iter().collect();
    let p3 = l.journal.commit(&t3, &[], (1_600_000_002, 3)).unwrap();
    apply(&mut io, &p3, false);
    std::fs::write(&img, &io.image).unwrap();

    // logdump lists the transactions.
    let (rc, out) = run("debugfs", &["-R", "logdump", img.to_str().unwrap()], None);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(&format!("Journal starts at block 1, transaction {tid0}")), "{out}");
    for (t, ty) in [
        (tid0, "1 (descriptor block)"),
        (tid0, "2 (commit block)"),
        (tid0 + 1, "5 (revoke table)"),
        (tid0 + 1, "2 (commit block)"),
        (tid0 + 2, "1 (descriptor block)"),
    ] {
        assert!(out.contains(&format!("Found expected sequence {t}, type {ty}")), "missing {t} {ty}:\n{out}");
    }
    // Per-block views: the escaped block (flags 0x1 = ESCAPE) and the revoke.
    let (_, out) = run("debugfs", &["-R", &format!("logdump -b {x}"), img.to_str().unwrap()], None);
    assert!(out.contains(&format!("FS block {x} logged at sequence {tid0}, journal block 2 (flags 0x1)")), "{out}");
    assert!(out.contains(&format!("FS block {x} logged at sequence {}", tid0 + 2)), "{out}");
    let (_, out) = run("debugfs", &["-R", &format!("logdump -b {y}"), img.to_str().unwrap()], None);
    assert!(out.contains(&format!("Revoke FS block {y} at block 5, sequence {}", tid0 + 1)), "{out}");

    // Our own recovery agrees on what is to be replayed.
    let jsb = journal_get_superblock(&io.read(map[0]).unwrap(), bs, isize).unwrap();
    let l2 = jbd2_journal_load(jsb, &map, &mut io.clone()).unwrap();
    let want: BTreeMap<u64, Vec<u8>> = [(x, esc.clone()), (z, pattern(3, bs)), (sb_blk, fs_sb.clone())].into_iter().collect();
    assert_eq!(l2.recovery.replay, want);
    assert_eq!(l2.recovery.next_tid, tid0 + 3);

    // e2fsck replays.
    let (rc, out) = run("e2fsck", &["-fy", img.to_str().unwrap()], None);
    assert!(rc == 0 || rc == 1, "e2fsck -fy exit {rc}:\n{out}");
    let after = std::fs::read(&img).unwrap();
    assert_eq!(block(&after, bs, x), esc, "escaped block replayed with its magic");
    assert_eq!(block(&after, bs, y), vec![0; bs], "revoked block not replayed");
    assert_eq!(block(&after, bs, z), pattern(3, bs));
    assert_eq!(block(&after, bs, w), vec![0; bs], "torn transaction not replayed");
    assert_eq!(&after[1024 + 0x78..1024 + 0x86], b"k43-journalled");
    let jsb_after = JournalSuperblock::parse(&block(&after, bs, map[0])).unwrap();
    assert_eq!((jsb_after.s_start, jsb_after.s_sequence), (0, tid0 + 3), "e2fsck's next tid = ours");
    let (rc, out) = run("e2fsck", &["-fn", img.to_str().unwrap()], None);
    assert_eq!(rc, 0, "e2fsck -fn after replay:\n{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// (b) debugfs writes, k43 replays; compared with e2fsck's replay of a copy.
fn debugfs_writes_k43_replays(bs: usize, size: &str) {
    let dir = scratch(&format!("b{bs}"));
    let img = mkfs(&dir, bs, size);
    let total = std::fs::metadata(&img).unwrap().len() / bs as u64;
    let b = |i: u64| total - 60 + i;
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    // Payloads: the first block of p1 begins with the journal magic (escaped).
    let mut p1 = pattern(11, 2 * bs);
    p1[..4].copy_from_slice(&JBD2_MAGIC_NUMBER.to_be_bytes());
    std::fs::write(p("p1"), &p1).unwrap();
    std::fs::write(p("p2"), pattern(12, 2 * bs)).unwrap();
    std::fs::write(p("p3"), pattern(13, bs)).unwrap();
    std::fs::write(p("p4"), pattern(14, bs)).unwrap();
    let script = format!(
        "jo\njw -b {},{} {}\njc\njo\njw -b {},{} -r {} {}\njc\njo\njw -b {} -r {} {}\njc\njo\njw -b {} -c {}\njc\n",
        b(0),
        b(1),
        p("p1"),
        b(1),
        b(2),
        b(0),
        p("p2"),
        b(0),
        b(2),
        p("p3"),
        b(3),
        p("p4"),
    );
    let (rc, out) = run("debugfs", &["-w", "-f", "-", img.to_str().unwrap()], Some(&script));
    assert_eq!(rc, 0, "{out}");
    let (_, dump) = run("debugfs", &["-R", "logdump", img.to_str().unwrap()], None);
    assert!(dump.contains("type 5 (revoke table)"), "{dump}");

    let bytes = std::fs::read(&img).unwrap();
    let (map, isize) = journal_map(&bytes, bs);
    let mut io = ImageIo::new(bytes.clone(), bs);
    let jsb = journal_get_superblock(&io.read(map[0]).unwrap(), bs, isize).unwrap();
    let s_seq = jsb.sb.s_sequence;
    let l = jbd2_journal_load(jsb, &map, &mut io).unwrap();
    let r = &l.recovery;
    // T1: b0,b1; T2: b1,b2, revokes b0; T3: b0 (again, later than the revoke), revokes b2;
    // T4 uncommitted.
    assert_eq!(r.info.nr_revokes, 2, "{:?}", r.info);
    assert_eq!(r.info.nr_revoke_hits, 2, "{:?}", r.info);
    assert_eq!(r.replay.keys().copied().collect::<Vec<_>>(), vec![b(0), b(1)]);
    assert_eq!(r.replay[&b(0)], pattern(13, bs));
    assert_eq!(r.replay[&b(1)], pattern(12, bs)[..bs].to_vec());
    for (blk, d) in &r.replay {
        io.write_meta(*blk, d).unwrap();
    }
    // k43's own post-recovery superblock: s_sequence = next tid, s_start = s_first.
    let jsb_k43 = JournalSuperblock::parse(l.sb_write.as_ref().unwrap()).unwrap();
    assert_eq!(jsb_k43.s_start, 1);

    // e2fsck on a copy.
    let copy = dir.join("copy");
    std::fs::write(&copy, &bytes).unwrap();
    let (rc, out) = run("e2fsck", &["-p", "-E", "journal_only", copy.to_str().unwrap()], None);
    assert!(rc == 0 || rc == 1, "e2fsck journal_only exit {rc}:\n{out}");
    let e2 = std::fs::read(&copy).unwrap();
    let jsb_e2 = JournalSuperblock::parse(&block(&e2, bs, map[0])).unwrap();
    assert_eq!(jsb_e2.s_sequence, jsb_k43.s_sequence, "same next tid (s_sequence was {s_seq})");
    assert_eq!(jsb_e2.s_start, 0);
    // Every block but the fs superblock (RECOVER cleared by e2fsck) and the journal
    // superblock is byte-equal.
    let sb_blk = if bs == 1024 { 1 } else { 0 };
    let mut diff = Vec::new();
    for blk in 0..total {
        if blk == sb_blk || blk == map[0] {
            continue;
        }
        if block(&io.image, bs, blk) != block(&e2, bs, blk) {
            diff.push(blk);
        }
    }
    assert!(diff.is_empty(), "blocks differing from e2fsck's replay: {diff:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn k43_writes_e2fsck_replays_1k() {
    k43_writes_e2fsck_replays(1024, "16M");
}

#[test]
fn k43_writes_e2fsck_replays_4k() {
    k43_writes_e2fsck_replays(4096, "32M");
}

#[test]
fn debugfs_writes_k43_replays_1k() {
    debugfs_writes_k43_replays(1024, "16M");
}

#[test]
fn debugfs_writes_k43_replays_4k() {
    debugfs_writes_k43_replays(4096, "32M");
}
