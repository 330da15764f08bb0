//! The plan, run options and `eks6` program setup the end-to-end suites share.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use eks6::plan::ClusterPlan;
use eks6::workflow::{RunOptions, WaitPolicy};

use crate::emulator::{Emulator, TEST_KEY_ID, TEST_SECRET, fresh_account};

/// The walkthrough's plan (`fixtures/walkthrough.toml`) on the newest Kubernetes version in
/// standard support today: its own 1.21 is long out of support, and EKS (and `up`)
/// refuse it.
pub fn walkthrough() -> ClusterPlan {
    let mut plan = walkthrough_as_written();
    plan.kubernetes_version = eks6::plan::newest_standard_version(eks6::plan::Date::today())
        .unwrap_or_else(|| format!("1.{}", eks6::plan::VERSION_TABLE.last().map_or(35, |v| v.minor)));
    plan
}

/// The walkthrough's plan with its Kubernetes half on: the sample (`[sample]` with the
/// guide's defaults: namespace aws-news-blog, 3 nginx replicas, a ClusterIP Service).
/// `up` applies it through the cluster's API, so a test with it needs a
/// [`ControlPlane`](crate::controlplane::ControlPlane).
pub fn walkthrough_kubernetes() -> ClusterPlan {
    let mut plan = walkthrough();
    plan.sample = Some(eks6::plan::SamplePlan::default());
    plan
}

/// The text of `fixtures/walkthrough.toml` with another Kubernetes version.
pub fn walkthrough_text(version: &str) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.toml"))
        .expect("read fixtures/walkthrough.toml");
    text.replace("kubernetes_version = \"1.21\"", &format!("kubernetes_version = \"{version}\""))
}

/// The walkthrough's plan as the walkthrough wrote it (Kubernetes 1.21).
pub fn walkthrough_as_written() -> ClusterPlan {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.toml"))
        .expect("read fixtures/walkthrough.toml");
    ClusterPlan::from_toml(&text).expect("the walkthrough plan parses")
}

/// A journal path for `account`, in a directory of this test process and `suite`.
pub fn journal(suite: &str, account: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eks6-{suite}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the journal directory");
    dir.join(format!("{account}.journal.json"))
}

/// Run options with that journal and fast polling (every 10 ms, for 20 s): the
/// emulator answers CREATING only to the first few describes.
pub fn fast_opts(suite: &str, account: &str) -> RunOptions {
    RunOptions::new(journal(suite, account))
        .with_wait(WaitPolicy::every(Duration::from_millis(10), Duration::from_secs(20)))
}

/// The `eks6` program cargo built beside the running test binary.
pub fn eks6_bin() -> PathBuf {
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

/// A home for runs of the `eks6` program against the shared emulator, as a user would set
/// one up: a fresh account, AWS config files with a role profile `acct` into it (through
/// `source_profile = base`, the test keys), and the walkthrough plan as `cluster.toml`.
#[derive(Debug)]
pub struct CliSetup {
    /// The directory with `config`, `credentials` and `cluster.toml` (and `$HOME`).
    pub dir: PathBuf,
    /// The emulator's endpoint.
    pub endpoint: String,
    /// The account the `acct` profile works in.
    pub account: String,
}

impl Default for CliSetup {
    fn default() -> Self {
        Self::new()
    }
}

impl CliSetup {
    /// A new setup in a fresh account.
    pub fn new() -> Self {
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
        // The walkthrough's plan on today's newest version in standard support (its own
        // 1.21 is refused, by EKS and by `eks6 plan`).
        std::fs::write(dir.join("cluster.toml"), walkthrough_text(&walkthrough().kubernetes_version)).unwrap();
        Self { dir, endpoint: Emulator::shared().endpoint.clone(), account }
    }

    /// The `eks6` program with `args`, in a clean environment of this setup's files.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(eks6_bin());
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("AWS_CONFIG_FILE", self.dir.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.join("credentials"))
            .env("EKS6_LOG", "trace")
            // The role profile's own STS call reads the endpoint from the environment.
            .env("AWS_ENDPOINT_URL", &self.endpoint);
        cmd
    }

    /// Runs the `eks6` program with `args` to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The plan file's path.
    pub fn plan(&self) -> String {
        self.dir.join("cluster.toml").display().to_string()
    }
}

/// Tags of another owner for a foreign resource of type `rt`, with an `eks6:cluster` decoy
/// naming `cluster` (but no plan id): what `down` must leave alone.
pub fn foreign_tags(rt: ResourceType, cluster: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(rt)
        .tags(Tag::builder().key("owner").value("someone-else").build())
        .tags(Tag::builder().key("eks6:cluster").value(cluster).build())
        .build()
}

/// Turns on DNS hostnames on a VPC made with the SDK (a new VPC has them off, and EKS
/// nodes cannot register without them: `up` refuses such a VPC before any write).
pub async fn dns_hostnames_on(ec2: &aws_sdk_ec2::Client, vpc: &str) {
    ec2.modify_vpc_attribute()
        .vpc_id(vpc)
        .enable_dns_hostnames(aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("turn on DNS hostnames");
}
