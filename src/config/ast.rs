//! The syntax tree: keyword lines and their `{ }` blocks, every token with its span.

use super::prelex::ColMap;
use super::source::{Span, char_len};

/// A token of a line: a byte range of the line text (quotes excluded) and whether it was
/// written in double quotes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tok {
    pub start: u32,
    pub end: u32,
    pub quoted: bool,
}

/// The tokens of a line, the first four kept inline: nearly every line has at most four, and
/// a large configuration has a million lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Toks {
    len: u32,
    inline: [Tok; 4],
    spill: Vec<Tok>,
}

impl Toks {
    pub fn push(&mut self, t: Tok) {
        match self.inline.get_mut(self.len as usize) {
            Some(slot) => *slot = t,
            None => self.spill.push(t),
        }
        self.len += 1;
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, i: usize) -> Option<&Tok> {
        if i >= self.len() {
            None
        } else if i < 4 {
            self.inline.get(i)
        } else {
            self.spill.get(i - 4)
        }
    }
    pub fn first(&self) -> Option<&Tok> {
        self.get(0)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Tok> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// One keyword line: `keyword arg arg ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub toks: Toks,
    pub cols: ColMap,
    pub span: Span,
}

impl Line {
    pub fn keyword(&self) -> &str {
        self.word(0).unwrap_or("")
    }

    /// Word `i` (0 is the keyword).
    pub fn word(&self, i: usize) -> Option<&str> {
        self.toks
            .get(i)
            .map(|t| &self.text[t.start as usize..t.end as usize])
    }

    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.toks
            .iter()
            .map(|t| &self.text[t.start as usize..t.end as usize])
    }

    /// Number of words after the keyword.
    pub fn argc(&self) -> usize {
        self.toks.len().saturating_sub(1)
    }

    /// The span of word `i`, including its quotes; the line's span if there is no such word.
    pub fn span_of(&self, i: usize) -> Span {
        let Some(t) = self.toks.get(i) else {
            return self.end_span();
        };
        let (s, e) = if t.quoted {
            (t.start as usize - 1, t.end as usize + 1)
        } else {
            (t.start as usize, t.end as usize)
        };
        let len = self.text.get(s..e).map_or(0, char_len);
        Span {
            col: self.cols.col(&self.text, s),
            ..self.span
        }
        .with_len(len)
    }

    /// The span of words `from..` to the end of the line.
    pub fn span_from(&self, from: usize) -> Span {
        let Some(t) = self.toks.get(from) else {
            return self.end_span();
        };
        let s = t.start as usize - usize::from(t.quoted);
        let len = self.text.get(s..).map_or(0, char_len);
        Span {
            col: self.cols.col(&self.text, s),
            ..self.span
        }
        .with_len(len)
    }

    /// Just after the last character (where a missing value would go).
    pub fn end_span(&self) -> Span {
        Span {
            col: self.cols.col(&self.text, self.text.len()),
            ..self.span
        }
        .with_len(1)
    }

    /// The text after the keyword, as written (for keywords that re-read the raw line).
    pub fn rest(&self) -> &str {
        match self.toks.first() {
            Some(t) => self.text[t.end as usize..].trim_start(),
            None => "",
        }
    }
}

/// A `{ ... }` block after a keyword line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The `{`.
    pub open: Span,
    /// The `}`, if the block was closed.
    pub close: Option<Span>,
    pub children: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub line: Line,
    pub block: Option<Block>,
}

impl Node {
    pub fn keyword(&self) -> &str {
        self.line.keyword()
    }

    pub fn children(&self) -> &[Node] {
        self.block.as_ref().map_or(&[], |b| &b.children)
    }
}
