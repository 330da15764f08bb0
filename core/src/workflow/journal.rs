//! The journal: what a run did, written atomically after each step, under a lock.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
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

    /// Reads a journal; `None` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, WorkflowError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(WorkflowError::Io { path: path.into(), source }),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| WorkflowError::Io {
            path: path.into(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// Writes the journal atomically: a temporary file, fsync, rename, fsync of the
    /// directory. A reader sees the old or the new journal, never half of one.
    /// The caller holds the plan's [`Lock`] (every run does, from `Run::open`).
    pub(crate) fn save(&self, path: &Path) -> Result<(), WorkflowError> {
        let io = |source| WorkflowError::Io { path: path.into(), source };
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let tmp = tmp_path(path);
        let text = serde_json::to_vec_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        {
            let mut f = File::create(&tmp).map_err(io)?;
            f.write_all(&text).map_err(io)?;
            f.write_all(b"\n").map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
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

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// An exclusive advisory lock on `<journal>.lock`, held for a whole run and released
/// when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

impl Lock {
    pub(crate) fn acquire(journal: &Path) -> Result<Self, WorkflowError> {
        let mut name = journal.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".lock");
        let path = journal.with_file_name(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| WorkflowError::Io { path: dir.into(), source })?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| WorkflowError::Io { path: path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(WorkflowError::Locked { path }),
            Err(std::fs::TryLockError::Error(source)) => Err(WorkflowError::Io { path, source }),
        }
    }
}
