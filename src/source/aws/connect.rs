//! Which EKS cluster a kube context is, and whether this shell can read it from AWS: the
//! standard credential chain (env, profiles, SSO, `credential_process`, web identity,
//! instance profile) through aws-config, checked once with `sts get-caller-identity` so
//! "no credentials" is said once instead of as an unknown on every step.

use super::AwsSource;
use crate::facts::{AwsAccess, ClusterIdentity};
use aws_config::{BehaviorVersion, Region, timeout::TimeoutConfig};
use aws_sdk_eks::config::ProvideCredentials;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use std::time::Duration;

/// The AWS flags: each overrides what the kube context implies.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub cluster_name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
}

/// What connecting found: the cluster it names, what a header says, and the clients when
/// AWS can be read.
pub struct AwsLink {
    pub cluster: Option<ClusterIdentity>,
    pub access: AwsAccess,
    pub source: Option<AwsSource>,
}

impl AwsLink {
    /// `--no-aws`: nothing is asked of AWS.
    pub fn off(cluster: Option<ClusterIdentity>) -> AwsLink {
        AwsLink::unavailable(
            cluster,
            "AWS is not called (--no-aws)",
            "run without --no-aws to read EKS and CloudWatch Logs",
        )
    }

    fn unavailable(
        cluster: Option<ClusterIdentity>,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> AwsLink {
        AwsLink {
            cluster,
            access: AwsAccess::Unavailable {
                reason: reason.into(),
                hint: hint.into(),
            },
            source: None,
        }
    }
}

/// Credentials and the identity check: SSO and `credential_process` may take a few
/// seconds; a bastion whose chain ends at an unreachable instance-metadata endpoint must
/// not hold the interface for longer.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(15);
/// Per attempt. FilterLogEvents over a busy log group is the slowest call made.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Resolves the cluster and the credentials. Never fails: what is missing becomes the
/// reason every AWS fact is unavailable.
pub async fn connect(
    options: &AwsOptions,
    kube: Option<&ClusterIdentity>,
    server: Option<&str>,
) -> AwsLink {
    let name = options
        .cluster_name
        .clone()
        .or_else(|| kube.map(|k| k.name.clone()));
    let implied_region = options
        .region
        .clone()
        .or_else(|| kube.and_then(|k| k.region.clone()))
        .or_else(|| server.and_then(region_of_endpoint));
    let Some(name) = name else {
        return AwsLink::unavailable(
            None,
            "not an EKS cluster as far as the kube context says (no EKS ARN as its name, no `aws eks get-token` plugin)",
            "pass --cluster-name NAME (and --region REGION) to read EKS and CloudWatch Logs for it",
        );
    };

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https(),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &implied_region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    let Some(region) = config.region().map(|r| r.to_string()) else {
        return AwsLink::unavailable(
            Some(ClusterIdentity { name, region: None }),
            "no AWS region: the kube context does not name one and neither does the environment or profile",
            "pass --region REGION (or set AWS_REGION)",
        );
    };
    let cluster = Some(ClusterIdentity {
        name: name.clone(),
        region: Some(region.clone()),
    });
    let profile_hint = match &options.profile {
        Some(p) => format!("profile {p}: `aws sso login --profile {p}` if it uses SSO, or check `aws sts get-caller-identity --profile {p}`"),
        None => "set AWS_PROFILE or pass --profile, run `aws sso login`, or check `aws sts get-caller-identity`".to_string(),
    };

    let Some(provider) = config.credentials_provider() else {
        return AwsLink::unavailable(cluster, "no AWS credentials provider", profile_hint);
    };
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Err(_) => {
            return AwsLink::unavailable(
                cluster,
                format!(
                    "no AWS credentials: the credential chain did not answer in {} s",
                    CREDENTIALS_TIMEOUT.as_secs()
                ),
                profile_hint,
            );
        }
        Ok(Err(e)) => {
            return AwsLink::unavailable(
                cluster,
                format!(
                    "no AWS credentials (env, profile, SSO, web identity, container and instance metadata were tried; the last said: {})",
                    super::error::in_words(&e)
                ),
                profile_hint,
            );
        }
        Ok(Ok(_)) => {}
    }

    let sts = aws_sdk_sts::Client::new(&config);
    let identity = match tokio::time::timeout(CREDENTIALS_TIMEOUT, sts.get_caller_identity().send())
        .await
    {
        Ok(Ok(out)) => out.arn().unwrap_or("an unnamed identity").to_string(),
        Ok(Err(e)) => {
            use aws_sdk_sts::error::ProvideErrorMetadata;
            let code = e.code().unwrap_or_default();
            if matches!(
                code,
                "InvalidClientTokenId" | "ExpiredToken" | "SignatureDoesNotMatch" | "AccessDenied"
            ) || code.starts_with("ExpiredToken")
            {
                return AwsLink::unavailable(
                    cluster,
                    format!(
                        "AWS rejected the credentials ({code}: {})",
                        e.message().unwrap_or("no message")
                    ),
                    profile_hint,
                );
            }
            // STS unreachable (a VPC without an STS endpoint) says nothing about EKS:
            // the calls themselves will tell.
            tracing::warn!(error = %super::error::in_words(&e), "sts get-caller-identity failed");
            "an identity sts did not confirm".to_string()
        }
        Err(_) => "an identity sts did not confirm in time".to_string(),
    };
    tracing::info!(cluster = %name, %region, %identity, "AWS facts are read live");
    AwsLink {
        cluster,
        access: AwsAccess::Live {
            cluster: name.clone(),
            region: region.clone(),
            identity,
        },
        source: Some(AwsSource::new(
            name,
            region,
            aws_sdk_eks::Client::new(&config),
            aws_sdk_cloudwatchlogs::Client::new(&config),
        )),
    }
}

/// The region of an EKS API endpoint: `https://ABC.gr7.eu-west-1.eks.amazonaws.com` →
/// `eu-west-1` (also `.amazonaws.com.cn`).
pub fn region_of_endpoint(server: &str) -> Option<String> {
    let host = server
        .split_once("://")
        .map_or(server, |(_, rest)| rest)
        .split(['/', ':'])
        .next()?;
    let labels: Vec<&str> = host.split('.').collect();
    let eks = labels
        .windows(3)
        .position(|w| w[1] == "eks" && w[2] == "amazonaws")?;
    let region = labels[eks];
    (!region.is_empty() && region.contains('-')).then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::region_of_endpoint;

    #[test]
    fn region_from_eks_endpoints_only() {
        assert_eq!(
            region_of_endpoint("https://4F1C6E0A9D2B8E7F.gr7.eu-west-1.eks.amazonaws.com")
                .as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of_endpoint("https://ABC.yl4.cn-north-1.eks.amazonaws.com.cn:443/").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_of_endpoint("https://127.0.0.1:6443"), None);
        assert_eq!(region_of_endpoint("https://kube.example.com"), None);
        assert_eq!(region_of_endpoint("https://eks.amazonaws.com"), None);
    }
}
