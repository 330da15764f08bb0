//! `make bench-walkthrough`: figures, not assertions (nothing here fails on speed).
//!
//! 1. **The graph against its floor.** `up` then `down` of the walkthrough's plan on a
//!    new emulator in the extension's time-based mode (`EKS6_MOTO_TIME_SCALE`): every
//!    state lasts AWS's usual duration (`core/src/workflow/expected_durations.toml`)
//!    times the scale, and the library gets the same scale (`WaitPolicy::time_scale`),
//!    so both sides of each wait scale together. Each run's wall time is set beside the
//!    critical path of the same durations through the same graph (`StepGraph`), and
//!    beside the waits one after another (how `up` and `down` ran before the graph).
//!    At scaled durations the calls themselves are not negligible, so the floor counts
//!    the time the critical path's steps spent outside their waits, as measured:
//!    ratio = wall ÷ (critical path + that time). Every wait is listed with its polls
//!    and its lag (time waited past the expected duration: the emulator's states last
//!    exactly that long from the create, and each wait starts right after its create).
//!    The plan has a `[sample]`: each run has its own test control plane whose kubelets
//!    start the sample's pods the sample's usual rollout time (scaled) after they appear
//!    (`ControlPlane::timed`). Deleting the sample's namespace is left at the real
//!    controller manager's pace (whole seconds), so its measured time joins the floor as
//!    time outside the scaled waits.
//! 2. **verify at scale.** A cluster of 10, 100 and 1,000 nodes (the emulator launches
//!    the instances; the test control plane's harness registers a node for each and runs
//!    the sample's pods, 30 a node, bound to their nodes by the bench: see
//!    `fill_nodes`): `verify`'s AWS and Kubernetes API calls, eks6's own
//!    CPU time (this process; the emulator and the control plane are other processes)
//!    and its wall time, with the text form's evidence lines beside the JSON's.
//!
//! Usage: `eks6-bench [graph [--scale F] [--runs N]] [verify [--nodes 10,100,1000]
//! [--pods-per-node 30]]` (both parts by default).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eks6::aws::Aws;
use eks6::plan::{ClusterPlan, SAMPLE_DEPLOYMENT, SamplePlan};
use eks6::workflow::{
    Event, EventKind, Outcome, RunOptions, RunReport, StepGraph, Target, VerifyOptions, WaitKind, WaitPolicy, down, up,
    verify,
};
use eks6_tests::controlplane::ControlPlane;
use eks6_tests::emulator::{Emulator, fresh_account};
use eks6_tests::fixtures;
use eks6_tests::nginx::Nginx;

/// A line of figures on stdout.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// A line of progress on stderr.
macro_rules! note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// One wait, as its `waited` event reports it.
struct Wait {
    step: String,
    resource: String,
    kind: String,
    polls: u32,
    waited_ms: u64,
    expected_ms: u64,
}

/// The figures of one workflow run.
struct Figures {
    wall_ms: u64,
    floor_ms: u64,
    path: Vec<String>,
    one_after_another_ms: u64,
    outside_waits_on_path_ms: u64,
    waits: Vec<Wait>,
    most_in_flight: usize,
}

impl Figures {
    fn ratio(&self) -> f64 {
        self.wall_ms as f64 / (self.floor_ms + self.outside_waits_on_path_ms) as f64
    }

    fn sequential_ratio(&self) -> f64 {
        self.one_after_another_ms as f64 / self.floor_ms as f64
    }
}

fn collector() -> (Arc<Mutex<Vec<Event>>>, impl Fn(&Event) + Send + Sync + 'static) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    (log, move |e: &Event| l.lock().unwrap_or_else(|p| p.into_inner()).push(e.clone()))
}

