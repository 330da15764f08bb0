//! A kubeconfig entry for a cluster, as `aws eks update-kubeconfig` writes it: the
//! endpoint, the CA data, and an `exec` credential that runs `aws eks get-token`. Other
//! entries of the file are kept.

use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

use crate::aws::{Aws, AwsError};
use crate::error::ErrorKind;

/// Why a kubeconfig could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubeconfigError {
    /// Describing the cluster failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The file could not be read or written.
    #[error("kubeconfig {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The existing file is not a kubeconfig.
    #[error("kubeconfig {path} is not valid YAML of a kubeconfig: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

impl KubeconfigError {
    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Aws(e) => e.kind(),
            Self::Io { .. } | Self::Invalid { .. } => ErrorKind::Io,
        }
    }
}

impl crate::error::ErrorDetails for KubeconfigError {
    fn kind(&self) -> ErrorKind {
        KubeconfigError::kind(self)
    }
    fn inner(&self) -> Option<&dyn crate::error::ErrorDetails> {
        match self {
            Self::Aws(e) => Some(e),
            _ => None,
        }
    }
}

/// The default kubeconfig path: the first of `$KUBECONFIG`, else `~/.kube/config`.
pub fn default_path() -> PathBuf {
    if let Some(k) = std::env::var_os("KUBECONFIG").filter(|k| !k.is_empty())
        && let Some(first) = std::env::split_paths(&k).next()
    {
        return first;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".kube").join("config")
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in pairs {
        m.insert(s(k), v);
    }
    Value::Mapping(m)
}

/// Replaces the entry named `name` in the list `key`, or appends it.
fn upsert(root: &mut Mapping, key: &str, name: &str, entry: Value) {
    let list = root.entry(s(key)).or_insert_with(|| Value::Sequence(Vec::new()));
    if !list.is_sequence() {
        *list = Value::Sequence(Vec::new());
    }
    if let Value::Sequence(items) = list {
        match items.iter_mut().find(|i| i.get("name").and_then(Value::as_str) == Some(name)) {
            Some(slot) => *slot = entry,
            None => items.push(entry),
        }
    }
}

/// Whose credentials the kubeconfig's token command uses, and which command it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity<'a> {
    /// `AWS_PROFILE` for the token command.
    pub profile: Option<&'a str>,
    /// A role the token command assumes (`--role-arn`), as `up` ran with.
    pub role_arn: Option<&'a str>,
    /// The token command: `aws eks get-token` (`None`, as `aws eks update-kubeconfig`
    /// writes it), or `<program> token` of an `eks6` program (no AWS CLI needed).
    pub eks6: Option<&'a Path>,
}

/// What [`write()`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    /// The context name (the cluster ARN), now the current context.
    pub context: String,
    /// Why kubectl may still be refused: the identity the token names is not the
    /// cluster's creator and has no access entry (the usual cause of Unauthorized).
    pub warnings: Vec<String>,
}

/// An IAM principal ARN without a role's path (`role/path/R` -> `role/R`): session ARNs
/// and access entries do not agree on paths.
fn without_path(arn: &str) -> String {
    match arn.split_once(":role/") {
        Some((head, rest)) => format!("{head}:role/{}", rest.rsplit('/').next().unwrap_or(rest)),
        None => arn.to_string(),
    }
}

