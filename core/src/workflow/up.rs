//! `up`: the walkthrough's steps, each idempotent and resumable.

use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::BTreeMap;

use super::journal::{Journal, Lock};
use super::wait::Poll;
use super::{EventKind, Outcome, Run, RunOptions, RunReport, WorkflowError};
use crate::aws::ec2::{NewSubnet, Owner, SubnetInfo, TAG_PLAN, TAG_ROLE, probe_description};
use crate::aws::eks::{NewCluster, NewNodegroup};
use crate::aws::{Aws, AwsError};
use crate::error::ErrorKind;
use crate::plan::{AzSpec, ClusterPlan, Finding, NatGateways, NodeSubnets, Severity, SubnetKind};

/// Stands up the plan: VPC, subnets, gateways, routes, the IPv6 cluster, the probe rule,
/// the nodegroup. Re-running after success changes nothing; re-running after a failure
/// or a crash resumes.
pub async fn up(aws: &Aws, plan: &ClusterPlan, opts: &RunOptions) -> Result<RunReport, WorkflowError> {
    let validation = plan.check()?;
    if aws.region() != plan.region {
        return Err(WorkflowError::RegionMismatch { plan: plan.region.clone(), client: aws.region().into() });
    }
    let plan_id = plan.plan_id();
    let lock = Lock::acquire(&opts.journal)?;
    let journal = match Journal::load(&opts.journal)? {
        Some(j) if j.plan_id == plan_id => j,
        Some(j) => {
            return Err(WorkflowError::NotOwned {
                resource: "journal".into(),
                id: opts.journal.display().to_string(),
                found: Some(j.plan_id),
            });
        }
        None => Journal::new(&plan.name, &plan_id, &plan.region),
    };
    let mut run = Run {
        aws,
        opts,
        cluster: plan.name.clone(),
        plan_id: plan_id.clone(),
        started: std::time::Instant::now(),
        steps: Vec::new(),
        findings: Vec::new(),
        journal,
        lock,
    };
    for f in validation.findings {
        run.finding(f);
    }
    let owner = Owner { cluster: &plan.name, plan_id: &plan_id, extra: &plan.tags };
    let mut net = Network::default();

    let t = run.begin("vpc")?;
    let outcome = step_vpc(&mut run, plan, &owner, &mut net).await?;
    run.end(t, outcome, vec![net.vpc_id.clone()])?;

    let t = run.begin("subnets")?;
    let outcome = step_subnets(&mut run, plan, &owner, &mut net).await?;
    let ids = net.subnets.iter().map(|s| s.id.clone()).collect();
    run.end(t, outcome, ids)?;

    if net.byo_subnets {
        // The user's own subnets keep the user's own routing.
        for name in ["internet-gateway", "egress-only-gateway", "nat-gateways", "route-tables"] {
            let t = run.begin(name)?;
            run.end(t, Outcome::Skipped, Vec::new())?;
        }
    } else {
        let t = run.begin("internet-gateway")?;
        let outcome = step_igw(&mut run, &owner, &mut net).await?;
        run.end(t, outcome, vec![net.igw.clone()])?;

        let t = run.begin("egress-only-gateway")?;
        let outcome = step_eigw(&mut run, plan, &owner, &mut net).await?;
        run.end(t, outcome, net.eigw.iter().cloned().collect())?;

        let t = run.begin("nat-gateways")?;
        let outcome = step_nat(&mut run, plan, &owner, &mut net).await?;
        let eips = run.journal.resources.iter().filter(|(k, _)| k.starts_with("eip/")).map(|(_, v)| v.id.clone());
        let resources = net.nats.values().cloned().chain(eips).collect();
        run.end(t, outcome, resources)?;

        let t = run.begin("route-tables")?;
        let (outcome, tables) = step_routes(&mut run, plan, &owner, &net).await?;
        run.end(t, outcome, tables)?;
    }

    let t = run.begin("cluster")?;
    let (outcome, sg) = step_cluster(&mut run, plan, &owner, &net).await?;
    run.end(t, outcome, vec![plan.name.clone()])?;

    let t = run.begin("probe-rule")?;
    let (outcome, rules) = step_probe(&mut run, plan, &owner, sg.as_deref()).await?;
    run.end(t, outcome, rules)?;

    let t = run.begin("nodegroup")?;
    let outcome = step_nodegroup(&mut run, plan, &owner, &net).await?;
    run.end(t, outcome, vec![plan.nodegroup.name.clone()])?;

    let region = plan.region.clone();
    Ok(run.report("up", &region))
}

