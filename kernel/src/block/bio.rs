//! `struct bio` as 4.3 completes it: `bi_error` is the only error path (no up-to-date
//! flag, no error argument to `bi_end_io`), `bio_chain` makes a child's completion count
//! against its parent, and `bio_endio` walks up the chain iteratively.
//!
//! Bios live in a [`BioSet`] and are named by [`BioId`]; a chained child is freed when it
//! completes, as its reference is dropped in `bio_endio`. The parent's own callback is
//! recorded ([`Bio::endio_calls`]) so callers and tests can see it ran exactly once.
//!
//! Error propagation from a child to its parent: 4.3 copies the child's status
//! unconditionally ("last writer wins", so a later success hides an earlier failure);
//! upstream fixed it with af3e3a5259e35 ("block: don't unecessarily clobber bi_error
//! for chained bios", after 4.4): only a failing child writes, and only if the parent has
//! no error yet ("first error wins"). The fix is the default; [`ChainErrorRule::Linux43`]
//! keeps 4.3's behaviour.

use super::remaining::Remaining;
use super::SECTOR_SHIFT;
use crate::uapi::Errno;
use alloc::vec::Vec;

/// A bio's index in its [`BioSet`].
pub type BioId = usize;

/// What a bio asks of the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BioOp {
    /// `READ`.
    Read,
    /// `WRITE`.
    Write,
    /// `WRITE | REQ_DISCARD`, with `REQ_SECURE` when `secure`.
    Discard {
        /// `BLKDEV_DISCARD_SECURE`.
        secure: bool,
    },
}

/// Who hears of a bio's completion (`bi_end_io` with `bi_private`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndIo {
    /// No callback: completion is recorded only.
    None,
    /// `bio_chain_endio`: the parent named here completes one part.
    Chain(BioId),
    /// The submitter's own callback.
    Owner,
}

/// How a completing child's status reaches its parent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChainErrorRule {
    /// After af3e3a5259e35: the first failure sticks.
    #[default]
    FirstErrorWins,
    /// Linux 4.3 (bug compatibility): every child copies its status, 0 included.
    Linux43,
}

/// A bio.
#[derive(Debug)]
pub struct Bio {
    /// `bi_iter.bi_sector`: the first 512-byte sector.
    pub sector: u64,
    /// `bi_iter.bi_size`: bytes.
    pub size: u32,
    /// The operation.
    pub op: BioOp,
    /// `bi_error`: 0 or a negative errno.
    pub bi_error: i32,
    /// `bi_end_io` / `bi_private`.
    pub end_io: EndIo,
    /// `BIO_CHAIN`: completions are counted.
    pub chained: bool,
    /// `__bi_remaining`.
    pub remaining: Remaining,
    /// Times the owner's callback ran (must end at exactly 1).
    pub endio_calls: u32,
}

impl Bio {
    /// `bio_sectors`.
    pub fn sectors(&self) -> u64 {
        u64::from(self.size) >> SECTOR_SHIFT
    }
}

/// Why a chain or split request is a caller bug (Linux `BUG()`s; k43 refuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BioBug {
    /// No such bio.
    NoSuchBio,
    /// `bio_chain` of a child that already has `bi_end_io`/`bi_private`.
    ChildHasEndIo,
    /// `bio_split` outside `0 < sectors < bio_sectors(bio)`.
    BadSplit,
    /// `bio_endio` of a bio whose remaining count is already 0.
    Underflow,
}

/// The bios in flight (`bio_set` plus the slab behind it).
#[derive(Debug, Default)]
pub struct BioSet {
    bios: Vec<Option<Bio>>,
    /// Free slots, reused last-freed first.
    free: Vec<BioId>,
    /// The child-to-parent error rule.
    pub rule: ChainErrorRule,
}

impl BioSet {
    /// An empty set using `rule`.
    pub fn new(rule: ChainErrorRule) -> BioSet {
        BioSet { bios: Vec::new(), free: Vec::new(), rule }
    }

