//! IPv6 extension headers (RFC 8200 §4): Hop-by-Hop and Destination Options with their
//! TLV options, Routing, Fragment, and a walker over a chain of them.
//!
//! Each view wraps a buffer that starts at the header and runs to the end of the IPv6
//! payload; `payload()` is what follows the header. In what order and with what effect
//! the headers are processed is the stack's business: Linux 4.3 parses Hop-by-Hop in
//! `ipv6_rcv` only when the fixed header names it, then `ip6_input_finish` dispatches on
//! each next-header value in turn (Routing: `ipv6_rthdr_rcv`, Fragment: `ipv6_frag_rcv`,
//! Destination Options: `ipv6_destopt_rcv`), with no rule on order or repetition beyond
//! "a Hop-by-Hop header anywhere else is an unknown next header" (spec §3.2).

use super::{ip_proto, Ipv6Addr, Result, WireError};

/// Bytes of an options or routing header whose Hdr Ext Len is `hdr_ext_len`: 8-octet
/// units not counting the first 8 (`ipv6_optlen`).
pub const fn ext_len(hdr_ext_len: u8) -> usize {
    (hdr_ext_len as usize + 1) * 8
}

/// Length of the Fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// The checks `ipv6_parse_hopopts`, `ipv6_destopt_rcv` and `ipv6_rthdr_rcv` open with:
/// 8 bytes present, then the whole header; failing either is a silent drop.
fn check_ext(b: &[u8]) -> Result<()> {
    if b.len() < 8 || b.len() < ext_len(b[1]) {
        return Err(WireError::Truncated);
    }
    Ok(())
}

/// Option types (RFC 8200 §4.2, RFC 2711, RFC 2675, RFC 2473, RFC 6275).
pub mod opt_type {
    /// A single byte of padding, no length byte.
    pub const PAD1: u8 = 0;
    /// Padding of 2 or more bytes.
    pub const PADN: u8 = 1;
    /// Tunnel encapsulation limit (RFC 2473, Destination Options).
    pub const TUNNEL_ENCAP_LIMIT: u8 = 4;
    /// Router Alert (RFC 2711, Hop-by-Hop).
    pub const ROUTER_ALERT: u8 = 5;
    /// Jumbo Payload (RFC 2675, Hop-by-Hop).
    pub const JUMBO: u8 = 0xc2;
    /// Home Address (RFC 6275, Destination Options, Mobile IPv6 only).
    pub const HOME_ADDRESS: u8 = 0xc9;
}

/// What a node that does not recognise an option must do: its type's top two bits
/// (RFC 8200 §4.2, Linux `ip6_tlvopt_unknown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownAction {
    /// `00`: skip the option.
    Skip,
    /// `01`: discard the packet silently.
    Discard,
    /// `10`: discard, and send Parameter Problem code 2 pointing at the option type even
    /// if the destination was multicast.
    DiscardAndReport,
    /// `11`: discard, and send Parameter Problem code 2 only if the destination was not
    /// multicast.
    DiscardAndReportUnicast,
}

impl UnknownAction {
    /// The action encoded in `opt_type`.
    pub const fn of(opt_type: u8) -> UnknownAction {
        match opt_type >> 6 {
            0 => UnknownAction::Skip,
            1 => UnknownAction::Discard,
            2 => UnknownAction::DiscardAndReport,
            _ => UnknownAction::DiscardAndReportUnicast,
        }
    }
}

/// Whether the option's data may change en route (the third-highest type bit).
pub const fn may_change(opt_type: u8) -> bool {
    opt_type & 0x20 != 0
}

