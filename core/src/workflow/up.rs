//! `up`: the walkthrough's steps as a table ([`UpStep`]), each idempotent and resumable.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ipnet::{Ipv4Net, Ipv6Net};

use super::graph::{Done, Step, run_steps};
use super::idempotent::token;
use super::preflight::before_writes;
use super::run::{InFlight, Run, limited};
use super::wait::{Poll, WaitKind};
use super::{Outcome, RunOptions, RunReport, Target, WorkflowError};
use crate::aws::AddonStatus;
use crate::aws::ec2::{NewSubnet, Owner, SubnetInfo, TAG_PLAN, TAG_ROLE, probe_description};
use crate::aws::eks::role_not_ready;
use crate::aws::eks::{NewCluster, NewNodegroup};
use crate::aws::iam::{
    CLUSTER_ROLE_POLICIES, EKS_PRINCIPAL, NODE_ROLE_POLICIES, cni_ipv6_policy, ec2_principal, managed_policy_arn,
    trust_policy,
};
use crate::aws::{Aws, AwsError, ClusterStatus, NatGatewayState, NodegroupStatus};
use crate::error::ErrorKind;
use crate::k8s::Kube;
use crate::net::NetError;
use crate::plan::{
    AddonMode, AzSpec, CLUSTER_ADMIN_POLICY, ClusterPlan, EXCLUDED_ZONE_IDS, Finding, NatGateways, NodeSubnets,
    PlanError, RoleKind, Rule, Severity, SubnetKind, iam_name,
};

/// The managed add-ons eks6 creates (EKS user guide, "Amazon EKS add-ons": the three
/// every cluster needs), in the order they are created.
pub const MANAGED_ADDONS: &[&str] = &["vpc-cni", "kube-proxy", "coredns"];

/// How long a create that names a fresh IAM role is retried while EKS says the role
/// cannot be assumed yet: IAM is eventually consistent, and terraform-provider-aws waits
/// two minutes (`propagationTimeout`) for the same answers.
pub const IAM_PROPAGATION: std::time::Duration = std::time::Duration::from_secs(120);

/// A step of `up`. Each names the steps it needs ([`needs`](Self::needs)), so the table
/// is the one description of the workflow: `up` starts each step as soon as those are
/// done, several at once ([`StepGraph`](super::StepGraph)); events, reports and the journal use the names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::VariantArray, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
#[non_exhaustive]
pub enum UpStep {
    /// The cluster's IAM role (trusting eks.amazonaws.com, AmazonEKSClusterPolicy), or
    /// the plan's own, checked.
    ClusterRole,
    /// The nodes' IAM role (trusting EC2; worker, registry and IPv6 CNI policies), or the
    /// plan's own, checked.
    NodeRole,
    /// The dual-stack VPC and its Amazon-provided /56, DNS support and hostnames on (or
    /// the plan's own VPC, checked).
    Vpc,
    /// One subnet per kind per zone, each with a /64 and auto-assign IPv6.
    Subnets,
    /// The internet gateway.
    InternetGateway,
    /// The egress-only internet gateway (private subnets' IPv6 egress).
    EgressOnlyGateway,
    /// NAT gateways and their Elastic IPs (private subnets' IPv4 egress).
    NatGateways,
    /// Route tables: `::/0` and `0.0.0.0/0` for each subnet.
    RouteTables,
    /// The EKS cluster with `ipFamily = ipv6`, access entries on (the creator an
    /// admin), waited to `ACTIVE`.
    Cluster,
    /// Access entries with `AmazonEKSClusterAdminPolicy` for the plan's admins.
    Access,
    /// The managed add-ons `vpc-cni`, `kube-proxy` and `coredns`; the first two waited to
    /// `ACTIVE` (nodes have no network without the CNI).
    Addons,
    /// The probe's ingress rule on the cluster security group.
    ProbeRule,
    /// The managed nodegroup, waited to `ACTIVE`.
    Nodegroup,
    /// `coredns` waited to `ACTIVE` (it is `DEGRADED` until a node can run it).
    Coredns,
    /// The plan's `[sample]` (namespace, nginx Deployment, ClusterIP Service) applied
    /// through the Kubernetes API, waited until its pods are Ready.
    Sample,
}

impl UpStep {
    /// Every step, each listed after the steps it needs.
    pub fn all() -> &'static [UpStep] {
        <Self as strum::VariantArray>::VARIANTS
    }

    /// The step's name (`internet-gateway`).
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The steps whose results this one uses. (The cluster needs the subnets and its
    /// role, not the gateways or routes: EKS places its network interfaces in the
    /// subnets and needs no egress to do so. Nodes need egress, the CNI and their role.)
    pub fn needs(self) -> &'static [UpStep] {
        use UpStep::*;
        match self {
            ClusterRole | NodeRole | Vpc => &[],
            Subnets | InternetGateway | EgressOnlyGateway => &[Vpc],
            NatGateways => &[Subnets, InternetGateway],
            RouteTables => &[Subnets, InternetGateway, EgressOnlyGateway, NatGateways],
            Cluster => &[ClusterRole, Subnets],
            Access | Addons | ProbeRule => &[Cluster],
            // terraform-aws-eks `before_compute`: the CNI before any node.
            Nodegroup => &[NodeRole, Cluster, RouteTables, Addons],
            Coredns => &[Addons, Nodegroup],
            Sample => &[Access, Nodegroup, Coredns],
        }
    }

    /// The waits on AWS the step makes, one after another. A new role's IAM
    /// propagation is counted here, although the create that names the role is what
    /// waits it out.
    pub fn waits(self) -> &'static [WaitKind] {
        use UpStep::*;
        match self {
            ClusterRole | NodeRole => &[WaitKind::IamPropagation],
            Vpc => &[WaitKind::VpcIpv6Block],
            NatGateways => &[WaitKind::NatGatewayCreate],
            Cluster => &[WaitKind::ClusterCreate],
            Addons => &[WaitKind::AddonCreate],
            Nodegroup => &[WaitKind::NodegroupCreate],
            Sample => &[WaitKind::SampleRollout],
            Subnets | InternetGateway | EgressOnlyGateway | RouteTables | Access | ProbeRule | Coredns => &[],
        }
    }
}

impl Step for UpStep {
    const WORKFLOW: &'static str = "up";
    fn all() -> &'static [Self] {
        UpStep::all()
    }
    fn name(self) -> &'static str {
        UpStep::name(self)
    }
    fn needs(self) -> &'static [Self] {
        UpStep::needs(self)
    }
    fn waits(self) -> &'static [WaitKind] {
        UpStep::waits(self)
    }
}

