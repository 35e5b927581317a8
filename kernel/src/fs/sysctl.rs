//! `/proc/sys`: the sysctl tree later features register knobs in (`register_sysctl`).
//!
//! A knob is an integer (`proc_dointvec_minmax`), an unsigned long
//! (`proc_doulongvec_minmax`) or a string (`proc_dostring`); writes are parsed the way
//! those handlers parse them, with their errnos. A knob may add a permission check of
//! its own handler (`mmap_min_addr_handler` wants `CAP_SYS_RAWIO`).

use crate::uapi::Errno;
use alloc::string::String;
use alloc::vec::Vec;

/// A knob's value and its validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KnobValue {
    /// `proc_dointvec_minmax` over one int.
    Int { value: i64, min: i64, max: i64 },
    /// `proc_dostring` with a maximum length (the buffer size, NUL included).
    Str { value: String, maxlen: usize },
    /// `proc_doulongvec_minmax` over one unsigned long without bounds.
    ULong { value: u64 },
}

/// A handler's own check before a write is parsed (the file permission was checked at
/// open).
pub type WriteCheck = fn(&crate::security::cred::Cred) -> Result<(), Errno>;

/// One sysctl file.
#[derive(Clone, Debug)]
pub struct Knob {
    /// Path under /proc/sys, `/`-separated (`vm/mmap_min_addr`).
    pub path: String,
    pub mode: u32,
    pub value: KnobValue,
    /// The handler's permission check on write, if it has one.
    pub write_check: Option<WriteCheck>,
}

/// The registry of knobs.
#[derive(Debug, Default)]
pub struct Sysctl {
    pub knobs: Vec<Knob>,
}

impl Sysctl {
    /// Registers a knob; a second registration of one path replaces the first.
    pub fn register(&mut self, path: &str, mode: u32, value: KnobValue) {
        self.register_checked(path, mode, value, None);
    }

    /// Registers a knob whose handler checks the writer first.
    pub fn register_checked(&mut self, path: &str, mode: u32, value: KnobValue, write_check: Option<WriteCheck>) {
        let knob = Knob { path: path.into(), mode, value, write_check };
        match self.knobs.iter_mut().find(|k| k.path == path) {
            Some(k) => *k = knob,
            None => self.knobs.push(knob),
        }
    }

    /// The knob at `path` (dotted `vm.mmap_min_addr` or slashed form).
    pub fn find(&self, path: &str) -> Option<usize> {
        let slashed: String = path.chars().map(|c| if c == '.' { '/' } else { c }).collect();
        self.knobs.iter().position(|k| k.path == path || k.path == slashed)
    }

    /// Whether `dir` (e.g. `"vm"`, `""` for the root) is a directory of the tree.
    pub fn is_dir(&self, dir: &str) -> bool {
        dir.is_empty() || self.knobs.iter().any(|k| k.path.starts_with(dir) && k.path.as_bytes().get(dir.len()) == Some(&b'/'))
    }

    /// The text a read returns (`"65536\n"`).
    pub fn read(&self, idx: usize) -> Option<Vec<u8>> {
        let k = self.knobs.get(idx)?;
        let mut s = match &k.value {
            KnobValue::Int { value, .. } => alloc::format!("{value}"),
            KnobValue::ULong { value } => alloc::format!("{value}"),
            KnobValue::Str { value, .. } => value.clone(),
        };
        s.push('\n');
        Some(s.into_bytes())
    }

    /// A write at offset 0: parse and store. Integer knobs take leading whitespace, an
    /// optional `-` and a number in C's base-0 syntax (`proc_get_long` uses
    /// `strtoul(…, 0)`): `EINVAL` otherwise, and outside `[min, max]`; strings are cut at the first newline and at `maxlen - 1`.
    pub fn write(&mut self, idx: usize, data: &[u8]) -> Result<(), Errno> {
        let k = self.knobs.get_mut(idx).ok_or(Errno::ENOENT)?;
        match &mut k.value {
            KnobValue::Int { value, min, max } => {
                let text = core::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
                let t = text.trim_start();
                let end = t.find(|c: char| c.is_ascii_whitespace()).unwrap_or(t.len());
                // Values after the first are ignored for a one-int knob, as
                // `__do_proc_dointvec` stops after `maxlen` ints.
                let v = parse_long(&t[..end]).ok_or(Errno::EINVAL)?;
                if v < *min || v > *max {
                    return Err(Errno::EINVAL);
                }
                *value = v;
            }
            KnobValue::ULong { value } => {
                // __do_proc_doulongvec_minmax: leading blanks, an optional '-', a number
                // in strtoul's base 0 ending in whitespace or the end; a negative value
                // is skipped without an error.
                let text = core::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
                let t = text.trim_start();
                if t.is_empty() {
                    return Ok(());
                }
                let (neg, t) = match t.strip_prefix('-') {
                    Some(r) => (true, r),
                    None => (false, t),
                };
                let end = t.find(|c: char| c.is_ascii_whitespace() || c == '\0').unwrap_or(t.len());
                let v = parse_ulong(&t[..end]).ok_or(Errno::EINVAL)?;
                if !neg {
                    *value = v;
                }
            }
            KnobValue::Str { value, maxlen } => {
                let line = data.split(|&b| b == b'\n').next().unwrap_or(&[]);
                let line = &line[..line.len().min(maxlen.saturating_sub(1))];
                *value = String::from_utf8_lossy(line).into_owned();
            }
        }
        Ok(())
    }

    /// The integer value of a knob (for kernel code reading its own tunables).
    pub fn int(&self, path: &str) -> Option<i64> {
        match &self.knobs.get(self.find(path)?)?.value {
            KnobValue::Int { value, .. } => Some(*value),
            _ => None,
        }
    }

    /// The value of an unsigned-long knob.
    pub fn ulong(&self, path: &str) -> Option<u64> {
        match &self.knobs.get(self.find(path)?)?.value {
            KnobValue::ULong { value } => Some(*value),
            _ => None,
        }
    }

    /// The string value of a knob.
    pub fn string(&self, path: &str) -> Option<&str> {
        match &self.knobs.get(self.find(path)?)?.value {
            KnobValue::Str { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// `proc_get_long`: optional `-`, then `0x` hex, `0` octal or decimal.
fn parse_long(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()?
    } else {
        s.parse::<u64>().ok()?
    };
    let v = i64::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// `simple_strtoul(s, 0)` over a whole word: `0x` hex, `0` octal or decimal digits, at
/// least one; wraps on overflow as `simple_strtoul` does.
fn parse_ulong(s: &str) -> Option<u64> {
    if !s.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).filter(|h| h.starts_with(|c: char| c.is_ascii_hexdigit()));
    let (radix, digits) = if let Some(h) = hex {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)? as u64;
        v = v.wrapping_mul(radix as u64).wrapping_add(d);
    }
    Some(v)
}
