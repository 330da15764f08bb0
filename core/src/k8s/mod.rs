//! The Kubernetes side of the walkthrough: the EKS bearer token (made here, no AWS CLI
//! needed), and what `kubectl` would be used for, through the Kubernetes API.

mod client;
mod ops;
mod token;

pub use client::{CONNECT_TIMEOUT, Kube, KubeError, READ_TIMEOUT, TOKEN_REFRESH};
pub use ops::{
    FIELD_MANAGER, MANAGED_BY, MAX_PROBE_TARGETS, NodeView, PLAN_ANNOTATION, PROBE_IMAGE, PROBE_LABEL, PodView,
    ProbePodGuard, instance_of_provider_id, probe_active_deadline,
};

pub use token::{
    CLUSTER_HEADER, EXEC_API_V1BETA1, EksToken, ExecCredential, ExecCredentialStatus, PRESIGN_SECONDS, TOKEN_LIFETIME,
    TOKEN_PREFIX, TokenError, sts_host, token_at, token_url,
};

use crate::aws::{Aws, AwsError};
use crate::error::ErrorKind;

impl Aws {
    /// The EKS token for `cluster`, signed with the clients' own credentials (profile,
    /// role, environment: the same chain as every call) for the clients' region.
    pub async fn eks_token(&self, cluster: &str) -> Result<EksToken, AwsError> {
        use aws_credential_types::provider::ProvideCredentials;
        let Some(provider) = &self.credentials else {
            return Err(AwsError::local(ErrorKind::AwsCredentials, "GetToken", "the clients have no credentials"));
        };
        let creds = provider.provide_credentials().await.map_err(|e| {
            AwsError::local(
                ErrorKind::AwsCredentials,
                "GetToken",
                format!("no AWS credentials to sign the token with: {e}"),
            )
        })?;
        token_at(&creds, self.region(), cluster, std::time::SystemTime::now())
            .map_err(|e| AwsError::local(ErrorKind::Internal, "GetToken", e.to_string()))
    }
}
