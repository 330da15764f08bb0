//! Offline pre-flight rules: everything a plan field can get wrong, checked before any
//! AWS call. Each finding has a stable rule id, a severity, the field, a message and a fix.

use std::fmt;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::finding::{Finding, Rule, Severity, Stage, Validation};
use super::{AddonMode, AzSpec, ClusterPlan, NodeSubnets, RoleKind, SupportType};
use crate::error::Q;
use crate::net::parse_prefix;

/// A calendar date, for version support checks against an injected clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day, 1 to 31.
    pub day: u8,
}

impl Date {
    /// A date.
    pub const fn new(year: u16, month: u8, day: u8) -> Self {
        Self { year, month, day }
    }

    /// Today (UTC) from the system clock.
    pub fn today() -> Self {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Self::from_unix_days((secs / 86_400) as i64)
    }

    /// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    pub fn from_unix_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Self { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Support dates of one EKS Kubernetes version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionSupport {
    /// Minor version (1.minor).
    pub minor: u16,
    /// End of standard support.
    pub standard_end: Date,
    /// End of extended support (after which EKS upgrades or refuses the version).
    pub extended_end: Date,
}

/// The EKS Kubernetes version calendar, as of [`VERSION_TABLE_CHECKED`]: from the EKS
/// user guide, "Understand the Kubernetes version lifecycle on EKS" (release calendar)
/// for 1.21 to 1.34 (versions before 1.23 had no extended support, so both dates are the
/// same). 1.36 is not listed: no AWS source with its dates was at hand. A version past the
/// last row is reported as unknown, not refused. Check the published calendar when
/// adding a row, and move [`VERSION_TABLE_CHECKED`].
pub const VERSION_TABLE: &[VersionSupport] = &[
    vs(21, Date::new(2023, 2, 15), Date::new(2023, 2, 15)),
    vs(22, Date::new(2023, 6, 4), Date::new(2023, 6, 4)),
    vs(23, Date::new(2023, 10, 11), Date::new(2024, 10, 11)),
    vs(24, Date::new(2024, 1, 31), Date::new(2025, 1, 31)),
    vs(25, Date::new(2024, 5, 1), Date::new(2025, 5, 1)),
    vs(26, Date::new(2024, 6, 11), Date::new(2025, 6, 11)),
    vs(27, Date::new(2024, 7, 24), Date::new(2025, 7, 24)),
    vs(28, Date::new(2024, 11, 26), Date::new(2025, 11, 26)),
    vs(29, Date::new(2025, 3, 23), Date::new(2026, 3, 23)),
    vs(30, Date::new(2025, 7, 23), Date::new(2026, 7, 23)),
    vs(31, Date::new(2025, 11, 26), Date::new(2026, 11, 26)),
    vs(32, Date::new(2026, 3, 23), Date::new(2027, 3, 23)),
    vs(33, Date::new(2026, 7, 29), Date::new(2027, 7, 29)),
    vs(34, Date::new(2026, 12, 2), Date::new(2027, 12, 2)),
    // 1.35: from a published calendar (verified 2026-04) whose 1.32 to 1.34 dates match
    // the rows above; check against the EKS user guide when one is reachable.
    vs(35, Date::new(2027, 3, 27), Date::new(2028, 3, 27)),
];

/// The day [`VERSION_TABLE`] was last checked against AWS's calendar.
pub const VERSION_TABLE_CHECKED: Date = Date::new(2026, 11, 29);

/// The newest version in standard support on `today` (`"1.35"`), from [`VERSION_TABLE`].
///
/// ```
/// use eks6::plan::{Date, newest_standard_version};
/// assert_eq!(newest_standard_version(Date::new(2026, 11, 29)).as_deref(), Some("1.35"));
/// ```
pub fn newest_standard_version(today: Date) -> Option<String> {
    VERSION_TABLE.iter().rev().find(|v| v.standard_end > today).map(|v| format!("1.{}", v.minor))
}

/// Zone ids EKS does not place control-plane network interfaces in (EKS user guide,
/// "View Amazon EKS networking requirements for VPC and subnets": a cluster's subnets
/// cannot be in `use1-az3` (us-east-1), `usw1-az2` (us-west-1) or `cac1-az3`
/// (ca-central-1); `CreateCluster` answers `UnsupportedAvailabilityZoneException`).
pub const EXCLUDED_ZONE_IDS: &[&str] = &["use1-az3", "usw1-az2", "cac1-az3"];

/// The first Kubernetes minor version without Amazon Linux 2 AMIs: EKS publishes AL2
/// AMIs up to 1.32 (EKS user guide, "Amazon Linux 2 end of support"; the API answers
/// "AMI Type AL2_x86_64 is only supported for kubernetes versions 1.32 or earlier").
pub const NO_AL2_FROM_MINOR: u16 = 33;

