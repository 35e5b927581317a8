//! Neighbour Discovery messages and options (RFC 4861 §4).
//!
//! [`Packet`] views a whole ICMPv6 message of an ND type (type, code and checksum
//! included; the checksum is [`icmpv6`](super::icmpv6)'s to verify and fill). Its
//! `new_checked` applies the per-type minimum lengths of Linux's `ndisc_recv_*`
//! (`sizeof(struct rs_msg)` and friends); [`Repr::parse`] adds the checks Linux makes on
//! the message alone — code 0 (`ndisc_rcv`), well-formed options (`ndisc_parse_options`),
//! a link-layer option of the device's size (`ndisc_opt_addr_data`), a unicast target
//! (`ndisc_recv_ns`, `ndisc_recv_na`) — and leaves those that need the IPv6 header
//! (hop limit 255, DAD source and destination, link-local RA source) to the stack.
//! Every failure is a silent drop in Linux.

use super::{EthernetAddress, Ipv6Addr, Result, WireError};

/// ND message types (the ICMPv6 type byte).
pub mod msg_type {
    /// Router Solicitation.
    pub const ROUTER_SOLICIT: u8 = 133;
    /// Router Advertisement.
    pub const ROUTER_ADVERT: u8 = 134;
    /// Neighbor Solicitation.
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbor Advertisement.
    pub const NEIGHBOR_ADVERT: u8 = 136;
    /// Redirect.
    pub const REDIRECT: u8 = 137;
}

/// ND option types (RFC 4861 §4.6).
pub mod opt_type {
    /// Source Link-Layer Address.
    pub const SOURCE_LL_ADDR: u8 = 1;
    /// Target Link-Layer Address.
    pub const TARGET_LL_ADDR: u8 = 2;
    /// Prefix Information.
    pub const PREFIX_INFO: u8 = 3;
    /// Redirected Header.
    pub const REDIRECTED_HDR: u8 = 4;
    /// MTU.
    pub const MTU: u8 = 5;
}

/// RA flag M, managed address configuration (byte 5 of the message).
pub const RA_MANAGED: u8 = 0x80;
/// RA flag O, other configuration.
pub const RA_OTHER: u8 = 0x40;
/// NA flag R, sender is a router (top bits of byte 4).
pub const NA_ROUTER: u8 = 0x80;
/// NA flag S, solicited.
pub const NA_SOLICITED: u8 = 0x40;
/// NA flag O, override.
pub const NA_OVERRIDE: u8 = 0x20;
/// Prefix Information flag L, on-link.
pub const PREFIX_ON_LINK: u8 = 0x80;
/// Prefix Information flag A, autonomous address configuration.
pub const PREFIX_AUTONOMOUS: u8 = 0x40;

/// Bytes before the options of a message of type `t`, which are also its minimum length
/// (`rs_msg` 8, `ra_msg` 16, `nd_msg` 24, `rd_msg` 40), or `None` for a non-ND type.
pub const fn header_len(t: u8) -> Option<usize> {
    match t {
        msg_type::ROUTER_SOLICIT => Some(8),
        msg_type::ROUTER_ADVERT => Some(16),
        msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT => Some(24),
        msg_type::REDIRECT => Some(40),
        _ => None,
    }
}

fn bytes_at<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut o = [0u8; N];
    if let Some(s) = b.get(off..off + N) {
        o.copy_from_slice(s);
    }
    o
}

