//! The runbook file format: what authors write. Deserialized with positions so every
//! load error can name file, line and column; the JSON Schema editors use is generated
//! from these same types (`ktriage runbooks schema`).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// A value with the place it was written, for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub line: usize,
    pub column: usize,
}

impl<T> At<T> {
    pub fn new(value: T, line: usize, column: usize) -> Self {
        At {
            value,
            line,
            column,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        Ok(At {
            value: spanned.value,
            line: spanned.referenced.line() as usize,
            column: spanned.referenced.column() as usize,
        })
    }
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// A CEL expression.
pub type Cel = At<String>;
/// Text with `${cel}` interpolations.
pub type Template = At<String>;

/// A troubleshooting runbook: a decision tree over facts about one target.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "ktriage runbook")]
pub struct RunbookDoc {
    /// Stable identifier, kebab-case (`pvc-pending`). A user runbook with the id of a
    /// built-in one replaces it.
    pub id: At<String>,
    /// One line, shown in lists.
    pub title: String,
    /// What the runbook is for and what it checks, shown by `runbooks show`.
    #[serde(default)]
    pub description: Option<String>,
    /// Words the runbook picker's fuzzy filter also matches.
    #[serde(default)]
    pub tags: Vec<String>,
    pub target: TargetDoc,
    /// How triage recognises the problem this runbook explains.
    #[serde(default)]
    pub symptom: Option<SymptomDoc>,
    /// Named queries the steps read, fetched only when a step needs them.
    #[serde(default)]
    pub facts: IndexMap<String, FactDoc>,
    /// The decision tree. The walk starts at the first step.
    pub steps: Vec<StepDoc>,
    /// Where paths end.
    pub conclusions: Vec<ConclusionDoc>,
}

/// What the runbook is about.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetDoc {
    /// A Kubernetes kind (`PersistentVolumeClaim`), `EksNodegroup`, or `Cluster`.
    pub kind: At<String>,
    /// Needed for kinds ktriage does not know by name (CRDs): `group/version`.
    #[serde(default)]
    pub api_version: Option<At<String>>,
    /// The runbook can run without a target.
    #[serde(default)]
    pub optional: bool,
    /// What a run without a target walks: once with `target` null (`null`, the default), or
    /// every object whose symptom shows (`symptomatic`, needs a per-object symptom).
    #[serde(default)]
    pub when_absent: WhenAbsent,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WhenAbsent {
    #[default]
    Null,
    Symptomatic,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Evaluated by triage for every object of the target kind (or once with `target: null`
/// when `scope: cluster`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SymptomDoc {
    /// CEL boolean over `target` (and facts): the problem shows.
    pub when: Cel,
    /// How urgent a suggestion is.
    pub severity: Severity,
    /// CEL string, per target: `critical`, `warning` or `info`, when urgency depends on what
    /// shows (a drain versus a kubelet eviction); `severity` applies where it gives none.
    #[serde(default)]
    pub severity_by: Option<Cel>,
    /// One line shown beside the suggestion (template).
    pub reason: Template,
    /// CEL timestamp: when the symptom was last seen, for ranking by recency.
    #[serde(default)]
    pub since: Option<Cel>,
    /// CEL string: targets with the same key are one suggestion with a count.
    #[serde(default)]
    pub group_by: Option<Cel>,
    #[serde(default)]
    pub scope: SymptomScope,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SymptomScope {
    /// Once per object of the target kind.
    #[default]
    Each,
    /// Once for the cluster, with `target` null.
    Cluster,
}

/// A named fact: exactly one of `get`, `list`, `events`, `logs`, `eks`, `cloudwatch`,
/// `value`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FactDoc {
    /// What the fact is, for the evidence list.
    #[serde(default)]
    pub description: Option<String>,
    /// One Kubernetes object, or `null` when it does not exist.
    #[serde(default)]
    pub get: Option<GetDoc>,
    /// Kubernetes objects of a kind.
    #[serde(default)]
    pub list: Option<ListDoc>,
    /// CEL: an object (or list of objects) whose events to read, from both event APIs,
    /// newest first, in the core/v1 shape.
    #[serde(default)]
    pub events: Option<Cel>,
    /// Container logs, one item per line: `{namespace, pod, container, previous, time, text}`.
    #[serde(default)]
    pub logs: Option<LogsDoc>,
    /// An EKS API response.
    #[serde(default)]
    pub eks: Option<EksDoc>,
    /// CloudWatch Logs events of a log group.
    #[serde(default)]
    pub cloudwatch: Option<CloudwatchDoc>,
    /// CEL computed from the target and other facts.
    #[serde(default)]
    pub value: Option<Cel>,
    /// CEL over `item`: keeps the items of a list-valued fact for which it is true.
    #[serde(default, rename = "where")]
    pub filter: Option<Cel>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GetDoc {
    pub kind: At<String>,
    #[serde(default)]
    pub api_version: Option<At<String>>,
    /// Template; omit for cluster-scoped kinds.
    #[serde(default)]
    pub namespace: Option<Template>,
    /// Template.
    pub name: Template,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListDoc {
    pub kind: At<String>,
    #[serde(default)]
    pub api_version: Option<At<String>>,
    /// Template; omit for all namespaces.
    #[serde(default)]
    pub namespace: Option<Template>,
    /// Template, API syntax (`app=web,tier in (a,b)`).
    #[serde(default)]
    pub label_selector: Option<Template>,
    /// Template, API syntax (`spec.nodeName=ip-10-0-1-2`).
    #[serde(default)]
    pub field_selector: Option<Template>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogsDoc {
    /// CEL: a Pod object or a list of Pods.
    pub of: Cel,
    /// Template; omit for every container of the pod.
    #[serde(default)]
    pub container: Option<Template>,
    /// The previous instance (`kubectl logs -p`).
    #[serde(default)]
    pub previous: bool,
    /// Lines from the end of each log.
    #[serde(default)]
    pub tail_lines: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EksDoc {
    pub call: EksCall,
    /// Template: the node group or add-on name, for the describe calls.
    #[serde(default)]
    pub name: Option<Template>,
    /// Template: for `describe-access-entry`.
    #[serde(default)]
    pub principal_arn: Option<Template>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EksCall {
    DescribeCluster,
    ListNodegroups,
    DescribeNodegroup,
    ListAddons,
    DescribeAddon,
    ListAccessEntries,
    DescribeAccessEntry,
    ListPodIdentityAssociations,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudwatchDoc {
    /// Template (`/aws/eks/${cluster.name}/cluster`).
    pub log_group: Template,
    #[serde(default)]
    pub stream_prefix: Option<Template>,
    /// Template: a plain term the message contains.
    #[serde(default)]
    pub contains: Option<Template>,
    /// How far back from now, as a CEL duration string (`6h`).
    #[serde(default)]
    pub since: Option<At<String>>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One step: exactly one of `check`, `switch`, `ask`, `handover`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StepDoc {
    pub id: At<String>,
    /// What the step asks, shown in the walk (template).
    pub title: Template,
    /// CEL boolean.
    #[serde(default)]
    pub check: Option<Cel>,
    /// Where a true check leads.
    #[serde(default, rename = "then")]
    pub then_: Option<At<String>>,
    /// Where a false check leads.
    #[serde(default, rename = "else")]
    pub else_: Option<At<String>>,
    /// Why, shown in the path for each outcome (templates).
    #[serde(default)]
    pub because: Option<BecauseDoc>,
    /// Ordered cases; the first whose `when` is true wins.
    #[serde(default)]
    pub switch: Option<Vec<CaseDoc>>,
    /// Where a switch leads when no case matches.
    #[serde(default)]
    pub default: Option<At<String>>,
    /// Why, shown in the path when a switch takes its `default` (template).
    #[serde(default)]
    pub default_because: Option<Template>,
    /// A question only a human can answer.
    #[serde(default)]
    pub ask: Option<AskDoc>,
    /// Continue in another runbook.
    #[serde(default)]
    pub handover: Option<HandoverDoc>,
    /// Where the walk goes when a fact the step reads is forbidden or unavailable;
    /// without it the walk stops inconclusive.
    #[serde(default)]
    pub unknown: Option<At<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BecauseDoc {
    #[serde(default, rename = "then")]
    pub then_: Option<Template>,
    #[serde(default, rename = "else")]
    pub else_: Option<Template>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaseDoc {
    pub when: Cel,
    pub goto: At<String>,
    /// Why, shown in the path (template).
    #[serde(default)]
    pub because: Option<Template>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AskDoc {
    /// Template.
    pub question: Template,
    /// The exact command to run elsewhere (template).
    #[serde(default)]
    pub command: Option<Template>,
    /// What to look for in its output (template).
    #[serde(default)]
    pub look_for: Option<Template>,
    pub choices: Vec<ChoiceDoc>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChoiceDoc {
    /// What `--answer STEP=ID` names.
    pub id: At<String>,
    pub label: String,
    pub goto: At<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HandoverDoc {
    pub runbook: At<String>,
    /// Template: the other runbook's target reference (`NAMESPACE/NAME` or `NAME`).
    #[serde(default)]
    pub target: Option<Template>,
}

/// Where a path ends.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConclusionDoc {
    pub id: At<String>,
    /// Stable finding code (UPPER_SNAKE_CASE).
    pub code: At<String>,
    pub severity: Severity,
    /// Template.
    pub title: Template,
    /// Template quoting the evidence.
    pub summary: Template,
    /// The observations this rests on.
    #[serde(default)]
    pub evidence: Vec<EvidenceDoc>,
    /// What to do, in order (templates).
    #[serde(default)]
    pub remediation: Vec<Template>,
    #[serde(default)]
    pub commands: Vec<CommandDoc>,
    #[serde(default)]
    pub references: Vec<String>,
    /// A runbook to continue with, when it is installed.
    #[serde(default)]
    pub follow_up: Option<HandoverDoc>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EvidenceDoc {
    pub label: String,
    /// CEL: a string, or a list of strings, each quoted as one line. Nothing is shown
    /// when it is empty.
    pub quote: Cel,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandDoc {
    /// Template: the command line.
    pub run: Template,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// True for a command that changes the cluster or AWS: shown as a fix to apply
    /// deliberately, never as a check.
    #[serde(default)]
    pub changes: bool,
    /// CEL: shown only when this holds (a command that fits one authentication mode, one
    /// kind of owner). Unknown leaves the command out.
    #[serde(default)]
    pub when: Option<Cel>,
}

/// Test cases beside a runbook (`NAME.tests.yaml`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestFileDoc {
    pub runbook: At<String>,
    pub cases: Vec<TestCaseDoc>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestCaseDoc {
    pub name: At<String>,
    /// Snapshot path, relative to the test file.
    pub snapshot: At<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub answers: IndexMap<String, String>,
    pub expect: ExpectDoc,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectDoc {
    /// Expected conclusion code (omit for an inconclusive or needs-input walk).
    #[serde(default)]
    pub code: Option<String>,
    /// `concluded` (default when `code` is set), `inconclusive` or `needs-input`.
    #[serde(default)]
    pub status: Option<String>,
    /// Step ids the walk must pass through, in order (a subsequence of the path).
    #[serde(default)]
    pub path: Vec<String>,
    /// Facts the walk must report missing (inconclusive walks).
    #[serde(default)]
    pub missing: Vec<String>,
    /// Substrings the conclusion summary or evidence must contain.
    #[serde(default)]
    pub quotes: Vec<String>,
    /// The conclusion's commands, in order: the i-th must contain the i-th substring, and
    /// there are no others (a command that does not fit the cluster must be left out).
    #[serde(default)]
    pub commands: Option<Vec<String>>,
    /// The conclusion's remediation steps, in order, the same way.
    #[serde(default)]
    pub remediation: Option<Vec<String>>,
}

/// The JSON Schema of a runbook file (`ktriage runbooks schema`), for editors.
pub fn schema() -> String {
    let schema = schemars::schema_for!(RunbookDoc);
    crate::text::to_json_pretty(&schema)
}
