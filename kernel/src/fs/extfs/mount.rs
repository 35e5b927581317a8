//! Mounting and unmounting an ext3 filesystem (`ext4_fill_super`, `ext4_load_journal`,
//! `ext4_put_super`) as steps the mount syscall re-runs after each wait: find the
//! superblock, validate it, load the journal and replay it, mark the filesystem mounted,
//! clean up orphans.

use super::io::submit_read;
use super::{ExtMount, MntId, PendingMount, PlanKind, Txn};
use crate::block::genhd::ReqOwner;
use crate::fs::bcache::{BufferCache, CacheIo};
use crate::fs::buffer::{BlockIo, FsError, Overlay};
use crate::fs::ext4::super_block::probe_block_size;
use crate::fs::ext4::{Ext4, MountType, EXT4_JOURNAL_INO, INCOMPAT_RECOVER};
use crate::fs::ioplan::{Plan, Step};
use crate::fs::jbd2::{jbd2_journal_load, jbd2_journal_wipe, journal_get_superblock, JbdError};
use crate::hal::{BlkOp, Hal};
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::{SysErr, SysResult};
use crate::uapi::Errno;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

/// How far a mount got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading the superblock with 1 KiB blocks to learn the block size.
    Probe,
    /// Validating the superblock and group descriptors.
    Super,
    /// Loading (and replaying) the journal.
    Journal,
    /// Writing the superblock of a read-write mount.
    MarkRw,
    /// Cleaning up orphans; then mounted.
    Orphans,
}

/// What a mount step asks for next.
enum Next {
    /// Go on to the next step now.
    Continue,
    /// Wait for the disk.
    Wait,
    /// The mount failed with this errno.
    Fail(Errno),
    /// Mounted.
    Done(MntId),
}

/// `s_state` `EXT4_VALID_FS`.
const EXT4_VALID_FS: u16 = 1;

impl<H: Hal> Kernel<H> {
    /// `mount -t ext3|ext4 /dev/vdX target`: mounts disk `disk` on ramfs directory
    /// `target`. Re-run by the syscall after every wait until it finishes.
    pub(crate) fn ext_mount(&mut self, pid: Pid, ty: MountType, disk: u32, target: crate::fs::Ino, read_only: bool) -> SysResult {
        // Mounted already by this call: what is left is the orphan cleanup.
        if let Some(r) = self.restart_state(pid) {
            self.ext_orphan_cleanup(pid, r as MntId)?;
            return Ok(0);
        }
        if self.ext.of_disk(disk).is_some() || self.ext.on_mountpoint(target).is_some() {
            return Err(Errno::EBUSY.into());
        }
        let Some(gd) = self.blk.by_hal(disk) else { return Err(Errno::ENXIO.into()) };
        let (bytes, name) = (gd.capacity(), gd.name.clone());
        if !self.ext.pending.contains_key(&disk) {
            let wq = self.sched.new_waitqueue();
            self.ext.pending.insert(disk, PendingMount { disk, cache: BufferCache::new(1024, bytes / 1024), fs: None, journal: None, plan: None, phase: Phase::Probe, wq, msgs: Vec::new() });
        }
        loop {
            let next = self.mount_step(disk, ty, &name, bytes, target, read_only);
            match next {
                Next::Continue => continue,
                Next::Wait => {
                    let wq = self.ext.pending.get(&disk).map(|p| p.wq).unwrap_or(0);
                    let e = self.wait_on(pid, wq);
                    self.blk_dispatch(disk);
                    return Err(e);
                }
                Next::Fail(e) => {
                    if let Some(p) = self.ext.pending.remove(&disk) {
                        for m in p.msgs {
                            crate::printk!(self, "{}", m);
                        }
                    }
                    return Err(e.into());
                }
                Next::Done(mnt) => {
                    self.set_restart_state(pid, u64::from(mnt));
                    self.ext_orphan_cleanup(pid, mnt)?;
                    return Ok(0);
                }
            }
        }
    }

