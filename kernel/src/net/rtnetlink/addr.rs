//! Address messages (`RTM_NEWADDR`, `RTM_DELADDR`) and the address dump:
//! `inet_rtm_newaddr` / `inet_rtm_deladdr` (`net/ipv4/devinet.c`), `inet6_rtm_newaddr` /
//! `inet6_rtm_deladdr` (`net/ipv6/addrconf.c`).

use super::{v4, v6, InetAddr, AF_INET, AF_INET6, NLM_F_EXCL, NLM_F_REPLACE};
use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::core::addrconf::{IFA_F_HOMEADDRESS, IFA_F_MANAGETEMPADDR, IFA_F_MCAUTOJOIN, IFA_F_NODAD, IFA_F_NOPREFIXROUTE};
use crate::net::netdevice::InIfAddr;
use crate::net::wire::Ipv4Addr;
use crate::uapi::Errno;
use alloc::string::String;

/// An `RTM_*ADDR` message: `struct ifaddrmsg` and the attributes k43 reads. Peers
/// (`IFA_ADDRESS` other than `IFA_LOCAL`) and lifetimes (`IFA_CACHEINFO`) are not
/// modelled: an IPv4 address is its own `IFA_ADDRESS`, every address is permanent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IfAddrMsg {
    /// `ifa_family`.
    pub family: u8,
    /// `ifa_prefixlen`.
    pub prefixlen: u8,
    /// `ifa_flags` (the low 8 bits; more travel in [`IfAddrMsg::ifa_flags`]).
    pub flags: u8,
    /// `ifa_scope`.
    pub scope: u8,
    /// `ifa_index`.
    pub ifindex: u32,
    /// `IFA_LOCAL`.
    pub local: Option<InetAddr>,
    /// `IFA_ADDRESS`.
    pub address: Option<InetAddr>,
    /// `IFA_BROADCAST`.
    pub broadcast: Option<InetAddr>,
    /// `IFA_LABEL`.
    pub label: Option<String>,
    /// `IFA_FLAGS`.
    pub ifa_flags: Option<u32>,
}

impl IfAddrMsg {
    /// A zeroed message of `family`.
    pub fn new(family: u8) -> Self {
        IfAddrMsg { family, ..Self::default() }
    }

    /// `IFA_FLAGS` over the header's byte.
    fn all_flags(&self) -> u32 {
        self.ifa_flags.unwrap_or(u32::from(self.flags))
    }
}

