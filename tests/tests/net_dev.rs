//! Network devices at boot: `lo` (ifindex 1) and one `eth<N>` per platform NIC after it,
//! all down as Linux leaves them; `/proc/net/dev` in `dev_seq_show`'s columns; a frame
//! arriving on a device that is down is dropped and counted (`rx_dropped`).

use hal_sim::{SimConfig, SimHal};
use kernel::fs::proc::ProcNode;
use kernel::{Kernel, KernelConfig};

fn proc_net_dev(k: &Kernel<SimHal>) -> String {
    String::from_utf8(k.proc_read(ProcNode::NetDev).expect("/proc/net/dev")).expect("text")
}

#[test]
fn boot_registers_lo_then_one_device_per_nic() {
    let hal = SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 });
    assert_eq!(hal.nics.add([0x52, 0x54, 0, 0x12, 0x34, 0x56]), 0);
    assert_eq!(hal.nics.add([0x52, 0x54, 0, 0x12, 0x34, 0x57]), 1);
    let mut k = Kernel::new(hal, KernelConfig::default());
    let t = proc_net_dev(&k);
    let names: Vec<&str> = t.lines().skip(2).map(|l| l.split(':').next().unwrap().trim()).collect();
    assert_eq!(names, ["lo", "eth0", "eth1"]);

    // eth1 is down: the frame is counted as dropped, nothing else changes.
    let frame = [0xffu8; 60];
    k.netif_receive(1, &frame);
    k.netif_receive(7, &frame); // no such NIC: ignored
    let t = proc_net_dev(&k);
    let eth1 = t.lines().find(|l| l.trim_start().starts_with("eth1:")).unwrap();
    assert_eq!(eth1, "  eth1:       0       0    0    1    0     0          0         0        0       0    0    0    0     0       0          0");
    assert!(k.hal.nics.take_transmitted(1).is_empty());
}

#[test]
fn no_nics_means_only_loopback() {
    let k = Kernel::new(SimHal::new(SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 }), KernelConfig::default());
    assert_eq!(proc_net_dev(&k).lines().count(), 3);
}
