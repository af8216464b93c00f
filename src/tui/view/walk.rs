//! The walk: the path taken (and where it stopped), the selected step's detail, and the
//! evidence gathered.

use super::home::severity_label;
use super::text::{ago, cell, fit, lines as text_lines, one_line, summarize_answer};
use super::{pane, row_style, spinner};
use crate::facts::FactQuery;
use crate::runbook::format::Severity;
use crate::runbook::model::StepKind;
use crate::runbook::record::{Outcome, Status, StepRecord, WalkRecord};
use crate::text::wrap;
use crate::tui::app::{App, Walk, WalkPane, evidence_items, rows_of};
use crate::tui::theme::{Slot, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::Value;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(w) = &app.walk else { return };
    if area.width >= 120 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(area);
        let [path, evidence] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(left);
        draw_path(frame, path, app, w, theme);
        draw_evidence(frame, evidence, app, w, theme);
        draw_detail(frame, right, app, w, theme);
    } else {
        let rows = w.record.as_ref().map_or(1, rows_of) as u16;
        let trail = w.trail.len().min(2) as u16;
        // A question needs the room for its command and choices; the path above it
        // keeps its last steps (the rest scrolls).
        let asking = w.asking() && w.focus == WalkPane::Detail;
        let most = if asking { 5 } else { area.height * 2 / 5 };
        let path_h = (rows + trail + 2).clamp(4, most.max(4));
        let [path, bottom] =
            Layout::vertical([Constraint::Length(path_h), Constraint::Min(5)]).areas(area);
        draw_path(frame, path, app, w, theme);
        // One pane below at this width: the evidence when it has the focus, else detail.
        if w.focus == WalkPane::Evidence {
            draw_evidence(frame, bottom, app, w, theme);
        } else {
            draw_detail(frame, bottom, app, w, theme);
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

fn status_text(app: &App, w: &Walk) -> (String, Slot) {
    if w.running_since.is_some() {
        return (format!("walking {}", spinner(app)), Slot::Muted);
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

fn draw_path(frame: &mut Frame, area: Rect, app: &App, w: &Walk, theme: &Theme) {
    let (status, slot) = status_text(app, w);
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
            format!("reading facts {}", spinner(app)),
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
    w: &Walk,
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

fn draw_detail(frame: &mut Frame, area: Rect, app: &App, w: &Walk, theme: &Theme) {
    let block = pane(" Detail ", w.focus == WalkPane::Detail, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let Some(record) = &w.record else {
        frame.render_widget(
            Paragraph::new(format!("walking {}", spinner(app))).style(theme.style(Slot::Muted)),
            inner,
        );
        return;
    };
    let selected = w.path_selected.min(rows_of(record).saturating_sub(1));
    let mut keep_visible = None;
    let lines = match record.path.get(selected) {
        Some(step) if step.outcome == Outcome::AwaitingAnswer => {
            let (lines, choice_line) = question_lines(app, w, record, width, theme);
            keep_visible = Some(choice_line);
            lines
        }
        Some(step) => step_lines(app, w, record, step, width, theme),
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
    let avail = width.saturating_sub(indent.chars().count() + 2).max(20);
    for (n, source_line) in text_lines(cmd).into_iter().enumerate() {
        let mut line = if n == 0 {
            "$ ".to_string()
        } else {
            "  ".to_string()
        };
        let mut len = 2;
        for word in source_line.split(' ').filter(|w| !w.is_empty()) {
            let wl = word.chars().count();
            if len > 2 && len + 1 + wl > avail {
                out.push(format!("{indent}{line} \\"));
                line = "  ".to_string();
                len = 2;
            }
            if len > 2 {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += wl;
        }
        out.push(format!("{indent}{line}"));
    }
    out
}

fn heading(s: &str, theme: &Theme) -> Line<'static> {
    Line::styled(s.to_string(), theme.style(Slot::Accent))
}

fn step_lines(
    app: &App,
    w: &Walk,
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
                    app.keymap.label(crate::tui::keymap::Action::Select)
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
    app: &App,
    w: &Walk,
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
            lead = leads_to(app, &q.runbook, &q.step, &c.id);
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
fn leads_to(app: &App, runbook: &str, step: &str, choice: &str) -> Option<String> {
    let rb = app.catalog.get(runbook)?;
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

fn draw_evidence(frame: &mut Frame, area: Rect, app: &App, w: &Walk, theme: &Theme) {
    let items = evidence_items(w, &app.case.notes, None);
    let title = format!(
        " Evidence · {} item(s){} ",
        items.len(),
        match w.ran_at {
            Some(t) if app.source.live => format!(" · read {}", ago(t, app.now)),
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
