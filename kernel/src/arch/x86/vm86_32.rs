//! `arch/x86/kernel/vm86_32.c` as of 4.3: whether a `vm86()`/`vm86old()` call is allowed
//! to enter virtual-8086 mode, and what it returns otherwise.
//!
//! Neither system call exists for the ABIs k43 runs: they are i386-only (numbers 113
//! `vm86old` and 166 `vm86`), absent from the x86_64 table and from arm64's, so a 64-bit
//! task asking for them gets `ENOSYS` like any unknown number (x86_64's 113 and 166 are
//! `setreuid` and `umount2`; a 64-bit CPU cannot enter vm86 mode from long mode at all).
//! What 4.3 changed is modelled here as a pure function, for a 32-bit kernel:
//!
//! 1. vm86 is built only with `CONFIG_X86_LEGACY_VM86` (new in 4.3, default **n**;
//!    `CONFIG_VM86` follows it). Without it both calls are `ENOSYS`.
//! 2. Entering vm86 mode first asks `security_mmap_addr(0)`: a vm86 task must map page 0
//!    (the real-mode interrupt table), so unless the caller could map address 0 — the
//!    sysctl `vm.mmap_min_addr` is 0, or it has `CAP_SYS_RAWIO` — the call fails with
//!    `EPERM` and the kernel logs, once per boot, "Denied a call to vm86(old) from …".
//!    The LSM's own error (SELinux `EACCES`) would also become `EPERM`.
//!
//! `vm86(cmd, arg)`'s IRQ sub-commands (3–6) and the installation check (0) never reach
//! that check; every other `cmd` (1 and 2 are the documented ones) enters.

use crate::security::commoncap::cap_mmap_addr;
use crate::security::cred::Cred;
use crate::uapi::capability::CAP_SYS_ADMIN;
use crate::uapi::Errno;
use alloc::format;
use alloc::string::String;

/// i386 syscall number of `vm86old`.
pub const NR_VM86OLD_I386: u32 = 113;
/// i386 syscall number of `vm86`.
pub const NR_VM86_I386: u32 = 166;

/// `vm86()` sub-commands (`arch/x86/include/uapi/asm/vm86.h`).
pub const VM86_PLUS_INSTALL_CHECK: u32 = 0;
pub const VM86_ENTER: u32 = 1;
pub const VM86_ENTER_NO_BYPASS: u32 = 2;
pub const VM86_REQUEST_IRQ: u32 = 3;
pub const VM86_FREE_IRQ: u32 = 4;
pub const VM86_GET_IRQ_BITS: u32 = 5;
pub const VM86_GET_AND_RESET_IRQ: u32 = 6;

/// Which call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vm86Call {
    /// `vm86old(struct vm86_struct *)`.
    Vm86Old,
    /// `vm86(cmd, arg)`.
    Vm86 { cmd: u32 },
}

/// What the caller is and what the kernel is built and tuned with.
#[derive(Clone, Debug)]
pub struct Vm86Context<'a> {
    /// `CONFIG_X86_LEGACY_VM86`.
    pub legacy_vm86: bool,
    /// The caller's credentials.
    pub cred: &'a Cred,
    /// `dac_mmap_min_addr` (`vm.mmap_min_addr`).
    pub mmap_min_addr: u64,
    /// `current->comm`, pid and uid for the log line.
    pub comm: &'a str,
    pub pid: i32,
    pub uid: u32,
    /// The "Denied a call" line was printed already this boot (`pr_info_once`).
    pub denied_logged: bool,
    /// The task is already in vm86 mode (`vm86->saved_sp0` set).
    pub nested: bool,
}

/// The decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vm86Outcome {
    /// Returns this value without entering (the installation check: 0).
    Return(i64),
    /// Runs the IRQ helper `cmd` (`do_vm86_irq_handling`), whose own checks follow.
    IrqHelper { cmd: u32 },
    /// Reads the user structure (`EFAULT` if unreadable) and enters vm86 mode.
    Enter,
    /// Fails with the errno; `log` is the line to print (only the first denial per boot).
    Fail { errno: Errno, log: Option<String> },
}

