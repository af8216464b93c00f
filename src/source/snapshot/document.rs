//! One data file (JSON or YAML) read into documents: single objects, lists whose items
//! are kept apart, or bare arrays of objects (as support bundles write them). What the
//! documents mean is decided later, from where the file sits in the snapshot.

use super::split::Batch;
use super::transcode::{Item, ItemSeed, Writer, read_object};
use serde::Deserialize;
use serde::de::DeserializeSeed;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Doc {
    Object(Box<Item>),
    /// `kind: List` or any `*List` kind with `items`.
    List {
        api_version: Option<Box<str>>,
        kind: Box<str>,
        items: Vec<Item>,
    },
    /// A JSON array at the root of a document.
    Array(Vec<Item>),
    /// Anything else: a scalar where an object was expected.
    Scalar,
}

/// YAML documents (JSON reads through [`Root`] directly).
impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Root::<false>(root, items) = Root::deserialize(deserializer)?;
        Ok(classify(root, items))
    }
}

/// A document root before it is classified: the root, and its items if it has any.
/// `JSON` says whether borrowed strings can be copied verbatim (see `Writer`).
struct Root<const JSON: bool>(Item, Option<Vec<Item>>);

impl<'de, const JSON: bool> Deserialize<'de> for Root<JSON> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (root, items) = read_object(deserializer, Writer::new(JSON), true)?;
        Ok(Root(root, items))
    }
}

fn classify(root: Item, items: Option<Vec<Item>>) -> Doc {
    // A list has no name of its own. Two shapes real tools write need that rule: an empty
    // typed list decoded from protobuf marshals `"items": null` (client-go ≥ 0.32, so
    // troubleshoot ≥ 0.115), and a list of a type missing from client-go's scheme (its
    // CRD list) carries no kind at all, only `metadata` and `items`.
    let unnamed = root.head.name.is_none();
    let list_kind = root
        .head
        .kind
        .as_deref()
        .filter(|k| is_list_kind(k))
        .filter(|_| unnamed)
        .map(Box::<str>::from);
    match (root.shape.is_object, items) {
        (false, Some(items)) => Doc::Array(items),
        (false, None) => Doc::Scalar,
        (true, Some(items)) => match (list_kind, root.head.kind.is_none() && unnamed) {
            (Some(kind), _) => Doc::List {
                api_version: root.head.api_version,
                kind,
                items,
            },
            (None, true) => Doc::List {
                api_version: None,
                kind: "List".into(),
                items,
            },
            (None, false) => Doc::Object(Box::new(reattach_items(root, items))),
        },
        (true, None) => match list_kind {
            Some(kind) => Doc::List {
                api_version: root.head.api_version,
                kind,
                items: Vec::new(),
            },
            None => Doc::Object(Box::new(root)),
        },
    }
}

pub(crate) fn is_list_kind(kind: &str) -> bool {
    kind.len() >= 4 && kind.ends_with("List")
}

/// An object that merely has an `items` field (not a list): put the field back.
fn reattach_items(root: Item, items: Vec<Item>) -> Item {
    let body = root.json.strip_suffix('}').unwrap_or(&root.json);
    let mut json = String::with_capacity(
        root.json.len() + items.iter().map(|i| i.json.len() + 1).sum::<usize>() + 12,
    );
    json.push_str(body);
    if body.len() > 1 {
        json.push(',');
    }
    json.push_str("\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&item.json);
    }
    json.push_str("]}");
    Item {
        json: json.into_boxed_str(),
        ..root
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
}

impl Format {
    pub(crate) fn of(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Format::Yaml)
        } else {
            None
        }
    }
}

/// A syntax error, with where the parser says it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// The documents of one file; on a syntax error, those read before it and the error.
pub(crate) fn parse(bytes: &[u8], format: Format) -> (Vec<Doc>, Option<SyntaxError>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match format {
        Format::Json => {
            let (roots, error) = parse_json_roots(bytes);
            (
                roots.into_iter().map(|Root(r, i)| classify(r, i)).collect(),
                error,
            )
        }
        Format::Yaml => match serde_saphyr::from_slice_multiple_with_options::<Doc>(
            bytes,
            yaml_options(bytes.len()),
        ) {
            Ok(docs) => (docs, None),
            Err(e) => (Vec::new(), Some(yaml_error(&e))),
        },
    }
}

