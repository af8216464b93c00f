//! Quitting with notes no bundle holds: asks first, and offers the export.

use super::centered;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::widgets::pane;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// What the answer was.
pub enum QuitKey {
    Quit,
    Export,
    Stay,
}

pub fn on_key(key: KeyEvent, action: Option<Action>) -> QuitKey {
    match key.code {
        KeyCode::Char('y') | KeyCode::Char('Y') => QuitKey::Quit,
        _ if action == Some(Action::Export) => QuitKey::Export,
        _ => QuitKey::Stay,
    }
}

pub fn hints(keymap: &Keymap) -> Vec<(String, &'static str)> {
    vec![
        ("y".into(), "quit"),
        (keymap.label(Action::Export), "export"),
        ("n".into(), "stay"),
    ]
}

/// `unexported`: the notes that would be lost.
pub fn draw(frame: &mut Frame, body: Rect, keymap: &Keymap, unexported: usize, theme: &Theme) {
    let area = centered(body, 60, 7);
    frame.render_widget(Clear, area);
    let block = pane(" Quit? ", true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let export = keymap.label(Action::Export);
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(
                format!(
                    "▲ {} note(s) are in no bundle yet and will be lost.",
                    unexported
                ),
                theme.style(Slot::Warn),
            ),
            Line::raw(format!("Press {export} to export them first.")),
            Line::raw(""),
            Line::from(vec![
                Span::styled("y", theme.style(Slot::Key)),
                Span::raw(" quit anyway   "),
                Span::styled(export, theme.style(Slot::Key)),
                Span::raw(" export   "),
                Span::styled("n", theme.style(Slot::Key)),
                Span::raw(" stay"),
            ]),
        ]),
        inner,
    );
}
