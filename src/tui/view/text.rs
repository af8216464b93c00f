//! Turning cluster data into screen text: neutralised, one line where a row is meant,
//! cut to width with `…` rather than wrapped into the layout.

use crate::facts::FactQuery;
use crate::text::{kubectl_duration, sanitize};
use chrono::{DateTime, Utc};
use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Untrusted text made safe for one row: control characters escaped, line breaks and
/// tabs turned into spaces.
pub fn one_line(s: &str) -> String {
    sanitize(s).replace(['\n', '\r'], " ").replace('\t', "  ")
}

/// Untrusted text made safe for a block: one entry per line, tabs expanded.
pub fn lines(s: &str) -> Vec<String> {
    sanitize(s)
        .lines()
        .map(|l| l.replace('\t', "    "))
        .collect()
}

/// Cuts `s` to at most `width` columns, ending in `…` when cut. Rows end here (or in
/// [`cell`]), so whatever a caller passed is made one safe line first.
pub fn fit(s: &str, width: usize) -> String {
    let s = one_line(s);
    let s = s.as_str();
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` padded or cut to exactly `width` columns.
pub fn cell(s: &str, width: usize) -> String {
    let f = fit(s, width);
    let pad = width.saturating_sub(f.width());
    format!("{f}{}", " ".repeat(pad))
}

/// "3m ago", as kubectl prints ages ("in 3m" for a time ahead of the clock, as a
/// snapshot from a skewed machine can be).
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now - then;
    match d.num_seconds() {
        s if s <= -1 => format!("in {}", kubectl_duration(-d)),
        0 => "just now".into(),
        _ => format!("{} ago", kubectl_duration(d)),
    }
}

/// What the evidence list shows beside a fact: how much there is.
pub fn summarize_answer(q: &FactQuery, v: &Value) -> String {
    match (q, v) {
        (_, Value::Null) => "not found".into(),
        (FactQuery::Logs { .. }, Value::String(s)) => format!("{} log lines", s.lines().count()),
        (FactQuery::Events { .. }, Value::Array(a)) if a.len() == 1 => "1 event".into(),
        (FactQuery::Events { .. }, Value::Array(a)) => format!("{} events", a.len()),
        (FactQuery::Get { .. }, _) => "found".into(),
        (_, Value::Array(a)) if a.len() == 1 => "1 object".into(),
        (_, Value::Array(a)) => format!("{} objects", a.len()),
        (FactQuery::Eks(_), _) => "AWS response".into(),
        _ => "object".into(),
    }
}

/// An answer as the viewer shows it: YAML for objects (as `kubectl get -o yaml` would),
/// text for logs.
pub fn render_answer(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => lines(s),
        Value::Null => vec!["(does not exist)".into()],
        Value::Array(items) if items.is_empty() => vec!["(none)".into()],
        other => match serde_saphyr::to_string(other) {
            Ok(yaml) => lines(&yaml),
            Err(_) => lines(&serde_json::to_string_pretty(other).unwrap_or_default()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_an_ellipsis_by_display_width() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("日本語テキスト", 5), "日本…");
        assert_eq!(cell("ab", 4), "ab  ");
        assert_eq!(fit("x", 0), "");
    }

    #[test]
    fn escapes_never_reach_the_screen() {
        let evil = "ok\x1b[2J\x1b]0;pwned\x07\r\nnext\tcol";
        let one = one_line(evil);
        assert!(!one.chars().any(|c| c.is_control()), "{one:?}");
        assert!(one.contains("\\x1b[2J"));
        for l in lines(evil) {
            assert!(!l.chars().any(|c| c.is_control()), "{l:?}");
        }
        // Rows end in `fit` or `cell`, whatever the caller passed them.
        for row in [fit(evil, 60), cell(evil, 60), fit("\u{202e}gpj.exe", 60)] {
            assert!(
                !row.chars().any(|c| c.is_control() || c == '\u{202e}'),
                "{row:?}"
            );
        }
        assert_eq!(fit("\u{202e}gpj.exe", 60), "\\u{202e}gpj.exe");
    }
}
