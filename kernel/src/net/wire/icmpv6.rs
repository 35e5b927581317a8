//! ICMPv6 messages (RFC 4443), checksummed over the IPv6 pseudo-header (RFC 8200 §8.1).
//!
//! Every message starts with type, code, checksum and a 4-byte type-specific word;
//! [`Packet::check_len`] wants those 8 bytes, as `icmpv6_rcv` pulls them after the
//! checksum check. Neighbour Discovery bodies are [`ndisc`]'s.

use super::{checksum, ip_proto, ndisc, Ipv6Addr, Result, WireError};

/// Message types (RFC 4443 §2.1, RFC 4861 §4, RFC 2710, RFC 3810).
pub mod msg_type {
    /// Destination Unreachable.
    pub const DST_UNREACH: u8 = 1;
    /// Packet Too Big.
    pub const PKT_TOO_BIG: u8 = 2;
    /// Time Exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter Problem.
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo Request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo Reply.
    pub const ECHO_REPLY: u8 = 129;
    /// MLD Multicast Listener Query.
    pub const MLD_QUERY: u8 = 130;
    /// MLDv1 Report.
    pub const MLD_REPORT: u8 = 131;
    /// MLDv1 Done.
    pub const MLD_DONE: u8 = 132;
    /// Router Solicitation.
    pub const ROUTER_SOLICIT: u8 = super::ndisc::msg_type::ROUTER_SOLICIT;
    /// Router Advertisement.
    pub const ROUTER_ADVERT: u8 = super::ndisc::msg_type::ROUTER_ADVERT;
    /// Neighbor Solicitation.
    pub const NEIGHBOR_SOLICIT: u8 = super::ndisc::msg_type::NEIGHBOR_SOLICIT;
    /// Neighbor Advertisement.
    pub const NEIGHBOR_ADVERT: u8 = super::ndisc::msg_type::NEIGHBOR_ADVERT;
    /// Redirect.
    pub const REDIRECT: u8 = super::ndisc::msg_type::REDIRECT;
    /// MLDv2 Report.
    pub const MLD2_REPORT: u8 = 143;
}

/// Destination Unreachable codes (RFC 4443 §3.1).
pub mod dst_unreach {
    /// No route to destination.
    pub const NO_ROUTE: u8 = 0;
    /// Communication administratively prohibited.
    pub const ADMIN_PROHIBITED: u8 = 1;
    /// Beyond scope of source address.
    pub const BEYOND_SCOPE: u8 = 2;
    /// Address unreachable.
    pub const ADDR_UNREACH: u8 = 3;
    /// Port unreachable.
    pub const PORT_UNREACH: u8 = 4;
    /// Source address failed ingress/egress policy.
    pub const POLICY_FAIL: u8 = 5;
    /// Reject route to destination (Linux never sends it, spec §3.7).
    pub const REJECT_ROUTE: u8 = 6;
}

/// Time Exceeded codes (RFC 4443 §3.3).
pub mod time_exceeded {
    /// Hop limit exceeded in transit.
    pub const HOP_LIMIT: u8 = 0;
    /// Fragment reassembly time exceeded.
    pub const REASSEMBLY: u8 = 1;
}

/// Parameter Problem codes (RFC 4443 §3.4).
pub mod param_problem {
    /// Erroneous header field encountered.
    pub const HEADER_FIELD: u8 = 0;
    /// Unrecognized Next Header type encountered.
    pub const UNKNOWN_NEXT_HEADER: u8 = 1;
    /// Unrecognized IPv6 option encountered.
    pub const UNKNOWN_OPTION: u8 = 2;
}

/// Type, code, checksum and the type-specific word.
pub const HEADER_LEN: usize = 8;
/// Most bytes of the invoking packet an error quotes: 1280 − 40 − 8, so that an error
/// never exceeds the minimum MTU (RFC 4443 §2.4 (c), `icmp6_send`).
pub const MAX_ERROR_QUOTE: usize = 1232;

/// Error messages are types 0..=127 (RFC 4443 §2.1).
pub const fn is_error(t: u8) -> bool {
    t < 128
}

/// Informational messages have the high bit set (`ICMPV6_INFOMSG_MASK`).
pub const fn is_informational(t: u8) -> bool {
    t & 0x80 != 0
}

