//! A pmem disk through the syscall interface: the `/dev/pmem0` node the boot-time probe
//! makes (brw-rw---- root:disk, 259:0), positional read/write/lseek on the raw device, and
//! DAX mmap: a shared mapping maps the device pfns (stores land in the media, no frame
//! references, fork copies the PTEs), a private one copies on write into RAM; the media
//! outlives a reboot of the simulated machine.

use hal_sim::{PmemImage, SimConfig, SimHal, PMEM_BASE};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::{KEvent, Kernel, KernelConfig};

const PAGE: u64 = 4096;
const PMEM: u64 = 16 << 20;
const AT_FDCWD: u64 = -100i64 as u64;
const O_RDWR: u64 = 2;
const SEEK_SET: u64 = 0;
const SEEK_END: u64 = 2;
const ENOSPC: i64 = -28;
const EINVAL: i64 = -22;

fn config() -> SimConfig {
    SimConfig { seed: 1, ram_bytes: 16 << 20, cpus: 1 }
}

struct K {
    k: Kernel<SimHal>,
    log: Vec<(i32, i64)>,
}

impl K {
    fn boot(hal: SimHal) -> K {
        K { k: Kernel::new(hal, KernelConfig::default()), log: Vec::new() }
    }

    fn call(&mut self, pid: i32, s: Sysno, args: [u64; 6]) -> i64 {
        let nr = s.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
        self.k.submit(pid, nr, args).expect("submit");
        for _ in 0..10_000 {
            if !self.k.step() {
                break;
            }
        }
        let evs: Vec<(i32, i64)> = self.k.take_events().filter_map(|e| match e {
            KEvent::SyscallReturn { pid, ret, .. } => Some((pid, ret)),
            _ => None,
        }).collect();
        self.log.extend(evs);
        assert_eq!(self.k.check_invariants(), Ok(()));
        let i = self.log.iter().position(|&(p, _)| p == pid).expect("the call returned");
        self.log.remove(i).1
    }

    fn put(&mut self, pid: i32, addr: u64, bytes: &[u8]) {
        let mut b = bytes.to_vec();
        self.k.user_mode_access(pid, addr, &mut b, true).expect("user memory");
        assert_eq!(self.k.check_invariants(), Ok(()));
    }

    fn get(&mut self, pid: i32, addr: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.k.user_mode_access(pid, addr, &mut b, false).expect("user memory");
        b
    }

    /// A root process with a scratch page holding "/dev/pmem0"; returns (pid, scratch, fd).
    fn open_pmem(&mut self) -> (i32, u64, i64) {
        let pid = self.k.create_process(Cred::new(0, 0), "t", 0).expect("spawn");
        let scratch = self.call(pid, Sysno::Mmap, [0, PAGE, 3, 0x22, u64::MAX, 0]) as u64;
        self.put(pid, scratch, b"/dev/pmem0\0");
        let fd = self.call(pid, Sysno::Openat, [AT_FDCWD, scratch, O_RDWR, 0, 0, 0]);
        assert!(fd >= 0, "open /dev/pmem0: {fd}");
        (pid, scratch, fd)
    }

    fn media(&self, off: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        assert!(self.k.hal.pmem_image().expect("pmem").read(off, &mut b));
        b
    }
}

fn machine() -> SimHal {
    SimHal::new(config()).with_pmem(PmemImage::new(PMEM_BASE, PMEM))
}

#[test]
fn dev_pmem0_is_a_block_device_259_0() {
    let mut k = K::boot(machine());
    let (pid, scratch, _) = k.open_pmem();
    assert_eq!(k.call(pid, Sysno::Newfstatat, [AT_FDCWD, scratch, scratch + 512, 0, 0, 0]), 0);
    let st = k.get(pid, scratch + 512, 144);
    let u32_at = |o: usize| u32::from_le_bytes(st[o..o + 4].try_into().unwrap());
    assert_eq!(u32_at(24), 0o060660, "st_mode");
    assert_eq!((u32_at(28), u32_at(32)), (0, 6), "root:disk");
    assert_eq!(u64::from_le_bytes(st[40..48].try_into().unwrap()), kernel::uapi::stat::makedev(259, 0));
    // A machine without pmem has no node.
    let k2 = K::boot(SimHal::new(config()));
    assert!(k2.k.admin_read(b"/dev/pmem0").is_err());
    let iomem = String::from_utf8(k.k.admin_read(b"/proc/iomem").unwrap()).unwrap();
    assert!(iomem.contains("  100000000-100ffffff : namespace0.0\n"), "{iomem}");
}

