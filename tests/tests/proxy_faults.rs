//! `up` and `down` against the emulator through a fault-injecting proxy: throttling and
//! 5xx bursts, latency, connection resets and answers lost after the emulator did the
//! work are ridden out without creating anything twice; a lasting outage and a stalled
//! answer fail with the right kind, the journal intact, and the next run resumes.
//!
//! Each test has its own account and its own proxy; the STS `AssumeRole` of the account
//! isolation goes through the proxy too, unfaulted. Inventories are read straight from
//! the emulator, not through the proxy.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use eks6::ErrorKind;
use eks6::aws::{Aws, AwsOptions};
use eks6::plan::ClusterPlan;
use eks6::workflow::{Journal, RunOptions, Target, WorkflowError, down, up};
use eks6_tests::emulator::{Emulator, fresh_account};
use eks6_tests::fixtures;
use eks6_tests::proxy::{Fault, FaultProxy, Service, any_aws, op};

const REGION: &str = "us-west-2";

fn plan() -> ClusterPlan {
    fixtures::walkthrough()
}

fn opts(account: &str) -> RunOptions {
    fixtures::fast_opts("proxy-tests", account)
}

/// A client of `account` whose every call goes through `proxy`: the emulator's options
/// (max_attempts 3, initial back-off 10 ms, attempt time-out 10 s, operation time-out
/// 30 s), changed by `tweak`.
async fn through(proxy: &FaultProxy, account: &str, tweak: impl FnOnce(&mut AwsOptions)) -> Aws {
    let mut o = Emulator::shared().options(account, REGION);
    o.endpoint_url = Some(proxy.endpoint());
    tweak(&mut o);
    Aws::connect(&o).await.expect("a client through the proxy")
}

/// The inventory a clean `up` of the plan makes: once per test process, in an account
/// of its own, straight to the emulator.
async fn clean_inventory() -> BTreeMap<String, String> {
    static CLEAN: tokio::sync::OnceCell<BTreeMap<String, String>> = tokio::sync::OnceCell::const_new();
    CLEAN
        .get_or_init(|| async {
            let emu = Emulator::shared();
            let account = fresh_account();
            let plan = plan();
            let aws = emu.aws(&account, &plan.region).await;
            up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("a clean up: {e}"));
            emu.inventory(&account, &plan).await
        })
        .await
        .clone()
}

/// After a failed run the journal is absent or whole (and this plan's).
fn assert_journal_intact(path: &Path, plan: &ClusterPlan) {
    match Journal::load(path) {
        Ok(None) => {}
        Ok(Some(j)) => assert_eq!(j.plan_id, plan.plan_id(), "the journal of another plan"),
        Err(e) => panic!("the journal {} is damaged: {e}", path.display()),
    }
}

