//! The world: one or more hosts (each a [`Kernel`]), the user programs running on them,
//! scripted tasks driven by scenario lines, and the tracer watching every syscall.
//!
//! One [`World::tick`] is one scheduling decision: run a ready syscall in some kernel, or
//! poll a ready program. Which one is drawn from the seed; when nothing is ready, virtual
//! time jumps to the next timer.

use crate::exec::{ProgTask, Request, Response};
use crate::fabric::Fabric;
use alloc::boxed::Box;
use crate::strace::{self, Peek};
use crate::trace::{self, Trace};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kernel::hal::Hal;
use kernel::kernel::sched::SYSCALL_COST_NS;
use kernel::mm::{STACK_SIZE, STACK_TOP};
use kernel::syscalls::desc::RetKind;
use kernel::syscalls::{Arch, Sysno};
use kernel::{Errno, KEvent, Kernel, Pid};

/// What the world needs from a platform beyond the HAL: control of idle time and the
/// console. The simulator jumps its clock; bare metal waits for the timer.
pub trait Platform: Hal {
    /// Nothing is ready until monotonic time `t`: get there.
    fn idle_until(&self, t: u64);
    /// Work worth `ns` of CPU time was done.
    fn charge(&self, ns: u64);
    /// Console output since the last call.
    fn take_console(&self) -> Vec<u8>;
    /// Frames the machine's NICs transmitted since the last call, as (NIC, frame), oldest
    /// first. A platform whose NICs put frames on a real wire has none to hand over.
    fn take_frames(&self) -> Vec<(u32, Vec<u8>)> {
        Vec::new()
    }
    /// Whether [`Platform::take_frames`] has something to hand over.
    fn frames_pending(&self) -> bool {
        false
    }
    /// When the next disk request finishes, if one is in service. A platform whose disks
    /// interrupt the kernel itself has none to report.
    fn disk_deadline(&self) -> Option<u64> {
        None
    }
    /// Disk requests finished by now, as (disk, completion), oldest first.
    fn disk_completions(&self) -> Vec<(u32, kernel::hal::BlkCompletion)> {
        Vec::new()
    }
}

/// Scratch memory for marshalling a task's syscall arguments: a 256 KiB slice of its
/// stack VMA, chosen by pid so that threads sharing memory do not collide.
pub fn arena_for(pid: Pid) -> u64 {
    STACK_TOP - STACK_SIZE + 0x1_0000 + (pid as u64 % 30) * 0x4_0000
}

/// Bytes of an arena.
pub const ARENA_SIZE: u64 = 0x4_0000;

/// A syscall in flight, as the tracer saw it enter.
#[derive(Clone, Debug)]
pub struct InFlight {
    /// Which syscall (None: unknown number).
    pub sysno: Option<Sysno>,
    /// The number it was entered with.
    pub nr: u64,
    /// Raw arguments in table order.
    pub args: [u64; 6],
    /// The arguments printed at entry.
    pub entry: Vec<String>,
    /// The `<unfinished ...>` line was printed.
    pub unfinished: bool,
    /// What the tracer read at entry to print at exit (`trace::entry_saved`).
    pub saved: Option<i64>,
}

/// One host.
pub struct Host<P: Platform> {
    /// Its name (prefixes trace lines when there are several hosts).
    pub name: String,
    /// Its kernel.
    pub kernel: Kernel<P>,
    /// Programs running on it, by pid.
    pub programs: BTreeMap<Pid, ProgTask>,
    /// Tasks driven by scenario lines.
    pub scripted: BTreeSet<Pid>,
    /// Syscalls in flight.
    pub inflight: BTreeMap<Pid, InFlight>,
    /// Last completed syscall result of each scripted task, for the runner.
    pub completed: BTreeMap<Pid, i64>,
    /// Scripted tasks whose last syscall blocked.
    pub blocked: BTreeSet<Pid>,
    /// `wait4` status of every task seen exiting.
    pub exits: BTreeMap<Pid, i32>,
    console: Vec<u8>,
}

