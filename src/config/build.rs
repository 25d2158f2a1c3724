//! Applies keyword tables to the syntax tree: checks each keyword line against its table entry,
//! reads the value, reports what is wrong, and stores the value in the model.

use std::net::IpAddr;

use super::ast::{Line, Node};
use super::diag::{Diagnostic, Diagnostics};
use super::grammar::command_words;
use super::source::Span;
use super::table::{
    Arg, Command, Found, Keyword, Table, TableDoc, Val, fmt_millis, fmt_secs, suggest,
};

/// Where each keyword of a block was written (the last occurrence), and the block's header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The header line (`vrrp_instance VI_1`).
    pub at: Span,
    /// The `}` closing the block.
    pub end: Option<Span>,
    lines: Vec<(&'static str, Span)>,
}

impl Seen {
    pub fn new(at: Span) -> Self {
        Seen {
            at,
            end: None,
            lines: Vec::new(),
        }
    }
    /// Where keepalived reports what a block lacks: its closing `}` (the header if unclosed).
    pub fn closing(&self) -> Span {
        self.end.unwrap_or(self.at)
    }
    /// The error for a block that ends without a keyword it needs, `what` saying which block
    /// lacks what and what keepalived does about it; reported at the closing `}` as keepalived
    /// does, with a note pointing back at the header.
    pub fn lacks<'d>(&self, d: &'d mut Diagnostics, what: String) -> &'d mut Diagnostic {
        d.error("missing-keyword", self.closing(), what)
            .note(format!("the block starts at line {}", self.at.line))
    }
    /// The line where keyword `name` (canonical name) was given.
    pub fn get(&self, name: &str) -> Option<Span> {
        self.lines
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// The keyword's line, or the block header if it was not given.
    pub fn or_header(&self, name: &str) -> Span {
        self.get(name).unwrap_or(self.at)
    }
    /// Adds the keywords of another occurrence of the same block (`global_defs` twice).
    pub fn extend(&mut self, other: Seen) {
        if self.at == Span::default() {
            self.at = other.at;
        }
        self.lines.extend(other.lines);
    }
    fn record(&mut self, name: &'static str, span: Span) -> Option<Span> {
        let prev = self.get(name);
        self.lines.push((name, span));
        prev
    }
}

/// The context of the build: diagnostics and the tables for hints.
pub struct Cx<'a> {
    pub diags: &'a mut Diagnostics,
    /// Every table, to say where an unknown keyword belongs.
    pub tables: &'a [&'static (dyn TableDoc + Sync)],
    /// The value being set (word 1 of the line, or the keyword): where setters report
    /// problems with values they receive already parsed.
    pub here: Span,
    /// Inside a block that is accepted but not implemented: its header said so once, and its
    /// keywords are only checked.
    in_unimplemented: bool,
    /// keepalived numbers rules without a preference down from 16384, per family, in the
    /// order it reads them (vrrp_iprule.c RULE_START_PRIORITY): the next IPv4 and IPv6 ones.
    pub next_rule_priority: [u32; 2],
}

