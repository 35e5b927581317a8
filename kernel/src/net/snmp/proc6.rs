//! `/proc/net/snmp6` and `/proc/net/dev_snmp6/<dev>` (`net/ipv6/proc.c`:
//! `snmp6_seq_show`, `snmp6_dev_seq_show`, `snmp6_seq_show_item`, `snmp6_seq_show_item64`,
//! `snmp6_seq_show_icmpv6msg`). Every line is `%-32s\t%lu\n`; the tables are 4.3's lists
//! of the same names, in their order.

use super::mib::{Icmp6, IcmpMsgMib, IpStats, Mib, MibField, Udp, ICMP6MSG_MIB_MAX};
use super::{Ipv6DevStat, NetnsMib};
use crate::net::wire::icmpv6::msg_type as icmp6;
use alloc::string::String;
use core::fmt::Write;

/// `snmp6_ipstats_list` (RFC 2465; no `InCsumErrors`, IPv6 has no header checksum, and
/// no `InBcastPkts`/`OutBcastPkts`, though the broadcast octets are listed).
const SNMP6_IPSTATS_LIST: &[(&str, IpStats)] = &[
    ("Ip6InReceives", IpStats::InPkts),
    ("Ip6InHdrErrors", IpStats::InHdrErrors),
    ("Ip6InTooBigErrors", IpStats::InTooBigErrors),
    ("Ip6InNoRoutes", IpStats::InNoRoutes),
    ("Ip6InAddrErrors", IpStats::InAddrErrors),
    ("Ip6InUnknownProtos", IpStats::InUnknownProtos),
    ("Ip6InTruncatedPkts", IpStats::InTruncatedPkts),
    ("Ip6InDiscards", IpStats::InDiscards),
    ("Ip6InDelivers", IpStats::InDelivers),
    ("Ip6OutForwDatagrams", IpStats::OutForwDatagrams),
    ("Ip6OutRequests", IpStats::OutPkts),
    ("Ip6OutDiscards", IpStats::OutDiscards),
    ("Ip6OutNoRoutes", IpStats::OutNoRoutes),
    ("Ip6ReasmTimeout", IpStats::ReasmTimeout),
    ("Ip6ReasmReqds", IpStats::ReasmReqds),
    ("Ip6ReasmOKs", IpStats::ReasmOks),
    ("Ip6ReasmFails", IpStats::ReasmFails),
    ("Ip6FragOKs", IpStats::FragOks),
    ("Ip6FragFails", IpStats::FragFails),
    ("Ip6FragCreates", IpStats::FragCreates),
    ("Ip6InMcastPkts", IpStats::InMcastPkts),
    ("Ip6OutMcastPkts", IpStats::OutMcastPkts),
    ("Ip6InOctets", IpStats::InOctets),
    ("Ip6OutOctets", IpStats::OutOctets),
    ("Ip6InMcastOctets", IpStats::InMcastOctets),
    ("Ip6OutMcastOctets", IpStats::OutMcastOctets),
    ("Ip6InBcastOctets", IpStats::InBcastOctets),
    ("Ip6OutBcastOctets", IpStats::OutBcastOctets),
    ("Ip6InNoECTPkts", IpStats::NoEctPkts),
    ("Ip6InECT1Pkts", IpStats::Ect1Pkts),
    ("Ip6InECT0Pkts", IpStats::Ect0Pkts),
    ("Ip6InCEPkts", IpStats::CePkts),
];

/// `snmp6_icmp6_list` (RFC 2466).
const SNMP6_ICMP6_LIST: &[(&str, Icmp6)] = &[
    ("Icmp6InMsgs", Icmp6::InMsgs),
    ("Icmp6InErrors", Icmp6::InErrors),
    ("Icmp6OutMsgs", Icmp6::OutMsgs),
    ("Icmp6OutErrors", Icmp6::OutErrors),
    ("Icmp6InCsumErrors", Icmp6::CsumErrors),
];

/// `icmp6type2name`: the types RFC 2466 named; the rest print only by number. Sorted by
/// type, since 4.3 walks its 256-entry array by index.
const ICMP6TYPE2NAME: &[(u8, &str)] = &[
    (icmp6::DST_UNREACH, "DestUnreachs"),
    (icmp6::PKT_TOO_BIG, "PktTooBigs"),
    (icmp6::TIME_EXCEEDED, "TimeExcds"),
    (icmp6::PARAM_PROBLEM, "ParmProblems"),
    (icmp6::ECHO_REQUEST, "Echos"),
    (icmp6::ECHO_REPLY, "EchoReplies"),
    (icmp6::MLD_QUERY, "GroupMembQueries"),
    (icmp6::MLD_REPORT, "GroupMembResponses"),
    (icmp6::MLD_DONE, "GroupMembReductions"),
    (icmp6::ROUTER_SOLICIT, "RouterSolicits"),
    (icmp6::ROUTER_ADVERT, "RouterAdvertisements"),
    (icmp6::NEIGHBOR_SOLICIT, "NeighborSolicits"),
    (icmp6::NEIGHBOR_ADVERT, "NeighborAdvertisements"),
    (icmp6::REDIRECT, "Redirects"),
    (icmp6::MLD2_REPORT, "MLDv2Reports"),
];

