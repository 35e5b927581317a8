//! The scenario bundle QEMU hands over as the PVH module (`-initrd`): the scenarios to run
//! and how, so that a new scenario needs no new image.
//!
//! Format (written by `cargo harness qemu x86`):
//!
//! ```text
//! k43-bundle 1
//! seed 1                      (or `seed rdrand`: the image draws one, see hwrng.rs)
//! trace 0
//! frame-test 1                (optional: run the frame test after the scenarios, frames.rs)
//! scenario scenarios/core/ids.scn 345
//! <345 bytes of scenario text>
//! scenario …
//! ```

use alloc::string::String;
use alloc::vec::Vec;

/// What to run.
pub struct Bundle {
    /// The seed every scenario runs with (replaced at boot when `seed_from_cpu`).
    pub seed: u64,
    /// `seed rdrand`: draw the seed with RDSEED/RDRAND and print it as `seed: N (from …)`.
    pub seed_from_cpu: bool,
    /// Print every trace line, not only the verdicts.
    pub trace: bool,
    /// `frame-test 1`: after the scenarios, run the frame test on the virtio-net NIC.
    pub frame_test: bool,
    /// (path, source) in order.
    pub scenarios: Vec<(String, String)>,
}

/// `hvm_start_info` fields: nr_modules at 12, modlist_paddr at 16; each
/// `hvm_modlist_entry` is {paddr, size, cmdline_paddr, reserved}.
pub fn from_start_info(start_info: u64) -> Result<Bundle, &'static str> {
    // SAFETY: start_info is the PVH structure QEMU built in the identity-mapped first GiB
    // (checked by layout::check_e820); both fields lie inside it.
    let (nr, list) = unsafe {
        let p = start_info as *const u8;
        ((p.add(12) as *const u32).read_volatile(), (p.add(16) as *const u64).read_volatile())
    };
    if nr == 0 || list == 0 {
        return Err("no module: pass a scenario bundle with -initrd");
    }
    // SAFETY: module 0's entry is 32 bytes at modlist_paddr, placed by QEMU in low RAM.
    let (paddr, size) = unsafe { ((list as *const u64).read_volatile(), ((list + 8) as *const u64).read_volatile()) };
    if paddr.checked_add(size).is_none_or(|end| end > 1 << 30) {
        return Err("the module lies outside the identity-mapped first GiB");
    }
    // SAFETY: QEMU loaded `size` bytes of the initrd at `paddr`, inside the identity map
    // (checked above), in RAM no allocator hands out (it sits above the host window).
    let bytes = unsafe { core::slice::from_raw_parts(paddr as *const u8, size as usize) }.to_vec();
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Result<Bundle, &'static str> {
    let mut rest = bytes;
    fn line<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let nl = rest.iter().position(|&b| b == b'\n')?;
        let (l, r) = rest.split_at(nl);
        *rest = &r[1..];
        Some(l)
    }
    if line(&mut rest) != Some(b"k43-bundle 1".as_slice()) {
        return Err("not a k43-bundle 1");
    }
    let mut b = Bundle { seed: 1, seed_from_cpu: false, trace: false, frame_test: false, scenarios: Vec::new() };
    while let Some(l) = line(&mut rest) {
        let text = core::str::from_utf8(l).map_err(|_| "bundle header is not UTF-8")?;
        let mut words = text.split(' ');
        match words.next() {
            Some("seed") => match words.next() {
                Some("rdrand") => b.seed_from_cpu = true,
                w => b.seed = w.and_then(|s| s.parse().ok()).ok_or("bad seed line")?,
            },
            Some("trace") => b.trace = words.next() == Some("1"),
            Some("frame-test") => b.frame_test = words.next() == Some("1"),
            Some("scenario") => {
                let path = words.next().ok_or("scenario without a path")?;
                let len: usize = words.next().and_then(|s| s.parse().ok()).ok_or("scenario without a length")?;
                let body = rest.get(..len).ok_or("scenario cut short")?;
                let src = core::str::from_utf8(body).map_err(|_| "scenario is not UTF-8")?;
                b.scenarios.push((path.into(), src.into()));
                rest = rest.get(len + 1..).unwrap_or(&[]);
            }
            Some("") | None => {}
            Some(_) => return Err("unknown bundle line"),
        }
    }
    Ok(b)
}