/// How many bytes of an invoking packet of `len` bytes an error carries.
pub const fn quote_len(len: usize) -> usize {
    if len < MAX_ERROR_QUOTE {
        len
    } else {
        MAX_ERROR_QUOTE
    }
}

/// Whether the ICMPv6 message `msg` (of any length) checksums to zero with the
/// pseudo-header of `src` and `dst`. `icmpv6_rcv` verifies before it checks the length,
/// so a short message with a bad checksum counts as `InCsumErrors`.
pub fn checksum_ok(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> bool {
    checksum::fold(sum_with_pseudo(src, dst, msg)) == 0
}

fn sum_with_pseudo(src: &Ipv6Addr, dst: &Ipv6Addr, msg: &[u8]) -> u32 {
    let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    checksum::combine(&[checksum::pseudo_header_v6(src, dst, ip_proto::ICMPV6, len), checksum::sum(msg)])
}

/// A view of an ICMPv6 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// At least the 8-byte header (`Truncated`): Linux drops a shorter message silently.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Code.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[2], b[3]])
    }

    /// The type-specific word (bytes 4..8): MTU, pointer, or ident and sequence.
    pub fn rest_of_header(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }

    /// Echo: Identifier.
    pub fn echo_ident(&self) -> u16 {
        (self.rest_of_header() >> 16) as u16
    }

    /// Echo: Sequence Number.
    pub fn echo_seq(&self) -> u16 {
        self.rest_of_header() as u16
    }

    /// Packet Too Big: MTU.
    pub fn mtu(&self) -> u32 {
        self.rest_of_header()
    }

    /// Parameter Problem: Pointer, an offset into the invoking packet.
    pub fn pointer(&self) -> u32 {
        self.rest_of_header()
    }

    /// Whether the checksum verifies (see [`checksum_ok`]).
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        checksum_ok(src, dst, self.buffer.as_ref())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// After the 8-byte header: an error's invoking packet, an echo's data.
    pub fn payload(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer.as_ref();
        &b[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets Type.
    pub fn set_msg_type(&mut self, t: u8) {
        self.buffer.as_mut()[0] = t;
    }

    /// Sets Code.
    pub fn set_code(&mut self, c: u8) {
        self.buffer.as_mut()[1] = c;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[2..4].copy_from_slice(&c.to_be_bytes());
    }

    /// Sets the type-specific word (MTU, pointer, 0 for the other errors).
    pub fn set_rest_of_header(&mut self, w: u32) {
        self.buffer.as_mut()[4..8].copy_from_slice(&w.to_be_bytes());
    }

    /// Sets an echo's identifier and sequence number.
    pub fn set_echo(&mut self, ident: u16, seq: u16) {
        self.set_rest_of_header(u32::from(ident) << 16 | u32::from(seq));
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let c = checksum::fold(sum_with_pseudo(src, dst, self.buffer.as_ref()));
        self.set_checksum(c);
    }

    /// The payload, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// An ICMPv6 message as values. Errors carry the quoted invoking packet in `data`;
/// `icmpv6_notify` (and for Packet Too Big `icmpv6_rcv` itself) ignores an error that
/// quotes fewer than 40 bytes, which is the stack's call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Destination Unreachable.
    DstUnreachable {
        /// Code ([`dst_unreach`]).
        code: u8,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Packet Too Big (code 0 on emit; Linux ignores it on receive).
    PktTooBig {
        /// The next-hop MTU.
        mtu: u32,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Time Exceeded.
    TimeExceeded {
        /// Code ([`time_exceeded`]).
        code: u8,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Parameter Problem.
    ParamProblem {
        /// Code ([`param_problem`]).
        code: u8,
        /// Offset of the fault in the invoking packet.
        pointer: u32,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Echo Request.
    EchoRequest {
        /// Code: 0 from a conforming sender, but Linux 4.3 copies whatever it gets into
        /// the reply (`icmpv6_echo_reply`, spec §4.3), so it is kept.
        code: u8,
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Echo Reply.
    EchoReply {
        /// Code (the request's, in Linux 4.3).
        code: u8,
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq: u16,
        /// Data.
        data: &'a [u8],
    },
    /// A Neighbour Discovery message.
    Ndisc(ndisc::Repr<'a>),
    /// Any other type (MLD, unknown errors and informational messages).
    Other {
        /// Type.
        msg_type: u8,
        /// Code.
        code: u8,
        /// Everything after the checksum, the type-specific word included.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Verifies the checksum (`Checksum`, as `icmpv6_rcv` first does) and parses. ND
    /// types go through [`ndisc::Repr::parse`], whose failures are Linux's silent drops.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(src: &Ipv6Addr, dst: &Ipv6Addr, packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        let b: &'a [u8] = packet.buffer.as_ref();
        if !checksum_ok(src, dst, b) {
            return Err(WireError::Checksum);
        }
        packet.check_len()?;
        let (code, data) = (packet.code(), packet.payload());
        let (ident, seq) = (packet.echo_ident(), packet.echo_seq());
        Ok(match packet.msg_type() {
            msg_type::DST_UNREACH => Repr::DstUnreachable { code, data },
            msg_type::PKT_TOO_BIG => Repr::PktTooBig { mtu: packet.mtu(), data },
            msg_type::TIME_EXCEEDED => Repr::TimeExceeded { code, data },
            msg_type::PARAM_PROBLEM => Repr::ParamProblem { code, pointer: packet.pointer(), data },
            msg_type::ECHO_REQUEST => Repr::EchoRequest { code, ident, seq, data },
            msg_type::ECHO_REPLY => Repr::EchoReply { code, ident, seq, data },
            t if ndisc::header_len(t).is_some() => Repr::Ndisc(ndisc::Repr::parse(&ndisc::Packet::new_checked(b)?)?),
            msg_type => Repr::Other { msg_type, code, data: &b[4..] },
        })
    }

    /// The type.
    pub fn msg_type(&self) -> u8 {
        match self {
            Repr::DstUnreachable { .. } => msg_type::DST_UNREACH,
            Repr::PktTooBig { .. } => msg_type::PKT_TOO_BIG,
            Repr::TimeExceeded { .. } => msg_type::TIME_EXCEEDED,
            Repr::ParamProblem { .. } => msg_type::PARAM_PROBLEM,
            Repr::EchoRequest { .. } => msg_type::ECHO_REQUEST,
            Repr::EchoReply { .. } => msg_type::ECHO_REPLY,
            Repr::Ndisc(nd) => nd.msg_type(),
            Repr::Other { msg_type, .. } => *msg_type,
        }
    }

    /// Bytes before the data: the 8-byte header (ND: its fixed part; Other: 4).
    pub fn header_len(&self) -> usize {
        match self {
            Repr::Ndisc(nd) => nd.header_len(),
            Repr::Other { .. } => 4,
            _ => HEADER_LEN,
        }
    }

    /// Bytes of the whole message.
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::DstUnreachable { data, .. }
            | Repr::PktTooBig { data, .. }
            | Repr::TimeExceeded { data, .. }
            | Repr::ParamProblem { data, .. }
            | Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::Other { data, .. } => self.header_len() + data.len(),
            Repr::Ndisc(nd) => nd.buffer_len(),
        }
    }

    /// Writes the message and its checksum. `packet` must be exactly
    /// [`buffer_len`](Self::buffer_len) bytes: the checksum covers all of it.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, src: &Ipv6Addr, dst: &Ipv6Addr, packet: &mut Packet<T>) {
        debug_assert_eq!(packet.buffer.as_ref().len(), self.buffer_len());
        let (code, word, data) = match *self {
            Repr::DstUnreachable { code, data } | Repr::TimeExceeded { code, data } => (code, 0, data),
            Repr::PktTooBig { mtu, data } => (0, mtu, data),
            Repr::ParamProblem { code, pointer, data } => (code, pointer, data),
            Repr::EchoRequest { code, ident, seq, data } | Repr::EchoReply { code, ident, seq, data } => {
                (code, u32::from(ident) << 16 | u32::from(seq), data)
            }
            Repr::Ndisc(nd) => {
                nd.emit(&mut ndisc::Packet::new_unchecked(packet.buffer.as_mut()));
                packet.fill_checksum(src, dst);
                return;
            }
            Repr::Other { code, data, .. } => {
                packet.buffer.as_mut()[4..].copy_from_slice(data);
                (code, 0, &[][..])
            }
        };
        packet.set_msg_type(self.msg_type());
        packet.set_code(code);
        if !matches!(self, Repr::Other { .. }) {
            packet.set_rest_of_header(word);
            packet.payload_mut().copy_from_slice(data);
        }
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{ipv6, ipv6_ext};
    use super::*;
    use alloc::vec::Vec;

    /// Bytes from hex digits, ignoring anything else (spaces, `|`).
    pub(in super::super) fn hex(s: &str) -> Vec<u8> {
        let d: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        d.chunks(2).map(|c| u8::from_str_radix(core::str::from_utf8(c).unwrap(), 16).unwrap()).collect()
    }

    /// Parses an IPv6 packet whose payload is an ICMPv6 message at `at`.
    pub(in super::super) fn parse_at(pkt: &[u8], at: usize) -> Result<Repr<'_>> {
        let ip = ipv6::Packet::new_checked(pkt).unwrap();
        Repr::parse(&ip.src_addr(), &ip.dst_addr(), &Packet::new_checked(&ip.payload()[at..])?)
    }

    const LL_A: &str = "fe80000000000000505400fffe123456";
    const LL_B: &str = "fe80000000000000505400fffeabcdef";
    const PING_DATA: &str = "790c0c6b000000002674020000000000101112131415161718191a1b1c1d1e1f2021222324252627\
                             28292a2b2c2d2e2f3031323334353637";

    #[test]
    fn linux_ping6_request_and_reply() {
        // Captured from Linux ping on a veth pair between two scratch network namespaces.
        let req = hex(&alloc::format!("600d6a5200403a40 {LL_A} {LL_B} 8000 0633 6de5 0001 {PING_DATA}"));
        let rep = hex(&alloc::format!("600b3e8800403a40 {LL_B} {LL_A} 8100 0533 6de5 0001 {PING_DATA}"));
        let r = parse_at(&req, 0).unwrap();
        let Repr::EchoRequest { code: 0, ident: 0x6de5, seq: 1, data } = r else { panic!("{r:?}") };
        assert_eq!((data.len(), data[16]), (56, 0x10));
        // The reply Linux sent is the request with the type changed, checksummed anew.
        let reply = Repr::EchoReply { code: 0, ident: 0x6de5, seq: 1, data };
        let (a, b) =
            (ipv6::Packet::new_unchecked(&req[..]).src_addr(), ipv6::Packet::new_unchecked(&req[..]).dst_addr());
        let mut buf = [0u8; 64];
        reply.emit(&b, &a, &mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf[..], rep[40..]);
        assert_eq!(parse_at(&rep, 0), Ok(reply));
        let mut bad = req.clone();
        bad[60] ^= 1;
        assert_eq!(parse_at(&bad, 0), Err(WireError::Checksum));
        assert!(!Packet::new_unchecked(&bad[40..]).verify_checksum(&a, &b));
        assert!(checksum_ok(&a, &b, &req[40..]));
    }

    #[test]
    fn linux_param_problem_quotes_invoking_packet() {
        // Linux's answer to a UDP datagram whose Destination Options header carried the
        // unknown option 0x80 (action 10): code 2, pointer 42 = 40 + option offset 2.
        let pp = hex(&alloc::format!(
            "600a459b00453a40 {LL_B} {LL_A} | 0402 4e67 0000002a | 600be0f800153c40 {LL_A} {LL_B} \
             1100800400000000 a00700090 00d7d44 68656c6c6f"
        ));
        let r = parse_at(&pp, 0).unwrap();
        let Repr::ParamProblem { code: param_problem::UNKNOWN_OPTION, pointer: 42, data } = r else { panic!("{r:?}") };
        let quoted = ipv6::Packet::new_checked(data).unwrap();
        assert_eq!((data.len(), quoted.next_header()), (61, ip_proto::DSTOPTS));
        let opt_at = 42 - ipv6::HEADER_LEN;
        let dst = ipv6_ext::OptionsHeader::new_checked(quoted.payload()).unwrap();
        let (off, opt) = dst.iter().next().unwrap().unwrap();
        assert_eq!(
            (off, ipv6_ext::UnknownAction::of(opt.opt_type())),
            (opt_at, ipv6_ext::UnknownAction::DiscardAndReport)
        );
        let mut buf = [0u8; 69];
        r.emit(&quoted.dst_addr(), &quoted.src_addr(), &mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf[..], pp[40..]);
    }

    #[test]
    fn linux_mldv2_report_is_other() {
        // An MLDv2 report Linux sent from :: during DAD, behind HBH (Router Alert + PadN).
        let mld = hex("6000000000240001 00000000000000000000000000000000 ff020000000000000000000000000016 \
             3a00050200000100 | 8f00 a0ef 0000 0001 04000000 ff0200000000000000000001ffabcdef");
        let r = parse_at(&mld, 8).unwrap();
        assert!(matches!(r, Repr::Other { msg_type: msg_type::MLD2_REPORT, code: 0, data } if data.len() == 24));
        let mut buf = [0u8; 28];
        r.emit(&Ipv6Addr::UNSPECIFIED, &"ff02::16".parse().unwrap(), &mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf[..], mld[48..]);
    }

    #[test]
    fn errors_round_trip_and_classes() {
        let (s, d): (Ipv6Addr, Ipv6Addr) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
        let quote = [0x60u8, 0, 0, 0, 0, 0, 17, 64, 1, 2, 3];
        for r in [
            Repr::DstUnreachable { code: dst_unreach::PORT_UNREACH, data: &quote },
            Repr::PktTooBig { mtu: 1280, data: &quote },
            Repr::TimeExceeded { code: time_exceeded::REASSEMBLY, data: &quote },
            Repr::ParamProblem { code: param_problem::UNKNOWN_NEXT_HEADER, pointer: 6, data: &quote },
            Repr::EchoRequest { code: 1, ident: 7, seq: 9, data: &[] },
        ] {
            let mut buf = [0u8; 19];
            let b = &mut buf[..r.buffer_len()];
            r.emit(&s, &d, &mut Packet::new_unchecked(&mut *b));
            assert_eq!(Repr::parse(&s, &d, &Packet::new_checked(&*b).unwrap()), Ok(r));
            assert_eq!(Repr::parse(&s, &s, &Packet::new_checked(&*b).unwrap()), Err(WireError::Checksum));
        }
        assert!(is_error(1) && is_error(127) && !is_error(128) && is_informational(137) && !is_informational(4));
        assert_eq!((quote_len(100), quote_len(1448)), (100, MAX_ERROR_QUOTE));
        assert_eq!(Packet::new_checked(&[128u8, 0, 0, 0][..]).unwrap_err(), WireError::Truncated);
        let mut p = Packet::new_unchecked([0u8; 8]);
        p.set_echo(0x1234, 0x5678);
        assert_eq!((p.echo_ident(), p.echo_seq(), p.pointer()), (0x1234, 0x5678, 0x1234_5678));
    }

    #[test]
    fn no_panic_on_prefixes_or_garbage() {
        let (s, d) = (Ipv6Addr::UNSPECIFIED, Ipv6Addr::LOCALHOST);
        let req = hex(&alloc::format!("8000 0000 6de5 0001 {PING_DATA}"));
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut buf = [0u8; 72];
        for i in 0..5000 {
            let n = i % buf.len();
            if i < req.len() {
                buf[..req.len()].copy_from_slice(&req);
            } else {
                for b in buf.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                buf[0] = [1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 143, buf[0]][i % 13];
                buf[1] &= 1;
            }
            let mut p = Packet::new_unchecked(&mut buf[..n]);
            if n >= 4 {
                p.fill_checksum(&s, &d);
            }
            let Ok(p) = Packet::new_checked(&buf[..n]) else { continue };
            let _ = (p.payload(), p.mtu(), p.checksum());
            if let Ok(r) = Repr::parse(&s, &d, &p) {
                let mut out = [0u8; 128];
                let o = &mut out[..r.buffer_len()];
                r.emit(&s, &d, &mut Packet::new_unchecked(&mut *o));
                assert_eq!(Repr::parse(&s, &d, &Packet::new_checked(&*o).unwrap()), Ok(r));
            }
        }
    }
}