fn newest_fix(today: Date) -> String {
    newest_standard_version(today).map_or_else(
        || "use a version EKS supports today".to_string(),
        |v| format!("use a version in standard support, such as {v}"),
    )
}

const fn vs(minor: u16, standard_end: Date, extended_end: Date) -> VersionSupport {
    VersionSupport { minor, standard_end, extended_end }
}

/// Every offline rule: what `eks6 plan` can find without an AWS call.
pub fn offline_rules() -> impl Iterator<Item = Rule> {
    Rule::all().iter().copied().filter(|r| r.stage() == Stage::Offline)
}

/// The most nodes a Kubernetes cluster is built for (Kubernetes docs, "Considerations for
/// large clusters": no more than 5,000 nodes); no EKS quota goes past it.
pub const MAX_NODES: u32 = 5_000;

/// EKS's default quota of nodes per managed nodegroup (Amazon EKS service quotas, "Nodes
/// per managed node group": 450, adjustable).
pub const NODES_PER_NODEGROUP_QUOTA: u32 = 450;

/// Tags EC2 and EKS allow a resource (tag restrictions in the EC2 user guide and the EKS
/// API reference: 50 a resource, keys up to 127 characters in the EC2 API model, values up
/// to 256, the `aws:` prefix reserved).
const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 127;
const MAX_TAG_VALUE: usize = 256;
/// The tags eks6 adds to every resource it creates, at most: `eks6:cluster`,
/// `eks6:plan-id`, `eks6:role`, `Name` and a subnet's load balancer role.
const OWN_TAGS: usize = 5;

/// The plan's own tags: what EC2 and EKS refuse, and the `eks6:` keys eks6 keeps for
/// itself (`down` decides by them what is the plan's).
fn tag_rules(plan: &ClusterPlan, o: &mut Out) {
    let extra = plan.tags.keys().filter(|k| *k != "Name").count();
    if extra + OWN_TAGS > MAX_TAGS {
        o.error(
            Rule::Tags,
            "tags",
            format!(
                "{} tags, and eks6 adds up to {OWN_TAGS} of its own: a resource takes at most {MAX_TAGS}",
                plan.tags.len()
            ),
            "keep to 45 tags",
        );
    }
    for (k, v) in &plan.tags {
        let field = format!("tags.{}", crate::error::quote_limited(k, 60));
        if k.starts_with("eks6:") {
            o.error(
                Rule::Tags,
                &field,
                format!("tag key {:?} is eks6's own: eks6:cluster, eks6:plan-id and eks6:role say which plan owns a resource, and `down` deletes by them", Q(k)),
                "pick another key",
            );
        } else if k.to_ascii_lowercase().starts_with("aws:") {
            o.error(
                Rule::Tags,
                &field,
                format!("tag key {:?}: the aws: prefix is reserved for AWS", Q(k)),
                "pick another key",
            );
        } else if k.is_empty() || k.chars().count() > MAX_TAG_KEY {
            o.error(
                Rule::Tags,
                &field,
                format!("tag key of {} characters: keys have 1 to {MAX_TAG_KEY}", k.chars().count()),
                "shorten the key",
            );
        }
        if v.chars().count() > MAX_TAG_VALUE {
            o.error(
                Rule::Tags,
                &field,
                format!("tag value of {} characters: values have at most {MAX_TAG_VALUE}", v.chars().count()),
                "shorten the value",
            );
        }
    }
}

/// Instance families none of whose sizes runs on the Nitro system (the VPC CNI's IPv6
/// mode needs Nitro), after the CNI's own table (`pkg/vpc/vpc_ip_resource_limit.go`,
/// hypervisor `xen`). Only families certain at every size: `a1` is Nitro and `i3.metal`
/// is bare metal (the `i3` family is mixed), so they are left to the live check, which
/// asks `DescribeInstanceTypes` (hypervisor `nitro`, or bare metal); `p3dn` is a family
/// of its own.
pub const NON_NITRO_FAMILIES: &[&str] = &[
    "c1", "c3", "c4", "cc2", "cr1", "d2", "f1", "g2", "g3", "g3s", "h1", "hs1", "i2", "m1", "m2", "m3", "m4", "p2",
    "p3", "r3", "r4", "t1", "t2", "x1", "x1e",
];

/// The EKS access policy eks6 gives `[access] admins` (EKS user guide, "Review access
/// policy permissions": `arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`).
pub const CLUSTER_ADMIN_POLICY: &str = "AmazonEKSClusterAdminPolicy";

struct Out(Vec<Finding>);

