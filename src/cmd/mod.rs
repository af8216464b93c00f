//! The commands, one file each. Each returns `Result<Exit, CmdError>`; [`execute_with`]
//! is the one place that turns an error into its message and exit code (ripgrep's
//! `main → run`). Output goes to the given writers, so commands are tested without a
//! process; nothing here calls `exit()`.

mod bundle;
mod open;
mod run;
mod runbooks;
mod serve;
mod triage;
mod ui;

use crate::cli::{Cli, Command, ThemesCommand};
use crate::config::{Dirs, Settings};
use crate::runbook::Catalog;
use crate::runbook::record::Verdict;
use crate::text::{Breaks, Sanitizing};
use std::io::Write;

pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// How a command that ran ended, least serious first: the order combines several
/// (`bundle` of many walks ends with the worst), and [`Exit::code`] is DESIGN.md's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// What the walks or triage found: 0 clean, 5 inconclusive, 4 warning, 3 critical.
    Found(Verdict),
    /// A check the command ran did not pass (a runbook test); its output says which: 1.
    Failed,
    /// Some of the user's files did not load; the warnings say which: 2.
    NotLoaded,
    /// Stopped by a signal: 128 + its number, as a shell reports it.
    Signalled(i32),
}

impl Exit {
    pub const OK: Exit = Exit::Found(Verdict::Clean);

    /// The most serious of several walks' verdicts (none: clean).
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Exit {
        Exit::Found(verdicts.into_iter().max().unwrap_or(Verdict::Clean))
    }

    pub fn code(self) -> i32 {
        match self {
            Exit::Found(verdict) => verdict.code(),
            Exit::Failed => 1,
            Exit::NotLoaded => 2,
            Exit::Signalled(number) => 128 + number,
        }
    }
}

/// What stopped a command, said once as `error: MESSAGE` and `  hint: HINT`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CmdError {
    pub kind: ErrorKind,
    /// What happened and where; continuation lines are indented by the writer of it.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command line or a user file cannot be used as given: 2.
    Usage,
    /// ktriage could not do it (a cluster that does not answer, a file it cannot write): 1.
    Failed,
    /// Nothing could be decided, so nothing was done: 5.
    Inconclusive,
}

impl CmdError {
    pub fn usage(message: impl Into<String>) -> CmdError {
        CmdError {
            kind: ErrorKind::Usage,
            message: message.into(),
            hint: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> CmdError {
        CmdError {
            kind: ErrorKind::Failed,
            message: message.into(),
            hint: None,
        }
    }

    pub fn inconclusive(message: impl Into<String>) -> CmdError {
        CmdError {
            kind: ErrorKind::Inconclusive,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> CmdError {
        self.hint = Some(hint.into());
        self
    }

    pub fn code(&self) -> i32 {
        match self.kind {
            ErrorKind::Failed => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Inconclusive => Verdict::Inconclusive.code(),
        }
    }

    /// Prints the error the one way errors are printed, and gives its exit code.
    pub fn report(&self, err: &mut dyn Write) -> i32 {
        let _ = writeln!(err, "error: {}", self.message);
        if let Some(hint) = &self.hint {
            let _ = writeln!(err, "  hint: {hint}");
        }
        self.code()
    }
}

/// Reads the user's settings in `dirs` once, then runs the command.
pub async fn execute(cli: Cli, dirs: Dirs, io: &mut Io<'_>) -> i32 {
    let settings = match Settings::read(&dirs, &cli.runbook_dirs) {
        Ok(s) => s,
        Err(e) => {
            let hint = e.hint();
            return CmdError::usage(e.to_string())
                .with_hint(hint)
                .report(&mut Sanitizing::new(&mut *io.err, Breaks::Keep));
        }
    };
    let catalog = Catalog::load(&settings.runbook_dirs);
    execute_with(&catalog, &settings, cli, io).await
}

/// [`execute`] with runbooks and settings already loaded (tests run many commands over
/// one catalog).
pub async fn execute_with(
    catalog: &Catalog,
    settings: &Settings,
    cli: Cli,
    io: &mut Io<'_>,
) -> i32 {
    // Every command's output reaches a terminal (or a pipe into a pager) through these: no
    // message that quotes a name, a reason or a file path can bypass the sanitiser. The
    // interface draws on the terminal by its own handle.
    let mut out = Sanitizing::new(&mut *io.out, Breaks::Keep);
    let mut err = Sanitizing::new(&mut *io.err, Breaks::Keep);
    let io = &mut Io {
        out: &mut out,
        err: &mut err,
    };
    match dispatch(catalog, settings, cli, io).await {
        Ok(exit) => exit.code(),
        Err(e) => e.report(io.err),
    }
}

async fn dispatch(
    catalog: &Catalog,
    settings: &Settings,
    cli: Cli,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    let theme = cli.theme.as_deref();
    match cli.command {
        None => ui::live(catalog, settings, &cli.live, theme, io).await,
        Some(Command::Open(args)) => ui::open(catalog, settings, &args, theme, io).await,
        Some(Command::Demo) => ui::demo(catalog, settings, theme, io).await,
        Some(Command::Themes(ThemesCommand::List)) => ui::themes_list(settings, io),
        Some(Command::Run(args)) => run::run(catalog, args, io).await,
        Some(Command::Triage(args)) => triage::triage(catalog, args, io).await,
        Some(Command::Runbooks(cmd)) => {
            runbooks::runbooks(catalog, &settings.runbook_dirs, cmd, io).await
        }
        Some(Command::Serve(args)) => serve::serve(args, io).await,
        Some(Command::Bundle(args)) => bundle::bundle(catalog, settings, args, io).await,
    }
}

/// Runbook files that did not load, said before a command uses the rest.
fn report_load_errors(catalog: &Catalog, io: &mut Io<'_>) {
    for e in &catalog.errors {
        let _ = writeln!(io.err, "warning: runbook not loaded: {e}");
    }
}

/// `no runbook `x`; did you mean …?` with the loaded ids.
fn no_runbook(catalog: &Catalog, id: &str) -> CmdError {
    let ids = catalog.ids();
    CmdError::usage(format!(
        "no runbook `{}`{}\n  available: {}",
        crate::text::sanitize_line(id),
        crate::suggest::did_you_mean(id, &ids),
        ids.join(", ")
    ))
}
