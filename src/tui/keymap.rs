//! Key maps, in the manner of gitui's key list: each screen has one table of rows, a row being
//! keys with the action each one does, a hint and the footer's short form. The table drives
//! the key handling (a key is looked up, then the screen matches on the action), the footer
//! and the `?` help, so a key cannot be handled without being shown, nor shown without being
//! handled. The console's maps are in [`super::keys`], the live sniff table's in
//! [`super::sniff_live`], the lab's in `lab::console`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key as a map holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A character without Ctrl or Alt (Shift is allowed: capitals and symbols come with it).
    Char(char),
    /// A letter with Ctrl.
    Ctrl(char),
    /// Any other key by its code (Enter, Esc, Tab, arrows...), without Ctrl or Alt.
    Code(KeyCode),
    /// Any character without Ctrl or Alt: text being typed.
    Text,
    /// Any key at all: the last row of a map that takes everything else.
    Any,
}

impl Key {
    pub fn matches(self, k: &KeyEvent) -> bool {
        let plain = !k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match self {
            Key::Char(c) => plain && k.code == KeyCode::Char(c),
            Key::Ctrl(c) => {
                k.modifiers.contains(KeyModifiers::CONTROL)
                    && !k.modifiers.contains(KeyModifiers::ALT)
                    && k.code == KeyCode::Char(c)
            }
            Key::Code(code) => plain && k.code == code,
            Key::Text => plain && matches!(k.code, KeyCode::Char(_)),
            Key::Any => true,
        }
    }

    /// How the help and the footer write the key.
    pub fn name(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Code(code) => match code {
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::Backspace => "Backspace".into(),
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                other => other.to_string(),
            },
            Key::Text => "text".into(),
            Key::Any => "any other key".into(),
        }
    }
}

/// A terminal sends Esc and a key that arrive together (a quick Esc, then `1`) as that key
/// with Alt, and crossterm cannot tell them apart. The console has no Alt keys, so it takes
/// Alt+key as what was meant: Esc, then the key.
pub fn split_escape(k: KeyEvent) -> (KeyEvent, Option<KeyEvent>) {
    let alt_only =
        k.modifiers.contains(KeyModifiers::ALT) && !k.modifiers.contains(KeyModifiers::CONTROL);
    if !alt_only {
        return (k, None);
    }
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    let key = KeyEvent::new(k.code, k.modifiers - KeyModifiers::ALT);
    (esc, Some(key))
}

/// One line of a map: keys (each with its action), what they do, and how the footer says it
/// (`None`: the row is only in the help).
pub struct Row<A: 'static> {
    pub keys: &'static [(Key, A)],
    pub hint: &'static str,
    pub footer: Option<&'static str>,
}

impl<A> Row<A> {
    /// The keys' names, runs of three digits or more as `1-7`.
    pub fn label(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        let mut run: Option<(char, char)> = None;
        let flush = |run: &mut Option<(char, char)>, names: &mut Vec<String>| {
            if let Some((a, b)) = run.take() {
                if (b as u32) - (a as u32) >= 2 {
                    names.push(format!("{a}-{b}"));
                } else {
                    names.extend((a..=b).map(String::from));
                }
            }
        };
        for (key, _) in self.keys {
            if let Key::Char(c @ '0'..='9') = key {
                match run {
                    Some((a, b)) if *c as u32 == b as u32 + 1 => run = Some((a, *c)),
                    _ => {
                        flush(&mut run, &mut names);
                        run = Some((*c, *c));
                    }
                }
                continue;
            }
            flush(&mut run, &mut names);
            let name = key.name();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        flush(&mut run, &mut names);
        names.join(" ")
    }
}

/// A screen's keys.
pub struct KeyMap<A: 'static> {
    /// The screen, as the help's title says it.
    pub title: &'static str,
    pub rows: &'static [Row<A>],
}

impl<A: Copy> KeyMap<A> {
    /// The action of the first key of the map that matches.
    pub fn lookup(&self, k: &KeyEvent) -> Option<A> {
        self.rows
            .iter()
            .flat_map(|r| r.keys)
            .find(|(key, _)| key.matches(k))
            .map(|(_, a)| *a)
    }
}

