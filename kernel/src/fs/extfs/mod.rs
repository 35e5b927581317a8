//! The kernel side of the ext4 driver (what `fs/ext4/super.c`, `fsync.c` and jbd2's
//! commit thread do around the on-disk code): a mounted filesystem's buffer cache, its
//! running and committing transactions, checkpoints, and the operations syscalls run
//! against it.
//!
//! The on-disk logic is `fs/ext4` and `fs/jbd2`, both pure over [`BlockIo`]. Here an
//! operation runs against the cache through an [`Overlay`]; if it needs a block that is
//! not cached, its writes are dropped, the block is read, and the syscall re-runs when
//! the read completes. When it succeeds, its metadata blocks join the running
//! transaction and its data blocks the ordered-data list. Transactions commit when one
//! grows large, after the commit interval, and for `fsync`, `sync` and unmount; each
//! commit and checkpoint is an [`ioplan::Plan`] whose steps keep jbd2's ordering rules.

pub mod io;
pub mod journal;
pub mod mount;
pub mod syscalls;
pub mod vfs;

use super::bcache::BufferCache;
use super::ext4::Ext4;
use super::ioplan::Plan;
use super::jbd2::Journal;
use crate::kernel::sched::WqId;
use crate::kernel::Pid;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

/// A mounted ext filesystem's number.
pub type MntId = u32;

/// `JBD2_DEFAULT_MAX_COMMIT_AGE`: the running transaction commits 5 s after it began.
pub const COMMIT_INTERVAL_NS: u64 = 5_000_000_000;

/// A transaction collecting changes (`transaction_t` while running).
#[derive(Debug, Default)]
pub struct Txn {
    /// Metadata blocks it changed (their images are the cache's at commit).
    pub meta: BTreeSet<u64>,
    /// File data blocks written under it (ordered mode: home before its commit).
    pub data: BTreeSet<u64>,
    /// Metadata blocks freed under it (revoke records).
    pub revoked: BTreeSet<u64>,
    /// Every block freed under it: not reallocated before it commits (rule W4).
    pub freed: BTreeSet<u64>,
    /// When it got its first change (the commit timer counts from there).
    pub started_ns: Option<u64>,
}

impl Txn {
    /// Nothing to commit.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty() && self.data.is_empty() && self.revoked.is_empty() && self.freed.is_empty()
    }
}

/// What an I/O plan of the mount is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    /// Commit of transaction `tid`.
    Commit(u32),
    /// Checkpoint of transaction `tid`.
    Checkpoint(u32),
    /// Writes outside the journal: replay, superblock updates at mount and unmount, the
    /// journal superblock after an abort.
    Direct,
}

/// A mounted ext3 filesystem.
#[derive(Debug)]
pub struct ExtMount {
    /// Its number.
    pub id: MntId,
    /// The disk (HAL number) and device number it is mounted from.
    pub disk: u32,
    /// See `disk`.
    pub devt: u64,
    /// The ramfs directory it is mounted on.
    pub mountpoint: super::Ino,
    /// Geometry.
    pub fs: Ext4,
    /// Cached blocks.
    pub cache: BufferCache,
    /// The journal (none for a filesystem without one).
    pub journal: Option<Journal>,
    /// Tasks wait here for reads, commits and plans.
    pub wq: WqId,
    /// The running transaction.
    pub running: Txn,
    /// The transaction being committed: its tid, its changes, and the metadata images
    /// it logged.
    pub committing: Option<(u32, Txn, BTreeMap<u64, Vec<u8>>)>,
    /// The newest committed image of every block not yet home, with the tid that
    /// logged it: what a checkpoint writes.
    pub committed: BTreeMap<u64, (u32, Vec<u8>)>,
    /// A commit was asked for (fsync, sync, unmount, size) and waits for its turn.
    pub commit_requested: bool,
    /// The ext4 lines for an aborted journal were printed.
    pub abort_reported: bool,
    /// The unmount's final writes were issued.
    pub unmounting: bool,
    /// Unlinked inodes whose last reference went, waiting to be evicted.
    pub evict_pending: BTreeSet<u32>,
    /// Plans in progress, in start order (at most one commit and one checkpoint).
    pub plans: VecDeque<(PlanKind, Plan)>,
    /// Blocks freed by uncommitted transactions.
    pub busy: BTreeSet<u64>,
    /// The last tid whose commit completed.
    pub committed_tid: Option<u32>,
    /// The fs superblock's `s_state` at mount (written back at clean unmount).
    pub mount_state: u16,
    /// An `ext4_error` happened (ERROR_FS is written at unmount).
    pub had_error: bool,
    /// Read-only (asked for, or after an abort).
    pub read_only: bool,
    /// Tasks that asked for a commit, with the tid they wait for.
    pub fsync_waiters: Vec<(Pid, u32)>,
}


/// A mount in progress (the mount syscall re-runs after each wait).
#[derive(Debug)]
pub struct PendingMount {
    /// The disk.
    pub disk: u32,
    /// The cache being filled (1 KiB blocks until the superblock gave the size).
    pub cache: BufferCache,
    /// The geometry, once validated.
    pub fs: Option<Ext4>,
    /// The journal, once loaded.
    pub journal: Option<Journal>,
    /// Writes in flight (replay, superblocks).
    pub plan: Option<Plan>,
    /// How far it got.
    pub phase: mount::Phase,
    /// Where the task waits.
    pub wq: WqId,
    /// Lines printed once the mount finishes or fails.
    pub msgs: Vec<alloc::string::String>,
}

/// Every ext filesystem of the kernel.
#[derive(Debug, Default)]
pub struct ExtState {
    /// Mounted filesystems.
    pub mounts: BTreeMap<MntId, ExtMount>,
    /// Mounts in progress, by disk.
    pub pending: BTreeMap<u32, PendingMount>,
    /// The next mount's number.
    pub next_id: MntId,
    /// Blocks read-only operations (which cannot start I/O: path walks take `&self`)
    /// found missing, as (mount, block); the syscall path reads them and parks the task.
    pub wanted: core::cell::RefCell<Vec<(MntId, u64)>>,
}

impl ExtState {
    /// The mount on ramfs directory `ino`.
    pub fn on_mountpoint(&self, ino: super::Ino) -> Option<MntId> {
        self.mounts.values().find(|m| m.mountpoint == ino).map(|m| m.id)
    }

    /// The mount of disk `disk`.
    pub fn of_disk(&self, disk: u32) -> Option<MntId> {
        self.mounts.values().find(|m| m.disk == disk).map(|m| m.id)
    }
}

impl<H: crate::hal::Hal> crate::kernel::Kernel<H> {
    /// One line per mounted ext3 filesystem with its journal's state (running and
    /// committing transactions, plans in flight, tids, waiters): for test failure
    /// messages.
    pub fn ext_debug(&self) -> alloc::string::String {
        let mut s = alloc::string::String::new();
        for m in self.ext.mounts.values() {
            s += &alloc::format!("mnt {} running(meta {} data {} freed {}) committing {:?} plans {:?} committed_tid {:?} req {} waiters {:?} ckpt {:?} ro {}\n", m.id, m.running.meta.len(), m.running.data.len(), m.running.freed.len(), m.committing.as_ref().map(|c| c.0), m.plans.iter().map(|(k, p)| (k, p.finished(), p.waiting())).collect::<Vec<_>>(), m.committed_tid, m.commit_requested, m.fsync_waiters, m.journal.as_ref().map(|j| (j.transaction_sequence, j.checkpoint.iter().map(|c| c.tid).collect::<Vec<_>>())), m.read_only);
        }
        s
    }
}
