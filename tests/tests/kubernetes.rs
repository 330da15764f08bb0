//! The Kubernetes half of the walkthrough against a real control plane (kube-apiserver,
//! kube-controller-manager, kube-scheduler; `tests/controlplane`), which the emulator's
//! `DescribeCluster` points at: eks6 gets in with its own token, applies the sample,
//! verifies nodes, pods, the Service, the add-ons and the in-VPC probe, and `down`
//! deletes the sample first. The harness's admin certificate breaks things on purpose.

use std::time::Duration;

use eks6::k8s::{Kube, KubeError};
use eks6::plan::ClusterPlan;
use eks6::workflow::{
    CheckStatus, EventKind, KubeAccess, Outcome, RunOptions, Target, VerifyOptions, VerifyReport, WaitPolicy,
    WorkflowError, down, up, verify,
};
use eks6::{ErrorDetails, ErrorKind};
use eks6_tests::controlplane::ControlPlane;
use eks6_tests::emulator::{Emulator, fresh_account};
use eks6_tests::fixtures;
use eks6_tests::nginx::Nginx;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams};

fn opts(account: &str) -> RunOptions {
    RunOptions::new(fixtures::journal("kubernetes", account))
        .with_wait(WaitPolicy::every(Duration::from_millis(100), Duration::from_secs(120)))
}

fn check<'r>(r: &'r VerifyReport, name: &str) -> &'r eks6::workflow::Check {
    r.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check {name}: {r}"))
}

fn kube_checks() -> VerifyOptions {
    VerifyOptions { kubernetes: Some(KubeAccess::Eks), ..Default::default() }
}

struct Cluster {
    account: String,
    plan: ClusterPlan,
    aws: eks6::aws::Aws,
    cp: ControlPlane,
    _nginx: Nginx,
}

