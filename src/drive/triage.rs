//! Triage: every runbook's symptom over the cluster, as ranked suggestions — critical
//! first, then the most recent, then the most widespread. Targets that share a
//! runbook's `groupBy` key are one suggestion with a count.

use super::Round;
use crate::facts::{FactError, FactLookup, FactQuery};
use crate::runbook::Runbook;
use crate::runbook::engine::{SymptomResult, eks_inner};
use crate::runbook::format::{Severity, SymptomScope};
use crate::runbook::model::TargetKind;
use crate::runbook::record::Verdict;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub runbook: String,
    pub title: String,
    /// `null` for cluster-wide runbooks.
    pub target: Option<String>,
    pub severity: Severity,
    pub reason: String,
    /// When the symptom was last seen.
    pub since: Option<DateTime<Utc>>,
    /// How many targets show it (1 unless grouped).
    pub count: usize,
    /// Every target of a grouped suggestion, most recent first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

/// A runbook whose symptom could not be evaluated, and why: shown, never hidden.
#[derive(Debug, Clone, Serialize)]
pub struct NotChecked {
    pub runbook: String,
    pub reason: String,
    /// What could not be seen, each said once and short: `cannot list pods (RBAC)`,
    /// `no Pod objects in this snapshot`.
    pub cannot_see: Vec<String>,
    /// The fact errors behind `cannot_see`.
    #[serde(skip)]
    pub errors: Vec<FactError>,
}

/// How much of the catalog triage could judge. Triage that could not decide a runbook's
/// symptom is not a clean bill of health, and says so first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Runbooks with a symptom: those triage evaluates.
    pub runbooks: usize,
    /// Of those, the ones whose symptom was decided on every candidate.
    pub checked: usize,
    /// Whether every symptom was decided (`checked == runbooks`).
    pub complete: bool,
    /// What could not be seen, each once, in the order met.
    pub cannot_see: Vec<String>,
    /// One line for a reader: `checked 1 of 4 runbooks; cannot list pods (RBAC)`.
    pub summary: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TriageReport {
    pub suggestions: Vec<Suggestion>,
    pub not_checked: Vec<NotChecked>,
    pub coverage: Coverage,
}

impl TriageReport {
    /// Critical or warning as the worst suggestion; otherwise inconclusive when a
    /// runbook's symptom could not be decided (what was not seen may be broken), else clean.
    pub fn verdict(&self) -> Verdict {
        let worst = self
            .suggestions
            .iter()
            .map(|s| s.severity)
            .max()
            .map_or(Verdict::Clean, Severity::verdict);
        match worst {
            Verdict::Clean if !self.not_checked.is_empty() => Verdict::Inconclusive,
            verdict => verdict,
        }
    }
}

impl Coverage {
    fn of(runbooks: usize, not_checked: &[NotChecked]) -> Coverage {
        let checked = runbooks.saturating_sub(not_checked.len());
        let errors: Vec<FactError> = not_checked
            .iter()
            .flat_map(|n| n.errors.iter().cloned())
            .collect();
        let mut cannot_see = phrases(&errors);
        // Runbooks that could not say why (no fact error behind it) still count.
        for n in not_checked.iter().filter(|n| n.errors.is_empty()) {
            for p in &n.cannot_see {
                if !cannot_see.contains(p) {
                    cannot_see.push(p.clone());
                }
            }
        }
        let mut summary = format!(
            "checked {checked} of {runbooks} runbook{}",
            if runbooks == 1 { "" } else { "s" }
        );
        const SHOWN: usize = 3;
        for phrase in cannot_see.iter().take(SHOWN) {
            summary.push_str("; ");
            summary.push_str(phrase);
        }
        if cannot_see.len() > SHOWN {
            summary.push_str(&format!(
                "; and {} more (see Not checked)",
                cannot_see.len() - SHOWN
            ));
        }
        Coverage {
            runbooks,
            checked,
            complete: not_checked.is_empty(),
            cannot_see,
            summary,
        }
    }
}

