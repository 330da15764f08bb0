//! `make demo`: the whole "EKS with IPv6" walkthrough against the local emulator, then
//! teardown, printed as a user would want to read it; `--bench N` runs it N times and
//! reports the median wall time and API calls per step (`make bench-walkthrough`).
//!
//! The emulator is moto with the test extension that launches nodegroup instances; the
//! cluster's Kubernetes API is a real kube-apiserver (with controller manager and
//! scheduler) from `tests/controlplane`, whose harness plays the kubelets; a real nginx
//! on `[::1]` stands in for every pod. Exits non-zero if anything unexpected fails.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use eks6::k8s::Kube;
use eks6::plan::{ClusterPlan, Date, Rule, SamplePlan, Severity, newest_standard_version};
use eks6::probe::ProbeOptions;
use eks6::workflow::{
    CheckStatus, Event, EventKind, Outcome, RunOptions, Target, VerifyOptions, VerifyReport, WaitPolicy, down, up,
    verify,
};
use eks6_tests::controlplane::ControlPlane;
use eks6_tests::emulator::{Emulator, repo_root};
use eks6_tests::nginx::Nginx;

/// The walkthrough's own printed addresses: pods of one node in the blog's VPC (not this
/// one), and the curl target with an 8-digit group.
const WALKTHROUGH_ADDRESSES: [&str; 3] =
    ["2600:1f13:812:0:46f9::", "2600:1f13:812:0:46f9::1", "2600:0000:0000:35000000:46f9::1"];

/// The test control plane's Kubernetes release (tests/controlplane/go.mod).
fn cp_version() -> String {
    let gomod = std::fs::read_to_string(repo_root().join("tests/controlplane/go.mod")).unwrap_or_default();
    gomod
        .lines()
        .find_map(|l| l.trim().strip_prefix("k8s.io/kubernetes ").map(|v| v.trim().to_string()))
        .unwrap_or_else(|| "?".into())
}

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

fn heading(title: &str) {
    say("");
    say(format!("== {title}"));
}

fn event_printer(quiet: bool) -> impl Fn(&Event) + Send + Sync + 'static {
    // A wait prints when its status changes, not at every poll.
    let last = std::sync::Mutex::new(String::new());
    move |e: &Event| {
        if let EventKind::Waiting { resource, status, .. } = &e.kind {
            let key = format!("{resource}\u{0}{status}");
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            if *last == key {
                return;
            }
            *last = key;
        }
        if quiet {
            return;
        }
        let t = e.elapsed_ms as f64 / 1000.0;
        match &e.kind {
            EventKind::StepFinished { step, outcome, resources, api_calls } => {
                say(format!("   [{t:5.1}s] {step:<20} {outcome:<8} {api_calls:>3} calls  {}", resources.join(" ")))
            }
            EventKind::Waiting { resource, status, .. } => {
                say(format!("   [{t:5.1}s]   waiting for {resource}: {status}"))
            }
            EventKind::Retry { resource, reason, .. } => say(format!("   [{t:5.1}s]   retry {resource}: {reason}")),
            _ => {}
        }
    }
}

/// One pass of the walkthrough; returns per-step (name, API calls, wall ms) and whether
/// everything went as expected.
struct Pass {
    rows: Vec<(String, u64, u64)>,
    ok: bool,
    checks: (usize, usize, usize),
    created: usize,
    deleted: usize,
}

