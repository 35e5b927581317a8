//! Kernel access to user memory: a software pre-check walk (so addresses inside the
//! supervisor identity map, like 0x1000, fail exactly as in hal-sim), then the real copy
//! with `rep movsb` under SMAP's stac window. A page fault inside the copy goes through
//! the exception table to a fixup that returns the fault as a `UserFault`; with the
//! window closed the hardware's SMAP fault comes back as `PanViolation`.

use crate::idt::ExceptionFrame;
use crate::paging;
use crate::sync::Global;
use kernel::hal::{UserFault, VirtAddr, PAGE_SIZE};

core::arch::global_asm!(include_str!("uaccess.s"), options(att_syntax));

extern "C" {
    fn k43_copy_user(dst: *mut u8, src: *const u8, len: usize) -> u64;
    static __start_ex_table: [u64; 0];
    static __stop_ex_table: [u64; 0];
}

/// What the #PF handler found out about a fault inside the copy routine.
static LAST_FAULT: Global<Option<UserFault>> = Global::new(None);

/// The fixup address for a fault at `rip`, from the exception table.
fn search_extable(rip: u64) -> Option<u64> {
    // SAFETY: the linker script brackets __ex_table with these symbols; the section holds
    // (instruction, fixup) pairs of u64.
    let table = unsafe {
        let start = core::ptr::addr_of!(__start_ex_table) as *const [u64; 2];
        let end = core::ptr::addr_of!(__stop_ex_table) as *const [u64; 2];
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    };
    table.iter().find(|e| e[0] == rip).map(|e| e[1])
}

/// `rip` is a user-copy instruction (it has an exception-table entry). The timer handler
/// counts how often it interrupted one; only a page fault there goes to the fixup.
pub fn is_copy_insn(rip: u64) -> bool {
    search_extable(rip).is_some()
}

const PF_PRESENT: u64 = 1 << 0;
const PF_WRITE: u64 = 1 << 1;
const PF_USER: u64 = 1 << 2;
const RFLAGS_AC: u64 = 1 << 18;

/// Page-fault hook: a fault in a copy routine is classified, recorded and resumed at its
/// fixup. Returns false for any other fault (an oops: the caller reports it).
pub fn page_fault_fixup(f: &mut ExceptionFrame) -> bool {
    let Some(fixup) = search_extable(f.rip) else { return false };
    let addr = x86_64::registers::control::Cr2::read_raw();
    let leaf = paging::lookup(paging::current_root(), addr);
    let fault = if f.error & PF_PRESENT == 0 {
        UserFault::NotMapped { addr }
    } else if crate::cpu::smap_on() && f.error & PF_USER == 0 && f.rflags & RFLAGS_AC == 0 && leaf.is_some_and(|(_, fl)| fl.user) {
        // A supervisor access to a present user page with AC clear: SMAP said no.
        UserFault::PanViolation { addr }
    } else if f.error & PF_WRITE != 0 && leaf.is_some_and(|(_, fl)| !fl.write) {
        UserFault::ReadOnly { addr }
    } else {
        UserFault::NotMapped { addr }
    };
    LAST_FAULT.with(|l| *l = Some(fault));
    f.rip = fixup;
    true
}

/// The SMAP/PAN window: open between `user_access_begin` and `user_access_end`.
static WINDOW_OPEN: Global<bool> = Global::new(false);

/// `stac` (when the CPU has SMAP) and mark the window open.
pub fn begin() {
    WINDOW_OPEN.with(|w| *w = true);
    if crate::cpu::smap_on() {
        crate::cpu::stac();
    }
}

/// `clac` (when the CPU has SMAP) and mark the window closed.
pub fn end() {
    if crate::cpu::smap_on() {
        crate::cpu::clac();
    }
    WINDOW_OPEN.with(|w| *w = false);
}

