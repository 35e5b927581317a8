//! IPv6 Duplicate Address Detection per address (`net/ipv6/addrconf.c`: `ipv6_add_addr`,
//! `addrconf_dad_start`/`_begin`/`_kick`/`_work`/`_completed`/`_failure`/`_stop`), the
//! per-address part of `ndisc_recv_ns`/`ndisc_recv_na` that feeds it. The `ip -6 addr show`
//! text is in `addrconf_show.rs`.
//!
//! 4.3's sequence for a new address: TENTATIVE, state PREDAD, DAD work queued at once; the
//! work joins the solicited-node group and (unless DAD is off) waits a random
//! `prandom_u32() % rtr_solicit_delay` jiffies — [0, 1 s) in 4 ms steps — then sends
//! `dad_transmits` NS from `::`, `retrans_time` apart, and one `retrans_time` after the
//! last, with no conflict, clears TENTATIVE. A conflict (an NS from `::` or an NA not looped
//! back, for the address while its state is DAD) moves it to ERRDAD and queues the work,
//! which marks a permanent address `tentative dadfailed` and deletes any other.
//!
//! 4.3 has no DAD nonce (RFC 7527 came in 4.9) and `ndisc_recv_ns` checks no
//! `PACKET_LOOPBACK` for NS: ND's socket turns multicast loopback off, so the kernel never
//! hears its own NS, but one reflected back by the link (a hairpinning bridge, a looped
//! cable) fails DAD. Only the NA path checks `pkt_type == PACKET_LOOPBACK`.
//!
//! Left to the caller: stable-privacy regeneration (`IFA_F_STABLE_PRIVACY`), temporary
//! address regeneration, lifetimes expiring (`addrconf_verify`), routes and MLD.

#![warn(missing_docs)]

use alloc::vec::Vec;

use super::jiffies::{ns_to_jiffies, time_before_eq, Prandom, HZ};
use crate::net::wire::{EthernetAddress, Ipv6Addr};
use crate::uapi::Errno;

/// `IFA_F_TEMPORARY` (= `IFA_F_SECONDARY`).
pub const IFA_F_TEMPORARY: u32 = 0x01;
/// `IFA_F_NODAD`: skip DAD.
pub const IFA_F_NODAD: u32 = 0x02;
/// `IFA_F_OPTIMISTIC`: usable during DAD (RFC 4429).
pub const IFA_F_OPTIMISTIC: u32 = 0x04;
/// `IFA_F_DADFAILED`.
pub const IFA_F_DADFAILED: u32 = 0x08;
/// `IFA_F_HOMEADDRESS`.
pub const IFA_F_HOMEADDRESS: u32 = 0x10;
/// `IFA_F_DEPRECATED`.
pub const IFA_F_DEPRECATED: u32 = 0x20;
/// `IFA_F_TENTATIVE`.
pub const IFA_F_TENTATIVE: u32 = 0x40;
/// `IFA_F_PERMANENT`: no lifetime (manual or link-local).
pub const IFA_F_PERMANENT: u32 = 0x80;
/// `IFA_F_MANAGETEMPADDR`.
pub const IFA_F_MANAGETEMPADDR: u32 = 0x100;
/// `IFA_F_NOPREFIXROUTE`.
pub const IFA_F_NOPREFIXROUTE: u32 = 0x200;
/// `IFA_F_MCAUTOJOIN`.
pub const IFA_F_MCAUTOJOIN: u32 = 0x400;
/// `IFA_F_STABLE_PRIVACY`.
pub const IFA_F_STABLE_PRIVACY: u32 = 0x800;
/// `INFINITY_LIFE_TIME`.
pub const INFINITY_LIFE_TIME: u32 = 0xffff_ffff;
/// `IFF_LOOPBACK`.
pub const IFF_LOOPBACK: u32 = 0x8;
/// `IFF_NOARP`.
pub const IFF_NOARP: u32 = 0x80;

