//! From what an author wrote to what the engine walks: every CEL expression compiled
//! and checked against the names it may read, every kind resolved. Errors carry the
//! file position of the offending value and a one-line fix.

use super::RunbookError;
use super::cel::{Environment, Expression};
use super::format::Template as TemplateDoc;
use super::format::{
    At, Cel, ConclusionDoc, EksCall, FactDoc, RunbookDoc, StepDoc, SymptomDoc, SymptomScope,
    TargetDoc, WhenAbsent,
};
use super::model::*;
use super::validate;
use crate::facts::GroupKind;
use crate::facts::kinds;
pub use crate::suggest::closest;
use indexmap::IndexMap;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

/// Names every expression may read besides the facts.
const RESERVED: &[&str] = &["target", "item", "now"];

/// One environment is enough to ask which functions exist.
static FUNCTIONS: LazyLock<Environment> =
    LazyLock::new(|| Environment::new(chrono::DateTime::UNIX_EPOCH));

pub fn parse(path: &str, text: &str, builtin: bool) -> Result<Runbook, Vec<RunbookError>> {
    super::cel::with_parser_stack(|| parse_here(path, text, builtin)).map_err(|e| {
        vec![RunbookError::new(
            path,
            1,
            1,
            format!("cannot start a thread to compile it: {e}"),
            "free system resources (threads, memory) and run again",
        )]
    })?
}

fn parse_here(path: &str, text: &str, builtin: bool) -> Result<Runbook, Vec<RunbookError>> {
    let doc: RunbookDoc = serde_saphyr::from_str(text).map_err(|e| {
        let mut err = yaml_error(path, &e);
        if err.message.starts_with("missing field") {
            (err.line, err.column) = mapping_start(text, err.line, err.column);
        }
        vec![err]
    })?;
    // The format keys facts by plain names; their positions come from a second look.
    let fact_keys = serde_saphyr::from_str::<FactKeys>(text)
        .map(|k| k.facts.0)
        .unwrap_or_default();
    let origin = Origin {
        path: path.to_string(),
        builtin,
        text: Arc::from(text),
    };
    let mut c = Compiler {
        path,
        text,
        errors: Vec::new(),
        fact_names: doc.facts.keys().cloned().collect(),
        fact_positions: fact_keys
            .into_iter()
            .map(|k| (k.value, (k.line, k.column)))
            .collect(),
    };
    let runbook = c.runbook(doc, origin);
    if c.errors.is_empty() {
        c.errors
            .extend(validate::graph(path, &runbook.0, &runbook.1));
    }
    if c.errors.is_empty() {
        Ok(runbook.0)
    } else {
        c.errors.sort_by_key(|e| (e.line, e.column));
        Err(c.errors)
    }
}

pub fn yaml_error(path: &str, e: &serde_saphyr::Error) -> RunbookError {
    let (line, column) = e
        .location()
        .map_or((1, 1), |l| (l.line() as usize, l.column() as usize));
    let message = super::cel::yaml_error_text(e);
    let message = message
        .strip_prefix(&format!("line {line} column {column}: "))
        .unwrap_or(&message);
    let message = message
        .strip_suffix(&format!(" at line {line}, column {column}"))
        .unwrap_or(message)
        .to_string();
    let hint = if message.contains("unknown field") {
        "remove or rename the field; `ktriage runbooks schema` lists every field"
    } else if message.contains("missing field") {
        "add the field; `ktriage runbooks schema` says what it takes"
    } else {
        "fix the YAML at that position (indentation, quoting, a missing `:` or bracket)"
    };
    RunbookError::new(path, line, column, message, hint)
}

/// The parser places a missing field at the last key of the mapping that lacks it; the
/// mapping's first key (after its `- `, if it is a list item), or its `{`, is where it
/// starts.
fn mapping_start(text: &str, line: usize, column: usize) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let Some(here) = line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return (line, column);
    };
    let indent = |l: &str| l.chars().take_while(|c| *c == ' ').count() + 1;
    if item_start(here, column) {
        return (line, column);
    }
    if indent(here) != column {
        let before: Vec<char> = here.chars().take(column.saturating_sub(1)).collect();
        return before
            .iter()
            .rposition(|c| *c == '{')
            .map_or((line, column), |b| (line, b + 1));
    }
    let mut start = line;
    for l in (1..line).rev() {
        let s = lines[l - 1];
        let trimmed = s.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || indent(s) > column {
            continue;
        }
        if indent(s) == column {
            start = l;
            continue;
        }
        if item_start(s, column) {
            start = l;
        }
        break;
    }
    (start, column)
}

