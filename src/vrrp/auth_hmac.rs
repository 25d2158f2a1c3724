//! keepalived 2.4's `auth_hmac`: an HMAC-SHA256 trailer after the VRRP message, with a
//! time-based 64-bit sequence number against replay (keepalived 2.4.3,
//! `keepalived/vrrp/vrrp_auth_hmac.c`, `keepalived/include/vrrp_auth_hmac.h`, and the receive
//! side of `vrrp_check_packet` / `vrrp_auth_ext_verify` in `keepalived/vrrp/vrrp.c`).
//!
//! The trailer (28 bytes, `vrrp_auth_ext_t`) follows the VRRP message, after the addresses
//! (and after v2's authentication data, which is then zero since `auth_hmac` excludes
//! `authentication`):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Ext Type    |    Key ID     |      Reserved (zero)          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |              Seconds (UTC, since the Unix epoch)              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Subseconds (1/65536 s)      |        Counter                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        HMAC-SHA256 truncated to 128 bits (16 bytes)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Seconds, subseconds and counter together are one 64-bit sequence ([`Seq`]), ordered with
//! RFC 1982 serial arithmetic. The HMAC (`pdu_hmac`) covers a 20-byte pseudo-header (family
//! 4 or 6, VRRP version, VRID, a zero byte, the source address zero-padded to 16 bytes), then
//! the VRRP message with its checksum read as zero, then the trailer's first 12 bytes, then 16
//! zero bytes in place of the HMAC. The IP header and the destination are not covered, so one
//! signed advert is copied unchanged to every unicast peer, and the kernel may write the IPv6
//! checksum (which covers the trailer) after signing.
//!
//! As the other codecs (smoltcp's packet/repr split): [`Trailer`] is a view whose accessors
//! never panic once [`Trailer::new_checked`] accepted the buffer, [`TrailerRepr`] the typed
//! form. [`sign`] and [`verdict`] are the sending and receiving sides; both take the wall
//! clock (`CLOCK_REALTIME` in keepalived) as an argument and never read one.

use std::fmt;
use std::net::IpAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ah::constant_time_eq;
use super::packet::field::CHECKSUM;

/// `VRRP_AUTH_HMAC_TYPE_SHA256`: HMAC-SHA256 truncated to 128 bits, the only scheme.
pub const EXT_TYPE_SHA256: u8 = 1;
/// `VRRP_AUTH_HMAC_LEN`: the truncated HMAC.
pub const HMAC_LEN: usize = 16;
/// `sizeof(vrrp_auth_ext_t)`.
pub const TRAILER_LEN: usize = 28;
/// The trailer bytes before the HMAC, covered by it.
pub const TRAILER_PREFIX_LEN: usize = TRAILER_LEN - HMAC_LEN;
/// `VRRP_AUTH_HMAC_KEY_MIN` / `_MAX`: key length bounds in bytes.
pub const KEY_MIN: usize = 32;
pub const KEY_MAX: usize = 64;
/// `VRRP_AUTH_HMAC_WINDOW_MIN` / `_MAX`: `time_window` bounds in seconds.
pub const WINDOW_MIN: u32 = 1;
pub const WINDOW_MAX: u32 = 300;
/// `VRRP_AUTH_HMAC_WINDOW_FLOOR`: the least window derived from the advert interval.
pub const WINDOW_FLOOR: u32 = 5;
/// `VRRP_AUTH_HMAC_MCAST_SENDERS`: replay slots per instance for multicast senders.
pub const MCAST_SENDERS: usize = 4;
/// `VRRP_AUTH_HMAC_PSEUDO_LEN`.
pub const PSEUDO_LEN: usize = 20;
/// The largest key file keepalived reads (`vrrp_auth_hmac_read_key_file`'s buffer less its
/// terminating NUL): a `hex:` prefix, 128 digits and 7 bytes of slack.
pub const KEY_FILE_MAX: usize = 4 + KEY_MAX * 2 + 8 - 1;

/// Byte ranges of the trailer (`vrrp_auth_ext_t`).
pub mod field {
    pub type Field = std::ops::Range<usize>;
    pub const EXT_TYPE: usize = 0;
    pub const KEY_ID: usize = 1;
    pub const RESERVED: Field = 2..4;
    pub const SEC: Field = 4..8;
    pub const SUBSEC: Field = 8..10;
    pub const CTR: Field = 10..12;
    pub const HMAC: Field = 12..28;
}

/// The wall clock (`CLOCK_REALTIME`): seconds and nanoseconds since the Unix epoch. Only
/// its low 32 bits of seconds reach the wire, as in keepalived.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime {
    pub secs: u64,
    pub nanos: u32,
}

