//! Jiffies for the pure state machines of `net/core`: every function here takes the
//! simulator's `now_ns` and converts it the way a `HZ = 250` Linux 4.3 kernel counts ticks,
//! so that timeouts are rounded to the same 4 ms grid and `time_after` comparisons wrap
//! the same way.
//!
//! k43's clock starts at 0 ns at boot; Linux's `jiffies` starts at `INITIAL_JIFFIES`
//! (`include/linux/jiffies.h`: `(unsigned long)(unsigned int)(-300 * HZ)`), chosen so that
//! the 32-bit view wraps five minutes after boot. Keeping that offset matters where 4.3
//! stores a `(u32)jiffies` stamp that starts at 0: `icmp_global_allow` sees a huge elapsed
//! time on its first call after boot and so starts with a full bucket.

/// `CONFIG_HZ` of k43's model kernel.
pub const HZ: u64 = 250;
/// Nanoseconds per jiffy (`TICK_NSEC` at `HZ = 250`).
pub const NSEC_PER_JIFFY: u64 = 1_000_000_000 / HZ;
/// `INITIAL_JIFFIES` on a 64-bit kernel: `(unsigned int)(-300 * HZ)` zero-extended.
pub const INITIAL_JIFFIES: u64 = (0u32.wrapping_sub(300 * HZ as u32)) as u64;

/// `jiffies` at simulator time `now_ns`.
pub const fn ns_to_jiffies(now_ns: u64) -> u64 {
    INITIAL_JIFFIES + now_ns / NSEC_PER_JIFFY
}

/// The first simulator time at which `jiffies` reads at least `j` (0 for a tick before boot):
/// a timer armed for `j` fires at this instant.
pub const fn jiffies_to_ns(j: u64) -> u64 {
    j.saturating_sub(INITIAL_JIFFIES).saturating_mul(NSEC_PER_JIFFY)
}

/// `msecs_to_jiffies` for `HZ` dividing 1000: rounds up (`_msecs_to_jiffies`), so 1 ms is
/// one tick and 1000 ms is `HZ`.
pub const fn msecs_to_jiffies(ms: u64) -> u64 {
    let per = 1000 / HZ;
    ms.saturating_add(per - 1) / per
}

/// `jiffies_to_msecs`.
pub const fn jiffies_to_msecs(j: u64) -> u64 {
    j.saturating_mul(1000 / HZ)
}

/// `time_after(a, b)` on `unsigned long`: `a` is later than `b`, modulo wrap.
pub const fn time_after(a: u64, b: u64) -> bool {
    (b.wrapping_sub(a) as i64) < 0
}

/// `time_before(a, b)`.
pub const fn time_before(a: u64, b: u64) -> bool {
    time_after(b, a)
}

/// `time_after_eq(a, b)`.
pub const fn time_after_eq(a: u64, b: u64) -> bool {
    (a.wrapping_sub(b) as i64) >= 0
}

/// `time_before_eq(a, b)`.
pub const fn time_before_eq(a: u64, b: u64) -> bool {
    time_after_eq(b, a)
}

/// The 32-bit PRNG the `net/core` state machines draw from in place of `prandom_u32`.
/// SplitMix64, seeded once from the HAL's entropy by whoever builds the table, so one seed
/// is one run; Linux's per-CPU Tausworthe generator is not reproducible anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prandom {
    state: u64,
}

impl Prandom {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Prandom {
        Prandom { state: seed }
    }

    /// `prandom_u32()`: the high half of the next SplitMix64 output.
    pub fn next_u32(&mut self) -> u32 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_jiffies_wraps_the_u32_view_after_five_minutes() {
        assert_eq!(INITIAL_JIFFIES, 0xfffe_db08);
        assert_eq!(ns_to_jiffies(0), INITIAL_JIFFIES);
        assert_eq!(ns_to_jiffies(300_000_000_000) as u32, 0);
        assert_eq!(ns_to_jiffies(3_999_999), INITIAL_JIFFIES);
        assert_eq!(ns_to_jiffies(4_000_000), INITIAL_JIFFIES + 1);
    }

    #[test]
    fn timer_instant_is_the_first_ns_of_the_tick() {
        assert_eq!(jiffies_to_ns(INITIAL_JIFFIES), 0);
        for j in [INITIAL_JIFFIES + 1, INITIAL_JIFFIES + 7500] {
            assert_eq!(ns_to_jiffies(jiffies_to_ns(j)), j);
            assert_eq!(ns_to_jiffies(jiffies_to_ns(j) - 1), j - 1);
        }
        assert_eq!(jiffies_to_ns(5), 0);
    }

    #[test]
    fn msecs_round_up_to_ticks() {
        assert_eq!(msecs_to_jiffies(0), 0);
        assert_eq!(msecs_to_jiffies(1), 1);
        assert_eq!(msecs_to_jiffies(4), 1);
        assert_eq!(msecs_to_jiffies(5), 2);
        assert_eq!(msecs_to_jiffies(1000), HZ);
        assert_eq!(jiffies_to_msecs(HZ), 1000);
    }

    #[test]
    fn time_comparisons_wrap() {
        assert!(time_after(1, 0) && !time_after(0, 0) && time_after_eq(0, 0));
        assert!(time_after(0, u64::MAX) && time_before(u64::MAX, 0));
        assert!(time_before_eq(5, 5) && !time_before(5, 5));
    }

    #[test]
    fn prandom_is_a_function_of_the_seed() {
        let (mut a, mut b) = (Prandom::new(7), Prandom::new(7));
        let xs: [u32; 4] = [a.next_u32(), a.next_u32(), a.next_u32(), a.next_u32()];
        assert_eq!(xs, [b.next_u32(), b.next_u32(), b.next_u32(), b.next_u32()]);
        assert_ne!(xs[0], xs[1]);
    }
}
