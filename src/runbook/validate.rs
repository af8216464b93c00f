//! Whole-runbook checks once every piece compiled: references resolve, every step and
//! conclusion is reachable from the start, steps form no cycle (so every path ends in
//! a conclusion or a hand-over), and facts do not depend on each other in a circle.

use super::RunbookError;
use super::compile::{Positions, closest};
use super::model::Runbook;
use std::collections::{BTreeSet, HashMap};

pub fn graph(path: &str, rb: &Runbook, pos: &Positions) -> Vec<RunbookError> {
    let mut errors = Vec::new();
    let ids: Vec<&str> = pos
        .steps
        .keys()
        .chain(pos.conclusions.keys())
        .map(String::as_str)
        .collect();

    for (from, to, line, column) in &pos.edges {
        if !rb.steps.contains_key(to) && !rb.conclusions.contains_key(to) {
            let hint = match closest(to, &ids) {
                Some(c) => format!("did you mean `{c}`?"),
                None => "point it at a step or conclusion id".to_string(),
            };
            errors.push(RunbookError::new(
                path,
                *line,
                *column,
                format!("step `{from}` leads to `{to}`, which is neither a step nor a conclusion"),
                hint,
            ));
        }
    }
    if !errors.is_empty() {
        return errors;
    }

    // Reachability from the first step.
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    let mut queue = vec![rb.start()];
    while let Some(id) = queue.pop() {
        if !reached.insert(id) {
            continue;
        }
        if let Some(step) = rb.steps.get(id) {
            queue.extend(step.exits());
        }
    }
    for (id, (line, column)) in pos.steps.iter().chain(pos.conclusions.iter()) {
        if !reached.contains(id.as_str()) {
            errors.push(RunbookError::new(
                path,
                *line,
                *column,
                format!(
                    "`{id}` is unreachable: no path from the first step `{}` leads to it",
                    rb.start()
                ),
                "point a `then`/`else`/`goto`/`default` at it, or delete it",
            ));
        }
    }

    // Cycles among steps: depth-first search with colours.
    let mut colour: HashMap<&str, u8> = HashMap::new();
    let mut reported = false;
    for start in rb.steps.keys() {
        if reported {
            break;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start.as_str(), 0)];
        let mut trail: Vec<&str> = Vec::new();
        while let Some((id, next_exit)) = stack.pop() {
            let exits = rb.steps.get(id).map(|s| s.exits()).unwrap_or_default();
            if next_exit == 0 {
                if colour.get(id) == Some(&2) {
                    continue;
                }
                colour.insert(id, 1);
                trail.push(id);
            }
            if let Some(&to) = exits.get(next_exit) {
                stack.push((id, next_exit + 1));
                if !rb.steps.contains_key(to) {
                    continue;
                }
                match colour.get(to) {
                    Some(1) => {
                        let from = trail.iter().position(|t| *t == to).unwrap_or(0);
                        let cycle: Vec<&str> = trail[from..].iter().copied().chain([to]).collect();
                        let (line, column) = pos.steps.get(to).copied().unwrap_or((1, 1));
                        errors.push(RunbookError::new(path, line, column, format!("steps form a cycle: {}", cycle.join(" → ")), "a runbook is a tree: make one of these steps lead to a conclusion instead"));
                        reported = true;
                        break;
                    }
                    Some(2) => {}
                    _ => stack.push((to, 0)),
                }
            } else {
                colour.insert(id, 2);
                trail.pop();
            }
        }
    }

    errors.extend(fact_cycles(path, rb, pos));
    errors
}

fn fact_cycles(path: &str, rb: &Runbook, pos: &Positions) -> Vec<RunbookError> {
    let mut errors = Vec::new();
    let deps: HashMap<&str, BTreeSet<String>> = rb
        .facts
        .iter()
        .map(|(name, f)| {
            (
                name.as_str(),
                f.inputs()
                    .into_iter()
                    .filter(|i| rb.facts.contains_key(i))
                    .collect(),
            )
        })
        .collect();
    for name in rb.facts.keys() {
        // A fact is in a cycle when it can reach itself.
        let mut seen = BTreeSet::new();
        let mut queue: Vec<&str> = deps[name.as_str()].iter().map(String::as_str).collect();
        while let Some(n) = queue.pop() {
            if n == name {
                let (line, column) = pos.facts.get(name).copied().unwrap_or((1, 1));
                errors.push(RunbookError::new(path, line, column, format!("fact `{name}` depends on itself through other facts"), "break the circle: a fact may read only the target and facts that do not read it"));
                break;
            }
            if seen.insert(n) {
                queue.extend(deps.get(n).into_iter().flatten().map(String::as_str));
            }
        }
    }
    errors
}
