//! `/proc/net/snmp` and `/proc/net/netstat` (`net/ipv4/proc.c`: `snmp_seq_show`,
//! `icmp_put`, `icmpmsg_put`, `netstat_seq_show`). Each table below is the 4.3 list of the
//! same name, in its order; the functions emit what 4.3's `seq_printf` calls emit, in the
//! same pieces (a line's text is preceded by `\n`, the file ends with one `\n`).

use super::mib::{IcmpMsgMib, IpStats, Mib, MibField, Tcp, Udp, LINUX_MIB_MAX};
use super::NetnsMib;
use crate::net::wire::icmpv4::msg_type as icmp;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// `snmp4_ipstats_list`.
const SNMP4_IPSTATS_LIST: &[(&str, IpStats)] = &[
    ("InReceives", IpStats::InPkts),
    ("InHdrErrors", IpStats::InHdrErrors),
    ("InAddrErrors", IpStats::InAddrErrors),
    ("ForwDatagrams", IpStats::OutForwDatagrams),
    ("InUnknownProtos", IpStats::InUnknownProtos),
    ("InDiscards", IpStats::InDiscards),
    ("InDelivers", IpStats::InDelivers),
    ("OutRequests", IpStats::OutPkts),
    ("OutDiscards", IpStats::OutDiscards),
    ("OutNoRoutes", IpStats::OutNoRoutes),
    ("ReasmTimeout", IpStats::ReasmTimeout),
    ("ReasmReqds", IpStats::ReasmReqds),
    ("ReasmOKs", IpStats::ReasmOks),
    ("ReasmFails", IpStats::ReasmFails),
    ("FragOKs", IpStats::FragOks),
    ("FragFails", IpStats::FragFails),
    ("FragCreates", IpStats::FragCreates),
];

/// `snmp4_ipextstats_list` (`IpExt:` of `/proc/net/netstat`).
const SNMP4_IPEXTSTATS_LIST: &[(&str, IpStats)] = &[
    ("InNoRoutes", IpStats::InNoRoutes),
    ("InTruncatedPkts", IpStats::InTruncatedPkts),
    ("InMcastPkts", IpStats::InMcastPkts),
    ("OutMcastPkts", IpStats::OutMcastPkts),
    ("InBcastPkts", IpStats::InBcastPkts),
    ("OutBcastPkts", IpStats::OutBcastPkts),
    ("InOctets", IpStats::InOctets),
    ("OutOctets", IpStats::OutOctets),
    ("InMcastOctets", IpStats::InMcastOctets),
    ("OutMcastOctets", IpStats::OutMcastOctets),
    ("InBcastOctets", IpStats::InBcastOctets),
    ("OutBcastOctets", IpStats::OutBcastOctets),
    ("InCsumErrors", IpStats::CsumErrors),
    ("InNoECTPkts", IpStats::NoEctPkts),
    ("InECT1Pkts", IpStats::Ect1Pkts),
    ("InECT0Pkts", IpStats::Ect0Pkts),
    ("InCEPkts", IpStats::CePkts),
];

/// `icmpmibmap`: the per-type columns of `Icmp:`, read from the message counters.
const ICMPMIBMAP: &[(&str, u8)] = &[
    ("DestUnreachs", icmp::DEST_UNREACH),
    ("TimeExcds", icmp::TIME_EXCEEDED),
    ("ParmProbs", icmp::PARAMETER_PROB),
    ("SrcQuenchs", icmp::SOURCE_QUENCH),
    ("Redirects", icmp::REDIRECT),
    ("Echos", icmp::ECHO),
    ("EchoReps", icmp::ECHO_REPLY),
    ("Timestamps", icmp::TIMESTAMP),
    ("TimestampReps", icmp::TIMESTAMP_REPLY),
    ("AddrMasks", icmp::ADDRESS),
    ("AddrMaskReps", icmp::ADDRESS_REPLY),
];

