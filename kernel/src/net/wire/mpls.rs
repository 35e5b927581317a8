//! MPLS label stack entries (RFC 3032 §2.1): a 32-bit word of label (20 bits), Traffic
//! Class (3, RFC 5462), bottom-of-stack S (1) and TTL (8), stacked until the entry with
//! S set, after which the payload starts. Linux 4.3's `net/mpls` reads and writes them
//! with `mpls_entry_decode` / `mpls_entry_encode`.

use super::{Result, WireError};

/// A 20-bit MPLS label. Only [`Label::new`] makes one from a number, so a label that
/// does not fit its field cannot exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(u32);

impl Label {
    /// IPv4 Explicit NULL (RFC 3032 §2.1, `MPLS_LABEL_IPV4NULL`).
    pub const IPV4_EXPLICIT_NULL: Label = Label(0);
    /// Router Alert (RFC 3032 §2.1, `MPLS_LABEL_RTALERT`).
    pub const ROUTER_ALERT: Label = Label(1);
    /// IPv6 Explicit NULL (RFC 3032 §2.1, `MPLS_LABEL_IPV6NULL`).
    pub const IPV6_EXPLICIT_NULL: Label = Label(2);
    /// Implicit NULL (RFC 3032 §2.1, `MPLS_LABEL_IMPLNULL`): signalled, never on the wire.
    pub const IMPLICIT_NULL: Label = Label(3);
    /// Entropy Label Indicator (RFC 6790, `MPLS_LABEL_ENTROPY`).
    pub const ENTROPY_LABEL_INDICATOR: Label = Label(7);
    /// Generic Associated Channel Label (RFC 5586, `MPLS_LABEL_GAL`).
    pub const GAL: Label = Label(13);
    /// OAM Alert (RFC 3429, `MPLS_LABEL_OAMALERT`).
    pub const OAM_ALERT: Label = Label(14);
    /// Extension label (RFC 7274, `MPLS_LABEL_EXTENSION`).
    pub const EXTENSION: Label = Label(15);
    /// The first label outside the reserved range 0–15 (`MPLS_LABEL_FIRST_UNRESERVED`).
    pub const FIRST_UNRESERVED: u32 = 16;
    /// The largest label, 2^20 − 1.
    pub const MAX: u32 = (1 << 20) - 1;

    /// The label `v`, or `None` if it does not fit 20 bits.
    pub const fn new(v: u32) -> Option<Label> {
        if v <= Self::MAX {
            Some(Label(v))
        } else {
            None
        }
    }

    /// The label's number.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// Whether the label is one of the 16 special-purpose labels (RFC 3032 §2.1, RFC
    /// 7274); Linux will not add a route for one (`mpls_route_add`).
    pub const fn is_reserved(self) -> bool {
        self.0 < Self::FIRST_UNRESERVED
    }
}

/// One label stack entry as values (Linux's `struct mpls_entry_decoded`). Fields are
/// private so that the Traffic Class, like the label, always fits its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lse {
    label: Label,
    tc: u8,
    bos: bool,
    ttl: u8,
}

const LABEL_SHIFT: u32 = 12;
const TC_SHIFT: u32 = 9;
const S_BIT: u32 = 1 << 8;

/// Length of one label stack entry.
pub const LSE_LEN: usize = 4;

impl Lse {
    /// An entry, or `None` if `tc` does not fit 3 bits.
    pub const fn new(label: Label, tc: u8, bos: bool, ttl: u8) -> Option<Lse> {
        if tc <= 7 {
            Some(Lse { label, tc, bos, ttl })
        } else {
            None
        }
    }

    /// The entry a 32-bit word holds (`mpls_entry_decode`): every word is one.
    pub const fn from_u32(v: u32) -> Lse {
        Lse {
            label: Label(v >> LABEL_SHIFT),
            tc: ((v >> TC_SHIFT) & 7) as u8,
            bos: v & S_BIT != 0,
            ttl: v as u8,
        }
    }

    /// The entry as a 32-bit word (`mpls_entry_encode`).
    pub const fn to_u32(self) -> u32 {
        (self.label.0 << LABEL_SHIFT)
            | ((self.tc as u32) << TC_SHIFT)
            | if self.bos { S_BIT } else { 0 }
            | self.ttl as u32
    }

    /// The label.
    pub const fn label(self) -> Label {
        self.label
    }

    /// Traffic Class (RFC 5462; "EXP" in RFC 3032).
    pub const fn tc(self) -> u8 {
        self.tc
    }

    /// Bottom of stack.
    pub const fn bos(self) -> bool {
        self.bos
    }

    /// Time to Live.
    pub const fn ttl(self) -> u8 {
        self.ttl
    }

    /// The same entry with another TTL (`mpls_forward` decrements it).
    pub const fn with_ttl(self, ttl: u8) -> Lse {
        Lse { ttl, ..self }
    }

