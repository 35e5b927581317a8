//! `/proc/sys`: the sysctl tree later features register knobs in (`register_sysctl`).
//!
//! A knob is an integer (`proc_dointvec_minmax`) or a string (`proc_dostring`); writes
//! are parsed the way those handlers parse them, with their errnos.

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
}

/// One sysctl file.
#[derive(Clone, Debug)]
pub struct Knob {
    /// Path under /proc/sys, `/`-separated (`vm/mmap_min_addr`).
    pub path: String,
    pub mode: u32,
    pub value: KnobValue,
}

/// The registry of knobs.
#[derive(Debug, Default)]
pub struct Sysctl {
    pub knobs: Vec<Knob>,
}

impl Sysctl {
    /// Registers a knob; a second registration of one path replaces the first.
    pub fn register(&mut self, path: &str, mode: u32, value: KnobValue) {
        let knob = Knob { path: path.into(), mode, value };
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
            KnobValue::Str { .. } => None,
        }
    }

    /// The string value of a knob.
    pub fn string(&self, path: &str) -> Option<&str> {
        match &self.knobs.get(self.find(path)?)?.value {
            KnobValue::Str { value, .. } => Some(value),
            KnobValue::Int { .. } => None,
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
