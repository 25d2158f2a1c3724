//! Comment removal, as keepalived's `decomment()` (lib/parser.c) does it:
//! - `!` and `#` start a comment anywhere, unless inside double quotes (single quotes do not
//!   protect);
//! - `\#` and `\!` outside quotes stand for the literal character;
//! - a `\` at the very end of a line is kept (it continues a `$NAME=` definition);
//! - leading and trailing blanks are removed.

use super::colmap::ColMap;

/// Result of [`decomment`]: whether a double quote was left open.
#[derive(Debug, PartialEq, Eq)]
pub struct Decommented {
    pub unterminated_quote: bool,
}

pub fn decomment(text: &mut String, cols: &mut ColMap) -> Decommented {
    let lead = text.len() - text.trim_start_matches([' ', '\t']).len();
    if lead > 0 {
        cols.delete(text, 0, lead);
        text.drain(..lead);
    }

    let mut quote = false;
    let mut comment_at: Option<usize> = None;
    let mut continued = false;
    let mut i = 0;
    while i < text.len() {
        let b = text.as_bytes()[i];
        match b {
            b'"' => {
                if comment_at.is_none() {
                    quote = !quote;
                }
                i += 1;
            }
            b'\\' => {
                match text.as_bytes().get(i + 1) {
                    None => {
                        cols.delete(text, i, 1);
                        text.truncate(i);
                        continued = true;
                        break;
                    }
                    Some(b'#' | b'!') if !quote => {
                        cols.delete(text, i, 1);
                        text.remove(i);
                        i += 1;
                    }
                    Some(_) => {
                        // Skip the escaped character, whatever it is (it may be multi-byte).
                        let next = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                        i += 1 + next;
                    }
                }
            }
            b'!' | b'#' if !quote && comment_at.is_none() => {
                comment_at = Some(i);
                i += 1;
            }
            _ => i += 1,
        }
    }

    if let Some(at) = comment_at {
        text.truncate(at);
    }
    let trimmed = text.trim_end_matches([' ', '\t']).len();
    text.truncate(trimmed);
    if continued {
        text.push('\\');
    }
    Decommented {
        unterminated_quote: quote,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(s: &str) -> (String, bool) {
        let mut t = s.to_string();
        let mut m = ColMap::linear(1);
        let r = decomment(&mut t, &mut m);
        (t, r.unterminated_quote)
    }

    #[test]
    fn comments_end_the_line() {
        assert_eq!(dc("  priority 100 # the master").0, "priority 100");
        assert_eq!(dc("priority 100 ! the master").0, "priority 100");
        assert_eq!(dc("# whole line").0, "");
        assert_eq!(dc("a#b").0, "a");
    }

    #[test]
    fn double_quotes_protect_single_quotes_do_not() {
        assert_eq!(dc(r#"script "echo #1" # c"#).0, r#"script "echo #1""#);
        assert_eq!(dc("script 'echo #1'").0, "script 'echo");
    }

    #[test]
    fn escaped_comment_characters_are_literal() {
        assert_eq!(dc(r"auth_pass a\#b\!c").0, "auth_pass a#b!c");
        assert_eq!(
            dc(r#"x "a\#b""#).0,
            r#"x "a\#b""#,
            "escapes inside quotes are kept"
        );
        assert_eq!(dc(r"x a\\b").0, r"x a\\b");
    }

    #[test]
    fn trailing_backslash_is_kept_and_blanks_before_it_removed() {
        assert_eq!(dc("$X= a b   \\").0, "$X= a b\\");
        assert_eq!(dc("foo # comment \\").0, "foo\\");
    }

    #[test]
    fn unterminated_quote_is_reported() {
        assert!(dc(r#"script "abc"#).1);
        assert!(!dc(r#"script "abc" # "x"#).1);
    }

    #[test]
    fn columns_follow_the_removed_text() {
        let mut t = "\t  key a\\#b".to_string();
        let mut m = ColMap::linear(1);
        decomment(&mut t, &mut m);
        assert_eq!(t, "key a#b");
        assert_eq!(m.col(&t, 0), 4);
        assert_eq!(m.col(&t, 4), 8);
        assert_eq!(m.col(&t, 6), 11, "the 'b' after the escape");
    }
}
