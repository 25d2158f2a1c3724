//! The grammar: words of a line (nom) and the tree of keyword lines and `{ }` blocks.
//!
//! Words follow keepalived's `alloc_strvec_r`: separated by blanks; `"a b"` is one word without
//! its quotes; a quote inside a word ends the word. Keywords that take a command line (`script`,
//! `notify*`, `misc_path`, ...) re-read the raw text with [`command_words`], which also groups
//! single quotes and understands backslash escapes (keepalived's `alloc_strvec_quoted_escaped`).
//!
//! Blocks are matched with an explicit stack, so deep nesting cannot overflow ours, and with
//! recovery: a top-level block keyword (`vrrp_instance`, `virtual_server`, ...) found inside a
//! block that cannot contain it closes the blocks left open, so one missing `}` is reported once,
//! at the block left open, instead of turning the rest of the file into noise.

use nom::branch::alt;
use nom::bytes::complete::{take_till, take_till1};
use nom::character::complete::char;
use nom::combinator::map;
use nom::sequence::delimited;
use nom::{IResult, Parser};

use super::ast::{Block, Line, Node, Tok, Toks};
use super::diag::Diagnostics;
use super::prelex::LogicalLine;
use super::source::Span;

/// Deeper nesting than this is refused (keepalived's grammar needs 4 levels).
pub const MAX_DEPTH: usize = 32;

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c' | '\n' | '\r' | '\x0b')
}

/// One word: `"quoted"` or bare up to a blank or a quote. The boolean tells a quoted word.
fn word(input: &str) -> IResult<&str, (&str, bool)> {
    alt((
        map(
            delimited(char('"'), take_till(|c| c == '"'), char('"')),
            |w| (w, true),
        ),
        map(take_till1(|c| is_blank(c) || c == '"'), |w| (w, false)),
    ))
    .parse(input)
}

fn blanks(input: &str) -> IResult<&str, &str> {
    take_till(|c| !is_blank(c)).parse(input)
}

/// Splits a line into words. Returns the tokens and whether a quote was left unmatched (the
/// rest of the line is then dropped, as keepalived does).
pub fn tokenize(text: &str) -> (Toks, bool) {
    let mut toks = Toks::default();
    let mut rest = text;
    while let Ok((r, _)) = blanks(rest) {
        rest = r;
        if rest.is_empty() {
            return (toks, false);
        }
        match word.parse(rest) {
            Ok((r, (w, quoted))) => {
                let start = w.as_ptr() as usize - text.as_ptr() as usize;
                toks.push(Tok {
                    start: start as u32,
                    end: (start + w.len()) as u32,
                    quoted,
                });
                rest = r;
            }
            Err(_) => return (toks, true),
        }
    }
    (toks, false)
}

/// Words of a command line as keepalived reads `script`, `notify*`, `misc_path` and friends:
/// `'...'` and `"..."` group (and may be glued to other text), and outside single quotes `\a \b
/// \E \f \n \r \t \v \NNN \xHH \cC` and `\<any>` are escapes.
pub fn command_words(text: &str) -> Result<Vec<String>, String> {
    // Most commands have neither quotes nor escapes: plain words.
    if !text.contains(['\\', '"', '\'']) {
        return Ok(text
            .split(is_blank)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect());
    }
    if !text.contains('\\') {
        return quoted_words(text);
    }
    escaped_words(text)
}

/// [`command_words`] in full: quotes and escapes.
fn escaped_words(text: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && is_blank(chars[i]) {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut w = String::new();
        let mut quote: Option<char> = None;
        while i < chars.len() {
            let c = chars[i];
            match (quote, c) {
                (_, '\\') => {
                    i += 1;
                    let Some(&e) = chars.get(i) else {
                        return Err("a '\\' ends the line with nothing to escape".into());
                    };
                    match e {
                        'x' if chars.get(i + 1).is_some_and(|c| c.is_ascii_hexdigit()) => {
                            let mut v: u32 = 0;
                            i += 1;
                            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(16)) {
                                v = (v << 4 | d) & 0xff;
                                i += 1;
                            }
                            w.push(char::from(v as u8));
                        }
                        'c' if i + 1 < chars.len() => {
                            w.push(char::from(chars[i + 1] as u8 & 0x1f));
                            i += 2;
                        }
                        '0'..='7' => {
                            let mut v: u32 = 0;
                            let mut n = 0;
                            while n < 3 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                                v = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                                i += 1;
                                n += 1;
                            }
                            w.push(char::from(v as u8));
                        }
                        _ => {
                            w.push(match e {
                                'a' => '\x07',
                                'b' => '\x08',
                                'E' => '\x1b',
                                'f' => '\x0c',
                                'n' => '\n',
                                'r' => '\r',
                                't' => '\t',
                                'v' => '\x0b',
                                other => other,
                            });
                            i += 1;
                        }
                    }
                }
                (Some(q), c) if c == q => {
                    quote = None;
                    i += 1;
                }
                (Some(_), c) => {
                    w.push(c);
                    i += 1;
                }
                (None, '"' | '\'') => {
                    quote = Some(c);
                    i += 1;
                }
                (None, c) if is_blank(c) => break,
                (None, c) => {
                    w.push(c);
                    i += 1;
                }
            }
        }
        if let Some(q) = quote {
            return Err(format!("missing terminating {q}"));
        }
        words.push(w);
    }
    Ok(words)
}

