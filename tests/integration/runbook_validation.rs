//! Every class of broken runbook is rejected at load with the file, line and column of
//! the offending value and a one-line fix; a broken runbook never keeps the others from
//! loading; no input, however mangled, makes the loader panic.
//!
//! Expected positions are counted by hand from the inline YAML: lines and columns are
//! 1-based, and the line numbers of the base document are written beside it.

use ktriage::runbook::catalog::RunbookFile;
use ktriage::runbook::compile::parse;
use ktriage::runbook::{Catalog, RunbookError};
use proptest::prelude::*;

const FILE: &str = "demo.yaml";
const PVC_PENDING: &str = include_str!("../../runbooks/pvc-pending.yaml");

/// Lines 1–4 of every document.
const HEAD: &str = "\
id: demo
title: Demo
target:
  kind: Pod
";

/// Lines 5–7 of the base document.
const FACTS: &str = "\
facts:
  phase:
    value: target.status.phase
";

/// Lines 8–13 of the base document (when the facts are the default ones).
const STEPS: &str = "\
steps:
  - id: first
    title: Is it running?
    check: phase == 'Running'
    then: ok
    else: broken
";

/// Lines 14–24 of the base document (when facts and steps are the default ones).
const CONCLUSIONS: &str = "\
conclusions:
  - id: ok
    code: DEMO_OK
    severity: info
    title: Running
    summary: The pod is ${phase}
  - id: broken
    code: DEMO_BROKEN
    severity: warning
    title: Not running
    summary: The pod is ${phase}
";

/// A minimal valid runbook with its facts, steps and conclusions sections replaced.
fn doc(facts: &str, steps: &str, conclusions: &str) -> String {
    format!("{HEAD}{facts}{steps}{conclusions}")
}

fn with_facts(facts: &str) -> String {
    doc(facts, STEPS, CONCLUSIONS)
}

fn with_steps(steps: &str) -> String {
    doc(FACTS, steps, CONCLUSIONS)
}

/// The base document with one piece of text replaced (it must occur).
fn base_with(from: &str, to: &str) -> String {
    let base = doc(FACTS, STEPS, CONCLUSIONS);
    assert!(base.contains(from), "`{from}` is not in the base document");
    base.replacen(from, to, 1)
}

/// The errors of a runbook that must not load, each checked for a one-line
/// `file:line:col: message (fix: hint)` form with a real hint.
fn errors(text: &str) -> Vec<RunbookError> {
    let errors = match parse(FILE, text, false) {
        Ok(rb) => panic!("runbook `{}` loaded but should not have:\n{text}", rb.id),
        Err(e) => e,
    };
    assert!(!errors.is_empty(), "an empty error list for:\n{text}");
    for e in &errors {
        assert_one_line(e, FILE);
    }
    errors
}

/// `path:line:col: message (fix: hint)` on one line, with a message and a hint.
#[track_caller]
fn assert_one_line(e: &RunbookError, path: &str) {
    let shown = e.to_string();
    assert_eq!(e.file, path, "{shown}");
    assert!(e.line >= 1 && e.column >= 1, "{shown}");
    assert!(!e.message.trim().is_empty(), "empty message: {shown}");
    assert!(!e.hint.trim().is_empty(), "empty hint: {shown}");
    assert!(
        !shown.contains('\n') && !shown.contains('\r'),
        "not one line: {shown:?}"
    );
    assert_eq!(
        shown,
        format!(
            "{}:{}:{}: {} (fix: {})",
            e.file, e.line, e.column, e.message, e.hint
        )
    );
}

/// The one error of a runbook, at `line:column`, whose message contains `message`.
#[track_caller]
fn only_error(text: &str, line: usize, column: usize, message: &str) -> RunbookError {
    let errors = errors(text);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors.len(),
        1,
        "expected one error, got:\n{}",
        shown.join("\n")
    );
    let e = errors.into_iter().next().unwrap();
    assert_eq!((e.line, e.column), (line, column), "wrong position: {e}");
    assert!(
        e.message.contains(message),
        "message lacks `{message}`: {e}"
    );
    e
}

