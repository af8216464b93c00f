//! An evidence bundle's files: a snapshot of what the walks read (so the bundle reopens,
//! re-runs and serves like any snapshot), the walk records and the exact runbooks they
//! walked, the engineer's notes, a postmortem report, and what failed, was cut or was
//! redacted — everything redacted before it is written, and hashed in the manifest.

use super::casefile::{CaseWalk, Note};
use super::redact::{Redactor, Report as Redactions};
use super::report::{self, Format};
use crate::drive::collect::{Capture, CollectError, Collected};
use crate::facts::EksQuery;
use crate::facts::SourceInfo;
use crate::runbook::Catalog;
use crate::runbook::record::Status;
use crate::text::sanitize;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The bundle layout's version, in `manifest.json`.
pub const SCHEMA_VERSION: u32 = 1;

pub struct Input<'a> {
    pub info: &'a SourceInfo,
    pub catalog: &'a Catalog,
    pub walks: &'a [CaseWalk],
    pub notes: &'a [Note],
    pub collected: Collected,
    /// "Now" of the walks: the bundle's snapshot is captured as of then, so ages and
    /// windows are judged the same when it is reopened.
    pub now: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub redactor: &'a Redactor,
}

/// The top folder (`ktriage-prod-eu-20261120T031244Z`) and every file under it.
pub struct Files {
    pub top: String,
    pub files: BTreeMap<String, Vec<u8>>,
    pub errors: usize,
    pub redactions: usize,
}

fn pretty(v: &impl Serialize) -> Vec<u8> {
    let mut bytes = crate::text::to_json_vec_pretty(v);
    bytes.push(b'\n');
    bytes
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A path segment from cluster data: no separators, no dot-only names.
fn segment(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        format!("_{cleaned}")
    } else {
        cleaned
    }
}

fn kind_label(kind: &crate::facts::GroupKind) -> String {
    if kind.group.is_empty() {
        kind.kind.clone()
    } else {
        format!("{}.{}", kind.kind, kind.group)
    }
}

/// The bundle's top folder, and its file name less `.tar.gz`: `ktriage-prod-eu-20261120T031244Z`.
pub fn top_name(info: &SourceInfo, at: DateTime<Utc>) -> String {
    let name = info
        .cluster
        .as_ref()
        .map(|c| c.name.as_str())
        .or(info.context.as_deref())
        .unwrap_or("cluster");
    format!("ktriage-{}-{}", segment(name), at.format("%Y%m%dT%H%M%SZ"))
}

