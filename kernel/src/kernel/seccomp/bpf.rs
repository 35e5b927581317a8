//! Classic BPF as seccomp uses it (4.3): `bpf_check_classic` and `check_load_and_stores`
//! from `net/core/filter.c`, `seccomp_check_filter` from `kernel/seccomp.c`, the length
//! the internal-BPF translation gives a filter (`bpf_convert_filter`, which the per-thread
//! instruction limit counts), and an interpreter over `struct seccomp_data`.
//!
//! Everything here takes user-controlled programs: no indexing that can fail, no panics.

use crate::uapi::Errno;

/// `struct sock_filter`: one classic BPF instruction (8 bytes in user memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Generic field (constant, offset, jump offset for `JA`).
    pub k: u32,
}

impl SockFilter {
    /// Size in user memory.
    pub const SIZE: usize = 8;

    /// `BPF_STMT(code, k)`.
    pub const fn stmt(code: u16, k: u32) -> SockFilter {
        SockFilter { code, jt: 0, jf: 0, k }
    }

    /// `BPF_JUMP(code, k, jt, jf)`.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    /// Decodes one instruction from its native-endian (little-endian) bytes.
    pub fn from_bytes(b: [u8; 8]) -> SockFilter {
        SockFilter { code: u16::from_le_bytes([b[0], b[1]]), jt: b[2], jf: b[3], k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]) }
    }

    /// The instruction as user memory holds it.
    pub fn to_bytes(self) -> [u8; 8] {
        let c = self.code.to_le_bytes();
        let k = self.k.to_le_bytes();
        [c[0], c[1], self.jt, self.jf, k[0], k[1], k[2], k[3]]
    }
}

/// Decodes a `sock_filter` array; trailing bytes that do not form an instruction are ignored.
pub fn decode_prog(b: &[u8]) -> alloc::vec::Vec<SockFilter> {
    b.chunks_exact(SockFilter::SIZE)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            SockFilter::from_bytes(a)
        })
        .collect()
}

// include/uapi/linux/bpf_common.h
/// Instruction classes.
pub const BPF_LD: u16 = 0x00;
#[allow(missing_docs)]
pub const BPF_LDX: u16 = 0x01;
#[allow(missing_docs)]
pub const BPF_ST: u16 = 0x02;
#[allow(missing_docs)]
pub const BPF_STX: u16 = 0x03;
#[allow(missing_docs)]
pub const BPF_ALU: u16 = 0x04;
#[allow(missing_docs)]
pub const BPF_JMP: u16 = 0x05;
#[allow(missing_docs)]
pub const BPF_RET: u16 = 0x06;
#[allow(missing_docs)]
pub const BPF_MISC: u16 = 0x07;
/// Load sizes.
pub const BPF_W: u16 = 0x00;
#[allow(missing_docs)]
pub const BPF_H: u16 = 0x08;
#[allow(missing_docs)]
pub const BPF_B: u16 = 0x10;
/// Load modes.
pub const BPF_IMM: u16 = 0x00;
#[allow(missing_docs)]
pub const BPF_ABS: u16 = 0x20;
#[allow(missing_docs)]
pub const BPF_IND: u16 = 0x40;
#[allow(missing_docs)]
pub const BPF_MEM: u16 = 0x60;
#[allow(missing_docs)]
pub const BPF_LEN: u16 = 0x80;
#[allow(missing_docs)]
pub const BPF_MSH: u16 = 0xa0;
/// ALU operations.
pub const BPF_ADD: u16 = 0x00;
#[allow(missing_docs)]
pub const BPF_SUB: u16 = 0x10;
#[allow(missing_docs)]
pub const BPF_MUL: u16 = 0x20;
#[allow(missing_docs)]
pub const BPF_DIV: u16 = 0x30;
#[allow(missing_docs)]
pub const BPF_OR: u16 = 0x40;
#[allow(missing_docs)]
pub const BPF_AND: u16 = 0x50;
#[allow(missing_docs)]
pub const BPF_LSH: u16 = 0x60;
#[allow(missing_docs)]
pub const BPF_RSH: u16 = 0x70;
#[allow(missing_docs)]
pub const BPF_NEG: u16 = 0x80;
#[allow(missing_docs)]
pub const BPF_MOD: u16 = 0x90;
#[allow(missing_docs)]
pub const BPF_XOR: u16 = 0xa0;
/// Jump operations.
pub const BPF_JA: u16 = 0x00;
#[allow(missing_docs)]
pub const BPF_JEQ: u16 = 0x10;
#[allow(missing_docs)]
pub const BPF_JGT: u16 = 0x20;
#[allow(missing_docs)]
pub const BPF_JGE: u16 = 0x30;
#[allow(missing_docs)]
pub const BPF_JSET: u16 = 0x40;
/// Operand sources.
pub const BPF_K: u16 = 0x00;
#[allow(missing_docs)]
pub const BPF_X: u16 = 0x08;
/// `RET` value source: the accumulator.
pub const BPF_A: u16 = 0x10;
/// `MISC` operations.
pub const BPF_TAX: u16 = 0x00;
#[allow(missing_docs)]
pub const BPF_TXA: u16 = 0x80;

