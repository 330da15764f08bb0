//! The only module that touches the AWS SDK: builds the EC2, EKS, IAM and STS clients
//! once from `aws_config`, counts the calls they make, and classifies their errors.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ec2::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use crate::error::ErrorKind;

/// An SDK call of operation `$op`, awaited, its error classified.
macro_rules! sdk {
    ($op:literal, $call:expr) => {
        $call.await.map_err(|e| AwsError::from_sdk($op, e))
    };
}

pub(crate) mod ec2;
pub(crate) mod eks;
pub(crate) mod iam;

pub use iam::{
    CLUSTER_ROLE_POLICIES, CNI_IPV6_ACTIONS, CNI_IPV6_LATER, CNI_IPV6_REQUIRED, CNI_TAG_ACTION, EKS_PRINCIPAL,
    NODE_ROLE_POLICIES, cni_ipv6_policy, ec2_principal, managed_policy_arn, partition, trust_policy,
};

/// The states eks6 compares, as the SDK's own enums.
pub use aws_sdk_ec2::types::NatGatewayState;
pub use aws_sdk_eks::types::{AddonStatus, ClusterStatus, NodegroupStatus};

/// How to reach AWS. Everything is optional; what is unset comes from the usual places
/// (environment, profile files, instance metadata), as the AWS CLI does.
#[derive(Clone, Default)]
pub struct AwsOptions {
    /// Region; the plan's region must match it.
    pub region: Option<String>,
    /// Region to use only when neither `region` nor the environment or profile gives one.
    pub default_region: Option<String>,
    /// Named profile from the shared config files.
    pub profile: Option<String>,
    /// Endpoint URL for every service (a local emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Explicit credentials instead of the default chain.
    pub credentials: Option<StaticCredentials>,
    /// A role to assume (through STS) with the credentials above or from the chain.
    pub assume_role_arn: Option<String>,
    /// Limit for one API call including its retries (default 120 s).
    pub operation_timeout: Option<Duration>,
    /// Limit for one attempt of an API call (default 30 s).
    pub attempt_timeout: Option<Duration>,
    /// Attempts per API call, retries of throttling and 5xx included (default 5).
    pub max_attempts: Option<u32>,
    /// First retry back-off (default 200 ms; exponential with jitter up to 20 s).
    pub initial_backoff: Option<Duration>,
}

impl fmt::Debug for AwsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsOptions")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            .field("credentials", &self.credentials)
            .field("assume_role_arn", &self.assume_role_arn)
            .field("operation_timeout", &self.operation_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// Explicit credentials. Their `Debug` output hides the secret and the session token.
#[derive(Clone)]
pub struct StaticCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &self.session_token.as_ref().map(|_| "** redacted **"))
            .finish()
    }
}

tokio::task_local! {
    /// The calls of the step being polled ([`counting_calls`]).
    static STEP_CALLS: Arc<std::sync::atomic::AtomicU64>;
}

/// Runs `work`, counting the HTTP attempts it makes (whatever runs beside it).
pub(crate) async fn counting_calls<F: Future>(work: F) -> (F::Output, u64) {
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let out = STEP_CALLS.scope(count.clone(), work).await;
    (out, count.load(std::sync::atomic::Ordering::Relaxed))
}

/// Counts HTTP attempts per operation, for reports ("AWS API calls made per step").
#[derive(Debug, Default)]
struct CallLog {
    counts: Mutex<BTreeMap<String, u64>>,
}

#[derive(Debug, Clone)]
struct CountCalls(Arc<CallLog>);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "eks6::CountCalls"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name =
            cfg.load::<Metadata>().map_or_else(|| "unknown".to_string(), |m| format!("{}:{}", m.service(), m.name()));
        if let Ok(mut c) = self.0.counts.lock() {
            *c.entry(name).or_default() += 1;
        }
        // The SDK runs interceptors inside the caller's future, so the count reaches
        // the step that made the call even when several steps run at once.
        let _ = STEP_CALLS.try_with(|c| c.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        Ok(())
    }
}

