//! `up` and `down` against the local emulator: idempotent, resumable after a crash at
//! any step, and touching nothing another owner has.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ec2::types::{Filter, ResourceType};
use eks6::plan::ClusterPlan;
use eks6::workflow::{Cancel, Event, EventKind, Outcome, RunOptions, Target, UpStep, WorkflowError, down, up};
use eks6_tests::emulator::{Emulator, fresh_account};
use eks6_tests::fixtures;

/// The step names, from the library's table.
fn steps_of_up() -> Vec<&'static str> {
    UpStep::all().iter().map(|s| s.name()).collect()
}

fn plan() -> ClusterPlan {
    fixtures::walkthrough()
}

fn opts(account: &str) -> RunOptions {
    fixtures::fast_opts("tests", account)
}

fn recording(o: RunOptions) -> (RunOptions, Arc<Mutex<Vec<Event>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    (o.with_events(move |e| l.lock().unwrap().push(e.clone())), log)
}

fn steps(report: &eks6::workflow::RunReport) -> Vec<(String, Outcome)> {
    report.steps.iter().map(|s| (s.step.clone(), s.outcome)).collect()
}

/// A VPC of another owner in the same account, with an egress-only gateway and a
/// security group: `down` must leave them.
async fn foreign(emu: &Emulator, account: &str) -> (String, String, String) {
    let (ec2, _) = emu.sdk(account, "us-west-2").await;
    let spec = |rt| fixtures::foreign_tags(rt, "AWSNewsBlog");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .amazon_provided_ipv6_cidr_block(true)
        .tag_specifications(spec(ResourceType::Vpc))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let eigw = ec2
        .create_egress_only_internet_gateway()
        .vpc_id(&vpc)
        .tag_specifications(spec(ResourceType::EgressOnlyInternetGateway))
        .send()
        .await
        .unwrap();
    let eigw = eigw.egress_only_internet_gateway().unwrap().egress_only_internet_gateway_id().unwrap().to_string();
    let sg =
        ec2.create_security_group().group_name("foreign").description("not eks6's").vpc_id(&vpc).send().await.unwrap();
    (vpc, eigw, sg.group_id().unwrap().to_string())
}