/// One TLV option of an options header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv6Option<'a> {
    /// Pad1.
    Pad1,
    /// PadN with its data bytes (Linux requires them zero).
    PadN(&'a [u8]),
    /// Router Alert value (2 data bytes; `ipv6_hop_ra`).
    RouterAlert(u16),
    /// Jumbo payload length (4 data bytes at offset 4n+2; `ipv6_hop_jumbo`).
    Jumbo(u32),
    /// Tunnel encapsulation limit (1 data byte). Only `ip6_tnl_parse_tlv_enc_lim` reads
    /// it (and skips one of another length, left [`Unknown`](Self::Unknown) here); to
    /// `ip6_parse_tlv` it is an unknown option whose action is skip.
    TunnelEncapLimit(u8),
    /// Home Address (16 data bytes; `ipv6_dest_hao`).
    HomeAddress(Ipv6Addr),
    /// (type, data): a type above whose length (or, for Jumbo, alignment) its Linux
    /// handler rejects; where the handler runs, that is a silent drop.
    Invalid(u8, &'a [u8]),
    /// (type, data) of any other type; the stack applies [`UnknownAction::of`] to it. Which types are
    /// known depends on the header: Linux 4.3 knows Router Alert and Jumbo in Hop-by-Hop
    /// and Home Address (with Mobile IPv6) in Destination Options, so e.g. a Jumbo option
    /// in a Destination Options header is unknown there.
    Unknown(u8, &'a [u8]),
}

impl<'a> Ipv6Option<'a> {
    /// Classifies an option starting at byte `offset` of its header. Headers start at a
    /// multiple of 8 from the IPv6 header, so `offset` has the packet offset's alignment.
    fn parse(t: u8, data: &'a [u8], offset: usize) -> Ipv6Option<'a> {
        let invalid = Ipv6Option::Invalid(t, data);
        match (t, data.len()) {
            (opt_type::PADN, _) => Ipv6Option::PadN(data),
            (opt_type::ROUTER_ALERT, 2) => Ipv6Option::RouterAlert(u16::from_be_bytes([data[0], data[1]])),
            (opt_type::JUMBO, 4) if offset & 3 == 2 => {
                Ipv6Option::Jumbo(u32::from_be_bytes([data[0], data[1], data[2], data[3]]))
            }
            (opt_type::TUNNEL_ENCAP_LIMIT, 1) => Ipv6Option::TunnelEncapLimit(data[0]),
            (opt_type::HOME_ADDRESS, 16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(data);
                Ipv6Option::HomeAddress(Ipv6Addr::from(o))
            }
            (opt_type::ROUTER_ALERT | opt_type::JUMBO | opt_type::HOME_ADDRESS, _) => invalid,
            _ => Ipv6Option::Unknown(t, data),
        }
    }

    /// The option type byte.
    pub fn opt_type(&self) -> u8 {
        match *self {
            Ipv6Option::Pad1 => opt_type::PAD1,
            Ipv6Option::PadN(_) => opt_type::PADN,
            Ipv6Option::RouterAlert(_) => opt_type::ROUTER_ALERT,
            Ipv6Option::Jumbo(_) => opt_type::JUMBO,
            Ipv6Option::TunnelEncapLimit(_) => opt_type::TUNNEL_ENCAP_LIMIT,
            Ipv6Option::HomeAddress(_) => opt_type::HOME_ADDRESS,
            Ipv6Option::Invalid(t, _) | Ipv6Option::Unknown(t, _) => t,
        }
    }

    /// Bytes the option occupies, type and length bytes included.
    pub fn buffer_len(&self) -> usize {
        2 + match *self {
            Ipv6Option::Pad1 => return 1,
            Ipv6Option::PadN(d) | Ipv6Option::Invalid(_, d) | Ipv6Option::Unknown(_, d) => d.len(),
            Ipv6Option::RouterAlert(_) => 2,
            Ipv6Option::Jumbo(_) => 4,
            Ipv6Option::TunnelEncapLimit(_) => 1,
            Ipv6Option::HomeAddress(_) => 16,
        }
    }

    /// Writes the option at the start of `buf` (at least [`buffer_len`](Self::buffer_len)
    /// bytes; data of at most 255 bytes) and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let n = self.buffer_len();
        buf[0] = self.opt_type();
        if n == 1 {
            return 1;
        }
        buf[1] = (n - 2) as u8;
        let d = &mut buf[2..n];
        match *self {
            Ipv6Option::Pad1 => {}
            Ipv6Option::PadN(s) | Ipv6Option::Invalid(_, s) | Ipv6Option::Unknown(_, s) => d.copy_from_slice(s),
            Ipv6Option::RouterAlert(v) => d.copy_from_slice(&v.to_be_bytes()),
            Ipv6Option::Jumbo(v) => d.copy_from_slice(&v.to_be_bytes()),
            Ipv6Option::TunnelEncapLimit(v) => d[0] = v,
            Ipv6Option::HomeAddress(a) => d.copy_from_slice(&a.octets()),
        }
        n
    }
}

/// Why the TLV walk of `ip6_parse_tlv` gives up on a header (a silent drop, counted as
/// `InHdrErrors` by its callers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlvErrorKind {
    /// The option's length byte or data runs past the end of the header.
    Overrun,
    /// More than 7 consecutive padding bytes (RFC 4942 §2.1.9.5).
    TooMuchPadding,
    /// A PadN data byte is not zero (RFC 4942 §2.1.9.5 recommends checking).
    NonZeroPadding,
}

/// A failed TLV walk: why, and the offset in the header of the option at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlvError {
    /// Offset of the offending option's type byte from the start of the header.
    pub offset: usize,
    /// What is wrong with it.
    pub kind: TlvErrorKind,
}

impl From<TlvError> for WireError {
    fn from(_: TlvError) -> WireError {
        WireError::Malformed
    }
}

/// The options of one options header in order, each with the offset of its type byte
/// from the start of the header (add the header's offset in the packet for a Parameter
/// Problem pointer). Mirrors `ip6_parse_tlv`: the padding checks and the overrun check
/// happen where Linux makes them, so the options before a fault are yielded first; after
/// an error the iterator ends.
#[derive(Clone, Debug)]
pub struct TlvIter<'a> {
    header: &'a [u8],
    offset: usize,
    padlen: usize,
    done: bool,
}

