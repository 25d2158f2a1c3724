//! `$NAME=value` definitions and their substitution (keepalived's `check_definition`,
//! `find_definition` and `replace_param` in lib/parser.c).
//!
//! - A definition is a line `$NAME=value` (no blank before `=`); NAME is `[A-Za-z_][A-Za-z0-9_]*`.
//! - A value ending in `\` starts a multi-line definition, continued by lines ending in `\` up to
//!   one without (an empty line also ends it).
//! - `$NAME` is replaced when followed by a blank, `,`, `)` or the end of the line; `${NAME}`
//!   anywhere. A multi-line definition is only used when the reference ends the line.
//! - Substitution is evaluated at use, and the substituted text is scanned again, so definitions
//!   may refer to definitions.
//! - Built-ins: `${_PWD}`, `${_INSTANCE}`, `${_RANDOM [MIN [MAX]]}`, `${_HASH}`, `${_BANG}`,
//!   and since keepalived 2.3 `${_ENV NAME}` (the environment variable, empty when unset).

use std::rc::Rc;

use crate::config::fasthash::FastMap;
use crate::config::source::Span;

/// What a built-in definition evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Pwd,
    Instance,
    Random,
    /// `${_ENV NAME}` (keepalived 2.3.0).
    Env,
}

impl Builtin {
    /// Whether `params` (the words between the name and `}`) suit this definition
    /// (keepalived's `find_definition`: min/max parameters, numbers only).
    pub fn takes(builtin: Option<Builtin>, params: Option<&str>) -> bool {
        let Some(p) = params else {
            return builtin != Some(Builtin::Env);
        };
        let words: Vec<&str> = p.split_ascii_whitespace().collect();
        match builtin {
            Some(Builtin::Random) => {
                words.len() <= 2 && words.iter().all(|w| w.bytes().all(|b| b.is_ascii_digit()))
            }
            Some(Builtin::Env) => words.len() == 1,
            _ => false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Definition {
    /// Lines of the value (one for a single-line definition); shared with the expansions in
    /// progress, so expanding a long definition copies nothing.
    pub lines: Rc<Vec<String>>,
    pub multiline: bool,
    pub builtin: Option<Builtin>,
    pub defined_at: Span,
}

/// A reference to a definition found in a line.
#[derive(Debug, PartialEq, Eq)]
pub struct Reference<'a> {
    pub name: &'a str,
    /// Bytes taken by the reference, from the `$` on.
    pub len: usize,
    /// The text between the name and `}`: `${_RANDOM MIN MAX}`, `${_ENV NAME}`.
    pub params: Option<&'a str>,
    pub braced: bool,
    /// The reference ends the line, so a multi-line definition may be used.
    pub ends_line: bool,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Parses the reference whose `$` is at `text[at]`. Returns `None` when the text after the `$`
/// cannot be a reference (it is then left as written).
pub fn parse_reference(text: &str, at: usize) -> Option<Reference<'_>> {
    let bytes = text.as_bytes();
    let braced = bytes.get(at + 1) == Some(&b'{');
    let name_start = at + 1 + usize::from(braced);
    if !bytes.get(name_start).copied().is_some_and(is_name_start) {
        return None;
    }
    let mut end = name_start + 1;
    while end < bytes.len() && is_name_char(bytes[end]) {
        end += 1;
    }
    let name = &text[name_start..end];
    if braced {
        // Parameters (words of letters, digits and `_`) may follow the name: ${_RANDOM 1 10},
        // ${_ENV NAME}; which ones a definition takes is checked at use.
        let mut p = end;
        let mut first_param = None;
        let mut last_param = None;
        while p < bytes.len() && (matches!(bytes[p], b' ' | b'\t') || is_name_char(bytes[p])) {
            if !matches!(bytes[p], b' ' | b'\t') {
                first_param.get_or_insert(p);
                last_param = Some(p);
            }
            p += 1;
        }
        if let Some(last) = last_param
            && last + 1 != p
        {
            return None; // a blank before the closing brace
        }
        if bytes.get(p) != Some(&b'}') {
            return None;
        }
        let params = first_param.map(|s| &text[s..=last_param.unwrap_or(s)]);
        Some(Reference {
            name,
            len: p + 1 - at,
            params,
            braced,
            ends_line: p + 1 == bytes.len(),
        })
    } else {
        match bytes.get(end) {
            None | Some(b' ' | b'\t' | b',' | b')') => Some(Reference {
                name,
                len: end - at,
                params: None,
                braced,
                ends_line: end == bytes.len(),
            }),
            Some(_) => None,
        }
    }
}

/// A `$NAME=value` line, split.
#[derive(Debug, PartialEq, Eq)]
pub struct DefinitionLine<'a> {
    pub name: &'a str,
    /// The value with leading blanks removed and a trailing `\` removed.
    pub value: &'a str,
    /// The value ended in `\`: more lines follow.
    pub continues: bool,
}

pub fn parse_definition_line(line: &str) -> Option<DefinitionLine<'_>> {
    let bytes = line.as_bytes();
    if bytes.first() != Some(&b'$') || !bytes.get(1).copied().is_some_and(is_name_start) {
        return None;
    }
    let mut p = 2;
    while p < bytes.len() && is_name_char(bytes[p]) {
        p += 1;
    }
    if bytes.get(p) != Some(&b'=') {
        return None;
    }
    let name = &line[1..p];
    let value = line[p + 1..].trim_start_matches([' ', '\t']);
    match value.strip_suffix('\\') {
        Some(v) => Some(DefinitionLine {
            name,
            value: v.trim_end_matches([' ', '\t']),
            continues: true,
        }),
        None => Some(DefinitionLine {
            name,
            value,
            continues: false,
        }),
    }
}

