//! The target picker: the objects a runbook can be walked on, symptom matches first.

use super::Step;
use super::list::{Edit, FilteredList, ListMove, filter_line, fuzzy, window};
use crate::drive::triage::TargetChoice;
use crate::runbook::Catalog;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::msg::Job;
use crate::tui::shared::{Shared, Tracked};
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::{ago, cell, fit, one_line};
use crate::tui::view::widgets::{pane, row_style, spinner};
use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The target-picker row that walks without a target (no Kubernetes name has spaces or
/// parentheses, so it cannot be an object's).
pub const WHOLE_CLUSTER: &str = "(whole cluster)";

#[derive(Clone, Debug, Default)]
pub struct TargetPicker {
    /// The runbook the targets are for.
    pub runbook: Option<String>,
    pub targets: Tracked<Result<Vec<TargetChoice>, String>>,
    pub list: FilteredList,
}

impl TargetPicker {
    /// A new picker for `runbook`, listing its targets.
    pub fn open(runbook: String, now: DateTime<Utc>) -> (TargetPicker, Job) {
        let picker = TargetPicker {
            runbook: Some(runbook.clone()),
            targets: Tracked {
                value: None,
                at: None,
                loading_since: Some(now),
            },
            list: FilteredList::default(),
        };
        let job = Job::Targets {
            runbook,
            fresh: false,
        };
        (picker, job)
    }

    /// The runner's list; one for another runbook came too late and is dropped.
    pub fn listed(
        &mut self,
        runbook: &str,
        result: Result<Vec<TargetChoice>, String>,
        now: DateTime<Utc>,
    ) {
        if self.runbook.as_deref() == Some(runbook) {
            self.targets = Tracked {
                value: Some(result),
                at: Some(now),
                loading_since: None,
            };
        }
    }

    pub fn rows(&self, catalog: &Catalog) -> Vec<TargetChoice> {
        let Some(Ok(all)) = &self.targets.value else {
            return Vec::new();
        };
        let mut rows = all.clone();
        // A runbook whose target is optional can also be walked on the whole cluster.
        if self
            .runbook
            .as_deref()
            .and_then(|id| catalog.get(id))
            .is_some_and(|rb| rb.target.optional)
        {
            rows.insert(
                0,
                TargetChoice {
                    reference: WHOLE_CLUSTER.into(),
                    matched: Some(false),
                    reason: "no target: the runbook looks at every one".into(),
                    since: None,
                },
            );
        }
        if self.list.filter.is_empty() {
            return rows;
        }
        fuzzy(rows, &self.list.filter, |t| t.reference.clone())
    }

    /// A key while the filter line has them; Enter chooses.
    pub fn on_edit(&mut self, key: KeyEvent, shared: &Shared) -> Step {
        match self.list.edit(key) {
            Edit::Choose => self.on_action(Action::Select, shared),
            Edit::Typed => Step::Stay,
        }
    }

    pub fn on_action(&mut self, action: Action, shared: &Shared) -> Step {
        let rows = self.rows(&shared.catalog);
        if self.list.navigate(action, rows.len()) == ListMove::Close {
            return Step::BackToRunbooks;
        }
        match action {
            Action::Rerun => {
                if let Some(rb) = self.runbook.clone() {
                    self.targets.loading_since = Some(shared.now);
                    return Step::Jobs(vec![Job::Targets {
                        runbook: rb,
                        fresh: true,
                    }]);
                }
            }
            Action::Select => {
                if let (Some(row), Some(rb)) = (rows.get(self.list.selected), self.runbook.clone())
                {
                    let target = (row.reference != WHOLE_CLUSTER).then(|| row.reference.clone());
                    return Step::Walk {
                        runbook: rb,
                        target,
                        trail: Vec::new(),
                    };
                }
            }
            _ => {}
        }
        Step::Stay
    }

    pub fn hints(&self, keymap: &Keymap) -> Vec<(String, &'static str)> {
        self.list.hints(keymap, true)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared, theme: &Theme) {
        let runbook = self.runbook.as_deref().unwrap_or_default();
        let kind = shared
            .catalog
            .get(runbook)
            .map(|rb| rb.target.kind_name())
            .unwrap_or_default();
        let rows = self.rows(&shared.catalog);
        let status = match (&self.targets.loading_since, &self.targets.value) {
            (Some(_), _) => format!("listing {kind} objects {}", spinner(shared.now)),
            (None, Some(Ok(all))) => format!(
                "{} of {} · symptom first{}",
                rows.len(),
                all.len(),
                self.targets
                    .at
                    .map(|t| format!(" · listed {}", ago(t, shared.now)))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        };
        let block = pane(
            fit(
                &format!(" {} on which {kind}? · {status} ", one_line(runbook)),
                area.width.saturating_sub(2) as usize,
            ),
            true,
            theme,
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let width = inner.width as usize;
        let mut lines = vec![filter_line(&self.list, &shared.keymap, theme, "by name")];
        match &self.targets.value {
            Some(Err(e)) => {
                lines.push(Line::styled(
                    fit(&format!("? could not list: {}", one_line(e)), width),
                    theme.style(Slot::Unknown),
                ));
            }
            Some(Ok(all)) if all.is_empty() => lines.push(Line::styled(
                format!("no {kind} in this cluster"),
                theme.style(Slot::Muted),
            )),
            _ => {}
        }
        let room = (inner.height as usize).saturating_sub(lines.len());
        let selected = self.list.selected.min(rows.len().saturating_sub(1));
        // Names as wide as the longest needs, leaving the reason at least a third.
        let longest = rows
            .iter()
            .map(|t| t.reference.chars().count())
            .max()
            .unwrap_or(0);
        let name_w = longest.clamp(20, (width * 2 / 3).max(20));
        for (i, t) in rows
            .iter()
            .enumerate()
            .skip(window(selected, room))
            .take(room)
        {
            let is_sel = i == selected && !self.list.editing;
            let (mark, slot) = match t.matched {
                Some(true) => ("▲", Slot::Warn),
                None => ("?", Slot::Unknown),
                Some(false) => (" ", Slot::Muted),
            };
            let reason = match t.matched {
                Some(false) => String::new(),
                None if t.reason.is_empty() => "symptom undecided".into(),
                _ => one_line(&t.reason),
            };
            let style = row_style(is_sel, theme);
            lines.push(Line::from(vec![
                Span::styled(format!("{mark} "), theme.style(slot).patch(style)),
                Span::styled(cell(&one_line(&t.reference), name_w), style),
                Span::styled(
                    format!(" {}", cell(&reason, width.saturating_sub(name_w + 3))),
                    if is_sel {
                        style
                    } else {
                        theme.style(Slot::Muted)
                    },
                ),
            ]));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