/// `INET6_IFADDR_STATE_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfaState {
    /// Added; the DAD work has not begun.
    PreDad,
    /// DAD running (conflicts count only now).
    Dad,
    /// DAD over (succeeded, failed, or stopped).
    PostDad,
    /// Conflict seen; the work will stop DAD.
    ErrDad,
    /// Being deleted.
    Dead,
}

/// `struct ipv6_devconf`, the fields DAD reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6DevConf {
    /// `accept_dad` (−1 on NOARP/loopback devices; >1 disables IPv6 on a MAC-derived
    /// link-local conflict).
    pub accept_dad: i32,
    /// `dad_transmits`.
    pub dad_transmits: u32,
    /// `rtr_solicit_delay` (jiffies): bound of the random delay before the first NS.
    pub rtr_solicit_delay: u64,
    /// `rtr_solicits`.
    pub rtr_solicits: i32,
    /// `accept_ra`.
    pub accept_ra: i32,
    /// `forwarding`.
    pub forwarding: i32,
    /// `disable_ipv6`.
    pub disable_ipv6: bool,
}

impl Default for Ipv6DevConf {
    /// `ipv6_devconf_dflt`.
    fn default() -> Self {
        Ipv6DevConf {
            accept_dad: 1,
            dad_transmits: 1,
            rtr_solicit_delay: HZ,
            rtr_solicits: 3,
            accept_ra: 1,
            forwarding: 0,
            disable_ipv6: false,
        }
    }
}

/// One `struct inet6_ifaddr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inet6Ifaddr {
    /// The address.
    pub addr: Ipv6Addr,
    /// Prefix length.
    pub prefix_len: u8,
    /// `IFA_F_*`.
    pub flags: u32,
    /// DAD progress.
    pub state: IfaState,
    /// NS still to send.
    pub dad_probes: u32,
    /// Seconds, or [`INFINITY_LIFE_TIME`].
    pub valid_lft: u32,
    /// Seconds, or [`INFINITY_LIFE_TIME`].
    pub prefered_lft: u32,
    /// Jiffies of the last lifetime update.
    pub tstamp: u64,
    dad_work: Option<u64>,
}

/// What the DAD machinery asks the stack to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DadEvent {
    /// Join the address's solicited-node group (`addrconf_join_solict`).
    JoinSolicited(Ipv6Addr),
    /// Send an NS from `::` to `dst` (the solicited-node group) for `target`, no SLLA.
    SendNs {
        /// Address under test.
        target: Ipv6Addr,
        /// Its solicited-node multicast address.
        dst: Ipv6Addr,
    },
    /// DAD done, the address is usable (`RTM_NEWADDR`); `send_rs`: start router
    /// solicitation from this link-local address now, without the initial delay.
    Completed {
        /// The address.
        addr: Ipv6Addr,
        /// Source of the first RS, if one is due.
        send_rs: Option<Ipv6Addr>,
    },
    /// DAD failed on a permanent address: it stays, `tentative dadfailed`.
    Failed(Ipv6Addr),
    /// The address was removed (a non-permanent address whose DAD failed, or that was
    /// stopped on a device not ready).
    Deleted(Ipv6Addr),
    /// `accept_dad > 1` and the MAC-derived link-local was duplicated: IPv6 disabled.
    Ipv6Disabled,
}

/// What an NS or NA names when its target is one of the device's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetVerdict {
    /// Not an address of this device (ND goes on: anycast, proxy, neighbour cache).
    NotOurs,
    /// A conflict with DAD: handled here (DAD fails if it was running); ND stops.
    DadConflict,
    /// Ours but tentative, or an NA for an address we hold: ND ignores the message.
    Ignore,
    /// Ours and usable (or optimistic): answer the NS.
    Answer,
}

/// The solicited-node multicast address `ff02::1:ffXX:XXXX` (`addrconf_addr_solict_mult`).
pub fn solicited_node(a: &Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::from([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, o[13], o[14], o[15]])
}

