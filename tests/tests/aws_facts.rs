//! What a real account needs that the emulator used to wave through (issue "Real AWS"):
//! the two IAM roles with the VPC CNI's IPv6 rights, access entries, the managed
//! add-ons in their order, DNS attributes, zone ids EKS refuses; the refusals that come
//! before any write; the live pre-flight. Against the emulator with its test extension,
//! checked from outside eks6 with the SDK.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ec2::types::ResourceType;
use eks6::plan::{AddonMode, ClusterPlan, RoleSpec, Rule, Severity, iam_name};
use eks6::workflow::{
    Event, EventKind, MANAGED_ADDONS, Outcome, PreflightOptions, RunOptions, Target, WorkflowError, down, preflight, up,
};
use eks6_tests::emulator::{Emulator, fresh_account};
use eks6_tests::fixtures;

fn opts(account: &str) -> (RunOptions, Arc<Mutex<Vec<Event>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    (fixtures::fast_opts("aws-facts", account).with_events(move |e| l.lock().unwrap().push(e.clone())), log)
}

const EC2_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
const EKS_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

/// A role of the account (made with the SDK, not eks6) with these AWS-managed policies.
async fn role(iam: &aws_sdk_iam::Client, name: &str, trust: &str, policies: &[&str]) -> String {
    let arn = iam.create_role().role_name(name).assume_role_policy_document(trust).send().await.unwrap();
    for p in policies {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(format!("arn:aws:iam::aws:policy/{p}"))
            .send()
            .await
            .unwrap();
    }
    arn.role().unwrap().arn().to_string()
}

/// The policy names attached to a role, sorted.
async fn attached(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    let out = iam.list_attached_role_policies().role_name(role).send().await.unwrap();
    let mut v: Vec<String> =
        out.attached_policies().iter().filter_map(|p| p.policy_name().map(str::to_string)).collect();
    v.sort();
    v
}

