//! The counter sets: one field enum per `enum` of `include/uapi/linux/snmp.h`, each
//! variant carrying Linux's value, and one array per `struct *_mib` of
//! `include/net/snmp.h`, indexed by those values. Slot 0 (`*_MIB_NUM`) exists and stays
//! zero, as in Linux, so an index here is an index there.
//!
//! Linux keeps per-CPU `unsigned long` (or `u64`) slots and folds them when printing;
//! k43 has one slot per counter, so a read is the fold. Counters wrap like Linux's
//! unsigned ones (`MaxConn` is set by adding −1, see [`TcpMib::tcp_mib_init`]).

use crate::net::inet_frag::ReasmStats;
use core::marker::PhantomData;

/// A field enum whose values index a [`Mib`].
pub trait MibField: Copy {
    /// The Linux enum value of this field.
    fn index(self) -> usize;
}

/// One counter set (`struct ipstats_mib`, `udp_mib`, …): `N` wrapping 64-bit counters
/// indexed by the fields of `F`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mib<F: MibField, const N: usize> {
    mibs: [u64; N],
    field: PhantomData<F>,
}

impl<F: MibField, const N: usize> Default for Mib<F, N> {
    fn default() -> Self {
        Mib {
            mibs: [0; N],
            field: PhantomData,
        }
    }
}

impl<F: MibField, const N: usize> Mib<F, N> {
    /// `SNMP_INC_STATS`: adds one to `field`.
    pub fn inc(&mut self, field: F) {
        self.add(field, 1);
    }

    /// `SNMP_ADD_STATS`: adds `val` to `field`, wrapping as Linux's unsigned counters do.
    pub fn add(&mut self, field: F, val: u64) {
        // The aliases below size every set from its enum's `__*_MAX`, so the slot exists;
        // a mis-sized hand-made `Mib` loses the count rather than panicking.
        if let Some(slot) = self.mibs.get_mut(field.index()) {
            *slot = slot.wrapping_add(val);
        }
    }

    /// The value of `field` (`snmp_fold_field`).
    pub fn get(&self, field: F) -> u64 {
        self.get_index(field.index())
    }

    /// The value at Linux enum value `i`, for sets whose fields k43 names only in part
    /// ([`NetStat`]); 0 past the end.
    pub fn get_index(&self, i: usize) -> u64 {
        self.mibs.get(i).copied().unwrap_or(0)
    }
}

macro_rules! mib_field {
    ($($ty:ty),*) => {$(
        impl MibField for $ty {
            fn index(self) -> usize {
                self as usize
            }
        }
    )*};
}
mib_field!(IpStats, Icmp, Icmp6, Tcp, Udp, NetStat);

/// `__IPSTATS_MIB_MAX`.
pub const IPSTATS_MIB_MAX: usize = 36;
/// `__ICMP_MIB_MAX`.
pub const ICMP_MIB_MAX: usize = 28;
/// `__ICMPMSG_MIB_MAX`: In (0..256) then Out (256..512) per 8-bit ICMP type.
pub const ICMPMSG_MIB_MAX: usize = 512;
/// `__ICMP6_MIB_MAX`.
pub const ICMP6_MIB_MAX: usize = 6;
/// `__ICMP6MSG_MIB_MAX`: In then Out per 8-bit ICMPv6 type.
pub const ICMP6MSG_MIB_MAX: usize = 512;
/// `__TCP_MIB_MAX`.
pub const TCP_MIB_MAX: usize = 16;
/// `__UDP_MIB_MAX`.
pub const UDP_MIB_MAX: usize = 9;
/// `__LINUX_MIB_MAX` (4.3 has 116 `LINUX_MIB_*` items after `LINUX_MIB_NUM`).
pub const LINUX_MIB_MAX: usize = 117;

