//! The engine is pure: these tests give it facts from a map and check every semantic
//! DESIGN.md asks of a walk — routing, lazy facts, tri-state, questions, hand-overs,
//! conclusions — without a snapshot, a cluster or a clock.

use chrono::TimeZone;
use ktriage::facts::{FactError, FactLookup, FactQuery, FactResult, GroupKind, ObjectRef};
use ktriage::runbook::Catalog;
use ktriage::runbook::catalog::RunbookFile;
use ktriage::runbook::cel::Environment;
use ktriage::runbook::engine::{self, Progress, WalkInput};
use ktriage::runbook::record::{Outcome, Status, WalkRecord};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A cluster as a function from query to answer, with a log of what was asked.
struct World {
    answers: HashMap<FactQuery, FactResult>,
    fetched: RefCell<HashMap<FactQuery, FactResult>>,
    asked: RefCell<Vec<FactQuery>>,
}

impl World {
    fn new() -> Self {
        World {
            answers: HashMap::new(),
            fetched: RefCell::new(HashMap::new()),
            asked: RefCell::new(Vec::new()),
        }
    }

    fn with(mut self, q: FactQuery, a: Result<Value, FactError>) -> Self {
        self.answers.insert(q, a.map(Arc::new));
        self
    }

    /// Fetches like the driver does: what the engine asks for, once.
    fn fetch(&self, queries: Vec<FactQuery>) {
        for q in queries {
            assert!(
                !self.fetched.borrow().contains_key(&q),
                "query asked twice: {q:?}"
            );
            self.asked.borrow_mut().push(q.clone());
            let a = self.answers.get(&q).cloned().unwrap_or_else(|| {
                Err(FactError::unavailable(
                    format!("not in test world: {q}"),
                    "add it",
                ))
            });
            self.fetched.borrow_mut().insert(q, a);
        }
    }
}

impl FactLookup for World {
    fn lookup(&self, q: &FactQuery) -> Option<FactResult> {
        self.fetched.borrow().get(q).cloned()
    }
}

fn env() -> Environment {
    Environment::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 3, 12, 44)
            .unwrap(),
    )
}

fn catalog(files: &[&str]) -> Catalog {
    let c = Catalog::from_files(
        files
            .iter()
            .enumerate()
            .map(|(i, t)| RunbookFile {
                path: format!("test{i}.yaml"),
                text: t.to_string(),
                builtin: false,
            })
            .collect(),
    );
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    c
}

fn walk(
    catalog: &Catalog,
    id: &str,
    target: Option<&str>,
    answers: &[(&str, &str)],
    world: &World,
) -> WalkRecord {
    let env = env();
    let answers: BTreeMap<String, String> = answers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let input = WalkInput {
        catalog,
        runbook: catalog.get(id).unwrap(),
        target,
        answers: &answers,
        env: &env,
        facts: world,
    };
    for _ in 0..50 {
        match engine::walk(&input) {
            Progress::Done(r) => return r,
            Progress::NeedFacts(q) => {
                assert!(!q.is_empty(), "NeedFacts with nothing to fetch");
                world.fetch(q);
            }
        }
    }
    panic!("walk did not finish");
}

fn get(kind: &str, group: &str, ns: Option<&str>, name: &str) -> FactQuery {
    FactQuery::Get {
        resource: GroupKind::new(group, kind),
        namespace: ns.map(str::to_string),
        name: name.to_string(),
    }
}

fn list(kind: &str, group: &str, ns: Option<&str>) -> FactQuery {
    FactQuery::List {
        resource: GroupKind::new(group, kind),
        namespace: ns.map(str::to_string),
        label_selector: None,
        field_selector: None,
        fields: None,
    }
}

fn pod(ns: &str, name: &str, extra: Value) -> Value {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "creationTimestamp": "2026-11-20T02:00:00Z"}, "spec": {"containers": [{"name": "app"}]}, "status": {"phase": "Running"}});
    if let (Some(o), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    p
}