#[track_caller]
fn assert_hint(e: &RunbookError, hint: &str) {
    assert!(e.hint.contains(hint), "hint lacks `{hint}`: {e}");
}

fn file(path: &str, text: &str) -> RunbookFile {
    RunbookFile {
        path: path.to_string(),
        text: text.to_string(),
        builtin: false,
    }
}

// ---------------------------------------------------------------- what loads

#[test]
fn the_base_runbook_loads() {
    let rb =
        parse(FILE, &doc(FACTS, STEPS, CONCLUSIONS), false).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rb.id, "demo");
    assert_eq!(rb.start(), "first");
    assert_eq!(rb.steps.len(), 1);
    assert_eq!(rb.conclusions.len(), 2);
}

#[test]
fn every_step_kind_and_item_inside_where_load() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  ready:
    list: {kind: Pod, namespace: '${target.metadata.namespace}'}
    where: item.status.phase == 'Running'
  owner:
    get: {kind: Deployment, namespace: '${target.metadata.namespace}', name: web}
  widgets:
    list: {kind: Widget, apiVersion: example.com/v1}
  nodegroup:
    eks: {call: describe-nodegroup, name: workers}
  audit:
    cloudwatch: {logGroup: /aws/eks/demo/cluster, since: 1h30m}
";
    let steps = "\
steps:
  - id: first
    title: Which phase?
    switch:
      - when: phase == 'Running'
        goto: ok
      - when: size(ready) == 0
        goto: ask-log
    default: next
  - id: ask-log
    title: What does the log say?
    ask:
      question: Read the log of ${target.metadata.name}
      choices:
        - {id: fine, label: Nothing, goto: ok}
        - {id: bad, label: An error, goto: broken}
  - id: next
    title: Hand over
    handover: {runbook: demo, target: '${target.metadata.name}'}
";
    let rb =
        parse(FILE, &doc(facts, steps, CONCLUSIONS), false).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        rb.steps.keys().collect::<Vec<_>>(),
        ["first", "ask-log", "next"]
    );
    assert_eq!(rb.facts.len(), 6);
}

#[test]
fn the_builtin_pvc_pending_runbook_loads() {
    let rb =
        parse("runbooks/pvc-pending.yaml", PVC_PENDING, true).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(rb.id, "pvc-pending");
}

// ---------------------------------------------------------------- YAML and fields

#[test]
fn yaml_syntax_error() {
    // Line 10 is `    title: Is it: running?`; the second `: ` is the error.
    let e = only_error(
        &base_with("title: Is it running?", "title: Is it: running?"),
        10,
        17,
        "mapping values are not allowed",
    );
    assert_hint(&e, "YAML");
}

#[test]
fn unknown_field_points_at_the_field() {
    // Line 11 is `    chek: phase == 'Running'`.
    let e = only_error(
        &base_with("    check:", "    chek:"),
        11,
        5,
        "unknown field `chek`",
    );
    assert_hint(&e, "ktriage runbooks schema");
}

#[test]
fn missing_field_points_at_the_mapping_that_lacks_it() {
    // Without its title, the step is lines 9–12; its first key is `id` (line 9 is
    // `  - id: first`), though the parser notices at its last key, `else` on line 12.
    let e = only_error(
        &base_with("    title: Is it running?\n", ""),
        9,
        5,
        "missing field `title`",
    );
    assert_hint(&e, "add the field");
    assert!(
        !e.message.contains("line"),
        "the position is not repeated: {e}"
    );
    // At the top level, the document's start.
    only_error(
        &base_with("title: Demo\n", ""),
        1,
        1,
        "missing field `title`",
    );
    // In a flow mapping, its `{` (line 15 is `  - {id: ok, code: DEMO_OK, …}`).
    let conclusions = "\
conclusions:
  - {id: ok, code: DEMO_OK, severity: info, title: Running}
  - {id: broken, code: DEMO_BROKEN, severity: info, title: Broken, summary: Not running}
";
    only_error(
        &doc(FACTS, STEPS, conclusions),
        15,
        5,
        "missing field `summary`",
    );
}

// ---------------------------------------------------------------- CEL

