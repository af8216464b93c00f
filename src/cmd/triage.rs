//! `ktriage triage`: every runbook's symptom over the source, ranked.

use super::{CmdError, Exit, Io, open, report_load_errors};
use crate::cli::TriageArgs;
use crate::drive::Session;
use crate::evidence::report;
use crate::runbook::Catalog;

pub async fn triage(
    catalog: &Catalog,
    args: TriageArgs,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    report_load_errors(catalog, io);
    let session = Session::new(open::source(&args.source, io).await?);
    let report = crate::drive::triage::triage(&session.round(catalog)).await;
    let warnings = session.source.info().problems.clone();
    let ctx = report::Context {
        source_flag: &open::flags(&args.source),
        warnings: &warnings,
    };
    let _ = io
        .out
        .write_all(report::triage(&report, args.output, &ctx).as_bytes());
    Ok(Exit::Found(report.verdict()))
}
