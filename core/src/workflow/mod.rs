//! The walkthrough as async workflows: [`up`], [`down`] and [`verify`], journaled and
//! resumable, emitting progress [`Event`]s.
//!
//! - `up` is a table of steps ([`UpStep`]), each declaring what it needs; `down` undoes
//!   them ([`DownStep`]); `verify` is one function per check.
//! - `run` holds what the three share (the lock, the journal, the region check, events);
//!   `idempotent` how a create or delete survives a lost answer; `wait` the one wait loop.
//!
//! Every resource eks6 creates is tagged at creation with `eks6:cluster`,
//! `eks6:plan-id` and `eks6:role`; every step first looks for what it would create, so
//! a re-run changes nothing and a run after a crash resumes. The journal (written
//! atomically after each step, guarded by a lock) records what was done; if it is lost,
//! the tags still find everything.
//!
//! ```no_run
//! # async fn f() -> Result<(), eks6::workflow::WorkflowError> {
//! use eks6::aws::{Aws, AwsOptions};
//! use eks6::plan::ClusterPlan;
//! use eks6::workflow::{up, RunOptions};
//! let plan = ClusterPlan::from_file("cluster.toml")?;
//! let aws = Aws::connect(&AwsOptions { region: Some(plan.region.clone()), ..Default::default() }).await?;
//! let report = up(&aws, &plan, &RunOptions::new("cluster.journal.json")).await?;
//! println!("{} API calls", report.api_calls);
//! # Ok(()) }
//! ```

mod down;
mod graph;
mod idempotent;
mod journal;
mod preflight;
mod run;
mod up;
mod verify;
mod wait;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use down::{DownStep, down};
pub use graph::{StepGraph, StepNode, graph_json};
pub use journal::{Journal, JournalEntry, state_dir};
pub(crate) use journal::{Mode as FileMode, write_private};
pub use preflight::{DEFAULT_VPC_QUOTA, PreflightOptions, preflight};
pub use up::{IAM_PROPAGATION, MANAGED_ADDONS, UpStep, up};
pub use verify::{
    Check, CheckStatus, EVIDENCE_TEXT_LINES, KubeAccess, PROBE_POD_DEADLINE, VerifyOptions, VerifyReport, verify,
};
pub use wait::{ExpectedWait, MAX_INTERVAL, MAX_TIME_SCALE, MIN_INTERVAL, RETRY_FIRST, WaitKind, WaitPolicy};

use crate::aws::AwsError;
use crate::error::{ErrorDetails, ErrorKind};
use crate::plan::{ClusterPlan, Finding, PlanError};

/// Which cluster a workflow is about: a plan (everything is known), or a cluster by name
/// in a region (`down` and `verify` work from tags and the cluster itself).
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A plan.
    Plan(&'a ClusterPlan),
    /// A cluster by name (`down` finds what is its plan's by tags; `verify` reads only).
    Cluster {
        /// Cluster name.
        name: &'a str,
        /// Region.
        region: &'a str,
    },
}

impl Target<'_> {
    /// The cluster name.
    pub fn name(&self) -> &str {
        match self {
            Self::Plan(p) => &p.name,
            Self::Cluster { name, .. } => name,
        }
    }

    /// The region.
    pub fn region(&self) -> &str {
        match self {
            Self::Plan(p) => &p.region,
            Self::Cluster { region, .. } => region,
        }
    }

    /// The plan id that tags what eks6 made for this cluster.
    pub fn plan_id(&self) -> String {
        crate::plan::plan_id(self.region(), self.name())
    }

    /// The plan, when there is one.
    pub fn plan(&self) -> Option<&ClusterPlan> {
        match self {
            Self::Plan(p) => Some(p),
            Self::Cluster { .. } => None,
        }
    }
}

/// A progress event. The same JSON in every surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// JSON schema version.
    pub schema_version: u32,
    /// The cluster.
    pub cluster: String,
    /// Milliseconds since the workflow started.
    pub elapsed_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What an event reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A step began.
    StepStarted {
        /// Step name.
        step: String,
    },
    /// A step ended.
    StepFinished {
        /// Step name.
        step: String,
        /// What it did.
        outcome: Outcome,
        /// The resources it created, found or deleted (ids).
        resources: Vec<String>,
        /// AWS API calls (HTTP attempts) the step made.
        api_calls: u64,
    },
    /// Still waiting for a resource.
    Waiting {
        /// Step name.
        step: String,
        /// Resource (id or name).
        resource: String,
        /// Its current status.
        status: String,
        /// Milliseconds waited so far.
        waited_ms: u64,
    },
    /// A resource is ready (or gone): how long the wait took and how many polls it made.
    Waited {
        /// Step name.
        step: String,
        /// Resource (id or name).
        resource: String,
        /// The kind of wait, whose expected duration placed the polls.
        kind: WaitKind,
        /// Polls made (describes, gets), the first one included.
        polls: u32,
        /// Milliseconds waited.
        waited_ms: u64,
        /// Milliseconds the kind usually takes ([`WaitPolicy::expected`]).
        expected_ms: u64,
    },
    /// A delete was refused for now (in use, dependency); it is tried again.
    Retry {
        /// Step name.
        step: String,
        /// Resource (id or name).
        resource: String,
        /// Why.
        reason: String,
    },
    /// A finding made while running (a skipped step, an existing setting).
    Finding(Finding),
    /// A check of `verify`, done.
    Check(Check),
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It created (or changed) resources.
    Created,
    /// Everything was there already.
    Found,
    /// It deleted resources.
    Deleted,
    /// Nothing to do (not asked for, not possible here, or nothing owned).
    Skipped,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Created => "created",
            Self::Found => "found",
            Self::Deleted => "deleted",
            Self::Skipped => "skipped",
        })
    }
}