const BASIC: &str = r#"
id: basic
title: Basic
target: {kind: Pod}
facts:
  cm:
    get: {kind: ConfigMap, namespace: '${target.metadata.namespace}', name: settings}
  secret:
    get: {kind: Secret, namespace: '${target.metadata.namespace}', name: creds}
  pods:
    list: {kind: Pod, namespace: '${target.metadata.namespace}'}
    where: 'item.status.phase == "Pending"'
  pendingCount:
    value: 'size(pods)'
steps:
  - id: running
    title: 'Is ${target.metadata.name} running?'
    check: 'target.status.phase == "Running" && cm != null'
    then: many-pending
    else: broken
    because:
      then: 'phase Running, config ${cm.metadata.name}'
      else: 'phase ${target.status.phase}'
  - id: many-pending
    title: Are other pods pending?
    check: 'pendingCount > 1'
    then: crowded
    else: fine
conclusions:
  - id: broken
    code: POD_BROKEN
    severity: critical
    title: 'Pod ${target.metadata.name} is broken'
    summary: 'It is ${target.status.phase}.'
    evidence:
      - label: Phase
        quote: 'target.status.phase'
      - label: Nothing
        quote: '[]'
  - id: crowded
    code: CROWDED
    severity: warning
    title: Crowded
    summary: '${pendingCount} pods pending: ${pods.map(p, p.metadata.name)}'
    evidence:
      - label: Pending pods
        quote: 'pods.map(p, p.metadata.name)'
  - id: fine
    code: FINE
    severity: info
    title: Fine
    summary: Nothing wrong.
"#;

fn basic_world(phase: &str) -> World {
    World::new()
        .with(
            get("Pod", "", Some("shop"), "web"),
            Ok(pod("shop", "web", json!({"status": {"phase": phase}}))),
        )
        .with(
            get("ConfigMap", "", Some("shop"), "settings"),
            Ok(json!({"metadata": {"name": "settings"}})),
        )
        .with(
            list("Pod", "", Some("shop")),
            Ok(json!([
                pod("shop", "a", json!({"status": {"phase": "Pending"}})),
                pod("shop", "b", json!({"status": {"phase": "Pending"}})),
                pod("shop", "c", json!({"status": {"phase": "Running"}})),
            ])),
        )
}

#[test]
fn check_routes_and_records_reasons() {
    let c = catalog(&[BASIC]);
    let w = basic_world("Running");
    let r = walk(&c, "basic", Some("shop/web"), &[], &w);
    assert_eq!(r.status, Status::Concluded, "{r:#?}");
    let concl = r.conclusion.as_ref().unwrap();
    assert_eq!(concl.code, "CROWDED");
    assert_eq!(concl.severity, "warning");
    assert_eq!(concl.summary, "2 pods pending: a, b");
    assert_eq!(concl.evidence[0].quotes, ["a", "b"]);
    assert_eq!(r.verdict().code(), 4);
    let steps: Vec<(&str, Outcome)> = r
        .path
        .iter()
        .map(|s| (s.step.as_str(), s.outcome))
        .collect();
    assert_eq!(
        steps,
        [("running", Outcome::True), ("many-pending", Outcome::True)]
    );
    assert_eq!(r.path[0].title, "Is web running?");
    assert_eq!(r.path[0].reason, "phase Running, config settings");
    assert_eq!(r.path[0].next.as_deref(), Some("many-pending"));
    assert!(r.missing.is_empty());
    // Every fact read is listed as evidence with the command that shows it.
    let names: Vec<&str> = r.facts.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"cm") && names.contains(&"pods"),
        "{names:?}"
    );
    assert!(
        r.facts
            .iter()
            .any(|f| f.commands.iter().any(|c| c == "kubectl get pod -n shop")),
        "{:?}",
        r.facts
    );
}

#[test]
fn facts_are_lazy_and_short_circuit() {
    let c = catalog(&[BASIC]);
    let w = basic_world("Failed");
    let r = walk(&c, "basic", Some("shop/web"), &[], &w);
    assert_eq!(r.conclusion.unwrap().code, "POD_BROKEN");
    // `target.status.phase == "Running" && cm != null` is false on its left side: the
    // ConfigMap is never fetched, and neither is anything a later step would read.
    assert_eq!(*w.asked.borrow(), vec![get("Pod", "", Some("shop"), "web")]);
}

