//! Findings: what a pre-flight check (offline or live) or a run found, each under a
//! stable rule id.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::SCHEMA_VERSION;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The plan cannot work; nothing is created.
    Error,
    /// It works today but is a risk (a version out of support, SSH open to the world).
    Warning,
    /// Advice.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        })
    }
}

/// When a rule is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// From the plan alone, before any AWS call (`eks6 plan`).
    Offline,
    /// Against the account, read-only, before any write (`eks6 plan --live`; `up`
    /// repeats the ones about an existing network).
    Live,
    /// While a workflow runs, from what the account holds.
    Run,
}

/// Every finding id, offline and at run time. Its text (`version-minimum`) is stable: it
/// is what JSON, events and the bindings carry.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::VariantArray,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// Bring-your-own subnets must auto-assign IPv6 (or the plan lets eks6 turn it on).
    AutoAssignIpv6,
    /// An admin that is not an IAM role or user ARN, or listed twice.
    AccessAdmin,
    /// An Amazon Linux 2 AMI type on a version EKS publishes no AL2 AMIs for.
    AmiType,
    /// A zone name outside the plan's region.
    AzRegion,
    /// Subnet ids without the VPC they belong to.
    ByoSubnets,
    /// The cluster name.
    ClusterName,
    /// A cluster of the plan's name exists in the region.
    ClusterExists,
    /// The cluster reports no cluster security group, so the probe rule was not added.
    ClusterSecurityGroup,
    /// DNS64 on EKS subnets.
    Dns64,
    /// A VPC without DNS support or DNS hostnames (nodes cannot register).
    DnsAttributes,
    /// Too few Elastic IPs left for the NAT gateways.
    ElasticIpQuota,
    /// Neither API endpoint on.
    EndpointAccess,
    /// An instance type that is not `family.size`.
    InstanceType,
    /// A family other than IPv6.
    IpFamily,
    /// An instance type not offered in a chosen zone, or unknown to EC2.
    InstanceTypeOffered,
    /// Private subnets without NAT.
    NatNone,
    /// NAT gateways need public subnets.
    NatNeedsPublic,
    /// A non-Nitro instance type.
    NitroOnly,
    /// Neither public nor private subnets.
    NoSubnets,
    /// The nodes' subnets do not exist under this plan.
    NodeSubnets,
    /// The node role may not do what the VPC CNI needs for IPv6.
    NodeRoleIpv6,
    /// The nodegroup name.
    NodegroupName,
    /// More nodes than the default quota of nodes per managed nodegroup (which can be
    /// raised).
    NodegroupQuota,
    /// Node counts out of order, zero, or past what Kubernetes supports.
    NodegroupSize,
    /// A resource of this name exists but belongs to another owner.
    NotOwned,
    /// The probe's allowed source is not an IPv6 prefix.
    ProbeAllowFrom,
    /// The probe port.
    ProbePort,
    /// The probe cannot reach nodes behind an egress-only gateway from outside.
    ProbeReachability,
    /// The probe port was already open by a rule eks6 did not make.
    ProbeRuleExists,
    /// The region name.
    Region,
    /// A malformed role ARN.
    RoleArn,
    /// A given role that does not exist, or a name eks6 would create taken by another.
    RoleExists,
    /// A role whose trust policy does not let the right service assume it.
    RoleTrust,
    /// The sample is applied through a private-only API endpoint.
    SampleEndpoint,
    /// The sample's image is not an image reference.
    SampleImage,
    /// The sample's namespace is not a Kubernetes name, or not the sample's own.
    SampleNamespace,
    /// The sample's replica count.
    SampleReplicas,
    /// `serviceIpv4Cidr` on an IPv6 cluster.
    ServiceIpv4Cidr,
    /// SSH open to the world.
    SshOpen,
    /// A malformed subnet id.
    SubnetId,
    /// Not enough free /64s left in an existing VPC's /56.
    SubnetSpace,
    /// A bring-your-own subnet without an IPv6 block.
    SubnetIpv6Block,
    /// A bring-your-own subnet outside the plan's VPC.
    SubnetInVpc,
    /// The subnets' IPv4 blocks do not fit.
    SubnetIpv4Fit,
    /// The upgrade policy (standard or extended support) and what it costs.
    SupportType,
    /// Fewer than two zones.
    TwoAzs,
    /// Tags AWS refuses, or eks6's own keys.
    Tags,
    /// A Kubernetes version that is not `major.minor`.
    VersionFormat,
    /// A Kubernetes version before 1.21.
    VersionMinimum,
    /// A Kubernetes version out of (standard) support.
    VersionSupport,
    /// A VPC CNI version before 1.10.1.
    VpcCniVersion,
    /// A malformed VPC id.
    VpcId,
    /// A bring-your-own VPC without an IPv6 block.
    VpcIpv6Block,
    /// The VPC's IPv4 block.
    VpcIpv4Cidr,
    /// VPCs in the region near the default quota.
    VpcQuota,
    /// A Windows AMI type.
    WindowsNodes,
    /// A zone id EKS refuses for control planes.
    ZoneId,
}

