//! Every key, from the user's keymap, and those of the screen below.

use super::centered;
use crate::text::wrap;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::{cell, fit};
use crate::tui::view::widgets::pane;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

/// Whether a key closes the help (any other leaves it open).
pub fn closes(action: Option<Action>) -> bool {
    matches!(
        action,
        Some(Action::Back | Action::Help | Action::Quit | Action::Select)
    )
}

pub fn hints(keymap: &Keymap) -> Vec<(String, &'static str)> {
    vec![(keymap.label(Action::Back), "close")]
}

/// `here`: the keys of the screen below.
pub fn draw(
    frame: &mut Frame,
    body: Rect,
    keymap: &Keymap,
    here: Vec<(String, &'static str)>,
    theme: &Theme,
) {
    let area = centered(body, 76, body.height);
    frame.render_widget(Clear, area);
    let block = pane(" Keys (from your keymap) · Esc closes ", true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![Line::styled("On this screen", theme.style(Slot::Accent))];
    let here: Vec<String> = here
        .into_iter()
        .map(|(k, what)| format!("{k} {what}"))
        .collect();
    for l in wrap(&here.join(" · "), width, "  ") {
        lines.push(Line::raw(fit(&l, width)));
    }
    lines.push(Line::styled("Every action", theme.style(Slot::Accent)));
    // Pairs share a line so the whole keymap fits at 80×24.
    let pairs: [(Action, Option<Action>); 8] = [
        (Action::Up, Some(Action::Down)),
        (Action::PageUp, Some(Action::PageDown)),
        (Action::Top, Some(Action::Bottom)),
        (Action::Select, Some(Action::Back)),
        (Action::NextPane, Some(Action::Filter)),
        (Action::Rerun, Some(Action::Note)),
        (Action::Export, None),
        (Action::Help, Some(Action::Quit)),
    ];
    let half = width / 2;
    for (a, b) in pairs {
        let entry = |a: Action, w: usize| -> Vec<Span<'static>> {
            let keys = keymap.labels(a);
            vec![
                Span::styled(format!("  {keys} "), theme.style(Slot::Key)),
                Span::raw(cell(
                    a.describe(),
                    w.saturating_sub(keys.chars().count() + 3),
                )),
            ]
        };
        let mut spans = entry(a, half);
        if let Some(b) = b {
            spans.extend(entry(b, width - half));
        }
        lines.push(Line::from(spans));
    }
    let legend = "Symbols: ✓ true · ✗ false · ? unknown (with why) · » your answer · → hand-over · \
Δ changed since the last run · ▲ CRIT / ▲ WARN severity · ▲ CHANGES: a command that changes the cluster";
    for l in wrap(legend, width, "") {
        lines.push(Line::styled(fit(&l, width), theme.style(Slot::Muted)));
    }
    lines.push(Line::styled(
        fit(
            "Your keys: $XDG_CONFIG_HOME/ktriage/keys.toml (docs/themes-and-keys.md)",
            width,
        ),
        theme.style(Slot::Muted),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}
