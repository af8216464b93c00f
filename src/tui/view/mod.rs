//! Drawing: a function of the app state and the theme, nothing else. Views never
//! query; what they show came in through messages.
//!
//! This file draws the frame around the parts (header, flash line, hints) and asks the
//! screen and the overlay on top to draw themselves; each part's drawing sits with its
//! state and keys in `screens/` or `overlays/`. `text` and `widgets` are what the parts
//! draw with, so they import nothing of the app.

pub mod text;
pub mod widgets;

use super::app::{App, Overlay, Screen};
use super::overlays::note::NoteInput;
use super::overlays::{help, quit};
use super::theme::{Slot, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
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
    let shared = &app.shared;
    match app.screen {
        Screen::Home => app.home.draw(frame, body, shared, theme),
        Screen::Runbooks => app.runbooks.draw(frame, body, shared, theme),
        Screen::Targets => app.targets.draw(frame, body, shared, theme),
        Screen::Walk => {
            if let Some(w) = &app.walk {
                w.draw(frame, body, shared, &app.case.notes, theme);
            }
        }
    }
    draw_flash(frame, flash, app, theme);
    draw_hints(frame, hints, app, theme);
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => help::draw(frame, body, &shared.keymap, screen_hints(app), theme),
        Some(Overlay::Note(n)) => n.draw(frame, body, theme),
        Some(Overlay::ConfirmQuit) => {
            quit::draw(frame, body, &shared.keymap, app.case.unexported(), theme)
        }
        Some(Overlay::Viewer(v)) => v.draw(frame, body, theme),
        Some(Overlay::Export(e)) => e.draw(frame, body, shared, &app.case, &app.export_dir, theme),
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
    let s = &app.shared.source;
    let home = &app.home;
    let mut parts: Vec<String> = vec!["ktriage".into()];
    let name = s
        .cluster
        .as_ref()
        .or(s.context.as_ref())
        .map(|n| text::one_line(n));
    let version = home
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
        let age = match (&home.triage.loading_since, home.triage.at) {
            (Some(_), _) => "refreshing…".to_string(),
            (None, Some(at)) => format!("data {}", ago(at, app.shared.now)),
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
                    ago(c, app.shared.now)
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
    let keymap = &app.shared.keymap;
    match &app.overlay {
        Some(Overlay::Note(_)) => NoteInput::hints(),
        Some(Overlay::ConfirmQuit) => quit::hints(keymap),
        Some(Overlay::Export(e)) => e.hints(keymap),
        Some(Overlay::Viewer(v)) => v.hints(keymap),
        Some(Overlay::Help) => help::hints(keymap),
        None => screen_hints(app),
    }
}

/// The keys of the screen, under any overlay.
pub fn screen_hints(app: &App) -> Vec<(String, &'static str)> {
    let keymap = &app.shared.keymap;
    match app.screen {
        Screen::Home => app.home.hints(keymap),
        Screen::Runbooks => app.runbooks.hints(keymap),
        Screen::Targets => app.targets.hints(keymap),
        Screen::Walk => match &app.walk {
            Some(w) => w.hints(keymap),
            None => Vec::new(),
        },
    }
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
