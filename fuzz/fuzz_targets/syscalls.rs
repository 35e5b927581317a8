#![no_main]
//! Random syscall sequences against one kernel: no panic, invariants hold.
libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::fuzz::syscall_sequence(data));
