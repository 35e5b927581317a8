//! PCI configuration space through the legacy I/O mechanism (ports 0xCF8/0xCFC), which
//! both of QEMU's x86 machines (`pc`, `q35`) decode. Enough to find a device on bus 0 and
//! turn on its I/O decoding and bus mastering; SeaBIOS has assigned the BARs.

use x86_64::instructions::port::Port;

/// Bus 0's device/function number of a function (`dev << 3 | func`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// Device 0..32.
    pub dev: u8,
    /// Function 0..8.
    pub func: u8,
}

impl core::fmt::Display for Function {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "00:{:02x}.{}", self.dev, self.func)
    }
}

/// Reads the dword at `offset` (a multiple of 4) of `f`'s configuration space.
pub fn read32(f: Function, offset: u8) -> u32 {
    let addr = 0x8000_0000 | u32::from(f.dev) << 11 | u32::from(f.func) << 8 | u32::from(offset & 0xfc);
    // SAFETY: 0xCF8/0xCFC are the PCI host bridge's CONFIG_ADDRESS/CONFIG_DATA on QEMU's
    // pc and q35 machines; a configuration read has no side effect, and this single CPU
    // with nothing else touching the ports keeps the address/data pair together.
    unsafe {
        Port::<u32>::new(0xcf8).write(addr);
        Port::<u32>::new(0xcfc).read()
    }
}

/// Writes the dword at `offset` of `f`'s configuration space.
pub fn write32(f: Function, offset: u8, value: u32) {
    let addr = 0x8000_0000 | u32::from(f.dev) << 11 | u32::from(f.func) << 8 | u32::from(offset & 0xfc);
    // SAFETY: as in read32; callers only write the command register of a device they drive.
    unsafe {
        Port::<u32>::new(0xcf8).write(addr);
        Port::<u32>::new(0xcfc).write(value);
    }
}

/// The first function on bus 0 with `vendor`/`device`, scanning devices in order and the
/// functions of multi-function devices.
pub fn find(vendor: u16, device: u16) -> Option<Function> {
    for dev in 0..32 {
        let header = (read32(Function { dev, func: 0 }, 0x0c) >> 16) as u8;
        let funcs = if header & 0x80 != 0 { 8 } else { 1 };
        for func in 0..funcs {
            let f = Function { dev, func };
            let id = read32(f, 0);
            if id as u16 == vendor && (id >> 16) as u16 == device {
                return Some(f);
            }
        }
    }
    None
}

/// BAR `n`'s I/O port base, if it is an I/O BAR that has been assigned.
pub fn io_bar(f: Function, n: u8) -> Option<u16> {
    let bar = read32(f, 0x10 + 4 * n);
    (bar & 1 == 1 && bar & !3 != 0 && bar >> 16 == 0).then_some((bar & !3) as u16)
}

/// Turns on I/O space decoding and bus mastering (command bits 0 and 2).
pub fn enable_io_and_dma(f: Function) {
    let cmd = read32(f, 0x04) & 0xffff;
    write32(f, 0x04, cmd | 0x5);
}
