//! Fact queries, the per-round cache, and the shapes facts take for runbooks.

pub mod query;

pub use query::{EksQuery, FactError, FactQuery, GroupKind, LogEventsQuery, ObjectRef};
