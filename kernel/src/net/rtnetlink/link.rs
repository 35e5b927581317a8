//! Link messages: `RTM_NEWLINK` for an existing device (`rtnl_newlink` → `do_setlink`:
//! MTU, then flags) and what `RTM_GETLINK` reports (`rtnl_fill_ifinfo`).

use crate::hal::Hal;
use crate::kernel::Kernel;
use crate::net::netdevice::{DevKind, NetDevice, IFF_LOWER_UP, IFF_RUNNING, IFF_UP};
use crate::net::wire::EthernetAddress;
use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// `ARPHRD_ETHER`.
pub const ARPHRD_ETHER: u16 = 1;
/// `ARPHRD_LOOPBACK`.
pub const ARPHRD_LOOPBACK: u16 = 772;

/// `IF_OPER_UNKNOWN`: a running device whose driver does not report link state (`lo`).
pub const IF_OPER_UNKNOWN: u8 = 0;
/// `IF_OPER_DOWN`.
pub const IF_OPER_DOWN: u8 = 2;
/// `IF_OPER_UP`.
pub const IF_OPER_UP: u8 = 6;

/// An `RTM_NEWLINK` for an existing device: `struct ifinfomsg` and `IFLA_MTU`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IfInfoMsg {
    /// `ifi_index`.
    pub ifindex: u32,
    /// `ifi_flags`: the new values of the bits in `change`.
    pub flags: u32,
    /// `ifi_change`: which bits to change.
    pub change: u32,
    /// `IFLA_MTU` (an `int` to the kernel).
    pub mtu: Option<i32>,
}

/// A device as `RTM_GETLINK` describes it (the attributes `ip link show` prints).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    /// `ifi_index`.
    pub ifindex: u32,
    /// `IFLA_IFNAME`.
    pub name: String,
    /// `ifi_flags` (`dev_get_flags`: `RUNNING` and `LOWER_UP` only while running).
    pub flags: u32,
    /// `ifi_type` (`ARPHRD_*`).
    pub link_type: u16,
    /// `IFLA_MTU`.
    pub mtu: u32,
    /// `IFLA_QDISC`.
    pub qdisc: &'static str,
    /// `IFLA_OPERSTATE`: `IF_OPER_DOWN` for a device that is not running, else the
    /// driver's state (`lo` never reports one: unknown).
    pub operstate: u8,
    /// `IFLA_LINKMODE` (0, default).
    pub linkmode: u8,
    /// `IFLA_GROUP` (0, default).
    pub group: u32,
    /// `IFLA_TXQLEN`.
    pub txqlen: u32,
    /// `IFLA_ADDRESS`.
    pub address: EthernetAddress,
    /// `IFLA_BROADCAST` (all zero for `lo`).
    pub broadcast: EthernetAddress,
}

impl LinkInfo {
    /// `rtnl_fill_ifinfo` for one device.
    pub fn of(d: &NetDevice) -> LinkInfo {
        let running = d.flags & IFF_UP != 0;
        let loopback = d.kind == DevKind::Loopback;
        LinkInfo {
            ifindex: d.ifindex,
            name: d.name.clone(),
            flags: if running { d.flags } else { d.flags & !(IFF_RUNNING | IFF_LOWER_UP) },
            link_type: if loopback { ARPHRD_LOOPBACK } else { ARPHRD_ETHER },
            mtu: d.mtu,
            qdisc: d.qdisc,
            operstate: match (running, loopback) {
                (false, _) => IF_OPER_DOWN,
                (true, true) => IF_OPER_UNKNOWN,
                (true, false) => IF_OPER_UP,
            },
            linkmode: 0,
            group: 0,
            txqlen: d.tx_queue_len,
            address: d.mac,
            broadcast: if loopback { EthernetAddress::default() } else { EthernetAddress::BROADCAST },
        }
    }
}

impl<H: Hal> Kernel<H> {
    /// `rtnl_newlink` without `NLM_F_CREATE` on the device `ifi_index` names (`ENODEV` if
    /// none), i.e. `do_setlink`: `IFLA_MTU` first ([`Kernel::dev_set_mtu`]), then the flags
    /// (`dev_change_flags` with `rtnl_dev_combine_flags`): `IFF_UP` opens or closes the
    /// device ([`Kernel::dev_open`], [`Kernel::dev_close`]). k43 changes no other flag;
    /// asking it to is `EOPNOTSUPP`, before anything is changed.
    pub fn rtnl_setlink(&mut self, m: &IfInfoMsg) -> Result<(), Errno> {
        let dev = self.net.devices.get(&m.ifindex).ok_or(Errno::ENODEV)?;
        let old = dev.flags;
        if m.change & !IFF_UP != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        if let Some(mtu) = m.mtu {
            self.dev_set_mtu(m.ifindex, mtu)?;
        }
        if m.flags != 0 || m.change != 0 {
            let want = (m.flags & m.change) | (old & !m.change);
            if (old ^ want) & IFF_UP != 0 {
                if want & IFF_UP != 0 {
                    self.dev_open(m.ifindex)?;
                } else {
                    self.dev_close(m.ifindex)?;
                }
            }
        }
        Ok(())
    }

    /// `RTM_GETLINK` for one device (`ENODEV` if there is none).
    pub fn rtnl_getlink(&self, ifindex: u32) -> Result<LinkInfo, Errno> {
        self.net.devices.get(&ifindex).map(LinkInfo::of).ok_or(Errno::ENODEV)
    }

    /// The `RTM_GETLINK` dump: every device in ifindex order.
    pub fn rtnl_dump_ifinfo(&self) -> Vec<LinkInfo> {
        self.net.devices.values().map(LinkInfo::of).collect()
    }
}
