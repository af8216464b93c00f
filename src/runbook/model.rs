//! Runbooks as the engine uses them: compiled, validated, references resolved.

use super::access::AccessTree;
use super::cel::Expression;
use super::format::{EksCall, Severity, SymptomScope};
use crate::facts::{EksQuery, FactQuery, FieldSet, GroupKind};
use indexmap::IndexMap;
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Debug)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub target: Target,
    pub symptom: Option<Symptom>,
    pub facts: IndexMap<String, Fact>,
    /// In file order; the first is where every walk starts.
    pub steps: IndexMap<String, Step>,
    pub conclusions: IndexMap<String, Conclusion>,
    pub origin: Origin,
}

impl Runbook {
    /// What the symptom reads of `target`, directly or through the facts it uses, as
    /// paths; `None` when it reads the target whole (or there is no symptom).
    pub fn symptom_target_fields(&self) -> Option<crate::facts::FieldSet> {
        let symptom = self.symptom.as_ref()?;
        let mut stack: Vec<&Expression> = vec![&symptom.when];
        stack.extend(symptom.reason.expressions());
        stack.extend(symptom.since.iter());
        stack.extend(symptom.group_by.iter());
        stack.extend(symptom.severity_by.iter());
        let mut seen = BTreeSet::new();
        let mut tree = AccessTree::default();
        while let Some(e) = stack.pop() {
            if e.free_variables.contains("target") {
                match e.access.get("target") {
                    Some(t) => tree = tree.merged(t),
                    None => return None,
                }
            }
            for name in &e.free_variables {
                if let Some(fact) = self.facts.get(name)
                    && seen.insert(name.as_str())
                {
                    stack.extend(fact.expressions());
                }
            }
        }
        if tree.whole {
            return None;
        }
        Some(crate::facts::FieldSet(tree.paths()))
    }

    pub fn start(&self) -> &str {
        self.steps
            .keys()
            .next()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Every finding code this runbook can conclude, in table order.
    pub fn codes(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.conclusions
            .values()
            .map(|c| c.code.as_str())
            .filter(|c| seen.insert(*c))
            .collect()
    }
}

/// Where a runbook came from: shown in errors and `runbooks list`, recorded in bundles.
#[derive(Debug, Clone)]
pub struct Origin {
    /// A path, or `builtin:NAME.yaml`.
    pub path: String,
    pub builtin: bool,
    pub text: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Cluster,
    EksNodegroup,
    Kubernetes {
        resource: GroupKind,
        namespaced: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub optional: bool,
    pub when_absent: crate::runbook::format::WhenAbsent,
}

impl Target {
    /// The query that reads the target a user named (`None` for the cluster). A
    /// namespaced name without a namespace means `default`, as kubectl reads it.
    pub fn get_query(&self, reference: &str) -> Option<FactQuery> {
        match &self.kind {
            TargetKind::Cluster => None,
            TargetKind::EksNodegroup => Some(FactQuery::Eks(EksQuery::DescribeNodegroup {
                name: reference.to_string(),
            })),
            TargetKind::Kubernetes {
                resource,
                namespaced,
            } => {
                let (namespace, name) = match (namespaced, reference.split_once('/')) {
                    (true, Some((ns, n))) => (Some(ns.to_string()), n.to_string()),
                    (true, None) => (Some("default".to_string()), reference.to_string()),
                    (false, _) => (None, reference.to_string()),
                };
                Some(FactQuery::Get {
                    resource: resource.clone(),
                    namespace,
                    name,
                })
            }
        }
    }

    /// The query that lists every possible target (`None` for the cluster).
    pub fn list_query(&self, fields: Option<FieldSet>) -> Option<FactQuery> {
        match &self.kind {
            TargetKind::Cluster => None,
            TargetKind::EksNodegroup => Some(FactQuery::Eks(EksQuery::ListNodegroups)),
            TargetKind::Kubernetes { resource, .. } => Some(FactQuery::List {
                resource: resource.clone(),
                namespace: None,
                label_selector: None,
                field_selector: None,
                fields,
            }),
        }
    }

    /// How a user names this object: `NAMESPACE/NAME` or `NAME`.
    pub fn reference_of(&self, object: &serde_json::Value) -> String {
        let name = object
            .pointer("/metadata/name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        match (
            matches!(
                self.kind,
                TargetKind::Kubernetes {
                    namespaced: true,
                    ..
                }
            ),
            object
                .pointer("/metadata/namespace")
                .and_then(serde_json::Value::as_str),
        ) {
            (true, Some(ns)) => format!("{ns}/{name}"),
            _ => name.to_string(),
        }
    }

