//! `verify` after `up`, against the emulator and a real nginx on `[::1]` standing in
//! for a pod: every check passes with evidence; the walkthrough's own printed addresses
//! fail as they should; on the plain emulator the checks without data are skipped.

use std::time::Duration;

use eks6::kubeconfig::Identity;
use eks6::plan::{ClusterPlan, NatGateways};
use eks6::probe::ProbeOptions;
use eks6::workflow::{CheckStatus, RunOptions, Target, VerifyOptions, WaitPolicy, down, up, verify};
use eks6_tests::emulator::{Emulator, fresh_account};
use eks6_tests::fixtures;
use eks6_tests::nginx::Nginx;

fn plan() -> ClusterPlan {
    fixtures::walkthrough()
}

fn opts(account: &str) -> RunOptions {
    let dir = std::env::temp_dir().join(format!("eks6-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    RunOptions::new(dir.join(format!("{account}.json")))
        .with_wait(WaitPolicy::every(Duration::from_millis(5), Duration::from_secs(20)))
}

fn status(r: &eks6::workflow::VerifyReport, name: &str) -> CheckStatus {
    r.checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check {name}: {r}")).status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_after_up_and_the_walkthrough_addresses_fail() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let plan = plan();
    let aws = emu.aws(&account, &plan.region).await;
    up(&aws, &plan, &opts(&account)).await.unwrap();
    let nginx = Nginx::start();
    let kubectl = emu.kubectl_listing(&account, "us-west-2", "AWSNewsBlog").await;
    let vo = VerifyOptions {
        kubectl: Some(kubectl),
        probe: Some(("::1".into(), ProbeOptions { port: nginx.port, ..Default::default() })),
        ..Default::default()
    };
    let report = verify(&aws, Target::Plan(&plan), &vo).await.unwrap();
    for name in ["cluster-ipv6", "subnets-ipv6", "routes", "nodes-ipv6", "probe-port-open", "addresses", "http-probe"] {
        assert_eq!(status(&report, name), CheckStatus::Pass, "{name}:\n{report}");
    }
    assert!(report.passed() && report.passed_strict(), "{report}");
    let addresses = report.checks.iter().find(|c| c.name == "addresses").unwrap();
    assert_eq!(addresses.evidence.iter().filter(|e| e.contains("(one node's prefix)")).count(), 2, "{report}");
    let rule = report.checks.iter().find(|c| c.name == "probe-port-open").unwrap();
    assert!(rule.evidence.iter().any(|e| e.contains("allows tcp port 80 from ::/0 (sgr-")), "{report}");
    let text = report.to_string();
    assert!(text.contains("Welcome to nginx!") || text.contains("200 OK"), "{text}");

    // The walkthrough's own printed addresses: outside the VPC, and invalid.
    let vo = VerifyOptions {
        addresses: vec!["2600:1f13:812:0:46f9::1".into(), "2600:0000:0000:35000000:46f9::1".into()],
        ..Default::default()
    };
    let report = verify(&aws, Target::Plan(&plan), &vo).await.unwrap();
    assert_eq!(status(&report, "addresses"), CheckStatus::Fail);
    assert!(!report.passed());
    let ev = &report.checks.iter().find(|c| c.name == "addresses").unwrap().evidence;
    assert!(
        ev.iter().any(|e| e.starts_with("2600:1f13:812:0:46f9::1: outside the node subnets and outside the VPC's")),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| e.contains("group \"35000000\" at offset 15 has 8 hex digits")), "{ev:?}");

    // Read-only on a cluster named, not planned: describes and lists only.
    let before = aws.call_counts();
    let report = verify(&aws, Target::Cluster { name: "AWSNewsBlog", region: "us-west-2" }, &VerifyOptions::default())
        .await
        .unwrap();
    assert_eq!(status(&report, "nodes-ipv6"), CheckStatus::Pass, "{report}");
    let after = aws.call_counts();
    for op in after.keys().filter(|k| after.get(*k) != before.get(*k)) {
        let name = op.split(':').nth(1).unwrap();
        assert!(name.starts_with("Describe") || name.starts_with("List"), "verify called {op}");
    }
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_emulator_skips_what_it_lacks() {
    let emu = Emulator::plain();
    let account = fresh_account();
    // Plain moto has no add-on API: EKS's own bootstrap is the choice that works there.
    let mut plan = plan();
    plan.cluster.addons = eks6::plan::AddonMode::SelfManaged;
    let aws = emu.aws(&account, &plan.region).await;
    up(&aws, &plan, &opts(&account)).await.unwrap();
    let report = verify(&aws, Target::Plan(&plan), &VerifyOptions::default()).await.unwrap();
    assert_eq!(status(&report, "nodes-ipv6"), CheckStatus::Skipped, "{report}");
    assert_eq!(status(&report, "probe-port-open"), CheckStatus::Skipped);
    assert_eq!(status(&report, "addresses"), CheckStatus::Skipped);
    assert_eq!(status(&report, "routes"), CheckStatus::Pass, "{report}");
    assert_eq!(status(&report, "http-probe"), CheckStatus::Skipped);
    assert!(report.passed(), "{report}");
    assert!(!report.passed_strict(), "skipped checks are not a strict pass");
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
}

#[test]
fn kubectl_json_and_nodes() {
    let pods =
        r#"{"items":[{"status":{"podIP":"2600::1","podIPs":[{"ip":"2600::1"}]}},{"status":{"podIP":"2600::2"}}]}"#;
    assert_eq!(eks6::kubectl::addresses_from_kubectl(pods), ["2600::1", "2600::2"]);
    let nodes = "NAME   STATUS   ROLES    AGE   VERSION   INTERNAL-IP      EXTERNAL-IP   OS-IMAGE\n\
                 ip-1   Ready    <none>   1d    v1.30     2600:1f13::10    <none>        Amazon Linux\n";
    assert_eq!(eks6::kubectl::addresses_from_kubectl(nodes), ["2600:1f13::10"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_entry_keeps_other_entries() {
    let emu = Emulator::shared();
    let account = fresh_account();
    let plan = plan();
    let aws = emu.aws(&account, &plan.region).await;
    up(&aws, &plan, &opts(&account)).await.unwrap();
    let path = std::env::temp_dir().join(format!("eks6-kubeconfig-{account}"));
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://other.example\n  name: other\ncontexts:\n- context:\n    cluster: other\n    user: other\n  name: other\ncurrent-context: other\nusers:\n- name: other\n  user:\n    token: keep-me\n",
    )
    .unwrap();
    let who = |profile| Identity { profile, role_arn: None, eks6: None };
    let written = eks6::kubeconfig::write(&aws, "AWSNewsBlog", who(Some("acct")), &path).await.unwrap();
    let context = written.context;
    assert!(context.starts_with("arn:aws:eks:us-west-2:") && context.ends_with(":cluster/AWSNewsBlog"), "{context}");
    // The caller created the cluster: nothing to warn about.
    assert!(written.warnings.is_empty(), "{:?}", written.warnings);
    // Twice: the entry is replaced, not added again.
    eks6::kubeconfig::write(&aws, "AWSNewsBlog", who(Some("acct")), &path).await.unwrap();
    let v: serde_json::Value = serde_norway_to_json(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(v["current-context"], context.as_str());
    let names =
        |k: &str| v[k].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names("clusters"), ["other".to_string(), context.clone()]);
    assert_eq!(names("users"), ["other".to_string(), context.clone()]);
    assert_eq!(names("contexts"), ["other".to_string(), context.clone()]);
    assert_eq!(v["users"][0]["user"]["token"], "keep-me");
    let exec = &v["users"][1]["user"]["exec"];
    assert_eq!(exec["command"], "aws");
    assert_eq!(
        exec["args"],
        serde_json::json!([
            "--region",
            "us-west-2",
            "eks",
            "get-token",
            "--cluster-name",
            "AWSNewsBlog",
            "--output",
            "json"
        ])
    );
    assert_eq!(exec["env"][0]["value"], "acct");
    assert!(v["clusters"][1]["cluster"]["server"].as_str().unwrap().starts_with("https://"));

    // The file's mode is kept (0600 stays 0600; it holds other clusters' credentials); a
    // symlinked kubeconfig stays a link, its target updated; a new file is 0600.
    use std::os::unix::fs::{PermissionsExt, symlink};
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    eks6::kubeconfig::write(&aws, "AWSNewsBlog", who(None), &path).await.unwrap();
    assert_eq!(mode(&path), 0o600);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    eks6::kubeconfig::write(&aws, "AWSNewsBlog", who(None), &path).await.unwrap();
    assert_eq!(mode(&path), 0o640, "a mode the owner chose is kept");
    let link = std::env::temp_dir().join(format!("eks6-kubeconfig-link-{account}"));
    let _ = std::fs::remove_file(&link);
    symlink(&path, &link).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::read_to_string(&path).unwrap();
    eks6::kubeconfig::write(&aws, "AWSNewsBlog", who(Some("other-profile")), &link).await.unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is still a link");
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after != before && after.contains("other-profile"), "the link's target got the entry");
    assert_eq!(mode(&path), 0o600);
    let fresh = std::env::temp_dir().join(format!("eks6-kubeconfig-new-{account}/config"));
    eks6::kubeconfig::write(&aws, "AWSNewsBlog", who(None), &fresh).await.unwrap();
    assert_eq!(mode(&fresh), 0o600, "a new kubeconfig is owner-only");

    // A role to sign in as: `--role-arn` in the token command, and, since that role is
    // neither the creator nor an admin, a warning naming the creator.
    let other = format!("arn:aws:iam::{account}:role/reader");
    let w = eks6::kubeconfig::write(
        &aws,
        "AWSNewsBlog",
        Identity { profile: None, role_arn: Some(&other), eks6: None },
        &fresh,
    )
    .await
    .unwrap();
    let v = serde_norway_to_json(&std::fs::read_to_string(&fresh).unwrap());
    let args = v["users"][0]["user"]["exec"]["args"].as_array().unwrap();
    assert_eq!(&args[args.len() - 2..], [serde_json::json!("--role-arn"), serde_json::json!(other)]);
    let creator = format!("arn:aws:iam::{account}:role/eks6-test");
    assert!(
        w.warnings.len() == 1 && w.warnings[0].contains(&other) && w.warnings[0].contains(&creator),
        "{:?}",
        w.warnings
    );
    // As an admin of the plan, no warning.
    let mut with_admin = plan.clone();
    with_admin.access.admins = vec![other.clone()];
    up(&aws, &with_admin, &opts(&account)).await.unwrap();
    let w = eks6::kubeconfig::write(
        &aws,
        "AWSNewsBlog",
        Identity { profile: None, role_arn: Some(&other), eks6: None },
        &fresh,
    )
    .await
    .unwrap();
    assert!(w.warnings.is_empty(), "{:?}", w.warnings);
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
}

/// YAML to JSON through the same YAML crate the library uses.
fn serde_norway_to_json(text: &str) -> serde_json::Value {
    let v: serde_norway::Value = serde_norway::from_str(text).unwrap();
    serde_json::to_value(v).unwrap()
}

/// Private subnets without NAT gateways (IPv6-only egress, as the plan allows): the route
/// check passes without a `0.0.0.0/0` route, and fails for a plan that wants NAT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_only_private_subnets_pass_the_route_check() {
    let emu = Emulator::plain();
    let account = fresh_account();
    let mut plan = plan();
    plan.vpc.nat_gateways = NatGateways::None;
    plan.cluster.addons = eks6::plan::AddonMode::SelfManaged;
    let aws = emu.aws(&account, &plan.region).await;
    up(&aws, &plan, &opts(&account)).await.unwrap();
    let report = verify(&aws, Target::Plan(&plan), &VerifyOptions::default()).await.unwrap();
    assert_eq!(status(&report, "routes"), CheckStatus::Pass, "{report}");
    let routes = &report.checks.iter().find(|c| c.name == "routes").unwrap().evidence;
    assert!(
        routes.iter().any(|e| e.contains("-> eigw-") && e.ends_with("0.0.0.0/0 -> none (IPv6-only egress)")),
        "{routes:?}"
    );
    let mut wants_nat = plan.clone();
    wants_nat.vpc.nat_gateways = NatGateways::Single;
    let report = verify(&aws, Target::Plan(&wants_nat), &VerifyOptions::default()).await.unwrap();
    assert_eq!(status(&report, "routes"), CheckStatus::Fail, "{report}");
    down(&aws, Target::Plan(&plan), &opts(&account)).await.unwrap();
}
