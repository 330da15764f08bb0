//! What the AWS-facing commands share: the AWS and target options, the runtime, Ctrl-C,
//! and the progress display.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use eks6::ErrorKind;
use eks6::aws::{Aws, AwsOptions};
use eks6::plan::ClusterPlan;
use eks6::workflow::{Cancel, Event, EventKind, RunOptions, Target, WaitPolicy};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::output::CliError;

/// A number of seconds for a time option: finite and above zero (core's one rule).
pub fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    eks6::error::positive_seconds(v, "").map(|_| v).map_err(|e| e.message)
}

/// A factor above zero (`--time-scale`).
pub fn factor(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    WaitPolicy::new(None, Duration::from_secs(1), v).map(|_| v).map_err(|e| e.message)
}

/// How to reach AWS: shared by every command that calls it.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Named profile from the AWS config files.
    #[arg(long)]
    pub profile: Option<String>,
    /// Endpoint URL for eks6's EC2, EKS, IAM and `--role-arn` STS calls (a local
    /// emulator, a VPC endpoint). A profile that assumes a role itself reads its own
    /// `endpoint_url`.
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Role to assume (STS AssumeRole, session "eks6") with the profile's credentials.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// Region; must match the plan's.
    #[arg(long)]
    pub region: Option<String>,
}

impl ConnectArgs {
    /// The client options, with the plan's region as the fallback.
    pub fn options(&self, region: &str) -> AwsOptions {
        AwsOptions {
            region: self.region.clone(),
            default_region: Some(region.to_string()),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            assume_role_arn: self.role_arn.clone(),
            ..Default::default()
        }
    }

    pub async fn connect(&self, region: &str) -> Result<Aws, CliError> {
        Ok(Aws::connect(&self.options(region)).await?)
    }
}

/// Options shared by the commands that run workflows against AWS.
#[derive(Debug, Args)]
pub struct AwsArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Journal file (default: beside the plan, `<plan>.eks6-journal.json`).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Seconds between status polls while waiting, fixed. Default: placed by how long
    /// each kind of resource usually takes (`eks6 plan` lists them): rarely early in a
    /// wait, every 2 % of it near its expected end.
    #[arg(long, value_parser = seconds)]
    pub poll_interval: Option<f64>,
    /// The factor on AWS's usual durations that places the polls: 1 for AWS, 0.01 for
    /// an emulator a hundred times faster. Not applied to --wait-timeout.
    #[arg(long, default_value_t = 1.0, value_parser = factor)]
    pub time_scale: f64,
    /// Seconds for the whole run: past them it stops at once, calls in flight included,
    /// the journal intact (exit 4). Default: no limit.
    #[arg(long, value_parser = seconds)]
    pub timeout: Option<f64>,
    /// Seconds to wait for any one resource (a cluster, a NAT gateway) before giving up
    /// (exit 4).
    #[arg(long, default_value_t = 1800.0, value_parser = seconds)]
    pub wait_timeout: f64,
}

impl AwsArgs {
    pub async fn connect(&self, region: &str) -> Result<Aws, CliError> {
        self.connect.connect(region).await
    }

    /// How to wait for resources.
    pub fn wait(&self) -> WaitPolicy {
        WaitPolicy {
            poll_interval: self.poll_interval.map(Duration::from_secs_f64),
            deadline: Duration::from_secs_f64(self.wait_timeout),
            time_scale: self.time_scale,
        }
    }

    /// The whole run's limit.
    pub fn limit(&self) -> Option<Duration> {
        self.timeout.map(Duration::from_secs_f64)
    }
}

/// Which cluster: a plan file, or a cluster by name in a region.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// The plan file (TOML, or JSON when it ends in .json).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A cluster by name (in --region, else AWS_REGION): from tags alone, or read-only.
    #[arg(long)]
    pub cluster: Option<String>,
}

/// A resolved target: the plan when there is one, else a name and region.
pub struct Resolved {
    pub plan: Option<ClusterPlan>,
    pub name: String,
    pub region: String,
    /// The plan file, when there is one.
    pub config: Option<PathBuf>,
}

impl Resolved {
    pub fn target(&self) -> Target<'_> {
        match &self.plan {
            Some(p) => Target::Plan(p),
            None => Target::Cluster { name: &self.name, region: &self.region },
        }
    }

    /// The journal: the one given, else beside the plan, else named for the cluster.
    pub fn journal(&self, given: Option<&Path>) -> PathBuf {
        if let Some(j) = given {
            return j.to_path_buf();
        }
        match &self.config {
            Some(c) => TargetArgs::journal_beside(c),
            None => PathBuf::from(format!("{}.eks6-journal.json", self.name)),
        }
    }
}