    /// The names of the targets in an answer to [`Target::list_query`].
    pub fn references(&self, listed: &serde_json::Value) -> Vec<String> {
        match &self.kind {
            TargetKind::Cluster => Vec::new(),
            TargetKind::EksNodegroup => listed
                .get("nodegroups")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            TargetKind::Kubernetes { .. } => listed
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| self.reference_of(o))
                .collect(),
        }
    }

    /// How a user names one: `NAMESPACE/NAME`, `NAME`, or nothing.
    pub fn ref_form(&self) -> &'static str {
        match &self.kind {
            TargetKind::Cluster => "none",
            TargetKind::EksNodegroup => "NODEGROUP",
            TargetKind::Kubernetes {
                namespaced: true, ..
            } => "NAMESPACE/NAME",
            TargetKind::Kubernetes {
                namespaced: false, ..
            } => "NAME",
        }
    }

    pub fn kind_name(&self) -> String {
        match &self.kind {
            TargetKind::Cluster => "cluster".into(),
            TargetKind::EksNodegroup => "EKS node group".into(),
            TargetKind::Kubernetes { resource, .. } => resource.kind.clone(),
        }
    }
}

#[derive(Debug)]
pub struct Symptom {
    pub when: Expression,
    pub severity: Severity,
    pub severity_by: Option<Expression>,
    pub reason: Template,
    pub since: Option<Expression>,
    pub group_by: Option<Expression>,
    pub scope: SymptomScope,
}

#[derive(Debug)]
pub struct Fact {
    pub description: Option<String>,
    pub source: FactSource,
    pub filter: Option<Expression>,
}

impl Fact {
    /// Every expression the fact evaluates: its query's templates, its value, its filter.
    pub fn expressions(&self) -> Vec<&Expression> {
        fn templates<'a>(ts: &[Option<&'a Template>]) -> Vec<&'a Expression> {
            ts.iter().flatten().flat_map(|t| t.expressions()).collect()
        }
        let mut out = match &self.source {
            FactSource::Get {
                namespace, name, ..
            } => templates(&[namespace.as_ref(), Some(name)]),
            FactSource::List {
                namespace,
                label_selector,
                field_selector,
                ..
            } => templates(&[
                namespace.as_ref(),
                label_selector.as_ref(),
                field_selector.as_ref(),
            ]),
            FactSource::Events(e) => vec![e],
            FactSource::Logs { of, container, .. } => {
                let mut v = vec![of];
                v.extend(templates(&[container.as_ref()]));
                v
            }
            FactSource::Eks {
                name,
                principal_arn,
                ..
            } => templates(&[name.as_ref(), principal_arn.as_ref()]),
            FactSource::Cloudwatch {
                log_group,
                stream_prefix,
                contains,
                ..
            } => templates(&[Some(log_group), stream_prefix.as_ref(), contains.as_ref()]),
            FactSource::Value(e) => vec![e],
        };
        out.extend(self.filter.iter());
        out
    }
}

#[derive(Debug)]
pub enum FactSource {
    Get {
        resource: GroupKind,
        namespace: Option<Template>,
        name: Template,
    },
    List {
        resource: GroupKind,
        namespace: Option<Template>,
        label_selector: Option<Template>,
        field_selector: Option<Template>,
    },
    Events(Expression),
    Logs {
        of: Expression,
        container: Option<Template>,
        previous: bool,
        tail_lines: Option<u32>,
    },
    Eks {
        call: EksCall,
        name: Option<Template>,
        principal_arn: Option<Template>,
    },
    Cloudwatch {
        log_group: Template,
        stream_prefix: Option<Template>,
        contains: Option<Template>,
        since: Option<chrono::Duration>,
        limit: Option<u32>,
    },
    Value(Expression),
}

impl Fact {
    /// Names this fact's parameters read (facts or `target`).
    pub fn inputs(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut add = |e: &Expression| out.extend(e.free_variables.iter().cloned());
        let add_t = |t: &Option<Template>, add: &mut dyn FnMut(&Expression)| {
            if let Some(t) = t {
                t.expressions().for_each(&mut *add);
            }
        };
        match &self.source {
            FactSource::Get {
                namespace, name, ..
            } => {
                add_t(namespace, &mut add);
                name.expressions().for_each(&mut add);
            }
            FactSource::List {
                namespace,
                label_selector,
                field_selector,
                ..
            } => {
                add_t(namespace, &mut add);
                add_t(label_selector, &mut add);
                add_t(field_selector, &mut add);
            }
            FactSource::Events(e) | FactSource::Value(e) => add(e),
            FactSource::Logs { of, container, .. } => {
                add(of);
                add_t(container, &mut add);
            }
            FactSource::Eks {
                name,
                principal_arn,
                ..
            } => {
                add_t(name, &mut add);
                add_t(principal_arn, &mut add);
            }
            FactSource::Cloudwatch {
                log_group,
                stream_prefix,
                contains,
                ..
            } => {
                log_group.expressions().for_each(&mut add);
                add_t(stream_prefix, &mut add);
                add_t(contains, &mut add);
            }
        }
        if let Some(f) = &self.filter {
            out.extend(f.free_variables.iter().filter(|v| *v != "item").cloned());
        }
        out
    }