/// The definitions in force, in the order keepalived searches them.
#[derive(Debug, Default)]
pub struct Definitions {
    map: FastMap<String, Definition>,
}

impl Definitions {
    pub fn with_builtins() -> Self {
        let mut d = Definitions::default();
        let builtin = |b: Option<Builtin>, value: &str| Definition {
            lines: Rc::new(vec![value.to_string()]),
            multiline: false,
            builtin: b,
            defined_at: Span::default(),
        };
        d.map.insert("_PWD".into(), builtin(Some(Builtin::Pwd), ""));
        d.map
            .insert("_INSTANCE".into(), builtin(Some(Builtin::Instance), ""));
        d.map
            .insert("_RANDOM".into(), builtin(Some(Builtin::Random), ""));
        d.map.insert("_ENV".into(), builtin(Some(Builtin::Env), ""));
        d.map.insert("_HASH".into(), builtin(None, "#"));
        d.map.insert("_BANG".into(), builtin(None, "!"));
        d
    }

    /// Sets (or replaces, also a built-in) a single-line definition.
    pub fn set(&mut self, name: &str, value: &str, at: Span) {
        // ~SEQ sets its variable once per iteration: reuse the entry's allocations.
        if let Some(d) = self.map.get_mut(name)
            && let Some(lines) = Rc::get_mut(&mut d.lines)
            && lines.len() == 1
        {
            lines[0].clear();
            lines[0].push_str(value);
            d.multiline = false;
            d.builtin = None;
            d.defined_at = at;
            return;
        }
        self.map.insert(
            name.to_string(),
            Definition {
                lines: Rc::new(vec![value.to_string()]),
                multiline: false,
                builtin: None,
                defined_at: at,
            },
        );
    }

    pub fn define(&mut self, name: &str, def: Definition) {
        self.map.insert(name.to_string(), def);
    }

    pub fn get(&self, name: &str) -> Option<&Definition> {
        self.map.get(name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Definition> {
        self.map.get_mut(name)
    }
}

/// `${_RANDOM [MIN [MAX]]}`: parameters are decimal; defaults 0 and 32767.
pub fn random_bounds(params: Option<&str>) -> (u64, u64) {
    let mut it = params.unwrap_or("").split_ascii_whitespace();
    let min = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let max = it.next().and_then(|s| s.parse().ok()).unwrap_or(32767);
    if max < min { (max, min) } else { (min, max) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_reference_needs_a_separator_after_the_name() {
        let r = parse_reference("a $X b", 2).unwrap();
        assert_eq!((r.name, r.len, r.ends_line), ("X", 2, false));
        assert!(parse_reference("a $X.b", 2).is_none());
        assert!(parse_reference("$X,", 0).is_some());
        assert!(parse_reference("$X)", 0).is_some());
        assert!(parse_reference("$1", 0).is_none());
        assert!(parse_reference("$X", 0).unwrap().ends_line);
    }

    #[test]
    fn braced_reference_may_be_anywhere_and_carry_numeric_params() {
        let r = parse_reference("10.${A}.1", 3).unwrap();
        assert_eq!((r.name, r.len, r.braced), ("A", 4, true));
        let r = parse_reference("${_RANDOM 1 5}", 0).unwrap();
        assert_eq!((r.name, r.params), ("_RANDOM", Some("1 5")));
        assert!(parse_reference("${_RANDOM 1 }", 0).is_none());
        assert!(parse_reference("${A", 0).is_none());
        let r = parse_reference("${_ENV KH_VIP}/24", 0).unwrap();
        assert_eq!((r.name, r.params, r.len), ("_ENV", Some("KH_VIP"), 14));
        assert!(
            !Builtin::takes(None, Some("x")),
            "${{A x}} is left as written"
        );
        assert!(!Builtin::takes(Some(Builtin::Random), Some("a")));
        assert!(Builtin::takes(Some(Builtin::Random), Some("1 5")));
        assert!(!Builtin::takes(Some(Builtin::Env), None));
        assert!(!Builtin::takes(Some(Builtin::Env), Some("A B")));
    }

    #[test]
    fn definition_lines() {
        let d = parse_definition_line("$IP=10.0.0.1").unwrap();
        assert_eq!((d.name, d.value, d.continues), ("IP", "10.0.0.1", false));
        let d = parse_definition_line("$X=  a b \\").unwrap();
        assert_eq!((d.value, d.continues), ("a b", true));
        let d = parse_definition_line("$E=").unwrap();
        assert_eq!(d.value, "");
        assert!(parse_definition_line("$X =1").is_none());
        assert!(parse_definition_line("$9=1").is_none());
        assert!(parse_definition_line("X=1").is_none());
    }

    #[test]
    fn random_bounds_default_and_order() {
        assert_eq!(random_bounds(None), (0, 32767));
        assert_eq!(random_bounds(Some("5")), (5, 32767));
        assert_eq!(random_bounds(Some("9 3")), (3, 9));
    }
}
