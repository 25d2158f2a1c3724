//! Keyword tables: one per configuration block, used by the parser (how to read each value and
//! where to store it), the validator (ranges, choices, defaults) and the TUI editor (completion
//! and hover help). There is no other list of keywords.

use super::fasthash::FastMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::OnceLock;

use serde::Serialize;

use super::ast::Node;
use super::build::Cx;

/// How common a keyword is (reference/keepalived.md §3). P2 keywords without a setter are
/// "accepted, not implemented".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    P0,
    P1,
    P2,
}

/// The syntax of a keyword's value; drives parsing and documentation.
#[derive(Clone, Copy)]
pub enum Arg {
    /// No value.
    Flag,
    /// `[on|off|true|false|yes|no]`; the bare keyword means on.
    Bool,
    /// A decimal integer in `min..=max`.
    Int { min: i64, max: i64 },
    /// Optional integer; the bare keyword takes the given value.
    OptInt { min: i64, max: i64, bare: i64 },
    /// Seconds with up to 6 decimals, stored in microseconds, in `min_us..=max_us`.
    Secs { min_us: u64, max_us: u64 },
    /// Milliseconds with up to 3 decimals (BFD's intervals), stored in microseconds.
    Millis { min_us: u64, max_us: u64 },
    /// One word.
    Word,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// An IPv4 or IPv6 address.
    Ip,
    /// A command line (`script`, `notify*`, ...): quoted words with escapes.
    Command,
    /// Anything else; the setter reads the words. The text describes the syntax.
    Custom(&'static str),
    /// A `{ }` block of keywords.
    Block(&'static (dyn TableDoc + Sync)),
    /// A `{ }` block of items, one per line; the text describes an item.
    Values(&'static str),
    /// A name, then a `{ }` block of items (`virtual_server_group NAME { ... }`).
    NamedValues(&'static str),
}

/// The largest value of keepalived's unsigned (32-bit) integer keywords.
pub const UINT: i64 = u32::MAX as i64;
/// The largest duration keepalived's time keywords accept (it reads them into 64 bits).
pub const SECS_MAX: u64 = u64::MAX - 1;

impl Arg {
    /// The syntax as shown in help: `<1..255>`, `[on|off]`, `{ ... }`.
    pub fn syntax(&self) -> String {
        match self {
            Arg::Flag => String::new(),
            Arg::Bool => "[on|off]".into(),
            Arg::Int { min, max } => format!("<{min}..{max}>"),
            Arg::OptInt { min, max, .. } => format!("[<{min}..{max}>]"),
            Arg::Secs { min_us, max_us } => {
                format!("<{}..{} seconds>", fmt_secs(*min_us), fmt_secs(*max_us))
            }
            Arg::Millis { min_us, max_us } => {
                format!("<{}..{} ms>", fmt_millis(*min_us), fmt_millis(*max_us))
            }
            Arg::Word => "<word>".into(),
            Arg::Choice(c) => c.join("|"),
            Arg::Ip => "<address>".into(),
            Arg::Command => "<command> [<user> [<group>]]".into(),
            Arg::Custom(s) => (*s).into(),
            Arg::Block(_) => "{ ... }".into(),
            Arg::Values(s) => format!("{{ {s} ... }}"),
            Arg::NamedValues(s) => format!("NAME {{ {s} ... }}"),
        }
    }

    pub fn is_block(&self) -> bool {
        matches!(self, Arg::Block(_) | Arg::Values(_) | Arg::NamedValues(_))
    }
}

/// Formats microseconds as milliseconds without trailing zeros.
pub fn fmt_millis(us: u64) -> String {
    fmt_secs(us.saturating_mul(1000))
}

/// Formats microseconds as seconds without trailing zeros.
pub fn fmt_secs(us: u64) -> String {
    let mut s = format!("{}", us / 1_000_000);
    let frac = us % 1_000_000;
    if frac != 0 {
        let f = format!("{frac:06}");
        let _ = write!(s, ".{}", f.trim_end_matches('0'));
    }
    s
}

/// A parsed value, handed to the keyword's setter.
#[derive(Clone, Debug)]
pub enum Val<'a> {
    Flag,
    Bool(bool),
    Int(i64),
    Micros(u64),
    Word(&'a str),
    Choice(&'static str),
    Ip(IpAddr),
    Command(Command),
    /// For `Custom`, `Block` and `Values`: the node, for the setter to read.
    Node(&'a Node),
}

impl<'a> Val<'a> {
    pub fn bool(&self) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Flag => true,
            _ => unreachable_value(self, false),
        }
    }
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            _ => unreachable_value(self, 0),
        }
    }
    pub fn micros(&self) -> u64 {
        match self {
            Val::Micros(u) => *u,
            _ => unreachable_value(self, 0),
        }
    }
    pub fn word(&self) -> &'a str {
        match self {
            Val::Word(w) => w,
            Val::Choice(c) => c,
            _ => unreachable_value(self, ""),
        }
    }
    pub fn ip(&self) -> IpAddr {
        match self {
            Val::Ip(a) => *a,
            _ => unreachable_value(self, IpAddr::from([0, 0, 0, 0])),
        }
    }
    pub fn command(self) -> Command {
        match self {
            Val::Command(c) => c,
            other => unreachable_value(&other, Command::default()),
        }
    }
    pub fn node(&self) -> Option<&'a Node> {
        match self {
            Val::Node(n) => Some(n),
            _ => None,
        }
    }
}