/// `IPSTATS_MIB_*`, in 4.3's order; each variant's `/proc` name is its comment in `snmp.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpStats {
    /// `IPSTATS_MIB_INPKTS` (`InReceives`).
    InPkts = 1,
    /// `IPSTATS_MIB_INOCTETS` (`InOctets`).
    InOctets,
    /// `IPSTATS_MIB_INDELIVERS` (`InDelivers`).
    InDelivers,
    /// `IPSTATS_MIB_OUTFORWDATAGRAMS` (`OutForwDatagrams`).
    OutForwDatagrams,
    /// `IPSTATS_MIB_OUTPKTS` (`OutRequests`).
    OutPkts,
    /// `IPSTATS_MIB_OUTOCTETS` (`OutOctets`).
    OutOctets,
    /// `IPSTATS_MIB_INHDRERRORS` (`InHdrErrors`).
    InHdrErrors,
    /// `IPSTATS_MIB_INTOOBIGERRORS` (`InTooBigErrors`).
    InTooBigErrors,
    /// `IPSTATS_MIB_INNOROUTES` (`InNoRoutes`).
    InNoRoutes,
    /// `IPSTATS_MIB_INADDRERRORS` (`InAddrErrors`).
    InAddrErrors,
    /// `IPSTATS_MIB_INUNKNOWNPROTOS` (`InUnknownProtos`).
    InUnknownProtos,
    /// `IPSTATS_MIB_INTRUNCATEDPKTS` (`InTruncatedPkts`).
    InTruncatedPkts,
    /// `IPSTATS_MIB_INDISCARDS` (`InDiscards`).
    InDiscards,
    /// `IPSTATS_MIB_OUTDISCARDS` (`OutDiscards`).
    OutDiscards,
    /// `IPSTATS_MIB_OUTNOROUTES` (`OutNoRoutes`).
    OutNoRoutes,
    /// `IPSTATS_MIB_REASMTIMEOUT` (`ReasmTimeout`).
    ReasmTimeout,
    /// `IPSTATS_MIB_REASMREQDS` (`ReasmReqds`).
    ReasmReqds,
    /// `IPSTATS_MIB_REASMOKS` (`ReasmOKs`).
    ReasmOks,
    /// `IPSTATS_MIB_REASMFAILS` (`ReasmFails`).
    ReasmFails,
    /// `IPSTATS_MIB_FRAGOKS` (`FragOKs`).
    FragOks,
    /// `IPSTATS_MIB_FRAGFAILS` (`FragFails`).
    FragFails,
    /// `IPSTATS_MIB_FRAGCREATES` (`FragCreates`).
    FragCreates,
    /// `IPSTATS_MIB_INMCASTPKTS` (`InMcastPkts`).
    InMcastPkts,
    /// `IPSTATS_MIB_OUTMCASTPKTS` (`OutMcastPkts`).
    OutMcastPkts,
    /// `IPSTATS_MIB_INBCASTPKTS` (`InBcastPkts`).
    InBcastPkts,
    /// `IPSTATS_MIB_OUTBCASTPKTS` (`OutBcastPkts`).
    OutBcastPkts,
    /// `IPSTATS_MIB_INMCASTOCTETS` (`InMcastOctets`).
    InMcastOctets,
    /// `IPSTATS_MIB_OUTMCASTOCTETS` (`OutMcastOctets`).
    OutMcastOctets,
    /// `IPSTATS_MIB_INBCASTOCTETS` (`InBcastOctets`).
    InBcastOctets,
    /// `IPSTATS_MIB_OUTBCASTOCTETS` (`OutBcastOctets`).
    OutBcastOctets,
    /// `IPSTATS_MIB_CSUMERRORS` (`InCsumErrors`).
    CsumErrors,
    /// `IPSTATS_MIB_NOECTPKTS` (`InNoECTPkts`).
    NoEctPkts,
    /// `IPSTATS_MIB_ECT1PKTS` (`InECT1Pkts`).
    Ect1Pkts,
    /// `IPSTATS_MIB_ECT0PKTS` (`InECT0Pkts`).
    Ect0Pkts,
    /// `IPSTATS_MIB_CEPKTS` (`InCEPkts`).
    CePkts,
}

