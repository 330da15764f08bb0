//! `eks6 verify`: the walkthrough's checks with their evidence; exit 1 when one fails
//! (with `--strict`, also when one was skipped for want of data).

use std::path::PathBuf;

use clap::Args;
use eks6::ErrorKind;
use eks6::workflow::{self, CheckStatus, Journal, KubeAccess, VerifyOptions};

use crate::common::{AwsArgs, TargetArgs, run_interruptible};
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// A pod or node address to check (repeatable).
    #[arg(long = "address")]
    addresses: Vec<String>,
    /// A file with `kubectl get pods|nodes -o wide` (or `-o json`) output.
    #[arg(long)]
    from_kubectl: Option<PathBuf>,
    /// Probe this address over IPv6 (HTTP GET), as the walkthrough's curl -g -6 does.
    #[arg(long)]
    probe_address: Option<String>,
    /// Port for the probe and for the security-group check (default: the plan's).
    #[arg(long)]
    probe_port: Option<u16>,
    /// Check the Kubernetes side too (nodes, sample pods in their node's /80, the
    /// Service's address, aws-node and CoreDNS, a probe pod inside the VPC), through the
    /// cluster's endpoint with eks6's own token. On by default when the plan has [sample].
    #[arg(long, conflicts_with = "no_kubernetes")]
    kubernetes: bool,
    /// Only the AWS side, even when the plan has [sample].
    #[arg(long)]
    no_kubernetes: bool,
    /// Reach the Kubernetes API through this kubeconfig context instead (turns the
    /// Kubernetes checks on).
    #[arg(long, conflicts_with = "no_kubernetes")]
    context: Option<String>,
    /// The kubeconfig file of --context (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, requires = "context")]
    kubeconfig: Option<PathBuf>,
    /// Seconds the probe pod of the Kubernetes checks may take to start before it is a
    /// failure with its events (default 120).
    #[arg(long, value_name = "SECONDS")]
    probe_pod_timeout: Option<f64>,
    #[command(flatten)]
    aws: AwsArgs,
    /// Exit 1 unless every check ran and passed: a check skipped for want of data (no
    /// nodes found, no probe address) fails the run too.
    #[arg(long)]
    strict: bool,
}

pub fn verify(a: &VerifyArgs) -> Result<Box<dyn Render>, CliError> {
    let t = a.target.resolve(a.aws.connect.region.as_deref())?;
    let kubectl = match &a.from_kubectl {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| CliError::new(ErrorKind::Io, format!("cannot read {}: {e}", p.display())))?,
        ),
        None => None,
    };
    // A journal, when given, names the nodegroup eks6 made.
    let nodegroup = match &a.aws.journal {
        Some(j) => Journal::load(j)?.and_then(|j| j.resources.get("nodegroup").map(|e| e.id.clone())),
        None => None,
    };
    // The report prints every check at the end: no event sink.
    let kubernetes = match (&a.context, a.kubernetes, a.no_kubernetes) {
        (Some(context), _, _) => {
            Some(KubeAccess::Context { kubeconfig: a.kubeconfig.clone(), context: context.clone() })
        }
        (None, true, _) => Some(KubeAccess::Eks),
        _ => None,
    };
    let opts = VerifyOptions {
        nodegroup,
        addresses: a.addresses.clone(),
        kubectl,
        timeout: a.aws.limit(),
        kubernetes,
        probe_pod_deadline: match a.probe_pod_timeout {
            Some(t) => Some(eks6::error::positive_seconds(t, "--probe-pod-timeout")?),
            None => None,
        },
        ..Default::default()
    }
    .with_probe(a.probe_address.clone(), a.probe_port, t.plan.as_ref());
    let opts = if a.no_kubernetes { opts } else { opts.with_kubernetes_default(t.plan.as_ref()) };
    let report = run_interruptible(async {
        let aws = a.aws.connect(&t.region).await?;
        Ok(workflow::verify(&aws, t.target(), &opts).await?)
    })?;
    let ok = if a.strict { report.passed_strict() } else { report.passed() };
    let mut notes = Vec::new();
    if a.strict && report.passed() && !report.passed_strict() {
        let skipped: Vec<&str> =
            report.checks.iter().filter(|c| c.status == CheckStatus::Skipped).map(|c| c.name.as_str()).collect();
        notes.push(format!("--strict: skipped: {}", skipped.join(", ")));
    }
    Ok(Box::new(Doc::shown(report).exit(u8::from(!ok)).notes(notes)))
}
