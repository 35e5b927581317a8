//! Linux 4.3's `atomic_t` / `atomic64_t` API: [`Atomic`] (`i32`) and
//! [`Atomic64`] (`i64`).
//!
//! Methods carry the Linux names without the `atomic_`/`atomic64_` prefix and
//! follow the ordering mapping of the spec's table A.4:
//!
//! | Linux | here |
//! | --- | --- |
//! | `read` / `set`, void ops (`add` … `andnot`) | `Relaxed` |
//! | `read_acquire` / `set_release` | `Acquire` load / `Release` store |
//! | `_relaxed` / `_acquire` / `_release` RMW | RMW with that ordering; a failed `cmpxchg` is `Relaxed` |
//! | unsuffixed value-returning RMW (fully ordered) | `fence(SeqCst)`; RMW `Relaxed`; `fence(SeqCst)` |
//!
//! Why fences rather than a `SeqCst` RMW: Linux's fully ordered operations
//! act as `smp_mb()` on both sides, ordering *all* surrounding accesses,
//! while a `SeqCst` RMW orders only against other `SeqCst` operations and is
//! weaker for the plain/relaxed accesses around it. A failed fully ordered
//! `cmpxchg` skips the trailing fence (Linux promises nothing on failure).
//!
//! Like Linux, arithmetic wraps (two's complement) instead of panicking.
//!
//! Deliberately absent, because Linux 4.3 does not have them: the `fetch_*`
//! family (4.8), and `_relaxed`/`_acquire`/`_release` forms of
//! `inc_return`/`dec_return` (4.4). In 4.3 the logic operations return
//! nothing; code needing the old value writes a `cmpxchg` loop.
//!
//! ```compile_fail
//! let a = kernel::sync::Atomic::new(0);
//! a.fetch_add(1); // no fetch_* in 4.3
//! ```
//! ```compile_fail
//! let a = kernel::sync::Atomic::new(0);
//! a.inc_return_relaxed(); // added in 4.4
//! ```

use super::{fence, AtomicI32, AtomicI64, Ordering};
use Ordering::{Acquire, Relaxed, Release, SeqCst};

/// Runs `op` (a relaxed RMW) between two full fences: Linux's fully ordered
/// RMW, `smp_mb__before_atomic(); op_relaxed(); smp_mb__after_atomic()`.
#[inline]
fn fully_ordered<R>(op: impl FnOnce() -> R) -> R {
    fence(SeqCst);
    let r = op();
    fence(SeqCst);
    r
}

