//! IPv4 options (`net/ipv4/ip_options.c`): `ip_options_compile` on a received header
//! (validation, Record Route and Timestamp filled in on receipt), `__ip_options_echo`
//! (the options a reply or an ICMP error carries back) and `ip_options_build` (filling
//! them in on output).
//!
//! Model notes: `CONFIG_NETLABEL` with no CIPSO DOI configured, so a CIPSO option is
//! refused as `cipso_v4_validate` refuses an unknown DOI; a source-route option is
//! recorded here and dropped by the caller (`accept_source_route` 0), so echoing one
//! (`__ip_options_echo`'s reversed route) is never needed and not modelled.

use crate::net::wire::Ipv4Addr;
use alloc::vec::Vec;

/// `IPOPT_END`.
pub const IPOPT_END: u8 = 0;
/// `IPOPT_NOOP`.
pub const IPOPT_NOOP: u8 = 1;
/// `IPOPT_RR`: Record Route.
pub const IPOPT_RR: u8 = 7;
/// `IPOPT_TIMESTAMP`.
pub const IPOPT_TIMESTAMP: u8 = 68;
/// `IPOPT_LSRR`: loose source route.
pub const IPOPT_LSRR: u8 = 131;
/// `IPOPT_SSRR`: strict source route.
pub const IPOPT_SSRR: u8 = 137;
/// `IPOPT_RA`: Router Alert.
pub const IPOPT_RA: u8 = 148;
/// `IPOPT_CIPSO`.
pub const IPOPT_CIPSO: u8 = 134;
/// `IPOPT_TS_TSONLY`.
const IPOPT_TS_TSONLY: u8 = 0;
/// `IPOPT_TS_TSANDADDR`.
const IPOPT_TS_TSANDADDR: u8 = 1;
/// `IPOPT_TS_PRESPEC`.
const IPOPT_TS_PRESPEC: u8 = 3;
/// Offset of the options in the header.
const IPH: usize = 20;

/// `struct ip_options`: where each option sits (offsets from the start of the IP header,
/// 0 for absent) and what it still needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpOptions {
    /// `optlen`: option bytes after the 20-byte header.
    pub optlen: usize,
    /// `srr`: a source-route option.
    pub srr: usize,
    /// `is_strictroute`.
    pub is_strictroute: bool,
    /// `rr`: Record Route.
    pub rr: usize,
    /// `ts`: Timestamp.
    pub ts: usize,
    /// `rr_needaddr`: a Record Route slot is to be filled.
    pub rr_needaddr: bool,
    /// `ts_needaddr`.
    pub ts_needaddr: bool,
    /// `ts_needtime`.
    pub ts_needtime: bool,
    /// `router_alert`.
    pub router_alert: usize,
    /// `cipso`.
    pub cipso: usize,
    /// The option bytes, for options built for output (`__data`); empty for a received
    /// header's options, which stay in the packet.
    pub data: Vec<u8>,
}

/// What `ip_options_compile` needs from the stack for a received datagram.
pub struct CompileEnv<'a> {
    /// `spec_dst`: the address Record Route and Timestamp record (`fib_compute_spec_dst`).
    pub spec_dst: Ipv4Addr,
    /// The time Timestamp records: milliseconds since midnight UTC.
    pub midtime: u32,
    /// `inet_addr_type(addr) == RTN_UNICAST`: not an address of this host.
    pub is_unicast: &'a dyn Fn(Ipv4Addr) -> bool,
}

