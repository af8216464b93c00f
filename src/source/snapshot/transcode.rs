//! Streaming transcoding of Kubernetes objects, from any serde format (JSON or YAML),
//! into compact JSON text, capturing on the way the few fields the store indexes.
//!
//! Why not parse into `serde_json::Value`: a pod is 15–25 KB as a `Value` tree and a
//! large snapshot holds tens of thousands of them. Each object is kept as its minified
//! text (`metadata.managedFields` dropped) plus a small [`Head`]; a `Value` is built only
//! when a query returns the object. One pass over the input does all of it, and nothing
//! but the object being read is ever held as a tree.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// The fields of an object that the store indexes or that "now" is computed from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub api_version: Option<Box<str>>,
    pub kind: Option<Box<str>>,
    pub name: Option<Box<str>>,
    pub namespace: Option<Box<str>>,
    pub labels: Vec<(Box<str>, Box<str>)>,
    pub created: Option<Box<str>>,
    pub node_name: Option<Box<str>>,
    pub phase: Option<Box<str>>,
    /// Event `type` and `reason`, indexed because events are the largest population that
    /// runbooks filter by field.
    pub event_type: Option<Box<str>>,
    pub reason: Option<Box<str>>,
    pub involved: Option<RefHead>,
    pub regarding: Option<RefHead>,
    /// Event times: `lastTimestamp`, `eventTime`, `firstTimestamp`,
    /// `series.lastObservedTime`, `deprecatedLastTimestamp`.
    pub event_times: [Option<Box<str>>; 5],
    /// The newest observation time in the object's status (see `is_observation_time`)
    /// or a Lease's `renewTime`.
    pub observed: Option<Box<str>>,
}

/// An event's `involvedObject` or `regarding`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RefHead {
    pub kind: Option<Box<str>>,
    pub namespace: Option<Box<str>>,
    pub name: Option<Box<str>>,
    pub uid: Option<Box<str>>,
}

/// Where things are in the written text, so that missing identity fields can be spliced
/// in later without re-parsing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    pub is_object: bool,
    /// Byte offset just inside the `{` of the root-level `metadata` map.
    pub metadata_at: Option<usize>,
    pub metadata_empty: bool,
}

/// One transcoded value: an object of a list, or a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub json: Box<str>,
    pub head: Head,
    pub shape: Shape,
}

/// Reads one value as a Kubernetes object (capturing its head) into its own buffer.
pub(crate) struct ItemSeed {
    pub verbatim: bool,
}

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Item;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Item, D::Error> {
        let out = Writer::new(self.verbatim);
        let (item, _) = read_object(deserializer, out, false)?;
        Ok(item)
    }
}

/// The text being written, and whether strings the deserializer lends from its input
/// can be copied as they are: true for JSON, where a borrowed string is one that had no
/// escapes (and JSON strings hold no raw quotes or control characters).
pub(crate) struct Writer {
    text: String,
    verbatim: bool,
    /// Inside an object's `status`, where times are observations.
    pub(crate) in_status: bool,
    observed: Option<Box<str>>,
}

thread_local! {
    /// A buffer kept per thread between objects: each object is written here and copied
    /// out at its exact size. Growing and shrinking a buffer per object instead leaves
    /// the allocator with holes that add up to the size of the input.
    static SCRATCH: std::cell::Cell<Option<String>> = const { std::cell::Cell::new(None) };
}

impl Writer {
    pub(crate) fn new(verbatim: bool) -> Self {
        let text = SCRATCH.with(|s| s.take()).unwrap_or_default();
        Writer {
            text,
            verbatim,
            in_status: false,
            observed: None,
        }
    }

    /// Keeps the newer of `time` and what was seen. RFC 3339 times in UTC, as the API
    /// writes them, order as text to the second; fractions are not worth a parse.
    pub(crate) fn observe(&mut self, time: Option<Box<str>>) {
        let Some(time) = time else { return };
        let second = |t: &str| t.get(..19).map(str::to_owned).unwrap_or_default();
        if time.len() >= 20
            && self
                .observed
                .as_deref()
                .is_none_or(|seen| second(&time) > second(seen))
        {
            self.observed = Some(time);
        }
    }

