//! Networking (`net/`): wire formats, network devices, fragment reassembly; the stack
//! (IPv4/IPv6 input and output, neighbour discovery, routing, UDP sockets) builds on
//! them.

pub mod core;
pub mod fib;
pub mod inet_frag;
pub mod ipv4;
pub mod ipv6;
pub mod netdevice;
pub mod snmp;
pub mod wire;

use crate::hal::Hal;
use crate::kernel::Kernel;
use alloc::collections::BTreeMap;
use alloc::string::String;
use ::core::fmt::Write;
use netdevice::{DevKind, NetDevice};

/// The network namespace (`struct net`): k43 has one per kernel.
#[derive(Debug, Default)]
pub struct Net {
    /// Devices by ifindex.
    pub devices: BTreeMap<u32, NetDevice>,
}

impl Net {
    /// `lo` and one Ethernet device per platform NIC, registered in that order and all
    /// down, as at the end of Linux's boot.
    pub fn boot<H: Hal>(hal: &H) -> Net {
        let mut devices = BTreeMap::new();
        devices.insert(1, NetDevice::loopback());
        for nic in 0..hal.nic_count() {
            if let Some(mac) = hal.nic_mac(nic) {
                let ifindex = devices.len() as u32 + 1;
                devices.insert(ifindex, NetDevice::ethernet(ifindex, nic, mac));
            }
        }
        Net { devices }
    }

    /// The device on platform NIC `nic`.
    pub fn dev_by_nic(&mut self, nic: u32) -> Option<&mut NetDevice> {
        self.devices.values_mut().find(|d| d.kind == DevKind::Ether { nic })
    }

    /// `/proc/net/dev` (`dev_seq_show`), devices in ifindex order.
    pub fn proc_net_dev(&self) -> String {
        let mut s = String::from(
            "Inter-|   Receive                                                |  Transmit\n \
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
        );
        for d in self.devices.values() {
            let st = &d.stats;
            let _ = writeln!(
                s,
                "{:>6}: {:7} {:7} {:4} {:4} {:4} {:5} {:10} {:9} {:8} {:7} {:4} {:4} {:4} {:5} {:7} {:10}",
                d.name, st.rx_bytes, st.rx_packets, 0, st.rx_dropped, 0, 0, 0, 0, st.tx_bytes, st.tx_packets, 0, st.tx_dropped, 0, 0, 0, 0
            );
        }
        s
    }
}

impl<H: Hal> Kernel<H> {
    /// A frame arrived on platform NIC `nic` (the driver's receive path, `netif_rx`).
    /// Frames on a device that is down, or on a NIC without a device, are dropped and
    /// counted. The protocol handlers (`eth_type_trans` and up) are the next step of the
    /// network issue: until they land, an accepted frame is counted in `rx_packets` /
    /// `rx_bytes` and goes no further.
    pub fn netif_receive(&mut self, nic: u32, frame: &[u8]) {
        let Some(dev) = self.net.dev_by_nic(nic) else { return };
        if !dev.is_up() {
            dev.stats.rx_dropped += 1;
            return;
        }
        dev.stats.rx_packets += 1;
        dev.stats.rx_bytes += frame.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_dev_columns() {
        let mut net = Net::default();
        net.devices.insert(1, NetDevice::loopback());
        net.devices.insert(2, NetDevice::ethernet(2, 0, [2, 0, 0, 0, 0, 1]));
        net.devices.get_mut(&2).unwrap().stats = netdevice::DevStats { rx_bytes: 1234, rx_packets: 5, tx_bytes: 98, tx_packets: 1, rx_dropped: 2, tx_dropped: 0 };
        let t = net.proc_net_dev();
        let lines: alloc::vec::Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "Inter-|   Receive                                                |  Transmit");
        assert_eq!(lines[1], " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed");
        assert_eq!(lines[2], "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0");
        assert_eq!(lines[3], "  eth0:    1234       5    0    2    0     0          0         0       98       1    0    0    0     0       0          0");
    }
}
