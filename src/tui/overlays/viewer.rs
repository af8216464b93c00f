//! The evidence viewer: one item's text, scrolled and searched.

use crate::text::wrap_exact;
use crate::tui::keymap::{Action, Key, Keymap};
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::{fit, one_line};
use crate::tui::view::widgets::{move_keys, pane};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

#[derive(Clone, Debug)]
pub struct Viewer {
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: usize,
    pub search: String,
    pub searching: bool,
    /// Line numbers that match `search`.
    pub matches: Vec<usize>,
    /// The match the cursor is on.
    pub current: Option<usize>,
    /// Rows on screen.
    pub page: usize,
}

/// Text rows the viewer shows at a terminal height (header, hint lines and borders off).
fn page_at(height: u16) -> usize {
    (height as usize).saturating_sub(5).max(1)
}

impl Viewer {
    pub fn new(title: String, lines: Vec<String>) -> Viewer {
        Viewer {
            title,
            lines,
            scroll: 0,
            search: String::new(),
            searching: false,
            matches: Vec::new(),
            current: None,
            page: 19,
        }
    }

    /// The last page starts here: the end of the text fills the screen.
    fn max_scroll(&self) -> usize {
        self.lines.len().saturating_sub(self.page)
    }

    /// Shows match `i` with a few lines of context above it.
    fn show(&mut self, line: usize) {
        self.current = Some(line);
        self.scroll = line.saturating_sub(3).min(self.max_scroll());
    }

    fn run_search(&mut self) {
        let needle = self.search.to_lowercase();
        self.matches = if needle.is_empty() {
            Vec::new()
        } else {
            self.lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.to_lowercase().contains(&needle))
                .map(|(i, _)| i)
                .collect()
        };
        let from = self.scroll;
        if let Some(&first) = self
            .matches
            .iter()
            .find(|&&i| i >= from)
            .or(self.matches.first())
        {
            self.show(first);
        }
    }

    fn next_match(&mut self) {
        let after = self.current.unwrap_or(self.scroll);
        if let Some(&next) = self
            .matches
            .iter()
            .find(|&&i| i > after)
            .or(self.matches.first())
        {
            self.show(next);
        }
    }

    /// Paged for a terminal `height` rows high.
    pub fn fitted(mut self, height: u16) -> Viewer {
        self.resize(height);
        self
    }

    pub fn resize(&mut self, height: u16) {
        self.page = page_at(height);
    }

    /// A key; `false` when it closes the viewer. While a search is typed, keys are its
    /// text.
    pub fn on_key(&mut self, key: KeyEvent, keymap: &Keymap) -> bool {
        if self.searching {
            match key.code {
                KeyCode::Enter => {
                    self.searching = false;
                    self.run_search();
                }
                KeyCode::Esc => {
                    self.searching = false;
                    self.search.clear();
                    self.matches.clear();
                }
                KeyCode::Backspace => {
                    self.search.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.search.push(c)
                }
                _ => {}
            }
            return true;
        }
        match Key::from_event(&key).and_then(|k| keymap.action(&k)) {
            Some(Action::Back) if !self.matches.is_empty() => {
                self.matches.clear();
                self.search.clear();
                self.current = None;
            }
            Some(Action::Back) | Some(Action::Quit) => return false,
            Some(Action::Up) => self.scroll = self.scroll.saturating_sub(1),
            Some(Action::Down) => self.scroll = (self.scroll + 1).min(self.max_scroll()),
            Some(Action::PageUp) => self.scroll = self.scroll.saturating_sub(self.page),
            Some(Action::PageDown) => {
                self.scroll = (self.scroll + self.page).min(self.max_scroll())
            }
            Some(Action::Top) => self.scroll = 0,
            Some(Action::Bottom) => self.scroll = self.max_scroll(),
            Some(Action::Filter) => {
                self.searching = true;
                self.search.clear();
            }
            Some(Action::Select) => self.next_match(),
            _ => {}
        }
        true
    }

    pub fn hints(&self, keymap: &Keymap) -> Vec<(String, &'static str)> {
        let k = |a: Action| keymap.label(a);
        if self.searching {
            return vec![("Enter".into(), "find"), ("Esc".into(), "cancel")];
        }
        vec![
            (move_keys(keymap), "scroll"),
            (k(Action::Filter), "search"),
            (k(Action::Select), "next match"),
            (k(Action::Back), "close"),
        ]
    }

    pub fn draw(&self, frame: &mut Frame, body: Rect, theme: &Theme) {
        let area = body;
        frame.render_widget(Clear, area);
        let pos = format!(
            "{}/{}",
            (self.scroll + 1).min(self.lines.len()),
            self.lines.len()
        );
        let search = if self.searching {
            format!(" · /{}█", one_line(&self.search))
        } else if !self.search.is_empty() {
            format!(
                " · “{}” {} match(es)",
                one_line(&self.search),
                self.matches.len()
            )
        } else {
            String::new()
        };
        let title = fit(
            &format!(" {} · {pos}{search} ", one_line(&self.title)),
            area.width.saturating_sub(4) as usize,
        );
        let block = pane(title, true, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let width = inner.width as usize;
        let needle = self.search.to_lowercase();
        let room = inner.height as usize;
        let mut lines: Vec<Line> = Vec::new();
        // Long lines wrap (a log line must be readable whole); scrolling and search count
        // the lines of the text, not of the screen.
        for (i, l) in self.lines.iter().enumerate().skip(self.scroll) {
            let style = if !needle.is_empty() && self.matches.contains(&i) {
                theme.style(Slot::Selection)
            } else {
                ratatui::style::Style::default()
            };
            for row in wrap_exact(l, width) {
                if lines.len() >= room {
                    break;
                }
                lines.push(Line::styled(row, style));
            }
            if lines.len() >= room {
                break;
            }
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