/// `BPF_MAXINSNS`.
pub const BPF_MAXINSNS: usize = 4096;
/// `BPF_MEMWORDS`: scratch cells M[0..15].
pub const BPF_MEMWORDS: u32 = 16;
/// `SKF_AD_OFF`: loads at or above this offset are ancillary (socket) data.
const SKF_AD_OFF: u32 = 0xffff_f000;
/// `SKF_AD_MAX` in 4.3 (`SKF_AD_VLAN_TPID` 60 + 4).
const SKF_AD_MAX: u32 = 64;
/// `sizeof(struct seccomp_data)`.
pub const SECCOMP_DATA_SIZE: u32 = 64;

/// Whether `bpf_check_classic`'s `codes[]` table knows the opcode (`chk_code_allowed`).
fn classic_code_allowed(code: u16) -> bool {
    matches!(
        code,
        // ALU, K and X, and NEG.
        0x04 | 0x0c | 0x14 | 0x1c | 0x24 | 0x2c | 0x34 | 0x3c | 0x94 | 0x9c | 0x54 | 0x5c | 0x44 | 0x4c | 0xa4 | 0xac | 0x64 | 0x6c | 0x74 | 0x7c | 0x84
        // LD: W/H/B ABS, W LEN, W/H/B IND, IMM, MEM.
        | 0x20 | 0x28 | 0x30 | 0x80 | 0x40 | 0x48 | 0x50 | 0x00 | 0x60
        // LDX: W LEN, B MSH, IMM, MEM.
        | 0x81 | 0xb1 | 0x01 | 0x61
        // ST, STX, MISC TAX/TXA, RET K/A.
        | 0x02 | 0x03 | 0x07 | 0x87 | 0x06 | 0x16
        // JMP: JA, JEQ/JGT/JGE/JSET with K and X.
        | 0x05 | 0x15 | 0x1d | 0x25 | 0x2d | 0x35 | 0x3d | 0x45 | 0x4d
    )
}

fn is_cond_jump(code: u16) -> bool {
    matches!(code, 0x15 | 0x1d | 0x25 | 0x2d | 0x35 | 0x3d | 0x45 | 0x4d)
}

