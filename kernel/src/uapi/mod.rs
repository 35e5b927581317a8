//! Linux's user-space ABI: constants and layouts, one file per uapi header.

pub mod capability;
pub mod errno;
pub mod fcntl;
pub mod mman;
pub mod prctl;
pub mod ptrace;
pub mod sched;
pub mod signal;
pub mod stat;
pub mod time;
pub mod userfaultfd;
pub mod utsname;
pub mod wait;
pub mod xattr;

pub use errno::Errno;
