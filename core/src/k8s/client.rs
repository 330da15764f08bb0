//! The Kubernetes API client: reached as `kubectl` would reach an EKS cluster (the
//! endpoint and CA of `DescribeCluster`, the token of [`super::token`]), or through a
//! kubeconfig context the user names.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use http::Uri;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::aws::{Aws, AwsError};
use crate::error::{ErrorDetails, ErrorKind};

/// A token is made again after this long, before the 14 minutes the AWS CLI's
/// `get-token` tokens (and eks6's) say they last (STS honours them for 15).
pub const TOKEN_REFRESH: Duration = Duration::from_secs(13 * 60);

/// How long a connection to the API server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one API answer may take.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a Kubernetes API call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubeError {
    /// The API server refused the credentials (HTTP 401).
    #[error(
        "the Kubernetes API at {endpoint} refused the credentials ({operation}: HTTP 401 {reason}): the identity has no access entry on the cluster, or the token is bad or expired; `eks6 kubeconfig` names the identity eks6 signs as"
    )]
    Unauthorized {
        /// The API server.
        endpoint: String,
        /// What was asked.
        operation: String,
        /// The status reason (`Unauthorized`).
        reason: String,
    },
    /// The API server answered with an error.
    #[error("the Kubernetes API at {endpoint} answered {operation} with HTTP {status} {reason}: {message}")]
    Api {
        /// The API server.
        endpoint: String,
        /// What was asked.
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The status reason (`Forbidden`, `NotFound`, `Conflict`, ...).
        reason: String,
        /// The server's message.
        message: String,
    },
    /// The API server could not be reached (connection, TLS, time-out).
    #[error("the Kubernetes API at {endpoint} could not be reached ({operation}): {message}")]
    Network {
        /// The API server.
        endpoint: String,
        /// What was asked.
        operation: String,
        /// What went wrong.
        message: String,
    },
    /// The credentials for a request could not be made (a kubeconfig's exec plugin
    /// failed or is missing); no request was sent.
    #[error("no credentials for the Kubernetes API at {endpoint} ({operation}): {message}")]
    Credentials {
        /// The API server.
        endpoint: String,
        /// What was asked.
        operation: String,
        /// What went wrong.
        message: String,
    },
    /// The cluster reports no endpoint or CA yet (it is not `ACTIVE`).
    #[error("cluster {cluster} has no {missing} yet: its Kubernetes API is reachable once it is ACTIVE")]
    NotReady {
        /// The cluster.
        cluster: String,
        /// `endpoint` or `certificate authority`.
        missing: String,
    },
    /// A kubeconfig that cannot be used: missing, unparsable, or without the context.
    #[error("kubeconfig {path}: {problem}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// An AWS call on the way (DescribeCluster, the credentials for the token).
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl KubeError {
    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unauthorized { .. } => ErrorKind::KubeUnauthorized,
            Self::Api { .. } => ErrorKind::KubeApi,
            Self::Network { .. } => ErrorKind::KubeNetwork,
            Self::NotReady { .. } => ErrorKind::KubeNetwork,
            Self::Credentials { .. } => ErrorKind::AwsCredentials,
            Self::Kubeconfig { .. } => ErrorKind::InvalidArgument,
            Self::Aws(e) => e.kind(),
        }
    }

    /// The HTTP status the API server answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            // 0: the client failed before any answer.
            Self::Api { status, .. } => (*status != 0).then_some(*status),
            _ => None,
        }
    }

    /// The status reason the API server gave, when it answered.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { reason, .. } | Self::Api { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// Whether the object was not there (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether trying again may help: the API could not be reached, or it answered 429
    /// (too many requests) or a 5xx. Waits poll through these; other errors stop them.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Network { .. }) || self.status().is_some_and(|s| s == 429 || s >= 500)
    }
}

impl ErrorDetails for KubeError {
    fn kind(&self) -> ErrorKind {
        KubeError::kind(self)
    }
    fn inner(&self) -> Option<&dyn ErrorDetails> {
        match self {
            Self::Aws(e) => Some(e),
            _ => None,
        }
    }
    fn http_status(&self) -> Option<u16> {
        self.status()
    }
    fn reason(&self) -> Option<&str> {
        KubeError::reason(self)
    }
}

/// Where the client's endpoint, CA and credentials come from.
#[derive(Clone)]
enum Source {
    /// `DescribeCluster`'s endpoint and CA, eks6's own token.
    Eks { aws: Box<Aws>, cluster: String, uri: Uri, ca: Vec<Vec<u8>> },
    /// A kubeconfig context (its credentials are kube's: token, certificate, exec).
    Kubeconfig,
}

/// A client of one cluster's Kubernetes API.
pub struct Kube {
    source: Source,
    endpoint: String,
    client: tokio::sync::Mutex<(kube::Client, Instant)>,
    /// Requests made (each page of a list is one).
    calls: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Kube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kube").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl Kube {
    /// The API of `cluster` as EKS reports it: endpoint and CA from `DescribeCluster`,
    /// a bearer token signed with the clients' credentials (made again before it
    /// expires).
    pub async fn for_cluster(aws: &Aws, cluster: &str) -> Result<Self, KubeError> {
        let info = aws.require_cluster(cluster).await?;
        let not_ready = |missing: &str| KubeError::NotReady { cluster: cluster.into(), missing: missing.into() };
        let endpoint = info.endpoint.filter(|e| !e.is_empty()).ok_or_else(|| not_ready("endpoint"))?;
        let ca =
            info.certificate_authority.filter(|c| !c.is_empty()).ok_or_else(|| not_ready("certificate authority"))?;
        let uri: Uri = endpoint.parse().map_err(|e| KubeError::Network {
            endpoint: endpoint.clone(),
            operation: "DescribeCluster".into(),
            message: format!("the cluster's endpoint is not a URL: {e}"),
        })?;
        let ca = ca_certificates(&ca).map_err(|problem| KubeError::Network {
            endpoint: endpoint.clone(),
            operation: "DescribeCluster".into(),
            message: format!("the cluster's certificate authority {problem}"),
        })?;
        let source = Source::Eks { aws: Box::new(aws.clone()), cluster: cluster.into(), uri, ca };
        let client = build(&source, &endpoint).await?;
        Ok(Self {
            source,
            endpoint,
            client: tokio::sync::Mutex::new((client, Instant::now())),
            calls: Default::default(),
        })
    }

