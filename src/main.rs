//! Command-line wiring only; behaviour lives in the library.

use ktriage::cmd::{self, CmdError, Io};

fn main() {
    // Installed before anything else so a panic still prints a report (and, once the
    // TUI takes the terminal, restores it first).
    let _ = color_eyre::install();
    // Over it: a panic caught where it happens (a CEL evaluation, a background job) is
    // logged, not reported as the process's end.
    ktriage::panics::install();
    // The user's directories are found once, here; everything below is given them.
    let dirs = ktriage::config::Dirs::from_env();
    ktriage::logging::init(dirs.log_file());
    let cli = ktriage::cli::try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let code = CmdError::failed(format!("cannot start the async runtime: {e}"))
                .report(&mut std::io::stderr());
            std::process::exit(code);
        }
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let code = runtime.block_on(cmd::execute(
        cli,
        dirs,
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    ));
    drop(out);
    drop(err);
    std::process::exit(code);
}
