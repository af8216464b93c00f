//! Themes: TOML files of semantic slots (`ok`, `fail`, `selection`, ...), built-in ones
//! from `themes/` embedded at build time, users' from `$XDG_CONFIG_HOME/ktriage/themes/`.
//! Views ask for a slot, never for a colour, so `mono` can carry meaning with bold and
//! reverse video alone.

use crate::config::Settings;
use include_dir::{Dir, include_dir};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/themes");

/// What a view can ask a theme for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    Text,
    Muted,
    Accent,
    Ok,
    Fail,
    Unknown,
    Warn,
    Critical,
    Selection,
    Border,
    BorderFocused,
    Header,
    Key,
    Change,
}

impl Slot {
    pub const ALL: [Slot; 14] = [
        Slot::Text,
        Slot::Muted,
        Slot::Accent,
        Slot::Ok,
        Slot::Fail,
        Slot::Unknown,
        Slot::Warn,
        Slot::Critical,
        Slot::Selection,
        Slot::Border,
        Slot::BorderFocused,
        Slot::Header,
        Slot::Key,
        Slot::Change,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Text => "text",
            Slot::Muted => "muted",
            Slot::Accent => "accent",
            Slot::Ok => "ok",
            Slot::Fail => "fail",
            Slot::Unknown => "unknown",
            Slot::Warn => "warn",
            Slot::Critical => "critical",
            Slot::Selection => "selection",
            Slot::Border => "border",
            Slot::BorderFocused => "border-focused",
            Slot::Header => "header",
            Slot::Key => "key",
            Slot::Change => "change",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Theme {
    pub name: String,
    pub description: String,
    /// `builtin:NAME.toml` or the file it was read from.
    pub origin: String,
    styles: BTreeMap<Slot, Style>,
}

impl Theme {
    pub fn style(&self, slot: Slot) -> Style {
        self.styles.get(&slot).copied().unwrap_or_default()
    }

    /// True when no slot sets a colour: `NO_COLOR` is honoured by construction.
    pub fn is_mono(&self) -> bool {
        self.styles
            .values()
            .all(|s| s.fg.is_none() && s.bg.is_none() && s.underline_color.is_none())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeDoc {
    name: Option<String>,
    description: Option<String>,
    slots: BTreeMap<String, toml::Spanned<SlotDoc>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SlotDoc {
    /// Shorthand: just a foreground colour.
    Colour(String),
    Full(StyleDoc),
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct StyleDoc {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reverse: bool,
}

/// A theme file that could not be used, with where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError {
    pub origin: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ThemeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.origin)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Parses one theme file; `stem` names it when the file has no `name`.
pub fn parse(origin: &str, stem: &str, text: &str) -> Result<Theme, ThemeError> {
    let error_at = |span: Option<std::ops::Range<usize>>, message: String| {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = crate::text::line_col(text, s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ThemeError {
            origin: origin.to_string(),
            line,
            column,
            message,
        }
    };
    let doc: ThemeDoc =
        toml::from_str(text).map_err(|e| error_at(e.span(), e.message().to_string()))?;
    let mut styles = BTreeMap::new();
    for (key, spanned) in &doc.slots {
        let Some(slot) = Slot::ALL.into_iter().find(|s| s.name() == key) else {
            let known: Vec<&str> = Slot::ALL.iter().map(|s| s.name()).collect();
            return Err(error_at(
                Some(spanned.span()),
                format!("unknown slot `{key}` (slots: {})", known.join(", ")),
            ));
        };
        let style_doc = match spanned.get_ref() {
            SlotDoc::Colour(c) => StyleDoc {
                fg: Some(c.clone()),
                ..StyleDoc::default()
            },
            SlotDoc::Full(s) => s.clone(),
        };
        let style = to_style(&style_doc)
            .map_err(|m| error_at(Some(spanned.span()), format!("{key}: {m}")))?;
        styles.insert(slot, style);
    }
    let missing: Vec<&str> = Slot::ALL
        .iter()
        .filter(|s| !styles.contains_key(s))
        .map(|s| s.name())
        .collect();
    if !missing.is_empty() {
        return Err(error_at(
            None,
            format!(
                "missing slot(s): {} (every slot must be set so no meaning is lost)",
                missing.join(", ")
            ),
        ));
    }
    Ok(Theme {
        name: doc.name.unwrap_or_else(|| stem.to_string()),
        description: doc.description.unwrap_or_default(),
        origin: origin.to_string(),
        styles,
    })
}

fn to_style(doc: &StyleDoc) -> Result<Style, String> {
    let mut style = Style::default();
    if let Some(fg) = &doc.fg {
        style = style.fg(colour(fg)?);
    }
    if let Some(bg) = &doc.bg {
        style = style.bg(colour(bg)?);
    }
    for (on, m) in [
        (doc.bold, Modifier::BOLD),
        (doc.dim, Modifier::DIM),
        (doc.italic, Modifier::ITALIC),
        (doc.underline, Modifier::UNDERLINED),
        (doc.reverse, Modifier::REVERSED),
    ] {
        if on {
            style = style.add_modifier(m);
        }
    }
    Ok(style)
}

/// The 16 ANSI names (as terminals' palettes name them), `#rrggbb`, or 0–255.
fn colour(s: &str) -> Result<Color, String> {
    let named = match s.to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
        "black" => Some(Color::Black),
        "red" => Some(Color::Red),
        "green" => Some(Color::Green),
        "yellow" => Some(Color::Yellow),
        "blue" => Some(Color::Blue),
        "magenta" => Some(Color::Magenta),
        "cyan" => Some(Color::Cyan),
        "white" | "gray" | "grey" => Some(Color::Gray),
        "brightblack" | "darkgray" | "darkgrey" => Some(Color::DarkGray),
        "brightred" => Some(Color::LightRed),
        "brightgreen" => Some(Color::LightGreen),
        "brightyellow" => Some(Color::LightYellow),
        "brightblue" => Some(Color::LightBlue),
        "brightmagenta" => Some(Color::LightMagenta),
        "brightcyan" => Some(Color::LightCyan),
        "brightwhite" => Some(Color::White),
        "default" | "reset" => Some(Color::Reset),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(c);
    }
    if let Some(hex) = s.strip_prefix('#')
        && hex.len() == 6
        && let Ok(v) = u32::from_str_radix(hex, 16)
    {
        return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    if let Ok(i) = s.parse::<u8>() {
        return Ok(Color::Indexed(i));
    }
    Err(format!(
        "`{s}` is not a colour (use an ANSI name like `red` or `bright-black`, `#rrggbb`, or 0-255)"
    ))
}

/// Every theme: built-in ones, then the user's (a user theme replaces a built-in one of
/// the same name). Files that do not parse are returned as errors, never silently skipped.
pub fn all(settings: &Settings) -> (Vec<Theme>, Vec<ThemeError>) {
    let mut themes: Vec<Theme> = Vec::new();
    let mut errors = Vec::new();
    let mut builtin: Vec<_> = BUILTIN
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "toml"))
        .collect();
    builtin.sort_by_key(|f| f.path());
    for f in builtin {
        let stem = f
            .path()
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let origin = format!("builtin:{}", f.path().display());
        match parse(&origin, stem, f.contents_utf8().unwrap_or_default()) {
            Ok(t) => themes.push(t),
            Err(e) => errors.push(e),
        }
    }
    user_themes(settings, &mut themes, &mut errors);
    (themes, errors)
}

fn user_themes(settings: &Settings, themes: &mut Vec<Theme>, errors: &mut Vec<ThemeError>) {
    errors.extend(settings.unreadable_themes.iter().map(|e| ThemeError {
        origin: e.path.clone(),
        line: None,
        column: None,
        message: format!("cannot read: {}", e.reason),
    }));
    for file in &settings.themes {
        let stem = file
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        match parse(&file.origin(), stem, &file.text) {
            Ok(t) => {
                themes.retain(|old| old.name != t.name);
                themes.push(t);
            }
            Err(e) => errors.push(e),
        }
    }
}

/// Why a theme was chosen, for the log and `themes list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<'a> {
    Named(&'a str),
    /// No `--theme`: `mono` when colour is off, else `default`.
    Auto {
        colour: bool,
    },
}

/// Colour is off when `NO_COLOR` is set (any non-empty value, per no-color.org) or the
/// terminal says it has none (`TERM=dumb` or unset).
pub fn colour_supported(no_color: Option<&str>, term: Option<&str>) -> bool {
    if no_color.is_some_and(|v| !v.is_empty()) {
        return false;
    }
    !matches!(term, None | Some("") | Some("dumb"))
}

pub fn select(choice: Choice<'_>, settings: &Settings) -> Result<Theme, String> {
    let (themes, errors) = all(settings);
    let wanted = match choice {
        Choice::Named(n) => n,
        Choice::Auto { colour: true } => "default",
        Choice::Auto { colour: false } => "mono",
    };
    if let Some(t) = themes.iter().find(|t| t.name == wanted) {
        return Ok(t.clone());
    }
    let mut message = format!(
        "no theme named `{wanted}` (themes: {}; see `ktriage themes list`)",
        themes
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for e in errors {
        message.push_str(&format!("\n  not loaded: {e}"));
    }
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_all_parse_and_mono_has_no_colour() {
        let (themes, errors) = all(&Settings::builtin());
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<&str> = themes.iter().map(|t| t.name.as_str()).collect();
        for want in ["default", "light", "high-contrast", "mono"] {
            assert!(names.contains(&want), "{names:?}");
        }
        let mono = themes.iter().find(|t| t.name == "mono").unwrap();
        assert!(mono.is_mono());
        // Selection must still be visible without colour.
        assert!(
            mono.style(Slot::Selection)
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        let default = themes.iter().find(|t| t.name == "default").unwrap();
        assert!(!default.is_mono());
        // 16 ANSI colours only: bastions' terminals may have no more.
        for slot in Slot::ALL {
            let s = default.style(slot);
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{slot:?} uses {c:?}"
                );
            }
        }
    }

    #[test]
    fn a_bad_theme_names_file_line_and_column() {
        let text = "name = \"x\"\n[slots]\nok = \"grene\"\n";
        let e = parse("my.toml", "my", text).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(6)), "{e}");
        assert!(e.message.contains("`grene` is not a colour"), "{e}");
        let e = parse("my.toml", "my", "[slots]\nokk = \"red\"\n").unwrap_err();
        assert!(e.to_string().starts_with("my.toml:2:"), "{e}");
        assert!(e.message.contains("unknown slot `okk`"), "{e}");
        let e = parse("my.toml", "my", "[slots]\nok = \"red\"\n").unwrap_err();
        assert!(e.message.contains("missing slot(s): text"), "{e}");
        let e = parse("my.toml", "my", "[slots\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn no_color_and_dumb_terminals_turn_colour_off() {
        assert!(!colour_supported(Some("1"), Some("xterm-256color")));
        assert!(colour_supported(Some(""), Some("xterm")));
        assert!(!colour_supported(None, Some("dumb")));
        assert!(!colour_supported(None, None));
        assert!(colour_supported(None, Some("screen")));
    }
}
