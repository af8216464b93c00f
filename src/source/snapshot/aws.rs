//! AWS CLI responses saved under `aws/`, recognised by their top-level key (never by
//! file name), and CloudWatch Logs events merged per log group.

use crate::facts::{EksQuery, FactError, LogEventsQuery};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// What a response answers: the call, and the name for `describe-*` calls.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Response {
    Cluster,
    Nodegroups,
    Nodegroup(String),
    Addons,
    Addon(String),
    AccessEntries,
    AccessEntry(String),
    Associations,
}

impl Response {
    fn describe(&self) -> String {
        match self {
            Response::Cluster => "describe-cluster".to_string(),
            Response::Nodegroups => "list-nodegroups".to_string(),
            Response::Nodegroup(n) => format!("describe-nodegroup {n}"),
            Response::Addons => "list-addons".to_string(),
            Response::Addon(n) => format!("describe-addon {n}"),
            Response::AccessEntries => "list-access-entries".to_string(),
            Response::AccessEntry(n) => format!("describe-access-entry {n}"),
            Response::Associations => "list-pod-identity-associations".to_string(),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct AwsStore {
    /// Any file was seen under `aws/`, recognised or not.
    pub present: bool,
    responses: BTreeMap<Response, (Value, String)>,
    log_groups: BTreeMap<String, LogGroup>,
}

#[derive(Debug, Default)]
struct LogGroup {
    events: Vec<Value>,
    seen: HashSet<String>,
}

impl AwsStore {
    /// Recognises one file's response. Errors are problems to report about the file.
    pub(crate) fn add(&mut self, json: &str, file: &str) -> Result<(), String> {
        self.present = true;
        let value: Value =
            serde_json::from_str(json).map_err(|e| format!("cannot read as JSON: {e}"))?;
        let Value::Object(mut top) = value else {
            return Err("not an AWS CLI response (expected a JSON object)".to_string());
        };
        if top.contains_key("events") {
            return self.add_log_events(top);
        }
        let named = |top: &Map<String, Value>, key: &str, field: &str| -> Result<String, String> {
            top.get(key)
                .and_then(|v| v.get(field))
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("`{key}` response without `{key}.{field}`"))
        };
        let response = if top.contains_key("cluster") {
            Response::Cluster
        } else if top.contains_key("nodegroup") {
            Response::Nodegroup(named(&top, "nodegroup", "nodegroupName")?)
        } else if top.contains_key("nodegroups") {
            Response::Nodegroups
        } else if top.contains_key("addon") {
            Response::Addon(named(&top, "addon", "addonName")?)
        } else if top.contains_key("addons") {
            Response::Addons
        } else if top.contains_key("accessEntry") {
            Response::AccessEntry(named(&top, "accessEntry", "principalArn")?)
        } else if top.contains_key("accessEntries") {
            Response::AccessEntries
        } else if top.contains_key("associations") {
            Response::Associations
        } else {
            let keys: Vec<&str> = top.keys().map(String::as_str).collect();
            return Err(format!(
                "not a recognised AWS CLI response (top-level keys: {}); expected the output of one of the commands in docs/snapshots.md (describe-cluster, list-nodegroups, describe-nodegroup, ..., or filter-log-events with \"logGroupName\" added)",
                keys.join(", ")
            ));
        };
        if let Some((_, first)) = self.responses.get(&response) {
            return Err(format!(
                "duplicate {} response: already read from {first}; this one is ignored",
                response.describe()
            ));
        }
        top.remove("ResponseMetadata");
        self.responses
            .insert(response, (Value::Object(top), file.to_string()));
        Ok(())
    }

    fn add_log_events(&mut self, mut top: Map<String, Value>) -> Result<(), String> {
        let Some(group) = top
            .get("logGroupName")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Err(
                "CloudWatch Logs events need an added top-level \"logGroupName\" naming their log group".to_string(),
            );
        };
        let Some(Value::Array(events)) = top.remove("events") else {
            return Err("`events` is not an array".to_string());
        };
        let entry = self.log_groups.entry(group).or_default();
        for event in events {
            // Overlapping saves of the same group repeat events; the id says which.
            let id = match event.get("eventId").and_then(Value::as_str) {
                Some(id) => id.to_string(),
                None => format!(
                    "{}\u{0}{}\u{0}{}",
                    event_stream(&event),
                    event_time(&event).unwrap_or_default(),
                    event_message(&event)
                ),
            };
            if entry.seen.insert(id) {
                entry.events.push(event);
            }
        }
        Ok(())
    }

    /// Sorts events once all files are in.
    pub(crate) fn finish(&mut self) {
        for group in self.log_groups.values_mut() {
            group.events.sort_by(|a, b| {
                (event_time(a), event_stream(a), event_id(a)).cmp(&(
                    event_time(b),
                    event_stream(b),
                    event_id(b),
                ))
            });
            group.seen = HashSet::new();
        }
    }

    /// The newest CloudWatch event time, in milliseconds since the epoch.
    pub(crate) fn newest_event_ms(&self) -> Option<i64> {
        self.log_groups
            .values()
            .filter_map(|g| g.events.last().and_then(event_time))
            .max()
    }

    /// Cluster name and ARN from a `describe-cluster` response.
    pub(crate) fn cluster_identity(&self) -> Option<(Option<&str>, Option<&str>)> {
        let (v, _) = self.responses.get(&Response::Cluster)?;
        let cluster = v.get("cluster")?;
        Some((
            cluster.get("name").and_then(Value::as_str),
            cluster.get("arn").and_then(Value::as_str),
        ))
    }

    pub(crate) fn eks(&self, query: &EksQuery, cluster: &str) -> Result<Value, FactError> {
        let cli = query.cli_command(cluster);
        if !self.present {
            return Err(FactError::unavailable(
                "no AWS data in this snapshot",
                format!("add `{cli} --output json` output under aws/eks/"),
            ));
        }
        let key = match query {
            EksQuery::DescribeCluster => Response::Cluster,
            EksQuery::ListNodegroups => Response::Nodegroups,
            EksQuery::DescribeNodegroup { name } => Response::Nodegroup(name.clone()),
            EksQuery::ListAddons => Response::Addons,
            EksQuery::DescribeAddon { name } => Response::Addon(name.clone()),
            EksQuery::ListAccessEntries => Response::AccessEntries,
            EksQuery::DescribeAccessEntry { principal_arn } => {
                Response::AccessEntry(principal_arn.clone())
            }
            EksQuery::ListPodIdentityAssociations => Response::Associations,
        };
        if let Some((value, _)) = self.responses.get(&key) {
            return Ok(value.clone());
        }
        // A describe of a name the saved list does not hold: it does not exist, as live
        // EKS answers ResourceNotFound.
        let listed = |list: Response, key: &str| {
            self.responses
                .get(&list)
                .and_then(|(v, _)| v.get(key)?.as_array().cloned())
        };
        let absent = match &key {
            Response::Nodegroup(n) => listed(Response::Nodegroups, "nodegroups")
                .is_some_and(|l| !l.iter().any(|v| v.as_str() == Some(n))),
            Response::Addon(n) => listed(Response::Addons, "addons")
                .is_some_and(|l| !l.iter().any(|v| v.as_str() == Some(n))),
            Response::AccessEntry(n) => listed(Response::AccessEntries, "accessEntries")
                .is_some_and(|l| !l.iter().any(|v| v.as_str() == Some(n))),
            _ => false,
        };
        if absent {
            return Ok(Value::Null);
        }
        Err(FactError::unavailable(
            format!("no `{cli}` response in this snapshot"),
            format!("save the output of `{cli} --output json` under aws/eks/"),
        ))
    }

    pub(crate) fn log_events(&self, q: &LogEventsQuery) -> Result<Value, FactError> {
        let cli = format!(
            "aws logs filter-log-events --log-group-name {} --output json",
            q.log_group
        );
        let hint = format!(
            "save the output of `{cli}`, with an added top-level \"logGroupName\": \"{}\", under aws/logs/",
            q.log_group
        );
        if !self.present {
            return Err(FactError::unavailable("no AWS data in this snapshot", hint));
        }
        if let Some((cluster, _)) = self.responses.get(&Response::Cluster)
            && let Some(disabled) = crate::source::aws::logging::disabled(cluster, q)
        {
            return Err(disabled);
        }
        let Some(group) = self.log_groups.get(&q.log_group) else {
            return Err(FactError::unavailable(
                format!(
                    "no CloudWatch Logs events of log group {} in this snapshot",
                    q.log_group
                ),
                hint,
            ));
        };
        let limit = q.limit.map_or(usize::MAX, |l| l as usize);
        let selected: Vec<Value> = group
            .events
            .iter()
            .filter(|e| {
                q.stream_prefix
                    .as_deref()
                    .is_none_or(|p| event_stream(e).starts_with(p))
            })
            .filter(|e| {
                q.contains
                    .as_deref()
                    .is_none_or(|c| event_message(e).contains(c))
            })
            .filter(|e| {
                q.start_ms
                    .is_none_or(|start| event_time(e).is_some_and(|t| t >= start))
            })
            .take(limit)
            .cloned()
            .collect();
        Ok(Value::Array(selected))
    }
}

fn event_time(e: &Value) -> Option<i64> {
    e.get("timestamp").and_then(Value::as_i64)
}

fn event_stream(e: &Value) -> &str {
    e.get("logStreamName")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn event_message(e: &Value) -> &str {
    e.get("message").and_then(Value::as_str).unwrap_or_default()
}

fn event_id(e: &Value) -> &str {
    e.get("eventId").and_then(Value::as_str).unwrap_or_default()
}
