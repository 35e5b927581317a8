//! The parser: statements, and call lines typed by the syscall table so that a misspelt
//! flag is an error with its column before anything runs.

use super::ast::*;
use super::lex::{Cursor, PResult};
use super::Diagnostic;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use kernel::syscalls::desc::{ArgKind, Dir, StructKind};
use kernel::syscalls::{Arch, Sysno};
use kernel::uapi::capability::{cap_from_name, _LINUX_CAPABILITY_VERSION_1, _LINUX_CAPABILITY_VERSION_2, _LINUX_CAPABILITY_VERSION_3};
use kernel::uapi::signal::SIGNAL_NAMES;
use kernel::Errno;

/// Parses a whole scenario file.
pub fn parse(src: &str) -> Result<Scenario, Diagnostic> {
    let mut stmts = Vec::new();
    for (i, text) in src.lines().enumerate() {
        let mut c = Cursor::new(text, i + 1);
        if c.at_end() {
            continue;
        }
        let kind = statement(&mut c)?;
        stmts.push(Stmt { line: i + 1, kind });
    }
    Ok(Scenario { stmts })
}

fn statement(c: &mut Cursor<'_>) -> PResult<StmtKind> {
    let save = c.pos;
    let Some(word) = c.ident() else { return c.err("expected a command or a task label") };
    if c.eat(":") {
        return call_line(c, word);
    }
    let kind = match word {
        "host" => {
            let name = c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a host name"))?;
            let mut arch = Arch::X86_64;
            let mut ram = 64 << 20;
            let mut pmem = 0;
            let mut nics = 0;
            while let Some(k) = c.ident() {
                c.expect("=")?;
                match k {
                    "arch" => {
                        let at = c.pos;
                        arch = match c.ident() {
                            Some("x86_64") => Arch::X86_64,
                            Some("aarch64") => Arch::Aarch64,
                            _ => return c.err_at(at, "arch must be x86_64 or aarch64"),
                        }
                    }
                    "ram" => {
                        let at = c.pos;
                        let mib = c.number().filter(|&n| (4..=4096).contains(&n)).ok_or(()).or_else(|_| c.err_at(at, "ram is a number of MiB (4..=4096)"))?;
                        ram = (mib as u64) << 20;
                    }
                    "pmem" => {
                        let at = c.pos;
                        let mib = c.number().filter(|&n| (1..=1024).contains(&n)).ok_or(()).or_else(|_| c.err_at(at, "pmem is a number of MiB (1..=1024)"))?;
                        pmem = (mib as u64) << 20;
                    }
                    "nics" => {
                        let at = c.pos;
                        nics = c.number().filter(|&n| (0..=MAX_NICS).contains(&n)).ok_or(()).or_else(|_| c.err_at(at, "nics is a number of NICs (0..=8)"))? as u32;
                    }
                    _ => return c.err(format!("unknown host option '{k}'")),
                }
            }
            StmtKind::Host { name, arch, ram, pmem, nics }
        }
        "on" => StmtKind::On { host: c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a host name"))? },
        "switch" => StmtKind::Switch { name: c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a switch name"))? },
        "link" => {
            let a = link_end(c)?;
            let b = link_end(c)?;
            let (mut delay_ns, mut rate_bps, mut faults) = (None, None, String::new());
            while let Some(k) = c.ident() {
                c.expect("=")?;
                match k {
                    "delay" => delay_ns = Some(duration(c)?),
                    "rate" => {
                        let at = c.pos;
                        let n = c.number().filter(|&n| n > 0).ok_or(()).or_else(|_| c.err_at(at, "rate is bits per second, with an optional unit (100mbit)"))?;
                        let mult = match c.ident() {
                            None | Some("bit") => 1,
                            Some("kbit") => 1_000,
                            Some("mbit") => 1_000_000,
                            Some("gbit") => 1_000_000_000,
                            Some(u) => return c.err_at(at, format!("unknown rate unit '{u}' (bit, kbit, mbit, gbit)")),
                        };
                        rate_bps = Some((n as u64).saturating_mul(mult));
                    }
                    "faults" => {
                        let w = quoted(c)?;
                        faults = w.0.iter().map(|p| match p { WordPart::Lit(b) => String::from_utf8_lossy(b).into_owned(), WordPart::Var(v) => format!("${v}") }).collect();
                    }
                    _ => return c.err(format!("unknown link option '{k}' (delay, rate, faults)")),
                }
            }
            StmtKind::Link { a, b, delay_ns, rate_bps, faults }
        }
        "sleep" => StmtKind::Sleep { ns: duration(c)? },
        "disk" => {
            let name = c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a disk name (vda)"))?;
            let (mut size_mib, mut image, mut faults, mut opts) = (16, None, String::new(), Vec::new());
            while let Some(k) = c.ident() {
                c.expect("=")?;
                let at = c.pos;
                match k {
                    "size" => size_mib = c.number().filter(|&n| (1..=1024).contains(&n)).ok_or(()).or_else(|_| c.err_at(at, "size is a number of MiB (1..=1024)"))? as u64,
                    "image" | "faults" => {
                        let w = quoted(c)?;
                        let text: String = w.0.iter().map(|p| match p { WordPart::Lit(b) => String::from_utf8_lossy(b).into_owned(), WordPart::Var(v) => format!("${v}") }).collect();
                        if k == "image" {
                            image = Some(text);
                        } else {
                            faults = text;
                        }
                    }
                    "discard_max_hw" | "discard_granularity" | "max_hw_sectors" => {
                        let n = c.number().filter(|&n| n >= 0).ok_or(()).or_else(|_| c.err_at(at, format!("{k} is a number")))?;
                        opts.push((String::from(k), n as u64));
                    }
                    _ => return c.err_at(at, format!("unknown disk option '{k}' (size, image, faults, discard_max_hw, discard_granularity, max_hw_sectors)")),
                }
            }
            StmtKind::Disk { name, size_mib, image, faults, opts }
        }
        "crash" => {
            let save = c.pos;
            let tear = match c.ident() {
                Some("tear") => true,
                Some(_) => return c.err_at(save, "crash takes only 'tear'"),
                None => false,
            };
            StmtKind::Crash { tear }
        }
        "inject" => {
            let at = c.pos;
            let LinkEnd::Nic(host, nic) = link_end(c)? else { return c.err_at(at, "expected HOST.ethN") };
            let mut times = 1;
            let save = c.pos;
            if c.ident() == Some("times") && c.eat("=") {
                let at = c.pos;
                times = c.number().filter(|n| (1..=10_000).contains(n)).ok_or(()).or_else(|_| c.err_at(at, "times is a count, 1..=10000"))? as u32;
            } else {
                c.pos = save;
            }
            c.ws();
            let start = c.pos;
            let frame = crate::packet::parse(c.rest()).or_else(|(off, msg)| c.err_at(start + off, msg))?;
            c.pos += c.rest().len();
            StmtKind::Inject { host, nic, times, frame }
        }
        "reboot" => StmtKind::Reboot { host: c.ident().map(String::from) },
        "spawn" => {
            let label = c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a task label"))?;
            let (mut uid, mut gid, mut groups, mut comm) = (0, 0, Vec::new(), String::from("sh"));
            while let Some(k) = c.ident() {
                c.expect("=")?;
                match k {
                    "uid" => uid = id_num(c)?,
                    "gid" => gid = id_num(c)?,
                    "groups" => loop {
                        groups.push(id_num(c)?);
                        if !c.eat(",") {
                            break;
                        }
                    },
                    "comm" => comm = c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a name"))?,
                    _ => return c.err(format!("unknown spawn option '{k}'")),
                }
            }
            groups.sort_unstable();
            groups.dedup();
            StmtKind::Spawn { label, uid, gid, groups, comm }
        }
        "file" | "mkdir" => {
            let path = c.bare_word()?;
            let (mut mode, mut uid, mut gid) = (if word == "file" { 0o644 } else { 0o755 }, 0, 0);
            while let Some(k) = c.ident() {
                c.expect("=")?;
                match k {
                    "mode" => mode = id_num(c)?,
                    "uid" => uid = id_num(c)?,
                    "gid" => gid = id_num(c)?,
                    _ => return c.err(format!("unknown option '{k}'")),
                }
            }
            if word == "file" {
                let content = c.string()?.ok_or(()).or_else(|_| c.err("expected the file content as a quoted string"))?;
                StmtKind::File { path, mode, uid, gid, content }
            } else {
                StmtKind::Mkdir { path, mode, uid, gid }
            }
        }
        "chmod" => {
            let at = c.pos;
            let mode = c.number().filter(|m| (0..=0o7777).contains(m)).ok_or(()).or_else(|_| c.err_at(at, "expected an octal mode"))? as u32;
            StmtKind::Chmod { mode, path: c.bare_word()? }
        }
        "chown" => {
            let uid = id_num(c)?;
            let gid = if c.eat(":") { Some(id_num(c)?) } else { None };
            StmtKind::Chown { uid, gid, path: c.bare_word()? }
        }
        "sysctl" => {
            c.ws();
            let rest = c.rest().trim_end();
            let (key, value) = match rest.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().to_string())),
                None => (rest, None),
            };
            if key.is_empty() {
                return c.err("expected a sysctl key");
            }
            c.pos += c.rest().len();
            StmtKind::Sysctl { key: key.into(), value }
        }
        "cat" => StmtKind::Cat { path: c.bare_word()? },
        "getcap" => StmtKind::Getcap { path: c.bare_word()? },
        "setcap" => {
            c.ws();
            if c.eat("-r") {
                StmtKind::Setcap { caps: None, text: String::from("-r"), path: c.bare_word()? }
            } else {
                let at = c.pos;
                let text: String = if c.peek() == Some(b'"') {
                    let w = quoted(c)?;
                    let mut t = Vec::new();
                    for part in &w.0 {
                        match part {
                            WordPart::Lit(b) => t.extend_from_slice(b),
                            WordPart::Var(_) => return c.err_at(at, "capability text cannot use variables"),
                        }
                    }
                    String::from_utf8_lossy(&t).into_owned()
                } else {
                    let rest = c.rest();
                    let n = rest.find([' ', '\t']).unwrap_or(rest.len());
                    c.pos += n;
                    rest[..n].into()
                };
                let caps = match crate::captext::from_text(&text) {
                    Ok(caps) => caps,
                    Err(e) => return c.err_at(at, e),
                };
                StmtKind::Setcap { caps: Some(caps), text, path: c.bare_word()? }
            }
        }
        "run" => StmtKind::Run,
        "wait" => StmtKind::Wait { label: c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a task label"))? },
        "expect" => StmtKind::Expect(expect(c)?),
        "ip" => {
            let args = ip_words(c, false)?;
            if args.is_empty() {
                return c.err("expected the arguments of ip");
            }
            StmtKind::Ip { args }
        }
        _ => return c.err_at(save, format!("unknown command '{word}'")),
    };
    c.end()?;
    Ok(kind)
}

