//! Unit tests: format round trips, commit → recover, escaping, wrapping, revokes, torn
//! transactions, sequence breaks, validation errors, checksummed journals, and a
//! mutation sweep that must never panic or hang.

use super::commit_block::CommitHeader;
use super::header::*;
use super::load::{jbd2_journal_load, jbd2_journal_wipe, journal_error_report, journal_get_superblock, JournalSb};
use super::recovery::jbd2_journal_recover;
use super::revoke::{emit_revoke_block, parse_revoke_records, RevokeTable};
use super::superblock::*;
use super::tag::*;
use super::JbdError;
use crate::fs::buffer::{BlockIo, ImageIo};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

const BS: usize = 1024;
/// Journal block n lives at filesystem block JOFF + n.
const JOFF: u64 = 64;
const JLEN: u32 = 1024;
const FS_BLOCKS: u64 = JOFF + JLEN as u64 + 256;

fn blank_sb(incompat: u32) -> JournalSuperblock {
    let mut b = vec![0u8; 1024];
    JournalHeader::new(JBD2_SUPERBLOCK_V2, 0).emit(&mut b);
    let mut sb = JournalSuperblock::parse(&b).unwrap();
    sb.s_blocksize = BS as u32;
    sb.s_maxlen = JLEN;
    sb.s_first = 1;
    sb.s_sequence = 1;
    sb.s_start = 0;
    sb.s_feature_incompat = incompat;
    sb.s_uuid = [0x11, 0x22, 0x33, 0x44, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
    sb.s_nr_users = 1;
    if sb.has_csum_v2or3() {
        sb.s_checksum_type = JBD2_CRC32C_CHKSUM;
    }
    sb
}

fn map() -> Vec<u64> {
    (0..JLEN as u64).map(|n| JOFF + n).collect()
}

/// An image with a clean journal described by `sb`.
fn image(sb: &JournalSuperblock) -> ImageIo {
    let mut io = ImageIo::new(vec![0u8; FS_BLOCKS as usize * BS], BS);
    let blk = sb.to_block(&vec![0u8; BS]);
    io.write_meta(JOFF, &blk).unwrap();
    io
}

fn read_jsb(io: &mut ImageIo) -> JournalSb {
    let b0 = io.read(JOFF).unwrap();
    journal_get_superblock(&b0, BS, JLEN as u64 * BS as u64).unwrap()
}

/// Mounts (load), returning the journal and the replay.
fn load(io: &mut ImageIo) -> super::Loaded {
    let jsb = read_jsb(io);
    jbd2_journal_load(jsb, &map(), io).unwrap()
}

fn apply(io: &mut ImageIo, plan: &super::CommitPlan, with_commit: bool) {
    if let Some((b, d)) = &plan.sb_before {
        io.write_meta(*b, d).unwrap();
    }
    for (b, d) in &plan.log_writes {
        io.write_meta(*b, d).unwrap();
    }
    if with_commit {
        io.write_meta(plan.commit_block.0, &plan.commit_block.1).unwrap();
        if let Some((b, d)) = &plan.sb_after {
            io.write_meta(*b, d).unwrap();
        }
    }
}

fn img(tag: u8) -> Vec<u8> {
    let mut v = vec![tag; BS];
    v[4] = 0xEE;
    v
}

fn meta(blocks: &[(u64, Vec<u8>)]) -> BTreeMap<u64, Vec<u8>> {
    blocks.iter().cloned().collect()
}

#[test]
fn header_and_superblock_round_trip() {
    let h = JournalHeader::new(JBD2_COMMIT_BLOCK, 77);
    let mut b = [0u8; 12];
    h.emit(&mut b);
    assert_eq!(b[..4], [0xC0, 0x3B, 0x39, 0x98]);
    assert_eq!(JournalHeader::parse(&b), Some(h));
    let mut sb = blank_sb(JBD2_FEATURE_INCOMPAT_REVOKE);
    sb.s_errno = -5;
    sb.s_users[3] = 9;
    sb.s_padding[10] = 1;
    let mut raw = vec![0u8; 1024];
    sb.emit(&mut raw);
    assert_eq!(JournalSuperblock::parse(&raw), Some(sb.clone()));
    assert_eq!(&raw[0x20..0x24], &[0xFF, 0xFF, 0xFF, 0xFB]);
    assert_eq!(sb.tag_bytes(), 8);
    assert_eq!(blank_sb(JBD2_FEATURE_INCOMPAT_64BIT).tag_bytes(), 12);
    assert_eq!(blank_sb(JBD2_FEATURE_INCOMPAT_CSUM_V2).tag_bytes(), 10);
    assert_eq!(blank_sb(JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_64BIT).tag_bytes(), 14);
    assert_eq!(blank_sb(JBD2_FEATURE_INCOMPAT_CSUM_V3).tag_bytes(), 16);
    // v1: feature words are ignored.
    let mut v1 = blank_sb(JBD2_FEATURE_INCOMPAT_64BIT);
    v1.s_header.h_blocktype = JBD2_SUPERBLOCK_V1;
    assert_eq!(v1.tag_bytes(), 8);
}

#[test]
fn tags_revoke_commit_round_trip() {
    for inc in [0, JBD2_FEATURE_INCOMPAT_64BIT, JBD2_FEATURE_INCOMPAT_CSUM_V3, JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_64BIT]
    {
        let sb = blank_sb(inc);
        let fmt = TagFormat::of(&sb);
        let hi = if fmt.is_64bit { 1u64 << 33 } else { 0 };
        let tags = vec![
            BlockTag { blocknr: 5 | hi, flags: JBD2_FLAG_ESCAPE, checksum: if fmt.csum_v2or3 { 0x1234 } else { 0 } },
            BlockTag { blocknr: 6, flags: 0, checksum: 0 },
            BlockTag { blocknr: 7, flags: 0, checksum: 0 },
        ];
        let mut d = vec![0u8; BS];
        emit_descriptor(&mut d, 9, &tags, &sb.s_uuid, &fmt, sb.csum_seed());
        let got = descriptor_tags(&d, &fmt);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].blocknr, 5 | hi);
        assert_eq!(got[0].flags, JBD2_FLAG_ESCAPE);
        assert_eq!(got[1].flags, JBD2_FLAG_SAME_UUID);
        assert_eq!(got[2].flags, JBD2_FLAG_SAME_UUID | JBD2_FLAG_LAST_TAG);
        assert_eq!(&d[12 + fmt.tag_bytes..12 + fmt.tag_bytes + 16], &sb.s_uuid);
        assert!(block_tail_csum_ok(&d, &fmt, sb.csum_seed()));
        let mut r = vec![0u8; BS];
        emit_revoke_block(&mut r, 9, &[3, 4 | hi], &fmt, sb.csum_seed());
        assert_eq!(parse_revoke_records(&r, &fmt).unwrap(), vec![3, 4 | hi]);
        assert_eq!(be32(&r, 12).unwrap() as usize, 16 + 2 * if fmt.is_64bit { 8 } else { 4 });
    }
    let c = CommitHeader::new(3, 1_600_000_000, 42);
    let mut b = vec![0u8; BS];
    c.emit(&mut b);
    assert_eq!(CommitHeader::parse(&b), Some(c));
    // r_count beyond the block is EINVAL.
    let fmt = TagFormat::of(&blank_sb(0));
    let mut r = vec![0u8; BS];
    emit_revoke_block(&mut r, 1, &[1], &fmt, 0);
    put32(&mut r, 12, BS as u32 + 1);
    assert_eq!(parse_revoke_records(&r, &fmt), Err(Errno::EINVAL));
    // Capacity matches Linux: j_wbufsize = 1024/12 = 85 buffers incl. the descriptor.
    assert_eq!(descriptor_capacity(1024, &fmt), 84);
    assert_eq!(descriptor_capacity(4096, &fmt), 340);
    let mut rt = RevokeTable::default();
    rt.set_revoke(10, 5);
    rt.set_revoke(10, 3);
    assert!(rt.test_revoke(10, 5) && rt.test_revoke(10, 4) && !rt.test_revoke(10, 6));
}

