//! Every runbook ktriage can walk: the built-in ones embedded at build time, then the
//! user's (`$XDG_CONFIG_HOME/ktriage/runbooks`, `--runbooks DIR`), a later one with the
//! same id replacing an earlier one. A broken runbook is reported and left out; the
//! others still load.

use super::format::{RunbookDoc, Severity};
use super::model::{Runbook, StepKind, Template, TemplatePart};
use super::{RunbookError, compile};
use include_dir::{Dir, include_dir};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/runbooks");

/// A runbook file's text and where it came from.
#[derive(Debug, Clone)]
pub struct RunbookFile {
    pub path: String,
    pub text: String,
    pub builtin: bool,
}

#[derive(Default, Clone)]
pub struct Catalog {
    runbooks: IndexMap<String, Arc<Runbook>>,
    pub errors: Vec<RunbookError>,
}

impl Catalog {
    /// Built-in runbooks, then those of `dirs` in order (the user's directory and
    /// `--runbooks`, as [`crate::config::Settings::runbook_dirs`] lists them).
    pub fn load(dirs: &[PathBuf]) -> Catalog {
        let mut files = builtin_files();
        let mut errors = Vec::new();
        for dir in dirs {
            match read_dir_files(dir) {
                Ok(mut f) => files.append(&mut f),
                Err(e) => errors.push(e),
            }
        }
        let mut catalog = Catalog::from_files(files);
        errors.append(&mut catalog.errors);
        catalog.errors = errors;
        catalog
    }

    pub fn builtin() -> Catalog {
        Catalog::from_files(builtin_files())
    }

