//! seccomp's classic-BPF checker and interpreter on arbitrary filters and seccomp_data,
//! then the accepted filters installed on a task and one syscall made under them; the
//! body is `harness::fuzz::seccomp_bpf`, shared with the property tests.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    harness::fuzz::seccomp_bpf(data);
});
