//! The `eks6` program's `plan`, `up` and `down` against the emulator: streams, exit
//! codes, `--profile` (a role profile, as a user would set one up), and no secret in
//! any output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eks6_tests::emulator::{Emulator, TEST_KEY_ID, TEST_SECRET, fresh_account};

fn eks6_bin() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/eks6
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("eks6");
    assert!(
        bin.exists(),
        "build the eks6 program first (cargo test --workspace --all-features builds it): {}",
        bin.display()
    );
    bin
}

struct Setup {
    dir: PathBuf,
    endpoint: String,
}

impl Setup {
    fn new() -> Self {
        let account = fresh_account();
        let dir = std::env::temp_dir().join(format!("eks6-cli-{account}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config"),
            format!("[profile base]\nregion = us-west-2\n\n[profile acct]\nrole_arn = arn:aws:iam::{account}:role/eks6-cli\nsource_profile = base\nregion = us-west-2\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("credentials"),
            format!("[base]\naws_access_key_id = {TEST_KEY_ID}\naws_secret_access_key = {TEST_SECRET}\n"),
        )
        .unwrap();
        std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.toml"), dir.join("cluster.toml"))
            .unwrap();
        Self { dir, endpoint: Emulator::shared().endpoint.clone() }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(eks6_bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("AWS_CONFIG_FILE", self.dir.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.join("credentials"))
            .env("EKS6_LOG", "trace")
            // The role profile's own STS call reads the endpoint from the environment.
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .output()
            .unwrap()
    }

    fn plan(&self) -> String {
        self.dir.join("cluster.toml").display().to_string()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn no_secrets(o: &Output, dir: &Path) {
    for s in [text(&o.stdout), text(&o.stderr)] {
        assert!(!s.contains(TEST_SECRET) && !s.contains(TEST_KEY_ID), "credentials leaked: {s}");
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            let j = std::fs::read_to_string(&p).unwrap();
            assert!(!j.contains(TEST_SECRET) && !j.contains(TEST_KEY_ID), "credentials in {}", p.display());
        }
    }
}

#[test]
fn plan_exit_codes() {
    let s = Setup::new();
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
    let s = Setup::new();
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

    // A region other than the plan's: refused, exit 2, nothing on stdout.
    let mut args = vec!["up", "--config", &plan, "--region", "eu-west-1"];
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());

    let mut args = vec!["down", "--cluster", "AWSNewsBlog", "--region", "us-west-2", "--journal"];
    let journal = s.dir.join("cluster.eks6-journal.json").display().to_string();
    args.push(&journal);
    args.extend(common);
    let o = s.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with("down AWSNewsBlog in us-west-2"));
    no_secrets(&o, &s.dir);
}

#[test]
fn wait_past_timeout_exits_4_and_down_cleans_up() {
    let s = Setup::new();
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
