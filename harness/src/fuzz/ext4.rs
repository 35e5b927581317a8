//! The `ext4_image` fuzz target: mutated ext3 images mounted, recovered, walked and
//! modified through the ext4 and jbd2 libraries.
//!
//! # Input
//! Two base images made by mke2fs are embedded (`fuzz/images/`, see its
//! `make-images.sh`): 1 KiB and 4 KiB blocks, each with an htree directory, indirect,
//! double/triple-indirect and sparse files, fast and slow symlinks, a hard link, a device
//! node, xattrs in the inode and in a block, an orphan on `s_last_orphan`, and a journal
//! with one committed transaction not yet replayed (RECOVER set). The input is
//! - one header byte: base image, `-t ext3`/`-t ext4`, ro/rw, whether the block cache is
//!   cold for every operation (see below), errors behaviour;
//! - up to 24 patches: a block (mostly one of the blocks a clean mount and walk of the
//!   base reads — superblock, descriptors, bitmaps, inode tables, directories, indirect,
//!   xattr and journal blocks; now and then any block), an offset in it and 1–8 bytes;
//! - operations until the input ends (at most [`MAX_OPS`]): create, mkdir, mknod,
//!   symlink, link, write, truncate, setattr, unlink, rmdir, rename, set_xattr, evict,
//!   orphan cleanup, a journal commit (freed blocks become reusable), and reads.
//!
//! Patching only blocks the filesystem reads, instead of handing libFuzzer the whole
//! image, keeps inputs a few dozen bytes long and spends every mutation on metadata: a
//! byte flipped in a 3 MiB image lands in file data or free space most of the time.
//!
//! # What runs
//! `probe_block_size`, `Ext4::mount` (with the probed block size), the journal the way
//! `ext4_load_journal` drives it (inode `s_journal_inum` → block map by `bmap` →
//! `journal_get_superblock` → `jbd2_journal_wipe` without RECOVER → `jbd2_journal_load`,
//! the replay written home, the journal superblock rewritten, the filesystem mounted again
//! over the replayed blocks), `mark_mounted_rw` and `orphan_cleanup` (also on a read-only
//! mount, as Linux clears `MS_RDONLY` for it), a walk of the whole tree (readdir of every
//! directory in slices, lookup, stat, read of every file, readlink, list/get xattrs, all
//! within a budget), the operations, and the walk again.
//!
//! # Checked
//! - nothing panics, and no operation reads more than [`MAX_READS_PER_OP`] blocks (an
//!   endless loop over a corrupted structure shows up as that);
//! - every failure is an errno (`FsError::Corrupted` is EUCLEAN); a corrupted rw mount
//!   with `errors=remount-ro`/`panic` becomes read-only;
//! - all blocks are present ([`ImageIo`]), so no operation may ask for one
//!   (`FsError::Need`);
//! - restartability: every operation runs a second time against a block layer that
//!   answers `Need(b)` the first time each block is read, from scratch with its writes
//!   dropped (a fresh [`Overlay`]) after every `Need`, as k43's kernel runs it; the
//!   result, the blocks written and the blocks freed must equal the first run's. The
//!   "cache" of blocks already read is emptied before every operation (header bit) or
//!   kept for the whole input.
//!
//! `K43_FUZZ_TRACE=1` prints every operation and its result.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use arbitrary::{Result, Unstructured};
use core::fmt::Debug;
use kernel::fs::buffer::{BlockIo, FsError, FsResult, ImageIo, Overlay};
use kernel::fs::ext4::file::SetAttr;
use kernel::fs::ext4::super_block::{off, probe_block_size};
use kernel::fs::ext4::{Ctx, Ext4, MountType, Time, COMPAT_HAS_JOURNAL, INCOMPAT_RECOVER};
use kernel::fs::jbd2::{jbd2_journal_load, jbd2_journal_wipe, journal_get_superblock, JbdError, Recovery};
use kernel::uapi::Errno;

/// The base images (gzip), 1 KiB and 4 KiB blocks.
const BASES: [(&[u8], usize); 2] = [
    (include_bytes!("../../../fuzz/images/ext3-1024.img.gz"), 1024),
    (include_bytes!("../../../fuzz/images/ext3-4096.img.gz"), 4096),
];