/// Asserts that each of `ops` got its fault exactly `times` times: the faults were
/// really in the path (a test whose faults never fired proves nothing).
fn assert_faulted(proxy: &FaultProxy, ops: &[&str], times: usize) {
    for name in ops {
        assert_eq!(proxy.faulted(name), times, "{name} faulted: {:#?}", proxy.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_bursts_are_ridden_out_up_and_down() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;
    let o = opts(&account);

    // Two throttles, then the answer: within the SDK's 3 attempts for calls it retries;
    // eks6's own look-up-then-retry for the creates without a client token.
    let ups = ["CreateVpc", "CreateSubnet", "DescribeVpcs", "CreateCluster", "DescribeCluster", "CreateNodegroup"];
    for name in ups {
        proxy.inject(op(name), Fault::Throttle, 2);
    }
    up(&aws, &plan, &o).await.unwrap_or_else(|e| panic!("up through throttling: {e}"));
    assert_faulted(&proxy, &ups, 2);
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);
    // Throttled requests never reach the emulator: one of each create got there (the EKS
    // creates twice: the emulator refuses the first naming a new role while IAM spreads
    // it, as EKS does, and eks6 asks again).
    assert_eq!(proxy.count("CreateVpc"), 1);
    assert_eq!(proxy.count("CreateSubnet"), 4);
    assert_eq!(proxy.count("CreateCluster"), 2);
    assert_eq!(proxy.count("CreateNodegroup"), 2);

    let downs = ["DeleteSubnet", "DeleteCluster", "DeleteVpc"];
    for name in downs {
        proxy.inject(op(name), Fault::Throttle, 2);
    }
    down(&aws, Target::Plan(&plan), &o).await.unwrap_or_else(|e| panic!("down through throttling: {e}"));
    assert_faulted(&proxy, &downs, 2);
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_bursts_are_ridden_out_up_and_down() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;
    let o = opts(&account);

    let up_500 = ["CreateVpc", "DescribeSubnets", "CreateInternetGateway", "DescribeCluster", "CreateNodegroup"];
    let up_503 = ["DescribeVpcs", "CreateSubnet", "AllocateAddress", "CreateCluster", "DescribeNodegroup"];
    for name in up_500 {
        proxy.inject(op(name), Fault::Status(500), 2);
    }
    for name in up_503 {
        proxy.inject(op(name), Fault::Status(503), 2);
    }
    up(&aws, &plan, &o).await.unwrap_or_else(|e| panic!("up through 500s and 503s: {e}"));
    assert_faulted(&proxy, &up_500, 2);
    assert_faulted(&proxy, &up_503, 2);
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);
    for (name, n) in [
        ("CreateVpc", 1),
        ("CreateSubnet", 4),
        ("CreateInternetGateway", 1),
        ("AllocateAddress", 1),
        // Twice: once refused while IAM spreads the new role (see above).
        ("CreateCluster", 2),
        ("CreateNodegroup", 2),
    ] {
        assert_eq!(proxy.count(name), n, "{name} requests that reached the emulator");
    }

    let down_500 = ["DeleteNodegroup", "DeleteSubnet"];
    let down_503 = ["DeleteCluster", "DeleteInternetGateway", "DeleteVpc"];
    for name in down_500 {
        proxy.inject(op(name), Fault::Status(500), 2);
    }
    for name in down_503 {
        proxy.inject(op(name), Fault::Status(503), 2);
    }
    down(&aws, Target::Plan(&plan), &o).await.unwrap_or_else(|e| panic!("down through 500s and 503s: {e}"));
    assert_faulted(&proxy, &down_500, 2);
    assert_faulted(&proxy, &down_503, 2);
    assert_eq!(emu.inventory(&account, &plan).await, BTreeMap::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_change_nothing() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;

    proxy.inject(any_aws(), Fault::Latency(Duration::from_millis(300)), 10);
    up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("up through latency: {e}"));
    let log = proxy.log();
    let delayed = log.iter().filter(|(_, f)| f.is_some()).count();
    assert_eq!(delayed, 10, "{log:#?}");
    assert!(log.iter().all(|(_, f)| f.is_none() || f.as_deref() == Some("Latency(300ms)")), "{log:#?}");
    // Every request, the delayed ones included, reached the emulator: none was abandoned
    // (300 ms is far inside the 10 s attempt time-out), so none was retried either.
    assert_eq!(proxy.counts().values().sum::<usize>(), log.len(), "{:?}", proxy.counts());
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_create_nothing_twice() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;

    let resets = ["CreateVpc", "CreateSubnet", "CreateInternetGateway", "CreateCluster", "DescribeSubnets"];
    for name in resets {
        proxy.inject(op(name), Fault::Reset, 1);
    }
    up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("up through resets: {e}"));
    assert_faulted(&proxy, &resets, 1);
    // A reset request never reached the emulator; the one after it did, once (the
    // cluster twice: the first refused while IAM spreads its new role).
    assert_eq!(proxy.count("CreateVpc"), 1);
    assert_eq!(proxy.count("CreateSubnet"), 4);
    assert_eq!(proxy.count("CreateInternetGateway"), 1);
    assert_eq!(proxy.count("CreateCluster"), 2);

    // `inventory` fails on a second resource for one role.
    let inv = emu.inventory(&account, &plan).await;
    assert_eq!(inv.keys().filter(|k| k.starts_with("vpc ")).count(), 1, "{inv:#?}");
    assert_eq!(inv.keys().filter(|k| k.starts_with("subnet ")).count(), 4, "{inv:#?}");
    assert_eq!(inv, clean_inventory().await);
    // And nothing untagged either: the emulator holds one VPC besides the default one,
    // with exactly the plan's four subnets, and one internet gateway.
    let (ec2, _) = emu.sdk(&account, REGION).await;
    let all = ec2.describe_vpcs().send().await.unwrap();
    let default: Vec<&str> =
        all.vpcs().iter().filter(|v| v.is_default() == Some(true)).filter_map(|v| v.vpc_id()).collect();
    let vpcs: Vec<_> = all.vpcs().iter().filter(|v| v.is_default() != Some(true)).collect();
    assert_eq!(vpcs.len(), 1, "{vpcs:#?}");
    let vpc_id = vpcs[0].vpc_id().unwrap();
    let subnets = ec2
        .describe_subnets()
        .filters(aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(vpc_id).build())
        .send()
        .await
        .unwrap();
    assert_eq!(subnets.subnets().len(), 4, "{:#?}", subnets.subnets());
    let igws = ec2.describe_internet_gateways().send().await.unwrap();
    let igws: Vec<_> = igws
        .internet_gateways()
        .iter()
        .filter(|g| !g.attachments().iter().any(|a| a.vpc_id().is_some_and(|v| default.contains(&v))))
        .collect();
    assert_eq!(igws.len(), 1, "{igws:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_of_ec2_creates_create_nothing_twice() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;

    // These creates have no client token (the SDK does not retry them): eks6 must find
    // what the emulator made by its tags instead of making another.
    let cuts = ["CreateVpc", "CreateSubnet", "CreateInternetGateway", "AllocateAddress"];
    for name in cuts {
        proxy.inject(op(name), Fault::CutAfterUpstream, 1);
    }
    up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("up through lost answers: {e}"));
    assert_faulted(&proxy, &cuts, 1);
    // The cut request did reach the emulator; nothing was sent again for it.
    assert_eq!(proxy.count("CreateVpc"), 1);
    assert_eq!(proxy.count("CreateSubnet"), 4);
    assert_eq!(proxy.count("CreateInternetGateway"), 1);
    assert_eq!(proxy.count("AllocateAddress"), 1);
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);
}

