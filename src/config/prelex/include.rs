//! `include` lines: which variant, and the files a pattern names.
//!
//! keepalived passes the pattern to `glob(3)` with `GLOB_BRACE`, relative to the directory of the
//! including file, and notes along the way whether directories or files were missing. The
//! variants (`includer`, `includem`, `includew`, `includeb`, `includea`) and `include_check`
//! decide which of those findings are errors.

use std::fs;
use std::path::{Path, PathBuf};

/// Which findings about an include are errors rather than notices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncludeCheck {
    /// A matched file cannot be read (or is a directory / executable).
    pub readable: bool,
    /// A name without wildcards does not exist.
    pub matched: bool,
    /// A pattern with wildcards matches nothing.
    pub wildcard_match: bool,
    /// An alternative of a `{a,b}` brace does not match.
    pub brace_match: bool,
}

impl IncludeCheck {
    pub const ALL: IncludeCheck = IncludeCheck {
        readable: true,
        matched: true,
        wildcard_match: true,
        brace_match: true,
    };

    pub fn union(self, o: IncludeCheck) -> IncludeCheck {
        IncludeCheck {
            readable: self.readable || o.readable,
            matched: self.matched || o.matched,
            wildcard_match: self.wildcard_match || o.wildcard_match,
            brace_match: self.brace_match || o.brace_match,
        }
    }

    /// Applies the words of an `include_check` line, as keepalived's `include_check_set`.
    /// Returns the words that were not understood.
    pub fn apply_words(&mut self, words: &[&str]) -> Vec<String> {
        let mut unknown = Vec::new();
        if words.is_empty() {
            *self = IncludeCheck::ALL;
            return unknown;
        }
        for (i, w) in words.iter().enumerate() {
            let (mode, name) = match w.as_bytes().first() {
                Some(b'+') => (1, &w[1..]),
                Some(b'-') => (-1, &w[1..]),
                _ => {
                    if i == 0 {
                        *self = IncludeCheck::default();
                    } else {
                        unknown.push(format!("duplicate setting '{w}'"));
                        continue;
                    }
                    (0, *w)
                }
            };
            let mut flag = IncludeCheck::default();
            match name {
                "read" => flag.readable = true,
                "match" => flag.matched = true,
                "wildcard_match" => flag.wildcard_match = true,
                "brace_match" => flag.brace_match = true,
                _ => {
                    unknown.push(format!("unknown type '{name}'"));
                    continue;
                }
            }
            match mode {
                0 => {
                    *self = flag.union(IncludeCheck {
                        readable: true,
                        ..Default::default()
                    })
                }
                1 => *self = self.union(flag),
                _ => {
                    self.readable &= !flag.readable;
                    self.matched &= !flag.matched;
                    self.wildcard_match &= !flag.wildcard_match;
                    self.brace_match &= !flag.brace_match;
                }
            }
        }
        unknown
    }
}

/// Recognises an include line; returns the variant's checks and the pattern.
pub fn parse_include(line: &str) -> Option<(IncludeCheck, &str)> {
    let rest = line.strip_prefix("include")?;
    let (kind, pattern) = match rest.as_bytes().first()? {
        c if c.is_ascii_whitespace() => (b' ', &rest[1..]),
        c @ (b'r' | b'm' | b'w' | b'b' | b'a')
            if rest.as_bytes().get(1).is_some_and(u8::is_ascii_whitespace) =>
        {
            (*c, &rest[2..])
        }
        _ => return None,
    };
    let r = IncludeCheck {
        readable: true,
        ..Default::default()
    };
    let check = match kind {
        b'r' => r,
        b'm' => IncludeCheck { matched: true, ..r },
        b'w' => IncludeCheck {
            matched: true,
            wildcard_match: true,
            ..r
        },
        b'b' => IncludeCheck {
            brace_match: true,
            ..r
        },
        b'a' => IncludeCheck::ALL,
        _ => IncludeCheck::default(),
    };
    Some((check, pattern.trim_start_matches([' ', '\t'])))
}

/// Most patterns one `include` may expand to: glob(3) with `GLOB_BRACE` tries every
/// combination, 2^n for n braces, and a few dozen braces would run a machine out of memory.
pub const MAX_BRACE_PATTERNS: usize = 1024;
/// Most bytes one `include` may copy while expanding (many alternatives or braces on a long
/// line).
const MAX_BRACE_BYTES: usize = 64 << 20;

