//! Where text came from: files read, and the expansions (`~SEQ`, `~LST`, `$NAME`) that produced
//! lines which are not in any file as written.
//!
//! A [`Span`] is small and `Copy`; it names a file, a line and a column range of the text *as
//! written*. Text produced by an expansion points at the line that triggered the expansion (as
//! keepalived does: an error inside a `~SEQ` is reported at the `~SEQ` line), and its
//! [`OriginId`] leads to the chain of expansions for the diagnostic's notes.

use std::fmt;
use std::path::{Path, PathBuf};

/// Characters in `s` (columns are counted in characters); configuration text is nearly always
/// ASCII, where this is the length.
#[inline]
pub fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// Index of an expansion in the [`SourceMap`]; 0 means "written directly in the file".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct OriginId(pub u32);

impl OriginId {
    pub const DIRECT: OriginId = OriginId(0);
}

/// A location in the configuration text: 1-based line and column, length in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
    pub len: u32,
    pub origin: OriginId,
}

impl Span {
    /// The same position with another length (used to underline one token of a line).
    pub fn with_len(self, len: usize) -> Span {
        Span {
            len: len.min(u32::MAX as usize) as u32,
            ..self
        }
    }
}

/// Why a line exists when it was not written as such.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginKind {
    /// One iteration of `~SEQ(var, ...)` or `~SEQx(...)`.
    Seq { var: String, value: String },
    /// One iteration of `~LST(...)`: the variables and their values for this iteration.
    Lst { bindings: Vec<(String, String)> },
    /// A line of a multi-line `$NAME` definition, expanded where `$NAME` was used.
    Definition { name: String, defined_at: Span },
}

#[derive(Clone, Debug)]
pub struct Origin {
    pub kind: OriginKind,
    /// The expansion this one happened inside, if any.
    pub parent: OriginId,
}

/// One file that was read.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    /// Where each line starts: built when a diagnostic first shows a line of the file.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    fn new(path: PathBuf, text: String) -> Self {
        SourceFile {
            path,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// The text of 1-based line `line`, without its line terminator.
    pub fn line(&self, line: u32) -> Option<&str> {
        let idx = (line as usize).checked_sub(1)?;
        let line_starts = self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            for (i, &b) in self.text.as_bytes().iter().enumerate() {
                if b == b'\n' {
                    starts.push(i + 1);
                }
            }
            starts
        });
        let start = *line_starts.get(idx)?;
        let end = line_starts.get(idx + 1).copied().unwrap_or(self.text.len());
        Some(self.text[start..end].trim_end_matches(['\n', '\r']))
    }
}

/// All files and expansions of one configuration load.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    origins: Vec<Origin>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap {
            files: Vec::new(),
            // Slot 0 is OriginId::DIRECT and is never looked at.
            origins: vec![Origin {
                kind: OriginKind::Seq {
                    var: String::new(),
                    value: String::new(),
                },
                parent: OriginId::DIRECT,
            }],
        }
    }

    pub fn add_file(&mut self, path: PathBuf, text: String) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId((self.files.len() - 1) as u32)
    }

    pub fn add_origin(&mut self, kind: OriginKind, parent: OriginId) -> OriginId {
        self.origins.push(Origin { kind, parent });
        OriginId((self.origins.len() - 1) as u32)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.files[id.0 as usize].path
    }

    /// The chain of expansions that produced text at `origin`, innermost first.
    pub fn origin_chain(&self, mut origin: OriginId) -> Vec<&Origin> {
        let mut chain = Vec::new();
        while origin != OriginId::DIRECT {
            let o = &self.origins[origin.0 as usize];
            chain.push(o);
            origin = o.parent;
        }
        chain
    }

    /// `file:line` for messages and notes.
    pub fn location(&self, span: Span) -> Location<'_> {
        Location { map: self, span }
    }
}

/// Displays as `path:line:col`.
pub struct Location<'a> {
    map: &'a SourceMap,
    span: Span,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.map.path(self.span.file).display(),
            self.span.line,
            self.span.col
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_without_terminators() {
        let f = SourceFile::new("x".into(), "a\r\nbb\n\nccc".into());
        assert_eq!(f.line(1), Some("a"));
        assert_eq!(f.line(2), Some("bb"));
        assert_eq!(f.line(3), Some(""));
        assert_eq!(f.line(4), Some("ccc"));
        assert_eq!(f.line(5), None);
        assert_eq!(f.line(0), None);
    }

    #[test]
    fn origin_chain_is_innermost_first() {
        let mut m = SourceMap::new();
        let outer = m.add_origin(
            OriginKind::Seq {
                var: "A".into(),
                value: "1".into(),
            },
            OriginId::DIRECT,
        );
        let inner = m.add_origin(
            OriginKind::Seq {
                var: "B".into(),
                value: "2".into(),
            },
            outer,
        );
        let chain: Vec<_> = m
            .origin_chain(inner)
            .iter()
            .map(|o| o.kind.clone())
            .collect();
        assert_eq!(chain.len(), 2);
        assert!(matches!(&chain[0], OriginKind::Seq { var, .. } if var == "B"));
        assert!(matches!(&chain[1], OriginKind::Seq { var, .. } if var == "A"));
    }
}
