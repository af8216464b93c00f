//! Windows over the screen: help, note input, quit confirmation, the evidence viewer.

use super::text::{cell, fit, one_line};
use super::{hints, pane};
use crate::text::wrap;
use crate::tui::app::{App, Overlay, Viewer};
use crate::tui::keymap::Action;
use crate::tui::theme::{Slot, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub fn draw(frame: &mut Frame, body: Rect, app: &App, overlay: &Overlay, theme: &Theme) {
    match overlay {
        Overlay::Help => help(frame, body, app, theme),
        Overlay::Note { input } => {
            let area = centered(body, 70, 5);
            frame.render_widget(Clear, area);
            let block = pane(" Add a note to the walk (timestamped) ", true, theme);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let width = inner.width as usize;
            // The end of a long note stays visible as it is typed.
            let shown: String = {
                let s = one_line(input);
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
        Overlay::ConfirmQuit => {
            let area = centered(body, 56, 6);
            frame.render_widget(Clear, area);
            let block = pane(" Quit? ", true, theme);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            frame.render_widget(
                Paragraph::new(vec![
                    Line::styled(
                        format!(
                            "▲ {} note(s) were not exported and will be lost.",
                            app.notes.len()
                        ),
                        theme.style(Slot::Warn),
                    ),
                    Line::raw(""),
                    Line::from(vec![
                        Span::styled("y", theme.style(Slot::Key)),
                        Span::raw(" quit anyway   "),
                        Span::styled("n", theme.style(Slot::Key)),
                        Span::raw(" stay"),
                    ]),
                ]),
                inner,
            );
        }
        Overlay::Message { title, text } => {
            let area = centered(body, 64, 8);
            frame.render_widget(Clear, area);
            let block = pane(format!(" {title} "), true, theme);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let lines: Vec<Line> = wrap(text, inner.width as usize, "")
                .into_iter()
                .map(Line::raw)
                .collect();
            frame.render_widget(Paragraph::new(lines), inner);
        }
        Overlay::Viewer(v) => viewer(frame, body, v, theme),
    }
}

fn help(frame: &mut Frame, body: Rect, app: &App, theme: &Theme) {
    let area = centered(body, 72, body.height);
    frame.render_widget(Clear, area);
    let block = pane(" Keys (from your keymap) ", true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![Line::styled("Here", theme.style(Slot::Accent))];
    let here: Vec<String> = hints(app)
        .into_iter()
        .map(|(k, what)| format!("{k} {what}"))
        .collect();
    for l in wrap(&here.join(" · "), width, "  ") {
        lines.push(Line::raw(fit(&l, width)));
    }
    lines.push(Line::styled("Everywhere", theme.style(Slot::Accent)));
    for a in Action::ALL {
        lines.push(Line::from(vec![
            Span::styled(
                cell(&format!("  {}", app.keymap.labels(a)), 18),
                theme.style(Slot::Key),
            ),
            Span::raw(fit(a.describe(), width.saturating_sub(18))),
        ]));
    }
    lines.push(Line::styled(
        fit("Symbols: ✓ true/ok  ✗ false  ? unknown  ▲ severity  » answered  → hand-over  Δ changed", width),
        theme.style(Slot::Muted),
    ));
    lines.push(Line::styled(
        fit(
            "Override keys in $XDG_CONFIG_HOME/ktriage/keys.toml · Esc closes",
            width,
        ),
        theme.style(Slot::Muted),
    ));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn viewer(frame: &mut Frame, body: Rect, v: &Viewer, theme: &Theme) {
    let area = body;
    frame.render_widget(Clear, area);
    let pos = format!("{}/{}", (v.scroll + 1).min(v.lines.len()), v.lines.len());
    let search = if v.searching {
        format!(" · /{}█", one_line(&v.search))
    } else if !v.search.is_empty() {
        format!(" · “{}” {} match(es)", one_line(&v.search), v.matches.len())
    } else {
        String::new()
    };
    let title = fit(
        &format!(" {} · {pos}{search} ", one_line(&v.title)),
        area.width.saturating_sub(4) as usize,
    );
    let block = pane(title, true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let needle = v.search.to_lowercase();
    let room = inner.height as usize;
    let mut lines: Vec<Line> = Vec::new();
    // Long lines wrap (a log line must be readable whole); scrolling and search count
    // the lines of the text, not of the screen.
    for (i, l) in v.lines.iter().enumerate().skip(v.scroll) {
        let style = if !needle.is_empty() && v.matches.contains(&i) {
            theme.style(Slot::Selection)
        } else {
            ratatui::style::Style::default()
        };
        let chars: Vec<char> = l.chars().collect();
        let chunks: Vec<String> = if chars.is_empty() {
            vec![String::new()]
        } else {
            chars
                .chunks(width.max(1))
                .map(|c| c.iter().collect())
                .collect()
        };
        for (j, chunk) in chunks.into_iter().enumerate() {
            if lines.len() >= room {
                break;
            }
            let text = if j == 0 { chunk } else { format!("↪{chunk}") };
            lines.push(Line::styled(fit(&text, width), style));
        }
        if lines.len() >= room {
            break;
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