impl<'a> TlvIter<'a> {
    /// Walks `header`, a whole options header (its length from Hdr Ext Len).
    pub fn new(header: &'a [u8]) -> TlvIter<'a> {
        TlvIter { header, offset: 2, padlen: 0, done: false }
    }

    fn fail(&mut self, offset: usize, kind: TlvErrorKind) -> Option<<Self as Iterator>::Item> {
        self.done = true;
        Some(Err(TlvError { offset, kind }))
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = core::result::Result<(usize, Ipv6Option<'a>), TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        let off = self.offset;
        if self.done || off >= self.header.len() {
            return None;
        }
        let t = self.header[off];
        if t == opt_type::PAD1 {
            self.padlen += 1;
            if self.padlen > 7 {
                return self.fail(off, TlvErrorKind::TooMuchPadding);
            }
            self.offset += 1;
            return Some(Ok((off, Ipv6Option::Pad1)));
        }
        let Some(&l) = self.header.get(off + 1) else {
            return self.fail(off, TlvErrorKind::Overrun);
        };
        let end = off + 2 + usize::from(l);
        if t == opt_type::PADN {
            self.padlen += 2 + usize::from(l);
            if self.padlen > 7 {
                return self.fail(off, TlvErrorKind::TooMuchPadding);
            }
        }
        let Some(data) = self.header.get(off + 2..end) else {
            return self.fail(off, TlvErrorKind::Overrun);
        };
        if t == opt_type::PADN {
            if data.iter().any(|&b| b != 0) {
                return self.fail(off, TlvErrorKind::NonZeroPadding);
            }
        } else {
            self.padlen = 0;
        }
        self.offset = end;
        Some(Ok((off, Ipv6Option::parse(t, data, off))))
    }
}

/// The boilerplate the three header views share: constructors, `check_len` (through
/// `$check`), `into_inner`, the header length (through `$len`), the payload after the
/// header, and a getter and setter for each listed one-byte field.
macro_rules! ext_view {
    ($(#[$m:meta])* $name:ident, $check:expr, $len:expr, $($(#[$fm:meta])* $get:ident / $set:ident = $idx:expr),*) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer` without checks; accessors may panic on a short buffer.
            pub const fn new_unchecked(buffer: T) -> Self {
                Self { buffer }
            }

            /// Wraps `buffer` after [`check_len`](Self::check_len); accessors are then total.
            pub fn new_checked(buffer: T) -> Result<Self> {
                let h = Self::new_unchecked(buffer);
                h.check_len()?;
                Ok(h)
            }

            /// Whether the whole header is present (`Truncated` if not).
            pub fn check_len(&self) -> Result<()> {
                let f: fn(&[u8]) -> Result<()> = $check;
                f(self.buffer.as_ref())
            }

            /// The wrapped buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }

            /// Bytes of the header.
            pub fn header_len(&self) -> usize {
                let f: fn(&[u8]) -> usize = $len;
                f(self.buffer.as_ref())
            }

            $($(#[$fm])* pub fn $get(&self) -> u8 {
                self.buffer.as_ref()[$idx]
            })*
        }

        impl<'a, T: AsRef<[u8]> + ?Sized> $name<&'a T> {
            /// What follows the header.
            pub fn payload(&self) -> &'a [u8] {
                let b: &'a [u8] = self.buffer.as_ref();
                &b[self.header_len()..]
            }
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $name<T> {
            /// What follows the header, mutable.
            pub fn payload_mut(&mut self) -> &mut [u8] {
                let n = self.header_len();
                &mut self.buffer.as_mut()[n..]
            }

            $(#[doc = concat!("Sets [`", stringify!($get), "`](Self::", stringify!($get), ").")]
            pub fn $set(&mut self, v: u8) {
                self.buffer.as_mut()[$idx] = v;
            })*
        }
    };
}

ext_view!(
    /// A Hop-by-Hop or Destination Options header (one layout); `check_len` is the
    /// "8 bytes, then the whole header" of `ipv6_parse_hopopts` / `ipv6_destopt_rcv`.
    OptionsHeader,
    check_ext,
    |b| ext_len(b[1]),
    /// Next Header.
    next_header / set_next_header = 0,
    /// Hdr Ext Len.
    hdr_ext_len / set_hdr_ext_len = 1
);

impl<'a, T: AsRef<[u8]> + ?Sized> OptionsHeader<&'a T> {
    /// The TLV area (the header after its first two bytes).
    pub fn options(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer.as_ref();
        &b[2..self.header_len()]
    }

    /// The options, each with its offset in the header.
    pub fn iter(&self) -> TlvIter<'a> {
        let b: &'a [u8] = self.buffer.as_ref();
        TlvIter::new(&b[..self.header_len()])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> OptionsHeader<T> {
    /// The TLV area, mutable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let n = self.header_len();
        &mut self.buffer.as_mut()[2..n]
    }
}

/// An options header as values: the next header and the raw TLV area, which the stack
/// walks with [`TlvIter`] (the walk's outcome is behaviour, not format).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionsRepr<'a> {
    /// Next Header.
    pub next_header: u8,
    /// The TLV area; `2 + options.len()` must be a multiple of 8.
    pub options: &'a [u8],
}

impl<'a> OptionsRepr<'a> {
    /// Reads a checked header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &OptionsHeader<&'a T>) -> Result<OptionsRepr<'a>> {
        header.check_len()?;
        Ok(OptionsRepr { next_header: header.next_header(), options: header.options() })
    }

    /// Bytes of the header.
    pub fn header_len(&self) -> usize {
        2 + self.options.len()
    }

    /// Same as [`header_len`](Self::header_len): the payload is not part of the repr.
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header into the start of `header`'s buffer.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut OptionsHeader<T>) {
        debug_assert!(self.header_len().is_multiple_of(8) && self.header_len() <= 2048);
        header.set_next_header(self.next_header);
        header.set_hdr_ext_len((self.header_len() / 8).saturating_sub(1) as u8);
        header.options_mut().copy_from_slice(self.options);
    }
}

/// Routing types (IANA).
pub mod routing_type {
    /// Type 0 source route, deprecated by RFC 5095; Linux 4.3 has no handler for it.
    pub const TYPE0: u8 = 0;
    /// Type 2, Mobile IPv6 home address (RFC 6275 §6.4).
    pub const TYPE2: u8 = 2;
    /// RPL source route (RFC 6554); no handler in 4.3.
    pub const RPL: u8 = 3;
    /// Segment Routing (RFC 8754); no handler in 4.3.
    pub const SRH: u8 = 4;
}

