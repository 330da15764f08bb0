//! `eks6 plan`: the address plan and the offline findings (no AWS call); with `--live`,
//! also read-only checks against the account. Exit 1 on an error finding.

use std::path::PathBuf;

use clap::Args;

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
    Ok(Box::new(Doc::shown(report).exit(u8::from(failed))))
}
