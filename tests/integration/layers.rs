//! The house rules of `src/`, checked over the source text: no import circle between
//! files of different folders, and no floor importing one above it (DESIGN.md's
//! "Layout": facts < source < runbook < drive < evidence < tui/cmd < main).
//!
//! A reference is any `crate::`, `super::` or `self::` path, in a `use` tree or inline,
//! outside comments, strings and `#[cfg(test)]` modules (a test may build its input with
//! a higher floor's helpers; what ships may not). Each path is resolved to the file of
//! the longest module prefix that exists, so `use crate::facts::FactQuery` is an edge to
//! `src/facts/mod.rs` and `crate::source::snapshot::Snapshot` one to
//! `src/source/snapshot/mod.rs`.
//!
//! Only std: the check reads files, it does not need the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its floor. A module may import its own floor and
/// those below; a new module must be given a floor here, so the rule cannot be dodged by
/// adding one.
const FLOORS: &[(&str, u8)] = &[
    // The floor everything stands on: text safety, time, panics, logs, user settings.
    ("text", 0),
    ("clock", 0),
    ("panics", 0),
    ("logging", 0),
    ("config", 0),
    ("suggest", 0),
    ("facts", 1),
    ("source", 2),
    ("runbook", 3),
    ("drive", 4),
    ("evidence", 5),
    ("serve", 6),
    ("demo", 6),
    ("tui", 6),
    ("cmd", 6),
    ("cli", 6),
    ("fuzz", 7),
    ("lib", 8),
    ("main", 8),
];

fn floor(module: &str) -> Option<u8> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

/// Source text with comments, string and char literals blanked, so braces and paths
/// inside them are not read as code.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if (c == b'r' || c == b'b')
            && raw_string_start(b, i).is_some()
            && (i == 0 || !is_ident(b[i - 1]))
        {
            let (hashes, open) = raw_string_start(b, i).unwrap_or_default();
            i = open + 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while i < b.len() && !b[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' && is_char_literal(b, i) {
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            // Multi-byte UTF-8 passes through whole: only ASCII bytes are special.
            let len = utf8_len(c);
            out.push_str(&text[i..(i + len).min(text.len())]);
            i += len;
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `r"`, `r#"`, `br"`, `br##"`: the number of hashes and where the quote is.
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if b[j] == b'b' {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some((hashes, j))
}

/// `'a'`, `'\n'`, `'\u{1F600}'`, `'é'` are chars; `'a` in `&'a str` is a lifetime.
fn is_char_literal(b: &[u8], i: usize) -> bool {
    match b.get(i + 1) {
        Some(b'\\') => true,
        Some(&c) => {
            let len = utf8_len(c);
            b.get(i + 1 + len) == Some(&b'\'')
        }
        None => false,
    }
}

/// The code without its `#[cfg(test)] mod … { … }` blocks.
fn without_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let skip = after.len() - trimmed.len();
        if trimmed.starts_with("mod ")
            && let Some(open) = trimmed.find('{')
        {
            let mut depth = 0usize;
            let mut end = trimmed.len();
            for (k, ch) in trimmed[open..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + k + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &after[skip + end..];
            continue;
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Every path a `use` tree names, flattened: `use crate::a::{b, c::{d, e}}` gives
/// `crate::a::b`, `crate::a::c::d`, `crate::a::c::e`.
fn use_tree_paths(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let base = join(prefix, head);
        let mut depth = 0;
        let mut start = 0;
        for (k, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_tree_paths(&inner[start..k], &base, out);
                    start = k + 1;
                }
                _ => {}
            }
        }
        use_tree_paths(&inner[start..], &base, out);
    } else {
        let path = tree.split(" as ").next().unwrap_or("").trim();
        if !path.is_empty() {
            out.push(join(prefix, path));
        }
    }
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty() || path == "self") {
        (true, _) => path.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}::{path}"),
    }
}

