//! The walk: the path taken (and where it stopped), the selected step's detail, and the
//! evidence gathered. [`WalkScreen`] is the screen's state of one walk under way; what
//! it files in the case file when a walk comes back is a `CaseWalk`, and the engine's
//! own account of the walk a `WalkRecord` (see `evidence::casefile` for the names).

use super::Step;
use super::home::severity_label;
use super::list::move_in;
use crate::evidence::casefile::{CaseWalk, Note};
use crate::facts::{FactQuery, FactResult};
use crate::runbook::format::Severity;
use crate::runbook::model::StepKind;
use crate::runbook::record::{FollowUp, Outcome, Status, StepRecord, WalkRecord};
use crate::text::{columns, fill, wrap};
use crate::tui::keymap::{Action, Keymap};
use crate::tui::msg::Job;
use crate::tui::overlays::viewer::Viewer;
use crate::tui::shared::Shared;
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::{
    ago, cell, fit, lines as text_lines, one_line, render_answer, summarize_answer,
};
use crate::tui::view::widgets::{help_and_quit, move_keys, pane, row_style, spinner};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkPane {
    Path,
    Detail,
    Evidence,
}

#[derive(Clone, Debug)]
pub struct WalkScreen {
    /// The walk job this screen waits for: an answer to an older one is dropped.
    pub seq: u64,
    pub runbook: String,
    pub target: Option<String>,
    /// Answers in the order given, so a back-track drops what came after.
    pub answers: Vec<(String, String)>,
    pub record: Option<WalkRecord>,
    pub facts: Vec<(FactQuery, FactResult)>,
    /// Steps (`runbook/step`) whose outcome or reason differs from the run before `r`.
    pub changed: BTreeSet<String>,
    pub running_since: Option<DateTime<Utc>>,
    pub ran_at: Option<DateTime<Utc>>,
    pub runs: usize,
    pub focus: WalkPane,
    pub path_selected: usize,
    pub choice_selected: usize,
    pub detail_scroll: u16,
    pub evidence_selected: usize,
    /// Walks this one followed from (`runbook target → CODE`).
    pub trail: Vec<String>,
    /// The answer given before a back-track, shown beside the question again.
    pub previous_answer: Option<String>,
}

impl WalkScreen {
    /// A new walk with no answers yet, and the job that walks it.
    pub fn start(
        seq: u64,
        runbook: String,
        target: Option<String>,
        trail: Vec<String>,
        now: DateTime<Utc>,
    ) -> (WalkScreen, Job) {
        let job = Job::Walk {
            seq,
            runbook: runbook.clone(),
            target: target.clone(),
            answers: BTreeMap::new(),
            fresh: false,
        };
        let walk = WalkScreen {
            seq,
            runbook,
            target,
            answers: Vec::new(),
            record: None,
            facts: Vec::new(),
            changed: BTreeSet::new(),
            running_since: Some(now),
            ran_at: None,
            runs: 0,
            focus: WalkPane::Path,
            path_selected: 0,
            choice_selected: 0,
            detail_scroll: 0,
            evidence_selected: 0,
            trail,
            previous_answer: None,
        };
        (walk, job)
    }

    /// Walks again as job `seq` with the answers as they stand now.
    pub fn rewalk(&mut self, seq: u64, fresh: bool, now: DateTime<Utc>) -> Job {
        self.seq = seq;
        self.running_since = Some(now);
        if !fresh {
            // A new answer is a new walk of the same data: nothing "changed".
            self.runs = 0;
        }
        Job::Walk {
            seq,
            runbook: self.runbook.clone(),
            target: self.target.clone(),
            answers: self.answers.iter().cloned().collect(),
            fresh,
        }
    }

    /// The walk came back: the cursor goes where it is wanted (the question, or the
    /// conclusion), and the walk as it now stands is what the case file should hold.
    pub fn walked(
        &mut self,
        record: WalkRecord,
        facts: Vec<(FactQuery, FactResult)>,
        at: DateTime<Utc>,
    ) -> CaseWalk {
        self.changed = match &self.record {
            Some(old) if self.runs > 0 => changed_steps(old, &record),
            _ => BTreeSet::new(),
        };
        let waiting = record.status == Status::NeedsInput;
        self.path_selected = rows_of(&record).saturating_sub(1);
        self.facts = facts;
        self.running_since = None;
        self.ran_at = Some(at);
        self.runs += 1;
        self.detail_scroll = 0;
        self.choice_selected = 0;
        if let (Some(prev), Some(q)) = (&self.previous_answer, record.question.as_ref())
            && let Some(i) = q.choices.iter().position(|c| &c.id == prev)
        {
            self.choice_selected = i;
        }
        // A question wants an answer: put the cursor on its choices.
        self.focus = if waiting {
            WalkPane::Detail
        } else {
            WalkPane::Path
        };
        self.record = Some(record.clone());
        CaseWalk {
            runbook: self.runbook.clone(),
            target: self.target.clone(),
            answers: self.answers.iter().cloned().collect(),
            record,
        }
    }

