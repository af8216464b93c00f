//! Walk records and triage reports as text (readable at 80 columns, meaning carried
//! by symbols and words, never colour alone), Markdown (pasteable into a ticket) and
//! JSON (the stable contract of `--output json`).

use crate::drive::triage::TriageReport;
use crate::facts::Problem;
use crate::runbook::record::{Status, WalkRecord};
use crate::text::{sanitize, wrap};
use std::fmt::Write;

const WIDTH: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// How the reader can re-run or continue: the snapshot flag to repeat, if any; and what
/// the source could not read, which a script must see as well as a human.
pub struct Context<'a> {
    pub source_flag: &'a str,
    pub warnings: &'a [Problem],
}

pub fn walk(record: &WalkRecord, format: Format, ctx: &Context) -> String {
    match format {
        Format::Json => json_with_warnings(record, ctx),
        Format::Text => walk_text(record, ctx),
        Format::Markdown => walk_markdown(record, ctx),
    }
}

pub fn triage(report: &TriageReport, format: Format, ctx: &Context) -> String {
    match format {
        Format::Json => json_with_warnings(report, ctx),
        Format::Text => triage_text(report, ctx),
        Format::Markdown => triage_markdown(report, ctx),
    }
}

/// The record as JSON with `"warnings": [{file, line, column, message}]`: what the reader
/// skipped or could not read (empty when nothing), so a script never takes a partial
/// read for a whole one.
fn json_with_warnings(value: &impl serde::Serialize, ctx: &Context) -> String {
    let mut json = serde_json::to_value(value).unwrap_or_default();
    if let Some(object) = json.as_object_mut() {
        object.insert(
            "warnings".into(),
            serde_json::to_value(ctx.warnings).unwrap_or_default(),
        );
    }
    crate::text::to_json_pretty(&json) + "\n"
}

/// The command that walks a runbook over the same source.
fn run_command(runbook: &str, target: Option<&str>, ctx: &Context) -> String {
    let target = target
        .map(|t| format!(" --target {}", sanitize(t)))
        .unwrap_or_default();
    format!("ktriage run {runbook}{target}{}", ctx.source_flag)
}

fn severity_mark(severity: &str) -> &'static str {
    match severity {
        "critical" => "✗ CRITICAL",
        "warning" => "▲ WARNING",
        _ => "✓ INFO",
    }
}

