//! Property: over random sequences of capset, prctl (PR_CAP_AMBIENT, PR_SET_SECUREBITS,
//! PR_CAPBSET_DROP, PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS), setresuid and execve of files
//! with random modes, owners and file capabilities, the kernel's credentials always equal
//! those of an independent reference written straight from the spec's formulas
//! (sec-ambient-caps.md §4–§8), and ambient ⊆ permitted ∩ inheritable always holds. The
//! reference below does not call kernel code; exact equality after every step means no
//! task ever gains a capability the rules do not grant.
//!
//! `PROPTEST_CASES` overrides the number of cases (10,000 by default).

use hal_sim::{SimConfig, SimHal};
use kernel::security::cred::Cred;
use kernel::syscalls::{Arch, Sysno};
use kernel::{KEvent, Kernel, KernelConfig};
use proptest::prelude::*;

const FULL: u64 = (1 << 38) - 1;
const SETUID: u32 = 7;
const SETPCAP: u32 = 8;
const NOROOT: u32 = 0x01;
const NO_SETUID_FIXUP: u32 = 0x04;
const KEEP_CAPS: u32 = 0x10;
const KEEP_CAPS_LOCKED: u32 = 0x20;
const NO_AMBIENT_RAISE: u32 = 0x40;
/// Results are compared as the kernel returns them: `-errno` or a value.
const EPERM: i64 = -1;
const EINVAL: i64 = -22;
const ERANGE: i64 = -34;
const EACCES: i64 = -13;
const NO_CHANGE: u32 = u32::MAX;

/// The reference credential (spec §3).
#[derive(Clone, Debug, PartialEq, Eq)]
struct RefCred {
    uid: u32,
    euid: u32,
    suid: u32,
    fsuid: u32,
    gid: u32,
    egid: u32,
    sgid: u32,
    fsgid: u32,
    i: u64,
    p: u64,
    e: u64,
    b: u64,
    a: u64,
    sb: u32,
    nnp: bool,
}

impl RefCred {
    fn new(uid: u32) -> RefCred {
        let caps = if uid == 0 { FULL } else { 0 };
        RefCred { uid, euid: uid, suid: uid, fsuid: uid, gid: uid, egid: uid, sgid: uid, fsgid: uid, i: 0, p: caps, e: caps, b: FULL, a: 0, sb: 0, nnp: false }
    }
    fn has(&self, cap: u32) -> bool {
        self.e & (1 << cap) != 0
    }
}

/// A file's capability xattr as stored.
#[derive(Clone, Debug)]
enum FCaps {
    None,
    V2 { p: u64, i: u64, eff: bool },
    V1 { p: u32, i: u32, eff: bool },
    /// Not a valid 4.3 value: (bytes, the exec error).
    Bad(Vec<u8>, i64),
}

#[derive(Clone, Debug)]
struct FileSpec {
    mode: u32,
    uid: u32,
    gid: u32,
    caps: FCaps,
}