/// Most modifying operations per input.
pub const MAX_OPS: usize = 24;
/// Most patches per input.
const MAX_PATCHES: usize = 24;
/// Block reads one operation may do before it counts as an endless loop: far above
/// what any operation needs on these images (a few thousand blocks), far below what a
/// loop over a cycle in the on-disk structures would do before libFuzzer's timeout.
pub const MAX_READS_PER_OP: u64 = 2_000_000;
/// Walk budget: inodes visited and file bytes read per walk.
const WALK_INODES: usize = 200;
const WALK_BYTES: u64 = 96 << 10;
/// Entries of one directory looked up, stat'ed and read (readdir still lists them all):
/// the big htree directory would otherwise take most of an iteration.
const WALK_ENTRIES_PER_DIR: usize = 40;
/// Bytes one read call asks for.
const READ_CHUNK: usize = 32 << 10;
/// Longest journal the harness maps (the base images have 1024 blocks); a longer one
/// fails the mount with EINVAL here (a harness limit, not Linux's behaviour).
const MAX_JOURNAL_BLOCKS: u32 = 1 << 16;

fn ctx() -> Ctx {
    Ctx { now: Time { sec: 1_700_000_000, nsec: 5 }, uid: 0, gid: 0, cap_resource: true }
}

fn trace_on() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("K43_FUZZ_TRACE").is_some())
}

/// A decompressed base image and the blocks a clean mount, recovery and walk read (the
/// patch targets).
struct Base {
    io: ImageIo,
    interesting: Vec<u64>,
}

std::thread_local! {
    static BASE_IMAGES: core::cell::RefCell<Vec<Base>> = core::cell::RefCell::new(load_bases());
}

fn load_bases() -> Vec<Base> {
    use std::io::Read;
    BASES
        .iter()
        .map(|&(gz, bs)| {
            let mut img = Vec::new();
            flate2::read::GzDecoder::new(gz).read_to_end(&mut img).expect("embedded base image is gzip");
            let mut io = ImageIo::new(img, bs);
            // A clean run with every read recorded gives the patch targets.
            let interesting = {
                let mut disk = Disk::new(&mut io, false);
                disk.record = Some(BTreeSet::new());
                let mut u = Unstructured::new(&[]);
                let _ = session(&mut disk, Header { base: 0, ty: MountType::Ext3, ro: false, cold: false, remount_ro: true }, &mut u);
                disk.record.take().unwrap_or_default().into_iter().collect()
            };
            Base { io, interesting }
        })
        .collect()
}

/// Counts (and optionally records) the reads of one operation: the endless-loop guard.
struct Meter<'a, B: BlockIo + ?Sized> {
    lower: &'a mut B,
    reads: u64,
    record: Option<&'a mut BTreeSet<u64>>,
}

impl<B: BlockIo + ?Sized> BlockIo for Meter<'_, B> {
    fn block_size(&self) -> usize {
        self.lower.block_size()
    }
    fn read(&mut self, blk: u64) -> FsResult<Vec<u8>> {
        self.reads += 1;
        assert!(self.reads <= MAX_READS_PER_OP, "an operation read more than {MAX_READS_PER_OP} blocks: endless loop (last block {blk})");
        if let Some(r) = self.record.as_mut() {
            r.insert(blk);
        }
        self.lower.read(blk)
    }
    fn write_meta(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.lower.write_meta(blk, data)
    }
    fn write_data(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.lower.write_data(blk, data)
    }
    fn forget(&mut self, blk: u64, was_meta: bool) {
        self.lower.forget(blk, was_meta)
    }
    fn busy(&self, blk: u64) -> bool {
        self.lower.busy(blk)
    }
}

/// The block layer of k43's kernel as an operation sees it: a block not read before is
/// `Need`ed first (the kernel reads it and runs the operation again).
struct NeedOnce<'a, B: BlockIo + ?Sized> {
    lower: &'a mut B,
    cached: &'a mut BTreeSet<u64>,
    reads: u64,
}

impl<B: BlockIo + ?Sized> BlockIo for NeedOnce<'_, B> {
    fn block_size(&self) -> usize {
        self.lower.block_size()
    }
    fn read(&mut self, blk: u64) -> FsResult<Vec<u8>> {
        self.reads += 1;
        assert!(self.reads <= MAX_READS_PER_OP, "an operation read more than {MAX_READS_PER_OP} blocks (restart run)");
        let r = self.lower.read(blk);
        // A block the device cannot deliver fails the same way either time (the kernel's
        // read of it would end in EIO).
        if r.is_ok() && self.cached.insert(blk) {
            return Err(FsError::Need(blk));
        }
        r
    }
    fn write_meta(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.lower.write_meta(blk, data)
    }
    fn write_data(&mut self, blk: u64, data: &[u8]) -> FsResult<()> {
        self.lower.write_data(blk, data)
    }
    fn forget(&mut self, blk: u64, was_meta: bool) {
        self.lower.forget(blk, was_meta)
    }
    fn busy(&self, blk: u64) -> bool {
        self.lower.busy(blk)
    }
}

