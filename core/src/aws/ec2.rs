//! EC2 operations the workflows need, in plain types. Every create tags the resource
//! at creation with its owner; lookups list a VPC's resources once and match tags here,
//! because server-side tag filters are not answered alike everywhere.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, IpPermission, Ipv6Range, NatGatewayState, ResourceType, Tag,
    TagSpecification,
};
use ipnet::{Ipv4Net, Ipv6Net};

use super::{Aws, AwsError};

/// Who owns a resource: the tags eks6 puts on everything it creates.
#[derive(Debug, Clone)]
pub(crate) struct Owner<'a> {
    pub cluster: &'a str,
    pub plan_id: &'a str,
    pub extra: &'a BTreeMap<String, String>,
}

/// Tag keys.
pub(crate) const TAG_CLUSTER: &str = "eks6:cluster";
pub(crate) const TAG_PLAN: &str = "eks6:plan-id";
pub(crate) const TAG_ROLE: &str = "eks6:role";

impl Owner<'_> {
    /// The tags of a resource of `role`, as key and value: the plan's own, then
    /// `eks6:cluster`, `eks6:plan-id`, `eks6:role` and a `Name` unless the plan gives one.
    pub fn pairs(&self, role: &str) -> Vec<(String, String)> {
        let mut tags: Vec<(String, String)> =
            self.extra.iter().filter(|(k, _)| !k.starts_with("eks6:")).map(|(k, v)| (k.clone(), v.clone())).collect();
        tags.push((TAG_CLUSTER.into(), self.cluster.into()));
        tags.push((TAG_PLAN.into(), self.plan_id.into()));
        tags.push((TAG_ROLE.into(), role.into()));
        if !self.extra.contains_key("Name") {
            tags.push(("Name".into(), format!("{}-{role}", self.cluster)));
        }
        tags
    }

    fn tags(&self, role: &str) -> Vec<Tag> {
        self.pairs(role).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
    }

    fn spec(&self, rt: ResourceType, role: &str) -> TagSpecification {
        TagSpecification::builder().resource_type(rt).set_tags(Some(self.tags(role))).build()
    }

    /// With one more tag, set to `1` (the load balancer role tags of subnets).
    fn spec_with(&self, rt: ResourceType, role: &str, flag: &str) -> TagSpecification {
        let mut tags = self.tags(role);
        tags.push(Tag::builder().key(flag).value("1").build());
        TagSpecification::builder().resource_type(rt).set_tags(Some(tags)).build()
    }

    /// The map form, for EKS.
    pub fn tag_map(&self, role: &str) -> std::collections::HashMap<String, String> {
        self.pairs(role).into_iter().collect()
    }
}

/// Tags as a map.
pub(crate) type Tags = BTreeMap<String, String>;

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// A config override that turns off the SDK's retries, for creates that have no client
/// token: a retried request whose first answer was lost could create a second
/// resource. The workflow looks the resource up by its tags before trying again.
fn no_retry() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
}

fn yes(v: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(v).build()
}

/// A subnet to create.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewSubnet<'a> {
    pub role: &'a str,
    pub vpc_id: &'a str,
    pub zone: &'a str,
    pub ipv4: Ipv4Net,
    pub ipv6: Ipv6Net,
    /// The load balancer role tag (`kubernetes.io/role/elb` or `.../internal-elb`).
    pub elb_role: &'a str,
}

/// A VPC.
#[derive(Debug, Clone)]
pub(crate) struct VpcInfo {
    pub id: String,
    pub ipv6: Vec<Ipv6Net>,
    pub tags: Tags,
}

/// A subnet.
#[derive(Debug, Clone)]
pub(crate) struct SubnetInfo {
    pub id: String,
    pub vpc_id: String,
    pub ipv4: Option<Ipv4Net>,
    pub ipv6: Vec<Ipv6Net>,
    pub assign_ipv6: bool,
    pub map_public_ip: bool,
    /// Zone name (`us-west-2a`) and zone id (`usw2-az1`).
    pub zone: String,
    pub zone_id: String,
    pub tags: Tags,
}

