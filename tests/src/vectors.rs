//! The shared address test vectors (`tests/vectors/ipv6.json`, a copy of the project's
//! shared set that `make test` checks against it when it is beside the repository), read at
//! test time so that a change to them is picked up without a rebuild.

use std::path::PathBuf;

use serde::Deserialize;

/// Where the vectors are: `$EKS6_VECTORS`, or `tests/vectors/ipv6.json`.
pub fn path() -> PathBuf {
    if let Some(p) = std::env::var_os("EKS6_VECTORS") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/ipv6.json")
}

/// Loads and parses the vectors; panics with the path when they cannot be read.
pub fn load() -> Vectors {
    let p = path();
    let text =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read the test vectors at {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse the test vectors at {}: {e}", p.display()))
}

/// All vector groups.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vectors {
    /// What the file is.
    pub about: String,
    /// Address text forms.
    pub canonical: Vec<Canonical>,
    /// Text that is not an address.
    pub invalid_addresses: Vec<Invalid>,
    /// Carving a prefix into subnets.
    pub carve: Vec<Carve>,
    /// Carving requests that must fail.
    pub carve_invalid: Vec<CarveInvalid>,
    /// Containment.
    pub contains: Vec<Contains>,
    /// Aggregation.
    pub aggregate: Vec<Aggregate>,
    /// URL building.
    pub bracketed_url: Vec<Url>,
}

/// One address and its three text forms.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canonical {
    /// Input text.
    pub input: String,
    /// RFC 5952 text.
    pub canonical: String,
    /// Eight groups of four digits.
    pub expanded: String,
    /// `ip6.arpa.` name.
    pub reverse: String,
}

/// Text that must be rejected, and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invalid {
    /// Input text.
    pub input: String,
    /// Why it is invalid.
    pub why: String,
}

/// A carve and some of its subnets by index.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carve {
    /// Parent prefix.
    pub parent: String,
    /// Subnet length.
    pub new_len: u8,
    /// Number of subnets.
    pub count: u128,
    /// Index (as text) to subnet.
    pub nth: std::collections::BTreeMap<String, String>,
}

/// A carve that must fail.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarveInvalid {
    /// Parent prefix.
    pub parent: String,
    /// Subnet length.
    pub new_len: u16,
    /// Index, when the failure is about the index.
    pub n: Option<u128>,
    /// Why it fails.
    pub why: String,
}

/// A containment check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contains {
    /// Prefix.
    pub prefix: String,
    /// Address.
    pub addr: String,
    /// Expected answer.
    pub expect: bool,
}

/// An aggregation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// Prefixes in.
    pub input: Vec<String>,
    /// Prefixes out.
    pub output: Vec<String>,
}

/// A URL to build.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Url {
    /// Host text.
    pub host: String,
    /// Port, if any.
    pub port: Option<u32>,
    /// Scheme.
    pub scheme: String,
    /// Path.
    pub path: String,
    /// Expected URL.
    pub url: String,
}