    pub(crate) fn take_observed(&mut self) -> Option<Box<str>> {
        self.observed.take()
    }

    /// The text at its exact size; the buffer goes back for the next object.
    pub(crate) fn finish(mut self) -> Box<str> {
        let json: Box<str> = self.text.as_str().into();
        // A buffer grown by one huge object is not worth keeping.
        if self.text.capacity() <= 1 << 20 {
            self.text.clear();
            let text = std::mem::take(&mut self.text);
            SCRATCH.with(|s| {
                let kept = s.take();
                s.set(Some(match kept {
                    Some(k) if k.capacity() >= text.capacity() => k,
                    _ => text,
                }));
            });
        }
        json
    }

    fn borrowed_string(&mut self, s: &str) {
        if self.verbatim {
            self.text.push('"');
            self.text.push_str(s);
            self.text.push('"');
        } else {
            write_json_string(&mut self.text, s);
        }
    }
}

impl std::ops::Deref for Writer {
    type Target = String;

    fn deref(&self) -> &String {
        &self.text
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.text
    }
}

/// Reads a document root: an object whose `items` sequence, if any, is returned apart as
/// separate objects (so a list never becomes one text), or a bare array of objects.
pub(crate) fn read_object<'de, D: de::Deserializer<'de>>(
    deserializer: D,
    mut out: Writer,
    split_items: bool,
) -> Result<(Item, Option<Vec<Item>>), D::Error> {
    let mut head = Head::default();
    let mut shape = Shape::default();
    let mut items = None;
    Transcode {
        out: &mut out,
        mode: Mode::Object {
            head: &mut head,
            shape: &mut shape,
            items: split_items.then_some(&mut items),
        },
    }
    .deserialize(deserializer)?;
    head.observed = out.take_observed();
    let item = Item {
        json: out.finish(),
        head,
        shape,
    };
    Ok((item, items))
}

pub(crate) type Slot<'h> = &'h mut Option<Box<str>>;

