//! `include/uapi/linux/xattr.h` and `include/uapi/linux/limits.h` (xattr limits).

pub const XATTR_CREATE: u32 = 0x1;
pub const XATTR_REPLACE: u32 = 0x2;
/// Longest attribute name, `XATTR_NAME_MAX`.
pub const XATTR_NAME_MAX: usize = 255;
/// Largest attribute value, `XATTR_SIZE_MAX`.
pub const XATTR_SIZE_MAX: usize = 65536;
/// Largest `listxattr` result, `XATTR_LIST_MAX`.
pub const XATTR_LIST_MAX: usize = 65536;

pub const XATTR_SECURITY_PREFIX: &str = "security.";
pub const XATTR_SYSTEM_PREFIX: &str = "system.";
pub const XATTR_TRUSTED_PREFIX: &str = "trusted.";
pub const XATTR_USER_PREFIX: &str = "user.";
/// The name file capabilities live under.
pub const XATTR_NAME_CAPS: &str = "security.capability";
