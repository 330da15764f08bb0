//! `verify`: the checks the walkthrough ends with, done by code, each with its evidence,
//! one function per check. It reads only (but for the Kubernetes checks' probe pod, made
//! in the sample's namespace and deleted on every way out); works on clusters eks6 did
//! not create.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Instant;

use ipnet::Ipv6Net;
use serde::{Deserialize, Serialize};

use super::run::{InFlight, limited};
use super::{Cancel, Event, EventKind, EventSink, Target, WorkflowError};
use crate::aws::Aws;
use crate::aws::ec2::{InstanceInfo, RouteTableInfo, SubnetInfo, VpcInfo};
use crate::aws::eks::ClusterInfo;
use crate::error::ErrorKind;
use crate::k8s::{Kube, MAX_PROBE_TARGETS, NodeView, PodView, probe_active_deadline};
use crate::kubectl::addresses_from_kubectl;
use crate::net::{contains, contains_prefix, parse_addr, parse_prefix, supernet};
use crate::plan::{ClusterPlan, NatGateways, SCHEMA_VERSION};
use crate::plan::{SAMPLE_APP_LABEL, SAMPLE_SERVICE, SamplePlan};
use crate::probe::{ProbeOptions, probe};

/// What to check besides the cluster itself.
#[derive(Clone, Default)]
pub struct VerifyOptions {
    /// Pod or node addresses to check (as `--address` gives them).
    pub addresses: Vec<String>,
    /// The text of `kubectl get pods|nodes -o wide` or `-o json`.
    pub kubectl: Option<String>,
    /// An HTTP probe over IPv6: the target and how.
    pub probe: Option<(String, ProbeOptions)>,
    /// The probe port the security groups must allow (default: the plan's).
    pub probe_port: Option<u16>,
    /// The nodegroup to check (default: the plan's, else the cluster's first).
    pub nodegroup: Option<String>,
    /// Where each check goes as it completes ([`EventKind::Check`]).
    pub events: Option<EventSink>,
    /// Cancellation: `verify` only reads, so it stops at once with
    /// [`WorkflowError::Cancelled`].
    pub cancel: Cancel,
    /// The whole run's limit ([`WorkflowError::RunTimeout`]; default: none).
    pub timeout: Option<std::time::Duration>,
    /// The Kubernetes checks and how to reach the API (default: none). An API that
    /// refuses the credentials or cannot be reached stops `verify` with
    /// [`WorkflowError::Kube`], whose kind says which.
    pub kubernetes: Option<KubeAccess>,
    /// How long the probe pod may take to run before it is a failure with its events
    /// (default [`PROBE_POD_DEADLINE`]).
    pub probe_pod_deadline: Option<std::time::Duration>,
}

/// How `verify` reaches the cluster's Kubernetes API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeAccess {
    /// As EKS publishes it: `DescribeCluster`'s endpoint and CA, eks6's own token.
    Eks,
    /// A kubeconfig context (`kubeconfig`, else `$KUBECONFIG` or `~/.kube/config`).
    Context {
        /// The kubeconfig file.
        kubeconfig: Option<std::path::PathBuf>,
        /// The context.
        context: String,
    },
}

/// How long the probe pod may take to start and finish before it is a failure (with its
/// events): its own limit is 60 s (`activeDeadlineSeconds`), an image pull comes first.
pub const PROBE_POD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

impl VerifyOptions {
    /// Sets the probe port (`port`, else the plan's) for the security-group check and,
    /// when `address` is given, an HTTP probe of `address` on that port (80 when neither
    /// says one).
    pub fn with_probe(mut self, address: Option<String>, port: Option<u16>, plan: Option<&ClusterPlan>) -> Self {
        let port = port.or_else(|| plan.and_then(ClusterPlan::probe_port));
        self.probe_port = port;
        self.probe = address.map(|a| (a, ProbeOptions { port: port.unwrap_or(80), ..Default::default() }));
        self
    }
}

impl VerifyOptions {
    /// The Kubernetes checks as every surface defaults them: unless already chosen, on
    /// (through the EKS endpoint and eks6's token) when the plan has a `[sample]`, so a
    /// plan that runs the walkthrough's Kubernetes half is verified on both halves.
    pub fn with_kubernetes_default(mut self, plan: Option<&ClusterPlan>) -> Self {
        if self.kubernetes.is_none() && plan.is_some_and(|p| p.sample.is_some()) {
            self.kubernetes = Some(KubeAccess::Eks);
        }
        self
    }
}

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("addresses", &self.addresses)
            .field("kubectl", &self.kubectl.as_ref().map(|k| format!("<{} bytes>", k.len())))
            .field("probe", &self.probe)
            .field("probe_port", &self.probe_port)
            .field("nodegroup", &self.nodegroup)
            .field("events", &self.events.as_ref().map(|_| "<sink>"))
            .field("cancel", &self.cancel)
            .field("timeout", &self.timeout)
            .field("kubernetes", &self.kubernetes)
            .field("probe_pod_deadline", &self.probe_pod_deadline)
            .finish()
    }
}

/// A check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// It holds.
    Pass,
    /// It does not.
    Fail,
    /// Nothing to check, or the data is not there (does not fail the run).
    Skipped,
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Fail => "FAIL",
            Self::Skipped => "skipped",
        })
    }
}

/// One named check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Stable name, e.g. `nodes-ipv6`.
    pub name: String,
    /// Result.
    pub status: CheckStatus,
    /// One line: what was checked and what was found.
    pub summary: String,
    /// Evidence: ids, addresses, rules; every line, failures first.
    pub evidence: Vec<String>,
    /// How many of the first evidence lines are failures. The text form shows them all,
    /// then at most [`EVIDENCE_TEXT_LINES`] of the rest and how many more there are
    /// (a thousand nodes are summarized; `--output json` has every line).
    #[serde(default)]
    pub failing: usize,
    /// How to fix a failure.
    pub fix: Option<String>,
}

