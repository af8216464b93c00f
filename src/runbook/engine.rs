//! The engine walks a runbook over facts already fetched. It is pure: no I/O, no clock
//! (now comes from the environment), so the same facts always give the same walk.
//!
//! Facts are lazy. When a step needs a fact not fetched yet, the walk stops and asks
//! for the queries (`Progress::NeedFacts`); the driver fetches them into the round's
//! cache and walks again from the start, which is cheap and keeps the engine
//! stateless.

use super::Catalog;
use super::access::project;
use super::bounded::limit_message;
use super::cel::{Environment, Expression, cel_to_json, render};
use super::format::{EksCall, Severity};
use super::model::*;
use super::record::*;
use crate::facts::cache::{FactLookup, FactResult};
use crate::facts::shape;
use crate::facts::{EksQuery, FactError, FactQuery, LogEventsQuery, ObjectRef};
use kube_cel::cel::Value;
use kube_cel::cel::context::VariableResolver;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

pub struct WalkInput<'a> {
    pub catalog: &'a Catalog,
    pub runbook: &'a Runbook,
    /// `NAMESPACE/NAME`, `NAME`, or none for cluster-wide runbooks.
    pub target: Option<&'a str>,
    /// Answers to `ask` steps: `STEP` or `RUNBOOK/STEP` → choice id.
    pub answers: &'a BTreeMap<String, String>,
    pub env: &'a Environment,
    pub facts: &'a dyn FactLookup,
}

pub enum Progress<T> {
    NeedFacts(Vec<FactQuery>),
    Done(T),
}

pub fn walk(input: &WalkInput) -> Progress<WalkRecord> {
    let mut walker = Walker::new(input.catalog, input.env, input.facts, input.answers);
    let target = input.target.map(str::to_string);
    let mut scope = Scope::new(input.runbook, TargetSource::Ref(target.clone()));
    let mut chain = vec![(input.runbook.id.clone(), target.clone())];
    let flow = walker.walk_scope(&mut scope, &mut chain);
    if !walker.pending.is_empty() {
        return Progress::NeedFacts(walker.pending.into_iter().collect());
    }
    let (status, conclusion, question) = match flow {
        Flow::Concluded(c) => (Status::Concluded, Some(*c), None),
        Flow::NeedsInput(q) => (Status::NeedsInput, None, Some(*q)),
        Flow::Inconclusive | Flow::Pending => (Status::Inconclusive, None, None),
    };
    Progress::Done(WalkRecord {
        runbook: input.runbook.id.clone(),
        target,
        status,
        conclusion,
        path: walker.path,
        missing: walker.missing,
        question,
        facts: walker.uses,
        timing: None,
    })
}

/// What triage learns from one symptom evaluation.
#[derive(Debug, Clone)]
pub struct SymptomResult {
    /// `None` when it could not be decided; `reason` then says why.
    pub matched: Option<bool>,
    pub reason: String,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub group: Option<String>,
    /// From `severityBy`, when it gave one of the three names.
    pub severity: Option<Severity>,
    /// Why it could not be decided, fact by fact (empty when decided).
    pub unknown: Vec<FactError>,
}

/// Evaluates a runbook's symptom for one target object (or `null` for cluster scope).
/// Facts already resolved for one target, kept between fetch rounds: a resolved fact
/// never changes within a round, so the next evaluation starts where this one stopped
/// instead of filtering the same pods again.
#[derive(Default)]
pub struct Resolved(HashMap<String, Res>);

pub fn symptom(
    catalog: &Catalog,
    runbook: &Runbook,
    target: Arc<Json>,
    env: &Environment,
    facts: &dyn FactLookup,
    resolved: &mut Resolved,
) -> Progress<SymptomResult> {
    let Some(symptom) = &runbook.symptom else {
        return Progress::Done(SymptomResult {
            matched: Some(false),
            reason: String::new(),
            since: None,
            group: None,
            severity: None,
            unknown: Vec::new(),
        });
    };
    let no_answers = BTreeMap::new();
    let mut walker = Walker::new(catalog, env, facts, &no_answers);
    let mut scope = Scope::new(runbook, TargetSource::Value(target));
    scope.values = std::mem::take(&mut resolved.0);
    let progress = evaluate_symptom(&mut walker, &mut scope, symptom);
    resolved.0 = scope.values;
    progress
}

fn evaluate_symptom(
    walker: &mut Walker,
    scope: &mut Scope,
    symptom: &Symptom,
) -> Progress<SymptomResult> {
    let (matched, reason, unknown) = match walker.eval(scope, &symptom.when) {
        Eval::Value(Value::Bool(b)) => (Some(b), String::new(), Vec::new()),
        Eval::Pending => (None, String::new(), Vec::new()),
        other => {
            let fails = walker.as_unknown(other, &symptom.when);
            let mut unknown: Vec<FactError> = Vec::new();
            for f in &fails {
                if !unknown.contains(&f.error) {
                    unknown.push(f.error.clone());
                }
            }
            (None, unknown_reason(&fails), unknown)
        }
    };
    let mut result = SymptomResult {
        matched,
        reason,
        since: None,
        group: None,
        severity: None,
        unknown,
    };
    if matched == Some(true) {
        if let Some(by) = &symptom.severity_by
            && let Eval::Value(Value::String(s)) = walker.eval(scope, by)
        {
            result.severity = match s.as_str() {
                "critical" => Some(Severity::Critical),
                "warning" => Some(Severity::Warning),
                "info" => Some(Severity::Info),
                _ => None,
            };
        }
        result.reason = walker.render(scope, &symptom.reason).unwrap_or_default();
        if let Some(since) = &symptom.since
            && let Eval::Value(v) = walker.eval(scope, since)
        {
            result.since = timestamp(&v);
        }
        if let Some(group) = &symptom.group_by
            && let Eval::Value(v) = walker.eval(scope, group)
        {
            result.group = Some(render(&v));
        }
    }
    if !walker.pending.is_empty() {
        return Progress::NeedFacts(std::mem::take(&mut walker.pending).into_iter().collect());
    }
    Progress::Done(result)
}