/// An instance type as EC2 describes it.
#[derive(Debug, Clone)]
pub(crate) struct InstanceTypeInfo {
    pub name: String,
    /// On the Nitro system: hypervisor `nitro`, or bare metal (no hypervisor at all),
    /// as the VPC CNI itself decides (`pkg/awsutils`, `IsNitroInstance` / bare metal).
    pub nitro: bool,
}

/// A gateway (internet or egress-only) and the VPCs it is attached to.
#[derive(Debug, Clone)]
pub(crate) struct GatewayInfo {
    pub id: String,
    pub vpcs: Vec<String>,
    pub tags: Tags,
}

/// A NAT gateway.
#[derive(Debug, Clone)]
pub(crate) struct NatInfo {
    pub id: String,
    pub state: NatGatewayState,
    pub tags: Tags,
}

/// An Elastic IP.
#[derive(Debug, Clone)]
pub(crate) struct EipInfo {
    pub allocation_id: String,
    pub tags: Tags,
}

/// A route: destination and target id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteInfo {
    pub destination: String,
    pub target: String,
}

/// A route table.
#[derive(Debug, Clone)]
pub(crate) struct RouteTableInfo {
    pub id: String,
    pub routes: Vec<RouteInfo>,
    /// (association id, subnet id)
    pub associations: Vec<(String, String)>,
    pub main: bool,
    pub tags: Tags,
}

/// A security group rule.
#[derive(Debug, Clone)]
pub(crate) struct RuleInfo {
    pub id: String,
    pub egress: bool,
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub cidr_ipv6: Option<String>,
    pub description: Option<String>,
    pub tags: Tags,
}

/// A network interface, as a blocker of a delete.
#[derive(Debug, Clone)]
pub(crate) struct EniInfo {
    pub id: String,
    pub description: String,
    pub subnet_id: String,
}

/// An instance's addresses, for verify.
#[derive(Debug, Clone)]
pub(crate) struct InstanceInfo {
    pub id: String,
    pub subnet_id: String,
    pub ipv6: Vec<String>,
    /// The prefixes delegated to its ENIs (`Ipv6Prefixes`): the VPC CNI's /80 per node
    /// with prefix delegation, which EKS turns on for IPv6 clusters (EKS user guide,
    /// "IPv6 addresses for clusters, Pods, and services": each node gets a /80).
    pub ipv6_prefixes: Vec<String>,
    pub security_groups: Vec<String>,
}

fn instance_info(i: &aws_sdk_ec2::types::Instance) -> InstanceInfo {
    InstanceInfo {
        id: i.instance_id().unwrap_or_default().to_string(),
        subnet_id: i.subnet_id().unwrap_or_default().to_string(),
        ipv6: i
            .network_interfaces()
            .iter()
            .flat_map(|n| n.ipv6_addresses())
            .filter_map(|a| a.ipv6_address().map(str::to_string))
            .collect(),
        ipv6_prefixes: i
            .network_interfaces()
            .iter()
            .flat_map(|n| n.ipv6_prefixes())
            .filter_map(|p| p.ipv6_prefix().map(str::to_string))
            .collect(),
        security_groups: {
            let mut g: Vec<String> = i
                .network_interfaces()
                .iter()
                .flat_map(|n| n.groups())
                .chain(i.security_groups())
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect();
            g.sort();
            g.dedup();
            g
        },
    }
}

fn vpc_info(v: &aws_sdk_ec2::types::Vpc) -> VpcInfo {
    VpcInfo {
        id: v.vpc_id().unwrap_or_default().to_string(),
        ipv6: v.ipv6_cidr_block_association_set().iter().filter_map(|a| a.ipv6_cidr_block()?.parse().ok()).collect(),
        tags: tags_of(v.tags()),
    }
}

impl Aws {
    pub(crate) async fn availability_zones(&self) -> Result<Vec<(String, String)>, AwsError> {
        let out = sdk!(
            "DescribeAvailabilityZones",
            self.ec2.describe_availability_zones().filters(filter("state", "available")).send()
        )?;
        let mut zones: Vec<(String, String)> = out
            .availability_zones()
            .iter()
            .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
            .filter_map(|z| Some((z.zone_name()?.to_string(), z.zone_id().unwrap_or_default().to_string())))
            .collect();
        zones.sort();
        Ok(zones)
    }

