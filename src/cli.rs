//! The command line, as clap definitions only.

use crate::evidence::report::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ktriage",
    version,
    about = "Troubleshooting assistant for Kubernetes and Amazon EKS: runbook decision trees over cluster state",
    long_about = "ktriage walks declarative runbooks (decision trees) over cluster state — a snapshot \
directory or .tar.gz, a `kubectl cluster-info dump`, or a support bundle — and concludes with a stable \
finding code, the evidence it rests on, and what to do.\n\nExit codes: 0 nothing wrong, 3 a critical \
finding, 4 a warning, 5 inconclusive (or waiting for an answer), 2 bad usage or a bad runbook, 1 the \
tool failed."
)]
pub struct Cli {
    /// Extra runbook directory (or file); its runbooks replace built-in ones with the same id.
    #[arg(long = "runbooks", value_name = "DIR", global = true)]
    pub runbook_dirs: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk one runbook over a target and print the conclusion, its evidence and the path.
    Run(RunArgs),
    /// Evaluate every runbook's symptom and rank what to look at first.
    Triage(TriageArgs),
    /// List, show, validate, test or describe runbooks.
    #[command(subcommand)]
    Runbooks(RunbooksCommand),
}

#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Snapshot to read: a directory or .tar.gz in the ktriage snapshot format, a
    /// `kubectl cluster-info dump --output-directory` or a troubleshoot support bundle.
    #[arg(long, value_name = "PATH")]
    pub snapshot: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Runbook id (see `ktriage runbooks list`).
    pub runbook: String,
    #[command(flatten)]
    pub source: SourceArgs,
    /// What the runbook is about: NAMESPACE/NAME for namespaced kinds, NAME otherwise.
    #[arg(long, value_name = "REF")]
    pub target: Option<String>,
    /// Answer to a question step, as STEP=CHOICE (repeatable).
    #[arg(long = "answer", value_name = "STEP=CHOICE")]
    pub answers: Vec<String>,
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(Debug, Subcommand)]
pub enum RunbooksCommand {
    /// Every runbook that loads, with its target kind and codes.
    List,
    /// One runbook: its description, facts, steps and conclusions.
    Show {
        id: String,
        /// Print the runbook's YAML as loaded (a starting point for an override).
        #[arg(long)]
        source: bool,
    },
    /// Check runbook files (default: every loaded runbook) and report errors with file:line:column.
    Validate { paths: Vec<PathBuf> },
    /// Run the test cases beside runbooks (`*.tests.yaml`; default: ./runbooks).
    Test { paths: Vec<PathBuf> },
    /// Print the JSON Schema of the runbook format.
    Schema,
}