    /// Issues the next step of the mount's write plan when its last one completed.
    pub(crate) fn mount_advance(&mut self, disk: u32) {
        let Some(p) = self.ext.pending.get_mut(&disk) else { return };
        let Some(plan) = p.plan.as_mut() else { return };
        let spb = (p.cache.block_size / 512) as u64;
        if plan.waiting() || plan.finished() {
            return;
        }
        let Some(gd) = self.blk.by_hal(disk) else { return };
        for issue in plan.next_step(u64::from(gd.queue.limits.max_sectors) / spb.max(1)) {
            let id = match issue {
                None => gd.submit(&self.hal, BlkOp::Flush, 0, 0, Vec::new(), ReqOwner::Cache, 0),
                Some((first, n, data, fua)) => gd.submit(&self.hal, BlkOp::Write { fua }, first * spb, n * spb, data, ReqOwner::Cache, first),
            };
            plan.issued(id);
        }
    }

    fn mount_step(&mut self, disk: u32, ty: MountType, name: &str, bytes: u64, target: crate::fs::Ino, read_only: bool) -> Next {
        let now = self.ext_ctx(0).now;
        let Some(p) = self.ext.pending.get_mut(&disk) else { return Next::Fail(Errno::EIO) };
        // A write plan in flight must finish before the next step.
        if let Some(plan) = &p.plan {
            if !plan.finished() {
                return Next::Wait;
            }
            if plan.error.is_some() {
                p.msgs.push(alloc::format!("EXT4-fs ({name}): I/O error while writing superblock"));
                return Next::Fail(Errno::EIO);
            }
            p.plan = None;
        }
        let busy = BTreeSet::new();
        let mut need = None;
        let mut new_bs = None;
        let next = {
            let mut io = CacheIo { cache: &mut p.cache, busy: &busy };
            match p.phase {
                Phase::Probe => match probe_block_size(&mut io) {
                    Err(FsError::Need(b)) => {
                        need = Some(b);
                        Next::Wait
                    }
                    Err(_) | Ok(None) => {
                        p.msgs.push(alloc::format!("EXT4-fs ({name}): VFS: Can't find ext4 filesystem"));
                        Next::Fail(Errno::EINVAL)
                    }
                    Ok(Some(bs)) => {
                        new_bs = Some(bs);
                        Next::Continue
                    }
                },
                Phase::Super => match Ext4::mount(&mut io, name, ty, read_only, bytes) {
                    Err(e) => match e.err {
                        FsError::Need(b) => {
                            need = Some(b);
                            Next::Wait
                        }
                        err => {
                            p.msgs.extend(e.msgs);
                            Next::Fail(err.errno())
                        }
                    },
                    Ok((fs, msgs)) => {
                        p.msgs.extend(msgs);
                        p.fs = Some(fs);
                        p.phase = Phase::Journal;
                        Next::Continue
                    }
                },
                Phase::Journal => match p.fs.clone() {
                    None => Next::Fail(Errno::EIO),
                    Some(fs) => match load_journal(&fs, &mut io, name, read_only) {
                        Err(JbdError::Need(b)) => {
                            need = Some(b);
                            Next::Wait
                        }
                        Err(JbdError::RecoveryFailed { msg, recovery, .. }) => {
                            // Linux writes what it replayed (sync_blockdev) and fails.
                            p.msgs.extend(recovery.messages.iter().cloned());
                            p.msgs.push(msg);
                            p.msgs.push(alloc::format!("EXT4-fs ({name}): error loading journal"));
                            Next::Fail(Errno::EINVAL)
                        }
                        Err(e) => {
                            if let JbdError::Fail { msg, .. } = &e {
                                if !msg.is_empty() {
                                    p.msgs.push(msg.clone());
                                }
                            }
                            p.msgs.push(alloc::format!("EXT4-fs ({name}): error loading journal"));
                            Next::Fail(Errno::EINVAL)
                        }
                        Ok(l) => {
                            p.msgs.extend(l.msgs);
                            for (b, d) in &l.writes {
                                io.cache.put(*b, d.clone());
                            }
                            if !l.writes.is_empty() || !l.sb_writes.is_empty() {
                                let mut steps = Vec::new();
                                if !l.writes.is_empty() {
                                    steps.push(Step::Write { blocks: l.writes, fua: false });
                                    steps.push(Step::Flush);
                                }
                                for (b, d) in l.sb_writes {
                                    io.cache.put(b, d.clone());
                                    steps.push(Step::Write { blocks: [(b, d)].into_iter().collect(), fua: true });
                                }
                                p.plan = Some(Plan::new(steps));
                            }
                            p.journal = l.journal;
                            p.phase = Phase::MarkRw;
                            Next::Continue
                        }
                    },
                },
                Phase::MarkRw => match p.fs.clone() {
                    None => Next::Fail(Errno::EIO),
                    Some(_) if read_only => {
                        p.phase = Phase::Orphans;
                        Next::Continue
                    }
                    Some(fs) => {
                        let mut ov = Overlay::new(&mut io);
                        match fs.mark_mounted_rw(&mut ov, now) {
                            Err(FsError::Need(b)) => {
                                need = Some(b);
                                Next::Wait
                            }
                            Err(e) => Next::Fail(e.errno()),
                            Ok(msgs) => {
                                let writes: BTreeMap<u64, Vec<u8>> = ov.meta;
                                p.msgs.extend(msgs);
                                for (b, d) in &writes {
                                    io.cache.put(*b, d.clone());
                                }
                                // ext4_commit_super: outside the journal, durable before
                                // the first commit can depend on RECOVER.
                                p.plan = Some(Plan::new(alloc::vec![Step::Write { blocks: writes, fua: true }]));
                                p.phase = Phase::Orphans;
                                Next::Continue
                            }
                        }
                    }
                },
                Phase::Orphans => Next::Done(0),
            }
        };
        if let Some(bs) = new_bs {
            // ext4_fill_super: sb_set_blocksize, then the superblock is read again.
            if bs != 1024 {
                p.cache = BufferCache::new(bs as usize, bytes / u64::from(bs));
            }
            p.phase = Phase::Super;
        }
        if let Some(b) = need {
            let p = self.ext.pending.get_mut(&disk).expect("pending mount checked above");
            if p.cache.take_read_error(b).is_some() {
                p.msgs.push(alloc::format!("EXT4-fs ({name}): unable to read superblock"));
                return Next::Fail(Errno::EIO);
            }
            submit_read(&self.hal, &mut self.blk, disk, &mut p.cache, b);
            return Next::Wait;
        }
        match next {
            Next::Continue if self.ext.pending.get(&disk).is_some_and(|p| p.plan.is_some()) => {
                self.mount_advance(disk);
                Next::Continue
            }
            Next::Done(_) => self.mount_finish(disk, target, read_only),
            n => n,
        }
    }