impl<'a> Cx<'a> {
    pub fn new(diags: &'a mut Diagnostics, tables: &'a [&'static (dyn TableDoc + Sync)]) -> Self {
        Cx {
            diags,
            tables,
            here: Span::default(),
            in_unimplemented: false,
            next_rule_priority: [16384, 16384],
        }
    }

    pub fn error(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diags.error(code, span, msg)
    }

    /// Checks a block kaconsole does not implement (its keywords' values only: the block
    /// itself is reported once, by the caller).
    pub fn check_unimplemented(&mut self, table: &(dyn TableDoc + Sync), node: &Node) {
        let outer = std::mem::replace(&mut self.in_unimplemented, true);
        table.check_block(node, self);
        self.in_unimplemented = outer;
    }

    pub fn warning(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diags.warning(code, span, msg)
    }

    /// Word `i` of `line`, or an error naming what is missing.
    pub fn word<'l>(&mut self, line: &'l Line, i: usize, what: &str) -> Option<&'l str> {
        let w = line.word(i);
        if w.is_none() {
            self.error(
                "missing-value",
                line.end_span(),
                format!("'{}' needs {what}", line.keyword()),
            );
        }
        w
    }

    /// Reports `name` (given for `keyword`, at `at`) if the kernel would refuse it as an
    /// interface name (dev_valid_name: 1 to 15 bytes, not `.` or `..`, no `/` or blanks).
    pub fn ifname_ok(&mut self, at: Span, keyword: &str, name: &str) -> bool {
        let why = if name.is_empty() {
            "is empty"
        } else if name.len() > 15 {
            "is longer than 15 characters"
        } else if name == "." || name == ".." || name.contains(['/', ' ', '\t']) {
            "is not a valid interface name"
        } else {
            return true;
        };
        self.error(
            "invalid-value",
            at,
            format!("'{keyword}': interface name '{name}' {why}"),
        );
        false
    }

    /// Warns about words after the `n` values a keyword takes.
    pub fn extra(&mut self, line: &Line, n: usize) {
        if line.argc() > n {
            let rest: Vec<&str> = line.words().skip(n + 1).collect();
            let takes = match n {
                0 => "no value".to_string(),
                1 => "one value".to_string(),
                n => format!("{n} values"),
            };
            self.warning(
                "extra-words",
                line.span_from(n + 1),
                format!(
                    "'{}' takes {takes}; '{}' is ignored",
                    line.keyword(),
                    rest.join(" ")
                ),
            );
        }
    }

    /// An integer in `min..=max` from word `i`.
    pub fn int(&mut self, line: &Line, i: usize, min: i64, max: i64) -> Option<i64> {
        let w = self.word(line, i, &format!("a number in {min}..{max}"))?;
        self.int_str(line, i, w, min, max)
    }

    /// An integer in `min..=max` from `text`, reported at word `i` of `line`.
    pub fn int_str(
        &mut self,
        line: &Line,
        i: usize,
        text: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let kw = line.keyword();
        match parse_int(text) {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(v) => {
                self.error(
                    "out-of-range",
                    line.span_of(i),
                    format!("'{kw}' {v} is out of range {min}..{max}"),
                );
                None
            }
            None => {
                self.error(
                    "invalid-number",
                    line.span_of(i),
                    format!("'{kw}': '{text}' is not a number"),
                )
                .help(format!("expected a whole number in {min}..{max}"));
                None
            }
        }
    }

    /// Seconds (up to 6 decimals) as microseconds in `min_us..=max_us`, from word `i`.
    pub fn secs(&mut self, line: &Line, i: usize, min_us: u64, max_us: u64) -> Option<u64> {
        self.duration(line, i, min_us, max_us, false)
    }

    /// A duration in seconds (6 decimals) or, with `millis`, in milliseconds (3 decimals, as
    /// BFD's intervals), returned in microseconds.
    pub fn duration(
        &mut self,
        line: &Line,
        i: usize,
        min_us: u64,
        max_us: u64,
        millis: bool,
    ) -> Option<u64> {
        let (unit, decimals, fmt): (_, _, fn(u64) -> String) = if millis {
            ("milliseconds", 3, fmt_millis)
        } else {
            ("seconds", 6, fmt_secs)
        };
        let w = self.word(line, i, &format!("a time in {unit}"))?;
        let kw = line.keyword();
        let span = line.span_of(i);
        let range = || format!("{}..{} {unit}", fmt(min_us), fmt(max_us));
        // parse_micros reads millionths of the unit: for milliseconds, nanoseconds.
        let parsed = parse_micros(w).map(|(v, rounded)| {
            if millis {
                ((v + 500) / 1000, rounded || v % 1000 != 0)
            } else {
                (v, rounded)
            }
        });
        match parsed {
            Ok((us, rounded)) => {
                if rounded {
                    self.warning(
                        "too-precise",
                        span,
                        format!(
                            "'{kw}' {w} has more than {decimals} decimal places; it is rounded to {}",
                            fmt(us)
                        ),
                    );
                }
                if (min_us..=max_us).contains(&us) {
                    Some(us)
                } else {
                    self.error(
                        "out-of-range",
                        span,
                        format!("'{kw}' {w} is out of range {}", range()),
                    );
                    None
                }
            }
            Err(NotSeconds) => {
                self.error(
                    "invalid-number",
                    span,
                    format!("'{kw}': '{w}' is not a time in {unit}"),
                )
                .help(format!(
                    "expected a number of {unit} in {}, e.g. 1 or 0.5",
                    range()
                ));
                None
            }
        }
    }

    /// `on|off|true|false|yes|no` from word `i`; a missing word means true.
    pub fn bool_at(&mut self, line: &Line, i: usize) -> Option<bool> {
        let Some(w) = line.word(i) else {
            return Some(true);
        };
        match w {
            "on" | "true" | "yes" => Some(true),
            "off" | "false" | "no" => Some(false),
            _ => {
                let d = self.error(
                    "invalid-value",
                    line.span_of(i),
                    format!(
                        "'{}': '{w}' is not one of on, off, true, false, yes, no",
                        line.keyword()
                    ),
                );
                if matches!(
                    w.to_ascii_lowercase().as_str(),
                    "on" | "off" | "true" | "false" | "yes" | "no"
                ) {
                    d.help(format!(
                        "keepalived only accepts lowercase: '{}'",
                        w.to_ascii_lowercase()
                    ));
                }
                None
            }
        }
    }

    /// An IP address from word `i`.
    pub fn ip(&mut self, line: &Line, i: usize) -> Option<IpAddr> {
        let w = self.word(line, i, "an IP address")?;
        match w.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.error(
                    "invalid-address",
                    line.span_of(i),
                    format!("'{}': '{w}' is not an IP address", line.keyword()),
                );
                None
            }
        }
    }

    /// One of `choices` from word `i`.
    pub fn choice(
        &mut self,
        line: &Line,
        i: usize,
        choices: &'static [&'static str],
    ) -> Option<&'static str> {
        let w = self.word(line, i, &format!("one of {}", choices.join(", ")))?;
        if let Some(c) = choices.iter().find(|c| **c == w) {
            return Some(c);
        }
        let d = self.error(
            "invalid-value",
            line.span_of(i),
            format!(
                "'{}': '{w}' is not one of {}",
                line.keyword(),
                choices.join(", ")
            ),
        );
        if let Some(s) = suggest(w, choices.iter().copied()) {
            d.help(format!("did you mean '{s}'?"));
        }
        None
    }

    /// A command line and its optional user and group, as keepalived reads `script`/`notify*`.
    pub fn command(&mut self, line: &Line) -> Option<Command> {
        let words = match command_words(line.rest()) {
            Ok(w) => w,
            Err(e) => {
                self.error(
                    "invalid-command",
                    line.span_from(1),
                    format!("'{}': {e}", line.keyword()),
                );
                return None;
            }
        };
        let mut it = words.into_iter();
        let Some(cmd) = it.next() else {
            self.error(
                "missing-value",
                line.end_span(),
                format!("'{}' needs a command", line.keyword()),
            );
            return None;
        };
        // keepalived: the first word is the command (a quoted string may hold its arguments);
        // the next two are the user and group.
        let argv = match command_words(&cmd) {
            Ok(v) if !v.is_empty() => v,
            _ => vec![cmd],
        };
        let user = it.next();
        let group = it.next();
        let rest: Vec<String> = it.collect();
        if !rest.is_empty() {
            self.warning(
                "extra-words",
                line.span_from(4),
                format!(
                    "'{}': '{}' is ignored; put the command and its arguments in quotes",
                    line.keyword(),
                    rest.join(" ")
                ),
            );
        }
        Some(Command { argv, user, group })
    }
}

