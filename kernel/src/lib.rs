//! k43: the features of the Linux 4.3 merge window as one `no_std` kernel, written against
//! a HAL so the same code runs in a deterministic simulator, under loom, under cargo-fuzz
//! and on bare metal.
//!
//! The kernel is an event-driven state machine ([`Kernel::step`]): a syscall submitted by
//! a task runs to completion, or parks the task on a wait queue and returns; a later event
//! (another syscall, a timer) wakes it and the syscall is run again from the top, the way
//! Linux restarts an interrupted syscall. Nothing here blocks a host thread.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

pub mod arch;
pub mod block;
pub mod fs;
pub mod hal;
pub mod kernel;
pub mod mm;
pub mod net;
pub mod printk;
pub mod security;
pub mod sync;
pub mod syscalls;
pub mod uapi;

pub use kernel::{Kernel, KernelConfig, KEvent, Pid};
pub use uapi::Errno;