/// Expands `{a,b}` alternatives (nested, with `\` escapes) as `GLOB_BRACE` does, in order;
/// `None` when that would make more than [`MAX_BRACE_PATTERNS`] patterns.
pub fn expand_braces(pattern: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut bytes = 0;
    let mut copied = 0;
    // A stack instead of recursion: each step expands the first brace of one pattern, so a
    // line of 100,000 braces costs steps, not stack frames.
    let mut todo = vec![pattern.to_string()];
    while let Some(p) = todo.pop() {
        match first_brace(&p) {
            None => {
                bytes += p.len();
                out.push(p);
                if out.len() > MAX_BRACE_PATTERNS || bytes > MAX_BRACE_BYTES {
                    return None;
                }
            }
            Some((open, commas, close)) => {
                let mut bounds = vec![open];
                bounds.extend(&commas);
                bounds.push(close);
                copied += p.len() * (bounds.len() - 1);
                if todo.len() + bounds.len() > MAX_BRACE_PATTERNS || copied > MAX_BRACE_BYTES {
                    return None;
                }
                let (prefix, suffix) = (&p[..open], &p[close + 1..]);
                // Pushed last first, so that they come out in order.
                for w in bounds.windows(2).rev() {
                    todo.push(format!("{prefix}{}{suffix}", &p[w[0] + 1..w[1]]));
                }
            }
        }
    }
    Some(out)
}

/// The first unescaped `{` that has a matching `}`: its position, the commas at its level and
/// the position of the `}`.
fn first_brace(pattern: &str) -> Option<(usize, Vec<usize>, usize)> {
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'{' => {
                let mut depth = 0;
                let mut commas = Vec::new();
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 1,
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some((i, commas, j));
                            }
                        }
                        b',' if depth == 1 => commas.push(j),
                        _ => {}
                    }
                    j += 1;
                }
                // Unclosed: glob reads the rest literally.
                return None;
            }
            _ => i += 1,
        }
    }
    None
}

fn has_wildcards(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'*' | b'?' | b'[' => return true,
            _ => i += 1,
        }
    }
    false
}