/// Most NICs a host may have.
const MAX_NICS: i64 = 8;

/// `HOST.ethN` or a switch name.
fn link_end(c: &mut Cursor<'_>) -> PResult<LinkEnd> {
    let Some(name) = c.ident().map(String::from) else { return c.err("expected HOST.ethN or a switch name") };
    if !c.eat(".") {
        return Ok(LinkEnd::Switch(name));
    }
    let at = c.pos;
    match c.ident().and_then(|d| d.strip_prefix("eth")).and_then(|n| n.parse::<u32>().ok()) {
        Some(n) if i64::from(n) < MAX_NICS => Ok(LinkEnd::Nic(name, n)),
        _ => c.err_at(at, "expected a NIC name, eth0..eth7"),
    }
}

/// A duration with its unit: `10us`, `1500ms`, `2s`.
fn duration(c: &mut Cursor<'_>) -> PResult<u64> {
    let at = c.pos;
    let Some(n) = c.number().filter(|&n| n >= 0) else { return c.err_at(at, "expected a duration (10us, 5ms, 2s)") };
    let mult: u64 = match c.ident() {
        Some("ns") => 1,
        Some("us") => 1_000,
        Some("ms") => 1_000_000,
        Some("s") => 1_000_000_000,
        _ => return c.err_at(at, "a duration needs a unit: ns, us, ms or s"),
    };
    match (n as u64).checked_mul(mult) {
        Some(ns) if ns <= 3_600_000_000_000 => Ok(ns),
        _ => c.err_at(at, "durations are at most an hour"),
    }
}