impl FCaps {
    fn bytes(&self) -> Option<Vec<u8>> {
        let words: Vec<u32> = match *self {
            FCaps::None => return None,
            FCaps::Bad(ref b, _) => return Some(b.clone()),
            FCaps::V2 { p, i, eff } => vec![0x0200_0000 | eff as u32, p as u32, i as u32, (p >> 32) as u32, (i >> 32) as u32],
            FCaps::V1 { p, i, eff } => vec![0x0100_0000 | eff as u32, p, i],
        };
        Some(words.iter().flat_map(|w| w.to_le_bytes()).collect())
    }
    /// (fP, fI, fE), masked to the 4.3 capabilities; or the exec error.
    fn parsed(&self) -> Result<Option<(u64, u64, bool)>, i64> {
        match *self {
            FCaps::None => Ok(None),
            FCaps::Bad(_, e) => Err(e),
            FCaps::V2 { p, i, eff } => Ok(Some((p & FULL, i & FULL, eff))),
            FCaps::V1 { p, i, eff } => Ok(Some((p as u64, i as u64, eff))),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Capset { e: u64, i: u64, p: u64 },
    Ambient { op: u64, cap: u64, a4: u64 },
    Securebits(u64),
    BsetDrop(u64),
    KeepCaps(u64),
    Nnp,
    Setresuid([u32; 3]),
    Exec(usize),
}

/// capset (spec §6).
fn ref_capset(c: &mut RefCred, e: u64, i: u64, p: u64) -> i64 {
    let (e, i, p) = (e & FULL, i & FULL, p & FULL);
    if !c.has(SETPCAP) && i & !(c.i | c.p) != 0 {
        return EPERM;
    }
    if i & !(c.i | c.b) != 0 || p & !c.p != 0 || e & !p != 0 {
        return EPERM;
    }
    c.e = e;
    c.i = i;
    c.p = p;
    c.a &= p & i;
    0
}

/// PR_CAP_AMBIENT (spec §4).
fn ref_ambient(c: &mut RefCred, op: u64, cap: u64, a4: u64) -> i64 {
    if op == 4 {
        if cap != 0 || a4 != 0 {
            return EINVAL;
        }
        c.a = 0;
        return 0;
    }
    if cap > 37 || a4 != 0 {
        return EINVAL;
    }
    let bit = 1u64 << cap;
    match op {
        1 => (c.a & bit != 0) as i64,
        2 => {
            if c.p & bit == 0 || c.i & bit == 0 || c.sb & NO_AMBIENT_RAISE != 0 {
                return EPERM;
            }
            c.a |= bit;
            0
        }
        3 => {
            c.a &= !bit;
            0
        }
        _ => EINVAL,
    }
}

fn ref_securebits(c: &mut RefCred, v: u64) -> i64 {
    let old = c.sb as u64;
    if ((old & 0xaa) >> 1) & (old ^ v) != 0 || old & 0xaa & !v != 0 || v & !0xff != 0 || !c.has(SETPCAP) {
        return EPERM;
    }
    c.sb = v as u32;
    0
}

fn ref_bset_drop(c: &mut RefCred, cap: u64) -> i64 {
    if !c.has(SETPCAP) {
        return EPERM;
    }
    if cap > 37 {
        return EINVAL;
    }
    c.b &= !(1 << cap);
    0
}

fn ref_keepcaps(c: &mut RefCred, v: u64) -> i64 {
    if v > 1 {
        return EINVAL;
    }
    if c.sb & KEEP_CAPS_LOCKED != 0 {
        return EPERM;
    }
    if v == 1 {
        c.sb |= KEEP_CAPS;
    } else {
        c.sb &= !KEEP_CAPS;
    }
    0
}

/// setresuid with the fixups (spec §8).
fn ref_setresuid(c: &mut RefCred, ids: [u32; 3]) -> i64 {
    let cur = [c.uid, c.euid, c.suid];
    if !c.has(SETUID) && ids.iter().any(|&x| x != NO_CHANGE && !cur.contains(&x)) {
        return EPERM;
    }
    let old = c.clone();
    let pick = |x: u32, keep: u32| if x == NO_CHANGE { keep } else { x };
    c.uid = pick(ids[0], c.uid);
    c.euid = pick(ids[1], c.euid);
    c.suid = pick(ids[2], c.suid);
    c.fsuid = c.euid;
    if c.sb & NO_SETUID_FIXUP == 0 {
        if (old.uid == 0 || old.euid == 0 || old.suid == 0) && c.uid != 0 && c.euid != 0 && c.suid != 0 {
            if c.sb & KEEP_CAPS == 0 {
                c.p = 0;
                c.e = 0;
            }
            c.a = 0;
        }
        if old.euid == 0 && c.euid != 0 {
            c.e = 0;
        }
        if old.euid != 0 && c.euid == 0 {
            c.e = c.p;
        }
    }
    0
}

/// execve (spec §7, steps 0–7; no ptrace, no shared fs_struct).
fn ref_exec(c: &mut RefCred, f: &FileSpec) -> i64 {
    // generic_permission(MAY_EXEC): owner, group or other bits; CAP_DAC_OVERRIDE needs
    // one execute bit somewhere.
    let bits = if c.fsuid == f.uid { f.mode >> 6 } else if c.fsgid == f.gid { f.mode >> 3 } else { f.mode };
    if bits & 1 == 0 && !(c.has(1) && f.mode & 0o111 != 0) {
        return EACCES;
    }
    let old = c.clone();
    let mut new = c.clone();
    new.euid = old.euid;
    new.egid = old.egid;
    if !old.nnp && f.mode & 0o6000 != 0 {
        if f.mode & 0o4000 != 0 {
            new.euid = f.uid;
        }
        if f.mode & 0o2010 == 0o2010 {
            new.egid = f.gid;
        }
    }
    let fc = match f.caps.parsed() {
        Ok(x) => x,
        Err(e) => return e,
    };
    let mut p = 0;
    let (mut fe, mut has) = (false, false);
    if let Some((fp, fi, eff)) = fc {
        has = true;
        fe = eff;
        p = (old.b & fp) | (old.i & fi);
        if fe && fp & !p != 0 {
            return EPERM;
        }
    }
    if old.sb & NOROOT == 0 {
        if !(has && new.uid != 0 && new.euid == 0) {
            if new.euid == 0 || new.uid == 0 {
                p = old.b | old.i;
            }
            if new.euid == 0 {
                fe = true;
            }
        }
    }
    let is_setid = new.euid != old.uid || new.egid != old.gid;
    if (is_setid || p & !old.p != 0) && old.nnp {
        new.euid = new.uid;
        new.egid = new.gid;
        p &= old.p;
    }
    new.suid = new.euid;
    new.fsuid = new.euid;
    new.sgid = new.egid;
    new.fsgid = new.egid;
    new.a = if has || is_setid { 0 } else { old.a };
    new.p = p | new.a;
    new.e = if fe { new.p } else { new.a };
    new.sb &= !KEEP_CAPS;
    *c = new;
    0
}

fn step(c: &mut RefCred, op: &Op, files: &[FileSpec]) -> i64 {
    match *op {
        Op::Capset { e, i, p } => ref_capset(c, e, i, p),
        Op::Ambient { op, cap, a4 } => ref_ambient(c, op, cap, a4),
        Op::Securebits(v) => ref_securebits(c, v),
        Op::BsetDrop(cap) => ref_bset_drop(c, cap),
        Op::KeepCaps(v) => ref_keepcaps(c, v),
        Op::Nnp => {
            c.nnp = true;
            0
        }
        Op::Setresuid(ids) => ref_setresuid(c, ids),
        Op::Exec(i) => ref_exec(c, &files[i]),
    }
}

// --- strategies ---------------------------------------------------------------------

/// A few capabilities that matter (CHOWN, KILL, SETUID, SETPCAP, NET_BIND_SERVICE,
/// NET_RAW, SYS_ADMIN, AUDIT_READ) so that random sets overlap often.
const CAPS: [u32; 8] = [0, 5, 7, 8, 10, 13, 21, 37];

fn capset_of() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => any::<u8>().prop_map(|m| (0..8).filter(|b| m & (1 << b) != 0).fold(0u64, |s, b| s | 1 << CAPS[b])),
        1 => Just(FULL),
        1 => Just(u64::MAX),
    ]
}