#[test]
fn commit_then_recover_with_escape() {
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    assert!(l.recovery.replay.is_empty());
    assert_eq!(l.recovery.next_tid, 2);
    assert!(l.sb_write.is_none());
    let mut magic = img(0x55);
    magic[..4].copy_from_slice(&JBD2_MAGIC_NUMBER.to_be_bytes());
    let m = meta(&[(1300, img(1)), (1301, magic.clone()), (1302, img(3))]);
    let plan = l.journal.commit(&m, &[], (1_600_000_000, 5)).unwrap();
    assert_eq!(plan.tid, 2);
    assert_eq!(plan.escaped, 1);
    assert_eq!(plan.log_start, 1);
    assert_eq!(plan.nblocks, 5);
    // The journal was empty: its superblock records the tail before the log is used.
    let (sbb, sbd) = plan.sb_before.clone().unwrap();
    assert_eq!(sbb, JOFF);
    assert_eq!((be32(&sbd, 0x18), be32(&sbd, 0x1C)), (Some(2), Some(1)));
    // The escaped log copy has the magic zeroed.
    assert_eq!(&plan.log_writes[2].1[..4], &[0, 0, 0, 0]);
    apply(&mut io, &plan, true);
    // Crash; remount.
    let l2 = load(&mut io);
    assert_eq!(l2.recovery.replay, m);
    assert_eq!(l2.recovery.info.nr_replays, 3);
    assert_eq!(l2.recovery.next_tid, 4);
    let (_, sb) = (0, JournalSuperblock::parse(l2.sb_write.as_ref().unwrap()).unwrap());
    assert_eq!((sb.s_sequence, sb.s_start), (4, 1));
}

