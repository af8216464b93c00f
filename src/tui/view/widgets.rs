//! The pieces every part draws with: panes, rows, the spinner, the hints they share.
//! Below the parts, so each part's drawing can sit with its state.

use crate::tui::keymap::{Action, Keymap};
use crate::tui::theme::{Slot, Theme};
use chrono::{DateTime, Utc};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders};

/// A bordered pane, its border marked when it has the focus (bold in mono).
pub fn pane<'a>(title: impl Into<Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    let border = if focused {
        theme.style(Slot::BorderFocused)
    } else {
        theme.style(Slot::Border)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border)
        .title(title)
}

/// The style of a selected row, or of any row.
pub fn row_style(selected: bool, theme: &Theme) -> Style {
    if selected {
        theme.style(Slot::Selection)
    } else {
        Style::default()
    }
}

/// A spinner that moves with the clock, so a user sees the tool is alive.
pub fn spinner(now: DateTime<Utc>) -> &'static str {
    const FRAMES: [&str; 4] = ["|", "/", "-", "\\"];
    FRAMES[(now.timestamp_subsec_millis() / 250) as usize % 4]
}

/// The keys that move, as one hint.
pub fn move_keys(keymap: &Keymap) -> String {
    format!("{}{}", keymap.label(Action::Up), keymap.label(Action::Down))
}

/// The hints every screen ends with.
pub fn help_and_quit(keymap: &Keymap) -> [(String, &'static str); 2] {
    [
        (keymap.label(Action::Help), "help"),
        (keymap.label(Action::Quit), "quit"),
    ]
}