/// `ip_options_compile` with an skb: validates the options of `hdr` (the whole header,
/// IHL·4 bytes) into `opt`, filling in Record Route and Timestamp as it goes.
/// `Err(pointer)` names the offending byte (from the start of the header) for Parameter
/// Problem code 0; `opt` then holds what was compiled before it, which the error echoes.
pub fn ip_options_compile(hdr: &mut [u8], env: &CompileEnv<'_>, opt: &mut IpOptions) -> Result<(), usize> {
    *opt = IpOptions { optlen: hdr.len().saturating_sub(IPH), ..IpOptions::default() };
    let mut p = IPH;
    let mut l = opt.optlen as isize;
    while l > 0 {
        let Some(&kind) = hdr.get(p) else { break };
        match kind {
            IPOPT_END => {
                // The rest must be End of Option List too; 4.3 rewrites it.
                for b in hdr.iter_mut().skip(p + 1) {
                    *b = IPOPT_END;
                }
                return Ok(());
            }
            IPOPT_NOOP => {
                l -= 1;
                p += 1;
                continue;
            }
            _ => {}
        }
        if l < 2 {
            return Err(p);
        }
        let optlen = usize::from(hdr[p + 1]);
        if optlen < 2 || optlen as isize > l {
            return Err(p);
        }
        let o = &mut hdr[p..p + optlen];
        match kind {
            IPOPT_SSRR | IPOPT_LSRR => {
                if optlen < 3 {
                    return Err(p + 1);
                }
                if o[2] < 4 {
                    return Err(p + 2);
                }
                if opt.srr != 0 {
                    return Err(p);
                }
                opt.is_strictroute = kind == IPOPT_SSRR;
                opt.srr = p;
            }
            IPOPT_RR => {
                if opt.rr != 0 {
                    return Err(p);
                }
                if optlen < 3 {
                    return Err(p + 1);
                }
                let ptr = usize::from(o[2]);
                if ptr < 4 {
                    return Err(p + 2);
                }
                if ptr <= optlen {
                    if ptr + 3 > optlen {
                        return Err(p + 2);
                    }
                    o[ptr - 1..ptr + 3].copy_from_slice(&env.spec_dst.octets());
                    o[2] = o[2].wrapping_add(4);
                    opt.rr_needaddr = true;
                }
                opt.rr = p;
            }
            IPOPT_TIMESTAMP => {
                if opt.ts != 0 {
                    return Err(p);
                }
                if optlen < 4 {
                    return Err(p + 1);
                }
                let ptr = usize::from(o[2]);
                if ptr < 5 {
                    return Err(p + 2);
                }
                if ptr <= optlen {
                    if ptr + 3 > optlen {
                        return Err(p + 2);
                    }
                    let mut timeptr = None;
                    match o[3] & 0xf {
                        IPOPT_TS_TSONLY => {
                            timeptr = Some(ptr - 1);
                            opt.ts_needtime = true;
                            o[2] = o[2].wrapping_add(4);
                        }
                        IPOPT_TS_TSANDADDR => {
                            if ptr + 7 > optlen {
                                return Err(p + 2);
                            }
                            o[ptr - 1..ptr + 3].copy_from_slice(&env.spec_dst.octets());
                            timeptr = Some(ptr + 3);
                            opt.ts_needaddr = true;
                            opt.ts_needtime = true;
                            o[2] = o[2].wrapping_add(8);
                        }
                        IPOPT_TS_PRESPEC => {
                            if ptr + 7 > optlen {
                                return Err(p + 2);
                            }
                            let a = Ipv4Addr::new(o[ptr - 1], o[ptr], o[ptr + 1], o[ptr + 2]);
                            if !(env.is_unicast)(a) {
                                timeptr = Some(ptr + 3);
                                opt.ts_needtime = true;
                                o[2] = o[2].wrapping_add(8);
                            }
                        }
                        // Other flags are accepted on receipt (only a sender needs
                        // CAP_NET_RAW for them).
                        _ => {}
                    }
                    if let Some(t) = timeptr {
                        if let Some(slot) = o.get_mut(t..t + 4) {
                            slot.copy_from_slice(&env.midtime.to_be_bytes());
                        }
                    }
                } else if o[3] & 0xf != IPOPT_TS_PRESPEC {
                    let overflow = o[3] >> 4;
                    if overflow == 15 {
                        return Err(p + 3);
                    }
                    o[3] = (o[3] & 0xf) | ((overflow + 1) << 4);
                }
                opt.ts = p;
            }
            IPOPT_RA => {
                if optlen < 4 {
                    return Err(p + 1);
                }
                if o[2] == 0 && o[3] == 0 {
                    opt.router_alert = p;
                }
            }
            IPOPT_CIPSO => {
                if opt.cipso != 0 {
                    return Err(p);
                }
                opt.cipso = p;
                // cipso_v4_validate: too short, else no DOI of that number is defined.
                return Err(if optlen < 8 { p + 1 } else { p + 2 });
            }
            // Security, Stream ID and unknown options are ignored on receipt.
            _ => {}
        }
        l -= optlen as isize;
        p += optlen;
    }
    Ok(())
}

/// `__ip_options_echo`: the options a reply to (or an error about) a datagram whose
/// header `hdr` was compiled into `sopt` carries: Record Route and Timestamp copied with
/// one more slot claimed where there is room, CIPSO copied, padded to a multiple of 4.
/// `None` where 4.3 returns `-EINVAL` (no room left for the claimed slot).
pub fn ip_options_echo(sopt: &IpOptions, hdr: &[u8], is_unicast: &dyn Fn(Ipv4Addr) -> bool) -> Option<IpOptions> {
    let mut d = IpOptions::default();
    if sopt.optlen == 0 {
        return Some(d);
    }
    let src = |at: usize| -> Option<&[u8]> {
        let len = usize::from(*hdr.get(at + 1)?);
        hdr.get(at..at + len)
    };
    if sopt.rr != 0 {
        let o = src(sopt.rr)?;
        let (optlen, soffset) = (o.len(), usize::from(*o.get(2)?));
        d.rr = d.data.len() + IPH;
        let start = d.data.len();
        d.data.extend_from_slice(o);
        if sopt.rr_needaddr && soffset <= optlen {
            if soffset + 3 > optlen {
                return None;
            }
            d.data[start + 2] = (soffset + 4) as u8;
            d.rr_needaddr = true;
        }
    }
    if sopt.ts != 0 {
        let o = src(sopt.ts)?;
        let (optlen, mut soffset) = (o.len(), usize::from(*o.get(2)?));
        let flags = *o.get(3)?;
        d.ts = d.data.len() + IPH;
        let start = d.data.len();
        d.data.extend_from_slice(o);
        if soffset <= optlen {
            if sopt.ts_needaddr {
                if soffset + 3 > optlen {
                    return None;
                }
                d.ts_needaddr = true;
                soffset += 4;
            }
            if sopt.ts_needtime {
                if soffset + 3 > optlen {
                    return None;
                }
                if flags & 0xf != IPOPT_TS_PRESPEC {
                    d.ts_needtime = true;
                    soffset += 4;
                } else if soffset + 7 <= optlen {
                    let a = o.get(soffset.checked_sub(1)?..soffset + 3).map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]))?;
                    if !is_unicast(a) {
                        d.ts_needtime = true;
                        soffset += 8;
                    }
                }
            }
            d.data[start + 2] = soffset as u8;
        }
    }
    if sopt.cipso != 0 {
        let o = src(sopt.cipso)?;
        d.cipso = d.data.len() + IPH;
        d.data.extend_from_slice(o);
    }
    while d.data.len() % 4 != 0 {
        d.data.push(IPOPT_END);
    }
    d.optlen = d.data.len();
    Some(d)
}

