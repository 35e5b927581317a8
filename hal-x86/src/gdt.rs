//! GDT with a TSS whose IST stacks catch double faults, NMIs and machine checks on known
//! good stacks (a kernel stack overflow then still reports instead of triple-faulting).

use crate::sync::Global;
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

/// IST slot (1-based in the IDT gate, 0-based here) for #DF.
pub const IST_DOUBLE_FAULT: u16 = 0;
/// IST slot for NMI.
pub const IST_NMI: u16 = 1;
/// IST slot for #MC.
pub const IST_MACHINE_CHECK: u16 = 2;

const IST_STACK_SIZE: usize = 16 * 1024;

#[repr(align(16))]
struct Stacks([[u8; IST_STACK_SIZE]; 3]);

static IST_STACKS: Global<Stacks> = Global::new(Stacks([[0; IST_STACK_SIZE]; 3]));
static TSS: Global<TaskStateSegment> = Global::new(TaskStateSegment::new());
static GDT: Global<GlobalDescriptorTable> = Global::new(GlobalDescriptorTable::new());

/// Kernel code selector after [`init`].
pub fn kernel_cs() -> SegmentSelector {
    CS::get_reg()
}

/// Builds and loads the GDT and TSS, reloads the segment registers.
pub fn init() {
    let tss: &'static TaskStateSegment = TSS.with(|tss| {
        IST_STACKS.with(|s| {
            for (i, stack) in s.0.iter().enumerate() {
                let top = stack.as_ptr() as u64 + IST_STACK_SIZE as u64;
                tss.interrupt_stack_table[i] = VirtAddr::new(top & !0xf);
            }
        });
        // SAFETY: TSS is a static that is never written again after this point.
        unsafe { &*(tss as *const TaskStateSegment) }
    });
    let (gdt, code, data, tss_sel) = GDT.with(|gdt| {
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        let tss_sel = gdt.append(Descriptor::tss_segment(tss));
        // SAFETY: GDT is a static that is never written again after this point.
        (unsafe { &*(gdt as *const GlobalDescriptorTable) }, code, data, tss_sel)
    });
    gdt.load();
    // SAFETY: the selectors index descriptors of the GDT just loaded: a 64-bit code
    // segment, a data segment and an available TSS.
    unsafe {
        CS::set_reg(code);
        SS::set_reg(data);
        DS::set_reg(data);
        ES::set_reg(data);
        load_tss(tss_sel);
    }
}
