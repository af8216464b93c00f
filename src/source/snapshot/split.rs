//! Splitting a large JSON file into its list items while it is read, so that a 150 MB
//! `kubectl get pods -A -o json` is never in memory whole and its items are parsed on
//! every core. Only the structure is scanned here (strings, brackets, commas); each item
//! is parsed for real by a worker, and what is left around the items (the "shell":
//! `{"apiVersion": …, "items": [], "kind": "List", …}`) is parsed at the end.
//!
//! The items are those of the first top-level value: its `items` array when it is an
//! object, or its elements when it is an array. Anything else stays in the shell.

use super::document::SyntaxError;
use std::io::{self, Read};

/// Items are handed on in batches of about this many bytes.
const BATCH_BYTES: usize = 1 << 20;

/// Items read from the file, in order: their bytes back to back, and where each ends and
/// starts in the file (1-based line and column, for error messages).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub bytes: Vec<u8>,
    pub items: Vec<ItemSpan>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ItemSpan {
    pub end: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug)]
pub(crate) enum Piece {
    Items {
        seq: u32,
        batch: Batch,
    },
    /// The last piece of a file: the bytes around the items, and the structural errors
    /// met between items.
    Shell {
        bytes: Vec<u8>,
        errors: Vec<SyntaxError>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    Shell,
    Item,
    Drop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Nothing,
    /// After the root's `"items"` key.
    Colon,
    /// After its colon: a `[` starts the items.
    Array,
}

struct Splitter<'s> {
    send: &'s mut dyn FnMut(Piece) -> bool,
    depth: u32,
    in_string: bool,
    escaped: bool,
    root_is_object: bool,
    root_done: bool,
    /// At depth 1 of the root object: the next string is a value, not a key.
    value_next: bool,
    key: Vec<u8>,
    key_track: bool,
    expect: Expect,
    /// The depth inside the items array, while in it.
    items_depth: Option<u32>,
    in_item: bool,
    /// The current item is a string, number or literal (ended by `,` or `]`).
    scalar_item: bool,
    /// An item ended and no comma followed yet.
    need_comma: bool,
    /// Items seen in the current array.
    count: usize,
    sink: Sink,
    /// Lines are counted lazily, only up to where a position is needed.
    line: usize,
    line_start: u64,
    /// How far into the current chunk newlines have been counted.
    counted: usize,
    offset: u64,
    shell: Vec<u8>,
    batch: Batch,
    seq: u32,
    errors: Vec<SyntaxError>,
    stopped: bool,
}

/// Reads `reader` to the end, handing on item batches and finally the shell. Returns
/// false when the receiver stopped listening.
pub(crate) fn split_json(
    reader: &mut dyn Read,
    send: &mut dyn FnMut(Piece) -> bool,
) -> io::Result<bool> {
    let mut s = Splitter {
        send,
        depth: 0,
        in_string: false,
        escaped: false,
        root_is_object: false,
        root_done: false,
        value_next: false,
        key: Vec::with_capacity(8),
        key_track: false,
        expect: Expect::Nothing,
        items_depth: None,
        in_item: false,
        scalar_item: false,
        need_comma: false,
        count: 0,
        sink: Sink::Shell,
        line: 1,
        line_start: 0,
        counted: 0,
        offset: 0,
        shell: Vec::new(),
        batch: Batch::default(),
        seq: 0,
        errors: Vec::new(),
        stopped: false,
    };
    let mut chunk = vec![0u8; 256 << 10];
    let mut skip_bom = true;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut data = &chunk[..n];
        if skip_bom {
            skip_bom = false;
            if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
                s.offset += 3;
                s.line_start = 3;
                data = rest;
            }
        }
        s.scan(data);
        if s.stopped {
            return Ok(false);
        }
    }
    s.finish();
    Ok(!s.stopped)
}

