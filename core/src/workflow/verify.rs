//! `verify`: the checks the walkthrough ends with, done by code, each with its evidence.
//! Read-only; works on clusters eks6 did not create.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use ipnet::Ipv6Net;
use serde::{Deserialize, Serialize};

use super::{Event, EventKind, EventSink, WorkflowError};
use crate::aws::ec2::{RouteTableInfo, SubnetInfo};
use crate::aws::{Aws, AwsError};
use crate::error::ErrorKind;
use crate::net::{contains, contains_prefix, parse_addr, parse_prefix, supernet};
use crate::plan::{ClusterPlan, SCHEMA_VERSION};
use crate::probe::{ProbeOptions, probe};

/// Which cluster to verify.
#[derive(Debug, Clone, Copy)]
pub enum VerifyTarget<'a> {
    /// A plan: its nodegroup and probe settings are known.
    Plan(&'a ClusterPlan),
    /// Any cluster, by name (read-only; eks6 need not have created it).
    Cluster {
        /// Cluster name.
        name: &'a str,
        /// Region.
        region: &'a str,
    },
}

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
}

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

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("addresses", &self.addresses)
            .field("kubectl", &self.kubectl.as_ref().map(|k| format!("<{} bytes>", k.len())))
            .field("probe", &self.probe)
            .field("probe_port", &self.probe_port)
            .field("nodegroup", &self.nodegroup)
            .field("events", &self.events.as_ref().map(|_| "<sink>"))
            .finish()
    }
}

/// The checks so far; each one added is also sent to the event sink.
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
    /// Evidence: ids, addresses, rules.
    pub evidence: Vec<String>,
    /// How to fix a failure.
    pub fix: Option<String>,
}

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
            for e in &c.evidence {
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

fn check(
    name: &str,
    status: CheckStatus,
    summary: impl Into<String>,
    evidence: Vec<String>,
    fix: Option<&str>,
) -> Check {
    Check { name: name.into(), status, summary: summary.into(), evidence, fix: fix.map(str::to_string) }
}

/// Pod and node addresses from `kubectl get pods|nodes -o wide` text or `-o json`.
///
/// ```
/// let text = "NAME   READY   STATUS    RESTARTS   AGE   IP                         NODE\n\
///             web-1  1/1     Running   0          5m    2600:1f13:812:0:46f9::1    ip-1\n";
/// assert_eq!(eks6::workflow::addresses_from_kubectl(text), ["2600:1f13:812:0:46f9::1"]);
/// ```
pub fn addresses_from_kubectl(text: &str) -> Vec<String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(trimmed) else { return Vec::new() };
        let items: Vec<&serde_json::Value> = match v.get("items").and_then(|i| i.as_array()) {
            Some(a) => a.iter().collect(),
            None => vec![&v],
        };
        let mut out = Vec::new();
        for item in items {
            let status = &item["status"];
            if let Some(ips) = status["podIPs"].as_array() {
                out.extend(ips.iter().filter_map(|i| i["ip"].as_str().map(str::to_string)));
            } else if let Some(ip) = status["podIP"].as_str() {
                out.push(ip.to_string());
            }
            if let Some(addrs) = status["addresses"].as_array() {
                out.extend(
                    addrs
                        .iter()
                        .filter(|a| matches!(a["type"].as_str(), Some("InternalIP" | "ExternalIP")))
                        .filter_map(|a| a["address"].as_str().map(str::to_string)),
                );
            }
        }
        return out;
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else { return Vec::new() };
    let cols: Vec<&str> = header.split_whitespace().collect();
    let wanted: Vec<usize> = cols
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(**c, "IP" | "INTERNAL-IP" | "EXTERNAL-IP"))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        for &i in &wanted {
            if let Some(f) = fields.get(i).filter(|f| **f != "<none>") {
                out.push((*f).to_string());
            }
        }
    }
    out
}