/// Where events go: any function; the CLI, C and Python plug in here.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// A cancellation handle: cancel from any thread; the workflow stops at the next step
/// boundary or wait, with [`WorkflowError::Cancelled`], its journal intact.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    flag: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    /// A new, untriggered handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels.
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    /// Resolves when cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Options of one run.
#[derive(Clone)]
pub struct RunOptions {
    /// The journal file. (The run's lock is the plan's, in [`state_dir`], wherever the
    /// journal is.)
    pub journal: PathBuf,
    /// Waiting for one resource (its deadline is one resource's limit).
    pub wait: WaitPolicy,
    /// The whole run's limit: past it the run stops at once with
    /// [`WorkflowError::RunTimeout`], its journal as last written (default: none).
    pub timeout: Option<Duration>,
    /// Where events go.
    pub events: Option<EventSink>,
    /// Cancellation.
    pub cancel: Cancel,
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("journal", &self.journal)
            .field("wait", &self.wait)
            .field("timeout", &self.timeout)
            .field("events", &self.events.as_ref().map(|_| "<sink>"))
            .field("cancel", &self.cancel)
            .finish()
    }
}

impl RunOptions {
    /// Options with a journal path and the default wait policy.
    pub fn new(journal: impl Into<PathBuf>) -> Self {
        Self {
            journal: journal.into(),
            wait: WaitPolicy::default(),
            timeout: None,
            events: None,
            cancel: Cancel::new(),
        }
    }

    /// With an event sink.
    pub fn with_events(mut self, sink: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(sink));
        self
    }

    /// With a wait policy.
    pub fn with_wait(mut self, wait: WaitPolicy) -> Self {
        self.wait = wait;
        self
    }

    /// With a cancellation handle.
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// With a limit for the whole run.
    pub fn with_timeout(mut self, limit: Option<Duration>) -> Self {
        self.timeout = limit;
        self
    }
}