/// The disk of one input: the base image under an overlay holding the patches and every
/// committed operation's writes (the base itself is never written).
struct Disk<'a> {
    ov: Overlay<'a, ImageIo>,
    /// Run every operation a second time through [`NeedOnce`].
    check_restart: bool,
    /// Empty the `NeedOnce` cache before every operation.
    cold: bool,
    cached: BTreeSet<u64>,
    record: Option<BTreeSet<u64>>,
    ops: u64,
    /// No patch was applied: the image is consistent, so stronger checks hold.
    pristine: bool,
}

impl<'a> Disk<'a> {
    fn new(io: &'a mut ImageIo, check_restart: bool) -> Disk<'a> {
        Disk { ov: Overlay::new(io), check_restart, cold: false, cached: BTreeSet::new(), record: None, ops: 0, pristine: true }
    }

    fn block_size(&self) -> usize {
        self.ov.block_size()
    }

    /// Runs one filesystem operation as the kernel would: its writes are committed to the
    /// disk whatever it returns (Linux keeps what a failing handle changed in the
    /// transaction), after the restart check.
    fn op<T: PartialEq + Debug>(&mut self, what: &str, f: impl Fn(&mut dyn BlockIo) -> FsResult<T>) -> FsResult<T> {
        self.ops += 1;
        let mut m = Meter { lower: &mut self.ov, reads: 0, record: self.record.as_mut() };
        let mut top = Overlay::new(&mut m);
        let r = f(&mut top);
        if trace_on() {
            std::eprintln!("ext4_image: {what} -> {}", short(&r));
        }
        assert!(!matches!(r, Err(FsError::Need(_))), "{what}: asked for a block of an in-memory image: {r:?}");
        let (meta, data, forgotten) = (core::mem::take(&mut top.meta), core::mem::take(&mut top.data), core::mem::take(&mut top.forgotten));
        drop(top);
        if self.check_restart {
            if self.cold {
                self.cached.clear();
            }
            let mut restarts = 0u64;
            let mut n = NeedOnce { lower: &mut self.ov, cached: &mut self.cached, reads: 0 };
            loop {
                let mut top = Overlay::new(&mut n);
                let r2 = f(&mut top);
                if let Err(FsError::Need(b)) = r2 {
                    restarts += 1;
                    assert!(restarts <= MAX_READS_PER_OP, "{what}: restarted {restarts} times (last Need({b}))");
                    continue;
                }
                assert!(r2 == r, "{what} is not restartable: {} then, after {restarts} restarts, {}", short(&r), short(&r2));
                assert!(top.meta == meta, "{what} is not restartable: metadata blocks written differ: {}", differing(&meta, &top.meta));
                assert!(top.data == data, "{what} is not restartable: data blocks written differ: {}", differing(&data, &top.data));
                assert!(top.forgotten == forgotten, "{what} is not restartable: blocks freed differ ({forgotten:?} vs {:?})", top.forgotten);
                break;
            }
        }
        // Commit into the disk overlay (data first, as Overlay::commit orders it).
        for (b, d) in data {
            self.ov.write_data(b, &d).expect("overlay write");
        }
        for (b, d) in meta {
            self.ov.write_meta(b, &d).expect("overlay write");
        }
        for (b, m) in forgotten {
            self.ov.forget(b, m);
        }
        r
    }

    /// Writes bytes at a byte offset of the disk (a patch), block by block.
    fn patch(&mut self, at: u64, bytes: &[u8]) {
        let bs = self.block_size() as u64;
        let blk = at / bs;
        let o = (at % bs) as usize;
        let Ok(mut b) = self.ov.read(blk) else { return };
        let n = bytes.len().min(b.len() - o);
        b[o..o + n].copy_from_slice(&bytes[..n]);
        let _ = self.ov.write_meta(blk, &b);
        self.pristine = false;
    }
}

/// Which blocks two write sets disagree on, and the first differing byte of each.
fn differing(a: &BTreeMap<u64, Vec<u8>>, b: &BTreeMap<u64, Vec<u8>>) -> String {
    let keys: BTreeSet<u64> = a.keys().chain(b.keys()).copied().collect();
    let mut out = String::new();
    for k in keys {
        match (a.get(&k), b.get(&k)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => {
                let i = x.iter().zip(y.iter()).position(|(p, q)| p != q).unwrap_or(0);
                out.push_str(&format!("block {k} from byte {i} ({:#x} then {:#x}); ", x[i], y[i]));
            }
            (Some(_), None) => out.push_str(&format!("block {k} written only by the first run; ")),
            _ => out.push_str(&format!("block {k} written only by the restarted run; ")),
        }
    }
    out
}

/// A result shortened for messages (file contents are not worth printing).
fn short<T: Debug>(r: &FsResult<T>) -> String {
    let mut s = format!("{r:?}");
    if s.len() > 300 {
        s.truncate(300);
        s.push('…');
    }
    s
}

#[derive(Clone, Copy, Debug)]
struct Header {
    base: usize,
    ty: MountType,
    ro: bool,
    cold: bool,
    /// `errors=remount-ro` (else `errors=continue`).
    remount_ro: bool,
}

/// The body of the `ext4_image` target.
pub fn ext4_image(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let h = u.arbitrary::<u8>().unwrap_or(0);
    let header = Header {
        base: usize::from(h & 1),
        ty: if h & 2 == 0 { MountType::Ext3 } else { MountType::Ext4 },
        ro: h & 4 != 0,
        cold: h & 8 != 0,
        remount_ro: h & 16 == 0,
    };
    BASE_IMAGES.with(|bases| {
        let mut bases = bases.borrow_mut();
        let base = &mut bases[header.base];
        let interesting = base.interesting.clone();
        let mut disk = Disk::new(&mut base.io, true);
        disk.cold = header.cold;
        let _ = apply_patches(&mut disk, &interesting, &mut u);
        let _ = session(&mut disk, header, &mut u);
    });
}

fn apply_patches(disk: &mut Disk<'_>, interesting: &[u64], u: &mut Unstructured<'_>) -> Result<()> {
    let n = usize::from(u.arbitrary::<u8>()?) % (MAX_PATCHES + 1);
    let bs = disk.block_size() as u64;
    let nblocks = disk.ov.lower.image.len() as u64 / bs;
    for _ in 0..n {
        let sel = u.arbitrary::<u16>()?;
        let blk = if sel % 8 == 7 || interesting.is_empty() { u64::from(sel / 8) % nblocks } else { interesting[usize::from(sel / 8) % interesting.len()] };
        let o = u64::from(u.arbitrary::<u16>()?) % bs;
        let len = usize::from(u.arbitrary::<u8>()? % 8) + 1;
        let bytes = u.bytes(len)?;
        disk.patch(blk * bs + o, bytes);
    }
    Ok(())
}

/// Mount, journal, orphan cleanup, walk, operations, walk. `Err` only when the input ran
/// out.
fn session(disk: &mut Disk<'_>, h: Header, u: &mut Unstructured<'_>) -> Result<()> {
    // The kernel reads the superblock with 1 KiB blocks and then switches to the size it
    // announces: another size than the base's means another view of the same bytes.
    let probed = disk.op("probe_block_size", |io| probe_block_size(io));
    let Ok(Some(bs)) = probed else { return Ok(()) };
    if bs as usize != disk.block_size() {
        if !(1024..=4096).contains(&bs) {
            return Ok(()); // sb_set_blocksize refuses it: the mount fails with EINVAL.
        }
        let image = materialize(disk);
        let mut io = ImageIo::new(image, bs as usize);
        let mut other = Disk::new(&mut io, disk.check_restart);
        other.cold = disk.cold;
        other.pristine = disk.pristine;
        return mounted(&mut other, h, u);
    }
    mounted(disk, h, u)
}

/// The disk's current bytes (base + overlay).
fn materialize(disk: &mut Disk<'_>) -> Vec<u8> {
    let bs = disk.block_size();
    let mut img = disk.ov.lower.image.clone();
    for (b, d) in disk.ov.meta.iter().chain(disk.ov.data.iter()) {
        let at = *b as usize * bs;
        if let Some(dst) = img.get_mut(at..at + bs) {
            dst.copy_from_slice(d);
        }
    }
    img
}

fn mount(disk: &mut Disk<'_>, h: Header) -> Option<Ext4> {
    let dev_bytes = disk.ov.lower.image.len() as u64;
    let r = disk.op("mount", |io| match Ext4::mount(io, "fuzz", h.ty, h.ro, dev_bytes) {
        Ok((fs, msgs)) => Ok(Ok((fs.blocks_count, fs.groups_count, fs.read_only, msgs))),
        Err(e) if matches!(e.err, FsError::Need(_)) => Err(e.err),
        Err(e) => Ok(Err(e)),
    });
    match r {
        Ok(Ok(_)) => Ext4::mount(&mut disk.ov, "fuzz", h.ty, h.ro, dev_bytes).ok().map(|(fs, _)| fs),
        Ok(Err(e)) => {
            assert_eq!(e.err, FsError::Errno(Errno::EINVAL), "a refused mount is EINVAL: {e:?}");
            None
        }
        Err(e) => panic!("mount failed outside its MountError: {e:?}"),
    }
}

fn mounted(disk: &mut Disk<'_>, h: Header, u: &mut Unstructured<'_>) -> Result<()> {
    let Some(fs) = mount(disk, h) else { return Ok(()) };
    let Some(mut fs) = load_journal(disk, &fs, h) else { return Ok(()) };
    let c = ctx();
    let sb = disk.op("read_super", |io| fs.read_super(io));
    let errors_ro = match sb {
        Ok(sb) => matches!(u16::from_le_bytes([sb[0x3C], sb[0x3D]]), 2 | 3) || h.remount_ro,
        Err(_) => h.remount_ro,
    };
    if !fs.read_only {
        let _ = disk.op("mark_mounted_rw", |io| fs.mark_mounted_rw(io, c.now));
    }
    // ext4_orphan_cleanup runs on a read-only mount too, with MS_RDONLY lifted.
    let mut rw = fs.clone();
    rw.read_only = false;
    let _ = disk.op("orphan_cleanup", |io| rw.orphan_cleanup(io, &c));
    let _ = disk.op("statfs", |io| fs.statfs(io));
    let mut st = State::default();
    walk(disk, &fs, &mut st);
    let mut r = Ok(());
    let ops_before = disk.ops;
    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        match one_op(disk, &fs, &mut st, u) {
            Ok(Err(FsError::Corrupted(_))) if errors_ro && !fs.read_only => {
                // ext4_error with errors=remount-ro (or panic, which k43 treats alike).
                fs.read_only = true;
            }
            Ok(_) => {}
            Err(e) => {
                r = Err(e);
                break;
            }
        }
    }
    if disk.ops != ops_before {
        walk(disk, &fs, &mut st);
    }
    if !fs.read_only {
        let _ = disk.op("unmount", |io| fs.mark_clean_unmount(io, c.now, 1, false));
    }
    r
}