/// Another owner's cluster in the same account, in a VPC of its own, with a `vpc-cni`
/// add-on of its own: `down` of eks6's plan must leave all of it.
async fn foreign_cluster(emu: &Emulator, account: &str, iam: &aws_sdk_iam::Client) -> String {
    let (ec2, eks) = emu.sdk(account, "us-west-2").await;
    let role = role(iam, "someone-elses-cluster-role", EKS_TRUST, &["AmazonEKSClusterPolicy"]).await;
    let vpc = ec2.create_vpc().cidr_block("10.77.0.0/16").amazon_provided_ipv6_cidr_block(true).send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = Vec::new();
    for (i, zone) in ["us-west-2a", "us-west-2b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.77.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let name = "someone-elses";
    let vpc_config = aws_sdk_eks::types::VpcConfigRequest::builder().set_subnet_ids(Some(subnets)).build();
    // IAM spreads roles slowly in the emulator too: the first create may be refused.
    let mut tries = 0;
    while let Err(e) =
        eks.create_cluster().name(name).role_arn(&role).resources_vpc_config(vpc_config.clone()).send().await
    {
        tries += 1;
        assert!(tries < 5, "{e:?}");
    }
    while eks.describe_cluster().name(name).send().await.unwrap().cluster().unwrap().status().unwrap().as_str()
        != "ACTIVE"
    {}
    eks.create_addon().cluster_name(name).addon_name("vpc-cni").send().await.unwrap();
    name.to_string()
}

/// `up` makes the roles (the node role with eks6's IPv6 CNI policy), DNS attributes on,
/// the cluster with access entries and the standard upgrade policy, the admins' entries
/// and the three add-ons; a second `up` finds it all; `down` removes exactly that, and a
/// foreign role, policy, cluster and add-on in the same account survive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_makes_roles_access_addons_and_dns_and_down_removes_only_those() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let iam = emu.iam(&account).await;
    let (ec2, eks) = emu.sdk(&account, "us-west-2").await;
    let foreign_role = role(&iam, "someone-elses-role", EC2_TRUST, &["AmazonEKS_CNI_Policy"]).await;
    let foreign_policy = iam
        .create_policy()
        .policy_name("someone-elses-policy")
        .policy_document(eks6::aws::cni_ipv6_policy("aws"))
        .send()
        .await
        .unwrap();
    let foreign_policy = foreign_policy.policy().unwrap().arn().unwrap().to_string();
    let foreign = foreign_cluster(emu, &account, &iam).await;
    let admin = role(&iam, "platform-admin", EC2_TRUST, &[]).await;

    let mut plan = fixtures::walkthrough();
    plan.access.admins = vec![admin.clone()];
    let aws = emu.aws(&account, &plan.region).await;
    let (o, log) = opts(&account);
    let report = up(&aws, &plan, &o).await.unwrap();
    let outcome = |step: &str| report.steps.iter().find(|s| s.step == step).map(|s| s.outcome);
    for step in ["cluster-role", "node-role", "access", "addons"] {
        assert_eq!(outcome(step), Some(Outcome::Created), "{step}: {:#?}", report.steps);
    }
    assert_eq!(outcome("coredns"), Some(Outcome::Found));
    // The order that matters: roles first, the CNI before the nodes, coredns after them.
    let names: Vec<&str> = report.steps.iter().map(|s| s.step.as_str()).collect();
    let at = |s: &str| names.iter().position(|n| *n == s).unwrap();
    assert!(at("node-role") < at("cluster") && at("addons") < at("nodegroup") && at("nodegroup") < at("coredns"));
    // IAM had not spread the new cluster role at the first CreateCluster: retried.
    let retried = log.lock().unwrap().iter().any(|e| {
        matches!(&e.kind, EventKind::Retry { step, reason, .. } if step == "cluster" && reason.contains("could not be assumed"))
    });
    assert!(retried, "CreateCluster was not retried while the role spread");

    // The roles, as IAM has them.
    let pid = plan.plan_id();
    let cluster_role = iam_name(&plan.name, &pid, "cluster");
    let node_role = iam_name(&plan.name, &pid, "node");
    assert!(cluster_role.len() <= 64 && cluster_role.starts_with("eks6-AWSNewsBlog-"), "{cluster_role}");
    assert_eq!(attached(&iam, &cluster_role).await, ["AmazonEKSClusterPolicy"]);
    let node_policies = attached(&iam, &node_role).await;
    assert_eq!(
        node_policies,
        ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy", &iam_name(&plan.name, &pid, "cni-ipv6")]
    );
    let trust = iam.get_role().role_name(&cluster_role).send().await.unwrap();
    let trust = trust.role().unwrap().assume_role_policy_document().unwrap().to_string();
    let trust = percent_decode(&trust);
    assert!(trust.contains("eks.amazonaws.com") && trust.contains("sts:TagSession"), "{trust}");
    let cni = format!("arn:aws:iam::{account}:policy/{}", iam_name(&plan.name, &pid, "cni-ipv6"));
    let version = iam.get_policy().policy_arn(&cni).send().await.unwrap();
    let version = version.policy().unwrap().default_version_id().unwrap().to_string();
    let doc = iam.get_policy_version().policy_arn(&cni).version_id(version).send().await.unwrap();
    let doc = percent_decode(doc.policy_version().unwrap().document().unwrap());
    for action in eks6::aws::CNI_IPV6_ACTIONS {
        assert!(doc.contains(action), "{action} not in {doc}");
    }
    // IAM's own answer: the node role may assign IPv6 addresses.
    let sim = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{account}:role/{node_role}"))
        .action_names("ec2:AssignIpv6Addresses")
        .send()
        .await
        .unwrap();
    assert_eq!(sim.evaluation_results()[0].eval_decision().as_str(), "allowed");

    // The cluster: access entries on, the creator and the admin in, standard support.
    let c = eks.describe_cluster().name(&plan.name).send().await.unwrap();
    let c = c.cluster().unwrap();
    assert_eq!(c.access_config().unwrap().authentication_mode().unwrap().as_str(), "API_AND_CONFIG_MAP");
    assert_eq!(c.upgrade_policy().unwrap().support_type().unwrap().as_str(), "STANDARD");
    assert_eq!(c.role_arn().unwrap(), format!("arn:aws:iam::{account}:role/{cluster_role}"));
    let creator = c.tags().unwrap().get("eks6:creator").unwrap().clone();
    assert_eq!(creator, format!("arn:aws:iam::{account}:role/eks6-test"));
    let entries = eks.list_access_entries().cluster_name(&plan.name).send().await.unwrap();
    assert!(entries.access_entries().contains(&admin) && entries.access_entries().contains(&creator), "{entries:?}");
    let policies =
        eks.list_associated_access_policies().cluster_name(&plan.name).principal_arn(&admin).send().await.unwrap();
    assert_eq!(
        policies.associated_access_policies()[0].policy_arn().unwrap(),
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    );
    // The add-ons, at EKS's default versions, all ACTIVE (coredns too, now nodes run).
    for addon in MANAGED_ADDONS {
        let a = eks.describe_addon().cluster_name(&plan.name).addon_name(*addon).send().await.unwrap();
        let a = a.addon().unwrap();
        assert_eq!(a.status().unwrap().as_str(), "ACTIVE", "{addon}");
        let versions = eks
            .describe_addon_versions()
            .addon_name(*addon)
            .kubernetes_version(&plan.kubernetes_version)
            .send()
            .await
            .unwrap();
        let default = versions.addons()[0]
            .addon_versions()
            .iter()
            .find(|v| v.compatibilities().iter().any(|c| c.default_version()))
            .and_then(|v| v.addon_version())
            .unwrap();
        assert_eq!(a.addon_version(), Some(default), "{addon}");
    }
    // DNS support and hostnames on the VPC eks6 made.
    let vpc = c.resources_vpc_config().unwrap().vpc_id().unwrap().to_string();
    for attr in [
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
    ] {
        let a = ec2.describe_vpc_attribute().vpc_id(&vpc).attribute(attr.clone()).send().await.unwrap();
        let on = a.enable_dns_support().or(a.enable_dns_hostnames()).and_then(|v| v.value());
        assert_eq!(on, Some(true), "{attr:?}");
    }

    // A second up finds everything.
    let again = up(&aws, &plan, &opts(&account).0).await.unwrap();
    assert!(again.steps.iter().all(|s| s.outcome != Outcome::Created), "{:#?}", again.steps);

    // down: eks6's add-ons, roles and policy gone; the foreign ones intact.
    let gone = down(&aws, Target::Plan(&plan), &opts(&account).0).await.unwrap();
    let deleted =
        |step: &str| gone.steps.iter().find(|s| s.step == step).map(|s| s.resources.clone()).unwrap_or_default();
    assert_eq!(deleted("addons").len(), 3, "{:#?}", gone.steps);
    assert_eq!(deleted("iam").len(), 3, "{:#?}", gone.steps);
    assert!(emu.inventory(&account, &plan).await.is_empty(), "{:#?}", emu.inventory(&account, &plan).await);
    assert!(iam.get_role().role_name("someone-elses-role").send().await.is_ok());
    assert_eq!(attached(&iam, "someone-elses-role").await, ["AmazonEKS_CNI_Policy"]);
    assert!(iam.get_policy().policy_arn(&foreign_policy).send().await.is_ok());
    assert!(iam.get_role().role_name("platform-admin").send().await.is_ok());
    let theirs = eks.describe_addon().cluster_name(&foreign).addon_name("vpc-cni").send().await.unwrap();
    assert!(theirs.addon().is_some());
    let _ = foreign_role;
}

