//! Fact queries, the per-round cache, and the shapes facts take for runbooks.

pub mod cache;
pub mod field;
pub mod kinds;
pub mod query;
pub mod shape;
pub mod source;

pub use cache::{FactCache, FactLookup, FactResult};
pub use query::{EksQuery, FactError, FactQuery, FieldSet, GroupKind, LogEventsQuery, ObjectRef};
pub use source::{Answer, AwsAccess, BoxFuture, ClusterIdentity, Problem, Source, SourceInfo};