ext_view!(
    /// A Routing header; `check_len` is the "8 bytes, then the whole header" of
    /// `ipv6_rthdr_rcv`.
    RoutingHeader,
    check_ext,
    |b| ext_len(b[1]),
    /// Next Header.
    next_header / set_next_header = 0,
    /// Hdr Ext Len.
    hdr_ext_len / set_hdr_ext_len = 1,
    /// Routing Type (byte 2: the Parameter Problem pointer for an unsupported type).
    routing_type / set_routing_type = 2,
    /// Segments Left (byte 3).
    segments_left / set_segments_left = 3
);

impl<T: AsRef<[u8]>> RoutingHeader<T> {
    /// For Type 2 with Hdr Ext Len 2, the one address (RFC 6275 §6.4; Linux drops a
    /// Type 2 header of another length silently).
    pub fn home_address(&self) -> Option<Ipv6Addr> {
        if self.routing_type() != routing_type::TYPE2 || self.hdr_ext_len() != 2 {
            return None;
        }
        addresses(&self.buffer.as_ref()[8..24]).next()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> RoutingHeader<&'a T> {
    /// The type-specific data (from byte 4 to the end of the header); for Types 0 and 2,
    /// 4 reserved bytes then the [`addresses`].
    pub fn data(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer.as_ref();
        &b[4..self.header_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RoutingHeader<T> {
    /// The type-specific data, mutable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let n = self.header_len();
        &mut self.buffer.as_mut()[4..n]
    }
}

/// The addresses packed in `b`, 16 bytes each.
pub fn addresses(b: &[u8]) -> impl Iterator<Item = Ipv6Addr> + '_ {
    b.chunks_exact(16).map(|c| {
        let mut o = [0u8; 16];
        o.copy_from_slice(c);
        Ipv6Addr::from(o)
    })
}

/// A Routing header as values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoutingRepr<'a> {
    /// Type 0 with an even Hdr Ext Len (RFC 2460 §4.4): `addresses` is a multiple of 16
    /// bytes (see [`addresses`]). Linux 4.3 treats it like any unknown type.
    Type0 {
        /// Next Header.
        next_header: u8,
        /// Segments Left.
        segments_left: u8,
        /// The packed addresses.
        addresses: &'a [u8],
    },
    /// Type 2 with Hdr Ext Len 2: exactly one address (RFC 6275 §6.4).
    Type2 {
        /// Next Header.
        next_header: u8,
        /// Segments Left (must be 1 for Linux to process it).
        segments_left: u8,
        /// The home address.
        home_address: Ipv6Addr,
    },
    /// Anything else, kept raw.
    Other {
        /// Next Header.
        next_header: u8,
        /// Routing Type.
        routing_type: u8,
        /// Segments Left.
        segments_left: u8,
        /// Bytes 4.. of the header; `4 + data.len()` is a multiple of 8.
        data: &'a [u8],
    },
}

impl<'a> RoutingRepr<'a> {
    /// Reads a checked header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &RoutingHeader<&'a T>) -> Result<RoutingRepr<'a>> {
        header.check_len()?;
        let (next_header, segments_left) = (header.next_header(), header.segments_left());
        if let Some(home_address) = header.home_address() {
            return Ok(RoutingRepr::Type2 { next_header, segments_left, home_address });
        }
        if header.routing_type() == routing_type::TYPE0 && header.hdr_ext_len().is_multiple_of(2) {
            return Ok(RoutingRepr::Type0 { next_header, segments_left, addresses: &header.data()[4..] });
        }
        Ok(RoutingRepr::Other { next_header, routing_type: header.routing_type(), segments_left, data: header.data() })
    }

    /// Bytes of the header.
    pub fn header_len(&self) -> usize {
        match *self {
            RoutingRepr::Type0 { addresses, .. } => 8 + addresses.len(),
            RoutingRepr::Type2 { .. } => 24,
            RoutingRepr::Other { data, .. } => 4 + data.len(),
        }
    }

    /// Same as [`header_len`](Self::header_len).
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header (reserved bytes zero) into the start of `header`'s buffer.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut RoutingHeader<T>) {
        let n = self.header_len();
        debug_assert!(n.is_multiple_of(8) && n <= 2048);
        header.set_hdr_ext_len((n / 8).saturating_sub(1) as u8);
        let (nh, t, sl) = match *self {
            RoutingRepr::Type0 { next_header, segments_left, addresses } => {
                let d = header.data_mut();
                d[..4].fill(0);
                d[4..].copy_from_slice(addresses);
                (next_header, routing_type::TYPE0, segments_left)
            }
            RoutingRepr::Type2 { next_header, segments_left, home_address } => {
                let d = header.data_mut();
                d[..4].fill(0);
                d[4..].copy_from_slice(&home_address.octets());
                (next_header, routing_type::TYPE2, segments_left)
            }
            RoutingRepr::Other { next_header, routing_type, segments_left, data } => {
                header.data_mut().copy_from_slice(data);
                (next_header, routing_type, segments_left)
            }
        };
        header.set_next_header(nh);
        header.set_routing_type(t);
        header.set_segments_left(sl);
    }
}