/// IAM's documents come URL-encoded.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// A pinned `vpc_cni_version` is the add-on's version; one EKS does not offer for the
/// cluster's Kubernetes is refused before any write, naming what is offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_vpc_cni_is_used_or_refused_before_any_write() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let mut plan = fixtures::walkthrough();
    plan.probe = None;
    plan.cluster.vpc_cni_version = Some("1.10.1".into());
    let aws = emu.aws(&account, &plan.region).await;
    let err = up(&aws, &plan, &opts(&account).0).await.unwrap_err();
    assert_eq!(err.kind(), eks6::ErrorKind::PlanRejected, "{err}");
    assert!(err.to_string().contains("offers") && err.to_string().contains("v1.19.6-eksbuild.1"), "{err}");
    assert!(emu.inventory(&account, &plan).await.is_empty(), "nothing was made");

    plan.cluster.vpc_cni_version = Some("1.19.6".into());
    up(&aws, &plan, &opts(&account).0).await.unwrap();
    let (_, eks) = emu.sdk(&account, &plan.region).await;
    let a = eks.describe_addon().cluster_name(&plan.name).addon_name("vpc-cni").send().await.unwrap();
    assert_eq!(a.addon().unwrap().addon_version(), Some("v1.19.6-eksbuild.1"));
    down(&aws, Target::Plan(&plan), &opts(&account).0).await.unwrap();
    assert!(emu.inventory(&account, &plan).await.is_empty());
}