/// `sys_vm86old`/`sys_vm86` → `do_sys_vm86` in 4.3, up to the point where the user
/// structure is read.
pub fn vm86_decision(call: Vm86Call, ctx: &Vm86Context<'_>) -> Vm86Outcome {
    if !ctx.legacy_vm86 {
        return Vm86Outcome::Fail { errno: Errno::ENOSYS, log: None };
    }
    if let Vm86Call::Vm86 { cmd } = call {
        match cmd {
            VM86_REQUEST_IRQ if !crate::security::commoncap::capable(ctx.cred, CAP_SYS_ADMIN) => {
                return Vm86Outcome::Fail { errno: Errno::EPERM, log: None };
            }
            VM86_REQUEST_IRQ | VM86_FREE_IRQ | VM86_GET_IRQ_BITS | VM86_GET_AND_RESET_IRQ => return Vm86Outcome::IrqHelper { cmd },
            VM86_PLUS_INSTALL_CHECK => return Vm86Outcome::Return(0),
            _ => {}
        }
    }
    // do_sys_vm86: security_mmap_addr(0) before anything else.
    if cap_mmap_addr(ctx.cred, 0, ctx.mmap_min_addr).is_err() {
        let log = (!ctx.denied_logged).then(|| {
            format!(
                "Denied a call to vm86(old) from {}[{}] (uid: {}).  Set the vm.mmap_min_addr sysctl to 0 and/or adjust LSM mmap_min_addr policy to enable vm86 if you are using a vm86-based DOS emulator.",
                ctx.comm, ctx.pid, ctx.uid
            )
        });
        return Vm86Outcome::Fail { errno: Errno::EPERM, log };
    }
    if ctx.nested {
        return Vm86Outcome::Fail { errno: Errno::EPERM, log: None };
    }
    Vm86Outcome::Enter
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::{Arch, Sysno};
    use crate::uapi::capability::CAP_SYS_RAWIO;

    fn ctx<'a>(cred: &'a Cred, min: u64, logged: bool) -> Vm86Context<'a> {
        Vm86Context { legacy_vm86: true, cred, mmap_min_addr: min, comm: "dosemu", pid: 42, uid: cred.uid, denied_logged: logged, nested: false }
    }

    #[test]
    fn without_the_config_option_both_calls_are_enosys() {
        let root = Cred::new(0, 0);
        let c = Vm86Context { legacy_vm86: false, ..ctx(&root, 0, false) };
        for call in [Vm86Call::Vm86Old, Vm86Call::Vm86 { cmd: VM86_ENTER }, Vm86Call::Vm86 { cmd: 0 }] {
            assert_eq!(vm86_decision(call, &c), Vm86Outcome::Fail { errno: Errno::ENOSYS, log: None });
        }
    }

    #[test]
    fn unprivileged_entry_is_eperm_with_one_log_line() {
        let user = Cred::new(1000, 1000);
        match vm86_decision(Vm86Call::Vm86Old, &ctx(&user, 4096, false)) {
            Vm86Outcome::Fail { errno: Errno::EPERM, log: Some(l) } => {
                assert!(l.starts_with("Denied a call to vm86(old) from dosemu[42] (uid: 1000)."), "{l}");
            }
            other => panic!("{other:?}"),
        }
        // The second denial is silent (pr_info_once).
        assert_eq!(vm86_decision(Vm86Call::Vm86 { cmd: VM86_ENTER }, &ctx(&user, 4096, true)), Vm86Outcome::Fail { errno: Errno::EPERM, log: None });
        // Undocumented commands enter too, so they are checked the same way.
        assert!(matches!(vm86_decision(Vm86Call::Vm86 { cmd: 77 }, &ctx(&user, 4096, true)), Vm86Outcome::Fail { errno: Errno::EPERM, .. }));
    }

    #[test]
    fn install_check_and_irq_helpers_skip_the_mmap_check() {
        let user = Cred::new(1000, 1000);
        assert_eq!(vm86_decision(Vm86Call::Vm86 { cmd: VM86_PLUS_INSTALL_CHECK }, &ctx(&user, 4096, false)), Vm86Outcome::Return(0));
        // REQUEST_IRQ fails on CAP_SYS_ADMIN, not on mmap_min_addr.
        assert_eq!(vm86_decision(Vm86Call::Vm86 { cmd: VM86_REQUEST_IRQ }, &ctx(&user, 0, false)), Vm86Outcome::Fail { errno: Errno::EPERM, log: None });
        assert_eq!(vm86_decision(Vm86Call::Vm86 { cmd: VM86_GET_IRQ_BITS }, &ctx(&user, 4096, false)), Vm86Outcome::IrqHelper { cmd: VM86_GET_IRQ_BITS });
        let root = Cred::new(0, 0);
        assert_eq!(vm86_decision(Vm86Call::Vm86 { cmd: VM86_REQUEST_IRQ }, &ctx(&root, 4096, false)), Vm86Outcome::IrqHelper { cmd: VM86_REQUEST_IRQ });
    }

    #[test]
    fn sysctl_zero_or_cap_sys_rawio_allows_entry() {
        let user = Cred::new(1000, 1000);
        assert_eq!(vm86_decision(Vm86Call::Vm86Old, &ctx(&user, 0, false)), Vm86Outcome::Enter);
        let mut rawio = Cred::new(1000, 1000);
        rawio.cap_effective |= 1 << CAP_SYS_RAWIO;
        rawio.cap_permitted |= 1 << CAP_SYS_RAWIO;
        assert_eq!(vm86_decision(Vm86Call::Vm86 { cmd: VM86_ENTER_NO_BYPASS }, &ctx(&rawio, 65536, false)), Vm86Outcome::Enter);
        // Already in vm86 mode: EPERM after the mmap check passed.
        let c = Vm86Context { nested: true, ..ctx(&rawio, 65536, false) };
        assert_eq!(vm86_decision(Vm86Call::Vm86Old, &c), Vm86Outcome::Fail { errno: Errno::EPERM, log: None });
    }

    #[test]
    fn the_64_bit_tables_have_no_vm86() {
        assert!(Sysno::from_name("vm86").is_none() && Sysno::from_name("vm86old").is_none());
        // x86_64's 113 and 166 are other calls (setreuid, umount2) or absent; never vm86.
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for nr in [NR_VM86OLD_I386, NR_VM86_I386] {
                assert!(Sysno::from_nr(arch, nr as u64).is_none_or(|s| !s.desc().name.starts_with("vm86")));
            }
        }
    }
}
