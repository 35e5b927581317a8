//! Reading symlinks (`ext4_follow_link` / `page_follow_link_light`).

use super::*;
use crate::uapi::Errno;

impl Ext4 {
    /// The target of symlink `ino`: from i_block for a fast symlink (at most 59 bytes,
    /// `nd_terminate_link`), else from its data (at most a page − 1).
    pub fn readlink<B: BlockIo + ?Sized>(&self, io: &mut B, ino: u32) -> FsResult<Vec<u8>> {
        let i = self.read_inode(io, ino)?;
        if !i.is_symlink() {
            return Err(FsError::Errno(Errno::EINVAL));
        }
        self.check_mapping(&i)?;
        if i.is_fast_symlink(self.block_size) {
            let n = (i.size() as usize).min(59);
            let mut t = i.i_block_bytes()[..n].to_vec();
            if let Some(z) = t.iter().position(|&c| c == 0) {
                t.truncate(z);
            }
            return Ok(t);
        }
        let n = i.size().min(4095);
        let mut t = self.read_at(io, &i, 0, n as usize)?;
        if let Some(z) = t.iter().position(|&c| c == 0) {
            t.truncate(z);
        }
        Ok(t)
    }
}
