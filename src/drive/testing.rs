//! Runbook tests: cases of (snapshot, target, answers) → expected status, code, path,
//! missing facts and quoted evidence, in `NAME.tests.yaml` beside the runbook. Run by
//! `ktriage runbooks test` and by `cargo test`. A runbook whose conclusions are not all
//! reached by some passing case fails too: untested branches are where bugs live.

use super::Session;
use crate::facts::Source;
use crate::runbook::catalog::RunbookFile;
use crate::runbook::format::TestFileDoc;
use crate::runbook::record::{Status, WalkRecord};
use crate::runbook::{Catalog, RunbookError, compile};
use crate::source::snapshot::Snapshot;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug)]
pub struct CaseResult {
    pub file: String,
    pub runbook: String,
    pub name: String,
    pub failures: Vec<String>,
    pub record: Option<WalkRecord>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct TestReport {
    pub cases: Vec<CaseResult>,
    /// (runbook, conclusion id, code) never reached by a passing case.
    pub uncovered: Vec<(String, String, String)>,
    pub errors: Vec<RunbookError>,
}

impl TestReport {
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
            && self.uncovered.is_empty()
            && self.cases.iter().all(CaseResult::passed)
            && !self.cases.is_empty()
    }
}

/// Test files under the given paths (directories are searched one level deep).
pub fn find_test_files(paths: &[PathBuf]) -> Result<Vec<RunbookFile>, RunbookError> {
    let mut found = Vec::new();
    for p in paths {
        let candidates: Vec<PathBuf> = if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| {
                    RunbookError::new(
                        &p.display().to_string(),
                        1,
                        1,
                        format!("cannot read: {e}"),
                        "check the path",
                    )
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".tests.yaml") || n.ends_with(".tests.yml"))
                })
                .collect();
            v.sort();
            v
        } else {
            vec![p.clone()]
        };
        for c in candidates {
            let text = std::fs::read_to_string(&c).map_err(|e| {
                RunbookError::new(
                    &c.display().to_string(),
                    1,
                    1,
                    format!("cannot read: {e}"),
                    "check the path",
                )
            })?;
            found.push(RunbookFile {
                path: c.display().to_string(),
                text,
                builtin: false,
            });
        }
    }
    Ok(found)
}

