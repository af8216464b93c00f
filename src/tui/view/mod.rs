//! Drawing: a function of the app state and the theme, nothing else. Views never
//! query; what they show came in through messages.

mod home;
mod lists;
mod overlay;
pub mod text;
mod walk;

use super::app::{App, HomePane, Overlay, Screen, WalkPane};
use super::keymap::Action;
use super::theme::{Slot, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use text::{ago, fit};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, theme);
        return;
    }
    let [header, body, flash, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(10),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, app, theme);
    match app.screen {
        Screen::Home => home::draw(frame, body, app, theme),
        Screen::Runbooks => lists::draw_runbooks(frame, body, app, theme),
        Screen::Targets => lists::draw_targets(frame, body, app, theme),
        Screen::Walk => walk::draw(frame, body, app, theme),
    }
    draw_flash(frame, flash, app, theme);
    draw_hints(frame, hints, app, theme);
    if let Some(o) = &app.overlay {
        overlay::draw(frame, body, app, o, theme);
    }
}

fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let msg = vec![
        Line::styled(
            "ktriage needs a terminal of at least 80×24.",
            theme.style(Slot::Warn),
        ),
        Line::raw(format!(
            "This one is {}×{}: enlarge the window,",
            area.width, area.height
        )),
        Line::raw("or zoom out. q quits."),
    ];
    let h = (msg.len() as u16).min(area.height);
    let y = area.y + area.height.saturating_sub(h) / 2;
    frame.render_widget(
        Paragraph::new(msg).centered(),
        Rect::new(area.x, y, area.width, h),
    );
}

/// `ktriage │ context … │ cluster … │ offline snapshot, captured … │ data …`
fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.source;
    let mut parts: Vec<String> = vec!["ktriage".into()];
    let name = s
        .cluster
        .as_ref()
        .or(s.context.as_ref())
        .map(|n| text::one_line(n));
    let version = app
        .state
        .value
        .as_ref()
        .and_then(|st| st.version.as_deref())
        .map(short_version);
    match (name, version) {
        (Some(n), Some(v)) => parts.push(format!("{n} · k8s {v}")),
        (Some(n), None) => parts.push(n),
        (None, Some(v)) => parts.push(format!("k8s {v}")),
        (None, None) => {}
    }
    if s.live {
        let age = match (&app.triage.loading_since, app.triage.at) {
            (Some(_), _) => "refreshing…".to_string(),
            (None, Some(at)) => format!("data {}", ago(at, app.now)),
            (None, None) => "connecting…".into(),
        };
        parts.push(format!("live · {age}"));
    } else {
        let captured = s
            .captured
            .map(|c| {
                format!(
                    "snapshot {} ({})",
                    c.format("%Y-%m-%d %H:%MZ"),
                    ago(c, app.now)
                )
            })
            .unwrap_or_else(|| "snapshot, capture time unknown".into());
        parts.push(captured);
    }
    if let Some(n) = &s.notice {
        parts.push(text::one_line(n));
    }
    let line = fit(&parts.join(" │ "), area.width as usize);
    frame.render_widget(
        Paragraph::new(format!("{line:<width$}", width = area.width as usize))
            .style(theme.style(Slot::Header)),
        area,
    );
}

fn draw_flash(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let Some(f) = &app.flash {
        frame.render_widget(
            Paragraph::new(fit(&text::one_line(f), area.width as usize))
                .style(theme.style(Slot::Accent)),
            area,
        );
    }
}

/// `v1.31.9-eks-5d4a308` → `1.31.9`: the build suffix says nothing at 3 a.m.
fn short_version(v: &str) -> String {
    let v = v.trim_start_matches('v');
    v.split(['-', '+']).next().unwrap_or(v).to_string()
}

/// The keys that do something here, from the keymap (what is shown is what works).
pub fn hints(app: &App) -> Vec<(String, &'static str)> {
    screen_hints(app, true)
}

