//! Text from the cluster is untrusted: event messages, log lines and object fields may
//! carry escape sequences that would repaint a terminal, and bidirectional controls that
//! make text read differently than it is. This is the one place that makes text safe for
//! people: `sanitize` (and `sanitize_line` where one line is meant) for text,
//! [`Sanitizing`] for a stream to a terminal or a file people read, `to_json_pretty` for
//! JSON they read; `wrap` keeps reports readable at 80 columns.

use std::io::{self, Write};

/// Characters that are acted on rather than shown: C0 and C1 controls and DEL (a terminal
/// runs them; C1 includes the 8-bit CSI and NEL), and the bidirectional controls (marks,
/// embeddings, overrides and isolates, which reorder what follows them on screen), and
/// the Unicode line and paragraph separators (a line break to some viewers, none to others).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// How an unsafe character is shown: `\x1b` for controls, `\u{202e}` for the rest.
fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    if c.is_control() {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:04x}}}", c as u32);
    }
}

fn escape(s: &str, keep_breaks: bool) -> String {
    if !s.chars().any(is_unsafe) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' | '\t' if keep_breaks => out.push(c),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Replaces control characters (C0 except tab and newline, DEL, C1) and bidirectional
/// controls with visible escapes, so `\x1b[2J` prints as `\x1b[2J` instead of clearing the
/// screen. Idempotent: what it returns has nothing left to escape.
pub fn sanitize(s: &str) -> String {
    escape(s, true)
}

/// [`sanitize`] for text that must stay on one line (a name quoted in a message, a log
/// record): newlines and tabs are shown as `\n` and `\t` too, so a name cannot start a
/// line that reads as the tool's own.
pub fn sanitize_line(s: &str) -> String {
    escape(s, false)
}

/// What a [`Sanitizing`] stream keeps as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breaks {
    /// Newlines and tabs (a terminal: commands print several lines at once).
    Keep,
    /// Only a newline that ends a write: each write is one record (a log event), so a
    /// line break inside one cannot forge another.
    EndOfRecord,
}

/// A stream to a terminal or a file people read, made safe whatever is written to it:
/// the boundary itself, so no path that writes there can bypass [`sanitize`].
pub struct Sanitizing<W: Write> {
    inner: W,
    breaks: Breaks,
    /// The start of a character split between two writes.
    pending: Vec<u8>,
}

impl<W: Write> Sanitizing<W> {
    pub fn new(inner: W, breaks: Breaks) -> Self {
        Sanitizing {
            inner,
            breaks,
            pending: Vec::new(),
        }
    }

    fn push_text(&self, out: &mut String, text: &str) {
        match self.breaks {
            Breaks::Keep => out.push_str(&sanitize(text)),
            Breaks::EndOfRecord => out.push_str(&sanitize_line(text)),
        }
    }
}

