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
    std::fs::write(&bad, eks6_tests::fixtures::walkthrough_text("1.20")).unwrap();
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
    assert_eq!(report["steps"].as_array().unwrap().len(), eks6::workflow::UpStep::all().len());
    assert!(text(&o.stderr).contains("cluster: waiting for cluster AWSNewsBlog: CREATING"), "{}", text(&o.stderr));
    // EKS6_LOG into a pipe: plain text, no colour codes.
    assert!(!text(&o.stderr).contains('\x1b'), "colour codes in a pipe");
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
    let mut args = vec!["up", "--config", &plan, "--poll-interval", "0.001", "--wait-timeout", "0.001"];
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

/// The emulator's SDK clients of the setup's account.
fn sdk(s: &CliSetup) -> (aws_sdk_ec2::Client, aws_sdk_eks::Client) {
    tokio::runtime::Runtime::new().unwrap().block_on(Emulator::shared().sdk(&s.account, "us-west-2"))
}

fn inventory(s: &CliSetup) -> std::collections::BTreeMap<String, String> {
    let plan = eks6::plan::ClusterPlan::from_file(s.plan()).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(Emulator::shared().inventory(&s.account, &plan))
}

fn json_error(o: &Output) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    v["error"].clone()
}

/// `--profile` beats keys in the environment, as with the AWS CLI (they would work in
/// another account here); a profile that does not exist is bad input, named.
#[test]
fn profile_beats_environment_keys_and_a_missing_one_is_named() {
    let s = CliSetup::new();
    let plan = s.plan();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint, "--poll-interval", "0.01"];
    let with_env_keys = |args: &[&str]| {
        s.command(args)
            .env("AWS_ACCESS_KEY_ID", TEST_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET)
            .output()
            .unwrap()
    };
    let mut args = vec!["up", "--config", &plan];
    args.extend(common);
    let o = with_env_keys(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(inventory(&s).keys().any(|k| k.starts_with("cluster")), "up worked in the profile's account");
    let mut args = vec!["down", "--config", &plan];
    args.extend(common);
    assert_eq!(with_env_keys(&args).status.code(), Some(0));
    assert!(inventory(&s).is_empty());

    let o = with_env_keys(&["verify", "--config", &plan, "--profile", "nosuch", "--output", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("\"nosuch\""), "{}", text(&o.stderr));
    assert_eq!(json_error(&o)["kind"], "invalid_argument");
}

/// Two runs of one plan take one lock, whatever their journals; SIGTERM stops a run as
/// cleanly as Ctrl-C.
#[test]
fn one_lock_per_plan_and_sigterm_stops_cleanly() {
    let s = CliSetup::new();
    let plan = s.plan();
    let j1 = s.dir.join("one.json").display().to_string();
    let j2 = s.dir.join("two.json").display().to_string();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint];
    let mut args = vec!["up", "--config", &plan, "--journal", &j1, "--poll-interval", "1"];
    args.extend(common);
    let mut child = s.command(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("waiting for cluster AWSNewsBlog") {
            break;
        }
    }
    let mut args = vec!["up", "--config", &plan, "--journal", &j2, "--output", "json"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(json_error(&o)["kind"], "locked");
    assert!(text(&o.stderr).contains("holds its lock"), "{}", text(&o.stderr));
    assert!(!Path::new(&j2).exists(), "the second run wrote nothing");

    let st = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let after: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(child.wait().unwrap().code(), Some(130), "{after:?}");
    assert!(after.iter().any(|l| l.contains("terminated (SIGTERM); stopping at the next safe point")), "{after:?}");
    let journal: serde_json::Value = serde_json::from_slice(&std::fs::read(&j1).unwrap()).expect("journal intact");
    assert!(journal["resources"]["vpc"].is_object());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&j1).unwrap().permissions().mode() & 0o777, 0o600, "the journal is owner-only");
    let locks = s.dir.join(".local/state/eks6/locks");
    for l in std::fs::read_dir(&locks).unwrap() {
        assert_eq!(l.unwrap().metadata().unwrap().permissions().mode() & 0o777, 0o600, "lock files are owner-only");
    }

    let mut args = vec!["up", "--config", &plan, "--journal", &j1, "--poll-interval", "0.01"];
    args.extend(common);
    assert_eq!(s.run(&args).status.code(), Some(0), "resumed");
    let mut args = vec!["down", "--config", &plan, "--journal", &j1, "--poll-interval", "0.01"];
    args.extend(common);
    assert_eq!(s.run(&args).status.code(), Some(0));
}

