//! Call-line syntax of the socket calls, read as strace prints it: socket addresses
//! (`{sa_family=AF_INET6, sin6_port=htons(7), sin6_flowinfo=htonl(0),
//! inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`), socket lengths (`[16]`,
//! `[128 => 16]`) and message headers (`{msg_name=…, msg_namelen=28,
//! msg_iov=[{iov_base="hi", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}`).

use super::ast::*;
use super::lex::{Cursor, PResult};
use super::parse::{int_expr, pat, raw_pointer};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};
use kernel::syscalls::desc::ArgKind;

/// `name(EXPR)`, e.g. `htons(53)`.
fn call1(c: &mut Cursor<'_>, name: &str) -> PResult<IntExpr> {
    c.expect(name)?;
    c.expect("(")?;
    let e = int_expr(c, None)?;
    c.expect(")")?;
    Ok(e)
}

/// A quoted address parsed as `T`.
fn quoted_addr<T: core::str::FromStr>(c: &mut Cursor<'_>, what: &str) -> PResult<T> {
    let at = c.pos;
    let Some(w) = c.string()? else { return c.err(format!("expected a quoted {what} address")) };
    let text: Vec<u8> = w.0.iter().flat_map(|p| if let WordPart::Lit(b) = p { b.clone() } else { Vec::new() }).collect();
    core::str::from_utf8(&text).ok().and_then(|t| t.parse().ok()).ok_or(()).or_else(|_| c.err_at(at, format!("not an {what} address")))
}

/// `{sa_family=…, …}`: a socket address the kernel reads.
pub fn sockaddr_spec(c: &mut Cursor<'_>) -> PResult<SockAddrSpec> {
    c.expect("{")?;
    c.expect("sa_family")?;
    c.expect("=")?;
    let at = c.pos;
    let family = match c.ident() {
        Some(n) => match crate::sockaddr::AF_NAMES.iter().find(|(name, _)| *name == n) {
            Some((_, v)) => IntExpr::Const(*v as i64),
            None => return c.err_at(at, format!("unknown address family '{n}'")),
        },
        None => int_expr(c, None)?,
    };
    let fam = match family {
        IntExpr::Const(v) => Some(v as u16),
        _ => None,
    };
    let mut s = SockAddrSpec { family, port: None, addr: None, flowinfo: None, scope_id: None, data: None };
    let need = |c: &Cursor<'_>, at: usize, want: u16, field: &str| -> PResult<()> {
        if fam == Some(want) {
            Ok(())
        } else {
            c.err_at(at, format!("{field} belongs to {}", crate::sockaddr::family_name(want)))
        }
    };
    while c.eat(",") {
        let at = c.pos;
        if c.looking_at("inet_pton") {
            need(c, at, crate::sockaddr::AF_INET6, "inet_pton(AF_INET6, …)")?;
            c.expect("inet_pton")?;
            c.expect("(")?;
            c.expect("AF_INET6")?;
            c.expect(",")?;
            let a: Ipv6Addr = quoted_addr(c, "IPv6")?;
            c.expect(",")?;
            c.expect("&sin6_addr")?;
            c.expect(")")?;
            s.addr = Some(a.octets().to_vec());
            continue;
        }
        let Some(name) = c.ident() else { return c.err("expected a field of struct sockaddr") };
        c.expect("=")?;
        match name {
            "sin_port" | "sin6_port" => {
                need(c, at, if name == "sin_port" { crate::sockaddr::AF_INET } else { crate::sockaddr::AF_INET6 }, name)?;
                s.port = Some(call1(c, "htons")?);
            }
            "sin_addr" => {
                need(c, at, crate::sockaddr::AF_INET, name)?;
                c.expect("inet_addr")?;
                c.expect("(")?;
                let a: Ipv4Addr = quoted_addr(c, "IPv4")?;
                c.expect(")")?;
                s.addr = Some(a.octets().to_vec());
            }
            "sin6_flowinfo" => {
                need(c, at, crate::sockaddr::AF_INET6, name)?;
                s.flowinfo = Some(call1(c, "htonl")?);
            }
            "sin6_scope_id" => {
                need(c, at, crate::sockaddr::AF_INET6, name)?;
                s.scope_id = Some(int_expr(c, None)?);
            }
            "sa_data" => {
                let Some(w) = c.string()? else { return c.err("expected sa_data as a quoted string") };
                s.data = Some(w);
            }
            _ => return c.err_at(at, format!("unknown field '{name}' (fields: sin_port, sin_addr, sin6_port, sin6_flowinfo, inet_pton(…), sin6_scope_id, sa_data)")),
        }
    }
    c.expect("}")?;
    Ok(s)
}

