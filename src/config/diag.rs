//! Diagnostics: what is wrong with a configuration, where, and how to fix it.
//!
//! Rendered like rustc: `FILE:LINE:COL: error[code]: message`, the source line with a caret under
//! the offending text, notes on how the text was produced (include, `~SEQ` iteration, `$NAME`),
//! and a `help:` line when there is a fix. `--json` prints one object per diagnostic instead.

use std::fmt::Write as _;

use serde::Serialize;

use super::source::{OriginKind, SourceMap, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding. `code` is a stable kebab-case identifier (`unknown-keyword`, `out-of-range`, ...)
/// that tools and tests can match on; `message` is for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub span: Option<Span>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// For `not-implemented`: the keyword accepted and not acted on (the daemon names them
    /// all in one line at start and reload).
    pub keyword: Option<&'static str>,
}

/// The longest message, help or note kept, in characters: a message that quotes the text
/// (an unknown keyword can be a whole line of a megabyte) is cut, with an ellipsis.
pub const MAX_MESSAGE: usize = 300;

fn bounded(s: String) -> String {
    match s.char_indices().nth(MAX_MESSAGE) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

impl Diagnostic {
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(bounded(help.into()));
        self
    }

    pub fn keyword(&mut self, keyword: &'static str) -> &mut Self {
        self.keyword = Some(keyword);
        self
    }

    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(bounded(note.into()));
        self
    }
}

/// Collects diagnostics in the order they are found.
#[derive(Debug, Default)]
pub struct Diagnostics {
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        span: Option<Span>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.list.push(Diagnostic {
            severity,
            code,
            message: bounded(message.into()),
            span,
            help: None,
            notes: Vec::new(),
            keyword: None,
        });
        self.list.last_mut().expect("just pushed")
    }

    pub fn error(
        &mut self,
        code: &'static str,
        span: impl Into<Option<Span>>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Error, code, span.into(), message)
    }

    pub fn warning(
        &mut self,
        code: &'static str,
        span: impl Into<Option<Span>>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.push(Severity::Warning, code, span.into(), message)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.list.iter().filter(|d| d.severity == severity).count()
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.list.extend(other);
    }

    /// Orders by file, line and column, keeping the discovery order for equal positions and
    /// putting diagnostics without a location first.
    pub fn sort_by_location(&mut self) {
        self.list
            .sort_by_key(|d| d.span.map(|s| (s.file, s.line, s.col)));
    }
}

/// The notes that explain how the text at `span` was produced by expansions.
pub fn origin_notes(map: &SourceMap, span: Span) -> Vec<String> {
    map.origin_chain(span.origin)
        .into_iter()
        .map(|o| match &o.kind {
            OriginKind::Seq { var, value } => format!("in ~SEQ iteration {var}={value}"),
            OriginKind::Lst { bindings } => {
                let b: Vec<String> = bindings.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("in ~LST iteration {}", b.join(" "))
            }
            OriginKind::Definition { name, defined_at } => format!(
                "in the expansion of ${name}, defined at {}",
                map.location(*defined_at)
            ),
        })
        .collect()
}

/// Terminal colours for the human rendering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Never,
    Always,
}

struct Paint(Color);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        match self.0 {
            Color::Never => text.to_string(),
            Color::Always => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
        };
        self.wrap(code, s.as_str())
    }
    fn caret(&self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
        };
        self.wrap(code, text)
    }
}

