//! rtnetlink's handlers (`net/core/rtnetlink.c` and the family code it dispatches to):
//! what the kernel does with the messages `ip` sends — routes (`RTM_*ROUTE`), policy
//! rules (`RTM_*RULE`), links (`RTM_NEWLINK` on an existing device), addresses
//! (`RTM_*ADDR`) and neighbours (`RTM_*NEIGH`) — with Linux 4.3's checks in 4.3's order
//! and its errnos, plus the dumps `ip … show` reads.
//!
//! There is no netlink socket yet: a message is a Rust struct that mirrors the `struct
//! rtmsg` / `ifaddrmsg` / `ndmsg` / `fib_rule_hdr` header and the attributes k43 reads
//! (`None` for an absent attribute), and a handler is a [`Kernel`] method taking it and
//! the `nlmsg_flags`. Addresses travel as [`InetAddr`], so an attribute of the wrong
//! family is refused where 4.3 checks an attribute's length. Dispatch by family follows
//! `rtnetlink_rcv_msg`: a family without a handler for the message type is
//! `EOPNOTSUPP` (the `PF_UNSPEC` fallback has none for these types).
//!
//! [`Kernel`]: crate::kernel::Kernel

#![warn(missing_docs)]

pub mod addr;
pub mod link;
pub mod neigh;
pub mod route;
pub mod rule;

#[cfg(test)]
mod tests;

use crate::net::wire::{Ipv4Addr, Ipv6Addr};
use crate::uapi::Errno;
use alloc::collections::BTreeMap;
use alloc::string::String;

pub use crate::net::fib::{NlFlags, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};

/// `AF_UNSPEC`.
pub const AF_UNSPEC: u8 = 0;
/// `AF_INET`.
pub const AF_INET: u8 = 2;
/// `AF_INET6`.
pub const AF_INET6: u8 = 10;
/// `AF_PACKET` (`ip link`'s family).
pub const AF_PACKET: u8 = 17;
/// `AF_MPLS`: no handlers in k43 (the MPLS module is not loaded).
pub const AF_MPLS: u8 = 28;

/// An address attribute (`RTA_DST`, `IFA_LOCAL`, `NDA_DST`, `FRA_SRC`…) as iproute2 fills
/// it: 4 or 16 bytes, which is all a handler learns about its family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum InetAddr {
    /// Four bytes.
    V4(Ipv4Addr),
    /// Sixteen bytes.
    V6(Ipv6Addr),
}

impl InetAddr {
    /// The family whose address length this is.
    pub const fn family(&self) -> u8 {
        match self {
            InetAddr::V4(_) => AF_INET,
            InetAddr::V6(_) => AF_INET6,
        }
    }

    /// The attribute's length in bytes.
    pub const fn len(&self) -> usize {
        match self {
            InetAddr::V4(_) => 4,
            InetAddr::V6(_) => 16,
        }
    }

    /// Never empty (an address attribute always has its family's length).
    pub const fn is_empty(&self) -> bool {
        false
    }
}

/// Reads an address attribute as the handler's family reads it: `EINVAL` when its
/// length is not the family's (`nla_len != addr_size`, or the policy's minimum for an
/// IPv6 attribute in an IPv4 message is all 4.3 checks there — iproute2 never sends one).
pub(crate) fn v4(a: Option<InetAddr>) -> Result<Option<Ipv4Addr>, Errno> {
    match a {
        None => Ok(None),
        Some(InetAddr::V4(x)) => Ok(Some(x)),
        Some(InetAddr::V6(_)) => Err(Errno::EINVAL),
    }
}

/// The IPv6 twin of [`v4`].
pub(crate) fn v6(a: Option<InetAddr>) -> Result<Option<Ipv6Addr>, Errno> {
    match a {
        None => Ok(None),
        Some(InetAddr::V6(x)) => Ok(Some(x)),
        Some(InetAddr::V4(_)) => Err(Errno::EINVAL),
    }
}

impl crate::net::Net {
    /// Device names by ifindex, for the FIB's printers (`ll_index_to_name`) and rule
    /// interface names (`__dev_get_by_name`).
    pub fn dev_names(&self) -> BTreeMap<u32, String> {
        self.devices.values().map(|d| (d.ifindex, d.name.clone())).collect()
    }
}
