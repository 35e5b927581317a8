//! Architecture-specific decisions that are kernel logic rather than backend mechanics
//! (Linux's `arch/`). Only what k43 models as a decision lives here: the backends
//! (hal-sim, hal-x86) own the machine.

pub mod x86;
