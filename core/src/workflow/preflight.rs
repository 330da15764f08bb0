//! `eks6 plan --live`: the offline findings, then read-only checks against the account,
//! every finding at once. Nothing is written and no lock is taken.
//!
//! A check the caller may not make (`AccessDenied` on a describe, on
//! `iam:SimulatePrincipalPolicy`) becomes a warning of its rule saying what was not
//! checked; any other AWS failure stops the pre-flight.

use std::collections::BTreeSet;
use std::time::Duration;

use super::run::{InFlight, limited};
use super::up::{MANAGED_ADDONS, auto_assign_finding, dns_finding, owned_by, usable_zones, zone_finding};
use super::{Cancel, WorkflowError};
use crate::aws::ec2::TAG_PLAN;
use crate::aws::iam::{
    CNI_IPV6_ACTIONS, CNI_IPV6_LATER, CNI_TAG_ACTION, Decision, EKS_PRINCIPAL, cni_ipv6_policy, ec2_principal,
    ec2_principals, role_name_of, trust_policy, trusts,
};
use crate::aws::{Aws, AwsError};
use crate::error::ErrorKind;
use crate::plan::{
    AddonMode, AzSpec, ClusterPlan, Date, EXCLUDED_ZONE_IDS, Finding, NatGateways, PlanReport, RoleKind, Rule,
    Validation, iam_name,
};

/// The default quota of VPCs per region (Amazon VPC quotas, "VPCs per Region": 5,
/// adjustable). EC2 does not report an account's own value.
pub const DEFAULT_VPC_QUOTA: usize = 5;

/// The plan's offline report, with the findings of read-only checks against the account
/// added: the roles (given ones exist, trust the right service, and, for the node role,
/// may do what the VPC CNI needs for IPv6, as IAM's policy simulator answers; the names
/// eks6 would create are free), the zones (offered, none EKS refuses), the instance types
/// (known, Nitro, offered in the zones), a bring-your-own VPC (IPv6 block, DNS support
/// and hostnames, free /64s, its subnets' zones), Elastic IP headroom for the NAT
/// gateways, the VPC count against the default quota, and a cluster of the same name.
///
/// ```no_run
/// # async fn f(aws: &eks6::aws::Aws, plan: &eks6::plan::ClusterPlan) -> Result<(), eks6::workflow::WorkflowError> {
/// use eks6::workflow::{preflight, PreflightOptions};
/// let report = preflight(aws, plan, &PreflightOptions::default()).await?;
/// for f in &report.findings {
///     println!("{f}");
/// }
/// # Ok(()) }
/// ```
pub async fn preflight(aws: &Aws, plan: &ClusterPlan, opts: &PreflightOptions) -> Result<PlanReport, WorkflowError> {
    let today = opts.today.unwrap_or_else(Date::today);
    let checks = async {
        tokio::select! {
            r = checks(aws, plan, today) => r,
            () = opts.cancel.cancelled() => Err(WorkflowError::Cancelled { step: "preflight".into() }),
        }
    };
    let flight = InFlight::default();
    limited(opts.timeout, &flight, checks).await
}

/// Options of [`preflight`].
#[derive(Debug, Clone, Default)]
pub struct PreflightOptions {
    /// Cancellation: the pre-flight only reads, so it stops at once.
    pub cancel: Cancel,
    /// The whole pre-flight's limit ([`WorkflowError::RunTimeout`]; default: none).
    pub timeout: Option<Duration>,
    /// The date the version rules use (default: today).
    pub today: Option<Date>,
}

async fn checks(aws: &Aws, plan: &ClusterPlan, today: Date) -> Result<PlanReport, WorkflowError> {
    if aws.region() != plan.region {
        return Err(WorkflowError::RegionMismatch { plan: plan.region.clone(), client: aws.region().into() });
    }
    let mut report = plan.report_at(today);
    let mut live = Live { aws, plan, findings: Vec::new(), cluster_exists: false };
    live.cluster().await?;
    live.role(RoleKind::Cluster).await?;
    live.role(RoleKind::Node).await?;
    let zones = live.zones().await?;
    live.instance_types(&zones).await?;
    live.vpc().await?;
    live.addons().await?;
    live.addresses(zones.len()).await?;
    report.findings.extend(live.findings);
    report.findings = Validation::new(&plan.name, std::mem::take(&mut report.findings)).findings;
    Ok(report)
}