impl WallTime {
    pub const fn new(secs: u64, nanos: u32) -> WallTime {
        WallTime { secs, nanos }
    }
    fn secs32(self) -> u32 {
        self.secs as u32
    }
}

/// The trailer's 64-bit sequence: seconds in the high 32 bits, a 1/65536 s fraction in the
/// next 16, a counter in the low 16.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Seq(pub u64);

impl Seq {
    pub fn from_parts(sec: u32, subsec: u16, ctr: u16) -> Seq {
        Seq(u64::from(sec) << 32 | u64::from(subsec) << 16 | u64::from(ctr))
    }
    pub fn sec(self) -> u32 {
        (self.0 >> 32) as u32
    }
    pub fn subsec(self) -> u16 {
        (self.0 >> 16) as u16
    }
    pub fn ctr(self) -> u16 {
        self.0 as u16
    }
    /// RFC 1982 serial order (`seq_after`): `self` is later than `other`.
    pub fn after(self, other: Seq) -> bool {
        (self.0.wrapping_sub(other.0) as i64) > 0
    }
    /// The clock as a sequence with a zero counter (`clock_seq`).
    pub fn from_clock(now: WallTime) -> Seq {
        let nanos = u64::from(now.nanos.min(999_999_999));
        let subsec = (nanos << 16) / 1_000_000_000;
        Seq(u64::from(now.secs32()) << 32 | subsec << 16)
    }
}

/// Seconds from `b` to `a` on the 32-bit seconds field, as keepalived's `(int32_t)(a - b)`.
fn secs_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// Whether `delta` seconds lies outside a window of `window` seconds either way.
fn outside(delta: i32, window: u32) -> bool {
    i64::from(delta).abs() > i64::from(window)
}

/// Why bytes are not a trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("authentication trailer too short: {len} bytes, it needs {TRAILER_LEN}")]
pub struct Truncated {
    pub len: usize,
}

/// A view of a trailer in a buffer.
#[derive(Debug, Clone)]
pub struct Trailer<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Trailer<T> {
    pub fn new_unchecked(buffer: T) -> Trailer<T> {
        Trailer { buffer }
    }

