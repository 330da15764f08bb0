//! `eks6 kubeconfig`: a kubeconfig entry as `aws eks update-kubeconfig` writes it.

use std::path::PathBuf;

use clap::Args;
use eks6::workflow::WorkflowError;
use serde_json::json;

use crate::common::{AwsArgs, TargetArgs, run_interruptible};
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The kubeconfig file (default: the first of $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn kubeconfig(a: &KubeconfigArgs) -> Result<Box<dyn Render>, CliError> {
    let t = a.target.resolve(a.aws.region.as_deref())?;
    let path = a.kubeconfig.clone().unwrap_or_else(eks6::kubeconfig::default_path);
    let context = run_interruptible(async {
        let aws = a.aws.connect(&t.region).await?;
        if aws.region() != t.region {
            return Err(WorkflowError::RegionMismatch { plan: t.region.clone(), client: aws.region().into() }.into());
        }
        Ok(eks6::kubeconfig::write(&aws, &t.name, a.aws.profile.as_deref(), &path).await?)
    })?;
    let line = format!("updated context {context} in {}", path.display());
    Ok(Box::new(Doc::new(json!({ "kubeconfig": path, "context": context }), vec![line])))
}