    /// The walk and target a note written here belongs to.
    pub fn key(&self) -> (String, Option<String>) {
        (self.runbook.clone(), self.target.clone())
    }

    /// `runbook target · step`: where on the walk a note was written.
    pub fn note_context(&self) -> String {
        let step = self
            .record
            .as_ref()
            .and_then(|r| r.path.get(self.path_selected))
            .map(|s| format!(" · {}", s.step))
            .unwrap_or_default();
        format!(
            "{} {}{step}",
            self.runbook,
            self.target.as_deref().unwrap_or("(cluster)")
        )
    }

    pub fn on_action(&mut self, action: Action, shared: &Shared, notes: &[Note]) -> Step {
        if action == Action::Rerun {
            return Step::Rewalk {
                fresh: true,
                flash: None,
            };
        }
        if action == Action::Back {
            if self.focus != WalkPane::Path {
                self.focus = WalkPane::Path;
                return Step::Stay;
            }
            return Step::Home;
        }
        if action == Action::NextPane {
            self.focus = match self.focus {
                WalkPane::Path => WalkPane::Detail,
                WalkPane::Detail => WalkPane::Evidence,
                WalkPane::Evidence => WalkPane::Path,
            };
            return Step::Stay;
        }
        let Some(record) = self.record.clone() else {
            return Step::Stay;
        };
        match self.focus {
            WalkPane::Path => match action {
                Action::Select => {
                    let Some(step) = record.path.get(self.path_selected) else {
                        // The conclusion row: read it, or follow it to the next runbook.
                        if let Some(follow) =
                            record.conclusion.as_ref().and_then(|c| c.follow_up.clone())
                        {
                            let code = record
                                .conclusion
                                .as_ref()
                                .map(|c| c.code.clone())
                                .unwrap_or_default();
                            let mut trail = self.trail.clone();
                            trail.push(format!(
                                "{} {} → {code}",
                                self.runbook,
                                self.target.as_deref().unwrap_or("(cluster)")
                            ));
                            return Step::Walk {
                                runbook: follow.runbook,
                                target: follow.target,
                                trail,
                            };
                        }
                        self.focus = WalkPane::Detail;
                        return Step::Stay;
                    };
                    match step.outcome {
                        Outcome::Answered => {
                            // Back-track: forget this answer and every later one, and ask again.
                            let key = format!("{}/{}", step.runbook, step.step);
                            if let Some(i) = self.answers.iter().position(|(k, _)| *k == key) {
                                self.previous_answer = Some(self.answers[i].1.clone());
                                self.answers.truncate(i);
                            }
                            return Step::Rewalk {
                                fresh: false,
                                flash: Some(format!(
                                    "back to “{}”: choose again",
                                    crate::text::sanitize(&step.title)
                                )),
                            };
                        }
                        _ => self.focus = WalkPane::Detail,
                    }
                }
                a => {
                    let rows = rows_of(&record);
                    move_in(&mut self.path_selected, rows, a);
                    self.detail_scroll = 0;
                }
            },
            WalkPane::Detail => {
                let page = shared.viewport.1.saturating_sub(12).max(1);
                let asking = self.asking();
                let choices = record.question.as_ref().map_or(0, |q| q.choices.len());
                match action {
                    Action::Select if asking => {
                        let Some(q) = &record.question else {
                            return Step::Stay;
                        };
                        let Some(choice) = q.choices.get(self.choice_selected) else {
                            return Step::Stay;
                        };
                        let key = format!("{}/{}", q.runbook, q.step);
                        self.answers.retain(|(k, _)| *k != key);
                        self.answers.push((key, choice.id.clone()));
                        self.previous_answer = None;
                        return Step::Rewalk {
                            fresh: false,
                            flash: Some(format!(
                                "answered: {}",
                                crate::text::sanitize(&choice.label)
                            )),
                        };
                    }
                    Action::Up | Action::Down | Action::Top | Action::Bottom if asking => {
                        move_in(&mut self.choice_selected, choices, action)
                    }
                    Action::Up => self.detail_scroll = self.detail_scroll.saturating_sub(1),
                    Action::Down => self.detail_scroll = self.detail_scroll.saturating_add(1),
                    Action::PageUp => self.detail_scroll = self.detail_scroll.saturating_sub(page),
                    Action::PageDown => {
                        self.detail_scroll = self.detail_scroll.saturating_add(page)
                    }
                    Action::Top => self.detail_scroll = 0,
                    // The view clamps this to the last page.
                    Action::Bottom => self.detail_scroll = u16::MAX,
                    _ => {}
                }
            }
            WalkPane::Evidence => {
                let items = evidence_items(self, notes, Some(self.evidence_selected));
                match action {
                    Action::Select => {
                        if let Some(item) = items.get(self.evidence_selected) {
                            let viewer = Viewer::new(item.title.clone(), item.body.clone())
                                .fitted(shared.viewport.1);
                            return Step::View(viewer);
                        }
                    }
                    a => move_in(&mut self.evidence_selected, items.len(), a),
                }
            }
        }
        Step::Stay
    }