/// `snmp4_tcp_list`.
const SNMP4_TCP_LIST: &[(&str, Tcp)] = &[
    ("RtoAlgorithm", Tcp::RtoAlgorithm),
    ("RtoMin", Tcp::RtoMin),
    ("RtoMax", Tcp::RtoMax),
    ("MaxConn", Tcp::MaxConn),
    ("ActiveOpens", Tcp::ActiveOpens),
    ("PassiveOpens", Tcp::PassiveOpens),
    ("AttemptFails", Tcp::AttemptFails),
    ("EstabResets", Tcp::EstabResets),
    ("CurrEstab", Tcp::CurrEstab),
    ("InSegs", Tcp::InSegs),
    ("OutSegs", Tcp::OutSegs),
    ("RetransSegs", Tcp::RetransSegs),
    ("InErrs", Tcp::InErrs),
    ("OutRsts", Tcp::OutRsts),
    ("InCsumErrors", Tcp::CsumErrors),
];

/// `snmp4_udp_list` (UDP-Lite prints the same list).
const SNMP4_UDP_LIST: &[(&str, Udp)] = &[
    ("InDatagrams", Udp::InDatagrams),
    ("NoPorts", Udp::NoPorts),
    ("InErrors", Udp::InErrors),
    ("OutDatagrams", Udp::OutDatagrams),
    ("RcvbufErrors", Udp::RcvbufErrors),
    ("SndbufErrors", Udp::SndbufErrors),
    ("InCsumErrors", Udp::CsumErrors),
    ("IgnoredMulti", Udp::IgnoredMulti),
];

/// `snmp4_net_list` (`TcpExt:`): in 4.3 it names every `LINUX_MIB_*` item in enum
/// order, so entry `i` is counter `i + 1`.
#[rustfmt::skip] // One name per line would be 116 lines of nothing new.
const SNMP4_NET_LIST: [&str; LINUX_MIB_MAX - 1] = [
    "SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed", "EmbryonicRsts", "PruneCalled",
    "RcvPruned", "OfoPruned", "OutOfWindowIcmps", "LockDroppedIcmps", "ArpFilter", "TW",
    "TWRecycled", "TWKilled", "PAWSPassive", "PAWSActive", "PAWSEstab", "DelayedACKs",
    "DelayedACKLocked", "DelayedACKLost", "ListenOverflows", "ListenDrops", "TCPPrequeued",
    "TCPDirectCopyFromBacklog", "TCPDirectCopyFromPrequeue", "TCPPrequeueDropped", "TCPHPHits",
    "TCPHPHitsToUser", "TCPPureAcks", "TCPHPAcks", "TCPRenoRecovery", "TCPSackRecovery",
    "TCPSACKReneging", "TCPFACKReorder", "TCPSACKReorder", "TCPRenoReorder", "TCPTSReorder",
    "TCPFullUndo", "TCPPartialUndo", "TCPDSACKUndo", "TCPLossUndo", "TCPLostRetransmit",
    "TCPRenoFailures", "TCPSackFailures", "TCPLossFailures", "TCPFastRetrans",
    "TCPForwardRetrans", "TCPSlowStartRetrans", "TCPTimeouts", "TCPLossProbes",
    "TCPLossProbeRecovery", "TCPRenoRecoveryFail", "TCPSackRecoveryFail", "TCPSchedulerFailed",
    "TCPRcvCollapsed", "TCPDSACKOldSent", "TCPDSACKOfoSent", "TCPDSACKRecv", "TCPDSACKOfoRecv",
    "TCPAbortOnData", "TCPAbortOnClose", "TCPAbortOnMemory", "TCPAbortOnTimeout",
    "TCPAbortOnLinger", "TCPAbortFailed", "TCPMemoryPressures", "TCPSACKDiscard",
    "TCPDSACKIgnoredOld", "TCPDSACKIgnoredNoUndo", "TCPSpuriousRTOs", "TCPMD5NotFound",
    "TCPMD5Unexpected", "TCPSackShifted", "TCPSackMerged", "TCPSackShiftFallback",
    "TCPBacklogDrop", "TCPMinTTLDrop", "TCPDeferAcceptDrop", "IPReversePathFilter",
    "TCPTimeWaitOverflow", "TCPReqQFullDoCookies", "TCPReqQFullDrop", "TCPRetransFail",
    "TCPRcvCoalesce", "TCPOFOQueue", "TCPOFODrop", "TCPOFOMerge", "TCPChallengeACK",
    "TCPSYNChallenge", "TCPFastOpenActive", "TCPFastOpenActiveFail", "TCPFastOpenPassive",
    "TCPFastOpenPassiveFail", "TCPFastOpenListenOverflow", "TCPFastOpenCookieReqd",
    "TCPSpuriousRtxHostQueues", "BusyPollRxPackets", "TCPAutoCorking", "TCPFromZeroWindowAdv",
    "TCPToZeroWindowAdv", "TCPWantZeroWindowAdv", "TCPSynRetrans", "TCPOrigDataSent",
    "TCPHystartTrainDetect", "TCPHystartTrainCwnd", "TCPHystartDelayDetect",
    "TCPHystartDelayCwnd", "TCPACKSkippedSynRecv", "TCPACKSkippedPAWS", "TCPACKSkippedSeq",
    "TCPACKSkippedFinWait2", "TCPACKSkippedTimeWait", "TCPACKSkippedChallenge", "TCPWinProbe",
    "TCPKeepAlive", "TCPMTUPFail", "TCPMTUPSuccess",
];

