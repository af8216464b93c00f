//! The rules: built in and the user's, parsed and checked with file:line:column errors.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The built-in rules (the file documents the format users write too).
pub const BUILTIN_RULES: &str = include_str!("redaction-rules.toml");

/// The annotation `kubectl apply` keeps a whole copy of the object in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A pattern with a `block_end` runs over at most this many following log lines.
pub const BLOCK_MAX_LINES: usize = 256;

pub(super) static RULE_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:-[a-z0-9]+)*$").expect("id regex"));
static BUILTIN: LazyLock<RuleSet> = LazyLock::new(|| {
    let parsed = parse_file(BUILTIN_RULES, &Origin::Builtin, &[])
        .unwrap_or_else(|e| panic!("built-in redaction rules: {e}"));
    RuleSet {
        rules: parsed.rules,
    }
});

/// How a bundle is redacted beyond the rules that always run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// `--redact-ips`: turns on the rules with `when = "redact-ips"` (`ip-address`).
    pub redact_ips: bool,
}

impl Profile {
    /// The conditions a rule's `when` may name.
    pub const CONDITIONS: &'static [&'static str] = &["redact-ips"];

    /// Whether a rule with `when = condition` runs under this profile.
    pub fn allows(&self, condition: &str) -> bool {
        match condition {
            "redact-ips" => self.redact_ips,
            _ => false,
        }
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    User(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin => f.write_str("built-in"),
            Origin::User(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What kind of rule it is, for listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// A regular expression over text.
    Pattern,
    /// A regular expression over names; their values go whole.
    Names,
    /// Built-in handling of an object shape.
    Structural,
    /// Built-in decoding of an encoded form, redacted by the other rules.
    Decode,
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Pattern => "pattern",
            RuleKind::Names => "names",
            RuleKind::Structural => "structural",
            RuleKind::Decode => "decode",
        }
    }
}

/// Which names a `names` rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A container's env var `{name, value}`.
    Env,
    /// A `metadata.annotations` key.
    Annotations,
    /// A ConfigMap `data` / `binaryData` key.
    ConfigMapData,
    /// A flag of a container's `command` or `args` (`--db-password`, dashes dropped): the
    /// item after it is its value.
    Args,
    /// Any field of any object whose value is a string.
    Fields,
}