    /// A view of at least [`TRAILER_LEN`] bytes: no accessor panics.
    pub fn new_checked(buffer: T) -> Result<Trailer<T>, Truncated> {
        let len = buffer.as_ref().len();
        if len < TRAILER_LEN {
            return Err(Truncated { len });
        }
        Ok(Trailer { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn ext_type(&self) -> u8 {
        self.b()[field::EXT_TYPE]
    }
    pub fn key_id(&self) -> u8 {
        self.b()[field::KEY_ID]
    }
    pub fn reserved(&self) -> u16 {
        u16::from_be_bytes([self.b()[2], self.b()[3]])
    }
    pub fn sec(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[4], b[5], b[6], b[7]])
    }
    pub fn subsec(&self) -> u16 {
        u16::from_be_bytes([self.b()[8], self.b()[9]])
    }
    pub fn ctr(&self) -> u16 {
        u16::from_be_bytes([self.b()[10], self.b()[11]])
    }
    pub fn seq(&self) -> Seq {
        Seq::from_parts(self.sec(), self.subsec(), self.ctr())
    }
    pub fn hmac(&self) -> &[u8] {
        &self.b()[field::HMAC]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Trailer<T> {
    fn m(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    pub fn set_ext_type(&mut self, v: u8) {
        self.m()[field::EXT_TYPE] = v;
    }
    pub fn set_key_id(&mut self, v: u8) {
        self.m()[field::KEY_ID] = v;
    }
    pub fn set_reserved(&mut self, v: u16) {
        self.m()[field::RESERVED].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_seq(&mut self, s: Seq) {
        self.m()[field::SEC].copy_from_slice(&s.sec().to_be_bytes());
        self.m()[field::SUBSEC].copy_from_slice(&s.subsec().to_be_bytes());
        self.m()[field::CTR].copy_from_slice(&s.ctr().to_be_bytes());
    }
    pub fn set_hmac(&mut self, h: &[u8; HMAC_LEN]) {
        self.m()[field::HMAC].copy_from_slice(h);
    }
}

/// The typed trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrailerRepr {
    pub ext_type: u8,
    pub key_id: u8,
    pub reserved: u16,
    pub seq: Seq,
    pub hmac: [u8; HMAC_LEN],
}

impl TrailerRepr {
    /// Reads every field; whether they are acceptable is [`check`]'s business.
    pub fn parse<T: AsRef<[u8]>>(t: &Trailer<T>) -> TrailerRepr {
        let mut hmac = [0; HMAC_LEN];
        hmac.copy_from_slice(t.hmac());
        TrailerRepr {
            ext_type: t.ext_type(),
            key_id: t.key_id(),
            reserved: t.reserved(),
            seq: t.seq(),
            hmac,
        }
    }

    pub const fn buffer_len(&self) -> usize {
        TRAILER_LEN
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, t: &mut Trailer<T>) {
        t.set_ext_type(self.ext_type);
        t.set_key_id(self.key_id);
        t.set_reserved(self.reserved);
        t.set_seq(self.seq);
        t.set_hmac(&self.hmac);
    }
}

/// What the HMAC binds an advert to besides its bytes: the source address (sender side:
/// the instance's `saddr`; receiver side: the packet's source), and the instance's VRRP
/// version and VRID (keepalived's own, not the advert's fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding {
    pub src: IpAddr,
    pub version: u8,
    pub vrid: u8,
}

impl Binding {
    pub fn pseudo_header(self) -> [u8; PSEUDO_LEN] {
        pseudo_header(self.src, self.version, self.vrid)
    }
}

/// The pseudo-header bound into the HMAC (`build_pseudo`): family, version and VRID stop
/// splicing between instances that share a key, the source ties the advert to its sender.
pub fn pseudo_header(src: IpAddr, version: u8, vrid: u8) -> [u8; PSEUDO_LEN] {
    let mut p = [0; PSEUDO_LEN];
    p[1] = version;
    p[2] = vrid;
    match src {
        IpAddr::V4(a) => {
            p[0] = 4;
            p[4..8].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            p[0] = 6;
            p[4..20].copy_from_slice(&a.octets());
        }
    }
    p
}

/// The truncated HMAC of `covered` - the VRRP message followed by the trailer's first
/// [`TRAILER_PREFIX_LEN`] bytes - under `key` (`pdu_hmac`, `compute_hmac`): RFC 2104
/// HMAC-SHA256 over the pseudo-header, the message with its checksum read as zero, the
/// trailer prefix and 16 zero bytes. `covered` shorter than the checksum's end is taken as
/// zero-padded (no valid advert is).
pub fn digest(key: &[u8], pseudo: &[u8; PSEUDO_LEN], covered: &[u8]) -> [u8; HMAC_LEN] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(pseudo);
    mac.update(&covered[..covered.len().min(CHECKSUM.start)]);
    mac.update(&[0; 2]);
    mac.update(covered.get(CHECKSUM.end..).unwrap_or(&[]));
    mac.update(&[0; HMAC_LEN]);
    let full = mac.finalize().into_bytes();
    let mut out = [0; HMAC_LEN];
    out.copy_from_slice(&full[..HMAC_LEN]);
    out
}

// ---------------------------------------------------------------------------------------
// Keys and configuration
// ---------------------------------------------------------------------------------------

/// A configured key (`vrrp_auth_key_t`). Its bytes are not printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub id: u8,
    pub data: Vec<u8>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key {{ id: {}, len: {} }}", self.id, self.data.len())
    }
}

/// Why a key is refused (keepalived's `report_config_error` wording in
/// `vrrp_auth_hmac_key_handler` and `vrrp_auth_hmac_read_key_file`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("auth_hmac key id '{0}' must be between 1 and 255")]
    Id(String),
    #[error("auth_hmac key {id} length {len} not in range [{KEY_MIN}, {KEY_MAX}]")]
    Length { id: u8, len: usize },
    #[error("duplicate auth_hmac key id {0}")]
    Duplicate(u8),
    #[error("auth_hmac key file '{0}' is too large")]
    FileTooLarge(String),
}

/// Where a key's value comes from: inline, or the file named after `file:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource<'a> {
    Inline(&'a str),
    File(&'a str),
}

impl<'a> KeySource<'a> {
    pub fn parse(value: &'a str) -> KeySource<'a> {
        match value.strip_prefix("file:") {
            Some(path) => KeySource::File(path),
            None => KeySource::Inline(value),
        }
    }
}

/// A key id (`read_unsigned_strvec(.., 1, 255)`): decimal 1 to 255.
pub fn parse_key_id(s: &str) -> Result<u8, KeyError> {
    match s.parse::<u8>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(KeyError::Id(s.to_string())),
    }
}

/// keepalived's `read_hex_str` without wildcards: blanks (space, tab) are skipped between
/// bytes; a digit followed by a space or the end is a byte of its own; anything not hex, or
/// nothing at all, yields no bytes (`None`).
fn read_hex_str(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let nibble = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut v = nibble(b[i])?;
        i += 1;
        if i < b.len() && b[i] != b' ' {
            v = v << 4 | nibble(b[i])?;
            i += 1;
        }
        out.push(v);
    }
    (!out.is_empty()).then_some(out)
}