/// The figures of a run from its report and events.
fn figures(mut graph: StepGraph, report: &RunReport, events: &[Event], policy: &WaitPolicy) -> Figures {
    // A step with nothing to do waits for nothing; and the namespace's deletion is not on
    // the scaled clock (the real controller manager comes back in whole seconds), so its
    // measured time counts as time outside the waits, not as a scaled wait.
    for n in &mut graph.steps {
        if report.steps.iter().any(|s| s.step == n.step && s.outcome == Outcome::Skipped) {
            n.waits.clear();
        }
        n.waits.retain(|k| !UNSCALED.contains(k));
    }
    let (floor, path) = graph.critical_path(policy);
    let waits: Vec<Wait> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Waited { step, resource, kind, polls, waited_ms, expected_ms } => Some(Wait {
                step: step.clone(),
                resource: resource.clone(),
                kind: kind.name().into(),
                polls: *polls,
                waited_ms: *waited_ms,
                expected_ms: *expected_ms,
            }),
            _ => None,
        })
        .collect();
    let mut waited_by_step: BTreeMap<&str, u64> = BTreeMap::new();
    for w in waits.iter().filter(|w| !UNSCALED.iter().any(|k| k.name() == w.kind)) {
        *waited_by_step.entry(w.step.as_str()).or_default() += w.waited_ms;
    }
    let outside = path
        .iter()
        .filter_map(|p| report.steps.iter().find(|s| &s.step == p))
        .map(|s| s.elapsed_ms.saturating_sub(waited_by_step.get(s.step.as_str()).copied().unwrap_or(0)))
        .sum();
    let (mut running, mut most) = (0usize, 0usize);
    for e in events {
        match e.kind {
            EventKind::StepStarted { .. } => running += 1,
            EventKind::StepFinished { .. } => running = running.saturating_sub(1),
            _ => {}
        }
        most = most.max(running);
    }
    Figures {
        wall_ms: report.elapsed_ms,
        floor_ms: floor.as_millis() as u64,
        path,
        one_after_another_ms: graph.one_after_another(policy).as_millis() as u64,
        outside_waits_on_path_ms: outside,
        waits,
        most_in_flight: most,
    }
}

/// Waits the emulator and the control plane cannot scale: their measured time is part of
/// the floor (as "outside waits"), not a scaled expected duration.
const UNSCALED: &[WaitKind] = &[WaitKind::NamespaceDelete];

async fn walkthrough_once(emu: &Emulator, scale: f64) -> Result<(Figures, Figures), String> {
    let mut plan = fixtures::walkthrough();
    plan.sample = Some(SamplePlan::default());
    let account = fresh_account();
    // The sample's pods start the sample's usual rollout time (scaled) after they appear.
    let _cp = ControlPlane::timed(emu, &account, &plan.region, &plan.name, 0, scale);
    let aws = emu.aws(&account, &plan.region).await;
    let policy = WaitPolicy { poll_interval: None, deadline: Duration::from_secs(600), time_scale: scale };
    let (log, sink) = collector();
    let opts = RunOptions::new(fixtures::journal("bench", &account)).with_wait(policy).with_events(sink);
    let take = || std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()));
    let r = up(&aws, &plan, &opts).await.map_err(|e| format!("up: {e}"))?;
    let u = figures(StepGraph::up(), &r, &take(), &policy);
    let r = down(&aws, Target::Plan(&plan), &opts).await.map_err(|e| format!("down: {e}"))?;
    let d = figures(StepGraph::down(), &r, &take(), &policy);
    Ok((u, d))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn graph_part(scale: f64, runs: usize) -> Result<(), String> {
    let emu = Emulator::timed(scale);
    out!("## up and down against the critical path (time scale {scale}, {runs} runs)\n");
    out!(
        "| run | workflow | wall | critical path | outside waits on it | ratio | one after another | its ratio to the path | steps at once |"
    );
    out!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut ratios: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut last = None;
    for run in 1..=runs {
        let (u, d) = walkthrough_once(&emu, scale).await?;
        for (name, f) in [("up", &u), ("down", &d)] {
            out!(
                "| {run} | {name} | {:.2} s | {:.2} s | {:.2} s | {:.3} | {:.2} s | {:.2} | {} |",
                f.wall_ms as f64 / 1e3,
                f.floor_ms as f64 / 1e3,
                f.outside_waits_on_path_ms as f64 / 1e3,
                f.ratio(),
                f.one_after_another_ms as f64 / 1e3,
                f.sequential_ratio(),
                f.most_in_flight,
            );
            ratios.entry(name).or_default().push(f.ratio());
        }
        last = Some((u, d));
    }
    for (name, r) in &ratios {
        out!("\nmedian ratio of {name}: {:.3}", median(r.clone()));
    }
    if let Some((u, d)) = last {
        for (name, f) in [("up", u), ("down", d)] {
            out!("\n### the waits of the last {name} (critical path: {})\n", f.path.join(" > "));
            out!("| step | resource | kind | expected | waited | lag | lag bound | polls |");
            out!("| --- | --- | --- | --- | --- | --- | --- | --- |");
            for w in &f.waits {
                if UNSCALED.iter().any(|k| k.name() == w.kind) {
                    out!(
                        "| {} | {} | {} | not scaled | {} ms | (the real controller's pace) | | {} |",
                        w.step,
                        w.resource,
                        w.kind,
                        w.waited_ms,
                        w.polls
                    );
                    continue;
                }
                let lag = w.waited_ms.saturating_sub(w.expected_ms);
                let bound = (w.expected_ms as f64 * 0.02).max(1000.0 * scale);
                out!(
                    "| {} | {} | {} | {} ms | {} ms | {lag} ms | {bound:.0} ms | {} |",
                    w.step,
                    w.resource,
                    w.kind,
                    w.expected_ms,
                    w.waited_ms,
                    w.polls
                );
            }
        }
    }
    Ok(())
}

