//! What a redaction pass reports: which rule fired where and how often, never what was
//! removed (`redactions.json`).

use super::Redactor;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

/// One place where a rule fired, `count` times. Never holds what was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redaction {
    pub rule: String,
    /// The bundle file, as the caller named it.
    pub file: String,
    /// A JSON pointer into the object (`/spec/template/spec/containers/0/env/3/value`) or
    /// `line N` of a text file.
    pub location: String,
    pub count: usize,
    /// Secret values only: the length of the value in bytes (decoded, for `data`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
}

/// What was redacted, per rule, file and location, in the order first seen; see
/// [`Report::to_json`] for `redactions.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    entries: IndexMap<(String, String, String), Redaction>,
}

impl Report {
    pub fn redactions(&self) -> impl Iterator<Item = &Redaction> {
        self.entries.values()
    }

    /// Entries (rule, file, location).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Spans redacted in all.
    pub fn total(&self) -> usize {
        self.entries.values().map(|r| r.count).sum()
    }

    /// Adds `count` redactions by `rule` at `file`/`location`.
    pub fn add(
        &mut self,
        rule: &str,
        file: &str,
        location: &str,
        count: usize,
        length: Option<usize>,
    ) {
        if count == 0 {
            return;
        }
        let key = (rule.to_string(), file.to_string(), location.to_string());
        let entry = self.entries.entry(key).or_insert_with(|| Redaction {
            rule: rule.to_string(),
            file: file.to_string(),
            location: location.to_string(),
            count: 0,
            length: None,
        });
        entry.count += count;
        if length.is_some() {
            entry.length = length;
        }
    }

    /// Takes in another report's redactions (files redacted elsewhere).
    pub fn merge(&mut self, other: Report) {
        for r in other.entries.into_values() {
            self.add(&r.rule, &r.file, &r.location, r.count, r.length);
        }
    }

    /// `redactions.json`: `{"profile": {"redactIps": false}, "rules": [ids of the rules
    /// applied], "redactions": [{"rule", "file", "location", "count", "length"?}]}`.
    pub fn to_json(&self, redactor: &Redactor) -> Value {
        serde_json::json!({
            "profile": redactor.profile,
            "rules": redactor.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            "redactions": self.entries.values().collect::<Vec<_>>(),
        })
    }
}
