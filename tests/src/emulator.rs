//! The local AWS emulator for end-to-end tests: moto in server mode with the test-only
//! extension in `tests/emulator/`, started once per test process on 127.0.0.1 on a free
//! port, and stopped when the process ends (the launcher exits when its stdin closes).
//!
//! Each test works in its own AWS account: credentials from STS `AssumeRole` into
//! `arn:aws:iam::<account>:role/eks6-test`, which the emulator maps to that account. The
//! library needs no hook for it: `AwsOptions::assume_role_arn` is an ordinary feature.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, Tag};
use eks6::aws::{Aws, AwsOptions, StaticCredentials};
use eks6::plan::ClusterPlan;

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
}

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python with moto installed: `$EKS6_PYTHON` or the repository's `.venv`.
pub fn python() -> PathBuf {
    std::env::var_os("EKS6_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo_root().join(".venv/bin/python"))
}

impl Emulator {
    fn start(plain: bool) -> Self {
        Self::start_with(plain, None)
    }

    /// A new emulator (not shared) in the extension's time-based mode: every state lasts
    /// its usual duration (`core/src/workflow/expected_durations.toml`) times `scale`.
    pub fn timed(scale: f64) -> Self {
        Self::start_with(false, Some(scale))
    }

    fn start_with(plain: bool, time_scale: Option<f64>) -> Self {
        let py = python();
        assert!(
            py.exists(),
            "the emulator needs {} with moto installed: run `make venv` (or set EKS6_PYTHON)",
            py.display()
        );
        let mut cmd = Command::new(&py);
        cmd.arg(repo_root().join("tests/emulator/launch.py"));
        if plain {
            cmd.arg("--plain");
        }
        if let Some(scale) = time_scale {
            cmd.env("EKS6_MOTO_TIME_SCALE", scale.to_string());
        }
        let mut child = cmd
            .env("EKS6_MOTO_CREATING_DESCRIBES", "2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the emulator with {}: {e}", py.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("read the port line");
        let port = line
            .trim()
            .strip_prefix("EKS6_EMULATOR_PORT=")
            .unwrap_or_else(|| panic!("the emulator did not announce its port: {line:?}"))
            .to_string();
        Self { endpoint: format!("http://127.0.0.1:{port}"), _child: Mutex::new(child), _stdin: Mutex::new(stdin) }
    }

    /// The shared emulator with the eks6 test extension.
    pub fn shared() -> &'static Emulator {
        static E: OnceLock<Emulator> = OnceLock::new();
        E.get_or_init(|| Self::start(false))
    }

    /// The shared plain emulator (moto as published).
    pub fn plain() -> &'static Emulator {
        static E: OnceLock<Emulator> = OnceLock::new();
        E.get_or_init(|| Self::start(true))
    }

    /// Options for a client of `account` in `region`.
    pub fn options(&self, account: &str, region: &str) -> AwsOptions {
        AwsOptions {
            region: Some(region.into()),
            endpoint_url: Some(self.endpoint.clone()),
            credentials: Some(test_credentials()),
            assume_role_arn: Some(format!("arn:aws:iam::{account}:role/eks6-test")),
            operation_timeout: Some(Duration::from_secs(30)),
            attempt_timeout: Some(Duration::from_secs(10)),
            max_attempts: Some(3),
            initial_backoff: Some(Duration::from_millis(10)),
            ..Default::default()
        }
    }

    /// A library client of `account` in `region`.
    pub async fn aws(&self, account: &str, region: &str) -> Aws {
        Aws::connect(&self.options(account, region)).await.expect("connect to the emulator")
    }

    /// Raw SDK clients of `account`, for setting up and checking from outside eks6.
    pub async fn sdk(&self, account: &str, region: &str) -> (aws_sdk_ec2::Client, aws_sdk_eks::Client) {
        let sdk = self.sdk_config(account, region).await;
        (aws_sdk_ec2::Client::new(&sdk), aws_sdk_eks::Client::new(&sdk))
    }

    /// A raw IAM client of `account`.
    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config(account, "us-east-1").await)
    }

    async fn sdk_config(&self, account: &str, region: &str) -> aws_config::SdkConfig {
        let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new(
                TEST_KEY_ID,
                TEST_SECRET,
                None,
                None,
                "eks6-tests",
            ))
            .load()
            .await;
        let role = aws_config::sts::AssumeRoleProvider::builder(format!("arn:aws:iam::{account}:role/eks6-test"))
            .session_name("eks6-tests")
            .configure(&base)
            .build()
            .await;
        base.into_builder().credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(role)).build()
    }
}

