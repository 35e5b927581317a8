//! The address lines of iproute2 4.3's `ip -6 addr show` (`print_addrinfo` in
//! `ip/ipaddress.c`) for a device's IPv6 addresses, with the lifetimes the kernel reports
//! (`inet6_fill_ifaddr`).

#![warn(missing_docs)]

use alloc::format;
use alloc::string::String;

use super::addrconf::*;
use super::jiffies::{ns_to_jiffies, HZ};
use super::neigh_rtnl::inet6_ntop;

impl Inet6Dev {
    /// The `inet6` lines `ip -6 addr show` prints for this device (`print_addrinfo`,
    /// lifetimes as `inet6_fill_ifaddr` counts them down).
    pub fn show(&self, now_ns: u64) -> String {
        let now = ns_to_jiffies(now_ns);
        let mut s = String::new();
        for i in self.addrs() {
            s.push_str(&format!("    inet6 {}/{} ", inet6_ntop(&i.addr), i.prefix_len));
            s.push_str(&format!("scope {} ", rtscope_name(ifa_scope(&i.addr))));
            s.push_str(&ifa_flags_text(i.flags));
            let (mut valid, mut pref) = (INFINITY_LIFE_TIME, INFINITY_LIFE_TIME);
            if !(i.flags & IFA_F_PERMANENT != 0 && i.prefered_lft == INFINITY_LIFE_TIME) {
                (valid, pref) = (i.valid_lft, i.prefered_lft);
                if pref != INFINITY_LIFE_TIME {
                    let tval = (now.wrapping_sub(i.tstamp) / HZ) as u32;
                    pref = pref.saturating_sub(tval);
                    if valid != INFINITY_LIFE_TIME {
                        valid = valid.saturating_sub(tval);
                    }
                }
            }
            let lft = |v: u32, signed: bool| match v {
                INFINITY_LIFE_TIME => String::from("forever"),
                v if signed => format!("{}sec", v as i32),
                v => format!("{v}sec"),
            };
            let deprecated = i.flags & IFA_F_DEPRECATED != 0;
            s.push_str(&format!(
                "\n       valid_lft {} preferred_lft {}\n",
                lft(valid, false),
                lft(pref, deprecated)
            ));
        }
        s
    }
}

/// iproute2's `rtnl_rtscope_n2a` of `rt_scope(ifa->scope)`.
fn rtscope_name(ifa_scope: u32) -> &'static str {
    if ifa_scope & 0x10 != 0 {
        "host"
    } else if ifa_scope & 0x20 != 0 {
        "link"
    } else if ifa_scope & 0x40 != 0 {
        "site"
    } else {
        "global"
    }
}

/// `print_addrinfo`'s flag words for an IPv6 address, each followed by a space:
/// `temporary tentative deprecated home nodad mngtmpaddr noprefixroute autojoin dynamic
/// dadfailed`, then `flags %02x` for bits it has no word for (optimistic, stable-privacy).
pub fn ifa_flags_text(flags: u32) -> String {
    let mut f = flags;
    let mut s = String::new();
    for (bit, word) in [
        (IFA_F_TEMPORARY, "temporary "),
        (IFA_F_TENTATIVE, "tentative "),
        (IFA_F_DEPRECATED, "deprecated "),
        (IFA_F_HOMEADDRESS, "home "),
        (IFA_F_NODAD, "nodad "),
        (IFA_F_MANAGETEMPADDR, "mngtmpaddr "),
        (IFA_F_NOPREFIXROUTE, "noprefixroute "),
        (IFA_F_MCAUTOJOIN, "autojoin "),
    ] {
        if f & bit != 0 {
            f &= !bit;
            s.push_str(word);
        }
    }
    if f & IFA_F_PERMANENT == 0 {
        s.push_str("dynamic ");
    } else {
        f &= !IFA_F_PERMANENT;
    }
    if f & IFA_F_DADFAILED != 0 {
        f &= !IFA_F_DADFAILED;
        s.push_str("dadfailed ");
    }
    if f != 0 {
        s.push_str(&format!("flags {f:02x} "));
    }
    s
}
