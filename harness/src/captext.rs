//! libcap's textual capability syntax (`cap_from_text`/`cap_to_text`, libcap 2.24 as
//! shipped in 2015) for the `setcap`/`getcap` admin commands, and the `security.capability`
//! layout libcap writes (`_fcaps_save`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kernel::uapi::capability::{CAP_FULL_SET, CAP_NAMES};

/// File capability sets as libcap holds them: effective, inheritable, permitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCaps {
    /// Effective (per capability; a file only has one effective bit).
    pub e: u64,
    /// Inheritable.
    pub i: u64,
    /// Permitted.
    pub p: u64,
}

const EFF: u8 = 1;
const INH: u8 = 2;
const PER: u8 = 4;

fn cap_by_name(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return (n < CAP_NAMES.len() as u32).then_some(n);
    }
    CAP_NAMES.iter().position(|n| n.eq_ignore_ascii_case(name)).map(|i| i as u32)
}

/// `cap_from_text`: whitespace-separated clauses `[caps]op flags[op flags…]` where caps
/// is `all` or a comma list of names (or numbers), op is `=`, `+` or `-` and flags are
/// letters of `eip`. `=` with no capability list means all capabilities.
pub fn from_text(text: &str) -> Result<FileCaps, String> {
    let mut c = FileCaps::default();
    for clause in text.split_ascii_whitespace() {
        let opat = clause.find(['=', '+', '-']).ok_or_else(|| format!("'{clause}': expected '=', '+' or '-'"))?;
        let (names, mut ops) = clause.split_at(opat);
        let mut set = 0u64;
        if names.is_empty() || names.eq_ignore_ascii_case("all") {
            set = CAP_FULL_SET;
        } else {
            for n in names.split(',') {
                let cap = cap_by_name(n).ok_or_else(|| format!("unknown capability '{n}'"))?;
                set |= 1 << cap;
            }
        }
        if names.is_empty() && !ops.starts_with('=') {
            return Err(format!("'{clause}': a capability list is needed before '{}'", &ops[..1]));
        }
        while !ops.is_empty() {
            let op = ops.as_bytes()[0];
            ops = &ops[1..];
            let end = ops.find(['=', '+', '-']).unwrap_or(ops.len());
            let (flags, rest) = ops.split_at(end);
            ops = rest;
            let mut f = 0u8;
            for ch in flags.chars() {
                f |= match ch {
                    'e' | 'E' => EFF,
                    'i' | 'I' => INH,
                    'p' | 'P' => PER,
                    _ => return Err(format!("'{clause}': unknown flag '{ch}'")),
                };
            }
            if op != b'=' && f == 0 {
                return Err(format!("'{clause}': '{}' needs flags", op as char));
            }
            if op == b'=' {
                c.e &= !set;
                c.i &= !set;
                c.p &= !set;
            }
            for (bit, s) in [(EFF, &mut c.e), (INH, &mut c.i), (PER, &mut c.p)] {
                if f & bit != 0 {
                    if op == b'-' {
                        *s &= !set;
                    } else {
                        *s |= set;
                    }
                }
            }
        }
    }
    Ok(c)
}

fn flags_text(f: u8) -> String {
    let mut s = String::new();
    if f & EFF != 0 {
        s.push('e');
    }
    if f & INH != 0 {
        s.push('i');
    }
    if f & PER != 0 {
        s.push('p');
    }
    s
}

/// `cap_to_text` (libcap 2.24): `=` plus the most common state, then one clause per
/// other state in descending `eip` order, e.g. `= cap_net_raw+ep`.
pub fn to_text(c: &FileCaps) -> String {
    let state = |n: usize| -> u8 {
        let b = 1u64 << n;
        (if c.e & b != 0 { EFF } else { 0 }) | (if c.i & b != 0 { INH } else { 0 }) | (if c.p & b != 0 { PER } else { 0 })
    };
    let mut histo = [0usize; 8];
    for n in 0..CAP_NAMES.len() {
        histo[state(n) as usize] += 1;
    }
    let mut m = 7usize;
    for t in (0..7).rev() {
        if histo[t] >= histo[m] {
            m = t;
        }
    }
    let mut out = format!("={}", flags_text(m as u8));
    for t in (0..8).rev() {
        if t == m || histo[t] == 0 {
            continue;
        }
        let names: Vec<String> = (0..CAP_NAMES.len()).filter(|&n| state(n) as usize == t).map(|n| CAP_NAMES[n].to_ascii_lowercase()).collect();
        out.push(' ');
        out.push_str(&names.join(","));
        let up = (t & !m) as u8;
        if up != 0 {
            out.push('+');
            out.push_str(&flags_text(up));
        }
        let down = (!t & m) as u8;
        if down != 0 {
            out.push('-');
            out.push_str(&flags_text(down));
        }
    }
    out
}

/// `_fcaps_save`: the revision-2 `security.capability` value, or `EINVAL` when the
/// effective set is neither empty nor covering permitted ∪ inheritable.
pub fn to_xattr(c: &FileCaps) -> Result<[u8; 20], kernel::Errno> {
    if c.e != 0 && !c.e & (c.p | c.i) != 0 {
        return Err(kernel::Errno::EINVAL);
    }
    let magic = 0x0200_0000u32 | (c.e != 0) as u32;
    let words = [magic, c.p as u32, c.i as u32, (c.p >> 32) as u32, (c.i >> 32) as u32];
    let mut b = [0u8; 20];
    for (k, w) in words.iter().enumerate() {
        b[4 * k..4 * k + 4].copy_from_slice(&w.to_le_bytes());
    }
    Ok(b)
}

/// `_fcaps_load`: the sets libcap reports for a stored value (the effective bit becomes
/// E = P ∪ I), or `EINVAL` for a value it does not understand.
pub fn from_xattr(v: &[u8]) -> Result<FileCaps, kernel::Errno> {
    let w = |k: usize| -> Option<u64> { v.get(4 * k..4 * k + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64) };
    let magic = w(0).ok_or(kernel::Errno::EINVAL)? as u32;
    let words = match (magic & 0xFF00_0000, v.len()) {
        (0x0100_0000, 12) => 1,
        (0x0200_0000, 20) => 2,
        _ => return Err(kernel::Errno::EINVAL),
    };
    let mut c = FileCaps::default();
    for k in 0..words {
        c.p |= w(1 + 2 * k).unwrap_or(0) << (32 * k);
        c.i |= w(2 + 2 * k).unwrap_or(0) << (32 * k);
    }
    if magic & 1 != 0 {
        c.e = c.p | c.i;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let c = from_text("cap_net_raw+ep").unwrap();
        assert_eq!(to_text(&c), "= cap_net_raw+ep");
        let c = from_text("cap_chown,cap_kill+eip").unwrap();
        assert_eq!(to_text(&c), "= cap_chown,cap_kill+eip");
        let c = from_text("cap_net_raw=p").unwrap();
        assert_eq!(to_text(&c), "= cap_net_raw+p");
        let c = from_text("cap_net_raw+p cap_chown+i").unwrap();
        assert_eq!(to_text(&c), "= cap_net_raw+p cap_chown+i");
        assert_eq!(to_text(&from_text("all=ep").unwrap()), "=ep");
        assert!(to_xattr(&from_text("cap_net_raw+p cap_chown+ep").unwrap()).is_err());
    }
}