/// `bpf_check_classic` (4.3): opcodes known, division by constant zero, scratch cell
/// indexes, jumps inside the program, unknown ancillary loads, a final `RET`, then
/// `check_load_and_stores`. Every refusal is `EINVAL`.
pub fn check_classic(filter: &[SockFilter]) -> Result<(), Errno> {
    let flen = filter.len();
    if flen == 0 || flen > BPF_MAXINSNS {
        return Err(Errno::EINVAL);
    }
    for (pc, f) in filter.iter().enumerate() {
        if !classic_code_allowed(f.code) {
            return Err(Errno::EINVAL);
        }
        match f.code {
            // BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_MOD | BPF_K
            0x34 | 0x94 if f.k == 0 => return Err(Errno::EINVAL),
            // LD MEM, LDX MEM, ST, STX
            0x60 | 0x61 | 0x02 | 0x03 if f.k >= BPF_MEMWORDS => return Err(Errno::EINVAL),
            // JA: `k >= flen - pc - 1` is refused (an unsigned compare).
            0x05 if f.k as usize >= flen - pc - 1 => return Err(Errno::EINVAL),
            c if is_cond_jump(c) && (pc + f.jt as usize + 1 >= flen || pc + f.jf as usize + 1 >= flen) => return Err(Errno::EINVAL),
            // LD W/H/B ABS: an ancillary offset must be one bpf_anc_helper knows.
            0x20 | 0x28 | 0x30 if f.k >= SKF_AD_OFF && (f.k - SKF_AD_OFF >= SKF_AD_MAX || f.k % 4 != 0) => return Err(Errno::EINVAL),
            _ => {}
        }
    }
    match filter.last().map(|f| f.code) {
        Some(0x06 | 0x16) => check_load_and_stores(filter),
        _ => Err(Errno::EINVAL),
    }
}

/// `check_load_and_stores`: a scratch cell may only be read where it was written on the
/// way there. 4.3's walk is linear with a mask per jump target: after a jump the
/// fall-through state is "all valid" (the target masks carry the real state), and a
/// `RET` does not reset it, so code after a `RET` inherits what was valid before it.
fn check_load_and_stores(filter: &[SockFilter]) -> Result<(), Errno> {
    let mut masks = alloc::vec![0xffffu16; filter.len()];
    let mut memvalid: u16 = 0;
    for (pc, f) in filter.iter().enumerate() {
        memvalid &= masks.get(pc).copied().unwrap_or(0);
        let bit = 1u16.checked_shl(f.k).unwrap_or(0);
        match f.code {
            0x02 | 0x03 => memvalid |= bit,
            0x60 | 0x61 if memvalid & bit == 0 => return Err(Errno::EINVAL),
            0x05 => {
                if let Some(m) = masks.get_mut(pc + 1 + f.k as usize) {
                    *m &= memvalid;
                }
                memvalid = 0xffff;
            }
            c if is_cond_jump(c) => {
                for off in [f.jt, f.jf] {
                    if let Some(m) = masks.get_mut(pc + 1 + off as usize) {
                        *m &= memvalid;
                    }
                }
                memvalid = 0xffff;
            }
            _ => {}
        }
    }
    Ok(())
}

