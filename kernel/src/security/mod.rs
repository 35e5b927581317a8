//! Security: credentials, user namespaces, the commoncap LSM (capabilities) and the
//! capability half of `prctl`, and `vm.mmap_min_addr`.

pub mod commoncap;
pub mod cred;
pub mod min_addr;
pub mod prctl;
pub mod user_ns;
