//! CEL evaluation with bounded work: every evaluation ends soon, in bounded memory, or
//! fails with a limit error — never a panic, a hang or an allocation the machine cannot
//! make.
//!
//! CEL has no loops, so it terminates, but the `cel` crate's tree-walking interpreter
//! still does unbounded work on a short expression: `lists.range(n)` and `format` take
//! sizes from their arguments, macros copy their accumulator on every step (a `map` over
//! n items is n² copies), and each value is deep-copied wherever it is read. So ktriage
//! walks the parser's tree itself: literals, names, field and index access, list and map
//! building, comprehensions and the logical operators are evaluated here on `Value`s
//! (shared, copy-free), and every other call is handed to the crate's function library
//! with its arguments already evaluated. Each step is charged to a budget, every value
//! built is checked against a size cap, and the functions that take a size from their
//! input are checked before they run. The limits, and why these numbers:
//!
//! - [`COST_LIMIT`]: the steps one evaluation may take. Kubernetes gives one CEL
//!   expression `PerCallLimit` = 1,000,000 and one request `RuntimeCELCostBudget` =
//!   10,000,000 (k8s.io/apiserver/pkg/apis/cel/config.go). A runbook expression runs over
//!   a whole cluster's list of pods, not one object, so it gets the request budget. A unit
//!   is a node evaluated, a loop step, an item of a list or map built or copied, or ten
//!   bytes of a string (Kubernetes' traversal factor of 0.1), so a `filter` over 150,000
//!   pods costs about 1.5 million, and a budget's worth of work took 0.9 s in a debug
//!   build (nested `map`s over 5,000 items).
//! - [`MAX_STRING_BYTES`] and [`MAX_ITEMS`]: a value built during an evaluation holds at
//!   most 4 MiB of text (above any Kubernetes object, the 1 MiB ConfigMap limit, with room
//!   for a log tail) or 1,000,000 items. Values read from the cluster are not capped:
//!   they are the input.
//! - [`MAX_DEPTH`]: the expression tree nests at most this deep, so evaluating and
//!   dropping it fit any thread's stack (a tokio worker has 2 MiB). Values are only as
//!   deep as their input plus this, since no macro can wrap its own accumulator.
//! - [`MAX_PRECISION`]: `format`'s `%.Nf`/`%.Ne`; f64 has 17 significant digits.
//! - Regular expressions compile to at most [`REGEX_SIZE_LIMIT`] bytes and each
//!   compilation of a pattern built at run time costs [`REGEX_COMPILE_COST`]; patterns
//!   written in the runbook compile once, at load.
//!
//! What can be decided without data is decided at load (see [`Plan::new`]): the depth,
//! literal arguments of `lists.range` and `format`, literal regular expressions, and a
//! floor of the cost (loops over `lists.range(N)` or list literals) that no data can lower.

use kube_cel::cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue, operators};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, ExecutionError, IdedExpr, ResolveResult, Value};
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// Steps one evaluation may take (see the module documentation for the unit).
pub const COST_LIMIT: u64 = 10_000_000;
/// Bytes of a string (or bytes value) built during an evaluation.
pub const MAX_STRING_BYTES: usize = 4 * 1024 * 1024;
/// Items of a list or entries of a map built during an evaluation.
pub const MAX_ITEMS: usize = 1_000_000;
/// How deep the expression tree may nest: operator chains (`a + b + ...`), selections,
/// calls and macros all add a level. The built-in runbooks reach 33; 31 macros nested
/// in one another (as deep as brackets may nest) reach 63.
pub const MAX_DEPTH: usize = 100;
/// The largest precision `format` accepts.
pub const MAX_PRECISION: usize = 1000;
/// The compiled size of one regular expression, in bytes (the regex crate's default is
/// 10 MiB): what one pattern's compilation may build.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// What compiling a pattern built at run time costs.
pub const REGEX_COMPILE_COST: u64 = 10_000;

/// The function name a limit error carries, to tell it from the expression's own errors.
pub const LIMIT: &str = "(ktriage limit)";

/// Evaluation stopped at a limit (the message says which).
pub fn limit_error(message: impl Into<String>) -> ExecutionError {
    ExecutionError::FunctionError {
        function: LIMIT.to_string(),
        message: message.into(),
    }
}

/// The message of a limit error; `None` for any other error.
pub fn limit_message(e: &ExecutionError) -> Option<&str> {
    match e {
        ExecutionError::FunctionError { function, message } if function == LIMIT => Some(message),
        _ => None,
    }
}

/// What cannot run whatever the data: a message and the text it is about, whose first
/// occurrence in the source is where the error points.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticError {
    pub message: String,
    pub near: Option<String>,
}

impl StaticError {
    fn new(message: impl Into<String>, near: Option<String>) -> StaticError {
        StaticError {
            message: message.into(),
            near,
        }
    }
}

/// An expression ready to be evaluated with bounded work.
#[derive(Debug)]
pub struct Plan {
    root: Node,
}

/// A call handed to the `cel` crate: the call itself with every operand replaced by a
/// name (`@t`, `@0`, `@1`...) bound to its value in a scope of its own.
#[derive(Debug)]
struct Delegate {
    call: IdedExpr,
    args: Vec<String>,
}

const TARGET: &str = "@t";

impl Delegate {
    fn new(func: &str, target: Option<IdedExpr>, args: usize) -> Delegate {
        let args: Vec<String> = (0..args).map(|i| format!("@{i}")).collect();
        Delegate {
            call: IdedExpr {
                id: 0,
                expr: Expr::Call(CallExpr {
                    func_name: func.to_string(),
                    target: target.map(Box::new),
                    args: args.iter().map(|a| ident(a)).collect(),
                }),
            },
            args,
        }
    }
}

fn ident(name: &str) -> IdedExpr {
    IdedExpr {
        id: 0,
        expr: Expr::Ident(name.to_string()),
    }
}

#[derive(Debug)]
enum Node {
    Literal(Value),
    Ident(String),
    Select {
        operand: Box<Node>,
        key: Key,
        test: bool,
    },
    Index(Box<(Node, Node)>, Delegate),
    List(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Comprehension(Box<Comprehension>),
    Conditional(Box<(Node, Node, Node)>),
    And(Box<(Node, Node)>),
    Or(Box<(Node, Node)>),
    Not(Box<Node>),
    NotStrictlyFalse(Box<Node>),
    Add(Box<(Node, Node)>, Delegate),
    Equals {
        operands: Box<(Node, Node)>,
        negate: bool,
        delegate: Delegate,
    },
    Call(Box<Call>),
    /// Syntax the interpreter cannot evaluate either (message construction); an error
    /// when reached, as it always was.
    Unsupported(String),
}

#[derive(Debug)]
struct Comprehension {
    range: Node,
    iter_var: String,
    accu_var: String,
    init: Node,
    cond: Node,
    step: Step,
    result: Node,
}

/// A macro's loop step. `map` and `filter` append to their accumulator (`@result +
/// [x]`, maybe under a condition): done in place, that is one step per item where the
/// interpreter copies the whole list each time.
#[derive(Debug)]
enum Step {
    Append { when: Option<Node>, items: Node },
    Any(Node),
}

#[derive(Debug)]
struct Call {
    /// `lists.range` for a namespaced function, else the function's own name.
    name: String,
    target: Target,
    args: Vec<Node>,
    delegate: Delegate,
    /// A literal pattern of `matches`, `find` or `findAll`, compiled at load.
    pattern: Option<Arc<Regex>>,
}

#[derive(Debug)]
enum Target {
    None,
    /// `sets.contains(...)`: the crate looks for the namespaced function first, then
    /// takes the name as a variable, as it always did.
    Namespace(String),
    Value(Node),
}

/// Prefixes of the namespaced functions the Kubernetes libraries register.
pub fn is_namespace(prefix: &str) -> bool {
    matches!(
        prefix,
        "sets"
            | "math"
            | "base64"
            | "strings"
            | "lists"
            | "format"
            | "ip"
            | "jsonpatch"
            | "optional"
    )
}

impl Plan {
    /// Checks what can be checked without data and prepares `e` for evaluation.
    /// `e` must not nest deeper than [`MAX_DEPTH`]: see [`depth_exceeds`].
    pub fn new(e: &IdedExpr) -> Result<Plan, StaticError> {
        if depth_exceeds(e, MAX_DEPTH) {
            return Err(StaticError::new(
                format!(
                    "the expression nests deeper than {MAX_DEPTH} levels (operators, calls, \
                     selections and macros each add one)"
                ),
                None,
            ));
        }
        let root = node(e)?;
        let floor = root.floor().cost;
        if floor > u128::from(COST_LIMIT) {
            return Err(StaticError::new(
                format!(
                    "evaluating this takes at least {} steps whatever the data; one evaluation may \
                     take {}",
                    thousands(floor),
                    thousands(u128::from(COST_LIMIT))
                ),
                None,
            ));
        }
        Ok(Plan { root })
    }

