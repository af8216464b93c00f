//! A fast path for the commonest input: one JSON object of a split list, as text. A
//! byte-level scanner minifies it and captures the head in one pass, producing exactly
//! what the serde transcoder (transcode.rs) produces, without a visitor call per value.
//!
//! It handles only what it can reproduce exactly: strings without escapes and short
//! integers are copied as they are; anything else (an escaped string, a float, a huge
//! integer) is handed, token by token, to serde_json and the transcoder. On any doubt
//! (a syntax error, deep nesting) it gives up, and the caller parses the item the slow
//! way, which also finds the error and its position.

use super::transcode::{self, Head, Item, Mode, Shape, Writer};
use std::borrow::Cow;

/// Nesting beyond this goes the slow way (serde_json's own limit is 128).
const MAX_DEPTH: u32 = 100;

/// The item `text` holds (one JSON value, surrounded by whitespace at most), or `None`
/// to have it read the slow way.
pub(crate) fn item(text: &str) -> Option<Item> {
    let mut out = Writer::new(true);
    let mut head = Head::default();
    let mut shape = Shape::default();
    let mut scanner = Scanner {
        s: text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
        out: &mut out,
    };
    scanner.value(Mode::Object {
        head: &mut head,
        shape: &mut shape,
        items: None,
    })?;
    scanner.ws();
    if scanner.pos != scanner.b.len() {
        return None;
    }
    head.observed = out.take_observed();
    Some(Item {
        json: out.finish(),
        head,
        shape,
    })
}

struct Scanner<'s, 'o> {
    s: &'s str,
    b: &'s [u8],
    pos: usize,
    depth: u32,
    out: &'o mut Writer,
}