/// `ICMP_MIB_*`. 4.3 bumps only the totals and `CsumErrors` here; the per-type columns of
/// `/proc/net/snmp` are read from the [`IcmpMsgMib`], so the per-type fields exist for
/// their numbering only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmp {
    /// `ICMP_MIB_INMSGS` (`InMsgs`).
    InMsgs = 1,
    /// `ICMP_MIB_INERRORS` (`InErrors`).
    InErrors,
    /// `ICMP_MIB_INDESTUNREACHS` (`InDestUnreachs`).
    InDestUnreachs,
    /// `ICMP_MIB_INTIMEEXCDS` (`InTimeExcds`).
    InTimeExcds,
    /// `ICMP_MIB_INPARMPROBS` (`InParmProbs`).
    InParmProbs,
    /// `ICMP_MIB_INSRCQUENCHS` (`InSrcQuenchs`).
    InSrcQuenchs,
    /// `ICMP_MIB_INREDIRECTS` (`InRedirects`).
    InRedirects,
    /// `ICMP_MIB_INECHOS` (`InEchos`).
    InEchos,
    /// `ICMP_MIB_INECHOREPS` (`InEchoReps`).
    InEchoReps,
    /// `ICMP_MIB_INTIMESTAMPS` (`InTimestamps`).
    InTimestamps,
    /// `ICMP_MIB_INTIMESTAMPREPS` (`InTimestampReps`).
    InTimestampReps,
    /// `ICMP_MIB_INADDRMASKS` (`InAddrMasks`).
    InAddrMasks,
    /// `ICMP_MIB_INADDRMASKREPS` (`InAddrMaskReps`).
    InAddrMaskReps,
    /// `ICMP_MIB_OUTMSGS` (`OutMsgs`).
    OutMsgs,
    /// `ICMP_MIB_OUTERRORS` (`OutErrors`).
    OutErrors,
    /// `ICMP_MIB_OUTDESTUNREACHS` (`OutDestUnreachs`).
    OutDestUnreachs,
    /// `ICMP_MIB_OUTTIMEEXCDS` (`OutTimeExcds`).
    OutTimeExcds,
    /// `ICMP_MIB_OUTPARMPROBS` (`OutParmProbs`).
    OutParmProbs,
    /// `ICMP_MIB_OUTSRCQUENCHS` (`OutSrcQuenchs`).
    OutSrcQuenchs,
    /// `ICMP_MIB_OUTREDIRECTS` (`OutRedirects`).
    OutRedirects,
    /// `ICMP_MIB_OUTECHOS` (`OutEchos`).
    OutEchos,
    /// `ICMP_MIB_OUTECHOREPS` (`OutEchoReps`).
    OutEchoReps,
    /// `ICMP_MIB_OUTTIMESTAMPS` (`OutTimestamps`).
    OutTimestamps,
    /// `ICMP_MIB_OUTTIMESTAMPREPS` (`OutTimestampReps`).
    OutTimestampReps,
    /// `ICMP_MIB_OUTADDRMASKS` (`OutAddrMasks`).
    OutAddrMasks,
    /// `ICMP_MIB_OUTADDRMASKREPS` (`OutAddrMaskReps`).
    OutAddrMaskReps,
    /// `ICMP_MIB_CSUMERRORS` (`InCsumErrors`).
    CsumErrors,
}

/// `ICMP6_MIB_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icmp6 {
    /// `ICMP6_MIB_INMSGS` (`InMsgs`).
    InMsgs = 1,
    /// `ICMP6_MIB_INERRORS` (`InErrors`).
    InErrors,
    /// `ICMP6_MIB_OUTMSGS` (`OutMsgs`).
    OutMsgs,
    /// `ICMP6_MIB_OUTERRORS` (`OutErrors`).
    OutErrors,
    /// `ICMP6_MIB_CSUMERRORS` (`InCsumErrors`).
    CsumErrors,
}

