//! The cluster plan: what a user writes (TOML or JSON), its address plan, and the
//! offline pre-flight checks.
//!
//! ```
//! use eks6::plan::{ClusterPlan, RoleKind, RoleSpec};
//! let plan = ClusterPlan::from_toml(r#"
//!     name = "AWSNewsBlog"
//!     region = "us-west-2"
//!     kubernetes_version = "1.35"
//!     [iam]
//!     node_role = "arn:aws:iam::123456789012:role/EKSNodeRole"
//!     [nodegroup]
//!     name = "AWSNewsBlog-nodegroup"
//! "#)?;
//! assert_eq!(plan.vpc.ipv4_cidr, "10.0.0.0/16");
//! assert_eq!(plan.iam.cluster_role, RoleSpec::Create);
//! assert!(plan.role_name(RoleKind::Cluster).starts_with("eks6-AWSNewsBlog-"));
//! let err = ClusterPlan::from_toml("name = \"x\"\nbogus = 2").unwrap_err();
//! assert!(err.to_string().contains("line 2, column 1: unknown field `bogus`"));
//! # Ok::<(), eks6::plan::PlanError>(())
//! ```

mod address;
mod finding;
mod rules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use address::{AddressPlan, SubnetKind, SubnetPlan};
pub use finding::{Finding, Rule, Severity, Stage, Validation};
#[cfg(feature = "aws")]
pub(crate) use rules::region_ok;
pub use rules::{
    CLUSTER_ADMIN_POLICY, Date, EXCLUDED_ZONE_IDS, NO_AL2_FROM_MINOR, NON_NITRO_FAMILIES, VERSION_TABLE,
    VERSION_TABLE_CHECKED, VersionSupport, newest_standard_version, offline_rules,
};

/// Version of the JSON documents eks6 writes (findings, events, reports, journal).
pub const SCHEMA_VERSION: u32 = 1;

/// A cluster plan: the walkthrough's variables, with defaults a careful engineer would
/// pick. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterPlan {
    /// The EKS cluster name (also the owner tag `eks6:cluster`).
    pub name: String,
    /// The AWS region. The plan's region is the truth: a different client region is an error.
    pub region: String,
    /// Kubernetes version, e.g. `"1.35"` (IPv6 needs 1.21 or later; EKS creates only
    /// versions in standard or extended support). Default [`KUBERNETES_VERSION`].
    #[serde(default = "default_kubernetes_version")]
    pub kubernetes_version: String,
    /// The cluster's and the nodes' IAM roles: created by eks6 (the default) or given.
    #[serde(default)]
    pub iam: IamPlan,
    /// Who may administer the cluster besides its creator.
    #[serde(default)]
    pub access: AccessPlan,
    /// Gone: moved to `[iam] cluster_role`. A value is an error finding that says so
    /// (instead of "unknown field").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_role_arn: Option<String>,
    /// Gone: moved to `[iam] node_role` (as `cluster_role_arn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_role_arn: Option<String>,
    /// The network: a new dual-stack VPC (default) or an existing one.
    #[serde(default)]
    pub vpc: VpcPlan,
    /// Cluster settings.
    #[serde(default)]
    pub cluster: ClusterSettings,
    /// The managed nodegroup.
    pub nodegroup: NodegroupPlan,
    /// The probe rule and check; `None` opens no port.
    #[serde(default)]
    pub probe: Option<ProbePlan>,
    /// The walkthrough's sample nginx Deployment and Service, applied after the nodegroup
    /// and checked by `verify`; `None` (the default) applies nothing.
    #[serde(default)]
    pub sample: Option<SamplePlan>,
    /// Extra tags for every resource eks6 creates.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// The network of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcPlan {
    /// An existing VPC to use (bring your own); eks6 never deletes it. Omit to create one.
    #[serde(default)]
    pub id: Option<String>,
    /// Existing subnets to use, with `id`; omit to let eks6 pick or create subnets.
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    /// IPv4 block of a new VPC (default `10.0.0.0/16`).
    #[serde(default = "default_ipv4_cidr")]
    pub ipv4_cidr: String,
    /// Length of each subnet's IPv4 block (default 20: 4,091 usable addresses).
    #[serde(default = "default_ipv4_subnet_len")]
    pub ipv4_subnet_len: u8,
    /// Availability zones: a count (the first N the region offers) or names / zone ids.
    #[serde(default)]
    pub availability_zones: AzSpec,
    /// Public subnets (default true): `::/0` and `0.0.0.0/0` to the internet gateway.
    #[serde(default = "yes")]
    pub public_subnets: bool,
    /// Private subnets (default true): `::/0` to an egress-only gateway, `0.0.0.0/0` to NAT.
    #[serde(default = "yes")]
    pub private_subnets: bool,
    /// NAT gateways for private subnets' IPv4 egress (default one for the VPC).
    #[serde(default)]
    pub nat_gateways: NatGateways,
    /// For an existing VPC: let eks6 turn on "auto-assign IPv6 address" on its subnets
    /// (default false: eks6 only checks and reports).
    #[serde(default)]
    pub enable_auto_assign_ipv6: bool,
    /// Gone: any value is an error finding (EKS subnets keep DNS64 off; see the
    /// `dns64` rule). Kept only to say so instead of "unknown field".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns64: Option<bool>,
}

