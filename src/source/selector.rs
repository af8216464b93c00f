//! Label and field selectors in the Kubernetes API's own syntax, as pure parsers and
//! matchers: the snapshot reader filters with them, and `ktriage serve` reuses them so
//! that `kubectl get -l ... --field-selector ...` behaves the same over a snapshot.
//!
//! Semantics follow apimachinery: requirements are ANDed; `!=` and `notin` match objects
//! that lack the label; a field that is absent or null reads as the empty string, so
//! `spec.nodeName=` selects unscheduled pods as the API server does.

use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A parsed label selector (`app=web,tier in (a,b),!canary`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<LabelRequirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRequirement {
    pub key: String,
    pub op: LabelOp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelOp {
    Exists,
    DoesNotExist,
    Equals(String),
    NotEquals(String),
    In(BTreeSet<String>),
    NotIn(BTreeSet<String>),
    GreaterThan(i64),
    LessThan(i64),
}

impl LabelSelector {
    /// Parses the API syntax; an empty string selects everything.
    pub fn parse(input: &str) -> Result<Self, String> {
        let tokens = lex(input)?;
        let mut parser = LabelParser { tokens, pos: 0 };
        let mut requirements = Vec::new();
        if parser.peek().is_none() {
            return Ok(LabelSelector { requirements });
        }
        loop {
            requirements.push(parser.requirement()?);
            match parser.next() {
                None => break,
                Some(Token::Comma) => continue,
                Some(other) => {
                    return Err(format!("expected `,` between requirements, found {other}"));
                }
            }
        }
        Ok(LabelSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|key| labels.get(key).map(String::as_str))
    }

    /// Matches over any label storage: `get` returns the value of a label, if set.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.matches(get(&r.key)))
    }
}

impl LabelRequirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (LabelOp::Exists, v) => v.is_some(),
            (LabelOp::DoesNotExist, v) => v.is_none(),
            (LabelOp::Equals(want), Some(v)) => v == want,
            (LabelOp::NotEquals(want), Some(v)) => v != want,
            (LabelOp::NotEquals(_), None) => true,
            (LabelOp::In(set), Some(v)) => set.contains(v),
            (LabelOp::NotIn(set), Some(v)) => !set.contains(v),
            (LabelOp::NotIn(_), None) => true,
            (LabelOp::GreaterThan(n), Some(v)) => v.parse::<i64>().is_ok_and(|v| v > *n),
            (LabelOp::LessThan(n), Some(v)) => v.parse::<i64>().is_ok_and(|v| v < *n),
            (_, None) => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Comma,
    Open,
    Close,
    Eq,
    DoubleEq,
    NotEq,
    Not,
    Gt,
    Lt,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "`{w}`"),
            Token::Comma => write!(f, "`,`"),
            Token::Open => write!(f, "`(`"),
            Token::Close => write!(f, "`)`"),
            Token::Eq => write!(f, "`=`"),
            Token::DoubleEq => write!(f, "`==`"),
            Token::NotEq => write!(f, "`!=`"),
            Token::Not => write!(f, "`!`"),
            Token::Gt => write!(f, "`>`"),
            Token::Lt => write!(f, "`<`"),
        }
    }
}