/// `TCP_MIB_*`. k43 has no TCP; the set exists so `/proc/net/snmp` prints 4.3's line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tcp {
    /// `TCP_MIB_RTOALGORITHM` (`RtoAlgorithm`).
    RtoAlgorithm = 1,
    /// `TCP_MIB_RTOMIN` (`RtoMin`).
    RtoMin,
    /// `TCP_MIB_RTOMAX` (`RtoMax`).
    RtoMax,
    /// `TCP_MIB_MAXCONN` (`MaxConn`).
    MaxConn,
    /// `TCP_MIB_ACTIVEOPENS` (`ActiveOpens`).
    ActiveOpens,
    /// `TCP_MIB_PASSIVEOPENS` (`PassiveOpens`).
    PassiveOpens,
    /// `TCP_MIB_ATTEMPTFAILS` (`AttemptFails`).
    AttemptFails,
    /// `TCP_MIB_ESTABRESETS` (`EstabResets`).
    EstabResets,
    /// `TCP_MIB_CURRESTAB` (`CurrEstab`).
    CurrEstab,
    /// `TCP_MIB_INSEGS` (`InSegs`).
    InSegs,
    /// `TCP_MIB_OUTSEGS` (`OutSegs`).
    OutSegs,
    /// `TCP_MIB_RETRANSSEGS` (`RetransSegs`).
    RetransSegs,
    /// `TCP_MIB_INERRS` (`InErrs`).
    InErrs,
    /// `TCP_MIB_OUTRSTS` (`OutRsts`).
    OutRsts,
    /// `TCP_MIB_CSUMERRORS` (`InCsumErrors`).
    CsumErrors,
}

/// `UDP_MIB_*` (UDP and UDP-Lite, IPv4 and IPv6 share it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Udp {
    /// `UDP_MIB_INDATAGRAMS` (`InDatagrams`).
    InDatagrams = 1,
    /// `UDP_MIB_NOPORTS` (`NoPorts`).
    NoPorts,
    /// `UDP_MIB_INERRORS` (`InErrors`).
    InErrors,
    /// `UDP_MIB_OUTDATAGRAMS` (`OutDatagrams`).
    OutDatagrams,
    /// `UDP_MIB_RCVBUFERRORS` (`RcvbufErrors`).
    RcvbufErrors,
    /// `UDP_MIB_SNDBUFERRORS` (`SndbufErrors`).
    SndbufErrors,
    /// `UDP_MIB_CSUMERRORS` (`InCsumErrors`).
    CsumErrors,
    /// `UDP_MIB_IGNOREDMULTI` (`IgnoredMulti`).
    IgnoredMulti,
}

/// The `LINUX_MIB_*` items k43's IPv4 code can reach (`NET_INC_STATS`); the other 114 are
/// TCP's and stay zero, but keep their slots so `/proc/net/netstat` prints them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetStat {
    /// `LINUX_MIB_ARPFILTER` (`ArpFilter`): ARP request refused by `arp_filter`.
    ArpFilter = 10,
    /// `LINUX_MIB_IPRPFILTER` (`IPReversePathFilter`): dropped by `rp_filter`.
    IpRpFilter = 78,
}

/// `struct ipstats_mib`.
pub type IpStatsMib = Mib<IpStats, IPSTATS_MIB_MAX>;
/// `struct icmp_mib`.
pub type IcmpMib = Mib<Icmp, ICMP_MIB_MAX>;
/// `struct icmpv6_mib` and `icmpv6_mib_device` (the same counters).
pub type Icmpv6Mib = Mib<Icmp6, ICMP6_MIB_MAX>;
/// `struct tcp_mib`.
pub type TcpMib = Mib<Tcp, TCP_MIB_MAX>;
/// `struct udp_mib`.
pub type UdpMib = Mib<Udp, UDP_MIB_MAX>;
/// `struct linux_mib`.
pub type LinuxMib = Mib<NetStat, LINUX_MIB_MAX>;

/// The `basefield` of `SNMP_UPD_PO_STATS`: a packets counter and its octets counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoBase {
    /// `IPSTATS_MIB_IN`: `InPkts` / `InOctets`.
    In,
    /// `IPSTATS_MIB_OUT`: `OutPkts` / `OutOctets`.
    Out,
    /// `IPSTATS_MIB_INMCAST`.
    InMcast,
    /// `IPSTATS_MIB_OUTMCAST`.
    OutMcast,
    /// `IPSTATS_MIB_INBCAST`.
    InBcast,
    /// `IPSTATS_MIB_OUTBCAST`.
    OutBcast,
}