/// The clients of one account and region, built once.
#[derive(Clone)]
pub struct Aws {
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) eks: aws_sdk_eks::Client,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    region: String,
    /// The endpoint every call goes to, when one was given (for messages).
    endpoint: Option<String>,
    calls: Arc<CallLog>,
    caller: Arc<tokio::sync::OnceCell<Caller>>,
    pub(crate) credentials: Option<aws_sdk_ec2::config::SharedCredentialsProvider>,
}

/// Who the clients act as (STS `GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account id.
    pub account: String,
    /// The caller's ARN (an assumed role shows as `arn:aws:sts::...:assumed-role/R/S`).
    pub arn: String,
}

impl Caller {
    /// The IAM principal behind the caller: for an assumed-role session
    /// (`arn:aws:sts::A:assumed-role/R/S`) the role (`arn:aws:iam::A:role/R`, without
    /// its path, which the session ARN does not carry), else the ARN itself. EKS names a
    /// cluster's creator, and matches access entries, by this principal.
    pub fn principal_arn(&self) -> String {
        let parts: Vec<&str> = self.arn.splitn(6, ':').collect();
        if let [_, partition, "sts", _, account, resource] = parts[..]
            && let Some(rest) = resource.strip_prefix("assumed-role/")
        {
            let role = rest.split('/').next().unwrap_or(rest);
            return format!("arn:{partition}:iam::{account}:role/{role}");
        }
        self.arn.clone()
    }
}

impl fmt::Debug for Aws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aws").field("region", &self.region).finish_non_exhaustive()
    }
}

/// SDK clients built elsewhere, for [`Aws::from_clients`].
#[derive(Debug, Clone)]
pub struct Clients {
    /// EC2.
    pub ec2: aws_sdk_ec2::Client,
    /// EKS.
    pub eks: aws_sdk_eks::Client,
    /// IAM (the roles eks6 makes or checks).
    pub iam: aws_sdk_iam::Client,
    /// STS (the caller's account).
    pub sts: aws_sdk_sts::Client,
    /// The credentials the clients sign with, for what eks6 signs itself (the EKS
    /// token); `None` leaves it unable to.
    pub credentials: Option<aws_sdk_ec2::config::SharedCredentialsProvider>,
}

impl Clients {
    /// The clients of one `SdkConfig` of your own.
    pub fn from_config(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            ec2: aws_sdk_ec2::Client::new(sdk),
            eks: aws_sdk_eks::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
            credentials: sdk.credentials_provider(),
        }
    }
}

/// `<partition-ish>-<area>-<n>` (`us-west-2`, `eu-central-1`, `us-gov-west-1`): the
/// reason a region name is not one, if any.
pub(crate) fn region_problem(r: &str) -> Option<String> {
    (!crate::plan::region_ok(r)).then(|| {
        format!(
            "{} is not an AWS region name (such as us-west-2)",
            crate::error::quote_limited(r, crate::error::QUOTE_MAX)
        )
    })
}

/// `http(s)://host[:port][/path]`: the reason an endpoint URL is not one, if any.
pub(crate) fn endpoint_problem(u: &str) -> Option<String> {
    let quoted = || crate::error::quote_limited(u, crate::error::QUOTE_MAX);
    let Some(rest) = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://")) else {
        return Some(format!("{} does not start with http:// or https://", quoted()));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        // A bracketed IPv6 host without a port: its colons are inside the brackets.
        Some((h, p)) if !(authority.starts_with('[') && authority.ends_with(']')) => (h, Some(p)),
        _ => (authority, None),
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        crate::net::parse_addr(inner).is_ok()
    } else {
        !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    if !host_ok {
        return Some(format!("{} has no valid host", quoted()));
    }
    if let Some(p) = port
        && !(!p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n)))
    {
        return Some(format!("{} has a port that is not 1 to 65535", quoted()));
    }
    None
}

