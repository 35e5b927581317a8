//! The software MMU: one page table per address space, as an ordered map from virtual
//! page to frame and permissions.

use kernel::hal::{AddressSpaceId, MmuError, PhysAddr, PteFlags, VirtAddr, PAGE_SIZE};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// Highest canonical user address + 1 on x86_64 (and the 48-bit arm64 TTBR0 range).
const USER_TOP: VirtAddr = 1 << 47;

/// Page tables of every address space.
#[derive(Default)]
pub struct SoftMmu {
    spaces: RefCell<BTreeMap<u64, BTreeMap<u64, (PhysAddr, PteFlags)>>>,
    next: Cell<u64>,
    active: Cell<Option<AddressSpaceId>>,
}

impl SoftMmu {
    /// A new empty space.
    pub fn create(&self) -> AddressSpaceId {
        let id = self.next.get() + 1;
        self.next.set(id);
        self.spaces.borrow_mut().insert(id, BTreeMap::new());
        AddressSpaceId(id)
    }

    /// Drops a space.
    pub fn destroy(&self, asid: AddressSpaceId) {
        self.spaces.borrow_mut().remove(&asid.0);
        if self.active.get() == Some(asid) {
            self.active.set(None);
        }
    }

    /// Maps one page.
    pub fn map(&self, asid: AddressSpaceId, va: VirtAddr, pa: PhysAddr, flags: PteFlags) -> Result<(), MmuError> {
        if va % PAGE_SIZE != 0 || pa % PAGE_SIZE != 0 || va >= USER_TOP {
            return Err(MmuError::BadAddress);
        }
        let mut spaces = self.spaces.borrow_mut();
        let space = spaces.get_mut(&asid.0).ok_or(MmuError::NoAddressSpace)?;
        space.insert(va / PAGE_SIZE, (pa, flags));
        Ok(())
    }

    /// Unmaps one page.
    pub fn unmap(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<PhysAddr> {
        self.spaces.borrow_mut().get_mut(&asid.0)?.remove(&(va / PAGE_SIZE)).map(|e| e.0)
    }

    /// Walks the table for `va`.
    pub fn translate(&self, asid: AddressSpaceId, va: VirtAddr) -> Option<(PhysAddr, PteFlags)> {
        let spaces = self.spaces.borrow();
        let (pa, flags) = *spaces.get(&asid.0)?.get(&(va / PAGE_SIZE))?;
        Some((pa + (va % PAGE_SIZE), flags))
    }

    /// Switches the current space.
    pub fn activate(&self, asid: AddressSpaceId) {
        self.active.set(Some(asid));
    }
}
