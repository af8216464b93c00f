//! Text from the cluster is untrusted: event messages, log lines and object fields may
//! carry escape sequences that would repaint a terminal. Everything shown goes through
//! `sanitize`; `wrap` keeps reports readable at 80 columns.

/// Replaces control characters (C0 except tab and newline, DEL, C1) with visible
/// escapes, so `\x1b[2J` prints as `\x1b[2J` instead of clearing the screen.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            // Bidirectional overrides can make text read differently than it is.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// A duration as kubectl prints ages (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`):
/// about two significant figures — "90s", "5m30s", "65m", "3h15m", "20h", "2d5h", "30d",
/// "2y3d". Negative durations are printed with a sign.
pub fn kubectl_duration(d: chrono::TimeDelta) -> String {
    // Whole seconds, truncated toward zero like Go's int(d.Seconds()).
    let seconds = d.num_seconds();
    if seconds < 0 {
        return format!("-{}", kubectl_duration(-d));
    }
    let with = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    let minutes = seconds / 60;
    let hours = seconds / 3600;
    let days = hours / 24;
    match () {
        _ if seconds < 2 * 60 => format!("{seconds}s"),
        _ if minutes < 10 => with(minutes, "m", seconds % 60, "s"),
        _ if minutes < 3 * 60 => format!("{minutes}m"),
        _ if hours < 8 => with(hours, "h", minutes % 60, "m"),
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 8 * 24 => with(days, "d", hours % 24, "h"),
        _ if days < 2 * 365 => format!("{days}d"),
        _ if days < 8 * 365 => with(days / 365, "y", days % 365, "d"),
        _ => format!("{}y", days / 365),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`: where a parser's
/// span points, as an editor counts.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Greedy word wrap to `width` columns (by chars), each line prefixed with `indent`;
/// words longer than a line are split rather than overflowing.
pub fn wrap(s: &str, width: usize, indent: &str) -> Vec<String> {
    let avail = width.saturating_sub(indent.chars().count()).max(20);
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        for word in para.split_whitespace() {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > avail {
                if len > 0 {
                    lines.push(format!("{indent}{line}"));
                    line.clear();
                    len = 0;
                }
                let rest = word.split_off(avail);
                lines.push(format!("{indent}{}", word.iter().collect::<String>()));
                word = rest;
            }
            let wl = word.len();
            if len > 0 && len + 1 + wl > avail {
                lines.push(format!("{indent}{line}"));
                line.clear();
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.extend(word);
            len += wl;
        }
        lines.push(format!("{indent}{line}"));
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) && lines.len() > 1 {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_neutralised() {
        assert_eq!(sanitize("ok\x1b[2Jbad\u{7}\r"), "ok\\x1b[2Jbad\\x07\\x0d");
        assert_eq!(sanitize("tab\tand\nnewline"), "tab\tand\nnewline");
        assert_eq!(sanitize("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(sanitize("\u{9b}31m"), "\\x9b31m");
    }

    #[test]
    fn wraps_within_width() {
        let lines = wrap(
            "the quick brown fox jumps over the lazy dog again and again",
            24,
            "  ",
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 24), "{lines:?}");
        assert_eq!(lines.join(" ").split_whitespace().count(), 12);
        let long = wrap(&"x".repeat(50), 24, "");
        assert!(long.iter().all(|l| l.chars().count() <= 24), "{long:?}");
        assert_eq!(long.concat().len(), 50);
    }
}