#[test]
fn cel_that_does_not_compile_points_into_the_expression() {
    // Line 11 is `    check: phase = 'Running'`: the expression starts at column 12 and
    // its `=` (offset 6) is column 18.
    let e = only_error(
        &base_with("phase == 'Running'", "phase = 'Running'"),
        11,
        18,
        "CEL does not compile",
    );
    assert_hint(&e, "operators");
    // Quoted: `    check: 'phase = 1'`, the quote at column 12, the `=` at 19.
    only_error(
        &base_with("phase == 'Running'", "'phase = 1'"),
        11,
        19,
        "CEL does not compile",
    );
    // A folded block, as long expressions are written: the `=` is on the block's second
    // line (line 13 is `      && size(phase) = 3`).
    let folded = base_with(
        "phase == 'Running'",
        ">-\n      phase == 'Running'\n      && size(phase) = 3",
    );
    only_error(&folded, 13, 22, "CEL does not compile");
    // Inside a template: line 19 is `    summary: The pod is ${phase = 1}`; the text starts
    // at column 14, the expression at 27 and its `=` is column 33.
    only_error(
        &base_with("${phase}", "${phase = 1}"),
        19,
        33,
        "CEL does not compile",
    );
    // An unterminated string in a literal block: the parser quotes the rest of the
    // expression, line break included; the message stays on one line (line 12 is
    // `      phase == 'Running`, its quote at column 16).
    let text = base_with(
        "phase == 'Running'",
        "|\n      phase == 'Running\n      || true",
    );
    only_error(&text, 12, 16, "CEL does not compile");
}

#[test]
fn cel_that_does_not_compile_in_the_real_runbook() {
    // In the symptom's folded `when` (line 29 when this was written), the line
    // `             && size(consumers) == 0))` with `=` for `==`: the `=` is column 33.
    let text = PVC_PENDING.replacen("size(consumers) == 0))", "size(consumers) = 0))", 1);
    let line = 1 + text
        .lines()
        .position(|l| l == "             && size(consumers) = 0))")
        .expect("the line is in pvc-pending.yaml");
    let errors = parse("runbooks/pvc-pending.yaml", &text, true).expect_err("should not load");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].line, errors[0].column),
        (line, 33),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].message.contains("CEL does not compile"),
        "{}",
        errors[0]
    );
}

#[test]
fn cel_reading_an_unknown_name_suggests_the_fact() {
    let e = only_error(
        &base_with("check: phase", "check: phse"),
        11,
        12,
        "unknown name `phse`",
    );
    assert_hint(&e, "did you mean `phase`?");
    // In a template, at its `${` (line 19 is `    summary: The pod is ${phse}`).
    let e = only_error(
        &base_with("${phase}", "${phse}"),
        19,
        25,
        "unknown name `phse`",
    );
    assert_hint(&e, "did you mean `phase`?");
}

#[test]
fn cel_calling_an_unknown_function() {
    let e = only_error(
        &base_with("phase == 'Running'", "frobnicate(phase)"),
        11,
        12,
        "unknown function `frobnicate`",
    );
    assert_hint(&e, "functions");
}

#[test]
fn item_outside_a_where() {
    let e = only_error(
        &base_with("check: phase", "check: item.status.phase"),
        11,
        12,
        "unknown name `item`",
    );
    assert_hint(&e, "`item` exists only inside a fact's `where`");
    // Even when a fact is named like it (facts take lines 5–9, so the check is line 13).
    let facts = "\
facts:
  phase:
    value: target.status.phase
  itemCount:
    value: '1'
";
    let text = with_facts(facts).replacen("check: phase", "check: item.status.phase", 1);
    let e = only_error(&text, 13, 12, "unknown name `item`");
    assert_hint(&e, "`item` exists only inside a fact's `where`");
    // And in a fact that is not a list's `where` (line 7 is `    value: item.x`).
    let e = only_error(
        &base_with("value: target.status.phase", "value: item.x"),
        7,
        12,
        "unknown name `item`",
    );
    assert_hint(&e, "where");
}

// ---------------------------------------------------------------- the step graph