ext_view!(
    /// A Fragment header (RFC 8200 §4.5). `check_len` wants 8 bytes; `ipv6_frag_rcv`
    /// answers a short one with Parameter Problem code 0 at the header, the stack's job.
    FragmentHeader,
    |b| if b.len() < FRAGMENT_HEADER_LEN { Err(WireError::Truncated) } else { Ok(()) },
    |_| FRAGMENT_HEADER_LEN,
    /// Next Header.
    next_header / set_next_header = 0
);

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    /// The 16-bit word: offset in the top 13 bits, 2 reserved bits, M in bit 0.
    pub fn frag_off_word(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[2], b[3]])
    }

    /// Fragment Offset in 8-octet units.
    pub fn frag_offset(&self) -> u16 {
        self.frag_off_word() >> 3
    }

    /// Fragment Offset in bytes (`frag_off & IP6_OFFSET`).
    pub fn byte_offset(&self) -> usize {
        usize::from(self.frag_off_word() & 0xfff8)
    }

    /// The M (more fragments) flag.
    pub fn more_frags(&self) -> bool {
        self.frag_off_word() & 1 != 0
    }

    /// Offset 0 and M clear, reserved bits ignored (`frag_off & 0xFFF9 == 0` in
    /// `ipv6_frag_rcv`): an atomic fragment, processed alone (RFC 6946 §4).
    pub fn is_atomic(&self) -> bool {
        self.frag_off_word() & 0xfff9 == 0
    }

    /// Identification.
    pub fn ident(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> FragmentHeader<T> {
    /// Sets the offset word from an offset in 8-octet units and the M flag (reserved bits 0).
    pub fn set_frag_off(&mut self, units: u16, more: bool) {
        let w = (units << 3) | u16::from(more);
        self.buffer.as_mut()[1..4].copy_from_slice(&[0, (w >> 8) as u8, w as u8]);
    }

    /// Sets Identification.
    pub fn set_ident(&mut self, id: u32) {
        self.buffer.as_mut()[4..8].copy_from_slice(&id.to_be_bytes());
    }
}

/// A Fragment header as values (the reserved fields are dropped; emit writes zeros).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentRepr {
    /// Next Header.
    pub next_header: u8,
    /// Fragment Offset in 8-octet units (13 bits).
    pub frag_offset: u16,
    /// M flag.
    pub more_frags: bool,
    /// Identification.
    pub ident: u32,
}

impl FragmentRepr {
    /// Reads a checked header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &FragmentHeader<&T>) -> Result<FragmentRepr> {
        header.check_len()?;
        Ok(FragmentRepr {
            next_header: header.next_header(),
            frag_offset: header.frag_offset(),
            more_frags: header.more_frags(),
            ident: header.ident(),
        })
    }

    /// Always 8.
    pub const fn header_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }

    /// Always 8.
    pub const fn buffer_len(&self) -> usize {
        FRAGMENT_HEADER_LEN
    }

    /// Writes the header into the start of `header`'s buffer.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut FragmentHeader<T>) {
        header.set_next_header(self.next_header);
        header.set_frag_off(self.frag_offset & 0x1fff, self.more_frags);
        header.set_ident(self.ident);
    }
}

/// The extension headers a chain walk steps over (Linux `ipv6_ext_hdr`, less No Next
/// Header, which ends a chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtKind {
    /// Hop-by-Hop Options (0).
    HopByHop,
    /// Routing (43).
    Routing,
    /// Fragment (44).
    Fragment,
    /// Destination Options (60).
    DestOpts,
    /// Authentication Header (51), whose length is in 4-octet units less 2.
    Auth,
}

impl ExtKind {
    /// The kind a next-header value names, if it is an extension header.
    pub const fn from_next_header(nh: u8) -> Option<ExtKind> {
        match nh {
            ip_proto::HOPOPTS => Some(ExtKind::HopByHop),
            ip_proto::ROUTING => Some(ExtKind::Routing),
            ip_proto::FRAGMENT => Some(ExtKind::Fragment),
            ip_proto::DSTOPTS => Some(ExtKind::DestOpts),
            ip_proto::AH => Some(ExtKind::Auth),
            _ => None,
        }
    }
}

/// One extension header found by [`ExtHeaderChain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader {
    /// Which header.
    pub kind: ExtKind,
    /// Its offset from the start of the IPv6 payload.
    pub offset: usize,
    /// Its length in bytes, from its length field (it may run past the payload).
    pub len: usize,
    /// The next-header value it carries.
    pub next_header: u8,
}

/// Where an [`ExtHeaderChain`] stops: the first header that is not an extension header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpperLayer {
    /// Its next-header value (an upper-layer protocol, No Next Header, or unknown).
    pub next_header: u8,
    /// Its offset from the start of the IPv6 payload (may be at or past its end).
    pub offset: usize,
    /// Offset from the start of the IPv6 packet of the byte holding `next_header`
    /// (Linux's `nhoff`: 6 if the fixed header names it): the Parameter Problem code 1
    /// pointer when nothing handles it.
    pub nhoff: usize,
    /// Non-zero when the walk crossed a Fragment header with this byte offset: the bytes
    /// at `offset` are then the middle of the upper-layer data, not its header
    /// (`ipv6_skip_exthdr` stops there too).
    pub frag_offset: u16,
}

/// An item of an [`ExtHeaderChain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainItem {
    /// An extension header.
    Ext(ExtHeader),
    /// The end of the chain; always the last item of a walk that did not fail.
    Upper(UpperLayer),
}

/// Walks the extension headers of an IPv6 payload the way `ipv6_skip_exthdr` does,
/// which `icmp6_send` uses to see whether the invoking packet is an ICMPv6 error: any
/// extension header anywhere is stepped over (the stack rejects a misplaced Hop-by-Hop
/// from the [`ExtHeader::offset`] it sees), and the walk ends at the first other value
/// or after a non-first fragment. Like `ipv6_skip_exthdr` it reads only what it needs
/// (next header and length, and a Fragment header's offset word), so a header may run
/// past the payload; the walk fails with `Truncated` (Linux: -1) only when those bytes
/// are missing. Every header is at least 8 bytes, so a walk yields at most
/// `payload.len() / 8 + 2` items whatever the bytes say; the count is checked too.
#[derive(Clone, Debug)]
pub struct ExtHeaderChain<'a> {
    payload: &'a [u8],
    next_header: u8,
    offset: usize,
    nhoff: usize,
    frag_offset: u16,
    steps: usize,
    done: bool,
}

