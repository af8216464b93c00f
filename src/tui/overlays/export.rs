//! The export: what it will write (Enter starts), its progress (Esc cancels), and what
//! it wrote or why nothing was. The overlay stays while the export runs, so its state is
//! the export's.

use super::centered;
use crate::evidence::casefile::Casefile;
use crate::text::{kubectl_duration, sanitize, wrap, wrap_exact};
use crate::tui::keymap::{Action, Keymap};
use crate::tui::msg::{ExportSummary, Job};
use crate::tui::shared::Shared;
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::{fit, one_line};
use crate::tui::view::widgets::{pane, spinner};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use std::path::Path;

/// Where the export overlay is.
#[derive(Clone, Debug)]
pub enum ExportState {
    /// Says what will be written; Enter starts.
    Ready,
    Running {
        since: DateTime<Utc>,
        /// Progress lines as they came.
        progress: Vec<String>,
        /// Esc was pressed: the runner was asked to stop.
        cancelling: bool,
        /// Notes in the bundle (the first `notes` of the session's).
        notes: usize,
    },
    Done {
        result: Result<ExportSummary, String>,
        /// Esc stopped it.
        cancelled: bool,
        took: chrono::TimeDelta,
    },
}

/// What a key did to the export.
pub enum ExportKey {
    Stay(Vec<Job>),
    Close,
}

impl ExportState {
    /// Ready: Enter writes the case file as it stands into `dir`. Running: only Esc does
    /// something (it asks the runner to stop); the overlay stays until the export ends.
    pub fn on_action(
        &mut self,
        action: Option<Action>,
        case: &Casefile,
        dir: &Path,
        now: DateTime<Utc>,
    ) -> ExportKey {
        match (&mut *self, action) {
            (ExportState::Ready, Some(Action::Select)) => {
                *self = ExportState::Running {
                    since: now,
                    progress: Vec::new(),
                    cancelling: false,
                    notes: case.notes.len(),
                };
                return ExportKey::Stay(vec![Job::Export {
                    case: case.clone(),
                    dir: dir.to_path_buf(),
                }]);
            }
            (ExportState::Running { cancelling, .. }, Some(Action::Back)) if !*cancelling => {
                *cancelling = true;
                return ExportKey::Stay(vec![Job::CancelExport]);
            }
            (ExportState::Running { .. }, _) => {}
            (_, Some(Action::Back | Action::Quit | Action::Select)) => return ExportKey::Close,
            _ => {}
        }
        ExportKey::Stay(Vec::new())
    }

    pub fn progress(&mut self, line: String) {
        if let ExportState::Running { progress, .. } = self {
            progress.push(line);
        }
    }

    /// The export ended. Written, it returns how many notes the bundle holds.
    pub fn exported(
        &mut self,
        result: Result<ExportSummary, String>,
        now: DateTime<Utc>,
    ) -> Option<usize> {
        let ExportState::Running {
            since,
            cancelling,
            notes,
            ..
        } = *self
        else {
            return None;
        };
        let written = result.is_ok().then_some(notes);
        *self = ExportState::Done {
            cancelled: cancelling && result.is_err(),
            result,
            took: now - since,
        };
        written
    }

    pub fn hints(&self, keymap: &Keymap) -> Vec<(String, &'static str)> {
        let k = |a: Action| keymap.label(a);
        match self {
            ExportState::Running {
                cancelling: true, ..
            } => Vec::new(),
            ExportState::Running { .. } => vec![(k(Action::Back), "cancel")],
            ExportState::Done { .. } => vec![(k(Action::Back), "close")],
            ExportState::Ready => vec![(k(Action::Select), "start"), (k(Action::Back), "close")],
        }
    }

    pub fn draw(
        &self,
        frame: &mut Frame,
        body: Rect,
        shared: &Shared,
        case: &Casefile,
        dir: &Path,
        theme: &Theme,
    ) {
        let width = body.width.min(78);
        let inner_width = width.saturating_sub(2) as usize;
        let key = |a: Action| shared.keymap.label(a);
        let muted = theme.style(Slot::Muted);
        let mut lines: Vec<Line> = Vec::new();
        let dir = dir.display().to_string();
        let title = match self {
            ExportState::Ready => {
                let (walks, notes) = (case.walks.len(), case.notes.len());
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
                    shared
                        .source
                        .cluster
                        .as_deref()
                        .or(shared.source.context.as_deref())
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
                if case.walks.is_empty() {
                    lines.push(Line::styled(
                        fit(
                            "No walk yet: the bundle holds the baseline and notes.",
                            inner_width,
                        ),
                        muted,
                    ));
                }
                const SHOWN: usize = 5;
                for w in case.walks.iter().take(SHOWN) {
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
                if case.walks.len() > SHOWN {
                    lines.push(Line::styled(
                        format!("  … and {} more", case.walks.len() - SHOWN),
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
            ExportState::Running {
                since,
                progress,
                cancelling,
                ..
            } => {
                let elapsed = kubectl_duration(shared.now - *since);
                // The newest lines, as many as fit above the last two.
                let room = (body.height as usize).saturating_sub(2 + 3).max(1);
                let skip = progress.len().saturating_sub(room);
                for (i, l) in progress.iter().enumerate().skip(skip) {
                    let last = i + 1 == progress.len();
                    let mark = if last { spinner(shared.now) } else { "✓" };
                    lines.push(Line::raw(fit(
                        &format!("{mark} {}", one_line(l)),
                        inner_width,
                    )));
                }
                if progress.is_empty() {
                    lines.push(Line::raw(format!("{} starting", spinner(shared.now))));
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
            ExportState::Done {
                result: Ok(summary),
                took,
                ..
            } => {
                done_lines(&mut lines, summary, &dir, inner_width, theme);
                lines.push(Line::raw(""));
                lines.push(Line::from(vec![
                    Span::styled(key(Action::Back), theme.style(Slot::Key)),
                    Span::styled(" closes", muted),
                ]));
                format!(" Evidence bundle written · {} ", kubectl_duration(*took))
            }
            ExportState::Done {
                result: Err(reason),
                cancelled,
                took,
            } => {
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