/// A view of an ND message. The field getters of one type read fixed offsets that
/// `new_checked` guarantees for that type; on a message of another type they read
/// whatever lies there (zeros past the end) and never panic.
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

    /// `Malformed` unless the type is 133..=137; `Truncated` below its [`header_len`].
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        let min = header_len(*b.first().ok_or(WireError::Truncated)?).ok_or(WireError::Malformed)?;
        if b.len() < min {
            return Err(WireError::Truncated);
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The ICMPv6 type.
    pub fn msg_type(&self) -> u8 {
        bytes_at::<1>(self.buffer.as_ref(), 0)[0]
    }

    /// The ICMPv6 code (must be 0, `ndisc_rcv`).
    pub fn code(&self) -> u8 {
        bytes_at::<1>(self.buffer.as_ref(), 1)[0]
    }

    /// RA: Cur Hop Limit.
    pub fn cur_hop_limit(&self) -> u8 {
        bytes_at::<1>(self.buffer.as_ref(), 4)[0]
    }

    /// RA: the flags byte ([`RA_MANAGED`], [`RA_OTHER`], and the bits later RFCs use).
    pub fn ra_flags(&self) -> u8 {
        bytes_at::<1>(self.buffer.as_ref(), 5)[0]
    }

    /// RA: Router Lifetime, seconds.
    pub fn router_lifetime(&self) -> u16 {
        u16::from_be_bytes(bytes_at(self.buffer.as_ref(), 6))
    }

    /// RA: Reachable Time, milliseconds.
    pub fn reachable_time(&self) -> u32 {
        u32::from_be_bytes(bytes_at(self.buffer.as_ref(), 8))
    }

    /// RA: Retrans Timer, milliseconds.
    pub fn retrans_time(&self) -> u32 {
        u32::from_be_bytes(bytes_at(self.buffer.as_ref(), 12))
    }

    /// NA: the flags byte ([`NA_ROUTER`], [`NA_SOLICITED`], [`NA_OVERRIDE`]).
    pub fn na_flags(&self) -> u8 {
        bytes_at::<1>(self.buffer.as_ref(), 4)[0] & 0xe0
    }

    /// NS, NA, Redirect: Target Address.
    pub fn target_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(bytes_at::<16>(self.buffer.as_ref(), 8))
    }

    /// Redirect: Destination Address.
    pub fn dest_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(bytes_at::<16>(self.buffer.as_ref(), 24))
    }

    fn opt_start(&self) -> usize {
        header_len(self.msg_type()).unwrap_or(0).min(self.buffer.as_ref().len())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The options area (to the end of the message, as `ndoptlen` in Linux).
    pub fn options(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer.as_ref();
        &b[self.opt_start()..]
    }

    /// The options in order.
    pub fn iter(&self) -> NdOptions<'a> {
        NdOptions { opts: self.options(), base: self.opt_start(), pos: 0, done: false }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn put(&mut self, off: usize, v: &[u8]) {
        self.buffer.as_mut()[off..off + v.len()].copy_from_slice(v);
    }

    /// Sets the type, zeroes code, checksum and the reserved word after them.
    pub fn set_msg_type(&mut self, t: u8) {
        self.put(0, &[t, 0, 0, 0, 0, 0, 0, 0]);
    }

    /// Sets the code.
    pub fn set_code(&mut self, c: u8) {
        self.put(1, &[c]);
    }

    /// RA: sets Cur Hop Limit.
    pub fn set_cur_hop_limit(&mut self, v: u8) {
        self.put(4, &[v]);
    }

    /// RA: sets the flags byte.
    pub fn set_ra_flags(&mut self, v: u8) {
        self.put(5, &[v]);
    }

    /// RA: sets Router Lifetime.
    pub fn set_router_lifetime(&mut self, v: u16) {
        self.put(6, &v.to_be_bytes());
    }

    /// RA: sets Reachable Time.
    pub fn set_reachable_time(&mut self, v: u32) {
        self.put(8, &v.to_be_bytes());
    }

    /// RA: sets Retrans Timer.
    pub fn set_retrans_time(&mut self, v: u32) {
        self.put(12, &v.to_be_bytes());
    }

    /// NA: sets the flags byte (the reserved bits are cleared).
    pub fn set_na_flags(&mut self, v: u8) {
        self.put(4, &[v & 0xe0]);
    }

    /// NS, NA, Redirect: sets Target Address.
    pub fn set_target_addr(&mut self, a: &Ipv6Addr) {
        self.put(8, &a.octets());
    }

    /// Redirect: sets Destination Address.
    pub fn set_dest_addr(&mut self, a: &Ipv6Addr) {
        self.put(24, &a.octets());
    }

    /// The options area, mutable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let s = self.opt_start();
        &mut self.buffer.as_mut()[s..]
    }
}

/// One option as it sits in the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdOption<'a> {
    /// Offset of its type byte from the start of the ICMPv6 message.
    pub offset: usize,
    /// Its type.
    pub opt_type: u8,
    /// All its bytes (type and length included), a non-zero multiple of 8.
    pub bytes: &'a [u8],
}

