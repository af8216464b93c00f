//! Sources answer fact queries and nothing else. Live and snapshot sources return the
//! same JSON (the API's own shape, `managedFields` dropped), so a runbook cannot tell
//! them apart. The trait and its vocabulary are [`crate::facts::Source`]; this module
//! holds the implementations.

pub mod aws;
pub mod live;
pub mod selector;
pub mod snapshot;

/// The prefix of the `Warning` header with which `ktriage serve` marks a list as empty
/// for want of data. kubectl prints it; the live source reads such a list as unavailable,
/// not as "none exist", so a walk over `serve` is as honest as one over the snapshot.
pub const NOT_CAPTURED_WARNING: &str = "ktriage serve: not captured: ";