impl<A> KeyMap<A> {
    /// The footer's items, in the map's order.
    pub fn footer_items(&self) -> Vec<&'static str> {
        self.rows.iter().filter_map(|r| r.footer).collect()
    }

    /// The footer: its items two spaces apart.
    pub fn footer(&self) -> String {
        self.footer_items().join("  ")
    }

    /// The map as the help shows it.
    pub fn section(&self) -> Section {
        Section {
            title: self.title.to_string(),
            rows: self
                .rows
                .iter()
                .map(|r| (r.label(), r.hint.to_string()))
                .collect(),
        }
    }
}

/// A map as text, for the help: (keys, hint) rows under a title. Extensions hand theirs to
/// the console in this form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub rows: Vec<(String, String)>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every key a test presses on a screen: each character plain, shifted, with Ctrl and
    /// with Alt, and the other keys of a keyboard plain, shifted and with Ctrl.
    pub fn every_key() -> Vec<KeyEvent> {
        let mods = [
            KeyModifiers::NONE,
            KeyModifiers::SHIFT,
            KeyModifiers::CONTROL,
            KeyModifiers::ALT,
        ];
        let mut codes: Vec<KeyCode> = (' '..='~').map(KeyCode::Char).collect();
        codes.extend([
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::Insert,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::PageUp,
            KeyCode::PageDown,
        ]);
        codes.extend((1..=12).map(KeyCode::F));
        codes
            .into_iter()
            .flat_map(|c| mods.into_iter().map(move |m| KeyEvent::new(c, m)))
            .collect()
    }

    /// Every row's footer item starts with one of the row's keys.
    pub fn footers_name_their_keys<A>(map: &KeyMap<A>) {
        for r in map.rows {
            if let Some(f) = r.footer {
                assert!(
                    r.keys.iter().any(|(k, _)| f.starts_with(&k.name())),
                    "{}: the footer's {f:?} is not about {}",
                    map.title,
                    r.label()
                );
            }
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum A {
        One,
        Two,
    }

    static MAP: KeyMap<A> = KeyMap {
        title: "test",
        rows: &[
            Row {
                keys: &[
                    (Key::Char('1'), A::One),
                    (Key::Char('2'), A::One),
                    (Key::Char('3'), A::One),
                    (Key::Code(KeyCode::Tab), A::One),
                ],
                hint: "one",
                footer: Some("1-3 one"),
            },
            Row {
                keys: &[(Key::Ctrl('c'), A::Two), (Key::Char('q'), A::Two)],
                hint: "two",
                footer: Some("q two"),
            },
            Row {
                keys: &[(Key::Text, A::One)],
                hint: "typed",
                footer: None,
            },
        ],
    };

    #[test]
    fn alt_with_a_key_is_esc_then_the_key() {
        let k = |c, m| KeyEvent::new(c, m);
        let (first, then) = split_escape(k(KeyCode::Char('1'), KeyModifiers::ALT));
        assert_eq!(first, k(KeyCode::Esc, KeyModifiers::NONE));
        assert_eq!(then, Some(k(KeyCode::Char('1'), KeyModifiers::NONE)));
        let shifted = k(KeyCode::Char('J'), KeyModifiers::ALT | KeyModifiers::SHIFT);
        assert_eq!(
            split_escape(shifted).1,
            Some(k(KeyCode::Char('J'), KeyModifiers::SHIFT))
        );
        for plain in [
            k(KeyCode::Char('1'), KeyModifiers::NONE),
            k(KeyCode::Char('s'), KeyModifiers::CONTROL),
            k(
                KeyCode::Char('s'),
                KeyModifiers::CONTROL | KeyModifiers::ALT,
            ),
        ] {
            assert_eq!(split_escape(plain), (plain, None));
        }
    }

    #[test]
    fn lookup_labels_and_footer() {
        let k = |c, m| KeyEvent::new(c, m);
        assert_eq!(
            MAP.lookup(&k(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(A::Two)
        );
        assert_eq!(
            MAP.lookup(&k(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(A::One),
            "text"
        );
        assert_eq!(
            MAP.lookup(&k(KeyCode::Char('x'), KeyModifiers::ALT)),
            None,
            "Alt is not text"
        );
        assert_eq!(
            MAP.lookup(&k(KeyCode::Char('Q'), KeyModifiers::SHIFT)),
            Some(A::One),
            "Q is not q"
        );
        assert_eq!(MAP.lookup(&k(KeyCode::Enter, KeyModifiers::NONE)), None);
        assert_eq!(MAP.rows[0].label(), "1-3 Tab");
        assert_eq!(MAP.rows[1].label(), "Ctrl-C q");
        assert_eq!(MAP.footer(), "1-3 one  q two");
        footers_name_their_keys(&MAP);
    }
}
