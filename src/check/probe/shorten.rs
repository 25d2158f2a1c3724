//! Texts that quote what came from outside (a server's status line, an SMTP reply), cut to a
//! fixed length for display: they end up in the console's `last_error` and in log lines.

/// The longest failure reason kept, in bytes, before the ellipsis.
pub const MAX_DETAIL: usize = 200;

/// `text` cut to at most `max` bytes (at a character boundary) with `…` appended when cut.
pub fn shorten(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_end_in_an_ellipsis_at_a_character_boundary() {
        assert_eq!(shorten("short".into(), 10), "short");
        assert_eq!(shorten("0123456789abc".into(), 10), "0123456789…");
        // "é" is two bytes: a cut in its middle moves before it.
        assert_eq!(shorten("abcé".into(), 4), "abc…");
    }
}
