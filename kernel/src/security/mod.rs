//! Security: credentials, user namespaces, the commoncap LSM (capabilities) and the
//! capability half of `prctl`.

pub mod commoncap;
pub mod cred;
pub mod prctl;
pub mod user_ns;
