//! Extended attributes (`xattr.c`): in the inode body after `i_extra_isize` and in one
//! external block (`i_file_acl`), with the name-prefix indexes `user.` (1),
//! `system.posix_acl_access` (2), `system.posix_acl_default` (3), `trusted.` (4),
//! `security.` (6) and `system.` (7).
//!
//! Values are the on-disk bytes: POSIX ACLs are in ext4's compact ACL format; turning
//! them into the VFS `posix_acl_xattr` format is left to the caller. New xattr blocks are
//! never shared (Linux's mbcache would share identical blocks); shared blocks found on
//! disk are copied on write and their refcount dropped.

use super::inode::DiskInode;
use super::*;
use crate::uapi::Errno;
use alloc::vec;

/// Header/entry magic.
pub const EXT4_XATTR_MAGIC: u32 = 0xEA02_0000;
/// Create only (`XATTR_CREATE`).
pub const XATTR_CREATE: u32 = 1;
/// Replace only (`XATTR_REPLACE`).
pub const XATTR_REPLACE: u32 = 2;

const PREFIXES: [(u8, &[u8]); 6] = [
    (2, b"system.posix_acl_access"),
    (3, b"system.posix_acl_default"),
    (1, b"user."),
    (4, b"trusted."),
    (6, b"security."),
    (7, b"system."),
];

/// One attribute: prefix index, name without the prefix, value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xattr {
    /// Name index (see the module doc).
    pub index: u8,
    /// Name after the prefix.
    pub name: Vec<u8>,
    /// Value bytes.
    pub value: Vec<u8>,
}

impl Xattr {
    /// The full name (`user.foo`), or `None` for an unknown index.
    pub fn full_name(&self) -> Option<Vec<u8>> {
        let (_, p) = PREFIXES.iter().find(|(i, _)| *i == self.index)?;
        let mut v = p.to_vec();
        v.extend_from_slice(&self.name);
        Some(v)
    }
}

/// Splits a full name into (index, suffix) like the xattr handlers do.
fn split_name(full: &[u8]) -> FsResult<(u8, Vec<u8>)> {
    for (idx, p) in PREFIXES {
        if idx == 2 || idx == 3 {
            if full == p {
                return Ok((idx, Vec::new()));
            }
            continue;
        }
        if let Some(rest) = full.strip_prefix(p) {
            if rest.is_empty() {
                return Err(FsError::Errno(Errno::EINVAL));
            }
            return Ok((idx, rest.to_vec()));
        }
    }
    Err(FsError::Errno(Errno::EOPNOTSUPP))
}

const fn entry_len(name_len: usize) -> usize {
    (name_len + 16 + 3) & !3
}
const fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

/// `ext4_xattr_hash_entry` (name bytes as signed `char`, as on x86).
fn hash_entry(name: &[u8], value: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in name {
        h = (h << 5) ^ (h >> 27) ^ (c as i8 as i32 as u32);
    }
    let mut v = value.to_vec();
    v.resize(pad4(v.len()), 0);
    for w in v.chunks(4) {
        h = (h << 16) ^ (h >> 16) ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
    }
    h
}

/// Parses entries starting at `start` of `buf`; values at `base + e_value_offs`.
fn parse_entries(buf: &[u8], start: usize, base: usize) -> FsResult<Vec<Xattr>> {
    let mut out = Vec::new();
    let mut pos = start;
    loop {
        if pos + 4 > buf.len() {
            return Err(FsError::Corrupted("xattr entries run off the end"));
        }
        if le32(buf, pos) == 0 {
            return Ok(out);
        }
        let name_len = usize::from(buf[pos]);
        let index = buf[pos + 1];
        let voff = usize::from(le16(buf, pos + 2));
        let vinum = le32(buf, pos + 4);
        let vsize = le32(buf, pos + 8) as usize;
        let next = pos + entry_len(name_len);
        if next + 4 > buf.len() {
            return Err(FsError::Corrupted("xattr entry past the end"));
        }
        if vinum != 0 {
            return Err(FsError::Corrupted("xattr value in inode (ea_inode)"));
        }
        let name = buf[pos + 16..pos + 16 + name_len].to_vec();
        let vstart = base.checked_add(voff).ok_or(FsError::Corrupted("xattr value offset"))?;
        let value = buf.get(vstart..vstart.saturating_add(vsize)).ok_or(FsError::Corrupted("xattr value out of range"))?.to_vec();
        out.push(Xattr { index, name, value });
        pos = next;
    }
}