/// A decimal integer as keepalived reads it (base 10, optional sign, no trailing text).
pub fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// Decimal seconds with up to 6 places to microseconds; `true` if rounded (more places).
/// Not a decimal number of seconds.
#[derive(Debug, PartialEq, Eq)]
pub struct NotSeconds;

pub fn parse_micros(s: &str) -> Result<(u64, bool), NotSeconds> {
    if s.is_empty() || s.starts_with('-') {
        return Err(NotSeconds);
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(NotSeconds);
    }
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| NotSeconds)?
    };
    let mut digits: String = frac.chars().take(6).collect();
    let round_up = frac.len() > 6 && frac.as_bytes()[6] >= b'5';
    while digits.len() < 6 {
        digits.push('0');
    }
    let f: u64 = digits.parse().map_err(|_| NotSeconds)?;
    let us = whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(f + u64::from(round_up)))
        .ok_or(NotSeconds)?;
    Ok((us, frac.len() > 6))
}

/// Reads a block's lines into `target` with `table`. Returns where each keyword was written.
pub fn apply_children<T>(
    table: &Table<T>,
    target: &mut T,
    header: Span,
    children: &[Node],
    cx: &mut Cx<'_>,
) -> Seen
where
    T: Default,
{
    let mut seen = Seen::new(header);
    seen.lines.reserve_exact(children.len());
    for node in children {
        apply_one(table, target, node, cx, &mut seen);
    }
    seen
}