impl Out {
    fn push(&mut self, rule: Rule, severity: Severity, field: impl Into<String>, message: String, fix: &str) {
        self.0.push(Finding::new(rule, severity, field, message, fix));
    }
    fn error(&mut self, rule: Rule, field: impl Into<String>, message: String, fix: &str) {
        self.push(rule, Severity::Error, field, message, fix);
    }
    fn warn(&mut self, rule: Rule, field: impl Into<String>, message: String, fix: &str) {
        self.push(rule, Severity::Warning, field, message, fix);
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path/name>`: the reason it is not, if any.
pub(crate) fn role_arn_problem(arn: &str) -> Option<String> {
    principal_arn_problem(arn, &["role"])
}

/// An IAM principal ARN of one of `kinds` (`role`, `user`): the reason it is not, if any.
pub(crate) fn principal_arn_problem(arn: &str, kinds: &[&str]) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Some(format!("{:?} is not an ARN (arn:<partition>:iam::<account>:role/<name>)", Q(arn)));
    }
    if !matches!(parts[1], "aws" | "aws-cn" | "aws-us-gov") {
        return Some(format!("partition {:?} is not aws, aws-cn or aws-us-gov", Q(parts[1])));
    }
    if parts[2] != "iam" || !parts[3].is_empty() {
        return Some(format!("{:?} is not an IAM ARN (arn:{}:iam::<account>:role/<name>)", Q(arn), parts[1]));
    }
    let account = parts[4];
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "account {:?} has {} characters; an AWS account id is 12 digits",
            Q(account),
            account.len()
        ));
    }
    let Some(name) = kinds.iter().find_map(|k| parts[5].strip_prefix(k).and_then(|r| r.strip_prefix('/'))) else {
        return Some(format!(
            "resource {:?} is not {} (<kind>/<path/name>)",
            Q(parts[5]),
            kinds.iter().map(|k| format!("a {k}")).collect::<Vec<_>>().join(" or ")
        ));
    };
    let last = name.rsplit('/').next().unwrap_or("");
    if last.is_empty()
        || last.len() > 64
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
    {
        return Some(format!("name {:?} is empty, too long or has characters IAM does not allow", Q(name)));
    }
    None
}

/// `<prefix>-` and 8 or 17 lowercase hex digits: the reason it is not, if any.
pub(crate) fn resource_id_problem(id: &str, prefix: &str) -> Option<String> {
    let Some(hex) = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
        return Some(format!("{:?} does not start with \"{prefix}-\"", Q(id)));
    };
    if !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Some(format!("{:?} has characters other than lowercase hex digits after \"{prefix}-\"", Q(id)));
    }
    if hex.len() != 8 && hex.len() != 17 {
        return Some(format!("{:?} has {} hex digits after \"{prefix}-\" (8 or 17 expected)", Q(id), hex.len()));
    }
    None
}

/// `major.minor` of a version text.
fn parse_version(v: &str) -> Option<(u16, u16)> {
    let (major, minor) = v.split_once('.')?;
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

pub(crate) fn region_ok(r: &str) -> bool {
    // e.g. us-west-2, eu-central-1, ap-southeast-4, us-gov-west-1, cn-north-1.
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn name_ok(n: &str, max: usize) -> bool {
    !n.is_empty()
        && n.len() <= max
        && n.as_bytes()[0].is_ascii_alphanumeric()
        && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(super) fn validate(plan: &ClusterPlan, today: Date) -> Validation {
    let mut out = Out(Vec::new());
    let o = &mut out;

    if !name_ok(&plan.name, 100) {
        o.error(
            Rule::ClusterName,
            "name",
            format!(
                "cluster name {:?} must be 1 to 100 letters, digits, '-' or '_', starting with a letter or digit",
                Q(&plan.name)
            ),
            "pick a name such as \"AWSNewsBlog\"",
        );
    }
    if !region_ok(&plan.region) {
        o.error(
            Rule::Region,
            "region",
            format!("{:?} is not an AWS region name", Q(&plan.region)),
            "use a region such as \"us-west-2\"",
        );
    }

    // Rule 2: version 1.21 or later, and in support.
    match parse_version(&plan.kubernetes_version) {
        None => o.error(
            Rule::VersionFormat,
            "kubernetes_version",
            format!("{:?} is not a Kubernetes version (major.minor)", Q(&plan.kubernetes_version)),
            "write the version as \"1.30\"",
        ),
        Some((1, minor)) if minor < 21 => o.error(
            Rule::VersionMinimum,
            "kubernetes_version",
            format!("IPv6 clusters need Kubernetes 1.21 or later, not {}", plan.kubernetes_version),
            "use a version EKS supports today",
        ),
        Some((1, minor)) => match VERSION_TABLE.iter().find(|v| v.minor == minor) {
            Some(v) if today > v.extended_end => o.error(
                Rule::VersionSupport,
                "kubernetes_version",
                format!(
                    "Kubernetes 1.{minor} left EKS extended support on {} (today is {today}): EKS refuses to create it",
                    v.extended_end
                ),
                &newest_fix(today),
            ),
            Some(v) if today > v.standard_end && plan.cluster.support == SupportType::Standard => o.warn(
                Rule::VersionSupport,
                "kubernetes_version",
                format!(
                    "Kubernetes 1.{minor} left standard support on {}; with support = \"standard\" EKS upgrades such a cluster to the next version automatically",
                    v.standard_end
                ),
                &newest_fix(today),
            ),
            Some(v) if today > v.standard_end => o.warn(
                Rule::VersionSupport,
                "kubernetes_version",
                format!(
                    "Kubernetes 1.{minor} is in extended support since {}, until {}: the cluster is billed at the extended-support rate",
                    v.standard_end, v.extended_end
                ),
                &newest_fix(today),
            ),
            Some(_) => {}
            None if minor > VERSION_TABLE.last().map_or(0, |v| v.minor) => o.push(
                Rule::VersionSupport,
                Severity::Info,
                "kubernetes_version",
                format!("Kubernetes 1.{minor} is newer than eks6's support table"),
                "check that EKS offers it in this region",
            ),
            None => {}
        },
        Some(_) => o.error(
            Rule::VersionFormat,
            "kubernetes_version",
            format!("{:?} is not a Kubernetes 1.x version", Q(&plan.kubernetes_version)),
            "write the version as \"1.30\"",
        ),
    }

    if plan.cluster.support == SupportType::Extended {
        o.push(
            Rule::SupportType,
            Severity::Info,
            "cluster.support",
            "support = \"extended\": when the version leaves standard support the cluster stays on it for up to 12 more months, billed at the higher extended-support rate; with \"standard\" EKS upgrades it instead".into(),
            "nothing to do if the extra cost is intended",
        );
    }

    // Rule 10: identifiers.
    for (old, new, value) in [
        ("cluster_role_arn", "cluster_role", &plan.cluster_role_arn),
        ("node_role_arn", "node_role", &plan.node_role_arn),
    ] {
        if let Some(v) = value {
            o.error(
                Rule::RoleArn,
                old,
                format!(
                    "{old} moved to [iam] {new} (which also takes \"create\", its default, to let eks6 make the role)"
                ),
                &format!("write [iam] {new} = {:?} instead", Q(v)),
            );
        }
    }
    for kind in [RoleKind::Cluster, RoleKind::Node] {
        let field = format!("iam.{}_role", kind.as_str());
        if let Some(arn) = plan.role(kind).arn()
            && let Some(why) = role_arn_problem(arn)
        {
            o.error(
                Rule::RoleArn,
                field,
                why,
                "write \"create\" to let eks6 make the role, or copy its ARN from IAM: arn:aws:iam::<12-digit account>:role/<name>",
            );
        }
    }
    if let (Some(c), Some(n)) = (plan.iam.cluster_role.arn(), plan.iam.node_role.arn())
        && c == n
    {
        o.error(
            Rule::RoleArn,
            "iam.node_role",
            format!("the node role is the cluster role ({:?}); EKS needs two roles, trusted by different services (eks.amazonaws.com and ec2.amazonaws.com)", Q(n)),
            "give the nodes their own role, or write \"create\"",
        );
    }
    for (i, a) in plan.access.admins.iter().enumerate() {
        let field = format!("access.admins[{i}]");
        if let Some(why) = principal_arn_problem(a, &["role", "user"]) {
            o.error(Rule::AccessAdmin, field, why, "give IAM role or user ARNs: arn:aws:iam::<account>:role/<name>");
        } else if let Some(first) = plan.access.admins[..i].iter().position(|b| b == a) {
            o.error(
                Rule::AccessAdmin,
                field,
                format!("{:?} is listed twice (also access.admins[{first}])", Q(a)),
                "list each admin once",
            );
        } else if a.contains(":assumed-role/") {
            o.error(Rule::AccessAdmin, field, "an STS session is not an IAM principal".into(), "give the role's ARN");
        }
    }
    let byo = plan.vpc.id.is_some();
    if let Some(id) = &plan.vpc.id
        && let Some(why) = resource_id_problem(id, "vpc")
    {
        o.error(Rule::VpcId, "vpc.id", why, "copy the VPC id from the console or `aws ec2 describe-vpcs`");
    }
    for (i, s) in plan.vpc.subnet_ids.iter().enumerate() {
        if let Some(why) = resource_id_problem(s, "subnet") {
            o.error(
                Rule::SubnetId,
                format!("vpc.subnet_ids[{i}]"),
                why,
                "copy the subnet id from `aws ec2 describe-subnets`",
            );
        } else if let Some(first) = plan.vpc.subnet_ids[..i].iter().position(|t| t == s) {
            o.error(
                Rule::SubnetId,
                format!("vpc.subnet_ids[{i}]"),
                format!("subnet {s} is listed twice (also vpc.subnet_ids[{first}]); EKS refuses a subnet given twice"),
                "list each subnet once",
            );
        }
    }
    if !plan.vpc.subnet_ids.is_empty() && !byo {
        o.error(
            Rule::ByoSubnets,
            "vpc.subnet_ids",
            "subnet ids are given without the VPC they belong to".into(),
            "set vpc.id too",
        );
    }

    // Rule 1 and 7: the IPv6 family, no IPv4 service range.
    if !plan.cluster.ip_family.eq_ignore_ascii_case("ipv6") {
        o.error(
            Rule::IpFamily,
            "cluster.ip_family",
            format!(
                "ip_family is {:?}; eks6 builds IPv6 clusters, and the family can never change after creation",
                Q(&plan.cluster.ip_family)
            ),
            "set ip_family = \"ipv6\" or leave it out",
        );
    }
    if let Some(c) = &plan.cluster.service_ipv4_cidr {
        o.error(
            Rule::ServiceIpv4Cidr,
            "cluster.service_ipv4_cidr",
            format!("serviceIpv4Cidr {:?} cannot be set on an IPv6 cluster; EKS picks the service range from fc00::/7 itself", Q(c)),
            "remove service_ipv4_cidr",
        );
    }
    // Rule 9: VPC CNI version.
    if let Some(v) = &plan.cluster.vpc_cni_version {
        let parsed: Option<Vec<u32>> =
            v.trim_start_matches('v').split('.').map(|p| p.split('-').next().unwrap_or("").parse().ok()).collect();
        match parsed {
            Some(p) if p.len() == 3 && (p[0], p[1], p[2]) < (1, 10, 1) => o.error(
                Rule::VpcCniVersion,
                "cluster.vpc_cni_version",
                format!("VPC CNI {v} is older than 1.10.1, the first with IPv6 support"),
                "use VPC CNI 1.10.1 or later (ENABLE_IPv6=true, ENABLE_PREFIX_DELEGATION=true)",
            ),
            Some(p) if p.len() == 3 => {}
            _ => o.error(
                Rule::VpcCniVersion,
                "cluster.vpc_cni_version",
                format!("{:?} is not a version (major.minor.patch)", Q(v)),
                "write it as \"1.18.0\"",
            ),
        }
    }
    if !plan.cluster.endpoint_public_access && !plan.cluster.endpoint_private_access {
        o.error(
            Rule::EndpointAccess,
            "cluster.endpoint_public_access",
            "both the public and the private API endpoint are off".into(),
            "turn on at least one endpoint",
        );
    }

    // Rule 3: the IPv4 side of the dual stack.
    let vpc4: Option<Ipv4Net> = match plan.vpc.ipv4_cidr.parse::<Ipv4Net>() {
        Ok(n) if n != n.trunc() => {
            o.error(
                Rule::VpcIpv4Cidr,
                "vpc.ipv4_cidr",
                format!("{:?} has host bits set; did you mean {}?", Q(&plan.vpc.ipv4_cidr), n.trunc()),
                "write the network address",
            );
            None
        }
        Ok(n) if !(16..=28).contains(&n.prefix_len()) => {
            o.error(
                Rule::VpcIpv4Cidr,
                "vpc.ipv4_cidr",
                format!("a VPC's IPv4 block must be /16 to /28, not /{}", n.prefix_len()),
                "use a block such as 10.0.0.0/16",
            );
            None
        }
        Ok(n) => Some(n),
        Err(_) => {
            o.error(
                Rule::VpcIpv4Cidr,
                "vpc.ipv4_cidr",
                format!("{:?} is not an IPv4 CIDR block (a.b.c.d/len)", Q(&plan.vpc.ipv4_cidr)),
                "use a block such as 10.0.0.0/16",
            );
            None
        }
    };

    // Rule 4: two AZs; subnets must fit.
    let az_count = if byo && !plan.vpc.subnet_ids.is_empty() { None } else { Some(plan.vpc.availability_zones.len()) };
    if let Some(n) = az_count
        && n < 2
    {
        o.error(
            Rule::TwoAzs,
            "vpc.availability_zones",
            format!("{n} availability zone(s); EKS needs subnets in at least two"),
            "set availability_zones = 2 or more",
        );
    }
    if byo && !plan.vpc.subnet_ids.is_empty() && plan.vpc.subnet_ids.len() < 2 {
        o.error(
            Rule::TwoAzs,
            "vpc.subnet_ids",
            "one subnet given; EKS needs subnets in at least two availability zones".into(),
            "list subnets from two or more zones",
        );
    }
    if let AzSpec::Names(names) = &plan.vpc.availability_zones {
        for (i, n) in names.iter().enumerate() {
            let is_id = n.contains("-az");
            if EXCLUDED_ZONE_IDS.contains(&n.as_str()) {
                o.error(
                    Rule::ZoneId,
                    format!("vpc.availability_zones[{i}]"),
                    format!("zone id {n}: EKS places no control plane in it (CreateCluster answers UnsupportedAvailabilityZoneException)"),
                    "pick another zone, or give a count and let eks6 choose",
                );
            }
            if !is_id && !n.starts_with(&plan.region) {
                o.error(
                    Rule::AzRegion,
                    format!("vpc.availability_zones[{i}]"),
                    format!("zone {:?} is not in region {}", Q(n), plan.region),
                    "use zones of the plan's region, or zone ids such as usw2-az1",
                );
            }
        }
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != names.len() {
            o.error(Rule::TwoAzs, "vpc.availability_zones", "a zone is listed twice".into(), "list each zone once");
        }
    }
    if !plan.vpc.public_subnets && !plan.vpc.private_subnets && !byo {
        o.error(
            Rule::NoSubnets,
            "vpc.public_subnets",
            "both public_subnets and private_subnets are false: there is nowhere to put nodes".into(),
            "turn on public or private subnets",
        );
    }
    if let Some(v4) = vpc4 {
        let len = plan.vpc.ipv4_subnet_len;
        let kinds = usize::from(plan.vpc.public_subnets) + usize::from(plan.vpc.private_subnets);
        let needed = (kinds * plan.vpc.availability_zones.len()) as u64;
        if len < v4.prefix_len() || len > 28 {
            o.error(
                Rule::SubnetIpv4Fit,
                "vpc.ipv4_subnet_len",
                format!("subnet IPv4 length /{len} must be between the VPC's /{} and /28", v4.prefix_len()),
                "use a length such as 20",
            );
        } else if !byo && needed > 1u64 << (len - v4.prefix_len()) {
            o.error(
                Rule::SubnetIpv4Fit,
                "vpc.ipv4_subnet_len",
                format!("{needed} subnets of /{len} do not fit in {v4}"),
                "use a longer ipv4_subnet_len or a larger ipv4_cidr",
            );
        }
    }
    if let Some(v) = plan.vpc.dns64 {
        o.error(
            Rule::Dns64,
            "vpc.dns64",
            format!("dns64 = {v}: eks6 keeps DNS64 off on EKS subnets. Pods get IPv4 egress through the VPC CNI's host-local IPv4 (SNAT on the node), and DNS64 would answer IPv4-only names with 64:ff9b::/96 addresses that need a NAT64 path; the EKS IPv6 guide and the walkthrough leave it off"),
            "remove dns64 from the plan (turn DNS64 on by hand on a subnet only for IPv6-only workloads behind a NAT gateway)",
        );
    }
    if byo && !plan.vpc.enable_auto_assign_ipv6 {
        o.push(
            Rule::AutoAssignIpv6,
            Severity::Info,
            "vpc.enable_auto_assign_ipv6",
            "eks6 checks that the existing node subnets auto-assign IPv6 addresses and stops if one does not; it will not change them"
                .into(),
            "set enable_auto_assign_ipv6 = true to let eks6 turn it on",
        );
    }

    // Rule 5/8 and the nodegroup.
    let ng = &plan.nodegroup;
    if !name_ok(&ng.name, 63) {
        o.error(
            Rule::NodegroupName,
            "nodegroup.name",
            format!(
                "nodegroup name {:?} must be 1 to 63 letters, digits, '-' or '_', starting with a letter or digit",
                Q(&ng.name)
            ),
            "pick a name such as \"AWSNewsBlog-nodegroup\"",
        );
    }
    if ng.instance_types.is_empty() {
        o.error(
            Rule::NitroOnly,
            "nodegroup.instance_types",
            "no instance type given".into(),
            "list a Nitro type such as m5.large",
        );
    }
    for (i, t) in ng.instance_types.iter().enumerate() {
        let family = t.split('.').next().unwrap_or("");
        if !t.contains('.') {
            o.error(
                Rule::InstanceType,
                format!("nodegroup.instance_types[{i}]"),
                format!("{:?} is not an instance type (family.size)", Q(t)),
                "use a type such as m5.large",
            );
        } else if NON_NITRO_FAMILIES.contains(&family) {
            o.error(
                Rule::NitroOnly,
                format!("nodegroup.instance_types[{i}]"),
                format!("{t} is not a Nitro instance type; the VPC CNI's IPv6 mode (prefix delegation) needs Nitro"),
                "use a Nitro type such as m5.large, m6i.large or t3.medium",
            );
        }
    }
    if let Some(ami) = &ng.ami_type
        && ami.to_ascii_uppercase().starts_with("AL2_")
        && let Some((1, minor)) = parse_version(&plan.kubernetes_version)
        && minor >= NO_AL2_FROM_MINOR
    {
        o.error(
            Rule::AmiType,
            "nodegroup.ami_type",
            format!(
                "{ami} is Amazon Linux 2, and EKS publishes no AL2 AMIs for Kubernetes 1.{NO_AL2_FROM_MINOR} or later"
            ),
            "use AL2023_x86_64_STANDARD (or AL2023_ARM_64_STANDARD), or leave ami_type out",
        );
    }
    if let Some(ami) = &ng.ami_type
        && ami.to_ascii_uppercase().contains("WINDOWS")
    {
        o.error(
            Rule::WindowsNodes,
            "nodegroup.ami_type",
            format!("{ami} is a Windows AMI type; Windows nodes are not supported on IPv6 clusters"),
            "use a Linux AMI type such as AL2023_x86_64_STANDARD",
        );
    }
    // Kubernetes is built for at most 5,000 nodes a cluster (Kubernetes docs, "Considerations
    // for large clusters"), which no EKS quota raises; EKS's quota of nodes per managed
    // nodegroup (450 by default) can be raised, so above it is a warning.
    let largest = ng.desired_size.max(ng.max());
    if largest > MAX_NODES {
        o.error(
            Rule::NodegroupSize,
            "nodegroup.max_size",
            format!(
                "{largest} nodes: Kubernetes supports at most {MAX_NODES} nodes in a cluster, and no quota changes that"
            ),
            "split the workload over several clusters",
        );
    } else if largest > NODES_PER_NODEGROUP_QUOTA {
        o.warn(
            Rule::NodegroupQuota,
            "nodegroup.max_size",
            format!("{largest} nodes: above EKS's default quota \"Nodes per managed node group\" ({NODES_PER_NODEGROUP_QUOTA}), which an account can raise; the nodegroup stops growing at the quota until then"),
            "ask for a higher quota in Service Quotas (Amazon EKS, \"Nodes per managed node group\") before up",
        );
    }
    if ng.desired_size == 0 {
        o.warn(
            Rule::NodegroupSize,
            "nodegroup.desired_size",
            "desired_size is 0: the nodegroup has no nodes to verify".into(),
            "set desired_size to 1 or more",
        );
    }
    if ng.min() > ng.desired_size || ng.desired_size > ng.max() {
        o.error(
            Rule::NodegroupSize,
            "nodegroup.desired_size",
            format!(
                "sizes must satisfy min <= desired <= max; got min {}, desired {}, max {}",
                ng.min(),
                ng.desired_size,
                ng.max()
            ),
            "adjust min_size, desired_size and max_size",
        );
    }
    if let Some(k) = &ng.ssh_key_pair {
        o.warn(
            Rule::SshOpen,
            "nodegroup.ssh_key_pair",
            format!("with key pair {:?} and no source security groups, EKS opens SSH (port 22) on the nodes to the whole internet", Q(k)),
            "leave ssh_key_pair out and use SSM Session Manager, or restrict port 22 afterwards",
        );
    }
    if ng.node_subnets(&plan.vpc) == super::NodeSubnets::Private && !plan.vpc.private_subnets && !byo {
        o.error(
            Rule::NodeSubnets,
            "nodegroup.subnets",
            "nodes are to go in private subnets, but private_subnets is false".into(),
            "set nodegroup.subnets = \"public\" or private_subnets = true",
        );
    }
    if ng.node_subnets(&plan.vpc) == super::NodeSubnets::Public && !plan.vpc.public_subnets && !byo {
        o.error(
            Rule::NodeSubnets,
            "nodegroup.subnets",
            "nodes are to go in public subnets, but public_subnets is false".into(),
            "set nodegroup.subnets = \"private\" or public_subnets = true",
        );
    }
    if plan.vpc.private_subnets && plan.vpc.nat_gateways == super::NatGateways::None && !byo {
        o.push(
            Rule::NatNone,
            Severity::Info,
            "vpc.nat_gateways",
            "private subnets without NAT reach IPv4-only endpoints (some AWS APIs, registries) only through DNS64/NAT64 or VPC endpoints".into(),
            "use nat_gateways = \"single\" unless the workloads are IPv6-only",
        );
    }

    tag_rules(plan, o);

    if plan.cluster.addons == AddonMode::SelfManaged
        && let Some(v) = &plan.cluster.vpc_cni_version
    {
        o.warn(
            Rule::VpcCniVersion,
            "cluster.vpc_cni_version",
            format!("vpc_cni_version {v} pins the managed vpc-cni add-on, but addons = \"self-managed\": EKS installs its own VPC CNI and eks6 makes no add-on call"),
            "use addons = \"managed\", or remove vpc_cni_version",
        );
    }

    // The probe.
    if let Some(p) = &plan.probe
        && ng.node_subnets(&plan.vpc) == NodeSubnets::Private
        && !byo
    {
        o.warn(
            Rule::ProbeReachability,
            "nodegroup.subnets",
            format!("the nodes sit in private subnets, whose IPv6 egress is an egress-only gateway: it drops connections from outside the VPC, so a probe of port {} from outside times out", p.port),
            "probe from inside the VPC (from a pod or an instance there), or put the nodes in public subnets (nodegroup.subnets = \"public\")",
        );
    }
    if let Some(p) = &plan.probe {
        if p.port == 0 || p.port > 65535 {
            o.error(
                Rule::ProbePort,
                "probe.port",
                format!("port {} is not in 1..=65535", p.port),
                "use a port such as 80",
            );
        }
        if let Err(e) = parse_prefix(&p.allow_from) {
            o.error(
                Rule::ProbeAllowFrom,
                "probe.allow_from",
                e.to_string(),
                "use an IPv6 prefix such as ::/0 or 2600:1f13::/32",
            );
        }
    }

    if let Some(sample) = &plan.sample {
        sample_rules(sample, o);
        if !plan.cluster.endpoint_public_access {
            o.warn(
                Rule::SampleEndpoint,
                "cluster.endpoint_public_access",
                "the cluster's API endpoint is private only: up applies [sample] and verify checks the Kubernetes side through that API, which answers only inside the VPC (or over a VPN or Direct Connect into it)".into(),
                "run eks6 from inside the VPC, or turn endpoint_public_access on",
            );
        }
    }

    Validation::new(&plan.name, out.0)
}

/// Largest sample replica count: the sample is a probe of the network, not a load test.
pub const MAX_SAMPLE_REPLICAS: u32 = 100;

/// A Kubernetes namespace name: an RFC 1123 label (lower-case alphanumerics and `-`,
/// starting and ending alphanumeric, at most 63 characters).
pub(crate) fn dns_label_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.len() > 63 {
        return Some(format!("has {} characters; a Kubernetes name has at most 63", name.len()));
    }
    if let Some((i, c)) =
        name.char_indices().find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("has {c:?} at offset {i}; only a-z, 0-9 and '-' are allowed"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("starts or ends with '-'".into());
    }
    None
}

fn sample_rules(sample: &crate::plan::SamplePlan, o: &mut Out) {
    let ns = &sample.namespace;
    if let Some(problem) = dns_label_problem(ns) {
        o.error(
            Rule::SampleNamespace,
            "sample.namespace",
            format!("namespace {:?} {problem}", Q(ns)),
            "use a name such as aws-news-blog",
        );
    } else if ns == "default" || ns.starts_with("kube-") {
        o.error(
            Rule::SampleNamespace,
            "sample.namespace",
            format!("namespace {ns:?} is not the sample's own: down deletes the sample's namespace, and this one holds the cluster's own objects"),
            "use a namespace of its own, such as aws-news-blog",
        );
    }
    if sample.replicas == 0 || sample.replicas > MAX_SAMPLE_REPLICAS {
        o.error(
            Rule::SampleReplicas,
            "sample.replicas",
            format!("{} replicas is not in 1..={MAX_SAMPLE_REPLICAS}", sample.replicas),
            "use 3, as the EKS user guide's sample",
        );
    }
    let img = &sample.image;
    if img.is_empty() || img.chars().any(|c| c.is_whitespace() || c.is_control()) || img.starts_with(['/', ':', '@']) {
        o.error(
            Rule::SampleImage,
            "sample.image",
            format!("{:?} is not a container image reference", Q(img)),
            "use an image such as public.ecr.aws/nginx/nginx:1.23",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(Date::from_unix_days(0), Date::new(1970, 1, 1));
        assert_eq!(Date::from_unix_days(20_419), Date::new(2025, 11, 27));
        assert_eq!(Date::from_unix_days(11_016), Date::new(2000, 2, 29));
    }

    #[test]
    fn identifiers() {
        assert!(role_arn_problem("arn:aws:iam::123456789012:role/EKSClusterRole").is_none());
        assert!(role_arn_problem("arn:aws-cn:iam::123456789012:role/path/to/R").is_none());
        assert!(role_arn_problem("arn:aws-us-gov:iam::123456789012:role/R").is_none());
        let why = role_arn_problem("arn:aws:iam::0123456789:role/EKSClusterRole").unwrap();
        assert!(why.contains("10 characters") && why.contains("12 digits"), "{why}");
        assert!(role_arn_problem("arn:aws:iam::123456789012:user/x").is_some());
        assert!(role_arn_problem("arn:azure:iam::123456789012:role/x").is_some());
        assert!(resource_id_problem("subnet-06000a8", "subnet").unwrap().contains("7 hex digits"));
        assert!(resource_id_problem("subnet-0123456789abcdef0", "subnet").is_none());
        assert!(resource_id_problem("vpc-0123abcd", "vpc").is_none());
        assert!(resource_id_problem("vpc-0123ABCD", "vpc").is_some());
    }
}
