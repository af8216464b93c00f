//! The CEL environment runbooks are written in: the standard library, the Kubernetes
//! libraries (quantity, regex, lists, sets, strings, semver, ip/cidr, url, format) and
//! the functions runbooks need — `now()`, `age(x)`, `parseYaml(s)`, `yamlError(s)`,
//! `selects(selector, labels)`.
//! CEL always terminates, and evaluation is bounded besides (see `bounded`): no runbook
//! can hang the tool or exhaust its memory.

use super::access::AccessTree;
use super::bounded::{self, Plan};
use chrono::{DateTime, FixedOffset, Utc};
use kube_cel::KubeCelExt;
use kube_cel::cel::common::ast::{EntryExpr, Expr};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, IdedExpr, Program, ResolveResult, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A compiled expression with what it reads.
#[derive(Debug, Clone)]
pub struct Expression {
    pub source: String,
    plan: Arc<Plan>,
    /// Where the expression is written (`runbooks/x.yaml:12:9`), for errors at run time.
    pub at: Option<Arc<str>>,
    /// Identifiers read from outside the expression (macro variables excluded).
    pub free_variables: BTreeSet<String>,
    /// Functions called, including namespaced ones (`sets.contains`).
    pub functions: BTreeSet<String>,
    /// What the expression reads of each free variable (see `access`).
    pub access: BTreeMap<String, AccessTree>,
}

/// A CEL syntax error with its place inside the expression (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// It is valid CEL, refused for the work it would do or its nesting (`bounded`).
    pub limit: bool,
}

/// The CEL parser recurses deeply per bracket level (over 100 KB of stack each in a
/// debug build): expressions are limited to this nesting, and compiled on a thread
/// with a stack that holds it, so no runbook can crash ktriage.
pub const MAX_NESTING: usize = 32;

/// Runs `f` (which compiles CEL) on a thread whose stack fits `MAX_NESTING` levels;
/// fails only when the system cannot start a thread.
pub fn with_parser_stack<T: Send>(f: impl FnOnce() -> T + Send) -> std::io::Result<T> {
    const STACK: usize = 64 * 1024 * 1024;
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(s, f)?;
        Ok(handle
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// One character of CEL source outside string literals (their quotes included), with
/// its 1-based line and column and the character before it in the source.
struct Scanned {
    c: char,
    line: usize,
    column: usize,
    previous: char,
}

/// The characters of `source` that are code: what the load-time limits count.
fn outside_strings(source: &str) -> impl Iterator<Item = Scanned> + '_ {
    let (mut line, mut column) = (1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut previous = ' ';
    source.chars().filter_map(move |c| {
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
        }
        let before = std::mem::replace(&mut previous, c);
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                None
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                None
            }
            None => Some(Scanned {
                c,
                line,
                column,
                previous: before,
            }),
        }
    })
}