    /// The keys that do something here: what Enter does depends on the row under it.
    pub fn hints(&self, keymap: &Keymap) -> Vec<(String, &'static str)> {
        let k = |a: Action| keymap.label(a);
        let mut out = vec![(move_keys(keymap), "move")];
        match self.focus {
            WalkPane::Path => {
                let answered = self
                    .selected_step()
                    .is_some_and(|s| s.outcome == Outcome::Answered);
                let select = if answered {
                    "answer again"
                } else if self.follow_up().is_some() {
                    "next runbook"
                } else {
                    "details"
                };
                out.push((k(Action::Select), select));
            }
            WalkPane::Detail if self.asking() => out.push((k(Action::Select), "answer")),
            WalkPane::Detail => {}
            WalkPane::Evidence => out.push((k(Action::Select), "view")),
        }
        out.push((k(Action::NextPane), "pane"));
        out.push((k(Action::Rerun), "re-run"));
        out.push((k(Action::Note), "note"));
        out.push((k(Action::Export), "export"));
        out.push((k(Action::Back), "back"));
        out.extend(help_and_quit(keymap));
        out
    }
    /// The step under the path cursor (`None` on the conclusion row).
    pub fn selected_step(&self) -> Option<&StepRecord> {
        self.record.as_ref()?.path.get(self.path_selected)
    }

    /// The cursor is on the question the walk waits for.
    pub fn asking(&self) -> bool {
        self.selected_step()
            .is_some_and(|s| s.outcome == Outcome::AwaitingAnswer)
    }

    /// The cursor is on a conclusion that continues in another runbook.
    pub fn follow_up(&self) -> Option<&FollowUp> {
        let record = self.record.as_ref()?;
        if self.path_selected != record.path.len() {
            return None;
        }
        record.conclusion.as_ref()?.follow_up.as_ref()
    }
}

/// Rows of the path pane: every step, plus the conclusion or the reason there is none
/// (a question is already the last step).
pub fn rows_of(record: &WalkRecord) -> usize {
    record.path.len() + usize::from(record.status != Status::NeedsInput)
}

fn changed_steps(old: &WalkRecord, new: &WalkRecord) -> BTreeSet<String> {
    let before: BTreeMap<String, (Outcome, &str)> = old
        .path
        .iter()
        .map(|s| {
            (
                format!("{}/{}", s.runbook, s.step),
                (s.outcome, s.reason.as_str()),
            )
        })
        .collect();
    new.path
        .iter()
        .filter(|s| {
            let key = format!("{}/{}", s.runbook, s.step);
            before.get(&key) != Some(&(s.outcome, s.reason.as_str()))
        })
        .map(|s| format!("{}/{}", s.runbook, s.step))
        .collect()
}

/// One entry of the evidence pane and what its viewer shows.
#[derive(Clone, Debug)]
pub struct EvidenceItem {
    pub title: String,
    /// `ok`, `forbidden`, ... : what the list shows beside the title.
    pub status: String,
    pub failed: bool,
    pub body: Vec<String>,
}