/// A key value's bytes (`vrrp_auth_hmac_decode_key`): after `hex:` raw bytes in hex, else
/// the ASCII string itself. `None` when the hex is not hex (keepalived then reports the
/// length as 0).
pub fn decode_key_value(value: &str) -> Option<Vec<u8>> {
    match value.strip_prefix("hex:") {
        Some(hex) => read_hex_str(hex),
        None => Some(value.as_bytes().to_vec()),
    }
}

/// A key value from a key file's contents (`vrrp_auth_hmac_read_key_file`): at most
/// [`KEY_FILE_MAX`] bytes, trailing CR/LF dropped, read as a C string (up to a NUL), then
/// decoded as an inline value (`hex:` or ASCII; a `file:` inside is not followed).
pub fn decode_key_file(path: &str, contents: &[u8]) -> Result<Option<Vec<u8>>, KeyError> {
    if contents.len() > KEY_FILE_MAX {
        return Err(KeyError::FileTooLarge(path.to_string()));
    }
    let mut n = contents.len();
    while n > 0 && (contents[n - 1] == b'\n' || contents[n - 1] == b'\r') {
        n -= 1;
    }
    let text = &contents[..n];
    let text = &text[..text.iter().position(|&c| c == 0).unwrap_or(text.len())];
    Ok(match std::str::from_utf8(text) {
        Ok(s) => decode_key_value(s),
        // Not UTF-8: keepalived takes the bytes as ASCII; a hex: prefix cannot precede them
        // validly, since hex digits are ASCII.
        Err(_) if text.starts_with(b"hex:") => None,
        Err(_) => Some(text.to_vec()),
    })
}

/// The keys of an instance, in configuration order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keys(Vec<Key>);

impl Keys {
    /// Adds a key (`vrrp_auth_hmac_add_key` after the handler's length check).
    pub fn add(&mut self, id: u8, data: Vec<u8>) -> Result<(), KeyError> {
        if !(KEY_MIN..=KEY_MAX).contains(&data.len()) {
            return Err(KeyError::Length {
                id,
                len: data.len(),
            });
        }
        if self.find(id).is_some() {
            return Err(KeyError::Duplicate(id));
        }
        self.0.push(Key { id, data });
        Ok(())
    }
    /// `vrrp_auth_hmac_find_key`.
    pub fn find(&self, id: u8) -> Option<&Key> {
        self.0.iter().find(|k| k.id == id)
    }
    pub fn ids(&self) -> impl Iterator<Item = u8> + '_ {
        self.0.iter().map(|k| k.id)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `mode` (`vrrp_auth_hmac_mode_t`): the migration path is receive-only, then permissive,
/// then enforce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Verifies a trailer when one comes, accepts adverts without one, sends none.
    ReceiveOnly,
    /// Signs, verifies a trailer when one comes, accepts adverts without one.
    Permissive,
    /// Signs, and requires a valid trailer.
    #[default]
    Enforce,
}

impl Mode {
    /// `vrrp_auth_hmac_mode_str`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ReceiveOnly => "receive-only",
            Mode::Permissive => "permissive",
            Mode::Enforce => "enforce",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "enforce" => Some(Mode::Enforce),
            "permissive" => Some(Mode::Permissive),
            "receive-only" => Some(Mode::ReceiveOnly),
            _ => None,
        }
    }
}

/// `anti_replay`: `time` checks a freshness window against the clock (and needs synchronised
/// clocks), `monotonic` only strict growth of each sender's sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AntiReplay {
    #[default]
    Time,
    Monotonic,
}

impl AntiReplay {
    pub fn as_str(self) -> &'static str {
        match self {
            AntiReplay::Time => "time",
            AntiReplay::Monotonic => "monotonic",
        }
    }
    pub fn parse(s: &str) -> Option<AntiReplay> {
        match s {
            "time" => Some(AntiReplay::Time),
            "monotonic" => Some(AntiReplay::Monotonic),
            _ => None,
        }
    }
}

/// The window keepalived derives when `time_window` is not set (`vrrp_complete_instance`):
/// three advert intervals in whole seconds, at least [`WINDOW_FLOOR`], at most [`WINDOW_MAX`].
pub fn derived_time_window(adver_int_secs: u64) -> u32 {
    adver_int_secs
        .saturating_mul(3)
        .clamp(u64::from(WINDOW_FLOOR), u64::from(WINDOW_MAX)) as u32
}

/// An instance's `auth_hmac`, resolved (`vrrp_auth_hmac_t`'s configuration part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub keys: Keys,
    /// The key id signed with.
    pub active_key: u8,
    pub mode: Mode,
    pub anti_replay: AntiReplay,
    /// Seconds either way; only used with [`AntiReplay::Time`].
    pub time_window: u32,
    /// The scheme sent and accepted; always [`EXT_TYPE_SHA256`].
    pub ext_type: u8,
}

