//! `down`: tears down exactly what carries this plan's ownership tags, in reverse order.

use std::collections::BTreeSet;
use std::time::Instant;

use super::journal::{Journal, Lock};
use super::wait::Poll;
use super::{EventKind, Outcome, Run, RunOptions, RunReport, WorkflowError};
use crate::aws::ec2::{TAG_PLAN, probe_description};
use crate::aws::{Aws, AwsError};
use crate::error::ErrorKind;
use crate::plan::{ClusterPlan, Finding, Severity, plan_id};

/// What to tear down.
#[derive(Debug, Clone, Copy)]
pub enum DownTarget<'a> {
    /// A plan (its nodegroup name and bring-your-own VPC are known).
    Plan(&'a ClusterPlan),
    /// A cluster by name, from tags alone (no plan file, no journal needed).
    Cluster {
        /// Cluster name.
        name: &'a str,
        /// Region.
        region: &'a str,
    },
}

impl DownTarget<'_> {
    fn name(&self) -> &str {
        match self {
            Self::Plan(p) => &p.name,
            Self::Cluster { name, .. } => name,
        }
    }

    fn region(&self) -> &str {
        match self {
            Self::Plan(p) => &p.region,
            Self::Cluster { region, .. } => region,
        }
    }
}

fn owned(tags: &std::collections::BTreeMap<String, String>, plan_id: &str) -> bool {
    tags.get(TAG_PLAN).map(String::as_str) == Some(plan_id)
}

