//! Never a cause that was not observed. Every runbook test case is walked again with one
//! kind of fact made unavailable at a time (every `get`, every `list`, the `get`s of one
//! resource kind, every `eks` call of one operation, ...): the walk must conclude what it
//! concluded with everything readable, or stop unknown (inconclusive, or a question for
//! the human), never conclude another code. And no walk's conclusion or question carries
//! an unknown or a raw evaluation error inside its text.
//!
//! Only kinds the full walk asked for are blinded: the engine is deterministic and lazy,
//! so a walk that never asked for a kind reads the same answers with it blinded.

use crate::common::{Case, cases, root};
use ktriage::drive::Session;
use ktriage::facts::{Answer, BoxFuture, Source, SourceInfo};
use ktriage::facts::{EksQuery, FactError, FactQuery};
use ktriage::runbook::record::{Status, WalkRecord};
use ktriage::runbook::{Catalog, catalog};
use ktriage::source::snapshot::Snapshot;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The reason every blinded answer gives. It must never reach a summary, remediation or
/// command: if it does, the engine put an unknown inside text.
const BLINDED: &str = "made unavailable for this test";

/// What a rendered conclusion or question must never contain: the engine's old inline
/// form of an unknown, and the interpreter's own error messages.
const RAW: &[&str] = &[
    "unknown (",
    BLINDED,
    "No such key",
    "could not evaluate",
    "cannot compute",
    "Undeclared reference",
    "No such overload",
    "Unsupported binary operator",
    "Unsupported unary operator",
    "Unexpected type: got",
    "Index out of bounds",
    "Error executing function",
];

/// The kinds a query belongs to, from coarse to fine: the source kind alone (every
/// `list`), every AWS call (a snapshot without `aws/`, a session without credentials), the
/// source kind with what it is about (`list Pod`, `eks describe-nodegroup`, `logs
/// previous`), and that in one namespace (a bundle that captured some namespaces only).
fn kinds(q: &FactQuery) -> Vec<String> {
    let in_ns = |what: String, ns: Option<&str>| match ns {
        Some(ns) if !ns.is_empty() => vec![format!("{what} in {ns}")],
        _ => Vec::new(),
    };
    let mut kinds = match q {
        FactQuery::Get {
            resource,
            namespace,
            ..
        } => {
            let mut k = vec!["get".to_string(), format!("get {resource}")];
            k.extend(in_ns(format!("get {resource}"), namespace.as_deref()));
            k
        }
        FactQuery::List {
            resource,
            namespace,
            ..
        } => {
            let mut k = vec!["list".to_string(), format!("list {resource}")];
            k.extend(in_ns(format!("list {resource}"), namespace.as_deref()));
            k
        }
        FactQuery::Events { object } => {
            let mut k = vec!["events".to_string(), format!("events {}", object.kind)];
            k.extend(in_ns("events".into(), object.namespace.as_deref()));
            k
        }
        FactQuery::Logs {
            previous,
            namespace,
            ..
        } => {
            let which = if *previous { "previous" } else { "current" };
            let mut k = vec!["logs".to_string(), format!("logs {which}")];
            k.extend(in_ns("logs".into(), Some(namespace)));
            k
        }
        FactQuery::Eks(e) => vec!["eks".into(), format!("eks {}", eks_op(e))],
        FactQuery::LogEvents(l) => vec![
            "cloudwatch".into(),
            format!(
                "cloudwatch {} {}",
                l.log_group,
                l.stream_prefix.as_deref().unwrap_or("")
            ),
        ],
    };
    if q.is_aws() {
        kinds.push("aws".into());
    }
    kinds
}

fn eks_op(e: &EksQuery) -> &'static str {
    match e {
        EksQuery::DescribeCluster => "describe-cluster",
        EksQuery::ListNodegroups => "list-nodegroups",
        EksQuery::DescribeNodegroup { .. } => "describe-nodegroup",
        EksQuery::ListAddons => "list-addons",
        EksQuery::DescribeAddon { .. } => "describe-addon",
        EksQuery::ListAccessEntries => "list-access-entries",
        EksQuery::DescribeAccessEntry { .. } => "describe-access-entry",
        EksQuery::ListPodIdentityAssociations => "list-pod-identity-associations",
    }
}

/// A snapshot that answers one kind of query as unavailable, as a snapshot that did not
/// capture it (or a cluster that refused it) would.
struct Blinded {
    inner: Arc<Snapshot>,
    kind: String,
}

impl Source for Blinded {
    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }

    fn fetch<'a>(&'a self, query: &'a FactQuery) -> BoxFuture<'a, Result<Answer, FactError>> {
        if kinds(query).contains(&self.kind) {
            let error = FactError::unavailable(format!("{} {BLINDED}", self.kind), "none");
            return Box::pin(std::future::ready(Err(error)));
        }
        self.inner.fetch(query)
    }
}

fn answers(case: &Case) -> BTreeMap<String, String> {
    case.answers
        .iter()
        .map(|a| {
            let (step, choice) = a.split_once('=').expect("STEP=CHOICE");
            (step.to_string(), choice.to_string())
        })
        .collect()
}