    /// The last step: the mount exists; orphans are cleaned up in its first transaction.
    fn mount_finish(&mut self, disk: u32, target: crate::fs::Ino, read_only: bool) -> Next {
        let Some(p) = self.ext.pending.remove(&disk) else { return Next::Fail(Errno::EIO) };
        let Some(fs) = p.fs else { return Next::Fail(Errno::EIO) };
        let devt = self.blk.by_hal(disk).map_or(0, |g| g.devt);
        let id = self.ext.next_id;
        self.ext.next_id += 1;
        let mut cache = p.cache;
        let sb_state = {
            let busy = BTreeSet::new();
            let mut io = CacheIo { cache: &mut cache, busy: &busy };
            fs.read_super(&mut io).ok().and_then(|sb| sb.get(0x3A..0x3C).map(|s| u16::from_le_bytes([s[0], s[1]]))).unwrap_or(EXT4_VALID_FS)
        };
        let mut msgs = p.msgs;
        let mode = if fs.compat & crate::fs::ext4::COMPAT_HAS_JOURNAL != 0 { "ordered data mode" } else { "writeback data mode" };
        msgs.push(alloc::format!("EXT4-fs ({}): mounted filesystem with {}. Opts: (null)", fs.dev_name, mode));
        let m = ExtMount {
            id,
            disk,
            devt,
            mountpoint: target,
            fs,
            cache,
            journal: p.journal,
            wq: p.wq,
            running: Txn::default(),
            committing: None,
            committed: BTreeMap::new(),
            plans: VecDeque::new(),
            busy: BTreeSet::new(),
            committed_tid: None,
            mount_state: sb_state,
            had_error: false,
            read_only,
            fsync_waiters: Vec::new(),
            commit_requested: false,
            abort_reported: false,
            unmounting: false,
            evict_pending: BTreeSet::new(),
        };
        self.ext.mounts.insert(id, m);
        for line in msgs {
            crate::printk!(self, "{}", line);
        }
        Next::Done(id)
    }