fn push_wrapped(out: &mut String, text: &str, indent: &str) {
    for line in wrap(&sanitize(text), WIDTH, indent) {
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Wrapped with every line but the first indented.
fn push_hanging(out: &mut String, text: &str, indent: &str) {
    for (i, line) in wrap(&sanitize(text), WIDTH, indent).iter().enumerate() {
        let line = if i == 0 { line.trim_start() } else { line };
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn target_label(record: &WalkRecord) -> String {
    record.target.clone().unwrap_or_else(|| "cluster".into())
}

fn walk_text(r: &WalkRecord, ctx: &Context) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} · {}", r.runbook, sanitize(&target_label(r)));
    match (&r.status, &r.conclusion) {
        (Status::Concluded, Some(c)) => {
            let _ = writeln!(out, "{}  {}", severity_mark(&c.severity), c.code);
            push_wrapped(&mut out, &c.title, "");
            out.push('\n');
            push_wrapped(&mut out, &c.summary, "");
            if !c.evidence.is_empty() {
                let _ = writeln!(out, "\nEvidence");
                for e in &c.evidence {
                    let _ = writeln!(out, "  {}", sanitize(&e.label));
                    for q in &e.quotes {
                        push_wrapped(&mut out, q, "    │ ");
                    }
                }
            }
            if !c.remediation.is_empty() {
                let _ = writeln!(out, "\nWhat to do");
                for (i, step) in c.remediation.iter().enumerate() {
                    let lines = wrap(&sanitize(step), WIDTH, "      ");
                    for (j, l) in lines.iter().enumerate() {
                        if j == 0 {
                            let _ = writeln!(out, "  {:>2}. {}", i + 1, l.trim_start());
                        } else {
                            let _ = writeln!(out, "{}", l.trim_end());
                        }
                    }
                }
            }
            if !c.commands.is_empty() {
                let _ = writeln!(out, "\nCommands");
                for cmd in &c.commands {
                    let label = if cmd.changes { "change" } else { "check " };
                    if let Some(d) = &cmd.description {
                        let _ = writeln!(out, "  {label}  # {}", sanitize(d));
                    }
                    let _ = writeln!(
                        out,
                        "  {}  $ {}",
                        if cmd.description.is_some() {
                            "      "
                        } else {
                            label
                        },
                        sanitize(&cmd.run)
                    );
                }
            }
            if let Some(f) = &c.follow_up {
                let _ = writeln!(
                    out,
                    "\nNext: {}",
                    run_command(&f.runbook, f.target.as_deref(), ctx)
                );
            }
        }
        (Status::NeedsInput, _) => {
            if let Some(q) = &r.question {
                let _ = writeln!(out, "? NEEDS YOUR ANSWER  (step {})", q.step);
                push_wrapped(&mut out, &q.prompt, "");
                if let Some(cmd) = &q.command {
                    let _ = writeln!(out, "\nRun (elsewhere):");
                    let _ = writeln!(out, "  $ {}", sanitize(cmd));
                }
                if let Some(l) = &q.look_for {
                    let _ = writeln!(out, "\nLook for:");
                    push_wrapped(&mut out, l, "  ");
                }
                if let Some(bad) = &q.rejected_answer {
                    let _ = writeln!(
                        out,
                        "\n`{}` is not one of the choices below.",
                        sanitize(bad)
                    );
                }
                let _ = writeln!(out, "\nAnswer with --answer {}=CHOICE:", q.step);
                let width = q
                    .choices
                    .iter()
                    .map(|c| c.id.chars().count())
                    .max()
                    .unwrap_or(0);
                let indent = " ".repeat(width + 3);
                for c in &q.choices {
                    // A hanging indent keeps every label clear of the ids.
                    for (i, line) in wrap(&sanitize(&c.label), WIDTH, &indent).iter().enumerate() {
                        let head = if i == 0 {
                            format!("  {:<width$} ", sanitize(&c.id))
                        } else {
                            String::new()
                        };
                        let body = if i == 0 {
                            line.trim_start()
                        } else {
                            line.as_str()
                        };
                        let _ = writeln!(out, "{head}{}", body.trim_end());
                    }
                }
            }
        }
        _ => {
            let _ = writeln!(out, "? INCONCLUSIVE");
            push_wrapped(
                &mut out,
                "The walk stopped at a check whose facts could not be seen; nothing was concluded.",
                "",
            );
        }
    }
    if !r.missing.is_empty() {
        let _ = writeln!(out, "\nNot seen (unknown)");
        for m in &r.missing {
            push_wrapped(&mut out, &format!("? {}: {}", m.fact, m.reason), "  ");
            if !m.hint.is_empty() {
                push_wrapped(&mut out, &format!("→ {}", m.hint), "    ");
            }
        }
    }
    let _ = writeln!(out, "\nPath");
    for s in &r.path {
        let head = format!("{} {}", s.outcome.symbol(), s.title);
        push_wrapped(&mut out, &head, "  ");
        if !s.reason.is_empty() {
            push_wrapped(&mut out, &s.reason, "      ");
        }
    }
    out
}

fn md_escape_inline(s: &str) -> String {
    sanitize(s).replace('|', "\\|")
}

fn walk_markdown(r: &WalkRecord, ctx: &Context) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### ktriage: `{}` on `{}`\n",
        r.runbook,
        md_escape_inline(&target_label(r))
    );
    match (&r.status, &r.conclusion) {
        (Status::Concluded, Some(c)) => {
            let _ = writeln!(
                out,
                "**{}** `{}` — {}\n",
                severity_mark(&c.severity),
                c.code,
                md_escape_inline(&c.title)
            );
            let _ = writeln!(out, "{}\n", sanitize(&c.summary));
            if !c.evidence.is_empty() {
                let _ = writeln!(out, "#### Evidence\n");
                for e in &c.evidence {
                    let _ = writeln!(out, "- **{}**", md_escape_inline(&e.label));
                    for q in &e.quotes {
                        let _ = writeln!(out, "  > {}", sanitize(q).replace('\n', "\n  > "));
                    }
                }
                out.push('\n');
            }
            if !c.remediation.is_empty() {
                let _ = writeln!(out, "#### What to do\n");
                for (i, step) in c.remediation.iter().enumerate() {
                    let _ = writeln!(out, "{}. {}", i + 1, sanitize(step));
                }
                out.push('\n');
            }
            let checks: Vec<_> = c.commands.iter().filter(|c| !c.changes).collect();
            let changes: Vec<_> = c.commands.iter().filter(|c| c.changes).collect();
            for (title, list) in [
                ("Read-only checks", checks),
                ("Changes (apply deliberately)", changes),
            ] {
                if list.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "#### {title}\n\n```sh");
                for cmd in list {
                    if let Some(d) = &cmd.description {
                        let _ = writeln!(out, "# {}", sanitize(d));
                    }
                    let _ = writeln!(out, "{}", sanitize(&cmd.run));
                }
                let _ = writeln!(out, "```\n");
            }
            if !c.references.is_empty() {
                let _ = writeln!(out, "#### References\n");
                for reference in &c.references {
                    let _ = writeln!(out, "- {reference}");
                }
                out.push('\n');
            }
            if let Some(f) = &c.follow_up {
                let _ = writeln!(
                    out,
                    "Next: `{}`\n",
                    run_command(&f.runbook, f.target.as_deref(), ctx)
                );
            }
        }
        (Status::NeedsInput, _) => {
            if let Some(q) = &r.question {
                let _ = writeln!(
                    out,
                    "**? Needs an answer** (step `{}`): {}\n",
                    q.step,
                    sanitize(&q.prompt)
                );
                if let Some(cmd) = &q.command {
                    let _ = writeln!(out, "```sh\n{}\n```\n", sanitize(cmd));
                }
                for c in &q.choices {
                    let _ = writeln!(
                        out,
                        "- `--answer {}={}`: {}",
                        q.step,
                        c.id,
                        md_escape_inline(&c.label)
                    );
                }
                out.push('\n');
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "**? Inconclusive**: a check's facts could not be seen; nothing was concluded.\n"
            );
        }
    }
    if !r.missing.is_empty() {
        let _ = writeln!(
            out,
            "#### Not seen\n\n| fact | why | what would resolve it |\n|---|---|---|"
        );
        for m in &r.missing {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                m.fact,
                md_escape_inline(&m.reason),
                md_escape_inline(&m.hint)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "#### Path\n\n| | step | outcome |\n|---|---|---|");
    for s in &r.path {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            s.outcome.symbol(),
            md_escape_inline(&s.title),
            md_escape_inline(&s.reason)
        );
    }
    out
}