/// Facts the walk read (with their answers) and the session's notes.
///
/// Only item `open`'s body is rendered (YAML of thousands of objects is not free, and
/// the list is drawn on every frame); the others' bodies are empty.
pub fn evidence_items(walk: &WalkScreen, notes: &[Note], open: Option<usize>) -> Vec<EvidenceItem> {
    let mut items = Vec::new();
    if let Some(record) = &walk.record {
        // Facts computed from other facts are reasoning, not evidence: only what was read.
        for f in record.facts.iter().filter(|f| !f.queries.is_empty()) {
            let with_body = open == Some(items.len());
            let mut body = Vec::new();
            if let Some(d) = &f.description {
                body.extend(text_lines(d));
            }
            for c in &f.commands {
                body.push(format!("$ {}", one_line(c)));
            }
            let mut status = String::from("ok");
            let mut failed = false;
            for q in &f.queries {
                body.push(String::new());
                body.push(format!("── {}", one_line(&q.to_string())));
                match walk.facts.iter().find(|(k, _)| k == q).map(|(_, v)| v) {
                    Some(Ok(v)) => {
                        status = summarize_answer(q, v);
                        if with_body {
                            body.extend(render_answer(v));
                        }
                    }
                    Some(Err(e)) => {
                        failed = true;
                        status = one_line(&e.to_string());
                        body.push(status.clone());
                        body.push(format!("hint: {}", one_line(e.hint())));
                    }
                    None => body.push("(not fetched)".into()),
                }
            }
            items.push(EvidenceItem {
                title: if f.runbook == walk.runbook {
                    f.name.clone()
                } else {
                    format!("{} · {}", f.runbook, f.name)
                },
                status,
                failed,
                body,
            });
        }
    }
    let this = (walk.runbook.clone(), walk.target.clone());
    for n in notes
        .iter()
        .filter(|n| n.walk.as_ref().is_none_or(|w| *w == this))
    {
        items.push(EvidenceItem {
            title: format!("note {}", n.at.format("%H:%M:%SZ")),
            status: n.text.clone(),
            failed: false,
            body: vec![
                format!(
                    "{} — {}",
                    n.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    n.context
                ),
                String::new(),
                n.text.clone(),
            ],
        });
    }
    items
}

impl WalkScreen {
    /// `notes`: the case file's, shown with the evidence.
    pub fn draw(
        &self,
        frame: &mut Frame,
        area: Rect,
        shared: &Shared,
        notes: &[Note],
        theme: &Theme,
    ) {
        if area.width >= 120 {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                    .areas(area);
            let [path, evidence] =
                Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)])
                    .areas(left);
            draw_path(frame, path, shared, self, theme);
            draw_evidence(frame, evidence, self, shared, notes, theme);
            draw_detail(frame, right, shared, self, theme);
        } else {
            let rows = self.record.as_ref().map_or(1, rows_of) as u16;
            let trail = self.trail.len().min(2) as u16;
            // A question needs the room for its command and choices; the path above it
            // keeps its last steps (the rest scrolls).
            let asking = self.asking() && self.focus == WalkPane::Detail;
            let most = if asking { 5 } else { area.height * 2 / 5 };
            let path_h = (rows + trail + 2).clamp(4, most.max(4));
            let [path, bottom] =
                Layout::vertical([Constraint::Length(path_h), Constraint::Min(5)]).areas(area);
            draw_path(frame, path, shared, self, theme);
            // One pane below at this width: the evidence when it has the focus, else detail.
            if self.focus == WalkPane::Evidence {
                draw_evidence(frame, bottom, self, shared, notes, theme);
            } else {
                draw_detail(frame, bottom, shared, self, theme);
            }
        }
    }
}

fn outcome_slot(o: Outcome) -> Slot {
    match o {
        // ✓/✗ answer a step's question; whether that is good news depends on the
        // question, so neither is painted as health.
        Outcome::True | Outcome::Matched | Outcome::False | Outcome::Default => Slot::Text,
        Outcome::Unknown => Slot::Unknown,
        Outcome::AwaitingAnswer => Slot::Warn,
        Outcome::Answered | Outcome::Handover => Slot::Accent,
    }
}

fn status_text(shared: &Shared, w: &WalkScreen) -> (String, Slot) {
    if w.running_since.is_some() {
        return (format!("walking {}", spinner(shared.now)), Slot::Muted);
    }
    match &w.record {
        None => ("not walked".into(), Slot::Muted),
        Some(r) => match r.status {
            Status::Concluded => (
                format!(
                    "■ {}",
                    r.conclusion.as_ref().map_or("", |c| c.code.as_str())
                ),
                Slot::Accent,
            ),
            Status::NeedsInput => ("? your answer".into(), Slot::Warn),
            Status::Inconclusive => ("? inconclusive".into(), Slot::Unknown),
        },
    }
}

