//! `arch/x86`: the i386 `vm86`/`vm86old` decision of 4.3 (`kernel/vm86_32.c`).

pub mod vm86_32;
