//! The interface over a live cluster, a snapshot or the demo; and `themes list`.

use super::{CmdError, Exit, Io, open, report_load_errors};
use crate::cli::{LiveArgs, OpenArgs};
use crate::config::Settings;
use crate::evidence::redact::RuleSet;
use crate::facts::Source;
use crate::runbook::Catalog;
use crate::tui;
use std::sync::Arc;

/// No command: the interface on the live cluster of the kube context.
pub async fn live(
    catalog: &Catalog,
    settings: &Settings,
    args: &LiveArgs,
    theme: Option<&str>,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    let (live, _) = open::live(&args.cluster, args.namespace.clone(), io).await?;
    let live = Arc::new(live);
    let opened = tui::Opened {
        source: live.clone(),
        live: Some(live),
        pinned_now: args.cluster.as_of,
    };
    interface(catalog, settings, opened, theme, io).await
}

/// `ktriage open PATH`.
pub async fn open(
    catalog: &Catalog,
    settings: &Settings,
    args: &OpenArgs,
    theme: Option<&str>,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    let snapshot = open::snapshot(&args.path, args.as_of, io)?;
    let opened = tui::Opened {
        source: Arc::new(snapshot),
        live: None,
        pinned_now: args.as_of,
    };
    interface(catalog, settings, opened, theme, io).await
}

/// `ktriage demo`: the built-in demo cluster.
pub async fn demo(
    catalog: &Catalog,
    settings: &Settings,
    theme: Option<&str>,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    let snapshot = crate::demo::snapshot()
        .map_err(|e| CmdError::failed(format!("the built-in demo cluster does not load: {e}")))?;
    let opened = tui::Opened {
        source: Arc::new(snapshot),
        live: None,
        pinned_now: None,
    };
    interface(catalog, settings, opened, theme, io).await
}

/// The interface over an opened source. Every user file it needs is checked before the
/// terminal is taken; its errors are printed once the terminal is back.
async fn interface(
    catalog: &Catalog,
    settings: &Settings,
    opened: tui::Opened,
    theme: Option<&str>,
    io: &mut Io<'_>,
) -> Result<Exit, CmdError> {
    report_load_errors(catalog, io);
    let choice = match theme {
        Some(name) => tui::theme::Choice::Named(name),
        None => tui::theme::Choice::Auto {
            colour: tui::theme::colour_supported(
                std::env::var("NO_COLOR").ok().as_deref(),
                std::env::var("TERM").ok().as_deref(),
            ),
        },
    };
    let theme = tui::theme::select(choice, settings).map_err(CmdError::usage)?;
    let keymap = tui::keymap::Keymap::with_user_file(settings.keys.as_ref())
        .map_err(|e| CmdError::usage(format!("keys: {e}")))?;
    // Read at start, so a bad file is said now, not in the middle of an export.
    let rules = RuleSet::with_user_file(settings.redaction.as_ref())
        .map_err(|e| CmdError::usage(e.to_string()))?;
    tracing::info!(theme = %theme.name, source = %opened.source.info().description, "interface starts");
    let options = tui::Options {
        theme,
        keymap,
        rules: Arc::new(rules),
    };
    match tui::run(opened, Arc::new(catalog.clone()), options).await {
        Ok(tui::Ended::Quit) => Ok(Exit::OK),
        // The message may find no terminal (SIGHUP); the log has it either way.
        Ok(tui::Ended::Signalled(name, number)) => {
            tracing::info!(signal = name, "interface stopped by a signal");
            let _ = writeln!(
                io.err,
                "ktriage: stopped by {name}; the terminal was restored"
            );
            Ok(Exit::Signalled(number))
        }
        Err(e) => Err(CmdError::failed(e)),
    }
}

/// `ktriage themes list`: built-in and the user's, and the files that do not load.
pub fn themes_list(settings: &Settings, io: &mut Io<'_>) -> Result<Exit, CmdError> {
    let (themes, errors) = tui::theme::all(settings);
    for t in &themes {
        let _ = writeln!(io.out, "{:<16} {:<56} {}", t.name, t.description, t.origin);
    }
    for e in &errors {
        let _ = writeln!(io.err, "warning: theme not loaded: {e}");
    }
    Ok(if errors.is_empty() {
        Exit::OK
    } else {
        Exit::NotLoaded
    })
}