impl<'a> NdOption<'a> {
    /// A Source/Target Link-Layer Address as an Ethernet address. Linux wants the option
    /// exactly `NDISC_OPT_SPACE(6)` = 8 bytes and drops the message otherwise
    /// (`ndisc_opt_addr_data` returning NULL: "invalid link-layer address length").
    pub fn link_layer_addr(&self) -> Result<EthernetAddress> {
        match self.bytes {
            [_, 1, mac @ ..] => EthernetAddress::from_bytes(mac).ok_or(WireError::Malformed),
            _ => Err(WireError::Malformed),
        }
    }

    /// A Prefix Information option, or `None` if shorter than 32 bytes, which
    /// `addrconf_prefix_rcv` ignores ("prefix option too short").
    pub fn prefix_info(&self) -> Option<PrefixInfo> {
        let b = self.bytes.get(..32)?;
        Some(PrefixInfo {
            prefix_len: b[2],
            flags: b[3],
            valid_lifetime: u32::from_be_bytes(bytes_at(b, 4)),
            preferred_lifetime: u32::from_be_bytes(bytes_at(b, 8)),
            prefix: Ipv6Addr::from(bytes_at::<16>(b, 16)),
        })
    }

    /// An MTU option's value (bytes 4..8; `ndisc_router_discovery` reads it so).
    pub fn mtu(&self) -> u32 {
        u32::from_be_bytes(bytes_at(self.bytes, 4))
    }

    /// A Redirected Header option's IP header and data (after its 8-byte header).
    pub fn redirected(&self) -> &'a [u8] {
        self.bytes.get(8..).unwrap_or(&[])
    }
}

/// The options of an ND message in order, as `ndisc_parse_options` walks them: a length
/// of 0, an option running past the message, or 1 stray byte at the end makes the whole
/// message invalid (`Malformed`, RFC 4861 §4.6); the iterator then ends.
#[derive(Clone, Debug)]
pub struct NdOptions<'a> {
    opts: &'a [u8],
    base: usize,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for NdOptions<'a> {
    type Item = Result<NdOption<'a>>;

    fn next(&mut self) -> Option<Result<NdOption<'a>>> {
        let rest = self.opts.get(self.pos..).unwrap_or(&[]);
        if self.done || rest.is_empty() {
            return None;
        }
        let len = usize::from(*rest.get(1).unwrap_or(&0)) * 8;
        let Some(bytes) = rest.get(..len).filter(|_| len != 0) else {
            self.done = true;
            return Some(Err(WireError::Malformed));
        };
        let opt = NdOption { offset: self.base + self.pos, opt_type: rest[0], bytes };
        self.pos += len;
        Some(Ok(opt))
    }
}

/// A Prefix Information option (RFC 4861 §4.6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixInfo {
    /// Prefix Length.
    pub prefix_len: u8,
    /// Flags byte ([`PREFIX_ON_LINK`], [`PREFIX_AUTONOMOUS`]).
    pub flags: u8,
    /// Valid Lifetime, seconds (all ones: infinity).
    pub valid_lifetime: u32,
    /// Preferred Lifetime, seconds.
    pub preferred_lifetime: u32,
    /// Prefix.
    pub prefix: Ipv6Addr,
}

impl PrefixInfo {
    /// Writes the 32-byte option.
    fn emit(&self, b: &mut [u8]) {
        b[..4].copy_from_slice(&[opt_type::PREFIX_INFO, 4, self.prefix_len, self.flags]);
        b[4..8].copy_from_slice(&self.valid_lifetime.to_be_bytes());
        b[8..12].copy_from_slice(&self.preferred_lifetime.to_be_bytes());
        b[12..16].fill(0);
        b[16..32].copy_from_slice(&self.prefix.octets());
    }
}

