//! The log set-up the `eks6` program and `libeks6` share: a `tracing` subscriber on
//! stderr at the verbosity `EKS6_LOG` gives (`info`, `eks6=debug`, any `tracing` filter),
//! never below [`LOG_SILENCED`](crate::error::LOG_SILENCED), with colour only on a
//! terminal. The library itself only emits `tracing` events; nothing is printed unless
//! a program calls this (or installs a subscriber of its own).

use std::io::IsTerminal;

/// The environment variable that turns logging on.
pub const ENV: &str = "EKS6_LOG";

/// Installs the stderr subscriber when `EKS6_LOG` is set; does nothing otherwise, or
/// when a subscriber is already installed. Returns whether it installed one.
pub fn init_from_env() -> bool {
    let Ok(mut filter) = tracing_subscriber::EnvFilter::try_from_env(ENV) else { return false };
    for d in crate::error::LOG_SILENCED {
        if let Ok(d) = d.parse() {
            filter = filter.add_directive(d);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .is_ok()
}
