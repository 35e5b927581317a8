//! The socket layer's data calls (`net/socket.c`): `sendmsg(2)` and `recvmsg(2)`
//! (`___sys_sendmsg`, `___sys_recvmsg`, `copy_msghdr_from_user`; `lib/iov_iter.c`'s
//! `import_iovec` with `fs/read_write.c`'s `rw_copy_check_uvector`), `sendto`/`recvfrom`
//! as their one-buffer forms, the address copies (`move_addr_to_kernel`/`_to_user`), and
//! the user buffer list the protocols get (`struct iov_iter` over user iovecs).
//!
//! `struct user_msghdr` and `struct iovec` are laid out alike on x86_64 and arm64 (LP64):
//! a 56-byte header with `msg_namelen` an `int` padded to 8, `msg_iovlen` and
//! `msg_controllen` `size_t`s, and 16-byte iovecs. k43 has no 32-bit compat entry, so
//! `MSG_CMSG_COMPAT` from user space is refused as the native entry refuses it.

#![warn(missing_docs)]

use super::cmsg::IPV6_HOPLIMIT;
use super::socket::{Family, SockAddr, SockId, MSG_CTRUNC, MSG_DONTWAIT, SOCKADDR_STORAGE_LEN, SOL_IPV6};
use crate::fs::file::FileId;
use crate::fs::read_write::MAX_RW_COUNT;
use crate::fs::Node;
use crate::hal::Hal;
use crate::kernel::{Kernel, Pid};
use crate::mm::uaccess::access_ok;
use crate::syscalls::dispatch::SysResult;
use crate::uapi::fcntl::O_NONBLOCK;
use crate::uapi::Errno;
use alloc::vec;
use alloc::vec::Vec;

/// `sizeof(struct user_msghdr)` on LP64.
pub const MSGHDR_SIZE: usize = 56;
/// Offset of `msg_namelen`.
pub const MSG_NAMELEN_OFF: u64 = 8;
/// Offset of `msg_controllen`.
pub const MSG_CONTROLLEN_OFF: u64 = 40;
/// Offset of `msg_flags`.
pub const MSG_FLAGS_OFF: u64 = 48;
/// `sizeof(struct iovec)` on LP64.
pub const IOVEC_SIZE: usize = 16;
/// `UIO_MAXIOV`: the most iovecs one call may pass.
pub const UIO_MAXIOV: u64 = 1024;
/// `sizeof(struct cmsghdr) + 20`: the control buffer `___sys_sendmsg` has on its stack
/// (room for an `in6_pktinfo`); a larger one comes from `sock_kmalloc`.
const CTL_STACK_LEN: u64 = 36;
/// `net.core.optmem_max` (20480): `sock_kmalloc` refuses this much and more.
const OPTMEM_MAX: u64 = 20480;
/// `MSG_CMSG_CLOEXEC`: the only flag `recvmsg` carries into `msg_flags` on entry.
pub const MSG_CMSG_CLOEXEC: u32 = 0x4000_0000;
/// `MSG_CMSG_COMPAT`: set only by the 32-bit compat entry; the native one refuses it.
pub const MSG_CMSG_COMPAT: u32 = 0x8000_0000;

/// `struct user_msghdr` as read from user memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserMsghdr {
    /// `msg_name`.
    pub name: u64,
    /// `msg_namelen` (an `int`).
    pub namelen: i32,
    /// `msg_iov`.
    pub iov: u64,
    /// `msg_iovlen`.
    pub iovlen: u64,
    /// `msg_control`.
    pub control: u64,
    /// `msg_controllen`.
    pub controllen: u64,
    /// `msg_flags`.
    pub flags: u32,
}

impl UserMsghdr {
    /// Decodes the 56 bytes of a user `struct msghdr` (little-endian LP64).
    pub fn parse(b: &[u8; MSGHDR_SIZE]) -> UserMsghdr {
        let q = |o: usize| u64::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4], b[o + 5], b[o + 6], b[o + 7]]);
        let d = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        UserMsghdr { name: q(0), namelen: d(8) as i32, iov: q(16), iovlen: q(24), control: q(32), controllen: q(40), flags: d(48) }
    }

    /// The 56 bytes of this header (what a caller writes; tests and tools build with it).
    pub fn to_bytes(&self) -> [u8; MSGHDR_SIZE] {
        let mut b = [0u8; MSGHDR_SIZE];
        b[0..8].copy_from_slice(&self.name.to_le_bytes());
        b[8..12].copy_from_slice(&self.namelen.to_le_bytes());
        b[16..24].copy_from_slice(&self.iov.to_le_bytes());
        b[24..32].copy_from_slice(&self.iovlen.to_le_bytes());
        b[32..40].copy_from_slice(&self.control.to_le_bytes());
        b[40..48].copy_from_slice(&self.controllen.to_le_bytes());
        b[48..52].copy_from_slice(&self.flags.to_le_bytes());
        b
    }
}