fn timestamp(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    match v {
        Value::Timestamp(t) => Some(t.with_timezone(&chrono::Utc)),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc)),
        _ => None,
    }
}

enum TargetSource {
    Ref(Option<String>),
    Value(Arc<Json>),
}

/// One runbook with its target: the facts it resolved so far.
struct Scope<'r> {
    rb: &'r Runbook,
    target: TargetSource,
    values: HashMap<String, Res>,
}

impl<'r> Scope<'r> {
    fn new(rb: &'r Runbook, target: TargetSource) -> Self {
        Scope {
            rb,
            target,
            values: HashMap::new(),
        }
    }
}

#[derive(Clone, Debug)]
struct Fail {
    fact: String,
    query: String,
    error: FactError,
}

#[derive(Clone)]
enum Res {
    /// Facts are kept as JSON and handed to CEL projected to what each expression reads.
    Ok(Arc<Json>),
    Failed(Vec<Fail>),
    Pending,
}

enum Eval {
    Value(Value),
    Unknown(Vec<Fail>),
    /// The expression itself failed (a missing field without `has()`, a type error).
    Error(String),
    /// The evaluation reached one of ktriage's limits on CEL work (`runbook::bounded`);
    /// the message says where the expression is written and which limit.
    Limit(String),
    Pending,
}

/// What to do about an evaluation stopped at a limit.
const LIMIT_HINT: &str = "the expression does more work, or builds larger values, than ktriage allows one \
     evaluation: narrow the facts it reads (a `where`, a selector) or simplify it; the limits are in \
     docs/runbooks.md (\"Limits\")";

enum Flow {
    Concluded(Box<ConclusionRecord>),
    NeedsInput(Box<Question>),
    Inconclusive,
    Pending,
}

struct Walker<'a> {
    catalog: &'a Catalog,
    env: &'a Environment,
    facts: &'a dyn FactLookup,
    answers: &'a BTreeMap<String, String>,
    path: Vec<StepRecord>,
    missing: Vec<Missing>,
    uses: Vec<FactUse>,
    pending: BTreeSet<FactQuery>,
}

impl<'a> Walker<'a> {
    fn new(
        catalog: &'a Catalog,
        env: &'a Environment,
        facts: &'a dyn FactLookup,
        answers: &'a BTreeMap<String, String>,
    ) -> Self {
        Walker {
            catalog,
            env,
            facts,
            answers,
            path: Vec::new(),
            missing: Vec::new(),
            uses: Vec::new(),
            pending: BTreeSet::new(),
        }
    }