/// Reads one keyword line (and its block) of a block into `target`: for the top level,
/// which is read block by block as the grammar completes them.
pub fn apply_node<T: Default>(
    table: &Table<T>,
    target: &mut T,
    node: &Node,
    cx: &mut Cx<'_>,
    seen: &mut Seen,
) {
    apply_one(table, target, node, cx, seen);
}

fn apply_one<T: Default>(
    table: &Table<T>,
    target: &mut T,
    node: &Node,
    cx: &mut Cx<'_>,
    seen: &mut Seen,
) {
    let line = &node.line;
    let word = line.keyword();
    let Some((kw, found)) = table.lookup(word) else {
        unknown_keyword(table, node, cx);
        return;
    };
    if found == Found::Deprecated {
        cx.warning(
            "deprecated",
            line.span_of(0),
            format!("'{word}' is deprecated; use '{}'", kw.name),
        )
        .help(format!("rename it to '{}'", kw.name));
    }

    if !kw.since.is_empty() && !cx.in_unimplemented {
        cx.warning(
            "newer-keyword",
            line.span_of(0),
            format!(
                "'{}' needs keepalived {} or later; older ones (Debian 12 ships 2.2.7) reject it",
                kw.name, kw.since
            ),
        );
    }

    // Block shape.
    match (kw.arg.is_block(), &node.block) {
        (true, None) => {
            cx.error(
                "missing-block",
                line.span_of(0),
                format!("'{}' needs a {{ }} block", kw.name),
            )
            .help(format!("write: {} {{ ... }}", kw.name));
            return;
        }
        (false, Some(b)) => {
            cx.error(
                "unexpected-block",
                b.open,
                format!(
                    "'{}' does not take a {{ }} block; the block is skipped",
                    kw.name
                ),
            );
            return;
        }
        _ => {}
    }

    let span = line.span_of(0).with_len(line.span.len as usize);
    if kw.keep_first
        && let Some(first) = seen.get(kw.name)
    {
        cx.error(
            "repeated",
            line.span_of(0),
            format!(
                "'{}' is already given at line {}; keepalived keeps the first and ignores this one",
                kw.name, first.line
            ),
        );
        return;
    }
    if let Some(prev) = seen.record(kw.name, span)
        && !kw.repeat
    {
        cx.warning(
            "repeated",
            line.span_of(0),
            format!(
                "'{}' is given more than once; this value replaces the one at line {}",
                kw.name, prev.line
            ),
        );
    }

    let Some(val) = read_value(kw, node, cx) else {
        return;
    };
    cx.here = if line.argc() > 0 {
        line.span_of(1)
    } else {
        line.span_of(0)
    };
    if !kw.acted_on() && !cx.in_unimplemented {
        cx.warning(
            "not-implemented",
            line.span_of(0),
            format!(
                "'{}' is accepted but not implemented by kaconsole; it has no effect",
                kw.name
            ),
        )
        .keyword(kw.name);
    }
    match kw.set {
        // Inside an inert block, the block alone is reported.
        Some(set) => {
            let outer = cx.in_unimplemented;
            cx.in_unimplemented |= kw.inert;
            set(target, val, cx);
            cx.in_unimplemented = outer;
        }
        None => {
            if let Arg::Block(sub) = kw.arg {
                let outer = std::mem::replace(&mut cx.in_unimplemented, true);
                sub.check_block(node, cx);
                cx.in_unimplemented = outer;
            }
        }
    }
}

