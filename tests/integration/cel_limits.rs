//! Hostile CEL and hostile YAML (issue 15, classes 1 and 3): every evaluation ends, in
//! bounded memory, with a value or an error that says which limit it reached and where
//! the expression is written; whatever can be refused without data is refused at load.
//!
//! Each test runs its work on a thread with a tokio worker's 2 MiB stack and waits for it
//! with a generous bound: a test that hits the bound failed because the work hangs, not
//! because a machine was slow.

use chrono::TimeZone;
use ktriage::drive::testing;
use ktriage::facts::{FactError, FactLookup, FactQuery, FactResult, GroupKind};
use ktriage::runbook::Catalog;
use ktriage::runbook::catalog::RunbookFile;
use ktriage::runbook::cel::{Environment, Expression, json_to_cel, with_parser_stack};
use ktriage::runbook::engine::{self, Progress, WalkInput};
use ktriage::runbook::record::{Status, WalkRecord};
use kube_cel::cel::Value;
use serde_json::{Value as Json, json};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

/// Far above what any of this takes when bounded (well under a second each); the work
/// these tests guard against takes minutes, or forever.
const HANG: Duration = Duration::from_secs(120);

/// `f`'s result, on a thread with a tokio worker's stack; fails the test if `f` panics,
/// overflows that stack or is still running after [`HANG`].
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("thread starts");
    match rx.recv_timeout(HANG) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still running after {HANG:?}: the evaluation hangs")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the evaluation panicked"),
    }
}

fn env() -> Environment {
    Environment::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 3, 12, 44)
            .unwrap(),
    )
}

/// Compiles as the loader does (on the parser's stack).
fn compile(src: &str) -> Result<Expression, String> {
    let src = src.to_string();
    with_parser_stack(move || Expression::compile(&src))
        .expect("parser thread")
        .map_err(|e| format!("{}:{}: {}", e.line, e.column, e.message))
}