fn draw_path(frame: &mut Frame, area: Rect, shared: &Shared, w: &WalkScreen, theme: &Theme) {
    let (status, slot) = status_text(shared, w);
    // The status is what matters in the title; the target gives way to it.
    let room = (area.width as usize).saturating_sub(4);
    let status = fit(&status, room.saturating_sub(16));
    let head = fit(
        &format!(
            " {} › {}",
            one_line(&w.runbook),
            one_line(w.target.as_deref().unwrap_or("(cluster)"))
        ),
        room.saturating_sub(status.chars().count() + 3),
    );
    let title = Line::from(vec![
        Span::raw(format!("{head} · ")),
        Span::styled(status, theme.style(slot)),
        Span::raw(" "),
    ]);
    let mut block = pane(title, w.focus == WalkPane::Path, theme);
    if let Some(r) = &w.record {
        let shown = (area.height as usize)
            .saturating_sub(2 + w.trail.len().min(2))
            .max(1);
        let total = rows_of(r);
        if total > shown {
            let sel = w.path_selected.min(total - 1);
            let first = sel.saturating_sub(shown - 1);
            block = block.title_bottom(format!(
                " steps {}–{} of {}{} ",
                first + 1,
                (first + shown).min(total),
                total,
                if first > 0 { " · ↑ earlier" } else { "" }
            ));
        }
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    for t in w.trail.iter().rev().take(2).rev() {
        lines.push(Line::styled(
            fit(&format!("↳ from {}", one_line(t)), width),
            theme.style(Slot::Muted),
        ));
    }
    let Some(record) = &w.record else {
        lines.push(Line::styled(
            format!("reading facts {}", spinner(shared.now)),
            theme.style(Slot::Muted),
        ));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let room = (inner.height as usize).saturating_sub(lines.len()).max(1);
    let total = rows_of(record);
    let selected = w.path_selected.min(total.saturating_sub(1));
    let first = selected.saturating_sub(room - 1);
    let focused = w.focus == WalkPane::Path;
    for i in first..(first + room).min(total) {
        let is_sel = i == selected;
        let sel = row_style(is_sel && focused, theme);
        let sel = if is_sel && !focused {
            theme.style(Slot::Accent)
        } else {
            sel
        };
        if let Some(step) = record.path.get(i) {
            lines.push(step_row(record, step, w, width, sel, theme));
        } else {
            lines.push(end_row(record, width, sel, theme));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn step_row(
    record: &WalkRecord,
    step: &StepRecord,
    w: &WalkScreen,
    width: usize,
    sel: Style,
    theme: &Theme,
) -> Line<'static> {
    let other = if step.runbook != record.runbook {
        format!("[{}] ", step.runbook)
    } else {
        String::new()
    };
    let changed = w
        .changed
        .contains(&format!("{}/{}", step.runbook, step.step));
    let mark = if changed { "Δ " } else { "" };
    let text = format!(
        "{mark}{other}{} — {}",
        one_line(&step.title),
        one_line(&step.reason)
    );
    Line::from(vec![
        Span::styled(
            format!("{} ", step.outcome.symbol()),
            theme.style(outcome_slot(step.outcome)).patch(sel),
        ),
        Span::styled(cell(&text, width.saturating_sub(2)), sel),
    ])
}

fn end_row(record: &WalkRecord, width: usize, sel: Style, theme: &Theme) -> Line<'static> {
    match &record.conclusion {
        Some(c) => {
            let sev = severity(&c.severity);
            let (sym, slot) = match sev {
                Some(s) => severity_label(s),
                None => ("■", Slot::Accent),
            };
            Line::from(vec![
                Span::styled(format!("{sym} "), theme.style(slot).patch(sel)),
                Span::styled(
                    cell(
                        &format!("{} — {}", c.code, one_line(&c.title)),
                        width.saturating_sub(sym.chars().count() + 1),
                    ),
                    theme.style(Slot::Accent).patch(sel),
                ),
            ])
        }
        None => Line::styled(
            cell(
                &format!("? inconclusive — {} fact(s) unknown", record.missing.len()),
                width,
            ),
            theme.style(Slot::Unknown).patch(sel),
        ),
    }
}

fn severity(s: &str) -> Option<Severity> {
    match s {
        "critical" => Some(Severity::Critical),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

fn draw_detail(frame: &mut Frame, area: Rect, shared: &Shared, w: &WalkScreen, theme: &Theme) {
    let block = pane(" Detail ", w.focus == WalkPane::Detail, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let Some(record) = &w.record else {
        frame.render_widget(
            Paragraph::new(format!("walking {}", spinner(shared.now)))
                .style(theme.style(Slot::Muted)),
            inner,
        );
        return;
    };
    let selected = w.path_selected.min(rows_of(record).saturating_sub(1));
    let mut keep_visible = None;
    let lines = match record.path.get(selected) {
        Some(step) if step.outcome == Outcome::AwaitingAnswer => {
            let (lines, choice_line) = question_lines(shared, w, record, width, theme);
            keep_visible = Some(choice_line);
            lines
        }
        Some(step) => step_lines(shared, w, record, step, width, theme),
        None => match &record.conclusion {
            Some(_) => conclusion_lines(record, width, theme),
            None => inconclusive_lines(record, width, theme),
        },
    };
    let max = lines.len().saturating_sub(inner.height as usize) as u16;
    let mut scroll = w.detail_scroll.min(max);
    // The chosen answer (and the one after it) stay on screen as the cursor moves.
    if let Some(line) = keep_visible {
        let bottom = (line + 2).min(lines.len()) as u16;
        scroll = scroll.max(bottom.saturating_sub(inner.height)).min(max);
    }
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn para(text: &str, width: usize, indent: &str, style: Style) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for block in text_lines(text) {
        for l in wrap(&block, width, indent) {
            out.push(Line::styled(fit(&l, width), style));
        }
    }
    out
}

/// A command as lines that paste back into a shell: broken only at spaces, each line
/// but the last ending in ` \`; a word longer than a line is left whole (the pane cuts
/// it; `ktriage run --output markdown` prints it all).
pub fn shell_lines(cmd: &str, width: usize, indent: &str) -> Vec<String> {
    let mut out = Vec::new();
    // Two columns for the `$ ` or `  ` in front, two for the ` \` behind.
    let avail = width.saturating_sub(columns(indent) + 2).max(20) - 2;
    for (n, source_line) in text_lines(cmd).into_iter().enumerate() {
        let lines = fill(source_line.split(' ').filter(|w| !w.is_empty()), avail);
        let last = lines.len() - 1;
        for (i, line) in lines.into_iter().enumerate() {
            let lead = if n == 0 && i == 0 { "$ " } else { "  " };
            let tail = if i < last { " \\" } else { "" };
            out.push(format!("{indent}{lead}{line}{tail}"));
        }
    }
    out
}

fn heading(s: &str, theme: &Theme) -> Line<'static> {
    Line::styled(s.to_string(), theme.style(Slot::Accent))
}

fn step_lines(
    shared: &Shared,
    w: &WalkScreen,
    record: &WalkRecord,
    step: &StepRecord,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("{} ", step.outcome.symbol()),
            theme.style(outcome_slot(step.outcome)),
        ),
        Span::styled(
            fit(
                &format!("{} · {}", step.kind, one_line(&step.title)),
                width.saturating_sub(2),
            ),
            theme.style(Slot::Accent),
        ),
    ])];
    let outcome = match step.outcome {
        Outcome::True => "true",
        Outcome::False => "false",
        Outcome::Unknown => "unknown",
        Outcome::Matched => "matched",
        Outcome::Default => "no case matched",
        Outcome::Answered => "answered",
        Outcome::AwaitingAnswer => "waiting",
        Outcome::Handover => "handed over",
    };
    let reason = if step.reason.starts_with(&format!("{outcome}:")) {
        step.reason.clone()
    } else {
        format!("{outcome}: {}", step.reason)
    };
    out.extend(para(&reason, width, "", Style::default()));
    if let Some(next) = &step.next {
        out.push(Line::styled(
            fit(&format!("next: {}", one_line(next)), width),
            theme.style(Slot::Muted),
        ));
    }
    if w.changed
        .contains(&format!("{}/{}", step.runbook, step.step))
    {
        out.push(Line::styled(
            "Δ changed since the previous run",
            theme.style(Slot::Warn),
        ));
    }
    if step.outcome == Outcome::Answered {
        out.push(Line::styled(
            fit(
                &format!(
                    "{} on this step in the path to answer it again",
                    shared.keymap.label(crate::tui::keymap::Action::Select)
                ),
                width,
            ),
            theme.style(Slot::Muted),
        ));
    }
    if !step.facts.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("Facts read", theme));
    }
    for name in &step.facts {
        let Some(f) = record
            .facts
            .iter()
            .find(|f| &f.name == name && f.runbook == step.runbook)
        else {
            continue;
        };
        if f.queries.is_empty() {
            let what = f
                .description
                .as_deref()
                .map(one_line)
                .unwrap_or_else(|| "computed from other facts".into());
            out.push(Line::from(vec![
                Span::raw(format!("  {} ", one_line(name))),
                Span::styled(
                    fit(&what, width.saturating_sub(name.len() + 3)),
                    theme.style(Slot::Muted),
                ),
            ]));
            continue;
        }
        for q in &f.queries {
            let answer = w.facts.iter().find(|(k, _)| k == q).map(|(_, v)| v);
            let (status, slot) = match answer {
                Some(Ok(v)) => (summarize_answer(q, v), Slot::Text),
                Some(Err(e)) => (e.to_string(), Slot::Unknown),
                None => ("not fetched".into(), Slot::Muted),
            };
            out.push(Line::from(vec![
                Span::raw(format!("  {} ", one_line(name))),
                Span::styled(
                    fit(&one_line(&status), width.saturating_sub(name.len() + 3)),
                    theme.style(slot),
                ),
            ]));
            out.push(Line::styled(
                fit(&format!("    $ {}", one_line(&q.to_string())), width),
                theme.style(Slot::Muted),
            ));
            if let Some(Ok(v)) = answer {
                for quote in preview(q, v).into_iter().take(3) {
                    out.push(Line::raw(fit(
                        &format!("    “{}”", one_line(&quote)),
                        width,
                    )));
                }
            }
        }
    }
    out
}