/// Paths written in code: `use` trees, and `crate::…`/`super::…` inline.
fn referenced_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while let Some(at) = code[i..].find("use ") {
        let start = i + at;
        i = start + 4;
        if start > 0 && is_ident(b[start - 1]) {
            continue;
        }
        let end = code[i..].find(';').map_or(code.len(), |e| i + e);
        use_tree_paths(&code[i..end], "", &mut paths);
    }
    for root in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(root) {
            let start = from + at;
            from = start + root.len();
            if start > 0 && (is_ident(b[start - 1]) || b[start - 1] == b':') {
                continue;
            }
            let mut end = start;
            while end < b.len() && (is_ident(b[end]) || b[end] == b':') {
                end += 1;
            }
            let path = code[start..end].trim_end_matches(':');
            // `crate::{a, b}` is a `use` tree, read above; the bare root names nothing.
            if path.contains("::") {
                paths.push(path.to_string());
            }
        }
    }
    paths
}

/// `src/tui/view/home.rs` → `["tui", "view", "home"]`; `src/tui/mod.rs` → `["tui"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn file_of(src: &Path, module: &[String]) -> Option<PathBuf> {
    if module.is_empty() {
        return Some(src.join("lib.rs"));
    }
    let base = module.iter().fold(src.to_path_buf(), |p, m| p.join(m));
    let flat = base.with_extension("rs");
    let nested = base.join("mod.rs");
    [flat, nested].into_iter().find(|p| p.is_file())
}

/// The file a path refers to: the longest module prefix that is a file of `src/`.
fn resolve(src: &Path, here: &[String], path: &str) -> Option<PathBuf> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    let first = segments.next()?;
    let mut module: Vec<String> = match first {
        "crate" => Vec::new(),
        "super" => {
            let mut m = here.to_vec();
            m.pop();
            m
        }
        "self" => here.to_vec(),
        child => {
            // A child module named without `self::` (2018 paths): only if it exists.
            let mut m = here.to_vec();
            m.push(child.to_string());
            file_of(src, &m)?;
            m
        }
    };
    let mut found = file_of(src, &module);
    for segment in segments {
        if segment == "super" {
            module.pop();
            found = file_of(src, &module);
            continue;
        }
        module.push(segment.to_string());
        match file_of(src, &module) {
            Some(f) => found = Some(f),
            None => break,
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

struct Graph {
    src: PathBuf,
    edges: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
}

fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut edges = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let code = without_test_modules(&code_only(&text));
        // `x/y.rs` and `x/y/mod.rs` both hold module `x::y`: `super::` is `x`, a bare
        // child name is `x::y::child`. `lib.rs` and `main.rs` hold the crate root.
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let here = if matches!(name, "lib.rs" | "main.rs") {
            Vec::new()
        } else {
            module_of(src, file)
        };
        let targets: BTreeSet<PathBuf> = referenced_paths(&code)
            .iter()
            .filter_map(|p| resolve(src, &here, p))
            .filter(|t| t != file)
            .collect();
        edges.insert(file.clone(), targets);
    }
    Graph {
        src: src.to_path_buf(),
        edges,
    }
}

impl Graph {
    fn name(&self, file: &Path) -> String {
        file.strip_prefix(&self.src)
            .unwrap_or(file)
            .display()
            .to_string()
    }

    fn top_module(&self, file: &Path) -> String {
        let rel = file.strip_prefix(&self.src).unwrap_or(file);
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        first.trim_end_matches(".rs").to_string()
    }

