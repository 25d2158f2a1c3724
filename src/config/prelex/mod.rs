//! The pre-lexer: turns keepalived.conf files into logical lines, as keepalived's `read_line()`
//! (lib/parser.c) does, keeping for every line where it was written.
//!
//! Per physical line, in keepalived's order: comments removed; `@ID` / `@^ID` conditions;
//! `$NAME=` definitions (also multi-line); `~SEQ` / `~SEQx` / `~LST` repetitions; `$NAME`
//! substitution (and the result re-examined); `include`; finally the line is split before a `{`
//! or `}` that is not in double quotes, the rest being read as the next line.
//!
//! Unlike keepalived it also detects include loops, runaway recursion in definitions and
//! expansions that would never end, and it never stops at the first problem.

mod colmap;
mod decomment;
mod defs;
mod include;
mod seq;

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub use colmap::ColMap;
pub use include::IncludeCheck;

use defs::{Builtin, Definition, Definitions};
use include::{MAX_BRACE_PATTERNS, glob, parse_include};
use seq::{LstError, SeqError, parse_lst, parse_seq};

use super::diag::Diagnostics;
use super::source::{FileId, OriginId, OriginKind, SourceMap, Span, char_len};

/// keepalived 2.2 reads lines with `fgets()` into a 1024-byte buffer.
const KEEPALIVED_MAX_LINE: usize = 1023;
/// Substitutions allowed in one line before it is declared recursive.
const MAX_SUBSTITUTIONS: usize = 1_000;
/// A line grown beyond this by substitution is declared runaway.
const MAX_EXPANDED_LINE: usize = 1 << 20;
/// Nested includes allowed.
const MAX_INCLUDE_DEPTH: usize = 64;

#[derive(Clone, Debug)]
pub struct PrelexOptions {
    /// The config id for `@ID` lines and `${_INSTANCE}` (`-i`; default the short hostname).
    pub config_id: String,
    /// Seed for `${_RANDOM}`.
    pub random_seed: u64,
    /// Stop after producing this many lines (a guard against `~SEQ(i, 1, 1000000000)`).
    pub max_lines: usize,
    /// Stop after producing this many bytes of text (long lines repeated by `~SEQ`).
    pub max_bytes: usize,
    /// keepalived's `-e/--all-config`: every include problem is an error.
    pub all_config: bool,
}

impl Default for PrelexOptions {
    fn default() -> Self {
        PrelexOptions {
            config_id: String::new(),
            random_seed: 0x6b61_636f_6e73_6f6c,
            max_lines: 20_000_000,
            max_bytes: usize::MAX,
            all_config: false,
        }
    }
}

/// One line as the grammar sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogicalLine {
    pub text: String,
    pub cols: ColMap,
    /// File, line and expansion that produced the line; `col` is the column of its first
    /// character and `len` its length.
    pub span: Span,
}

impl LogicalLine {
    /// The span of `text[start..end]`.
    pub fn span_of(&self, start: usize, end: usize) -> Span {
        let len = self.text.get(start..end).map_or(0, char_len);
        Span {
            col: self.cols.col(&self.text, start),
            ..self.span
        }
        .with_len(len)
    }
}

/// A line on its way through the pre-lexer.
#[derive(Clone, Debug)]
struct Pending {
    text: String,
    cols: ColMap,
    file: FileId,
    line: u32,
    origin: OriginId,
}

impl Pending {
    fn span(&self) -> Span {
        Span {
            file: self.file,
            line: self.line,
            col: self.cols.col(&self.text, 0),
            len: char_len(&self.text) as u32,
            origin: self.origin,
        }
    }

    fn span_at(&self, at: usize, len: usize) -> Span {
        Span {
            col: self.cols.col(&self.text, at),
            ..self.span()
        }
        .with_len(len)
    }
}

/// A file being read, and the other files its include pattern matched.
struct FileFrame {
    id: FileId,
    cursor: usize,
    line_no: u32,
    dir: PathBuf,
    canonical: Option<PathBuf>,
    remaining: VecDeque<PathBuf>,
    /// `include_check` to restore when the pattern's files are done.
    saved_check: IncludeCheck,
    /// The include line, for diagnostics about the remaining files.
    included_at: Option<Span>,
    variant: IncludeCheck,
    /// Whether the file has a NUL byte anywhere: one scan, instead of one per line.
    has_nul: bool,
}

enum SeqValues {
    Range(std::iter::Peekable<std::vec::IntoIter<String>>),
    List(VecDeque<Vec<String>>),
}

/// A `~SEQ`/`~LST` being repeated.
struct SeqFrame {
    vars: Vec<String>,
    values: SeqValues,
    text: String,
    cols: ColMap,
    file: FileId,
    line: u32,
    parent: OriginId,
    defined_at: Span,
}

