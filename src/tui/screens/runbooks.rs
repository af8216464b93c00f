//! The runbook picker: every runbook, fuzzy-filtered over id, title and tags.

use super::Step;
use super::list::{Edit, FilteredList, ListMove, filter_line, fuzzy, window};
use crate::runbook::Catalog;
use crate::runbook::model::TargetKind;
use crate::text::wrap;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::shared::Shared;
use crate::tui::theme::{Slot, Theme};
use crate::tui::view::text::{cell, fit, one_line};
use crate::tui::view::widgets::{pane, row_style};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// The picker holds nothing but its list: the runbooks are the catalog's.
#[derive(Clone, Debug, Default)]
pub struct RunbookPicker {
    pub list: FilteredList,
}

/// One row of the runbook picker.
#[derive(Clone, Debug)]
pub struct RunbookRow {
    pub id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub target: String,
}

impl RunbookPicker {
    /// Every runbook, fuzzy-filtered over id, title and tags, best match first.
    pub fn rows(&self, catalog: &Catalog) -> Vec<RunbookRow> {
        let rows: Vec<RunbookRow> = catalog
            .iter()
            .map(|rb| RunbookRow {
                id: rb.id.clone(),
                title: rb.title.clone(),
                tags: rb.tags.clone(),
                target: rb.target.kind_name(),
            })
            .collect();
        fuzzy(rows, &self.list.filter, |r| {
            format!("{} {} {}", r.id, r.title, r.tags.join(" "))
        })
    }

    /// Shown again: typing a fresh filter at once, or as it was left.
    pub fn open(&mut self, filtering: bool) {
        self.list.editing = filtering;
        if filtering {
            self.list.filter.clear();
            self.list.selected = 0;
        }
    }

    /// Puts the cursor on runbook `id`, if the filter shows it.
    pub fn select(&mut self, catalog: &Catalog, id: &str) {
        if let Some(i) = self.rows(catalog).iter().position(|r| r.id == id) {
            self.list.selected = i;
        }
    }

    /// A key while the filter line has them; Enter chooses.
    pub fn on_edit(&mut self, key: KeyEvent, shared: &Shared) -> Step {
        match self.list.edit(key) {
            Edit::Choose => self.on_action(Action::Select, shared),
            Edit::Typed => Step::Stay,
        }
    }

    /// A cluster-wide runbook is walked at once; any other asks for its target first.
    pub fn on_action(&mut self, action: Action, shared: &Shared) -> Step {
        let rows = self.rows(&shared.catalog);
        if self.list.navigate(action, rows.len()) == ListMove::Close {
            return Step::Home;
        }
        if action != Action::Select {
            return Step::Stay;
        }
        let Some(row) = rows.get(self.list.selected) else {
            return Step::Stay;
        };
        let Some(rb) = shared.catalog.get(&row.id) else {
            return Step::Stay;
        };
        if rb.target.kind == TargetKind::Cluster {
            return Step::Walk {
                runbook: row.id.clone(),
                target: None,
                trail: Vec::new(),
            };
        }
        Step::Targets(row.id.clone())
    }

    pub fn hints(&self, keymap: &Keymap) -> Vec<(String, &'static str)> {
        self.list.hints(keymap, false)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, shared: &Shared, theme: &Theme) {
        let [list_area, about] =
            Layout::vertical([Constraint::Min(6), Constraint::Length(7)]).areas(area);
        let rows = self.rows(&shared.catalog);
        let block = pane(
            format!(
                " Runbooks · {} of {} ",
                rows.len(),
                shared.catalog.iter().count()
            ),
            true,
            theme,
        );
        let inner = block.inner(list_area);
        frame.render_widget(block, list_area);
        let width = inner.width as usize;
        let mut lines = vec![filter_line(
            &self.list,
            &shared.keymap,
            theme,
            "by id, title or tag",
        )];
        let room = (inner.height as usize).saturating_sub(1);
        let selected = self.list.selected.min(rows.len().saturating_sub(1));
        if rows.is_empty() {
            lines.push(Line::styled(
                "no runbook matches; Esc clears the filter",
                theme.style(Slot::Muted),
            ));
        }
        for (i, r) in rows
            .iter()
            .enumerate()
            .skip(window(selected, room))
            .take(room)
        {
            let is_sel = i == selected && !self.list.editing;
            let target_w = 22;
            let id_w = 20;
            let text = format!(
                "{} {} {}",
                cell(&r.id, id_w),
                cell(&format!("[{}]", r.target), target_w),
                fit(
                    &one_line(&r.title),
                    width.saturating_sub(id_w + target_w + 2)
                )
            );
            lines.push(Line::styled(cell(&text, width), row_style(is_sel, theme)));
        }
        frame.render_widget(Paragraph::new(lines), inner);

        let block = pane(" About ", false, theme);
        let inner = block.inner(about);
        frame.render_widget(block, about);
        let Some(rb) = rows.get(selected).and_then(|r| shared.catalog.get(&r.id)) else {
            return;
        };
        let width = inner.width as usize;
        let mut lines = vec![Line::styled(
            fit(&one_line(&rb.title), width),
            theme.style(Slot::Accent),
        )];
        let description = rb.description.as_deref().unwrap_or_default();
        for l in wrap(&one_line(description), width, "").into_iter().take(2) {
            lines.push(Line::raw(fit(&l, width)));
        }
        lines.push(Line::styled(
            fit(
                &format!(
                    "target: {} ({}) · tags: {}",
                    rb.target.kind_name(),
                    rb.target.ref_form(),
                    rb.tags.join(", ")
                ),
                width,
            ),
            theme.style(Slot::Muted),
        ));
        lines.push(Line::styled(
            fit(&format!("concludes: {}", rb.codes().join(" ")), width),
            theme.style(Slot::Muted),
        ));
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
