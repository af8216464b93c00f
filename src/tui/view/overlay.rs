//! Windows over the screen: help, note input, quit confirmation, the evidence viewer,
//! the export.

use super::text::{cell, fit, one_line};
use super::{pane, screen_hints, spinner};
use crate::text::{kubectl_duration, sanitize, wrap, wrap_exact};
use crate::tui::app::{App, ExportState, ExportSummary, Overlay, Viewer};
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
            let area = centered(body, 60, 7);
            frame.render_widget(Clear, area);
            let block = pane(" Quit? ", true, theme);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            let export = app.keymap.label(Action::Export);
            frame.render_widget(
                Paragraph::new(vec![
                    Line::styled(
                        format!(
                            "▲ {} note(s) are in no bundle yet and will be lost.",
                            app.case.unexported()
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
        Overlay::Export => export(frame, body, app, theme),
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

/// Up to `width` columns of text cut into rows, every character kept (paths must be
/// read whole), each row sanitised.
fn exact_rows(s: &str, width: usize) -> Vec<String> {
    wrap_exact(&one_line(s), width)
}

/// Untrusted prose wrapped to `width`, each row sanitised and cut to fit.
fn prose(s: &str, width: usize) -> Vec<String> {
    wrap(&sanitize(s), width, "")
        .into_iter()
        .map(|l| fit(&one_line(&l), width))
        .collect()
}

/// The export: what it will write (Enter starts), its progress (Esc cancels), what it
/// wrote or why nothing was.
fn export(frame: &mut Frame, body: Rect, app: &App, theme: &Theme) {
    let width = body.width.min(78);
    let inner_width = width.saturating_sub(2) as usize;
    let key = |a: Action| app.keymap.label(a);
    let muted = theme.style(Slot::Muted);
    let mut lines: Vec<Line> = Vec::new();
    let dir = app.export_dir.display().to_string();
    let title = match &app.export {
        None | Some(ExportState::Ready) => {
            let (walks, notes) = (app.case.walks.len(), app.case.notes.len());
            for l in prose(
                &format!(
                    "Writes what this session's {walks} walk(s) read, a baseline of the \
cluster, the walk records, your {notes} note(s) and a postmortem report — redacted — into one \
file:"
                ),
                inner_width,
            ) {
                lines.push(Line::raw(l));
            }
            // Named when it is written: the time is not promised to the second.
            let file = format!(
                "ktriage-{}-<time>.tar.gz",
                app.source
                    .cluster
                    .as_deref()
                    .or(app.source.context.as_deref())
                    .unwrap_or("cluster")
            );
            lines.push(Line::styled(
                fit(&format!("  {}", one_line(&file)), inner_width),
                theme.style(Slot::Accent),
            ));
            for (i, row) in exact_rows(&dir, inner_width.saturating_sub(5))
                .into_iter()
                .enumerate()
            {
                let lead = if i == 0 { "  in " } else { "     " };
                lines.push(Line::raw(format!("{lead}{row}")));
            }
            lines.push(Line::raw(""));
            if app.case.walks.is_empty() {
                lines.push(Line::styled(
                    fit(
                        "No walk yet: the bundle holds the baseline and notes.",
                        inner_width,
                    ),
                    muted,
                ));
            }
            const SHOWN: usize = 5;
            for w in app.case.walks.iter().take(SHOWN) {
                // The conclusion before the target: a long name is what gets cut.
                let end = match &w.record.conclusion {
                    Some(c) => format!("→ {}", c.code),
                    None => format!("({:?})", w.record.status).to_lowercase(),
                };
                lines.push(Line::raw(fit(
                    &one_line(&format!(
                        "  {} {end} · {}",
                        w.runbook,
                        w.target.as_deref().unwrap_or("(cluster)")
                    )),
                    inner_width,
                )));
            }
            if app.case.walks.len() > SHOWN {
                lines.push(Line::styled(
                    format!("  … and {} more", app.case.walks.len() - SHOWN),
                    muted,
                ));
            }
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled(key(Action::Select), theme.style(Slot::Key)),
                Span::styled(" starts · ", muted),
                Span::styled(key(Action::Back), theme.style(Slot::Key)),
                Span::styled(" closes", muted),
            ]));
            " Export an evidence bundle ".to_string()
        }
        Some(ExportState::Running {
            since,
            progress,
            cancelling,
            ..
        }) => {
            let elapsed = kubectl_duration(app.now - *since);
            // The newest lines, as many as fit above the last two.
            let room = (body.height as usize).saturating_sub(2 + 3).max(1);
            let skip = progress.len().saturating_sub(room);
            for (i, l) in progress.iter().enumerate().skip(skip) {
                let last = i + 1 == progress.len();
                let mark = if last { spinner(app) } else { "✓" };
                lines.push(Line::raw(fit(
                    &format!("{mark} {}", one_line(l)),
                    inner_width,
                )));
            }
            if progress.is_empty() {
                lines.push(Line::raw(format!("{} starting", spinner(app))));
            }
            lines.push(Line::raw(""));
            if *cancelling {
                lines.push(Line::styled(
                    fit("cancelling… nothing will be written", inner_width),
                    theme.style(Slot::Warn),
                ));
            } else {
                lines.push(Line::from(vec![
                    Span::styled(key(Action::Back), theme.style(Slot::Key)),
                    Span::styled(" cancels (nothing is written)", muted),
                ]));
            }
            format!(" Exporting · {elapsed} ")
        }
        Some(ExportState::Done {
            result: Ok(summary),
            took,
            ..
        }) => {
            done_lines(&mut lines, summary, &dir, inner_width, theme);
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled(key(Action::Back), theme.style(Slot::Key)),
                Span::styled(" closes", muted),
            ]));
            format!(" Evidence bundle written · {} ", kubectl_duration(*took))
        }
        Some(ExportState::Done {
            result: Err(reason),
            cancelled,
            took,
        }) => {
            let (text, slot) = if *cancelled {
                (
                    format!(
                        "✗ Cancelled after {}: {} was pressed.",
                        kubectl_duration(*took),
                        key(Action::Back)
                    ),
                    Slot::Warn,
                )
            } else {
                (format!("✗ Failed: {reason}"), Slot::Fail)
            };
            for l in prose(&text, inner_width) {
                lines.push(Line::styled(l, theme.style(slot)));
            }
            lines.push(Line::raw("Nothing was written to"));
            for row in exact_rows(&dir, inner_width.saturating_sub(2)) {
                lines.push(Line::raw(format!("  {row}")));
            }
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![
                Span::styled(key(Action::Back), theme.style(Slot::Key)),
                Span::styled(" closes · ", muted),
                Span::styled(key(Action::Export), theme.style(Slot::Key)),
                Span::styled(" tries again", muted),
            ]));
            if *cancelled {
                " Export cancelled ".to_string()
            } else {
                " Export failed ".to_string()
            }
        }
    };
    let height = (lines.len() as u16 + 2).min(body.height);
    let area = centered(body, width, height);
    frame.render_widget(Clear, area);
    let block = pane(fit(&title, inner_width), true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Where the bundle is, what it holds, and the commands that open and check it.
fn done_lines(
    lines: &mut Vec<Line<'static>>,
    summary: &ExportSummary,
    dir: &str,
    width: usize,
    theme: &Theme,
) {
    let path = summary.path.display().to_string();
    lines.push(Line::styled("✓ Written:", theme.style(Slot::Ok)));
    for row in exact_rows(&path, width.saturating_sub(2)) {
        lines.push(Line::raw(format!("  {row}")));
    }
    lines.push(Line::raw(format!(
        "  {} KiB · {} file(s)",
        summary.bytes.div_ceil(1024),
        summary.files
    )));
    let problems = format!("{} collection problem(s) — see errors.json", summary.errors);
    if summary.errors > 0 {
        lines.push(Line::styled(
            format!("▲ {problems}"),
            theme.style(Slot::Warn),
        ));
    } else {
        lines.push(Line::raw(format!("· {problems}")));
    }
    lines.push(Line::raw(format!(
        "· {} redaction(s) — see redactions.json",
        summary.redactions
    )));
    lines.push(Line::raw(""));
    // Whole commands, to copy: with the full path when it fits, else from its folder.
    let shown = one_line(&path);
    let fits = format!("  ktriage bundle verify {shown}").chars().count() <= width;
    let arg = if fits {
        shown
    } else {
        let name = summary
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let folder = summary
            .path
            .parent()
            .map_or_else(|| dir.to_string(), |p| p.display().to_string());
        lines.push(Line::styled(
            fit(&format!("From {}:", one_line(&folder)), width),
            theme.style(Slot::Muted),
        ));
        one_line(&name)
    };
    for cmd in ["ktriage open", "ktriage bundle verify"] {
        lines.push(Line::styled(
            fit(&format!("  {cmd} {arg}"), width),
            theme.style(Slot::Accent),
        ));
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