#[test]
fn a_step_pointing_nowhere() {
    // Line 12 is `    then: no-such-step`.
    let e = only_error(
        &base_with("then: ok", "then: no-such-step"),
        12,
        11,
        "`no-such-step`",
    );
    assert!(e.message.contains("neither a step nor a conclusion"), "{e}");
    // Line 13 is `    else: brokn`.
    let e = only_error(&base_with("else: broken", "else: brokn"), 13, 11, "`brokn`");
    assert_hint(&e, "did you mean `broken`?");
}

#[test]
fn a_cycle_between_steps() {
    let steps = "\
steps:
  - id: first
    title: First
    check: phase == 'Running'
    then: second
    else: broken
  - id: second
    title: Second
    check: phase == 'Pending'
    then: first
    else: ok
";
    // The cycle closes at `first` (line 9, `  - id: first`).
    let e = only_error(&with_steps(steps), 9, 9, "cycle");
    assert!(e.message.contains("first → second → first"), "{e}");
}

#[test]
fn an_unreachable_step_and_an_unreachable_conclusion() {
    let steps = "\
steps:
  - id: first
    title: Is it running?
    check: phase == 'Running'
    then: ok
    else: broken
  - id: orphan
    title: Orphan
    check: phase == 'Failed'
    then: ok
    else: broken
";
    // Conclusions start at line 19 (after five more step lines); `unused` is the last one.
    let conclusions = format!(
        "{CONCLUSIONS}  - id: unused\n    code: DEMO_UNUSED\n    severity: info\n    title: Unused\n    summary: Never\n"
    );
    let errors = errors(&doc(FACTS, steps, &conclusions));
    let found: Vec<(usize, usize, bool)> = errors
        .iter()
        .map(|e| (e.line, e.column, e.message.contains("unreachable")))
        .collect();
    assert_eq!(found, [(14, 9, true), (30, 9, true)], "{errors:?}");
    assert!(errors[0].message.contains("`orphan`") && errors[1].message.contains("`unused`"));
}

#[test]
fn duplicate_step_ids() {
    let steps = "\
steps:
  - id: first
    title: Is it running?
    check: phase == 'Running'
    then: ok
    else: broken
  - id: first
    title: Again
    check: phase == 'Failed'
    then: broken
    else: ok
";
    only_error(&with_steps(steps), 14, 9, "step id `first` is used twice");
    // A conclusion may not reuse a step's id either (line 15 is `  - id: ok`).
    only_error(
        &base_with("  - id: ok", "  - id: first"),
        15,
        9,
        "`first` is used twice",
    );
}

#[test]
fn a_step_with_two_kinds() {
    let steps = "\
steps:
  - id: first
    title: Is it running?
    check: phase == 'Running'
    then: ok
    else: broken
    ask:
      question: Is it?
      choices: [{id: yes, label: Yes, goto: ok}]
";
    only_error(
        &with_steps(steps),
        9,
        9,
        "exactly one of check, switch, ask, handover (it has 2)",
    );
}

#[test]
fn a_check_without_else() {
    // Line 11 is the check.
    only_error(
        &base_with("    else: broken\n", ""),
        11,
        12,
        "needs both `then` and `else`",
    );
}

#[test]
fn a_switch_without_default() {
    let steps = "\
steps:
  - id: first
    title: Which phase?
    switch:
      - when: phase == 'Running'
        goto: ok
      - when: phase == 'Failed'
        goto: broken
";
    only_error(&with_steps(steps), 9, 9, "needs `default`");
}

#[test]
fn an_ask_without_choices_or_with_a_choice_twice() {
    let steps = "\
steps:
  - id: first
    title: What does the log say?
    ask:
      question: Read the log
      choices: []
";
    only_error(&with_steps(steps), 9, 9, "has no choices");
    let steps = "\
steps:
  - id: first
    title: What does the log say?
    ask:
      question: Read the log
      choices:
        - id: fine
          label: Nothing
          goto: ok
        - id: fine
          label: An error
          goto: broken
";
    // Line 17 is `        - id: fine`, the second one.
    only_error(&with_steps(steps), 17, 15, "choice `fine` appears twice");
}

#[test]
fn unknown_on_a_step_that_is_never_unknown() {
    let steps = "\
steps:
  - id: first
    title: What does the log say?
    unknown: broken
    ask:
      question: Read the log
      choices:
        - id: fine
          label: Nothing
          goto: ok
";
    // Line 11 is `    unknown: broken`.
    only_error(&with_steps(steps), 11, 14, "has `unknown`");
}