    fn walk_scope(&mut self, scope: &mut Scope, chain: &mut Vec<(String, Option<String>)>) -> Flow {
        let rb = scope.rb;
        // Required targets must exist before any step means anything.
        if !rb.target.optional || matches!(scope.target, TargetSource::Ref(Some(_))) {
            match self.resolve(scope, "target") {
                Res::Pending => return Flow::Pending,
                // A target that could not be read (no AWS data, RBAC) is unknown, not absent:
                // steps that do not read it still run, the others are unknown.
                Res::Failed(_) => {}
                Res::Ok(v) if v.is_null() => {
                    let what = match &scope.target {
                        TargetSource::Ref(Some(r)) => {
                            format!("{} {r} does not exist", rb.target.kind_name())
                        }
                        _ => format!("no {} target was given", rb.target.kind_name()),
                    };
                    self.missing.push(Missing {
                        fact: "target".into(),
                        query: String::new(),
                        reason: what,
                        hint: format!("name an existing target: --target {}", rb.target.ref_form()),
                    });
                    return Flow::Inconclusive;
                }
                Res::Ok(_) => {}
            }
        }
        let mut current = rb.start().to_string();
        // Validation guarantees a tree; the bound only protects against a bug.
        for _ in 0..=rb.steps.len() {
            if let Some(c) = rb.conclusions.get(&current) {
                return match self.conclude(scope, c) {
                    Some(rec) => Flow::Concluded(Box::new(rec)),
                    None => Flow::Pending,
                };
            }
            let Some(step) = rb.steps.get(&current) else {
                return Flow::Inconclusive;
            };
            let Some(title) = self.render(scope, &step.title) else {
                return Flow::Pending;
            };
            let read = step_facts(rb, step);
            let record = |outcome: Outcome,
                          reason: String,
                          next: Option<&str>,
                          path: &mut Vec<StepRecord>| {
                path.push(StepRecord {
                    runbook: rb.id.clone(),
                    step: step.id.clone(),
                    title: title.clone(),
                    kind: step.kind_name().into(),
                    outcome,
                    reason,
                    next: next.map(str::to_string),
                    facts: read.clone(),
                });
            };
            // A check or switch decides where to go, or cannot decide (Err: why).
            let decided: Result<(Outcome, String, String), String> = match &step.kind {
                StepKind::Check {
                    expr,
                    then_,
                    else_,
                    because_then,
                    because_else,
                } => match self.eval(scope, expr) {
                    Eval::Pending => return Flow::Pending,
                    Eval::Value(Value::Bool(b)) => {
                        let (next, because, outcome) = if b {
                            (then_, because_then, Outcome::True)
                        } else {
                            (else_, because_else, Outcome::False)
                        };
                        let reason = match because {
                            Some(t) => match self.render(scope, t) {
                                Some(r) => r,
                                None => return Flow::Pending,
                            },
                            None => format!("`{}` is {b}", one_line(&expr.source)),
                        };
                        Ok((outcome, reason, next.clone()))
                    }
                    other => Err(self.undecided(other, expr)),
                },
                StepKind::Switch {
                    cases,
                    default,
                    default_because,
                } => {
                    let mut decided = Ok((Outcome::Default, String::new(), default.clone()));
                    for (i, case) in cases.iter().enumerate() {
                        match self.eval(scope, &case.when) {
                            Eval::Pending => return Flow::Pending,
                            Eval::Value(Value::Bool(false)) => continue,
                            Eval::Value(Value::Bool(true)) => {
                                let reason = match &case.because {
                                    Some(t) => match self.render(scope, t) {
                                        Some(r) => r,
                                        None => return Flow::Pending,
                                    },
                                    None => {
                                        format!("case {}: `{}`", i + 1, one_line(&case.when.source))
                                    }
                                };
                                decided = Ok((Outcome::Matched, reason, case.goto.clone()));
                                break;
                            }
                            // First match wins, so an undecidable case blocks the ones after it.
                            other => {
                                decided = Err(self.undecided(other, &case.when));
                                break;
                            }
                        }
                    }
                    // The default's reason is rendered only when it is taken: it may read facts
                    // the cases ruled out.
                    if let Ok((Outcome::Default, reason, _)) = &mut decided {
                        *reason = match default_because {
                            Some(t) => match self.render(scope, t) {
                                Some(r) => r,
                                None => return Flow::Pending,
                            },
                            None => "no case matched".to_string(),
                        };
                    }
                    decided
                }
                StepKind::Ask {
                    question,
                    command,
                    look_for,
                    choices,
                } => {
                    let given = self
                        .answers
                        .get(&format!("{}/{}", rb.id, step.id))
                        .or_else(|| self.answers.get(&step.id));
                    if let Some(choice) = given.and_then(|g| choices.iter().find(|c| &c.id == g)) {
                        record(
                            Outcome::Answered,
                            format!("answered: {}", choice.label),
                            Some(&choice.goto),
                            &mut self.path,
                        );
                        current = choice.goto.clone();
                        continue;
                    }
                    let (Some(prompt), Some(command), Some(look_for)) = (
                        self.render(scope, question),
                        opt(command.as_ref().map(|c| {
                            // A command to run elsewhere is shown only whole.
                            self.render_text(scope, c)
                                .map(|r| r.unknown.is_empty().then_some(r.text))
                        })),
                        opt(look_for.as_ref().map(|c| self.render(scope, c).map(Some))),
                    ) else {
                        return Flow::Pending;
                    };
                    record(
                        Outcome::AwaitingAnswer,
                        "only a human can check this".into(),
                        None,
                        &mut self.path,
                    );
                    return Flow::NeedsInput(Box::new(Question {
                        runbook: rb.id.clone(),
                        step: step.id.clone(),
                        prompt,
                        command,
                        look_for,
                        choices: choices
                            .iter()
                            .map(|c| ChoiceRecord {
                                id: c.id.clone(),
                                label: c.label.clone(),
                            })
                            .collect(),
                        rejected_answer: given.cloned(),
                    }));
                }
                StepKind::Handover { runbook, target } => {
                    let target_ref = match target {
                        Some(t) => match self.render_text(scope, t) {
                            Some(r) if r.unknown.is_empty() => Some(r.text),
                            // Which object to continue with is not known: walking one named
                            // "(not seen)" would only report that it does not exist.
                            Some(r) => {
                                record(
                                    Outcome::Unknown,
                                    format!("unknown: {}", unknown_reason(&r.unknown)),
                                    None,
                                    &mut self.path,
                                );
                                return Flow::Inconclusive;
                            }
                            None => return Flow::Pending,
                        },
                        None => None,
                    };
                    let Some(next) = self.catalog.get(runbook) else {
                        return Flow::Inconclusive;
                    };
                    let key = (runbook.clone(), target_ref.clone());
                    if chain.contains(&key) {
                        let reason = format!(
                            "hand-over to {runbook} {} would repeat an earlier runbook in this walk",
                            target_ref.as_deref().unwrap_or("")
                        );
                        record(Outcome::Unknown, reason.clone(), None, &mut self.path);
                        self.missing.push(Missing {
                            fact: "handover".into(),
                            query: String::new(),
                            reason,
                            hint:
                                "the runbooks hand over to each other in a circle; fix one of them"
                                    .into(),
                        });
                        return Flow::Inconclusive;
                    }
                    record(
                        Outcome::Handover,
                        format!(
                            "continues in {runbook} {}",
                            target_ref.as_deref().unwrap_or("")
                        )
                        .trim_end()
                        .to_string(),
                        Some(runbook),
                        &mut self.path,
                    );
                    chain.push(key);
                    let mut sub = Scope::new(next, TargetSource::Ref(target_ref));
                    return self.walk_scope(&mut sub, chain);
                }
            };
            match decided {
                Ok((outcome, reason, next)) => {
                    record(outcome, reason, Some(&next), &mut self.path);
                    current = next;
                }
                Err(reason) => {
                    record(
                        Outcome::Unknown,
                        reason,
                        step.unknown.as_deref(),
                        &mut self.path,
                    );
                    match &step.unknown {
                        Some(u) => current = u.clone(),
                        None => return Flow::Inconclusive,
                    }
                }
            }
        }
        Flow::Inconclusive
    }

