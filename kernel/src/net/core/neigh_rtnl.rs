//! `ip neigh` against the neighbour table: the kernel's `RTM_NEWNEIGH`/`RTM_DELNEIGH`
//! handlers (`neigh_add`, `neigh_delete`, `net/core/neighbour.c`), proxy entries
//! (`pneigh_lookup`, `pneigh_delete`), and iproute2 4.3's side (`ip/ipneigh.c`): the dump
//! filter, `print_neigh`'s exact text and `ip neigh flush`, which is a dump followed by one
//! `RTM_DELNEIGH` per matching entry.
//!
//! In 4.3 `RTM_DELNEIGH` does not remove an entry: it sets it FAILED (with
//! `NEIGH_UPDATE_F_ADMIN`), so after `ip neigh del` or `ip neigh flush` the entries still
//! show as `FAILED` until the GC frees them. Dumps walk the table in (ifindex, address)
//! order where Linux walks its hash buckets; with one entry per line only the order differs.

#![warn(missing_docs)]

use alloc::format;
use alloc::string::String;

use super::neighbour::{
    NeighInit, NeighKey, NeighOutput, NeighPacket, NeighTable, NEIGH_UPDATE_F_ADMIN, NEIGH_UPDATE_F_OVERRIDE,
    NTF_PROXY, NTF_ROUTER, NTF_USE, NUD_DELAY, NUD_FAILED, NUD_INCOMPLETE, NUD_NOARP, NUD_PERMANENT,
    NUD_PROBE, NUD_REACHABLE, NUD_STALE, NUD_VALID,
};
use crate::net::wire::{EthernetAddress, Ipv6Addr};
use crate::uapi::Errno;