/// `ext4_load_journal` + `jbd2_journal_load` with the replay written home; returns the
/// filesystem as mounted after it (the replay may rewrite the superblock and descriptors).
fn load_journal(disk: &mut Disk<'_>, fs: &Ext4, h: Header) -> Option<Ext4> {
    let sb = disk.op("read_super", |io| fs.read_super(io)).ok()?;
    let le32 = |o: usize| u32::from_le_bytes([sb[o], sb[o + 1], sb[o + 2], sb[o + 3]]);
    if le32(off::FEATURE_COMPAT) & COMPAT_HAS_JOURNAL == 0 {
        return Some(fs.clone());
    }
    let recover = le32(off::FEATURE_INCOMPAT) & INCOMPAT_RECOVER != 0;
    let jino = le32(off::JOURNAL_INUM);
    // ext4_get_journal_inode: iget, then a linked regular file.
    let ji = disk.op("journal iget", |io| fs.iget(io, jino)).ok()?;
    if ji.links() == 0 || !ji.is_reg() {
        return None;
    }
    let bs = fs.block_size as usize;
    let isize = ji.size();
    let b0 = disk.op("journal bmap 0", |io| fs.bmap(io, &ji, 0)).ok()?;
    if b0 == 0 {
        return None; // "Cannot locate journal superblock"
    }
    let block0 = disk.op("journal superblock", |io| io.read(b0)).ok()?;
    let jsb = journal_get_superblock(&block0, bs, isize).ok()?;
    if jsb.maxlen > MAX_JOURNAL_BLOCKS {
        return None;
    }
    let maxlen = jsb.maxlen;
    let map = disk.op("journal bmap", |io| (0..u64::from(maxlen)).map(|n| fs.bmap(io, &ji, n)).collect::<FsResult<Vec<u64>>>()).ok()?;
    let jsb = if recover {
        jsb
    } else {
        let jsb2 = jsb.clone();
        let w = disk
            .op("jbd2_journal_wipe", |io| jbd(jbd2_journal_wipe(jsb2.clone(), &map, io, !h.ro).map(|w| (w.jsb, w.sb_write, w.messages, w.err))))
            .ok()?;
        let (jsb, sb_write, _, err) = w.ok()?;
        if let Some(b) = sb_write {
            let _ = disk.op("write journal superblock", |io| io.write_meta(map[0], &b));
        }
        if err.is_some() {
            return None;
        }
        jsb
    };
    let loaded = disk.op("jbd2_journal_load", |io| jbd(jbd2_journal_load(jsb.clone(), &map, io).map(|l| (l.recovery, l.sb_write)))).ok()?;
    let replay = |disk: &mut Disk<'_>, rec: &Recovery| {
        let _ = disk.op("replay", |io| {
            for (b, d) in &rec.replay {
                io.write_meta(*b, d)?;
            }
            Ok(())
        });
    };
    match loaded {
        Ok((rec, sb_write)) => {
            replay(disk, &rec);
            if let Some(b) = sb_write {
                let _ = disk.op("write journal superblock", |io| io.write_meta(map[0], &b));
            }
        }
        Err(JbdError::RecoveryFailed { recovery, .. }) => {
            // Linux still writes home what was replayed before the failure, then fails
            // the mount ("error loading journal").
            replay(disk, &recovery);
            return None;
        }
        Err(_) => return None,
    }
    if !recover {
        return Some(fs.clone());
    }
    // The replay may have rewritten the superblock and descriptors: mount over them.
    mount(disk, h)
}