/// The remaining lines of a multi-line definition being expanded.
struct DefFrame {
    lines: Rc<Vec<String>>,
    next: usize,
    saved_seq_depth: usize,
    file: FileId,
    line: u32,
    col: u32,
    origin: OriginId,
}

/// A multi-line definition being collected.
struct Collecting {
    name: String,
}

pub struct Prelexer<'a> {
    opts: &'a PrelexOptions,
    map: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    files: Vec<FileFrame>,
    residue: Option<Pending>,
    seqs: Vec<SeqFrame>,
    def_frames: Vec<DefFrame>,
    seq_depth: usize,
    defs: Definitions,
    collecting: Option<Collecting>,
    include_check: IncludeCheck,
    rng: u64,
    processed: usize,
    /// Bytes of the lines produced so far.
    produced_bytes: usize,
    stopped: bool,
}

impl<'a> Prelexer<'a> {
    /// Opens `main` (the `-f` file). Problems opening it are reported in `diags`.
    pub fn new(
        main: &Path,
        opts: &'a PrelexOptions,
        map: &'a mut SourceMap,
        diags: &'a mut Diagnostics,
    ) -> Self {
        let mut p = Self::empty(opts, map, diags);
        p.open_main(main);
        p
    }

    fn empty(opts: &'a PrelexOptions, map: &'a mut SourceMap, diags: &'a mut Diagnostics) -> Self {
        Prelexer {
            opts,
            map,
            diags,
            files: Vec::new(),
            residue: None,
            seqs: Vec::new(),
            def_frames: Vec::new(),
            seq_depth: 0,
            defs: Definitions::with_builtins(),
            collecting: None,
            include_check: if opts.all_config {
                IncludeCheck::ALL
            } else {
                IncludeCheck::default()
            },
            rng: opts.random_seed | 1,
            processed: 0,
            produced_bytes: 0,
            stopped: false,
        }
    }

    /// Reads `text` as if it were the file `path` (includes are still read relative to it):
    /// for configurations that are not (yet) on disk, like one sent by a console to check.
    pub fn with_text(
        path: &Path,
        text: &[u8],
        opts: &'a PrelexOptions,
        map: &'a mut SourceMap,
        diags: &'a mut Diagnostics,
    ) -> Self {
        let mut p = Self::empty(opts, map, diags);
        let id = p.add_source(path, text.to_vec());
        p.push_frame(id, path, VecDeque::new(), None, IncludeCheck::default());
        p
    }

    /// Reads everything.
    pub fn run(mut self) -> Vec<LogicalLine> {
        let mut out = Vec::new();
        while let Some(l) = self.next_line() {
            out.push(l);
        }
        out
    }

    fn open_main(&mut self, main: &Path) {
        let meta = match fs::metadata(main) {
            Ok(m) => m,
            Err(e) => {
                self.diags
                    .error(
                        "file-not-found",
                        None,
                        format!("cannot read configuration file {}: {e}", main.display()),
                    )
                    .help("give the file with -f FILE");
                return;
            }
        };
        if meta.is_dir() {
            self.diags.error(
                "file-not-found",
                None,
                format!("configuration file {} is a directory", main.display()),
            );
            return;
        }
        if let Some(id) = self.load_file(main, None) {
            if is_executable(&meta) {
                self.diags
                    .error(
                        "config-file-executable",
                        None,
                        format!(
                            "{} is executable: keepalived refuses to read executable \
                             configuration files",
                            main.display()
                        ),
                    )
                    .help(format!("chmod -x {}", main.display()));
            }
            self.push_frame(id, main, VecDeque::new(), None, IncludeCheck::default());
        }
    }

    /// Reads a file into the source map, warning about bytes that are not UTF-8.
    fn load_file(&mut self, path: &Path, at: Option<Span>) -> Option<FileId> {
        match fs::read(path) {
            Ok(bytes) => Some(self.add_source(path, bytes)),
            Err(e) => {
                let check = self.current_check(IncludeCheck::default());
                self.include_problem(
                    check.readable || at.is_none(),
                    at,
                    format!("cannot read {}: {e}", path.display()),
                );
                None
            }
        }
    }