/// `NLM_F_REPLACE`: `ip neigh change`/`replace` may override the address.
pub const NLM_F_REPLACE: u16 = 0x100;
/// `NLM_F_EXCL`: `ip neigh add` fails on an existing entry.
pub const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE`: `ip neigh add`/`replace` may create.
pub const NLM_F_CREATE: u16 = 0x400;
/// iproute2's `MAX_ROUNDS` for `ip neigh flush`.
pub const FLUSH_MAX_ROUNDS: usize = 10;

/// A parsed `struct ndmsg` with its `NDA_DST` and `NDA_LLADDR` payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdMsg<'a> {
    /// `ndm_ifindex` (0: no device).
    pub ifindex: u32,
    /// `ndm_state` (a `__u16`; `neigh_update` takes its low byte).
    pub state: u16,
    /// `ndm_flags` (`NTF_PROXY`, `NTF_USE`, …).
    pub flags: u8,
    /// `NDA_DST` payload.
    pub dst: &'a [u8],
    /// `NDA_LLADDR` payload.
    pub lladdr: Option<&'a [u8]>,
}

impl<A: NeighKey, P: NeighPacket<A>> NeighTable<A, P> {
    /// `neigh_add` from the point where the table is known. The caller has already
    /// answered, in Linux's order: no `NDA_DST` → `EINVAL`; unknown `ndm_ifindex` →
    /// `ENODEV`; an `NDA_LLADDR` shorter than the device's address → `EINVAL` (checked
    /// again here); no table for `ndm_family` → `EAFNOSUPPORT`.
    pub fn rtnl_newneigh(
        &mut self,
        m: &NdMsg<'_>,
        nlmsg_flags: u16,
        init: NeighInit,
        now_ns: u64,
    ) -> Result<NeighOutput<A, P>, Errno> {
        if m.ifindex != 0 && m.lladdr.is_some_and(|l| l.len() < 6) {
            return Err(Errno::EINVAL);
        }
        let dst = A::from_key_bytes(m.dst).ok_or(Errno::EINVAL)?;
        let lladdr = m.lladdr.and_then(EthernetAddress::from_bytes);
        if m.flags & NTF_PROXY != 0 {
            return match self.pneigh_lookup(&dst, m.ifindex, true) {
                Some(f) => {
                    *f = m.flags;
                    Ok(NeighOutput::default())
                }
                None => Err(Errno::ENOBUFS),
            };
        }
        if m.ifindex == 0 {
            return Err(Errno::EINVAL);
        }
        let mut flags = NEIGH_UPDATE_F_ADMIN | NEIGH_UPDATE_F_OVERRIDE;
        if self.get(m.ifindex, &dst).is_none() {
            if nlmsg_flags & NLM_F_CREATE == 0 {
                return Err(Errno::ENOENT);
            }
            self.create(m.ifindex, &dst, init, now_ns)?;
        } else {
            if nlmsg_flags & NLM_F_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            if nlmsg_flags & NLM_F_REPLACE == 0 {
                flags &= !NEIGH_UPDATE_F_OVERRIDE;
            }
        }
        if m.flags & NTF_USE != 0 {
            let mut out = NeighOutput::default();
            out.solicits.extend(self.event_send(m.ifindex, &dst, now_ns));
            return Ok(out);
        }
        self.update(m.ifindex, &dst, lladdr, m.state as u8, flags, now_ns)
    }

    /// `neigh_delete` from the point where the table is known (the caller answered a short
    /// message or a missing `NDA_DST` with `EINVAL`, an unknown device with `ENODEV`, an
    /// unknown family with `EAFNOSUPPORT`). The entry is set FAILED, not removed.
    pub fn rtnl_delneigh(&mut self, m: &NdMsg<'_>, now_ns: u64) -> Result<NeighOutput<A, P>, Errno> {
        let dst = A::from_key_bytes(m.dst).ok_or(Errno::EINVAL)?;
        if m.flags & NTF_PROXY != 0 {
            return self
                .proxies
                .remove(&(dst, m.ifindex))
                .map(|_| NeighOutput::default())
                .ok_or(Errno::ENOENT);
        }
        if m.ifindex == 0 {
            return Err(Errno::EINVAL);
        }
        if self.get(m.ifindex, &dst).is_none() {
            return Err(Errno::ENOENT);
        }
        self.update(m.ifindex, &dst, None, NUD_FAILED, NEIGH_UPDATE_F_OVERRIDE | NEIGH_UPDATE_F_ADMIN, now_ns)
    }

    /// `pneigh_lookup`: the proxy entry for `addr` on `ifindex` or on no device (0); with
    /// `create`, adds one (`ENOBUFS` to the caller when it cannot: ND's `pndisc_constructor`
    /// refuses an entry without a device). Returns its `NTF_*` flags.
    pub fn pneigh_lookup(&mut self, addr: &A, ifindex: u32, create: bool) -> Option<&mut u8> {
        let key = if self.proxies.contains_key(&(*addr, ifindex)) {
            (*addr, ifindex)
        } else if self.proxies.contains_key(&(*addr, 0)) {
            (*addr, 0)
        } else {
            if !create || (A::KEY_LEN == 16 && ifindex == 0) {
                return None;
            }
            self.proxies.insert((*addr, ifindex), 0);
            (*addr, ifindex)
        };
        self.proxies.get_mut(&key)
    }

    /// Whether `addr` is proxied on `ifindex` (a lookup without creation).
    pub fn is_proxied(&self, addr: &A, ifindex: u32) -> bool {
        self.proxies.contains_key(&(*addr, ifindex)) || self.proxies.contains_key(&(*addr, 0))
    }

    /// `ip neigh flush …`: iproute2 dumps the table and deletes every entry the filter
    /// (with FAILED removed from its states) accepts, for up to [`FLUSH_MAX_ROUNDS`]
    /// rounds until a round finds nothing. Returns the number of deletions.
    pub fn flush(&mut self, filter: &NeighFilter<A>, now_ns: u64) -> (usize, NeighOutput<A, P>) {
        let mut filter = *filter;
        filter.state &= !u32::from(NUD_FAILED);
        let mut out = NeighOutput::default();
        let mut total = 0;
        for _ in 0..FLUSH_MAX_ROUNDS {
            let victims: alloc::vec::Vec<(u32, A)> = self
                .entries
                .iter()
                .filter(|((i, a), n)| filter.matches(*i, a, n.nud_state, n.flags, n.timer.is_some()))
                .map(|(k, _)| *k)
                .collect();
            if victims.is_empty() {
                break;
            }
            total += victims.len();
            for (i, a) in victims {
                let key = a.key_bytes();
                let m = NdMsg { ifindex: i, state: 0, flags: 0, dst: &key[..A::KEY_LEN], lladdr: None };
                if let Ok(o) = self.rtnl_delneigh(&m, now_ns) {
                    out.unreachable.extend(o.unreachable);
                    out.notify += o.notify;
                }
            }
        }
        (total, out)
    }

    /// `ip neigh show` (or `ip neigh show proxy`): one `print_neigh` line per entry the
    /// filter accepts. `name_of` maps an ifindex to its device name.
    pub fn show(&self, filter: &NeighFilter<A>, proxy: bool, name_of: &dyn Fn(u32) -> String) -> String {
        let mut s = String::new();
        if proxy {
            for ((a, i), f) in &self.proxies {
                if filter.matches(*i, a, 0, *f | NTF_PROXY, false) {
                    print_neigh(&mut s, filter, *i, a, 0, *f | NTF_PROXY, None, name_of);
                }
            }
        } else {
            for ((i, a), n) in &self.entries {
                if filter.matches(*i, a, n.nud_state, n.flags, n.timer.is_some()) {
                    let ll = (n.nud_state & NUD_VALID != 0).then_some(n.ha);
                    print_neigh(&mut s, filter, *i, a, n.nud_state, n.flags, ll, name_of);
                }
            }
        }
        s
    }
}

/// iproute2's dump filter for `ip neigh show`/`flush` (`struct filter` in `ipneigh.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighFilter<A> {
    /// `dev NAME` (0: every device; a device filter also drops "dev NAME" from the lines).
    pub index: u32,
    /// Accepted NUD states; bit 0x100 stands for `NUD_NONE`.
    pub state: u32,
    /// `unused`: only entries nothing references (here: no timer armed).
    pub unused_only: bool,
    /// `to PREFIX`.
    pub prefix: Option<(A, u8)>,
}

