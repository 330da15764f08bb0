//! EKS operations the workflows need, in plain types.

use std::collections::BTreeMap;

use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AddonStatus, AuthenticationMode, ClusterStatus, CreateAccessConfigRequest, IpFamily,
    KubernetesNetworkConfigRequest, NodegroupScalingConfig, NodegroupStatus, RemoteAccessConfig, ResolveConflicts,
    SupportType, UpgradePolicyRequest, VpcConfigRequest,
};

use super::ec2::Owner;
use super::{Aws, AwsError, absent};

/// The tag naming the IAM principal that created a cluster (its first admin).
pub(crate) const TAG_CREATOR: &str = "eks6:creator";

/// (code, message) of EKS health issues: a nodegroup's and an add-on's have one shape
/// in two types.
macro_rules! issues {
    ($health:expr) => {
        $health
            .map(|h| {
                h.issues()
                    .iter()
                    .map(|i| {
                        (
                            i.code().map(|c| c.as_str().to_string()).unwrap_or_default(),
                            i.message().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
}

fn tags(t: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    t.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

/// What `DescribeCluster` says.
#[derive(Debug, Clone)]
pub(crate) struct ClusterInfo {
    pub status: ClusterStatus,
    pub tags: BTreeMap<String, String>,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_id: Option<String>,
    pub ip_family: Option<String>,
    pub service_ipv6_cidr: Option<String>,
    pub endpoint: Option<String>,
    pub certificate_authority: Option<String>,
    pub arn: Option<String>,
    /// When EKS made it (seconds since 1970): tells one life of a name from the next.
    pub created: Option<i64>,
    /// `accessConfig.authenticationMode` (`API_AND_CONFIG_MAP`, `CONFIG_MAP`, ...).
    pub authentication_mode: Option<String>,
}

/// What `DescribeAddon` says.
#[derive(Debug, Clone)]
pub(crate) struct AddonInfo {
    pub status: AddonStatus,
    pub tags: BTreeMap<String, String>,
    /// (code, message) of health issues.
    pub issues: Vec<(String, String)>,
}

/// What `DescribeNodegroup` says.
#[derive(Debug, Clone)]
pub(crate) struct NodegroupInfo {
    pub status: NodegroupStatus,
    pub tags: BTreeMap<String, String>,
    pub subnets: Vec<String>,
    /// (code, message) of health issues.
    pub issues: Vec<(String, String)>,
}

/// The cluster to create.
#[derive(Debug)]
pub(crate) struct NewCluster<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub role_arn: &'a str,
    pub subnet_ids: &'a [String],
    pub public_endpoint: bool,
    pub private_endpoint: bool,
    /// `upgradePolicy.supportType` (`STANDARD`, `EXTENDED`).
    pub support: &'a str,
    /// `bootstrapSelfManagedAddons`: EKS installs its unmanaged vpc-cni, kube-proxy and
    /// coredns itself (false when eks6 creates them as managed add-ons).
    pub bootstrap_addons: bool,
    /// The caller's IAM principal, tagged `eks6:creator` (EKS makes it an admin; the
    /// kubeconfig names it when another identity gets Unauthorized).
    pub creator: &'a str,
    pub token: &'a str,
}

/// The nodegroup to create.
#[derive(Debug)]
pub(crate) struct NewNodegroup<'a> {
    pub cluster: &'a str,
    pub name: &'a str,
    pub node_role: &'a str,
    pub subnet_ids: &'a [String],
    pub instance_types: &'a [String],
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub ssh_key: Option<&'a str>,
    pub ami_type: Option<&'a str>,
    pub token: &'a str,
}

impl Aws {
    /// The cluster, which must exist: `DescribeCluster`, its absence an `aws_not_found`
    /// error naming the region.
    pub(crate) async fn require_cluster(&self, name: &str) -> Result<ClusterInfo, AwsError> {
        self.describe_cluster(name).await?.ok_or_else(|| {
            AwsError::local(
                crate::ErrorKind::AwsNotFound,
                "DescribeCluster",
                format!("no cluster {name} in {}", self.region()),
            )
        })
    }

    pub(crate) async fn describe_cluster(&self, name: &str) -> Result<Option<ClusterInfo>, AwsError> {
        let Some(out) = absent(sdk!("DescribeCluster", self.eks.describe_cluster().name(name).send()))? else {
            return Ok(None);
        };
        Ok(out.cluster().map(|c| {
            let vpc = c.resources_vpc_config();
            let net = c.kubernetes_network_config();
            ClusterInfo {
                status: c.status().cloned().unwrap_or_else(|| ClusterStatus::from("")),
                tags: tags(c.tags()),
                vpc_id: vpc.and_then(|v| v.vpc_id()).map(str::to_string),
                subnet_ids: vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default(),
                security_group_id: vpc
                    .and_then(|v| v.cluster_security_group_id())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                ip_family: net.and_then(|n| n.ip_family()).map(|f| f.as_str().to_string()),
                service_ipv6_cidr: net.and_then(|n| n.service_ipv6_cidr()).map(str::to_string),
                endpoint: c.endpoint().map(str::to_string),
                certificate_authority: c.certificate_authority().and_then(|a| a.data()).map(str::to_string),
                arn: c.arn().map(str::to_string),
                created: c.created_at().map(|t| t.secs()),
                authentication_mode: c
                    .access_config()
                    .and_then(|a| a.authentication_mode())
                    .map(|m| m.as_str().to_string()),
            }
        }))
    }

    pub(crate) async fn create_cluster(&self, owner: &Owner<'_>, c: &NewCluster<'_>) -> Result<(), AwsError> {
        let vpc = VpcConfigRequest::builder()
            .set_subnet_ids(Some(c.subnet_ids.to_vec()))
            .endpoint_public_access(c.public_endpoint)
            .endpoint_private_access(c.private_endpoint)
            .build();
        self.eks
            .create_cluster()
            .name(c.name)
            .version(c.version)
            .role_arn(c.role_arn)
            .resources_vpc_config(vpc)
            .kubernetes_network_config(KubernetesNetworkConfigRequest::builder().ip_family(IpFamily::Ipv6).build())
            // Access entries beside the aws-auth ConfigMap, the creator an admin (EKS user
            // guide, "Grant IAM users access to Kubernetes with EKS access entries"; the
            // API's default is CONFIG_MAP alone, which `[access] admins` cannot use).
            .access_config(
                CreateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                    .bootstrap_cluster_creator_admin_permissions(true)
                    .build(),
            )
            .bootstrap_self_managed_addons(c.bootstrap_addons)
            // The API's default is EXTENDED (EKS API reference, UpgradePolicyRequest).
            .upgrade_policy(UpgradePolicyRequest::builder().support_type(SupportType::from(c.support)).build())
            .set_tags(Some({
                let mut tags = owner.tag_map("cluster");
                tags.insert(TAG_CREATOR.into(), c.creator.into());
                tags
            }))
            .client_request_token(c.token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateCluster", e))?;
        Ok(())
    }

    pub(crate) async fn delete_cluster(&self, name: &str) -> Result<(), AwsError> {
        absent(sdk!("DeleteCluster", self.eks.delete_cluster().name(name).send()))?;
        Ok(())
    }

    pub(crate) async fn describe_nodegroup(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Option<NodegroupInfo>, AwsError> {
        let Some(out) = absent(sdk!(
            "DescribeNodegroup",
            self.eks.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send()
        ))?
        else {
            return Ok(None);
        };
        Ok(out.nodegroup().map(|n| NodegroupInfo {
            status: n.status().cloned().unwrap_or_else(|| NodegroupStatus::from("")),
            tags: tags(n.tags()),
            subnets: n.subnets().to_vec(),
            issues: issues!(n.health()),
        }))
    }

    pub(crate) async fn create_nodegroup(&self, owner: &Owner<'_>, n: &NewNodegroup<'_>) -> Result<(), AwsError> {
        let mut req = self
            .eks
            .create_nodegroup()
            .cluster_name(n.cluster)
            .nodegroup_name(n.name)
            .node_role(n.node_role)
            .set_subnets(Some(n.subnet_ids.to_vec()))
            .set_instance_types(Some(n.instance_types.to_vec()))
            .scaling_config(
                NodegroupScalingConfig::builder().desired_size(n.desired).min_size(n.min).max_size(n.max).build(),
            )
            .set_tags(Some(owner.tag_map("nodegroup")))
            .client_request_token(n.token);
        if let Some(k) = n.ssh_key {
            req = req.remote_access(RemoteAccessConfig::builder().ec2_ssh_key(k).build());
        }
        if let Some(a) = n.ami_type {
            req = req.ami_type(a.into());
        }
        req.send().await.map_err(|e| AwsError::from_sdk("CreateNodegroup", e))?;
        Ok(())
    }

    pub(crate) async fn delete_nodegroup(&self, cluster: &str, name: &str) -> Result<(), AwsError> {
        absent(sdk!("DeleteNodegroup", self.eks.delete_nodegroup().cluster_name(cluster).nodegroup_name(name).send()))?;
        Ok(())
    }

    pub(crate) async fn list_nodegroups(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let items = self.eks.list_nodegroups().cluster_name(cluster).into_paginator().items().send().try_collect();
        Ok(absent(sdk!("ListNodegroups", items))?.unwrap_or_default())
    }

    /// The default version of an add-on for a Kubernetes version (`DescribeAddonVersions`:
    /// the version whose compatibility with `kubernetes` is marked `defaultVersion`), and
    /// every version offered for it.
    pub(crate) async fn addon_versions(
        &self,
        addon: &str,
        kubernetes: &str,
    ) -> Result<(Option<String>, Vec<String>), AwsError> {
        let pages: Vec<_> = sdk!(
            "DescribeAddonVersions",
            self.eks
                .describe_addon_versions()
                .addon_name(addon)
                .kubernetes_version(kubernetes)
                .into_paginator()
                .send()
                .try_collect()
        )?;
        let mut default = None;
        let mut all = Vec::new();
        for a in pages.iter().flat_map(|p| p.addons()).filter(|a| a.addon_name() == Some(addon)) {
            for v in a.addon_versions() {
                let Some(name) = v.addon_version() else { continue };
                let fits = v.compatibilities().iter().filter(|c| c.cluster_version() == Some(kubernetes));
                let mut offered = false;
                for c in fits {
                    offered = true;
                    if c.default_version() {
                        default = Some(name.to_string());
                    }
                }
                if offered {
                    all.push(name.to_string());
                }
            }
        }
        Ok((default, all))
    }

    pub(crate) async fn describe_addon(&self, cluster: &str, addon: &str) -> Result<Option<AddonInfo>, AwsError> {
        let Some(out) =
            absent(sdk!("DescribeAddon", self.eks.describe_addon().cluster_name(cluster).addon_name(addon).send()))?
        else {
            return Ok(None);
        };
        Ok(out.addon().map(|a| AddonInfo {
            status: a.status().cloned().unwrap_or_else(|| AddonStatus::from("")),
            tags: tags(a.tags()),
            issues: issues!(a.health()),
        }))
    }

    /// Creates a managed add-on at a version, tagged, with a client token (a repeat with
    /// the same token answers the add-on it made).
    pub(crate) async fn create_addon(
        &self,
        owner: &Owner<'_>,
        cluster: &str,
        addon: &str,
        version: &str,
        token: &str,
    ) -> Result<(), AwsError> {
        self.eks
            .create_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .addon_version(version)
            // Over an unmanaged add-on of the same name (a cluster made with EKS's own
            // bootstrap): take it over rather than fail with ConfigurationConflict.
            .resolve_conflicts(ResolveConflicts::Overwrite)
            .set_tags(Some(owner.tag_map(&format!("addon/{addon}"))))
            .client_request_token(token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateAddon", e))?;
        Ok(())
    }

    pub(crate) async fn delete_addon(&self, cluster: &str, addon: &str) -> Result<(), AwsError> {
        absent(sdk!("DeleteAddon", self.eks.delete_addon().cluster_name(cluster).addon_name(addon).send()))?;
        Ok(())
    }

    /// The principals with an access entry on a cluster.
    pub(crate) async fn access_entries(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        self.eks
            .list_access_entries()
            .cluster_name(cluster)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ListAccessEntries", e))
    }

    /// The access policies associated with a principal's entry (ARNs).
    pub(crate) async fn access_policies(&self, cluster: &str, principal: &str) -> Result<Vec<String>, AwsError> {
        let pages: Vec<_> = self
            .eks
            .list_associated_access_policies()
            .cluster_name(cluster)
            .principal_arn(principal)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("ListAssociatedAccessPolicies", e))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.associated_access_policies().iter().filter_map(|a| a.policy_arn().map(str::to_string)))
            .collect())
    }

    /// Creates an access entry for a principal, tagged.
    pub(crate) async fn create_access_entry(
        &self,
        owner: &Owner<'_>,
        cluster: &str,
        principal: &str,
    ) -> Result<(), AwsError> {
        self.eks
            .create_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .set_tags(Some(owner.tag_map("access")))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateAccessEntry", e))?;
        Ok(())
    }

    /// Associates an access policy with a principal's entry at cluster scope (associating
    /// it again is not an error).
    pub(crate) async fn associate_cluster_policy(
        &self,
        cluster: &str,
        principal: &str,
        policy_arn: &str,
    ) -> Result<(), AwsError> {
        self.eks
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(policy_arn)
            .access_scope(AccessScope::builder().r#type(AccessScopeType::Cluster).build())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("AssociateAccessPolicy", e))?;
        Ok(())
    }
}

/// Whether `CreateCluster` or `CreateNodegroup` refused a role that IAM has not spread
/// yet (IAM is eventually consistent): EKS answers `InvalidParameterException` with one
/// of these phrases, the ones terraform-provider-aws retries for two minutes
/// (`internal/service/eks/cluster.go`, `propagationTimeout`).
pub(crate) fn role_not_ready(e: &AwsError) -> bool {
    const PHRASES: &[&str] = &[
        "could not be assumed",
        "does not exist",
        "Error in role params",
        "doesn't have the Amazon EKS Managed Policies",
        "IAM role's policy must include",
    ];
    // "does not exist" also ends "The subnet ID ... does not exist": only about a role.
    let m = e.message();
    e.has_code("InvalidParameterException")
        && m.to_ascii_lowercase().contains("role")
        && PHRASES.iter().any(|p| m.contains(p))
}
