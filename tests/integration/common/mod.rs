//! What several test files share: the runbook test cases, read from `runbooks/*.tests.yaml`.
#![allow(dead_code)]

pub mod secrets;

use serde_json::Value;
use std::path::{Path, PathBuf};

pub struct Case {
    pub runbook: String,
    pub name: String,
    pub snapshot: PathBuf,
    pub target: Option<String>,
    pub answers: Vec<String>,
    pub code: Option<String>,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every case of every `runbooks/*.tests.yaml`.
pub fn cases() -> Vec<Case> {
    let dir = root().join("runbooks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tests.yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let runbook = doc["runbook"].as_str().unwrap().to_string();
        for c in doc["cases"].as_array().unwrap() {
            out.push(Case {
                runbook: runbook.clone(),
                name: c["name"].as_str().unwrap().to_string(),
                snapshot: dir.join(c["snapshot"].as_str().unwrap()),
                target: c["target"].as_str().map(str::to_string),
                answers: c["answers"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                    .collect(),
                code: c["expect"]["code"].as_str().map(str::to_string),
            });
        }
    }
    out
}

impl Case {
    /// `--target` and `--answer` flags of `ktriage run`.
    pub fn flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(t) = &self.target {
            flags.extend(["--target".to_string(), t.clone()]);
        }
        for a in &self.answers {
            flags.extend(["--answer".to_string(), a.clone()]);
        }
        flags
    }
}

/// A copy of a snapshot directory without the entries named `skip` (at any depth).
pub fn copy_dir(from: &Path, to: &Path, skip: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == skip {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest, skip);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Kinds whose objects a cluster-info dump never holds: a walk that needed one may stop
/// or route on, and must say so.
pub const NOT_IN_A_DUMP: &[&str] = &[
    "NetworkPolicy",
    "EndpointSlice",
    "Endpoints",
    "PodDisruptionBudget",
    "Namespace",
    "ConfigMap",
    "PriorityClass",
    "NodeClaim",
    "previous",
];

/// Whether a walk over a cluster-info dump may differ from the walk over the snapshot it
/// came from: only where it lacked what a dump cannot hold, and says so.
pub fn names_what_a_dump_lacks(dumped: &Value) -> bool {
    let missing = dumped["missing"].to_string();
    let path_unknowns = dumped["path"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["outcome"] == "unknown")
        .map(|s| s["reason"].to_string())
        .collect::<Vec<_>>()
        .join(" ");
    NOT_IN_A_DUMP
        .iter()
        .any(|k| missing.contains(k) || path_unknowns.contains(k))
}

/// One `ktriage` command in-process (the binary's own parsing and code path), its exit
/// code, stdout and stderr.
pub async fn ktriage(
    catalog: &ktriage::runbook::Catalog,
    args: &[String],
) -> (i32, String, String) {
    let cli = ktriage::cli::try_parse_from(
        std::iter::once("ktriage".to_string()).chain(args.iter().cloned()),
    )
    .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = ktriage::cmd::execute_with(
        catalog,
        &ktriage::config::Settings::builtin(),
        cli,
        &mut ktriage::cmd::Io {
            out: &mut out,
            err: &mut err,
        },
    )
    .await;
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}