fn cap_arg() -> impl Strategy<Value = u64> {
    prop_oneof![8 => (0usize..8).prop_map(|i| CAPS[i] as u64), 1 => Just(38u64), 1 => Just(u64::MAX)]
}

fn uid_arg() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(1000u32), Just(2000u32), Just(NO_CHANGE)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (capset_of(), capset_of(), capset_of()).prop_map(|(e, i, p)| Op::Capset { e, i, p }),
        4 => (prop_oneof![Just(1u64), Just(2), Just(2), Just(3), Just(4), Just(5)], cap_arg(), prop_oneof![9 => Just(0u64), 1 => Just(1u64)])
            .prop_map(|(op, cap, a4)| Op::Ambient { op, cap: if op == 4 && a4 == 0 { 0 } else { cap }, a4 }),
        2 => prop_oneof![0u64..0x100, Just(0x100u64), any::<u64>()].prop_map(Op::Securebits),
        1 => cap_arg().prop_map(Op::BsetDrop),
        1 => (0u64..3).prop_map(Op::KeepCaps),
        1 => Just(Op::Nnp),
        3 => [uid_arg(), uid_arg(), uid_arg()].prop_map(Op::Setresuid),
        4 => (0usize..4).prop_map(Op::Exec),
    ]
}

fn fcaps() -> impl Strategy<Value = FCaps> {
    prop_oneof![
        3 => Just(FCaps::None),
        4 => (capset_of(), capset_of(), any::<bool>()).prop_map(|(p, i, eff)| FCaps::V2 { p, i, eff }),
        1 => (capset_of(), capset_of(), any::<bool>()).prop_map(|(p, i, eff)| FCaps::V1 { p: p as u32, i: i as u32, eff }),
        1 => prop_oneof![
            Just(FCaps::Bad(vec![0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0], EINVAL)),
            Just(FCaps::Bad(vec![0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], EINVAL)),
            Just(FCaps::Bad(vec![1, 0], EINVAL)),
            Just(FCaps::Bad(vec![0; 24], ERANGE)),
        ],
    ]
}