impl AwsOptions {
    /// Checks what can be checked before any call: the region's and the endpoint's form,
    /// and that a named profile exists in the shared config files.
    async fn check(&self) -> Result<(), AwsError> {
        let bad = |m: String| AwsError::local(ErrorKind::InvalidArgument, "configure", m);
        for r in self.region.iter().chain(&self.default_region) {
            if let Some(why) = region_problem(r) {
                return Err(bad(why));
            }
        }
        if let Some(u) = &self.endpoint_url
            && let Some(why) = endpoint_problem(u)
        {
            return Err(bad(format!("endpoint URL {why}")));
        }
        if let Some(p) = &self.profile {
            let env = aws_types::os_shim_internal::Env::real();
            let fs = aws_types::os_shim_internal::Fs::real();
            let files = aws_runtime::env_config::file::EnvConfigFiles::default();
            let found = aws_config::profile::load(&fs, &env, &files, Some(p.clone().into()))
                .await
                .map_err(|e| bad(format!("profile {p:?}: the AWS config files cannot be read: {e}")))?;
            if found.get_profile(p).is_none() {
                let config = env.get("AWS_CONFIG_FILE").unwrap_or_else(|_| "~/.aws/config".into());
                let credentials =
                    env.get("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|_| "~/.aws/credentials".into());
                return Err(bad(format!(
                    "profile {p:?} is in neither {config} nor {credentials}; `aws configure list-profiles` lists the ones there are"
                )));
            }
        }
        Ok(())
    }
}

impl Aws {
    /// Loads the configuration once and builds the clients. Credentials come as the AWS
    /// CLI takes them: explicit ones, else a named profile (which beats credentials in
    /// the environment, as `aws --profile` does), else the default chain (environment,
    /// profile files, SSO, container and instance roles). A malformed region or endpoint
    /// URL, or a profile that does not exist, is `InvalidArgument`.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), eks6::aws::AwsError> {
    /// use eks6::aws::{Aws, AwsOptions};
    /// let aws = Aws::connect(&AwsOptions { region: Some("us-west-2".into()), ..Default::default() }).await?;
    /// assert_eq!(aws.region(), "us-west-2");
    /// # Ok(()) }
    /// ```
    pub async fn connect(opts: &AwsOptions) -> Result<Self, AwsError> {
        opts.check().await?;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(opts.attempt_timeout.unwrap_or(Duration::from_secs(30)))
            .operation_timeout(opts.operation_timeout.unwrap_or(Duration::from_secs(120)))
            .build();
        let retry = RetryConfig::standard()
            .with_max_attempts(opts.max_attempts.unwrap_or(5).max(1))
            .with_initial_backoff(opts.initial_backoff.unwrap_or(Duration::from_millis(200)))
            .with_max_backoff(Duration::from_secs(20));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts.clone())
            .retry_config(retry.clone());
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(u) = &opts.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        if let Some(c) = &opts.credentials {
            loader = loader.credentials_provider(aws_sdk_ec2::config::Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                c.session_token.clone(),
                None,
                "eks6-static",
            ));
        }
        let mut sdk = loader.load().await;
        if sdk.region().is_none()
            && let Some(r) = &opts.default_region
        {
            sdk = sdk.into_builder().region(Region::new(r.clone())).build();
        }
        if let (Some(p), None) = (&opts.profile, &opts.credentials) {
            // The profile's own credentials, not the default chain's, whose environment
            // keys would come first: as the AWS CLI gives `--profile` precedence. (Built
            // after the load, to give it the region the load found.)
            let conf = aws_config::provider_config::ProviderConfig::default()
                .with_region(sdk.region().cloned())
                .with_retry_config(retry.clone())
                .with_timeout_config(timeouts.clone());
            let provider =
                aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(p).configure(&conf).build();
            sdk = sdk
                .into_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(provider))
                .build();
        }
        if let Some(role) = &opts.assume_role_arn {
            let provider =
                aws_config::sts::AssumeRoleProvider::builder(role).session_name("eks6").configure(&sdk).build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(provider))
                .build();
        }
        if sdk.region().is_none() {
            return Err(AwsError::local(
                ErrorKind::InvalidArgument,
                "configure",
                "no AWS region: give one (--region, AWS_REGION or the profile's region)",
            ));
        }
        let mut aws = Self::from_clients(Clients::from_config(&sdk))?;
        aws.endpoint = opts.endpoint_url.clone();
        Ok(aws)
    }

    /// Wraps clients built elsewhere: from an `SdkConfig` of your own, or faked in tests.
    /// The region is the EC2 client's; calls are counted as with [`connect`](Self::connect).
    pub fn from_clients(c: Clients) -> Result<Self, AwsError> {
        let Some(region) = c.ec2.config().region().map(|r| r.to_string()) else {
            return Err(AwsError::local(ErrorKind::InvalidArgument, "configure", "the EC2 client has no region"));
        };
        let calls = Arc::new(CallLog::default());
        let count = || CountCalls(calls.clone());
        Ok(Self {
            ec2: aws_sdk_ec2::Client::from_conf(c.ec2.config().to_builder().interceptor(count()).build()),
            eks: aws_sdk_eks::Client::from_conf(c.eks.config().to_builder().interceptor(count()).build()),
            iam: aws_sdk_iam::Client::from_conf(c.iam.config().to_builder().interceptor(count()).build()),
            sts: aws_sdk_sts::Client::from_conf(c.sts.config().to_builder().interceptor(count()).build()),
            region,
            endpoint: None,
            calls,
            caller: Arc::new(tokio::sync::OnceCell::new()),
            credentials: c.credentials,
        })
    }

    /// The region the clients talk to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The caller's account id (STS `GetCallerIdentity`, asked once).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        Ok(self.caller().await?.account)
    }

    /// Who the clients act as (STS `GetCallerIdentity`, asked once).
    pub async fn caller(&self) -> Result<Caller, AwsError> {
        self.caller
            .get_or_try_init(|| async {
                let out = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("GetCallerIdentity", e))?;
                let account = out.account().map(str::to_string).ok_or_else(|| {
                    AwsError::local(ErrorKind::AwsService, "GetCallerIdentity", "STS named no account")
                })?;
                Ok(Caller { account, arn: out.arn().unwrap_or_default().to_string() })
            })
            .await
            .cloned()
    }

    /// The partition of the clients' region (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &'static str {
        iam::partition(&self.region)
    }

    /// HTTP attempts made so far, per `Service:Operation` (`EKS:DescribeCluster`).
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        self.calls.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Total HTTP attempts made so far.
    pub fn total_calls(&self) -> u64 {
        self.call_counts().values().sum()
    }
}

