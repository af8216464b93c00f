//! Secrets stay out of bundles: everything an evidence bundle holds goes through a
//! [`Redactor`] first.
//!
//! Rules are data (`redaction-rules.toml`, built in; `$XDG_CONFIG_HOME/ktriage/redaction.toml`
//! adds to it, in the same format, documented at the top of the built-in file). Three kinds:
//! - *structural*, on objects: a Secret keeps its name, type and keys, every value becomes a
//!   marker and only its length is reported; `last-applied-configuration` goes whole;
//! - *names*: the value of an env var, annotation, ConfigMap key or (for `in = ["fields"]`) any
//!   object field whose name matches goes whole;
//! - *patterns*: regular expressions over text (log lines, event messages, and every string
//!   left in an object or AWS response), plain or JSON-escaped: they also run over the text
//!   with its JSON string escapes decoded, and what they find there is replaced where it was;
//! - *decoding*: base64 runs are decoded and redacted like any text; one that holds a secret
//!   goes whole.
//!
//! A redacted span becomes `<redacted:RULE-ID>`. Markers are never redacted again and each
//! string is redacted until nothing changes, so redacting twice changes nothing and reports
//! nothing new. The [`Report`] says which rule fired where (a JSON pointer or `line N`) and how
//! often, never what was removed; [`Report::to_json`] is `redactions.json`.
//!
//! Here the redactor; the rules and their file format in `rules.rs`; the report in
//! `report.rs`.

mod report;
mod rules;

pub use report::*;
pub use rules::*;

use regex::Regex;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

/// Redacting one string stops after this many passes over the rules. Every pass that changes
/// something turns at least one character into a marker, so this is a guard, not a limit seen.
const MAX_PASSES: usize = 64;

/// JSON string escapes are decoded this many levels deep: a JSON log line quoting an escaped
/// JSON document that quotes another.
const MAX_ESCAPE_LEVELS: usize = 3;

/// Base64 inside decoded base64 is decoded this many levels deep.
const MAX_DECODE_DEPTH: usize = 3;

/// Base64 runs longer than this are not decoded: no credential file is this large, and a
/// binaryData blob would be decoded on every pass.
const MAX_BASE64_BYTES: usize = 1 << 20;

/// Shorter base64 decodes to too little to hold a secret beside what names it: 16
/// characters are 12 bytes, `password=x` and its like.
const MIN_BASE64_CHARS: usize = 16;

/// A base64 run, standard or URL-safe, possibly wrapped over lines as `base64` wraps it.
static BASE64_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"[A-Za-z0-9+/_-]{{{MIN_BASE64_CHARS},}}={{0,2}}(?:\r?\n[A-Za-z0-9+/_-]{{4,}}={{0,2}})*"
    ))
    .expect("base64 regex")
});

static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<redacted:[a-z0-9]+(?:-[a-z0-9]+)*>").expect("marker regex"));
/// The stamp `kubectl logs --timestamps` puts before each line.
static LOG_STAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2}) ",
    )
    .expect("log stamp regex")
});

// ---------------------------------------------------------------------------------------------
// Redacting

/// The active rules of a [`RuleSet`] under a [`Profile`], ready to run.
#[derive(Debug, Clone)]
pub struct Redactor {
    profile: Profile,
    rules: Vec<Rule>,
    /// Indexes of the pattern rules, in order.
    text: Vec<usize>,
    /// The base64 decoding rule, unless a user set leaves it out.
    base64: Option<usize>,
}

/// Hits of one string or line: (rule index, count).
type Hits = Vec<(usize, usize)>;

fn add_hit(hits: &mut Hits, rule: usize, count: usize) {
    match hits.iter_mut().find(|(r, _)| *r == rule) {
        Some((_, n)) => *n += count,
        None => hits.push((rule, count)),
    }
}

impl Redactor {
    pub fn new(rules: &RuleSet, profile: Profile) -> Redactor {
        let rules: Vec<Rule> = rules
            .rules
            .iter()
            .filter(|r| r.is_active(&profile))
            .cloned()
            .collect();
        let text = (0..rules.len())
            .filter(|&i| rules[i].kind == RuleKind::Pattern)
            .collect();
        let base64 = (0..rules.len())
            .find(|&i| matches!(rules[i].matcher, Matcher::Decode(Decoding::Base64)));
        Redactor {
            profile,
            rules,
            text,
            base64,
        }
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The rules that run, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The profile as the manifest records it: `{"redactIps": false}`.
    pub fn profile_json(&self) -> Value {
        serde_json::to_value(self.profile).unwrap_or_default()
    }

    /// Redacts a Kubernetes object, a list or stream of them (as an array), or an AWS response,
    /// in place: structural and name rules first, then the text rules on every string left.
    /// Locations are JSON pointers into `value`.
    pub fn json(&self, value: &mut Value, file: &str, report: &mut Report) {
        let mut pointer = String::new();
        self.walk(value, &mut pointer, None, file, report);
    }

    /// Redacts text (a log, event messages) line by line; locations are `line N` (1-based).
    pub fn text(&self, text: &str, file: &str, report: &mut Report) -> String {
        let mut out = String::with_capacity(text.len());
        let mut block: Option<(usize, usize)> = None;
        let mut hits = Hits::new();
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let line = raw
                .strip_suffix('\n')
                .map_or(raw, |l| l.strip_suffix('\r').unwrap_or(l));
            let eol = &raw[line.len()..];
            hits.clear();
            let mut current: Cow<str> = Cow::Borrowed(line);
            if let Some((rule, left)) = block.take()
                && let Matcher::Pattern {
                    block_end: Some(end),
                    ..
                } = &self.rules[rule].matcher
            {
                // Inside a block: from after the log stamp to the end (or the whole line).
                let start = LOG_STAMP.find(line).map_or(0, |m| m.end());
                let (span, closed) = match end.find(&line[start..]) {
                    Some(m) => (start..start + m.end(), true),
                    None => (start..line.len(), false),
                };
                if !span.is_empty() && !untouchable(&span, &marker_spans(line)) {
                    current = Cow::Owned(format!(
                        "{}{}{}",
                        &line[..span.start],
                        self.rules[rule].marker,
                        &line[span.end..]
                    ));
                    add_hit(&mut hits, rule, 1);
                }
                if !closed && left > 1 {
                    block = Some((rule, left - 1));
                }
            }
            if block.is_none() {
                block = self.opens_block(&current);
            }
            if let Some(redacted) = self.redact_str(&current, &mut hits) {
                current = Cow::Owned(redacted);
            }
            out.push_str(&current);
            out.push_str(eol);
            if !hits.is_empty() {
                let location = format!("line {}", i + 1);
                for &(rule, n) in &hits {
                    report.add(&self.rules[rule].id, file, &location, n, None);
                }
            }
        }
        out
    }

    /// A pattern with a `block_end` whose last match in `line` runs to its end without that
    /// end: the following lines belong to it.
    fn opens_block(&self, line: &str) -> Option<(usize, usize)> {
        self.text
            .iter()
            .find_map(|&i| match &self.rules[i].matcher {
                Matcher::Pattern {
                    regex,
                    block_end: Some(end),
                    ..
                } => {
                    let last = regex.find_iter(line).filter(|m| !m.is_empty()).last()?;
                    (last.end() == line.len() && !end.is_match(last.as_str()))
                        .then_some((i, BLOCK_MAX_LINES))
                }
                _ => None,
            })
    }

    /// The text rules over one string, until nothing changes; `None` when nothing did.
    fn redact_str(&self, s: &str, hits: &mut Hits) -> Option<String> {
        self.redact_decoded(s, hits, 0)
    }

    /// [`Redactor::redact_str`] of text decoded `depth` times already.
    fn redact_decoded(&self, s: &str, hits: &mut Hits, depth: usize) -> Option<String> {
        let mut current: Option<String> = None;
        for _ in 0..MAX_PASSES {
            let mut changed = false;
            // Escaped text first: there a match spans the escapes, where over the plain text
            // a value's pattern stops at the first backslash and leaves the rest.
            let text = current.as_deref().unwrap_or(s);
            if let Some(out) = self.through_escapes(text, hits) {
                current = Some(out);
                changed = true;
            }
            for &i in &self.text {
                let Matcher::Pattern { regex, groups, .. } = &self.rules[i].matcher else {
                    continue;
                };
                let text = current.as_deref().unwrap_or(s);
                if let Some((out, n)) = apply(regex, groups, &self.rules[i].marker, text) {
                    add_hit(hits, i, n);
                    current = Some(out);
                    changed = true;
                }
            }
            let text = current.as_deref().unwrap_or(s);
            if let Some(out) = self.through_base64(text, hits, depth) {
                current = Some(out);
                changed = true;
            }
            if !changed {
                break;
            }
        }
        current
    }