/// This process's CPU time (user + system), from `/proc/self/stat` (clock ticks of
/// 10 ms, the Linux `USER_HZ`).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // After the command: state is field 0, utime 11, stime 12.
    Duration::from_millis((tick(11) + tick(12)) * 10)
}

async fn verify_at(emu: &'static Emulator, nginx: &Nginx, nodes: u32, pods_per_node: u32) -> Result<(), String> {
    let mut plan: ClusterPlan = fixtures::walkthrough();
    plan.name = format!("scale-{nodes}");
    plan.nodegroup.name = format!("scale-{nodes}-nodes");
    plan.nodegroup.desired_size = nodes;
    plan.nodegroup.max_size = Some(plan.nodegroup.max_size.unwrap_or(nodes).max(nodes));
    plan.sample = Some(SamplePlan::default());
    let account = fresh_account();
    let cp = ControlPlane::start(emu, &account, &plan.region, &plan.name, nginx.port);
    // moto launches a thousand instances in one CreateNodegroup slowly: longer call
    // time-outs than the tests'.
    let mut o = emu.options(&account, &plan.region);
    o.attempt_timeout = Some(Duration::from_secs(600));
    o.operation_timeout = Some(Duration::from_secs(600));
    let aws = Aws::connect(&o).await.map_err(|e| format!("connect: {e}"))?;
    let opts = RunOptions::new(fixtures::journal("bench-verify", &account))
        .with_wait(WaitPolicy::every(Duration::from_millis(200), Duration::from_secs(3600)));
    let set_up = Instant::now();
    up(&aws, &plan, &opts).await.map_err(|e| format!("up of {nodes} nodes: {e}"))?;
    // The plan caps the sample at MAX_SAMPLE_REPLICAS (it probes the network; it is not
    // a load test): the bench adds the pods itself, as a user's workload would be.
    let pods = fill_nodes(&cp, &plan, nodes, pods_per_node).await?;
    let set_up = set_up.elapsed();
    let cpu = cpu_time();
    let report = verify(&aws, Target::Plan(&plan), &VerifyOptions::default().with_kubernetes_default(Some(&plan)))
        .await
        .map_err(|e| format!("verify of {nodes} nodes: {e}"))?;
    let cpu = cpu_time() - cpu;
    let json_lines: usize = report.checks.iter().map(|c| c.evidence.len()).sum();
    let text_lines: usize = report.checks.iter().map(|c| c.evidence_summary().len()).sum();
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == eks6::workflow::CheckStatus::Fail)
        .map(|c| c.name.as_str())
        .collect();
    out!(
        "| {nodes} | {} | {} | {} | {:.2} s | {:.2} s | {text_lines} | {json_lines} | {} | {:.0} s |",
        pods,
        report.api_calls,
        report.kube_api_calls,
        cpu.as_secs_f64(),
        report.elapsed_ms as f64 / 1e3,
        if failed.is_empty() { "none".to_string() } else { failed.join(", ") },
        set_up.as_secs_f64(),
    );
    down(&aws, Target::Plan(&plan), &opts).await.map_err(|e| format!("down of {nodes} nodes: {e}"))?;
    drop(cp);
    Ok(())
}

