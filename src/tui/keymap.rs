//! Keys → actions. One table drives the hint bar, the `?` overlay and dispatch, so what
//! is shown is what works. Defaults avoid function keys and the chords tmux and screen
//! take (`Ctrl-b`, `Ctrl-a`); users override them in `$XDG_CONFIG_HOME/ktriage/keys.toml`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Select,
    Back,
    NextPane,
    Filter,
    Rerun,
    Note,
    Export,
    Help,
    Quit,
}

impl Action {
    pub const ALL: [Action; 15] = [
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Select,
        Action::Back,
        Action::NextPane,
        Action::Filter,
        Action::Rerun,
        Action::Note,
        Action::Export,
        Action::Help,
        Action::Quit,
    ];

    /// The name used in keys.toml.
    pub fn name(self) -> &'static str {
        match self {
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page-up",
            Action::PageDown => "page-down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Select => "select",
            Action::Back => "back",
            Action::NextPane => "next-pane",
            Action::Filter => "filter",
            Action::Rerun => "rerun",
            Action::Note => "note",
            Action::Export => "export",
            Action::Help => "help",
            Action::Quit => "quit",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "scroll a page up",
            Action::PageDown => "scroll a page down",
            Action::Top => "go to the first line",
            Action::Bottom => "go to the last line",
            Action::Select => "open / choose / answer",
            Action::Back => "back, close, clear the filter",
            Action::NextPane => "next pane",
            Action::Filter => "filter (runbooks, targets) or search (viewer)",
            Action::Rerun => "re-run against fresh data",
            Action::Note => "add a timestamped note",
            Action::Export => "export an evidence bundle",
            Action::Help => "this help",
            Action::Quit => "quit",
        }
    }
}

