//! The `eks6` command-line program.
//!
//! Results go to stdout (`--output json`: one JSON document, `{"error": ...}` for a
//! failure), progress and logs to
//! stderr. Exit codes: 0 ok; 1 a check or finding failed; 2 usage or bad input; 3 AWS
//! or remote failure; 4 time-out; 130 interrupted.

mod workflow_cmds;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use eks6::net::{
    Ipv6Net, NetError, aggregate, bracketed_url, canonical, contains, expanded, nth_subnet, parse_addr, parse_prefix,
    reverse_name, reverse_zone, subnet_count,
};
use serde_json::{Value, json};

/// Exit status for usage errors and bad input.
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "eks6", version, about = "Stand up and check IPv6 Amazon EKS clusters, and do the IPv6 math.")]
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
    /// Print addresses in RFC 5952 canonical text (or another form).
    Canon {
        /// Addresses (or, with --reverse, nibble-aligned prefixes too).
        #[arg(required = true)]
        addrs: Vec<String>,
        /// The expanded form: eight groups of four hex digits.
        #[arg(long, conflicts_with = "reverse")]
        expanded: bool,
        /// The ip6.arpa. reverse DNS name; a prefix gives its zone.
        #[arg(long)]
        reverse: bool,
    },
    /// Carve a prefix into subnets of a new length.
    Carve {
        /// The parent prefix (strict: no host bits).
        prefix: String,
        /// The subnet length.
        #[arg(long)]
        len: u16,
        /// Index of the first subnet to print.
        #[arg(long, default_value_t = 0)]
        start: u128,
        /// How many subnets to print (default: all from --start on).
        #[arg(long)]
        count: Option<u128>,
    },
    /// Print whether a prefix contains an address (exit 0 either way).
    Contains {
        /// The prefix.
        prefix: String,
        /// The address.
        addr: String,
    },
    /// Collapse prefixes into the fewest that cover the same addresses.
    Aggregate {
        /// The prefixes.
        #[arg(required = true)]
        prefixes: Vec<String>,
    },
    /// Show a plan's address plan and pre-flight findings (no AWS calls; exit 1 on an error finding).
    Plan(workflow_cmds::PlanArgs),
    /// Stand up the plan: VPC, subnets, gateways, routes, IPv6 cluster, probe rule, nodegroup.
    Up(workflow_cmds::UpArgs),
    /// Tear down what eks6 created for a plan (or a cluster, from its tags alone).
    Down(workflow_cmds::DownArgs),
    /// Check a cluster like the walkthrough does: IPv6 family, subnets, routes, node addresses, probe port, pod addresses, an HTTP probe.
    Verify(workflow_cmds::VerifyArgs),
    /// Write a kubeconfig entry for the cluster (as `aws eks update-kubeconfig`), keeping other entries.
    Kubeconfig(workflow_cmds::KubeconfigArgs),
    /// HTTP GET over IPv6 only, as `curl -g -6 http://[addr]/` (exit 3 no connection, 4 time-out).
    Probe(workflow_cmds::ProbeArgs),
    /// Build a URL with an IPv6 host in brackets (RFC 3986, RFC 6874 zones).
    Url {
        /// An IPv6 address (with an optional %zone), an IPv4 address or a DNS name.
        host: String,
        /// The port, written only when given.
        #[arg(long)]
        port: Option<u32>,
        /// The scheme.
        #[arg(long, default_value = "http")]
        scheme: String,
        /// The path, starting with '/', with an optional query.
        #[arg(long, default_value = "/")]
        path: String,
    },
}

/// A command's result: text lines and the JSON document, computed before any output.
struct Report {
    lines: Vec<String>,
    json: Value,
}