/// `seccomp_check_filter`: the opcodes a seccomp filter may use; `LD|W|ABS` only of an
/// aligned word inside `struct seccomp_data`. (4.3 also rewrites the loads; the
/// interpreter here executes the classic opcodes directly with the same meaning.)
pub fn seccomp_check(filter: &[SockFilter]) -> Result<(), Errno> {
    for f in filter {
        match f.code {
            0x20 => {
                if f.k >= SECCOMP_DATA_SIZE || f.k & 3 != 0 {
                    return Err(Errno::EINVAL);
                }
            }
            0x80 | 0x81 => {}
            0x06 | 0x16 => {}
            0x04 | 0x0c | 0x14 | 0x1c | 0x24 | 0x2c | 0x34 | 0x3c | 0x54 | 0x5c | 0x44 | 0x4c | 0xa4 | 0xac | 0x64 | 0x6c | 0x74 | 0x7c | 0x84 => {}
            0x00 | 0x01 | 0x07 | 0x87 | 0x60 | 0x61 | 0x02 | 0x03 => {}
            0x05 | 0x15 | 0x1d | 0x25 | 0x2d | 0x35 | 0x3d | 0x45 | 0x4d => {}
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(())
}

/// The whole check a seccomp filter passes in 4.3: `bpf_prepare_filter` runs the classic
/// checker, then the seccomp whitelist.
pub fn check(filter: &[SockFilter]) -> Result<(), Errno> {
    check_classic(filter)?;
    seccomp_check(filter)
}

/// Length of the internal-BPF program 4.3 translates an accepted filter into
/// (`bpf_convert_filter`): what `seccomp_attach_filter` adds up against
/// `MAX_INSNS_PER_PATH`. One instruction of prologue; `RET` is a move plus an exit;
/// a conditional jump is one instruction when `jf == 0` or it is a `JEQ` with
/// `jt == 0`, else two; a negative constant operand costs one more move.
pub fn translated_len(filter: &[SockFilter]) -> u32 {
    let mut n: u32 = 1;
    for f in filter {
        n += match f.code {
            0x06 | 0x16 => 2,
            c if is_cond_jump(c) => {
                let imm = u32::from(c & BPF_X == 0 && (f.k as i32) < 0);
                let one = f.jf == 0 || (f.jt == 0 && c & 0xf0 == BPF_JEQ);
                imm + if one { 1 } else { 2 }
            }
            _ => 1,
        };
    }
    n
}

/// `struct seccomp_data`: what a filter reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeccompData {
    /// Syscall number (the low 32 bits of the number register).
    pub nr: i32,
    /// `AUDIT_ARCH_*`.
    pub arch: u32,
    /// User instruction pointer at the syscall.
    pub instruction_pointer: u64,
    /// The six argument registers, always 64-bit.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 64 bytes in native (little-endian) order.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_le_bytes());
        b[4..8].copy_from_slice(&self.arch.to_le_bytes());
        b[8..16].copy_from_slice(&self.instruction_pointer.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        b
    }

    /// Builds one from 64 bytes.
    pub fn from_bytes(b: &[u8; 64]) -> SeccompData {
        let w = |o: usize| u64::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7]]);
        let mut args = [0u64; 6];
        for (i, a) in args.iter_mut().enumerate() {
            *a = w(16 + 8 * i);
        }
        SeccompData { nr: w(0) as u32 as i32, arch: (w(0) >> 32) as u32, instruction_pointer: w(8), args }
    }
}

/// Runs `filter` on `data`: the return value and how many instructions executed.
/// Meant for programs [`check`] accepted (then it never takes more than `len` steps, as
/// every jump goes forward); anything else it cannot execute returns 0
/// (`SECCOMP_RET_KILL`) rather than misbehaving.
pub fn run(filter: &[SockFilter], data: &SeccompData) -> (u32, usize) {
    let bytes = data.to_bytes();
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; BPF_MEMWORDS as usize];
    let mut pc: usize = 0;
    let mut steps = 0usize;
    while let Some(f) = filter.get(pc) {
        steps += 1;
        if steps > filter.len() {
            // Cannot happen for a checked program; the bound keeps anything else finite.
            return (0, steps);
        }
        pc += 1;
        let k = f.k;
        let src = if f.code & BPF_X != 0 { x } else { k };
        match f.code {
            0x20 => {
                let o = k as usize;
                match bytes.get(o..o.wrapping_add(4)) {
                    Some(w) if o.is_multiple_of(4) => a = u32::from_le_bytes([w[0], w[1], w[2], w[3]]),
                    _ => return (0, steps),
                }
            }
            0x80 => a = SECCOMP_DATA_SIZE,
            0x81 => x = SECCOMP_DATA_SIZE,
            0x00 => a = k,
            0x01 => x = k,
            0x60 => a = *mem.get(k as usize).unwrap_or(&0),
            0x61 => x = *mem.get(k as usize).unwrap_or(&0),
            0x02 => match mem.get_mut(k as usize) {
                Some(m) => *m = a,
                None => return (0, steps),
            },
            0x03 => match mem.get_mut(k as usize) {
                Some(m) => *m = x,
                None => return (0, steps),
            },
            0x04 | 0x0c => a = a.wrapping_add(src),
            0x14 | 0x1c => a = a.wrapping_sub(src),
            0x24 | 0x2c => a = a.wrapping_mul(src),
            0x34 | 0x3c => match a.checked_div(src) {
                Some(v) => a = v,
                // Division by X == 0 ends the program with 0 (the interpreter's check).
                None => return (0, steps),
            },
            0x44 | 0x4c => a |= src,
            0x54 | 0x5c => a &= src,
            // Shift counts are taken modulo 32, as x86's 32-bit shifts do.
            0x64 | 0x6c => a = a.wrapping_shl(src),
            0x74 | 0x7c => a = a.wrapping_shr(src),
            0xa4 | 0xac => a ^= src,
            0x84 => a = a.wrapping_neg(),
            0x07 => x = a,
            0x87 => a = x,
            0x05 => pc = pc.saturating_add(k as usize),
            0x15 | 0x1d | 0x25 | 0x2d | 0x35 | 0x3d | 0x45 | 0x4d => {
                let taken = match f.code & 0xf0 {
                    BPF_JEQ => a == src,
                    BPF_JGT => a > src,
                    BPF_JGE => a >= src,
                    _ => a & src != 0,
                };
                pc += if taken { f.jt as usize } else { f.jf as usize };
            }
            0x06 => return (k, steps),
            0x16 => return (a, steps),
            _ => return (0, steps),
        }
    }
    // Fell off the end (only an unchecked program can).
    (0, steps)
}