    pub fn is_aws(&self) -> bool {
        matches!(
            self.source,
            FactSource::Eks { .. } | FactSource::Cloudwatch { .. }
        )
    }
}

/// Text with `${cel}` parts.
#[derive(Debug, Clone)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone)]
pub enum TemplatePart {
    Text(String),
    Expr(Expression),
}

impl Template {
    pub fn expressions(&self) -> impl Iterator<Item = &Expression> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Expr(e) => Some(e),
            TemplatePart::Text(_) => None,
        })
    }

    pub fn free_variables(&self) -> BTreeSet<String> {
        self.expressions()
            .flat_map(|e| e.free_variables.iter().cloned())
            .collect()
    }
}

#[derive(Debug)]
pub struct Step {
    pub id: String,
    pub title: Template,
    pub kind: StepKind,
    pub unknown: Option<String>,
}

#[derive(Debug)]
pub enum StepKind {
    Check {
        expr: Expression,
        then_: String,
        else_: String,
        because_then: Option<Template>,
        because_else: Option<Template>,
    },
    Switch {
        cases: Vec<Case>,
        default: String,
        default_because: Option<Template>,
    },
    Ask {
        question: Template,
        command: Option<Template>,
        look_for: Option<Template>,
        choices: Vec<Choice>,
    },
    Handover {
        runbook: String,
        target: Option<Template>,
    },
}

impl Step {
    /// Where the step can lead (unknown route included).
    pub fn exits(&self) -> Vec<&str> {
        let mut out: Vec<&str> = match &self.kind {
            StepKind::Check { then_, else_, .. } => vec![then_, else_],
            StepKind::Switch { cases, default, .. } => cases
                .iter()
                .map(|c| c.goto.as_str())
                .chain([default.as_str()])
                .collect(),
            StepKind::Ask { choices, .. } => choices.iter().map(|c| c.goto.as_str()).collect(),
            StepKind::Handover { .. } => Vec::new(),
        };
        if let Some(u) = &self.unknown {
            out.push(u);
        }
        out
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            StepKind::Check { .. } => "check",
            StepKind::Switch { .. } => "switch",
            StepKind::Ask { .. } => "ask",
            StepKind::Handover { .. } => "handover",
        }
    }
}

#[derive(Debug)]
pub struct Case {
    pub when: Expression,
    pub goto: String,
    pub because: Option<Template>,
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub id: String,
    pub label: String,
    pub goto: String,
}

#[derive(Debug)]
pub struct Conclusion {
    pub id: String,
    pub code: String,
    pub severity: Severity,
    pub title: Template,
    pub summary: Template,
    pub evidence: Vec<(String, Expression)>,
    pub remediation: Vec<Template>,
    pub commands: Vec<Command>,
    pub references: Vec<String>,
    pub follow_up: Option<(String, Option<Template>)>,
}

#[derive(Debug)]
pub struct Command {
    pub run: Template,
    pub description: Option<String>,
    pub changes: bool,
    pub when: Option<Expression>,
}

impl Runbook {
    /// What `ktriage runbooks show` prints: target, symptom, facts, steps and
    /// conclusions, one line each.
    pub fn outline(&self) -> String {
        let mut out = format!(
            "{} — {}\ntarget: {}{}\n",
            self.id,
            self.title,
            self.target.kind_name(),
            if self.target.optional {
                " (optional)"
            } else {
                ""
            }
        );
        out.push_str(&format!("source: {}\n", self.origin.path));
        if let Some(d) = &self.description {
            out.push_str(&format!("\n{}\n", d.trim_end()));
        }
        if let Some(s) = &self.symptom {
            out.push_str(&format!(
                "\nsymptom ({}): {}\n",
                s.severity.as_str(),
                s.when.source.trim()
            ));
        }
        out.push_str("\nfacts:\n");
        for (name, f) in &self.facts {
            out.push_str(&format!(
                "  {name}{}\n",
                f.description
                    .as_ref()
                    .map(|d| format!(" — {d}"))
                    .unwrap_or_default()
            ));
        }
        out.push_str("\nsteps:\n");
        for s in self.steps.values() {
            out.push_str(&format!(
                "  {:<28} {:<8} → {}\n",
                s.id,
                s.kind_name(),
                s.exits().join(", ")
            ));
        }
        out.push_str("\nconclusions:\n");
        for c in self.conclusions.values() {
            out.push_str(&format!(
                "  {:<28} {:<8} {}\n",
                c.id,
                c.severity.as_str(),
                c.code
            ));
        }
        out
    }
}
