//! `eks6 probe`: the walkthrough's `curl -g -6 http://[addr]/`.

use std::time::Duration;

use clap::Args;
use eks6::probe::ProbeOptions;

use crate::common::{run_interruptible, seconds};
use crate::output::{CliError, Doc, Render};

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// An IPv6 address (with an optional %zone) or a name with an IPv6 address.
    addr: String,
    /// TCP port.
    #[arg(long, default_value_t = 80)]
    port: u16,
    /// Path and query.
    #[arg(long, default_value = "/")]
    path: String,
    /// Seconds for the connect.
    #[arg(long, default_value_t = 5.0, value_parser = seconds)]
    connect_timeout: f64,
    /// Seconds for the whole request.
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    timeout: f64,
}

pub fn probe(a: &ProbeArgs) -> Result<Box<dyn Render>, CliError> {
    let opts = ProbeOptions {
        port: a.port,
        path: a.path.clone(),
        connect_timeout: Duration::from_secs_f64(a.connect_timeout),
        total_timeout: Duration::from_secs_f64(a.timeout),
        body_limit: 512,
    };
    let answer = run_interruptible(async { Ok(eks6::probe::probe(&a.addr, &opts).await?) })?;
    let lines = vec![
        answer.status_line.clone(),
        format!(
            "url: {}  connect {} ms, first byte {} ms, total {} ms",
            answer.url, answer.connect_ms, answer.first_byte_ms, answer.total_ms
        ),
        String::new(),
        answer.body.clone(),
    ];
    Ok(Box::new(Doc::new(answer, lines)))
}