fn id_num(c: &mut Cursor<'_>) -> PResult<u32> {
    let at = c.pos;
    match c.number() {
        Some(n) if (0..=u32::MAX as i64).contains(&n) => Ok(n as u32),
        _ => c.err_at(at, "expected a number"),
    }
}

fn text_op(c: &mut Cursor<'_>) -> PResult<TextOp> {
    if c.eat("contains") {
        Ok(TextOp::Contains)
    } else if c.eat("lacks") {
        Ok(TextOp::Lacks)
    } else if c.eat("==") {
        Ok(TextOp::Equals)
    } else {
        c.err("expected 'contains', 'lacks' or '=='")
    }
}

fn quoted(c: &mut Cursor<'_>) -> PResult<Word> {
    c.string()?.ok_or(()).or_else(|_| c.err("expected a quoted string"))
}

fn expect(c: &mut Cursor<'_>) -> PResult<Expect> {
    if c.eat("trace") {
        let op = text_op(c)?;
        return Ok(Expect::Trace { op, text: quoted(c)? });
    }
    if c.eat("dmesg") {
        let op = text_op(c)?;
        return Ok(Expect::Dmesg { op, text: quoted(c)? });
    }
    if c.looking_at("disk ") {
        c.eat("disk");
        return disk_discards(c);
    }
    if c.peek() == Some(b'/') || c.peek() == Some(b'"') {
        let path = c.bare_word()?;
        let op = text_op(c)?;
        return Ok(Expect::File { path, op, text: quoted(c)? });
    }
    let Some(label) = c.ident().map(String::from) else { return c.err("expected 'trace', 'dmesg', 'ip', a path or a task label") };
    if label == "ip" && !c.looking_at("exited") && !c.looking_at("killed") {
        let args = ip_words(c, true)?;
        if args.is_empty() {
            return c.err("expected the arguments of ip");
        }
        let op = text_op(c)?;
        return Ok(Expect::Ip { args, op, text: quoted(c)? });
    }
    if c.eat("exited") {
        let at = c.pos;
        let code = c.number().filter(|n| (0..=255).contains(n)).ok_or(()).or_else(|_| c.err_at(at, "expected an exit code 0..255"))? as i32;
        return Ok(Expect::Exited { label, code });
    }
    if c.eat("killed") {
        let at = c.pos;
        let sig = c.ident().and_then(signal_number).ok_or(()).or_else(|_| c.err_at(at, "expected a signal name"))?;
        return Ok(Expect::Killed { label, sig });
    }
    c.err("expected 'exited' or 'killed'")
}

/// The rest of `expect disk NAME discards …` (see [`Expect::DiskDiscards`]).
fn disk_discards(c: &mut Cursor<'_>) -> PResult<Expect> {
    let disk = c.ident().map(String::from).ok_or(()).or_else(|_| c.err("expected a disk name (vda)"))?;
    if !c.eat("discards") {
        return c.err("expected 'discards'");
    }
    let bytes = |c: &mut Cursor<'_>| -> PResult<u64> {
        let at = c.pos;
        c.number().filter(|&n| n >= 0).map(|n| n as u64).ok_or(()).or_else(|_| c.err_at(at, "expected a byte count"))
    };
    let (mut max, mut tile, mut aligned, mut count) = (None, None, None, None);
    loop {
        if c.eat("<=") {
            max = Some(bytes(c)?);
        } else if c.eat("tile") {
            let start = bytes(c)?;
            tile = Some((start, bytes(c)?));
        } else if c.eat("aligned") {
            aligned = Some(bytes(c)?.max(1));
        } else if c.eat("count") {
            count = Some(bytes(c)?);
        } else {
            break;
        }
    }
    if max.is_none() && tile.is_none() && aligned.is_none() && count.is_none() {
        return c.err("expected '<= BYTES', 'tile START LEN', 'aligned BYTES' or 'count N'");
    }
    Ok(Expect::DiskDiscards { disk, max, tile, aligned, count })
}

/// The words of an `ip` line (bare words split at whitespace, `$var` allowed, or quoted):
/// to the end of the line, or for an expectation up to its `==`, `contains` or `lacks`.
fn ip_words(c: &mut Cursor<'_>, expectation: bool) -> PResult<Vec<Word>> {
    let mut words = Vec::new();
    loop {
        if c.at_end() {
            break;
        }
        if expectation {
            let rest = c.rest();
            let op = ["==", "contains", "lacks"].iter().any(|op| rest.strip_prefix(op).is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '"'])));
            if op {
                break;
            }
        }
        words.push(c.bare_word()?);
    }
    Ok(words)
}

fn signal_number(name: &str) -> Option<i32> {
    SIGNAL_NAMES.iter().position(|n| *n == name).filter(|&i| i > 0).map(|i| i as i32)
}

