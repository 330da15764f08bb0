//! Faults between eks6 and AWS, with `aws-smithy-mocks`: throttling then success, a wait
//! past its deadline, `ResourceInUseException` and `DependencyViolation` waited out (or
//! named when they last), and a 500 that becomes a typed error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ec2::operation::delete_subnet::{DeleteSubnetError, DeleteSubnetOutput};
use aws_sdk_ec2::operation::delete_vpc::DeleteVpcOutput;
use aws_sdk_ec2::operation::describe_addresses::DescribeAddressesOutput;
use aws_sdk_ec2::operation::describe_egress_only_internet_gateways::DescribeEgressOnlyInternetGatewaysOutput;
use aws_sdk_ec2::operation::describe_internet_gateways::DescribeInternetGatewaysOutput;
use aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput;
use aws_sdk_ec2::operation::describe_network_interfaces::DescribeNetworkInterfacesOutput;
use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
use aws_sdk_ec2::types::{NetworkInterface, Subnet, Tag, Vpc};
use aws_sdk_eks::operation::delete_cluster::{DeleteClusterError, DeleteClusterOutput};
use aws_sdk_eks::operation::describe_cluster::{DescribeClusterError, DescribeClusterOutput};
use aws_sdk_eks::operation::list_nodegroups::ListNodegroupsOutput;
use aws_sdk_eks::types::error::{ResourceInUseException, ResourceNotFoundException};
use aws_sdk_eks::types::{Cluster, ClusterStatus};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use eks6::ErrorKind;
use eks6::aws::Aws;
use eks6::plan::plan_id;
use eks6::workflow::{DownTarget, EventKind, RunOptions, WaitPolicy, WorkflowError, down};

const REGION: &str = "us-east-1";
const NAME: &str = "AWSNewsBlog";

fn pid() -> String {
    plan_id(REGION, NAME)
}

fn ec2_meta(code: &str) -> aws_sdk_ec2::error::ErrorMetadata {
    aws_sdk_ec2::error::ErrorMetadata::builder().code(code).message(format!("{code} (mock)")).build()
}

fn eks_meta(code: &str) -> aws_sdk_eks::error::ErrorMetadata {
    aws_sdk_eks::error::ErrorMetadata::builder().code(code).message(format!("{code} (mock)")).build()
}

fn cluster(status: ClusterStatus) -> DescribeClusterOutput {
    DescribeClusterOutput::builder()
        .cluster(Cluster::builder().name(NAME).status(status).tags("eks6:plan-id", pid()).build())
        .build()
}

fn not_found() -> DescribeClusterError {
    DescribeClusterError::ResourceNotFoundException(
        ResourceNotFoundException::builder().message("no cluster").meta(eks_meta("ResourceNotFoundException")).build(),
    )
}

fn owned_tags() -> Vec<Tag> {
    vec![Tag::builder().key("eks6:plan-id").value(pid()).build(), Tag::builder().key("eks6:role").value("vpc").build()]
}

/// Empty answers for every EC2 listing `down` makes.
fn empty_network() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| DescribeVpcsOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_internet_gateways)
            .then_output(|| DescribeInternetGatewaysOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_addresses).then_output(|| DescribeAddressesOutput::builder().build()),
    ]
}

fn retries() -> aws_sdk_eks::config::retry::RetryConfig {
    aws_sdk_eks::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
}

fn ec2_retries() -> aws_sdk_ec2::config::retry::RetryConfig {
    aws_sdk_ec2::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
}

fn aws(ec2_rules: &[Rule], eks_rules: &[Rule]) -> Aws {
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, ec2_rules, |b| b.retry_config(ec2_retries()));
    let eks = mock_client!(aws_sdk_eks, RuleMode::MatchAny, eks_rules, |b| b.retry_config(retries()));
    Aws::from_clients(&ec2, &eks).unwrap()
}