impl Rule {
    /// The rule id (`version-minimum`).
    pub fn id(self) -> &'static str {
        self.into()
    }

    /// When the rule is checked.
    pub fn stage(self) -> Stage {
        match self {
            Self::ClusterSecurityGroup
            | Self::NatNeedsPublic
            | Self::NotOwned
            | Self::ProbeRuleExists
            | Self::SubnetIpv6Block
            | Self::SubnetInVpc
            | Self::VpcIpv6Block => Stage::Run,
            Self::ClusterExists
            | Self::DnsAttributes
            | Self::ElasticIpQuota
            | Self::InstanceTypeOffered
            | Self::NodeRoleIpv6
            | Self::RoleExists
            | Self::RoleTrust
            | Self::SubnetSpace
            | Self::VpcQuota => Stage::Live,
            _ => Stage::Offline,
        }
    }

    /// Every rule.
    pub fn all() -> &'static [Rule] {
        <Rule as strum::VariantArray>::VARIANTS
    }

    /// An error finding of this rule.
    pub fn error(self, field: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding::new(self, Severity::Error, field, message, fix)
    }

    /// A warning of this rule.
    pub fn warning(self, field: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding::new(self, Severity::Warning, field, message, fix)
    }

    /// Advice of this rule.
    pub fn info(self, field: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding::new(self, Severity::Info, field, message, fix)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl PartialEq<str> for Rule {
    fn eq(&self, other: &str) -> bool {
        self.id() == other
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `version-minimum`.
    pub rule: Rule,
    /// Severity.
    pub severity: Severity,
    /// The plan field it is about, e.g. `nodegroup.instance_types[0]`.
    pub field: String,
    /// What is wrong, lowercase, naming the value.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl Finding {
    /// A finding (see also [`Rule::error`], [`Rule::warning`], [`Rule::info`]).
    pub fn new(
        rule: Rule,
        severity: Severity,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self { rule, severity, field: field.into(), message: message.into(), fix: fix.into() }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}: {} (fix: {})", self.severity, self.rule, self.field, self.message, self.fix)
    }
}

/// All findings of one plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// JSON schema version.
    pub schema_version: u32,
    /// The plan (cluster) name.
    pub plan: String,
    /// Findings, errors first, then by rule.
    pub findings: Vec<Finding>,
}

impl Validation {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Whether a finding of this rule is present.
    pub fn has(&self, rule: Rule) -> bool {
        self.findings.iter().any(|f| f.rule == rule)
    }

    /// Sorts findings errors first, then by rule.
    pub(crate) fn new(plan: &str, mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.rule.id().cmp(b.rule.id())));
        Self { schema_version: SCHEMA_VERSION, plan: plan.into(), findings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kebab_case_and_unique() {
        assert_eq!(Rule::VersionMinimum.id(), "version-minimum");
        assert_eq!(Rule::AutoAssignIpv6.id(), "auto-assign-ipv6");
        assert_eq!(Rule::TwoAzs.id(), "two-azs");
        let mut ids: Vec<&str> = Rule::all().iter().map(|r| r.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::all().len());
        for r in Rule::all() {
            assert_eq!(serde_json::to_value(r).unwrap(), r.id(), "serde and the id agree");
        }
    }
}
