//! The IDT: all 32 exception vectors go through the stubs of entry.s to
//! [`k43_exception`], which lets the user-copy fixup handle its page faults and reports
//! everything else (vector, error code, RIP, CR2, registers) before exiting QEMU. The
//! local APIC timer (vector 0xef) goes through its own stub to [`k43_interrupt`]; its
//! spurious vector (0xff) to a bare iretq. Every other vector is not present (#GP).

use crate::gdt;
use crate::sync::Global;
use x86_64::instructions::tables::lidt;
use x86_64::registers::control::Cr2;
use x86_64::structures::DescriptorTablePointer;
use x86_64::VirtAddr;

core::arch::global_asm!(include_str!("entry.s"), options(att_syntax));

extern "C" {
    static k43_exception_stubs: [u64; 32];
    fn k43_irq_timer();
    fn k43_irq_spurious();
}

/// The registers an exception stub saved, lowest address first.
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// One 16-byte interrupt gate.
#[repr(C, align(16))]
#[derive(Clone, Copy)]
struct Gate([u64; 2]);

#[repr(C, align(16))]
struct Idt([Gate; 256]);

static IDT: Global<Idt> = Global::new(Idt([Gate([0; 2]); 256]));

const NAMES: [&str; 32] = [
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
];

fn gate(handler: u64, cs: u16, ist: u8) -> Gate {
    let low = (handler & 0xffff)
        | ((cs as u64) << 16)
        | ((ist as u64 & 7) << 32)
        | (0x8e << 40) // present, DPL 0, 64-bit interrupt gate
        | (((handler >> 16) & 0xffff) << 48);
    Gate([low, handler >> 32])
}

/// Fills the 32 exception gates and loads the IDT.
pub fn init() {
    let cs = gdt::kernel_cs().0;
    // SAFETY: the stub table is an array of 32 addresses emitted by entry.s.
    let stubs = unsafe { &*core::ptr::addr_of!(k43_exception_stubs) };
    let ptr = IDT.with(|idt| {
        for (v, &stub) in stubs.iter().enumerate() {
            let ist = match v {
                2 => gdt::IST_NMI + 1,
                8 => gdt::IST_DOUBLE_FAULT + 1,
                18 => gdt::IST_MACHINE_CHECK + 1,
                _ => 0,
            };
            idt.0[v] = gate(stub, cs, ist as u8);
        }
        idt.0[crate::apic::TIMER_VECTOR as usize] = gate(k43_irq_timer as *const () as u64, cs, 0);
        idt.0[crate::apic::SPURIOUS_VECTOR as usize] = gate(k43_irq_spurious as *const () as u64, cs, 0);
        DescriptorTablePointer { limit: (core::mem::size_of::<Idt>() - 1) as u16, base: VirtAddr::new(idt as *const Idt as u64) }
    });
    // SAFETY: the IDT is a static that lives forever; its 34 present gates point at the
    // stubs of entry.s with the current code selector, and IST indexes exist in the
    // loaded TSS.
    unsafe { lidt(&ptr) };
}

/// Called by entry.s for every exception with the saved state.
#[no_mangle]
extern "C" fn k43_exception(f: &mut ExceptionFrame) {
    if f.vector == 14 && crate::uaccess::page_fault_fixup(f) {
        return;
    }
    report(f);
    crate::qemu::exit(crate::qemu::EXCEPTION);
}

/// Called by entry.s for a device interrupt (RFLAGS.AC already clear when SMAP is on).
/// Never the page-fault fixup: an interrupt inside a user copy just resumes it.
#[no_mangle]
extern "C" fn k43_interrupt(f: &mut ExceptionFrame) {
    match f.vector as u8 {
        crate::apic::TIMER_VECTOR => crate::apic::tick(f.rflags, f.rip),
        _ => {
            report(f);
            crate::qemu::exit(crate::qemu::EXCEPTION);
        }
    }
}

fn report(f: &ExceptionFrame) {
    let name = NAMES.get(f.vector as usize).copied().unwrap_or("unexpected interrupt");
    crate::println!();
    crate::println!("EXCEPTION: {} (vector {}), error code {:#x}", name, f.vector, f.error);
    crate::println!("  RIP {:#018x}  CS {:#x}  RFLAGS {:#x}  CR2 {:#018x}", f.rip, f.cs, f.rflags, Cr2::read_raw());
    crate::println!("  RSP {:#018x}  SS {:#x}", f.rsp, f.ss);
    crate::println!("  RAX {:#018x}  RBX {:#018x}  RCX {:#018x}  RDX {:#018x}", f.rax, f.rbx, f.rcx, f.rdx);
    crate::println!("  RSI {:#018x}  RDI {:#018x}  RBP {:#018x}  R8  {:#018x}", f.rsi, f.rdi, f.rbp, f.r8);
    crate::println!("  R9  {:#018x}  R10 {:#018x}  R11 {:#018x}  R12 {:#018x}", f.r9, f.r10, f.r11, f.r12);
    crate::println!("  R13 {:#018x}  R14 {:#018x}  R15 {:#018x}  CR3 {:#018x}", f.r13, f.r14, f.r15, crate::paging::current_root());
}