/// The report of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// Step name.
    pub step: String,
    /// What it did.
    pub outcome: Outcome,
    /// Resources (ids).
    pub resources: Vec<String>,
    /// AWS API calls (HTTP attempts).
    pub api_calls: u64,
    /// When it started, in milliseconds since the run began (steps run side by side:
    /// the report lists them in the order they ended).
    #[serde(default)]
    pub started_ms: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// The report of `up` or `down`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// `up` or `down`.
    pub workflow: String,
    /// The cluster.
    pub cluster: String,
    /// The plan id (`eks6:plan-id`).
    pub plan_id: String,
    /// The region.
    pub region: String,
    /// The steps, in the order they ended (they run side by side; each has its
    /// `started_ms`).
    pub steps: Vec<StepReport>,
    /// Findings made while running.
    pub findings: Vec<Finding>,
    /// Resource ids by role (`vpc`, `subnet/public-0`, ...), as the journal has them.
    pub resources: BTreeMap<String, String>,
    /// All AWS API calls (HTTP attempts).
    pub api_calls: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// Why a workflow stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The plan is bad.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A Kubernetes API call failed.
    #[error(transparent)]
    Kube(#[from] crate::k8s::KubeError),
    /// The client's region is not the plan's.
    #[error(
        "the client region {client:?} differs from the plan's region {plan:?}; the plan's region is used for everything, so fix the --region, profile or AWS_REGION"
    )]
    RegionMismatch {
        /// The plan's region.
        plan: String,
        /// The client's region.
        client: String,
    },
    /// The whole run reached its limit.
    #[error("the run stopped at its time limit of {limit:?}{}; the journal holds everything made so far: run it again to resume, or down", if in_flight.is_empty() { String::new() } else { format!(", during step {}", in_flight.join(" and ")) })]
    RunTimeout {
        /// The limit.
        limit: Duration,
        /// The steps that were running.
        in_flight: Vec<String>,
    },
    /// A wait ran past its deadline.
    #[error("timed out after {limit:?} waiting for {resource} (last status {status:?})")]
    Timeout {
        /// The resource.
        resource: String,
        /// The deadline.
        limit: Duration,
        /// The last status seen.
        status: String,
    },
    /// Cancelled by the caller; the journal records what was done.
    #[error("cancelled during step {step}")]
    Cancelled {
        /// The step that was running.
        step: String,
    },
    /// A resource eks6 would create exists but belongs to someone else.
    #[error("{resource} {id} exists but is not this plan's: {}; eks6 never touches it", found.as_ref().map_or_else(|| "it has no eks6:plan-id tag".to_string(), |f| format!("its eks6:plan-id is {f}")))]
    NotOwned {
        /// The kind of resource.
        resource: String,
        /// Its id or name.
        id: String,
        /// The owner tag found, if any.
        found: Option<String>,
    },
    /// A resource ended in a failed state.
    #[error("{resource} is {status}: {reason}")]
    Failed {
        /// The resource.
        resource: String,
        /// Its status.
        status: String,
        /// What AWS reports.
        reason: String,
    },
    /// A delete stayed blocked until the deadline.
    #[error("{resource} could not be deleted within {limit:?}: still in use by {}", blockers.join(", "))]
    Blocked {
        /// The resource.
        resource: String,
        /// What still uses it.
        blockers: Vec<String>,
        /// The deadline.
        limit: Duration,
    },
    /// What the account holds refuses the plan, found before any change: a role given
    /// by ARN that is missing, trusts the wrong service or lacks the CNI's IPv6 rights; a
    /// zone EKS refuses; an existing VPC without DNS support or hostnames.
    #[error("the account refuses this plan (nothing was changed): {}", findings.iter().map(|f| format!("[{}] {}: {}", f.rule, f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Refused {
        /// The error findings.
        findings: Vec<Finding>,
    },
    /// An existing network lacks what EKS IPv6 needs.
    #[error("the existing network is not ready for IPv6: {}", findings.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "))]
    Network {
        /// What is missing.
        findings: Vec<Finding>,
    },
    /// Two resources carry this plan's tags where one is expected (two runs of the plan
    /// raced, or someone copied a tag): eks6 stops rather than pick one.
    #[error("{what} {} all carry this plan's tags (eks6:plan-id {plan_id}), where one is expected; eks6 stops rather than pick one. `eks6 down` for this plan removes all of them (`eks6 down --cluster {cluster} --region {region}` if the plan file is gone); then run up again", ids.join(", "))]
    Duplicate {
        /// What (`VPCs`, `NAT gateways for nat/0`).
        what: String,
        /// Their ids.
        ids: Vec<String>,
        /// The plan id.
        plan_id: String,
        /// The cluster.
        cluster: String,
        /// The region.
        region: String,
    },
    /// The journal file is not a journal.
    #[error(
        "journal {path} is not an eks6 journal ({problem}); nothing was changed. `eks6 down --cluster NAME --region REGION` finds everything a plan made by its tags without it; or move the file away and run up again"
    )]
    Journal {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The journal belongs to another plan.
    #[error(
        "journal {path} is the journal of cluster {theirs_cluster} in {theirs_region}, not of this plan's cluster {ours_cluster} in {ours_region}; give each plan its own --journal"
    )]
    JournalOfAnotherPlan {
        /// The file.
        path: PathBuf,
        /// The journal's cluster.
        theirs_cluster: String,
        /// The journal's region.
        theirs_region: String,
        /// This plan's cluster.
        ours_cluster: String,
        /// This plan's region.
        ours_region: String,
    },
    /// The journal could not be read or written.
    #[error("journal {path}: {source}")]
    Io {
        /// The journal path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Another run of this plan in this account holds its lock (whatever its journal).
    #[error("another eks6 run of plan {plan_id} in account {account} holds its lock ({}); wait for it to finish", path.display())]
    Locked {
        /// The plan id.
        plan_id: String,
        /// The account.
        account: String,
        /// The lock file.
        path: PathBuf,
    },
}

impl WorkflowError {
    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Plan(e) => e.kind(),
            Self::Aws(e) => e.kind(),
            Self::Kube(e) => e.kind(),
            Self::RegionMismatch { .. } => ErrorKind::RegionMismatch,
            Self::Timeout { .. } | Self::RunTimeout { .. } => ErrorKind::Timeout,
            Self::Cancelled { .. } => ErrorKind::Cancelled,
            Self::NotOwned { .. } | Self::Blocked { .. } | Self::Duplicate { .. } => ErrorKind::AwsConflict,
            Self::Journal { .. } => ErrorKind::Io,
            Self::JournalOfAnotherPlan { .. } => ErrorKind::InvalidArgument,
            Self::Failed { .. } => ErrorKind::AwsService,
            Self::Network { .. } | Self::Refused { .. } => ErrorKind::PlanRejected,
            Self::Io { .. } => ErrorKind::Io,
            Self::Locked { .. } => ErrorKind::Locked,
        }
    }
}

impl ErrorDetails for WorkflowError {
    fn kind(&self) -> ErrorKind {
        WorkflowError::kind(self)
    }
    fn inner(&self) -> Option<&dyn ErrorDetails> {
        match self {
            Self::Plan(e) => Some(e),
            Self::Aws(e) => Some(e),
            Self::Kube(e) => Some(e),
            _ => None,
        }
    }
    fn findings(&self) -> Option<&[Finding]> {
        match self {
            Self::Network { findings } | Self::Refused { findings } => Some(findings),
            _ => self.inner()?.findings(),
        }
    }
}

impl From<crate::net::NetError> for WorkflowError {
    fn from(e: crate::net::NetError) -> Self {
        Self::Plan(PlanError::Address(e))
    }
}
