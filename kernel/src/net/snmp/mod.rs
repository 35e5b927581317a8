//! The SNMP MIB counters of the IPv4/IPv6/ICMP/ICMPv6/UDP stack and their `/proc` texts,
//! as Linux 4.3 keeps and prints them (`include/uapi/linux/snmp.h`, `include/net/snmp.h`,
//! `include/net/netns/mib.h`, `net/ipv4/proc.c`, `net/ipv6/proc.c`).
//!
//! [`NetnsMib`] is a namespace's `struct netns_mib`; [`Ipv6DevStat`] is an `inet6_dev`'s
//! `struct ipv6_devstat`. IPv6 counters are bumped through [`NetnsMib`]'s `ip6_*` /
//! `icmp6*` methods, which, like 4.3's `_DEVINC` family (`include/net/ipv6.h`), count in
//! the device's set when there is one and always in the namespace's.
//!
//! The texts: [`snmp_seq_show`] (`/proc/net/snmp`), [`netstat_seq_show`]
//! (`/proc/net/netstat`), [`snmp6_seq_show`] (`/proc/net/snmp6`) and
//! [`snmp6_dev_seq_show`] (`/proc/net/dev_snmp6/<dev>`).

#![warn(missing_docs)]

mod mib;
mod proc4;
mod proc6;

pub use mib::{
    Icmp, Icmp6, IcmpMib, IcmpMsgMib, Icmpv6Mib, Icmpv6MsgMib, IpStats, IpStatsMib, LinuxMib, Mib,
    MibField, NetStat, PoBase, Tcp, TcpMib, Udp, UdpMib, ICMP6MSG_MIB_MAX, ICMP6_MIB_MAX,
    ICMPMSG_MIB_MAX, ICMP_MIB_MAX, IPSTATS_MIB_MAX, LINUX_MIB_MAX, TCP_MIB_MAX, UDP_MIB_MAX,
};
pub use proc4::{netstat_seq_show, snmp_seq_show};
pub use proc6::{snmp6_dev_seq_show, snmp6_seq_show};

use crate::net::inet_frag::ReasmStats;

/// `struct netns_mib`: a namespace's counters, fields named as in 4.3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetnsMib {
    /// `tcp_statistics` (`Tcp:`; only [`TcpMib::tcp_mib_init`]'s constants in k43).
    pub tcp_statistics: TcpMib,
    /// `ip_statistics` (`Ip:` and `IpExt:`).
    pub ip_statistics: IpStatsMib,
    /// `net_statistics` (`TcpExt:`).
    pub net_statistics: LinuxMib,
    /// `udp_statistics` (`Udp:`).
    pub udp_statistics: UdpMib,
    /// `udplite_statistics` (`UdpLite:`).
    pub udplite_statistics: UdpMib,
    /// `icmp_statistics` (`Icmp:` totals).
    pub icmp_statistics: IcmpMib,
    /// `icmpmsg_statistics` (`Icmp:` per-type columns and `IcmpMsg:`).
    pub icmpmsg_statistics: IcmpMsgMib,
    /// `udp_stats_in6` (`Udp6*`).
    pub udp_stats_in6: UdpMib,
    /// `udplite_stats_in6` (`UdpLite6*`).
    pub udplite_stats_in6: UdpMib,
    /// `ipv6_statistics` (`Ip6*`).
    pub ipv6_statistics: IpStatsMib,
    /// `icmpv6_statistics` (`Icmp6In/OutMsgs`, …).
    pub icmpv6_statistics: Icmpv6Mib,
    /// `icmpv6msg_statistics` (`Icmp6In<Name>`, `Icmp6InType<N>`, …).
    pub icmpv6msg_statistics: Icmpv6MsgMib,
}

impl Default for NetnsMib {
    fn default() -> Self {
        NetnsMib::new()
    }
}

/// `struct ipv6_devstat`: an IPv6 device's own copy of the Ip6 and Icmp6 counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ipv6DevStat {
    /// `ipv6`.
    pub ipv6: IpStatsMib,
    /// `icmpv6dev`.
    pub icmpv6dev: Icmpv6Mib,
    /// `icmpv6msgdev`.
    pub icmpv6msgdev: Icmpv6MsgMib,
}