/// A checked list of user buffers (`struct iov_iter` of `ITER_IOVEC`): every segment
/// passed `access_ok`, and the lengths were cut so their sum is at most `MAX_RW_COUNT`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserIov {
    /// `(iov_base, iov_len)` of each segment, in order.
    pub segs: Vec<(u64, usize)>,
    /// The sum of the segment lengths (`iov_iter_count`).
    pub len: usize,
}

impl UserIov {
    /// `import_single_range`: one buffer, cut to `MAX_RW_COUNT`; `EFAULT` unless it is
    /// in the user half.
    pub fn single(base: u64, len: usize) -> Result<UserIov, Errno> {
        let len = len.min(MAX_RW_COUNT);
        if !access_ok(base, len) {
            return Err(Errno::EFAULT);
        }
        Ok(UserIov { segs: vec![(base, len)], len })
    }

    /// The segments covering bytes `off..off + n` of the stream, as `(address, offset in
    /// the copy, length)`; `None` when the stream is shorter (a short copy: `EFAULT`).
    fn spans(&self, off: usize, n: usize) -> Option<Vec<(u64, usize, usize)>> {
        if off.checked_add(n)? > self.len {
            return None;
        }
        let mut out = Vec::new();
        let (mut skip, mut want, mut done) = (off, n, 0usize);
        for &(base, len) in &self.segs {
            if want == 0 {
                break;
            }
            if skip >= len {
                skip -= len;
                continue;
            }
            let take = (len - skip).min(want);
            out.push((base + skip as u64, done, take));
            done += take;
            want -= take;
            skip = 0;
        }
        Some(out)
    }
}

/// A message on its way to a protocol's `sendmsg` (the kernel's `struct msghdr`).
#[derive(Clone, Debug, Default)]
pub struct MsgOut {
    /// `msg_name` with `msg_namelen` bytes; `Some` of an empty name is `sendto` with a
    /// non-NULL address of length 0 (UDP refuses it, raw IPv4 reads it as no address).
    pub name: Option<Vec<u8>>,
    /// The data.
    pub iov: UserIov,
    /// The control buffer (`msg_control`, `msg_controllen` bytes), copied in.
    pub control: Vec<u8>,
    /// `msg_flags`: the call's flags, with `MSG_DONTWAIT` for a non-blocking file.
    pub flags: u32,
}

/// What a protocol's `recvmsg` produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgIn {
    /// The return value: bytes copied, or the datagram's length with `MSG_TRUNC`.
    pub ret: usize,
    /// The source address (`msg_name`, with `msg_namelen` its size).
    pub from: SockAddr,
    /// Flags the protocol sets in `msg_flags` (`MSG_TRUNC`).
    pub flags: u32,
    /// An IPv6 datagram's hop limit, for `IPV6_HOPLIMIT` (None over IPv4).
    pub hop_limit: Option<u8>,
}

impl<H: Hal> Kernel<H> {
    /// `sockfd_lookup_light`: the socket behind `fd` (`EBADF`, `ENOTSOCK`), its file and
    /// file flags.
    pub(super) fn sockfd_lookup(&self, pid: Pid, fd: i32) -> Result<(FileId, SockId, u32), Errno> {
        let fid = self.fget(pid, fd)?;
        let f = self.files.get(&fid).ok_or(Errno::EBADF)?;
        match f.node {
            Node::Socket(s) => Ok((fid, s, f.flags)),
            _ => Err(Errno::ENOTSOCK),
        }
    }

    /// `move_addr_to_kernel`: `EINVAL` for a length beyond `sockaddr_storage`, `EFAULT`.
    pub(super) fn move_addr_to_kernel(&mut self, pid: Pid, uaddr: u64, len: u32) -> Result<Vec<u8>, Errno> {
        let len = len as i32;
        if len < 0 || len as usize > SOCKADDR_STORAGE_LEN {
            return Err(Errno::EINVAL);
        }
        let mut b = vec![0u8; len as usize];
        if len > 0 {
            self.copy_from_user(pid, uaddr, &mut b)?;
        }
        Ok(b)
    }