fn default_ipv4_cidr() -> String {
    "10.0.0.0/16".into()
}
fn default_ipv4_subnet_len() -> u8 {
    20
}
fn yes() -> bool {
    true
}

impl Default for VpcPlan {
    fn default() -> Self {
        Self {
            id: None,
            subnet_ids: Vec::new(),
            ipv4_cidr: default_ipv4_cidr(),
            ipv4_subnet_len: default_ipv4_subnet_len(),
            availability_zones: AzSpec::default(),
            public_subnets: true,
            private_subnets: true,
            nat_gateways: NatGateways::default(),
            enable_auto_assign_ipv6: false,
            dns64: None,
        }
    }
}

/// Which availability zones to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum AzSpec {
    /// The first N zones the region offers, in name order.
    Count(u8),
    /// Zones by name (`us-west-2a`) or zone id (`usw2-az1`).
    Names(Vec<String>),
}

impl Default for AzSpec {
    fn default() -> Self {
        Self::Count(2)
    }
}

/// The most zones a plan may ask for by count: no region has more (us-east-1 has six).
pub const MAX_ZONES: u8 = 16;

impl<'de> Deserialize<'de> for AzSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AzSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "a number of zones (2 to {MAX_ZONES}) or a list of zone names or zone ids")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<AzSpec, E> {
                match u8::try_from(n) {
                    Ok(n) if n <= MAX_ZONES => Ok(AzSpec::Count(n)),
                    _ => Err(E::custom(format!(
                        "availability_zones = {n}: no region has that many zones; give a count from 2 to {MAX_ZONES}, or a list of zone names or ids"
                    ))),
                }
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<AzSpec, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<AzSpec, A::Error> {
                let mut names = Vec::new();
                while let Some(n) = seq.next_element::<String>()? {
                    names.push(n);
                }
                Ok(AzSpec::Names(names))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl AzSpec {
    /// How many zones the plan asks for.
    pub fn len(&self) -> usize {
        match self {
            Self::Count(n) => *n as usize,
            Self::Names(v) => v.len(),
        }
    }

    /// Whether no zone is asked for.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// NAT gateways for the private subnets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NatGateways {
    /// One NAT gateway for the VPC (cheapest; one AZ carries all IPv4 egress).
    #[default]
    Single,
    /// One per availability zone (resilient).
    PerAz,
    /// None: private subnets get IPv6 egress only.
    None,
}

/// Cluster settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// Public API endpoint (default true, as the walkthrough).
    #[serde(default = "yes")]
    pub endpoint_public_access: bool,
    /// Private API endpoint (default true, as the walkthrough).
    #[serde(default = "yes")]
    pub endpoint_private_access: bool,
    /// The IP family; only `ipv6` is eks6's business (default `ipv6`).
    #[serde(default = "default_ip_family")]
    pub ip_family: String,
    /// Must stay unset: EKS picks an IPv6 service range itself.
    #[serde(default, rename = "service_ipv4_cidr", alias = "serviceIpv4Cidr")]
    pub service_ipv4_cidr: Option<String>,
    /// The `vpc-cni` add-on version, if pinned (IPv6 needs 1.10.1 or later; default the
    /// add-on's default version for the cluster's Kubernetes version). Managed add-ons only.
    #[serde(default)]
    pub vpc_cni_version: Option<String>,
    /// Who runs the cluster's networking and DNS: `"managed"` (default: `vpc-cni`,
    /// `kube-proxy` and `coredns` as EKS managed add-ons) or `"self-managed"` (EKS's own
    /// bootstrap; no add-on calls).
    #[serde(default)]
    pub addons: AddonMode,
    /// The cluster's upgrade policy: `"standard"` (default) or `"extended"`.
    #[serde(default)]
    pub support: SupportType,
}

/// Who runs the cluster's networking and DNS add-ons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddonMode {
    /// `vpc-cni`, `kube-proxy` and `coredns` as EKS managed add-ons, created by eks6 at
    /// the default version for the cluster (`CreateCluster` with
    /// `bootstrapSelfManagedAddons = false`). Upgraded with `aws eks update-addon`.
    #[default]
    Managed,
    /// EKS installs them itself at creation, unmanaged (`bootstrapSelfManagedAddons =
    /// true`); eks6 makes no add-on call. Works on endpoints without the add-on API.
    SelfManaged,
}

