//! The EKS bearer token, made here rather than by `aws eks get-token`: `k8s-aws-v1.`
//! and the unpadded URL-safe base64 of a SigV4-presigned `GET` of STS
//! `GetCallerIdentity`, the `x-k8s-aws-id` header (the cluster's name) signed, valid for
//! 60 s of presigning (`X-Amz-Expires=60`); EKS (aws-iam-authenticator,
//! `pkg/token/token.go`) accepts it for 15 minutes from its `X-Amz-Date`, and clients
//! refresh it after 14, as the AWS CLI does.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde::{Deserialize, Serialize};

/// The token's prefix (aws-iam-authenticator's `v1Prefix`).
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";

/// The header that names the cluster, signed into the URL.
pub const CLUSTER_HEADER: &str = "x-k8s-aws-id";

/// How long the presigned URL says it is valid (`X-Amz-Expires`), as the AWS CLI and
/// aws-iam-authenticator write it.
pub const PRESIGN_SECONDS: u64 = 60;

/// How long a client may use a token: EKS takes it for 15 minutes after its signing
/// time; the AWS CLI says 14, to be safe.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// A token and when to stop using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksToken {
    /// `k8s-aws-v1.<base64url>`.
    pub token: String,
    /// Signing time plus [`TOKEN_LIFETIME`].
    pub expires: SystemTime,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the EKS token: {0}")]
pub struct TokenError(pub String);

/// The STS host of a region (`sts.<region>.amazonaws.com`, `.amazonaws.com.cn` in China).
pub fn sts_host(region: &str) -> String {
    let domain = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("sts.{region}.{domain}")
}

/// The token for `cluster` signed with `credentials` for `region` at `now`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use aws_credential_types::Credentials;
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "doc");
/// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_460_800);
/// let t = eks6::k8s::token_at(&creds, "us-west-2", "AWSNewsBlog", at)?;
/// assert!(t.token.starts_with("k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20v"));
/// let url = eks6::k8s::token_url(&t.token).unwrap();
/// assert!(url.contains("X-Amz-Expires=60") && url.contains("x-k8s-aws-id"));
/// # Ok::<(), eks6::k8s::TokenError>(())
/// ```
pub fn token_at(
    credentials: &Credentials,
    region: &str,
    cluster: &str,
    now: SystemTime,
) -> Result<EksToken, TokenError> {
    let err = |e: &dyn std::fmt::Display| TokenError(e.to_string());
    let host = sts_host(region);
    let url = format!("https://{host}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(PRESIGN_SECONDS));
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| err(&e))?
        .into();
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        [("host", host.as_str()), (CLUSTER_HEADER, cluster)].into_iter(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| err(&e))?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| err(&e))?.into_parts();
    let mut request = http::Request::builder().method("GET").uri(url.as_str()).body(()).map_err(|e| err(&e))?;
    instructions.apply_to_request_http1x(&mut request);
    let signed = request.uri().to_string();
    Ok(EksToken { token: format!("{TOKEN_PREFIX}{}", base64url(signed.as_bytes())), expires: now + TOKEN_LIFETIME })
}

/// The presigned URL inside a token (the base64url after the prefix), if it is one.
pub fn token_url(token: &str) -> Option<String> {
    let b64 = token.strip_prefix(TOKEN_PREFIX)?;
    String::from_utf8(unbase64url(b64)?).ok()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded URL-safe base64 (RFC 4648 section 5, Go's `base64.RawURLEncoding`).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    Some(out)
}

/// The `ExecCredential` a kubeconfig's `exec` entry reads (what `aws eks get-token`
/// prints): `client.authentication.k8s.io/v1beta1`, or the API version
/// `KUBERNETES_EXEC_INFO` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecCredential {
    /// `ExecCredential`.
    pub kind: String,
    /// `client.authentication.k8s.io/v1beta1` or `/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Always empty.
    pub spec: serde_json::Value,
    /// The token and its expiry.
    pub status: ExecCredentialStatus,
}

/// The status of an [`ExecCredential`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecCredentialStatus {
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(rename = "expirationTimestamp")]
    pub expiration_timestamp: String,
    /// The bearer token.
    pub token: String,
}

/// The API version of `ExecCredential` by default (as the AWS CLI writes it).
pub const EXEC_API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

impl ExecCredential {
    /// The credential for a token, in the API version `exec_info` (the text of
    /// `KUBERNETES_EXEC_INFO`, if set) asks for.
    pub fn new(token: &EksToken, exec_info: Option<&str>) -> Self {
        let asked = exec_info
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .and_then(|v| v["apiVersion"].as_str().map(str::to_string))
            .filter(|v| v.starts_with("client.authentication.k8s.io/"));
        let secs = token.expires.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let day = crate::plan::Date::from_unix_days((secs / 86_400) as i64);
        let t = secs % 86_400;
        Self {
            kind: "ExecCredential".into(),
            api_version: asked.unwrap_or_else(|| EXEC_API_V1BETA1.into()),
            spec: serde_json::json!({}),
            status: ExecCredentialStatus {
                expiration_timestamp: format!("{day}T{:02}:{:02}:{:02}Z", t / 3600, t / 60 % 60, t % 60),
                token: token.token.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_without_padding() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "https://sts.us-west-2.amazonaws.com/?a=~&b=+"] {
            let e = base64url(s.as_bytes());
            assert!(!e.contains('=') && !e.contains('+') && !e.contains('/'), "{e}");
            assert_eq!(unbase64url(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(b"fo"), "Zm8");
    }

    #[test]
    fn exec_credential_shape() {
        let t = EksToken {
            token: "k8s-aws-v1.x".into(),
            expires: SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_461_640),
        };
        let c = ExecCredential::new(&t, None);
        assert_eq!(c.api_version, EXEC_API_V1BETA1);
        assert_eq!(c.status.expiration_timestamp, "2025-11-30T00:14:00Z");
        let v1 = ExecCredential::new(&t, Some(r#"{"apiVersion": "client.authentication.k8s.io/v1", "spec": {}}"#));
        assert_eq!(v1.api_version, "client.authentication.k8s.io/v1");
        assert_eq!(serde_json::to_value(&c).unwrap()["status"]["expirationTimestamp"], "2025-11-30T00:14:00Z");
    }
}