/// `addons = "self-managed"`: EKS's own bootstrap, no add-on call at all, nodes ACTIVE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_managed_addons_make_no_addon_calls() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let mut plan = fixtures::walkthrough();
    plan.cluster.addons = AddonMode::SelfManaged;
    let aws = emu.aws(&account, &plan.region).await;
    let report = up(&aws, &plan, &opts(&account).0).await.unwrap();
    assert!(report.steps.iter().any(|s| s.step == "addons" && s.outcome == Outcome::Skipped));
    let calls = aws.call_counts();
    assert!(!calls.keys().any(|k| k.contains("Addon")), "{calls:?}");
    down(&aws, Target::Plan(&plan), &opts(&account).0).await.unwrap();
    assert!(emu.inventory(&account, &plan).await.is_empty());
}

/// The refusals a real account would give after costly resources exist come before any
/// write: a version past extended support, AL2 on 1.33+, a zone id EKS refuses (named,
/// or a count that would need one), a node role without the IPv6 rights, an existing VPC
/// without DNS hostnames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_come_before_any_write() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let iam = emu.iam(&account).await;
    let base = fixtures::walkthrough();
    let aws = emu.aws(&account, &base.region).await;

    // Offline: not one call.
    for (what, plan) in [
        ("version", ClusterPlan { kubernetes_version: "1.21".into(), ..base.clone() }),
        ("al2", {
            let mut p = base.clone();
            p.nodegroup.ami_type = Some("AL2_x86_64".into());
            p
        }),
        ("zone id", {
            let mut p = base.clone();
            p.vpc.availability_zones = eks6::plan::AzSpec::Names(vec!["usw2-az1".into(), "usw1-az2".into()]);
            p
        }),
    ] {
        let before = aws.total_calls();
        let err = up(&aws, &plan, &opts(&account).0).await.unwrap_err();
        assert_eq!(err.kind(), eks6::ErrorKind::PlanRejected, "{what}: {err}");
        assert_eq!(aws.total_calls(), before, "{what}: calls were made");
    }

    // us-east-1 has six zones, one of them use1-az3: six zones cannot be had.
    let east = emu.aws(&account, "us-east-1").await;
    let mut six = ClusterPlan { region: "us-east-1".into(), ..base.clone() };
    six.vpc.availability_zones = eks6::plan::AzSpec::Count(6);
    let err = up(&east, &six, &opts(&account).0).await.unwrap_err();
    let findings = refused(&err);
    assert!(findings.iter().any(|f| f.rule == Rule::ZoneId && f.message.contains("5 zones EKS can use")), "{err}");
    assert!(emu.inventory(&account, &six).await.is_empty());
    // Five are fine, and skip use1-az3.
    let five = eks6::workflow::preflight(
        &east,
        &ClusterPlan {
            vpc: eks6::plan::VpcPlan { availability_zones: eks6::plan::AzSpec::Count(5), ..six.vpc.clone() },
            ..six.clone()
        },
        &PreflightOptions::default(),
    )
    .await
    .unwrap();
    assert!(!five.findings.iter().any(|f| f.rule == Rule::ZoneId), "{:#?}", five.findings);

    // A node role with only the IPv4 CNI policy: refused, and the cluster role (which
    // eks6 would create first) was not made.
    let ipv4 = role(&iam, "ipv4-node", EC2_TRUST, &["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]).await;
    let mut plan = base.clone();
    plan.iam.node_role = RoleSpec::Arn(ipv4.clone());
    let err = up(&aws, &plan, &opts(&account).0).await.unwrap_err();
    let f = refused(&err).into_iter().find(|f| f.rule == Rule::NodeRoleIpv6).unwrap_or_else(|| panic!("{err}"));
    assert!(
        f.message.contains("ec2:AssignIpv6Addresses (implicitDeny)") && f.fix.contains("network-interface/*"),
        "{f:?}"
    );
    assert!(emu.inventory(&account, &plan).await.is_empty(), "{:#?}", emu.inventory(&account, &plan).await);
    // A node role that trusts EKS instead of EC2, and one that does not exist.
    let wrong = role(&iam, "trusts-eks", EKS_TRUST, &[]).await;
    plan.iam.node_role = RoleSpec::Arn(wrong);
    let f = refused(&up(&aws, &plan, &opts(&account).0).await.unwrap_err());
    assert!(f.iter().any(|f| f.rule == Rule::RoleTrust && f.message.contains("ec2.amazonaws.com")), "{f:#?}");
    plan.iam.node_role = RoleSpec::Arn(format!("arn:aws:iam::{account}:role/not-there"));
    let f = refused(&up(&aws, &plan, &opts(&account).0).await.unwrap_err());
    assert!(f.iter().any(|f| f.rule == Rule::RoleExists && f.message.contains("not-there")), "{f:#?}");

    // The EKS user guide's own IPv6 policy (five actions and CreateTags, as terraform-aws-eks
    // makes it too) is enough: used, with a warning for the two the CNI's document added
    // later.
    let guide = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:AssignIpv6Addresses", "ec2:DescribeInstances", "ec2:DescribeTags", "ec2:DescribeNetworkInterfaces", "ec2:DescribeInstanceTypes"], "Resource": "*"}, {"Effect": "Allow", "Action": ["ec2:CreateTags"], "Resource": ["arn:aws:ec2:*:*:network-interface/*"]}]}"#;
    let policy =
        iam.create_policy().policy_name("AmazonEKS_CNI_IPv6_Policy").policy_document(guide).send().await.unwrap();
    // (Alone: AmazonEKSWorkerNodePolicy would grant the two Describe actions itself.)
    let node = role(&iam, "guide-node", EC2_TRUST, &[]).await;
    iam.attach_role_policy()
        .role_name("guide-node")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    plan.iam.node_role = RoleSpec::Arn(node);
    let report = preflight(&aws, &plan, &PreflightOptions::default()).await.unwrap();
    assert!(!report.has_errors(), "{:#?}", report.findings);
    let w = report
        .findings
        .iter()
        .find(|f| f.rule == Rule::NodeRoleIpv6)
        .unwrap_or_else(|| panic!("{:#?}", report.findings));
    assert!(w.severity == Severity::Warning && w.message.contains("ec2:DescribeSubnets"), "{w:?}");
    // A role of another account: EKS takes none.
    plan.iam.node_role = RoleSpec::Arn("arn:aws:iam::999999999999:role/elsewhere".into());
    let f = refused(&up(&aws, &plan, &opts(&account).0).await.unwrap_err());
    assert!(f.iter().any(|f| f.rule == Rule::RoleExists && f.message.contains("999999999999")), "{f:#?}");

    // A cluster of the plan's name that another owner made: refused before the roles and
    // the network are made (not at the cluster step, after them).
    let other = foreign_cluster(emu, &account, &iam).await;
    let theirs = ClusterPlan { name: other, ..base.clone() };
    let f = refused(&up(&aws, &theirs, &opts(&account).0).await.unwrap_err());
    assert!(f.iter().any(|f| f.rule == Rule::ClusterExists), "{f:#?}");
    // (The inventory lists a cluster of the plan's name whoever made it: theirs, alone.)
    let inv = emu.inventory(&account, &theirs).await;
    assert_eq!(inv.keys().collect::<Vec<_>>(), ["cluster someone-elses"], "{inv:#?}");

    // An existing VPC without DNS hostnames (a new VPC's default).
    let (ec2, _) = emu.sdk(&account, "us-west-2").await;
    let vpc = ec2.create_vpc().cidr_block("10.5.0.0/16").amazon_provided_ipv6_cidr_block(true).send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let mut plan = base.clone();
    plan.vpc.id = Some(vpc.clone());
    let err = up(&aws, &plan, &opts(&account).0).await.unwrap_err();
    let f = refused(&err).into_iter().find(|f| f.rule == Rule::DnsAttributes).unwrap_or_else(|| panic!("{err}"));
    assert!(f.message.contains("DNS hostnames") && f.fix.contains("modify-vpc-attribute"), "{f:?}");
    assert!(emu.inventory(&account, &plan).await.is_empty());
    // With hostnames on it is used.
    fixtures::dns_hostnames_on(&ec2, &vpc).await;
    let ok = preflight(&aws, &plan, &PreflightOptions::default()).await.unwrap();
    assert!(!ok.has_errors(), "{:#?}", ok.findings);
}

fn refused(err: &WorkflowError) -> Vec<eks6::plan::Finding> {
    match err {
        WorkflowError::Refused { findings } => findings.clone(),
        other => panic!("not a refusal before writes: {other}"),
    }
}

/// `plan --live` lists every finding at once, read-only: instance types EC2 does not know
/// or that are not Nitro, Elastic IPs short for the NAT gateway, a cluster of the name
/// that is not the plan's, the VPC count past the default quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_preflight_lists_every_finding_read_only() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let (ec2, _) = emu.sdk(&account, "us-west-2").await;
    let mut plan = fixtures::walkthrough();
    plan.nodegroup.instance_types = vec!["m5.large".into(), "i3.large".into(), "m99.huge".into()];
    // Five Elastic IPs held (the quota the emulator reports is 5) and five VPCs more.
    for _ in 0..5 {
        ec2.allocate_address().domain(aws_sdk_ec2::types::DomainType::Vpc).send().await.unwrap();
    }
    for i in 0..5 {
        ec2.create_vpc()
            .cidr_block(format!("10.{}.0.0/16", 100 + i))
            .tag_specifications(fixtures::foreign_tags(ResourceType::Vpc, "x"))
            .send()
            .await
            .unwrap();
    }
    let aws = emu.aws(&account, &plan.region).await;
    let report = preflight(&aws, &plan, &PreflightOptions::default()).await.unwrap();
    let by_rule: BTreeMap<String, Vec<(Severity, String, String)>> =
        report.findings.iter().fold(BTreeMap::new(), |mut m, f| {
            m.entry(f.rule.to_string()).or_insert_with(Vec::new).push((f.severity, f.field.clone(), f.message.clone()));
            m
        });
    let has = |rule: &str, sev: Severity, text: &str| {
        by_rule.get(rule).is_some_and(|v| v.iter().any(|(s, _, m)| *s == sev && m.contains(text)))
    };
    assert!(has("nitro-only", Severity::Error, "i3.large"), "{by_rule:#?}");
    assert!(has("instance-type-offered", Severity::Error, "m99.huge"), "{by_rule:#?}");
    assert!(has("elastic-ip-quota", Severity::Error, "5 of 5"), "{by_rule:#?}");
    assert!(has("vpc-quota", Severity::Warning, "default quota is 5"), "{by_rule:#?}");
    assert!(report.has_errors());
    // Offline findings are there too, in one list.
    assert!(by_rule.contains_key("probe-reachability"), "{by_rule:#?}");
    // Read-only: nothing of the plan's exists.
    assert!(emu.inventory(&account, &plan).await.is_empty());

    // A cluster of the plan's name that another owner made.
    let iam = emu.iam(&account).await;
    let other = foreign_cluster(emu, &account, &iam).await;
    let theirs = ClusterPlan { name: other, ..fixtures::walkthrough() };
    let report = preflight(&aws, &theirs, &PreflightOptions::default()).await.unwrap();
    assert!(
        report.findings.iter().any(|f| f.rule == Rule::ClusterExists && f.severity == Severity::Error),
        "{:#?}",
        report.findings
    );
}