#[test]
fn read_write_lseek_are_positional_and_bounded_by_the_disk() {
    let mut k = K::boot(machine());
    let (pid, scratch, fd) = k.open_pmem();
    let fd = fd as u64;
    k.put(pid, scratch + 1024, b"hello");
    assert_eq!(k.call(pid, Sysno::Lseek, [fd, 4096, SEEK_SET, 0, 0, 0]), 4096);
    assert_eq!(k.call(pid, Sysno::Write, [fd, scratch + 1024, 5, 0, 0, 0]), 5);
    assert_eq!(k.media(4096, 5), b"hello");
    assert_eq!(k.call(pid, Sysno::Lseek, [fd, 4097, SEEK_SET, 0, 0, 0]), 4097);
    assert_eq!(k.call(pid, Sysno::Read, [fd, scratch + 2048, 4, 0, 0, 0]), 4);
    assert_eq!(k.get(pid, scratch + 2048, 4), b"ello");
    // The end: reads return 0, writes ENOSPC, a write across it is cut short.
    assert_eq!(k.call(pid, Sysno::Lseek, [fd, 0, SEEK_END, 0, 0, 0]), PMEM as i64);
    assert_eq!(k.call(pid, Sysno::Read, [fd, scratch + 2048, 4, 0, 0, 0]), 0);
    assert_eq!(k.call(pid, Sysno::Write, [fd, scratch + 1024, 5, 0, 0, 0]), ENOSPC);
    assert_eq!(k.call(pid, Sysno::Lseek, [fd, 1, SEEK_END, 0, 0, 0]), EINVAL);
    assert_eq!(k.call(pid, Sysno::Lseek, [fd, -2i64 as u64, SEEK_END, 0, 0, 0]), PMEM as i64 - 2);
    assert_eq!(k.call(pid, Sysno::Write, [fd, scratch + 1024, 5, 0, 0, 0]), 2);
    assert_eq!(k.media(PMEM - 2, 2), b"he");
}

#[test]
fn dax_mmap_shared_stores_reach_the_media_and_survive_a_reboot() {
    let mut k = K::boot(machine());
    let (pid, _, fd) = k.open_pmem();
    let used = k.k.frames_used();
    // PROT_READ|PROT_WRITE, MAP_SHARED, offset one page.
    let p = k.call(pid, Sysno::Mmap, [0, 2 * PAGE, 3, 0x01, fd as u64, PAGE]) as u64;
    assert!(p < 1 << 47, "mmap: {p:#x}");
    k.put(pid, p + 8, b"persist");
    assert_eq!(k.media(PAGE + 8, 7), b"persist");
    // The pfn is mapped itself: no frame was taken.
    assert_eq!(k.k.frames_used(), used);
    let maps = String::from_utf8(k.k.admin_read(format!("/proc/{pid}/maps").as_bytes()).unwrap()).unwrap();
    assert!(maps.lines().any(|l| l.contains(" rw-s 00001000 ") && l.ends_with("/dev/pmem0")), "{maps}");
    // fork copies the pfn PTEs of the VM_MIXEDMAP VMA, again without references.
    let child = k.call(pid, Sysno::Fork, [0; 6]) as i32;
    assert!(child > 0);
    assert_eq!(k.get(child, p + 8, 7), b"persist");
    k.put(child, p + PAGE, b"child");
    assert_eq!(k.media(2 * PAGE, 5), b"child");
    // A private mapping: loads see the media, a store copies into RAM.
    let q = k.call(pid, Sysno::Mmap, [0, PAGE, 3, 0x02, fd as u64, PAGE]) as u64;
    assert_eq!(k.get(pid, q + 8, 7), b"persist");
    k.put(pid, q + 8, b"PRIVATE");
    assert_eq!(k.get(pid, q + 8, 7), b"PRIVATE");
    assert_eq!(k.media(PAGE + 8, 7), b"persist");
    assert_eq!(k.get(pid, p + 8, 7), b"persist");
    assert_eq!(k.call(pid, Sysno::Munmap, [p, 2 * PAGE, 0, 0, 0, 0]), 0);
    // Power cycle: RAM is gone, the media stays.
    let hal = k.k.hal.reboot(config());
    let mut k = K::boot(hal);
    let (pid, _, fd) = k.open_pmem();
    let p = k.call(pid, Sysno::Mmap, [0, PAGE, 1, 0x01, fd as u64, PAGE]) as u64;
    assert_eq!(k.get(pid, p + 8, 7), b"persist");
    // Past the end of the disk: SIGBUS territory, the mmap itself succeeds.
    assert!(k.call(pid, Sysno::Mmap, [0, PAGE, 1, 0x01, fd as u64, PMEM]) > 0);
}

fn failure_of(src: &str) -> Option<String> {
    harness::sim::run_source("t.scn", src, 1, false).expect("parses").failure
}

#[test]
fn scenario_reboot_forgets_the_old_tasks_and_keeps_pmem() {
    let f = failure_of("host h1 pmem=16\nspawn t1\nreboot\nt1: getpid() = 2\n").expect("t1 is gone");
    assert!(f.contains("task 't1' was on host h1, which rebooted"), "{f}");
    // A label may be spawned again after the reboot.
    assert_eq!(failure_of("host h1 pmem=16\nspawn t1\nreboot h1\nspawn t1\nt1: getpid() = 2\n"), None);
    assert!(failure_of("reboot nosuch\n").expect("no such host").contains("no host named 'nosuch'"));
    // RAM reaching 4 GiB leaves no room for pmem there: a failure, not a panic.
    let f = failure_of("host h1 ram=4096 pmem=16\n").expect("does not fit");
    assert!(f.contains("pmem does not fit"), "{f}");
}

#[test]
fn pmem_and_reboot_scenarios_are_not_embeddable() {
    assert!(harness::qemu::not_embeddable("host h1 pmem=16\n").is_some());
    assert!(harness::qemu::not_embeddable("spawn t\nreboot\n").is_some());
    assert!(harness::qemu::not_embeddable("host h1 ram=32\n").is_none());
}