    /// Evaluates with `vars`, then `ctx`'s variables, and `ctx`'s functions. A limit
    /// reached anywhere is the result, even where `||` or `&&` would have absorbed an
    /// error. Values in `vars` are read as they are; the context's are copied once.
    pub fn eval(&self, ctx: &Context, vars: &[(&str, Value)]) -> ResolveResult {
        self.run(ctx, vars).0
    }

    /// The result and the steps it took.
    fn run(&self, ctx: &Context, vars: &[(&str, Value)]) -> (ResolveResult, u64) {
        let mut run = Run {
            ctx,
            vars,
            spent: 0,
            locals: Vec::new(),
            globals: HashMap::new(),
            regexes: HashMap::new(),
            limit: None,
        };
        let outcome = run.eval(&self.root);
        let spent = run.spent;
        match run.limit {
            Some(limit) => (Err(limit), spent),
            None => (outcome, spent),
        }
    }
}

/// Whether `e` nests deeper than `max`, looking no deeper than that (the tree may be
/// deeper than the stack can walk).
pub fn depth_exceeds(e: &IdedExpr, max: usize) -> bool {
    fn deeper(e: &IdedExpr, left: usize) -> bool {
        let Some(left) = left.checked_sub(1) else {
            return true;
        };
        children(e).into_iter().any(|c| deeper(c, left))
    }
    deeper(e, max)
}

fn boxed2(a: &IdedExpr, b: &IdedExpr) -> Result<Box<(Node, Node)>, StaticError> {
    Ok(Box::new((node(a)?, node(b)?)))
}

fn node(e: &IdedExpr) -> Result<Node, StaticError> {
    Ok(match &e.expr {
        Expr::Literal(l) => Node::Literal(literal(l)),
        Expr::Ident(name) => Node::Ident(name.clone()),
        Expr::Select(s) => Node::Select {
            operand: Box::new(node(&s.operand)?),
            key: Key::String(Arc::new(s.field.clone())),
            test: s.test,
        },
        Expr::List(l) if l.optional_indices.is_empty() => {
            Node::List(l.elements.iter().map(node).collect::<Result<_, _>>()?)
        }
        Expr::Map(m) => {
            let mut entries = Vec::with_capacity(m.entries.len());
            for en in &m.entries {
                match &en.expr {
                    EntryExpr::MapEntry(me) if !me.optional => {
                        entries.push((node(&me.key)?, node(&me.value)?));
                    }
                    _ => return Ok(Node::Unsupported("optional map entries".into())),
                }
            }
            Node::Map(entries)
        }
        Expr::Comprehension(c) => {
            if c.iter_var2.is_some() {
                return Ok(Node::Unsupported("two-variable comprehensions".into()));
            }
            Node::Comprehension(Box::new(Comprehension {
                range: node(&c.iter_range)?,
                iter_var: c.iter_var.clone(),
                accu_var: c.accu_var.clone(),
                init: node(&c.accu_init)?,
                cond: node(&c.loop_cond)?,
                step: step(&c.loop_step, &c.accu_var)?,
                result: node(&c.result)?,
            }))
        }
        Expr::Call(c) => call(c)?,
        Expr::List(_) => Node::Unsupported("optional list elements".into()),
        Expr::Struct(s) => Node::Unsupported(format!("message construction ({})", s.type_name)),
        Expr::Unspecified => Node::Unsupported("an empty expression".into()),
    })
}

fn literal(l: &LiteralValue) -> Value {
    // Every literal's type converts; the fallback is never taken.
    Value::try_from(l.to_val().as_ref()).unwrap_or(Value::Null)
}

/// `@result + X` or `cond ? @result + X : @result`, with neither `cond` nor `X` reading
/// `@result`, becomes an append.
fn step(e: &IdedExpr, accu: &str) -> Result<Step, StaticError> {
    fn is_accu(x: &IdedExpr, accu: &str) -> bool {
        matches!(&x.expr, Expr::Ident(n) if n == accu)
    }
    fn append_of<'e>(x: &'e IdedExpr, accu: &str) -> Option<&'e IdedExpr> {
        match &x.expr {
            Expr::Call(c)
                if c.func_name == operators::ADD
                    && c.target.is_none()
                    && c.args.len() == 2
                    && is_accu(&c.args[0], accu)
                    && !reads(&c.args[1], accu) =>
            {
                Some(&c.args[1])
            }
            _ => None,
        }
    }
    if let Some(items) = append_of(e, accu) {
        return Ok(Step::Append {
            when: None,
            items: node(items)?,
        });
    }
    if let Expr::Call(c) = &e.expr
        && c.func_name == operators::CONDITIONAL
        && c.args.len() == 3
        && is_accu(&c.args[2], accu)
        && !reads(&c.args[0], accu)
        && let Some(items) = append_of(&c.args[1], accu)
    {
        return Ok(Step::Append {
            when: Some(node(&c.args[0])?),
            items: node(items)?,
        });
    }
    Ok(Step::Any(node(e)?))
}

/// Whether `e` reads the name `var` (anywhere: shadowing is rare and this errs on the
/// safe side).
fn reads(e: &IdedExpr, var: &str) -> bool {
    match &e.expr {
        Expr::Ident(n) => n == var,
        _ => children(e).into_iter().any(|c| reads(c, var)),
    }
}

/// The sub-expressions of `e`, for walks that treat every child alike.
fn children(e: &IdedExpr) -> Vec<&IdedExpr> {
    match &e.expr {
        Expr::Call(c) => c.target.as_deref().into_iter().chain(&c.args).collect(),
        Expr::Comprehension(c) => vec![
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ],
        Expr::List(l) => l.elements.iter().collect(),
        Expr::Map(m) => m
            .entries
            .iter()
            .flat_map(|en| entry_children(&en.expr))
            .collect(),
        Expr::Struct(s) => s
            .entries
            .iter()
            .flat_map(|en| entry_children(&en.expr))
            .collect(),
        Expr::Select(s) => vec![&*s.operand],
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    }
}