/// `icmpmsg_put`'s `PERLINE`: at most this many types per `IcmpMsg:` line pair.
const ICMPMSG_PERLINE: usize = 16;

/// `" name"` for each entry of `list`.
fn put_names<F>(s: &mut String, list: &[(&str, F)]) {
    for (name, _) in list {
        s.push(' ');
        s.push_str(name);
    }
}

/// `" value"` (`%lu` / `%llu`) for each entry of `list`.
fn put_values<F: MibField, const N: usize>(s: &mut String, list: &[(&str, F)], mib: &Mib<F, N>) {
    for &(_, field) in list {
        let _ = write!(s, " {}", mib.get(field));
    }
}

/// `icmpmsg_put_line`: one `IcmpMsg:` names line and its values line; nothing for none.
fn icmpmsg_put_line(s: &mut String, entries: &[(usize, u64)]) {
    if entries.is_empty() {
        return;
    }
    s.push_str("\nIcmpMsg:");
    for &(i, _) in entries {
        let dir = if i & 0x100 != 0 { "Out" } else { "In" };
        let _ = write!(s, " {}Type{}", dir, i & 0xff);
    }
    s.push_str("\nIcmpMsg:");
    for &(_, val) in entries {
        let _ = write!(s, " {}", val);
    }
}

/// `icmpmsg_put`: the non-zero message counters, In types then Out types, in line pairs of
/// at most [`ICMPMSG_PERLINE`]; all zero prints nothing at all.
fn icmpmsg_put(s: &mut String, msg: &IcmpMsgMib) {
    // At most PERLINE entries pending, as in 4.3's `type[]`/`vals[]`; flushed when full.
    let mut entries: Vec<(usize, u64)> = Vec::with_capacity(ICMPMSG_PERLINE);
    for i in 0..super::ICMPMSG_MIB_MAX {
        let val = msg.raw(i);
        if val != 0 {
            entries.push((i, val));
        }
        if entries.len() == ICMPMSG_PERLINE {
            icmpmsg_put_line(s, &entries);
            entries.clear();
        }
    }
    icmpmsg_put_line(s, &entries);
}

