//! EKS control-plane logging: which log type a stream of `/aws/eks/<cluster>/cluster`
//! belongs to, and whether the cluster sends it. Searching a type that is off finds
//! nothing, which is not the same as "no such lines": it is unavailable, with the fix.
//! Live and snapshot sources both ask this, from the same `describe-cluster` response.

use crate::facts::{FactError, LogEventsQuery};
use serde_json::Value;

/// Stream prefix → (logging type, as a user names it). Longest prefix first: audit
/// streams also begin with `kube-apiserver-`.
const TYPES: &[(&str, &str, &str)] = &[
    ("kube-apiserver-audit-", "audit", "audit"),
    ("kube-apiserver-", "api", "API server"),
    ("authenticator-", "authenticator", "authenticator"),
    (
        "kube-controller-manager-",
        "controllerManager",
        "controller manager",
    ),
    (
        "cloud-controller-manager-",
        "controllerManager",
        "controller manager",
    ),
    ("kube-scheduler-", "scheduler", "scheduler"),
];

pub(crate) fn is_control_plane_group(group: &str, cluster: &str) -> bool {
    group == format!("/aws/eks/{cluster}/cluster")
}

/// The command that turns a log type on. It changes the cluster, so it is a hint for the
/// user, never something ktriage runs.
pub(crate) fn enable_hint(cluster: &str, region: &str, log_type: Option<&str>) -> String {
    let types = match log_type {
        Some(t) => format!("\"{t}\""),
        None => "\"api\",\"audit\",\"authenticator\"".to_string(),
    };
    format!(
        "control-plane logging is configured per type (this changes the cluster, and lines from before it are not recoverable): \
aws eks update-cluster-config --name {cluster} --region {region} --logging '{{\"clusterLogging\":[{{\"types\":[{types}],\"enabled\":true}}]}}'"
    )
}

/// Unavailable when `cluster` (a `describe-cluster` response) shows the log type the
/// query reads is not sent to CloudWatch. `None` when it is, or when it cannot be told.
pub(crate) fn disabled(cluster: &Value, query: &LogEventsQuery) -> Option<FactError> {
    let cluster = cluster.get("cluster")?;
    let name = cluster.get("name")?.as_str()?;
    if !is_control_plane_group(&query.log_group, name) {
        return None;
    }
    let region = cluster
        .get("arn")
        .and_then(Value::as_str)
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .unwrap_or("REGION");
    let entries = cluster.get("logging")?.get("clusterLogging")?.as_array()?;
    let enabled: Vec<&str> = entries
        .iter()
        .filter(|e| e.get("enabled").and_then(Value::as_bool) == Some(true))
        .flat_map(|e| {
            e.get("types")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(Value::as_str)
        .collect();
    match query.stream_prefix.as_deref() {
        Some(prefix) => {
            let (_, log_type, label) = TYPES.iter().find(|(p, _, _)| prefix.starts_with(p))?;
            (!enabled.contains(log_type)).then(|| {
                FactError::unavailable(
                    format!(
                        "{label} logs are not enabled for cluster {name} (its logging sends: {})",
                        if enabled.is_empty() {
                            "nothing".to_string()
                        } else {
                            enabled.join(", ")
                        }
                    ),
                    enable_hint(name, region, Some(log_type)),
                )
            })
        }
        None => enabled.is_empty().then(|| {
            FactError::unavailable(
                format!("control-plane logging is off for cluster {name}"),
                enable_hint(name, region, None),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn query(prefix: Option<&str>) -> LogEventsQuery {
        LogEventsQuery {
            log_group: "/aws/eks/prod/cluster".into(),
            stream_prefix: prefix.map(str::to_string),
            contains: Some("access denied".into()),
            start_ms: None,
            limit: None,
        }
    }

    fn cluster(logging: Value) -> Value {
        json!({"cluster": {"name": "prod", "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "logging": logging}})
    }

    #[test]
    fn a_disabled_type_is_unavailable_with_the_command_that_enables_it() {
        let c = cluster(json!({"clusterLogging": [
            {"types": ["api", "audit"], "enabled": true},
            {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": false}
        ]}));
        let err = disabled(&c, &query(Some("authenticator-"))).expect("authenticator is off");
        let FactError::Unavailable { reason, hint } = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            reason,
            "authenticator logs are not enabled for cluster prod (its logging sends: api, audit)"
        );
        assert!(hint.contains("aws eks update-cluster-config --name prod --region eu-west-1 --logging '{\"clusterLogging\":[{\"types\":[\"authenticator\"],\"enabled\":true}]}'"), "{hint}");
        assert!(disabled(&c, &query(Some("kube-apiserver-audit-"))).is_none());
        assert!(disabled(&c, &query(Some("kube-apiserver-"))).is_none());
        assert!(disabled(&c, &query(Some("kube-scheduler-"))).is_some());
        assert!(disabled(&c, &query(None)).is_none());
    }

    #[test]
    fn audit_is_its_own_type_and_nothing_enabled_means_off() {
        let c = cluster(json!({"clusterLogging": [{"types": ["api"], "enabled": true}]}));
        assert!(disabled(&c, &query(Some("kube-apiserver-audit-"))).is_some());
        let off = cluster(
            json!({"clusterLogging": [{"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": false}]}),
        );
        assert!(disabled(&off, &query(None)).is_some());
    }

    #[test]
    fn cannot_tell_is_not_disabled() {
        // No logging field, another log group, an unknown stream prefix.
        assert!(
            disabled(
                &json!({"cluster": {"name": "prod"}}),
                &query(Some("authenticator-"))
            )
            .is_none()
        );
        let c = cluster(json!({"clusterLogging": []}));
        let mut other = query(Some("authenticator-"));
        other.log_group = "/aws/containerinsights/prod/application".into();
        assert!(disabled(&c, &other).is_none());
        assert!(disabled(&c, &query(Some("my-app-"))).is_none());
    }
}
