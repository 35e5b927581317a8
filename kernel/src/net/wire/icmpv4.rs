//! ICMP for IPv4 (RFC 792, RFC 1191 for the next-hop MTU): type, code, checksum over
//! the whole message, four type-specific bytes, then data (for errors, the quoted
//! datagram).

use super::checksum;
use super::{Ipv4Addr, Result, WireError};

/// Message types (`ICMP_*` in `<linux/icmp.h>`).
pub mod msg_type {
    /// Echo Reply (`ICMP_ECHOREPLY`).
    pub const ECHO_REPLY: u8 = 0;
    /// Destination Unreachable (`ICMP_DEST_UNREACH`).
    pub const DEST_UNREACH: u8 = 3;
    /// Source Quench (`ICMP_SOURCE_QUENCH`), deprecated by RFC 6633.
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect (`ICMP_REDIRECT`).
    pub const REDIRECT: u8 = 5;
    /// Echo Request (`ICMP_ECHO`).
    pub const ECHO: u8 = 8;
    /// Time Exceeded (`ICMP_TIME_EXCEEDED`).
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter Problem (`ICMP_PARAMETERPROB`).
    pub const PARAMETER_PROB: u8 = 12;
    /// Timestamp Request (`ICMP_TIMESTAMP`).
    pub const TIMESTAMP: u8 = 13;
    /// Timestamp Reply (`ICMP_TIMESTAMPREPLY`).
    pub const TIMESTAMP_REPLY: u8 = 14;
    /// Information Request (`ICMP_INFO_REQUEST`), obsolete.
    pub const INFO_REQUEST: u8 = 15;
    /// Information Reply (`ICMP_INFO_REPLY`), obsolete.
    pub const INFO_REPLY: u8 = 16;
    /// Address Mask Request (`ICMP_ADDRESS`).
    pub const ADDRESS: u8 = 17;
    /// Address Mask Reply (`ICMP_ADDRESSREPLY`).
    pub const ADDRESS_REPLY: u8 = 18;
}

/// The highest type Linux knows (`NR_ICMP_TYPES`): `icmp_rcv` drops anything above it
/// as an `InErrors`, after counting it in `InMsgs`.
pub const NR_ICMP_TYPES: u8 = 18;

/// Destination Unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
pub mod unreach {
    /// Network unreachable (`ICMP_NET_UNREACH`).
    pub const NET: u8 = 0;
    /// Host unreachable (`ICMP_HOST_UNREACH`).
    pub const HOST: u8 = 1;
    /// Protocol unreachable (`ICMP_PROT_UNREACH`).
    pub const PROTOCOL: u8 = 2;
    /// Port unreachable (`ICMP_PORT_UNREACH`).
    pub const PORT: u8 = 3;
    /// Fragmentation needed and DF set (`ICMP_FRAG_NEEDED`); carries the next-hop MTU.
    pub const FRAG_NEEDED: u8 = 4;
    /// Source route failed (`ICMP_SR_FAILED`).
    pub const SR_FAILED: u8 = 5;
    /// Destination network unknown (`ICMP_NET_UNKNOWN`).
    pub const NET_UNKNOWN: u8 = 6;
    /// Destination host unknown (`ICMP_HOST_UNKNOWN`).
    pub const HOST_UNKNOWN: u8 = 7;
    /// Source host isolated (`ICMP_HOST_ISOLATED`).
    pub const HOST_ISOLATED: u8 = 8;
    /// Network administratively prohibited (`ICMP_NET_ANO`).
    pub const NET_ANO: u8 = 9;
    /// Host administratively prohibited (`ICMP_HOST_ANO`).
    pub const HOST_ANO: u8 = 10;
    /// Network unreachable for TOS (`ICMP_NET_UNR_TOS`).
    pub const NET_UNR_TOS: u8 = 11;
    /// Host unreachable for TOS (`ICMP_HOST_UNR_TOS`).
    pub const HOST_UNR_TOS: u8 = 12;
    /// Communication administratively prohibited (`ICMP_PKT_FILTERED`), sent for a
    /// `prohibit` route.
    pub const PKT_FILTERED: u8 = 13;
    /// Host precedence violation (`ICMP_PREC_VIOLATION`).
    pub const PREC_VIOLATION: u8 = 14;
    /// Precedence cut-off in effect (`ICMP_PREC_CUTOFF`).
    pub const PREC_CUTOFF: u8 = 15;
}