    /// Strongly connected components (Tarjan), each as its files.
    fn cycles(&self) -> Vec<Vec<PathBuf>> {
        struct State<'g> {
            g: &'g Graph,
            index: BTreeMap<&'g PathBuf, usize>,
            low: BTreeMap<&'g PathBuf, usize>,
            stack: Vec<&'g PathBuf>,
            on: BTreeSet<&'g PathBuf>,
            next: usize,
            out: Vec<Vec<PathBuf>>,
        }
        fn visit<'g>(s: &mut State<'g>, v: &'g PathBuf) {
            s.index.insert(v, s.next);
            s.low.insert(v, s.next);
            s.next += 1;
            s.stack.push(v);
            s.on.insert(v);
            for w in s.g.edges.get(v).into_iter().flatten() {
                if !s.g.edges.contains_key(w) {
                    continue;
                }
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
            if s.low[v] == s.index[v] {
                let mut component = Vec::new();
                while let Some(w) = s.stack.pop() {
                    s.on.remove(w);
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    s.out.push(component);
                }
            }
        }
        let mut s = State {
            g: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on: BTreeSet::new(),
            next: 0,
            out: Vec::new(),
        };
        for v in self.edges.keys() {
            if !s.index.contains_key(v) {
                visit(&mut s, v);
            }
        }
        s.out
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_top_level_module_has_a_floor() {
    let g = graph(&src_dir());
    let missing: BTreeSet<String> = g
        .edges
        .keys()
        .map(|f| g.top_module(f))
        .filter(|m| floor(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "give these modules a floor in tests/integration/layers.rs: {missing:?}"
    );
}

#[test]
fn no_floor_imports_one_above_it() {
    let g = graph(&src_dir());
    let mut upward = Vec::new();
    for (file, targets) in &g.edges {
        let from = g.top_module(file);
        for target in targets {
            let to = g.top_module(target);
            if let (Some(a), Some(b)) = (floor(&from), floor(&to))
                && b > a
            {
                upward.push(format!(
                    "{} ({from}, floor {a}) imports {} ({to}, floor {b})",
                    g.name(file),
                    g.name(target)
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports up:\n{}", upward.join("\n"));
}

#[test]
fn no_import_circle_spans_folders() {
    let g = graph(&src_dir());
    let circles: Vec<String> = g
        .cycles()
        .into_iter()
        .filter(|files| {
            let folders: BTreeSet<_> = files.iter().filter_map(|f| f.parent()).collect();
            folders.len() > 1
        })
        .map(|files| {
            files
                .iter()
                .map(|f| g.name(f))
                .collect::<Vec<_>>()
                .join(" ⇄ ")
        })
        .collect();
    assert!(
        circles.is_empty(),
        "import circles across folders:\n{}",
        circles.join("\n")
    );
}

/// The checker itself: a fixture tree with one upward import and one circle must be
/// caught, so a checker that reads nothing cannot pass.
#[test]
fn the_checker_sees_an_upward_import_and_a_circle() {
    let dir = std::env::temp_dir().join(format!("ktriage-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("facts")).unwrap();
    std::fs::create_dir_all(dir.join("tui/view")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod facts; pub mod tui;").unwrap();
    std::fs::write(
        dir.join("facts/mod.rs"),
        "// use crate::tui::nothing; (a comment)\nconst S: &str = \"crate::tui::App\";\n\
         pub fn f() { crate::tui::app::draw() }\n\
         #[cfg(test)]\nmod tests { use crate::tui::view::Thing; }",
    )
    .unwrap();
    std::fs::write(
        dir.join("tui/mod.rs"),
        "pub mod app; pub mod view;\nuse view::home;",
    )
    .unwrap();
    std::fs::write(dir.join("tui/app.rs"), "use crate::{facts, tui::{self}};").unwrap();
    std::fs::write(dir.join("tui/view/mod.rs"), "pub mod home;").unwrap();
    std::fs::write(dir.join("tui/view/home.rs"), "use super::super::Thing;").unwrap();
    let g = graph(&dir);
    let edges =
        |f: &str| -> Vec<String> { g.edges[&dir.join(f)].iter().map(|t| g.name(t)).collect() };
    assert_eq!(edges("facts/mod.rs"), vec!["tui/app.rs"]);
    assert_eq!(edges("tui/app.rs"), vec!["facts/mod.rs", "tui/mod.rs"]);
    assert_eq!(edges("tui/mod.rs"), vec!["tui/view/home.rs"]);
    assert_eq!(edges("tui/view/home.rs"), vec!["tui/mod.rs"]);
    let cycles: BTreeSet<Vec<String>> = g
        .cycles()
        .iter()
        .map(|c| c.iter().map(|f| g.name(f)).collect())
        .collect();
    let expected: BTreeSet<Vec<String>> = [
        vec!["facts/mod.rs".to_string(), "tui/app.rs".to_string()],
        vec!["tui/mod.rs".to_string(), "tui/view/home.rs".to_string()],
    ]
    .into();
    assert_eq!(cycles, expected);
    assert_eq!(
        code_only("let a = 'x'; fn f<'a>(s: &'a str) {}"),
        "let a = ' '; fn f<'a>(s: &'a str) {}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