fn opts(deadline: Duration) -> (RunOptions, Arc<Mutex<Vec<EventKind>>>) {
    let dir = std::env::temp_dir().join(format!("eks6-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let o = RunOptions::new(dir.join(format!("j{n}.json")))
        .with_wait(WaitPolicy { first_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5), deadline })
        .with_events(move |e| l.lock().unwrap().push(e.kind.clone()));
    (o, log)
}

fn retry_count(log: &Mutex<Vec<EventKind>>) -> usize {
    log.lock().unwrap().iter().filter(|e| matches!(e, EventKind::Retry { .. })).count()
}

const TARGET: DownTarget<'static> = DownTarget::Cluster { name: NAME, region: REGION };

#[tokio::test]
async fn resource_in_use_on_delete_is_waited_out() {
    let describe = mock!(aws_sdk_eks::Client::describe_cluster)
        .sequence()
        .output(|| cluster(ClusterStatus::Active))
        .output(|| cluster(ClusterStatus::Deleting))
        .error(not_found)
        .build();
    let delete = mock!(aws_sdk_eks::Client::delete_cluster)
        .sequence()
        .error(|| {
            DeleteClusterError::ResourceInUseException(
                ResourceInUseException::builder()
                    .message("nodegroups remain")
                    .meta(eks_meta("ResourceInUseException"))
                    .build(),
            )
        })
        .times(2)
        .output(|| DeleteClusterOutput::builder().build())
        .build();
    let list = mock!(aws_sdk_eks::Client::list_nodegroups).then_output(|| ListNodegroupsOutput::builder().build());
    let aws = aws(&empty_network(), &[describe.clone(), delete.clone(), list]);
    let (o, log) = opts(Duration::from_secs(10));
    let report = down(&aws, TARGET, &o).await.unwrap();
    assert_eq!(delete.num_calls(), 3);
    assert_eq!(retry_count(&log), 2);
    assert!(report.steps.iter().any(|s| s.step == "cluster" && s.outcome == eks6::workflow::Outcome::Deleted));
}

#[tokio::test]
async fn throttling_then_success() {
    let describe = mock!(aws_sdk_eks::Client::describe_cluster)
        .sequence()
        .error(|| DescribeClusterError::generic(eks_meta("ThrottlingException")))
        .times(2)
        .error(not_found)
        .build();
    let aws = aws(&empty_network(), std::slice::from_ref(&describe));
    let (o, _) = opts(Duration::from_secs(10));
    down(&aws, TARGET, &o).await.unwrap();
    assert_eq!(describe.num_calls(), 3, "two throttled attempts, then the answer");
    assert_eq!(aws.call_counts().get("EKS:DescribeCluster"), Some(&3), "{:?}", aws.call_counts());
}

#[tokio::test]
async fn wait_past_deadline_is_a_timeout_naming_resource_and_limit() {
    let describe = mock!(aws_sdk_eks::Client::describe_cluster)
        .sequence()
        .output(|| cluster(ClusterStatus::Active))
        .output(|| cluster(ClusterStatus::Deleting))
        .repeatedly()
        .build();
    let delete = mock!(aws_sdk_eks::Client::delete_cluster).then_output(|| DeleteClusterOutput::builder().build());
    let list = mock!(aws_sdk_eks::Client::list_nodegroups).then_output(|| ListNodegroupsOutput::builder().build());
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
    let describe = mock!(aws_sdk_eks::Client::describe_cluster).then_http_response(|| {
        Response::new(StatusCode::try_from(500).unwrap(), SdkBody::from("{\"message\":\"boom\"}"))
    });
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
    vec![
        mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(Vpc::builder().vpc_id("vpc-0123abcd").set_tags(Some(owned_tags())).build())
                .build()
        }),
        mock!(aws_sdk_ec2::Client::describe_nat_gateways).then_output(|| DescribeNatGatewaysOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_addresses).then_output(|| DescribeAddressesOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_route_tables).then_output(|| DescribeRouteTablesOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_egress_only_internet_gateways)
            .then_output(|| DescribeEgressOnlyInternetGatewaysOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_internet_gateways)
            .then_output(|| DescribeInternetGatewaysOutput::builder().build()),
        mock!(aws_sdk_ec2::Client::describe_subnets).then_output(|| {
            DescribeSubnetsOutput::builder()
                .subnets(
                    Subnet::builder()
                        .subnet_id("subnet-0123abcd")
                        .vpc_id("vpc-0123abcd")
                        .set_tags(Some(owned_tags()))
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ec2::Client::describe_network_interfaces).then_output(|| {
            DescribeNetworkInterfacesOutput::builder()
                .network_interfaces(
                    NetworkInterface::builder()
                        .network_interface_id("eni-0aaa1111")
                        .description("aws-K8S-i-0bbb2222")
                        .subnet_id("subnet-0123abcd")
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_ec2::Client::delete_vpc).then_output(|| DeleteVpcOutput::builder().build()),
    ]
}

fn no_cluster() -> Rule {
    mock!(aws_sdk_eks::Client::describe_cluster).then_error(not_found)
}

#[tokio::test]
async fn dependency_violation_on_delete_is_waited_out() {
    let delete = mock!(aws_sdk_ec2::Client::delete_subnet)
        .sequence()
        .error(|| DeleteSubnetError::generic(ec2_meta("DependencyViolation")))
        .times(2)
        .output(|| DeleteSubnetOutput::builder().build())
        .build();
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
    let delete = mock!(aws_sdk_ec2::Client::delete_subnet)
        .then_error(|| DeleteSubnetError::generic(ec2_meta("DependencyViolation")));
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
