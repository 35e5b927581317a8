#![no_main]
//! Arbitrary scenario text: parse errors are diagnostics, parsed scenarios run.
libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::fuzz::scenario_text(data));
