//! Many plans at once, and a crowded existing VPC, against the local emulator: twenty
//! plans in twenty accounts run concurrently from one process without cross-talk, and
//! `up` in a VPC holding 150 foreign subnets and security groups takes only free /64s
//! and leaves every foreign resource as it was.
//!
//! The wall times of the concurrent and the one-after-another batch go to
//! `$TMPDIR/eks6-scale-figures.txt` (for `benches/README.md`); nothing asserts on them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, ResourceType, Tag};
use eks6::plan::{AzSpec, ClusterPlan};
use eks6::workflow::{Outcome, Target, VerifyOptions, down, up, verify};
use eks6_tests::emulator::{Emulator, fresh_account};
use eks6_tests::fixtures;
use ipnet::{Ipv4Net, Ipv6Net};
use tokio::task::JoinSet;

/// One test of this file at a time, so the other does not skew the measured batches.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PLANS: usize = 20;

/// Plan shapes: (availability zones, private subnets). Without private subnets the
/// nodes go in the public ones, and there is no NAT or egress-only gateway.
const SHAPES: [(u8, bool); 4] = [(2, true), (3, true), (2, false), (3, false)];

/// Plan `i` of the batch: the walkthrough under its own name, in shape `i % 4`.
fn plan(i: usize) -> ClusterPlan {
    let mut p = fixtures::walkthrough();
    let (zones, private) = SHAPES[i % SHAPES.len()];
    p.name = format!("par-{i:02}");
    p.nodegroup.name = format!("par-{i:02}-nodes");
    p.vpc.availability_zones = AzSpec::Count(zones);
    p.vpc.private_subnets = private;
    p
}

/// An inventory with the plan's cluster name written `NAME`, so that plans of one shape
/// under different names compare equal.
fn normalized(inv: BTreeMap<String, String>, plan: &ClusterPlan) -> BTreeMap<String, String> {
    inv.into_iter().map(|(k, v)| (k.replace(&plan.name, "NAME"), v)).collect()
}

/// Whose resources an account holds: every `eks6:plan-id` value on its VPCs, subnets
/// and route tables, and the names of its EKS clusters.
async fn owners(emu: &Emulator, account: &str, region: &str) -> (BTreeSet<String>, Vec<String>) {
    let (ec2, eks) = emu.sdk(account, region).await;
    let pid = |tags: &[Tag]| {
        tags.iter().find(|t| t.key() == Some("eks6:plan-id")).and_then(|t| t.value()).map(str::to_string)
    };
    let mut ids = BTreeSet::new();
    for v in ec2.describe_vpcs().send().await.unwrap().vpcs() {
        ids.extend(pid(v.tags()));
    }
    for s in ec2.describe_subnets().send().await.unwrap().subnets() {
        ids.extend(pid(s.tags()));
    }
    for t in ec2.describe_route_tables().send().await.unwrap().route_tables() {
        ids.extend(pid(t.tags()));
    }
    let mut clusters = eks.list_clusters().send().await.unwrap().clusters().to_vec();
    clusters.sort();
    (ids, clusters)
}

/// What one plan's run saw.
struct Life {
    /// The plan's inventory after `up`, normalized.
    held: BTreeMap<String, String>,
    /// [`owners`] of the account after `up`.
    owners: (BTreeSet<String>, Vec<String>),
    /// The plan's inventory after `down`.
    left: BTreeMap<String, String>,
    up: Duration,
    verify: Duration,
    down: Duration,
    calls: u64,
}

