//! AWS SDK values as the AWS CLI v2 prints them with `--output json`, so a live answer
//! cannot be told apart from a saved `aws eks ... --output json` file a runbook reads offline.

use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use aws_sdk_eks::primitives::DateTime;
use aws_sdk_eks::types as eks;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// `aws eks describe-cluster` → `{"cluster": <this>}`.
pub(crate) fn cluster(c: &eks::Cluster) -> Value {
    Obj::new()
        .opt_str("name", c.name.as_ref())
        .opt_str("arn", c.arn.as_ref())
        .opt_time("createdAt", c.created_at.as_ref())
        .opt_str("version", c.version.as_ref())
        .opt_str("endpoint", c.endpoint.as_ref())
        .opt_str("roleArn", c.role_arn.as_ref())
        .opt_obj(
            "resourcesVpcConfig",
            c.resources_vpc_config.as_ref(),
            vpc_config,
        )
        .opt_obj(
            "kubernetesNetworkConfig",
            c.kubernetes_network_config.as_ref(),
            kubernetes_network_config,
        )
        .opt_obj("logging", c.logging.as_ref(), logging)
        .opt_obj("identity", c.identity.as_ref(), identity)
        .opt_str("status", c.status.as_ref())
        .opt_obj(
            "certificateAuthority",
            c.certificate_authority.as_ref(),
            certificate,
        )
        .opt_str("clientRequestToken", c.client_request_token.as_ref())
        .opt_str("platformVersion", c.platform_version.as_ref())
        .opt_map("tags", c.tags.as_ref())
        .opt_each(
            "encryptionConfig",
            c.encryption_config.as_ref(),
            encryption_config,
        )
        .opt_obj(
            "connectorConfig",
            c.connector_config.as_ref(),
            connector_config,
        )
        .opt_str("id", c.id.as_ref())
        .opt_obj("health", c.health.as_ref(), |h| {
            Obj::new()
                .opt_each("issues", h.issues.as_ref(), cluster_issue)
                .done()
        })
        .opt_obj("outpostConfig", c.outpost_config.as_ref(), outpost_config)
        .opt_obj("accessConfig", c.access_config.as_ref(), |a| {
            Obj::new()
                .opt_bool(
                    "bootstrapClusterCreatorAdminPermissions",
                    a.bootstrap_cluster_creator_admin_permissions,
                )
                .opt_str("authenticationMode", a.authentication_mode.as_ref())
                .done()
        })
        .opt_obj("upgradePolicy", c.upgrade_policy.as_ref(), |u| {
            Obj::new()
                .opt_str("supportType", u.support_type.as_ref())
                .done()
        })
        .opt_obj("zonalShiftConfig", c.zonal_shift_config.as_ref(), |z| {
            Obj::new().opt_bool("enabled", z.enabled).done()
        })
        .opt_obj(
            "remoteNetworkConfig",
            c.remote_network_config.as_ref(),
            remote_network_config,
        )
        .opt_obj("computeConfig", c.compute_config.as_ref(), |cc| {
            Obj::new()
                .opt_bool("enabled", cc.enabled)
                .opt_list("nodePools", cc.node_pools.as_ref())
                .opt_str("nodeRoleArn", cc.node_role_arn.as_ref())
                .done()
        })
        .opt_obj("storageConfig", c.storage_config.as_ref(), |s| {
            Obj::new()
                .opt_obj("blockStorage", s.block_storage.as_ref(), |b| {
                    Obj::new().opt_bool("enabled", b.enabled).done()
                })
                .done()
        })
        .opt_bool("deletionProtection", c.deletion_protection)
        .opt_obj(
            "controlPlaneScalingConfig",
            c.control_plane_scaling_config.as_ref(),
            |s| Obj::new().opt_str("tier", s.tier.as_ref()).done(),
        )
        .opt_obj(
            "kubeApiServerConfig",
            c.kube_api_server_config.as_ref(),
            kube_api_server_config,
        )
        .opt_obj(
            "kubeSchedulerConfig",
            c.kube_scheduler_config.as_ref(),
            kube_scheduler_config,
        )
        .opt_obj(
            "kubeControllerManagerConfig",
            c.kube_controller_manager_config.as_ref(),
            kube_controller_manager_config,
        )
        .done()
}

/// `aws eks describe-nodegroup` → `{"nodegroup": <this>}`.
pub(crate) fn nodegroup(n: &eks::Nodegroup) -> Value {
    Obj::new()
        .opt_str("nodegroupName", n.nodegroup_name.as_ref())
        .opt_str("nodegroupArn", n.nodegroup_arn.as_ref())
        .opt_str("clusterName", n.cluster_name.as_ref())
        .opt_str("version", n.version.as_ref())
        .opt_str("releaseVersion", n.release_version.as_ref())
        .opt_time("createdAt", n.created_at.as_ref())
        .opt_time("modifiedAt", n.modified_at.as_ref())
        .opt_str("status", n.status.as_ref())
        .opt_str("capacityType", n.capacity_type.as_ref())
        .opt_obj("scalingConfig", n.scaling_config.as_ref(), |s| {
            Obj::new()
                .opt_i32("minSize", s.min_size)
                .opt_i32("maxSize", s.max_size)
                .opt_i32("desiredSize", s.desired_size)
                .done()
        })
        .opt_list("instanceTypes", n.instance_types.as_ref())
        .opt_list("subnets", n.subnets.as_ref())
        .opt_obj("remoteAccess", n.remote_access.as_ref(), |r| {
            Obj::new()
                .opt_str("ec2SshKey", r.ec2_ssh_key.as_ref())
                .opt_list("sourceSecurityGroups", r.source_security_groups.as_ref())
                .done()
        })
        .opt_str("amiType", n.ami_type.as_ref())
        .opt_str("nodeRole", n.node_role.as_ref())
        .opt_map("labels", n.labels.as_ref())
        .opt_each("taints", n.taints.as_ref(), |t| {
            Obj::new()
                .opt_str("key", t.key.as_ref())
                .opt_str("value", t.value.as_ref())
                .opt_str("effect", t.effect.as_ref())
                .done()
        })
        .opt_obj("resources", n.resources.as_ref(), |r| {
            Obj::new()
                .opt_each("autoScalingGroups", r.auto_scaling_groups.as_ref(), |g| {
                    Obj::new().opt_str("name", g.name.as_ref()).done()
                })
                .opt_str(
                    "remoteAccessSecurityGroup",
                    r.remote_access_security_group.as_ref(),
                )
                .done()
        })
        .opt_i32("diskSize", n.disk_size)
        .opt_obj("health", n.health.as_ref(), |h| {
            Obj::new()
                .opt_each("issues", h.issues.as_ref(), nodegroup_issue)
                .done()
        })
        .opt_obj("updateConfig", n.update_config.as_ref(), |u| {
            Obj::new()
                .opt_i32("maxUnavailable", u.max_unavailable)
                .opt_i32("maxUnavailablePercentage", u.max_unavailable_percentage)
                .opt_str("updateStrategy", u.update_strategy.as_ref())
                .done()
        })
        .opt_obj(
            "nodeRepairConfig",
            n.node_repair_config.as_ref(),
            node_repair_config,
        )
        .opt_obj("launchTemplate", n.launch_template.as_ref(), |l| {
            Obj::new()
                .opt_str("name", l.name.as_ref())
                .opt_str("version", l.version.as_ref())
                .opt_str("id", l.id.as_ref())
                .done()
        })
        .opt_map("tags", n.tags.as_ref())
        .opt_obj("warmPoolConfig", n.warm_pool_config.as_ref(), |w| {
            Obj::new()
                .opt_bool("enabled", w.enabled)
                .opt_i32("minSize", w.min_size)
                .opt_i32("maxGroupPreparedCapacity", w.max_group_prepared_capacity)
                .opt_str("poolState", w.pool_state.as_ref())
                .opt_bool("reuseOnScaleIn", w.reuse_on_scale_in)
                .done()
        })
        .done()
}

