//! Marshalling and checking the socket calls' structures: socket addresses given
//! (`bind`, `connect`, `sendto`), addresses and lengths written (`getsockname`,
//! `recvfrom`: compared with how the tracer prints them), and message headers
//! (`sendmsg`'s name and buffers laid out; `recvmsg`'s name, lengths, data and flags
//! checked).

use super::{Fail, PlatformFactory, Runner};
use crate::scn::sockaddr::sockaddr_bytes;
use crate::scn::*;
use crate::sockaddr::{self, SOCKADDR_STORAGE_LEN};
use crate::strace;
use crate::world::{KernelPeek, ARENA_SIZE};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use kernel::syscalls::desc::ArgKind;
use kernel::syscalls::Sysno;
use kernel::Pid;

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where a user buffer larger than this is asked for, only this much is laid out (the
/// kernel faults past it, as a test of a short buffer may want).
const MAX_BUF: usize = (ARENA_SIZE / 4) as usize;

impl<F: PlatformFactory> Runner<F> {
    fn word_bytes(&self, w: &Word) -> Result<Vec<u8>, Fail> {
        self.word(w)
    }

    /// Lays out a socket argument in the task's memory; returns the register value and
    /// the address to check after the call (0: nothing to check).
    pub(super) fn marshal_net(&self, a: &ArgVal, kind: ArgKind, regs: &[u64; 6], alloc: &mut dyn FnMut(usize) -> Result<u64, Fail>, writes: &mut Vec<(u64, Vec<u8>)>) -> Result<(u64, u64), Fail> {
        let eval = |e: &IntExpr| self.eval(e);
        match a {
            ArgVal::SockAddr(spec) => {
                let mut b = sockaddr_bytes(spec, &eval)?;
                // The kernel reads as many bytes as the length says (up to 128).
                if let ArgKind::SockAddr { len_arg } = kind {
                    let want = (regs[len_arg] as u32 as usize).min(SOCKADDR_STORAGE_LEN);
                    if b.len() < want {
                        b.resize(want, 0);
                    }
                }
                let at = alloc(b.len())?;
                writes.push((at, b));
                Ok((at, 0))
            }
            ArgVal::LenPtr { input, .. } => {
                let at = alloc(4)?;
                writes.push((at, (self.eval(input)? as i32).to_le_bytes().to_vec()));
                Ok((at, at))
            }
            ArgVal::Msg(m) => {
                let out = matches!(kind, ArgKind::Struct(_, kernel::syscalls::desc::Dir::Out));
                let mut h = sockaddr::Msghdr::default();
                let mut default_namelen = 0i64;
                match &m.name {
                    Some(MsgName::Raw(e)) => h.name = self.eval(e)? as u64,
                    Some(MsgName::Addr(spec)) => {
                        let b = sockaddr_bytes(spec, &eval)?;
                        default_namelen = b.len() as i64;
                        let at = alloc(b.len().max(SOCKADDR_STORAGE_LEN))?;
                        writes.push((at, b));
                        h.name = at;
                    }
                    Some(MsgName::Expect(_)) => {
                        h.name = alloc(SOCKADDR_STORAGE_LEN)?;
                        default_namelen = SOCKADDR_STORAGE_LEN as i64;
                    }
                    None if out => {
                        h.name = alloc(SOCKADDR_STORAGE_LEN)?;
                        default_namelen = SOCKADDR_STORAGE_LEN as i64;
                    }
                    None => {}
                }
                h.namelen = match &m.namelen {
                    Some((e, _)) => self.eval(e)? as i32,
                    None => default_namelen as i32,
                };
                let default_iov = [IovSpec { base: IovBase::Any, len: Some(IntExpr::Const(4096)) }];
                let iovs: &[IovSpec] = match &m.iov {
                    Some(Ok(v)) => v,
                    Some(Err(_)) => &[],
                    None if out => &default_iov,
                    None => &[],
                };
                let mut arr = Vec::with_capacity(iovs.len() * 16);
                for v in iovs {
                    let bytes = match &v.base {
                        IovBase::Bytes(w, _) if !out => self.word_bytes(w)?,
                        _ => Vec::new(),
                    };
                    let len = match (&v.len, &v.base) {
                        (Some(e), _) => self.eval(e)? as u64,
                        (None, IovBase::Bytes(w, _)) => self.word_bytes(w)?.len() as u64,
                        (None, _) => 4096,
                    };
                    let base = match &v.base {
                        IovBase::Raw(e) => self.eval(e)? as u64,
                        _ => {
                            let room = (len as usize).min(MAX_BUF).max(bytes.len());
                            let at = alloc(room)?;
                            if !bytes.is_empty() {
                                writes.push((at, bytes));
                            }
                            at
                        }
                    };
                    arr.extend_from_slice(&base.to_le_bytes());
                    arr.extend_from_slice(&len.to_le_bytes());
                }
                h.iov = match &m.iov {
                    Some(Err(e)) => self.eval(e)? as u64,
                    _ if iovs.is_empty() => 0,
                    _ => {
                        let at = alloc(arr.len())?;
                        writes.push((at, arr));
                        at
                    }
                };
                h.iovlen = match &m.iovlen {
                    Some(e) => self.eval(e)? as u64,
                    None => iovs.len() as u64,
                };
                if let Some((e, _)) = &m.controllen {
                    h.controllen = self.eval(e)? as u64;
                    if h.controllen > 0 {
                        // A zeroed control buffer: for sendmsg its headers are all-zero
                        // lengths (EINVAL); for recvmsg room the kernel leaves unused.
                        h.control = alloc((h.controllen as usize).min(MAX_BUF))?;
                    }
                }
                h.flags = match &m.flags {
                    Some(e) if !out => self.eval(e)? as u32,
                    _ => 0,
                };
                let at = alloc(56)?;
                writes.push((at, h.to_bytes().to_vec()));
                Ok((at, at))
            }
            _ => Ok((regs[0], 0)),
        }
    }

    /// After a successful call: each written socket address is printed as the tracer
    /// prints it and compared, socket lengths matched, and a `recvmsg` header checked
    /// field by field.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_net(&mut self, h: usize, pid: Pid, sysno: Sysno, args: &[ArgVal], addrs: &[u64], ret: i64, last: &dyn Fn() -> String) -> Result<(), Fail> {
        if ret < 0 {
            return Ok(());
        }
        let desc = sysno.desc();
        for (i, a) in args.iter().enumerate() {
            let at = addrs.get(i).copied().unwrap_or(0);
            let name = desc.args[i].name;
            match (a, desc.args[i].kind) {
                (ArgVal::LenPtr { expect: Some(p), .. }, _) if at != 0 => {
                    let v = self.peek_i32(h, pid, at);
                    if !v.is_some_and(|v| self.matches(p, i64::from(v))) {
                        return Err(format!("{}: {name} is {}, expected {}\n  actual: {}", desc.name, v.map_or(String::from("unreadable"), |v| format!("[{v}]")), pat_text(p), last()));
                    }
                }
                (ArgVal::Out(OutPat::Text(t)), ArgKind::SockAddrOut { len_arg }) if at != 0 => {
                    let ulen = match args.get(len_arg) {
                        Some(ArgVal::LenPtr { input, .. }) => self.eval(input)? as i32,
                        _ => SOCKADDR_STORAGE_LEN as i32,
                    };
                    let rlen = addrs.get(len_arg).and_then(|&l| self.peek_i32(h, pid, l)).unwrap_or(0);
                    let k = &self.world.hosts[h].kernel;
                    let got = sockaddr::decode_sockaddr(at, ulen.min(rlen), &KernelPeek { k, pid });
                    if norm(&got) != norm(t) {
                        return Err(format!("{}: {name} is {got}, expected {t}\n  actual: {}", desc.name, last()));
                    }
                }
                (ArgVal::Msg(m), ArgKind::Struct(_, kernel::syscalls::desc::Dir::Out)) if at != 0 => self.check_msg(h, pid, m, at, ret, last)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn peek_i32(&self, h: usize, pid: Pid, at: u64) -> Option<i32> {
        let b = self.world.hosts[h].kernel.peek_user(pid, at, 4)?;
        Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `recvmsg`'s header after the call, against the spec.
    fn check_msg(&mut self, h: usize, pid: Pid, m: &MsgSpec, at: u64, ret: i64, last: &dyn Fn() -> String) -> Result<(), Fail> {
        let k = &self.world.hosts[h].kernel;
        let peek = KernelPeek { k, pid };
        let Some(got) = sockaddr::peek_msghdr(at, &peek) else { return Err(format!("recvmsg: msg is unreadable\n  actual: {}", last())) };
        let user_namelen = match &m.namelen {
            Some((e, _)) => self.eval(e)? as i32,
            None if got.name != 0 => SOCKADDR_STORAGE_LEN as i32,
            None => 0,
        };
        let fields = sockaddr::msghdr_fields(at, Some(user_namelen), Some(ret as u64), &peek).unwrap_or_default();
        let field = |n: &str| fields.iter().find(|f| f.0 == n).map(|f| f.1.clone()).unwrap_or_default();
        if let Some(MsgName::Expect(t)) = &m.name {
            if t != "..." && norm(&field("msg_name")) != norm(t) {
                return Err(format!("recvmsg: msg_name is {}, expected {t}\n  actual: {}", field("msg_name"), last()));
            }
        }
        let checks: [(&str, Option<&Pat>, i64); 2] = [
            ("msg_namelen", m.namelen.as_ref().and_then(|n| n.1.as_ref()), i64::from(got.namelen)),
            ("msg_controllen", m.controllen.as_ref().and_then(|n| n.1.as_ref()), got.controllen as i64),
        ];
        for (n, p, v) in checks {
            if let Some(p) = p {
                if !self.matches(p, v) {
                    return Err(format!("recvmsg: {n} is {v}, expected {}\n  actual: {}", pat_text(p), last()));
                }
            }
        }
        if let Some(e) = &m.flags {
            let want = self.eval(e)? as u32;
            if want != got.flags {
                let set = &kernel::syscalls::table::MSG_FLAGS;
                return Err(format!("recvmsg: msg_flags is {}, expected {}\n  actual: {}", strace::flags(set, u64::from(got.flags)), strace::flags(set, u64::from(want)), last()));
            }
        }
        // The data of each buffer, as far as the call filled them.
        if let Some(Ok(iovs)) = &m.iov {
            let mut left = ret as usize;
            let k = &self.world.hosts[h].kernel;
            let raw = k.peek_user(pid, got.iov, iovs.len() * 16).unwrap_or_default();
            for (j, (v, e)) in iovs.iter().zip(raw.chunks_exact(16)).enumerate() {
                let base = u64::from_le_bytes(e[0..8].try_into().unwrap_or([0; 8]));
                let len = u64::from_le_bytes(e[8..16].try_into().unwrap_or([0; 8])) as usize;
                let n = len.min(left);
                left -= n;
                let IovBase::Bytes(w, prefix) = &v.base else { continue };
                let want = self.word(w)?;
                let have = self.world.hosts[h].kernel.peek_user(pid, base, n).unwrap_or_default();
                let ok = if *prefix { have.starts_with(&want) } else { have == want };
                if !ok {
                    return Err(format!("recvmsg: msg_iov[{j}] holds {}, expected {}\n  actual: {}", strace::quote(&have, None), strace::quote(&want, None), last()));
                }
            }
        }
        Ok(())
    }
}

fn pat_text(p: &Pat) -> String {
    match p {
        Pat::Const(c) => format!("{c}"),
        Pat::Var(v) => format!("${v}"),
        Pat::Expr(_) => String::from("the value given"),
        Pat::Any => String::from("..."),
    }
}