/// Stands up the plan: IAM roles, VPC, subnets, gateways, routes, the IPv6 cluster, its
/// access entries and add-ons, the probe rule, the nodegroup ([`UpStep`]). Re-running after success changes nothing; re-running
/// after a failure or a crash resumes.
pub async fn up(aws: &Aws, plan: &ClusterPlan, opts: &RunOptions) -> Result<RunReport, WorkflowError> {
    let validation = plan.check()?;
    let flight = InFlight::default();
    limited(opts.timeout, &flight, async {
        let run = Run::open(aws, Target::Plan(plan), opts, &flight).await?;
        for f in validation.findings {
            run.finding(f);
        }
        // What the account holds that the plan relies on, read before anything is made:
        // a refusal here leaves nothing behind.
        let (errors, rest): (Vec<Finding>, Vec<Finding>) =
            before_writes(aws, plan).await?.into_iter().partition(|f| f.severity == Severity::Error);
        if !errors.is_empty() {
            return Err(WorkflowError::Refused { findings: errors });
        }
        for f in rest {
            run.finding(f);
        }
        let up = Up {
            run: &run,
            plan,
            owner: Owner { cluster: &plan.name, plan_id: &run.plan_id, extra: &plan.tags },
            net: Mutex::new(Network::default()),
        };
        run_steps(&run, |step: UpStep| up.step(step)).await?;
        drop(up);
        Ok(run.report("up"))
    })
    .await
}

impl Done {
    fn new(outcome: Outcome, resources: Vec<String>) -> Self {
        Self { outcome, resources }
    }

    fn skipped() -> Self {
        Self::new(Outcome::Skipped, Vec::new())
    }

    fn created_if(created: bool, resources: Vec<String>) -> Self {
        Self::new(if created { Outcome::Created } else { Outcome::Found }, resources)
    }
}

/// The context of the steps of one `up`.
struct Up<'r, 'a> {
    run: &'r Run<'a>,
    plan: &'r ClusterPlan,
    owner: Owner<'r>,
    /// What the steps learn and pass on.
    net: Mutex<Network>,
}

/// A route table the plan wants: its role, routes (destination, target) and subnets.
type WantedTable = (String, Vec<(String, String)>, Vec<String>);

/// What the steps learn and pass on.
#[derive(Debug, Default, Clone)]
struct Network {
    vpc_id: String,
    vpc_ipv6: Option<Ipv6Net>,
    byo_subnets: bool,
    /// The plan's subnets (or the user's), with their role keys.
    subnets: Vec<PlacedSubnet>,
    igw: String,
    eigw: Option<String>,
    /// NAT gateway id by zone index.
    nats: BTreeMap<usize, String>,
    /// The cluster security group.
    cluster_sg: Option<String>,
    /// The roles' ARNs.
    cluster_role: String,
    node_role: String,
    /// When the cluster was made (one life of its name), and its authentication mode.
    cluster_created: Option<i64>,
    authentication_mode: Option<String>,
}

#[derive(Debug, Clone)]
struct PlacedSubnet {
    key: String,
    kind: SubnetKind,
    zone_index: usize,
    id: String,
}

pub(super) fn owned_by(tags: &BTreeMap<String, String>, plan_id: &str) -> bool {
    tags.get(TAG_PLAN).map(String::as_str) == Some(plan_id)
}

fn role_of(tags: &BTreeMap<String, String>) -> Option<&str> {
    tags.get(TAG_ROLE).map(String::as_str)
}

fn network_error(rule: Rule, field: &str, message: String, fix: &str) -> Finding {
    rule.error(field, message, fix)
}

/// A VPC without DNS support or hostnames.
pub(super) fn dns_finding(vpc_id: &str, support: bool, hostnames: bool) -> Finding {
    let off: Vec<&str> = [(!support).then_some("DNS resolution"), (!hostnames).then_some("DNS hostnames")]
        .into_iter()
        .flatten()
        .collect();
    Rule::DnsAttributes.error(
        "vpc.id",
        format!("VPC {vpc_id} has {} off: EKS nodes cannot register with the cluster without both", off.join(" and ")),
        format!("aws ec2 modify-vpc-attribute --vpc-id {vpc_id} --enable-dns-hostnames (and --enable-dns-support), one attribute per call"),
    )
}

/// The zone names of (name, id) pairs whose ids EKS accepts for control planes.
pub(super) fn usable_zones(all: &[(String, String)]) -> Vec<String> {
    all.iter().filter(|(_, id)| !EXCLUDED_ZONE_IDS.contains(&id.as_str())).map(|(name, _)| name.clone()).collect()
}

/// A bring-your-own subnet that does not auto-assign IPv6 addresses.
pub(super) fn auto_assign_finding(field: &str, id: &str) -> Finding {
    Rule::AutoAssignIpv6.error(
        field,
        format!("subnet {id} does not auto-assign IPv6 addresses; nodegroup creation would fail with Ec2SubnetMissingIpv6Assignment"),
        "set vpc.enable_auto_assign_ipv6 = true, or turn on \"Auto-assign IPv6 address\" on the subnet",
    )
}

/// A zone EKS refuses for control planes.
pub(super) fn zone_finding(field: &str, zone: &str, zone_id: &str) -> Finding {
    Rule::ZoneId.error(
        field,
        format!("{zone} is zone id {zone_id}, where EKS places no control plane (CreateCluster answers UnsupportedAvailabilityZoneException)"),
        "use subnets of other zones",
    )
}

impl Up<'_, '_> {
    fn net(&self) -> MutexGuard<'_, Network> {
        self.net.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn aws(&self) -> &Aws {
        self.run.aws
    }

    fn plan_id(&self) -> &str {
        self.owner.plan_id
    }

    /// The one resource of a kind and role this plan may have: none, one, or (two runs
    /// raced, or a tag was copied) [`WorkflowError::Duplicate`] naming them all.
    fn one<T>(&self, what: &str, found: Vec<T>, id: impl Fn(&T) -> &str) -> Result<Option<T>, WorkflowError> {
        if found.len() > 1 {
            return Err(WorkflowError::Duplicate {
                what: what.into(),
                ids: found.iter().map(|t| id(t).to_string()).collect(),
                plan_id: self.plan_id().into(),
                cluster: self.plan.name.clone(),
                region: self.plan.region.clone(),
            });
        }
        Ok(found.into_iter().next())
    }

    async fn step(&self, step: UpStep) -> Result<Done, WorkflowError> {
        let byo = !self.plan.vpc.subnet_ids.is_empty();
        match step {
            UpStep::ClusterRole => self.role(RoleKind::Cluster).await,
            UpStep::NodeRole => self.role(RoleKind::Node).await,
            UpStep::Vpc => self.vpc().await,
            UpStep::Subnets => self.subnets().await,
            // The user's own subnets keep the user's own routing.
            UpStep::InternetGateway | UpStep::EgressOnlyGateway | UpStep::NatGateways | UpStep::RouteTables if byo => {
                Ok(Done::skipped())
            }
            UpStep::InternetGateway => self.internet_gateway().await,
            UpStep::EgressOnlyGateway => self.egress_only_gateway().await,
            UpStep::NatGateways => self.nat_gateways().await,
            UpStep::RouteTables => self.route_tables().await,
            UpStep::Cluster => self.cluster().await,
            UpStep::Access => self.access().await,
            UpStep::Addons => self.addons().await,
            UpStep::ProbeRule => self.probe_rule().await,
            UpStep::Nodegroup => self.nodegroup().await,
            UpStep::Coredns => self.coredns().await,
            UpStep::Sample => self.sample().await,
        }
    }