/// Compiles and evaluates `src` with `vars` bound, within [`bounded`].
fn eval(src: &str, vars: Vec<(&'static str, Json)>) -> Result<Value, String> {
    let e = compile(src).unwrap_or_else(|e| panic!("`{src}` should compile: {e}"));
    let what = format!("`{}`", src.chars().take(80).collect::<String>());
    bounded(&what, move || {
        let env = env();
        let mut ctx = env.root().new_inner_scope();
        for (name, v) in vars {
            ctx.add_variable_from_value(name, json_to_cel(&v));
        }
        e.eval(&ctx).map_err(|e| e.to_string())
    })
}

fn refused(src: &str) -> String {
    let what = format!("compiling `{}`", src.chars().take(60).collect::<String>());
    let src = src.to_string();
    bounded(&what, move || compile(&src))
        .err()
        .unwrap_or_else(|| panic!("should be refused at load"))
}

// ---- class 1: CEL ------------------------------------------------------------------------

#[test]
fn a_huge_format_precision_is_refused_not_a_panic() {
    let e = refused("'%.999999999f'.format([1.0])");
    assert!(e.contains("precision"), "{e}");
    // Where the format string comes from the data, evaluation refuses it before the
    // library tries to build a string that long.
    let e = eval("f.format([1.0])", vec![("f", json!("%.999999999f"))]).unwrap_err();
    assert!(
        e.contains("precision") && !e.contains("interpreter failed"),
        "{e}"
    );
    assert_eq!(
        eval("'%.3f'.format([1.0])", vec![]),
        Ok(Value::String(Arc::new("1.000".into())))
    );
}

#[test]
fn lists_range_with_a_huge_or_negative_count_is_an_error() {
    for src in [
        "lists.range(5000000000).size()",
        "lists.range(-1).size()",
        "lists.range(9223372036854775807).size() > 0",
    ] {
        let e = refused(src);
        assert!(e.contains("lists.range"), "{src}: {e}");
    }
    for n in [
        json!(1_i64 << 40),
        json!(i64::MAX),
        json!(-5),
        json!(i64::MIN),
    ] {
        let e = eval("lists.range(n).size()", vec![("n", n.clone())]).unwrap_err();
        assert!(
            e.contains("lists.range") && (e.contains("items") || e.contains("negative")),
            "{n}: {e}"
        );
    }
    assert_eq!(
        eval("lists.range(n).size()", vec![("n", json!(1000))]),
        Ok(Value::Int(1000))
    );
}

#[test]
fn deep_nesting_is_refused_at_load_in_every_position_and_the_rest_evaluates() {
    let deep = [
        ("a chain of +", format!("1{}", " + 1".repeat(5000))),
        ("a chain of -", format!("1{}", " - 1".repeat(5000))),
        ("a chain of ==", format!("x{}", " == x".repeat(3000))),
        (
            "chained conditionals",
            format!("{}1", "true ? 1 : ".repeat(200)),
        ),
        ("a chain of indexes", format!("x{}", "[0]".repeat(3000))),
        ("a chain of fields", format!("x{}", ".y".repeat(3000))),
        (
            "a chain of methods",
            format!("'a'{}", ".lowerAscii()".repeat(3000)),
        ),
        (
            "nested lists",
            format!("{}1{}", "[".repeat(3000), "]".repeat(3000)),
        ),
        (
            "nested maps",
            format!("{}1{}", "{'k': ".repeat(3000), "}".repeat(3000)),
        ),
        (
            "nested macros",
            format!("{}true{}", "[1].all(x, ".repeat(3000), ")".repeat(3000)),
        ),
        (
            "conditionals nested in brackets",
            format!("{}1{}", "(true ? 1 : ".repeat(60), ")".repeat(60)),
        ),
    ];
    for (what, src) in deep {
        let e = refused(&src);
        assert!(
            e.contains("nest") || e.contains("operators in a row"),
            "{what}: {e}"
        );
    }
    // A position inside the expression, where it goes too deep.
    let e = refused(&format!("{}1", "true ? 1 : ".repeat(200)));
    assert!(!e.starts_with("1:1:"), "{e}");
    // What the limits allow evaluates on a worker's stack.
    // As deep as brackets may nest, macros within macros.
    let src = format!("{}true{}", "[1].all(x, ".repeat(31), ")".repeat(31));
    assert_eq!(eval(&src, vec![]), Ok(Value::Bool(true)));
    // As deep as the tree may be.
    let src = format!("1{}", " + 1".repeat(98));
    assert_eq!(eval(&src, vec![]), Ok(Value::Int(99)));
    let src = format!("{}1", "false ? 0 : ".repeat(40));
    assert_eq!(eval(&src, vec![]), Ok(Value::Int(1)));
}

#[test]
fn building_lists_in_macros_is_linear() {
    // The interpreter copied the accumulator on every step: n² copies.
    assert_eq!(
        eval("lists.range(200000).map(i, i * 2).size()", vec![]),
        Ok(Value::Int(200000))
    );
    assert_eq!(
        eval(
            "xs.filter(x, x % 2 == 0).map(x, {'n': x}).size()",
            vec![("xs", json!((0..200_000).collect::<Vec<_>>()))]
        ),
        Ok(Value::Int(100000))
    );
    assert_eq!(
        eval(
            "lists.range(500).map(i, lists.range(500).map(j, [i, j])).size()",
            vec![]
        ),
        Ok(Value::Int(500))
    );
}

#[test]
fn quadratic_or_exponential_building_stops_at_a_limit() {
    let xs = json!((0..5000).collect::<Vec<_>>());
    let long = json!("a".repeat(2000));
    let kilobyte = json!("x".repeat(1000));
    let cases = [
        // 25 million pairs.
        ("xs.map(a, xs.map(b, [a, b])).size() > 0", "xs", xs.clone()),
        // 2,000 × 2,000 bytes, then that times 2,000.
        ("s.replace('a', s).replace('a', s).size() > 0", "s", long),
        ("s.replace('', s).size() > 0", "s", json!("a".repeat(3000))),
        // 100 MB of text.
        (
            "lists.range(100000).map(i, s).join('').size() > 0",
            "s",
            kilobyte.clone(),
        ),
        (
            "lists.range(100000).map(i, s + s + s + s).size() > 0",
            "s",
            kilobyte,
        ),
        // Ten billion steps.
        (
            "xs.all(i, xs.all(j, xs.all(k, i + j + k >= 0)))",
            "xs",
            xs.clone(),
        ),
        // An error absorbed by `||` is still the limit it reached.
        (
            "xs.exists(i, xs.exists(j, xs.exists(k, k < 0))) || true",
            "xs",
            xs,
        ),
    ];
    for (src, name, v) in cases {
        let e = eval(src, vec![(name, v)]).expect_err(src);
        assert!(
            e.contains("at most") || e.contains("steps"),
            "{src}: not a limit: {e}"
        );
    }
}

#[test]
fn a_cost_known_without_data_is_refused_at_load() {
    let e = refused("lists.range(1000000).map(i, lists.range(1000000).map(j, j)).size() > 0");
    assert!(e.contains("steps"), "{e}");
    let e = refused("[1, 2, 3].exists(x, x == '(' || x.matches('a{1000}{1000}'))");
    assert!(e.contains("regular expression"), "{e}");
}

// ---- limits name where the expression is written ------------------------------------------

#[test]
fn a_runbook_whose_expression_is_refused_does_not_load_and_says_where() {
    let runbook = r#"
id: hostile
title: Hostile
target: {kind: Cluster}
steps:
  - id: spin
    title: Spin
    check: 'lists.range(1000000).map(i, lists.range(1000000).size()).size() > 0'
    then: fine
    else: fine
  - id: never
    title: Never
    check: 'true'
    then: fine
    else: fine
conclusions:
  - id: fine
    code: FINE
    severity: info
    title: 'Fine: ${"%.999999999f".format([1.0])}'
    summary: Nothing wrong.
"#;
    let errors = bounded("loading", move || {
        ktriage::runbook::compile::parse("hostile.yaml", runbook, false).map(|_| ())
    })
    .expect_err("should not load");
    let said: Vec<String> = errors
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}: {} ({})",
                e.file, e.line, e.column, e.message, e.hint
            )
        })
        .collect();
    assert!(
        said.iter()
            .any(|e| e.starts_with("hostile.yaml:8:13:") && e.contains("steps")),
        "{said:#?}"
    );
    assert!(
        said.iter()
            .any(|e| e.starts_with("hostile.yaml:20:22:") && e.contains("precision")),
        "{said:#?}"
    );
}

