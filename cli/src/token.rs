//! `eks6 token`: the `ExecCredential` `aws eks get-token` prints, made by eks6 (no AWS
//! CLI needed): what the kubeconfig's exec entry runs.

use clap::Args;
use eks6::aws::Aws;
use eks6::k8s::ExecCredential;

use crate::common::{ConnectArgs, run_interruptible};
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The cluster's name (signed into the token as `x-k8s-aws-id`).
    #[arg(long)]
    cluster: String,
    #[command(flatten)]
    aws: ConnectArgs,
}

pub fn token(a: &TokenArgs) -> Result<Box<dyn Render>, CliError> {
    let token = run_interruptible(async {
        let opts = eks6::aws::AwsOptions { default_region: None, ..a.aws.options("") };
        let aws = Aws::connect(&opts).await?;
        Ok(aws.eks_token(&a.cluster).await?)
    })?;
    let credential = ExecCredential::new(&token, std::env::var("KUBERNETES_EXEC_INFO").ok().as_deref());
    // The same JSON document in both formats: kubectl reads it.
    let text = serde_json::to_string(&credential).expect("an ExecCredential serializes");
    Ok(Box::new(Doc::new(credential, vec![text])))
}
