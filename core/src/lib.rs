//! # eks6
//!
//! Stand up and check IPv6 Amazon EKS clusters, and do the IPv6 address math that
//! goes with them.
//!
//! ## Organization
//!
//! - [`net`]: IPv6 address and prefix math (parsing with precise errors, RFC 5952
//!   text, reverse names, carving, allocation, longest-prefix match, bracketed URLs).
//!   No AWS types, no async runtime.
//! - [`plan`]: the cluster plan (TOML or JSON), its address plan, the offline
//!   pre-flight checks and their findings ([`plan::Rule`]). No AWS calls.
//! - [`kubectl`]: reading pasted `kubectl get -o wide` (or `-o json`) output.
//! - [`aws`] (feature `aws`): the only module that touches the AWS SDK; builds the
//!   clients once and classifies their errors.
//! - [`workflow`] (feature `aws`): `up` (a table of steps), `down` and `verify`,
//!   journaled, resumable, with progress events.
//! - [`kubeconfig`] (feature `aws`): a kubeconfig entry as `aws eks update-kubeconfig`
//!   writes it, keeping the file's other entries.
//! - [`probe`] (feature `aws`): an HTTP GET over IPv6 only, as `curl -g -6` does.
//! - [`log`] (feature `aws`): the stderr log set-up the CLI and `libeks6` share.
//! - [`error`]: the one table of error kinds ([`ErrorKind`]), their classes and exit
//!   codes, the C names and Python classes the bindings map to, and [`ErrorDetails`],
//!   which every error type implements.
//!
//! The `eks6` program is the crate `eks6-cli` (`cargo install --path cli`); the C ABI is
//! `eks6-ffi` (`libeks6`), the Python package `eks6-python`. All three are thin: they
//! check arguments, call this crate and map its errors through [`error`].
//!
//! ## Features
//!
//! - `aws` (default): the AWS-facing modules; pulls in the AWS SDK and tokio. Turn
//!   default features off to get only the address math and the plan.

#![warn(missing_docs)]

pub mod error;
pub mod kubectl;
pub mod net;
pub mod plan;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod k8s;
#[cfg(feature = "aws")]
pub mod kubeconfig;
#[cfg(feature = "aws")]
pub mod log;
#[cfg(feature = "aws")]
pub mod probe;
#[cfg(feature = "aws")]
pub mod workflow;

pub use error::{ErrorDetails, ErrorKind};
