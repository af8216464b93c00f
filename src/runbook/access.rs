//! What an expression reads of each variable, so that only that is handed to CEL.
//!
//! The CEL interpreter copies a value deeply when it is bound and again on every field
//! access, so binding a list of 600 pods to test one field of each costs seconds. An
//! expression's *access tree* says which paths it reads (`item.spec.volumes`,
//! `pods[].metadata.name`); a variable is bound with only those parts, and the cost
//! follows what a runbook reads, not the size of the cluster.
//!
//! The analysis is conservative: a path used as a value (compared, passed to a function,
//! returned) is taken whole, and anything it cannot follow is taken whole.

use super::cel::json_to_cel;
use kube_cel::cel::common::ast::{CallExpr, LiteralValue};
use kube_cel::cel::common::ast::{EntryExpr, Expr};
use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{IdedExpr, Value};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Marks the elements of a list (or the values of a map) in an access path.
const EACH: &str = "[]";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessTree {
    /// The value is read whole from here down.
    pub whole: bool,
    pub children: BTreeMap<String, AccessTree>,
}

impl AccessTree {
    fn at(&mut self, path: &[String]) -> &mut AccessTree {
        let mut node = self;
        for seg in path {
            if node.whole {
                break;
            }
            node = node.children.entry(seg.clone()).or_default();
        }
        node
    }

    fn mark_whole(&mut self, path: &[String]) {
        let node = self.at(path);
        node.whole = true;
        node.children.clear();
    }

    fn mark_present(&mut self, path: &[String]) {
        self.at(path);
    }