impl AddonMode {
    /// The plan text (`managed`, `self-managed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Managed => "managed",
            Self::SelfManaged => "self-managed",
        }
    }
}

/// The cluster's upgrade policy (`upgradePolicy.supportType`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupportType {
    /// At the end of standard support EKS upgrades the cluster to the next version; no
    /// extended-support charge ever.
    #[default]
    Standard,
    /// The cluster may stay on its version for 12 more months of extended support,
    /// billed at a higher hourly rate for that time.
    Extended,
}

impl SupportType {
    /// The API value (`STANDARD`, `EXTENDED`).
    pub fn api_value(self) -> &'static str {
        match self {
            Self::Standard => "STANDARD",
            Self::Extended => "EXTENDED",
        }
    }
}

/// A role: made by eks6, or an existing one by ARN (read, never changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RoleSpec {
    /// eks6 creates the role (`"create"`) as the EKS user guide describes it, named
    /// [`ClusterPlan::role_name`], and `down` deletes it.
    #[default]
    Create,
    /// An existing role's ARN.
    Arn(String),
}

impl RoleSpec {
    /// The ARN, when given.
    pub fn arn(&self) -> Option<&str> {
        match self {
            Self::Create => None,
            Self::Arn(a) => Some(a),
        }
    }
}

impl Serialize for RoleSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.arn().unwrap_or("create"))
    }
}

impl<'de> Deserialize<'de> for RoleSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(if s == "create" { Self::Create } else { Self::Arn(s) })
    }
}

/// The cluster's and the nodes' IAM roles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamPlan {
    /// The role EKS assumes for the control plane: `"create"` (default) or an ARN.
    #[serde(default)]
    pub cluster_role: RoleSpec,
    /// The nodes' role: `"create"` (default) or an ARN. A given role must let the VPC
    /// CNI assign IPv6 addresses (`eks6 plan --live` asks IAM).
    #[serde(default)]
    pub node_role: RoleSpec,
}

/// Which role of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleKind {
    /// The cluster (control plane) role.
    Cluster,
    /// The node role.
    Node,
}

impl RoleKind {
    /// `cluster` or `node`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cluster => "cluster",
            Self::Node => "node",
        }
    }
}

impl ClusterPlan {
    /// The plan's role of a kind (`[iam] cluster_role` or `node_role`).
    pub fn role(&self, kind: RoleKind) -> &RoleSpec {
        match kind {
            RoleKind::Cluster => &self.iam.cluster_role,
            RoleKind::Node => &self.iam.node_role,
        }
    }

    /// The name of the role of a kind eks6 creates for this plan ([`iam_name`]).
    pub fn role_name(&self, kind: RoleKind) -> String {
        iam_name(&self.name, &self.plan_id(), kind.as_str())
    }
}

