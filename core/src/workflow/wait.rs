//! One wait loop for every resource, driven by a policy, emitting progress events.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::run::Run;
use super::{EventKind, WorkflowError};
use crate::error::{ArgumentError, positive_seconds};

/// How to wait for a resource: poll after `first_delay`, doubling up to `max_delay`,
/// until `deadline`. (The SDK's EKS waiters poll at a fixed 30 to 120 s and report
/// nothing; this loop reports every poll.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitPolicy {
    /// Delay before the second poll.
    pub first_delay: Duration,
    /// Longest delay between polls.
    pub max_delay: Duration,
    /// Give up after this long, with [`WorkflowError::Timeout`].
    pub deadline: Duration,
}

impl Default for WaitPolicy {
    /// 5 s doubling to 30 s, for up to 30 minutes: EKS clusters take 10 to 15 minutes.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(30),
            deadline: Duration::from_secs(1800),
        }
    }
}

impl WaitPolicy {
    /// A policy, checked: every duration above zero and the first delay no longer than
    /// the longest.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eks6::workflow::WaitPolicy;
    /// let p = WaitPolicy::new(Duration::from_secs(5), Duration::from_secs(30), Duration::from_secs(1800))?;
    /// assert_eq!(p, WaitPolicy::default());
    /// assert!(WaitPolicy::new(Duration::from_secs(60), Duration::from_secs(30), Duration::from_secs(1)).is_err());
    /// # Ok::<(), eks6::error::ArgumentError>(())
    /// ```
    pub fn new(first_delay: Duration, max_delay: Duration, deadline: Duration) -> Result<Self, ArgumentError> {
        for (what, d) in [("first delay", first_delay), ("longest delay", max_delay), ("deadline", deadline)] {
            if d.is_zero() {
                return Err(ArgumentError::new(format!("wait {what}"), "must be above zero"));
            }
        }
        if max_delay < first_delay {
            return Err(ArgumentError::new(
                "wait longest delay",
                format!("{max_delay:?} is shorter than the first delay {first_delay:?}"),
            ));
        }
        Ok(Self { first_delay, max_delay, deadline })
    }

    /// [`new`](Self::new) from seconds, each a finite number above zero.
    pub fn from_secs(first_delay: f64, max_delay: f64, deadline: f64) -> Result<Self, ArgumentError> {
        Self::new(
            positive_seconds(first_delay, "wait first delay")?,
            positive_seconds(max_delay, "wait longest delay")?,
            positive_seconds(deadline, "wait deadline")?,
        )
    }

    /// A fixed poll interval and a deadline.
    pub fn every(poll: Duration, deadline: Duration) -> Self {
        Self { first_delay: poll, max_delay: poll, deadline }
    }
}

/// The answer of one poll.
pub(crate) enum Poll<T> {
    /// Done.
    Ready(T),
    /// Not yet; the current status.
    Pending(String),
}

impl Run<'_> {
    /// Polls until ready, the deadline, or cancellation.
    pub(crate) async fn wait_until<T, F, Fut>(
        &self,
        step: &str,
        resource: &str,
        mut poll: F,
    ) -> Result<T, WorkflowError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Poll<T>, WorkflowError>>,
    {
        let policy = self.opts.wait;
        let start = Instant::now();
        let mut delay = policy.first_delay;
        loop {
            let status = match poll().await? {
                Poll::Ready(v) => return Ok(v),
                Poll::Pending(s) => s,
            };
            let waited = start.elapsed();
            if waited >= policy.deadline {
                return Err(WorkflowError::Timeout { resource: resource.into(), limit: policy.deadline, status });
            }
            self.emit(EventKind::Waiting {
                step: step.into(),
                resource: resource.into(),
                status,
                waited_ms: waited.as_millis() as u64,
            });
            let nap = delay.min(policy.deadline.saturating_sub(waited)).max(Duration::from_millis(1));
            tokio::select! {
                () = tokio::time::sleep(nap) => {}
                () = self.opts.cancel.cancelled() => return Err(WorkflowError::Cancelled { step: step.into() }),
            }
            delay = (delay * 2).min(policy.max_delay);
        }
    }

    /// Sleeps between retries of a refused delete; false at the deadline.
    pub(crate) async fn retry_pause(&self, step: &str, started: Instant, attempt: u32) -> Result<bool, WorkflowError> {
        let policy = self.opts.wait;
        let waited = started.elapsed();
        if waited >= policy.deadline {
            return Ok(false);
        }
        let delay = policy.first_delay.saturating_mul(1 << attempt.min(10)).min(policy.max_delay);
        let nap = delay.min(policy.deadline - waited).max(Duration::from_millis(1));
        tokio::select! {
            () = tokio::time::sleep(nap) => Ok(true),
            () = self.opts.cancel.cancelled() => Err(WorkflowError::Cancelled { step: step.into() }),
        }
    }
}
