//! `down`: tears down exactly what carries this plan's ownership tags, as a graph of
//! steps ([`DownStep::needs`]) that undoes `up`'s.

use std::collections::BTreeSet;

use super::graph::{Done, Step, run_steps};
use super::journal::Journal;
use super::run::{InFlight, Run, limited};
use super::up::{MANAGED_ADDONS, owned_by};
use super::wait::{Poll, WaitKind};
use super::{Outcome, RunOptions, RunReport, Target, WorkflowError};
use crate::aws::ec2::probe_description;
use crate::aws::eks::ClusterInfo;
use crate::aws::{Aws, ClusterStatus, NatGatewayState, NodegroupStatus};
use crate::k8s::Kube;
use crate::plan::{AddonMode, Rule, iam_name};

/// A step of `down`. Like [`UpStep`](super::UpStep), each names the steps it needs
/// and `down` runs them as a graph ([`StepGraph`](super::StepGraph)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::VariantArray, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
#[non_exhaustive]
pub enum DownStep {
    /// The sample's namespace (every namespace eks6 made for the plan), waited until gone:
    /// its pods hold addresses of the nodes' ENIs.
    Sample,
    /// NAT gateways, waited until deleted, and their Elastic IPs: while the nodegroup
    /// and the cluster are deleting.
    NatGateways,
    /// The plan's nodegroups, waited until gone.
    Nodegroup,
    /// The probe's ingress rule.
    ProbeRule,
    /// The managed add-ons eks6 created, waited until gone.
    Addons,
    /// The cluster, waited until gone (its access entries go with it).
    Cluster,
    /// Route tables, gateways, subnets (waiting for the nodes' network interfaces to
    /// leave) and the VPC; whatever NAT gateway or Elastic IP is left.
    Network,
    /// The IAM roles and the CNI policy eks6 created (never a role given by ARN).
    Iam,
}

impl DownStep {
    /// Every step, each listed after the steps it needs.
    pub fn all() -> &'static [DownStep] {
        <Self as strum::VariantArray>::VARIANTS
    }

    /// The step's name.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The steps that must be gone first. Nodes go before the add-ons (the CNI serves
    /// them until they end) and before the cluster (EKS refuses to delete a cluster
    /// with nodegroups: ResourceInUseException); the network after the cluster and the
    /// NAT gateways (an internet gateway with mapped public addresses cannot be
    /// detached: DependencyViolation); IAM once EKS is done with the roles (the
    /// cluster gone), beside the network. The NAT gateways go while the nodes drain:
    /// private nodes lose IPv4 egress for the last minutes of their drain, which EKS's
    /// delete does not need (it drains through the cluster's API); a trade for the
    /// minute or two of NAT deletion off the critical path.
    pub fn needs(self) -> &'static [DownStep] {
        use DownStep::*;
        match self {
            Sample | ProbeRule => &[],
            NatGateways | Nodegroup => &[Sample],
            Addons => &[Nodegroup],
            Cluster => &[Nodegroup, ProbeRule, Addons],
            Network => &[NatGateways, Cluster],
            Iam => &[Cluster],
        }
    }

    /// The waits on AWS the step makes, one after another.
    pub fn waits(self) -> &'static [WaitKind] {
        use DownStep::*;
        match self {
            Sample => &[WaitKind::NamespaceDelete],
            NatGateways => &[WaitKind::NatGatewayDelete],
            Nodegroup => &[WaitKind::NodegroupDelete],
            Addons => &[WaitKind::AddonDelete],
            Cluster => &[WaitKind::ClusterDelete],
            ProbeRule | Network | Iam => &[],
        }
    }
}

impl Step for DownStep {
    const WORKFLOW: &'static str = "down";
    fn all() -> &'static [Self] {
        DownStep::all()
    }
    fn name(self) -> &'static str {
        DownStep::name(self)
    }
    fn needs(self) -> &'static [Self] {
        DownStep::needs(self)
    }
    fn waits(self) -> &'static [WaitKind] {
        DownStep::waits(self)
    }
}

/// Deletes everything this plan owns: the sample, the nodegroup (the NAT gateways
/// meanwhile), the probe rule, the add-ons, the cluster, then the network and the IAM
/// roles and policy side by side ([`DownStep`]). Waits where AWS needs it; a delete refused with
/// `DependencyViolation` or `ResourceInUseException` is tried again until the deadline,
/// then the error names what still blocks it. Resources of other owners, and
/// bring-your-own resources, are never touched. Idempotent: `down` of nothing succeeds.
pub async fn down(aws: &Aws, target: Target<'_>, opts: &RunOptions) -> Result<RunReport, WorkflowError> {
    let flight = InFlight::default();
    limited(opts.timeout, &flight, run_down(aws, target, opts, &flight)).await
}