/// Reads the value of `kw` from its line according to its `Arg`.
fn read_value<'n, T>(kw: &Keyword<T>, node: &'n Node, cx: &mut Cx<'_>) -> Option<Val<'n>> {
    let line = &node.line;
    Some(match kw.arg {
        Arg::Flag => {
            if let Some(w) = line.word(1) {
                let negative = matches!(w, "off" | "no" | "false" | "0");
                if negative {
                    cx.error(
                        "flag-with-value",
                        line.span_of(1),
                        format!(
                            "'{}' takes no value: keepalived ignores '{w}' and turns it ON",
                            kw.name
                        ),
                    )
                    .help(format!("to turn it off, remove the '{}' line", kw.name));
                    // The model holds what keepalived would run with: the flag on.
                    return Some(Val::Flag);
                }
                cx.extra(line, 0);
            }
            Val::Flag
        }
        Arg::Bool => {
            let b = cx.bool_at(line, 1)?;
            cx.extra(line, 1);
            Val::Bool(b)
        }
        Arg::Int { min, max } => {
            let v = cx.int(line, 1, min, max)?;
            cx.extra(line, 1);
            Val::Int(v)
        }
        Arg::OptInt { min, max, bare } => {
            if line.argc() == 0 {
                Val::Int(bare)
            } else {
                let v = cx.int(line, 1, min, max)?;
                cx.extra(line, 1);
                Val::Int(v)
            }
        }
        Arg::Secs { min_us, max_us } => {
            let v = cx.secs(line, 1, min_us, max_us)?;
            cx.extra(line, 1);
            Val::Micros(v)
        }
        Arg::Millis { min_us, max_us } => {
            let v = cx.duration(line, 1, min_us, max_us, true)?;
            cx.extra(line, 1);
            Val::Micros(v)
        }
        Arg::Word => {
            let w = cx.word(line, 1, "a value")?;
            cx.extra(line, 1);
            Val::Word(w)
        }
        Arg::Choice(c) => {
            let w = cx.choice(line, 1, c)?;
            cx.extra(line, 1);
            Val::Choice(w)
        }
        Arg::Ip => {
            let a = cx.ip(line, 1)?;
            cx.extra(line, 1);
            Val::Ip(a)
        }
        Arg::Command => Val::Command(cx.command(line)?),
        Arg::Custom(_) | Arg::Block(_) | Arg::Values(_) | Arg::NamedValues(_) => {
            if kw.arg.is_block() && line.argc() > 0 && matches!(kw.arg, Arg::Values(_)) {
                cx.warning(
                    "extra-words",
                    line.span_from(1),
                    format!(
                        "'{}' takes no value before its block; '{}' is ignored",
                        kw.name,
                        line.rest()
                    ),
                );
            }
            Val::Node(node)
        }
    })
}

/// Reports an unknown keyword once (its block, if any, is skipped), with the likely fix.
fn unknown_keyword<T: Default>(table: &Table<T>, node: &Node, cx: &mut Cx<'_>) {
    let line = &node.line;
    let word = line.keyword();
    let names = table.names();
    let fix = suggest(word, names.iter().copied());
    let elsewhere: Vec<&str> = cx
        .tables
        .iter()
        .filter(|t| t.block() != table.block && t.has(word))
        .map(|t| t.block())
        .collect();
    let msg = if table.block.is_empty() {
        format!("unknown keyword '{word}'")
    } else {
        format!("unknown keyword '{word}' in {}", table.block)
    };
    let d = cx.diags.error("unknown-keyword", line.span_of(0), msg);
    if let Some(f) = fix {
        d.help(format!("did you mean '{f}'?"));
    } else if !elsewhere.is_empty() {
        d.help(format!("'{word}' belongs in {}", elsewhere.join(" or ")));
    } else if !table.unknown_help.is_empty() {
        d.help(table.unknown_help);
    }
    if let Some(b) = &node.block {
        let end = b.close.map_or(String::new(), |c| format!("-{}", c.line));
        d.note(format!("its block (lines {}{end}) is skipped", b.open.line));
    }
}

impl<T: Default> Table<T> {
    /// Reads a block into a new `T`.
    pub fn read(&self, node: &Node, cx: &mut Cx<'_>) -> (T, Seen) {
        let mut t = T::default();
        let mut seen = apply_children(self, &mut t, node.line.span, node.children(), cx);
        seen.end = node.block.as_ref().and_then(|b| b.close);
        (t, seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int("100"), Some(100));
        assert_eq!(parse_int("-5"), Some(-5));
        assert_eq!(parse_int("+5"), Some(5));
        assert_eq!(parse_int("010"), Some(10), "decimal, as strtol base 10");
        assert_eq!(parse_int("5x"), None);
        assert_eq!(parse_int("0x5"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("1-2"), None);
    }

    #[test]
    fn micros() {
        assert_eq!(parse_micros("1"), Ok((1_000_000, false)));
        assert_eq!(parse_micros("0.5"), Ok((500_000, false)));
        assert_eq!(parse_micros(".5"), Ok((500_000, false)));
        assert_eq!(parse_micros("5."), Ok((5_000_000, false)));
        assert_eq!(parse_micros("0.0000015"), Ok((2, true)));
        assert_eq!(parse_micros("-1"), Err(NotSeconds));
        assert_eq!(parse_micros("1x"), Err(NotSeconds));
        assert_eq!(parse_micros("."), Err(NotSeconds));
        assert_eq!(parse_micros("99999999999999999999"), Err(NotSeconds));
    }
}