#[test]
fn revoked_block_not_replayed_and_later_copy_is() {
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let p1 = l.journal.commit(&meta(&[(1300, img(1)), (1301, img(2))]), &[], (0, 0)).unwrap();
    apply(&mut io, &p1, true);
    let p2 = l.journal.commit(&meta(&[(1302, img(3))]), &[1300, 1301], (0, 0)).unwrap();
    apply(&mut io, &p2, true);
    assert!(l.journal.jsb.sb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_REVOKE != 0);
    let p3 = l.journal.commit(&meta(&[(1301, img(4))]), &[], (0, 0)).unwrap();
    apply(&mut io, &p3, true);
    let l2 = load(&mut io);
    assert_eq!(l2.recovery.replay, meta(&[(1301, img(4)), (1302, img(3))]));
    assert_eq!(l2.recovery.info.nr_revokes, 2);
    assert_eq!(l2.recovery.info.nr_revoke_hits, 2);
    assert_eq!(l2.recovery.next_tid, 6);
}

#[test]
fn incomplete_transaction_not_replayed() {
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let p1 = l.journal.commit(&meta(&[(1300, img(1))]), &[], (0, 0)).unwrap();
    apply(&mut io, &p1, true);
    let p2 = l.journal.commit(&meta(&[(1300, img(2)), (1301, img(2))]), &[1302], (0, 0)).unwrap();
    apply(&mut io, &p2, false);
    let l2 = load(&mut io);
    assert_eq!(l2.recovery.replay, meta(&[(1300, img(1))]));
    assert_eq!(l2.recovery.info.end_transaction, 4); // end tid 3 (torn), +1
    assert_eq!(l2.recovery.next_tid, 4);
    assert_eq!(l2.recovery.info.nr_revokes, 0);
}