/// The name of an IAM role or policy eks6 creates: `eks6-<first 40 characters of the
/// cluster name>-<8 hex digits of the plan id>-<what>`. IAM names are per account (64
/// characters for a role) while cluster names are per region (100 characters): the plan
/// id (region and full name) keeps two clusters' roles apart, where a name alone clashes
/// (terraform-aws-eks issue 2131, `EntityAlreadyExists` on a second cluster).
///
/// ```
/// use eks6::plan::{iam_name, plan_id};
/// let long = "c".repeat(100);
/// let name = iam_name(&long, &plan_id("us-west-2", &long), "cni-ipv6");
/// assert!(name.starts_with(&format!("eks6-{}-", "c".repeat(40))) && name.ends_with("-cni-ipv6"));
/// assert!(name.len() <= 64, "IAM's limit for a role name");
/// assert_ne!(name, iam_name(&long, &plan_id("us-east-1", &long), "cni-ipv6"));
/// ```
pub fn iam_name(cluster: &str, plan_id: &str, what: &str) -> String {
    let short: String = cluster.chars().take(40).collect();
    let hex = plan_id.trim_start_matches("eks6-");
    format!("eks6-{short}-{}-{what}", &hex[..8.min(hex.len())])
}

/// Who may administer the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessPlan {
    /// IAM role or user ARNs that get an access entry with `AmazonEKSClusterAdminPolicy`
    /// at cluster scope (the creator gets one from EKS itself).
    #[serde(default)]
    pub admins: Vec<String>,
}

fn default_ip_family() -> String {
    "ipv6".into()
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            endpoint_public_access: true,
            endpoint_private_access: true,
            ip_family: default_ip_family(),
            service_ipv4_cidr: None,
            vpc_cni_version: None,
            addons: AddonMode::default(),
            support: SupportType::default(),
        }
    }
}

/// Which subnets the nodes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeSubnets {
    /// The private subnets.
    Private,
    /// The public subnets.
    Public,
}

/// The managed nodegroup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodegroupPlan {
    /// Nodegroup name.
    pub name: String,
    /// Instance types (Nitro only; default `m5.large`).
    #[serde(default = "default_instance_types")]
    pub instance_types: Vec<String>,
    /// Desired node count (default 2).
    #[serde(default = "default_desired")]
    pub desired_size: u32,
    /// Minimum node count (default: the desired size).
    #[serde(default)]
    pub min_size: Option<u32>,
    /// Maximum node count (default: the desired size).
    #[serde(default)]
    pub max_size: Option<u32>,
    /// EC2 key pair for SSH; optional.
    #[serde(default)]
    pub ssh_key_pair: Option<String>,
    /// Node subnets (default private when private subnets exist, else public).
    #[serde(default)]
    pub subnets: Option<NodeSubnets>,
    /// AMI type (default chosen by EKS); Windows types are refused.
    #[serde(default)]
    pub ami_type: Option<String>,
}

fn default_instance_types() -> Vec<String> {
    vec!["m5.large".into()]
}
fn default_desired() -> u32 {
    2
}

impl NodegroupPlan {
    /// The subnets the nodes use under this plan's network.
    pub fn node_subnets(&self, vpc: &VpcPlan) -> NodeSubnets {
        self.subnets.unwrap_or(if vpc.private_subnets { NodeSubnets::Private } else { NodeSubnets::Public })
    }

    /// Minimum size, defaulting to the desired size.
    pub fn min(&self) -> u32 {
        self.min_size.unwrap_or(self.desired_size)
    }

    /// Maximum size, defaulting to the desired size.
    pub fn max(&self) -> u32 {
        self.max_size.unwrap_or(self.desired_size)
    }
}

/// The probe: a TCP port opened on the cluster security group and fetched over IPv6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbePlan {
    /// TCP port (default 80).
    #[serde(default = "default_port")]
    pub port: u32,
    /// Who may reach it (default `::/0`; a narrower IPv6 prefix is allowed).
    #[serde(default = "default_allow_from")]
    pub allow_from: String,
}

/// The Kubernetes version of a plan that names none: the one `k8s-openapi`'s feature in
/// the workspace (`v1_35`) and the test control plane (`k8s.io/kubernetes` v1.35.x in
/// `tests/controlplane/go.mod`) are of; a test checks that the three agree.
pub const KUBERNETES_VERSION: &str = "1.35";

