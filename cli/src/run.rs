//! `eks6 up` and `eks6 down`: the workflows, with progress on stderr and Ctrl-C stopping
//! at the next safe point.

use std::path::PathBuf;

use clap::Args;
use eks6::workflow::{self, RunReport};
use serde_json::Value;

use crate::common::{AwsArgs, TargetArgs, load, run_cancellable, run_options};
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Args)]
pub struct UpArgs {
    /// The plan file.
    #[arg(long)]
    config: PathBuf,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn up(a: &UpArgs) -> Result<Box<dyn Render>, CliError> {
    let plan = load(&a.config)?;
    let journal = a.aws.journal.clone().unwrap_or_else(|| crate::common::TargetArgs::journal_beside(&a.config));
    let report = run_cancellable(|cancel| async {
        let aws = a.aws.connect(&plan.region).await?;
        Ok(workflow::up(&aws, &plan, &run_options(&a.aws, journal, cancel)).await?)
    })?;
    Ok(rendered(report))
}

pub fn down(a: &DownArgs) -> Result<Box<dyn Render>, CliError> {
    let t = a.target.resolve(a.aws.connect.region.as_deref())?;
    let journal = t.journal(a.aws.journal.as_deref());
    let report = run_cancellable(|cancel| async {
        let aws = a.aws.connect(&t.region).await?;
        Ok(workflow::down(&aws, t.target(), &run_options(&a.aws, journal, cancel)).await?)
    })?;
    Ok(rendered(report))
}

fn rendered(report: RunReport) -> Box<dyn Render> {
    let mut lines = vec![format!(
        "{} {} in {}: {} API calls, {:.1}s",
        report.workflow,
        report.cluster,
        report.region,
        report.api_calls,
        report.elapsed_ms as f64 / 1000.0
    )];
    for s in &report.steps {
        lines.push(format!(
            "  {:<20} {:<8} {:>4} calls {:>7.1}s  {}",
            s.step,
            s.outcome.to_string(),
            s.api_calls,
            s.elapsed_ms as f64 / 1000.0,
            s.resources.join(" ")
        ));
    }
    lines.extend(report.findings.iter().map(|f| format!("  {f}")));
    let value = serde_json::to_value(&report).unwrap_or(Value::Null);
    Box::new(Doc::new(value, lines))
}
