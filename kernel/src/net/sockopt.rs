//! `setsockopt(2)` and `getsockopt(2)` for UDP and raw sockets, level by level as 4.3
//! dispatches them: `SOL_SOCKET` to `sock_setsockopt`/`sock_getsockopt`, any other level
//! to the protocol (`udp_setsockopt`, `udpv6_setsockopt`, `raw_setsockopt`,
//! `rawv6_setsockopt`), which keeps its own levels (`SOL_RAW`, `SOL_ICMPV6`) and passes
//! the rest to `ip_setsockopt` or `ipv6_setsockopt` — an IPv6 UDP socket's `SOL_IP`
//! goes back to IPv4's. Unknown options are `ENOPROTOOPT` where 4.3 says so; IPv4's
//! `getsockopt` of a level other than `SOL_IP` is `EOPNOTSUPP`.

#![warn(missing_docs)]

use super::socket::*;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::syscalls::dispatch::SysResult;
use crate::uapi::capability::CAP_NET_RAW;
use crate::uapi::Errno;
use alloc::vec;

/// `IFNAMSIZ`.
const IFNAMSIZ: usize = 16;

/// Which protocol's `setsockopt`/`getsockopt` a socket has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prot {
    Udp4,
    Udp6,
    Raw4,
    Raw6,
}

impl<H: Hal> Kernel<H> {
    fn sockopt_prot(&self, id: SockId) -> Result<(Prot, u8), Errno> {
        let sk = self.sk(id)?;
        Ok(match (&sk.raw, sk.family) {
            (None, Family::V4) => (Prot::Udp4, 0),
            (None, Family::V6) => (Prot::Udp6, 0),
            (Some(r), Family::V4) => (Prot::Raw4, r.protocol),
            (Some(r), Family::V6) => (Prot::Raw6, r.protocol),
        })
    }

    /// `setsockopt(fd, level, optname, optval, optlen)`: a negative `optlen` is refused
    /// before the descriptor is looked up.
    pub(crate) fn sys_setsockopt(&mut self, pid: Pid, fd: i32, level: i32, optname: i32, optval: u64, optlen: u32) -> SysResult {
        let optlen = optlen as i32;
        if optlen < 0 {
            return Err(Errno::EINVAL.into());
        }
        let optlen = optlen as usize;
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        if level == SOL_SOCKET {
            return self.sock_setsockopt(pid, id, optname, optval, optlen);
        }
        let (prot, proto) = self.sockopt_prot(id)?;
        let r = match (prot, level) {
            (Prot::Raw4, SOL_RAW) => match optname {
                ICMP_FILTER if proto != crate::net::wire::ip_proto::ICMP => Err(Errno::EOPNOTSUPP),
                ICMP_FILTER => self.raw_seticmpfilter(pid, id, optval, optlen),
                _ => Err(Errno::ENOPROTOOPT),
            },
            (Prot::Raw6, SOL_RAW) => self.do_rawv6_setsockopt(pid, id, level, optname, optval),
            (Prot::Raw6, SOL_ICMPV6) if proto != crate::net::wire::ip_proto::ICMPV6 => Err(Errno::EOPNOTSUPP),
            (Prot::Raw6, SOL_ICMPV6) => match optname {
                ICMPV6_FILTER => self.rawv6_seticmpfilter(pid, id, optval, optlen),
                _ => Err(Errno::ENOPROTOOPT),
            },
            (Prot::Raw6, SOL_IPV6) if optname == IPV6_CHECKSUM => self.do_rawv6_setsockopt(pid, id, level, optname, optval),
            (Prot::Udp4 | Prot::Raw4, _) | (Prot::Udp6, SOL_IP) => self.ip_setsockopt(pid, id, level, optname, optval, optlen),
            (Prot::Udp6 | Prot::Raw6, _) => self.ipv6_setsockopt(pid, id, level, optname, optval, optlen),
        };
        Ok(r.map(|()| 0)?)
    }

    /// `sock_setsockopt` for the options k43 has.
    fn sock_setsockopt(&mut self, pid: Pid, id: SockId, optname: i32, optval: u64, optlen: usize) -> SysResult {
        if optname == SO_BINDTODEVICE {
            return self.sock_setbindtodevice(pid, id, optval, optlen);
        }
        if optlen < 4 {
            return Err(Errno::EINVAL.into());
        }
        let val = self.get_user_u32(pid, optval)? as i32;
        let sk = self.sk_mut(id)?;
        match optname {
            SO_REUSEADDR => sk.reuse = val != 0,
            SO_BROADCAST => sk.broadcast = val != 0,
            SO_RCVBUF => {
                // min_t(u32, val, sysctl_rmem_max), doubled for overhead.
                let v = (val as u32).min(RMEM_DEFAULT);
                sk.rcvbuf = (v * 2).max(SOCK_MIN_RCVBUF);
            }
            _ => return Err(Errno::ENOPROTOOPT.into()),
        }
        Ok(0)
    }