fn file() -> impl Strategy<Value = FileSpec> {
    (prop_oneof![Just(0o755u32), Just(0o4755), Just(0o2755), Just(0o6755), Just(0o2745)], prop_oneof![Just(0u32), Just(1000), Just(2000)], prop_oneof![Just(0u32), Just(1000), Just(2000)], fcaps())
        .prop_map(|(mode, uid, gid, caps)| FileSpec { mode, uid, gid, caps })
}

// --- driving the kernel -------------------------------------------------------------

const BUF: u64 = 0x7fff_ffff_f000 - 0x2000;

fn run(k: &mut Kernel<SimHal>, pid: i32, sysno: Sysno, args: [u64; 6]) -> i64 {
    let nr = sysno.desc().nr(Arch::X86_64).expect("x86_64 number") as u64;
    k.submit(pid, nr, args).expect("submit");
    for _ in 0..64 {
        if !k.step() {
            break;
        }
    }
    let mut ret = None;
    for ev in k.take_events() {
        if let KEvent::SyscallReturn { pid: p, ret: r, .. } = ev {
            if p == pid {
                ret = Some(r);
            }
        }
    }
    ret.expect("the call returned")
}

fn kernel_cred(k: &Kernel<SimHal>, pid: i32) -> RefCred {
    let t = k.task(pid).expect("task");
    let c: &Cred = &t.cred;
    RefCred {
        uid: c.uid,
        euid: c.euid,
        suid: c.suid,
        fsuid: c.fsuid,
        gid: c.gid,
        egid: c.egid,
        sgid: c.sgid,
        fsgid: c.fsgid,
        i: c.cap_inheritable,
        p: c.cap_permitted,
        e: c.cap_effective,
        b: c.cap_bset,
        a: c.cap_ambient,
        sb: c.securebits,
        nnp: t.no_new_privs,
    }
}

