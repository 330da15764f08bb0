//! IAM: the two roles and the VPC CNI's IPv6 policy eks6 creates, a given role read
//! (never changed), and IAM's own answer to "may this role do that"
//! (`SimulatePrincipalPolicy`).
//!
//! Sources: the EKS user guide ("Amazon EKS cluster IAM role", "Amazon EKS node IAM
//! role") for the trust policies and managed policies; amazon-vpc-cni-k8s
//! `docs/iam-policy.md` ("IPv6 mode") for the CNI's IPv6 actions, for which AWS publishes
//! no managed policy (`AmazonEKS_CNI_Policy` lacks `ec2:AssignIpv6Addresses`:
//! containers-roadmap issue 1843; nodes stay NotReady without it, eksctl issues 8768
//! and 8835).

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;

use super::ec2::Owner;
use super::{Aws, AwsError, absent};

/// The actions the VPC CNI needs on `*` in IPv6 mode (amazon-vpc-cni-k8s
/// `docs/iam-policy.md`, "IPv6 mode", master of 2026-08), which eks6's own policy grants:
/// [`CNI_IPV6_REQUIRED`] and [`CNI_IPV6_LATER`].
pub const CNI_IPV6_ACTIONS: &[&str] = &[
    "ec2:AssignIpv6Addresses",
    "ec2:DescribeInstances",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstanceTypes",
];

/// The IPv6 actions every published form of the policy holds (the EKS user guide's
/// `AmazonEKS_CNI_IPv6_Policy`, terraform-aws-eks's): without them `aws-node` cannot
/// hand out addresses. A node role that may not do one of them is refused.
pub const CNI_IPV6_REQUIRED: &[&str] = &[
    "ec2:AssignIpv6Addresses",
    "ec2:DescribeInstances",
    "ec2:DescribeTags",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstanceTypes",
];

/// The two the CNI's own document added in 2026 (`DescribeSubnets`, used when it makes
/// ENIs with subnet discovery; `DescribeSecurityGroups`, called only by CNI 1.22.0 and
/// 1.22.1): without them a node role is warned about, not refused.
pub const CNI_IPV6_LATER: &[&str] = &["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"];

/// The action the VPC CNI needs on its network interfaces only.
pub const CNI_TAG_ACTION: &str = "ec2:CreateTags";

/// AWS-managed policies of the cluster role (EKS user guide, "Amazon EKS cluster IAM
/// role").
pub const CLUSTER_ROLE_POLICIES: &[&str] = &["AmazonEKSClusterPolicy"];

/// AWS-managed policies of the node role (EKS user guide, "Amazon EKS node IAM role":
/// `AmazonEKSWorkerNodePolicy` and `AmazonEC2ContainerRegistryPullOnly`, which replaced
/// the broader `...ReadOnly` in the guide; the CNI's rights come from eks6's own IPv6
/// policy, not `AmazonEKS_CNI_Policy`, which is IPv4 only).
pub const NODE_ROLE_POLICIES: &[&str] = &["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"];

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN of an AWS-managed policy in a partition.
pub fn managed_policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{name}")
}

/// The service principal EC2 instances assume roles as: `ec2.amazonaws.com`, and
/// `ec2.amazonaws.com.cn` in the China partition (as eksctl's `MakeServiceRef` and AWS's
/// node-group CloudFormation template write it).
pub fn ec2_principal(partition: &str) -> &'static str {
    if partition == "aws-cn" { "ec2.amazonaws.com.cn" } else { "ec2.amazonaws.com" }
}

/// The principals a node role's trust may name in a partition: in China either form
/// (terraform-aws-eks 20 writes `ec2.amazonaws.com` in every partition).
pub fn ec2_principals(partition: &str) -> &'static [&'static str] {
    if partition == "aws-cn" { &["ec2.amazonaws.com.cn", "ec2.amazonaws.com"] } else { &["ec2.amazonaws.com"] }
}