/// The read-only checks `up` makes before its first write: the roles given by ARN (and
/// the names of the ones it would create), the zones, an existing VPC.
pub(super) async fn before_writes(aws: &Aws, plan: &ClusterPlan) -> Result<Vec<Finding>, WorkflowError> {
    let mut live = Live { aws, plan, findings: Vec::new(), cluster_exists: false };
    live.cluster().await?;
    live.role(RoleKind::Cluster).await?;
    live.role(RoleKind::Node).await?;
    live.zones().await?;
    live.subnets_auto_assign().await?;
    live.vpc().await?;
    live.addons().await?;
    Ok(live.findings)
}

struct Live<'a> {
    aws: &'a Aws,
    plan: &'a ClusterPlan,
    findings: Vec<Finding>,
    /// A cluster of the plan's name exists (this plan's: `up` resumes).
    cluster_exists: bool,
}

impl Live<'_> {
    fn add(&mut self, f: Finding) {
        self.findings.push(f);
    }

    /// A check the caller may not make: a warning of its rule, not a stop.
    fn denied<T>(
        &mut self,
        r: Result<T, AwsError>,
        rule: Rule,
        field: &str,
        what: &str,
    ) -> Result<Option<T>, AwsError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == ErrorKind::AwsCredentials => {
                self.add(rule.warning(
                    field,
                    format!("{what} was not checked: {e}"),
                    "run the pre-flight with a principal allowed the read-only calls docs/IAM.md lists",
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn cluster(&mut self) -> Result<(), WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        let Some(found) =
            self.denied(aws.describe_cluster(&plan.name).await, Rule::ClusterExists, "name", "an existing cluster")?
        else {
            return Ok(());
        };
        match found {
            Some(c) if owned_by(&c.tags, &plan.plan_id()) => {
                self.cluster_exists = true;
                self.add(Rule::ClusterExists.info(
                    "name",
                    format!("cluster {} exists ({}) and is this plan's: up resumes it", plan.name, c.status.as_str()),
                    "nothing to do",
                ));
            }
            Some(c) => self.add(Rule::ClusterExists.error(
                "name",
                format!(
                    "a cluster named {} exists in {} and is not this plan's ({})",
                    plan.name,
                    plan.region,
                    c.tags.get(TAG_PLAN).map_or("no eks6:plan-id tag".to_string(), |t| format!("eks6:plan-id {t}"))
                ),
                "pick another name; cluster names are unique per region",
            )),
            None => {}
        }
        Ok(())
    }

    /// A given role: in the caller's account (EKS takes only those: `iam:PassRole` passes
    /// a role of one's own account), exists under that very ARN, trusts its service, and
    /// (the node role) may do what the CNI needs. A role eks6 would create: its name, and
    /// its CNI policy's, are free or this plan's.
    async fn role(&mut self, kind: RoleKind) -> Result<(), WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        let field = format!("iam.{}_role", kind.as_str());
        let partition = aws.partition();
        let (services, shown, tag_session) = match kind {
            RoleKind::Cluster => (&[EKS_PRINCIPAL][..], EKS_PRINCIPAL, true),
            RoleKind::Node => (ec2_principals(partition), ec2_principal(partition), false),
        };
        let Some(arn) = plan.role(kind).arn() else {
            let name = iam_name(&plan.name, &plan.plan_id(), kind.as_str());
            if let Some(Some(r)) = self.denied(aws.role(&name).await, Rule::RoleExists, &field, "the role name")?
                && !owned_by(&r.tags, &plan.plan_id())
            {
                self.add(Rule::RoleExists.error(
                    &field,
                    format!(
                        "an IAM role named {name} exists and is not this plan's; eks6 would create one of that name"
                    ),
                    "delete or rename that role, or give it by ARN in [iam]",
                ));
            }
            if kind == RoleKind::Node {
                self.cni_policy_name(&field).await?;
            }
            return Ok(());
        };
        let account = aws.account_id().await?;
        let in_arn = arn.split(':').nth(4).unwrap_or_default();
        if in_arn != account {
            self.add(Rule::RoleExists.error(
                field,
                format!("role {arn} is in account {in_arn}, and eks6 works in {account}: EKS takes roles of the cluster's own account (iam:PassRole passes no other)"),
                "give a role of this account, or write \"create\"",
            ));
            return Ok(());
        }
        let name = role_name_of(arn);
        let Some(found) = self.denied(aws.role(name).await, Rule::RoleExists, &field, "the role")? else {
            return Ok(());
        };
        let role = match found {
            Some(r) if r.arn == arn => r,
            Some(r) => {
                self.add(Rule::RoleExists.error(
                    field,
                    format!("the role named {name} is {}, not {arn} (its path differs)", r.arn),
                    format!("write {} in [iam]", r.arn),
                ));
                return Ok(());
            }
            None => {
                self.add(Rule::RoleExists.error(
                    field,
                    format!("role {name} ({arn}) does not exist in this account"),
                    "create it as the EKS user guide describes, or write \"create\" to let eks6 make it",
                ));
                return Ok(());
            }
        };
        if !role.trust.as_deref().is_some_and(|t| services.iter().any(|s| trusts(t, s))) {
            self.add(Rule::RoleTrust.error(
                &field,
                format!("role {name}'s trust policy does not let {shown} assume it (sts:AssumeRole)"),
                format!("set its trust policy to {}", trust_policy(shown, tag_session)),
            ));
        }
        if kind == RoleKind::Node {
            self.cni_rights(&field, &role.arn, &account).await?;
        }
        Ok(())
    }

    /// The name of the CNI policy eks6 would create: free, or this plan's.
    async fn cni_policy_name(&mut self, field: &str) -> Result<(), WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        let name = iam_name(&plan.name, &plan.plan_id(), "cni-ipv6");
        let arn = format!("arn:{}:iam::{}:policy/{name}", aws.partition(), aws.account_id().await?);
        if let Some(Some(p)) = self.denied(aws.policy(&arn).await, Rule::RoleExists, field, "the policy name")?
            && !owned_by(&p.tags, &plan.plan_id())
        {
            self.add(Rule::RoleExists.error(
                field,
                format!("an IAM policy {arn} exists and is not this plan's; eks6 would create one of that name"),
                "delete or rename that policy, or give the node role by ARN in [iam]",
            ));
        }
        Ok(())
    }

    /// Asks IAM whether the node role may do what the VPC CNI needs in IPv6 mode. A
    /// denial of an action every published IPv6 policy holds is an error while the
    /// cluster does not exist yet; once it does (its CNI may have its rights from IRSA or
    /// Pod Identity instead, as the EKS user guide advises), and whenever the simulator
    /// could not be sure (missing context, an Organizations policy), a warning.
    async fn cni_rights(&mut self, field: &str, arn: &str, account: &str) -> Result<(), WorkflowError> {
        let aws = self.aws;
        // A sample network interface: a policy scoped to `network-interface/eni-*` matches it.
        let eni =
            format!("arn:{}:ec2:{}:{account}:network-interface/eni-0123456789abcdef0", aws.partition(), aws.region());
        let what = "the node role's IPv6 rights";
        let Some(mut decisions) =
            self.denied(aws.simulate(arn, CNI_IPV6_ACTIONS, None).await, Rule::NodeRoleIpv6, field, what)?
        else {
            return Ok(());
        };
        let Some(tags) =
            self.denied(aws.simulate(arn, &[CNI_TAG_ACTION], Some(&eni)).await, Rule::NodeRoleIpv6, field, what)?
        else {
            return Ok(());
        };
        decisions.extend(tags);
        let denied: Vec<_> = decisions.iter().filter(|d| !d.allowed()).collect();
        let says = |ds: &[&Decision]| {
            ds.iter().map(|d| format!("{} ({})", d.action, d.decision)).collect::<Vec<_>>().join(", ")
        };
        let (hard, soft): (Vec<&Decision>, Vec<&Decision>) = denied
            .iter()
            .partition(|d| !d.uncertain && !CNI_IPV6_LATER.contains(&d.action.as_str()) && !self.cluster_exists);
        let fix = format!("attach a policy with this document to the role: {}", cni_ipv6_policy(aws.partition()));
        if !hard.is_empty() {
            self.add(Rule::NodeRoleIpv6.error(
                field,
                format!(
                    "IAM's policy simulator says node role {} may not {}: the VPC CNI cannot hand out IPv6 addresses, aws-node crash-loops and the nodes stay NotReady (AmazonEKS_CNI_Policy has no ec2:AssignIpv6Addresses)",
                    role_name_of(arn),
                    says(&hard)
                ),
                &fix,
            ));
        }
        if !soft.is_empty() {
            self.add(Rule::NodeRoleIpv6.warning(
                field,
                format!(
                    "IAM's policy simulator says node role {} may not {} (an action newer CNI versions use, a cluster that may give its CNI rights through IRSA or Pod Identity, or an answer the simulator was not sure of)",
                    role_name_of(arn),
                    says(&soft)
                ),
                &fix,
            ));
        }
        Ok(())
    }

    /// The zones the nodes would use: offered, none EKS refuses. With bring-your-own
    /// subnets, their zones.
    async fn zones(&mut self) -> Result<Vec<String>, WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        let field = "vpc.availability_zones";
        let Some(all) = self.denied(aws.availability_zones().await, Rule::ZoneId, field, "the zones")? else {
            return Ok(Vec::new());
        };
        if !plan.vpc.subnet_ids.is_empty() {
            let Some(subnets) = self.denied(
                subnets_or_missing(aws, &plan.vpc.subnet_ids).await,
                Rule::SubnetInVpc,
                "vpc.subnet_ids",
                "the subnets",
            )?
            else {
                return Ok(Vec::new());
            };
            let mut zones = BTreeSet::new();
            for (i, id) in plan.vpc.subnet_ids.iter().enumerate() {
                let field = format!("vpc.subnet_ids[{i}]");
                match subnets.iter().find(|s| &s.id == id) {
                    None => self.add(Rule::SubnetInVpc.error(
                        field,
                        format!("subnet {id} does not exist in {}", plan.region),
                        "list subnets of the plan's VPC",
                    )),
                    Some(s) => {
                        if plan.vpc.id.as_ref().is_some_and(|v| v != &s.vpc_id) {
                            self.add(Rule::SubnetInVpc.error(
                                &field,
                                format!("subnet {id} is in {}, not in the plan's VPC", s.vpc_id),
                                "list subnets of the plan's VPC",
                            ));
                        }
                        if EXCLUDED_ZONE_IDS.contains(&s.zone_id.as_str()) {
                            self.add(zone_finding(&field, &s.zone, &s.zone_id));
                        }
                        if s.ipv6.is_empty() {
                            self.add(Rule::SubnetIpv6Block.error(
                                &field,
                                format!("subnet {id} has no IPv6 CIDR block; EKS needs dual-stack subnets"),
                                "associate a /64 from the VPC's /56 with the subnet",
                            ));
                        }
                        zones.insert(s.zone.clone());
                    }
                }
            }
            if zones.len() == 1 {
                self.add(Rule::TwoAzs.error(
                    "vpc.subnet_ids",
                    format!(
                        "the subnets are all in {}; EKS needs subnets in at least two zones",
                        zones.iter().next().map_or("", |z| z.as_str())
                    ),
                    "add a subnet of another zone",
                ));
            }
            return Ok(zones.into_iter().collect());
        }
        match &plan.vpc.availability_zones {
            AzSpec::Names(names) => {
                let mut chosen = Vec::new();
                for (i, n) in names.iter().enumerate() {
                    let field = format!("{field}[{i}]");
                    match all.iter().find(|(name, id)| name == n || id == n) {
                        None => self.add(Rule::ZoneId.error(
                            field,
                            format!("zone {n} is not offered to this account in {}", plan.region),
                            format!(
                                "use one of {}",
                                all.iter().map(|(n, id)| format!("{n} ({id})")).collect::<Vec<_>>().join(", ")
                            ),
                        )),
                        Some((name, id)) => {
                            if EXCLUDED_ZONE_IDS.contains(&id.as_str()) {
                                self.add(zone_finding(&field, name, id));
                            }
                            chosen.push(name.clone());
                        }
                    }
                }
                Ok(chosen)
            }
            AzSpec::Count(n) => {
                let usable = usable_zones(&all);
                if usable.len() < *n as usize {
                    self.add(Rule::ZoneId.error(
                        field,
                        format!(
                            "{} offers {} zones EKS can use ({} in all); the plan asks for {n}",
                            plan.region,
                            usable.len(),
                            all.len()
                        ),
                        format!("set availability_zones = {}", usable.len().max(2)),
                    ));
                }
                Ok(usable.into_iter().take(*n as usize).collect())
            }
        }
    }

    /// Bring-your-own subnets auto-assign IPv6, unless the plan lets eks6 turn it on:
    /// otherwise nodegroup creation fails (`Ec2SubnetMissingIpv6Assignment`).
    async fn subnets_auto_assign(&mut self) -> Result<(), WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        if plan.vpc.subnet_ids.is_empty() || plan.vpc.enable_auto_assign_ipv6 {
            return Ok(());
        }
        let Some(subnets) = self.denied(
            subnets_or_missing(aws, &plan.vpc.subnet_ids).await,
            Rule::AutoAssignIpv6,
            "vpc.subnet_ids",
            "the subnets",
        )?
        else {
            return Ok(());
        };
        for (i, id) in plan.vpc.subnet_ids.iter().enumerate() {
            if let Some(s) = subnets.iter().find(|s| &s.id == id).filter(|s| !s.assign_ipv6) {
                self.add(auto_assign_finding(&format!("vpc.subnet_ids[{i}]"), &s.id));
            }
        }
        Ok(())
    }

    /// Each instance type: known to EC2, on Nitro, offered in every chosen zone.
    async fn instance_types(&mut self, zones: &[String]) -> Result<(), WorkflowError> {
        let aws = self.aws;
        for (i, t) in self.plan.nodegroup.instance_types.iter().enumerate() {
            let field = format!("nodegroup.instance_types[{i}]");
            if !t.contains('.') {
                continue; // the offline rule says so
            }
            let Some(info) =
                self.denied(aws.instance_type(t).await, Rule::InstanceTypeOffered, &field, "the instance type")?
            else {
                continue;
            };
            let Some(info) = info else {
                self.add(Rule::InstanceTypeOffered.error(
                    field,
                    format!("EC2 does not know instance type {t} in {}", self.plan.region),
                    "use a type EC2 lists (aws ec2 describe-instance-types)",
                ));
                continue;
            };
            if !info.nitro {
                self.add(Rule::NitroOnly.error(
                    &field,
                    format!("EC2 says {} is not on the Nitro system (hypervisor not nitro, not bare metal); the VPC CNI's IPv6 mode needs Nitro", info.name),
                    "use a Nitro type such as m5.large, m6i.large or t3.medium",
                ));
            }
            let Some(offered) = self.denied(
                aws.zones_offering(t).await,
                Rule::InstanceTypeOffered,
                &field,
                "where the type is offered",
            )?
            else {
                continue;
            };
            let missing: Vec<&String> = zones.iter().filter(|z| !offered.contains(z)).collect();
            if !missing.is_empty() {
                self.add(Rule::InstanceTypeOffered.error(
                    field,
                    format!(
                        "{t} is not offered in {}",
                        missing.iter().map(|z| z.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    "pick a type offered in every zone of the plan, or other zones",
                ));
            }
        }
        Ok(())
    }

    /// A bring-your-own VPC: there, dual-stack, DNS on, room for the subnets eks6 would
    /// add. A new VPC: the region's count against the default quota.
    async fn vpc(&mut self) -> Result<(), WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        let Some(id) = &plan.vpc.id else {
            if let Some(count) = self.denied(aws.vpc_count().await, Rule::VpcQuota, "vpc", "the VPC count")?
                && count >= DEFAULT_VPC_QUOTA
            {
                self.add(Rule::VpcQuota.warning(
                    "vpc",
                    format!("{} holds {count} VPCs; the default quota is {DEFAULT_VPC_QUOTA} a region, and EC2 does not report this account's own", plan.region),
                    "check Service Quotas (Amazon VPC, \"VPCs per Region\") before up, or use an existing VPC (vpc.id)",
                ));
            }
            return Ok(());
        };
        let Some(found) = self.denied(aws.vpc(id).await, Rule::VpcId, "vpc.id", "the VPC")? else { return Ok(()) };
        let Some(vpc) = found else {
            self.add(Rule::VpcId.error(
                "vpc.id",
                format!("VPC {id} does not exist in {}", plan.region),
                "copy the VPC id from `aws ec2 describe-vpcs`",
            ));
            return Ok(());
        };
        let Some(v6) = vpc.ipv6.first().copied() else {
            self.add(Rule::VpcIpv6Block.error(
                "vpc.id",
                format!("VPC {id} has no IPv6 CIDR block"),
                "associate an Amazon-provided IPv6 block with the VPC (aws ec2 associate-vpc-cidr-block --amazon-provided-ipv6-cidr-block)",
            ));
            return Ok(());
        };
        if let Some((support, hostnames)) =
            self.denied(aws.vpc_dns(id).await, Rule::DnsAttributes, "vpc.id", "the VPC's DNS attributes")?
            && !(support && hostnames)
        {
            self.add(dns_finding(id, support, hostnames));
        }
        if plan.vpc.subnet_ids.is_empty() {
            let Some(subnets) = self.denied(aws.subnets(id).await, Rule::SubnetSpace, "vpc.id", "the VPC's subnets")?
            else {
                return Ok(());
            };
            let used = subnets.iter().flat_map(|s| &s.ipv6).filter(|b| crate::net::contains_prefix(v6, **b)).count();
            let room = (1usize << (64 - v6.prefix_len().min(64))).saturating_sub(used);
            let kinds = usize::from(plan.vpc.public_subnets) + usize::from(plan.vpc.private_subnets);
            let needed = kinds * plan.vpc.availability_zones.len();
            if needed > room {
                self.add(Rule::SubnetSpace.error(
                    "vpc.id",
                    format!("VPC {id}'s {v6} has {room} free /64s; the plan needs {needed}"),
                    "free some /64s, or use another VPC",
                ));
            }
        }
        Ok(())
    }

    /// Managed add-ons: EKS offers them for the plan's Kubernetes version, and the pinned
    /// `vpc-cni` version among them.
    async fn addons(&mut self) -> Result<(), WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        if plan.cluster.addons == AddonMode::SelfManaged {
            return Ok(());
        }
        let field = "cluster.addons";
        for addon in MANAGED_ADDONS {
            let found = self.denied(
                aws.addon_versions(addon, &plan.kubernetes_version).await,
                Rule::VpcCniVersion,
                field,
                "the add-on versions",
            );
            let (default, offered) = match found {
                Ok(Some(v)) => v,
                Ok(None) => return Ok(()),
                // No add-on API at all (an endpoint such as plain moto).
                Err(e) if e.is_missing_operation() => {
                    self.add(Rule::VpcCniVersion.error(
                        field,
                        format!("the EKS endpoint has no add-on API ({e})"),
                        "set addons = \"self-managed\" to let EKS install its own",
                    ));
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            if *addon == "vpc-cni"
                && let Some(p) = &plan.cluster.vpc_cni_version
            {
                if pinned_version(p, &offered).is_none() {
                    self.add(unoffered_vpc_cni(plan, p, &offered));
                }
            } else if default.is_none() && offered.is_empty() {
                self.add(Rule::VpcCniVersion.error(
                    field,
                    format!("EKS offers no {addon} add-on for Kubernetes {}", plan.kubernetes_version),
                    "use a Kubernetes version EKS offers the add-on for, or addons = \"self-managed\"",
                ));
            }
        }
        Ok(())
    }

    /// Elastic IPs for the NAT gateways eks6 would create, against the region's quota.
    async fn addresses(&mut self, zone_count: usize) -> Result<(), WorkflowError> {
        let (aws, plan) = (self.aws, self.plan);
        let nat = plan.vpc.id.is_none()
            && plan.vpc.private_subnets
            && plan.vpc.public_subnets
            && plan.vpc.nat_gateways != NatGateways::None;
        if !nat {
            return Ok(());
        }
        let needed = match plan.vpc.nat_gateways {
            NatGateways::PerAz => zone_count.max(1),
            _ => 1,
        } as u32;
        let field = "vpc.nat_gateways";
        let Some((quota, held)) =
            self.denied(aws.elastic_ip_headroom().await, Rule::ElasticIpQuota, field, "Elastic IP headroom")?
        else {
            return Ok(());
        };
        let ours = self
            .denied(
                aws.addresses_by_plan(&plan.plan_id()).await,
                Rule::ElasticIpQuota,
                field,
                "this plan's Elastic IPs",
            )?
            .map_or(0, |v| v.len() as u32);
        let Some(quota) = quota else {
            self.add(Rule::ElasticIpQuota.warning(
                field,
                format!("EC2 does not report this account's Elastic IP quota; {held} addresses are held and the NAT gateways need {needed}"),
                "check Service Quotas (Amazon EC2, \"EC2-VPC Elastic IPs\"; default 5)",
            ));
            return Ok(());
        };
        let free = quota.saturating_sub(held);
        let wanted = needed.saturating_sub(ours);
        if wanted > free {
            self.add(Rule::ElasticIpQuota.error(
                field,
                format!(
                    "the NAT gateways need {wanted} more Elastic IP(s); {held} of {quota} are held in {}",
                    plan.region
                ),
                "release unused addresses, ask for a higher quota, or use nat_gateways = \"single\"",
            ));
        }
        Ok(())
    }
}

/// The offered version a pinned one names: itself, or for `1.18.0` the newest eksbuild
/// of `v1.18.0`.
pub(super) fn pinned_version(pinned: &str, offered: &[String]) -> Option<String> {
    let want = format!("v{}", pinned.trim_start_matches('v'));
    // By the numbers, not the text: eksbuild.10 is newer than eksbuild.2.
    let numbers = |v: &str| -> Vec<u64> {
        v.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
    };
    offered.iter().filter(|o| **o == want || o.starts_with(&format!("{want}-"))).max_by_key(|o| numbers(o)).cloned()
}

/// A pinned `vpc-cni` version EKS does not offer for the plan's Kubernetes version.
pub(super) fn unoffered_vpc_cni(plan: &ClusterPlan, pinned: &str, offered: &[String]) -> Finding {
    Rule::VpcCniVersion.error(
        "cluster.vpc_cni_version",
        format!(
            "EKS offers no vpc-cni add-on {pinned} for Kubernetes {}; it offers {}",
            plan.kubernetes_version,
            if offered.is_empty() { "none".to_string() } else { offered.join(", ") }
        ),
        "pin one of the offered versions, or remove vpc_cni_version to take the default",
    )
}

/// The subnets that exist of some ids (a missing one is left out, not an error).
async fn subnets_or_missing(aws: &Aws, ids: &[String]) -> Result<Vec<crate::aws::ec2::SubnetInfo>, AwsError> {
    match aws.subnets_by_ids(ids).await {
        Err(e) if e.is_not_found() => {
            let mut found = Vec::new();
            for id in ids {
                match aws.subnets_by_ids(std::slice::from_ref(id)).await {
                    Ok(s) => found.extend(s),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pinned_takes_the_newest_build_by_number() {
        let offered: Vec<String> =
            ["v1.18.0-eksbuild.2", "v1.18.0-eksbuild.10", "v1.18.1-eksbuild.1"].map(String::from).to_vec();
        assert_eq!(super::pinned_version("1.18.0", &offered).as_deref(), Some("v1.18.0-eksbuild.10"));
        assert_eq!(super::pinned_version("v1.18.1-eksbuild.1", &offered).as_deref(), Some("v1.18.1-eksbuild.1"));
        assert_eq!(super::pinned_version("1.19.0", &offered), None);
    }
}