impl Emulator {
    /// A `kubectl get pods -o wide` listing with two pods on each node of `cluster`,
    /// addressed from a /80 of the node's subnet as the VPC CNI does (the emulator runs
    /// no Kubernetes, so the pods are made up; the nodes and subnets are real).
    pub async fn kubectl_listing(&self, account: &str, region: &str, cluster: &str) -> String {
        let (ec2, _) = self.sdk(account, region).await;
        let out = ec2
            .describe_instances()
            .filters(aws_sdk_ec2::types::Filter::builder().name("tag:eks:cluster-name").values(cluster).build())
            .filters(aws_sdk_ec2::types::Filter::builder().name("instance-state-name").values("running").build())
            .send()
            .await
            .expect("describe the nodes");
        let mut text =
            String::from("NAME         READY   STATUS    RESTARTS   AGE   IP                                NODE\n");
        for (n, i) in out.reservations().iter().flat_map(|r| r.instances()).enumerate() {
            let Some(node) =
                i.network_interfaces().first().and_then(|e| e.ipv6_addresses().first()).and_then(|a| a.ipv6_address())
            else {
                continue;
            };
            let node: std::net::Ipv6Addr = node.parse().expect("an IPv6 address");
            let subnet = eks6::net::supernet(ipnet::Ipv6Net::new_assert(node, 128), 64).expect("a /64");
            let node80 = eks6::net::nth_subnet(subnet, 80, 0x46f9 + n as u128).expect("a /80");
            for p in 0..2u128 {
                let pod = std::net::Ipv6Addr::from_bits(node80.network().to_bits() + p + 1);
                text.push_str(&format!("web-{n}-{p}    1/1     Running   0          5m    {pod:<33} ip-{n}\n"));
            }
        }
        text
    }
}