/// An ND message as values. Link-layer address options are parsed as Ethernet; of
/// several options of one kind the first counts (`ndisc_parse_options` keeps the first
/// SLLA, TLLA, MTU and Redirected Header); unknown options are skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Router Solicitation.
    RouterSolicit {
        /// Source Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
    },
    /// Router Advertisement.
    RouterAdvert {
        /// Cur Hop Limit.
        hop_limit: u8,
        /// Flags byte.
        flags: u8,
        /// Router Lifetime, seconds.
        router_lifetime: u16,
        /// Reachable Time, ms.
        reachable_time: u32,
        /// Retrans Timer, ms.
        retrans_time: u32,
        /// Source Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
        /// MTU option.
        mtu: Option<u32>,
        /// The first Prefix Information option of 32 bytes or more; Linux handles every
        /// one, which the stack finds with [`Packet::iter`].
        prefix_info: Option<PrefixInfo>,
    },
    /// Neighbor Solicitation.
    NeighborSolicit {
        /// Target Address (unicast).
        target: Ipv6Addr,
        /// Source Link-Layer Address option (absent in a DAD probe).
        lladdr: Option<EthernetAddress>,
    },
    /// Neighbor Advertisement.
    NeighborAdvert {
        /// Flags byte (R, S, O).
        flags: u8,
        /// Target Address (unicast).
        target: Ipv6Addr,
        /// Target Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
    },
    /// Redirect.
    Redirect {
        /// Target Address (the better first hop).
        target: Ipv6Addr,
        /// Destination Address.
        dest: Ipv6Addr,
        /// Target Link-Layer Address option.
        lladdr: Option<EthernetAddress>,
        /// Redirected Header option contents; emit pads it to a multiple of 8 (Linux
        /// already truncates it to one, `ndisc_send_redirect`).
        redirected: Option<&'a [u8]>,
    },
}