impl<H: Hal> Kernel<H> {
    /// `RTM_NEWADDR`, dispatched by family (`EOPNOTSUPP` for a family without one).
    pub fn rtm_newaddr(&mut self, m: &IfAddrMsg, nlflags: u16) -> Result<(), Errno> {
        match m.family {
            AF_INET => self.inet_rtm_newaddr(m, nlflags),
            AF_INET6 => self.inet6_rtm_newaddr(m, nlflags),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// `RTM_DELADDR`, dispatched by family.
    pub fn rtm_deladdr(&mut self, m: &IfAddrMsg) -> Result<(), Errno> {
        match m.family {
            AF_INET => self.inet_rtm_deladdr(m),
            AF_INET6 => self.inet6_rtm_deladdr(m),
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// `inet_rtm_newaddr` (`rtm_to_ifaddr`, `find_matching_ifa`, `__inet_insert_ifa`):
    /// `EINVAL` for a prefix over 32 or no `IFA_LOCAL`; `ENODEV` for no such device;
    /// `ENOBUFS` for a device without IPv4 (MTU below 68). An address the device already
    /// has with this prefix is `EEXIST` under `NLM_F_EXCL` or without `NLM_F_REPLACE`,
    /// and otherwise unchanged (only its lifetimes would be, and k43's are infinite). A
    /// new one is inserted with the message's scope, flags and broadcast (`EEXIST`,
    /// `EINVAL` from the insertion), and its routes follow ([`Kernel::inet_addr_add`]).
    pub fn inet_rtm_newaddr(&mut self, m: &IfAddrMsg, nlflags: u16) -> Result<(), Errno> {
        let local = v4(m.local)?;
        if m.prefixlen > 32 {
            return Err(Errno::EINVAL);
        }
        let Some(local) = local else { return Err(Errno::EINVAL) };
        let broadcast = v4(m.broadcast)?.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let dev = self.net.devices.get(&m.ifindex).ok_or(Errno::ENODEV)?;
        if !dev.in_dev {
            return Err(Errno::ENOBUFS);
        }
        let ifa = InIfAddr { local, prefixlen: m.prefixlen, broadcast, scope: m.scope, flags: m.all_flags() };
        if dev.addrs4.iter().any(|a| a.prefixlen == ifa.prefixlen && ifa.matches(&a.local) && a.local == local) {
            return if nlflags & NLM_F_EXCL != 0 || nlflags & NLM_F_REPLACE == 0 { Err(Errno::EEXIST) } else { Ok(()) };
        }
        self.inet_insert_ifa(m.ifindex, ifa)?;
        self.net_run_backlog();
        Ok(())
    }

    /// `inet_rtm_deladdr`: `ENODEV` for no such device (or one without IPv4); the first
    /// address whose local address (if sent), label (if sent) and prefix (if
    /// `IFA_ADDRESS` was sent: same length, `IFA_ADDRESS` inside it) match is deleted with
    /// its routes (and, a primary, with its subnet's secondaries: `__inet_del_ifa` with
    /// `promote_secondaries` 0); else `EADDRNOTAVAIL`.
    pub fn inet_rtm_deladdr(&mut self, m: &IfAddrMsg) -> Result<(), Errno> {
        let local = v4(m.local)?;
        let address = v4(m.address)?;
        let dev = self.net.devices.get(&m.ifindex).filter(|d| d.in_dev).ok_or(Errno::ENODEV)?;
        let name = dev.name.clone();
        let idx = dev
            .addrs4
            .iter()
            .position(|ifa| {
                local.is_none_or(|l| l == ifa.local)
                    && m.label.as_deref().is_none_or(|l| l == name)
                    && address.is_none_or(|a| m.prefixlen == ifa.prefixlen && ifa.matches(&a))
            })
            .ok_or(Errno::EADDRNOTAVAIL)?;
        self.inet_del_ifa(m.ifindex, idx);
        Ok(())
    }

    /// `inet6_rtm_newaddr`: the address is `IFA_LOCAL`, else `IFA_ADDRESS` (`EINVAL` if
    /// neither); `ENODEV` for no such device; of the flags only `nodad`, `home`,
    /// `mngtmpaddr`, `noprefixroute` and `autojoin` count. One the device has already is
    /// `EEXIST` under `NLM_F_EXCL` or without `NLM_F_REPLACE`, else kept
    /// (`inet6_addr_modify`, whose lifetime and prefix-route changes k43 does not model);
    /// a new one goes through [`Kernel::inet6_addr_add`].
    pub fn inet6_rtm_newaddr(&mut self, m: &IfAddrMsg, nlflags: u16) -> Result<(), Errno> {
        let pfx = v6(m.local)?.or(v6(m.address)?).ok_or(Errno::EINVAL)?;
        if !self.net.devices.contains_key(&m.ifindex) {
            return Err(Errno::ENODEV);
        }
        let flags = m.all_flags() & (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN);
        if self.net.idev6.get(&m.ifindex).is_some_and(|i| i.get(&pfx).is_some()) {
            return if nlflags & NLM_F_EXCL != 0 || nlflags & NLM_F_REPLACE == 0 { Err(Errno::EEXIST) } else { Ok(()) };
        }
        self.inet6_addr_add(m.ifindex, pfx, u32::from(m.prefixlen), flags)
    }

    /// `inet6_rtm_deladdr`: `IFA_LOCAL`, else `IFA_ADDRESS` (`EINVAL` if neither), then
    /// [`Kernel::inet6_addr_del`] with the message's prefix length.
    pub fn inet6_rtm_deladdr(&mut self, m: &IfAddrMsg) -> Result<(), Errno> {
        let pfx = v6(m.local)?.or(v6(m.address)?).ok_or(Errno::EINVAL)?;
        self.inet6_addr_del(m.ifindex, pfx, u32::from(m.prefixlen))
    }
}
