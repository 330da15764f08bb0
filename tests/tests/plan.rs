//! The cluster plan: the walkthrough's file loads, and every bad input is rejected
//! offline with a message that names the field and the reason.

use eks6::plan::{ClusterPlan, Date, PlanError, Rule, Severity};

const TODAY: Date = Date::new(2026, 11, 27);

fn walkthrough() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/walkthrough.toml")).unwrap()
}

/// The findings of a plan text with one line replaced, as (rule, severity, field, message).
fn findings(from: &str, to: &str) -> Vec<(String, Severity, String, String)> {
    let text = walkthrough();
    assert!(text.contains(from), "fixture lacks {from:?}");
    let plan = ClusterPlan::from_toml(&text.replace(from, to)).unwrap();
    plan.validate_at(TODAY).findings.into_iter().map(|f| (f.rule.to_string(), f.severity, f.field, f.message)).collect()
}

fn error_of<'a>(f: &'a [(String, Severity, String, String)], rule: &str) -> &'a (String, Severity, String, String) {
    f.iter().find(|x| x.0 == rule && x.1 == Severity::Error).unwrap_or_else(|| panic!("no {rule} error in {f:#?}"))
}

/// The walkthrough's own plan: its Kubernetes 1.21 left extended support in 2023, so EKS
/// refuses it and so does the plan, naming the newest version in standard support; on
/// that version the same plan has no error.
#[test]
fn walkthrough_plan_is_refused_for_its_version_only() {
    let plan = ClusterPlan::from_toml(&walkthrough()).unwrap();
    assert_eq!(plan.name, "AWSNewsBlog");
    assert_eq!(plan.nodegroup.name, "AWSNewsBlog-nodegroup");
    assert_eq!(plan.probe.as_ref().unwrap().port, 80);
    assert_eq!(plan.probe.as_ref().unwrap().allow_from, "::/0");
    assert_eq!(plan.iam.cluster_role, eks6::plan::RoleSpec::Create);
    let v = plan.validate_at(TODAY);
    let errors: Vec<_> = v.findings.iter().filter(|f| f.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].rule, Rule::VersionSupport);
    assert!(errors[0].message.contains("2023-02-15") && errors[0].message.contains("refuses"), "{}", errors[0].message);
    assert!(errors[0].fix.contains("1.35"), "{}", errors[0].fix);
    // The same version was fine on a date inside its support window.
    assert!(!plan.validate_at(Date::new(2022, 6, 1)).has(Rule::VersionSupport));
    let current = ClusterPlan { kubernetes_version: "1.35".into(), ..plan.clone() };
    assert!(!current.validate_at(TODAY).has_errors(), "{:#?}", current.validate_at(TODAY).findings);
    assert!(v.has(Rule::SshOpen));
    // JSON round trip: the same plan in the other format.
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(ClusterPlan::from_json(&json).unwrap(), plan);
    assert_eq!(ClusterPlan::from_toml(&plan.to_toml()).unwrap(), plan);
}