/// `ifa->scope` (`ipv6_addr_scope`): `IFA_HOST` 0x10, `IFA_LINK` 0x20, `IFA_SITE` 0x40,
/// global 0.
pub fn ifa_scope(a: &Ipv6Addr) -> u32 {
    let s = a.segments();
    if a.is_loopback() {
        0x10
    } else if s[0] & 0xffc0 == 0xfe80 {
        0x20
    } else if s[0] & 0xffc0 == 0xfec0 {
        0x40
    } else {
        0
    }
}

/// `ipv6_addr_src_scope` of a unicast address: the RFC 4291 scope value that orders a
/// device's address list (global 14 first, then site 5, link 2, node 1).
fn src_scope(a: &Ipv6Addr) -> u32 {
    match ifa_scope(a) {
        0x10 => 1,
        0x20 => 2,
        0x40 => 5,
        _ => 14,
    }
}

/// One device's IPv6 addresses (`struct inet6_dev`, the DAD part).
#[derive(Clone, Debug)]
pub struct Inet6Dev {
    /// The device's MAC (for the `accept_dad > 1` EUI-64 comparison).
    pub dev_addr: EthernetAddress,
    /// `IFF_*` flags of the device.
    pub dev_flags: u32,
    /// `IF_READY`: the link is up and has a carrier.
    pub if_ready: bool,
    /// Configuration.
    pub cnf: Ipv6DevConf,
    /// ND `retrans_time` of the device (jiffies): the NS spacing.
    pub retrans_time: u64,
    addrs: Vec<Inet6Ifaddr>,
    rng: Prandom,
}

impl Inet6Dev {
    /// `ipv6_add_dev`: NOARP and loopback devices get `accept_dad = -1`.
    pub fn new(dev_addr: EthernetAddress, dev_flags: u32, if_ready: bool, seed: u64) -> Self {
        let mut cnf = Ipv6DevConf::default();
        if dev_flags & (IFF_NOARP | IFF_LOOPBACK) != 0 {
            cnf.accept_dad = -1;
        }
        Inet6Dev {
            dev_addr,
            dev_flags,
            if_ready,
            cnf,
            retrans_time: HZ,
            addrs: Vec::new(),
            rng: Prandom::new(seed),
        }
    }

    /// The addresses in `addr_list` order (global before link-local, newest first within
    /// a scope).
    pub fn addrs(&self) -> &[Inet6Ifaddr] {
        &self.addrs
    }

    /// The address `a`, if configured here (`ipv6_get_ifaddr(…, dev, strict)`).
    pub fn get(&self, a: &Ipv6Addr) -> Option<&Inet6Ifaddr> {
        self.addrs.iter().find(|i| i.addr == *a)
    }

    fn get_mut(&mut self, a: &Ipv6Addr) -> Option<&mut Inet6Ifaddr> {
        self.addrs.iter_mut().find(|i| i.addr == *a)
    }

    /// `ipv6_add_addr`: a new TENTATIVE address in `addr_list` (no DAD started yet).
    pub fn ipv6_add_addr(
        &mut self,
        addr: Ipv6Addr,
        prefix_len: u8,
        flags: u32,
        valid_lft: u32,
        prefered_lft: u32,
        now_ns: u64,
    ) -> Result<(), Errno> {
        if addr.is_unspecified()
            || addr.is_multicast()
            || (self.dev_flags & IFF_LOOPBACK == 0 && addr.is_loopback())
        {
            return Err(Errno::EADDRNOTAVAIL);
        }
        if self.cnf.disable_ipv6 {
            return Err(Errno::EACCES);
        }
        if self.get(&addr).is_some() {
            return Err(Errno::EEXIST);
        }
        let scope = src_scope(&addr);
        let pos = self.addrs.iter().position(|i| scope >= src_scope(&i.addr)).unwrap_or(self.addrs.len());
        let ifa = Inet6Ifaddr {
            addr,
            prefix_len,
            flags: flags | IFA_F_TENTATIVE,
            state: IfaState::PreDad,
            dad_probes: 0,
            valid_lft,
            prefered_lft,
            tstamp: ns_to_jiffies(now_ns),
            dad_work: None,
        };
        self.addrs.insert(pos, ifa);
        Ok(())
    }

