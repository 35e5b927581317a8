//! k43's harness: the scenario language, the world that runs kernels and user programs,
//! the strace-syntax tracer, and (feature `std`) the CLI.
//!
//! The core is `no_std` so the same runner can execute scenarios on bare metal.

#![no_std]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod captext;
pub mod exec;
pub mod fabric;
pub mod frames;
pub mod frametest;
pub mod ip;
pub mod migration;
pub mod netprogs;
pub mod packet;
pub mod ping;
pub mod programs;
pub mod runner;
pub mod scn;
pub mod sockaddr;
pub mod strace;
pub mod tcpdump;
pub mod trace;
pub mod world;

#[cfg(feature = "std")]
pub mod sim;
#[cfg(feature = "std")]
pub mod sim_disk;
#[cfg(feature = "std")]
pub mod sim_net;
#[cfg(feature = "std")]
pub mod fuzz;
#[cfg(feature = "std")]
pub mod qemu;
