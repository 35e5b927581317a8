//! `struct user_namespace` (`kernel/user_namespace.c`), as far as capability checks need
//! it: a tree of namespaces, each owned by the euid/egid of its creator, with a level.
//!
//! Not modelled: `uid_map`/`gid_map` (so no id is mapped inside a child namespace, and
//! every id reads as the overflow id 65534 there), `setgroups`, and the chroot refusal
//! of `create_user_ns` (k43 has no chroot).

use alloc::sync::Arc;

/// `overflowuid`/`overflowgid`: what an unmapped id reads as.
pub const OVERFLOW_ID: u32 = 65534;
/// `create_user_ns` refuses a parent deeper than this (`EUSERS`).
pub const MAX_USER_NS_LEVEL: u32 = 32;

/// One user namespace. The initial one has no parent and level 0.
#[derive(Debug)]
pub struct UserNamespace {
    /// The namespace this one was created in.
    pub parent: Option<Arc<UserNamespace>>,
    /// Depth below the initial namespace.
    pub level: u32,
    /// `owner`/`group`: the creator's euid and egid (kernel ids).
    pub owner: u32,
    pub group: u32,
}

/// A credential's reference to its user namespace. Two references are the same
/// namespace when they point at the same object; every initial namespace of one kernel
/// is the same namespace (`init_user_ns` is a singleton in Linux).
#[derive(Clone, Debug)]
pub struct UserNs(pub Arc<UserNamespace>);

impl PartialEq for UserNs {
    fn eq(&self, other: &UserNs) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || (self.is_init() && other.is_init())
    }
}

impl Eq for UserNs {}

impl UserNs {
    /// `init_user_ns`.
    pub fn init() -> UserNs {
        UserNs(Arc::new(UserNamespace { parent: None, level: 0, owner: 0, group: 0 }))
    }

    /// Whether this is the initial namespace.
    pub fn is_init(&self) -> bool {
        self.0.parent.is_none()
    }

    /// The depth below the initial namespace.
    pub fn level(&self) -> u32 {
        self.0.level
    }

    /// The parent namespace (`None` for the initial one).
    pub fn parent(&self) -> Option<UserNs> {
        self.0.parent.clone().map(UserNs)
    }

    /// A new child namespace owned by `owner`/`group`.
    pub fn new_child(&self, owner: u32, group: u32) -> UserNs {
        UserNs(Arc::new(UserNamespace { parent: Some(self.0.clone()), level: self.0.level + 1, owner, group }))
    }

    /// `kuid_has_mapping`/`kgid_has_mapping`: with no `uid_map` support, the initial
    /// namespace maps every id and a child namespace none.
    pub fn has_mapping(&self, _kid: u32) -> bool {
        self.is_init()
    }

    /// `from_kuid_munged`: the id as seen from this namespace.
    pub fn from_kid_munged(&self, kid: u32) -> u32 {
        if self.has_mapping(kid) {
            kid
        } else {
            OVERFLOW_ID
        }
    }

    /// `make_kuid(ns, id)`: `None` when `id` is not mapped in this namespace.
    pub fn make_kid(&self, id: u32) -> Option<u32> {
        (self.is_init() && id != u32::MAX).then_some(id)
    }
}

/// `create_user_ns` + `set_cred_user_ns`: moves `new` into a fresh child of its user
/// namespace, owned by its euid/egid, with every capability there and none above.
pub fn create_user_ns(new: &mut super::cred::Cred) -> Result<(), crate::uapi::Errno> {
    use crate::uapi::capability::CAP_FULL_SET;
    use crate::uapi::Errno;
    let parent = new.user_ns.clone();
    if parent.level() > MAX_USER_NS_LEVEL {
        return Err(Errno::EUSERS);
    }
    // The creator needs a mapping in the parent namespace.
    if !parent.has_mapping(new.euid) || !parent.has_mapping(new.egid) {
        return Err(Errno::EPERM);
    }
    new.user_ns = parent.new_child(new.euid, new.egid);
    new.securebits = 0;
    new.cap_inheritable = 0;
    new.cap_permitted = CAP_FULL_SET;
    new.cap_effective = CAP_FULL_SET;
    new.cap_ambient = 0;
    new.cap_bset = CAP_FULL_SET;
    Ok(())
}