async fn walkthrough(emu: &Emulator, nginx: &Nginx, account: &str, quiet: bool) -> Result<Pass, String> {
    let plan_path = repo_root().join("tests/fixtures/walkthrough.toml");
    let as_written = ClusterPlan::from_file(&plan_path).map_err(|e| e.to_string())?;
    // The walkthrough's 1.21 left EKS support in 2023: EKS refuses to create it, and so
    // does the plan. The demo goes on with the same plan on the newest version in
    // standard support, and says so.
    let today = Date::today();
    let newest = newest_standard_version(today).ok_or("no version in standard support in the table")?;
    // The Kubernetes half on: the guide's sample nginx Deployment and Service.
    let plan =
        ClusterPlan { kubernetes_version: newest.clone(), sample: Some(SamplePlan::default()), ..as_written.clone() };
    // The cluster's Kubernetes control plane (real kube-apiserver, controller manager and
    // scheduler), which the emulator's DescribeCluster points at.
    let cp = ControlPlane::start(emu, account, &plan.region, &plan.name, nginx.port);
    let mut rows = Vec::new();
    let mut ok = true;
    let journal = std::env::temp_dir().join(format!("eks6-demo-{account}.journal.json"));
    let _ = std::fs::remove_file(&journal);
    let opts = RunOptions::new(&journal)
        .with_wait(WaitPolicy::every(Duration::from_millis(50), Duration::from_secs(60)))
        .with_events(event_printer(quiet));
    let aws = emu.aws(account, &plan.region).await;

    if !quiet {
        heading("1. plan: the walkthrough's variables, checked offline");
        say(format!("   $ eks6 plan --config {}", plan_path.display()));
        let refused = as_written.validate_at(today);
        for f in &refused.findings {
            say(format!("   {f}"));
        }
        let version_refused =
            refused.findings.iter().any(|f| f.rule == Rule::VersionSupport && f.severity == Severity::Error);
        say(if version_refused {
            format!(
                "   as expected: Kubernetes {} is refused (EKS would refuse it too); the demo goes on with the same plan on {newest}, the newest version in standard support on {today}",
                as_written.kubernetes_version
            )
        } else {
            "   UNEXPECTED: the walkthrough's 1.21 was not refused".to_string()
        });
        ok &= version_refused;
        say(format!("   $ eks6 plan --config walkthrough.toml   # kubernetes_version = \"{newest}\""));
        let v = plan.validate_at(today);
        for f in &v.findings {
            say(format!("   {f}"));
        }
        ok &= !v.has_errors();
        let offline = plan.address_plan(None, &[], &[], &[]).map_err(|e| e.to_string())?;
        for line in offline.to_string().lines() {
            say(format!("   {line}"));
        }
    }

    if !quiet {
        heading(
            "2. up: IAM roles, dual-stack VPC, subnets, gateways, routes, IPv6 cluster, access, add-ons, probe rule, nodegroup, sample",
        );
        say("   $ eks6 up --config walkthrough.toml --endpoint-url <emulator>");
    }
    let report = up(&aws, &plan, &opts).await.map_err(|e| format!("up failed: {e}"))?;
    let created = report.steps.iter().filter(|s| s.outcome == Outcome::Created).map(|s| s.resources.len()).sum();
    for s in &report.steps {
        rows.push((format!("up/{}", s.step), s.api_calls, s.elapsed_ms));
    }

    // The walkthrough's kubectl, through the API with eks6's own token.
    let kube = Kube::for_cluster(&aws, &plan.name).await.map_err(|e| format!("the Kubernetes API: {e}"))?;
    let nodes = kube.nodes().await.map_err(|e| format!("list nodes: {e}"))?;
    let ns = plan.sample.as_ref().map_or("aws-news-blog", |s| s.namespace.as_str());
    let pods = kube.pods(ns, None).await.map_err(|e| format!("list pods: {e}"))?;
    if !quiet {
        heading("3. the Kubernetes side, through the API with eks6's own token (no AWS CLI, no kubectl)");
        say(format!("   API server {} (kube-apiserver {}, from DescribeCluster)", kube.endpoint(), cp_version()));
        say("   $ kubectl get nodes -o wide");
        say(format!("   {:<44} {:<9} {:<13} {}", "NAME", "STATUS", "VERSION", "INTERNAL-IP"));
        for n in &nodes {
            say(format!(
                "   {:<44} {:<9} {:<13} {}",
                n.name,
                if n.ready { "Ready" } else { "NotReady" },
                n.version,
                n.internal_ips.join(",")
            ));
        }
        say(format!("   $ kubectl get pods -n {ns} -o wide"));
        say(format!("   {:<46} {:<6} {:<9} {:<34} {}", "NAME", "READY", "STATUS", "IP", "NODE"));
        for p in &pods {
            say(format!(
                "   {:<46} {:<6} {:<9} {:<34} {}",
                p.name,
                if p.ready { "1/1" } else { "0/1" },
                p.phase,
                p.ips.join(","),
                p.node.as_deref().unwrap_or("<none>")
            ));
        }
    }
    let pod_ips: Vec<String> = pods.iter().flat_map(|p| p.ips.clone()).collect();

    if !quiet {
        heading("4. verify: the walkthrough's checks on both halves, with evidence (the in-VPC probe from a pod)");
        say(format!(
            "   $ eks6 verify --config walkthrough.toml {} --probe-address ::1 --probe-port {}",
            pod_ips.iter().map(|a| format!("--address {a}")).collect::<Vec<_>>().join(" "),
            nginx.port
        ));
    }
    let vo = VerifyOptions {
        addresses: pod_ips,
        probe: Some(("::1".into(), ProbeOptions { port: nginx.port, ..Default::default() })),
        ..Default::default()
    }
    .with_kubernetes_default(Some(&plan));
    let t = Instant::now();
    let calls = aws.total_calls();
    let good: VerifyReport = verify(&aws, Target::Plan(&plan), &vo).await.map_err(|e| format!("verify failed: {e}"))?;
    rows.push(("verify".into(), aws.total_calls() - calls, t.elapsed().as_millis() as u64));
    if !quiet {
        for line in good.to_string().lines() {
            say(format!("   {line}"));
        }
    }
    if !good.passed() {
        ok = false;
        say("   UNEXPECTED: a check failed on the cluster eks6 just made");
    }
    let count = |s| good.checks.iter().filter(|c| c.status == s).count();
    let checks = (count(CheckStatus::Pass), count(CheckStatus::Fail), count(CheckStatus::Skipped));

    if !quiet {
        heading("5. verify the walkthrough's own printed addresses (expected to fail)");
        say(format!(
            "   $ eks6 verify --config walkthrough.toml {}",
            WALKTHROUGH_ADDRESSES.map(|a| format!("--address {a}")).join(" ")
        ));
    }
    let vo = VerifyOptions { addresses: WALKTHROUGH_ADDRESSES.map(String::from).to_vec(), ..Default::default() };
    // (AWS-side checks only here: the Kubernetes half was verified above.)
    let bad = verify(&aws, Target::Plan(&plan), &vo).await.map_err(|e| format!("verify failed: {e}"))?;
    let addresses = bad.checks.iter().find(|c| c.name == "addresses");
    let expected = addresses.is_some_and(|c| {
        c.status == CheckStatus::Fail
            && c.evidence.iter().filter(|e| e.contains("outside the node subnets")).count() == 2
            && c.evidence.iter().any(|e| e.contains("group \"35000000\" at offset 15 has 8 hex digits"))
    });
    if !quiet {
        if let Some(c) = addresses {
            for e in &c.evidence {
                say(format!("   {e}"));
            }
        }
        say(if expected {
            "   as expected: the blog's addresses are outside this VPC's /56, and its curl target is not an IPv6 address"
        } else {
            "   UNEXPECTED: the walkthrough's addresses were not reported as they should be"
        });
    }
    ok &= expected;

    if !quiet {
        heading(
            "6. down: only what eks6 created (the sample first, then add-ons, roles and policy included), in reverse order",
        );
        say("   $ eks6 down --config walkthrough.toml");
    }
    let gone = down(&aws, Target::Plan(&plan), &opts).await.map_err(|e| format!("down failed: {e}"))?;
    let deleted = gone.steps.iter().filter(|s| s.outcome == Outcome::Deleted).map(|s| s.resources.len()).sum();
    for s in &gone.steps {
        rows.push((format!("down/{}", s.step), s.api_calls, s.elapsed_ms));
    }
    drop(cp);
    Ok(Pass { rows, ok, checks, created, deleted })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let bench =
        args.iter().position(|a| a == "--bench").map(|i| args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(5));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    rt.block_on(async move {
        let started = Instant::now();
        say("eks6 demo: the \"Amazon EKS with IPv6\" walkthrough, end to end, on a local AWS emulator");
        let emu = Emulator::shared();
        let nginx = Nginx::start();
        say(format!("   emulator (moto + eks6 test extension) at {}", emu.endpoint));
        say(format!("   nginx on [::1]:{} stands in for a pod", nginx.port));
        match bench {
            None => {
                let pass = match walkthrough(emu, &nginx, "111122223333", false).await {
                    Ok(p) => p,
                    Err(e) => {
                        say(format!("FAILED: {e}"));
                        return ExitCode::from(1);
                    }
                };
                heading("summary");
                say(format!(
                    "   checks: {} passed, {} failed, {} skipped; walkthrough addresses reported as expected: {}",
                    pass.checks.0,
                    pass.checks.1,
                    pass.checks.2,
                    if pass.ok { "yes" } else { "NO" }
                ));
                say(format!("   resources: {} created, {} deleted", pass.created, pass.deleted));
                say(format!("   {:<26} {:>9} {:>10}", "step", "API calls", "wall time"));
                for (step, calls, ms) in &pass.rows {
                    say(format!("   {step:<26} {calls:>9} {:>9.2}s", *ms as f64 / 1000.0));
                }
                let total: u64 = pass.rows.iter().map(|r| r.1).sum();
                say(format!("   {:<26} {total:>9} {:>9.2}s", "total", started.elapsed().as_secs_f64()));
                say(if pass.ok { "demo: OK" } else { "demo: FAILED" });
                if pass.ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
            }
            Some(n) => {
                let mut walls = Vec::new();
                let mut per_step: BTreeMap<String, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
                let mut order = Vec::new();
                for i in 0..n {
                    let t = Instant::now();
                    let account = format!("{:012}", 222_233_330_000u64 + i as u64);
                    match walkthrough(emu, &nginx, &account, true).await {
                        Ok(p) if p.ok => {
                            walls.push(t.elapsed().as_millis() as u64);
                            for (step, calls, ms) in p.rows {
                                if !order.contains(&step) {
                                    order.push(step.clone());
                                }
                                let e = per_step.entry(step).or_default();
                                e.0.push(calls);
                                e.1.push(ms);
                            }
                        }
                        Ok(_) => {
                            say("run failed its checks");
                            return ExitCode::from(1);
                        }
                        Err(e) => {
                            say(format!("run failed: {e}"));
                            return ExitCode::from(1);
                        }
                    }
                }
                let median = |v: &mut Vec<u64>| {
                    v.sort_unstable();
                    v[v.len() / 2]
                };
                say(format!(
                    "up + verify + down, {n} runs: median wall time {:.2}s",
                    median(&mut walls) as f64 / 1000.0
                ));
                say(format!("| {:<24} | {:>9} | {:>14} |", "step", "API calls", "median wall ms"));
                say(format!("| {:-<24} | {:->9} | {:->14} |", "", "", ""));
                let mut total = 0;
                for step in order {
                    let e = per_step.get_mut(&step).expect("recorded");
                    let calls = median(&mut e.0);
                    total += calls;
                    say(format!("| {step:<24} | {calls:>9} | {:>14} |", median(&mut e.1)));
                }
                say(format!("| {:<24} | {total:>9} | {:>14} |", "total", median(&mut walls)));
                ExitCode::SUCCESS
            }
        }
    })
}
