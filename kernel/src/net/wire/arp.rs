//! ARP (RFC 826) for Ethernet and IPv4, the only combination Linux's `arp_process` answers
//! on an Ethernet device: 28 bytes of hardware type, protocol type, the two address
//! lengths, the operation and the sender/target hardware and protocol addresses.
//!
//! The view reads the fixed Ethernet/IPv4 layout whatever the length bytes say, so the
//! stack can look at (and count) a packet [`Repr::parse`] refuses.

use super::{EthernetAddress, Ipv4Addr, Result, WireError};

/// Hardware type Ethernet (`ARPHRD_ETHER`).
pub const HTYPE_ETHERNET: u16 = 1;
/// Hardware type IEEE 802 (`ARPHRD_IEEE802`), which `arp_process` also accepts on an
/// Ethernet device (RFC 2625, RFC 1390).
pub const HTYPE_IEEE802: u16 = 6;
/// Protocol type IPv4 (`ETH_P_IP`).
pub const PTYPE_IPV4: u16 = 0x0800;

/// An ARP operation (`ARPOP_*`). Codes other than request and reply (RARP, InARP) are
/// kept, so that the stack sees and ignores them as `arp_process` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `ARPOP_REQUEST` (1).
    Request,
    /// `ARPOP_REPLY` (2).
    Reply,
    /// Any other code.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Operation {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            v => Operation::Unknown(v),
        }
    }
}

impl From<Operation> for u16 {
    fn from(op: Operation) -> u16 {
        match op {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(v) => v,
        }
    }
}

mod field {
    use core::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet (`arp_hdr_len` for an Ethernet device).
pub const PACKET_LEN: usize = field::TPA.end;

/// A read/write view of an ARP packet in the Ethernet/IPv4 layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn ipv4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

fn mac(b: &[u8]) -> EthernetAddress {
    let mut a = [0u8; 6];
    a.copy_from_slice(b);
    EthernetAddress(a)
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

    /// `Truncated` below 28 bytes. `arp_rcv` pulls `arp_hdr_len(dev)` bytes, the length
    /// for the receiving device's address size, before it reads any field.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < PACKET_LEN {
            Err(WireError::Truncated)
        } else {
            Ok(())
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type (`ar_hrd`).
    pub fn hardware_type(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::HTYPE])
    }

    /// Protocol type (`ar_pro`).
    pub fn protocol_type(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::PTYPE])
    }

    /// Hardware address length (`ar_hln`).
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length (`ar_pln`).
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation (`ar_op`).
    pub fn operation(&self) -> Operation {
        Operation::from(be16(&self.buffer.as_ref()[field::OPER]))
    }

    /// Sender hardware address (`ar_sha`), read at the Ethernet offset.
    pub fn sender_hw_addr(&self) -> EthernetAddress {
        mac(&self.buffer.as_ref()[field::SHA])
    }

    /// Sender protocol address (`ar_sip`), read at the Ethernet/IPv4 offset.
    pub fn sender_ip_addr(&self) -> Ipv4Addr {
        ipv4(&self.buffer.as_ref()[field::SPA])
    }

    /// Target hardware address (`ar_tha`), read at the Ethernet offset.
    pub fn target_hw_addr(&self) -> EthernetAddress {
        mac(&self.buffer.as_ref()[field::THA])
    }

    /// Target protocol address (`ar_tip`), read at the Ethernet/IPv4 offset.
    pub fn target_ip_addr(&self) -> Ipv4Addr {
        ipv4(&self.buffer.as_ref()[field::TPA])
    }

    /// Bytes after the 28-byte packet: Ethernet padding, which ARP ignores.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[PACKET_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, v: u16) {
        self.buffer.as_mut()[field::HTYPE].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, v: u16) {
        self.buffer.as_mut()[field::PTYPE].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the hardware address length.
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v;
    }

    /// Sets the protocol address length.
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, op: Operation) {
        self.buffer.as_mut()[field::OPER].copy_from_slice(&u16::from(op).to_be_bytes());
    }

    /// Sets the sender hardware address.
    pub fn set_sender_hw_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(a.as_bytes());
    }

    /// Sets the sender protocol address.
    pub fn set_sender_ip_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&a.octets());
    }

    /// Sets the target hardware address.
    pub fn set_target_hw_addr(&mut self, a: EthernetAddress) {
        self.buffer.as_mut()[field::THA].copy_from_slice(a.as_bytes());
    }

    /// Sets the target protocol address.
    pub fn set_target_ip_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&a.octets());
    }

    /// Bytes after the 28-byte packet, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[PACKET_LEN..]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// An Ethernet/IPv4 ARP packet as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Request, reply or another code.
    pub operation: Operation,
    /// Sender MAC (`ar_sha`).
    pub sender_hw_addr: EthernetAddress,
    /// Sender IPv4 address (`ar_sip`); 0.0.0.0 in an RFC 5227 probe.
    pub sender_ip_addr: Ipv4Addr,
    /// Target MAC (`ar_tha`); zero in a request Linux sends.
    pub target_hw_addr: EthernetAddress,
    /// Target IPv4 address (`ar_tip`).
    pub target_ip_addr: Ipv4Addr,
}