/// [`command_words`] of a text without escapes: quotes only group. Quotes and blanks are
/// ASCII, so the text is cut at byte positions and copied a run at a time.
fn quoted_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<u8> = None;
    let mut run = 0; // start of the text not yet copied into `word`
    for (i, &b) in text.as_bytes().iter().enumerate() {
        let special = match quote {
            Some(q) => b == q,
            None => matches!(b, b'"' | b'\'') || is_blank(char::from(b)),
        };
        if !special {
            continue;
        }
        if i > run {
            word.get_or_insert_default().push_str(&text[run..i]);
        }
        run = i + 1;
        match quote {
            Some(_) => quote = None,
            None if is_blank(char::from(b)) => words.extend(word.take()),
            None => {
                quote = Some(b);
                word.get_or_insert_default();
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("missing terminating {}", char::from(q)));
    }
    if run < text.len() {
        word.get_or_insert_default().push_str(&text[run..]);
    }
    words.extend(word);
    Ok(words)
}

fn to_line(l: LogicalLine) -> Line {
    let (toks, _unmatched) = tokenize(&l.text);
    Line {
        text: l.text,
        toks,
        cols: l.cols,
        span: l.span,
    }
}

/// Decides whether `keyword`, followed by a block, cannot belong inside the innermost open block
/// (given the open blocks' keywords, outermost first) and therefore starts a new top-level block.
pub type Recover<'a> = &'a dyn Fn(&[&str], &str) -> bool;

struct StolenClose {
    close: Span,
    inner_at: Span,
    inner: String,
}

struct Open {
    node: Node,
    /// Column of the keyword that opened the block.
    indent: u32,
    /// A `}` indented like this block closed an inner block instead: the `}`, and the inner
    /// block's header and name. The inner block is then the one that misses its `}`.
    stolen_close: Option<StolenClose>,
}

/// Builds the tree of nodes from the logical lines.
pub fn build_tree(
    lines: Vec<LogicalLine>,
    diags: &mut Diagnostics,
    recover: Recover<'_>,
) -> Vec<Node> {
    let mut b = TreeBuilder::new(recover);
    let mut out = Vec::new();
    for l in lines {
        out.extend(b.push(l, diags));
    }
    out.extend(b.finish(diags));
    out
}

/// Builds the tree line by line and hands out each top-level block as soon as it is complete,
/// so a huge configuration is never held whole (a 65,024-instance `~SEQ` expands to over a
/// million lines).
pub struct TreeBuilder<'r> {
    recover: Recover<'r>,
    /// Top-level nodes not handed out yet (the last one may still receive a block).
    root: Vec<Node>,
    stack: Vec<Open>,
    /// Blocks skipped because they follow no keyword or nest too deep.
    ignored_depth: usize,
    /// The last line added at the current level can still receive a block.
    can_open: bool,
    /// One line of lookahead: whether a keyword line is followed by `{`.
    pending: Option<Line>,
}

impl<'r> TreeBuilder<'r> {
    pub fn new(recover: Recover<'r>) -> Self {
        TreeBuilder {
            recover,
            root: Vec::new(),
            stack: Vec::new(),
            ignored_depth: 0,
            can_open: false,
            pending: None,
        }
    }