fn call_line(c: &mut Cursor<'_>, label: &str) -> PResult<StmtKind> {
    if c.eat("<...") {
        let at = c.pos;
        let name = c.ident().ok_or(()).or_else(|_| c.err("expected a syscall name"))?;
        let sysno = Sysno::from_name(name).ok_or(()).or_else(|_| c.err_at(at, format!("unknown syscall '{name}'")))?;
        c.expect("resumed>")?;
        let first = kernel_first_out(sysno);
        let mut rest = Vec::new();
        if !c.looking_at("=") {
            for (n, i) in (first..sysno.desc().args.len()).enumerate() {
                if n > 0 {
                    c.expect(",")?;
                }
                rest.push(arg(c, sysno, i, None)?);
            }
            c.expect(")")?;
        }
        c.expect("=")?;
        let ret = ret_expect(c, Some(sysno))?;
        c.end()?;
        return Ok(StmtKind::Resumed { label: label.into(), sysno, rest, ret });
    }
    let at = c.pos;
    let name = c.ident().ok_or(()).or_else(|_| c.err("expected a syscall name"))?;
    if name == "syscall" {
        return raw_call(c, label);
    }
    let sysno = Sysno::from_name(name).ok_or(()).or_else(|_| c.err_at(at, format!("unknown syscall '{name}'")))?;
    c.expect("(")?;
    let desc = sysno.desc();
    let mut args = Vec::new();
    let mut cap_version = None;
    for i in 0..desc.args.len() {
        if i > 0 {
            if c.looking_at(")") && (sysno == Sysno::Prctl || sysno == Sysno::Ptrace) {
                // strace prints only the arguments an option uses; the rest are 0.
                args.extend((i..desc.args.len()).map(|_| ArgVal::Int(IntExpr::Const(0))));
                break;
            }
            if c.looking_at(")") {
                // strace leaves openat's mode out without O_CREAT/O_TMPFILE.
                if desc.args[i..].iter().all(|a| matches!(a.kind, ArgKind::Mode)) {
                    args.extend((i..desc.args.len()).map(|_| ArgVal::Int(IntExpr::Const(0))));
                    break;
                }
                return c.err(format!("{} takes {} arguments, got {}", desc.name, desc.args.len(), i));
            }
            c.expect(",")?;
        }
        if c.eat("<unfinished") {
            c.expect("...>")?;
            // Out-arguments and the rest come with the resumed line; give them buffers.
            for j in i..desc.args.len() {
                args.push(placeholder(sysno, j));
            }
            c.end()?;
            return Ok(StmtKind::Call { label: label.into(), call: Call { sysno, args, ret: RetExpect::Any, unfinished: true } });
        }
        let a = if sysno == Sysno::Ptrace && i == 3 {
            ptrace_data(c, &args[0])?
        } else if sysno == Sysno::Ioctl && i == 2 {
            ioctl_arg(c, &args[1])?
        } else {
            arg(c, sysno, i, cap_version)?
        };
        if let ArgVal::InStruct(StructKind::CapHeader, f) = &a {
            cap_version = f.iter().find(|(k, _)| k == "version").and_then(|(_, v)| match v {
                IntExpr::Const(n) => Some(*n as u32),
                _ => None,
            });
        }
        args.push(a);
    }
    if c.looking_at(",") {
        let n = desc.args.len();
        return c.err(format!("{} takes {n} argument{}", desc.name, if n == 1 { "" } else { "s" }));
    }
    c.expect(")")?;
    if c.eat("<unfinished") {
        c.expect("...>")?;
        c.end()?;
        return Ok(StmtKind::Call { label: label.into(), call: Call { sysno, args, ret: RetExpect::Any, unfinished: true } });
    }
    c.expect("=")?;
    let ret = ret_expect(c, Some(sysno))?;
    c.end()?;
    Ok(StmtKind::Call { label: label.into(), call: Call { sysno, args, ret, unfinished: false } })
}

/// `syscall(NR, a, b, …)`: up to six integer arguments after the number.
fn raw_call(c: &mut Cursor<'_>, label: &str) -> PResult<StmtKind> {
    c.expect("(")?;
    let nr = int_expr(c, None)?;
    let mut args = Vec::new();
    while c.eat(",") {
        if args.len() == 6 {
            return c.err("a syscall takes at most 6 arguments");
        }
        args.push(int_expr(c, None)?);
    }
    c.expect(")")?;
    c.expect("=")?;
    let ret = ret_expect(c, None)?;
    c.end()?;
    Ok(StmtKind::RawCall { label: label.into(), nr, args, ret })
}

fn kernel_first_out(sysno: Sysno) -> usize {
    crate::trace::first_out(sysno)
}

/// What an argument not yet written in an `<unfinished ...>` line stands for.
/// ptrace's `data`, typed by the request: `[0x…]` (PEEKDATA, GETEVENTMSG: the word
/// stored), `{orig_rax=…, …}` (GETREGS: fields checked; SETREGS: the registers given,
/// others 0), or an integer (options, a signal, POKEDATA's word).
fn ptrace_data(c: &mut Cursor<'_>, req: &ArgVal) -> PResult<ArgVal> {
    let req = match req {
        ArgVal::Int(IntExpr::Const(v)) => Some(*v as u64),
        _ => None,
    };
    let kind = req.and_then(crate::trace::ptrace_data_kind);
    c.ws();
    match kind {
        Some((sk, Dir::Out)) => {
            if c.eat("...") {
                return Ok(ArgVal::Out(OutPat::Any));
            }
            if let Some(p) = raw_pointer(c)? {
                return Ok(ArgVal::Out(OutPat::Raw(p)));
            }
            if sk == StructKind::Word {
                c.expect("[")?;
                let rest = c.rest();
                let Some(end) = rest.find(']') else { return c.err("expected [VALUE]") };
                let text = rest[..end].trim().to_string();
                c.pos += end + 1;
                return Ok(ArgVal::Out(OutPat::Struct(alloc::vec![(String::from("word"), text)])));
            }
            Ok(ArgVal::Out(OutPat::Struct(out_struct(c, sk, None)?)))
        }
        Some((sk, Dir::In)) if c.looking_at("{") => Ok(ArgVal::InStruct(sk, in_struct(c, sk)?)),
        _ => Ok(ArgVal::Int(int_expr(c, None)?)),
    }
}

