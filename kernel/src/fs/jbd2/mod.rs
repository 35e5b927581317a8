//! jbd2, the journal ext3 filesystems use (`fs/jbd2/` of Linux 4.3), as a pure library:
//! on-disk formats, superblock validation, recovery, and a writer that plans commits and
//! checkpoints. It performs no I/O of its own except reads through [`BlockIo`]; every
//! write is returned to the caller as (filesystem block, contents) in the order it must
//! reach the disk.
//!
//! The journal is inode 8; journal block `n` is filesystem block `map[n]` (the caller
//! computes `map` from the journal inode's block map; 0 = hole). The journal block size
//! is the filesystem's.
//!
//! # Mount (`ext4_load_journal`)
//! 1. Read journal block 0 (`map[0]`) and validate it: [`load::journal_get_superblock`]
//!    (`block0`, fs block size, journal inode `i_size`) → [`load::JournalSb`].
//! 2. If the fs superblock lacks RECOVER: [`load::jbd2_journal_wipe`] (write its
//!    `sb_write`, FUA; a scan error fails the mount after that write).
//! 3. Read in every journal block (recovery is restartable but reads each log block up to
//!    three times; a [`JbdError::Need`] means "read this block and call again").
//! 4. [`load::jbd2_journal_load`] → [`load::Loaded`]: write every block of
//!    `recovery.replay` home, flush the device, then write `sb_write` (FUA) if present.
//!    On [`JbdError::RecoveryFailed`] Linux still writes the replayed blocks
//!    (`sync_blockdev`) and the mount fails (ext4: EINVAL, "error loading journal").
//! 5. If `journal.errno != 0`: print [`load::journal_error_report`], set
//!    `EXT4_ERROR_FS` in the fs superblock's `s_state` and write it, then write
//!    [`journal::Journal::clear_err`] (FUA).
//! 6. ext4 prints "recovery complete" later in the mount when RECOVER was set.
//!
//! # Commit (`jbd2_journal_commit_transaction`)
//! Before a new transaction starts, if
//! [`journal::Journal::must_checkpoint_before_start`], checkpoint (below). Then
//! [`journal::Journal::commit`] and perform the [`journal::CommitPlan`] in its documented
//! order: `sb_before` (sync) → ordered data → `log_writes` (wait) → flush + `commit_block`
//! with FUA → `sb_after` (FUA). Any write error → [`journal::Journal::abort`]`(-EIO)`.
//!
//! # Checkpoint
//! For the oldest [`journal::CheckpointTxn`]: write its `blocks` home (current buffer
//! contents; a block also dirtied by the running transaction forces that transaction to
//! commit first), flush the device, call [`journal::Journal::checkpoint_complete`] and
//! write the returned superblock with FUA.
//!
//! # Unmount
//! Commit the running transaction, checkpoint everything, write
//! [`journal::Journal::destroy`]'s superblock (FUA), then clear RECOVER in the fs
//! superblock.

pub mod commit_block;
pub mod csum;
pub mod header;
pub mod journal;
pub mod load;
pub mod recovery;
pub mod revoke;
pub mod superblock;
pub mod tag;

#[cfg(test)]
mod tests;

pub use journal::{CommitPlan, Journal};
pub use load::{jbd2_journal_load, jbd2_journal_wipe, journal_get_superblock, JournalSb, Loaded};
pub use recovery::{jbd2_journal_recover, Recovery, RecoveryInfo};

use crate::fs::buffer::FsError;
use crate::uapi::Errno;
use alloc::boxed::Box;
use alloc::string::String;

/// Why a jbd2 operation did not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JbdError {
    /// Filesystem block not in memory: read it and call again from the start.
    Need(u64),
    /// Linux's errno, with the line it prints (`printk`).
    Fail {
        /// The errno (positive).
        errno: Errno,
        /// The message.
        msg: String,
    },
    /// Recovery failed (Linux: "JBD2: recovery failed", EIO); `recovery.replay` holds
    /// the blocks Linux replayed before failing and still writes home.
    RecoveryFailed {
        /// EIO.
        errno: Errno,
        /// The message.
        msg: String,
        /// What recovery did.
        recovery: Box<Recovery>,
    },
    /// The log has no room for this commit: checkpoint, then commit again.
    NoSpace {
        /// Blocks needed (including the one jbd2 always keeps free).
        needed: u32,
        /// Blocks free.
        left: u32,
    },
    /// The transaction is larger than `j_max_transaction_buffers` (a quarter of the
    /// journal): split it into several commits.
    TooBig {
        /// Blocks it needs.
        needed: u32,
        /// The limit.
        max: u32,
    },
}

impl JbdError {
    /// The errno a syscall would see.
    pub fn errno(&self) -> Errno {
        match self {
            JbdError::Need(_) => Errno::EAGAIN,
            JbdError::Fail { errno, .. } | JbdError::RecoveryFailed { errno, .. } => *errno,
            JbdError::NoSpace { .. } | JbdError::TooBig { .. } => Errno::ENOSPC,
        }
    }
}

impl From<JbdError> for FsError {
    fn from(e: JbdError) -> FsError {
        match e {
            JbdError::Need(b) => FsError::Need(b),
            e => FsError::Errno(e.errno()),
        }
    }
}
