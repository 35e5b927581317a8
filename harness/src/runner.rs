//! Runs a parsed scenario in a [`World`]: admin commands as root, call lines marshalled
//! into the task's memory and checked against what the kernel returned and wrote.

use crate::fabric::{End, Fabric, LinkOpts};
use crate::scn::*;
use alloc::boxed::Box;
use crate::strace;
use crate::trace::Trace;
use crate::world::{arena_for, Platform, World, ARENA_SIZE};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use kernel::security::cred::Cred;
use kernel::syscalls::desc::{ArgKind, StructKind};
use kernel::syscalls::Sysno;
use kernel::uapi::capability::_LINUX_CAPABILITY_VERSION_1;
use kernel::{Errno, Kernel, KernelConfig, Pid};

mod net;

/// Makes the platform of each host.
pub trait PlatformFactory {
    /// The platform type.
    type P: Platform;
    /// A machine for host number `index` with `ram` bytes.
    fn make(&self, index: usize, ram: u64) -> Self::P;
    /// A machine with `pmem` bytes of persistent memory besides (none when 0); `Err` says
    /// why the platform cannot build it.
    fn make_pmem(&self, index: usize, ram: u64, pmem: u64) -> Result<Self::P, String> {
        if pmem == 0 {
            Ok(self.make(index, ram))
        } else {
            Err(String::from("this platform has no persistent memory"))
        }
    }
    /// A power cycle of `old`, host `index` booting for the `boot`th time (1 for the first
    /// reboot): RAM zeroed, persistent memory kept. `Err` says why the platform cannot.
    fn reboot(&self, index: usize, boot: u32, ram: u64, old: &Self::P) -> Result<Self::P, String> {
        let _ = (index, boot, ram, old);
        Err(String::from("this platform cannot reboot a host"))
    }
    /// A machine with `nics` Ethernet NICs besides (and `pmem` as for
    /// [`PlatformFactory::make_pmem`]); `Err` says why the platform cannot.
    fn make_nics(&self, index: usize, ram: u64, pmem: u64, nics: u32) -> Result<Self::P, String> {
        if nics == 0 {
            self.make_pmem(index, ram, pmem)
        } else {
            Err(String::from("this platform has no simulated NICs"))
        }
    }
    /// The wire between hosts, if the platform has one.
    fn fabric(&self) -> Option<Box<dyn Fabric>> {
        None
    }
    /// Plugs a simulated disk into `p` (a scenario's `disk` statement); `Err` says why
    /// the platform cannot.
    fn attach_disk(&self, p: &Self::P, spec: &DiskSpec) -> Result<(), String> {
        let _ = (p, spec);
        Err(String::from("this platform has no simulated disks"))
    }
    /// Cuts the power of `p`'s disks: what is not durable is lost (or torn, sector by
    /// sector). The host is rebooted next.
    fn crash_disks(&self, p: &Self::P, tear: bool) -> Result<(), String> {
        let _ = (p, tear);
        Err(String::from("this platform has no simulated disks"))
    }
    /// Every discard disk `disk` of `p` carried out, as (first sector, sectors), in
    /// completion order; `Err` says why the platform cannot tell.
    fn disk_discards(&self, p: &Self::P, disk: u32) -> Result<Vec<(u64, u64)>, String> {
        let _ = (p, disk);
        Err(String::from("this platform has no simulated disks"))
    }
}

/// A `disk` statement's settings.
#[derive(Clone, Debug)]
pub struct DiskSpec {
    /// MiB of zeroes when there is no image.
    pub size_mib: u64,
    /// An image file, relative to the scenario's directory.
    pub image: Option<String>,
    /// The fault plan's text.
    pub faults: String,
    /// `discard_max_hw`, `discard_granularity`, `max_hw_sectors` overrides.
    pub opts: Vec<(String, u64)>,
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when every statement held; else the failure report.
    pub failure: Option<String>,
    /// The trace.
    pub trace: Trace,
    /// Capture files of the scenario's links, by link name (when the platform captured).
    pub pcaps: Vec<(String, Vec<u8>)>,
}

/// The checks of `expect disk NAME discards …` over `pieces` (first sector, sectors);
/// `Err` says which failed, with the pieces in bytes.
fn check_discards(pieces: &[(u64, u64)], max: Option<u64>, tile: Option<(u64, u64)>, aligned: Option<u64>, count: Option<u64>) -> Result<(), String> {
    let bytes: Vec<(u64, u64)> = pieces.iter().map(|&(s, n)| (s << 9, n << 9)).collect();
    let shown = || {
        let list: Vec<String> = bytes.iter().take(64).map(|(s, n)| format!("{s}+{n}")).collect();
        format!("\n  actual: [{}{}]", list.join(", "), if bytes.len() > 64 { ", ..." } else { "" })
    };
    if let Some(m) = max {
        if let Some((s, n)) = bytes.iter().find(|p| p.1 > m) {
            return Err(format!("to be at most {m} bytes each; {s}+{n} is larger{}", shown()));
        }
    }
    if let Some(c) = count {
        if bytes.len() as u64 != c {
            return Err(format!("to be {c}, not {}{}", bytes.len(), shown()));
        }
    }
    if let Some((start, len)) = tile {
        let mut sorted = bytes.clone();
        sorted.sort();
        let mut at = start;
        for &(s, n) in &sorted {
            if s != at {
                return Err(format!("to tile {start}+{len}: {} at {at}{}", if s < at { "overlap" } else { "gap" }, shown()));
            }
            at = s + n;
        }
        if at != start + len {
            return Err(format!("to tile {start}+{len}: they end at {at}{}", shown()));
        }
    }
    if let Some(g) = aligned {
        let (lo, hi) = tile.map_or((u64::MAX, 0), |(s, l)| (s, s + l));
        for &(s, n) in &bytes {
            for b in [s, s + n] {
                // The ends of the whole range need not be aligned.
                if b != lo && b != hi && b % g != 0 {
                    return Err(format!("to meet on multiples of {g}; {b} is not{}", shown()));
                }
            }
        }
    }
    Ok(())
}

/// Ticks allowed for one statement before the run is declared stuck.
pub const TICK_LIMIT: u64 = 5_000_000;