/// The line is a list item (`  - key: …`, `- - key: …`) whose first key is at `column`.
fn item_start(line: &str, column: usize) -> bool {
    let chars: Vec<char> = line.chars().collect();
    let mut i = chars.iter().take_while(|c| **c == ' ').count();
    let mut item = false;
    while chars.get(i) == Some(&'-') && chars.get(i + 1) == Some(&' ') {
        item = true;
        i += 1;
        while chars.get(i) == Some(&' ') {
            i += 1;
        }
    }
    item && i + 1 == column
}

/// The names under `facts:`, with where each is written.
#[derive(serde::Deserialize)]
struct FactKeys {
    #[serde(default)]
    facts: KeyPositions,
}

#[derive(Default)]
struct KeyPositions(Vec<At<String>>);

impl<'de> serde::Deserialize<'de> for KeyPositions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = KeyPositions;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<KeyPositions, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<At<String>>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(KeyPositions(keys))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// Positions of every id-like reference, kept for the graph checks.
pub struct Positions {
    pub steps: IndexMap<String, (usize, usize)>,
    pub conclusions: IndexMap<String, (usize, usize)>,
    /// (from step, to id, line, column)
    pub edges: Vec<(String, String, usize, usize)>,
    pub facts: IndexMap<String, (usize, usize)>,
}

struct Compiler<'a> {
    path: &'a str,
    text: &'a str,
    errors: Vec<RunbookError>,
    fact_names: BTreeSet<String>,
    fact_positions: IndexMap<String, (usize, usize)>,
}

/// Where an expression's text is written: in the scalar `value` that starts at
/// `line:column`, from its character `start` on (0 for a CEL field, just after the `${`
/// in a template).
#[derive(Clone, Copy)]
struct Place<'s> {
    value: &'s str,
    line: usize,
    column: usize,
    start: usize,
}

/// What an expression may read where it stands.
#[derive(Clone, Copy)]
enum Scope {
    /// Target and facts.
    Walk,
    /// Target, facts and `item`.
    Item,
}

