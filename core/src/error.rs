//! The one table of error kinds: every surface maps from it.
//!
//! [`ErrorKind`] is a plain enum (cbindgen and stubtest read source, so the C enum and
//! the Python stub are written out beside it and checked against [`ErrorKind::ALL`] by
//! tests). [`TABLE`] gives each kind its stable number, its C name, its [`ErrorClass`]
//! (which fixes the CLI's exit code) and its Python exception class:
//!
//! | kind | number | C status | class (exit) | Python |
//! | --- | --- | --- | --- | --- |
//! | `invalid_address` | 1 | `EKS6_INVALID_ADDRESS` | bad input (2) | `AddressError` |
//! | `invalid_prefix` | 2 | `EKS6_INVALID_PREFIX` | bad input (2) | `AddressError` |
//! | `invalid_length` | 3 | `EKS6_INVALID_LENGTH` | bad input (2) | `AddressError` |
//! | `out_of_range` | 4 | `EKS6_OUT_OF_RANGE` | bad input (2) | `AddressError` |
//! | `prefix_conflict` | 5 | `EKS6_PREFIX_CONFLICT` | bad input (2) | `AddressError` |
//! | `exhausted` | 6 | `EKS6_EXHAUSTED` | bad input (2) | `ExhaustedError` |
//! | `invalid_url` | 7 | `EKS6_INVALID_URL` | bad input (2) | `AddressError` |
//! | `invalid_argument` | 8 | `EKS6_INVALID_ARGUMENT` | bad input (2) | `ArgumentError` |
//! | `invalid_plan` | 10 | `EKS6_INVALID_PLAN` | bad input (2) | `PlanError` |
//! | `plan_rejected` | 11 | `EKS6_PLAN_REJECTED` | bad input (2) | `PlanError` |
//! | `region_mismatch` | 12 | `EKS6_REGION_MISMATCH` | bad input (2) | `PlanError` |
//! | `aws_invalid_input` | 20 | `EKS6_AWS_INVALID_INPUT` | remote (3) | `AwsError` |
//! | `aws_not_found` | 21 | `EKS6_AWS_NOT_FOUND` | remote (3) | `NotFoundError` |
//! | `aws_conflict` | 22 | `EKS6_AWS_CONFLICT` | remote (3) | `ConflictError` |
//! | `aws_throttled` | 23 | `EKS6_AWS_THROTTLED` | remote (3) | `ThrottledError` |
//! | `aws_service` | 24 | `EKS6_AWS_SERVICE` | remote (3) | `AwsError` |
//! | `aws_network` | 25 | `EKS6_AWS_NETWORK` | remote (3) | `AwsError` |
//! | `aws_credentials` | 26 | `EKS6_AWS_CREDENTIALS` | remote (3) | `CredentialsError` |
//! | `aws_quota` | 27 | `EKS6_AWS_QUOTA` | remote (3) | `QuotaError` |
//! | `timeout` | 30 | `EKS6_TIMEOUT` | time-out (4) | `TimeoutError` |
//! | `cancelled` | 31 | `EKS6_CANCELLED` | cancelled (130) | `CancelledError` |
//! | `io` | 32 | `EKS6_IO` | bad input (2) | `IoError` |
//! | `locked` | 33 | `EKS6_LOCKED` | bad input (2) | `LockedError` |
//! | `probe_refused` | 40 | `EKS6_PROBE_REFUSED` | remote (3) | `ProbeError` |
//! | `probe_target` | 41 | `EKS6_PROBE_TARGET` | bad input (2) | `ProbeTargetError` |
//! | `probe_network` | 42 | `EKS6_PROBE_NETWORK` | remote (3) | `ProbeError` |
//! | `kube_unauthorized` | 50 | `EKS6_KUBE_UNAUTHORIZED` | remote (3) | `KubeUnauthorizedError` |
//! | `kube_api` | 51 | `EKS6_KUBE_API` | remote (3) | `KubeError` |
//! | `kube_network` | 52 | `EKS6_KUBE_NETWORK` | remote (3) | `KubeError` |
//! | `internal` | 90 | `EKS6_INTERNAL` | internal (3) | `InternalError` |
//!
//! Numbers are stable and never reused: a retired kind's number stays in [`RETIRED`].
//! The C-only statuses (null argument, UTF-8, buffer size, panic) live in the C crate,
//! from 100 up. A check or finding that fails is a result, not an error: the CLI's
//! exit 1 has no kind.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The stable kind of an eks6 error; its number and names are in [`TABLE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Address text that does not parse.
    InvalidAddress,
    /// Prefix text that does not parse, or host bits set.
    InvalidPrefix,
    /// A prefix length wrong for the operation.
    InvalidLength,
    /// An index or count out of range.
    OutOfRange,
    /// A prefix outside its parent, in use or not in use.
    PrefixConflict,
    /// No free prefix of the length asked.
    Exhausted,
    /// A URL that cannot be built.
    InvalidUrl,
    /// An argument or option out of its domain (a time-out, a region, an endpoint URL).
    InvalidArgument,
    /// A plan that does not parse.
    InvalidPlan,
    /// A plan with error findings.
    PlanRejected,
    /// A client region other than the plan's.
    RegionMismatch,
    /// AWS refused the input.
    AwsInvalidInput,
    /// A resource that does not exist.
    AwsNotFound,
    /// In use, a dependency, or owned by someone else.
    AwsConflict,
    /// Throttled past the retries.
    AwsThrottled,
    /// A service failure.
    AwsService,
    /// No answer.
    AwsNetwork,
    /// No or bad credentials, or access denied.
    AwsCredentials,
    /// An account quota reached (a limit that can be raised, not throttling).
    AwsQuota,
    /// A wait or call past its limit.
    Timeout,
    /// Cancelled by the caller.
    Cancelled,
    /// Local I/O.
    Io,
    /// Another run holds the plan's lock.
    Locked,
    /// The probe's connection was refused.
    ProbeRefused,
    /// The probe target is not IPv6.
    ProbeTarget,
    /// The probe's connection failed otherwise (unreachable, reset, a malformed answer).
    ProbeNetwork,
    /// The Kubernetes API refused the credentials (401: no access entry, a bad or
    /// expired token).
    KubeUnauthorized,
    /// The Kubernetes API answered with an error (its status and reason are kept).
    KubeApi,
    /// The Kubernetes API could not be reached.
    KubeNetwork,
    /// A bug in eks6, or a local failure it cannot classify.
    Internal,
}