impl<A: NeighKey> NeighFilter<A> {
    /// `ip neigh show`'s default: every state but NOARP.
    pub const fn show() -> Self {
        NeighFilter { index: 0, state: 0xff & !(NUD_NOARP as u32), unused_only: false, prefix: None }
    }

    /// `ip neigh flush`'s default: every state but PERMANENT and NOARP (FAILED is removed
    /// when flushing).
    pub const fn flush() -> Self {
        NeighFilter {
            index: 0,
            state: !((NUD_PERMANENT | NUD_NOARP) as u32),
            unused_only: false,
            prefix: None,
        }
    }

    /// Applies the `nud STATE` arguments in order, as `do_show_or_flush` does: the first
    /// one clears the default, `all` accepts everything (but NOARP when flushing), `none`
    /// (state 0) becomes 0x100. `None` on a name iproute2 rejects ("nud state is bad").
    pub fn with_nud(mut self, args: &[&str], flush: bool) -> Option<Self> {
        for (k, arg) in args.iter().enumerate() {
            if k == 0 {
                self.state = 0;
            }
            let mut st = match nud_state_a2n(arg) {
                Some(s) => s,
                None if *arg == "all" => {
                    if flush {
                        !u32::from(NUD_NOARP)
                    } else {
                        !0
                    }
                }
                None => return None,
            };
            if st == 0 {
                st = 0x100;
            }
            self.state |= st;
        }
        Some(self)
    }

    /// `print_neigh`'s filter for one dumped entry (`referenced`: `ndm_refcnt != 0`).
    pub fn matches(&self, ifindex: u32, addr: &A, state: u8, flags: u8, referenced: bool) -> bool {
        if self.index != 0 && self.index != ifindex {
            return false;
        }
        let st = u32::from(state);
        if self.state & st == 0 && flags & NTF_PROXY == 0 && (st != 0 || self.state & 0x100 == 0) {
            return false;
        }
        if let Some((pfx, bits)) = self.prefix {
            if !prefix_match(&addr.key_bytes(), &pfx.key_bytes(), bits) {
                return false;
            }
        }
        // Proxy entries carry no NDA_CACHEINFO, so "unused" never drops them.
        !(self.unused_only && flags & NTF_PROXY == 0 && referenced)
    }
}

/// `inet_addr_match`: the first `bits` bits agree.
fn prefix_match(a: &[u8; 16], p: &[u8; 16], bits: u8) -> bool {
    let bits = usize::from(bits.min(128));
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != p[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == p[whole] & mask
    }
}

/// iproute2's `matches(arg, pattern)`: `arg` is a prefix of `pattern` (the empty string
/// included).
fn matches(arg: &str, pattern: &str) -> bool {
    pattern.starts_with(arg)
}