fn parse_json_roots(bytes: &[u8]) -> (Vec<Root<true>>, Option<SyntaxError>) {
    // A stream, so that concatenated objects (`kubectl get a -o json; kubectl get b -o json`)
    // read too. Text validated once reads faster than bytes validated string by string.
    let mut roots = Vec::new();
    let results: Box<dyn Iterator<Item = serde_json::Result<Root<true>>>> =
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                Box::new(serde_json::Deserializer::from_str(text).into_iter::<Root<true>>())
            }
            Err(_) => {
                Box::new(serde_json::Deserializer::from_slice(bytes).into_iter::<Root<true>>())
            }
        };
    for root in results {
        match root {
            Ok(root) => roots.push(root),
            Err(e) => return (roots, Some(json_error(&e))),
        }
    }
    (roots, None)
}

fn json_error(e: &serde_json::Error) -> SyntaxError {
    let text = e.to_string();
    let message = match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_string(),
        None => text,
    };
    let known = |n: usize| (n > 0).then_some(n);
    SyntaxError {
        line: known(e.line()),
        column: known(e.column()),
        message,
    }
}

/// The items of a batch split from a large list (split.rs), each parsed on its own, so
/// that one bad item costs only itself. Positions are given in the whole file.
pub(crate) fn parse_batch(batch: &Batch) -> (Vec<Item>, Vec<SyntaxError>) {
    let text = std::str::from_utf8(&batch.bytes).ok();
    let mut items = Vec::with_capacity(batch.items.len());
    let mut errors = Vec::new();
    let mut start = 0;
    for span in &batch.items {
        let end = span.end.max(start);
        // Item bounds fall on ASCII punctuation, so they are char boundaries too.
        let parsed = match text.and_then(|t| t.get(start..end)) {
            Some(item) => match super::fastjson::item(item) {
                Some(item) => Ok(item),
                None => parse_one(serde_json::Deserializer::from_str(item)),
            },
            None => parse_one(serde_json::Deserializer::from_slice(
                &batch.bytes[start..end],
            )),
        };
        match parsed {
            Ok(item) => items.push(item),
            Err(e) => {
                let mut error = json_error(&e);
                // Positions within the item, moved to where the item starts in the file.
                if let Some(line) = error.line {
                    error.column = error
                        .column
                        .map(|c| if line == 1 { span.column + c - 1 } else { c });
                    error.line = Some(span.line + line - 1);
                }
                errors.push(error);
            }
        }
        start = end;
    }
    (items, errors)
}

fn parse_one<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> serde_json::Result<Item> {
    let seed = ItemSeed { verbatim: true };
    let item = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(item)
}

/// The documents of a file split by split.rs: its shell, the first document given the
/// items split from it. Syntax errors in the shell are located only when nothing was
/// taken out of it (the lines of the items are gone).
pub(crate) fn assemble(shell: &[u8], items: Vec<Item>) -> (Vec<Doc>, Option<SyntaxError>) {
    let split = !items.is_empty();
    let shell = shell.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(shell);
    let (roots, mut error) = parse_json_roots(shell);
    if split && let Some(e) = &mut error {
        e.line = None;
        e.column = None;
    }
    let mut items = Some(items);
    let docs = roots
        .into_iter()
        .map(
            |Root(root, own)| match items.take().filter(|i| !i.is_empty()) {
                Some(split_items) => classify(root, Some(split_items)),
                None => classify(root, own),
            },
        )
        .collect();
    (docs, error)
}

/// The parser's defaults suit configuration files; a snapshot file may hold a whole
/// cluster's objects, so the size budgets scale with the file while the alias-bomb
/// limits stay as they are.
fn yaml_options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = None;
    budget.max_events = budget.max_events.max(len);
    budget.max_nodes = budget.max_nodes.max(len / 2);
    budget.max_documents = budget.max_documents.max(len / 16);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(len);
    budget.max_depth = 128;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options.emit_comments = false;
    options
}