/// The simulated (or real) world.
pub struct World<P: Platform> {
    /// All hosts.
    pub hosts: Vec<Host<P>>,
    /// The trace so far.
    pub trace: Trace,
    /// Whether syscall lines are traced (kernel messages always are).
    pub tracing: bool,
    /// Prefix every line with its host's name (set when a scenario declares several).
    pub name_hosts: bool,
    /// The wire between the hosts, once a scenario builds one.
    pub fabric: Option<Box<dyn Fabric>>,
    /// Idle time never jumps past this (a `sleep` statement's end).
    pub horizon: Option<u64>,
}

/// A task's memory as the tracer reads it.
pub struct KernelPeek<'a, P: Platform> {
    /// The kernel.
    pub k: &'a Kernel<P>,
    /// The task.
    pub pid: Pid,
}

impl<P: Platform> Peek for KernelPeek<'_, P> {
    fn peek(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        self.k.peek_user(self.pid, addr, len)
    }
    fn peek_cstr(&self, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
        self.k.peek_user_cstr(self.pid, addr, max)
    }
}

/// Most program requests served in one poll (loads and stores do not yield).
const MAX_IMMEDIATE: usize = 1 << 16;

impl<P: Platform> World<P> {
    /// An empty world.
    pub fn new(tracing: bool) -> World<P> {
        World { hosts: Vec::new(), trace: Trace::default(), tracing, name_hosts: false, fabric: None, horizon: None }
    }

    /// Adds a booted kernel as host `name`; returns its index. Registers every built-in
    /// program with it.
    pub fn add_host(&mut self, name: &str, mut kernel: Kernel<P>) -> usize {
        for p in crate::programs::PROGRAMS {
            kernel.register_program(p.0);
        }
        self.hosts.push(Host {
            name: name.into(),
            kernel,
            programs: BTreeMap::new(),
            scripted: BTreeSet::new(),
            inflight: BTreeMap::new(),
            completed: BTreeMap::new(),
            blocked: BTreeSet::new(),
            exits: BTreeMap::new(),
            console: Vec::new(),
        });
        let h = self.hosts.len() - 1;
        self.drain_console(h);
        h
    }

    /// Puts a freshly booted `kernel` in host `h`'s place (a reboot): its tasks, programs
    /// and calls in flight are forgotten; the name stays.
    pub fn replace_host(&mut self, h: usize, mut kernel: Kernel<P>) {
        for p in crate::programs::PROGRAMS {
            kernel.register_program(p.0);
        }
        let host = &mut self.hosts[h];
        host.kernel = kernel;
        host.programs.clear();
        host.scripted.clear();
        host.inflight.clear();
        host.completed.clear();
        host.blocked.clear();
        host.exits.clear();
        host.console.clear();
        self.drain_console(h);
    }

    fn prefix(&self, h: usize) -> String {
        if self.name_hosts {
            format!("{} ", self.hosts[h].name)
        } else {
            String::new()
        }
    }

    /// Appends a harness line to the trace.
    pub fn note(&mut self, line: String) {
        self.trace.push(line);
    }