pub(crate) enum Mode<'h, 'f> {
    Plain,
    /// Capture the value when it is a string.
    Scalar(Slot<'h>),
    /// Capture the named string fields of a map.
    Fields(&'f mut [(&'static str, Slot<'h>)]),
    /// Capture every string entry of a map.
    Labels(&'h mut Vec<(Box<str>, Box<str>)>),
    Metadata(&'h mut Head, &'h mut Shape),
    /// A list's `items`: a sequence is read as separate objects into the slot.
    Items(&'h mut Option<Vec<Item>>),
    Object {
        head: &'h mut Head,
        shape: &'h mut Shape,
        items: Option<&'h mut Option<Vec<Item>>>,
    },
}

/// Transcodes one value in the given mode (the fast path's way to the slow one).
pub(crate) fn transcode<'de, D: de::Deserializer<'de>>(
    deserializer: D,
    out: &mut Writer,
    mode: Mode<'_, '_>,
) -> Result<(), D::Error> {
    Transcode { out, mode }.deserialize(deserializer)
}

struct Transcode<'o, 'h, 'f> {
    out: &'o mut Writer,
    mode: Mode<'h, 'f>,
}

impl<'o> Transcode<'o, '_, '_> {
    fn plain(out: &'o mut Writer) -> Self {
        Transcode {
            out,
            mode: Mode::Plain,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Transcode<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON-compatible value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        let _ = write!(self.out, "{v}");
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        let _ = write!(self.out, "{v}");
        Ok(())
    }

    fn visit_i128<E>(self, v: i128) -> Result<(), E> {
        let _ = write!(self.out, "{v}");
        Ok(())
    }

    fn visit_u128<E>(self, v: u128) -> Result<(), E> {
        let _ = write!(self.out, "{v}");
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // JSON has no NaN or infinity; serde_json writes them as null too.
        match serde_json::Number::from_f64(v) {
            Some(n) => {
                let _ = write!(self.out, "{n}");
            }
            None => self.out.push_str("null"),
        }
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if let Mode::Scalar(slot) = self.mode {
            *slot = Some(v.into());
        }
        write_json_string(self.out, v);
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        if let Mode::Scalar(slot) = self.mode {
            *slot = Some(v.into());
        }
        self.out.borrowed_string(v);
        Ok(())
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        self.visit_str(&String::from_utf8_lossy(v))
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.out.push_str("null");
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.push_str("null");
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Transcode { out, mode } = self;
        if let Mode::Items(slot)
        | Mode::Object {
            items: Some(slot), ..
        } = mode
        {
            let mut items = Vec::new();
            let seed = || ItemSeed {
                verbatim: out.verbatim,
            };
            while let Some(item) = seq.next_element_seed(seed())? {
                items.push(item);
            }
            *slot = Some(items);
            return Ok(());
        }
        out.push('[');
        let mut first = true;
        loop {
            let mark = out.len();
            if !first {
                out.push(',');
            }
            if seq.next_element_seed(Transcode::plain(out))?.is_none() {
                out.truncate(mark);
                break;
            }
            first = false;
        }
        out.push(']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Transcode { out, mode } = self;
        out.push('{');
        let mut first = true;
        match mode {
            Mode::Plain | Mode::Scalar(_) | Mode::Items(_) => {
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    write_key(out, &mut first, &key, matches!(key, Cow::Borrowed(_)));
                    if out.in_status && is_observation_time(&key) {
                        let mut time = None;
                        map.next_value_seed(Transcode {
                            out,
                            mode: Mode::Scalar(&mut time),
                        })?;
                        out.observe(time);
                    } else {
                        map.next_value_seed(Transcode::plain(out))?;
                    }
                }
            }
            Mode::Fields(fields) => {
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    write_key(out, &mut first, &key, matches!(key, Cow::Borrowed(_)));
                    let mut time = None;
                    let mode = match fields.iter_mut().find(|(name, _)| *name == key) {
                        Some((_, slot)) => Mode::Scalar(slot),
                        None if out.in_status && is_observation_time(&key) => {
                            Mode::Scalar(&mut time)
                        }
                        None => Mode::Plain,
                    };
                    map.next_value_seed(Transcode { out, mode })?;
                    out.observe(time);
                }
            }
            Mode::Labels(labels) => {
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    write_key(out, &mut first, &key, matches!(key, Cow::Borrowed(_)));
                    let mut value = None;
                    map.next_value_seed(Transcode {
                        out,
                        mode: Mode::Scalar(&mut value),
                    })?;
                    if let Some(value) = value {
                        labels.push((key.into(), value));
                    }
                }
            }
            Mode::Metadata(head, shape) => {
                shape.metadata_at = Some(out.len());
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    if key == "managedFields" {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    write_key(out, &mut first, &key, matches!(key, Cow::Borrowed(_)));
                    let mode = match key.as_ref() {
                        "name" => Mode::Scalar(&mut head.name),
                        "namespace" => Mode::Scalar(&mut head.namespace),
                        "creationTimestamp" => Mode::Scalar(&mut head.created),
                        "labels" => Mode::Labels(&mut head.labels),
                        _ => Mode::Plain,
                    };
                    map.next_value_seed(Transcode { out, mode })?;
                }
                shape.metadata_empty = first;
            }
            Mode::Object { head, shape, items } => {
                shape.is_object = true;
                let mut items = items;
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    let (mark, was_first) = (out.len(), first);
                    write_key(out, &mut first, &key, matches!(key, Cow::Borrowed(_)));
                    object_entry(out, &mut map, &key, head, shape, items.as_deref_mut())?;
                    if key == "items" && items.as_ref().is_some_and(|slot| slot.is_some()) {
                        // The items went apart: take their key back out of the text.
                        out.truncate(mark);
                        first = was_first;
                    }
                }
            }
        }
        out.push('}');
        Ok(())
    }
}

/// Reads the value of one root-level entry of an object, capturing what the head wants.
fn object_entry<'de, A: MapAccess<'de>>(
    out: &mut Writer,
    map: &mut A,
    key: &str,
    head: &mut Head,
    shape: &mut Shape,
    items: Option<&mut Option<Vec<Item>>>,
) -> Result<(), A::Error> {
    let mode = match key {
        "apiVersion" => Mode::Scalar(&mut head.api_version),
        "kind" => Mode::Scalar(&mut head.kind),
        "metadata" => Mode::Metadata(head, shape),
        "type" => Mode::Scalar(&mut head.event_type),
        "reason" => Mode::Scalar(&mut head.reason),
        "lastTimestamp" => Mode::Scalar(&mut head.event_times[0]),
        "eventTime" => Mode::Scalar(&mut head.event_times[1]),
        "firstTimestamp" => Mode::Scalar(&mut head.event_times[2]),
        "deprecatedLastTimestamp" => Mode::Scalar(&mut head.event_times[4]),
        "series" => {
            return map.next_value_seed(Transcode {
                out,
                mode: Mode::Fields(&mut [("lastObservedTime", &mut head.event_times[3])]),
            });
        }
        "spec" => {
            let mut renewed = None;
            map.next_value_seed(Transcode {
                out,
                mode: Mode::Fields(&mut [
                    ("nodeName", &mut head.node_name),
                    ("renewTime", &mut renewed),
                ]),
            })?;
            out.observe(renewed);
            return Ok(());
        }
        "status" => {
            out.in_status = true;
            let read = map.next_value_seed(Transcode {
                out,
                mode: Mode::Fields(&mut [("phase", &mut head.phase)]),
            });
            out.in_status = false;
            return read;
        }
        "involvedObject" | "regarding" => {
            let reference = if key == "regarding" {
                &mut head.regarding
            } else {
                &mut head.involved
            };
            let r = reference.get_or_insert_with(RefHead::default);
            return map.next_value_seed(Transcode {
                out,
                mode: Mode::Fields(&mut [
                    ("kind", &mut r.kind),
                    ("namespace", &mut r.namespace),
                    ("name", &mut r.name),
                    ("uid", &mut r.uid),
                ]),
            });
        }
        "items" => match items {
            Some(slot) => Mode::Items(slot),
            None => Mode::Plain,
        },
        _ => Mode::Plain,
    };
    map.next_value_seed(Transcode { out, mode })
}

/// Times the kubelet and controllers write in `status` when they observe something
/// (container states, conditions, heartbeats, job runs): never later than the capture,
/// so a snapshot's "now" is at least the newest of them. Only in `status`: a spec may
/// schedule a future time, and `deletionTimestamp` is set ahead by the grace period.
pub(crate) fn is_observation_time(key: &str) -> bool {
    matches!(
        key,
        "startedAt"
            | "finishedAt"
            | "startTime"
            | "completionTime"
            | "lastProbeTime"
            | "lastTransitionTime"
            | "lastHeartbeatTime"
            | "lastUpdateTime"
            | "lastScheduleTime"
            | "lastSuccessfulTime"
    )
}

/// `borrowed`: the key came straight from the input (see `Writer`).
fn write_key(out: &mut Writer, first: &mut bool, key: &str, borrowed: bool) {
    if !*first {
        out.push(',');
    }
    *first = false;
    if borrowed {
        out.borrowed_string(key);
    } else {
        write_json_string(out, key);
    }
    out.push(':');
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escaping: find out in one tight pass, then copy.
    let needs_escape = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    match s.bytes().position(needs_escape) {
        None => out.push_str(s),
        Some(first) => {
            out.push_str(&s[..first]);
            let mut start = first;
            for (i, b) in s.bytes().enumerate().skip(first) {
                if !needs_escape(b) {
                    continue;
                }
                out.push_str(&s[start..i]);
                match b {
                    b'"' => out.push_str("\\\""),
                    b'\\' => out.push_str("\\\\"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    _ => {
                        let _ = write!(out, "\\u{b:04x}");
                    }
                }
                start = i + 1;
            }
            out.push_str(&s[start..]);
        }
    }
    out.push('"');
}

/// Map keys as text: YAML allows numbers and booleans as keys, JSON does not.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map key that is a string, number or boolean")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed("null"))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed("null"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: &str) -> Item {
        let mut de = serde_json::Deserializer::from_str(json);
        let seed = ItemSeed { verbatim: true };
        seed.deserialize(&mut de).expect("valid json")
    }

