//! Links the image with link.ld by absolute path (a relative -T resolves against the
//! directory rustc runs in, which is not this crate's). Scenarios are not embedded: they
//! arrive at boot as the PVH module (see src/bundle.rs).

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rustc-link-arg-bins=-T{}", dir.join("link.ld").display());
    for f in ["link.ld", "src/boot.s", "src/entry.s", "src/uaccess.s"] {
        println!("cargo:rerun-if-changed={f}");
    }
}
