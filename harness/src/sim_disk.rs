//! The simulator's side of a scenario's `disk` statement: the fault plan's text, and
//! gzip-compressed images (mke2fs images are mostly zeroes, so the repository keeps them
//! compressed).

use hal_sim::disk::DiskFaults;
use std::format;
use std::string::String;
use std::vec::Vec;

/// `bad=S[-E],… error_ppm=N latency=DUR jitter=DUR` (DUR: a number with ns, us, ms or s).
pub fn parse_faults(text: &str) -> Result<DiskFaults, String> {
    let mut f = DiskFaults::default();
    for item in text.split_whitespace() {
        let (k, v) = item.split_once('=').ok_or_else(|| format!("fault '{item}' is not KEY=VALUE"))?;
        match k {
            "bad" => {
                for r in v.split(',') {
                    let (a, b) = r.split_once('-').unwrap_or((r, r));
                    let a: u64 = a.parse().map_err(|_| format!("bad sector '{a}' is not a number"))?;
                    let b: u64 = b.parse().map_err(|_| format!("bad sector '{b}' is not a number"))?;
                    if b < a || b - a > 1 << 20 {
                        return Err(format!("bad sector range '{r}' is backwards or longer than 2^20"));
                    }
                    f.bad_sectors.extend(a..=b);
                }
            }
            "error_ppm" => f.error_ppm = v.parse().ok().filter(|&n| n <= 1_000_000).ok_or_else(|| format!("error_ppm '{v}' is not 0..=1000000"))?,
            "latency" => f.latency_ns = duration(v)?,
            "jitter" => f.jitter_ns = duration(v)?,
            _ => return Err(format!("unknown disk fault '{k}' (bad, error_ppm, latency, jitter)")),
        }
    }
    Ok(f)
}

fn duration(v: &str) -> Result<u64, String> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("'{v}' is not a duration"))?;
    let mult = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => return Err(format!("'{v}' needs a unit: ns, us, ms or s")),
    };
    n.checked_mul(mult).filter(|&ns| ns <= 3_600_000_000_000).ok_or_else(|| format!("'{v}' is longer than an hour"))
}

/// Inflates a gzip file.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).map_err(|e| format!("not a gzip file: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_plans() {
        let f = parse_faults("bad=10-12,40 error_ppm=2000 latency=100us jitter=1ms").unwrap();
        assert_eq!(f.bad_sectors.iter().copied().collect::<Vec<_>>(), [10, 11, 12, 40]);
        assert_eq!((f.error_ppm, f.latency_ns, f.jitter_ns), (2000, 100_000, 1_000_000));
        assert!(parse_faults("bad=12-10").is_err());
        assert!(parse_faults("latency=5").is_err());
        assert!(parse_faults("speed=9").is_err());
    }
}