    /// Every path read, each to where it is read whole (or only tested for presence,
    /// which keeps that part whole too: conservative, and small in practice).
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        self.collect_paths(&mut prefix, &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.whole || self.children.is_empty() {
            out.push(prefix.clone());
            return;
        }
        for (k, child) in &self.children {
            prefix.push(k.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    pub(crate) fn merged(&self, other: &AccessTree) -> AccessTree {
        if self.whole || other.whole {
            return AccessTree {
                whole: true,
                children: BTreeMap::new(),
            };
        }
        let mut out = self.clone();
        for (k, v) in &other.children {
            let merged = match out.children.get(k) {
                Some(mine) => mine.merged(v),
                None => v.clone(),
            };
            out.children.insert(k.clone(), merged);
        }
        out
    }
}

/// The access tree of every free variable of an expression.
pub fn analyze(e: &IdedExpr) -> BTreeMap<String, AccessTree> {
    let mut a = Analyzer {
        bound: Vec::new(),
        out: BTreeMap::new(),
    };
    a.visit(e);
    a.out
}

type Path = (String, Vec<String>);

struct Analyzer {
    /// Comprehension variables, innermost last, with the path they range over (if any).
    bound: Vec<(String, Option<Path>)>,
    out: BTreeMap<String, AccessTree>,
}

impl Analyzer {
    fn tree(&mut self, root: &str) -> &mut AccessTree {
        self.out.entry(root.to_string()).or_default()
    }

    /// The path an expression denotes, when it is a plain chain of field and literal
    /// index accesses on a variable.
    fn path_of(&self, e: &IdedExpr) -> Option<Path> {
        match &e.expr {
            Expr::Ident(name) => match self.bound.iter().rev().find(|(n, _)| n == name) {
                Some((_, p)) => p.clone(),
                None => Some((name.clone(), Vec::new())),
            },
            Expr::Select(s) if !s.test => {
                let (root, mut path) = self.path_of(&s.operand)?;
                path.push(s.field.clone());
                Some((root, path))
            }
            Expr::Call(CallExpr {
                func_name,
                target: None,
                args,
            }) if func_name == "_[_]" && args.len() == 2 => {
                let (root, mut path) = self.path_of(&args[0])?;
                match &args[1].expr {
                    Expr::Literal(LiteralValue::String(k)) => path.push(k.inner().to_string()),
                    Expr::Literal(LiteralValue::Int(_) | LiteralValue::UInt(_)) => {
                        path.push(EACH.into())
                    }
                    _ => return None,
                }
                Some((root, path))
            }
            _ => None,
        }
    }

    /// `e` is used as a value.
    fn visit(&mut self, e: &IdedExpr) {
        if let Some((root, path)) = self.path_of(e) {
            self.tree(&root).mark_whole(&path);
            return;
        }
        match &e.expr {
            Expr::Select(s) if s.test => match self.path_of(&s.operand) {
                Some((root, mut path)) => {
                    path.push(s.field.clone());
                    self.tree(&root).mark_present(&path);
                }
                None => self.visit(&s.operand),
            },
            Expr::Select(s) => self.visit(&s.operand),
            // age() reads one field of an object (or takes a timestamp whole).
            Expr::Call(c) if c.func_name == "age" && c.target.is_none() && c.args.len() == 1 => {
                match self.path_of(&c.args[0]) {
                    Some((root, mut path)) => {
                        path.extend(["metadata".to_string(), "creationTimestamp".to_string()]);
                        self.tree(&root).mark_whole(&path);
                    }
                    None => self.visit(&c.args[0]),
                }
            }
            Expr::Call(c) => {
                if let Some(t) = &c.target {
                    self.visit(t);
                }
                for arg in &c.args {
                    self.visit(arg);
                }
            }
            Expr::Comprehension(c) => {
                let range = self.path_of(&c.iter_range);
                match &range {
                    Some((root, path)) => {
                        let mut each = path.clone();
                        each.push(EACH.into());
                        let root = root.clone();
                        self.tree(&root).mark_present(&each);
                    }
                    None => self.visit(&c.iter_range),
                }
                let depth = self.bound.len();
                let element = range.map(|(root, mut path)| {
                    path.push(EACH.into());
                    (root, path)
                });
                match &c.iter_var2 {
                    // Two-variable form: index (or key), then the element (or value).
                    Some(v2) => {
                        self.bound.push((c.iter_var.clone(), None));
                        self.bound.push((v2.clone(), element));
                    }
                    None => self.bound.push((c.iter_var.clone(), element)),
                }
                self.visit(&c.accu_init);
                self.bound.push((c.accu_var.clone(), None));
                self.visit(&c.loop_cond);
                self.visit(&c.loop_step);
                self.visit(&c.result);
                self.bound.truncate(depth);
            }
            Expr::List(l) => l.elements.iter().for_each(|el| self.visit(el)),
            Expr::Map(m) => {
                for entry in &m.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        self.visit(&me.key);
                        self.visit(&me.value);
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    match &entry.expr {
                        EntryExpr::StructField(f) => self.visit(&f.value),
                        EntryExpr::MapEntry(me) => {
                            self.visit(&me.key);
                            self.visit(&me.value);
                        }
                    }
                }
            }
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
}

/// `json` as CEL, with only the parts `tree` reads (all of it without a tree).
pub fn project(json: &Json, tree: Option<&AccessTree>) -> Value {
    match tree {
        None => json_to_cel(json),
        Some(t) => project_tree(json, t),
    }
}

fn project_tree(json: &Json, t: &AccessTree) -> Value {
    if t.whole {
        return json_to_cel(json);
    }
    match json {
        Json::Object(map) => {
            let mut out = HashMap::new();
            match t.children.get(EACH) {
                Some(each) => {
                    for (k, v) in map {
                        let sub = match t.children.get(k) {
                            Some(own) => project_tree(v, &own.merged(each)),
                            None => project_tree(v, each),
                        };
                        out.insert(Key::String(Arc::new(k.clone())), sub);
                    }
                }
                None => {
                    for (k, sub) in &t.children {
                        if let Some(v) = map.get(k) {
                            out.insert(Key::String(Arc::new(k.clone())), project_tree(v, sub));
                        }
                    }
                }
            }
            Value::Map(Map { map: Arc::new(out) })
        }
        Json::Array(items) => match t.children.get(EACH) {
            Some(each) => Value::List(Arc::new(
                items.iter().map(|i| project_tree(i, each)).collect(),
            )),
            None => Value::List(Arc::new(Vec::new())),
        },
        scalar => json_to_cel(scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::cel::{Environment, Expression, cel_to_json};
    use serde_json::json;

    fn tree_of(src: &str, var: &str) -> AccessTree {
        Expression::compile(src)
            .unwrap()
            .access
            .get(var)
            .cloned()
            .unwrap_or_default()
    }

    fn paths(t: &AccessTree, prefix: &str, out: &mut Vec<String>) {
        if t.whole {
            out.push(format!("{prefix}*"));
        } else if t.children.is_empty() {
            out.push(format!("{prefix}?"));
        }
        for (k, c) in &t.children {
            paths(c, &format!("{prefix}{k}."), out);
        }
    }

    fn show(src: &str, var: &str) -> Vec<String> {
        let mut out = Vec::new();
        paths(&tree_of(src, var), "", &mut out);
        out
    }

    #[test]
    fn field_chains_are_precise() {
        assert_eq!(
            show(
                "item.metadata.name == 'a' && has(item.spec.volumes)",
                "item"
            ),
            ["metadata.name.*", "spec.volumes.?"]
        );
        assert_eq!(
            show("x.metadata.labels['app.kubernetes.io/name'] == 'y'", "x"),
            ["metadata.labels.app.kubernetes.io/name.*"]
        );
        assert_eq!(show("size(x.items)", "x"), ["items.*"]);
        assert_eq!(show("x", "x"), ["*"]);
    }

    #[test]
    fn comprehension_variables_follow_their_range() {
        assert_eq!(
            show(
                "has(item.spec.volumes) && item.spec.volumes.exists(v, has(v.persistentVolumeClaim) && v.persistentVolumeClaim.claimName == t)",
                "item"
            ),
            ["spec.volumes.[].persistentVolumeClaim.claimName.*"]
        );
        assert_eq!(
            show("pods.map(p, p.metadata.name)", "pods"),
            ["[].metadata.name.*"]
        );
        // A filtered element is kept whole: it is part of the result.
        assert_eq!(
            show("pods.filter(p, p.status.phase == 'Pending')", "pods"),
            ["[].*"]
        );
    }

    #[test]
    fn age_reads_only_the_creation_timestamp() {
        assert_eq!(
            show(
                "age(target) > duration('5m') && target.status.phase == 'Pending'",
                "target"
            ),
            ["metadata.creationTimestamp.*", "status.phase.*"]
        );
        let pod = json!({"metadata": {"name": "p", "creationTimestamp": "1970-01-01T00:00:00Z"}, "status": {"phase": "Pending"}});
        assert_eq!(
            eval(
                "age(target) >= duration('0s') && target.status.phase == 'Pending'",
                "target",
                pod
            ),
            json!(true)
        );
        // A timestamp string is taken whole.
        assert_eq!(
            eval(
                "age(e.lastTimestamp) >= duration('0s')",
                "e",
                json!({"lastTimestamp": "1970-01-01T00:00:00Z"})
            ),
            json!(true)
        );
    }

    #[test]
    fn dynamic_index_takes_the_whole_value() {
        assert_eq!(show("m.map(k, k + '=' + m[k])", "m"), ["*"]);
    }

    fn eval(src: &str, var: &str, value: Json) -> Json {
        let env = Environment::new(chrono::DateTime::UNIX_EPOCH);
        let e = Expression::compile(src).unwrap();
        let mut ctx = env.root().new_inner_scope();
        ctx.add_variable_from_value(var, project(&value, e.access.get(var)));
        cel_to_json(&e.eval(&ctx).unwrap())
    }

    #[test]
    fn projected_values_evaluate_like_whole_ones() {
        let pod = json!({"metadata": {"name": "p", "labels": {"a": "1"}}, "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "c"}}, {"name": "w", "emptyDir": {}}], "containers": [{"name": "app", "image": "x"}]}, "status": {"phase": "Running"}});
        for src in [
            "has(item.spec.volumes) && item.spec.volumes.exists(v, has(v.persistentVolumeClaim) && v.persistentVolumeClaim.claimName == 'c')",
            "has(item.spec.nodeName)",
            "item.spec.volumes.map(v, v.name)",
            "item.spec.containers[0].image",
            "item.metadata.labels.map(k, k + '=' + item.metadata.labels[k])",
            "size(item.spec.volumes)",
            "item.spec.volumes.filter(v, has(v.emptyDir))",
            "item",
        ] {
            let whole = {
                let env = Environment::new(chrono::DateTime::UNIX_EPOCH);
                let e = Expression::compile(src).unwrap();
                let mut ctx = env.root().new_inner_scope();
                ctx.add_variable_from_value("item", json_to_cel(&pod));
                cel_to_json(&e.eval(&ctx).unwrap())
            };
            assert_eq!(eval(src, "item", pod.clone()), whole, "{src}");
        }
    }
}