async fn run_down(
    aws: &Aws,
    target: Target<'_>,
    opts: &RunOptions,
    flight: &InFlight,
) -> Result<RunReport, WorkflowError> {
    let run = Run::open(aws, target, opts, flight).await?;
    let name = run.cluster.clone();
    let pid = run.plan_id.clone();

    // The cluster, if it is there: it names its VPC.
    let cluster = aws.describe_cluster(&name).await?;
    let ours = cluster.as_ref().filter(|c| owned_by(&c.tags, &pid));
    if cluster.is_some() && ours.is_none() {
        run.finding(Rule::NotOwned.warning(
            "name",
            format!("cluster {name} exists but does not carry this plan's tags (eks6:plan-id {pid}); eks6 leaves it and its nodegroups alone"),
            "delete it with the tool that created it",
        ));
    }
    let down = &Down { run: &run, target, cluster: ours };
    run_steps(&run, |step: DownStep| async move {
        let deleted = down.step(step).await?;
        Ok(Done { outcome: if deleted.is_empty() { Outcome::Skipped } else { Outcome::Deleted }, resources: deleted })
    })
    .await?;
    let report = run.report("down");
    Journal::remove(&opts.journal)?;
    Ok(report)
}

struct Down<'r, 'a> {
    run: &'r Run<'a>,
    target: Target<'r>,
    /// The cluster, when it is there and this plan's.
    cluster: Option<&'r ClusterInfo>,
}

impl Down<'_, '_> {
    /// Runs a step; returns what it deleted.
    async fn step(&self, step: DownStep) -> Result<Vec<String>, WorkflowError> {
        match step {
            DownStep::Sample => self.sample().await,
            DownStep::NatGateways => self.nat_gateways().await,
            DownStep::Nodegroup => self.nodegroups().await,
            DownStep::ProbeRule => self.probe_rule().await,
            DownStep::Addons => self.addons().await,
            DownStep::Cluster => self.cluster().await,
            DownStep::Network => self.network().await,
            DownStep::Iam => self.iam().await,
        }
    }

    fn owned(&self, tags: &std::collections::BTreeMap<String, String>) -> bool {
        owned_by(tags, &self.run.plan_id)
    }