struct Runner<F: PlatformFactory> {
    factory: F,
    world: World<F::P>,
    host: Option<usize>,
    labels: BTreeMap<String, (usize, Pid)>,
    vars: BTreeMap<String, i64>,
    /// Out-argument patterns of calls left `<unfinished ...>`, by label.
    pending: BTreeMap<String, PendingCall>,
    /// RAM size and reboots so far of each host, by index.
    machines: Vec<(u64, u32)>,
    /// Labels of tasks a reboot took away, with the host they were on.
    gone: BTreeMap<String, String>,
    /// Run on each kernel right after it boots (see [`run_with_boot_hook`]).
    boot_hook: Option<fn(&mut Kernel<F::P>)>,
    /// Discards of each (host, disk) already looked at by `expect disk … discards`.
    discards_seen: BTreeMap<(usize, u32), usize>,
}

#[derive(Clone)]
struct PendingCall {
    call: Call,
    addrs: Vec<u64>,
    line: usize,
}

type Fail = String;

/// Runs `scn` in a fresh world.
pub fn run<F: PlatformFactory>(scn: &Scenario, factory: F, tracing: bool) -> Outcome {
    run_inner(scn, factory, tracing, None)
}

/// Runs `scn` with `hook` applied to every kernel as it boots, before any statement
/// touches it: how a test sets up what the scenario language has no command for yet
/// (bringing `lo` up for socket traffic).
pub fn run_with_boot_hook<F: PlatformFactory>(scn: &Scenario, factory: F, tracing: bool, hook: fn(&mut Kernel<F::P>)) -> Outcome {
    run_inner(scn, factory, tracing, Some(hook))
}

fn run_inner<F: PlatformFactory>(scn: &Scenario, factory: F, tracing: bool, boot_hook: Option<fn(&mut Kernel<F::P>)>) -> Outcome {
    let mut r = Runner { factory, world: World::new(tracing), host: None, labels: BTreeMap::new(), vars: BTreeMap::new(), pending: BTreeMap::new(), machines: Vec::new(), gone: BTreeMap::new(), boot_hook, discards_seen: BTreeMap::new() };
    r.world.name_hosts = scn.stmts.iter().filter(|s| matches!(s.kind, StmtKind::Host { .. })).count() > 1;
    for st in &scn.stmts {
        // Every statement must leave every kernel consistent (reference counts, page
        // tables, task links): a broken invariant fails the scenario at that line.
        let checked = r.stmt(st).and_then(|()| {
            r.world.hosts.iter().try_for_each(|h| h.kernel.check_invariants().map_err(|e| format!("kernel invariant broken on {}: {e}", h.name)))
        });
        if let Err(msg) = checked {
            let failure = format!("line {}: {}", st.line, msg);
            r.world.note(format!("FAIL {failure}"));
            let pcaps = r.world.fabric.as_ref().map(|f| f.captures()).unwrap_or_default();
            return Outcome { failure: Some(failure), trace: r.world.trace, pcaps };
        }
    }
    let pcaps = r.world.fabric.as_ref().map(|f| f.captures()).unwrap_or_default();
    Outcome { failure: None, trace: r.world.trace, pcaps }
}

/// A link end as capture file names show it (`a.eth0`, `sw0`).
fn link_end_name(e: &LinkEnd) -> String {
    match e {
        LinkEnd::Nic(h, n) => format!("{h}.eth{n}"),
        LinkEnd::Switch(s) => s.clone(),
    }
}

fn errno_text(e: Errno) -> String {
    format!("{} ({})", e.name().unwrap_or("?"), e.message())
}

impl<F: PlatformFactory> Runner<F> {
    fn host(&mut self) -> usize {
        if let Some(h) = self.host {
            return h;
        }
        self.new_host("k43", kernel::syscalls::Arch::X86_64, 64 << 20)
    }

    fn new_host(&mut self, name: &str, arch: kernel::syscalls::Arch, ram: u64) -> usize {
        let p = self.factory.make(self.world.hosts.len(), ram);
        self.boot_host(name, arch, ram, p)
    }

    fn boot_host(&mut self, name: &str, arch: kernel::syscalls::Arch, ram: u64, p: F::P) -> usize {
        let mut k = Kernel::new(p, KernelConfig { arch, hostname: name.into(), ..KernelConfig::default() });
        if let Some(hook) = self.boot_hook {
            hook(&mut k);
        }
        let h = self.world.add_host(name, k);
        self.machines.push((ram, 0));
        self.host = Some(h);
        h
    }

    fn host_named(&self, name: &str) -> Result<usize, Fail> {
        self.world.hosts.iter().position(|x| x.name == name).ok_or_else(|| format!("no host named '{name}'"))
    }

    /// The world's wire, made by the platform at the first `switch` or `link`.
    fn fabric(&mut self) -> Result<&mut Box<dyn Fabric>, Fail> {
        if self.world.fabric.is_none() {
            self.world.fabric = Some(self.factory.fabric().ok_or("this platform has no simulated network (switch and link need the simulator)")?);
        }
        Ok(self.world.fabric.as_mut().expect("made above"))
    }

    fn link_end(&self, e: &LinkEnd) -> Result<End, Fail> {
        match e {
            LinkEnd::Switch(n) => Ok(End::Switch(n.clone())),
            LinkEnd::Nic(host, nic) => {
                let h = self.host_named(host)?;
                if kernel::hal::Devices::nic_count(&self.world.hosts[h].kernel.hal) <= *nic {
                    return Err(format!("host {host} has no eth{nic} (give it nics=N)"));
                }
                Ok(End::Nic { host: h, nic: *nic })
            }
        }
    }

    /// `reboot [HOST]`: a new machine from the platform's power cycle, a new kernel on it in
    /// the host's place; the old kernel's tasks are gone (their labels fail from now on).
    fn reboot(&mut self, host: Option<&str>) -> Result<(), Fail> {
        let h = match host {
            Some(n) => self.host_named(n)?,
            None => self.host(),
        };
        let (ram, boots) = self.machines[h];
        let boot = boots.saturating_add(1);
        let old = &self.world.hosts[h];
        let (name, arch) = (old.name.clone(), old.kernel.arch);
        let p = self.factory.reboot(h, boot, ram, &old.kernel.hal).map_err(|e| format!("reboot {name}: {e}"))?;
        let mut k = Kernel::new(p, KernelConfig { arch, hostname: name.clone(), ..KernelConfig::default() });
        if let Some(hook) = self.boot_hook {
            hook(&mut k);
        }
        self.world.note(format!("== reboot {name}"));
        self.world.replace_host(h, k);
        self.machines[h].1 = boot;
        let lost: Vec<String> = self.labels.iter().filter(|(_, &(hh, _))| hh == h).map(|(l, _)| l.clone()).collect();
        for l in lost {
            self.labels.remove(&l);
            self.pending.remove(&l);
            self.gone.insert(l, name.clone());
        }
        Ok(())
    }

