//! Classic pcap files (the libpcap format tcpdump and tshark write): reading captures for tests
//! and `sniff -r`, writing them for `sniff -w`.

use std::io::{self, Read, Write};

/// Ethernet (DLT_EN10MB).
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Linux "cooked" capture (DLT_LINUX_SLL), what `tcpdump -i any` writes.
pub const LINKTYPE_LINUX_SLL: u32 = 113;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// One captured frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Capture time in microseconds since the Unix epoch.
    pub ts_us: u64,
    /// The frame's length on the wire (the capture may hold fewer bytes).
    pub orig_len: u32,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("not a pcap file (magic {0:#010x})")]
    Magic(u32),
    #[error("truncated pcap file")]
    Truncated,
    #[error("record of {0} bytes is larger than the snap length")]
    Oversized(u32),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A whole capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub linktype: u32,
    pub records: Vec<Record>,
}

/// Reads a whole pcap file from `r`.
pub fn read(mut r: impl Read) -> Result<Capture, PcapError> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    parse(&bytes)
}

/// Parses the bytes of a pcap file.
pub fn parse(bytes: &[u8]) -> Result<Capture, PcapError> {
    let header = bytes.get(..24).ok_or(PcapError::Truncated)?;
    let magic_le = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let (big_endian, nanos) = match magic_le {
        MAGIC_MICROS => (false, false),
        MAGIC_NANOS => (false, true),
        m if m.swap_bytes() == MAGIC_MICROS => (true, false),
        m if m.swap_bytes() == MAGIC_NANOS => (true, true),
        m => return Err(PcapError::Magic(m)),
    };
    let u32_at = |b: &[u8], at: usize| {
        let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    };
    let snaplen = u32_at(header, 16).max(65_535);
    let linktype = u32_at(header, 20) & 0x0fff_ffff;
    let mut records = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let rh = bytes.get(at..at + 16).ok_or(PcapError::Truncated)?;
        let (secs, frac, incl, orig) = (
            u64::from(u32_at(rh, 0)),
            u64::from(u32_at(rh, 4)),
            u32_at(rh, 8),
            u32_at(rh, 12),
        );
        if incl > snaplen.max(262_144) {
            return Err(PcapError::Oversized(incl));
        }
        let start = at + 16;
        let data = bytes
            .get(start..start + incl as usize)
            .ok_or(PcapError::Truncated)?;
        records.push(Record {
            ts_us: secs * 1_000_000 + if nanos { frac / 1_000 } else { frac },
            orig_len: orig,
            data: data.to_vec(),
        });
        at = start + incl as usize;
    }
    Ok(Capture { linktype, records })
}

/// Writes a capture (little-endian, microsecond timestamps).
pub fn write(mut w: impl Write, capture: &Capture) -> io::Result<()> {
    let mut h = Vec::with_capacity(24);
    h.extend(MAGIC_MICROS.to_le_bytes());
    h.extend(2u16.to_le_bytes());
    h.extend(4u16.to_le_bytes());
    h.extend(0i32.to_le_bytes());
    h.extend(0u32.to_le_bytes());
    h.extend(262_144u32.to_le_bytes());
    h.extend(capture.linktype.to_le_bytes());
    w.write_all(&h)?;
    for r in &capture.records {
        let mut rh = Vec::with_capacity(16);
        rh.extend(((r.ts_us / 1_000_000) as u32).to_le_bytes());
        rh.extend(((r.ts_us % 1_000_000) as u32).to_le_bytes());
        rh.extend((r.data.len() as u32).to_le_bytes());
        rh.extend(r.orig_len.to_le_bytes());
        w.write_all(&rh)?;
        w.write_all(&r.data)?;
    }
    Ok(())
}

/// The network-layer packet in a frame: its EtherType and bytes. Handles Ethernet (with one
/// 802.1Q tag) and Linux cooked captures.
pub fn network_payload(linktype: u32, frame: &[u8]) -> Option<(u16, &[u8])> {
    match linktype {
        LINKTYPE_ETHERNET => {
            let mut ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
            let mut at = 14;
            if ethertype == 0x8100 {
                ethertype = u16::from_be_bytes([*frame.get(16)?, *frame.get(17)?]);
                at = 18;
            }
            Some((ethertype, frame.get(at..)?))
        }
        LINKTYPE_LINUX_SLL => {
            let ethertype = u16::from_be_bytes([*frame.get(14)?, *frame.get(15)?]);
            Some((ethertype, frame.get(16..)?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let c = Capture {
            linktype: LINKTYPE_ETHERNET,
            records: vec![
                Record {
                    ts_us: 1_700_000_000_123_456,
                    orig_len: 3,
                    data: vec![1, 2, 3],
                },
                Record {
                    ts_us: 5,
                    orig_len: 60,
                    data: vec![],
                },
            ],
        };
        let mut buf = Vec::new();
        write(&mut buf, &c).unwrap();
        assert_eq!(parse(&buf).unwrap(), c);
        assert!(matches!(parse(&buf[..30]), Err(PcapError::Truncated)));
        assert!(matches!(parse(&[0u8; 24]), Err(PcapError::Magic(0))));
    }
}
