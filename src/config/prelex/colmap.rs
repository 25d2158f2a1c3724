//! Maps byte offsets of a rewritten line back to columns of the line as written.
//!
//! The pre-lexer removes leading blanks and escapes, substitutes `$NAME`s and splits lines at
//! braces. Each edit is recorded here so that a token of the final text can still be underlined
//! where it was written. Text that came from a substitution maps to the column of the `$` that
//! produced it.

/// A run of the rewritten text starting at byte `start`. In a `linear` run the column advances
/// one per character from `col`; otherwise every byte of the run maps to `col`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    start: usize,
    col: u32,
    linear: bool,
}

/// The runs, the first kept inline: most lines need only one, and the reader builds over a
/// million maps for a large `~SEQ` configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColMap {
    head: Run,
    rest: Vec<Run>,
}

impl ColMap {
    /// Text whose first byte is at column `col` and that advances one column per character.
    pub fn linear(col: u32) -> Self {
        Self::one(Run {
            start: 0,
            col,
            linear: true,
        })
    }

    /// Text that maps entirely to column `col` (text produced by an expansion).
    pub fn fixed(col: u32) -> Self {
        Self::one(Run {
            start: 0,
            col,
            linear: false,
        })
    }

    fn one(head: Run) -> Self {
        ColMap {
            head,
            rest: Vec::new(),
        }
    }

    fn from_runs(runs: Vec<Run>) -> Self {
        let mut it = runs.into_iter();
        let head = it.next().unwrap_or(Run {
            start: 0,
            col: 1,
            linear: true,
        });
        ColMap {
            head,
            rest: it.collect(),
        }
    }

    fn runs(&self) -> impl Iterator<Item = Run> + '_ {
        std::iter::once(self.head).chain(self.rest.iter().copied())
    }

    fn run_at(&self, pos: usize) -> Run {
        if self.rest.first().is_none_or(|r| r.start > pos) {
            return self.head;
        }
        match self.rest.binary_search_by(|r| r.start.cmp(&pos)) {
            Ok(i) => self.rest[i],
            Err(i) => self.rest[i - 1],
        }
    }

    /// Column (1-based) of byte `pos` of `text`.
    pub fn col(&self, text: &str, pos: usize) -> u32 {
        let run = self.run_at(pos);
        if !run.linear || pos <= run.start {
            return run.col;
        }
        let end = pos.min(text.len());
        let start = run.start.min(end);
        let chars = text
            .get(start..end)
            .map_or(end - start, crate::config::source::char_len);
        run.col + chars as u32
    }

    /// Records that bytes `at..at + old_len` of `text` (the text before the edit) were replaced
    /// by `new_len` bytes. Replacement text maps to the column of `at`; what followed keeps its
    /// columns.
    pub fn splice(&mut self, text: &str, at: usize, old_len: usize, new_len: usize) {
        // Text that maps entirely to one column still does after any edit.
        if self.rest.is_empty() && !self.head.linear {
            return;
        }
        let at_col = self.col(text, at);
        let after = at + old_len;
        let after_col = self.col(text, after);
        let after_linear = self.run_at(after).linear;
        let mut runs: Vec<Run> = self.runs().filter(|r| r.start < at).collect();
        if new_len > 0 {
            runs.push(Run {
                start: at,
                col: at_col,
                linear: false,
            });
        }
        runs.push(Run {
            start: at + new_len,
            col: after_col,
            linear: after_linear,
        });
        runs.extend(self.runs().filter(|r| r.start > after).map(|r| Run {
            start: r.start - old_len + new_len,
            ..r
        }));
        runs.dedup_by_key(|r| r.start);
        *self = Self::from_runs(runs);
    }

    /// Records that bytes `at..at + len` were deleted without replacement.
    pub fn delete(&mut self, text: &str, at: usize, len: usize) {
        self.splice(text, at, len, 0);
    }

    /// The map of the text from byte `from` on (for the residue after a brace).
    pub fn tail(&self, text: &str, from: usize) -> ColMap {
        let head = Run {
            start: 0,
            col: self.col(text, from),
            linear: self.run_at(from).linear,
        };
        ColMap {
            head,
            rest: self
                .runs()
                .filter(|r| r.start > from)
                .map(|r| Run {
                    start: r.start - from,
                    ..r
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_map_counts_characters() {
        let m = ColMap::linear(5);
        assert_eq!(m.col("abc", 0), 5);
        assert_eq!(m.col("abc", 2), 7);
        assert_eq!(m.col("éb", 2), 6, "columns are characters, not bytes");
    }

    #[test]
    fn deleting_leading_blanks_keeps_columns() {
        let text = "   key value";
        let mut m = ColMap::linear(1);
        m.delete(text, 0, 3);
        let after = "key value";
        assert_eq!(m.col(after, 0), 4);
        assert_eq!(m.col(after, 4), 8);
    }

    #[test]
    fn substituted_text_points_at_the_dollar_and_the_rest_keeps_its_place() {
        // "a ${X} b" with X = "long value"
        let before = "a ${X} b";
        let mut m = ColMap::linear(1);
        m.splice(before, 2, 4, 10);
        let after = "a long value b";
        assert_eq!(m.col(after, 0), 1);
        assert_eq!(m.col(after, 2), 3);
        assert_eq!(m.col(after, 7), 3, "inside the substitution");
        assert_eq!(m.col(after, 13), 8, "the 'b' written at column 8");
    }

    #[test]
    fn tail_rebases_offsets() {
        let text = "vrrp_instance X { state BACKUP";
        let m = ColMap::linear(1);
        let t = m.tail(text, 16);
        assert_eq!(t.col("{ state BACKUP", 0), 17);
        assert_eq!(t.col("{ state BACKUP", 2), 19);
    }
}
