//! EKS operations the workflows need, in plain types.

use std::collections::BTreeMap;

use aws_sdk_eks::types::{
    ClusterStatus, IpFamily, KubernetesNetworkConfigRequest, NodegroupScalingConfig, NodegroupStatus,
    RemoteAccessConfig, VpcConfigRequest,
};

use super::ec2::Owner;
use super::{Aws, AwsError};

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
    pub(crate) async fn describe_cluster(&self, name: &str) -> Result<Option<ClusterInfo>, AwsError> {
        let out = match self.eks.describe_cluster().name(name).send().await {
            Ok(o) => o,
            Err(e) => {
                let e = AwsError::from_sdk("DescribeCluster", e);
                return if e.is_not_found() { Ok(None) } else { Err(e) };
            }
        };
        Ok(out.cluster().map(|c| {
            let vpc = c.resources_vpc_config();
            let net = c.kubernetes_network_config();
            ClusterInfo {
                status: c.status().cloned().unwrap_or_else(|| ClusterStatus::from("")),
                tags: c.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
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
            .set_tags(Some(owner.tag_map("cluster")))
            .client_request_token(c.token)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateCluster", e))?;
        Ok(())
    }

    pub(crate) async fn delete_cluster(&self, name: &str) -> Result<(), AwsError> {
        match self.eks.delete_cluster().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::from_sdk("DeleteCluster", e);
                if e.is_not_found() { Ok(()) } else { Err(e) }
            }
        }
    }

    pub(crate) async fn describe_nodegroup(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Option<NodegroupInfo>, AwsError> {
        let out = match self.eks.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await {
            Ok(o) => o,
            Err(e) => {
                let e = AwsError::from_sdk("DescribeNodegroup", e);
                return if e.is_not_found() { Ok(None) } else { Err(e) };
            }
        };
        Ok(out.nodegroup().map(|n| NodegroupInfo {
            status: n.status().cloned().unwrap_or_else(|| NodegroupStatus::from("")),
            tags: n.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
            subnets: n.subnets().to_vec(),
            issues: n
                .health()
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
                .unwrap_or_default(),
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
        match self.eks.delete_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = AwsError::from_sdk("DeleteNodegroup", e);
                if e.is_not_found() { Ok(()) } else { Err(e) }
            }
        }
    }

    pub(crate) async fn list_nodegroups(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        match self.eks.list_nodegroups().cluster_name(cluster).into_paginator().items().send().try_collect().await {
            Ok(v) => Ok(v),
            Err(e) => {
                let e = AwsError::from_sdk("ListNodegroups", e);
                if e.is_not_found() { Ok(Vec::new()) } else { Err(e) }
            }
        }
    }
}