/// The keys of the screen, or of the overlay over it when `overlay` is set.
pub fn screen_hints(app: &App, overlay: bool) -> Vec<(String, &'static str)> {
    let k = |a: Action| app.keymap.label(a);
    let mv = format!("{}{}", k(Action::Up), k(Action::Down));
    if let Some(o) = app.overlay.as_ref().filter(|_| overlay) {
        return match o {
            Overlay::Note { .. } => vec![("Enter".into(), "save note"), ("Esc".into(), "cancel")],
            Overlay::ConfirmQuit => vec![
                ("y".into(), "quit"),
                (k(Action::Export), "export"),
                ("n".into(), "stay"),
            ],
            Overlay::Export => match &app.export {
                Some(super::app::ExportState::Running { cancelling, .. }) => {
                    if *cancelling {
                        Vec::new()
                    } else {
                        vec![(k(Action::Back), "cancel")]
                    }
                }
                Some(super::app::ExportState::Done { .. }) => vec![(k(Action::Back), "close")],
                _ => vec![(k(Action::Select), "start"), (k(Action::Back), "close")],
            },
            Overlay::Viewer(v) if v.searching => {
                vec![("Enter".into(), "find"), ("Esc".into(), "cancel")]
            }
            Overlay::Viewer(_) => vec![
                (mv, "scroll"),
                (k(Action::Filter), "search"),
                (k(Action::Select), "next match"),
                (k(Action::Back), "close"),
            ],
            _ => vec![(k(Action::Back), "close")],
        };
    }
    let editing = match app.screen {
        Screen::Runbooks => app.runbooks.editing,
        Screen::Targets => app.target_list.editing,
        _ => false,
    };
    if editing {
        return vec![
            ("type".into(), "to filter"),
            ("Enter".into(), "choose"),
            ("↓".into(), "list"),
            ("Esc".into(), "clear"),
        ];
    }
    let mut out: Vec<(String, &'static str)> = Vec::new();
    match app.screen {
        Screen::Home => {
            out.push((mv, "move"));
            if app.home_pane == HomePane::Suggestions {
                out.push((k(Action::Select), "walk"));
            }
            out.push((k(Action::Filter), "runbooks"));
            out.push((k(Action::NextPane), "pane"));
            out.push((k(Action::Rerun), "refresh"));
        }
        Screen::Runbooks | Screen::Targets => {
            out.push((mv, "move"));
            out.push((k(Action::Select), "choose"));
            out.push((k(Action::Filter), "filter"));
            out.push((k(Action::Back), "back"));
            if app.screen == Screen::Targets {
                out.push((k(Action::Rerun), "refresh"));
            }
        }
        Screen::Walk => {
            let w = app.walk.as_ref();
            out.push((mv, "move"));
            match w.map_or(WalkPane::Path, |w| w.focus) {
                WalkPane::Path => {
                    let answered = w
                        .and_then(|w| w.selected_step())
                        .is_some_and(|s| s.outcome == crate::runbook::record::Outcome::Answered);
                    let select = if answered {
                        "answer again"
                    } else if w.and_then(|w| w.follow_up()).is_some() {
                        "next runbook"
                    } else {
                        "details"
                    };
                    out.push((k(Action::Select), select));
                }
                WalkPane::Detail if w.is_some_and(|w| w.asking()) => {
                    out.push((k(Action::Select), "answer"))
                }
                WalkPane::Detail => {}
                WalkPane::Evidence => out.push((k(Action::Select), "view")),
            }
            out.push((k(Action::NextPane), "pane"));
            out.push((k(Action::Rerun), "re-run"));
            out.push((k(Action::Note), "note"));
            out.push((k(Action::Export), "export"));
            out.push((k(Action::Back), "back"));
        }
    }
    out.push((k(Action::Help), "help"));
    out.push((k(Action::Quit), "quit"));
    out
}

fn draw_hints(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = Vec::new();
    let mut used = 0usize;
    let width = area.width as usize;
    for (key, what) in hints(app) {
        let w = key.chars().count() + what.len() + 3;
        // Whole hints only: a hint cut in half is worse than one left for `?`.
        if used + w > width {
            break;
        }
        spans.push(Span::styled(key, theme.style(Slot::Key)));
        spans.push(Span::styled(format!(" {what}  "), theme.style(Slot::Muted)));
        used += w;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A bordered pane, its border marked when it has the focus (bold in mono).
pub fn pane<'a>(title: impl Into<Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    let border = if focused {
        theme.style(Slot::BorderFocused)
    } else {
        theme.style(Slot::Border)
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(border)
        .title(title)
}

/// The style of a selected row, or of any row.
pub fn row_style(selected: bool, theme: &Theme) -> Style {
    if selected {
        theme.style(Slot::Selection)
    } else {
        Style::default()
    }
}

/// A spinner that moves with the clock, so a user sees the tool is alive.
pub fn spinner(app: &App) -> &'static str {
    const FRAMES: [&str; 4] = ["|", "/", "-", "\\"];
    FRAMES[(app.now.timestamp_subsec_millis() / 250) as usize % 4]
}
