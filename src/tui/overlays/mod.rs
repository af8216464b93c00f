//! Windows over a screen, each holding its own state, keys and drawing: the evidence
//! viewer, the export, the note being typed, the help and the quit confirmation. The app
//! keeps at most one open and gives it every key.

pub mod export;
pub mod help;
pub mod note;
pub mod quit;
pub mod viewer;

use ratatui::layout::Rect;

/// `width`×`height` in the middle of `area` (less where it is smaller).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