impl TargetArgs {
    /// The default journal of a plan file: beside it, `<stem>.eks6-journal.json`.
    pub fn journal_beside(config: &Path) -> PathBuf {
        let stem = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "plan".into());
        config.with_file_name(format!("{stem}.eks6-journal.json"))
    }

    /// Loads the plan, or takes the cluster name and the region (`--region`, else
    /// `AWS_REGION` or `AWS_DEFAULT_REGION`, as every other command takes it).
    pub fn resolve(&self, region: Option<&str>) -> Result<Resolved, CliError> {
        let from_env =
            ["AWS_REGION", "AWS_DEFAULT_REGION"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        let region = region.map(str::to_string).or(from_env);
        match (&self.config, &self.cluster, region.as_deref()) {
            (Some(c), _, _) => {
                let plan = load(c)?;
                Ok(Resolved {
                    name: plan.name.clone(),
                    region: plan.region.clone(),
                    plan: Some(plan),
                    config: Some(c.clone()),
                })
            }
            (None, Some(name), Some(r)) => {
                Ok(Resolved { plan: None, name: name.clone(), region: r.to_string(), config: None })
            }
            _ => Err(CliError::new(
                ErrorKind::InvalidArgument,
                "give --config FILE, or --cluster NAME with --region REGION (or AWS_REGION)",
            )),
        }
    }
}

pub fn load(path: &Path) -> Result<ClusterPlan, CliError> {
    Ok(ClusterPlan::from_file(path)?)
}

/// A runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(ErrorKind::Internal, format!("cannot start the async runtime: {e}")))
}

/// Resolves at Ctrl-C (SIGINT) or SIGTERM (what CI, systemd and Kubernetes send),
/// naming which.
async fn stop_signal() -> &'static str {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let sigterm = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        () = sigterm => "terminated (SIGTERM)",
    }
}

/// Runs a workflow, cancelling it on Ctrl-C or SIGTERM the safe way (it stops at its
/// next step boundary or wait, the journal whole, exit 130); a second signal quits at
/// once.
pub fn run_cancellable<T, F, Fut>(f: F) -> Result<T, CliError>
where
    F: FnOnce(Cancel) -> Fut,
    Fut: Future<Output = Result<T, CliError>>,
{
    let rt = runtime()?;
    let cancel = Cancel::new();
    let c = cancel.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            let why = stop_signal().await;
            let _ = writeln!(
                std::io::stderr(),
                "eks6: {why}; stopping at the next safe point (a second signal quits at once)"
            );
            c.cancel();
            stop_signal().await;
            std::process::exit(130);
        });
        f(cancel).await
    })
}

/// Runs a read-only command's future; Ctrl-C or SIGTERM drops it (exit 130).
pub fn run_interruptible<T>(fut: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    let rt = runtime()?;
    rt.block_on(async {
        tokio::select! {
            r = fut => r,
            why = stop_signal() => Err(CliError::new(ErrorKind::Cancelled, why)),
        }
    })
}

/// The options of a run with a progress display.
pub fn run_options(aws: &AwsArgs, journal: PathBuf, cancel: Cancel) -> RunOptions {
    static PROGRESS: std::sync::OnceLock<Progress> = std::sync::OnceLock::new();
    let progress = PROGRESS.get_or_init(Progress::new);
    RunOptions::new(journal)
        .with_wait(aws.wait())
        .with_timeout(aws.limit())
        .with_cancel(cancel)
        .with_events(move |e| progress.event(e))
}

/// Progress on stderr: on a terminal, a live line per running step (several at once
/// when the graph runs them side by side); otherwise plain lines naming their step.
struct Progress {
    tty: bool,
    lines: MultiProgress,
    running: Mutex<BTreeMap<String, ProgressBar>>,
}

impl Progress {
    fn new() -> Self {
        Self { tty: std::io::stderr().is_terminal(), lines: MultiProgress::new(), running: Mutex::default() }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ProgressBar>> {
        self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn event(&self, e: &Event) {
        let secs = e.elapsed_ms as f64 / 1000.0;
        let line = match &e.kind {
            EventKind::StepStarted { step } => {
                if self.tty {
                    let pb = self.lines.add(ProgressBar::new_spinner());
                    pb.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<20} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    pb.set_prefix(step.clone());
                    pb.enable_steady_tick(Duration::from_millis(120));
                    self.running().insert(step.clone(), pb);
                    return;
                }
                format!("[{secs:7.1}s] {step}: started")
            }
            EventKind::StepFinished { step, outcome, resources, api_calls } => {
                let text = format!("{outcome} {} ({api_calls} API calls)", resources.join(" "));
                if let Some(pb) = self.running().remove(step) {
                    pb.finish_with_message(text);
                    return;
                }
                format!("[{secs:7.1}s] {step}: {text}")
            }
            EventKind::Waiting { step, resource, status, waited_ms } => {
                let text = format!("waiting for {resource}: {status} ({:.0}s)", *waited_ms as f64 / 1000.0);
                if let Some(pb) = self.running().get(step) {
                    pb.set_message(text);
                    return;
                }
                format!("[{secs:7.1}s] {step}: {text}")
            }
            EventKind::Waited { step, resource, polls, waited_ms, .. } if !self.tty => {
                format!(
                    "[{secs:7.1}s] {step}: {resource} ready after {:.1}s ({polls} polls)",
                    *waited_ms as f64 / 1000.0
                )
            }
            EventKind::Retry { step, resource, reason } => {
                format!("[{secs:7.1}s] {step}: {resource} refused for now, retrying: {reason}")
            }
            EventKind::Finding(f) => format!("[{secs:7.1}s] {f}"),
            _ => return,
        };
        if self.tty {
            let _ = self.lines.println(line);
        } else {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
}