    /// `inet6_addr_add` (`ip -6 addr add`, after the caller's `ENODEV`): checks, the
    /// address (PERMANENT for an infinite valid lifetime), and DAD started.
    pub fn inet6_addr_add(
        &mut self,
        addr: Ipv6Addr,
        prefix_len: u32,
        mut flags: u32,
        prefered_lft: u32,
        valid_lft: u32,
        now_ns: u64,
    ) -> Result<(), Errno> {
        if prefix_len > 128
            || valid_lft == 0
            || prefered_lft > valid_lft
            || (flags & IFA_F_MANAGETEMPADDR != 0 && prefix_len != 64)
        {
            return Err(Errno::EINVAL);
        }
        if valid_lft == INFINITY_LIFE_TIME {
            flags |= IFA_F_PERMANENT;
        }
        if prefered_lft == 0 {
            flags |= IFA_F_DEPRECATED;
        }
        self.ipv6_add_addr(addr, prefix_len as u8, flags, valid_lft, prefered_lft, now_ns)?;
        self.dad_start(&addr, now_ns);
        Ok(())
    }

    /// `addrconf_add_linklocal`: the EUI-64 link-local address, permanent, DAD started.
    pub fn add_linklocal(&mut self, now_ns: u64) -> Result<Ipv6Addr, Errno> {
        let a = self.eui64_linklocal();
        self.ipv6_add_addr(a, 64, IFA_F_PERMANENT, INFINITY_LIFE_TIME, INFINITY_LIFE_TIME, now_ns)?;
        self.dad_start(&a, now_ns);
        Ok(a)
    }

    /// `fe80::` + `ipv6_generate_eui64(dev_addr)`.
    pub fn eui64_linklocal(&self) -> Ipv6Addr {
        let m = self.dev_addr.0;
        Ipv6Addr::from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
    }

    /// `inet6_addr_del` (`ip -6 addr del`): `EADDRNOTAVAIL` unless address and prefix match.
    pub fn inet6_addr_del(&mut self, addr: &Ipv6Addr, prefix_len: u32) -> Result<(), Errno> {
        let pos = self.addrs.iter().position(|i| i.addr == *addr && u32::from(i.prefix_len) == prefix_len);
        let pos = pos.ok_or(Errno::EADDRNOTAVAIL)?;
        self.addrs.remove(pos);
        Ok(())
    }

    /// `addrconf_dad_start`: PREDAD, DAD work queued now.
    pub fn dad_start(&mut self, addr: &Ipv6Addr, now_ns: u64) {
        let now = ns_to_jiffies(now_ns);
        if let Some(i) = self.get_mut(addr) {
            if i.state != IfaState::Dead {
                i.state = IfaState::PreDad;
                i.dad_work = Some(now);
            }
        }
    }

    /// The earliest instant (ns) a DAD work is due.
    pub fn next_deadline(&self) -> Option<u64> {
        self.addrs.iter().filter_map(|i| i.dad_work).min().map(super::jiffies::jiffies_to_ns)
    }

    /// Runs every due DAD work (`addrconf_dad_work`), earliest first.
    pub fn timer(&mut self, now_ns: u64) -> Vec<DadEvent> {
        let now = ns_to_jiffies(now_ns);
        let mut ev = Vec::new();
        while let Some(a) = self
            .addrs
            .iter()
            .filter_map(|i| i.dad_work.filter(|t| time_before_eq(*t, now)).map(|t| (t, i.addr)))
            .min()
            .map(|(_, a)| a)
        {
            self.dad_work(&a, now, &mut ev);
        }
        ev
    }