/// A setter received a value its `Arg` cannot produce: a bug in a table, caught by the table
/// tests; in release builds the value is ignored rather than panicking on user input.
fn unreachable_value<T>(v: &Val<'_>, fallback: T) -> T {
    debug_assert!(false, "keyword table mismatch: unexpected value {v:?}");
    fallback
}

/// A command line with the user and group to run it as.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Command {
    pub argv: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

pub type Setter<T> = fn(&mut T, Val<'_>, &mut Cx<'_>);

/// One keyword of a block.
pub struct Keyword<T: 'static> {
    pub name: &'static str,
    /// Other names accepted silently (keepalived's synonyms, e.g. `lb_algo` for `lvs_sched`).
    pub aliases: &'static [&'static str],
    /// Old names accepted with a deprecation warning.
    pub deprecated: &'static [&'static str],
    pub arg: Arg,
    pub default: &'static str,
    pub help: &'static str,
    pub level: Level,
    /// May appear more than once (blocks and lists); otherwise a repeat is reported.
    pub repeat: bool,
    /// A repeat is ignored, as keepalived does for scripts ("already specified - ignoring");
    /// otherwise the last value replaces the earlier ones.
    pub keep_first: bool,
    /// `None`: accepted and checked, but not implemented by kaconsole.
    pub set: Option<Setter<T>>,
    /// Read and kept (for the dumps and the cross-checks), but nothing acts on it yet: reported
    /// as not implemented like a keyword without a setter.
    pub inert: bool,
    /// The keepalived release that introduced the keyword, when newer than 2.2 (the version
    /// distributions ship): older nodes reading the same file would reject it.
    pub since: &'static str,
}

impl<T> Clone for Keyword<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Keyword<T> {}

impl<T> Keyword<T> {
    pub const fn new(name: &'static str, arg: Arg, level: Level, help: &'static str) -> Self {
        Keyword {
            name,
            aliases: &[],
            deprecated: &[],
            repeat: matches!(arg, Arg::Block(_) | Arg::Values(_) | Arg::NamedValues(_)),
            keep_first: false,
            arg,
            default: "",
            help,
            level,
            set: None,
            inert: false,
            since: "",
        }
    }
    /// Whether kaconsole acts on the keyword (otherwise it is reported as not implemented).
    pub const fn acted_on(&self) -> bool {
        self.set.is_some() && !self.inert
    }
    pub const fn inert(mut self) -> Self {
        self.inert = true;
        self
    }
    pub const fn since(mut self, version: &'static str) -> Self {
        self.since = version;
        self
    }
    pub const fn set(mut self, f: Setter<T>) -> Self {
        self.set = Some(f);
        self
    }
    pub const fn default(mut self, d: &'static str) -> Self {
        self.default = d;
        self
    }
    pub const fn aliases(mut self, a: &'static [&'static str]) -> Self {
        self.aliases = a;
        self
    }
    pub const fn deprecated(mut self, a: &'static [&'static str]) -> Self {
        self.deprecated = a;
        self
    }
    pub const fn repeat(mut self) -> Self {
        self.repeat = true;
        self
    }

    pub const fn keep_first(mut self) -> Self {
        self.keep_first = true;
        self
    }
}

/// How a keyword was found in a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Name,
    Alias,
    Deprecated,
}

/// The keywords of one block, with a finishing step run after the block is read (defaults that
/// depend on several keywords, checks within the block).
pub struct Table<T: 'static> {
    pub block: &'static str,
    pub help: &'static str,
    pub keywords: &'static [Keyword<T>],
    /// Help for unknown keywords when no keyword is close (a common mistake in this block).
    pub unknown_help: &'static str,
    index: OnceLock<FastMap<&'static str, (usize, Found)>>,
}

impl<T> Table<T> {
    pub const fn new(
        block: &'static str,
        help: &'static str,
        keywords: &'static [Keyword<T>],
    ) -> Self {
        Table {
            block,
            help,
            keywords,
            unknown_help: "",
            index: OnceLock::new(),
        }
    }

    pub const fn unknown_help(mut self, help: &'static str) -> Self {
        self.unknown_help = help;
        self
    }

    fn index(&self) -> &FastMap<&'static str, (usize, Found)> {
        self.index.get_or_init(|| {
            let mut m = FastMap::default();
            for (i, k) in self.keywords.iter().enumerate() {
                m.insert(k.name, (i, Found::Name));
                for a in k.aliases {
                    m.insert(*a, (i, Found::Alias));
                }
                for a in k.deprecated {
                    m.insert(*a, (i, Found::Deprecated));
                }
            }
            m
        })
    }

    pub fn lookup(&self, word: &str) -> Option<(&Keyword<T>, Found)> {
        self.index().get(word).map(|&(i, f)| (&self.keywords[i], f))
    }

    pub fn get(&self, name: &str) -> Option<&Keyword<T>> {
        self.lookup(name).map(|(k, _)| k)
    }
}

