//! `plan`, `up` and `down`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use eks6::ErrorKind;
use eks6::aws::{Aws, AwsOptions};
use eks6::plan::{AzSpec, ClusterPlan, SCHEMA_VERSION, Severity};
use eks6::workflow::{self, Cancel, DownTarget, Event, EventKind, RunOptions, RunReport, WaitPolicy, WorkflowError};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// Options shared by the commands that call AWS.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// Named profile from the AWS config files.
    #[arg(long)]
    profile: Option<String>,
    /// Endpoint URL for eks6's EC2, EKS and `--role-arn` STS calls (a local emulator, a
    /// VPC endpoint). A profile that assumes a role itself reads its own `endpoint_url`.
    #[arg(long)]
    endpoint_url: Option<String>,
    /// Role to assume (STS AssumeRole, session "eks6") with the profile's credentials.
    #[arg(long)]
    role_arn: Option<String>,
    /// Region; must match the plan's.
    #[arg(long)]
    region: Option<String>,
    /// Journal file (default: beside the plan, `<plan>.eks6-journal.json`).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Seconds between status polls while waiting (doubling up to 30 s).
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    poll_interval: f64,
    /// Seconds to wait for any one resource before giving up (exit 4).
    #[arg(long, default_value_t = 1800.0, value_parser = seconds)]
    timeout: f64,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan file (TOML, or JSON when it ends in .json).
    #[arg(long)]
    config: PathBuf,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The plan file.
    #[arg(long)]
    config: PathBuf,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["config", "cluster"])))]
pub struct DownArgs {
    /// The plan file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A cluster name: tear down from tags alone (with --region).
    #[arg(long, requires = "region")]
    cluster: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

/// What a failed run said, for the one JSON document `--output json` still writes when a
/// command fails before it has a result (`{"error": ...}`, see [`write_failure_json`]).
struct Failure {
    messages: Vec<String>,
    kind: Option<ErrorKind>,
    exit: Option<u8>,
}

static FAILURE: std::sync::Mutex<Failure> =
    std::sync::Mutex::new(Failure { messages: Vec::new(), kind: None, exit: None });

fn failure() -> std::sync::MutexGuard<'static, Failure> {
    FAILURE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An error line on stderr (kept for the JSON error document).
pub(crate) fn err_line(msg: impl std::fmt::Display) {
    let msg = msg.to_string();
    let _ = writeln!(std::io::stderr(), "eks6: error: {msg}");
    failure().messages.push(msg);
}

/// The exit status `n` (kept for the JSON error document).
pub(crate) fn exit(n: u8) -> ExitCode {
    failure().exit = Some(n);
    ExitCode::from(n)
}

/// The error kind behind the failure, when there is one.
pub(crate) fn note_kind(kind: ErrorKind) {
    failure().kind.get_or_insert(kind);
}

/// With `--output json`, a run that ended with status 2 or more wrote no result; it writes
/// `{"error": {"exit": N, "kind": ..., "messages": [...]}}` instead, so that stdout still
/// holds one JSON document. (Status 1 comes with its report: findings or checks.)
pub(crate) fn write_failure_json() {
    let f = failure();
    let Some(n) = f.exit.filter(|&n| n >= 2) else { return };
    let doc = json!({ "error": { "exit": n, "kind": f.kind, "messages": f.messages } });
    let _ = writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

/// The exit status for an error kind (the README's conventions): 2 for what the user
/// can fix here (input, the plan, the VPC's room, the journal's path or lock), 3 for
/// AWS or the remote end, 4 for a time-out, 130 for an interrupt.
fn exit_for(kind: ErrorKind) -> ExitCode {
    note_kind(kind);
    exit(match kind {
        ErrorKind::Timeout => 4,
        ErrorKind::Cancelled => 130,
        ErrorKind::InvalidPlan
        | ErrorKind::PlanRejected
        | ErrorKind::RegionMismatch
        | ErrorKind::InvalidAddress
        | ErrorKind::InvalidPrefix
        | ErrorKind::InvalidLength
        | ErrorKind::OutOfRange
        | ErrorKind::InvalidUrl
        | ErrorKind::PrefixConflict
        | ErrorKind::Exhausted
        | ErrorKind::ProbeTarget
        | ErrorKind::Io
        | ErrorKind::Locked => 2,
        _ => 3,
    })
}

/// A number of seconds for a time option: finite and above zero.
fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    match Duration::try_from_secs_f64(v) {
        Ok(d) if !d.is_zero() => Ok(v),
        _ => Err(format!("{s} seconds: give a finite number above zero")),
    }
}

fn load(path: &Path) -> Result<ClusterPlan, ExitCode> {
    ClusterPlan::from_file(path).map_err(|e| {
        err_line(&e);
        exit(2)
    })
}

pub fn plan(args: &PlanArgs, json: bool) -> ExitCode {
    let plan = match load(&args.config) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let validation = plan.validate();
    let zones: Vec<String> = match &plan.vpc.availability_zones {
        AzSpec::Names(n) => n.clone(),
        AzSpec::Count(_) => Vec::new(),
    };
    let addresses = plan.address_plan(None, &zones, &[], &[]).ok();
    let mut out = std::io::stdout().lock();
    if json {
        let doc = json!({
            "schema_version": SCHEMA_VERSION,
            "plan": plan.name,
            "plan_id": plan.plan_id(),
            "region": plan.region,
            "address_plan": addresses,
            "findings": validation.findings,
        });
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        let _ = writeln!(
            out,
            "plan {} ({}) in {}, Kubernetes {}",
            plan.name,
            plan.plan_id(),
            plan.region,
            plan.kubernetes_version
        );
        if let Some(a) = &addresses {
            let _ = write!(out, "{a}");
        }
        if validation.findings.is_empty() {
            let _ = writeln!(out, "no findings");
        }
        for f in &validation.findings {
            let _ = writeln!(out, "{f}");
        }
    }
    if validation.findings.iter().any(|f| f.severity == Severity::Error) { exit(1) } else { ExitCode::SUCCESS }
}

/// Progress on stderr: a live line per step on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    current: Mutex<Option<ProgressBar>>,
}

