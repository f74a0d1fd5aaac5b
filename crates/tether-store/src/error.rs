use std::sync::Arc;

/// Errors of opening, reading and watching a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open store {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: redb::DatabaseError,
    },
    #[error("cannot close store {path}: {source}")]
    Close {
        path: String,
        #[source]
        source: redb::DatabaseError,
    },
    #[error("store {path}: {operation} failed: {source}")]
    Storage {
        path: String,
        operation: &'static str,
        #[source]
        source: Box<redb::Error>,
    },
    #[error("store {path} is corrupt: table {table}, record {record}: {reason}")]
    Corrupt {
        path: String,
        table: &'static str,
        record: String,
        reason: String,
    },
    /// The history no longer reaches back to `requested` (HTTP 410 Gone for the API server).
    /// `oldest` is the oldest revision a watch or a snapshot list can still start from.
    #[error("revision {requested} is too old: the oldest revision still available is {oldest}")]
    Expired { requested: u64, oldest: u64 },
    #[error("revision {requested} is newer than the store's current revision {current}")]
    FutureRevision { requested: u64, current: u64 },
    #[error("store {path} is closed")]
    Closed { path: String },
    #[error("cannot start the writer thread of store {path}: {source}")]
    Spawn {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Why a write was refused or failed. No variant consumes a revision.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("{key} already exists")]
    AlreadyExists { key: String },
    #[error("{key} not found")]
    NotFound { key: String },
    #[error("{key} was modified: expected revision {expected}, current revision {current}")]
    Conflict {
        key: String,
        expected: u64,
        current: u64,
    },
    #[error("{key}: invalid object: {reason}")]
    InvalidObject { key: String, reason: String },
    /// The group commit this write was part of failed; nothing of the batch became visible and
    /// no revision was consumed. Not acknowledged is not certainly absent: the storage may have
    /// written the batch despite the error, so a restart may show it (see the crate docs).
    #[error("write of {key} failed: {source}")]
    Commit {
        key: String,
        #[source]
        source: Arc<Error>,
    },
    #[error("write of {key} failed: the store is closed")]
    Closed { key: String },
}

/// A terminal error on a watch stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    /// The watcher fell more than `watch_buffer` events behind the writer and was dropped rather
    /// than shown a gap. Every event up to `last_revision` was processed (delivered or filtered
    /// out), so a new watch from `last_revision` resumes without a gap while the history has it.
    #[error("watcher fell behind and missed {missed} events after revision {last_revision}")]
    Lagged { last_revision: u64, missed: u64 },
}
