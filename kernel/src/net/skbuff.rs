//! Socket buffers (`struct sk_buff`, `net/core/skbuff.c`) in the small: one packet's bytes
//! with headroom in front, so each layer on the way out prepends its header without a
//! copy (`skb_push`), and each layer on the way in strips its own (`skb_pull`).

use alloc::vec::Vec;

/// `LL_MAX_HEADER`-style headroom reserved for every packet the stack builds: Ethernet
/// plus room for an encapsulation (MPLS labels, an outer IPv6 header) later.
pub const MAX_HEADER: usize = 128;

/// Where a received frame was addressed at the link layer (`skb->pkt_type`, the
/// `PACKET_*` values of `<linux/if_packet.h>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    /// `PACKET_HOST`: to this host's MAC.
    Host = 0,
    /// `PACKET_BROADCAST`: to ff:ff:ff:ff:ff:ff.
    Broadcast = 1,
    /// `PACKET_MULTICAST`: to a group MAC.
    Multicast = 2,
    /// `PACKET_OTHERHOST`: to someone else's MAC (seen in promiscuous mode).
    OtherHost = 3,
    /// `PACKET_OUTGOING`: our own packet.
    Outgoing = 4,
    /// `PACKET_LOOPBACK`: our own multicast looped back to us.
    Loopback = 5,
}

/// A packet and the device it belongs to.
#[derive(Clone, Debug)]
pub struct SkBuff {
    buf: Vec<u8>,
    /// Offset of `skb->data` in `buf`.
    data: usize,
    /// `skb->dev`: the ifindex it arrived on or leaves by.
    pub dev: u32,
    /// `skb->pkt_type`.
    pub pkt_type: PacketType,
    /// `skb->protocol`: the EtherType of the payload.
    pub protocol: u16,
}

impl SkBuff {
    /// A received frame: data starts at the link header.
    pub fn from_frame(frame: &[u8], dev: u32) -> SkBuff {
        SkBuff { buf: frame.to_vec(), data: 0, dev, pkt_type: PacketType::Host, protocol: 0 }
    }

    /// `alloc_skb` + `skb_reserve(MAX_HEADER)`: `len` zero bytes of payload with
    /// [`MAX_HEADER`] bytes of headroom.
    pub fn alloc(len: usize) -> SkBuff {
        SkBuff { buf: alloc::vec![0; MAX_HEADER + len], data: MAX_HEADER, dev: 0, pkt_type: PacketType::Outgoing, protocol: 0 }
    }

    /// `skb->data .. skb->tail`.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.data..]
    }

    /// The same, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.data..]
    }

    /// `skb->len`.
    pub fn len(&self) -> usize {
        self.buf.len() - self.data
    }

    /// Whether no bytes are left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `skb_pull`: drops `n` bytes off the front; `false` (and no change) if fewer are
    /// present.
    pub fn pull(&mut self, n: usize) -> bool {
        if n > self.len() {
            return false;
        }
        self.data += n;
        true
    }

    /// `skb_push`: `n` more bytes in front, returned for the caller to fill. Reallocates
    /// the headroom when it is used up (`skb_cow_head`), so it never fails.
    pub fn push(&mut self, n: usize) -> &mut [u8] {
        if n > self.data {
            let grow = n - self.data + MAX_HEADER;
            let mut buf = Vec::with_capacity(self.buf.len() + grow);
            buf.resize(grow, 0);
            buf.extend_from_slice(&self.buf);
            self.data += grow;
            self.buf = buf;
        }
        self.data -= n;
        &mut self.buf[self.data..self.data + n]
    }

    /// `pskb_trim`: keeps the first `len` bytes of data (no-op if shorter).
    pub fn trim(&mut self, len: usize) {
        if len < self.len() {
            self.buf.truncate(self.data + len);
        }
    }

    /// The data as an owned frame.
    pub fn into_bytes(self) -> Vec<u8> {
        let mut b = self.buf;
        b.drain(..self.data);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pull_trim() {
        let mut s = SkBuff::alloc(4);
        s.data_mut().copy_from_slice(b"data");
        s.push(2).copy_from_slice(b"hh");
        assert_eq!(s.data(), b"hhdata");
        // Past the headroom: reallocated, contents kept.
        s.push(MAX_HEADER).fill(7);
        assert_eq!(&s.data()[MAX_HEADER..], b"hhdata");
        assert!(s.pull(MAX_HEADER + 2));
        assert!(!s.pull(5));
        s.trim(2);
        assert_eq!(s.clone().into_bytes(), b"da");
        assert_eq!(SkBuff::from_frame(b"abc", 2).data(), b"abc");
    }
}
