//! Simulated Ethernet NICs: a MAC address and a bounded transmit queue each. The world
//! takes transmitted frames off the queue (and carries them over the simulated network);
//! received frames go straight to the kernel (`Kernel::netif_receive`), as a NIC's
//! receive interrupt would hand them over.

use std::cell::RefCell;
use std::collections::VecDeque;

/// Frames a NIC's transmit queue holds before it refuses more (`txqueuelen` 1000).
pub const TX_QUEUE_LEN: usize = 1000;

/// One simulated NIC.
#[derive(Debug)]
struct Nic {
    mac: [u8; 6],
    tx: VecDeque<Vec<u8>>,
}

/// The NICs of one simulated machine.
#[derive(Debug, Default)]
pub struct SimNics {
    nics: RefCell<Vec<Nic>>,
}

impl SimNics {
    /// Adds a NIC with `mac`; returns its number (`eth<N>`).
    pub fn add(&self, mac: [u8; 6]) -> u32 {
        let mut n = self.nics.borrow_mut();
        n.push(Nic { mac, tx: VecDeque::new() });
        (n.len() - 1) as u32
    }

    /// Number of NICs.
    pub fn count(&self) -> u32 {
        self.nics.borrow().len() as u32
    }

    /// NIC `nic`'s MAC address.
    pub fn mac(&self, nic: u32) -> Option<[u8; 6]> {
        self.nics.borrow().get(nic as usize).map(|n| n.mac)
    }

    /// Queues a frame for transmission; `false` if the NIC does not exist or its queue
    /// is full.
    pub fn transmit(&self, nic: u32, frame: &[u8]) -> bool {
        let mut n = self.nics.borrow_mut();
        match n.get_mut(nic as usize) {
            Some(n) if n.tx.len() < TX_QUEUE_LEN => {
                n.tx.push_back(frame.to_vec());
                true
            }
            _ => false,
        }
    }

    /// Whether NIC `nic` has transmitted frames nobody took yet.
    pub fn has_transmitted(&self, nic: u32) -> bool {
        self.nics.borrow().get(nic as usize).is_some_and(|n| !n.tx.is_empty())
    }

    /// Takes every frame NIC `nic` has transmitted so far, oldest first.
    pub fn take_transmitted(&self, nic: u32) -> Vec<Vec<u8>> {
        self.nics.borrow_mut().get_mut(nic as usize).map(|n| n.tx.drain(..).collect()).unwrap_or_default()
    }
}
