//! Reading fields of JSON that came from a cluster or a snapshot: the one path reader of
//! the crate. Every step must be an object key, and `null` reads as absent, so a field
//! a writer left out and one it wrote as `null` mean the same (as in Go's decoders).

use serde_json::{Map, Value};

/// The value at `path`, if every step is an object key and the value is not null.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut current = value;
    for key in path {
        current = current.as_object()?.get(*key)?;
    }
    (!current.is_null()).then_some(current)
}

/// A string field, if it is one.
pub fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path).and_then(Value::as_str)
}

/// A string field, "" when absent or not a string (Go's zero value).
pub fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    str_at(value, path).unwrap_or("")
}

/// An integer field; a float (as YAML writers sometimes give) is truncated.
pub fn int_opt(value: &Value, path: &[&str]) -> Option<i64> {
    let v = at(value, path)?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

/// An integer field, 0 when absent or not a number.
pub fn int(value: &Value, path: &[&str]) -> i64 {
    int_opt(value, path).unwrap_or(0)
}

/// A boolean field, false when absent or not a boolean.
pub fn flag(value: &Value, path: &[&str]) -> bool {
    at(value, path).and_then(Value::as_bool).unwrap_or(false)
}

/// An array field, empty when absent or not an array.
pub fn list<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    at(value, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// An object field.
pub fn map_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Map<String, Value>> {
    at(value, path)?.as_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_and_wrong_types_read_as_absent() {
        let v =
            json!({"a": {"b": null, "s": "x", "n": 3.9, "l": [1], "t": true}, "arr": [{"k": 1}]});
        assert_eq!(at(&v, &["a", "b"]), None);
        assert_eq!(text(&v, &["a", "s"]), "x");
        assert_eq!(text(&v, &["a", "n"]), "");
        assert_eq!(int(&v, &["a", "n"]), 3);
        assert_eq!(list(&v, &["a", "l"]).len(), 1);
        assert!(list(&v, &["a", "s"]).is_empty());
        assert!(flag(&v, &["a", "t"]));
        // Steps go through objects only: an index is not a key.
        assert_eq!(at(&v, &["arr", "0"]), None);
        assert_eq!(at(&v, &[]), Some(&v));
    }
}