impl Emulator {
    /// Everything in the account that carries the plan's id, by role, checked through the
    /// SDK (not through eks6), plus the cluster and nodegroup state. Keys and values hold no
    /// ids or addresses, so two equal setups give equal inventories; a second resource for
    /// one role fails at once.
    pub async fn inventory(&self, account: &str, plan: &ClusterPlan) -> BTreeMap<String, String> {
        let (ec2, eks) = self.sdk(account, &plan.region).await;
        let pid = plan.plan_id();
        let mine = || Filter::builder().name("tag:eks6:plan-id").values(&pid).build();
        let role = |tags: &[Tag]| {
            tags.iter().find(|t| t.key() == Some("eks6:role")).and_then(|t| t.value()).unwrap_or("?").to_string()
        };
        let mut inv = BTreeMap::new();
        let mut add = |kind: &str, role: String, what: String| {
            let key = format!("{kind} {role}");
            assert!(inv.insert(key.clone(), what).is_none(), "two resources for {key}: created twice");
        };
        for v in ec2.describe_vpcs().filters(mine()).send().await.unwrap().vpcs() {
            add("vpc", role(v.tags()), v.ipv6_cidr_block_association_set().len().to_string());
        }
        for s in ec2.describe_subnets().filters(mine()).send().await.unwrap().subnets() {
            let v6 = s.ipv6_cidr_block_association_set().first().and_then(|a| a.ipv6_cidr_block()).unwrap_or("none");
            let elb: Vec<&str> =
                s.tags().iter().filter_map(|t| t.key()).filter(|k| k.starts_with("kubernetes.io/role/")).collect();
            let detail = format!(
                "{} assign6={:?} public={:?} {elb:?}",
                v6.rsplit('/').next().unwrap(),
                s.assign_ipv6_address_on_creation(),
                s.map_public_ip_on_launch()
            );
            add("subnet", role(s.tags()), detail);
        }
        for g in ec2.describe_internet_gateways().filters(mine()).send().await.unwrap().internet_gateways() {
            add("igw", role(g.tags()), g.attachments().len().to_string());
        }
        for g in ec2.describe_egress_only_internet_gateways().send().await.unwrap().egress_only_internet_gateways() {
            if g.tags().iter().any(|t| t.key() == Some("eks6:plan-id") && t.value() == Some(&pid)) {
                add("eigw", role(g.tags()), g.attachments().len().to_string());
            }
        }
        for n in ec2.describe_nat_gateways().filter(mine()).send().await.unwrap().nat_gateways() {
            let state = n.state().map(|s| s.as_str().to_string()).unwrap_or_default();
            if state != "deleted" {
                add("nat", role(n.tags()), state);
            }
        }
        for a in ec2.describe_addresses().filters(mine()).send().await.unwrap().addresses() {
            add("eip", role(a.tags()), String::new());
        }
        for t in ec2.describe_route_tables().filters(mine()).send().await.unwrap().route_tables() {
            let mut routes: Vec<String> = t
                .routes()
                .iter()
                .filter_map(|r| r.destination_ipv6_cidr_block().or(r.destination_cidr_block()).map(str::to_string))
                .filter(|d| d.starts_with("::/0") || d.starts_with("0.0.0.0"))
                .collect();
            routes.sort();
            add("rtb", role(t.tags()), format!("{routes:?} assoc={}", t.associations().len()));
        }
        if let Ok(c) = eks.describe_cluster().name(&plan.name).send().await {
            let c = c.cluster().unwrap();
            add("cluster", plan.name.clone(), c.status().unwrap().as_str().to_string());
            if let Some(sg) = c.resources_vpc_config().and_then(|v| v.cluster_security_group_id()) {
                let rules = ec2
                    .describe_security_group_rules()
                    .filters(Filter::builder().name("group-id").values(sg).build())
                    .send()
                    .await
                    .unwrap();
                for r in rules.security_group_rules() {
                    if r.description().is_some_and(|d| d.contains(&pid)) {
                        add("rule", format!("{:?}", r.from_port()), r.cidr_ipv6().unwrap_or_default().to_string());
                    }
                }
            }
            if let Ok(n) =
                eks.describe_nodegroup().cluster_name(&plan.name).nodegroup_name(&plan.nodegroup.name).send().await
            {
                add(
                    "nodegroup",
                    plan.nodegroup.name.clone(),
                    n.nodegroup().unwrap().status().unwrap().as_str().to_string(),
                );
            }
            for addon in eks6::workflow::MANAGED_ADDONS {
                if let Ok(a) = eks.describe_addon().cluster_name(&plan.name).addon_name(*addon).send().await {
                    let a = a.addon().unwrap();
                    if a.tags().is_some_and(|t| t.get("eks6:plan-id") == Some(&pid)) {
                        add("addon", addon.to_string(), a.status().unwrap().as_str().to_string());
                    }
                }
            }
        }
        let iam = self.iam(account).await;
        for kind in ["cluster", "node"] {
            let name = eks6::plan::iam_name(&plan.name, &pid, kind);
            if let Ok(r) = iam.get_role().role_name(&name).send().await
                && r.role().unwrap().tags().iter().any(|t| t.key() == "eks6:plan-id" && t.value() == pid)
            {
                let attached = iam.list_attached_role_policies().role_name(&name).send().await.unwrap();
                let mut names: Vec<&str> =
                    attached.attached_policies().iter().filter_map(|p| p.policy_name()).collect();
                names.sort_unstable();
                let names: Vec<String> =
                    names.iter().map(|n| if n.ends_with("-cni-ipv6") { "<cni-ipv6>" } else { n }.to_string()).collect();
                add("role", kind.to_string(), names.join(","));
            }
        }
        let policy = format!("arn:aws:iam::{account}:policy/{}", eks6::plan::iam_name(&plan.name, &pid, "cni-ipv6"));
        if iam.get_policy().policy_arn(&policy).send().await.is_ok() {
            add("policy", "cni-ipv6".into(), String::new());
        }
        inv
    }
}

/// The test access key id (a greppable marker: it must never appear in any output).
pub const TEST_KEY_ID: &str = "AKIAEKS6TESTKEY00001";
/// The test secret (likewise).
pub const TEST_SECRET: &str = "eks6TestSecret/DoNotPrint+0000000000000";

/// The base credentials tests start from.
pub fn test_credentials() -> StaticCredentials {
    StaticCredentials { access_key_id: TEST_KEY_ID.into(), secret_access_key: TEST_SECRET.into(), session_token: None }
}

/// A new 12-digit account id, unique in this process run.
pub fn fresh_account() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let base = (std::process::id() as u64 % 90_000) * 1_000_000;
    format!("{:012}", 100_000_000_000 + base + n)
}
