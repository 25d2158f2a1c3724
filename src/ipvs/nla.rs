//! Netlink attributes (RFC 3549 §2.3.2; linux/netlink.h): a 4-byte header (length including
//! the header, type), the payload, padding to 4 bytes. Nested attributes hold attributes.

/// Writes attributes into a buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
    /// Where each open nest starts.
    open: Vec<usize>,
}

fn pad(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

impl Writer {
    pub fn bytes(&mut self, kind: u16, payload: &[u8]) -> &mut Self {
        let len = 4 + payload.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        pad(&mut self.buf);
        self
    }

    pub fn u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.bytes(kind, &[v])
    }

    pub fn u16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.bytes(kind, &v.to_ne_bytes())
    }

    /// A port or other value the kernel keeps in network byte order.
    pub fn be16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.bytes(kind, &v.to_be_bytes())
    }

    pub fn u32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.bytes(kind, &v.to_ne_bytes())
    }

    /// A NUL-terminated string (NLA_NUL_STRING).
    pub fn str(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.bytes(kind, &b)
    }

    pub fn begin(&mut self, kind: u16) -> &mut Self {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self
    }

    pub fn end(&mut self) -> &mut Self {
        if let Some(start) = self.open.pop() {
            let len = (self.buf.len() - start) as u16;
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NlaError {
    #[error("attribute header past the end ({0} bytes left)")]
    Short(usize),
    #[error("attribute {kind} claims {len} bytes, {left} left")]
    Length { kind: u16, len: usize, left: usize },
    #[error("attribute {kind}: {want} bytes expected, {got} found")]
    Size { kind: u16, want: usize, got: usize },
}

/// The attributes in `buf`: (type without the NESTED / BYTEORDER flags, payload).
pub fn parse(mut buf: &[u8]) -> Result<Vec<(u16, &[u8])>, NlaError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        if buf.len() < 4 {
            return Err(NlaError::Short(buf.len()));
        }
        let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return Err(NlaError::Length {
                kind,
                len,
                left: buf.len(),
            });
        }
        out.push((kind, &buf[4..len]));
        let next = len.next_multiple_of(4).min(buf.len());
        buf = &buf[next..];
    }
    Ok(out)
}

fn fixed<const N: usize>(kind: u16, p: &[u8]) -> Result<[u8; N], NlaError> {
    p.get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or(NlaError::Size {
            kind,
            want: N,
            got: p.len(),
        })
}

pub fn get_u8(kind: u16, p: &[u8]) -> Result<u8, NlaError> {
    Ok(fixed::<1>(kind, p)?[0])
}

pub fn get_u16(kind: u16, p: &[u8]) -> Result<u16, NlaError> {
    Ok(u16::from_ne_bytes(fixed(kind, p)?))
}

pub fn get_be16(kind: u16, p: &[u8]) -> Result<u16, NlaError> {
    Ok(u16::from_be_bytes(fixed(kind, p)?))
}

pub fn get_u32(kind: u16, p: &[u8]) -> Result<u32, NlaError> {
    Ok(u32::from_ne_bytes(fixed(kind, p)?))
}

/// A NUL-terminated (or not) string.
pub fn get_str(p: &[u8]) -> String {
    let end = p.iter().position(|b| *b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nests_measured() {
        let mut w = Writer::default();
        w.begin(1).u16(1, 2).str(6, "rr").end().u8(9, 7);
        // Nest: header (4) + u16 attr (4 + 2 + 2 pad) + "rr\0" (4 + 3 + 1 pad) = 20.
        assert_eq!(
            crate::hex::encode(&w.buf),
            "14000100 06000100 02000000 07000600 72720000 05000900 07000000".replace(' ', "")
        );
        let top = parse(&w.buf).unwrap();
        assert_eq!(top.len(), 2);
        let inner = parse(top[0].1).unwrap();
        assert_eq!(get_u16(1, inner[0].1), Ok(2));
        assert_eq!(get_str(inner[1].1), "rr");
        assert_eq!(get_u8(9, top[1].1), Ok(7));
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        assert!(parse(&[8, 0, 1]).is_err());
        assert!(
            parse(&[9, 0, 1, 0, 0, 0, 0, 0]).is_err(),
            "longer than the buffer"
        );
        assert!(parse(&[2, 0, 1, 0]).is_err(), "shorter than its header");
        assert!(get_u32(4, &[1, 2]).is_err());
        // The last attribute's padding may be cut off.
        assert_eq!(parse(&[5, 0, 1, 0, 9]).unwrap(), [(1, &[9u8][..])]);
    }
}
