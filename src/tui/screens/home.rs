//! Home: what the cluster looks like and what to look at first. It holds the triage
//! report and the state panel, so the header reads their ages from here too.

use super::Step;
use super::list::move_in;
use crate::drive::triage::TriageReport;
use crate::runbook::format::Severity;
use crate::source::live::watch::Freshness;
use crate::text::{kubectl_duration, wrap};
use crate::tui::cluster_state::ClusterState;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::msg::Job;
use crate::tui::shared::{Shared, Tracked};
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::{ago, cell, fit, one_line};
use crate::tui::view::widgets::{help_and_quit, move_keys, pane, row_style, spinner};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HomePane {
    Suggestions,
    State,
}

pub struct HomeScreen {
    pub pane: HomePane,
    pub suggestion_selected: usize,
    pub state_scroll: usize,
    pub triage: Tracked<TriageReport>,
    pub state: Tracked<ClusterState>,
    pub live_freshness: Vec<(String, Freshness)>,
}

impl Default for HomeScreen {
    fn default() -> Self {
        HomeScreen {
            pane: HomePane::Suggestions,
            suggestion_selected: 0,
            state_scroll: 0,
            triage: Tracked::default(),
            state: Tracked::default(),
            live_freshness: Vec::new(),
        }
    }
}

impl HomeScreen {
    /// "Now" for the data's own ages: the round's time (a snapshot's capture time), not
    /// the clock, so "seen 2m ago" means two minutes before the data was read.
    pub fn data_now(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.triage.at.unwrap_or(now)
    }

    /// Suggestions, then one row per runbook not checked, then "all runbooks".
    pub fn rows(&self) -> usize {
        let report = self.triage.value.as_ref();
        report.map_or(0, |r| r.suggestions.len() + r.not_checked.len()) + 1
    }

    /// Triage over a round; offline the same round answers the state panel, so it is
    /// loading too (live, watches answer it).
    pub fn start_triage(&mut self, fresh: bool, shared: &Shared) -> Job {
        self.triage.loading_since = Some(shared.now);
        if !shared.source.live {
            self.state.loading_since = Some(shared.now);
        }
        Job::Triage { fresh }
    }

    /// Live suggestions go stale: a new triage, unless one is under way.
    pub fn refresh(&mut self, now: DateTime<Utc>) -> Option<Job> {
        if self.triage.loading_since.is_some() {
            return None;
        }
        self.triage.loading_since = Some(now);
        Some(Job::Triage { fresh: true })
    }

    pub fn triaged(
        &mut self,
        report: TriageReport,
        state: Option<ClusterState>,
        at: DateTime<Utc>,
    ) {
        self.triage = Tracked {
            value: Some(report),
            at: Some(at),
            loading_since: None,
        };
        if let Some(state) = state {
            self.state = Tracked {
                value: Some(state),
                at: Some(at),
                loading_since: None,
            };
        }
        self.suggestion_selected = self.suggestion_selected.min(self.rows().saturating_sub(1));
    }

    pub fn triage_failed(&mut self) {
        self.triage.loading_since = None;
        self.state.loading_since = None;
    }

    pub fn live_state(
        &mut self,
        state: ClusterState,
        freshness: Vec<(String, Freshness)>,
        now: DateTime<Utc>,
    ) {
        self.state.value = Some(state);
        self.state.at = Some(now);
        self.state.loading_since = None;
        self.live_freshness = freshness;
    }

