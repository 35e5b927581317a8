//! System calls: the description table and the dispatcher.

pub mod desc;
pub mod dispatch;
pub mod table;

pub use desc::Arch;
pub use table::Sysno;
