//! `include/uapi/linux/utsname.h`: `struct new_utsname`, six 65-byte fields.

pub const NEW_UTS_LEN: usize = 64;
/// Size of `struct new_utsname` in user memory.
pub const UTSNAME_SIZE: usize = 6 * (NEW_UTS_LEN + 1);
/// Field names in layout order.
pub const UTS_FIELDS: [&str; 6] = ["sysname", "nodename", "release", "version", "machine", "domainname"];

/// The release string k43 reports.
pub const UTS_RELEASE: &str = "4.3.0-k43";
/// The version string (`#1 SMP` and the build date Linux 4.3 was released on).
pub const UTS_VERSION: &str = "#1 SMP Sun Nov 1 16:39:12 PST 2015";