/// ioctl's argument, typed by the request: a userfaultfd structure
/// (`{range={start=$a, len=4096}, mode=UFFDIO_REGISTER_MODE_MISSING, ioctls=0x1c}`) or
/// an integer (a pointer).
fn ioctl_arg(c: &mut Cursor<'_>, req: &ArgVal) -> PResult<ArgVal> {
    let kind = match req {
        ArgVal::Int(IntExpr::Const(v)) => crate::trace::ioctl_arg_kind(*v as u64),
        _ => None,
    };
    match kind {
        Some(sk) if c.looking_at("{") => Ok(ArgVal::Io { sk, elems: alloc::vec![io_struct(c, sk, "")?] }),
        Some(sk) if crate::strace::io_is_array(sk) && c.looking_at("[") => Ok(ArgVal::Io { sk, elems: alloc::vec![io_values(c, sk)?] }),
        _ => Ok(ArgVal::Int(int_expr(c, None)?)),
    }
}

/// `[v, …]`: a structure strace prints as the array of its fields' values (the block
/// ioctls' `[start, len]` and `[size]`), each value for the next field.
fn io_values(c: &mut Cursor<'_>, sk: StructKind) -> PResult<Vec<IoFieldVal>> {
    c.expect("[")?;
    let layout = crate::strace::io_layout(sk);
    let mut out = Vec::new();
    for (i, f) in layout.iter().enumerate() {
        let value = io_value(c)?;
        out.push(IoFieldVal { name: String::from(f.name), value, then: None });
        if i + 1 < layout.len() {
            c.expect(",")?;
        }
    }
    c.expect("]")?;
    Ok(out)
}

/// A field value: `...`, a lone `$var`, or an integer expression.
fn io_value(c: &mut Cursor<'_>) -> PResult<FieldVal> {
    if c.eat("...") || c.eat("\u{2026}") {
        return Ok(FieldVal::Any);
    }
    let save = c.pos;
    if let Some(v) = c.var() {
        if !c.looking_at("+") && !c.looking_at("|") {
            return Ok(FieldVal::Var(v));
        }
        c.pos = save;
    }
    Ok(FieldVal::Expr(int_expr(c, None)?))
}

/// The next `name` of a `{name=…, …}` list with its position, or `None` at its end (`}`,
/// or `...` before it: the fields not named are not checked).
fn next_field<'a>(c: &mut Cursor<'a>) -> PResult<Option<(usize, &'a str)>> {
    if c.eat("...") || c.eat("\u{2026}") {
        c.expect("}")?;
        return Ok(None);
    }
    if c.eat("}") {
        return Ok(None);
    }
    let at = c.pos;
    let name = c.ident().ok_or(()).or_else(|_| c.err("expected a field name or '...'"))?;
    Ok(Some((at, name)))
}

/// `{field=value, nested={…}, field=IN => OUT, ...}` of a structure of
/// `strace::io_layout`.
fn io_struct(c: &mut Cursor<'_>, sk: StructKind, prefix: &str) -> PResult<Vec<IoFieldVal>> {
    c.expect("{")?;
    let layout = crate::strace::io_layout(sk);
    let mut out = Vec::new();
    while let Some((at, name)) = next_field(c)? {
        let full = format!("{prefix}{name}");
        c.expect("=")?;
        let nested = format!("{full}.");
        if c.looking_at("{") && layout.iter().any(|f| f.name.starts_with(&nested)) {
            out.extend(io_struct(c, sk, &nested)?);
        } else {
            if !layout.iter().any(|f| f.name == full) {
                let names: Vec<&str> = layout.iter().filter(|f| f.name.starts_with(prefix)).map(|f| &f.name[prefix.len()..]).collect();
                return c.err_at(at, format!("unknown field '{name}' (fields: {})", names.join(", ")));
            }
            let value = io_value(c)?;
            let then = if c.eat("=>") { Some(io_value(c)?) } else { None };
            out.push(IoFieldVal { name: full, value, then });
        }
        if c.eat("}") {
            return Ok(out);
        }
        c.expect(",")?;
    }
    Ok(out)
}

/// `[{…}, {…}]` of [`io_struct`]s.
fn io_array(c: &mut Cursor<'_>, sk: StructKind) -> PResult<Vec<Vec<IoFieldVal>>> {
    c.expect("[")?;
    let mut elems = Vec::new();
    if c.eat("]") {
        return Ok(elems);
    }
    loop {
        elems.push(io_struct(c, sk, "")?);
        if c.eat("]") {
            return Ok(elems);
        }
        c.expect(",")?;
    }
}

fn placeholder(sysno: Sysno, i: usize) -> ArgVal {
    match sysno.desc().args[i].kind {
        // Room for any address, and a message with a 128-byte name and a 4096-byte buffer.
        ArgKind::SockLen => ArgVal::LenPtr { input: IntExpr::Const(128), expect: None },
        ArgKind::Struct(StructKind::MsgHdr, Dir::Out) => ArgVal::Msg(alloc::boxed::Box::default()),
        k if crate::strace::is_out(&k) => ArgVal::Out(OutPat::Any),
        _ => ArgVal::Int(IntExpr::Const(0)),
    }
}