impl Progress {
    fn new() -> Self {
        let tty = std::io::stderr().is_terminal();
        Self { bar: tty.then(ProgressBar::hidden), current: Mutex::new(None) }
    }

    fn event(&self, e: &Event) {
        let secs = e.elapsed_ms as f64 / 1000.0;
        let line = match &e.kind {
            EventKind::StepStarted { step } => {
                if self.bar.is_some() {
                    let pb = ProgressBar::new_spinner();
                    pb.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<20} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    pb.set_prefix(step.clone());
                    pb.enable_steady_tick(Duration::from_millis(120));
                    *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(pb);
                    return;
                }
                format!("[{secs:7.1}s] {step}: started")
            }
            EventKind::StepFinished { step, outcome, resources, api_calls } => {
                let text = format!("{outcome} {} ({api_calls} API calls)", resources.join(" "));
                if let Some(pb) = self.current.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    pb.finish_with_message(text);
                    return;
                }
                format!("[{secs:7.1}s] {step}: {text}")
            }
            EventKind::Waiting { step, resource, status, waited_ms } => {
                let text = format!("waiting for {resource}: {status} ({:.0}s)", *waited_ms as f64 / 1000.0);
                if let Some(pb) = self.current.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                    pb.set_message(text);
                    return;
                }
                format!("[{secs:7.1}s] {step}: {text}")
            }
            EventKind::Retry { step, resource, reason } => {
                format!("[{secs:7.1}s] {step}: {resource} refused for now, retrying: {reason}")
            }
            EventKind::Finding(f) => format!("[{secs:7.1}s] {f}"),
            _ => return,
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