async fn foreign_intact(emu: &Emulator, account: &str, ids: &(String, String, String)) {
    let (ec2, _) = emu.sdk(account, "us-west-2").await;
    assert_eq!(ec2.describe_vpcs().vpc_ids(&ids.0).send().await.unwrap().vpcs().len(), 1, "foreign VPC deleted");
    let eigws = ec2.describe_egress_only_internet_gateways().send().await.unwrap();
    assert!(
        eigws
            .egress_only_internet_gateways()
            .iter()
            .any(|g| g.egress_only_internet_gateway_id() == Some(ids.1.as_str())),
        "foreign egress-only gateway deleted"
    );
    assert_eq!(ec2.describe_security_groups().group_ids(&ids.2).send().await.unwrap().security_groups().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_twice_then_down_leaves_nothing_and_foreign_intact() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let plan = plan();
    let foreign_ids = foreign(emu, &account).await;
    let aws = emu.aws(&account, &plan.region).await;
    let (o, events) = recording(opts(&account));

    let first = up(&aws, &plan, &o).await.unwrap();
    assert_eq!(first.steps.len(), steps_of_up().len());
    // Everything made, but the admins' entries (the plan names none), the sample (the
    // plan has none) and coredns, which the add-ons step made and this one only waits for.
    let expected = |step: &str| match step {
        "access" | "sample" => Outcome::Skipped,
        "coredns" => Outcome::Found,
        _ => Outcome::Created,
    };
    assert!(first.steps.iter().all(|s| s.outcome == expected(&s.step)), "{:#?}", steps(&first));
    let inv = emu.inventory(&account, &plan).await;
    assert_eq!(inv.get("cluster AWSNewsBlog").map(String::as_str), Some("ACTIVE"));
    assert_eq!(inv.get("nodegroup AWSNewsBlog-nodegroup").map(String::as_str), Some("ACTIVE"));
    assert_eq!(inv.keys().filter(|k| k.starts_with("subnet ")).count(), 4, "{inv:#?}");
    assert!(
        inv.iter().filter(|(k, _)| k.starts_with("subnet ")).all(|(_, v)| v.starts_with("64 assign6=Some(true)")),
        "{inv:#?}"
    );
    assert_eq!(
        inv.get("subnet subnet/public-0").unwrap(),
        "64 assign6=Some(true) public=Some(true) [\"kubernetes.io/role/elb\"]"
    );
    assert_eq!(
        inv.get("subnet subnet/private-0").unwrap(),
        "64 assign6=Some(true) public=Some(false) [\"kubernetes.io/role/internal-elb\"]"
    );
    assert_eq!(inv.get("rtb route-table/public").unwrap(), "[\"0.0.0.0/0\", \"::/0\"] assoc=2");
    assert_eq!(inv.get("rtb route-table/private-1").unwrap(), "[\"0.0.0.0/0\", \"::/0\"] assoc=1");
    assert_eq!(inv.get("rule Some(80)").map(String::as_str), Some("::/0"), "{inv:#?}");
    assert!(
        inv.contains_key("nat nat/0") && inv.contains_key("eip eip/0") && inv.contains_key("eigw egress-only-gateway")
    );
    // Progress events: started/finished per step, and waits while CREATING.
    {
        let ev = events.lock().unwrap();
        let finished = ev.iter().filter(|e| matches!(e.kind, EventKind::StepFinished { .. })).count();
        assert_eq!(finished, steps_of_up().len());
        assert!(ev.iter().any(|e| matches!(&e.kind, EventKind::Waiting { status, .. } if status == "CREATING")));
    }
    // The journal names what was made.
    let j = eks6::workflow::Journal::load(&o.journal).unwrap().unwrap();
    assert_eq!(j.resources.get("cluster").unwrap().id, "AWSNewsBlog");
    assert!(j.resources.get("vpc").unwrap().id.starts_with("vpc-"));

    // Again: nothing new.
    let calls_before = aws.total_calls();
    let second = up(&aws, &plan, &o).await.unwrap();
    assert!(
        second.steps.iter().all(|s| s.outcome
            == if matches!(s.step.as_str(), "access" | "sample") { Outcome::Skipped } else { Outcome::Found }),
        "{:#?}",
        steps(&second)
    );
    assert_eq!(emu.inventory(&account, &plan).await, inv);
    let second_calls = aws.total_calls() - calls_before;
    assert!(second_calls < first.api_calls, "re-run made {second_calls} calls, first {}", first.api_calls);

    let gone = down(&aws, Target::Plan(&plan), &o).await.unwrap();
    assert!(gone.steps.iter().any(|s| s.outcome == Outcome::Deleted));
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
    foreign_intact(emu, &account, &foreign_ids).await;
    assert!(!o.journal.exists(), "a complete down removes the journal");
    // And again: nothing to do.
    let again = down(&aws, Target::Plan(&plan), &o).await.unwrap();
    assert!(again.steps.iter().all(|s| s.outcome == Outcome::Skipped), "{:#?}", steps(&again));
}

/// `up` stopped right after `step` (the cancel handle fires from the event sink, as a
/// crash there would leave things; steps in flight beside it stop at their next wait or
/// end). Returns the steps that finished.
async fn up_stopped_after(aws: &eks6::aws::Aws, plan: &ClusterPlan, account: &str, step: &'static str) -> Vec<String> {
    let cancel = Cancel::new();
    let c = cancel.clone();
    let finished = Arc::new(Mutex::new(Vec::new()));
    let f = finished.clone();
    let o = opts(account).with_cancel(cancel).with_events(move |e| {
        if let EventKind::StepFinished { step: s, .. } = &e.kind {
            f.lock().unwrap().push(s.clone());
            if s == step {
                c.cancel();
            }
        }
    });
    match up(aws, plan, &o).await {
        Err(WorkflowError::Cancelled { .. }) => {}
        // The last step to end (the graph may end another after the named one).
        Ok(r) => assert_eq!(r.steps.len(), steps_of_up().len(), "up stopped after {step}"),
        other => panic!("up stopped after {step}: {other:?}"),
    }
    let done = finished.lock().unwrap().clone();
    assert!(done.iter().any(|s| s == step), "{step} never finished: {done:?}");
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_each_step_then_up_resumes_to_the_same_state() {
    let emu = Emulator::shared();
    let plan = plan();
    // The state one clean `up` makes.
    let clean_account = fresh_account();
    let aws = emu.aws(&clean_account, &plan.region).await;
    up(&aws, &plan, &opts(&clean_account)).await.unwrap();
    let clean = emu.inventory(&clean_account, &plan).await;
    down(&aws, Target::Plan(&plan), &opts(&clean_account)).await.unwrap();

    let runs = steps_of_up().into_iter().map(|step| {
        let (plan, clean) = (plan.clone(), clean.clone());
        async move {
            let account = fresh_account();
            let aws = emu.aws(&account, &plan.region).await;
            let done = up_stopped_after(&aws, &plan, &account, step).await;
            let partial = emu.inventory(&account, &plan).await;
            let resumed = up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("resume after {step}: {e}"));
            // Steps done before the stop are found, not made again.
            for s in resumed.steps.iter().filter(|s| done.contains(&s.step)) {
                assert_ne!(s.outcome, Outcome::Created, "after a stop at {step}, {} was created again", s.step);
            }
            assert!(!partial.is_empty());
            assert_eq!(emu.inventory(&account, &plan).await, clean, "state after a stop at {step}");
            down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
            assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new(), "leftovers after a stop at {step}");
        }
    });
    futures_join(runs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_after_each_partial_up_leaves_nothing() {
    let emu = Emulator::shared();
    let plan = plan();
    let runs = steps_of_up().into_iter().map(|step| {
        let plan = plan.clone();
        async move {
            let account = fresh_account();
            let aws = emu.aws(&account, &plan.region).await;
            up_stopped_after(&aws, &plan, &account, step).await;
            down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap_or_else(|e| panic!("down after {step}: {e}"));
            assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new(), "leftovers after a stop at {step}");
        }
    });
    futures_join(runs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_journal_still_finds_everything_by_tags() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let plan = plan();
    let aws = emu.aws(&account, &plan.region).await;
    let o = opts(&account);
    up(&aws, &plan, &o).await.unwrap();
    let inv = emu.inventory(&account, &plan).await;
    std::fs::remove_file(&o.journal).unwrap();
    let again = up(&aws, &plan, &o).await.unwrap();
    assert!(again.steps.iter().all(|s| s.outcome != Outcome::Created), "{:#?}", steps(&again));
    assert_eq!(emu.inventory(&account, &plan).await, inv);
    std::fs::remove_file(&o.journal).unwrap();
    // `down --cluster NAME --region R`: tags alone, no plan, no journal.
    down(&aws, Target::Cluster { name: "AWSNewsBlog", region: "us-west-2" }, &o).await.unwrap();
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_emulator_skips_the_probe_rule_with_a_finding() {
    let emu = Emulator::plain();
    let account = fresh_account();
    // Plain moto has no add-on API: EKS's own bootstrap is the choice that works there.
    let mut plan = plan();
    plan.cluster.addons = eks6::plan::AddonMode::SelfManaged;
    let aws = emu.aws(&account, &plan.region).await;
    let report = up(&aws, &plan, &opts(&account)).await.unwrap();
    let probe = report.steps.iter().find(|s| s.step == "probe-rule").unwrap();
    assert_eq!(probe.outcome, Outcome::Skipped);
    let f = report.findings.iter().find(|f| f.rule == "cluster-security-group").expect("a finding says why");
    assert!(f.message.contains("clusterSecurityGroupId"), "{}", f.message);
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_mismatch_and_lock_are_refused_before_any_call() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let plan = plan();
    let aws = emu.aws(&account, "eu-west-1").await;
    let err = up(&aws, &plan, &opts(&account)).await.unwrap_err();
    assert!(matches!(err, WorkflowError::RegionMismatch { .. }), "{err}");
    assert_eq!(err.kind(), eks6::ErrorKind::RegionMismatch);
    assert_eq!(aws.total_calls(), 0);

    // The plan's lock in this account, held by another run: refused after the one call
    // that names the account, before any other.
    let aws = emu.aws(&account, &plan.region).await;
    let o = opts(&account);
    let locks = eks6::workflow::state_dir().join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    let lock_path = locks.join(format!("{account}-{}.lock", plan.plan_id()));
    let held = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).unwrap();
    held.lock().unwrap();
    let err = up(&aws, &plan, &o).await.unwrap_err();
    assert!(matches!(err, WorkflowError::Locked { .. }), "{err}");
    assert_eq!(aws.call_counts(), [("STS:GetCallerIdentity".to_string(), 1)].into_iter().collect());
    // Whatever the journal: another path is the same plan, the same lock.
    let elsewhere = opts(&account).with_timeout(None);
    let elsewhere = RunOptions { journal: o.journal.with_extension("other.json"), ..elsewhere };
    assert!(matches!(up(&aws, &plan, &elsewhere).await.unwrap_err(), WorkflowError::Locked { .. }));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_plan_is_rejected_offline() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let mut plan = fixtures::walkthrough();
    plan.iam.cluster_role = eks6::plan::RoleSpec::Arn("arn:aws:iam::0123456789:role/EKSClusterRole".into());
    let aws = emu.aws(&account, &plan.region).await;
    let err = up(&aws, &plan, &opts(&account)).await.unwrap_err();
    assert_eq!(err.kind(), eks6::ErrorKind::PlanRejected);
    assert!(err.to_string().contains("iam.cluster_role"), "{err}");
    assert_eq!(aws.total_calls(), 0);
}

async fn futures_join<F: std::future::Future<Output = ()> + Send + 'static>(runs: impl Iterator<Item = F>) {
    let handles: Vec<_> = runs.map(tokio::spawn).collect();
    for h in handles {
        h.await.unwrap();
    }
}

/// A VPC of the user's own with an IPv6 /56 and subnets: `n` of them, each a /64, the
/// first two in two zones with auto-assign as given.
async fn byo_vpc(
    emu: &Emulator,
    account: &str,
    n: usize,
    auto_assign: [bool; 2],
) -> (String, Vec<String>, ipnet::Ipv6Net) {
    let (ec2, _) = emu.sdk(account, "us-west-2").await;
    let vpc = ec2.create_vpc().cidr_block("10.20.0.0/16").amazon_provided_ipv6_cidr_block(true).send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    fixtures::dns_hostnames_on(&ec2, &vpc).await;
    let d = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    let block: ipnet::Ipv6Net =
        d.vpcs()[0].ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap().parse().unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        // Taken: /64 #0, #1, #3, ... (every index but 2), so the plan's must fit around them.
        let index = if i < 2 { i } else { i + 1 };
        let v6 = eks6::net::nth_subnet(block, 64, index as u128).unwrap();
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.20.{i}.0/24"))
            .ipv6_cidr_block(v6.to_string())
            .availability_zone(if i % 2 == 0 { "us-west-2a" } else { "us-west-2b" })
            .send()
            .await
            .unwrap();
        let id = s.subnet().unwrap().subnet_id().unwrap().to_string();
        if auto_assign.get(i).copied().unwrap_or(false) {
            ec2.modify_subnet_attribute()
                .subnet_id(&id)
                .assign_ipv6_address_on_creation(
                    aws_sdk_ec2::types::AttributeBooleanValue::builder().value(true).build(),
                )
                .send()
                .await
                .unwrap();
        }
        ids.push(id);
    }
    (vpc, ids, block)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bring_your_own_subnets_are_checked_used_and_never_deleted() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let (vpc, subnets, _) = byo_vpc(emu, &account, 2, [true, false]).await;
    let text = fixtures::walkthrough_text(&plan().kubernetes_version);
    let byo = format!("[vpc]\nid = \"{vpc}\"\nsubnet_ids = [\"{}\", \"{}\"]\n", subnets[0], subnets[1]);
    let plan = ClusterPlan::from_toml(
        &text.replace("[vpc]                      # omit `id` to create a new dual-stack VPC", &byo),
    )
    .unwrap();
    let aws = emu.aws(&account, &plan.region).await;
    // Auto-assign is off on the second subnet: stop before any write, and say where.
    let err = up(&aws, &plan, &opts(&account)).await.unwrap_err();
    let WorkflowError::Refused { findings } = &err else { panic!("{err}") };
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].field, "vpc.subnet_ids[1]");
    assert!(
        findings[0].message.contains(&subnets[1]) && findings[0].message.contains("Ec2SubnetMissingIpv6Assignment")
    );
    let (_, eks) = emu.sdk(&account, &plan.region).await;
    assert!(eks.describe_cluster().name("AWSNewsBlog").send().await.is_err(), "no cluster was created");

    // Allowed to turn it on: up works on the user's network.
    let byo_on = format!("{byo}enable_auto_assign_ipv6 = true\n");
    let plan = ClusterPlan::from_toml(
        &text.replace("[vpc]                      # omit `id` to create a new dual-stack VPC", &byo_on),
    )
    .unwrap();
    let report = up(&aws, &plan, &opts(&account)).await.unwrap();
    let skipped: Vec<_> =
        report.steps.iter().filter(|s| s.outcome == Outcome::Skipped).map(|s| s.step.as_str()).collect();
    // The user's own routing, no admins to add, no sample.
    assert_eq!(
        skipped,
        ["internet-gateway", "egress-only-gateway", "nat-gateways", "route-tables", "access", "sample"]
    );
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
    let (ec2, _) = emu.sdk(&account, &plan.region).await;
    assert_eq!(ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap().vpcs().len(), 1, "the user's VPC is kept");
    let left = ec2.describe_subnets().set_subnet_ids(Some(subnets.clone())).send().await.unwrap();
    assert_eq!(left.subnets().len(), 2, "the user's subnets are kept");
    assert!(left.subnets().iter().all(|s| s.assign_ipv6_address_on_creation() == Some(true)));
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_vpc_gets_free_64s_and_keeps_its_subnets() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let (vpc, foreign_subnets, block) = byo_vpc(emu, &account, 5, [true, true]).await;
    let text = fixtures::walkthrough_text(&plan().kubernetes_version);
    let plan = ClusterPlan::from_toml(&text.replace(
        "[vpc]                      # omit `id` to create a new dual-stack VPC\nipv4_cidr = \"10.0.0.0/16\"",
        &format!("[vpc]\nid = \"{vpc}\"\nipv4_cidr = \"10.20.0.0/16\""),
    ))
    .unwrap();
    let aws = emu.aws(&account, &plan.region).await;
    up(&aws, &plan, &opts(&account)).await.unwrap();
    let (ec2, _) = emu.sdk(&account, &plan.region).await;
    let all =
        ec2.describe_subnets().filters(Filter::builder().name("vpc-id").values(&vpc).build()).send().await.unwrap();
    let mut taken: Vec<u128> = Vec::new();
    for s in all.subnets() {
        let v6: ipnet::Ipv6Net = s.ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap().parse().unwrap();
        assert!(block.contains(&v6));
        taken.push((v6.network().to_bits() - block.network().to_bits()) >> 64);
    }
    taken.sort();
    // The user's: 0, 1, 3, 4, 5; the plan's four take the lowest free: 2, 6, 7, 8.
    assert_eq!(taken, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
    let left =
        ec2.describe_subnets().filters(Filter::builder().name("vpc-id").values(&vpc).build()).send().await.unwrap();
    let mut left: Vec<String> = left.subnets().iter().map(|s| s.subnet_id().unwrap().to_string()).collect();
    left.sort();
    let mut want = foreign_subnets.clone();
    want.sort();
    assert_eq!(left, want, "exactly the user's subnets remain");
    assert_eq!(ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap().vpcs().len(), 1);
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}