/// What the steps learn and pass on.
#[derive(Debug, Default)]
struct Network {
    vpc_id: String,
    vpc_ipv6: Option<Ipv6Net>,
    byo_vpc: bool,
    byo_subnets: bool,
    /// The plan's subnets (or the user's), with their role keys.
    subnets: Vec<PlacedSubnet>,
    igw: String,
    eigw: Option<String>,
    /// NAT gateway id by zone index.
    nats: BTreeMap<usize, String>,
}

#[derive(Debug, Clone)]
struct PlacedSubnet {
    key: String,
    kind: SubnetKind,
    zone_index: usize,
    id: String,
}

fn owned_by(tags: &BTreeMap<String, String>, plan_id: &str) -> bool {
    tags.get(TAG_PLAN).map(String::as_str) == Some(plan_id)
}

fn role_of(tags: &BTreeMap<String, String>) -> Option<&str> {
    tags.get(TAG_ROLE).map(String::as_str)
}

/// Whether a failed create may have happened on the server (its answer was lost).
fn ambiguous(e: &AwsError) -> bool {
    matches!(e.kind(), ErrorKind::AwsService | ErrorKind::AwsNetwork | ErrorKind::Timeout | ErrorKind::AwsThrottled)
}

impl Run<'_> {
    /// Creates a resource that has no client token, safely: after an ambiguous failure
    /// it looks the resource up (by its tags) before trying again, so nothing is created
    /// twice.
    async fn create_once<T, Find, FindFut, Create, CreateFut>(
        &self,
        step: &str,
        what: &str,
        mut find: Find,
        mut create: Create,
    ) -> Result<(T, bool), WorkflowError>
    where
        Find: FnMut() -> FindFut,
        FindFut: std::future::Future<Output = Result<Option<T>, AwsError>>,
        Create: FnMut() -> CreateFut,
        CreateFut: std::future::Future<Output = Result<T, AwsError>>,
    {
        let started = std::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            match create().await {
                Ok(v) => return Ok((v, true)),
                Err(e) if ambiguous(&e) => {
                    self.emit(EventKind::Retry { step: step.into(), resource: what.into(), reason: e.to_string() });
                    attempt += 1;
                    if !self.retry_pause(step, started, attempt).await? || attempt >= 8 {
                        return Err(e.into());
                    }
                    if let Some(v) = find().await? {
                        return Ok((v, false));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

async fn step_vpc(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    net: &mut Network,
) -> Result<Outcome, WorkflowError> {
    let aws = run.aws;
    if let Some(id) = &plan.vpc.id {
        let Some(vpc) = aws.vpc(id).await? else {
            return Err(AwsError::local(
                ErrorKind::AwsNotFound,
                "DescribeVpcs",
                format!("VPC {id} does not exist in {}", plan.region),
            )
            .into());
        };
        let Some(v6) = vpc.ipv6.first().copied() else {
            return Err(WorkflowError::Network {
                findings: vec![finding(
                    "vpc-ipv6-block",
                    "vpc.id",
                    format!("VPC {id} has no IPv6 CIDR block"),
                    "associate an Amazon-provided IPv6 block with the VPC (aws ec2 associate-vpc-cidr-block --amazon-provided-ipv6-cidr-block)",
                )],
            });
        };
        net.vpc_id = vpc.id;
        net.vpc_ipv6 = Some(v6);
        net.byo_vpc = true;
        run.record("vpc", "vpc", id, false)?;
        return Ok(Outcome::Found);
    }
    let find = || async {
        let vpcs = aws.vpcs_by_plan(owner.plan_id).await?;
        Ok(vpcs.into_iter().find(|v| role_of(&v.tags) == Some("vpc")).map(|v| v.id))
    };
    let (id, created) = match find().await? {
        Some(id) => (id, false),
        None => run.create_once("vpc", "VPC", find, || aws.create_vpc(owner, &plan.vpc.ipv4_cidr)).await?,
    };
    run.record("vpc", "vpc", &id, true)?;
    // The Amazon-provided /56 arrives asynchronously.
    let v6 = run
        .wait_until("vpc", &id, || async {
            let vpc = aws.vpc(&id).await?;
            Ok(match vpc.and_then(|v| v.ipv6.first().copied()) {
                Some(b) => Poll::Ready(b),
                None => Poll::Pending("associating IPv6 block".into()),
            })
        })
        .await?;
    net.vpc_id = id;
    net.vpc_ipv6 = Some(v6);
    Ok(if created { Outcome::Created } else { Outcome::Found })
}

fn finding(rule: &str, field: &str, message: String, fix: &str) -> Finding {
    Finding { rule: rule.into(), severity: Severity::Error, field: field.into(), message, fix: fix.into() }
}

async fn zones(aws: &Aws, plan: &ClusterPlan) -> Result<Vec<String>, WorkflowError> {
    match &plan.vpc.availability_zones {
        AzSpec::Names(n) => Ok(n.clone()),
        AzSpec::Count(n) => {
            let all = aws.availability_zones().await?;
            if all.len() < *n as usize {
                return Err(AwsError::local(
                    ErrorKind::AwsInvalidInput,
                    "DescribeAvailabilityZones",
                    format!("region {} offers {} availability zones; the plan asks for {n}", plan.region, all.len()),
                )
                .into());
            }
            Ok(all.into_iter().take(*n as usize).map(|(name, _)| name).collect())
        }
    }
}

async fn step_subnets(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    net: &mut Network,
) -> Result<Outcome, WorkflowError> {
    let aws = run.aws;
    let existing = aws.subnets(&net.vpc_id).await?;
    if !plan.vpc.subnet_ids.is_empty() {
        return byo_subnets(run, plan, net, &existing).await;
    }
    let zones = zones(aws, plan).await?;
    let mine: BTreeMap<String, &SubnetInfo> = existing
        .iter()
        .filter(|s| owned_by(&s.tags, owner.plan_id))
        .filter_map(|s| Some((role_of(&s.tags)?.strip_prefix("subnet/")?.to_string(), s)))
        .collect();
    // Blocks in use by subnets that are not this plan's own.
    let used6: Vec<Ipv6Net> =
        existing.iter().filter(|s| !owned_by(&s.tags, owner.plan_id)).flat_map(|s| s.ipv6.clone()).collect();
    let used4: Vec<Ipv4Net> =
        existing.iter().filter(|s| !owned_by(&s.tags, owner.plan_id)).filter_map(|s| s.ipv4).collect();
    let mut mine6: Vec<Ipv6Net> = used6.clone();
    let mut mine4: Vec<Ipv4Net> = used4.clone();
    for s in mine.values() {
        mine6.extend(s.ipv6.iter().copied());
        mine4.extend(s.ipv4);
    }
    let addresses = plan.address_plan(net.vpc_ipv6, &zones, &mine6, &mine4)?;
    let mut created_any = false;
    // The plan's subnets that exist keep their blocks; new ones take the next free.
    let mut fresh = addresses.subnets.into_iter();
    for (kind, on) in [(SubnetKind::Public, plan.vpc.public_subnets), (SubnetKind::Private, plan.vpc.private_subnets)] {
        if !on {
            continue;
        }
        for (z, zone) in zones.iter().enumerate() {
            let key = format!("{kind}-{z}");
            let role = format!("subnet/{key}");
            let info = match mine.get(&key) {
                Some(s) => (*s).clone(),
                None => {
                    let planned = fresh.next().ok_or_else(|| {
                        AwsError::local(
                            ErrorKind::Exhausted,
                            "CreateSubnet",
                            format!("no free block left for subnet {key}"),
                        )
                    })?;
                    let v6 = planned.ipv6.ok_or_else(|| {
                        AwsError::local(ErrorKind::AwsService, "DescribeVpcs", "the VPC has no IPv6 block".to_string())
                    })?;
                    let vpc_id = net.vpc_id.clone();
                    let find = || async {
                        let all = aws.subnets(&vpc_id).await?;
                        Ok(all
                            .into_iter()
                            .find(|s| owned_by(&s.tags, owner.plan_id) && role_of(&s.tags) == Some(role.as_str())))
                    };
                    let (created, _) = run
                        .create_once("subnets", &role, find, || async {
                            // Where the AWS load balancer controller puts internet-facing and internal load balancers.
                            let elb = match kind {
                                SubnetKind::Public => "kubernetes.io/role/elb",
                                SubnetKind::Private => "kubernetes.io/role/internal-elb",
                            };
                            let new = NewSubnet {
                                role: &role,
                                vpc_id: &vpc_id,
                                zone,
                                ipv4: planned.ipv4,
                                ipv6: v6,
                                elb_role: elb,
                            };
                            let id = aws.create_subnet(owner, &new).await?;
                            Ok(SubnetInfo {
                                id,
                                vpc_id: vpc_id.clone(),
                                ipv4: Some(planned.ipv4),
                                ipv6: vec![v6],
                                assign_ipv6: false,
                                map_public_ip: false,
                                tags: BTreeMap::new(),
                            })
                        })
                        .await?;
                    created_any = true;
                    created
                }
            };
            run.record(&role, "subnet", &info.id, true)?;
            // Rule 5: auto-assign IPv6 on every subnet; public IPv4 on public ones only.
            if !info.assign_ipv6 {
                aws.set_assign_ipv6(&info.id).await?;
                created_any = true;
            }
            if kind == SubnetKind::Public && !info.map_public_ip {
                aws.set_map_public_ip(&info.id).await?;
                created_any = true;
            }
            net.subnets.push(PlacedSubnet { key, kind, zone_index: z, id: info.id.clone() });
        }
    }
    Ok(if created_any { Outcome::Created } else { Outcome::Found })
}

async fn byo_subnets(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    net: &mut Network,
    existing: &[SubnetInfo],
) -> Result<Outcome, WorkflowError> {
    let mut problems = Vec::new();
    let mut changed = false;
    net.byo_subnets = true;
    for (i, id) in plan.vpc.subnet_ids.iter().enumerate() {
        let field = format!("vpc.subnet_ids[{i}]");
        let Some(s) = existing.iter().find(|s| &s.id == id) else {
            problems.push(finding(
                "subnet-in-vpc",
                &field,
                format!("subnet {id} is not in VPC {}", net.vpc_id),
                "list subnets of the plan's VPC",
            ));
            continue;
        };
        if s.ipv6.is_empty() {
            problems.push(finding(
                "subnet-ipv6-block",
                &field,
                format!("subnet {id} has no IPv6 CIDR block; EKS needs dual-stack subnets"),
                "associate a /64 from the VPC's /56 with the subnet",
            ));
        }
        if !s.assign_ipv6 {
            if plan.vpc.enable_auto_assign_ipv6 {
                run.aws.set_assign_ipv6(id).await?;
                changed = true;
            } else {
                problems.push(finding(
                    "auto-assign-ipv6",
                    &field,
                    format!("subnet {id} does not auto-assign IPv6 addresses; nodegroup creation would fail with Ec2SubnetMissingIpv6Assignment"),
                    "set vpc.enable_auto_assign_ipv6 = true, or turn on \"Auto-assign IPv6 address\" on the subnet",
                ));
            }
        }
        run.record(&format!("subnet/byo-{i}"), "subnet", id, false)?;
        net.subnets.push(PlacedSubnet {
            key: format!("byo-{i}"),
            kind: if s.map_public_ip { SubnetKind::Public } else { SubnetKind::Private },
            zone_index: i,
            id: id.clone(),
        });
    }
    if !problems.is_empty() {
        return Err(WorkflowError::Network { findings: problems });
    }
    Ok(if changed { Outcome::Created } else { Outcome::Found })
}

async fn step_igw(run: &mut Run<'_>, owner: &Owner<'_>, net: &mut Network) -> Result<Outcome, WorkflowError> {
    let aws = run.aws;
    let attached = aws.internet_gateways(&net.vpc_id).await?;
    if let Some(g) = attached.first() {
        // Ours from an earlier run, or the existing VPC's own gateway (used, never deleted).
        let ours = owned_by(&g.tags, owner.plan_id);
        run.record("internet-gateway", "internet-gateway", &g.id, ours)?;
        net.igw = g.id.clone();
        return Ok(Outcome::Found);
    }
    // One created by a run that stopped before attaching it.
    let find = || async {
        let gws = aws.internet_gateways_by_plan(owner.plan_id).await?;
        Ok(gws.into_iter().find(|g| g.vpcs.is_empty()).map(|g| g.id))
    };
    let id = match find().await? {
        Some(id) => id,
        None => {
            run.create_once("internet-gateway", "internet gateway", find, || aws.create_internet_gateway(owner))
                .await?
                .0
        }
    };
    run.record("internet-gateway", "internet-gateway", &id, true)?;
    aws.attach_internet_gateway(&id, &net.vpc_id).await?;
    net.igw = id;
    Ok(Outcome::Created)
}

fn token(plan_id: &str, role: &str, vpc_id: &str) -> String {
    let short = plan_id.trim_start_matches("eks6-");
    format!("{short}-{role}-{vpc_id}").chars().take(64).collect()
}

async fn step_eigw(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    net: &mut Network,
) -> Result<Outcome, WorkflowError> {
    if !plan.vpc.private_subnets {
        return Ok(Outcome::Skipped);
    }
    let aws = run.aws;
    let all = aws.egress_only_gateways().await?;
    let in_vpc: Vec<_> = all.into_iter().filter(|g| g.vpcs.contains(&net.vpc_id)).collect();
    if let Some(g) = in_vpc.iter().find(|g| owned_by(&g.tags, owner.plan_id)).or(in_vpc.first()) {
        run.record("egress-only-gateway", "egress-only-gateway", &g.id, owned_by(&g.tags, owner.plan_id))?;
        net.eigw = Some(g.id.clone());
        return Ok(Outcome::Found);
    }
    // A client token makes the create itself idempotent.
    let id = aws.create_egress_only_gateway(owner, &net.vpc_id, &token(owner.plan_id, "eigw", &net.vpc_id)).await?;
    run.record("egress-only-gateway", "egress-only-gateway", &id, true)?;
    net.eigw = Some(id);
    Ok(Outcome::Created)
}

async fn step_nat(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    net: &mut Network,
) -> Result<Outcome, WorkflowError> {
    if !plan.vpc.private_subnets || plan.vpc.nat_gateways == NatGateways::None {
        return Ok(Outcome::Skipped);
    }
    if !plan.vpc.public_subnets {
        run.finding(Finding {
            rule: "nat-needs-public".into(),
            severity: Severity::Warning,
            field: "vpc.nat_gateways".into(),
            message: "NAT gateways need a public subnet; none is planned, so private subnets get no IPv4 egress".into(),
            fix: "set public_subnets = true or nat_gateways = \"none\"".into(),
        });
        return Ok(Outcome::Skipped);
    }
    let aws = run.aws;
    let zones: Vec<usize> = match plan.vpc.nat_gateways {
        NatGateways::PerAz => {
            net.subnets.iter().filter(|s| s.kind == SubnetKind::Public).map(|s| s.zone_index).collect()
        }
        _ => vec![0],
    };
    let existing = aws.nat_gateways(&net.vpc_id).await?;
    let mut eips = aws.addresses_by_plan(owner.plan_id).await?;
    let mut created = false;
    let mut pending = Vec::new();
    for z in zones {
        let role = format!("nat/{z}");
        if let Some(n) = existing.iter().find(|n| {
            owned_by(&n.tags, owner.plan_id)
                && role_of(&n.tags) == Some(role.as_str())
                && !matches!(n.state.as_str(), "deleting" | "deleted" | "failed")
        }) {
            run.record(&role, "nat-gateway", &n.id, true)?;
            net.nats.insert(z, n.id.clone());
            if n.state != "available" {
                pending.push(n.id.clone());
            }
            continue;
        }
        let eip_role = format!("eip/{z}");
        let allocation = match eips.iter().find(|e| role_of(&e.tags) == Some(eip_role.as_str())) {
            Some(e) => e.allocation_id.clone(),
            None => {
                let find = || async {
                    let all = aws.addresses_by_plan(owner.plan_id).await?;
                    Ok(all.into_iter().find(|e| role_of(&e.tags) == Some(eip_role.as_str())).map(|e| e.allocation_id))
                };
                run.create_once("nat-gateways", &eip_role, find, || aws.allocate_address(owner, &eip_role)).await?.0
            }
        };
        run.record(&eip_role, "elastic-ip", &allocation, true)?;
        eips = aws.addresses_by_plan(owner.plan_id).await?;
        let subnet = net
            .subnets
            .iter()
            .find(|s| s.kind == SubnetKind::Public && s.zone_index == z)
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let id = aws
            .create_nat_gateway(
                owner,
                &role,
                &subnet,
                &allocation,
                &token(owner.plan_id, &format!("nat{z}"), &net.vpc_id),
            )
            .await?;
        run.record(&role, "nat-gateway", &id, true)?;
        net.nats.insert(z, id.clone());
        pending.push(id);
        created = true;
    }
    for id in pending {
        let vpc_id = net.vpc_id.clone();
        run.wait_until("nat-gateways", &id, || async {
            let nats = aws.nat_gateways(&vpc_id).await?;
            let state = nats.iter().find(|n| n.id == id).map(|n| n.state.clone()).unwrap_or_else(|| "missing".into());
            match state.as_str() {
                "available" => Ok(Poll::Ready(())),
                "failed" | "deleted" | "deleting" | "missing" => Err(WorkflowError::Failed {
                    resource: format!("NAT gateway {id}"),
                    status: state,
                    reason: "it did not become available".into(),
                }),
                _ => Ok(Poll::Pending(state)),
            }
        })
        .await?;
    }
    Ok(if created { Outcome::Created } else { Outcome::Found })
}

/// A route table the plan wants: its role, routes (destination, target) and subnets.
type WantedTable = (String, Vec<(String, String)>, Vec<String>);

async fn step_routes(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    net: &Network,
) -> Result<(Outcome, Vec<String>), WorkflowError> {
    let aws = run.aws;
    let mut tables = aws.route_tables(&net.vpc_id).await?;
    let mut changed = false;
    let mut ids = Vec::new();
    let mut wanted: Vec<WantedTable> = Vec::new();
    if plan.vpc.public_subnets {
        let subnets = net.subnets.iter().filter(|s| s.kind == SubnetKind::Public).map(|s| s.id.clone()).collect();
        wanted.push((
            "route-table/public".into(),
            vec![("::/0".into(), net.igw.clone()), ("0.0.0.0/0".into(), net.igw.clone())],
            subnets,
        ));
    }
    for s in net.subnets.iter().filter(|s| s.kind == SubnetKind::Private) {
        let mut routes = Vec::new();
        if let Some(e) = &net.eigw {
            routes.push(("::/0".to_string(), e.clone()));
        }
        let nat = match plan.vpc.nat_gateways {
            NatGateways::PerAz => net.nats.get(&s.zone_index),
            _ => net.nats.get(&0),
        };
        if let Some(n) = nat {
            routes.push(("0.0.0.0/0".to_string(), n.clone()));
        }
        wanted.push((format!("route-table/{}", s.key), routes, vec![s.id.clone()]));
    }
    for (role, routes, subnets) in wanted {
        let table =
            match tables.iter().find(|t| owned_by(&t.tags, owner.plan_id) && role_of(&t.tags) == Some(role.as_str())) {
                Some(t) => t.clone(),
                None => {
                    // Route tables take a client token; the SDK fills one per call, so look
                    // up by tag after an ambiguous failure.
                    let vpc_id = net.vpc_id.clone();
                    let find = || async {
                        let all = aws.route_tables(&vpc_id).await?;
                        Ok(all
                            .into_iter()
                            .find(|t| owned_by(&t.tags, owner.plan_id) && role_of(&t.tags) == Some(role.as_str()))
                            .map(|t| t.id))
                    };
                    let (id, created) = run
                        .create_once("route-tables", &role, find, || aws.create_route_table(owner, &role, &vpc_id))
                        .await?;
                    changed = true;
                    if !created {
                        tables = aws.route_tables(&net.vpc_id).await?;
                    }
                    match tables.iter().find(|t| t.id == id) {
                        Some(t) => t.clone(),
                        // A new table has only its local routes and no associations: no
                        // need to describe it again.
                        None if created => crate::aws::ec2::RouteTableInfo {
                            id,
                            routes: Vec::new(),
                            associations: Vec::new(),
                            main: false,
                            tags: BTreeMap::new(),
                        },
                        None => {
                            return Err(AwsError::local(
                                ErrorKind::AwsService,
                                "DescribeRouteTables",
                                format!("route table {id} vanished"),
                            )
                            .into());
                        }
                    }
                }
            };
        run.record(&role, "route-table", &table.id, true)?;
        for (dest, target) in routes {
            if !table.routes.iter().any(|r| r.destination == dest && r.target == target) {
                aws.create_route(&table.id, &dest, &target).await?;
                changed = true;
            }
        }
        for subnet in subnets {
            if table.associations.iter().any(|(_, s)| s == &subnet) {
                continue;
            }
            // Associated with another table of the VPC (not the main one): move it.
            let other =
                tables.iter().find_map(|t| t.associations.iter().find(|(_, s)| s == &subnet).map(|(a, _)| a.clone()));
            match other {
                Some(assoc) => aws.replace_route_table_association(&assoc, &table.id).await?,
                None => aws.associate_route_table(&table.id, &subnet).await?,
            }
            changed = true;
        }
        ids.push(table.id.clone());
    }
    Ok((if changed { Outcome::Created } else { Outcome::Found }, ids))
}

async fn step_cluster(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    net: &Network,
) -> Result<(Outcome, Option<String>), WorkflowError> {
    let aws = run.aws;
    let mut outcome = Outcome::Found;
    match aws.describe_cluster(&plan.name).await? {
        Some(c) if !owned_by(&c.tags, owner.plan_id) => {
            return Err(WorkflowError::NotOwned {
                resource: "EKS cluster".into(),
                id: plan.name.clone(),
                found: c.tags.get(TAG_PLAN).cloned(),
            });
        }
        Some(c) if c.status == "DELETING" || c.status == "FAILED" => {
            return Err(WorkflowError::Failed {
                resource: format!("EKS cluster {}", plan.name),
                status: c.status,
                reason: "run `eks6 down` first, then `up` again".into(),
            });
        }
        Some(_) => {}
        None => {
            let subnet_ids: Vec<String> = net.subnets.iter().map(|s| s.id.clone()).collect();
            let token = token(owner.plan_id, "cluster", &net.vpc_id);
            aws.create_cluster(
                owner,
                &NewCluster {
                    name: &plan.name,
                    version: &plan.kubernetes_version,
                    role_arn: &plan.cluster_role_arn,
                    subnet_ids: &subnet_ids,
                    public_endpoint: plan.cluster.endpoint_public_access,
                    private_endpoint: plan.cluster.endpoint_private_access,
                    token: &token,
                },
            )
            .await?;
            outcome = Outcome::Created;
        }
    }
    run.record("cluster", "eks-cluster", &plan.name, true)?;
    let name = plan.name.clone();
    let info = run
        .wait_until("cluster", &format!("cluster {name}"), || async {
            match aws.describe_cluster(&name).await? {
                Some(c) if c.status == "ACTIVE" => Ok(Poll::Ready(c)),
                Some(c) if c.status == "FAILED" || c.status == "DELETING" => Err(WorkflowError::Failed {
                    resource: format!("EKS cluster {name}"),
                    status: c.status,
                    reason: "EKS did not make it ACTIVE".into(),
                }),
                Some(c) => Ok(Poll::Pending(c.status)),
                None => Ok(Poll::Pending("not visible yet".into())),
            }
        })
        .await?;
    if info.ip_family.as_deref().is_some_and(|f| f != "ipv6") {
        return Err(WorkflowError::Failed {
            resource: format!("EKS cluster {}", plan.name),
            status: format!("ipFamily {}", info.ip_family.unwrap_or_default()),
            reason: "the cluster is not IPv6, and the family cannot change; delete it and create it again".into(),
        });
    }
    Ok((outcome, info.security_group_id))
}

async fn step_probe(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    sg: Option<&str>,
) -> Result<(Outcome, Vec<String>), WorkflowError> {
    let Some(probe) = &plan.probe else {
        return Ok((Outcome::Skipped, Vec::new()));
    };
    let Some(sg) = sg else {
        run.finding(Finding {
            rule: "cluster-security-group".into(),
            severity: Severity::Warning,
            field: "probe.port".into(),
            message: format!("cluster {} reports no cluster security group (resourcesVpcConfig.clusterSecurityGroupId), so the probe rule was not added", plan.name),
            fix: "add TCP port to the nodes' security group by hand, or check the cluster in the EKS console".into(),
        });
        return Ok((Outcome::Skipped, Vec::new()));
    };
    let aws = run.aws;
    let port = u16::try_from(probe.port).unwrap_or(80);
    let description = probe_description(owner.plan_id);
    let find = || async {
        let rules = aws.security_group_rules(sg).await?;
        Ok::<_, AwsError>(
            rules
                .into_iter()
                .find(|r| {
                    !r.egress
                        && (owned_by(&r.tags, owner.plan_id) || r.description.as_deref() == Some(description.as_str()))
                })
                .map(|r| r.id),
        )
    };
    if let Some(id) = find().await? {
        run.record("probe-rule", "security-group-rule", &format!("{sg}/{id}"), true)?;
        return Ok((Outcome::Found, vec![id]));
    }
    match aws.authorize_probe(owner, sg, port, &probe.allow_from).await {
        Ok(id) => {
            let id = match id {
                Some(id) => id,
                None => find().await?.unwrap_or_default(),
            };
            run.record("probe-rule", "security-group-rule", &format!("{sg}/{id}"), true)?;
            Ok((Outcome::Created, vec![id]))
        }
        Err(e) if e.has_code("InvalidPermission.Duplicate") => {
            run.finding(Finding {
                rule: "probe-rule-exists".into(),
                severity: Severity::Info,
                field: "probe.port".into(),
                message: format!("security group {sg} already allows TCP {port} from {} by a rule eks6 did not make; eks6 leaves it alone", probe.allow_from),
                fix: "nothing to do".into(),
            });
            Ok((Outcome::Found, Vec::new()))
        }
        Err(e) => Err(e.into()),
    }
}

async fn step_nodegroup(
    run: &mut Run<'_>,
    plan: &ClusterPlan,
    owner: &Owner<'_>,
    net: &Network,
) -> Result<Outcome, WorkflowError> {
    let aws = run.aws;
    let ng = &plan.nodegroup;
    let mut outcome = Outcome::Found;
    match aws.describe_nodegroup(&plan.name, &ng.name).await? {
        Some(n) if !owned_by(&n.tags, owner.plan_id) => {
            return Err(WorkflowError::NotOwned {
                resource: "nodegroup".into(),
                id: ng.name.clone(),
                found: n.tags.get(TAG_PLAN).cloned(),
            });
        }
        Some(_) => {}
        None => {
            let kind = match ng.node_subnets(&plan.vpc) {
                NodeSubnets::Private => SubnetKind::Private,
                NodeSubnets::Public => SubnetKind::Public,
            };
            let mut subnet_ids: Vec<String> =
                net.subnets.iter().filter(|s| s.kind == kind).map(|s| s.id.clone()).collect();
            if subnet_ids.is_empty() || net.byo_subnets {
                subnet_ids = net.subnets.iter().map(|s| s.id.clone()).collect();
            }
            let token = token(owner.plan_id, "nodegroup", &net.vpc_id);
            let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
            aws.create_nodegroup(
                owner,
                &NewNodegroup {
                    cluster: &plan.name,
                    name: &ng.name,
                    node_role: &plan.node_role_arn,
                    subnet_ids: &subnet_ids,
                    instance_types: &ng.instance_types,
                    desired: to_i32(ng.desired_size),
                    min: to_i32(ng.min()),
                    max: to_i32(ng.max().max(1)),
                    ssh_key: ng.ssh_key_pair.as_deref(),
                    ami_type: ng.ami_type.as_deref(),
                    token: &token,
                },
            )
            .await?;
            outcome = Outcome::Created;
        }
    }
    run.record("nodegroup", "eks-nodegroup", &ng.name, true)?;
    let (cluster, name) = (plan.name.clone(), ng.name.clone());
    run.wait_until("nodegroup", &format!("nodegroup {name}"), || async {
        match aws.describe_nodegroup(&cluster, &name).await? {
            Some(n) if n.status == "ACTIVE" => Ok(Poll::Ready(())),
            Some(n) if n.status == "CREATE_FAILED" || n.status == "DEGRADED" || n.status == "DELETING" => {
                Err(WorkflowError::Failed {
                    resource: format!("nodegroup {name}"),
                    status: n.status,
                    reason: if n.issues.is_empty() {
                        "EKS reports no health issue".into()
                    } else {
                        n.issues.iter().map(|(c, m)| format!("{c}: {m}")).collect::<Vec<_>>().join("; ")
                    },
                })
            }
            Some(n) => Ok(Poll::Pending(n.status)),
            None => Ok(Poll::Pending("not visible yet".into())),
        }
    })
    .await?;
    Ok(outcome)
}