impl Compiler<'_> {
    fn err(
        &mut self,
        line: usize,
        column: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.errors
            .push(RunbookError::new(self.path, line, column, message, hint));
    }

    fn runbook(&mut self, doc: RunbookDoc, origin: Origin) -> (Runbook, Positions) {
        let id_ok = !doc.id.value.is_empty()
            && doc.id.value.split('-').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !id_ok {
            self.err(
                doc.id.line,
                doc.id.column,
                format!("runbook id `{}` is not kebab-case", doc.id.value),
                "use lowercase letters, digits and single dashes, like `pvc-pending`",
            );
        }
        let target = self.target(&doc.target);
        let mut positions = Positions {
            steps: IndexMap::new(),
            conclusions: IndexMap::new(),
            edges: Vec::new(),
            facts: IndexMap::new(),
        };
        let mut facts = IndexMap::new();
        for (name, fact) in doc.facts {
            let (line, column) = self.fact_positions.get(&name).copied().unwrap_or((1, 1));
            positions.facts.insert(name.clone(), (line, column));
            let valid_name = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name || RESERVED.contains(&name.as_str()) {
                self.err(
                    line,
                    column,
                    format!("fact name `{name}` cannot be used in CEL"),
                    "name facts with letters, digits and `_`, not `target`, `item` or `now`",
                );
            }
            if let Some(f) = self.fact(&name, fact, line, column) {
                facts.insert(name, f);
            }
        }
        if doc.target.when_absent == WhenAbsent::Symptomatic
            && doc
                .symptom
                .as_ref()
                .is_none_or(|s| s.scope != SymptomScope::Each)
        {
            self.err(
                doc.target.kind.line,
                doc.target.kind.column,
                "`whenAbsent: symptomatic` needs a per-object `symptom` (scope `each`)",
                "add a `symptom:` that says which objects to walk, or drop `whenAbsent`",
            );
        }
        let symptom = doc.symptom.and_then(|s| self.symptom(s));
        let mut steps = IndexMap::new();
        if doc.steps.is_empty() {
            self.err(
                1,
                1,
                "the runbook has no steps",
                "add a `steps:` list; the walk starts at its first step",
            );
        }
        for step in doc.steps {
            if positions.steps.contains_key(&step.id.value) {
                self.err(
                    step.id.line,
                    step.id.column,
                    format!("step id `{}` is used twice", step.id.value),
                    "give every step a unique id",
                );
                continue;
            }
            positions
                .steps
                .insert(step.id.value.clone(), (step.id.line, step.id.column));
            if let Some(s) = self.step(step, &mut positions.edges) {
                steps.insert(s.id.clone(), s);
            }
        }
        let mut conclusions = IndexMap::new();
        for c in doc.conclusions {
            if positions.steps.contains_key(&c.id.value)
                || positions.conclusions.contains_key(&c.id.value)
            {
                self.err(
                    c.id.line,
                    c.id.column,
                    format!("id `{}` is used twice", c.id.value),
                    "steps and conclusions share one namespace of ids; rename one",
                );
                continue;
            }
            positions
                .conclusions
                .insert(c.id.value.clone(), (c.id.line, c.id.column));
            let compiled = self.conclusion(c);
            conclusions.insert(compiled.id.clone(), compiled);
        }
        let runbook = Runbook {
            id: doc.id.value,
            title: doc.title,
            description: doc.description,
            tags: doc.tags,
            target: target.unwrap_or(Target {
                kind: TargetKind::Cluster,
                optional: true,
                when_absent: WhenAbsent::Null,
            }),
            symptom,
            facts,
            steps,
            conclusions,
            origin,
        };
        (runbook, positions)
    }

    fn resource(
        &mut self,
        kind: &At<String>,
        api_version: &Option<At<String>>,
    ) -> Option<GroupKind> {
        match api_version {
            Some(v) => {
                if v.value.is_empty() || v.value.split('/').count() > 2 {
                    self.err(
                        v.line,
                        v.column,
                        format!("`{}` is not an apiVersion", v.value),
                        "write `group/version`, or `v1` for the core group",
                    );
                    return None;
                }
                Some(GroupKind::from_api_version(&v.value, &kind.value))
            }
            None => match kinds::by_kind(&kind.value) {
                Some(r) => Some(r.group_kind()),
                None => {
                    let known: Vec<&str> = kinds::KNOWN.iter().map(|r| r.kind).collect();
                    let hint = match kinds::lookup(&kind.value).map(|r| r.kind).or_else(|| closest(&kind.value, &known)) {
                        Some(k) => format!("did you mean `kind: {k}`? (or give `apiVersion: group/version` for a CRD)"),
                        None => "give `apiVersion: group/version` for kinds ktriage does not know by name".to_string(),
                    };
                    self.err(
                        kind.line,
                        kind.column,
                        format!("unknown kind `{}`", kind.value),
                        hint,
                    );
                    None
                }
            },
        }
    }

    fn target(&mut self, t: &TargetDoc) -> Option<Target> {
        let kind = match t.kind.value.as_str() {
            "Cluster" => TargetKind::Cluster,
            "EksNodegroup" => TargetKind::EksNodegroup,
            _ => {
                let resource = self.resource(&t.kind, &t.api_version)?;
                let namespaced = !kinds::is_cluster_scoped(&resource);
                TargetKind::Kubernetes {
                    resource,
                    namespaced,
                }
            }
        };
        if t.when_absent == WhenAbsent::Symptomatic && (!t.optional || kind == TargetKind::Cluster)
        {
            self.err(
                t.kind.line,
                t.kind.column,
                "`whenAbsent: symptomatic` needs `optional: true` and a target kind other than Cluster",
                "add `optional: true`, or drop `whenAbsent`",
            );
        }
        Some(Target {
            optional: t.optional || kind == TargetKind::Cluster,
            when_absent: t.when_absent,
            kind,
        })
    }

    fn expr(&mut self, cel: &Cel, scope: Scope) -> Option<Expression> {
        let place = Place {
            value: &cel.value,
            line: cel.line,
            column: cel.column,
            start: 0,
        };
        self.expr_at(&cel.value, place, scope)
    }

    fn expr_at(&mut self, source: &str, place: Place, scope: Scope) -> Option<Expression> {
        let (line, column) = match place.start {
            0 => (place.line, place.column),
            start => scalar_position(self.text, place, start - 2),
        };
        let e = match Expression::compile(source) {
            Ok(e) => e.located(self.path, line, column),
            Err(ce) => {
                // `CompileError::column` is 1-based.
                let offset = source
                    .split('\n')
                    .take(ce.line.saturating_sub(1))
                    .map(|l| l.chars().count() + 1)
                    .sum::<usize>()
                    + ce.column.saturating_sub(1);
                let (l, c) = scalar_position(
                    self.text,
                    place,
                    place.start + offset.min(source.chars().count()),
                );
                if ce.limit {
                    self.err(
                        l,
                        c,
                        format!("CEL refused: {}", flat(&ce.message, 160)),
                        "ktriage bounds what one expression may do (docs/runbooks.md, \"Limits\"): \
                         simplify it, or split it into facts",
                    );
                } else {
                    self.err(
                        l,
                        c,
                        format!("CEL does not compile: {}", flat(&ce.message, 120)),
                        "check brackets, quotes and operators; CEL strings take '…' or \"…\"",
                    );
                }
                return None;
            }
        };
        let mut ok = true;
        for v in &e.free_variables {
            let known = self.fact_names.contains(v)
                || v == "target"
                || (v == "item" && matches!(scope, Scope::Item));
            if !known {
                let names: Vec<&str> = self.fact_names.iter().map(String::as_str).collect();
                let hint = match closest(v, &names) {
                    _ if v == "item" => "`item` exists only inside a fact's `where`".to_string(),
                    Some(n) => format!("did you mean `{n}`? Declare facts under `facts:`"),
                    None => {
                        "declare it under `facts:`; expressions read `target` and facts".to_string()
                    }
                };
                self.err(
                    line,
                    column,
                    format!("unknown name `{v}` in `{}`", one_line(source)),
                    hint,
                );
                ok = false;
            }
        }
        for f in &e.functions {
            if !FUNCTIONS.has_function(f) {
                self.err(
                    line,
                    column,
                    format!("unknown function `{f}` in `{}`", one_line(source)),
                    "see docs/runbooks.md for the functions available (CEL standard library, Kubernetes libraries, now, age, parseYaml, yamlError, selects, typeName)",
                );
                ok = false;
            }
        }
        ok.then_some(e)
    }

    fn template(&mut self, t: &TemplateDoc) -> Option<Template> {
        self.template_in(t, Scope::Walk)
    }

    fn template_in(&mut self, t: &TemplateDoc, scope: Scope) -> Option<Template> {
        let place = Place {
            value: &t.value,
            line: t.line,
            column: t.column,
            start: 0,
        };
        let pieces = match split_template(&t.value) {
            Ok(p) => p,
            Err((msg, at)) => {
                let (line, column) = scalar_position(self.text, place, at);
                self.err(line, column, msg, "close every `${` with `}`");
                return None;
            }
        };
        let mut parts = Vec::new();
        let mut ok = true;
        for piece in pieces {
            match piece {
                Piece::Text(s) => parts.push(TemplatePart::Text(s)),
                Piece::Expr(src, start) => {
                    match self.expr_at(&src, Place { start, ..place }, scope) {
                        Some(e) => parts.push(TemplatePart::Expr(e)),
                        None => ok = false,
                    }
                }
            }
        }
        ok.then_some(Template { parts })
    }

    fn opt_template(&mut self, t: &Option<TemplateDoc>) -> Result<Option<Template>, ()> {
        match t {
            None => Ok(None),
            Some(t) => self.template(t).map(Some).ok_or(()),
        }
    }

    fn fact(&mut self, name: &str, f: FactDoc, line: usize, column: usize) -> Option<Fact> {
        let given = [
            f.get.is_some(),
            f.list.is_some(),
            f.events.is_some(),
            f.logs.is_some(),
            f.eks.is_some(),
            f.cloudwatch.is_some(),
            f.value.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            self.err(
                line,
                column,
                format!("fact `{name}` needs exactly one of get, list, events, logs, eks, cloudwatch, value (it has {given})"),
                if given == 0 { "say what the fact is: add one of those keys" } else { "split it into one fact per query" },
            );
            return None;
        }
        let source = if let Some(g) = &f.get {
            let resource = self.resource(&g.kind, &g.api_version)?;
            let namespace = self.opt_template(&g.namespace).ok()?;
            let name = self.template(&g.name)?;
            if namespace.is_none()
                && !kinds::is_cluster_scoped(&resource)
                && kinds::by_group_kind(&resource).is_some()
            {
                self.err(
                    g.kind.line,
                    g.kind.column,
                    format!(
                        "`get` of namespaced kind {} needs `namespace`",
                        resource.kind
                    ),
                    "add `namespace: ${target.metadata.namespace}` or the namespace it lives in",
                );
                return None;
            }
            FactSource::Get {
                resource,
                namespace,
                name,
            }
        } else if let Some(l) = &f.list {
            let resource = self.resource(&l.kind, &l.api_version)?;
            FactSource::List {
                resource,
                namespace: self.opt_template(&l.namespace).ok()?,
                label_selector: self.opt_template(&l.label_selector).ok()?,
                field_selector: self.opt_template(&l.field_selector).ok()?,
            }
        } else if let Some(e) = &f.events {
            FactSource::Events(self.expr(e, Scope::Walk)?)
        } else if let Some(l) = &f.logs {
            FactSource::Logs {
                of: self.expr(&l.of, Scope::Walk)?,
                container: self.opt_template(&l.container).ok()?,
                previous: l.previous,
                tail_lines: l.tail_lines,
            }
        } else if let Some(e) = &f.eks {
            let needs_name = matches!(e.call, EksCall::DescribeNodegroup | EksCall::DescribeAddon);
            if needs_name && e.name.is_none() {
                self.err(
                    line,
                    column,
                    format!("fact `{name}`: this EKS call needs `name`"),
                    "add `name:` (the node group or add-on name)",
                );
                return None;
            }
            if e.call == EksCall::DescribeAccessEntry && e.principal_arn.is_none() {
                self.err(
                    line,
                    column,
                    format!("fact `{name}`: describe-access-entry needs `principalArn`"),
                    "add `principalArn:`",
                );
                return None;
            }
            FactSource::Eks {
                call: e.call,
                name: self.opt_template(&e.name).ok()?,
                principal_arn: self.opt_template(&e.principal_arn).ok()?,
            }
        } else if let Some(c) = &f.cloudwatch {
            let since = match &c.since {
                None => None,
                Some(s) => match parse_duration(&s.value) {
                    Some(d) => Some(d),
                    None => {
                        self.err(
                            s.line,
                            s.column,
                            format!("`{}` is not a duration", s.value),
                            "write it like `30m`, `6h` or `2d`",
                        );
                        return None;
                    }
                },
            };
            FactSource::Cloudwatch {
                log_group: self.template(&c.log_group)?,
                stream_prefix: self.opt_template(&c.stream_prefix).ok()?,
                contains: self.opt_template(&c.contains).ok()?,
                since,
                limit: c.limit,
            }
        } else {
            FactSource::Value(self.expr(f.value.as_ref()?, Scope::Walk)?)
        };
        let filter = match &f.filter {
            Some(w) => Some(self.expr(w, Scope::Item)?),
            None => None,
        };
        Some(Fact {
            description: f.description,
            source,
            filter,
        })
    }

    /// `None` only after an error was recorded (the runbook is then discarded).
    fn symptom(&mut self, s: SymptomDoc) -> Option<Symptom> {
        let when = self.expr(&s.when, Scope::Walk);
        let reason = self.template(&s.reason);
        let since = s.since.as_ref().map(|e| self.expr(e, Scope::Walk));
        let group_by = s.group_by.as_ref().map(|e| self.expr(e, Scope::Walk));
        let severity_by = s.severity_by.as_ref().map(|e| self.expr(e, Scope::Walk));
        Some(Symptom {
            when: when?,
            severity: s.severity,
            severity_by: severity_by.map(|e| e.ok_or(())).transpose().ok()?,
            reason: reason?,
            since: since.map(|e| e.ok_or(())).transpose().ok()?,
            group_by: group_by.map(|e| e.ok_or(())).transpose().ok()?,
            scope: s.scope,
        })
    }

    fn step(
        &mut self,
        s: StepDoc,
        edges: &mut Vec<(String, String, usize, usize)>,
    ) -> Option<Step> {
        let id = s.id.value.clone();
        let kinds_given = [
            s.check.is_some(),
            s.switch.is_some(),
            s.ask.is_some(),
            s.handover.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if kinds_given != 1 {
            self.err(s.id.line, s.id.column, format!("step `{id}` needs exactly one of check, switch, ask, handover (it has {kinds_given})"), "split it into separate steps");
            return None;
        }
        if let (Some(u), true) = (&s.unknown, s.ask.is_some() || s.handover.is_some()) {
            self.err(
                u.line,
                u.column,
                format!(
                    "step `{id}` has `unknown`, but a question or a hand-over never is unknown"
                ),
                "remove `unknown`; it belongs on check and switch steps",
            );
            return None;
        }
        let mut edge =
            |to: &At<String>| edges.push((id.clone(), to.value.clone(), to.line, to.column));
        if let Some(u) = &s.unknown {
            edge(u);
        }
        let title = self.template(&s.title);
        let stray = |present: bool, what: &str, errors: &mut Vec<RunbookError>, path: &str| {
            if present {
                errors.push(RunbookError::new(
                    path,
                    s.id.line,
                    s.id.column,
                    format!(
                        "step `{id}` has `{what}`, which only a {} step takes",
                        if what == "default" || what == "defaultBecause" {
                            "switch"
                        } else {
                            "check"
                        }
                    ),
                    format!("remove `{what}`"),
                ));
            }
        };
        if s.switch.is_none() {
            stray(
                s.default_because.is_some(),
                "defaultBecause",
                &mut self.errors,
                self.path,
            );
        }
        let kind = if let Some(check) = &s.check {
            stray(s.default.is_some(), "default", &mut self.errors, self.path);
            let (Some(then_), Some(else_)) = (&s.then_, &s.else_) else {
                self.err(
                    check.line,
                    check.column,
                    format!("check step `{id}` needs both `then` and `else`"),
                    "say where each outcome leads",
                );
                return None;
            };
            edge(then_);
            edge(else_);
            let (because_then, because_else) = match &s.because {
                Some(b) => (
                    self.opt_template(&b.then_).ok()?,
                    self.opt_template(&b.else_).ok()?,
                ),
                None => (None, None),
            };
            StepKind::Check {
                expr: self.expr(check, Scope::Walk)?,
                then_: then_.value.clone(),
                else_: else_.value.clone(),
                because_then,
                because_else,
            }
        } else {
            stray(s.then_.is_some(), "then", &mut self.errors, self.path);
            stray(s.else_.is_some(), "else", &mut self.errors, self.path);
            stray(s.because.is_some(), "because", &mut self.errors, self.path);
            if let Some(cases) = &s.switch {
                let Some(default) = &s.default else {
                    self.err(
                        s.id.line,
                        s.id.column,
                        format!("switch step `{id}` needs `default`"),
                        "say where the walk goes when no case matches",
                    );
                    return None;
                };
                if cases.is_empty() {
                    self.err(
                        s.id.line,
                        s.id.column,
                        format!("switch step `{id}` has no cases"),
                        "add `- when: … goto: …` cases, or use a check",
                    );
                    return None;
                }
                let mut compiled = Vec::new();
                for c in cases {
                    edge(&c.goto);
                    let when = self.expr(&c.when, Scope::Walk);
                    let because = self.opt_template(&c.because).ok().flatten();
                    if let Some(when) = when {
                        compiled.push(Case {
                            when,
                            goto: c.goto.value.clone(),
                            because,
                        });
                    }
                }
                edge(default);
                let default_because = self.opt_template(&s.default_because).ok().flatten();
                StepKind::Switch {
                    cases: compiled,
                    default: default.value.clone(),
                    default_because,
                }
            } else if let Some(ask) = &s.ask {
                stray(s.default.is_some(), "default", &mut self.errors, self.path);
                if ask.choices.is_empty() {
                    self.err(
                        s.id.line,
                        s.id.column,
                        format!("ask step `{id}` has no choices"),
                        "add choices, each with `id`, `label` and `goto`",
                    );
                    return None;
                }
                let mut seen = BTreeSet::new();
                let mut choices = Vec::new();
                for c in &ask.choices {
                    if !seen.insert(c.id.value.clone()) {
                        self.err(
                            c.id.line,
                            c.id.column,
                            format!("choice `{}` appears twice in `{id}`", c.id.value),
                            "give each choice a unique id",
                        );
                    }
                    edge(&c.goto);
                    choices.push(Choice {
                        id: c.id.value.clone(),
                        label: c.label.clone(),
                        goto: c.goto.value.clone(),
                    });
                }
                StepKind::Ask {
                    question: self.template(&ask.question)?,
                    command: self.opt_template(&ask.command).ok()?,
                    look_for: self.opt_template(&ask.look_for).ok()?,
                    choices,
                }
            } else {
                stray(s.default.is_some(), "default", &mut self.errors, self.path);
                let h = s.handover.as_ref()?;
                StepKind::Handover {
                    runbook: h.runbook.value.clone(),
                    target: self.opt_template(&h.target).ok()?,
                }
            }
        };
        Some(Step {
            id,
            title: title?,
            kind,
            unknown: s.unknown.map(|u| u.value),
        })
    }

    fn conclusion(&mut self, c: ConclusionDoc) -> Conclusion {
        let code_ok = c
            .code
            .value
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_uppercase())
            && c.code
                .value
                .chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
        if !code_ok {
            self.err(
                c.code.line,
                c.code.column,
                format!("finding code `{}` is not UPPER_SNAKE_CASE", c.code.value),
                "codes are stable identifiers like `PVC_STORAGECLASS_NOT_FOUND`",
            );
        }
        let empty = || Template { parts: Vec::new() };
        let title = self.template(&c.title).unwrap_or_else(empty);
        let summary = self.template(&c.summary).unwrap_or_else(empty);
        let evidence = c
            .evidence
            .iter()
            .filter_map(|e| Some((e.label.clone(), self.expr(&e.quote, Scope::Walk)?)))
            .collect();
        let remediation = c
            .remediation
            .iter()
            .filter_map(|r| self.template(r))
            .collect();
        let commands = c
            .commands
            .iter()
            .filter_map(|cmd| {
                let when = match &cmd.when {
                    Some(w) => Some(self.expr(w, Scope::Walk)?),
                    None => None,
                };
                Some(Command {
                    run: self.template(&cmd.run)?,
                    description: cmd.description.clone(),
                    changes: cmd.changes,
                    when,
                })
            })
            .collect();
        let follow_up = c
            .follow_up
            .as_ref()
            .and_then(|f| Some((f.runbook.value.clone(), self.opt_template(&f.target).ok()?)));
        Conclusion {
            id: c.id.value,
            code: c.code.value,
            severity: c.severity,
            title,
            summary,
            evidence,
            remediation,
            commands,
            references: c.references,
            follow_up,
        }
    }
}