impl<'a> Repr<'a> {
    /// Parses a message, with the message-only checks of `ndisc_rcv` and its callees.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        if packet.code() != 0 {
            return Err(WireError::Malformed);
        }
        let mut first: [Option<NdOption<'a>>; 6] = [None; 6];
        let mut prefix_info = None;
        for opt in packet.iter() {
            let opt = opt?;
            if let Some(slot) = first.get_mut(usize::from(opt.opt_type)).filter(|s| s.is_none()) {
                *slot = Some(opt);
            }
            if opt.opt_type == opt_type::PREFIX_INFO && prefix_info.is_none() {
                prefix_info = opt.prefix_info();
            }
        }
        let ll = |t: u8| first[usize::from(t)].map(|o| o.link_layer_addr()).transpose();
        let target = packet.target_addr();
        if matches!(packet.msg_type(), msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT) && target.is_multicast()
        {
            return Err(WireError::Malformed);
        }
        Ok(match packet.msg_type() {
            msg_type::ROUTER_SOLICIT => Repr::RouterSolicit { lladdr: ll(opt_type::SOURCE_LL_ADDR)? },
            msg_type::ROUTER_ADVERT => Repr::RouterAdvert {
                hop_limit: packet.cur_hop_limit(),
                flags: packet.ra_flags(),
                router_lifetime: packet.router_lifetime(),
                reachable_time: packet.reachable_time(),
                retrans_time: packet.retrans_time(),
                lladdr: ll(opt_type::SOURCE_LL_ADDR)?,
                mtu: first[usize::from(opt_type::MTU)].map(|o| o.mtu()),
                prefix_info,
            },
            msg_type::NEIGHBOR_SOLICIT => Repr::NeighborSolicit { target, lladdr: ll(opt_type::SOURCE_LL_ADDR)? },
            msg_type::NEIGHBOR_ADVERT => {
                Repr::NeighborAdvert { flags: packet.na_flags(), target, lladdr: ll(opt_type::TARGET_LL_ADDR)? }
            }
            _ => Repr::Redirect {
                target,
                dest: packet.dest_addr(),
                lladdr: ll(opt_type::TARGET_LL_ADDR)?,
                redirected: first[usize::from(opt_type::REDIRECTED_HDR)].map(|o| o.redirected()),
            },
        })
    }

    /// The ICMPv6 type.
    pub fn msg_type(&self) -> u8 {
        match self {
            Repr::RouterSolicit { .. } => msg_type::ROUTER_SOLICIT,
            Repr::RouterAdvert { .. } => msg_type::ROUTER_ADVERT,
            Repr::NeighborSolicit { .. } => msg_type::NEIGHBOR_SOLICIT,
            Repr::NeighborAdvert { .. } => msg_type::NEIGHBOR_ADVERT,
            Repr::Redirect { .. } => msg_type::REDIRECT,
        }
    }

    /// Bytes before the options.
    pub fn header_len(&self) -> usize {
        header_len(self.msg_type()).unwrap_or(0)
    }

    /// Bytes of the whole message, options included.
    pub fn buffer_len(&self) -> usize {
        let ll = |a: &Option<EthernetAddress>| if a.is_some() { 8 } else { 0 };
        self.header_len()
            + match self {
                Repr::RouterSolicit { lladdr } | Repr::NeighborSolicit { lladdr, .. } => ll(lladdr),
                Repr::NeighborAdvert { lladdr, .. } => ll(lladdr),
                Repr::RouterAdvert { lladdr, mtu, prefix_info, .. } => {
                    ll(lladdr) + mtu.map_or(0, |_| 8) + prefix_info.map_or(0, |_| 32)
                }
                Repr::Redirect { lladdr, redirected, .. } => {
                    ll(lladdr) + redirected.map_or(0, |d| 8 + d.len().div_ceil(8) * 8)
                }
            }
    }

    /// Writes the message (checksum 0, for [`icmpv6`](super::icmpv6) to fill) into a
    /// buffer of at least [`buffer_len`](Self::buffer_len) bytes. Options go in the order
    /// Linux sends them: link-layer address, then MTU, Prefix Information, Redirected
    /// Header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_msg_type(self.msg_type());
        let (src, tgt) = (opt_type::SOURCE_LL_ADDR, opt_type::TARGET_LL_ADDR);
        let (ll_type, lladdr) = match *self {
            Repr::RouterSolicit { lladdr } => (src, lladdr),
            Repr::RouterAdvert { hop_limit, flags, router_lifetime, reachable_time, retrans_time, lladdr, .. } => {
                packet.set_cur_hop_limit(hop_limit);
                packet.set_ra_flags(flags);
                packet.set_router_lifetime(router_lifetime);
                packet.set_reachable_time(reachable_time);
                packet.set_retrans_time(retrans_time);
                (src, lladdr)
            }
            Repr::NeighborSolicit { target, lladdr } => {
                packet.set_target_addr(&target);
                (src, lladdr)
            }
            Repr::NeighborAdvert { flags, target, lladdr } => {
                packet.set_na_flags(flags);
                packet.set_target_addr(&target);
                (tgt, lladdr)
            }
            Repr::Redirect { target, dest, lladdr, .. } => {
                packet.set_target_addr(&target);
                packet.set_dest_addr(&dest);
                (tgt, lladdr)
            }
        };
        let opts = packet.options_mut();
        let mut at = 0;
        if let Some(a) = lladdr {
            opts[..2].copy_from_slice(&[ll_type, 1]);
            opts[2..8].copy_from_slice(a.as_bytes());
            at = 8;
        }
        if let Repr::RouterAdvert { mtu, prefix_info, .. } = *self {
            if let Some(mtu) = mtu {
                opts[at..at + 4].copy_from_slice(&[opt_type::MTU, 1, 0, 0]);
                opts[at + 4..at + 8].copy_from_slice(&mtu.to_be_bytes());
                at += 8;
            }
            if let Some(pi) = prefix_info {
                pi.emit(&mut opts[at..at + 32]);
            }
        }
        if let Repr::Redirect { redirected: Some(d), .. } = *self {
            let n = 8 + d.len().div_ceil(8) * 8;
            debug_assert!(n <= 255 * 8);
            opts[at..at + 8].copy_from_slice(&[opt_type::REDIRECTED_HDR, (n / 8) as u8, 0, 0, 0, 0, 0, 0]);
            opts[at + 8..at + 8 + d.len()].copy_from_slice(d);
            opts[at + 8 + d.len()..at + n].fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::icmpv6::tests::{hex, parse_at};
    use super::super::icmpv6::{self, Repr as Icmp};
    use super::super::ipv6::{self, Ipv6AddrExt};
    use super::*;
    use alloc::vec::Vec;

    // Captured on a veth pair between two scratch network namespaces (enhanced_dad off,
    // so the DAD probe has no RFC 7527 nonce, as in 4.3).
    const DAD_NS: &str = "6000000000183aff 00000000000000000000000000000000 ff0200000000000000000001ff123456 \
                          8700c402 00000000 fe80000000000000505400fffe123456";
    const NS: &str = "6000000000203aff fe80000000000000505400fffe123456 ff0200000000000000000001ffabcdef \
                      8700859a 00000000 fe80000000000000505400fffeabcdef 0101525400123456";
    const NA: &str = "6000000000203aff fe80000000000000505400fffeabcdef fe80000000000000505400fffe123456 \
                      88003997 60000000 fe80000000000000505400fffeabcdef 0201525400abcdef";
    const RS: &str = "6000000000103aff fe80000000000000505400fffeabcdef ff020000000000000000000000000002 \
                      85003d50 00000000 0101525400abcdef";

    const MAC_A: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
    const MAC_B: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0xab, 0xcd, 0xef]);

    /// Parses `pkt`'s ND message, checks it re-emits to the same bytes, returns it.
    fn nd(pkt: &[u8]) -> Repr<'_> {
        let Ok(Icmp::Ndisc(r)) = parse_at(pkt, 0) else { panic!("{:?}", parse_at(pkt, 0)) };
        let ip = ipv6::Packet::new_checked(pkt).unwrap();
        let mut out = [0u8; 64];
        let o = &mut out[..r.buffer_len()];
        Icmp::Ndisc(r).emit(&ip.src_addr(), &ip.dst_addr(), &mut icmpv6::Packet::new_unchecked(&mut *o));
        assert_eq!(o, ip.payload());
        r
    }

    fn ll(mac: &EthernetAddress) -> Ipv6Addr {
        ipv6::link_local_from_mac(mac)
    }

    #[test]
    fn linux_dad_probe() {
        let pkt = hex(DAD_NS);
        let ip = ipv6::Packet::new_checked(&pkt[..]).unwrap();
        assert_eq!(nd(&pkt), Repr::NeighborSolicit { target: ll(&MAC_A), lladdr: None });
        // What the stack checks around it (ndisc_rcv, ndisc_recv_ns).
        assert!(ip.src_addr().is_unspecified() && ip.hop_limit() == 255);
        assert_eq!(ip.dst_addr(), ll(&MAC_A).solicited_node());
    }

    #[test]
    fn linux_resolution_exchange_and_rs() {
        assert_eq!(nd(&hex(NS)), Repr::NeighborSolicit { target: ll(&MAC_B), lladdr: Some(MAC_A) });
        let na = Repr::NeighborAdvert { flags: NA_SOLICITED | NA_OVERRIDE, target: ll(&MAC_B), lladdr: Some(MAC_B) };
        assert_eq!(nd(&hex(NA)), na);
        assert_eq!(nd(&hex(RS)), Repr::RouterSolicit { lladdr: Some(MAC_B) });
        let raw = hex(NA);
        let p = Packet::new_checked(&raw[40..]).unwrap();
        let opts: Vec<_> = p.iter().collect();
        assert_eq!(opts, [Ok(NdOption { offset: 24, opt_type: opt_type::TARGET_LL_ADDR, bytes: &raw[64..72] })]);
    }

    #[test]
    fn ra_and_redirect_round_trip() {
        let (s, d) = (ll(&MAC_A), ipv6::LINK_LOCAL_ALL_NODES);
        let pi = PrefixInfo {
            prefix_len: 64,
            flags: PREFIX_ON_LINK | PREFIX_AUTONOMOUS,
            valid_lifetime: u32::MAX,
            preferred_lifetime: 604_800,
            prefix: "2001:db8:1::".parse().unwrap(),
        };
        let quoted = [0x60u8, 0, 0, 0, 0, 8, 17, 63, 1, 2, 3, 4, 5, 6, 7, 8];
        for r in [
            Repr::RouterAdvert {
                hop_limit: 64,
                flags: RA_MANAGED,
                router_lifetime: 1800,
                reachable_time: 30_000,
                retrans_time: 1000,
                lladdr: Some(MAC_A),
                mtu: Some(1500),
                prefix_info: Some(pi),
            },
            Repr::RouterAdvert {
                hop_limit: 0,
                flags: RA_OTHER,
                router_lifetime: 0,
                reachable_time: 0,
                retrans_time: 0,
                lladdr: None,
                mtu: None,
                prefix_info: None,
            },
            Repr::Redirect {
                target: ll(&MAC_B),
                dest: "2001:db8::9".parse().unwrap(),
                lladdr: Some(MAC_B),
                redirected: Some(&quoted),
            },
            Repr::Redirect { target: ll(&MAC_B), dest: ll(&MAC_B), lladdr: None, redirected: None },
        ] {
            let mut buf = [0u8; 96];
            let b = &mut buf[..r.buffer_len()];
            Icmp::Ndisc(r).emit(&s, &d, &mut icmpv6::Packet::new_unchecked(&mut *b));
            assert_eq!(Icmp::parse(&s, &d, &icmpv6::Packet::new_checked(&*b).unwrap()), Ok(Icmp::Ndisc(r)));
        }
        assert_eq!(Repr::RouterSolicit { lladdr: None }.buffer_len(), 8);
    }

    #[test]
    fn message_and_option_validation() {
        let na = hex(NA);
        let with = |opts: &[u8]| -> Vec<u8> { na[40..64].iter().chain(opts).copied().collect() };
        fn parse(m: &[u8]) -> Result<Repr<'_>> {
            Repr::parse(&Packet::new_checked(m)?)
        }
        let mal = Err(WireError::Malformed);
        assert_eq!(parse(&with(&[2, 0, 0, 0, 0, 0, 0, 0])), mal, "zero-length option (RFC 4861 §4.6)");
        assert_eq!(parse(&with(&[2, 2, 0, 0, 0, 0, 0, 0])), mal, "option overruns the message");
        assert_eq!(parse(&with(&[14])), mal, "one stray byte");
        assert_eq!(parse(&with(&[2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), mal, "16-byte TLLA on Ethernet");
        // An unknown option (the RFC 7527 nonce 4.3 does not know) is skipped; of two
        // TLLAs the first counts, and a wrong-length SLLA in an NA is never looked at.
        let skip = with(&[
            14, 1, 1, 2, 3, 4, 5, 6, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 9, 9, 9, 9, 9, 9, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
        ]);
        let Ok(Repr::NeighborAdvert { lladdr, .. }) = parse(&skip) else { panic!() };
        assert_eq!(lladdr, Some(EthernetAddress([1; 6])));
        let mut code1 = with(&[]);
        code1[1] = 1;
        assert_eq!(parse(&code1), mal, "ndisc_rcv wants code 0");
        let mut mc = with(&[]);
        mc[8] = 0xff;
        assert_eq!(parse(&mc), mal, "multicast target");
        assert_eq!(Packet::new_checked(&na[40..63]).unwrap_err(), WireError::Truncated);
        assert_eq!(Packet::new_checked(&[128u8, 0, 0, 0][..]).unwrap_err(), WireError::Malformed);
        assert_eq!(Packet::new_checked(&[][..]).unwrap_err(), WireError::Truncated);
        // A Prefix Information option shorter than 32 bytes is ignored, not fatal.
        let mut ra = hex("86000000 40000708 00007530 000003e8 0301400000000000");
        assert!(matches!(parse(&ra), Ok(Repr::RouterAdvert { prefix_info: None, router_lifetime: 1800, .. })));
        ra.extend_from_slice(&[5, 1, 0, 0, 0, 0, 5, 0xdc]);
        assert!(matches!(parse(&ra), Ok(Repr::RouterAdvert { mtu: Some(1500), reachable_time: 30_000, .. })));
    }

    #[test]
    fn no_panic_on_prefixes_or_garbage() {
        let na = hex(NA);
        let mut x: u64 = 0x0dd5_eed5_1234_abcd;
        let mut buf = [0u8; 80];
        for i in 0..6000 {
            let n = i % buf.len();
            if i < 80 {
                buf[..32].copy_from_slice(&na[40..]);
            } else {
                for b in buf.iter_mut() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                buf[0] = 133 + (buf[0] % 6);
                buf[1] = 0;
                for k in (24..n).step_by(8) {
                    buf[k + 1] &= 3;
                }
            }
            let Ok(p) = Packet::new_checked(&buf[..n]) else { continue };
            let _ = (p.target_addr(), p.dest_addr(), p.retrans_time(), p.iter().count());
            for o in p.iter().flatten() {
                let _ = (o.link_layer_addr(), o.prefix_info(), o.mtu(), o.redirected());
            }
            if let Ok(r) = Repr::parse(&p) {
                let mut out = [0u8; 128];
                let o = &mut out[..r.buffer_len()];
                r.emit(&mut Packet::new_unchecked(&mut *o));
                assert_eq!(Repr::parse(&Packet::new_checked(&*o).unwrap()), Ok(r));
            }
        }
    }
}
