#![no_main]
//! Frames into one configured IPv6 host: every emitted frame re-parses with a valid
//! checksum, no ICMPv6 error about an error or about multicast, reassembly memory bounded.
libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::fuzz::packet(data));
