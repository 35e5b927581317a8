//! Neighbour messages (`RTM_NEWNEIGH`, `RTM_DELNEIGH`): `neigh_add` and `neigh_delete`
//! (`net/core/neighbour.c`) in front of the tables' own handlers
//! ([`NeighTable::rtnl_newneigh`](crate::net::core::neighbour::NeighTable), in
//! `net::core::neigh_rtnl`), and `ip neigh flush` on the kernel's tables.

use super::{InetAddr, AF_INET, AF_INET6, NLM_F_CREATE};
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::neigh_key::NeighInit;
use crate::net::core::neigh_rtnl::{NdMsg, NeighFilter};
use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use crate::uapi::Errno;
use alloc::vec::Vec;

/// `dev->addr_len` of every k43 device (Ethernet and `lo`): `ETH_ALEN`.
const ADDR_LEN: usize = 6;

/// An `RTM_*NEIGH` message: `struct ndmsg`, `NDA_DST` and `NDA_LLADDR`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeighMsg {
    /// `ndm_family`: picks the table (`AF_INET` ARP, `AF_INET6` ND).
    pub family: u8,
    /// `ndm_ifindex` (0: none).
    pub ifindex: u32,
    /// `ndm_state` (`NUD_*`).
    pub state: u16,
    /// `ndm_flags` (`NTF_PROXY`, `NTF_USE`, `NTF_ROUTER`).
    pub flags: u8,
    /// `NDA_DST`.
    pub dst: Option<InetAddr>,
    /// `NDA_LLADDR`, as many bytes as were sent.
    pub lladdr: Option<Vec<u8>>,
}

impl NeighMsg {
    /// A zeroed message of `family`.
    pub fn new(family: u8) -> Self {
        NeighMsg { family, ..Self::default() }
    }
}

/// The attribute's bytes (`nla_data`): the table reads its key length from the front.
fn dst_bytes(a: &InetAddr) -> Vec<u8> {
    match a {
        InetAddr::V4(x) => x.octets().to_vec(),
        InetAddr::V6(x) => x.octets().to_vec(),
    }
}

impl<H: Hal> Kernel<H> {
    /// The checks `neigh_add` and `neigh_delete` make before the table: no `NDA_DST` →
    /// `EINVAL`; an `ndm_ifindex` that names no device → `ENODEV`; (adding) an
    /// `NDA_LLADDR` shorter than the device's address → `EINVAL`; no table for the family
    /// → `EAFNOSUPPORT`; an `NDA_DST` shorter than the table's key → `EINVAL`.
    fn neigh_precheck(&self, m: &NeighMsg, add: bool) -> Result<Vec<u8>, Errno> {
        let dst = m.dst.as_ref().ok_or(Errno::EINVAL)?;
        if m.ifindex != 0 {
            if !self.net.devices.contains_key(&m.ifindex) {
                return Err(Errno::ENODEV);
            }
            if add && m.lladdr.as_ref().is_some_and(|l| l.len() < ADDR_LEN) {
                return Err(Errno::EINVAL);
            }
        }
        let key_len = match m.family {
            AF_INET => 4,
            AF_INET6 => 16,
            _ => return Err(Errno::EAFNOSUPPORT),
        };
        let b = dst_bytes(dst);
        if b.len() < key_len {
            return Err(Errno::EINVAL);
        }
        Ok(b)
    }