/// Checks that every page of `[va, va + len)` is a present user page of `root` (and
/// writable for `write`); the first bad address otherwise, as hal-sim reports it.
fn precheck(root: u64, va: VirtAddr, len: usize, write: bool) -> Result<(), UserFault> {
    let mut done = 0u64;
    while done < len as u64 {
        let addr = va.wrapping_add(done);
        match paging::lookup(root, addr) {
            Some((_, fl)) if fl.user && addr < paging::USER_TOP => {
                if write && !fl.write {
                    return Err(UserFault::ReadOnly { addr });
                }
            }
            _ => return Err(UserFault::NotMapped { addr }),
        }
        done += PAGE_SIZE - (addr & (PAGE_SIZE - 1));
    }
    Ok(())
}

/// Copies `len` bytes from `src` to `dst` with `root` loaded; one of the pointers is a
/// user address of `root`.
fn hw_copy(root: u64, dst: *mut u8, src: *const u8, len: usize) -> Result<(), UserFault> {
    paging::switch_to(root);
    LAST_FAULT.with(|l| *l = None);
    // SAFETY: the kernel-side pointer is a live buffer of `len` bytes; the user side was
    // pre-checked, and any fault on it is caught by the exception table and turned into
    // an error below instead of touching anything else.
    let r = unsafe { k43_copy_user(dst, src, len) };
    if r == 0 {
        return Ok(());
    }
    Err(LAST_FAULT.with(|l| l.take()).unwrap_or(UserFault::NotMapped { addr: 0 }))
}

/// With the window closed, hal-sim reports a PAN violation at the start address. Where
/// the hardware can show it (SMAP on, the first byte on a present user page), the access
/// is made for real and its outcome reported as is: SMAP must fault, and if it ever let the
/// access through, the caller sees that success (lkdtm then reports the bad write) rather
/// than a violation the hardware never raised. Without SMAP the violation is reported in
/// software, as hal-sim does.
fn closed_window(root: u64, va: VirtAddr, probe: impl FnOnce() -> Result<(), UserFault>) -> Result<(), UserFault> {
    let user_page = paging::lookup(root, va).is_some_and(|(_, fl)| fl.user) && va < paging::USER_TOP;
    if crate::cpu::smap_on() && user_page {
        return probe();
    }
    Err(UserFault::PanViolation { addr: va })
}

/// `raw_copy_from_user` in address space `root`.
pub fn copy_from_user(root: u64, src: VirtAddr, dst: &mut [u8]) -> Result<(), UserFault> {
    let open = WINDOW_OPEN.with(|w| *w);
    if !open {
        let probe = || hw_copy(root, dst.as_mut_ptr(), src as *const u8, dst.len().min(1));
        return closed_window(root, src, probe);
    }
    if dst.is_empty() {
        return Ok(());
    }
    precheck(root, src, dst.len(), false)?;
    hw_copy(root, dst.as_mut_ptr(), src as *const u8, dst.len())
}

/// `raw_copy_to_user` in address space `root`.
pub fn copy_to_user(root: u64, dst: VirtAddr, src: &[u8]) -> Result<(), UserFault> {
    let open = WINDOW_OPEN.with(|w| *w);
    if !open {
        // Probe with a read of the first byte: a write would change user memory if SMAP
        // let it through.
        let mut scratch = [0u8; 1];
        let probe = || hw_copy(root, scratch.as_mut_ptr(), dst as *const u8, src.len().min(1));
        return closed_window(root, dst, probe);
    }
    if src.is_empty() {
        return Ok(());
    }
    precheck(root, dst, src.len(), true)?;
    hw_copy(root, dst as *mut u8, src.as_ptr(), src.len())
}

/// Copies 8 bytes from `src` without the pre-check, with the window open: lets the
/// self-test drive a real fault through the exception table.
pub fn raw_hw_copy_for_test(root: u64, src: VirtAddr) -> Result<(), UserFault> {
    let mut buf = [0u8; 8];
    begin();
    let r = hw_copy(root, buf.as_mut_ptr(), src as *const u8, buf.len());
    end();
    r
}