/// Lays out entries from `start` and values from the end of `region`, value offsets
/// relative to `base`. `None` when they do not fit.
fn build_entries(region_len: usize, start: usize, base: usize, xs: &[Xattr], with_hash: bool) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; region_len];
    let mut pos = start;
    let mut vend = region_len;
    for x in xs {
        let el = entry_len(x.name.len());
        let vl = pad4(x.value.len());
        if pos + el + 4 > vend.checked_sub(vl)? {
            return None;
        }
        let voff = if x.value.is_empty() { 0 } else { vend - vl };
        if !x.value.is_empty() {
            buf[voff..voff + x.value.len()].copy_from_slice(&x.value);
            vend -= vl;
        }
        buf[pos] = x.name.len() as u8;
        buf[pos + 1] = x.index;
        let rel = if x.value.is_empty() { 0 } else { voff - base };
        set16(&mut buf, pos + 2, u16::try_from(rel).ok()?);
        set32(&mut buf, pos + 8, x.value.len() as u32);
        if with_hash {
            set32(&mut buf, pos + 12, hash_entry(&x.name, &x.value));
        }
        buf[pos + 16..pos + 16 + x.name.len()].copy_from_slice(&x.name);
        pos += el;
    }
    Some(buf)
}

impl Ext4 {
    /// The in-inode region: (start offset in the record) when the record has one.
    fn ibody_start(&self, i: &DiskInode) -> Option<usize> {
        let x = usize::from(i.extra_isize());
        if self.inode_size <= 128 || x == 0 {
            return None;
        }
        let s = 128 + x;
        if s + 4 + 4 > self.inode_size as usize { None } else { Some(s) }
    }

    fn ibody_list(&self, i: &DiskInode) -> FsResult<Vec<Xattr>> {
        let Some(s) = self.ibody_start(i) else { return Ok(Vec::new()) };
        if le32(&i.raw, s) != EXT4_XATTR_MAGIC {
            return Ok(Vec::new());
        }
        parse_entries(&i.raw, s + 4, s + 4)
    }

    fn block_list<B: BlockIo + ?Sized>(&self, io: &mut B, i: &DiskInode) -> FsResult<(Vec<Xattr>, u32)> {
        let blk = u64::from(i.file_acl());
        if blk == 0 {
            return Ok((Vec::new(), 0));
        }
        if !self.valid_block(blk) {
            return Err(FsError::Corrupted("bad xattr block"));
        }
        let b = self.bread(io, blk)?;
        // ext4_xattr_block_get: "bad block"
        if le32(&b, 0) != EXT4_XATTR_MAGIC || le32(&b, 8) != 1 {
            return Err(FsError::Corrupted("bad xattr block"));
        }
        Ok((parse_entries(&b, 32, 0)?, le32(&b, 4)))
    }

    /// Every attribute of inode `ino` (in-inode ones first).
    pub fn xattrs<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<Vec<Xattr>> {
        let i = self.read_inode(io, ino)?;
        let mut v = self.ibody_list(&i)?;
        v.extend(self.block_list(io, &i)?.0);
        Ok(v)
    }

