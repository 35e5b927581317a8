//! `fs/proc/task_mmu.c`: `/proc/<pid>/maps` (`show_map_vma`) and the `Vm*` lines of
//! `/proc/<pid>/status` (`task_mem`), in 4.3's exact text.
//!
//! What k43 leaves out: the `[vdso]`, `[vvar]` and `[vsyscall]` lines (there is no vDSO);
//! `[stack:TID]` for thread stacks (tasks have no user stack pointer; only the VMA holding
//! `mm->start_stack` is `[stack]`).

use crate::hal::{Hal, PAGE_SIZE};
use crate::kernel::{Kernel, Pid};
use crate::mm::{Mapping, Mm, Vma, VM_EXEC, VM_GROWSDOWN, VM_MAYSHARE, VM_READ, VM_WRITE};
use crate::uapi::Errno;
use alloc::string::String;
use core::fmt::Write;

/// `seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)`: the column names start after.
const NAME_COLUMN: usize = 25 + 8 * 6 - 1;

/// `stack_guard_page_start`: a growsdown VMA with no growsdown VMA right below hides its
/// lowest page.
fn hides_guard_page(mm: &Mm, i: usize) -> bool {
    let v = &mm.vmas[i];
    v.flags & VM_GROWSDOWN != 0 && !(i > 0 && mm.vmas[i - 1].end == v.start && mm.vmas[i - 1].flags & VM_GROWSDOWN != 0)
}

impl<H: Hal> Kernel<H> {
    /// `/proc/<pid>/maps`.
    pub fn proc_pid_maps(&self, pid: Pid) -> Result<String, Errno> {
        let t = self.task(pid).ok_or(Errno::ESRCH)?;
        let mut s = String::new();
        // A zombie has no mm: an empty file.
        let Some(mm) = self.mms.get(&t.mm).filter(|_| t.state != crate::kernel::TaskState::Zombie) else { return Ok(s) };
        for (i, v) in mm.vmas.iter().enumerate() {
            let start = if hides_guard_page(mm, i) { v.start + PAGE_SIZE } else { v.start };
            self.show_map_vma(&mut s, mm, v, start);
        }
        Ok(s)
    }

    fn show_map_vma(&self, s: &mut String, mm: &Mm, v: &Vma, start: u64) {
        let line_start = s.len();
        let (dev, ino, pgoff) = match &v.file {
            Some(f) => (f.dev, f.ino, v.pgoff.wrapping_mul(PAGE_SIZE)),
            None => (0, 0, 0),
        };
        let flag = |bit, c| if v.flags & bit != 0 { c } else { '-' };
        let _ = write!(
            s,
            "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
            start,
            v.end,
            flag(VM_READ, 'r'),
            flag(VM_WRITE, 'w'),
            flag(VM_EXEC, 'x'),
            if v.flags & VM_MAYSHARE != 0 { 's' } else { 'p' },
            pgoff,
            (dev >> 8) & 0xfff,
            dev & 0xff,
            ino
        );
        let name: Option<String> = match &v.file {
            Some(f) => {
                let deleted = match f.mapping {
                    Mapping::Ram(ino) => self.vfs.ram.get(ino).is_none_or(|i| i.nlink == 0),
                    Mapping::Shmem(_) => true,
                    Mapping::Dax { .. } => false,
                };
                let mut n = f.path.replace('\n', "\\012");
                if deleted {
                    n.push_str(" (deleted)");
                }
                Some(n)
            }
            None if v.start <= mm.brk && v.end >= mm.start_brk => Some(String::from("[heap]")),
            None if v.start <= mm.start_stack && v.end >= mm.start_stack => Some(String::from("[stack]")),
            None => None,
        };
        if let Some(n) = name {
            // seq_pad: spaces up to the name column, then one more.
            let used = s.len() - line_start;
            for _ in used..NAME_COLUMN {
                s.push(' ');
            }
            s.push(' ');
            s.push_str(&n);
        }
        s.push('\n');
    }

    /// The `Vm*` lines of `/proc/<pid>/status` (`task_mem`), from the VMAs and pages.
    pub fn task_mem(&self, mm: &Mm) -> String {
        let kb = |pages: u64| pages * (PAGE_SIZE / 1024);
        let total = mm.total_vm();
        let file: u64 = mm.vmas.iter().filter(|v| matches!(v.file.as_ref().map(|f| f.mapping), Some(Mapping::Ram(_)))).map(Vma::pages).sum();
        let stack: u64 = mm.vmas.iter().filter(|v| v.flags & VM_GROWSDOWN != 0).map(Vma::pages).sum();
        let exec: u64 = mm.vmas.iter().filter(|v| v.file.is_some() && v.flags & (VM_EXEC | VM_WRITE) == VM_EXEC).map(Vma::pages).sum();
        let text = (mm.end_code.next_multiple_of(PAGE_SIZE) - (mm.start_code & !(PAGE_SIZE - 1))) / PAGE_SIZE;
        let rss = mm.rss();
        // One page-table page per 2 MiB with present pages, one PMD page per 1 GiB.
        let mut ptes = alloc::collections::BTreeSet::new();
        let mut pmds = alloc::collections::BTreeSet::new();
        for &va in mm.pages.keys() {
            ptes.insert(va >> 21);
            pmds.insert(va >> 30);
        }
        let mut s = String::new();
        let _ = write!(
            s,
            "VmPeak:\t{:8} kB\nVmSize:\t{:8} kB\nVmLck:\t{:8} kB\nVmPin:\t{:8} kB\nVmHWM:\t{:8} kB\nVmRSS:\t{:8} kB\nVmData:\t{:8} kB\nVmStk:\t{:8} kB\nVmExe:\t{:8} kB\nVmLib:\t{:8} kB\nVmPTE:\t{:8} kB\nVmPMD:\t{:8} kB\nVmSwap:\t{:8} kB\n",
            kb(mm.hiwater_vm.max(total)),
            kb(total),
            kb(mm.locked_vm()),
            0,
            kb(mm.hiwater_rss.max(rss)),
            kb(rss),
            kb(total - file - stack),
            kb(stack),
            kb(text),
            kb(exec.saturating_sub(text)),
            ptes.len() as u64 * 4,
            pmds.len() as u64 * 4,
            0
        );
        s
    }
}