    /// The patterns over `text` with its JSON string escapes decoded (one level, then two,
    /// then three): each secret found there is replaced in `text` where its escaped form
    /// was. `None` when nothing is found.
    fn through_escapes(&self, text: &str, hits: &mut Hits) -> Option<String> {
        let mut current: Option<String> = None;
        for level in 1..=MAX_ESCAPE_LEVELS {
            let Some(mut view) = Unescaped::of(current.as_deref().unwrap_or(text), level) else {
                break;
            };
            for &i in &self.text {
                let Matcher::Pattern { regex, groups, .. } = &self.rules[i].matcher else {
                    continue;
                };
                let view_markers = marker_spans(&view.text);
                let spans: Vec<Range<usize>> = spans(regex, groups, &view.text)
                    .into_iter()
                    .filter(|s| !s.is_empty() && !untouchable(s, &view_markers))
                    .map(|s| view.origin(&s))
                    .collect();
                let base = current.as_deref().unwrap_or(text);
                if let Some((out, n)) = replace(base, &spans, &self.rules[i].marker) {
                    add_hit(hits, i, n);
                    // The next rule reads the view of what is left: its spans moved.
                    let next = Unescaped::of(&out, level);
                    current = Some(out);
                    match next {
                        Some(next) => view = next,
                        None => break,
                    }
                }
            }
        }
        current
    }

    /// Base64 runs of `text` whose decoded text holds a secret by the other rules, replaced
    /// whole; the rules that found it are counted beside the decoding rule.
    fn through_base64(&self, text: &str, hits: &mut Hits, depth: usize) -> Option<String> {
        let rule = self.base64?;
        if depth >= MAX_DECODE_DEPTH {
            return None;
        }
        let markers = marker_spans(text);
        let mut found: Vec<Range<usize>> = Vec::new();
        for run in BASE64_RUN.find_iter(text) {
            // Wrapped base64 is decoded whole; lines that are not one text, one by one.
            let mut candidates = vec![run.range()];
            if run.as_str().contains('\n') && decode_base64(run.as_str()).is_none() {
                candidates = run
                    .as_str()
                    .split_inclusive('\n')
                    .scan(run.start(), |at, line| {
                        let start = *at;
                        *at += line.len();
                        Some(start..start + line.trim_end().len())
                    })
                    .collect();
            }
            for span in candidates {
                if span.len() < MIN_BASE64_CHARS || untouchable(&span, &markers) {
                    continue;
                }
                let Some(decoded) = decode_base64(&text[span.clone()]) else {
                    continue;
                };
                let mut inner = Hits::new();
                if self
                    .redact_decoded(&decoded, &mut inner, depth + 1)
                    .is_some()
                {
                    for (r, n) in inner {
                        add_hit(hits, r, n);
                    }
                    found.push(span);
                }
            }
        }
        let (out, n) = replace(text, &found, &self.rules[rule].marker)?;
        add_hit(hits, rule, n);
        Some(out)
    }

    fn names_rule(&self, place: Place, name: &str) -> Option<usize> {
        (0..self.rules.len()).find(|&i| self.rules[i].names_match(place, name))
    }

    fn structural_rule(&self, which: Structural) -> Option<usize> {
        (0..self.rules.len())
            .find(|&i| matches!(self.rules[i].matcher, Matcher::Structural(s) if s == which))
    }

    /// Replaces `value` whole by rule `rule`'s marker, unless it is empty or a marker already.
    fn replace_whole(
        &self,
        value: &mut Value,
        rule: usize,
        location: &str,
        length: Option<usize>,
        file: &str,
        report: &mut Report,
    ) {
        match value {
            Value::Null => return,
            Value::String(s) if s.is_empty() || is_markers(s) => return,
            _ => {}
        }
        *value = Value::String(self.rules[rule].marker.clone());
        report.add(&self.rules[rule].id, file, location, 1, length);
    }

