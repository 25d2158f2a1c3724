//! `~SEQ(var, [start,] [step,] end) text`, `~SEQx(...)` and `~LST(...)` specifications
//! (keepalived's `add_seq` / `add_lst` in lib/parser.c).
//!
//! The text after the closing parenthesis is repeated once per value with `$var` defined; a
//! second `~SEQ`/`~LST` in that text nests inside the first.

/// A parsed `~SEQ`/`~SEQx`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqSpec {
    pub var: String,
    pub start: i64,
    pub step: i64,
    pub end: i64,
    pub hex: bool,
    /// Byte offset in the line where the repeated text starts.
    pub text_at: usize,
}

/// A parsed `~LST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LstSpec {
    pub vars: Vec<String>,
    /// One entry per iteration, one value per variable (missing values are empty).
    pub values: Vec<Vec<String>>,
    pub text_at: usize,
}

fn skip_blanks(s: &[u8], mut p: usize) -> usize {
    while p < s.len() && (s[p] == b' ' || s[p] == b'\t') {
        p += 1;
    }
    p
}

/// Like C `strtol(s, &end, 0)`: blanks, sign, `0x` hex, leading-`0` octal, else decimal.
/// Returns the value and the index after the number (the start if there is none).
pub fn strtol0(s: &str) -> (i64, usize) {
    let b = s.as_bytes();
    let mut p = 0;
    while p < b.len() && b[p].is_ascii_whitespace() {
        p += 1;
    }
    let mut neg = false;
    if p < b.len() && (b[p] == b'+' || b[p] == b'-') {
        neg = b[p] == b'-';
        p += 1;
    }
    let (radix, digits_at) = if b.get(p) == Some(&b'0') && matches!(b.get(p + 1), Some(b'x' | b'X'))
    {
        if b.get(p + 2).is_some_and(u8::is_ascii_hexdigit) {
            (16, p + 2)
        } else {
            // "0x" with no hex digit: C parses the "0".
            return (0, p + 1);
        }
    } else if b.get(p) == Some(&b'0') {
        (8, p)
    } else {
        (10, p)
    };
    let mut q = digits_at;
    let mut val: i64 = 0;
    while q < b.len() {
        let d = match (b[q] as char).to_digit(radix) {
            Some(d) => d as i64,
            None => break,
        };
        val = val.saturating_mul(radix as i64).saturating_add(d);
        q += 1;
    }
    if q == digits_at {
        return (0, 0);
    }
    (if neg { -val } else { val }, q)
}

/// Why a `~SEQ` was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SeqError {
    Syntax,
    /// The step is 0 or goes away from the end.
    Values,
    /// `~SEQx` with a negative bound.
    NegativeHex,
}

/// Parses `line`, which starts with `~SEQ`. `substitute` expands definitions in the parameter
/// list (keepalived allows `~SEQ(i, 1, $MAX)`).
pub fn parse_seq(
    line: &str,
    substitute: &mut dyn FnMut(&str) -> String,
) -> Result<SeqSpec, SeqError> {
    let b = line.as_bytes();
    let mut p = 4;
    let hex = b.get(p) == Some(&b'x');
    if hex {
        p += 1;
    }
    p = skip_blanks(b, p);
    if b.get(p) != Some(&b'(') {
        return Err(SeqError::Syntax);
    }
    p = skip_blanks(b, p + 1);
    let var_start = p;
    while p < b.len() && !matches!(b[p], b' ' | b'\t' | b',' | b')') {
        p += 1;
    }
    let var = &line[var_start..p];
    p = skip_blanks(b, p);
    if p >= b.len() || b[p] == b')' || var.is_empty() {
        return Err(SeqError::Syntax);
    }
    // Skip the separator after the variable name (keepalived skips whatever it is).
    p = skip_blanks(b, p + line[p..].chars().next().map_or(1, char::len_utf8));
    let close = line[p..].find(')').ok_or(SeqError::Syntax)? + p;
    let params = substitute(&line[p..=close]);

    let (one, n) = strtol0(&params);
    let rest = &params[n..];
    let rest = rest.trim_start_matches([' ', '\t']);
    let (start, step, end);
    if let Some(after) = rest.strip_prefix(')') {
        let _ = after;
        end = one;
        step = if end < 1 { -1 } else { 1 };
        start = if end < 0 { -1 } else { 1 };
    } else {
        let rest = rest.strip_prefix(',').ok_or(SeqError::Syntax)?;
        let (two, n) = strtol0(rest);
        let rest2 = rest[n..].trim_start_matches([' ', '\t']);
        if rest2.starts_with(')') {
            start = one;
            end = two;
            step = if start <= end { 1 } else { -1 };
        } else {
            let rest2 = rest2.strip_prefix(',').ok_or(SeqError::Syntax)?;
            let (three, n) = strtol0(rest2);
            if !rest2[n..].trim_start_matches([' ', '\t']).starts_with(')') {
                return Err(SeqError::Syntax);
            }
            start = one;
            step = two;
            end = three;
            if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
                return Err(SeqError::Values);
            }
        }
    }
    if hex && (start < 0 || end < 0) {
        return Err(SeqError::NegativeHex);
    }
    let text_at = skip_blanks(b, close + 1);
    Ok(SeqSpec {
        var: var.to_string(),
        start,
        step,
        end,
        hex,
        text_at,
    })
}