impl Splitter<'_> {
    /// Counts the newlines of `data` (the current chunk) before `upto`.
    fn sync_lines(&mut self, data: &[u8], upto: usize) {
        if upto <= self.counted {
            return;
        }
        let part = &data[self.counted..upto];
        let newlines = memchr::memchr_iter(b'\n', part).count();
        if newlines > 0 {
            self.line += newlines;
            if let Some(last) = memchr::memrchr(b'\n', part) {
                self.line_start = self.offset + (self.counted + last + 1) as u64;
            }
        }
        self.counted = upto;
    }

    /// The 1-based line and column of byte `i` of the current chunk.
    fn position(&mut self, data: &[u8], i: usize) -> (usize, usize) {
        self.sync_lines(data, i);
        let at = self.offset + i as u64;
        (self.line, (at - self.line_start) as usize + 1)
    }

    fn error(&mut self, data: &[u8], i: usize, message: &str) {
        let (line, column) = self.position(data, i);
        self.errors.push(SyntaxError {
            line: Some(line),
            column: Some(column),
            message: message.to_string(),
        });
    }

    fn flush(&mut self, data: &[u8]) {
        match self.sink {
            Sink::Shell => self.shell.extend_from_slice(data),
            Sink::Item => self.batch.bytes.extend_from_slice(data),
            Sink::Drop => {}
        }
    }

    fn push_key(&mut self, bytes: &[u8]) {
        // Only whether the key is `items` matters: six bytes tell.
        let room = 6usize.saturating_sub(self.key.len());
        self.key.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn start_item(&mut self, data: &[u8], i: usize, scalar: bool) {
        if self.need_comma {
            self.error(data, i, "expected `,` or `]` between list items");
        }
        let (line, column) = self.position(data, i);
        self.batch.items.push(ItemSpan {
            end: 0,
            line,
            column,
        });
        self.in_item = true;
        self.scalar_item = scalar;
        self.count += 1;
    }

    fn end_item(&mut self) {
        if let Some(last) = self.batch.items.last_mut() {
            last.end = self.batch.bytes.len();
        }
        self.in_item = false;
        self.need_comma = true;
        if self.batch.bytes.len() >= BATCH_BYTES {
            let batch = std::mem::take(&mut self.batch);
            let seq = self.seq;
            self.seq += 1;
            if !(self.send)(Piece::Items { seq, batch }) {
                self.stopped = true;
            }
        }
    }

    fn scan(&mut self, data: &[u8]) {
        self.counted = 0;
        let mut copied = 0;
        // Switches where bytes go from `at` on, flushing what came before.
        macro_rules! switch {
            ($at:expr, $sink:expr) => {{
                let at: usize = $at;
                let chunk = &data[copied..at];
                self.flush(chunk);
                copied = at;
                self.sink = $sink;
            }};
        }
        let len = data.len();
        let mut i = 0;
        while i < len {
            if let Some(items_depth) = self.items_depth
                && self.in_item
                && !self.in_string
                && self.depth > items_depth
            {
                // Inside an object or array item only strings and brackets matter until it
                // closes: this loop is where most bytes of a large list go.
                while i < len {
                    i = next_structural(data, i);
                    if i >= len {
                        break;
                    }
                    match data[i] {
                        b'"' => match skip_string(&data[i + 1..]) {
                            // To the closing quote; the loop steps past it.
                            Some(n) => i += n,
                            None => {
                                // The string goes on in the next chunk.
                                self.in_string = true;
                                self.escaped = trailing_backslashes(&data[i + 1..]) % 2 == 1;
                                i = len;
                                break;
                            }
                        },
                        b'{' | b'[' => self.depth += 1,
                        b'}' | b']' => {
                            self.depth -= 1;
                            if self.depth == items_depth {
                                switch!(i + 1, Sink::Drop);
                                self.end_item();
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                // Most of a JSON file is string contents: jump over them.
                let Some(k) = memchr::memchr2(b'"', b'\\', &data[i..]) else {
                    if self.key_track {
                        self.push_key(&data[i..]);
                    }
                    break;
                };
                if self.key_track {
                    self.push_key(&data[i..i + k]);
                }
                i += k;
                if data[i] == b'\\' {
                    self.escaped = true;
                    i += 1;
                    continue;
                }
                self.in_string = false;
                if self.key_track {
                    self.key_track = false;
                    if self.key == b"items" {
                        self.expect = Expect::Colon;
                    }
                }
                if self.in_item && self.scalar_item && Some(self.depth) == self.items_depth {
                    switch!(i + 1, Sink::Drop);
                    self.end_item();
                }
                i += 1;
                continue;
            }
            let b = data[i];
            let in_items_level = self.items_depth == Some(self.depth);
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    if self.in_item && self.scalar_item && in_items_level {
                        switch!(i, Sink::Drop);
                        self.end_item();
                    }
                    i += 1;
                    // Pretty-printed JSON is mostly indentation: skip it eight bytes at a time.
                    while i + 8 <= len && data[i..i + 8] == *b"        " {
                        i += 8;
                    }
                    while i < len && matches!(data[i], b' ' | b'\t' | b'\r' | b'\n') {
                        i += 1;
                    }
                    continue;
                }
                b'"' => {
                    self.in_string = true;
                    if in_items_level && !self.in_item {
                        switch!(i, Sink::Item);
                        self.start_item(data, i, true);
                    }
                    if self.depth == 1
                        && self.root_is_object
                        && !self.value_next
                        && self.items_depth.is_none()
                    {
                        self.key_track = true;
                        self.key.clear();
                    }
                    self.expect = Expect::Nothing;
                }
                b'{' | b'[' => {
                    let items_start = !self.root_done
                        && b == b'['
                        && ((self.depth == 1 && self.expect == Expect::Array) || self.depth == 0);
                    if items_start {
                        self.depth += 1;
                        self.items_depth = Some(self.depth);
                        self.expect = Expect::Nothing;
                        self.need_comma = false;
                        self.count = 0;
                        switch!(i + 1, Sink::Drop);
                        i += 1;
                        continue;
                    }
                    if self.depth == 0 {
                        self.root_is_object = !self.root_done;
                    }
                    if in_items_level && !self.in_item {
                        switch!(i, Sink::Item);
                        self.start_item(data, i, false);
                    }
                    self.expect = Expect::Nothing;
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if in_items_level && b == b']' {
                        if self.in_item {
                            switch!(i, Sink::Drop);
                            self.end_item();
                        } else if !self.need_comma && self.count > 0 {
                            self.error(data, i, "trailing `,` before `]`");
                        }
                        self.items_depth = None;
                        self.need_comma = false;
                        switch!(i, Sink::Shell);
                        self.depth -= 1;
                        if self.depth == 0 {
                            self.root_done = true;
                        }
                        i += 1;
                        continue;
                    }
                    self.depth = self.depth.saturating_sub(1);
                    if self.in_item && Some(self.depth) == self.items_depth {
                        switch!(i + 1, Sink::Drop);
                        self.end_item();
                    }
                    if self.depth == 0 {
                        self.root_done = true;
                    }
                    if self.depth == 1 {
                        self.value_next = false;
                    }
                }
                b',' => {
                    if in_items_level {
                        if self.in_item {
                            switch!(i, Sink::Drop);
                            self.end_item();
                        } else if !self.need_comma {
                            self.error(data, i, "unexpected `,` in a list");
                        }
                        self.need_comma = false;
                    } else if self.depth == 1 {
                        self.value_next = false;
                    }
                    self.expect = Expect::Nothing;
                }
                b':' => {
                    if self.depth == 1 {
                        self.value_next = true;
                    }
                    if self.expect == Expect::Colon {
                        self.expect = Expect::Array;
                    }
                }
                _ => {
                    if in_items_level && !self.in_item {
                        switch!(i, Sink::Item);
                        self.start_item(data, i, true);
                    }
                    self.expect = Expect::Nothing;
                }
            }
            i += 1;
        }
        self.flush(&data[copied..]);
        self.sync_lines(data, len);
        self.offset += len as u64;
    }

    fn finish(&mut self) {
        if self.in_item {
            // Truncated inside an item: hand it on, its parse says what is wrong.
            self.end_item();
        }
        if !self.batch.items.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            let seq = self.seq;
            self.seq += 1;
            if !(self.send)(Piece::Items { seq, batch }) {
                self.stopped = true;
                return;
            }
        }
        let piece = Piece::Shell {
            bytes: std::mem::take(&mut self.shell),
            errors: std::mem::take(&mut self.errors),
        };
        if !(self.send)(piece) {
            self.stopped = true;
        }
    }
}

/// The length of a string's contents and closing quote, from just after its opening
/// quote; `None` when it does not close in `data`.
const ONES: u64 = 0x0101_0101_0101_0101;

/// A mark on the lowest byte of `v` that is zero (higher marks may be false).
#[inline]
fn zero_byte(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & (ONES << 7)
}

/// The first of `"`, `{`, `[`, `}`, `]` in `data` from `i` on (or `data.len()`), eight
/// bytes at a time: between them, in a pretty-printed list, lie mostly indentation.
#[inline]
fn next_structural(data: &[u8], mut i: usize) -> usize {
    while let Some(word) = data.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // `x | 0x20` is `{` for `[` and `{` only, `}` for `]` and `}` only.
        let o = w | (0x20 * ONES);
        let hits = zero_byte(w ^ (b'"' as u64 * ONES))
            | zero_byte(o ^ (b'{' as u64 * ONES))
            | zero_byte(o ^ (b'}' as u64 * ONES));
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < data.len() && !matches!(data[i], b'"' | b'{' | b'[' | b'}' | b']') {
        i += 1;
    }
    i
}

/// The first `"` or `\\` in `data` from `at` on; strings are mostly short, too short for
/// `memchr` to pay for its setup.
#[inline]
fn next_quote_or_backslash(data: &[u8], mut at: usize) -> Option<usize> {
    while let Some(word) = data.get(at..at + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let hits = zero_byte(w ^ (b'"' as u64 * ONES)) | zero_byte(w ^ (b'\\' as u64 * ONES));
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr2(b'"', b'\\', &data[at..]).map(|k| at + k)
}

fn skip_string(data: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let k = next_quote_or_backslash(data, at)? - at;
        if data[at + k] == b'"' {
            return Some(at + k + 1);
        }
        // A backslash escapes the next byte, whatever it is.
        at += k + 2;
        if at > data.len() {
            return None;
        }
    }
}

fn trailing_backslashes(data: &[u8]) -> usize {
    data.iter().rev().take_while(|b| **b == b'\\').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `.1` bytes at a time.
    struct Chunked<'a>(&'a [u8], usize);
    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Splits `input`, returning (items as text with their positions, shell, errors).
    fn split(input: &str, chunk: usize) -> (Vec<(String, usize, usize)>, String, Vec<SyntaxError>) {
        let mut items = Vec::new();
        let mut shell = String::new();
        let mut errors = Vec::new();
        let mut reader = Chunked(input.as_bytes(), chunk);
        split_json(&mut reader, &mut |piece| {
            match piece {
                Piece::Items { batch, .. } => {
                    let mut start = 0;
                    for span in batch.items {
                        let text =
                            String::from_utf8(batch.bytes[start..span.end].to_vec()).unwrap();
                        items.push((text, span.line, span.column));
                        start = span.end;
                    }
                }
                Piece::Shell {
                    bytes, errors: e, ..
                } => {
                    shell = String::from_utf8(bytes).unwrap();
                    errors = e;
                }
            }
            true
        })
        .unwrap();
        (items, shell, errors)
    }

    #[test]
    fn items_of_the_root_list_are_split_out_whatever_the_chunking() {
        let input = "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\"a\": \"x]}\\\"\"},\n    [1, {\"items\": [2]}], \"s,\", 12 , null\n  ],\n  \"kind\": \"List\"\n}";
        for chunk in [1, 2, 3, 5, 7, 11, 13, 64, 4096] {
            let (items, shell, errors) = split(input, chunk);
            let texts: Vec<&str> = items.iter().map(|(t, _, _)| t.as_str()).collect();
            assert_eq!(
                texts,
                [
                    r#"{"a": "x]}\""}"#,
                    r#"[1, {"items": [2]}]"#,
                    r#""s,""#,
                    "12",
                    "null"
                ],
                "chunk {chunk}"
            );
            assert_eq!((items[0].1, items[0].2), (4, 5));
            assert_eq!((items[1].1, items[1].2), (5, 5));
            assert_eq!(
                shell,
                "{\n  \"apiVersion\": \"v1\",\n  \"items\": [],\n  \"kind\": \"List\"\n}"
            );
            assert!(errors.is_empty(), "{errors:?}");
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z\"\\\\\\[\\]{},:é ]{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-z\"\\\\]{0,6}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_split_and_parse_without_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            chunk in 1usize..64,
        ) {
            // Mostly structure, so that the scanner's states are all reached.
            let alphabet = b"{}[]\",:\\ ai1\n";
            let bytes: Vec<u8> = bytes.iter().map(|b| alphabet[usize::from(*b) % alphabet.len()]).collect();
            let mut items = Vec::new();
            let mut shell = Vec::new();
            let mut reader = Chunked(&bytes, chunk);
            let _ = split_json(&mut reader, &mut |piece| {
                match piece {
                    Piece::Items { batch, .. } => items.extend(super::super::document::parse_batch(&batch).0),
                    Piece::Shell { bytes, .. } => shell = bytes,
                }
                true
            });
            let _ = super::super::document::assemble(&shell, items);
        }

        #[test]
        fn split_items_are_exactly_the_list_items(
            items in proptest::collection::vec(json_value(), 0..8),
            chunk in 1usize..40,
            pretty in proptest::bool::ANY,
        ) {
            let list = serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List"});
            let text = if pretty { serde_json::to_string_pretty(&list) } else { serde_json::to_string(&list) }.unwrap();
            let (split_items, shell, errors) = split(&text, chunk);
            let parsed: Vec<serde_json::Value> =
                split_items.iter().map(|(t, _, _)| serde_json::from_str(t).unwrap()).collect();
            proptest::prop_assert_eq!(&parsed, &items);
            proptest::prop_assert!(errors.is_empty());
            let shell: serde_json::Value = serde_json::from_str(&shell).unwrap();
            proptest::prop_assert_eq!(shell, serde_json::json!({"apiVersion": "v1", "items": [], "kind": "List"}));
        }
    }

    #[test]
    fn a_root_array_is_split_and_nested_items_keys_are_not() {
        let (items, shell, _) = split(r#"[{"items":[1,2]},{"b":1}]"#, 5);
        assert_eq!(items.len(), 2);
        assert_eq!(shell, "[]");
        let (items, shell, _) = split(r#"{"metadata":{"items":[1]},"spec":{"x":"items"}}"#, 3);
        assert!(items.is_empty());
        assert_eq!(shell, r#"{"metadata":{"items":[1]},"spec":{"x":"items"}}"#);
        let (items, _, _) = split(r#"{"kind":"x","name":"items","items":[1]}"#, 3);
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn commas_between_items_are_checked() {
        let (_, _, errors) = split("{\"items\": [{\"a\":1} {\"b\":2}]}", 8);
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (Some(1), Some(20)));
        let (_, _, errors) = split("{\"items\": [{\"a\":1},]}", 8);
        assert_eq!(errors[0].message, "trailing `,` before `]`");
        let (_, _, errors) = split("[,1]", 8);
        assert_eq!(errors[0].message, "unexpected `,` in a list");
    }
}