/// Redirect codes (RFC 792).
pub mod redirect {
    /// For the network (`ICMP_REDIR_NET`).
    pub const NET: u8 = 0;
    /// For the host (`ICMP_REDIR_HOST`), the one `ip_rt_send_redirect` sends.
    pub const HOST: u8 = 1;
    /// For the TOS and network (`ICMP_REDIR_NETTOS`).
    pub const NET_TOS: u8 = 2;
    /// For the TOS and host (`ICMP_REDIR_HOSTTOS`).
    pub const HOST_TOS: u8 = 3;
}

/// Time Exceeded codes (RFC 792).
pub mod time_exceeded {
    /// TTL exceeded in transit (`ICMP_EXC_TTL`).
    pub const TTL: u8 = 0;
    /// Fragment reassembly time exceeded (`ICMP_EXC_FRAGTIME`).
    pub const FRAG_TIME: u8 = 1;
}

/// Whether `msg_type` is an error message in Linux 4.3's `icmp_pointers` table:
/// Destination Unreachable, Source Quench, Redirect, Time Exceeded, Parameter Problem,
/// and also the reserved types 1, 2, 6, 7 and the router messages 9 and 10. `icmp_send`
/// will not answer one with an error (RFC 1122 §3.2.2); note that it also refuses types
/// above [`NR_ICMP_TYPES`] ("assume any unknown ICMP type is an error"), which this
/// table lookup does not cover.
pub const fn is_error(msg_type: u8) -> bool {
    matches!(msg_type, 1..=7 | 9..=12)
}

mod field {
    use core::ops::{Range, RangeFrom};
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQ: Range<usize> = 6..8;
    pub const POINTER: usize = 4;
    pub const MTU: Range<usize> = 6..8;
    pub const DATA: RangeFrom<usize> = 8..;
}

/// Length of the ICMP header (`sizeof(struct icmphdr)`).
pub const HEADER_LEN: usize = field::DATA.start;

