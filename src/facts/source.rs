//! What a source is, in the vocabulary's terms: the trait every source implements, the
//! answer it gives, and what it says about itself. It lives with the facts, below every
//! source, as kube-core's types live under kube-client: a runbook, the engine and the
//! views can name a source without depending on how one is read.

use super::{FactError, FactQuery};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The answer to one query, shaped as the API or CLI returns it:
/// - `Get`: the object, or `null` when it does not exist;
/// - `List`, `Events`: an array of objects (events from both event APIs, raw);
/// - `Logs`: a string, exactly what `kubectl logs --timestamps` prints;
/// - `Eks`: the whole CLI response (`{"cluster": {...}}`);
/// - `LogEvents`: an array of CloudWatch events (`logStreamName`, `timestamp`, `message`).
pub type Answer = serde_json::Value;

pub trait Source: Send + Sync {
    fn info(&self) -> &SourceInfo;
    fn fetch<'a>(&'a self, query: &'a FactQuery) -> BoxFuture<'a, Result<Answer, FactError>>;
}

/// A shared source is a source: one snapshot read once serves many rounds.
impl<T: Source + ?Sized> Source for std::sync::Arc<T> {
    fn info(&self) -> &SourceInfo {
        (**self).info()
    }

    fn fetch<'a>(&'a self, query: &'a FactQuery) -> BoxFuture<'a, Result<Answer, FactError>> {
        (**self).fetch(query)
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ClusterIdentity {
    pub name: String,
    pub region: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceInfo {
    /// What a header shows: `snapshot tests/fixtures/pvc (hand-written)`, `context prod-eu`.
    pub description: String,
    pub live: bool,
    pub context: Option<String>,
    pub cluster: Option<ClusterIdentity>,
    /// "Now" for every age computed over this source: the clock for live sources, the
    /// capture time (or newest timestamp seen) for snapshots.
    pub now: DateTime<Utc>,
    /// Whether AWS facts can be read, said once in headers rather than as an unknown on
    /// every AWS step.
    pub aws: AwsAccess,
    /// Problems met while reading that did not stop the rest from being read.
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum AwsAccess {
    /// Read live through the SDK, as `identity` (the ARN sts names).
    Live {
        cluster: String,
        region: String,
        identity: String,
    },
    /// Read from the snapshot's `aws/` folder.
    Recorded,
    /// Every AWS fact is unavailable, for this reason.
    Unavailable { reason: String, hint: String },
}

impl AwsAccess {
    /// One line for a header.
    pub fn notice(&self) -> String {
        match self {
            // The header already names the cluster; who is asking is what an on-call
            // engineer checks (`assumed-role/oncall/alice`).
            AwsAccess::Live { identity, .. } => {
                format!("AWS as {}", identity.rsplit(':').next().unwrap_or(identity))
            }
            AwsAccess::Recorded => "AWS: recorded in the snapshot".to_string(),
            AwsAccess::Unavailable { reason, .. } => format!("AWS facts unknown: {reason}"),
        }
    }
}

/// A file that could not be read, with where in it; the rest of the source is still used.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// One line, whatever the file's name or the message hold (a snapshot's entry names are
/// its author's).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::text::sanitize_line(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", crate::text::sanitize_line(&self.message))
    }
}