fn ret_expect(c: &mut Cursor<'_>, sysno: Option<Sysno>) -> PResult<RetExpect> {
    if c.eat("?") {
        return Ok(RetExpect::Any);
    }
    if c.looking_at("-1 ") || c.looking_at("-1\t") {
        let save = c.pos;
        c.eat("-1");
        if let Some(name) = c.ident() {
            let e = match Errno::from_name(name) {
                Some(e) => e,
                None => return c.err_at(c.pos - name.len(), format!("unknown errno '{name}'")),
            };
            if c.looking_at("(") {
                let at = c.pos;
                let open = c.rest();
                let close = open.find(')').ok_or(()).or_else(|_| c.err("unterminated errno message"))?;
                let msg = &open[1..close];
                if msg != e.message() {
                    return c.err_at(at + 1, format!("the message of {} is \"{}\"", name, e.message()));
                }
                c.pos += close + 1;
            }
            return Ok(RetExpect::Err(e));
        }
        c.pos = save;
    }
    let v = pat(c)?;
    // poll's decoration lists the ready entries: checked.
    if matches!(sysno, Some(Sysno::Poll | Sysno::Ppoll)) && c.looking_at("(") && c.rest().trim_start_matches('(').trim_start().starts_with('[') {
        c.expect("(")?;
        let elems = io_array(c, StructKind::PollFd)?;
        c.expect(")")?;
        return Ok(RetExpect::Aux(alloc::boxed::Box::new(RetExpect::Value(v)), elems));
    }
    // strace's decoration of some values (`= 16 (SECBIT_KEEP_CAPS)`) is not checked.
    if c.looking_at("(") {
        let close = c.rest().find(')').ok_or(()).or_else(|_| c.err("unterminated '('"))?;
        c.pos += close + 1;
    }
    Ok(RetExpect::Value(v))
}

pub(super) fn pat(c: &mut Cursor<'_>) -> PResult<Pat> {
    if c.eat("...") || c.eat("?") {
        return Ok(Pat::Any);
    }
    if let Some(v) = c.var() {
        if !c.looking_at("+") {
            return Ok(Pat::Var(v));
        }
        let mut terms = alloc::vec![IntExpr::Var(v)];
        while c.eat("+") {
            terms.push(int_atom(c, None)?);
        }
        return Ok(Pat::Expr(IntExpr::Add(terms)));
    }
    match c.number() {
        Some(n) => Ok(Pat::Const(n)),
        None => c.err("expected a number, a $variable, '?' or '-1 ERRNO'"),
    }
}

/// Named constants an integer may use anywhere.
fn constant(name: &str) -> Option<i64> {
    match name {
        "NULL" => Some(0),
        "AT_FDCWD" => Some(kernel::uapi::fcntl::AT_FDCWD as i64),
        "_LINUX_CAPABILITY_VERSION_1" => Some(_LINUX_CAPABILITY_VERSION_1 as i64),
        "_LINUX_CAPABILITY_VERSION_2" => Some(_LINUX_CAPABILITY_VERSION_2 as i64),
        "_LINUX_CAPABILITY_VERSION_3" => Some(_LINUX_CAPABILITY_VERSION_3 as i64),
        // BPF opcode parts, SECCOMP_RET_*, SECCOMP_MODE_* and AUDIT_ARCH_* (seccomp).
        _ if name.starts_with("BPF_") || name.starts_with("SECCOMP_") || name.starts_with("AUDIT_ARCH_") => kernel::kernel::seccomp::bpf::name_value(name).map(i64::from),
        _ => signal_number(name)
            .map(|s| s as i64)
            .or_else(|| cap_from_name(name).map(|c| c as i64))
            .or_else(|| named(kernel::uapi::prctl::PR_CAP_AMBIENT_OPS, name))
            .or_else(|| named(kernel::uapi::prctl::SUID_DUMP_NAMES, name))
            .or_else(|| named(kernel::uapi::ptrace::PTRACE_CONST_NAMES, name))
            .or_else(|| kernel::uapi::capability::SECBIT_NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v as i64))
            .or_else(|| crate::strace::IO_CONSTANTS.iter().find_map(|t| named(t, name)))
            .or_else(|| named(crate::sockaddr::NET_CONSTANTS, name))
            .or_else(|| named(crate::sockaddr::AF_NAMES, name)),
    }
}

fn named(table: &[(&str, u64)], name: &str) -> Option<i64> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v as i64)
}

/// An integer expression for an argument of `kind`: numbers, `$vars`, the names the
/// kind knows (flags, enum values), `1<<CAP_X`, summed with `+` and joined by `|`
/// (`+` binds tighter).
pub(super) fn int_expr(c: &mut Cursor<'_>, kind: Option<&ArgKind>) -> PResult<IntExpr> {
    let mut parts = Vec::new();
    loop {
        let mut terms = alloc::vec![int_atom(c, kind)?];
        while c.eat("+") {
            terms.push(int_atom(c, kind)?);
        }
        parts.push(if terms.len() == 1 { terms.pop().unwrap_or(IntExpr::Const(0)) } else { IntExpr::Add(terms) });
        if !c.eat("|") {
            break;
        }
    }
    Ok(if parts.len() == 1 { parts.pop().unwrap_or(IntExpr::Const(0)) } else { IntExpr::Or(parts) })
}

/// One operand of [`int_expr`].
fn int_atom(c: &mut Cursor<'_>, kind: Option<&ArgKind>) -> PResult<IntExpr> {
    let at = c.pos;
    Ok(if let Some(v) = c.var() {
        IntExpr::Var(v)
    } else if c.looking_at("-$") {
        c.pos += 1;
        IntExpr::Neg(alloc::boxed::Box::new(IntExpr::Var(c.var().ok_or(()).or_else(|_| c.err("expected a $variable after -"))?)))
    } else if let Some(n) = c.number() {
        if c.eat("<<") {
            let at2 = c.pos;
            let name = c.ident().ok_or(()).or_else(|_| c.err("expected a capability name after <<"))?;
            let cap = cap_from_name(name).ok_or(()).or_else(|_| c.err_at(at2, format!("unknown capability '{name}'")))?;
            IntExpr::Const(n << cap)
        } else {
            IntExpr::Const(n)
        }
    } else if let Some(name) = c.ident() {
        let v = match kind {
            Some(ArgKind::Flags(set)) => set.lookup(name).map(|v| v as i64).or_else(|| (set.signal_low_byte).then(|| signal_number(name).map(|s| s as i64)).flatten()),
            Some(ArgKind::Enum(set)) => set.lookup(name).map(|v| v as i64),
            Some(ArgKind::Signal) => signal_number(name).map(|s| s as i64),
            _ => None,
        };
        match v.or_else(|| constant(name)) {
            Some(v) => IntExpr::Const(v),
            None => {
                let what = match kind {
                    Some(ArgKind::Flags(set)) => format!("unknown flag '{name}' for {}", set.name),
                    Some(ArgKind::Enum(set)) => format!("unknown value '{name}' for {}", set.name),
                    _ => format!("unknown constant '{name}'"),
                };
                return c.err_at(at, what);
            }
        }
    } else {
        return c.err("expected a number, a name or a $variable");
    })
}