    fn word(&self, w: &Word) -> Result<Vec<u8>, Fail> {
        let mut out = Vec::new();
        for part in &w.0 {
            match part {
                WordPart::Lit(b) => out.extend_from_slice(b),
                WordPart::Var(v) => out.extend_from_slice(self.var(v)?.to_string().as_bytes()),
            }
        }
        Ok(out)
    }

    fn var(&self, name: &str) -> Result<i64, Fail> {
        if let Some(&v) = self.vars.get(name) {
            return Ok(v);
        }
        if let Some(&(_, pid)) = self.labels.get(name) {
            return Ok(pid as i64);
        }
        Err(format!("${name} is not bound"))
    }

    fn eval(&self, e: &IntExpr) -> Result<i64, Fail> {
        Ok(match e {
            IntExpr::Const(c) => *c,
            IntExpr::Var(v) => self.var(v)?,
            IntExpr::Neg(e) => self.eval(e)?.wrapping_neg(),
            IntExpr::Add(parts) => {
                let mut acc = 0i64;
                for p in parts {
                    acc = acc.wrapping_add(self.eval(p)?);
                }
                acc
            }
            IntExpr::Or(parts) => {
                let mut acc = 0;
                for p in parts {
                    acc |= self.eval(p)?;
                }
                acc
            }
        })
    }

    /// Matches `v` against `p`, binding an unbound variable.
    fn matches(&mut self, p: &Pat, v: i64) -> bool {
        match p {
            Pat::Any => true,
            Pat::Const(c) => *c == v,
            Pat::Expr(e) => self.eval(e).is_ok_and(|x| x == v),
            Pat::Var(name) => match self.var(name) {
                Ok(b) => b == v,
                Err(_) => {
                    self.vars.insert(name.clone(), v);
                    true
                }
            },
        }
    }

    fn label(&self, label: &str) -> Result<(usize, Pid), Fail> {
        self.labels.get(label).copied().ok_or_else(|| match self.gone.get(label) {
            Some(host) => format!("task '{label}' was on host {host}, which rebooted: it is gone"),
            None => format!("no task labelled '{label}'"),
        })
    }

    fn stmt(&mut self, st: &Stmt) -> Result<(), Fail> {
        match &st.kind {
            StmtKind::Host { name, arch, ram, pmem, nics } => {
                if self.world.hosts.iter().any(|h| h.name == *name) {
                    return Err(format!("host '{name}' exists already"));
                }
                let p = self.factory.make_nics(self.world.hosts.len(), *ram, *pmem, *nics).map_err(|e| format!("host {name}: {e}"))?;
                self.boot_host(name, *arch, *ram, p);
            }
            StmtKind::On { host } => self.host = Some(self.host_named(host)?),
            StmtKind::Switch { name } => self.fabric()?.add_switch(name)?,
            StmtKind::Link { a, b, delay_ns, rate_bps, faults } => {
                let (ea, eb) = (self.link_end(a)?, self.link_end(b)?);
                let name = format!("{}-{}", link_end_name(a), link_end_name(b));
                let opts = LinkOpts { delay_ns: *delay_ns, rate_bps: *rate_bps, faults: faults.clone() };
                self.fabric()?.connect(&name, &ea, &eb, &opts)?;
            }
            StmtKind::Inject { host, nic, times, frame } => {
                let h = self.host_named(host)?;
                let Some(mac) = kernel::hal::Devices::nic_mac(&self.world.hosts[h].kernel.hal, *nic) else {
                    return Err(format!("host {host} has no eth{nic} (give it nics=N)"));
                };
                let bytes = crate::packet::build(frame, mac).map_err(|e| format!("inject: {e}"))?;
                for _ in 0..*times {
                    self.world.inject(h, *nic, &bytes);
                }
            }
            StmtKind::Sleep { ns } => {
                let end = self.world.now().saturating_add(*ns);
                self.world.horizon = Some(end);
                let ok = self.world.run_until(TICK_LIMIT, |w| w.now() >= end);
                self.world.horizon = None;
                if !ok {
                    return Err(format!("sleep: the world stopped moving before its end"));
                }
            }
            StmtKind::Reboot { host } => self.reboot(host.as_deref())?,
            StmtKind::Disk { name, size_mib, image, faults, opts } => {
                let h = self.host();
                let spec = DiskSpec { size_mib: *size_mib, image: image.clone(), faults: faults.clone(), opts: opts.clone() };
                self.factory.attach_disk(&self.world.hosts[h].kernel.hal, &spec).map_err(|e| format!("disk {name}: {e}"))?;
                let k = &mut self.world.hosts[h].kernel;
                k.blk_probe();
                if !k.disk_names().iter().any(|n| n == name) {
                    return Err(format!("disk {name}: the disk was probed as {}", k.disk_names().last().map_or("nothing", |s| s.as_str())));
                }
            }
            StmtKind::Crash { tear } => {
                let h = self.host();
                self.factory.crash_disks(&self.world.hosts[h].kernel.hal, *tear)?;
                self.world.note(format!("== power cut{}", if *tear { " (torn writes)" } else { "" }));
                self.reboot(None)?;
            }
            StmtKind::Spawn { label, uid, gid, groups, comm } => {
                if self.labels.contains_key(label) {
                    return Err(format!("task label '{label}' is taken"));
                }
                let h = self.host();
                let k = &mut self.world.hosts[h].kernel;
                let pid = k.create_process(Cred::new(*uid, *gid), comm, 0).map_err(|e| format!("spawn: {}", errno_text(e)))?;
                k.set_groups(pid, groups.clone());
                self.world.hosts[h].scripted.insert(pid);
                self.labels.insert(label.clone(), (h, pid));
                self.gone.remove(label);
                self.world.note(format!("== spawn {label} pid={pid} uid={uid} gid={gid}"));
            }
            StmtKind::File { path, mode, uid, gid, content } => {
                let (p, c) = (self.word(path)?, self.word(content)?);
                let h = self.host();
                self.world.hosts[h].kernel.admin_write_file(&p, *mode, *uid, *gid, &c).map_err(|e| format!("file {}: {}", String::from_utf8_lossy(&p), errno_text(e)))?;
            }
            StmtKind::Mkdir { path, mode, uid, gid } => {
                let p = self.word(path)?;
                let h = self.host();
                self.world.hosts[h].kernel.admin_mkdir(&p, *mode, *uid, *gid).map_err(|e| format!("mkdir {}: {}", String::from_utf8_lossy(&p), errno_text(e)))?;
            }
            StmtKind::Chmod { mode, path } => {
                let p = self.word(path)?;
                let h = self.host();
                self.world.hosts[h].kernel.admin_chmod(&p, *mode).map_err(|e| format!("chmod: {}", errno_text(e)))?;
            }
            StmtKind::Chown { uid, gid, path } => {
                let p = self.word(path)?;
                let h = self.host();
                self.world.hosts[h].kernel.admin_chown(&p, *uid, gid.unwrap_or(u32::MAX)).map_err(|e| format!("chown: {}", errno_text(e)))?;
            }
            StmtKind::Sysctl { key, value } => {
                let h = self.host();
                let k = &mut self.world.hosts[h].kernel;
                if let Some(v) = value {
                    k.admin_sysctl_write(key, v).map_err(|e| format!("sysctl: setting key \"{key}\": {}", errno_text(e)))?;
                }
                let v = k.admin_sysctl_read(key).map_err(|e| format!("sysctl: cannot stat /proc/sys/{}: {}", key.replace('.', "/"), errno_text(e)))?;
                self.world.note(format!("{key} = {v}"));
            }
            StmtKind::Cat { path } => {
                let p = self.word(path)?;
                let h = self.host();
                let data = self.world.hosts[h].kernel.admin_read(&p).map_err(|e| format!("cat: {}: {}", String::from_utf8_lossy(&p), e.message()))?;
                for line in String::from_utf8_lossy(&data).lines() {
                    self.world.note(format!("| {line}"));
                }
            }
            StmtKind::Setcap { caps, text: _, path } => {
                // libcap's setcap: cap_set_file writes the revision-2 xattr (or removes
                // it for -r); a failure is printed as setcap prints it on stderr.
                let p = self.word(path)?;
                let h = self.host();
                let shown = String::from_utf8_lossy(&p).into_owned();
                let k = &mut self.world.hosts[h].kernel;
                let name = kernel::uapi::xattr::XATTR_NAME_CAPS.as_bytes();
                let r = match caps {
                    None => k.admin_removexattr(&p, name),
                    Some(c) => match crate::captext::to_xattr(c) {
                        Ok(v) => k.admin_setxattr(&p, name, &v),
                        Err(e) => {
                            self.world.note(String::from("NOTE: Under Linux, effective file capabilities must either be empty, or"));
                            self.world.note(String::from("      exactly match the union of selected permitted and inheritable bits."));
                            Err(e)
                        }
                    },
                };
                if let Err(e) = r {
                    self.world.note(format!("Failed to set capabilities on file `{shown}' ({})", e.message()));
                }
            }
            StmtKind::Getcap { path } => {
                let p = self.word(path)?;
                let h = self.host();
                let shown = String::from_utf8_lossy(&p).into_owned();
                let r = self.world.hosts[h].kernel.admin_getxattr(&p, kernel::uapi::xattr::XATTR_NAME_CAPS.as_bytes()).and_then(|v| crate::captext::from_xattr(&v));
                match r {
                    Ok(c) => self.world.note(format!("{shown} {}", crate::captext::to_text(&c))),
                    Err(Errno::ENODATA) => {}
                    Err(e) => self.world.note(format!("Failed to get capabilities of file `{shown}' ({})", e.message())),
                }
            }
            StmtKind::Call { label, call } => self.call(label, call, st.line)?,
            StmtKind::Resumed { label, sysno, rest, ret } => self.resumed(label, *sysno, rest, ret)?,
            StmtKind::RawCall { label, nr, args, ret } => self.raw_call(label, nr, args, ret)?,
            StmtKind::Run => {
                self.world.run_until(TICK_LIMIT, |w| w.quiescent());
            }
            StmtKind::Wait { label } => {
                let (h, pid) = self.label(label)?;
                let ok = self.world.run_until(TICK_LIMIT, |w| w.hosts[h].exits.contains_key(&pid));
                if !ok {
                    return Err(format!("wait {label}: the task never exited (the world went idle)"));
                }
            }
            StmtKind::Expect(e) => self.expect(e)?,
            StmtKind::Ip { args } => {
                let (shown, out) = self.run_ip(args)?;
                for line in out.text.lines() {
                    self.world.note(format!("| {line}"));
                }
                if out.status != 0 {
                    return Err(format!("ip {shown}: exit status {}", out.status));
                }
            }
        }
        Ok(())
    }