/// One plan's whole life in a fresh account of its own, with its own client and
/// journal: connect, `up`, inventory, `verify`, `down`, inventory.
async fn life(emu: &'static Emulator, plan: ClusterPlan) -> Life {
    let account = fresh_account();
    let aws = emu.aws(&account, &plan.region).await;
    let o = fixtures::fast_opts("scale", &account);
    let name = plan.name.clone();

    let t = Instant::now();
    let report = up(&aws, &plan, &o).await.unwrap_or_else(|e| panic!("up {name}: {e}"));
    let up_time = t.elapsed();
    assert_eq!((report.cluster.as_str(), report.plan_id.as_str()), (name.as_str(), plan.plan_id().as_str()));
    // A fresh account: everything is made, nothing is found (another plan's, say), but
    // coredns, which the add-ons step made and its own step waits for.
    assert!(
        report.steps.iter().all(|s| matches!(s.outcome, Outcome::Created | Outcome::Skipped) || s.step == "coredns"),
        "{name}: {:#?}",
        report.steps
    );
    // Each plan runs its own step graph: some of its steps overlapped in time.
    assert!(most_at_once(&report.steps) >= 2, "{name}: no two steps overlapped: {:#?}", report.steps);
    let held = normalized(emu.inventory(&account, &plan).await, &plan);
    let owners = owners(emu, &account, &plan.region).await;

    let t = Instant::now();
    let checked = verify(&aws, Target::Plan(&plan), &VerifyOptions::default())
        .await
        .unwrap_or_else(|e| panic!("verify {name}: {e}"));
    let verify_time = t.elapsed();
    assert_eq!(checked.cluster, name, "{checked}");
    assert!(checked.passed(), "{checked}");

    let t = Instant::now();
    let gone = down(&aws, Target::Plan(&plan), &o).await.unwrap_or_else(|e| panic!("down {name}: {e}"));
    let down_time = t.elapsed();
    assert!(most_at_once(&gone.steps) >= 2, "{name}: no two steps of down overlapped: {:#?}", gone.steps);
    assert_eq!(gone.cluster, name);
    let left = emu.inventory(&account, &plan).await;
    Life { held, owners, left, up: up_time, verify: verify_time, down: down_time, calls: aws.total_calls() }
}

/// The most steps of a report that ran at the same moment (from their start and
/// duration).
fn most_at_once(steps: &[eks6::workflow::StepReport]) -> usize {
    steps
        .iter()
        .map(|a| {
            steps.iter().filter(|b| b.started_ms <= a.started_ms && a.started_ms < b.started_ms + b.elapsed_ms).count()
        })
        .max()
        .unwrap_or(0)
}

/// The results of a batch, in plan order; a panic in a run is raised again here.
async fn joined<T: 'static>(mut set: JoinSet<(usize, T)>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        match done {
            Ok(r) => out.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