    fn conclude(&mut self, scope: &mut Scope, c: &Conclusion) -> Option<ConclusionRecord> {
        let title = self.render(scope, &c.title)?;
        let summary = self.render(scope, &c.summary)?;
        let mut evidence = Vec::new();
        for (label, expr) in &c.evidence {
            let quotes = match self.eval(scope, expr) {
                Eval::Pending => return None,
                Eval::Value(Value::List(items)) => {
                    items.iter().map(render).filter(|s| !s.is_empty()).collect()
                }
                Eval::Value(Value::Null) => Vec::new(),
                Eval::Value(v) => Some(render(&v))
                    .filter(|s| !s.is_empty())
                    .into_iter()
                    .collect(),
                other => vec![self.undecided(other, expr)],
            };
            if !quotes.is_empty() {
                evidence.push(EvidenceRecord {
                    label: label.clone(),
                    quotes,
                });
            }
        }
        // A step to take or a command to copy is left out when a part of it is unknown:
        // "(not seen)" as an argument would be run or followed as written. What it lacked
        // is on the missing list.
        // A step that renders empty is one its own condition left out (`${api ? "…" : ""}`).
        let mut remediation = Vec::new();
        for r in &c.remediation {
            let r = self.render_text(scope, r)?;
            if r.unknown.is_empty() && !r.text.trim().is_empty() {
                remediation.push(r.text);
            }
        }
        let mut commands = Vec::new();
        for cmd in &c.commands {
            if let Some(when) = &cmd.when {
                match self.eval(scope, when) {
                    Eval::Pending => return None,
                    Eval::Value(Value::Bool(true)) => {}
                    Eval::Value(Value::Bool(false)) => continue,
                    // Whether it fits is not known: shown, it could be the wrong fix.
                    other => {
                        let fails = self.as_unknown(other, when);
                        self.note_missing(&fails);
                        continue;
                    }
                }
            }
            let run = self.render_text(scope, &cmd.run)?;
            if run.unknown.is_empty() {
                commands.push(CommandRecord {
                    run: run.text,
                    description: cmd.description.clone(),
                    changes: cmd.changes,
                });
            }
        }
        let follow_up = match &c.follow_up {
            Some((runbook, target)) if self.catalog.get(runbook).is_some() => match target {
                Some(t) => {
                    let t = self.render_text(scope, t)?;
                    t.unknown.is_empty().then(|| FollowUp {
                        runbook: runbook.clone(),
                        target: Some(t.text),
                    })
                }
                None => Some(FollowUp {
                    runbook: runbook.clone(),
                    target: None,
                }),
            },
            _ => None,
        };
        Some(ConclusionRecord {
            id: c.id.clone(),
            code: c.code.clone(),
            severity: c.severity.as_str().into(),
            title,
            summary,
            remediation,
            evidence,
            commands,
            references: c.references.clone(),
            runbook: scope.rb.id.clone(),
            follow_up,
        })
    }

    fn as_unknown(&self, e: Eval, expr: &Expression) -> Vec<Fail> {
        match e {
            Eval::Unknown(fails) => fails,
            Eval::Error(msg) => vec![Fail {
                fact: "(expression)".into(),
                query: one_line(&expr.source),
                error: FactError::unavailable(
                    format!("could not evaluate: {msg}"),
                    "the data has an unexpected shape for this runbook; check the facts it read",
                ),
            }],
            Eval::Limit(msg) => vec![Fail {
                fact: "(expression)".into(),
                query: one_line(&expr.source),
                error: FactError::unavailable(msg, LIMIT_HINT),
            }],
            Eval::Value(v) => vec![Fail {
                fact: "(expression)".into(),
                query: one_line(&expr.source),
                error: FactError::unavailable(
                    format!("expected true or false, got {}", render(&v)),
                    "fix the runbook: a check must give a boolean",
                ),
            }],
            Eval::Pending => Vec::new(),
        }
    }

    /// A step that could not be decided: its facts go on the missing list, and the
    /// reason says which were unknown and why.
    fn undecided(&mut self, e: Eval, expr: &Expression) -> String {
        let fails = self.as_unknown(e, expr);
        self.note_missing(&fails);
        format!("unknown: {}", unknown_reason(&fails))
    }

    fn note_missing(&mut self, fails: &[Fail]) {
        for f in fails {
            let m = Missing {
                fact: f.fact.clone(),
                query: f.query.clone(),
                reason: f.error.to_string(),
                hint: f.error.hint().to_string(),
            };
            if !self.missing.contains(&m) {
                self.missing.push(m);
            }
        }
    }

    /// Renders a template; `None` while a fact it needs is still being fetched.
    fn render(&mut self, scope: &mut Scope, t: &Template) -> Option<String> {
        self.render_text(scope, t).map(|r| r.text)
    }