/// Documentation of one keyword, independent of the block's model type.
#[derive(Clone, Debug, Serialize)]
pub struct KeywordDoc {
    pub name: &'static str,
    pub aliases: Vec<&'static str>,
    pub deprecated: Vec<&'static str>,
    pub syntax: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub default: &'static str,
    pub help: &'static str,
    pub level: Level,
    pub implemented: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<&'static str>,
    /// The keepalived release that introduced it, when newer than 2.2.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub since: &'static str,
}

/// A table seen without its model type: for the editor, suggestions and documentation.
pub trait TableDoc {
    fn block(&self) -> &'static str;
    fn help(&self) -> &'static str;
    fn names(&self) -> Vec<&'static str>;
    fn has(&self, word: &str) -> bool;
    fn docs(&self) -> Vec<KeywordDoc>;
    /// The table of keyword `word`'s sub-block, if it has one.
    fn sub(&self, word: &str) -> Option<&'static (dyn TableDoc + Sync)>;
    /// Whether keyword `word` takes a value block.
    fn takes_values(&self, word: &str) -> bool;
    /// Reads a block with this table without keeping the result (for blocks that are accepted
    /// but not implemented: their keywords are still checked).
    fn check_block(&self, node: &Node, cx: &mut Cx<'_>);
    /// Each keyword's name and value syntax.
    fn args(&self) -> Vec<(&'static str, Arg)>;
}

impl<T: Default> TableDoc for Table<T> {
    fn block(&self) -> &'static str {
        self.block
    }
    fn help(&self) -> &'static str {
        self.help
    }
    fn names(&self) -> Vec<&'static str> {
        self.keywords
            .iter()
            .flat_map(|k| {
                std::iter::once(k.name)
                    .chain(k.aliases.iter().copied())
                    .chain(k.deprecated.iter().copied())
            })
            .collect()
    }
    fn has(&self, word: &str) -> bool {
        self.lookup(word).is_some()
    }
    fn docs(&self) -> Vec<KeywordDoc> {
        self.keywords
            .iter()
            .map(|k| KeywordDoc {
                name: k.name,
                aliases: k.aliases.to_vec(),
                deprecated: k.deprecated.to_vec(),
                syntax: k.arg.syntax(),
                default: k.default,
                help: k.help,
                level: k.level,
                implemented: k.acted_on(),
                block: match k.arg {
                    Arg::Block(t) => Some(t.block()),
                    _ => None,
                },
                since: k.since,
            })
            .collect()
    }
    fn sub(&self, word: &str) -> Option<&'static (dyn TableDoc + Sync)> {
        match self.lookup(word)?.0.arg {
            Arg::Block(t) => Some(t),
            _ => None,
        }
    }
    fn takes_values(&self, word: &str) -> bool {
        self.lookup(word)
            .is_some_and(|(k, _)| matches!(k.arg, Arg::Values(_) | Arg::NamedValues(_)))
    }
    fn check_block(&self, node: &Node, cx: &mut Cx<'_>) {
        let _ = self.read(node, cx);
    }
    fn args(&self) -> Vec<(&'static str, Arg)> {
        self.keywords.iter().map(|k| (k.name, k.arg)).collect()
    }
}

/// Damerau-Levenshtein distance (optimal string alignment) for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance(&a, &b)
}

/// Optimal-string-alignment distance over three rolling rows (the one before the previous is
/// what a transposition needs).
fn distance(a: &[char], b: &[char]) -> usize {
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower: Vec<char> = word.chars().map(|c| c.to_ascii_lowercase()).collect();
    let limit = (lower.len() / 3).clamp(1, 3);
    let mut buf = Vec::new();
    candidates
        .into_iter()
        .filter_map(|c| {
            // A case difference alone is the most likely fix.
            if c.eq_ignore_ascii_case(word) {
                return Some((0, c));
            }
            // The distance is at least the difference in length: most candidates stop here,
            // which keeps a file of long garbage words (or 65,000 names) cheap.
            let n = c.chars().count();
            if n.abs_diff(lower.len()) > limit {
                return None;
            }
            buf.clear();
            buf.extend(c.chars().map(|c| c.to_ascii_lowercase()));
            let d = distance(&lower, &buf);
            (d <= limit).then_some((d, c))
        })
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("intervl", "interval"), 1);
        assert_eq!(edit_distance("lb_argo", "lb_algo"), 1);
        assert_eq!(edit_distance("prioirty", "priority"), 1, "transposition");
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestions() {
        let c = ["interval", "timeout", "weight", "rise", "fall"];
        assert_eq!(suggest("intervl", c), Some("interval"));
        assert_eq!(suggest("Weight", c), Some("weight"));
        assert_eq!(suggest("completely_else", c), None);
        assert_eq!(suggest("x", c), None);
    }

    #[test]
    fn secs_format() {
        assert_eq!(fmt_secs(1_000_000), "1");
        assert_eq!(fmt_secs(10_000), "0.01");
        assert_eq!(fmt_secs(40_950_000), "40.95");
    }
}
