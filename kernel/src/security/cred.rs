//! `struct cred`: the ids, capability sets and securebits a task acts with.

use super::user_ns::UserNs;
use crate::uapi::capability::{CAP_FULL_SET, CAP_LAST_CAP};
use alloc::vec::Vec;

/// A capability set, one bit per capability (`kernel_cap_t`).
pub type CapSet = u64;

/// A task's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    /// Supplementary groups, sorted (`groups_sort`).
    pub groups: Vec<u32>,
    pub cap_inheritable: CapSet,
    pub cap_permitted: CapSet,
    pub cap_effective: CapSet,
    pub cap_bset: CapSet,
    pub cap_ambient: CapSet,
    pub securebits: u32,
    /// The user namespace the capabilities are held in.
    pub user_ns: UserNs,
}

impl Cred {
    /// Credentials of a process started by init as `uid`/`gid`: root gets every
    /// capability (as after exec with `uid == 0`); others get none. The bounding set is full.
    pub fn new(uid: u32, gid: u32) -> Cred {
        let caps = if uid == 0 { CAP_FULL_SET } else { 0 };
        Cred {
            uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups: Vec::new(),
            cap_inheritable: 0,
            cap_permitted: caps,
            cap_effective: caps,
            cap_bset: CAP_FULL_SET,
            cap_ambient: 0,
            securebits: 0,
            user_ns: UserNs::init(),
        }
    }

    /// `in_group_p`: is `gid` the fsgid or a supplementary group?
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.binary_search(&gid).is_ok()
    }

    /// `cap_ambient_invariant_ok`: pA ⊆ pP ∩ pI.
    pub fn ambient_invariant_ok(&self) -> bool {
        self.cap_ambient & !(self.cap_permitted & self.cap_inheritable) == 0
    }

    /// Whether capability `cap` is in the effective set.
    pub fn has_cap(&self, cap: u32) -> bool {
        cap <= CAP_LAST_CAP && self.cap_effective & (1u64 << cap) != 0
    }
}