/// A `{…}` (or `[…]`) taken as text up to its balanced close, strings and nesting
/// respected: an expectation compared with the tracer's rendering.
pub fn balanced(c: &mut Cursor<'_>) -> PResult<String> {
    c.ws();
    let rest = c.rest();
    let bytes = rest.as_bytes();
    let (mut depth, mut in_str, mut k) = (0i32, false, 0usize);
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
                b'{' | b'(' | b'[' => depth += 1,
                b'}' | b')' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        let text = String::from(&rest[..=k]);
                        c.pos += k + 1;
                        return Ok(text);
                    }
                }
                _ => {}
            }
        }
        k += 1;
    }
    c.err("unbalanced '{'")
}

/// A socket address argument of `kind` (`SockAddr`: given; `SockAddrOut`: expected), a
/// socket length (`SockLen`), or a message header; `None` for other kinds.
pub fn net_arg(c: &mut Cursor<'_>, kind: &ArgKind) -> PResult<Option<ArgVal>> {
    Ok(Some(match kind {
        ArgKind::SockAddr { .. } if c.looking_at("{") => ArgVal::SockAddr(sockaddr_spec(c)?),
        ArgKind::SockAddrOut { .. } if c.looking_at("{") => ArgVal::Out(OutPat::Text(balanced(c)?)),
        ArgKind::SockLen if c.eat("...") => ArgVal::LenPtr { input: IntExpr::Const(128), expect: None },
        ArgKind::SockLen if c.looking_at("[") => {
            c.expect("[")?;
            let input = int_expr(c, None)?;
            let expect = if c.eat("=>") { pat(c)? } else { expr_pat(&input) };
            c.expect("]")?;
            ArgVal::LenPtr { input, expect: Some(expect) }
        }
        ArgKind::Struct(kernel::syscalls::desc::StructKind::MsgHdr, dir) if c.looking_at("{") => ArgVal::Msg(alloc::boxed::Box::new(msg_spec(c, *dir == kernel::syscalls::desc::Dir::Out)?)),
        _ => return Ok(None),
    }))
}

/// The pattern "equal to this input".
fn expr_pat(e: &IntExpr) -> Pat {
    match e {
        IntExpr::Const(v) => Pat::Const(*v),
        e => Pat::Expr(e.clone()),
    }
}

/// `IN [=> OUT]` of an in/out field; without `=>` the value must be left unchanged.
fn in_out(c: &mut Cursor<'_>, kind: Option<&ArgKind>) -> PResult<(IntExpr, Option<Pat>)> {
    let input = int_expr(c, kind)?;
    let then = if c.eat("=>") { pat(c)? } else { expr_pat(&input) };
    Ok((input, Some(then)))
}

