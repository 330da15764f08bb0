//! `eks6 plan`: the address plan and the offline findings (no AWS call); with `--live`,
//! also read-only checks against the account. Exit 1 on an error finding.

use std::path::PathBuf;

use clap::Args;
use eks6::plan::PlanReport;
use eks6::workflow::{ExpectedWait, StepGraph, WaitKind, WaitPolicy};
use serde::Serialize;

use crate::common::{ConnectArgs, load, run_interruptible};
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan file (TOML, or JSON when it ends in .json).
    #[arg(long)]
    config: PathBuf,
    /// Also check the plan against the account, read-only: roles (and the node role's
    /// IPv6 rights, asked of IAM), zones, instance types, an existing VPC, Elastic IP
    /// headroom, a cluster of the same name.
    #[arg(long)]
    live: bool,
    /// The factor on AWS's usual durations in the listed waits (as for `up`).
    #[arg(long, default_value_t = 1.0, value_parser = crate::common::factor)]
    time_scale: f64,
    #[command(flatten)]
    aws: ConnectArgs,
}

pub fn plan(a: &PlanArgs) -> Result<Box<dyn Render>, CliError> {
    let plan = load(&a.config)?;
    let report = if a.live {
        run_interruptible(async {
            let aws = a.aws.connect(&plan.region).await?;
            Ok(eks6::workflow::preflight(&aws, &plan, &Default::default()).await?)
        })?
    } else {
        plan.report()
    };
    let failed = report.has_errors();
    let view = PlanView {
        report,
        graphs: [StepGraph::up(), StepGraph::down()],
        expected: WaitPolicy { time_scale: a.time_scale, ..WaitPolicy::default() }.expected_all(),
        scale: a.time_scale,
    };
    Ok(Box::new(Doc::shown(view).exit(u8::from(failed))))
}

/// What `eks6 plan` shows: the report, then the steps `up` and `down` run (each started
/// as soon as what it needs is done) and the waits they expect.
#[derive(Serialize)]
struct PlanView {
    #[serde(flatten)]
    report: PlanReport,
    /// `up`'s and `down`'s step graphs.
    graphs: [StepGraph; 2],
    /// Every kind of wait: how long AWS usually takes (scaled), and the source.
    expected: Vec<ExpectedWait>,
    #[serde(skip)]
    scale: f64,
}

impl std::fmt::Display for PlanView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.report)?;
        let policy = WaitPolicy { time_scale: self.scale, ..WaitPolicy::default() };
        let seconds = |kind: &WaitKind| self.expected.iter().find(|e| e.kind == *kind).map_or(0.0, |e| e.seconds);
        for g in &self.graphs {
            writeln!(f, "\n{} steps (each starts when the steps after \"needs\" are done):", g.workflow)?;
            for n in &g.steps {
                let waits: Vec<String> = n.waits.iter().map(|k| format!("{} ~{:.0}s", k.name(), seconds(k))).collect();
                writeln!(
                    f,
                    "  {:<20} needs {:<40} {}",
                    n.step,
                    if n.needs.is_empty() { "-".to_string() } else { n.needs.join(", ") },
                    waits.join(", ")
                )?;
            }
            let (floor, path) = g.critical_path(&policy);
            writeln!(
                f,
                "  critical path at the usual pace: {:.0} s ({}); one after another: {:.0} s",
                floor.as_secs_f64(),
                path.join(" > "),
                g.one_after_another(&policy).as_secs_f64()
            )?;
        }
        Ok(())
    }
}
