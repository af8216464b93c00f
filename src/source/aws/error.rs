//! AWS SDK errors as fact errors, with the failure policy of DESIGN.md: a refusal names
//! the IAM action to grant, a missing thing says what is missing, and only what may pass
//! on its own (throttling, 5xx, network) is transient. The SDK has already retried.

use crate::facts::FactError;
use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};

/// The call that failed, as a user would type it and as IAM names it.
pub(crate) struct Call<'a> {
    /// `eks:DescribeNodegroup`.
    pub action: &'static str,
    /// `aws eks describe-nodegroup --cluster-name prod --nodegroup-name ng-a`.
    pub cli: &'a str,
    /// The ARN pattern a policy grants it on, for the hint.
    pub resource: String,
}

/// What a failed call means. `NotFound` is an answer for `describe-*` calls (the thing
/// does not exist); the caller decides.
pub(crate) enum Failure {
    NotFound(String),
    Fact(FactError),
}

pub(crate) fn classify<E>(err: &SdkError<E, HttpResponse>, call: &Call<'_>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let message = err.message().unwrap_or_default().to_string();
    let said = if message.is_empty() {
        code.clone()
    } else {
        format!("{code}: {message}")
    };
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            if is_denied(&code, &message, status) {
                return Failure::Fact(FactError::Forbidden {
                    verb: "call".into(),
                    resource: call.action.into(),
                    namespace: None,
                    hint: format!(
                        "grant {} on {} to the identity in use (`aws sts get-caller-identity` names it); AWS said: {said}",
                        call.action, call.resource
                    ),
                });
            }
            if matches!(
                code.as_str(),
                "UnrecognizedClientException"
                    | "InvalidClientTokenId"
                    | "InvalidSignatureException"
                    | "SignatureDoesNotMatch"
                    | "ExpiredTokenException"
                    | "ExpiredToken"
            ) {
                return Failure::Fact(FactError::unavailable(
                    format!("AWS rejected the credentials for {}: {said}", call.action),
                    "refresh them (`aws sso login`, or a new session) and try again",
                ));
            }
            if code == "ResourceNotFoundException" {
                return Failure::NotFound(if message.is_empty() { code } else { message });
            }
            if code.contains("Throttl") || code == "TooManyRequestsException" || status >= 500 {
                return Failure::Fact(FactError::Transient {
                    reason: format!("{} failed after retries: {said}", call.action),
                    hint: format!("try again in a minute (`{}`)", call.cli),
                });
            }
            if code.is_empty() && (status == 404 || status == 501) {
                // An endpoint (an emulator, an older partition) that lacks the operation.
                return Failure::Fact(FactError::unavailable(
                    format!(
                        "the AWS endpoint does not implement {} (HTTP {status})",
                        call.action
                    ),
                    format!(
                        "check AWS_ENDPOINT_URL; `{}` against the same endpoint shows its answer",
                        call.cli
                    ),
                ));
            }
            Failure::Fact(FactError::unavailable(
                format!("{} failed (HTTP {status}): {said}", call.action),
                format!("`{} --debug` shows the full exchange", call.cli),
            ))
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            Failure::Fact(FactError::Transient {
                reason: format!("cannot reach AWS for {}: {}", call.action, in_words(err)),
                hint:
                    "check the network path to the AWS endpoints (proxy, VPC endpoints) and try again"
                        .into(),
            })
        }
        _ => Failure::Fact(FactError::unavailable(
            format!("{} failed: {}", call.action, in_words(err)),
            format!("`{} --debug` shows the full exchange", call.cli),
        )),
    }
}

/// IAM's refusals come under several codes, and a 403 without a modelled code is one too.
fn is_denied(code: &str, message: &str, status: u16) -> bool {
    matches!(
        code,
        "AccessDeniedException"
            | "AccessDenied"
            | "UnauthorizedOperation"
            | "UnauthorizedException"
    ) || message.contains("not authorized to perform")
        || (status == 403 && !code.contains("Token") && !code.contains("Signature"))
}

/// An error and its causes in words, without the SDK's debug dump of the raw response.
pub(crate) fn in_words(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        // One line: some providers list every source they tried, one per line.
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}