#[test]
fn unknown_key_names_key_and_line() {
    let text = walkthrough().replace("desired_size = 2", "desired_size = 2\ncolour = \"blue\"");
    let err = ClusterPlan::from_toml(&text).unwrap_err();
    let PlanError::Parse { line, message, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*line, 18);
    assert!(message.contains("unknown field `colour`"), "{message}");
    assert!(err.to_string().contains("line 18"), "{err}");
    let err = ClusterPlan::from_json(r#"{"name": "x", "colour": 1}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `colour`") && err.to_string().contains("line 1"), "{err}");
}

#[test]
fn bad_cidr() {
    let f = findings("ipv4_cidr = \"10.0.0.0/16\"", "ipv4_cidr = \"10.0.0.0/33\"");
    let e = error_of(&f, "vpc-ipv4-cidr");
    assert_eq!(e.2, "vpc.ipv4_cidr");
    assert!(e.3.contains("10.0.0.0/33"), "{}", e.3);
    let f = findings("ipv4_cidr = \"10.0.0.0/16\"", "ipv4_cidr = \"10.0.0.1/16\"");
    assert!(error_of(&f, "vpc-ipv4-cidr").3.contains("did you mean 10.0.0.0/16?"));
    let f = findings("ipv4_cidr = \"10.0.0.0/16\"", "ipv4_cidr = \"10.0.0.0/8\"");
    assert!(error_of(&f, "vpc-ipv4-cidr").3.contains("/16 to /28"));
    let f = findings("[probe]", "[probe]\nallow_from = \"2600:1f13::1/32\"");
    assert!(error_of(&f, "probe-allow-from").3.contains("did you mean 2600:1f13::/32?"));
}

#[test]
fn version_1_20_is_an_error() {
    let f = findings("kubernetes_version = \"1.21\"", "kubernetes_version = \"1.20\"");
    let e = error_of(&f, "version-minimum");
    assert_eq!(e.2, "kubernetes_version");
    assert!(e.3.contains("1.21 or later") && e.3.contains("1.20"), "{}", e.3);
    let f = findings("kubernetes_version = \"1.21\"", "kubernetes_version = \"latest\"");
    assert_eq!(error_of(&f, "version-format").2, "kubernetes_version");
}

#[test]
fn service_ipv4_cidr_on_ipv6() {
    let f = findings("[nodegroup]", "[cluster]\nserviceIpv4Cidr = \"172.20.0.0/16\"\n\n[nodegroup]");
    let e = error_of(&f, "service-ipv4-cidr");
    assert_eq!(e.2, "cluster.service_ipv4_cidr");
    assert!(e.3.contains("172.20.0.0/16") && e.3.contains("fc00::/7"), "{}", e.3);
}

#[test]
fn one_az() {
    let f = findings("availability_zones = 2 ", "availability_zones = 1 ");
    let e = error_of(&f, "two-azs");
    assert_eq!(e.2, "vpc.availability_zones");
    assert!(e.3.contains("at least two"), "{}", e.3);
    let f = findings("availability_zones = 2 ", "availability_zones = [\"us-west-2a\"] ");
    error_of(&f, "two-azs");
    let f = findings("availability_zones = 2 ", "availability_zones = [\"us-west-2a\", \"us-east-1b\"] ");
    assert!(error_of(&f, "az-region").3.contains("us-east-1b"));
}

const VPC: &str = "[vpc]                      # omit `id` to create a new dual-stack VPC";

fn with_iam(cluster: &str, node: &str) -> String {
    format!("[iam]\ncluster_role = \"{cluster}\"\nnode_role = \"{node}\"\n\n{VPC}")
}

#[test]
fn walkthrough_malformed_identifiers() {
    let f = findings(VPC, &with_iam("arn:aws:iam::0123456789:role/EKSClusterRole", "create"));
    let e = error_of(&f, "role-arn");
    assert_eq!(e.2, "iam.cluster_role");
    assert!(e.3.contains("\"0123456789\"") && e.3.contains("12 digits"), "{}", e.3);

    let f = findings(
        "[vpc]                      # omit `id` to create a new dual-stack VPC",
        "[vpc]\nid = \"vpc-0123456789abcdef0\"\nsubnet_ids = [\"subnet-06000a8\", \"subnet-0123456789abcdef0\"]",
    );
    let e = error_of(&f, "subnet-id");
    assert_eq!(e.2, "vpc.subnet_ids[0]");
    assert!(e.3.contains("subnet-06000a8") && e.3.contains("7 hex digits"), "{}", e.3);
    // Partitions other than aws are accepted.
    let f = findings(VPC, &with_iam("create", "arn:aws-cn:iam::123456789012:role/EKSNodeRole"));
    assert!(!f.iter().any(|x| x.0 == "role-arn"));
    let f = findings(VPC, &with_iam("create", "arn:aws-us-gov:iam::123456789012:role/EKSNodeRole"));
    assert!(!f.iter().any(|x| x.0 == "role-arn"));
    // The keys of before [iam] say where they went.
    let text = walkthrough().replace(
        "region = \"us-west-2\"",
        "region = \"us-west-2\"\nnode_role_arn = \"arn:aws:iam::123456789012:role/B\"",
    );
    let v = ClusterPlan::from_toml(&text).unwrap().validate_at(TODAY);
    let moved = v.findings.iter().find(|f| f.field == "node_role_arn").unwrap_or_else(|| panic!("{:#?}", v.findings));
    assert!(
        moved.message.contains("[iam] node_role") && moved.fix.contains("arn:aws:iam::123456789012:role/B"),
        "{moved:?}"
    );
    // One role for both is refused: the two trust different services.
    let same = "arn:aws:iam::123456789012:role/EKS";
    assert!(error_of(&findings(VPC, &with_iam(same, same)), "role-arn").3.contains("two roles"));
}

/// What the EKS user guide and the API say EKS refuses, refused offline: AL2 AMIs on
/// 1.33 and later, zone ids without control planes, admins that are not principals, the
/// DNS64 key; and what costs money or cannot work said so.
#[test]
fn aws_refusals_are_errors_before_any_call() {
    let v135 = |from: &str, to: &str| {
        let text = walkthrough().replace("kubernetes_version = \"1.21\"", "kubernetes_version = \"1.35\"");
        assert!(text.contains(from), "{from}");
        ClusterPlan::from_toml(&text.replace(from, to)).unwrap().validate_at(TODAY).findings
    };
    let f = v135("desired_size = 2", "desired_size = 2\nami_type = \"AL2_x86_64\"");
    let e = f.iter().find(|f| f.rule == Rule::AmiType).unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!((e.severity, e.field.as_str()), (Severity::Error, "nodegroup.ami_type"));
    assert!(e.message.contains("1.33") && e.fix.contains("AL2023"), "{e:?}");
    // On 1.32 AL2 is still published.
    let text = walkthrough()
        .replace("1.21", "1.32")
        .replace("desired_size = 2", "desired_size = 2\nami_type = \"AL2_x86_64\"");
    assert!(!ClusterPlan::from_toml(&text).unwrap().validate_at(TODAY).has(Rule::AmiType));

    let f = v135("availability_zones = 2 ", "availability_zones = [\"usw2-az1\", \"use1-az3\"] ");
    let e = f.iter().find(|f| f.rule == Rule::ZoneId).unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!((e.severity, e.field.as_str()), (Severity::Error, "vpc.availability_zones[1]"));
    assert!(e.message.contains("UnsupportedAvailabilityZoneException"), "{e:?}");

    let f =
        v135("[probe]", "[access]\nadmins = [\"arn:aws:sts::123456789012:assumed-role/A/s\", \"alice\"]\n\n[probe]");
    let bad: Vec<_> = f.iter().filter(|f| f.rule == Rule::AccessAdmin).map(|f| f.field.as_str()).collect();
    assert_eq!(bad, ["access.admins[0]", "access.admins[1]"], "{f:#?}");

    let f = v135("private_subnets = true", "private_subnets = true\ndns64 = false");
    let e = f.iter().find(|f| f.rule == Rule::Dns64).unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(e.severity, Severity::Error, "any value of the removed key is an error");
    assert!(e.message.contains("NAT64"), "{e:?}");

    let f = v135("[nodegroup]", "[cluster]\nsupport = \"extended\"\n\n[nodegroup]");
    let e = f.iter().find(|f| f.rule == Rule::SupportType).unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(e.severity, Severity::Info);
    assert!(e.message.contains("12 more months") && e.message.contains("extended-support rate"), "{e:?}");
    // A version in extended support: with support = standard EKS upgrades it.
    let text = walkthrough().replace("1.21", "1.33");
    let f = ClusterPlan::from_toml(&text).unwrap().validate_at(TODAY).findings;
    let e = f.iter().find(|f| f.rule == Rule::VersionSupport).unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(e.severity, Severity::Warning);
    assert!(e.message.contains("upgrades"), "{e:?}");

    // The probe from outside cannot reach nodes behind the egress-only gateway.
    let f = v135("port = 80 ", "port = 80 ");
    let e = f.iter().find(|f| f.rule == Rule::ProbeReachability).unwrap_or_else(|| panic!("{f:#?}"));
    assert!(e.message.contains("egress-only") && e.fix.contains("public"), "{e:?}");
    let f = v135("name = \"AWSNewsBlog-nodegroup\"", "name = \"AWSNewsBlog-nodegroup\"\nsubnets = \"public\"");
    assert!(!f.iter().any(|f| f.rule == Rule::ProbeReachability), "{f:#?}");

    // The Nitro list keeps only certain families: a1 and i3.metal are Nitro.
    let f = v135("instance_types = [\"m5.large\"]", "instance_types = [\"a1.large\", \"i3.metal\", \"p3dn.24xlarge\"]");
    assert!(!f.iter().any(|f| f.rule == Rule::NitroOnly), "{f:#?}");
    // p3 and f1 are Xen at every size (the VPC CNI's own table).
    let f = v135("instance_types = [\"m5.large\"]", "instance_types = [\"p3.2xlarge\", \"f1.2xlarge\"]");
    assert_eq!(f.iter().filter(|f| f.rule == Rule::NitroOnly).count(), 2, "{f:#?}");
}

#[test]
fn other_rules() {
    let f = findings("instance_types = [\"m5.large\"]", "instance_types = [\"t2.micro\", \"m5.large\"]");
    assert_eq!(error_of(&f, "nitro-only").2, "nodegroup.instance_types[0]");
    let f = findings("desired_size = 2", "desired_size = 2\nami_type = \"WINDOWS_CORE_2019_x86_64\"");
    error_of(&f, "windows-nodes");
    let f = findings("desired_size = 2", "desired_size = 5\nmax_size = 3");
    error_of(&f, "nodegroup-size");
    let f = findings("port = 80", "port = 0");
    error_of(&f, "probe-port");
    let f = findings("region = \"us-west-2\"", "region = \"uswest2\"");
    error_of(&f, "region");
    let f = findings("[nodegroup]", "[cluster]\nvpc_cni_version = \"1.9.3\"\n\n[nodegroup]");
    assert!(error_of(&f, "vpc-cni-version").3.contains("1.10.1"));
    let f = findings("[nodegroup]", "[cluster]\nip_family = \"ipv4\"\n\n[nodegroup]");
    error_of(&f, "ip-family");
    let f = findings("private_subnets = true", "private_subnets = true\ndns64 = true");
    assert!(f.iter().any(|x| x.0 == "dns64" && x.1 == Severity::Error));
    let f = findings("ipv4_cidr = \"10.0.0.0/16\"", "ipv4_cidr = \"10.0.0.0/22\"");
    error_of(&f, "subnet-ipv4-fit");
    // All findings at once: two errors in one plan give two findings.
    let text = walkthrough().replace("1.21", "1.19").replace("port = 80", "port = 70000");
    let v = ClusterPlan::from_toml(&text).unwrap().validate_at(TODAY);
    assert!(v.has(Rule::VersionMinimum) && v.has(Rule::ProbePort), "{:#?}", v.findings);
}

#[test]
fn address_plan_skips_used_blocks() {
    let plan = ClusterPlan::from_toml(&walkthrough()).unwrap();
    let vpc = "2600:1f13:812::/56".parse().unwrap();
    let used6 = ["2600:1f13:812::/64".parse().unwrap(), "2600:1f13:812:2::/64".parse().unwrap()];
    let used4 = ["10.0.0.0/20".parse().unwrap()];
    let zones = ["us-west-2a".to_string(), "us-west-2b".to_string()];
    let ap = plan.address_plan(Some(vpc), &zones, &used6, &used4).unwrap();
    let got: Vec<(String, String, String, String)> = ap
        .subnets
        .iter()
        .map(|s| (s.key.clone(), s.zone.clone(), s.ipv4.to_string(), s.ipv6.unwrap().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("public-0", "us-west-2a", "10.0.16.0/20", "2600:1f13:812:1::/64"),
            ("public-1", "us-west-2b", "10.0.32.0/20", "2600:1f13:812:3::/64"),
            ("private-0", "us-west-2a", "10.0.48.0/20", "2600:1f13:812:4::/64"),
            ("private-1", "us-west-2b", "10.0.64.0/20", "2600:1f13:812:5::/64"),
        ]
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
    );
    assert!(ap.subnets.iter().all(|s| s.node_prefixes == 65_536));
    let table = ap.to_string();
    assert!(table.contains("2600:1f13:812:5::/64") && table.contains("65536"), "{table}");
    // Before the VPC exists: indexes only.
    let offline = plan.address_plan(None, &[], &[], &[]).unwrap();
    assert_eq!(offline.subnets[3].ipv6_index, 3);
    assert!(offline.to_string().contains("/64 #3 of the /56"));
}

#[test]
fn every_offline_rule_fires_on_some_bad_plan() {
    use std::collections::BTreeSet;
    let mutations: &[(&str, &str)] = &[
        (
            "[vpc]                      # omit `id` to create a new dual-stack VPC",
            "[vpc]\nid = \"vpc-0123abcd\"\nsubnet_ids = [\"subnet-06000a8\"]",
        ),
        (
            "[vpc]                      # omit `id` to create a new dual-stack VPC",
            "[vpc]\nid = \"vpc-01\"\nsubnet_ids = [\"subnet-0123abcd\"]",
        ),
        (
            "[vpc]                      # omit `id` to create a new dual-stack VPC",
            "[vpc]\nsubnet_ids = [\"subnet-0123abcd\", \"subnet-0123abce\"]",
        ),
        ("availability_zones = 2 ", "availability_zones = [\"eu-west-1a\", \"us-west-2a\"] "),
        ("name = \"AWSNewsBlog\"", "name = \"-bad name\""),
        ("private_subnets = true", "private_subnets = true\ndns64 = true\nnat_gateways = \"none\""),
        (
            "[nodegroup]",
            "[cluster]\nendpoint_public_access = false\nendpoint_private_access = false\nip_family = \"ipv4\"\nservice_ipv4_cidr = \"10.100.0.0/16\"\nvpc_cni_version = \"1.9.0\"\n\n[nodegroup]",
        ),
        (
            "instance_types = [\"m5.large\"]",
            "instance_types = [\"m5large\", \"c4.large\"]\nami_type = \"WINDOWS_FULL_2022_x86_64\"\nmin_size = 3",
        ),
        ("public_subnets = true\nprivate_subnets = true", "public_subnets = false\nprivate_subnets = false"),
        ("public_subnets = true", "public_subnets = false"),
        ("name = \"AWSNewsBlog-nodegroup\"", "name = \"AWSNewsBlog-nodegroup\"\nsubnets = \"public\""),
        ("name = \"AWSNewsBlog-nodegroup\"", "name = \"\""),
        ("port = 80 ", "port = 0\nallow_from = \"10.0.0.0/8\" "),
        ("region = \"us-west-2\"", "region = \"mars\""),
        (
            "[vpc]                      # omit",
            "[iam]\nnode_role = \"arn:aws:iam::123:role/EKSNodeRole\"\n[vpc]                      # omit",
        ),
        ("[probe]", "[access]\nadmins = [\"bob\"]\n[probe]"),
        ("desired_size = 2", "desired_size = 2\nami_type = \"AL2_ARM_64\""),
        ("availability_zones = 2 ", "availability_zones = [\"usw1-az2\", \"usw2-az1\"] "),
        ("[nodegroup]", "[cluster]\nsupport = \"extended\"\n\n[nodegroup]"),
        ("ipv4_cidr = \"10.0.0.0/16\"", "ipv4_cidr = \"10.0.0.0/27\"\nipv4_subnet_len = 28"),
        ("ipv4_cidr = \"10.0.0.0/16\"", "ipv4_cidr = \"ten\""),
        ("availability_zones = 2 ", "availability_zones = 1 "),
        ("kubernetes_version = \"1.21\"", "kubernetes_version = \"2.0\""),
        ("kubernetes_version = \"1.21\"", "kubernetes_version = \"1.19\""),
        ("desired_size = 2", "desired_size = 1000\nmax_size = 1000"),
        ("[probe]", "[tags]\n\"aws:x\" = \"y\"\n[probe]"),
        ("[probe]", "[sample]\nnamespace = \"kube-system\"\nreplicas = 0\nimage = \"bad image\"\n[probe]"),
        ("[probe]", "[sample]\nnamespace = \"Not_A_Name\"\nreplicas = 101\n[probe]"),
        ("[nodegroup]", "[cluster]\nendpoint_public_access = false\n\n[sample]\n\n[nodegroup]"),
    ];
    let text = walkthrough();
    let mut fired = BTreeSet::new();
    // Each mutation on the walkthrough as written (1.21) and on a current version, where
    // rules of newer versions apply (no AL2 AMIs from 1.33).
    let current = text.replace("kubernetes_version = \"1.21\"", "kubernetes_version = \"1.35\"");
    for (from, to) in mutations.iter().flat_map(|m| [(&text, m), (&current, m)]).map(|(t, (f, to))| ((t, *f), *to)) {
        let (text, from) = from;
        if !text.contains(from) && text == &current {
            continue; // a mutation of the walkthrough's own version
        }
        assert!(text.contains(from), "fixture lacks {from:?}");
        let plan = ClusterPlan::from_toml(&text.replace(from, to)).unwrap_or_else(|e| panic!("{to}: {e}"));
        for f in plan.validate_at(TODAY).findings {
            assert_eq!(f.rule.stage(), eks6::plan::Stage::Offline, "rule {} is not an offline rule", f.rule);
            assert!(!f.message.is_empty() && !f.fix.is_empty() && !f.field.is_empty());
            fired.insert(f.rule.to_string());
        }
    }
    let all: BTreeSet<String> = eks6::plan::offline_rules().map(|r| r.to_string()).collect();
    let missing: Vec<_> = all.difference(&fired).collect();
    assert!(missing.is_empty(), "rules no test plan triggers: {missing:?}");
}

/// Found by the `plan` fuzz target: `address_plan` on an unvalidated plan with a subnet
/// length past the VPC's block overflowed (`96 + 160` in a `u8`). Every length is an
/// error naming the rule now, never a panic or an internal prefix.
#[test]
fn address_plan_rejects_any_subnet_length_out_of_range() {
    for len in [0u8, 8, 15, 29, 32, 33, 159, 160, 255] {
        let text = walkthrough().replace("[vpc]", &format!("[vpc]\nipv4_subnet_len = {len}"));
        let plan = ClusterPlan::from_toml(&text).unwrap();
        match plan.address_plan(None, &[], &[], &[]) {
            Err(PlanError::Invalid { findings, .. }) => {
                assert!(findings.iter().any(|f| f.rule == "subnet-ipv4-fit"), "/{len}: {findings:#?}")
            }
            other => panic!("/{len}: {other:?}"),
        }
    }
    let text = walkthrough().replace("[vpc]", "[vpc]\nipv4_subnet_len = 28");
    assert!(ClusterPlan::from_toml(&text).unwrap().address_plan(None, &[], &[], &[]).is_ok());
}

/// The plans in `examples/` pass `eks6 plan` (on a pinned date: versions leave support,
/// and a test must not start failing when one does), and the README's plan is
/// `examples/cluster.toml`, word for word.
#[test]
fn examples_pass_plan_and_the_readme_shows_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let plan = ClusterPlan::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let v = plan.validate_at(Date::new(2026, 11, 29));
        assert!(!v.has_errors(), "{}: {:#?}", path.display(), v.findings);
        seen += 1;
    }
    assert!(seen >= 2, "the examples are there");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/cluster.toml")).unwrap();
    assert!(readme.contains(&format!("```toml\n{example}```")), "the README's plan is examples/cluster.toml");
}

