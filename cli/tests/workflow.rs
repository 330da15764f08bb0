//! The `eks6` program's `plan`, `up` and `down` against the emulator: streams, exit
//! codes, `--profile` (a role profile, as a user would set one up), and no secret in
//! any output.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use eks6_tests::emulator::{Emulator, TEST_KEY_ID, TEST_SECRET};
use eks6_tests::fixtures::CliSetup;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What must never be printed or stored: the test credentials, and any trace of a
/// signed request or of temporary credentials (the role profile's session token comes
/// from the emulator, so its value is unknown here: its markers are searched instead).
const SECRET_MARKERS: &[&str] = &[
    TEST_SECRET,
    TEST_KEY_ID,
    "Signature=",
    "x-amz-security-token",
    "X-Amz-Security-Token",
    "SessionToken",
    "SecretAccessKey",
    "aws_secret_access_key",
    "AWS4-HMAC-SHA256",
];

fn assert_no_secret(text: &str, what: &str) {
    for m in SECRET_MARKERS {
        assert!(!text.contains(m), "{m:?} appears in {what}: {text}");
    }
}

fn no_secrets(o: &Output, dir: &Path) {
    assert_no_secret(&text(&o.stdout), "stdout");
    assert_no_secret(&text(&o.stderr), "stderr (EKS6_LOG=trace)");
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            assert_no_secret(&std::fs::read_to_string(&p).unwrap(), &p.display().to_string());
        }
    }
}

#[test]
fn plan_exit_codes() {
    let s = CliSetup::new();
    let o = s.run(&["plan", "--config", &s.plan()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("/64 #3 of the /56"));
    let bad = s.dir.join("bad.toml");
    std::fs::write(&bad, std::fs::read_to_string(s.plan()).unwrap().replace("1.21", "1.20")).unwrap();
    let o = s.run(&["plan", "--config", bad.to_str().unwrap(), "--output", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "version-minimum"));
    std::fs::write(&bad, "name = \"x\"\ncolour = 1\n").unwrap();
    let o = s.run(&["plan", "--config", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("line 2"), "{}", text(&o.stderr));
}

#[test]
fn up_down_through_a_role_profile() {
    let s = CliSetup::new();
    let plan = s.plan();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint, "--poll-interval", "0.01"];
    let mut args = vec!["up", "--config", &plan, "--output", "json"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is one JSON document");
    assert_eq!(report["workflow"], "up");
    assert_eq!(report["steps"].as_array().unwrap().len(), 9);
    assert!(text(&o.stderr).contains("cluster: waiting for cluster AWSNewsBlog: CREATING"), "{}", text(&o.stderr));
    assert!(s.dir.join("cluster.eks6-journal.json").exists(), "journal beside the plan");
    no_secrets(&o, &s.dir);

    // A region other than the plan's: refused, exit 2, nothing on stdout; with --output
    // json, the error as the one document.
    let mut args = vec!["up", "--config", &plan, "--region", "eu-west-1"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    args.extend(["--output", "json"]);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["error"]["kind"], "region_mismatch", "{v}");
    assert_eq!(v["error"]["exit"], 2, "{v}");

    let mut args = vec!["down", "--cluster", "AWSNewsBlog", "--region", "us-west-2", "--journal"];
    let journal = s.dir.join("cluster.eks6-journal.json").display().to_string();
    args.push(&journal);
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("down AWSNewsBlog in us-west-2"));
    no_secrets(&o, &s.dir);
}

/// Ctrl-C (SIGINT) during `up`: it stops at the next safe point and exits 130 with the
/// journal intact; `up` again resumes to the end, and `down` clears everything.
#[test]
fn interrupted_up_exits_130_and_resumes() {
    let s = CliSetup::new();
    let plan = s.plan();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint];
    let mut args = vec!["up", "--config", &plan, "--poll-interval", "1"];
    args.extend(common);
    let mut child = s.command(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut before = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let waiting = line.contains("waiting for cluster AWSNewsBlog: CREATING");
        before.push(line);
        if waiting {
            break;
        }
    }
    assert!(before.last().is_some_and(|l| l.contains("waiting for cluster")), "{before:?}");
    interrupt(&child);
    let after: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{after:?}");
    assert!(after.iter().any(|l| l.contains("interrupted; stopping at the next safe point")), "{after:?}");
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.dir.join("cluster.eks6-journal.json")).unwrap())
            .expect("journal intact");
    assert!(journal.is_object());

    let mut args = vec!["up", "--config", &plan, "--poll-interval", "0.01", "--output", "json"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(0), "resumed: {}", text(&o.stderr));
    let mut args = vec!["down", "--config", &plan, "--poll-interval", "0.01"];
    args.extend(common);
    assert_eq!(s.run(&args).status.code(), Some(0));
}