/// Where bracket nesting outside string literals first exceeds `MAX_NESTING` (1-based
/// line and column).
fn too_deep(source: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for Scanned {
        c, line, column, ..
    } in outside_strings(source)
    {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((line, column));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

impl Expression {
    pub fn compile(source: &str) -> Result<Expression, CompileError> {
        if let Some((line, column)) = too_deep(source) {
            return Err(CompileError {
                line,
                column,
                message: format!("brackets nest deeper than {MAX_NESTING} levels"),
                limit: true,
            });
        }
        if let Some((line, column, message)) = too_long_chain(source) {
            return Err(CompileError {
                line,
                column,
                message,
                limit: true,
            });
        }
        let program = Program::compile(source).map_err(|errors| {
            let first = errors.errors.first();
            CompileError {
                line: first.map_or(1, |e| e.pos.0.max(1) as usize),
                column: first.map_or(1, |e| e.pos.1.max(1) as usize),
                message: first.map_or_else(|| errors.to_string(), |e| e.msg.clone()),
                limit: false,
            }
        })?;
        let plan = Plan::new(program.expression()).map_err(|e| {
            let (line, column) = e
                .near
                .as_deref()
                .and_then(|near| position_of(source, near))
                .unwrap_or((1, 1));
            CompileError {
                line,
                column,
                message: e.message,
                limit: true,
            }
        })?;
        let mut free_variables = BTreeSet::new();
        let mut functions = BTreeSet::new();
        collect_references(
            program.expression(),
            &mut Vec::new(),
            &mut free_variables,
            &mut functions,
        );
        let access = super::access::analyze(program.expression());
        Ok(Expression {
            source: source.to_string(),
            access,
            plan: Arc::new(plan),
            at: None,
            free_variables,
            functions,
        })
    }

    /// Says where the expression is written, for its errors at run time.
    pub fn located(mut self, path: &str, line: usize, column: usize) -> Expression {
        self.at = Some(Arc::from(format!("{path}:{line}:{column}")));
        self
    }

    /// Evaluates with bounded work (see `bounded`). A limit reached is an error naming
    /// where the expression is written and which limit it was.
    pub fn eval(&self, ctx: &Context) -> ResolveResult {
        self.eval_with(ctx, &[])
    }

    /// [`Expression::eval`] with `vars` bound before `ctx`'s variables: handed over as
    /// they are, where a context copies each value deeply when it is bound and read.
    pub fn eval_with(&self, ctx: &Context, vars: &[(&str, Value)]) -> ResolveResult {
        // A panic left in the interpreter or a library function is this expression
        // failing, not the process.
        let outcome = crate::panics::guard(|| self.plan.eval(ctx, vars)).unwrap_or_else(|panic| {
            Err(ExecutionError::function_error(
                "(interpreter)",
                format!("the CEL interpreter failed on this expression: {panic}"),
            ))
        });
        outcome.map_err(|e| match bounded::limit_message(&e) {
            Some(m) => bounded::limit_error(match &self.at {
                Some(at) => format!("{at}: {m}"),
                None => m.to_string(),
            }),
            None => e,
        })
    }
}

/// Operators in a row at one bracket level. `a + b + c` is `(a + b) + c`: the parser's
/// tree is a level deeper per operator, and the parser recurses over it (30,000 fit its
/// stack; the tree's depth is limited after parsing, see `bounded::MAX_DEPTH`).
pub const MAX_CHAIN: usize = 1000;

/// How deep the parser's `expr` rule may nest: one per bracket level, one more per
/// `?` (a chained conditional, `a ? b : c ? d : e`, nests to the right). The parser
/// stops at 96 and then panics on its own counter.
pub const MAX_EXPR_NESTING: usize = 64;

/// Where the source first exceeds [`MAX_CHAIN`] or [`MAX_EXPR_NESTING`], and which
/// (1-based line and column, a message). Counted outside string literals: binary and
/// unary operators, `?` and `.` per bracket level, restarting at each `,`.
fn too_long_chain(source: &str) -> Option<(usize, usize, String)> {
    // Per open level: operators, and conditionals, since its last comma.
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    let nesting = |levels: &[(usize, usize)]| levels.iter().map(|(_, q)| 1 + q).sum::<usize>();
    for Scanned {
        c,
        line,
        column,
        previous,
    } in outside_strings(source)
    {
        let operator = match c {
            '(' | '[' | '{' => {
                levels.push((0, 0));
                if nesting(&levels) > MAX_EXPR_NESTING {
                    return Some((line, column, nesting_message()));
                }
                false
            }
            ')' | ']' | '}' => {
                if levels.len() > 1 {
                    levels.pop();
                }
                false
            }
            ',' => {
                if let Some(l) = levels.last_mut() {
                    *l = (0, 0);
                }
                false
            }
            '?' => {
                if let Some(l) = levels.last_mut() {
                    l.1 += 1;
                }
                if nesting(&levels) > MAX_EXPR_NESTING {
                    return Some((line, column, nesting_message()));
                }
                true
            }
            // `&&`, `||`, `==`, `!=`, `<=`, `>=` count once.
            '&' | '|' | '=' => previous != c && !matches!(previous, '!' | '<' | '>' | '='),
            // A dot inside a number (`1.5`) is not an operator.
            '.' => !previous.is_ascii_digit(),
            '+' | '-' | '*' | '/' | '%' | '<' | '>' | '!' => true,
            _ => false,
        };
        if operator && let Some(l) = levels.last_mut() {
            l.0 += 1;
            if l.0 > MAX_CHAIN {
                return Some((
                    line,
                    column,
                    format!(
                        "more than {MAX_CHAIN} operators in a row without brackets; split the \
                         expression (a fact can hold a part of it)"
                    ),
                ));
            }
        }
    }
    None
}

fn nesting_message() -> String {
    format!(
        "brackets and chained conditionals (`a ? b : c ? d : e`) nest deeper than \
         {MAX_EXPR_NESTING} levels"
    )
}

/// The 1-based line and column of the first occurrence of `needle` in `source`.
fn position_of(source: &str, needle: &str) -> Option<(usize, usize)> {
    Some(crate::text::line_col(source, source.find(needle)?))
}

/// Free identifiers and function names, respecting comprehension scopes and the
/// interpreter's `prefix.function` namespacing.
fn collect_references(
    e: &IdedExpr,
    bound: &mut Vec<String>,
    vars: &mut BTreeSet<String>,
    functions: &mut BTreeSet<String>,
) {
    match &e.expr {
        Expr::Ident(name) => {
            if !bound.iter().any(|b| b == name) {
                vars.insert(name.clone());
            }
        }
        Expr::Select(select) => collect_references(&select.operand, bound, vars, functions),
        Expr::Call(call) => {
            let is_operator = call.func_name.starts_with('_')
                || call.func_name.starts_with('@')
                || call.func_name.ends_with('_');
            match call.target.as_deref() {
                Some(IdedExpr {
                    expr: Expr::Ident(prefix),
                    ..
                }) if !bound.iter().any(|b| b == prefix) && bounded::is_namespace(prefix) => {
                    functions.insert(format!("{prefix}.{}", call.func_name));
                }
                Some(target) => {
                    collect_references(target, bound, vars, functions);
                    if !is_operator {
                        functions.insert(call.func_name.clone());
                    }
                }
                None => {
                    if !is_operator {
                        functions.insert(call.func_name.clone());
                    }
                }
            }
            for arg in &call.args {
                collect_references(arg, bound, vars, functions);
            }
        }
        Expr::Comprehension(c) => {
            collect_references(&c.iter_range, bound, vars, functions);
            collect_references(&c.accu_init, bound, vars, functions);
            let depth = bound.len();
            bound.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                bound.push(v2.clone());
            }
            bound.push(c.accu_var.clone());
            collect_references(&c.loop_cond, bound, vars, functions);
            collect_references(&c.loop_step, bound, vars, functions);
            collect_references(&c.result, bound, vars, functions);
            bound.truncate(depth);
        }
        Expr::List(list) => {
            for el in &list.elements {
                collect_references(el, bound, vars, functions);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    collect_references(&me.key, bound, vars, functions);
                    collect_references(&me.value, bound, vars, functions);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                match &entry.expr {
                    EntryExpr::StructField(f) => {
                        collect_references(&f.value, bound, vars, functions)
                    }
                    EntryExpr::MapEntry(me) => {
                        collect_references(&me.key, bound, vars, functions);
                        collect_references(&me.value, bound, vars, functions);
                    }
                }
            }
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The root context: every library function plus `now()` and `age()` bound to the
/// source's notion of now. Built once per round; walks bind variables in child scopes.
pub struct Environment {
    root: Context<'static>,
    now: DateTime<Utc>,
    /// The EKS cluster's name, for commands a user can paste.
    cluster: Option<String>,
}

impl Environment {
    pub fn new(now: DateTime<Utc>) -> Self {
        let mut root = Context::default().with_all();
        let fixed_now: DateTime<FixedOffset> = now.fixed_offset();
        root.add_function("now", move || -> ResolveResult {
            Ok(Value::Timestamp(fixed_now))
        });
        root.add_function("age", move |v: Value| -> ResolveResult {
            let since = timestamp_of(&v).ok_or_else(|| {
                ExecutionError::function_error(
                    "age",
                    "expects an object with metadata.creationTimestamp, an RFC 3339 string or a timestamp",
                )
            })?;
            Ok(Value::Duration(fixed_now.signed_duration_since(since)))
        });
        root.add_function("parseYaml", |s: Arc<String>| -> ResolveResult {
            match parse_yaml(&s) {
                Ok(v) => Ok(json_to_cel(&v)),
                Err(YamlFailure::Invalid(e)) => Err(ExecutionError::function_error("parseYaml", e)),
                Err(YamlFailure::Bound(e)) => Err(bounded::limit_error(format!("parseYaml: {e}"))),
            }
        });
        // A bound is not a syntax error: the text may well be valid YAML, ktriage just
        // does not read that much of it, so the evaluation fails rather than answer.
        root.add_function("yamlError", |s: Arc<String>| -> ResolveResult {
            match parse_yaml(&s) {
                Ok(_) => Ok(Value::String(Arc::new(String::new()))),
                Err(YamlFailure::Invalid(e)) => Ok(Value::String(Arc::new(e))),
                Err(YamlFailure::Bound(e)) => Err(bounded::limit_error(format!("yamlError: {e}"))),
            }
        });
        root.add_function(
            "selects",
            |selector: Value, labels: Value| -> ResolveResult {
                selects(&cel_to_json(&selector), &cel_to_json(&labels))
                    .map(Value::Bool)
                    .map_err(|e| ExecutionError::function_error("selects", e))
            },
        );
        // cel-rust has no `type()`; YAML parsed at run time needs its shape checked.
        root.add_function("typeName", |v: Value| -> ResolveResult {
            let name = match v {
                Value::List(_) => "list",
                Value::Map(_) => "map",
                Value::String(_) => "string",
                Value::Int(_) => "int",
                Value::UInt(_) => "uint",
                Value::Float(_) => "double",
                Value::Bool(_) => "bool",
                Value::Null => "null",
                Value::Timestamp(_) => "timestamp",
                Value::Duration(_) => "duration",
                Value::Bytes(_) => "bytes",
                _ => "other",
            };
            Ok(Value::String(Arc::new(name.to_string())))
        });
        Environment {
            root,
            now,
            cluster: None,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn with_cluster(mut self, cluster: Option<String>) -> Self {
        self.cluster = cluster;
        self
    }

    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    pub fn root(&self) -> &Context<'static> {
        &self.root
    }

    /// Whether a function of this name exists: the interpreter is asked to call it with
    /// no arguments and says "undeclared" only for names it does not know.
    pub fn has_function(&self, name: &str) -> bool {
        let call = IdedExpr {
            id: 1,
            expr: Expr::Call(kube_cel::cel::common::ast::CallExpr {
                func_name: name.to_string(),
                target: None,
                args: Vec::new(),
            }),
        };
        // Called with no arguments, a function may panic instead of erroring: it exists.
        let outcome = crate::panics::guard(|| self.root.resolve(&call));
        !matches!(outcome, Ok(Err(ExecutionError::UndeclaredReference(ref n))) if n.as_str() == name)
    }
}

/// Kubernetes selector semantics, for a `LabelSelector` (`matchLabels` and
/// `matchExpressions`) or a node selector term (`matchExpressions`, `matchFields` not
/// supported): every requirement must hold. An empty selector selects everything; a
/// null one nothing, as the API treats them. `labels` may be null (no labels).
pub fn selects(selector: &serde_json::Value, labels: &serde_json::Value) -> Result<bool, String> {
    use serde_json::Value as J;
    let selector = match selector {
        J::Null => return Ok(false),
        J::Object(s) => s,
        other => return Err(format!("a selector is an object, not {other}")),
    };
    let label = |k: &str| labels.get(k).and_then(J::as_str);
    if let Some(ml) = selector.get("matchLabels").and_then(J::as_object) {
        for (k, v) in ml {
            if label(k) != v.as_str() {
                return Ok(false);
            }
        }
    }
    for req in selector
        .get("matchExpressions")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let key = req
            .get("key")
            .and_then(J::as_str)
            .ok_or("a requirement has no key")?;
        let op = req
            .get("operator")
            .and_then(J::as_str)
            .ok_or("a requirement has no operator")?;
        let values: Vec<&str> = req
            .get("values")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(J::as_str)
            .collect();
        let have = label(key);
        let number = |s: &str| s.parse::<i64>().ok();
        let holds = match op {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            "Gt" | "Lt" => match (
                have.and_then(number),
                values.first().and_then(|v| number(v)),
            ) {
                (Some(h), Some(v)) => {
                    if op == "Gt" {
                        h > v
                    } else {
                        h < v
                    }
                }
                _ => false,
            },
            other => return Err(format!("unknown selector operator `{other}`")),
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The most YAML `parseYaml` reads: a ConfigMap (where runbooks find YAML, `aws-auth`'s
/// `mapRoles`) holds at most 1 MiB.
pub const MAX_YAML_BYTES: usize = 1024 * 1024;

/// Why YAML text gives no value.
#[derive(Debug, Clone, PartialEq)]
pub enum YamlFailure {
    /// It is not YAML: "line L column C: message".
    Invalid(String),
    /// It is larger, deeper or expands to more than ktriage reads (the message says which).
    Bound(String),
}

/// YAML text as JSON, in time and memory linear in the text: at most [`MAX_YAML_BYTES`],
/// nested at most 64 deep, and aliases expanded into at most 100,000 events in all (a
/// "billion laughs" document stops there).
pub fn parse_yaml(text: &str) -> Result<serde_json::Value, YamlFailure> {
    if text.len() > MAX_YAML_BYTES {
        return Err(YamlFailure::Bound(format!(
            "the text is {} bytes, more than the {} KiB ktriage reads as YAML (a ConfigMap holds \
             at most 1 MiB)",
            bounded::thousands(text.len() as u128),
            MAX_YAML_BYTES / 1024
        )));
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 64;
    budget.max_documents = 1;
    budget.max_nodes = 250_000;
    budget.max_aliases = 10_000;
    budget.max_anchors = 10_000;
    budget.max_total_scalar_bytes = MAX_YAML_BYTES;
    budget.max_merge_keys = 10_000;
    budget.flow_nesting_limit = 64;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 100_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options.with_snippet = false;
    serde_saphyr::from_str_with_options::<serde_json::Value>(text, options).map_err(|e| {
        let mut inner = &e;
        while let serde_saphyr::Error::AliasError { error, .. }
        | serde_saphyr::Error::WithSnippet { error, .. } = inner
        {
            inner = error;
        }
        let at = e
            .location()
            .map(|l| format!("line {} column {}: ", l.line(), l.column()))
            .unwrap_or_default();
        match inner {
            serde_saphyr::Error::Budget {
                breach: serde_saphyr::budget::BudgetBreach::Depth { .. },
                ..
            } => YamlFailure::Bound(format!("{at}{DEEPER}")),
            serde_saphyr::Error::ExternalMessage { msg, .. }
                if msg == "recursion limit exceeded" =>
            {
                YamlFailure::Bound(format!("{at}{DEEPER}"))
            }
            serde_saphyr::Error::AliasReplayLimitExceeded { .. }
            | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. }
            | serde_saphyr::Error::AliasReplayCounterOverflow { .. }
            | serde_saphyr::Error::AliasExpansionLimitExceeded { .. } => {
                YamlFailure::Bound(format!(
                    "{at}its aliases expand to more than 100,000 nodes (an alias bomb, \"billion \
                 laughs\"); ktriage reads no more"
                ))
            }
            serde_saphyr::Error::Budget { .. } => YamlFailure::Bound(yaml_error_text(&e)),
            _ => YamlFailure::Invalid(yaml_error_text(&e)),
        }
    })
}

const DEEPER: &str = "the YAML nests deeper than 64 levels; ktriage reads no deeper";

/// "line L column C: message", the parser's own words and position.
pub fn yaml_error_text(e: &serde_saphyr::Error) -> String {
    let inner = e.without_snippet();
    let mut message = inner.to_string();
    // The display form starts with its own "error: line L column C: " prefix.
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_string();
    }
    let mut message = message.lines().next().unwrap_or_default().to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    match e.location() {
        Some(loc) if !message.starts_with("line ") => {
            format!("line {} column {}: {message}", loc.line(), loc.column())
        }
        _ => message,
    }
}

fn timestamp_of(v: &Value) -> Option<DateTime<FixedOffset>> {
    match v {
        Value::Timestamp(t) => Some(*t),
        Value::String(s) => DateTime::parse_from_rfc3339(s).ok(),
        Value::Map(m) => {
            let meta = m.map.get(&Key::String(Arc::new("metadata".into())))?;
            match meta {
                Value::Map(meta) => timestamp_of(
                    meta.map
                        .get(&Key::String(Arc::new("creationTimestamp".into())))?,
                ),
                _ => None,
            }
        }
        _ => None,
    }
}

/// JSON as CEL sees it: integers are `int` (as in Kubernetes CEL), other numbers `double`.
pub fn json_to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(json_to_cel).collect()))
        }
        serde_json::Value::Object(map) => {
            let mut out = HashMap::with_capacity(map.len());
            for (k, v) in map {
                out.insert(Key::String(Arc::new(k.clone())), json_to_cel(v));
            }
            Value::Map(Map { map: Arc::new(out) })
        }
    }
}

/// CEL back to JSON, for records and evidence. Map keys are sorted so output is stable.
pub fn cel_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::UInt(u) => (*u).into(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::String(s) => s.as_str().into(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned().into(),
        Value::List(items) => items.iter().map(cel_to_json).collect(),
        Value::Map(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m
                .map
                .iter()
                .map(|(k, v)| (key_text(k), cel_to_json(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().collect())
        }
        Value::Duration(d) => human_duration(*d).into(),
        Value::Timestamp(t) => t
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            .into(),
        other => format!("{other:?}").into(),
    }
}

fn key_text(k: &Key) -> String {
    match k {
        Key::String(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

/// How a value reads inside text: strings as they are, durations as `2h5m`, lists
/// comma-separated, `null` as `none`.
pub fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Null => "none".to_string(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format!("{f}"),
        Value::Duration(d) => human_duration(*d),
        Value::Timestamp(t) => t
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Value::List(items) => items.iter().map(render).collect::<Vec<_>>().join(", "),
        other => cel_to_json(other).to_string(),
    }
}

/// Durations read as kubectl prints ages, so a runbook's "for 19m" matches `kubectl get`.
pub fn human_duration(d: chrono::Duration) -> String {
    crate::text::kubectl_duration(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn env() -> Environment {
        Environment::new(Utc.with_ymd_and_hms(2026, 11, 20, 3, 12, 44).unwrap())
    }

    fn eval(src: &str, vars: &[(&str, serde_json::Value)]) -> ResolveResult {
        let env = env();
        let mut ctx = env.root().new_inner_scope();
        for (name, v) in vars {
            ctx.add_variable_from_value(*name, json_to_cel(v));
        }
        Expression::compile(src).unwrap().eval(&ctx)
    }

    #[test]
    fn free_variables_exclude_macro_variables_and_namespaces() {
        let e = Expression::compile(
            "pods.exists(p, p.x == target.y) && sets.contains([1], [1]) && size(q) > 0",
        )
        .unwrap();
        assert_eq!(
            e.free_variables
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["pods", "q", "target"]
        );
        assert!(e.functions.contains("sets.contains"));
        assert!(e.functions.contains("size"));
        assert!(
            !e.functions
                .iter()
                .any(|f| f.starts_with('_') || f.starts_with('@'))
        );
    }

    #[test]
    fn compile_errors_carry_position() {
        let err = Expression::compile("a.b +\n  c)").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.message.contains("extraneous") || err.message.contains("mismatched"),
            "{}",
            err.message
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let ok = format!("{}true{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        let compiled = with_parser_stack(|| Expression::compile(&ok).is_ok()).unwrap();
        assert!(compiled, "the limit itself compiles on the parser's stack");
        let deep = format!("{}true{}", "[".repeat(3000), "]".repeat(3000));
        let err = Expression::compile(&deep).unwrap_err();
        assert_eq!((err.line, err.column), (1, MAX_NESTING + 1));
        assert!(err.message.contains("nest deeper"));
        // Brackets inside strings do not count.
        assert!(Expression::compile(&format!("'{}' == 'x'", "(".repeat(100))).is_ok());
    }

    #[test]
    fn json_integers_are_cel_ints() {
        let v = eval("x.n * 2 == 6", &[("x", serde_json::json!({"n": 3}))]).unwrap();
        assert_eq!(v, Value::Bool(true));
    }

    #[test]
    fn age_reads_creation_timestamp() {
        let pod = serde_json::json!({"metadata": {"creationTimestamp": "2026-11-20T02:53:44Z"}});
        assert_eq!(
            eval("age(p) > duration('18m')", &[("p", pod.clone())]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            eval("age(p) > duration('20m')", &[("p", pod)]).unwrap(),
            Value::Bool(false)
        );
        assert!(eval("age('not a time')", &[]).is_err());
    }

    #[test]
    fn parse_yaml_and_its_error() {
        assert_eq!(
            eval("parseYaml('- a: 1\\n')[0].a", &[]).unwrap(),
            Value::Int(1)
        );
        let err = eval("yamlError('- rolearn: x\\n    groups: [a\\n')", &[]).unwrap();
        let Value::String(text) = err else {
            panic!("not a string")
        };
        assert!(text.starts_with("line 2 column"), "{text}");
        assert_eq!(
            eval("yamlError('a: 1')", &[]).unwrap(),
            Value::String(Arc::new(String::new()))
        );
    }

    /// Syntax errors are answers (`yamlError` says them); bounds are not, since the text
    /// may be valid YAML that ktriage does not read that far.
    #[test]
    fn yaml_over_a_bound_is_not_invalid_yaml() {
        assert!(
            matches!(parse_yaml("- a: [1\n"), Err(YamlFailure::Invalid(e)) if e.starts_with("line "))
        );
        let bound = |text: &str| match parse_yaml(text) {
            Err(YamlFailure::Bound(e)) => e,
            other => panic!("not a bound: {other:?}"),
        };
        assert!(bound(&"x".repeat(MAX_YAML_BYTES + 1)).contains("1024 KiB"));
        assert!(
            bound(&format!("{}1{}", "[".repeat(65), "]".repeat(65))).contains("deeper than 64")
        );
        let merges: String = (0..200).map(|i| format!("m{i}: {{<<: *b}}\n")).collect();
        assert!(bound(&format!("b: &b {{x: 1}}\n{merges}")).contains("budget"));
        assert!(parse_yaml(&format!("{}1{}", "[".repeat(60), "]".repeat(60))).is_ok());
        // The limit reaches the evaluation, named as a limit.
        let e = eval(
            "yamlError(s) == ''",
            &[("s", serde_json::json!("x".repeat(MAX_YAML_BYTES + 1)))],
        )
        .unwrap_err();
        assert!(
            bounded::limit_message(&e).is_some_and(|m| m.starts_with("yamlError: ")),
            "{e}"
        );
    }

    /// kube-cel scales quantities by powers of ten in an i128: an overflow is an error
    /// (checked in release builds too, see Cargo.toml), never a wrong comparison.
    #[test]
    fn a_library_overflow_is_an_error() {
        let e = eval("quantity('1e99').isGreaterThan(quantity('1m'))", &[]).unwrap_err();
        assert!(e.to_string().contains("overflow"), "{e}");
    }

    #[test]
    fn kubernetes_libraries_are_present() {
        let e = env();
        for f in [
            "quantity",
            "sets.contains",
            "cidr",
            "semver",
            "find",
            "lowerAscii",
            "now",
            "age",
            "parseYaml",
        ] {
            assert!(e.has_function(f), "{f}");
        }
        assert!(!e.has_function("noSuchFunction"));
        assert_eq!(
            eval("quantity('1Gi').isGreaterThan(quantity('500Mi'))", &[]).unwrap(),
            Value::Bool(true)
        );
    }

    #[test]
    fn selectors_follow_kubernetes_semantics() {
        let labels = serde_json::json!({"app": "web", "tier": "front", "zone": "3"});
        let cases = [
            ("{}", true),
            ("null", false),
            (r#"{"matchLabels": {"app": "web"}}"#, true),
            (r#"{"matchLabels": {"app": "db"}}"#, false),
            (
                r#"{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}"#,
                true,
            ),
            (
                r#"{"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}"#,
                false,
            ),
            (
                r#"{"matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["x"]}]}"#,
                true,
            ),
            (
                r#"{"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}"#,
                true,
            ),
            (
                r#"{"matchExpressions": [{"key": "app", "operator": "Exists"}]}"#,
                true,
            ),
            (
                r#"{"matchExpressions": [{"key": "zone", "operator": "Gt", "values": ["2"]}]}"#,
                true,
            ),
            (
                r#"{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "zone", "operator": "Lt", "values": ["2"]}]}"#,
                false,
            ),
        ];
        for (selector, want) in cases {
            let s: serde_json::Value = serde_json::from_str(selector).unwrap();
            assert_eq!(selects(&s, &labels), Ok(want), "{selector}");
        }
        assert!(
            selects(
                &serde_json::json!({"matchExpressions": [{"key": "a", "operator": "Near"}]}),
                &labels
            )
            .is_err()
        );
        assert_eq!(
            selects(
                &serde_json::json!({"matchLabels": {"a": "b"}}),
                &serde_json::Value::Null
            ),
            Ok(false)
        );
        assert_eq!(
            eval(
                "selects({'matchLabels': {'app': 'web'}}, p.metadata.labels)",
                &[(
                    "p",
                    serde_json::json!({"metadata": {"labels": {"app": "web"}}})
                )]
            )
            .unwrap(),
            Value::Bool(true)
        );
    }

    #[test]
    fn durations_render_like_kubectl() {
        assert_eq!(human_duration(chrono::Duration::seconds(42)), "42s");
        assert_eq!(human_duration(chrono::Duration::seconds(18 * 60)), "18m");
        assert_eq!(
            human_duration(chrono::Duration::seconds(3 * 60 + 5)),
            "3m5s"
        );
        assert_eq!(
            human_duration(chrono::Duration::seconds(2 * 3600 + 300)),
            "125m"
        );
        assert_eq!(
            human_duration(chrono::Duration::seconds(3 * 86_400 + 4 * 3600)),
            "3d4h"
        );
        assert_eq!(
            human_duration(chrono::Duration::seconds(5 * 3600 + 20 * 60)),
            "5h20m"
        );
        assert_eq!(human_duration(chrono::Duration::seconds(-90)), "-90s");
    }
}
