//! One wait loop for every resource, driven by a policy that knows how long each kind of
//! resource usually takes, emitting progress events.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::run::Run;
use super::{EventKind, WorkflowError};
use crate::error::{ArgumentError, positive_seconds};

/// A kind of wait, with how long AWS usually takes for it
/// ([`WaitKind::typical`], from `expected_durations.toml`, the table the test
/// emulator's time-based mode reads too).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::VariantArray,
    strum::IntoStaticStr,
    strum::EnumString,
    Serialize,
    Deserialize,
)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WaitKind {
    /// The VPC's Amazon-provided /56, associating.
    VpcIpv6Block,
    /// A NAT gateway, `pending` to `available`.
    NatGatewayCreate,
    /// A NAT gateway, `deleting` to `deleted`.
    NatGatewayDelete,
    /// The EKS cluster, `CREATING` to `ACTIVE`.
    ClusterCreate,
    /// The EKS cluster, `DELETING` to gone.
    ClusterDelete,
    /// A managed add-on, `CREATING` to `ACTIVE`.
    AddonCreate,
    /// A managed add-on, `DELETING` to gone.
    AddonDelete,
    /// The managed nodegroup, `CREATING` to `ACTIVE`.
    NodegroupCreate,
    /// The managed nodegroup, `DELETING` to gone.
    NodegroupDelete,
    /// A new IAM role, until other services can assume it.
    IamPropagation,
    /// The sample's pods, until Ready.
    SampleRollout,
    /// The sample's namespace, until gone.
    NamespaceDelete,
}

/// One row of the table.
#[derive(Debug, Deserialize)]
struct Row {
    seconds: u32,
    source: String,
}

/// The table, parsed once (a unit test reads it whole, so a bad edit fails the build's
/// tests rather than a run).
static TABLE: LazyLock<std::collections::BTreeMap<WaitKind, Row>> = LazyLock::new(|| {
    toml::from_str(include_str!("expected_durations.toml")).expect("expected_durations.toml is checked by a unit test")
});

impl WaitKind {
    /// Every kind.
    pub fn all() -> &'static [WaitKind] {
        <Self as strum::VariantArray>::VARIANTS
    }

    /// The kind's name (`cluster-create`), as in the table.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// How long AWS usually takes (unscaled).
    pub fn typical(self) -> Duration {
        TABLE.get(&self).map_or(Duration::ZERO, |r| Duration::from_secs(r.seconds.into()))
    }

    /// Where [`typical`](Self::typical) comes from.
    pub fn source(self) -> &'static str {
        TABLE.get(&self).map_or("", |r| r.source.as_str())
    }
}

/// How to wait for resources. By default each poll is placed by how long the kind of
/// resource usually takes (E = [`WaitKind::typical`] × [`time_scale`](Self::time_scale)):
/// one poll at once; then pauses of half the expected time left, but never longer than
/// a tenth of E or [`MAX_INTERVAL`] × scale, whichever is longer; in the last 2 % of E
/// (at least [`MIN_INTERVAL`] × scale) every 2 %; past E the pause grows by a quarter of
/// the overrun, up to [`MAX_INTERVAL`] × scale. A ten-minute cluster is described about
/// fourteen times: noticed at most 12 s after it is ready near its usual time, at most
/// a minute when it is early. A fixed [`poll_interval`](Self::poll_interval) overrides
/// the schedule.
/// (The SDK's EKS waiters poll at a fixed 30 s and report nothing; this loop reports
/// every poll.)
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WaitPolicy {
    /// A fixed pause between polls instead of the derived schedule (also the first
    /// pause of a refused call's retries, which double from it).
    pub poll_interval: Option<Duration>,
    /// Give up on one resource after this long, with [`WorkflowError::Timeout`].
    pub deadline: Duration,
    /// The factor on AWS's durations, above zero and at most [`MAX_TIME_SCALE`]: 1 for
    /// AWS; 0.01 for an emulator that runs a hundred times faster (its
    /// `EKS6_MOTO_TIME_SCALE`). It scales the expected durations and the schedule's
    /// shortest and longest pauses, not the deadline.
    pub time_scale: f64,
}