    /// `sock_setbindtodevice`: `CAP_NET_RAW`, a name of at most 15 bytes, "" unbinds.
    fn sock_setbindtodevice(&mut self, pid: Pid, id: SockId, optval: u64, optlen: usize) -> SysResult {
        if !self.sock_cred_capable(pid, CAP_NET_RAW) {
            return Err(Errno::EPERM.into());
        }
        let n = optlen.min(IFNAMSIZ - 1);
        let mut name = vec![0u8; n];
        self.copy_from_user(pid, optval, &mut name)?;
        let end = name.iter().position(|&c| c == 0).unwrap_or(n);
        let mut index = 0;
        if end > 0 {
            let s = core::str::from_utf8(&name[..end]).map_err(|_| Errno::ENODEV)?;
            index = self.net.dev_by_name(s).ok_or(Errno::ENODEV)?;
        }
        self.sk_mut(id)?.bound_dev_if = index;
        Ok(0)
    }

    /// `ip_setsockopt`: only `SOL_IP`; an integer option's value is read first (an `int`,
    /// or one byte when `optlen` is shorter, 0 when it is 0). `IP_HDRINCL` is for raw
    /// sockets only.
    fn ip_setsockopt(&mut self, pid: Pid, id: SockId, level: i32, optname: i32, optval: u64, optlen: usize) -> Result<(), Errno> {
        if level != SOL_IP {
            return Err(Errno::ENOPROTOOPT);
        }
        match optname {
            IP_HDRINCL => {
                let val = if optlen >= 4 {
                    self.get_user_u32(pid, optval)? as i32
                } else if optlen >= 1 {
                    i32::from(self.read_user_array::<1>(pid, optval)?[0])
                } else {
                    0
                };
                match self.sk_mut(id)?.raw.as_mut() {
                    Some(r) => {
                        r.hdrincl = val != 0;
                        Ok(())
                    }
                    None => Err(Errno::ENOPROTOOPT),
                }
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    /// `ipv6_setsockopt`: `SOL_IP` of a UDP socket goes to IPv4 (handled by the caller),
    /// anything but `SOL_IPV6` is `ENOPROTOOPT`; the value is read first (`EFAULT`).
    fn ipv6_setsockopt(&mut self, pid: Pid, id: SockId, level: i32, optname: i32, optval: u64, optlen: usize) -> Result<(), Errno> {
        if level != SOL_IPV6 {
            return Err(Errno::ENOPROTOOPT);
        }
        let val = if optval != 0 { self.get_user_u32(pid, optval)? as i32 } else { 0 };
        match optname {
            IPV6_V6ONLY => {
                let sk = self.sk_mut(id)?;
                // A raw socket has an inet_num (its protocol) from creation on.
                if optlen < 4 || sk.num != 0 || sk.raw.is_some() {
                    return Err(Errno::EINVAL);
                }
                sk.ipv6only = val != 0;
                Ok(())
            }
            // do_ipv6_setsockopt: an int (`optlen < sizeof(int)` is EINVAL), any value
            // as a boolean.
            IPV6_RECVHOPLIMIT => {
                if optlen < 4 {
                    return Err(Errno::EINVAL);
                }
                self.sk_mut(id)?.recv_hoplimit = val != 0;
                Ok(())
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    /// `getsockopt(fd, level, optname, optval, optlen)`.
    pub(crate) fn sys_getsockopt(&mut self, pid: Pid, fd: i32, level: i32, optname: i32, optval: u64, optlenp: u64) -> SysResult {
        let (_, id, _) = self.sockfd_lookup(pid, fd)?;
        if level == SOL_SOCKET {
            return self.sock_getsockopt(pid, id, optname, optval, optlenp);
        }
        let (prot, proto) = self.sockopt_prot(id)?;
        let r = match (prot, level) {
            (Prot::Raw4, SOL_RAW) => match optname {
                ICMP_FILTER if proto != crate::net::wire::ip_proto::ICMP => Err(Errno::EOPNOTSUPP),
                ICMP_FILTER => self.raw_geticmpfilter(pid, id, optval, optlenp),
                _ => Err(Errno::ENOPROTOOPT),
            },
            (Prot::Raw6, SOL_RAW) => self.do_rawv6_getsockopt(pid, id, optname, optval, optlenp),
            (Prot::Raw6, SOL_ICMPV6) if proto != crate::net::wire::ip_proto::ICMPV6 => Err(Errno::EOPNOTSUPP),
            (Prot::Raw6, SOL_ICMPV6) => match optname {
                ICMPV6_FILTER => self.rawv6_geticmpfilter(pid, id, optval, optlenp),
                _ => Err(Errno::ENOPROTOOPT),
            },
            (Prot::Raw6, SOL_IPV6) if optname == IPV6_CHECKSUM => self.do_rawv6_getsockopt(pid, id, optname, optval, optlenp),
            (Prot::Udp4 | Prot::Raw4, _) | (Prot::Udp6, SOL_IP) => self.ip_getsockopt(pid, id, level, optname, optval, optlenp),
            (Prot::Udp6 | Prot::Raw6, _) => self.ipv6_getsockopt(pid, id, level, optname, optval, optlenp),
        };
        Ok(r.map(|()| 0)?)
    }

    /// `sock_getsockopt` for the options k43 has: the length is read and checked first.
    fn sock_getsockopt(&mut self, pid: Pid, id: SockId, optname: i32, optval: u64, optlenp: u64) -> SysResult {
        let len = self.get_user_u32(pid, optlenp)? as i32;
        if len < 0 {
            return Err(Errno::EINVAL.into());
        }
        let sk = self.sk(id)?;
        let val: i32 = match optname {
            SO_BINDTODEVICE => {
                if sk.bound_dev_if == 0 {
                    self.copy_to_user(pid, optlenp, &0i32.to_ne_bytes())?;
                    return Ok(0);
                }
                if (len as usize) < IFNAMSIZ {
                    return Err(Errno::EINVAL.into());
                }
                let mut name = self.net.dev_name(sk.bound_dev_if).into_bytes();
                name.push(0);
                self.copy_to_user(pid, optval, &name)?;
                self.copy_to_user(pid, optlenp, &(name.len() as i32).to_ne_bytes())?;
                return Ok(0);
            }
            SO_REUSEADDR => i32::from(sk.reuse),
            SO_BROADCAST => i32::from(sk.broadcast),
            SO_RCVBUF => sk.rcvbuf as i32,
            SO_TYPE => {
                if sk.raw.is_some() {
                    SOCK_RAW
                } else {
                    SOCK_DGRAM
                }
            }
            SO_ERROR => self.sk_mut(id)?.err.take().map(|e| e.0).unwrap_or(0),
            _ => return Err(Errno::ENOPROTOOPT.into()),
        };
        self.put_int_opt(pid, val, len.min(4) as usize, optval, optlenp)?;
        Ok(0)
    }

    /// Stores `n` bytes of `val` and then `n` as the length (`sock_getsockopt`'s order is
    /// value first; the IP levels store the length first: see the callers).
    fn put_int_opt(&mut self, pid: Pid, val: i32, n: usize, optval: u64, optlenp: u64) -> Result<(), Errno> {
        self.copy_to_user(pid, optval, &val.to_ne_bytes()[..n])?;
        self.copy_to_user(pid, optlenp, &(n as i32).to_ne_bytes())
    }

    /// `ip_getsockopt`: `EOPNOTSUPP` off `SOL_IP`; the length is read (`EFAULT`) and
    /// checked (`EINVAL`); a small value asked for in fewer than 4 bytes comes back as
    /// one byte.
    fn ip_getsockopt(&mut self, pid: Pid, id: SockId, level: i32, optname: i32, optval: u64, optlenp: u64) -> Result<(), Errno> {
        if level != SOL_IP {
            return Err(Errno::EOPNOTSUPP);
        }
        let len = self.get_user_u32(pid, optlenp)? as i32;
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        let val = match optname {
            IP_HDRINCL => i32::from(self.sk(id)?.raw.as_ref().is_some_and(|r| r.hdrincl)),
            _ => return Err(Errno::ENOPROTOOPT),
        };
        if len < 4 && len > 0 && (0..=255).contains(&val) {
            self.copy_to_user(pid, optlenp, &1i32.to_ne_bytes())?;
            return self.copy_to_user(pid, optval, &[val as u8]);
        }
        let n = (len as usize).min(4);
        self.copy_to_user(pid, optlenp, &(n as i32).to_ne_bytes())?;
        self.copy_to_user(pid, optval, &val.to_ne_bytes()[..n])
    }

    /// `ipv6_getsockopt`: only `SOL_IPV6`; `min_t(unsigned int, sizeof(int), len)` bytes,
    /// so a negative length reads as 4.
    fn ipv6_getsockopt(&mut self, pid: Pid, id: SockId, level: i32, optname: i32, optval: u64, optlenp: u64) -> Result<(), Errno> {
        if level != SOL_IPV6 {
            return Err(Errno::ENOPROTOOPT);
        }
        let len = self.get_user_u32(pid, optlenp)?;
        let val = match optname {
            IPV6_V6ONLY => i32::from(self.sk(id)?.ipv6only),
            IPV6_RECVHOPLIMIT => i32::from(self.sk(id)?.recv_hoplimit),
            _ => return Err(Errno::ENOPROTOOPT),
        };
        let n = (len as usize).min(4);
        self.copy_to_user(pid, optlenp, &(n as i32).to_ne_bytes())?;
        self.copy_to_user(pid, optval, &val.to_ne_bytes()[..n])
    }
}
