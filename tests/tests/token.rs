//! The EKS token eks6 makes, against the AWS CLI's own (`aws eks get-token`, PyPI
//! `awscli`, run by `tests/oracle/aws_get_token.py` on a frozen clock with the same
//! credentials): the decoded URL's host, path, every query parameter and the signature
//! agree, with and without a session token, in three regions (one in China).

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use eks6::k8s::{ExecCredential, token_at, token_url};
use eks6_tests::emulator::{python, repo_root};

/// 2026-11-30T12:34:56Z.
const AT: u64 = 1_796_042_096;
const AT_TEXT: &str = "2026-11-30T12:34:56";

/// The AWS CLI's ExecCredential for these credentials at [`AT`].
fn aws_cli(creds: &Credentials, region: &str, cluster: &str) -> ExecCredential {
    let mut cmd = Command::new(python());
    cmd.arg(repo_root().join("tests/oracle/aws_get_token.py"))
        .args([AT_TEXT, "--region", region, "eks", "get-token", "--cluster-name", cluster])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key());
    if let Some(t) = creds.session_token() {
        cmd.env("AWS_SESSION_TOKEN", t);
    }
    let out = cmd.output().expect("run the AWS CLI");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the AWS CLI printed an ExecCredential")
}

/// A presigned URL's parts: scheme and host, path, and each query parameter decoded.
fn parts(url: &str) -> (String, String, BTreeMap<String, String>) {
    let (head, query) = url.split_once('?').expect("a query");
    let (origin, path) =
        head.trim_start_matches("https://").split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap();
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned();
    let params = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect();
    (origin.to_string(), path, params)
}

#[test]
fn token_matches_the_aws_cli() {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(AT);
    let plain = Credentials::new("AKIAEKS6ORACLE000001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "t");
    // A session token with the characters the two encoders have treated differently.
    let session = Credentials::new(
        "ASIAEKS6ORACLE000002",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        Some("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD~a+b/c=".into()),
        None,
        "t",
    );
    for (region, cluster) in [("us-west-2", "AWSNewsBlog"), ("eu-central-1", "shop_ipv6-2"), ("cn-north-1", "c")] {
        for creds in [&plain, &session] {
            let ours = token_at(creds, region, cluster, at).unwrap();
            let theirs = aws_cli(creds, region, cluster);
            let (host, path, mut q) = parts(&token_url(&ours.token).unwrap());
            let (their_host, their_path, mut their_q) =
                parts(&token_url(&theirs.status.token).expect("a k8s-aws-v1 token"));
            assert_eq!((&host, &path), (&their_host, &their_path), "{region}");
            // The signature last, so that a difference elsewhere names its parameter first.
            let (sig, their_sig) = (q.remove("X-Amz-Signature"), their_q.remove("X-Amz-Signature"));
            assert_eq!(q, their_q, "{region}, session token {}", creds.session_token().is_some());
            assert_eq!(sig, their_sig, "{region}: the signatures differ");
            assert!(sig.is_some_and(|s| s.len() == 64));
            assert_eq!(q.get("X-Amz-Expires").map(String::as_str), Some("60"));
            assert_eq!(q.get("X-Amz-SignedHeaders").map(String::as_str), Some("host;x-k8s-aws-id"));
            assert_eq!(q.get("X-Amz-Date").map(String::as_str), Some("20261130T123456Z"));
            assert_eq!(q.get("X-Amz-Security-Token").map(String::as_str), creds.session_token(), "{region}");
            // The same expiry, in the AWS CLI's shape.
            let ours = ExecCredential::new(&ours, None);
            assert_eq!(ours.status.expiration_timestamp, theirs.status.expiration_timestamp);
            assert_eq!(
                (ours.kind.as_str(), ours.api_version.as_str()),
                (theirs.kind.as_str(), theirs.api_version.as_str())
            );
        }
    }
}

/// The plan's default Kubernetes version, the `k8s-openapi` feature the workspace
/// compiles and the test control plane's `k8s.io/kubernetes` release are one version,
/// set in one place (`eks6::plan::KUBERNETES_VERSION`) and checked here.
#[test]
fn the_kubernetes_version_agrees_in_its_three_places() {
    let v = eks6::plan::KUBERNETES_VERSION;
    let root = eks6_tests::emulator::repo_root();
    let gomod = std::fs::read_to_string(root.join("tests/controlplane/go.mod")).unwrap();
    let release = gomod
        .lines()
        .find_map(|l| l.trim().strip_prefix("k8s.io/kubernetes v"))
        .expect("k8s.io/kubernetes in tests/controlplane/go.mod");
    assert!(release.starts_with(&format!("{v}.")), "the control plane is {release}, the plan's default {v}");
    for line in gomod.lines().filter(|l| l.contains("=> k8s.io/")) {
        let minor = v.split('.').nth(1).unwrap();
        assert!(line.contains(&format!(" v0.{minor}.")), "a staging module of another release: {line}");
    }
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let openapi = cargo.lines().find(|l| l.starts_with("k8s-openapi")).expect("k8s-openapi in Cargo.toml");
    let feature = format!("\"v{}\"", v.replace('.', "_"));
    assert!(openapi.contains(&feature), "k8s-openapi's feature is not {feature}: {openapi}");
    let text = eks6_tests::fixtures::walkthrough_text("X");
    let without: String =
        text.lines().filter(|l| !l.starts_with("kubernetes_version")).map(|l| format!("{l}\n")).collect();
    let plan = eks6::plan::ClusterPlan::from_toml(&without).unwrap();
    assert_eq!(plan.kubernetes_version, v);
}