fn entry_children(en: &EntryExpr) -> Vec<&IdedExpr> {
    match en {
        EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
        EntryExpr::StructField(f) => vec![&f.value],
    }
}

fn call(c: &CallExpr) -> Result<Node, StaticError> {
    let args = &c.args;
    let f = c.func_name.as_str();
    match (f, c.target.is_some(), args.len()) {
        (operators::CONDITIONAL, false, 3) => {
            return Ok(Node::Conditional(Box::new((
                node(&args[0])?,
                node(&args[1])?,
                node(&args[2])?,
            ))));
        }
        (operators::LOGICAL_AND, false, 2) => return Ok(Node::And(boxed2(&args[0], &args[1])?)),
        (operators::LOGICAL_OR, false, 2) => return Ok(Node::Or(boxed2(&args[0], &args[1])?)),
        (operators::LOGICAL_NOT, false, 1) => return Ok(Node::Not(Box::new(node(&args[0])?))),
        (operators::NOT_STRICTLY_FALSE, false, 1) => {
            return Ok(Node::NotStrictlyFalse(Box::new(node(&args[0])?)));
        }
        (operators::INDEX, false, 2) => {
            return Ok(Node::Index(
                boxed2(&args[0], &args[1])?,
                Delegate::new(f, None, 2),
            ));
        }
        (operators::ADD, false, 2) => {
            return Ok(Node::Add(
                boxed2(&args[0], &args[1])?,
                Delegate::new(f, None, 2),
            ));
        }
        (operators::EQUALS | operators::NOT_EQUALS, false, 2) => {
            return Ok(Node::Equals {
                operands: boxed2(&args[0], &args[1])?,
                negate: f == operators::NOT_EQUALS,
                delegate: Delegate::new(f, None, 2),
            });
        }
        _ => {}
    }
    let (name, target, delegate) = match c.target.as_deref() {
        None => (
            f.to_string(),
            Target::None,
            Delegate::new(f, None, args.len()),
        ),
        Some(IdedExpr {
            expr: Expr::Ident(prefix),
            ..
        }) if is_namespace(prefix) => (
            format!("{prefix}.{f}"),
            Target::Namespace(prefix.clone()),
            Delegate::new(f, Some(ident(prefix)), args.len()),
        ),
        Some(t) => (
            f.to_string(),
            Target::Value(node(t)?),
            Delegate::new(f, Some(ident(TARGET)), args.len()),
        ),
    };
    let args: Vec<Node> = args.iter().map(node).collect::<Result<_, _>>()?;
    let mut pattern = None;
    match (name.as_str(), &target, args.as_slice()) {
        ("lists.range", _, [Node::Literal(Value::Int(n))]) => {
            range_len(*n).map_err(|m| StaticError::new(m, Some("range(".into())))?;
        }
        ("format", Target::Value(Node::Literal(Value::String(s))), [_]) => {
            format_precision(s).map_err(|m| StaticError::new(m, Some(s.to_string())))?;
        }
        (
            "matches" | "find" | "findAll",
            Target::Value(_),
            [Node::Literal(Value::String(p)), ..],
        )
        | (
            "matches" | "find" | "findAll",
            Target::None,
            [_, Node::Literal(Value::String(p)), ..],
        ) => {
            let re = compile_regex(p)
                .map_err(|m| StaticError::new(format!("`{name}`: {m}"), Some(p.to_string())))?;
            pattern = Some(Arc::new(re));
        }
        _ => {}
    }
    Ok(Node::Call(Box::new(Call {
        name,
        target,
        args,
        delegate,
        pattern,
    })))
}

fn compile_regex(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => format!(
                "the regular expression '{pattern}' compiles to more than {} KiB; simplify it \
                 (large counted repetitions such as {{1000}} multiply its size)",
                REGEX_SIZE_LIMIT / 1024
            ),
            other => {
                // The parser's message draws the pattern over several lines; its last
                // says what is wrong.
                let text = other.to_string();
                let why = text.lines().last().unwrap_or_default().trim();
                let why = why.strip_prefix("error: ").unwrap_or(why);
                format!("'{pattern}' is not a valid regular expression: {why}")
            }
        })
}

/// The length of `lists.range(n)`, or why it is refused.
fn range_len(n: i64) -> Result<usize, String> {
    if n < 0 {
        return Err(format!(
            "lists.range({n}): the count cannot be negative (lists.range(n) gives 0 to n-1)"
        ));
    }
    match usize::try_from(n) {
        Ok(len) if len <= MAX_ITEMS => Ok(len),
        _ => Err(format!(
            "lists.range({n}) would build {} items; a list built by an expression holds at most {}",
            thousands(n as u128),
            thousands(MAX_ITEMS as u128)
        )),
    }
}

/// Refuses a `format` string whose precision is larger than [`MAX_PRECISION`] (the
/// library would try to build a string that long).
fn format_precision(fmt: &str) -> Result<(), String> {
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.next() == Some('.') {
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            let too_big =
                digits.len() > 6 || digits.parse::<usize>().is_ok_and(|p| p > MAX_PRECISION);
            if too_big {
                return Err(format!(
                    "format precision %.{digits} is larger than {MAX_PRECISION} digits"
                ));
            }
        }
    }
    Ok(())
}

/// A lower bound of an evaluation's cost, and the length of the list it gives where
/// that is known without data.
struct Floor {
    cost: u128,
    len: Option<u128>,
}

impl Node {
    /// What evaluating this costs at the least when it gives a value (or stops at a
    /// limit), with every input empty and every branch that may be skipped skipped. An
    /// error stops evaluation, and only `&&`, `||` and `@not_strictly_false` turn one
    /// into a value; below them nothing is certain. It never exceeds what [`Run`]
    /// charges.
    fn floor(&self) -> Floor {
        let sum = |nodes: &mut dyn Iterator<Item = &Node>| {
            nodes.fold(0u128, |acc, n| acc.saturating_add(n.floor().cost))
        };
        let cost = |c: u128| Floor { cost: c, len: None };
        match self {
            Node::Literal(_) | Node::Ident(_) | Node::Unsupported(_) => cost(1),
            Node::Select { operand, .. } => cost(1 + operand.floor().cost),
            Node::Not(x) => cost(1 + x.floor().cost),
            Node::Index(p, _) | Node::Equals { operands: p, .. } => {
                cost(1 + p.0.floor().cost.saturating_add(p.1.floor().cost))
            }
            // These absorb an error of their operand: that operand may stop at its first
            // step and the whole still give a value, so only its own step is certain.
            Node::And(_) | Node::Or(_) | Node::NotStrictlyFalse(_) => cost(2),
            Node::Conditional(t) => {
                cost((1 + t.0.floor().cost).saturating_add(t.1.floor().cost.min(t.2.floor().cost)))
            }
            Node::List(items) => Floor {
                cost: (1 + items.len() as u128).saturating_add(sum(&mut items.iter())),
                len: Some(items.len() as u128),
            },
            Node::Map(entries) => cost(
                (1 + entries.len() as u128)
                    .saturating_add(sum(&mut entries.iter().flat_map(|(k, v)| [k, v]))),
            ),
            Node::Add(p, _) => {
                let (l, r) = (p.0.floor(), p.1.floor());
                Floor {
                    cost: (1 + l.cost).saturating_add(r.cost),
                    len: l.len.zip(r.len).map(|(a, b)| a.saturating_add(b)),
                }
            }
            Node::Call(c) => {
                let args = sum(&mut c.args.iter());
                let target = match &c.target {
                    Target::Value(t) => t.floor().cost,
                    _ => 0,
                };
                let base = (1 + args).saturating_add(target);
                match (c.name.as_str(), c.args.as_slice()) {
                    ("lists.range", [Node::Literal(Value::Int(n))]) if *n >= 0 => Floor {
                        cost: base.saturating_add(*n as u128),
                        len: Some(*n as u128),
                    },
                    _ => cost(base),
                }
            }
            Node::Comprehension(c) => {
                let range = c.range.floor();
                // A loop whose condition is not literally `true` may stop after one step.
                let always = matches!(c.cond, Node::Literal(Value::Bool(true)));
                let steps = match range.len {
                    Some(n) if always => n,
                    Some(n) => n.min(1),
                    None => 0,
                };
                // Each child's floor once: nested loops would otherwise take exponential time.
                let (step, len) = match &c.step {
                    Step::Append { when: None, items } => {
                        let f = items.floor();
                        let len = match (always, range.len, f.len) {
                            (true, Some(n), Some(k)) => Some(n.saturating_mul(k)),
                            _ => None,
                        };
                        (1 + f.cost, len)
                    }
                    Step::Append { when: Some(w), .. } => (w.floor().cost, None),
                    Step::Any(s) => (s.floor().cost, None),
                };
                let per_step = (1 + c.cond.floor().cost).saturating_add(step);
                Floor {
                    cost: (1 + range.cost)
                        .saturating_add(c.init.floor().cost)
                        .saturating_add(steps.saturating_mul(per_step))
                        .saturating_add(c.result.floor().cost),
                    len,
                }
            }
        }
    }
}