/// A read/write view of an ICMPv4 message (the whole IPv4 payload).
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

    /// Wraps `buffer` after [`check_len`](Self::check_len), so no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// `Truncated` below the 8-byte header. `icmp_rcv` validates the checksum over the
    /// whole message before it pulls the header, so a short message whose checksum also
    /// fails is `Checksum` (counted in `InCsumErrors` too); an empty one always is.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        if data.len() >= HEADER_LEN {
            Ok(())
        } else if !checksum::verifies(data) {
            Err(WireError::Checksum)
        } else {
            Err(WireError::Truncated)
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The four type-specific bytes after the checksum (Linux's `icmph->un`).
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = &self.buffer.as_ref()[field::REST];
        [b[0], b[1], b[2], b[3]]
    }

    /// Identifier of an Echo or Timestamp message.
    pub fn echo_ident(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    /// Sequence number of an Echo or Timestamp message.
    pub fn echo_seq_no(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::ECHO_SEQ])
    }

    /// Next-hop MTU of a Fragmentation Needed message (RFC 1191 §4, `un.frag.mtu`).
    pub fn next_hop_mtu(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::MTU])
    }

    /// Parameter Problem pointer: the offending byte's offset in the quoted IP header
    /// (`icmp_unreach` reads it as `ntohl(un.gateway) >> 24`).
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[field::POINTER]
    }

    /// Redirect gateway address (`un.gateway`).
    pub fn gateway(&self) -> Ipv4Addr {
        let b = self.rest_of_header();
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Whether the checksum over the whole message verifies (RFC 792).
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(self.buffer.as_ref())
    }

    /// The data after the 8-byte header: echo data, or the datagram an error quotes.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    /// Sets the code.
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the four type-specific bytes.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&v);
    }

    /// Sets the Echo identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        self.buffer.as_mut()[field::ECHO_IDENT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the Echo sequence number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        self.buffer.as_mut()[field::ECHO_SEQ].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the next-hop MTU, clearing the unused half word before it, as `icmp_send`
    /// writes `htonl(mtu)` into `un.gateway`.
    pub fn set_next_hop_mtu(&mut self, mtu: u16) {
        let m = mtu.to_be_bytes();
        self.set_rest_of_header([0, 0, m[0], m[1]]);
    }

    /// Sets the Parameter Problem pointer, clearing the unused bytes after it.
    pub fn set_pointer(&mut self, ptr: u8) {
        self.set_rest_of_header([ptr, 0, 0, 0]);
    }

    /// Sets the Redirect gateway.
    pub fn set_gateway(&mut self, a: Ipv4Addr) {
        self.set_rest_of_header(a.octets());
    }

    /// Computes and stores the checksum over the whole message.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// The data after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA]
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// An ICMPv4 message as values; `data` borrows the packet's bytes after the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Echo Request. The code is kept: `icmp_echo` copies the request's header, code
    /// included, into the reply.
    EchoRequest {
        /// Code, 0 from any normal sender.
        code: u8,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Echo Reply.
    EchoReply {
        /// Code, the request's.
        code: u8,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Echo data.
        data: &'a [u8],
    },
    /// Destination Unreachable.
    DstUnreachable {
        /// Code (see [`unreach`]).
        code: u8,
        /// Next-hop MTU: meaningful for [`unreach::FRAG_NEEDED`], read and written for
        /// every code (zero when unused).
        mtu: u16,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Time Exceeded.
    TimeExceeded {
        /// Code (see [`time_exceeded`]).
        code: u8,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Parameter Problem.
    ParamProblem {
        /// Code: 0 (the pointer is meaningful) is all Linux sends.
        code: u8,
        /// Offset of the offending byte in the quoted IP header.
        pointer: u8,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Redirect.
    Redirect {
        /// Code (see [`redirect`]).
        code: u8,
        /// The better first hop.
        gateway: Ipv4Addr,
        /// The quoted datagram.
        data: &'a [u8],
    },
    /// Any other type (Source Quench, Timestamp, Address Mask, unknown), kept whole.
    Other {
        /// Type.
        msg_type: u8,
        /// Code.
        code: u8,
        /// The four type-specific bytes.
        rest_of_header: [u8; 4],
        /// The data after the header.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// The message as values: `Checksum` if the checksum over the whole message fails
    /// (`icmp_rcv`: `InCsumErrors` and `InErrors`). Unknown types are not refused here;
    /// the stack drops those above [`NR_ICMP_TYPES`] itself.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(WireError::Checksum);
        }
        // `T::as_ref` on the `&'a T` itself, so `data` lives as long as the buffer.
        let data = &AsRef::<[u8]>::as_ref(packet.buffer)[field::DATA];
        let code = packet.msg_code();
        let (ident, seq) = (packet.echo_ident(), packet.echo_seq_no());
        Ok(match packet.msg_type() {
            msg_type::ECHO => Repr::EchoRequest { code, ident, seq, data },
            msg_type::ECHO_REPLY => Repr::EchoReply { code, ident, seq, data },
            msg_type::DEST_UNREACH => Repr::DstUnreachable { code, mtu: packet.next_hop_mtu(), data },
            msg_type::TIME_EXCEEDED => Repr::TimeExceeded { code, data },
            msg_type::PARAMETER_PROB => Repr::ParamProblem { code, pointer: packet.pointer(), data },
            msg_type::REDIRECT => Repr::Redirect { code, gateway: packet.gateway(), data },
            t => Repr::Other { msg_type: t, code, rest_of_header: packet.rest_of_header(), data },
        })
    }

    /// The data the message carries after its header.
    pub const fn data(&self) -> &'a [u8] {
        match *self {
            Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::DstUnreachable { data, .. }
            | Repr::TimeExceeded { data, .. }
            | Repr::ParamProblem { data, .. }
            | Repr::Redirect { data, .. }
            | Repr::Other { data, .. } => data,
        }
    }

    /// The header's length, 8.
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus data.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    /// Writes the message, data copied in, checksum filled. The packet must be exactly
    /// [`buffer_len`](Self::buffer_len) bytes: the checksum covers all of it.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        debug_assert_eq!(packet.buffer.as_ref().len(), self.buffer_len());
        let (t, code, rest) = match *self {
            Repr::EchoRequest { code, ident, seq, .. } => (msg_type::ECHO, code, echo_rest(ident, seq)),
            Repr::EchoReply { code, ident, seq, .. } => (msg_type::ECHO_REPLY, code, echo_rest(ident, seq)),
            Repr::DstUnreachable { code, mtu, .. } => {
                let m = mtu.to_be_bytes();
                (msg_type::DEST_UNREACH, code, [0, 0, m[0], m[1]])
            }
            Repr::TimeExceeded { code, .. } => (msg_type::TIME_EXCEEDED, code, [0; 4]),
            Repr::ParamProblem { code, pointer, .. } => (msg_type::PARAMETER_PROB, code, [pointer, 0, 0, 0]),
            Repr::Redirect { code, gateway, .. } => (msg_type::REDIRECT, code, gateway.octets()),
            Repr::Other { msg_type, code, rest_of_header, .. } => (msg_type, code, rest_of_header),
        };
        packet.set_msg_type(t);
        packet.set_msg_code(code);
        packet.set_rest_of_header(rest);
        let data = self.data();
        packet.payload_mut()[..data.len()].copy_from_slice(data);
        packet.fill_checksum();
    }
}

