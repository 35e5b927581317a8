//! seccomp's classic-BPF checker and interpreter over random programs (issue 4, item 6):
//! the checker never panics, every accepted program terminates within its length in
//! steps, and filter stacking picks the lowest action whatever the installation order.

use kernel::kernel::seccomp::bpf::{self, SeccompData, SockFilter};
use kernel::kernel::seccomp::*;
use proptest::prelude::*;
use std::sync::Arc;

/// Opcodes seccomp accepts, the ones it refuses, and random bits.
const GOOD: &[u16] = &[
    0x20, 0x80, 0x81, 0x00, 0x01, 0x60, 0x61, 0x02, 0x03, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0xa4, 0xac, 0x84, 0x07, 0x87, 0x05, 0x15, 0x1d, 0x25,
    0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x06, 0x16,
];
const BAD: &[u16] = &[0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x94, 0x9c, 0x0e, 0x1e, 0xffff, 0x21];

/// One instruction, biased towards ones that pass the checker at position `pc` of `len`.
fn insn() -> impl Strategy<Value = (u16, u32, u8, u8, u8)> {
    (
        prop_oneof![8 => proptest::sample::select(GOOD), 1 => proptest::sample::select(BAD), 1 => any::<u16>()],
        prop_oneof![4 => (0u32..16).prop_map(|k| k * 4), 2 => 0u32..20, 1 => Just(0x7fff_0000u32), 1 => Just(0x0005_0001u32), 1 => any::<u32>()],
        prop_oneof![4 => 0u8..4, 1 => any::<u8>()],
        prop_oneof![4 => 0u8..4, 1 => any::<u8>()],
        any::<u8>(),
    )
}

/// Builds a program; `fix` keeps most jumps in range and ends most programs on a RET so
/// that a good share of the programs are accepted.
fn program() -> impl Strategy<Value = Vec<SockFilter>> {
    (proptest::collection::vec(insn(), 1..48), any::<bool>(), any::<u32>()).prop_map(|(raw, fix, ret)| {
        let len = raw.len();
        let mut p: Vec<SockFilter> = raw
            .iter()
            .enumerate()
            .map(|(pc, &(code, k, jt, jf, sel))| {
                let room = (len - pc - 1) as u32;
                if fix && code & 7 == 5 && room > 0 {
                    if code == 0x05 {
                        return SockFilter { code, jt: 0, jf: 0, k: k % room };
                    }
                    return SockFilter { code, jt: (jt as u32 % room) as u8, jf: (jf as u32 % room) as u8, k };
                }
                if fix && matches!(code, 0x60 | 0x61 | 0x02 | 0x03) {
                    return SockFilter { code, jt: 0, jf: 0, k: k % 16 };
                }
                let _ = sel;
                SockFilter { code, jt, jf, k }
            })
            .collect();
        if fix {
            if let Some(last) = p.last_mut() {
                *last = SockFilter::stmt(if ret & 1 == 0 { 0x06 } else { 0x16 }, ret);
            }
        }
        p
    })
}

fn data() -> impl Strategy<Value = SeccompData> {
    (prop_oneof![0i32..400, any::<i32>()], proptest::array::uniform6(prop_oneof![0u64..8, any::<u64>()]))
        .prop_map(|(nr, args)| SeccompData { nr, arch: AUDIT_ARCH_X86_64, instruction_pointer: 0, args })
}