// ---------------------------------------------------------------- facts

#[test]
fn a_fact_with_no_query() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  nothing:
    description: Fetches nothing
";
    // Line 8 is `  nothing:`.
    only_error(
        &with_facts(facts),
        8,
        3,
        "fact `nothing` needs exactly one of",
    );
}

#[test]
fn a_fact_with_two_queries() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  both:
    value: target.status.phase
    events: target
";
    only_error(&with_facts(facts), 8, 3, "(it has 2)");
}

#[test]
fn get_of_a_namespaced_kind_without_namespace() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  owner:
    get:
      kind: Deployment
      name: web
";
    // Line 10 is `      kind: Deployment`.
    let e = only_error(&with_facts(facts), 10, 13, "needs `namespace`");
    assert_hint(&e, "namespace:");
}

#[test]
fn unknown_kinds() {
    // Line 4 is `  kind: Widget`.
    let e = only_error(
        &base_with("kind: Pod", "kind: Widget"),
        4,
        9,
        "unknown kind `Widget`",
    );
    assert_hint(&e, "apiVersion");
    let e = only_error(
        &base_with("kind: Pod", "kind: pvc"),
        4,
        9,
        "unknown kind `pvc`",
    );
    assert_hint(&e, "did you mean `kind: PersistentVolumeClaim`?");
    // The same in a fact (line 8 is `  claims:`, line 9 `    list: {kind: pvc}`).
    let facts = "\
facts:
  phase:
    value: target.status.phase
  claims:
    list: {kind: pvc}
";
    let e = only_error(&with_facts(facts), 9, 18, "unknown kind `pvc`");
    assert_hint(&e, "did you mean `kind: PersistentVolumeClaim`?");
    // A typo of a kind ktriage knows is matched by closeness.
    let e = only_error(
        &base_with("kind: Pod", "kind: Deploymnet"),
        4,
        9,
        "unknown kind `Deploymnet`",
    );
    assert_hint(&e, "did you mean `kind: Deployment`?");
}

#[test]
fn facts_depending_on_each_other_in_a_circle() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  a:
    value: b + 1
  b:
    value: a + 1
";
    let errors = errors(&with_facts(facts));
    let found: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(found, [(8, 3), (10, 3)], "{errors:?}");
    assert!(
        errors
            .iter()
            .all(|e| e.message.contains("depends on itself")),
        "{errors:?}"
    );
}

#[test]
fn bad_fact_names() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  bad-name:
    value: target.metadata.name
";
    let e = only_error(&with_facts(facts), 8, 3, "fact name `bad-name`");
    assert_hint(&e, "letters, digits and `_`");
    only_error(
        &with_facts(&facts.replace("bad-name", "item")),
        8,
        3,
        "fact name `item`",
    );
}

#[test]
fn bad_eks_call_parameters() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  nodegroup:
    eks: {call: describe-nodegroup}
";
    let e = only_error(&with_facts(facts), 8, 3, "this EKS call needs `name`");
    assert_hint(&e, "name:");
    let e = only_error(
        &with_facts(&facts.replace("describe-nodegroup", "describe-access-entry")),
        8,
        3,
        "needs `principalArn`",
    );
    assert_hint(&e, "principalArn:");
    // An unknown call is a format error at the value (line 9, `    eks: {call: describe-widget}`).
    only_error(
        &with_facts(&facts.replace("describe-nodegroup", "describe-widget")),
        9,
        17,
        "describe-widget",
    );
}

#[test]
fn bad_cloudwatch_duration() {
    let facts = "\
facts:
  phase:
    value: target.status.phase
  audit:
    cloudwatch:
      logGroup: /aws/eks/demo/cluster
      since: 6 hours
";
    // Line 11 is `      since: 6 hours`.
    let e = only_error(&with_facts(facts), 11, 14, "`6 hours` is not a duration");
    assert_hint(&e, "6h");
}

// ---------------------------------------------------------------- names and templates