/// What kind of trouble a kind is: it fixes the CLI's exit code and the family of the
/// Python exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Input the caller can fix: text, a plan, an argument, a local file, a held lock.
    BadInput,
    /// AWS or another remote end failed or refused.
    Remote,
    /// A limit ran out.
    Timeout,
    /// The caller cancelled (or the process was told to stop).
    Cancelled,
    /// A bug, or a local failure eks6 cannot classify.
    Internal,
}

impl ErrorClass {
    /// The CLI's exit code: 2 bad input, 3 remote or internal, 4 time-out, 130 cancelled.
    pub const fn exit_code(self) -> u8 {
        match self {
            Self::BadInput => 2,
            Self::Remote | Self::Internal => 3,
            Self::Timeout => 4,
            Self::Cancelled => 130,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// The kind.
    pub kind: ErrorKind,
    /// Its stable number (the C status): never reused for another kind.
    pub code: u32,
    /// Its name in JSON, events and Python (`invalid_address`).
    pub name: &'static str,
    /// Its C status constant (`EKS6_INVALID_ADDRESS`).
    pub c_name: &'static str,
    /// Its class.
    pub class: ErrorClass,
    /// Its Python exception class in `eks6.errors`.
    pub python: &'static str,
}

const fn row(
    kind: ErrorKind,
    code: u32,
    name: &'static str,
    c_name: &'static str,
    class: ErrorClass,
    python: &'static str,
) -> KindInfo {
    KindInfo { kind, code, name, c_name, class, python }
}

use ErrorClass::{BadInput, Cancelled, Internal, Remote, Timeout};

/// Every kind, in number order.
pub const TABLE: &[KindInfo] = &[
    row(ErrorKind::InvalidAddress, 1, "invalid_address", "EKS6_INVALID_ADDRESS", BadInput, "AddressError"),
    row(ErrorKind::InvalidPrefix, 2, "invalid_prefix", "EKS6_INVALID_PREFIX", BadInput, "AddressError"),
    row(ErrorKind::InvalidLength, 3, "invalid_length", "EKS6_INVALID_LENGTH", BadInput, "AddressError"),
    row(ErrorKind::OutOfRange, 4, "out_of_range", "EKS6_OUT_OF_RANGE", BadInput, "AddressError"),
    row(ErrorKind::PrefixConflict, 5, "prefix_conflict", "EKS6_PREFIX_CONFLICT", BadInput, "AddressError"),
    row(ErrorKind::Exhausted, 6, "exhausted", "EKS6_EXHAUSTED", BadInput, "ExhaustedError"),
    row(ErrorKind::InvalidUrl, 7, "invalid_url", "EKS6_INVALID_URL", BadInput, "AddressError"),
    row(ErrorKind::InvalidArgument, 8, "invalid_argument", "EKS6_INVALID_ARGUMENT", BadInput, "ArgumentError"),
    row(ErrorKind::InvalidPlan, 10, "invalid_plan", "EKS6_INVALID_PLAN", BadInput, "PlanError"),
    row(ErrorKind::PlanRejected, 11, "plan_rejected", "EKS6_PLAN_REJECTED", BadInput, "PlanError"),
    row(ErrorKind::RegionMismatch, 12, "region_mismatch", "EKS6_REGION_MISMATCH", BadInput, "PlanError"),
    row(ErrorKind::AwsInvalidInput, 20, "aws_invalid_input", "EKS6_AWS_INVALID_INPUT", Remote, "AwsError"),
    row(ErrorKind::AwsNotFound, 21, "aws_not_found", "EKS6_AWS_NOT_FOUND", Remote, "NotFoundError"),
    row(ErrorKind::AwsConflict, 22, "aws_conflict", "EKS6_AWS_CONFLICT", Remote, "ConflictError"),
    row(ErrorKind::AwsThrottled, 23, "aws_throttled", "EKS6_AWS_THROTTLED", Remote, "ThrottledError"),
    row(ErrorKind::AwsService, 24, "aws_service", "EKS6_AWS_SERVICE", Remote, "AwsError"),
    row(ErrorKind::AwsNetwork, 25, "aws_network", "EKS6_AWS_NETWORK", Remote, "AwsError"),
    row(ErrorKind::AwsCredentials, 26, "aws_credentials", "EKS6_AWS_CREDENTIALS", Remote, "CredentialsError"),
    row(ErrorKind::AwsQuota, 27, "aws_quota", "EKS6_AWS_QUOTA", Remote, "QuotaError"),
    row(ErrorKind::Timeout, 30, "timeout", "EKS6_TIMEOUT", Timeout, "TimeoutError"),
    row(ErrorKind::Cancelled, 31, "cancelled", "EKS6_CANCELLED", Cancelled, "CancelledError"),
    row(ErrorKind::Io, 32, "io", "EKS6_IO", BadInput, "IoError"),
    row(ErrorKind::Locked, 33, "locked", "EKS6_LOCKED", BadInput, "LockedError"),
    row(ErrorKind::ProbeRefused, 40, "probe_refused", "EKS6_PROBE_REFUSED", Remote, "ProbeError"),
    row(ErrorKind::ProbeTarget, 41, "probe_target", "EKS6_PROBE_TARGET", BadInput, "ProbeTargetError"),
    row(ErrorKind::ProbeNetwork, 42, "probe_network", "EKS6_PROBE_NETWORK", Remote, "ProbeError"),
    row(
        ErrorKind::KubeUnauthorized,
        50,
        "kube_unauthorized",
        "EKS6_KUBE_UNAUTHORIZED",
        Remote,
        "KubeUnauthorizedError",
    ),
    row(ErrorKind::KubeApi, 51, "kube_api", "EKS6_KUBE_API", Remote, "KubeError"),
    row(ErrorKind::KubeNetwork, 52, "kube_network", "EKS6_KUBE_NETWORK", Remote, "KubeError"),
    row(ErrorKind::Internal, 90, "internal", "EKS6_INTERNAL", Internal, "InternalError"),
];

/// Numbers of retired kinds: never given to a new kind.
pub const RETIRED: &[u32] = &[];

const fn kinds<const N: usize>() -> [ErrorKind; N] {
    let mut out = [ErrorKind::Internal; N];
    let mut i = 0;
    while i < N {
        out[i] = TABLE[i].kind;
        i += 1;
    }
    out
}

impl ErrorKind {
    /// Every kind, in number order (from [`TABLE`]).
    pub const ALL: [ErrorKind; TABLE.len()] = kinds();

    /// The stable number (the C status).
    pub fn code(self) -> u32 {
        self.info().code
    }

    /// The kind's row of [`TABLE`].
    pub fn info(self) -> &'static KindInfo {
        TABLE.iter().find(|r| r.kind == self).expect("every ErrorKind has a row in error::TABLE (tested)")
    }

    /// The kind's name (`invalid_address`), as in JSON.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The kind's class.
    pub fn class(self) -> ErrorClass {
        self.info().class
    }

    /// The CLI's exit code for this kind (from its class).
    pub fn exit_code(self) -> u8 {
        self.class().exit_code()
    }

    /// The kind of a stable number.
    pub fn from_code(code: u32) -> Option<Self> {
        TABLE.iter().find(|r| r.code == code).map(|r| r.kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What every eks6 error tells besides its message, so that each surface maps errors in
/// one place: the C status and message, the Python exception and its attributes, the
/// CLI's exit code and JSON error document.
pub trait ErrorDetails: std::error::Error {
    /// The stable kind.
    fn kind(&self) -> ErrorKind;
    /// The eks6 error this one wraps, whose details it shares (by default, every detail
    /// below is the wrapped error's).
    fn inner(&self) -> Option<&dyn ErrorDetails> {
        None
    }
    /// AWS's error code (`DependencyViolation`), when AWS answered with one.
    fn aws_code(&self) -> Option<&str> {
        self.inner()?.aws_code()
    }
    /// AWS's own message, when AWS answered with one.
    fn aws_message(&self) -> Option<&str> {
        self.inner()?.aws_message()
    }
    /// The findings of a rejected plan or an unfit network.
    fn findings(&self) -> Option<&[crate::plan::Finding]> {
        self.inner()?.findings()
    }
    /// The offending input text (address, prefix, URL part, argument).
    fn input(&self) -> Option<&str> {
        self.inner()?.input()
    }
    /// The HTTP status a Kubernetes API server answered with.
    fn http_status(&self) -> Option<u16> {
        self.inner()?.http_status()
    }
    /// The status reason a Kubernetes API server gave (`Forbidden`, `NotFound`).
    fn reason(&self) -> Option<&str> {
        self.inner()?.reason()
    }
    /// The byte offset of the problem in [`input`](Self::input).
    fn offset(&self) -> Option<usize> {
        self.inner()?.offset()
    }
}

/// An argument outside its domain: a time limit that is not a finite positive number of
/// seconds, a malformed region or endpoint URL, a command-line option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {message}")]
pub struct ArgumentError {
    /// The argument (`--timeout`, `wait time scale`, `region`).
    pub what: String,
    /// What is wrong with it.
    pub message: String,
}

impl ArgumentError {
    /// An error about `what`.
    pub fn new(what: impl Into<String>, message: impl Into<String>) -> Self {
        Self { what: what.into(), message: message.into() }
    }
}

impl ErrorDetails for ArgumentError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// A number of seconds as a time limit: finite and above zero. The one rule for every
/// time option of the CLI, C and Python.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(eks6::error::positive_seconds(1.5, "--timeout"), Ok(Duration::from_millis(1500)));
/// let e = eks6::error::positive_seconds(f64::INFINITY, "--timeout").unwrap_err();
/// assert_eq!(e.to_string(), "--timeout: inf seconds: give a finite number of seconds above zero");
/// ```
pub fn positive_seconds(secs: f64, what: &str) -> Result<std::time::Duration, ArgumentError> {
    match std::time::Duration::try_from_secs_f64(secs) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(ArgumentError::new(what, format!("{secs} seconds: give a finite number of seconds above zero"))),
    }
}

/// At most `max` characters of `text`, with a note of how much was left out: error
/// messages quote input, and input can be huge.
///
/// ```
/// assert_eq!(eks6::error::quote_limited("abcdef", 3), "\"abc\"… (6 characters in all)");
/// assert_eq!(eks6::error::quote_limited("abc", 3), "\"abc\"");
/// ```
pub fn quote_limited(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}… ({} characters in all)", &text[..cut], text.chars().count()),
    }
}

/// How many characters of an input an error message quotes at most.
pub const QUOTE_MAX: usize = 200;

/// Text quoted as `{:?}` quotes it, at most [`QUOTE_MAX`] characters of it.
pub(crate) struct Q<'a>(pub &'a str);