/// `aws eks describe-addon` → `{"addon": <this>}`.
pub(crate) fn addon(a: &eks::Addon) -> Value {
    Obj::new()
        .opt_str("addonName", a.addon_name.as_ref())
        .opt_str("clusterName", a.cluster_name.as_ref())
        .opt_str("status", a.status.as_ref())
        .opt_str("addonVersion", a.addon_version.as_ref())
        .opt_obj("health", a.health.as_ref(), |h| {
            Obj::new()
                .opt_each("issues", h.issues.as_ref(), addon_issue)
                .done()
        })
        .opt_str("addonArn", a.addon_arn.as_ref())
        .opt_time("createdAt", a.created_at.as_ref())
        .opt_time("modifiedAt", a.modified_at.as_ref())
        .opt_str("serviceAccountRoleArn", a.service_account_role_arn.as_ref())
        .opt_map("tags", a.tags.as_ref())
        .opt_str("publisher", a.publisher.as_ref())
        .opt_str("owner", a.owner.as_ref())
        .opt_obj(
            "marketplaceInformation",
            a.marketplace_information.as_ref(),
            |m| {
                Obj::new()
                    .opt_str("productId", m.product_id.as_ref())
                    .opt_str("productUrl", m.product_url.as_ref())
                    .done()
            },
        )
        .opt_str("configurationValues", a.configuration_values.as_ref())
        .opt_list(
            "podIdentityAssociations",
            a.pod_identity_associations.as_ref(),
        )
        .opt_obj("namespaceConfig", a.namespace_config.as_ref(), |n| {
            Obj::new().opt_str("namespace", n.namespace.as_ref()).done()
        })
        .done()
}

