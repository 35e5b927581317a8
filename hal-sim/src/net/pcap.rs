//! Packet capture in the classic libpcap format, so a failing seed's traffic can be
//! opened in Wireshark or `tshark -r`.
//!
//! Files are written little-endian with nanosecond timestamps (magic `0xa1b23c4d`),
//! version 2.4, snaplen 262144 and link type 1 (Ethernet). Timestamps are the network's
//! virtual time as is, so a capture starts near the Unix epoch: the point is to line it
//! up with the simulator's trace, not with a calendar.

/// Magic of a capture with nanosecond timestamps.
pub const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
/// Magic of a capture with microsecond timestamps (the original format).
pub const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
/// Longest part of a frame written to a record; longer frames are cut, keeping their
/// original length in the record header.
pub const PCAP_SNAPLEN: u32 = 262_144;
/// LINKTYPE_ETHERNET: records start with a 14-byte Ethernet header.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Most bytes one capture holds (64 MiB); later frames are counted, not written.
pub const MAX_CAPTURE_BYTES: usize = 64 << 20;
/// Most records [`read_pcap`] returns: a limit, so a corrupt file cannot exhaust memory.
const MAX_READ_RECORDS: usize = 1 << 22;

const FILE_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

/// A capture being written: the file header followed by one record per frame.
#[derive(Clone, Debug)]
pub struct PcapWriter {
    buf: Vec<u8>,
    records: u64,
    skipped: u64,
}

impl Default for PcapWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapWriter {
    /// An empty capture: only the file header.
    pub fn new() -> PcapWriter {
        let mut buf = Vec::with_capacity(FILE_HEADER_LEN);
        buf.extend_from_slice(&PCAP_MAGIC_NS.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes()); // version major
        buf.extend_from_slice(&4u16.to_le_bytes()); // version minor
        buf.extend_from_slice(&0i32.to_le_bytes()); // thiszone: timestamps are already "UTC"
        buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        buf.extend_from_slice(&PCAP_SNAPLEN.to_le_bytes());
        buf.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        PcapWriter { buf, records: 0, skipped: 0 }
    }

    /// Appends one frame seen at virtual time `ts_ns`, unless the capture is full.
    pub fn record(&mut self, ts_ns: u64, frame: &[u8]) {
        let incl = frame.len().min(PCAP_SNAPLEN as usize);
        if self.buf.len() + RECORD_HEADER_LEN + incl > MAX_CAPTURE_BYTES {
            self.skipped += 1;
            return;
        }
        // The pcap header has 32-bit seconds: virtual time past year 2106 wraps, which a
        // simulation never reaches.
        let secs = (ts_ns / 1_000_000_000) as u32;
        let nanos = (ts_ns % 1_000_000_000) as u32;
        let orig = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&secs.to_le_bytes());
        self.buf.extend_from_slice(&nanos.to_le_bytes());
        self.buf.extend_from_slice(&(incl as u32).to_le_bytes());
        self.buf.extend_from_slice(&orig.to_le_bytes());
        self.buf.extend_from_slice(&frame[..incl]);
        self.records += 1;
    }

    /// The capture file so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Records written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Frames not written because the capture reached [`MAX_CAPTURE_BYTES`].
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

/// Reads a classic pcap file (either byte order, microsecond or nanosecond timestamps)
/// into `(timestamp in ns, captured bytes)` per record. Errors name the offset.
pub fn read_pcap(data: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, String> {
    if data.len() < FILE_HEADER_LEN {
        return Err(format!("pcap: {} bytes is shorter than the 24-byte file header", data.len()));
    }
    let magic_le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let magic_be = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let (big_endian, frac_scale) = match (magic_le, magic_be) {
        (PCAP_MAGIC_NS, _) => (false, 1),
        (PCAP_MAGIC_US, _) => (false, 1_000),
        (_, PCAP_MAGIC_NS) => (true, 1),
        (_, PCAP_MAGIC_US) => (true, 1_000),
        _ => return Err(format!("pcap: unknown magic {magic_le:#010x} (not a classic pcap file)")),
    };
    let u32_at = |off: usize| -> u32 {
        let b = [data[off], data[off + 1], data[off + 2], data[off + 3]];
        if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let major = if big_endian { u16::from_be_bytes([data[4], data[5]]) } else { u16::from_le_bytes([data[4], data[5]]) };
    if major != 2 {
        return Err(format!("pcap: version {major} is not 2"));
    }
    let mut out = Vec::new();
    let mut off = FILE_HEADER_LEN;
    while off < data.len() {
        if data.len() - off < RECORD_HEADER_LEN {
            return Err(format!("pcap: truncated record header at offset {off}"));
        }
        if out.len() >= MAX_READ_RECORDS {
            return Err(format!("pcap: more than {MAX_READ_RECORDS} records"));
        }
        let secs = u64::from(u32_at(off));
        let frac = u64::from(u32_at(off + 4));
        let incl = u32_at(off + 8) as usize;
        if frac >= 1_000_000_000 / frac_scale {
            return Err(format!("pcap: record at offset {off} has sub-second field {frac} out of range"));
        }
        let body = off + RECORD_HEADER_LEN;
        if incl > data.len() - body {
            return Err(format!("pcap: record at offset {off} claims {incl} bytes, only {} remain", data.len() - body));
        }
        out.push((secs * 1_000_000_000 + frac * frac_scale, data[body..body + incl].to_vec()));
        off = body + incl;
    }
    Ok(out)
}