    pub fn on_action(&mut self, action: Action, shared: &Shared) -> Step {
        match action {
            Action::NextPane => {
                self.pane = match self.pane {
                    HomePane::Suggestions => HomePane::State,
                    HomePane::State => HomePane::Suggestions,
                };
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => match self.pane {
                HomePane::Suggestions => {
                    let rows = self.rows();
                    move_in(&mut self.suggestion_selected, rows, action)
                }
                HomePane::State => {
                    let n = self
                        .state
                        .value
                        .as_ref()
                        .and_then(|s| s.warnings.as_ref().ok())
                        .map_or(0, Vec::len);
                    move_in(&mut self.state_scroll, n, action)
                }
            },
            Action::Filter => {
                return Step::Runbooks {
                    filtering: true,
                    select: None,
                };
            }
            Action::Select if self.pane == HomePane::Suggestions => {
                let report = self.triage.value.as_ref();
                let suggestions = report.map_or(0, |r| r.suggestions.len());
                let i = self.suggestion_selected;
                if let Some(s) = report.and_then(|r| r.suggestions.get(i)) {
                    return Step::Walk {
                        runbook: s.runbook.clone(),
                        target: s.target.clone(),
                        trail: Vec::new(),
                    };
                }
                // Nothing was suggested, but the runbook can still be walked by hand.
                let select = report
                    .and_then(|r| r.not_checked.get(i - suggestions))
                    .map(|n| n.runbook.clone());
                return Step::Runbooks {
                    filtering: false,
                    select,
                };
            }
            Action::Rerun => return Step::Jobs(vec![self.start_triage(true, shared)]),
            _ => {}
        }
        Step::Stay
    }

    /// The keys that do something here.
    pub fn hints(&self, keymap: &Keymap) -> Vec<(String, &'static str)> {
        let k = |a: Action| keymap.label(a);
        let mut out = vec![(move_keys(keymap), "move")];
        if self.pane == HomePane::Suggestions {
            out.push((k(Action::Select), "walk"));
        }
        out.push((k(Action::Filter), "runbooks"));
        out.push((k(Action::NextPane), "pane"));
        out.push((k(Action::Rerun), "refresh"));
        out.extend(help_and_quit(keymap));
        out
    }
}

impl HomeScreen {
    pub fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared, theme: &Theme) {
        let warnings_rows = ((area.height as usize).saturating_sub(15) / 2).clamp(3, 12) as u16;
        let [state, suggestions] = Layout::vertical([
            Constraint::Length(4 + 1 + warnings_rows + 2),
            Constraint::Min(6),
        ])
        .areas(area);
        draw_state(frame, state, self, shared, theme);
        draw_suggestions(frame, suggestions, self, shared, theme);
    }
}

pub fn severity_label(s: Severity) -> (&'static str, Slot) {
    match s {
        Severity::Critical => ("▲ CRIT", Slot::Critical),
        Severity::Warning => ("▲ WARN", Slot::Warn),
        Severity::Info => ("· info", Slot::Muted),
    }
}

/// When a symptom was seen: against the clock live, against the capture offline (a
/// snapshot's "8s ago" would be read as now).
fn seen(t: chrono::DateTime<chrono::Utc>, home: &HomeScreen, shared: &Shared) -> String {
    let d = home.data_now(shared.now) - t;
    if shared.source.live {
        format!(" (seen {})", ago(t, home.data_now(shared.now)))
    } else if d.num_seconds() < 1 {
        " (seen at capture time)".into()
    } else {
        format!(" (seen {} before the capture)", kubectl_duration(d))
    }
}

fn freshness_title(home: &HomeScreen, shared: &Shared) -> (String, Slot) {
    if !shared.source.live {
        return match (&home.state.loading_since, home.state.at) {
            (Some(_), _) => (
                format!("reading snapshot {}", spinner(shared.now)),
                Slot::Muted,
            ),
            _ => ("as captured".into(), Slot::Muted),
        };
    }
    let stale: Vec<String> = home
        .live_freshness
        .iter()
        .filter_map(|(kind, f)| match f {
            Freshness::Stale {
                error, last_live, ..
            } => Some(format!(
                "{kind} STALE ({}){}",
                one_line(error),
                last_live
                    .map(|t| format!(", last live {}", ago(t, shared.now)))
                    .unwrap_or_default()
            )),
            _ => None,
        })
        .collect();
    if !stale.is_empty() {
        return (stale.join("; "), Slot::Fail);
    }
    if home.live_freshness.is_empty()
        || home
            .live_freshness
            .iter()
            .any(|(_, f)| matches!(f, Freshness::Syncing))
    {
        return (format!("syncing {}", spinner(shared.now)), Slot::Muted);
    }
    ("live (watching)".into(), Slot::Ok)
}

