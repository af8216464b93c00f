//! `ktriage serve`: a snapshot as a read-only Kubernetes API.

use super::{CmdError, Exit, Io, open};
use crate::cli::ServeArgs;
use std::sync::Arc;

/// Serves until interrupted; the URL and kubeconfig are printed before the first request
/// can arrive, so a script can wait for the first line.
pub async fn serve(args: ServeArgs, io: &mut Io<'_>) -> Result<Exit, CmdError> {
    let snapshot = Arc::new(open::snapshot(&args.path, None, io)?);
    let options = crate::serve::ServeOptions {
        listen: args.listen,
        listen_any: args.listen_any,
        kubeconfig_out: args.kubeconfig_out.clone(),
        forbid: args.forbid,
        latency: args.latency.map(std::time::Duration::from_millis),
        fail_every: args.fail_every,
        access_log: args.access_log,
        limits: crate::serve::conn::Limits {
            connections: args.max_connections as usize,
            in_flight: args.max_in_flight as usize,
            watches: args.max_watches as usize,
            headers: args.header_timeout,
            stalled: args.stall_timeout,
        },
    };
    let server = crate::serve::Server::bind(snapshot, options)
        .await
        .map_err(|e| CmdError::usage(e.to_string()))?;
    let _ = writeln!(
        io.out,
        "serving {} at {}",
        args.path.display(),
        server.url()
    );
    if let Some(path) = &args.kubeconfig_out {
        server
            .write_kubeconfig(path)
            .map_err(|e| CmdError::failed(e.to_string()))?;
        let _ = writeln!(
            io.out,
            "kubeconfig: {} (try: kubectl --kubeconfig {} get pods -A)",
            path.display(),
            path.display()
        );
    } else {
        let _ = writeln!(
            io.out,
            "kubectl: kubectl --server {} get pods -A",
            server.url()
        );
    }
    let captured = server.captured_at();
    // kubectl get's ages come from the server's tables (computed at the capture), but
    // kubectl describe computes its own from the local clock: say once how they differ.
    let later = crate::clock::now().signed_duration_since(server.now());
    let describe = if later.num_seconds() > 0 {
        format!(
            "kubectl describe counts ages from this machine's clock, {} later: subtract that there",
            crate::text::kubectl_duration(later)
        )
    } else {
        "kubectl describe counts ages from this machine's clock".to_string()
    };
    let _ = writeln!(
        io.out,
        "as of: {captured} (kubectl get shows ages at that time; {describe}; ktriage judges ages over this server by the clock, --as-of {captured} judges them as captured)"
    );
    let _ = writeln!(
        io.out,
        "read-only: every verb but GET is refused; Ctrl-C stops"
    );
    let _ = io.out.flush();
    tokio::select! {
        () = server.run() => Err(CmdError::failed("the server stopped")),
        _ = tokio::signal::ctrl_c() => Ok(Exit::OK),
    }
}
