//! Plan text in (TOML and JSON), and everything the offline `eks6 plan` command does
//! with a loaded plan:
//!
//! - `from_toml` / `from_json` never panic; their errors render;
//! - on a loaded plan (valid or not: `eks6 plan` carves the address plan before it
//!   stops on findings), `validate_at`, `address_plan` offline and with a /56, and the
//!   address plan's text never panic;
//! - a carved address plan has one subnet per kind and zone, distinct /64s inside the
//!   /56 and disjoint IPv4 blocks inside the VPC block;
//! - `to_toml` then `from_toml`, and JSON out and back, give an equal plan
//!   (`ClusterPlan: PartialEq`).
#![no_main]

use eks6::net::Ipv6Net;
use eks6::plan::{AzSpec, ClusterPlan, Date};
use libfuzzer_sys::fuzz_target;

/// A fixed date, so that a run does not depend on the clock.
const TODAY: Date = Date::new(2026, 1, 1);

fn check(plan: &ClusterPlan, origin: &str) {
    let v = plan.validate_at(TODAY);
    for f in &v.findings {
        let _ = f.to_string();
    }
    let _ = v.has_errors();
    let _ = plan.plan_id();

    // As `eks6 plan` calls it: zone names from the plan, nothing used yet.
    let zones: Vec<String> = match &plan.vpc.availability_zones {
        AzSpec::Names(n) => n.clone(),
        AzSpec::Count(_) => Vec::new(),
    };
    let vpc: Ipv6Net = "2600:1f13:812::/56".parse().unwrap();
    for vpc_ipv6 in [None, Some(vpc)] {
        match plan.address_plan(vpc_ipv6, &zones, &[], &[]) {
            Ok(ap) => {
                let _ = ap.to_string();
                let kinds = usize::from(plan.vpc.public_subnets) + usize::from(plan.vpc.private_subnets);
                let zone_count = plan.vpc.availability_zones.len().max(zones.len());
                assert_eq!(ap.subnets.len(), kinds * zone_count, "{origin}");
                for (i, a) in ap.subnets.iter().enumerate() {
                    assert!(ap.vpc_ipv4.contains(&a.ipv4), "{} outside {} ({origin})", a.ipv4, ap.vpc_ipv4);
                    assert_eq!(a.ipv6.is_some(), vpc_ipv6.is_some());
                    if let Some(n) = a.ipv6 {
                        assert!(vpc.contains(&n) && n.prefix_len() == 64, "{n} ({origin})");
                    }
                    for b in &ap.subnets[..i] {
                        assert_ne!(a.ipv6_index, b.ipv6_index, "two subnets share a /64 ({origin})");
                        assert!(
                            !a.ipv4.contains(&b.ipv4) && !b.ipv4.contains(&a.ipv4),
                            "{} and {} overlap ({origin})",
                            a.ipv4,
                            b.ipv4
                        );
                    }
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    let toml = plan.to_toml();
    let back = ClusterPlan::from_toml(&toml)
        .unwrap_or_else(|e| panic!("to_toml gave text that does not load: {e}\n--- text:\n{toml}\n--- from {origin}"));
    assert_eq!(&back, plan, "TOML round trip changed the plan\n--- text:\n{toml}\n--- from {origin}");

    let json = serde_json::to_string(plan).expect("a plan serializes to JSON");
    let back = ClusterPlan::from_json(&json)
        .unwrap_or_else(|e| panic!("JSON of the plan does not load: {e}\n--- text:\n{json}\n--- from {origin}"));
    assert_eq!(&back, plan, "JSON round trip changed the plan\n--- text:\n{json}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    match ClusterPlan::from_toml(s) {
        Ok(plan) => check(&plan, "TOML"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match ClusterPlan::from_json(s) {
        Ok(plan) => check(&plan, "JSON"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