impl<'a> ExtHeaderChain<'a> {
    /// Walks `payload`, whose first header is named `next_header` by the fixed header.
    pub fn new(next_header: u8, payload: &'a [u8]) -> ExtHeaderChain<'a> {
        ExtHeaderChain { payload, next_header, offset: 0, nhoff: 6, frag_offset: 0, steps: 0, done: false }
    }

    /// Runs the walk to its end.
    pub fn upper_layer(next_header: u8, payload: &'a [u8]) -> Result<UpperLayer> {
        for item in ExtHeaderChain::new(next_header, payload) {
            if let ChainItem::Upper(u) = item? {
                return Ok(u);
            }
        }
        Err(WireError::Malformed)
    }
}

impl Iterator for ExtHeaderChain<'_> {
    type Item = Result<ChainItem>;

    fn next(&mut self) -> Option<Result<ChainItem>> {
        if self.done {
            return None;
        }
        self.steps += 1;
        if self.steps > self.payload.len() / 8 + 2 {
            // Unreachable (every header is at least 8 bytes); the bound stands anyway.
            self.done = true;
            return Some(Err(WireError::Malformed));
        }
        let kind = match ExtKind::from_next_header(self.next_header) {
            Some(kind) if self.frag_offset == 0 => kind,
            _ => {
                self.done = true;
                let (next_header, offset, nhoff) = (self.next_header, self.offset, self.nhoff);
                return Some(Ok(ChainItem::Upper(UpperLayer {
                    next_header,
                    offset,
                    nhoff,
                    frag_offset: self.frag_offset,
                })));
            }
        };
        let rest = self.payload.get(self.offset..).unwrap_or(&[]);
        if rest.len() < if kind == ExtKind::Fragment { 4 } else { 2 } {
            self.done = true;
            return Some(Err(WireError::Truncated));
        }
        let len = match kind {
            ExtKind::Fragment => FRAGMENT_HEADER_LEN,
            ExtKind::Auth => (usize::from(rest[1]) + 2) * 4,
            _ => ext_len(rest[1]),
        };
        if kind == ExtKind::Fragment {
            // `frag_off & ~0x7` in ipv6_skip_exthdr: a later fragment ends the walk.
            self.frag_offset = u16::from_be_bytes([rest[2], rest[3]]) & 0xfff8;
        }
        let h = ExtHeader { kind, offset: self.offset, len, next_header: rest[0] };
        self.nhoff = super::ipv6::HEADER_LEN + self.offset;
        self.offset += len;
        self.next_header = rest[0];
        Some(Ok(ChainItem::Ext(h)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{checksum, ipv6};
    use super::*;
    use alloc::vec::Vec;

    /// The first fragment of a 1232-byte UDP datagram Linux sent with an IPV6_HOPOPTS
    /// sticky option (Router Alert 0 + PadN) over a 1280-byte MTU veth (captured in a
    /// scratch network namespace): IPv6 | HBH | Fragment | UDP, then data bytes i % 256.
    const FIRST_FRAG_HEAD: [u8; 64] = [
        0x60, 0x0e, 0x49, 0x57, 0x04, 0xd8, 0x00, 0x40, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe,
        0x12, 0x34, 0x56, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe, 0xab, 0xcd, 0xef, //
        0x2c, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, // HBH: next Fragment, RA 0, PadN 2
        0x11, 0x00, 0x00, 0x01, 0x23, 0x33, 0xfd, 0xb3, // Fragment: next UDP, offset 0, M
        0xa5, 0x36, 0x00, 0x09, 0x04, 0xd8, 0xae, 0xe8, // UDP 42294 -> 9, length 1240
    ];
    /// The second fragment of the same datagram: offset 1224, the last 16 data bytes.
    const SECOND_FRAG: [u8; 72] = [
        0x60, 0x0e, 0x49, 0x57, 0x00, 0x20, 0x00, 0x40, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe,
        0x12, 0x34, 0x56, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe, 0xab, 0xcd, 0xef, //
        0x2c, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, 0x11, 0x00, 0x04, 0xc8, 0x23, 0x33, 0xfd, 0xb3, 0xc0, 0xc1,
        0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    ];

    fn walk(nh: u8, payload: &[u8]) -> Vec<Result<ChainItem>> {
        ExtHeaderChain::new(nh, payload).collect()
    }

    fn ext(kind: ExtKind, offset: usize, len: usize, next_header: u8) -> Result<ChainItem> {
        Ok(ChainItem::Ext(ExtHeader { kind, offset, len, next_header }))
    }

    fn upper(next_header: u8, offset: usize, nhoff: usize, frag_offset: u16) -> Result<ChainItem> {
        Ok(ChainItem::Upper(UpperLayer { next_header, offset, nhoff, frag_offset }))
    }

    #[test]
    fn linux_hbh_fragment_udp() {
        let mut pkt = FIRST_FRAG_HEAD.to_vec();
        pkt.extend((0..1216u32).map(|i| i as u8));
        let ip = ipv6::Packet::new_checked(&pkt[..]).unwrap();
        let pl = ip.payload();
        assert_eq!(pl.len(), 1240);
        assert_eq!(
            walk(ip.next_header(), pl),
            [
                ext(ExtKind::HopByHop, 0, 8, ip_proto::FRAGMENT),
                ext(ExtKind::Fragment, 8, 8, ip_proto::UDP),
                upper(ip_proto::UDP, 16, 48, 0)
            ]
        );
        let hbh = OptionsHeader::new_checked(pl).unwrap();
        let opts: Vec<_> = hbh.iter().collect();
        assert_eq!(opts, [Ok((2, Ipv6Option::RouterAlert(0))), Ok((6, Ipv6Option::PadN(&[])))]);
        let frag = FragmentHeader::new_checked(hbh.payload()).unwrap();
        assert_eq!(
            (frag.frag_offset(), frag.more_frags(), frag.ident(), frag.is_atomic()),
            (0, true, 0x2333_fdb3, false)
        );
        // The datagram's UDP checksum verifies over both fragments' data (0..1232).
        let data: Vec<u8> = (0..1232u32).map(|i| i as u8).collect();
        let ph = checksum::pseudo_header_v6(&ip.src_addr(), &ip.dst_addr(), ip_proto::UDP, 1240);
        assert_eq!(
            checksum::fold(checksum::combine(&[ph, checksum::sum(&frag.payload()[..8]), checksum::sum(&data)])),
            0
        );
        // Reprs round-trip to the captured bytes.
        let (o, f) = (OptionsRepr::parse(&hbh).unwrap(), FragmentRepr::parse(&frag).unwrap());
        let mut buf = [0u8; 16];
        o.emit(&mut OptionsHeader::new_unchecked(&mut buf[..8]));
        f.emit(&mut FragmentHeader::new_unchecked(&mut buf[8..]));
        assert_eq!(buf, FIRST_FRAG_HEAD[40..56]);
        let mut rebuilt = [0u8; 8];
        let n = Ipv6Option::RouterAlert(0).emit(&mut rebuilt[2..]);
        Ipv6Option::PadN(&[]).emit(&mut rebuilt[2 + n..]);
        assert_eq!(rebuilt[2..], FIRST_FRAG_HEAD[42..48]);

        // A later fragment ends the walk right after its Fragment header.
        let ip2 = ipv6::Packet::new_checked(&SECOND_FRAG[..]).unwrap();
        assert_eq!(walk(ip2.next_header(), ip2.payload())[2], upper(ip_proto::UDP, 16, 48, 1224));
        let f2 = FragmentHeader::new_checked(&ip2.payload()[8..]).unwrap();
        assert_eq!((f2.byte_offset(), f2.frag_offset(), f2.more_frags()), (1224, 153, false));
        assert_eq!(f2.payload()[0], 0xc0);
    }

    #[test]
    fn tlv_walk_follows_ip6_parse_tlv() {
        fn opts(h: &[u8]) -> Vec<<TlvIter<'_> as Iterator>::Item> {
            TlvIter::new(h).collect()
        }
        let err = |offset, kind| Err(TlvError { offset, kind });
        assert_eq!(opts(&[59, 0, 0, 0, 0, 0, 0, 0]).len(), 6);
        let mut big = [0u8; 16];
        big[2..4].copy_from_slice(&[1, 12]);
        assert_eq!(opts(&big), [err(2, TlvErrorKind::TooMuchPadding)]);
        assert_eq!(opts(&[59, 0, 1, 4, 0, 0, 1, 0]), [err(2, TlvErrorKind::NonZeroPadding)]);
        assert_eq!(opts(&[59, 0, 0x80, 10, 0, 0, 0, 0]), [err(2, TlvErrorKind::Overrun)]);
        let tail = opts(&[59, 0, 1, 2, 0, 0, 0, 5]);
        assert_eq!(tail[2], err(7, TlvErrorKind::Overrun));
        assert_eq!(opts(&[59, 0, 0xc2, 4, 0, 1, 0, 0]), [Ok((2, Ipv6Option::Jumbo(65536)))]);
        let misaligned = opts(&[59, 1, 0, 0xc2, 4, 0, 1, 0, 0, 1, 5, 0, 0, 0, 0, 0]);
        assert_eq!(
            misaligned[1..],
            [Ok((3, Ipv6Option::Invalid(0xc2, &[0, 1, 0, 0]))), Ok((9, Ipv6Option::PadN(&[0; 5])))]
        );
        assert_eq!(opts(&[59, 0, 5, 3, 0, 0, 0, 0])[0], Ok((2, Ipv6Option::Invalid(5, &[0, 0, 0]))));
        // Linux's Parameter Problem for this option (captured) points at 40 + 2 = 42.
        let unknown = opts(&[0x11, 0, 0x80, 4, 0, 0, 0, 0]);
        assert_eq!(unknown, [Ok((2, Ipv6Option::Unknown(0x80, &[0; 4])))]);
        let (ha, ha_opt) = (
            [0x20u8, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            Ipv6Option::HomeAddress("2001:db8::1".parse().unwrap()),
        );
        let mut h = [0u8; 24];
        h[2..6].copy_from_slice(&[1, 2, 0, 0]);
        assert_eq!(ha_opt.emit(&mut h[6..]), 18);
        assert_eq!((&h[8..], opts(&h)[1]), (&ha[..], Ok((6, ha_opt))));
        use UnknownAction::*;
        let actions = [0x3e, 0x7e, 0x80, 0xc9].map(UnknownAction::of);
        assert_eq!(actions, [Skip, Discard, DiscardAndReport, DiscardAndReportUnicast]);
        assert!(may_change(0x3e) && !may_change(0xc2));
        assert_eq!(WireError::from(TlvError { offset: 2, kind: TlvErrorKind::Overrun }), WireError::Malformed);
    }

    #[test]
    fn routing_headers_round_trip() {
        let a1: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let mut addrs = [0u8; 32];
        addrs[..16].copy_from_slice(&a1.octets());
        addrs[16..].copy_from_slice(&Ipv6Addr::LOCALHOST.octets());
        let data = [9u8; 12];
        for r in [
            RoutingRepr::Type2 { next_header: 6, segments_left: 1, home_address: a1 },
            RoutingRepr::Type0 { next_header: 17, segments_left: 2, addresses: &addrs },
            RoutingRepr::Other { next_header: 59, routing_type: routing_type::SRH, segments_left: 0, data: &data },
        ] {
            let mut buf = [0u8; 48];
            r.emit(&mut RoutingHeader::new_unchecked(&mut buf[..r.buffer_len()]));
            let h = RoutingHeader::new_checked(&buf[..r.buffer_len()]).unwrap();
            assert_eq!((RoutingRepr::parse(&h).unwrap(), h.header_len()), (r, r.header_len()));
        }
        let t0 = [17u8, 4, 0, 2, 0, 0, 0, 0].iter().chain(addrs.iter()).copied().collect::<Vec<_>>();
        let h = RoutingHeader::new_checked(&t0[..]).unwrap();
        assert_eq!(addresses(&h.data()[4..]).collect::<Vec<_>>(), [a1, Ipv6Addr::LOCALHOST]);
        // Odd-length Type 0 and a Type 2 of the wrong length stay raw.
        let odd = [17u8, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            RoutingRepr::parse(&RoutingHeader::new_checked(&odd[..]).unwrap()),
            Ok(RoutingRepr::Other { .. })
        ));
        let mut t2 = t0.clone();
        t2[2] = routing_type::TYPE2;
        assert_eq!(RoutingHeader::new_checked(&t2[..]).unwrap().home_address(), None);
        assert_eq!(RoutingHeader::new_checked(&t0[..39]).unwrap_err(), WireError::Truncated);
    }

    #[test]
    fn chain_edge_cases() {
        assert_eq!(walk(253, &[]), [upper(253, 0, 6, 0)]);
        assert_eq!(walk(ip_proto::NONE, &[1, 2]), [upper(ip_proto::NONE, 0, 6, 0)]);
        // Hop-by-Hop after Destination Options: stepped over, its offset tells the stack.
        let p = [0u8, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0, 128];
        assert_eq!(walk(60, &p)[1], ext(ExtKind::HopByHop, 8, 8, 58));
        assert_eq!(walk(60, &p)[2], upper(58, 16, 48, 0));
        // AH counts 4-octet units less 2; an atomic fragment does not stop the walk.
        let ah = [44u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 6, 0, 0, 0, 1];
        assert_eq!(walk(51, &ah)[0], ext(ExtKind::Auth, 0, 12, 44));
        assert_eq!(walk(51, &ah)[2], upper(17, 20, 52, 0));
        assert!(FragmentHeader::new_checked(&ah[12..]).unwrap().is_atomic());
        // Only the bytes ipv6_skip_exthdr reads must be there.
        assert_eq!(walk(0, &[6, 1, 0, 0, 0, 0, 0, 0]), [ext(ExtKind::HopByHop, 0, 16, 6), upper(6, 16, 40, 0)]);
        assert_eq!(walk(0, &[60, 1, 0, 0, 0, 0, 0, 0])[1], Err(WireError::Truncated));
        assert_eq!(walk(44, &[6, 0, 0]), [Err(WireError::Truncated)]);
        assert_eq!(ExtHeaderChain::upper_layer(0, &p[8..]).unwrap().next_header, ip_proto::ICMPV6);
    }

    #[test]
    fn no_panic_on_prefixes_or_garbage() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut buf = [0u8; 64];
        for i in 0..6000 {
            if i < FIRST_FRAG_HEAD.len() - 40 {
                buf[..24].copy_from_slice(&FIRST_FRAG_HEAD[40..]);
            } else {
                for b in buf.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                buf[1] &= 7;
                if i % 2 == 0 {
                    // Chain next-header bytes through extension headers more often.
                    for k in (0..64).step_by(8) {
                        buf[k] = [0, 43, 44, 51, 60, 17][usize::from(buf[k] % 6)];
                    }
                }
            }
            let b = &buf[..i % 64];
            if let Ok(h) = OptionsHeader::new_checked(b) {
                let n = h.iter().count();
                assert!(n <= h.header_len());
                let _ = (OptionsRepr::parse(&h).unwrap().buffer_len(), h.payload());
            }
            if let Ok(h) = RoutingHeader::new_checked(b) {
                let r = RoutingRepr::parse(&h).unwrap();
                let mut out = [0u8; 64];
                r.emit(&mut RoutingHeader::new_unchecked(&mut out[..r.buffer_len()]));
                assert_eq!(RoutingRepr::parse(&RoutingHeader::new_checked(&out[..r.buffer_len()]).unwrap()), Ok(r));
            }
            if let Ok(h) = FragmentHeader::new_checked(b) {
                let _ = (FragmentRepr::parse(&h), h.payload(), h.byte_offset());
            }
            for nh in [0, 43, 44, 51, 60, x as u8] {
                assert!(ExtHeaderChain::new(nh, b).count() <= b.len() / 8 + 2);
            }
        }
    }
}
