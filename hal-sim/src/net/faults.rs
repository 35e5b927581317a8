//! Fault plans for one direction of a simulated link: what netem would do to frames,
//! drawn from the link direction's own seeded generator.
//!
//! Scenarios write plans as text (`drop=1%,dup=0.5%,reorder=2%:5ms,corrupt=0.1%,delay=100us`),
//! so [`FaultPlan::parse`] never panics and says what was wrong. Probabilities are kept
//! in parts per million and durations in nanoseconds, both integers, so a plan means the
//! same thing on every machine (no float rounding).

use core::fmt;
use rand_chacha::ChaCha8Rng;
use rand_core::Rng;

/// One million: a probability of `PPM` parts per million is certainty.
pub const PPM: u32 = 1_000_000;
/// The hold-back window a `reorder=P%` item gets when it names none.
pub const DEFAULT_REORDER_WINDOW_NS: u64 = 1_000_000;
/// Longest reorder window or jitter a plan may ask for (60 s): a limit, so a typo like
/// `delay=100s` for `100us` cannot park frames for hours of virtual time unnoticed.
pub const MAX_FAULT_DELAY_NS: u64 = 60_000_000_000;
/// Longest plan text accepted; scenario plans are a line, not a file.
const MAX_PLAN_TEXT: usize = 1024;

/// What the link does to frames travelling one way. The default is a perfect wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Chance (ppm) a frame is lost in transit.
    pub drop_ppm: u32,
    /// Chance (ppm) a frame arrives twice.
    pub duplicate_ppm: u32,
    /// Chance (ppm) one bit after the Ethernet header is flipped (the frame still
    /// arrives, but an upper-layer checksum fails).
    pub corrupt_ppm: u32,
    /// Chance (ppm) a frame is held back by an extra random delay so later frames
    /// overtake it.
    pub reorder_ppm: u32,
    /// Largest extra hold-back of a reordered frame; the hold-back is uniform in
    /// `1..=reorder_window_ns`.
    pub reorder_window_ns: u64,
    /// Extra delay uniform in `0..=jitter_ns` added to every frame.
    pub jitter_ns: u64,
}

/// The random decisions for one frame. Every frame draws the same number of values
/// whatever the plan says, so switching one fault kind on or off (when shrinking a
/// failing seed) leaves the other kinds' decisions unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FaultRoll {
    pub(crate) corrupt: bool,
    /// Raw draw reduced to a bit index once the frame length is known.
    pub(crate) corrupt_bit: u64,
    pub(crate) drop: bool,
    pub(crate) duplicate: bool,
    /// Per copy (the original, then the duplicate): extra delay from jitter and reorder.
    pub(crate) copies: [CopyRoll; 2],
}

/// The delay decisions for one copy of a frame.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CopyRoll {
    pub(crate) jitter_ns: u64,
    /// Zero unless the copy is reordered.
    pub(crate) reorder_ns: u64,
}

fn hit(ppm: u32, draw: u64) -> bool {
    draw % u64::from(PPM) < u64::from(ppm)
}

impl FaultPlan {
    /// No faults at all.
    pub const NONE: FaultPlan =
        FaultPlan { drop_ppm: 0, duplicate_ppm: 0, corrupt_ppm: 0, reorder_ppm: 0, reorder_window_ns: 0, jitter_ns: 0 };

    /// Whether the plan leaves frames alone.
    pub fn is_none(&self) -> bool {
        self.drop_ppm == 0 && self.duplicate_ppm == 0 && self.corrupt_ppm == 0 && self.reorder_ppm == 0 && self.jitter_ns == 0
    }

    /// Checks the limits a plan built by hand (public fields) may have broken.
    pub fn validate(&self) -> Result<(), String> {
        for (name, ppm) in
            [("drop", self.drop_ppm), ("dup", self.duplicate_ppm), ("corrupt", self.corrupt_ppm), ("reorder", self.reorder_ppm)]
        {
            if ppm > PPM {
                return Err(format!("fault plan: {name} probability {ppm} ppm is above 100% ({PPM} ppm)"));
            }
        }
        if self.reorder_ppm > 0 && self.reorder_window_ns == 0 {
            return Err("fault plan: reorder needs a window above 0 ns (reorder=P%:DURATION)".into());
        }
        if self.reorder_window_ns > MAX_FAULT_DELAY_NS || self.jitter_ns > MAX_FAULT_DELAY_NS {
            return Err(format!("fault plan: reorder window and delay jitter are limited to {}", Ns(MAX_FAULT_DELAY_NS)));
        }
        Ok(())
    }

