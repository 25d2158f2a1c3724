//! Capture files: classic pcap (what tcpdump writes) and pcapng (what tshark and dumpcap
//! write) for tests and `sniff -r`; classic pcap for `sniff -w`.

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
    #[error("pcapng: the interfaces have different link types ({0} and {1})")]
    MixedLinkTypes(u32, u32),
    #[error("pcapng: a packet names interface {0}, which is not described")]
    NoInterface(u32),
    #[error("pcapng: {0} block of {1} bytes, too short for its fields")]
    ShortBlock(&'static str, usize),
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

/// pcapng's Section Header Block type, which is also the file's first four bytes.
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;

/// Parses the bytes of a pcap or pcapng file.
pub fn parse(bytes: &[u8]) -> Result<Capture, PcapError> {
    if bytes.get(..4) == Some(&PCAPNG_SHB.to_le_bytes()) {
        return parse_ng(bytes);
    }
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

/// How a pcapng section orders its bytes; every field is read through it, bounds-checked.
#[derive(Clone, Copy)]
struct ByteOrder {
    big_endian: bool,
}

impl ByteOrder {
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let w: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        })
    }

    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let w: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        })
    }
}

/// The error for a pcapng block whose fields do not fit in its length.
fn short(kind: u32, len: usize) -> PcapError {
    PcapError::ShortBlock(block_name(kind), len)
}

fn block_name(kind: u32) -> &'static str {
    match kind {
        1 => "interface description",
        3 => "simple packet",
        6 => "enhanced packet",
        _ => "unknown",
    }
}

/// Parses a pcapng file: section headers (either byte order), interface descriptions (link
/// type, timestamp resolution) and enhanced / simple packet blocks; other blocks are skipped.
fn parse_ng(bytes: &[u8]) -> Result<Capture, PcapError> {
    let mut order = ByteOrder { big_endian: false };
    // Per interface of the current section: (link type, timestamp units per second).
    let mut ifaces: Vec<(u32, u64)> = Vec::new();
    let mut linktype = None;
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let head = bytes.get(at..at + 12).ok_or(PcapError::Truncated)?;
        if head[..4] == PCAPNG_SHB.to_le_bytes() {
            // The byte-order magic decides how this section is read.
            order.big_endian = head[8..12] == [0x1a, 0x2b, 0x3c, 0x4d];
            ifaces.clear();
        }
        let kind = order.u32(head, 0).ok_or(PcapError::Truncated)?;
        let len = order.u32(head, 4).ok_or(PcapError::Truncated)? as usize;
        if len < 12 || !len.is_multiple_of(4) {
            return Err(PcapError::Truncated);
        }
        let block = bytes
            .get(at..at.saturating_add(len))
            .ok_or(PcapError::Truncated)?;
        let body = &block[8..len - 4];
        match kind {
            1 => {
                let iface = interface(order, body).ok_or(short(kind, len))?;
                match linktype {
                    Some(l) if l != iface.0 => return Err(PcapError::MixedLinkTypes(l, iface.0)),
                    _ => linktype = Some(iface.0),
                }
                ifaces.push(iface);
            }
            6 => {
                let id = order.u32(body, 0).ok_or(short(kind, len))?;
                let (_, units) = *ifaces.get(id as usize).ok_or(PcapError::NoInterface(id))?;
                records.push(enhanced_packet(order, body, units).ok_or(short(kind, len))?);
            }
            3 => {
                ifaces.first().ok_or(PcapError::NoInterface(0))?;
                records.push(simple_packet(order, body).ok_or(short(kind, len))?);
            }
            _ => {}
        }
        at += len;
    }
    Ok(Capture {
        linktype: linktype.unwrap_or(LINKTYPE_ETHERNET),
        records,
    })
}

/// Interface Description Block: the link type, then options (if_tsresol = 9): (link type,
/// timestamp units per second).
fn interface(order: ByteOrder, body: &[u8]) -> Option<(u32, u64)> {
    let lt = u32::from(order.u16(body, 0)?);
    let mut units = 1_000_000u64;
    let mut o = 8;
    while let (Some(code), Some(olen)) = (order.u16(body, o), order.u16(body, o + 2)) {
        if code == 0 {
            break;
        }
        if code == 9 && olen >= 1 {
            let r = *body.get(o + 4)?;
            units = if r & 0x80 == 0 {
                10u64.saturating_pow(u32::from(r))
            } else {
                1u64 << (r & 0x7f).min(63)
            };
        }
        o += 4 + usize::from(olen).div_ceil(4) * 4;
    }
    Some((lt, units))
}

/// Enhanced Packet Block: interface, timestamp, lengths, the frame.
fn enhanced_packet(order: ByteOrder, body: &[u8], units: u64) -> Option<Record> {
    let ts = (u64::from(order.u32(body, 4)?) << 32) | u64::from(order.u32(body, 8)?);
    let incl = order.u32(body, 12)? as usize;
    let orig_len = order.u32(body, 16)?;
    let data = body.get(20..20usize.checked_add(incl)?)?;
    Some(Record {
        ts_us: (u128::from(ts) * 1_000_000 / u128::from(units.max(1))) as u64,
        orig_len,
        data: data.to_vec(),
    })
}

/// Simple Packet Block: no timestamp, interface 0; the frame is what the block holds of it.
fn simple_packet(order: ByteOrder, body: &[u8]) -> Option<Record> {
    let orig_len = order.u32(body, 0)?;
    let frame = body.get(4..)?;
    Some(Record {
        ts_us: 0,
        orig_len,
        data: frame[..frame.len().min(orig_len as usize)].to_vec(),
    })
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

#[cfg(test)]
mod pcapng_tests {
    use super::*;

    fn file(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/data/pcaps/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// tshark's pcapng of a capture holds the same frames at the same times.
    #[test]
    fn pcapng_reads_as_the_pcap_it_came_from() {
        let ng = parse(&file("vrrp3-ipv6.pcapng")).unwrap();
        let classic = parse(&file("vrrp3-ipv6.pcap")).unwrap();
        assert_eq!(ng, classic);
        // Cut in the middle of a block.
        let bytes = file("vrrp3-ipv6.pcapng");
        assert!(matches!(
            parse(&bytes[..bytes.len() - 10]),
            Err(PcapError::Truncated)
        ));
    }

    /// Blocks of total length 12 (no body) where the reader expects fields: an error, not an
    /// index out of bounds (tests/data/pcaps/crafted/).
    #[test]
    fn blocks_too_short_for_their_fields_are_errors() {
        for (name, block) in [
            ("epb-length-12.pcapng", "enhanced packet"),
            ("idb-length-12.pcapng", "interface description"),
            ("spb-length-12.pcapng", "simple packet"),
        ] {
            let bytes = file(&format!("crafted/{name}"));
            assert_eq!(bytes.len(), 40, "{name}");
            match parse(&bytes) {
                Err(PcapError::ShortBlock(b, 12)) => assert_eq!(b, block, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        // An if_tsresol option whose value lies past the block's end.
        let mut idb = vec![1, 0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        idb.extend([9, 0, 1, 0]);
        idb.extend(24u32.to_le_bytes());
        let mut shb = vec![0x0a, 0x0d, 0x0d, 0x0a, 12, 0, 0, 0, 12, 0, 0, 0];
        shb.extend(idb);
        assert!(matches!(parse(&shb), Err(PcapError::ShortBlock(_, 24))));
    }
}
