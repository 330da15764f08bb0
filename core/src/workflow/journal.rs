//! The journal: what a run did, written atomically after each step, under a lock.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Outcome, WorkflowError};
use crate::plan::SCHEMA_VERSION;

/// One resource in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Resource kind (`vpc`, `subnet`, `cluster`, ...).
    pub kind: String,
    /// Its id (or name, for EKS).
    pub id: String,
    /// Whether eks6 created it (false: it existed, e.g. a bring-your-own VPC).
    pub created: bool,
}

/// What a plan's runs have done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    /// JSON schema version.
    pub schema_version: u32,
    /// The cluster.
    pub cluster: String,
    /// The plan id.
    pub plan_id: String,
    /// The region.
    pub region: String,
    /// The last outcome of each step.
    pub steps: BTreeMap<String, Outcome>,
    /// Resources by role (`vpc`, `subnet/public-0`, `cluster`, ...).
    pub resources: BTreeMap<String, JournalEntry>,
}

impl Journal {
    /// An empty journal.
    pub fn new(cluster: &str, plan_id: &str, region: &str) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            cluster: cluster.into(),
            plan_id: plan_id.into(),
            region: region.into(),
            steps: BTreeMap::new(),
            resources: BTreeMap::new(),
        }
    }

    /// Reads a journal; `None` when the file does not exist. A file that is not a journal
    /// is [`WorkflowError::Journal`], whose message says how to go on without it.
    pub fn load(path: &Path) -> Result<Option<Self>, WorkflowError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(WorkflowError::Io { path: path.into(), source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| WorkflowError::Journal { path: path.into(), problem: e.to_string() })
    }

    /// Writes the journal atomically, owner-only ([`write_private`]). The caller holds
    /// the plan's [`Lock`] (every run does, from `Run::open`).
    pub(crate) fn save(&self, path: &Path) -> Result<(), WorkflowError> {
        let io = |source| WorkflowError::Io { path: path.into(), source };
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        text.push(b'\n');
        write_private(path, &text, Mode::Private).map_err(io)
    }

    /// Removes the journal (after a complete `down`).
    pub(crate) fn remove(path: &Path) -> Result<(), WorkflowError> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(WorkflowError::Io { path: path.into(), source: e })
            }
            _ => Ok(()),
        }
    }
}

/// Which mode a file written by [`write_private`] gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// 0600, always (journals).
    Private,
    /// The file's own mode when it exists, 0600 when it is new (kubeconfigs, whose
    /// owner chose their mode).
    KeepOr600,
}

/// Writes a file atomically: a temporary file beside it, fsync, rename, fsync of the
/// directory, so that a reader sees the old or the new text, never half of one. A
/// symbolic link is followed (the link stays; its target gets the text). New files are
/// owner-only (0600), as the AWS CLI makes its own: they name accounts and hold
/// credentials' whereabouts.
pub(crate) fn write_private(path: &Path, text: &[u8], mode: Mode) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        // A dangling link: its target, relative to the link's directory.
        Err(_) if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) => {
            let to = std::fs::read_link(path)?;
            path.parent().map_or(to.clone(), |d| d.join(to))
        }
        Err(_) => path.to_path_buf(),
    };
    let bits = match mode {
        Mode::Private => 0o600,
        Mode::KeepOr600 => std::fs::metadata(&target).map_or(0o600, |m| m.permissions().mode() & 0o7777),
    };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut name = std::ffi::OsString::from(".");
    name.push(target.file_name().unwrap_or_default());
    name.push(format!(".eks6-tmp-{}", std::process::id()));
    let tmp = dir.join(name);
    let written = (|| {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(bits).open(&tmp)?;
        // The umask may have taken bits away; the mode is the one asked for.
        f.set_permissions(std::fs::Permissions::from_mode(bits))?;
        f.write_all(text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The directory of eks6's own state on this machine (the plans' locks):
/// `$EKS6_STATE_DIR`, else `$XDG_STATE_HOME/eks6`, else `~/.local/state/eks6`.
pub fn state_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("EKS6_STATE_DIR")
        .or_else(|| env("XDG_STATE_HOME").map(|d| d.join("eks6")))
        .or_else(|| env("HOME").map(|h| h.join(".local/state/eks6")))
        .unwrap_or_else(|| std::env::temp_dir().join("eks6-state"))
}

/// An exclusive advisory lock on one plan in one account (its id names the region and
/// the cluster), wherever its journal is: `<state dir>/locks/<account>-<plan id>.lock`,
/// held for a whole run and released when dropped or when the process dies. The lock
/// files stay (an empty file a plan): deleting one while another run waits on it would
/// let two runs hold two different files.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl Lock {
    pub(crate) fn acquire(account: &str, plan_id: &str) -> Result<Self, WorkflowError> {
        let dir = state_dir().join("locks");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|source| WorkflowError::Io { path: dir.clone(), source })?;
        let path = dir.join(format!("{account}-{plan_id}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| WorkflowError::Io { path: path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(WorkflowError::Locked { plan_id: plan_id.into(), account: account.into(), path })
            }
            Err(std::fs::TryLockError::Error(source)) => Err(WorkflowError::Io { path, source }),
        }
    }
}
