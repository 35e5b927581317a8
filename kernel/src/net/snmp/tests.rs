use super::expected::*;
use super::*;
use crate::net::wire::{icmpv4, icmpv6};
use alloc::vec::Vec;

/// The IPv4 counting of one Echo Request in and its reply out, as 4.3 does it:
/// `ip_rcv` (`IP_UPD_PO_STATS_BH(…, IPSTATS_MIB_IN, len)`), `ip_local_deliver_finish`
/// (InDelivers), `icmp_rcv` (InMsgs, then the message In counter), `icmp_out_count`,
/// `ip_output` (`IP_UPD_PO_STATS(…, IPSTATS_MIB_OUT, len)`).
fn ipv4_echo(mib: &mut NetnsMib) {
    mib.ip_statistics.upd_po(PoBase::In, 84);
    mib.ip_statistics.inc(IpStats::InDelivers);
    mib.icmp_statistics.inc(Icmp::InMsgs);
    mib.icmpmsg_statistics.inc_in(icmpv4::msg_type::ECHO);
    mib.icmp_out_count(icmpv4::msg_type::ECHO_REPLY);
    mib.ip_statistics.upd_po(PoBase::Out, 84);
}

/// The IPv6 counterpart: `ipv6_rcv`, `ip6_input_finish`, `icmpv6_rcv`, `__ip6_make_skb`
/// and `ip6_output`, each counting in the device and the namespace.
fn ipv6_echo(mib: &mut NetnsMib, mut idev: Option<&mut Ipv6DevStat>) {
    mib.ip6_upd_po(idev.as_deref_mut(), PoBase::In, 104);
    mib.ip6_inc(idev.as_deref_mut(), IpStats::InDelivers);
    mib.icmp6_inc(idev.as_deref_mut(), Icmp6::InMsgs);
    mib.icmp6msg_in_inc(idev.as_deref_mut(), icmpv6::msg_type::ECHO_REQUEST);
    mib.icmp6_out_count(idev.as_deref_mut(), icmpv6::msg_type::ECHO_REPLY);
    mib.ip6_upd_po(idev, PoBase::Out, 104);
}

#[test]
fn snmp_fresh() {
    assert_eq!(snmp_seq_show(&NetnsMib::new(), false, 64), SNMP_FRESH);
    assert_eq!(NetnsMib::default(), NetnsMib::new());
}

#[test]
fn snmp_after_echo() {
    let mut mib = NetnsMib::new();
    ipv4_echo(&mut mib);
    assert_eq!(snmp_seq_show(&mib, true, 64), SNMP_ECHO);
    // The octets show only in IpExt.
    let netstat = netstat_seq_show(&mib);
    let ipext: Vec<&str> = netstat
        .lines()
        .filter(|l| l.starts_with("IpExt:"))
        .collect();
    assert_eq!(ipext[1], "IpExt: 0 0 0 0 0 0 84 84 0 0 0 0 0 0 0 0 0");
}

#[test]
fn icmpmsg_line_pairs() {
    let mut mib = NetnsMib::new();
    for ty in 0..16u8 {
        for _ in 0..=ty {
            mib.icmp_statistics.inc(Icmp::InMsgs);
            mib.icmpmsg_statistics.inc_in(ty);
        }
    }
    assert_eq!(snmp_seq_show(&mib, false, 64), SNMP_16_TYPES);
    for _ in 0..17 {
        mib.icmp_statistics.inc(Icmp::InMsgs);
        mib.icmpmsg_statistics.inc_in(16);
    }
    assert_eq!(snmp_seq_show(&mib, false, 64), SNMP_17_TYPES);
}

#[test]
fn netstat_fresh() {
    assert_eq!(netstat_seq_show(&NetnsMib::new()), NETSTAT_FRESH);
}

#[test]
fn netstat_counts_at_linux_index() {
    assert_eq!(
        super::proc4::net_list_name(NetStat::ArpFilter),
        Some("ArpFilter")
    );
    assert_eq!(
        super::proc4::net_list_name(NetStat::IpRpFilter),
        Some("IPReversePathFilter")
    );
    let mut mib = NetnsMib::new();
    mib.net_statistics.add(NetStat::IpRpFilter, 3);
    let text = netstat_seq_show(&mib);
    let lines: Vec<&str> = text.lines().collect();
    let names: Vec<&str> = lines[0].split(' ').collect();
    let vals: Vec<&str> = lines[1].split(' ').collect();
    let at = names.iter().position(|n| *n == "IPReversePathFilter");
    assert_eq!(at.map(|i| vals[i]), Some("3"));
    assert_eq!(names.len(), LINUX_MIB_MAX);
    assert_eq!(vals.len(), LINUX_MIB_MAX);
}

