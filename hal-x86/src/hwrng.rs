//! A seed from the CPU's own entropy, for bundles that say `seed rdrand`: RDSEED (the
//! conditioned entropy source) where the CPU has it, else RDRAND (its DRBG), each retried
//! up to 10 times as Intel's DRNG guide recommends (a clear CF means "no value yet").

use crate::cpu::Features;

/// Tries per instruction before giving up on it.
const TRIES: u32 = 10;

/// The instruction that produced a seed.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    Rdseed,
    Rdrand,
}

impl Source {
    /// The mnemonic, as the `seed:` line prints it.
    pub fn name(self) -> &'static str {
        match self {
            Source::Rdseed => "RDSEED",
            Source::Rdrand => "RDRAND",
        }
    }
}

fn rdseed() -> Option<u64> {
    let (v, ok): (u64, u8);
    // SAFETY: called only when CPUID.(7,0):EBX.RDSEED is set; writes only v and flags.
    unsafe { core::arch::asm!("rdseed {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack)) };
    (ok != 0).then_some(v)
}

fn rdrand() -> Option<u64> {
    let (v, ok): (u64, u8);
    // SAFETY: called only when CPUID.1:ECX.RDRAND is set; writes only v and flags.
    unsafe { core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack)) };
    (ok != 0).then_some(v)
}

fn retry(step: fn() -> Option<u64>) -> Option<u64> {
    (0..TRIES).find_map(|_| {
        let v = step();
        if v.is_none() {
            core::hint::spin_loop(); // pause, as the guide's retry loop does
        }
        v
    })
}

/// A 64-bit seed from RDSEED, falling back to RDRAND; an error naming what is missing or
/// what kept failing.
pub fn seed(f: &Features) -> Result<(u64, Source), &'static str> {
    if f.rdseed {
        if let Some(v) = retry(rdseed) {
            return Ok((v, Source::Rdseed));
        }
    }
    if f.rdrand {
        return retry(rdrand).map(|v| (v, Source::Rdrand)).ok_or("RDRAND returned no value in 10 tries");
    }
    Err(if f.rdseed { "RDSEED returned no value in 10 tries and the CPU has no RDRAND" } else { "the CPU has neither RDSEED nor RDRAND (try -cpu max)" })
}