impl Config {
    /// The trailer bytes each advert sent carries (`vrrp_auth_hmac_trailer_len`).
    pub fn trailer_len(&self) -> usize {
        match self.mode {
            Mode::ReceiveOnly => 0,
            _ => TRAILER_LEN,
        }
    }
}

/// An `auth_hmac { }` block as read, before the instance is completed: keepalived's parser
/// defaults (`vrrp_auth_hmac_handler`: enforce, time, no active key, window unset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Block {
    pub keys: Keys,
    pub active_key: Option<u8>,
    pub mode: Mode,
    pub anti_replay: AntiReplay,
    pub time_window: Option<u32>,
}

/// What completing an instance's `auth_hmac` reports (keepalived's `report_config_error`
/// in `vrrp_complete_instance`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompleteNote {
    #[error("auth_hmac cannot be combined with authentication, dropping legacy auth")]
    LegacyAuthDropped,
    /// The extension is then disabled: the instance runs without it.
    #[error("auth_hmac active_key {0} is not defined, disabling extension")]
    ActiveKeyUndefined(u8),
    #[error("strict mode requires auth_hmac mode enforce")]
    StrictForcesEnforce,
}

impl Block {
    /// The instance's configuration (`vrrp_complete_instance`): legacy `authentication` is
    /// dropped; an active key that names no key (none given counts as 0) disables the
    /// extension; strict mode forces enforce; in time mode an unset window is three advert
    /// intervals in whole seconds, clamped to [`WINDOW_FLOOR`]..=[`WINDOW_MAX`].
    pub fn complete(
        self,
        adver_int_secs: u64,
        strict: bool,
        legacy_auth: bool,
    ) -> (Option<Config>, Vec<CompleteNote>) {
        let mut notes = Vec::new();
        if legacy_auth {
            notes.push(CompleteNote::LegacyAuthDropped);
        }
        let active_key = self.active_key.unwrap_or(0);
        if self.keys.find(active_key).is_none() {
            notes.push(CompleteNote::ActiveKeyUndefined(active_key));
            return (None, notes);
        }
        let mut mode = self.mode;
        if strict && mode != Mode::Enforce {
            notes.push(CompleteNote::StrictForcesEnforce);
            mode = Mode::Enforce;
        }
        let time_window = match (self.anti_replay, self.time_window) {
            (_, Some(w)) => w,
            (AntiReplay::Time, None) => derived_time_window(adver_int_secs),
            (AntiReplay::Monotonic, None) => 0,
        };
        let cfg = Config {
            keys: self.keys,
            active_key,
            mode,
            anti_replay: self.anti_replay,
            time_window,
            ext_type: EXT_TYPE_SHA256,
        };
        (Some(cfg), notes)
    }
}

/// A `time_window` value (`read_unsigned_strvec(.., 1, 300)`).
pub fn parse_time_window(s: &str) -> Option<u32> {
    s.parse::<u32>()
        .ok()
        .filter(|w| (WINDOW_MIN..=WINDOW_MAX).contains(w))
}

// ---------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------

/// The sender's last sequence (`send_seq`), not persisted: a restarted sender stays
/// monotonic as long as the clock moved forward across the restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendState {
    pub last: Seq,
}

impl SendState {
    /// The next sequence (`next_seq`): the clock's when later than the last one, else the
    /// last plus one (carrying into the timestamp). keepalived 2.4.3's clock-step recovery:
    /// in time mode, a last sequence stranded more than the window ahead of the clock (the
    /// clock was stepped back) restarts from the clock, since receivers would reject it as
    /// stale anyway; monotonic mode keeps strict growth, its only guarantee.
    pub fn next_seq(&mut self, anti_replay: AntiReplay, window: u32, now: WallTime) -> Seq {
        let clk = Seq::from_clock(now);
        if clk.after(self.last) {
            self.last = clk;
            return clk;
        }
        let ahead = secs_delta(self.last.sec(), clk.sec());
        if anti_replay == AntiReplay::Time && i64::from(ahead) > i64::from(window) {
            self.last = clk;
        } else {
            self.last = Seq(self.last.0.wrapping_add(1));
        }
        self.last
    }
}

