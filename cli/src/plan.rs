//! `eks6 plan`: the address plan and the offline findings (no AWS call); exit 1 on an
//! error finding.

use std::path::PathBuf;

use clap::Args;

use crate::common::load;
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan file (TOML, or JSON when it ends in .json).
    #[arg(long)]
    config: PathBuf,
}

pub fn plan(a: &PlanArgs) -> Result<Box<dyn Render>, CliError> {
    let report = load(&a.config)?.report();
    let failed = report.has_errors();
    Ok(Box::new(Doc::shown(report).exit(u8::from(failed))))
}