fn one_line(s: &str) -> String {
    flat(s, 60)
}

/// On one line, at most `max` characters.
fn flat(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max - 1).collect::<String>())
    } else {
        flat
    }
}

/// Where character `offset` of a scalar's value is written, following the scalar from
/// where it starts through its quotes, escapes, folded line breaks and indentation (the
/// value keeps every other character, in order). The scalar's start if the text runs out.
fn scalar_position(text: &str, place: Place, offset: usize) -> (usize, usize) {
    let start = (place.line, place.column);
    let mut src = text
        .lines()
        .enumerate()
        .skip(place.line.saturating_sub(1))
        .flat_map(|(i, l)| {
            let skip = if i + 1 == place.line {
                place.column.saturating_sub(1)
            } else {
                0
            };
            l.chars()
                .chain(['\n'])
                .enumerate()
                .skip(skip)
                .map(move |(j, c)| (i + 1, j + 1, c))
        })
        .peekable();
    src.next_if(|(_, _, c)| *c == '\'' || *c == '"');
    for (k, v) in place.value.chars().enumerate() {
        if !v.is_whitespace() {
            while src.next_if(|(_, _, c)| *c != v).is_some() {}
        }
        if k == offset {
            break;
        }
        if v.is_whitespace() {
            while src.next_if(|(_, _, c)| c.is_whitespace()).is_some() {}
        } else if src.next().is_none() {
            return start;
        }
    }
    src.peek().map_or(start, |(l, c, _)| (*l, *c))
}