pub fn files(input: Input<'_>) -> Files {
    let Input {
        info,
        catalog,
        walks,
        notes,
        collected,
        now,
        started,
        finished,
        redactor,
    } = input;
    let top = top_name(info, finished);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut redactions = Redactions::default();
    let Collected {
        lists,
        logs,
        eks,
        log_events,
        errors,
    } = collected;

    // The snapshot: one typed list per capture, and where each kind was captured.
    let mut captured: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (Capture { kind, namespace }, items) in lists {
        let path = format!(
            "k8s/{}/{}.json",
            namespace.as_deref().map_or("_all".to_string(), segment),
            segment(&kind_label(&kind))
        );
        let api_version = items
            .first()
            .and_then(|i| i.get("apiVersion"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| crate::facts::kinds::by_group_kind(&kind).map(|k| k.api_version()))
            .unwrap_or_else(|| "v1".into());
        let mut list = json!({
            "apiVersion": api_version,
            "kind": format!("{}List", kind.kind),
            "items": items,
        });
        redactor.json(&mut list, &path, &mut redactions);
        files.insert(path, pretty(&list));
        captured
            .entry(kind_label(&kind))
            .or_default()
            .push(namespace.unwrap_or_else(|| "*".into()));
    }
    for (log, text) in logs {
        let path = format!(
            "logs/{}/{}/{}{}.log",
            segment(&log.namespace),
            segment(&log.pod),
            segment(&log.container),
            if log.previous { ".previous" } else { "" }
        );
        let text = redactor.text(&text, &path, &mut redactions);
        files.insert(path, text.into_bytes());
    }
    for (query, mut response) in eks {
        let name = match &query {
            EksQuery::DescribeCluster => "describe-cluster".to_string(),
            EksQuery::ListNodegroups => "list-nodegroups".into(),
            EksQuery::DescribeNodegroup { name } => format!("describe-nodegroup-{}", segment(name)),
            EksQuery::ListAddons => "list-addons".into(),
            EksQuery::DescribeAddon { name } => format!("describe-addon-{}", segment(name)),
            EksQuery::ListAccessEntries => "list-access-entries".into(),
            EksQuery::DescribeAccessEntry { principal_arn } => {
                format!("describe-access-entry-{}", segment(principal_arn))
            }
            EksQuery::ListPodIdentityAssociations => "list-pod-identity-associations".into(),
        };
        let path = format!("aws/eks/{name}.json");
        redactor.json(&mut response, &path, &mut redactions);
        files.insert(path, pretty(&response));
    }
    for (group, events) in log_events {
        let path = format!("aws/logs/{}.json", segment(group.trim_start_matches('/')));
        let mut response = json!({"logGroupName": group, "events": events});
        redactor.json(&mut response, &path, &mut redactions);
        files.insert(path, pretty(&response));
    }
    let mut snapshot = json!({
        "kind": "ktriage-snapshot",
        "version": 1,
        "capturedAt": stamp(now),
        "context": info.context,
        "cluster": info.cluster.as_ref().map(|c| json!({"name": c.name, "region": c.region})),
        "source": "ktriage-bundle",
        "captured": captured,
    });
    redactor.json(&mut snapshot, "snapshot.yaml", &mut redactions);
    files.insert(
        "snapshot.yaml".into(),
        format!(
            "# An evidence bundle's snapshot: `ktriage open`, `ktriage run --snapshot` and `ktriage serve` read it.\n{}",
            serde_saphyr::to_string(&snapshot).unwrap_or_default()
        )
        .into_bytes(),
    );

    // The walks, with the exact runbooks they walked.
    let mut runbook_hashes: BTreeMap<String, String> = BTreeMap::new();
    for (i, walk) in walks.iter().enumerate() {
        let path = format!("walks/{}-{}.json", i + 1, segment(&walk.record.runbook));
        let runbook = catalog.get(&walk.record.runbook);
        if let Some(rb) = runbook {
            let text = rb.origin.text.as_bytes().to_vec();
            let hash = super::archive::sha256_hex(&text);
            runbook_hashes.insert(rb.id.clone(), hash);
            files.insert(format!("runbooks/{}.yaml", segment(&rb.id)), text);
        }
        let mut doc = json!({
            "runbook": walk.record.runbook,
            "runbookSha256": runbook_hashes.get(&walk.record.runbook),
            "target": walk.record.target,
            "answers": walk.answers,
            "record": walk.record,
        });
        redactor.json(&mut doc, &path, &mut redactions);
        files.insert(path, pretty(&doc));
    }

    let mut notes_md = String::from("# Notes\n\n");
    if notes.is_empty() {
        notes_md.push_str("No notes were written.\n");
    }
    for n in notes {
        let _ = writeln!(
            notes_md,
            "- **{}**{} — {}",
            stamp(n.at),
            n.written_on()
                .map(|c| format!(" ({})", sanitize(c)))
                .unwrap_or_default(),
            sanitize(&n.text).replace('\n', "\n  ")
        );
    }
    let notes_md = redactor.text(&notes_md, "notes.md", &mut redactions);
    files.insert("notes.md".into(), notes_md.into_bytes());

    // Written from the records as walked, then redacted as text like every other file.
    let report = postmortem(info, &top, walks, notes, &errors, started, finished);
    let report = redactor.text(&report, "report.md", &mut redactions);
    files.insert("report.md".into(), report.into_bytes());

    let error_count = errors.len();
    // The source's read problems beside what collection could not get: a bundle made
    // from a partly unreadable snapshot says so in the same file.
    // Failures quote what failed: a request's URL, a server's message.
    let mut problems = json!({"errors": errors, "warnings": info.problems});
    redactor.json(&mut problems, "errors.json", &mut redactions);
    files.insert("errors.json".into(), pretty(&problems));
    // A live source is described by its server's URL, which may carry credentials.
    let mut source = json!({
        "description": info.description,
        "live": info.live,
        "context": info.context,
    });
    redactor.json(&mut source, super::archive::MANIFEST, &mut redactions);
    let redaction_count = redactions.len();
    files.insert(
        "redactions.json".into(),
        pretty(&redactions.to_json(redactor)),
    );

    let hashes = super::archive::file_hashes(&files);
    let manifest = json!({
        "tool": "ktriage",
        "toolVersion": env!("CARGO_PKG_VERSION"),
        "schemaVersion": SCHEMA_VERSION,
        "source": source,
        "cluster": info.cluster.as_ref().map(|c| json!({"name": c.name, "region": c.region})),
        "captureStart": stamp(started),
        "captureEnd": stamp(finished),
        "asOf": stamp(now),
        "redaction": redactor.profile_json(),
        "runbooks": runbook_hashes,
        "files": hashes,
    });
    files.insert(super::archive::MANIFEST.into(), pretty(&manifest));
    Files {
        top,
        files,
        errors: error_count,
        redactions: redaction_count,
    }
}

/// `report.md`: what was checked, in order and with times; what was concluded, on what
/// evidence; what stays unknown and why; what to do.
fn postmortem(
    info: &SourceInfo,
    top: &str,
    walks: &[CaseWalk],
    notes: &[Note],
    errors: &[CollectError],
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let cluster = info
        .cluster
        .as_ref()
        .map(|c| match &c.region {
            Some(r) => format!("{} ({r})", c.name),
            None => c.name.clone(),
        })
        .or_else(|| info.context.clone())
        .unwrap_or_else(|| "the cluster".into());
    let _ = writeln!(out, "# Evidence: {}\n", sanitize(&cluster));
    let _ = writeln!(
        out,
        "Collected by ktriage {} from {} between {} and {} (UTC). Reopen with `ktriage open {top}.tar.gz`; \
re-run a walk with `ktriage run RUNBOOK --snapshot {top}.tar.gz`.\n",
        env!("CARGO_PKG_VERSION"),
        sanitize(&info.description),
        stamp(started),
        stamp(finished)
    );

    let _ = writeln!(out, "## Findings\n");
    if walks.is_empty() {
        let _ = writeln!(
            out,
            "No runbook was walked; the bundle holds the baseline only.\n"
        );
    } else {
        let _ = writeln!(out, "| # | runbook | target | result |\n|---|---|---|---|");
        for (i, w) in walks.iter().map(|w| &w.record).enumerate() {
            let result = match (&w.status, &w.conclusion) {
                (Status::Concluded, Some(c)) => {
                    format!("`{}` ({}): {}", c.code, c.severity, c.title)
                }
                (Status::NeedsInput, _) => "waiting for an answer".into(),
                _ => "inconclusive".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                i + 1,
                w.runbook,
                sanitize(w.target.as_deref().unwrap_or("cluster")).replace('|', "\\|"),
                sanitize(&result).replace('|', "\\|")
            );
        }
        out.push('\n');
    }

    // One timeline of walks and notes, by time.
    let mut timeline: Vec<(String, String)> = Vec::new();
    for (i, w) in walks.iter().map(|w| &w.record).enumerate() {
        if let Some(t) = &w.timing {
            let ended = match &w.conclusion {
                Some(c) => format!("concluded `{}`", c.code),
                None => "ended without a conclusion".into(),
            };
            timeline.push((
                t.started_at.clone(),
                format!(
                    "walk {} `{}` on `{}`: {} step(s) checked, {ended}",
                    i + 1,
                    w.runbook,
                    sanitize(w.target.as_deref().unwrap_or("cluster")),
                    w.path.len()
                ),
            ));
        }
    }
    for n in notes {
        timeline.push((
            n.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            format!("note: {}", sanitize(&n.text).replace('\n', " ")),
        ));
    }
    timeline.push((
        finished.to_rfc3339_opts(SecondsFormat::Millis, true),
        format!("bundle written ({} collection problem(s))", errors.len()),
    ));
    timeline.sort();
    let _ = writeln!(out, "## Timeline (UTC)\n");
    for (at, what) in &timeline {
        let _ = writeln!(out, "- `{}` {what}", at.get(..19).unwrap_or(at));
    }
    out.push('\n');

    let ctx = report::Context {
        source_flag: " --snapshot BUNDLE",
        warnings: &[],
    };
    for (i, w) in walks.iter().map(|w| &w.record).enumerate() {
        let _ = writeln!(out, "## Walk {}\n", i + 1);
        out.push_str(&report::walk(w, Format::Markdown, &ctx));
        out.push('\n');
    }

    let unknown: Vec<String> = walks
        .iter()
        .map(|w| &w.record)
        .flat_map(|w| {
            w.missing.iter().map(move |m| {
                format!(
                    "- `{}` › `{}`: {} — {}",
                    w.runbook,
                    m.fact,
                    sanitize(&m.reason),
                    sanitize(&m.hint)
                )
            })
        })
        .collect();
    let _ = writeln!(out, "## Still unknown\n");
    if unknown.is_empty() {
        let _ = writeln!(out, "Every fact the walks needed was seen.\n");
    } else {
        out.push_str(&unknown.join("\n"));
        out.push_str("\n\n");
    }
    let _ = writeln!(out, "## Collection problems\n");
    if errors.is_empty() {
        let _ = writeln!(out, "None: everything planned was collected whole.\n");
    } else {
        for e in errors {
            let _ = writeln!(
                out,
                "- **{}** `{}`: {} ({})",
                e.kind,
                sanitize(&e.what),
                sanitize(&e.reason),
                sanitize(&e.hint)
            );
        }
        out.push('\n');
    }
    out
}