/// A kind of wait and how long it usually takes ([`WaitPolicy::expected_all`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedWait {
    /// The kind.
    pub kind: WaitKind,
    /// Its expected duration in seconds, scaled.
    pub seconds: f64,
    /// Where the duration comes from.
    pub source: String,
}

/// The shortest pause of the derived schedule, before scaling: no resource is polled
/// more than once a second.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest pause of the derived schedule, before scaling (a wait that runs late).
pub const MAX_INTERVAL: Duration = Duration::from_secs(30);

/// The largest [`WaitPolicy::time_scale`]: a thousand times AWS's pace is already days.
pub const MAX_TIME_SCALE: f64 = 1000.0;

/// The first pause of a refused call's retries, before scaling: EC2's describes are
/// eventually consistent, so a create whose answer was lost is looked for again after
/// this (terraform-provider-aws waits likewise before reading back).
pub const RETRY_FIRST: Duration = Duration::from_secs(5);

/// The share of an expected duration polled at its end.
const LAST_SHARE: f64 = 0.02;

impl Default for WaitPolicy {
    /// The derived schedule at AWS's pace, giving up on one resource after 30 minutes
    /// (EKS clusters take 10 to 15).
    fn default() -> Self {
        Self { poll_interval: None, deadline: Duration::from_secs(1800), time_scale: 1.0 }
    }
}

impl WaitPolicy {
    /// A policy, checked: the interval (when given) and the deadline above zero, the
    /// scale a finite number above zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eks6::workflow::{WaitKind, WaitPolicy};
    /// let p = WaitPolicy::new(None, Duration::from_secs(1800), 1.0)?;
    /// assert_eq!(p, WaitPolicy::default());
    /// let fast = WaitPolicy::new(None, Duration::from_secs(60), 0.01)?;
    /// assert_eq!(fast.expected(WaitKind::ClusterCreate), WaitKind::ClusterCreate.typical() / 100);
    /// assert!(WaitPolicy::new(Some(Duration::ZERO), Duration::from_secs(1), 1.0).is_err());
    /// assert!(WaitPolicy::new(None, Duration::from_secs(1), f64::NAN).is_err());
    /// # Ok::<(), eks6::error::ArgumentError>(())
    /// ```
    pub fn new(poll_interval: Option<Duration>, deadline: Duration, time_scale: f64) -> Result<Self, ArgumentError> {
        if poll_interval.is_some_and(|d| d.is_zero()) {
            return Err(ArgumentError::new("wait poll interval", "must be above zero"));
        }
        if deadline.is_zero() {
            return Err(ArgumentError::new("wait deadline", "must be above zero"));
        }
        if !(time_scale.is_finite() && time_scale > 0.0 && time_scale <= MAX_TIME_SCALE) {
            return Err(ArgumentError::new(
                "wait time scale",
                format!("{time_scale}: give a factor above zero and at most {MAX_TIME_SCALE} (1 for AWS)"),
            ));
        }
        Ok(Self { poll_interval, deadline, time_scale })
    }

    /// [`new`](Self::new) from seconds: the interval absent or above zero, the deadline
    /// above zero.
    pub fn from_secs(poll_interval: Option<f64>, deadline: f64, time_scale: f64) -> Result<Self, ArgumentError> {
        Self::new(
            poll_interval.map(|s| positive_seconds(s, "wait poll interval")).transpose()?,
            positive_seconds(deadline, "wait deadline")?,
            time_scale,
        )
    }

    /// A fixed poll interval and a deadline.
    pub fn every(poll: Duration, deadline: Duration) -> Self {
        Self { poll_interval: Some(poll), deadline, time_scale: 1.0 }
    }

    /// How long this kind usually takes, scaled.
    pub fn expected(&self, kind: WaitKind) -> Duration {
        kind.typical().mul_f64(self.time_scale)
    }

    /// Every kind of wait, with its expected duration under this policy and its source.
    pub fn expected_all(&self) -> Vec<ExpectedWait> {
        WaitKind::all()
            .iter()
            .map(|&kind| ExpectedWait {
                kind,
                seconds: self.expected(kind).as_secs_f64(),
                source: kind.source().into(),
            })
            .collect()
    }