#[test]
fn empty_evidence_is_left_out() {
    let c = catalog(&[BASIC]);
    let r = walk(&c, "basic", Some("shop/web"), &[], &basic_world("Failed"));
    let labels: Vec<&str> = r
        .conclusion
        .as_ref()
        .unwrap()
        .evidence
        .iter()
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(labels, ["Phase"]);
}

#[test]
fn where_filters_lists_and_value_facts_compute() {
    let c = catalog(&[BASIC]);
    let w = basic_world("Running").with(
        list("Pod", "", Some("shop")),
        Ok(json!([pod(
            "shop",
            "a",
            json!({"status": {"phase": "Pending"}})
        )])),
    );
    let r = walk(&c, "basic", Some("shop/web"), &[], &w);
    assert_eq!(r.conclusion.unwrap().code, "FINE");
    assert_eq!(r.path[1].outcome, Outcome::False);
}

#[test]
fn unknown_fact_makes_the_walk_inconclusive_naming_it() {
    let c = catalog(&[BASIC]);
    let forbidden = FactError::Forbidden {
        verb: "get".into(),
        resource: "configmaps".into(),
        namespace: Some("shop".into()),
        hint: "grant get on configmaps in shop".into(),
    };
    let w = basic_world("Running").with(
        get("ConfigMap", "", Some("shop"), "settings"),
        Err(forbidden),
    );
    let r = walk(&c, "basic", Some("shop/web"), &[], &w);
    assert_eq!(r.status, Status::Inconclusive);
    assert!(r.conclusion.is_none());
    assert_eq!(r.verdict().code(), 5);
    assert_eq!(r.path.last().unwrap().outcome, Outcome::Unknown);
    assert_eq!(r.missing.len(), 1);
    assert_eq!(r.missing[0].fact, "cm");
    assert_eq!(
        r.missing[0].reason,
        "forbidden: cannot get configmaps in shop"
    );
    assert_eq!(r.missing[0].hint, "grant get on configmaps in shop");
    assert!(
        r.missing[0]
            .query
            .contains("kubectl get configmap settings -n shop"),
        "{}",
        r.missing[0].query
    );
}

const TRI: &str = r#"
id: tri
title: Tri-state
target: {kind: Cluster}
facts:
  a: {get: {kind: Namespace, name: a}}
  b: {get: {kind: Namespace, name: b}}
steps:
  - id: either
    title: Either namespace?
    check: 'a != null || b != null'
    then: yes
    else: no
    unknown: fallback
conclusions:
  - {id: yes, code: YES, severity: info, title: Yes, summary: 'a is ${a}'}
  - {id: no, code: NO, severity: info, title: No, summary: No}
  - {id: fallback, code: FALLBACK, severity: warning, title: Fallback, summary: Could not tell}
"#;