/// Deletes everything this plan owns: the nodegroup, the probe rule, the cluster, then
/// the network. Waits where AWS needs it; a delete refused with `DependencyViolation` or
/// `ResourceInUseException` is tried again until the deadline, then the error names what
/// still blocks it. Resources of other owners, and bring-your-own resources, are never
/// touched. Idempotent: `down` of nothing succeeds.
pub async fn down(aws: &Aws, target: DownTarget<'_>, opts: &RunOptions) -> Result<RunReport, WorkflowError> {
    if aws.region() != target.region() {
        return Err(WorkflowError::RegionMismatch { plan: target.region().into(), client: aws.region().into() });
    }
    let name = target.name().to_string();
    let pid = plan_id(target.region(), &name);
    let lock = Lock::acquire(&opts.journal)?;
    let journal = match Journal::load(&opts.journal)? {
        Some(j) if j.plan_id == pid => j,
        Some(j) => {
            return Err(WorkflowError::NotOwned {
                resource: "journal".into(),
                id: opts.journal.display().to_string(),
                found: Some(j.plan_id),
            });
        }
        None => Journal::new(&name, &pid, target.region()),
    };
    let mut run = Run {
        aws,
        opts,
        cluster: name.clone(),
        plan_id: pid.clone(),
        started: Instant::now(),
        steps: Vec::new(),
        findings: Vec::new(),
        journal,
        lock,
    };

    // The cluster, if it is there: it names its VPC.
    let cluster = aws.describe_cluster(&name).await?;
    let cluster_ours = cluster.as_ref().is_some_and(|c| owned(&c.tags, &pid));
    if let Some(c) = &cluster
        && !cluster_ours
    {
        run.finding(Finding {
            rule: "not-owned".into(),
            severity: Severity::Warning,
            field: "name".into(),
            message: format!("cluster {name} exists but does not carry this plan's tags (eks6:plan-id {pid}); eks6 leaves it and its nodegroups alone"),
            fix: "delete it with the tool that created it".into(),
        });
        let _ = c;
    }

    let t = run.begin("nodegroup")?;
    let mut deleted = Vec::new();
    if cluster_ours {
        let names: Vec<String> = match target {
            DownTarget::Plan(p) => vec![p.nodegroup.name.clone()],
            DownTarget::Cluster { .. } => aws.list_nodegroups(&name).await?,
        };
        for ng in names {
            let Some(info) = aws.describe_nodegroup(&name, &ng).await? else { continue };
            if !owned(&info.tags, &pid) {
                continue;
            }
            if info.status != "DELETING" {
                retry_in_use(&run, "nodegroup", &format!("nodegroup {ng}"), || aws.delete_nodegroup(&name, &ng))
                    .await?;
            }
            run.wait_until("nodegroup", &format!("nodegroup {ng}"), || async {
                Ok(match aws.describe_nodegroup(&name, &ng).await? {
                    None => Poll::Ready(()),
                    Some(n) if n.status == "DELETE_FAILED" => {
                        return Err(WorkflowError::Failed {
                            resource: format!("nodegroup {ng}"),
                            status: n.status,
                            reason: n.issues.iter().map(|(c, m)| format!("{c}: {m}")).collect::<Vec<_>>().join("; "),
                        });
                    }
                    Some(n) => Poll::Pending(n.status),
                })
            })
            .await?;
            deleted.push(ng);
        }
    }
    run.journal.resources.remove("nodegroup");
    let outcome = if deleted.is_empty() { Outcome::Skipped } else { Outcome::Deleted };
    run.end(t, outcome, deleted)?;

    let t = run.begin("probe-rule")?;
    let mut deleted = Vec::new();
    if let Some(sg) = cluster.as_ref().and_then(|c| c.security_group_id.clone()) {
        let description = probe_description(&pid);
        for r in aws.security_group_rules(&sg).await? {
            if !r.egress && (owned(&r.tags, &pid) || r.description.as_deref() == Some(description.as_str())) {
                aws.revoke_ingress_rule(&sg, &r.id).await?;
                deleted.push(r.id);
            }
        }
    }
    run.journal.resources.remove("probe-rule");
    run.end(t, if deleted.is_empty() { Outcome::Skipped } else { Outcome::Deleted }, deleted)?;

    let t = run.begin("cluster")?;
    let mut outcome = Outcome::Skipped;
    if cluster_ours {
        if cluster.as_ref().is_some_and(|c| c.status != "DELETING") {
            retry_in_use(&run, "cluster", &format!("cluster {name}"), || aws.delete_cluster(&name)).await?;
        }
        run.wait_until("cluster", &format!("cluster {name}"), || async {
            Ok(match aws.describe_cluster(&name).await? {
                None => Poll::Ready(()),
                Some(c) => Poll::Pending(c.status),
            })
        })
        .await?;
        outcome = Outcome::Deleted;
    }
    run.journal.resources.remove("cluster");
    run.end(t, outcome, if outcome == Outcome::Deleted { vec![name.clone()] } else { Vec::new() })?;

    // The VPCs that hold this plan's network: tagged ones, the journal's, the plan's own.
    let mut vpcs: BTreeSet<String> = aws.vpcs_by_plan(&pid).await?.into_iter().map(|v| v.id).collect();
    if let Some(v) = run.journal.resources.get("vpc") {
        vpcs.insert(v.id.clone());
    }
    if let DownTarget::Plan(p) = target
        && let Some(id) = &p.vpc.id
    {
        vpcs.insert(id.clone());
    }
    if let Some(v) = cluster.as_ref().and_then(|c| c.vpc_id.clone())
        && cluster_ours
    {
        vpcs.insert(v);
    }

    let t = run.begin("network")?;
    let mut deleted = Vec::new();
    for vpc_id in &vpcs {
        teardown_vpc(&mut run, vpc_id, &mut deleted).await?;
    }
    // Leftovers outside any VPC: an internet gateway created but never attached, an
    // Elastic IP whose NAT gateway was never made.
    for g in aws.internet_gateways_by_plan(&pid).await? {
        if g.vpcs.is_empty() && owned(&g.tags, &pid) {
            aws.delete_internet_gateway(&g.id).await?;
            deleted.push(g.id);
        }
    }
    for e in aws.addresses_by_plan(&pid).await? {
        if owned(&e.tags, &pid) {
            release_eip(&run, &e.allocation_id).await?;
            deleted.push(e.allocation_id);
        }
    }
    run.end(t, if deleted.is_empty() { Outcome::Skipped } else { Outcome::Deleted }, deleted)?;

    let region = target.region().to_string();
    let report = run.report("down", &region);
    Journal::remove(&opts.journal)?;
    Ok(report)
}

