//! What a user passes to a walk, checked against the runbook before anything is read:
//! the answers to its questions and the form of its target. Pure; the messages say what
//! to type instead.

use super::Catalog;
use super::model::{Runbook, StepKind, TargetKind};
use crate::suggest::did_you_mean;
use crate::text::sanitize_line;
use std::collections::BTreeMap;

/// The answers of several walks given at once: those meant for `runbook` (its own
/// question steps, or `RUNBOOK/STEP` for a hand-over), checked as `run` checks them.
pub fn parse_answers_lenient(
    catalog: &Catalog,
    runbook: &Runbook,
    raw: &[String],
) -> Result<BTreeMap<String, String>, String> {
    let mine: Vec<String> = raw
        .iter()
        .filter(|a| {
            let step = a.split_once('=').map_or(a.as_str(), |(s, _)| s);
            step.contains('/') || runbook.steps.contains_key(step)
        })
        .cloned()
        .collect();
    parse_answers(catalog, runbook, &mine)
}

/// `--answer STEP=CHOICE` (or `RUNBOOK/STEP=CHOICE` for a hand-over) as answers, each
/// checked against the question steps and their choices.
pub fn parse_answers(
    catalog: &Catalog,
    runbook: &Runbook,
    raw: &[String],
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for a in raw {
        // The answer as typed, quoted in every message below.
        let quoted = sanitize_line(a);
        let Some((step, choice)) = a.split_once('=') else {
            return Err(format!("--answer `{quoted}` is not STEP=CHOICE"));
        };
        let (rb, step_id) = match step.split_once('/') {
            Some((rb_id, s)) => (catalog.get(rb_id).map(|r| r.as_ref()), s),
            None => (Some(runbook), step),
        };
        let Some(rb) = rb else {
            return Err(format!(
                "--answer `{quoted}`: no runbook `{}`",
                sanitize_line(step.split('/').next().unwrap_or_default())
            ));
        };
        let asks: Vec<&str> = rb
            .steps
            .values()
            .filter(|s| matches!(s.kind, StepKind::Ask { .. }))
            .map(|s| s.id.as_str())
            .collect();
        let Some(StepKind::Ask { choices, .. }) = rb.steps.get(step_id).map(|s| &s.kind) else {
            return Err(format!(
                "--answer `{quoted}`: `{}` is not a question step of {}{}; its questions are: {}",
                sanitize_line(step_id),
                rb.id,
                did_you_mean(step_id, &asks),
                asks.join(", ")
            ));
        };
        if !choices.iter().any(|c| c.id == choice) {
            let ids: Vec<&str> = choices.iter().map(|c| c.id.as_str()).collect();
            return Err(format!(
                "--answer `{quoted}`: `{}` is not a choice of `{step_id}`; choose one of: {}",
                sanitize_line(choice),
                ids.join(", ")
            ));
        }
        out.insert(step.to_string(), choice.to_string());
    }
    Ok(out)
}

/// A target given or not as the runbook wants it: present when required, absent for a
/// cluster-wide runbook, `NAME` for a cluster-scoped kind.
pub fn check_target_form(runbook: &Runbook, target: Option<&str>) -> Result<(), String> {
    match (target, &runbook.target.kind) {
        (None, _) if !runbook.target.optional => Err(format!(
            "runbook `{}` needs a {} target: --target {}",
            runbook.id,
            runbook.target.kind_name(),
            runbook.target.ref_form()
        )),
        (Some(t), TargetKind::Cluster) => Err(format!(
            "runbook `{}` is about the whole cluster; drop --target {}",
            runbook.id,
            sanitize_line(t)
        )),
        (
            Some(t),
            TargetKind::Kubernetes {
                namespaced: false, ..
            },
        ) if t.contains('/') => Err(format!(
            "{} is cluster-scoped: --target NAME, not {}",
            runbook.target.kind_name(),
            sanitize_line(t)
        )),
        _ => Ok(()),
    }
}

/// A target given as `NS/NAME` names its own namespace: `-n` naming another is a usage
/// error rather than a silent choice of one of them. Cluster-scoped kinds ignore `-n`,
/// as kubectl does.
pub fn check_target_namespace(
    runbook: &Runbook,
    target: Option<&str>,
    namespace: Option<&str>,
) -> Result<(), String> {
    let (Some(target), Some(ns)) = (target, namespace) else {
        return Ok(());
    };
    let TargetKind::Kubernetes {
        namespaced: true, ..
    } = runbook.target.kind
    else {
        return Ok(());
    };
    match target.split_once('/') {
        Some((own, name)) if own != ns => Err(format!(
            "--target {} is in namespace `{}` but -n says `{}`; give one: --target {}/{} or -n {} --target {}",
            sanitize_line(target),
            sanitize_line(own),
            sanitize_line(ns),
            sanitize_line(own),
            sanitize_line(name),
            sanitize_line(ns),
            sanitize_line(name)
        )),
        _ => Ok(()),
    }
}

/// A bare `NAME` of a namespaced kind as `NS/NAME` in `namespace` (`-n`, the context's,
/// or `default`); anything else as given.
pub fn qualify_target(runbook: &Runbook, target: &str, namespace: &str) -> String {
    match runbook.target.kind {
        TargetKind::Kubernetes {
            namespaced: true, ..
        } if !target.contains('/') => format!("{namespace}/{target}"),
        _ => target.to_string(),
    }
}
