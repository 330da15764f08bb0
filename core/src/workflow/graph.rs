//! `up` and `down` as graphs of steps: each step declares the steps it needs
//! ([`Step::needs`]) and the waits it makes ([`Step::waits`]); [`run_steps`] starts every
//! step as soon as what it needs is done, several at once, and the same graph is what
//! `eks6 plan` prints ([`StepGraph`]) and what a resumed run walks again (every step
//! is idempotent: a step done before a crash finds its resources and ends at once).

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};

use super::run::Run;
use super::wait::{ExpectedWait, WaitKind, WaitPolicy};
use super::{Outcome, WorkflowError};
use crate::error::ArgumentError;

/// A step of a workflow's graph.
pub(crate) trait Step: Copy + Eq + Ord + 'static {
    /// The workflow (`up`, `down`).
    const WORKFLOW: &'static str;
    /// Every step, in the order they are listed (and started, among those ready).
    fn all() -> &'static [Self];
    /// The step's name.
    fn name(self) -> &'static str;
    /// The steps whose results (or absence) this one needs.
    fn needs(self) -> &'static [Self];
    /// The waits on AWS the step makes, one after another (for the critical path).
    fn waits(self) -> &'static [WaitKind];
}

/// One step of a [`StepGraph`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepNode {
    /// The step's name (as in events, reports and the journal).
    pub step: String,
    /// The steps it needs done first.
    pub needs: Vec<String>,
    /// The waits on AWS it makes, one after another.
    pub waits: Vec<WaitKind>,
}

/// The steps of `up` or `down` and what each needs: the data the run is scheduled from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepGraph {
    /// `up` or `down`.
    pub workflow: String,
    /// The steps, in table order (every step after the steps it needs).
    pub steps: Vec<StepNode>,
}

impl StepGraph {
    /// `up`'s graph.
    pub fn up() -> Self {
        Self::of::<super::UpStep>()
    }

    /// `down`'s graph.
    pub fn down() -> Self {
        Self::of::<super::DownStep>()
    }

    fn of<S: Step>() -> Self {
        Self {
            workflow: S::WORKFLOW.into(),
            steps: S::all()
                .iter()
                .map(|&s| StepNode {
                    step: s.name().into(),
                    needs: s.needs().iter().map(|n| n.name().to_string()).collect(),
                    waits: s.waits().to_vec(),
                })
                .collect(),
        }
    }

    /// The expected time of one step: its waits one after another.
    fn step_time(node: &StepNode, policy: &WaitPolicy) -> Duration {
        node.waits.iter().map(|&k| policy.expected(k)).sum()
    }

    /// The floor of the workflow's time: the longest chain of steps through the graph,
    /// each taking its expected waits ([`WaitPolicy::expected`]); with the steps on it.
    ///
    /// ```
    /// use eks6::workflow::{StepGraph, WaitPolicy};
    /// let (floor, path) = StepGraph::up().critical_path(&WaitPolicy::default());
    /// assert!(path.iter().any(|s| s == "cluster"));
    /// assert!(floor < StepGraph::up().one_after_another(&WaitPolicy::default()));
    /// ```
    pub fn critical_path(&self, policy: &WaitPolicy) -> (Duration, Vec<String>) {
        // The table lists every step after those it needs, so one pass finds each
        // step's earliest end.
        let mut end: Vec<(Duration, Option<usize>)> = Vec::with_capacity(self.steps.len());
        for node in &self.steps {
            let before = node
                .needs
                .iter()
                .filter_map(|n| self.steps.iter().position(|s| &s.step == n))
                .max_by_key(|&i| end[i].0);
            let start = before.map_or(Duration::ZERO, |i| end[i].0);
            end.push((start + Self::step_time(node, policy), before));
        }
        let Some(mut at) = (0..end.len()).max_by_key(|&i| end[i].0) else { return (Duration::ZERO, Vec::new()) };
        let total = end[at].0;
        let mut path = vec![self.steps[at].step.clone()];
        while let Some(prev) = end[at].1 {
            path.push(self.steps[prev].step.clone());
            at = prev;
        }
        path.reverse();
        (total, path)
    }

    /// The time of the same waits one after another (how `up` and `down` ran before
    /// the graph).
    pub fn one_after_another(&self, policy: &WaitPolicy) -> Duration {
        self.steps.iter().map(|n| Self::step_time(n, policy)).sum()
    }
}