/// A jbd2 result as an operation result: `Need` is the block layer's, the rest is the
/// outcome.
fn jbd<T>(r: core::result::Result<T, JbdError>) -> FsResult<core::result::Result<T, JbdError>> {
    match r {
        Err(JbdError::Need(b)) => Err(FsError::Need(b)),
        r => Ok(r),
    }
}

/// What the walks and the operations have seen: names to use.
#[derive(Default)]
struct State {
    dirs: Vec<u32>,
    files: Vec<u32>,
    /// (directory, name) pairs seen or made.
    names: Vec<(u32, Vec<u8>)>,
    /// Unlinked inodes not yet evicted (held open).
    open_orphans: Vec<u32>,
}

impl State {
    fn note(&mut self, dir: u32, name: &[u8], ino: u32, is_dir: bool) {
        if self.names.len() < 512 {
            self.names.push((dir, name.to_vec()));
        }
        let v = if is_dir { &mut self.dirs } else { &mut self.files };
        if v.len() < 256 && !v.contains(&ino) {
            v.push(ino);
        }
    }
}

/// Reads everything reachable from the root within the budget.
fn walk(disk: &mut Disk<'_>, fs: &Ext4, st: &mut State) {
    let mut queue = vec![2u32];
    let mut seen = BTreeSet::new();
    let mut bytes = 0u64;
    while let Some(dir) = queue.pop() {
        if !seen.insert(dir) || seen.len() > WALK_INODES {
            continue;
        }
        if !st.dirs.contains(&dir) && st.dirs.len() < 256 {
            st.dirs.push(dir);
        }
        let mut pos = 0u64;
        let mut ents = Vec::new();
        for _ in 0..8 {
            let Ok(v) = disk.op("readdir", |io| fs.readdir(io, dir, pos, 64)) else { break };
            let Some(last) = v.last() else { break };
            if last.next_pos <= pos {
                panic!("readdir of {dir} did not advance: position {pos} → {}", last.next_pos);
            }
            pos = last.next_pos;
            ents.extend(v);
        }
        for e in ents.into_iter().take(WALK_ENTRIES_PER_DIR + 2) {
            if e.name == b"." || e.name == b".." || seen.len() > WALK_INODES {
                continue;
            }
            let _ = disk.op("lookup", |io| fs.lookup(io, dir, &e.name));
            let Ok(s) = disk.op("stat", |io| fs.stat(io, e.ino)) else { continue };
            let is_dir = s.mode & 0xF000 == 0x4000;
            st.note(dir, &e.name, e.ino, is_dir);
            match s.mode & 0xF000 {
                0x4000 => queue.push(e.ino),
                0x8000 => {
                    if seen.insert(e.ino) {
                        let mut off = 0u64;
                        while off < s.size && bytes < WALK_BYTES {
                            let Ok(d) = disk.op("read", |io| fs.read(io, e.ino, off, READ_CHUNK)) else { break };
                            assert!(d.len() <= READ_CHUNK, "read returned {} bytes for {READ_CHUNK}", d.len());
                            if d.is_empty() {
                                break;
                            }
                            bytes += d.len() as u64;
                            off += d.len() as u64;
                        }
                        // Far into the file too (sparse and indirect ranges).
                        if s.size > 1 << 20 {
                            let _ = disk.op("read far", |io| fs.read(io, e.ino, s.size - 100, 200));
                        }
                    }
                }
                0xA000 => {
                    let _ = disk.op("readlink", |io| fs.readlink(io, e.ino));
                }
                _ => {}
            }
            if let Ok(names) = disk.op("list_xattr", |io| fs.list_xattr(io, e.ino)) {
                for n in names.iter().take(8) {
                    let _ = disk.op("get_xattr", |io| fs.get_xattr(io, e.ino, n));
                }
            }
        }
    }
}

