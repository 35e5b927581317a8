//! The per-route encapsulation slot (`struct lwtunnel_state`, net/core/lwtunnel.c).
//!
//! The FIB only stores it, compares it (route identity: two routes are the same only if
//! their encaps are, `lwtunnel_cmp_encap`) and hands it back with lookups. Building it from
//! netlink (`lwtunnel_build_state`, with its `EINVAL`/`EOPNOTSUPP` answers), the output and
//! input redirection and the remaining encap types (`ip`, `ip6`, `ila`) are the
//! lightweight-tunnel issue's to fill in; add variants here.

use alloc::vec::Vec;

/// `LWTUNNEL_ENCAP_NONE`.
pub const LWTUNNEL_ENCAP_NONE: u16 = 0;
/// `LWTUNNEL_ENCAP_MPLS`.
pub const LWTUNNEL_ENCAP_MPLS: u16 = 1;
/// `LWTUNNEL_ENCAP_IP`.
pub const LWTUNNEL_ENCAP_IP: u16 = 2;
/// `LWTUNNEL_ENCAP_ILA`.
pub const LWTUNNEL_ENCAP_ILA: u16 = 3;
/// `LWTUNNEL_ENCAP_IP6`.
pub const LWTUNNEL_ENCAP_IP6: u16 = 4;

/// Encapsulation state attached to a route.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LwtState {
    /// `LWTUNNEL_ENCAP_MPLS`: the label stack to push, outermost first, 20-bit labels
    /// (`struct mpls_iptunnel_encap`; at most `MAX_NEW_LABELS` = 2 in 4.3, which the
    /// builder will enforce).
    Mpls {
        /// Labels, outermost first.
        labels: Vec<u32>,
    },
}

impl LwtState {
    /// The `LWTUNNEL_ENCAP_*` type (`RTA_ENCAP_TYPE`).
    pub const fn encap_type(&self) -> u16 {
        match self {
            LwtState::Mpls { .. } => LWTUNNEL_ENCAP_MPLS,
        }
    }
}