/// Runs every check. Fails only when the cluster cannot be described at all; a failed
/// check is a result, not an error.
pub async fn verify(aws: &Aws, target: VerifyTarget<'_>, opts: &VerifyOptions) -> Result<VerifyReport, WorkflowError> {
    let started = Instant::now();
    let calls_before = aws.total_calls();
    let (name, region, nodegroup, probe_port, allow_from) = match target {
        VerifyTarget::Plan(p) => (
            p.name.as_str(),
            p.region.as_str(),
            Some(p.nodegroup.name.clone()),
            opts.probe_port.or(p.probe_port()),
            p.probe.as_ref().map(|pr| pr.allow_from.clone()),
        ),
        VerifyTarget::Cluster { name, region } => (name, region, None, opts.probe_port, None),
    };
    // IPv4 egress from private subnets: what the plan asks for (a NAT gateway or none, for
    // IPv6-only workloads); without a plan it is not required, only shown.
    let private_v4 = match target {
        VerifyTarget::Plan(p) => p.vpc.nat_gateways != crate::plan::NatGateways::None,
        VerifyTarget::Cluster { .. } => false,
    };
    if aws.region() != region {
        return Err(WorkflowError::RegionMismatch { plan: region.into(), client: aws.region().into() });
    }
    let Some(cluster) = aws.describe_cluster(name).await? else {
        return Err(AwsError::local(
            ErrorKind::AwsNotFound,
            "DescribeCluster",
            format!("no cluster {name} in {region}"),
        )
        .into());
    };
    let mut checks = Checks { list: Vec::new(), sink: opts.events.as_ref(), cluster: name, started };

    // 1. The IP family, and the service range EKS picked.
    let family = cluster.ip_family.clone().unwrap_or_default();
    let mut evidence = vec![format!(
        "kubernetesNetworkConfig.ipFamily = {}",
        if family.is_empty() { "(not reported)" } else { &family }
    )];
    let mut ok = family == "ipv6";
    if let Some(svc) = &cluster.service_ipv6_cidr {
        let inside = parse_prefix(svc).ok().is_some_and(|n| contains_prefix("fc00::/7".parse().unwrap_or_default(), n));
        evidence.push(format!("serviceIpv6Cidr = {svc} ({} fc00::/7)", if inside { "inside" } else { "NOT inside" }));
        ok &= inside;
    }
    checks.push(check(
        "cluster-ipv6",
        if ok { CheckStatus::Pass } else { CheckStatus::Fail },
        format!("cluster {name} is {}", if family.is_empty() { "of unreported family" } else { &family }),
        evidence,
        Some("the IP family is fixed at creation: create a new cluster with ipFamily = ipv6"),
    ));

    // 2. Node subnets: a /64 inside the VPC's /56, auto-assign on.
    let ng_name = match opts.nodegroup.as_ref().or(nodegroup.as_ref()) {
        Some(n) => n.clone(),
        None => aws.list_nodegroups(name).await?.first().cloned().unwrap_or_default(),
    };
    let ng = if ng_name.is_empty() { None } else { aws.describe_nodegroup(name, &ng_name).await? };
    let node_subnet_ids: Vec<String> = match &ng {
        Some(n) if !n.subnets.is_empty() => n.subnets.clone(),
        _ => cluster.subnet_ids.clone(),
    };
    let subnets = aws.subnets_by_ids(&node_subnet_ids).await?;
    let vpc_id = cluster.vpc_id.clone().or_else(|| subnets.first().map(|s| s.vpc_id.clone())).unwrap_or_default();
    let vpc = if vpc_id.is_empty() { None } else { aws.vpc(&vpc_id).await? };
    let vpc_blocks: Vec<Ipv6Net> = vpc.as_ref().map(|v| v.ipv6.clone()).unwrap_or_default();
    if subnets.is_empty() {
        checks.push(check("subnets-ipv6", CheckStatus::Skipped, "no node subnets found", Vec::new(), None));
    } else {
        let mut evidence = Vec::new();
        let mut ok = true;
        for s in &subnets {
            let v6 = s.ipv6.first();
            let inside = v6.is_some_and(|b| vpc_blocks.iter().any(|p| contains_prefix(*p, *b)));
            let good = v6.is_some_and(|b| b.prefix_len() == 64) && inside && s.assign_ipv6;
            ok &= good;
            evidence.push(format!(
                "{} {} {} VPC {}, auto-assign IPv6 {}",
                s.id,
                v6.map_or("no IPv6 block".to_string(), |b| b.to_string()),
                if inside { "inside" } else { "NOT inside" },
                vpc_blocks.first().map_or("(no IPv6 block)".to_string(), |b| b.to_string()),
                if s.assign_ipv6 { "on" } else { "OFF" }
            ));
        }
        checks.push(check(
            "subnets-ipv6",
            if ok { CheckStatus::Pass } else { CheckStatus::Fail },
            format!("{} node subnet(s): a /64 inside the VPC's block and auto-assign IPv6", subnets.len()),
            evidence,
            Some("give each node subnet a /64 of the VPC's /56 and turn on \"Auto-assign IPv6 address\""),
        ));
    }

    // 3. Routes of the node subnets.
    if vpc.is_some() && !subnets.is_empty() {
        let tables = aws.route_tables(&vpc_id).await?;
        let mut evidence = Vec::new();
        let mut ok = true;
        for s in &subnets {
            let table = tables
                .iter()
                .find(|t| t.associations.iter().any(|(_, sub)| sub == &s.id))
                .or_else(|| tables.iter().find(|t| t.main));
            let (good, line) = route_check(s, table, private_v4);
            ok &= good;
            evidence.push(line);
        }
        checks.push(check(
            "routes",
            if ok { CheckStatus::Pass } else { CheckStatus::Fail },
            "::/0 to the internet or egress-only gateway; 0.0.0.0/0, where there is one or the plan has NAT gateways, to the internet or a NAT gateway",
            evidence,
            Some("add ::/0 to the internet gateway (public) or the egress-only gateway (private), and 0.0.0.0/0 to the internet gateway or a NAT gateway"),
        ));
    } else {
        checks.push(check("routes", CheckStatus::Skipped, "no VPC or node subnets to check", Vec::new(), None));
    }

    // 4. The nodes hold IPv6 addresses inside their subnets (the walkthrough's
    //    describe-instances query).
    let instances = if ng_name.is_empty() { Vec::new() } else { aws.nodegroup_instances(name, &ng_name).await? };
    let subnet_blocks: BTreeMap<&str, Option<Ipv6Net>> =
        subnets.iter().map(|s| (s.id.as_str(), s.ipv6.first().copied())).collect();
    if instances.is_empty() {
        checks.push(check(
            "nodes-ipv6",
            CheckStatus::Skipped,
            format!("no running instances tagged eks:cluster-name={name}, eks:nodegroup-name={ng_name}"),
            Vec::new(),
            None,
        ));
    } else {
        let mut evidence = Vec::new();
        let mut ok = true;
        for i in &instances {
            let block = subnet_blocks.get(i.subnet_id.as_str()).copied().flatten();
            let good: Vec<&String> =
                i.ipv6.iter().filter(|a| parse_addr(a).ok().zip(block).is_some_and(|(a, b)| contains(b, a))).collect();
            ok &= !good.is_empty();
            evidence.push(format!(
                "{} in {}: {}",
                i.id,
                i.subnet_id,
                if i.ipv6.is_empty() { "NO IPv6 address".to_string() } else { i.ipv6.join(", ") }
            ));
        }
        checks.push(check(
            "nodes-ipv6",
            if ok { CheckStatus::Pass } else { CheckStatus::Fail },
            format!("{} node(s) hold an IPv6 address inside their subnet's /64", instances.len()),
            evidence,
            Some("nodes get IPv6 only from subnets with auto-assign IPv6 on: fix the subnets, then replace the nodes"),
        ));
    }

    // 5. The nodes' security groups allow the probe port from ::/0 (or allow_from), and
    //    egress to ::/0.
    match probe_port {
        None => {
            checks.push(check("probe-port-open", CheckStatus::Skipped, "no probe port in the plan", Vec::new(), None))
        }
        Some(_) if instances.is_empty() => checks.push(check(
            "probe-port-open",
            CheckStatus::Skipped,
            "no node instances to take security groups from",
            Vec::new(),
            None,
        )),
        Some(port) => {
            let wanted = allow_from.as_deref().and_then(|a| parse_prefix(a).ok()).unwrap_or_default();
            let mut groups: Vec<&String> = instances.iter().flat_map(|i| &i.security_groups).collect();
            groups.sort();
            groups.dedup();
            let mut ingress = Vec::new();
            let mut egress = Vec::new();
            for g in &groups {
                for r in aws.security_group_rules(g).await? {
                    let Some(cidr) = r.cidr_ipv6.as_deref().and_then(|c| parse_prefix(c).ok()) else { continue };
                    let covers_port = r.protocol == "-1"
                        || (r.protocol == "tcp" && r.from_port <= i32::from(port) && i32::from(port) <= r.to_port);
                    if r.egress && cidr.prefix_len() == 0 && (r.protocol == "-1" || covers_port) {
                        egress.push(format!("{g} egress {} to {cidr} ({})", r.protocol, r.id));
                    }
                    if !r.egress && covers_port && contains_prefix(cidr, wanted) {
                        ingress.push(format!("{g} allows {} port {port} from {cidr} ({})", r.protocol, r.id));
                    }
                }
            }
            let ok = !ingress.is_empty() && !egress.is_empty();
            let mut evidence: Vec<String> = ingress.into_iter().chain(egress).collect();
            if evidence.is_empty() {
                evidence.push(format!(
                    "groups checked: {}",
                    groups.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            checks.push(check(
                "probe-port-open",
                if ok { CheckStatus::Pass } else { CheckStatus::Fail },
                format!("the nodes' security groups allow TCP {port} from {wanted} and egress to ::/0"),
                evidence,
                Some("add an inbound rule for the port from ::/0 (or the plan's allow_from) and an outbound rule to ::/0 on the cluster security group"),
            ));
        }
    }

    // 6. Pod and node addresses.
    let mut given: Vec<String> = opts.addresses.clone();
    if let Some(k) = &opts.kubectl {
        given.extend(addresses_from_kubectl(k));
    }
    if given.is_empty() {
        checks.push(check("addresses", CheckStatus::Skipped, "no pod or node addresses given", Vec::new(), None));
    } else {
        let blocks: Vec<Ipv6Net> = subnets.iter().filter_map(|s| s.ipv6.first().copied()).collect();
        let mut evidence = Vec::new();
        let mut ok = true;
        let mut by_80: BTreeMap<Ipv6Net, Vec<String>> = BTreeMap::new();
        for a in &given {
            match parse_addr(a) {
                Err(e) => {
                    ok = false;
                    evidence.push(format!("{a}: invalid: {e}"));
                }
                Ok(addr) => match blocks.iter().find(|b| contains(**b, addr)) {
                    Some(_) => {
                        let node = supernet(Ipv6Net::new_assert(addr, 128), 80).unwrap_or_default();
                        by_80.entry(node).or_default().push(crate::net::canonical(addr).to_string());
                    }
                    None => {
                        ok = false;
                        evidence.push(format!(
                            "{a}: outside the node subnets{}",
                            vpc_blocks.first().map_or(String::new(), |b| if contains(*b, addr) {
                                format!(" (inside the VPC's {b})")
                            } else {
                                format!(" and outside the VPC's {b}")
                            })
                        ));
                    }
                },
            }
        }
        for (node, addrs) in &by_80 {
            evidence.push(format!("{node} (one node's prefix): {}", addrs.join(", ")));
        }
        checks.push(check(
            "addresses",
            if ok { CheckStatus::Pass } else { CheckStatus::Fail },
            format!("{} address(es) are valid IPv6 inside the node subnets", given.len()),
            evidence,
            Some(
                "pod addresses come from their node's /80 in a node subnet; an address elsewhere is not this cluster's",
            ),
        ));
    }

    // 7. The HTTP probe over IPv6.
    match &opts.probe {
        None => checks.push(check("http-probe", CheckStatus::Skipped, "no probe address given", Vec::new(), None)),
        Some((target, popts)) => match probe(target, popts).await {
            Ok(a) => checks.push(check(
                "http-probe",
                CheckStatus::Pass,
                format!("GET {} answered {}", a.url, a.status_line),
                vec![
                    format!("connect {} ms, first byte {} ms, total {} ms", a.connect_ms, a.first_byte_ms, a.total_ms),
                    format!("body: {}", a.body.chars().take(80).collect::<String>().replace(['\r', '\n'], " ")),
                ],
                None,
            )),
            Err(e) => checks.push(check(
                "http-probe",
                CheckStatus::Fail,
                format!("GET over IPv6 to {target} failed"),
                vec![e.to_string()],
                Some("check that the pod listens on the port and the security groups allow it from ::/0"),
            )),
        },
    }

    Ok(VerifyReport {
        schema_version: SCHEMA_VERSION,
        cluster: name.into(),
        region: region.into(),
        checks: checks.list,
        api_calls: aws.total_calls() - calls_before,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
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