/// Logs to stderr at the verbosity `EKS6_LOG` gives (`info`, `eks6=debug`, ...) when it
/// is set, never below [`eks6::error::LOG_SILENCED`]; silent otherwise.
fn init_logging() {
    let Ok(mut filter) = tracing_subscriber::EnvFilter::try_from_env("EKS6_LOG") else { return };
    for d in eks6::error::LOG_SILENCED {
        filter = filter.add_directive(d.parse().expect("a valid directive"));
    }
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(io::stderr).try_init();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let code = run(cli.command, cli.output);
    if cli.output == Output::Json {
        workflow_cmds::write_failure_json();
    }
    code
}

fn run(command: Command, output: Output) -> ExitCode {
    let json = output == Output::Json;
    let result = match command {
        Command::Plan(a) => return workflow_cmds::plan(&a, json),
        Command::Up(a) => return workflow_cmds::up(&a, json),
        Command::Down(a) => return workflow_cmds::down(&a, json),
        Command::Verify(a) => return workflow_cmds::verify(&a, json),
        Command::Probe(a) => return workflow_cmds::probe(&a, json),
        Command::Kubeconfig(a) => return workflow_cmds::kubeconfig(&a, json),
        Command::Canon { addrs, expanded: exp, reverse } => canon(&addrs, exp, reverse),
        Command::Carve { prefix, len, start, count } => carve(&prefix, len, start, count, output),
        Command::Contains { prefix, addr } => contains_cmd(&prefix, &addr),
        Command::Aggregate { prefixes } => aggregate_cmd(&prefixes),
        Command::Url { host, port, scheme, path } => url(&scheme, &host, port, &path),
    };
    match result {
        Ok(Output2::Report(report)) => emit(&report, output),
        Ok(Output2::Streamed) => ExitCode::SUCCESS,
        Err(errors) => {
            if let Some(e) = errors.first() {
                workflow_cmds::note_kind(e.error_kind());
            }
            for e in errors {
                workflow_cmds::err_line(e);
            }
            workflow_cmds::exit(EXIT_USAGE)
        }
    }
}

enum Output2 {
    Report(Report),
    /// Output was written as it was computed (a long carve), after all input was checked.
    Streamed,
}

type CmdResult = Result<Output2, Vec<NetError>>;

fn emit(report: &Report, output: Output) -> ExitCode {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match output {
        Output::Text => report.lines.iter().try_for_each(|l| writeln!(out, "{l}")),
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, &report.json).map_err(io::Error::from).and_then(|()| writeln!(out))
        }
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`eks6 carve ... | head`) is not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "eks6: error: cannot write output: {e}");
            // Not through `exit`: a document was begun; a second one would not help.
            ExitCode::from(3)
        }
    }
}

/// Checks every input first, collecting all errors.
fn all<T>(inputs: &[String], f: impl Fn(&str) -> Result<T, NetError>) -> Result<Vec<T>, Vec<NetError>> {
    let mut ok = Vec::with_capacity(inputs.len());
    let mut bad = Vec::new();
    for r in inputs.iter().map(|s| f(s)) {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => bad.push(e),
        }
    }
    if bad.is_empty() { Ok(ok) } else { Err(bad) }
}

fn canon(addrs: &[String], exp: bool, reverse: bool) -> CmdResult {
    let form = if reverse {
        "reverse"
    } else if exp {
        "expanded"
    } else {
        "canonical"
    };
    let texts = all(addrs, |s| {
        Ok(if reverse && s.contains('/') {
            reverse_zone(parse_prefix(s)?)?.to_string()
        } else {
            let a = parse_addr(s)?;
            match form {
                "reverse" => reverse_name(a).to_string(),
                "expanded" => expanded(a).to_string(),
                _ => canonical(a).to_string(),
            }
        })
    })?;
    let json = Value::Array(addrs.iter().zip(&texts).map(|(i, t)| json!({ "input": i, form: t })).collect());
    Ok(Output2::Report(Report { lines: texts, json }))
}

