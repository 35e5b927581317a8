//! UDP over IPv4 input (`__udp4_lib_rcv`, `net/ipv4/udp.c`): length checks, delivery to
//! sockets ([`crate::net::udp`]), broadcast and multicast with no listener, the checksum
//! (zero means none), and Port Unreachable for unicast nobody listens to.

use super::icmp::IcmpCtx;
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::snmp::Udp;
use crate::net::wire::icmpv4::{msg_type, unreach};
use crate::net::wire::{checksum, ip_proto, ipv4, udp};
use alloc::vec::Vec;

impl<H: Hal> Kernel<H> {
    /// `__udp4_lib_rcv`: `pkt` is the datagram trimmed to Total Length, the UDP header at
    /// `thoff`. Too short, or a length beyond the datagram or below 8, is an input error;
    /// the datagram is cut to the UDP length. Broadcast or multicast with no socket is
    /// `IgnoredMulti` (the checksum is never looked at); unicast with a bad non-zero
    /// checksum is `InCsumErrors` and `InErrors`; otherwise `NoPorts` and Port
    /// Unreachable quoting the trimmed datagram.
    pub(crate) fn udp_rcv(&mut self, mut pkt: Vec<u8>, thoff: usize, ctx: &IcmpCtx) {
        let mib = &mut self.net.mib.udp_statistics;
        let avail = pkt.len().saturating_sub(thoff);
        if avail < udp::HEADER_LEN {
            return mib.inc(Udp::InErrors);
        }
        let ulen = usize::from(u16::from_be_bytes([pkt[thoff + 4], pkt[thoff + 5]]));
        if ulen > avail || ulen < udp::HEADER_LEN {
            return mib.inc(Udp::InErrors);
        }
        pkt.truncate(thoff + ulen);
        // A socket takes it (every matching one for broadcast and multicast).
        if self.udp4_deliver(&pkt, thoff, ctx) {
            return;
        }
        let mib = &mut self.net.mib.udp_statistics;
        if ctx.bcast_mcast {
            return mib.inc(Udp::IgnoredMulti);
        }
        let ip = ipv4::Packet::new_unchecked(&pkt[..]);
        let seg = &pkt[thoff..];
        let check = u16::from_be_bytes([seg[6], seg[7]]);
        if check != 0 {
            let pseudo = checksum::pseudo_header_v4(&ip.src_addr(), &ip.dst_addr(), ip_proto::UDP, ulen as u16);
            if checksum::fold(checksum::combine(&[pseudo, checksum::sum(seg)])) != 0 {
                mib.inc(Udp::CsumErrors);
                return mib.inc(Udp::InErrors);
            }
        }
        mib.inc(Udp::NoPorts);
        self.icmp_send(&pkt, ctx, msg_type::DEST_UNREACH, unreach::PORT, 0);
    }
}
