//! What `up`, `down` and `verify` share: the lock, the journal, the region check, the
//! steps' reports and events.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::journal::{Journal, JournalEntry, Lock};
use super::{Event, EventKind, Outcome, RunOptions, RunReport, StepReport, Target, WorkflowError};
use crate::aws::Aws;
use crate::plan::{Finding, SCHEMA_VERSION};

/// The steps in flight, which a run's time limit names when it strikes.
#[derive(Debug, Default)]
pub(crate) struct InFlight(Mutex<Vec<&'static str>>);

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, Vec<&'static str>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs a workflow under its time limit: past it, the workflow stops at once, calls in
/// flight dropped (a create whose answer is lost is found again by its tags on the next
/// run), the journal as it was last written (every record is written whole, before the
/// run goes on), the lock released.
pub(crate) async fn limited<T>(
    limit: Option<Duration>,
    flight: &InFlight,
    fut: impl Future<Output = Result<T, WorkflowError>>,
) -> Result<T, WorkflowError> {
    let Some(limit) = limit else { return fut.await };
    tokio::select! {
        r = fut => r,
        () = tokio::time::sleep(limit) => Err(WorkflowError::RunTimeout {
            limit,
            in_flight: flight.lock().iter().map(|s| s.to_string()).collect(),
        }),
    }
}

/// A step in progress.
pub(crate) struct StepTimer {
    name: &'static str,
    started: Instant,
}

/// What a run has done so far; one writer at a time.
struct Progress {
    steps: Vec<StepReport>,
    findings: Vec<Finding>,
    journal: Journal,
}

/// The running context shared by the steps of one workflow. The journal is behind a
/// mutex, so steps may run at once and every record is still written whole, in order.
pub(crate) struct Run<'a> {
    pub aws: &'a Aws,
    pub opts: &'a RunOptions,
    pub cluster: String,
    pub plan_id: String,
    pub region: String,
    pub started: Instant,
    progress: Mutex<Progress>,
    flight: &'a InFlight,
    _lock: Lock,
}

impl<'a> Run<'a> {
    /// Checks the region, takes the plan's lock (in this account), loads (or starts) the
    /// journal.
    pub async fn open(
        aws: &'a Aws,
        target: Target<'_>,
        opts: &'a RunOptions,
        flight: &'a InFlight,
    ) -> Result<Self, WorkflowError> {
        let (name, region) = (target.name(), target.region());
        if aws.region() != region {
            return Err(WorkflowError::RegionMismatch { plan: region.into(), client: aws.region().into() });
        }
        let plan_id = target.plan_id();
        let lock = Lock::acquire(&aws.account_id().await?, &plan_id)?;
        let journal = match Journal::load(&opts.journal)? {
            Some(j) if j.plan_id == plan_id => j,
            Some(j) => {
                return Err(WorkflowError::JournalOfAnotherPlan {
                    path: opts.journal.clone(),
                    theirs_cluster: j.cluster,
                    theirs_region: j.region,
                    ours_cluster: name.into(),
                    ours_region: region.into(),
                });
            }
            None => Journal::new(name, &plan_id, region),
        };
        Ok(Self {
            aws,
            opts,
            cluster: name.into(),
            plan_id,
            region: region.into(),
            started: Instant::now(),
            progress: Mutex::new(Progress { steps: Vec::new(), findings: Vec::new(), journal }),
            flight,
            _lock: lock,
        })
    }

    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn emit(&self, kind: EventKind) {
        tracing::debug!(cluster = %self.cluster, event = ?kind, "eks6 event");
        if let Some(sink) = &self.opts.events {
            sink(&Event {
                schema_version: SCHEMA_VERSION,
                cluster: self.cluster.clone(),
                elapsed_ms: self.started.elapsed().as_millis() as u64,
                kind,
            });
        }
    }

    pub fn finding(&self, f: Finding) {
        self.emit(EventKind::Finding(f.clone()));
        self.progress().findings.push(f);
    }

    pub fn check_cancel(&self, step: &str) -> Result<(), WorkflowError> {
        if self.opts.cancel.is_cancelled() {
            return Err(WorkflowError::Cancelled { step: step.into() });
        }
        Ok(())
    }

    /// Starts a step: checks for cancellation and emits `StepStarted`.
    pub fn begin(&self, name: &'static str) -> Result<StepTimer, WorkflowError> {
        self.check_cancel(name)?;
        self.flight.lock().push(name);
        self.emit(EventKind::StepStarted { step: name.into() });
        Ok(StepTimer { name, started: Instant::now() })
    }

    /// Ends a step that made `api_calls` calls: writes the journal, emits
    /// `StepFinished`, records the report.
    pub fn end(
        &self,
        t: StepTimer,
        outcome: Outcome,
        resources: Vec<String>,
        api_calls: u64,
    ) -> Result<(), WorkflowError> {
        self.flight.lock().retain(|s| *s != t.name);
        {
            let mut p = self.progress();
            p.journal.steps.insert(t.name.into(), outcome);
            p.journal.save(&self.opts.journal)?;
            p.steps.push(StepReport {
                step: t.name.into(),
                outcome,
                resources: resources.clone(),
                api_calls,
                started_ms: t.started.duration_since(self.started).as_millis() as u64,
                elapsed_ms: t.started.elapsed().as_millis() as u64,
            });
        }
        self.emit(EventKind::StepFinished { step: t.name.into(), outcome, resources, api_calls });
        Ok(())
    }

    /// Records a resource in the journal and saves it at once: a resource is never
    /// created without a record.
    pub fn record(&self, role: &str, kind: &str, id: &str, created: bool) -> Result<(), WorkflowError> {
        let entry = JournalEntry { kind: kind.into(), id: id.into(), created };
        let mut p = self.progress();
        if p.journal.resources.get(role) != Some(&entry) {
            p.journal.resources.insert(role.into(), entry);
            p.journal.save(&self.opts.journal)?;
        }
        Ok(())
    }

    /// Drops roles from the journal (what was deleted), without saving yet.
    pub fn forget(&self, keep: impl Fn(&str) -> bool) {
        self.progress().journal.resources.retain(|role, _| keep(role));
    }

    /// The journal's entry for a role.
    pub fn recorded(&self, role: &str) -> Option<JournalEntry> {
        self.progress().journal.resources.get(role).cloned()
    }

    /// The journal's entries whose role starts with `prefix`.
    pub fn recorded_under(&self, prefix: &str) -> Vec<(String, JournalEntry)> {
        self.progress()
            .journal
            .resources
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn report(self, workflow: &str) -> RunReport {
        let p = self.progress.into_inner().unwrap_or_else(PoisonError::into_inner);
        RunReport {
            schema_version: SCHEMA_VERSION,
            workflow: workflow.into(),
            cluster: self.cluster,
            plan_id: self.plan_id,
            region: self.region,
            api_calls: p.steps.iter().map(|s| s.api_calls).sum(),
            steps: p.steps,
            findings: p.findings,
            resources: p.journal.resources.iter().map(|(k, v)| (k.clone(), v.id.clone())).collect(),
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }
    }
}