impl NetnsMib {
    /// A new namespace's counters: all zero but for `tcp_mib_init`'s constants, which
    /// `ipv4_mib_init_net` (`net/ipv4/af_inet.c`) sets.
    pub fn new() -> NetnsMib {
        let mut tcp_statistics = TcpMib::default();
        tcp_statistics.tcp_mib_init();
        NetnsMib {
            tcp_statistics,
            ip_statistics: IpStatsMib::default(),
            net_statistics: LinuxMib::default(),
            udp_statistics: UdpMib::default(),
            udplite_statistics: UdpMib::default(),
            icmp_statistics: IcmpMib::default(),
            icmpmsg_statistics: IcmpMsgMib::default(),
            udp_stats_in6: UdpMib::default(),
            udplite_stats_in6: UdpMib::default(),
            ipv6_statistics: IpStatsMib::default(),
            icmpv6_statistics: Icmpv6Mib::default(),
            icmpv6msg_statistics: Icmpv6MsgMib::default(),
        }
    }

    /// `icmp_out_count`: an ICMPv4 message of type `ty` left (`OutType<ty>` and `OutMsgs`).
    pub fn icmp_out_count(&mut self, ty: u8) {
        self.icmpmsg_statistics.inc_out(ty);
        self.icmp_statistics.inc(Icmp::OutMsgs);
    }

    /// `IP6_INC_STATS`: `field` of the device (if any) and of the namespace.
    pub fn ip6_inc(&mut self, idev: Option<&mut Ipv6DevStat>, field: IpStats) {
        self.ip6_add(idev, field, 1);
    }

    /// `IP6_ADD_STATS`.
    pub fn ip6_add(&mut self, idev: Option<&mut Ipv6DevStat>, field: IpStats, val: u64) {
        if let Some(d) = idev {
            d.ipv6.add(field, val);
        }
        self.ipv6_statistics.add(field, val);
    }

    /// `IP6_UPD_PO_STATS`: one packet of `octets` bytes on `base`.
    pub fn ip6_upd_po(&mut self, idev: Option<&mut Ipv6DevStat>, base: PoBase, octets: u64) {
        if let Some(d) = idev {
            d.ipv6.upd_po(base, octets);
        }
        self.ipv6_statistics.upd_po(base, octets);
    }

    /// What an IPv6 reassembly call reported, added as the `IP6_INC_STATS_BH` calls of
    /// `net/ipv6/reassembly.c` would have, device included.
    pub fn ip6_add_reasm(&mut self, idev: Option<&mut Ipv6DevStat>, r: &ReasmStats) {
        if let Some(d) = idev {
            d.ipv6.add_reasm(r);
        }
        self.ipv6_statistics.add_reasm(r);
    }

    /// `ICMP6_INC_STATS`.
    pub fn icmp6_inc(&mut self, idev: Option<&mut Ipv6DevStat>, field: Icmp6) {
        if let Some(d) = idev {
            d.icmpv6dev.inc(field);
        }
        self.icmpv6_statistics.inc(field);
    }

    /// `ICMP6MSGIN_INC_STATS`: an ICMPv6 message of type `ty` arrived (after the checksum
    /// passed, as in `icmpv6_rcv`; `Icmp6InMsgs` is the caller's separate bump).
    pub fn icmp6msg_in_inc(&mut self, idev: Option<&mut Ipv6DevStat>, ty: u8) {
        if let Some(d) = idev {
            d.icmpv6msgdev.inc_in(ty);
        }
        self.icmpv6msg_statistics.inc_in(ty);
    }

    /// `ICMP6MSGOUT_INC_STATS`.
    pub fn icmp6msg_out_inc(&mut self, idev: Option<&mut Ipv6DevStat>, ty: u8) {
        if let Some(d) = idev {
            d.icmpv6msgdev.inc_out(ty);
        }
        self.icmpv6msg_statistics.inc_out(ty);
    }

    /// An ICMPv6 message of type `ty` is sent: the pair every 4.3 sender bumps
    /// (`__ip6_make_skb`, `ndisc_send_skb`, `mld_sendpack`, `igmp6_send`),
    /// `ICMP6MSGOUT_INC_STATS` then `ICMP6_INC_STATS(…, ICMP6_MIB_OUTMSGS)`.
    pub fn icmp6_out_count(&mut self, mut idev: Option<&mut Ipv6DevStat>, ty: u8) {
        self.icmp6msg_out_inc(idev.as_deref_mut(), ty);
        self.icmp6_inc(idev, Icmp6::OutMsgs);
    }
}

#[cfg(test)]
mod expected;
#[cfg(test)]
mod tests;