impl PoBase {
    fn fields(self) -> (IpStats, IpStats) {
        match self {
            PoBase::In => (IpStats::InPkts, IpStats::InOctets),
            PoBase::Out => (IpStats::OutPkts, IpStats::OutOctets),
            PoBase::InMcast => (IpStats::InMcastPkts, IpStats::InMcastOctets),
            PoBase::OutMcast => (IpStats::OutMcastPkts, IpStats::OutMcastOctets),
            PoBase::InBcast => (IpStats::InBcastPkts, IpStats::InBcastOctets),
            PoBase::OutBcast => (IpStats::OutBcastPkts, IpStats::OutBcastOctets),
        }
    }
}

impl IpStatsMib {
    /// `SNMP_UPD_PO_STATS`: one packet of `octets` bytes on `base`.
    pub fn upd_po(&mut self, base: PoBase, octets: u64) {
        let (pkts, octs) = base.fields();
        self.inc(pkts);
        self.add(octs, octets);
    }

    /// Adds what a reassembly call reported ([`ReasmStats`]) to the matching fields.
    pub fn add_reasm(&mut self, r: &ReasmStats) {
        self.add(IpStats::InHdrErrors, r.in_hdr_errors);
        self.add(IpStats::ReasmReqds, r.reasm_reqds);
        self.add(IpStats::ReasmOks, r.reasm_oks);
        self.add(IpStats::ReasmFails, r.reasm_fails);
        self.add(IpStats::ReasmTimeout, r.reasm_timeout);
    }
}

impl TcpMib {
    /// `tcp_mib_init` (`include/net/tcp.h`): the RFC 2012 constants every namespace
    /// starts with. `TCP_RTO_MIN*1000/HZ` is 200 and `TCP_RTO_MAX*1000/HZ` 120000 for any
    /// HZ; MaxConn is −1 added to an unsigned counter, printed signed.
    pub fn tcp_mib_init(&mut self) {
        self.add(Tcp::RtoAlgorithm, 1);
        self.add(Tcp::RtoMin, 200);
        self.add(Tcp::RtoMax, 120_000);
        self.add(Tcp::MaxConn, u64::MAX);
    }
}

/// `struct icmpmsg_mib` / `icmpv6msg_mib`: one counter per message type and direction,
/// In at `type`, Out at `type + 256` (`ICMPMSGOUT_INC_STATS` adds 256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpMsgMib {
    mibs: [u64; ICMPMSG_MIB_MAX],
}

/// `struct icmpv6msg_mib` and `icmpv6msg_mib_device`: the same layout as IPv4's.
pub type Icmpv6MsgMib = IcmpMsgMib;

impl Default for IcmpMsgMib {
    fn default() -> Self {
        IcmpMsgMib {
            mibs: [0; ICMPMSG_MIB_MAX],
        }
    }
}

impl IcmpMsgMib {
    /// `ICMPMSGIN_INC_STATS`: a message of type `ty` received.
    pub fn inc_in(&mut self, ty: u8) {
        self.bump(usize::from(ty));
    }

    /// `ICMPMSGOUT_INC_STATS`: a message of type `ty` sent.
    pub fn inc_out(&mut self, ty: u8) {
        self.bump(usize::from(ty) | 0x100);
    }

    /// Messages of type `ty` received.
    pub fn in_count(&self, ty: u8) -> u64 {
        self.raw(usize::from(ty))
    }

    /// Messages of type `ty` sent.
    pub fn out_count(&self, ty: u8) -> u64 {
        self.raw(usize::from(ty) | 0x100)
    }

    /// Slot `i` as `/proc` walks them: bit 8 set means Out, the low byte is the type.
    pub fn raw(&self, i: usize) -> u64 {
        self.mibs.get(i).copied().unwrap_or(0)
    }

    fn bump(&mut self, i: usize) {
        if let Some(slot) = self.mibs.get_mut(i) {
            *slot = slot.wrapping_add(1);
        }
    }
}