impl Repr {
    /// The packet as values, or `Malformed` unless it is Ethernet/IPv4 ARP. The checks
    /// are `arp_rcv`'s (`ar_hln` = the device's 6, `ar_pln` = 4) and `arp_process`'s for
    /// an `ARPHRD_ETHER` device (`ar_hrd` 1 or 6, `ar_pro` = `ETH_P_IP`). The operation
    /// is not checked here: `arp_process` drops codes other than 1 and 2 itself.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        let htype = packet.hardware_type();
        if packet.hardware_len() != 6
            || packet.protocol_len() != 4
            || (htype != HTYPE_ETHERNET && htype != HTYPE_IEEE802)
            || packet.protocol_type() != PTYPE_IPV4
        {
            return Err(WireError::Malformed);
        }
        Ok(Repr {
            operation: packet.operation(),
            sender_hw_addr: packet.sender_hw_addr(),
            sender_ip_addr: packet.sender_ip_addr(),
            target_hw_addr: packet.target_hw_addr(),
            target_ip_addr: packet.target_ip_addr(),
        })
    }

    /// The packet's length, 28; `arp_create` adds no padding.
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// The packet's length, 28: ARP is all header.
    pub const fn header_len(&self) -> usize {
        PACKET_LEN
    }

    /// Writes the packet into the first 28 bytes of `packet`, hardware type Ethernet as
    /// `arp_create` fills it from `dev->type`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_protocol_type(PTYPE_IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_sender_hw_addr(self.sender_hw_addr);
        packet.set_sender_ip_addr(self.sender_ip_addr);
        packet.set_target_hw_addr(self.target_hw_addr);
        packet.set_target_ip_addr(self.target_ip_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ARP request from Wireshark's `arp-storm` capture: who has 24.166.173.159? Tell
    /// 24.166.172.1 (00:07:0d:af:f4:54).
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54, 0x18, 0xa6, 0xac,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0xa6, 0xad, 0x9f,
    ];

    fn request_repr() -> Repr {
        Repr {
            operation: Operation::Request,
            sender_hw_addr: EthernetAddress([0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54]),
            sender_ip_addr: Ipv4Addr::new(24, 166, 172, 1),
            target_hw_addr: EthernetAddress([0; 6]),
            target_ip_addr: Ipv4Addr::new(24, 166, 173, 159),
        }
    }

    #[test]
    fn parse_real_request() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap(), request_repr());
        assert_eq!(p.payload(), &[] as &[u8]);
    }

    #[test]
    fn emit_matches_capture_and_round_trips() {
        let mut buf = [0xaau8; 28];
        request_repr().emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, REQUEST);
        let reply = Repr {
            operation: Operation::Reply,
            sender_hw_addr: EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            sender_ip_addr: Ipv4Addr::new(24, 166, 173, 159),
            target_hw_addr: EthernetAddress([0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54]),
            target_ip_addr: Ipv4Addr::new(24, 166, 172, 1),
        };
        reply.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[6..8], &[0, 2]);
        assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), reply);
    }

    #[test]
    fn foreign_layouts_are_malformed_but_readable() {
        // hlen, plen, protocol type, hardware type other than Ethernet/IEEE 802.
        for (i, v) in [(4, 8u8), (5, 16), (2, 0x86), (1, 0x20)] {
            let mut b = REQUEST;
            b[i] = v;
            let p = Packet::new_checked(&b[..]).unwrap();
            assert_eq!(Repr::parse(&p), Err(WireError::Malformed));
        }
        let mut b = REQUEST;
        b[1] = 0x20; // ARPHRD_INFINIBAND
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.hardware_type(), p.protocol_type(), p.hardware_len()), (32, 0x0800, 6));
        // IEEE 802 is accepted on Ethernet and answered as Ethernet.
        b[1] = 6;
        assert_eq!(Repr::parse(&Packet::new_checked(&b[..]).unwrap()).unwrap(), request_repr());
        // An InARP request is kept as a raw code.
        b[7] = 8;
        let r = Repr::parse(&Packet::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r.operation, Operation::Unknown(8));
        assert_eq!(u16::from(r.operation), 8);
    }

    #[test]
    fn prefixes_and_noise_never_panic() {
        for n in 0..=REQUEST.len() {
            let r = Packet::new_checked(&REQUEST[..n]).and_then(|p| Repr::parse(&p));
            assert_eq!(r.is_ok(), n == PACKET_LEN);
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 40];
        let mut parsed = 0;
        for i in 0..4000 {
            let n = (next() % 41) as usize;
            if i % 2 == 0 {
                buf.iter_mut().for_each(|b| *b = next() as u8);
            } else {
                // Mutate the real request so that the layout checks pass sometimes.
                buf[..28].copy_from_slice(&REQUEST);
                let at = (next() % 40) as usize;
                buf[at] = next() as u8;
            }
            let Ok(p) = Packet::new_checked(&buf[..n]) else {
                assert!(n < PACKET_LEN);
                continue;
            };
            let _ = (p.operation(), p.sender_hw_addr(), p.target_ip_addr(), p.payload().len());
            if let Ok(r) = Repr::parse(&p) {
                parsed += 1;
                let mut out = [0u8; 28];
                r.emit(&mut Packet::new_unchecked(&mut out[..]));
                assert_eq!(Repr::parse(&Packet::new_checked(&out[..]).unwrap()), Ok(r));
            }
        }
        assert!(parsed > 500, "only {parsed} parsed");
    }
}