impl SeqSpec {
    /// The values in iteration order, formatted as keepalived formats them.
    pub fn values(&self) -> impl Iterator<Item = String> + '_ {
        let mut next = Some(self.start);
        std::iter::from_fn(move || {
            let v = next?;
            let n = v.checked_add(self.step);
            next = n.filter(|n| {
                if self.step > 0 {
                    *n <= self.end
                } else {
                    *n >= self.end
                }
            });
            Some(if self.hex {
                format!("{v:x}")
            } else {
                v.to_string()
            })
        })
    }

    /// How many iterations there will be.
    pub fn count(&self) -> u64 {
        let span = (self.end as i128 - self.start as i128) / self.step as i128;
        if span < 0 { 1 } else { span as u64 + 1 }
    }
}

/// Why a `~LST` was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LstError {
    Syntax,
    TooManyValues,
}

/// Parses `line`, which starts with `~LST`.
pub fn parse_lst(line: &str) -> Result<LstSpec, LstError> {
    let b = line.as_bytes();
    let mut p = skip_blanks(b, 4);
    if b.get(p) != Some(&b'(') {
        return Err(LstError::Syntax);
    }
    p = skip_blanks(b, p + 1);

    // Variables: one name, or {a, b, ...}.
    let grouped = b.get(p) == Some(&b'{');
    if grouped {
        p = skip_blanks(b, p + 1);
    }
    let end_char = if grouped { b'}' } else { b',' };
    let mut vars = Vec::new();
    loop {
        let start = p;
        while p < b.len() && !matches!(b[p], b' ' | b'\t' | b',' | b'}') {
            p += 1;
        }
        vars.push(line[start..p].to_string());
        p = skip_blanks(b, p);
        match b.get(p) {
            Some(&c) if c == end_char => break,
            Some(b',') => p = skip_blanks(b, p + 1),
            _ => return Err(LstError::Syntax),
        }
    }
    if b.get(p) == Some(&b'}') {
        p = skip_blanks(b, p + 1);
    }
    if b.get(p) != Some(&b',') {
        return Err(LstError::Syntax);
    }
    p = skip_blanks(b, p + 1);

    // Value sets: v, or {v1, v2}, separated by commas, up to ')'.
    let mut values = Vec::new();
    loop {
        let grouped = b.get(p) == Some(&b'{');
        if grouped {
            p = skip_blanks(b, p + 1);
        }
        let end_char = if grouped { b'}' } else { b',' };
        let mut set = Vec::new();
        loop {
            let start = p;
            while p < b.len() && !matches!(b[p], b' ' | b'\t' | b',' | b'}' | b')') {
                p += 1;
            }
            set.push(line[start..p].to_string());
            p = skip_blanks(b, p);
            match b.get(p) {
                Some(&c) if c == end_char || (c == b')' && end_char == b',') => break,
                Some(b',') => p = skip_blanks(b, p + 1),
                _ => return Err(LstError::Syntax),
            }
            if set.len() > vars.len() - 1 {
                return Err(LstError::TooManyValues);
            }
        }
        set.resize(vars.len(), String::new());
        values.push(set);
        if grouped && b.get(p) == Some(&b'}') {
            p = skip_blanks(b, p + 1);
        }
        match b.get(p) {
            Some(b')') => break,
            Some(b',') => p = skip_blanks(b, p + 1),
            _ => return Err(LstError::Syntax),
        }
    }
    let text_at = skip_blanks(b, p + 1);
    Ok(LstSpec {
        vars,
        values,
        text_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(line: &str) -> Result<SeqSpec, SeqError> {
        parse_seq(line, &mut |s| s.to_string())
    }

    #[test]
    fn strtol_base_zero() {
        assert_eq!(strtol0("42)"), (42, 2));
        assert_eq!(strtol0(" -7,"), (-7, 3));
        assert_eq!(strtol0("0x1f)"), (31, 4));
        assert_eq!(strtol0("010"), (8, 3));
        assert_eq!(strtol0("08"), (0, 1), "octal stops at 8");
        assert_eq!(strtol0(")"), (0, 0));
    }

    #[test]
    fn seq_forms_and_defaults() {
        let s = seq("~SEQ(i, 3) x $i").unwrap();
        assert_eq!((s.start, s.step, s.end), (1, 1, 3));
        assert_eq!(&"~SEQ(i, 3) x $i"[s.text_at..], "x $i");
        let s = seq("~SEQ(i, -3) x").unwrap();
        assert_eq!((s.start, s.step, s.end), (-1, -1, -3));
        let s = seq("~SEQ(i, 5, 2) x").unwrap();
        assert_eq!((s.start, s.step, s.end), (5, -1, 2));
        let s = seq("~SEQ(i, 0, 2, 6) x").unwrap();
        assert_eq!(s.values().collect::<Vec<_>>(), ["0", "2", "4", "6"]);
        assert_eq!(s.count(), 4);
        let s = seq("~SEQx(S, 0x90, 0x10, 0xc0) fe80::${S}").unwrap();
        assert_eq!(s.values().collect::<Vec<_>>(), ["90", "a0", "b0", "c0"]);
    }

    #[test]
    fn seq_errors() {
        assert_eq!(seq("~SEQ i, 3) x"), Err(SeqError::Syntax));
        assert_eq!(seq("~SEQ(i) x"), Err(SeqError::Syntax));
        assert_eq!(seq("~SEQ(i, 1, 0, 5) x"), Err(SeqError::Values));
        assert_eq!(seq("~SEQ(i, 1, -1, 5) x"), Err(SeqError::Values));
        assert_eq!(seq("~SEQx(i, -1, 5) x"), Err(SeqError::NegativeHex));
        assert_eq!(seq("~SEQ(i, 1, 2 x"), Err(SeqError::Syntax));
    }

    #[test]
    fn multibyte_separator_is_skipped_whole() {
        // Found by the fuzzer: the byte after the variable is inside a UTF-8 character.
        assert_eq!(
            seq("~SEQ(I \u{fffd}254, 256) x").map(|s| (s.start, s.end)),
            Ok((254, 256))
        );
        let _ = seq("~SEQ(I\u{fffd} \u{fffd}\u{fffd}) x");
    }

    #[test]
    fn seq_parameters_may_use_definitions() {
        let s = parse_seq("~SEQ(i, 1, $N) x", &mut |p| p.replace("$N", "4")).unwrap();
        assert_eq!(s.end, 4);
    }

    #[test]
    fn lst_single_and_grouped() {
        let l = parse_lst("~LST(IP, 1, 2, 3) 10.0.0.$IP").unwrap();
        assert_eq!(l.vars, ["IP"]);
        assert_eq!(l.values, [["1"], ["2"], ["3"]]);
        assert_eq!(&"~LST(IP, 1, 2, 3) 10.0.0.$IP"[l.text_at..], "10.0.0.$IP");
        let line = "~LST({IP, IP1}, {10,1},{20,4},{5}) 192.168.${IP}.${IP1}";
        let l = parse_lst(line).unwrap();
        assert_eq!(l.vars, ["IP", "IP1"]);
        assert_eq!(l.values[0], ["10", "1"]);
        assert_eq!(l.values[2], ["5", ""], "missing values are blank");
        assert_eq!(&line[l.text_at..], "192.168.${IP}.${IP1}");
    }

    #[test]
    fn lst_errors() {
        assert_eq!(parse_lst("~LST IP, 1) x"), Err(LstError::Syntax));
        assert_eq!(
            parse_lst("~LST({A}, {1, 2}) x"),
            Err(LstError::TooManyValues)
        );
        assert_eq!(parse_lst("~LST(A 1) x"), Err(LstError::Syntax));
    }
}