fn echo_rest(ident: u16, seq: u16) -> [u8; 4] {
    let (i, s) = (ident.to_be_bytes(), seq.to_be_bytes());
    [i[0], i[1], s[0], s[1]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// `ping 10.0.2.2` from iputils on x86-64 Linux: identifier 0x1c46, sequence 1,
    /// 56 bytes of data (a 16-byte `struct timeval`, then 0x10, 0x11, …, 0x37).
    const PING: [u8; 64] = [
        0x08, 0x00, 0x68, 0x8f, 0x1c, 0x46, 0x00, 0x01, 0x9a, 0x3b, 0x4d, 0x65, 0x00, 0x00, 0x00, 0x00, 0xc2,
        0xb5, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
        0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
        0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    #[test]
    fn real_ping_and_its_reply() {
        let p = Packet::new_checked(&PING[..]).unwrap();
        assert!(p.verify_checksum());
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r, Repr::EchoRequest { code: 0, ident: 0x1c46, seq: 1, data: &PING[8..] });
        let Repr::EchoRequest { code, ident, seq, data } = r else { unreachable!() };
        let reply = Repr::EchoReply { code, ident, seq, data };
        let mut buf = vec![0u8; reply.buffer_len()];
        reply.emit(&mut Packet::new_unchecked(&mut buf[..]));
        // Type 8 → 0 changes the checksum by 0x0800 (RFC 1624 incremental update).
        assert_eq!(&buf[..4], &[0x00, 0x00, 0x70, 0x8f]);
        assert_eq!(&buf[4..], &PING[4..]);
        let mut bad = PING;
        bad[63] ^= 1;
        assert_eq!(Repr::parse(&Packet::new_checked(&bad[..]).unwrap()), Err(WireError::Checksum));
    }

    #[test]
    fn error_messages_round_trip() {
        let quoted = &PING[..28];
        let reprs = [
            Repr::EchoRequest { code: 1, ident: 7, seq: 9, data: b"x" },
            Repr::DstUnreachable { code: unreach::FRAG_NEEDED, mtu: 1000, data: quoted },
            Repr::DstUnreachable { code: unreach::PORT, mtu: 0, data: quoted },
            Repr::TimeExceeded { code: time_exceeded::FRAG_TIME, data: quoted },
            Repr::ParamProblem { code: 0, pointer: 21, data: quoted },
            Repr::Redirect { code: redirect::HOST, gateway: Ipv4Addr::new(10, 0, 0, 254), data: quoted },
            Repr::Other {
                msg_type: msg_type::TIMESTAMP,
                code: 0,
                rest_of_header: [0, 1, 0, 2],
                data: &[0; 12],
            },
            Repr::Other { msg_type: 200, code: 9, rest_of_header: [1, 2, 3, 4], data: &[] },
        ];
        for r in reprs {
            let mut buf = vec![0xeeu8; r.buffer_len()];
            r.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let p = Packet::new_checked(&buf[..]).unwrap();
            assert!(p.verify_checksum());
            assert_eq!(Repr::parse(&p).unwrap(), r);
            assert_eq!(p.payload(), r.data());
        }
        let mut buf = [0u8; 36];
        Repr::DstUnreachable { code: 4, mtu: 1000, data: quoted }
            .emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[4..8], &[0, 0, 0x03, 0xe8]);
        let mut p = Packet::new_unchecked(&mut buf[..]);
        p.set_pointer(21);
        assert_eq!((p.pointer(), p.rest_of_header()), (21, [21, 0, 0, 0]));
    }

    #[test]
    fn error_classification() {
        let errors: alloc::vec::Vec<u8> = (0..=NR_ICMP_TYPES).filter(|&t| is_error(t)).collect();
        assert_eq!(errors, [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12]);
        assert!(!is_error(msg_type::ECHO) && !is_error(msg_type::TIMESTAMP_REPLY));
    }

    #[test]
    fn short_messages_check_the_checksum_first() {
        assert_eq!(Packet::new_checked(&[][..]).map(|_| ()), Err(WireError::Checksum));
        assert_eq!(Packet::new_checked(&[0xff, 0xff][..]).map(|_| ()), Err(WireError::Truncated));
        assert_eq!(Packet::new_checked(&PING[..7]).map(|_| ()), Err(WireError::Checksum));
    }

    #[test]
    fn prefixes_and_noise_never_panic() {
        for n in 0..=PING.len() {
            // Only the whole message carries the right checksum.
            let r = Packet::new_checked(&PING[..n]).and_then(|p| Repr::parse(&p));
            assert_eq!(r.is_ok(), n == PING.len());
        }
        let mut x = 0x94d0_49bb_1331_11ebu64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 48];
        let mut parsed = 0;
        for i in 0..6000 {
            let n = (next() % 49) as usize;
            buf.iter_mut().for_each(|b| *b = next() as u8);
            if i % 2 == 1 {
                // Make the checksum right so that parse reaches every type.
                buf[0] = (next() % 20) as u8;
                if n >= HEADER_LEN {
                    Packet::new_unchecked(&mut buf[..n]).fill_checksum();
                }
            }
            let Ok(p) = Packet::new_checked(&buf[..n]) else { continue };
            let _ = (p.msg_type(), p.echo_ident(), p.next_hop_mtu(), p.pointer(), p.gateway(), p.payload());
            if let Ok(r) = Repr::parse(&p) {
                parsed += 1;
                assert_eq!(r.buffer_len(), n);
                let mut out = [0u8; 48];
                r.emit(&mut Packet::new_unchecked(&mut out[..n]));
                assert_eq!(Repr::parse(&Packet::new_checked(&out[..n]).unwrap()), Ok(r));
            }
        }
        assert!(parsed > 1000, "only {parsed} parsed");
    }
}