/// Writes (or updates) the entry for `cluster` into the kubeconfig at `path` and makes it
/// the current context. The token command runs as `who` says (a profile, a role). When
/// that identity is not the cluster's creator (the `eks6:creator` tag `up` sets) and has
/// no access entry, the result says so and names the creator.
pub async fn write(aws: &Aws, cluster: &str, who: Identity<'_>, path: &Path) -> Result<Written, KubeconfigError> {
    let info = aws.require_cluster(cluster).await?;
    let name = info.arn.clone().unwrap_or_else(|| format!("{cluster}.{}.eks6", aws.region()));
    let io = |source| KubeconfigError::Io { path: path.into(), source };
    let mut root = match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => match serde_norway::from_str::<Value>(&text) {
            Ok(Value::Mapping(m)) => m,
            Ok(_) => {
                return Err(KubeconfigError::Invalid {
                    path: path.into(),
                    message: "the top level is not a mapping".into(),
                });
            }
            Err(e) => return Err(KubeconfigError::Invalid { path: path.into(), message: e.to_string() }),
        },
        Ok(_) => Mapping::new(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Mapping::new(),
        Err(e) => return Err(io(e)),
    };
    root.entry(s("apiVersion")).or_insert_with(|| s("v1"));
    root.entry(s("kind")).or_insert_with(|| s("Config"));
    root.entry(s("preferences")).or_insert_with(|| Value::Mapping(Mapping::new()));
    let mut cluster_fields = vec![("server", s(info.endpoint.as_deref().unwrap_or_default()))];
    if let Some(ca) = &info.certificate_authority {
        cluster_fields.insert(0, ("certificate-authority-data", s(ca)));
    }
    upsert(&mut root, "clusters", &name, map(vec![("cluster", map(cluster_fields)), ("name", s(&name))]));
    let program = who.eks6.map(|p| p.to_string_lossy().into_owned());
    let (command, mut args) = match &program {
        Some(p) => (p.as_str(), vec!["token", "--cluster", cluster, "--region", aws.region()]),
        None => {
            ("aws", vec!["--region", aws.region(), "eks", "get-token", "--cluster-name", cluster, "--output", "json"])
        }
    };
    if let Some(r) = who.role_arn {
        // `--role-arn` of `aws eks get-token` (and of `eks6 token`).
        args.extend(["--role-arn", r]);
    }
    let mut exec = vec![
        ("apiVersion", s(crate::k8s::EXEC_API_V1BETA1)),
        ("args", Value::Sequence(args.iter().map(|a| s(a)).collect())),
        ("command", s(command)),
    ];
    if let Some(p) = who.profile {
        exec.push(("env", Value::Sequence(vec![map(vec![("name", s("AWS_PROFILE")), ("value", s(p))])])));
    }
    upsert(&mut root, "users", &name, map(vec![("name", s(&name)), ("user", map(vec![("exec", map(exec))]))]));
    upsert(
        &mut root,
        "contexts",
        &name,
        map(vec![("context", map(vec![("cluster", s(&name)), ("user", s(&name))])), ("name", s(&name))]),
    );
    root.insert(s("current-context"), s(&name));
    let text = serde_norway::to_string(&Value::Mapping(root))
        .map_err(|e| KubeconfigError::Invalid { path: path.into(), message: e.to_string() })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Through a symlink to its target, keeping the file's mode (0600 when new), as
    // kubectl and the AWS CLI do: other clusters' credentials may be in it.
    crate::workflow::write_private(path, text.as_bytes(), crate::workflow::FileMode::KeepOr600).map_err(io)?;
    let mut warnings = Vec::new();
    let identity = match who.role_arn {
        Some(r) => Some(r.to_string()),
        None => aws.caller().await.ok().map(|c| c.principal_arn()),
    };
    if let (Some(id), Some(creator)) = (identity, info.tags.get(crate::aws::eks::TAG_CREATOR)) {
        let id = without_path(&id);
        if id != without_path(creator) {
            // Without the right to list entries (or in CONFIG_MAP mode) nothing is said.
            if let Ok(entries) = aws.access_entries(cluster).await
                && !entries.iter().any(|e| without_path(e) == id)
            {
                warnings.push(format!(
                    "kubectl will sign in as {id}, which has no access entry on cluster {cluster}; the cluster was created by {creator}, its admin: expect Unauthorized. Add {id} to [access] admins and run up again, or write the kubeconfig with --role-arn {creator}"
                ));
            }
        }
    }
    Ok(Written { context: name, warnings })
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_do_not_count() {
        assert_eq!(super::without_path("arn:aws:iam::1:role/a/b/R"), "arn:aws:iam::1:role/R");
        assert_eq!(super::without_path("arn:aws:iam::1:user/u"), "arn:aws:iam::1:user/u");
    }
}