pub async fn run(catalog: &Catalog, files: &[RunbookFile]) -> TestReport {
    let mut report = TestReport::default();
    let mut snapshots: HashMap<PathBuf, Result<Arc<Snapshot>, String>> = HashMap::new();
    let mut reached: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tested: BTreeSet<String> = BTreeSet::new();
    for file in files {
        let doc: TestFileDoc = match serde_saphyr::from_str(&file.text) {
            Ok(d) => d,
            Err(e) => {
                report.errors.push(compile::yaml_error(&file.path, &e));
                continue;
            }
        };
        let Some(runbook) = catalog.get(&doc.runbook.value) else {
            report.errors.push(RunbookError::new(
                &file.path,
                doc.runbook.line,
                doc.runbook.column,
                format!("runbook `{}` is not loaded", doc.runbook.value),
                "check the id, or fix the runbook's own load errors first",
            ));
            continue;
        };
        tested.insert(runbook.id.clone());
        let base = Path::new(&file.path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for case in &doc.cases {
            let snapshot_path = base.join(&case.snapshot.value);
            let snapshot = snapshots
                .entry(snapshot_path.clone())
                .or_insert_with(|| {
                    Snapshot::open(&snapshot_path)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .clone();
            let mut result = CaseResult {
                file: file.path.clone(),
                runbook: runbook.id.clone(),
                name: case.name.value.clone(),
                failures: Vec::new(),
                record: None,
            };
            let snapshot = match snapshot {
                // A fixture must read cleanly, or a case could pass for the wrong reason.
                Ok(s) if !s.info().problems.is_empty() => {
                    for p in &s.info().problems {
                        result
                            .failures
                            .push(format!("snapshot {}: {p}", snapshot_path.display()));
                    }
                    report.cases.push(result);
                    continue;
                }
                Ok(s) => s,
                Err(e) => {
                    result.failures.push(format!(
                        "{}:{}:{}: cannot open snapshot: {e}",
                        file.path, case.snapshot.line, case.snapshot.column
                    ));
                    report.cases.push(result);
                    continue;
                }
            };
            // Each case starts from a fresh round over the shared snapshot.
            let session = Session::new(snapshot);
            let round = session.round(catalog);
            let answers: BTreeMap<String, String> = case
                .answers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let record = round.walk(runbook, case.target.as_deref(), &answers).await;
            result.failures = check(&case.expect, &record);
            if result.failures.is_empty()
                && let Some(c) = &record.conclusion
            {
                reached
                    .entry(c.runbook.clone())
                    .or_default()
                    .insert(c.id.clone());
            }
            result.record = Some(record);
            report.cases.push(result);
        }
    }
    for id in tested {
        let Some(rb) = catalog.get(&id) else { continue };
        let hit = reached.get(&id).cloned().unwrap_or_default();
        for c in rb.conclusions.values() {
            if !hit.contains(&c.id) {
                report
                    .uncovered
                    .push((id.clone(), c.id.clone(), c.code.clone()));
            }
        }
    }
    report
}

fn check(expect: &crate::runbook::format::ExpectDoc, record: &WalkRecord) -> Vec<String> {
    let mut failures = Vec::new();
    let status = match record.status {
        Status::Concluded => "concluded",
        Status::Inconclusive => "inconclusive",
        Status::NeedsInput => "needs-input",
    };
    let want_status = expect.status.clone().unwrap_or_else(|| {
        if expect.code.is_some() {
            "concluded".into()
        } else {
            "inconclusive".into()
        }
    });
    if status != want_status {
        failures.push(format!(
            "status: expected {want_status}, got {status}{}",
            describe(record)
        ));
    }
    let got_code = record.conclusion.as_ref().map(|c| c.code.as_str());
    if expect.code.as_deref() != got_code && (expect.code.is_some() || got_code.is_some()) {
        failures.push(format!(
            "code: expected {}, got {}{}",
            expect.code.as_deref().unwrap_or("none"),
            got_code.unwrap_or("none"),
            describe(record)
        ));
    }
    let steps: Vec<&str> = record.path.iter().map(|s| s.step.as_str()).collect();
    let mut at = 0;
    for want in &expect.path {
        match steps[at..].iter().position(|s| s == want) {
            Some(i) => at += i + 1,
            None => failures.push(format!(
                "path: step `{want}` not passed (in order); path was {}",
                steps.join(" → ")
            )),
        }
    }
    for m in &expect.missing {
        if !record.missing.iter().any(|x| &x.fact == m) {
            let got: Vec<&str> = record.missing.iter().map(|x| x.fact.as_str()).collect();
            failures.push(format!(
                "missing: expected fact `{m}` reported missing; missing were [{}]",
                got.join(", ")
            ));
        }
    }
    let text = record
        .conclusion
        .as_ref()
        .map(|c| {
            let mut t = format!("{}\n{}\n", c.title, c.summary);
            for e in &c.evidence {
                t.push_str(&e.quotes.join("\n"));
                t.push('\n');
            }
            t
        })
        .unwrap_or_default();
    for q in &expect.quotes {
        if !text.contains(q.as_str()) {
            failures.push(format!(
                "quotes: `{q}` not found in the conclusion's title, summary or evidence"
            ));
        }
    }
    if let Some(c) = &record.conclusion {
        let runs: Vec<&str> = c.commands.iter().map(|c| c.run.as_str()).collect();
        let steps: Vec<&str> = c.remediation.iter().map(String::as_str).collect();
        for (what, want, got) in [
            ("commands", &expect.commands, runs),
            ("remediation", &expect.remediation, steps),
        ] {
            if let Some(want) = want
                && (want.len() != got.len()
                    || want.iter().zip(&got).any(|(w, g)| !g.contains(w.as_str())))
            {
                failures.push(format!(
                    "{what}: expected {} in order containing [{}]; got:\n  {}",
                    want.len(),
                    want.join(" | "),
                    got.join("\n  ")
                ));
            }
        }
    }
    failures
}

fn describe(record: &WalkRecord) -> String {
    let last = record
        .path
        .last()
        .map(|s| format!(" (last step `{}`: {})", s.step, s.reason))
        .unwrap_or_default();
    let missing: Vec<String> = record
        .missing
        .iter()
        .map(|m| format!("{}: {}", m.fact, m.reason))
        .collect();
    if missing.is_empty() {
        last
    } else {
        format!("{last}; missing: {}", missing.join("; "))
    }
}

impl TestReport {
    /// What `ktriage runbooks test` prints: a line per case, what failed and why, what
    /// no case reaches, and the count.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for e in &self.errors {
            out.push_str(&format!("ERROR {e}\n"));
        }
        for c in &self.cases {
            let code = c
                .record
                .as_ref()
                .and_then(|r| r.conclusion.as_ref())
                .map(|c| c.code.as_str())
                .unwrap_or("-");
            if c.passed() {
                out.push_str(&format!("ok    {:<16} {:<44} {code}\n", c.runbook, c.name));
            } else {
                out.push_str(&format!(
                    "FAIL  {:<16} {} ({})\n",
                    c.runbook, c.name, c.file
                ));
                for f in &c.failures {
                    out.push_str(&format!("        {f}\n"));
                }
            }
        }
        for (rb, id, code) in &self.uncovered {
            out.push_str(&format!(
                "FAIL  {rb}: conclusion `{id}` ({code}) is reached by no passing case\n"
            ));
        }
        let passed = self.cases.iter().filter(|c| c.passed()).count();
        out.push_str(&format!(
            "\n{passed} of {} cases passed; {} conclusion(s) uncovered\n",
            self.cases.len(),
            self.uncovered.len()
        ));
        out
    }
}