impl<W: Write> Write for Sanitizing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        let (body, end) = match (self.breaks, bytes.last()) {
            (Breaks::EndOfRecord, Some(b'\n')) => (&bytes[..bytes.len() - 1], "\n"),
            _ => (&bytes[..], ""),
        };
        let mut out = String::with_capacity(body.len());
        let mut rest = body;
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    self.push_text(&mut out, text);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    self.push_text(&mut out, std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            for b in &after[..n] {
                                out.push_str(&format!("\\x{b:02x}"));
                            }
                            rest = &after[n..];
                        }
                        // Cut short at the end: the next write completes it.
                        None => {
                            self.pending = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        out.push_str(end);
        self.inner.write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for Sanitizing<W> {
    fn drop(&mut self) {
        // A character never completed is shown as the bytes it was.
        let pending = std::mem::take(&mut self.pending);
        let shown: String = pending.iter().map(|b| format!("\\x{b:02x}")).collect();
        let _ = self.inner.write_all(shown.as_bytes());
        let _ = self.inner.flush();
    }
}

/// serde_json escapes C0 controls, quotes and backslashes; this formatter also escapes the
/// rest of [`is_unsafe`] (DEL, C1, bidirectional controls) as `\uXXXX`, so JSON paged with
/// `less -R` or printed to a terminal cannot act on them. The data is the same once parsed.
struct SafeJson<F>(F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                self.0.write_string_fragment(writer, &fragment[start..i])?;
                // Every unsafe character is in the Basic Multilingual Plane: one escape.
                write!(writer, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        self.0.write_string_fragment(writer, &fragment[start..])
    }

    // The layout is the inner formatter's.
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Pretty JSON for people (stdout, a bundle's files), with [`SafeJson`]'s escapes.
pub fn to_json_vec_pretty(value: &(impl serde::Serialize + ?Sized)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        SafeJson(serde_json::ser::PrettyFormatter::new()),
    );
    // Serialising to memory fails only for maps with non-string keys, which no caller has.
    if value.serialize(&mut serializer).is_err() {
        out.clear();
    }
    out
}

/// [`to_json_vec_pretty`] as a string.
pub fn to_json_pretty(value: &(impl serde::Serialize + ?Sized)) -> String {
    String::from_utf8(to_json_vec_pretty(value)).unwrap_or_default()
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

/// Display columns of `s`: a wide character (CJK, most emoji) takes two, a combining
/// mark none, as a terminal draws them.
pub fn columns(s: &str) -> usize {
    use unicode_width::UnicodeWidthChar;
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// The longest head of `s` that fits in `width` columns (at least one character, so a
/// split always moves on), and the rest.
fn split_at_columns(s: &str, width: usize) -> (&str, &str) {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > width && i > 0 {
            return s.split_at(i);
        }
        used += w;
    }
    (s, "")
}

/// Greedy filling: `words` joined by single spaces into lines of at most `avail`
/// columns, broken only between words; a word wider than `avail` stands alone. No words
/// make one empty line. The one line filler: prose ([`wrap`]) and commands that paste
/// back into a shell (the walk screen's) differ only in what they feed it and how they
/// frame its lines.
pub fn fill<'a>(words: impl IntoIterator<Item = &'a str>, avail: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in words {
        let wl = columns(word);
        if len > 0 && len + 1 + wl > avail {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += wl;
    }
    lines.push(line);
    lines
}

/// Greedy word wrap to `width` columns, each line prefixed with `indent`; words longer
/// than a line are split rather than overflowing. For prose: spaces between words may
/// become line breaks.
pub fn wrap(s: &str, width: usize, indent: &str) -> Vec<String> {
    let avail = width.saturating_sub(columns(indent)).max(20);
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut pieces = Vec::new();
        for word in para.split_whitespace() {
            let mut word = word;
            while columns(word) > avail {
                let (head, rest) = split_at_columns(word, avail);
                pieces.push(head);
                word = rest;
            }
            pieces.push(word);
        }
        lines.extend(
            fill(pieces, avail)
                .into_iter()
                .map(|l| format!("{indent}{l}")),
        );
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) && lines.len() > 1 {
        lines.pop();
    }
    lines
}

/// Hard wrap of one line into rows of `width` columns without losing a character (a
/// path or a command must be read whole): rows after the first start with `↪` and hold
/// one column less.
pub fn wrap_exact(line: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let (first, mut rest) = split_at_columns(line, width);
    let mut rows = vec![first.to_string()];
    while !rest.is_empty() {
        let (head, tail) = split_at_columns(rest, width - 1);
        rows.push(format!("↪{head}"));
        rest = tail;
    }
    rows
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
        assert_eq!(sanitize("a\u{85}b\u{7f}"), "a\\x85b\\x7f");
        for bidi in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            let s = sanitize(&format!("x{bidi}y"));
            assert_eq!(s, format!("x\\u{{{:04x}}}y", bidi as u32));
        }
        // What it returns has nothing left to escape.
        let hostile = "\x1b]52;c;aGk=\x07\u{202e}\u{85}\r\n";
        assert_eq!(sanitize(&sanitize(hostile)), sanitize(hostile));
        assert_eq!(sanitize("plain — ünïcødé ✓"), "plain — ünïcødé ✓");
    }

    #[test]
    fn one_line_shows_breaks() {
        assert_eq!(sanitize_line("a\nb\tc\r"), "a\\nb\\tc\\x0d");
        assert_eq!(sanitize_line("\x1b[2J"), "\\x1b[2J");
    }

    #[test]
    fn a_sanitizing_stream_keeps_lines_or_records() {
        let mut out = Vec::new();
        {
            let mut w = Sanitizing::new(&mut out, Breaks::Keep);
            write!(w, "ok\x1b[2J\nnext\u{202e}\n").unwrap();
            // A character split between two writes is put back together.
            let e = "é".as_bytes();
            w.write_all(&e[..1]).unwrap();
            w.write_all(&e[1..]).unwrap();
            w.write_all(b"\xff\n").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ok\\x1b[2J\nnext\\u{202e}\né\\xff\n"
        );
        let mut log = Vec::new();
        {
            let mut w = Sanitizing::new(&mut log, Breaks::EndOfRecord);
            w.write_all(b"INFO name=a\nERROR forged\n").unwrap();
            w.write_all(b"INFO \x1b]0;t\x07\n").unwrap();
        }
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "INFO name=a\\nERROR forged\nINFO \\x1b]0;t\\x07\n"
        );
    }

    #[test]
    fn json_for_people_escapes_what_serde_leaves_raw() {
        let v = serde_json::json!({"name\u{202e}": "a\u{85}b\u{202e}c\u{2066}\u{7f}\x1b ✓"});
        let text = to_json_pretty(&v);
        assert!(
            text.contains(r#""name\u202e": "a\u0085b\u202ec\u2066\u007f\u001b ✓""#),
            "{text}"
        );
        assert!(!text.chars().any(is_unsafe_but_newline), "{text:?}");
        // The same data, and the same layout as serde_json's own pretty printer.
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        let plain = serde_json::json!({"a": [1, {"b": null}], "c": "d"});
        assert_eq!(
            to_json_pretty(&plain),
            serde_json::to_string_pretty(&plain).unwrap()
        );
    }

    fn is_unsafe_but_newline(c: char) -> bool {
        c != '\n' && is_unsafe(c)
    }

    #[test]
    fn fill_breaks_only_between_words() {
        assert_eq!(fill(["a", "bb", "ccc"], 4), ["a bb", "ccc"]);
        // A word wider than a line is left whole, on its own line.
        assert_eq!(fill(["a", "longword", "b"], 4), ["a", "longword", "b"]);
        assert_eq!(fill([], 10), [""]);
        // Columns, not bytes: a wide character takes two.
        assert_eq!(fill(["日本", "x"], 5), ["日本", "x"]);
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