fn ns(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

#[test]
fn an_unknown_side_does_not_matter_when_the_other_decides() {
    let c = catalog(&[TRI]);
    let gone = || {
        Err(FactError::unavailable(
            "no Namespace objects in this snapshot",
            "add them",
        ))
    };
    // a unknown, b exists: `unknown || true` is true.
    let w = World::new()
        .with(get("Namespace", "", None, "a"), gone())
        .with(get("Namespace", "", None, "b"), Ok(ns("b")));
    let r = walk(&c, "tri", None, &[], &w);
    assert_eq!(r.conclusion.as_ref().unwrap().code, "YES");
    // The summary reads the unknown fact: it says so instead of inventing a value, and the
    // reason is on the missing list, not in the sentence.
    assert_eq!(r.conclusion.unwrap().summary, "a is (not seen)");
    assert_eq!(r.missing.len(), 1);
    assert_eq!(r.missing[0].fact, "a");
    assert_eq!(
        r.missing[0].reason,
        "unavailable: no Namespace objects in this snapshot"
    );
}

const TEXTS: &str = r#"
id: texts
title: Texts
target: {kind: Pod}
facts:
  node: {get: {kind: Node, name: '${target.spec.nodeName}'}}
  nodeName: {value: 'target.spec.nodeName'}
steps:
  - id: phase
    title: 'Is ${target.metadata.name} running?'
    check: 'target.status.phase == "Running"'
    then: running
    else: elsewhere
  - id: elsewhere
    title: Where?
    ask:
      question: 'Look at node ${nodeName}.'
      command: 'kubectl describe node ${nodeName}'
      lookFor: 'conditions of ${nodeName}'
      choices:
        - {id: ok, label: Fine, goto: running}
conclusions:
  - id: running
    code: RUNNING
    severity: info
    title: 'Running on ${node.metadata.name}'
    summary: 'Node ${node.metadata.name}, kernel ${node.status.nodeInfo.kernelVersion}.'
    remediation:
      - 'Nothing to do.'
      - 'Drain ${node.metadata.name} if it misbehaves.'
    commands:
      - run: 'kubectl get pod -n ${target.metadata.namespace} ${target.metadata.name}'
      - run: 'kubectl describe node ${node.metadata.name}'
      - run: 'kubectl cordon ${nodeName}'
        changes: true
    followUp: {runbook: texts, target: '${target.metadata.namespace}/${node.metadata.name}'}
"#;

#[test]
fn unknown_parts_never_go_inside_text_and_commands_that_need_them_are_left_out() {
    let c = catalog(&[TEXTS]);
    let w = World::new()
        .with(
            get("Pod", "", Some("a"), "p"),
            Ok(pod(
                "a",
                "p",
                json!({"spec": {"nodeName": "n1", "containers": []}}),
            )),
        )
        .with(
            get("Node", "", None, "n1"),
            Err(FactError::unavailable(
                "cannot get nodes (RBAC)",
                "grant get on nodes",
            )),
        );
    let r = walk(&c, "texts", Some("a/p"), &[], &w);
    let concl = r.conclusion.unwrap();
    assert_eq!(concl.title, "Running on (not seen)");
    assert_eq!(concl.summary, "Node (not seen), kernel (not seen).");
    assert_eq!(concl.remediation, ["Nothing to do."]);
    let runs: Vec<&str> = concl.commands.iter().map(|c| c.run.as_str()).collect();
    assert_eq!(runs, ["kubectl get pod -n a p", "kubectl cordon n1"]);
    assert!(
        concl.follow_up.is_none(),
        "a follow-up to an unknown target"
    );
    // Said once, with what would resolve it.
    assert_eq!(r.missing.len(), 1, "{:?}", r.missing);
    assert_eq!(r.missing[0].fact, "node");
    assert_eq!(r.missing[0].hint, "grant get on nodes");

    // A field that is not there is not seen either: never the interpreter's "No such key".
    let w = World::new().with(
        get("Pod", "", Some("a"), "p"),
        Ok(pod("a", "p", json!({"status": {"phase": "Pending"}}))),
    );
    let r = walk(&c, "texts", Some("a/p"), &[], &w);
    let q = r.question.unwrap();
    assert_eq!(q.prompt, "Look at node (not seen).");
    assert_eq!(
        q.command, None,
        "a command to run elsewhere is shown only whole"
    );
    assert_eq!(q.look_for.as_deref(), Some("conditions of (not seen)"));
    assert!(
        r.missing
            .iter()
            .any(|m| m.fact == "nodeName" && m.reason.contains("No such key")),
        "{:?}",
        r.missing
    );
}

const HANDOVER_UNKNOWN: &str = r#"
id: hands
title: Hands over
target: {kind: Pod}
facts:
  claim: {get: {kind: PersistentVolumeClaim, namespace: '${target.metadata.namespace}', name: data}}
steps:
  - id: go
    title: The claim
    handover: {runbook: second, target: '${target.metadata.namespace}/${claim.metadata.name}'}
conclusions: []
"#;

#[test]
fn a_handover_to_an_unknown_target_stops_inconclusive() {
    let c = catalog(&[HANDOVER_UNKNOWN, HANDOVER_A, HANDOVER_B]);
    let w = World::new()
        .with(get("Pod", "", Some("a"), "p"), Ok(pod("a", "p", json!({}))))
        .with(
            get("PersistentVolumeClaim", "", Some("a"), "data"),
            Err(FactError::unavailable("not captured", "capture claims")),
        );
    let r = walk(&c, "hands", Some("a/p"), &[], &w);
    assert_eq!(r.status, Status::Inconclusive);
    assert_eq!(r.path.len(), 1);
    assert_eq!(r.path[0].outcome, Outcome::Unknown);
    assert_eq!(r.missing[0].fact, "claim");
    // The other runbook was never walked with a made-up target.
    assert_eq!(w.asked.borrow().len(), 2);
}

#[test]
fn an_undecidable_check_follows_its_unknown_route() {
    let c = catalog(&[TRI]);
    let gone = || {
        Err(FactError::unavailable(
            "no Namespace objects in this snapshot",
            "add them",
        ))
    };
    let w = World::new()
        .with(get("Namespace", "", None, "a"), gone())
        .with(get("Namespace", "", None, "b"), Ok(Value::Null));
    let r = walk(&c, "tri", None, &[], &w);
    assert_eq!(r.status, Status::Concluded);
    assert_eq!(r.conclusion.unwrap().code, "FALLBACK");
    assert_eq!(r.path[0].outcome, Outcome::Unknown);
    assert_eq!(r.path[0].next.as_deref(), Some("fallback"));
    // Concluding through the unknown route still says what was not seen.
    assert_eq!(r.missing.len(), 1);
    assert_eq!(r.missing[0].fact, "a");
}

const SWITCH: &str = r#"
id: sw
title: Switch
target: {kind: Pod}
facts:
  node: {get: {kind: Node, name: '${target.spec.nodeName}'}}
steps:
  - id: which
    title: Which phase?
    switch:
      - when: 'target.status.phase == "Pending"'
        goto: pending
      - when: 'node.metadata.name == "n1"'
        goto: on-n1
        because: 'runs on ${node.metadata.name}'
      - when: 'target.status.phase == "Running"'
        goto: running
    default: other
conclusions:
  - {id: pending, code: PENDING, severity: warning, title: P, summary: P}
  - {id: on-n1, code: ON_N1, severity: info, title: N, summary: N}
  - {id: running, code: RUNNING, severity: info, title: R, summary: R}
  - {id: other, code: OTHER, severity: info, title: O, summary: O}
"#;

#[test]
fn switch_takes_the_first_matching_case() {
    let c = catalog(&[SWITCH]);
    let base = |phase: &str, node: Result<Value, FactError>| {
        World::new()
            .with(
                get("Pod", "", Some("a"), "p"),
                Ok(pod(
                    "a",
                    "p",
                    json!({"spec": {"nodeName": "n1"}, "status": {"phase": phase}}),
                )),
            )
            .with(get("Node", "", None, "n1"), node)
    };
    let r = walk(
        &c,
        "sw",
        Some("a/p"),
        &[],
        &base("Pending", Ok(json!({"metadata": {"name": "n1"}}))),
    );
    assert_eq!(r.conclusion.unwrap().code, "PENDING");
    let r = walk(
        &c,
        "sw",
        Some("a/p"),
        &[],
        &base("Running", Ok(json!({"metadata": {"name": "n1"}}))),
    );
    assert_eq!(r.conclusion.as_ref().unwrap().code, "ON_N1");
    assert_eq!(r.path[0].outcome, Outcome::Matched);
    assert_eq!(r.path[0].reason, "runs on n1");
    let r = walk(
        &c,
        "sw",
        Some("a/p"),
        &[],
        &base("Succeeded", Ok(json!({"metadata": {"name": "n2"}}))),
    );
    assert_eq!(r.conclusion.as_ref().unwrap().code, "OTHER");
    assert_eq!(r.path[0].outcome, Outcome::Default);
}

#[test]
fn an_unknown_case_blocks_the_cases_after_it() {
    let c = catalog(&[SWITCH]);
    let w = World::new()
        .with(
            get("Pod", "", Some("a"), "p"),
            Ok(pod(
                "a",
                "p",
                json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}),
            )),
        )
        .with(
            get("Node", "", None, "n1"),
            Err(FactError::Transient {
                reason: "timeout after 3 retries".into(),
                hint: "try again".into(),
            }),
        );
    let r = walk(&c, "sw", Some("a/p"), &[], &w);
    // Case 3 would match, but case 2 could not be decided and comes first.
    assert_eq!(r.status, Status::Inconclusive);
    assert_eq!(r.missing[0].fact, "node");
    assert_eq!(r.missing[0].reason, "transient: timeout after 3 retries");
}