/// Mean times per plan and the total API calls of a batch.
fn summary(lives: &[Life]) -> String {
    let n = lives.len().max(1) as u32;
    let mean_ms = |total: Duration| total.as_secs_f64() * 1000.0 / f64::from(n);
    let ups: Duration = lives.iter().map(|l| l.up).sum();
    let verifies: Duration = lives.iter().map(|l| l.verify).sum();
    let downs: Duration = lives.iter().map(|l| l.down).sum();
    let calls: u64 = lives.iter().map(|l| l.calls).sum();
    format!(
        "up {:.0} ms, verify {:.0} ms, down {:.0} ms (means); {calls} API calls in all",
        mean_ms(ups),
        mean_ms(verifies),
        mean_ms(downs)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_plans_in_twenty_accounts_at_once() {
    let _alone = ALONE.lock().await;
    let emu = Emulator::shared();

    // A clean baseline per shape: each shape's plan alone, in a fresh account. (This
    // also warms the emulator up before anything is timed.)
    let mut baseline = Vec::new();
    for (s, &(zones, private)) in SHAPES.iter().enumerate() {
        let p = plan(s);
        let alone = life(emu, p.clone()).await;
        let held = alone.held;
        let subnets = held.keys().filter(|k| k.starts_with("subnet ")).count();
        assert_eq!(subnets, usize::from(zones) * (1 + usize::from(private)), "{held:#?}");
        assert_eq!(held.get("cluster NAME").map(String::as_str), Some("ACTIVE"), "{held:#?}");
        assert_eq!(held.get("nodegroup NAME-nodes").map(String::as_str), Some("ACTIVE"), "{held:#?}");
        assert_eq!(held.contains_key("nat nat/0"), private, "{held:#?}");
        assert_eq!(held.contains_key("eigw egress-only-gateway"), private, "{held:#?}");
        assert_eq!(alone.owners, (BTreeSet::from([p.plan_id()]), vec![p.name.clone()]));
        assert_eq!(alone.left, BTreeMap::new());
        baseline.push(held);
    }

    // All twenty at once.
    let started = Instant::now();
    let mut set = JoinSet::new();
    for i in 0..PLANS {
        set.spawn(async move { (i, life(emu, plan(i)).await) });
    }
    let concurrent = joined(set).await;
    let concurrent_wall = started.elapsed();

    // The same twenty one after another, in fresh accounts (each on a task of its own,
    // as in the batch).
    let started = Instant::now();
    let mut sequential = Vec::new();
    for i in 0..PLANS {
        let l = tokio::spawn(life(emu, plan(i))).await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        sequential.push(l);
    }
    let sequential_wall = started.elapsed();

    for (batch, lives) in [("concurrent", &concurrent), ("sequential", &sequential)] {
        assert_eq!(lives.len(), PLANS);
        for (i, l) in lives.iter().enumerate() {
            let p = plan(i);
            // Exactly what a clean `up` of that plan alone makes, under its own plan id;
            // nothing of any other plan in its account.
            assert_eq!(l.held, baseline[i % SHAPES.len()], "{batch} run of {}", p.name);
            assert_eq!(l.owners, (BTreeSet::from([p.plan_id()]), vec![p.name.clone()]), "{batch} run of {}", p.name);
            assert_eq!(l.left, BTreeMap::new(), "{batch} run of {}: leftovers after down", p.name);
        }
    }

    let ratio = sequential_wall.as_secs_f64() / concurrent_wall.as_secs_f64().max(f64::EPSILON);
    let figures = format!(
        "eks6 scale figures: tests/tests/scale.rs, twenty_plans_in_twenty_accounts_at_once\n\
         {PLANS} plans (2 or 3 zones, with or without private subnets), each in a fresh emulator account with its \
         own client and journal: connect, up, inventory, verify, down, inventory\n\
         concurrent (one JoinSet, 2 tokio worker threads): {:.2} s wall\n\
         one after another: {:.2} s wall\n\
         ratio (one after another / concurrent): {ratio:.2}\n\
         per plan, concurrent: {}\n\
         per plan, one after another: {}\n",
        concurrent_wall.as_secs_f64(),
        sequential_wall.as_secs_f64(),
        summary(&concurrent),
        summary(&sequential),
    );
    let path = std::env::temp_dir().join("eks6-scale-figures.txt");
    std::fs::write(&path, figures).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// `count` of the /56's 256 /64 indexes, scattered with gaps: a partial Fisher-Yates
/// shuffle driven by SplitMix64 from a fixed seed (every run takes the same ones), in
/// ascending order.
fn scattered(count: usize, seed: u64) -> Vec<u32> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut all: Vec<u32> = (0..256).collect();
    for i in 0..count {
        let j = i + (next() % (256 - i) as u64) as usize;
        all.swap(i, j);
    }
    let mut taken = all[..count].to_vec();
    taken.sort_unstable();
    taken
}

fn sorted_tags(tags: &[Tag]) -> Vec<(String, String)> {
    let mut t: Vec<(String, String)> = tags
        .iter()
        .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
        .collect();
    t.sort();
    t
}

/// The subnets and security groups of a VPC by id, each as a text that any change to
/// its blocks, zone, attributes, tags or rules alters.
#[derive(Debug, PartialEq)]
struct Contents {
    subnets: BTreeMap<String, String>,
    groups: BTreeMap<String, String>,
}

impl Contents {
    async fn of(ec2: &aws_sdk_ec2::Client, vpc: &str) -> Self {
        let in_vpc = || Filter::builder().name("vpc-id").values(vpc).build();
        let mut subnets = BTreeMap::new();
        for s in ec2.describe_subnets().filters(in_vpc()).send().await.unwrap().subnets() {
            let v6: Vec<&str> =
                s.ipv6_cidr_block_association_set().iter().filter_map(|a| a.ipv6_cidr_block()).collect();
            let text = format!(
                "{:?} {v6:?} {:?} assign6={:?} public={:?} tags={:?}",
                s.cidr_block(),
                s.availability_zone(),
                s.assign_ipv6_address_on_creation(),
                s.map_public_ip_on_launch(),
                sorted_tags(s.tags())
            );
            subnets.insert(s.subnet_id().unwrap().to_string(), text);
        }
        let mut groups = BTreeMap::new();
        for g in ec2.describe_security_groups().filters(in_vpc()).send().await.unwrap().security_groups() {
            let text = format!(
                "{:?} {:?} tags={:?} ingress={:?} egress={:?}",
                g.group_name(),
                g.description(),
                sorted_tags(g.tags()),
                g.ip_permissions(),
                g.ip_permissions_egress()
            );
            groups.insert(g.group_id().unwrap().to_string(), text);
        }
        Self { subnets, groups }
    }

    /// Only the entries of these ids.
    fn only(&self, subnets: &BTreeSet<String>, groups: &BTreeSet<String>) -> Self {
        let keep = |m: &BTreeMap<String, String>, ids: &BTreeSet<String>| -> BTreeMap<String, String> {
            m.iter().filter(|(k, _)| ids.contains(*k)).map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        Self { subnets: keep(&self.subnets, subnets), groups: keep(&self.groups, groups) }
    }
}

/// The VPC and its internet gateway as texts any change to them alters.
async fn vpc_and_gateway(ec2: &aws_sdk_ec2::Client, vpc: &str, igw: &str) -> (String, String) {
    let v = ec2.describe_vpcs().vpc_ids(vpc).send().await.unwrap();
    let v = v.vpcs().first().unwrap_or_else(|| panic!("VPC {vpc} is gone"));
    let v6: Vec<&str> = v.ipv6_cidr_block_association_set().iter().filter_map(|a| a.ipv6_cidr_block()).collect();
    let vpc_text = format!("{:?} {v6:?} tags={:?}", v.cidr_block(), sorted_tags(v.tags()));
    let g = ec2.describe_internet_gateways().internet_gateway_ids(igw).send().await.unwrap();
    let g = g.internet_gateways().first().unwrap_or_else(|| panic!("internet gateway {igw} is gone"));
    let attached: Vec<&str> = g.attachments().iter().filter_map(|a| a.vpc_id()).collect();
    (vpc_text, format!("attached to {attached:?} tags={:?}", sorted_tags(g.tags())))
}

const FOREIGN: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byo_vpc_with_150_foreign_subnets_and_security_groups() {
    let _alone = ALONE.lock().await;
    let emu = Emulator::shared();
    let account = fresh_account();
    let name = "byo-150";
    let (ec2, _) = emu.sdk(&account, "us-west-2").await;
    // Another owner's tags; `eks6:cluster` is a decoy with this plan's cluster name (but
    // not its plan id).
    let spec = |rt| fixtures::foreign_tags(rt, name);

    // The user's VPC: an Amazon-provided /56, an attached internet gateway, 150 subnets
    // on scattered /64s (and the /24 of the same index), 150 security groups.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .amazon_provided_ipv6_cidr_block(true)
        .tag_specifications(spec(ResourceType::Vpc))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    fixtures::dns_hostnames_on(&ec2, &vpc).await;
    let d = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    let block: Ipv6Net = d.vpcs()[0].ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap().parse().unwrap();
    assert_eq!(block.prefix_len(), 56);
    let igw =
        ec2.create_internet_gateway().tag_specifications(spec(ResourceType::InternetGateway)).send().await.unwrap();
    let igw = igw.internet_gateway().unwrap().internet_gateway_id().unwrap().to_string();
    ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();

    let taken = scattered(FOREIGN, 0x656b_7336);
    let zones = ["us-west-2a", "us-west-2b", "us-west-2c"];
    let mut foreign_subnets = BTreeSet::new();
    for (n, &index) in taken.iter().enumerate() {
        let v6 = eks6::net::nth_subnet(block, 64, u128::from(index)).unwrap();
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.20.{index}.0/24"))
            .ipv6_cidr_block(v6.to_string())
            .availability_zone(zones[n % zones.len()])
            .tag_specifications(spec(ResourceType::Subnet))
            .send()
            .await
            .unwrap();
        foreign_subnets.insert(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let mut foreign_groups = BTreeSet::new();
    for n in 0..FOREIGN {
        let g = ec2
            .create_security_group()
            .group_name(format!("foreign-{n:03}"))
            .description("not eks6's")
            .vpc_id(&vpc)
            .tag_specifications(spec(ResourceType::SecurityGroup))
            .send()
            .await
            .unwrap();
        foreign_groups.insert(g.group_id().unwrap().to_string());
    }
    assert_eq!((foreign_subnets.len(), foreign_groups.len()), (FOREIGN, FOREIGN));
    let before = Contents::of(&ec2, &vpc).await;
    assert_eq!(before.subnets.keys().cloned().collect::<BTreeSet<_>>(), foreign_subnets);
    assert!(foreign_groups.iter().all(|g| before.groups.contains_key(g)));
    let vpc_before = vpc_and_gateway(&ec2, &vpc, &igw).await;

    // The plan's four subnets (2 zones, public and private) take the lowest free /64s
    // and, with /24 IPv4 blocks, the lowest free /24s: the same indexes here.
    let free: Vec<u32> = (0..256).filter(|i| !taken.contains(i)).take(4).collect();
    assert!(free.iter().any(|&i| i < taken[FOREIGN - 1]), "the foreign /64s leave gaps below the highest");

    // Bring your own VPC, eks6 makes the subnets (the mode of
    // `existing_vpc_gets_free_64s_and_keeps_its_subnets` in workflow.rs).
    let mut plan = fixtures::walkthrough();
    plan.name = name.into();
    plan.nodegroup.name = format!("{name}-nodes");
    plan.vpc.id = Some(vpc.clone());
    plan.vpc.ipv4_cidr = "10.20.0.0/16".into();
    plan.vpc.ipv4_subnet_len = 24;
    let aws = emu.aws(&account, &plan.region).await;
    let o = fixtures::fast_opts("scale", &account);
    let report = up(&aws, &plan, &o).await.unwrap();
    let outcome = |step: &str| report.steps.iter().find(|s| s.step == step).map(|s| s.outcome);
    assert_eq!(outcome("vpc"), Some(Outcome::Found));
    assert_eq!(outcome("subnets"), Some(Outcome::Created));
    assert_eq!(outcome("internet-gateway"), Some(Outcome::Found), "the VPC's own gateway is used");
    assert_eq!(report.resources.get("internet-gateway"), Some(&igw));

    let mine = ec2
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("tag:eks6:plan-id").values(plan.plan_id()).build())
        .send()
        .await
        .unwrap();
    let mut got6 = Vec::new();
    let mut got4 = Vec::new();
    for s in mine.subnets() {
        assert!(!foreign_subnets.contains(s.subnet_id().unwrap()));
        let v6: Ipv6Net = s.ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap().parse().unwrap();
        assert!(v6.prefix_len() == 64 && block.contains(&v6), "{v6} in {block}");
        got6.push(((v6.network().to_bits() - block.network().to_bits()) >> 64) as u32);
        let v4: Ipv4Net = s.cidr_block().unwrap().parse().unwrap();
        assert_eq!(v4.prefix_len(), 24);
        got4.push(u32::from(v4.network().octets()[2]));
    }
    got6.sort_unstable();
    got4.sort_unstable();
    assert!(got6.iter().all(|i| !taken.contains(i)), "a /64 of a foreign subnet was reused: {got6:?}");
    assert_eq!(got6, free, "eks6's /64s are the lowest free ones");
    assert_eq!(got4, free, "eks6's /24s are the lowest free ones");

    // Only eks6's own resources carry the plan id: not the VPC, not the user's gateway.
    let inv = emu.inventory(&account, &plan).await;
    assert_eq!(inv.keys().filter(|k| k.starts_with("subnet ")).count(), 4, "{inv:#?}");
    assert!(!inv.keys().any(|k| k.starts_with("vpc ") || k.starts_with("igw ")), "{inv:#?}");
    assert_eq!(inv.get(&format!("cluster {name}")).map(String::as_str), Some("ACTIVE"), "{inv:#?}");
    assert_eq!(inv.get(&format!("nodegroup {name}-nodes")).map(String::as_str), Some("ACTIVE"), "{inv:#?}");
    let foreign = before.only(&foreign_subnets, &foreign_groups);
    assert_eq!(Contents::of(&ec2, &vpc).await.only(&foreign_subnets, &foreign_groups), foreign, "after up");

    let checked = verify(&aws, Target::Plan(&plan), &VerifyOptions::default()).await.unwrap();
    assert_eq!(checked.cluster, name);
    assert!(checked.passed(), "{checked}");

    down(&aws, Target::Plan(&plan), &o).await.unwrap();
    // Exactly the user's subnets and security groups remain (plus the VPC's default
    // group), each unchanged; the VPC and its gateway too.
    let after = Contents::of(&ec2, &vpc).await;
    assert_eq!(after, before, "after down");
    assert_eq!(after.only(&foreign_subnets, &foreign_groups).groups.len(), FOREIGN);
    assert_eq!(vpc_and_gateway(&ec2, &vpc, &igw).await, vpc_before);
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}