    pub(crate) async fn vpcs_by_plan(&self, plan_id: &str) -> Result<Vec<VpcInfo>, AwsError> {
        let vpcs = sdk!(
            "DescribeVpcs",
            self.ec2
                .describe_vpcs()
                .filters(filter(&format!("tag:{TAG_PLAN}"), plan_id))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(vpcs.iter().map(vpc_info).collect())
    }

    pub(crate) async fn vpc(&self, id: &str) -> Result<Option<VpcInfo>, AwsError> {
        match sdk!("DescribeVpcs", self.ec2.describe_vpcs().vpc_ids(id).send()) {
            Ok(out) => Ok(out.vpcs().first().map(vpc_info)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn create_vpc(&self, owner: &Owner<'_>, ipv4: &str) -> Result<String, AwsError> {
        let out = sdk!(
            "CreateVpc",
            self.ec2
                .create_vpc()
                .cidr_block(ipv4)
                .amazon_provided_ipv6_cidr_block(true)
                .tag_specifications(owner.spec(ResourceType::Vpc, "vpc"))
                .customize()
                .config_override(no_retry())
                .send()
        )?;
        Ok(out.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string())
    }

    pub(crate) async fn subnets(&self, vpc_id: &str) -> Result<Vec<SubnetInfo>, AwsError> {
        let subnets = sdk!(
            "DescribeSubnets",
            self.ec2.describe_subnets().filters(filter("vpc-id", vpc_id)).into_paginator().items().send().try_collect()
        )?;
        Ok(subnets.iter().map(subnet_info).collect())
    }

    pub(crate) async fn subnets_by_ids(&self, ids: &[String]) -> Result<Vec<SubnetInfo>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = sdk!("DescribeSubnets", self.ec2.describe_subnets().set_subnet_ids(Some(ids.to_vec())).send())?;
        Ok(out.subnets().iter().map(subnet_info).collect())
    }
}

fn subnet_info(s: &aws_sdk_ec2::types::Subnet) -> SubnetInfo {
    SubnetInfo {
        id: s.subnet_id().unwrap_or_default().to_string(),
        vpc_id: s.vpc_id().unwrap_or_default().to_string(),
        ipv4: s.cidr_block().and_then(|c| c.parse().ok()),
        ipv6: s.ipv6_cidr_block_association_set().iter().filter_map(|a| a.ipv6_cidr_block()?.parse().ok()).collect(),
        assign_ipv6: s.assign_ipv6_address_on_creation().unwrap_or(false),
        map_public_ip: s.map_public_ip_on_launch().unwrap_or(false),
        zone: s.availability_zone().unwrap_or_default().to_string(),
        zone_id: s.availability_zone_id().unwrap_or_default().to_string(),
        tags: tags_of(s.tags()),
    }
}

impl Aws {
    /// `enableDnsSupport` and `enableDnsHostnames` of a VPC.
    pub(crate) async fn vpc_dns(&self, vpc_id: &str) -> Result<(bool, bool), AwsError> {
        use aws_sdk_ec2::types::VpcAttributeName;
        let support = sdk!(
            "DescribeVpcAttribute",
            self.ec2.describe_vpc_attribute().vpc_id(vpc_id).attribute(VpcAttributeName::EnableDnsSupport).send()
        )?;
        let hostnames = sdk!(
            "DescribeVpcAttribute",
            self.ec2.describe_vpc_attribute().vpc_id(vpc_id).attribute(VpcAttributeName::EnableDnsHostnames).send()
        )?;
        Ok((
            support.enable_dns_support().and_then(|a| a.value()).unwrap_or(false),
            hostnames.enable_dns_hostnames().and_then(|a| a.value()).unwrap_or(false),
        ))
    }

    /// Turns on DNS support and DNS hostnames (one attribute per call, as EC2 requires).
    pub(crate) async fn set_vpc_dns(&self, vpc_id: &str, support: bool, hostnames: bool) -> Result<(), AwsError> {
        if !support {
            sdk!(
                "ModifyVpcAttribute",
                self.ec2.modify_vpc_attribute().vpc_id(vpc_id).enable_dns_support(yes(true)).send()
            )?;
        }
        if !hostnames {
            sdk!(
                "ModifyVpcAttribute",
                self.ec2.modify_vpc_attribute().vpc_id(vpc_id).enable_dns_hostnames(yes(true)).send()
            )?;
        }
        Ok(())
    }

    /// An instance type, or `None` when EC2 does not know it (`InvalidInstanceType`).
    pub(crate) async fn instance_type(&self, name: &str) -> Result<Option<InstanceTypeInfo>, AwsError> {
        let out = match sdk!(
            "DescribeInstanceTypes",
            self.ec2.describe_instance_types().instance_types(aws_sdk_ec2::types::InstanceType::from(name)).send()
        ) {
            Ok(o) => o,
            Err(e) if e.kind() == crate::ErrorKind::AwsInvalidInput => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(out.instance_types().first().map(|t| InstanceTypeInfo {
            name: name.to_string(),
            nitro: t.hypervisor().is_some_and(|h| h.as_str() == "nitro") || t.bare_metal().unwrap_or(false),
        }))
    }

    /// The zones (names) that offer an instance type.
    pub(crate) async fn zones_offering(&self, instance_type: &str) -> Result<Vec<String>, AwsError> {
        let offers = sdk!(
            "DescribeInstanceTypeOfferings",
            self.ec2
                .describe_instance_type_offerings()
                .location_type(aws_sdk_ec2::types::LocationType::AvailabilityZone)
                .filters(filter("instance-type", instance_type))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(offers.iter().filter_map(|o| o.location().map(str::to_string)).collect())
    }

    /// The account's Elastic IP quota in the region (`DescribeAccountAttributes`,
    /// `vpc-max-elastic-ips`), and how many addresses it holds.
    pub(crate) async fn elastic_ip_headroom(&self) -> Result<(Option<u32>, u32), AwsError> {
        // All of them, and the one picked here: the API reference lists only
        // `supported-platforms` and `default-vpc` as names to ask for.
        let attrs = sdk!("DescribeAccountAttributes", self.ec2.describe_account_attributes().send())?;
        let quota = attrs
            .account_attributes()
            .iter()
            .filter(|a| a.attribute_name() == Some("vpc-max-elastic-ips"))
            .flat_map(|a| a.attribute_values())
            .find_map(|v| v.attribute_value()?.parse().ok());
        let held = sdk!("DescribeAddresses", self.ec2.describe_addresses().send())?;
        Ok((quota, held.addresses().len() as u32))
    }

    /// How many VPCs the region holds.
    pub(crate) async fn vpc_count(&self) -> Result<usize, AwsError> {
        let vpcs = sdk!("DescribeVpcs", self.ec2.describe_vpcs().into_paginator().items().send().try_collect())?;
        Ok(vpcs.len())
    }
}

impl Aws {
    pub(crate) async fn create_subnet(&self, owner: &Owner<'_>, n: &NewSubnet<'_>) -> Result<String, AwsError> {
        let NewSubnet { role, vpc_id, zone, ipv4, ipv6, elb_role } = *n;
        let mut req = self
            .ec2
            .create_subnet()
            .vpc_id(vpc_id)
            .cidr_block(ipv4.to_string())
            .ipv6_cidr_block(ipv6.to_string())
            .tag_specifications(owner.spec_with(ResourceType::Subnet, role, elb_role));
        // A zone id looks like "usw2-az1"; a name like "us-west-2a".
        req = if zone.contains("-az") { req.availability_zone_id(zone) } else { req.availability_zone(zone) };
        let out = sdk!("CreateSubnet", req.customize().config_override(no_retry()).send())?;
        Ok(out.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string())
    }

    pub(crate) async fn set_assign_ipv6(&self, subnet_id: &str) -> Result<(), AwsError> {
        sdk!(
            "ModifySubnetAttribute",
            self.ec2.modify_subnet_attribute().subnet_id(subnet_id).assign_ipv6_address_on_creation(yes(true)).send()
        )?;
        Ok(())
    }

    pub(crate) async fn set_map_public_ip(&self, subnet_id: &str) -> Result<(), AwsError> {
        sdk!(
            "ModifySubnetAttribute",
            self.ec2.modify_subnet_attribute().subnet_id(subnet_id).map_public_ip_on_launch(yes(true)).send()
        )?;
        Ok(())
    }

    pub(crate) async fn internet_gateways(&self, vpc_id: &str) -> Result<Vec<GatewayInfo>, AwsError> {
        let gws = sdk!(
            "DescribeInternetGateways",
            self.ec2
                .describe_internet_gateways()
                .filters(filter("attachment.vpc-id", vpc_id))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(gws
            .iter()
            .map(|g| GatewayInfo {
                id: g.internet_gateway_id().unwrap_or_default().to_string(),
                vpcs: g.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect(),
                tags: tags_of(g.tags()),
            })
            .collect())
    }

    pub(crate) async fn internet_gateways_by_plan(&self, plan_id: &str) -> Result<Vec<GatewayInfo>, AwsError> {
        let gws = sdk!(
            "DescribeInternetGateways",
            self.ec2
                .describe_internet_gateways()
                .filters(filter(&format!("tag:{TAG_PLAN}"), plan_id))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(gws
            .iter()
            .map(|g| GatewayInfo {
                id: g.internet_gateway_id().unwrap_or_default().to_string(),
                vpcs: g.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect(),
                tags: tags_of(g.tags()),
            })
            .collect())
    }

    pub(crate) async fn create_internet_gateway(&self, owner: &Owner<'_>) -> Result<String, AwsError> {
        let out = sdk!(
            "CreateInternetGateway",
            self.ec2
                .create_internet_gateway()
                .tag_specifications(owner.spec(ResourceType::InternetGateway, "internet-gateway"))
                .customize()
                .config_override(no_retry())
                .send()
        )?;
        Ok(out.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string())
    }

    pub(crate) async fn attach_internet_gateway(&self, igw: &str, vpc_id: &str) -> Result<(), AwsError> {
        sdk!(
            "AttachInternetGateway",
            self.ec2.attach_internet_gateway().internet_gateway_id(igw).vpc_id(vpc_id).send()
        )?;
        Ok(())
    }

    pub(crate) async fn egress_only_gateways(&self) -> Result<Vec<GatewayInfo>, AwsError> {
        let gws = sdk!(
            "DescribeEgressOnlyInternetGateways",
            self.ec2.describe_egress_only_internet_gateways().into_paginator().items().send().try_collect()
        )?;
        Ok(gws
            .iter()
            .map(|g| GatewayInfo {
                id: g.egress_only_internet_gateway_id().unwrap_or_default().to_string(),
                vpcs: g.attachments().iter().filter_map(|a| a.vpc_id().map(str::to_string)).collect(),
                tags: tags_of(g.tags()),
            })
            .collect())
    }

    pub(crate) async fn create_egress_only_gateway(
        &self,
        owner: &Owner<'_>,
        vpc_id: &str,
        token: &str,
    ) -> Result<String, AwsError> {
        let out = sdk!(
            "CreateEgressOnlyInternetGateway",
            self.ec2
                .create_egress_only_internet_gateway()
                .vpc_id(vpc_id)
                .client_token(token)
                .tag_specifications(owner.spec(ResourceType::EgressOnlyInternetGateway, "egress-only-gateway"))
                .send()
        )?;
        Ok(out
            .egress_only_internet_gateway()
            .and_then(|g| g.egress_only_internet_gateway_id())
            .unwrap_or_default()
            .to_string())
    }

    pub(crate) async fn nat_gateways(&self, vpc_id: &str) -> Result<Vec<NatInfo>, AwsError> {
        let nats = sdk!(
            "DescribeNatGateways",
            self.ec2
                .describe_nat_gateways()
                .filter(filter("vpc-id", vpc_id))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(nats
            .iter()
            .map(|n| NatInfo {
                id: n.nat_gateway_id().unwrap_or_default().to_string(),
                state: n.state().cloned().unwrap_or_else(|| NatGatewayState::from("")),
                tags: tags_of(n.tags()),
            })
            .collect())
    }

    pub(crate) async fn addresses_by_plan(&self, plan_id: &str) -> Result<Vec<EipInfo>, AwsError> {
        let out = sdk!(
            "DescribeAddresses",
            self.ec2.describe_addresses().filters(filter(&format!("tag:{TAG_PLAN}"), plan_id)).send()
        )?;
        Ok(out
            .addresses()
            .iter()
            .map(|a| EipInfo {
                allocation_id: a.allocation_id().unwrap_or_default().to_string(),
                tags: tags_of(a.tags()),
            })
            .collect())
    }

    pub(crate) async fn allocate_address(&self, owner: &Owner<'_>, role: &str) -> Result<String, AwsError> {
        let out = sdk!(
            "AllocateAddress",
            self.ec2
                .allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(owner.spec(ResourceType::ElasticIp, role))
                .customize()
                .config_override(no_retry())
                .send()
        )?;
        Ok(out.allocation_id().unwrap_or_default().to_string())
    }

    pub(crate) async fn create_nat_gateway(
        &self,
        owner: &Owner<'_>,
        role: &str,
        subnet_id: &str,
        allocation_id: &str,
        token: &str,
    ) -> Result<String, AwsError> {
        let out = sdk!(
            "CreateNatGateway",
            self.ec2
                .create_nat_gateway()
                .subnet_id(subnet_id)
                .allocation_id(allocation_id)
                .client_token(token)
                .tag_specifications(owner.spec(ResourceType::Natgateway, role))
                .send()
        )?;
        Ok(out.nat_gateway().and_then(|n| n.nat_gateway_id()).unwrap_or_default().to_string())
    }

    pub(crate) async fn route_tables(&self, vpc_id: &str) -> Result<Vec<RouteTableInfo>, AwsError> {
        let tables = sdk!(
            "DescribeRouteTables",
            self.ec2
                .describe_route_tables()
                .filters(filter("vpc-id", vpc_id))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(tables
            .iter()
            .map(|t| RouteTableInfo {
                id: t.route_table_id().unwrap_or_default().to_string(),
                routes: t
                    .routes()
                    .iter()
                    .filter_map(|r| {
                        let destination = r.destination_ipv6_cidr_block().or(r.destination_cidr_block())?.to_string();
                        let target = r
                            .egress_only_internet_gateway_id()
                            .or(r.nat_gateway_id())
                            .or(r.gateway_id())
                            .unwrap_or_default()
                            .to_string();
                        Some(RouteInfo { destination, target })
                    })
                    .collect(),
                associations: t
                    .associations()
                    .iter()
                    .filter_map(|a| Some((a.route_table_association_id()?.to_string(), a.subnet_id()?.to_string())))
                    .collect(),
                main: t.associations().iter().any(|a| a.main() == Some(true)),
                tags: tags_of(t.tags()),
            })
            .collect())
    }

    pub(crate) async fn create_route_table(
        &self,
        owner: &Owner<'_>,
        role: &str,
        vpc_id: &str,
    ) -> Result<String, AwsError> {
        let out = sdk!(
            "CreateRouteTable",
            self.ec2
                .create_route_table()
                .vpc_id(vpc_id)
                .tag_specifications(owner.spec(ResourceType::RouteTable, role))
                .send()
        )?;
        Ok(out.route_table().and_then(|r| r.route_table_id()).unwrap_or_default().to_string())
    }

    /// Adds a route; `target` is an internet gateway (`igw-`), egress-only gateway
    /// (`eigw-`) or NAT gateway (`nat-`).
    pub(crate) async fn create_route(&self, table: &str, destination: &str, target: &str) -> Result<(), AwsError> {
        let mut req = self.ec2.create_route().route_table_id(table);
        req = if destination.contains(':') {
            req.destination_ipv6_cidr_block(destination)
        } else {
            req.destination_cidr_block(destination)
        };
        req = if target.starts_with("eigw-") {
            req.egress_only_internet_gateway_id(target)
        } else if target.starts_with("nat-") {
            req.nat_gateway_id(target)
        } else {
            req.gateway_id(target)
        };
        match sdk!("CreateRoute", req.send()) {
            Ok(_) => Ok(()),
            // Created by an earlier attempt whose answer was lost: the route is there.
            Err(e) if e.has_code("RouteAlreadyExists") => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn associate_route_table(&self, table: &str, subnet_id: &str) -> Result<(), AwsError> {
        match sdk!(
            "AssociateRouteTable",
            self.ec2.associate_route_table().route_table_id(table).subnet_id(subnet_id).send()
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.has_code("Resource.AlreadyAssociated") => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn replace_route_table_association(
        &self,
        association_id: &str,
        table: &str,
    ) -> Result<(), AwsError> {
        sdk!(
            "ReplaceRouteTableAssociation",
            self.ec2.replace_route_table_association().association_id(association_id).route_table_id(table).send()
        )?;
        Ok(())
    }

    pub(crate) async fn security_group_rules(&self, group_id: &str) -> Result<Vec<RuleInfo>, AwsError> {
        let rules = sdk!(
            "DescribeSecurityGroupRules",
            self.ec2
                .describe_security_group_rules()
                .filters(filter("group-id", group_id))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(rules
            .iter()
            .map(|r| RuleInfo {
                id: r.security_group_rule_id().unwrap_or_default().to_string(),
                egress: r.is_egress().unwrap_or(false),
                protocol: r.ip_protocol().unwrap_or_default().to_string(),
                from_port: r.from_port().unwrap_or(-1),
                to_port: r.to_port().unwrap_or(-1),
                cidr_ipv6: r.cidr_ipv6().map(str::to_string),
                description: r.description().map(str::to_string),
                tags: tags_of(r.tags()),
            })
            .collect())
    }

    /// Opens TCP `port` from `from` on a group, tagged and described as eks6's probe rule.
    pub(crate) async fn authorize_probe(
        &self,
        owner: &Owner<'_>,
        group_id: &str,
        port: u16,
        from: &str,
    ) -> Result<Option<String>, AwsError> {
        let out = sdk!(
            "AuthorizeSecurityGroupIngress",
            self.ec2
                .authorize_security_group_ingress()
                .group_id(group_id)
                .ip_permissions(
                    IpPermission::builder()
                        .ip_protocol("tcp")
                        .from_port(i32::from(port))
                        .to_port(i32::from(port))
                        .ipv6_ranges(
                            Ipv6Range::builder().cidr_ipv6(from).description(probe_description(owner.plan_id)).build()
                        )
                        .build(),
                )
                .tag_specifications(owner.spec(ResourceType::SecurityGroupRule, "probe-rule"))
                .send()
        )?;
        Ok(out.security_group_rules().first().and_then(|r| r.security_group_rule_id()).map(str::to_string))
    }

    pub(crate) async fn revoke_ingress_rule(&self, group_id: &str, rule_id: &str) -> Result<(), AwsError> {
        sdk!(
            "RevokeSecurityGroupIngress",
            self.ec2.revoke_security_group_ingress().group_id(group_id).security_group_rule_ids(rule_id).send()
        )?;
        Ok(())
    }

    pub(crate) async fn network_interfaces(&self, vpc_id: &str) -> Result<Vec<EniInfo>, AwsError> {
        let enis = sdk!(
            "DescribeNetworkInterfaces",
            self.ec2
                .describe_network_interfaces()
                .filters(filter("vpc-id", vpc_id))
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(enis
            .iter()
            .map(|n| EniInfo {
                id: n.network_interface_id().unwrap_or_default().to_string(),
                description: n.description().unwrap_or_default().to_string(),
                subnet_id: n.subnet_id().unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// Running (or pending) instances of a nodegroup, found as EKS tags them.
    pub(crate) async fn nodegroup_instances(
        &self,
        cluster: &str,
        nodegroup: &str,
    ) -> Result<Vec<InstanceInfo>, AwsError> {
        let reservations = sdk!(
            "DescribeInstances",
            self.ec2
                .describe_instances()
                .filters(filter("tag:eks:cluster-name", cluster))
                .filters(filter("tag:eks:nodegroup-name", nodegroup))
                .filters(Filter::builder().name("instance-state-name").values("running").values("pending").build())
                .into_paginator()
                .items()
                .send()
                .try_collect()
        )?;
        Ok(reservations.iter().flat_map(|r| r.instances()).map(instance_info).collect())
    }

    /// Instances by id (running or not), in pages of the ids: the nodes' own instances
    /// wherever they come from (another nodegroup, self-managed nodes).
    pub(crate) async fn instances_by_ids(&self, ids: &[String]) -> Result<Vec<InstanceInfo>, AwsError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let reservations = sdk!(
                "DescribeInstances",
                self.ec2
                    .describe_instances()
                    .set_instance_ids(Some(chunk.to_vec()))
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
            )?;
            out.extend(reservations.iter().flat_map(|r| r.instances()).map(instance_info));
        }
        Ok(out)
    }

    // Deletes. Each treats "already gone" as done.

    pub(crate) async fn delete_nat_gateway(&self, id: &str) -> Result<(), AwsError> {
        gone_ok(sdk!("DeleteNatGateway", self.ec2.delete_nat_gateway().nat_gateway_id(id).send()).map(drop))
    }

    pub(crate) async fn release_address(&self, allocation_id: &str) -> Result<(), AwsError> {
        gone_ok(sdk!("ReleaseAddress", self.ec2.release_address().allocation_id(allocation_id).send()).map(drop))
    }

    pub(crate) async fn disassociate_route_table(&self, association_id: &str) -> Result<(), AwsError> {
        gone_ok(
            sdk!("DisassociateRouteTable", self.ec2.disassociate_route_table().association_id(association_id).send())
                .map(drop),
        )
    }

    pub(crate) async fn delete_route_table(&self, id: &str) -> Result<(), AwsError> {
        gone_ok(sdk!("DeleteRouteTable", self.ec2.delete_route_table().route_table_id(id).send()).map(drop))
    }

    pub(crate) async fn delete_egress_only_gateway(&self, id: &str) -> Result<(), AwsError> {
        gone_ok(
            sdk!(
                "DeleteEgressOnlyInternetGateway",
                self.ec2.delete_egress_only_internet_gateway().egress_only_internet_gateway_id(id).send()
            )
            .map(drop),
        )
    }

    pub(crate) async fn detach_internet_gateway(&self, id: &str, vpc_id: &str) -> Result<(), AwsError> {
        match sdk!(
            "DetachInternetGateway",
            self.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc_id).send()
        ) {
            Err(e) if e.has_code("Gateway.NotAttached") => Ok(()),
            other => gone_ok(other.map(drop)),
        }
    }

    pub(crate) async fn delete_internet_gateway(&self, id: &str) -> Result<(), AwsError> {
        gone_ok(
            sdk!("DeleteInternetGateway", self.ec2.delete_internet_gateway().internet_gateway_id(id).send()).map(drop),
        )
    }

    pub(crate) async fn delete_subnet(&self, id: &str) -> Result<(), AwsError> {
        gone_ok(sdk!("DeleteSubnet", self.ec2.delete_subnet().subnet_id(id).send()).map(drop))
    }

    pub(crate) async fn delete_vpc(&self, id: &str) -> Result<(), AwsError> {
        gone_ok(sdk!("DeleteVpc", self.ec2.delete_vpc().vpc_id(id).send()).map(drop))
    }
}

/// The description on eks6's probe rule (a second way to find it where rule tags are
/// not kept).
pub(crate) fn probe_description(plan_id: &str) -> String {
    format!("eks6 probe ({plan_id})")
}

fn gone_ok(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}