impl crate::error::ErrorDetails for AwsError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
    fn aws_code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    fn aws_message(&self) -> Option<&str> {
        self.code.is_some().then_some(self.message.as_str())
    }
}

/// An AWS call that failed, classified. The SDK error is kept as the source.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed: {}{message}", code.as_ref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsError {
    kind: ErrorKind,
    operation: String,
    code: Option<String>,
    message: String,
    http_status: Option<u16>,
    #[source]
    source: Option<BoxError>,
}

impl AwsError {
    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The operation, e.g. `CreateVpc`.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The AWS error code, e.g. `DependencyViolation`.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The message AWS gave, or a description of the failure.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status, when a response came back.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    pub(crate) fn local(kind: ErrorKind, operation: &str, message: impl Into<String>) -> Self {
        Self { kind, operation: operation.into(), code: None, message: message.into(), http_status: None, source: None }
    }

    /// Classifies an SDK error of `operation`.
    pub(crate) fn from_sdk<E>(operation: &str, err: SdkError<E, aws_smithy_runtime_api::http::Response>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let http_status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        let aws_message = err.message().map(str::to_string);
        let (kind, message) = match &err {
            SdkError::TimeoutError(_) => {
                (ErrorKind::Timeout, format!("no answer within the call time-out ({operation})"))
            }
            SdkError::DispatchFailure(d) if d.is_timeout() => (ErrorKind::Timeout, "connection timed out".to_string()),
            SdkError::DispatchFailure(_) => undelivered(&err),
            SdkError::ResponseError(_) => {
                (ErrorKind::AwsService, "the response could not be read or parsed".to_string())
            }
            SdkError::ConstructionFailure(_) => {
                (ErrorKind::AwsInvalidInput, "the request could not be built".to_string())
            }
            _ => (classify_code(code.as_deref(), http_status), aws_message.clone().unwrap_or_default()),
        };
        let message = if message.is_empty() {
            http_status.map_or_else(|| "no message".to_string(), |s| format!("HTTP {s}"))
        } else {
            message
        };
        Self { kind, operation: operation.into(), code, message, http_status, source: Some(Box::new(err)) }
    }