/// What `errors` say could not be seen, each once: refusals first (what a grant would
/// fix), a cluster-wide refusal standing for the same refusal in one namespace, then
/// what is unavailable, then what failed.
pub fn phrases(errors: &[FactError]) -> Vec<String> {
    let rank = |e: &FactError| match e {
        FactError::Forbidden {
            namespace: None, ..
        } => 0,
        FactError::Forbidden { .. } => 1,
        FactError::Unavailable { .. } => 2,
        FactError::Transient { .. } => 3,
    };
    let mut sorted: Vec<&FactError> = errors.iter().collect();
    sorted.sort_by_key(|e| rank(e));
    let cluster_wide = |verb: &str, resource: &str| {
        errors.iter().any(|e| {
            matches!(e, FactError::Forbidden { verb: v, resource: r, namespace: None, .. }
                if v == verb && r == resource)
        })
    };
    let mut out: Vec<String> = Vec::new();
    for e in sorted {
        if let FactError::Forbidden {
            verb,
            resource,
            namespace: Some(_),
            ..
        } = e
            && cluster_wide(verb, resource)
        {
            continue;
        }
        let phrase = cannot_see(e);
        if !out.contains(&phrase) {
            out.push(phrase);
        }
    }
    out
}

/// What a fact error says could not be seen, in a few words: `cannot list pods (RBAC)`,
/// `cannot call eks:DescribeCluster (IAM)`, or the reason it is unavailable or failing.
pub fn cannot_see(error: &FactError) -> String {
    match error {
        FactError::Forbidden {
            verb,
            resource,
            namespace,
            ..
        } => {
            let within = namespace
                .as_deref()
                .map_or(String::new(), |ns| format!(" in {ns}"));
            // The AWS source reports a refused API call as the verb `call`.
            let by = if verb == "call" { "IAM" } else { "RBAC" };
            format!("cannot {verb} {resource}{within} ({by})")
        }
        FactError::Unavailable { reason, .. } | FactError::Transient { reason, .. } => {
            reason.clone()
        }
    }
}

/// Why a runbook's candidates could not be listed.
#[derive(Debug, Clone)]
pub struct Unseen {
    /// The error and what would resolve it, for a message.
    pub reason: String,
    pub error: Option<FactError>,
}

impl std::fmt::Display for Unseen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl From<FactError> for Unseen {
    fn from(e: FactError) -> Unseen {
        Unseen {
            reason: format!("{e} ({})", e.hint()),
            error: Some(e),
        }
    }
}

/// One runbook's symptom over its candidates: the targets where it shows, and those
/// where it could not be decided (with why).
pub struct Scan {
    pub matched: Vec<(Option<String>, SymptomResult)>,
    pub undecided: Vec<(Option<String>, String)>,
    /// The fact errors behind `undecided`, each once.
    pub unseen: Vec<FactError>,
}

/// Evaluates `rb`'s symptom on every candidate; `Err` when the candidates themselves
/// could not be listed. A runbook without a symptom matches nothing.
pub async fn scan(round: &Round<'_>, rb: &Runbook) -> Result<Scan, Unseen> {
    let mut out = Scan {
        matched: Vec::new(),
        undecided: Vec::new(),
        unseen: Vec::new(),
    };
    let Some(symptom) = &rb.symptom else {
        return Ok(out);
    };
    let candidates = candidates(round, rb, symptom.scope).await?;
    let objects: Vec<Arc<Value>> = candidates.iter().map(|(_, v)| v.clone()).collect();
    let results = round.symptoms(rb, &objects).await;
    for ((target, _), result) in candidates.into_iter().zip(results) {
        match result {
            Some(r) if r.matched == Some(true) => out.matched.push((target, r)),
            Some(r) if r.matched == Some(false) => {}
            Some(r) => {
                for e in r.unknown {
                    if !out.unseen.contains(&e) {
                        out.unseen.push(e);
                    }
                }
                out.undecided.push((target, r.reason));
            }
            None => out
                .undecided
                .push((target, "its facts did not settle".into())),
        }
    }
    Ok(out)
}