/// Whether what triage could not see decides its verdict: nothing critical or warning
/// was found, and some runbook's symptom could not be decided (exit 5). The report then
/// leads with what it could not see, never with a tick.
fn triage_blind(report: &TriageReport) -> bool {
    report.verdict() == crate::runbook::record::Verdict::Inconclusive
}

/// "Nothing" is only as wide as what could be checked.
fn nothing_shows(report: &TriageReport) -> &'static str {
    if report.not_checked.is_empty() {
        "No runbook's symptom shows in this cluster."
    } else {
        "No symptom shows in what could be checked; what could not be checked may still be broken (see Not checked)."
    }
}

fn triage_text(report: &TriageReport, ctx: &Context) -> String {
    let mut out = String::new();
    if triage_blind(report) {
        push_hanging(
            &mut out,
            &format!("? INCONCLUSIVE — {}", report.coverage.summary),
            "  ",
        );
        if report.suggestions.is_empty() {
            push_wrapped(&mut out, nothing_shows(report), "  ");
        } else {
            out.push('\n');
        }
    } else if report.suggestions.is_empty() {
        let _ = writeln!(out, "✓ {}", nothing_shows(report));
    }
    for (i, s) in report.suggestions.iter().enumerate() {
        let target = s.target.clone().unwrap_or_else(|| "cluster".into());
        let _ = writeln!(
            out,
            "{:>2}. {}  {} · {}",
            i + 1,
            severity_mark(s.severity.as_str()),
            s.runbook,
            sanitize(&target)
        );
        push_wrapped(&mut out, &s.reason, "      ");
        let _ = writeln!(
            out,
            "      $ {}",
            run_command(&s.runbook, s.target.as_deref(), ctx)
        );
    }
    if !report.not_checked.is_empty() {
        if triage_blind(report) {
            let _ = writeln!(out, "\nNot checked");
        } else {
            out.push('\n');
            push_hanging(
                &mut out,
                &format!("Not checked — {}", report.coverage.summary),
                "  ",
            );
        }
        for n in &report.not_checked {
            push_wrapped(&mut out, &format!("? {}: {}", n.runbook, n.reason), "  ");
        }
    }
    out
}

fn triage_markdown(report: &TriageReport, ctx: &Context) -> String {
    let mut out = String::from("### ktriage triage\n\n");
    if triage_blind(report) {
        let _ = writeln!(
            out,
            "**? Inconclusive:** {}\n",
            md_escape_inline(&report.coverage.summary)
        );
    }
    if report.suggestions.is_empty() {
        out.push_str(nothing_shows(report));
        out.push('\n');
    } else {
        out.push_str(
            "| # | severity | runbook | target | why | next |\n|---|---|---|---|---|---|\n",
        );
        for (i, s) in report.suggestions.iter().enumerate() {
            let target = s.target.clone().unwrap_or_else(|| "cluster".into());
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | `{}` | {} | `{}` |",
                i + 1,
                severity_mark(s.severity.as_str()),
                s.runbook,
                md_escape_inline(&target),
                md_escape_inline(&s.reason),
                run_command(&s.runbook, s.target.as_deref(), ctx),
            );
        }
    }
    if !report.not_checked.is_empty() {
        if triage_blind(report) {
            out.push_str("\n**Not checked**\n\n");
        } else {
            let _ = writeln!(
                out,
                "\n**Not checked** ({})\n",
                md_escape_inline(&report.coverage.summary)
            );
        }
        for n in &report.not_checked {
            let _ = writeln!(out, "- `{}`: {}", n.runbook, md_escape_inline(&n.reason));
        }
    }
    out
}