    /// `ip ARGS…` as root on the current host (`harness::ip`), with `$var`s expanded;
    /// returns the command line as run and what it produced.
    fn run_ip(&mut self, args: &[Word]) -> Result<(String, crate::ip::IpOutput), Fail> {
        let mut words = Vec::new();
        for w in args {
            words.push(String::from_utf8_lossy(&self.word(w)?).into_owned());
        }
        let argv: Vec<&str> = words.iter().map(String::as_str).collect();
        let h = self.host();
        let out = crate::ip::ip(&mut self.world.hosts[h].kernel, &argv);
        Ok((words.join(" "), out))
    }

    fn expect(&mut self, e: &Expect) -> Result<(), Fail> {
        let check = |op: TextOp, hay: &[u8], needle: &[u8], what: &str| -> Result<(), Fail> {
            let found = match op {
                TextOp::Equals => hay == needle,
                TextOp::Contains => needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle),
                TextOp::Lacks => !(needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)),
            };
            if found {
                return Ok(());
            }
            let verb = match op {
                TextOp::Equals => "to equal",
                TextOp::Contains => "to contain",
                TextOp::Lacks => "not to contain",
            };
            Err(format!("expected {what} {verb} {}\n  actual: {}", strace::quote(needle, None), strace::quote(hay, Some(2048))))
        };
        match e {
            Expect::File { path, op, text } => {
                let p = self.word(path)?;
                let t = self.word(text)?;
                let h = self.host();
                let data = self.world.hosts[h].kernel.admin_read(&p).map_err(|e| format!("expect: {}: {}", String::from_utf8_lossy(&p), errno_text(e)))?;
                check(*op, &data, &t, &String::from_utf8_lossy(&p))
            }
            Expect::Trace { op, text } => {
                let t = self.word(text)?;
                let all = self.world.trace.lines.join("\n");
                check(*op, all.as_bytes(), &t, "the trace")
            }
            Expect::Dmesg { op, text } => {
                let t = self.word(text)?;
                let h = self.host();
                let all = self.world.hosts[h].kernel.dmesg().join("\n");
                check(*op, all.as_bytes(), &t, "dmesg")
            }
            Expect::Ip { args, op, text } => {
                let t = self.word(text)?;
                let (shown, out) = self.run_ip(args)?;
                check(*op, out.text.as_bytes(), &t, &format!("the output of `ip {shown}`"))
            }
            Expect::Exited { label, code } => self.expect_status(label, kernel::uapi::wait::exited(*code)),
            Expect::Killed { label, sig } => self.expect_status(label, kernel::uapi::wait::signaled(*sig, false)),
            Expect::DiskDiscards { disk, max, tile, aligned, count } => {
                let h = self.host();
                let idx = self.world.hosts[h].kernel.disk_hal_index(disk).ok_or_else(|| format!("expect: no disk {disk}"))?;
                let all = self.factory.disk_discards(&self.world.hosts[h].kernel.hal, idx)?;
                let seen = self.discards_seen.insert((h, idx), all.len()).unwrap_or(0);
                let new: Vec<(u64, u64)> = all.get(seen.min(all.len())..).unwrap_or(&[]).to_vec();
                check_discards(&new, *max, *tile, *aligned, *count).map_err(|e| format!("expected {disk}'s discards {e}"))
            }
        }
    }

    fn expect_status(&mut self, label: &str, want: i32) -> Result<(), Fail> {
        let (h, pid) = self.label(label)?;
        match self.world.hosts[h].exits.get(&pid) {
            Some(&st) if st == want => Ok(()),
            Some(&st) => Err(format!("expected {label} to end {}\n  actual: {}", strace::wait_status(want), strace::wait_status(st))),
            None => Err(format!("expected {label} to end {}\n  actual: still running", strace::wait_status(want))),
        }
    }

    /// Writes the call's inputs into the task's arena; returns registers and, per
    /// argument, the address of what was marshalled (0 when nothing was).
    fn marshal(&mut self, h: usize, pid: Pid, call: &Call) -> Result<([u64; 6], Vec<u64>), Fail> {
        let desc = call.sysno.desc();
        let mut regs = [0u64; 6];
        let mut addrs = alloc::vec![0u64; desc.args.len()];
        // First the plain integers: buffer sizes depend on them.
        for (i, a) in call.args.iter().enumerate() {
            if let ArgVal::Int(e) = a {
                regs[i] = self.eval(e)? as u64;
            }
            if let ArgVal::Out(OutPat::Raw(e)) = a {
                regs[i] = self.eval(e)? as u64;
            }
        }
        let base = arena_for(pid);
        let mut off = 0u64;
        let mut writes: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut alloc = |len: usize| -> Result<u64, Fail> {
            let a = base + off;
            off += (len as u64).max(1).next_multiple_of(16);
            if off > ARENA_SIZE {
                return Err(format!("arguments need more than {ARENA_SIZE} bytes of scratch memory"));
            }
            Ok(a)
        };
        let cap_words = match call.args.first() {
            Some(ArgVal::InStruct(StructKind::CapHeader, f)) => f
                .iter()
                .find(|(k, _)| k == "version")
                .map(|(_, v)| if matches!(v, IntExpr::Const(c) if *c as u32 == _LINUX_CAPABILITY_VERSION_1) { 1 } else { 2 })
                .unwrap_or(2),
            _ => 2,
        };
        let aarch64 = self.world.hosts[h].kernel.arch == kernel::syscalls::Arch::Aarch64;
        for (i, a) in call.args.iter().enumerate() {
            let kind = desc.args[i].kind;
            match a {
                ArgVal::Int(_) | ArgVal::Out(OutPat::Raw(_)) => {}
                ArgVal::Bytes(w) => {
                    let mut b = self.word(w)?;
                    if !matches!(kind, ArgKind::InBuf { .. }) {
                        b.push(0);
                    }
                    let at = alloc(b.len())?;
                    writes.push((at, b));
                    regs[i] = at;
                }
                ArgVal::Strs(items) => {
                    let mut ptrs = Vec::new();
                    for w in items {
                        let mut b = self.word(w)?;
                        b.push(0);
                        let at = alloc(b.len())?;
                        writes.push((at, b));
                        ptrs.extend_from_slice(&at.to_le_bytes());
                    }
                    ptrs.extend_from_slice(&0u64.to_le_bytes());
                    let at = alloc(ptrs.len())?;
                    writes.push((at, ptrs));
                    regs[i] = at;
                }
                ArgVal::InStruct(sk, fields) => {
                    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v);
                    let val = |n: &str| -> Result<i64, Fail> { get(n).map(|e| self.eval(e)).unwrap_or(Ok(0)) };
                    let bytes: Vec<u8> = match sk {
                        StructKind::Timespec => [val("tv_sec")?.to_le_bytes(), val("tv_nsec")?.to_le_bytes()].concat(),
                        StructKind::CapHeader => [(val("version")? as u32).to_le_bytes(), (val("pid")? as i32).to_le_bytes()].concat(),
                        StructKind::CapData => {
                            let (e, p, inh) = (val("effective")? as u64, val("permitted")? as u64, val("inheritable")? as u64);
                            let mut b = Vec::new();
                            for w in 0..cap_words {
                                for v in [e, p, inh] {
                                    b.extend_from_slice(&((v >> (32 * w)) as u32).to_le_bytes());
                                }
                            }
                            b
                        }
                        StructKind::UserRegs => {
                            let mut b = Vec::with_capacity(kernel::uapi::ptrace::USER_REGS_SIZE);
                            for n in kernel::uapi::ptrace::USER_REGS_NAMES {
                                b.extend_from_slice(&val(n)?.to_le_bytes());
                            }
                            b
                        }
                        _ => return Err(format!("{} cannot be given as input", desc.args[i].name)),
                    };
                    let at = alloc(bytes.len())?;
                    writes.push((at, bytes));
                    regs[i] = at;
                }
                ArgVal::Io { sk, elems } => {
                    let size = strace::struct_size(*sk, aarch64, 0);
                    let mut b = alloc::vec![0u8; size * elems.len()];
                    let layout = strace::io_layout(*sk);
                    for (j, fields) in elems.iter().enumerate() {
                        for fv in fields {
                            let Some(f) = layout.iter().find(|f| f.name == fv.name).filter(|f| f.input) else { continue };
                            let v = match &fv.value {
                                FieldVal::Any => 0,
                                FieldVal::Var(n) => self.var(n)?,
                                FieldVal::Expr(e) => self.eval(e)?,
                            };
                            strace::io_put(f, &mut b[j * size..], v);
                        }
                    }
                    // A read buffer is as large as the count says.
                    let room = match kind {
                        ArgKind::OutBuf { len_arg } => (regs[len_arg] as usize).min(ARENA_SIZE as usize / 2).max(b.len()),
                        _ => b.len(),
                    };
                    let at = alloc(room)?;
                    writes.push((at, b));
                    regs[i] = at;
                    addrs[i] = at;
                }
                ArgVal::Fprog { len, filter } => {
                    let (n, fp) = match filter {
                        FprogFilter::Raw(e) => (0, self.eval(e)? as u64),
                        FprogFilter::Insns(insns) => {
                            let mut b = Vec::with_capacity(insns.len() * 8);
                            for [code, k, jt, jf] in insns {
                                let f = kernel::kernel::seccomp::bpf::SockFilter { code: self.eval(code)? as u16, jt: self.eval(jt)? as u8, jf: self.eval(jf)? as u8, k: self.eval(k)? as u32 };
                                b.extend_from_slice(&f.to_bytes());
                            }
                            let at = alloc(b.len())?;
                            writes.push((at, b));
                            (insns.len() as i64, at)
                        }
                    };
                    let n = match len {
                        Some(e) => self.eval(e)?,
                        None => n,
                    };
                    let mut b = alloc::vec![0u8; 16];
                    b[0..2].copy_from_slice(&(n as u16).to_le_bytes());
                    b[8..16].copy_from_slice(&fp.to_le_bytes());
                    let at = alloc(16)?;
                    writes.push((at, b));
                    regs[i] = at;
                }
                ArgVal::SockAddr(_) | ArgVal::LenPtr { .. } | ArgVal::Msg(_) => {
                    let (reg, at) = self.marshal_net(a, kind, &regs, &mut alloc, &mut writes)?;
                    regs[i] = reg;
                    addrs[i] = at;
                }
                ArgVal::Out(_) => {
                    let ptrace_sk = if call.sysno == Sysno::Ptrace { crate::trace::ptrace_data_kind(regs[0] as u32 as u64).map(|k| k.0) } else { None };
                    let len = match kind {
                        _ if ptrace_sk.is_some() => strace::struct_size(ptrace_sk.unwrap_or(StructKind::Word), aarch64, 0),
                        ArgKind::OutBuf { len_arg } => (regs[len_arg] as usize).min(ARENA_SIZE as usize / 2),
                        ArgKind::Struct(StructKind::Dirent64, _) => (regs[2] as u32 as usize).min(ARENA_SIZE as usize / 2),
                        ArgKind::Struct(sk, _) => strace::struct_size(sk, aarch64, cap_words),
                        ArgKind::FdPair => 8,
                        ArgKind::WaitStatus => 4,
                        ArgKind::SockAddrOut { .. } => crate::sockaddr::SOCKADDR_STORAGE_LEN,
                        _ => 8,
                    };
                    let at = alloc(len)?;
                    regs[i] = at;
                    addrs[i] = at;
                }
            }
        }
        let k = &mut self.world.hosts[h].kernel;
        for (at, mut b) in writes {
            k.user_mode_access(pid, at, &mut b, true).map_err(|e| format!("cannot write arguments into the task's memory: {}", errno_text(e)))?;
        }
        Ok((regs, addrs))
    }

    fn call(&mut self, label: &str, call: &Call, line: usize) -> Result<(), Fail> {
        let (h, pid) = self.label(label)?;
        if !self.world.hosts[h].scripted.contains(&pid) {
            return Err(format!("{label} is not a scripted task (it exited or runs a program)"));
        }
        if self.pending.contains_key(label) {
            return Err(format!("{label} is still inside an unfinished call"));
        }
        let (regs, addrs) = self.marshal(h, pid, call)?;
        self.world.submit(h, pid, call.sysno, regs).map_err(|e| format!("{label}: cannot enter {}: {}", call.sysno.desc().name, errno_text(e)))?;
        if call.unfinished {
            let done = self.world.run_until(TICK_LIMIT, |w| w.hosts[h].blocked.contains(&pid) || w.hosts[h].completed.contains_key(&pid));
            if let Some(&ret) = self.world.hosts[h].completed.get(&pid) {
                return Err(format!("expected {}(…) to block\n  actual: it returned {}", call.sysno.desc().name, strace::retval(call.sysno.desc().ret, ret)));
            }
            if !done {
                return Err(format!("{label}: {} neither blocked nor returned", call.sysno.desc().name));
            }
            self.pending.insert(label.into(), PendingCall { call: call.clone(), addrs, line });
            return Ok(());
        }
        let ret = self.wait_completion(h, pid, label, call.sysno.desc().name)?;
        self.check(h, pid, call.sysno, &call.args, &addrs, &call.ret, ret, &regs)
    }

    fn raw_call(&mut self, label: &str, nr: &IntExpr, args: &[IntExpr], want: &RetExpect) -> Result<(), Fail> {
        let (h, pid) = self.label(label)?;
        let nr = self.eval(nr)? as u64;
        let mut regs = [0u64; 6];
        for (i, a) in args.iter().enumerate() {
            regs[i] = self.eval(a)? as u64;
        }
        self.world.submit_raw(h, pid, nr, regs).map_err(|e| format!("{label}: cannot enter syscall {nr}: {}", errno_text(e)))?;
        let ret = self.wait_completion(h, pid, label, "syscall")?;
        let ok = self.ret_ok(want, ret);
        if !ok {
            let last = self.world.trace.lines.iter().rev().find(|l| l.contains(&format!("[pid {pid}] "))).cloned().unwrap_or_default();
            return Err(format!("syscall {nr} returned {}
  actual: {last}", strace::retval(kernel::syscalls::desc::RetKind::Int, ret)));
        }
        Ok(())
    }

    fn ret_ok(&mut self, want: &RetExpect, ret: i64) -> bool {
        match want {
            RetExpect::Any => true,
            RetExpect::Err(e) => ret == e.ret(),
            RetExpect::Value(p) => !(-4095..0).contains(&ret) && self.matches(p, ret),
            RetExpect::Aux(b, _) => self.ret_ok(b, ret),
        }
    }

    /// Checks the expected fields of in/out structures at `at` (element `j` at
    /// `at + j * size`): output fields and `=> OUT`s, or every listed field (`all_out`).
    #[allow(clippy::too_many_arguments)]
    fn check_io(&mut self, h: usize, pid: Pid, sk: StructKind, at: u64, elems: &[Vec<IoFieldVal>], all_out: bool, what: &str, last: &dyn Fn() -> String) -> Result<(), Fail> {
        let aarch64 = self.world.hosts[h].kernel.arch == kernel::syscalls::Arch::Aarch64;
        let size = strace::struct_size(sk, aarch64, 0);
        let layout = strace::io_layout(sk);
        for (j, fields) in elems.iter().enumerate() {
            let b = self.world.hosts[h].kernel.peek_user(pid, at + (j * size) as u64, size).unwrap_or_default();
            for fv in fields {
                let Some(f) = layout.iter().find(|f| f.name == fv.name) else { continue };
                let want = match &fv.then {
                    Some(t) => t,
                    None if f.output || all_out => &fv.value,
                    None => continue,
                };
                let have = strace::io_get(f, &b);
                let ok = match want {
                    FieldVal::Any => true,
                    FieldVal::Var(n) => self.matches(&Pat::Var(n.clone()), have),
                    FieldVal::Expr(e) => {
                        let mut tmp = alloc::vec![0u8; size];
                        strace::io_put(f, &mut tmp, self.eval(e)?);
                        strace::io_get(f, &tmp) == have
                    }
                };
                if !ok {
                    let mut tmp = alloc::vec![0u8; size];
                    let expected = match want {
                        FieldVal::Expr(e) => {
                            strace::io_put(f, &mut tmp, self.eval(e)?);
                            strace::io_field_text(f, &tmp)
                        }
                        FieldVal::Var(n) => format!("${n}"),
                        FieldVal::Any => String::from("..."),
                    };
                    let idx = if elems.len() > 1 { format!("[{j}]") } else { String::new() };
                    return Err(format!("{what}{idx}.{} is {}, expected {expected}\n  actual: {}", f.name, strace::io_field_text(f, &b), last()));
                }
            }
        }
        Ok(())
    }

    fn wait_completion(&mut self, h: usize, pid: Pid, label: &str, name: &str) -> Result<i64, Fail> {
        let exits_before = self.world.hosts[h].exits.contains_key(&pid);
        let ok = self.world.run_until(TICK_LIMIT, |w| w.hosts[h].completed.contains_key(&pid) || w.hosts[h].exits.contains_key(&pid));
        if let Some(&ret) = self.world.hosts[h].completed.get(&pid) {
            self.world.hosts[h].completed.remove(&pid);
            return Ok(ret);
        }
        if !exits_before && self.world.hosts[h].exits.contains_key(&pid) {
            // exit/exit_group (or a fatal signal) ended the task inside the call.
            return Ok(i64::MIN);
        }
        let _ = ok;
        Err(format!("{label}: {name}(…) never returned: the task is blocked and nothing can wake it"))
    }

    fn resumed(&mut self, label: &str, sysno: Sysno, rest: &[ArgVal], ret: &RetExpect) -> Result<(), Fail> {
        let (h, pid) = self.label(label)?;
        let Some(p) = self.pending.remove(label) else { return Err(format!("{label} has no unfinished call to resume")) };
        if p.call.sysno != sysno {
            return Err(format!("{label}'s unfinished call (line {}) is {}, not {}", p.line, p.call.sysno.desc().name, sysno.desc().name));
        }
        let r = self.wait_completion(h, pid, label, sysno.desc().name)?;
        let first = crate::trace::first_out(sysno);
        let mut args = p.call.args.clone();
        for (j, a) in rest.iter().enumerate() {
            if let (Some(slot), ArgVal::Out(_) | ArgVal::LenPtr { .. } | ArgVal::Msg(_)) = (args.get_mut(first + j), a) {
                *slot = a.clone();
            }
        }
        let regs = [0u64; 6];
        self.check(h, pid, sysno, &args, &p.addrs, ret, r, &regs)
    }

    #[allow(clippy::too_many_arguments)]
    fn check(&mut self, h: usize, pid: Pid, sysno: Sysno, args: &[ArgVal], addrs: &[u64], want: &RetExpect, ret: i64, _regs: &[u64; 6]) -> Result<(), Fail> {
        let last = self.world.trace.lines.iter().rev().find(|l| l.contains(&format!("[pid {pid}] "))).cloned().unwrap_or_default();
        let last = || last.clone();
        let desc = sysno.desc();
        if ret == i64::MIN {
            // The task ended inside the call: only `= ?` fits.
            return match want {
                RetExpect::Any => Ok(()),
                _ => Err(format!("expected {} to return\n  actual: {}", desc.name, last())),
            };
        }
        let (want, aux) = match want {
            RetExpect::Aux(b, aux) => (b.as_ref(), Some(aux)),
            w => (w, None),
        };
        let ok = self.ret_ok(want, ret);
        if !ok {
            let expected = match want {
                RetExpect::Err(e) => format!("-1 {}", errno_text(*e)),
                RetExpect::Value(Pat::Const(c)) => strace::retval(desc.ret, *c),
                RetExpect::Value(Pat::Expr(e)) => self.eval(e).map(|x| strace::retval(desc.ret, x)).unwrap_or_else(|e| e),
                RetExpect::Value(Pat::Var(v)) => format!("${v} = {}", self.var(v).map(|x| x.to_string()).unwrap_or_else(|_| String::from("a value"))),
                _ => String::from("?"),
            };
            return Err(format!("{} returned {}, expected {}\n  actual: {}", desc.name, strace::retval(desc.ret, ret), expected, last()));
        }
        // A successful fork of a scripted task: the child is scripted too; a variable
        // bound to its pid names it as a task label.
        if matches!(sysno, Sysno::Fork | Sysno::Clone) && ret > 0 {
            if let RetExpect::Value(Pat::Var(v)) = want {
                self.labels.entry(v.clone()).or_insert((h, ret as Pid));
            }
        }
        let aarch64 = self.world.hosts[h].kernel.arch == kernel::syscalls::Arch::Aarch64;
        for (i, a) in args.iter().enumerate() {
            let ArgVal::Io { sk, elems } = a else { continue };
            let at = addrs.get(i).copied().unwrap_or(0);
            if at == 0 {
                continue;
            }
            let what = format!("{}: {}", desc.name, desc.args[i].name);
            if *sk == StructKind::UffdMsg {
                // Messages are checked only as far as the read returned them.
                let got = if ret > 0 { ret as usize / kernel::uapi::userfaultfd::UFFD_MSG_SIZE } else { 0 };
                if elems.len() > got {
                    return Err(format!("{what}: {} message(s) expected, {got} read\n  actual: {}", elems.len(), last()));
                }
            }
            self.check_io(h, pid, *sk, at, elems, false, &what, &last)?;
            // poll's decoration: the entries with events, in order.
            if let (StructKind::PollFd, Some(aux)) = (*sk, aux) {
                let size = kernel::fs::poll::POLLFD_SIZE;
                let k = &self.world.hosts[h].kernel;
                let b = k.peek_user(pid, at, size * elems.len()).unwrap_or_default();
                let ready: Vec<u64> = (0..elems.len()).filter(|j| b.get(j * size + 6..j * size + 8).is_some_and(|r| r != [0, 0])).map(|j| at + (j * size) as u64).collect();
                if ready.len() != aux.len() {
                    let text = crate::trace::pollfd_array(at, elems.len() as u64, &crate::world::KernelPeek { k, pid }, true);
                    return Err(format!("{}: {} entries have events, expected {}: {text}\n  actual: {}", desc.name, ready.len(), aux.len(), last()));
                }
                for (a, want) in ready.into_iter().zip(aux.iter()) {
                    self.check_io(h, pid, StructKind::PollFd, a, core::slice::from_ref(want), true, desc.name, &last)?;
                }
            }
        }
        self.check_net(h, pid, sysno, args, addrs, ret, &last)?;
        for (i, a) in args.iter().enumerate() {
            let ArgVal::Out(pat) = a else { continue };
            let at = addrs.get(i).copied().unwrap_or(0);
            if at == 0 || matches!(pat, OutPat::Any | OutPat::Raw(_)) {
                continue;
            }
            let k = &self.world.hosts[h].kernel;
            let name = desc.args[i].name;
            match pat {
                OutPat::Bytes(w) => {
                    let want = self.word(w)?;
                    // What was written: the return value, but never past the buffer
                    // (recvfrom with MSG_TRUNC returns a datagram's whole length).
                    let cap = match desc.args[i].kind {
                        ArgKind::OutBuf { len_arg } => args.get(len_arg).and_then(|a| if let ArgVal::Int(e) = a { self.eval(e).ok() } else { None }).map_or(u64::MAX, |v| v as u64),
                        _ => u64::MAX,
                    };
                    let got = if ret >= 0 { k.peek_user(pid, at, (ret as u64).min(cap) as usize).unwrap_or_default() } else { Vec::new() };
                    if got != want {
                        return Err(format!("{}: {name} holds {}, expected {}\n  actual: {}", desc.name, strace::quote(&got, None), strace::quote(&want, None), last()));
                    }
                }
                OutPat::FdPair([a, b]) => {
                    let got = k.peek_user(pid, at, 8).unwrap_or_default();
                    if got.len() == 8 && ret >= 0 {
                        let r0 = i32::from_le_bytes([got[0], got[1], got[2], got[3]]) as i64;
                        let r1 = i32::from_le_bytes([got[4], got[5], got[6], got[7]]) as i64;
                        if !(self.matches(a, r0) && self.matches(b, r1)) {
                            return Err(format!("{}: {name} is [{r0}, {r1}]\n  actual: {}", desc.name, last()));
                        }
                    }
                }
                OutPat::Wait(text) => {
                    let got = k.peek_user(pid, at, 4).unwrap_or_default();
                    if got.len() == 4 && ret > 0 {
                        let st = strace::wait_status(i32::from_le_bytes([got[0], got[1], got[2], got[3]]));
                        if norm(&st) != norm(text) {
                            return Err(format!("{}: status is {st}, expected {text}\n  actual: {}", desc.name, last()));
                        }
                    }
                }
                OutPat::Struct(fields) => {
                    if ret < 0 {
                        continue;
                    }
                    let sk = match (sysno, desc.args[i].kind) {
                        (Sysno::Ptrace, _) => {
                            let req = match args.first() {
                                Some(ArgVal::Int(e)) => self.eval(e)? as u32 as u64,
                                _ => continue,
                            };
                            let Some((sk, _)) = crate::trace::ptrace_data_kind(req) else { continue };
                            sk
                        }
                        (_, ArgKind::Struct(sk, _)) => sk,
                        _ => continue,
                    };
                    let words = if sk == StructKind::CapData {
                        let hdr = match args.first() {
                            Some(ArgVal::InStruct(_, f)) => f.iter().find(|(k, _)| k == "version").and_then(|(_, v)| self.eval(v).ok()),
                            _ => None,
                        };
                        if hdr.map(|v| v as u32) == Some(_LINUX_CAPABILITY_VERSION_1) { 1 } else { 2 }
                    } else {
                        0
                    };
                    let bytes = k.peek_user(pid, at, strace::struct_size(sk, aarch64, words)).unwrap_or_default();
                    let (got, _) = strace::decode_struct(sk, &bytes, aarch64);
                    for (f, want_text) in fields.iter().filter(|(_, v)| v != "...") {
                        let have = got.iter().find(|(n, _)| n == f).map(|(_, v)| v.clone()).unwrap_or_default();
                        let want_text = if sk == StructKind::CapData {
                            parse_num(want_text).map(strace::capset).unwrap_or_else(|| want_text.clone())
                        } else if sk == StructKind::Word || sk == StructKind::UserRegs {
                            // Numbers compare by value (`[0x1f]` == `[31]`, `rax=-38`); a
                            // `$var` binds or compares.
                            if let Some(var) = want_text.trim().strip_prefix('$') {
                                let h = parse_signed(&have).unwrap_or(0) as i64;
                                if self.matches(&Pat::Var(var.into()), h) {
                                    continue;
                                }
                            }
                            let v = parse_signed(want_text);
                            let h = parse_signed(&have);
                            if v.is_some() && v == h {
                                have.clone()
                            } else {
                                want_text.clone()
                            }
                        } else {
                            want_text.clone()
                        };
                        if norm(&have) != norm(&want_text) {
                            return Err(format!("{}: {name}.{f} is {have}, expected {want_text}\n  actual: {}", desc.name, last()));
                        }
                    }
                }
                OutPat::Dirents { entries, more } => {
                    if ret < 0 {
                        continue;
                    }
                    let bytes = k.peek_user(pid, at, ret as usize).unwrap_or_default();
                    let got = strace::dirents(&bytes);
                    if got.len() < entries.len() || (!more && got.len() != entries.len()) {
                        return Err(format!("{}: {name} holds {} entries, expected {}{}\n  actual: {}", desc.name, got.len(), if *more { "at least " } else { "" }, entries.len(), last()));
                    }
                    for (j, (want, have)) in entries.iter().zip(got.iter()).enumerate() {
                        for (f, want_text) in want.iter().filter(|(_, v)| v != "...") {
                            let h = have.iter().find(|(n, _)| n == f).map(|(_, v)| v.clone()).unwrap_or_default();
                            if norm(&h) != norm(want_text) {
                                return Err(format!("{}: {name}[{j}].{f} is {h}, expected {want_text}\n  actual: {}", desc.name, last()));
                            }
                        }
                    }
                }
                OutPat::Any | OutPat::Raw(_) | OutPat::Text(_) => {}
            }
        }
        Ok(())
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_signed(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(r) => parse_num(r).map(|v| v.wrapping_neg()),
        None => parse_num(s),
    }
}

fn parse_num(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}