/// The service principal of EKS (the same in every partition).
pub const EKS_PRINCIPAL: &str = "eks.amazonaws.com";

/// A trust policy letting `service` assume the role. The cluster role also allows
/// `sts:TagSession`, as terraform-aws-eks and eksctl write it (the user guide's minimal
/// form has `sts:AssumeRole` only; EKS Auto Mode needs both).
pub fn trust_policy(service: &str, tag_session: bool) -> String {
    let actions = if tag_session { r#"["sts:AssumeRole", "sts:TagSession"]"# } else { r#""sts:AssumeRole""# };
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"Service": "{service}"}}, "Action": {actions}}}]}}"#
    )
}

/// The VPC CNI's IPv6 policy (amazon-vpc-cni-k8s `docs/iam-policy.md`, "IPv6 mode"),
/// which eks6 creates and attaches to the node role it makes, and prints as the fix when
/// a given node role lacks it.
///
/// ```
/// let doc = eks6::aws::cni_ipv6_policy("aws");
/// let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
/// assert_eq!(v["Statement"][1]["Resource"][0], "arn:aws:ec2:*:*:network-interface/*");
/// assert!(doc.contains("ec2:AssignIpv6Addresses"));
/// ```
pub fn cni_ipv6_policy(partition: &str) -> String {
    let actions = CNI_IPV6_ACTIONS.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": [{actions}], "Resource": "*"}}, {{"Effect": "Allow", "Action": ["{CNI_TAG_ACTION}"], "Resource": ["arn:{partition}:ec2:*:*:network-interface/*"]}}]}}"#
    )
}

/// A role as IAM describes it.
#[derive(Debug, Clone)]
pub(crate) struct RoleInfo {
    pub arn: String,
    /// The trust policy, decoded (IAM returns it URL-encoded).
    pub trust: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// A customer-managed policy.
#[derive(Debug, Clone)]
pub(crate) struct PolicyInfo {
    pub tags: BTreeMap<String, String>,
}

/// IAM's decision for one action (`allowed`, `explicitDeny`, `implicitDeny`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    pub action: String,
    pub decision: String,
    /// The simulator could not be sure: condition keys it lacked, or an Organizations
    /// policy (SCP) that decided (the simulator always applies SCPs, and evaluates their
    /// conditions without the context a real call has: aws/aws-sdk issue 102).
    pub uncertain: bool,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.decision == "allowed"
    }
}

fn iam_tags(owner: &Owner<'_>, role: &str) -> Vec<Tag> {
    owner.pairs(role).into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

/// IAM's URL-encoded policy documents, decoded.
fn decode(doc: &str) -> String {
    percent_encoding::percent_decode_str(doc).decode_utf8_lossy().into_owned()
}

/// The role name of a role ARN (its last path segment).
pub(crate) fn role_name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl Aws {
    /// A role by name, with its tags (`GetRole`; `ListRoles` returns no tags).
    pub(crate) async fn role(&self, name: &str) -> Result<Option<RoleInfo>, AwsError> {
        let out = absent(sdk!("GetRole", self.iam.get_role().role_name(name).send()))?;
        Ok(out.and_then(|o| {
            o.role().map(|r| RoleInfo {
                arn: r.arn().to_string(),
                trust: r.assume_role_policy_document().map(decode),
                tags: tag_map(r.tags()),
            })
        }))
    }

    /// Creates a role, tagged. No client token exists for IAM: the workflow looks the
    /// role up by its name after an ambiguous failure; `EntityAlreadyExists` is a conflict.
    pub(crate) async fn create_role(
        &self,
        owner: &Owner<'_>,
        key: &str,
        name: &str,
        trust: &str,
        description: &str,
    ) -> Result<String, AwsError> {
        let out = sdk!(
            "CreateRole",
            self.iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust)
                .description(description)
                .set_tags(Some(iam_tags(owner, key)))
                .send()
        )?;
        Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
    }

    /// The managed policies attached to a role (ARNs).
    pub(crate) async fn attached_policies(&self, role: &str) -> Result<Vec<String>, AwsError> {
        let pages: Vec<_> = sdk!(
            "ListAttachedRolePolicies",
            self.iam.list_attached_role_policies().role_name(role).into_paginator().send().try_collect()
        )?;
        Ok(pages
            .iter()
            .flat_map(|p| p.attached_policies().iter().filter_map(|a| a.policy_arn().map(str::to_string)))
            .collect())
    }

    pub(crate) async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<(), AwsError> {
        sdk!("AttachRolePolicy", self.iam.attach_role_policy().role_name(role).policy_arn(policy_arn).send())?;
        Ok(())
    }

    /// Deletes a role eks6 made: its managed policies detached, its inline policies
    /// deleted, then the role (IAM refuses to delete a role with either). A role EKS
    /// still holds in a nodegroup's instance profile answers `DeleteConflict` until the
    /// nodegroup is gone; the caller retries that.
    pub(crate) async fn delete_role(&self, name: &str) -> Result<(), AwsError> {
        let attached = match self.attached_policies(name).await {
            Err(e) if e.is_not_found() => return Ok(()),
            other => other?,
        };
        for arn in attached {
            absent(sdk!("DetachRolePolicy", self.iam.detach_role_policy().role_name(name).policy_arn(&arn).send()))?;
        }
        let inline = absent(sdk!("ListRolePolicies", self.iam.list_role_policies().role_name(name).send()))?;
        for p in inline.iter().flat_map(|o| o.policy_names()) {
            absent(sdk!("DeleteRolePolicy", self.iam.delete_role_policy().role_name(name).policy_name(p).send()))?;
        }
        absent(sdk!("DeleteRole", self.iam.delete_role().role_name(name).send()))?;
        Ok(())
    }

    /// A customer-managed policy by ARN, with its tags.
    pub(crate) async fn policy(&self, arn: &str) -> Result<Option<PolicyInfo>, AwsError> {
        let out = absent(sdk!("GetPolicy", self.iam.get_policy().policy_arn(arn).send()))?;
        Ok(out.and_then(|o| o.policy().map(|p| PolicyInfo { tags: tag_map(p.tags()) })))
    }

    /// Creates a customer-managed policy, tagged; returns its ARN.
    pub(crate) async fn create_policy(
        &self,
        owner: &Owner<'_>,
        key: &str,
        name: &str,
        document: &str,
        description: &str,
    ) -> Result<String, AwsError> {
        let out = sdk!(
            "CreatePolicy",
            self.iam
                .create_policy()
                .policy_name(name)
                .policy_document(document)
                .description(description)
                .set_tags(Some(iam_tags(owner, key)))
                .send()
        )?;
        Ok(out.policy().and_then(|p| p.arn()).unwrap_or_default().to_string())
    }

    /// Deletes a customer-managed policy: its other versions first (IAM refuses
    /// otherwise), after it is detached everywhere.
    pub(crate) async fn delete_policy(&self, arn: &str) -> Result<(), AwsError> {
        let versions = absent(sdk!("ListPolicyVersions", self.iam.list_policy_versions().policy_arn(arn).send()))?;
        for v in versions.iter().flat_map(|o| o.versions()).filter(|v| !v.is_default_version()) {
            if let Some(id) = v.version_id() {
                absent(sdk!(
                    "DeletePolicyVersion",
                    self.iam.delete_policy_version().policy_arn(arn).version_id(id).send()
                ))?;
            }
        }
        absent(sdk!("DeletePolicy", self.iam.delete_policy().policy_arn(arn).send()))?;
        Ok(())
    }

    /// IAM's decision for each action of a principal on one resource (`*` when none),
    /// with the context a call from this region would carry (`aws:RequestedRegion`).
    pub(crate) async fn simulate(
        &self,
        principal_arn: &str,
        actions: &[&str],
        resource: Option<&str>,
    ) -> Result<Vec<Decision>, AwsError> {
        use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum};
        let region = ContextEntry::builder()
            .context_key_name("aws:RequestedRegion")
            .context_key_type(ContextKeyTypeEnum::String)
            .context_key_values(self.region())
            .build();
        let mut req = self
            .iam
            .simulate_principal_policy()
            .policy_source_arn(principal_arn)
            .set_action_names(Some(actions.iter().map(|a| a.to_string()).collect()))
            .context_entries(region);
        if let Some(r) = resource {
            req = req.resource_arns(r);
        }
        let out = sdk!("SimulatePrincipalPolicy", req.send())?;
        Ok(out
            .evaluation_results()
            .iter()
            .map(|r| Decision {
                action: r.eval_action_name().to_string(),
                decision: r.eval_decision().as_str().into(),
                uncertain: !r.missing_context_values().is_empty()
                    || r.organizations_decision_detail().is_some_and(|o| !o.allowed_by_organizations()),
            })
            .collect())
    }

    /// A role's ARN with its path: IAM's, when the caller may read the role; else the
    /// path-less form a session ARN gives (`arn:aws:iam::A:role/R`).
    pub(crate) async fn role_arn_with_path(&self, pathless: &str) -> String {
        if !pathless.contains(":role/") {
            return pathless.to_string();
        }
        match self.role(role_name_of(pathless)).await {
            Ok(Some(r)) if r.arn.rsplit('/').next() == pathless.rsplit('/').next() => r.arn,
            _ => pathless.to_string(),
        }
    }
}

/// Whether a trust policy lets `service` assume the role (`sts:AssumeRole`, `sts:*` or
/// `*` allowed to that service principal), read from the document's JSON.
pub(crate) fn trusts(document: &str, service: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(document) else { return false };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => return false,
    };
    let list = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && list(&s["Principal"]["Service"]).iter().any(|p| p == service)
            && list(&s["Action"]).iter().any(|a| {
                let a = a.to_ascii_lowercase();
                a == "sts:assumerole" || a == "sts:*" || a == "*"
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_documents() {
        assert!(trusts(&trust_policy(EKS_PRINCIPAL, true), EKS_PRINCIPAL));
        assert!(!trusts(&trust_policy(EKS_PRINCIPAL, true), "ec2.amazonaws.com"));
        assert!(trusts(&trust_policy("ec2.amazonaws.com", false), "ec2.amazonaws.com"));
        assert_eq!(ec2_principals("aws-cn").len(), 2);
        for a in CNI_IPV6_REQUIRED.iter().chain(CNI_IPV6_LATER) {
            assert!(CNI_IPV6_ACTIONS.contains(a), "{a} is in eks6's own policy");
        }
        assert_eq!(CNI_IPV6_REQUIRED.len() + CNI_IPV6_LATER.len(), CNI_IPV6_ACTIONS.len());
        let listed = r#"{"Statement": {"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}}"#;
        assert!(trusts(listed, "ec2.amazonaws.com"));
        let denied = r#"{"Statement": [{"Effect": "Deny", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
        assert!(!trusts(denied, "ec2.amazonaws.com"));
        assert!(!trusts("not json", "ec2.amazonaws.com"));
        assert_eq!(decode("%7B%22a%22%3A1%7D"), r#"{"a":1}"#);
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(ec2_principal("aws-cn"), "ec2.amazonaws.com.cn");
        assert_eq!(role_name_of("arn:aws:iam::123456789012:role/path/R"), "R");
        let v: serde_json::Value = serde_json::from_str(&cni_ipv6_policy("aws-us-gov")).unwrap();
        assert_eq!(v["Statement"][0]["Action"].as_array().unwrap().len(), CNI_IPV6_ACTIONS.len());
    }
}