    /// The API a kubeconfig context names (`path`, else `$KUBECONFIG` or
    /// `~/.kube/config`), with that context's own credentials.
    pub async fn from_context(path: Option<&Path>, context: &str) -> Result<Self, KubeError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => crate::kubeconfig::default_path(),
        };
        let bad = |problem: String| KubeError::Kubeconfig { path: path.clone(), problem };
        let kc = Kubeconfig::read_from(&path).map_err(|e| bad(format!("cannot be read: {e}")))?;
        if !kc.contexts.iter().any(|c| c.name == context) {
            let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
            return Err(bad(format!(
                "has no context {context:?} (it has {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )));
        }
        let opts = KubeConfigOptions { context: Some(context.into()), ..Default::default() };
        let mut config = kube::Config::from_custom_kubeconfig(kc, &opts)
            .await
            .map_err(|e| bad(format!("context {context:?}: {e}")))?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = Some(READ_TIMEOUT);
        let endpoint = config.cluster_url.to_string().trim_end_matches('/').to_string();
        let client = kube::Client::try_from(config).map_err(|e| classify(&endpoint, "connect", e))?;
        Ok(Self {
            source: Source::Kubeconfig,
            endpoint,
            client: tokio::sync::Mutex::new((client, Instant::now())),
            calls: Default::default(),
        })
    }

    /// The API server's URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The client, with a fresh token when the last is near its end.
    pub(crate) async fn client(&self) -> Result<kube::Client, KubeError> {
        let mut guard = self.client.lock().await;
        if matches!(self.source, Source::Eks { .. }) && guard.1.elapsed() >= TOKEN_REFRESH {
            *guard = (build(&self.source, &self.endpoint).await?, Instant::now());
        }
        Ok(guard.0.clone())
    }

    /// The Kubernetes API requests this client has made (each page of a list is one;
    /// the probe pod's delete on the way out is not counted).
    pub fn api_calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn count_call(&self) {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// A failed call of this client, classified.
    pub fn error(&self, operation: &str, e: kube::Error) -> KubeError {
        classify(&self.endpoint, operation, e)
    }
}

/// A kube client for the source, with a new token.
async fn build(source: &Source, endpoint: &str) -> Result<kube::Client, KubeError> {
    let Source::Eks { aws, cluster, uri, ca } = source else {
        unreachable!("kubeconfig clients are built once");
    };
    let token = aws.eks_token(cluster).await?;
    let mut config = kube::Config::new(uri.clone());
    config.root_cert = Some(ca.clone());
    config.auth_info.token = Some(token.token.into());
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    kube::Client::try_from(config).map_err(|e| classify(endpoint, "connect", e))
}

/// The DER certificates of `certificateAuthority.data`: base64 of PEM.
fn ca_certificates(data: &str) -> Result<Vec<Vec<u8>>, String> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let pem = engine.decode(data.trim()).map_err(|e| format!("is not base64: {e}"))?;
    let pem = String::from_utf8(pem).map_err(|_| "is not PEM text".to_string())?;
    let mut certs = Vec::new();
    let mut body: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        if line == "-----BEGIN CERTIFICATE-----" {
            body = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            let b = body.take().ok_or("has an END line without BEGIN")?;
            certs.push(engine.decode(b).map_err(|e| format!("holds a certificate that is not base64: {e}"))?);
        } else if let Some(b) = &mut body {
            b.push_str(line);
        }
    }
    if certs.is_empty() {
        return Err("holds no certificate".into());
    }
    Ok(certs)
}

/// A kube error as one of the three kinds.
fn classify(endpoint: &str, operation: &str, e: kube::Error) -> KubeError {
    let (endpoint, operation) = (endpoint.to_string(), operation.to_string());
    match e {
        kube::Error::Api(s) if s.code == 401 => {
            KubeError::Unauthorized { endpoint, operation, reason: non_empty(s.reason, "Unauthorized") }
        }
        kube::Error::Api(s) => KubeError::Api {
            endpoint,
            operation,
            status: s.code,
            reason: non_empty(s.reason, "Unknown"),
            message: s.message,
        },
        kube::Error::Auth(e) => KubeError::Credentials { endpoint, operation, message: chain(&e) },
        e @ (kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::RustlsTls(_)) => {
            KubeError::Network { endpoint, operation, message: chain(&e) }
        }
        e => KubeError::Api { endpoint, operation, status: 0, reason: "ClientError".into(), message: chain(&e) },
    }
}

fn non_empty(s: String, default: &str) -> String {
    if s.is_empty() { default.to_string() } else { s }
}

/// An error and its sources, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_data_is_base64_pem() {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let der = b"not really DER".to_vec();
        let pem = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", e.encode(&der));
        assert_eq!(ca_certificates(&e.encode(pem)).unwrap(), vec![der]);
        assert_eq!(ca_certificates(&e.encode("hello")).unwrap_err(), "holds no certificate");
        assert!(ca_certificates("!!").unwrap_err().starts_with("is not base64"));
    }
}