    #[test]
    fn minifies_drops_managed_fields_and_captures_the_head() {
        let it = item(
            r#"{
              "apiVersion": "v1", "kind": "Event",
              "metadata": {"name": "e1", "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z",
                           "managedFields": [{"manager": "kubectl"}], "labels": {"a": "1", "n": 2}},
              "involvedObject": {"kind": "Pod", "name": "web", "namespace": "shop", "uid": "u1"},
              "type": "Warning", "reason": "BackOff", "count": 3, "ratio": 0.5, "ok": true, "none": null,
              "series": {"count": 2, "lastObservedTime": "2026-01-02T00:00:00Z"},
              "spec": {"nodeName": "n1"}, "status": {"phase": "Running"},
              "message": "quote \" backslash \\ tab \t ctl \u0001 ünïcode"
            }"#,
        );
        assert_eq!(
            &*it.json,
            r#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e1","namespace":"shop","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"a":"1","n":2}},"involvedObject":{"kind":"Pod","name":"web","namespace":"shop","uid":"u1"},"type":"Warning","reason":"BackOff","count":3,"ratio":0.5,"ok":true,"none":null,"series":{"count":2,"lastObservedTime":"2026-01-02T00:00:00Z"},"spec":{"nodeName":"n1"},"status":{"phase":"Running"},"message":"quote \" backslash \\ tab \t ctl \u0001 ünïcode"}"#
        );
        let reparsed: serde_json::Value = serde_json::from_str(&it.json).unwrap();
        assert_eq!(
            reparsed["message"],
            "quote \" backslash \\ tab \t ctl \u{1} ünïcode"
        );
        let h = &it.head;
        assert_eq!(h.kind.as_deref(), Some("Event"));
        assert_eq!(h.name.as_deref(), Some("e1"));
        assert_eq!(h.namespace.as_deref(), Some("shop"));
        assert_eq!(h.labels, vec![("a".into(), "1".into())]);
        assert_eq!(h.node_name.as_deref(), Some("n1"));
        assert_eq!(h.phase.as_deref(), Some("Running"));
        assert_eq!(h.event_type.as_deref(), Some("Warning"));
        assert_eq!(
            h.involved.as_ref().and_then(|r| r.uid.as_deref()),
            Some("u1")
        );
        assert_eq!(h.event_times[3].as_deref(), Some("2026-01-02T00:00:00Z"));
        let at = it.shape.metadata_at.unwrap();
        assert!(it.json[at..].starts_with(r#""name":"e1""#));
    }

    #[test]
    fn nested_names_are_not_mistaken_for_the_objects_own() {
        let it = item(
            r#"{"kind":"Pod","spec":{"containers":[{"name":"c"}],"template":{"metadata":{"name":"t"}}}}"#,
        );
        assert_eq!(it.head.name, None);
        assert_eq!(it.shape.metadata_at, None);
    }

    #[test]
    fn document_items_are_split_apart_and_their_key_removed() {
        let json = r#"{"apiVersion":"v1","items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}],"kind":"PodList"}"#;
        let mut de = serde_json::Deserializer::from_str(json);
        let (doc, items) = read_object(&mut de, Writer::new(true), true).unwrap();
        assert_eq!(&*doc.json, r#"{"apiVersion":"v1","kind":"PodList"}"#);
        let items = items.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(&*items[1].json, r#"{"metadata":{"name":"b"}}"#);
        assert!(items[1].shape.metadata_at.is_some());
    }
}