impl Check {
    fn new(name: &str, ok: bool, summary: impl Into<String>, evidence: Vec<String>, fix: &str) -> Self {
        Self {
            name: name.into(),
            status: if ok { CheckStatus::Pass } else { CheckStatus::Fail },
            summary: summary.into(),
            failing: if ok { 0 } else { evidence.len() },
            evidence,
            fix: Some(fix.into()),
        }
    }

    /// A check of many items: it passes when none is `bad`; the evidence lists the bad
    /// ones first.
    fn of_items(name: &str, summary: impl Into<String>, good: Vec<String>, bad: Vec<String>, fix: &str) -> Self {
        Self {
            name: name.into(),
            status: if bad.is_empty() { CheckStatus::Pass } else { CheckStatus::Fail },
            summary: summary.into(),
            failing: bad.len(),
            evidence: bad.into_iter().chain(good).collect(),
            fix: Some(fix.into()),
        }
    }

    /// The evidence the text form shows: every failure, then at most
    /// [`EVIDENCE_TEXT_LINES`] other lines and a count of the rest.
    pub fn evidence_summary(&self) -> Vec<String> {
        let failing = self.failing.min(self.evidence.len());
        let rest = &self.evidence[failing..];
        let mut out: Vec<String> = self.evidence[..failing].to_vec();
        out.extend(rest.iter().take(EVIDENCE_TEXT_LINES).cloned());
        if rest.len() > EVIDENCE_TEXT_LINES {
            out.push(format!("... and {} more (every line in --output json)", rest.len() - EVIDENCE_TEXT_LINES));
        }
        out
    }

    fn skipped(name: &str, summary: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            status: CheckStatus::Skipped,
            summary: summary.into(),
            evidence: Vec::new(),
            failing: 0,
            fix: None,
        }
    }
}

/// At most this many evidence lines besides the failures in a check's text form.
pub const EVIDENCE_TEXT_LINES: usize = 20;

/// The report of `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// The cluster.
    pub cluster: String,
    /// The region.
    pub region: String,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// AWS API calls (HTTP attempts).
    pub api_calls: u64,
    /// Kubernetes API requests (each page of a list is one; 0 without the Kubernetes
    /// checks).
    #[serde(default)]
    pub kube_api_calls: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

impl VerifyReport {
    /// Whether no check failed (a skipped check does not fail the run).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != CheckStatus::Fail)
    }

    /// Whether every check ran and passed: none failed and none was skipped for want of
    /// data (no nodes found, no probe address given). The CLI's `verify --strict`.
    pub fn passed_strict(&self) -> bool {
        self.checks.iter().all(|c| c.status == CheckStatus::Pass)
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "verify {} in {}", self.cluster, self.region)?;
        for c in &self.checks {
            writeln!(f, "  {:<8} {:<16} {}", c.status.to_string(), c.name, c.summary)?;
            for e in c.evidence_summary() {
                writeln!(f, "           {e}")?;
            }
            if let (CheckStatus::Fail, Some(fix)) = (c.status, &c.fix) {
                writeln!(f, "           fix: {fix}")?;
            }
        }
        let failed = self.checks.iter().filter(|c| c.status == CheckStatus::Fail).count();
        let passed = self.checks.iter().filter(|c| c.status == CheckStatus::Pass).count();
        write!(
            f,
            "{passed} passed, {failed} failed, {} skipped ({} API calls)",
            self.checks.len() - passed - failed,
            self.api_calls
        )
    }
}

/// Runs every check. Fails only when the cluster cannot be described at all; a failed
/// check is a result, not an error. Cancelling stops it at once (it only reads).
pub async fn verify(aws: &Aws, target: Target<'_>, opts: &VerifyOptions) -> Result<VerifyReport, WorkflowError> {
    let checks = async {
        tokio::select! {
            (r, calls) = crate::aws::counting_calls(run_checks(aws, target, opts)) => {
                // This run's calls only, whatever else shares the client.
                r.map(|report| VerifyReport { api_calls: calls, ..report })
            }
            () = opts.cancel.cancelled() => Err(WorkflowError::Cancelled { step: "verify".into() }),
        }
    };
    limited(opts.timeout, &InFlight::default(), checks).await
}

/// What the checks read once and share.
struct Facts {
    name: String,
    cluster: ClusterInfo,
    nodegroup: String,
    subnets: Vec<SubnetInfo>,
    vpc: Option<VpcInfo>,
    instances: Vec<InstanceInfo>,
    /// The VPC's route tables.
    tables: Vec<RouteTableInfo>,
}

impl Facts {
    fn vpc_blocks(&self) -> Vec<Ipv6Net> {
        self.vpc.as_ref().map(|v| v.ipv6.clone()).unwrap_or_default()
    }

    /// The route table of a subnet (its own, else the VPC's main one).
    fn table_of(&self, subnet: &str) -> Option<&RouteTableInfo> {
        self.tables
            .iter()
            .find(|t| t.associations.iter().any(|(_, sub)| sub == subnet))
            .or_else(|| self.tables.iter().find(|t| t.main))
    }

    /// The node subnet holding an address when its IPv6 egress is an egress-only gateway
    /// (which drops connections from outside the VPC).
    fn behind_egress_only(&self, addr: std::net::Ipv6Addr) -> Option<&SubnetInfo> {
        self.subnets.iter().find(|s| {
            s.ipv6.iter().any(|b| contains(*b, addr))
                && self
                    .table_of(&s.id)
                    .is_some_and(|t| t.routes.iter().any(|r| r.destination == "::/0" && r.target.starts_with("eigw-")))
        })
    }
}