/// Names the operations use: seen ones, fresh ones, and edge cases.
fn pick_name(u: &mut Unstructured<'_>, st: &State) -> Result<(Option<u32>, Vec<u8>)> {
    Ok(match u.arbitrary::<u8>()? % 16 {
        0..=5 if !st.names.is_empty() => {
            let (d, n) = st.names[u.choose_index(st.names.len())?].clone();
            (Some(d), n)
        }
        6 => (None, vec![b'n'; 255]),
        7 => (None, vec![b'n'; 256]),
        8 => (None, Vec::new()),
        9 => (None, b".".to_vec()),
        10 => (None, b"..".to_vec()),
        11 => (None, format!("a-rather-long-file-name-to-fill-blocks-{}", u.arbitrary::<u8>()?).into_bytes()),
        _ => (None, format!("n{}", u.arbitrary::<u8>()? % 32).into_bytes()),
    })
}

fn pick_dir(u: &mut Unstructured<'_>, st: &State, fs: &Ext4) -> Result<u32> {
    Ok(match u.arbitrary::<u8>()? % 8 {
        0 => u.int_in_range(0..=fs.inodes_count.saturating_add(1))?,
        1 | 2 => 2,
        _ if !st.dirs.is_empty() => st.dirs[u.choose_index(st.dirs.len())?],
        _ => 2,
    })
}

