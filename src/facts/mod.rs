//! Fact queries, the per-round cache, and the shapes facts take for runbooks.

pub mod cache;
pub mod query;
pub mod shape;

pub use cache::{FactCache, FactLookup, FactResult};
pub use query::{EksQuery, FactError, FactQuery, FieldSet, GroupKind, LogEventsQuery, ObjectRef};