    /// Renders a template, saying which parts could not be. An unknown part reads
    /// [`NOT_SEEN`] and its facts go on the missing list, where the reason and what would
    /// resolve it are said once: the reason inside a sentence (or the interpreter's
    /// "No such key") reads as if it were cluster data, and cannot be copied or acted on.
    fn render_text(&mut self, scope: &mut Scope, t: &Template) -> Option<Rendered> {
        let mut out = Rendered {
            text: String::new(),
            unknown: Vec::new(),
        };
        for part in &t.parts {
            match part {
                TemplatePart::Text(s) => out.text.push_str(s),
                TemplatePart::Expr(e) => match self.eval(scope, e) {
                    Eval::Pending => return None,
                    Eval::Value(v) => out.text.push_str(&render(&v)),
                    other => {
                        let fails = self.as_unknown(other, e);
                        self.note_missing(&fails);
                        out.text.push_str(NOT_SEEN);
                        out.unknown.extend(fails);
                    }
                },
            }
        }
        Some(out)
    }

    fn eval(&mut self, scope: &mut Scope, e: &Expression) -> Eval {
        self.eval_with(scope, e, &[])
    }

    /// Evaluates lazily: only facts the evaluation actually touches are resolved, so a
    /// short-circuited `&&` fetches nothing for its right side. Facts are never fetched
    /// speculatively: on a large cluster an unneeded list of pods costs more than a
    /// round trip, and triage shares its rounds across every target anyway.
    fn eval_with(&mut self, scope: &mut Scope, e: &Expression, extra: &[(&str, &Json)]) -> Eval {
        let mut failed: Vec<Fail> = Vec::new();
        let mut failed_names: BTreeSet<String> = BTreeSet::new();
        // Each pass resolves one more name or returns, so this ends.
        for _ in 0..=e.free_variables.len() {
            let unbound: BTreeSet<&str> = e
                .free_variables
                .iter()
                .filter(|n| {
                    !matches!(scope.values.get(*n), Some(Res::Ok(_)))
                        && !extra.iter().any(|(x, _)| x == *n)
                })
                .map(String::as_str)
                .collect();
            let spy = Spy {
                unbound: &unbound,
                asked: Mutex::new(Vec::new()),
            };
            let outcome = {
                let mut vars: Vec<(&str, Value)> = Vec::new();
                for name in &e.free_variables {
                    if let Some(Res::Ok(v)) = scope.values.get(name) {
                        vars.push((name.as_str(), project(v, e.access.get(name))));
                    }
                }
                for (name, v) in extra {
                    vars.push((name, project(v, e.access.get(*name))));
                }
                let mut ctx = self.env.root().new_inner_scope();
                ctx.set_variable_resolver(&spy);
                e.eval_with(&ctx, &vars)
            };
            let err = match outcome {
                Ok(v) => return Eval::Value(v),
                Err(err) => err,
            };
            // Binding a missing fact would not make it cheaper.
            if let Some(m) = limit_message(&err) {
                return Eval::Limit(m.to_string());
            }
            // The interpreter reports an unbound variable in different ways (undeclared,
            // missing argument...); the spy says which one it looked for.
            let asked = spy
                .asked
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner);
            let Some(missing) = asked.into_iter().find(|n| !failed_names.contains(n)) else {
                return if failed.is_empty() {
                    Eval::Error(err.to_string())
                } else {
                    Eval::Unknown(failed)
                };
            };
            match self.resolve(scope, &missing) {
                Res::Ok(_) => {}
                Res::Failed(f) => {
                    failed_names.insert(missing);
                    failed.extend(f);
                }
                Res::Pending => return Eval::Pending,
            }
        }
        if failed.is_empty() {
            Eval::Error("expression did not settle".into())
        } else {
            Eval::Unknown(failed)
        }
    }

    fn resolve(&mut self, scope: &mut Scope, name: &str) -> Res {
        if let Some(r) = scope.values.get(name) {
            return r.clone();
        }
        let res = if name == "target" {
            self.resolve_target(scope)
        } else {
            match scope.rb.facts.get(name) {
                Some(fact) => self.resolve_fact(scope, name, fact),
                // Validation rejects unknown names; an unbound one simply fails to evaluate.
                None => Res::Failed(Vec::new()),
            }
        };
        if !matches!(res, Res::Pending) {
            scope.values.insert(name.to_string(), res.clone());
        }
        res
    }

    fn resolve_target(&mut self, scope: &mut Scope) -> Res {
        let rb = scope.rb;
        let reference = match &scope.target {
            TargetSource::Value(v) => return Res::Ok(v.clone()),
            TargetSource::Ref(None) => return Res::Ok(Arc::new(Json::Null)),
            TargetSource::Ref(Some(r)) => r.clone(),
        };
        let Some(query) = rb.target.get_query(&reference) else {
            return Res::Ok(Arc::new(Json::Null));
        };
        match self.lookup(&query) {
            None => Res::Pending,
            Some(Err(error)) => Res::Failed(vec![Fail {
                fact: "target".into(),
                query: query.command(self.env.cluster()),
                error,
            }]),
            Some(Ok(json)) => match &query {
                FactQuery::Eks(q) => Res::Ok(Arc::new(eks_inner(q, &json))),
                _ => Res::Ok(json),
            },
        }
    }

    fn lookup(&mut self, q: &FactQuery) -> Option<FactResult> {
        let found = self.facts.lookup(q);
        if found.is_none() {
            self.pending.insert(q.clone());
        }
        found
    }

    fn resolve_fact(&mut self, scope: &mut Scope, name: &str, fact: &Fact) -> Res {
        // Parameters are evaluated lazily like any expression: a fact whose inputs are
        // unknown is unknown too, and one input still being fetched leaves it pending.
        let queries = match self.queries_for(scope, name, fact) {
            Ok(q) => q,
            Err(res) => return res,
        };
        let mut answers: Vec<(FactQuery, Arc<Json>)> = Vec::new();
        let mut errors: Vec<(FactQuery, FactError)> = Vec::new();
        let mut waiting = false;
        for q in &queries.list {
            match self.lookup(q) {
                None => waiting = true,
                Some(Ok(a)) => answers.push((q.clone(), a)),
                Some(Err(e)) => errors.push((q.clone(), e)),
            }
        }
        if waiting {
            return Res::Pending;
        }
        self.uses
            .retain(|u| !(u.runbook == scope.rb.id && u.name == name));
        self.uses.push(FactUse {
            runbook: scope.rb.id.clone(),
            name: name.to_string(),
            description: fact.description.clone(),
            commands: queries
                .list
                .iter()
                .map(|q| q.command(self.env.cluster()))
                .collect(),
            queries: queries.list.clone(),
            errors: errors.iter().map(|(_, e)| e.clone()).collect(),
        });
        // Several queries (events of many pods, logs of many containers) still make a
        // fact when some answered; only all failing makes it unknown.
        if !errors.is_empty() && answers.is_empty() && !queries.list.is_empty() {
            return Res::Failed(
                errors
                    .into_iter()
                    .map(|(q, error)| Fail {
                        fact: name.to_string(),
                        query: q.command(self.env.cluster()),
                        error,
                    })
                    .collect(),
            );
        }
        let json: Arc<Json> = match queries.shape {
            Shape::Computed(v) => Arc::new(v),
            // A cached answer is shared, never copied: it may be every pod of a namespace.
            Shape::Single => match answers.first() {
                Some((FactQuery::Eks(eq), a)) => Arc::new(eks_inner(eq, a)),
                Some((FactQuery::LogEvents(_), a)) => Arc::new(Json::Array(shape::log_events(
                    a.as_array().map_or(&[][..], Vec::as_slice),
                ))),
                Some((_, a)) => a.clone(),
                None => Arc::new(Json::Null),
            },
            Shape::Events => {
                let raw: Vec<Json> = answers
                    .iter()
                    .flat_map(|(_, a)| a.as_array().cloned().unwrap_or_default())
                    .collect();
                Arc::new(Json::Array(shape::normalize_events(&raw)))
            }
            Shape::Logs => Arc::new(Json::Array(
                answers
                    .iter()
                    .flat_map(|(q, a)| match q {
                        FactQuery::Logs {
                            namespace,
                            pod,
                            container,
                            previous,
                            ..
                        } => shape::log_lines(
                            namespace,
                            pod,
                            container,
                            *previous,
                            a.as_str().unwrap_or_default(),
                        ),
                        _ => Vec::new(),
                    })
                    .collect(),
            )),
        };
        let (Some(filter), Some(items)) = (&fact.filter, json.as_array()) else {
            return Res::Ok(json);
        };
        let mut kept = Vec::new();
        let mut next = 0;
        // The facts a filter reads besides `item` are bound once per pass, not once per
        // item (a namespace can hold thousands of pods). An item that reaches for a fact
        // not resolved yet goes through the general, lazy path, and the pass restarts.
        while next < items.len() {
            let unbound: BTreeSet<&str> = filter
                .free_variables
                .iter()
                .filter(|n| *n != "item" && !matches!(scope.values.get(*n), Some(Res::Ok(_))))
                .map(String::as_str)
                .collect();
            let spy = Spy {
                unbound: &unbound,
                asked: Mutex::new(Vec::new()),
            };
            // `item` first, the other facts after it.
            let mut vars: Vec<(&str, Value)> = vec![("item", Value::Null)];
            for name in filter.free_variables.iter().filter(|n| *n != "item") {
                if let Some(Res::Ok(v)) = scope.values.get(name) {
                    vars.push((name.as_str(), project(v, filter.access.get(name))));
                }
            }
            let mut base = self.env.root().new_inner_scope();
            base.set_variable_resolver(&spy);
            let item_access = filter.access.get("item");
            let mut slow = None;
            while next < items.len() {
                let item = &items[next];
                vars[0].1 = project(item, item_access);
                let outcome = filter.eval_with(&base, &vars);
                let reached_for_fact = !spy
                    .asked
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_empty();
                match outcome {
                    Ok(Value::Bool(true)) => kept.push(item.clone()),
                    Err(_) if reached_for_fact => {
                        slow = Some(item);
                        break;
                    }
                    // An item the filter cannot read (a missing field) is not a match.
                    _ => {}
                }
                next += 1;
            }
            drop(base);
            if let Some(item) = slow {
                match self.eval_with(scope, filter, &[("item", item)]) {
                    Eval::Value(Value::Bool(true)) => kept.push(item.clone()),
                    Eval::Pending => return Res::Pending,
                    _ => {}
                }
                next += 1;
            }
        }
        Res::Ok(Arc::new(Json::Array(kept)))
    }

    /// The queries a fact needs, with its inputs already resolved.
    fn queries_for(&mut self, scope: &mut Scope, name: &str, fact: &Fact) -> Result<Queries, Res> {
        let failed = |reason: String, hint: &str| {
            Res::Failed(vec![Fail {
                fact: name.to_string(),
                query: String::new(),
                error: FactError::unavailable(reason, hint),
            }])
        };
        let fail = |reason: String| {
            failed(
                reason,
                "the target lacks a field this fact needs; the runbook should guard it with has()",
            )
        };
        let text = |w: &mut Self, scope: &mut Scope, t: &Template| -> Result<String, Res> {
            let mut out = String::new();
            for part in &t.parts {
                match part {
                    TemplatePart::Text(s) => out.push_str(s),
                    TemplatePart::Expr(e) => match w.eval(scope, e) {
                        Eval::Value(v) => out.push_str(&render_param(&v)),
                        Eval::Pending => return Err(Res::Pending),
                        Eval::Unknown(f) => return Err(Res::Failed(f)),
                        Eval::Error(msg) => {
                            return Err(fail(format!("cannot form the query for `{name}`: {msg}")));
                        }
                        Eval::Limit(msg) => {
                            return Err(failed(
                                format!("cannot form the query for `{name}`: {msg}"),
                                LIMIT_HINT,
                            ));
                        }
                    },
                }
            }
            Ok(out)
        };
        let opt_text = |w: &mut Self,
                        scope: &mut Scope,
                        t: &Option<Template>|
         -> Result<Option<String>, Res> {
            match t {
                Some(t) => text(w, scope, t).map(Some),
                None => Ok(None),
            }
        };
        let single = |q: FactQuery| Queries {
            list: vec![q],
            shape: Shape::Single,
        };
        Ok(match &fact.source {
            FactSource::Get {
                resource,
                namespace,
                name: n,
            } => {
                let ns = opt_text(self, scope, namespace)?;
                let object = text(self, scope, n)?;
                if object.is_empty() {
                    // No object has an empty name: nothing to ask.
                    Queries {
                        list: Vec::new(),
                        shape: Shape::Computed(Json::Null),
                    }
                } else {
                    single(FactQuery::Get {
                        resource: resource.clone(),
                        namespace: ns.filter(|s| !s.is_empty()),
                        name: object,
                    })
                }
            }
            FactSource::List {
                resource,
                namespace,
                label_selector,
                field_selector,
            } => single(FactQuery::List {
                resource: resource.clone(),
                namespace: opt_text(self, scope, namespace)?.filter(|s| !s.is_empty()),
                label_selector: opt_text(self, scope, label_selector)?.filter(|s| !s.is_empty()),
                field_selector: opt_text(self, scope, field_selector)?.filter(|s| !s.is_empty()),
                fields: None,
            }),
            FactSource::Events(of) => {
                let objects = self.objects_of(scope, name, of)?;
                let list = objects
                    .iter()
                    .filter_map(|o| {
                        Some(FactQuery::Events {
                            object: ObjectRef {
                                kind: o.get("kind")?.as_str()?.to_string(),
                                namespace: o
                                    .pointer("/metadata/namespace")
                                    .and_then(Json::as_str)
                                    .map(str::to_string),
                                name: o.pointer("/metadata/name")?.as_str()?.to_string(),
                                uid: o
                                    .pointer("/metadata/uid")
                                    .and_then(Json::as_str)
                                    .map(str::to_string),
                            },
                        })
                    })
                    .collect();
                Queries {
                    list,
                    shape: Shape::Events,
                }
            }
            FactSource::Logs {
                of,
                container,
                previous,
                tail_lines,
            } => {
                let pods = self.objects_of(scope, name, of)?;
                let wanted = opt_text(self, scope, container)?;
                let mut list = Vec::new();
                for pod in &pods {
                    let (Some(ns), Some(pod_name)) = (
                        pod.pointer("/metadata/namespace").and_then(Json::as_str),
                        pod.pointer("/metadata/name").and_then(Json::as_str),
                    ) else {
                        continue;
                    };
                    let containers: Vec<String> = match &wanted {
                        Some(c) => vec![c.clone()],
                        None => pod
                            .pointer("/spec/containers")
                            .and_then(Json::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c.get("name")?.as_str().map(str::to_string))
                            .collect(),
                    };
                    for c in containers {
                        list.push(FactQuery::Logs {
                            namespace: ns.to_string(),
                            pod: pod_name.to_string(),
                            container: c,
                            previous: *previous,
                            tail_lines: *tail_lines,
                        });
                    }
                }
                Queries {
                    list,
                    shape: Shape::Logs,
                }
            }
            FactSource::Eks {
                call,
                name: n,
                principal_arn,
            } => {
                let n = opt_text(self, scope, n)?.unwrap_or_default();
                let arn = opt_text(self, scope, principal_arn)?.unwrap_or_default();
                single(FactQuery::Eks(match call {
                    EksCall::DescribeCluster => EksQuery::DescribeCluster,
                    EksCall::ListNodegroups => EksQuery::ListNodegroups,
                    EksCall::DescribeNodegroup => EksQuery::DescribeNodegroup { name: n },
                    EksCall::ListAddons => EksQuery::ListAddons,
                    EksCall::DescribeAddon => EksQuery::DescribeAddon { name: n },
                    EksCall::ListAccessEntries => EksQuery::ListAccessEntries,
                    EksCall::DescribeAccessEntry => {
                        EksQuery::DescribeAccessEntry { principal_arn: arn }
                    }
                    EksCall::ListPodIdentityAssociations => EksQuery::ListPodIdentityAssociations,
                }))
            }
            FactSource::Cloudwatch {
                log_group,
                stream_prefix,
                contains,
                since,
                limit,
            } => single(FactQuery::LogEvents(LogEventsQuery {
                log_group: text(self, scope, log_group)?,
                stream_prefix: opt_text(self, scope, stream_prefix)?,
                contains: opt_text(self, scope, contains)?,
                start_ms: since.map(|d| (self.env.now() - d).timestamp_millis()),
                limit: *limit,
            })),
            FactSource::Value(e) => match self.eval(scope, e) {
                Eval::Value(v) => Queries {
                    list: Vec::new(),
                    shape: Shape::Computed(cel_to_json(&v)),
                },
                Eval::Pending => return Err(Res::Pending),
                Eval::Unknown(f) => return Err(Res::Failed(f)),
                Eval::Error(msg) => return Err(fail(format!("cannot compute `{name}`: {msg}"))),
                Eval::Limit(msg) => {
                    return Err(failed(
                        format!("cannot compute `{name}`: {msg}"),
                        LIMIT_HINT,
                    ));
                }
            },
        })
    }

    /// An expression that names an object or a list of objects, as JSON objects.
    fn objects_of(
        &mut self,
        scope: &mut Scope,
        name: &str,
        e: &Expression,
    ) -> Result<Vec<Json>, Res> {
        match self.eval(scope, e) {
            Eval::Value(Value::List(items)) => Ok(items.iter().map(cel_to_json).collect()),
            Eval::Value(Value::Null) => Ok(Vec::new()),
            Eval::Value(v) => Ok(vec![cel_to_json(&v)]),
            Eval::Pending => Err(Res::Pending),
            Eval::Unknown(f) => Err(Res::Failed(f)),
            Eval::Error(msg) => Err(Res::Failed(vec![Fail {
                fact: name.to_string(),
                query: String::new(),
                error: FactError::unavailable(
                    format!("cannot tell which objects `{name}` is about: {msg}"),
                    "check the runbook's `of:` expression",
                ),
            }])),
            Eval::Limit(msg) => Err(Res::Failed(vec![Fail {
                fact: name.to_string(),
                query: String::new(),
                error: FactError::unavailable(
                    format!("cannot tell which objects `{name}` is about: {msg}"),
                    LIMIT_HINT,
                ),
            }])),
        }
    }
}