pub async fn triage(round: &Round<'_>) -> TriageReport {
    let mut suggestions = Vec::new();
    let mut not_checked = Vec::new();
    let mut with_symptom = 0;
    for rb in round.catalog.iter() {
        let Some(symptom) = &rb.symptom else { continue };
        with_symptom += 1;
        let Scan {
            matched,
            undecided,
            unseen,
        } = match scan(round, rb).await {
            Ok(s) => s,
            Err(Unseen { reason, error }) => {
                not_checked.push(NotChecked {
                    runbook: rb.id.clone(),
                    cannot_see: match &error {
                        Some(e) => vec![cannot_see(e)],
                        None => vec![reason.clone()],
                    },
                    errors: error.into_iter().collect(),
                    reason,
                });
                continue;
            }
        };
        let mut groups: BTreeMap<String, Vec<(Option<String>, SymptomResult)>> = BTreeMap::new();
        for (target, r) in matched {
            let key = r
                .group
                .clone()
                .unwrap_or_else(|| target.clone().unwrap_or_default());
            groups.entry(key).or_default().push((target, r));
        }
        if let Some((first_target, first_reason)) = undecided.first() {
            let mut said = phrases(&unseen);
            if said.is_empty() {
                said.push(format!("the symptom of {} could not be decided", rb.id));
            }
            not_checked.push(NotChecked {
                runbook: rb.id.clone(),
                cannot_see: said,
                errors: unseen,
                reason: match first_target {
                    None => format!("the symptom could not be decided: {first_reason}"),
                    Some(t) => format!(
                        "the symptom could not be decided for {} target(s), e.g. {t}: {first_reason}",
                        undecided.len(),
                    ),
                },
            });
        }
        for (_, mut members) in groups {
            members.sort_by(|a, b| b.1.since.cmp(&a.1.since).then_with(|| a.0.cmp(&b.0)));
            let (target, first) = members[0].clone();
            let count = members.len();
            let mut reason = first.reason.clone();
            if count > 1 {
                reason.push_str(&format!(" (and {} more like it)", count - 1));
            }
            suggestions.push(Suggestion {
                runbook: rb.id.clone(),
                title: rb.title.clone(),
                target,
                severity: members
                    .iter()
                    .map(|(_, r)| r.severity.unwrap_or(symptom.severity))
                    .max()
                    .unwrap_or(symptom.severity),
                reason,
                since: first.since,
                count,
                also: if count > 1 {
                    members.iter().filter_map(|(t, _)| t.clone()).collect()
                } else {
                    Vec::new()
                },
            });
        }
    }
    suggestions.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.since.cmp(&a.since))
            .then_with(|| b.count.cmp(&a.count))
            .then_with(|| a.runbook.cmp(&b.runbook))
            .then_with(|| a.target.cmp(&b.target))
    });
    let coverage = Coverage::of(with_symptom, &not_checked);
    TriageReport {
        suggestions,
        not_checked,
        coverage,
    }
}

/// One object a runbook can be walked on, for a picker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetChoice {
    pub reference: String,
    /// Whether the runbook's symptom shows on it (`None`: could not be decided).
    pub matched: Option<bool>,
    /// The symptom's reason when it matched, or why it could not be decided.
    pub reason: String,
    pub since: Option<DateTime<Utc>>,
}

