//! The note being typed: Enter files it in the case file (the app says where it was
//! written), Esc drops it.

use super::centered;
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::one_line;
use crate::tui::view::widgets::pane;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

#[derive(Clone, Debug, Default)]
pub struct NoteInput {
    pub input: String,
}

/// What a key did to the note.
pub enum NoteKey {
    Typing,
    Cancel,
    /// Enter: the text as typed, trimmed (empty when nothing was).
    Save(String),
}

impl NoteInput {
    pub fn on_key(&mut self, key: KeyEvent) -> NoteKey {
        match key.code {
            KeyCode::Enter => return NoteKey::Save(self.input.trim().to_string()),
            KeyCode::Esc => return NoteKey::Cancel,
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(c);
            }
            _ => {}
        }
        NoteKey::Typing
    }

    pub fn hints() -> Vec<(String, &'static str)> {
        vec![("Enter".into(), "save note"), ("Esc".into(), "cancel")]
    }

    pub fn draw(&self, frame: &mut Frame, body: Rect, theme: &Theme) {
        let area = centered(body, 70, 5);
        frame.render_widget(Clear, area);
        let block = pane(" Add a note to the walk (timestamped) ", true, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let width = inner.width as usize;
        // The end of a long note stays visible as it is typed.
        let shown: String = {
            let s = one_line(&self.input);
            let n = s.chars().count();
            s.chars()
                .skip(n.saturating_sub(width.saturating_sub(2)))
                .collect()
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(vec![
                    Span::raw(shown),
                    Span::styled("█", theme.style(Slot::Accent)),
                ]),
                Line::raw(""),
                Line::styled("Enter saves · Esc cancels", theme.style(Slot::Muted)),
            ]),
            inner,
        );
    }
}