/// `icmp_put`: the RFC 2011 `Icmp:` pair, totals from the ICMP MIB and per-type columns
/// from the message counters.
fn icmp_put(s: &mut String, mib: &NetnsMib) {
    use super::mib::Icmp;
    let msg = &mib.icmpmsg_statistics;
    s.push_str("\nIcmp: InMsgs InErrors InCsumErrors");
    for (name, _) in ICMPMIBMAP {
        let _ = write!(s, " In{}", name);
    }
    s.push_str(" OutMsgs OutErrors");
    for (name, _) in ICMPMIBMAP {
        let _ = write!(s, " Out{}", name);
    }
    let icmp = &mib.icmp_statistics;
    let _ = write!(
        s,
        "\nIcmp: {} {} {}",
        icmp.get(Icmp::InMsgs),
        icmp.get(Icmp::InErrors),
        icmp.get(Icmp::CsumErrors)
    );
    for &(_, ty) in ICMPMIBMAP {
        let _ = write!(s, " {}", msg.in_count(ty));
    }
    let _ = write!(
        s,
        " {} {}",
        icmp.get(Icmp::OutMsgs),
        icmp.get(Icmp::OutErrors)
    );
    for &(_, ty) in ICMPMIBMAP {
        let _ = write!(s, " {}", msg.out_count(ty));
    }
}

/// `/proc/net/snmp` (`snmp_seq_show`). `forwarding` is `IPV4_DEVCONF_ALL(net, FORWARDING)`
/// (printed 1 when on, 2 when off, RFC 1213's ipForwarding), `default_ttl` is
/// `sysctl_ip_default_ttl` (64).
pub fn snmp_seq_show(mib: &NetnsMib, forwarding: bool, default_ttl: i32) -> String {
    let mut s = String::from("Ip: Forwarding DefaultTTL");
    put_names(&mut s, SNMP4_IPSTATS_LIST);
    let _ = write!(
        s,
        "\nIp: {} {}",
        if forwarding { 1 } else { 2 },
        default_ttl
    );
    put_values(&mut s, SNMP4_IPSTATS_LIST, &mib.ip_statistics);

    icmp_put(&mut s, mib);
    icmpmsg_put(&mut s, &mib.icmpmsg_statistics);

    s.push_str("\nTcp:");
    put_names(&mut s, SNMP4_TCP_LIST);
    s.push_str("\nTcp:");
    for &(_, field) in SNMP4_TCP_LIST {
        let val = mib.tcp_statistics.get(field);
        // MaxConn is signed (RFC 2012): 4.3 prints it with %ld, so −1 shows as -1.
        if field == Tcp::MaxConn {
            let _ = write!(s, " {}", val as i64);
        } else {
            let _ = write!(s, " {}", val);
        }
    }

    s.push_str("\nUdp:");
    put_names(&mut s, SNMP4_UDP_LIST);
    s.push_str("\nUdp:");
    put_values(&mut s, SNMP4_UDP_LIST, &mib.udp_statistics);

    // "the UDP and UDP-Lite MIBs are the same" (4.3's comment): same list, own counters.
    s.push_str("\nUdpLite:");
    put_names(&mut s, SNMP4_UDP_LIST);
    s.push_str("\nUdpLite:");
    put_values(&mut s, SNMP4_UDP_LIST, &mib.udplite_statistics);

    s.push('\n');
    s
}

/// `/proc/net/netstat` (`netstat_seq_show`): the `TcpExt:` pair (every `LINUX_MIB_*`
/// counter; zero in k43 but for the few IPv4 ones) and the `IpExt:` pair.
pub fn netstat_seq_show(mib: &NetnsMib) -> String {
    let mut s = String::from("TcpExt:");
    for name in SNMP4_NET_LIST {
        s.push(' ');
        s.push_str(name);
    }
    s.push_str("\nTcpExt:");
    for i in 1..LINUX_MIB_MAX {
        let _ = write!(s, " {}", mib.net_statistics.get_index(i));
    }

    s.push_str("\nIpExt:");
    put_names(&mut s, SNMP4_IPEXTSTATS_LIST);
    s.push_str("\nIpExt:");
    put_values(&mut s, SNMP4_IPEXTSTATS_LIST, &mib.ip_statistics);

    s.push('\n');
    s
}

#[cfg(test)]
pub(super) fn net_list_name(field: super::NetStat) -> Option<&'static str> {
    SNMP4_NET_LIST.get(field.index().wrapping_sub(1)).copied()
}