    /// Runs the orphan cleanup of a freshly mounted filesystem (`ext4_orphan_cleanup`) as
    /// its first operation.
    pub(crate) fn ext_orphan_cleanup(&mut self, pid: Pid, mnt: MntId) -> Result<(), SysErr> {
        if self.ext.mounts.get(&mnt).is_none_or(|m| m.read_only) {
            return Ok(());
        }
        let ctx = self.ext_ctx(pid);
        let msgs = self.ext_op(pid, mnt, true, |fs, io| fs.orphan_cleanup(io, &ctx))?;
        for m in msgs {
            crate::printk!(self, "{}", m);
        }
        Ok(())
    }

    /// `umount`: commit and checkpoint everything, mark the journal empty and the
    /// filesystem clean, then forget the mount. Re-run after every wait.
    pub(crate) fn ext_umount(&mut self, pid: Pid, mnt: MntId) -> SysResult {
        let now = self.ext_ctx(pid).now;
        let Some(m) = self.ext.mounts.get_mut(&mnt) else { return Err(Errno::EINVAL.into()) };
        let aborted = m.journal.as_ref().is_some_and(|j| j.aborted);
        if !m.read_only && !aborted && !m.unmounting {
            if !m.running.is_empty() || m.committing.is_some() {
                m.commit_requested = true;
                let wq = m.wq;
                self.ext_start_commit(mnt);
                return Err(self.wait_on(pid, wq));
            }
            if !m.plans.is_empty() || m.journal.as_ref().is_some_and(|j| !j.checkpoint.is_empty()) {
                let wq = m.wq;
                return Err(self.wait_on(pid, wq));
            }
            // jbd2_journal_destroy, then ext4_commit_super with RECOVER cleared.
            let mut steps = Vec::new();
            if let Some(j) = m.journal.as_mut() {
                if let Ok(Some((b, d))) = j.destroy() {
                    m.cache.put(b, d.clone());
                    steps.push(Step::Write { blocks: [(b, d)].into_iter().collect(), fua: true });
                }
            }
            let busy = BTreeSet::new();
            let mut io = CacheIo { cache: &mut m.cache, busy: &busy };
            let mut ov = Overlay::new(&mut io);
            if m.fs.mark_clean_unmount(&mut ov, now, m.mount_state, m.had_error).is_ok() {
                let writes = core::mem::take(&mut ov.meta);
                drop(ov);
                for (b, d) in &writes {
                    m.cache.put(*b, d.clone());
                }
                steps.push(Step::Write { blocks: writes, fua: true });
            }
            m.unmounting = true;
            m.plans.push_back((PlanKind::Direct, Plan::new(steps)));
            let wq = m.wq;
            self.ext_advance(mnt);
            return Err(self.wait_on(pid, wq));
        }
        if !m.plans.is_empty() {
            let wq = m.wq;
            return Err(self.wait_on(pid, wq));
        }
        let wq = m.wq;
        let reported = m.abort_reported;
        let dev = m.fs.dev_name.clone();
        self.ext.mounts.remove(&mnt);
        if aborted {
            // ext4_put_super: jbd2_journal_destroy of an aborted journal is -EIO, and
            // ext4_abort says so (remounting read-only first if nothing had yet).
            crate::printk!(self, "EXT4-fs error (device {}): ext4_put_super:800: Couldn't clean up the journal", dev);
            if !reported {
                crate::printk!(self, "EXT4-fs ({}): Remounting filesystem read-only", dev);
            }
        }
        self.wake_up(wq);
        Ok(0)
    }
}