impl<'s> Scanner<'s, '_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// A string at `pos` (its opening quote): its text with the quotes, and whether it
    /// has escapes. Raw control characters are errors, left to the slow path.
    #[inline]
    fn string(&mut self) -> Option<(&'s str, bool)> {
        let start = self.pos;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            i = special_in_string(self.b, i);
            let c = *self.b.get(i)?;
            match c {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                0..=0x1f => return None,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        Some((&self.s[start..=i], escaped))
    }

    fn value(&mut self, mode: Mode<'_, '_>) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'"' => {
                let (token, escaped) = self.string()?;
                if escaped {
                    return self.slow_token(token, mode);
                }
                if let Mode::Scalar(slot) = mode {
                    *slot = Some(token[1..token.len() - 1].into());
                }
                self.out.push_str(token);
                Some(())
            }
            b'{' => self.map(mode),
            b'[' => self.seq(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        if !self.b[self.pos..].starts_with(word.as_bytes()) {
            return None;
        }
        self.pos += word.len();
        self.out.push_str(word);
        Some(())
    }

    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        let mut i = start;
        while let Some(c) = self.b.get(i)
            && matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        {
            i += 1;
        }
        self.pos = i;
        let token = &self.s[start..i];
        let digits = token.strip_prefix('-').unwrap_or(token);
        // Integers that surely fit in 64 bits read back as written; `-0` does not.
        let plain = !digits.is_empty()
            && digits.len() <= 18
            && digits.bytes().all(|c| c.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && token != "-0";
        if plain {
            self.out.push_str(token);
            Some(())
        } else {
            self.slow_token(token, Mode::Plain)
        }
    }

    /// One scalar token read by serde_json and written by the transcoder.
    fn slow_token(&mut self, token: &str, mode: Mode<'_, '_>) -> Option<()> {
        let mut de = serde_json::Deserializer::from_str(token);
        transcode::transcode(&mut de, self.out, mode).ok()?;
        de.end().ok()
    }

    /// A key (at `pos`, after whitespace) and its colon, written; the key as text.
    fn key(&mut self, first: &mut bool, write: bool) -> Option<Cow<'s, str>> {
        if self.peek()? != b'"' {
            return None;
        }
        let (token, escaped) = self.string()?;
        let key = if escaped {
            Cow::Owned(serde_json::from_str::<String>(token).ok()?)
        } else {
            Cow::Borrowed(&token[1..token.len() - 1])
        };
        self.ws();
        if self.peek()? != b':' {
            return None;
        }
        self.pos += 1;
        if write {
            if !*first {
                self.out.push(',');
            }
            *first = false;
            if escaped {
                transcode::write_json_string(self.out, &key);
            } else {
                self.out.push_str(token);
            }
            self.out.push(':');
        }
        Some(key)
    }

    /// After an entry: `true` if another follows, `false` at the closing bracket.
    #[inline]
    fn next(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let c = self.peek()?;
        self.pos += 1;
        if c == b',' {
            self.ws();
            Some(true)
        } else if c == close {
            Some(false)
        } else {
            None
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn seq(&mut self) -> Option<()> {
        self.enter()?;
        self.pos += 1;
        self.out.push('[');
        self.ws();
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                self.value(Mode::Plain)?;
                if !self.next(b']')? {
                    break;
                }
                self.out.push(',');
            }
        }
        self.out.push(']');
        self.depth -= 1;
        Some(())
    }

    fn map(&mut self, mode: Mode<'_, '_>) -> Option<()> {
        self.enter()?;
        self.pos += 1;
        self.out.push('{');
        self.ws();
        let empty = self.peek()? == b'}';
        if empty {
            self.pos += 1;
        }
        let mut first = true;
        match mode {
            Mode::Plain | Mode::Scalar(_) | Mode::Items(_) => {
                if !empty {
                    loop {
                        let key = self.key(&mut first, true)?;
                        if self.out.in_status && transcode::is_observation_time(&key) {
                            let mut time = None;
                            self.value(Mode::Scalar(&mut time))?;
                            self.out.observe(time);
                        } else {
                            self.value(Mode::Plain)?;
                        }
                        if !self.next(b'}')? {
                            break;
                        }
                    }
                }
            }
            Mode::Fields(fields) => {
                if !empty {
                    loop {
                        let key = self.key(&mut first, true)?;
                        let mut time = None;
                        let mode = match fields.iter_mut().find(|(name, _)| *name == key) {
                            Some((_, slot)) => Mode::Scalar(slot),
                            None if self.out.in_status && transcode::is_observation_time(&key) => {
                                Mode::Scalar(&mut time)
                            }
                            None => Mode::Plain,
                        };
                        self.value(mode)?;
                        self.out.observe(time);
                        if !self.next(b'}')? {
                            break;
                        }
                    }
                }
            }
            Mode::Labels(labels) => {
                if !empty {
                    loop {
                        let key = self.key(&mut first, true)?;
                        let mut value = None;
                        self.value(Mode::Scalar(&mut value))?;
                        if let Some(value) = value {
                            labels.push((key.into(), value));
                        }
                        if !self.next(b'}')? {
                            break;
                        }
                    }
                }
            }
            Mode::Metadata(head, shape) => {
                shape.metadata_at = Some(self.out.len());
                if !empty {
                    loop {
                        let mark = self.out.len();
                        let was_first = first;
                        let key = self.key(&mut first, true)?;
                        if key == "managedFields" {
                            // Read (and so checked) but not kept.
                            self.value(Mode::Plain)?;
                            self.out.truncate(mark);
                            first = was_first;
                        } else {
                            let mode = match key.as_ref() {
                                "name" => Mode::Scalar(&mut head.name),
                                "namespace" => Mode::Scalar(&mut head.namespace),
                                "creationTimestamp" => Mode::Scalar(&mut head.created),
                                "labels" => Mode::Labels(&mut head.labels),
                                _ => Mode::Plain,
                            };
                            self.value(mode)?;
                        }
                        if !self.next(b'}')? {
                            break;
                        }
                    }
                }
                shape.metadata_empty = first;
            }
            Mode::Object { head, shape, .. } => {
                shape.is_object = true;
                if !empty {
                    loop {
                        let key = self.key(&mut first, true)?;
                        self.object_entry(&key, head, shape)?;
                        if !self.next(b'}')? {
                            break;
                        }
                    }
                }
            }
        }
        self.out.push('}');
        self.depth -= 1;
        Some(())
    }

    /// Mirrors `transcode::object_entry` (an item's own `items` stay in its text).
    fn object_entry(&mut self, key: &str, head: &mut Head, shape: &mut Shape) -> Option<()> {
        match key {
            "apiVersion" => self.value(Mode::Scalar(&mut head.api_version)),
            "kind" => self.value(Mode::Scalar(&mut head.kind)),
            "metadata" => self.value(Mode::Metadata(head, shape)),
            "type" => self.value(Mode::Scalar(&mut head.event_type)),
            "reason" => self.value(Mode::Scalar(&mut head.reason)),
            "lastTimestamp" => self.value(Mode::Scalar(&mut head.event_times[0])),
            "eventTime" => self.value(Mode::Scalar(&mut head.event_times[1])),
            "firstTimestamp" => self.value(Mode::Scalar(&mut head.event_times[2])),
            "deprecatedLastTimestamp" => self.value(Mode::Scalar(&mut head.event_times[4])),
            "series" => self.value(Mode::Fields(&mut [(
                "lastObservedTime",
                &mut head.event_times[3],
            )])),
            "spec" => {
                let mut renewed = None;
                self.value(Mode::Fields(&mut [
                    ("nodeName", &mut head.node_name),
                    ("renewTime", &mut renewed),
                ]))?;
                self.out.observe(renewed);
                Some(())
            }
            "status" => {
                self.out.in_status = true;
                let read = self.value(Mode::Fields(&mut [("phase", &mut head.phase)]));
                self.out.in_status = false;
                read
            }
            "involvedObject" | "regarding" => {
                let reference = if key == "regarding" {
                    &mut head.regarding
                } else {
                    &mut head.involved
                };
                let r = reference.get_or_insert_with(Default::default);
                self.value(Mode::Fields(&mut [
                    ("kind", &mut r.kind),
                    ("namespace", &mut r.namespace),
                    ("name", &mut r.name),
                    ("uid", &mut r.uid),
                ]))
            }
            _ => self.value(Mode::Plain),
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The first `"`, `\\` or control character in `b` from `i` on (or `b.len()`), eight
/// bytes at a time.
#[inline]
fn special_in_string(b: &[u8], mut i: usize) -> usize {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & (ONES << 7);
    while let Some(word) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // Bytes below 0x20 (the lowest mark is exact, as for `zero`).
        let control = w.wrapping_sub(0x20 * ONES) & !w & (ONES << 7);
        let hits = zero(w ^ (b'"' as u64 * ONES)) | zero(w ^ (b'\\' as u64 * ONES)) | control;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeSeed;

    fn slow(text: &str) -> Option<Item> {
        let mut de = serde_json::Deserializer::from_str(text);
        let item = transcode::ItemSeed { verbatim: true }
            .deserialize(&mut de)
            .ok()?;
        de.end().ok()?;
        Some(item)
    }

    /// The fast path gives what the transcoder gives, or leaves the item to it.
    fn same(text: &str) -> bool {
        let fast = item(text);
        if let Some(fast) = &fast {
            assert_eq!(Some(fast), slow(text).as_ref(), "{text}");
        }
        fast.is_some()
    }

    #[test]
    fn matches_the_transcoder() {
        for text in [
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"x","labels":{"app":"w","n":1,"e":"\u00e9\n"},"managedFields":[{"a":1}],"creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"nodeName":"n1","containers":[{"name":"c","x":[1,-2,3.50,1e3,-0,12345678901234567890,true,false,null]}]},"status":{"phase":"Running"}}"#,
            "  {\n  \"metadata\" : { \"managedFields\" : [ ] } ,\n \"kind\":\"E\\\"v\" }\n",
            r#"{"metadata":{"managedFields":[],"name":"a"}}"#,
            r#"{"metadata":{"name":"a","managedFields":[]}}"#,
            r#"{"metadata":{},"items":[{"metadata":{"name":"b"}}]}"#,
            r#"{"metadata":"x","spec":"y","status":{"phase":{"a":"b"}}}"#,
            r#"{"kind":"Event","type":"Warning","reason":"R","involvedObject":{"kind":"Pod","name":"p","uid":"u"},"regarding":{"name":"q"},"series":{"lastObservedTime":"t"},"eventTime":null,"lastTimestamp":"l","firstTimestamp":"f","deprecatedLastTimestamp":"d"}"#,
            r#"{"na\u006de":1,"metadata":{"na\u006de":"n","labels":{"k\"":"v"}},"a\/b":"c\/d"}"#,
            r#"{"kind":"Pod","spec":{"renewTime":"2026-01-01T00:00:07Z","startTime":"2027-01-01T00:00:00Z"},"status":{"startTime":"2026-01-01T00:00:02Z","conditions":[{"lastTransitionTime":"2026-01-01T00:00:09Z","lastProbeTime":null}],"x":{"finishedAt":"2026-01-01T00:00:0\u0038Z"}}}"#,
            r#"[1,{"kind":"Pod"}]"#,
            r#""just a string""#,
            "42",
            "{}",
            "[]",
        ] {
            assert!(same(text), "fast path refused {text}");
        }
    }

    #[test]
    fn status_observation_times_are_kept_and_spec_schedules_are_not() {
        let text = r#"{"kind":"Pod","spec":{"startTime":"2027-01-01T00:00:00Z"},"status":{"startTime":"2026-01-01T00:00:02Z","containerStatuses":[{"state":{"running":{"startedAt":"2026-01-01T00:05:00Z"}}}]}}"#;
        assert!(same(text));
        let observed = item(text).unwrap().head.observed;
        assert_eq!(observed.as_deref(), Some("2026-01-01T00:05:00Z"));
    }

    #[test]
    fn leaves_errors_to_the_transcoder() {
        for text in [
            r#"{"a":1,}"#,
            r#"{"a":01}"#,
            r#"{"a":[1,]}"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"{"a":"x\qy"}"#,
            r#"{"a":"x"} x"#,
            "{\"a\":\"\t\"}",
            r#"{"a":"\ud800"}"#,
            r#"{"a":1-2}"#,
            r#"{"a":"#,
            "",
        ] {
            assert!(!same(text), "fast path accepted {text}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!same(&deep));
    }
}