    fn drain_console(&mut self, h: usize) {
        let bytes = self.hosts[h].kernel.hal.take_console();
        if bytes.is_empty() {
            return;
        }
        self.hosts[h].console.extend_from_slice(&bytes);
        while let Some(nl) = self.hosts[h].console.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.hosts[h].console.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            let p = self.prefix(h);
            self.trace.push(format!("{p}{text}"));
        }
    }

    /// Enters syscall `sysno` for `pid` on host `h` (traced at entry).
    pub fn submit(&mut self, h: usize, pid: Pid, sysno: Sysno, args: [u64; 6]) -> Result<(), Errno> {
        let host = &mut self.hosts[h];
        let arch = host.kernel.arch;
        let nr = sysno.desc().nr(arch).ok_or(Errno::ENOSYS)? as u64;
        let (entry, saved) = if self.tracing {
            let peek = KernelPeek { k: &host.kernel, pid };
            (trace::entry_text(sysno, &args, &peek, arch == Arch::Aarch64), trace::entry_saved(sysno, &args, &peek))
        } else {
            (Vec::new(), None)
        };
        // arm64 passes clone's arguments in its own order.
        let regs = sysno.desc().regs_from_args(arch, args);
        host.kernel.submit(pid, nr, regs)?;
        host.inflight.insert(pid, InFlight { sysno: Some(sysno), nr, args, entry, unfinished: false, saved });
        host.blocked.remove(&pid);
        host.completed.remove(&pid);
        // A group-stopped task's call is parked at once: take that event now.
        self.handle_events(h);
        Ok(())
    }

    /// Enters a raw syscall number (for numbers the table does not know).
    pub fn submit_raw(&mut self, h: usize, pid: Pid, nr: u64, args: [u64; 6]) -> Result<(), Errno> {
        let host = &mut self.hosts[h];
        let arch = host.kernel.arch;
        let sysno = Sysno::from_nr(arch, nr);
        let entry = match (sysno, self.tracing) {
            (_, false) => Vec::new(),
            (Some(s), true) => trace::entry_text(s, &args, &KernelPeek { k: &host.kernel, pid }, arch == Arch::Aarch64),
            (None, true) => args.iter().map(|&a| if a == 0 { String::from("0") } else { format!("{a:#x}") }).collect(),
        };
        let saved = match (sysno, self.tracing) {
            (Some(s), true) => trace::entry_saved(s, &args, &KernelPeek { k: &host.kernel, pid }),
            _ => None,
        };
        host.inflight.insert(pid, InFlight { sysno, nr, args, entry, unfinished: false, saved });
        host.completed.remove(&pid);
        if let Err(e) = host.kernel.submit(pid, nr, args) {
            host.inflight.remove(&pid);
            return Err(e);
        }
        // An unknown number is answered at once: take that event now.
        self.handle_events(h);
        Ok(())
    }

    fn syscall_name(f: &InFlight) -> String {
        match f.sysno {
            Some(s) => s.desc().name.into(),
            None => format!("syscall_{:#x}", f.nr),
        }
    }

    fn handle_events(&mut self, h: usize) {
        let events: Vec<KEvent> = self.hosts[h].kernel.take_events().collect();
        for ev in events {
            self.drain_console(h);
            match ev {
                KEvent::SyscallReturn { pid, ret, .. } => self.on_return(h, pid, ret),
                KEvent::Blocked { pid } => {
                    if pid_is_scripted(&self.hosts[h], pid) {
                        self.hosts[h].blocked.insert(pid);
                    }
                    let Some(f) = self.hosts[h].inflight.get_mut(&pid) else { continue };
                    if f.unfinished {
                        continue;
                    }
                    f.unfinished = true;
                    if !self.tracing {
                        continue;
                    }
                    let f = f.clone();
                    let nargs = f.sysno.map(|s| s.desc().args.len()).unwrap_or(6);
                    let body = if f.entry.len() < nargs { format!("{}, ", f.entry.join(", ")) } else { f.entry.join(", ") };
                    let p = self.prefix(h);
                    self.trace.push(format!("{p}[pid {pid}] {}({} <unfinished ...>", Self::syscall_name(&f), body));
                }
                KEvent::Forked { parent, child } => {
                    let host = &mut self.hosts[h];
                    if host.scripted.contains(&parent) {
                        host.scripted.insert(child);
                    } else if let Some(prog) = host.programs.get(&parent) {
                        let body = prog.mb.borrow_mut().child.take();
                        if let Some(body) = body {
                            host.programs.insert(child, ProgTask::start(child, arena_for(child), body));
                        }
                    }
                }
                KEvent::Exec { pid, program, argv } => {
                    let host = &mut self.hosts[h];
                    host.scripted.remove(&pid);
                    if let Some(entry) = crate::programs::find(&program) {
                        host.programs.insert(pid, ProgTask::start(pid, arena_for(pid), |sys| entry(sys, argv)));
                    }
                    // The execve's own return is still to come: mark the new program as
                    // waiting for it so it starts after the syscall completes.
                    if let Some(p) = host.programs.get(&pid) {
                        p.mb.borrow_mut().in_flight = true;
                    }
                }
                KEvent::Touched { pid } => {
                    if let Some(p) = self.hosts[h].programs.get(&pid) {
                        p.mb.borrow_mut().in_flight = false;
                    }
                }
                KEvent::Exited { pid, status } => {
                    let p = self.prefix(h);
                    let host = &mut self.hosts[h];
                    host.programs.remove(&pid);
                    host.blocked.remove(&pid);
                    host.exits.insert(pid, status);
                    if let Some(f) = host.inflight.remove(&pid) {
                        // A task that dies inside a syscall: strace closes the call with `= ?`.
                        if self.tracing {
                            let name = Self::syscall_name(&f);
                            if f.unfinished {
                                self.trace.push(format!("{p}[pid {pid}] <... {name} resumed>) = ?"));
                            } else {
                                self.trace.push(format!("{p}[pid {pid}] {}({}) = ?", name, f.entry.join(", ")));
                            }
                        }
                    }
                    if self.tracing {
                        let what = if status & 0x7f == 0 { format!("exited with {}", (status >> 8) & 0xff) } else { format!("killed by {}", strace::signal_name(status & 0x7f)) };
                        self.trace.push(format!("{p}[pid {pid}] +++ {what} +++"));
                    }
                }
            }
        }
        self.drain_console(h);
    }

    fn on_return(&mut self, h: usize, pid: Pid, ret: i64) {
        let p = self.prefix(h);
        let host = &mut self.hosts[h];
        let f = host.inflight.remove(&pid);
        if self.tracing {
            if let Some(f) = &f {
                let arch = host.kernel.arch;
                let line = match f.sysno {
                    Some(s) => {
                        let peek = KernelPeek { k: &host.kernel, pid };
                        let rest = trace::exit_text(s, &f.args, ret, f.saved, &peek, arch == Arch::Aarch64);
                        let mut r = strace::retval(s.desc().ret, ret);
                        if let Some(aux) = trace::ret_aux(s, &f.args, ret, &peek) {
                            r = format!("{r} ({aux})");
                        }
                        if f.unfinished {
                            format!("[pid {pid}] <... {} resumed>{}) = {}", s.desc().name, rest.join(", "), r)
                        } else {
                            let mut all = f.entry.clone();
                            all.extend(rest);
                            format!("[pid {pid}] {}({}) = {}", s.desc().name, all.join(", "), r)
                        }
                    }
                    None => format!("[pid {pid}] {}({}) = {}", Self::syscall_name(f), f.entry.join(", "), strace::retval(RetKind::Int, ret)),
                };
                self.trace.push(format!("{p}{line}"));
            }
        }
        let host = &mut self.hosts[h];
        host.blocked.remove(&pid);
        if let Some(prog) = host.programs.get(&pid) {
            let mut mb = prog.mb.borrow_mut();
            if mb.in_flight {
                mb.in_flight = false;
                // A program started by this very execve does not see its return.
                if f.as_ref().and_then(|f| f.sysno) != Some(Sysno::Execve) {
                    mb.response = Some(Response::Ret(ret));
                }
            }
        } else {
            host.completed.insert(pid, ret);
        }
        if f.as_ref().and_then(|f| f.sysno) == Some(Sysno::Execve) && ret == 0 {
            host.completed.insert(pid, ret);
        }
    }

    /// A program's load or store that must sleep: `submit_touch`, keeping the request to
    /// retry once [`KEvent::Touched`] arrives (a failed access kills the task instead).
    fn fault_path(host: &mut Host<P>, pid: Pid, req: Request, addr: u64, len: u64, write: bool) {
        let Some(prog) = host.programs.get(&pid) else { return };
        let mut mb = prog.mb.borrow_mut();
        if host.kernel.submit_touch(pid, addr, len, write).is_ok() {
            mb.request = Some(req);
            mb.in_flight = true;
        } else {
            mb.response = Some(Response::Fault);
        }
    }

    fn poll_program(&mut self, h: usize, pid: Pid) {
        for _ in 0..MAX_IMMEDIATE {
            let host = &mut self.hosts[h];
            let Some(prog) = host.programs.get_mut(&pid) else { return };
            prog.poll();
            if let Some(code) = prog.done {
                // Returning from the program is libc's exit(): exit_group(code).
                let _ = self.submit(h, pid, Sysno::ExitGroup, [code as u32 as u64, 0, 0, 0, 0, 0]);
                if let Some(p) = self.hosts[h].programs.get(&pid) {
                    p.mb.borrow_mut().in_flight = true;
                }
                return;
            }
            let req = prog.mb.borrow_mut().request.take();
            match req {
                None => return,
                Some(Request::Syscall { sysno, args }) => {
                    prog.mb.borrow_mut().in_flight = true;
                    if let Err(e) = self.submit(h, pid, sysno, args) {
                        if let Some(p) = self.hosts[h].programs.get(&pid) {
                            let mut mb = p.mb.borrow_mut();
                            mb.in_flight = false;
                            mb.response = Some(Response::Ret(e.ret()));
                        }
                    }
                    return;
                }
                Some(Request::Load { addr, len }) => {
                    let mut buf = alloc::vec![0u8; len];
                    match host.kernel.user_mode_access(pid, addr, &mut buf, false) {
                        // The access must wait for a userfaultfd handler: it enters the
                        // kernel through the fault path and is retried when that completes.
                        Err(Errno::EAGAIN) => return Self::fault_path(host, pid, Request::Load { addr, len }, addr, len as u64, false),
                        r => prog.mb.borrow_mut().response = Some(if r.is_ok() { Response::Data(buf) } else { Response::Fault }),
                    }
                }
                Some(Request::Store { addr, mut data }) => {
                    match host.kernel.user_mode_access(pid, addr, &mut data, true) {
                        Err(Errno::EAGAIN) => {
                            let len = data.len() as u64;
                            return Self::fault_path(host, pid, Request::Store { addr, data }, addr, len, true);
                        }
                        r => prog.mb.borrow_mut().response = Some(if r.is_ok() { Response::Stored } else { Response::Fault }),
                    }
                }
            }
        }
    }

    /// Makes one scheduling decision. Returns `false` when nothing can ever move again
    /// (no ready syscall, no ready program, no timer).
    pub fn tick(&mut self) -> bool {
        self.pump_frames();
        self.pump_disks();
        for h in 0..self.hosts.len() {
            let k = &mut self.hosts[h].kernel;
            if k.next_timer().is_some_and(|t| t <= k.hal.now_ns()) {
                k.run_timers();
                self.handle_events(h);
            }
        }
        let mut cands: Vec<(usize, Option<Pid>)> = Vec::new();
        for (h, host) in self.hosts.iter().enumerate() {
            if host.kernel.has_runnable() {
                cands.push((h, None));
            }
            for (&pid, p) in &host.programs {
                if p.ready() {
                    cands.push((h, Some(pid)));
                }
            }
        }
        if cands.is_empty() {
            let wire = self.fabric.as_ref().and_then(|f| f.next_deadline());
            let disks = self.hosts.iter().filter_map(|h| h.kernel.hal.disk_deadline()).min();
            let next = self.hosts.iter().filter_map(|h| h.kernel.next_timer()).chain(wire).chain(disks).min();
            let t = match (next, self.horizon) {
                (Some(t), Some(end)) => t.min(end),
                (None, Some(end)) if end > self.now() => end,
                (Some(t), None) => t,
                _ => return false,
            };
            for h in 0..self.hosts.len() {
                self.hosts[h].kernel.hal.idle_until(t);
                self.hosts[h].kernel.run_timers();
                self.handle_events(h);
            }
            self.pump_frames();
            self.pump_disks();
            return true;
        }
        let i = if cands.len() == 1 { 0 } else { (self.hosts[0].kernel.hal.next_u64() % cands.len() as u64) as usize };
        let (h, what) = cands[i];
        match what {
            None => {
                self.hosts[h].kernel.step();
                for host in &self.hosts {
                    host.kernel.hal.charge(SYSCALL_COST_NS);
                }
            }
            Some(pid) => self.poll_program(h, pid),
        }
        self.handle_events(h);
        true
    }

    /// Virtual time (every host's clock moves together).
    pub fn now(&self) -> u64 {
        self.hosts.first().map_or(0, |h| h.kernel.hal.now_ns())
    }

    /// Moves what the hosts' NICs sent onto the wire, then hands every frame due by now to
    /// its receiver (whose answers go onto the wire at the next call).
    /// Frames a host's NICs sent become trace lines (`a == eth0 > …`) and go onto the
    /// wire; without one they are lost, as from a NIC with no cable.
    fn pump_frames(&mut self) {
        let now = self.now();
        let mut fabric = self.fabric.take();
        for h in 0..self.hosts.len() {
            for (nic, frame) in self.hosts[h].kernel.hal.take_frames() {
                if self.tracing {
                    let p = self.prefix(h);
                    self.trace.push(format!("{p}== eth{nic} > {}", crate::tcpdump::summary(&frame)));
                }
                if let Some(f) = fabric.as_mut() {
                    f.transmit(h, nic, frame, now);
                }
            }
        }
        let Some(mut fabric) = fabric else { return };
        for a in fabric.deliver_due(now) {
            if a.host >= self.hosts.len() {
                continue;
            }
            if self.tracing {
                let p = self.prefix(a.host);
                self.trace.push(format!("{p}== eth{} < {}", a.nic, crate::tcpdump::summary(&a.frame)));
            }
            self.hosts[a.host].kernel.netif_receive(a.nic, &a.frame);
            self.handle_events(a.host);
        }
        self.fabric = Some(fabric);
    }

    /// Hands every disk completion due by now to its kernel (the disks' interrupts).
    fn pump_disks(&mut self) {
        for h in 0..self.hosts.len() {
            let done = self.hosts[h].kernel.hal.disk_completions();
            if done.is_empty() {
                continue;
            }
            for (disk, c) in done {
                self.hosts[h].kernel.blk_complete(disk, c);
            }
            self.handle_events(h);
        }
    }

    /// NIC `nic` of host `h` receives `frame` now (a scenario's `inject`).
    pub fn inject(&mut self, h: usize, nic: u32, frame: &[u8]) {
        if self.tracing {
            let p = self.prefix(h);
            self.trace.push(format!("{p}== eth{nic} < {} (injected)", crate::tcpdump::summary(frame)));
        }
        self.hosts[h].kernel.netif_receive(nic, frame);
        self.handle_events(h);
        self.pump_frames();
    }

    /// Nothing is left to do but background work: no task or program ready, no frame on
    /// the wire, and no task timer pending (network timers — neighbour aging, garbage
    /// collection — alone never end, so they do not keep `run` going).
    pub fn quiescent(&self) -> bool {
        let wire = self.fabric.as_ref().and_then(|f| f.next_deadline()).is_some();
        let busy = self.hosts.iter().any(|h| {
            h.kernel.has_runnable()
                || h.programs.values().any(|p| p.ready())
                || h.kernel.task_next_timer().is_some()
                || h.kernel.hal.frames_pending()
                || h.kernel.hal.disk_deadline().is_some()
        });
        !wire && !busy
    }

    /// Ticks until `done` holds (true) or nothing can move (false), at most `limit` ticks.
    pub fn run_until(&mut self, limit: u64, mut done: impl FnMut(&World<P>) -> bool) -> bool {
        for _ in 0..limit {
            if done(self) {
                return true;
            }
            if !self.tick() {
                return done(self);
            }
        }
        done(self)
    }
}

fn pid_is_scripted<P: Platform>(h: &Host<P>, pid: Pid) -> bool {
    h.scripted.contains(&pid)
}