/// A cluster as a function from query to answer.
struct World {
    answers: HashMap<FactQuery, FactResult>,
    fetched: RefCell<HashMap<FactQuery, FactResult>>,
}

impl FactLookup for World {
    fn lookup(&self, q: &FactQuery) -> Option<FactResult> {
        self.fetched.borrow().get(q).cloned()
    }
}

fn walk(runbook: &str, answers: HashMap<FactQuery, FactResult>) -> WalkRecord {
    let runbook = runbook.to_string();
    bounded("the walk", move || {
        let catalog = Catalog::from_files(vec![RunbookFile {
            path: "hostile.yaml".into(),
            text: runbook,
            builtin: false,
        }]);
        assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
        let world = World {
            answers,
            fetched: RefCell::new(HashMap::new()),
        };
        let env = env();
        let answers = BTreeMap::new();
        let input = WalkInput {
            catalog: &catalog,
            runbook: catalog.get("hostile").unwrap(),
            target: None,
            answers: &answers,
            env: &env,
            facts: &world,
        };
        for _ in 0..20 {
            match engine::walk(&input) {
                Progress::Done(r) => return r,
                Progress::NeedFacts(q) => {
                    for q in q {
                        let a = world.answers.get(&q).cloned().unwrap_or_else(|| {
                            Err(FactError::unavailable("not in this world", "add it"))
                        });
                        world.fetched.borrow_mut().insert(q, a);
                    }
                }
            }
        }
        panic!("the walk did not finish");
    })
}

#[test]
fn a_limit_at_run_time_names_the_runbook_position_and_leaves_the_step_unknown() {
    let runbook = r#"
id: hostile
title: Hostile
target: {kind: Cluster}
facts:
  settings:
    get: {kind: ConfigMap, namespace: default, name: settings}
steps:
  - id: spin
    title: Spin
    check: >-
      lists.range(int(settings.data.n)).all(i,
        lists.range(int(settings.data.n)).all(j, i + j >= 0))
    then: fine
    else: fine
conclusions:
  - id: fine
    code: FINE
    severity: info
    title: Fine
    summary: Nothing wrong.
"#;
    let q = FactQuery::Get {
        resource: GroupKind::new("", "ConfigMap"),
        namespace: Some("default".into()),
        name: "settings".into(),
    };
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"}, "data": {"n": "1000000"}});
    let record = walk(runbook, HashMap::from([(q, Ok(Arc::new(cm)))]));
    assert_eq!(record.status, Status::Inconclusive, "{record:#?}");
    let reason = &record.path[0].reason;
    assert!(reason.contains("hostile.yaml:12:7"), "{reason}");
    assert!(reason.contains("steps"), "{reason}");
    let missing = &record.missing[0];
    assert!(missing.hint.contains("simplify"), "{missing:?}");
}

// ---- class 3: aws-auth mapRoles -----------------------------------------------------------

const BILLION_LAUGHS: &str = "\
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
";

/// One mapRoles entry for a role no node group uses.
fn decoy(i: usize) -> String {
    format!(
        "- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: \
         arn:aws:iam::918273645501:role/decoy-{i:06}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"
    )
}

