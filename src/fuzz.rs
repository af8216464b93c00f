//! One reader of untrusted input per function, for the fuzz targets (`fuzz/`, cargo-fuzz
//! on nightly) and their bounded replay on stable (`tests/integration/fuzz.rs`): both drive the same
//! code, so a crash the fuzzer finds is a test input. Each function takes arbitrary bytes
//! and panics only when an invariant breaks; errors are the expected answer to most
//! inputs. What "hangs" and "too much memory" mean is the fuzzer's (a timeout and an RSS
//! limit per input), since no function here may take either on any input.

use crate::evidence::redact::{Profile, Redactor, Report, RuleSet};
use crate::runbook::cel::{Environment, Expression, json_to_cel};
use crate::serve::route;
use crate::source::selector::{FieldSelector, LabelSelector};
use crate::source::snapshot::Snapshot;
use chrono::{DateTime, Utc};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

fn assert_printable(what: &str, text: &str, keep_breaks: bool) {
    let kept = |c: char| keep_breaks && (c == '\n' || c == '\t');
    if let Some(c) = text
        .chars()
        .find(|&c| crate::text::is_unsafe(c) && !kept(c))
    {
        panic!("{what} carries {c:?} raw: {text:?}");
    }
}

/// Splits an input into the parts a target needs, at NUL bytes (so the corpus stays
/// readable text and the fuzzer can still move the boundaries).
fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == 0).collect();
    out.resize(n, &[]);
    out
}

/// Where a file of the snapshot goes, by the input's first byte: every kind of file
/// the reader tells apart.
const SNAPSHOT_PLACES: &[&str] = &[
    "k8s/objects.yaml",
    "k8s/objects.json",
    "k8s/shop/pods.yaml",
    "logs/shop/web-1/web.log",
    "logs/shop/web-1/web.previous.log",
    "aws/eks/describe-cluster.json",
    "aws/eks/list-nodegroups.json",
    "aws/logs/filter-log-events.json",
    "snapshot.yaml",
];

/// The snapshot reader over files in memory: up to four files, each placed by its
/// first byte. Whatever it reads, every object it lists is JSON again.
pub fn snapshot(data: &[u8]) {
    let files: Vec<(String, Vec<u8>)> = parts(data, 4)
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            let place = SNAPSHOT_PLACES[usize::from(p[0]) % SNAPSHOT_PLACES.len()];
            (place.to_string(), p[1..].to_vec())
        })
        .collect();
    match Snapshot::from_files("fuzz", files) {
        Ok(snapshot) => {
            for kind in snapshot.kinds() {
                if let Ok(objects) = snapshot.list_json(&kind, None, None, None) {
                    for o in objects {
                        let parsed = serde_json::from_str::<serde_json::Value>(&o);
                        assert!(
                            parsed.is_ok_and(|v| v.is_object()),
                            "{kind:?} listed what is not a JSON object: {o}"
                        );
                    }
                }
            }
        }
        // Raw input may be quoted in the message: the terminal boundary sanitises it.
        Err(e) => drop(e.to_string()),
    }
}

/// The archive reader (`.tar.gz` or `.tar`) on a file holding the input (the reader
/// takes a path, as a user gives it one).
pub fn archive(data: &[u8]) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "ktriage-fuzz-{}-{}.tar.gz",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let opened = Snapshot::open(&path);
    let _ = std::fs::remove_file(&path);
    if let Err(e) = opened {
        drop(e.to_string());
    }
}

/// The runbook loader on a user's runbook file.
pub fn runbook(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) = crate::runbook::compile::parse("fuzz.yaml", &text, false) {
        assert!(!errors.is_empty(), "a failed load names at least one error");
        for e in errors {
            assert!(e.line >= 1 && e.column >= 1, "positions are 1-based: {e:?}");
        }
    }
}

static CEL: LazyLock<Environment> = LazyLock::new(|| {
    let now: DateTime<Utc> = "2026-11-20T03:12:44Z"
        .parse()
        .expect("a valid literal time");
    Environment::new(now)
});

/// A CEL expression (before the first NUL) compiled and evaluated with `object` bound
/// to the YAML or JSON after it, as runbook facts are.
pub fn cel(data: &[u8]) {
    let [source, object] = parts(data, 2)[..] else {
        unreachable!("parts pads to the count asked")
    };
    let source = String::from_utf8_lossy(source);
    let Ok(expression) = Expression::compile(&source) else {
        return;
    };
    let object = serde_saphyr::from_str::<serde_json::Value>(&String::from_utf8_lossy(object))
        .unwrap_or(serde_json::Value::Null);
    let mut ctx = CEL.root().new_inner_scope();
    ctx.add_variable_from_value("object", json_to_cel(&object));
    let _ = expression.eval(&ctx);
}

/// What `serve` reads off a request before answering it: the path's route, the query's
/// parameters and the selectors in them.
pub fn request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (&*text, None),
    };
    let _ = route::parse(path);
    let params = route::Params::parse(query);
    if let Some(labels) = params.get("labelSelector") {
        let _ = LabelSelector::parse(labels);
    }
    if let Some(fields) = params.get("fieldSelector") {
        let _ = FieldSelector::parse(fields);
    }
    let _ = params.is_watch();
}

static REDACTOR: LazyLock<Redactor> =
    LazyLock::new(|| Redactor::new(&RuleSet::builtin(), Profile::default()));

/// The redactor on a log text and, when the input is JSON, on it as an object: nothing
/// it leaves is redactable again, so no secret survives by hiding behind a redaction.
pub fn redact(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut report = Report::default();
    let once = REDACTOR.text(&text, "logs/fuzz.log", &mut report);
    let mut again = Report::default();
    let twice = REDACTOR.text(&once, "logs/fuzz.log", &mut again);
    assert_eq!(once, twice, "redacting twice redacted more: {text:?}");
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(data) {
        let mut report = Report::default();
        REDACTOR.json(&mut value, "k8s/fuzz.json", &mut report);
        let once = value.clone();
        let mut again = Report::default();
        REDACTOR.json(&mut value, "k8s/fuzz.json", &mut again);
        assert_eq!(once, value, "redacting twice redacted more: {text:?}");
    }
    let clean = crate::text::sanitize(&text);
    assert_printable("sanitised text", &clean, true);
    assert_eq!(
        crate::text::sanitize(&clean),
        clean,
        "sanitising is idempotent"
    );
    assert_printable(
        "a sanitised line",
        &crate::text::sanitize_line(&text),
        false,
    );
}

/// A fuzz target: arbitrary bytes in, a panic only when an invariant breaks.
pub type Target = fn(&[u8]);

/// The targets by name, for the replay and for `fuzz/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("snapshot", snapshot),
    ("archive", archive),
    ("runbook", runbook),
    ("cel", cel),
    ("request", request),
    ("redact", redact),
];