#[test]
fn a_conclusion_code_not_upper_snake_case() {
    // Line 16 is `    code: demo-ok`.
    let e = only_error(
        &base_with("code: DEMO_OK", "code: demo-ok"),
        16,
        11,
        "not UPPER_SNAKE_CASE",
    );
    assert_hint(&e, "PVC_STORAGECLASS_NOT_FOUND");
}

#[test]
fn a_runbook_id_not_kebab_case() {
    let e = only_error(
        &base_with("id: demo", "id: Demo_Runbook"),
        1,
        5,
        "not kebab-case",
    );
    assert_hint(&e, "pvc-pending");
}

#[test]
fn a_template_with_an_unclosed_interpolation() {
    // Line 19 is `    summary: The pod is ${phase`: the text starts at column 14, the `${`
    // at 25.
    let e = only_error(
        &base_with(
            "summary: The pod is ${phase}",
            "summary: The pod is ${phase",
        ),
        19,
        25,
        "never closed",
    );
    assert_hint(&e, "close every `${` with `}`");
    // In a folded block, on the line where it is (line 21 is `      then ${phase`).
    let text = base_with(
        "summary: The pod is ${phase}",
        "summary: >-\n      The pod is ${phase}\n      then ${phase",
    );
    only_error(&text, 21, 12, "never closed");
}

// ---------------------------------------------------------------- the catalog

#[test]
fn a_broken_runbook_is_left_out_and_the_others_load() {
    let good = doc(FACTS, STEPS, CONCLUSIONS);
    let broken = base_with("id: demo", "id: broken").replacen("check:", "chek:", 1);
    let catalog = Catalog::from_files(vec![file("broken.yaml", &broken), file(FILE, &good)]);
    assert_eq!(catalog.ids(), ["demo"]);
    assert_eq!(catalog.errors.len(), 1, "{:?}", catalog.errors);
    let e = &catalog.errors[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.column),
        ("broken.yaml", 11, 5),
        "{e}"
    );
}

/// Steps (lines 8–18) that hand over to `pod-pending` on line 18, column 16.
const HANDOVER_STEPS: &str = "\
steps:
  - id: first
    title: Is it running?
    check: phase == 'Running'
    then: ok
    else: elsewhere
    unknown: broken
  - id: elsewhere
    title: Continue with the pod
    handover:
      runbook: pod-pending
";

#[test]
fn a_handover_to_a_runbook_that_is_not_loaded() {
    let handing = doc(FACTS, HANDOVER_STEPS, CONCLUSIONS).replacen("id: demo", "id: hands-over", 1);
    let good = doc(FACTS, STEPS, CONCLUSIONS);
    let catalog = Catalog::from_files(vec![file("hands-over.yaml", &handing), file(FILE, &good)]);
    assert_eq!(catalog.ids(), ["demo"]);
    assert_eq!(catalog.errors.len(), 1, "{:?}", catalog.errors);
    let e = &catalog.errors[0];
    assert_one_line(e, "hands-over.yaml");
    // Line 18 is `      runbook: pod-pending`.
    assert_eq!((e.line, e.column), (18, 16), "{e}");
    assert!(
        e.message.contains("`pod-pending`, which is not loaded"),
        "{e}"
    );
    // Quoted, at its quote.
    let quoted = handing.replacen("runbook: pod-pending", "runbook: 'pod-pending'", 1);
    let catalog = Catalog::from_files(vec![file("hands-over.yaml", &quoted)]);
    let found: Vec<(usize, usize)> = catalog.errors.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(found, [(18, 16)], "{:?}", catalog.errors);
    // Once the other runbook is there, the hand-over loads.
    let pod_pending = good.replacen("id: demo", "id: pod-pending", 1);
    let catalog = Catalog::from_files(vec![
        file("hands-over.yaml", &handing),
        file("pod-pending.yaml", &pod_pending),
    ]);
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    assert_eq!(catalog.ids(), ["hands-over", "pod-pending"]);
}