#[test]
fn parse_yaml_bounds_alias_expansion_depth_and_size() {
    // The bomb is valid YAML: ktriage does not read that much of it, which is not the
    // same as finding it invalid, so both functions fail rather than answer.
    for f in [
        "parseYaml(s).size() > 0",
        "yamlError(s) == ''",
        "yamlError(s) != ''",
    ] {
        let e = eval(f, vec![("s", json!(BILLION_LAUGHS))]).expect_err(f);
        assert!(e.contains("alias") || e.contains("replay"), "{f}: {e}");
    }
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let e = eval("yamlError(s) != ''", vec![("s", json!(deep))]).unwrap_err();
    assert!(e.contains("deeper than 64"), "{e}");
    let deep: String = (0..200).map(|i| format!("{}-\n", "  ".repeat(i))).collect();
    let e = eval("yamlError(s) != ''", vec![("s", json!(deep))]).unwrap_err();
    assert!(e.contains("deeper than 64"), "{e}");
    let ten_mb: String = (0..70_000).map(decoy).collect();
    assert!(ten_mb.len() > 10_000_000);
    let e = eval("yamlError(s) == ''", vec![("s", json!(ten_mb))]).unwrap_err();
    assert!(e.contains("1024 KiB"), "{e}");
    // Up to the bound, a large mapRoles is read, and read fast.
    let large: String = (0..6000).map(decoy).collect();
    assert!(large.len() < 1024 * 1024);
    assert_eq!(
        eval(
            "parseYaml(s).filter(e, typeName(e) == 'map' && 'rolearn' in e).size()",
            vec![("s", json!(large))]
        ),
        Ok(Value::Int(6000))
    );
}

/// Walks node-not-joining's CONFIG_MAP-mode fixture (node role not mapped) with its
/// aws-auth `mapRoles` replaced, and returns the walk record.
fn walk_node_not_joining_with(map_roles: String) -> WalkRecord {
    bounded("the node-not-joining walk", move || {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("snapshot");
        copy_dir(
            &root.join("tests/fixtures/nnj-role-not-mapped-configmap"),
            &snapshot,
        );
        let aws_auth = snapshot.join("k8s/kube-system/aws-auth.json");
        let mut doc: Json = serde_json::from_slice(&std::fs::read(&aws_auth).unwrap()).unwrap();
        doc["items"][0]["data"]["mapRoles"] = Json::String(map_roles);
        std::fs::write(&aws_auth, serde_json::to_vec(&doc).unwrap()).unwrap();
        let tests = RunbookFile {
            path: dir
                .path()
                .join("node-not-joining.tests.yaml")
                .display()
                .to_string(),
            text: "runbook: node-not-joining\ncases:\n  - name: hostile mapRoles\n    \
                   snapshot: snapshot\n    target: ng-memory\n    expect:\n      code: \
                   NODE_ROLE_NOT_MAPPED\n"
                .into(),
            builtin: false,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = runtime.block_on(testing::run(&Catalog::builtin(), &[tests]));
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        report.cases[0].record.clone().expect("the walk ran")
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_large_map_roles_is_read_in_linear_time() {
    // 20,000 short entries (just under 1 MiB): the interpreter's filter copied the list
    // it built on every step, 200 million entry copies per `filter`.
    let map_roles: String = (0..20_000)
        .map(|i| format!("- rolearn: arn:aws:iam::918273645501:role/d{i:05}\n"))
        .collect();
    assert!(map_roles.len() < 1024 * 1024);
    let record = walk_node_not_joining_with(map_roles);
    assert_eq!(
        record.conclusion.as_ref().map(|c| c.code.as_str()),
        Some("NODE_ROLE_NOT_MAPPED"),
        "{record:#?}"
    );
}

#[test]
fn a_map_roles_over_the_bound_is_unknown_with_its_reason() {
    for (what, map_roles) in [
        ("10 MB", (0..70_000).map(decoy).collect::<String>()),
        ("a billion laughs", BILLION_LAUGHS.to_string()),
    ] {
        let record = walk_node_not_joining_with(map_roles);
        assert_eq!(record.status, Status::Inconclusive, "{what}: {record:#?}");
        let why: Vec<String> = record
            .missing
            .iter()
            .map(|m| format!("{}: {}", m.fact, m.reason))
            .collect();
        assert!(
            why.iter().any(|w| w.contains("mapRoles")
                && w.contains("node-not-joining.yaml:")
                && (w.contains("1024 KiB") || w.contains("alias") || w.contains("replay"))),
            "{what}: {why:?}"
        );
    }
}
