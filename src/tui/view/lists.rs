//! The runbook picker and the target picker: a fuzzy filter over a list.

use super::text::{ago, cell, fit, one_line};
use super::{pane, row_style, spinner};
use crate::text::wrap;
use crate::tui::app::{App, FilteredList};
use crate::tui::keymap::Action;
use crate::tui::theme::{Slot, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn filter_line(list: &FilteredList, app: &App, theme: &Theme, what: &str) -> Line<'static> {
    if list.editing {
        Line::from(vec![
            Span::styled("/", theme.style(Slot::Key)),
            Span::raw(one_line(&list.filter)),
            Span::styled("█", theme.style(Slot::Accent)),
        ])
    } else if list.filter.is_empty() {
        Line::styled(
            format!("{} to filter {what}", app.keymap.label(Action::Filter)),
            theme.style(Slot::Muted),
        )
    } else {
        Line::from(vec![
            Span::styled("filter: ", theme.style(Slot::Muted)),
            Span::raw(one_line(&list.filter)),
        ])
    }
}

/// Rows `first..` that keep `selected` visible in `rows` lines.
fn window(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

pub fn draw_runbooks(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let [list_area, about] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(7)]).areas(area);
    let rows = app.runbook_rows();
    let block = pane(
        format!(
            " Runbooks · {} of {} ",
            rows.len(),
            app.catalog.iter().count()
        ),
        true,
        theme,
    );
    let inner = block.inner(list_area);
    frame.render_widget(block, list_area);
    let width = inner.width as usize;
    let mut lines = vec![filter_line(
        &app.runbooks,
        app,
        theme,
        "by id, title or tag",
    )];
    let room = (inner.height as usize).saturating_sub(1);
    let selected = app.runbooks.selected.min(rows.len().saturating_sub(1));
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
        let is_sel = i == selected && !app.runbooks.editing;
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
    let Some(rb) = rows.get(selected).and_then(|r| app.catalog.get(&r.id)) else {
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

pub fn draw_targets(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let runbook = app.targets_for.as_deref().unwrap_or_default();
    let kind = app
        .catalog
        .get(runbook)
        .map(|rb| rb.target.kind_name())
        .unwrap_or_default();
    let rows = app.target_rows();
    let status = match (&app.targets.loading_since, &app.targets.value) {
        (Some(_), _) => format!("listing {kind} objects {}", spinner(app)),
        (None, Some(Ok(all))) => format!(
            "{} of {} · symptom first{}",
            rows.len(),
            all.len(),
            app.targets
                .at
                .map(|t| format!(" · listed {}", ago(t, app.now)))
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
    let mut lines = vec![filter_line(&app.target_list, app, theme, "by name")];
    match &app.targets.value {
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
    let selected = app.target_list.selected.min(rows.len().saturating_sub(1));
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
        let is_sel = i == selected && !app.target_list.editing;
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