    /// Whether AWS said the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::AwsNotFound
    }

    /// Whether the endpoint does not know the operation at all (a 404 without an AWS
    /// error code, as an emulator without that API answers).
    pub fn is_missing_operation(&self) -> bool {
        self.http_status == Some(404) && self.code.is_none()
    }

    /// Whether the code is exactly `code`.
    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// `Ok(None)` where AWS said the resource does not exist (`...NotFound`,
/// `ResourceNotFoundException`, IAM's `NoSuchEntity`): for describes, and for deletes of
/// what is already gone.
pub(crate) fn absent<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why a request was not delivered, in words: no credentials (and where eks6 looked),
/// a refused connection, an answer that is not HTTP, or the deepest cause the SDK gives.
fn undelivered(err: &(dyn std::error::Error + 'static)) -> (ErrorKind, String) {
    let mut causes = Vec::new();
    let mut next = err.source();
    while let Some(e) = next {
        if e.downcast_ref::<aws_credential_types::provider::error::CredentialsError>().is_some() {
            return (
                ErrorKind::AwsCredentials,
                format!(
                    "no AWS credentials: eks6 looked where the AWS CLI looks (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                     AWS_PROFILE and the profile files, SSO, web identity, container and instance metadata) and found none \
                     that work: {e}"
                ),
            );
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return (ErrorKind::AwsNetwork, "connection refused: nothing listens at the endpoint".into());
                }
                std::io::ErrorKind::ConnectionReset => {
                    return (ErrorKind::AwsNetwork, "the endpoint reset the connection".into());
                }
                _ => {}
            }
        }
        causes.push(e.to_string());
        next = e.source();
    }
    let deepest = causes.last().cloned().unwrap_or_else(|| "dispatch failure".into());
    // hyper's words for an answer that is not HTTP/1.1: a banner of another protocol, a
    // status line it cannot parse.
    let not_http = ["unexpected message", "invalid HTTP", "parse"];
    if causes.iter().any(|c| not_http.iter().any(|m| c.contains(m))) {
        return (ErrorKind::AwsNetwork, format!("the endpoint did not answer in HTTP ({deepest})"));
    }
    (ErrorKind::AwsNetwork, format!("request not delivered: {deepest}"))
}