/// Names the scenario language and the tracer use for opcode parts and return values.
pub static BPF_NAMES: &[(&str, u32)] = &[
    ("BPF_LD", 0x00),
    ("BPF_LDX", 0x01),
    ("BPF_ST", 0x02),
    ("BPF_STX", 0x03),
    ("BPF_ALU", 0x04),
    ("BPF_JMP", 0x05),
    ("BPF_RET", 0x06),
    ("BPF_MISC", 0x07),
    ("BPF_W", 0x00),
    ("BPF_H", 0x08),
    ("BPF_B", 0x10),
    ("BPF_IMM", 0x00),
    ("BPF_ABS", 0x20),
    ("BPF_IND", 0x40),
    ("BPF_MEM", 0x60),
    ("BPF_LEN", 0x80),
    ("BPF_MSH", 0xa0),
    ("BPF_ADD", 0x00),
    ("BPF_SUB", 0x10),
    ("BPF_MUL", 0x20),
    ("BPF_DIV", 0x30),
    ("BPF_OR", 0x40),
    ("BPF_AND", 0x50),
    ("BPF_LSH", 0x60),
    ("BPF_RSH", 0x70),
    ("BPF_NEG", 0x80),
    ("BPF_MOD", 0x90),
    ("BPF_XOR", 0xa0),
    ("BPF_JA", 0x00),
    ("BPF_JEQ", 0x10),
    ("BPF_JGT", 0x20),
    ("BPF_JGE", 0x30),
    ("BPF_JSET", 0x40),
    ("BPF_K", 0x00),
    ("BPF_X", 0x08),
    ("BPF_A", 0x10),
    ("BPF_TAX", 0x00),
    ("BPF_TXA", 0x80),
    ("SECCOMP_RET_KILL", super::SECCOMP_RET_KILL),
    ("SECCOMP_RET_TRAP", super::SECCOMP_RET_TRAP),
    ("SECCOMP_RET_ERRNO", super::SECCOMP_RET_ERRNO),
    ("SECCOMP_RET_TRACE", super::SECCOMP_RET_TRACE),
    ("SECCOMP_RET_ALLOW", super::SECCOMP_RET_ALLOW),
    ("SECCOMP_RET_ACTION", super::SECCOMP_RET_ACTION),
    ("SECCOMP_RET_DATA", super::SECCOMP_RET_DATA),
    ("AUDIT_ARCH_X86_64", super::AUDIT_ARCH_X86_64),
    ("AUDIT_ARCH_AARCH64", super::AUDIT_ARCH_AARCH64),
    ("AUDIT_ARCH_I386", super::AUDIT_ARCH_I386),
    ("SECCOMP_MODE_DISABLED", super::SECCOMP_MODE_DISABLED),
    ("SECCOMP_MODE_STRICT", super::SECCOMP_MODE_STRICT),
    ("SECCOMP_MODE_FILTER", super::SECCOMP_MODE_FILTER),
];

/// Looks a [`BPF_NAMES`] entry up.
pub fn name_value(name: &str) -> Option<u32> {
    BPF_NAMES.iter().find(|n| n.0 == name).map(|n| n.1)
}