/// `nud_state_a2n`: a state name (`permanent`, `reachable` and `failed` may be abbreviated)
/// or a number that is 0 or a single bit below 0x100.
pub fn nud_state_a2n(arg: &str) -> Option<u32> {
    let s = if matches(arg, "permanent") {
        NUD_PERMANENT
    } else if matches(arg, "reachable") {
        NUD_REACHABLE
    } else if arg == "noarp" {
        NUD_NOARP
    } else if arg == "none" {
        0
    } else if arg == "stale" {
        NUD_STALE
    } else if arg == "incomplete" {
        NUD_INCOMPLETE
    } else if arg == "delay" {
        NUD_DELAY
    } else if arg == "probe" {
        NUD_PROBE
    } else if matches(arg, "failed") {
        NUD_FAILED
    } else {
        let n = get_unsigned(arg)?;
        return (n < 0x100 && n & n.wrapping_sub(1) == 0).then_some(n);
    };
    Some(u32::from(s))
}

/// iproute2's `get_unsigned(…, 0)`: `strtoul` with base detection, the whole string.
fn get_unsigned(arg: &str) -> Option<u32> {
    let (digits, radix) = if let Some(h) = arg.strip_prefix("0x").or_else(|| arg.strip_prefix("0X")) {
        (h, 16)
    } else if arg.len() > 1 && arg.starts_with('0') {
        (&arg[1..], 8)
    } else {
        (arg, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// The NUD names `print_neigh` prints, in its order.
const NUD_NAMES: [(u8, &str); 8] = [
    (NUD_INCOMPLETE, "INCOMPLETE"),
    (NUD_REACHABLE, "REACHABLE"),
    (NUD_STALE, "STALE"),
    (NUD_DELAY, "DELAY"),
    (NUD_PROBE, "PROBE"),
    (NUD_FAILED, "FAILED"),
    (NUD_NOARP, "NOARP"),
    (NUD_PERMANENT, "PERMANENT"),
];

/// One `print_neigh` line (without `-s` statistics).
#[allow(clippy::too_many_arguments)]
fn print_neigh<A: NeighKey>(
    s: &mut String,
    filter: &NeighFilter<A>,
    ifindex: u32,
    addr: &A,
    state: u8,
    flags: u8,
    lladdr: Option<EthernetAddress>,
    name_of: &dyn Fn(u32) -> String,
) {
    s.push_str(&addr.format_host());
    s.push(' ');
    if filter.index == 0 && ifindex != 0 {
        s.push_str(&format!("dev {} ", name_of(ifindex)));
    }
    if let Some(l) = lladdr {
        s.push_str(&format!("lladdr {l}"));
    }
    if flags & NTF_ROUTER != 0 {
        s.push_str(" router");
    }
    if flags & NTF_PROXY != 0 {
        s.push_str(" proxy");
    }
    if state != 0 {
        s.push(' ');
        let names: alloc::vec::Vec<&str> =
            NUD_NAMES.iter().filter(|(b, _)| state & b != 0).map(|(_, n)| *n).collect();
        s.push_str(&names.join(","));
    }
    s.push('\n');
}

/// glibc's `inet_ntop(AF_INET6)`, which iproute2 prints through: the first longest run of
/// two or more zero groups becomes `::`, and `::a.b.c.d` / `::ffff:a.b.c.d` end in dotted
/// quad (Rust's `Display` prints the IPv4-compatible form in hex).
pub fn inet6_ntop(a: &Ipv6Addr) -> String {
    let w = a.segments();
    // (first group, length) of a run of zero groups.
    type Run = Option<(usize, usize)>;
    let (mut best, mut cur): (Run, Run) = (None, None);
    for (i, x) in w.iter().enumerate() {
        if *x == 0 {
            cur = Some(cur.map_or((i, 1), |(b, l)| (b, l + 1)));
        } else if let Some(c) = cur.take() {
            if best.is_none_or(|b| c.1 > b.1) {
                best = Some(c);
            }
        }
    }
    if let Some(c) = cur {
        if best.is_none_or(|b| c.1 > b.1) {
            best = Some(c);
        }
    }
    let best = best.filter(|b| b.1 >= 2);
    let mut s = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((b, l)) = best {
            if i >= b && i < b + l {
                if i == b {
                    s.push(':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            s.push(':');
        }
        if i == 6 && best.is_some_and(|(b, l)| b == 0 && (l == 6 || (l == 5 && w[5] == 0xffff))) {
            let o = a.octets();
            s.push_str(&format!("{}.{}.{}.{}", o[12], o[13], o[14], o[15]));
            return s;
        }
        s.push_str(&format!("{:x}", w[i]));
        i += 1;
    }
    if best.is_some_and(|(b, l)| b + l == 8) {
        s.push(':');
    }
    s
}

#[cfg(test)]
#[path = "neigh_rtnl_tests.rs"]
mod tests;
