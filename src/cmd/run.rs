//! `ktriage run RUNBOOK`: one walk headless, or every object showing the symptom of a
//! runbook that can scan.

use super::{CmdError, Exit, Io, open, report_load_errors};
use crate::cli::RunArgs;
use crate::drive::{Round, Session, triage};
use crate::evidence::report::{self, Format};
use crate::runbook::Catalog;
use crate::runbook::format::WhenAbsent;
use crate::runbook::invoke;
use crate::runbook::model::Runbook;
use crate::text::sanitize_line;
use std::collections::BTreeMap;

pub async fn run(catalog: &Catalog, args: RunArgs, io: &mut Io<'_>) -> Result<Exit, CmdError> {
    let Some(runbook) = catalog.get(&args.runbook) else {
        let own_errors: Vec<String> = catalog
            .errors
            .iter()
            .filter(|e| e.file.contains(&format!("{}.y", args.runbook)))
            .map(|e| format!("\n  {e}"))
            .collect();
        if own_errors.is_empty() {
            return Err(super::no_runbook(catalog, &args.runbook));
        }
        return Err(CmdError::usage(format!(
            "runbook `{}` does not load:{}",
            sanitize_line(&args.runbook),
            own_errors.concat()
        )));
    };
    report_load_errors(catalog, io);
    let answers =
        invoke::parse_answers(catalog, runbook, &args.answers).map_err(CmdError::usage)?;
    invoke::check_target_form(runbook, args.target.as_deref())
        .and_then(|()| {
            invoke::check_target_namespace(
                runbook,
                args.target.as_deref(),
                args.source.live.namespace.as_deref(),
            )
        })
        .map_err(CmdError::usage)?;
    let (source, namespace) = open::source_in(&args.source, io).await?;
    let session = Session::new(source);
    let round = session.round(catalog);
    let target = args
        .target
        .as_deref()
        .map(|t| invoke::qualify_target(runbook, t, &namespace));
    if let Some(target) = &target {
        round
            .check_target(runbook, target)
            .await
            .map_err(CmdError::usage)?;
    }
    let warnings = session.source.info().problems.clone();
    let ctx = report::Context {
        source_flag: &open::flags(&args.source),
        warnings: &warnings,
    };
    if args.target.is_none() && runbook.target.when_absent == WhenAbsent::Symptomatic {
        return symptomatic(&round, runbook, &answers, args.output, &ctx, io).await;
    }
    let record = round.walk(runbook, target.as_deref(), &answers).await;
    let _ = io
        .out
        .write_all(report::walk(&record, args.output, &ctx).as_bytes());
    Ok(Exit::Found(record.verdict()))
}

/// A run without a target of a `whenAbsent: symptomatic` runbook walks every object whose
/// symptom shows (JSON: an array of walk records); it ends as the most serious walk.
async fn symptomatic(
    round: &Round<'_>,
    runbook: &Runbook,
    answers: &BTreeMap<String, String>,
    output: Format,
    ctx: &report::Context<'_>,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    let scan = triage::scan(round, runbook).await.map_err(|reason| {
        CmdError::inconclusive(format!(
            "cannot tell which {} objects to walk: {reason}\n  name one: --target {}",
            runbook.target.kind_name(),
            runbook.target.ref_form()
        ))
    })?;
    for (target, reason) in &scan.undecided {
        let _ = writeln!(
            io.err,
            "warning: could not tell whether {} shows the symptom: {reason}",
            target
                .as_deref()
                .map_or_else(|| "the cluster".into(), sanitize_line)
        );
    }
    let mut targets: Vec<(Option<String>, Option<chrono::DateTime<chrono::Utc>>)> = scan
        .matched
        .into_iter()
        .map(|(t, r)| (t, r.since))
        .collect();
    targets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if targets.is_empty() {
        let _ = writeln!(
            io.err,
            "No {} shows the symptom of `{}`; nothing to walk. Name one to walk it anyway: --target {}",
            runbook.target.kind_name(),
            runbook.id,
            runbook.target.ref_form()
        );
        if output == Format::Json {
            let _ = io.out.write_all(b"[]\n");
        }
        return Ok(if scan.undecided.is_empty() {
            Exit::OK
        } else {
            Exit::Found(crate::runbook::record::Verdict::Inconclusive)
        });
    }
    let mut records = Vec::new();
    for (target, _) in &targets {
        records.push(round.walk(runbook, target.as_deref(), answers).await);
    }
    let text = match output {
        Format::Json => {
            let records: Vec<serde_json::Value> = records
                .iter()
                .map(|r| {
                    serde_json::from_str(&report::walk(r, Format::Json, ctx)).unwrap_or_default()
                })
                .collect();
            crate::text::to_json_pretty(&records) + "\n"
        }
        _ => records
            .iter()
            .map(|r| report::walk(r, output, ctx))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let _ = io.out.write_all(text.as_bytes());
    Ok(Exit::worst(records.iter().map(|r| r.verdict())))
}
