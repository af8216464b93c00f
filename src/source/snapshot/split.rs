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
    line: usize,
    line_start: u64,
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
    fn position(&self, at: u64) -> (usize, usize) {
        (self.line, (at - self.line_start) as usize + 1)
    }

    fn error(&mut self, at: u64, message: &str) {
        let (line, column) = self.position(at);
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

    fn start_item(&mut self, at: u64, scalar: bool) {
        if self.need_comma {
            self.error(at, "expected `,` or `]` between list items");
        }
        let (line, column) = self.position(at);
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
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            let at = self.offset + i as u64;
            if b == b'\n' {
                self.line += 1;
                self.line_start = at + 1;
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
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
                } else if self.key_track && self.key.len() <= 5 {
                    self.key.push(b);
                }
                i += 1;
                continue;
            }
            let in_items_level = self.items_depth == Some(self.depth);
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    if self.in_item && self.scalar_item && in_items_level {
                        switch!(i, Sink::Drop);
                        self.end_item();
                    }
                }
                b'"' => {
                    self.in_string = true;
                    if in_items_level && !self.in_item {
                        switch!(i, Sink::Item);
                        self.start_item(at, true);
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
                    if b == b'['
                        && self.depth == 1
                        && self.expect == Expect::Array
                        && !self.root_done
                    {
                        self.depth += 1;
                        self.items_depth = Some(self.depth);
                        self.expect = Expect::Nothing;
                        self.need_comma = false;
                        self.count = 0;
                        switch!(i + 1, Sink::Drop);
                        i += 1;
                        continue;
                    }
                    if b == b'[' && self.depth == 0 && !self.root_done {
                        self.depth = 1;
                        self.items_depth = Some(1);
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
                        self.start_item(at, false);
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
                            self.error(at, "trailing `,` before `]`");
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
                            self.error(at, "unexpected `,` in a list");
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
                        self.start_item(at, true);
                    }
                    self.expect = Expect::Nothing;
                }
            }
            i += 1;
        }
        self.flush(&data[copied..]);
        self.offset += data.len() as u64;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `input`, returning (items as text with their positions, shell, errors).
    fn split(input: &str, chunk: usize) -> (Vec<(String, usize, usize)>, String, Vec<SyntaxError>) {
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
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
        for chunk in [1, 2, 3, 7, 64, 4096] {
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