/// Expands tabs to the next multiple of 4 so the caret lines up; returns the display text and
/// the display column of each character.
fn expand_tabs(line: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(line.len());
    let mut cols = Vec::with_capacity(line.len() + 1);
    let mut col = 0;
    for ch in line.chars() {
        cols.push(col);
        if ch == '\t' {
            let n = 4 - col % 4;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else if ch.is_control() {
            out.push('?');
            col += 1;
        } else {
            out.push(ch);
            col += 1;
        }
    }
    cols.push(col);
    (out, cols)
}

/// Renders one diagnostic for a terminal.
pub fn render_human(map: &SourceMap, d: &Diagnostic, color: Color) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    let head = format!(
        "{}[{}]: {}",
        paint.severity(d.severity),
        d.code,
        paint.wrap("1", &d.message)
    );
    match d.span {
        Some(span) => {
            let _ = writeln!(out, "{}: {head}", map.location(span));
            if let Some(text) = map.file(span.file).line(span.line) {
                let gutter = span.line.to_string();
                let pad = " ".repeat(gutter.len());
                let (shown, cols) = expand_tabs(text);
                let start_char = (span.col as usize).saturating_sub(1).min(cols.len() - 1);
                let end_char = (start_char + span.len.max(1) as usize).min(cols.len() - 1);
                let start = cols[start_char];
                let width = cols[end_char].saturating_sub(start).max(1);
                let _ = writeln!(out, " {gutter} | {shown}");
                let _ = writeln!(
                    out,
                    " {pad} | {}{}",
                    " ".repeat(start),
                    paint.caret(d.severity, &"^".repeat(width))
                );
            }
            for note in origin_notes(map, span).iter().chain(&d.notes) {
                let _ = writeln!(out, "  = note: {note}");
            }
        }
        None => {
            let _ = writeln!(out, "{head}");
            for note in &d.notes {
                let _ = writeln!(out, "  = note: {note}");
            }
        }
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{}: {help}", paint.wrap("1;36", "help"));
    }
    out
}

/// The JSON form of one diagnostic (one line of `kaconsole check --json`).
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub severity: Severity,
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

pub fn to_json<'a>(map: &SourceMap, d: &'a Diagnostic) -> JsonDiagnostic<'a> {
    let mut notes = d.span.map(|s| origin_notes(map, s)).unwrap_or_default();
    notes.extend(d.notes.iter().cloned());
    JsonDiagnostic {
        severity: d.severity,
        code: d.code,
        message: &d.message,
        file: d.span.map(|s| map.path(s.file).display().to_string()),
        line: d.span.map(|s| s.line),
        column: d.span.map(|s| s.col),
        length: d.span.map(|s| s.len),
        help: d.help.as_deref(),
        notes,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_quoting_a_huge_word_is_cut() {
        let mut d = Diagnostics::default();
        let word = "y".repeat(100_000);
        let diag = d.error("unknown-keyword", None, format!("unknown keyword '{word}'"));
        diag.help(word.clone()).note(word.clone());
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.message.chars().count(), MAX_MESSAGE + 1);
        assert!(diag.message.starts_with("unknown keyword 'yyy") && diag.message.ends_with('…'));
        assert_eq!(diag.help.as_ref().unwrap().chars().count(), MAX_MESSAGE + 1);
        assert_eq!(diag.notes[0].chars().count(), MAX_MESSAGE + 1);
        let short = "a short message é";
        d.warning("w", None, short);
        assert_eq!(d.iter().nth(1).unwrap().message, short);
    }

    use super::*;
    use crate::config::source::{FileId, OriginId};

    fn map_with(text: &str) -> SourceMap {
        let mut m = SourceMap::new();
        m.add_file("k.conf".into(), text.into());
        m
    }

    #[test]
    fn human_rendering_has_location_source_caret_and_help() {
        let map = map_with("vrrp_script x {\n\tintervl 2\n}\n");
        let mut diags = Diagnostics::default();
        let span = Span {
            file: FileId(0),
            line: 2,
            col: 2,
            len: 7,
            origin: OriginId::DIRECT,
        };
        diags
            .error("unknown-keyword", span, "unknown keyword 'intervl'")
            .help("did you mean 'interval'?");
        let text = render_human(&map, diags.iter().next().unwrap(), Color::Never);
        assert_eq!(
            text,
            "k.conf:2:2: error[unknown-keyword]: unknown keyword 'intervl'\n \
             2 |     intervl 2\n   |     ^^^^^^^\nhelp: did you mean 'interval'?\n"
        );
    }

    #[test]
    fn json_rendering_names_file_line_and_column() {
        let map = map_with("x\n");
        let d = Diagnostic {
            severity: Severity::Warning,
            code: "c",
            message: "m".into(),
            span: Some(Span {
                file: FileId(0),
                line: 1,
                col: 1,
                len: 1,
                origin: OriginId::DIRECT,
            }),
            help: None,
            notes: vec![],
            keyword: None,
        };
        let json = serde_json::to_string(&to_json(&map, &d)).unwrap();
        assert_eq!(
            json,
            r#"{"severity":"warning","code":"c","message":"m","file":"k.conf","line":1,"column":1,"length":1}"#
        );
    }
}
