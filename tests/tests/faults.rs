//! Faults between eks6 and AWS, from an HTTP-level fake ([`eks6_tests::fake_aws`]): AWS's
//! own answers, byte for byte as its protocols have them, through the SDK's deserializers
//! and retries: throttling then success, a wait past its deadline,
//! `ResourceInUseException` and `DependencyViolation` waited out (or named when they
//! last), and a 500 that becomes a typed error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use eks6::ErrorKind;
use eks6::aws::Aws;
use eks6::plan::plan_id;
use eks6::workflow::{EventKind, RunOptions, Target, WaitPolicy, WorkflowError, down};
use eks6_tests::fake_aws::{Reply, Rule, clients};
use serde_json::json;

const REGION: &str = "us-east-1";
const NAME: &str = "AWSNewsBlog";

fn pid() -> String {
    plan_id(REGION, NAME)
}

fn cluster(status: &str) -> Reply {
    Reply::eks(json!({ "cluster": { "name": NAME, "status": status, "tags": { "eks6:plan-id": pid() } } }))
}

fn not_found() -> Reply {
    Reply::eks_error(404, "ResourceNotFoundException", "No cluster found for name: AWSNewsBlog.")
}

/// This plan's tags in EC2's XML.
fn owned_tags() -> String {
    format!(
        "<tagSet><item><key>eks6:plan-id</key><value>{}</value></item><item><key>eks6:role</key><value>vpc</value></item></tagSet>",
        pid()
    )
}

/// Empty answers for every EC2 listing `down` makes.
fn empty_network() -> Vec<Rule> {
    vec![
        Rule::new("DescribeVpcs").then(Reply::ec2("DescribeVpcs", "<vpcSet/>")),
        Rule::new("DescribeInternetGateways").then(Reply::ec2("DescribeInternetGateways", "<internetGatewaySet/>")),
        Rule::new("DescribeAddresses").then(Reply::ec2("DescribeAddresses", "<addressesSet/>")),
    ]
}

fn aws(ec2_rules: &[Rule], eks_rules: &[Rule]) -> Aws {
    Aws::from_clients(clients(REGION, ec2_rules, eks_rules, 3)).unwrap()
}

