//! A list with a fuzzy filter line, as the runbook and target pickers show it: its
//! state, the keys every such list shares, and its filter line.

use crate::tui::keymap::{Action, Keymap};
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::one_line;
use crate::tui::view::widgets::{help_and_quit, move_keys};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use ratatui::text::{Line, Span};

#[derive(Clone, Debug, Default)]
pub struct FilteredList {
    pub filter: String,
    /// Keys go to the filter line.
    pub editing: bool,
    pub selected: usize,
}

/// What a list made of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListMove {
    /// `Esc` with no filter: leave the screen.
    Close,
    Handled,
    NotMine,
}

/// What a key typed into the filter line did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    Typed,
    /// Enter: the picker chooses the row under the cursor.
    Choose,
}

impl FilteredList {
    /// The keys every filtered list shares: moving, `/` (or ↑ past the top) to type a
    /// filter, `Esc` clearing it before leaving.
    pub fn navigate(&mut self, action: Action, len: usize) -> ListMove {
        match action {
            Action::Back if self.filter.is_empty() => return ListMove::Close,
            Action::Back => self.filter.clear(),
            Action::Filter => self.editing = true,
            Action::Up if self.selected == 0 => self.editing = true,
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => move_in(&mut self.selected, len, action),
            _ => return ListMove::NotMine,
        }
        ListMove::Handled
    }

    /// A key while the filter line has them: text, not actions (`q` is a letter here).
    pub fn edit(&mut self, key: KeyEvent) -> Edit {
        match key.code {
            KeyCode::Esc => {
                self.filter.clear();
                self.editing = false;
            }
            KeyCode::Enter => {
                self.editing = false;
                return Edit::Choose;
            }
            KeyCode::Down | KeyCode::Tab => self.editing = false,
            KeyCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c);
                self.selected = 0;
            }
            _ => {}
        }
        Edit::Typed
    }

    /// The keys of a picker over this list; `refresh` when it can list again.
    pub fn hints(&self, keymap: &Keymap, refresh: bool) -> Vec<(String, &'static str)> {
        if self.editing {
            return vec![
                ("type".into(), "to filter"),
                ("Enter".into(), "choose"),
                ("↓".into(), "list"),
                ("Esc".into(), "clear"),
            ];
        }
        let k = |a: Action| keymap.label(a);
        let mut out = vec![
            (move_keys(keymap), "move"),
            (k(Action::Select), "choose"),
            (k(Action::Filter), "filter"),
            (k(Action::Back), "back"),
        ];
        if refresh {
            out.push((k(Action::Rerun), "refresh"));
        }
        out.extend(help_and_quit(keymap));
        out
    }
}

/// Moves a cursor over `len` rows; every list and pane moves alike.
pub fn move_in(selected: &mut usize, len: usize, action: Action) {
    let last = len.saturating_sub(1);
    *selected = match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (*selected + 1).min(last),
        Action::PageUp => selected.saturating_sub(10),
        Action::PageDown => (*selected + 10).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => *selected,
    }
    .min(last);
}

/// Rows matching `pattern`, best match first (ties keep their order); all when empty.
pub fn fuzzy<T>(rows: Vec<T>, pattern: &str, text: impl Fn(&T) -> String) -> Vec<T> {
    if pattern.is_empty() {
        return rows;
    }
    let matcher = SkimMatcherV2::default().ignore_case();
    let mut scored: Vec<(i64, usize, T)> = rows
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| matcher.fuzzy_match(&text(&r), pattern).map(|s| (s, i, r)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, r)| r).collect()
}

pub fn filter_line(
    list: &FilteredList,
    keymap: &Keymap,
    theme: &Theme,
    what: &str,
) -> Line<'static> {
    if list.editing {
        Line::from(vec![
            Span::styled("/", theme.style(Slot::Key)),
            Span::raw(one_line(&list.filter)),
            Span::styled("█", theme.style(Slot::Accent)),
        ])
    } else if list.filter.is_empty() {
        Line::styled(
            format!("{} to filter {what}", keymap.label(Action::Filter)),
            theme.style(Slot::Muted),
        )
    } else {
        Line::from(vec![
            Span::styled("filter: ", theme.style(Slot::Muted)),
            Span::raw(one_line(&list.filter)),
        ])
    }
}

/// Rows `first..` that keep `selected` visible in `rows` lines.
pub fn window(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}