/// A second resource with this plan's tags where one is expected stops `up` with both
/// named; `down` removes both.
#[test]
fn duplicates_stop_up_and_down_removes_them_all() {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let s = CliSetup::new();
    let plan = s.plan();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint, "--poll-interval", "0.01"];
    let mut args = vec!["up", "--config", &plan];
    args.extend(common);
    assert_eq!(s.run(&args).status.code(), Some(0));
    let pid = eks6::plan::plan_id("us-west-2", "AWSNewsBlog");
    let (ec2, _) = sdk(&s);
    let extra = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let spec = TagSpecification::builder()
            .resource_type(ResourceType::Vpc)
            .tags(Tag::builder().key("eks6:plan-id").value(&pid).build())
            .tags(Tag::builder().key("eks6:cluster").value("AWSNewsBlog").build())
            .tags(Tag::builder().key("eks6:role").value("vpc").build())
            .build();
        let v = ec2.create_vpc().cidr_block("10.7.0.0/16").tag_specifications(spec).send().await.unwrap();
        v.vpc().unwrap().vpc_id().unwrap().to_string()
    });
    // Without the journal, the tags are all `up` has to go on.
    std::fs::remove_file(s.dir.join("cluster.eks6-journal.json")).unwrap();
    let mut args = vec!["up", "--config", &plan, "--output", "json"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let err = json_error(&o);
    assert_eq!(err["kind"], "aws_conflict");
    let message = err["messages"][0].as_str().unwrap();
    assert!(message.contains(&extra) && message.contains("eks6 down"), "{message}");
    let mut args = vec!["down", "--cluster", "AWSNewsBlog"];
    args.extend(common);
    let o = s.command(&args).env("AWS_REGION", "us-west-2").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "down --cluster takes AWS_REGION: {}", text(&o.stderr));
    assert!(inventory(&s).is_empty(), "both VPCs gone");
}

/// A TCP server on a free port of 127.0.0.1 that does `serve` with each connection, in a
/// thread.
fn server(serve: fn(std::net::TcpStream)) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || serve(c));
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Each failure to reach AWS says what it was, with its own kind and exit code.
#[test]
fn errors_say_what_happened() {
    let s = CliSetup::new();
    let verify = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["verify", "--cluster", "c1", "--output", "json"];
        args.extend(extra);
        if !extra.contains(&"--region") {
            args.extend(["--region", "us-west-2"]);
        }
        let mut cmd = s.command(&args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd.env("AWS_EC2_METADATA_DISABLED", "true").output().unwrap();
        (o.status.code(), json_error(&o), text(&o.stderr))
    };
    // No credentials anywhere (no profile, no keys, no metadata).
    let (code, err, stderr) = verify(&["--endpoint-url", &s.endpoint], &[]);
    assert_eq!((code, err["kind"].as_str()), (Some(3), Some("aws_credentials")), "{stderr}");
    assert!(stderr.contains("no AWS credentials") && stderr.contains("AWS_ACCESS_KEY_ID"), "{stderr}");
    // An endpoint that is not a URL, a region that is not one: bad input.
    let (code, err, stderr) = verify(&["--profile", "base", "--endpoint-url", "not a url"], &[]);
    assert_eq!((code, err["kind"].as_str()), (Some(2), Some("invalid_argument")), "{stderr}");
    let (code, err, stderr) = verify(&["--profile", "base", "--region", "not a region!"], &[]);
    assert_eq!((code, err["kind"].as_str()), (Some(2), Some("invalid_argument")), "{stderr}");
    assert!(stderr.contains("not an AWS region name"), "{stderr}");
    // A closed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let (code, err, stderr) = verify(&["--profile", "base", "--endpoint-url", &closed], &[]);
    assert_eq!((code, err["kind"].as_str()), (Some(3), Some("aws_network")), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
    // A port that answers in another protocol.
    let ssh = server(|mut c| {
        use std::io::Write;
        let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n");
    });
    let (code, err, stderr) = verify(&["--profile", "base", "--endpoint-url", &ssh], &[]);
    assert_eq!((code, err["kind"].as_str()), (Some(3), Some("aws_network")), "{stderr}");
    assert!(stderr.contains("did not answer in HTTP"), "{stderr}");
}

/// `--timeout` bounds the whole run, a hung endpoint included: exit 4, the limit in the
/// message. (The watchdog is generous: it catches a hang, it does not time the run.)
#[test]
fn timeout_bounds_a_hung_endpoint() {
    let s = CliSetup::new();
    let hung = server(|c| {
        std::thread::sleep(std::time::Duration::from_secs(600));
        drop(c);
    });
    let plan = s.plan();
    let mut child = s
        .command(&[
            "up",
            "--config",
            &plan,
            "--profile",
            "base",
            "--endpoint-url",
            &hung,
            "--timeout",
            "1",
            "--output",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(100), "up --timeout 1 hung");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let o = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(4), "{}", text(&o.stderr));
    let err = json_error(&o);
    assert_eq!(err["kind"], "timeout");
    assert!(err["messages"][0].as_str().unwrap().contains("time limit of 1s"), "{err}");
}

/// A journal that is not one, or another plan's: exit 2, in words, with what to do.
#[test]
fn bad_journals_say_what_to_do() {
    let s = CliSetup::new();
    let plan = s.plan();
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint];
    let journal = s.dir.join("cluster.eks6-journal.json");
    std::fs::write(&journal, "{ this is not json").unwrap();
    let mut args = vec!["up", "--config", &plan];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("eks6 down --cluster NAME --region REGION"), "{}", text(&o.stderr));
    let other =
        eks6::workflow::Journal::new("other-cluster", &eks6::plan::plan_id("eu-west-1", "other-cluster"), "eu-west-1");
    std::fs::write(&journal, serde_json::to_string(&other).unwrap()).unwrap();
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err: String = text(&o.stderr).lines().filter(|l| l.starts_with("eks6: error")).collect();
    assert!(err.contains("the journal of cluster other-cluster in eu-west-1") && !err.contains("Some("), "{err}");
}

