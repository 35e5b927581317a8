//! Loading a journal at mount: superblock validation (`journal_get_superblock`,
//! `load_superblock`), `jbd2_journal_load` (features, recovery, `journal_reset`),
//! `jbd2_journal_wipe`, and the error-status report of `ext4_clear_journal_err`.

use super::header::{JBD2_MAGIC_NUMBER, JBD2_SUPERBLOCK_V1, JBD2_SUPERBLOCK_V2};
use super::journal::Journal;
use super::recovery::{jbd2_journal_recover, skip_recovery_scan, Recovery};
use super::superblock::{
    JournalSuperblock, JBD2_CRC32C_CHKSUM, JBD2_FEATURE_COMPAT_CHECKSUM, JBD2_FEATURE_INCOMPAT_CSUM_V2, JBD2_FEATURE_INCOMPAT_CSUM_V3,
    JBD2_KNOWN_INCOMPAT_FEATURES, JBD2_KNOWN_ROCOMPAT_FEATURES,
};
use super::JbdError;
use crate::fs::buffer::BlockIo;
use crate::uapi::Errno;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// `JBD2_MIN_JOURNAL_BLOCKS`: `journal_reset` refuses a shorter log.
pub const JBD2_MIN_JOURNAL_BLOCKS: u32 = 1024;

/// A validated journal superblock and the geometry derived from it (the parts of
/// `journal_t` that `load_superblock` fills in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalSb {
    /// The superblock as read.
    pub sb: JournalSuperblock,
    /// Journal block 0 as read (the superblock is rewritten inside it).
    pub block0: Vec<u8>,
    /// `j_blocksize` (= the filesystem block size).
    pub blocksize: usize,
    /// `j_maxlen`: journal blocks (inode size, lowered to `s_maxlen`).
    pub maxlen: u32,
    /// `j_first` = `s_first`.
    pub first: u32,
    /// `j_last` = `s_maxlen`.
    pub last: u32,
    /// `j_format_version` (1 or 2).
    pub format_version: u32,
    /// `j_csum_seed` (v2/v3 only, else 0).
    pub csum_seed: u32,
    /// `j_devname` for messages (`sda1-8` in Linux: device, `-`, journal inode); empty
    /// after [`journal_get_superblock`], the caller may set it.
    pub devname: String,
}

/// A jbd2 failure: Linux's errno and the printk line.
fn fail(errno: Errno, msg: String) -> JbdError {
    JbdError::Fail { errno, msg }
}

/// `journal_get_superblock` + `load_superblock`: validates journal block 0 (`block0`,
/// read through the block map) for a journal inode of `inode_size` bytes on a filesystem
/// with `blocksize`-byte blocks. Every failure is EINVAL, with Linux's message.
/// (A read error on block 0 is EIO, "JBD2: IO error reading journal superblock" — the
/// caller's read.)
pub fn journal_get_superblock(block0: &[u8], blocksize: usize, inode_size: u64) -> Result<JournalSb, JbdError> {
    let einval = |m: String| fail(Errno::EINVAL, m);
    let bits = blocksize.max(1).trailing_zeros();
    let mut maxlen = u32::try_from(inode_size >> bits).unwrap_or(u32::MAX);
    let sb = JournalSuperblock::parse(block0).ok_or_else(|| einval(String::from("JBD2: no valid journal superblock found")))?;
    if sb.s_header.h_magic != JBD2_MAGIC_NUMBER || sb.s_blocksize as usize != blocksize {
        return Err(einval(String::from("JBD2: no valid journal superblock found")));
    }
    let format_version = match sb.s_header.h_blocktype {
        JBD2_SUPERBLOCK_V1 => 1,
        JBD2_SUPERBLOCK_V2 => 2,
        _ => return Err(einval(String::from("JBD2: unrecognised superblock format ID"))),
    };
    if sb.s_maxlen < maxlen {
        maxlen = sb.s_maxlen;
    } else if sb.s_maxlen > maxlen {
        return Err(einval(String::from("JBD2: journal file too short")));
    }
    if sb.s_first == 0 || sb.s_first >= maxlen {
        return Err(einval(format!("JBD2: Invalid start block of journal: {}", sb.s_first)));
    }
    if sb.has_incompat(JBD2_FEATURE_INCOMPAT_CSUM_V2) && sb.has_incompat(JBD2_FEATURE_INCOMPAT_CSUM_V3) {
        return Err(einval(String::from("JBD2: Can't enable checksumming v2 and v3 at the same time!")));
    }
    if sb.has_csum_v2or3() && sb.has_compat(JBD2_FEATURE_COMPAT_CHECKSUM) {
        return Err(einval(String::from("JBD2: Can't enable checksumming v1 and v2/3 at the same time!")));
    }
    if sb.has_csum_v2or3() && sb.s_checksum_type != JBD2_CRC32C_CHKSUM {
        return Err(einval(String::from("JBD2: Unknown checksum type")));
    }
    if sb.has_csum_v2or3() && sb.s_checksum != sb.compute_checksum() {
        return Err(einval(String::from("JBD2: journal checksum error")));
    }
    let csum_seed = if sb.has_csum_v2or3() { sb.csum_seed() } else { 0 };
    Ok(JournalSb {
        first: sb.s_first,
        last: sb.s_maxlen,
        sb,
        block0: block0.to_vec(),
        blocksize,
        maxlen,
        format_version,
        csum_seed,
        devname: String::new(),
    })
}