    /// Adds a file's bytes to the source map, warning about bytes that are not UTF-8.
    fn add_source(&mut self, path: &Path, bytes: Vec<u8>) -> FileId {
        let (text, bad_lines) = match String::from_utf8(bytes) {
            Ok(t) => (t, Vec::new()),
            Err(e) => {
                let bytes = e.into_bytes();
                let bad: Vec<u32> = bytes
                    .split(|&b| b == b'\n')
                    .enumerate()
                    .filter(|(_, l)| std::str::from_utf8(l).is_err())
                    .map(|(i, _)| i as u32 + 1)
                    .collect();
                (String::from_utf8_lossy(&bytes).into_owned(), bad)
            }
        };
        let id = self.map.add_file(path.to_path_buf(), text);
        // Once per file, at the first such line (a file commented in another encoding has
        // them on every comment line).
        if let Some(&line) = bad_lines.first() {
            let span = Span {
                file: id,
                line,
                col: 1,
                len: 1,
                origin: OriginId::DIRECT,
            };
            let more = match bad_lines.len() {
                1 => String::new(),
                n => format!(" (and {} more line(s))", n - 1),
            };
            self.diags.warning(
                "invalid-utf8",
                span,
                format!("the file has bytes that are not UTF-8, first on this line{more}; they are read as U+FFFD"),
            );
        }
        id
    }

    fn push_frame(
        &mut self,
        id: FileId,
        path: &Path,
        remaining: VecDeque<PathBuf>,
        included_at: Option<Span>,
        variant: IncludeCheck,
    ) {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let has_nul = self.map.file(id).text.as_bytes().contains(&0);
        self.files.push(FileFrame {
            id,
            cursor: 0,
            line_no: 0,
            dir,
            canonical: fs::canonicalize(path).ok(),
            remaining,
            saved_check: self.include_check,
            included_at,
            variant,
            has_nul,
        });
    }

    fn current_check(&self, variant: IncludeCheck) -> IncludeCheck {
        let frame_variant = self.files.last().map(|f| f.variant).unwrap_or_default();
        self.include_check.union(variant).union(frame_variant)
    }

    fn include_problem(&mut self, is_error: bool, at: Option<Span>, msg: String) {
        if is_error {
            self.diags.error("include", at, msg);
        } else {
            self.diags
                .warning("include", at, msg)
                .help("use includer/includem/includew/includeb/includea or include_check to make this an error");
        }
    }

    /// The directory relative includes are resolved from.
    fn current_dir(&self) -> PathBuf {
        self.files.last().map(|f| f.dir.clone()).unwrap_or_default()
    }