/// A key as written in keys.toml and shown on screen: `j`, `Down`, `Enter`, `Ctrl-d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeName,
    pub ctrl: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeName {
    Char(char),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        let code = match e.code {
            KeyCode::Char(c) => KeyCodeName::Char(c),
            KeyCode::Up => KeyCodeName::Up,
            KeyCode::Down => KeyCodeName::Down,
            KeyCode::Left => KeyCodeName::Left,
            KeyCode::Right => KeyCodeName::Right,
            KeyCode::PageUp => KeyCodeName::PageUp,
            KeyCode::PageDown => KeyCodeName::PageDown,
            KeyCode::Home => KeyCodeName::Home,
            KeyCode::End => KeyCodeName::End,
            KeyCode::Enter => KeyCodeName::Enter,
            KeyCode::Esc => KeyCodeName::Esc,
            KeyCode::Tab => KeyCodeName::Tab,
            KeyCode::BackTab => KeyCodeName::BackTab,
            KeyCode::Backspace => KeyCodeName::Backspace,
            _ => return None,
        };
        Some(Key { code, ctrl })
    }

    pub fn parse(s: &str) -> Result<Key, String> {
        let (ctrl, rest) = match s.strip_prefix("Ctrl-").or_else(|| s.strip_prefix("ctrl-")) {
            Some(r) => (true, r),
            None => (false, s),
        };
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => KeyCodeName::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "up" => KeyCodeName::Up,
                "down" => KeyCodeName::Down,
                "left" => KeyCodeName::Left,
                "right" => KeyCodeName::Right,
                "pageup" | "pgup" => KeyCodeName::PageUp,
                "pagedown" | "pgdn" => KeyCodeName::PageDown,
                "home" => KeyCodeName::Home,
                "end" => KeyCodeName::End,
                "enter" | "return" => KeyCodeName::Enter,
                "esc" | "escape" => KeyCodeName::Esc,
                "tab" => KeyCodeName::Tab,
                "backtab" | "shift-tab" => KeyCodeName::BackTab,
                "backspace" => KeyCodeName::Backspace,
                "space" => KeyCodeName::Char(' '),
                f if f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                    return Err(format!(
                        "`{s}`: function keys are not offered (bastion terminals and SSM sessions often do not send them)"
                    ));
                }
                _ => {
                    return Err(format!(
                        "`{s}` is not a key (a character, Up, Down, Left, Right, PageUp, PageDown, Home, End, Enter, Esc, Tab, Backspace, Space, or Ctrl- and one of those)"
                    ));
                }
            },
        };
        if ctrl && matches!(code, KeyCodeName::Char('b' | 'a')) {
            return Err(format!(
                "`{s}` is the tmux or screen prefix key and would never reach ktriage inside them"
            ));
        }
        Ok(Key { code, ctrl })
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCodeName::Char(' ') => "Space".to_string(),
            KeyCodeName::Char(c) => c.to_string(),
            KeyCodeName::Up => "↑".into(),
            KeyCodeName::Down => "↓".into(),
            KeyCodeName::Left => "←".into(),
            KeyCodeName::Right => "→".into(),
            KeyCodeName::PageUp => "PgUp".into(),
            KeyCodeName::PageDown => "PgDn".into(),
            KeyCodeName::Home => "Home".into(),
            KeyCodeName::End => "End".into(),
            KeyCodeName::Enter => "Enter".into(),
            KeyCodeName::Esc => "Esc".into(),
            KeyCodeName::Tab => "Tab".into(),
            KeyCodeName::BackTab => "S-Tab".into(),
            KeyCodeName::Backspace => "Bksp".into(),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: BTreeMap<Action, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        let k = |s: &str| Key::parse(s).expect("built-in key");
        let mut bindings = BTreeMap::new();
        for (action, keys) in [
            (Action::Up, &["Up", "k"][..]),
            (Action::Down, &["Down", "j"]),
            (Action::PageUp, &["PageUp", "Ctrl-u"]),
            (Action::PageDown, &["PageDown", "Ctrl-d"]),
            (Action::Top, &["Home", "g"]),
            (Action::Bottom, &["End", "G"]),
            (Action::Select, &["Enter"]),
            (Action::Back, &["Esc"]),
            (Action::NextPane, &["Tab"]),
            (Action::Filter, &["/"]),
            (Action::Rerun, &["r"]),
            (Action::Note, &["n"]),
            (Action::Export, &["e"]),
            (Action::Help, &["?"]),
            // Ctrl-c too: in raw mode it is a key, and muscle memory expects it to leave.
            (Action::Quit, &["q", "Ctrl-c"]),
        ] {
            bindings.insert(action, keys.iter().map(|s| k(s)).collect());
        }
        Keymap { bindings }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysDoc {
    #[serde(default)]
    keys: BTreeMap<String, toml::Spanned<OneOrMany>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Keymap {
    pub fn action(&self, key: &Key) -> Option<Action> {
        self.bindings
            .iter()
            .find(|(_, keys)| keys.contains(key))
            .map(|(a, _)| *a)
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings.get(&action).map_or(&[], Vec::as_slice)
    }

    /// The first key of an action, as the hint bar shows it.
    pub fn label(&self, action: Action) -> String {
        self.keys(action)
            .first()
            .map_or_else(|| "(unbound)".to_string(), Key::label)
    }

    /// Every key of an action: `↑ k`.
    pub fn labels(&self, action: Action) -> String {
        self.keys(action)
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Defaults with a keys.toml's overrides: an action listed there gets exactly the
    /// keys given. Errors name the file, line and column.
    pub fn with_overrides(origin: &str, text: &str) -> Result<Keymap, String> {
        let at = |span: Option<std::ops::Range<usize>>| match span {
            Some(s) => {
                let (line, col) = crate::text::line_col(text, s.start);
                format!("{origin}:{line}:{col}")
            }
            None => origin.to_string(),
        };
        let doc: KeysDoc =
            toml::from_str(text).map_err(|e| format!("{}: {}", at(e.span()), e.message()))?;
        let mut map = Keymap::default();
        for (name, spanned) in &doc.keys {
            let Some(action) = Action::ALL.into_iter().find(|a| a.name() == name) else {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                return Err(format!(
                    "{}: unknown action `{name}` (actions: {})",
                    at(Some(spanned.span())),
                    names.join(", ")
                ));
            };
            let list = match spanned.get_ref() {
                OneOrMany::One(s) => vec![s.clone()],
                OneOrMany::Many(v) => v.clone(),
            };
            let mut keys = Vec::new();
            for s in &list {
                keys.push(
                    Key::parse(s)
                        .map_err(|e| format!("{}: {name}: {e}", at(Some(spanned.span()))))?,
                );
            }
            if keys.is_empty() {
                return Err(format!(
                    "{}: `{name}` has no keys; every action needs one",
                    at(Some(spanned.span()))
                ));
            }
            map.bindings.insert(action, keys);
        }
        // A key bound twice would silently do only one thing.
        let mut seen: BTreeMap<Key, Action> = BTreeMap::new();
        for (action, keys) in &map.bindings {
            for key in keys {
                if let Some(other) = seen.insert(*key, *action) {
                    return Err(format!(
                        "{origin}: `{}` is bound to both `{}` and `{}`; give one of them another key",
                        key.label(),
                        other.name(),
                        action.name()
                    ));
                }
            }
        }
        Ok(map)
    }

    /// The user's keymap: defaults, overridden by `keys.toml` as
    /// [`crate::config::Settings`] read it.
    pub fn with_user_file(user: Option<&crate::config::UserFile>) -> Result<Keymap, String> {
        match user {
            Some(file) => Keymap::with_overrides(&file.origin(), &file.text),
            None => Ok(Keymap::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn defaults_cover_every_action_without_function_keys_or_prefix_chords() {
        let map = Keymap::default();
        for a in Action::ALL {
            assert!(!map.keys(a).is_empty(), "{a:?} unbound");
        }
        let j = Key::from_event(&press(KeyCode::Char('j'))).unwrap();
        assert_eq!(map.action(&j), Some(Action::Down));
        let down = Key::from_event(&press(KeyCode::Down)).unwrap();
        assert_eq!(map.action(&down), Some(Action::Down));
        assert_eq!(Key::from_event(&press(KeyCode::F(1))), None);
    }

    #[test]
    fn overrides_replace_an_action_and_errors_say_where() {
        let map =
            Keymap::with_overrides("keys.toml", "[keys]\nquit = [\"x\", \"Ctrl-q\"]\n").unwrap();
        assert_eq!(map.labels(Action::Quit), "x Ctrl-q");
        let q = Key::parse("q").unwrap();
        assert_eq!(map.action(&q), None);

        let e = Keymap::with_overrides("keys.toml", "[keys]\nquitt = \"x\"\n").unwrap_err();
        assert!(e.starts_with("keys.toml:2:"), "{e}");
        assert!(e.contains("unknown action `quitt`"), "{e}");
        let e = Keymap::with_overrides("keys.toml", "[keys]\nhelp = \"F1\"\n").unwrap_err();
        assert!(e.contains("function keys are not offered"), "{e}");
        let e = Keymap::with_overrides("keys.toml", "[keys]\nhelp = \"Ctrl-b\"\n").unwrap_err();
        assert!(e.contains("tmux or screen prefix"), "{e}");
        let e = Keymap::with_overrides("keys.toml", "[keys]\nhelp = \"j\"\n").unwrap_err();
        assert!(e.contains("bound to both `down` and `help`"), "{e}");
        let e = Keymap::with_overrides("keys.toml", "[keys\n").unwrap_err();
        assert!(e.starts_with("keys.toml:1:"), "{e}");
    }
}
