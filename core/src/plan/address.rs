//! The address plan: which /64 and which IPv4 block each subnet gets.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use super::{ClusterPlan, PlanError, SCHEMA_VERSION};
use crate::net::{PrefixAllocator, subnet_count};

/// Public or private.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubnetKind {
    /// Routes to the internet gateway.
    Public,
    /// IPv6 egress through the egress-only gateway, IPv4 through NAT.
    Private,
}

impl fmt::Display for SubnetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Public => "public",
            Self::Private => "private",
        })
    }
}

/// One subnet of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetPlan {
    /// Stable key, `public-0`, `private-1`, ...: the subnet's ownership tag `eks6:role`.
    pub key: String,
    /// Public or private.
    pub kind: SubnetKind,
    /// Index of the zone in the plan's zone list.
    pub zone_index: usize,
    /// Zone name or id (a placeholder such as `zone-1` before the region is asked).
    pub zone: String,
    /// IPv4 block.
    pub ipv4: Ipv4Net,
    /// The /64, once the VPC's /56 is known.
    pub ipv6: Option<Ipv6Net>,
    /// Index of the /64 within the VPC's /56.
    pub ipv6_index: u128,
    /// How many /80 node prefixes (one per ENI under prefix delegation) the /64 holds.
    pub node_prefixes: u128,
}

/// The address plan of a new VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressPlan {
    /// JSON schema version.
    pub schema_version: u32,
    /// The VPC's IPv4 block.
    pub vpc_ipv4: Ipv4Net,
    /// The VPC's Amazon-provided /56, once known.
    pub vpc_ipv6: Option<Ipv6Net>,
    /// The subnets, public first, each kind in zone order.
    pub subnets: Vec<SubnetPlan>,
}

/// An IPv4 network mapped into `::ffff:0:0/96`, so one allocator serves both families.
fn v4_to_v6(n: Ipv4Net) -> Ipv6Net {
    Ipv6Net::new_assert(n.network().to_ipv6_mapped(), 96 + n.prefix_len())
}

fn v6_to_v4(n: Ipv6Net) -> Ipv4Net {
    let bits = n.network().to_bits() as u32;
    Ipv4Net::new_assert(Ipv4Addr::from_bits(bits), n.prefix_len() - 96)
}

/// A stand-in /56 while the VPC's real block is unknown: indexes are what matter.
const PLACEHOLDER_56: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::UNSPECIFIED, 56);

impl ClusterPlan {
    /// Carves the plan's subnets: one /64 per subnet per zone from the VPC's /56 (or
    /// indexes only, while it is unknown) and one IPv4 block each from `vpc.ipv4_cidr`,
    /// skipping blocks already used in an existing VPC.
    ///
    /// `zones` names the zones in order; missing names become `zone-1`, `zone-2`, ...
    ///
    /// ```
    /// use eks6::plan::ClusterPlan;
    /// let plan = ClusterPlan::from_toml(r#"
    ///     name = "c"
    ///     region = "us-west-2"
    ///     kubernetes_version = "1.35"
    ///     [nodegroup]
    ///     name = "ng"
    /// "#)?;
    /// let vpc = "2600:1f13:812::/56".parse().unwrap();
    /// let used = ["2600:1f13:812::/64".parse().unwrap()];
    /// let ap = plan.address_plan(Some(vpc), &[], &used, &[])?;
    /// assert_eq!(ap.subnets.len(), 4);
    /// assert_eq!(ap.subnets[0].ipv6.unwrap().to_string(), "2600:1f13:812:1::/64");
    /// assert_eq!(ap.subnets[0].ipv4.to_string(), "10.0.0.0/20");
    /// assert_eq!(ap.subnets[0].node_prefixes, 65_536);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn address_plan(
        &self,
        vpc_ipv6: Option<Ipv6Net>,
        zones: &[String],
        used_ipv6: &[Ipv6Net],
        used_ipv4: &[Ipv4Net],
    ) -> Result<AddressPlan, PlanError> {
        let Ok(vpc_ipv4) = self.vpc.ipv4_cidr.parse::<Ipv4Net>().map(|n| n.trunc()) else {
            return Err(PlanError::Invalid { name: self.name.clone(), findings: self.validate().findings });
        };
        // A subnet length outside the VPC's block and /28 is the rule `subnet-ipv4-fit`;
        // the plan may not have been validated (`eks6 plan`, the bindings), so check here.
        let len4 = self.vpc.ipv4_subnet_len;
        if len4 < vpc_ipv4.prefix_len() || len4 > 28 {
            return Err(PlanError::Invalid { name: self.name.clone(), findings: self.validate().findings });
        }
        let parent6 = vpc_ipv6.map(|n| n.trunc()).unwrap_or(PLACEHOLDER_56);
        let mut alloc6 = PrefixAllocator::new(parent6, used_ipv6)?;
        let used4: Vec<Ipv6Net> = used_ipv4.iter().map(|n| v4_to_v6(n.trunc())).collect();
        let mut alloc4 = PrefixAllocator::new(v4_to_v6(vpc_ipv4), &used4)?;
        let zone_count = self.vpc.availability_zones.len().max(zones.len());
        let zone_name = |i: usize| zones.get(i).cloned().unwrap_or_else(|| format!("zone-{}", i + 1));
        let mut subnets = Vec::new();
        for (kind, on) in
            [(SubnetKind::Public, self.vpc.public_subnets), (SubnetKind::Private, self.vpc.private_subnets)]
        {
            if !on {
                continue;
            }
            for z in 0..zone_count {
                let v6 = alloc6.allocate(64)?;
                let v4 = alloc4.allocate(96 + len4)?;
                let ipv6_index = (v6.network().to_bits() - parent6.network().to_bits()) >> 64;
                subnets.push(SubnetPlan {
                    key: format!("{kind}-{z}"),
                    kind,
                    zone_index: z,
                    zone: zone_name(z),
                    ipv4: v6_to_v4(v4),
                    ipv6: vpc_ipv6.map(|_| v6),
                    ipv6_index,
                    node_prefixes: subnet_count(v6, 80)?,
                });
            }
        }
        Ok(AddressPlan { schema_version: SCHEMA_VERSION, vpc_ipv4, vpc_ipv6, subnets })
    }
}

impl fmt::Display for AddressPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.vpc_ipv6 {
            Some(v6) => writeln!(f, "VPC      {}  {}", self.vpc_ipv4, v6)?,
            None => writeln!(f, "VPC      {}  (Amazon-provided /56, known once the VPC exists)", self.vpc_ipv4)?,
        }
        writeln!(f, "{:<11} {:<8} {:<14} {:<18} {:<28} {:>10}", "subnet", "kind", "zone", "IPv4", "IPv6", "node /80s")?;
        for s in &self.subnets {
            let v6 = match s.ipv6 {
                Some(n) => n.to_string(),
                None => format!("/64 #{} of the /56", s.ipv6_index),
            };
            writeln!(
                f,
                "{:<11} {:<8} {:<14} {:<18} {:<28} {:>10}",
                s.key,
                s.kind.to_string(),
                s.zone,
                s.ipv4.to_string(),
                v6,
                s.node_prefixes
            )?;
        }
        Ok(())
    }
}