    fn open_include(&mut self, pattern: &str, variant: IncludeCheck, at: Span) {
        if self.files.len() >= MAX_INCLUDE_DEPTH {
            self.diags.error(
                "include",
                at,
                format!("includes nested more than {MAX_INCLUDE_DEPTH} deep"),
            );
            return;
        }
        let check = self.current_check(variant);
        let base = self.current_dir();
        let base_for_glob = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base.clone()
        };
        let found = glob(pattern, &base_for_glob);
        if found.too_many_alternatives {
            self.diags
                .error(
                    "include",
                    at,
                    format!(
                        "'{pattern}' expands to more than {MAX_BRACE_PATTERNS} patterns; nothing \
                         is included"
                    ),
                )
                .help("use a wildcard (conf.d/*.conf) instead of many {a,b} alternatives");
            return;
        }
        if found.paths.is_empty() {
            let braced = pattern.contains('{');
            if found.missing {
                let is_error = if braced {
                    check.brace_match
                } else {
                    check.matched
                };
                self.include_problem(
                    is_error,
                    Some(at),
                    format!("included file(s) missing: '{pattern}'"),
                );
            } else if found.had_wildcards && check.wildcard_match {
                self.include_problem(true, Some(at), format!("no files match '{pattern}'"));
            }
            return;
        }
        if !found.empty_alternatives.is_empty() {
            self.include_problem(
                check.brace_match,
                Some(at),
                format!(
                    "some included files missing: {}",
                    found.empty_alternatives.join(", ")
                ),
            );
            if check.brace_match {
                return;
            }
        }
        let paths: Vec<PathBuf> = found
            .paths
            .into_iter()
            .map(|p| p.strip_prefix("./").map(Path::to_path_buf).unwrap_or(p))
            .collect();
        let mut remaining: VecDeque<PathBuf> = paths.into();
        let saved = self.include_check;
        let frames_before = self.files.len();
        self.open_next_of(&mut remaining, Some(at), variant);
        if self.files.len() > frames_before
            && let Some(f) = self.files.last_mut()
        {
            f.remaining = remaining;
            f.saved_check = saved;
        }
    }

    /// Opens the first usable file of `remaining` (skipping directories, executables and
    /// loops, with diagnostics) and pushes it.
    fn open_next_of(
        &mut self,
        remaining: &mut VecDeque<PathBuf>,
        at: Option<Span>,
        variant: IncludeCheck,
    ) {
        let check = self.current_check(variant);
        while let Some(path) = remaining.pop_front() {
            let meta = match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    self.include_problem(
                        check.readable,
                        at,
                        format!("cannot read {}: {e}", path.display()),
                    );
                    continue;
                }
            };
            if meta.is_dir() {
                self.include_problem(
                    check.readable,
                    at,
                    format!("{} is a directory - skipping", path.display()),
                );
                continue;
            }
            if !meta.is_file() || is_executable(&meta) {
                self.include_problem(
                    check.readable,
                    at,
                    format!(
                        "{} is not a regular non-executable file; keepalived skips it",
                        path.display()
                    ),
                );
                continue;
            }
            let canonical = fs::canonicalize(&path).ok();
            if canonical.is_some()
                && self
                    .files
                    .iter()
                    .any(|f| f.canonical.is_some() && f.canonical == canonical)
            {
                let chain: Vec<String> = self
                    .files
                    .iter()
                    .map(|f| self.map.path(f.id).display().to_string())
                    .chain(std::iter::once(path.display().to_string()))
                    .collect();
                self.diags
                    .error("include-loop", at, "include loop")
                    .note(chain.join(" -> "));
                continue;
            }
            if let Some(id) = self.load_file(&path, at) {
                self.push_frame(id, &path, VecDeque::new(), at, variant);
                return;
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The next physical line that is not empty after comment removal.
    fn next_file_line(&mut self) -> Option<Pending> {
        loop {
            let frame = self.files.last_mut()?;
            let text = &self.map.file(frame.id).text;
            if frame.cursor >= text.len() {
                self.end_file();
                continue;
            }
            let rest = &text[frame.cursor..];
            let (raw, advance) = match rest.find('\n') {
                Some(i) => (&rest[..i], i + 1),
                None => (rest, rest.len()),
            };
            frame.cursor += advance;
            frame.line_no += 1;
            let line_no = frame.line_no;
            let file = frame.id;
            let raw = raw.trim_end_matches(['\r', '\n']);
            let span = Span {
                file,
                line: line_no,
                col: 1,
                len: char_len(raw) as u32,
                origin: OriginId::DIRECT,
            };
            if raw.is_empty() {
                // keepalived: an empty line ends a multi-line definition.
                if let Some(c) = self.collecting.take() {
                    self.finish_collecting(c);
                }
                continue;
            }
            if frame.has_nul && raw.contains('\0') {
                self.diags.error(
                    "nul-byte",
                    span,
                    "line contains a NUL byte; the line is ignored",
                );
                continue;
            }
            if raw.len() > KEEPALIVED_MAX_LINE {
                self.diags
                    .warning(
                        "line-too-long",
                        span.with_len(1),
                        format!(
                            "line is {} bytes long; keepalived 2.2 reads at most {} bytes per \
                             line and would split it",
                            raw.len(),
                            KEEPALIVED_MAX_LINE
                        ),
                    )
                    .help("shorten the line, e.g. with a $NAME definition");
            }
            // Leading blanks are dropped here rather than shifted out of the copy, and a line
            // that is only a comment is not copied at all.
            let body = raw.trim_start_matches([' ', '\t']);
            if body.starts_with(['#', '!']) && !body.ends_with('\\') {
                continue;
            }
            let lead = raw.len() - body.len();
            let mut p = Pending {
                text: body.to_string(),
                cols: ColMap::linear(1 + lead as u32),
                file,
                line: line_no,
                origin: OriginId::DIRECT,
            };
            self.decomment(&mut p);
            if !p.text.is_empty() {
                return Some(p);
            }
        }
    }

    fn decomment(&mut self, p: &mut Pending) {
        if decomment::decomment(&mut p.text, &mut p.cols).unterminated_quote {
            let span = p.span();
            self.diags
                .error("unterminated-quote", span, "unterminated double quote")
                .help("close the quote; keepalived ignores the rest of the line");
        }
    }

    /// A file is done: open the next file its pattern matched, or return to the includer.
    fn end_file(&mut self) {
        let Some(mut frame) = self.files.pop() else {
            return;
        };
        self.include_check = frame.saved_check;
        if frame.remaining.is_empty() {
            return;
        }
        let mut remaining = std::mem::take(&mut frame.remaining);
        let before = self.files.len();
        self.open_next_of(&mut remaining, frame.included_at, frame.variant);
        if self.files.len() > before
            && let Some(f) = self.files.last_mut()
        {
            f.remaining = remaining;
            f.saved_check = frame.saved_check;
        }
    }

    fn finish_collecting(&mut self, c: Collecting) {
        if let Some(def) = self.defs.get_mut(&c.name)
            && def.lines.is_empty()
        {
            def.multiline = false;
            Rc::make_mut(&mut def.lines).push(String::new());
        }
    }

    /// The next line of a `~SEQ`/`~LST`, with its variables defined.
    fn next_seq_line(&mut self) -> Option<Pending> {
        let frame = self.seqs.last_mut()?;
        let (bindings, exhausted) = match &mut frame.values {
            SeqValues::Range(it) => {
                let v = it.next()?;
                (vec![(frame.vars[0].clone(), v)], it.peek().is_none())
            }
            SeqValues::List(sets) => {
                let set = sets.pop_front()?;
                (
                    frame.vars.iter().cloned().zip(set).collect::<Vec<_>>(),
                    sets.is_empty(),
                )
            }
        };
        let kind = match &frame.values {
            SeqValues::Range(_) => OriginKind::Seq {
                var: bindings[0].0.clone(),
                value: bindings[0].1.clone(),
            },
            SeqValues::List(_) => OriginKind::Lst {
                bindings: bindings.clone(),
            },
        };
        let defined_at = frame.defined_at;
        let pending = Pending {
            text: frame.text.clone(),
            cols: frame.cols.clone(),
            file: frame.file,
            line: frame.line,
            origin: OriginId::DIRECT,
        };
        let parent = frame.parent;
        if exhausted {
            self.seqs.pop();
        }
        for (k, v) in &bindings {
            self.defs.set(k, v, defined_at);
        }
        let origin = self.map.add_origin(kind, parent);
        Some(Pending { origin, ..pending })
    }

    fn next_def_line(&mut self) -> Option<Pending> {
        let frame = self.def_frames.last_mut()?;
        let text = frame.lines.get(frame.next)?.clone();
        frame.next += 1;
        let p = Pending {
            text,
            cols: ColMap::fixed(frame.col),
            file: frame.file,
            line: frame.line,
            origin: frame.origin,
        };
        if frame.next >= frame.lines.len() {
            self.seq_depth = frame.saved_seq_depth;
            self.def_frames.pop();
        }
        Some(p)
    }

    /// The next logical line, or `None` at the end of the configuration.
    pub fn next_line(&mut self) -> Option<LogicalLine> {
        if self.stopped {
            return None;
        }
        loop {
            let mut cur = if let Some(r) = self.residue.take() {
                r
            } else if !self.seqs.is_empty() && self.seqs.len() > self.seq_depth {
                match self.next_seq_line() {
                    Some(p) => p,
                    None => {
                        self.seqs.pop();
                        continue;
                    }
                }
            } else if let Some(p) = self.next_def_line() {
                p
            } else {
                self.next_file_line()?
            };

            self.processed += 1;
            if self.processed > self.opts.max_lines {
                let span = cur.span();
                self.diags.error(
                    "too-many-lines",
                    span,
                    format!(
                        "the configuration expands to more than {} lines; reading stopped here",
                        self.opts.max_lines
                    ),
                );
                self.stopped = true;
                return None;
            }

            if self.collecting.is_some() {
                self.collect_definition_line(cur);
                continue;
            }
            if cur.text.is_empty() {
                continue;
            }

            self.expand(&mut cur);
            self.produced_bytes = self.produced_bytes.saturating_add(cur.text.len() + 1);
            if self.produced_bytes > self.opts.max_bytes {
                let span = cur.span();
                self.diags.error(
                    "too-many-lines",
                    span,
                    format!(
                        "the configuration expands to more than {} bytes; reading stopped here",
                        self.opts.max_bytes
                    ),
                );
                self.stopped = true;
                return None;
            }
            if cur.text.is_empty() || self.stopped {
                if self.stopped {
                    return None;
                }
                continue;
            }

            if let Some((variant, pattern)) = parse_include(&cur.text) {
                let at = cur.span_at(cur.text.len() - pattern.len(), pattern.len());
                let pattern = pattern.to_string();
                self.open_include(&pattern, variant, at);
                continue;
            }
            // A global_defs keyword in keepalived, applied as it is read: it changes the includes
            // that follow. Applied here wherever it is written; outside global_defs the keyword
            // tables then report it as unknown, as keepalived does.
            if let Some(rest) = cur.text.strip_prefix("include_check")
                && (rest.is_empty() || rest.starts_with([' ', '\t']))
            {
                let words: Vec<&str> = rest.split_ascii_whitespace().collect();
                let unknown = self.include_check.apply_words(&words);
                let span = cur.span();
                for u in unknown {
                    self.diags
                        .error("invalid-value", span, format!("include_check: {u}"))
                        .help("types are read, match, wildcard_match, brace_match");
                }
            }

            let (line, residue) = split_at_brace(cur);
            self.residue = residue;
            let span = line.span();
            return Some(LogicalLine {
                span,
                text: line.text,
                cols: line.cols,
            });
        }
    }

    fn collect_definition_line(&mut self, cur: Pending) {
        let (text, continues) = match cur.text.strip_suffix('\\') {
            Some(t) => (t.trim_end_matches([' ', '\t']).to_string(), true),
            None => (cur.text.clone(), false),
        };
        let name = self.collecting.as_ref().map(|c| c.name.clone());
        if let Some(def) = name.as_deref().and_then(|n| self.defs.get_mut(n))
            && !text.is_empty()
        {
            Rc::make_mut(&mut def.lines).push(text);
        }
        if !continues && let Some(c) = self.collecting.take() {
            self.finish_collecting(c);
        }
    }

    /// Conditions, definitions, sequences and substitution, repeated while the substituted
    /// text needs another look (keepalived's `do { ... } while (recheck)`).
    fn expand(&mut self, cur: &mut Pending) {
        let mut substitutions = 0;
        loop {
            if cur.text.starts_with('@') && !self.apply_condition(cur) {
                cur.text.clear();
                return;
            }
            if cur.text.starts_with('$') && self.try_definition(cur) {
                cur.text.clear();
                return;
            }
            if cur.text.starts_with("~SEQ") || cur.text.starts_with("~LST") {
                self.start_sequence(cur);
                cur.text.clear();
                return;
            }
            if cur.text.starts_with('~') || !cur.text.contains('$') {
                break;
            }
            let mut special = false;
            match self.substitute(cur, &mut substitutions, &mut special) {
                Substituted::Nothing => break,
                Substituted::Runaway => {
                    cur.text.clear();
                    return;
                }
                Substituted::Some => {}
            }
            // keepalived decomments the substituted line again; only substituted text can
            // need it (a `#` from ${_HASH}, blanks at an end).
            if special || cur.text.starts_with([' ', '\t']) || cur.text.ends_with([' ', '\t']) {
                self.decomment(cur);
            }
            if !(cur.text.starts_with('@') || cur.text.contains('$')) {
                break;
            }
        }
        if cur.text.contains("${") {
            self.report_undefined(cur);
        }
    }

    /// `@ID rest` / `@^ID rest`: returns whether the line is kept (and strips the condition).
    fn apply_condition(&mut self, cur: &mut Pending) -> bool {
        let negated = cur.text.as_bytes().get(1) == Some(&b'^');
        let id_at = if negated { 2 } else { 1 };
        let Some(ws) = cur.text[id_at..].find([' ', '\t']).map(|i| i + id_at) else {
            return false;
        };
        let matches = cur.text[id_at..ws] == *self.opts.config_id;
        if matches == negated {
            return false;
        }
        let rest_at =
            ws + cur.text[ws..].len() - cur.text[ws..].trim_start_matches([' ', '\t']).len();
        cur.cols.delete(&cur.text, 0, rest_at);
        cur.text.drain(..rest_at);
        true
    }

    /// `$NAME=value`: records the definition; returns false if the line is not one.
    fn try_definition(&mut self, cur: &Pending) -> bool {
        let Some(d) = defs::parse_definition_line(&cur.text) else {
            return false;
        };
        let at = cur.span();
        let lines = if d.value.is_empty() && d.continues {
            Vec::new()
        } else {
            vec![d.value.to_string()]
        };
        let name = d.name.to_string();
        self.defs.define(
            &name,
            Definition {
                lines: Rc::new(lines),
                multiline: d.continues,
                builtin: None,
                defined_at: at.with_len(name.len() + 1),
            },
        );
        if d.continues {
            self.collecting = Some(Collecting { name });
        }
        true
    }

    fn start_sequence(&mut self, cur: &Pending) {
        let span = cur.span();
        let is_seq = cur.text.starts_with("~SEQ");
        let frame = if is_seq {
            let mut multiline = false;
            let defs = &self.defs;
            let parsed = parse_seq(&cur.text, &mut |params| {
                let (s, m) = substitute_single_line(defs, params);
                multiline |= m;
                s
            });
            if multiline {
                self.diags.error(
                    "invalid-seq",
                    span,
                    "~SEQ parameters may not use a multi-line definition",
                );
                return;
            }
            match parsed {
                Ok(spec) => {
                    let count = spec.count();
                    if count > self.opts.max_lines as u64 {
                        self.diags.error(
                            "too-many-lines",
                            span,
                            format!(
                                "~SEQ would repeat its line {count} times, more than the limit of {}",
                                self.opts.max_lines
                            ),
                        );
                        return;
                    }
                    let values: Vec<String> = spec.values().collect();
                    SeqFrame {
                        vars: vec![spec.var.clone()],
                        values: SeqValues::Range(values.into_iter().peekable()),
                        text: cur.text[spec.text_at..].to_string(),
                        cols: cur.cols.tail(&cur.text, spec.text_at),
                        file: cur.file,
                        line: cur.line,
                        parent: cur.origin,
                        defined_at: span.with_len(4),
                    }
                }
                Err(e) => {
                    let (msg, help) = match e {
                        SeqError::Syntax => (
                            "invalid ~SEQ specification",
                            "write ~SEQ(var, end), ~SEQ(var, start, end) or ~SEQ(var, start, step, end)",
                        ),
                        SeqError::Values => (
                            "invalid ~SEQ values: the step must not be 0 and must go from start towards end",
                            "for a descending sequence use a negative step",
                        ),
                        SeqError::NegativeHex => (
                            "~SEQx is only valid for non-negative numbers",
                            "use ~SEQ for negative values",
                        ),
                    };
                    self.diags.error("invalid-seq", span, msg).help(help);
                    return;
                }
            }
        } else {
            match parse_lst(&cur.text) {
                Ok(spec) => SeqFrame {
                    vars: spec.vars,
                    values: SeqValues::List(spec.values.into()),
                    text: cur.text[spec.text_at.min(cur.text.len())..].to_string(),
                    cols: cur.cols.tail(&cur.text, spec.text_at.min(cur.text.len())),
                    file: cur.file,
                    line: cur.line,
                    parent: cur.origin,
                    defined_at: span.with_len(4),
                },
                Err(LstError::TooManyValues) => {
                    self.diags.error(
                        "invalid-seq",
                        span,
                        "~LST specification has more values in a set than variables",
                    );
                    return;
                }
                Err(LstError::Syntax) => {
                    self.diags
                        .error("invalid-seq", span, "invalid ~LST specification")
                        .help("write ~LST(var, v1, v2, ...) or ~LST({a, b}, {1, 2}, {3, 4})");
                    return;
                }
            }
        };
        self.seqs.push(frame);
    }

    /// Replaces definition references in `cur` (keepalived's `replace_param`).
    /// Sets `special` when a substituted value holds a character decomment() acts on.
    fn substitute(
        &mut self,
        cur: &mut Pending,
        count: &mut usize,
        special: &mut bool,
    ) -> Substituted {
        let mut pos = 0;
        let mut found = false;
        while let Some(off) = cur.text[pos..].find('$') {
            let at = pos + off;
            if at + 1 >= cur.text.len() {
                break;
            }
            let Some(r) = defs::parse_reference(&cur.text, at) else {
                pos = at + 1;
                continue;
            };
            let usable = self
                .defs
                .get(r.name)
                .filter(|d| (r.ends_line || !d.multiline) && Builtin::takes(d.builtin, r.params));
            let Some(def) = usable else {
                pos = at + 1;
                continue;
            };
            *count += 1;
            if *count > MAX_SUBSTITUTIONS {
                let span = cur.span_at(at, r.len);
                self.diags
                    .error(
                        "recursive-definition",
                        span,
                        format!(
                            "${} keeps expanding (more than {MAX_SUBSTITUTIONS} substitutions in one line)",
                            r.name
                        ),
                    )
                    .help("a definition must not refer to itself");
                return Substituted::Runaway;
            }
            found = true;
            let ref_len = r.len;
            let params = r.params.map(str::to_string);
            let (builtin, multiline, lines, defined_at) = (
                def.builtin,
                def.multiline,
                Rc::clone(&def.lines),
                def.defined_at,
            );
            // Built-ins and the first line of a multi-line definition are owned; a plain
            // definition is copied straight from its shared lines.
            let owned: Option<String> = match builtin {
                Some(Builtin::Pwd) => {
                    let dir = self.current_dir();
                    let dir = if dir.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        dir
                    };
                    Some(
                        std::path::absolute(&dir)
                            .unwrap_or(dir)
                            .display()
                            .to_string(),
                    )
                }
                Some(Builtin::Instance) => Some(self.opts.config_id.clone()),
                Some(Builtin::Env) => {
                    let name = params.as_deref().unwrap_or("");
                    let value = std::env::var(name).ok();
                    if value.is_none() {
                        let span = cur.span_at(at, ref_len);
                        self.diags.warning(
                            "env-unset",
                            span,
                            format!("environment variable {name} is not set: ${{_ENV {name}}} is empty, as in keepalived"),
                        );
                    }
                    Some(value.unwrap_or_default())
                }
                Some(Builtin::Random) => {
                    let (min, max) = defs::random_bounds(params.as_deref());
                    // The full u64 range has no span that fits: any value is in it.
                    let r = self.next_random();
                    let value = match (max - min).checked_add(1) {
                        Some(span) => min + r % span,
                        None => r,
                    };
                    Some(value.to_string())
                }
                None if multiline && lines.len() > 1 => {
                    let col = cur.cols.col(&cur.text, at);
                    let origin = self.map.add_origin(
                        OriginKind::Definition {
                            name: r.name.to_string(),
                            defined_at,
                        },
                        cur.origin,
                    );
                    let first = lines[0].clone();
                    self.def_frames.push(DefFrame {
                        lines: Rc::clone(&lines),
                        next: 1,
                        saved_seq_depth: self.seq_depth,
                        file: cur.file,
                        line: cur.line,
                        col,
                        origin,
                    });
                    self.seq_depth = self.seqs.len();
                    cur.origin = origin;
                    Some(first)
                }
                None => None,
            };
            let value: &str = match &owned {
                Some(v) => v,
                None => lines.first().map_or("", String::as_str),
            };
            *special |= value.contains(['!', '#', '"', '\\']);
            cur.cols.splice(&cur.text, at, ref_len, value.len());
            cur.text.replace_range(at..at + ref_len, value);
            if cur.text.len() > MAX_EXPANDED_LINE {
                let span = cur.span_at(at, 1);
                self.diags.error(
                    "recursive-definition",
                    span,
                    format!("a definition expands the line beyond {MAX_EXPANDED_LINE} bytes"),
                );
                return Substituted::Runaway;
            }
            if value.trim_start_matches([' ', '\t']).starts_with('~') {
                break;
            }
        }
        if found {
            Substituted::Some
        } else {
            Substituted::Nothing
        }
    }

    /// `${NAME}` left in the line outside double quotes: keepalived would keep it as written
    /// and then split the line at its braces.
    fn report_undefined(&mut self, cur: &Pending) {
        let b = cur.text.as_bytes();
        let mut quote = false;
        for i in 0..b.len() {
            match b[i] {
                b'"' => quote = !quote,
                b'$' if !quote && b.get(i + 1) == Some(&b'{') => {
                    if let Some(r) = defs::parse_reference(&cur.text, i) {
                        let span = cur.span_at(i, r.len);
                        let name = r.name.to_string();
                        self.diags
                            .error(
                                "undefined-definition",
                                span,
                                format!("${{{name}}} is not defined"),
                            )
                            .help(format!("define it before use with a line `${name}=value`"));
                    }
                }
                _ => {}
            }
        }
    }
}