/// The lines worth quoting from an answer: newest event messages, last log lines.
fn preview(q: &FactQuery, v: &Value) -> Vec<String> {
    match (q, v) {
        (FactQuery::Logs { .. }, Value::String(s)) => {
            let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
            lines
                .iter()
                .rev()
                .take(3)
                .rev()
                .map(|l| l.to_string())
                .collect()
        }
        (FactQuery::Events { .. }, Value::Array(events)) => {
            let events = crate::facts::shape::normalize_events(events);
            let mut with_time: Vec<(String, String)> = events
                .iter()
                .map(|e| {
                    let at = e["lastTimestamp"]
                        .as_str()
                        .or(e["eventTime"].as_str())
                        .unwrap_or_default()
                        .to_string();
                    let text = format!(
                        "{}: {}",
                        e["reason"].as_str().unwrap_or_default(),
                        e["message"].as_str().unwrap_or_default().trim()
                    );
                    (at, text)
                })
                .collect();
            with_time.sort_by(|a, b| b.0.cmp(&a.0));
            with_time.into_iter().map(|(_, t)| t).collect()
        }
        _ => Vec::new(),
    }
}

/// The question's lines, and which of them is the selected choice.
fn question_lines(
    shared: &Shared,
    w: &WalkScreen,
    record: &WalkRecord,
    width: usize,
    theme: &Theme,
) -> (Vec<Line<'static>>, usize) {
    let Some(q) = &record.question else {
        return (Vec::new(), 0);
    };
    let mut choice_line = 0;
    // Compact on purpose: at 80×24 the prompt, the command and every choice fit at once.
    let mut out = para(&q.prompt, width, "", Style::default());
    if let Some(cmd) = &q.command {
        out.push(heading("Run this elsewhere (read-only):", theme));
        for l in shell_lines(cmd, width, "  ") {
            out.push(Line::styled(l, theme.style(Slot::Ok)));
        }
    }
    out.push(heading("What did you find?", theme));
    let focused = w.focus == WalkPane::Detail;
    let mut lead = None;
    for (i, c) in q.choices.iter().enumerate() {
        let is_sel = i == w.choice_selected;
        let before = w.previous_answer.as_deref() == Some(c.id.as_str());
        // The marker goes first: a long label must not push it off the row.
        let text = format!(
            "{} {}{}",
            if is_sel { "›" } else { " " },
            if before { "(earlier answer) " } else { "" },
            one_line(&c.label),
        );
        let style = if is_sel && focused {
            theme.style(Slot::Selection)
        } else if is_sel {
            theme.style(Slot::Accent)
        } else {
            Style::default()
        };
        if is_sel {
            choice_line = out.len();
            lead = leads_to(shared, &q.runbook, &q.step, &c.id);
        }
        out.push(Line::styled(cell(&text, width), style));
    }
    // What remains: where the selected answer leads.
    if let Some(lead) = lead {
        out.push(Line::styled(
            fit(&format!("  → this answer {lead}"), width),
            theme.style(Slot::Muted),
        ));
    }
    if let Some(r) = &q.rejected_answer {
        out.push(Line::styled(
            fit(
                &format!("the answer `{}` is not one of these", one_line(r)),
                width,
            ),
            theme.style(Slot::Fail),
        ));
    }
    if let Some(look) = &q.look_for {
        out.push(heading("Look for:", theme));
        out.extend(para(look, width, "  ", Style::default()));
    }
    (out, choice_line)
}