    /// `addrconf_dad_work` for one address at jiffies `now`.
    fn dad_work(&mut self, a: &Ipv6Addr, now: u64, ev: &mut Vec<DadEvent>) {
        let (ready, retrans) = (self.if_ready, self.retrans_time);
        let Some(i) = self.get_mut(a) else { return };
        i.dad_work = None;
        match i.state {
            IfaState::PreDad => {
                i.state = IfaState::Dad;
                self.dad_begin(a, now, ev);
                return;
            }
            IfaState::ErrDad => {
                i.state = IfaState::PostDad;
                self.dad_stop(a, true, ev);
                return;
            }
            _ => {}
        }
        if i.dad_probes == 0 {
            if i.state != IfaState::Dad {
                return;
            }
            i.state = IfaState::PostDad;
        }
        if !ready || i.state == IfaState::Dead {
            return;
        }
        if i.dad_probes == 0 {
            i.flags &= !(IFA_F_TENTATIVE | IFA_F_OPTIMISTIC | IFA_F_DADFAILED);
            self.dad_completed(a, ev);
            return;
        }
        i.dad_probes -= 1;
        i.dad_work = Some(now.wrapping_add(retrans));
        ev.push(DadEvent::SendNs { target: *a, dst: solicited_node(a) });
    }

    /// `addrconf_dad_begin`.
    fn dad_begin(&mut self, a: &Ipv6Addr, now: u64, ev: &mut Vec<DadEvent>) {
        ev.push(DadEvent::JoinSolicited(*a));
        let (dev_flags, cnf, ready) = (self.dev_flags, self.cnf, self.if_ready);
        let Some(i) = self.get_mut(a) else { return };
        if dev_flags & (IFF_NOARP | IFF_LOOPBACK) != 0
            || cnf.accept_dad < 1
            || i.flags & IFA_F_TENTATIVE == 0
            || i.flags & IFA_F_NODAD != 0
        {
            i.flags &= !(IFA_F_TENTATIVE | IFA_F_OPTIMISTIC | IFA_F_DADFAILED);
            self.dad_completed(a, ev);
            return;
        }
        if !ready {
            self.dad_stop(a, false, ev);
            return;
        }
        self.dad_kick(a, now);
    }

    /// `addrconf_dad_kick`: `dad_transmits` probes after a random delay (none when
    /// optimistic).
    fn dad_kick(&mut self, a: &Ipv6Addr, now: u64) {
        let bound = self.cnf.rtr_solicit_delay.max(1);
        let r = u64::from(self.rng.next_u32()) % bound;
        let transmits = self.cnf.dad_transmits;
        if let Some(i) = self.get_mut(a) {
            let delay = if i.flags & IFA_F_OPTIMISTIC != 0 { 0 } else { r };
            i.dad_probes = transmits;
            i.dad_work = Some(now.wrapping_add(delay));
        }
    }

    /// `addrconf_dad_stop`: a permanent address stays tentative (and dadfailed on a
    /// failure); any other is deleted.
    fn dad_stop(&mut self, a: &Ipv6Addr, failed: bool, ev: &mut Vec<DadEvent>) {
        let Some(i) = self.get_mut(a) else { return };
        i.dad_work = None;
        if i.flags & IFA_F_PERMANENT != 0 {
            i.flags |= IFA_F_TENTATIVE;
            if failed {
                i.flags |= IFA_F_DADFAILED;
                ev.push(DadEvent::Failed(*a));
            }
        } else {
            self.addrs.retain(|x| x.addr != *a);
            ev.push(DadEvent::Deleted(*a));
        }
    }

