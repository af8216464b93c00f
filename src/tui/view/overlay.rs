//! Windows over the screen: help, note input, quit confirmation, the evidence viewer.

use super::text::{cell, fit, one_line};
use super::{pane, screen_hints};
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
                            "▲ {} note(s) live only in this session and will be lost.",
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
    let area = centered(body, 76, body.height);
    frame.render_widget(Clear, area);
    let block = pane(" Keys (from your keymap) · Esc closes ", true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![Line::styled("On this screen", theme.style(Slot::Accent))];
    let here: Vec<String> = screen_hints(app, false)
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
            let keys = app.keymap.labels(a);
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

/// A line cut into rows of `width` columns without losing a character: rows after the
/// first start with `↪` and hold one column less.
pub fn wrap_exact(line: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(2);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    for c in line.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            rows.push(std::mem::take(&mut row));
            row.push('↪');
            used = 1;
        }
        row.push(c);
        used += w;
    }
    rows.push(row);
    rows
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