/// Every object of the runbook's target kind, those showing its symptom first (most
/// recent first), then undecided ones, then the rest by name.
pub async fn target_choices(round: &Round<'_>, rb: &Runbook) -> Result<Vec<TargetChoice>, String> {
    let listed = candidates(round, rb, SymptomScope::Each)
        .await
        .map_err(|u| u.reason)?;
    let objects: Vec<Arc<Value>> = listed.iter().map(|(_, v)| v.clone()).collect();
    // A cluster-wide symptom says nothing about one object.
    let per_target = rb
        .symptom
        .as_ref()
        .is_some_and(|s| s.scope == SymptomScope::Each);
    let results = if per_target {
        round.symptoms(rb, &objects).await
    } else {
        vec![None; objects.len()]
    };
    let mut out: Vec<TargetChoice> = listed
        .into_iter()
        .zip(results)
        .filter_map(|((reference, _), r)| {
            let reference = reference?;
            Some(match r {
                Some(r) => TargetChoice {
                    reference,
                    matched: r.matched,
                    reason: if r.matched == Some(false) {
                        String::new()
                    } else {
                        r.reason
                    },
                    since: r.since,
                },
                None => TargetChoice {
                    reference,
                    matched: if per_target { None } else { Some(false) },
                    reason: String::new(),
                    since: None,
                },
            })
        })
        .collect();
    let rank = |m: Option<bool>| match m {
        Some(true) => 0,
        None => 1,
        Some(false) => 2,
    };
    out.sort_by(|a, b| {
        rank(a.matched)
            .cmp(&rank(b.matched))
            .then_with(|| b.since.cmp(&a.since))
            .then_with(|| a.reference.cmp(&b.reference))
    });
    Ok(out)
}

/// The objects a runbook's symptom is evaluated on, with how a user names each.
async fn candidates(
    round: &Round<'_>,
    rb: &Runbook,
    scope: SymptomScope,
) -> Result<Vec<(Option<String>, Arc<Value>)>, Unseen> {
    if scope == SymptomScope::Cluster {
        return Ok(vec![(None, Arc::new(Value::Null))]);
    }
    match &rb.target.kind {
        TargetKind::Cluster => Ok(vec![(None, Arc::new(Value::Null))]),
        TargetKind::Kubernetes { .. } => {
            // Only what the symptom reads, plus how a suggestion names the object.
            let fields = rb.symptom_target_fields().map(|mut f| {
                f.0.push(vec!["metadata".into(), "name".into()]);
                f.0.push(vec!["metadata".into(), "namespace".into()]);
                f
            });
            let Some(q) = rb.target.list_query(fields) else {
                return Ok(Vec::new());
            };
            // Not kept in the round's cache: no walk asks for this projection, and keeping
            // it would hold a second copy of every object for the round.
            let items = match round.cache.fetch_once(round.source, &q).await {
                Ok(Value::Array(items)) => items,
                Ok(_) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            Ok(items
                .into_iter()
                .map(|o| (Some(rb.target.reference_of(&o)), Arc::new(o)))
                .collect())
        }
        TargetKind::EksNodegroup => {
            let Some(list_query) = rb.target.list_query(None) else {
                return Ok(Vec::new());
            };
            let names = rb.target.references(&*fetch(round, list_query).await?);
            let queries: Vec<FactQuery> = names
                .iter()
                .filter_map(|n| rb.target.get_query(n))
                .collect();
            round.cache.fetch_all(round.source, queries.clone()).await;
            let mut out = Vec::new();
            for (name, q) in names.into_iter().zip(queries) {
                if let (Some(Ok(v)), FactQuery::Eks(eks)) = (round.cache.lookup(&q), &q) {
                    out.push((Some(name), Arc::new(eks_inner(eks, &v))));
                }
            }
            Ok(out)
        }
    }
}

async fn fetch(round: &Round<'_>, q: FactQuery) -> Result<Arc<Value>, Unseen> {
    round.cache.fetch_all(round.source, vec![q.clone()]).await;
    match round.cache.lookup(&q) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(e.into()),
        None => Err(Unseen {
            reason: format!("no answer to `{q}`"),
            error: None,
        }),
    }
}
