//! `ktriage runbooks`: list, show, validate, test, schema and codes.

use super::{CmdError, Exit, Io, report_load_errors};
use crate::cli::RunbooksCommand;
use crate::drive::testing;
use crate::evidence::report::Format;
use crate::runbook::catalog::{self, RunbookFile};
use crate::runbook::{Catalog, RunbookError};
use std::path::PathBuf;

pub async fn runbooks(
    catalog: &Catalog,
    extra: &[PathBuf],
    cmd: RunbooksCommand,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    match cmd {
        RunbooksCommand::List => {
            report_load_errors(catalog, io);
            for rb in catalog.iter() {
                let origin = if rb.origin.builtin {
                    "built-in".to_string()
                } else {
                    rb.origin.path.clone()
                };
                let _ = writeln!(
                    io.out,
                    "{:<20} {:<26} {}",
                    rb.id,
                    rb.target.kind_name(),
                    rb.title
                );
                let _ = writeln!(io.out, "{:<20} {} ({origin})", "", rb.codes().join(" "));
            }
            Ok(loaded(catalog))
        }
        RunbooksCommand::Show { id, source } => {
            let Some(rb) = catalog.get(&id) else {
                return Err(super::no_runbook(catalog, &id));
            };
            let text = if source {
                rb.origin.text.to_string()
            } else {
                rb.outline()
            };
            let _ = io.out.write_all(text.as_bytes());
            Ok(Exit::OK)
        }
        RunbooksCommand::Validate { paths } => {
            let files: Vec<RunbookFile> = if paths.is_empty() {
                let mut f = catalog::builtin_files();
                for dir in extra {
                    f.append(&mut catalog::read_dir_files(dir).map_err(file_error)?);
                }
                f
            } else {
                let mut f = Vec::new();
                for p in &paths {
                    f.append(&mut catalog::read_dir_files(p).map_err(file_error)?);
                }
                f
            };
            // Hand-overs are checked against built-in runbooks plus the ones validated.
            let mut all = catalog::builtin_files();
            all.extend(files.iter().cloned());
            let checked = Catalog::from_files(all);
            let mut bad = 0;
            for f in &files {
                let errs: Vec<_> = checked.errors.iter().filter(|e| e.file == f.path).collect();
                if errs.is_empty() {
                    let _ = writeln!(io.out, "ok    {}", f.path);
                } else {
                    bad += 1;
                    for e in errs {
                        let _ = writeln!(io.out, "{e}");
                    }
                }
            }
            if files.is_empty() {
                return Err(CmdError::usage("no runbook files found"));
            }
            Ok(if bad == 0 { Exit::OK } else { Exit::NotLoaded })
        }
        RunbooksCommand::Test { paths } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from("runbooks")]
            } else {
                paths
            };
            let files =
                testing::find_test_files(&paths).map_err(|e| CmdError::usage(e.to_string()))?;
            if files.is_empty() {
                return Err(CmdError::usage(format!(
                    "no *.tests.yaml files under {}; run from the repository or pass their paths",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            // The runbooks beside the tests are the ones under test, edited or not.
            let mut dirs = extra.to_vec();
            for p in &paths {
                let dir = if p.is_dir() {
                    Some(p.as_path())
                } else {
                    p.parent()
                };
                if let Some(d) = dir.filter(|d| d.is_dir()) {
                    dirs.push(d.to_path_buf());
                }
            }
            let local = Catalog::load(&dirs);
            for e in &local.errors {
                let _ = writeln!(io.err, "warning: runbook not loaded: {e}");
            }
            let report = testing::run(&local, &files).await;
            let _ = io.out.write_all(report.text().as_bytes());
            Ok(if report.passed() {
                Exit::OK
            } else {
                Exit::Failed
            })
        }
        RunbooksCommand::Schema => {
            let _ = writeln!(io.out, "{}", crate::runbook::format::schema());
            Ok(Exit::OK)
        }
        RunbooksCommand::Codes { output } => {
            report_load_errors(catalog, io);
            let codes = catalog.finding_codes();
            let text = match output {
                Format::Text => catalog::codes_text(&codes),
                Format::Markdown => catalog::codes_markdown(&codes),
                Format::Json => crate::text::to_json_pretty(&codes) + "\n",
            };
            let _ = io.out.write_all(text.as_bytes());
            Ok(loaded(catalog))
        }
    }
}

/// A list of what loaded ends "not loaded" when some runbook file did not.
fn loaded(catalog: &Catalog) -> Exit {
    if catalog.errors.is_empty() {
        Exit::OK
    } else {
        Exit::NotLoaded
    }
}

/// A runbook file or directory that cannot be read, said with its path as it is.
fn file_error(e: RunbookError) -> CmdError {
    CmdError::usage(e.to_string())
}
