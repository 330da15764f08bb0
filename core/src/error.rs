//! The one error-kind table every surface maps from.
//!
//! | kind | what | C status | Python class |
//! | --- | --- | --- | --- |
//! | `InvalidAddress` | address text that does not parse | 1 `EKS6_INVALID_ADDRESS` | `AddressError` (`ValueError`) |
//! | `InvalidPrefix` | prefix text that does not parse, or host bits set | 2 `EKS6_INVALID_PREFIX` | `AddressError` (`ValueError`) |
//! | `InvalidLength` | a prefix length wrong for the operation | 3 `EKS6_INVALID_LENGTH` | `AddressError` (`ValueError`) |
//! | `OutOfRange` | an index or count out of range | 4 `EKS6_OUT_OF_RANGE` | `AddressError` (`ValueError`) |
//! | `PrefixConflict` | a prefix outside its parent, in use or not in use | 5 `EKS6_PREFIX_CONFLICT` | `AddressError` (`ValueError`) |
//! | `Exhausted` | no free prefix of the length asked | 6 `EKS6_EXHAUSTED` | `ExhaustedError` |
//! | `InvalidUrl` | a URL that cannot be built | 7 `EKS6_INVALID_URL` | `AddressError` (`ValueError`) |
//! | `InvalidPlan` | a plan that does not parse (syntax, unknown key, type) | 10 `EKS6_INVALID_PLAN` | `PlanError` (`ValueError`) |
//! | `PlanRejected` | a plan with error findings | 11 `EKS6_PLAN_REJECTED` | `PlanError` (`ValueError`) |
//! | `RegionMismatch` | a client region other than the plan's | 12 `EKS6_REGION_MISMATCH` | `PlanError` (`ValueError`) |
//! | `AwsInvalidInput` | AWS refused the input (with its code and message) | 20 `EKS6_AWS_INVALID_INPUT` | `AwsError` |
//! | `AwsNotFound` | a resource that does not exist | 21 `EKS6_AWS_NOT_FOUND` | `NotFoundError` |
//! | `AwsConflict` | in use, a dependency, or owned by someone else | 22 `EKS6_AWS_CONFLICT` | `ConflictError` |
//! | `AwsThrottled` | throttled past the retries | 23 `EKS6_AWS_THROTTLED` | `ThrottledError` |
//! | `AwsService` | a service failure (5xx, unexpected answer) | 24 `EKS6_AWS_SERVICE` | `AwsError` |
//! | `AwsNetwork` | no answer: connection refused, reset, DNS | 25 `EKS6_AWS_NETWORK` | `AwsError` |
//! | `AwsCredentials` | no or bad credentials, access denied | 26 `EKS6_AWS_CREDENTIALS` | `AwsError` |
//! | `Timeout` | a wait or call past its limit (the limit is in the message) | 30 `EKS6_TIMEOUT` | `TimeoutError` (builtin `TimeoutError`) |
//! | `Cancelled` | cancelled by the caller | 31 `EKS6_CANCELLED` | `CancelledError` |
//! | `Io` | local I/O (journal, files) | 32 `EKS6_IO` | `IoError` (`OSError`) |
//! | `Locked` | another run holds the journal lock | 33 `EKS6_LOCKED` | `LockedError` (a `ConflictError`) |
//! | `ProbeRefused` | the probe's connection was refused (curl exit 7) | 40 `EKS6_PROBE_REFUSED` | `ProbeError` |
//! | `ProbeTarget` | the probe target is not IPv6 | 41 `EKS6_PROBE_TARGET` | `ProbeTargetError` (a `ProbeError`, `ValueError`) |
//! | `ProbeNetwork` | the probe's connection failed otherwise: unreachable, reset, a malformed answer | 42 `EKS6_PROBE_NETWORK` | `ProbeError` |
//!
//! Numbers are stable and never reused; the C-only statuses (null argument, UTF-8,
//! buffer size, panic) live in the C crate above 100.

use serde::{Deserialize, Serialize};

/// The stable kind of an eks6 error; see the module table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[repr(u32)]
pub enum ErrorKind {
    /// Address text that does not parse.
    InvalidAddress = 1,
    /// Prefix text that does not parse, or host bits set.
    InvalidPrefix = 2,
    /// A prefix length wrong for the operation.
    InvalidLength = 3,
    /// An index or count out of range.
    OutOfRange = 4,
    /// A prefix outside its parent, in use or not in use.
    PrefixConflict = 5,
    /// No free prefix of the length asked.
    Exhausted = 6,
    /// A URL that cannot be built.
    InvalidUrl = 7,
    /// A plan that does not parse.
    InvalidPlan = 10,
    /// A plan with error findings.
    PlanRejected = 11,
    /// A client region other than the plan's.
    RegionMismatch = 12,
    /// AWS refused the input.
    AwsInvalidInput = 20,
    /// A resource that does not exist.
    AwsNotFound = 21,
    /// In use, a dependency, or owned by someone else.
    AwsConflict = 22,
    /// Throttled past the retries.
    AwsThrottled = 23,
    /// A service failure.
    AwsService = 24,
    /// No answer.
    AwsNetwork = 25,
    /// No or bad credentials, or access denied.
    AwsCredentials = 26,
    /// A wait or call past its limit.
    Timeout = 30,
    /// Cancelled by the caller.
    Cancelled = 31,
    /// Local I/O.
    Io = 32,
    /// Another run holds the journal lock.
    Locked = 33,
    /// The probe's connection was refused.
    ProbeRefused = 40,
    /// The probe target is not IPv6.
    ProbeTarget = 41,
    /// The probe's connection failed otherwise (unreachable, reset, a malformed answer).
    ProbeNetwork = 42,
}

impl ErrorKind {
    /// The stable number (the C status).
    pub fn code(self) -> u32 {
        self as u32
    }
}

impl From<crate::net::NetErrorKind> for ErrorKind {
    fn from(k: crate::net::NetErrorKind) -> Self {
        use crate::net::NetErrorKind as N;
        match k {
            N::InvalidAddress => Self::InvalidAddress,
            N::InvalidPrefix => Self::InvalidPrefix,
            N::InvalidLength => Self::InvalidLength,
            N::OutOfRange => Self::OutOfRange,
            N::Conflict => Self::PrefixConflict,
            N::Exhausted => Self::Exhausted,
            N::InvalidUrl => Self::InvalidUrl,
        }
    }
}

impl crate::net::NetError {
    /// The crate-wide kind of this error.
    pub fn error_kind(&self) -> ErrorKind {
        self.kind().into()
    }
}

impl crate::plan::PlanError {
    /// The crate-wide kind of this error.
    pub fn kind(&self) -> ErrorKind {
        use crate::plan::PlanError as P;
        match self {
            P::Io { .. } => ErrorKind::Io,
            P::Parse { .. } => ErrorKind::InvalidPlan,
            P::Address(e) => e.error_kind(),
            P::Invalid { .. } => ErrorKind::PlanRejected,
        }
    }
}

/// Log targets kept quiet whatever `EKS6_LOG` asks for, in every surface that installs
/// a log subscriber (the CLI, `libeks6`): the SigV4 signer logs canonical requests and
/// strings to sign (signed headers, session tokens) at debug and trace; the SDK's HTTP
/// layers log whole requests and responses (an STS answer holds credentials); and
/// `aws_config` logs the credentials it loaded (the key id) at info.
pub const LOG_SILENCED: &[&str] = &[
    "aws_sigv4=off",
    "aws_config=warn",
    "aws_credential_types=warn",
    "aws_smithy_runtime=info",
    "aws_smithy_http_client=info",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "rustls=info",
];