/// What loading the journal decided.
struct LoadedJournal {
    journal: Option<crate::fs::jbd2::Journal>,
    /// Replayed blocks to write home (then flush).
    writes: BTreeMap<u64, Vec<u8>>,
    /// Superblocks to write with FUA afterwards, in order.
    sb_writes: Vec<(u64, Vec<u8>)>,
    msgs: Vec<String>,
}

/// `ext4_load_journal` over the cache: the journal inode's map, its superblock, wipe or
/// recovery, and the fs superblock's RECOVER flag after a replay.
fn load_journal(fs: &Ext4, io: &mut CacheIo<'_>, name: &str, read_only: bool) -> Result<LoadedJournal, JbdError> {
    let mut out = LoadedJournal { journal: None, writes: BTreeMap::new(), sb_writes: Vec::new(), msgs: Vec::new() };
    if fs.compat & crate::fs::ext4::COMPAT_HAS_JOURNAL == 0 {
        return Ok(out);
    }
    let inode = fs.iget(io, EXT4_JOURNAL_INO).map_err(fs_to_jbd)?;
    let bs = u64::from(fs.block_size);
    let nblocks = inode.size() / bs;
    if nblocks > 1 << 20 {
        return Err(JbdError::Fail { errno: Errno::EINVAL, msg: alloc::format!("EXT4-fs ({name}): journal inode is too large") });
    }
    let mut map = Vec::with_capacity(nblocks as usize);
    for l in 0..nblocks {
        map.push(fs.bmap(io, &inode, l).map_err(fs_to_jbd)?);
    }
    let b0 = map.first().copied().filter(|&b| b != 0).ok_or(JbdError::Fail { errno: Errno::EINVAL, msg: String::from("JBD2: no valid journal superblock found") })?;
    let block0 = io.read(b0).map_err(fs_to_jbd)?;
    let mut jsb = journal_get_superblock(&block0, bs as usize, inode.size())?;
    jsb.devname = alloc::format!("{name}-8");
    let sb = fs.read_super(io).map_err(fs_to_jbd)?;
    let incompat = sb.get(0x60..0x64).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let recover = incompat & INCOMPAT_RECOVER != 0;
    if !recover {
        let w = jbd2_journal_wipe(jsb, &map, io, !read_only)?;
        out.msgs.extend(w.messages);
        if let Some(e) = w.err {
            return Err(JbdError::Fail { errno: e, msg: String::new() });
        }
        if let Some(d) = w.sb_write {
            out.sb_writes.push((b0, d));
        }
        jsb = w.jsb;
    } else if read_only {
        out.msgs.push(alloc::format!("EXT4-fs ({name}): INFO: recovery required on readonly filesystem"));
        out.msgs.push(alloc::format!("EXT4-fs ({name}): write access will be enabled during recovery"));
    }
    let loaded = jbd2_journal_load(jsb, &map, io)?;
    out.msgs.extend(loaded.recovery.messages.iter().cloned());
    out.writes = loaded.recovery.replay.clone();
    if let Some(d) = loaded.sb_write {
        out.sb_writes.push((b0, d));
    }
    if recover {
        out.msgs.push(alloc::format!("EXT4-fs ({name}): recovery complete"));
        // After a replay of a read-only mount, RECOVER is cleared on disk; a read-write
        // mount sets it again in ext4_setup_super anyway.
        if read_only {
            let mut sbb = match out.writes.get(&fs.sb_block) {
                Some(d) => d.clone(),
                None => io.read(fs.sb_block).map_err(fs_to_jbd)?,
            };
            let o = fs.sb_offset + 0x60;
            if let Some(s) = sbb.get_mut(o..o + 4) {
                let v = u32::from_le_bytes([s[0], s[1], s[2], s[3]]) & !INCOMPAT_RECOVER;
                s.copy_from_slice(&v.to_le_bytes());
            }
            out.sb_writes.push((fs.sb_block, sbb));
        }
    }
    out.journal = Some(loaded.journal);
    Ok(out)
}

fn fs_to_jbd(e: FsError) -> JbdError {
    match e {
        FsError::Need(b) => JbdError::Need(b),
        e => JbdError::Fail { errno: e.errno(), msg: String::new() },
    }
}