    /// The pause before try `attempt` (from 1) of a call AWS refused for now (in use,
    /// an answer lost): [`RETRY_FIRST`] × scale (or the fixed interval) doubling up to
    /// [`MAX_INTERVAL`] × scale (or the fixed interval, if longer).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eks6::workflow::WaitPolicy;
    /// let p = WaitPolicy::default();
    /// assert_eq!(p.retry_delay(1), Duration::from_secs(5));
    /// assert_eq!(p.retry_delay(2), Duration::from_secs(10));
    /// assert_eq!(p.retry_delay(40), Duration::from_secs(30));
    /// let fixed = WaitPolicy::every(Duration::from_secs(2), Duration::from_secs(60));
    /// assert_eq!((fixed.retry_delay(1), fixed.retry_delay(3)), (Duration::from_secs(2), Duration::from_secs(8)));
    /// ```
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let (first, cap) = match self.poll_interval {
            Some(fixed) => (fixed, MAX_INTERVAL.mul_f64(self.time_scale).max(fixed)),
            None => (RETRY_FIRST.mul_f64(self.time_scale), MAX_INTERVAL.mul_f64(self.time_scale)),
        };
        first.saturating_mul(1 << attempt.saturating_sub(1).min(10)).min(cap)
    }

    /// The pause before the next poll of a wait of `kind` that has gone on for
    /// `elapsed` (see the type's description).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eks6::workflow::{WaitKind, WaitPolicy};
    /// let p = WaitPolicy::default();
    /// let e = p.expected(WaitKind::ClusterCreate);
    /// // Early on, a tenth of the expected time (a minute for a ten-minute cluster).
    /// assert_eq!(p.next_poll(WaitKind::ClusterCreate, Duration::ZERO), e / 10);
    /// // Then half of what is left.
    /// assert_eq!(p.next_poll(WaitKind::ClusterCreate, e.mul_f64(0.9)), e / 20);
    /// // Near the end, every 2 %.
    /// assert_eq!(p.next_poll(WaitKind::ClusterCreate, e.mul_f64(0.99)), e.mul_f64(0.02));
    /// assert_eq!(WaitPolicy::every(Duration::from_secs(3), e).next_poll(WaitKind::ClusterCreate, e), Duration::from_secs(3));
    /// ```
    pub fn next_poll(&self, kind: WaitKind, elapsed: Duration) -> Duration {
        if let Some(fixed) = self.poll_interval {
            return fixed;
        }
        let expected = self.expected(kind);
        let step = expected.mul_f64(LAST_SHARE).max(MIN_INTERVAL.mul_f64(self.time_scale));
        let cap = MAX_INTERVAL.mul_f64(self.time_scale).max(step);
        if elapsed < expected {
            let early = (expected / 10).max(MAX_INTERVAL.mul_f64(self.time_scale));
            ((expected - elapsed) / 2).min(early).max(step)
        } else {
            ((elapsed - expected) / 4).clamp(step, cap)
        }
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
    /// Polls until ready, the deadline, or cancellation, on the policy's schedule for
    /// `kind`; emits `Waiting` before each pause and `Waited` (polls made, time waited)
    /// when the resource is ready.
    pub(crate) async fn wait_until<T, F, Fut>(
        &self,
        step: &str,
        kind: WaitKind,
        resource: &str,
        poll: F,
    ) -> Result<T, WorkflowError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Poll<T>, WorkflowError>>,
    {
        self.wait_from(step, kind, resource, Instant::now(), poll).await
    }

    /// [`wait_until`](Self::wait_until) for a transition that began at `began` (the
    /// create or delete that started it, a while before the wait when one step starts
    /// several): the schedule counts from then, so a resource whose time is nearly up
    /// is not first polled again half an expected duration later. The deadline counts
    /// from the wait's start.
    pub(crate) async fn wait_from<T, F, Fut>(
        &self,
        step: &str,
        kind: WaitKind,
        resource: &str,
        began: Instant,
        mut poll: F,
    ) -> Result<T, WorkflowError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Poll<T>, WorkflowError>>,
    {
        let policy = self.opts.wait;
        let start = Instant::now();
        let mut polls = 0u32;
        loop {
            polls += 1;
            let status = match poll().await? {
                Poll::Ready(v) => {
                    self.emit(EventKind::Waited {
                        step: step.into(),
                        resource: resource.into(),
                        kind,
                        polls,
                        waited_ms: start.elapsed().as_millis() as u64,
                        expected_ms: policy.expected(kind).as_millis() as u64,
                    });
                    return Ok(v);
                }
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
            self.pause(step, policy.next_poll(kind, began.elapsed()), waited).await?;
        }
    }

    /// Sleeps `delay` between tries of a refused call begun at `started`; false at the
    /// deadline.
    pub(crate) async fn retry_pause(
        &self,
        step: &str,
        started: Instant,
        delay: Duration,
    ) -> Result<bool, WorkflowError> {
        let waited = started.elapsed();
        if waited >= self.opts.wait.deadline {
            return Ok(false);
        }
        self.pause(step, delay, waited).await?;
        Ok(true)
    }

    /// Sleeps `nap` (never past the deadline, at least a millisecond), or stops at
    /// cancellation.
    async fn pause(&self, step: &str, nap: Duration, waited: Duration) -> Result<(), WorkflowError> {
        let nap = nap.min(self.opts.wait.deadline.saturating_sub(waited)).max(Duration::from_millis(1));
        tokio::select! {
            () = tokio::time::sleep(nap) => Ok(()),
            () = self.opts.cancel.cancelled() => Err(WorkflowError::Cancelled { step: step.into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_row_with_a_source_and_no_row_is_unknown() {
        let rows: std::collections::BTreeMap<String, toml::Value> =
            toml::from_str(include_str!("expected_durations.toml")).unwrap();
        for kind in WaitKind::all() {
            assert!(kind.typical() > Duration::ZERO, "{} has no duration", kind.name());
            assert!(!kind.source().is_empty() && kind.source() != "TODO", "{} has no source", kind.name());
        }
        for name in rows.keys() {
            assert!(name.parse::<WaitKind>().is_ok(), "row {name} names no kind");
        }
    }

    #[test]
    fn the_derived_schedule_notices_within_two_percent_and_polls_a_handful_of_times() {
        let p = WaitPolicy::default();
        for &kind in WaitKind::all() {
            let e = p.expected(kind);
            let (mut t, mut polls) = (Duration::ZERO, 1);
            while t < e {
                t += p.next_poll(kind, t);
                polls += 1;
            }
            let lag = t - e;
            let bound = e.mul_f64(LAST_SHARE).max(MIN_INTERVAL);
            assert!(lag <= bound, "{}: noticed {lag:?} late, more than {bound:?}", kind.name());
            assert!(polls <= 16, "{}: {polls} polls", kind.name());
            // Ready early (at a third of its time), it is noticed within a tenth of the
            // expected time or MAX_INTERVAL.
            let (mut t, early) = (Duration::ZERO, e / 3);
            while t < early {
                t += p.next_poll(kind, t);
            }
            let bound = (e / 10).max(MAX_INTERVAL);
            assert!(t - early <= bound, "{}: noticed {:?} late", kind.name(), t - early);
        }
    }

    #[test]
    fn a_late_resource_is_polled_less_and_less_often_up_to_the_cap() {
        let p = WaitPolicy::default();
        let e = p.expected(WaitKind::ClusterCreate);
        let a = p.next_poll(WaitKind::ClusterCreate, e + Duration::from_secs(60));
        let b = p.next_poll(WaitKind::ClusterCreate, e * 3);
        assert!(a < b && b == MAX_INTERVAL, "{a:?} then {b:?}");
    }

    #[test]
    fn the_scale_shrinks_the_schedule_with_the_durations() {
        let p = WaitPolicy::new(None, Duration::from_secs(60), 0.01).unwrap();
        let d = WaitPolicy::default();
        for &kind in WaitKind::all() {
            let (a, b) = (p.next_poll(kind, Duration::ZERO), d.next_poll(kind, Duration::ZERO));
            assert!(a.abs_diff(b / 100) < Duration::from_millis(1), "{}: {a:?} vs {b:?}", kind.name());
        }
    }
}