#[test]
fn sequence_mismatch_ends_scan() {
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let p1 = l.journal.commit(&meta(&[(1300, img(1))]), &[], (0, 0)).unwrap();
    apply(&mut io, &p1, true);
    let p2 = l.journal.commit(&meta(&[(1301, img(2))]), &[], (0, 0)).unwrap();
    // T3's descriptor carries a stale sequence.
    let mut d = p2.log_writes[0].1.clone();
    put32(&mut d, 8, 99);
    apply(&mut io, &p2, true);
    io.write_meta(p2.log_writes[0].0, &d).unwrap();
    let l2 = load(&mut io);
    assert_eq!(l2.recovery.replay, meta(&[(1300, img(1))]));
    assert_eq!(l2.recovery.next_tid, 4);
}

#[test]
fn wrapping_log_and_checkpoint() {
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let mut last = Vec::new();
    // Each transaction: 1 descriptor + 80 images + commit = 82 blocks; the 13th one
    // (985..1066) wraps the 1023-block log. Checkpoint all but the last two.
    for t in 0..13u8 {
        let m: BTreeMap<u64, Vec<u8>> = (0..80u64).map(|i| (1300 + (i + t as u64) % 100, img(t))).collect();
        if l.journal.must_checkpoint_before_start() {
            let oldest = l.journal.checkpoint.front().unwrap().tid;
            if let Some((b, d)) = l.journal.checkpoint_complete(oldest) {
                io.write_meta(b, &d).unwrap();
            }
        }
        let p = l.journal.commit(&m, &[], (0, 0)).unwrap();
        apply(&mut io, &p, true);
        last.push(m);
        while l.journal.checkpoint.len() > 2 {
            let oldest = l.journal.checkpoint.front().unwrap().tid;
            if let Some((b, d)) = l.journal.checkpoint_complete(oldest) {
                io.write_meta(b, &d).unwrap();
            }
        }
    }
    assert!(l.journal.head < l.journal.tail, "log wrapped: head {} tail {}", l.journal.head, l.journal.tail);
    assert_eq!((l.journal.tail, l.journal.head), (903, 44));
    let mut want = last[11].clone();
    want.extend(last[12].clone());
    let l2 = load(&mut io);
    assert_eq!(l2.recovery.replay, want);
    assert_eq!(l2.recovery.info.start_transaction, 2 + 11);
    // Clean unmount after checkpointing everything.
    let mut j = l.journal;
    while let Some(t) = j.checkpoint.front().map(|t| t.tid) {
        j.checkpoint_complete(t);
    }
    let (_, d) = j.destroy().unwrap().unwrap();
    let sb = JournalSuperblock::parse(&d).unwrap();
    assert_eq!((sb.s_start, sb.s_sequence), (0, 2 + 13));
}

#[test]
fn too_big_and_no_space() {
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let m: BTreeMap<u64, Vec<u8>> = (0..300u64).map(|i| (1000 + i, img(1))).collect();
    assert!(matches!(l.journal.commit(&m, &[], (0, 0)), Err(JbdError::TooBig { max: 256, .. })));
    // 200 images = 3 descriptors + 200 + commit = 204 blocks.
    let m = |k: u64| -> BTreeMap<u64, Vec<u8>> { (0..200u64).map(|i| (1000 + 200 * k + i, img(1))).collect() };
    for k in 0..5 {
        assert_eq!(l.journal.must_checkpoint_before_start(), k == 4);
        l.journal.commit(&m(k), &[], (0, 0)).unwrap();
    }
    assert_eq!(l.journal.free, 3);
    let before = l.journal.clone();
    assert_eq!(l.journal.commit(&m(5), &[], (0, 0)), Err(JbdError::NoSpace { needed: 205, left: 3 }));
    assert_eq!(l.journal, before, "a refused commit changes nothing");
    let (b, d) = l.journal.checkpoint_complete(2).unwrap();
    assert_eq!(b, JOFF);
    let sb = JournalSuperblock::parse(&d).unwrap();
    assert_eq!((sb.s_sequence, sb.s_start), (3, 205));
    assert!(l.journal.commit(&m(5), &[], (0, 0)).is_ok());
    // The log is full again until the next checkpoint.
    l.journal.commit(&m(5), &[], (0, 0)).unwrap_err();
    assert_eq!(l.journal.checkpoint.len(), 5);
}