/// `CreateCluster` and `CreateNodegroup` carry a client request token; after a lost
/// answer the SDK sends the same request again (a response error is transient to it),
/// which EKS answers with the resource already made. moto 5.2.5 ignores the token and
/// answers the repeat with `ResourceInUseException` (409), which eks6 reports as a
/// conflict: against the emulator this passes once the emulator extension honours the
/// token, or once eks6 takes that answer to a repeated create of its own as "found".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_of_eks_creates_create_nothing_twice() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;

    let cuts = ["CreateCluster", "CreateNodegroup"];
    for name in cuts {
        proxy.inject(op(name), Fault::CutAfterUpstream, 1);
    }
    up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("up through lost EKS answers: {e}"));
    assert_faulted(&proxy, &cuts, 1);
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_outage_fails_typed_with_the_journal_intact_then_resumes() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;
    let o = opts(&account);

    proxy.inject_always(any_aws(), Fault::Status(503));
    let err = up(&aws, &plan, &o).await.unwrap_err();
    // EC2's 503 `Unavailable` is no throttling code: a service error (5xx).
    assert_eq!(err.kind(), ErrorKind::AwsService, "{err}");
    let WorkflowError::Aws(e) = &err else { panic!("{err:?}") };
    let expected = ("DescribeCluster", Some("ServiceUnavailableException"), Some(503));
    assert_eq!((e.operation(), e.code(), e.http_status()), expected, "{e}");
    // Bounded by the options, not by a clock: the first call (DescribeCluster, looking
    // for a cluster of the name before any write) made max_attempts = 3 attempts, 10 ms
    // back-off doubling between them, and the run gave up there; nothing else was tried
    // and nothing reached the emulator.
    let tried: Vec<_> = proxy.log().into_iter().filter(|(r, _)| r.service != Service::Sts).collect();
    assert_eq!(tried.len(), 3, "{tried:#?}");
    assert!(
        tried.iter().all(|(r, f)| r.operation == "DescribeCluster" && f.as_deref() == Some("Status(503)")),
        "{tried:#?}"
    );
    // (Before it, the one STS call that names the account, for the plan's lock.)
    let calls = aws.call_counts();
    assert_eq!(
        (calls.get("EKS:DescribeCluster"), calls.get("STS:GetCallerIdentity")),
        (Some(&3), Some(&1)),
        "{calls:?}"
    );
    assert_eq!(aws.total_calls(), 4, "{calls:?}");
    assert_eq!(proxy.count("DescribeCluster"), 0);
    assert_journal_intact(&o.journal, &plan);

    // The outage ends: the same run again finishes the job.
    proxy.clear();
    up(&aws, &plan, &o).await.unwrap_or_else(|e| panic!("up after the outage: {e}"));
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_answer_is_a_timeout_with_the_journal_intact() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |o| {
        o.attempt_timeout = Some(Duration::from_secs(1));
        o.operation_timeout = Some(Duration::from_secs(3));
        o.max_attempts = Some(2);
    })
    .await;
    let o = opts(&account);

    proxy.inject_always(op("DescribeVpcs"), Fault::Latency(Duration::from_secs(3600)));
    let err = up(&aws, &plan, &o).await.unwrap_err();
    // Each attempt ends at its 1 s time-out (the SDK retries a time-out), the second is
    // the last: the SDK's TimeoutError, which eks6 calls a time-out of the call.
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let WorkflowError::Aws(e) = &err else { panic!("a call time-out, not a wait's: {err:?}") };
    assert_eq!((e.operation(), e.http_status()), ("DescribeVpcs", None), "{e}");
    assert_eq!(proxy.faulted("DescribeVpcs"), 2, "{:#?}", proxy.log());
    assert_eq!(proxy.count("DescribeVpcs"), 0, "a stalled request is dropped when its client gives up");
    // Before it, the reads `up` makes before any write: the account, a cluster of the
    // name, the two role names and the CNI policy's, the zones; the VPC count is the
    // stalled call.
    let calls = aws.call_counts();
    let expected: BTreeMap<String, u64> = [
        ("EC2:DescribeAvailabilityZones", 1),
        ("EC2:DescribeVpcs", 2),
        ("EKS:DescribeCluster", 1),
        ("IAM:GetPolicy", 1),
        ("IAM:GetRole", 2),
        ("STS:GetCallerIdentity", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(calls, expected);
    assert_journal_intact(&o.journal, &plan);
}

/// `down` through resets, answers cut after the emulator already deleted the resource,
/// and slow answers: every delete is asked again or found gone, and nothing owned is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_rides_out_resets_cut_answers_and_latency() {
    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = FaultProxy::start(&emu.endpoint);
    let aws = through(&proxy, &account, |_| {}).await;
    up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("up: {e}"));
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);

    let resets = ["DeleteNodegroup", "DeleteSubnet", "DeleteInternetGateway"];
    let cuts = ["DeleteCluster", "DeleteNatGateway", "DeleteRouteTable", "DeleteVpc"];
    for name in resets {
        proxy.inject(op(name), Fault::Reset, 1);
    }
    for name in cuts {
        proxy.inject(op(name), Fault::CutAfterUpstream, 1);
    }
    // Slow answers on the polls (the faulted deletes above count one fault each).
    let polls = |r: &eks6_tests::proxy::Request| r.operation.starts_with("Describe");
    proxy.inject(polls, Fault::Latency(Duration::from_millis(200)), 5);
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap_or_else(|e| panic!("down through faults: {e}"));
    assert_faulted(&proxy, &resets, 1);
    assert_faulted(&proxy, &cuts, 1);
    assert!(emu.inventory(&account, &plan).await.is_empty(), "down left owned resources");
    // Once more: nothing to do, and nothing fails.
    proxy.clear();
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
}