/// Calls a delete until it is not refused as in use, or the deadline.
async fn retry_in_use<F, Fut>(run: &Run<'_>, step: &str, what: &str, mut f: F) -> Result<(), WorkflowError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::AwsConflict || e.kind() == ErrorKind::AwsThrottled => {
                run.emit(EventKind::Retry { step: step.into(), resource: what.into(), reason: e.to_string() });
                attempt += 1;
                if !run.retry_pause(step, started, attempt).await? {
                    return Err(WorkflowError::Blocked {
                        resource: what.into(),
                        blockers: vec![e.to_string()],
                        limit: run.opts.wait.deadline,
                    });
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn release_eip(run: &Run<'_>, allocation: &str) -> Result<(), WorkflowError> {
    retry_in_use(run, "network", &format!("Elastic IP {allocation}"), || run.aws.release_address(allocation)).await
}

/// Deletes what this plan owns in one VPC, and the VPC itself if it is the plan's.
async fn teardown_vpc(run: &mut Run<'_>, vpc_id: &str, deleted: &mut Vec<String>) -> Result<(), WorkflowError> {
    let aws = run.aws;
    let pid = run.plan_id.clone();
    let Some(vpc) = aws.vpc(vpc_id).await? else { return Ok(()) };

    // NAT gateways, then their Elastic IPs.
    let nats: Vec<_> =
        aws.nat_gateways(vpc_id).await?.into_iter().filter(|n| owned(&n.tags, &pid) && n.state != "deleted").collect();
    for n in &nats {
        if n.state != "deleting" {
            aws.delete_nat_gateway(&n.id).await?;
        }
    }
    for n in &nats {
        let id = n.id.clone();
        run.wait_until("network", &format!("NAT gateway {id}"), || async {
            let all = aws.nat_gateways(vpc_id).await?;
            Ok(match all.iter().find(|x| x.id == id).map(|x| x.state.as_str()) {
                None | Some("deleted") => Poll::Ready(()),
                Some(s) => Poll::Pending(s.to_string()),
            })
        })
        .await?;
        deleted.push(n.id.clone());
    }
    for e in aws.addresses_by_plan(&pid).await? {
        if owned(&e.tags, &pid) {
            release_eip(run, &e.allocation_id).await?;
            deleted.push(e.allocation_id);
        }
    }

    // Route tables: disassociate, delete.
    for t in aws.route_tables(vpc_id).await? {
        if !owned(&t.tags, &pid) || t.main {
            continue;
        }
        for (assoc, _) in &t.associations {
            aws.disassociate_route_table(assoc).await?;
        }
        retry_in_use(run, "network", &format!("route table {}", t.id), || aws.delete_route_table(&t.id)).await?;
        deleted.push(t.id);
    }

    // Gateways.
    for g in aws.egress_only_gateways().await? {
        if g.vpcs.iter().any(|v| v == vpc_id) && owned(&g.tags, &pid) {
            aws.delete_egress_only_gateway(&g.id).await?;
            deleted.push(g.id);
        }
    }
    for g in aws.internet_gateways(vpc_id).await? {
        if owned(&g.tags, &pid) {
            aws.detach_internet_gateway(&g.id, vpc_id).await?;
            retry_in_use(run, "network", &format!("internet gateway {}", g.id), || aws.delete_internet_gateway(&g.id))
                .await?;
            deleted.push(g.id);
        }
    }

    // Subnets, waiting out ENIs the CNI or load balancers leave behind.
    for s in aws.subnets(vpc_id).await? {
        if owned(&s.tags, &pid) {
            delete_blocked(run, &format!("subnet {}", s.id), vpc_id, Some(&s.id), || aws.delete_subnet(&s.id)).await?;
            deleted.push(s.id);
        }
    }

    if owned(&vpc.tags, &pid) {
        delete_blocked(run, &format!("VPC {vpc_id}"), vpc_id, None, || aws.delete_vpc(vpc_id)).await?;
        deleted.push(vpc_id.to_string());
    }
    run.journal.resources.clear();
    Ok(())
}

/// A delete that `DependencyViolation` may refuse for a while; at the deadline the error
/// names the network interfaces still in the way.
async fn delete_blocked<F, Fut>(
    run: &Run<'_>,
    what: &str,
    vpc_id: &str,
    subnet: Option<&str>,
    f: F,
) -> Result<(), WorkflowError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    match retry_in_use(run, "network", what, f).await {
        Err(WorkflowError::Blocked { resource, blockers, limit }) => {
            let enis = run.aws.network_interfaces(vpc_id).await.unwrap_or_default();
            let named: Vec<String> = enis
                .into_iter()
                .filter(|n| subnet.is_none_or(|s| s == n.subnet_id))
                .map(|n| format!("{} ({})", n.id, n.description))
                .collect();
            Err(WorkflowError::Blocked { resource, blockers: if named.is_empty() { blockers } else { named }, limit })
        }
        other => other,
    }
}