/// What a successful [`jbd2_journal_load`] leaves.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The journal, ready to log transactions (`journal_reset` done).
    pub journal: Journal,
    /// What recovery found; `recovery.replay` must be written home and flushed before
    /// `sb_write` and before anything else is logged.
    pub recovery: Recovery,
    /// `journal_reset` after a replay: the journal superblock block (`s_sequence` = next
    /// tid, `s_start` = `s_first`) to write with FUA once the replayed blocks are durable.
    /// `None` for a journal that was clean (its superblock is rewritten by the first
    /// commit instead).
    pub sb_write: Option<Vec<u8>>,
}

/// `jbd2_journal_load`: feature check, recovery, `journal_reset`. Errors, as Linux:
/// unknown v2 incompat/ro-compat features → EINVAL "JBD2: Unrecognised features on
/// journal"; a failed recovery or a log shorter than [`JBD2_MIN_JOURNAL_BLOCKS`] → EIO
/// "JBD2: recovery failed" ([`JbdError::RecoveryFailed`] carries the blocks Linux still
/// writes home); a corrupt commit checksum → EIO "JBD2: journal transaction N on DEV is
/// corrupt." (ext4 then fails the mount with EINVAL, "error loading journal".)
pub fn jbd2_journal_load(jsb: JournalSb, map: &[u64], io: &mut dyn BlockIo) -> Result<Loaded, JbdError> {
    if jsb.format_version >= 2
        && (jsb.sb.s_feature_ro_compat & !JBD2_KNOWN_ROCOMPAT_FEATURES != 0
            || jsb.sb.s_feature_incompat & !JBD2_KNOWN_INCOMPAT_FEATURES != 0)
    {
        return Err(fail(Errno::EINVAL, String::from("JBD2: Unrecognised features on journal")));
    }
    let recovery = jbd2_journal_recover(&jsb, map, io)?;
    if recovery.err.is_some() {
        return Err(JbdError::RecoveryFailed {
            errno: Errno::EIO,
            msg: String::from("JBD2: recovery failed"),
            recovery: Box::new(recovery),
        });
    }
    if recovery.failed_commit != 0 {
        return Err(fail(Errno::EIO, format!("JBD2: journal transaction {} on {} is corrupt.", recovery.failed_commit, jsb.devname)));
    }
    if (jsb.first as u64) + (JBD2_MIN_JOURNAL_BLOCKS as u64) > (jsb.last as u64) + 1 {
        let mut recovery = recovery;
        recovery.messages.push(format!("JBD2: Journal too short (blocks {}-{}).", jsb.first, jsb.last));
        return Err(JbdError::RecoveryFailed {
            errno: Errno::EIO,
            msg: String::from("JBD2: recovery failed"),
            recovery: Box::new(recovery),
        });
    }
    let (journal, sb_write) = Journal::reset(jsb, map.to_vec(), recovery.next_tid);
    Ok(Loaded { journal, recovery, sb_write })
}

/// What [`jbd2_journal_wipe`] did.
#[derive(Clone, Debug)]
pub struct Wiped {
    /// The superblock to continue with ([`jbd2_journal_load`] next).
    pub jsb: JournalSb,
    /// Journal block 0 to write with FUA (`jbd2_mark_journal_empty`), if any.
    pub sb_write: Option<Vec<u8>>,
    /// Lines Linux prints.
    pub messages: Vec<String>,
    /// The scan's error: ext4 then fails the mount (after the superblock write).
    pub err: Option<Errno>,
}

/// `jbd2_journal_wipe`, called by `ext4_load_journal` when the filesystem does not have
/// RECOVER: a non-empty log is scanned (only to count it) and, if `write`, marked empty
/// — `s_start = 0` with `s_sequence` left at the old tail tid (exactly what 4.3's
/// `jbd2_mark_journal_empty` writes here: `j_tail_sequence` is still `s_sequence`).
pub fn jbd2_journal_wipe(jsb: JournalSb, map: &[u64], io: &mut dyn BlockIo, write: bool) -> Result<Wiped, JbdError> {
    let mut w = Wiped { jsb, sb_write: None, messages: Vec::new(), err: None };
    if w.jsb.sb.s_start == 0 {
        return Ok(w);
    }
    w.messages.push(format!("JBD2: {} recovery information on journal", if write { "Clearing" } else { "Ignoring" }));
    if let Err((e, m)) = skip_recovery_scan(&w.jsb, map, io)? {
        w.messages.extend(m);
        w.err = Some(e);
    }
    if write {
        w.jsb.sb.s_start = 0;
        let blk = w.jsb.sb.to_block(&w.jsb.block0);
        w.jsb.block0 = blk.clone();
        w.sb_write = Some(blk);
    }
    Ok(w)
}

/// `ext4_decode_error` for the errno values a journal records.
pub fn ext4_decode_error(errno: i32) -> String {
    match -errno {
        5 => String::from("IO failure"),
        12 => String::from("Out of memory"),
        // At mount the journal is not aborted (jbd2_journal_load clears JBD2_ABORT).
        30 => String::from("Readonly filesystem"),
        e => format!("error {}", e),
    }
}

/// `ext4_clear_journal_err`'s report for a non-zero `s_errno`: the two warnings ext4
/// prints (it then sets `EXT4_ERROR_FS` in the fs superblock's `s_state`, commits the fs
/// superblock, and writes the journal superblock with `s_errno = 0`:
/// [`Journal::clear_err`]). `None` when `s_errno` is 0.
pub fn journal_error_report(s_errno: i32) -> Option<[String; 2]> {
    if s_errno == 0 {
        return None;
    }
    Some([
        format!("Filesystem error recorded from previous mount: {}", ext4_decode_error(s_errno)),
        String::from("Marking fs in need of filesystem check."),
    ])
}