/// `{msg_name=…, …}`; `out` for `recvmsg`, whose name is an expectation.
pub fn msg_spec(c: &mut Cursor<'_>, out: bool) -> PResult<MsgSpec> {
    c.expect("{")?;
    let mut m = MsgSpec::default();
    loop {
        if c.eat("...") {
            c.expect("}")?;
            return Ok(m);
        }
        if c.eat("}") {
            return Ok(m);
        }
        let at = c.pos;
        let Some(name) = c.ident() else { return c.err("expected a field of struct msghdr") };
        c.expect("=")?;
        match name {
            "msg_name" => {
                m.name = Some(if let Some(p) = raw_pointer(c)? {
                    MsgName::Raw(p)
                } else if out {
                    if c.eat("...") {
                        MsgName::Expect(String::from("..."))
                    } else {
                        MsgName::Expect(balanced(c)?)
                    }
                } else {
                    MsgName::Addr(sockaddr_spec(c)?)
                })
            }
            "msg_namelen" => m.namelen = Some(in_out(c, None)?),
            "msg_iov" => {
                m.iov = Some(match raw_pointer(c)? {
                    Some(p) => Err(p),
                    None => Ok(iov_list(c)?),
                })
            }
            "msg_iovlen" => m.iovlen = Some(int_expr(c, None)?),
            "msg_controllen" => m.controllen = Some(in_out(c, None)?),
            "msg_flags" => m.flags = Some(int_expr(c, Some(&ArgKind::Flags(&kernel::syscalls::table::MSG_FLAGS)))?),
            _ => return c.err_at(at, format!("unknown field '{name}' (fields: msg_name, msg_namelen, msg_iov, msg_iovlen, msg_controllen, msg_flags)")),
        }
        if c.eat("}") {
            return Ok(m);
        }
        c.expect(",")?;
    }
}

/// `[{iov_base=…, iov_len=N}, …]`.
fn iov_list(c: &mut Cursor<'_>) -> PResult<Vec<IovSpec>> {
    c.expect("[")?;
    let mut v = Vec::new();
    if c.eat("]") {
        return Ok(v);
    }
    loop {
        c.expect("{")?;
        c.expect("iov_base")?;
        c.expect("=")?;
        let base = if c.eat("...") {
            IovBase::Any
        } else if let Some(w) = c.string()? {
            let more = c.eat("...");
            IovBase::Bytes(w, more)
        } else {
            IovBase::Raw(int_expr(c, None)?)
        };
        let len = if c.eat(",") {
            c.expect("iov_len")?;
            c.expect("=")?;
            Some(int_expr(c, None)?)
        } else {
            None
        };
        c.expect("}")?;
        v.push(IovSpec { base, len });
        if c.eat("]") {
            return Ok(v);
        }
        c.expect(",")?;
    }
}

/// The bytes of a socket address: `sockaddr_in` (16), `sockaddr_in6` (28), or the family
/// and `sa_data` (14 zero bytes when not given), ports and addresses in network order.
pub fn sockaddr_bytes(s: &SockAddrSpec, eval: &dyn Fn(&IntExpr) -> Result<i64, String>) -> Result<Vec<u8>, String> {
    let fam = eval(&s.family)? as u16;
    let port = match &s.port {
        Some(p) => eval(p)? as u16,
        None => 0,
    };
    let mut b = match fam {
        crate::sockaddr::AF_INET => alloc::vec![0u8; 16],
        crate::sockaddr::AF_INET6 => alloc::vec![0u8; 28],
        _ => alloc::vec![0u8; 16],
    };
    b[0..2].copy_from_slice(&fam.to_le_bytes());
    match fam {
        crate::sockaddr::AF_INET => {
            b[2..4].copy_from_slice(&port.to_be_bytes());
            if let Some(a) = &s.addr {
                b[4..8].copy_from_slice(&a[..4]);
            }
        }
        crate::sockaddr::AF_INET6 => {
            b[2..4].copy_from_slice(&port.to_be_bytes());
            if let Some(f) = &s.flowinfo {
                b[4..8].copy_from_slice(&(eval(f)? as u32).to_be_bytes());
            }
            if let Some(a) = &s.addr {
                b[8..24].copy_from_slice(&a[..16]);
            }
            if let Some(sc) = &s.scope_id {
                b[24..28].copy_from_slice(&(eval(sc)? as u32).to_le_bytes());
            }
        }
        _ => {}
    }
    if let Some(w) = &s.data {
        let mut d = Vec::new();
        for p in &w.0 {
            match p {
                WordPart::Lit(x) => d.extend_from_slice(x),
                WordPart::Var(v) => d.extend_from_slice(eval(&IntExpr::Var(v.clone()))?.to_string().as_bytes()),
            }
        }
        b.truncate(2);
        b.extend_from_slice(&d);
    }
    Ok(b)
}