/// What AWS refuses after costly resources exist is an error before any: a subnet given
/// twice, tags past EC2's and EKS's limits or under `aws:`, eks6's own tag keys, more
/// nodes than Kubernetes supports; a quota that can be raised is a warning naming it.
#[test]
fn hard_limits_are_errors_and_quotas_warnings() {
    let f = findings(
        "[vpc]",
        "[vpc]\nid = \"vpc-0123456789abcdef0\"\nsubnet_ids = [\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef0\"]",
    );
    assert!(error_of(&f, "subnet-id").3.contains("listed twice"), "{f:#?}");

    let f = findings("desired_size = 2", "desired_size = 100000000\nmax_size = 100000000");
    assert!(error_of(&f, "nodegroup-size").3.contains("at most 5000 nodes"), "{f:#?}");
    let f = findings("desired_size = 2", "desired_size = 1000\nmax_size = 1000");
    assert!(!f.iter().any(|x| x.1 == Severity::Error && x.0 != "version-support"), "{f:#?}");
    let quota = f.iter().find(|x| x.0 == "nodegroup-quota").unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(quota.1, Severity::Warning);
    assert!(quota.3.contains("Nodes per managed node group"), "{quota:?}");

    let many: String = (0..46).map(|i| format!("k{i} = \"v\"\n")).collect();
    let tags = |t: &str| findings("[probe]", &format!("[tags]\n{t}\n[probe]"));
    assert!(error_of(&tags(&many), "tags").3.contains("at most 50"));
    assert!(error_of(&tags("\"aws:team\" = \"x\""), "tags").3.contains("reserved for AWS"));
    assert!(error_of(&tags(&format!("{} = \"x\"", "k".repeat(128))), "tags").3.contains("1 to 127"));
    assert!(error_of(&tags(&format!("team = \"{}\"", "v".repeat(257))), "tags").3.contains("at most 256"));
    let own = tags("\"eks6:cluster\" = \"other\"");
    assert!(error_of(&own, "tags").3.contains("eks6's own"), "{own:#?}");
    assert!(!tags(&(0..45).map(|i| format!("k{i} = \"v\"\n")).collect::<String>()).iter().any(|x| x.0 == "tags"));
}

/// A zone count no region has says so, instead of serde's "did not match any variant".
#[test]
fn availability_zones_out_of_range_says_what_is_wrong() {
    let text = walkthrough().replace("availability_zones = 2 ", "availability_zones = 300 ");
    let err = ClusterPlan::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("availability_zones = 300") && err.contains("2 to 16"), "{err}");
    assert!(!err.contains("untagged enum"), "{err}");
    let text = walkthrough().replace("availability_zones = 2 ", "availability_zones = \"two\" ");
    let err = ClusterPlan::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("a number of zones"), "{err}");
}

/// A 10 MB name is quoted in the finding by its first few hundred characters.
#[test]
fn findings_quote_little_of_a_huge_value() {
    let f = findings("name = \"AWSNewsBlog\"", &format!("name = \"{}\"", "x".repeat(10_000_000)));
    let e = error_of(&f, "cluster-name");
    assert!(e.3.len() < 1_000 && e.3.contains("characters in all"), "{} bytes", e.3.len());
}