    /// The namespaces eks6 made for this plan (annotated with its id), deleted and
    /// waited for. Whatever the Kubernetes API answers (it refuses the caller, cannot be
    /// reached, a namespace never finishes) is a warning, not a stop: deleting the
    /// cluster takes them with it, and the rest of down must go on.
    async fn sample(&self) -> Result<Vec<String>, WorkflowError> {
        let run = self.run;
        let Some(cluster) = self.cluster else { return Ok(Vec::new()) };
        // A plan without [sample] made no namespace; a cluster not ACTIVE has no API.
        if matches!(self.target, Target::Plan(p) if p.sample.is_none()) || cluster.status != ClusterStatus::Active {
            return Ok(Vec::new());
        }
        match self.sample_namespaces().await {
            Ok(deleted) => Ok(deleted),
            Err(e @ (WorkflowError::Kube(_) | WorkflowError::Timeout { .. })) => {
                run.finding(Rule::SampleNamespace.warning(
                    "sample.namespace",
                    format!("the sample's namespace was not deleted through the Kubernetes API: {e}"),
                    "deleting the cluster deletes it too; nothing is left behind",
                ));
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    async fn sample_namespaces(&self) -> Result<Vec<String>, WorkflowError> {
        let run = self.run;
        let kube = Kube::for_cluster(run.aws, &run.cluster).await?;
        let namespaces = kube.plan_namespaces(&run.plan_id).await?;
        for ns in &namespaces {
            kube.delete_namespace(ns).await?;
            run.wait_until(DownStep::Sample.name(), WaitKind::NamespaceDelete, &format!("namespace {ns}"), || async {
                Ok(match kube.namespace_owner(ns).await {
                    Ok(None) => Poll::Ready(()),
                    Ok(Some(_)) => Poll::Pending("Terminating".into()),
                    Err(e) if e.is_transient() => Poll::Pending(format!("the API: {e}")),
                    Err(e) => return Err(e.into()),
                })
            })
            .await?;
        }
        Ok(namespaces.into_iter().map(|n| format!("namespace/{n}")).collect())
    }

    async fn nodegroups(&self) -> Result<Vec<String>, WorkflowError> {
        let (run, aws, name) = (self.run, self.run.aws, self.run.cluster.as_str());
        let mut deleted = Vec::new();
        if self.cluster.is_some() {
            let names: Vec<String> = match self.target {
                Target::Plan(p) => vec![p.nodegroup.name.clone()],
                Target::Cluster { .. } => aws.list_nodegroups(name).await?,
            };
            for ng in names {
                let Some(info) = aws.describe_nodegroup(name, &ng).await? else { continue };
                if !self.owned(&info.tags) {
                    continue;
                }
                if info.status != NodegroupStatus::Deleting {
                    run.retry_in_use("nodegroup", &format!("nodegroup {ng}"), || aws.delete_nodegroup(name, &ng))
                        .await?;
                }
                run.wait_until("nodegroup", WaitKind::NodegroupDelete, &format!("nodegroup {ng}"), || async {
                    Ok(match aws.describe_nodegroup(name, &ng).await? {
                        None => Poll::Ready(()),
                        Some(n) if n.status == NodegroupStatus::DeleteFailed => {
                            return Err(WorkflowError::Failed {
                                resource: format!("nodegroup {ng}"),
                                status: n.status.as_str().into(),
                                reason: n
                                    .issues
                                    .iter()
                                    .map(|(c, m)| format!("{c}: {m}"))
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            });
                        }
                        Some(n) => Poll::Pending(n.status.as_str().into()),
                    })
                })
                .await?;
                deleted.push(ng);
            }
        }
        run.forget(|role| role != "nodegroup");
        Ok(deleted)
    }

    async fn probe_rule(&self) -> Result<Vec<String>, WorkflowError> {
        let aws = self.run.aws;
        let mut deleted = Vec::new();
        if let Some(sg) = self.cluster.and_then(|c| c.security_group_id.as_deref()) {
            let description = probe_description(&self.run.plan_id);
            for r in aws.security_group_rules(sg).await? {
                if !r.egress && (self.owned(&r.tags) || r.description.as_deref() == Some(description.as_str())) {
                    aws.revoke_ingress_rule(sg, &r.id).await?;
                    deleted.push(r.id);
                }
            }
        }
        self.run.forget(|role| role != "probe-rule");
        Ok(deleted)
    }

    /// The add-ons carrying this plan's tags, deleted before the cluster.
    async fn addons(&self) -> Result<Vec<String>, WorkflowError> {
        let (run, aws, name) = (self.run, self.run.aws, self.run.cluster.as_str());
        let mut deleted = Vec::new();
        let self_managed = self.target.plan().is_some_and(|p| p.cluster.addons == AddonMode::SelfManaged);
        if self.cluster.is_some() && !self_managed {
            for addon in MANAGED_ADDONS {
                let a = match aws.describe_addon(name, addon).await {
                    Ok(Some(a)) => a,
                    Ok(None) => continue,
                    // An endpoint without the add-on API has no add-ons to delete.
                    Err(e) if e.is_missing_operation() => break,
                    Err(e) => return Err(e.into()),
                };
                if !self.owned(&a.tags) {
                    continue;
                }
                run.retry_in_use("addons", &format!("add-on {addon}"), || aws.delete_addon(name, addon)).await?;
                deleted.push((addon.to_string(), std::time::Instant::now()));
            }
            // Deleted together, waited for one after another: EKS deletes them at once.
            for (addon, began) in &deleted {
                run.wait_from("addons", WaitKind::AddonDelete, &format!("add-on {addon}"), *began, || async {
                    Ok(match aws.describe_addon(name, addon).await? {
                        None => Poll::Ready(()),
                        Some(a) => Poll::Pending(a.status.as_str().into()),
                    })
                })
                .await?;
            }
        }
        run.forget(|role| !role.starts_with("addon/"));
        Ok(deleted.into_iter().map(|(a, _)| a).collect())
    }

    /// The roles and the policy eks6 made for this plan: found by their names, deleted
    /// only with this plan's tag. A role EKS still holds (a nodegroup's instance profile
    /// going away) is retried like any delete in use.
    async fn iam(&self) -> Result<Vec<String>, WorkflowError> {
        let (run, aws) = (self.run, self.run.aws);
        let (name, pid) = (run.cluster.as_str(), run.plan_id.as_str());
        let mut deleted = Vec::new();
        // A plan that gives both roles made none (and no CNI policy): no IAM call at all.
        if self.target.plan().is_some_and(|p| p.iam.cluster_role.arn().is_some() && p.iam.node_role.arn().is_some()) {
            return Ok(deleted);
        }
        for kind in ["cluster", "node"] {
            let role = iam_name(name, pid, kind);
            let info = match aws.role(&role).await {
                Ok(info) => info,
                // Without IAM reads eks6 cannot tell its roles: say so, leave them.
                Err(e) if e.kind() == crate::ErrorKind::AwsCredentials => {
                    run.finding(Rule::RoleExists.warning(
                        "iam",
                        format!("the roles eks6 may have made ({}) were not looked for: {e}", iam_name(name, pid, "*")),
                        "delete them with IAM rights (their eks6:plan-id tag names this plan), or grant iam:GetRole and run down again",
                    ));
                    return Ok(deleted);
                }
                Err(e) => return Err(e.into()),
            };
            let Some(info) = info else { continue };
            if !self.owned(&info.tags) {
                continue;
            }
            run.retry_in_use("iam", &format!("IAM role {role}"), || aws.delete_role(&role)).await?;
            deleted.push(role);
        }
        let policy = format!(
            "arn:{}:iam::{}:policy/{}",
            aws.partition(),
            aws.account_id().await?,
            iam_name(name, pid, "cni-ipv6")
        );
        if let Some(p) = aws.policy(&policy).await?
            && self.owned(&p.tags)
        {
            run.retry_in_use("iam", &format!("IAM policy {policy}"), || aws.delete_policy(&policy)).await?;
            deleted.push(policy);
        }
        run.forget(|role| !role.starts_with("iam/"));
        Ok(deleted)
    }

    async fn cluster(&self) -> Result<Vec<String>, WorkflowError> {
        let (run, aws, name) = (self.run, self.run.aws, self.run.cluster.as_str());
        let mut deleted = Vec::new();
        if let Some(c) = self.cluster {
            if c.status != ClusterStatus::Deleting {
                run.retry_in_use("cluster", &format!("cluster {name}"), || aws.delete_cluster(name)).await?;
            }
            run.wait_until("cluster", WaitKind::ClusterDelete, &format!("cluster {name}"), || async {
                Ok(match aws.describe_cluster(name).await? {
                    None => Poll::Ready(()),
                    Some(c) => Poll::Pending(c.status.as_str().into()),
                })
            })
            .await?;
            deleted.push(name.to_string());
        }
        run.forget(|role| role != "cluster" && !role.starts_with("access/"));
        Ok(deleted)
    }

    /// The VPCs that may hold this plan's network: tagged ones, the journal's, the
    /// plan's own, the cluster's.
    async fn vpcs(&self) -> Result<BTreeSet<String>, WorkflowError> {
        let (run, aws) = (self.run, self.run.aws);
        let mut vpcs: BTreeSet<String> = aws.vpcs_by_plan(&run.plan_id).await?.into_iter().map(|v| v.id).collect();
        if let Some(v) = run.recorded("vpc") {
            vpcs.insert(v.id);
        }
        if let Some(id) = self.target.plan().and_then(|p| p.vpc.id.clone()) {
            vpcs.insert(id);
        }
        if let Some(v) = self.cluster.and_then(|c| c.vpc_id.clone()) {
            vpcs.insert(v);
        }
        Ok(vpcs)
    }

    /// The plan's NAT gateways in every VPC of [`vpcs`](Self::vpcs), waited until
    /// deleted, then its Elastic IPs.
    async fn nat_gateways(&self) -> Result<Vec<String>, WorkflowError> {
        let mut deleted = Vec::new();
        for vpc_id in &self.vpcs().await? {
            self.delete_nats(vpc_id, &mut deleted).await?;
        }
        self.release_eips(&mut deleted).await?;
        self.run.forget(|role| !role.starts_with("nat/") && !role.starts_with("eip/"));
        Ok(deleted)
    }

    /// The VPCs of the plan's network (see [`vpcs`](Self::vpcs)), then what is left
    /// outside any VPC.
    async fn network(&self) -> Result<Vec<String>, WorkflowError> {
        let (aws, pid) = (self.run.aws, self.run.plan_id.as_str());
        let mut deleted = Vec::new();
        for vpc_id in &self.vpcs().await? {
            self.teardown_vpc(vpc_id, &mut deleted).await?;
        }
        // Leftovers outside any VPC: an internet gateway created but never attached (an
        // Elastic IP whose NAT gateway was never made went in `nat-gateways`).
        for g in aws.internet_gateways_by_plan(pid).await? {
            if g.vpcs.is_empty() && self.owned(&g.tags) {
                aws.delete_internet_gateway(&g.id).await?;
                deleted.push(g.id);
            }
        }
        Ok(deleted)
    }

    async fn release_eips(&self, deleted: &mut Vec<String>) -> Result<(), WorkflowError> {
        let (run, aws) = (self.run, self.run.aws);
        for e in aws.addresses_by_plan(&run.plan_id).await? {
            if self.owned(&e.tags) {
                let what = format!("Elastic IP {}", e.allocation_id);
                run.retry_in_use(DownStep::NatGateways.name(), &what, || aws.release_address(&e.allocation_id)).await?;
                deleted.push(e.allocation_id);
            }
        }
        Ok(())
    }

    /// Deletes the plan's NAT gateways in a VPC and waits until they are deleted.
    async fn delete_nats(&self, vpc_id: &str, deleted: &mut Vec<String>) -> Result<(), WorkflowError> {
        let (run, aws) = (self.run, self.run.aws);
        let nats: Vec<_> = aws
            .nat_gateways(vpc_id)
            .await?
            .into_iter()
            .filter(|n| self.owned(&n.tags) && n.state != NatGatewayState::Deleted)
            .collect();
        let mut began = Vec::new();
        for n in &nats {
            if n.state != NatGatewayState::Deleting {
                aws.delete_nat_gateway(&n.id).await?;
            }
            began.push(std::time::Instant::now());
        }
        for (n, began) in nats.iter().zip(began) {
            let id = n.id.clone();
            run.wait_from(
                DownStep::NatGateways.name(),
                WaitKind::NatGatewayDelete,
                &format!("NAT gateway {id}"),
                began,
                || async {
                    let all = aws.nat_gateways(vpc_id).await?;
                    Ok(match all.iter().find(|x| x.id == id).map(|x| &x.state) {
                        None | Some(NatGatewayState::Deleted) => Poll::Ready(()),
                        Some(s) => Poll::Pending(s.as_str().into()),
                    })
                },
            )
            .await?;
            deleted.push(n.id.clone());
        }
        Ok(())
    }

    /// Deletes what this plan owns in one VPC, and the VPC itself if it is the plan's.
    async fn teardown_vpc(&self, vpc_id: &str, deleted: &mut Vec<String>) -> Result<(), WorkflowError> {
        let (run, aws) = (self.run, self.run.aws);
        // The NAT gateways and Elastic IPs are gone: this step needs `nat-gateways`.
        let Some(vpc) = aws.vpc(vpc_id).await? else { return Ok(()) };
        // Route tables: disassociate, delete.
        for t in aws.route_tables(vpc_id).await? {
            if !self.owned(&t.tags) || t.main {
                continue;
            }
            for (assoc, _) in &t.associations {
                aws.disassociate_route_table(assoc).await?;
            }
            run.retry_in_use("network", &format!("route table {}", t.id), || aws.delete_route_table(&t.id)).await?;
            deleted.push(t.id);
        }

        // Gateways.
        for g in aws.egress_only_gateways().await? {
            if g.vpcs.iter().any(|v| v == vpc_id) && self.owned(&g.tags) {
                aws.delete_egress_only_gateway(&g.id).await?;
                deleted.push(g.id);
            }
        }
        for g in aws.internet_gateways(vpc_id).await? {
            if self.owned(&g.tags) {
                aws.detach_internet_gateway(&g.id, vpc_id).await?;
                run.retry_in_use("network", &format!("internet gateway {}", g.id), || {
                    aws.delete_internet_gateway(&g.id)
                })
                .await?;
                deleted.push(g.id);
            }
        }

        // Subnets, waiting out ENIs the CNI or load balancers leave behind.
        for s in aws.subnets(vpc_id).await? {
            if self.owned(&s.tags) {
                run.delete_blocked("network", &format!("subnet {}", s.id), vpc_id, Some(&s.id), || {
                    aws.delete_subnet(&s.id)
                })
                .await?;
                deleted.push(s.id);
            }
        }

        if self.owned(&vpc.tags) {
            run.delete_blocked("network", &format!("VPC {vpc_id}"), vpc_id, None, || aws.delete_vpc(vpc_id)).await?;
            deleted.push(vpc_id.to_string());
        }
        run.forget(|role| role.starts_with("iam/"));
        Ok(())
    }
}
