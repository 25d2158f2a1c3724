//! Hexadecimal for bytes in JSON (packets in traces, authentication data).

/// Lower-case hex digits of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The bytes of a string of hex digits (either case; blanks between bytes are allowed).
pub fn decode(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits in '{s}'"));
    }
    digits
        .chunks_exact(2)
        .map(|p| {
            let d = |c: u8| char::from(c).to_digit(16);
            match (d(p[0]), d(p[1])) {
                (Some(h), Some(l)) => Ok((h << 4 | l) as u8),
                _ => Err(format!(
                    "'{}{}' is not a hex byte",
                    char::from(p[0]),
                    char::from(p[1])
                )),
            }
        })
        .collect()
}

/// `#[serde(with = "crate::hex::serde_bytes")]`: a byte vector as one hex string.
pub mod serde_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        super::decode(&s).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "crate::hex::serde_opt8")]`: eight optional bytes (VRRPv2 authentication
/// data) as one hex string.
pub mod serde_opt8 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &Option<[u8; 8]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&super::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[u8; 8]>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|s| {
            super::decode(&s)
                .ok()
                .and_then(|v| <[u8; 8]>::try_from(v).ok())
                .ok_or_else(|| D::Error::custom("expected 16 hex digits"))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let b = [0x00, 0x7f, 0x80, 0xff, 0x0a];
        assert_eq!(super::encode(&b), "007f80ff0a");
        assert_eq!(super::decode("00 7F 80ff0a").unwrap(), b);
        assert!(super::decode("abc").is_err());
        assert!(super::decode("zz").is_err());
    }
}