/// Puts `per_node` pods of the sample's template on each of the cluster's `nodes` nodes,
/// bound by name (as a DaemonSet's pods are), and waits until they are all Ready.
///
/// Why not scale the Deployment: kube-scheduler, in the test control plane's one process
/// on this machine's two cores, placed about 20 pods a second at 1,000 nodes and fell
/// further behind as pods accumulated, so 30,000 pods did not start within the hour.
/// The pods carry the sample's `app` label and not its ReplicaSet's `pod-template-hash`,
/// so `verify` counts them among the sample's pods and the ReplicaSet leaves them alone;
/// the harness's kubelets start them as any other pod.
async fn fill_nodes(cp: &ControlPlane, plan: &ClusterPlan, nodes: u32, per_node: u32) -> Result<u32, String> {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use kube::api::{Api, ListParams, PostParams};
    let client = cp.admin().await;
    let namespace = plan.sample.as_ref().map(|s| s.namespace.clone()).unwrap_or_default();
    let started = Instant::now();
    let node_api: Api<Node> = Api::all(client.clone());
    let names: Vec<String> = loop {
        let list = node_api.list_metadata(&ListParams::default()).await.map_err(|e| format!("list nodes: {e}"))?;
        if list.items.len() >= nodes as usize {
            break list.items.into_iter().filter_map(|n| n.metadata.name).collect();
        }
        if started.elapsed() > Duration::from_secs(1800) {
            return Err(format!("{} of {nodes} nodes registered after half an hour", list.items.len()));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    note!("eks6-bench: {} nodes registered after {:.0} s", names.len(), started.elapsed().as_secs_f64());
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let template = deployments
        .get(SAMPLE_DEPLOYMENT)
        .await
        .map_err(|e| format!("read the sample: {e}"))?
        .spec
        .map(|s| s.template)
        .ok_or("the sample has no template")?;
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let mut tasks = tokio::task::JoinSet::new();
    let mut created = 0u32;
    for (n, node) in names.iter().enumerate() {
        for k in 0..per_node {
            let mut meta = template.metadata.clone().unwrap_or_default();
            meta.name = Some(format!("{SAMPLE_DEPLOYMENT}-bench-{n}-{k}"));
            let mut spec = template.spec.clone().unwrap_or_default();
            spec.node_name = Some(node.clone());
            let pod = Pod { metadata: meta, spec: Some(spec), status: None };
            let api = pods.clone();
            tasks.spawn(async move { api.create(&PostParams::default(), &pod).await.map(|_| ()) });
            if tasks.len() >= 16
                && let Some(r) = tasks.join_next().await
            {
                r.map_err(|e| e.to_string())?.map_err(|e| format!("create a pod: {e}"))?;
                created += 1;
            }
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| e.to_string())?.map_err(|e| format!("create a pod: {e}"))?;
        created += 1;
    }
    note!("eks6-bench: {created} pods created after {:.0} s", started.elapsed().as_secs_f64());
    let wanted = created as usize;
    let selector = format!("app={}", eks6::plan::SAMPLE_APP_LABEL);
    'poll: loop {
        if started.elapsed() > Duration::from_secs(3600) {
            return Err("the sample pods not Ready after an hour".into());
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        let (mut ready, mut total, mut token) = (0usize, 0usize, None::<String>);
        loop {
            let mut lp = ListParams::default().labels(&selector).limit(500);
            if let Some(t) = &token {
                lp = lp.continue_token(t);
            }
            // A busy API server may drop a request: the next poll lists again.
            let page = match pods.list(&lp).await {
                Ok(page) => page,
                Err(e) => {
                    note!("eks6-bench: list pods: {e} (listing again)");
                    continue 'poll;
                }
            };
            total += page.items.len();
            ready += page
                .items
                .iter()
                .filter(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
                })
                .count();
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        note!("eks6-bench: {ready} of {total} sample pods Ready after {:.0} s", started.elapsed().as_secs_f64());
        if ready >= wanted && ready == total {
            return Ok(total as u32);
        }
    }
}

async fn verify_part(sizes: &[u32], pods_per_node: u32) -> Result<(), String> {
    let emu = Emulator::shared();
    let nginx = Nginx::start();
    out!("\n## verify at scale ({pods_per_node} sample pods a node)\n");
    out!(
        "| nodes | pods | AWS API calls | Kubernetes API calls | eks6 CPU | wall | evidence lines (text) | evidence lines (JSON) | failed checks | up took |"
    );
    out!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for &n in sizes {
        verify_at(emu, &nginx, n, pods_per_node).await?;
    }
    Ok(())
}

fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let both = !args.iter().any(|a| a == "graph" || a == "verify");
    let scale = flag(&args, "--scale").unwrap_or(0.01);
    let runs = flag(&args, "--runs").unwrap_or(3);
    let pods = flag(&args, "--pods-per-node").unwrap_or(30);
    let sizes: Vec<u32> = flag::<String>(&args, "--nodes")
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10, 100, 1000]);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let result = rt.block_on(async {
        if both || args.iter().any(|a| a == "graph") {
            graph_part(scale, runs).await?;
        }
        if both || args.iter().any(|a| a == "verify") {
            verify_part(&sizes, pods).await?;
        }
        Ok::<(), String>(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            note!("eks6-bench: {e}");
            ExitCode::from(1)
        }
    }
}