fn carve(prefix: &str, len: u16, start: u128, count: Option<u128>, output: Output) -> CmdResult {
    let parent = parse_prefix(prefix).map_err(|e| vec![e])?;
    let new_len = u8::try_from(len)
        .ok()
        .filter(|l| *l <= 128)
        .ok_or_else(|| vec![NetError::InvalidLength { parent, new_len: len }])?;
    // Check the whole range before printing anything.
    let total = match subnet_count(parent, new_len) {
        Ok(t) => Some(t),
        Err(NetError::CountOverflow { .. }) => None, // 2^128: every u128 index is valid
        Err(e) => return Err(vec![e]),
    };
    let first = nth_subnet(parent, new_len, start).map_err(|e| vec![e])?;
    let available = total.map_or(u128::MAX, |t| t - start);
    let count = count.unwrap_or(available);
    if count > available {
        let index = start.saturating_add(count - 1);
        return Err(vec![NetError::IndexOutOfRange { parent, new_len, index, count: total.unwrap_or(u128::MAX) }]);
    }
    let mut it = eks6::net::subnets(parent, new_len).map_err(|e| vec![e])?;
    if start > 0 {
        it.nth_u128(start - 1);
    }
    debug_assert!(count == 0 || it.clone().next() == Some(first));
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = (|| -> io::Result<()> {
        if output == Output::Json {
            write!(
                out,
                "{{\n  \"parent\": \"{parent}\",\n  \"new_len\": {new_len},\n  \"start\": {start},\n  \"total\": "
            )?;
            match total {
                Some(t) => write!(out, "{t}")?,
                None => write!(out, "\"340282366920938463463374607431768211456\"")?,
            }
            write!(out, ",\n  \"subnets\": [")?;
        }
        let mut left = count;
        let mut first_item = true;
        while left > 0 {
            let Some(n) = it.next() else { break };
            left -= 1;
            match output {
                Output::Text => writeln!(out, "{n}")?,
                Output::Json => {
                    write!(out, "{}\n    \"{n}\"", if first_item { "" } else { "," })?;
                    first_item = false;
                }
            }
        }
        if output == Output::Json {
            writeln!(out, "{}]\n}}", if first_item { "" } else { "\n  " })?;
        }
        out.flush()
    })();
    match result {
        Ok(()) => Ok(Output2::Streamed),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Output2::Streamed),
        Err(e) => {
            let _ = writeln!(io::stderr(), "eks6: error: cannot write output: {e}");
            std::process::exit(3)
        }
    }
}

fn contains_cmd(prefix: &str, addr: &str) -> CmdResult {
    let p = parse_prefix(prefix);
    let a = parse_addr(addr);
    let (p, a) = match (p, a) {
        (Ok(p), Ok(a)) => (p, a),
        (p, a) => return Err(p.err().into_iter().chain(a.err()).collect()),
    };
    let yes = contains(p, a);
    Ok(Output2::Report(Report {
        lines: vec![yes.to_string()],
        json: json!({ "prefix": p.to_string(), "addr": canonical(a).as_str(), "contains": yes }),
    }))
}

fn aggregate_cmd(prefixes: &[String]) -> CmdResult {
    let nets: Vec<Ipv6Net> = all(prefixes, parse_prefix)?;
    let out: Vec<String> = aggregate(&nets).iter().map(ToString::to_string).collect();
    let json = json!({ "input": nets.iter().map(ToString::to_string).collect::<Vec<_>>(), "output": out });
    Ok(Output2::Report(Report { lines: out, json }))
}

fn url(scheme: &str, host: &str, port: Option<u32>, path: &str) -> CmdResult {
    // Check each part on its own so that every bad one is reported.
    let errors: Vec<NetError> = [
        bracketed_url(scheme, "::1", None, "/"),
        bracketed_url("http", host, None, "/"),
        bracketed_url("http", "::1", port, "/"),
        bracketed_url("http", "::1", None, path),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let u = bracketed_url(scheme, host, port, path).map_err(|e| vec![e])?;
    Ok(Output2::Report(Report { json: json!({ "url": u }), lines: vec![u] }))
}
