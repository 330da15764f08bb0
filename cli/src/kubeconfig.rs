//! `eks6 kubeconfig`: a kubeconfig entry as `aws eks update-kubeconfig` writes it.

use std::path::PathBuf;

use clap::Args;
use eks6::kubeconfig::Identity;
use eks6::workflow::WorkflowError;
use serde_json::json;

use crate::common::{AwsArgs, TargetArgs, run_interruptible};
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TokenFrom {
    Eks6,
    Aws,
}

#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The kubeconfig file (default: the first of $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The token command the entry runs: this eks6 program (`eks6 token`, no AWS CLI
    /// needed) or the AWS CLI (`aws eks get-token`, as `aws eks update-kubeconfig` writes).
    #[arg(long, value_enum, default_value_t = TokenFrom::Eks6)]
    token_from: TokenFrom,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn kubeconfig(a: &KubeconfigArgs) -> Result<Box<dyn Render>, CliError> {
    let t = a.target.resolve(a.aws.connect.region.as_deref())?;
    let path = a.kubeconfig.clone().unwrap_or_else(eks6::kubeconfig::default_path);
    let written = run_interruptible(async {
        let aws = a.aws.connect(&t.region).await?;
        if aws.region() != t.region {
            return Err(WorkflowError::RegionMismatch { plan: t.region.clone(), client: aws.region().into() }.into());
        }
        let me = std::env::current_exe()
            .map_err(|e| CliError::new(eks6::ErrorKind::Io, format!("where is this eks6 program: {e}")))?;
        let who = Identity {
            profile: a.aws.connect.profile.as_deref(),
            role_arn: a.aws.connect.role_arn.as_deref(),
            eks6: (a.token_from == TokenFrom::Eks6).then_some(me.as_path()),
        };
        Ok(eks6::kubeconfig::write(&aws, &t.name, who, &path).await?)
    })?;
    let mut lines = vec![format!("updated context {} in {}", written.context, path.display())];
    lines.extend(written.warnings.iter().map(|w| format!("warning: {w}")));
    Ok(Box::new(Doc::new(
        json!({ "kubeconfig": path, "context": written.context, "warnings": written.warnings }),
        lines,
    )))
}