fn lex(input: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            ',' => Token::Comma,
            '(' => Token::Open,
            ')' => Token::Close,
            '>' => Token::Gt,
            '<' => Token::Lt,
            '=' if chars.next_if(|(_, c)| *c == '=').is_some() => Token::DoubleEq,
            '=' => Token::Eq,
            '!' if chars.next_if(|(_, c)| *c == '=').is_some() => Token::NotEq,
            '!' => Token::Not,
            c if is_word_char(c) => {
                let mut end = i + c.len_utf8();
                while let Some((j, c)) = chars.next_if(|(_, c)| is_word_char(*c)) {
                    end = j + c.len_utf8();
                }
                Token::Word(input[i..end].to_string())
            }
            other => {
                return Err(format!(
                    "unexpected character `{other}` at position {}",
                    i + 1
                ));
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}

struct LabelParser {
    tokens: Vec<Token>,
    pos: usize,
}

impl LabelParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn key(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w),
            Some(other) => Err(format!("expected a label key, found {other}")),
            None => Err("expected a label key, found the end".to_string()),
        }
    }

    /// A value may be empty (`tier=`), as the API allows.
    fn value(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Token::Word(w)) if !w.contains('/') => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            Some(Token::Word(w)) => Err(format!("label value `{w}` may not contain `/`")),
            None | Some(Token::Comma) | Some(Token::Close) => Ok(String::new()),
            Some(other) => Err(format!("expected a label value, found {other}")),
        }
    }

    fn set(&mut self) -> Result<BTreeSet<String>, String> {
        match self.next() {
            Some(Token::Open) => {}
            Some(other) => return Err(format!("expected `(` to open a set, found {other}")),
            None => return Err("expected `(` to open a set, found the end".to_string()),
        }
        let mut values = BTreeSet::new();
        if self.peek() == Some(&Token::Close) {
            self.pos += 1;
            return Ok(values);
        }
        loop {
            values.insert(self.value()?);
            match self.next() {
                Some(Token::Comma) => continue,
                Some(Token::Close) => return Ok(values),
                Some(other) => return Err(format!("expected `,` or `)` in a set, found {other}")),
                None => return Err("unclosed `(` in a set".to_string()),
            }
        }
    }

    fn number(&mut self) -> Result<i64, String> {
        match self.next() {
            Some(Token::Word(w)) => w
                .parse::<i64>()
                .map_err(|_| format!("`{w}` is not an integer (`>` and `<` compare integers)")),
            Some(other) => Err(format!("expected an integer, found {other}")),
            None => Err("expected an integer, found the end".to_string()),
        }
    }

    fn requirement(&mut self) -> Result<LabelRequirement, String> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            let key = self.key()?;
            return Ok(LabelRequirement {
                key,
                op: LabelOp::DoesNotExist,
            });
        }
        let key = self.key()?;
        let op = match self.peek().cloned() {
            None | Some(Token::Comma) => LabelOp::Exists,
            Some(Token::Eq) | Some(Token::DoubleEq) => {
                self.pos += 1;
                LabelOp::Equals(self.value()?)
            }
            Some(Token::NotEq) => {
                self.pos += 1;
                LabelOp::NotEquals(self.value()?)
            }
            Some(Token::Word(w)) if w == "in" => {
                self.pos += 1;
                LabelOp::In(self.set()?)
            }
            Some(Token::Word(w)) if w == "notin" => {
                self.pos += 1;
                LabelOp::NotIn(self.set()?)
            }
            Some(Token::Gt) => {
                self.pos += 1;
                LabelOp::GreaterThan(self.number()?)
            }
            Some(Token::Lt) => {
                self.pos += 1;
                LabelOp::LessThan(self.number()?)
            }
            Some(other) => {
                return Err(format!("expected an operator after `{key}`, found {other}"));
            }
        };
        Ok(LabelRequirement { key, op })
    }
}

/// A parsed field selector (`status.phase!=Running,spec.nodeName=n1`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    /// A dotted path into the object: `metadata.name`, `involvedObject.kind`.
    pub path: String,
    pub op: FieldOp,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOp {
    Equals,
    NotEquals,
}

impl FieldSelector {
    /// Parses `path=value`, `path==value` and `path!=value` terms separated by commas;
    /// `\,`, `\=` and `\\` escape those characters in values, as `fields.EscapeValue` does.
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_unescaped_commas(input) {
            let term = term.trim();
            if term.is_empty() {
                if input.trim().is_empty() {
                    continue;
                }
                return Err("empty term in field selector".to_string());
            }
            requirements.push(parse_field_term(term)?);
        }
        Ok(FieldSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.matches_with(|path| field_value(object, path))
    }

    /// Matches over any object storage: `get` reads the field at a dotted path as a
    /// string (`None` when it is an object or array, which no value matches).
    pub fn matches_with<'a>(&self, mut get: impl FnMut(&str) -> Option<Cow<'a, str>>) -> bool {
        self.requirements.iter().all(|r| {
            let actual = get(&r.path);
            let equal = actual.as_deref() == Some(r.value.as_str());
            match r.op {
                FieldOp::Equals => equal,
                FieldOp::NotEquals => !equal,
            }
        })
    }
}

fn split_unescaped_commas(input: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                // Keep the escape so the term parser can tell `\=` from `=`.
                if let Some(last) = parts.last_mut() {
                    last.push('\\');
                    if let Some(n) = chars.next() {
                        last.push(n);
                    }
                }
            }
            ',' => parts.push(String::new()),
            c => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    parts
}

fn parse_field_term(term: &str) -> Result<FieldRequirement, String> {
    // The operator is the first unescaped `!=`, `==` or `=`.
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                return field_term(term, i, 2, FieldOp::NotEquals);
            }
            b'=' if bytes.get(i + 1) == Some(&b'=') => {
                return field_term(term, i, 2, FieldOp::Equals);
            }
            b'=' => return field_term(term, i, 1, FieldOp::Equals),
            _ => i += 1,
        }
    }
    Err(format!("`{term}` has no operator (use `=`, `==` or `!=`)"))
}