fn default_kubernetes_version() -> String {
    KUBERNETES_VERSION.into()
}

/// The walkthrough's sample application: the EKS user guide's `sample-service.yml`
/// ("Deploy a sample application on Linux": a Deployment of nginx from Amazon ECR Public
/// and a ClusterIP Service on port 80), in the namespace of the AWS blog's IPv6
/// walkthrough ("Amazon EKS launches IPv6 support": `kubectl create namespace
/// aws-news-blog`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplePlan {
    /// The namespace (default `aws-news-blog`); `down` deletes it, so it must be the
    /// sample's own (not `default` or a `kube-` namespace).
    #[serde(default = "default_sample_namespace")]
    pub namespace: String,
    /// Replicas of the Deployment (default 3, as the guide's).
    #[serde(default = "default_sample_replicas")]
    pub replicas: u32,
    /// The container image (default the guide's `public.ecr.aws/nginx/nginx:1.23`).
    #[serde(default = "default_sample_image")]
    pub image: String,
}

/// The sample's Deployment and Service name (the guide's).
pub const SAMPLE_DEPLOYMENT: &str = "eks-sample-linux-deployment";
/// The sample's Service name (the guide's).
pub const SAMPLE_SERVICE: &str = "eks-sample-linux-service";
/// The sample pods' `app` label (the guide's).
pub const SAMPLE_APP_LABEL: &str = "eks-sample-linux-app";

fn default_sample_namespace() -> String {
    "aws-news-blog".into()
}
fn default_sample_replicas() -> u32 {
    3
}
fn default_sample_image() -> String {
    "public.ecr.aws/nginx/nginx:1.23".into()
}

impl Default for SamplePlan {
    fn default() -> Self {
        Self {
            namespace: default_sample_namespace(),
            replicas: default_sample_replicas(),
            image: default_sample_image(),
        }
    }
}

fn default_port() -> u32 {
    80
}
fn default_allow_from() -> String {
    "::/0".into()
}

impl Default for ProbePlan {
    fn default() -> Self {
        Self { port: default_port(), allow_from: default_allow_from() }
    }
}

/// Why a plan could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The file could not be read.
    #[error("cannot read plan {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not a valid plan (syntax, types, unknown or missing keys).
    #[error("{}plan {format} at line {line}, column {column}: {message}", origin.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Parse {
        /// The file, when loaded from one.
        origin: Option<PathBuf>,
        /// `TOML` or `JSON`.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// Address math failed (the VPC's blocks are full, or the plan does not fit).
    #[error(transparent)]
    Address(#[from] crate::net::NetError),
    /// The plan fails pre-flight checks with at least one error finding.
    #[error("plan {name:?} fails {} pre-flight check(s): {}", findings.iter().filter(|f| f.severity == Severity::Error).count(), summary(findings))]
    Invalid {
        /// The plan name.
        name: String,
        /// All findings, errors first.
        findings: Vec<Finding>,
    },
}

fn summary(findings: &[Finding]) -> String {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("[{}] {}: {}", f.rule, f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl PlanError {
    /// The stable kind.
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            Self::Io { .. } => ErrorKind::Io,
            Self::Parse { .. } => ErrorKind::InvalidPlan,
            Self::Address(e) => e.kind(),
            Self::Invalid { .. } => ErrorKind::PlanRejected,
        }
    }
}

impl crate::error::ErrorDetails for PlanError {
    fn kind(&self) -> crate::ErrorKind {
        PlanError::kind(self)
    }
    fn inner(&self) -> Option<&dyn crate::error::ErrorDetails> {
        match self {
            Self::Address(e) => Some(e),
            _ => None,
        }
    }
    fn findings(&self) -> Option<&[Finding]> {
        match self {
            Self::Invalid { findings, .. } => Some(findings),
            _ => None,
        }
    }
}

/// What `eks6 plan` reports, the same on every surface: the plan's identity, its address
/// plan (with its /64 indexes while the VPC's /56 is unknown) and its offline findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// The plan (cluster) name.
    pub plan: String,
    /// The plan id (`eks6:plan-id`).
    pub plan_id: String,
    /// The region.
    pub region: String,
    /// The Kubernetes version.
    pub kubernetes_version: String,
    /// The address plan, when the plan's network settings allow one.
    pub address_plan: Option<AddressPlan>,
    /// Every offline finding, errors first.
    pub findings: Vec<Finding>,
}