    /// A role of the plan: the given one read (it must exist and trust the right
    /// service; never changed), or eks6's own, found by its name with this plan's tag or
    /// created, with its policies attached.
    async fn role(&self, kind: RoleKind) -> Result<Done, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        let step = match kind {
            RoleKind::Cluster => UpStep::ClusterRole.name(),
            RoleKind::Node => UpStep::NodeRole.name(),
        };
        let partition = aws.partition();
        let (service, tag_session, policies) = match kind {
            RoleKind::Cluster => (EKS_PRINCIPAL, true, CLUSTER_ROLE_POLICIES),
            RoleKind::Node => (ec2_principal(partition), false, NODE_ROLE_POLICIES),
        };
        let key = format!("iam/{}-role", kind.as_str());
        if let Some(arn) = plan.role(kind).arn() {
            // Checked before any write ([`before_writes`]): it exists and trusts its service.
            run.record(&key, "iam-role", arn, false)?;
            self.set_role(kind, arn.to_string());
            return Ok(Done::new(Outcome::Found, vec![arn.to_string()]));
        }
        let name = iam_name(&plan.name, pid, kind.as_str());
        let find = || async {
            match aws.role(&name).await? {
                Some(r) if owned_by(&r.tags, pid) => Ok(Some(r.arn)),
                Some(r) => Err(WorkflowError::NotOwned {
                    resource: "IAM role".into(),
                    id: name.clone(),
                    found: r.tags.get(TAG_PLAN).cloned(),
                }),
                None => Ok(None),
            }
        };
        let (arn, mut changed) = match find().await? {
            Some(arn) => (arn, false),
            None => {
                let trust = trust_policy(service, tag_session);
                let what = format!("{} role of EKS cluster {}, made by eks6", kind.as_str(), plan.name);
                let tag = format!("{}-role", kind.as_str());
                match run
                    .create_once(step, &name, find, || aws.create_role(&self.owner, &tag, &name, &trust, &what))
                    .await
                {
                    // Made by this run's first try, whose answer was lost while GetRole
                    // did not see it yet: it is there now, with its tag or not.
                    Err(WorkflowError::Aws(e)) if e.has_code("EntityAlreadyExists") => match find().await? {
                        Some(arn) => (arn, false),
                        None => return Err(e.into()),
                    },
                    other => other?,
                }
            }
        };
        run.record(&key, "iam-role", &name, true)?;
        let mut wanted: Vec<String> = policies.iter().map(|p| managed_policy_arn(partition, p)).collect();
        if kind == RoleKind::Node {
            wanted.push(self.cni_policy().await?);
        }
        // Right after CreateRole and CreatePolicy IAM may not know them yet everywhere:
        // NoSuchEntity is waited out as terraform-provider-aws does for attachments.
        let what = format!("IAM role {name}");
        let attached =
            self.until_iam_spreads(step, &what, AwsError::is_not_found, || aws.attached_policies(&name)).await?;
        for policy in wanted.iter().filter(|p| !attached.contains(p)) {
            self.until_iam_spreads(step, &what, AwsError::is_not_found, || aws.attach_policy(&name, policy)).await?;
            changed = true;
        }
        self.set_role(kind, arn.clone());
        Ok(Done::created_if(changed, vec![arn]))
    }

    /// The VPC CNI's IPv6 policy of this plan, found (with this plan's tag) or created.
    async fn cni_policy(&self) -> Result<String, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        let name = iam_name(&plan.name, pid, "cni-ipv6");
        let arn = format!("arn:{}:iam::{}:policy/{name}", aws.partition(), aws.account_id().await?);
        let find = || async {
            match aws.policy(&arn).await? {
                Some(p) if owned_by(&p.tags, pid) => Ok(Some(arn.clone())),
                Some(p) => Err(WorkflowError::NotOwned {
                    resource: "IAM policy".into(),
                    id: arn.clone(),
                    found: p.tags.get(TAG_PLAN).cloned(),
                }),
                None => Ok(None),
            }
        };
        if find().await?.is_none() {
            let doc = cni_ipv6_policy(aws.partition());
            let what = format!("IPv6 rights of the VPC CNI on EKS cluster {}, made by eks6", plan.name);
            run.create_once(UpStep::NodeRole.name(), &name, find, || {
                aws.create_policy(&self.owner, "cni-ipv6-policy", &name, &doc, &what)
            })
            .await?;
        }
        run.record("iam/cni-ipv6-policy", "iam-policy", &arn, true)?;
        Ok(arn)
    }

    fn set_role(&self, kind: RoleKind, arn: String) {
        let mut net = self.net();
        match kind {
            RoleKind::Cluster => net.cluster_role = arn,
            RoleKind::Node => net.node_role = arn,
        }
    }

    /// Runs a create that names a role eks6 made again while EKS says the role cannot
    /// be assumed yet ([`until_iam_spreads`](Self::until_iam_spreads)). A role the plan
    /// gives is not waited for: it exists, or `up` refused before any write.
    async fn while_role_spreads<F, Fut>(
        &self,
        kind: RoleKind,
        step: &str,
        what: &str,
        create: F,
    ) -> Result<(), WorkflowError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), AwsError>>,
    {
        let refused = |e: &AwsError| self.plan.role(kind).arn().is_none() && role_not_ready(e);
        self.until_iam_spreads(step, what, refused, create).await
    }

    /// Runs a call again while its answer is one IAM's eventual consistency gives
    /// (`refused`), for up to [`IAM_PROPAGATION`] and never past the wait deadline (then a
    /// time-out, as for any wait).
    async fn until_iam_spreads<T, F, Fut>(
        &self,
        step: &str,
        what: &str,
        refused: impl Fn(&AwsError) -> bool,
        mut call: F,
    ) -> Result<T, WorkflowError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let started = std::time::Instant::now();
        loop {
            match call().await {
                Err(e) if refused(&e) && started.elapsed() < IAM_PROPAGATION => {
                    self.run.emit(super::EventKind::Retry {
                        step: step.into(),
                        resource: what.into(),
                        reason: format!("IAM has not spread the role yet: {e}"),
                    });
                    let delay = self.run.opts.wait.next_poll(WaitKind::IamPropagation, started.elapsed());
                    if !self.run.retry_pause(step, started, delay).await? {
                        // The wait deadline came first: a time-out, as for any wait.
                        return Err(WorkflowError::Timeout {
                            resource: what.into(),
                            limit: self.run.opts.wait.deadline,
                            status: format!("role not assumable yet ({})", e.message()),
                        });
                    }
                }
                other => return Ok(other?),
            }
        }
    }

    /// Access entries for the plan's admins, each with the cluster-admin access policy
    /// at cluster scope. They go with the cluster: `down` needs nothing for them.
    async fn access(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan) = (self.aws(), self.run, self.plan);
        if plan.access.admins.is_empty() {
            return Ok(Done::skipped());
        }
        // A cluster made with the aws-auth ConfigMap alone (by an older eks6, or by hand)
        // has no access entries to add to.
        let mode = self.net().authentication_mode.clone();
        if let Some(mode) = mode.filter(|m| m == "CONFIG_MAP") {
            run.finding(Rule::AccessAdmin.warning(
                "access.admins",
                format!("cluster {} authenticates with {mode} only, so it has no access entries: the admins were not added", plan.name),
                format!("aws eks update-cluster-config --name {} --access-config authenticationMode=API_AND_CONFIG_MAP, then up again", plan.name),
            ));
            return Ok(Done::skipped());
        }
        let policy = format!("arn:{}:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}", aws.partition());
        let entries = aws.access_entries(&plan.name).await?;
        let mut changed = false;
        for (i, admin) in plan.access.admins.iter().enumerate() {
            if !entries.contains(admin) {
                match aws.create_access_entry(&self.owner, &plan.name, admin).await {
                    Ok(()) => changed = true,
                    // Made by an earlier run whose answer was lost.
                    Err(e) if e.has_code("ResourceInUseException") => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if !aws.access_policies(&plan.name, admin).await?.contains(&policy) {
                aws.associate_cluster_policy(&plan.name, admin, &policy).await?;
                changed = true;
            }
            run.record(&format!("access/{i}"), "access-entry", admin, true)?;
        }
        Ok(Done::created_if(changed, plan.access.admins.clone()))
    }

    /// The version of a managed add-on: the plan's pinned `vpc-cni`, which EKS must offer
    /// for the cluster's version, else the add-on's default for it.
    async fn addon_version(&self, addon: &str) -> Result<String, WorkflowError> {
        let plan = self.plan;
        let (default, offered) = self.aws().addon_versions(addon, &plan.kubernetes_version).await?;
        let pinned = plan.cluster.vpc_cni_version.as_deref().filter(|_| addon == "vpc-cni");
        if let Some(p) = pinned {
            if let Some(v) = super::preflight::pinned_version(p, &offered) {
                return Ok(v);
            }
            return Err(PlanError::Invalid {
                name: plan.name.clone(),
                findings: vec![super::preflight::unoffered_vpc_cni(plan, p, &offered)],
            }
            .into());
        }
        default.or_else(|| offered.first().cloned()).ok_or_else(|| {
            AwsError::local(
                ErrorKind::AwsInvalidInput,
                "DescribeAddonVersions",
                format!("EKS offers no {addon} add-on for Kubernetes {}", plan.kubernetes_version),
            )
            .into()
        })
    }

    /// The managed add-ons, created at their versions; `vpc-cni` and `kube-proxy` waited
    /// to `ACTIVE` before any node exists, `coredns` left for [`UpStep::Coredns`].
    async fn addons(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        if plan.cluster.addons == AddonMode::SelfManaged {
            return Ok(Done::skipped());
        }
        let mut created = false;
        let mut began = std::collections::HashMap::new();
        for addon in MANAGED_ADDONS {
            let ours = match aws.describe_addon(&plan.name, addon).await? {
                Some(a) => owned_by(&a.tags, pid),
                None => {
                    let version = self.addon_version(addon).await?;
                    // One token per life of the cluster's name: a cluster deleted and made
                    // again gets its add-ons made again, not an old answer.
                    let life = self.net().cluster_created.unwrap_or_default();
                    let token = token(pid, &format!("addon-{addon}-{life}"), &plan.name);
                    aws.create_addon(&self.owner, &plan.name, addon, &version, &token).await?;
                    began.insert(*addon, std::time::Instant::now());
                    created = true;
                    true
                }
            };
            // One made by someone else is used, and left alone by `down`.
            run.record(&format!("addon/{addon}"), "eks-addon", addon, ours)?;
        }
        for addon in ["vpc-cni", "kube-proxy"] {
            let began = began.get(addon).copied().unwrap_or_else(std::time::Instant::now);
            self.wait_addon(UpStep::Addons.name(), addon, began).await?;
        }
        Ok(Done::created_if(created, MANAGED_ADDONS.iter().map(|a| a.to_string()).collect()))
    }

    /// Waits for an add-on created at `began` to be `ACTIVE`.
    async fn wait_addon(&self, step: &str, addon: &str, began: std::time::Instant) -> Result<(), WorkflowError> {
        let (aws, cluster) = (self.aws(), self.plan.name.as_str());
        self.run
            .wait_from(step, WaitKind::AddonCreate, &format!("add-on {addon}"), began, || async {
                match aws.describe_addon(cluster, addon).await? {
                    Some(a) if a.status == AddonStatus::Active => Ok(Poll::Ready(())),
                    Some(a)
                        if matches!(
                            a.status,
                            AddonStatus::CreateFailed | AddonStatus::Deleting | AddonStatus::DeleteFailed
                        ) =>
                    {
                        Err(WorkflowError::Failed {
                            resource: format!("add-on {addon}"),
                            status: a.status.as_str().into(),
                            reason: if a.issues.is_empty() {
                                "EKS reports no health issue".into()
                            } else {
                                a.issues.iter().map(|(c, m)| format!("{c}: {m}")).collect::<Vec<_>>().join("; ")
                            },
                        })
                    }
                    // DEGRADED is a wait, not a failure: coredns is DEGRADED until nodes
                    // can run it (eksctl skips waiting on it for that reason).
                    Some(a) => Ok(Poll::Pending(match a.issues.first() {
                        Some((c, _)) => format!("{} ({c})", a.status.as_str()),
                        None => a.status.as_str().into(),
                    })),
                    None => Ok(Poll::Pending("not visible yet".into())),
                }
            })
            .await
    }

    /// The sample, applied with server-side apply (field manager `eks6`) in a namespace
    /// eks6 makes and marks as the plan's, then waited until every replica is Ready. A
    /// pod that cannot start (its image refused) fails the step with its events.
    async fn sample(&self) -> Result<Done, WorkflowError> {
        let Some(sample) = &self.plan.sample else { return Ok(Done::skipped()) };
        let (aws, run) = (self.aws(), self.run);
        let kube = Kube::for_cluster(aws, &self.plan.name).await?;
        // A namespace of that name that eks6 did not make for this plan is someone
        // else's: down would delete it with everything in it.
        if let Some(owner) = kube.namespace_owner(&sample.namespace).await?
            && owner.as_deref() != Some(self.plan_id())
        {
            {
                return Err(WorkflowError::NotOwned {
                    resource: "namespace".into(),
                    id: sample.namespace.clone(),
                    found: owner,
                });
            }
        }
        let step = UpStep::Sample.name();
        // The cluster's own workloads first: the CNI on every node, and CoreDNS (the
        // managed add-ons are ACTIVE in EKS's eyes before their pods are all Ready).
        run.wait_until(step, WaitKind::SampleRollout, "kube-system/aws-node and kube-system/coredns", || async {
            let cni = match kube.daemonset("kube-system", "aws-node").await {
                Err(e) if e.is_transient() => return Ok(Poll::Pending(format!("the API: {e}"))),
                r => r?.and_then(|d| d.status),
            };
            let dns = kube.deployment("kube-system", "coredns").await?;
            let (desired, ready) = cni.map_or((0, 0), |s| (s.desired_number_scheduled, s.number_ready));
            let wanted = dns.as_ref().and_then(|d| d.spec.as_ref()?.replicas).unwrap_or(0);
            let dns_ready = dns.as_ref().and_then(|d| d.status.as_ref()?.ready_replicas).unwrap_or(0);
            if desired > 0 && ready >= desired && wanted > 0 && dns_ready >= wanted {
                Ok(Poll::Ready(()))
            } else {
                Ok(Poll::Pending(format!("aws-node {ready}/{desired} ready, coredns {dns_ready}/{wanted} ready")))
            }
        })
        .await?;
        let changed = kube.apply_sample(sample, self.plan_id()).await?;
        let resource = format!("deployment {}/{}", sample.namespace, crate::plan::SAMPLE_DEPLOYMENT);
        run.wait_until(step, WaitKind::SampleRollout, &resource, || async {
            let (ready, wanted, waiting) = match kube.sample_rollout(sample).await {
                Err(e) if e.is_transient() => return Ok(Poll::Pending(format!("the API: {e}"))),
                r => r?,
            };
            if wanted > 0 && ready >= wanted {
                return Ok(Poll::Ready(()));
            }
            // An image reference the runtime refuses never starts: no wait helps.
            if let Some(p) =
                waiting.iter().find(|p| matches!(p.waiting.as_deref(), Some("InvalidImageName" | "ErrImageNeverPull")))
            {
                let events = kube.events_of(&p.namespace, &p.name).await.unwrap_or_default();
                return Err(WorkflowError::Failed {
                    resource: format!("pod {}/{}", p.namespace, p.name),
                    status: p.waiting.clone().unwrap_or_default(),
                    reason: if events.is_empty() { "no events".into() } else { events.join("; ") },
                });
            }
            let mut status = format!("{ready}/{wanted} ready");
            if let Some(p) = waiting.first() {
                let why = p.waiting.clone().unwrap_or_else(|| p.phase.clone());
                let last = kube.events_of(&p.namespace, &p.name).await.unwrap_or_default().pop();
                status.push_str(&format!("; {} {why}{}", p.name, last.map(|e| format!(" ({e})")).unwrap_or_default()));
            }
            Ok(Poll::Pending(status))
        })
        .await?;
        let pods = kube.pods(&sample.namespace, Some(&format!("app={}", crate::plan::SAMPLE_APP_LABEL))).await?;
        let mut resources = vec![
            format!("namespace/{}", sample.namespace),
            resource,
            format!("service {}/{}", sample.namespace, crate::plan::SAMPLE_SERVICE),
        ];
        resources.extend(pods.iter().map(|p| format!("pod {} {}", p.name, p.ips.join(","))));
        Ok(Done::created_if(changed, resources))
    }

    /// `coredns` waited to `ACTIVE`, now that nodes can run it.
    async fn coredns(&self) -> Result<Done, WorkflowError> {
        let plan = self.plan;
        if plan.cluster.addons == AddonMode::SelfManaged {
            return Ok(Done::skipped());
        }
        self.wait_addon(UpStep::Coredns.name(), "coredns", std::time::Instant::now()).await?;
        Ok(Done::new(Outcome::Found, vec!["coredns".into()]))
    }

    async fn vpc(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan) = (self.aws(), self.run, self.plan);
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
                    findings: vec![network_error(
                        Rule::VpcIpv6Block,
                        "vpc.id",
                        format!("VPC {id} has no IPv6 CIDR block"),
                        "associate an Amazon-provided IPv6 block with the VPC (aws ec2 associate-vpc-cidr-block --amazon-provided-ipv6-cidr-block)",
                    )],
                });
            };
            // Its DNS attributes were checked before any write ([`before_writes`]).
            run.record("vpc", "vpc", id, false)?;
            let mut net = self.net();
            net.vpc_id = vpc.id;
            net.vpc_ipv6 = Some(v6);
            return Ok(Done::new(Outcome::Found, vec![id.clone()]));
        }
        let find = || async {
            let vpcs = aws.vpcs_by_plan(self.plan_id()).await?;
            let vpcs: Vec<String> =
                vpcs.into_iter().filter(|v| role_of(&v.tags) == Some("vpc")).map(|v| v.id).collect();
            self.one("VPCs", vpcs, |v| v)
        };
        let (id, created) = match find().await? {
            Some(id) => (id, false),
            None => run.create_once("vpc", "VPC", find, || aws.create_vpc(&self.owner, &plan.vpc.ipv4_cidr)).await?,
        };
        run.record("vpc", "vpc", &id, true)?;
        // The Amazon-provided /56 arrives asynchronously.
        let v6 = run
            .wait_until("vpc", WaitKind::VpcIpv6Block, &id, || async {
                let vpc = aws.vpc(&id).await?;
                Ok(match vpc.and_then(|v| v.ipv6.first().copied()) {
                    Some(b) => Poll::Ready(b),
                    None => Poll::Pending("associating IPv6 block".into()),
                })
            })
            .await?;
        // Nodes cannot register without DNS hostnames (EKS user guide, as above); a new
        // VPC has DNS support but not hostnames.
        let (support, hostnames) = aws.vpc_dns(&id).await?;
        aws.set_vpc_dns(&id, support, hostnames).await?;
        let mut net = self.net();
        net.vpc_id = id.clone();
        net.vpc_ipv6 = Some(v6);
        Ok(Done::created_if(created || !(support && hostnames), vec![id]))
    }

    /// The plan's zones: the first N by name the region offers, skipping the zone ids
    /// EKS refuses for control planes ([`EXCLUDED_ZONE_IDS`]), or the plan's own.
    async fn zones(&self) -> Result<Vec<String>, WorkflowError> {
        let plan = self.plan;
        match &plan.vpc.availability_zones {
            // Checked against the zone ids before any write ([`before_writes`]).
            AzSpec::Names(names) => Ok(names.clone()),
            AzSpec::Count(n) => {
                let all = self.aws().availability_zones().await?;
                let usable = usable_zones(&all);
                if usable.len() < *n as usize {
                    return Err(AwsError::local(
                        ErrorKind::AwsInvalidInput,
                        "DescribeAvailabilityZones",
                        format!(
                            "region {} offers {} availability zones EKS can use ({} in all); the plan asks for {n}",
                            plan.region,
                            usable.len(),
                            all.len()
                        ),
                    )
                    .into());
                }
                Ok(usable.into_iter().take(*n as usize).collect())
            }
        }
    }

    async fn subnets(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan) = (self.aws(), self.run, self.plan);
        let (vpc_id, vpc_ipv6) = {
            let net = self.net();
            (net.vpc_id.clone(), net.vpc_ipv6)
        };
        let existing = aws.subnets(&vpc_id).await?;
        if !plan.vpc.subnet_ids.is_empty() {
            return self.byo_subnets(&vpc_id, &existing).await;
        }
        let zones = self.zones().await?;
        let pid = self.plan_id();
        let mut by_role: BTreeMap<String, Vec<&SubnetInfo>> = BTreeMap::new();
        for s in existing.iter().filter(|s| owned_by(&s.tags, pid)) {
            if let Some(key) = role_of(&s.tags).and_then(|r| r.strip_prefix("subnet/")) {
                by_role.entry(key.to_string()).or_default().push(s);
            }
        }
        let mut mine: BTreeMap<String, &SubnetInfo> = BTreeMap::new();
        for (key, found) in by_role {
            if let Some(s) = self.one(&format!("subnets for subnet/{key}"), found, |s| &s.id)? {
                mine.insert(key, s);
            }
        }
        // Blocks in use: other owners' subnets, and this plan's own (which keep theirs).
        let mut used6: Vec<Ipv6Net> = Vec::new();
        let mut used4: Vec<Ipv4Net> = Vec::new();
        for s in &existing {
            used6.extend(s.ipv6.iter().copied());
            used4.extend(s.ipv4);
        }
        let addresses = plan.address_plan(vpc_ipv6, &zones, &used6, &used4)?;
        let mut created_any = false;
        // The plan's subnets that exist keep their blocks; new ones take the next free.
        let mut fresh = addresses.subnets.into_iter();
        let mut placed = Vec::new();
        for (kind, on) in
            [(SubnetKind::Public, plan.vpc.public_subnets), (SubnetKind::Private, plan.vpc.private_subnets)]
        {
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
                            PlanError::Address(NetError::Exhausted { parent: vpc_ipv6.unwrap_or_default(), len: 64 })
                        })?;
                        let Some(v6) = planned.ipv6 else {
                            return Err(WorkflowError::Failed {
                                resource: format!("VPC {vpc_id}"),
                                status: "no IPv6 block".into(),
                                reason: "the VPC lost its IPv6 block while subnets were being made".into(),
                            });
                        };
                        let find = || async {
                            let all = aws.subnets(&vpc_id).await?;
                            let found = all
                                .into_iter()
                                .filter(|s| owned_by(&s.tags, pid) && role_of(&s.tags) == Some(role.as_str()))
                                .collect();
                            self.one(&format!("subnets for {role}"), found, |s: &SubnetInfo| &s.id)
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
                                let id = aws.create_subnet(&self.owner, &new).await?;
                                Ok(SubnetInfo {
                                    id,
                                    vpc_id: vpc_id.clone(),
                                    ipv4: Some(planned.ipv4),
                                    ipv6: vec![v6],
                                    assign_ipv6: false,
                                    map_public_ip: false,
                                    zone: zone.clone(),
                                    zone_id: String::new(),
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
                placed.push(PlacedSubnet { key, kind, zone_index: z, id: info.id.clone() });
            }
        }
        let ids = placed.iter().map(|s| s.id.clone()).collect();
        self.net().subnets = placed;
        Ok(Done::created_if(created_any, ids))
    }

    async fn byo_subnets(&self, vpc_id: &str, existing: &[SubnetInfo]) -> Result<Done, WorkflowError> {
        let (run, plan) = (self.run, self.plan);
        let mut problems = Vec::new();
        let mut changed = false;
        let mut placed = Vec::new();
        for (i, id) in plan.vpc.subnet_ids.iter().enumerate() {
            let field = format!("vpc.subnet_ids[{i}]");
            let Some(s) = existing.iter().find(|s| &s.id == id) else {
                problems.push(network_error(
                    Rule::SubnetInVpc,
                    &field,
                    format!("subnet {id} is not in VPC {vpc_id}"),
                    "list subnets of the plan's VPC",
                ));
                continue;
            };
            if s.ipv6.is_empty() {
                problems.push(network_error(
                    Rule::SubnetIpv6Block,
                    &field,
                    format!("subnet {id} has no IPv6 CIDR block; EKS needs dual-stack subnets"),
                    "associate a /64 from the VPC's /56 with the subnet",
                ));
            }
            if !s.assign_ipv6 {
                if plan.vpc.enable_auto_assign_ipv6 {
                    self.aws().set_assign_ipv6(id).await?;
                    changed = true;
                } else {
                    problems.push(auto_assign_finding(&field, id));
                }
            }
            if EXCLUDED_ZONE_IDS.contains(&s.zone_id.as_str()) {
                problems.push(zone_finding(&field, &s.zone, &s.zone_id));
            }
            run.record(&format!("subnet/byo-{i}"), "subnet", id, false)?;
            placed.push(PlacedSubnet {
                key: format!("byo-{i}"),
                kind: if s.map_public_ip { SubnetKind::Public } else { SubnetKind::Private },
                zone_index: i,
                id: id.clone(),
            });
        }
        let mut zones: Vec<&str> = existing
            .iter()
            .filter(|s| plan.vpc.subnet_ids.contains(&s.id))
            .map(|s| if s.zone_id.is_empty() { s.zone.as_str() } else { s.zone_id.as_str() })
            .collect();
        zones.sort_unstable();
        zones.dedup();
        if zones.len() < 2 && problems.is_empty() {
            problems.push(network_error(
                Rule::TwoAzs,
                "vpc.subnet_ids",
                format!(
                    "the subnets are all in {}; EKS needs subnets in at least two availability zones",
                    zones.join(", ")
                ),
                "add a subnet of another zone",
            ));
        }
        if !problems.is_empty() {
            return Err(WorkflowError::Network { findings: problems });
        }
        let ids = placed.iter().map(|s| s.id.clone()).collect();
        let mut net = self.net();
        net.byo_subnets = true;
        net.subnets = placed;
        Ok(Done::new(if changed { Outcome::Created } else { Outcome::Found }, ids))
    }

    async fn internet_gateway(&self) -> Result<Done, WorkflowError> {
        let (aws, run) = (self.aws(), self.run);
        let vpc_id = self.net().vpc_id.clone();
        let attached = aws.internet_gateways(&vpc_id).await?;
        if let Some(g) = attached.first() {
            // Ours from an earlier run, or the existing VPC's own gateway (used, never deleted).
            let ours = owned_by(&g.tags, self.plan_id());
            run.record("internet-gateway", "internet-gateway", &g.id, ours)?;
            self.net().igw = g.id.clone();
            return Ok(Done::new(Outcome::Found, vec![g.id.clone()]));
        }
        // One created by a run that stopped before attaching it.
        let find = || async {
            let gws = aws.internet_gateways_by_plan(self.plan_id()).await?;
            Ok(gws.into_iter().find(|g| g.vpcs.is_empty()).map(|g| g.id))
        };
        let id = match find().await? {
            Some(id) => id,
            None => {
                run.create_once("internet-gateway", "internet gateway", find, || {
                    aws.create_internet_gateway(&self.owner)
                })
                .await?
                .0
            }
        };
        run.record("internet-gateway", "internet-gateway", &id, true)?;
        aws.attach_internet_gateway(&id, &vpc_id).await?;
        self.net().igw = id.clone();
        Ok(Done::new(Outcome::Created, vec![id]))
    }

    async fn egress_only_gateway(&self) -> Result<Done, WorkflowError> {
        if !self.plan.vpc.private_subnets {
            return Ok(Done::skipped());
        }
        let (aws, run, pid) = (self.aws(), self.run, self.plan_id());
        let vpc_id = self.net().vpc_id.clone();
        let all = aws.egress_only_gateways().await?;
        let in_vpc: Vec<_> = all.into_iter().filter(|g| g.vpcs.contains(&vpc_id)).collect();
        let ours: Vec<_> = in_vpc.iter().filter(|g| owned_by(&g.tags, pid)).collect();
        if let Some(g) = self.one("egress-only gateways", ours, |g| &g.id)?.or(in_vpc.first()) {
            run.record("egress-only-gateway", "egress-only-gateway", &g.id, owned_by(&g.tags, pid))?;
            self.net().eigw = Some(g.id.clone());
            return Ok(Done::new(Outcome::Found, vec![g.id.clone()]));
        }
        // A client token makes the create itself idempotent.
        let id = aws.create_egress_only_gateway(&self.owner, &vpc_id, &token(pid, "eigw", &vpc_id)).await?;
        run.record("egress-only-gateway", "egress-only-gateway", &id, true)?;
        self.net().eigw = Some(id.clone());
        Ok(Done::new(Outcome::Created, vec![id]))
    }

    async fn nat_gateways(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        if !plan.vpc.private_subnets || plan.vpc.nat_gateways == NatGateways::None {
            return Ok(Done::skipped());
        }
        if !plan.vpc.public_subnets {
            run.finding(Rule::NatNeedsPublic.warning(
                "vpc.nat_gateways",
                "NAT gateways need a public subnet; none is planned, so private subnets get no IPv4 egress",
                "set public_subnets = true or nat_gateways = \"none\"",
            ));
            return Ok(Done::skipped());
        }
        let Network { vpc_id, subnets, .. } = self.net().clone();
        let zones: Vec<usize> = match plan.vpc.nat_gateways {
            NatGateways::PerAz => {
                subnets.iter().filter(|s| s.kind == SubnetKind::Public).map(|s| s.zone_index).collect()
            }
            _ => vec![0],
        };
        let existing = aws.nat_gateways(&vpc_id).await?;
        let mut eips = aws.addresses_by_plan(pid).await?;
        let mut created = false;
        let mut pending = Vec::new();
        let mut nats = BTreeMap::new();
        for z in zones {
            let role = format!("nat/{z}");
            let live: Vec<_> = existing
                .iter()
                .filter(|n| {
                    owned_by(&n.tags, pid)
                        && role_of(&n.tags) == Some(role.as_str())
                        && !matches!(
                            n.state,
                            NatGatewayState::Deleting | NatGatewayState::Deleted | NatGatewayState::Failed
                        )
                })
                .collect();
            if let Some(n) = self.one(&format!("NAT gateways for {role}"), live, |n| &n.id)? {
                run.record(&role, "nat-gateway", &n.id, true)?;
                nats.insert(z, n.id.clone());
                if n.state != NatGatewayState::Available {
                    // Made by an earlier run: how long ago is not known here.
                    pending.push((n.id.clone(), std::time::Instant::now()));
                }
                continue;
            }
            let eip_role = format!("eip/{z}");
            let same_role: Vec<_> = eips.iter().filter(|e| role_of(&e.tags) == Some(eip_role.as_str())).collect();
            let allocation = match self.one(&format!("Elastic IPs for {eip_role}"), same_role, |e| &e.allocation_id)? {
                Some(e) => e.allocation_id.clone(),
                None => {
                    let find = || async {
                        let all = aws.addresses_by_plan(pid).await?;
                        let found = all
                            .into_iter()
                            .filter(|e| role_of(&e.tags) == Some(eip_role.as_str()))
                            .map(|e| e.allocation_id)
                            .collect();
                        self.one(&format!("Elastic IPs for {eip_role}"), found, |e| e)
                    };
                    run.create_once("nat-gateways", &eip_role, find, || aws.allocate_address(&self.owner, &eip_role))
                        .await?
                        .0
                }
            };
            run.record(&eip_role, "elastic-ip", &allocation, true)?;
            eips = aws.addresses_by_plan(pid).await?;
            let subnet = subnets
                .iter()
                .find(|s| s.kind == SubnetKind::Public && s.zone_index == z)
                .map(|s| s.id.clone())
                .unwrap_or_default();
            let id = aws
                .create_nat_gateway(&self.owner, &role, &subnet, &allocation, &token(pid, &format!("nat{z}"), &vpc_id))
                .await?;
            run.record(&role, "nat-gateway", &id, true)?;
            nats.insert(z, id.clone());
            pending.push((id, std::time::Instant::now()));
            created = true;
        }
        for (id, began) in pending {
            run.wait_from("nat-gateways", WaitKind::NatGatewayCreate, &id, began, || async {
                let all = aws.nat_gateways(&vpc_id).await?;
                match all.iter().find(|n| n.id == id).map(|n| n.state.clone()) {
                    Some(NatGatewayState::Available) => Ok(Poll::Ready(())),
                    Some(s @ (NatGatewayState::Failed | NatGatewayState::Deleted | NatGatewayState::Deleting)) => {
                        Err(WorkflowError::Failed {
                            resource: format!("NAT gateway {id}"),
                            status: s.as_str().into(),
                            reason: "it did not become available".into(),
                        })
                    }
                    None => Err(WorkflowError::Failed {
                        resource: format!("NAT gateway {id}"),
                        status: "missing".into(),
                        reason: "it did not become available".into(),
                    }),
                    Some(s) => Ok(Poll::Pending(s.as_str().into())),
                }
            })
            .await?;
        }
        let eip_ids = run.recorded_under("eip/").into_iter().map(|(_, e)| e.id);
        let resources = nats.values().cloned().chain(eip_ids).collect();
        self.net().nats = nats;
        Ok(Done::created_if(created, resources))
    }

    async fn route_tables(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        let net = self.net().clone();
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
            let ours =
                |t: &crate::aws::ec2::RouteTableInfo| owned_by(&t.tags, pid) && role_of(&t.tags) == Some(role.as_str());
            let table = match self.one(
                &format!("route tables for {role}"),
                tables.iter().filter(|t| ours(t)).collect(),
                |t| &t.id,
            )? {
                Some(t) => t.clone(),
                None => {
                    // Route tables take a client token; the SDK fills one per call, so look
                    // up by tag after an ambiguous failure.
                    let find = || async {
                        let found = aws
                            .route_tables(&net.vpc_id)
                            .await?
                            .into_iter()
                            .filter(|t| ours(t))
                            .map(|t| t.id)
                            .collect();
                        self.one(&format!("route tables for {role}"), found, |t| t)
                    };
                    let (id, created) = run
                        .create_once("route-tables", &role, find, || {
                            aws.create_route_table(&self.owner, &role, &net.vpc_id)
                        })
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
                let other = tables
                    .iter()
                    .find_map(|t| t.associations.iter().find(|(_, s)| s == &subnet).map(|(a, _)| a.clone()));
                match other {
                    Some(assoc) => aws.replace_route_table_association(&assoc, &table.id).await?,
                    None => aws.associate_route_table(&table.id, &subnet).await?,
                }
                changed = true;
            }
            ids.push(table.id.clone());
        }
        Ok(Done::created_if(changed, ids))
    }

    async fn cluster(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        let mut outcome = Outcome::Found;
        match aws.describe_cluster(&plan.name).await? {
            Some(c) if !owned_by(&c.tags, pid) => {
                return Err(WorkflowError::NotOwned {
                    resource: "EKS cluster".into(),
                    id: plan.name.clone(),
                    found: c.tags.get(TAG_PLAN).cloned(),
                });
            }
            Some(c) if matches!(c.status, ClusterStatus::Deleting | ClusterStatus::Failed) => {
                return Err(WorkflowError::Failed {
                    resource: format!("EKS cluster {}", plan.name),
                    status: c.status.as_str().into(),
                    reason: "run `eks6 down` first, then `up` again".into(),
                });
            }
            Some(_) => {}
            None => {
                let (subnet_ids, vpc_id, role_arn): (Vec<String>, String, String) = {
                    let net = self.net();
                    (net.subnets.iter().map(|s| s.id.clone()).collect(), net.vpc_id.clone(), net.cluster_role.clone())
                };
                let token = token(pid, "cluster", &vpc_id);
                let creator = aws.role_arn_with_path(&aws.caller().await?.principal_arn()).await;
                let new = NewCluster {
                    name: &plan.name,
                    version: &plan.kubernetes_version,
                    role_arn: &role_arn,
                    subnet_ids: &subnet_ids,
                    public_endpoint: plan.cluster.endpoint_public_access,
                    private_endpoint: plan.cluster.endpoint_private_access,
                    support: plan.cluster.support.api_value(),
                    bootstrap_addons: plan.cluster.addons == AddonMode::SelfManaged,
                    creator: &creator,
                    token: &token,
                };
                self.while_role_spreads(
                    RoleKind::Cluster,
                    UpStep::Cluster.name(),
                    &format!("cluster {}", plan.name),
                    || aws.create_cluster(&self.owner, &new),
                )
                .await?;
                outcome = Outcome::Created;
            }
        }
        run.record("cluster", "eks-cluster", &plan.name, true)?;
        let name = plan.name.clone();
        let info = run
            .wait_until("cluster", WaitKind::ClusterCreate, &format!("cluster {name}"), || async {
                match aws.describe_cluster(&name).await? {
                    Some(c) if c.status == ClusterStatus::Active => Ok(Poll::Ready(c)),
                    Some(c) if matches!(c.status, ClusterStatus::Failed | ClusterStatus::Deleting) => {
                        Err(WorkflowError::Failed {
                            resource: format!("EKS cluster {name}"),
                            status: c.status.as_str().into(),
                            reason: "EKS did not make it ACTIVE".into(),
                        })
                    }
                    Some(c) => Ok(Poll::Pending(c.status.as_str().into())),
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
        let mut net = self.net();
        net.cluster_sg = info.security_group_id;
        net.cluster_created = info.created;
        net.authentication_mode = info.authentication_mode;
        drop(net);
        Ok(Done::new(outcome, vec![plan.name.clone()]))
    }

    async fn probe_rule(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        let Some(probe) = &plan.probe else {
            return Ok(Done::skipped());
        };
        let Some(sg) = self.net().cluster_sg.clone() else {
            run.finding(Rule::ClusterSecurityGroup.warning(
                "probe.port",
                format!("cluster {} reports no cluster security group (resourcesVpcConfig.clusterSecurityGroupId), so the probe rule was not added", plan.name),
                "add TCP port to the nodes' security group by hand, or check the cluster in the EKS console",
            ));
            return Ok(Done::skipped());
        };
        let port = plan.probe_port().unwrap_or(80);
        let description = probe_description(pid);
        let find = || async {
            let rules = aws.security_group_rules(&sg).await?;
            Ok::<_, AwsError>(
                rules
                    .into_iter()
                    .find(|r| {
                        !r.egress && (owned_by(&r.tags, pid) || r.description.as_deref() == Some(description.as_str()))
                    })
                    .map(|r| r.id),
            )
        };
        if let Some(id) = find().await? {
            run.record("probe-rule", "security-group-rule", &format!("{sg}/{id}"), true)?;
            return Ok(Done::new(Outcome::Found, vec![id]));
        }
        match aws.authorize_probe(&self.owner, &sg, port, &probe.allow_from).await {
            Ok(id) => {
                let id = match id {
                    Some(id) => id,
                    None => find().await?.unwrap_or_default(),
                };
                run.record("probe-rule", "security-group-rule", &format!("{sg}/{id}"), true)?;
                Ok(Done::new(Outcome::Created, vec![id]))
            }
            Err(e) if e.has_code("InvalidPermission.Duplicate") => {
                run.finding(Rule::ProbeRuleExists.info(
                    "probe.port",
                    format!("security group {sg} already allows TCP {port} from {} by a rule eks6 did not make; eks6 leaves it alone", probe.allow_from),
                    "nothing to do",
                ));
                Ok(Done::new(Outcome::Found, Vec::new()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn nodegroup(&self) -> Result<Done, WorkflowError> {
        let (aws, run, plan, pid) = (self.aws(), self.run, self.plan, self.plan_id());
        let ng = &plan.nodegroup;
        let mut outcome = Outcome::Found;
        match aws.describe_nodegroup(&plan.name, &ng.name).await? {
            Some(n) if !owned_by(&n.tags, pid) => {
                return Err(WorkflowError::NotOwned {
                    resource: "nodegroup".into(),
                    id: ng.name.clone(),
                    found: n.tags.get(TAG_PLAN).cloned(),
                });
            }
            Some(_) => {}
            None => {
                let net = self.net().clone();
                let kind = match ng.node_subnets(&plan.vpc) {
                    NodeSubnets::Private => SubnetKind::Private,
                    NodeSubnets::Public => SubnetKind::Public,
                };
                let mut subnet_ids: Vec<String> =
                    net.subnets.iter().filter(|s| s.kind == kind).map(|s| s.id.clone()).collect();
                if subnet_ids.is_empty() || net.byo_subnets {
                    subnet_ids = net.subnets.iter().map(|s| s.id.clone()).collect();
                }
                let token = token(pid, "nodegroup", &net.vpc_id);
                let to_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
                let new = NewNodegroup {
                    cluster: &plan.name,
                    name: &ng.name,
                    node_role: &net.node_role,
                    subnet_ids: &subnet_ids,
                    instance_types: &ng.instance_types,
                    desired: to_i32(ng.desired_size),
                    min: to_i32(ng.min()),
                    max: to_i32(ng.max().max(1)),
                    ssh_key: ng.ssh_key_pair.as_deref(),
                    ami_type: ng.ami_type.as_deref(),
                    token: &token,
                };
                self.while_role_spreads(
                    RoleKind::Node,
                    UpStep::Nodegroup.name(),
                    &format!("nodegroup {}", ng.name),
                    || aws.create_nodegroup(&self.owner, &new),
                )
                .await?;
                outcome = Outcome::Created;
            }
        }
        run.record("nodegroup", "eks-nodegroup", &ng.name, true)?;
        let (cluster, name) = (plan.name.clone(), ng.name.clone());
        run.wait_until("nodegroup", WaitKind::NodegroupCreate, &format!("nodegroup {name}"), || async {
            match aws.describe_nodegroup(&cluster, &name).await? {
                Some(n) if n.status == NodegroupStatus::Active => Ok(Poll::Ready(())),
                Some(n)
                    if matches!(
                        n.status,
                        NodegroupStatus::CreateFailed | NodegroupStatus::Degraded | NodegroupStatus::Deleting
                    ) =>
                {
                    Err(WorkflowError::Failed {
                        resource: format!("nodegroup {name}"),
                        status: n.status.as_str().into(),
                        reason: if n.issues.is_empty() {
                            "EKS reports no health issue".into()
                        } else {
                            n.issues.iter().map(|(c, m)| format!("{c}: {m}")).collect::<Vec<_>>().join("; ")
                        },
                    })
                }
                Some(n) => Ok(Poll::Pending(n.status.as_str().into())),
                None => Ok(Poll::Pending("not visible yet".into())),
            }
        })
        .await?;
        Ok(Done::new(outcome, vec![ng.name.clone()]))
    }
}
