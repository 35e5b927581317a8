//! Security: credentials and the commoncap LSM (capabilities).

pub mod commoncap;
pub mod cred;