    /// `bio_alloc` + `bio_init`: `sectors` from `sector`, remaining 1, no error.
    pub fn alloc(&mut self, op: BioOp, sector: u64, sectors: u64, end_io: EndIo) -> BioId {
        let bio = Bio {
            sector,
            size: (sectors << SECTOR_SHIFT).min(u64::from(u32::MAX)) as u32,
            op,
            bi_error: 0,
            end_io,
            chained: false,
            remaining: Remaining::default(),
            endio_calls: 0,
        };
        match self.free.pop() {
            Some(i) => {
                self.bios[i] = Some(bio);
                i
            }
            None => {
                self.bios.push(Some(bio));
                self.bios.len() - 1
            }
        }
    }

    /// The bio `id`, while it exists.
    pub fn get(&self, id: BioId) -> Option<&Bio> {
        self.bios.get(id)?.as_ref()
    }

    fn get_mut(&mut self, id: BioId) -> Result<&mut Bio, BioBug> {
        self.bios.get_mut(id).and_then(Option::as_mut).ok_or(BioBug::NoSuchBio)
    }

    /// `bio_put` of a bio nobody needs any more.
    pub fn free(&mut self, id: BioId) {
        if let Some(slot) = self.bios.get_mut(id) {
            if slot.take().is_some() {
                self.free.push(id);
            }
        }
    }

    /// Sets `bi_error` of `id` (a driver finishing it with a failure).
    pub fn set_error(&mut self, id: BioId, err: i32) {
        if let Ok(b) = self.get_mut(id) {
            b.bi_error = err;
        }
    }

    /// Bios still allocated.
    pub fn in_flight(&self) -> usize {
        self.bios.len() - self.free.len()
    }

    /// `bio_chain(child, parent)`: the child's completion becomes one of the parent's
    /// (`BIO_CHAIN` on the parent, its remaining count up by one).
    pub fn bio_chain(&mut self, child: BioId, parent: BioId) -> Result<(), BioBug> {
        self.get_mut(parent)?;
        let c = self.get_mut(child)?;
        if c.end_io != EndIo::None {
            return Err(BioBug::ChildHasEndIo);
        }
        c.end_io = EndIo::Chain(parent);
        let p = self.get_mut(parent)?;
        p.chained = true;
        p.remaining.inc();
        Ok(())
    }

    /// `bio_io_error`: `bi_error = -EIO`, then [`bio_endio`](Self::bio_endio).
    pub fn bio_io_error(&mut self, id: BioId) -> Result<(), BioBug> {
        self.get_mut(id)?.bi_error = Errno::EIO.ret() as i32;
        self.bio_endio(id)
    }

    /// `bio_endio`: counts one completion of `id`; when none is outstanding, a chained
    /// child hands its status to its parent (by [`BioSet::rule`]), is freed, and the
    /// parent is completed in turn (a loop, not recursion, as 4.3 does); the owner's
    /// callback is recorded when reached.
    pub fn bio_endio(&mut self, id: BioId) -> Result<(), BioBug> {
        let mut cur = id;
        loop {
            let rule = self.rule;
            let b = self.get_mut(cur)?;
            if b.chained {
                if b.remaining.get() <= 0 {
                    return Err(BioBug::Underflow);
                }
                if !b.remaining.dec_and_test() {
                    return Ok(());
                }
                b.chained = false;
            }
            match b.end_io {
                EndIo::Chain(parent) => {
                    let status = b.bi_error;
                    self.free(cur);
                    let p = self.get_mut(parent)?;
                    match rule {
                        ChainErrorRule::Linux43 => p.bi_error = status,
                        ChainErrorRule::FirstErrorWins => {
                            if status != 0 && p.bi_error == 0 {
                                p.bi_error = status;
                            }
                        }
                    }
                    cur = parent;
                }
                EndIo::Owner | EndIo::None => {
                    b.endio_calls += 1;
                    return Ok(());
                }
            }
        }
    }

