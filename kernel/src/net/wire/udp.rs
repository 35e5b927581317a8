//! UDP (RFC 768): ports, length, checksum over the IPv4 or IPv6 pseudo-header, then data.
//!
//! The two families differ, and Linux 4.3 follows each: over IPv4 a zero checksum means
//! "none" and a Length of 0 is short (`__udp4_lib_rcv`); over IPv6 the checksum is
//! mandatory (RFC 8200 §8.1) and a Length of 0 means "the rest of the IPv6 payload"
//! (`__udp6_lib_rcv`, the jumbogram rule of RFC 2675).

use super::checksum;
use super::{ip_proto, Ipv4Addr, Ipv6Addr, Result, WireError};

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// Length of the UDP header (`sizeof(struct udphdr)`).
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// The addresses of the IP header a datagram travels in: they make the checksum's
/// pseudo-header, and the family picks the rules above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpAddrs {
    /// Carried in IPv4.
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// Carried in IPv6; `dst` is the final destination.
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Final destination address.
        dst: Ipv6Addr,
    },
}

/// A read/write view of a UDP datagram (the IP payload, which may run past the Length
/// field: the view stops at Length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checking it; accessors may panic if it is too short.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a datagram that came in IPv4 after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Wraps a datagram that came in IPv6 after [`check_len_v6`](Self::check_len_v6).
    pub fn new_checked_v6(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len_v6()?;
        Ok(p)
    }

    /// `__udp4_lib_rcv`'s "short packet" checks: the 8-byte header must be there
    /// (`Truncated`), Length must not exceed the buffer (`Truncated`) nor be below 8
    /// (`Malformed`, a Length of 0 included). Linux counts all three as `InErrors`.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || usize::from(self.length()) > len {
            Err(WireError::Truncated)
        } else if usize::from(self.length()) < HEADER_LEN {
            Err(WireError::Malformed)
        } else {
            Ok(())
        }
    }

    /// `__udp6_lib_rcv`'s checks: as [`check_len`](Self::check_len), except that a
    /// Length of 0 stands for the whole buffer.
    pub fn check_len_v6(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || usize::from(self.length()) > len {
            Err(WireError::Truncated)
        } else if self.length() != 0 && usize::from(self.length()) < HEADER_LEN {
            Err(WireError::Malformed)
        } else {
            Ok(())
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// The Length field as sent: header plus data, or 0 (IPv6 only, see
    /// [`datagram_len`](Self::datagram_len)).
    pub fn length(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The datagram's length, header included: Length, or the whole buffer when Length
    /// is 0. Bytes past it are not part of the datagram: Linux trims them
    /// (`pskb_trim_rcsum`) and the checksum does not cover them.
    pub fn datagram_len(&self) -> usize {
        match self.length() {
            0 => self.buffer.as_ref().len(),
            l => usize::from(l),
        }
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The data after the header, up to [`datagram_len`](Self::datagram_len).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.datagram_len()]
    }

    fn sum_v4(&self, src: &Ipv4Addr, dst: &Ipv4Addr) -> u32 {
        let d = &self.buffer.as_ref()[..self.datagram_len()];
        // A datagram of more than 65535 bytes cannot be carried in IPv4.
        let len = u16::try_from(d.len()).unwrap_or(u16::MAX);
        checksum::combine(&[checksum::pseudo_header_v4(src, dst, ip_proto::UDP, len), checksum::sum(d)])
    }

    fn sum_v6(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> u32 {
        let d = &self.buffer.as_ref()[..self.datagram_len()];
        let len = u32::try_from(d.len()).unwrap_or(u32::MAX);
        checksum::combine(&[checksum::pseudo_header_v6(src, dst, ip_proto::UDP, len), checksum::sum(d)])
    }

    /// Whether the checksum verifies over IPv4. A zero field means the sender computed
    /// none (RFC 768) and passes, as `udp4_csum_init` marks it `CHECKSUM_UNNECESSARY`.
    pub fn verify_checksum_v4(&self, src: &Ipv4Addr, dst: &Ipv4Addr) -> bool {
        self.checksum() == 0 || checksum::fold(self.sum_v4(src, dst)) == 0
    }

    /// Whether the checksum verifies over IPv6. A zero field fails: the checksum is
    /// mandatory (RFC 8200 §8.1) and Linux drops such a datagram as a checksum error
    /// unless the socket set `UDP_NO_CHECK6_RX` (RFC 6936), which the stack asks by
    /// reading [`checksum`](Self::checksum) itself.
    pub fn verify_checksum_v6(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        self.checksum() != 0 && checksum::fold(self.sum_v6(src, dst)) == 0
    }

    /// [`verify_checksum_v4`](Self::verify_checksum_v4) or
    /// [`verify_checksum_v6`](Self::verify_checksum_v6) by family.
    pub fn verify_checksum(&self, addrs: &IpAddrs) -> bool {
        match addrs {
            IpAddrs::V4 { src, dst } => self.verify_checksum_v4(src, dst),
            IpAddrs::V6 { src, dst } => self.verify_checksum_v6(src, dst),
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the Length field.
    pub fn set_length(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the checksum field (0 sends none: `SO_NO_CHECK`, `UDP_NO_CHECK6_TX`).
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// A computed 0 goes out as 0xffff, since 0 would read as "no checksum" (RFC 768,
    /// Linux's `CSUM_MANGLED_0`).
    fn store(&mut self, c: u16) {
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }

    /// Computes and stores the checksum over the IPv4 pseudo-header and the datagram.
    pub fn fill_checksum_v4(&mut self, src: &Ipv4Addr, dst: &Ipv4Addr) {
        self.set_checksum(0);
        let c = checksum::fold(self.sum_v4(src, dst));
        self.store(c);
    }

    /// Computes and stores the checksum over the IPv6 pseudo-header and the datagram.
    pub fn fill_checksum_v6(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let c = checksum::fold(self.sum_v6(src, dst));
        self.store(c);
    }

    /// [`fill_checksum_v4`](Self::fill_checksum_v4) or
    /// [`fill_checksum_v6`](Self::fill_checksum_v6) by family.
    pub fn fill_checksum(&mut self, addrs: &IpAddrs) {
        match addrs {
            IpAddrs::V4 { src, dst } => self.fill_checksum_v4(src, dst),
            IpAddrs::V6 { src, dst } => self.fill_checksum_v6(src, dst),
        }
    }

    /// The data after the header, up to the datagram's length, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.datagram_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A UDP header as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Bytes of data after the header.
    pub payload_len: usize,
}

impl Repr {
    /// The header as values: `Checksum` unless the checksum verifies for the family
    /// (`__udp4_lib_rcv`/`__udp6_lib_rcv` count `InCsumErrors` and `InErrors`). Over
    /// IPv6 the packet should come from [`Packet::new_checked_v6`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, addrs: &IpAddrs) -> Result<Repr> {
        match addrs {
            IpAddrs::V4 { .. } => packet.check_len()?,
            IpAddrs::V6 { .. } => packet.check_len_v6()?,
        }
        if !packet.verify_checksum(addrs) {
            return Err(WireError::Checksum);
        }
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: packet.datagram_len() - HEADER_LEN,
        })
    }

    /// The header's length, 8.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus data.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header and fills the checksum. The data must already be in place in
    /// the `payload_len` bytes after the header, since the checksum covers it; the
    /// datagram must fit the 16-bit Length.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>, addrs: &IpAddrs) {
        debug_assert!(self.payload_len <= usize::from(u16::MAX) - HEADER_LEN);
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_length((HEADER_LEN + self.payload_len) as u16);
        packet.fill_checksum(addrs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: IpAddrs = IpAddrs::V4 { src: Ipv4Addr::new(10, 0, 2, 15), dst: Ipv4Addr::new(10, 0, 2, 3) };
    /// 10.0.2.15:41000 → 10.0.2.3:53, "k43 udp test\n", checksum 0xd1a1.
    const UDP4: [u8; 21] = [
        0xa0, 0x28, 0x00, 0x35, 0x00, 0x15, 0xd1, 0xa1, b'k', b'4', b'3', b' ', b'u', b'd', b'p', b' ', b't',
        b'e', b's', b't', b'\n',
    ];

    fn v6() -> IpAddrs {
        IpAddrs::V6 { src: "fe80::5054:ff:fe12:3456".parse().unwrap(), dst: "ff02::fb".parse().unwrap() }
    }
    /// [fe80::5054:ff:fe12:3456]:5353 → [ff02::fb]:5353, the same data, checksum 0xde03.
    const UDP6: [u8; 21] = [
        0x14, 0xe9, 0x14, 0xe9, 0x00, 0x15, 0xde, 0x03, b'k', b'4', b'3', b' ', b'u', b'd', b'p', b' ', b't',
        b'e', b's', b't', b'\n',
    ];

    #[test]
    fn known_checksums() {
        let p = Packet::new_checked(&UDP4[..]).unwrap();
        assert_eq!(Repr::parse(&p, &V4).unwrap(), Repr { src_port: 41000, dst_port: 53, payload_len: 13 });
        assert_eq!(p.payload(), b"k43 udp test\n");
        let p = Packet::new_checked_v6(&UDP6[..]).unwrap();
        assert_eq!(Repr::parse(&p, &v6()).unwrap(), Repr { src_port: 5353, dst_port: 5353, payload_len: 13 });
        // The same bytes under the other family's pseudo-header do not verify.
        assert_eq!(Repr::parse(&p, &V4), Err(WireError::Checksum));
        for (bytes, addrs) in [(UDP4, V4), (UDP6, v6())] {
            let r = Repr::parse(&Packet::new_checked_v6(&bytes[..]).unwrap(), &addrs).unwrap();
            let mut out = [0u8; 21];
            out[8..].copy_from_slice(&bytes[8..]);
            r.emit(&mut Packet::new_unchecked(&mut out[..]), &addrs);
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn zero_checksum_by_family() {
        let mut b = UDP4;
        b[6] = 0;
        b[7] = 0;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum_v4(&Ipv4Addr::new(1, 2, 3, 4), &Ipv4Addr::new(5, 6, 7, 8)));
        assert!(Repr::parse(&p, &V4).is_ok());
        let mut b = UDP6;
        b[6] = 0;
        b[7] = 0;
        let p = Packet::new_checked_v6(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p, &v6()), Err(WireError::Checksum));
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Choose the data word so that the sum is 0xffff and the checksum 0.
        let mut b = [0u8; 10];
        b[..6].copy_from_slice(&[0x00, 0x01, 0x00, 0x02, 0x00, 0x0a]);
        let IpAddrs::V4 { src, dst } = V4 else { unreachable!() };
        let partial = checksum::combine(&[
            checksum::pseudo_header_v4(&src, &dst, ip_proto::UDP, 10),
            checksum::sum(&b),
        ]);
        b[8..].copy_from_slice(&(!(partial as u16)).to_be_bytes());
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum_v4(&src, &dst);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum_v4(&src, &dst));
    }

    #[test]
    fn lengths() {
        let check4 = |b: &[u8]| Packet::new_checked(b).map(|_| ());
        let check6 = |b: &[u8]| Packet::new_checked_v6(b).map(|_| ());
        assert_eq!(check4(&UDP4[..7]), Err(WireError::Truncated));
        assert_eq!(check4(&UDP4[..20]), Err(WireError::Truncated));
        let mut b = [0u8; 30];
        b[..21].copy_from_slice(&UDP4);
        // Trailing bytes beyond Length are outside the datagram and the checksum.
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), b"k43 udp test\n");
        assert!(Repr::parse(&p, &V4).is_ok());
        b[5] = 7;
        assert_eq!(check4(&b), Err(WireError::Malformed));
        assert_eq!(check6(&b), Err(WireError::Malformed));
        b[5] = 0;
        assert_eq!(check4(&b), Err(WireError::Malformed));
        // Over IPv6 Length 0 means the whole buffer, and the checksum covers all of it.
        let mut b = UDP6;
        b[4] = 0;
        b[5] = 0;
        let p = Packet::new_checked_v6(&b[..]).unwrap();
        assert_eq!((p.datagram_len(), p.payload().len()), (21, 13));
        assert_eq!(Repr::parse(&p, &v6()), Err(WireError::Checksum)); // Length is in the sum
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum(&v6());
        let p = Packet::new_checked_v6(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p, &v6()).unwrap().payload_len, 13);
    }

    #[test]
    fn prefixes_and_noise_never_panic() {
        for n in 0..=UDP4.len() {
            assert_eq!(Packet::new_checked(&UDP4[..n]).and_then(|p| Repr::parse(&p, &V4)).is_ok(), n == 21);
            let r6 = Packet::new_checked_v6(&UDP6[..n]).and_then(|p| Repr::parse(&p, &v6()));
            assert_eq!(r6.is_ok(), n == 21);
        }
        let mut x = 0xbf58_476d_1ce4_e5b9u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 40];
        let mut parsed = 0;
        for i in 0..6000 {
            let n = (next() % 41) as usize;
            buf.iter_mut().for_each(|b| *b = next() as u8);
            let addrs = if i % 2 == 0 { V4 } else { v6() };
            if i % 3 != 0 {
                // A plausible Length (0 included) and the right checksum.
                buf[4] = 0;
                buf[5] = (next() % 41) as u8;
                if n >= HEADER_LEN && usize::from(buf[5]) <= n {
                    Packet::new_unchecked(&mut buf[..n]).fill_checksum(&addrs);
                }
            }
            for p in [Packet::new_checked(&buf[..n]), Packet::new_checked_v6(&buf[..n])].into_iter().flatten()
            {
                let _ = (p.src_port(), p.dst_port(), p.payload().len(), p.verify_checksum(&addrs));
                if let Ok(r) = Repr::parse(&p, &addrs) {
                    parsed += 1;
                    let mut out = [0u8; 40];
                    out[8..r.buffer_len()].copy_from_slice(p.payload());
                    r.emit(&mut Packet::new_unchecked(&mut out[..]), &addrs);
                    let o = Packet::new_checked(&out[..r.buffer_len()]).unwrap();
                    assert_eq!(Repr::parse(&o, &addrs), Ok(r));
                }
            }
        }
        assert!(parsed > 1000, "only {parsed} parsed");
    }
}