macro_rules! linux_atomic {
    ($(#[$doc:meta])* $name:ident, $int:ty, $inner:ident, $c:literal) => {
        $(#[$doc])*
        #[repr(transparent)]
        pub struct $name {
            v: $inner,
        }

        impl $name {
            #[doc = concat!("`", $c, "_INIT(i)`: a counter holding `i`.")]
            #[cfg(not(loom))]
            #[inline]
            pub const fn new(i: $int) -> Self {
                Self { v: $inner::new(i) }
            }

            #[doc = concat!("`", $c, "_INIT(i)`: a counter holding `i` (not `const`: loom's atomics have no const constructor).")]
            #[cfg(loom)]
            pub fn new(i: $int) -> Self {
                Self { v: $inner::new(i) }
            }

            #[doc = concat!("`", $c, "_read`: the current value, unordered.")]
            #[inline]
            pub fn read(&self) -> $int {
                self.v.load(Relaxed)
            }

            #[doc = concat!("`", $c, "_set`: store `i`, unordered.")]
            #[inline]
            pub fn set(&self, i: $int) {
                self.v.store(i, Relaxed)
            }

            #[doc = concat!("`", $c, "_read_acquire`: ACQUIRE load.")]
            #[inline]
            pub fn read_acquire(&self) -> $int {
                self.v.load(Acquire)
            }

            #[doc = concat!("`", $c, "_set_release`: RELEASE store of `i`.")]
            #[inline]
            pub fn set_release(&self, i: $int) {
                self.v.store(i, Release)
            }

            #[doc = concat!("`", $c, "_add`: add `i`, unordered.")]
            #[inline]
            pub fn add(&self, i: $int) {
                self.v.fetch_add(i, Relaxed);
            }

            #[doc = concat!("`", $c, "_sub`: subtract `i`, unordered.")]
            #[inline]
            pub fn sub(&self, i: $int) {
                self.v.fetch_sub(i, Relaxed);
            }

            #[doc = concat!("`", $c, "_inc`: add 1, unordered.")]
            #[inline]
            pub fn inc(&self) {
                self.add(1)
            }

            #[doc = concat!("`", $c, "_dec`: subtract 1, unordered.")]
            #[inline]
            pub fn dec(&self) {
                self.sub(1)
            }

            #[doc = concat!("`", $c, "_and`: `v &= i`, unordered (new in 4.3).")]
            #[inline]
            pub fn and(&self, i: $int) {
                self.v.fetch_and(i, Relaxed);
            }

            #[doc = concat!("`", $c, "_or`: `v |= i`, unordered (new in 4.3).")]
            #[inline]
            pub fn or(&self, i: $int) {
                self.v.fetch_or(i, Relaxed);
            }

            #[doc = concat!("`", $c, "_xor`: `v ^= i`, unordered (new in 4.3).")]
            #[inline]
            pub fn xor(&self, i: $int) {
                self.v.fetch_xor(i, Relaxed);
            }

            #[doc = concat!("`", $c, "_andnot`: `v &= !i`, unordered (new in 4.3; generically `and(!i)`).")]
            #[inline]
            pub fn andnot(&self, i: $int) {
                self.v.fetch_and(!i, Relaxed);
            }

            #[doc = concat!("`", $c, "_add_return`: add `i`, return the new value; fully ordered.")]
            #[inline]
            pub fn add_return(&self, i: $int) -> $int {
                fully_ordered(|| self.add_return_relaxed(i))
            }

            #[doc = concat!("`", $c, "_add_return_relaxed`: add `i`, return the new value; unordered.")]
            #[inline]
            pub fn add_return_relaxed(&self, i: $int) -> $int {
                self.v.fetch_add(i, Relaxed).wrapping_add(i)
            }

            #[doc = concat!("`", $c, "_add_return_acquire`: add `i`, return the new value; ACQUIRE.")]
            #[inline]
            pub fn add_return_acquire(&self, i: $int) -> $int {
                self.v.fetch_add(i, Acquire).wrapping_add(i)
            }

            #[doc = concat!("`", $c, "_add_return_release`: add `i`, return the new value; RELEASE.")]
            #[inline]
            pub fn add_return_release(&self, i: $int) -> $int {
                self.v.fetch_add(i, Release).wrapping_add(i)
            }

            #[doc = concat!("`", $c, "_sub_return`: subtract `i`, return the new value; fully ordered.")]
            #[inline]
            pub fn sub_return(&self, i: $int) -> $int {
                fully_ordered(|| self.sub_return_relaxed(i))
            }

            #[doc = concat!("`", $c, "_sub_return_relaxed`: subtract `i`, return the new value; unordered.")]
            #[inline]
            pub fn sub_return_relaxed(&self, i: $int) -> $int {
                self.v.fetch_sub(i, Relaxed).wrapping_sub(i)
            }

            #[doc = concat!("`", $c, "_sub_return_acquire`: subtract `i`, return the new value; ACQUIRE.")]
            #[inline]
            pub fn sub_return_acquire(&self, i: $int) -> $int {
                self.v.fetch_sub(i, Acquire).wrapping_sub(i)
            }

            #[doc = concat!("`", $c, "_sub_return_release`: subtract `i`, return the new value; RELEASE.")]
            #[inline]
            pub fn sub_return_release(&self, i: $int) -> $int {
                self.v.fetch_sub(i, Release).wrapping_sub(i)
            }

            #[doc = concat!("`", $c, "_inc_return`: add 1, return the new value; fully ordered (no ordering variants in 4.3).")]
            #[inline]
            pub fn inc_return(&self) -> $int {
                self.add_return(1)
            }

            #[doc = concat!("`", $c, "_dec_return`: subtract 1, return the new value; fully ordered (no ordering variants in 4.3).")]
            #[inline]
            pub fn dec_return(&self) -> $int {
                self.sub_return(1)
            }

            #[doc = concat!("`", $c, "_xchg`: store `new`, return the old value; fully ordered.")]
            #[inline]
            pub fn xchg(&self, new: $int) -> $int {
                fully_ordered(|| self.xchg_relaxed(new))
            }

            #[doc = concat!("`", $c, "_xchg_relaxed`: store `new`, return the old value; unordered.")]
            #[inline]
            pub fn xchg_relaxed(&self, new: $int) -> $int {
                self.v.swap(new, Relaxed)
            }

            #[doc = concat!("`", $c, "_xchg_acquire`: store `new`, return the old value; ACQUIRE.")]
            #[inline]
            pub fn xchg_acquire(&self, new: $int) -> $int {
                self.v.swap(new, Acquire)
            }

            #[doc = concat!("`", $c, "_xchg_release`: store `new`, return the old value; RELEASE.")]
            #[inline]
            pub fn xchg_release(&self, new: $int) -> $int {
                self.v.swap(new, Release)
            }

            #[doc = concat!("`", $c, "_cmpxchg`: if the value is `old`, store `new`; return the value found (success iff it equals `old`). Fully ordered on success, unordered on failure.")]
            #[inline]
            pub fn cmpxchg(&self, old: $int, new: $int) -> $int {
                fence(SeqCst);
                match self.v.compare_exchange(old, new, Relaxed, Relaxed) {
                    Ok(found) => {
                        fence(SeqCst);
                        found
                    }
                    Err(found) => found,
                }
            }

            #[doc = concat!("`", $c, "_cmpxchg_relaxed`: as [`cmpxchg`](Self::cmpxchg), unordered.")]
            #[inline]
            pub fn cmpxchg_relaxed(&self, old: $int, new: $int) -> $int {
                self.cmpxchg_ordered(old, new, Relaxed)
            }

            #[doc = concat!("`", $c, "_cmpxchg_acquire`: as [`cmpxchg`](Self::cmpxchg), ACQUIRE on success, unordered on failure.")]
            #[inline]
            pub fn cmpxchg_acquire(&self, old: $int, new: $int) -> $int {
                self.cmpxchg_ordered(old, new, Acquire)
            }

            #[doc = concat!("`", $c, "_cmpxchg_release`: as [`cmpxchg`](Self::cmpxchg), RELEASE on success, unordered on failure.")]
            #[inline]
            pub fn cmpxchg_release(&self, old: $int, new: $int) -> $int {
                self.cmpxchg_ordered(old, new, Release)
            }

            /// Strong compare-and-swap (Linux's `cmpxchg` never fails
            /// spuriously) returning the value found; failure is `Relaxed`.
            #[inline]
            fn cmpxchg_ordered(&self, old: $int, new: $int, success: Ordering) -> $int {
                match self.v.compare_exchange(old, new, success, Relaxed) {
                    Ok(found) | Err(found) => found,
                }
            }

            #[doc = concat!("`", $c, "_inc_and_test`: add 1; true iff the result is 0. Fully ordered.")]
            #[inline]
            pub fn inc_and_test(&self) -> bool {
                self.add_return(1) == 0
            }

            #[doc = concat!("`", $c, "_dec_and_test`: subtract 1; true iff the result is 0. Fully ordered.")]
            #[inline]
            pub fn dec_and_test(&self) -> bool {
                self.sub_return(1) == 0
            }

            #[doc = concat!("`", $c, "_sub_and_test`: subtract `i`; true iff the result is 0. Fully ordered.")]
            #[inline]
            pub fn sub_and_test(&self, i: $int) -> bool {
                self.sub_return(i) == 0
            }

            #[doc = concat!("`", $c, "_add_negative`: add `i`; true iff the result is negative. Fully ordered.")]
            #[inline]
            pub fn add_negative(&self, i: $int) -> bool {
                self.add_return(i) < 0
            }

            #[doc = concat!("`", $c, "_add_unless`: add `a` unless the value is `u`; true iff it added. Fully ordered when it adds (a `cmpxchg` loop, as in Linux).")]
            #[inline]
            pub fn add_unless(&self, a: $int, u: $int) -> bool {
                let mut c = self.read();
                while c != u {
                    let found = self.cmpxchg(c, c.wrapping_add(a));
                    if found == c {
                        return true;
                    }
                    c = found;
                }
                false
            }

            #[doc = concat!("`", $c, "_inc_not_zero`: add 1 unless the value is 0; true iff it added.")]
            #[inline]
            pub fn inc_not_zero(&self) -> bool {
                self.add_unless(1, 0)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.read()).finish()
            }
        }
    };
}

linux_atomic! {
    /// Linux's `atomic_t`: a 32-bit signed counter with the 4.3 atomics API.
    Atomic, i32, AtomicI32, "atomic"
}

linux_atomic! {
    /// Linux's `atomic64_t`: a 64-bit signed counter with the 4.3 atomics API.
    Atomic64, i64, AtomicI64, "atomic64"
}

impl Atomic {
    /// `atomic_set_mask`: deprecated in 4.3 in favour of [`or`](Self::or).
    #[deprecated(note = "Linux 4.3 deprecates atomic_set_mask: use `or`")]
    #[inline]
    pub fn set_mask(&self, mask: u32) {
        self.or(mask as i32)
    }

    /// `atomic_clear_mask`: deprecated in 4.3 in favour of [`andnot`](Self::andnot).
    #[deprecated(note = "Linux 4.3 deprecates atomic_clear_mask: use `andnot`")]
    #[inline]
    pub fn clear_mask(&self, mask: u32) {
        self.andnot(mask as i32)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use super::{Atomic, Atomic64};

    /// Operand/initial values: zero, ±1, both extremes (to hit wrapping), and
    /// bit patterns for the logic ops. Truncated by `as` for the 32-bit type.
    const VALUES: [i64; 9] = [
        0,
        1,
        -1,
        i64::MAX,
        i64::MIN,
        0x5a5a_5a5a_a5a5_a5a5,
        -0x0123_4567_89ab_cdef,
        i32::MAX as i64,
        i32::MIN as i64,
    ];

    macro_rules! reference_tests {
        ($m:ident, $t:ty, $int:ty) => {
            mod $m {
                use super::*;
                type A = $t;

                fn pairs() -> impl Iterator<Item = ($int, $int)> {
                    VALUES
                        .iter()
                        .flat_map(|&x| VALUES.iter().map(move |&i| (x as $int, i as $int)))
                }

                #[test]
                fn void_ops_match_reference() {
                    let ops: [(fn(&A, $int), fn($int, $int) -> $int); 6] = [
                        (A::add, <$int>::wrapping_add),
                        (A::sub, <$int>::wrapping_sub),
                        (A::and, |x, i| x & i),
                        (A::or, |x, i| x | i),
                        (A::xor, |x, i| x ^ i),
                        (A::andnot, |x, i| x & !i),
                    ];
                    for (x, i) in pairs() {
                        for (op, reference) in ops {
                            let a = A::new(x);
                            op(&a, i);
                            assert_eq!(a.read(), reference(x, i), "x={x:#x} i={i:#x}");
                        }
                        let (a, b) = (A::new(x), A::new(x));
                        a.andnot(i);
                        b.and(!i);
                        assert_eq!(a.read(), b.read());
                    }
                }

                #[test]
                fn inc_dec_wrap() {
                    let a = A::new(<$int>::MAX);
                    a.inc();
                    assert_eq!(a.read(), <$int>::MIN);
                    a.dec();
                    assert_eq!(a.read(), <$int>::MAX);
                    assert_eq!(a.inc_return(), <$int>::MIN);
                    assert_eq!(a.dec_return(), <$int>::MAX);
                }

                #[test]
                fn add_sub_return_give_new_value_in_every_ordering() {
                    let adds: [fn(&A, $int) -> $int; 4] =
                        [A::add_return, A::add_return_relaxed, A::add_return_acquire, A::add_return_release];
                    let subs: [fn(&A, $int) -> $int; 4] =
                        [A::sub_return, A::sub_return_relaxed, A::sub_return_acquire, A::sub_return_release];
                    for (x, i) in pairs() {
                        for f in adds {
                            let a = A::new(x);
                            assert_eq!(f(&a, i), x.wrapping_add(i));
                            assert_eq!(a.read(), x.wrapping_add(i));
                        }
                        for f in subs {
                            let a = A::new(x);
                            assert_eq!(f(&a, i), x.wrapping_sub(i));
                            assert_eq!(a.read(), x.wrapping_sub(i));
                        }
                    }
                }

                #[test]
                fn xchg_returns_old_value() {
                    let xchgs: [fn(&A, $int) -> $int; 4] =
                        [A::xchg, A::xchg_relaxed, A::xchg_acquire, A::xchg_release];
                    for (x, i) in pairs() {
                        for f in xchgs {
                            let a = A::new(x);
                            assert_eq!(f(&a, i), x);
                            assert_eq!(a.read(), i);
                        }
                    }
                }

                #[test]
                fn cmpxchg_returns_value_found() {
                    let cmpxchgs: [fn(&A, $int, $int) -> $int; 4] =
                        [A::cmpxchg, A::cmpxchg_relaxed, A::cmpxchg_acquire, A::cmpxchg_release];
                    for (x, i) in pairs() {
                        for f in cmpxchgs {
                            // Success: returns `old`, stores `new`.
                            let a = A::new(x);
                            assert_eq!(f(&a, x, i), x);
                            assert_eq!(a.read(), i);
                            // Failure: returns what it found, stores nothing.
                            let a = A::new(x);
                            let old = x.wrapping_add(1);
                            assert_eq!(f(&a, old, i), x);
                            assert_eq!(a.read(), x);
                        }
                    }
                }

                #[test]
                fn read_set_acquire_release() {
                    for (x, i) in pairs() {
                        let a = A::new(x);
                        assert_eq!((a.read(), a.read_acquire()), (x, x));
                        a.set(i);
                        assert_eq!(a.read(), i);
                        a.set_release(x);
                        assert_eq!(a.read_acquire(), x);
                    }
                }

                #[test]
                fn and_test_and_negative_predicates() {
                    let a = A::new(-1);
                    assert!(a.inc_and_test());
                    assert!(!a.inc_and_test());
                    assert!(a.dec_and_test());
                    assert!(!a.dec_and_test());
                    assert_eq!(a.read(), -1);
                    let a = A::new(5);
                    assert!(!a.sub_and_test(4));
                    assert!(a.sub_and_test(1));
                    assert!(a.add_negative(-1));
                    assert!(!a.add_negative(1)); // 0 is not negative
                    // The result wraps: MAX + 1 is negative.
                    let a = A::new(<$int>::MAX);
                    assert!(a.add_negative(1));
                    assert_eq!(a.read(), <$int>::MIN);
                    let a = A::new(<$int>::MIN);
                    assert!(!a.dec_and_test());
                    assert_eq!(a.read(), <$int>::MAX);
                }

                #[test]
                fn add_unless_and_inc_not_zero() {
                    for (x, i) in pairs() {
                        let a = A::new(x);
                        assert!(!a.add_unless(i, x), "value equals u: no add");
                        assert_eq!(a.read(), x);
                        let u = x.wrapping_add(1);
                        assert!(a.add_unless(i, u));
                        assert_eq!(a.read(), x.wrapping_add(i));
                    }
                    let a = A::new(0);
                    assert!(!a.inc_not_zero());
                    assert_eq!(a.read(), 0);
                    a.set(<$int>::MAX);
                    assert!(a.inc_not_zero());
                    assert_eq!(a.read(), <$int>::MIN);
                }

                #[test]
                fn const_new_and_debug() {
                    static S: A = A::new(7);
                    S.inc();
                    assert_eq!(S.read(), 8);
                    assert_eq!(std::format!("{S:?}"), std::format!("{}(8)", stringify!($t)));
                }
            }
        };
    }

    reference_tests!(atomic32, Atomic, i32);
    reference_tests!(atomic64, Atomic64, i64);

    #[test]
    #[allow(deprecated)]
    fn deprecated_masks_are_or_and_andnot() {
        let a = Atomic::new(0b1010);
        a.set_mask(0b0101);
        assert_eq!(a.read(), 0b1111);
        a.clear_mask(0b0011);
        assert_eq!(a.read(), 0b1100);
        a.set_mask(0x8000_0000);
        assert_eq!(a.read(), i32::MIN | 0b1100);
        a.clear_mask(u32::MAX);
        assert_eq!(a.read(), 0);
    }
}
