//! Creating and deleting safely when answers get lost: look up before creating again,
//! client tokens where the API has them, and deletes retried while AWS says "in use".

use std::time::Instant;

use super::run::Run;
use super::{EventKind, WorkflowError};
use crate::ErrorKind;
use crate::aws::AwsError;

/// Whether a failed create may have happened on the server (its answer was lost).
pub(crate) fn ambiguous(e: &AwsError) -> bool {
    matches!(e.kind(), ErrorKind::AwsService | ErrorKind::AwsNetwork | ErrorKind::Timeout | ErrorKind::AwsThrottled)
}

/// A client token for a create that takes one: the same for every retry and re-run of
/// this plan's `role` in this VPC, so AWS answers a repeat with the first resource.
pub(crate) fn token(plan_id: &str, role: &str, vpc_id: &str) -> String {
    let short = plan_id.trim_start_matches("eks6-");
    format!("{short}-{role}-{vpc_id}").chars().take(64).collect()
}

impl Run<'_> {
    /// Creates a resource that has no client token, safely: after an ambiguous failure
    /// it looks the resource up (by its tags) before trying again, so nothing is created
    /// twice. Returns the value and whether this call created it.
    pub(crate) async fn create_once<T, Find, FindFut, Create, CreateFut>(
        &self,
        step: &str,
        what: &str,
        mut find: Find,
        mut create: Create,
    ) -> Result<(T, bool), WorkflowError>
    where
        Find: FnMut() -> FindFut,
        FindFut: Future<Output = Result<Option<T>, WorkflowError>>,
        Create: FnMut() -> CreateFut,
        CreateFut: Future<Output = Result<T, AwsError>>,
    {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            match create().await {
                Ok(v) => return Ok((v, true)),
                Err(e) if ambiguous(&e) => {
                    self.emit(EventKind::Retry { step: step.into(), resource: what.into(), reason: e.to_string() });
                    attempt += 1;
                    if !self.retry_pause(step, started, self.opts.wait.retry_delay(attempt)).await? || attempt >= 8 {
                        return Err(e.into());
                    }
                    if let Some(v) = find().await? {
                        return Ok((v, false));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Calls a delete until AWS stops refusing it as in use (or throttling it), or the
    /// wait deadline, when the error names the last refusal.
    pub(crate) async fn retry_in_use<F, Fut>(&self, step: &str, what: &str, mut f: F) -> Result<(), WorkflowError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), AwsError>>,
    {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            match f().await {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::AwsConflict || e.kind() == ErrorKind::AwsThrottled => {
                    self.emit(EventKind::Retry { step: step.into(), resource: what.into(), reason: e.to_string() });
                    attempt += 1;
                    if !self.retry_pause(step, started, self.opts.wait.retry_delay(attempt)).await? {
                        return Err(WorkflowError::Blocked {
                            resource: what.into(),
                            blockers: vec![e.to_string()],
                            limit: self.opts.wait.deadline,
                        });
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// [`retry_in_use`](Self::retry_in_use) for a delete that network interfaces can block
    /// (a subnet, a VPC): at the deadline the error names the interfaces still there.
    pub(crate) async fn delete_blocked<F, Fut>(
        &self,
        step: &str,
        what: &str,
        vpc_id: &str,
        subnet: Option<&str>,
        f: F,
    ) -> Result<(), WorkflowError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), AwsError>>,
    {
        match self.retry_in_use(step, what, f).await {
            Err(WorkflowError::Blocked { resource, blockers, limit }) => {
                let enis = self.aws.network_interfaces(vpc_id).await.unwrap_or_default();
                let named: Vec<String> = enis
                    .into_iter()
                    .filter(|n| subnet.is_none_or(|s| s == n.subnet_id))
                    .map(|n| format!("{} ({})", n.id, n.description))
                    .collect();
                Err(WorkflowError::Blocked {
                    resource,
                    blockers: if named.is_empty() { blockers } else { named },
                    limit,
                })
            }
            other => other,
        }
    }
}