    /// `getxattr`: the value of `name` (full name) or `ENODATA`.
    pub fn get_xattr<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, name: &[u8]) -> FsResult<Vec<u8>> {
        let (idx, suffix) = split_name(name)?;
        self.xattrs(io, ino)?
            .into_iter()
            .find(|x| x.index == idx && x.name == suffix)
            .map(|x| x.value)
            .ok_or(FsError::Errno(Errno::ENODATA))
    }

    /// `listxattr`: the full names (unknown indexes are skipped).
    pub fn list_xattr<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<Vec<Vec<u8>>> {
        Ok(self.xattrs(io, ino)?.iter().filter_map(|x| x.full_name()).collect())
    }

    /// `setxattr` (`value = Some`) or `removexattr` (`None`) with `XATTR_CREATE` /
    /// `XATTR_REPLACE` flags (`ext4_xattr_set_handle`): in the inode body when it fits,
    /// else in the xattr block; ctime is set.
    pub fn set_xattr<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32, name: &[u8], value: Option<&[u8]>, flags: u32, ctx: &Ctx) -> FsResult<()> {
        self.check_rw()?;
        let (idx, suffix) = split_name(name)?;
        if suffix.len() > 255 {
            return Err(FsError::Errno(Errno::ERANGE));
        }
        if let Some(v) = value {
            if v.len() > self.block_size as usize {
                return Err(FsError::Errno(Errno::ENOSPC));
            }
        }
        let mut i = self.read_inode(io, ino)?;
        let mut ib = self.ibody_list(&i)?;
        let (mut bl, _) = self.block_list(io, &i)?;
        let in_ib = ib.iter().position(|x| x.index == idx && x.name == suffix);
        let in_bl = bl.iter().position(|x| x.index == idx && x.name == suffix);
        let found = in_ib.is_some() || in_bl.is_some();
        if flags & XATTR_REPLACE != 0 && !found {
            return Err(FsError::Errno(Errno::ENODATA));
        }
        if flags & XATTR_CREATE != 0 && found {
            return Err(FsError::Errno(Errno::EEXIST));
        }
        if value.is_none() && !found {
            return Err(FsError::Errno(Errno::ENODATA));
        }
        let new = value.map(|v| Xattr { index: idx, name: suffix.clone(), value: v.to_vec() });
        let old_ib = ib.clone();
        let old_bl = bl.clone();
        if let Some(k) = in_ib {
            ib.remove(k);
        }
        if let Some(k) = in_bl {
            bl.remove(k);
        }
        if let Some(x) = new {
            // Try the inode body first.
            let mut try_ib = ib.clone();
            match in_ib {
                Some(k) => try_ib.insert(k, x.clone()),
                None => try_ib.push(x.clone()),
            }
            if self.ibody_fits(&i, &try_ib) {
                ib = try_ib;
            } else {
                bl.push(x);
                bl.sort_by(|a, b| (a.index, a.name.len(), &a.name).cmp(&(b.index, b.name.len(), &b.name)));
                if !self.block_fits(&bl) {
                    return Err(FsError::Errno(Errno::ENOSPC));
                }
            }
        }
        if ib != old_ib {
            self.write_ibody(&mut i, &ib)?;
        }
        if bl != old_bl {
            self.write_xattr_block(io, &mut i, &bl, ctx)?;
        }
        i.set_ctime(ctx.now);
        self.write_inode(io, &i)
    }

    fn ibody_fits(&self, i: &DiskInode, xs: &[Xattr]) -> bool {
        match self.ibody_start(i) {
            Some(s) => build_entries(self.inode_size as usize - s, 4, 4, xs, false).is_some(),
            None => xs.is_empty(),
        }
    }

    fn block_fits(&self, xs: &[Xattr]) -> bool {
        build_entries(self.block_size as usize, 32, 0, xs, true).is_some()
    }

    fn write_ibody(&self, i: &mut DiskInode, xs: &[Xattr]) -> FsResult<()> {
        let Some(s) = self.ibody_start(i) else {
            return if xs.is_empty() { Ok(()) } else { Err(FsError::Errno(Errno::ENOSPC)) };
        };
        let mut r = build_entries(self.inode_size as usize - s, 4, 4, xs, false).ok_or(FsError::Errno(Errno::ENOSPC))?;
        set32(&mut r, 0, if xs.is_empty() { 0 } else { EXT4_XATTR_MAGIC });
        i.raw[s..].copy_from_slice(&r);
        Ok(())
    }

    fn write_xattr_block<B: BlockIo + ?Sized>(&self, io: &mut B, i: &mut DiskInode, xs: &[Xattr], ctx: &Ctx) -> FsResult<()> {
        let old = u64::from(i.file_acl());
        let old_ref = if old != 0 { le32(&self.bread(io, old)?, 4) } else { 0 };
        if xs.is_empty() {
            if old != 0 {
                self.release_xattr_block(io, i)?;
            }
            return Ok(());
        }
        let mut b = build_entries(self.block_size as usize, 32, 0, xs, true).ok_or(FsError::Errno(Errno::ENOSPC))?;
        set32(&mut b, 0, EXT4_XATTR_MAGIC);
        set32(&mut b, 4, 1);
        set32(&mut b, 8, 1);
        // ext4_xattr_rehash
        let mut h: u32 = 0;
        let mut pos = 32;
        while le32(&b, pos) != 0 {
            let eh = le32(&b, pos + 12);
            if eh == 0 {
                h = 0;
                break;
            }
            h = (h << 16) ^ (h >> 16) ^ eh;
            pos += entry_len(usize::from(b[pos]));
        }
        set32(&mut b, 12, h);
        if old != 0 && old_ref == 1 {
            return io.write_meta(old, &b);
        }
        if old != 0 {
            self.release_xattr_block(io, i)?;
        }
        let goal = self.inode_goal(i.ino);
        let nb = self.new_block(io, goal, ctx)?;
        io.write_meta(nb, &b)?;
        i.set_file_acl(nb as u32);
        i.add_blocks(i64::from(self.block_size >> 9))?;
        self.note_ext_attr(io)
    }

    /// Drops the inode's reference to its xattr block (freeing it at refcount 0).
    fn release_xattr_block<B: BlockIo + ?Sized>(&self, io: &mut B, i: &mut DiskInode) -> FsResult<()> {
        let blk = u64::from(i.file_acl());
        if blk == 0 {
            return Ok(());
        }
        if !self.valid_block(blk) {
            return Err(FsError::Corrupted("bad xattr block"));
        }
        let mut b = self.bread(io, blk)?;
        if le32(&b, 0) != EXT4_XATTR_MAGIC || le32(&b, 8) != 1 {
            return Err(FsError::Corrupted("bad xattr block"));
        }
        let r = le32(&b, 4);
        if r <= 1 {
            self.free_blocks(io, &[(blk, true)])?;
        } else {
            set32(&mut b, 4, r - 1);
            io.write_meta(blk, &b)?;
        }
        i.set_file_acl(0);
        i.add_blocks(-i64::from(self.block_size >> 9))
    }

    /// `ext4_xattr_delete_inode`: drops inode `ino`'s xattr block reference.
    pub(crate) fn xattr_drop_block<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<()> {
        let mut i = self.read_inode(io, ino)?;
        if i.file_acl() == 0 {
            return Ok(());
        }
        self.release_xattr_block(io, &mut i)?;
        self.write_inode(io, &i)
    }
}