#[test]
fn a_handover_to_a_runbook_that_was_left_out() {
    // a → b → missing: b is dropped, so a's hand-over leads nowhere and a is dropped too.
    let steps = |to: &str| HANDOVER_STEPS.replace("pod-pending", to);
    let a = doc(FACTS, &steps("b"), CONCLUSIONS).replacen("id: demo", "id: a", 1);
    let b = doc(FACTS, &steps("missing"), CONCLUSIONS).replacen("id: demo", "id: b", 1);
    let good = doc(FACTS, STEPS, CONCLUSIONS);
    let catalog = Catalog::from_files(vec![
        file("a.yaml", &a),
        file("b.yaml", &b),
        file(FILE, &good),
    ]);
    assert_eq!(catalog.ids(), ["demo"], "{:?}", catalog.errors);
    let mut failed: Vec<(&str, usize, usize)> = catalog
        .errors
        .iter()
        .map(|e| (e.file.as_str(), e.line, e.column))
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [("a.yaml", 18, 16), ("b.yaml", 18, 16)],
        "{:?}",
        catalog.errors
    );
}

// ---------------------------------------------------------------- display

#[test]
fn errors_display_as_one_line_with_the_fix() {
    let e = only_error(
        &base_with("    check:", "    chek:"),
        11,
        5,
        "unknown field",
    );
    let shown = e.to_string();
    assert!(
        shown.starts_with("demo.yaml:11:5: unknown field `chek`"),
        "{shown}"
    );
    assert!(shown.ends_with(&format!(" (fix: {})", e.hint)), "{shown}");
    assert_eq!(shown.lines().count(), 1, "{shown}");
}

// ---------------------------------------------------------------- no panics

/// One edit of a runbook's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(prop::sample::Index, usize),
    Insert(prop::sample::Index, Vec<u8>),
    SwapLines(prop::sample::Index, prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to YAML, CEL and templates, plus anything at all.
    let byte = prop_oneof![
        3 => prop::sample::select(b" \n\t:-{}[]'\"#&*!|>%@`,$\\().=".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), 1..16usize).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(byte, 1..6)
        )
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        match m {
            Mutation::Delete(at, len) if !bytes.is_empty() => {
                let start = at.index(bytes.len());
                let end = (start + len).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Delete(..) => {}
            Mutation::Insert(at, b) => {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
                bytes = lines.join(&b'\n');
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    // No failure persistence: proptest finds no lib.rs or main.rs beside an integration test.
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(FILE, &text, false);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z_ :\\-{}\\[\\]'\"#|>$\n\t]{0,300}") {
        let _ = parse(FILE, &text, false);
        let _ = parse(FILE, &format!("{HEAD}{text}"), false);
    }

    #[test]
    fn mutated_pvc_pending_never_panics(mutations in prop::collection::vec(mutation(), 1..6)) {
        let text = apply(PVC_PENDING, &mutations);
        if let Err(errors) = parse("runbooks/pvc-pending.yaml", &text, true) {
            for e in &errors {
                prop_assert!(e.line >= 1 && e.column >= 1 && e.line <= text.lines().count() + 1, "{}", e);
                prop_assert!(!e.to_string().contains('\n'), "{:?}", e.to_string());
            }
        }
    }

    #[test]
    fn mutated_base_runbook_never_panics(mutations in prop::collection::vec(mutation(), 1..4)) {
        let text = apply(&doc(FACTS, STEPS, CONCLUSIONS), &mutations);
        let _ = Catalog::from_files(vec![file(FILE, &text)]);
    }
}

#[test]
fn when_absent_symptomatic_needs_an_optional_target_and_a_per_object_symptom() {
    // Optional, but no symptom to say which objects to walk.
    only_error(
        &base_with(
            "  kind: Pod\n",
            "  kind: Pod\n  optional: true\n  whenAbsent: symptomatic\n",
        ),
        4,
        9,
        "needs a per-object `symptom`",
    );
    // A symptom, but the target is required.
    let text = base_with(
        "  kind: Pod\n",
        "  kind: Pod\n  whenAbsent: symptomatic\nsymptom:\n  when: 'true'\n  severity: warning\n  reason: r\n",
    );
    only_error(&text, 4, 9, "needs `optional: true`");
    // defaultBecause belongs to a switch.
    only_error(
        &base_with(
            "    else: broken\n",
            "    else: broken\n    defaultBecause: why\n",
        ),
        9,
        9,
        "defaultBecause",
    );
}