/// An outage that begins while several steps are in flight (the step graph runs the
/// gateways, the cluster and the roles side by side): the run stops with the service
/// error, the steps in flight are dropped where they were, the journal is whole, and
/// the next run resumes to a clean up's end state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_with_several_steps_in_flight_then_resumes() {
    use eks6::workflow::EventKind;
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};

    let emu = Emulator::shared();
    let (account, plan) = (fresh_account(), plan());
    let proxy = Arc::new(FaultProxy::start(&emu.endpoint));
    let aws = through(&proxy, &account, |o| o.max_attempts = Some(1)).await;
    // The sink keeps the steps in flight; once the subnets are done and two or more
    // steps run, the outage begins (every AWS call answers 503 from then on).
    let state = Arc::new(Mutex::new((BTreeSet::<String>::new(), false, 0usize)));
    let (p, st) = (proxy.clone(), state.clone());
    let o = opts(&account).with_events(move |e| {
        let mut s = st.lock().unwrap();
        match &e.kind {
            EventKind::StepStarted { step } => {
                s.0.insert(step.clone());
            }
            EventKind::StepFinished { step, .. } => {
                s.0.remove(step);
                if step == "subnets" {
                    s.1 = true;
                }
            }
            _ => {}
        }
        if s.1 && s.2 == 0 && s.0.len() >= 2 {
            s.2 = s.0.len();
            p.inject_always(any_aws(), Fault::Status(503));
        }
    });
    let err = up(&aws, &plan, &o).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AwsService, "{err}");
    let (flying, _, at_fault) = state.lock().unwrap().clone();
    assert!(at_fault >= 2, "the outage began with {at_fault} step(s) in flight");
    assert!(!flying.is_empty(), "the run stopped with no step in flight: {flying:?}");
    assert_journal_intact(&o.journal, &plan);

    proxy.clear();
    up(&aws, &plan, &opts(&account)).await.unwrap_or_else(|e| panic!("up after the outage: {e}"));
    assert_eq!(emu.inventory(&account, &plan).await, clean_inventory().await);
}