/// `snmp6_udp6_list`.
const SNMP6_UDP6_LIST: &[(&str, Udp)] = &[
    ("Udp6InDatagrams", Udp::InDatagrams),
    ("Udp6NoPorts", Udp::NoPorts),
    ("Udp6InErrors", Udp::InErrors),
    ("Udp6OutDatagrams", Udp::OutDatagrams),
    ("Udp6RcvbufErrors", Udp::RcvbufErrors),
    ("Udp6SndbufErrors", Udp::SndbufErrors),
    ("Udp6InCsumErrors", Udp::CsumErrors),
    ("Udp6IgnoredMulti", Udp::IgnoredMulti),
];

/// `snmp6_udplite6_list`: 4.3 has no `UdpLite6IgnoredMulti` line.
const SNMP6_UDPLITE6_LIST: &[(&str, Udp)] = &[
    ("UdpLite6InDatagrams", Udp::InDatagrams),
    ("UdpLite6NoPorts", Udp::NoPorts),
    ("UdpLite6InErrors", Udp::InErrors),
    ("UdpLite6OutDatagrams", Udp::OutDatagrams),
    ("UdpLite6RcvbufErrors", Udp::RcvbufErrors),
    ("UdpLite6SndbufErrors", Udp::SndbufErrors),
    ("UdpLite6InCsumErrors", Udp::CsumErrors),
];

/// One `%-32s\t%lu\n` line.
fn put_line(s: &mut String, name: &str, val: u64) {
    let _ = writeln!(s, "{:<32}\t{}", name, val);
}

/// `snmp6_seq_show_item` / `snmp6_seq_show_item64`: a line per entry of `list`.
fn show_item<F: MibField, const N: usize>(s: &mut String, mib: &Mib<F, N>, list: &[(&str, F)]) {
    for &(name, field) in list {
        put_line(s, name, mib.get(field));
    }
}

/// `snmp6_seq_show_icmpv6msg`: every named type's In then Out counter, zero or not
/// (the RFC 2466 items), then `Icmp6InType<N>` / `Icmp6OutType<N>` for every non-zero
/// counter (the RFC 4293 table), named types included.
fn show_icmpv6msg(s: &mut String, msg: &IcmpMsgMib) {
    for dir in ["In", "Out"] {
        for &(ty, name) in ICMP6TYPE2NAME {
            let val = if dir == "In" {
                msg.in_count(ty)
            } else {
                msg.out_count(ty)
            };
            // 4.3 formats into a 32-byte buffer; the longest name, 30 bytes, fits.
            let mut full = String::new();
            let _ = write!(full, "Icmp6{}{}", dir, name);
            put_line(s, &full, val);
        }
    }
    for i in 0..ICMP6MSG_MIB_MAX {
        let val = msg.raw(i);
        if val == 0 {
            continue;
        }
        let dir = if i & 0x100 != 0 { "Out" } else { "In" };
        let mut name = String::new();
        let _ = write!(name, "Icmp6{}Type{}", dir, i & 0xff);
        put_line(s, &name, val);
    }
}

/// `/proc/net/snmp6` (`snmp6_seq_show`): Ip6, Icmp6, the ICMPv6 message lines, Udp6,
/// UdpLite6.
pub fn snmp6_seq_show(mib: &NetnsMib) -> String {
    let mut s = String::new();
    show_item(&mut s, &mib.ipv6_statistics, SNMP6_IPSTATS_LIST);
    show_item(&mut s, &mib.icmpv6_statistics, SNMP6_ICMP6_LIST);
    show_icmpv6msg(&mut s, &mib.icmpv6msg_statistics);
    show_item(&mut s, &mib.udp_stats_in6, SNMP6_UDP6_LIST);
    show_item(&mut s, &mib.udplite_stats_in6, SNMP6_UDPLITE6_LIST);
    s
}

/// `/proc/net/dev_snmp6/<dev>` (`snmp6_dev_seq_show`): `ifIndex` (printed `%u`), then
/// the device's Ip6, Icmp6 and ICMPv6 message lines; devices keep no UDP counters.
pub fn snmp6_dev_seq_show(ifindex: u32, stats: &Ipv6DevStat) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:<32}\t{}", "ifIndex", ifindex);
    show_item(&mut s, &stats.ipv6, SNMP6_IPSTATS_LIST);
    show_item(&mut s, &stats.icmpv6dev, SNMP6_ICMP6_LIST);
    show_icmpv6msg(&mut s, &stats.icmpv6msgdev);
    s
}