    /// Adds a line; returns the top-level blocks completed so far.
    pub fn push(&mut self, l: LogicalLine, diags: &mut Diagnostics) -> Vec<Node> {
        let line = to_line(l);
        if let Some(prev) = self.pending.take() {
            let next_opens = line.text == "{";
            self.process(prev, next_opens, diags);
        }
        self.pending = Some(line);
        // Every top-level node but the last is complete.
        if self.stack.is_empty() && self.root.len() > 1 {
            let keep = self.root.pop().expect("more than one");
            std::mem::replace(&mut self.root, vec![keep])
        } else {
            Vec::new()
        }
    }

    /// The end of the configuration: reports what is left open; returns the remaining blocks.
    pub fn finish(mut self, diags: &mut Diagnostics) -> Vec<Node> {
        if let Some(prev) = self.pending.take() {
            self.process(prev, false, diags);
        }
        close_unclosed(&mut self.stack, &mut self.root, diags, None);
        std::mem::take(&mut self.root)
    }

    fn process(&mut self, line: Line, next_opens: bool, diags: &mut Diagnostics) {
        let stack = &mut self.stack;
        let root = &mut self.root;
        match line.text.as_str() {
            "{" => {
                if self.ignored_depth > 0 {
                    self.ignored_depth += 1;
                    return;
                }
                let level = match stack.last_mut() {
                    Some(o) => &mut o.node.block.as_mut().expect("open block").children,
                    None => root,
                };
                let opener = self.can_open.then(|| level.pop()).flatten();
                self.can_open = false;
                let Some(mut node) = opener else {
                    diags
                        .error("unexpected-brace", line.span, "'{' does not follow a keyword")
                        .help("a block opens on the line of its keyword or the line after it; this block is skipped");
                    self.ignored_depth = 1;
                    return;
                };
                if stack.len() >= MAX_DEPTH {
                    diags.error(
                        "too-deep",
                        line.span,
                        format!("blocks nested more than {MAX_DEPTH} deep; this block is skipped"),
                    );
                    level_push(stack, &mut self.root, node);
                    self.ignored_depth = 1;
                    return;
                }
                node.block = Some(Block {
                    open: line.span,
                    close: None,
                    children: Vec::new(),
                });
                let indent = node.line.span.col;
                stack.push(Open {
                    node,
                    indent,
                    stolen_close: None,
                });
            }
            "}" => {
                self.can_open = false;
                if self.ignored_depth > 0 {
                    self.ignored_depth -= 1;
                    return;
                }
                let Some(mut open) = stack.pop() else {
                    diags
                        .error("unmatched-brace", line.span, "'}' closes no block")
                        .help("remove it, or look for a block opened twice");
                    return;
                };
                if let Some(b) = open.node.block.as_mut() {
                    b.close = Some(line.span);
                }
                let col = line.span.col;
                if col != open.indent
                    && line.span.origin == open.node.line.span.origin
                    && let Some(outer) = stack.iter_mut().rev().find(|o| o.indent == col)
                    && outer.stolen_close.is_none()
                {
                    outer.stolen_close = Some(StolenClose {
                        close: line.span,
                        inner_at: open.node.line.span_of(0),
                        inner: block_name(&open.node),
                    });
                }
                level_push(stack, root, open.node);
            }
            _ => {
                if self.ignored_depth > 0 {
                    return;
                }
                let node = Node { line, block: None };
                if !stack.is_empty() && next_opens {
                    let open_kws: Vec<&str> = stack.iter().map(|o| o.node.keyword()).collect();
                    if (self.recover)(&open_kws, node.keyword()) {
                        close_unclosed(stack, root, diags, Some(&node));
                    }
                }
                level_push(stack, root, node);
                self.can_open = true;
            }
        }
    }
}

fn level_push(stack: &mut [Open], root: &mut Vec<Node>, node: Node) {
    match stack.last_mut() {
        Some(o) => o
            .node
            .block
            .as_mut()
            .expect("open block")
            .children
            .push(node),
        None => root.push(node),
    }
}