/// Notes which unbound names an evaluation reached for.
struct Spy<'n> {
    unbound: &'n BTreeSet<&'n str>,
    asked: Mutex<Vec<String>>,
}

impl VariableResolver for Spy<'_> {
    fn resolve(&self, name: &str) -> Option<Value> {
        if self.unbound.contains(name) {
            let mut asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
            if !asked.iter().any(|a| a == name) {
                asked.push(name.to_string());
            }
        }
        None
    }
}

/// `None` (no such field) is a known absence; `Some(None)` is still pending.
fn opt(v: Option<Option<Option<String>>>) -> Option<Option<String>> {
    match v {
        None => Some(None),
        Some(None) => None,
        Some(Some(s)) => Some(s),
    }
}

/// What an unknown part of a text reads as. The missing list says which fact, why, and
/// what would provide it.
pub const NOT_SEEN: &str = "(not seen)";

struct Rendered {
    text: String,
    /// Why parts of it could not be rendered (empty when it is whole).
    unknown: Vec<Fail>,
}

struct Queries {
    list: Vec<FactQuery>,
    shape: Shape,
}

enum Shape {
    Single,
    Events,
    Logs,
    Computed(Json),
}

/// The part of an EKS CLI response a runbook reads: the described object, or the list.
pub(crate) fn eks_inner(q: &EksQuery, response: &Json) -> Json {
    let key = match q {
        EksQuery::DescribeCluster => "cluster",
        EksQuery::ListNodegroups => "nodegroups",
        EksQuery::DescribeNodegroup { .. } => "nodegroup",
        EksQuery::ListAddons => "addons",
        EksQuery::DescribeAddon { .. } => "addon",
        EksQuery::ListAccessEntries => "accessEntries",
        EksQuery::DescribeAccessEntry { .. } => "accessEntry",
        EksQuery::ListPodIdentityAssociations => "associations",
    };
    response.get(key).cloned().unwrap_or(Json::Null)
}