#[test]
fn snmp6_fresh() {
    assert_eq!(snmp6_seq_show(&NetnsMib::new()), SNMP6_FRESH);
    assert_eq!(
        snmp6_dev_seq_show(1, &Ipv6DevStat::default()),
        DEV_SNMP6_FRESH
    );
}

#[test]
fn snmp6_after_echo_named_and_numbered() {
    let mut mib = NetnsMib::new();
    let mut dev = Ipv6DevStat::default();
    ipv6_echo(&mut mib, Some(&mut dev));
    assert_eq!(snmp6_seq_show(&mib), SNMP6_ECHO);
    assert_eq!(snmp6_dev_seq_show(2, &dev), DEV_SNMP6_ECHO);
}

#[test]
fn ip6_without_device_counts_only_namespace() {
    let mut mib = NetnsMib::new();
    let mut dev = Ipv6DevStat::default();
    ipv6_echo(&mut mib, None);
    mib.ip6_inc(Some(&mut dev), IpStats::InTruncatedPkts);
    assert_eq!(mib.ipv6_statistics.get(IpStats::InPkts), 1);
    assert_eq!(mib.ipv6_statistics.get(IpStats::InTruncatedPkts), 1);
    assert_eq!(dev.ipv6.get(IpStats::InPkts), 0);
    assert_eq!(dev.ipv6.get(IpStats::InTruncatedPkts), 1);
    assert_eq!(dev.icmpv6msgdev, Icmpv6MsgMib::default());
}

#[test]
fn reassembly_stats_land_in_their_fields() {
    let r = crate::net::inet_frag::ReasmStats {
        in_hdr_errors: 1,
        reasm_reqds: 5,
        reasm_oks: 2,
        reasm_fails: 3,
        reasm_timeout: 4,
    };
    let mut mib = NetnsMib::new();
    let mut dev = Ipv6DevStat::default();
    mib.ip6_add_reasm(Some(&mut dev), &r);
    mib.ip_statistics.add_reasm(&r);
    for m in [&mib.ipv6_statistics, &dev.ipv6, &mib.ip_statistics] {
        assert_eq!(m.get(IpStats::InHdrErrors), 1);
        assert_eq!(m.get(IpStats::ReasmReqds), 5);
        assert_eq!(m.get(IpStats::ReasmOks), 2);
        assert_eq!(m.get(IpStats::ReasmFails), 3);
        assert_eq!(m.get(IpStats::ReasmTimeout), 4);
    }
    let text = snmp_seq_show(&mib, false, 64);
    assert_eq!(
        text.lines().nth(1),
        Some("Ip: 2 64 0 1 0 0 0 0 0 0 0 0 4 5 2 3 0 0 0")
    );
}

#[test]
fn counters_wrap_like_unsigned_long() {
    let mut udp = UdpMib::default();
    udp.add(Udp::NoPorts, u64::MAX);
    udp.inc(Udp::NoPorts);
    assert_eq!(udp.get(Udp::NoPorts), 0);
    // Slot 0 (`UDP_MIB_NUM`) and slots past the end read as zero.
    assert_eq!(udp.get_index(0), 0);
    assert_eq!(udp.get_index(UDP_MIB_MAX), 0);
}

#[test]
fn enum_values_are_linux_values() {
    // Spot checks against include/uapi/linux/snmp.h: the last item of each enum sits
    // just below its `__*_MAX`.
    assert_eq!(IpStats::CePkts.index(), IPSTATS_MIB_MAX - 1);
    assert_eq!(IpStats::InTruncatedPkts.index(), 12);
    assert_eq!(Icmp::CsumErrors.index(), ICMP_MIB_MAX - 1);
    assert_eq!(Icmp6::CsumErrors.index(), ICMP6_MIB_MAX - 1);
    assert_eq!(Tcp::CsumErrors.index(), TCP_MIB_MAX - 1);
    assert_eq!(Udp::IgnoredMulti.index(), UDP_MIB_MAX - 1);
    assert_eq!(ICMPMSG_MIB_MAX, ICMP6MSG_MIB_MAX);
}