    /// Parses a comma-separated plan: `drop=P`, `dup=P` (or `duplicate`), `corrupt=P`,
    /// `reorder=P[:WINDOW]` (window default 1 ms), `delay=DURATION` (or `jitter`), where
    /// `P` is a percentage (`1%`, `0.0001%`) or `Nppm`, and `DURATION` has a unit (`ns`,
    /// `us`, `ms`, `s`; decimals allowed if they come to whole nanoseconds). Empty text
    /// or `none` is the fault-free plan. Each key may appear once.
    pub fn parse(text: &str) -> Result<FaultPlan, String> {
        if text.len() > MAX_PLAN_TEXT {
            return Err(format!("fault plan: text is {} bytes, more than the {MAX_PLAN_TEXT} allowed", text.len()));
        }
        let mut plan = FaultPlan::NONE;
        if text.trim() == "none" {
            return Ok(plan);
        }
        let mut seen: Vec<&'static str> = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(format!("fault plan item `{item}`: expected KEY=VALUE with KEY one of drop, dup, corrupt, reorder, delay"));
            };
            let (key, value) = (key.trim(), value.trim());
            let canonical = match key {
                "drop" | "loss" => "drop",
                "dup" | "duplicate" => "dup",
                "corrupt" => "corrupt",
                "reorder" => "reorder",
                "delay" | "jitter" => "delay",
                _ => return Err(format!("fault plan item `{item}`: unknown fault `{key}` (known: drop, dup, corrupt, reorder, delay)")),
            };
            if seen.contains(&canonical) {
                return Err(format!("fault plan item `{item}`: `{canonical}` given twice"));
            }
            seen.push(canonical);
            let ctx = |e: String| format!("fault plan item `{item}`: {e}");
            match canonical {
                "drop" => plan.drop_ppm = parse_probability(value).map_err(ctx)?,
                "dup" => plan.duplicate_ppm = parse_probability(value).map_err(ctx)?,
                "corrupt" => plan.corrupt_ppm = parse_probability(value).map_err(ctx)?,
                "reorder" => {
                    let (p, window) = match value.split_once(':') {
                        Some((p, w)) => (p, parse_duration(w).map_err(ctx)?),
                        None => (value, DEFAULT_REORDER_WINDOW_NS),
                    };
                    plan.reorder_ppm = parse_probability(p).map_err(ctx)?;
                    plan.reorder_window_ns = window;
                }
                _ => plan.jitter_ns = parse_duration(value).map_err(ctx)?,
            }
        }
        if plan.reorder_ppm == 0 {
            // A window without a chance means nothing; dropping it keeps parse(print(p)) == p.
            plan.reorder_window_ns = 0;
        }
        plan.validate()?;
        Ok(plan)
    }

    /// Draws the decisions for one frame: always nine values, see [`FaultRoll`].
    pub(crate) fn roll(&self, rng: &mut ChaCha8Rng) -> FaultRoll {
        let corrupt = hit(self.corrupt_ppm, rng.next_u64());
        let corrupt_bit = rng.next_u64();
        let drop = hit(self.drop_ppm, rng.next_u64());
        let duplicate = hit(self.duplicate_ppm, rng.next_u64());
        let mut copies = [CopyRoll::default(); 2];
        for copy in &mut copies {
            let jitter = rng.next_u64();
            let reorder = hit(self.reorder_ppm, rng.next_u64());
            let extra = rng.next_u64();
            copy.jitter_ns = if self.jitter_ns == 0 { 0 } else { jitter % (self.jitter_ns + 1) };
            copy.reorder_ns = if reorder && self.reorder_window_ns > 0 { 1 + extra % self.reorder_window_ns } else { 0 };
        }
        FaultRoll { corrupt, corrupt_bit, drop, duplicate, copies }
    }
}

