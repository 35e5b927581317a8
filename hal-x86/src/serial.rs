//! COM1 (16550 UART at 0x3F8): the machine's own console. Scenario output does not go
//! here directly (the HAL buffers it, see `hal.rs`); boot messages, traces and fault
//! reports do.

use core::fmt::{self, Write};
use x86_64::instructions::port::Port;

const COM1: u16 = 0x3F8;

/// Programs COM1: 115200 8N1, FIFO on, interrupts off.
pub fn init() {
    let regs: [(u16, u8); 7] = [
        (1, 0x00), // IER: no interrupts
        (3, 0x80), // LCR: DLAB on
        (0, 0x01), // DLL: divisor 1 (115200 baud)
        (1, 0x00), // DLM
        (3, 0x03), // LCR: 8N1, DLAB off
        (2, 0xC7), // FCR: enable and clear FIFOs, 14-byte threshold
        (4, 0x0B), // MCR: DTR, RTS, OUT2
    ];
    for (off, val) in regs {
        // SAFETY: COM1's registers are I/O ports owned by this module; writing them only
        // reconfigures the UART.
        unsafe { Port::<u8>::new(COM1 + off).write(val) };
    }
}

/// Writes raw bytes, waiting for the transmit holding register before each one.
pub fn write_bytes(bytes: &[u8]) {
    let mut lsr = Port::<u8>::new(COM1 + 5);
    let mut thr = Port::<u8>::new(COM1);
    for &b in bytes {
        // SAFETY: reading LSR and writing THR of COM1 have no effect beyond the UART.
        unsafe {
            while lsr.read() & 0x20 == 0 {
                core::hint::spin_loop();
            }
            thr.write(b);
        }
    }
}

/// `core::fmt` sink over COM1.
pub struct Serial;

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Prints formatted text to COM1.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::serial::Serial, format_args!($($arg)*));
    }};
}

/// Prints formatted text and a newline to COM1.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        $crate::print!($($arg)*);
        $crate::print!("\n");
    }};
}