/// A raw pointer where a buffer or structure would go: `NULL`, a number, a `$var`.
pub(super) fn raw_pointer(c: &mut Cursor<'_>) -> PResult<Option<IntExpr>> {
    if c.looking_at("NULL") || c.peek().is_some_and(|b| b.is_ascii_digit() || b == b'$') {
        return Ok(Some(int_expr(c, None)?));
    }
    Ok(None)
}

fn arg(c: &mut Cursor<'_>, sysno: Sysno, i: usize, cap_version: Option<u32>) -> PResult<ArgVal> {
    let kind = sysno.desc().args[i].kind;
    if sysno == Sysno::Prctl && i > 0 && c.peek() == Some(b'"') {
        // PR_SET_NAME and friends take a string where the table says unsigned long.
        return Ok(ArgVal::Bytes(quoted(c)?));
    }
    if let Some(a) = super::sockaddr::net_arg(c, &kind)? {
        return Ok(a);
    }
    if crate::strace::is_out(&kind) {
        if c.eat("...") {
            return Ok(ArgVal::Out(OutPat::Any));
        }
        if let Some(p) = raw_pointer(c)? {
            return Ok(ArgVal::Out(OutPat::Raw(p)));
        }
    }
    Ok(match kind {
        ArgKind::Path | ArgKind::Str | ArgKind::InBuf { .. } => match c.string()? {
            Some(w) => ArgVal::Bytes(w),
            None => ArgVal::Int(int_expr(c, None)?),
        },
        ArgKind::StrArray => {
            if c.eat("[") {
                let mut items = Vec::new();
                if !c.eat("]") {
                    loop {
                        items.push(quoted(c)?);
                        if c.eat("]") {
                            break;
                        }
                        c.expect(",")?;
                    }
                }
                ArgVal::Strs(items)
            } else {
                ArgVal::Int(int_expr(c, None)?)
            }
        }
        ArgKind::Struct(StructKind::PollFd, _) => {
            if c.looking_at("[") {
                ArgVal::Io { sk: StructKind::PollFd, elems: io_array(c, StructKind::PollFd)? }
            } else {
                ArgVal::Int(int_expr(c, None)?)
            }
        }
        // read(2) of a userfaultfd: the messages as structures.
        ArgKind::OutBuf { .. } if c.looking_at("{") => ArgVal::Io { sk: StructKind::UffdMsg, elems: alloc::vec![io_struct(c, StructKind::UffdMsg, "")?] },
        ArgKind::OutBuf { .. } if c.looking_at("[") => ArgVal::Io { sk: StructKind::UffdMsg, elems: io_array(c, StructKind::UffdMsg)? },
        ArgKind::Struct(StructKind::SockFprog, Dir::In) | ArgKind::Int | ArgKind::UInt | ArgKind::Ptr if c.looking_at("{") => fprog(c)?,
        ArgKind::Struct(sk, Dir::In) => {
            if c.looking_at("{") {
                ArgVal::InStruct(sk, in_struct(c, sk)?)
            } else {
                ArgVal::Int(int_expr(c, None)?)
            }
        }
        ArgKind::OutBuf { .. } => ArgVal::Out(OutPat::Bytes(quoted(c)?)),
        ArgKind::Struct(StructKind::Dirent64, _) => {
            c.expect("[")?;
            let (mut entries, mut more) = (Vec::new(), false);
            if !c.eat("]") {
                loop {
                    if c.eat("...") {
                        more = true;
                        c.expect("]")?;
                        break;
                    }
                    entries.push(out_struct(c, StructKind::Dirent64, None)?);
                    if c.eat("]") {
                        break;
                    }
                    c.expect(",")?;
                }
            }
            ArgVal::Out(OutPat::Dirents { entries, more })
        }
        ArgKind::Struct(sk, Dir::Out) => ArgVal::Out(OutPat::Struct(out_struct(c, sk, cap_version)?)),
        ArgKind::FdPair => {
            c.expect("[")?;
            let a = pat(c)?;
            c.expect(",")?;
            let b = pat(c)?;
            c.expect("]")?;
            ArgVal::Out(OutPat::FdPair([a, b]))
        }
        ArgKind::WaitStatus => {
            c.expect("[")?;
            let at = c.pos;
            let rest = c.rest();
            let Some(end) = rest.find("}]") else { return c.err("expected [{WIFEXITED(s) && WEXITSTATUS(s) == N}]") };
            let text = rest[..end + 1].trim().to_string();
            if !["{WIFEXITED(s)", "{WIFSIGNALED(s)", "{WIFSTOPPED(s)", "{WIFCONTINUED(s)}"].iter().any(|p| text.starts_with(p)) {
                return c.err_at(at, "expected {WIFEXITED(s) && …}, {WIFSIGNALED(s) && …}, {WIFSTOPPED(s) && …} or {WIFCONTINUED(s)}");
            }
            c.pos += end + 2;
            ArgVal::Out(OutPat::Wait(text))
        }
        k => ArgVal::Int(int_expr(c, Some(&k))?),
    })
}