impl StepGraph {
    /// The graph of `up` or `down` by name; any other name is an [`ArgumentError`].
    pub fn named(workflow: &str) -> Result<Self, ArgumentError> {
        match workflow {
            "up" => Ok(Self::up()),
            "down" => Ok(Self::down()),
            other => Err(ArgumentError::new("workflow", format!("{other:?}: give \"up\" or \"down\""))),
        }
    }
}

/// A workflow's graph and every kind of wait with its usual duration, as the one JSON
/// document C (`eks6_step_graph`) and Python (`eks6.step_graph`) return.
pub fn graph_json(workflow: &str) -> Result<String, ArgumentError> {
    #[derive(Serialize)]
    struct Doc {
        #[serde(flatten)]
        graph: StepGraph,
        expected: Vec<ExpectedWait>,
    }
    let doc = Doc { graph: StepGraph::named(workflow)?, expected: WaitPolicy::default().expected_all() };
    Ok(serde_json::to_string(&doc).unwrap_or_default())
}

/// What a step did.
pub(crate) struct Done {
    pub outcome: Outcome,
    pub resources: Vec<String>,
}

/// Runs the workflow's steps as a graph: every step whose needs are done is started
/// (in table order), up to all of them at once, each step's AWS calls counted apart.
/// The journal is written under the run's lock only ([`Run::end`], and [`Run::record`]
/// from inside steps), each record whole. The first error stops
/// the run: the other steps in flight are dropped where they are (as a crash would
/// leave them, which the next run resumes) and the error is returned.
pub(crate) async fn run_steps<S, F, Fut>(run: &Run<'_>, exec: F) -> Result<(), WorkflowError>
where
    S: Step,
    F: Fn(S) -> Fut,
    Fut: Future<Output = Result<Done, WorkflowError>>,
{
    let mut done: BTreeSet<S> = BTreeSet::new();
    let mut started: BTreeSet<S> = BTreeSet::new();
    let mut running = FuturesUnordered::new();
    loop {
        for &step in S::all() {
            if !started.contains(&step) && step.needs().iter().all(|n| done.contains(n)) {
                started.insert(step);
                let timer = run.begin(step.name())?;
                let work = exec(step);
                running.push(async move { (step, timer, crate::aws::counting_calls(work).await) });
            }
        }
        let Some((step, timer, (result, calls))) = running.next().await else { break };
        let d = result?;
        run.end(timer, d.outcome, d.resources, calls)?;
        done.insert(step);
    }
    debug_assert_eq!(done.len(), S::all().len(), "a step whose needs never end: a cycle in the table");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{DownStep, UpStep};

    fn listed_after_needs<S: Step>() {
        for (i, s) in S::all().iter().enumerate() {
            for n in s.needs() {
                let j = S::all().iter().position(|x| x == n).unwrap();
                assert!(j < i, "{} is listed before {}, which it needs", s.name(), n.name());
            }
        }
    }

    #[test]
    fn every_step_is_listed_after_what_it_needs_so_the_graphs_have_no_cycle() {
        listed_after_needs::<UpStep>();
        listed_after_needs::<DownStep>();
    }

    #[test]
    fn up_runs_the_nat_gateways_beside_the_cluster_and_waits_coredns_after_the_nodes() {
        let (_, path) = StepGraph::up().critical_path(&WaitPolicy::default());
        assert!(!path.contains(&"nat-gateways".to_string()), "{path:?}");
        let at = |s: &str| path.iter().position(|p| p == s).unwrap_or_else(|| panic!("{s} not on {path:?}"));
        assert!(at("cluster") < at("nodegroup") && at("addons") < at("nodegroup"), "{path:?}");
        let g = StepGraph::up();
        let needs = |s: &str| g.steps.iter().find(|n| n.step == s).unwrap().needs.clone();
        assert!(!needs("cluster").contains(&"nat-gateways".to_string()));
        assert!(needs("coredns").contains(&"nodegroup".to_string()));
    }

    #[test]
    fn down_deletes_the_nat_gateways_while_the_cluster_goes() {
        let g = StepGraph::down();
        let needs = |s: &str| g.steps.iter().find(|n| n.step == s).unwrap().needs.clone();
        assert!(!needs("nat-gateways").iter().any(|n| n == "cluster" || n == "nodegroup"));
        assert!(needs("network").contains(&"nat-gateways".to_string()));
        let p = WaitPolicy::default();
        assert!(g.critical_path(&p).0 < g.one_after_another(&p));
    }
}