/// Ingress rules on the cluster security group, other than EKS's own rule from the group
/// itself, as (protocol, from, to, IPv6 source, IPv4 source).
async fn opened_ingress(emu: &Emulator, account: &str, cluster: &str) -> Vec<(String, i32, i32, String, String)> {
    let (ec2, eks) = emu.sdk(account, "us-west-2").await;
    let c = eks.describe_cluster().name(cluster).send().await.unwrap();
    let sg = c.cluster().unwrap().resources_vpc_config().unwrap().cluster_security_group_id().unwrap().to_string();
    let rules = ec2
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(&sg).build())
        .send()
        .await
        .unwrap();
    rules
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false) && r.referenced_group_info().is_none())
        .map(|r| {
            (
                r.ip_protocol().unwrap_or_default().to_string(),
                r.from_port().unwrap_or(-1),
                r.to_port().unwrap_or(-1),
                r.cidr_ipv6().unwrap_or_default().to_string(),
                r.cidr_ipv4().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Least privilege: the only ingress eks6 opens is the probe port from the plan's
/// `allow_from` on the cluster security group, and only when the plan has a probe; eks6
/// makes no security group of its own; `down` revokes exactly that one rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_only_ingress_opened_is_the_probe_port_and_down_revokes_it() {
    let emu = Emulator::shared();
    let with_probe = fixtures::walkthrough();
    let text = toml_without_probe(&with_probe);
    let without = ClusterPlan::from_toml(&text).unwrap();
    assert!(without.probe.is_none());

    let (a1, a2) = (fresh_account(), fresh_account());
    let (aws1, aws2) = (emu.aws(&a1, "us-west-2").await, emu.aws(&a2, "us-west-2").await);
    up(&aws1, &with_probe, &opts(&a1)).await.unwrap();
    up(&aws2, &without, &opts(&a2)).await.unwrap();

    let probe = with_probe.probe.as_ref().unwrap();
    assert_eq!(
        opened_ingress(emu, &a1, &with_probe.name).await,
        vec![("tcp".to_string(), 80, 80, probe.allow_from.clone(), String::new())]
    );
    assert_eq!(opened_ingress(emu, &a2, &without.name).await, vec![], "no probe, no ingress");
    // No security group of eks6's own: the VPC holds its default group and EKS's.
    let (ec2, _) = emu.sdk(&a2, "us-west-2").await;
    let groups = ec2.describe_security_groups().send().await.unwrap();
    let names: Vec<&str> = groups.security_groups().iter().filter_map(|g| g.group_name()).collect();
    assert!(names.iter().all(|n| *n == "default" || n.starts_with("eks-cluster-sg-")), "{names:?}");

    let before = aws1.call_counts();
    down(&aws1, Target::Plan(&with_probe), &opts(&a1)).await.unwrap();
    let revokes = aws1.call_counts().get("EC2:RevokeSecurityGroupIngress").copied().unwrap_or(0)
        - before.get("EC2:RevokeSecurityGroupIngress").copied().unwrap_or(0);
    assert_eq!(revokes, 1, "down revokes exactly the probe rule");
    down(&aws2, Target::Plan(&without), &opts(&a2)).await.unwrap();
    assert_eq!(aws2.call_counts().get("EC2:RevokeSecurityGroupIngress"), None, "nothing to revoke without a probe");
}

/// The walkthrough plan's TOML without its `[probe]` table.
fn toml_without_probe(plan: &ClusterPlan) -> String {
    let mut p = plan.clone();
    p.probe = None;
    p.to_toml()
}

/// `up` and `down` on the emulator's time-based mode (every state lasts AWS's usual
/// duration × 0.002: a cluster 1.2 s), the library given the same scale: both finish,
/// leave a clean up's state and then nothing, and each wait is placed by its kind's
/// expected duration: the cluster was seen `CREATING` first, and a handful of polls
/// found it `ACTIVE` (a fixed 10 ms poll would have made about 120).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_and_down_on_aws_clock_scaled() {
    let emu: &'static Emulator = Box::leak(Box::new(Emulator::timed(0.002)));
    let (account, plan) = (fresh_account(), plan());
    let aws = emu.aws(&account, &plan.region).await;
    let wait = eks6::workflow::WaitPolicy::new(None, std::time::Duration::from_secs(60), 0.002).unwrap();
    let (o, events) = recording(RunOptions::new(fixtures::journal("timed", &account)).with_wait(wait));
    up(&aws, &plan, &o).await.unwrap();
    let waited: Vec<(String, u32, u64, u64)> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Waited { kind, polls, waited_ms, expected_ms, .. } => {
                Some((kind.name().to_string(), *polls, *waited_ms, *expected_ms))
            }
            _ => None,
        })
        .collect();
    let cluster = waited.iter().find(|w| w.0 == "cluster-create").expect("a cluster wait");
    assert!(cluster.1 >= 2 && cluster.1 <= 20, "cluster polls: {waited:?}");
    assert!(waited.iter().any(|w| w.0 == "nat-gateway-create" && w.1 >= 2), "{waited:?}");
    assert!(waited.iter().any(|w| w.0 == "nodegroup-create" && w.1 >= 2), "{waited:?}");
    assert_eq!(emu.inventory(&account, &plan).await.get("cluster AWSNewsBlog").map(String::as_str), Some("ACTIVE"));
    down(&aws, Target::Plan(&plan), &o).await.unwrap();
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}