    fn walk(
        &self,
        value: &mut Value,
        pointer: &mut String,
        kind: Option<&str>,
        file: &str,
        report: &mut Report,
    ) {
        match value {
            Value::String(s) => {
                let mut hits = Hits::new();
                if let Some(out) = self.redact_str(s, &mut hits) {
                    *s = out;
                }
                for (rule, n) in hits {
                    report.add(&self.rules[rule].id, file, pointer, n, None);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    self.walk(item, pointer, None, file, report);
                    pointer.truncate(len);
                }
            }
            Value::Object(object) => {
                let own_kind = object
                    .get("kind")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let kind = own_kind.as_deref().or(kind).map(str::to_string);
                self.structural(object, pointer, kind.as_deref(), file, report);
                // Items of a typed list (PodList) may lack their kind: they take it from the list.
                let item_kind = own_kind
                    .as_deref()
                    .and_then(|k| k.strip_suffix("List"))
                    .filter(|k| !k.is_empty())
                    .map(str::to_string);
                for (key, child) in object.iter_mut() {
                    let len = pointer.len();
                    push_token(pointer, key);
                    match child {
                        Value::Array(items) if key == "items" => {
                            for (i, item) in items.iter_mut().enumerate() {
                                let len = pointer.len();
                                pointer.push('/');
                                pointer.push_str(&i.to_string());
                                self.walk(item, pointer, item_kind.as_deref(), file, report);
                                pointer.truncate(len);
                            }
                        }
                        _ => self.walk(child, pointer, None, file, report),
                    }
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Secret values, ConfigMap keys, annotations, env vars and named fields of one object.
    fn structural(
        &self,
        object: &mut Map<String, Value>,
        pointer: &str,
        kind: Option<&str>,
        file: &str,
        report: &mut Report,
    ) {
        let at = |parts: &[&str]| {
            let mut p = pointer.to_string();
            for part in parts {
                push_token(&mut p, part);
            }
            p
        };
        if kind == Some("Secret")
            && let Some(rule) = self.structural_rule(Structural::SecretValue)
        {
            for field in ["data", "stringData"] {
                if let Some(Value::Object(data)) = object.get_mut(field) {
                    for (key, value) in data.iter_mut() {
                        let length = match value {
                            Value::String(s) if field == "data" => Some(base64_decoded_len(s)),
                            Value::String(s) => Some(s.len()),
                            _ => None,
                        };
                        self.replace_whole(value, rule, &at(&[field, key]), length, file, report);
                    }
                }
            }
        }
        if kind == Some("ConfigMap") {
            for field in ["data", "binaryData"] {
                if let Some(Value::Object(data)) = object.get_mut(field) {
                    for (key, value) in data.iter_mut() {
                        if let Some(rule) = self.names_rule(Place::ConfigMapData, key) {
                            self.replace_whole(value, rule, &at(&[field, key]), None, file, report);
                        }
                    }
                }
            }
        }
        if let Some(Value::Object(metadata)) = object.get_mut("metadata")
            && let Some(Value::Object(annotations)) = metadata.get_mut("annotations")
        {
            let last_applied = self.structural_rule(Structural::LastAppliedConfiguration);
            for (key, value) in annotations.iter_mut() {
                let rule = if key == LAST_APPLIED {
                    last_applied
                } else {
                    self.names_rule(Place::Annotations, key)
                };
                if let Some(rule) = rule {
                    let location = at(&["metadata", "annotations", key]);
                    self.replace_whole(value, rule, &location, None, file, report);
                }
            }
        }
        if let Some(Value::Array(env)) = object.get_mut("env") {
            for (i, var) in env.iter_mut().enumerate() {
                let Value::Object(var) = var else { continue };
                let Some(rule) = var
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(|name| self.names_rule(Place::Env, name))
                else {
                    continue;
                };
                if let Some(value) = var.get_mut("value") {
                    let location = at(&["env", &i.to_string(), "value"]);
                    self.replace_whole(value, rule, &location, None, file, report);
                }
            }
        }
        for field in ["command", "args"] {
            let Some(Value::Array(items)) = object.get_mut(field) else {
                continue;
            };
            for i in 1..items.len() {
                // `--db-password VALUE`: the flag names the item after it; `--flag=VALUE` is
                // one item, the patterns' to find.
                let Some(flag) = items[i - 1]
                    .as_str()
                    .filter(|f| f.starts_with('-') && !f.contains('='))
                    .map(|f| f.trim_start_matches('-').to_string())
                else {
                    continue;
                };
                let Some(rule) = self.names_rule(Place::Args, &flag) else {
                    continue;
                };
                // A flag after a flag: the first one takes no value.
                if items[i].as_str().is_some_and(|v| v.starts_with('-')) {
                    continue;
                }
                let location = at(&[field, &i.to_string()]);
                self.replace_whole(&mut items[i], rule, &location, None, file, report);
            }
        }
        for (key, value) in object.iter_mut() {
            if value.is_string()
                && let Some(rule) = self.names_rule(Place::Fields, key)
            {
                self.replace_whole(value, rule, &at(&[key]), None, file, report);
            }
        }
    }
}

/// Appends one JSON pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Bytes a base64 string decodes to (whitespace ignored).
fn base64_decoded_len(s: &str) -> usize {
    let chars = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .count();
    chars * 3 / 4
}

fn marker_spans(text: &str) -> Vec<Range<usize>> {
    if !text.contains("<redacted:") {
        return Vec::new();
    }
    MARKER.find_iter(text).map(|m| m.range()).collect()
}

/// Whether `text` is nothing but markers.
fn is_markers(text: &str) -> bool {
    !text.is_empty() && untouchable(&(0..text.len()), &marker_spans(text))
}

/// A span that must be left alone: it is only markers (redacted already), or it would cut a
/// marker apart. `markers` are in order and do not overlap.
fn untouchable(span: &Range<usize>, markers: &[Range<usize>]) -> bool {
    let mut at = span.start;
    let mut only_markers = true;
    for m in markers {
        if m.start >= span.end {
            break;
        }
        if m.end <= span.start {
            continue;
        }
        if m.start < span.start || m.end > span.end {
            return true;
        }
        if m.start != at {
            only_markers = false;
        }
        at = m.end;
    }
    only_markers && at == span.end
}

/// Where one pattern finds secrets in `text`: the whole match, or its first group that took
/// part of those the rule names.
fn spans(regex: &Regex, groups: &[usize], text: &str) -> Vec<Range<usize>> {
    if groups == [0] {
        regex.find_iter(text).map(|m| m.range()).collect()
    } else {
        regex
            .captures_iter(text)
            .filter_map(|c| groups.iter().find_map(|&g| c.get(g)).map(|m| m.range()))
            .collect()
    }
}

/// One pattern over `text`: the text with each secret replaced by `marker`, and how many.
fn apply(regex: &Regex, groups: &[usize], marker: &str, text: &str) -> Option<(String, usize)> {
    replace(text, &spans(regex, groups, text), marker)
}

/// `text` with each of `spans` (in order) replaced by `marker`, and how many were; spans
/// that are empty, overlap one before, or are markers or cut one are left.
fn replace(text: &str, spans: &[Range<usize>], marker: &str) -> Option<(String, usize)> {
    if spans.is_empty() {
        return None;
    }
    let markers = marker_spans(text);
    // Spans come in order: markers wholly before the current one are passed once.
    let mut first = 0;
    let mut out = String::new();
    let mut last = 0;
    let mut count = 0;
    for span in spans {
        while markers.get(first).is_some_and(|m| m.end <= span.start) {
            first += 1;
        }
        if span.is_empty() || span.start < last || untouchable(span, &markers[first..]) {
            continue;
        }
        out.push_str(&text[last..span.start]);
        out.push_str(marker);
        last = span.end;
        count += 1;
    }
    if count == 0 {
        return None;
    }
    out.push_str(&text[last..]);
    Some((out, count))
}

/// Text with its JSON string escapes (`\"`, `\\`, `\/`, `\n`, `\uXXXX` and the rest) decoded
/// some levels deep, and for each of its bytes the span of the original it came from.
struct Unescaped {
    text: String,
    from: Vec<Range<usize>>,
}

impl Unescaped {
    /// `text` decoded `levels` times; `None` when a level has no escape to decode.
    fn of(text: &str, levels: usize) -> Option<Unescaped> {
        let mut view = unescape_once(text)?;
        for _ in 1..levels {
            let next = unescape_once(&view.text)?;
            let from = next
                .from
                .iter()
                .map(|r| view.from[r.start].start..view.from[r.end - 1].end)
                .collect();
            view = Unescaped {
                text: next.text,
                from,
            };
        }
        Some(view)
    }

    /// The span of the original a span of the decoded text came from.
    fn origin(&self, span: &Range<usize>) -> Range<usize> {
        self.from[span.start].start..self.from[span.end - 1].end
    }
}

fn unescape_once(text: &str) -> Option<Unescaped> {
    if !text.contains('\\') {
        return None;
    }
    let hex4 = |at: usize| {
        text.get(at..at + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut out = String::with_capacity(text.len());
    let mut from = Vec::with_capacity(text.len());
    let mut decoded = false;
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let escape = match (c, text.as_bytes().get(i + 1)) {
            ('\\', Some(b'"')) => Some(('"', 2)),
            ('\\', Some(b'\\')) => Some(('\\', 2)),
            ('\\', Some(b'/')) => Some(('/', 2)),
            ('\\', Some(b'n')) => Some(('\n', 2)),
            ('\\', Some(b'r')) => Some(('\r', 2)),
            ('\\', Some(b't')) => Some(('\t', 2)),
            ('\\', Some(b'b')) => Some(('\u{8}', 2)),
            ('\\', Some(b'f')) => Some(('\u{c}', 2)),
            ('\\', Some(b'u')) => match hex4(i + 2) {
                Some(high @ 0xd800..=0xdbff) => match (text.get(i + 6..i + 8), hex4(i + 8)) {
                    (Some("\\u"), Some(low @ 0xdc00..=0xdfff)) => {
                        char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))
                            .map(|c| (c, 12))
                    }
                    _ => None,
                },
                Some(code) => char::from_u32(code).map(|c| (c, 6)),
                None => None,
            },
            _ => None,
        };
        decoded |= escape.is_some();
        let (c, len) = escape.unwrap_or((c, c.len_utf8()));
        let at = out.len();
        out.push(c);
        from.extend(std::iter::repeat_n(i..i + len, out.len() - at));
        i += len;
    }
    decoded.then_some(Unescaped { text: out, from })
}

/// Base64 (standard or URL-safe, padded or not, wrapped or not) decoded, when it decodes to
/// text: valid UTF-8 with no controls but line breaks and tabs. Anything else (a digest, a
/// name that happens to be in the alphabet, binary data) holds nothing the rules could read.
fn decode_base64(run: &str) -> Option<String> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);
    let compact: String = run.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > MAX_BASE64_BYTES {
        return None;
    }
    let standard = compact.contains(['+', '/']);
    let url_safe = compact.contains(['-', '_']);
    let bytes = match (standard, url_safe) {
        (true, true) => return None,
        (false, true) => URL_SAFE.decode(&compact).ok()?,
        _ => STANDARD.decode(&compact).ok()?,
    };
    let text = String::from_utf8(bytes).ok()?;
    let readable = !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    readable.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::{Path, PathBuf};

    fn redactor() -> Redactor {
        Redactor::new(&RuleSet::builtin(), Profile::default())
    }

    /// One string through the text rules: the output and the rules that fired.
    fn run(text: &str) -> (String, Vec<String>) {
        let mut report = Report::default();
        let out = redactor().text(text, "t.log", &mut report);
        let rules = report.redactions().map(|r| r.rule.clone()).collect();
        (out, rules)
    }

    fn assert_redacted(text: &str, secret: &str, rule: &str) {
        let (out, rules) = run(text);
        assert!(
            !out.contains(secret),
            "{rule}: `{secret}` survives in {out:?}"
        );
        assert!(
            out.contains(&format!("<redacted:{rule}>")),
            "{rule}: no marker in {out:?} (rules fired: {rules:?})"
        );
        assert_eq!(rules.first().map(String::as_str), Some(rule), "{out:?}");
    }

    fn assert_kept(text: &str) {
        let (out, rules) = run(text);
        assert_eq!(out, text, "redacted by {rules:?}");
    }

    #[test]
    fn builtin_rules_are_well_formed() {
        let set = RuleSet::builtin();
        assert!(set.rules().len() >= 14);
        for r in set.rules() {
            assert!(RULE_ID.is_match(&r.id), "{}", r.id);
            assert!(!r.description.is_empty(), "{} has no description", r.id);
            assert_eq!(r.marker(), format!("<redacted:{}>", r.id));
            assert_eq!(r.origin, Origin::Builtin);
        }
        let ip = set.get("ip-address").unwrap();
        assert!(!ip.enabled && ip.when.as_deref() == Some("redact-ips"));
        assert!(!ip.is_active(&Profile::default()));
        assert!(ip.is_active(&Profile { redact_ips: true }));
        assert!(set.get("secret-value").unwrap().enabled);
    }

    #[test]
    fn aws_access_key() {
        assert_redacted(
            "using key AKIAIOSFODNN7EXAMPLE for s3",
            "AKIAIOSFODNN7EXAMPLE",
            "aws-access-key",
        );
        assert_redacted(
            r#"{"AccessKeyId": "ASIAY34FZKBOKMUTVV7A"}"#,
            "ASIAY34FZKBOKMUTVV7A",
            "aws-access-key",
        );
        // Prose, and ids of other lengths.
        assert_kept("AKIA keys are long-term; ASIA ones are temporary");
        assert_kept("AKIAIOSFODNN7EXAMPLEXYZ is too long to be one");
    }

    #[test]
    fn aws_unique_id() {
        assert_redacted(
            "uid=\"aws-iam-authenticator:111122223333:AROAJQABLZS4A3QDU576Q\"",
            "AROAJQABLZS4A3QDU576Q",
            "aws-unique-id",
        );
        assert_kept("arn:aws:iam::111122223333:role/prod-eu-key-rotation");
    }

    #[test]
    fn aws_secret_key() {
        let key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        for text in [
            format!("aws_secret_access_key = {key}"),
            format!("AWS_SECRET_ACCESS_KEY={key}"),
            format!(r#"{{"SecretAccessKey": "{key}"}}"#),
            format!(r#"{{\"secretAccessKey\":\"{key}\"}}"#),
        ] {
            assert_redacted(&text, key, "aws-secret-key");
        }
        let (out, _) = run(&format!("aws_secret_access_key = {key}"));
        assert_eq!(out, "aws_secret_access_key = <redacted:aws-secret-key>");
        assert_kept("aws_secret_access_key is not set; see the docs");
    }

    #[test]
    fn aws_session_token() {
        let token = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQDexample";
        assert_redacted(
            &format!("export AWS_SESSION_TOKEN={token}"),
            token,
            "aws-session-token",
        );
        assert_redacted(
            &format!(r#""SessionToken": "{token}""#),
            token,
            "aws-session-token",
        );
        let url = "https://sts.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F%2Fexample&X-Amz-Date=20261120T031244Z";
        let (out, _) = run(url);
        assert!(out.contains("X-Amz-Security-Token=<redacted:aws-session-token>&X-Amz-Date"));
        assert_kept("the session token expired; re-run aws sso login");
    }

    #[test]
    fn eks_token() {
        let token = "k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eQ";
        assert_redacted(&format!("token: {token}"), token, "eks-token");
        assert_kept("EKS tokens start with k8s-aws-v1. and last 15 minutes");
    }

    #[test]
    fn jwt() {
        let jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJrdWJlcm5ldGVzIiwic3ViIjoic3lzdGVtIn0.c2lnbmF0dXJl";
        assert_redacted(
            &format!("got token {jwt} from projected volume"),
            jwt,
            "jwt",
        );
        assert_kept("header eyJhbGciOiJSUzI1NiJ9 alone is no token");
    }

    #[test]
    fn pem_private_key() {
        let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";
        // Real newlines in one string (a ConfigMap value, a JSON field).
        let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----");
        let mut v = json!({"key.pem": format!("before\n{pem}\nafter")});
        let mut report = Report::default();
        redactor().json(&mut v, "x.json", &mut report);
        assert_eq!(v["key.pem"], "before\n<redacted:pem-private-key>\nafter");
        // JSON-escaped: the newlines are the two characters \n.
        let escaped = format!(
            r#"{{"msg":"loaded -----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n done"}}"#
        );
        let (out, _) = run(&escaped);
        assert_eq!(out, r#"{"msg":"loaded <redacted:pem-private-key>\n done"}"#);
        // A log, line by line, with kubectl's timestamps.
        let log = format!(
            "2026-11-20T03:00:00.000000001Z starting\n\
             2026-11-20T03:00:00.000000002Z -----BEGIN EC PRIVATE KEY-----\n\
             2026-11-20T03:00:00.000000003Z {body}\n\
             2026-11-20T03:00:00.000000004Z {body}\n\
             2026-11-20T03:00:00.000000005Z -----END EC PRIVATE KEY----- loaded\n\
             2026-11-20T03:00:00.000000006Z ready\n"
        );
        let mut report = Report::default();
        let out = redactor().text(&log, "app.log", &mut report);
        assert!(!out.contains(body), "{out}");
        assert_eq!(out.lines().count(), 6);
        assert!(
            out.contains("00.000000003Z <redacted:pem-private-key>\n"),
            "{out}"
        );
        assert!(
            out.contains("00.000000005Z <redacted:pem-private-key> loaded\n"),
            "{out}"
        );
        assert!(out.ends_with("00.000000006Z ready\n"), "{out}");
        let lines: Vec<&str> = report.redactions().map(|r| r.location.as_str()).collect();
        assert_eq!(lines, ["line 2", "line 3", "line 4", "line 5"]);
        // Certificates are public.
        assert_kept(
            "-----BEGIN CERTIFICATE-----\\nMIIC5zCCAc+gAwIBAgIBADANBgkq\\n-----END CERTIFICATE-----",
        );
    }

    #[test]
    fn authorization_header() {
        for (text, secret) in [
            (
                "Authorization: Bearer 3f9a8b7c6d5e4f3a2b1c",
                "3f9a8b7c6d5e4f3a2b1c",
            ),
            (
                r#"{"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}"#,
                "dXNlcjpwYXNzd29yZA==",
            ),
            (
                r#"{\"authorization\":\"Bearer s3cr3t-opaque-token\"}"#,
                "s3cr3t-opaque-token",
            ),
            (
                "headers: map[Authorization:[Bearer sk_live_51Habc]]",
                "sk_live_51Habc",
            ),
            (
                "Authorization: AWS4-HMAC-SHA256 Credential=x/20261120/eu-west-1/eks/aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
                "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
            ),
        ] {
            assert_redacted(text, secret, "authorization-header");
        }
        assert_kept(
            r#"{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}"#,
        );
        assert_kept("RBAC: authorization failed for user alice");
        // kubectl -v=9 masks the token itself.
        assert_kept(r#"curl -H "Authorization: Bearer <masked>" https://api"#);
    }

    #[test]
    fn url_credentials() {
        let (out, rules) =
            run("DATABASE_URL postgres://app:S3cretPassw0rd@db.data.svc:5432/orders");
        assert_eq!(
            out,
            "DATABASE_URL postgres://app:<redacted:url-credentials>@db.data.svc:5432/orders"
        );
        assert_eq!(rules, ["url-credentials"]);
        let (out, _) = run("redis://:p@ss:w0rd@cache:6379/0");
        assert_eq!(out, "redis://:<redacted:url-credentials>@cache:6379/0");
        assert_kept("Get \"http://10.0.34.40:8080/healthz\": context deadline exceeded");
        assert_kept("git clone https://git@github.com/acme/app.git");
    }

    #[test]
    fn connection_string_password() {
        for (text, secret) in [
            (
                "jdbc:sqlserver://db:1433;databaseName=orders;user=sa;password=Sup3r!Secret;encrypt=true",
                "Sup3r!Secret",
            ),
            (
                "Server=tcp:db,1433;User ID=app;Password={Sup3r;Secret};",
                "Sup3r;Secret",
            ),
            (
                "host=db port=5432 dbname=orders user=app password='a b c' sslmode=require",
                "'a b c'",
            ),
            (
                "jdbc:postgresql://db/orders?user=app&pwd=Hunter2x&ssl=true",
                "Hunter2x",
            ),
        ] {
            assert_redacted(text, secret, "connection-string-password");
        }
        assert_kept("--password-file=/etc/app/db-password");
    }

    #[test]
    fn secret_key_value() {
        for (text, secret) in [
            (
                r#"{"level":"info","password": "hunter2 two"}"#,
                "hunter2 two",
            ),
            (
                r#"{"log":"{\"user\":\"a\",\"password\":\"hunter2\"}"}"#,
                "hunter2",
            ),
            (r#"password\":\"hunter2\"}"#, "hunter2"),
            ("db_password: hunter2", "hunter2"),
            ("client_secret=0b5c2e1f9d8a", "0b5c2e1f9d8a"),
            (
                "GET /callback?code=abc&token=tk_8d7f6e5d4c HTTP/1.1",
                "tk_8d7f6e5d4c",
            ),
            ("api_key='ak-123456'", "ak-123456"),
            (
                "GITHUB_TOKEN=ghp_abcdefghij0123456789",
                "ghp_abcdefghij0123456789",
            ),
        ] {
            assert_redacted(text, secret, "secret-key-value");
        }
        for near in [
            "secretName: web-tls",
            "tokenExpirationSeconds: 3607",
            r#"MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found"#,
            r#"{"secretKeyRef":{"key":"password","name":"db"}}"#,
            "token:",
            r#""password": """#,
            "get identity: get credentials: failed to refresh cached credentials",
        ] {
            assert_kept(near);
        }
    }

    #[test]
    fn ip_addresses_stay_unless_asked() {
        let text =
            "dial tcp 10.0.34.40:8080 from fd00:ec2::254 and 2001:db8:85a3:0:0:8a2e:370:7334";
        assert_kept(text);
        let strict = Redactor::new(&RuleSet::builtin(), Profile { redact_ips: true });
        let mut report = Report::default();
        let out = strict.text(text, "t.log", &mut report);
        assert_eq!(
            out,
            "dial tcp <redacted:ip-address>:8080 from <redacted:ip-address> and <redacted:ip-address>"
        );
        assert_eq!(report.total(), 3);
        // Times, versions and EC2 host names are not addresses.
        let other = "03:12:44 v1.31.2 ip-10-0-32-17.eu-west-1.compute.internal";
        assert_eq!(strict.text(other, "t.log", &mut report), other);
    }

    #[test]
    fn sensitive_names_are_word_parts() {
        let set = RuleSet::builtin();
        let rule = set.get("sensitive-name").unwrap();
        let matches = |n: &str| rule.names_match(Place::Env, n);
        for name in [
            "DB_PASSWORD",
            "PGPASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "API_KEY",
            "apiKey",
            "accessKey",
            "SSH_KEY",
            "tls.key",
            "GITHUB_TOKEN",
            "example.com/api-token",
            "slackToken",
            "TOKENS",
            "credentials",
            // A name, not a secret: redacted anyway, on the safe side.
            "SECRET_NAME",
        ] {
            assert!(matches(name), "{name} should be redacted");
        }
        for name in [
            "keyboard",
            "KEYBOARD_LAYOUT",
            "MONKEY",
            "KEYCLOAK_URL",
            "hotkey",
            "TOKENIZER",
            "tokenizer_model",
            "PWD",
            "HOME",
            "PASSENGER_COUNT",
            "eks.amazonaws.com/token-expiration",
            // Paths and flags.
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "REDIS_PASSWORD_FILE",
            "tokenPath",
            "SECRETS_DIR",
            "ALLOW_EMPTY_PASSWORD",
        ] {
            assert!(!matches(name), "{name} should be kept");
        }
    }

    #[test]
    fn secret_fields_end_in_the_word() {
        let mut v = json!({
            "Credentials": {
                "AccessKeyId": "ASIAY34FZKBOKMUTVV7A",
                "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "SessionToken": "IQoJb3JpZ2luX2VjEJr",
                "Expiration": "2026-11-20T04:12:44Z"
            },
            "spec": {
                "tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}],
                "volumes": [{"name": "tls", "secret": {"secretName": "web-tls"}}],
                "clientSecret": "0b5c2e1f9d8a",
                "automountServiceAccountToken": false
            }
        });
        let mut report = Report::default();
        redactor().json(&mut v, "aws/sts.json", &mut report);
        assert_eq!(v["Credentials"]["AccessKeyId"], "<redacted:aws-access-key>");
        assert_eq!(
            v["Credentials"]["SecretAccessKey"],
            "<redacted:secret-field>"
        );
        assert_eq!(v["Credentials"]["SessionToken"], "<redacted:secret-field>");
        assert_eq!(v["Credentials"]["Expiration"], "2026-11-20T04:12:44Z");
        assert_eq!(
            v["spec"]["tolerations"][0]["key"],
            "node.kubernetes.io/unschedulable"
        );
        assert_eq!(v["spec"]["volumes"][0]["secret"]["secretName"], "web-tls");
        assert_eq!(v["spec"]["clientSecret"], "<redacted:secret-field>");
        assert_eq!(v["spec"]["automountServiceAccountToken"], false);
    }

    #[test]
    fn secrets_keep_name_type_and_keys_with_lengths() {
        let mut v = json!({
            "apiVersion": "v1",
            "kind": "SecretList",
            "items": [{
                "metadata": {"name": "db-creds", "namespace": "data", "annotations": {
                    LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"
                }},
                "type": "Opaque",
                "data": {"password": "aHVudGVyMg==", "username": "YXBw"},
                "stringData": {"note": "plain"}
            }]
        });
        let mut report = Report::default();
        redactor().json(&mut v, "k8s/data/secrets.json", &mut report);
        let item = &v["items"][0];
        assert_eq!(item["metadata"]["name"], "db-creds");
        assert_eq!(item["type"], "Opaque");
        assert_eq!(item["data"]["password"], "<redacted:secret-value>");
        assert_eq!(item["data"]["username"], "<redacted:secret-value>");
        assert_eq!(item["stringData"]["note"], "<redacted:secret-value>");
        assert_eq!(
            item["metadata"]["annotations"][LAST_APPLIED],
            "<redacted:last-applied-configuration>"
        );
        let got: Vec<(String, Option<usize>)> = report
            .redactions()
            .map(|r| (r.location.clone(), r.length))
            .collect();
        assert_eq!(
            got,
            [
                ("/items/0/data/password".to_string(), Some(7)),
                ("/items/0/data/username".to_string(), Some(3)),
                ("/items/0/stringData/note".to_string(), Some(5)),
                (
                    "/items/0/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration"
                        .to_string(),
                    None
                ),
            ]
        );
    }

    #[test]
    fn env_annotations_and_configmap_keys() {
        let mut v = json!([{
            "kind": "Deployment",
            "metadata": {"name": "api", "annotations": {
                "example.com/api-token": "tok-1234",
                "deployment.kubernetes.io/revision": "3",
                "eks.amazonaws.com/token-expiration": "86400"
            }},
            "spec": {"template": {"metadata": {"annotations": {"example.com/webhook-secret": "whsec_123"}},
                "spec": {
                    "initContainers": [{"name": "migrate", "env": [
                        {"name": "DB_PASSWORD", "value": "hunter2"},
                        {"name": "DB_HOST", "value": "db"},
                        {"name": "DB_USER_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
                    ]}],
                    "containers": [{"name": "api", "env": [{"name": "API_KEY", "value": ""}]}]
            }}}
        }, {
            "kind": "ConfigMap",
            "metadata": {"name": "app"},
            "data": {"SMTP_PASSWORD": "mail-pw", "LOG_LEVEL": "info"},
            "binaryData": {"tls.key": "LS0tLS1CRUdJTg=="}
        }]);
        let mut report = Report::default();
        redactor().json(&mut v, "k8s/app.json", &mut report);
        let d = &v[0];
        assert_eq!(
            d["metadata"]["annotations"]["example.com/api-token"],
            "<redacted:sensitive-name>"
        );
        assert_eq!(
            d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "3"
        );
        assert_eq!(
            d["metadata"]["annotations"]["eks.amazonaws.com/token-expiration"],
            "86400"
        );
        let pod = &d["spec"]["template"];
        assert_eq!(
            pod["metadata"]["annotations"]["example.com/webhook-secret"],
            "<redacted:sensitive-name>"
        );
        let env = &pod["spec"]["initContainers"][0]["env"];
        assert_eq!(env[0]["value"], "<redacted:sensitive-name>");
        assert_eq!(env[1]["value"], "db");
        assert_eq!(env[2]["valueFrom"]["secretKeyRef"]["key"], "password");
        // An empty value has nothing to hide.
        assert_eq!(pod["spec"]["containers"][0]["env"][0]["value"], "");
        assert_eq!(v[1]["data"]["SMTP_PASSWORD"], "<redacted:sensitive-name>");
        assert_eq!(v[1]["data"]["LOG_LEVEL"], "info");
        assert_eq!(v[1]["binaryData"]["tls.key"], "<redacted:sensitive-name>");
        let locations: Vec<&str> = report.redactions().map(|r| r.location.as_str()).collect();
        assert_eq!(
            locations,
            [
                "/0/metadata/annotations/example.com~1api-token",
                "/0/spec/template/metadata/annotations/example.com~1webhook-secret",
                "/0/spec/template/spec/initContainers/0/env/0/value",
                "/1/data/SMTP_PASSWORD",
                "/1/binaryData/tls.key",
            ]
        );
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let text = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig\n\
                    password=hunter2 postgres://a:b@c AKIAIOSFODNN7EXAMPLE\n\
                    {\\\"password\\\":\\\"x\\\"} -----BEGIN PRIVATE KEY-----\nabc\n";
        let r = redactor();
        let mut first = Report::default();
        let once = r.text(text, "a.log", &mut first);
        assert!(!first.is_empty());
        let mut second = Report::default();
        assert_eq!(r.text(&once, "a.log", &mut second), once);
        assert!(second.is_empty(), "{:?}", second);

        let mut v = json!({"kind": "Secret", "data": {"a": "eA=="}, "metadata": {"annotations": {
            LAST_APPLIED: "{}", "x/token": "t"}}, "message": text});
        let mut first = Report::default();
        r.json(&mut v, "s.json", &mut first);
        let once = v.clone();
        let mut second = Report::default();
        r.json(&mut v, "s.json", &mut second);
        assert_eq!(v, once);
        assert!(second.is_empty(), "{:?}", second);
    }

    #[test]
    fn report_never_holds_the_secret() {
        let r = redactor();
        let mut report = Report::default();
        let mut v = json!({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}});
        r.json(&mut v, "k8s/s.json", &mut report);
        r.text("token: hunter2\n", "logs/a.log", &mut report);
        let file = report.to_json(&r);
        let text = file.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("aHVudGVyMg"),
            "{text}"
        );
        assert_eq!(file["profile"], json!({"redactIps": false}));
        assert!(
            file["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|id| id == "secret-value")
        );
        assert!(
            !file["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|id| id == "ip-address")
        );
        assert_eq!(
            file["redactions"],
            json!([
                {"rule": "secret-value", "file": "k8s/s.json", "location": "/data/password", "count": 1, "length": 7},
                {"rule": "secret-key-value", "file": "logs/a.log", "location": "line 1", "count": 1}
            ])
        );
        assert_eq!(r.profile_json(), json!({"redactIps": false}));
    }

    #[test]
    fn provider_tokens() {
        for (token, rule) in [
            ("ghp_R8kVtQ2xW7mN4pL9sB3dF6hJ1cY5zA0eU2gT", "github-token"),
            ("gho_R8kVtQ2xW7mN4pL9sB3dF6hJ1cY5zA0eU2gT", "github-token"),
            ("ghu_R8kVtQ2xW7mN4pL9sB3dF6hJ1cY5zA0eU2gT", "github-token"),
            ("ghs_R8kVtQ2xW7mN4pL9sB3dF6hJ1cY5zA0eU2gT", "github-token"),
            ("ghr_R8kVtQ2xW7mN4pL9sB3dF6hJ1cY5zA0eU2gT", "github-token"),
            (
                "github_pat_11ABCDEFG0aBcDeFgHiJkL_MnOpQrStUvWxYz0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789ab",
                "github-token",
            ),
            ("glpat-Zx8Yw7Vu6Ts5Rq4Po3Nm", "gitlab-token"),
            ("glrt-Zx8Yw7Vu6Ts5Rq4Po3Nm", "gitlab-token"),
            (
                "xoxb-1234567890-9876543210-AbCdEfGhIjKlMnOpQrStUvWx",
                "slack-token",
            ),
            (
                "xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef",
                "slack-token",
            ),
            ("xoxa-2-AbCdEfGhIjKlMnOp", "slack-token"),
            (
                "xapp-1-A0123456789-1234567890123-0123456789abcdef",
                "slack-token",
            ),
            ("sk_live_51HcheckoutAbCdEfGhIjKlMnOp", "stripe-key"),
            ("rk_live_51HcheckoutAbCdEfGhIjKlMnOp", "stripe-key"),
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "stripe-key"),
            ("npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "npm-token"),
            ("AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "gcp-api-key"),
            (
                "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOp",
                "ai-api-key",
            ),
            ("hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "ai-api-key"),
            (
                "SG.AbCdEfGhIjKlMnOpQrStUv.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfG",
                "saas-api-key",
            ),
            (
                "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "saas-api-key",
            ),
            (
                "hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOp",
                "vault-token",
            ),
            (
                "AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2T",
                "age-secret-key",
            ),
        ] {
            // Bare in prose, in a JSON string, JSON-escaped in a JSON string, and at the end
            // of a line of a JSON-escaped text.
            for text in [
                format!("using {token} for the sync"),
                format!(r#"{{"webhook": "{token}"}}"#),
                format!(r#"{{"log":"{{\"creds\":\"{token}\"}}"}}"#),
                format!(r#"msg: a\n{token}\nb"#),
            ] {
                assert_redacted(&text, token, rule);
            }
        }
        // The webhook URL keeps its host; what follows is the secret.
        let (out, _) = run(
            "notify https://hooks.slack.com/services/T0123ABCD/B0456EFGH/aBcDeFgHiJkLmNoPqRsTuVwX",
        );
        assert_eq!(
            out,
            "notify https://hooks.slack.com/services/<redacted:slack-webhook>"
        );
        for near in [
            "ghp_ tokens are 40 characters",
            "ghp_short",
            "xoxb- is a bot token prefix",
            "set sk_live_ keys only in production",
            "AIza is the prefix of Google API keys",
            "the glpat- prefix names a GitLab token",
            "npm_config_registry=https://registry.npmjs.org/",
        ] {
            assert_kept(near);
        }
    }

    #[test]
    fn database_urls_and_connection_strings() {
        for (text, secret, rule) in [
            (
                "DATABASE_URL=postgres://orders:Pg-Orders-Pa55@db.data.svc:5432/orders",
                "Pg-Orders-Pa55",
                "url-credentials",
            ),
            (
                "mongodb+srv://app:M0ngo-Atlas-Pa55@cluster0.ab1cd.mongodb.net/app?retryWrites=true",
                "M0ngo-Atlas-Pa55",
                "url-credentials",
            ),
            (
                "jdbc:postgresql://db.data.svc:5432/orders?user=orders&password=Jdbc-Pg-Pa55&ssl=true",
                "Jdbc-Pg-Pa55",
                "connection-string-password",
            ),
            (
                "jdbc:mysql://app:My-Sql-Pa55@mysql.data.svc:3306/app",
                "My-Sql-Pa55",
                "url-credentials",
            ),
            (
                r#"{"dsn":"redis://:R3dis-Pa55@cache:6379/0"}"#,
                "R3dis-Pa55",
                "url-credentials",
            ),
        ] {
            assert_redacted(text, secret, rule);
        }
    }

    #[test]
    fn env_literals_flags_and_args() {
        // A pod spec written out as text (a ConfigMap value, a log line): YAML and JSON.
        let yaml = "containers:\n- name: api\n  env:\n  - name: DB_PASSWORD\n    value: Yaml-Env-Pa55\n  - name: LOG_LEVEL\n    value: info\n";
        let mut v = json!({"kind": "ConfigMap", "data": {"pod.yaml": yaml}});
        redactor().json(&mut v, "cm.json", &mut Report::default());
        let out = v["data"]["pod.yaml"].as_str().unwrap();
        assert!(
            !out.contains("Yaml-Env-Pa55") && out.contains("value: info"),
            "{out}"
        );
        assert!(out.contains("value: <redacted:env-literal>"), "{out}");
        assert_redacted(
            r#"{"env":[{"name":"STRIPE_SECRET","value":"Json-Env-Secret-77"}]}"#,
            "Json-Env-Secret-77",
            "env-literal",
        );
        assert_redacted(
            r#"spec: {\"name\":\"API_TOKEN\",\"value\":\"Escaped-Env-Tok-9\"}"#,
            "Escaped-Env-Tok-9",
            "env-literal",
        );
        // Flags: one word, or the value as the next word of a command line.
        assert_redacted(
            "exec mysql -u root --password My-Flag-Pa55 -h db",
            "My-Flag-Pa55",
            "flag-value",
        );
        assert_redacted(
            "PASSWORD=Plain-Env-Pa55 ./start.sh",
            "Plain-Env-Pa55",
            "connection-string-password",
        );
        assert_redacted(
            "--api-token=Eq-Flag-Tok-1",
            "Eq-Flag-Tok-1",
            "secret-key-value",
        );
        for kept in [
            "--password-file /etc/app/db-password",
            "--secret-name web-tls --namespace shop",
            "--token-ttl 15m",
            "uses --password authentication by default",
        ] {
            let (out, rules) = run(kept);
            assert!(
                !rules.contains(&"flag-value".to_string()) || kept.contains("authentication"),
                "{kept}: {out}"
            );
        }
        // Args of a container: the item after a sensitive flag.
        let mut v = json!({"kind": "Pod", "spec": {"containers": [{
            "name": "api",
            "command": ["/app/server", "--db-password", "Args-Pa55-0", "--verbose"],
            "args": ["--api-key", "Args-Key-1", "--token-file", "/var/run/token", "--debug", "--listen", ":8080"]
        }]}});
        let mut report = Report::default();
        redactor().json(&mut v, "pod.json", &mut report);
        let c = &v["spec"]["containers"][0];
        assert_eq!(
            c["command"],
            json!([
                "/app/server",
                "--db-password",
                "<redacted:sensitive-name>",
                "--verbose"
            ])
        );
        assert_eq!(
            c["args"],
            json!([
                "--api-key",
                "<redacted:sensitive-name>",
                "--token-file",
                "/var/run/token",
                "--debug",
                "--listen",
                ":8080"
            ])
        );
        let locations: Vec<&str> = report.redactions().map(|r| r.location.as_str()).collect();
        assert_eq!(
            locations,
            ["/spec/containers/0/command/2", "/spec/containers/0/args/1"]
        );
    }

    #[test]
    fn secrets_split_by_json_escapes() {
        let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";
        // A PEM key whose dashes are \u002d, inside a JSON document kept as text.
        let dashes = r"\u002d\u002d\u002d\u002d\u002d";
        let text = format!(
            r#"{{"signing":"{dashes}BEGIN EC PRIVATE KEY{dashes}\n{body}\n{dashes}END EC PRIVATE KEY{dashes}\n","kid":"k1"}}"#
        );
        let (out, rules) = run(&text);
        assert!(!out.contains(body), "{out}");
        assert_eq!(
            out,
            r#"{"signing":"<redacted:pem-private-key>\n","kid":"k1"}"#
        );
        assert_eq!(rules, ["pem-private-key"]);
        // A token whose prefix is split by an escape, one and two levels deep.
        let token = "xoxb-1234567890-9876543210-AbCdEfGhIjKlMnOpQrStUvWx";
        for text in [
            format!(r#"{{"bot":"xox\u0062-{}"}}"#, &token[5..]),
            format!(r#"{{"cfg":"{{\"bot\":\"xox\\u0062-{}\"}}"}}"#, &token[5..]),
        ] {
            let (out, rules) = run(&text);
            assert!(!out.contains(&token[5..]), "{out}");
            assert_eq!(rules, ["slack-token"], "{out}");
        }
        // A key name spelled with an escape.
        assert_redacted(
            r#"{"pass\u0077ord": "Escaped-Key-Pa55"}"#,
            "Escaped-Key-Pa55",
            "secret-key-value",
        );
        // An escaped slash inside an AWS secret key: the whole key goes, not its first part.
        let (out, _) =
            run(r#"{"aws_secret_access_key":"wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY"}"#);
        assert_eq!(
            out,
            r#"{"aws_secret_access_key":"<redacted:aws-secret-key>"}"#
        );
        // Escapes with nothing behind them change nothing.
        assert_kept(r#"{"msg":"line one\nline two \u00e9 C:\\temp"}"#);
    }

    #[test]
    fn base64_that_holds_a_secret_goes_whole() {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let auth = STANDARD.encode("deploy:B64-Registry-Pa55");
        let docker = format!(r#"{{"auths":{{"registry.example.com":{{"auth":"{auth}"}}}}}}"#);
        let encoded = STANDARD.encode(&docker);
        let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";
        let pem =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n");
        let kubeconfig = format!(
            "apiVersion: v1\nusers:\n- name: ci\n  user:\n    client-key-data: {}\n    token: Kubeconfig-Tok-42\n",
            STANDARD.encode(&pem)
        );
        let cert = STANDARD.encode(
            "-----BEGIN CERTIFICATE-----\nMIIC5zCCAc+gAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl\n-----END CERTIFICATE-----\n",
        );
        // `base64` wraps at 76 columns.
        let env_file = "PGHOST=db\nPGPASSWORD=Wrapped-Env-Pa55\nPGUSER=app\n".repeat(3);
        let wrapped: String = STANDARD
            .encode(&env_file)
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let mut v = json!({
            "kind": "ConfigMap",
            "metadata": {"name": "ci", "annotations": {
                "example.com/pull-config": encoded,
                "checksum/config": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "example.com/ca": cert,
            }, "uid": "5f0c8a3e-1b2d-4c6e-8f0a-2b4d6f8a0c1e"},
            "data": {
                "dotenv.b64": wrapped,
                "sa.json.b64": URL_SAFE_NO_PAD.encode(r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"}"#),
                "image": "registry.example.com/api@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            },
            "binaryData": {"kubeconfig": STANDARD.encode(&kubeconfig)}
        });
        let mut report = Report::default();
        redactor().json(&mut v, "cm.json", &mut report);
        let annotations = &v["metadata"]["annotations"];
        assert_eq!(
            annotations["example.com/pull-config"],
            "<redacted:base64-encoded>"
        );
        assert_eq!(v["binaryData"]["kubeconfig"], "<redacted:base64-encoded>");
        assert_eq!(v["data"]["sa.json.b64"], "<redacted:base64-encoded>");
        let dotenv = v["data"]["dotenv.b64"].as_str().unwrap();
        assert!(!dotenv.contains("UEdQQVNTV09SRD1"), "{dotenv}");
        assert!(dotenv.contains("<redacted:base64-encoded>"), "{dotenv}");
        // Not secrets: digests, hashes, uids, a certificate.
        assert_eq!(
            annotations["checksum/config"],
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
        assert_eq!(annotations["example.com/ca"], cert);
        assert_eq!(v["metadata"]["uid"], "5f0c8a3e-1b2d-4c6e-8f0a-2b4d6f8a0c1e");
        assert!(
            v["data"]["image"].as_str().unwrap().ends_with(
                "@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            )
        );
        // The report says what was found inside, beside the decoding.
        let at = |loc: &str| -> Vec<&str> {
            report
                .redactions()
                .filter(|r| r.location == loc)
                .map(|r| r.rule.as_str())
                .collect()
        };
        assert_eq!(
            at("/metadata/annotations/example.com~1pull-config"),
            ["docker-auth", "base64-encoded"]
        );
        let kube = at("/binaryData/kubeconfig");
        assert!(
            kube.contains(&"pem-private-key") && kube.contains(&"secret-key-value"),
            "{kube:?}"
        );
        // Plain Docker config JSON: the auth goes, the registry stays.
        let (out, _) = run(&docker);
        assert_eq!(
            out,
            r#"{"auths":{"registry.example.com":{"auth":"<redacted:docker-auth>"}}}"#
        );
    }

    #[test]
    fn decoding_rules_are_built_in_and_always_run() {
        let e = user("disable = [\"base64-encoded\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`base64-encoded` cannot be disabled"), "{e}");
        let e = user("[[rule]]\nid = \"x\"\ndecode = \"base64\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("decode rules are built in"), "{e}");
        let set = RuleSet::builtin();
        assert_eq!(set.get("base64-encoded").unwrap().kind, RuleKind::Decode);
    }

    fn user(text: &str) -> Result<RuleSet, RuleError> {
        RuleSet::builtin()
            .with_user_rules(Path::new("/home/u/.config/ktriage/redaction.toml"), text)
    }

    #[test]
    fn user_rules_add_and_disable() {
        let set = user(
            "disable = [\"aws-unique-id\"]\n\
             [[rule]]\n\
             id = \"acme-api-key\"\n\
             description = \"ACME keys\"\n\
             pattern = 'acme_(live|test)_[A-Za-z0-9]{8}'\n\
             [[rule]]\n\
             id = \"acme-env\"\n\
             names = '^ACME_'\n\
             in = [\"env\", \"fields\"]\n",
        )
        .unwrap();
        let disabled = set.get("aws-unique-id").unwrap();
        assert!(disabled.disabled && !disabled.enabled);
        let acme = set.get("acme-api-key").unwrap();
        assert_eq!(acme.kind, RuleKind::Pattern);
        assert_eq!(
            acme.origin.to_string(),
            "/home/u/.config/ktriage/redaction.toml"
        );
        let r = Redactor::new(&set, Profile::default());
        let mut report = Report::default();
        let out = r.text(
            "k=acme_live_abcdEFGH AROAJQABLZS4A3QDU576Q",
            "a.log",
            &mut report,
        );
        assert_eq!(out, "k=<redacted:acme-api-key> AROAJQABLZS4A3QDU576Q");
        let mut v = json!({"env": [{"name": "ACME_URL", "value": "https://acme"}], "ACME_ID": "7"});
        r.json(&mut v, "x.json", &mut report);
        assert_eq!(
            v,
            json!({"env": [{"name": "ACME_URL", "value": "<redacted:acme-env>"}], "ACME_ID": "<redacted:acme-env>"})
        );
    }

    #[test]
    fn user_file_errors_say_where_and_what_to_fix() {
        let cases = [
            (
                "[[rule]]\nid = \"x\"\npattern = 'a(b'\n",
                ":3:11: rule `x`: `pattern` is not a valid regular expression",
            ),
            (
                "[[rule]]\nid = \"x\"\npatern = 'ab'\n",
                ":3:1: unknown field `patern`",
            ),
            (
                "[[rule]]\nid = \"jwt\"\npattern = 'ab'\n",
                ":2:6: rule id `jwt` is already defined (built-in)",
            ),
            (
                "[[rule]]\nid = \"My_Rule\"\npattern = 'ab'\n",
                ":2:6: rule id `My_Rule` must be kebab-case",
            ),
            (
                "[[rule]]\nid = \"x\"\ndescription = \"d\"\n",
                ":1:1: rule `x` needs exactly one of",
            ),
            (
                "[[rule]]\nid = \"x\"\npattern = 'a'\ngroup = 2\n",
                ":4:9: rule `x`: `group` must number capture groups of the pattern, which has 0",
            ),
            (
                "[[rule]]\nid = \"x\"\nnames = 'a'\nin = [\"labels\"]\n",
                ":4:6: rule `x`: `in` lists `labels`",
            ),
            (
                "[[rule]]\nid = \"x\"\nstructural = \"secret-value\"\n",
                ":3:14: rule `x`: structural rules are built in",
            ),
            (
                "[[rule]]\nid = \"x\"\npattern = 'a'\nwhen = \"always\"\n",
                ":4:8: rule `x`: `when` must be one of: redact-ips",
            ),
            (
                "disable = [\"secret-value\"]\n",
                ":1:12: `secret-value` cannot be disabled",
            ),
            (
                "disable = [\"nope\"]\n",
                ":1:12: `disable` names `nope`, which is not a built-in rule",
            ),
            (
                "[[rule]]\nid = \"x\"\nnames = 'a'\ngroup = 1\n",
                ":4:9: rule `x`: `group` only goes with `pattern` rules",
            ),
            (
                "[[rule]]\nid = \"x\"\npattern = '(a)'\ngroup = [1, -1]\n",
                ":4:9: rule `x`: `group` must number capture groups of the pattern, which has 1",
            ),
        ];
        for (text, want) in cases {
            let e = user(text).expect_err(text).to_string();
            let want = format!("/home/u/.config/ktriage/redaction.toml{want}");
            assert!(e.starts_with(&want), "got:  {e}\nwant: {want}…");
        }
    }

    #[test]
    fn the_user_file_adds_rules_and_no_file_adds_none() {
        use crate::config::UserFile;
        assert_eq!(
            RuleSet::with_user_file(None).unwrap().rules().len(),
            RuleSet::builtin().rules().len()
        );
        let file = |text: &str| UserFile {
            path: PathBuf::from("/home/u/.config/ktriage/redaction.toml"),
            text: text.to_string(),
        };
        let acme = file("[[rule]]\nid = \"acme\"\npattern = 'acme'\n");
        assert!(
            RuleSet::with_user_file(Some(&acme))
                .unwrap()
                .get("acme")
                .is_some()
        );
        let bad = file("[[rule]]\nid = \"acme\"\npattern = '('\n");
        let e = RuleSet::with_user_file(Some(&bad)).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(11)));
    }

    #[test]
    fn a_large_log_redacts() {
        // 1 MB of ordinary klog lines with a few secrets: no timing asserted, but a
        // quadratic rule would show here as a test taking seconds.
        let mut log = String::new();
        let mut i = 0;
        while log.len() < 1 << 20 {
            i += 1;
            log.push_str(&format!(
                "2026-11-20T03:07:33.{i:09}Z I1120 03:07:33.102854       1 controller.go:{i}] \"Reconciled\" key=\"shop/web-{i}\" duration=\"1.2ms\"\n"
            ));
            if i % 5000 == 0 {
                log.push_str("2026-11-20T03:07:33Z password=hunter2 AKIAIOSFODNN7EXAMPLE\n");
            }
        }
        let mut report = Report::default();
        let out = redactor().text(&log, "big.log", &mut report);
        assert!(!out.contains("hunter2") && !out.contains("AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(out.lines().count(), log.lines().count());
        assert_eq!(report.len(), 2 * (i / 5000));
    }

    #[test]
    fn a_large_escaped_document_redacts() {
        // One string holding an escaped JSON document with a secret every few hundred bytes
        // (a ConfigMap value, an audit log line), each key spelled with an escape: every one
        // is found behind the escapes, and a rule's matches are replaced in one go.
        let mut doc = String::from("{\\\"items\\\":[");
        for i in 0..2000 {
            doc.push_str(&format!(
                "{{\\\"name\\\":\\\"svc-{i}\\\",\\\"pass\\u0077ord\\\":\\\"Pw-{i:06}\\\",\\\"url\\\":\\\"https:\\/\\/svc-{i}.shop.svc\\/healthz\\\"}},"
            ));
        }
        doc.push_str("]}");
        let mut v = json!({"kind": "ConfigMap", "data": {"services.json": doc}});
        let mut report = Report::default();
        redactor().json(&mut v, "cm.json", &mut report);
        let out = v["data"]["services.json"].as_str().unwrap();
        assert!(!out.contains("Pw-"), "{}", &out[..400]);
        assert_eq!(out.matches("<redacted:secret-key-value>").count(), 2000);
        assert!(out.contains("svc-1999.shop.svc"));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// Fragments that make rules fire, overlap and nest.
        fn fragments() -> impl Strategy<Value = String> {
            let parts = prop::sample::select(vec![
                "password",
                "token",
                "secret",
                "api_key",
                "Authorization",
                ": ",
                "=",
                "\\\"",
                "\"",
                "'",
                " ",
                "\n",
                "\\n",
                ";",
                "&",
                "@",
                "://",
                "u:",
                "Bearer ",
                "AKIA",
                "IOSFODNN7EXAMPLE",
                "eyJhbGciOi",
                ".",
                "k8s-aws-v1.",
                "-----BEGIN RSA PRIVATE KEY-----",
                "-----END RSA PRIVATE KEY-----",
                "<redacted:",
                "jwt>",
                ">",
                "10.0.0.1",
                "::1",
                "aws_secret_access_key",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "x",
                "é",
                "2026-11-20T03:00:00Z ",
                "\r\n",
            ]);
            prop::collection::vec(parts, 0..24).prop_map(|v| v.concat())
        }

        fn check(r: &Redactor, s: &str) {
            let mut report = Report::default();
            let once = r.text(s, "p.log", &mut report);
            let mut again = Report::default();
            let twice = r.text(&once, "p.log", &mut again);
            assert_eq!(twice, once, "text not idempotent for {s:?}");
            assert!(again.is_empty(), "{s:?} reported again: {again:?}");
            assert_eq!(once.matches('\n').count(), s.matches('\n').count());

            let mut v = json!({"kind": "Secret", "data": {"k": s}, "msg": s, s: s});
            let mut report = Report::default();
            r.json(&mut v, "p.json", &mut report);
            let once = v.clone();
            let mut again = Report::default();
            r.json(&mut v, "p.json", &mut again);
            assert_eq!(v, once, "json not idempotent for {s:?}");
            assert!(again.is_empty(), "{s:?} reported again: {again:?}");
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn arbitrary_strings_never_panic_and_are_idempotent(s in any::<String>()) {
                check(&Redactor::new(&RuleSet::builtin(), Profile { redact_ips: true }), &s);
            }

            #[test]
            fn secret_like_strings_are_idempotent(s in fragments()) {
                check(&Redactor::new(&RuleSet::builtin(), Profile::default()), &s);
                check(&Redactor::new(&RuleSet::builtin(), Profile { redact_ips: true }), &s);
            }
        }
    }
}