/// Fills the trailer at `buf[msg_len..msg_len + TRAILER_LEN]` with `seq` and the HMAC under
/// `key` (the signing half of `vrrp_auth_hmac_sign`). `buf[..msg_len]` is the VRRP message
/// (its checksum may be filled before or after). Without a key the HMAC stays zero, which
/// every receiver rejects. Returns `false`, writing nothing, if `buf` is too short.
pub fn seal(
    buf: &mut [u8],
    msg_len: usize,
    ext_type: u8,
    key_id: u8,
    key: Option<&Key>,
    seq: Seq,
    binding: Binding,
) -> bool {
    let Some(end) = msg_len.checked_add(TRAILER_LEN) else {
        return false;
    };
    if buf.len() < end {
        return false;
    }
    let repr = TrailerRepr {
        ext_type,
        key_id,
        reserved: 0,
        seq,
        hmac: [0; HMAC_LEN],
    };
    repr.emit(&mut Trailer::new_unchecked(&mut buf[msg_len..end]));
    if let Some(key) = key {
        let pseudo = binding.pseudo_header();
        let h = digest(&key.data, &pseudo, &buf[..msg_len + TRAILER_PREFIX_LEN]);
        buf[msg_len + field::HMAC.start..end].copy_from_slice(&h);
    }
    true
}

/// Signs an advert (`vrrp_auth_hmac_sign`): takes the next sequence and seals the trailer
/// after the `msg_len`-byte message in `buf`. In receive-only mode nothing is written and
/// `None` returned; also `None` when `buf` has no room for the trailer.
pub fn sign(
    cfg: &Config,
    state: &mut SendState,
    buf: &mut [u8],
    msg_len: usize,
    binding: Binding,
    now: WallTime,
) -> Option<Seq> {
    if cfg.mode == Mode::ReceiveOnly || buf.len() < msg_len.saturating_add(TRAILER_LEN) {
        return None;
    }
    let seq = state.next_seq(cfg.anti_replay, cfg.time_window, now);
    let key = cfg.keys.find(cfg.active_key);
    seal(
        buf,
        msg_len,
        cfg.ext_type,
        cfg.active_key,
        key,
        seq,
        binding,
    )
    .then_some(seq)
}

// ---------------------------------------------------------------------------------------
// Receiving
// ---------------------------------------------------------------------------------------

/// A sender's anti-replay high-water mark (`vrrp_replay_state_t`): the last sequence
/// accepted from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayState {
    pub mark: Option<Seq>,
}

impl ReplayState {
    /// `replay_ok`: rejects a sequence not after the mark, then raises the mark. In time
    /// mode a mark more than the window away from the clock first expires: it only orders
    /// adverts the window rejects anyway, and expiring it lets a sender whose clock was
    /// stepped back (and restarted from it) be heard again (2.4.3's clock-step recovery).
    pub fn accept(
        &mut self,
        anti_replay: AntiReplay,
        window: u32,
        seq: Seq,
        now: WallTime,
    ) -> bool {
        if let Some(mark) = self.mark
            && anti_replay == AntiReplay::Time
            && outside(secs_delta(now.secs32(), mark.sec()), window)
        {
            self.mark = None;
        }
        if let Some(mark) = self.mark
            && !seq.after(mark)
        {
            return false;
        }
        self.mark = Some(seq);
        true
    }
}

/// One multicast sender's slot (`vrrp_mcast_sender_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    addr: IpAddr,
    replay: ReplayState,
    /// LRU rank, never zero for a used slot.
    last_used: u32,
}

/// The replay marks of multicast senders: [`MCAST_SENDERS`] slots keyed by source address,
/// the least recently used evicted (`mcast_state`). Only adverts whose HMAC verified reach
/// it, so forged sources cannot churn it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct McastSenders {
    slots: [Option<Slot>; MCAST_SENDERS],
    lru_clock: u32,
}

impl McastSenders {
    fn next_lru(&mut self) -> u32 {
        self.lru_clock = self.lru_clock.wrapping_add(1);
        if self.lru_clock == 0 {
            self.lru_clock = 1;
        }
        self.lru_clock
    }

    /// The slot of `addr`, taken over from the least recently used (the first empty one, or
    /// the first of equal rank) when it has none.
    pub fn state(&mut self, addr: IpAddr) -> &mut ReplayState {
        let rank = self.next_lru();
        let rank_of = |s: &Option<Slot>| s.map_or(0, |s| s.last_used);
        let found = self
            .slots
            .iter()
            .position(|s| s.is_some_and(|s| s.addr == addr));
        let i = match found {
            Some(i) => i,
            None => {
                let mut victim = 0;
                for (i, s) in self.slots.iter().enumerate() {
                    if rank_of(s) < rank_of(&self.slots[victim]) {
                        victim = i;
                    }
                }
                self.slots[victim] = Some(Slot {
                    addr,
                    replay: ReplayState::default(),
                    last_used: 0,
                });
                victim
            }
        };
        let slot = self.slots[i].as_mut().expect("slot just found or filled");
        slot.last_used = rank;
        &mut slot.replay
    }

    /// The senders with a slot.
    pub fn senders(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.slots.iter().flatten().map(|s| s.addr)
    }
}