    /// The same entry with S set or clear.
    pub const fn with_bos(self, bos: bool) -> Lse {
        Lse { bos, ..self }
    }

    /// The first entry of a checked packet.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Lse> {
        packet.check_len()?;
        Ok(packet.entry())
    }

    /// An entry's length, 4.
    pub const fn header_len(&self) -> usize {
        LSE_LEN
    }

    /// An entry's length, 4: the payload is not the entry's.
    pub const fn buffer_len(&self) -> usize {
        LSE_LEN
    }

    /// Writes the entry into the first four bytes of `packet`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_entry(*self);
    }
}

/// A read/write view of the entry at the top of a label stack and what follows it
/// (the rest of the stack, or the payload if S is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it; accessors may panic if it is too short.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len), so no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// `Truncated` below four bytes (`mpls_forward`'s `pskb_may_pull`).
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < LSE_LEN {
            Err(WireError::Truncated)
        } else {
            Ok(())
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The first entry.
    pub fn entry(&self) -> Lse {
        let b = self.buffer.as_ref();
        Lse::from_u32(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The first entry's label.
    pub fn label(&self) -> Label {
        self.entry().label()
    }

    /// The first entry's Traffic Class.
    pub fn tc(&self) -> u8 {
        self.entry().tc()
    }

    /// The first entry's S bit.
    pub fn bottom_of_stack(&self) -> bool {
        self.entry().bos()
    }

    /// The first entry's TTL.
    pub fn ttl(&self) -> u8 {
        self.entry().ttl()
    }

    /// Everything after the first entry.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[LSE_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Overwrites the first entry.
    pub fn set_entry(&mut self, e: Lse) {
        self.buffer.as_mut()[..LSE_LEN].copy_from_slice(&e.to_u32().to_be_bytes());
    }

    /// Sets the first entry's label.
    pub fn set_label(&mut self, label: Label) {
        let e = self.entry();
        self.set_entry(Lse { label, ..e });
    }

    /// Sets the first entry's S bit.
    pub fn set_bottom_of_stack(&mut self, bos: bool) {
        let e = self.entry();
        self.set_entry(e.with_bos(bos));
    }

    /// Sets the first entry's TTL.
    pub fn set_ttl(&mut self, ttl: u8) {
        let e = self.entry();
        self.set_entry(e.with_ttl(ttl));
    }

    /// Everything after the first entry, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[LSE_LEN..]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The entries of a label stack, top first, ending after the entry with S set. If the
/// buffer ends first the last item is `Err(Truncated)`. [`rest`](Self::rest) is then the
/// payload.
#[derive(Clone, Debug)]
pub struct LabelStack<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> LabelStack<'a> {
    /// The stack at the start of `buf`.
    pub const fn new(buf: &'a [u8]) -> LabelStack<'a> {
        LabelStack { rest: buf, done: false }
    }

    /// The bytes after the entries read so far: once the bottom entry has been read, the
    /// payload (an IPv4 or IPv6 packet, which Linux tells apart by its version nibble).
    pub const fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

impl Iterator for LabelStack<'_> {
    type Item = Result<Lse>;

    fn next(&mut self) -> Option<Result<Lse>> {
        if self.done {
            return None;
        }
        let Some((w, rest)) = self.rest.split_first_chunk::<LSE_LEN>() else {
            self.done = true;
            return Some(Err(WireError::Truncated));
        };
        let e = Lse::from_u32(u32::from_be_bytes(*w));
        self.rest = rest;
        self.done = e.bos();
        Some(Ok(e))
    }
}

/// Bytes a stack of `entries` entries takes.
pub const fn stack_len(entries: usize) -> usize {
    entries * LSE_LEN
}

/// Writes `entries` top first at the start of `buf`, returning the bytes written. The
/// entries' own S bits are ignored: S is set on the last entry if `bos`, and clear
/// everywhere else. Pass `bos = false` to push on top of entries already in the packet,
/// as `mpls_forward` does when the label it swapped was not the bottom one.
/// `Truncated` (nothing written) if `buf` is too short.
pub fn emit_stack(entries: &[Lse], bos: bool, buf: &mut [u8]) -> Result<usize> {
    let len = stack_len(entries.len());
    let out = buf.get_mut(..len).ok_or(WireError::Truncated)?;
    let last = entries.len().wrapping_sub(1);
    for (i, (e, w)) in entries.iter().zip(out.chunks_exact_mut(LSE_LEN)).enumerate() {
        w.copy_from_slice(&e.with_bos(bos && i == last).to_u32().to_be_bytes());
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Two entries, label 16 then label 100 (S set), TTL 255, TC 0 and 2, over an IPv4
    /// header's first bytes.
    const STACK: [u8; 12] = [0x00, 0x01, 0x00, 0xff, 0x00, 0x06, 0x45, 0xff, 0x45, 0x00, 0x00, 0x54];

    fn lse(label: u32, tc: u8, bos: bool, ttl: u8) -> Lse {
        Lse::new(Label::new(label).unwrap(), tc, bos, ttl).unwrap()
    }

    #[test]
    fn two_label_stack() {
        let mut it = LabelStack::new(&STACK);
        assert_eq!(it.next(), Some(Ok(lse(16, 0, false, 255))));
        assert_eq!(it.next(), Some(Ok(lse(100, 2, true, 255))));
        assert_eq!(it.next(), None);
        assert_eq!(it.rest(), &STACK[8..]);
        let p = Packet::new_checked(&STACK[..]).unwrap();
        assert_eq!((p.label().value(), p.tc(), p.bottom_of_stack(), p.ttl()), (16, 0, false, 255));
        assert_eq!(Lse::parse(&Packet::new_checked(p.payload()).unwrap()), Ok(lse(100, 2, true, 255)));
    }

    #[test]
    fn emit_sets_s_on_the_last_only() {
        let mut buf = [0u8; 12];
        buf[8..].copy_from_slice(&STACK[8..]);
        // S bits given the wrong way round are corrected.
        let entries = [lse(16, 0, true, 255), lse(100, 2, false, 255)];
        assert_eq!(emit_stack(&entries, true, &mut buf), Ok(8));
        assert_eq!(buf, STACK);
        assert_eq!(emit_stack(&entries, false, &mut buf), Ok(8));
        assert_eq!(buf[6], 0x44);
        assert_eq!(emit_stack(&entries, true, &mut buf[..7]), Err(WireError::Truncated));
        assert_eq!(emit_stack(&[], true, &mut buf), Ok(0));
        let got: Vec<_> = LabelStack::new(&STACK).collect::<Result<_>>().unwrap();
        let mut out = [0u8; 8];
        emit_stack(&got, true, &mut out).unwrap();
        assert_eq!(out, STACK[..8]);
    }

    #[test]
    fn single_entry_packet_round_trip() {
        let mut b = [0u8; 6];
        let mut p = Packet::new_unchecked(&mut b[..]);
        lse(Label::MAX, 7, true, 1).emit(&mut p);
        assert_eq!(p.as_ref()[..4], [0xff, 0xff, 0xff, 0x01]);
        p.set_ttl(64);
        p.set_label(Label::IPV6_EXPLICIT_NULL);
        p.set_bottom_of_stack(false);
        p.payload_mut().copy_from_slice(&[0x60, 0x00]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Lse::parse(&p), Ok(lse(2, 7, false, 64)));
        assert_eq!(p.payload(), &[0x60, 0x00]);
        assert!(Label::IPV6_EXPLICIT_NULL.is_reserved() && !Label::new(16).unwrap().is_reserved());
    }

    #[test]
    fn out_of_range_fields_cannot_be_built() {
        assert_eq!(Label::new(1 << 20), None);
        assert_eq!(Label::new(Label::MAX).map(Label::value), Some(0xfffff));
        assert_eq!(Lse::new(Label::ROUTER_ALERT, 8, true, 1), None);
        let e = Lse::from_u32(0xffff_ffff);
        assert_eq!((e.label().value(), e.tc(), e.bos(), e.ttl()), (0xfffff, 7, true, 255));
        assert_eq!(e.to_u32(), 0xffff_ffff);
    }

    #[test]
    fn stack_without_bottom_is_truncated() {
        let b = [0x00, 0x01, 0x00, 0xff, 0x00, 0x06, 0x44, 0xff, 0x45];
        let items: Vec<_> = LabelStack::new(&b).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[2], Err(WireError::Truncated));
        assert_eq!(LabelStack::new(&[]).collect::<Vec<_>>(), [Err(WireError::Truncated)]);
    }

    #[test]
    fn prefixes_and_noise_never_panic() {
        for n in 0..=STACK.len() {
            let items: Vec<_> = LabelStack::new(&STACK[..n]).collect();
            assert_eq!(items.iter().all(|r| r.is_ok()), n >= 8);
            assert_eq!(Packet::new_checked(&STACK[..n]).and_then(|p| Lse::parse(&p)).is_ok(), n >= 4);
        }
        let mut x = 0x6a09_e667_f3bc_c908u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 64];
        for _ in 0..4000 {
            let n = (next() % 65) as usize;
            buf.iter_mut().for_each(|b| *b = next() as u8);
            // Make S rare so that long stacks and truncation both happen.
            for w in buf.chunks_exact_mut(4) {
                if next() % 8 != 0 {
                    w[2] &= !1;
                }
            }
            let mut it = LabelStack::new(&buf[..n]);
            let mut count = 0;
            for r in it.by_ref() {
                count += 1;
                assert!(count <= n / 4 + 1);
                if let Ok(e) = r {
                    assert_eq!(Lse::from_u32(e.to_u32()), e);
                }
            }
            assert!(it.rest().len() <= n);
            if let Ok(p) = Packet::new_checked(&buf[..n]) {
                let _ = (p.entry(), p.payload().len());
            }
        }
    }
}