const ASK: &str = r#"
id: ask
title: Ask
target: {kind: Pod}
steps:
  - id: journal
    title: What does the kubelet say?
    ask:
      question: 'Read the kubelet journal on the node of ${target.metadata.name}.'
      command: 'journalctl -u kubelet --since -1h | grep ${target.metadata.name}'
      lookFor: Errors
      choices:
        - {id: cni, label: CNI errors, goto: cni}
        - {id: clean, label: Nothing, goto: clean}
conclusions:
  - {id: cni, code: CNI, severity: critical, title: CNI, summary: 'You saw CNI errors.'}
  - {id: clean, code: CLEAN, severity: info, title: Clean, summary: Clean}
"#;

#[test]
fn ask_waits_for_an_answer_then_follows_it() {
    let c = catalog(&[ASK]);
    let w = || World::new().with(get("Pod", "", Some("a"), "p"), Ok(pod("a", "p", json!({}))));
    let r = walk(&c, "ask", Some("a/p"), &[], &w());
    assert_eq!(r.status, Status::NeedsInput);
    assert_eq!(r.verdict().code(), 5);
    let q = r.question.unwrap();
    assert_eq!(q.step, "journal");
    assert_eq!(q.prompt, "Read the kubelet journal on the node of p.");
    assert_eq!(
        q.command.as_deref(),
        Some("journalctl -u kubelet --since -1h | grep p")
    );
    assert_eq!(
        q.choices.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["cni", "clean"]
    );
    assert_eq!(r.path.last().unwrap().outcome, Outcome::AwaitingAnswer);

    let r = walk(&c, "ask", Some("a/p"), &[("journal", "cni")], &w());
    assert_eq!(r.conclusion.unwrap().code, "CNI");
    assert_eq!(r.path[0].outcome, Outcome::Answered);

    let r = walk(&c, "ask", Some("a/p"), &[("ask/journal", "clean")], &w());
    assert_eq!(r.conclusion.unwrap().code, "CLEAN");

    let r = walk(&c, "ask", Some("a/p"), &[("journal", "maybe")], &w());
    assert_eq!(r.status, Status::NeedsInput);
    assert_eq!(
        r.question.unwrap().rejected_answer.as_deref(),
        Some("maybe")
    );
}

