//! bolero harnesses over the fuzz-target bodies of `harness::fuzz`, so the same code runs
//! three ways: cargo-fuzz (`fuzz/`), random inputs under plain `cargo test` (bolero's
//! default: about a second per harness; `BOLERO_RANDOM_ITERATIONS=N` for exactly N,
//! `BOLERO_RANDOM_SEED` to replay), and libFuzzer through
//! `cargo bolero test -p k43-bolero tests::NAME -s NONE -T 60s`.
//!
//! This package holds only bolero harnesses: `cargo bolero` instruments every test target
//! of a package, and one that does not link bolero (a proptest file, loom tests) fails to
//! link under it.

#[cfg(test)]
mod tests {
    #[test]
    fn syscalls() {
        bolero::check!().for_each(|data: &[u8]| harness::fuzz::syscall_sequence(data));
    }

    #[test]
    fn scenario_parser() {
        bolero::check!().for_each(|data: &[u8]| harness::fuzz::scenario_text(data));
    }

    #[test]
    fn seccomp_bpf() {
        bolero::check!().for_each(|data: &[u8]| harness::fuzz::seccomp_bpf(data));
    }

    #[test]
    fn ptrace() {
        bolero::check!().for_each(|data: &[u8]| harness::fuzz::ptrace_sequence(data, false));
    }

    #[test]
    fn uffd_ops() {
        bolero::check!().for_each(|data: &[u8]| harness::fuzz::uffd_ops(data));
    }

    #[test]
    fn packet() {
        bolero::check!().for_each(|data: &[u8]| harness::fuzz::packet(data));
    }
}