/// Reports the innermost block left open and closes every open block.
fn close_unclosed(
    stack: &mut Vec<Open>,
    root: &mut Vec<Node>,
    diags: &mut Diagnostics,
    next: Option<&Node>,
) {
    if stack.is_empty() {
        return;
    }
    // The block whose '}' is missing is the innermost one, unless a '}' indented like an outer
    // block closed an inner one: then the inner block is the one missing its '}'.
    let stolen = stack.iter().position(|o| o.stolen_close.is_some());
    let (at, what, culprit) = match stolen {
        Some(i) => {
            let s = stack[i].stolen_close.as_ref().expect("position found it");
            (s.inner_at, s.inner.clone(), i)
        }
        None => {
            let o = &stack[stack.len() - 1];
            (o.node.line.span_of(0), block_name(&o.node), stack.len() - 1)
        }
    };
    let d = diags.error(
        "unclosed-block",
        at,
        format!("'{what}' block is not closed"),
    );
    if let Some(s) = stack[culprit].stolen_close.as_ref() {
        d.note(format!(
            "the '}}' at line {} closes it, but is indented like '{}' (line {})",
            s.close.line,
            block_name(&stack[culprit].node),
            stack[culprit].node.line.span.line
        ));
        d.help(format!("add a '}}' to close '{what}'"));
    } else {
        d.help("add the missing '}'");
    }
    match next {
        Some(n) => d.note(format!(
            "'{kw}' at line {line} starts a new top-level block; keepalived notices the open block there, reading '{kw}' inside it (`keepalived -t`: \"Unknown keyword '{kw}'\" or \"Unexpected '{{'\" at line {line})",
            kw = n.keyword(),
            line = n.line.span.line
        )),
        None => d.note("the configuration ends inside it"),
    };
    let others: Vec<String> = stack
        .iter()
        .enumerate()
        .filter(|(i, _)| stolen.is_some() || *i != culprit)
        .map(|(_, o)| format!("'{}' (line {})", block_name(&o.node), o.node.line.span.line))
        .collect();
    if !others.is_empty() {
        d.note(format!("this also leaves open {}", others.join(", ")));
    }
    while let Some(o) = stack.pop() {
        level_push(stack, root, o.node);
    }
}