/// Ctrl-C during a read-only command (a probe waiting on a server that never answers):
/// exit 130 at once.
#[test]
fn interrupted_probe_exits_130() {
    let listener = std::net::TcpListener::bind("[::1]:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let s = CliSetup::new();
    let mut child = s
        .command(&["probe", "::1", "--port", &port, "--timeout", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The connection is queued at the listener: the probe now waits for an answer.
    let (_conn, _) = listener.accept().unwrap();
    interrupt(&child);
    let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{err}");
    assert!(err.contains("eks6: interrupted"), "{err}");
}

/// `verify` after `up`: exit 0 with the checks it could run; `--strict` exits 1 and names
/// what was skipped (here the HTTP probe: no address given).
#[test]
fn verify_strict_fails_on_skipped_checks() {
    let s = CliSetup::new();
    let plan = s.plan();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint, "--poll-interval", "0.01"];
    let mut args = vec!["up", "--config", &plan];
    args.extend(common);
    assert_eq!(s.run(&args).status.code(), Some(0));
    let mut args = vec!["verify", "--config", &plan, "--output", "json"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let probe = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "http-probe").cloned();
    assert_eq!(probe.map(|c| c["status"].clone()), Some(serde_json::json!("skipped")), "{report}");
    args.push("--strict");
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("eks6: --strict: skipped: addresses, http-probe"), "{}", text(&o.stderr));
    let mut args = vec!["down", "--config", &plan];
    args.extend(common);
    assert_eq!(s.run(&args).status.code(), Some(0));
}

/// Sends SIGINT, as Ctrl-C does.
fn interrupt(child: &std::process::Child) {
    let st = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(st.success(), "kill -INT");
}

/// Time options that are not a finite number of seconds above zero: usage errors (exit 2,
/// a message naming the value), before any call.
#[test]
fn bad_times_exit_2() {
    let s = CliSetup::new();
    let plan = s.plan();
    for (flag, value) in [("--timeout", "inf"), ("--timeout", "1e300"), ("--poll-interval", "0"), ("--timeout", "-5")] {
        let o = s.run(&["up", "--config", &plan, "--profile", "acct", flag, value]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(value), "{flag} {value}: {}", text(&o.stderr));
        assert!(o.stdout.is_empty());
    }
    let o = s.run(&["probe", "::1", "--timeout", "NaN"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

/// `--role-arn` with `--endpoint-url` alone: the STS call for the role goes to the
/// endpoint too (no `AWS_ENDPOINT_URL`: real STS is out of reach, so a call that went
/// there would fail), and the work lands in the role's account.
#[test]
fn role_arn_follows_the_endpoint() {
    let s = CliSetup::new();
    let plan = s.plan();
    let role = format!("arn:aws:iam::{}:role/eks6-cli", s.account);
    let common = ["--profile", "base", "--role-arn", &role, "--endpoint-url", &s.endpoint, "--poll-interval", "0.01"];
    let mut args = vec!["up", "--config", &plan];
    args.extend(common);
    let o = s.command(&args).env_remove("AWS_ENDPOINT_URL").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    no_secrets(&o, &s.dir);
    let parsed = eks6::plan::ClusterPlan::from_toml(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let inventory = rt.block_on(Emulator::shared().inventory(&s.account, &parsed));
    assert!(inventory.keys().any(|k| k.starts_with("cluster")), "up worked in the role's account: {inventory:?}");
    let mut args = vec!["down", "--config", &plan];
    args.extend(common);
    let o = s.command(&args).env_remove("AWS_ENDPOINT_URL").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(rt.block_on(Emulator::shared().inventory(&s.account, &parsed)).is_empty(), "down in the same account");
}

#[test]
fn wait_past_timeout_exits_4_and_down_cleans_up() {
    let s = CliSetup::new();
    let plan = s.plan();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint];
    let mut args = vec!["up", "--config", &plan, "--poll-interval", "0.001", "--timeout", "0.001"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("timed out after 1ms waiting for cluster AWSNewsBlog"), "{err}");
    let mut args = vec!["down", "--config", &plan, "--poll-interval", "0.01"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