/// A journal that cannot be written (a file-size limit standing in for a full disk) is
/// local I/O, exit 2, not an AWS failure; `down` afterwards finds what was made.
#[test]
fn a_full_disk_is_local_io() {
    let s = CliSetup::new();
    let plan = s.plan();
    let bin = eks6_tests::fixtures::eks6_bin();
    let script = format!(
        "trap '' XFSZ; ulimit -f 0; exec {} up --config {plan} --profile acct --endpoint-url {} --poll-interval 0.01 --output json",
        bin.display(),
        s.endpoint
    );
    // The setup's environment (the command clears the rest), for a shell this time.
    let setup = s.command(&[]);
    let env: Vec<(std::ffi::OsString, std::ffi::OsString)> =
        setup.get_envs().filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))).collect();
    let o = Command::new("sh").arg("-c").arg(&script).env_clear().envs(env).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_eq!(json_error(&o)["kind"], "io");
    let o = s.run(&[
        "down",
        "--config",
        &plan,
        "--profile",
        "acct",
        "--endpoint-url",
        &s.endpoint,
        "--poll-interval",
        "0.01",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(inventory(&s).is_empty());
}

/// `eks6 plan --live`: the offline report plus the account's findings, read-only, with
/// the same credential flags as `up`; exit 1 when one is an error (a node role that is
/// not there), 0 otherwise.
#[test]
fn plan_live_checks_the_account() {
    let s = CliSetup::new();
    let live = |plan: &str| {
        s.run(&[
            "plan",
            "--live",
            "--config",
            plan,
            "--profile",
            "acct",
            "--endpoint-url",
            &s.endpoint,
            "--output",
            "json",
        ])
    };
    let o = live(&s.plan());
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["plan"], "AWSNewsBlog");
    assert!(v["findings"].as_array().unwrap().iter().all(|f| f["severity"] != "error"), "{v:#}");
    no_secrets(&o, &s.dir);

    let missing = s.dir.join("missing-role.toml");
    let role = format!("arn:aws:iam::{}:role/not-made-yet", s.account);
    let text_plan = std::fs::read_to_string(s.plan()).unwrap();
    let with_role = text_plan.replacen("[vpc]", &format!("[iam]\nnode_role = \"{role}\"\n\n[vpc]"), 1);
    std::fs::write(&missing, with_role).unwrap();
    let o = live(missing.to_str().unwrap());
    assert_eq!(o.status.code(), Some(1), "{}{}", text(&o.stdout), text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f =
        v["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "role-exists").expect("a role-exists finding");
    assert_eq!(f["field"], "iam.node_role");
    assert!(f["message"].as_str().unwrap().contains("not-made-yet"), "{f}");
    // Offline, the same plan has no such finding: it needs the account.
    let o = s.run(&["plan", "--config", missing.to_str().unwrap(), "--output", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

/// The Kubernetes half from the terminal: `up` with `[sample]` against a real control
/// plane, `verify` (the Kubernetes checks on by default for such a plan), `token` (the
/// ExecCredential the kubeconfig's exec entry runs), a kubeconfig context that is not
/// there (exit 2, saying which there are), `down` (the sample first); and a bad
/// `[sample]` refused by `plan` with its findings.
#[test]
fn the_kubernetes_half_from_the_terminal() {
    use eks6_tests::controlplane::ControlPlane;
    let s = CliSetup::new();
    let bad = s.dir.join("bad-sample.toml");
    let toml = std::fs::read_to_string(s.plan()).unwrap();
    std::fs::write(&bad, format!("{toml}\n[sample]\nnamespace = \"kube-system\"\nreplicas = 0\n")).unwrap();
    let o = s.run(&["plan", "--config", bad.to_str().unwrap(), "--output", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text_of(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules: Vec<&str> = v["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(rules.contains(&"sample-namespace") && rules.contains(&"sample-replicas"), "{v}");

    let plan = s.dir.join("sample.toml");
    std::fs::write(&plan, format!("{toml}\n[sample]\n")).unwrap();
    let plan = plan.to_str().unwrap();
    let nginx = eks6_tests::nginx::Nginx::start();
    let cp = ControlPlane::start(Emulator::shared(), &s.account, "us-west-2", "AWSNewsBlog", nginx.port);
    let common = ["--profile", "acct", "--endpoint-url", &s.endpoint, "--poll-interval", "0.02"];
    let with = |head: &[&str]| -> Vec<String> { head.iter().chain(common.iter()).map(|a| a.to_string()).collect() };
    let run = |args: Vec<String>| s.run(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let o = run(with(&["up", "--config", plan]));
    assert_eq!(o.status.code(), Some(0), "{}", text_of(&o));
    let o = run(with(&["verify", "--config", plan, "--output", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", text_of(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for name in ["k8s-nodes", "k8s-pods", "k8s-service", "k8s-addons", "k8s-probe"] {
        let c = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned();
        assert_eq!(c.map(|c| c["status"].clone()), Some(serde_json::json!("pass")), "{name}: {report}");
    }
    let o = run(with(&["verify", "--config", plan, "--no-kubernetes", "--output", "json"]));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!report["checks"].as_array().unwrap().iter().any(|c| c["name"] == "k8s-nodes"), "{report}");

    let o = s.run(&["token", "--cluster", "AWSNewsBlog", "--profile", "acct", "--endpoint-url", &s.endpoint]);
    assert_eq!(o.status.code(), Some(0), "{}", text_of(&o));
    let cred: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cred["apiVersion"], "client.authentication.k8s.io/v1beta1");
    assert!(cred["status"]["token"].as_str().unwrap().starts_with("k8s-aws-v1."), "{cred}");

    let admin = cp.admin_kubeconfig.to_str().unwrap();
    let o = run(with(&["verify", "--config", plan, "--context", "nope", "--kubeconfig", admin, "--output", "json"]));
    assert_eq!(o.status.code(), Some(2), "{}", text_of(&o));
    assert!(text(&o.stderr).contains("has no context \"nope\" (it has admin)"), "{}", text_of(&o));
    let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["error"]["kind"], "invalid_argument", "{e}");

    let o = run(with(&["down", "--config", plan, "--output", "json"]));
    assert_eq!(o.status.code(), Some(0), "{}", text_of(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let step = |name: &str| report["steps"].as_array().unwrap().iter().find(|s| s["step"] == name).unwrap().clone();
    let (sample, nodegroup) = (step("sample"), step("nodegroup"));
    assert_eq!(sample["outcome"], "deleted", "{report}");
    // The sample goes before the nodes (the graph: nodegroup needs sample).
    let ended = sample["started_ms"].as_u64().unwrap() + sample["elapsed_ms"].as_u64().unwrap();
    assert!(ended <= nodegroup["started_ms"].as_u64().unwrap(), "{report}");
}

fn text_of(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", text(&o.stdout), text(&o.stderr))
}