/// `fnmatch(3)` without flags beyond the leading-dot rule: `*`, `?`, `[...]` (with `!`/`^` and
/// ranges) and `\` escapes.
pub fn fnmatch(pat: &str, name: &str) -> bool {
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative, returning to the last `*` on a mismatch: O(pattern x name) and no recursion,
    // where trying every split at every `*` is exponential in the number of stars.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if p.get(pi) == Some(&'*') {
            star = Some((pi + 1, ni));
            pi += 1;
            continue;
        }
        if let Some(len) = match_one(&p[pi..], n[ni]) {
            pi += len;
            ni += 1;
            continue;
        }
        match star {
            // Let the last star take one more character.
            Some((after, taken)) => {
                pi = after;
                ni = taken + 1;
                star = Some((after, taken + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the element at the start of `p` (not `*`) matches `c`; how many pattern characters
/// it used.
fn match_one(p: &[char], c: char) -> Option<usize> {
    match *p.first()? {
        '?' => Some(1),
        '[' => match bracket(p, c) {
            Some((matched, len)) => matched.then_some(len),
            // No closing bracket: '[' is literal.
            None => (c == '[').then_some(1),
        },
        '\\' if p.len() > 1 => (p[1] == c).then_some(2),
        x => (x == c).then_some(1),
    }
}

/// A `[...]` set at the start of `p`: whether it matches `c`, and its length; `None` when
/// it is not closed.
fn bracket(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut k = 1;
    let negate = matches!(p.get(1), Some('!' | '^'));
    if negate {
        k += 1;
    }
    let mut matched = false;
    let mut first = true;
    while k < p.len() && (first || p[k] != ']') {
        first = false;
        if p.get(k + 1) == Some(&'-') && p.get(k + 2).is_some_and(|&e| e != ']') {
            matched |= p[k] <= c && c <= p[k + 2];
            k += 3;
        } else {
            matched |= p[k] == c;
            k += 1;
        }
    }
    (k < p.len()).then_some((matched != negate, k + 1))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What globbing one pattern found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GlobResult {
    /// Matches in glob order (sorted within each brace alternative).
    pub paths: Vec<PathBuf>,
    pub had_wildcards: bool,
    /// A name without wildcards (or a directory on the way) did not exist.
    pub missing: bool,
    /// Brace alternatives that matched nothing.
    pub empty_alternatives: Vec<String>,
    /// The braces expand to more than [`MAX_BRACE_PATTERNS`] patterns: nothing was globbed.
    pub too_many_alternatives: bool,
}

/// Globs `pattern` relative to `base` (the directory of the including file).
pub fn glob(pattern: &str, base: &Path) -> GlobResult {
    let mut res = GlobResult::default();
    let Some(alternatives) = expand_braces(pattern) else {
        res.too_many_alternatives = true;
        return res;
    };
    let braced = alternatives.len() > 1;
    for alt in alternatives {
        let before = res.paths.len();
        glob_one(&alt, base, &mut res);
        if braced && res.paths.len() == before {
            res.empty_alternatives.push(alt);
        }
    }
    res
}

fn glob_one(pattern: &str, base: &Path, res: &mut GlobResult) {
    let absolute = pattern.starts_with('/');
    let mut candidates: Vec<PathBuf> = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    if comps.is_empty() {
        return;
    }
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let mut next = Vec::new();
        for cand in &candidates {
            let on_disk = base.join(cand);
            if has_wildcards(comp) {
                res.had_wildcards = true;
                let Ok(rd) = fs::read_dir(if on_disk.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    &on_disk
                }) else {
                    res.missing = true;
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .filter(|e| last || e.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink()))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| fnmatch(comp, n))
                    .collect();
                names.sort();
                next.extend(names.into_iter().map(|n| cand.join(n)));
            } else {
                let p = cand.join(unescape(comp));
                if fs::symlink_metadata(base.join(&p)).is_ok() {
                    next.push(p);
                } else {
                    res.missing = true;
                }
            }
        }
        candidates = next;
    }
    res.paths
        .extend(candidates.into_iter().map(|p| base.join(p)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_variants() {
        assert_eq!(
            parse_include("include a.conf"),
            Some((IncludeCheck::default(), "a.conf"))
        );
        assert_eq!(
            parse_include("includea  x/*.conf"),
            Some((IncludeCheck::ALL, "x/*.conf"))
        );
        let (c, _) = parse_include("includew x").unwrap();
        assert!(c.readable && c.matched && c.wildcard_match && !c.brace_match);
        assert_eq!(parse_include("includes x"), None);
        assert_eq!(parse_include("include"), None);
        assert_eq!(parse_include("included x"), None);
    }

    #[test]
    fn include_check_words() {
        let mut c = IncludeCheck::default();
        assert!(c.apply_words(&[]).is_empty());
        assert_eq!(c, IncludeCheck::ALL);
        c.apply_words(&["match"]);
        assert!(c.readable && c.matched && !c.wildcard_match);
        c.apply_words(&["+brace_match", "-read"]);
        assert!(!c.readable && c.matched && c.brace_match);
        assert_eq!(c.apply_words(&["bogus"]), ["unknown type 'bogus'"]);
    }

    #[test]
    fn braces_expand_in_order_and_nest() {
        let e = |p: &str| expand_braces(p).unwrap();
        assert_eq!(e("a{b,c}d"), ["abd", "acd"]);
        assert_eq!(e("{x,y{1,2}}"), ["x", "y1", "y2"]);
        assert_eq!(e("{a,b}{1,2}"), ["a1", "a2", "b1", "b2"]);
        assert_eq!(e(r"a\{b,c}"), [r"a\{b,c}"]);
        assert_eq!(e("a{b"), ["a{b"]);
        assert_eq!(e(&"{a}".repeat(1000)), ["a".repeat(1000)]);
    }

    #[test]
    fn brace_explosions_are_refused() {
        // 2^10 patterns are fine, 2^11 are not.
        assert_eq!(
            expand_braces(&"{a,b}".repeat(10)).map(|v| v.len()),
            Some(1024)
        );
        assert_eq!(expand_braces(&"{a,b}".repeat(11)), None);
        assert_eq!(expand_braces(&"{a,b}".repeat(40)), None);
        // One alternative each, but every step copies a long line.
        assert_eq!(expand_braces(&"{a}".repeat(100_000)), None);
        let d = tempfile::tempdir().unwrap();
        assert!(glob(&"{a,b}".repeat(40), d.path()).too_many_alternatives);
    }

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(!fnmatch("*.conf", ".hidden.conf"));
        assert!(fnmatch("?.conf", "a.conf"));
        assert!(fnmatch("[ab].conf", "b.conf"));
        assert!(!fnmatch("[!ab].conf", "b.conf"));
        assert!(fnmatch("[0-9]x", "7x"));
        assert!(fnmatch(r"\*", "*"));
        assert!(!fnmatch("*.conf", "a.cfg"));
        assert!(fnmatch("a*b*c", "aXbYbZc"));
        assert!(fnmatch("*a*", "bab"));
        assert!(fnmatch("**", ""));
        assert!(!fnmatch("a*", "b"));
        assert!(fnmatch("[a-c]*[!x]", "bzzy"));
        assert!(fnmatch("x[", "x["), "an unclosed bracket is literal");
    }

    #[test]
    fn fnmatch_many_stars_do_not_backtrack_exponentially() {
        // Exponential backtracking takes minutes here; recursion overflows the stack.
        let name = "a".repeat(200);
        assert!(!fnmatch(&format!("{}z", "*".repeat(30)), &name));
        assert!(!fnmatch(&format!("{}z", "*a".repeat(100)), &name));
        assert!(fnmatch(&"*".repeat(300_000), &name));
    }

    #[test]
    fn glob_sorts_and_reports_missing() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("conf.d")).unwrap();
        for n in ["b.conf", "a.conf", "c.txt"] {
            fs::write(d.path().join("conf.d").join(n), "").unwrap();
        }
        let r = glob("conf.d/*.conf", d.path());
        let names: Vec<_> = r
            .paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.conf", "b.conf"]);
        assert!(r.had_wildcards && !r.missing);

        let r = glob("nope/*.conf", d.path());
        assert!(r.paths.is_empty() && r.missing);

        let r = glob("conf.d/{a,z}.conf", d.path());
        assert_eq!(r.paths.len(), 1);
        assert_eq!(r.empty_alternatives, ["conf.d/z.conf"]);

        let r = glob("missing.conf", d.path());
        assert!(r.paths.is_empty() && r.missing && !r.had_wildcards);
    }
}