impl PlanReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

impl std::fmt::Display for PlanReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "plan {} ({}) in {}, Kubernetes {}",
            self.plan, self.plan_id, self.region, self.kubernetes_version
        )?;
        if let Some(a) = &self.address_plan {
            write!(f, "{a}")?;
        }
        if self.findings.is_empty() {
            writeln!(f, "no findings")?;
        }
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        Ok(())
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.len(), |i| before.len() - i - 1) + 1;
    (line, column)
}

impl ClusterPlan {
    /// Parses a plan from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, PlanError> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            PlanError::Parse { origin: None, format: "TOML", line, column, message: e.message().trim().to_string() }
        })
    }

    /// Parses a plan from JSON text.
    pub fn from_json(text: &str) -> Result<Self, PlanError> {
        serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            // serde_json appends " at line L column C"; keep only the reason.
            let message = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m).to_string();
            PlanError::Parse { origin: None, format: "JSON", line: e.line(), column: e.column(), message }
        })
    }

    /// Loads a plan file: JSON when the name ends in `.json`, TOML otherwise.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PlanError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io { path: path.into(), source })?;
        let parsed = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            Self::from_json(&text)
        } else {
            Self::from_toml(&text)
        };
        parsed.map_err(|e| match e {
            PlanError::Parse { format, line, column, message, .. } => {
                PlanError::Parse { origin: Some(path.into()), format, line, column, message }
            }
            other => other,
        })
    }

    /// The plan as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// The probe's TCP port, when the plan has a probe (and its port fits a port number).
    pub fn probe_port(&self) -> Option<u16> {
        self.probe.as_ref().and_then(|p| u16::try_from(p.port).ok())
    }

    /// The stable id that tags every resource of this plan (`eks6:plan-id`): derived from
    /// the region and the cluster name, so it can be found again from tags alone.
    pub fn plan_id(&self) -> String {
        plan_id(&self.region, &self.name)
    }

    /// All pre-flight findings, against today's date.
    pub fn validate(&self) -> Validation {
        self.validate_at(Date::today())
    }

    /// All pre-flight findings, against the given date (for version support).
    pub fn validate_at(&self, today: Date) -> Validation {
        rules::validate(self, today)
    }

    /// The offline report: identity, address plan and findings (against today's date).
    pub fn report(&self) -> PlanReport {
        self.report_at(Date::today())
    }

    /// [`report`](Self::report) against the given date.
    pub fn report_at(&self, today: Date) -> PlanReport {
        let zones: Vec<String> = match &self.vpc.availability_zones {
            AzSpec::Names(n) => n.clone(),
            AzSpec::Count(_) => Vec::new(),
        };
        PlanReport {
            schema_version: SCHEMA_VERSION,
            plan: self.name.clone(),
            plan_id: self.plan_id(),
            region: self.region.clone(),
            kubernetes_version: self.kubernetes_version.clone(),
            address_plan: self.address_plan(None, &zones, &[], &[]).ok(),
            findings: self.validate_at(today).findings,
        }
    }

    /// [`validate`](Self::validate), turned into an error when any finding is an error.
    pub fn check(&self) -> Result<Validation, PlanError> {
        let v = self.validate();
        if v.has_errors() {
            return Err(PlanError::Invalid { name: self.name.clone(), findings: v.findings });
        }
        Ok(v)
    }
}

/// The plan id of a cluster name in a region: `eks6-` and 16 hex digits of FNV-1a.
///
/// ```
/// assert_eq!(eks6::plan::plan_id("us-west-2", "AWSNewsBlog"), eks6::plan::plan_id("us-west-2", "AWSNewsBlog"));
/// assert_ne!(eks6::plan::plan_id("us-west-2", "a"), eks6::plan::plan_id("us-east-1", "a"));
/// ```
pub fn plan_id(region: &str, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in region.bytes().chain([b'/']).chain(name.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("eks6-{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
