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
//! - [`plan`]: the cluster plan (TOML or JSON), its address plan, and the offline
//!   pre-flight checks. No AWS calls.
//! - [`aws`] (feature `aws`): the only module that touches the AWS SDK; builds the EC2
//!   and EKS clients once and classifies their errors.
//! - [`workflow`] (feature `aws`): `up` and `down`, journaled, resumable, with progress
//!   events.
//! - [`kubeconfig`] (feature `aws`): a kubeconfig entry as `aws eks update-kubeconfig`
//!   writes it, keeping the file's other entries.
//! - [`probe`] (feature `aws`): an HTTP GET over IPv6 only, as `curl -g -6` does.
//! - [`error`]: the one error-kind table that the C status codes and Python exceptions
//!   map from.
//!
//! ## Features
//!
//! - `aws` (default): the AWS-facing modules; pulls in the AWS SDK for EC2 and EKS and
//!   tokio. Turn default features off to get only the address math.
//! - `cli`: the `eks6` command-line program.

#![warn(missing_docs)]

pub mod error;
pub mod net;
pub mod plan;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod kubeconfig;
#[cfg(feature = "aws")]
pub mod probe;
#[cfg(feature = "aws")]
pub mod workflow;

pub use error::ErrorKind;