const HANDOVER_A: &str = r#"
id: first
title: First
target: {kind: Pod}
steps:
  - id: go
    title: Hand over
    handover: {runbook: second, target: '${target.metadata.namespace}/${target.metadata.name}'}
conclusions: []
"#;

const HANDOVER_B: &str = r#"
id: second
title: Second
target: {kind: Pod}
steps:
  - id: loop
    title: Back?
    check: 'target.metadata.name == "loop"'
    then: back
    else: done
  - id: back
    title: Back to first
    handover: {runbook: first, target: '${target.metadata.namespace}/${target.metadata.name}'}
conclusions:
  - {id: done, code: DONE, severity: warning, title: Done, summary: 'Done with ${target.metadata.name}'}
"#;

#[test]
fn handover_continues_in_the_other_runbook_and_keeps_the_trail() {
    let c = catalog(&[HANDOVER_A, HANDOVER_B]);
    let w = World::new().with(get("Pod", "", Some("a"), "p"), Ok(pod("a", "p", json!({}))));
    let r = walk(&c, "first", Some("a/p"), &[], &w);
    assert_eq!(r.runbook, "first");
    let concl = r.conclusion.unwrap();
    assert_eq!(
        (concl.code.as_str(), concl.runbook.as_str()),
        ("DONE", "second")
    );
    let trail: Vec<(&str, &str, Outcome)> = r
        .path
        .iter()
        .map(|s| (s.runbook.as_str(), s.step.as_str(), s.outcome))
        .collect();
    assert_eq!(
        trail,
        [
            ("first", "go", Outcome::Handover),
            ("second", "loop", Outcome::False)
        ]
    );
    // The target was fetched once, though both runbooks read it.
    assert_eq!(w.asked.borrow().len(), 1);
}