/// `aws eks describe-access-entry` → `{"accessEntry": <this>}`.
pub(crate) fn access_entry(e: &eks::AccessEntry) -> Value {
    Obj::new()
        .opt_str("clusterName", e.cluster_name.as_ref())
        .opt_str("principalArn", e.principal_arn.as_ref())
        .opt_list("kubernetesGroups", e.kubernetes_groups.as_ref())
        .opt_str("accessEntryArn", e.access_entry_arn.as_ref())
        .opt_time("createdAt", e.created_at.as_ref())
        .opt_time("modifiedAt", e.modified_at.as_ref())
        .opt_map("tags", e.tags.as_ref())
        .opt_str("username", e.username.as_ref())
        .opt_str("type", e.r#type.as_ref())
        .done()
}

/// One element of `aws eks list-pod-identity-associations`' `associations`.
pub(crate) fn pod_identity_association(p: &eks::PodIdentityAssociationSummary) -> Value {
    Obj::new()
        .opt_str("clusterName", p.cluster_name.as_ref())
        .opt_str("namespace", p.namespace.as_ref())
        .opt_str("serviceAccount", p.service_account.as_ref())
        .opt_str("associationArn", p.association_arn.as_ref())
        .opt_str("associationId", p.association_id.as_ref())
        .opt_str("ownerArn", p.owner_arn.as_ref())
        .done()
}

/// One element of `aws logs filter-log-events`' `events`. CloudWatch Logs models its
/// times as epoch milliseconds (longs), so the CLI prints them as integers.
pub(crate) fn log_event(e: &FilteredLogEvent) -> Value {
    Obj::new()
        .opt_str("logStreamName", e.log_stream_name.as_ref())
        .opt_i64("timestamp", e.timestamp)
        .opt_str("message", e.message.as_ref())
        .opt_i64("ingestionTime", e.ingestion_time)
        .opt_str("eventId", e.event_id.as_ref())
        .done()
}

/// A timestamp as the CLI prints it: Python's `datetime.isoformat()` of the wire's epoch
/// seconds, so microseconds and `+00:00`, and no fraction at all when it is zero.
pub(crate) fn cli_time(t: &DateTime) -> Value {
    // The SDK truncates the wire's float seconds to nanos, so 15.112 arrives as
    // 15.111999988; Python rounds the same float to the nearest microsecond.
    let mut secs = t.secs();
    let mut micros = (t.subsec_nanos() + 500) / 1000;
    if micros == 1_000_000 {
        secs += 1;
        micros = 0;
    }
    let Some(at) = chrono::DateTime::from_timestamp(secs, micros * 1000) else {
        // Beyond chrono's range no API sends; the wire value beats dropping the field.
        return Value::from(t.as_secs_f64());
    };
    let text = if micros == 0 {
        at.format("%Y-%m-%dT%H:%M:%S+00:00")
    } else {
        at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
    };
    Value::String(text.to_string())
}

fn vpc_config(v: &eks::VpcConfigResponse) -> Value {
    Obj::new()
        .opt_list("subnetIds", v.subnet_ids.as_ref())
        .opt_list("securityGroupIds", v.security_group_ids.as_ref())
        .opt_str(
            "clusterSecurityGroupId",
            v.cluster_security_group_id.as_ref(),
        )
        .opt_str("vpcId", v.vpc_id.as_ref())
        // Plain `bool`s in the SDK: the API always sends them.
        .set("endpointPublicAccess", v.endpoint_public_access)
        .set("endpointPrivateAccess", v.endpoint_private_access)
        .opt_list("publicAccessCidrs", v.public_access_cidrs.as_ref())
        .opt_str(
            "controlPlaneEgressMode",
            v.control_plane_egress_mode.as_ref(),
        )
        .done()
}

fn kubernetes_network_config(k: &eks::KubernetesNetworkConfigResponse) -> Value {
    Obj::new()
        .opt_str("serviceIpv4Cidr", k.service_ipv4_cidr.as_ref())
        .opt_str("serviceIpv6Cidr", k.service_ipv6_cidr.as_ref())
        .opt_str("ipFamily", k.ip_family.as_ref())
        .opt_obj(
            "elasticLoadBalancing",
            k.elastic_load_balancing.as_ref(),
            |e| {
                Obj::new()
                    .opt_bool("enabled", e.enabled)
                    .opt_obj("gatewayApi", e.gateway_api.as_ref(), |g| {
                        Obj::new()
                            .opt_obj("crds", g.crds.as_ref(), |c| {
                                Obj::new().opt_bool("managed", c.managed).done()
                            })
                            .done()
                    })
                    .done()
            },
        )
        .done()
}

fn logging(l: &eks::Logging) -> Value {
    Obj::new()
        .opt_each("clusterLogging", l.cluster_logging.as_ref(), |s| {
            Obj::new()
                .opt_list("types", s.types.as_ref())
                .opt_bool("enabled", s.enabled)
                .done()
        })
        .done()
}

fn identity(i: &eks::Identity) -> Value {
    Obj::new()
        .opt_obj("oidc", i.oidc.as_ref(), |o| {
            Obj::new().opt_str("issuer", o.issuer.as_ref()).done()
        })
        .done()
}

fn certificate(c: &eks::Certificate) -> Value {
    Obj::new()
        .opt_str("data", c.data.as_ref())
        .opt_obj("active", c.active.as_ref(), |a| {
            Obj::new()
                .opt_str("id", a.id.as_ref())
                .opt_str("activatedBy", a.activated_by.as_ref())
                .done()
        })
        .done()
}

// `resources` is deprecated in the SDK, but the API still sends it and the CLI prints it.
#[allow(deprecated)]
fn encryption_config(e: &eks::EncryptionConfig) -> Value {
    Obj::new()
        .opt_list("resources", e.resources.as_ref())
        .opt_obj("provider", e.provider.as_ref(), |p| {
            Obj::new().opt_str("keyArn", p.key_arn.as_ref()).done()
        })
        .done()
}

fn connector_config(c: &eks::ConnectorConfigResponse) -> Value {
    Obj::new()
        .opt_str("activationId", c.activation_id.as_ref())
        .opt_str("activationCode", c.activation_code.as_ref())
        .opt_time("activationExpiry", c.activation_expiry.as_ref())
        .opt_str("provider", c.provider.as_ref())
        .opt_str("roleArn", c.role_arn.as_ref())
        .done()
}

fn outpost_config(o: &eks::OutpostConfigResponse) -> Value {
    Obj::new()
        // Required members, so the SDK holds them unwrapped.
        .set("outpostArns", strings(&o.outpost_arns))
        .set(
            "controlPlaneInstanceType",
            o.control_plane_instance_type.as_str(),
        )
        .opt_obj(
            "controlPlanePlacement",
            o.control_plane_placement.as_ref(),
            |p| {
                Obj::new()
                    .opt_str("groupName", p.group_name.as_ref())
                    .opt_str("spreadLevel", p.spread_level.as_ref())
                    .done()
            },
        )
        .opt_str("etcdInstanceType", o.etcd_instance_type.as_ref())
        .opt_obj("etcdPlacement", o.etcd_placement.as_ref(), |p| {
            Obj::new()
                .opt_str("spreadLevel", p.spread_level.as_ref())
                .done()
        })
        .done()
}

fn remote_network_config(r: &eks::RemoteNetworkConfigResponse) -> Value {
    Obj::new()
        .opt_each("remoteNodeNetworks", r.remote_node_networks.as_ref(), |n| {
            Obj::new().opt_list("cidrs", n.cidrs.as_ref()).done()
        })
        .opt_each("remotePodNetworks", r.remote_pod_networks.as_ref(), |n| {
            Obj::new().opt_list("cidrs", n.cidrs.as_ref()).done()
        })
        .done()
}

fn kube_api_server_config(k: &eks::KubeApiServerConfigResponse) -> Value {
    Obj::new()
        .opt_str("eventTtl", k.event_ttl.as_ref())
        .opt_obj(
            "serviceNodePortRange",
            k.service_node_port_range.as_ref(),
            |r| {
                Obj::new()
                    .set("minPort", r.min_port)
                    .set("maxPort", r.max_port)
                    .done()
            },
        )
        .done()
}

fn kube_scheduler_config(k: &eks::KubeSchedulerConfigResponse) -> Value {
    Obj::new()
        .opt_obj("nodeResourcesFit", k.node_resources_fit.as_ref(), |f| {
            Obj::new()
                .opt_obj("scoringStrategy", f.scoring_strategy.as_ref(), |s| {
                    Obj::new()
                        .opt_str("type", s.r#type.as_ref())
                        .opt_each("resources", s.resources.as_ref(), |w| {
                            Obj::new()
                                .opt_str("name", w.name.as_ref())
                                .opt_i32("weight", w.weight)
                                .done()
                        })
                        .done()
                })
                .done()
        })
        .done()
}

fn kube_controller_manager_config(k: &eks::KubeControllerManagerConfigResponse) -> Value {
    Obj::new()
        .opt_obj(
            "podGcControllerConfig",
            k.pod_gc_controller_config.as_ref(),
            |p| {
                Obj::new()
                    .opt_i32("terminatedPodGcThreshold", p.terminated_pod_gc_threshold)
                    .done()
            },
        )
        .opt_obj(
            "horizontalPodAutoscalerControllerConfig",
            k.horizontal_pod_autoscaler_controller_config.as_ref(),
            |h| {
                Obj::new()
                    .opt_str(
                        "horizontalPodAutoscalerSyncPeriod",
                        h.horizontal_pod_autoscaler_sync_period.as_ref(),
                    )
                    .done()
            },
        )
        .done()
}

fn node_repair_config(r: &eks::NodeRepairConfig) -> Value {
    Obj::new()
        .opt_bool("enabled", r.enabled)
        .opt_i32(
            "maxUnhealthyNodeThresholdCount",
            r.max_unhealthy_node_threshold_count,
        )
        .opt_i32(
            "maxUnhealthyNodeThresholdPercentage",
            r.max_unhealthy_node_threshold_percentage,
        )
        .opt_i32(
            "maxParallelNodesRepairedCount",
            r.max_parallel_nodes_repaired_count,
        )
        .opt_i32(
            "maxParallelNodesRepairedPercentage",
            r.max_parallel_nodes_repaired_percentage,
        )
        .opt_each(
            "nodeRepairConfigOverrides",
            r.node_repair_config_overrides.as_ref(),
            |o| {
                Obj::new()
                    .opt_str(
                        "nodeMonitoringCondition",
                        o.node_monitoring_condition.as_ref(),
                    )
                    .opt_str("nodeUnhealthyReason", o.node_unhealthy_reason.as_ref())
                    .opt_i32("minRepairWaitTimeMins", o.min_repair_wait_time_mins)
                    .opt_str("repairAction", o.repair_action.as_ref())
                    .done()
            },
        )
        .done()
}

// Three issue types with one shape: each health issue list has its own code enum.
fn cluster_issue(i: &eks::ClusterIssue) -> Value {
    issue(i.code.as_ref(), i.message.as_ref(), i.resource_ids.as_ref())
}

fn nodegroup_issue(i: &eks::Issue) -> Value {
    issue(i.code.as_ref(), i.message.as_ref(), i.resource_ids.as_ref())
}

fn addon_issue(i: &eks::AddonIssue) -> Value {
    issue(i.code.as_ref(), i.message.as_ref(), i.resource_ids.as_ref())
}

fn issue<C: AsRef<str>>(
    code: Option<&C>,
    message: Option<&String>,
    resource_ids: Option<&Vec<String>>,
) -> Value {
    Obj::new()
        .opt_str("code", code)
        .opt_str("message", message)
        .opt_list("resourceIds", resource_ids)
        .done()
}

fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    items.iter().map(|s| Value::from(s.as_ref())).collect()
}

/// A JSON object that, like the CLI, leaves out each member the API left out (`None`)
/// and keeps an empty collection the API did send. Members go in the API model's order,
/// which is the order the CLI prints them in.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Self {
        Obj(Map::new())
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    fn opt(self, key: &str, value: Option<Value>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// Strings and enums alike: an enum's `as_ref` is its wire string, unknown ones included.
    fn opt_str<S: AsRef<str>>(self, key: &str, value: Option<&S>) -> Self {
        self.opt(key, value.map(|s| Value::from(s.as_ref())))
    }

    fn opt_bool(self, key: &str, value: Option<bool>) -> Self {
        self.opt(key, value.map(Value::from))
    }

    fn opt_i32(self, key: &str, value: Option<i32>) -> Self {
        self.opt(key, value.map(Value::from))
    }

    fn opt_i64(self, key: &str, value: Option<i64>) -> Self {
        self.opt(key, value.map(Value::from))
    }

    fn opt_time(self, key: &str, value: Option<&DateTime>) -> Self {
        self.opt(key, value.map(cli_time))
    }

    fn opt_list<S: AsRef<str>>(self, key: &str, value: Option<&Vec<S>>) -> Self {
        self.opt(key, value.map(|items| strings(items)))
    }

    fn opt_each<T>(self, key: &str, value: Option<&Vec<T>>, shape: impl Fn(&T) -> Value) -> Self {
        self.opt(key, value.map(|items| items.iter().map(shape).collect()))
    }

    fn opt_obj<T>(self, key: &str, value: Option<&T>, shape: impl FnOnce(&T) -> Value) -> Self {
        self.opt(key, value.map(shape))
    }

    /// Sorted keys: the SDK's `HashMap` has no order of its own to keep.
    fn opt_map(self, key: &str, value: Option<&HashMap<String, String>>) -> Self {
        self.opt(
            key,
            value.map(|m| {
                let sorted: BTreeMap<_, _> = m.iter().collect();
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect::<Map<_, _>>()
                    .into()
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::*;
    use serde_json::json;

    /// A saved CLI file's inner object. The fixtures are hand-written with `.000000` on
    /// whole seconds; the CLI's `isoformat()` prints no fraction there, so neither do we.
    fn cli_fixture(text: &str, member: &str) -> Value {
        fn whole_seconds(v: &mut Value) {
            match v {
                Value::String(s) if s.ends_with(".000000+00:00") => {
                    *s = s.replace(".000000+00:00", "+00:00");
                }
                Value::Array(items) => items.iter_mut().for_each(whole_seconds),
                Value::Object(m) => m.values_mut().for_each(whole_seconds),
                _ => {}
            }
        }
        let mut v: Value = serde_json::from_str(text).expect("fixture is JSON");
        let mut inner = v[member].take();
        whole_seconds(&mut inner);
        inner
    }

    /// As the SDK's JSON parser makes it: from the wire's float epoch seconds.
    fn wire_time(epoch_secs: f64) -> DateTime {
        DateTime::from_secs_f64(epoch_secs)
    }

    fn tags(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn cluster_matches_cli_fixture() {
        let c = Cluster::builder()
            .name("prod-eu")
            .arn("arn:aws:eks:eu-west-1:918273645501:cluster/prod-eu")
            .created_at(wire_time(1748978355.112))
            .version("1.31")
            .endpoint("https://4F1C6E0A9D2B8E7F1A3C5D7E9B0A2C4E.gr7.eu-west-1.eks.amazonaws.com")
            .role_arn("arn:aws:iam::918273645501:role/prod-eu-cluster-role")
            .resources_vpc_config(
                VpcConfigResponse::builder()
                    .subnet_ids("subnet-0aa11bb22cc33dd41")
                    .subnet_ids("subnet-0aa11bb22cc33dd42")
                    .subnet_ids("subnet-0aa11bb22cc33dd43")
                    .security_group_ids("sg-0c0ffee0c0ffee001")
                    .cluster_security_group_id("sg-0c1a2b3c4d5e6f708")
                    .vpc_id("vpc-0f00dbabe0f00dbab")
                    .endpoint_public_access(true)
                    .endpoint_private_access(true)
                    .public_access_cidrs("0.0.0.0/0")
                    .build(),
            )
            .kubernetes_network_config(
                KubernetesNetworkConfigResponse::builder()
                    .service_ipv4_cidr("172.20.0.0/16")
                    .ip_family(IpFamily::Ipv4)
                    .elastic_load_balancing(ElasticLoadBalancing::builder().enabled(false).build())
                    .build(),
            )
            .logging(
                Logging::builder()
                    .cluster_logging(
                        LogSetup::builder()
                            .types(LogType::Api)
                            .types(LogType::Audit)
                            .types(LogType::Authenticator)
                            .enabled(true)
                            .build(),
                    )
                    .cluster_logging(
                        LogSetup::builder()
                            .types(LogType::ControllerManager)
                            .types(LogType::Scheduler)
                            .enabled(false)
                            .build(),
                    )
                    .build(),
            )
            .identity(
                Identity::builder()
                    .oidc(
                        Oidc::builder()
                            .issuer("https://oidc.eks.eu-west-1.amazonaws.com/id/4F1C6E0A9D2B8E7F1A3C5D7E9B0A2C4E")
                            .build(),
                    )
                    .build(),
            )
            .status(ClusterStatus::Active)
            .certificate_authority(
                Certificate::builder()
                    .data("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lJZFBmR2hQ")
                    .build(),
            )
            .platform_version("eks.24")
            .set_tags(tags(&[("team", "platform"), ("env", "prod")]))
            .health(ClusterHealth::builder().set_issues(Some(vec![])).build())
            .access_config(
                AccessConfigResponse::builder()
                    .authentication_mode(AuthenticationMode::ConfigMap)
                    .build(),
            )
            .upgrade_policy(
                UpgradePolicyResponse::builder()
                    .support_type(SupportType::Standard)
                    .build(),
            )
            .build();

        let expected = cli_fixture(
            include_str!(
                "../../../tests/fixtures/nnj-role-not-mapped-configmap/aws/eks/describe-cluster.json"
            ),
            "cluster",
        );
        assert_eq!(cluster(&c), expected);
    }

    fn ingest_issue(code: NodegroupIssueCode, message: &str, ids: &[&str]) -> Issue {
        Issue::builder()
            .code(code)
            .message(message)
            .set_resource_ids(Some(ids.iter().map(|s| s.to_string()).collect()))
            .build()
    }

    #[test]
    fn nodegroup_with_health_issues_matches_cli_fixture() {
        let n = Nodegroup::builder()
            .nodegroup_name("ng-ingest")
            .nodegroup_arn("arn:aws:eks:eu-west-1:583920174462:nodegroup/prod-eu/ng-ingest/1bf69062-a77b-e38d-ff7e-22da9d52ec88")
            .cluster_name("prod-eu")
            .version("1.31")
            .release_version("1.31.9-20250623")
            .created_at(wire_time(1796649003.0))
            .modified_at(wire_time(1796656503.0))
            .status(NodegroupStatus::Degraded)
            .capacity_type(CapacityTypes::OnDemand)
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(2)
                    .max_size(8)
                    .desired_size(4)
                    .build(),
            )
            .instance_types("c6i.2xlarge")
            .subnets("subnet-0aa11bb22cc33dd41")
            .subnets("subnet-0aa11bb22cc33dd42")
            .subnets("subnet-0aa11bb22cc33dd43")
            .ami_type(AmiTypes::from("AL2023_x86_64_STANDARD"))
            .node_role("arn:aws:iam::583920174462:role/eksctl-prod-eu-nodegroup-ng-ingest-NodeInstanceRole-7QH2X9LMA1B3")
            .set_labels(Some(HashMap::new()))
            .set_taints(Some(vec![]))
            .resources(
                NodegroupResources::builder()
                    .auto_scaling_groups(
                        AutoScalingGroup::builder()
                            .name("eks-ng-ingest-1bf69062-a77b-e38d-ff7e-22da9d52ec88")
                            .build(),
                    )
                    .build(),
            )
            .health(
                NodegroupHealth::builder()
                    .issues(ingest_issue(
                        NodegroupIssueCode::Ec2SecurityGroupNotFound,
                        "We couldn't find one or more security groups associated with your node group: sg-0e7d41c9a2b35f860.",
                        &["sg-0e7d41c9a2b35f860"],
                    ))
                    .issues(ingest_issue(
                        NodegroupIssueCode::AsgInstanceLaunchFailures,
                        "Could not launch On-Demand Instances. InvalidGroup.NotFound - The security group 'sg-0e7d41c9a2b35f860' does not exist in VPC 'vpc-0f00dbabe0f00dbab'. Launching EC2 instance failed.",
                        &["eks-ng-ingest-1bf69062-a77b-e38d-ff7e-22da9d52ec88"],
                    ))
                    .issues(ingest_issue(
                        NodegroupIssueCode::NodeCreationFailure,
                        "Instances failed to join the kubernetes cluster",
                        &["i-0114f20eca020173d", "i-0d2f5c32fe8e2c163"],
                    ))
                    .build(),
            )
            .update_config(NodegroupUpdateConfig::builder().max_unavailable(1).build())
            .set_tags(tags(&[("team", "platform")]))
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .name("eksctl-prod-eu-nodegroup-ng-ingest")
                    .version("3")
                    .id("lt-0a9b8c7d6e5f40312")
                    .build(),
            )
            .build();

        let expected = cli_fixture(
            include_str!(
                "../../../tests/fixtures/nnj-nodegroup-health-issue/aws/eks/describe-nodegroup-ng-ingest.json"
            ),
            "nodegroup",
        );
        assert_eq!(expected["createdAt"], json!("2026-12-07T13:10:03+00:00"));
        assert_eq!(nodegroup(&n), expected);
    }

    #[test]
    fn nodegroup_matches_cli_fixture_with_fractional_times() {
        let n = Nodegroup::builder()
            .nodegroup_name("ng-general")
            .nodegroup_arn("arn:aws:eks:eu-west-1:583920174462:nodegroup/prod-eu/ng-general/8ac9f2d1-3b4e-5f60-7a8b-9c0d1e2f3a4b")
            .cluster_name("prod-eu")
            .version("1.31")
            .release_version("1.31.9-20250623")
            .created_at(wire_time(1750369226.418))
            .modified_at(wire_time(1796654971.003))
            .status(NodegroupStatus::Active)
            .capacity_type(CapacityTypes::OnDemand)
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(3)
                    .max_size(6)
                    .desired_size(3)
                    .build(),
            )
            .instance_types("m6i.large")
            .subnets("subnet-0aa11bb22cc33dd41")
            .subnets("subnet-0aa11bb22cc33dd42")
            .subnets("subnet-0aa11bb22cc33dd43")
            .ami_type(AmiTypes::from("AL2023_x86_64_STANDARD"))
            .node_role("arn:aws:iam::583920174462:role/prod-eu-general-node-role")
            .set_labels(Some(HashMap::new()))
            .set_taints(Some(vec![]))
            .resources(
                NodegroupResources::builder()
                    .auto_scaling_groups(
                        AutoScalingGroup::builder()
                            .name("eks-ng-general-8ac9f2d1-3b4e-5f60-7a8b-9c0d1e2f3a4b")
                            .build(),
                    )
                    .build(),
            )
            .disk_size(20)
            .health(NodegroupHealth::builder().set_issues(Some(vec![])).build())
            .update_config(NodegroupUpdateConfig::builder().max_unavailable(1).build())
            .set_tags(tags(&[("team", "platform")]))
            .build();

        let text = include_str!(
            "../../../tests/fixtures/nnj-nodegroup-health-issue/aws/eks/describe-nodegroup-ng-general.json"
        );
        let fixture: Value = serde_json::from_str(text).unwrap();
        // Untouched: every time here has a fraction, as the CLI prints it.
        assert_eq!(nodegroup(&n), fixture["nodegroup"]);
    }

    #[test]
    fn access_entry_matches_cli_fixture() {
        let e = AccessEntry::builder()
            .cluster_name("prod-eu")
            .principal_arn("arn:aws:iam::650144827193:role/prod-eu-general-node-role")
            .r#type("EC2_LINUX")
            .set_kubernetes_groups(Some(vec![]))
            .access_entry_arn("arn:aws:eks:eu-west-1:650144827193:access-entry/prod-eu/role/650144827193/prod-eu-general-node-role/0ac9f2d1")
            .created_at(wire_time(1751019071.0))
            .modified_at(wire_time(1751019071.0))
            .set_tags(Some(HashMap::new()))
            .username("system:node:{{EC2PrivateDNSName}}")
            .build();

        let expected = cli_fixture(
            include_str!(
                "../../../tests/fixtures/nnj-role-not-mapped-api/aws/eks/access-entry-node.json"
            ),
            "accessEntry",
        );
        assert_eq!(access_entry(&e), expected);
    }

    #[test]
    fn addon_matches_cli_fixture() {
        let a = Addon::builder()
            .addon_name("coredns")
            .cluster_name("prod-eu")
            .status(AddonStatus::Active)
            .addon_version("v1.11.4-eksbuild.2")
            .health(AddonHealth::builder().set_issues(Some(vec![])).build())
            .addon_arn("arn:aws:eks:eu-west-1:650144827193:addon/prod-eu/coredns/52c9f2d1-aaaa-bbbb-cccc-cfab054fdf7a")
            .created_at(wire_time(1751020271.0))
            .modified_at(wire_time(1793015471.0))
            .set_tags(Some(HashMap::new()))
            .build();

        let expected = cli_fixture(
            include_str!(
                "../../../tests/fixtures/nnj-role-not-mapped-api/aws/eks/addon-coredns.json"
            ),
            "addon",
        );
        assert_eq!(addon(&a), expected);
    }

    #[test]
    #[allow(deprecated)] // EncryptionConfig.resources: still sent, still printed
    fn cluster_prints_every_nested_structure() {
        let c = Cluster::builder()
            .name("edge")
            .client_request_token("tok-1")
            .id("a1b2c3")
            .resources_vpc_config(
                VpcConfigResponse::builder()
                    .control_plane_egress_mode(ControlPlaneEgressModeType::from("AWS_MANAGED"))
                    .build(),
            )
            .kubernetes_network_config(
                KubernetesNetworkConfigResponse::builder()
                    .service_ipv6_cidr("fd00::/108")
                    .ip_family(IpFamily::Ipv6)
                    .elastic_load_balancing(
                        ElasticLoadBalancing::builder()
                            .enabled(true)
                            .gateway_api(
                                GatewayApiConfiguration::builder()
                                    .crds(
                                        CrdManagementConfiguration::builder().managed(true).build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .certificate_authority(
                Certificate::builder()
                    .data("Q0E=")
                    .active(
                        ActiveCertificateAuthority::builder()
                            .id("ca-1")
                            .activated_by(CertificateAuthorityActivatedBy::from("EKS"))
                            .build(),
                    )
                    .build(),
            )
            .encryption_config(
                EncryptionConfig::builder()
                    .resources("secrets")
                    .provider(
                        Provider::builder()
                            .key_arn("arn:aws:kms:eu-west-1:1:key/k")
                            .build(),
                    )
                    .build(),
            )
            .connector_config(
                ConnectorConfigResponse::builder()
                    .activation_id("act-1")
                    .activation_code("code")
                    .activation_expiry(wire_time(1748978355.5))
                    .provider("OTHER")
                    .role_arn("arn:aws:iam::1:role/connector")
                    .build(),
            )
            .health(
                ClusterHealth::builder()
                    .issues(
                        ClusterIssue::builder()
                            .code(ClusterIssueCode::InsufficientFreeAddresses)
                            .message("not enough IPs")
                            .resource_ids("subnet-1")
                            .build(),
                    )
                    .build(),
            )
            .outpost_config(
                OutpostConfigResponse::builder()
                    .outpost_arns("arn:aws:outposts:eu-west-1:1:outpost/op-1")
                    .control_plane_instance_type("m5.large")
                    .control_plane_placement(
                        ControlPlanePlacementResponse::builder()
                            .group_name("pg")
                            .spread_level(SpreadLevel::from("rack"))
                            .build(),
                    )
                    .etcd_instance_type("m5.xlarge")
                    .etcd_placement(
                        EtcdPlacementResponse::builder()
                            .spread_level(SpreadLevel::from("host"))
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .access_config(
                AccessConfigResponse::builder()
                    .bootstrap_cluster_creator_admin_permissions(true)
                    .authentication_mode(AuthenticationMode::Api)
                    .build(),
            )
            .zonal_shift_config(ZonalShiftConfigResponse::builder().enabled(false).build())
            .remote_network_config(
                RemoteNetworkConfigResponse::builder()
                    .remote_node_networks(
                        RemoteNodeNetwork::builder().cidrs("10.80.0.0/16").build(),
                    )
                    .remote_pod_networks(RemotePodNetwork::builder().cidrs("10.90.0.0/16").build())
                    .build(),
            )
            .compute_config(
                ComputeConfigResponse::builder()
                    .enabled(true)
                    .node_pools("general-purpose")
                    .node_pools("system")
                    .node_role_arn("arn:aws:iam::1:role/auto-node")
                    .build(),
            )
            .storage_config(
                StorageConfigResponse::builder()
                    .block_storage(BlockStorage::builder().enabled(true).build())
                    .build(),
            )
            .deletion_protection(true)
            .control_plane_scaling_config(
                ControlPlaneScalingConfig::builder()
                    .tier(ProvisionedControlPlaneTier::from("tier-xl"))
                    .build(),
            )
            .kube_api_server_config(
                KubeApiServerConfigResponse::builder()
                    .event_ttl("1h0m0s")
                    .service_node_port_range(
                        ServiceNodePortRange::builder()
                            .min_port(30000)
                            .max_port(32767)
                            .build(),
                    )
                    .build(),
            )
            .kube_scheduler_config(
                KubeSchedulerConfigResponse::builder()
                    .node_resources_fit(
                        NodeResourcesFitConfig::builder()
                            .scoring_strategy(
                                ScoringStrategy::builder()
                                    .r#type(ScoringStrategyType::from("MostAllocated"))
                                    .resources(
                                        ResourceWeight::builder().name("cpu").weight(2).build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .kube_controller_manager_config(
                KubeControllerManagerConfigResponse::builder()
                    .pod_gc_controller_config(
                        PodGcControllerConfigResponse::builder()
                            .terminated_pod_gc_threshold(500)
                            .build(),
                    )
                    .horizontal_pod_autoscaler_controller_config(
                        HorizontalPodAutoscalerControllerConfigResponse::builder()
                            .horizontal_pod_autoscaler_sync_period("15s")
                            .build(),
                    )
                    .build(),
            )
            .build();

        assert_eq!(
            cluster(&c),
            json!({
                "name": "edge",
                "resourcesVpcConfig": {
                    "endpointPublicAccess": false,
                    "endpointPrivateAccess": false,
                    "controlPlaneEgressMode": "AWS_MANAGED"
                },
                "kubernetesNetworkConfig": {
                    "serviceIpv6Cidr": "fd00::/108",
                    "ipFamily": "ipv6",
                    "elasticLoadBalancing": {"enabled": true, "gatewayApi": {"crds": {"managed": true}}}
                },
                "certificateAuthority": {"data": "Q0E=", "active": {"id": "ca-1", "activatedBy": "EKS"}},
                "clientRequestToken": "tok-1",
                "encryptionConfig": [
                    {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:eu-west-1:1:key/k"}}
                ],
                "connectorConfig": {
                    "activationId": "act-1",
                    "activationCode": "code",
                    "activationExpiry": "2025-06-03T19:19:15.500000+00:00",
                    "provider": "OTHER",
                    "roleArn": "arn:aws:iam::1:role/connector"
                },
                "id": "a1b2c3",
                "health": {
                    "issues": [
                        {"code": "InsufficientFreeAddresses", "message": "not enough IPs", "resourceIds": ["subnet-1"]}
                    ]
                },
                "outpostConfig": {
                    "outpostArns": ["arn:aws:outposts:eu-west-1:1:outpost/op-1"],
                    "controlPlaneInstanceType": "m5.large",
                    "controlPlanePlacement": {"groupName": "pg", "spreadLevel": "rack"},
                    "etcdInstanceType": "m5.xlarge",
                    "etcdPlacement": {"spreadLevel": "host"}
                },
                "accessConfig": {"bootstrapClusterCreatorAdminPermissions": true, "authenticationMode": "API"},
                "zonalShiftConfig": {"enabled": false},
                "remoteNetworkConfig": {
                    "remoteNodeNetworks": [{"cidrs": ["10.80.0.0/16"]}],
                    "remotePodNetworks": [{"cidrs": ["10.90.0.0/16"]}]
                },
                "computeConfig": {
                    "enabled": true,
                    "nodePools": ["general-purpose", "system"],
                    "nodeRoleArn": "arn:aws:iam::1:role/auto-node"
                },
                "storageConfig": {"blockStorage": {"enabled": true}},
                "deletionProtection": true,
                "controlPlaneScalingConfig": {"tier": "tier-xl"},
                "kubeApiServerConfig": {
                    "eventTtl": "1h0m0s",
                    "serviceNodePortRange": {"minPort": 30000, "maxPort": 32767}
                },
                "kubeSchedulerConfig": {
                    "nodeResourcesFit": {
                        "scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu", "weight": 2}]}
                    }
                },
                "kubeControllerManagerConfig": {
                    "podGcControllerConfig": {"terminatedPodGcThreshold": 500},
                    "horizontalPodAutoscalerControllerConfig": {"horizontalPodAutoscalerSyncPeriod": "15s"}
                }
            })
        );
    }

    #[test]
    fn nodegroup_prints_every_nested_structure() {
        let n = Nodegroup::builder()
            .nodegroup_name("ng-gpu")
            .remote_access(
                RemoteAccessConfig::builder()
                    .ec2_ssh_key("ops")
                    .source_security_groups("sg-1")
                    .build(),
            )
            .labels("workload", "gpu")
            .labels("arch", "amd64")
            .taints(
                Taint::builder()
                    .key("nvidia.com/gpu")
                    .value("true")
                    .effect(TaintEffect::NoSchedule)
                    .build(),
            )
            .taints(
                Taint::builder()
                    .key("dedicated")
                    .effect(TaintEffect::NoExecute)
                    .build(),
            )
            .resources(
                NodegroupResources::builder()
                    .set_auto_scaling_groups(Some(vec![]))
                    .remote_access_security_group("sg-remote")
                    .build(),
            )
            .update_config(
                NodegroupUpdateConfig::builder()
                    .max_unavailable_percentage(25)
                    .update_strategy(NodegroupUpdateStrategies::from("MINIMAL"))
                    .build(),
            )
            .node_repair_config(
                NodeRepairConfig::builder()
                    .enabled(true)
                    .max_unhealthy_node_threshold_count(3)
                    .max_unhealthy_node_threshold_percentage(20)
                    .max_parallel_nodes_repaired_count(1)
                    .max_parallel_nodes_repaired_percentage(10)
                    .node_repair_config_overrides(
                        NodeRepairConfigOverrides::builder()
                            .node_monitoring_condition("AcceleratedHardwareReady")
                            .node_unhealthy_reason("NvidiaXID13Error")
                            .min_repair_wait_time_mins(10)
                            .repair_action(RepairAction::from("Reboot"))
                            .build(),
                    )
                    .build(),
            )
            .warm_pool_config(
                WarmPoolConfig::builder()
                    .enabled(true)
                    .min_size(1)
                    .max_group_prepared_capacity(4)
                    .pool_state(WarmPoolState::from("STOPPED"))
                    .reuse_on_scale_in(false)
                    .build(),
            )
            .build();

        assert_eq!(
            nodegroup(&n),
            json!({
                "nodegroupName": "ng-gpu",
                "remoteAccess": {"ec2SshKey": "ops", "sourceSecurityGroups": ["sg-1"]},
                "labels": {"arch": "amd64", "workload": "gpu"},
                "taints": [
                    {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"},
                    {"key": "dedicated", "effect": "NO_EXECUTE"}
                ],
                "resources": {"autoScalingGroups": [], "remoteAccessSecurityGroup": "sg-remote"},
                "updateConfig": {"maxUnavailablePercentage": 25, "updateStrategy": "MINIMAL"},
                "nodeRepairConfig": {
                    "enabled": true,
                    "maxUnhealthyNodeThresholdCount": 3,
                    "maxUnhealthyNodeThresholdPercentage": 20,
                    "maxParallelNodesRepairedCount": 1,
                    "maxParallelNodesRepairedPercentage": 10,
                    "nodeRepairConfigOverrides": [{
                        "nodeMonitoringCondition": "AcceleratedHardwareReady",
                        "nodeUnhealthyReason": "NvidiaXID13Error",
                        "minRepairWaitTimeMins": 10,
                        "repairAction": "Reboot"
                    }]
                },
                "warmPoolConfig": {
                    "enabled": true,
                    "minSize": 1,
                    "maxGroupPreparedCapacity": 4,
                    "poolState": "STOPPED",
                    "reuseOnScaleIn": false
                }
            })
        );
    }

    #[test]
    fn addon_prints_every_member() {
        let a = Addon::builder()
            .addon_name("aws-ebs-csi-driver")
            .cluster_name("prod-eu")
            .status(AddonStatus::Degraded)
            .addon_version("v1.35.0-eksbuild.1")
            .health(
                AddonHealth::builder()
                    .issues(
                        AddonIssue::builder()
                            .code(AddonIssueCode::InsufficientNumberOfReplicas)
                            .message("The add-on is unhealthy because it doesn't have the desired number of replicas.")
                            .set_resource_ids(Some(vec![]))
                            .build(),
                    )
                    .build(),
            )
            .addon_arn("arn:aws:eks:eu-west-1:1:addon/prod-eu/aws-ebs-csi-driver/x")
            .created_at(wire_time(1748978355.112))
            .modified_at(wire_time(1748978355.0))
            .service_account_role_arn("arn:aws:iam::1:role/ebs-csi")
            .tags("team", "platform")
            .publisher("eks")
            .owner("aws")
            .marketplace_information(
                MarketplaceInformation::builder()
                    .product_id("prod-1")
                    .product_url("https://aws.amazon.com/marketplace/pp/prod-1")
                    .build(),
            )
            .configuration_values("{\"controller\":{\"replicaCount\":2}}")
            .pod_identity_associations("arn:aws:eks:eu-west-1:1:podidentityassociation/prod-eu/a-1")
            .namespace_config(AddonNamespaceConfigResponse::builder().namespace("kube-system").build())
            .build();

        assert_eq!(
            addon(&a),
            json!({
                "addonName": "aws-ebs-csi-driver",
                "clusterName": "prod-eu",
                "status": "DEGRADED",
                "addonVersion": "v1.35.0-eksbuild.1",
                "health": {"issues": [{
                    "code": "InsufficientNumberOfReplicas",
                    "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
                    "resourceIds": []
                }]},
                "addonArn": "arn:aws:eks:eu-west-1:1:addon/prod-eu/aws-ebs-csi-driver/x",
                "createdAt": "2025-06-03T19:19:15.112000+00:00",
                "modifiedAt": "2025-06-03T19:19:15+00:00",
                "serviceAccountRoleArn": "arn:aws:iam::1:role/ebs-csi",
                "tags": {"team": "platform"},
                "publisher": "eks",
                "owner": "aws",
                "marketplaceInformation": {
                    "productId": "prod-1",
                    "productUrl": "https://aws.amazon.com/marketplace/pp/prod-1"
                },
                "configurationValues": "{\"controller\":{\"replicaCount\":2}}",
                "podIdentityAssociations": ["arn:aws:eks:eu-west-1:1:podidentityassociation/prod-eu/a-1"],
                "namespaceConfig": {"namespace": "kube-system"}
            })
        );
    }

    #[test]
    fn pod_identity_association_prints_every_member() {
        let p = PodIdentityAssociationSummary::builder()
            .cluster_name("prod-eu")
            .namespace("kube-system")
            .service_account("ebs-csi-controller-sa")
            .association_arn("arn:aws:eks:eu-west-1:1:podidentityassociation/prod-eu/a-1")
            .association_id("a-1")
            .owner_arn("arn:aws:eks:eu-west-1:1:addon/prod-eu/aws-ebs-csi-driver/x")
            .build();
        assert_eq!(
            pod_identity_association(&p),
            json!({
                "clusterName": "prod-eu",
                "namespace": "kube-system",
                "serviceAccount": "ebs-csi-controller-sa",
                "associationArn": "arn:aws:eks:eu-west-1:1:podidentityassociation/prod-eu/a-1",
                "associationId": "a-1",
                "ownerArn": "arn:aws:eks:eu-west-1:1:addon/prod-eu/aws-ebs-csi-driver/x"
            })
        );
        // The CLI prints only what came back.
        let bare = PodIdentityAssociationSummary::builder()
            .association_id("a-2")
            .build();
        assert_eq!(
            pod_identity_association(&bare),
            json!({"associationId": "a-2"})
        );
    }

    #[test]
    fn log_event_matches_cli_fixture() {
        let text = include_str!(
            "../../../tests/fixtures/nnj-nodegroup-health-issue/aws/logs/control-plane.json"
        );
        let fixture: Value = serde_json::from_str(text).unwrap();
        let first = &fixture["events"][0];
        let e = FilteredLogEvent::builder()
            .log_stream_name(first["logStreamName"].as_str().unwrap())
            .timestamp(1796656743000)
            .message(first["message"].as_str().unwrap())
            .ingestion_time(1796656744200)
            .event_id("37900000000000000000000000000000000000000000000000000463")
            .build();
        let shaped = log_event(&e);
        assert_eq!(&shaped, first);
        assert!(shaped["timestamp"].is_i64() && shaped["ingestionTime"].is_i64());
    }

    #[test]
    fn none_is_omitted_and_empty_is_kept() {
        let bare = Nodegroup::builder().nodegroup_name("ng").build();
        assert_eq!(nodegroup(&bare), json!({"nodegroupName": "ng"}));

        let empty = Nodegroup::builder()
            .nodegroup_name("ng")
            .set_instance_types(Some(vec![]))
            .set_labels(Some(HashMap::new()))
            .set_taints(Some(vec![]))
            .set_tags(Some(HashMap::new()))
            .health(NodegroupHealth::builder().set_issues(Some(vec![])).build())
            .resources(NodegroupResources::builder().build())
            .build();
        assert_eq!(
            nodegroup(&empty),
            json!({
                "nodegroupName": "ng",
                "instanceTypes": [],
                "labels": {},
                "taints": [],
                "resources": {},
                "health": {"issues": []},
                "tags": {}
            })
        );

        let health_without_issues = Cluster::builder()
            .health(ClusterHealth::builder().build())
            .build();
        assert_eq!(cluster(&health_without_issues), json!({"health": {}}));
    }

    #[test]
    #[allow(deprecated)]
    fn unknown_enum_values_print_raw() {
        let status = ClusterStatus::from("HIBERNATING");
        assert!(matches!(status, ClusterStatus::Unknown(_)));
        let c = Cluster::builder()
            .status(status)
            .logging(
                Logging::builder()
                    .cluster_logging(LogSetup::builder().types(LogType::from("kubelet")).build())
                    .build(),
            )
            .health(
                ClusterHealth::builder()
                    .issues(
                        ClusterIssue::builder()
                            .code(ClusterIssueCode::from("NewIssue"))
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert_eq!(
            cluster(&c),
            json!({
                "logging": {"clusterLogging": [{"types": ["kubelet"]}]},
                "status": "HIBERNATING",
                "health": {"issues": [{"code": "NewIssue"}]}
            })
        );
        let t = Taint::builder()
            .effect(TaintEffect::from("NO_PREFERENCE"))
            .build();
        let n = Nodegroup::builder().taints(t).build();
        assert_eq!(
            nodegroup(&n),
            json!({"taints": [{"effect": "NO_PREFERENCE"}]})
        );
    }

    #[test]
    fn maps_print_with_sorted_keys() {
        let n = Nodegroup::builder()
            .labels("zone", "a")
            .labels("arch", "arm64")
            .labels("m", "x")
            .build();
        let printed = serde_json::to_string(&nodegroup(&n)).unwrap();
        assert_eq!(printed, r#"{"labels":{"arch":"arm64","m":"x","zone":"a"}}"#);
    }

    #[test]
    fn cli_time_prints_microseconds() {
        let t = DateTime::from_secs_and_nanos(1748978355, 112_000_000);
        assert_eq!(cli_time(&t), json!("2025-06-03T19:19:15.112000+00:00"));
        let t = DateTime::from_secs_and_nanos(1748978355, 1_000);
        assert_eq!(cli_time(&t), json!("2025-06-03T19:19:15.000001+00:00"));
    }

    #[test]
    fn cli_time_drops_a_zero_fraction() {
        // Python's isoformat() leaves the fraction out when it is zero.
        let t = DateTime::from_secs(1748978355);
        assert_eq!(cli_time(&t), json!("2025-06-03T19:19:15+00:00"));
        // Under half a microsecond rounds away, as Python rounds the wire float.
        let t = DateTime::from_secs_and_nanos(1748978355, 499);
        assert_eq!(cli_time(&t), json!("2025-06-03T19:19:15+00:00"));
    }

    #[test]
    fn cli_time_rounds_the_wire_float_to_microseconds() {
        // 15.112 reaches the SDK as 15.111999988...: truncating would print .111999.
        let t = wire_time(1748978355.112);
        assert_eq!(t.subsec_nanos() / 1000, 111_999);
        assert_eq!(cli_time(&t), json!("2025-06-03T19:19:15.112000+00:00"));
        // Rounding up across the second carries into it.
        let t = DateTime::from_secs_and_nanos(1748736000, 999_999_600);
        assert_eq!(cli_time(&t), json!("2025-06-01T00:00:01+00:00"));
    }
}