impl fmt::Debug for Q<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote_limited(self.0, QUOTE_MAX))
    }
}

impl ErrorDetails for crate::net::NetError {
    fn kind(&self) -> ErrorKind {
        crate::net::NetError::kind(self)
    }
    fn input(&self) -> Option<&str> {
        crate::net::NetError::input(self)
    }
    fn offset(&self) -> Option<usize> {
        crate::net::NetError::offset(self)
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

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn every_variant_has_one_row_in_number_order() {
        for k in ErrorKind::VARIANTS {
            assert_eq!(TABLE.iter().filter(|r| r.kind == *k).count(), 1, "{k:?} needs exactly one row in TABLE");
        }
        assert_eq!(ErrorKind::ALL.len(), ErrorKind::VARIANTS.len());
        for w in TABLE.windows(2) {
            assert!(w[0].code < w[1].code, "TABLE is in number order, without repeats");
        }
        for r in TABLE {
            assert!(!RETIRED.contains(&r.code), "{:?} reuses a retired number", r.kind);
            assert!(r.code > 0 && r.code < 100, "0 is success, and numbers from 100 are the C crate's own");
            assert_eq!(serde_json::to_value(r.kind).unwrap(), r.name, "the JSON name is the table's");
            assert_eq!(format!("EKS6_{}", r.name.to_ascii_uppercase()), r.c_name);
            assert_eq!(ErrorKind::from_code(r.kind.code()), Some(r.kind));
        }
    }

    #[test]
    fn classes_give_the_exit_codes() {
        assert_eq!(ErrorKind::InvalidAddress.exit_code(), 2);
        assert_eq!(ErrorKind::Io.exit_code(), 2);
        assert_eq!(ErrorKind::Locked.exit_code(), 2);
        assert_eq!(ErrorKind::AwsNetwork.exit_code(), 3);
        assert_eq!(ErrorKind::Internal.exit_code(), 3);
        assert_eq!(ErrorKind::Timeout.exit_code(), 4);
        assert_eq!(ErrorKind::Cancelled.exit_code(), 130);
    }

    #[test]
    fn the_doc_table_matches() {
        let doc = include_str!("error.rs");
        for r in TABLE {
            let line = format!(
                "| `{}` | {} | `{}` | {} | `{}` |",
                r.name,
                r.kind.code(),
                r.c_name,
                match r.class {
                    ErrorClass::BadInput => "bad input (2)",
                    ErrorClass::Remote => "remote (3)",
                    ErrorClass::Timeout => "time-out (4)",
                    ErrorClass::Cancelled => "cancelled (130)",
                    ErrorClass::Internal => "internal (3)",
                },
                r.python
            );
            assert!(doc.contains(&format!("//! {line}")), "the module doc lacks the row {line}");
        }
    }
}