#[test]
fn handover_cycles_stop_inconclusive() {
    let c = catalog(&[HANDOVER_A, HANDOVER_B]);
    let w = World::new().with(
        get("Pod", "", Some("a"), "loop"),
        Ok(pod("a", "loop", json!({}))),
    );
    let r = walk(&c, "first", Some("a/loop"), &[], &w);
    assert_eq!(r.status, Status::Inconclusive);
    assert_eq!(r.missing[0].fact, "handover");
    assert_eq!(r.path.len(), 3);
}

#[test]
fn a_missing_target_is_inconclusive_not_a_finding() {
    let c = catalog(&[BASIC]);
    let w = World::new().with(get("Pod", "", Some("shop"), "ghost"), Ok(Value::Null));
    let r = walk(&c, "basic", Some("shop/ghost"), &[], &w);
    assert_eq!(r.status, Status::Inconclusive);
    assert_eq!(r.missing[0].fact, "target");
    assert!(
        r.missing[0]
            .reason
            .contains("Pod shop/ghost does not exist"),
        "{}",
        r.missing[0].reason
    );
    assert!(r.path.is_empty());
}

const EVENTS_LOGS: &str = r#"
id: el
title: Events and logs
target: {kind: Pod}
facts:
  events: {events: target}
  log:
    logs: {of: target, tailLines: 50}
    where: 'item.text.contains("ERROR")'
steps:
  - id: failed
    title: Did it fail?
    check: 'events.exists(e, e.reason == "BackOff") && size(log) > 0'
    then: yes
    else: no
conclusions:
  - id: yes
    code: YES
    severity: critical
    title: Yes
    summary: '${events[0].message} / ${log[0].time} ${log[0].text}'
  - {id: no, code: NO, severity: info, title: No, summary: No}
"#;

#[test]
fn events_and_logs_take_their_runbook_shapes() {
    let c = catalog(&[EVENTS_LOGS]);
    let p = pod(
        "a",
        "p",
        json!({"spec": {"containers": [{"name": "app"}, {"name": "sidecar"}]}}),
    );
    let events_q = FactQuery::Events {
        object: ObjectRef {
            kind: "Pod".into(),
            namespace: Some("a".into()),
            name: "p".into(),
            uid: Some("uid-p".into()),
        },
    };
    let logs = |c: &str| FactQuery::Logs {
        namespace: "a".into(),
        pod: "p".into(),
        container: c.into(),
        previous: false,
        tail_lines: Some(50),
    };
    let w = World::new()
        .with(get("Pod", "", Some("a"), "p"), Ok(p))
        .with(events_q, Ok(json!([
            {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "p.1", "namespace": "a"}, "reason": "Pulled", "message": "old", "lastTimestamp": "2026-11-20T01:00:00Z"},
            {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "p.2", "namespace": "a"}, "reason": "BackOff", "note": "Back-off restarting failed container", "eventTime": "2026-11-20T03:00:00.000000Z"}
        ])))
        .with(logs("app"), Ok(json!("2026-11-20T03:00:00Z INFO start\n2026-11-20T03:00:01Z ERROR boom\n")))
        // One container's log is missing: the fact still stands on the other.
        .with(logs("sidecar"), Err(FactError::unavailable("no log of container sidecar", "add it")));
    let r = walk(&c, "el", Some("a/p"), &[], &w);
    let concl = r.conclusion.unwrap();
    assert_eq!(concl.code, "YES");
    assert_eq!(
        concl.summary,
        "Back-off restarting failed container / 2026-11-20T03:00:01Z ERROR boom"
    );
    let log_use = r.facts.iter().find(|f| f.name == "log").unwrap();
    assert_eq!(log_use.queries.len(), 2);
    assert_eq!(log_use.errors.len(), 1);
}

#[test]
fn follow_up_is_offered_only_when_that_runbook_exists() {
    let rb = |follow: &str| {
        format!(
            "id: f\ntitle: F\ntarget: {{kind: Cluster}}\nsteps:\n  - id: s\n    title: S\n    check: 'true'\n    then: c\n    else: c\nconclusions:\n  - id: c\n    code: C\n    severity: warning\n    title: C\n    summary: C\n    followUp: {{runbook: {follow}, target: 'x/y'}}\n"
        )
    };
    let c = catalog(&[&rb("basic"), BASIC]);
    let r = walk(&c, "f", None, &[], &World::new());
    let f = r.conclusion.unwrap().follow_up.unwrap();
    assert_eq!(
        (f.runbook.as_str(), f.target.as_deref()),
        ("basic", Some("x/y"))
    );
    let c = catalog(&[&rb("not-installed-yet")]);
    let r = walk(&c, "f", None, &[], &World::new());
    assert!(r.conclusion.unwrap().follow_up.is_none());
}

