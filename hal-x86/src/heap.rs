//! The global allocator: linked_list_allocator over the fixed heap range of `layout`.

use crate::layout::{HEAP_SIZE, HEAP_START};
use linked_list_allocator::LockedHeap;

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Hands the heap range to the allocator. Call once, before the first allocation.
pub fn init() {
    // SAFETY: [HEAP_START, HEAP_START + HEAP_SIZE) is RAM (checked against e820 later,
    // and below the 512 MiB QEMU is given), identity-mapped, and used by nothing else.
    unsafe { ALLOCATOR.lock().init(HEAP_START as *mut u8, HEAP_SIZE as usize) };
}