    /// `move_addr_to_user`: copies at most `*ulen` bytes of `kaddr`, then stores its
    /// full length in `*ulen`.
    pub(super) fn move_addr_to_user(&mut self, pid: Pid, kaddr: &[u8], uaddr: u64, ulen: u64) -> Result<(), Errno> {
        let mut lb = [0u8; 4];
        self.copy_from_user(pid, ulen, &mut lb)?;
        let len = i32::from_ne_bytes(lb).min(kaddr.len() as i32);
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        if len > 0 {
            self.copy_to_user(pid, uaddr, &kaddr[..len as usize])?;
        }
        self.copy_to_user(pid, ulen, &(kaddr.len() as i32).to_ne_bytes())
    }

    /// `sendto(fd, buf, len, flags, dest_addr, addrlen)`: `sendmsg` of one buffer, the
    /// buffer checked before the descriptor (`import_single_range` comes first).
    // Six syscall arguments and the caller: the dispatcher's shape.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sys_sendto(&mut self, pid: Pid, fd: i32, buf: u64, len: usize, flags: u32, uaddr: u64, alen: u32) -> SysResult {
        let iov = UserIov::single(buf, len)?;
        let (_, id, fflags) = self.sockfd_lookup(pid, fd)?;
        let name = if uaddr != 0 { Some(self.move_addr_to_kernel(pid, uaddr, alen)?) } else { None };
        let flags = if fflags & O_NONBLOCK != 0 { flags | MSG_DONTWAIT } else { flags };
        self.sock_sendmsg(pid, id, &MsgOut { name, iov, control: Vec::new(), flags })
    }

    /// `sock_sendmsg` → `inet_sendmsg`: autobind (UDP), then the protocol's `sendmsg`;
    /// the loopback backlog runs before the call returns (the softirq on the way out).
    pub(super) fn sock_sendmsg(&mut self, pid: Pid, id: SockId, msg: &MsgOut) -> SysResult {
        self.inet_autobind(id)?;
        let sk = self.sk(id)?;
        let r = match (sk.family, sk.raw.is_some()) {
            (Family::V4, false) => self.udp_sendmsg(pid, id, msg),
            (Family::V6, false) => self.udpv6_sendmsg(pid, id, msg),
            (Family::V4, true) => self.raw_sendmsg(pid, id, msg),
            (Family::V6, true) => self.rawv6_sendmsg(pid, id, msg),
        };
        self.net_run_backlog();
        Ok(r? as i64)
    }

    /// `recvfrom(fd, buf, len, flags, src_addr, addrlen)`: `recvmsg` into one buffer;
    /// the source address is stored only when the call succeeded, and a failure to store
    /// it is the call's result.
    // Six syscall arguments and the caller: the dispatcher's shape.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sys_recvfrom(&mut self, pid: Pid, fd: i32, buf: u64, len: usize, flags: u32, uaddr: u64, ulen: u64) -> SysResult {
        let iov = UserIov::single(buf, len)?;
        let (_, id, fflags) = self.sockfd_lookup(pid, fd)?;
        let flags = if fflags & O_NONBLOCK != 0 { flags | MSG_DONTWAIT } else { flags };
        let r = self.sock_recvmsg(pid, id, &iov, flags)?;
        if uaddr != 0 {
            self.move_addr_to_user(pid, &r.from.to_bytes(), uaddr, ulen)?;
        }
        Ok(r.ret as i64)
    }
    /// `rw_copy_check_uvector` for `import_iovec`: the iovec array copied in, each
    /// segment checked in order (a negative length is `EINVAL`, a buffer outside the
    /// user half `EFAULT`), the running total cut at `MAX_RW_COUNT`.
    pub(crate) fn import_iovec(&mut self, pid: Pid, uvec: u64, nr_segs: u64) -> Result<UserIov, Errno> {
        if nr_segs == 0 {
            return Ok(UserIov::default());
        }
        if nr_segs > UIO_MAXIOV {
            return Err(Errno::EINVAL);
        }
        let mut raw = vec![0u8; nr_segs as usize * IOVEC_SIZE];
        self.copy_from_user(pid, uvec, &mut raw)?;
        let mut iov = UserIov::default();
        for e in raw.chunks_exact(IOVEC_SIZE) {
            let base = u64::from_le_bytes([e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]]);
            let len = i64::from_le_bytes([e[8], e[9], e[10], e[11], e[12], e[13], e[14], e[15]]);
            if len < 0 {
                return Err(Errno::EINVAL);
            }
            if !access_ok(base, len as usize) {
                return Err(Errno::EFAULT);
            }
            let len = (len as usize).min(MAX_RW_COUNT - iov.len);
            iov.segs.push((base, len));
            iov.len += len;
        }
        Ok(iov)
    }

    /// `copy_from_iter` of bytes `off..off + dst.len()` of the message's data
    /// (`memcpy_from_msg`, `ip_generic_getfrag`): `EFAULT` if the data is shorter or a
    /// page is not readable.
    pub(crate) fn iov_copy_from(&mut self, pid: Pid, iov: &UserIov, off: usize, dst: &mut [u8]) -> Result<(), Errno> {
        let spans = iov.spans(off, dst.len()).ok_or(Errno::EFAULT)?;
        for (addr, at, n) in spans {
            self.copy_from_user(pid, addr, &mut dst[at..at + n])?;
        }
        Ok(())
    }

    /// `skb_copy_datagram_msg` of `src` (at most the data's length) into the buffers.
    pub(crate) fn iov_copy_to(&mut self, pid: Pid, iov: &UserIov, src: &[u8]) -> Result<(), Errno> {
        let n = src.len().min(iov.len);
        let spans = iov.spans(0, n).ok_or(Errno::EFAULT)?;
        for (addr, at, len) in spans {
            self.copy_to_user(pid, addr, &src[at..at + len])?;
        }
        Ok(())
    }

    /// `copy_msghdr_from_user`: the header (`EFAULT`), `msg_namelen` checked (`EINVAL`
    /// when negative with a name) and cut to `sockaddr_storage`, the name copied in for
    /// `sendmsg` (`copy_name`), the iovec count (`EMSGSIZE` above `UIO_MAXIOV`) and the
    /// iovecs. Returns the header as read and the name.
    fn copy_msghdr_from_user(&mut self, pid: Pid, umsg: u64, copy_name: bool) -> Result<(UserMsghdr, Option<Vec<u8>>, UserIov), Errno> {
        let b: [u8; MSGHDR_SIZE] = self.read_user_array(pid, umsg)?;
        let mut m = UserMsghdr::parse(&b);
        if m.name == 0 {
            m.namelen = 0;
        }
        if m.namelen < 0 {
            return Err(Errno::EINVAL);
        }
        let namelen = (m.namelen as usize).min(SOCKADDR_STORAGE_LEN);
        let mut name = None;
        if m.name != 0 && namelen > 0 && copy_name {
            let mut a = vec![0u8; namelen];
            self.copy_from_user(pid, m.name, &mut a)?;
            name = Some(a);
        }
        if m.iovlen > UIO_MAXIOV {
            return Err(Errno::EMSGSIZE);
        }
        let iov = self.import_iovec(pid, m.iov, m.iovlen)?;
        Ok((m, name, iov))
    }

    /// `sendmsg(fd, msg, flags)`: `___sys_sendmsg`. The control buffer is copied in
    /// whole (`ENOBUFS` past `INT_MAX`, `EFAULT`) and the protocol parses it.
    pub(crate) fn sys_sendmsg(&mut self, pid: Pid, fd: i32, umsg: u64, flags: u32) -> SysResult {
        if flags & MSG_CMSG_COMPAT != 0 {
            return Err(Errno::EINVAL.into());
        }
        let (_, id, fflags) = self.sockfd_lookup(pid, fd)?;
        let (m, name, iov) = self.copy_msghdr_from_user(pid, umsg, true)?;
        // Past INT_MAX, or too big for the on-stack buffer and for sock_kmalloc under
        // net.core.optmem_max: ENOBUFS.
        if m.controllen > i32::MAX as u64 || (m.controllen > CTL_STACK_LEN && m.controllen >= OPTMEM_MAX) {
            return Err(Errno::ENOBUFS.into());
        }
        let mut control = vec![0u8; m.controllen as usize];
        if !control.is_empty() {
            self.copy_from_user(pid, m.control, &mut control)?;
        }
        let flags = if fflags & O_NONBLOCK != 0 { flags | MSG_DONTWAIT } else { flags };
        let msg = MsgOut { name, iov, control, flags };
        self.sock_sendmsg(pid, id, &msg)
    }

    /// `recvmsg(fd, msg, flags)`: `___sys_recvmsg`. After the protocol returns, the source
    /// address goes to `msg_name` as `move_addr_to_user` writes it (against the
    /// `msg_namelen` in user memory), then the control messages the socket asked for
    /// (`ip6_datagram_recv_ctl`: only `IPV6_HOPLIMIT` is modelled), `msg_flags`
    /// (`MSG_CTRUNC` when they did not fit), and `msg_controllen` (the bytes used).
    pub(crate) fn sys_recvmsg(&mut self, pid: Pid, fd: i32, umsg: u64, flags: u32) -> SysResult {
        if flags & MSG_CMSG_COMPAT != 0 {
            return Err(Errno::EINVAL.into());
        }
        let (_, id, fflags) = self.sockfd_lookup(pid, fd)?;
        let (m, _, iov) = self.copy_msghdr_from_user(pid, umsg, false)?;
        let flags = if fflags & O_NONBLOCK != 0 { flags | MSG_DONTWAIT } else { flags };
        let r = self.sock_recvmsg(pid, id, &iov, flags)?;
        if m.name != 0 {
            self.move_addr_to_user(pid, &r.from.to_bytes(), m.name, umsg + MSG_NAMELEN_OFF)?;
        }
        let mut msg_flags = (flags & MSG_CMSG_CLOEXEC) | r.flags;
        let mut used = 0u64;
        if let Some(hlim) = r.hop_limit.filter(|_| self.net.socks.socks.get(&id).is_some_and(|s| s.recv_hoplimit)) {
            let (n, trunc) = self.put_cmsg(pid, m.control, m.controllen, SOL_IPV6, IPV6_HOPLIMIT, &i32::from(hlim).to_le_bytes())?;
            used += n;
            if trunc {
                msg_flags |= MSG_CTRUNC;
            }
        }
        self.copy_to_user(pid, umsg + MSG_FLAGS_OFF, &msg_flags.to_le_bytes())?;
        self.copy_to_user(pid, umsg + MSG_CONTROLLEN_OFF, &used.to_le_bytes())?;
        Ok(r.ret as i64)
    }

    /// `put_cmsg`: one control message into the user's buffer at `control` (`room`
    /// bytes): the header and as much data as fits (`MSG_CTRUNC` otherwise, nothing at
    /// all below a header's size). Returns the bytes the buffer advanced (`CMSG_SPACE`,
    /// capped at the room) and whether it was truncated.
    fn put_cmsg(&mut self, pid: Pid, control: u64, room: u64, level: i32, ty: i32, data: &[u8]) -> Result<(u64, bool), Errno> {
        let hdr = crate::net::cmsg::CMSGHDR_LEN as u64;
        if control == 0 || room < hdr {
            return Ok((0, true));
        }
        let cmlen = hdr + data.len() as u64;
        let (len, trunc) = if room < cmlen { (room, true) } else { (cmlen, false) };
        let mut b = Vec::with_capacity(cmlen as usize);
        b.extend_from_slice(&cmlen.to_le_bytes());
        b.extend_from_slice(&level.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(data);
        self.copy_to_user(pid, control, &b[..len as usize])?;
        let space = (cmlen + 7) & !7;
        Ok((space.min(room), trunc))
    }

    /// The socket's protocol `recvmsg` (`sock_recvmsg` → `inet_recvmsg`): UDP or raw.
    pub(crate) fn sock_recvmsg(&mut self, pid: Pid, id: SockId, iov: &UserIov, flags: u32) -> Result<MsgIn, crate::syscalls::dispatch::SysErr> {
        if self.net.socks.socks.get(&id).is_some_and(|s| s.raw.is_some()) {
            self.raw_recvmsg(pid, id, iov, flags)
        } else {
            self.udp_recvmsg(pid, id, iov, flags)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msghdr_layout_round_trips() {
        let m = UserMsghdr { name: 0x1000, namelen: 28, iov: 0x2000, iovlen: 3, control: 0x3000, controllen: 40, flags: 0x20 };
        let b = m.to_bytes();
        assert_eq!(&b[8..12], &28i32.to_le_bytes());
        assert_eq!(&b[12..16], &[0, 0, 0, 0], "padding after msg_namelen");
        assert_eq!(UserMsghdr::parse(&b), m);
    }

    #[test]
    fn spans_walk_segments_and_refuse_short_streams() {
        let iov = UserIov { segs: vec![(0x1000, 3), (0x2000, 0), (0x3000, 5)], len: 8 };
        assert_eq!(iov.spans(0, 8), Some(vec![(0x1000, 0, 3), (0x3000, 3, 5)]));
        assert_eq!(iov.spans(2, 2), Some(vec![(0x1002, 0, 1), (0x3000, 1, 1)]));
        assert_eq!(iov.spans(7, 2), None);
        assert_eq!(iov.spans(8, 0), Some(vec![]));
    }
}
