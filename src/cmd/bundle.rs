//! `ktriage bundle`: walks, collection and the archive, headless; or `verify` / `rules`.

use super::{CmdError, Exit, Io, open};
use crate::cli::{BundleArgs, BundleCommand, LiveArgs, SourceArgs};
use crate::config::Settings;
use crate::drive::{Session, collect, triage};
use crate::evidence::casefile::{CaseWalk, Casefile};
use crate::evidence::{archive, export, redact};
use crate::runbook::Catalog;
use crate::runbook::format::WhenAbsent;
use crate::runbook::invoke;
use crate::text::sanitize_line;
use std::path::PathBuf;

pub async fn bundle(
    catalog: &Catalog,
    settings: &Settings,
    args: BundleArgs,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    let rules = || {
        redact::RuleSet::with_user_file(settings.redaction.as_ref())
            .map_err(|e| CmdError::usage(e.to_string()))
    };
    match &args.command {
        Some(BundleCommand::Verify { file }) => {
            let v = archive::verify(file).map_err(|e| CmdError::failed(e.to_string()))?;
            let _ = writeln!(
                io.out,
                "ok: {} — {} file(s) match the manifest's SHA-256 sums",
                sanitize_line(&file.display().to_string()),
                v.files
            );
            return Ok(Exit::OK);
        }
        Some(BundleCommand::Rules) => {
            for r in rules()?.rules() {
                let _ = writeln!(
                    io.out,
                    "{:<28} {:<8} {:<9} {}",
                    r.id,
                    r.kind,
                    if r.enabled { "on" } else { "off" },
                    r.description
                );
            }
            return Ok(Exit::OK);
        }
        None => {}
    }
    let rules = rules()?;
    let redactor = redact::Redactor::new(
        &rules,
        redact::Profile {
            redact_ips: args.redact_ips,
        },
    );
    // Every runbook and answer is checked before anything is collected.
    let mut planned = Vec::new();
    for (id, target) in &args.walks {
        let Some(runbook) = catalog.get(id) else {
            return Err(super::no_runbook(catalog, id));
        };
        let target = target.as_ref().map(|t| match args.namespaces.first() {
            Some(ns) => invoke::qualify_target(runbook, t, ns),
            None => t.clone(),
        });
        invoke::check_target_form(runbook, target.as_deref()).map_err(CmdError::usage)?;
        let answers = invoke::parse_answers_lenient(catalog, runbook, &args.answers)
            .map_err(CmdError::usage)?;
        planned.push((runbook.clone(), target, answers));
    }
    let source_args = SourceArgs {
        snapshot: args.snapshot.clone(),
        live: LiveArgs {
            cluster: args.cluster.clone(),
            namespace: args.namespaces.first().cloned(),
        },
    };
    let session = Session::new(open::source(&source_args, io).await?);
    let round = session.round(catalog);
    let mut case = Casefile::default();
    for (runbook, target, answers) in &planned {
        if let Some(t) = target {
            round
                .check_target(runbook, t)
                .await
                .map_err(CmdError::usage)?;
        }
        let targets: Vec<Option<String>> = match target {
            Some(t) => vec![Some(t.clone())],
            None if runbook.target.when_absent == WhenAbsent::Symptomatic => {
                match triage::scan(&round, runbook).await {
                    Ok(scan) => scan.matched.into_iter().map(|(t, _)| t).collect(),
                    Err(reason) => {
                        let _ = writeln!(
                            io.err,
                            "warning: {}: cannot tell which objects to walk ({reason}); walking without a target",
                            runbook.id
                        );
                        vec![None]
                    }
                }
            }
            None => vec![None],
        };
        for t in targets {
            let record = round.walk(runbook, t.as_deref(), answers).await;
            let _ = writeln!(
                io.err,
                "walked {} on {}: {}",
                runbook.id,
                t.as_deref()
                    .map_or_else(|| "the cluster".into(), sanitize_line),
                record.conclusion.as_ref().map_or_else(
                    || format!("{:?}", record.status).to_lowercase(),
                    |c| c.code.clone()
                )
            );
            // Every walk asked for is written, even one asked twice (unlike the
            // interface, where walking again revises the case).
            case.walks.push(CaseWalk {
                runbook: runbook.id.clone(),
                target: t,
                answers: answers.clone(),
                record,
            });
        }
    }
    let mut scope = collect::Scope::default();
    scope.namespaces.extend(args.namespaces.iter().cloned());
    let options = export::Options {
        limits: collect::Limits {
            max_log_lines: args.max_log_lines,
            since: args.since,
            deadline: std::time::Duration::from_secs(args.deadline),
            ..collect::Limits::default()
        },
        scope,
        redactor: &redactor,
        output: args.output.clone(),
        dir: PathBuf::from("."),
    };
    let err = std::sync::Mutex::new(Vec::<String>::new());
    let progress = |line: String| {
        if let Ok(mut e) = err.lock() {
            e.push(line);
        }
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let result = export::export(
        &*session.source,
        round.cache,
        catalog,
        &case,
        round.env.now(),
        options,
        &progress,
        &cancel,
    )
    .await;
    for line in err.into_inner().unwrap_or_default() {
        let _ = writeln!(io.err, "{line}");
    }
    let w = result.map_err(CmdError::failed)?;
    let _ = writeln!(
        io.out,
        "{}\n  {} file(s), {} KiB; {} collection problem(s) (errors.json), {} redaction(s) (redactions.json)\n  reopen: ktriage open {0}\n  check:  ktriage bundle verify {0}",
        w.path.display(),
        w.files,
        w.bytes.div_ceil(1024),
        w.errors,
        w.redactions
    );
    Ok(Exit::worst(case.walks.iter().map(|w| w.record.verdict())))
}