fn pick_ino(u: &mut Unstructured<'_>, st: &State, fs: &Ext4) -> Result<u32> {
    Ok(match u.arbitrary::<u8>()? % 8 {
        0 => u.int_in_range(0..=fs.inodes_count.saturating_add(1))?,
        1 if !st.dirs.is_empty() => st.dirs[u.choose_index(st.dirs.len())?],
        2 if !st.open_orphans.is_empty() => st.open_orphans[u.choose_index(st.open_orphans.len())?],
        _ if !st.files.is_empty() => st.files[u.choose_index(st.files.len())?],
        _ => 2,
    })
}

/// File offsets at the block-map boundaries, and the size limit.
fn pick_offset(u: &mut Unstructured<'_>, fs: &Ext4) -> Result<u64> {
    let b = u64::from(fs.block_size);
    let a = fs.addr_per_block();
    let d = u.int_in_range(0..=2 * b)?;
    Ok(match u.arbitrary::<u8>()? % 8 {
        0 => d,
        1 => (12 * b).saturating_sub(b) + d,
        2 => (12 + a) * b - b + d,
        3 => (12 + a + a * a) * b - b + d,
        4 => fs.bitmap_maxbytes.saturating_sub(d),
        5 => u64::from(u.arbitrary::<u32>()?),
        6 => u.arbitrary::<u64>()?,
        _ => d / 8,
    })
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| seed ^ (i as u8).wrapping_mul(13)).collect()
}