    /// `tbl->constructor` for a new entry: `arp_constructor` / `ndisc_constructor` — no
    /// IPv4 / IPv6 state on the device is `EINVAL`; `lo` needs no resolution; multicast
    /// (and IPv4 broadcast) addresses map without it.
    fn neigh_init(&self, family: u8, ifindex: u32, key: &[u8]) -> NeighInit {
        let Some(dev) = self.net.devices.get(&ifindex) else { return NeighInit::NoInetDev };
        if family == AF_INET {
            let Some(o) = key.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) else { return NeighInit::NoInetDev };
            if !dev.in_dev {
                return NeighInit::NoInetDev;
            }
            return self.arp_neigh_init(ifindex, &Ipv4Addr::from(o));
        }
        let Some(o) = key.get(..16).and_then(|b| <[u8; 16]>::try_from(b).ok()) else { return NeighInit::NoInetDev };
        let a = Ipv6Addr::from(o);
        if !self.net.idev6.contains_key(&ifindex) {
            return NeighInit::NoInetDev;
        }
        if a.is_multicast() {
            return NeighInit::for_key(&a);
        }
        if dev.is_loopback() {
            return NeighInit::NoArp(dev.mac);
        }
        NeighInit::Resolve
    }

    /// `ip neigh add|change|replace` (`neigh_add`): [`Kernel::neigh_precheck`]'s errors,
    /// then the table's (`rtnl_newneigh`: a proxy entry, `EINVAL` without a device,
    /// `ENOENT` without `NLM_F_CREATE` for a missing entry, `EEXIST` under `NLM_F_EXCL`, the
    /// constructor's `EINVAL`, and `neigh_update`'s). Probes and released packets go out.
    pub fn neigh_add(&mut self, m: &NeighMsg, nlflags: u16) -> Result<(), Errno> {
        let key = self.neigh_precheck(m, true)?;
        let now = self.hal.now_ns();
        let init = if nlflags & NLM_F_CREATE != 0 { self.neigh_init(m.family, m.ifindex, &key) } else { NeighInit::Resolve };
        let nd = NdMsg { ifindex: m.ifindex, state: m.state, flags: m.flags, dst: &key, lladdr: m.lladdr.as_deref() };
        if m.family == AF_INET {
            let out = self.net.arp.rtnl_newneigh(&nd, nlflags, init, now)?;
            self.arp_apply(out);
        } else {
            let out = self.net.nd.rtnl_newneigh(&nd, nlflags, init, now)?;
            self.ndisc_apply(out);
        }
        self.net_run_backlog();
        Ok(())
    }

    /// `ip neigh del` (`neigh_delete`): [`Kernel::neigh_precheck`]'s errors, then the
    /// table's: a proxy entry (`ENOENT`), `EINVAL` without a device, `ENOENT` for no such
    /// entry; an entry is set `FAILED` (4.3 does not remove it), reporting its queued
    /// packets unreachable.
    pub fn neigh_delete(&mut self, m: &NeighMsg) -> Result<(), Errno> {
        let key = self.neigh_precheck(m, false)?;
        let now = self.hal.now_ns();
        let nd = NdMsg { ifindex: m.ifindex, state: 0, flags: m.flags, dst: &key, lladdr: None };
        if m.family == AF_INET {
            let out = self.net.arp.rtnl_delneigh(&nd, now)?;
            self.arp_apply(out);
        } else {
            let out = self.net.nd.rtnl_delneigh(&nd, now)?;
            self.ndisc_apply(out);
        }
        self.net_run_backlog();
        Ok(())
    }

    /// `ip -4 neigh flush …` on the ARP table: iproute2's dump-and-delete rounds
    /// ([`NeighTable::flush`](crate::net::core::neighbour::NeighTable)). Returns the number
    /// of deletions.
    pub fn neigh_flush4(&mut self, filter: &NeighFilter<Ipv4Addr>) -> usize {
        let now = self.hal.now_ns();
        let (n, out) = self.net.arp.flush(filter, now);
        self.arp_apply(out);
        self.net_run_backlog();
        n
    }

    /// `ip -6 neigh flush …` on the ND table.
    pub fn neigh_flush6(&mut self, filter: &NeighFilter<Ipv6Addr>) -> usize {
        let now = self.hal.now_ns();
        let (n, out) = self.net.nd.flush(filter, now);
        self.ndisc_apply(out);
        self.net_run_backlog();
        n
    }
}