/// Query parameters are plain text: a null becomes empty, not "none".
fn render_param(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        other => render(other),
    }
}

fn step_facts(rb: &Runbook, step: &Step) -> Vec<String> {
    let vars: BTreeSet<String> = match &step.kind {
        StepKind::Check { expr, .. } => expr.free_variables.clone(),
        StepKind::Switch { cases, .. } => cases
            .iter()
            .flat_map(|c| c.when.free_variables.iter().cloned())
            .collect(),
        StepKind::Ask {
            question, command, ..
        } => {
            let mut v = question.free_variables();
            if let Some(c) = command {
                v.extend(c.free_variables());
            }
            v
        }
        StepKind::Handover { target, .. } => target
            .as_ref()
            .map(Template::free_variables)
            .unwrap_or_default(),
    };
    vars.into_iter()
        .filter(|v| rb.facts.contains_key(v) || v == "target")
        .collect()
}

/// `fact: why` for each unknown fact.
fn unknown_reason(fails: &[Fail]) -> String {
    if fails.is_empty() {
        return "no reason recorded".into();
    }
    // One expression can reach for the same unknown fact twice; say it once.
    let mut seen = BTreeSet::new();
    fails
        .iter()
        .map(|f| format!("{}: {}", f.fact, f.error))
        .filter(|line| seen.insert(line.clone()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Severity {
    /// What a finding of this severity makes of a run.
    pub fn verdict(self) -> Verdict {
        match self {
            Severity::Critical => Verdict::Critical,
            Severity::Warning => Verdict::Warning,
            Severity::Info => Verdict::Clean,
        }
    }
}