/// Where a received advert's replay mark lives: a unicast instance anchors it on the
/// configured peer the source matched (`None`: the source is not a peer), a multicast one in
/// its [`McastSenders`].
#[derive(Debug)]
pub enum Anchor<'a> {
    Unicast(Option<&'a mut ReplayState>),
    Multicast(&'a mut McastSenders),
}

/// Why a trailer is rejected (`vrrp_auth_hmac_result_t` less `OK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// An unknown scheme or a non-zero reserved field.
    Malformed,
    UnknownKey(u8),
    BadHmac,
    /// The timestamp is `skew` seconds (the clock minus the advert's) from the clock,
    /// outside the window.
    Stale {
        skew: i32,
    },
    Replay,
}

/// A verified trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    pub seq: Seq,
    /// The clock minus the advert's seconds, in time mode.
    pub skew: Option<i32>,
}

/// Verifies a received trailer (`vrrp_auth_hmac_check`). `msg` is the VRRP message and
/// `trailer` the 28 bytes after it; `binding` holds the packet's source address and the
/// instance's version and VRID. The order is keepalived's: the format, then the freshness window
/// (before the costly HMAC, rejecting only), the key, the HMAC, and last the replay mark,
/// which forged data never moves.
pub fn check(
    cfg: &Config,
    msg: &[u8],
    trailer: &[u8],
    binding: Binding,
    anchor: Anchor<'_>,
    now: WallTime,
) -> Result<Checked, CheckError> {
    let t = Trailer::new_checked(trailer).map_err(|_| CheckError::Malformed)?;
    let repr = TrailerRepr::parse(&t);
    if repr.ext_type != cfg.ext_type || repr.reserved != 0 {
        return Err(CheckError::Malformed);
    }
    let mut skew = None;
    if cfg.anti_replay == AntiReplay::Time {
        let delta = secs_delta(now.secs32(), repr.seq.sec());
        skew = Some(delta);
        if outside(delta, cfg.time_window) {
            return Err(CheckError::Stale { skew: delta });
        }
    }
    let key = cfg
        .keys
        .find(repr.key_id)
        .ok_or(CheckError::UnknownKey(repr.key_id))?;
    let mut covered = Vec::with_capacity(msg.len() + TRAILER_PREFIX_LEN);
    covered.extend_from_slice(msg);
    covered.extend_from_slice(&trailer[..TRAILER_PREFIX_LEN]);
    let want = digest(&key.data, &binding.pseudo_header(), &covered);
    if !constant_time_eq(&repr.hmac, &want) {
        return Err(CheckError::BadHmac);
    }
    let state = match anchor {
        Anchor::Unicast(Some(s)) => s,
        // The caller resolves the peer before the check; without one there is no mark
        // to hold, and keepalived rejects the advert before this point.
        Anchor::Unicast(None) => return Err(CheckError::Replay),
        Anchor::Multicast(m) => m.state(binding.src),
    };
    if !state.accept(cfg.anti_replay, cfg.time_window, repr.seq, now) {
        return Err(CheckError::Replay);
    }
    Ok(Checked {
        seq: repr.seq,
        skew,
    })
}

/// The statistics keepalived keeps per instance for `auth_hmac` (`vrrp_stats`'s
/// `auth_ext_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    Missing,
    Malformed,
    UnknownKey,
    InvalidHmac,
    Stale,
    Replay,
}

/// The counters' values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    pub missing: u64,
    pub malformed: u64,
    pub unknown_key: u64,
    pub invalid_hmac: u64,
    pub stale: u64,
    pub replay: u64,
}

impl Counters {
    pub fn bump(&mut self, c: Counter) {
        let n = match c {
            Counter::Missing => &mut self.missing,
            Counter::Malformed => &mut self.malformed,
            Counter::UnknownKey => &mut self.unknown_key,
            Counter::InvalidHmac => &mut self.invalid_hmac,
            Counter::Stale => &mut self.stale,
            Counter::Replay => &mut self.replay,
        };
        *n = n.saturating_add(1);
    }
}

/// Why an advert is rejected by `auth_hmac` (`vrrp_auth_ext_verify`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Enforce mode and no trailer.
    Missing,
    /// A unicast instance and a source that is no configured peer (not counted).
    NotAPeer,
    Malformed,
    UnknownKey(u8),
    BadHmac,
    Stale {
        skew: i32,
    },
    Replay,
}

impl Reason {
    /// The counter keepalived bumps, if any.
    pub fn counter(self) -> Option<Counter> {
        match self {
            Reason::Missing => Some(Counter::Missing),
            Reason::NotAPeer => None,
            Reason::Malformed => Some(Counter::Malformed),
            Reason::UnknownKey(_) => Some(Counter::UnknownKey),
            Reason::BadHmac => Some(Counter::InvalidHmac),
            Reason::Stale { .. } => Some(Counter::Stale),
            Reason::Replay => Some(Counter::Replay),
        }
    }