fn yaml_error(e: &serde_saphyr::Error) -> SyntaxError {
    let location = e.location();
    let known = |n: u64| usize::try_from(n).ok().filter(|n| *n > 0);
    let text = e.to_string();
    // The message repeats the position; the problem carries it on its own.
    let message = match text.split_once(" at line ") {
        Some((message, _)) => message.to_string(),
        None => text,
    };
    SyntaxError {
        line: location.and_then(|l| known(l.line())),
        column: location.and_then(|l| known(l.column())),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[Item]) -> Vec<&str> {
        items
            .iter()
            .filter_map(|i| i.head.name.as_deref())
            .collect()
    }

    #[test]
    fn yaml_stream_of_objects_and_lists() {
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n---\n---\napiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: b}\n- metadata: {name: c}\n";
        let (docs, err) = parse(yaml.as_bytes(), Format::Yaml);
        assert_eq!(err, None);
        assert_eq!(docs.len(), 2);
        let Doc::Object(a) = &docs[0] else {
            panic!("{docs:?}")
        };
        assert_eq!(
            &*a.json,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"x"}}"#
        );
        let Doc::List { kind, items, .. } = &docs[1] else {
            panic!("{docs:?}")
        };
        assert_eq!(&**kind, "PodList");
        assert_eq!(names(items), ["b", "c"]);
    }

    #[test]
    fn yaml_scalars_keep_their_types() {
        let (docs, _) = parse(
            b"kind: ConfigMap\ndata: {a: '0', b: 0, c: true, d: null, e: 1.5, 7: x}\n",
            Format::Yaml,
        );
        let Doc::Object(cm) = &docs[0] else { panic!() };
        assert_eq!(
            &*cm.json,
            r#"{"kind":"ConfigMap","data":{"a":"0","b":0,"c":true,"d":null,"e":1.5,"7":"x"}}"#
        );
    }

    #[test]
    fn yaml_plain_scalars_with_quotes_are_escaped() {
        let (docs, _) = parse(
            b"kind: ConfigMap\ndata:\n  a: say \"hi\" \\o/\n",
            Format::Yaml,
        );
        let Doc::Object(cm) = &docs[0] else { panic!() };
        let value: serde_json::Value = serde_json::from_str(&cm.json).expect("valid JSON");
        assert_eq!(value["data"]["a"], "say \"hi\" \\o/");
    }

    #[test]
    fn json_arrays_and_concatenated_values() {
        let (docs, err) = parse(
            br#"[{"metadata":{"name":"a"}}, 3] {"kind":"List","items":[]}"#,
            Format::Json,
        );
        assert_eq!(err, None);
        let Doc::Array(items) = &docs[0] else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert!(!items[1].shape.is_object);
        assert!(matches!(&docs[1], Doc::List { items, .. } if items.is_empty()));
    }

    #[test]
    fn an_items_field_on_a_non_list_stays_in_the_object() {
        let (docs, _) = parse(
            br#"{"kind":"Widget","metadata":{"name":"w"},"items":[1,{"a":2}]}"#,
            Format::Json,
        );
        let Doc::Object(w) = &docs[0] else { panic!() };
        assert_eq!(
            &*w.json,
            r#"{"kind":"Widget","metadata":{"name":"w"},"items":[1,{"a":2}]}"#
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let (_, err) = parse(b"kind: Pod\nmetadata:\n  name: [a\n", Format::Yaml);
        let err = err.expect("yaml error");
        assert!(err.line.is_some(), "{err:?}");
        let (docs, err) = parse(b"{\"kind\":\"Pod\"}\n{\"kind\": }", Format::Json);
        assert_eq!(docs.len(), 1);
        let err = err.expect("json error");
        assert_eq!((err.line, err.column), (Some(2), Some(10)));
        assert!(!err.message.contains("at line"), "{}", err.message);
    }
}