/// The kind of an AWS error code. Throttling is what the AWS runtime itself retries as
/// throttling (its public list, so the two never drift apart); a `...LimitExceeded` code
/// that is not on it (IAM's `LimitExceeded`, EC2's `VpcLimitExceeded`,
/// `AddressLimitExceeded`) is an account quota, which waiting does not lift.
fn classify_code(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
    match code {
        Some(c) if THROTTLING_ERRORS.contains(&c) => ErrorKind::AwsThrottled,
        _ if status == Some(429) => ErrorKind::AwsThrottled,
        Some(c)
            if c.ends_with("LimitExceeded")
                || c.ends_with("LimitExceededException")
                || c == "ServiceQuotaExceededException" =>
        {
            ErrorKind::AwsQuota
        }
        Some(c)
            if c.ends_with(".NotFound")
                || c.ends_with("NotFound")
                || c == "NoSuchEntity"
                || c == "ResourceNotFoundException"
                || c == "NotFoundException" =>
        {
            ErrorKind::AwsNotFound
        }
        Some(
            "ResourceInUseException"
            | "DependencyViolation"
            | "InvalidPermission.Duplicate"
            | "RouteAlreadyExists"
            | "Resource.AlreadyAssociated"
            | "IdempotentParameterMismatch"
            | "DeleteConflict"
            | "ConcurrentModification",
        ) => ErrorKind::AwsConflict,
        Some(c) if c.ends_with(".InUse") || c.ends_with("AlreadyExists") || c.ends_with(".Duplicate") => {
            ErrorKind::AwsConflict
        }
        Some(
            "UnauthorizedOperation"
            | "AuthFailure"
            | "AccessDenied"
            | "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidClientTokenId"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "SignatureDoesNotMatch",
        ) => ErrorKind::AwsCredentials,
        _ if matches!(status, Some(401 | 403)) => ErrorKind::AwsCredentials,
        _ if status.is_some_and(|s| s >= 500) => ErrorKind::AwsService,
        Some(c)
            if c.starts_with("Invalid")
                || c.starts_with("Missing")
                || c.ends_with(".Malformed")
                || c == "ValidationException"
                || c == "InvalidParameterException"
                || c == "InvalidRequestException"
                || c == "UnsupportedAvailabilityZoneException"
                || c == "ClientException" =>
        {
            ErrorKind::AwsInvalidInput
        }
        _ if status.is_some_and(|s| (400..500).contains(&s)) => ErrorKind::AwsInvalidInput,
        _ => ErrorKind::AwsService,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(classify_code(Some("RequestLimitExceeded"), Some(503)), ErrorKind::AwsThrottled);
        assert_eq!(classify_code(Some("ThrottlingException"), Some(429)), ErrorKind::AwsThrottled);
        assert_eq!(classify_code(Some("InvalidVpcID.NotFound"), Some(400)), ErrorKind::AwsNotFound);
        assert_eq!(classify_code(Some("ResourceNotFoundException"), Some(404)), ErrorKind::AwsNotFound);
        assert_eq!(classify_code(Some("DependencyViolation"), Some(400)), ErrorKind::AwsConflict);
        assert_eq!(classify_code(Some("ResourceInUseException"), Some(409)), ErrorKind::AwsConflict);
        assert_eq!(classify_code(Some("InvalidParameterException"), Some(400)), ErrorKind::AwsInvalidInput);
        assert_eq!(classify_code(Some("InternalError"), Some(500)), ErrorKind::AwsService);
        assert_eq!(classify_code(None, Some(503)), ErrorKind::AwsService);
        assert_eq!(classify_code(Some("UnauthorizedOperation"), Some(403)), ErrorKind::AwsCredentials);
        // Quotas are not throttling: waiting does not lift them.
        assert_eq!(classify_code(Some("LimitExceeded"), Some(409)), ErrorKind::AwsQuota);
        assert_eq!(classify_code(Some("AddressLimitExceeded"), Some(400)), ErrorKind::AwsQuota);
        assert_eq!(classify_code(Some("ResourceLimitExceededException"), Some(400)), ErrorKind::AwsQuota);
        // IAM's own codes.
        assert_eq!(classify_code(Some("NoSuchEntity"), Some(404)), ErrorKind::AwsNotFound);
        assert_eq!(classify_code(Some("DeleteConflict"), Some(409)), ErrorKind::AwsConflict);
        assert_eq!(classify_code(Some("EntityAlreadyExists"), Some(409)), ErrorKind::AwsConflict);
        // Every code the AWS runtime retries as throttling is throttling here too.
        for c in aws_runtime::retries::classifiers::THROTTLING_ERRORS {
            assert_eq!(classify_code(Some(c), Some(400)), ErrorKind::AwsThrottled, "{c}");
        }
    }

    #[test]
    fn principal_of_a_session() {
        let c = |arn: &str| Caller { account: "111122223333".into(), arn: arn.into() };
        assert_eq!(
            c("arn:aws:sts::111122223333:assumed-role/Admin/alice").principal_arn(),
            "arn:aws:iam::111122223333:role/Admin"
        );
        assert_eq!(c("arn:aws:iam::111122223333:user/bob").principal_arn(), "arn:aws:iam::111122223333:user/bob");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = StaticCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI".into(),
            session_token: Some("FwoGZXIvYXdzE".into()),
        };
        let opts = AwsOptions { credentials: Some(c), ..Default::default() };
        let text = format!("{opts:?}");
        assert!(!text.contains("wJalrXUtnFEMI") && !text.contains("FwoGZXIvYXdzE"), "{text}");
    }
}