/// `{len=N, filter=[BPF_STMT(code, k), BPF_JUMP(code, k, jt, jf), …]}` (a `struct
/// sock_fprog`, also accepted where prctl takes it as an integer argument). An
/// instruction may be followed by `* N` to repeat it N times (long filters).
fn fprog(c: &mut Cursor<'_>) -> PResult<ArgVal> {
    c.expect("{")?;
    let (mut len, mut filter) = (None, None);
    loop {
        let at = c.pos;
        match c.ident() {
            Some("len") => {
                c.expect("=")?;
                len = Some(int_expr(c, None)?);
            }
            Some("filter") => {
                c.expect("=")?;
                if !c.eat("[") {
                    filter = Some(FprogFilter::Raw(int_expr(c, None)?));
                } else {
                    let mut insns = Vec::new();
                    if !c.eat("]") {
                        loop {
                            let at2 = c.pos;
                            let jump = match c.ident() {
                                Some("BPF_STMT") => false,
                                Some("BPF_JUMP") => true,
                                _ => return c.err_at(at2, "expected BPF_STMT(code, k) or BPF_JUMP(code, k, jt, jf)"),
                            };
                            c.expect("(")?;
                            let code = int_expr(c, None)?;
                            c.expect(",")?;
                            let k = int_expr(c, None)?;
                            let (jt, jf) = if jump {
                                c.expect(",")?;
                                let jt = int_expr(c, None)?;
                                c.expect(",")?;
                                (jt, int_expr(c, None)?)
                            } else {
                                (IntExpr::Const(0), IntExpr::Const(0))
                            };
                            c.expect(")")?;
                            let mut times = 1;
                            if c.eat("*") {
                                let at3 = c.pos;
                                times = c.number().filter(|n| (1..=65536).contains(n)).ok_or(()).or_else(|_| c.err_at(at3, "expected a repeat count 1..=65536"))?;
                            }
                            for _ in 0..times {
                                insns.push([code.clone(), k.clone(), jt.clone(), jf.clone()]);
                            }
                            if c.eat("]") {
                                break;
                            }
                            c.expect(",")?;
                        }
                    }
                    filter = Some(FprogFilter::Insns(insns));
                }
            }
            _ => return c.err_at(at, "unknown field (fields: len, filter)"),
        }
        if c.eat("}") {
            break;
        }
        c.expect(",")?;
    }
    let Some(filter) = filter else { return c.err("a sock_fprog needs filter=[…] or filter=POINTER") };
    Ok(ArgVal::Fprog { len, filter })
}

/// The fields a structure the kernel reads may be given, with their kinds.
fn in_fields(sk: StructKind) -> &'static [&'static str] {
    match sk {
        StructKind::Timespec => &["tv_sec", "tv_nsec"],
        StructKind::CapHeader => &["version", "pid"],
        StructKind::CapData => &["effective", "permitted", "inheritable"],
        StructKind::UserRegs => &kernel::uapi::ptrace::USER_REGS_NAMES,
        _ => &[],
    }
}

fn in_struct(c: &mut Cursor<'_>, sk: StructKind) -> PResult<Vec<(String, IntExpr)>> {
    c.expect("{")?;
    let mut out = Vec::new();
    if c.eat("}") {
        return Ok(out);
    }
    loop {
        let at = c.pos;
        let name = c.ident().ok_or(()).or_else(|_| c.err("expected a field name"))?;
        if !in_fields(sk).contains(&name) {
            return c.err_at(at, format!("unknown field '{name}' (fields: {})", in_fields(sk).join(", ")));
        }
        c.expect("=")?;
        out.push((name.into(), int_expr(c, None)?));
        if c.eat("}") {
            return Ok(out);
        }
        c.expect(",")?;
    }
}

/// Reads `{field=text, …, ...}` for a structure the kernel writes. Values are kept as
/// text (balanced braces and quotes) and compared with the tracer's rendering.
fn out_struct(c: &mut Cursor<'_>, sk: StructKind, _cap_version: Option<u32>) -> PResult<Vec<(String, String)>> {
    c.expect("{")?;
    let mut out = Vec::new();
    let known = out_fields(sk);
    while let Some((at, name)) = next_field(c)? {
        if !known.contains(&name) {
            return c.err_at(at, format!("unknown field '{name}' (fields: {})", known.join(", ")));
        }
        c.expect("=")?;
        c.ws();
        let rest = c.rest();
        let mut depth = 0i32;
        let mut in_str = false;
        let mut end = rest.len();
        let bytes = rest.as_bytes();
        let mut k = 0;
        while k < bytes.len() {
            let b = bytes[k];
            if in_str {
                if b == b'\\' {
                    k += 1;
                } else if b == b'"' {
                    in_str = false;
                }
            } else {
                match b {
                    b'"' => in_str = true,
                    b'{' | b'(' => depth += 1,
                    b'}' | b')' if depth > 0 => depth -= 1,
                    b',' | b'}' if depth == 0 => {
                        end = k;
                        break;
                    }
                    _ => {}
                }
            }
            k += 1;
        }
        out.push((name.into(), rest[..end].trim().into()));
        c.pos += end;
        if c.eat("}") {
            return Ok(out);
        }
        c.expect(",")?;
    }
    Ok(out)
}

fn out_fields(sk: StructKind) -> &'static [&'static str] {
    match sk {
        StructKind::Timespec => &["tv_sec", "tv_nsec"],
        StructKind::Stat => &["st_mode", "st_size", "st_dev", "st_ino", "st_nlink", "st_uid", "st_gid", "st_blksize", "st_blocks", "st_rdev"],
        StructKind::Utsname => &["sysname", "nodename", "release", "version", "machine", "domainname"],
        StructKind::CapHeader => &["version", "pid"],
        StructKind::CapData => &["effective", "permitted", "inheritable"],
        StructKind::Rusage => &["ru_utime", "ru_stime"],
        StructKind::SockFprog => &["len", "filter"],
        StructKind::UserRegs => &kernel::uapi::ptrace::USER_REGS_NAMES,
        StructKind::Word => &["word"],
        StructKind::Dirent64 => &["d_ino", "d_off", "d_reclen", "d_type", "d_name"],
        StructKind::Statfs => &["f_type", "f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_fsid", "f_namelen", "f_frsize", "f_flags"],
        _ => &[],
    }
}