/// Where each check goes: the list, and the event sink as it completes.
struct Checks<'a> {
    list: Vec<Check>,
    sink: Option<&'a EventSink>,
    cluster: &'a str,
    started: Instant,
}

impl Checks<'_> {
    fn push(&mut self, c: Check) {
        if let Some(sink) = self.sink {
            sink(&Event {
                schema_version: SCHEMA_VERSION,
                cluster: self.cluster.to_string(),
                elapsed_ms: self.started.elapsed().as_millis() as u64,
                kind: EventKind::Check(c.clone()),
            });
        }
        self.list.push(c);
    }
}

async fn run_checks(aws: &Aws, target: Target<'_>, opts: &VerifyOptions) -> Result<VerifyReport, WorkflowError> {
    let started = Instant::now();
    let (name, region) = (target.name(), target.region());
    if aws.region() != region {
        return Err(WorkflowError::RegionMismatch { plan: region.into(), client: aws.region().into() });
    }
    let facts = gather(aws, target, opts).await?;
    let mut checks = Checks { list: Vec::new(), sink: opts.events.as_ref(), cluster: name, started };
    checks.push(cluster_ipv6(&facts));
    checks.push(subnets_ipv6(&facts));
    checks.push(routes(&facts, target));
    checks.push(nodes_ipv6(&facts));
    checks.push(probe_port_open(aws, &facts, target, opts).await?);
    checks.push(addresses(&facts, opts));
    checks.push(http_probe(&facts, opts).await);
    let mut kube_api_calls = 0;
    if let Some(access) = &opts.kubernetes {
        let kube = match access {
            KubeAccess::Eks => Kube::for_cluster(aws, name).await?,
            KubeAccess::Context { kubeconfig, context } => Kube::from_context(kubeconfig.as_deref(), context).await?,
        };
        let sample = target.plan().and_then(|p| p.sample.clone()).unwrap_or_default();
        let k = KubeFacts::gather(aws, &kube, &sample, &facts).await?;
        checks.push(k8s_nodes(&facts, &k));
        checks.push(k8s_pods(&k));
        checks.push(k8s_service(&facts, &k, &sample));
        checks.push(k8s_addons(&k));
        checks.push(k8s_probe(&kube, &k, &sample, opts.probe_pod_deadline.unwrap_or(PROBE_POD_DEADLINE)).await?);
        kube_api_calls = kube.api_calls();
    }
    Ok(VerifyReport {
        schema_version: SCHEMA_VERSION,
        cluster: name.into(),
        region: region.into(),
        checks: checks.list,
        api_calls: 0, // counted around the run (`verify`)
        kube_api_calls,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// Reads the cluster, its nodegroup, the node subnets, the VPC and the nodes.
async fn gather(aws: &Aws, target: Target<'_>, opts: &VerifyOptions) -> Result<Facts, WorkflowError> {
    let name = target.name();
    let cluster = aws.require_cluster(name).await?;
    let nodegroup = match opts.nodegroup.clone().or_else(|| target.plan().map(|p| p.nodegroup.name.clone())) {
        Some(n) => n,
        None => aws.list_nodegroups(name).await?.first().cloned().unwrap_or_default(),
    };
    let ng = if nodegroup.is_empty() { None } else { aws.describe_nodegroup(name, &nodegroup).await? };
    let node_subnet_ids: Vec<String> = match &ng {
        Some(n) if !n.subnets.is_empty() => n.subnets.clone(),
        _ => cluster.subnet_ids.clone(),
    };
    let subnets = aws.subnets_by_ids(&node_subnet_ids).await?;
    let vpc_id = cluster.vpc_id.clone().or_else(|| subnets.first().map(|s| s.vpc_id.clone())).unwrap_or_default();
    let vpc = if vpc_id.is_empty() { None } else { aws.vpc(&vpc_id).await? };
    let instances = if nodegroup.is_empty() { Vec::new() } else { aws.nodegroup_instances(name, &nodegroup).await? };
    let tables = if vpc.is_some() { aws.route_tables(&vpc_id).await? } else { Vec::new() };
    Ok(Facts { name: name.into(), cluster, nodegroup, subnets, vpc, instances, tables })
}

/// The IP family, and the service range EKS picked.
fn cluster_ipv6(f: &Facts) -> Check {
    let family = f.cluster.ip_family.clone().unwrap_or_default();
    let mut evidence = vec![format!(
        "kubernetesNetworkConfig.ipFamily = {}",
        if family.is_empty() { "(not reported)" } else { &family }
    )];
    let mut ok = family == "ipv6";
    if let Some(svc) = &f.cluster.service_ipv6_cidr {
        let ula = Ipv6Net::new_assert(std::net::Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7);
        let inside = parse_prefix(svc).ok().is_some_and(|n| contains_prefix(ula, n));
        evidence.push(format!("serviceIpv6Cidr = {svc} ({} fc00::/7)", if inside { "inside" } else { "NOT inside" }));
        ok &= inside;
    }
    Check::new(
        "cluster-ipv6",
        ok,
        format!("cluster {} is {}", f.name, if family.is_empty() { "of unreported family" } else { &family }),
        evidence,
        "the IP family is fixed at creation: create a new cluster with ipFamily = ipv6",
    )
}

/// Node subnets: a /64 inside the VPC's /56, auto-assign on.
fn subnets_ipv6(f: &Facts) -> Check {
    if f.subnets.is_empty() {
        return Check::skipped("subnets-ipv6", "no node subnets found");
    }
    let vpc_blocks = f.vpc_blocks();
    let mut evidence = Vec::new();
    let mut ok = true;
    for s in &f.subnets {
        let v6 = s.ipv6.first();
        let inside = v6.is_some_and(|b| vpc_blocks.iter().any(|p| contains_prefix(*p, *b)));
        ok &= v6.is_some_and(|b| b.prefix_len() == 64) && inside && s.assign_ipv6;
        evidence.push(format!(
            "{} {} {} VPC {}, auto-assign IPv6 {}",
            s.id,
            v6.map_or("no IPv6 block".to_string(), |b| b.to_string()),
            if inside { "inside" } else { "NOT inside" },
            vpc_blocks.first().map_or("(no IPv6 block)".to_string(), |b| b.to_string()),
            if s.assign_ipv6 { "on" } else { "OFF" }
        ));
    }
    Check::new(
        "subnets-ipv6",
        ok,
        format!("{} node subnet(s): a /64 inside the VPC's block and auto-assign IPv6", f.subnets.len()),
        evidence,
        "give each node subnet a /64 of the VPC's /56 and turn on \"Auto-assign IPv6 address\"",
    )
}

/// Routes of the node subnets. IPv4 egress from private subnets is required only when
/// the plan has NAT gateways (none is a choice for IPv6-only workloads); without a plan
/// it is shown, not required.
fn routes(f: &Facts, target: Target<'_>) -> Check {
    if f.vpc.is_none() || f.subnets.is_empty() {
        return Check::skipped("routes", "no VPC or node subnets to check");
    }
    let private_v4 = target.plan().is_some_and(|p| p.vpc.nat_gateways != NatGateways::None);
    let mut evidence = Vec::new();
    let mut ok = true;
    for s in &f.subnets {
        let (good, line) = route_check(s, f.table_of(&s.id), private_v4);
        ok &= good;
        evidence.push(line);
    }
    Check::new(
        "routes",
        ok,
        "::/0 to the internet or egress-only gateway; 0.0.0.0/0, where there is one or the plan has NAT gateways, to the internet or a NAT gateway",
        evidence,
        "add ::/0 to the internet gateway (public) or the egress-only gateway (private), and 0.0.0.0/0 to the internet gateway or a NAT gateway",
    )
}

/// A subnet's default routes: `::/0` to the internet gateway (public) or the egress-only
/// gateway (private); `0.0.0.0/0` to the internet gateway (public) or a NAT gateway. A
/// private subnet may go without IPv4 egress unless `private_v4` asks for it.
fn route_check(s: &SubnetInfo, table: Option<&RouteTableInfo>, private_v4: bool) -> (bool, String) {
    let Some(t) = table else { return (false, format!("{}: no route table", s.id)) };
    let v6 = t.routes.iter().find(|r| r.destination == "::/0").map(|r| r.target.as_str());
    let v4 = t.routes.iter().find(|r| r.destination == "0.0.0.0/0").map(|r| r.target.as_str());
    let v6_ok = v6.is_some_and(|g| g.starts_with("igw-") || g.starts_with("eigw-"));
    let private = v6.is_some_and(|g| g.starts_with("eigw-"));
    let v4_ok = match v4 {
        Some(g) => g.starts_with("igw-") || g.starts_with("nat-"),
        None => private && !private_v4,
    };
    let v4_text = v4.unwrap_or(if v4_ok { "none (IPv6-only egress)" } else { "MISSING" });
    (v6_ok && v4_ok, format!("{} via {}: ::/0 -> {}, 0.0.0.0/0 -> {v4_text}", s.id, t.id, v6.unwrap_or("MISSING")))
}

/// The nodes hold IPv6 addresses inside their subnets (the walkthrough's
/// describe-instances query).
fn nodes_ipv6(f: &Facts) -> Check {
    if f.instances.is_empty() {
        return Check::skipped(
            "nodes-ipv6",
            format!("no running instances tagged eks:cluster-name={}, eks:nodegroup-name={}", f.name, f.nodegroup),
        );
    }
    let subnet_blocks: BTreeMap<&str, Option<Ipv6Net>> =
        f.subnets.iter().map(|s| (s.id.as_str(), s.ipv6.first().copied())).collect();
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for i in &f.instances {
        let block = subnet_blocks.get(i.subnet_id.as_str()).copied().flatten();
        let inside = i.ipv6.iter().any(|a| parse_addr(a).ok().zip(block).is_some_and(|(a, b)| contains(b, a)));
        let line = format!(
            "{} in {}: {}",
            i.id,
            i.subnet_id,
            if i.ipv6.is_empty() { "NO IPv6 address".to_string() } else { i.ipv6.join(", ") }
        );
        if inside { good.push(line) } else { bad.push(line) }
    }
    let n = f.instances.len();
    Check::of_items(
        "nodes-ipv6",
        format!("{} of {n} node(s) hold an IPv6 address inside their subnet's /64", n - bad.len()),
        good,
        bad,
        "nodes get IPv6 only from subnets with auto-assign IPv6 on: fix the subnets, then replace the nodes",
    )
}

/// The nodes' security groups allow the probe port from ::/0 (or the plan's
/// `allow_from`). Egress is shown, not required: security groups are stateful, so the
/// answer to an allowed inbound connection leaves whatever the outbound rules say (EC2
/// user guide, "Security group rules": "responses to allowed inbound traffic are allowed
/// to flow out, regardless of outbound rules"); EKS gives the cluster security group all
/// traffic out to 0.0.0.0/0 (and ::/0), which a user may narrow.
async fn probe_port_open(
    aws: &Aws,
    f: &Facts,
    target: Target<'_>,
    opts: &VerifyOptions,
) -> Result<Check, WorkflowError> {
    let Some(port) = opts.probe_port.or_else(|| target.plan().and_then(ClusterPlan::probe_port)) else {
        return Ok(Check::skipped("probe-port-open", "no probe port in the plan"));
    };
    if f.instances.is_empty() {
        return Ok(Check::skipped("probe-port-open", "no node instances to take security groups from"));
    }
    let allow_from = target.plan().and_then(|p| p.probe.as_ref()).map(|pr| pr.allow_from.as_str());
    let wanted = allow_from.and_then(|a| parse_prefix(a).ok()).unwrap_or_default();
    let mut groups: Vec<&String> = f.instances.iter().flat_map(|i| &i.security_groups).collect();
    groups.sort();
    groups.dedup();
    let mut ingress = Vec::new();
    let mut egress = Vec::new();
    for g in &groups {
        for r in aws.security_group_rules(g).await? {
            let Some(cidr) = r.cidr_ipv6.as_deref().and_then(|c| parse_prefix(c).ok()) else { continue };
            let covers_port = r.protocol == "-1"
                || (r.protocol == "tcp" && r.from_port <= i32::from(port) && i32::from(port) <= r.to_port);
            if r.egress {
                egress.push(format!("{g} egress {} to {cidr} ({}; replies need no egress rule)", r.protocol, r.id));
            }
            if !r.egress && covers_port && contains_prefix(cidr, wanted) {
                ingress.push(format!("{g} allows {} port {port} from {cidr} ({})", r.protocol, r.id));
            }
        }
    }
    let ok = !ingress.is_empty();
    let mut evidence: Vec<String> = ingress.into_iter().chain(egress).collect();
    if evidence.is_empty() {
        evidence.push(format!("groups checked: {}", groups.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")));
    }
    Ok(Check::new(
        "probe-port-open",
        ok,
        format!("the nodes' security groups allow TCP {port} from {wanted}"),
        evidence,
        "add an inbound rule for the port from ::/0 (or the plan's allow_from) on the cluster security group",
    ))
}

/// Pod and node addresses given by the caller: valid IPv6, inside the node subnets,
/// grouped by the /80 of their node.
fn addresses(f: &Facts, opts: &VerifyOptions) -> Check {
    let mut given: Vec<String> = opts.addresses.clone();
    if let Some(k) = &opts.kubectl {
        given.extend(addresses_from_kubectl(k));
    }
    if given.is_empty() {
        return Check::skipped("addresses", "no pod or node addresses given");
    }
    let vpc_blocks = f.vpc_blocks();
    let blocks: Vec<Ipv6Net> = f.subnets.iter().filter_map(|s| s.ipv6.first().copied()).collect();
    let mut evidence = Vec::new();
    let mut ok = true;
    let mut by_80: BTreeMap<Ipv6Net, Vec<String>> = BTreeMap::new();
    for a in &given {
        match parse_addr(a) {
            Err(e) => {
                ok = false;
                evidence.push(format!("{a}: invalid: {e}"));
            }
            Ok(addr) if blocks.iter().any(|b| contains(*b, addr)) => {
                let node = supernet(Ipv6Net::new_assert(addr, 128), 80).unwrap_or_default();
                by_80.entry(node).or_default().push(crate::net::canonical(addr).to_string());
            }
            Ok(addr) => {
                ok = false;
                let where_vpc = vpc_blocks.first().map_or(String::new(), |b| {
                    if contains(*b, addr) {
                        format!(" (inside the VPC's {b})")
                    } else {
                        format!(" and outside the VPC's {b}")
                    }
                });
                evidence.push(format!("{a}: outside the node subnets{where_vpc}"));
            }
        }
    }
    for (node, addrs) in &by_80 {
        evidence.push(format!("{node} (one node's prefix): {}", addrs.join(", ")));
    }
    Check::new(
        "addresses",
        ok,
        format!("{} address(es) are valid IPv6 inside the node subnets", given.len()),
        evidence,
        "pod addresses come from their node's /80 in a node subnet; an address elsewhere is not this cluster's",
    )
}

/// The HTTP probe over IPv6. A time-out to a node or pod in a subnet behind an
/// egress-only gateway is explained as what it most likely is: that gateway drops
/// connections from outside the VPC.
async fn http_probe(f: &Facts, opts: &VerifyOptions) -> Check {
    let Some((target, popts)) = &opts.probe else {
        return Check::skipped("http-probe", "no probe address given");
    };
    match probe(target, popts).await {
        Ok(a) => Check {
            name: "http-probe".into(),
            status: CheckStatus::Pass,
            summary: format!("GET {} answered {}", a.url, a.status_line),
            evidence: vec![
                format!("connect {} ms, first byte {} ms, total {} ms", a.connect_ms, a.first_byte_ms, a.total_ms),
                format!("body: {}", a.body.chars().take(80).collect::<String>().replace(['\r', '\n'], " ")),
            ],
            failing: 0,
            fix: None,
        },
        Err(e) => {
            let host = target.trim_start_matches('[').split(']').next().unwrap_or(target);
            let private = (e.kind() == ErrorKind::Timeout)
                .then(|| parse_addr(host).ok())
                .flatten()
                .and_then(|a| f.behind_egress_only(a));
            let mut evidence = vec![e.to_string()];
            let fix = match private {
                Some(s) => {
                    evidence.push(format!(
                        "{host} is in {}, whose ::/0 goes to an egress-only internet gateway: it lets connections out, and drops every connection from outside the VPC",
                        s.id
                    ));
                    "probe from inside the VPC (a pod or an instance in it), or put the nodes in public subnets (nodegroup.subnets = \"public\")"
                }
                None => "check that the pod listens on the port and the security groups allow it from ::/0",
            };
            Check::new("http-probe", false, format!("GET over IPv6 to {target} failed"), evidence, fix)
        }
    }
}

/// What the Kubernetes checks read once.
struct KubeFacts {
    nodes: Vec<NodeView>,
    /// The nodes' EC2 instances (the nodegroup's, and any other node's by its
    /// providerID: another nodegroup, self-managed nodes).
    instances: Vec<InstanceInfo>,
    pods: Vec<PodView>,
    service: Option<Vec<String>>,
    /// `aws-node`: (desired, ready, ENABLE_IPv6 value).
    aws_node: Option<(i32, i32, Option<String>)>,
    /// `coredns`: (wanted, ready).
    coredns: Option<(i32, i32)>,
}

impl KubeFacts {
    async fn gather(aws: &Aws, kube: &Kube, sample: &SamplePlan, f: &Facts) -> Result<Self, WorkflowError> {
        let nodes = kube.nodes().await?;
        let mut instances = f.instances.clone();
        let mut others: Vec<String> = nodes
            .iter()
            .filter_map(|n| n.instance_id.clone())
            .filter(|id| !instances.iter().any(|i| &i.id == id))
            .collect();
        others.sort();
        others.dedup();
        if !others.is_empty() {
            instances.extend(aws.instances_by_ids(&others).await?);
        }
        let pods = kube.pods(&sample.namespace, Some(&format!("app={SAMPLE_APP_LABEL}"))).await?;
        let service = kube.service_ips(&sample.namespace, SAMPLE_SERVICE).await?;
        let aws_node = kube.daemonset("kube-system", "aws-node").await?.map(|d| {
            let st = d.status.unwrap_or_default();
            let env = d
                .spec
                .and_then(|s| s.template.spec)
                .and_then(|s| s.containers.into_iter().find(|c| c.name == "aws-node"))
                .and_then(|c| c.env)
                .and_then(|env| env.into_iter().find(|e| e.name == "ENABLE_IPv6"))
                .and_then(|e| e.value);
            (st.desired_number_scheduled, st.number_ready, env)
        });
        let coredns = kube.deployment("kube-system", "coredns").await?.map(|d| {
            let wanted = d.spec.and_then(|s| s.replicas).unwrap_or(1);
            (wanted, d.status.and_then(|s| s.ready_replicas).unwrap_or(0))
        });
        Ok(Self { nodes, instances, pods, service, aws_node, coredns })
    }
}

/// The nodegroup's instances that no node names in its providerID: instances that never
/// joined (a node that does not register is what EKS's `NodeCreationFailure` health
/// issue reports: "Instances failed to join the kubernetes cluster").
fn unregistered<'a>(instances: &'a [InstanceInfo], nodes: &[NodeView]) -> Vec<&'a InstanceInfo> {
    let joined: BTreeSet<&str> = nodes.iter().filter_map(|n| n.instance_id.as_deref()).collect();
    instances.iter().filter(|i| !joined.contains(i.id.as_str())).collect()
}

/// Every node Ready, with an IPv6 InternalIP that is one of its EC2 instance's addresses
/// (`kubectl get nodes -o wide`: INTERNAL-IP is IPv6), and every instance of the
/// nodegroup registered as a node.
fn k8s_nodes(f: &Facts, k: &KubeFacts) -> Check {
    if k.nodes.is_empty() {
        return Check::new(
            "k8s-nodes",
            false,
            "no node has registered with the cluster",
            vec![format!("{} instance(s) in the nodegroup", f.instances.len())],
            "nodes register once the VPC CNI runs and the node role is mapped: check the nodegroup's health and the aws-node pods",
        );
    }
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for n in &k.nodes {
        let v6: Vec<&String> = n.internal_ips.iter().filter(|a| parse_addr(a).is_ok()).collect();
        let instance = n.instance_id.as_deref().and_then(|id| k.instances.iter().find(|i| i.id == id));
        let own =
            |a: &String| instance.is_some_and(|i| i.ipv6.iter().any(|x| parse_addr(x).ok() == parse_addr(a).ok()));
        let line = format!(
            "{} {} InternalIP {} ({})",
            n.name,
            if n.ready { "Ready" } else { "NotReady" },
            if n.internal_ips.is_empty() { "none".to_string() } else { n.internal_ips.join(", ") },
            match (n.instance_id.as_deref(), instance) {
                (Some(id), Some(_)) => format!("instance {id}"),
                (Some(id), None) => format!("instance {id} is not an EC2 instance of this account and region"),
                (None, _) => format!("providerID {:?} names no EC2 instance", n.provider_id.as_deref().unwrap_or("")),
            }
        );
        let ok = n.ready && !v6.is_empty() && v6.iter().all(|a| own(a));
        let why = if !n.ready {
            ""
        } else if v6.is_empty() {
            ": no IPv6 InternalIP"
        } else if !v6.iter().all(|a| own(a)) {
            ": the InternalIP is not one of the instance's IPv6 addresses"
        } else {
            ""
        };
        if ok { good.push(line) } else { bad.push(format!("{line}{why}")) }
    }
    let n = k.nodes.len();
    let failing_nodes = bad.len();
    let missing = unregistered(&f.instances, &k.nodes);
    bad.extend(missing.iter().map(|i| {
        format!(
            "instance {} of nodegroup {} ({}) has not registered as a node",
            i.id,
            f.nodegroup,
            if i.ipv6.is_empty() { "no IPv6 address".to_string() } else { i.ipv6.join(", ") }
        )
    }));
    let mut summary = format!("{} of {n} node(s) Ready with an IPv6 InternalIP of their instance", n - failing_nodes);
    if !missing.is_empty() {
        summary.push_str(&format!(
            "; {} of the nodegroup's {} instance(s) not registered",
            missing.len(),
            f.instances.len()
        ));
    }
    Check::of_items(
        "k8s-nodes",
        summary,
        good,
        bad,
        "a node without an IPv6 InternalIP is in a subnet without IPv6 auto-assign, or of an IPv4 cluster: replace the nodes; \
         an instance that never registers could not reach the API or is not mapped (the node role's access entry): see the \
         nodegroup's health issues",
    )
}

/// Every sample pod Running and Ready, its address inside the /80 the VPC CNI delegated
/// to its node's ENI (EC2 `Ipv6Prefixes`).
fn k8s_pods(k: &KubeFacts) -> Check {
    if k.pods.is_empty() {
        return Check::skipped("k8s-pods", "no sample pods (app=eks-sample-linux-app) to check");
    }
    let node_instance: BTreeMap<&str, &str> =
        k.nodes.iter().filter_map(|n| Some((n.name.as_str(), n.instance_id.as_deref()?))).collect();
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for p in &k.pods {
        let node = p.node.as_deref().unwrap_or("");
        let prefixes: Vec<Ipv6Net> = node_instance
            .get(node)
            .and_then(|id| k.instances.iter().find(|i| i.id == *id))
            .map(|i| i.ipv6_prefixes.iter().filter_map(|x| parse_prefix(x).ok()).collect())
            .unwrap_or_default();
        let addr = p.ips.iter().find_map(|a| parse_addr(a).ok());
        let inside = addr.is_some_and(|a| prefixes.iter().any(|b| contains(*b, a)));
        let running = p.phase == "Running" && p.ready;
        let line = format!(
            "{} on {} {} {} {} {}",
            p.name,
            if node.is_empty() { "(no node)" } else { node },
            if running { "Running" } else { p.phase.as_str() },
            addr.map_or("no IPv6 address".to_string(), |a| crate::net::canonical(a).to_string()),
            if inside { "inside" } else { "NOT inside" },
            if prefixes.is_empty() {
                "its node's /80 (EC2 reports no delegated prefix)".to_string()
            } else {
                prefixes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            }
        );
        if running && inside { good.push(line) } else { bad.push(line) }
    }
    let n = k.pods.len();
    Check::of_items(
        "k8s-pods",
        format!("{} of {n} sample pod(s) Running with an address in their node's /80", n - bad.len()),
        good,
        bad,
        "pod addresses come from the /80 the VPC CNI delegates to the node's ENI: check aws-node (ENABLE_IPv6, ENABLE_PREFIX_DELEGATION) on that node",
    )
}

/// The sample Service's cluster IP inside the cluster's `serviceIpv6Cidr`.
fn k8s_service(f: &Facts, k: &KubeFacts, sample: &SamplePlan) -> Check {
    let Some(ips) = &k.service else {
        return Check::skipped("k8s-service", format!("no service {}/{SAMPLE_SERVICE}", sample.namespace));
    };
    let range = f.cluster.service_ipv6_cidr.as_deref().and_then(|c| parse_prefix(c).ok());
    let Some(range) = range else {
        return Check::new(
            "k8s-service",
            false,
            "the cluster reports no serviceIpv6Cidr",
            ips.clone(),
            "an IPv6 cluster has a service range: this cluster is not of the IPv6 family",
        );
    };
    let evidence: Vec<String> = ips
        .iter()
        .map(|ip| {
            let inside = parse_addr(ip).is_ok_and(|a| contains(range, a));
            format!(
                "{}/{SAMPLE_SERVICE} clusterIP {ip} {} {range}",
                sample.namespace,
                if inside { "inside" } else { "NOT inside" }
            )
        })
        .collect();
    let ok = !ips.is_empty() && evidence.iter().all(|e| !e.contains("NOT inside"));
    Check::new(
        "k8s-service",
        ok,
        format!("the sample Service's cluster IP is inside serviceIpv6Cidr {range}"),
        evidence,
        "service addresses come from the cluster's serviceIpv6Cidr: a Service with another address was made with another range",
    )
}

/// `aws-node` running everywhere with `ENABLE_IPv6=true`, CoreDNS Ready.
fn k8s_addons(k: &KubeFacts) -> Check {
    let mut evidence = Vec::new();
    let mut ok = true;
    match &k.aws_node {
        Some((desired, ready, v6)) => {
            let good = *desired > 0 && ready >= desired && v6.as_deref() == Some("true");
            ok &= good;
            evidence.push(format!(
                "kube-system/aws-node: {ready}/{desired} ready, ENABLE_IPv6={}",
                v6.as_deref().unwrap_or("(not set)")
            ));
        }
        None => {
            ok = false;
            evidence.push("kube-system/aws-node: no such DaemonSet (the VPC CNI is not installed)".into());
        }
    }
    match k.coredns {
        Some((wanted, ready)) => {
            ok &= wanted > 0 && ready >= wanted;
            evidence.push(format!("kube-system/coredns: {ready}/{wanted} ready"));
        }
        None => {
            ok = false;
            evidence.push("kube-system/coredns: no such Deployment".into());
        }
    }
    Check::new(
        "k8s-addons",
        ok,
        "aws-node runs with IPv6 enabled on every node; CoreDNS is Ready",
        evidence,
        "the vpc-cni add-on of an IPv6 cluster sets ENABLE_IPv6=true: check the add-on's health (aws eks describe-addon) and the aws-node pods",
    )
}

/// The walkthrough's `curl -g -6 http://[pod-ip]` from inside the VPC: a probe pod in the
/// sample's namespace GETs each sample pod and reports through its termination message;
/// then it is deleted. A probe pod that never runs is a failure with its events.
async fn k8s_probe(
    kube: &Kube,
    k: &KubeFacts,
    sample: &SamplePlan,
    deadline: std::time::Duration,
) -> Result<Check, WorkflowError> {
    let ready: Vec<String> = k.pods.iter().filter(|p| p.ready).filter_map(|p| p.ips.first().cloned()).collect();
    if ready.is_empty() {
        return Ok(Check::skipped("k8s-probe", "no Ready sample pod to probe"));
    }
    // One probe pod reports at most MAX_PROBE_TARGETS results (its termination message).
    let targets: Vec<String> = ready.iter().take(MAX_PROBE_TARGETS).cloned().collect();
    let ns = &sample.namespace;
    // The guard deletes the pod on every way out: an error, a cancel, the run's limit.
    let pod = kube.create_probe_pod(ns, &targets, 80).await?;
    let name = pod.name().to_string();
    let started = Instant::now();
    // The deadline is for starting; once it runs, its own activeDeadlineSeconds bounds it.
    let running_limit = deadline + std::time::Duration::from_secs(probe_active_deadline(targets.len()) + 30);
    let mut delay = std::time::Duration::from_millis(200);
    let outcome = loop {
        let (view, message) = match kube.pod_result(ns, &name).await? {
            Some(r) => r,
            None => break Err(format!("pod {ns}/{name} disappeared before it reported")),
        };
        if matches!(view.phase.as_str(), "Succeeded" | "Failed") {
            break Ok((view, message.unwrap_or_default()));
        }
        let stuck = matches!(view.waiting.as_deref(), Some("ErrImagePull" | "ImagePullBackOff" | "InvalidImageName"));
        let limit = if view.phase == "Pending" { deadline } else { running_limit };
        if stuck || started.elapsed() >= limit {
            let events = kube.events_of(ns, &name).await.unwrap_or_default();
            break Err(format!(
                "probe pod {ns}/{name} did not run ({}{}){}",
                view.phase,
                view.waiting.map(|w| format!(", {w}")).unwrap_or_default(),
                if events.is_empty() { String::new() } else { format!("; events: {}", events.join("; ")) }
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_secs(5));
    };
    pod.delete().await.map_err(|e| kube.error(&format!("delete pod {name}"), e))?;
    Ok(match outcome {
        Err(why) => Check::new(
            "k8s-probe",
            false,
            format!("the probe pod in {ns} could not GET the sample pods"),
            vec![why],
            "the probe pod needs a node with room and Amazon ECR Public reachable (a NAT gateway or an egress-only route for IPv6)",
        ),
        Ok((_, message)) => {
            let (mut good, mut bad) = (Vec::new(), Vec::new());
            for t in &targets {
                let line = message.lines().find(|l| l.split_whitespace().next() == Some(t.as_str()));
                match line {
                    Some(l) if l.split_whitespace().nth(1) == Some("ok") => {
                        good.push(format!("GET http://[{t}]/ from {name}: {}", l.splitn(3, ' ').nth(2).unwrap_or("")))
                    }
                    Some(l) => bad.push(format!(
                        "GET http://[{t}]/ from {name}: {}",
                        l.splitn(3, ' ').nth(2).unwrap_or("failed")
                    )),
                    None => bad.push(format!("GET http://[{t}]/ from {name}: no result reported")),
                }
            }
            Check::of_items(
                "k8s-probe",
                format!(
                    "{} of {} sample pod(s) answered HTTP over IPv6 from inside the VPC{}",
                    good.len(),
                    targets.len(),
                    if ready.len() > targets.len() {
                        format!(" (the first {} of {} Ready pods)", targets.len(), ready.len())
                    } else {
                        String::new()
                    }
                ),
                good,
                bad,
                "check the pod listens on port 80 and no NetworkPolicy or security group for pods blocks it",
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix} {i}")).collect()
    }

    #[test]
    fn instances_without_a_node_are_found() {
        let instance = |id: &str| InstanceInfo {
            id: id.into(),
            subnet_id: "subnet-1".into(),
            ipv6: vec!["2600:1f14::1".into()],
            ipv6_prefixes: Vec::new(),
            security_groups: Vec::new(),
        };
        let node = |name: &str, id: Option<&str>| NodeView {
            name: name.into(),
            ready: true,
            internal_ips: Vec::new(),
            provider_id: id.map(|i| format!("aws:///us-west-2a/{i}")),
            instance_id: id.map(Into::into),
            version: "v1.35.8-eks".into(),
        };
        let instances: Vec<InstanceInfo> = (0..1000).map(|i| instance(&format!("i-{i:04}"))).collect();
        // The first 100 joined (as a harness that read one page of instances would have
        // it), and one node of no instance.
        let mut nodes: Vec<NodeView> = (0..100).map(|i| node(&format!("n{i}"), Some(&format!("i-{i:04}")))).collect();
        nodes.push(node("self-managed", None));
        let missing: Vec<&str> = unregistered(&instances, &nodes).iter().map(|i| i.id.as_str()).collect();
        assert_eq!((missing.len(), missing[0], missing[899]), (900, "i-0100", "i-0999"));
        assert!(unregistered(&instances[..100], &nodes).is_empty());
    }

    #[test]
    fn a_thousand_nodes_are_summarized_in_text_and_kept_whole_in_json() {
        let c = Check::of_items("k8s-nodes", "998 of 1000", lines("ok", 998), lines("bad", 2), "fix");
        assert_eq!((c.status, c.failing, c.evidence.len()), (CheckStatus::Fail, 2, 1000));
        let text = c.evidence_summary();
        // Every failure, first; then 20 that pass and how many more.
        assert_eq!(text.len(), 2 + EVIDENCE_TEXT_LINES + 1, "{text:?}");
        assert_eq!((text[0].as_str(), text[1].as_str(), text[2].as_str()), ("bad 0", "bad 1", "ok 0"));
        assert_eq!(text.last().unwrap(), "... and 978 more (every line in --output json)");
        let json: Check = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(json.evidence.len(), 1000);

        // Few lines: all of them, no count; a passing check has no failing lines.
        let c = Check::of_items("k8s-pods", "3 of 3", lines("ok", 3), Vec::new(), "fix");
        assert_eq!((c.status, c.failing, c.evidence_summary()), (CheckStatus::Pass, 0, lines("ok", 3)));
    }
}