    /// `addrconf_dad_completed`: usable now; the first RS goes out at once if this is the
    /// device's only usable link-local and router solicitation applies.
    fn dad_completed(&mut self, a: &Ipv6Addr, ev: &mut Vec<DadEvent>) {
        let link = ifa_scope(a) == 0x20;
        let lonely = !self.addrs.iter().rev().take_while(|x| ifa_scope(&x.addr) <= 0x20).any(|x| {
            x.addr != *a
                && ifa_scope(&x.addr) == 0x20
                && x.flags & (IFA_F_PERMANENT | IFA_F_TENTATIVE | IFA_F_OPTIMISTIC | IFA_F_DADFAILED)
                    == IFA_F_PERMANENT
        });
        let accept_ra =
            if self.cnf.forwarding != 0 { self.cnf.accept_ra == 2 } else { self.cnf.accept_ra != 0 };
        let send_rs =
            link && lonely && accept_ra && self.cnf.rtr_solicits > 0 && self.dev_flags & IFF_LOOPBACK == 0;
        // ipv6_get_lladdr(dev, &lladdr, IFA_F_TENTATIVE): the first link-local not tentative.
        let lladdr = self
            .addrs
            .iter()
            .find(|x| ifa_scope(&x.addr) == 0x20 && x.flags & IFA_F_TENTATIVE == 0)
            .map(|x| x.addr);
        if let Some(i) = self.get_mut(a) {
            i.dad_work = None;
        }
        ev.push(DadEvent::Completed { addr: *a, send_rs: lladdr.filter(|_| send_rs) });
    }

    /// `addrconf_dad_failure`: ignored unless DAD is running on `a`; otherwise (after the
    /// `accept_dad > 1` check) ERRDAD with the work queued now. True if DAD failed.
    pub fn dad_failure(&mut self, a: &Ipv6Addr, now_ns: u64, ev: &mut Vec<DadEvent>) -> bool {
        let eui = self.eui64_linklocal();
        let cnf = self.cnf;
        let Some(i) = self.get_mut(a) else { return false };
        if i.state != IfaState::Dad {
            return false;
        }
        i.state = IfaState::ErrDad;
        i.dad_work = Some(ns_to_jiffies(now_ns));
        let stable = i.flags & IFA_F_STABLE_PRIVACY != 0;
        if !stable && cnf.accept_dad > 1 && !cnf.disable_ipv6 && *a == eui {
            self.cnf.disable_ipv6 = true;
            ev.push(DadEvent::Ipv6Disabled);
        }
        true
    }

    /// `ndisc_recv_ns` for a target on this device: `dad` = the NS came from `::`.
    pub fn ns_target(
        &mut self,
        target: &Ipv6Addr,
        dad: bool,
        now_ns: u64,
        ev: &mut Vec<DadEvent>,
    ) -> TargetVerdict {
        let Some(i) = self.get(target) else { return TargetVerdict::NotOurs };
        let flags = i.flags;
        if flags & (IFA_F_TENTATIVE | IFA_F_OPTIMISTIC) != 0 {
            if dad {
                self.dad_failure(target, now_ns, ev);
                return TargetVerdict::DadConflict;
            }
            if flags & IFA_F_OPTIMISTIC == 0 {
                return TargetVerdict::Ignore;
            }
        }
        TargetVerdict::Answer
    }

    /// `ndisc_recv_na` for a target on this device: `looped_back` = `PACKET_LOOPBACK`.
    pub fn na_target(
        &mut self,
        target: &Ipv6Addr,
        looped_back: bool,
        now_ns: u64,
        ev: &mut Vec<DadEvent>,
    ) -> TargetVerdict {
        let Some(i) = self.get(target) else { return TargetVerdict::NotOurs };
        if !looped_back && i.flags & IFA_F_TENTATIVE != 0 {
            self.dad_failure(target, now_ns, ev);
            return TargetVerdict::DadConflict;
        }
        TargetVerdict::Ignore
    }

    /// The link came up (`IF_READY` set, `addrconf_dad_run`): DAD restarts, with a new
    /// random delay, on every tentative address whose DAD is running.
    pub fn link_up(&mut self, now_ns: u64) {
        self.if_ready = true;
        let now = ns_to_jiffies(now_ns);
        let pending: Vec<Ipv6Addr> = self
            .addrs
            .iter()
            .filter(|i| i.flags & IFA_F_TENTATIVE != 0 && i.state == IfaState::Dad)
            .map(|i| i.addr)
            .collect();
        for a in pending {
            self.dad_kick(&a, now);
        }
    }
}

#[cfg(test)]
#[path = "addrconf_tests.rs"]
mod tests;