enum Piece {
    Text(String),
    /// An expression and the offset (in characters) where it starts in the template.
    Expr(String, usize),
}

/// Splits `a ${x} b` into text and expressions; braces and quotes inside an
/// expression are respected, so `${{'k': 1}['k']}` works. An error carries the offset
/// (in characters) of the `${` at fault.
fn split_template(s: &str) -> Result<Vec<Piece>, (String, usize)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|(_, n)| *n == '{') {
            chars.next();
            let mut depth = 1;
            let mut expr = String::new();
            let mut quote: Option<char> = None;
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match quote {
                    Some(q) => {
                        expr.push(c);
                        if c == '\\' {
                            if let Some((_, n)) = chars.next() {
                                expr.push(n);
                            }
                        } else if c == q {
                            quote = None;
                        }
                    }
                    None => match c {
                        '\'' | '"' => {
                            quote = Some(c);
                            expr.push(c);
                        }
                        '{' => {
                            depth += 1;
                            expr.push(c);
                        }
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                closed = true;
                                break;
                            }
                            expr.push(c);
                        }
                        _ => expr.push(c),
                    },
                }
            }
            if !closed {
                return Err(("`${` is never closed".to_string(), i));
            }
            if expr.trim().is_empty() {
                return Err(("empty `${}`".to_string(), i));
            }
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            out.push(Piece::Expr(expr, i + 2));
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// `90s`, `30m`, `6h`, `2d`, `1h30m`.
pub fn parse_duration(s: &str) -> Option<chrono::Duration> {
    let mut total = 0i64;
    let mut num = String::new();
    if s.is_empty() {
        return None;
    }
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            let n: i64 = num.parse().ok()?;
            num.clear();
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return None,
            };
            // Checked: `9223372036854775807d` is a typo to report, not an overflow.
            total = total.checked_add(n.checked_mul(unit)?)?;
        }
    }
    if !num.is_empty() {
        return None;
    }
    chrono::Duration::try_seconds(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_on_balanced_braces() {
        let p = split_template("a ${ {'k': 'x}'}['k'] } b ${c}").unwrap();
        let texts: Vec<String> = p
            .iter()
            .map(|p| match p {
                Piece::Text(t) => format!("T[{t}]"),
                Piece::Expr(e, at) => format!("E{at}[{e}]"),
            })
            .collect();
        assert_eq!(
            texts,
            ["T[a ]", "E4[ {'k': 'x}'}['k'] ]", "T[ b ]", "E28[c]"]
        );
        assert_eq!(split_template("oops ${a").err().map(|e| e.1), Some(5));
        assert_eq!(split_template("empty ${ }").err().map(|e| e.1), Some(6));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(
            parse_duration("1h30m"),
            Some(chrono::Duration::seconds(5400))
        );
        assert_eq!(
            parse_duration("2d"),
            Some(chrono::Duration::seconds(172_800))
        );
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5y"), None);
        // Out of range is not a duration, never an overflow.
        assert_eq!(parse_duration("9223372036854775807d"), None);
        assert_eq!(parse_duration("9223372036854775807s1s"), None);
    }
}
