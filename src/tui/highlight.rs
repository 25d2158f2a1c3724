//! Syntax colours and keyword help for the config editor, from the same keyword tables the
//! parser uses: a word is a keyword where its block's table has it, so the colours follow the
//! block the cursor is in (`priority` is a keyword in vrrp_instance, not in global_defs).

use crate::config::blocks;
use crate::config::table::{KeywordDoc, TableDoc};

/// What a stretch of a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A keyword of the enclosing block.
    Keyword,
    /// A keyword that opens a block (vrrp_instance, virtual_server...).
    Block,
    /// A first word the enclosing block does not know.
    Unknown,
    Comment,
    Number,
    Quoted,
    Brace,
    /// A value, or an entry of a value block (addresses, routes).
    Plain,
}

/// A stretch of line `row`: characters `start..end` (char indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

type TableRef = &'static (dyn TableDoc + Sync);

/// Where a line is: in a block with a table, or in a value block (a list of entries).
#[derive(Clone, Copy)]
enum Frame {
    Table(TableRef),
    Values,
}

/// The spans of every line, and the table each line is read with.
pub struct Highlighted {
    pub lines: Vec<Vec<Span>>,
    contexts: Vec<Option<TableRef>>,
}

impl Highlighted {
    /// The documentation of the keyword that starts line `row`, if it is one.
    pub fn keyword_doc(&self, row: usize, line: &str) -> Option<(&'static str, KeywordDoc)> {
        let table = (*self.contexts.get(row)?)?;
        let word = line.split_whitespace().next()?;
        let doc = table.docs().into_iter().find(|d| {
            d.name == word || d.aliases.contains(&word) || d.deprecated.contains(&word)
        })?;
        Some((table.block(), doc))
    }
}

fn root() -> TableRef {
    &blocks::ROOT
}

/// Colours `lines` as keepalived would read them (blocks opened and closed by braces).
pub fn highlight(lines: &[String]) -> Highlighted {
    let mut stack = vec![Frame::Table(root())];
    let mut out = Vec::with_capacity(lines.len());
    let mut contexts = Vec::with_capacity(lines.len());
    for line in lines {
        let frame = *stack.last().unwrap_or(&Frame::Table(root()));
        contexts.push(match frame {
            Frame::Table(t) => Some(t),
            Frame::Values => None,
        });
        let words = split(line);
        let mut spans = Vec::new();
        let mut first: Option<&str> = None;
        for (start, end, word) in words {
            let kind = if word.starts_with('#') || word.starts_with('!') {
                // A comment runs to the end of the line.
                spans.push(Span {
                    start,
                    end: line.chars().count(),
                    kind: Kind::Comment,
                });
                break;
            } else if word == "{" || word == "}" {
                if word == "{" {
                    stack.push(match (frame, first) {
                        (Frame::Table(t), Some(w)) => match t.sub(w) {
                            Some(sub) => Frame::Table(sub),
                            None => Frame::Values,
                        },
                        _ => Frame::Values,
                    });
                } else if stack.len() > 1 {
                    stack.pop();
                }
                Kind::Brace
            } else if first.is_none() {
                first = Some(word);
                match frame {
                    Frame::Table(t) if t.sub(word).is_some() => Kind::Block,
                    Frame::Table(t) if t.has(word) => Kind::Keyword,
                    // keepalived's own line syntax: includes, definitions, conditionals.
                    Frame::Table(_) if word.starts_with(['$', '@', '~']) || word == "include" => {
                        Kind::Keyword
                    }
                    Frame::Table(_) => Kind::Unknown,
                    Frame::Values => Kind::Plain,
                }
            } else if word.starts_with('"') {
                Kind::Quoted
            } else if word.parse::<f64>().is_ok() {
                Kind::Number
            } else {
                Kind::Plain
            };
            spans.push(Span { start, end, kind });
        }
        out.push(spans);
    }
    Highlighted {
        lines: out,
        contexts,
    }
}

/// The words of a line with their char ranges: braces are words of their own, a quoted
/// string is one word.
fn split(line: &str) -> Vec<(usize, usize, &str)> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let byte = |ci: usize| chars.get(ci).map_or(line.len(), |c| c.0);
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == '{' || c == '}' {
            i += 1;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i].1 != '"' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
        } else {
            while i < chars.len()
                && !chars[i].1.is_whitespace()
                && chars[i].1 != '{'
                && chars[i].1 != '}'
            {
                i += 1;
            }
        }
        words.push((start, i, &line[byte(start)..byte(i)]));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Vec<(String, Kind)>> {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let h = highlight(&lines);
        h.lines
            .iter()
            .zip(&lines)
            .map(|(spans, l)| {
                let chars: Vec<char> = l.chars().collect();
                spans
                    .iter()
                    .map(|s| (chars[s.start..s.end].iter().collect(), s.kind))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn keywords_follow_the_enclosing_block() {
        let k = kinds(
            "global_defs {\n  router_id lb1\n  priority 5\n}\nvrrp_instance VI_1 {\n  priority 150 # main\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n  bogus 1\n}",
        );
        assert_eq!(k[0][0], ("global_defs".into(), Kind::Block));
        assert_eq!(k[1][0], ("router_id".into(), Kind::Keyword));
        assert_eq!(
            k[2][0],
            ("priority".into(), Kind::Unknown),
            "not a global_defs keyword"
        );
        assert_eq!(k[4][0], ("vrrp_instance".into(), Kind::Block));
        assert_eq!(k[5][0], ("priority".into(), Kind::Keyword));
        assert_eq!(k[5][1], ("150".into(), Kind::Number));
        assert_eq!(k[5][2], ("# main".into(), Kind::Comment));
        assert_eq!(
            k[7][0],
            ("10.0.0.1/24".into(), Kind::Plain),
            "an entry of a value block"
        );
        assert_eq!(k[9][0], ("bogus".into(), Kind::Unknown));
    }

    #[test]
    fn keyword_help_comes_from_the_table() {
        let lines: Vec<String> = ["vrrp_instance VI_1 {", "  advert_int 1", "}"]
            .map(String::from)
            .to_vec();
        let h = highlight(&lines);
        let (block, doc) = h.keyword_doc(1, &lines[1]).unwrap();
        assert_eq!((block, doc.name), ("vrrp_instance", "advert_int"));
        assert!(!doc.help.is_empty());
        assert!(
            h.keyword_doc(0, &lines[0]).is_some(),
            "a block keyword of the root"
        );
    }
}