fn chain(progs: &[Vec<SockFilter>]) -> Option<Arc<FilterNode>> {
    let mut top = None;
    for p in progs {
        top = Some(Arc::new(FilterNode { prog: p.clone(), clen: bpf::translated_len(p), prev: top }));
    }
    top
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The checker never panics; an accepted program ends within `len` steps, on a RET,
    /// with all its jumps forward and inside the program and its loads aligned words of
    /// `seccomp_data`.
    #[test]
    fn accepted_programs_terminate(p in program(), d in data()) {
        let verdict = bpf::check(&p);
        prop_assert!(bpf::translated_len(&p) as usize > p.len());
        if verdict.is_ok() {
            prop_assert!(matches!(p.last().map(|f| f.code), Some(0x06 | 0x16)));
            for (pc, f) in p.iter().enumerate() {
                if f.code == 0x20 {
                    prop_assert!(f.k < 64 && f.k % 4 == 0);
                }
                if f.code & 7 == 5 {
                    let far = if f.code == 0x05 { f.k as usize } else { f.jt.max(f.jf) as usize };
                    prop_assert!(pc + 1 + far < p.len());
                }
            }
            let (_, steps) = bpf::run(&p, &d);
            prop_assert!(steps >= 1 && steps <= p.len(), "{} steps for {} instructions", steps, p.len());
        } else {
            prop_assert_eq!(verdict, Err(kernel::Errno::EINVAL));
        }
    }

    /// Stacking: the chain's verdict is the lowest action over its filters, whatever the
    /// order they were installed in; among equal actions the newest filter's value wins.
    #[test]
    fn stacking_takes_lowest_action(ps in proptest::collection::vec(program(), 1..4), d in data()) {
        // A refused program stands in as a one-instruction filter with some action.
        const ACTIONS: [u32; 5] = [SECCOMP_RET_KILL, SECCOMP_RET_TRAP | 1, SECCOMP_RET_ERRNO | 2, SECCOMP_RET_TRACE | 3, SECCOMP_RET_ALLOW | 4];
        let ok: Vec<Vec<SockFilter>> = ps
            .into_iter()
            .map(|p| if bpf::check(&p).is_ok() { p } else { vec![SockFilter::stmt(0x06, ACTIONS[p.len() % 5])] })
            .collect();
        let results: Vec<u32> = ok.iter().map(|p| bpf::run(p, &d).0).collect();
        let fwd = run_filters(&chain(&ok).unwrap(), &d);
        let mut rev_progs = ok.clone();
        rev_progs.reverse();
        let rev = run_filters(&chain(&rev_progs).unwrap(), &d);
        let min_action = results.iter().map(|r| r & SECCOMP_RET_ACTION).min().unwrap().min(SECCOMP_RET_ALLOW);
        prop_assert_eq!(fwd & SECCOMP_RET_ACTION, min_action);
        prop_assert_eq!(rev & SECCOMP_RET_ACTION, min_action);
        // Newest first: the last installed filter with the minimal action decides; when
        // everything allows, the verdict is the initial SECCOMP_RET_ALLOW (data 0).
        let want = if min_action < SECCOMP_RET_ALLOW {
            results.iter().rev().find(|r| *r & SECCOMP_RET_ACTION == min_action).copied().unwrap_or(0)
        } else {
            SECCOMP_RET_ALLOW
        };
        prop_assert_eq!(fwd, want);
    }

    /// The fuzz target's body on random bytes (the same code cargo-fuzz runs).
    #[test]
    fn fuzz_body(bytes in proptest::collection::vec(any::<u8>(), 64..400)) {
        harness::fuzz::seccomp_bpf(&bytes);
    }
}

/// Fixed programs from the spec: the accepted shapes run as documented.
#[test]
fn spec_examples() {
    let getpid_kill = [
        SockFilter::stmt(0x20, 0),
        SockFilter::jump(0x15, 39, 0, 1),
        SockFilter::stmt(0x06, SECCOMP_RET_KILL),
        SockFilter::stmt(0x06, SECCOMP_RET_ALLOW),
    ];
    assert_eq!(bpf::check(&getpid_kill), Ok(()));
    let d = SeccompData { nr: 39, arch: AUDIT_ARCH_X86_64, instruction_pointer: 0, args: [0; 6] };
    assert_eq!(bpf::run(&getpid_kill, &d), (SECCOMP_RET_KILL, 3));
    // Translated lengths of §5.2: 4096 x RET = 8193; 4095 loads + RET = 4098.
    assert_eq!(bpf::translated_len(&vec![SockFilter::stmt(0x06, 0); 4096]), 8193);
    let mut loads = vec![SockFilter::stmt(0x20, 0); 4095];
    loads.push(SockFilter::stmt(0x06, 0));
    assert_eq!(bpf::translated_len(&loads), 4098);
    // 4.3's check_load_and_stores does not reset after a RET: code after it inherits.
    let after_ret = [SockFilter::stmt(0x02, 0), SockFilter::jump(0x15, 0, 0, 1), SockFilter::stmt(0x06, 0), SockFilter::stmt(0x60, 0), SockFilter::stmt(0x16, 0)];
    assert_eq!(bpf::check(&after_ret), Ok(()));
    // ...and a RET's state flows into the next instruction even when only a jump that
    // did write the cell really reaches it: refused, as 4.3 refuses it.
    let tainted = [SockFilter::jump(0x15, 0, 0, 2), SockFilter::stmt(0x02, 0), SockFilter::stmt(0x05, 1), SockFilter::stmt(0x06, 0), SockFilter::stmt(0x60, 0), SockFilter::stmt(0x16, 0)];
    assert_eq!(bpf::check(&tainted), Err(kernel::Errno::EINVAL));
}
