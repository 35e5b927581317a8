#![no_main]
//! ptrace/seccomp/wait4 sequences among three tasks; `K43_BUGCOMPAT=1` in the environment
//! turns on 4.3's CVE-2022-30594 behaviour, which the target's bypass invariant must catch.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let bugcompat = std::env::var_os("K43_BUGCOMPAT").is_some_and(|v| v == "1");
    harness::fuzz::ptrace_sequence(data, bugcompat)
});