#[test]
fn validation_errors() {
    let good = blank_sb(0).to_block(&vec![0u8; BS]);
    let size = JLEN as u64 * BS as u64;
    let err = |b: &[u8], bs: usize, size: u64| match journal_get_superblock(b, bs, size) {
        Err(JbdError::Fail { errno, msg }) => (errno, msg),
        other => panic!("{:?}", other.map(|_| ())),
    };
    let mut b = good.clone();
    b[0] = 0;
    assert_eq!(err(&b, BS, size), (Errno::EINVAL, "JBD2: no valid journal superblock found".into()));
    assert_eq!(err(&good[..], 2048, size * 2).1, "JBD2: no valid journal superblock found");
    let mut b = good.clone();
    put32(&mut b, 4, 5);
    assert_eq!(err(&b, BS, size).1, "JBD2: unrecognised superblock format ID");
    assert_eq!(err(&good, BS, size - BS as u64).1, "JBD2: journal file too short");
    let mut b = good.clone();
    put32(&mut b, 0x14, 0);
    assert_eq!(err(&b, BS, size).1, "JBD2: Invalid start block of journal: 0");
    let mut b = good.clone();
    put32(&mut b, 0x28, 0x18);
    assert_eq!(err(&b, BS, size).1, "JBD2: Can't enable checksumming v2 and v3 at the same time!");
    // Unknown incompat feature: EINVAL from jbd2_journal_load.
    let mut sb = blank_sb(0x40);
    sb.s_start = 0;
    let mut io = image(&sb);
    let jsb = read_jsb(&mut io);
    match jbd2_journal_load(jsb, &map(), &mut io) {
        Err(JbdError::Fail { errno, msg }) => {
            assert_eq!(errno, Errno::EINVAL);
            assert_eq!(msg, "JBD2: Unrecognised features on journal");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // A v1 superblock ignores feature words entirely.
    let mut sb = blank_sb(0x40);
    sb.s_header.h_blocktype = JBD2_SUPERBLOCK_V1;
    let mut io = image(&sb);
    let jsb = read_jsb(&mut io);
    assert!(jbd2_journal_load(jsb, &map(), &mut io).is_ok());
    // Inode larger than s_maxlen: j_maxlen is lowered.
    let jsb = journal_get_superblock(&good, BS, size * 2).unwrap();
    assert_eq!(jsb.maxlen, JLEN);
    assert_eq!(journal_error_report(-5).unwrap()[0], "Filesystem error recorded from previous mount: IO failure");
    assert_eq!(journal_error_report(-117).unwrap()[0], "Filesystem error recorded from previous mount: error 117");
    assert!(journal_error_report(0).is_none());
}

#[test]
fn abort_records_errno_and_wipe() {
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let p = l.journal.commit(&meta(&[(1300, img(1))]), &[], (0, 0)).unwrap();
    apply(&mut io, &p, true);
    let (b, d) = l.journal.abort(-5).unwrap();
    assert_eq!(JournalSuperblock::parse(&d).unwrap().s_errno, -5);
    io.write_meta(b, &d).unwrap();
    assert!(l.journal.abort(-30).is_none());
    assert_eq!(l.journal.journal_errno(), -30);
    assert!(matches!(l.journal.commit(&BTreeMap::new(), &[], (0, 0)), Err(JbdError::Fail { errno: Errno::EROFS, .. })));
    // Remount without RECOVER: the log is discarded, s_sequence unchanged.
    let jsb = read_jsb(&mut io);
    let w = jbd2_journal_wipe(jsb, &map(), &mut io, true).unwrap();
    assert_eq!(w.messages[0], "JBD2: Clearing recovery information on journal");
    let sb = JournalSuperblock::parse(w.sb_write.as_ref().unwrap()).unwrap();
    assert_eq!((sb.s_start, sb.s_sequence, sb.s_errno), (0, 2, -5));
    let mut l2 = jbd2_journal_load(w.jsb, &map(), &mut io).unwrap();
    assert!(l2.recovery.replay.is_empty());
    assert_eq!(l2.recovery.next_tid, 3);
    assert_eq!(l2.journal.errno, -5);
    let (_, d) = l2.journal.clear_err().unwrap();
    assert_eq!(JournalSuperblock::parse(&d).unwrap().s_errno, 0);
}

#[test]
fn checksummed_journals() {
    for inc in [JBD2_FEATURE_INCOMPAT_CSUM_V3, JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_64BIT] {
        let mut io = image(&blank_sb(inc));
        let mut l = load(&mut io);
        let m = meta(&[(1300, img(1)), (1301, img(2))]);
        let p = l.journal.commit(&m, &[1305], (0, 0)).unwrap();
        apply(&mut io, &p, true);
        let l2 = load(&mut io);
        assert_eq!(l2.recovery.replay, m);
        // A corrupted image fails recovery with EIO after replaying the rest.
        let (b, mut d) = p.log_writes[2].clone();
        d[100] ^= 1;
        io.write_meta(b, &d).unwrap();
        let jsb = read_jsb(&mut io);
        match jbd2_journal_load(jsb, &map(), &mut io) {
            Err(JbdError::RecoveryFailed { errno, recovery, .. }) => {
                assert_eq!(errno, Errno::EIO);
                assert_eq!(recovery.replay.len(), 1);
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
    // A bad superblock checksum is EINVAL.
    let mut io = image(&blank_sb(JBD2_FEATURE_INCOMPAT_CSUM_V3));
    let mut b0 = io.read(JOFF).unwrap();
    b0[0x1C] ^= 1;
    assert!(matches!(journal_get_superblock(&b0, BS, JLEN as u64 * BS as u64), Err(JbdError::Fail { errno: Errno::EINVAL, .. })));
}

#[test]
fn compat_checksum_v1() {
    let mut io = image(&{
        let mut sb = blank_sb(0);
        sb.s_feature_compat = JBD2_FEATURE_COMPAT_CHECKSUM;
        sb
    });
    let mut l = load(&mut io);
    let m = meta(&[(1300, img(1))]);
    let p = l.journal.commit(&m, &[], (0, 0)).unwrap();
    assert_eq!(p.commit_block.1[0x0C], JBD2_CRC32_CHKSUM);
    apply(&mut io, &p, true);
    assert_eq!(load(&mut io).recovery.replay, m);
    // Corrupt the image: the commit checksum fails → "transaction is corrupt", EIO.
    let (b, mut d) = p.log_writes[1].clone();
    d[7] ^= 1;
    io.write_meta(b, &d).unwrap();
    let jsb = read_jsb(&mut io);
    match jbd2_journal_load(jsb, &map(), &mut io) {
        Err(JbdError::Fail { errno, msg }) => {
            assert_eq!(errno, Errno::EIO);
            assert!(msg.contains("journal transaction 2"), "{}", msg);
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn self_looping_log_terminates() {
    // A revoke block of the expected tid at every log position: Linux would spin
    // forever in PASS_SCAN; k43 stops with EIO.
    let mut sb = blank_sb(JBD2_FEATURE_INCOMPAT_REVOKE);
    sb.s_start = 1;
    sb.s_sequence = 7;
    let mut io = image(&sb);
    let fmt = TagFormat::of(&sb);
    let mut r = vec![0u8; BS];
    emit_revoke_block(&mut r, 7, &[1], &fmt, 0);
    for n in 1..JLEN as u64 {
        io.write_meta(JOFF + n, &r).unwrap();
    }
    let jsb = read_jsb(&mut io);
    let rec = jbd2_journal_recover(&jsb, &map(), &mut io).unwrap();
    assert_eq!(rec.err, Some(Errno::EIO));
}

/// Deterministic xorshift for the sweep.
fn rng(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn mutation_sweep_never_panics() {
    // A journal with a few transactions (revokes, escapes), then random byte mutations
    // of the superblock and the log; recovery must return (Ok or Err), never panic.
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let mut magic = img(9);
    magic[..4].copy_from_slice(&JBD2_MAGIC_NUMBER.to_be_bytes());
    for t in 0..4u8 {
        let m = meta(&[(1300 + t as u64, img(t)), (1310, magic.clone())]);
        let p = l.journal.commit(&m, &[1300 + t as u64 + 1], (0, 0)).unwrap();
        apply(&mut io, &p, t != 3);
    }
    let base = io.image.clone();
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let jstart = JOFF as usize * BS;
    let hot = 16 * BS; // superblock and the first log blocks
    for round in 0..400 {
        let mut m = ImageIo::new(base.clone(), BS);
        let n = 1 + rng(&mut seed) % 8;
        for _ in 0..n {
            let r = rng(&mut seed);
            let off = jstart + (r as usize >> 8) % hot;
            // Bias towards header fields and small interesting values.
            let v = match r % 4 {
                0 => (r >> 40) as u8,
                1 => 0,
                2 => 0xFF,
                _ => (r >> 48) as u8 & 0x1F,
            };
            m.image[off] = v;
        }
        let mp = if round % 10 == 0 { map()[..(rng(&mut seed) % JLEN as u64) as usize].to_vec() } else { map() };
        if let Ok(b0) = m.read(JOFF) {
            if let Ok(jsb) = journal_get_superblock(&b0, BS, JLEN as u64 * BS as u64) {
                let _ = jbd2_journal_load(jsb.clone(), &mp, &mut m);
                let _ = jbd2_journal_wipe(jsb, &mp, &mut m, true);
            }
        }
    }
}

#[test]
fn need_is_propagated() {
    // A BlockIo that does not have the journal blocks in memory.
    struct Cold(ImageIo, u64);
    impl BlockIo for Cold {
        fn block_size(&self) -> usize {
            BS
        }
        fn read(&mut self, blk: u64) -> crate::fs::buffer::FsResult<Vec<u8>> {
            if blk > self.1 {
                return Err(crate::fs::buffer::FsError::Need(blk));
            }
            self.0.read(blk)
        }
        fn write_meta(&mut self, _: u64, _: &[u8]) -> crate::fs::buffer::FsResult<()> {
            Ok(())
        }
        fn write_data(&mut self, _: u64, _: &[u8]) -> crate::fs::buffer::FsResult<()> {
            Ok(())
        }
        fn forget(&mut self, _: u64, _: bool) {}
        fn busy(&self, _: u64) -> bool {
            false
        }
    }
    let mut io = image(&blank_sb(0));
    let mut l = load(&mut io);
    let p = l.journal.commit(&meta(&[(1300, img(1))]), &[], (0, 0)).unwrap();
    apply(&mut io, &p, true);
    let jsb = read_jsb(&mut io);
    let mut cold = Cold(io, JOFF);
    let mut needs = 0;
    loop {
        match jbd2_journal_recover(&jsb, &map(), &mut cold) {
            Err(JbdError::Need(b)) => {
                cold.1 = b;
                needs += 1;
            }
            Ok(r) => {
                assert_eq!(r.replay, meta(&[(1300, img(1))]));
                break;
            }
            Err(e) => panic!("{:?}", e),
        }
    }
    // desc, commit (the image is skipped by SCAN), the end-of-log block
    assert_eq!(needs, 3);
}