/// Where a choice of an ask step leads, in words.
fn leads_to(shared: &Shared, runbook: &str, step: &str, choice: &str) -> Option<String> {
    let rb = shared.catalog.get(runbook)?;
    let StepKind::Ask { choices, .. } = &rb.steps.get(step)?.kind else {
        return None;
    };
    let goto = &choices.iter().find(|x| x.id == choice)?.goto;
    Some(match (rb.steps.get(goto), rb.conclusions.get(goto)) {
        (Some(s), _) => format!("goes on to the {} step `{}`", s.kind_name(), s.id),
        (_, Some(c)) => format!("concludes {}", c.code),
        _ => format!("goes on to `{goto}`"),
    })
}

fn conclusion_lines(record: &WalkRecord, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let Some(c) = &record.conclusion else {
        return Vec::new();
    };
    let (sym, slot) = severity(&c.severity).map_or(("■", Slot::Accent), severity_label);
    let mut out = vec![Line::from(vec![
        Span::styled(format!("{sym} "), theme.style(slot)),
        Span::styled(c.code.clone(), theme.style(Slot::Accent)),
        Span::styled(
            fit(
                &format!("  from {}", c.runbook),
                width.saturating_sub(c.code.len() + 9),
            ),
            theme.style(Slot::Muted),
        ),
    ])];
    out.extend(para(&c.title, width, "", theme.style(Slot::Accent)));
    out.push(Line::raw(""));
    out.extend(para(&c.summary, width, "", Style::default()));
    if !c.evidence.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("Evidence", theme));
        for e in &c.evidence {
            out.extend(para(&e.label, width, "  ", theme.style(Slot::Muted)));
            for q in &e.quotes {
                out.extend(para(&format!("“{q}”"), width, "    ", Style::default()));
            }
        }
    }
    if !c.remediation.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("What to do", theme));
        for (i, r) in c.remediation.iter().enumerate() {
            out.extend(para(
                &format!("{}. {r}", i + 1),
                width,
                "  ",
                Style::default(),
            ));
        }
    }
    if !c.commands.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("Commands (ktriage runs none of them)", theme));
        for cmd in &c.commands {
            let (label, slot) = if cmd.changes {
                ("▲ CHANGES THE CLUSTER", Slot::Change)
            } else {
                ("✓ read-only check", Slot::Ok)
            };
            let what = cmd
                .description
                .as_deref()
                .map(|d| format!(" — {}", one_line(d)))
                .unwrap_or_default();
            out.extend(para(
                &format!("{label}{what}"),
                width,
                "  ",
                theme.style(slot),
            ));
            for l in shell_lines(&cmd.run, width, "    ") {
                out.push(Line::styled(l, theme.style(slot)));
            }
        }
    }
    if !c.references.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("References", theme));
        for r in &c.references {
            out.extend(para(r, width, "  ", Style::default()));
        }
    }
    if let Some(f) = &c.follow_up {
        out.push(Line::raw(""));
        out.push(Line::styled(
            fit(
                &format!(
                    "Next: walk {} on {} — Enter on the conclusion row",
                    f.runbook,
                    f.target.as_deref().unwrap_or("the cluster")
                ),
                width,
            ),
            theme.style(Slot::Accent),
        ));
    }
    if !record.missing.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("Unknown along the way", theme));
        out.extend(missing_lines(record, width, theme));
    }
    out
}