/// `ip_options_build` for a locally built datagram (not a fragment): copies the options
/// into `hdr` (a header with room for them after its 20 bytes) and fills the slots they
/// claim with `saddr` (the output route's source) and `midtime`.
pub fn ip_options_build(hdr: &mut [u8], opt: &IpOptions, saddr: Ipv4Addr, midtime: u32) {
    let Some(dst) = hdr.get_mut(IPH..IPH + opt.data.len()) else { return };
    dst.copy_from_slice(&opt.data);
    // The slot before the (already advanced) pointer of the option at `o`, `back`
    // bytes back from it.
    let slot = |h: &[u8], o: usize, back: usize| h.get(o + 2).and_then(|&p| (o + usize::from(p)).checked_sub(back));
    let put = |h: &mut [u8], at: Option<usize>, v: [u8; 4]| {
        if let Some(s) = at.and_then(|a| h.get_mut(a..a + 4)) {
            s.copy_from_slice(&v);
        }
    };
    if opt.rr_needaddr {
        let at = slot(hdr, opt.rr, 5);
        put(hdr, at, saddr.octets());
    }
    if opt.ts_needaddr {
        let at = slot(hdr, opt.ts, 9);
        put(hdr, at, saddr.octets());
    }
    if opt.ts_needtime {
        let at = slot(hdr, opt.ts, 5);
        put(hdr, at, midtime.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(a: Ipv4Addr) -> CompileEnv<'static> {
        CompileEnv { spec_dst: a, midtime: 1234, is_unicast: &|_| true }
    }

    #[test]
    fn record_route_filled_on_receipt_and_again_in_the_reply() {
        let us = Ipv4Addr::new(10, 0, 0, 1);
        let mut hdr = alloc::vec![0u8; 20 + 40];
        hdr[20..23].copy_from_slice(&[IPOPT_RR, 39, 4]);
        let mut o = IpOptions::default();
        ip_options_compile(&mut hdr, &env(us), &mut o).unwrap();
        assert_eq!((o.rr, o.rr_needaddr, hdr[22]), (20, true, 8));
        assert_eq!(&hdr[23..27], &us.octets());
        let d = ip_options_echo(&o, &hdr, &|_| true).unwrap();
        assert_eq!(d.optlen, 40);
        let mut out = alloc::vec![0u8; 60];
        ip_options_build(&mut out, &d, us, 0);
        assert_eq!(out[22], 12);
        assert_eq!(&out[23..27], &us.octets());
        assert_eq!(&out[27..31], &us.octets());
    }

    #[test]
    fn malformed_options_point_at_the_bad_byte() {
        let us = Ipv4Addr::new(10, 0, 0, 1);
        let compile = |h: &mut [u8]| {
            let mut o = IpOptions::default();
            ip_options_compile(h, &env(us), &mut o).map(|_| o)
        };
        // Record Route with length 2: the length byte, offset 21.
        let mut hdr = alloc::vec![0u8; 24];
        hdr[20..24].copy_from_slice(&[IPOPT_RR, 2, 4, 0]);
        assert_eq!(compile(&mut hdr), Err(21));
        // A length running past the header.
        hdr[20..24].copy_from_slice(&[IPOPT_RR, 9, 4, 0]);
        assert_eq!(compile(&mut hdr), Err(20));
        // One lone byte that is not NOP/END.
        hdr[20..24].copy_from_slice(&[IPOPT_NOOP, IPOPT_NOOP, IPOPT_NOOP, 0x44]);
        assert_eq!(compile(&mut hdr), Err(23));
        // Source route recorded (the caller drops it).
        hdr[20..24].copy_from_slice(&[IPOPT_LSRR, 3, 4, 0]);
        assert_eq!(compile(&mut hdr).map(|o| o.srr), Ok(20));
        // Unknown option ignored; END clears what follows.
        hdr[20..24].copy_from_slice(&[0x99, 2, IPOPT_END, 5]);
        assert!(compile(&mut hdr).is_ok());
        assert_eq!(hdr[23], 0);
    }
}