fn block_name(n: &Node) -> String {
    match n.line.word(1) {
        Some(name) => format!("{} {name}", n.keyword()),
        None => n.keyword().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::prelex::ColMap;
    use crate::config::source::{FileId, OriginId};

    fn words(text: &str) -> (Vec<String>, bool) {
        let (toks, bad) = tokenize(text);
        (
            toks.iter()
                .map(|t| text[t.start as usize..t.end as usize].to_string())
                .collect(),
            bad,
        )
    }

    #[test]
    fn words_split_on_blanks_and_quotes_group() {
        assert_eq!(words("a  b\tc").0, ["a", "b", "c"]);
        assert_eq!(
            words("script \"/bin/x y\" z").0,
            ["script", "/bin/x y", "z"]
        );
        assert_eq!(words("ab\"c d\"e").0, ["ab", "c d", "e"]);
        assert_eq!(words("x \"\"").0, ["x", ""]);
        assert_eq!(words("x \"open"), (vec!["x".to_string()], true));
        assert_eq!(words("").0, Vec::<String>::new());
    }

    #[test]
    fn command_words_group_and_escape() {
        assert_eq!(
            command_words(r#"/bin/sh -c 'echo $1 "x"' arg"#).unwrap(),
            ["/bin/sh", "-c", r#"echo $1 "x""#, "arg"]
        );
        assert_eq!(command_words(r#""/a b"/c d"#).unwrap(), ["/a b/c", "d"]);
        assert_eq!(
            command_words(r"a\tb \x41\101 \cA").unwrap(),
            ["a\tb", "AA", "\u{1}"]
        );
        assert!(command_words("'open").is_err());
        assert_eq!(
            command_words(" /bin/true  a\tb ").unwrap(),
            ["/bin/true", "a", "b"]
        );
        assert_eq!(
            command_words(r#""/bin/true 0" '' x"y z"w"#).unwrap(),
            ["/bin/true 0", "", "xy zw"]
        );
        assert!(command_words("\"open").is_err());
    }

    #[test]
    fn the_fast_paths_agree_with_the_full_reader() {
        // Every string of up to 6 characters over an alphabet of quotes, blanks and letters.
        let alphabet = ['a', 'b', ' ', '\t', '"', '\''];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts
                .iter()
                .filter(|t| t.chars().count() == texts.last().unwrap().chars().count())
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        assert!(texts.len() > 50_000);
        for t in &texts {
            assert_eq!(command_words(t), escaped_words(t), "{t:?}");
        }
        assert!(command_words("x\\").is_err());
    }

    fn lines(texts: &[(&str, u32, u32)]) -> Vec<LogicalLine> {
        texts
            .iter()
            .map(|(t, line, col)| LogicalLine {
                text: t.to_string(),
                cols: ColMap::linear(*col),
                span: Span {
                    file: FileId(0),
                    line: *line,
                    col: *col,
                    len: t.len() as u32,
                    origin: OriginId::DIRECT,
                },
            })
            .collect()
    }

    fn no_recover(_: &[&str], _: &str) -> bool {
        false
    }

    fn root_blocks(open: &[&str], kw: &str) -> bool {
        kw == "vrrp_instance" && !open.is_empty()
    }

    #[test]
    fn blocks_nest() {
        let mut d = Diagnostics::default();
        let t = build_tree(
            lines(&[
                ("a", 1, 1),
                ("{", 1, 3),
                ("b 1", 2, 3),
                ("c", 3, 3),
                ("{", 3, 5),
                ("x", 3, 7),
                ("}", 3, 9),
                ("}", 4, 1),
                ("d", 5, 1),
            ]),
            &mut d,
            &no_recover,
        );
        assert!(d.is_empty());
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].children().len(), 2);
        assert_eq!(t[0].children()[1].children()[0].keyword(), "x");
        assert_eq!(t[0].block.as_ref().unwrap().close.unwrap().line, 4);
    }

    #[test]
    fn extra_close_and_stray_open_are_reported() {
        let mut d = Diagnostics::default();
        let t = build_tree(
            lines(&[
                ("}", 1, 1),
                ("{", 2, 1),
                ("x", 3, 1),
                ("}", 4, 1),
                ("y", 5, 1),
            ]),
            &mut d,
            &no_recover,
        );
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["unmatched-brace", "unexpected-brace"]);
        assert_eq!(t.len(), 1, "the stray block is skipped");
        assert_eq!(t[0].keyword(), "y");
    }

    #[test]
    fn unclosed_block_is_reported_at_its_line() {
        let mut d = Diagnostics::default();
        build_tree(
            lines(&[
                ("vrrp_instance A", 1, 1),
                ("{", 1, 17),
                ("virtual_ipaddress", 4, 3),
                ("{", 4, 21),
                ("10.0.0.1", 5, 5),
            ]),
            &mut d,
            &no_recover,
        );
        let diag = d.iter().next().unwrap();
        assert_eq!(diag.code, "unclosed-block");
        assert_eq!(diag.span.unwrap().line, 4, "the innermost open block");
        assert!(diag.notes.iter().any(|n| n.contains("vrrp_instance A")));
    }

    #[test]
    fn a_new_top_level_block_closes_what_was_left_open() {
        let mut d = Diagnostics::default();
        let t = build_tree(
            lines(&[
                ("vrrp_instance A", 1, 1),
                ("{", 1, 17),
                ("virtual_ipaddress", 4, 3),
                ("{", 4, 21),
                ("10.0.0.1", 5, 5),
                ("}", 7, 1),
                ("vrrp_instance B", 8, 1),
                ("{", 8, 17),
                ("priority 1", 9, 3),
                ("}", 10, 1),
            ]),
            &mut d,
            &root_blocks,
        );
        assert_eq!(d.len(), 1);
        let diag = d.iter().next().unwrap();
        // The '}' at column 1 closed virtual_ipaddress but is indented like vrrp_instance A:
        // virtual_ipaddress is the block missing its '}'.
        assert_eq!(diag.span.unwrap().line, 4);
        assert!(diag.help.as_deref().unwrap().contains("virtual_ipaddress"));
        assert!(
            diag.notes
                .iter()
                .any(|n| n.contains("indented like 'vrrp_instance A'"))
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].line.word(1), Some("B"));
        assert_eq!(t[1].children().len(), 1);
        // Where keepalived -t notices: the next top-level keyword's line.
        assert!(
            diag.notes.iter().any(|n| n.contains(
                "keepalived notices the open block there, reading 'vrrp_instance' inside it (`keepalived -t`: \"Unknown keyword 'vrrp_instance'\" or \"Unexpected '{'\" at line 8)"
            )),
            "{:?}",
            diag.notes
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let mut d = Diagnostics::default();
        let mut ls = Vec::new();
        for i in 0..10_000 {
            ls.push(("k", i + 1, 1));
            ls.push(("{", i + 1, 3));
        }
        for i in 0..10_000 {
            ls.push(("}", 10_001 + i, 1));
        }
        let t = build_tree(lines(&ls), &mut d, &no_recover);
        assert_eq!(t.len(), 1);
        assert!(d.iter().any(|x| x.code == "too-deep"));
    }
}