/// One operation chosen by the input; the inner result is the filesystem's.
fn one_op(disk: &mut Disk<'_>, fs: &Ext4, st: &mut State, u: &mut Unstructured<'_>) -> Result<FsResult<()>> {
    let c = ctx();
    let kind = u.arbitrary::<u8>()? % 20;
    let r: FsResult<()> = match kind {
        0 | 1 | 2 => {
            let dir = pick_dir(u, st, fs)?;
            let (_, name) = pick_name(u, st)?;
            let mode = 0o644;
            let r = match kind {
                0 => disk.op("create", |io| fs.create(io, dir, &name, mode, &c)),
                1 => disk.op("mkdir", |io| fs.mkdir(io, dir, &name, 0o755, &c)),
                _ => {
                    let m = [0o020644u16, 0o060600, 0o010644, 0o140755][usize::from(u.arbitrary::<u8>()? % 4)];
                    disk.op("mknod", |io| fs.mknod(io, dir, &name, m, (8, 1), &c))
                }
            };
            if let Ok(ino) = r {
                st.note(dir, &name, ino, kind == 1);
            }
            r.map(drop)
        }
        3 => {
            let dir = pick_dir(u, st, fs)?;
            let (_, name) = pick_name(u, st)?;
            let len = usize::from(u.arbitrary::<u16>()?) % (2 * fs.block_size as usize + 64);
            let target = pattern(len, b'a').iter().map(|b| b'a' + b % 26).collect::<Vec<u8>>();
            let r = disk.op("symlink", |io| fs.symlink(io, dir, &name, &target, &c));
            if let Ok(ino) = r {
                st.note(dir, &name, ino, false);
            }
            r.map(drop)
        }
        4 => {
            let ino = pick_ino(u, st, fs)?;
            let dir = pick_dir(u, st, fs)?;
            let (_, name) = pick_name(u, st)?;
            disk.op("link", |io| fs.link(io, ino, dir, &name, &c))
        }
        5 | 6 | 7 => {
            let ino = pick_ino(u, st, fs)?;
            let off = pick_offset(u, fs)?;
            let len = usize::from(u.arbitrary::<u16>()?) % (3 * fs.block_size as usize + 1);
            let data = pattern(len, u.arbitrary::<u8>()?);
            let r = disk.op("write", |io| fs.write(io, ino, off, &data, &c));
            if let Ok(n) = r {
                assert!(n <= data.len(), "write reported {n} bytes of {}", data.len());
                // What was written reads back — on an unpatched image only: on a corrupted
                // one the file's blocks may be shared with its own inode or an indirect
                // block, and Linux would read back something else too.
                let back = disk.op("read back", |io| fs.read(io, ino, off, n));
                if let (Ok(back), true) = (back, disk.pristine) {
                    assert!(back == data[..n], "write of {n} bytes at {off} to inode {ino} did not read back");
                }
            }
            r.map(drop)
        }
        8 => {
            let ino = pick_ino(u, st, fs)?;
            let size = pick_offset(u, fs)?;
            disk.op("truncate", |io| fs.truncate(io, ino, size, &c))
        }
        9 => {
            let ino = pick_ino(u, st, fs)?;
            let a = SetAttr {
                mode: u.arbitrary::<bool>()?.then_some(0o4755),
                uid: u.arbitrary::<bool>()?.then_some(70_000),
                gid: u.arbitrary::<bool>()?.then_some(1),
                size: if u.arbitrary::<bool>()? { Some(pick_offset(u, fs)?) } else { None },
                mtime: Some(Time { sec: -5, nsec: 7 }),
                ..Default::default()
            };
            disk.op("setattr", |io| fs.setattr(io, ino, &a, &c))
        }
        10 | 11 => {
            let (d, name) = pick_name(u, st)?;
            let dir = match d {
                Some(d) => d,
                None => pick_dir(u, st, fs)?,
            };
            let keep = u.arbitrary::<u8>()? % 4 == 0;
            let r = if kind == 10 { disk.op("unlink", |io| fs.unlink(io, dir, &name, &c)) } else { disk.op("rmdir", |io| fs.rmdir(io, dir, &name, &c)) };
            match r {
                Ok(x) if x.nlink == 0 && keep => {
                    st.open_orphans.push(x.ino);
                    Ok(())
                }
                Ok(x) if x.nlink == 0 => disk.op("evict", |io| fs.evict_inode(io, x.ino, &c)),
                r => r.map(drop),
            }
        }
        12 => {
            let (d1, n1) = pick_name(u, st)?;
            let od = match d1 {
                Some(d) => d,
                None => pick_dir(u, st, fs)?,
            };
            let nd = pick_dir(u, st, fs)?;
            let (_, n2) = pick_name(u, st)?;
            match disk.op("rename", |io| fs.rename(io, od, &n1, nd, &n2, &c)) {
                Ok(Some(x)) if x.nlink == 0 => disk.op("evict", |io| fs.evict_inode(io, x.ino, &c)),
                Ok(_) => {
                    st.names.push((nd, n2));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        13 | 14 => {
            let ino = pick_ino(u, st, fs)?;
            let name: &[u8] = [&b"user.a"[..], b"user.small", b"user.big", b"trusted.t", b"security.selinux", b"system.posix_acl_access", b"bogus.x", b"user."]
                [usize::from(u.arbitrary::<u8>()? % 8)];
            let len = usize::from(u.arbitrary::<u16>()?) % (fs.block_size as usize + 64);
            let value = pattern(len, 3);
            let flags = u32::from(u.arbitrary::<u8>()? % 4);
            let v = if u.arbitrary::<u8>()? % 4 == 0 { None } else { Some(&value[..]) };
            disk.op("set_xattr", |io| fs.set_xattr(io, ino, name, v, flags, &c))
        }
        15 => {
            // The last close of an unlinked inode, or an evict of anything.
            let ino = if !st.open_orphans.is_empty() && u.arbitrary::<bool>()? { st.open_orphans.swap_remove(u.choose_index(st.open_orphans.len())?) } else { pick_ino(u, st, fs)? };
            disk.op("evict", |io| fs.evict_inode(io, ino, &c))
        }
        16 => disk.op("orphan_cleanup", |io| fs.orphan_cleanup(io, &c)).map(drop),
        17 => {
            // A transaction commits: blocks freed so far may be allocated again.
            disk.ov.forgotten.clear();
            Ok(())
        }
        18 => {
            let ino = pick_ino(u, st, fs)?;
            let off = pick_offset(u, fs)?;
            let _ = disk.op("read", |io| fs.read(io, ino, off, 4096));
            let _ = disk.op("readlink", |io| fs.readlink(io, ino));
            disk.op("xattrs", |io| fs.xattrs(io, ino)).map(drop)
        }
        _ => {
            let dir = pick_dir(u, st, fs)?;
            let (_, name) = pick_name(u, st)?;
            let _ = disk.op("statfs", |io| fs.statfs(io));
            disk.op("lookup", |io| fs.lookup(io, dir, &name)).map(drop)
        }
    };
    Ok(r)
}