async fn stand_up() -> Cluster {
    let emu = Emulator::shared();
    let account = fresh_account();
    let plan = fixtures::walkthrough_kubernetes();
    let nginx = Nginx::start();
    let cp = ControlPlane::start(emu, &account, &plan.region, &plan.name, nginx.port);
    let aws = emu.aws(&account, &plan.region).await;
    let report = match up(&aws, &plan, &opts(&account)).await {
        Ok(r) => r,
        Err(e) => {
            let nodes: Api<Node> = Api::all(cp.admin().await);
            let list = nodes.list(&Default::default()).await.map(|l| serde_json::to_string_pretty(&l.items).unwrap());
            panic!("up: {e}\nnodes: {list:?}");
        }
    };
    let sample = report.steps.iter().find(|s| s.step == "sample").expect("a sample step");
    assert_eq!(sample.outcome, Outcome::Created, "{sample:?}");
    assert!(sample.resources.iter().filter(|r| r.starts_with("pod ")).count() == 3, "{sample:?}");
    Cluster { account, plan, aws, cp, _nginx: nginx }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_kubernetes_side_passes_then_fails_with_evidence_then_down_removes_the_sample_first() {
    let c = stand_up().await;
    let (aws, plan) = (&c.aws, &c.plan);

    // Apply twice changes nothing.
    let again = up(aws, plan, &opts(&c.account)).await.unwrap();
    let sample = again.steps.iter().find(|s| s.step == "sample").unwrap();
    assert_eq!(sample.outcome, Outcome::Found, "a second apply changed something: {sample:?}");

    // Healthy: every Kubernetes check passes, with evidence.
    let report = verify(aws, Target::Plan(plan), &kube_checks()).await.unwrap();
    for name in ["k8s-nodes", "k8s-pods", "k8s-service", "k8s-addons", "k8s-probe"] {
        assert_eq!(check(&report, name).status, CheckStatus::Pass, "{name}:\n{report}");
    }
    let pods = check(&report, "k8s-pods");
    assert_eq!(
        pods.evidence.iter().filter(|e| e.contains(" Running ") && e.contains(" inside ")).count(),
        3,
        "{report}"
    );
    let probe = check(&report, "k8s-probe");
    assert_eq!(probe.evidence.iter().filter(|e| e.contains("200 OK")).count(), 3, "{report}");
    assert!(check(&report, "k8s-addons").evidence.iter().any(|e| e.contains("ENABLE_IPv6=true")), "{report}");

    let admin = c.cp.admin().await;
    let ns = &plan.sample.as_ref().unwrap().namespace;

    // A pod outside its node's /80.
    let pods_api: Api<Pod> = Api::namespaced(admin.clone(), ns);
    let victim = pods_api.list(&Default::default()).await.unwrap().items.remove(0);
    let name = victim.metadata.name.clone().unwrap();
    let mut status = victim.status.clone().unwrap();
    status.pod_ip = Some("2001:db8::7".into());
    status.pod_ips = Some(vec![k8s_openapi::api::core::v1::PodIP { ip: "2001:db8::7".into() }]);
    pods_api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(serde_json::json!({ "status": status })))
        .await
        .unwrap();
    let report = verify(aws, Target::Plan(plan), &kube_checks()).await.unwrap();
    let pods = check(&report, "k8s-pods");
    assert_eq!(pods.status, CheckStatus::Fail, "{report}");
    assert!(pods.evidence[0].contains(&name) && pods.evidence[0].contains("2001:db8::7 NOT inside"), "{report}");

    // A NotReady node, and a node whose InternalIP is IPv4.
    let nodes: Api<Node> = Api::all(admin.clone());
    let all = nodes.list(&Default::default()).await.unwrap().items;
    let (first, second) = (all[0].metadata.name.clone().unwrap(), all[1].metadata.name.clone().unwrap());
    let mut conditions = all[0].status.clone().unwrap().conditions.unwrap();
    for cond in &mut conditions {
        if cond.type_ == "Ready" {
            cond.status = "False".into();
            cond.reason = Some("KubeletNotReady".into());
        }
    }
    nodes
        .patch_status(
            &first,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "status": { "conditions": conditions } })),
        )
        .await
        .unwrap();
    nodes
        .patch_status(
            &second,
            &PatchParams::default(),
            &Patch::Merge(
                serde_json::json!({ "status": { "addresses": [{ "type": "InternalIP", "address": "10.0.1.7" }] } }),
            ),
        )
        .await
        .unwrap();
    let report = verify(aws, Target::Plan(plan), &kube_checks()).await.unwrap();
    let n = check(&report, "k8s-nodes");
    assert_eq!(n.status, CheckStatus::Fail, "{report}");
    assert!(n.evidence.iter().any(|e| e.starts_with(&format!("{first} NotReady"))), "{report}");
    assert!(
        n.evidence.iter().any(|e| e.starts_with(&second) && e.contains("10.0.1.7") && e.contains("no IPv6 InternalIP")),
        "{report}"
    );

    // The Service's address outside the range EKS reports: the cluster now says another.
    let emu = Emulator::shared();
    report_range(emu, &c, "fd00:ffff::/108");
    let report = verify(aws, Target::Plan(plan), &kube_checks()).await.unwrap();
    let svc = check(&report, "k8s-service");
    assert_eq!(svc.status, CheckStatus::Fail, "{report}");
    assert!(svc.evidence[0].contains("NOT inside fd00:ffff::/108"), "{report}");

    // A probe pod that never runs (no node will take it) is a failure with its events,
    // not a hang.
    for n in [&first, &second] {
        nodes
            .patch(n, &PatchParams::default(), &Patch::Merge(serde_json::json!({ "spec": { "unschedulable": true } })))
            .await
            .unwrap();
    }
    let vo = VerifyOptions { probe_pod_deadline: Some(Duration::from_secs(3)), ..kube_checks() };
    let report = verify(aws, Target::Plan(plan), &vo).await.unwrap();
    let probe = check(&report, "k8s-probe");
    assert_eq!(probe.status, CheckStatus::Fail, "{report}");
    assert!(
        probe.evidence[0].contains("did not run (Pending") && probe.evidence[0].contains("FailedScheduling"),
        "{report}"
    );

    // An instance of the nodegroup that is not a node: its IPv6 address taken from its
    // interface, the harness's kubelet stops running it (a node of an IPv6 cluster
    // registers with its IPv6 address) and its Node goes; verify names the instance.
    let id = all[0].spec.as_ref().and_then(|s| s.provider_id.clone()).unwrap();
    let id = id.rsplit('/').next().unwrap().to_string();
    let (ec2, _) = emu.sdk(&c.account, &plan.region).await;
    let described = ec2.describe_instances().instance_ids(&id).send().await.unwrap();
    let eni = described.reservations()[0].instances()[0].network_interfaces()[0].clone();
    let addresses: Vec<String> =
        eni.ipv6_addresses().iter().filter_map(|a| a.ipv6_address().map(String::from)).collect();
    ec2.unassign_ipv6_addresses()
        .network_interface_id(eni.network_interface_id().unwrap())
        .set_ipv6_addresses(Some(addresses.clone()))
        .send()
        .await
        .unwrap();
    let began = std::time::Instant::now();
    while nodes.get_opt(&first).await.unwrap().is_some() {
        assert!(began.elapsed() < Duration::from_secs(60), "the harness kept node {first} of instance {id}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // (The other node is still cordoned: the probe pod fails fast, as above.)
    let report = verify(aws, Target::Plan(plan), &vo).await.unwrap();
    let n = check(&report, "k8s-nodes");
    assert_eq!(n.status, CheckStatus::Fail, "{report}");
    assert!(n.summary.contains("1 of the nodegroup's 2 instance(s) not registered"), "{report}");
    assert!(
        n.evidence.iter().any(|e| e.starts_with(&format!("instance {id} of nodegroup "))
            && e.ends_with("(no IPv6 address) has not registered as a node")),
        "{report}"
    );
    // Its address back: the node registers again (its pods stay bound to it).
    ec2.assign_ipv6_addresses()
        .network_interface_id(eni.network_interface_id().unwrap())
        .set_ipv6_addresses(Some(addresses))
        .send()
        .await
        .unwrap();
    let began = std::time::Instant::now();
    while nodes.get_opt(&first).await.unwrap().is_none() {
        assert!(began.elapsed() < Duration::from_secs(60), "node {first} of instance {id} did not come back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // down deletes the sample's namespace, and waits for it to go, before the nodes.
    let steps = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = steps.clone();
    let o = opts(&c.account).with_events(move |e| match &e.kind {
        EventKind::StepStarted { step } => seen.lock().unwrap().push((step.clone(), None)),
        EventKind::StepFinished { step, outcome, .. } => seen.lock().unwrap().push((step.clone(), Some(*outcome))),
        _ => {}
    });
    down(aws, Target::Plan(plan), &o).await.unwrap();
    let steps = steps.lock().unwrap().clone();
    let at = |s: &(String, Option<Outcome>)| steps.iter().position(|x| x == s).unwrap_or(usize::MAX);
    let sample_done = at(&("sample".to_string(), Some(Outcome::Deleted)));
    assert!(sample_done < at(&("nodegroup".to_string(), None)), "{steps:?}");
    assert!(sample_done < at(&("nat-gateways".to_string(), None)), "{steps:?}");
}

/// Re-registers the control plane with another service range, so `DescribeCluster`
/// reports that one.
fn report_range(emu: &Emulator, c: &Cluster, range: &str) {
    let body = serde_json::json!({
        "account": c.account, "region": c.plan.region, "cluster": c.plan.name,
        "endpoint": c.cp.endpoint, "certificateAuthority": c.cp.ca, "serviceIpv6Cidr": range,
    });
    assert_eq!(post(&emu.endpoint, &body.to_string()), 200);
}

fn post(endpoint: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let host = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "POST /moto-api/eks6/control-planes HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_says_which_when_it_refuses_or_cannot_be_reached() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let plan = fixtures::walkthrough();
    let aws = emu.aws(&account, &plan.region).await;
    up(&aws, &plan, &opts(&account)).await.unwrap();

    // Unreachable: a control plane registered, then stopped.
    let nginx = Nginx::start();
    let cp = ControlPlane::start(emu, &account, &plan.region, &plan.name, nginx.port);
    let (endpoint, ca) = (cp.endpoint.clone(), cp.ca.clone());
    drop(cp);
    let body = serde_json::json!({
        "account": account, "region": plan.region, "cluster": plan.name, "endpoint": endpoint, "certificateAuthority": ca,
    });
    assert_eq!(post(&emu.endpoint, &body.to_string()), 200);
    let err = verify(&aws, Target::Plan(&plan), &kube_checks()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KubeNetwork, "{err}");
    assert!(matches!(&err, WorkflowError::Kube(KubeError::Network { .. })), "{err:?}");
    assert!(err.to_string().contains("could not be reached"), "{err}");

    // The token webhook: eks6's own token gets in; one signed 20 minutes ago, or one
    // whose URL carries no signature, does not.
    let cp = ControlPlane::start(emu, &account, &plan.region, &plan.name, nginx.port);
    let fresh = aws.eks_token(&plan.name).await.unwrap().token;
    assert_eq!(nodes_status(&cp, &fresh).await, 200);
    let creds = aws_credential_types::Credentials::new(
        eks6_tests::emulator::TEST_KEY_ID,
        eks6_tests::emulator::TEST_SECRET,
        None,
        None,
        "test",
    );
    let old = std::time::SystemTime::now() - Duration::from_secs(20 * 60);
    let expired = eks6::k8s::token_at(&creds, &plan.region, &plan.name, old).unwrap().token;
    assert_eq!(nodes_status(&cp, &expired).await, 401);
    let unsigned = {
        use base64::Engine as _;
        let url = format!("https://sts.{}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", plan.region);
        format!("k8s-aws-v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url))
    };
    assert_eq!(nodes_status(&cp, &unsigned).await, 401);

    // Refused: the identity has no access entry (the creator's is removed).
    let (_, eks) = emu.sdk(&account, &plan.region).await;
    let entries = eks.list_access_entries().cluster_name(&plan.name).send().await.unwrap();
    for arn in entries.access_entries() {
        eks.delete_access_entry().cluster_name(&plan.name).principal_arn(arn).send().await.unwrap();
    }
    let err = verify(&aws, Target::Plan(&plan), &kube_checks()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KubeUnauthorized, "{err}");
    assert_eq!(ErrorDetails::http_status(&err), Some(401));
    assert!(err.to_string().contains("refused the credentials"), "{err}");

    // An access entry without an access policy: the API knows the identity and forbids
    // it: kube_api with the status and reason kept.
    let me = format!("arn:aws:iam::{account}:role/eks6-test");
    eks.create_access_entry().cluster_name(&plan.name).principal_arn(&me).send().await.unwrap();
    let err = verify(&aws, Target::Plan(&plan), &kube_checks()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KubeApi, "{err}");
    assert_eq!((ErrorDetails::http_status(&err), ErrorDetails::reason(&err)), (Some(403), Some("Forbidden")), "{err}");
    assert!(err.to_string().contains("HTTP 403 Forbidden"), "{err}");

    // A kubeconfig context that is not there says so, and which there are.
    let e = Kube::from_context(Some(&cp.admin_kubeconfig), "nope").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("has no context \"nope\" (it has admin)"), "{e}");
    // The harness's own context works (a kubeconfig context instead of the token).
    let k = Kube::from_context(Some(&cp.admin_kubeconfig), "admin").await.unwrap();
    assert!(k.nodes().await.is_ok());
    drop(cp);
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
}

/// The HTTP status of listing nodes with a bearer token, through the real API server.
async fn nodes_status(cp: &ControlPlane, token: &str) -> u16 {
    use base64::Engine as _;
    let pem = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(&cp.ca).unwrap()).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let mut config = kube::Config::new(cp.endpoint.parse().unwrap());
    config.root_cert = Some(vec![der]);
    config.auth_info.token = Some(token.to_string().into());
    let client = kube::Client::try_from(config).unwrap();
    let nodes: Api<Node> = Api::all(client);
    match nodes.list(&Default::default()).await {
        Ok(_) => 200,
        Err(kube::Error::Api(s)) => s.code,
        Err(e) => panic!("no answer: {e}"),
    }
}