fn opts(deadline: Duration) -> (RunOptions, Arc<Mutex<Vec<EventKind>>>) {
    let dir = std::env::temp_dir().join(format!("eks6-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let o = RunOptions::new(dir.join(format!("j{n}.json")))
        .with_wait(WaitPolicy::every(Duration::from_millis(2), deadline))
        .with_events(move |e| l.lock().unwrap().push(e.kind.clone()));
    (o, log)
}

fn retry_count(log: &Mutex<Vec<EventKind>>) -> usize {
    log.lock().unwrap().iter().filter(|e| matches!(e, EventKind::Retry { .. })).count()
}

const TARGET: Target<'static> = Target::Cluster { name: NAME, region: REGION };

#[tokio::test]
async fn resource_in_use_on_delete_is_waited_out() {
    let describe = Rule::new("DescribeCluster").then(cluster("ACTIVE")).then(cluster("DELETING")).then(not_found());
    let delete = Rule::new("DeleteCluster")
        .times(Reply::eks_error(409, "ResourceInUseException", "nodegroups remain"), 2)
        .then(cluster("DELETING"));
    let list = Rule::new("ListNodegroups").then(Reply::eks(json!({ "nodegroups": [] })));
    let aws = aws(&empty_network(), &[describe.clone(), delete.clone(), list]);
    let (o, log) = opts(Duration::from_secs(10));
    let report = down(&aws, TARGET, &o).await.unwrap();
    assert_eq!(delete.num_calls(), 3);
    assert_eq!(retry_count(&log), 2);
    assert!(report.steps.iter().any(|s| s.step == "cluster" && s.outcome == eks6::workflow::Outcome::Deleted));
}

#[tokio::test]
async fn throttling_then_success() {
    let describe = Rule::new("DescribeCluster")
        .times(Reply::eks_error(429, "ThrottlingException", "Rate exceeded"), 2)
        .then(not_found());
    let aws = aws(&empty_network(), std::slice::from_ref(&describe));
    let (o, _) = opts(Duration::from_secs(10));
    down(&aws, TARGET, &o).await.unwrap();
    assert_eq!(describe.num_calls(), 3, "two throttled attempts, then the answer");
    assert_eq!(aws.call_counts().get("EKS:DescribeCluster"), Some(&3), "{:?}", aws.call_counts());
}

#[tokio::test]
async fn wait_past_deadline_is_a_timeout_naming_resource_and_limit() {
    let describe = Rule::new("DescribeCluster").then(cluster("ACTIVE")).then(cluster("DELETING"));
    let delete = Rule::new("DeleteCluster").then(cluster("DELETING"));
    let list = Rule::new("ListNodegroups").then(Reply::eks(json!({ "nodegroups": [] })));
    let aws = aws(&empty_network(), &[describe, delete, list]);
    let (o, _) = opts(Duration::from_millis(50));
    let err = down(&aws, TARGET, &o).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let WorkflowError::Timeout { resource, limit, status } = &err else { panic!("{err:?}") };
    assert_eq!(resource, "cluster AWSNewsBlog");
    assert_eq!(*limit, Duration::from_millis(50));
    assert_eq!(status, "DELETING");
    assert!(err.to_string().contains("50ms"), "{err}");
}

#[tokio::test]
async fn http_500_is_a_typed_error() {
    let describe = Rule::new("DescribeCluster").then(Reply::http(500, "{\"message\":\"boom\"}"));
    let aws = aws(&empty_network(), &[describe]);
    let (o, _) = opts(Duration::from_secs(10));
    let err = down(&aws, TARGET, &o).await.unwrap_err();
    let WorkflowError::Aws(e) = &err else { panic!("{err:?}") };
    assert_eq!(e.kind(), ErrorKind::AwsService);
    assert_eq!(e.http_status(), Some(500));
    assert_eq!(e.operation(), "DescribeCluster");
    assert!(std::error::Error::source(e).is_some(), "the SDK error is kept as the source");
}

/// EC2 answers for a `down` that finds one owned VPC with one owned subnet.
fn one_subnet_vpc() -> Vec<Rule> {
    let tags = owned_tags();
    vec![
        Rule::new("DescribeVpcs")
            .then(Reply::ec2("DescribeVpcs", &format!("<vpcSet><item><vpcId>vpc-0123abcd</vpcId>{tags}</item></vpcSet>"))),
        Rule::new("DescribeNatGateways").then(Reply::ec2("DescribeNatGateways", "<natGatewaySet/>")),
        Rule::new("DescribeAddresses").then(Reply::ec2("DescribeAddresses", "<addressesSet/>")),
        Rule::new("DescribeRouteTables").then(Reply::ec2("DescribeRouteTables", "<routeTableSet/>")),
        Rule::new("DescribeEgressOnlyInternetGateways")
            .then(Reply::ec2("DescribeEgressOnlyInternetGateways", "<egressOnlyInternetGatewaySet/>")),
        Rule::new("DescribeInternetGateways").then(Reply::ec2("DescribeInternetGateways", "<internetGatewaySet/>")),
        Rule::new("DescribeSubnets").then(Reply::ec2(
            "DescribeSubnets",
            &format!("<subnetSet><item><subnetId>subnet-0123abcd</subnetId><vpcId>vpc-0123abcd</vpcId>{tags}</item></subnetSet>"),
        )),
        Rule::new("DescribeNetworkInterfaces").then(Reply::ec2(
            "DescribeNetworkInterfaces",
            "<networkInterfaceSet><item><networkInterfaceId>eni-0aaa1111</networkInterfaceId><description>aws-K8S-i-0bbb2222</description><subnetId>subnet-0123abcd</subnetId></item></networkInterfaceSet>",
        )),
        Rule::new("DeleteVpc").then(Reply::ec2("DeleteVpc", "<return>true</return>")),
    ]
}

fn no_cluster() -> Rule {
    Rule::new("DescribeCluster").then(not_found())
}

#[tokio::test]
async fn dependency_violation_on_delete_is_waited_out() {
    let delete = Rule::new("DeleteSubnet")
        .times(Reply::ec2_error("DependencyViolation", "The subnet has dependencies and cannot be deleted."), 2)
        .then(Reply::ec2("DeleteSubnet", "<return>true</return>"));
    let mut rules = one_subnet_vpc();
    rules.push(delete.clone());
    let aws = aws(&rules, &[no_cluster()]);
    let (o, log) = opts(Duration::from_secs(10));
    let report = down(&aws, TARGET, &o).await.unwrap();
    assert_eq!(delete.num_calls(), 3);
    assert_eq!(retry_count(&log), 2);
    let network = report.steps.iter().find(|s| s.step == "network").unwrap();
    assert!(
        network.resources.contains(&"subnet-0123abcd".to_string())
            && network.resources.contains(&"vpc-0123abcd".to_string())
    );
}

#[tokio::test]
async fn lasting_dependency_violation_names_the_blockers() {
    let delete = Rule::new("DeleteSubnet")
        .then(Reply::ec2_error("DependencyViolation", "The subnet has dependencies and cannot be deleted."));
    let mut rules = one_subnet_vpc();
    rules.push(delete);
    let aws = aws(&rules, &[no_cluster()]);
    let (o, _) = opts(Duration::from_millis(30));
    let err = down(&aws, TARGET, &o).await.unwrap_err();
    let WorkflowError::Blocked { resource, blockers, .. } = &err else { panic!("{err:?}") };
    assert_eq!(resource, "subnet subnet-0123abcd");
    assert_eq!(blockers, &["eni-0aaa1111 (aws-K8S-i-0bbb2222)".to_string()]);
    assert_eq!(err.kind(), ErrorKind::AwsConflict);
    // The journal survives a failed down, for the next try.
    assert!(o.journal.exists());
}