/// One evaluation's state: its budget, the comprehension variables in scope, and the
/// outer variables converted once.
struct Run<'p, 'c> {
    ctx: &'c Context<'c>,
    vars: &'c [(&'c str, Value)],
    spent: u64,
    locals: Vec<(&'p str, Value)>,
    globals: HashMap<&'p str, Value>,
    regexes: HashMap<Arc<String>, Result<Arc<Regex>, String>>,
    /// The first limit reached; once set, every further charge fails.
    limit: Option<ExecutionError>,
}

type Res = Result<Value, ExecutionError>;

impl<'p, 'c> Run<'p, 'c> {
    fn charge(&mut self, units: u64) -> Result<(), ExecutionError> {
        self.spent = self.spent.saturating_add(units);
        if self.limit.is_none() && self.spent > COST_LIMIT {
            self.limit = Some(limit_error(format!(
                "evaluation stopped after {} steps, the most one evaluation may take; the \
                 expression does too much work for this data",
                thousands(u128::from(COST_LIMIT))
            )));
        }
        match &self.limit {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, message: String) -> ExecutionError {
        let e = limit_error(message);
        self.limit.get_or_insert(e).clone()
    }

    fn remaining(&self) -> u64 {
        COST_LIMIT.saturating_sub(self.spent)
    }

    /// Refuses a value larger than an expression may build.
    fn check_size(&mut self, v: &Value) -> Result<(), ExecutionError> {
        let (what, len, max) = match v {
            Value::String(s) => ("a string of", s.len(), MAX_STRING_BYTES),
            Value::Bytes(b) => ("a bytes value of", b.len(), MAX_STRING_BYTES),
            Value::List(l) => ("a list of", l.len(), MAX_ITEMS),
            Value::Map(m) => ("a map of", m.map.len(), MAX_ITEMS),
            _ => return Ok(()),
        };
        if len > max {
            return Err(self.fail(too_big(what, len as u128, max)));
        }
        Ok(())
    }

    fn eval(&mut self, n: &'p Node) -> Res {
        self.charge(1)?;
        match n {
            Node::Literal(v) => Ok(v.clone()),
            Node::Ident(name) => self.lookup(name),
            Node::Select { operand, key, test } => {
                let v = self.eval(operand)?;
                match v {
                    Value::Map(m) if *test => Ok(Value::Bool(m.map.contains_key(key))),
                    Value::Map(m) => m.map.get(key).cloned().ok_or_else(|| {
                        let Key::String(k) = key else {
                            return ExecutionError::NoSuchOverload;
                        };
                        ExecutionError::NoSuchKey(k.clone())
                    }),
                    // The interpreter's answer for a field of anything but a map.
                    _ => Ok(Value::Bool(false)),
                }
            }
            Node::Index(p, delegate) => {
                let container = self.eval(&p.0)?;
                let index = self.eval(&p.1)?;
                match (&container, &index) {
                    (Value::List(l), Value::Int(i)) => l
                        .get(usize::try_from(*i).unwrap_or(usize::MAX))
                        .cloned()
                        .ok_or(ExecutionError::IndexOutOfBounds(Value::Int(*i))),
                    (Value::Map(m), Value::String(k)) => m
                        .map
                        .get(&Key::String(k.clone()))
                        .cloned()
                        .ok_or_else(|| ExecutionError::NoSuchKey(k.clone())),
                    _ => self.delegate(delegate, None, vec![container, index], None),
                }
            }
            Node::List(items) => {
                self.charge(items.len() as u64)?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(item)?);
                }
                Ok(Value::List(Arc::new(out)))
            }
            Node::Map(entries) => {
                self.charge(entries.len() as u64)?;
                let mut out = HashMap::with_capacity(entries.len());
                for (k, v) in entries {
                    let key: Key = self
                        .eval(k)?
                        .try_into()
                        .map_err(ExecutionError::UnsupportedKeyType)?;
                    out.insert(key, self.eval(v)?);
                }
                Ok(Value::Map(Map { map: Arc::new(out) }))
            }
            Node::Comprehension(c) => self.comprehension(c),
            Node::Conditional(t) => {
                if truth(self.eval(&t.0))? {
                    self.eval(&t.1)
                } else {
                    self.eval(&t.2)
                }
            }
            // `||` and `&&` as the interpreter has them: an error on one side is absorbed
            // when the other side decides.
            Node::Or(p) => {
                let left = truth(self.eval(&p.0));
                if left == Ok(true) {
                    return Ok(Value::Bool(true));
                }
                match (left, self.eval(&p.1)?) {
                    (Ok(false), Value::Bool(r)) => Ok(Value::Bool(r)),
                    (Err(_), Value::Bool(true)) => Ok(Value::Bool(true)),
                    (Err(e), _) => Err(e),
                    _ => Err(ExecutionError::NoSuchOverload),
                }
            }
            Node::And(p) => {
                let left = truth(self.eval(&p.0));
                if left == Ok(false) {
                    return Ok(Value::Bool(false));
                }
                match (left, self.eval(&p.1)?) {
                    (Ok(true), Value::Bool(r)) => Ok(Value::Bool(r)),
                    (Err(_), Value::Bool(false)) => Ok(Value::Bool(false)),
                    (Err(e), _) => Err(e),
                    _ => Err(ExecutionError::NoSuchOverload),
                }
            }
            Node::Not(x) => match self.eval(x)? {
                Value::Bool(b) => Ok(Value::Bool(!b)),
                _ => Err(ExecutionError::NoSuchOverload),
            },
            Node::NotStrictlyFalse(x) => Ok(Value::Bool(truth(self.eval(x)).unwrap_or(true))),
            Node::Add(p, delegate) => {
                let l = self.eval(&p.0)?;
                let r = self.eval(&p.1)?;
                self.add(l, r, Some(delegate))
            }
            Node::Equals {
                operands,
                negate,
                delegate,
            } => {
                let l = self.eval(&operands.0)?;
                let r = self.eval(&operands.1)?;
                // Same-typed scalars compare alike everywhere; anything else (numbers of
                // different types, lists, maps) keeps the library's semantics.
                let same = match (&l, &r) {
                    (Value::Int(_), Value::Int(_))
                    | (Value::UInt(_), Value::UInt(_))
                    | (Value::String(_), Value::String(_))
                    | (Value::Bool(_), Value::Bool(_))
                    | (Value::Null, Value::Null) => Some(l == r),
                    _ => None,
                };
                match same {
                    Some(eq) => Ok(Value::Bool(eq != *negate)),
                    None => self.delegate(delegate, None, vec![l, r], None),
                }
            }
            Node::Call(c) => self.call(c),
            Node::Unsupported(what) => Err(ExecutionError::function_error(
                "(expression)",
                format!("{what} is not supported"),
            )),
        }
    }

    fn lookup(&mut self, name: &'p str) -> Res {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| *n == name) {
            return Ok(v.clone());
        }
        if let Some((_, v)) = self.vars.iter().find(|(n, _)| *n == name) {
            return Ok(v.clone());
        }
        if let Some(v) = self.globals.get(name) {
            return Ok(v.clone());
        }
        let v = self
            .ctx
            .get_variable(name)
            .ok_or_else(|| ExecutionError::UndeclaredReference(Arc::new(name.to_string())))?;
        let v = Value::try_from(v.as_ref())?;
        self.globals.insert(name, v.clone());
        Ok(v)
    }

    fn comprehension(&mut self, c: &'p Comprehension) -> Res {
        let range = self.eval(&c.range)?;
        let init = self.eval(&c.init)?;
        let items: Vec<Value> = match range {
            Value::List(l) => Arc::unwrap_or_clone(l),
            Value::Map(m) => {
                self.charge(m.map.len() as u64)?;
                m.map.keys().map(Value::from).collect()
            }
            _ => return Err(ExecutionError::NoSuchOverload),
        };
        let base = self.locals.len();
        self.locals.push((c.accu_var.as_str(), init));
        let accu = base;
        let mut outcome = Ok(());
        for item in items {
            if let Err(e) = self.charge(1) {
                outcome = Err(e);
                break;
            }
            match truth(self.eval(&c.cond)) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
            self.locals.truncate(base + 1);
            self.locals.push((c.iter_var.as_str(), item));
            let next = match &c.step {
                Step::Any(step) => self.eval(step),
                Step::Append { when, items } => self.append(accu, when.as_ref(), items),
            };
            match next {
                Ok(v) => self.locals[accu].1 = v,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        let result = outcome.and_then(|()| self.eval(&c.result));
        self.locals.truncate(base);
        result
    }

    /// `when ? @result + items : @result`, appending in place: the accumulator is taken
    /// out of its slot so that it is the only reference to its list.
    fn append(&mut self, accu: usize, when: Option<&'p Node>, items: &'p Node) -> Res {
        if let Some(w) = when
            && !truth(self.eval(w))?
        {
            return Ok(self.locals[accu].1.clone());
        }
        let items = self.eval(items)?;
        let current = std::mem::replace(&mut self.locals[accu].1, Value::Null);
        self.add(current, items, None)
    }

    /// `l + r`: lists and strings here, checked for size before they are built; other
    /// types (durations, timestamps, numbers) in the library.
    fn add(&mut self, l: Value, r: Value, delegate: Option<&Delegate>) -> Res {
        match (l, r) {
            (Value::List(mut l), Value::List(r)) => {
                let len = l.len().saturating_add(r.len());
                if len > MAX_ITEMS {
                    return Err(self.fail(too_big("a list of", len as u128, MAX_ITEMS)));
                }
                let copied = if Arc::get_mut(&mut l).is_some() {
                    r.len()
                } else {
                    len
                };
                self.charge(copied as u64)?;
                Arc::make_mut(&mut l).extend(r.iter().cloned());
                Ok(Value::List(l))
            }
            (Value::String(mut l), Value::String(r)) => {
                let len = l.len().saturating_add(r.len());
                if len > MAX_STRING_BYTES {
                    return Err(self.fail(too_big("a string of", len as u128, MAX_STRING_BYTES)));
                }
                let copied = if Arc::get_mut(&mut l).is_some() {
                    r.len()
                } else {
                    len
                };
                self.charge(text_cost(copied))?;
                Arc::make_mut(&mut l).push_str(&r);
                Ok(Value::String(l))
            }
            (l, r) => {
                if let (Value::Bytes(a), Value::Bytes(b)) = (&l, &r) {
                    let len = a.len().saturating_add(b.len());
                    if len > MAX_STRING_BYTES {
                        return Err(self.fail(too_big(
                            "a bytes value of",
                            len as u128,
                            MAX_STRING_BYTES,
                        )));
                    }
                }
                match delegate {
                    Some(d) => self.delegate(d, None, vec![l, r], None),
                    None => l + r,
                }
            }
        }
    }

    fn call(&mut self, c: &'p Call) -> Res {
        let this = match &c.target {
            Target::Value(t) => Some(self.eval(t)?),
            _ => None,
        };
        let mut args = Vec::with_capacity(c.args.len());
        for a in &c.args {
            args.push(self.eval(a)?);
        }
        // A namespace name shadowed by a comprehension variable is still found by the
        // library when no such namespaced function exists.
        let shadow = match &c.target {
            Target::Namespace(prefix) => self
                .locals
                .iter()
                .rev()
                .find(|(n, _)| *n == prefix.as_str())
                .map(|(n, v)| (*n, v.clone())),
            _ => None,
        };
        if let Some(v) = self.native(c, this.as_ref(), &args)? {
            return Ok(v);
        }
        self.guard_call(&c.name, this.as_ref(), &args)?;
        let weight = self.weight_of(this.iter().chain(args.iter()))?;
        self.charge(weight)?;
        let out = match self.delegate(&c.delegate, this, args, shadow) {
            Ok(v) => v,
            // A library function of ktriage's that stops at a bound (`parseYaml`) decides
            // the evaluation as any other limit does.
            Err(e) if limit_message(&e).is_some() => {
                return Err(self.limit.get_or_insert(e).clone());
            }
            Err(e) => return Err(e),
        };
        self.check_size(&out)?;
        let weight = self.weight_of(std::iter::once(&out))?;
        self.charge(weight)?;
        Ok(out)
    }

    fn weight_of<'v>(
        &mut self,
        values: impl Iterator<Item = &'v Value>,
    ) -> Result<u64, ExecutionError> {
        let mut total = 0u64;
        for v in values {
            total = total.saturating_add(weight(v, self.remaining().saturating_add(1)));
        }
        Ok(total)
    }

    /// The calls evaluated here: cheaper than the library's, or bounded where the
    /// library's are not. `None` hands the call to the library.
    fn native(
        &mut self,
        c: &Call,
        this: Option<&Value>,
        args: &[Value],
    ) -> Result<Option<Value>, ExecutionError> {
        let subject = this.or(args.first());
        let rest = if this.is_some() {
            args
        } else {
            args.get(1..).unwrap_or_default()
        };
        Ok(match (c.name.as_str(), subject, rest) {
            ("size", Some(v), []) => {
                let n = match v {
                    Value::List(l) => l.len(),
                    Value::Map(m) => m.map.len(),
                    Value::String(s) => s.len(),
                    Value::Bytes(b) => b.len(),
                    _ => return Ok(None),
                };
                Some(Value::Int(n as i64))
            }
            // The most common calls in runbooks, as the library has them.
            ("startsWith", Some(Value::String(s)), [Value::String(p)]) => {
                self.charge(text_cost(p.len()))?;
                Some(Value::Bool(s.starts_with(p.as_str())))
            }
            ("endsWith", Some(Value::String(s)), [Value::String(p)]) => {
                self.charge(text_cost(p.len()))?;
                Some(Value::Bool(s.ends_with(p.as_str())))
            }
            ("contains", Some(Value::String(s)), [Value::String(p)]) => {
                self.charge(text_cost(s.len()))?;
                Some(Value::Bool(s.contains(p.as_str())))
            }
            ("lists.range", _, _) => match args {
                [Value::Int(n)] => {
                    let len = range_len(*n).map_err(|m| self.fail(m))?;
                    self.charge(len as u64)?;
                    Some(Value::List(Arc::new((0..*n).map(Value::Int).collect())))
                }
                _ => None,
            },
            ("matches", Some(Value::String(s)), [Value::String(p)]) => {
                let re = self.regex(c, p)?;
                self.charge(text_cost(s.len()))?;
                Some(Value::Bool(re.is_match(s)))
            }
            ("find", Some(Value::String(s)), [Value::String(p)]) => {
                let re = self.regex(c, p)?;
                self.charge(text_cost(s.len()))?;
                let found = re
                    .find(s)
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default();
                Some(Value::String(Arc::new(found)))
            }
            ("findAll", Some(Value::String(s)), [Value::String(p), limit @ ..]) => {
                let limit = match limit {
                    [] => usize::MAX,
                    [Value::Int(n)] => usize::try_from(*n).unwrap_or(usize::MAX),
                    _ => return Ok(None),
                };
                let re = self.regex(c, p)?;
                self.charge(text_cost(s.len()))?;
                let mut found = Vec::new();
                for m in re.find_iter(s).take(limit) {
                    if found.len() == MAX_ITEMS {
                        return Err(self.fail(too_big(
                            "a list of",
                            MAX_ITEMS as u128 + 1,
                            MAX_ITEMS,
                        )));
                    }
                    found.push(Value::String(Arc::new(m.as_str().to_string())));
                }
                self.charge(found.len() as u64)?;
                Some(Value::List(Arc::new(found)))
            }
            _ => None,
        })
    }

    /// The pattern compiled: at load when it is a literal, else once per evaluation.
    fn regex(&mut self, c: &Call, pattern: &Arc<String>) -> Result<Arc<Regex>, ExecutionError> {
        if let Some(re) = &c.pattern {
            return Ok(re.clone());
        }
        let compiled = match self.regexes.get(pattern) {
            Some(r) => r.clone(),
            None => {
                self.charge(REGEX_COMPILE_COST.saturating_add(text_cost(pattern.len())))?;
                let r = compile_regex(pattern).map(Arc::new);
                self.regexes.insert(pattern.clone(), r.clone());
                r
            }
        };
        compiled.map_err(|m| ExecutionError::function_error(&c.name, m))
    }

    /// Checks a library call whose work or result size its arguments decide, before it
    /// runs, and charges the work it will do beyond reading and building values.
    fn guard_call(
        &mut self,
        name: &str,
        this: Option<&Value>,
        args: &[Value],
    ) -> Result<(), ExecutionError> {
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let list_len = |v: Option<&Value>| match v {
            Some(Value::List(l)) => Some(l.len() as u64),
            _ => None,
        };
        match name {
            "format" => {
                if let Some(f) = text(this) {
                    format_precision(&f).map_err(|m| self.fail(m))?;
                }
            }
            "replace" => {
                if let (Some(s), Some(from), Some(to)) =
                    (text(this), text(args.first()), text(args.get(1)))
                {
                    let most = match args.get(2) {
                        Some(Value::Int(n)) => usize::try_from(*n).unwrap_or(0),
                        _ => usize::MAX,
                    };
                    self.charge(text_cost(s.len()))?;
                    let count = s.matches(from.as_str()).take(most).count();
                    let len = (s.len() as u128)
                        .saturating_add((count as u128).saturating_mul(to.len() as u128))
                        .saturating_sub((count as u128).saturating_mul(from.len() as u128));
                    if len > MAX_STRING_BYTES as u128 {
                        return Err(self.fail(format!(
                            "replace would build {}",
                            too_big("a string of", len, MAX_STRING_BYTES)
                        )));
                    }
                }
            }
            "split" => {
                if let (Some(s), Some(sep)) = (text(this), text(args.first())) {
                    self.charge(text_cost(s.len()))?;
                    let parts = s.matches(sep.as_str()).count().saturating_add(1);
                    let most = match args.get(1) {
                        Some(Value::Int(n)) if *n >= 0 => usize::try_from(*n).unwrap_or(usize::MAX),
                        _ => usize::MAX,
                    };
                    let parts = parts.min(most);
                    if parts > MAX_ITEMS {
                        return Err(self.fail(format!(
                            "split would build {}",
                            too_big("a list of", parts as u128, MAX_ITEMS)
                        )));
                    }
                }
            }
            "join" => {
                if let Some(Value::List(items)) = this {
                    let sep = text(args.first()).map_or(0, |s| s.len()) as u128;
                    let mut len = sep.saturating_mul(items.len().saturating_sub(1) as u128);
                    for item in items.iter() {
                        len = len.saturating_add(match item {
                            Value::String(s) => s.len() as u128,
                            // Other values are joined as their debug text.
                            other => u128::from(weight(other, u64::MAX)).saturating_mul(16),
                        });
                    }
                    if len > MAX_STRING_BYTES as u128 {
                        return Err(self.fail(format!(
                            "join would build {}",
                            too_big("a string of", len, MAX_STRING_BYTES)
                        )));
                    }
                }
            }
            // Compared character by character at every position.
            "indexOf" | "lastIndexOf" => {
                if let (Some(s), Some(sub)) = (text(this), text(args.first())) {
                    let work = (s.len() as u64).saturating_mul(sub.len().max(1) as u64);
                    self.charge(work.div_ceil(10))?;
                }
            }
            "distinct" => {
                if let Some(n) = list_len(this) {
                    self.charge(n.saturating_mul(n) / 2)?;
                }
            }
            "sets.contains" | "sets.equivalent" | "sets.intersects" => {
                if let (Some(a), Some(b)) = (list_len(args.first()), list_len(args.get(1))) {
                    self.charge(a.saturating_mul(b))?;
                }
            }
            "sort" => {
                if let Some(n) = list_len(this) {
                    self.charge(n.saturating_mul(u64::from(n.max(2).ilog2()) + 1))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Calls the library with `this` and `args` bound to the names `delegate` reads.
    fn delegate(
        &mut self,
        delegate: &Delegate,
        this: Option<Value>,
        args: Vec<Value>,
        shadow: Option<(&str, Value)>,
    ) -> Res {
        let mut scope = self.ctx.new_inner_scope();
        if let Some(t) = this {
            scope.add_variable_from_value(TARGET, t);
        }
        for (name, v) in delegate.args.iter().zip(args) {
            scope.add_variable_from_value(name.clone(), v);
        }
        if let Some((name, v)) = shadow {
            scope.add_variable_from_value(name, v);
        }
        Value::resolve(&delegate.call, &scope)
    }
}

fn truth(v: Res) -> Result<bool, ExecutionError> {
    match v? {
        Value::Bool(b) => Ok(b),
        _ => Err(ExecutionError::NoSuchOverload),
    }
}

/// What handing a value to the library costs: it is copied deeply, both ways. Counts at
/// most up to `cap`, so weighing is bounded too.
fn weight(v: &Value, cap: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(match v {
            Value::String(s) => 1 + text_cost(s.len()),
            Value::Bytes(b) => 1 + text_cost(b.len()),
            Value::List(l) => {
                stack.extend(l.iter());
                1
            }
            Value::Map(m) => {
                stack.extend(m.map.values());
                1 + m.map.len() as u64
            }
            _ => 1,
        });
        if total > cap {
            break;
        }
    }
    total
}

/// Kubernetes' traversal cost of text: one unit per ten bytes.
fn text_cost(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(10)
}

fn too_big(what: &str, len: u128, max: usize) -> String {
    format!(
        "{what} {} {}; a value built by an expression holds at most {}",
        thousands(len),
        if what.contains("string") || what.contains("bytes") {
            "bytes"
        } else {
            "items"
        },
        thousands(max as u128)
    )
}

/// 10000000 as 10,000,000.
pub fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::cel::{Environment, json_to_cel, with_parser_stack};
    use kube_cel::cel::Program;

    fn env() -> Environment {
        Environment::new(chrono::DateTime::UNIX_EPOCH)
    }

    fn data() -> serde_json::Value {
        serde_json::json!({
            "pod": {"metadata": {"name": "web-1", "labels": {"app": "web"},
                                 "creationTimestamp": "1969-12-31T23:00:00Z"},
                    "spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b"}]},
                    "status": {"phase": "Pending", "restarts": 3}},
            "xs": [3, 1, 2, 2],
            "names": ["b", "a", "c"],
            "empty": [],
            "yaml": "- rolearn: arn:aws:iam::1:role/x\n  groups: [system:nodes]\n",
        })
    }

    /// The library's interpreter, as evaluation was before.
    fn interpreted(src: &str) -> ResolveResult {
        let env = env();
        let mut ctx = env.root().new_inner_scope();
        for (k, v) in data().as_object().unwrap() {
            ctx.add_variable_from_value(k.clone(), json_to_cel(v));
        }
        Program::compile(src).unwrap().execute(&ctx)
    }

    fn planned(src: &str) -> ResolveResult {
        let env = env();
        let mut ctx = env.root().new_inner_scope();
        for (k, v) in data().as_object().unwrap() {
            ctx.add_variable_from_value(k.clone(), json_to_cel(v));
        }
        let program = Program::compile(src).unwrap();
        match Plan::new(program.expression()) {
            Ok(plan) => plan.eval(&ctx, &[]),
            Err(e) => Err(ExecutionError::function_error("(load)", e.message)),
        }
    }

    /// Runbooks were written against the interpreter: evaluating here gives the same
    /// values, and fails where it failed.
    const CORPUS: &[&str] = &[
        "1 + 2 * 3 - 4 / 2 % 3",
        "1 == 1.0",
        "1u == 1",
        "[1] == [1.0]",
        "{'a': 1} == {'a': 1}",
        "'a' < 'b' && 2 >= 1.5 && 3u > 2",
        "9223372036854775807 + 1",
        "1 / 0",
        "-(-3)",
        "!true || !false",
        "'ab' + 'cd' + string(1)",
        "[1, 2] + [3] + []",
        "[1] + 'a'",
        "duration('1h') + duration('30m') > duration('80m')",
        "timestamp('2026-01-01T00:00:00Z') + duration('1h')",
        "now() - timestamp('1969-12-31T00:00:00Z')",
        "pod.metadata.name",
        "pod.metadata.missing",
        "has(pod.metadata.labels) && has(pod.metadata.labels.app)",
        "has(pod.spec.containers)",
        "pod.spec.containers[0].name",
        "pod.spec.containers[5]",
        "pod.spec.containers[-1]",
        "pod.spec.containers[1u].name",
        "pod.metadata.labels['app']",
        "pod.metadata.labels['nope']",
        "pod.metadata.name.size",
        "xs.x",
        "{1: 'a', true: 'b'}[1]",
        "{'k': 1}[1]",
        "xs[0.0]",
        "'app' in pod.metadata.labels && 2 in xs && !('z' in names)",
        "size(xs) + xs.size() + size('héllo') + size({'a': 1})",
        "size(1)",
        "xs.all(x, x > 0) && xs.exists(x, x == 2) && xs.exists_one(x, x == 3)",
        "xs.map(x, x * 2)",
        "xs.map(x, x > 1, x)",
        "xs.filter(x, x > 1)",
        "pod.spec.containers.map(c, has(c.image) ? c.image : 'none')",
        "pod.spec.containers.filter(c, c.image == 'x:1')",
        "pod.spec.containers.exists(c, c.image == 'x:1')",
        "pod.spec.containers.all(c, c.image == 'x:1')",
        "empty.all(x, x.nope) && !empty.exists(x, true)",
        "{'a': 1, 'b': 2}.map(k, k).sort()",
        "{'a': 1, 'b': 2}.all(k, k != 'c')",
        "xs.map(x, names.map(n, n + string(x)))",
        "[[1, 2], [3]].map(l, l.map(x, [1].all(y, x > y)))",
        "xs.exists(x, x.nope) || true",
        "xs.exists(x, x.nope) && false",
        "xs.exists(x, x.nope)",
        "false || 1",
        "1 || true",
        "true ? 1 : 'a'",
        "1 ? 1 : 2",
        "'abc'.matches('^a') && matches('abc', 'c$')",
        "'abc'.matches('(')",
        "'k=v k2=v2'.find('k[0-9]=[a-z0-9]+')",
        "'a1 b2 c3'.findAll('[a-z][0-9]')",
        "'a1 b2 c3'.findAll('[a-z][0-9]', 2)",
        "names.sort().join(',')",
        "names.join()",
        "'a,b,,c'.split(',')",
        "'a,b,c'.split(',', 2)",
        "'aXbXc'.replace('X', '--')",
        "'aXbXc'.replace('X', '-', 1)",
        "'  x '.trim().upperAscii().lowerAscii()",
        "'hello'.indexOf('l') + 'hello'.lastIndexOf('l')",
        "'hello'.substring(1, 3) + 'hello'.charAt(0)",
        "lists.range(5)",
        "lists.range(0)",
        "xs.distinct()",
        "xs.sum() + [1.5, 2.5].sum()",
        "[[1], [2, [3]]].flatten()",
        "sets.contains(xs, [1, 2]) && sets.intersects(xs, [9, 1]) && !sets.equivalent(xs, [1])",
        "max(1, 5, 3) + min(xs)",
        "math.greatest(xs) - math.least(1, 2)",
        "quantity('1Gi').isGreaterThan(quantity('500Mi'))",
        "semver('1.31.0').isGreaterThan(semver('1.30.9'))",
        "cidr('10.0.0.0/16').containsIP(ip('10.0.3.4'))",
        "'%s has %d items, %.2f%%'.format(['x', 3, 12.345])",
        "base64.encode(b'abc')",
        "strings.quote('a\"b')",
        "optional.of(1).hasValue() && !optional.none().hasValue()",
        "optional.of(1).value()",
        "parseYaml(yaml)[0].groups",
        "yamlError(yaml) == '' && yamlError('[') != ''",
        "typeName(parseYaml(yaml)) + typeName(1u) + typeName(null)",
        "age(pod) > duration('30m')",
        "selects({'matchLabels': {'app': 'web'}}, pod.metadata.labels)",
        "null == null && pod.metadata.name != null",
        "b'ab' + b'c'",
        "double(1) + 0.5",
        "int('42') + int(2.9) + int(2u)",
        "uint(3) * 2u",
        "string(1.5) + string(true) + string(b'x')",
        "bytes('x') == b'x'",
        "undefinedName",
        "undefinedName || true",
        "noSuchFunction(1)",
        "xs.noSuchMethod()",
        "[1, 2].all(sets, sets > 0)",
        "[1, 2].all(lists, lists.size() > 0)",
        "{'a': {'b': [1, {'c': 2}]}}.a.b[1].c",
        "has({'a': 1}.b)",
        "dyn(1)",
    ];

    #[test]
    fn evaluation_agrees_with_the_interpreter() {
        let mut differ = Vec::new();
        for src in CORPUS {
            let (want, got) = with_parser_stack(|| (interpreted(src), planned(src))).unwrap();
            let same = match (&want, &got) {
                (Ok(a), Ok(b)) => a == b,
                (Err(_), Err(_)) => true,
                _ => false,
            };
            if !same {
                differ.push(format!(
                    "{src}\n  interpreter: {want:?}\n  here:        {got:?}"
                ));
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    fn steps(src: &str) -> (ResolveResult, u64, u128) {
        let src = src.to_string();
        with_parser_stack(move || {
            let env = env();
            let mut ctx = env.root().new_inner_scope();
            for (k, v) in data().as_object().unwrap() {
                ctx.add_variable_from_value(k.clone(), json_to_cel(v));
            }
            let program = Program::compile(&src).unwrap();
            let plan = Plan::new(program.expression()).unwrap();
            let (result, spent) = plan.run(&ctx, &[]);
            (result, spent, plan.root.floor().cost)
        })
        .unwrap()
    }

    /// The floor refuses at load only what evaluation would refuse for any data.
    #[test]
    fn the_floor_never_exceeds_what_evaluation_charges() {
        let more = [
            "lists.range(1000).map(i, lists.range(100).map(j, [i, j]))",
            "lists.range(100).filter(i, i > 50).map(i, {'k': [i]})",
            "[1, 2, 3].exists(x, lists.range(1000).all(y, y >= 0))",
            "false ? lists.range(100000).map(i, i) : []",
        ];
        for src in CORPUS.iter().copied().chain(more) {
            if with_parser_stack(|| Plan::new(Program::compile(src).unwrap().expression()).is_err())
                .unwrap()
            {
                continue;
            }
            // An evaluation that fails early (not at a limit) gives no value: the floor
            // bounds the ones that do.
            let (result, spent, floor) = steps(src);
            let counts = match &result {
                Ok(_) => true,
                Err(e) => limit_message(e).is_some(),
            };
            if counts {
                assert!(
                    floor <= u128::from(spent),
                    "{src}: floor {floor} > spent {spent}"
                );
            }
        }
    }

    /// `map` and `filter` append in place: twice the items, twice the steps (the
    /// interpreter's copies made it four times).
    #[test]
    fn building_a_list_in_a_macro_costs_steps_linear_in_its_length() {
        let (r, small, _) = steps("lists.range(50000).map(i, i).size()");
        assert_eq!(r, Ok(Value::Int(50000)));
        let (_, large, _) = steps("lists.range(100000).map(i, i).size()");
        assert!(large < small * 21 / 10, "{small} then {large}");
        let (_, small, _) = steps("lists.range(50000).filter(i, i % 2 == 0).size()");
        let (_, large, _) = steps("lists.range(100000).filter(i, i % 2 == 0).size()");
        assert!(large < small * 21 / 10, "{small} then {large}");
    }

    #[test]
    fn a_limit_is_the_result_even_where_an_error_would_be_absorbed() {
        for src in [
            "lists.range(1000000).exists(i, lists.range(1000000).exists(j, j < 0)) || true",
            "lists.range(1000000).all(i, lists.range(1000000).all(j, j >= 0)) && false || true",
            "!(lists.range(1000000).all(i, lists.range(1000000).all(j, j >= 0)) && false)",
        ] {
            let (r, spent, _) = steps(src);
            let e = r.expect_err(src);
            assert!(
                limit_message(&e).is_some_and(|m| m.contains("steps")),
                "{src}: {e}"
            );
            assert!(
                spent > COST_LIMIT && spent < COST_LIMIT + 1_000_000,
                "{src}: {spent}"
            );
        }
        // `false && ...` never runs the expensive side.
        let (r, _, _) =
            steps("false && lists.range(1000000).all(i, lists.range(1000000).all(j, j >= 0))");
        assert_eq!(r, Ok(Value::Bool(false)));
    }

    #[test]
    fn library_calls_are_checked_before_they_run() {
        for (src, says) in [
            ("('%.' + '2000f').format([1.0])", "precision"),
            ("lists.range(999999 + 2)", "1,000,001 items"),
            ("lists.range(0 - 1)", "negative"),
            (
                "lists.range(100000).map(i, 'abcdefghij').join('').replace('', 'xxxxx')",
                "replace",
            ),
            (
                "lists.range(1000000).map(i, 'ab').join('').split('')",
                "split",
            ),
            (
                "lists.range(300000).map(i, 'abcdefghijklmn').join('') + 'x'",
                "join",
            ),
            ("lists.range(10000).map(i, i).distinct().size()", "steps"),
            (
                "sets.contains(lists.range(10000), lists.range(10000))",
                "steps",
            ),
            (
                "lists.range(200000).map(i, 'a').join('').indexOf('b' + lists.range(1000).map(i, 'a').join(''))",
                "steps",
            ),
            (
                "lists.range(2000).exists(i, 'b'.matches('^a{' + string(i + 1) + '}'))",
                "steps",
            ),
        ] {
            let (r, _, _) = steps(src);
            let Err(e) = r else {
                panic!("{src}: gives a value");
            };
            let m = limit_message(&e).unwrap_or_else(|| panic!("{src}: not a limit: {e}"));
            assert!(m.contains(says), "{src}: {m}");
        }
    }

    #[test]
    fn refusals_at_load_say_what_and_where() {
        for (src, says, near) in [
            ("lists.range(2000000)", "2,000,000 items", Some("range(")),
            ("'%.5000e'.format([1.0])", "precision", Some("%.5000e")),
            (
                "'a'.find('(x')",
                "not a valid regular expression: unclosed group",
                Some("(x"),
            ),
            (
                "lists.range(10000).map(i, lists.range(10000).size())",
                "at least",
                None,
            ),
        ] {
            let e = with_parser_stack(|| Plan::new(Program::compile(src).unwrap().expression()))
                .unwrap()
                .expect_err(src);
            assert!(e.message.contains(says), "{src}: {}", e.message);
            assert_eq!(e.near.as_deref(), near, "{src}");
        }
        assert_eq!(thousands(10_000_000), "10,000,000");
        assert_eq!(thousands(999), "999");
    }
}