fn missing_lines(record: &WalkRecord, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for m in &record.missing {
        out.push(Line::styled(
            fit(
                &format!("? {} — {}", one_line(&m.fact), one_line(&m.reason)),
                width,
            ),
            theme.style(Slot::Unknown),
        ));
        out.extend(para(
            &format!("$ {}", m.query),
            width,
            "    ",
            theme.style(Slot::Muted),
        ));
        out.extend(para(
            &format!("to resolve: {}", m.hint),
            width,
            "    ",
            Style::default(),
        ));
    }
    out
}

fn inconclusive_lines(record: &WalkRecord, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(
        "? Inconclusive: the walk could not decide",
        theme.style(Slot::Unknown),
    )];
    out.extend(para(
        "Nothing was concluded because the facts below could not be read. \
Nothing is reported that was not observed.",
        width,
        "",
        Style::default(),
    ));
    out.push(Line::raw(""));
    out.extend(missing_lines(record, width, theme));
    out
}

fn draw_evidence(
    frame: &mut Frame,
    area: Rect,
    w: &WalkScreen,
    shared: &Shared,
    notes: &[Note],
    theme: &Theme,
) {
    let items = evidence_items(w, notes, None);
    let title = format!(
        " Evidence · {} item(s){} ",
        items.len(),
        match w.ran_at {
            Some(t) if shared.source.live => format!(" · read {}", ago(t, shared.now)),
            Some(_) => " · as captured".to_string(),
            None => String::new(),
        }
    );
    let focused = w.focus == WalkPane::Evidence;
    let block = pane(
        fit(&title, area.width.saturating_sub(2) as usize),
        focused,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let room = inner.height as usize;
    let selected = w.evidence_selected.min(items.len().saturating_sub(1));
    let first = selected.saturating_sub(room.saturating_sub(1));
    let mut lines = Vec::new();
    if items.is_empty() {
        lines.push(Line::styled("nothing read yet", theme.style(Slot::Muted)));
    }
    let name_w = (width * 2 / 5).max(16);
    for (i, item) in items.iter().enumerate().skip(first).take(room) {
        let sel = row_style(focused && i == selected, theme);
        let (mark, slot) = if item.failed {
            ("?", Slot::Unknown)
        } else {
            ("✓", Slot::Ok)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), theme.style(slot).patch(sel)),
            Span::styled(cell(&one_line(&item.title), name_w), sel),
            Span::styled(
                format!(
                    " {}",
                    cell(&one_line(&item.status), width.saturating_sub(name_w + 3))
                ),
                if focused && i == selected {
                    sel
                } else {
                    theme.style(Slot::Muted)
                },
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