fn field_term(term: &str, at: usize, len: usize, op: FieldOp) -> Result<FieldRequirement, String> {
    let path = term[..at].trim();
    if path.is_empty() {
        return Err(format!("`{term}` names no field"));
    }
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
    {
        return Err(format!("`{path}` is not a field path"));
    }
    let value = unescape(term[at + len..].trim())?;
    Ok(FieldRequirement {
        path: path.to_string(),
        op,
        value,
    })
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(format!("invalid escape `\\{e}` in field selector value")),
                None => return Err("field selector value ends with a lone `\\`".to_string()),
            },
            '=' | ',' => return Err(format!("unescaped `{c}` in field selector value `{raw}`")),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The value at a dotted path as a field selector sees it: strings as they are, numbers
/// and booleans in their JSON spelling, absent or null as "", objects and arrays as
/// `None` (no value matches them).
pub fn field_value<'a>(object: &'a Value, path: &str) -> Option<Cow<'a, str>> {
    let mut current = object;
    for segment in path.split('.') {
        match current.get(segment) {
            Some(v) => current = v,
            None if current.is_object() || current.is_null() => return Some(Cow::Borrowed("")),
            None => return None,
        }
    }
    match current {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Null => Some(Cow::Borrowed("")),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_label_operator_matches_as_the_api_does() {
        let web = labels(&[("app", "web"), ("tier", "front"), ("replicas", "3")]);
        let db = labels(&[("app", "db")]);
        let cases: &[(&str, bool, bool)] = &[
            ("", true, true),
            ("app=web", true, false),
            ("app==web", true, false),
            ("app!=web", false, true),
            ("tier!=front", false, true), // absent label satisfies !=
            ("app in (web, cache)", true, false),
            ("app notin (web)", false, true),
            ("tier notin (back)", true, true), // absent label satisfies notin
            ("tier", true, false),
            ("!tier", false, true),
            ("app=web,tier=front", true, false),
            ("app in (web,db),!tier", false, true),
            ("replicas>2", true, false),
            ("replicas<2", false, false),
            ("tier=", false, false),
            ("app in ()", false, false),
        ];
        for (s, on_web, on_db) in cases {
            assert_eq!(sel(s).matches(&web), *on_web, "{s} on web");
            assert_eq!(sel(s).matches(&db), *on_db, "{s} on db");
        }
    }

    #[test]
    fn empty_label_value_is_allowed() {
        let s = sel("tier=,app");
        assert_eq!(s.requirements[0].op, LabelOp::Equals(String::new()));
        assert!(s.matches(&labels(&[("tier", ""), ("app", "x")])));
    }

    #[test]
    fn malformed_label_selectors_say_what_is_wrong() {
        for (s, needle) in [
            ("app in (a,b", "unclosed"),
            ("app in a", "`(`"),
            ("=web", "label key"),
            ("app=web tier=x", "`,`"),
            ("app=web,", "end"),
            ("app>x", "integer"),
            ("app=a/b", "`/`"),
            ("app=%", "unexpected character"),
        ] {
            let err = LabelSelector::parse(s).expect_err(s);
            assert!(err.contains(needle), "{s}: {err}");
        }
    }

    #[test]
    fn field_selector_reads_paths_and_treats_absent_as_empty() {
        let pod = json!({
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {"nodeName": "n1", "priority": 5, "hostNetwork": false},
            "status": {"phase": "Running", "conditions": []},
        });
        let pending =
            json!({"metadata": {"name": "web-2"}, "spec": {}, "status": {"phase": "Pending"}});
        let f = |s: &str| FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(f("metadata.name=web-1").matches(&pod));
        assert!(f("metadata.name==web-1,status.phase!=Pending").matches(&pod));
        assert!(!f("status.phase!=Running").matches(&pod));
        assert!(f("spec.nodeName=").matches(&pending));
        assert!(!f("spec.nodeName=").matches(&pod));
        assert!(f("spec.priority=5,spec.hostNetwork=false").matches(&pod));
        assert!(!f("status.conditions=").matches(&pod));
        assert!(f("status.conditions!=x").matches(&pod));
        assert!(f("").matches(&pod));
        assert!(f("metadata.name!=web-2").matches(&pod));
    }

    #[test]
    fn field_selector_values_honour_escapes() {
        let obj = json!({"message": "a,b=c\\d"});
        let s = FieldSelector::parse(r"message=a\,b\=c\\d").unwrap();
        assert_eq!(s.requirements[0].value, "a,b=c\\d");
        assert!(s.matches(&obj));
    }

    #[test]
    fn malformed_field_selectors_say_what_is_wrong() {
        for (s, needle) in [
            ("status.phase", "no operator"),
            ("=x", "names no field"),
            ("a=b,,c=d", "empty term"),
            ("a=b=c", "unescaped `=`"),
            (r"a=b\x", "invalid escape"),
            ("a b=c", "not a field path"),
        ] {
            let err = FieldSelector::parse(s).expect_err(s);
            assert!(err.contains(needle), "{s}: {err}");
        }
    }
}