#[test]
fn the_same_facts_give_the_same_walk() {
    let c = catalog(&[BASIC]);
    let a = serde_json::to_value(walk(
        &c,
        "basic",
        Some("shop/web"),
        &[],
        &basic_world("Running"),
    ))
    .unwrap();
    let b = serde_json::to_value(walk(
        &c,
        "basic",
        Some("shop/web"),
        &[],
        &basic_world("Running"),
    ))
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn json_record_has_the_contract_fields() {
    let c = catalog(&[BASIC]);
    let r = serde_json::to_value(walk(
        &c,
        "basic",
        Some("shop/web"),
        &[],
        &basic_world("Running"),
    ))
    .unwrap();
    for key in [
        "runbook",
        "target",
        "status",
        "conclusion",
        "path",
        "missing",
        "question",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    assert_eq!(r["status"], "concluded");
    for key in [
        "code",
        "severity",
        "title",
        "summary",
        "remediation",
        "evidence",
    ] {
        assert!(r["conclusion"].get(key).is_some(), "conclusion lacks {key}");
    }
    for key in ["step", "outcome", "reason"] {
        assert!(r["path"][0].get(key).is_some(), "path step lacks {key}");
    }
    assert_eq!(r["path"][0]["outcome"], "true");
}

const UNREADABLE_TARGET: &str = r#"
id: ng
title: Node group
target: {kind: EksNodegroup}
facts:
  nodes: {list: {kind: Node}}
  parsed: {value: 'parseYaml("- a: 1")'}
steps:
  - id: nodes-exist
    title: Are there nodes?
    check: 'size(nodes) > 0 && typeName(parsed) == "list" && typeName(parsed[0]) == "map"'
    then: group
    else: none
  - id: group
    title: Is the group active?
    switch:
      - when: 'target.status == "ACTIVE"'
        goto: active
    default: other
    defaultBecause: 'status ${target.status}'
conclusions:
  - {id: active, code: ACTIVE, severity: info, title: Active, summary: Active}
  - {id: other, code: OTHER, severity: warning, title: Other, summary: Other}
  - {id: none, code: NONE, severity: info, title: None, summary: None}
"#;

#[test]
fn an_unreadable_target_is_unknown_where_read_and_the_rest_still_walks() {
    let c = catalog(&[UNREADABLE_TARGET]);
    let describe = FactQuery::Eks(ktriage::facts::EksQuery::DescribeNodegroup {
        name: "ng-a".into(),
    });
    let nodes = json!([{"metadata": {"name": "n1"}}]);
    let w = World::new()
        .with(list("Node", "", None), Ok(nodes.clone()))
        .with(
            describe.clone(),
            Err(FactError::unavailable(
                "no AWS data in this snapshot",
                "add aws/",
            )),
        );
    let r = walk(&c, "ng", Some("ng-a"), &[], &w);
    assert_eq!(r.status, Status::Inconclusive);
    assert_eq!(
        r.path.len(),
        2,
        "the step not reading the target ran: {:?}",
        r.path
    );
    assert_eq!(r.path[0].outcome, Outcome::True);
    assert_eq!(r.path[1].outcome, Outcome::Unknown);
    assert_eq!(r.missing[0].fact, "target");

    // Readable: a switch's default gives its own reason.
    let w = World::new()
        .with(list("Node", "", None), Ok(nodes))
        .with(describe, Ok(json!({"nodegroup": {"status": "DEGRADED"}})));
    let r = walk(&c, "ng", Some("ng-a"), &[], &w);
    assert_eq!(r.conclusion.as_ref().unwrap().code, "OTHER");
    assert_eq!(r.path[1].outcome, Outcome::Default);
    assert_eq!(r.path[1].reason, "status DEGRADED");
}
