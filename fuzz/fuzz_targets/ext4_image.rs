#![no_main]
//! Mutated ext3 images (patches over mke2fs-made bases) mounted, their journal recovered,
//! walked and modified: every inconsistency ends in an errno or a read-only remount,
//! never a panic or an endless loop, and every operation is restartable.
libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::fuzz::ext4_image(data));
