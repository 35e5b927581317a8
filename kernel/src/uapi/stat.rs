//! `include/uapi/linux/stat.h` and x86_64's `struct stat` (`arch/x86/include/uapi/asm/stat.h`).

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_ISUID: u32 = 0o4000;
pub const S_ISGID: u32 = 0o2000;
pub const S_ISVTX: u32 = 0o1000;
pub const S_IRWXUGO: u32 = 0o777;
pub const S_IALLUGO: u32 = 0o7777;
pub const S_IXGRP: u32 = 0o010;

/// x86_64 `struct stat`: 144 bytes. Field offsets are those of the kernel's layout.
pub const STAT_SIZE_X86_64: usize = 144;
/// arm64 (asm-generic) `struct stat`: 128 bytes.
pub const STAT_SIZE_GENERIC: usize = 128;

/// The kernel's view of a `stat` result, before it is laid out for an architecture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kstat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: u32,
    pub blocks: u64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    buf[off..off + bytes.len()].copy_from_slice(bytes);
}

fn get<const N: usize>(buf: &[u8], off: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&buf[off..off + N]);
    a
}

impl Kstat {
    /// Lays the result out as x86_64's `struct stat` (`cp_new_stat`).
    pub fn to_x86_64(&self) -> [u8; STAT_SIZE_X86_64] {
        let mut b = [0u8; STAT_SIZE_X86_64];
        put(&mut b, 0, &self.dev.to_le_bytes());
        put(&mut b, 8, &self.ino.to_le_bytes());
        put(&mut b, 16, &(self.nlink as u64).to_le_bytes());
        put(&mut b, 24, &self.mode.to_le_bytes());
        put(&mut b, 28, &self.uid.to_le_bytes());
        put(&mut b, 32, &self.gid.to_le_bytes());
        put(&mut b, 40, &self.rdev.to_le_bytes());
        put(&mut b, 48, &self.size.to_le_bytes());
        put(&mut b, 56, &(self.blksize as i64).to_le_bytes());
        put(&mut b, 64, &(self.blocks as i64).to_le_bytes());
        for (i, t) in [self.atime, self.mtime, self.ctime].iter().enumerate() {
            put(&mut b, 72 + 16 * i, &t.0.to_le_bytes());
            put(&mut b, 80 + 16 * i, &t.1.to_le_bytes());
        }
        b
    }

    /// Reads x86_64's `struct stat` back (the tracer's and the scenario checker's view).
    pub fn from_x86_64(b: &[u8; STAT_SIZE_X86_64]) -> Kstat {
        let t = |i: usize| (i64::from_le_bytes(get(b, 72 + 16 * i)), i64::from_le_bytes(get(b, 80 + 16 * i)));
        Kstat {
            dev: u64::from_le_bytes(get(b, 0)),
            ino: u64::from_le_bytes(get(b, 8)),
            nlink: u64::from_le_bytes(get(b, 16)) as u32,
            mode: u32::from_le_bytes(get(b, 24)),
            uid: u32::from_le_bytes(get(b, 28)),
            gid: u32::from_le_bytes(get(b, 32)),
            rdev: u64::from_le_bytes(get(b, 40)),
            size: i64::from_le_bytes(get(b, 48)),
            blksize: i64::from_le_bytes(get(b, 56)) as u32,
            blocks: i64::from_le_bytes(get(b, 64)) as u64,
            atime: t(0),
            mtime: t(1),
            ctime: t(2),
        }
    }

    /// Lays the result out as the asm-generic `struct stat` arm64 uses.
    pub fn to_generic(&self) -> [u8; STAT_SIZE_GENERIC] {
        let mut b = [0u8; STAT_SIZE_GENERIC];
        put(&mut b, 0, &self.dev.to_le_bytes());
        put(&mut b, 8, &self.ino.to_le_bytes());
        put(&mut b, 16, &self.mode.to_le_bytes());
        put(&mut b, 20, &self.nlink.to_le_bytes());
        put(&mut b, 24, &self.uid.to_le_bytes());
        put(&mut b, 28, &self.gid.to_le_bytes());
        put(&mut b, 32, &self.rdev.to_le_bytes());
        put(&mut b, 48, &self.size.to_le_bytes());
        put(&mut b, 56, &(self.blksize as i32).to_le_bytes());
        put(&mut b, 64, &(self.blocks as i64).to_le_bytes());
        for (i, t) in [self.atime, self.mtime, self.ctime].iter().enumerate() {
            put(&mut b, 72 + 16 * i, &t.0.to_le_bytes());
            put(&mut b, 80 + 16 * i, &t.1.to_le_bytes());
        }
        b
    }
}

/// `huge_encode_dev`-style `makedev` as glibc and strace decode it.
pub fn makedev(major: u32, minor: u32) -> u64 {
    ((major as u64 & 0xfff) << 8) | (minor as u64 & 0xff) | ((minor as u64 & !0xff) << 12) | ((major as u64 & !0xfff) << 32)
}