    /// keepalived's log line for it (rate limited there), `window` the instance's
    /// `time_window`.
    pub fn log_line(self, iname: &str, src: IpAddr, window: u32) -> String {
        match self {
            Reason::Missing => format!("({iname}) missing authentication trailer from {src}"),
            Reason::NotAPeer => {
                format!("({iname}) unicast source address {src} not a unicast peer")
            }
            Reason::Malformed => format!("({iname}) malformed authentication trailer from {src}"),
            Reason::UnknownKey(id) => {
                format!("({iname}) unknown authentication key id {id} from {src}")
            }
            Reason::BadHmac => format!("({iname}) invalid authentication HMAC from {src}"),
            Reason::Stale { skew } => format!(
                "({iname}) stale authentication trailer from {src}, clock skew {skew} sec exceeds window {window} sec"
            ),
            Reason::Replay => format!("({iname}) replayed authentication trailer from {src}"),
        }
    }
}

impl From<CheckError> for Reason {
    fn from(e: CheckError) -> Reason {
        match e {
            CheckError::Malformed => Reason::Malformed,
            CheckError::UnknownKey(id) => Reason::UnknownKey(id),
            CheckError::BadHmac => Reason::BadHmac,
            CheckError::Stale { skew } => Reason::Stale { skew },
            CheckError::Replay => Reason::Replay,
        }
    }
}

/// What `auth_hmac` makes of a received advert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept {
        /// `Some` when a trailer verified; `None` for a trailerless advert a migration mode
        /// accepts.
        checked: Option<Checked>,
        /// keepalived warns (rate limited) when the skew passes half the window:
        /// "(I) authentication clock skew S sec from A approaching window W sec".
        skew_warning: bool,
    },
    Reject(Reason),
}

impl Verdict {
    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept { .. })
    }
    /// The counter to bump, if any.
    pub fn counter(&self) -> Option<Counter> {
        match self {
            Verdict::Accept { .. } => None,
            Verdict::Reject(r) => r.counter(),
        }
    }
}

/// Splits a received VRRP message into the message and its trailer
/// (`vrrp_check_packet`): a trailer is there exactly when the bytes are `msg_len` (the
/// length the header's address count makes) plus [`TRAILER_LEN`] - Ethernet padding never
/// reaches 28 bytes, so the length alone tells. keepalived looks for a trailer only in an
/// instance with `auth_hmac`; elsewhere the 28 bytes make a length error (`packet_len_err`).
pub fn split_trailer(bytes: &[u8], msg_len: usize) -> (&[u8], Option<&[u8]>) {
    if msg_len.checked_add(TRAILER_LEN) == Some(bytes.len()) {
        let (m, t) = bytes.split_at(msg_len);
        (m, Some(t))
    } else {
        (&bytes[..msg_len.min(bytes.len())], None)
    }
}

/// An advert as `auth_hmac` sees it.
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    /// The VRRP message and what follows it (after the IP header, and AH if any).
    pub bytes: &'a [u8],
    /// The message's length from its header (`expected_vrrp_pkt_len`).
    pub msg_len: usize,
    pub binding: Binding,
}

/// The whole receive decision (`vrrp_auth_ext_verify`), run after the length, TTL and
/// version checks and before anything reaches the state machine: without a trailer, enforce
/// rejects and the migration modes accept; with one, every mode verifies it (receive-only
/// too, that is the point of it). The caller bumps [`Verdict::counter`].
pub fn verdict(cfg: &Config, rx: Received<'_>, anchor: Anchor<'_>, now: WallTime) -> Verdict {
    let (msg, trailer) = split_trailer(rx.bytes, rx.msg_len);
    let Some(trailer) = trailer else {
        return match cfg.mode {
            Mode::Enforce => Verdict::Reject(Reason::Missing),
            _ => Verdict::Accept {
                checked: None,
                skew_warning: false,
            },
        };
    };
    if let Anchor::Unicast(None) = anchor {
        return Verdict::Reject(Reason::NotAPeer);
    }
    match check(cfg, msg, trailer, rx.binding, anchor, now) {
        Ok(c) => {
            let half = i64::from(cfg.time_window / 2);
            let skew_warning = cfg.anti_replay == AntiReplay::Time
                && c.skew.is_some_and(|s| i64::from(s).abs() > half);
            Verdict::Accept {
                checked: Some(c),
                skew_warning,
            }
        }
        Err(e) => Verdict::Reject(e.into()),
    }
}

#[cfg(test)]
mod tests;