/// Prints the plan in the syntax [`FaultPlan::parse`] reads, so a trace line can be
/// pasted back into a scenario.
impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        let mut sep = "";
        for (name, ppm) in [("drop", self.drop_ppm), ("dup", self.duplicate_ppm), ("corrupt", self.corrupt_ppm)] {
            if ppm > 0 {
                write!(f, "{sep}{name}={}", Percent(ppm))?;
                sep = ",";
            }
        }
        if self.reorder_ppm > 0 {
            write!(f, "{sep}reorder={}:{}", Percent(self.reorder_ppm), Ns(self.reorder_window_ns))?;
            sep = ",";
        }
        if self.jitter_ns > 0 {
            write!(f, "{sep}delay={}", Ns(self.jitter_ns))?;
        }
        Ok(())
    }
}

/// A ppm value printed as an exact percentage.
struct Percent(u32);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 10_000, self.0 % 10_000);
        if frac == 0 {
            return write!(f, "{whole}%");
        }
        let digits = format!("{frac:04}");
        write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
    }
}

/// A duration printed in the largest unit that divides it exactly.
struct Ns(u64);

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
            if ns != 0 && ns.is_multiple_of(scale) {
                return write!(f, "{}{unit}", ns / scale);
            }
        }
        write!(f, "{ns}ns")
    }
}

/// `1%`, `0.25%` or `250ppm` to parts per million, at most 100%.
fn parse_probability(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let ppm = if let Some(num) = text.strip_suffix('%') {
        // Four decimals of a percent are exactly one ppm.
        parse_decimal(num.trim(), 4).map_err(|e| format!("`{text}`: {e}"))?
    } else if let Some(num) = text.strip_suffix("ppm") {
        parse_decimal(num.trim(), 0).map_err(|e| format!("`{text}`: {e}"))?
    } else {
        return Err(format!("`{text}`: expected a percentage like 1% or 0.5%, or parts per million like 250ppm"));
    };
    if ppm > u64::from(PPM) {
        return Err(format!("`{text}`: a probability cannot exceed 100%"));
    }
    Ok(ppm as u32)
}

/// `100us`, `1.5ms`, `2s`, `40ns` to nanoseconds.
fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    // Longer suffixes first: "ms" and "ns" also end in "s".
    for (unit, decimals) in [("ns", 0), ("us", 3), ("µs", 3), ("ms", 6), ("s", 9)] {
        let Some(num) = text.strip_suffix(unit).map(str::trim) else { continue };
        // "fast" ends in "s" too: only a numeric prefix makes the suffix a unit.
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            break;
        }
        // 10^decimals nanoseconds make one unit, so the scaled decimal is the count of ns.
        return parse_decimal(num, decimals).map_err(|e| format!("`{text}`: {e}"));
    }
    Err(format!("`{text}`: expected a duration with a unit, like 100us, 5ms, 1.5s or 40ns"))
}

/// A non-negative decimal scaled by 10^decimals, exactly: `parse_decimal("0.5", 4)` is 5000.
fn parse_decimal(text: &str, decimals: u32) -> Result<u64, String> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !is_digits(whole) || !is_digits(frac) || (text.contains('.') && frac.is_empty())
    {
        return Err(format!("`{text}` is not a number"));
    }
    if frac.len() > decimals as usize {
        return Err(format!("`{text}` has more decimals than the unit allows ({decimals})"));
    }
    let too_big = || format!("`{text}` is too large");
    let scale = 10u64.pow(decimals);
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| too_big())? };
    let frac_scaled: u64 = if frac.is_empty() {
        0
    } else {
        // At most `decimals` (<= 9) digits: fits u64, and the pad keeps its place value.
        let v: u64 = frac.parse().map_err(|_| too_big())?;
        v * 10u64.pow(decimals - frac.len() as u32)
    };
    whole.checked_mul(scale).and_then(|w| w.checked_add(frac_scaled)).ok_or_else(too_big)
}