fn run_options(aws: &AwsArgs, journal: PathBuf, progress: &'static Progress, cancel: Cancel) -> RunOptions {
    let poll = Duration::from_secs_f64(aws.poll_interval);
    RunOptions::new(journal)
        .with_wait(WaitPolicy {
            first_delay: poll,
            max_delay: poll.max(Duration::from_secs(30)),
            deadline: Duration::from_secs_f64(aws.timeout),
        })
        .with_cancel(cancel)
        .with_events(move |e| progress.event(e))
}

fn aws_options(a: &AwsArgs, plan_region: &str) -> AwsOptions {
    AwsOptions {
        region: a.region.clone(),
        default_region: Some(plan_region.to_string()),
        profile: a.profile.clone(),
        endpoint_url: a.endpoint_url.clone(),
        assume_role_arn: a.role_arn.clone(),
        ..Default::default()
    }
}

fn default_journal(config: &Path) -> PathBuf {
    let stem = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "plan".into());
    config.with_file_name(format!("{stem}.eks6-journal.json"))
}

/// Runs a workflow on a private runtime, cancelling on Ctrl-C.
fn run<F, Fut>(f: F) -> Result<RunReport, WorkflowError>
where
    F: FnOnce(Cancel) -> Fut,
    Fut: std::future::Future<Output = Result<RunReport, WorkflowError>>,
{
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return Err(WorkflowError::Io { path: PathBuf::from("<runtime>"), source: e }),
    };
    let cancel = Cancel::new();
    let c = cancel.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = writeln!(
                    std::io::stderr(),
                    "eks6: interrupted; stopping at the next safe point (Ctrl-C again to quit now)"
                );
                c.cancel();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        f(cancel).await
    })
}

/// Runs a read-only command's future; Ctrl-C drops it and gives `None` (exit 130).
fn interruptible<T>(rt: &tokio::runtime::Runtime, fut: impl std::future::Future<Output = T>) -> Option<T> {
    rt.block_on(async {
        tokio::select! {
            r = fut => Some(r),
            _ = tokio::signal::ctrl_c() => {
                let _ = writeln!(std::io::stderr(), "eks6: interrupted");
                None
            }
        }
    })
}