fn apply(k: &mut Kernel<SimHal>, pid: i32, op: &Op) -> i64 {
    let prctl = |o: u64, a2: u64, a3: u64, a4: u64| [o, a2, a3, a4, 0, 0];
    match *op {
        Op::Capset { e, i, p } => {
            let mut hdr = Vec::new();
            hdr.extend_from_slice(&0x2008_0522u32.to_le_bytes());
            hdr.extend_from_slice(&0i32.to_le_bytes());
            let mut data = Vec::new();
            for w in 0..2 {
                for s in [e, p, i] {
                    data.extend_from_slice(&((s >> (32 * w)) as u32).to_le_bytes());
                }
            }
            k.copy_to_user(pid, BUF, &hdr).expect("hdr");
            k.copy_to_user(pid, BUF + 64, &data).expect("data");
            run(k, pid, Sysno::Capset, [BUF, BUF + 64, 0, 0, 0, 0])
        }
        Op::Ambient { op, cap, a4 } => run(k, pid, Sysno::Prctl, prctl(47, op, cap, a4)),
        Op::Securebits(v) => run(k, pid, Sysno::Prctl, prctl(28, v, 0, 0)),
        Op::BsetDrop(cap) => run(k, pid, Sysno::Prctl, prctl(24, cap, 0, 0)),
        Op::KeepCaps(v) => run(k, pid, Sysno::Prctl, prctl(8, v, 0, 0)),
        Op::Nnp => run(k, pid, Sysno::Prctl, prctl(38, 1, 0, 0)),
        Op::Setresuid(ids) => run(k, pid, Sysno::Setresuid, [ids[0] as u64, ids[1] as u64, ids[2] as u64, 0, 0, 0]),
        Op::Exec(i) => {
            let path = format!("/bin/f{i}\0");
            k.copy_to_user(pid, BUF + 256, path.as_bytes()).expect("path");
            run(k, pid, Sysno::Execve, [BUF + 256, 0, 0, 0, 0, 0])
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn credentials_follow_the_spec(root in any::<bool>(), files in proptest::collection::vec(file(), 4), ops in proptest::collection::vec(op(), 1..24)) {
        let hal = SimHal::new(SimConfig { seed: 1, ram_bytes: 8 << 20, cpus: 1 });
        let mut k = Kernel::new(hal, KernelConfig::default());
        k.register_program("true");
        for (i, f) in files.iter().enumerate() {
            let path = format!("/bin/f{i}");
            k.admin_write_file(path.as_bytes(), f.mode, f.uid, f.gid, b"#!k43 true").expect("file");
            if let Some(v) = f.caps.bytes() {
                k.admin_setxattr(path.as_bytes(), b"security.capability", &v).expect("xattr");
            }
        }
        let uid = if root { 0 } else { 1000 };
        let pid = k.create_process(Cred::new(uid, uid), "prop", 0).expect("spawn");
        let mut model = RefCred::new(uid);
        for (n, op) in ops.iter().enumerate() {
            let want = step(&mut model, op, &files);
            let got = apply(&mut k, pid, op);
            prop_assert_eq!(got, want, "step {} {:?}", n, op);
            let kc = kernel_cred(&k, pid);
            prop_assert_eq!(&kc, &model, "credentials after step {} {:?}", n, op);
            // The invariant itself, and no capability outside what the reference grants.
            prop_assert_eq!(kc.a & !(kc.p & kc.i), 0);
            prop_assert_eq!(kc.e & !kc.p, 0);
            if let Err(e) = k.check_invariants() {
                prop_assert!(false, "after step {} {:?}: {}", n, op, e);
            }
        }
    }
}

/// `ns_capable` answers as 4.3's `cap_capable`: a capability in the target namespace or
/// an ancestor of it, or being the owner (euid) of a namespace whose parent is one's own.
#[test]
fn ns_capable_walks_up_to_the_owner() {
    use kernel::security::commoncap::{capable, ns_capable};
    use kernel::security::user_ns::{create_user_ns, UserNs};
    const SYS_ADMIN: u32 = 21;
    let init = UserNs::init();
    let mut user = Cred::new(1000, 1000);
    let parent_view = user.clone();
    create_user_ns(&mut user).expect("child namespace");
    let child = user.user_ns.clone();
    // Full caps inside, none in the initial namespace.
    assert!(ns_capable(&user, &child, SYS_ADMIN));
    assert!(!ns_capable(&user, &init, SYS_ADMIN));
    assert!(!capable(&user, SYS_ADMIN));
    // The creator, still in the initial namespace without any capability, owns the child.
    assert!(ns_capable(&parent_view, &child, SYS_ADMIN));
    // Another uid there does not.
    assert!(!ns_capable(&Cred::new(2000, 2000), &child, SYS_ADMIN));
    // Root of the initial namespace has everything in every descendant.
    assert!(ns_capable(&Cred::new(0, 0), &child, SYS_ADMIN));
    // A sibling namespace gives nothing in this one.
    let mut other = Cred::new(1000, 1000);
    create_user_ns(&mut other).expect("sibling");
    assert!(!ns_capable(&other, &child, SYS_ADMIN));
    // Grandchildren: owner test applies to the child of one's own namespace only.
    let mut deep = user.clone();
    deep.user_ns = child.new_child(1000, 1000);
    assert!(ns_capable(&user, &deep.user_ns, SYS_ADMIN));
    assert!(ns_capable(&parent_view, &deep.user_ns, SYS_ADMIN));
    // A creator whose ids are not mapped in its namespace cannot nest (EPERM); past 32
    // levels it is EUSERS.
    assert_eq!(create_user_ns(&mut user.clone()), Err(kernel::Errno::EPERM));
    let mut level = Cred::new(0, 0);
    let mut ns = UserNs::init();
    for _ in 0..33 {
        ns = ns.new_child(0, 0);
    }
    level.user_ns = ns;
    assert_eq!(create_user_ns(&mut level), Err(kernel::Errno::EUSERS));
}