fn draw_state(frame: &mut Frame, area: Rect, home: &HomeScreen, shared: &Shared, theme: &Theme) {
    let focused = home.pane == HomePane::State;
    let (fresh, fresh_slot) = freshness_title(home, shared);
    let title = Line::from(vec![
        Span::raw(" Cluster state · "),
        Span::styled(fresh, theme.style(fresh_slot)),
        Span::raw(" "),
    ]);
    let block = pane(title, focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let Some(state) = &home.state.value else {
        let msg = if home.state.loading_since.is_some() || shared.source.live {
            format!("reading the cluster {}", spinner(shared.now))
        } else {
            "no state read".into()
        };
        frame.render_widget(Paragraph::new(msg).style(theme.style(Slot::Muted)), inner);
        return;
    };
    let mut lines = summary_lines(state, width, theme);
    lines.push(Line::styled(
        "Newest Warning events",
        theme.style(Slot::Accent),
    ));
    let room = (inner.height as usize).saturating_sub(lines.len());
    match &state.warnings {
        Err(e) => lines.push(unknown_line(e, width, theme)),
        Ok(w) if w.is_empty() => lines.push(Line::styled("  none", theme.style(Slot::Muted))),
        Ok(w) => {
            let start = home.state_scroll.min(w.len().saturating_sub(1));
            for (i, ev) in w.iter().enumerate().skip(start).take(room) {
                let age = ev.age.map(kubectl_duration).unwrap_or_else(|| "?".into());
                let count = if ev.count > 1 {
                    format!(" ×{}", ev.count)
                } else {
                    String::new()
                };
                let head = format!(
                    "{} {}{count} {}: ",
                    cell(&age, 6),
                    one_line(&ev.reason),
                    one_line(&ev.object)
                );
                let text = fit(&format!("{head}{}", one_line(&ev.message)), width);
                let style = row_style(focused && i == home.state_scroll, theme);
                lines.push(Line::styled(text, style));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn unknown_line(e: &str, width: usize, theme: &Theme) -> Line<'static> {
    Line::styled(
        fit(&format!("  ? unknown: {}", one_line(e)), width),
        theme.style(Slot::Unknown),
    )
}

fn summary_lines(state: &ClusterState, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let label = |s: &str| Span::styled(format!("{s:<9}"), theme.style(Slot::Muted));
    let bad = |n: usize, what: &str| {
        if n > 0 {
            Span::styled(format!("✗ {what} {n}"), theme.style(Slot::Fail))
        } else {
            Span::styled(format!("{what} 0"), theme.style(Slot::Muted))
        }
    };
    let sep = || Span::raw(" · ");
    let mut out = Vec::new();
    let err = |e: &String| {
        Span::styled(
            fit(
                &format!("? unknown: {}", one_line(e)),
                width.saturating_sub(9),
            ),
            theme.style(Slot::Unknown),
        )
    };

    let mut nodes = vec![label("Nodes")];
    match &state.node_groups {
        Err(e) => nodes.push(err(e)),
        Ok(groups) if groups.is_empty() => {
            nodes.push(Span::styled("✗ no nodes", theme.style(Slot::Fail)))
        }
        Ok(groups) => {
            let mut used = 9;
            for (i, g) in groups.iter().enumerate() {
                let total = g.ready + g.not_ready;
                let text = if g.not_ready > 0 {
                    format!("✗ {} {}/{} Ready", one_line(&g.name), g.ready, total)
                } else {
                    format!("{} {}/{} Ready", one_line(&g.name), g.ready, total)
                };
                let more = groups.len() - i - 1;
                let reserve = if more > 0 { 10 } else { 0 };
                if used + text.chars().count() + 3 + reserve > width && i > 0 {
                    nodes.push(Span::styled(
                        format!(" +{} more", groups.len() - i),
                        theme.style(Slot::Muted),
                    ));
                    break;
                }
                if i > 0 {
                    nodes.push(sep());
                    used += 3;
                }
                used += text.chars().count();
                let slot = if g.not_ready > 0 {
                    Slot::Fail
                } else {
                    Slot::Ok
                };
                nodes.push(Span::styled(
                    fit(&text, width.saturating_sub(9)),
                    theme.style(slot),
                ));
            }
        }
    }
    out.push(Line::from(nodes));

    let mut pods = vec![label("Pods")];
    match &state.pods {
        Err(e) => pods.push(err(e)),
        Ok(p) => {
            pods.push(Span::raw(format!("{} total", p.total)));
            for (n, what) in [
                (p.pending, "Pending"),
                (p.crash_loop, "CrashLoop"),
                (p.evicted, "Evicted"),
                (p.failed, "Failed"),
            ] {
                pods.push(sep());
                pods.push(bad(n, what));
            }
        }
    }
    out.push(Line::from(pods));

    let mut pvcs = vec![label("PVCs")];
    match &state.pvcs {
        Err(e) => pvcs.push(err(e)),
        Ok((pending, total)) => {
            pvcs.push(Span::raw(format!("{total} total")));
            pvcs.push(sep());
            pvcs.push(bad(*pending, "Pending"));
        }
    }
    out.push(Line::from(pvcs));

    let mut dns = vec![label("CoreDNS")];
    match &state.coredns {
        Err(e) => dns.push(err(e)),
        Ok(None) => dns.push(Span::styled(
            "? no CoreDNS Deployment in kube-system",
            theme.style(Slot::Unknown),
        )),
        Ok(Some((ready, desired))) => {
            let ok = ready >= desired && *desired > 0;
            dns.push(Span::styled(
                format!("{}{ready}/{desired} ready", if ok { "" } else { "✗ " }),
                theme.style(if ok { Slot::Ok } else { Slot::Fail }),
            ));
        }
    }
    out.push(Line::from(dns));
    out
}

fn draw_suggestions(
    frame: &mut Frame,
    area: Rect,
    home: &HomeScreen,
    shared: &Shared,
    theme: &Theme,
) {
    let focused = home.pane == HomePane::Suggestions;
    let status = match (&home.triage.loading_since, home.triage.at) {
        (Some(since), _) => format!(
            "triage running {} {}",
            spinner(shared.now),
            kubectl_duration(shared.now - *since)
        ),
        (None, Some(at)) if shared.source.live => format!("from {}", ago(at, shared.now)),
        _ => String::new(),
    };
    let title = if status.is_empty() {
        " Suggestions ".to_string()
    } else {
        format!(" Suggestions · {status} ")
    };
    let mut block = pane(title, focused, theme);
    let rows_shown = (area.height as usize).saturating_sub(2 + 3).max(1);
    let total_rows = home.rows();
    if total_rows > rows_shown {
        block = block.title_bottom(format!(
            " {}/{} · ↑↓ for more ",
            home.suggestion_selected.min(total_rows - 1) + 1,
            total_rows
        ));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let Some(report) = &home.triage.value else {
        frame.render_widget(
            Paragraph::new("looking for symptoms…").style(theme.style(Slot::Muted)),
            inner,
        );
        return;
    };
    // Two lines at the bottom spell out the selected suggestion's reason in full.
    let detail_rows = 2usize;
    let list_rows = (inner.height as usize)
        .saturating_sub(detail_rows + 1)
        .max(1);
    let total = home.rows();
    let selected = home.suggestion_selected.min(total.saturating_sub(1));
    let first = selected.saturating_sub(list_rows - 1);
    let mut lines: Vec<Line> = Vec::new();
    let rb_w = 18;
    // The target says what to look at; the reason is spelled out below the list.
    let target_w = (width.saturating_sub(7 + rb_w) * 3 / 5).clamp(12, 48);
    let mut detail: Option<String> = None;
    if report.suggestions.is_empty() && report.not_checked.is_empty() {
        detail = Some(
            "No runbook's symptom shows in this cluster. Pick a runbook to walk anyway.".into(),
        );
    }
    for i in first..(first + list_rows).min(total) {
        let is_sel = focused && i == selected;
        let style = row_style(is_sel, theme);
        if let Some(s) = report.suggestions.get(i) {
            let (sym, slot) = severity_label(s.severity);
            let target = s
                .target
                .as_deref()
                .map(one_line)
                .unwrap_or_else(|| "(cluster)".into());
            let target = if s.count > 1 {
                format!("{target} +{}", s.count - 1)
            } else {
                target
            };
            let rest = width.saturating_sub(7 + rb_w + target_w + 2);
            let mut spans = vec![
                Span::styled(format!("{sym} "), theme.style(slot).patch(style)),
                Span::styled(cell(&s.runbook, rb_w), style),
                Span::styled(format!(" {}", cell(&target, target_w)), style),
                Span::styled(format!(" {}", cell(&one_line(&s.reason), rest)), style),
            ];
            if !is_sel {
                spans[3] = spans[3].clone().style(theme.style(Slot::Muted));
            }
            lines.push(Line::from(spans));
            if i == selected {
                let also = match s.also.len() {
                    0 | 1 => String::new(),
                    n => format!(" and {} more ({})", n - 1, s.also[1..].join(", ")),
                };
                detail = Some(format!(
                    "{}{also} — {}{}: {}",
                    s.target.as_deref().unwrap_or("the cluster"),
                    s.title,
                    s.since.map(|t| seen(t, home, shared)).unwrap_or_default(),
                    s.reason
                ));
            }
        } else if let Some(n) = report.not_checked.get(i - report.suggestions.len()) {
            let text = format!(
                "? ---- {} {}",
                cell(&n.runbook, rb_w),
                one_line(&format!("not checked: {}", n.reason))
            );
            lines.push(Line::styled(
                fit(&text, width),
                theme.style(Slot::Unknown).patch(style),
            ));
            if i == selected {
                detail = Some(format!("{} was not checked: {}", n.runbook, n.reason));
            }
        } else {
            lines.push(Line::styled(
                cell("  All runbooks…  (pick one and a target by hand)", width),
                theme.style(Slot::Accent).patch(style),
            ));
            if i == selected {
                detail = Some(format!(
                    "Every runbook, with a fuzzy filter ({} from anywhere on this screen).",
                    shared.keymap.label(crate::tui::keymap::Action::Filter)
                ));
            }
        }
    }
    while lines.len() < list_rows {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled("─".repeat(width), theme.style(Slot::Border)));
    if let Some(d) = detail {
        let mut wrapped = wrap(&one_line(&d), width.max(20), "");
        wrapped.truncate(detail_rows);
        if let Some(last) = wrapped.last_mut() {
            *last = fit(last, width);
        }
        for l in wrapped {
            lines.push(Line::styled(fit(&l, width), theme.style(Slot::Muted)));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
