//! The `eks6` command-line program: one file per command, each returning a typed result
//! that `main` renders once (text, or one JSON document with `--output json`) and maps to
//! an exit code: 0 ok; 1 a check or finding failed; 2 usage or bad input; 3 AWS or
//! remote failure; 4 time-out; 130 interrupted. Results go to stdout, progress and logs
//! to stderr.

mod common;
mod kubeconfig;
mod net;
mod output;
mod plan;
mod probe;
mod run;
mod token;
mod verify;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use eks6::ErrorKind;

use crate::output::{CliError, Render};

#[derive(Debug, Parser)]
#[command(
    name = "eks6",
    version,
    about = "Stand up and check IPv6 Amazon EKS clusters, and do the IPv6 math.",
    after_help = "Start with `eks6 plan --config cluster.toml` (offline: the address plan and every finding; `--live` also checks the account, read-only), then `up`, `verify` and `down`."
)]
struct Cli {
    /// Output format of results on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    /// One item per line.
    Text,
    /// One JSON document.
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show a plan's address plan and pre-flight findings (no AWS calls; `--live` adds read-only checks of the account; exit 1 on an error finding).
    Plan(plan::PlanArgs),
    /// Stand up the plan: IAM roles, VPC, subnets, gateways, routes, IPv6 cluster, access, add-ons, probe rule, nodegroup.
    Up(run::UpArgs),
    /// Check a cluster like the walkthrough does: IPv6 family, subnets, routes, node addresses, probe port, pod addresses, an HTTP probe.
    Verify(verify::VerifyArgs),
    /// Tear down what eks6 created for a plan (or a cluster, from its tags alone).
    Down(run::DownArgs),
    /// Write a kubeconfig entry for the cluster (as `aws eks update-kubeconfig`), keeping other entries.
    Kubeconfig(kubeconfig::KubeconfigArgs),
    /// Print the ExecCredential with the cluster's bearer token (as `aws eks get-token`, no AWS CLI needed).
    Token(token::TokenArgs),
    /// HTTP GET over IPv6 only, as `curl -g -6 http://[addr]/` (exit 3 no connection, 4 time-out).
    Probe(probe::ProbeArgs),
    /// Print addresses in RFC 5952 canonical text (or another form).
    Canon(net::CanonArgs),
    /// Carve a prefix into subnets of a new length.
    Carve(net::CarveArgs),
    /// Print whether a prefix contains an address (exit 0 either way).
    Contains(net::ContainsArgs),
    /// Collapse prefixes into the fewest that cover the same addresses.
    Aggregate(net::AggregateArgs),
    /// Build a URL with an IPv6 host in brackets (RFC 3986, RFC 6874 zones).
    Url(net::UrlArgs),
}

fn run(command: &Command) -> Result<Box<dyn Render>, CliError> {
    match command {
        Command::Plan(a) => plan::plan(a),
        Command::Up(a) => run::up(a),
        Command::Verify(a) => verify::verify(a),
        Command::Down(a) => run::down(a),
        Command::Kubeconfig(a) => kubeconfig::kubeconfig(a),
        Command::Token(a) => token::token(a),
        Command::Probe(a) => probe::probe(a),
        Command::Canon(a) => net::canon(a),
        Command::Carve(a) => net::carve(a),
        Command::Contains(a) => net::contains_cmd(a),
        Command::Aggregate(a) => net::aggregate_cmd(a),
        Command::Url(a) => net::url(a),
    }
}

/// Whether the raw arguments ask for JSON, for errors found before they parse.
fn wants_json(args: &[OsString]) -> bool {
    args.windows(2).any(|w| w[0] == "--output" && w[1] == "json") || args.iter().any(|a| a == "--output=json")
}

fn main() -> ExitCode {
    eks6::log::init_from_env();
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version: clap's own text on stdout, exit 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let message = e.render().to_string();
            let message = message.trim_end().trim_start_matches("error: ");
            let err = CliError::new(ErrorKind::InvalidArgument, message);
            return output::fail(&err, wants_json(&args), &mut std::io::stdout());
        }
    };
    output::finish(run(&cli.command), cli.output == Output::Json)
}