    /// `bio_split(bio, sectors)`: a new bio for the first `sectors` sectors; the
    /// original moves past them. Not chained (the caller chains).
    pub fn bio_split(&mut self, id: BioId, sectors: u64) -> Result<BioId, BioBug> {
        let b = self.get_mut(id)?;
        if sectors == 0 || sectors >= b.sectors() {
            return Err(BioBug::BadSplit);
        }
        let (op, start) = (b.op, b.sector);
        b.sector += sectors;
        b.size -= (sectors << SECTOR_SHIFT) as u32;
        Ok(self.alloc(op, start, sectors, EndIo::None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parent split twice, its two children ending in `order` with `status`; then the
    /// parent's own part ends with `own`. Returns the parent's final `bi_error` and how
    /// often its callback ran.
    fn run(rule: ChainErrorRule, children: [i32; 2], order: [usize; 3], own: i32) -> (i32, u32) {
        let mut s = BioSet::new(rule);
        let p = s.alloc(BioOp::Write, 0, 24, EndIo::Owner);
        let a = s.bio_split(p, 8).unwrap();
        s.bio_chain(a, p).unwrap();
        let b = s.bio_split(p, 8).unwrap();
        s.bio_chain(b, p).unwrap();
        for who in order {
            match who {
                0 | 1 => {
                    let id = [a, b][who];
                    s.get_mut(id).unwrap().bi_error = children[who];
                    s.bio_endio(id).unwrap();
                }
                _ => {
                    if own != 0 {
                        s.get_mut(p).unwrap().bi_error = own;
                    }
                    s.bio_endio(p).unwrap();
                }
            }
        }
        let pb = s.get(p).unwrap();
        assert_eq!(s.in_flight(), 1, "children are freed as they complete");
        (pb.bi_error, pb.endio_calls)
    }

    const EIO: i32 = -5;
    const ENOSPC: i32 = -28;

    /// The spec's §3.4 examples under both rules; the parent completes exactly once
    /// whatever the order.
    #[test]
    fn chained_errors_last_writer_vs_first_error() {
        use ChainErrorRule::*;
        // A (-EIO), B (0), P (ok).
        assert_eq!(run(Linux43, [EIO, 0], [0, 1, 2], 0), (0, 1));
        assert_eq!(run(FirstErrorWins, [EIO, 0], [0, 1, 2], 0), (EIO, 1));
        // B (0), A (-EIO), P (ok).
        assert_eq!(run(Linux43, [EIO, 0], [1, 0, 2], 0), (EIO, 1));
        assert_eq!(run(FirstErrorWins, [EIO, 0], [1, 0, 2], 0), (EIO, 1));
        // A (-EIO), P (driver error), B (0).
        assert_eq!(run(Linux43, [EIO, 0], [0, 2, 1], ENOSPC), (0, 1));
        // (The driver's own failure overwrites, as drivers set bi_error; B's success
        // then clobbers it only under 4.3's rule.)
        assert_eq!(run(FirstErrorWins, [EIO, 0], [0, 2, 1], ENOSPC), (ENOSPC, 1));
        // Every order completes the parent once, after the last part.
        for order in [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            assert_eq!(run(FirstErrorWins, [0, 0], order, 0), (0, 1));
        }
    }

    #[test]
    fn split_and_chain_refuse_bugs() {
        let mut s = BioSet::default();
        let p = s.alloc(BioOp::Read, 100, 8, EndIo::Owner);
        assert_eq!(s.bio_split(p, 0), Err(BioBug::BadSplit));
        assert_eq!(s.bio_split(p, 8), Err(BioBug::BadSplit));
        let c = s.bio_split(p, 3).unwrap();
        assert_eq!((s.get(c).unwrap().sector, s.get(c).unwrap().sectors()), (100, 3));
        assert_eq!((s.get(p).unwrap().sector, s.get(p).unwrap().sectors()), (103, 5));
        let owned = s.alloc(BioOp::Read, 0, 1, EndIo::Owner);
        assert_eq!(s.bio_chain(owned, p), Err(BioBug::ChildHasEndIo));
        assert_eq!(s.bio_chain(c, 999), Err(BioBug::NoSuchBio));
        s.bio_io_error(p).unwrap();
        assert_eq!((s.get(p).unwrap().bi_error, s.get(p).unwrap().endio_calls), (EIO, 1));
    }
}