fn finish(result: Result<RunReport, WorkflowError>, json: bool) -> ExitCode {
    match result {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                let _ = writeln!(
                    out,
                    "{} {} in {}: {} API calls, {:.1}s",
                    report.workflow,
                    report.cluster,
                    report.region,
                    report.api_calls,
                    report.elapsed_ms as f64 / 1000.0
                );
                for s in &report.steps {
                    let _ = writeln!(
                        out,
                        "  {:<20} {:<8} {:>4} calls {:>7.1}s  {}",
                        s.step,
                        s.outcome.to_string(),
                        s.api_calls,
                        s.elapsed_ms as f64 / 1000.0,
                        s.resources.join(" ")
                    );
                }
                for f in &report.findings {
                    let _ = writeln!(out, "  {f}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            err_line(&e);
            exit_for(e.kind())
        }
    }
}

static PROGRESS: std::sync::OnceLock<Progress> = std::sync::OnceLock::new();

pub fn up(args: &UpArgs, json: bool) -> ExitCode {
    let plan = match load(&args.config) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let progress = PROGRESS.get_or_init(Progress::new);
    let journal = args.aws.journal.clone().unwrap_or_else(|| default_journal(&args.config));
    let result = run(|cancel| async {
        let aws = Aws::connect(&aws_options(&args.aws, &plan.region)).await?;
        workflow::up(&aws, &plan, &run_options(&args.aws, journal, progress, cancel)).await
    });
    finish(result, json)
}

pub fn down(args: &DownArgs, json: bool) -> ExitCode {
    let plan = match &args.config {
        Some(c) => match load(c) {
            Ok(p) => Some(p),
            Err(code) => return code,
        },
        None => None,
    };
    let progress = PROGRESS.get_or_init(Progress::new);
    let (name, region) = match (&plan, &args.cluster, &args.aws.region) {
        (Some(p), _, _) => (p.name.clone(), p.region.clone()),
        (None, Some(c), Some(r)) => (c.clone(), r.clone()),
        _ => {
            err_line("give --config FILE, or --cluster NAME with --region REGION");
            return exit(2);
        }
    };
    let journal = args.aws.journal.clone().unwrap_or_else(|| match &args.config {
        Some(c) => default_journal(c),
        None => PathBuf::from(format!("{name}.eks6-journal.json")),
    });
    let result = run(|cancel| async {
        let aws = Aws::connect(&aws_options(&args.aws, &region)).await?;
        let target = match &plan {
            Some(p) => DownTarget::Plan(p),
            None => DownTarget::Cluster { name: &name, region: &region },
        };
        workflow::down(&aws, target, &run_options(&args.aws, journal, progress, cancel)).await
    });
    finish(result, json)
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["config", "cluster"])))]
pub struct VerifyArgs {
    /// The plan file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A cluster by name (read-only; eks6 need not have created it), with --region.
    #[arg(long, requires = "region")]
    cluster: Option<String>,
    /// A pod or node address to check (repeatable).
    #[arg(long = "address")]
    addresses: Vec<String>,
    /// A file with `kubectl get pods|nodes -o wide` (or `-o json`) output.
    #[arg(long)]
    from_kubectl: Option<PathBuf>,
    /// Probe this address over IPv6 (HTTP GET), as the walkthrough's curl -g -6 does.
    #[arg(long)]
    probe_address: Option<String>,
    /// Port for the probe and for the security-group check (default: the plan's).
    #[arg(long)]
    probe_port: Option<u16>,
    #[command(flatten)]
    aws: AwsArgs,
    /// Exit 1 unless every check ran and passed: a check skipped for want of data (no
    /// nodes found, no probe address) fails the run too.
    #[arg(long)]
    strict: bool,
}

pub fn verify(args: &VerifyArgs, json: bool) -> ExitCode {
    let plan = match &args.config {
        Some(c) => match load(c) {
            Ok(p) => Some(p),
            Err(code) => return code,
        },
        None => None,
    };
    let kubectl = match &args.from_kubectl {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => {
                err_line(format!("cannot read {}: {e}", p.display()));
                return exit(2);
            }
        },
        None => None,
    };
    let (name, region) = match (&plan, &args.cluster, &args.aws.region) {
        (Some(p), _, _) => (p.name.clone(), p.region.clone()),
        (None, Some(c), Some(r)) => (c.clone(), r.clone()),
        _ => {
            err_line("give --config FILE, or --cluster NAME with --region REGION");
            return exit(2);
        }
    };
    // A journal, when given, names the nodegroup eks6 made.
    let nodegroup = match &args.aws.journal {
        Some(j) => match workflow::Journal::load(j) {
            Ok(found) => found.and_then(|j| j.resources.get("nodegroup").map(|e| e.id.clone())),
            Err(e) => {
                err_line(&e);
                return exit(2);
            }
        },
        None => None,
    };
    // The report prints every check at the end: no event sink.
    let opts = workflow::VerifyOptions { nodegroup, addresses: args.addresses.clone(), kubectl, ..Default::default() }
        .with_probe(args.probe_address.clone(), args.probe_port, plan.as_ref());
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            err_line(e);
            return exit(3);
        }
    };
    let Some(result) = interruptible(&rt, async {
        let aws = Aws::connect(&aws_options(&args.aws, &region)).await?;
        let target = match &plan {
            Some(p) => workflow::VerifyTarget::Plan(p),
            None => workflow::VerifyTarget::Cluster { name: &name, region: &region },
        };
        workflow::verify(&aws, target, &opts).await
    }) else {
        return exit(130);
    };
    match result {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                let _ = writeln!(out, "{report}");
            }
            if args.strict && report.passed() && !report.passed_strict() {
                let skipped: Vec<&str> = report
                    .checks
                    .iter()
                    .filter(|c| c.status == workflow::CheckStatus::Skipped)
                    .map(|c| c.name.as_str())
                    .collect();
                let _ = writeln!(std::io::stderr(), "eks6: --strict: skipped: {}", skipped.join(", "));
            }
            let ok = if args.strict { report.passed_strict() } else { report.passed() };
            if ok { ExitCode::SUCCESS } else { exit(1) }
        }
        Err(e) => {
            err_line(&e);
            exit_for(e.kind())
        }
    }
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// An IPv6 address (with an optional %zone) or a name with an IPv6 address.
    addr: String,
    /// TCP port.
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// Path and query.
    #[arg(long, default_value = "/")]
    path: String,
    /// Seconds for the connect.
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    connect_timeout: f64,
    /// Seconds for the whole request.
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    timeout: f64,
}