/// Where a walk's text carries an unknown or a raw error, one line per place.
fn raw_text(record: &WalkRecord) -> Vec<String> {
    let mut texts: Vec<(&str, &str)> = Vec::new();
    if let Some(c) = &record.conclusion {
        texts.push(("title", &c.title));
        texts.push(("summary", &c.summary));
        texts.extend(c.remediation.iter().map(|r| ("remediation", r.as_str())));
        texts.extend(c.commands.iter().map(|r| ("command", r.run.as_str())));
        if let Some(t) = c.follow_up.as_ref().and_then(|f| f.target.as_deref()) {
            texts.push(("follow-up target", t));
        }
    }
    if let Some(q) = &record.question {
        texts.push(("question", &q.prompt));
        texts.extend(q.command.iter().map(|c| ("question command", c.as_str())));
        texts.extend(q.look_for.iter().map(|c| ("look for", c.as_str())));
    }
    let mut found: Vec<String> = texts
        .into_iter()
        .filter(|(_, t)| RAW.iter().any(|r| t.contains(r)))
        .map(|(what, t)| format!("{what}: {t}"))
        .collect();
    // Evidence may say that a quote is unknown, and why; never with the interpreter's words.
    if let Some(c) = &record.conclusion {
        for e in &c.evidence {
            for q in &e.quotes {
                if RAW.iter().filter(|r| **r != BLINDED).any(|r| q.contains(r)) {
                    found.push(format!("evidence {}: {q}", e.label));
                }
            }
        }
    }
    found
}

fn outcome(record: &WalkRecord) -> String {
    match (&record.status, &record.conclusion) {
        (Status::Concluded, Some(c)) => c.code.clone(),
        (Status::NeedsInput, _) => "needs-input".into(),
        _ => "inconclusive".into(),
    }
}

fn describe(record: &WalkRecord) -> String {
    let path: Vec<String> = record
        .path
        .iter()
        .map(|s| format!("{}:{:?}", s.step, s.outcome))
        .collect();
    let missing: Vec<String> = record
        .missing
        .iter()
        .map(|m| format!("{}: {}", m.fact, m.reason))
        .collect();
    format!(
        "path {}; missing [{}]",
        path.join(" → "),
        missing.join("; ")
    )
}

async fn walk(source: impl Source, catalog: &Catalog, case: &Case) -> (WalkRecord, Vec<FactQuery>) {
    let session = Session::new(source);
    let round = session.round(catalog);
    let runbook = catalog.get(&case.runbook).expect("runbook loaded");
    let record = round
        .walk(runbook, case.target.as_deref(), &answers(case))
        .await;
    (record, session.state.cache.sent())
}

/// The runbooks as they are on disk, so the test judges the files being edited.
fn runbooks() -> Catalog {
    let mut files =
        catalog::read_dir_files(&root().join("runbooks")).expect("runbooks directory readable");
    for f in &mut files {
        f.builtin = true;
    }
    let catalog = Catalog::from_files(files);
    assert!(
        catalog.errors.is_empty(),
        "runbooks must load: {:?}",
        catalog.errors
    );
    catalog
}

/// What walking one case and its blinded variants found.
#[derive(Default)]
struct Verdict {
    walks: usize,
    changed: usize,
    failures: Vec<String>,
}

async fn judge(case: Case, snapshot: Arc<Snapshot>, catalog: Arc<Catalog>) -> Verdict {
    let mut v = Verdict::default();
    let name = format!("{} / {}", case.runbook, case.name);
    let (full, sent) = walk(snapshot.clone(), &catalog, &case).await;
    v.walks += 1;
    let expected = outcome(&full);
    if let Some(code) = &case.code {
        assert_eq!(&expected, code, "{name}: the case itself must pass first");
    }
    for raw in raw_text(&full) {
        v.failures
            .push(format!("{name}: raw text with every fact readable: {raw}"));
    }
    let blind: BTreeSet<String> = sent.iter().flat_map(kinds).collect();
    for kind in blind {
        let source = Blinded {
            inner: snapshot.clone(),
            kind: kind.clone(),
        };
        let (record, _) = walk(source, &catalog, &case).await;
        v.walks += 1;
        let got = outcome(&record);
        if got != expected {
            v.changed += 1;
        }
        if record.status == Status::Concluded && got != expected {
            v.failures.push(format!(
                "{name}: with `{kind}` unavailable it concludes {got} instead of {expected} \
                 or unknown ({})",
                describe(&record)
            ));
        }
        for raw in raw_text(&record) {
            v.failures
                .push(format!("{name}: with `{kind}` unavailable, {raw}"));
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_walk_concludes_a_cause_from_facts_it_could_not_read() {
    let started = Instant::now();
    let catalog = Arc::new(runbooks());
    let mut snapshots: HashMap<PathBuf, Arc<Snapshot>> = HashMap::new();
    let all = cases();
    let count = all.len();
    assert!(count >= 100, "only {count} runbook cases found");
    // One task per case: the walks are CPU-bound and independent, so both workers share them.
    let mut tasks = Vec::new();
    for case in all {
        let snapshot = snapshots
            .entry(case.snapshot.clone())
            .or_insert_with(|| {
                Arc::new(Snapshot::open(&case.snapshot).unwrap_or_else(|e| {
                    panic!("{}: {e}", case.snapshot.display());
                }))
            })
            .clone();
        tasks.push(tokio::spawn(judge(case, snapshot, catalog.clone())));
    }
    let mut total = Verdict::default();
    for task in tasks {
        let v = task.await.expect("a case's walks panicked");
        total.walks += v.walks;
        total.changed += v.changed;
        total.failures.extend(v.failures);
    }
    let Verdict {
        walks,
        changed,
        failures,
    } = total;
    eprintln!(
        "{walks} walks over {count} cases in {:.1?}; {changed} blinded walks ended otherwise",
        started.elapsed()
    );
    // The blinding must bite, or the test proves nothing.
    assert!(
        changed > count,
        "only {changed} blinded walks ended differently: is the source blinded at all?"
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