impl Place {
    pub const ALL: [Place; 5] = [
        Place::Env,
        Place::Annotations,
        Place::ConfigMapData,
        Place::Args,
        Place::Fields,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Place::Env => "env",
            Place::Annotations => "annotations",
            Place::ConfigMapData => "configmap-data",
            Place::Args => "args",
            Place::Fields => "fields",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Structural {
    SecretValue,
    LastAppliedConfiguration,
}

#[derive(Debug, Clone)]
pub(super) enum Matcher {
    Pattern {
        regex: Regex,
        /// Capture groups holding the secret, first participating wins; `[0]` = whole match.
        groups: Vec<usize>,
        block_end: Option<Regex>,
    },
    Names {
        names: Regex,
        except: Option<Regex>,
        places: Vec<Place>,
    },
    Structural(Structural),
    Decode(Decoding),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decoding {
    Base64,
}

/// One redaction rule, as `ktriage bundle rules` lists it.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Kebab-case id: the marker is `<redacted:ID>`.
    pub id: String,
    pub description: String,
    pub kind: RuleKind,
    pub origin: Origin,
    /// The profile condition the rule needs (`redact-ips`), if any.
    pub when: Option<String>,
    /// Runs without any flag: not disabled and no `when`.
    pub enabled: bool,
    /// Turned off by the user file's `disable`.
    pub disabled: bool,
    pub(super) marker: String,
    pub(super) matcher: Matcher,
}

impl Rule {
    /// Whether the rule runs under `profile`.
    pub fn is_active(&self, profile: &Profile) -> bool {
        !self.disabled && self.when.as_deref().is_none_or(|w| profile.allows(w))
    }

    /// What a redacted span becomes: `<redacted:ID>`.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// The regular expression: the pattern over text, or the one over names.
    pub fn regex(&self) -> Option<&str> {
        match &self.matcher {
            Matcher::Pattern { regex, .. } => Some(regex.as_str()),
            Matcher::Names { names, .. } => Some(names.as_str()),
            Matcher::Structural(_) | Matcher::Decode(_) => None,
        }
    }

    /// Which names a `names` rule looks at (empty for the other kinds).
    pub fn places(&self) -> &[Place] {
        match &self.matcher {
            Matcher::Names { places, .. } => places,
            _ => &[],
        }
    }

    pub(super) fn names_match(&self, place: Place, name: &str) -> bool {
        match &self.matcher {
            Matcher::Names {
                names,
                except,
                places,
            } => {
                places.contains(&place)
                    && names.is_match(name)
                    && !except.as_ref().is_some_and(|e| e.is_match(name))
            }
            _ => false,
        }
    }
}

/// A rules file that could not be used, with where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub origin: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for RuleError {}

/// The rules in force: the built-in ones, then the user's.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub(super) rules: Vec<Rule>,
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> RuleSet {
        BUILTIN.clone()
    }

    /// The built-in rules plus those of the user's `redaction.toml` as
    /// [`crate::config::Settings`] read it (none: the built-in rules alone). A file that
    /// cannot be used is an error naming the file, line and column.
    pub fn with_user_file(user: Option<&crate::config::UserFile>) -> Result<RuleSet, RuleError> {
        let set = RuleSet::builtin();
        match user {
            Some(file) => set.with_user_rules(&file.path, &file.text),
            None => Ok(set),
        }
    }

    /// These rules plus a user file's `text` (read from `path`, which names it in errors).
    pub fn with_user_rules(mut self, path: &Path, text: &str) -> Result<RuleSet, RuleError> {
        let parsed = parse_file(text, &Origin::User(path.to_path_buf()), &self.rules)?;
        for rule in &mut self.rules {
            if parsed.disable.contains(&rule.id) {
                rule.disabled = true;
                rule.enabled = false;
            }
        }
        self.rules.extend(parsed.rules);
        Ok(self)
    }

    /// Every rule, in the order they run, disabled ones included (`ktriage bundle rules`).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

// ---------------------------------------------------------------------------------------------
// The rules file

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    disable: Vec<toml::Spanned<String>>,
    #[serde(default)]
    rule: Vec<toml::Spanned<RuleDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    id: toml::Spanned<String>,
    #[serde(default)]
    description: String,
    pattern: Option<toml::Spanned<String>>,
    group: Option<toml::Spanned<Groups>>,
    block_end: Option<toml::Spanned<String>>,
    names: Option<toml::Spanned<String>>,
    except: Option<toml::Spanned<String>>,
    #[serde(rename = "in")]
    places: Option<toml::Spanned<Vec<String>>>,
    structural: Option<toml::Spanned<String>>,
    decode: Option<toml::Spanned<String>>,
    when: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Groups {
    One(i64),
    Many(Vec<i64>),
}

pub(super) struct Parsed {
    rules: Vec<Rule>,
    disable: Vec<String>,
}

pub(super) fn parse_file(
    text: &str,
    origin: &Origin,
    existing: &[Rule],
) -> Result<Parsed, RuleError> {
    let name = origin.to_string();
    let err = |span: Option<Range<usize>>, message: String| {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = crate::text::line_col(text, s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        RuleError {
            origin: name.clone(),
            line,
            column,
            message,
        }
    };
    let doc: FileDoc =
        toml::from_str(text).map_err(|e| err(e.span(), e.message().trim_end().to_string()))?;
    let mut rules: Vec<Rule> = Vec::new();
    for spanned in &doc.rule {
        let r = spanned.get_ref();
        let id = r.id.get_ref().as_str();
        if !RULE_ID.is_match(id) {
            return Err(err(
                Some(r.id.span()),
                format!(
                    "rule id `{id}` must be kebab-case (lowercase letters and digits joined by single dashes, \
                     like `acme-api-key`): it names the marker <redacted:ID>"
                ),
            ));
        }
        if let Some(other) = existing.iter().chain(&rules).find(|o| o.id == id) {
            return Err(err(
                Some(r.id.span()),
                format!(
                    "rule id `{id}` is already defined ({}); to replace a built-in rule, list its id in \
                     `disable = [...]` and give yours a new id",
                    other.origin
                ),
            ));
        }
        let kinds = [
            r.pattern.is_some(),
            r.names.is_some(),
            r.structural.is_some(),
            r.decode.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(err(
                Some(spanned.span()),
                format!(
                    "rule `{id}` needs exactly one of `pattern` (a regular expression over text), \
                     `names` (a regular expression over env var, annotation, ConfigMap key, flag or field names), \
                     `structural` or `decode` (built in only)"
                ),
            ));
        }
        let compile = |s: &toml::Spanned<String>, field: &str| {
            Regex::new(s.get_ref()).map_err(|e| {
                err(
                    Some(s.span()),
                    format!("rule `{id}`: `{field}` is not a valid regular expression: {e}"),
                )
            })
        };
        let misplaced = |span: Option<Range<usize>>, field: &str, kind: &str| {
            Err(err(
                span,
                format!("rule `{id}`: `{field}` only goes with `{kind}` rules"),
            ))
        };
        // Decode and structural rules are ktriage's own, and take none of the fields that
        // shape a pattern or names rule.
        let built_in_only = |span: Range<usize>, kind: &str, why: &str| {
            for (present, field) in [
                (r.group.is_some(), "group"),
                (r.block_end.is_some(), "block_end"),
                (r.except.is_some(), "except"),
                (r.places.is_some(), "in"),
            ] {
                if present {
                    return Err(err(
                        Some(span.clone()),
                        format!("rule `{id}`: a {kind} rule takes no `{field}`"),
                    ));
                }
            }
            if *origin != Origin::Builtin {
                return Err(err(Some(span), format!("rule `{id}`: {why}")));
            }
            Ok(())
        };
        let matcher = if let Some(p) = &r.pattern {
            if let Some(s) = &r.except {
                return misplaced(Some(s.span()), "except", "names");
            }
            if let Some(s) = &r.places {
                return misplaced(Some(s.span()), "in", "names");
            }
            let regex = compile(p, "pattern")?;
            let groups = match &r.group {
                None => vec![0],
                Some(g) => {
                    let groups = match g.get_ref() {
                        Groups::One(n) => vec![*n],
                        Groups::Many(v) => v.clone(),
                    };
                    let count = regex.captures_len() - 1;
                    let valid: Vec<usize> = groups
                        .iter()
                        .filter_map(|&n| usize::try_from(n).ok().filter(|&n| n <= count))
                        .collect();
                    if valid.is_empty() || valid.len() != groups.len() {
                        return Err(err(
                            Some(g.span()),
                            format!(
                                "rule `{id}`: `group` must number capture groups of the pattern, which has \
                                 {count} (0 = the whole match)"
                            ),
                        ));
                    }
                    valid
                }
            };
            let block_end = r
                .block_end
                .as_ref()
                .map(|b| compile(b, "block_end"))
                .transpose()?;
            Matcher::Pattern {
                regex,
                groups,
                block_end,
            }
        } else if let Some(n) = &r.names {
            if let Some(s) = &r.group {
                return misplaced(Some(s.span()), "group", "pattern");
            }
            if let Some(s) = &r.block_end {
                return misplaced(Some(s.span()), "block_end", "pattern");
            }
            let names = compile(n, "names")?;
            let except = r
                .except
                .as_ref()
                .map(|e| compile(e, "except"))
                .transpose()?;
            let places = match &r.places {
                None => vec![Place::Env, Place::Annotations, Place::ConfigMapData],
                Some(list) => {
                    let known: Vec<&str> = Place::ALL.iter().map(|p| p.as_str()).collect();
                    let mut places = Vec::new();
                    for p in list.get_ref() {
                        let Some(place) = Place::ALL.into_iter().find(|k| k.as_str() == p) else {
                            return Err(err(
                                Some(list.span()),
                                format!(
                                    "rule `{id}`: `in` lists `{p}`; names are looked up in: {}",
                                    known.join(", ")
                                ),
                            ));
                        };
                        places.push(place);
                    }
                    if places.is_empty() {
                        return Err(err(
                            Some(list.span()),
                            format!(
                                "rule `{id}`: `in` is empty; list some of: {}",
                                known.join(", ")
                            ),
                        ));
                    }
                    places
                }
            };
            Matcher::Names {
                names,
                except,
                places,
            }
        } else if let Some(d) = &r.decode {
            built_in_only(
                d.span(),
                "decode",
                "decode rules are built in (base64-encoded); write a `pattern` or `names` rule: \
                 the decoded text meets it too",
            )?;
            match d.get_ref().as_str() {
                "base64" => Matcher::Decode(Decoding::Base64),
                other => {
                    return Err(err(
                        Some(d.span()),
                        format!("rule `{id}`: unknown decoding `{other}`"),
                    ));
                }
            }
        } else {
            let s = r.structural.as_ref().expect("one kind is set");
            built_in_only(
                s.span(),
                "structural",
                "structural rules are built in (secret-value, last-applied-configuration); \
                 write a `pattern` or `names` rule",
            )?;
            match s.get_ref().as_str() {
                "secret-value" => Matcher::Structural(Structural::SecretValue),
                "last-applied-configuration" => {
                    Matcher::Structural(Structural::LastAppliedConfiguration)
                }
                other => {
                    return Err(err(
                        Some(s.span()),
                        format!("rule `{id}`: unknown structural rule `{other}`"),
                    ));
                }
            }
        };
        if let Some(w) = &r.when
            && !Profile::CONDITIONS.contains(&w.get_ref().as_str())
        {
            return Err(err(
                Some(w.span()),
                format!(
                    "rule `{id}`: `when` must be one of: {}",
                    Profile::CONDITIONS.join(", ")
                ),
            ));
        }
        let kind = match matcher {
            Matcher::Pattern { .. } => RuleKind::Pattern,
            Matcher::Names { .. } => RuleKind::Names,
            Matcher::Structural(_) => RuleKind::Structural,
            Matcher::Decode(_) => RuleKind::Decode,
        };
        rules.push(Rule {
            id: id.to_string(),
            description: r.description.trim().to_string(),
            kind,
            origin: origin.clone(),
            when: r.when.as_ref().map(|w| w.get_ref().clone()),
            enabled: r.when.is_none(),
            disabled: false,
            marker: format!("<redacted:{id}>"),
            matcher,
        });
    }
    let mut disable = Vec::new();
    for d in &doc.disable {
        let id = d.get_ref();
        match existing.iter().find(|r| r.id == *id) {
            Some(r) if r.kind == RuleKind::Structural => {
                return Err(err(
                    Some(d.span()),
                    format!(
                        "`{id}` cannot be disabled: Secret values and last-applied copies never go into a bundle"
                    ),
                ));
            }
            Some(r) if r.kind == RuleKind::Decode => {
                return Err(err(
                    Some(d.span()),
                    format!(
                        "`{id}` cannot be disabled: it removes only what another rule finds once decoded; \
                         disable that rule instead"
                    ),
                ));
            }
            Some(_) => disable.push(id.clone()),
            None => {
                let known: Vec<&str> = existing.iter().map(|r| r.id.as_str()).collect();
                let hint = if rules.iter().any(|r| r.id == *id) {
                    "it is a rule of this same file: remove it instead".to_string()
                } else {
                    format!("built-in rules: {}", known.join(", "))
                };
                return Err(err(
                    Some(d.span()),
                    format!("`disable` names `{id}`, which is not a built-in rule ({hint})"),
                ));
            }
        }
    }
    Ok(Parsed { rules, disable })
}
