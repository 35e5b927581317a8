#![no_main]
//! mmap/munmap/mprotect/madvise/brk, userfaultfd ioctls and reads, fork, threads, exits and
//! kernel-copy touches between a faulting process and its handler.
libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::fuzz::uffd_ops(data));
