//! `printk`: kernel messages with a dmesg-style virtual timestamp, kept in a log buffer
//! (`dmesg`) and written to the HAL console.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// Most messages the log buffer keeps (`log_buf_len` analogue); older ones are dropped.
const LOG_LINES_MAX: usize = 4096;

/// The kernel log buffer.
#[derive(Default)]
pub struct LogBuf {
    lines: Vec<String>,
}

impl LogBuf {
    /// Formats one message at monotonic time `now_ns` as `[    1.000000] text`.
    pub fn format(now_ns: u64, args: core::fmt::Arguments<'_>) -> String {
        let mut s = String::new();
        let _ = write!(s, "[{:5}.{:06}] ", now_ns / 1_000_000_000, (now_ns % 1_000_000_000) / 1000);
        let _ = s.write_fmt(args);
        s
    }

    /// Appends a formatted line.
    pub fn push(&mut self, line: String) {
        if self.lines.len() == LOG_LINES_MAX {
            self.lines.remove(0);
        }
        self.lines.push(line);
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

/// `printk!(kernel, "fmt", args…)`: log a kernel message.
#[macro_export]
macro_rules! printk {
    ($k:expr, $($arg:tt)*) => {
        $k.printk(format_args!($($arg)*))
    };
}