enum Substituted {
    Nothing,
    Some,
    Runaway,
}

/// Substitutes single-line definitions in `text` (for `~SEQ` parameters); reports whether a
/// multi-line definition was referenced.
fn substitute_single_line(defs: &Definitions, text: &str) -> (String, bool) {
    let mut out = text.to_string();
    let mut pos = 0;
    let mut multiline = false;
    let mut guard = 0;
    while let Some(off) = out[pos..].find('$') {
        let at = pos + off;
        guard += 1;
        if guard > MAX_SUBSTITUTIONS {
            break;
        }
        match defs::parse_reference(&out, at).and_then(|r| defs.get(r.name).map(|d| (r.len, d))) {
            Some((len, d)) if d.builtin.is_none() => {
                multiline |= d.multiline;
                let v = d.lines.first().cloned().unwrap_or_default();
                out.replace_range(at..at + len, &v);
            }
            _ => pos = at + 1,
        }
    }
    (out, multiline)
}

/// Splits before the first `{` or `}` outside double quotes; a line starting with a brace is
/// just that brace.
fn split_at_brace(mut p: Pending) -> (Pending, Option<Pending>) {
    let b = p.text.as_bytes();
    let brace_at = if matches!(b.first(), Some(b'{' | b'}')) {
        Some(0)
    } else {
        let mut quote = false;
        let mut found = None;
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'"' => quote = !quote,
                b'{' | b'}' if !quote => {
                    found = Some(i);
                    break;
                }
                _ => {}
            }
        }
        found
    };
    let Some(at) = brace_at else {
        return (p, None);
    };
    let split = if at == 0 { 1 } else { at };
    let rest = &p.text[split..];
    let rest_start = split + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    let rest_text = p.text[rest_start..].trim_end_matches([' ', '\t']);
    let residue = (!rest_text.is_empty()).then(|| Pending {
        text: rest_text.to_string(),
        cols: p.cols.tail(&p.text, rest_start),
        file: p.file,
        line: p.line,
        origin: p.origin,
    });
    p.text.truncate(split);
    let trimmed = p.text.trim_end_matches([' ', '\t']).len();
    p.text.truncate(trimmed);
    (p, residue)
}

fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(test)]
mod tests;