pub fn probe(args: &ProbeArgs, json: bool) -> ExitCode {
    let opts = eks6::probe::ProbeOptions {
        port: args.port,
        path: args.path.clone(),
        connect_timeout: Duration::from_secs_f64(args.connect_timeout),
        total_timeout: Duration::from_secs_f64(args.timeout),
        body_limit: 512,
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            err_line(e);
            return exit(3);
        }
    };
    let Some(result) = interruptible(&rt, eks6::probe::probe(&args.addr, &opts)) else {
        return exit(130);
    };
    match result {
        Ok(a) => {
            let mut out = std::io::stdout().lock();
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&a).unwrap_or_default());
            } else {
                let _ = writeln!(out, "{}", a.status_line);
                let _ = writeln!(
                    out,
                    "url: {}  connect {} ms, first byte {} ms, total {} ms",
                    a.url, a.connect_ms, a.first_byte_ms, a.total_ms
                );
                let _ = writeln!(out);
                let _ = writeln!(out, "{}", a.body);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            err_line(&e);
            exit_for(e.kind())
        }
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["config", "cluster"])))]
pub struct KubeconfigArgs {
    /// The plan file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A cluster by name, with --region.
    #[arg(long, requires = "region")]
    cluster: Option<String>,
    /// The kubeconfig file (default: the first of $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn kubeconfig(args: &KubeconfigArgs, json: bool) -> ExitCode {
    let (name, region) = match (&args.config, &args.cluster, &args.aws.region) {
        (Some(c), _, _) => match load(c) {
            Ok(p) => (p.name, p.region),
            Err(code) => return code,
        },
        (None, Some(c), Some(r)) => (c.clone(), r.clone()),
        _ => {
            err_line("give --config FILE, or --cluster NAME with --region REGION");
            return exit(2);
        }
    };
    let path = args.kubeconfig.clone().unwrap_or_else(eks6::kubeconfig::default_path);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            err_line(e);
            return exit(3);
        }
    };
    let result: Result<String, (String, ExitCode)> = rt.block_on(async {
        let aws =
            Aws::connect(&aws_options(&args.aws, &region)).await.map_err(|e| (e.to_string(), exit_for(e.kind())))?;
        if aws.region() != region {
            let e = WorkflowError::RegionMismatch { plan: region.clone(), client: aws.region().into() };
            return Err((e.to_string(), exit_for(e.kind())));
        }
        eks6::kubeconfig::write(&aws, &name, args.aws.profile.as_deref(), &path)
            .await
            .map_err(|e| (e.to_string(), exit_for(e.kind())))
    });
    match result {
        Ok(context) => {
            let mut out = std::io::stdout().lock();
            if json {
                let _ = writeln!(out, "{}", json!({ "kubeconfig": path, "context": context }));
            } else {
                let _ = writeln!(out, "updated context {context} in {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err((message, code)) => {
            err_line(message);
            code
        }
    }
}