    pub fn from_files(files: Vec<RunbookFile>) -> Catalog {
        let mut runbooks: IndexMap<String, Arc<Runbook>> = IndexMap::new();
        let mut errors = Vec::new();
        for f in files {
            match compile::parse(&f.path, &f.text, f.builtin) {
                Ok(rb) => {
                    runbooks.insert(rb.id.clone(), Arc::new(rb));
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        // Hand-overs must name a runbook that loaded; otherwise the walk would end
        // nowhere. Leaving one out can strand another that hands over to it, so repeat
        // until none is left out. Follow-ups may name runbooks not installed yet.
        loop {
            let ids: Vec<String> = runbooks.keys().cloned().collect();
            runbooks.retain(|_, rb| {
                let mut ok = true;
                for step in rb.steps.values() {
                    if let StepKind::Handover { runbook, .. } = &step.kind
                        && !ids.contains(runbook)
                    {
                        let (line, column) = handover_position(&rb.origin.text, &step.id);
                        let known: Vec<&str> = ids.iter().map(String::as_str).collect();
                        let hint = match compile::closest(runbook, &known) {
                            Some(c) => format!("did you mean `{c}`?"),
                            None => {
                                "install that runbook, or end this path in a conclusion".to_string()
                            }
                        };
                        errors.push(RunbookError::new(
                            &rb.origin.path,
                            line,
                            column,
                            format!(
                                "step `{}` hands over to runbook `{runbook}`, which is not loaded",
                                step.id
                            ),
                            hint,
                        ));
                        ok = false;
                    }
                }
                ok
            });
            if runbooks.len() == ids.len() {
                break;
            }
        }
        runbooks.sort_keys();
        Catalog { runbooks, errors }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Runbook>> {
        self.runbooks.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Runbook>> {
        self.runbooks.values()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.runbooks.keys().map(String::as_str).collect()
    }

    /// Every finding code the runbooks conclude, grouped by runbook (by id), each
    /// runbook's in priority order: the order it lists its conclusions (FINDINGS: "table
    /// order is priority"; where several conditions hold, the first listed is the one
    /// concluded). Conclusions of one runbook that share a code and severity are one
    /// entry with each distinct title.
    pub fn finding_codes(&self) -> Vec<FindingCode> {
        let mut out: Vec<FindingCode> = Vec::new();
        for rb in self.iter() {
            let first = out.len();
            for c in rb.conclusions.values() {
                let (title, title_markdown) = (
                    template_source(&c.title, false),
                    template_source(&c.title, true),
                );
                if let Some(same) = out[first..]
                    .iter_mut()
                    .find(|f| f.code == c.code && f.severity == c.severity)
                {
                    if !same.titles.contains(&title) {
                        same.titles.push(title);
                        same.titles_markdown.push(title_markdown);
                    }
                    continue;
                }
                out.push(FindingCode {
                    code: c.code.clone(),
                    severity: c.severity,
                    titles: vec![title],
                    titles_markdown: vec![title_markdown],
                    runbook: rb.id.clone(),
                    runbook_title: rb.title.clone(),
                    origin: rb.origin.path.clone(),
                });
            }
        }
        out
    }
}

/// One finding code, as `ktriage runbooks codes` and docs/findings.md list it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FindingCode {
    pub code: String,
    pub severity: Severity,
    /// The titles of the conclusions with this code, as written (`${…}` parts included).
    pub titles: Vec<String>,
    /// The same for a Markdown table cell: `${…}` parts as code.
    #[serde(skip)]
    pub titles_markdown: Vec<String>,
    pub runbook: String,
    pub runbook_title: String,
    /// `builtin:runbooks/NAME.yaml` or the file it was loaded from.
    pub origin: String,
}

/// A template as its runbook writes it; for Markdown, text escaped and `${…}` as code.
fn template_source(t: &Template, markdown: bool) -> String {
    t.parts
        .iter()
        .map(|p| match (p, markdown) {
            (TemplatePart::Text(s), false) => s.clone(),
            (TemplatePart::Text(s), true) => md_text(s),
            (TemplatePart::Expr(e), false) => format!("${{{}}}", one_line(&e.source)),
            (TemplatePart::Expr(e), true) => format!(
                "`${{{}}}`",
                one_line(&e.source).replace('|', "\\|").replace('`', "'")
            ),
        })
        .collect()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `ktriage runbooks codes` as text: a header per runbook, then a line per code (code,
/// severity, title); a long title goes on under it, indented, within 80 columns.
pub fn codes_text(codes: &[FindingCode]) -> String {
    use crate::text::sanitize;
    const WIDTH: usize = 80;
    const HANG: &str = "      ";
    let mut out = String::new();
    let width = codes.iter().map(|c| c.code.len()).max().unwrap_or(0);
    let mut last: Option<&str> = None;
    for c in codes {
        if last != Some(c.runbook.as_str()) {
            if last.is_some() {
                out.push('\n');
            }
            out.push_str(&format!(
                "{} — {}\n",
                sanitize(&c.runbook),
                sanitize(&c.runbook_title)
            ));
            last = Some(&c.runbook);
        }
        let mut line = format!(
            "  {:<width$}  {:<8} ",
            sanitize(&c.code),
            c.severity.as_str()
        );
        let mut len = line.chars().count();
        for word in sanitize(&c.titles.join(" / ")).split_whitespace() {
            let wl = word.chars().count();
            if len + 1 + wl > WIDTH && len > HANG.len() {
                out.push_str(line.trim_end());
                out.push('\n');
                line = HANG.to_string();
                len = HANG.len();
            } else {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += wl;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The page docs/findings.md is: generated, never edited by hand.
pub fn codes_markdown(codes: &[FindingCode]) -> String {
    let mut out = String::from(
        "<!-- Generated by `ktriage runbooks codes --output markdown > docs/findings.md`; do not edit by hand. -->\n\n\
         # Finding codes\n\n\
         Every conclusion of a runbook carries a stable code: the contract between runbooks, reports, bundles,\n\
         alerts and postmortems. Once published, a code keeps its meaning.\n\n\
         Severity: `critical` (the cause of an outage, exit 3), `warning` (a contributing factor or a risk,\n\
         exit 4), `info` (working as designed, or nothing found, exit 0).\n\n\
         Each runbook's codes are in priority order: where several conditions hold, the walk concludes the\n\
         first listed. Titles are as the runbook writes them; `${…}` parts are filled in from the evidence.\n\
         `ktriage runbooks codes` prints this list for the runbooks you have installed (`--output json` too).\n",
    );
    let mut last: Option<&str> = None;
    for c in codes {
        if last != Some(c.runbook.as_str()) {
            out.push_str(&format!(
                "\n## {} — {}\n\n",
                c.runbook,
                md_cell(&md_text(&c.runbook_title))
            ));
            if !c.origin.starts_with("builtin:") {
                out.push_str(&format!("From `{}`.\n\n", c.origin));
            }
            out.push_str("| code | severity | title |\n|---|---|---|\n");
            last = Some(&c.runbook);
        }
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.code,
            c.severity.as_str(),
            md_cell(&c.titles_markdown.join(" / "))
        ));
    }
    out
}

/// Markdown for a table cell: one line (pipes in text are escaped by [`md_text`]).
fn md_cell(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Plain text made literal in Markdown: its punctuation escaped.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn is_runbook_file(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.contains(".tests.")
}

pub fn builtin_files() -> Vec<RunbookFile> {
    let mut files: Vec<RunbookFile> = BUILTIN
        .files()
        .filter(|f| f.path().to_str().is_some_and(is_runbook_file))
        .filter_map(|f| {
            Some(RunbookFile {
                path: format!("builtin:runbooks/{}", f.path().display()),
                text: f.contents_utf8()?.to_string(),
                builtin: true,
            })
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The test files embedded beside the built-in runbooks.
pub fn builtin_test_files() -> Vec<RunbookFile> {
    BUILTIN
        .files()
        .filter(|f| f.path().to_str().is_some_and(|n| n.contains(".tests.")))
        .filter_map(|f| {
            Some(RunbookFile {
                path: format!("runbooks/{}", f.path().display()),
                text: f.contents_utf8()?.to_string(),
                builtin: true,
            })
        })
        .collect()
}

/// Runbook files of a directory (not recursive), or a single file.
pub fn read_dir_files(path: &Path) -> Result<Vec<RunbookFile>, RunbookError> {
    let io_err = |e: std::io::Error| {
        RunbookError::new(
            &path.display().to_string(),
            1,
            1,
            format!("cannot read: {e}"),
            "check the path and its permissions",
        )
    };
    let mut paths = Vec::new();
    if path.is_file() {
        paths.push(path.to_path_buf());
    } else {
        for entry in std::fs::read_dir(path).map_err(io_err)? {
            let p = entry.map_err(io_err)?.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_runbook_file)
            {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| {
                RunbookError::new(
                    &p.display().to_string(),
                    1,
                    1,
                    format!("cannot read: {e}"),
                    "check the file's permissions and that it is UTF-8",
                )
            })?;
            Ok(RunbookFile {
                path: p.display().to_string(),
                text,
                builtin: false,
            })
        })
        .collect()
}

/// Where a step's `handover.runbook` is written, for errors found after compiling.
fn handover_position(text: &str, step: &str) -> (usize, usize) {
    serde_saphyr::from_str::<RunbookDoc>(text)
        .ok()
        .and_then(|doc| doc.steps.into_iter().find(|s| s.id.value == step)?.handover)
        .map_or((1, 1), |h| (h.runbook.line, h.runbook.column))
}
